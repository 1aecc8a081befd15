/* SPDX-License-Identifier: MIT */
/*
 * Layer 4 internals of the case agent: the parsed settings, the agent object,
 * the pure decision core (what to predict, whether a case may be created,
 * which writes the update policy allows) and the transactional apply step.
 * The decision core touches no database, so `simulate` runs exactly the code
 * that live chats run, against an in-memory case.
 */
#ifndef CA_CASEMGMT_H
#define CA_CASEMGMT_H

#include <stdbool.h>
#include <jansson.h>
#include "caseagent/caseagent.h"
#include "base.h"
#include "model.h"
#include "predictor.h"
#include "rules.h"
#include "spam.h"
#include "store.h"

/* Largest chat message accepted, in bytes. A chat line beyond this is a
 * paste or an attack; it is refused with an error naming the message. */
#define CA_MAX_MESSAGE_BYTES (1u << 20)

/* ---- settings ---- */

typedef struct ca_update_rule {
	char *name;
	ca_rule *condition;
	size_t *predict;     /* field indexes */
	size_t n_predict;
} ca_update_rule;

/* The e-mail channel's settings (docs/settings.md, "email"). */
typedef struct ca_email_settings {
	ca_strv mailboxes;        /* our receiving addresses (lower case) */
	ca_strv own_addresses;    /* addresses we send from: never a customer */
	char *token_prefix;       /* case token = prefix + ticket + suffix, */
	char *token_suffix;       /*   from "case_token": "[{ticket}]" */
	bool subject_threading;   /* fall back to sender + normalised subject */
	unsigned subject_threading_days;
	unsigned max_per_sender_per_hour;
	size_t max_message_bytes;   /* larger: headers and a prefix kept, nothing acted on */
	char *reply_from;         /* auto-response From */
	char *reply_from_key;     /* its address, normalised (ca_email_addr_key), or NULL */
	char *reply_subject;      /* template: {token} {subject} {ticket} */
	char *reply_body;         /* template */
	struct {
		bool headers;             /* honour spam verdicts in headers (default true) */
		ca_spam_service service;  /* spamd or rspamd to ask; kind NONE: none */
		bool hold_on_failure;     /* filter unreachable: hold (true) or process unchecked */
		double respond_below;     /* automatic responses only below this score; 0: half the
					     filter's threshold; < 0: whatever the score */
	} spam;                   /* "email.spam" */
	/* The mail servers serve's background work polls and sends through
	 * ("email.imap", "email.smtp"); url NULL: not configured. The
	 * password is read from password_file at each run, never kept. */
	struct ca_mail_account {
		char *url, *user, *password_file, *mailbox;
		bool allow_plaintext;
	} imap, smtp;
	unsigned poll_interval_s, send_interval_s; /* seconds between runs; 0: off */
} ca_email_settings;

/* The knowledge agent's settings (docs/settings.md, "knowledge"). */
typedef struct ca_knowledge_settings {
	bool realtime_cases, realtime_conversations;
	ca_rule **rules;          /* a record qualifies when any holds (none: all) */
	char **rule_names;
	size_t n_rules;
	char *default_compliance; /* pending | compliant | non_compliant */
	bool auto_publish;        /* compliant articles publish at once */
	char *audience;           /* internal | external */
	double coverage_threshold;/* similarity at which an article covers a record */
	/* Case attribute mapping: whether each attribute feeds an article and
	 * from which case field (CA_KATTR_NOTES has no field). E-mail content
	 * and the conversation summary always do. */
	struct {
		bool include;
		char *field;
	} attr[5];
	json_t **rule_templates;  /* per rule: {"name","sections":[{"heading","from"}]} or NULL */
} ca_knowledge_settings;

enum { CA_KATTR_TITLE, CA_KATTR_DESCRIPTION, CA_KATTR_PRODUCT, CA_KATTR_SUBJECT, CA_KATTR_NOTES };

/* The placeholders of a follow-up template besides {field:NAME}
 * (docs/settings.md, "followup"). */
extern const char *const ca_followup_placeholders[];
extern const size_t ca_followup_nplaceholders;

/* What a template section may show: the article's own parts. */
extern const char *const ca_article_parts[];
extern const size_t ca_article_nparts;

/* One ARC (Automatic Record Creation) rule item. */
typedef struct ca_arc_rule {
	char *name;
	ca_rule *condition;       /* over the e-mail record (see arc_record) */
	json_t *fields;           /* {"field": "template"} set when the case is created */
	bool accept_unknown_senders;
	unsigned resolved_window_hours;
	bool auto_response;
} ca_arc_rule;

