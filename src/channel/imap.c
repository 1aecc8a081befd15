/* SPDX-License-Identifier: MIT */
/*
 * IMAP (RFC 3501) through libcurl, just what polling a support mailbox
 * needs: STATUS for UIDVALIDITY, UID SEARCH UNSEEN, UID FETCH BODY.PEEK[]
 * and UID STORE +FLAGS (\Seen), all over one connection. libcurl selects
 * the mailbox given in the URL before a custom command, and checks the
 * ";UIDVALIDITY=" we put there against the SELECT answer, so a UID is never
 * used across UIDVALIDITY epochs.
 *
 * libcurl has no FETCH that leaves \Seen alone (its URL fetch sends
 * BODY[], which sets it), so the fetch is a custom command and we read the
 * literal ourselves, in ranges (BODY.PEEK[]<origin.octets>) that keep each
 * response under libcurl's header-size cap. Depending on the libcurl
 * version a literal arrives with the response lines libcurl passes to the
 * header callback (every line, as received) or in the body; we take it from
 * whichever stream holds exactly the announced number of bytes followed by
 * the end of the FETCH response, and refuse anything else rather than
 * ingest a damaged message. Each request runs on an easy handle of its own
 * that takes the connection from a shared cache; after any failure the
 * cache, and with it the connection, is dropped: a response we did not
 * read to its end leaves the connection out of step.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "email.h"
#include "mailnet.h"

#define CONNECT_TIMEOUT_S 30L
/* Give up on a transfer slower than 1 byte/s for this long: a hung server
 * must not hang the poll forever. */
#define STALL_TIMEOUT_S 120L
/* A response line is at most this long before libcurl would clip it, so
 * literal lines up to it arrive whole (RFC 5322 allows 998; real mail has
 * longer ones). CURL_MAX_READ_SIZE is libcurl's ceiling. */
#define LINE_BUFFER ((long)CURL_MAX_READ_SIZE)
/* Bytes of a message asked for per FETCH (RFC 3501 §6.4.5 partial
 * <origin.octets>). libcurl counts the response lines it hands the header
 * callback against a cap of 300 KiB per request (the CVE-2023-38039 fix),
 * and the count of one request reaches up to twice the bytes received
 * (measured with libcurl 7.88: ranges of 150 KB already fail now and then).
 * 64 KiB ranges stay far below. */
#define FETCH_CHUNK ((size_t)64 * 1024)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ca_mailnet_global_init(void)
{
	pthread_once(&curl_once, curl_init);
}

bool ca_mailnet_loopback_host(const char *host)
{
	if (!host || !*host)
		return false;
	size_t n = strlen(host);
	char buf[64];
	if (host[0] == '[' && n > 2 && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2); /* "[::1]" as a URL spells it */
		buf[n - 2] = '\0';
		host = buf;
	}
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
		return true;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127; /* 127.0.0.0/8, RFC 1122 §3.2.1.3 */
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127); /* ::1, ::ffff:127.x */
	return false;
}

int ca_mailnet_plaintext_check(const char *proto, const char *server, const char *host, bool allow_plaintext,
			       ca_err *err)
{
	if (!allow_plaintext || ca_mailnet_loopback_host(host))
		return 0;
	bool smtp = !strcmp(proto, "smtp");
	return ca_err_set(err, CA_EINVAL, "allow_plaintext",
			  "%s: plain text (--allow-plaintext) is only for an %s server on this machine (127.0.0.0/8, ::1, "
			  "localhost), and %s is not one: use TLS (STARTTLS, or %s://)",
			  server, smtp ? "SMTP" : "IMAP", host ? host : "(no host)", smtp ? "smtps" : "imaps");
}

