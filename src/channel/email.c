/* SPDX-License-Identifier: MIT */
/*
 * Raw RFC 5322 bytes to a ca_email. GMime 3 parses the message (MIME
 * structure, RFC 2047 words, RFC 2231 parameters, transfer encodings); this
 * file decides what the case agent sees: the header map, the addresses, the
 * body text (text/plain preferred, else HTML through ca_html_to_text) in
 * UTF-8, attachments with their SHA-256, and whether the message was sent by a
 * machine (RFC 3834 Auto-Submitted, Precedence, X-Autoreply, RFC 3464
 * delivery reports, out-of-office wording) and, for a bounce, which message
 * bounced. Before GMime sees anything, a cheap check of the header block
 * rejects input that is not a message at all, and two rewrites of GMime's
 * copy work around GMime 3.2.13 (fix_b_words, guard_rfc2047). Everything is
 * linear in the input: one GMime parse, one pass over the parts, one
 * conversion per text.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>
#include "email.h"
#include "text.h"

#define DEFAULT_MAX_BYTES ((size_t)50 * 1024 * 1024)
#define MAX_DEPTH 64       /* MIME nesting we walk; GMime has its own cap */
#define MAX_PARTS 10000    /* leaves we look at in one message */
#define MAX_WARNINGS 8
#define REASON_MAX 120     /* bytes of a header value quoted in auto_reason */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	g_mime_init();
	xmlInitParser();
}

void ca_email_global_init(void)
{
	pthread_once(&init_once, global_init);
}

const char *ca_auto_kind_name(ca_auto_kind k)
{
	switch (k) {
	case CA_AUTO_NONE: return "none";
	case CA_AUTO_REPLY: return "auto-reply";
	case CA_AUTO_GENERATED: return "auto-generated";
	case CA_AUTO_BOUNCE: return "bounce";
	case CA_AUTO_OOO: return "out-of-office";
	}
	return "none";
}

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Append s[0..n) to b as UTF-8 text: well-formed sequences are kept, every
 * other byte is read as Latin-1 (so nothing is lost and the result is always
 * valid), NUL bytes are dropped, and CRLF / lone CR become LF when `newlines`.
 * Sets *repaired when a byte had to be reinterpreted.
 */
static int append_utf8(ca_buf *b, const char *s, size_t n, bool newlines, bool *repaired)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0; /* run: bytes at p[i-run..i) still to copy */
	int r = 0;
	while (i < n && !r) {
		/* ASCII other than NUL and CR, the bulk of most text, as one run. */
		size_t a = i;
		while (a < n && (unsigned)p[a] - 1u < 0x7Fu && p[a] != '\r')
			a++;
		run += a - i;
		i = a;
		if (i == n)
			break;
		unsigned char c = p[i];
		size_t k = c ? utf8_seq(p + i, n - i) : 0;
		if (k > 0 && !(newlines && c == '\r')) {
			i += k;
			run += k;
			continue;
		}
		r = ca_buf_append(b, p + i - run, run);
		run = 0;
		if (r)
			break;
		if (c == '\r') {
			r = ca_buf_append(b, "\n", 1);
			i += i + 1 < n && p[i + 1] == '\n' ? 2 : 1;
		} else if (c == 0) {
			i++;
		} else {
			char two[2] = { (char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F)) };
			r = ca_buf_append(b, two, 2);
			i++;
			if (repaired)
				*repaired = true;
		}
	}
	if (!r)
		r = ca_buf_append(b, p + i - run, run);
	return r;
}

/* Heap copy of s as valid UTF-8 (see append_utf8); NULL only on ENOMEM or
 * when s is NULL. */
static char *dup_utf8(const char *s)
{
	if (!s)
		return NULL;
	ca_buf b;
	ca_buf_init(&b);
	if (append_utf8(&b, s, strlen(s), false, NULL) < 0) {
		ca_buf_done(&b);
		return NULL;
	}
	return ca_buf_steal(&b);
}

static bool charset_is_utf8_compatible(const char *cs)
{
	static const char *const names[] = { "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968",
					     "unknown-8bit", "x-unknown", "unknown", "default", "" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(names); i++)
		if (strcasecmp(cs, names[i]) == 0)
			return true;
	return false;
}

/*
 * Convert s[0..n) from `charset` to UTF-8 text appended to b, with line
 * breaks normalised to LF. An unknown charset, or bytes that are not valid in
 * the declared one, fall back to append_utf8's lossless repair.
 */
static int append_text(ca_buf *b, const char *charset, const char *s, size_t n, bool *repaired)
{
	if (!charset || charset_is_utf8_compatible(charset))
		return append_utf8(b, s, n, true, repaired);
	iconv_t cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		*repaired = true;
		return append_utf8(b, s, n, true, repaired);
	}
	ca_buf conv;
	ca_buf_init(&conv);
	char chunk[8192];
	char *in = (char *)s;
	size_t inleft = n;
	int r = 0;
	bool flushed = false;
	while (!r) {
		char *outp = chunk;
		size_t outleft = sizeof(chunk);
		size_t rc = inleft > 0 ? iconv(cd, &in, &inleft, &outp, &outleft)
				       : iconv(cd, NULL, NULL, &outp, &outleft);
		int e = errno;
		r = ca_buf_append(&conv, chunk, (size_t)(outp - chunk));
		if (r)
			break;
		if (rc != (size_t)-1) {
			if (inleft == 0) {
				if (flushed)
					break;
				flushed = true;
			}
			continue;
		}
		if (e == E2BIG)
			continue;
		/* EILSEQ / EINVAL: keep the offending byte as Latin-1 and go on. */
		if (inleft == 0)
			break;
		char two[2] = { (char)(0xC0 | ((unsigned char)*in >> 6)), (char)(0x80 | ((unsigned char)*in & 0x3F)) };
		if ((unsigned char)*in < 0x80)
			r = ca_buf_append(&conv, in, 1);
		else
			r = ca_buf_append(&conv, two, 2);
		in++;
		inleft--;
		*repaired = true;
	}
	g_mime_iconv_close(cd);
	/* iconv's UTF-8 is well-formed; this pass only fixes line breaks and NULs. */
	if (!r)
		r = append_utf8(b, conv.data ? conv.data : "", conv.len, true, NULL);
	ca_buf_done(&conv);
	return r;
}

