/* SPDX-License-Identifier: MIT */
/*
 * Layer 3 conversation summary: the note written when a chat closes. Purely
 * extractive and role-aware: the customer's issue (customer sentences that
 * state a problem), what the representative did (agent sentences with action
 * cues), the outcome, and next steps. Every line keeps the message id and the
 * byte span it came from, so a person can trace it. System and bot messages
 * never contribute a line. Besides the sectioned note: a brief of two lines
 * rendered as reported speech, the form human summaries take, and ROUGE
 * (rouge.c), by which `caseagent eval summary` scores it against them.
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
	ca_role role;        /* who said it: CA_ROLE_CUSTOMER or CA_ROLE_AGENT */
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

/* ---- the brief: a prose summary for people and for ROUGE ---- */

/*
 * The lines of a brief summary, the shape in which people summarise a
 * two-party conversation: one sentence for what the customer wanted and one
 * for where the representative left it. The issue is the customer's first
 * substantive sentence (not a greeting, an acknowledgement, a request for
 * an identifier or a bare identifier, and at least two content words):
 * customers open with why they came. The representative's line is, in this
 * order of preference, the outcome ca_summarize picks (an explicit
 * resolution in the second half of the chat), a next step, an action, the
 * last plain statement near the end, or the representative's first
 * substantive sentence. At most two lines (Issue, then one of Outcome, Next
 * steps or Actions taken), each traceable like ca_summarize's; *out as
 * there (caller frees with ca_summary_done). Errors as ca_summarize.
 */
int ca_summarize_brief(const ca_msg *msgs, size_t n, ca_summary *out, ca_err *err);

typedef struct ca_summary_prose_opts {
	const char *customer;  /* how the customer is named; NULL: "Customer" */
	const char *agent;     /* how the representative is named; NULL: "Agent" */
	unsigned max_words;    /* a line is cut after this many words; 0: never */
} ca_summary_prose_opts;

/*
 * Render a summary as reported speech, the form of human case summaries
 * ("Customer asks how to change the plan. Agent says the steps are in the
 * e-mail."): each line becomes a sentence about its speaker. First- and
 * second-person words are resolved to the two names ("I" and "my" of the
 * customer become "Customer" and "Customer's", "you" becomes "Agent"), and
 * a present-tense verb whose subject became a third person agrees with it
 * ("I need" -> "Customer needs", "I am" -> "Customer is"; common verbs
 * only, from a closed list). A statement is introduced with "says" unless
 * it already starts with the speaker's name; a question with "asks", made
 * indirect ("how do I X" -> "asks how to X", "can you X" -> "asks if Agent
 * can X", "do you X" -> "asks if Agent Xs"). Greetings in front, handles
 * (@name), links, hashtags, reply counters ("1/2") and sign-offs ("^PB",
 * or "-JW" as a line's last word) are left out; tokenised apostrophes
 * ("don ' t") are joined; a line is cut after max_words words. The words
 * are the line's own and in its order but for the inverted question, so
 * each sentence still follows its source span. Appends to *out; CA_EINVAL
 * without s or out, CA_ENOMEM.
 */
int ca_summary_render_prose(const ca_summary *s, const ca_summary_prose_opts *o, ca_buf *out);

/*
 * Which of two unlabelled parties is the customer. msgs[i].role is
 * CA_ROLE_CUSTOMER for messages of the first party and CA_ROLE_AGENT for the
 * second (other roles are ignored). Reading the first three messages of each
 * party: a party who offers help ("how can I help you", "what can I do for
 * you", "welcome to") is the representative; when both or neither do, the
 * party whose sentences state more need (the issue cues of ca_summarize) is
 * the customer; on a tie, the first party. *ret_second is true when the
 * second party is the customer. Errors as ca_summarize.
 */
int ca_summary_customer_is_second(const ca_msg *msgs, size_t n, bool *ret_second, ca_err *err);

/* ---- a knowledge draft's wording (src/summary/draft.c) ---- */

/*
 * An article title from `title`, a text PII removal went over: each
 * placeholder (an upper-case word in square brackets: "[PERSON]",
 * "[ORDER_NUMBER]") is dropped with the words that only led to it (an
 * article or preposition, a title or greeting, "my name is", "number",
 * "call"; possessives stay: "My [PERSON] Matrix printer" gives "My Matrix
 * printer") and with a possessive "'s" after it, and the punctuation left
 * around it is tidied. When fewer than three words are left, the first
 * sentence of `fallback` (may be NULL; the issue) that keeps three after the
 * same treatment is the title instead. The result is cut near 120 bytes at a
 * word boundary and holds no placeholder. *ret_title is a new string (caller
 * frees). CA_EINVAL without title or ret_title, CA_ENOMEM.
 */