struct ca_imap {
	CURLSH *share;               /* the connection cache; NULL after a failure: reconnect */
	char errbuf[CURL_ERROR_SIZE];
	char *server;                /* "imap://host:port" */
	char *root_url;              /* "imap://host:port/" (no mailbox: no SELECT) */
	char *mailbox;               /* decoded name */
	char *mailbox_url;           /* ".../MAILBOX;UIDVALIDITY=n" once known */
	char *state_key;
	char *host;                  /* as in the URL, for the loopback check */
	bool allow_plaintext;        /* STARTTLS may be absent (loopback only) */
	char *user, *password;
	uint32_t uidvalidity;
	ca_buf body, head;           /* what the current request returned */
	bool too_big;
};

/* ---- helpers ---- */

static size_t collect(char *p, size_t size, size_t n, void *ud, bool head)
{
	ca_imap *m = ud;
	ca_buf *b = head ? &m->head : &m->body;
	size_t len = size * n;
	/* The cap holds for either stream: a literal plus its framing. */
	if (b->len + len > CA_MAILNET_MAX_MESSAGE + 4096) {
		m->too_big = true;
		return 0;
	}
	return ca_buf_append(b, p, len) < 0 ? 0 : len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	return collect(p, size, n, ud, false);
}

static size_t on_head(char *p, size_t size, size_t n, void *ud)
{
	return collect(p, size, n, ud, true);
}

/* Forget the connection: after a failure it may be out of step. */
static void drop(ca_imap *m)
{
	if (m->share)
		curl_share_cleanup(m->share); /* closes the cached connection */
	m->share = NULL;
}

/* Every option of a request. Each request gets an easy handle of its own
 * that finds the connection in the shared cache: besides the per-request
 * cap, libcurl caps the header bytes over an easy handle's life (20 times
 * 300 KiB), which one long session of fetches would pass. */
static CURLcode options(ca_imap *m, CURL *c)
{
	CURLcode rc = CURLE_OK;
#define SET(opt, val) \
	if (rc == CURLE_OK) \
	rc = curl_easy_setopt(c, opt, val)
	SET(CURLOPT_SHARE, m->share);
	SET(CURLOPT_ERRORBUFFER, m->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
	/* TLS or nothing: the login must never cross the network in clear
	 * text. Only a server on this machine may go without, when asked. */
	SET(CURLOPT_USE_SSL, (long)(m->allow_plaintext ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	SET(CURLOPT_BUFFERSIZE, LINE_BUFFER);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, m);
	SET(CURLOPT_HEADERFUNCTION, on_head);
	SET(CURLOPT_HEADERDATA, m);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "imap,imaps");
#endif
	if (m->user)
		SET(CURLOPT_USERNAME, m->user);
	if (m->password)
		SET(CURLOPT_PASSWORD, m->password);
#undef SET
	return rc;
}

static int handle(ca_imap *m, CURL **ret, ca_err *err)
{
	ca_mailnet_global_init();
	if (curl_init_rc != CURLE_OK)
		return ca_err_set(err, CA_EIO, "imap", "%s: libcurl did not initialise: %s", m->server,
				  curl_easy_strerror(curl_init_rc));
	if (!m->share) {
		m->share = curl_share_init();
		if (!m->share || curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
			drop(m);
			return ca_err_set(err, CA_ENOMEM, "imap", "%s: cannot set up a connection cache", m->server);
		}
	}
	CURL *c = curl_easy_init();
	if (!c)
		return ca_err_set(err, CA_ENOMEM, "imap", "%s: out of memory for a request", m->server);
	CURLcode rc = options(m, c);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(c);
		return ca_err_set(err, rc == CURLE_OUT_OF_MEMORY ? CA_ENOMEM : CA_EIO, "imap", "%s: %s", m->server,
				  curl_easy_strerror(rc));
	}
	*ret = c;
	return 0;
}