/* ---- a GMime 3.2.13 workaround ---- */

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/' || c == '=';
}

/*
 * GMime 3.2.13 joins the payloads of adjacent B-encoded words of one charset
 * before decoding them, and its base64 decoder stops at the first '=' pad, so
 * "=?UTF-8?B?w6k=?= =?UTF-8?B?w6g=?=" decodes to "é" (GMime issue #133; such
 * words are what Thunderbird and Outlook write for long subjects). Rewriting
 * each padded B-word that another encoded word follows into the equivalent
 * Q-word sidesteps it and keeps GMime's joining of multi-byte characters
 * split across words. s[0..n) is raw header text. Returns 0 with *ret NULL
 * when nothing needs rewriting, else a heap copy (caller frees) in *ret.
 * Linear: a failed word is never rescanned.
 */
static int fix_b_words(const char *s, size_t n, char **ret, size_t *ret_n)
{
	ca_buf b;
	ca_buf_init(&b);
	size_t last = 0, i = 0;
	int r = 0;
	*ret = NULL;
	while (i + 1 < n && !r) {
		const char *q = memchr(s + i, '=', n - i - 1);
		if (!q)
			break;
		i = (size_t)(q - s);
		if (s[i + 1] != '?') {
			i++;
			continue;
		}
		size_t j = i + 2;
		while (j < n && j - i < 80 && s[j] != '?' && s[j] != ' ' && s[j] != '\t' && s[j] != '\n')
			j++;
		if (j + 2 >= n || j == i + 2 || s[j] != '?' || (s[j + 1] != 'B' && s[j + 1] != 'b') ||
		    s[j + 2] != '?') {
			i += 2;
			continue;
		}
		size_t k = j + 3;
		while (k < n && b64_char(s[k]))
			k++;
		if (k + 1 >= n || s[k] != '?' || s[k + 1] != '=') {
			/* No "=?" can start inside the base64 run just read. */
			i = k > i + 3 ? k - 1 : i + 2;
			continue;
		}
		size_t end = k + 2, m = end;
		while (m < n && (s[m] == ' ' || s[m] == '\t' || s[m] == '\r' || s[m] == '\n'))
			m++;
		bool padded = k > j + 3 && s[k - 1] == '=';
		bool followed = m + 1 < n && s[m] == '=' && s[m + 1] == '?';
		if (!padded || !followed) {
			i = end;
			continue;
		}
		char *payload = g_strndup(s + j + 3, k - (j + 3));
		gsize dn = 0;
		guchar *dec = g_base64_decode(payload, &dn);
		g_free(payload);
		r = ca_buf_append(&b, s + last, i - last);
		if (!r)
			r = ca_buf_append(&b, s + i, j - i); /* "=?charset" */
		if (!r)
			r = ca_buf_puts(&b, "?Q?");
		for (gsize x = 0; x < dn && !r; x++) {
			unsigned char c = dec[x];
			bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
			r = plain ? ca_buf_append(&b, &c, 1) : ca_buf_printf(&b, "=%02X", c);
		}
		if (!r)
			r = ca_buf_puts(&b, "?=");
		g_free(dec);
		last = i = end;
	}
	if (!r && b.data) {
		r = ca_buf_append(&b, s + last, n - last);
		if (!r) {
			*ret_n = b.len;
			*ret = ca_buf_steal(&b);
			return *ret ? 0 : CA_ENOMEM;
		}
	}
	ca_buf_done(&b);
	return r;
}

/*
 * GMime looks for the "?=" that ends an encoded word from every "=?" it
 * meets, to the end of the header, so a header with many "=?" and no "?="
 * after them costs quadratic time (about a minute for 2 MB). Per logical
 * line (a line and its folded continuations), after the last "?=", at most
 * GUARD_KEEP such starts are left; further ones become "=_" and stay text,
 * which GMime would have made of them anyway. Those can only occur in junk.
 * With patch NULL this only counts; else it writes into patch (which may be
 * s itself). Linear: every byte is looked at a bounded number of times.
 */
#define GUARD_KEEP 8

static size_t guard_rfc2047(const char *s, size_t n, char *patch)
{
	size_t changes = 0, i = 0;
	while (i < n) {
		size_t e = i;
		for (;;) {
			const char *nl = memchr(s + e, '\n', n - e);
			if (!nl) {
				e = n;
				break;
			}
			e = (size_t)(nl - s) + 1;
			if (e < n && (s[e] == ' ' || s[e] == '\t'))
				continue;
			break;
		}
		if (!memchr(s + i, '?', e - i)) {
			i = e; /* no "=?" and no "?=" in this line */
			continue;
		}
		size_t from = i;
		for (size_t k = e; k >= i + 2; k--) {
			if (s[k - 2] == '?' && s[k - 1] == '=') {
				from = k;
				break;
			}
		}
		size_t starts = 0;
		for (size_t k = from; k + 1 < e; k++) {
			if (s[k] == '=' && s[k + 1] == '?' && ++starts > GUARD_KEEP) {
				if (patch)
					patch[k + 1] = '_';
				changes++;
			}
		}
		i = e;
	}
	return changes;
}

/* ---- small helpers ---- */

typedef struct parse_ctx {
	ca_buf warn;
	unsigned n_warn;
	unsigned gmime_seen; /* bitmask of GMime warning codes already reported */
	int err;
} parse_ctx;

