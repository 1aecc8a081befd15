/* SPDX-License-Identifier: MIT */
/*
 * The event outbox (ARCHITECTURE §6): the rows the API's live stream reads,
 * written in the transaction of the change they announce, so an event is
 * never seen for a change that rolled back and every process on the
 * database sees them. The repository's write calls note what they did here
 * as they go (ev_case_created, ev_case_field, ev_harvest, ev_plain); the
 * notes of a transaction are kept in memory, undone with the level they
 * were made in (a rolled-back savepoint drops its own), and written at the
 * outermost commit, just before COMMIT, as one INSERT per event. Writing
 * them then, not as they happen, is what lets the writes of one case in one
 * transaction become one case.updated (all the fields it changed), however
 * many calls made them, and a harvest batch one harvest.progress. A
 * transaction that holds several independent units of work (an e-mail
 * batch: one message each) separates them (ca_store_unit_end), so each
 * unit's events are what its own transaction would have written.
 * Retention: whenever an event's id is a multiple of EV_TIDY_EVERY (so it
 * runs as often in a process that writes one event and exits as in a
 * server), the oldest rows older than EV_KEEP_SECONDS go, at most twice as
 * many as were written since, and never the newest row (SQLite gives
 * max(id) + 1 to the next one, so ids are never reused).
 */
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

#define EV_KEEP_SECONDS (7 * 86400)
#define EV_TIDY_EVERY 32
#define EV_TIDY_MAX 10000
#define EV_PAGE_DEFAULT 100
#define EV_PAGE_MAX 1000

enum { EV_CASE_CREATED, EV_CASE_FIELD, EV_HARVEST, EV_PLAIN };
/* Sort groups: a case's notes merge, a job's merge, the rest stand alone. */
enum { GRP_CASE, GRP_HARVEST, GRP_PLAIN };

struct ev_pending {
	int kind;
	int64_t key;           /* case id (case kinds; plain: its case or 0), job id */
	const char *type;      /* plain: the event type; case field: the write's source (static strings) */
	const char *right;     /* plain: "work" | "configure" (static) */
	char *text;            /* field name, origin, or the plain event's data JSON */
	char *recipient;       /* plain: a user, or NULL */
	uint64_t unit;         /* s->unit_serial when noted: notes of two units never merge */
};

static void pending_drop(ev_pending *p)
{
	free(p->text);
	free(p->recipient);
}

void ev_truncate(ca_store *s, size_t n)
{
	while (s->ev_n > n)
		pending_drop(&s->ev[--s->ev_n]);
}

void ev_free(ca_store *s)
{
	ev_truncate(s, 0);
	free(s->ev);
	free(s->ev_marks);
	s->ev = NULL;
	s->ev_marks = NULL;
	s->ev_cap = s->ev_marks_cap = 0;
}

int ev_reserve_level(ca_store *s, ca_err *err)
{
	size_t need = (size_t)s->tx_depth + 1;
	if (need <= s->ev_marks_cap)
		return 0;
	size_t cap = s->ev_marks_cap ? s->ev_marks_cap * 2 : 4;
	size_t *m = realloc(s->ev_marks, cap * sizeof(*m));
	if (!m)
		return enomem(err, "begin transaction");
	s->ev_marks = m;
	s->ev_marks_cap = cap;
	return 0;
}

static int push(ca_store *s, const ev_pending *p, ca_err *err)
{
	if (s->ev_n == s->ev_cap) {
		size_t cap = s->ev_cap ? s->ev_cap * 2 : 16;
		ev_pending *v = realloc(s->ev, cap * sizeof(*v));
		if (!v)
			return enomem(err, "event");
		s->ev = v;
		s->ev_cap = cap;
	}
	s->ev[s->ev_n] = *p;
	s->ev[s->ev_n++].unit = s->unit_serial;
	return 0;
}

static int push_text(ca_store *s, int kind, int64_t key, const char *type, const char *text, ca_err *err)
{
	ev_pending p = { .kind = kind, .key = key, .type = type, .text = ca_strdup(text) };
	if (text && !p.text)
		return enomem(err, "event");
	int r = push(s, &p, err);
	if (r)
		pending_drop(&p);
	return r;
}

int ev_case_created(ca_store *s, int64_t case_id, const char *origin, ca_err *err)
{
	return push_text(s, EV_CASE_CREATED, case_id, NULL, origin, err);
}

int ev_case_field(ca_store *s, int64_t case_id, const char *field, const char *source, ca_err *err)
{
	return push_text(s, EV_CASE_FIELD, case_id, source, field, err);
}

