/* SPDX-License-Identifier: MIT */
/*
 * Layer 4 e-mail channel, parsing side: turns raw RFC 5322 bytes into a
 * ca_email the case agent can act on. GMime 3 does the MIME work (RFC 2045-
 * 2049, RFC 2047 encoded words, RFC 2231 parameters, every charset converted
 * to UTF-8); libxml2's HTML parser turns HTML-only bodies into text. On top of
 * that: reply extraction (what is new in this message, without quoted history
 * and signatures), the signals of automatic mail (RFC 3834 Auto-Submitted,
 * Precedence, X-Autoreply, X-Auto-Response-Suppress, RFC 3464 delivery
 * reports, out-of-office wording), and message sources (.eml files,
 * directories, mbox, Maildir, stdin).
 *
 * Nothing here touches the database; the raw bytes are never altered, so a
 * message that cannot be parsed is still kept whole by the caller.
 * Thread-safety: after ca_email_global_init(), parsing is reentrant.
 */
#ifndef CA_EMAIL_H
#define CA_EMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base.h"

/* g_mime_init() once per process (idempotent, not thread-safe itself). */
void ca_email_global_init(void);

typedef struct ca_address {
	char *name;   /* display name, decoded to UTF-8, or NULL */
	char *email;  /* addr-spec in its normalised form (ca_email_addr_key: compare
			 with strcmp), as written when it has no domain, or NULL */
} ca_address;

typedef struct ca_attachment {
	char *filename;      /* decoded (RFC 2231/2047), or NULL */
	char *content_type;  /* "application/pdf" */
	size_t size;         /* decoded bytes */
	char sha256[65];     /* hex of the decoded content (FIPS 180-4) */
	unsigned char *content; /* decoded bytes (owned) */
} ca_attachment;

/* Why a message is automatic (never creates a case or an auto-response). */
typedef enum ca_auto_kind {
	CA_AUTO_NONE = 0,
	CA_AUTO_REPLY,      /* Auto-Submitted: auto-replied, X-Autoreply, X-Autorespond... */
	CA_AUTO_GENERATED,  /* Auto-Submitted: auto-generated, Precedence bulk/junk/list, List-Id + Precedence */
	CA_AUTO_BOUNCE,     /* multipart/report; report-type=delivery-status (RFC 3464), MAILER-DAEMON */
	CA_AUTO_OOO,        /* out-of-office: headers (X-Auto-Response-Suppress on a reply) or subject wording */
} ca_auto_kind;

const char *ca_auto_kind_name(ca_auto_kind k); /* "none", "auto-reply", "auto-generated", "bounce", "out-of-office" */

typedef struct ca_email {
	char *message_id;    /* without angle brackets; NULL when absent */
	char *in_reply_to;   /* first msg-id of In-Reply-To, without brackets, or NULL */
	ca_strv references;  /* msg-ids of References, oldest first, without brackets */
	ca_address from;
	ca_address reply_to; /* Reply-To or empty */
	ca_address *to, *cc;
	size_t n_to, n_cc;
	char *subject;       /* decoded, or "" */
	int64_t date;        /* seconds since the epoch, 0 when missing/unparsable */
	json_t *headers;     /* {"lower-case-name": "decoded value" | ["v1","v2"]} (owned) */
	char *text;          /* the body as UTF-8 text: text/plain preferred, else HTML
				turned into text; "" when there is none */
	bool text_from_html;
	char *reply_text;    /* `text` without quoted history and signature (ca_email_reply_text) */
	ca_attachment *attachments;
	size_t n_attachments;
	ca_auto_kind auto_kind;
	char *auto_reason;   /* what decided auto_kind ("Auto-Submitted: auto-replied"), or NULL */
	/* Relayed by a mailing list (Precedence: list, or a List-Id, RFC 2919):
	 * a person's mail (a support address that is itself a list or group
	 * relays every customer's mail so), not automatic by that alone, but never answered
	 * automatically: a list may pass the answer on (RFC 3834 section 2). */
	bool via_list;
	/* For a bounce: the Message-ID of the original message when the report
	 * carries it (message/rfc822 or text/rfc822-headers part), else NULL. */
	char *bounced_message_id;
	char *parse_warning; /* non-fatal problem noticed ("no Date header"), or NULL */
} ca_email;

