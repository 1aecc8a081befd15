/* SPDX-License-Identifier: MIT */
/*
 * Spam verdicts for the e-mail channel (spam.h): the headers a mail server
 * on the way wrote, and the two filters a team may run beside us,
 * SpamAssassin's spamd (the spamc protocol over a TCP or Unix socket, with
 * poll() deadlines so a hung filter costs at most the timeout) and rspamd
 * (HTTP through libcurl, already used for IMAP and SMTP). Each answer has
 * its own parser, which the fuzz target drives directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <glib.h>
#include "mailnet.h"
#include "spam.h"
#include "text.h"

/* A SYMBOLS answer is a status line, two headers and one line of rule
 * names: far below this. More is not spamd. */
#define MAX_ANSWER ((size_t)256 * 1024)
#define MAX_DETAIL 1000

void ca_spam_verdict_init(ca_spam_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

void ca_spam_verdict_done(ca_spam_verdict *v)
{
	if (!v)
		return;
	free(v->origin);
	free(v->detail);
	memset(v, 0, sizeof(*v));
}

const char *ca_spam_source_name(ca_spam_source s)
{
	switch (s) {
	case CA_SPAM_HEADER:
		return "header";
	case CA_SPAM_SPAMD:
		return "spamd";
	case CA_SPAM_RSPAMD:
		return "rspamd";
	default:
		return "unchecked";
	}
}

/* Fill *v (replacing what it held). detail is cut to MAX_DETAIL bytes on
 * a UTF-8 boundary, so a log row stays readable. */
static int set_verdict(ca_spam_verdict *v, ca_spam_source src, bool spam, bool has_score, double score,
		       double threshold, const char *origin, const char *detail, size_t detail_len)
{
	char *o = origin ? strdup(origin) : NULL;
	if (detail)
		detail_len = ca_utf8_cut(detail, detail_len, MAX_DETAIL);
	char *d = detail ? strndup(detail, detail_len) : NULL;
	if ((origin && !o) || (detail && !d)) {
		free(o);
		free(d);
		return CA_ENOMEM;
	}
	ca_spam_verdict_done(v);
	v->source = src;
	v->is_spam = spam;
	v->has_score = has_score;
	v->score = score;
	v->threshold = threshold;
	v->origin = o;
	v->detail = d;
	return 0;
}

/* ---- headers ---- */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/* s starts with word (case-insensitively) and the word ends there. */
static bool word_is(const char *s, const char *word)
{
	size_t n = strlen(word);
	if (g_ascii_strncasecmp(s, word, n) != 0)
		return false;
	char c = s[n];
	return c == '\0' || c == ' ' || c == '\t' || c == ',' || c == ';' || c == '\r' || c == '\n';
}

/* A number in C syntax whatever the locale; false when there is none. */
static bool number_at(const char *s, const char **ret_end, double *ret)
{
	char *end = NULL;
	double d = g_ascii_strtod(s, &end);
	if (end == s || d != d || d > 1e9 || d < -1e9)
		return false;
	*ret = d;
	if (ret_end)
		*ret_end = end;
	return true;
}

/* "name=NUMBER" anywhere in a SpamAssassin status line. */
static bool status_number(const char *s, const char *name, double *ret)
{
	size_t n = strlen(name);
	for (const char *p = s; (p = strstr(p, name)); p += n)
		if ((p == s || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ',') && p[n] == '=' && number_at(p + n + 1, NULL, ret))
			return true;
	return false;
}

typedef struct hdr_verdict {
	bool spam, has_score;
	double score, threshold;
} hdr_verdict;

static hdr_verdict judge(const char *name, const char *value)
{
	hdr_verdict h = { 0 };
	const char *v = skip_ws(value);
	if (!strcmp(name, "x-spam-flag")) {
		h.spam = word_is(v, "yes");
	} else if (!strcmp(name, "x-spam-status")) {
		h.spam = word_is(v, "yes");
		double sc, th;
		if (h.spam && (status_number(v, "score", &sc) || status_number(v, "hits", &sc)) &&
		    status_number(v, "required", &th)) {
			h.has_score = true;
			h.score = sc;
			h.threshold = th;
		}
	} else if (!strcmp(name, "x-spam")) {
		h.spam = word_is(v, "yes") || word_is(v, "true");
	} else if (!strcmp(name, "x-spamd-result")) {
		/* "default: True [15.10 / 15.00]; SYMBOL(1.00)[...]; ..." */
		if (!g_ascii_strncasecmp(v, "default:", 8)) {
			v = skip_ws(v + 8);
			h.spam = word_is(v, "true") || word_is(v, "yes");
			const char *b = strchr(v, '['), *e;
			double sc, th;
			if (h.spam && b && number_at(skip_ws(b + 1), &e, &sc) && *(e = skip_ws(e)) == '/' &&
			    number_at(skip_ws(e + 1), NULL, &th)) {
				h.has_score = true;
				h.score = sc;
				h.threshold = th;
			}
		}
	} else if (!strcmp(name, "x-rspamd-action") || !strcmp(name, "x-spam-action")) {
		h.spam = word_is(v, "reject") || !g_ascii_strncasecmp(v, "add header", 10) ||
			 !g_ascii_strncasecmp(v, "add_header", 10) || !g_ascii_strncasecmp(v, "rewrite subject", 15) ||
			 !g_ascii_strncasecmp(v, "rewrite_subject", 15);
	} else if (!strcmp(name, "x-spamd-bar")) {
		size_t plus = 0;
		while (v[plus] == '+')
			plus++;
		h.spam = plus >= 6;
		if (h.spam) {
			h.has_score = true;
			h.score = (double)plus;
			h.threshold = 6;
		}
	}
	return h;
}

int ca_spam_from_headers(const json_t *headers, ca_spam_verdict *ret)
{
	/* In a fixed order, so the same mail always names the same header. */
	static const char *const names[][2] = {
		{ "x-spam-flag", "X-Spam-Flag" },	  { "x-spam-status", "X-Spam-Status" },
		{ "x-spamd-result", "X-Spamd-Result" }, { "x-rspamd-action", "X-Rspamd-Action" },
		{ "x-spam-action", "X-Spam-Action" },	  { "x-spam", "X-Spam" },
		{ "x-spamd-bar", "X-Spamd-Bar" },
	};
	for (size_t i = 0; i < CA_ARRAY_SIZE(names); i++) {
		const json_t *h = json_object_get(headers, names[i][0]);
		size_t n = json_is_array(h) ? json_array_size(h) : (h ? 1 : 0);
		for (size_t k = 0; k < n; k++) {
			const char *value = json_string_value(json_is_array(h) ? json_array_get(h, k) : h);
			if (!value)
				continue;
			hdr_verdict v = judge(names[i][0], value);
			if (!v.spam)
				continue;
			char origin[64];
			snprintf(origin, sizeof(origin), "header %s", names[i][1]);
			return set_verdict(ret, CA_SPAM_HEADER, true, v.has_score, v.score, v.threshold, origin, value,
					   strlen(value));
		}
	}
	return 0;
}

/* ---- spamd answer ---- */

/* The next line of [p, end): its length without CR LF, and *next. */
static size_t line_at(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *le = nl ? nl : end;
	*next = nl ? nl + 1 : end;
	if (le > p && le[-1] == '\r')
		le--;
	return (size_t)(le - p);
}

int ca_spam_parse_spamd(const char *resp, size_t len, const char *origin, ca_spam_verdict *ret, ca_err *err)
{
	const char *who = origin ? origin : "spamd";
	const char *p = resp, *end = resp + len, *next;
	size_t n = line_at(p, end, &next);
	if (n < 8 || memcmp(p, "SPAMD/", 6) != 0)
		return ca_err_set(err, CA_EPARSE, who, "%s: the answer does not start with a SPAMD/ status line", who);
	/* "SPAMD/1.1 0 EX_OK": version, sysexits code, message. */
	char *line = strndup(p, n);
	if (!line)
		return CA_ENOMEM;
	char *sp = strchr(line, ' ');
	char *cend = NULL;
	long code = sp ? strtol(sp + 1, &cend, 10) : -1;
	if (!sp || cend == sp + 1 || (*cend && *cend != ' ')) {
		int r = ca_err_set(err, CA_EPARSE, who, "%s: the status line has no result code", who);
		free(line);
		return r;
	}
	if (code != 0) {
		int r = ca_err_set(err, CA_EIO, who, "%s answered %.200s", who, sp + 1);
		free(line);
		return r;
	}
	free(line);
	bool have = false, spam = false;
	double score = 0, threshold = 0;
	for (p = next; p < end;) {
		n = line_at(p, end, &next);
		if (n == 0) {
			p = next;
			break; /* end of the headers */
		}
		/* "Spam: True ; 15.3 / 5.0" (protocol 1.1 and later; Yes/No before) */
		if (n > 5 && !g_ascii_strncasecmp(p, "Spam:", 5)) {
			char *h = strndup(p + 5, n - 5);
			if (!h)
				return CA_ENOMEM;
			const char *v = skip_ws(h), *e;
			bool t = word_is(v, "true") || word_is(v, "yes"), f = word_is(v, "false") || word_is(v, "no");
			const char *semi = strchr(v, ';');
			bool ok = (t || f) && semi && number_at(skip_ws(semi + 1), &e, &score) && *(e = skip_ws(e)) == '/' &&
				  number_at(skip_ws(e + 1), &e, &threshold) && *skip_ws(e) == '\0';
			free(h);
			if (!ok)
				return ca_err_set(err, CA_EPARSE, who, "%s: the Spam header is not 'True|False ; SCORE / THRESHOLD'",
						  who);
			have = true;
			spam = t;
		}
		p = next;
	}
	if (!have)
		return ca_err_set(err, CA_EPARSE, who, "%s: the answer has no Spam header", who);
	/* The body of a SYMBOLS answer: the rule names, comma-separated. */
	const char *body = p < end ? p : end;
	size_t bl = (size_t)(end - body);
	while (bl > 0 && (body[bl - 1] == '\r' || body[bl - 1] == '\n' || body[bl - 1] == ' '))
		bl--;
	bool printable = true;
	for (size_t i = 0; i < bl && printable; i++)
		printable = (unsigned char)body[i] >= 0x20 && body[i] != 0x7f;
	return set_verdict(ret, CA_SPAM_SPAMD, spam, true, score, threshold, who, bl && printable ? body : NULL, bl);
}

/* ---- rspamd answer ---- */

int ca_spam_parse_rspamd(const char *resp, size_t len, const char *origin, ca_spam_verdict *ret, ca_err *err)
{
	const char *who = origin ? origin : "rspamd";
	json_error_t je;
	json_t *j = json_loadb(resp, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		return ca_err_set(err, CA_EPARSE, who, "%s: the answer is not a JSON object", who);
	}
	const json_t *e = json_object_get(j, "error");
	if (json_is_string(e)) {
		int r = ca_err_set(err, CA_EIO, who, "%s answered: %.200s", who, json_string_value(e));
		json_decref(j);
		return r;
	}
	const char *action = json_string_value(json_object_get(j, "action"));
	const json_t *sc = json_object_get(j, "score"), *th = json_object_get(j, "required_score");
	if (!action || !json_is_number(sc)) {
		json_decref(j);
		return ca_err_set(err, CA_EPARSE, who, "%s: the answer has no action and score", who);
	}
	bool spam = !strcmp(action, "reject") || !strcmp(action, "add header") || !strcmp(action, "rewrite subject");
	ca_buf syms = { 0 };
	const char *k;
	const json_t *v;
	int r = 0;
	json_object_foreach((json_t *)json_object_get(j, "symbols"), k, v) {
		if (syms.len > MAX_DETAIL)
			break;
		if ((r = ca_buf_printf(&syms, "%s%s", syms.len ? "," : "", k)))
			break;
	}
	if (!r)
		r = set_verdict(ret, CA_SPAM_RSPAMD, spam, json_is_number(th), json_number_value(sc),
				json_is_number(th) ? json_number_value(th) : 0, who, syms.data, syms.len);
	ca_buf_done(&syms);
	json_decref(j);
	return r;
}

/* ---- asking spamd ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline, const char *who, const char *doing, ca_err *err)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return ca_err_set(err, CA_EIO, who, "%s: timed out %s", who, doing);
		struct pollfd pfd = { .fd = fd, .events = events };
		int n = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return ca_err_set(err, CA_EIO, who, "%s: poll: %s", who, strerror(errno));
	}
}

/* A non-blocking connect within the deadline. */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t sl, int64_t deadline, const char *who,
			  ca_err *err)
{
	if (connect(fd, sa, sl) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return ca_err_set(err, CA_EIO, who, "%s: cannot connect: %s", who, strerror(errno));
	int r = wait_fd(fd, POLLOUT, deadline, who, "connecting", err);
	if (r)
		return r;
	int soerr = 0;
	socklen_t l = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) < 0)
		soerr = errno;
	return soerr ? ca_err_set(err, CA_EIO, who, "%s: cannot connect: %s", who, strerror(soerr)) : 0;
}

