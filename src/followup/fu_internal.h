/* SPDX-License-Identifier: MIT */
/*
 * Private to src/followup: the state of one tick, one case as the step
 * machine reads it, and one decision (followup.c decides, run.c applies,
 * suggestion.c serves the suggested actions).
 */
#ifndef CA_FU_INTERNAL_H
#define CA_FU_INTERNAL_H

#include "followup.h"

typedef enum fu_owner_state { FU_OWNER_NONE, FU_OWNER_UNKNOWN, FU_OWNER_OFF, FU_OWNER_ON } fu_owner_state;

#define FU_OWNER_CACHE 64

/* One tick: its time, the rule it is limited to, the owners' profiles
 * seen so far (a tick over many cases asks once per owner). */
typedef struct fu_tick {
	int64_t now;
	const char *rule;
	struct {
		char *name;
		fu_owner_state state;
	} owners[FU_OWNER_CACHE];
	size_t n_owners;
} fu_tick;

void fu_tick_done(fu_tick *t);

/* One case as read for a decision. */
typedef struct fu_case {
	int64_t id;
	json_t *c;            /* ca_store_case_get_id's */
	json_t *st;           /* ca_store_followup_case's */
	const char *ticket;   /* borrowed from c */
	char *token;          /* the case token, "[CAS-00012]" */
	char *customer_name;  /* read when an e-mail is written */
	int64_t days_waiting;
} fu_case;

int fu_case_load(ca_agent *a, int64_t id, fu_case *fc, ca_err *err);
void fu_case_done(fu_case *fc);

/* One decision. decision NULL: no rule applies to the case. */
typedef struct fu_decision {
	const char *decision;        /* left_alone, wait, send_followup, stop, hand_to_person, resolve */
	const ca_followup_rule *rule;
	char reason[320];
	int64_t step_no;             /* the step row it writes: the case's last step + 1 */
	int64_t followup_no;         /* follow-ups in the sequence (send_followup: the one it sends) */
	ca_reply_intent intent;      /* of the reply read; CA_REPLY_N: none */
	double confidence;
	json_t *evidence;
	int64_t reply_email_id;      /* the reply read, 0: none */
	int64_t supersede;           /* the pending suggestion the reply supersedes, 0: none */
	int64_t basis_out, basis_reply; /* what it was decided on (shadow: recorded once per basis) */
	char *summary;               /* of the reply */
	char *subject, *body;        /* the follow-up, or the draft reply */
	char *resolution;            /* stop and resolve */
	const char *resolve_reason;  /* the status reason a resolution writes */
} fu_decision;

void fu_decision_done(fu_decision *d);

int fu_decide(ca_agent *a, fu_tick *t, fu_case *fc, fu_decision *d, ca_err *err);
int fu_owner(ca_agent *a, fu_tick *t, const char *owner, fu_owner_state *ret, ca_err *err);
/* When the wait from `anchor` ends: plain seconds, or business time on
 * the calendar (docs/settings.md "followup.calendar"). */
int64_t fu_due(const ca_followup_settings *fs, const ca_followup_rule *fr, int64_t anchor);
/* The first sentences of a text, at most max bytes (caller frees). */
char *fu_summary(const char *text, size_t max);
const char *fu_level_name(ca_followup_level l);
/* resolved, cancelled or closed */
bool fu_status_closed(const char *status);
/* Read one received e-mail of the follow-up state (its reply text, else its
 * body; an e-mail the channel marked automatic reads as automatic), in the
 * context of the message it answers (its body, or NULL). A reading that
 * fails (bad text) is unclear, for a person to decide; only CA_ENOMEM is
 * returned. */
int fu_read_reply(const json_t *e, const char *context, ca_reply_reading *rd, ca_err *err);
/* The e-mails a case received, newest first, hold a non-automatic one
 * after `since` (epoch): the customer wrote again. */
int fu_customer_wrote_since(const json_t *replies, int64_t since, int64_t except_id, bool *ret, ca_err *err);

#endif
