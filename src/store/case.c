/* SPDX-License-Identifier: MIT */
/*
 * Cases and what hangs off them but a conversation: the case record with its
 * standard columns (from model.h's field list, never the caller's string)
 * and custom fields, field provenance, notes, the agent interaction log,
 * named blobs (trained models) and the training data read back from cases.
 * Every multi-statement call is one atomic section (internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"
#include "model.h"

/* ---- cases ---- */

/* Columns the store manages itself; a field of that name would shadow them. */
static const char *const case_reserved[] = { "id", "version", "conversation_id", "created_at", "updated_at" };

/*
 * The case_record column for a standard field, from model.h's fixed list —
 * the pointer returned is that list's, never the caller's string, and is
 * checked to be a plain identifier before it goes into SQL.
 */
static const char *standard_column(const char *field)
{
	if (!ca_case_is_standard_field(field))
		return NULL;
	for (size_t i = 0; i < ca_case_standard_field_count; i++) {
		const char *c = ca_case_standard_fields[i];
		if (strcmp(c, field) != 0)
			continue;
		if (!*c || strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(c))
			return NULL;
		return c;
	}
	return NULL;
}

static int check_field_name(int64_t case_id, const char *field, ca_err *err)
{
	if (ca_str_empty(field))
		return ca_err_set(err, CA_EINVAL, "field", "case %lld: no field name given", (long long)case_id);
	size_t n = strlen(field);
	bool ctl = false;
	for (size_t i = 0; i < n; i++)
		ctl = ctl || (unsigned char)field[i] < 0x20 || field[i] == 0x7f;
	if (n > 128 || ctl || !utf8_valid(field, n))
		return ca_err_set(err, CA_EINVAL, "field",
				  "case %lld: field name is not a name (control characters, bad UTF-8 or over 128 bytes)",
				  (long long)case_id);
	if (one_of(field, case_reserved, CA_ARRAY_SIZE(case_reserved)))
		return ca_err_set(err, CA_EINVAL, field, "case %lld: field '%s' is managed by the store", (long long)case_id,
				  field);
	return 0;
}

/* One case row plus its custom fields, as the case JSON of store.h. */
static int case_json(json_t *row, json_t *customs, json_t **ret)
{
	json_t *c = json_object(), *fields = json_object();
	if (!c || !fields) {
		json_decref(c);
		json_decref(fields);
		return CA_ENOMEM;
	}
	static const char *const top[] = { "id", "ticket_number", "version", "conversation_id", "origin",
					   "created_at", "updated_at" };
	int bad = 0;
	for (size_t i = 0; i < CA_ARRAY_SIZE(top); i++) {
		json_t *v = json_object_get(row, top[i]);
		bad |= json_object_set(c, top[i], v ? v : json_null());
	}
	for (size_t i = 0; i < ca_case_standard_field_count; i++) {
		json_t *v = json_object_get(row, ca_case_standard_fields[i]);
		if (json_is_string(v))
			bad |= json_object_set(fields, ca_case_standard_fields[i], v);
	}
	size_t i;
	json_t *cf;
	json_array_foreach(customs, i, cf) {
		const char *f = ca_json_str(cf, "field");
		json_t *v = json_object_get(cf, "value");
		if (f && v)
			bad |= json_object_set(fields, f, v);
	}
	bad |= json_object_set_new(c, "fields", fields);
	if (bad) {
		json_decref(c);
		return CA_ENOMEM;
	}
	*ret = c;
	return 0;
}

int ca_store_case_get_id(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)id);
	ca_sql_param p[] = { ca_sql_int(id) };
	json_t *rows = NULL, *customs = NULL;
	int r = db_rows(s, what, "SELECT * FROM case_record WHERE id = ?", p, 1, &rows, err);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "case %lld not found", (long long)id);
	if (!r)
		r = db_rows(s, what, "SELECT field, value FROM case_custom_field WHERE case_id = ? ORDER BY field", p,
			    1, &customs, err);
	json_t *c = NULL;
	if (!r && case_json(json_array_get(rows, 0), customs, &c) < 0)
		r = enomem(err, what);
	json_decref(rows);
	json_decref(customs);
	if (!r)
		*ret = c;
	return r;
}