/* Run `command` on `url`. `what` and uid (0 = none) go into the error. */
static int run(ca_imap *m, const char *url, const char *command, const char *what, uint32_t uid, ca_err *err)
{
	CURL *c = NULL;
	int r = handle(m, &c, err);
	if (r)
		return r;
	ca_buf_reset(&m->body);
	ca_buf_reset(&m->head);
	m->too_big = false;
	m->errbuf[0] = '\0';
	CURLcode rc = curl_easy_setopt(c, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, command);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c);
	curl_easy_cleanup(c); /* the connection stays in the shared cache */
	if (rc == CURLE_OK)
		return 0;
	drop(m);
	char at[32] = "";
	if (uid)
		snprintf(at, sizeof(at), ": UID %u", (unsigned)uid);
	const char *why = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);
	if (m->too_big)
		return ca_err_set(err, CA_ETOOBIG, "imap", "%s mailbox %s%s: %s: the message is larger than %zu bytes",
				  m->server, m->mailbox, at, what, CA_MAILNET_MAX_MESSAGE);
	if (rc == CURLE_OUT_OF_MEMORY)
		return ca_err_set(err, CA_ENOMEM, "imap", "%s mailbox %s%s: %s: out of memory", m->server, m->mailbox, at,
				  what);
	if (rc == CURLE_USE_SSL_FAILED)
		return ca_err_set(err, CA_EIO, "tls",
				  "%s: the server offers no TLS (STARTTLS), so nothing was sent: the login would cross the "
				  "network in clear text. Use imaps:// or enable STARTTLS on the server; for a test server on "
				  "this machine only, --allow-plaintext permits it (%s)",
				  m->server, why);
	if (rc == CURLE_LOGIN_DENIED && !m->body.len && strstr(why, "elect"))
		/* libcurl reports a refused SELECT as a login failure */
		return ca_err_set(err, CA_EIO, "imap", "%s mailbox %s%s: %s: the server refused to select the mailbox (%s)",
				  m->server, m->mailbox, at, what, why);
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
		return ca_err_set(err, CA_EIO, "imap",
				  "%s mailbox %s%s: %s: the mailbox's UIDVALIDITY changed during the session (%s); poll again",
				  m->server, m->mailbox, at, what, why);
	return ca_err_set(err, CA_EIO, "imap", "%s mailbox %s%s: %s failed: %s", m->server, m->mailbox, at, what, why);
}

/* An IMAP quoted string (RFC 3501 §4.3) of a 7-bit name. */
static int quoted(const char *s, ca_buf *out)
{
	int r = ca_buf_puts(out, "\"");
	for (; *s && !r; s++) {
		if (*s == '"' || *s == '\\')
			r = ca_buf_append(out, "\\", 1);
		if (!r)
			r = ca_buf_append(out, s, 1);
	}
	return r ? r : ca_buf_puts(out, "\"");
}

/* Next line of [p, end): sets *eol to its '\n' (or end). */
static const char *line_end(const char *p, const char *end)
{
	const char *e = memchr(p, '\n', (size_t)(end - p));
	return e ? e : end;
}

static bool parse_u32(const char *p, const char *end, uint32_t *ret, const char **ret_next)
{
	uint64_t v = 0;
	const char *q = p;
	while (q < end && *q >= '0' && *q <= '9' && v <= UINT32_MAX)
		v = v * 10 + (uint64_t)(*q++ - '0');
	if (q == p || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	if (ret_next)
		*ret_next = q;
	return true;
}

/* "UIDVALIDITY n" anywhere in an untagged STATUS line of the stream. */
static bool find_uidvalidity(const ca_buf *b, uint32_t *ret)
{
	const char *p = b->data, *end = b->data + b->len;
	for (; p && p < end; p = line_end(p, end) + 1) {
		const char *e = line_end(p, end);
		if ((size_t)(e - p) < 9 || strncmp(p, "* STATUS ", 9) != 0)
			continue;
		for (const char *q = p; q + 12 < e; q++)
			if (!strncmp(q, "UIDVALIDITY ", 12) && parse_u32(q + 12, e, ret, NULL))
				return true;
	}
	return false;
}

/* ---- session ---- */

static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
	char *v = NULL;
	if (curl_url_get(u, part, &v, flags) != CURLUE_OK)
		return NULL;
	char *copy = strdup(v);
	curl_free(v);
	return copy;
}