static void warn(parse_ctx *pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(parse_ctx *pc, const char *fmt, ...)
{
	if (pc->n_warn >= MAX_WARNINGS || pc->err)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((pc->warn.len && ca_buf_puts(&pc->warn, "; ") < 0) || ca_buf_puts(&pc->warn, line) < 0)
		pc->err = CA_ENOMEM;
	pc->n_warn++;
}

static void gmime_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer ud)
{
	parse_ctx *pc = ud;
	const char *what = NULL;
	switch (code) {
	case GMIME_WARN_INVALID_CONTENT_TYPE: what = "invalid Content-Type"; break;
	case GMIME_WARN_MALFORMED_MULTIPART: what = "multipart without parts"; break;
	case GMIME_WARN_TRUNCATED_MESSAGE: what = "message is truncated"; break;
	case GMIME_WARN_MALFORMED_MESSAGE: what = "malformed message"; break;
	case GMIME_CRIT_INVALID_HEADER_NAME: what = "invalid header name"; break;
	case GMIME_CRIT_CONFLICTING_HEADER: what = "conflicting header"; break;
	case GMIME_CRIT_CONFLICTING_PARAMETER: what = "conflicting header parameter"; break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: what = "multipart without boundary"; break;
	case GMIME_CRIT_NESTING_OVERFLOW: what = "MIME nesting too deep"; break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: what = "part without headers or content"; break;
	default: return; /* duplicated headers, 8-bit headers...: normal mail */
	}
	if ((unsigned)code < 32 && (pc->gmime_seen & (1u << code)))
		return;
	if ((unsigned)code < 32)
		pc->gmime_seen |= 1u << code;
	if (offset >= 0)
		warn(pc, "%s at byte %lld", what, (long long)offset);
	else
		warn(pc, "%s", what);
}

/* Decoded value of the first header called `name`, or NULL. Borrowed from o. */
static const char *header(GMimeObject *o, const char *name)
{
	return g_mime_object_get_header(o, name);
}

static bool ct_is(GMimeObject *o, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static void ascii_lower(char *s)
{
	for (; s && *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* "Header: value" for auto_reason, the value cut at a character boundary. */
static char *reason(const char *name, const char *value)
{
	ca_buf b;
	ca_buf_init(&b);
	size_t n = value ? strlen(value) : 0;
	n = ca_utf8_cut(value, n, REASON_MAX);
	int r = ca_buf_puts(&b, name);
	if (!r && value)
		r = ca_buf_puts(&b, ": ");
	if (!r && value)
		r = append_utf8(&b, value, n, false, NULL);
	if (r) {
		ca_buf_done(&b);
		return NULL;
	}
	/* Header values are unfolded but may keep tabs; keep the reason one line. */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n' || b.data[i] == '\t')
			b.data[i] = ' ';
	return ca_buf_steal(&b);
}

/* ---- header block check ---- */

/* A header field name (RFC 5322 §2.2: printable ASCII but ':') then ':'. */
static bool field_line(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127 && p[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/*
 * Is raw[0..len) a message at all? Skips an mbox "From " line, then requires
 * the first line to be a header field and no NUL byte before the end of the
 * header block. *ret_skip is where the message proper starts.
 */
static int check_header_block(const char *raw, size_t len, size_t *ret_skip, size_t *ret_hend, ca_err *err)
{
	if (len == 0)
		return ca_err_set(err, CA_EPARSE, NULL, "not an e-mail message: the input is empty");
	size_t pos = 0;
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *e = memchr(raw, '\n', len);
		pos = e ? (size_t)(e - raw) + 1 : len;
	}
	if (pos >= len)
		return ca_err_set(err, CA_EPARSE, NULL, "not an e-mail message: no header block");
	size_t first_end;
	{
		const char *e = memchr(raw + pos, '\n', len - pos);
		first_end = e ? (size_t)(e - raw) : len;
	}
	if (!field_line(raw + pos, first_end - pos))
		return ca_err_set(err, CA_EPARSE, NULL,
				  "not an e-mail message: no header block (the first line is not a header field)");
	/* The header block ends at the first empty line. */
	size_t hend = len;
	for (size_t i = pos; i < len; i++) {
		if (raw[i] == '\0')
			return ca_err_set(err, CA_EPARSE, NULL,
					  "not an e-mail message: NUL byte in the header block at byte %zu", i);
		if (raw[i] == '\n' && (i + 1 == len || raw[i + 1] == '\n' ||
				       (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n'))) {
			hend = i + 1;
			break;
		}
	}
	*ret_skip = pos;
	*ret_hend = hend;
	return 0;
}

/* ---- addresses ---- */

static int set_address(ca_address *a, InternetAddress *ia)
{
	const char *name = internet_address_get_name(ia);
	if (name && *name) {
		a->name = dup_utf8(name);
		if (!a->name)
			return CA_ENOMEM;
	}
	if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		if (addr && *addr) {
			a->email = dup_utf8(addr);
			if (!a->email)
				return CA_ENOMEM;
			/* Every comparison downstream (own addresses, threads, rate
			 * and response limits, contacts) wants the one normalised
			 * form; an address without a domain stays as written. */
			char *key = NULL;
			int r = ca_email_addr_key(a->email, &key);
			if (r == CA_ENOMEM)
				return r;
			if (r == 0) {
				free(a->email);
				a->email = key;
			} else {
				ascii_lower(strrchr(a->email, '@'));
			}
		}
	}
	return 0;
}

static void address_done(ca_address *a)
{
	free(a->name);
	free(a->email);
	a->name = a->email = NULL;
}

/* Number of mailboxes in a list, groups flattened (groups do not nest,
 * RFC 5322 §3.4, so one level is all there is to see). */
static size_t count_mailboxes(InternetAddressList *l, int depth)
{
	size_t n = 0;
	int k = l ? internet_address_list_length(l) : 0;
	for (int i = 0; i < k; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (depth < 2)
				n += count_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
						     depth + 1);
		} else {
			n++;
		}
	}
	return n;
}

static int fill_mailboxes(InternetAddressList *l, int depth, ca_address *v, size_t *i, size_t cap)
{
	int k = l ? internet_address_list_length(l) : 0;
	for (int j = 0; j < k && *i < cap; j++) {
		InternetAddress *ia = internet_address_list_get_address(l, j);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (depth < 2) {
				int r = fill_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
						       depth + 1, v, i, cap);
				if (r)
					return r;
			}
			continue;
		}
		int r = set_address(&v[*i], ia);
		(*i)++; /* counted even on failure so ca_email_done frees it */
		if (r)
			return r;
	}
	return 0;
}

static int address_list(InternetAddressList *l, ca_address **ret_v, size_t *ret_n)
{
	size_t n = count_mailboxes(l, 0);
	*ret_v = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	ca_address *v = calloc(n, sizeof(*v));
	if (!v)
		return CA_ENOMEM;
	size_t i = 0;
	int r = fill_mailboxes(l, 0, v, &i, n);
	*ret_v = v;
	*ret_n = i;
	return r;
}

static int first_mailbox(InternetAddressList *l, ca_address *a)
{
	ca_address *v;
	size_t n;
	int r = address_list(l, &v, &n);
	if (n > 0) {
		*a = v[0];
		for (size_t i = 1; i < n; i++)
			address_done(&v[i]);
	}
	free(v);
	return r;
}

/* ---- message ids ---- */

/* First msg-id in a header value, without brackets; NULL when none. */
static char *first_msgid(const char *value, GMimeParserOptions *opts, int *r)
{
	if (!value)
		return NULL;
	GMimeReferences *refs = g_mime_references_parse(opts, value);
	char *id = NULL;
	if (refs && g_mime_references_length(refs) > 0)
		id = g_strdup(g_mime_references_get_message_id(refs, 0));
	else /* no <...>: GMime's lenient reading of a bare id */
		id = g_mime_utils_decode_message_id(value);
	if (refs)
		g_mime_references_free(refs);
	char *res = NULL;
	if (id && *id && !(res = dup_utf8(id)))
		*r = CA_ENOMEM;
	g_free(id);
	return res;
}

/* ---- the MIME walk ---- */

typedef struct walk {
	GMimeParserOptions *opts;
	parse_ctx *pc;
	ca_buf plain;
	bool plain_repaired;
	GPtrArray *html;           /* GMimePart* of inline HTML bodies, borrowed */
	ca_attachment *att;
	size_t n_att, cap_att;
	bool dsn_report;           /* a multipart/report; report-type=delivery-status */
	bool mdn_report;           /* ... report-type=disposition-notification */
	char *report_msgid;        /* Message-ID of the first attached message / headers */
	unsigned parts;
	bool depth_warned, parts_warned;
	int err;
} walk;

/* The decoded (transfer encoding removed) bytes of a part, in a heap buffer
 * that always has a NUL after the last byte. */
static int part_bytes(GMimePart *part, char **ret, size_t *ret_n)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	if (w)
		/* A short write still leaves what was decoded; nothing more to save. */
		(void)g_mime_data_wrapper_write_to_stream(w, mem);
	GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	size_t n = arr ? arr->len : 0;
	char *p = malloc(n + 1);
	if (!p) {
		g_object_unref(mem);
		return CA_ENOMEM;
	}
	if (n)
		memcpy(p, arr->data, n);
	p[n] = '\0';
	g_object_unref(mem);
	*ret = p;
	*ret_n = n;
	return 0;
}