int ev_harvest(ca_store *s, int64_t job_id, ca_err *err)
{
	return push_text(s, EV_HARVEST, job_id, NULL, NULL, err);
}

int ev_plain(ca_store *s, const char *type, int64_t case_id, const char *recipient, const char *right, json_t *data,
	     ca_err *err)
{
	ev_pending p = { .kind = EV_PLAIN, .key = case_id, .type = type, .right = right,
			 .text = data ? dump(data) : NULL, .recipient = ca_strdup(recipient) };
	json_decref(data);
	int r = !p.text || (recipient && !p.recipient) ? enomem(err, type) : push(s, &p, err);
	if (r)
		pending_drop(&p);
	return r;
}

/* ---- writing them at commit ---- */

typedef struct ev_key {
	uint64_t unit;
	int grp;
	int64_t key;
	size_t seq;
} ev_key;

static int key_cmp(const void *a, const void *b)
{
	const ev_key *x = a, *y = b;
	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	if (x->grp != y->grp)
		return x->grp < y->grp ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One row to insert: at the place of its group's first note. */
typedef struct ev_out {
	size_t first;
	const char *type, *recipient, *right;
	int64_t case_id;
	char *data; /* heap */
} ev_out;

static int out_cmp(const void *a, const void *b)
{
	const ev_out *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* The notes of one case (keys k[0..n), in order) as one event. */
static int case_event(ca_store *s, const ev_key *k, size_t n, ev_out *o)
{
	const char *origin = NULL, *source = NULL;
	bool created = false, mixed = false;
	json_t *fields = json_array();
	for (size_t i = 0; fields && i < n; i++) {
		const ev_pending *p = &s->ev[k[i].seq];
		if (p->kind == EV_CASE_CREATED) {
			created = true;
			origin = p->text;
			continue;
		}
		if (!source)
			source = p->type;
		else if (strcmp(source, p->type))
			mixed = true;
		bool seen = false;
		size_t j;
		json_t *f;
		json_array_foreach(fields, j, f) seen = seen || !strcmp(json_string_value(f), p->text);
		if (!seen && json_array_append_new(fields, json_string(p->text)) < 0) {
			json_decref(fields);
			fields = NULL;
		}
	}
	if (!fields)
		return CA_ENOMEM;
	json_t *data = created ? json_pack("{s:n, s:s?, s:o}", "case", "origin", origin, "fields", fields)
			       : json_pack("{s:n, s:o, s:s}", "case", "changed", fields, "source",
					   mixed ? "mixed" : source);
	*o = (ev_out){ .first = k[0].seq, .type = created ? "case.created" : "case.updated", .right = "work",
		       .case_id = k[0].key, .data = data ? dump(data) : NULL };
	json_decref(data);
	return o->data ? 0 : CA_ENOMEM;
}

/* A job's progress as it stands now, inside the transaction. */
static int harvest_event(ca_store *s, int64_t job, size_t first, ev_out *o, bool *ret_found, ca_err *err)
{
	json_t *rows = NULL;
	ca_sql_param p[] = { ca_sql_int(job) };
	int r = db_rows(s, "harvest progress event", "SELECT id AS job, processed, total, state FROM harvest_job WHERE id = ?",
			p, 1, &rows, err);
	if (r)
		return r;
	json_t *row = json_array_get(rows, 0);
	*ret_found = row != NULL;
	*o = (ev_out){ .first = first, .type = "harvest.progress", .right = "configure", .data = row ? dump(row) : NULL };
	json_decref(rows);
	return row && !o->data ? enomem(err, "harvest progress event") : 0;
}

/* Retention, bounded: `written` events were just written. */
static int tidy(ca_store *s, size_t written, ca_err *err)
{
	size_t limit = 2 * written;
	limit = limit < 2 * EV_TIDY_EVERY ? 2 * EV_TIDY_EVERY : limit > EV_TIDY_MAX ? EV_TIDY_MAX : limit;
	char cutoff[21];
	ca_time_iso(ca_time_now() - EV_KEEP_SECONDS, cutoff);
	ca_sql_param p[] = { ca_sql_int((int64_t)limit), ca_sql_text(cutoff) };
	/* The oldest `limit` rows by id (the primary key: bounded work), of
	 * them those past the cutoff; never the newest row. */
	return db_exec(s, "event retention",
		       "DELETE FROM event WHERE id IN (SELECT id FROM event WHERE id < (SELECT MAX(id) FROM event) "
		       "ORDER BY id LIMIT ?) AND at < ?",
		       p, 2, err);
}

int ev_flush(ca_store *s, ca_err *err)
{
	size_t n = s->ev_n;
	if (!n)
		return 0;
	ev_key *k = malloc(n * sizeof(*k));
	ev_out *o = calloc(n, sizeof(*o));
	if (!k || !o) {
		free(k);
		free(o);
		return enomem(err, "events");
	}
	for (size_t i = 0; i < n; i++) {
		const ev_pending *p = &s->ev[i];
		int grp = p->kind == EV_PLAIN ? GRP_PLAIN : p->kind == EV_HARVEST ? GRP_HARVEST : GRP_CASE;
		k[i] = (ev_key){ .unit = p->unit, .grp = grp, .key = grp == GRP_PLAIN ? (int64_t)i : p->key, .seq = i };
	}
	qsort(k, n, sizeof(*k), key_cmp);
	size_t no = 0;
	int r = 0;
	for (size_t i = 0, j; !r && i < n; i = j) {
		for (j = i + 1; j < n && k[j].unit == k[i].unit && k[j].grp == k[i].grp && k[j].key == k[i].key; j++)
			;
		const ev_pending *p = &s->ev[k[i].seq];
		bool found = true;
		if (k[i].grp == GRP_CASE) {
			if (case_event(s, k + i, j - i, &o[no]))
				r = enomem(err, "case event");
		} else if (k[i].grp == GRP_HARVEST) {
			r = harvest_event(s, p->key, k[i].seq, &o[no], &found, err);
		} else {
			o[no] = (ev_out){ .first = k[i].seq, .type = p->type, .recipient = p->recipient, .right = p->right,
					  .case_id = p->key, .data = ca_strdup(p->text) };
			if (!o[no].data)
				r = enomem(err, p->type);
		}
		if (!r && found)
			no++;
	}
	qsort(o, no, sizeof(*o), out_cmp);
	char at[21];
	now_iso(at);
	bool due = false;
	for (size_t i = 0; !r && i < no; i++) {
		ca_sql_param q[] = { ca_sql_text(o[i].type),
				     o[i].case_id > 0 ? ca_sql_int(o[i].case_id) : ca_sql_null(),
				     ca_sql_text(o[i].recipient), ca_sql_text(o[i].right), ca_sql_text(o[i].data),
				     ca_sql_text(at) };
		int64_t id = 0;
		bool found;
		r = db_i64(s, o[i].type,
			   "INSERT INTO event (type, case_id, recipient, right_needed, data, at) VALUES (?, ?, ?, ?, ?, ?) "
			   "RETURNING id",
			   q, CA_ARRAY_SIZE(q), &id, &found, err);
		due = due || id % EV_TIDY_EVERY == 0;
	}
	for (size_t i = 0; i < n; i++)
		free(o[i].data);
	free(o);
	free(k);
	return !r && due ? tidy(s, no, err) : r;
}

/* ---- reading them ---- */

int ca_store_events_since(ca_store *s, int64_t after_id, size_t limit, json_t **ret, int64_t *ret_last,
			  ca_err *err)
{
	if (after_id < 0)
		return ca_err_set(err, CA_EINVAL, "after_id", "events: after_id must be 0 or an event id, not %lld",
				  (long long)after_id);
	limit = limit == 0 ? EV_PAGE_DEFAULT : limit > EV_PAGE_MAX ? EV_PAGE_MAX : limit;
	ca_sql_param p[] = { ca_sql_int(after_id), ca_sql_int((int64_t)limit) };
	json_t *rows = NULL;
	int r = db_rows(s, "events",
			"SELECT e.id, e.type, e.at, c.ticket_number AS \"case\", e.recipient, e.right_needed AS \"right\", "
			"e.data FROM event e LEFT JOIN case_record c ON c.id = e.case_id WHERE e.id > ? ORDER BY e.id LIMIT ?",
			p, 2, &rows, err);
	if (!r)
		r = parse_col_all(rows, "data", "events", err);
	int64_t last = after_id;
	size_t i;
	json_t *e;
	json_array_foreach(rows, i, e) {
		if (r)
			break;
		/* The ticket as it is now, where the event's data names a case. */
		json_t *data = json_object_get(e, "data");
		if (json_object_get(data, "case") && json_object_set(data, "case", json_object_get(e, "case")) < 0)
			r = enomem(err, "events");
		last = json_integer_value(json_object_get(e, "id"));
	}
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	*ret_last = last;
	return 0;
}

int ca_store_events_last_id(ca_store *s, int64_t *ret, ca_err *err)
{
	bool found;
	return db_i64(s, "events", "SELECT COALESCE(MAX(id), 0) FROM event", NULL, 0, ret, &found, err);
}
