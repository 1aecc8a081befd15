/* SPDX-License-Identifier: MIT */
/*
 * E-mail network side, the parts that need no server: composing the RFC
 * 5322 text of a response (CRLF, RFC 2047 subject, quoted-printable UTF-8
 * body, our Message-ID, headers passed through in order, reserved and
 * injected headers refused) and read back by our own parser; URL checks
 * (schemes, passwords in URLs, mailbox names); and the errors of a server
 * that is not there, which must name it. The protocol itself runs against
 * real Dovecot and aiosmtpd in tests/cli/cli_email_net.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "email.h"
#include "mailnet.h"

static json_t *response_headers(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Auto-Submitted", "auto-replied", "In-Reply-To",
			 "<m1@example.com>", "References", "<m1@example.com>", "X-Auto-Response-Suppress", "All",
			 "Bcc", "spy@example.com", "From", "evil@example.com");
}

/* Every line ends in CRLF; no bare CR or LF. */
static void assert_crlf(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '\n')
			assert_true(i > 0 && t[i - 1] == '\r');
		if (t[i] == '\r')
			assert_true(i + 1 < len && t[i + 1] == '\n');
	}
}

/* The value of header `name` in the raw text ("" when absent). */
static void header_line(const char *text, const char *name, char *out, size_t n)
{
	out[0] = '\0';
	size_t nl = strlen(name);
	for (const char *p = text; p && *p && !(p[0] == '\r' && p[1] == '\n'); p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *e = strstr(p, "\r\n");
			snprintf(out, n, "%.*s", (int)(e - p - nl - 2), p + nl + 2);
			return;
		}
}

static void test_compose_ascii(void **state)
{
	(void)state;
	json_t *h = response_headers();
	ca_mail_out m = { .from = "Brightwave <noreply@brightwave.example>", .to = "ann@example.com",
			  .subject = "[CAS-00001] We received: My order", .body = "Thank you.\nYour case is CAS-00001.\n",
			  .date = 1767225600, .headers = h };
	char *text = NULL, *mid = NULL, v[512];
	size_t len = 0;
	ca_err err = { 0 };
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), 0);
	assert_int_equal(strlen(text), len);
	assert_crlf(text, len);
	assert_non_null(strstr(mid, "@brightwave.example"));
	assert_null(strchr(mid, '<'));
	header_line(text, "Message-Id", v, sizeof(v));
	assert_true(v[0] == '<' && strstr(v, mid) == v + 1);
	header_line(text, "Subject", v, sizeof(v));
	assert_string_equal(v, "[CAS-00001] We received: My order");
	header_line(text, "Date", v, sizeof(v));
	assert_non_null(strstr(v, "1 Jan 2026 00:00:00 +0000"));
	header_line(text, "Auto-Submitted", v, sizeof(v));
	assert_string_equal(v, "auto-replied");
	header_line(text, "In-Reply-To", v, sizeof(v));
	assert_string_equal(v, "<m1@example.com>");
	header_line(text, "Content-Type", v, sizeof(v));
	assert_string_equal(v, "text/plain; charset=utf-8");
	header_line(text, "Content-Transfer-Encoding", v, sizeof(v));
	assert_string_equal(v, "7bit");
	/* reserved names among the stored headers never reach the message */
	header_line(text, "Bcc", v, sizeof(v));
	assert_string_equal(v, "");
	header_line(text, "From", v, sizeof(v));
	assert_string_equal(v, "Brightwave <noreply@brightwave.example>");
	assert_non_null(strstr(text, "\r\n\r\nThank you.\r\nYour case is CAS-00001.\r\n"));
	/* extra headers in key order: a reproducible text */
	assert_true(strstr(text, "Auto-Submitted:") < strstr(text, "In-Reply-To:"));
	assert_true(strstr(text, "References:") < strstr(text, "X-Auto-Response-Suppress:"));
	free(text);
	free(mid);
	json_decref(h);
}

