/* SPDX-License-Identifier: MIT */
/*
 * What a representative does every day (issue 10): create a case by hand,
 * find cases by filter and words a page at a time, edit several fields at
 * once, read and add notes, read a case's e-mails and reply to its customer,
 * browse conversations, and mark notifications read. Every write goes
 * through the store calls the agent uses (ca_case_write_as, the note and
 * outbox calls), so provenance, audit and whatever hooks those writes see
 * every person's change too; people's values are source "person", which
 * the update policy never overwrites.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "casemgmt.h"

#define NOTE_MAX_BYTES (64u << 10)
#define REPLY_MAX_BYTES (256u << 10)
#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define FILTER_MAX_BYTES 256
#define QUERY_MAX_BYTES 1024
#define CURSOR_MAX_BYTES 1024

/* ---- request bodies ---- */

static int parse_body(const char *body_json, const char *what, json_t **ret, ca_err *err)
{
	if (!body_json)
		return ca_err_set(err, CA_EINVAL, "body", "%s: no request body given", what);
	json_error_t je;
	json_t *j = json_loads(body_json, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ca_err_set(err, CA_EPARSE, "body", "%s: the body is not JSON: line %d column %d: %s", what, je.line,
				  je.column, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return ca_err_set(err, CA_EINVAL, "body", "%s: the body must be a JSON object", what);
	}
	*ret = j;
	return 0;
}

static int only_keys(const json_t *o, const char *what, const char *const *keys, size_t n, ca_err *err)
{
	const char *k = ca_json_unknown_key(o, keys, n);
	return k ? ca_err_set(err, CA_EINVAL, k, "%s: unknown key '%s'", what, k) : 0;
}

/* {"fields": {"name": "value"|null}}: every name a field a person may set
 * and every value a valid one, checked before the first write. An error's
 * where is "fields.NAME". */
static int check_fields(ca_agent *a, const json_t *body, const char *what, const json_t **ret, ca_err *err)
{
	static const char *const keys[] = { "fields" };
	int r = only_keys(body, what, keys, 1, err);
	if (r)
		return r;
	const json_t *fields = json_object_get(body, "fields");
	if (!json_is_object(fields))
		return ca_err_set(err, CA_EINVAL, "fields", "%s: \"fields\" must be an object of field names and values",
				  what);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)fields, k, v) {
		if (!json_is_string(v) && !json_is_null(v))
			r = ca_err_set(err, CA_EINVAL, k, "%s: the value of %s must be a string or null", what, k);
		if (!r && !strcmp(k, "origin") && !json_is_string(v))
			r = ca_err_set(err, CA_EINVAL, k, "%s: origin cannot be cleared", what);
		if (!r)
			r = ca_case_field_check(a, k, json_string_value(v), err);
		if (r) {
			if (err)
				snprintf(err->where, sizeof(err->where), "fields.%s", k);
			return r;
		}
	}
	*ret = fields;
	return 0;
}

static const char *actor_or_unknown(const char *actor)
{
	return ca_str_empty(actor) ? "unknown" : actor;
}

/* ---- creating and editing ---- */

int ca_case_create(ca_agent *a, const char *body_json, const char *actor, char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	json_t *body = NULL;
	const json_t *fields = NULL;
	if (!r)
		r = parse_body(body_json, "new case", &body, err);
	if (!r)
		r = check_fields(a, body, "new case", &fields, err);
	if (!r)
		r = ca_store_begin(a->store, err);
	if (r) {
		json_decref(body);
		return r;
	}
	const char *origin = ca_json_str(fields, "origin");
	int64_t id = 0;
	char *ticket = NULL;
	r = ca_store_case_create(a->store, origin ? origin : "manual", NULL, &id, &ticket, err);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)fields, k, v) {
		if (r)
			break;
		/* the origin went into the new row; the rest is the person's */
		if (json_is_string(v) && json_string_length(v) && strcmp(k, "origin") != 0)
			r = ca_case_write_as(a, id, k, json_string_value(v), "person", actor_or_unknown(actor), err);
	}
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_store_rollback(a->store);
	json_decref(body);
	if (!r)
		r = ca_case_show(a, ticket, ret_json, err);
	free(ticket);
	return r;
}