static int add_attachment(walk *w, GMimeObject *o, const char *filename, char *data, size_t n)
{
	if (w->n_att == w->cap_att) {
		size_t cap = w->cap_att ? w->cap_att * 2 : 4;
		ca_attachment *v = realloc(w->att, cap * sizeof(*v));
		if (!v) {
			free(data);
			return CA_ENOMEM;
		}
		w->att = v;
		w->cap_att = cap;
	}
	ca_attachment *a = &w->att[w->n_att++];
	memset(a, 0, sizeof(*a));
	a->content = (unsigned char *)data;
	a->size = n;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	/* g_checksum_update takes a gssize; feed very large parts in slices. */
	for (size_t off = 0; off < n;) {
		size_t k = n - off > ((size_t)1 << 30) ? ((size_t)1 << 30) : n - off;
		g_checksum_update(ck, (const guchar *)data + off, (gssize)k);
		off += k;
	}
	const char *hex = g_checksum_get_string(ck);
	snprintf(a->sha256, sizeof(a->sha256), "%s", hex ? hex : "");
	g_checksum_free(ck);
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->content_type = dup_utf8(mt ? mt : "application/octet-stream");
	g_free(mt);
	if (!a->content_type)
		return CA_ENOMEM;
	ascii_lower(a->content_type);
	if (filename && *filename) {
		a->filename = dup_utf8(filename);
		if (!a->filename)
			return CA_ENOMEM;
	}
	return 0;
}

/* Message-ID found in a text/rfc822-headers part (RFC 3462 §2), through
 * GMime's parser so folding and comments are handled. */
static char *msgid_from_headers(const char *data, size_t n, GMimeParserOptions *opts, int *r)
{
	/* The part was transfer-encoded, so the guard has not seen it yet. The
	 * stream takes its own copy, patched here when needed. */
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, n);
	if (guard_rfc2047(data, n, NULL) > 0) {
		GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
		guard_rfc2047((const char *)arr->data, arr->len, (char *)arr->data);
	}
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, opts);
	char *id = NULL;
	if (m) {
		const char *v = g_mime_message_get_message_id(m);
		if (v && *v) {
			id = dup_utf8(v);
			if (!id)
				*r = CA_ENOMEM;
		}
		g_object_unref(m);
	}
	g_object_unref(p);
	g_object_unref(s);
	return id;
}

static void walk_part(walk *w, GMimeObject *o, int depth);

static void walk_multipart(walk *w, GMimeMultipart *mp, int depth)
{
	GMimeObject *o = GMIME_OBJECT(mp);
	if (ct_is(o, "multipart", "report")) {
		const char *rt = g_mime_object_get_content_type_parameter(o, "report-type");
		if (rt && strcasecmp(rt, "delivery-status") == 0)
			w->dsn_report = true;
		else if (rt && strcasecmp(rt, "disposition-notification") == 0)
			w->mdn_report = true;
	}
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n && !w->err; i++)
		walk_part(w, g_mime_multipart_get_part(mp, i), depth + 1);
}

static void walk_message_part(walk *w, GMimeMessagePart *mpart)
{
	GMimeObject *o = GMIME_OBJECT(mpart);
	GMimeMessage *inner = g_mime_message_part_get_message(mpart);
	if (inner && !w->report_msgid) {
		const char *id = g_mime_message_get_message_id(inner);
		if (id && *id && !(w->report_msgid = dup_utf8(id))) {
			w->err = CA_ENOMEM;
			return;
		}
	}
	/* An attached message is kept whole, as GMime writes it back. */
	GMimeStream *mem = g_mime_stream_mem_new();
	if (inner)
		(void)g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem); /* partial is fine */
	GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	size_t n = arr ? arr->len : 0;
	char *data = malloc(n + 1);
	if (!data) {
		g_object_unref(mem);
		w->err = CA_ENOMEM;
		return;
	}
	if (n)
		memcpy(data, arr->data, n);
	data[n] = '\0';
	g_object_unref(mem);
	const char *fn = g_mime_object_get_content_disposition_parameter(o, "filename");
	if (!fn)
		fn = g_mime_object_get_content_type_parameter(o, "name");
	int r = add_attachment(w, o, fn, data, n);
	if (r)
		w->err = r;
}