/*
 * Parse raw[0..len). Fills *out (caller frees with ca_email_done). Fails only
 * when the bytes are not a message at all (empty, no header block, NUL bytes
 * in the headers...): CA_EPARSE with err->message naming the reason. Lenient
 * otherwise: a bad charset falls back to a lossless Latin-1/UTF-8 repair, a
 * bad date leaves date 0 with a parse_warning. Never reads past len. Input
 * larger than `max_bytes` (0 = 50 MiB) is CA_ETOOBIG.
 */
int ca_email_parse(const char *raw, size_t len, size_t max_bytes, ca_email *out, ca_err *err);
void ca_email_done(ca_email *e);

/*
 * The part of a reply that is new: drops ">" quoted blocks, "On ... wrote:"
 * and its localised forms, Outlook "-----Original Message-----" and
 * "From: ... Sent: ..." header blocks and everything after them, "-- "
 * signatures, and common mobile footers ("Sent from my iPhone"). Returns a
 * heap string (caller frees); the whole text when nothing is found to strip.
 */
char *ca_email_reply_text(const char *text);

/* True when a subject reads as an out-of-office or automatic reply ("Out of
 * Office: ...", "[Automatic reply]", "Abwesenheitsnotiz", in the common
 * languages): the wording detect_auto uses, for readers of replies that
 * have only the headers as JSON (the follow-up agent). */
bool ca_email_subject_auto(const char *subject);

/* HTML to plain text (libxml2 HTML parser, lenient): block elements become
 * line breaks, <br> a newline, script/style dropped, entities decoded,
 * whitespace collapsed. Heap string, caller frees; NULL on ENOMEM. */
char *ca_html_to_text(const char *html, size_t len);

/*
 * Normalised subject for threading: strips reply/forward prefixes (Re:, RE:,
 * Fwd:, FW:, AW:, SV:, Antw:, and [list] tags), repeated, and folds case and
 * whitespace. Heap string, caller frees.
 */
char *ca_email_subject_norm(const char *subject);

/* Hex SHA-256 (FIPS 180-4) of len bytes, via GLib's GChecksum: the identity
 * of a message without a Message-ID. out gets 64 hex digits and a NUL. */
void ca_sha256_hex(const void *data, size_t len, char out[static 65]);

/* ---- sources ---- */

/* An over-size message keeps its headers and at most this much of its
 * body; at most CA_EMAIL_PEEK_BYTES of it are read to find them. */
#define CA_EMAIL_KEEP_BODY ((size_t)64 * 1024)
#define CA_EMAIL_PEEK_BYTES ((size_t)256 * 1024)

/* How much of raw[0..len) to keep of a message over the size limit: the
 * header block (up to its empty line) and at most max_body bytes after it;
 * all of it when no end of the headers is in sight. */
size_t ca_email_prefix_len(const char *raw, size_t len, size_t max_body);

/*
 * Every message found at `path`, in a stable order: a file holding one
 * message (.eml or any other name), an mbox file (detected by a leading
 * "From " line; split with GMime's mbox parser), a Maildir (a directory with
 * cur/ and new/), or a directory (recursively, files sorted by name); "-" is
 * one message on standard input. For each, `fn` gets the raw bytes and a
 * stable origin string ("path", "path#3" for the 3rd message of an mbox);
 * a nonzero return stops the walk and is returned. Unreadable files are
 * reported through fn with raw NULL and len 0 and err naming the file, so
 * the caller can record them; they do not stop the walk.
 *
 * `max_bytes` (0 = 50 MiB) bounds one message, enforced while reading: a
 * larger one reaches fn as its headers and a prefix of at most
 * CA_EMAIL_KEEP_BODY body bytes (ca_email_prefix_len), with `received` its
 * full size; otherwise received == len. No more than CA_EMAIL_PEEK_BYTES of
 * an over-size message is ever held (standard input is read to its end but
 * not kept).
 */
typedef int (*ca_email_source_fn)(const char *raw, size_t len, size_t received, const char *origin,
				  const ca_err *read_err, void *ud);
int ca_email_sources_walk(const char *path, size_t max_bytes, ca_email_source_fn fn, void *ud, ca_err *err);

#endif