int ca_case_patch(ca_agent *a, const char *case_ref, const char *body_json, const char *actor, int64_t expected_version,
		  char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	json_t *body = NULL, *c = NULL, *changed = json_array();
	const json_t *fields = NULL;
	if (!r && !changed)
		r = CA_ENOMEM;
	if (!r)
		r = parse_body(body_json, "case edit", &body, err);
	if (!r)
		r = check_fields(a, body, "case edit", &fields, err);
	if (!r && json_object_size(fields) == 0)
		r = ca_err_set(err, CA_EINVAL, "fields", "case %s: no field to change given", case_ref);
	if (!r)
		r = ca_store_begin(a->store, err);
	if (r) {
		json_decref(body);
		json_decref(changed);
		return r;
	}
	int64_t id = 0, version = 0, nv = 0;
	r = ca_case_for_edit(a, case_ref, expected_version, &c, &id, &version, err);
	/* One version step for the whole edit. */
	if (!r)
		r = ca_store_case_bump_version(a->store, id, version, &nv, err);
	const json_t *now = json_object_get(c, "fields");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)fields, k, v) {
		if (r)
			break;
		const char *value = json_string_value(v);
		if (ca_str_empty(value))
			value = NULL;
		r = ca_case_write_as(a, id, k, value, "person", actor_or_unknown(actor), err);
		if (!r && json_array_append_new(changed, json_pack("{s:s, s:s?, s:s?}", "field", k, "old",
								      ca_json_str(now, k), "new", value)) < 0)
			r = CA_ENOMEM;
	}
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_store_rollback(a->store);
	json_t *res = r ? NULL
			: json_pack("{s:O, s:O, s:I}", "case", json_object_get(c, "ticket_number"), "changed", changed,
				    "version", (json_int_t)nv);
	json_decref(c);
	json_decref(body);
	json_decref(changed);
	if (r)
		return r;
	return ca_result(res, ret_json);
}

/* ---- finding cases ---- */

static const char hexd[] = "0123456789abcdef";