/* The follow-up agent's settings (docs/settings.md, "followup";
 * src/followup reads them). */
typedef enum ca_followup_level { CA_FU_CONFIRM, CA_FU_SHADOW, CA_FU_FULL } ca_followup_level;

typedef struct ca_followup_template {
	char *subject, *body; /* case placeholders: docs/settings.md */
} ca_followup_template;

typedef struct ca_followup_rule {
	char *name;
	bool active;
	ca_rule *condition;        /* over the case's fields; NULL: every case */
	char *status_reason;       /* trigger: the case's status_reason equals it (folded), or NULL */
	char *reply_context;       /* trigger: "waiting_on_customer" | "customer_replied", or NULL */
	unsigned followups;        /* follow-ups before after_last, 1..10 */
	int64_t wait_s;            /* before each: seconds (hours) or business days when wait_days */
	bool wait_days;            /* wait given in days: with a calendar, business days */
	unsigned wait_n;           /* the number given (hours or days) */
	ca_followup_template *templates; /* per follow-up; NULL: the global ones */
	size_t n_templates;
	ca_followup_level level;
	bool after_last_resolve;   /* "resolve" (true) or "suggest_resolve" */
} ca_followup_rule;

typedef struct ca_followup_settings {
	unsigned interval_minutes;  /* serve's tick; 0: no tick */
	struct {
		bool on;
		unsigned days;          /* bit d for weekday d, 0 = Sunday (as tm_wday) */
		int start_min, end_min; /* business hours, minutes after midnight, start < end */
		int utc_offset_min;     /* the calendar's time zone: minutes east of UTC */
	} calendar;
	ca_followup_template *templates;
	size_t n_templates;
	ca_followup_rule *rules;
	size_t n_rules;
} ca_followup_settings;

typedef struct ca_settings {
	bool chat_enabled, email_enabled;
	ca_field_def *fields;
	size_t n_fields;
	size_t *defaults;     /* field indexes of the default list */
	size_t n_defaults;
	ca_update_rule *rules;
	size_t n_rules;
	bool summary_note_on_close;
	bool record_agent_experience;
	ca_email_settings email;
	ca_knowledge_settings knowledge;
	ca_followup_settings followup;
	ca_arc_rule *arc;
	size_t n_arc;
	json_t *json;         /* canonical form, for export */
	int refs;             /* references (ca_settings_ref); atomic */
} ca_settings;

/* Parse and validate; err->where names the key. The result is an immutable
 * snapshot, reference-counted so worker threads can share it and a reload
 * swaps in a new one (STYLE.md, "Memory"): the caller holds one reference;
 * ca_settings_ref takes another (thread-safe), ca_settings_free drops one
 * and frees with the last (NULL-safe). */
int ca_settings_parse(const json_t *j, ca_settings **ret, ca_err *err);
ca_settings *ca_settings_ref(ca_settings *s);
void ca_settings_free(ca_settings *s);
/* The first key of object `o` not among keys[0..n), or NULL (borrowed
 * from o): the check of every JSON document with a fixed set of keys. */
const char *ca_json_unknown_key(const json_t *o, const char *const *keys, size_t n);
/* Field index by name, or -1. */
int ca_settings_field(const ca_settings *s, const char *name);

/* ---- the agent ---- */

/*
 * Hooks another layer-4 module hangs on the agent, in the manner of
 * Dovecot's module hooks: casemgmt calls them and never names the module,
 * so the knowledge agent (src/knowledge, which depends on casemgmt) hears
 * of every resolved case and closed conversation without a cycle. Each may
 * be NULL. The public ca_agent_open (src/knowledge) installs them.
 */
typedef struct ca_agent_hooks {
	/* A case was resolved ("case", its numeric id as text) or a
	 * conversation closed ("conversation", its id), inside the writing
	 * transaction; the module works in a savepoint of its own. *ret: the
	 * outcome to report beside the event (new reference). */
	int (*record_done)(ca_agent *a, const char *record_type, const char *record_id, json_t **ret, ca_err *err);
	/* The writing transaction was rolled back after record_done: forget
	 * whatever was cached of its writes. */
	void (*rolled_back)(ca_agent *a);
	/* ca_agent_close: free the module's state. */
	void (*close)(ca_agent *a);
} ca_agent_hooks;

/* The case agent alone, no module hooks: what ca_agent_open builds on. */
int ca_casemgmt_open(const char *db_path, ca_agent **ret, ca_err *err);
/* Call hooks.record_done, or report {"outcome": "off"} when no module
 * listens. The event's outcome is never an error of the event's own: a
 * failure is reported as {"outcome": "error", "reason"}. */