/*
 * The attachment name read again from the raw header when GMime's decoding of
 * it would meet the B-word problem (see fix_b_words); NULL when GMime's own
 * value is right. Disposition filename first, then Content-Type name, the
 * order g_mime_part_get_filename uses.
 */
static char *refixed_filename(GMimeObject *o, GMimeParserOptions *opts, int *r)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	static const char *const hdr[] = { "Content-Disposition", "Content-Type" };
	static const char *const param[] = { "filename", "name" };
	for (int i = 0; i < 2 && hl; i++) {
		GMimeHeader *h = g_mime_header_list_get_header(hl, hdr[i]);
		const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
		if (!raw)
			continue;
		char *fx = NULL;
		size_t fn;
		if ((*r = fix_b_words(raw, strlen(raw), &fx, &fn)) < 0)
			return NULL;
		const char *v = NULL;
		char *res = NULL;
		if (!fx) {
			v = i == 0 ? g_mime_object_get_content_disposition_parameter(o, param[i])
				   : g_mime_object_get_content_type_parameter(o, param[i]);
			if (v)
				return NULL; /* GMime's value stands */
			continue;
		}
		if (i == 0) {
			GMimeContentDisposition *d = g_mime_content_disposition_parse(opts, fx);
			if (d && (v = g_mime_content_disposition_get_parameter(d, param[i])))
				res = dup_utf8(v);
			if (d)
				g_object_unref(d);
		} else {
			GMimeContentType *ct = g_mime_content_type_parse(opts, fx);
			if (ct && (v = g_mime_content_type_get_parameter(ct, param[i])))
				res = dup_utf8(v);
			if (ct)
				g_object_unref(ct);
		}
		free(fx);
		if (v && !res)
			*r = CA_ENOMEM;
		if (v)
			return res;
	}
	return NULL;
}

static void walk_leaf_named(walk *w, GMimePart *part, const char *filename);

static void walk_leaf(walk *w, GMimePart *part)
{
	GMimeObject *o = GMIME_OBJECT(part);
	int fr = 0;
	char *fixed_name = refixed_filename(o, w->opts, &fr);
	if (fr) {
		w->err = fr;
		return;
	}
	walk_leaf_named(w, part, fixed_name ? fixed_name : g_mime_part_get_filename(part));
	free(fixed_name);
}

static void walk_leaf_named(walk *w, GMimePart *part, const char *filename)
{
	GMimeObject *o = GMIME_OBJECT(part);
	const char *disp = g_mime_object_get_disposition(o);
	bool attachment = (disp && strcasecmp(disp, "attachment") == 0) || (filename && *filename);
	bool plain = ct_is(o, "text", "plain"), html = ct_is(o, "text", "html");
	if (!attachment && html) {
		if (!w->html)
			w->html = g_ptr_array_new();
		g_ptr_array_add(w->html, part);
		return;
	}
	char *data;
	size_t n;
	int r = part_bytes(part, &data, &n);
	if (r) {
		w->err = r;
		return;
	}
	if (!attachment && plain) {
		const char *cs = g_mime_object_get_content_type_parameter(o, "charset");
		if (w->plain.len > 0 && w->plain.data[w->plain.len - 1] != '\n')
			r = ca_buf_append(&w->plain, "\n", 1);
		if (!r)
			r = append_text(&w->plain, cs, data, n, &w->plain_repaired);
		free(data);
		if (r)
			w->err = r;
		return;
	}
	/* RFC 6522 says text/rfc822-headers; some MTAs write message/rfc822-headers. */
	if ((ct_is(o, "text", "rfc822-headers") || ct_is(o, "message", "rfc822-headers")) && !w->report_msgid) {
		w->report_msgid = msgid_from_headers(data, n, w->opts, &r);
		if (r) {
			free(data);
			w->err = r;
			return;
		}
	}
	r = add_attachment(w, o, filename, data, n);
	if (r)
		w->err = r;
}

static void walk_part(walk *w, GMimeObject *o, int depth)
{
	if (!o || w->err)
		return;
	if (depth > MAX_DEPTH) {
		if (!w->depth_warned)
			warn(w->pc, "MIME parts nested deeper than %d were skipped", MAX_DEPTH);
		w->depth_warned = true;
		return;
	}
	if (++w->parts > MAX_PARTS) {
		if (!w->parts_warned)
			warn(w->pc, "only the first %d MIME parts were read", MAX_PARTS);
		w->parts_warned = true;
		return;
	}
	if (GMIME_IS_MULTIPART(o))
		walk_multipart(w, GMIME_MULTIPART(o), depth);
	else if (GMIME_IS_MESSAGE_PART(o))
		walk_message_part(w, GMIME_MESSAGE_PART(o));
	else if (GMIME_IS_PART(o))
		walk_leaf(w, GMIME_PART(o));
}

static bool all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n\f\v", s[i]))
			return false;
	return true;
}

/* The body text: inline text/plain when it says anything, else the inline
 * HTML parts turned into text. */
static int body_text(walk *w, ca_email *e)
{
	int r = 0;
	if (!all_blank(w->plain.data ? w->plain.data : "", w->plain.len) || !w->html || w->html->len == 0) {
		if (w->plain_repaired)
			warn(w->pc, "body text was not valid in its charset; repaired as Latin-1/UTF-8");
		e->text = ca_buf_steal(&w->plain);
		return e->text ? 0 : CA_ENOMEM;
	}
	ca_buf out;
	ca_buf_init(&out);
	bool repaired = false;
	for (guint i = 0; i < w->html->len && !r; i++) {
		GMimePart *part = g_ptr_array_index(w->html, i);
		char *data;
		size_t n;
		if ((r = part_bytes(part, &data, &n)) < 0)
			break;
		ca_buf html;
		ca_buf_init(&html);
		const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
		r = append_text(&html, cs, data, n, &repaired);
		free(data);
		if (r) {
			ca_buf_done(&html);
			break;
		}
		char *t = ca_html_to_text(html.data ? html.data : "", html.len);
		ca_buf_done(&html);
		if (!t) {
			r = CA_ENOMEM;
			break;
		}
		if (*t && out.len > 0)
			r = ca_buf_puts(&out, "\n\n");
		if (!r)
			r = ca_buf_puts(&out, t);
		free(t);
	}
	if (r) {
		ca_buf_done(&out);
		return r;
	}
	if (repaired)
		warn(w->pc, "HTML body was not valid in its charset; repaired as Latin-1/UTF-8");
	e->text = ca_buf_steal(&out);
	e->text_from_html = true;
	return e->text ? 0 : CA_ENOMEM;
}