int ca_summary_title(const char *title, const char *fallback, char **ret_title);

/*
 * The sentences of a resolution that state what was done or should be done,
 * in their order, joined by one space: questions, deferrals ("Let me check
 * the payments on that order.", "I'll look into it", "one moment", "let us
 * know") and sentences of pleasantries only are left out. *ret_resolution is
 * a new string (caller frees); CA_ENOTFOUND when no sentence is left (the
 * text states no resolution), CA_EINVAL, CA_ENOMEM.
 */
int ca_summary_resolution(const char *text, char **ret_resolution);

/*
 * A case's proposed resolution, extractive from its thread msgs[0..n)
 * (chat lines, e-mails and people's notes, oldest first; a note is a
 * CA_ROLE_AGENT message; the ids must be unique): the representative's
 * lines ca_summarize picks as Outcome, Actions taken or Next steps, each
 * reduced to its statements by ca_summary_resolution (a line that is only a
 * question, a deferral or pleasantries is left out), a statement already
 * taken not repeated, at most max_lines (0: 4) of them in thread order.
 * Each line of *out keeps the source sentence in `text`, its message and
 * byte span, and its section; *ret_text (NULL when nothing is stated) is
 * the lines' statements joined by one space. *ret_confidence in [0, 1]:
 * 1 - prod(1 - w) over the lines, w = 0.6 for an outcome, 0.35 for an
 * action, 0.25 for a next step (an explicit outcome is what a resolution
 * says; a heuristic, not a calibrated probability), 0 without lines.
 * *out as ca_summarize's (caller frees with ca_summary_done), *ret_text a
 * new string (caller frees). CA_EINVAL, CA_ENOMEM; nothing is written to
 * the outputs on error.
 */
int ca_summary_propose_resolution(const ca_msg *msgs, size_t n, unsigned max_lines, ca_summary *out, char **ret_text,
				  double *ret_confidence, ca_err *err);

/* ---- ROUGE (src/summary/rouge.c) ---- */

/*
 * Tokens as ROUGE counts them: the text lower-cased (ASCII), tokens the
 * maximal runs of [a-z0-9]; every other byte, non-ASCII included, separates.
 * No stemming, no stop words. v[i] points into buf, NUL-terminated. Zero-
 * initialise; ca_rouge_tokens_done frees (NULL-safe) and leaves it empty.
 */
typedef struct ca_rouge_tokens {
	char *buf;
	const char **v;
	size_t n;
} ca_rouge_tokens;

/* Tokenise text[0..len) into *out (previous contents freed on success).
 * CA_EINVAL, CA_ENOMEM. */
int ca_rouge_tokenize(const char *text, size_t len, ca_rouge_tokens *out);
void ca_rouge_tokens_done(ca_rouge_tokens *t);

/* One measure: precision, recall and F1 (β = 1), as fractions in [0, 1].
 * An empty candidate or reference scores 0. */
typedef struct ca_rouge {
	double precision, recall, f1;
} ca_rouge;

/*
 * ROUGE-N (Lin 2004, §2): the n-grams the candidate shares with the
 * reference, each counted at most as often as it occurs in either (clipped
 * counts), over the candidate's n-grams (precision) and the reference's
 * (recall). n >= 1; CA_EINVAL, CA_ENOMEM.
 */
int ca_rouge_n(const ca_rouge_tokens *cand, const ca_rouge_tokens *ref, unsigned n, ca_rouge *ret);
/* Length of the longest common subsequence of two token sequences
 * (O(|a|·|b|) time, O(|b|) memory). CA_EINVAL, CA_ENOMEM. */
int ca_rouge_lcs(const ca_rouge_tokens *a, const ca_rouge_tokens *b, size_t *ret_len);
/* ROUGE-L (Lin 2004, §3.1, summary level with one sentence per text):
 * LCS / |candidate| (precision), LCS / |reference| (recall), F1. */
int ca_rouge_l(const ca_rouge_tokens *cand, const ca_rouge_tokens *ref, ca_rouge *ret);

typedef struct ca_rouge_scores {
	ca_rouge rouge1, rouge2, rougeL;
} ca_rouge_scores;

/*
 * ROUGE-1, ROUGE-2 and ROUGE-L of `cand` against several human references
 * of the same conversation: each measure is the best over the references by
 * F1, taken separately per measure (as the tweetsumm README's reference
 * points are). With no reference every measure is 0. CA_EINVAL, CA_ENOMEM.
 */
int ca_rouge_best(const char *cand, const char *const *refs, size_t n_refs, ca_rouge_scores *ret);

#endif