json_t *ca_agent_record_done(ca_agent *a, const char *record_type, const char *record_id);
/* Roll the store back one level, and tell the modules (hooks.rolled_back):
 * after record_done, the level may have held a module's writes. */
void ca_agent_rollback(ca_agent *a);

/* How many conversations' analyses an agent keeps: each is the messages'
 * tokens and the predictors' incremental state, a few KiB to tens of KiB.
 * Not a thread's share of the chats under way: a server thread's
 * connections (the chat platform's, a representative's) may bring any
 * conversation, so each agent holds about all of them: fifty
 * representatives with three chats each and their updates. With 64, the
 * HTTP benchmark's 128 cases taken in turn missed every time (least
 * recently used is the worst order for a cycle longer than the cache) and
 * each update tokenised its chat again: 623,000 instructions per update
 * against 440,000 with the analysis kept (bench/http_instructions.sh). */
#define CA_ANALYSES_MAX 256

struct ca_agent {
	ca_store *store;
	ca_settings *settings;    /* NULL until settings are imported */
	int64_t settings_gen;     /* the store's settings generation `settings` was loaded at */
	ca_settings *settings_prev; /* the snapshot a reload replaced, kept one reload longer for
				       a caller still holding its pointers */
	ca_predictor *predictor;  /* built lazily from settings + directory */
	bool directory_stale;     /* contacts were added since it was built */
	bool batch_temp_in_memory; /* the savepoints' journals in memory since the first batch (ca_agent_batch_begin) */
	int64_t spam_retry_ms;    /* monotonic ms before which the spam filter, having failed, is not asked */
	struct ca_pii_lexicon *pii_lexicon; /* Debian word lists, loaded once */
	struct ca_kb_index *kb;   /* the knowledge agent's index (src/knowledge); NULL = build on use */
	ca_agent_hooks hooks;     /* what another layer-4 module hangs on the agent */
	struct ca_pii *pii;       /* PII recogniser knowing every contact's name */
	json_t *models;           /* trained models or NULL */
	ca_directory directory;   /* contacts and accounts over the store (directory.c) */
	struct ca_dir_cache *dir_cache; /* its answers while the directory is unchanged (directory.c) */
	/* the analyses of the conversations seen last (agent.c, "analyses") */
	struct ca_conv_analysis *analyses[CA_ANALYSES_MAX];
	uint64_t analyses_tick;
	size_t kept_msg_bytes; /* the text of the messages the analyses keep (agent.c) */
	ca_interaction_queue *iq; /* where rows of decisions that write nothing go, or NULL (interactions.c) */
};

/* An interaction-log row of a decision that wrote nothing else, when the
 * settings record the agent's interactions: into the agent's queue when it
 * has one (ca_agent_defer_interactions), else written now. Takes detail
 * (may be NULL). */
int ca_interaction_queue_put(ca_agent *a, const char *conv, int64_t case_id, const char *action,
			     const char *outcome, json_t *detail, ca_err *err);

/* Ensure settings and predictor are loaded; CA_ESTATE with a hint if the
 * database has no settings yet. Outside a transaction it also reads the
 * store's settings generation (one primary-key read) and, when another
 * connection or process stored new settings, loads them and drops the
 * predictor: a PUT on one server thread is seen by every other thread's
 * agent at its next call. */
int ca_agent_ready(ca_agent *a, ca_err *err);
/* {"field": "display name"} for a case's lookup values (and its customer,
 * a contact even when not configured as a field), each read by primary key
 * (new reference); a record gone adds nothing. c: the store's case JSON. */
int ca_case_display(ca_agent *a, const json_t *c, json_t **ret, ca_err *err);
/* The analysis the agent keeps for conversation `conv` (agent.c, "the
 * analyses of conversations"), or NULL: for tests and diagnostics. */
const ca_analysis *ca_agent_analysis_of(const ca_agent *a, const char *conv);
/* Drop the predictor (directory or models changed); rebuilt on next use. */
void ca_agent_invalidate(ca_agent *a);
/* The contacts and accounts the predictor looks up, over this agent's store
 * (directory.c): give it as ca_predict_input.directory. Borrowed, valid as
 * long as the agent. Take it once per plan: it reads the directory's
 * generation then, so the answers it remembers are never stale. */
const ca_directory *ca_agent_directory(ca_agent *a);
typedef struct ca_dir_cache ca_dir_cache;
void ca_dir_cache_free(ca_dir_cache *c);

/* ---- the decision core (pure) ---- */

/* A case as the decision core sees it: field values and who set each. */
typedef struct ca_case_view {
	json_t *fields;     /* {"name": "value"} */
	json_t *sources;    /* {"name": "agent"|"person"|"arc"|"import"|...} */
} ca_case_view;