static int parse_url(ca_imap *m, const char *url, ca_err *err)
{
	CURLU *u = curl_url();
	if (!u)
		return CA_ENOMEM;
	int r = 0;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *upass = NULL, *uuser = NULL, *query = NULL;
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		r = ca_err_set(err, CA_EINVAL, "url", "'%s' is not a URL: %s", url, curl_url_strerror(uc));
		goto out;
	}
	scheme = url_part(u, CURLUPART_SCHEME, 0);
	host = url_part(u, CURLUPART_HOST, 0);
	port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	path = url_part(u, CURLUPART_PATH, CURLU_URLDECODE);
	upass = url_part(u, CURLUPART_PASSWORD, 0);
	uuser = url_part(u, CURLUPART_USER, CURLU_URLDECODE);
	query = url_part(u, CURLUPART_QUERY, 0);
	if (!scheme || (strcmp(scheme, "imap") && strcmp(scheme, "imaps"))) {
		r = ca_err_set(err, CA_EINVAL, "url", "'%s' is not an imap:// or imaps:// URL", url);
		goto out;
	}
	if (!host || !port) {
		r = ca_err_set(err, CA_EINVAL, "url", "'%s' names no server", url);
		goto out;
	}
	if (upass) {
		r = ca_err_set(err, CA_EINVAL, "url",
			       "the URL of %s://%s carries a password: give it separately, never in a URL", scheme, host);
		goto out;
	}
	if (query) {
		r = ca_err_set(err, CA_EINVAL, "url", "'%s': a mailbox URL takes no query", url);
		goto out;
	}
	const char *mb = path ? path : "";
	while (*mb == '/')
		mb++;
	size_t n = strlen(mb);
	while (n > 0 && mb[n - 1] == '/')
		n--;
	for (size_t i = 0; i < n; i++)
		if (mb[i] == ';' || (unsigned char)mb[i] < 0x20 || (unsigned char)mb[i] >= 0x7f) {
			r = ca_err_set(err, CA_EINVAL, "url",
				       "'%s': the mailbox name must be 7-bit without ';' (modified UTF-7, RFC 3501 §5.1.3)",
				       url);
			goto out;
		}
	m->mailbox = n ? strndup(mb, n) : strdup("INBOX");
	m->host = strdup(host);
	if (!m->user && uuser && *uuser)
		m->user = strdup(uuser);
	ca_buf b = { 0 };
	char *esc = m->mailbox ? curl_easy_escape(NULL, m->mailbox, 0) : NULL;
	if (!esc || ca_buf_printf(&b, "%s://%s:%s", scheme, host, port) < 0) {
		curl_free(esc);
		ca_buf_done(&b);
		r = CA_ENOMEM;
		goto out;
	}
	m->server = ca_buf_steal(&b);
	if (ca_buf_printf(&b, "%s/", m->server) == 0)
		m->root_url = ca_buf_steal(&b);
	if (ca_buf_printf(&b, "%s/%s", m->server, esc) == 0)
		m->mailbox_url = ca_buf_steal(&b);
	if (ca_buf_printf(&b, "%s://%s%s%s:%s/%s", scheme, m->user ? m->user : "", m->user ? "@" : "", host, port,
			  m->mailbox) == 0)
		m->state_key = ca_buf_steal(&b);
	ca_buf_done(&b);
	curl_free(esc);
	if (!m->server || !m->root_url || !m->mailbox_url || !m->state_key || !m->host)
		r = CA_ENOMEM;
out:
	free(scheme);
	free(host);
	free(port);
	free(path);
	free(upass);
	free(uuser);
	free(query);
	curl_url_cleanup(u);
	return r;
}