int ca_store_case_id(ca_store *s, const char *id_or_ticket, int64_t *ret_id, ca_err *err)
{
	if (ca_str_empty(id_or_ticket))
		return ca_err_set(err, CA_EINVAL, "case", "no case id or ticket number given");
	/* Ticket first: an imported ticket number may itself be all digits. */
	ca_sql_param p[] = { ca_sql_text(id_or_ticket) };
	int64_t id;
	bool found;
	int r = db_i64(s, "case", "SELECT id FROM case_record WHERE ticket_number = ?", p, 1, &id, &found, err);
	if (r)
		return r;
	if (!found) {
		ca_sql_param q[] = { ca_sql_int(0) };
		if (ca_parse_i64(id_or_ticket, &q[0].i) == 0)
			r = db_i64(s, "case", "SELECT id FROM case_record WHERE id = ?", q, 1, &id, &found, err);
		if (r)
			return r;
		if (!found)
			return ca_err_set(err, CA_ENOTFOUND, "case", "case '%s' not found", id_or_ticket);
	}
	*ret_id = id;
	return 0;
}

int ca_store_case_get(ca_store *s, const char *id_or_ticket, json_t **ret, ca_err *err)
{
	int64_t id = 0;
	int r = ca_store_case_id(s, id_or_ticket, &id, err);
	return r ? r : ca_store_case_get_id(s, id, ret, err);
}