static void test_compose_utf8_roundtrip(void **state)
{
	(void)state;
	const char *subject = "[CAS-00002] We received: Kopfhörer kaputt – bitte helfen";
	const char *body = "Grüße aus Köln.\nA line that is long enough to need a soft break in quoted-printable, "
			   "which wraps at seventy-six characters.\n";
	json_t *h = response_headers();
	ca_mail_out m = { .from = "Jürgen Service <noreply@brightwave.example>", .to = "Jürgen Weiß <juergen@example.de>",
			  .subject = subject, .body = body, .date = 1767225600, .headers = h };
	char *text = NULL, *mid = NULL, v[512];
	size_t len = 0;
	ca_err err = { 0 };
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), 0);
	assert_crlf(text, len);
	for (size_t i = 0; i < len; i++) /* 7-bit on the wire */
		assert_true((unsigned char)text[i] < 0x80);
	header_line(text, "Subject", v, sizeof(v));
	assert_non_null(strstr(v, "=?"));
	header_line(text, "Content-Transfer-Encoding", v, sizeof(v));
	assert_string_equal(v, "quoted-printable");

	ca_email e;
	assert_int_equal(ca_email_parse(text, len, 0, &e, &err), 0);
	assert_string_equal(e.subject, subject);
	assert_string_equal(e.message_id, mid);
	assert_string_equal(e.in_reply_to, "m1@example.com");
	assert_string_equal(e.from.email, "noreply@brightwave.example");
	assert_string_equal(e.from.name, "Jürgen Service");
	assert_int_equal(e.n_to, 1);
	assert_string_equal(e.to[0].email, "juergen@example.de");
	assert_string_equal(e.text, body);
	assert_int_equal(e.date, 1767225600);
	assert_int_not_equal(e.auto_kind, CA_AUTO_NONE);
	ca_email_done(&e);
	free(text);
	free(mid);
	json_decref(h);
}

static void test_compose_refuses(void **state)
{
	(void)state;
	char *text = NULL, *mid = NULL;
	size_t len = 0;
	ca_err err = { 0 };
	json_t *inj = json_pack("{s:s}", "X-Note", "ok\r\nBcc: spy@example.com");
	ca_mail_out m = { .from = "noreply@brightwave.example", .to = "ann@example.com", .subject = "s", .body = "b",
			  .headers = inj };
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), CA_EINVAL);
	assert_non_null(strstr(err.message, "X-Note"));
	json_decref(inj);

	json_t *bad_name = json_pack("{s:s}", "Bad Name", "v");
	m.headers = bad_name;
	ca_err_clear(&err);
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), CA_EINVAL);
	json_decref(bad_name);

	m.headers = NULL;
	m.to = "not an address";
	ca_err_clear(&err);
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), CA_EINVAL);
	assert_string_equal(err.where, "To");

	m.to = "ann@example.com";
	m.subject = "bad \xff byte";
	ca_err_clear(&err);
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), CA_EUTF8);

	/* a line break in the subject cannot start a header of its own */
	m.subject = "hello\r\nBcc: spy@example.com";
	ca_err_clear(&err);
	assert_int_equal(ca_mail_compose(&m, &text, &len, &mid, &err), 0);
	assert_null(strstr(text, "\r\nBcc:"));
	free(text);
	free(mid);
}

