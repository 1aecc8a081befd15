/* SPDX-License-Identifier: MIT */
/*
 * Layer 4 e-mail channel, network side: reading a mailbox over IMAP (RFC
 * 3501) and sending over SMTP (RFC 5321), both through libcurl, and
 * composing the RFC 5322 text of a message we send (GMime). The case agent
 * (casemgmt/email_net.c) drives these: poll = search unseen, fetch each
 * without setting \Seen, ingest, and only then mark \Seen; send = compose,
 * hand to SMTP, record. Nothing here touches the database.
 *
 * Errors are negative CA_E* codes; err->message names the server (the URL
 * without credentials), the mailbox and the UID concerned, and carries
 * libcurl's own explanation. CA_EIO for the network and the server's
 * refusals (connection, TLS, login, a NO/BAD answer), CA_EPARSE for a
 * response we cannot read, CA_ETOOBIG for a message over the size cap,
 * CA_EINVAL for a bad URL or argument. A server that offers no TLS where
 * TLS is required is CA_EIO with err->where "tls", so a caller can tell
 * the server's setup from one message's trouble.
 *
 * Thread-safety: ca_mailnet_global_init() runs curl_global_init() once per
 * process (pthread_once); curl_global_init itself is not thread-safe against
 * other code initialising libcurl or the TLS library at the same moment, so
 * call it (or anything below) first from the main thread when threads are
 * about. After that, one ca_imap per thread; ca_smtp_send is reentrant.
 */
#ifndef CA_MAILNET_H
#define CA_MAILNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base.h"

/* Largest message fetched or sent, in bytes (the ingest cap as well). */
#define CA_MAILNET_MAX_MESSAGE ((size_t)50 << 20)

/* curl_global_init(CURL_GLOBAL_DEFAULT) once per process; idempotent. */
void ca_mailnet_global_init(void);

/*
 * TLS by default: IMAP and SMTP insist on TLS (implicit for imaps:// and
 * smtps://, STARTTLS for imap:// and smtp://: CURLUSESSL_ALL), so a server
 * that offers no STARTTLS is refused before any login. `allow_plaintext`
 * lets a server go without TLS, and only on this machine: a loopback host
 * (127.0.0.0/8, ::1, ::ffff:127.x, "localhost"; as a URL spells it, so
 * "[::1]" too). No name resolution: a host name is loopback only when it is
 * "localhost".
 */
bool ca_mailnet_loopback_host(const char *host);
/* 0 unless allow_plaintext is asked for a host that is not loopback:
 * CA_EINVAL naming the server, the host and what to do instead. */
int ca_mailnet_plaintext_check(const char *proto, const char *server, const char *host, bool allow_plaintext,
			       ca_err *err);

/* ---- IMAP (RFC 3501) ---- */

typedef struct ca_imap ca_imap;

/*
 * Open a session on a mailbox. `url` is imap://HOST[:PORT][/MAILBOX] or
 * imaps://... (RFC 5092 form; MAILBOX percent-encoded, default "INBOX"; the
 * name as the server spells it, modified UTF-7 for non-ASCII, RFC 3501
 * §5.1.3). A user name in the URL is allowed, a password is not (it would
 * show in process lists and logs): give `user` and `password` instead (may
 * be NULL for a server that needs no login). On imap:// STARTTLS is
 * required (a server without it is CA_EIO saying so) unless
 * `allow_plaintext`, which only a loopback host may have (CA_EINVAL
 * otherwise, see ca_mailnet_loopback_host); certificates are verified.
 *
 * The session logs in and reads the mailbox's UIDVALIDITY (STATUS); every
 * later call reuses that one connection (kept in a libcurl connection
 * cache shared by the session's requests), reconnecting only after a
 * failure. Caller frees with ca_imap_close (NULL-safe).
 * Errors: CA_EINVAL (bad URL), CA_EIO (connect, TLS, login, no such
 * mailbox), CA_ENOMEM.
 */
int ca_imap_open(const char *url, const char *user, const char *password, bool allow_plaintext, ca_imap **ret,
		 ca_err *err);
void ca_imap_close(ca_imap *m);

/* The server as shown in messages: "imap://host:port" (no credentials).
 * Borrowed until ca_imap_close. */
const char *ca_imap_server(const ca_imap *m);
/* The mailbox name, decoded ("INBOX"). Borrowed until ca_imap_close. */
const char *ca_imap_mailbox(const ca_imap *m);
/* A stable name of user + server + mailbox ("imap://user@host:port/INBOX"),
 * the key of its state between polls. Borrowed until ca_imap_close. */
const char *ca_imap_state_key(const ca_imap *m);
/* The mailbox's UIDVALIDITY (RFC 3501 §2.3.1.1) read when the session
 * opened. UIDs are only comparable across sessions while it is unchanged. */
uint32_t ca_imap_uidvalidity(const ca_imap *m);

/*
 * UIDs of the messages without \Seen (UID SEARCH UNSEEN, RFC 3501 §6.4.4,
 * §6.4.8), ascending. *ret_uids: heap array the caller frees with free()
 * (NULL when *ret_n is 0). Selects the mailbox (read-write) first; fails
 * with CA_EIO if the mailbox's UIDVALIDITY is no longer the one read at
 * open (libcurl's ";UIDVALIDITY=" check), so UIDs never cross epochs.
 */
