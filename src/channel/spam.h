/* SPDX-License-Identifier: MIT */
/*
 * Layer 4 e-mail channel, spam side: whether a message is spam, from the
 * verdict a mail server already wrote into its headers (SpamAssassin's
 * X-Spam-Flag / X-Spam-Status, rspamd's X-Spamd-Result, X-Rspamd-Action,
 * X-Spamd-Bar, and the X-Spam: yes of providers), or by asking a running
 * filter: SpamAssassin's spamd over TCP or a Unix socket (the spamc
 * protocol), or rspamd over HTTP (/checkv2). Only a verdict of "spam" is
 * ever taken from a header: anyone can write headers into their own mail,
 * so a header can only make its own message spam, never vouch for it.
 *
 * Nothing here touches the database; the case agent decides what a verdict
 * means (casemgmt/email.c holds spam and never opens a case for it).
 * Thread-safety: every function is reentrant; a check blocks the calling
 * thread for at most the service's timeout.
 */
#ifndef CA_SPAM_H
#define CA_SPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "base.h"

/* What answered. */
typedef enum ca_spam_source {
	CA_SPAM_UNCHECKED = 0, /* nobody gave a verdict (no filter, or it failed) */
	CA_SPAM_HEADER,        /* a header written by a server on the way */
	CA_SPAM_SPAMD,         /* SpamAssassin spamd, asked by us */
	CA_SPAM_RSPAMD,        /* rspamd, asked by us */
} ca_spam_source;

typedef struct ca_spam_verdict {
	ca_spam_source source;
	bool is_spam;
	bool has_score;      /* score and threshold are known */
	double score;        /* the filter's score */
	double threshold;    /* the score from which the filter calls it spam */
	char *origin;        /* who said so: "header X-Spam-Flag", "spamd 127.0.0.1:783",
				"rspamd http://127.0.0.1:11333"; heap, or NULL */
	char *detail;        /* the rules that fired (spamd SYMBOLS, rspamd symbols) or the
				header's value, truncated to 1,000 bytes; heap, or NULL */
} ca_spam_verdict;

void ca_spam_verdict_init(ca_spam_verdict *v);
void ca_spam_verdict_done(ca_spam_verdict *v); /* frees origin and detail; NULL-safe */

/*
 * The verdict servers on the way wrote into `headers` (ca_email.headers:
 * {"lower-case-name": "value" | ["v1","v2"]}). Honoured, case-insensitively:
 *   X-Spam-Flag: YES                         (SpamAssassin)
 *   X-Spam-Status: Yes, score=15.3 required=5.0 ...   (SpamAssassin; hits= in 2.x)
 *   X-Spam: yes | true                       (rspamd's milter, many providers)
 *   X-Spamd-Result: default: True [15.10 / 15.00]; ...  (rspamd)
 *   X-Rspamd-Action / X-Spam-Action: reject | add header | rewrite subject (rspamd)
 *   X-Spamd-Bar: six or more '+'             (rspamd: one '+' a point; six is
 *                                             its default "add header" score)
 * Every other value, and every "no", is ignored: *ret gets source
 * CA_SPAM_UNCHECKED and is_spam false. Returns 0, or CA_ENOMEM. *ret must
 * be initialised; on a spam verdict it is filled (origin names the header).
 */
int ca_spam_from_headers(const json_t *headers, ca_spam_verdict *ret);

/* A filter to ask (docs/settings.md, "email.spam"). */
typedef enum ca_spam_kind { CA_SPAM_SERVICE_NONE = 0, CA_SPAM_SERVICE_SPAMD, CA_SPAM_SERVICE_RSPAMD } ca_spam_kind;

typedef struct ca_spam_service {
	ca_spam_kind kind;
	char *address;        /* spamd: "HOST:PORT", "[V6]:PORT" or an absolute Unix socket
				 path; rspamd: its base URL, "http://127.0.0.1:11333" */
	unsigned timeout_ms;  /* for the whole exchange: connect, send, answer */
	size_t max_bytes;     /* larger messages are not sent (spamc's own default is 500 KB) */
	double threshold;     /* > 0: spam from this score on, instead of the filter's own */
} ca_spam_service;

/*
 * Ask the filter about raw[0..len). On an answer: 0 and *ret filled
 * (source CA_SPAM_SPAMD or CA_SPAM_RSPAMD). The filter's own verdict is
 * used unless svc->threshold > 0. Failures, with err naming the filter and
 * the reason: CA_EIO (unreachable, refused, timed out, closed early),
 * CA_EPARSE (an answer that is not the protocol), CA_ETOOBIG (the message
 * is over svc->max_bytes; nothing was sent), CA_ENOMEM. *ret is left
 * as it was on failure.
 *
 * spamd: the spamc protocol as SpamAssassin documents it in spamd/PROTOCOL
 * ("The SpamAssassin Network Protocol", SpamAssassin 4.0): we send
 *   SYMBOLS SPAMC/1.5\r\n  Content-length: <n>\r\n  \r\n  <message>
 * then shut our side down, and read
 *   SPAMD/1.1 0 EX_OK\r\n  Spam: True ; 15.3 / 5.0\r\n  ...\r\n  \r\n  SYM1,SYM2,...
 * rspamd: POST <url>/checkv2 with the message as the body, answered by JSON
 * {"action","score","required_score","symbols":{...}} (rspamd's "Rspamd
 * protocol" page, https://rspamd.com/doc/developers/protocol.html); spam is
 * the action reject, add header or rewrite subject.
 */
int ca_spam_check(const ca_spam_service *svc, const char *raw, size_t len, ca_spam_verdict *ret, ca_err *err);

/*
 * The parsers of the two answers, separate so they can be tested and
 * fuzzed on their own. `resp` is the whole answer (need not be NUL-
 * terminated); `origin` is copied into ret->origin. 0 and *ret filled,
 * CA_EPARSE with err saying what is wrong (spamd's error line "SPAMD/1.0 76
 * Bad header line" is reported as CA_EIO: the filter failed), CA_ENOMEM.
 */
int ca_spam_parse_spamd(const char *resp, size_t len, const char *origin, ca_spam_verdict *ret, ca_err *err);
int ca_spam_parse_rspamd(const char *resp, size_t len, const char *origin, ca_spam_verdict *ret, ca_err *err);

/* "header", "spamd", "rspamd" or "unchecked". */
const char *ca_spam_source_name(ca_spam_source s);

#endif