/* One field the agent wants to write, and the prediction behind it. */
typedef struct ca_planned_write {
	size_t field;           /* settings field index */
	ca_prediction pred;
	const char *old_value;  /* borrowed from the view */
} ca_planned_write;

typedef struct ca_plan {
	ca_planned_write *writes;
	size_t n_writes;
	/* default fields without a qualifying value: {"field","reason"} */
	json_t *missing;
	/* values predicted below their field's threshold, so not written:
	 * ca_prediction_to_json plus "threshold" */
	json_t *suggestions;
	bool complete;          /* every default field has a qualifying value */
	size_t rules_matched;
} ca_plan;

void ca_plan_done(ca_plan *p);

/*
 * Decide what an update from conversation writes to `view` (NULL = no case
 * yet): predict the default fields, then the fields of every update rule
 * whose condition holds on the case as it would be, re-evaluating until no
 * new rule matches; keep what the update policy allows.
 */
int ca_plan_update(ca_agent *a, const ca_msg *msgs, size_t n, ca_analysis *an, const char *identity,
		   const ca_case_view *view, ca_plan *ret, ca_err *err);

/*
 * The update policy, one function for every writer. Given who writes
 * (source), the field's current value and source, and the proposal, returns
 * true when the write may happen, else false with *ret_reason set (static
 * string): "set by a person", "set by an ARC rule", "below threshold",
 * "unchanged".
 */
bool ca_policy_allows(const char *writer_source, const ca_field_def *f, const char *current_value,
		      const char *current_source, const char *new_value, double confidence,
		      const char **ret_reason);

/*
 * Apply a plan to a stored case within the caller's transaction: bump the row
 * version from `expected_version` (CA_ECONFLICT if a person changed the case
 * since the plan was computed: the caller recomputes), then write each field
 * with provenance and audit. *ret_changed gets [{"field","old","new",...}].
 */
int ca_plan_apply(ca_agent *a, int64_t case_id, int64_t expected_version, const ca_plan *plan,
		  json_t *changed, ca_err *err);

/* Write one field with provenance {"source": source, "actor": actor}: the
 * path for people, ARC rules, imports and the system (the agent's own
 * writes go through ca_plan_apply). */
int ca_case_write_as(ca_agent *a, int64_t case_id, const char *field, const char *value, const char *source,
		     const char *actor, ca_err *err);

/* Load a stored case as a view (fields + sources) and its version.
 * ca_case_view_of: the same from a case already read (ca_store_case_get's
 * JSON, borrowed), with one read of who set each field. On error the view
 * holds nothing. */
int ca_case_view_load(ca_agent *a, int64_t case_id, ca_case_view *view, int64_t *ret_version, ca_err *err);
int ca_case_view_of(ca_agent *a, const json_t *c, ca_case_view *view, int64_t *ret_version, ca_err *err);
void ca_case_view_done(ca_case_view *v);

/* Messages JSON array ({"id","role","text"}) -> ca_msg array (borrowing). */
int ca_msgs_from_json(const json_t *arr, ca_msg **ret, size_t *ret_n);

/* ---- transcripts (docs/transcript-format.md) ---- */

/* Read and validate a whole transcript file before anything is written:
 * an array of transcripts, each tagged with its line in "_line". */
int ca_transcripts_load(const char *path, json_t **ret, ca_err *err);

/* The replay schedule's defaults: accept after the customer's second
 * message, then an update every four messages. */
#define CA_DEFAULT_ACCEPT_AFTER 2
#define CA_DEFAULT_UPDATE_EVERY 4

typedef enum ca_step_type {
	CA_STEP_OPEN, CA_STEP_MESSAGE, CA_STEP_ACCEPT, CA_STEP_UPDATE, CA_STEP_WAIT,
	CA_STEP_WRAPUP, CA_STEP_CLOSE, CA_STEP_LINK,
} ca_step_type;

/* One step of a transcript's lifecycle. */
typedef struct ca_step {
	ca_step_type type;
	size_t msg;          /* message index, for CA_STEP_MESSAGE */
	const json_t *event; /* the explicit event, or NULL for the schedule */
} ca_step;

/* The explicit "events" of transcript `t` checked against the rules of
 * docs/transcript-format.md (ids, types, keys, message references, order);
 * nothing is written. CA_EINVAL names the conversation and the event (its
 * number and id), with `where` (file:line) as the error's place. A
 * transcript without events passes. ca_transcripts_load runs it on every
 * line, so the steps below only ever see valid events. */
int ca_transcript_check_events(const json_t *t, const char *where, ca_err *err);