/* An opaque cursor: the hex of "KIND:position". */
static char *cursor_encode(const char *plain)
{
	size_t n = strlen(plain);
	char *out = malloc(2 * n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[(unsigned char)plain[i] >> 4];
		out[2 * i + 1] = hexd[(unsigned char)plain[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

/* Decode a cursor of `kind` strictly: lowercase hex of "kind:" and a
 * position without control bytes, or CA_EINVAL where "cursor". *ret is
 * the position (heap, caller frees). */
static int cursor_decode(const char *cursor, const char *kind, char **ret, ca_err *err)
{
	size_t n = strlen(cursor), kl = strlen(kind);
	if (n == 0 || n > CURSOR_MAX_BYTES || n % 2)
		return ca_err_set(err, CA_EINVAL, "cursor", "the cursor is not one a page gave (length)");
	char *plain = malloc(n / 2 + 1);
	if (!plain)
		return CA_ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		const char *hi = strchr(hexd, cursor[2 * i]), *lo = strchr(hexd, cursor[2 * i + 1]);
		unsigned char b = hi && lo && *hi && *lo ? (unsigned char)((hi - hexd) << 4 | (lo - hexd)) : 0;
		if (b < 0x20 || b == 0x7f) {
			free(plain);
			return ca_err_set(err, CA_EINVAL, "cursor", "the cursor is not one a page gave");
		}
		plain[i] = (char)b;
	}
	plain[n / 2] = '\0';
	if (n / 2 <= kl + 1 || strncmp(plain, kind, kl) != 0 || plain[kl] != ':') {
		free(plain);
		return ca_err_set(err, CA_EINVAL, "cursor", "the cursor is not one a page of %ss gave", kind);
	}
	memmove(plain, plain + kl + 1, n / 2 - kl);
	*ret = plain;
	return 0;
}

static int check_filter(const char *v, const char *key, size_t max, ca_err *err)
{
	if (!v)
		return 0;
	size_t n = strlen(v), bad;
	if (n > max)
		return ca_err_set(err, CA_EINVAL, key, "%s is %zu bytes; at most %zu", key, n, max);
	if (!ca_utf8_valid(v, n, &bad))
		return ca_err_set(err, CA_EUTF8, key, "%s is not valid UTF-8 (byte %zu)", key, bad);
	return 0;
}

static const char *nonempty(const char *s)
{
	return ca_str_empty(s) ? NULL : s;
}

static int page_limit(size_t limit, size_t *ret, ca_err *err)
{
	if (limit > PAGE_MAX)
		return ca_err_set(err, CA_EINVAL, "limit", "limit %zu is over %d, the largest page", limit, PAGE_MAX);
	*ret = limit ? limit : PAGE_DEFAULT;
	return 0;
}

/* A page as every list gives it: {key: items, "next_cursor": next|null}.
 * Takes `items` and `next` whatever r is. */
static int page_result(int r, const char *key, json_t *items, char *next, char **ret_json)
{
	json_t *res = r ? NULL : json_pack("{s:o, s:s?}", key, items, "next_cursor", next);
	free(next);
	if (r) {
		json_decref(items);
		return r;
	}
	return ca_result(res, ret_json);
}

int ca_case_query(ca_agent *a, const ca_case_filter *filter, char **ret_json, ca_err *err)
{
	ca_case_filter none = { 0 };
	const ca_case_filter *f = filter ? filter : &none;
	ca_store_case_filter sf = { .status = nonempty(f->status), .owner = nonempty(f->owner),
				    .customer = nonempty(f->customer), .origin = nonempty(f->origin) };
	int r = page_limit(f->limit, &sf.limit, err);
	static const char *const keys[] = { "status", "owner", "customer", "origin" };
	const char *vals[] = { sf.status, sf.owner, sf.customer, sf.origin };
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(keys); i++)
		r = check_filter(vals[i], keys[i], FILTER_MAX_BYTES, err);
	if (!r)
		r = check_filter(f->q, "q", QUERY_MAX_BYTES, err);
	if (!r && nonempty(f->cursor)) {
		char *pos = NULL;
		r = cursor_decode(f->cursor, "case", &pos, err);
		if (!r && (ca_parse_i64(pos, &sf.before_id) < 0 || sf.before_id <= 0 || strspn(pos, "0123456789") != strlen(pos)))
			r = ca_err_set(err, CA_EINVAL, "cursor", "the cursor is not one a page of cases gave");
		free(pos);
	}
	if (r)
		return r;
	/* q's words: split on white space; FTS5 tokenises each further. */
	ca_strv words = { 0 };
	for (const char *p = f->q ? f->q : ""; !r && *p;) {
		p += strspn(p, " \t\r\n");
		size_t n = strcspn(p, " \t\r\n");
		if (!n)
			break;
		char *w = strndup(p, n);
		r = w ? ca_strv_push(&words, w) : CA_ENOMEM;
		free(w);
		p += n;
	}
	sf.words = (const char *const *)words.v;
	sf.n_words = words.n;
	size_t want = sf.limit;
	sf.limit = want + 1; /* one more tells whether there is a next page */
	int64_t *ids = NULL;
	size_t n = 0;
	if (!r)
		r = ca_store_case_page(a->store, &sf, &ids, &n, err);
	ca_strv_done(&words);
	json_t *cases = r ? NULL : json_array();
	if (!r && !cases)
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < n && i < want; i++) {
		json_t *c = NULL, *display = NULL;
		r = ca_store_case_get_id(a->store, ids[i], &c, err);
		if (!r && !(r = ca_case_display(a, c, &display, err)))
			json_object_set_new(c, "display", display);
		if (!r && json_array_append_new(cases, c) < 0)
			r = CA_ENOMEM;
		else if (r)
			json_decref(c);
	}
	char *next = NULL;
	if (!r && n > want) {
		char plain[40];
		snprintf(plain, sizeof(plain), "case:%lld", (long long)ids[want - 1]);
		if (!(next = cursor_encode(plain)))
			r = CA_ENOMEM;
	}
	free(ids);
	return page_result(r, "cases", cases, next, ret_json);
}

/* ---- notes ---- */

static int case_of_ref(ca_agent *a, const char *ref, json_t **ret_case, int64_t *ret_id, ca_err *err)
{
	int r = ca_store_case_get(a->store, ref, ret_case, err);
	if (!r)
		*ret_id = json_integer_value(json_object_get(*ret_case, "id"));
	return r;
}

/* A note as the API shows it: {"id","kind","body","actor","at"}. */
static void note_shape(json_t *note)
{
	json_object_del(note, "evidence");
}

int ca_case_notes(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err)
{
	json_t *c = NULL, *notes = NULL;
	int64_t id = 0;
	int r = case_of_ref(a, case_ref, &c, &id, err);
	if (!r)
		r = ca_store_note_list(a->store, id, &notes, err);
	if (r) {
		json_decref(c);
		return r;
	}
	size_t i;
	json_t *n;
	json_array_foreach(notes, i, n) note_shape(n);
	json_t *res = json_pack("{s:O, s:o}", "case", json_object_get(c, "ticket_number"), "notes", notes);
	json_decref(c);
	return ca_result(res, ret_json);
}

int ca_case_note_add(ca_agent *a, const char *case_ref, const char *body, const char *actor, char **ret_json,
		     ca_err *err)
{
	size_t len = body ? strlen(body) : 0, bad;
	size_t blank = body ? strspn(body, " \t\r\n") : 0;
	if (len == 0 || blank == len)
		return ca_err_set(err, CA_EINVAL, "body", "case %s: a note needs some text", case_ref ? case_ref : "?");
	if (len > NOTE_MAX_BYTES)
		return ca_err_set(err, CA_ETOOBIG, "body", "case %s: the note is %zu bytes; at most %u", case_ref, len,
				  NOTE_MAX_BYTES);
	if (!ca_utf8_valid(body, len, &bad))
		return ca_err_set(err, CA_EUTF8, "body", "case %s: the note is not valid UTF-8 (byte %zu)", case_ref, bad);
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	json_t *c = NULL, *notes = NULL;
	int64_t id = 0;
	r = case_of_ref(a, case_ref, &c, &id, err);
	if (!r)
		r = ca_store_note_add(a->store, id, "note", body, NULL, actor_or_unknown(actor), err);
	/* the newest note of the case, read in the writing transaction, is this one */
	if (!r)
		r = ca_store_note_list(a->store, id, &notes, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_store_rollback(a->store);
	json_t *note = r ? NULL : json_incref(json_array_get(notes, json_array_size(notes) - 1));
	json_decref(notes);
	if (note) {
		note_shape(note);
		json_object_set(note, "case", json_object_get(c, "ticket_number"));
	}
	json_decref(c);
	if (r)
		return r;
	return note ? ca_result(note, ret_json) : CA_ENOMEM;
}

/* ---- e-mails ---- */

int ca_case_emails(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err)
{
	json_t *c = NULL, *thread = NULL, *outbox = NULL;
	int64_t id = 0;
	int r = case_of_ref(a, case_ref, &c, &id, err);
	if (!r)
		r = ca_store_email_thread(a->store, id, &thread, err);
	if (!r)
		r = ca_store_outbox_of_case(a->store, id, &outbox, err);
	json_t *list = r ? NULL : json_array();
	if (!r && !list)
		r = CA_ENOMEM;
	/* Merge by time, oldest first: what was received and sent (sent
	 * outbox messages are outgoing e-mails of the case), then what waits
	 * in the outbox. */
	size_t ti = 0, oi = 0, nt = json_array_size(thread), no = json_array_size(outbox);
	while (!r && (ti < nt || oi < no)) {
		const json_t *e = json_array_get(thread, ti);
		const json_t *o = json_array_get(outbox, oi);
		if (o && !strcmp(ca_json_str(o, "status") ? ca_json_str(o, "status") : "", "sent")) {
			oi++;
			continue;
		}
		json_int_t et = e ? json_integer_value(json_object_get(e, "received_epoch")) : 0;
		json_int_t ot = o ? json_integer_value(json_object_get(o, "created_epoch")) : 0;
		json_t *item;
		if (e && (!o || et <= ot)) {
			char at[21];
			ca_time_iso(et, at);
			bool in = ca_streq(ca_json_str(e, "direction"), "in");
			item = json_pack("{s:O, s:O, s:O, s:O, s:O, s:s, s:n, s:s}", "id", json_object_get(e, "id"), "direction",
					 json_object_get(e, "direction"), "from_addr", json_object_get(e, "from_addr"), "to_addr",
					 json_object_get(e, "to_addrs"), "subject", json_object_get(e, "subject"), "received_at",
					 at, "outbox_id", "status", in ? "received" : "sent");
			ti++;
		} else {
			const json_t *h = json_object_get(o, "headers");
			item = json_pack("{s:n, s:s, s:s?, s:O, s:O, s:O, s:O, s:O}", "id", "direction", "out", "from_addr",
					 ca_json_str(h, "From"), "to_addr", json_object_get(o, "to_addr"), "subject",
					 json_object_get(o, "subject"), "received_at", json_object_get(o, "created_at"),
					 "outbox_id", json_object_get(o, "id"), "status", json_object_get(o, "status"));
			oi++;
		}
		if (!item || json_array_append_new(list, item) < 0)
			r = CA_ENOMEM;
	}
	json_t *res = r ? NULL : json_pack("{s:O, s:O}", "case", json_object_get(c, "ticket_number"), "emails", list);
	json_decref(list);
	json_decref(thread);
	json_decref(outbox);
	json_decref(c);
	if (r)
		return r;
	return ca_result(res, ret_json);
}

/* Where a reply goes: the case's customer's address, else the sender of
 * its last incoming e-mail. *ret NULL when neither exists. */
static int customer_address(ca_agent *a, const json_t *c, const json_t *last_in, char **ret, ca_err *err)
{
	*ret = NULL;
	const char *customer = ca_json_str(json_object_get(c, "fields"), "customer");
	if (customer) {
		json_t *ct = NULL;
		int r = ca_store_directory_get(a->store, "contact", customer, &ct, err);
		if (r == CA_ENOTFOUND) {
			ca_err_clear(err);
			r = 0;
		}
		const char *email = ca_json_str(ct, "email");
		if (!r && !ca_str_empty(email) && !(*ret = strdup(email)))
			r = CA_ENOMEM;
		json_decref(ct);
		if (r || *ret)
			return r;
	}
	const char *from = ca_json_str(last_in, "from_addr");
	if (!ca_str_empty(from) && !(*ret = strdup(from)))
		return CA_ENOMEM;
	return 0;
}

/* The case's last incoming e-mail in full (with its Message-ID and
 * References), or NULL. */
static int last_incoming(ca_agent *a, int64_t case_id, json_t **ret, ca_err *err)
{
	*ret = NULL;
	int64_t last = 0;
	int r = ca_store_email_last_in(a->store, case_id, &last, err);
	if (!r && last)
		r = ca_store_email_get(a->store, last, ret, err);
	return r;
}

/* In-Reply-To and References (RFC 5322 §3.6.4) answering `e`. */
static int thread_headers(const json_t *e, json_t *headers)
{
	const char *mid = ca_json_str(e, "message_id");
	if (ca_str_empty(mid))
		return 0;
	ca_buf refs = { 0 }, self = { 0 };
	int r = ca_buf_printf(&self, "<%s>", mid);
	json_t *old = NULL;
	const char *rt = ca_json_str(e, "refs");
	if (rt)
		old = json_loads(rt, 0, NULL);
	size_t i;
	json_t *x;
	json_array_foreach(old, i, x) {
		if (!r && json_is_string(x))
			r = ca_buf_printf(&refs, "%s<%s>", refs.len ? " " : "", json_string_value(x));
	}
	json_decref(old);
	if (!r)
		r = ca_buf_printf(&refs, "%s%s", refs.len ? " " : "", self.data);
	if (!r && (json_object_set_new(headers, "In-Reply-To", json_string(self.data)) < 0 ||
		   json_object_set_new(headers, "References", json_string(refs.data)) < 0))
		r = CA_ENOMEM;
	ca_buf_done(&refs);
	ca_buf_done(&self);
	return r;
}

int ca_case_reply(ca_agent *a, const char *case_ref, const char *body_json, const char *actor, char **ret_json,
		  ca_err *err)
{
	static const char *const keys[] = { "body", "subject" };
	json_t *req = NULL;
	int r = ca_email_ready(a, err);
	if (!r)
		r = parse_body(body_json, "reply", &req, err);
	if (!r)
		r = only_keys(req, "reply", keys, CA_ARRAY_SIZE(keys), err);
	const json_t *bj = json_object_get(req, "body"), *sj = json_object_get(req, "subject");
	if (json_is_null(sj)) /* null: the default subject */
		sj = NULL;
	size_t len = json_string_length(bj), bad;
	if (!r && (!json_is_string(bj) || len == 0))
		r = ca_err_set(err, CA_EINVAL, "body", "reply to case %s: \"body\" is required text", case_ref);
	if (!r && len > REPLY_MAX_BYTES)
		r = ca_err_set(err, CA_ETOOBIG, "body", "reply to case %s: the body is %zu bytes; at most %u", case_ref, len,
			       REPLY_MAX_BYTES);
	if (!r && (!ca_utf8_valid(json_string_value(bj), len, &bad) || memchr(json_string_value(bj), 0, len)))
		r = ca_err_set(err, CA_EUTF8, "body", "reply to case %s: the body is not valid UTF-8 (byte %zu)", case_ref, bad);
	if (!r && sj && (!json_is_string(sj) || json_string_length(sj) == 0 || json_string_length(sj) > 998 ||
			 strpbrk(json_string_value(sj), "\r\n") || memchr(json_string_value(sj), 0, json_string_length(sj))))
		r = ca_err_set(err, CA_EINVAL, "subject",
			       "reply to case %s: \"subject\" must be one line of text of at most 998 bytes", case_ref);
	if (r) {
		json_decref(req);
		return r;
	}
	json_t *c = NULL, *res = NULL;
	int64_t id = 0;
	r = ca_store_begin(a->store, err);
	if (!r)
		r = case_of_ref(a, case_ref, &c, &id, err);
	if (!r)
		r = ca_case_email_queue(a, id, sj ? json_string_value(sj) : NULL, json_string_value(bj),
					actor_or_unknown(actor), "no", &res, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_store_rollback(a->store);
	json_decref(c);
	json_decref(req);
	if (r)
		return r;
	return ca_result(res, ret_json);
}

int ca_case_email_queue(ca_agent *a, int64_t case_id, const char *subject_in, const char *body, const char *actor,
			const char *auto_submitted, json_t **ret, ca_err *err)
{
	int r = ca_email_ready(a, err);
	if (r)
		return r;
	const ca_email_settings *es = &a->settings->email;
	const char *from = es->reply_from ? es->reply_from : es->mailboxes.n ? es->mailboxes.v[0] : NULL;
	json_t *c = NULL, *last = NULL, *headers = NULL, *msg = NULL;
	r = ca_store_case_get_id(a->store, case_id, &c, err);
	const char *ticket = ca_json_str(c, "ticket_number");
	if (!r && !from)
		r = ca_err_set(err, CA_ESTATE, "email.auto_response.from",
			       "reply to case %s: the settings name no address to send from (email.auto_response.from "
			       "or email.mailboxes)",
			       ticket);
	char *to = NULL;
	int64_t outbox_id = 0;
	ca_buf subject = { 0 }, token = { 0 };
	if (!r)
		r = ca_store_begin(a->store, err);
	if (r) {
		json_decref(c);
		return r;
	}
	r = last_incoming(a, case_id, &last, err);
	if (!r)
		r = customer_address(a, c, last, &to, err);
	if (!r && !to)
		r = ca_err_set(err, CA_ESTATE, "customer",
			       "case %s: its customer has no e-mail address (and no e-mail came from them), so there is "
			       "nobody to reply to",
			       ticket);
	if (!r)
		r = ca_buf_printf(&token, "%s%s%s", es->token_prefix, ticket, es->token_suffix);
	if (!r && subject_in) {
		r = ca_buf_puts(&subject, subject_in);
	} else if (!r) {
		const char *thread_subject = ca_json_str(last, "subject");
		if (!thread_subject)
			thread_subject = ca_json_str(json_object_get(c, "fields"), "title");
		bool re = thread_subject && !strncasecmp(thread_subject, "re:", 3);
		r = ca_buf_printf(&subject, "%s%s", re ? "" : "Re: ", thread_subject ? thread_subject : ticket);
	}
	/* The token must be in the subject, so the customer's answer threads. */
	if (!r && !strstr(subject.data, token.data))
		r = ca_buf_printf(&subject, " %s", token.data);
	if (!r && !(headers = json_pack("{s:s, s:s}", "From", from, "Auto-Submitted", auto_submitted)))
		r = CA_ENOMEM;
	if (!r && last)
		r = thread_headers(last, headers);
	if (!r) {
		json_t *in_reply = json_object_get(last, "id");
		msg = json_pack("{s:I, s:O?, s:s, s:s, s:s, s:O, s:s?}", "case_id", (json_int_t)case_id, "email_id", in_reply,
				"to_addr", to, "subject", subject.data, "body", body, "headers", headers, "actor", actor);
		r = msg ? ca_store_outbox_add(a->store, msg, &outbox_id, err) : CA_ENOMEM;
	}
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_store_rollback(a->store);
	json_t *res = r || !ret ? NULL
				: json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)outbox_id, "to", to, "subject",
					    subject.data, "case", ticket, "status", "queued");
	if (!r && ret && !res)
		r = CA_ENOMEM;
	json_decref(msg);
	json_decref(headers);
	json_decref(last);
	json_decref(c);
	free(to);
	ca_buf_done(&subject);
	ca_buf_done(&token);
	if (!r && ret)
		*ret = res;
	return r;
}

/* ---- conversations ---- */

/* A conversation row as the API shows it. New reference. */
static json_t *conversation_item(const json_t *row)
{
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(row, "id"), "channel",
			 json_object_get(row, "channel"), "state", json_object_get(row, "state"), "case",
			 json_object_get(row, "case_ticket"), "contact", json_object_get(row, "contact_id"), "opened_at",
			 json_object_get(row, "opened_at"), "closed_at", json_object_get(row, "closed_at"), "messages",
			 json_object_get(row, "message_count"), "accepted_by", json_object_get(row, "accepted_by"));
}

