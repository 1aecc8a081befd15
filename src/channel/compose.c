/* SPDX-License-Identifier: MIT */
/*
 * The RFC 5322 text of a message we send, built with GMime 3 so that the
 * encodings are right without our own code: addresses parsed and written
 * back (RFC 5322 §3.4), a subject outside ASCII as RFC 2047 encoded words,
 * a text/plain; charset=utf-8 body, 7bit when it is plain ASCII with short
 * lines and quoted-printable otherwise (RFC 2045 §6.7), folded headers, and
 * a Message-ID of our own at the From address's domain (§3.6.4). Lines end
 * in CRLF, as SMTP wants them.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>
#include "email.h"
#include "mailnet.h"

/* Headers composed here; the same names among the extra headers are
 * ignored, so a stored record can never add a second From or a Bcc. */
static const char *const reserved[] = {
	"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
	"content-type", "content-transfer-encoding", "content-disposition", "sender", "return-path",
};

static bool is_reserved(const char *name)
{
	for (size_t i = 0; i < CA_ARRAY_SIZE(reserved); i++)
		if (!strcasecmp(name, reserved[i]))
			return true;
	return false;
}

/* A field name: printable ASCII without ':' (RFC 5322 §2.2). */
static bool field_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 33 || *s > 126 || *s == ':')
			return false;
	return true;
}

static bool has_line_break(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static char *one_line(const char *s)
{
	char *c = strdup(s);
	for (char *p = c; p && *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return c;
}

/* Parse `value` as an address list into `dst`; the first mailbox's address
 * goes to *ret_addr (borrowed from dst). */
static int add_addresses(InternetAddressList *dst, const char *header, const char *value, const char **ret_addr,
			 ca_err *err)
{
	InternetAddressList *l = value && !has_line_break(value) ? internet_address_list_parse(NULL, value) : NULL;
	if (!l || internet_address_list_length(l) == 0) {
		if (l)
			g_object_unref(l);
		return ca_err_set(err, CA_EINVAL, header, "%s: '%s' is not an address", header, value ? value : "(null)");
	}
	internet_address_list_append(dst, l);
	g_object_unref(l);
	*ret_addr = NULL;
	for (int i = 0; i < internet_address_list_length(dst); i++) {
		InternetAddress *a = internet_address_list_get_address(dst, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			*ret_addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
			break;
		}
	}
	if (!*ret_addr || !strchr(*ret_addr, '@'))
		return ca_err_set(err, CA_EINVAL, header, "%s: '%s' holds no mailbox address", header, value);
	return 0;
}

/* Bare LF (and lone CR) to CRLF, as RFC 5322 §2.3 requires. */
static int crlf(const char *s, ca_buf *out)
{
	int r = 0;
	for (const char *p = s; *p && !r; p++) {
		if (*p == '\r' && p[1] == '\n') {
			r = ca_buf_append(out, "\r\n", 2);
			p++;
		} else if (*p == '\r' || *p == '\n') {
			r = ca_buf_append(out, "\r\n", 2);
		} else {
			const char *q = p;
			while (q[1] && q[1] != '\r' && q[1] != '\n')
				q++;
			r = ca_buf_append(out, p, (size_t)(q - p + 1));
			p = q;
		}
	}
	return r;
}

int ca_mail_compose(const ca_mail_out *m, char **ret_text, size_t *ret_len, char **ret_message_id, ca_err *err)
{
	if (!m || !m->from || !m->to)
		return ca_err_set(err, CA_EINVAL, "message", "a message needs From and To");
	const char *subject = m->subject ? m->subject : "", *body = m->body ? m->body : "";
	if (!g_utf8_validate(subject, -1, NULL))
		return ca_err_set(err, CA_EUTF8, "subject", "the subject is not UTF-8");
	if (!g_utf8_validate(body, -1, NULL))
		return ca_err_set(err, CA_EUTF8, "body", "the body is not UTF-8");
	ca_email_global_init();

	GMimeMessage *msg = g_mime_message_new(TRUE);
	const char *from_addr = NULL, *to_addr = NULL;
	int r = add_addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_FROM), "From", m->from, &from_addr,
			      err);
	if (!r)
		r = add_addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), "To", m->to, &to_addr, err);
	char *subj = r ? NULL : one_line(subject);
	if (!r && !subj)
		r = CA_ENOMEM;
	if (!r)
		g_mime_message_set_subject(msg, subj, "utf-8");
	free(subj);

	GDateTime *date = r ? NULL : g_date_time_new_from_unix_utc(m->date);
	if (date) {
		g_mime_message_set_date(msg, date);
		g_date_time_unref(date);
	}
	char *mid = NULL;
	if (!r) {
		const char *domain = strrchr(from_addr, '@') + 1;
		mid = g_mime_utils_generate_message_id(*domain ? domain : "caseagent.invalid");
		g_mime_message_set_message_id(msg, mid);
	}

	/* Extra headers in key order, so the text is reproducible. */
	const char *k;
	json_t *v;
	size_t nkeys = json_object_size(m->headers), nk = 0;
	const char **keys = nkeys ? calloc(nkeys, sizeof(*keys)) : NULL;
	if (nkeys && !keys && !r)
		r = CA_ENOMEM;
	if (keys)
		json_object_foreach((json_t *)m->headers, k, v) keys[nk++] = k;
	for (size_t i = 0; i + 1 < nk; i++)
		for (size_t j = i + 1; j < nk; j++)
			if (strcmp(keys[j], keys[i]) < 0) {
				const char *t = keys[i];
				keys[i] = keys[j];
				keys[j] = t;
			}
	for (size_t i = 0; !r && i < nk; i++) {
		const char *val = json_string_value(json_object_get(m->headers, keys[i]));
		if (is_reserved(keys[i]) || !val)
			continue;
		if (!field_name_ok(keys[i]))
			r = ca_err_set(err, CA_EINVAL, "headers", "'%s' is not a header field name", keys[i]);
		else if (has_line_break(val))
			r = ca_err_set(err, CA_EINVAL, "headers", "header %s: the value holds a line break", keys[i]);
		else if (!g_utf8_validate(val, -1, NULL))
			r = ca_err_set(err, CA_EUTF8, "headers", "header %s: the value is not UTF-8", keys[i]);
		else
			g_mime_object_set_header(GMIME_OBJECT(msg), keys[i], val, "utf-8");
	}
	free(keys);

	GMimeTextPart *part = NULL;
	if (!r) {
		part = g_mime_text_part_new_with_subtype("plain");
		g_mime_text_part_set_text(part, body);
		g_mime_text_part_set_charset(part, "utf-8");
		/* set_text chose 7bit for plain ASCII with short lines; anything
		 * else is quoted-printable, readable where base64 is not. */
		if (g_mime_part_get_content_encoding(GMIME_PART(part)) != GMIME_CONTENT_ENCODING_7BIT)
			g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
		g_object_unref(part);
	}

	char *text = NULL;
	if (!r) {
		GMimeFormatOptions *fo = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
		text = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
		g_mime_format_options_free(fo);
		if (!text)
			r = ca_err_set(err, CA_ENOMEM, "message", "could not write the message");
	}
	g_object_unref(msg);
	ca_buf out = { 0 };
	if (!r && crlf(text, &out) < 0)
		r = CA_ENOMEM;
	g_free(text);
	char *id = r ? NULL : strdup(mid);
	g_free(mid);
	if (!r && !id)
		r = CA_ENOMEM;
	if (r) {
		ca_buf_done(&out);
		free(id);
		return r;
	}
	*ret_len = out.len;
	*ret_text = ca_buf_steal(&out);
	*ret_message_id = id;
	return 0;
}
