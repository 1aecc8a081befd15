/* SPDX-License-Identifier: MIT */
/*
 * The parsers of what a client sends the server, and the route matcher over
 * the table of routes.c: the request path (percent-decoding per RFC 3986
 * §2.1, refusing "..", NUL, control characters, non-UTF-8 and over-long
 * segments before anything looks a record up), the query string, the headers
 * the server reads (If-Match, Last-Event-ID, Cookie, Authorization,
 * Content-Type), and the top-level check of a JSON body against a route's
 * request schema. Pure functions over bytes, so the fuzz target
 * (fuzz/fuzz_inputs.c) calls them directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

/* Length of the valid UTF-8 sequence at s (of n bytes), 0 if invalid
 * (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static bool utf8_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

void srv_utf8_clean(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const unsigned char *)s + i, n - i);
		if (!l) {
			s[i++] = '?';
			continue;
		}
		i += l;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode src[0..n) into out (room for outsize bytes plus NUL);
 * plus_space: "+" is a space. Returns the decoded length, or -1 with *why. */
static long pct_decode(const char *src, size_t n, bool plus_space, char *out, size_t outsize, const char **why)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '%') {
			if (i + 2 >= n || hexval(src[i + 1]) < 0 || hexval(src[i + 2]) < 0) {
				*why = "a bad percent escape";
				return -1;
			}
			c = (unsigned char)(hexval(src[i + 1]) << 4 | hexval(src[i + 2]));
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0) {
			*why = "a NUL byte (%00)";
			return -1;
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "a control character";
			return -1;
		}
		if (o >= outsize) {
			*why = "too long";
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!utf8_ok(out, o)) {
		*why = "text that is not UTF-8";
		return -1;
	}
	return (long)o;
}

int srv_path_parse(const char *target, srv_path *ret, ca_err *err)
{
	size_t end = strcspn(target, "?#");
	size_t used = 0;
	const char *p = target;
	const char *why = NULL;

	ret->nseg = 0;
	if (target[0] != '/')
		return ca_err_set(err, CA_EINVAL, "path", "the request path must start with '/'");
	if (end == 1)
		return 0; /* "/" */
	p++;
	while ((size_t)(p - target) <= end) {
		size_t len = strcspn(p, "/?#");
		long dl;

		if ((size_t)(p - target) + len > end)
			len = end - (size_t)(p - target);
		if (len == 0)
			return ca_err_set(err, CA_EINVAL, "path", "the request path has an empty segment");
		if (ret->nseg == SRV_SEGMENTS_MAX)
			return ca_err_set(err, CA_EINVAL, "path", "the request path has more than %d segments",
					  SRV_SEGMENTS_MAX);
		if (len > 3 * SRV_SEGMENT_MAX)
			return ca_err_set(err, CA_EINVAL, "path", "a path segment is longer than %d bytes",
					  SRV_SEGMENT_MAX);
		dl = pct_decode(p, len, false, ret->buf + used, SRV_SEGMENT_MAX, &why);
		if (dl < 0) {
			if (!strcmp(why, "too long"))
				return ca_err_set(err, CA_EINVAL, "path", "a path segment is longer than %d bytes",
						  SRV_SEGMENT_MAX);
			return ca_err_set(err, CA_EINVAL, "path", "a path segment has %s", why);
		}
		if (!strcmp(ret->buf + used, ".") || !strcmp(ret->buf + used, ".."))
			return ca_err_set(err, CA_EINVAL, "path", "a path segment may not be '.' or '..'");
		/* An id never holds a separator: "..%2F..%2Fetc" is one segment
		 * that reads as a path wherever it is used as one. */
		if (strpbrk(ret->buf + used, "/\\"))
			return ca_err_set(err, CA_EINVAL, "path", "a path segment may not hold '/' or '\\' (%%2F, %%5C)");
		ret->seg[ret->nseg++] = ret->buf + used;
		used += (size_t)dl + 1;
		p += len;
		if ((size_t)(p - target) >= end)
			break;
		p++; /* the '/' */
		if ((size_t)(p - target) == end)
			return ca_err_set(err, CA_EINVAL, "path", "the request path has an empty segment");
	}
	return 0;
}

void srv_query_done(srv_query *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->key[i]);
		free(q->val[i]);
	}
	q->n = 0;
}

const char *srv_query_get(const srv_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->key[i], key))
			return q->val[i];
	return NULL;
}

