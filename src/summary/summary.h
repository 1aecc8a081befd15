/* SPDX-License-Identifier: MIT */
/*
 * Layer 3 conversation summary: the note written when a chat closes. Purely
 * extractive and role-aware: the customer's issue (customer sentences that
 * state a problem), what the representative did (agent sentences with action
 * cues), the outcome, and next steps. Every line keeps the message id and the
 * byte span it came from, so a person can trace it. System and bot messages
 * never contribute a line.
 */
#ifndef CA_SUMMARY_H
#define CA_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include "base.h"
#include "model.h"

typedef enum ca_summary_section {
	CA_SUM_ISSUE = 1,   /* "Issue" */
	CA_SUM_ACTIONS,     /* "Actions taken" */
	CA_SUM_OUTCOME,     /* "Outcome" */
	CA_SUM_NEXT_STEPS,  /* "Next steps" */
} ca_summary_section;

typedef struct ca_summary_line {
	ca_summary_section section;
	char *text;          /* the extracted sentence, trimmed; owned */
	char *msg_id;        /* source message id; owned */
	uint32_t begin, end; /* byte span in that message */
} ca_summary_line;

typedef struct ca_summary {
	ca_summary_line *lines; /* in section order, then conversation order */
	size_t n;
} ca_summary;

/*
 * Summarise msgs[0..n). At most `max_per_section` lines per section (0 means
 * the default, 3). Fills *out (caller frees with ca_summary_done); an empty
 * conversation gives an empty summary, not an error. CA_ENOMEM on failure.
 */
int ca_summarize(const ca_msg *msgs, size_t n, unsigned max_per_section, ca_summary *out, ca_err *err);
void ca_summary_done(ca_summary *s);

/* The note as text, one "Section: sentence" block per section, appended to *out. */
int ca_summary_render(const ca_summary *s, ca_buf *out);
/* The note as JSON (new reference): {"issue":[{"text","message","begin","end"}],...}. */
json_t *ca_summary_to_json(const ca_summary *s);

const char *ca_summary_section_name(ca_summary_section s);

#endif