/* The steps of one transcript: its explicit "events", or else the schedule
 * (open, each message, accept after `accept_after` customer messages, an
 * update every `update_every` messages after, wrap-up, close). *ret is a
 * heap array the caller frees; it borrows from t. */
int ca_transcript_schedule(const json_t *t, unsigned accept_after, unsigned update_every, ca_step **ret,
			   size_t *ret_n);
const char *ca_step_name(ca_step_type t);

/* ---- e-mail decisions shared by ingest and simulate (email.c) ---- */

struct ca_email;
/* The first ARC rule whose condition holds on the e-mail, or NULL. */
const ca_arc_rule *ca_arc_match(const ca_settings *s, const struct ca_email *e, bool sender_known, const char *mailbox);
/* The rule's field values for this e-mail (templates expanded), written
 * into `fields` ({"field": "value"}; empty values left out). */
int ca_arc_fields(const ca_settings *s, const ca_arc_rule *rule, const struct ca_email *e, const char *ticket,
		  const char *mailbox, json_t *fields);
/* Settings loaded and the e-mail channel enabled; CA_ESTATE saying how to
 * enable it otherwise. */
int ca_email_ready(ca_agent *a, ca_err *err);
/* The e-mails of a case as messages the predictor and the knowledge agent
 * read, oldest first: the customer's (only what is new in each) and ours
 * (role CA_ROLE_AGENT); bounces and auto-replies are left out. The texts
 * borrow from *ret_json, which the caller frees with the array. */
int ca_email_thread_msgs(ca_agent *a, int64_t case_id, json_t **ret_json, ca_msg **ret, size_t *ret_n, ca_err *err);
/* Is the address one of ours (mailboxes or own addresses), compared in
 * the one normalised form (ca_email_addr_key)? */
bool ca_email_is_ours(const ca_settings *s, const char *addr);
/* ca_email_ingest_raw for a source that read only raw[0..len) of a message
 * of `received` bytes (IMAP stops fetching at the limit): a message over
 * email.max_message_bytes is stored as its headers and a prefix of its
 * body (ca_email_prefix_len), its size as received, and nothing else is
 * done with it (outcome skipped, "too large"). */
int ca_email_ingest_prefix(ca_agent *a, const char *raw, size_t len, size_t received, const char *origin,
			   const char *mailbox, char **ret_json, ca_err *err);

/* The agent's PII recogniser (pii_cmd.c): word lists, contacts' names and
 * configured identifier patterns; built once, borrowed. */
struct ca_pii;
int ca_agent_pii(ca_agent *a, const struct ca_pii **ret, ca_err *err);

/* Whether a person may set `field` to `value` (NULL or "" clears): a
 * configured field (options, lookups and numbers checked) or a standard
 * case field, never the ticket number; customer must be a contact id.
 * CA_EINVAL / CA_EUTF8 with err->where the field. Needs ca_agent_ready. */
int ca_case_field_check(ca_agent *a, const char *field, const char *value, ca_err *err);

/* A person's edit begins: inside the caller's transaction, the case `ref`
 * (new reference in *ret_case), its id and version; CA_ECONFLICT when
 * expected_version (0: any) is not the version. */
int ca_case_for_edit(ca_agent *a, const char *ref, int64_t expected_version, json_t **ret_case, int64_t *ret_id,
		     int64_t *ret_version, ca_err *err);

/*
 * Queue an e-mail to the customer of case `case_id` in the outbox, in the
 * caller's transaction (a savepoint of it) or one of its own: to the
 * customer contact's address, else the sender of the case's last e-mail;
 * threaded with that e-mail (In-Reply-To, References: RFC 5322 §3.6.4);
 * subject NULL: "Re: " + the thread's subject; the case token is added to
 * any subject that lacks it; From the reply address; Auto-Submitted
 * `auto_submitted` ("no" for a person's, "auto-generated" for the agent's
 * own, RFC 3834 §5); actor NULL for the agent's own. The body is the
 * caller's to check. *ret (NULL: not wanted): {"id","to","subject","case",
 * "status"} (new reference). CA_ESTATE when there is nobody to write to or
 * no From, or e-mail is off.
 */
int ca_case_email_queue(ca_agent *a, int64_t case_id, const char *subject, const char *body, const char *actor,
			const char *auto_submitted, json_t **ret, ca_err *err);

/* Resolve "CAS-00012" / "12" to a case id. */
int ca_case_ref(ca_agent *a, const char *ref, int64_t *ret_id, ca_err *err);

/* JSON text of a result (caller frees); CA_ENOMEM on failure. */
int ca_result(json_t *j, char **ret_json);

#endif