/* "HOST:PORT", "[V6]:PORT", or "/path" (a Unix socket): a connected,
 * non-blocking socket in *ret_fd. */
static int open_spamd(const char *addr, int64_t deadline, const char *who, int *ret_fd, ca_err *err)
{
	if (addr[0] == '/') {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		if (strlen(addr) >= sizeof(un.sun_path))
			return ca_err_set(err, CA_EINVAL, who, "%s: the socket path is too long", who);
		memcpy(un.sun_path, addr, strlen(addr) + 1);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return ca_err_set(err, CA_EIO, who, "%s: socket: %s", who, strerror(errno));
		int r = connect_within(fd, (struct sockaddr *)&un, sizeof(un), deadline, who, err);
		if (r) {
			close(fd);
			return r;
		}
		*ret_fd = fd;
		return 0;
	}
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1])
		return ca_err_set(err, CA_EINVAL, who, "%s: the address is not HOST:PORT", who);
	const char *h = addr, *he = colon;
	if (*h == '[' && he[-1] == ']') {
		h++;
		he--;
	}
	char *host = strndup(h, (size_t)(he - h));
	if (!host)
		return CA_ENOMEM;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	/* getaddrinfo has no timeout of its own; a name other than a literal
	 * address waits on the resolver, which is why the settings docs advise
	 * an address. */
	int g = getaddrinfo(host, colon + 1, &hints, &res);
	free(host);
	if (g)
		return ca_err_set(err, CA_EIO, who, "%s: cannot resolve the address: %s", who, gai_strerror(g));
	int r = CA_EIO;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			r = ca_err_set(err, CA_EIO, who, "%s: socket: %s", who, strerror(errno));
			continue;
		}
		r = connect_within(fd, ai->ai_addr, ai->ai_addrlen, deadline, who, err);
		if (!r) {
			*ret_fd = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return r;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline, const char *who, ca_err *err)
{
	while (n > 0) {
		/* MSG_NOSIGNAL: a filter that hangs up is an error, not SIGPIPE. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return ca_err_set(err, CA_EIO, who, "%s: sending the message: %s", who, strerror(errno));
		int r = wait_fd(fd, POLLOUT, deadline, who, "sending the message", err);
		if (r)
			return r;
	}
	return 0;
}

static int ask_spamd(const ca_spam_service *svc, const char *raw, size_t len, const char *who, ca_spam_verdict *ret,
		     ca_err *err)
{
	int64_t deadline = now_ms() + (svc->timeout_ms ? svc->timeout_ms : 10000);
	int fd = -1;
	int r = open_spamd(svc->address, deadline, who, &fd, err);
	if (r)
		return r;
	ca_buf head = { 0 }, ans = { 0 };
	r = ca_buf_printf(&head, "SYMBOLS SPAMC/1.5\r\nContent-length: %zu\r\n\r\n", len);
	if (!r)
		r = send_all(fd, head.data, head.len, deadline, who, err);
	if (!r)
		r = send_all(fd, raw, len, deadline, who, err);
	/* The protocol: each side shuts its writing down when done. */
	if (!r && shutdown(fd, SHUT_WR) < 0)
		r = ca_err_set(err, CA_EIO, who, "%s: shutdown: %s", who, strerror(errno));
	while (!r) {
		char chunk[4096];
		ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
		if (got == 0)
			break;
		if (got > 0) {
			if (ans.len + (size_t)got > MAX_ANSWER)
				r = ca_err_set(err, CA_EPARSE, who, "%s: the answer is over %zu bytes", who, MAX_ANSWER);
			else
				r = ca_buf_append(&ans, chunk, (size_t)got);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			r = ca_err_set(err, CA_EIO, who, "%s: reading the answer: %s", who, strerror(errno));
		else
			r = wait_fd(fd, POLLIN, deadline, who, "waiting for the answer", err);
	}
	close(fd);
	if (!r && ans.len == 0)
		r = ca_err_set(err, CA_EIO, who, "%s closed the connection without an answer", who);
	if (!r)
		r = ca_spam_parse_spamd(ans.data, ans.len, who, ret, err);
	ca_buf_done(&head);
	ca_buf_done(&ans);
	return r;
}

/* ---- asking rspamd ---- */

static size_t on_rspamd_body(char *p, size_t size, size_t n, void *ud)
{
	ca_buf *b = ud;
	size_t k = size * n;
	if (b->len + k > MAX_ANSWER || ca_buf_append(b, p, k))
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	return k;
}

static int ask_rspamd(const ca_spam_service *svc, const char *raw, size_t len, const char *who, ca_spam_verdict *ret,
		      ca_err *err)
{
	ca_mailnet_global_init();
	ca_buf url = { 0 }, body = { 0 };
	size_t al = strlen(svc->address);
	int r = ca_buf_printf(&url, "%.*s/checkv2", (int)(al && svc->address[al - 1] == '/' ? al - 1 : al), svc->address);
	CURL *c = r ? NULL : curl_easy_init();
	if (!c) {
		ca_buf_done(&url);
		return CA_ENOMEM;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: message/rfc822");
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(svc->timeout_ms ? svc->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, raw);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_rspamd_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		r = ca_err_set(err, CA_EIO, who, "%s: %s", who, errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (status != 200)
		r = ca_err_set(err, CA_EIO, who, "%s answered HTTP %ld", who, status);
	else
		r = ca_spam_parse_rspamd(body.data ? body.data : "", body.len, who, ret, err);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	ca_buf_done(&url);
	ca_buf_done(&body);
	return r;
}

int ca_spam_check(const ca_spam_service *svc, const char *raw, size_t len, ca_spam_verdict *ret, ca_err *err)
{
	if (!svc || svc->kind == CA_SPAM_SERVICE_NONE || !svc->address)
		return ca_err_set(err, CA_EINVAL, "email.spam", "no spam filter is configured");
	ca_buf who = { 0 };
	int r = ca_buf_printf(&who, "%s %s", svc->kind == CA_SPAM_SERVICE_SPAMD ? "spamd" : "rspamd", svc->address);
	if (r)
		return r;
	if (svc->max_bytes && len > svc->max_bytes) {
		r = ca_err_set(err, CA_ETOOBIG, who.data, "%s: not sent, the message (%zu bytes) is over email.spam.max_bytes (%zu)",
			       who.data, len, svc->max_bytes);
		ca_buf_done(&who);
		return r;
	}
	ca_spam_verdict v;
	ca_spam_verdict_init(&v);
	r = svc->kind == CA_SPAM_SERVICE_SPAMD ? ask_spamd(svc, raw, len, who.data, &v, err)
					       : ask_rspamd(svc, raw, len, who.data, &v, err);
	if (!r && svc->threshold > 0) {
		v.is_spam = v.score >= svc->threshold;
		v.threshold = svc->threshold;
	}
	if (!r) {
		ca_spam_verdict_done(ret);
		*ret = v;
	} else {
		ca_spam_verdict_done(&v);
	}
	ca_buf_done(&who);
	return r;
}