int ca_conversation_list(ca_agent *a, const char *state, size_t limit, const char *cursor, char **ret_json,
			 ca_err *err)
{
	size_t want = 0;
	int r = page_limit(limit, &want, err);
	if (!r)
		r = check_filter(state, "state", FILTER_MAX_BYTES, err);
	char *pos = NULL;
	const char *before_at = NULL, *before_id = NULL;
	if (!r && nonempty(cursor)) {
		/* "conversation:" + opened_at (20 bytes, as the store writes it) + ":" + id */
		r = cursor_decode(cursor, "conversation", &pos, err);
		if (!r && (strlen(pos) < 22 || pos[20] != ':' || pos[4] != '-' || pos[10] != 'T' || pos[19] != 'Z'))
			r = ca_err_set(err, CA_EINVAL, "cursor", "the cursor is not one a page of conversations gave");
		if (!r) {
			pos[20] = '\0';
			before_at = pos;
			before_id = pos + 21;
		}
	}
	json_t *rows = NULL;
	if (!r)
		r = ca_store_conversation_page(a->store, nonempty(state), before_at, before_id, want + 1, &rows, err);
	free(pos);
	json_t *list = r ? NULL : json_array();
	if (!r && !list)
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < json_array_size(rows) && i < want; i++)
		if (json_array_append_new(list, conversation_item(json_array_get(rows, i))) < 0)
			r = CA_ENOMEM;
	char *next = NULL;
	if (!r && json_array_size(rows) > want) {
		const json_t *last = json_array_get(rows, want - 1);
		ca_buf plain = { 0 };
		if (ca_buf_printf(&plain, "conversation:%s:%s", ca_json_str(last, "opened_at"), ca_json_str(last, "id")) < 0 ||
		    !(next = cursor_encode(plain.data)))
			r = CA_ENOMEM;
		ca_buf_done(&plain);
	}
	json_decref(rows);
	return page_result(r, "conversations", list, next, ret_json);
}