int ca_imap_open(const char *url, const char *user, const char *password, bool allow_plaintext, ca_imap **ret,
		 ca_err *err)
{
	if (!url || !*url)
		return ca_err_set(err, CA_EINVAL, "url", "no IMAP URL given");
	ca_mailnet_global_init();
	ca_imap *m = calloc(1, sizeof(*m));
	if (!m)
		return CA_ENOMEM;
	int r = 0;
	if ((user && !(m->user = strdup(user))) || (password && !(m->password = strdup(password))))
		r = CA_ENOMEM;
	if (!r)
		r = parse_url(m, url, err);
	m->allow_plaintext = allow_plaintext;
	if (!r)
		r = ca_mailnet_plaintext_check("imap", m->server, m->host, allow_plaintext, err);
	ca_buf cmd = { 0 };
	if (!r) {
		/* STATUS on the server URL: libcurl sends it without a SELECT. */
		r = ca_buf_puts(&cmd, "STATUS ");
		if (!r)
			r = quoted(m->mailbox, &cmd);
		if (!r)
			r = ca_buf_puts(&cmd, " (UIDVALIDITY)");
	}
	if (!r)
		r = run(m, m->root_url, cmd.data, "STATUS", 0, err);
	if (!r && !find_uidvalidity(&m->body, &m->uidvalidity) && !find_uidvalidity(&m->head, &m->uidvalidity))
		r = ca_err_set(err, CA_EPARSE, "imap", "%s mailbox %s: STATUS did not give the UIDVALIDITY", m->server,
			       m->mailbox);
	ca_buf_done(&cmd);
	if (!r) {
		ca_buf b = { 0 };
		r = ca_buf_printf(&b, "%s;UIDVALIDITY=%u", m->mailbox_url, (unsigned)m->uidvalidity);
		if (!r) {
			free(m->mailbox_url);
			m->mailbox_url = ca_buf_steal(&b);
		}
		ca_buf_done(&b);
	}
	if (r) {
		if (r == CA_ENOMEM)
			ca_err_set(err, CA_ENOMEM, "imap", "out of memory opening %s", url);
		ca_imap_close(m);
		return r;
	}
	*ret = m;
	return 0;
}

void ca_imap_close(ca_imap *m)
{
	if (!m)
		return;
	drop(m);
	if (m->password) /* do not leave it in freed memory */
		memset(m->password, 0, strlen(m->password));
	free(m->password);
	free(m->user);
	free(m->server);
	free(m->root_url);
	free(m->mailbox);
	free(m->mailbox_url);
	free(m->state_key);
	free(m->host);
	ca_buf_done(&m->body);
	ca_buf_done(&m->head);
	free(m);
}

const char *ca_imap_server(const ca_imap *m)
{
	return m->server;
}

const char *ca_imap_mailbox(const ca_imap *m)
{
	return m->mailbox;
}

const char *ca_imap_state_key(const ca_imap *m)
{
	return m->state_key;
}

uint32_t ca_imap_uidvalidity(const ca_imap *m)
{
	return m->uidvalidity;
}

/* ---- commands ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int ca_imap_search_unseen(ca_imap *m, uint32_t **ret_uids, size_t *ret_n, ca_err *err)
{
	int r = run(m, m->mailbox_url, "UID SEARCH UNSEEN", "UID SEARCH UNSEEN", 0, err);
	if (r)
		return r;
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	const char *p = m->body.data, *end = m->body.data + m->body.len;
	for (; p && p < end && !r; p = line_end(p, end) + 1) {
		const char *e = line_end(p, end);
		if ((size_t)(e - p) < 8 || strncmp(p, "* SEARCH", 8) != 0)
			continue;
		for (const char *q = p + 8; q < e && !r;) {
			while (q < e && (*q == ' ' || *q == '\r'))
				q++;
			if (q >= e)
				break;
			uint32_t uid;
			if (!parse_u32(q, e, &uid, &q) || uid == 0) {
				r = ca_err_set(err, CA_EPARSE, "imap", "%s mailbox %s: UID SEARCH answered '%.*s'", m->server,
					       m->mailbox, (int)(e - p > 80 ? 80 : e - p), p);
				break;
			}
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				uint32_t *nv = realloc(v, nc * sizeof(*v));
				if (!nv) {
					r = CA_ENOMEM;
					break;
				}
				v = nv;
				cap = nc;
			}
			v[n++] = uid;
		}
	}
	if (r) {
		free(v);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u32);
	*ret_uids = v;
	*ret_n = n;
	return 0;
}

/*
 * Find the FETCH response for `uid` in [p, end): "* n FETCH (... BODY[]<o>
 * {size}" CRLF, size bytes, then the rest of the response ending in ")"
 * (or nothing, when libcurl consumed the framing itself); or the empty
 * string "" a server may send for a range past the end. The UID item,
 * before or after the data, must name `uid` when present. Returns 1 found,
 * 0 no such FETCH response, -1 malformed.
 */