int ca_imap_search_unseen(ca_imap *m, uint32_t **ret_uids, size_t *ret_n, ca_err *err);

/*
 * The message with this UID, byte for byte as the server stores it
 * (UID FETCH uid BODY.PEEK[]<origin.octets> in 64 KiB ranges, RFC 3501
 * §6.4.5: .PEEK, so \Seen is NOT set). `max_bytes` (0: CA_MAILNET_MAX_MESSAGE)
 * is enforced while fetching: once CA_EMAIL_PEEK_BYTES are in, a message
 * whose RFC822.SIZE is larger is not fetched further, and *ret holds only
 * its beginning; *ret_received is the size as received (the server's
 * RFC822.SIZE), larger than *ret_len exactly then.
 * *ret: heap buffer (caller frees with free()), NUL-terminated for
 * convenience, *ret_len bytes without the terminator. Errors:
 * CA_ENOTFOUND (no message with that UID: expunged meanwhile),
 * CA_EPARSE (the response does not carry exactly the announced literal:
 * the connection is then dropped, since it can no longer be trusted to be
 * in step), CA_EIO.
 */
int ca_imap_fetch(ca_imap *m, uint32_t uid, size_t max_bytes, char **ret, size_t *ret_len, size_t *ret_received,
		  ca_err *err);

/* Set \Seen on one message (UID STORE uid +FLAGS (\Seen), RFC 3501 §6.4.6).
 * A UID that no longer exists is not an error (the server answers OK). */
int ca_imap_mark_seen(ca_imap *m, uint32_t uid, ca_err *err);

/* ---- SMTP (RFC 5321) ---- */

typedef struct ca_smtp_server {
	const char *url;       /* smtp://HOST[:PORT] (STARTTLS required) or smtps://HOST[:PORT] */
	const char *user;      /* NULL: no AUTH */
	const char *password;  /* NULL with user: empty password */
	bool allow_plaintext;  /* no TLS when the server offers none: loopback hosts only */
} ca_smtp_server;

/* Check an SMTP URL (scheme smtp or smtps, a host, no password) and give
 * the server as shown in messages, "smtp://host:port" (caller frees; may be
 * NULL to only check). CA_EINVAL naming the problem. */
int ca_smtp_url_check(const char *url, char **ret_server, ca_err *err);
/* ca_smtp_url_check, and allow_plaintext only for a loopback host
 * (ca_mailnet_plaintext_check). *ret_server as there. */
int ca_smtp_server_check(const ca_smtp_server *srv, char **ret_server, ca_err *err);

/*
 * Send one message: `text` is the full RFC 5322 message (headers, blank
 * line, body; CRLF line ends; lines of at most 998 octets, §2.1.1), sent as
 * is (libcurl adds the dot-stuffing of RFC 5321 §4.5.2). `from` is the
 * envelope sender (MAIL FROM), "" for the null reverse-path "<>" that
 * automatic responses use (RFC 3834 §3.3, RFC 5321 §4.5.5);
 * `rcpt[0..n_rcpt)` the envelope recipients
 * (RCPT TO), each a bare addr-spec ("a@b.example"). Every recipient must
 * be accepted, else nothing is sent. Errors: CA_EINVAL (bad URL, no
 * recipient, an address with <>, CR or LF), CA_EIO naming the server and
 * the refusal (libcurl's message includes the server's reply).
 */
int ca_smtp_send(const ca_smtp_server *srv, const char *from, const char *const *rcpt, size_t n_rcpt,
		 const char *text, size_t len, ca_err *err);

/* ---- composing (RFC 5322, RFC 2045-2047) ---- */

/* A message to send: UTF-8 text throughout. */
typedef struct ca_mail_out {
	const char *from;        /* "Name <a@b.example>" or "a@b.example" (required) */
	const char *to;          /* same form (required) */
	const char *subject;     /* may hold any UTF-8; RFC 2047-encoded when not ASCII */
	const char *body;        /* text/plain; charset=utf-8, quoted-printable when needed */
	int64_t date;            /* seconds since the epoch for the Date header */
	/* Further headers {"Name": "value"} (Auto-Submitted, In-Reply-To,
	 * References...), written in key order; From, To, Subject, Date,
	 * Message-ID, MIME-Version and Content-* here are ignored. May be NULL. */
	const json_t *headers;
} ca_mail_out;

/*
 * Compose the RFC 5322 text of `m` with a fresh Message-ID of our own
 * (RFC 5322 §3.6.4: unique-part@domain of the From address). *ret_text:
 * heap, NUL-terminated, CRLF line ends, caller frees with free();
 * *ret_message_id: heap, without angle brackets, caller frees. Errors:
 * CA_EINVAL naming the header when an address cannot be parsed, CA_EUTF8
 * when text is not UTF-8, CA_ENOMEM.
 */
int ca_mail_compose(const ca_mail_out *m, char **ret_text, size_t *ret_len, char **ret_message_id, ca_err *err);

#endif