static void test_urls(void **state)
{
	(void)state;
	char *server = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_smtp_url_check("smtp://mail.example.com", &server, &err), 0);
	assert_string_equal(server, "smtp://mail.example.com:25");
	free(server);
	assert_int_equal(ca_smtp_url_check("smtps://mail.example.com:465/", &server, &err), 0);
	assert_string_equal(server, "smtps://mail.example.com:465");
	free(server);
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_url_check("smtp://u:secret@mail.example.com", NULL, &err), CA_EINVAL);
	assert_null(strstr(err.message, "secret"));
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_url_check("http://mail.example.com", NULL, &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_url_check("", NULL, &err), CA_EINVAL);

	/* IMAP URLs are checked before any connection is made */
	ca_imap *m = NULL;
	ca_err_clear(&err);
	assert_int_equal(ca_imap_open("imap://u:secret@127.0.0.1:1/INBOX", NULL, NULL, false, &m, &err), CA_EINVAL);
	assert_null(strstr(err.message, "secret"));
	ca_err_clear(&err);
	assert_int_equal(ca_imap_open("pop3://127.0.0.1:1/INBOX", NULL, NULL, false, &m, &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_imap_open("imap://127.0.0.1:1/INBOX;UID=3", NULL, NULL, false, &m, &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_imap_open("imap://127.0.0.1:1/INBOX?x", NULL, NULL, false, &m, &err), CA_EINVAL);
	assert_null(m);
}

/* Nothing listens on port 1 of the loopback: the error names the server. */
static void test_no_server(void **state)
{
	(void)state;
	ca_imap *m = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_imap_open("imap://127.0.0.1:1/Support%20Queue", "u", "p", false, &m, &err), CA_EIO);
	assert_non_null(strstr(err.message, "imap://127.0.0.1:1"));
	assert_non_null(strstr(err.message, "Support Queue"));
	assert_null(m);

	ca_smtp_server srv = { .url = "smtp://127.0.0.1:1" };
	const char *rcpt[] = { "ann@example.com" };
	const char *msg = "From: a@b.example\r\nTo: ann@example.com\r\nSubject: x\r\n\r\nhi\r\n";
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_send(&srv, "", rcpt, 1, msg, strlen(msg), &err), CA_EIO);
	assert_non_null(strstr(err.message, "smtp://127.0.0.1:1"));
	assert_non_null(strstr(err.message, "ann@example.com"));
	/* envelope addresses are checked before connecting */
	const char *bad[] = { "ann@example.com>\r\nRCPT TO:<x@y.example" };
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_send(&srv, "", bad, 1, msg, strlen(msg), &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_send(&srv, "", rcpt, 0, msg, strlen(msg), &err), CA_EINVAL);
}

/* Plain text only to this machine: which hosts are loopback, and the
 * refusal comes before any connection (192.0.2.0/24 is TEST-NET-1). */
static void test_plaintext_loopback_only(void **state)
{
	(void)state;
	static const char *const yes[] = { "127.0.0.1", "127.1.2.3", "localhost", "LocalHost", "::1", "[::1]",
					   "::ffff:127.0.0.1" };
	static const char *const no[] = { "192.0.2.7", "10.0.0.1", "128.0.0.1", "localhost.evil.example",
					  "mail.example.com", "::2", "[2001:db8::1]", "", "127.0.0.1.nip.io" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(ca_mailnet_loopback_host(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(ca_mailnet_loopback_host(no[i]));
	ca_imap *m = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_imap_open("imap://192.0.2.7:143/INBOX", "u", "p", true, &m, &err), CA_EINVAL);
	assert_non_null(strstr(err.message, "only for an IMAP server on this machine"));
	assert_null(m);
	ca_smtp_server srv = { .url = "smtp://192.0.2.7:25", .allow_plaintext = true };
	const char *rcpt[] = { "ann@example.com" };
	const char *msg = "From: a@b.example\r\nTo: ann@example.com\r\nSubject: x\r\n\r\nhi\r\n";
	ca_err_clear(&err);
	assert_int_equal(ca_smtp_send(&srv, "", rcpt, 1, msg, strlen(msg), &err), CA_EINVAL);
	assert_non_null(strstr(err.message, "only for an SMTP server on this machine"));
}

int main(void)
{
	ca_email_global_init();
	ca_mailnet_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_ascii),
		cmocka_unit_test(test_compose_utf8_roundtrip),
		cmocka_unit_test(test_compose_refuses),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_plaintext_loopback_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