int ca_store_case_ticket(ca_store *s, int64_t id, char **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(id) };
	char *t = NULL;
	bool found;
	int r = db_str(s, "case", "SELECT ticket_number FROM case_record WHERE id = ?", p, 1, &t, &found, err);
	if (!r && (!found || !t))
		r = ca_err_set(err, CA_ENOTFOUND, "case_id", "case %lld not found", (long long)id);
	if (r) {
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

int ca_store_case_create(ca_store *s, const char *origin, const char *conversation_id, int64_t *ret_id,
			 char **ret_ticket, ca_err *err)
{
	int r = check_str(origin, false, "new case", "origin", err);
	if (!r)
		r = check_str(conversation_id, false, "new case", "conversation_id", err);
	if (r)
		return r;
	r = op_begin(s, "new case", err);
	if (r)
		return r;
	int64_t id;
	ca_buf ticket;
	ca_buf_init(&ticket);
	r = next_id(s, "new case", "case", &id, err);
	if (!r && ca_buf_printf(&ticket, "CAS-%05lld", (long long)id) < 0)
		r = enomem(err, "new case");
	if (!r) {
		/* A hand-imported ticket may hold the number already. */
		ca_sql_param q[] = { ca_sql_text(ticket.data) };
		int64_t other;
		bool taken;
		r = db_i64(s, "new case", "SELECT id FROM case_record WHERE ticket_number = ?", q, 1, &other, &taken,
			   err);
		if (!r && taken)
			r = ca_err_set(err, CA_EEXIST, "ticket_number", "new case: ticket number %s is taken by case %lld",
				       ticket.data, (long long)other);
	}
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(ticket.data), ca_sql_text(conversation_id),
				     ca_sql_text(origin), ca_sql_text(at), ca_sql_text(at) };
		r = db_exec(s, ticket.data,
			    "INSERT INTO case_record (id, ticket_number, version, conversation_id, origin, status, "
			    "created_at, updated_at) VALUES (?, ?, 1, ?, ?, 'active', ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	if (!r)
		r = ev_case_created(s, id, origin, err);
	if (!r)
		r = fts_note_case(s, id, err);
	r = op_end(s, r, "new case", err);
	if (r) {
		ca_buf_done(&ticket);
		return r;
	}
	/* Cannot fail: the buffer already holds the ticket, so steal only
	 * hands the pointer over. */
	char *t = ret_ticket ? ca_buf_steal(&ticket) : NULL;
	ca_buf_done(&ticket);
	*ret_id = id;
	if (ret_ticket)
		*ret_ticket = t;
	return 0;
}

/* Run an "SELECT id ..." query and build one item per id with `item`,
 * in the query's order: the shape of every list of whole cases. */
static int items_by_id(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
		       int (*item)(ca_store *, int64_t, json_t **, ca_err *), json_t **ret, ca_err *err)
{
	json_t *ids, *out = json_array();
	if (!out)
		return enomem(err, what);
	int r = db_rows(s, what, sql, p, n, &ids, err);
	if (r) {
		json_decref(out);
		return r;
	}
	size_t i;
	json_t *row;
	json_array_foreach(ids, i, row) {
		json_t *it;
		r = item(s, json_integer_value(json_object_get(row, "id")), &it, err);
		if (!r && json_array_append_new(out, it) < 0)
			r = enomem(err, what);
		if (r)
			break;
	}
	json_decref(ids);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int ca_store_case_list(ca_store *s, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(limit > INT64_MAX ? INT64_MAX : (int64_t)limit) };
	return limit ? items_by_id(s, "case list", "SELECT id FROM case_record ORDER BY id DESC LIMIT ?", p, 1,
				   ca_store_case_get_id, ret, err)
		     : items_by_id(s, "case list", "SELECT id FROM case_record ORDER BY id DESC", NULL, 0,
				   ca_store_case_get_id, ret, err);
}

int ca_store_case_count(ca_store *s, int64_t *ret, ca_err *err)
{
	int64_t n;
	bool found;
	int r = db_i64(s, "case count", "SELECT COUNT(*) FROM case_record", NULL, 0, &n, &found, err);
	if (!r)
		*ret = found ? n : 0;
	return r;
}

static const char *const prov_sources[] = { "agent", "person", "arc", "import", "system" };
static const char *const prov_keys[] = { "source", "actor", "confidence", "method", "evidence" };

typedef struct prov {
	const char *source;                  /* static: prov_sources' */
	const char *actor, *method;          /* borrowed from the JSON */
	bool has_confidence;
	double confidence;
	char *evidence; /* JSON text, heap, or NULL */
} prov;

static int prov_parse(const json_t *j, const char *what, prov *pv, ca_err *err)
{
	*pv = (prov){ .source = NULL };
	if (!json_is_object(j))
		return ca_err_set(err, CA_EINVAL, "prov", "%s: provenance is required (an object with \"source\")", what);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)j, key, v) { /* read only; jansson wants it mutable */
		if (!one_of(key, prov_keys, CA_ARRAY_SIZE(prov_keys)))
			return ca_err_set(err, CA_EINVAL, key, "%s: unknown provenance key '%s'", what, key);
		if (json_is_null(v))
			continue;
		if (strcmp(key, "confidence") == 0) {
			double c = json_number_value(v);
			if (!json_is_number(v) || !(c >= 0.0 && c <= 1.0))
				return ca_err_set(err, CA_EINVAL, key, "%s: confidence must be a number in [0, 1]", what);
			pv->has_confidence = true;
			pv->confidence = c;
		} else if (strcmp(key, "evidence") == 0) {
			if (!json_is_array(v))
				return ca_err_set(err, CA_EINVAL, key, "%s: evidence must be an array", what);
		} else if (!json_is_string(v)) {
			return ca_err_set(err, CA_EINVAL, key, "%s: provenance \"%s\" must be a string", what, key);
		}
	}
	const char *source = ca_json_str(j, "source");
	pv->actor = ca_json_str(j, "actor");
	pv->method = ca_json_str(j, "method");
	/* The list's own string, so it outlives the JSON (the event notes it). */
	for (size_t i = 0; source && i < CA_ARRAY_SIZE(prov_sources); i++)
		if (!strcmp(source, prov_sources[i]))
			pv->source = prov_sources[i];
	if (!pv->source)
		return ca_err_set(err, CA_EINVAL, "source",
				  "%s: provenance source '%s' is not one of agent, person, arc, import, system", what,
				  source ? source : "(missing)");
	json_t *ev = json_object_get(j, "evidence");
	if (json_is_array(ev) && !(pv->evidence = dump(ev)))
		return enomem(err, what);
	return 0;
}