/* ---- headers as JSON ---- */

static int headers_json(GMimeObject *o, json_t **ret)
{
	json_t *h = json_object();
	if (!h)
		return CA_ENOMEM;
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int count = hl ? g_mime_header_list_get_count(hl) : 0;
	for (int i = 0; i < count; i++) {
		GMimeHeader *hd = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(hd);
		if (!name || !*name)
			continue;
		char *key = dup_utf8(name);
		const char *v = g_mime_header_get_value(hd);
		char *val = dup_utf8(v ? v : "");
		if (!key || !val) {
			free(key);
			free(val);
			json_decref(h);
			return CA_ENOMEM;
		}
		ascii_lower(key);
		json_t *js = json_string(val);
		free(val);
		if (!js) {
			free(key);
			json_decref(h);
			return CA_ENOMEM;
		}
		json_t *old = json_object_get(h, key);
		int rc;
		if (!old) {
			rc = json_object_set_new(h, key, js);
		} else if (json_is_array(old)) {
			rc = json_array_append_new(old, js);
		} else {
			/* A repeated header: the value becomes a list, in order. The
			 * *_new calls take the reference even when they fail. */
			json_t *arr = json_array();
			if (!arr || json_array_append(arr, old) < 0) {
				json_decref(arr);
				json_decref(js);
				rc = -1;
			} else if (json_array_append_new(arr, js) < 0) {
				json_decref(arr);
				rc = -1;
			} else {
				rc = json_object_set_new(h, key, arr);
			}
		}
		free(key);
		if (rc) {
			json_decref(h);
			return CA_ENOMEM;
		}
	}
	*ret = h;
	return 0;
}

/* ---- automatic mail ---- */

static bool starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

static bool is_reply_subject(const char *subject)
{
	static const char *const prefixes[] = { "re:", "re :", "aw:", "sv:", "antw:", "odp:", "ref:", "rif:" };
	const char *s = skip_ws(subject);
	for (size_t i = 0; i < CA_ARRAY_SIZE(prefixes); i++)
		if (starts_ci(s, prefixes[i]))
			return true;
	return false;
}

/* An out-of-office subject: one of the wordings below at its start (after
 * a "[" or "("), or, not in a reply, Lotus Notes' "<name> is out of the
 * office." anywhere after the list tags ("[list] Kim is out of the
 * office"); "Re: Kim is out of the office" is a person's reply to one. */
static bool ooo_subject(const char *subject)
{
	static const char *const prefixes[] = {
		"out of office", "out of the office", "automatic reply", "auto reply", "autoreply",
		"auto-reply", "auto response", "auto-response", "autoresponse", "auto:", "autosvar",
		"automatisch antwoord", "automatische antwort", "abwesenheitsnotiz", "abwesend",
		"réponse automatique", "reponse automatique", "absence du bureau", "respuesta automática",
		"respuesta automatica", "fuera de la oficina", "risposta automatica", "fuori sede",
		"resposta automática", "automatisk svar", "poza biurem", "odpowiedź automatyczna",
		"vacation reply", "on vacation",
	};
	const char *s = skip_ws(subject);
	if (*s == '[' || *s == '(') /* "[Out of Office]", "(Automatic reply)" */
		s = skip_ws(s + 1);
	for (size_t i = 0; i < CA_ARRAY_SIZE(prefixes); i++)
		if (starts_ci(s, prefixes[i]))
			return true;
	s = skip_ws(subject);
	while (*s == '[') { /* list tags */
		const char *e = strchr(s, ']');
		if (!e)
			break;
		s = skip_ws(e + 1);
	}
	if (is_reply_subject(s))
		return false;
	for (; *s; s++)
		if (starts_ci(s, " is out of the office"))
			return true;
	return false;
}

bool ca_email_subject_auto(const char *subject)
{
	return subject && ooo_subject(subject);
}

static bool bounce_subject(const char *subject)
{
	static const char *const prefixes[] = {
		"undeliverable", "undelivered mail", "delivery status notification", "delivery failure",
		"mail delivery failed", "mail delivery failure", "returned mail", "failure notice",
		"delivery has failed", "message not delivered", "unzustellbar", "non remis",
		"nondeliverable", "could not send message", "mail system error",
	};
	const char *s = skip_ws(subject);
	for (size_t i = 0; i < CA_ARRAY_SIZE(prefixes); i++)
		if (starts_ci(s, prefixes[i]))
			return true;
	return false;
}