static int find_literal(const char *p, const char *end, uint32_t uid, const char **ret, size_t *ret_len)
{
	for (; p < end; p = line_end(p, end) + 1) {
		const char *e = line_end(p, end);
		if ((size_t)(e - p) < 2 || p[0] != '*' || p[1] != ' ')
			continue;
		const char *f = p + 2;
		while (f < e && *f >= '0' && *f <= '9')
			f++;
		if ((size_t)(e - f) < 8 || strncmp(f, " FETCH (", 8) != 0)
			continue;
		const char *body = NULL;
		for (const char *q = f; q + 6 < e && !body; q++) {
			if (strncmp(q, "BODY[]", 6) != 0)
				continue;
			const char *t = q + 6;
			if (t < e && *t == '<') { /* partial: BODY[]<origin> */
				t++;
				while (t < e && *t >= '0' && *t <= '9')
					t++;
				if (t >= e || *t != '>')
					return -1;
				t++;
			}
			if (t < e && *t == ' ')
				body = t + 1;
		}
		if (!body)
			continue; /* a FETCH of flags only (another client's change) */
		uint32_t size = 0;
		const char *lit, *rest, *line_tail;
		if (body + 1 < e && body[0] == '"' && body[1] == '"') {
			lit = body;  /* "": nothing left in that range */
			rest = body + 2;
			line_tail = rest;
		} else {
			const char *after;
			if (*body != '{' || !parse_u32(body + 1, e, &size, &after) || *after != '}' ||
			    !(after + 1 == e || (after + 2 == e && after[1] == '\r')))
				return -1;
			lit = e + 1;
			if (lit > end || (size_t)(end - lit) < size)
				return -1;
			rest = lit + size;
			line_tail = NULL;
		}
		const char *re = line_end(rest, end);
		/* Nothing after the literal: libcurl kept the framing to itself. */
		if (rest != end && (re == end || re - rest < 2 || re[-1] != '\r' || re[-2] != ')' ||
				    (rest[0] != ')' && rest[0] != ' ')))
			return -1;
		char want[24];
		int wl = snprintf(want, sizeof(want), "UID %u", (unsigned)uid);
		bool has_uid = false, uid_ok = false;
		const char *ranges[2][2] = { { f, body }, { line_tail ? line_tail : rest, re } };
		for (int k = 0; k < 2; k++)
			for (const char *q = ranges[k][0]; q + 4 < ranges[k][1]; q++)
				if (!strncmp(q, "UID ", 4)) {
					has_uid = true;
					uid_ok = !strncmp(q, want, (size_t)wl) && !isdigit((unsigned char)q[wl]);
				}
		if (has_uid && !uid_ok)
			return -1;
		*ret = lit;
		*ret_len = size;
		return 1;
	}
	return 0;
}

