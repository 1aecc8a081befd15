/* SPDX-License-Identifier: MIT */
/*
 * Layer 4: the follow-up and closure agent (ARCHITECTURE §2), a module of
 * its own over casemgmt, like the knowledge agent. It reads the customer's
 * replies (intent.c), and for every case a follow-up rule matches decides at
 * each tick whether to wait, send the next follow-up, stop, hand the case to
 * a person or resolve it (docs/followup.md). The public calls are in
 * include/caseagent/caseagent.h ("issue 12"); these are the module's own.
 */
#ifndef CA_FOLLOWUP_H
#define CA_FOLLOWUP_H

#include "casemgmt.h"

/* What a customer's reply says (docs/replies.md, the labelling guideline). */
typedef enum ca_reply_intent {
	CA_REPLY_RESOLVED,         /* solved, thanks, no longer needed: favourable */
	CA_REPLY_STILL_PROBLEM,    /* the problem persists, or a complaint: a person takes it */
	CA_REPLY_QUESTION_OR_INFO, /* asks a question, or gives the information asked for */
	CA_REPLY_UNCLEAR,          /* none of these with enough confidence: a person decides */
	CA_REPLY_AUTOMATIC,        /* out of office, auto-reply: not an answer */
	CA_REPLY_N
} ca_reply_intent;

/* "resolved", "still_problem", "question_or_info", "unclear", "automatic". */
const char *ca_reply_intent_name(ca_reply_intent i);
/* The intent named `name`, or CA_REPLY_N. */
ca_reply_intent ca_reply_intent_parse(const char *name);

/* The reading of one reply. */
typedef struct ca_reply_reading {
	ca_reply_intent intent;   /* UNCLEAR when the best is below its floor */
	double confidence;        /* of `intent`, 0..1 */
	double scores[CA_REPLY_N];/* per intent, summing to 1 */
	json_t *evidence;         /* [{"text","start","end","cue","intent","weight"}], strongest
				     for `intent` first; start/end are byte offsets into the
				     caller's text, null for a header; owned: ca_reply_reading_clear */
} ca_reply_reading;

/*
 * Read a reply: text (UTF-8; quoted history and signature are stripped
 * here), headers NULL or a JSON object of header name -> value (an
 * Auto-Submitted other than "no", X-Autoreply, X-Autorespond, Precedence
 * auto_reply/bulk/junk, an out-of-office subject mean automatic, with the
 * header as evidence). Pure: no store, no settings; the same text gives the
 * same reading. CA_EINVAL for invalid UTF-8, CA_ETOOBIG over 256 KiB.
 */
int ca_reply_read(const char *text, const json_t *headers, ca_reply_reading *out, ca_err *err);
void ca_reply_reading_clear(ca_reply_reading *r);
/* The reading as ca_reply_classify gives it (new reference). */
json_t *ca_reply_reading_json(const ca_reply_reading *r);

#endif