/* Trimmed first token of a header value, lower-cased, in out. */
static void token(const char *v, char *out, size_t cap)
{
	v = skip_ws(v);
	size_t i = 0;
	while (v[i] && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '(' && i + 1 < cap) {
		char c = v[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		i++;
	}
	out[i] = '\0';
}

static bool local_part_is(const char *email, const char *local)
{
	if (!email)
		return false;
	size_t k = strlen(local);
	return strncasecmp(email, local, k) == 0 && email[k] == '@';
}

/*
 * Classify automatic mail. Order matters: a delivery report is a bounce
 * whatever else it says; Auto-Submitted (RFC 3834) names the kind, which an
 * out-of-office subject refines; then out-of-office wording alone,
 * X-Auto-Response-Suppress, read receipts, the X-Autoreply family; a
 * Precedence header is the weakest signal. "Precedence: list" (and a
 * List-Id) only says that a list relayed the message, which a person may
 * have written: e->via_list, not automatic (a support address that is a
 * Google group or a list adds it to every customer's mail; osTicket's
 * users lost replies to the same rule). "Precedence: bulk" or "junk" stays
 * automatic, also with a List-Id: it marks newsletters, and Mailman puts it
 * on every post (docs/settings.md says what that means for a support
 * address behind Mailman).
 */
static int detect_auto(GMimeObject *m, ca_email *e, const walk *w)
{
	const char *v;
	char tok[32];
	ca_auto_kind kind = CA_AUTO_NONE;
	char *why = NULL;
	const char *subject = e->subject ? e->subject : "";
	const char *rp = header(m, "Return-Path");
	bool null_sender = rp && strcmp(skip_ws(rp), "<>") == 0;
	const char *precedence = header(m, "Precedence");
	char prec[32] = "";
	if (precedence)
		token(precedence, prec, sizeof(prec));

	if (w->dsn_report) {
		kind = CA_AUTO_BOUNCE;
		why = reason("Content-Type", "multipart/report; report-type=delivery-status");
	} else if ((v = header(m, "X-Failed-Recipients"))) {
		kind = CA_AUTO_BOUNCE;
		why = reason("X-Failed-Recipients", v);
	} else if (local_part_is(e->from.email, "mailer-daemon") ||
		   (e->from.name && starts_ci(e->from.name, "Mail Delivery S"))) {
		kind = CA_AUTO_BOUNCE;
		why = reason("From", e->from.email ? e->from.email : e->from.name);
	} else if (bounce_subject(subject) && (null_sender || local_part_is(e->from.email, "postmaster"))) {
		kind = CA_AUTO_BOUNCE;
		why = reason("Subject", subject);
	} else if ((v = header(m, "Auto-Submitted")) && (token(v, tok, sizeof(tok)), tok[0]) &&
		   strcmp(tok, "no") != 0) {
		/* RFC 3834 says what it is; an out-of-office subject only refines it. */
		kind = ooo_subject(subject)		? CA_AUTO_OOO
		       : strcmp(tok, "auto-replied") == 0 ? CA_AUTO_REPLY
							  : CA_AUTO_GENERATED;
		why = reason("Auto-Submitted", v);
	} else if (ooo_subject(subject)) {
		kind = CA_AUTO_OOO;
		why = reason("Subject", subject);
	} else if ((v = header(m, "X-Auto-Response-Suppress")) && *skip_ws(v)) {
		/* The sender asks for no automatic answer: mail that a program
		 * sent, never a request of a person's (issue: no case, no
		 * response). On a reply it is an automatic answer itself. */
		kind = header(m, "In-Reply-To") || is_reply_subject(subject) ? CA_AUTO_REPLY : CA_AUTO_GENERATED;
		why = reason("X-Auto-Response-Suppress", v);
	} else if (w->mdn_report) {
		kind = CA_AUTO_GENERATED;
		why = reason("Content-Type", "multipart/report; report-type=disposition-notification");
	} else {
		static const char *const autoreply[] = { "X-Autoreply", "X-Autorespond", "X-Autoresponder",
							 "X-Auto-Reply", "X-Mail-Autoreply", "X-Autoreply-From",
							 "X-Autogenerated" };
		for (size_t i = 0; i < CA_ARRAY_SIZE(autoreply) && kind == CA_AUTO_NONE; i++) {
			if (!(v = header(m, autoreply[i])))
				continue;
			token(v, tok, sizeof(tok));
			if (strcmp(tok, "no") == 0 || strcmp(tok, "false") == 0 || strcmp(tok, "0") == 0)
				continue;
			/* X-Autogenerated: Reply is an answer; Forward/Group/Mirror are not. */
			kind = i == CA_ARRAY_SIZE(autoreply) - 1 && strcmp(tok, "reply") != 0 ? CA_AUTO_GENERATED
											   : CA_AUTO_REPLY;
			why = reason(autoreply[i], v);
		}
		if (kind == CA_AUTO_NONE && precedence) {
			if (strcmp(prec, "bulk") == 0 || strcmp(prec, "junk") == 0) {
				kind = CA_AUTO_GENERATED;
				why = reason("Precedence", precedence);
			} else if (strcmp(prec, "auto_reply") == 0 || strcmp(prec, "auto-reply") == 0) {
				kind = CA_AUTO_REPLY;
				why = reason("Precedence", precedence);
			}
		}
	}
	if (kind != CA_AUTO_NONE && !why)
		return CA_ENOMEM;
	e->via_list = header(m, "List-Id") || strcmp(prec, "list") == 0;
	e->auto_kind = kind;
	e->auto_reason = why;
	return 0;
}

/* A bounce that is not an RFC 3464 report often quotes the original headers
 * in its text (qmail, old Exchange): the first "Message-ID:" line there. */
static char *msgid_in_text(const char *text, GMimeParserOptions *opts, int *r)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		const char *s = p;
		while (*s == ' ' || *s == '\t' || *s == '>')
			s++;
		if (strncasecmp(s, "Message-ID:", 11) == 0) {
			size_t n = nl ? (size_t)(nl - (s + 11)) : strlen(s + 11);
			char *line = strndup(s + 11, n);
			if (!line) {
				*r = CA_ENOMEM;
				return NULL;
			}
			char *id = first_msgid(line, opts, r);
			free(line);
			if (id || *r)
				return id;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* ---- parse ---- */

void ca_email_done(ca_email *e)
{
	if (!e)
		return;
	free(e->message_id);
	free(e->in_reply_to);
	ca_strv_done(&e->references);
	address_done(&e->from);
	address_done(&e->reply_to);
	for (size_t i = 0; i < e->n_to; i++)
		address_done(&e->to[i]);
	for (size_t i = 0; i < e->n_cc; i++)
		address_done(&e->cc[i]);
	free(e->to);
	free(e->cc);
	free(e->subject);
	json_decref(e->headers);
	free(e->text);
	free(e->reply_text);
	for (size_t i = 0; i < e->n_attachments; i++) {
		free(e->attachments[i].filename);
		free(e->attachments[i].content_type);
		free(e->attachments[i].content);
	}
	free(e->attachments);
	free(e->auto_reason);
	free(e->bounced_message_id);
	free(e->parse_warning);
	memset(e, 0, sizeof(*e));
}

static int fill(GMimeMessage *msg, GMimeParserOptions *opts, parse_ctx *pc, ca_email *e)
{
	GMimeObject *m = GMIME_OBJECT(msg);
	int r = 0;

	const char *id = g_mime_message_get_message_id(msg);
	if (id && *id && !(e->message_id = dup_utf8(id)))
		return CA_ENOMEM;
	e->in_reply_to = first_msgid(header(m, "In-Reply-To"), opts, &r);
	if (r)
		return r;
	const char *refs = header(m, "References");
	if (refs) {
		GMimeReferences *rl = g_mime_references_parse(opts, refs);
		int n = rl ? g_mime_references_length(rl) : 0;
		for (int i = 0; i < n && !r; i++)
			r = ca_strv_push(&e->references, g_mime_references_get_message_id(rl, i));
		if (rl)
			g_mime_references_free(rl);
		if (r)
			return r;
	}

	if ((r = first_mailbox(g_mime_message_get_from(msg), &e->from)) < 0 ||
	    (r = first_mailbox(g_mime_message_get_reply_to(msg), &e->reply_to)) < 0 ||
	    (r = address_list(g_mime_message_get_to(msg), &e->to, &e->n_to)) < 0 ||
	    (r = address_list(g_mime_message_get_cc(msg), &e->cc, &e->n_cc)) < 0)
		return r;

	const char *subj = g_mime_message_get_subject(msg);
	if (!(e->subject = dup_utf8(subj ? subj : "")))
		return CA_ENOMEM;

	GDateTime *dt = g_mime_message_get_date(msg);
	if (dt)
		e->date = g_date_time_to_unix(dt);
	else if (header(m, "Date"))
		warn(pc, "unparsable Date header");
	else
		warn(pc, "no Date header");

	if ((r = headers_json(m, &e->headers)) < 0)
		return r;

	walk w = { .opts = opts, .pc = pc };
	ca_buf_init(&w.plain);
	walk_part(&w, g_mime_message_get_mime_part(msg), 0);
	r = w.err;
	if (!r)
		r = body_text(&w, e);
	if (w.html)
		g_ptr_array_free(w.html, TRUE);
	ca_buf_done(&w.plain);
	/* Attachments go to e even on failure, so ca_email_done frees them. */
	e->attachments = w.att;
	e->n_attachments = w.n_att;
	if (r) {
		free(w.report_msgid);
		return r;
	}
	if (!e->text && !(e->text = ca_strdup("")))
		return CA_ENOMEM;
	if (!(e->reply_text = ca_email_reply_text(e->text))) {
		free(w.report_msgid);
		return CA_ENOMEM;
	}

	r = detect_auto(m, e, &w);
	if (!r && e->auto_kind == CA_AUTO_BOUNCE) {
		e->bounced_message_id = w.report_msgid;
		w.report_msgid = NULL;
		if (!e->bounced_message_id)
			e->bounced_message_id = msgid_in_text(e->text, opts, &r);
	}
	free(w.report_msgid);
	return r;
}

int ca_email_parse(const char *raw, size_t len, size_t max_bytes, ca_email *out, ca_err *err)
{
	if (!out || (!raw && len > 0))
		return ca_err_set(err, CA_EINVAL, NULL, "ca_email_parse: no input or no output");
	size_t max = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
	if (len > max)
		return ca_err_set(err, CA_ETOOBIG, NULL, "message of %zu bytes is larger than the limit of %zu bytes",
				  len, max);
	size_t skip = 0, hend = 0;
	int r = check_header_block(raw, len, &skip, &hend, err);
	if (r)
		return r;
	ca_email_global_init();
	/* GMime reads a copy in any case; when the header block needs the
	 * B-word rewrite or the encoded-word guard, that copy is the changed one. */
	char *fixed = NULL, *joined = NULL;
	size_t fixed_n = 0;
	const char *src = raw + skip;
	size_t src_n = len - skip;
	if (fix_b_words(raw + skip, hend - skip, &fixed, &fixed_n) < 0)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory parsing an e-mail message");
	if (fixed) {
		joined = malloc(fixed_n + (len - hend) + 1);
		if (!joined) {
			free(fixed);
			return ca_err_set(err, CA_ENOMEM, NULL, "out of memory parsing an e-mail message");
		}
		memcpy(joined, fixed, fixed_n);
		if (len > hend)
			memcpy(joined + fixed_n, raw + hend, len - hend);
		free(fixed);
		src = joined;
		src_n = fixed_n + (len - hend);
	}
	size_t guarded = guard_rfc2047(src, src_n, NULL);
	if (guarded > 0) {
		if (!joined) {
			if (!(joined = malloc(src_n + 1)))
				return ca_err_set(err, CA_ENOMEM, NULL, "out of memory parsing an e-mail message");
			memcpy(joined, src, src_n);
			src = joined;
		}
		guard_rfc2047(joined, src_n, joined);
	}

	parse_ctx pc = { .err = 0 };
	ca_buf_init(&pc.warn);
	if (guarded > 0)
		warn(&pc, "%zu unterminated RFC 2047 encoded-word starts left undecoded", guarded);
	GMimeParserOptions *opts = g_mime_parser_options_new();
	/* Real mail breaks the RFCs; read it the way mail clients do. A charset
	 * GMime cannot use for an 8-bit header is tried as UTF-8, then as
	 * windows-1252, the usual unlabelled legacy charset. */
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_warning_callback(opts, gmime_warning, &pc);

	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(src, src_n);
	free(joined);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, opts);

	ca_email e;
	memset(&e, 0, sizeof(e));
	if (!msg) {
		r = ca_err_set(err, CA_EPARSE, NULL, "not an e-mail message: GMime found no message in the input");
	} else {
		r = fill(msg, opts, &pc, &e);
		if (!r && pc.err)
			r = pc.err;
		if (!r && pc.warn.len && !(e.parse_warning = ca_buf_steal(&pc.warn)))
			r = CA_ENOMEM;
		if (r == CA_ENOMEM)
			ca_err_set(err, CA_ENOMEM, NULL, "out of memory parsing an e-mail message");
		else if (r)
			ca_err_set(err, r, NULL, "e-mail message could not be parsed");
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	/* The callback's user data lives on this stack frame: detach it. */
	g_mime_parser_options_set_warning_callback(opts, NULL, NULL);
	g_mime_parser_options_free(opts);
	ca_buf_done(&pc.warn);
	if (r) {
		ca_email_done(&e);
		return r;
	}
	*out = e;
	return 0;
}