/* A decoded copy of src[0..n) (caller frees), or NULL with *why. */
static char *decode_dup(const char *src, size_t n, const char **why)
{
	char *out = malloc(n + 1);

	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	if (pct_decode(src, n, true, out, n, why) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

int srv_query_parse(const char *target, srv_query *q, ca_err *err)
{
	const char *p = strchr(target, '?');
	const char *why = NULL;

	q->n = 0;
	if (!p)
		return 0;
	p++;
	size_t qend = strcspn(p, "#");
	const char *end = p + qend;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq ? eq : stop;
		char *k, *v;

		if (stop == p) { /* "a=1&&b=2": an empty pair is nothing */
			p = stop + 1;
			continue;
		}
		if (q->n == SRV_QUERY_MAX)
			return ca_err_set(err, CA_EINVAL, "query", "more than %d query parameters", SRV_QUERY_MAX);
		k = decode_dup(p, (size_t)(kend - p), &why);
		if (!k)
			return ca_err_set(err, why && !strcmp(why, "out of memory") ? CA_ENOMEM : CA_EINVAL, "query",
					  "a query parameter name has %s", why);
		v = eq ? decode_dup(eq + 1, (size_t)(stop - eq - 1), &why) : strdup("");
		if (!v) {
			int rc = ca_err_set(err, why && !strcmp(why, "out of memory") ? CA_ENOMEM : CA_EINVAL, k,
					    "query parameter '%s' has %s", k, why ? why : "out of memory");
			free(k);
			return rc;
		}
		if (!k[0] || srv_query_get(q, k)) {
			int rc = k[0] ? ca_err_set(err, CA_EINVAL, k, "query parameter '%s' is given twice", k)
				      : ca_err_set(err, CA_EINVAL, "query", "a query parameter has no name");
			free(k);
			free(v);
			return rc;
		}
		q->key[q->n] = k;
		q->val[q->n++] = v;
		p = amp ? amp + 1 : end;
	}
	return 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Parse a whole decimal 0..INT64_MAX from s[0..n). */
static bool parse_i64(const char *s, size_t n, int64_t *ret)
{
	int64_t v = 0;

	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

int srv_if_match_parse(const char *header, int64_t *ret, ca_err *err)
{
	const char *s = skip_ws(header);
	size_t n = strlen(s);
	int64_t v;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 1 && s[0] == '*') {
		*ret = 0;
		return 0;
	}
	if (n >= 3 && s[0] == '"' && s[n - 1] == '"' && parse_i64(s + 1, n - 2, &v) && v > 0) {
		*ret = v;
		return 0;
	}
	return ca_err_set(err, CA_EINVAL, "If-Match",
			  "If-Match must be one entity tag: the case's version in double quotes, as its ETag gives it");
}

int srv_event_id_parse(const char *header, int64_t *ret, ca_err *err)
{
	const char *s = skip_ws(header);
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!parse_i64(s, n, ret))
		return ca_err_set(err, CA_EINVAL, "Last-Event-ID", "Last-Event-ID must be an event id (a whole number)");
	return 0;
}

bool srv_cookie_get(const char *header, const char *name, char *out, size_t outsize)
{
	size_t nl = strlen(name);
	const char *p = header;

	while (*p) {
		p = skip_ws(p);
		const char *semi = strchr(p, ';');
		const char *stop = semi ? semi : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
			const char *v = eq + 1;
			size_t vl = (size_t)(stop - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (vl == 0 || vl >= outsize)
				return false;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	return false;
}

const char *srv_bearer(const char *header)
{
	const char *s = skip_ws(header);

	if (strncasecmp(s, "Bearer", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
		return NULL;
	s = skip_ws(s + 6);
	return *s ? s : NULL;
}

bool srv_forwarded_for(const char *header, char *out, size_t outsize)
{
	const char *last = strrchr(header, ',');
	const char *s = skip_ws(last ? last + 1 : header);
	size_t n = strlen(s);
	char ip[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof ip || n >= outsize)
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
		return false;
	memcpy(out, ip, n + 1);
	return true;
}

bool srv_media_type_is(const char *header, const char *type)
{
	const char *s = skip_ws(header);
	size_t n = strcspn(s, "; \t");
	size_t tl = strlen(type);

	return n == tl && strncasecmp(s, type, n) == 0;
}

bool srv_secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	size_t n = la < lb ? la : lb;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Whether template `path` matches p; its {params} into params[]. */
static bool template_match(const char *path, const srv_path *p, const char **params)
{
	const char *t = path + 1;
	size_t k = 0, np = 0;

	if (!*t)
		return p->nseg == 0;
	while (*t) {
		size_t len = strcspn(t, "/");
		if (k >= p->nseg)
			return false;
		if (t[0] == '{') {
			if (np < SRV_MAX_PARAMS)
				params[np++] = p->seg[k];
		} else if (strlen(p->seg[k]) != len || memcmp(p->seg[k], t, len) != 0) {
			return false;
		}
		k++;
		t += len;
		if (*t == '/')
			t++;
	}
	return k == p->nseg;
}

const srv_route *srv_route_find(const char *method, const srv_path *p, const char **params, char *ret_allow,
				size_t allow_size)
{
	const char *m = strcmp(method, "HEAD") ? method : "GET";
	size_t used = 0;

	ret_allow[0] = '\0';
	for (size_t i = 0; i < srv_nroutes; i++) {
		const char *tmp[SRV_MAX_PARAMS];
		if (srv_routes[i].flags & SRV_WEB)
			continue;
		if (!template_match(srv_routes[i].path, p, tmp))
			continue;
		if (!strcmp(srv_routes[i].method, m)) {
			memcpy(params, tmp, sizeof tmp);
			return &srv_routes[i];
		}
		int w = snprintf(ret_allow + used, allow_size - used, "%s%s", used ? ", " : "", srv_routes[i].method);
		if (w > 0 && (size_t)w < allow_size - used)
			used += (size_t)w;
		if (!strcmp(srv_routes[i].method, "GET")) {
			w = snprintf(ret_allow + used, allow_size - used, ", HEAD");
			if (w > 0 && (size_t)w < allow_size - used)
				used += (size_t)w;
		}
	}
	if (used)
		return NULL;
	/* No API route has this path: the web UI's, unless it is under the API. */
	for (const char *const *root = srv_api_roots; p->nseg && *root; root++)
		if (!strcmp(p->seg[0], *root))
			return NULL;
	for (size_t i = 0; i < srv_nroutes; i++) {
		if (!(srv_routes[i].flags & SRV_WEB))
			continue;
		if (!strcmp(srv_routes[i].method, m))
			return &srv_routes[i];
		snprintf(ret_allow, allow_size, "%s%s", srv_routes[i].method,
			 strcmp(srv_routes[i].method, "GET") ? "" : ", HEAD");
	}
	return NULL;
}

/* Whether v has one of the JSON Schema type names of `type` (a string or
 * an array of strings). */
static bool type_ok(const json_t *type, const json_t *v)
{
	if (json_is_array(type)) {
		size_t i;
		json_t *t;
		json_array_foreach(type, i, t)
			if (type_ok(t, v))
				return true;
		return false;
	}
	const char *t = json_string_value(type);
	if (!t)
		return true;
	return (!strcmp(t, "string") && json_is_string(v)) || (!strcmp(t, "integer") && json_is_integer(v)) ||
	       (!strcmp(t, "number") && json_is_number(v)) || (!strcmp(t, "boolean") && json_is_boolean(v)) ||
	       (!strcmp(t, "object") && json_is_object(v)) || (!strcmp(t, "array") && json_is_array(v)) ||
	       (!strcmp(t, "null") && json_is_null(v));
}

static const char *type_words(const json_t *type)
{
	return json_is_string(type) ? json_string_value(type) : "of another type";
}

json_t **srv_schemas_load(void)
{
	json_t **v = calloc(srv_nroutes, sizeof *v);

	for (size_t i = 0; v && i < srv_nroutes; i++) {
		if (!srv_routes[i].request)
			continue;
		if (!(v[i] = json_loads(srv_routes[i].request, 0, NULL))) {
			srv_schemas_free(v);
			return NULL;
		}
	}
	return v;
}

void srv_schemas_free(json_t **v)
{
	for (size_t i = 0; v && i < srv_nroutes; i++)
		json_decref(v[i]);
	free(v);
}

int srv_body_check(const json_t *schema, const json_t *body, ca_err *err)
{
	int rc = 0;

	if (!schema)
		return 0;
	const json_t *props = json_object_get(schema, "properties");
	if (!type_ok(json_object_get(schema, "type"), body)) {
		rc = ca_err_set(err, CA_EINVAL, "body", "the body must be a JSON %s",
				type_words(json_object_get(schema, "type")));
		goto out;
	}
	if (!json_is_object(body))
		goto out;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v) {
		const json_t *prop = json_object_get(props, key);
		if (!prop) {
			if (json_is_false(json_object_get(schema, "additionalProperties"))) {
				rc = ca_err_set(err, CA_EINVAL, key, "unknown key '%s' in the body", key);
				goto out;
			}
			continue;
		}
		if (!type_ok(json_object_get(prop, "type"), v)) {
			rc = ca_err_set(err, CA_EINVAL, key, "'%s' must be %s%s", key,
					json_is_string(json_object_get(prop, "type")) ? "a JSON " : "",
					type_words(json_object_get(prop, "type")));
			goto out;
		}
	}
	size_t i;
	json_t *req;
	json_array_foreach(json_object_get(schema, "required"), i, req) {
		if (json_is_string(req) && !json_object_get(body, json_string_value(req))) {
			rc = ca_err_set(err, CA_EINVAL, json_string_value(req), "the body needs '%s'",
					json_string_value(req));
			goto out;
		}
	}
out:
	return rc;
}