/* One range of the message: BODY.PEEK[]<origin.FETCH_CHUNK>. */
static int fetch_range(ca_imap *m, uint32_t uid, size_t origin, const char **ret, size_t *ret_len, ca_err *err)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "UID FETCH %u BODY.PEEK[]<%zu.%zu>", (unsigned)uid, origin, FETCH_CHUNK);
	int r = run(m, m->mailbox_url, cmd, "FETCH", uid, err);
	if (r)
		return r;
	/* The response lines as received first: they are exact when libcurl
	 * leaves the literal to us; then the body, where newer libcurl puts it. */
	int h = m->head.len ? find_literal(m->head.data, m->head.data + m->head.len, uid, ret, ret_len) : 0;
	if (h != 1) {
		int b = m->body.len ? find_literal(m->body.data, m->body.data + m->body.len, uid, ret, ret_len) : 0;
		h = b == 1 ? 1 : (h < 0 || b < 0 ? -1 : 0);
	}
	if (h == 0 && origin == 0)
		return ca_err_set(err, CA_ENOTFOUND, "imap", "%s mailbox %s: UID %u: no such message (expunged?)", m->server,
				  m->mailbox, (unsigned)uid);
	if (h <= 0 || *ret_len > FETCH_CHUNK) {
		drop(m);
		return ca_err_set(err, CA_EPARSE, "imap",
				  "%s mailbox %s: UID %u: the FETCH response at byte %zu does not carry the message as "
				  "announced (a line too long for the transport, or content that mimics the protocol); "
				  "left unseen",
				  m->server, m->mailbox, (unsigned)uid, origin);
	}
	return 0;
}

/* RFC822.SIZE of a message (RFC 3501 §6.4.5), 0 when the answer has none. */
static size_t fetch_size(ca_imap *m, uint32_t uid, ca_err *err)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "UID FETCH %u (RFC822.SIZE)", (unsigned)uid);
	if (run(m, m->mailbox_url, cmd, "FETCH RFC822.SIZE", uid, err) != 0)
		return 0;
	const ca_buf *bufs[] = { &m->head, &m->body };
	for (size_t i = 0; i < 2; i++) {
		const char *p = bufs[i]->data, *end = p ? p + bufs[i]->len : NULL;
		for (; p && p + 12 < end; p++)
			if (!strncmp(p, "RFC822.SIZE ", 12)) {
				uint32_t v;
				if (parse_u32(p + 12, end, &v, NULL))
					return v;
			}
	}
	return 0;
}

int ca_imap_fetch(ca_imap *m, uint32_t uid, size_t max_bytes, char **ret, size_t *ret_len, size_t *ret_received,
		  ca_err *err)
{
	size_t max = max_bytes ? max_bytes : CA_MAILNET_MAX_MESSAGE;
	ca_buf msg = { 0 };
	int r = 0;
	bool over = false, asked = false;
	for (size_t origin = 0;;) {
		const char *lit = NULL;
		size_t len = 0;
		r = fetch_range(m, uid, origin, &lit, &len, err);
		if (r)
			break;
		if (len && ca_buf_append(&msg, lit, len) < 0) {
			r = ca_err_set(err, CA_ENOMEM, "imap", "%s mailbox %s: UID %u: out of memory for %zu bytes",
				       m->server, m->mailbox, (unsigned)uid, origin + len);
			break;
		}
		origin += len;
		if (len < FETCH_CHUNK)
			break; /* a short range is the last one */
		/* The limit holds while fetching: once what an over-size message
		 * keeps is in hand, ask its size, and stop if it is over. */
		if (origin > max || (!asked && origin >= CA_EMAIL_PEEK_BYTES)) {
			asked = true;
			ca_err se = { 0 };
			size_t total = fetch_size(m, uid, &se);
			if (origin > max || total > max) {
				over = true;
				*ret_received = total > origin ? total : origin + 1;
				break;
			}
		}
	}
	if (r) {
		ca_buf_done(&msg);
		return r;
	}
	if (msg.len == 0) {
		ca_buf_done(&msg);
		return ca_err_set(err, CA_EPARSE, "imap", "%s mailbox %s: UID %u: the server sent an empty message",
				  m->server, m->mailbox, (unsigned)uid);
	}
	if (!over)
		*ret_received = msg.len;
	*ret_len = msg.len;
	*ret = ca_buf_steal(&msg);
	return 0;
}

int ca_imap_mark_seen(ca_imap *m, uint32_t uid, ca_err *err)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "UID STORE %u +FLAGS (\\Seen)", (unsigned)uid);
	return run(m, m->mailbox_url, cmd, "STORE +FLAGS (\\Seen)", uid, err);
}