int ca_store_case_write(ca_store *s, int64_t case_id, const char *field, const char *value, const json_t *prov_j,
			ca_err *err)
{
	int r = check_field_name(case_id, field, err);
	if (r)
		return r;
	char what[192];
	snprintf(what, sizeof(what), "case %lld field '%s'", (long long)case_id, field);
	r = check_str(value, false, what, "value", err);
	if (r)
		return r;
	prov pv;
	r = prov_parse(prov_j, what, &pv, err);
	if (r) {
		free(pv.evidence);
		return r;
	}
	const char *col = standard_column(field);
	bool is_ticket = col && strcmp(col, "ticket_number") == 0;
	if (is_ticket && ca_str_empty(value)) {
		free(pv.evidence);
		return ca_err_set(err, CA_EINVAL, field, "%s: the ticket number cannot be cleared", what);
	}

	ca_buf sql;
	ca_buf_init(&sql);
	char *old = NULL;
	char at[21];
	now_iso(at);
	r = op_begin(s, what, err);
	if (r) {
		free(pv.evidence);
		return r;
	}
	ca_sql_param pid[] = { ca_sql_int(case_id) };
	bool found = false;
	if (col) {
		if (ca_buf_printf(&sql, "SELECT %s FROM case_record WHERE id = ?", col) < 0)
			r = enomem(err, what);
		if (!r)
			r = db_str(s, what, sql.data, pid, 1, &old, &found, err);
		if (!r && !found)
			r = ca_err_set(err, CA_ENOTFOUND, "case_id", "case %lld not found", (long long)case_id);
	} else {
		r = case_exists(s, what, case_id, err);
		ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(field) };
		if (!r)
			r = db_str(s, what, "SELECT value FROM case_custom_field WHERE case_id = ? AND field = ?", p, 2,
				   &old, &found, err);
	}
	if (!r && is_ticket) {
		ca_sql_param p[] = { ca_sql_text(value), ca_sql_int(case_id) };
		int64_t other;
		bool taken;
		r = db_i64(s, what, "SELECT id FROM case_record WHERE ticket_number = ? AND id <> ?", p, 2, &other,
			   &taken, err);
		if (!r && taken)
			r = ca_err_set(err, CA_EEXIST, field, "%s: ticket number %s is taken by case %lld", what, value,
				       (long long)other);
	}
	if (!r && col) {
		ca_buf_reset(&sql);
		if (ca_buf_printf(&sql, "UPDATE case_record SET %s = ?, updated_at = ? WHERE id = ?", col) < 0)
			r = enomem(err, what);
		ca_sql_param p[] = { ca_sql_text(value), ca_sql_text(at), ca_sql_int(case_id) };
		if (!r)
			r = db_exec(s, what, sql.data, p, 3, err);
		if (!r && (!strcmp(col, "title") || !strcmp(col, "description") || !strcmp(col, "ticket_number")))
			r = fts_note_case(s, case_id, err);
	} else if (!r) {
		ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(field), ca_sql_text(value) };
		if (value)
			r = db_exec(s, what,
				    "INSERT INTO case_custom_field (case_id, field, value) VALUES (?, ?, ?) "
				    "ON CONFLICT (case_id, field) DO UPDATE SET value = excluded.value",
				    p, 3, err);
		else
			r = db_exec(s, what, "DELETE FROM case_custom_field WHERE case_id = ? AND field = ?", p, 2, err);
		ca_sql_param q[] = { ca_sql_text(at), ca_sql_int(case_id) };
		if (!r)
			r = db_exec(s, what, "UPDATE case_record SET updated_at = ? WHERE id = ?", q, 2, err);
	}
	ca_sql_param conf = pv.has_confidence ? ca_sql_real(pv.confidence) : ca_sql_null();
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(field), ca_sql_text(pv.source),
				     ca_sql_text(pv.actor), conf, ca_sql_text(pv.method), ca_sql_text(pv.evidence),
				     ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO field_provenance (case_id, field, source, actor, confidence, method, evidence, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, field) DO UPDATE SET "
			    "source = excluded.source, actor = excluded.actor, confidence = excluded.confidence, "
			    "method = excluded.method, evidence = excluded.evidence, at = excluded.at",
			    p, CA_ARRAY_SIZE(p), err);
	}
	int64_t audit_id = 0;
	if (!r)
		r = next_id(s, what, "audit", &audit_id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(audit_id), ca_sql_int(case_id), ca_sql_text(field), ca_sql_text(old),
				     ca_sql_text(value), ca_sql_text(pv.source), ca_sql_text(pv.actor), conf,
				     ca_sql_text(pv.method), ca_sql_text(pv.evidence), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO audit (id, case_id, field, old_value, new_value, source, actor, confidence, "
			    "method, evidence, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	if (!r)
		r = ev_case_field(s, case_id, field, pv.source, err);
	r = op_end(s, r, what, err);
	free(old);
	free(pv.evidence);
	ca_buf_done(&sql);
	return r;
}

int ca_store_case_bump_version(ca_store *s, int64_t case_id, int64_t expected, int64_t *ret_version, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(at), ca_sql_int(case_id), ca_sql_int(expected) };
	int r = db_exec(s, what, "UPDATE case_record SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			p, 3, err);
	if (r)
		return r;
	if (s->drv->changes(s->conn) == 1) {
		*ret_version = expected + 1;
		return 0;
	}
	ca_sql_param q[] = { ca_sql_int(case_id) };
	int64_t now;
	bool found;
	r = db_i64(s, what, "SELECT version FROM case_record WHERE id = ?", q, 1, &now, &found, err);
	if (r)
		return r;
	if (!found)
		return ca_err_set(err, CA_ENOTFOUND, "case_id", "case %lld not found", (long long)case_id);
	return ca_err_set(err, CA_ECONFLICT, "version",
			  "case %lld is at version %lld, not %lld: it changed under us; recompute", (long long)case_id,
			  (long long)now, (long long)expected);
}

int ca_store_case_sources(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows = NULL, *out = json_object();
	if (!out)
		return enomem(err, what);
	int r = db_rows(s, what, "SELECT field, source FROM field_provenance WHERE case_id = ?", p, 1, &rows, err);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *field = ca_json_str(row, "field");
		if (!r && field && json_object_set(out, field, json_object_get(row, "source")) < 0)
			r = enomem(err, what);
	}
	json_decref(rows);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int ca_store_case_provenance(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	int r = case_exists(s, what, case_id, err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows, *out = json_object();
	if (!out)
		return enomem(err, what);
	r = db_rows(s, what,
		    "SELECT field, source, actor, confidence, method, evidence, at FROM field_provenance "
		    "WHERE case_id = ? ORDER BY field",
		    p, 1, &rows, err);
	if (r) {
		json_decref(out);
		return r;
	}
	r = parse_col_all(rows, "evidence", what, err);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (r)
			break;
		char *field = ca_strdup(ca_json_str(row, "field"));
		if (!field) {
			r = enomem(err, what);
			break;
		}
		json_object_del(row, "field");
		if (json_object_set(out, field, row) < 0)
			r = enomem(err, what);
		free(field);
	}
	json_decref(rows);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int ca_store_audit_list(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	int r = case_exists(s, what, case_id, err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows = NULL;
	r = db_rows(s, what,
		    "SELECT id, field, old_value, new_value, source, actor, confidence, method, evidence, at "
		    "FROM audit WHERE case_id = ? ORDER BY id",
		    p, 1, &rows, err);
	if (!r)
		r = parse_col_all(rows, "evidence", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- notes ---- */

static const char *const note_kinds[] = { "summary", "note", "resolution" };

int ca_store_note_add(ca_store *s, int64_t case_id, const char *kind, const char *body, const json_t *evidence,
		      const char *actor, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld note", (long long)case_id);
	if (!one_of(kind, note_kinds, CA_ARRAY_SIZE(note_kinds)))
		return ca_err_set(err, CA_EINVAL, "kind", "%s: kind '%s' is not summary or note", what,
				  kind ? kind : "(null)");
	int r = check_str(body, true, what, "body", err);
	if (!r)
		r = check_str(actor, false, what, "actor", err);
	if (r)
		return r;
	char *ev = NULL;
	if (evidence && !(ev = dump(evidence)))
		return enomem(err, what);
	r = op_begin(s, what, err);
	if (r) {
		free(ev);
		return r;
	}
	int64_t id = 0;
	r = case_exists(s, what, case_id, err);
	if (!r)
		r = next_id(s, what, "note", &id, err);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_int(case_id), ca_sql_text(kind), ca_sql_text(body),
				     ca_sql_text(ev), ca_sql_text(actor), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO note (id, case_id, kind, body, evidence, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)", p,
			    CA_ARRAY_SIZE(p), err);
	}
	if (!r)
		r = ev_plain(s, "note.added", case_id, NULL, "work",
			     json_pack("{s:n, s:I, s:s}", "case", "note", (json_int_t)id, "kind", kind), err);
	free(ev);
	return op_end(s, r, what, err);
}

int ca_store_note_list(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld notes", (long long)case_id);
	int r = case_exists(s, what, case_id, err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows;
	r = db_rows(s, what, "SELECT id, kind, body, evidence, actor, at FROM note WHERE case_id = ? ORDER BY id", p, 1,
		    &rows, err);
	if (r)
		return r;
	r = parse_col_all(rows, "evidence", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- agent interaction log ---- */

int ca_store_interaction_add(ca_store *s, const char *conversation_id, int64_t case_id, const char *action,
			     const char *outcome, const json_t *detail, ca_err *err)
{
	ca_interaction_row row = { conversation_id, case_id, action, outcome, detail, NULL };
	return ca_store_interaction_add_rows(s, &row, 1, err);
}

static int interaction_row_check(const ca_interaction_row *row, size_t i, size_t n, ca_err *err)
{
	const char *what = "interaction log";
	int r = check_str(row->conversation_id, false, what, "conversation_id", err);
	if (!r)
		r = check_str(row->action, true, what, "action", err);
	if (!r)
		r = check_str(row->outcome, false, what, "outcome", err);
	if (!r && row->at)
		r = check_str(row->at, true, what, "at", err);
	if (!r && row->detail && !json_is_object(row->detail))
		r = ca_err_set(err, CA_EINVAL, "detail", "%s: detail must be a JSON object", what);
	if (r && n > 1)
		ca_err_locate(err, "row %zu of %zu", i + 1, n);
	return r;
}

int ca_store_interaction_add_rows(ca_store *s, const ca_interaction_row *rows, size_t n, ca_err *err)
{
	const char *what = "interaction log";
	for (size_t i = 0; i < n; i++) {
		int r = interaction_row_check(&rows[i], i, n, err);
		if (r)
			return r;
	}
	if (!n)
		return 0;
	int r = op_begin(s, what, err);
	if (r)
		return r;
	int64_t id = 0;
	r = next_ids(s, what, "interaction", (int64_t)n, &id, err);
	for (size_t i = 0; !r && i < n; i++, id++) {
		const ca_interaction_row *row = &rows[i];
		char now[21], *dt = NULL;
		if (row->detail && !(dt = dump(row->detail))) {
			r = enomem(err, what);
			break;
		}
		if (!row->at)
			now_iso(now);
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(row->conversation_id),
				     row->case_id > 0 ? ca_sql_int(row->case_id) : ca_sql_null(),
				     ca_sql_text(row->action), ca_sql_text(row->outcome), ca_sql_text(dt),
				     ca_sql_text(row->at ? row->at : now) };
		r = db_exec(s, what,
			    "INSERT INTO interaction_log (id, conversation_id, case_id, action, outcome, detail, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
		free(dt);
	}
	return op_end(s, r, what, err);
}

int ca_store_interaction_list(ca_store *s, const char *conversation_id, json_t **ret, ca_err *err)
{
	const char *what = "interaction log";
	int r = check_str(conversation_id, false, what, "conversation_id", err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	json_t *rows;
	if (conversation_id)
		r = db_rows(s, what,
			    "SELECT id, conversation_id, case_id, action, outcome, detail, at FROM interaction_log "
			    "WHERE conversation_id = ? ORDER BY id",
			    p, 1, &rows, err);
	else
		r = db_rows(s, what,
			    "SELECT id, conversation_id, case_id, action, outcome, detail, at FROM interaction_log ORDER BY id",
			    NULL, 0, &rows, err);
	if (r)
		return r;
	r = parse_col_all(rows, "detail", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- blobs ---- */

static const char hexdigits[] = "0123456789abcdef";

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ca_store_blob_put(ca_store *s, const char *name, const char *data, size_t len, ca_err *err)
{
	int r = check_str(name, true, "blob", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "blob '%s'", name);
	if (!data && len)
		return ca_err_set(err, CA_EINVAL, "data", "%s: no data given for %zu bytes", what, len);
	/* Both backends keep TEXT as NUL-free UTF-8 only, so anything else
	 * goes in as hex (see the blob table in migrate.c). */
	bool as_text = !len || (!memchr(data, '\0', len) && utf8_valid(data, len));
	if (!as_text && len > (SIZE_MAX - 1) / 2)
		return ca_err_set(err, CA_ETOOBIG, "data", "%s: %zu bytes is too large", what, len);
	char *enc = malloc(as_text ? len + 1 : 2 * len + 1);
	if (!enc)
		return enomem(err, what);
	if (as_text) {
		if (len)
			memcpy(enc, data, len);
		enc[len] = '\0';
	} else {
		for (size_t i = 0; i < len; i++) {
			unsigned char b = (unsigned char)data[i];
			enc[2 * i] = hexdigits[b >> 4];
			enc[2 * i + 1] = hexdigits[b & 15];
		}
		enc[2 * len] = '\0';
	}
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(name), ca_sql_text(as_text ? "text" : "hex"), ca_sql_text(enc),
			     ca_sql_text(at) };
	r = db_exec(s, what,
		    "INSERT INTO blob (name, encoding, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) "
		    "DO UPDATE SET encoding = excluded.encoding, data = excluded.data, updated_at = excluded.updated_at",
		    p, CA_ARRAY_SIZE(p), err);
	free(enc);
	return r;
}

int ca_store_blob_get(ca_store *s, const char *name, char **ret, size_t *ret_len, ca_err *err)
{
	int r = check_str(name, true, "blob", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "blob '%s'", name);
	ca_sql_param p[] = { ca_sql_text(name) };
	first_row f;
	r = db_first(s, what, "SELECT encoding, data FROM blob WHERE name = ?", p, 1, &f, err);
	if (r)
		return r;
	if (!f.found) {
		first_row_done(&f);
		return ca_err_set(err, CA_ENOTFOUND, "name", "%s not found", what);
	}
	const char *enc = f.v[0] ? f.v[0] : "", *data = f.v[1] ? f.v[1] : "";
	size_t n = strlen(data);
	if (strcmp(enc, "text") == 0) {
		*ret_len = n;
		*ret = f.v[1] ? f.v[1] : calloc(1, 1);
		f.v[1] = NULL;
		first_row_done(&f);
		return *ret ? 0 : enomem(err, what);
	}
	if (strcmp(enc, "hex") != 0 || n % 2) {
		first_row_done(&f);
		return ca_err_set(err, CA_EDB, "data", "%s is corrupt (encoding '%s', %zu characters)", what, enc, n);
	}
	char *out = malloc(n / 2 + 1);
	if (!out) {
		first_row_done(&f);
		return enomem(err, what);
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = unhex(data[2 * i]), lo = unhex(data[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			first_row_done(&f);
			return ca_err_set(err, CA_EDB, "data", "%s is corrupt (bad hex at %zu)", what, 2 * i);
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	first_row_done(&f);
	*ret = out;
	*ret_len = n / 2;
	return 0;
}

/* ---- training data ---- */

/* The people's words of a conversation, one message a line; empty when the
 * conversation has none. */
static int conversation_text(ca_store *s, const char *conversation_id, ca_buf *out, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	json_t *rows;
	int r = db_rows(s, "training text",
			"SELECT text FROM message WHERE conversation_id = ? AND role IN ('customer', 'agent') ORDER BY seq",
			p, 1, &rows, err);
	if (r)
		return r;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *t = ca_json_str(row, "text");
		if ((out->len && ca_buf_puts(out, "\n") < 0) || ca_buf_puts(out, t ? t : "") < 0) {
			r = enomem(err, "training text");
			break;
		}
	}
	json_decref(rows);
	return r;
}

static int training_item(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	json_t *c;
	int r = ca_store_case_get_id(s, id, &c, err);
	if (r)
		return r;
	ca_buf text;
	ca_buf_init(&text);
	const char *conv = ca_json_str(c, "conversation_id");
	if (conv)
		r = conversation_text(s, conv, &text, err);
	if (!r && text.len == 0) {
		json_t *fields = json_object_get(c, "fields");
		const char *title = ca_json_str(fields, "title"), *desc = ca_json_str(fields, "description");
		if (ca_buf_puts(&text, title ? title : "") < 0 ||
		    (desc && (ca_buf_puts(&text, "\n") < 0 || ca_buf_puts(&text, desc) < 0)))
			r = enomem(err, "training text");
	}
	json_t *item = NULL;
	if (!r) {
		/* The _new setters take their value even when they fail. */
		item = json_object();
		if (!item || json_object_set_new(item, "case_id", json_integer(id)) < 0 ||
		    json_object_set(item, "fields", json_object_get(c, "fields")) < 0 ||
		    json_object_set_new(item, "text", json_string(text.data ? text.data : "")) < 0) {
			json_decref(item);
			item = NULL;
			r = enomem(err, "training text");
		}
	}
	ca_buf_done(&text);
	json_decref(c);
	if (!r)
		*ret = item;
	return r;
}

int ca_store_training_cases(ca_store *s, json_t **ret, ca_err *err)
{
	return items_by_id(s, "training cases",
			   "SELECT id FROM case_record WHERE LOWER(status) IN ('resolved', 'closed') ORDER BY id", NULL, 0,
			   training_item, ret, err);
}