int ca_conversation_show(ca_agent *a, const char *id, char **ret_json, ca_err *err)
{
	json_t *row = NULL, *msgs = NULL, *inter = NULL, *cj = NULL;
	char *by = NULL;
	(void)ca_interactions_flush(a, NULL); /* its interactions as this process decided them */
	int r = ca_store_conversation_get(a->store, id, &row, err);
	if (!r)
		r = ca_store_conversation_accepted_by(a->store, id, &by, err);
	if (!r)
		r = ca_store_message_list(a->store, id, &msgs, err);
	if (!r)
		r = ca_store_interaction_list(a->store, id, &inter, err);
	json_t *case_id = json_object_get(row, "case_id");
	if (!r && json_is_integer(case_id))
		r = ca_store_case_get_id(a->store, json_integer_value(case_id), &cj, err);
	json_t *res = NULL;
	if (!r) {
		json_object_set(row, "case_ticket", cj ? json_object_get(cj, "ticket_number") : json_null());
		json_object_set_new(row, "accepted_by", by ? json_string(by) : json_null());
		size_t i;
		json_t *m;
		json_array_foreach(msgs, i, m) json_object_del(m, "seq");
		res = conversation_item(row);
		if (!res || json_object_set(res, "messages", msgs) < 0 || json_object_set(res, "interactions", inter) < 0)
			r = CA_ENOMEM;
	}
	json_decref(row);
	json_decref(msgs);
	json_decref(inter);
	json_decref(cj);
	free(by);
	if (r) {
		json_decref(res);
		return r;
	}
	return ca_result(res, ret_json);
}

/* ---- notifications ---- */

int ca_notification_read(ca_agent *a, int64_t id, const char *recipient, ca_err *err)
{
	if (ca_str_empty(recipient))
		return ca_err_set(err, CA_EINVAL, "recipient", "notification %lld: whose notification is it?", (long long)id);
	return ca_store_notification_read(a->store, id, recipient, err);
}
