/* SPDX-License-Identifier: MIT */
/*
 * Knowledge harvest jobs (migration 5): a job's state and counters and each
 * record's outcome in it, stored as they happen so a harvest stopped part-way
 * resumes where it was with the same outcome after a restart; and what a
 * harvest reads, the resolved cases and closed conversations, with the
 * knowledge figures over them.
 */
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

/* ---- knowledge harvest jobs (migration 5) ---- */

static const char *const harvest_states[] = { "running", "stopped", "done", "failed" };
static const char *const harvest_outcomes[] = { "created", "covered", "filtered", "insufficient", "error" };
/* The job's counter column of each outcome, in the order above. Fixed
 * names: the only text ever spliced into the SQL below. */
static const char *const harvest_counters[] = { "created", "covered", "filtered", "insufficient", "errors" };

static const char harvest_cols[] =
	"SELECT id, source, rule, state, total, processed, created, covered, filtered, insufficient, errors, "
	"last_case_id, last_record, started_at, updated_at, finished_at FROM harvest_job ";

int ca_store_harvest_create(ca_store *s, const char *source, const char *rule, int64_t total, int64_t *ret_id,
			    ca_err *err)
{
	const char *what = "harvest job";
	static const char *const sources[] = { "cases", "conversations" };
	if (!source || !one_of(source, sources, CA_ARRAY_SIZE(sources)))
		return ca_err_set(err, CA_EINVAL, "source", "%s: the source is cases or conversations, not '%s'", what,
				  source ? source : "");
	char at[21];
	now_iso(at);
	int64_t id = 0;
	int r = op_begin(s, what, err);
	if (!r)
		r = next_id(s, what, "harvest_job", &id, err);
	ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(source), ca_sql_text(rule), ca_sql_int(total), ca_sql_text(at),
			     ca_sql_text(at) };
	if (!r)
		r = db_exec(s, what,
			    "INSERT INTO harvest_job (id, source, rule, state, total, started_at, updated_at) "
			    "VALUES (?, ?, ?, 'running', ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	if (!r)
		r = ev_harvest(s, id, err);
	r = op_end(s, r, what, err);
	if (!r)
		*ret_id = id;
	return r;
}

int ca_store_harvest_get(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	ca_buf sql = { 0 };
	if (ca_buf_printf(&sql, "%sWHERE id = ?", harvest_cols) < 0) {
		ca_buf_done(&sql);
		return enomem(err, "harvest job");
	}
	ca_sql_param p[] = { ca_sql_int(id) };
	json_t *rows = NULL;
	int r = db_rows(s, "harvest job", sql.data, p, 1, &rows, err);
	ca_buf_done(&sql);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "job", "harvest job %lld not found", (long long)id);
	if (!r)
		*ret = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

int ca_store_harvest_list(ca_store *s, json_t **ret, ca_err *err)
{
	ca_buf sql = { 0 };
	if (ca_buf_printf(&sql, "%sORDER BY id", harvest_cols) < 0) {
		ca_buf_done(&sql);
		return enomem(err, "harvest jobs");
	}
	int r = db_rows(s, "harvest jobs", sql.data, NULL, 0, ret, err);
	ca_buf_done(&sql);
	return r;
}

int ca_store_harvest_set_state(ca_store *s, int64_t id, const char *state, const char *only_from, bool *ret_changed,
			       ca_err *err)
{
	const char *what = "harvest job";
	if (!state || !one_of(state, harvest_states, CA_ARRAY_SIZE(harvest_states)) ||
	    (only_from && !one_of(only_from, harvest_states, CA_ARRAY_SIZE(harvest_states))))
		return ca_err_set(err, CA_EINVAL, "state", "%s %lld: unknown state", what, (long long)id);
	char at[21];
	now_iso(at);
	bool final = !strcmp(state, "done") || !strcmp(state, "failed");
	ca_sql_param p[] = { ca_sql_text(state), ca_sql_text(at), ca_sql_text(final ? at : NULL), ca_sql_int(id),
			     ca_sql_text(only_from) };
	int r = op_begin(s, what, err);
	if (!r)
		r = db_exec(s, what,
			    only_from ? "UPDATE harvest_job SET state = ?, updated_at = ?, finished_at = ? WHERE id = ? AND state = ?"
				      : "UPDATE harvest_job SET state = ?, updated_at = ?, finished_at = ? WHERE id = ?",
			    p, only_from ? 5 : 4, err);
	bool changed = !r && s->drv->changes(s->conn) > 0;
	if (changed)
		r = ev_harvest(s, id, err);
	r = op_end(s, r, what, err);
	if (!r && ret_changed)
		*ret_changed = changed;
	return r;
}

int ca_store_harvest_record(ca_store *s, int64_t job_id, const char *record_type, const char *record_id,
			    int64_t cursor, const char *cursor_record, const char *outcome, const char *article,
			    const char *reason, ca_err *err)
{
	const char *what = "harvest log";
	size_t k = 0;
	while (k < CA_ARRAY_SIZE(harvest_outcomes) && (!outcome || strcmp(outcome, harvest_outcomes[k])))
		k++;
	if (k == CA_ARRAY_SIZE(harvest_outcomes))
		return ca_err_set(err, CA_EINVAL, "outcome", "%s: unknown outcome '%s'", what, outcome ? outcome : "");
	char at[21];
	now_iso(at);
	ca_buf sql = { 0 };
	/* the column name comes from harvest_counters, never from input */
	if (ca_buf_printf(&sql,
			  "UPDATE harvest_job SET processed = processed + 1, %s = %s + 1, %s = ?, updated_at = ? "
			  "WHERE id = ?",
			  harvest_counters[k], harvest_counters[k], cursor_record ? "last_record" : "last_case_id") < 0) {
		ca_buf_done(&sql);
		return enomem(err, what);
	}
	int r = op_begin(s, what, err);
	ca_sql_param p[] = { ca_sql_int(job_id), ca_sql_text(record_type), ca_sql_text(record_id), ca_sql_text(outcome),
			     ca_sql_text(article), ca_sql_text(reason), ca_sql_text(at) };
	if (!r)
		r = db_exec(s, what,
			    "INSERT INTO harvest_log (job_id, record_type, record_id, outcome, article, reason, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	ca_sql_param q[] = { cursor_record ? ca_sql_text(cursor_record) : ca_sql_int(cursor), ca_sql_text(at),
			     ca_sql_int(job_id) };
	if (!r)
		r = db_exec(s, what, sql.data, q, CA_ARRAY_SIZE(q), err);
	if (!r && s->drv->changes(s->conn) != 1)
		r = ca_err_set(err, CA_ENOTFOUND, "job", "%s: harvest job %lld not found", what, (long long)job_id);
	if (!r)
		r = ev_harvest(s, job_id, err);
	ca_buf_done(&sql);
	return op_end(s, r, what, err);
}

int ca_store_harvest_log(ca_store *s, int64_t job_id, const char *outcome, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(job_id), ca_sql_text(outcome), ca_sql_int(limit ? (int64_t)limit : -1) };
	if (outcome)
		return db_rows(s, "harvest log",
			       "SELECT record_type, record_id, outcome, article, reason, at FROM harvest_log "
			       "WHERE job_id = ? AND outcome = ? ORDER BY at, LENGTH(record_id), record_id LIMIT ?",
			       p, 3, ret, err);
	p[1] = p[2];
	return db_rows(s, "harvest log",
		       "SELECT record_type, record_id, outcome, article, reason, at FROM harvest_log "
		       "WHERE job_id = ? ORDER BY at, LENGTH(record_id), record_id LIMIT ?",
		       p, 2, ret, err);
}

int ca_store_resolved_cases(ca_store *s, int64_t after_id, size_t limit, int64_t **ret_ids, size_t *ret_n,
			    ca_err *err)
{
	ids_ctx c = { 0 };
	ca_sql_param p[] = { ca_sql_int(after_id), ca_sql_int(limit ? (int64_t)limit : -1) };
	int r = db_query(s, "resolved cases",
			 "SELECT id FROM case_record WHERE status IN ('resolved', 'closed') AND id > ? ORDER BY id LIMIT ?", p,
			 2, take_id, &c, err);
	if (!r && c.rc)
		r = c.rc == CA_ENOMEM ? enomem(err, "resolved cases")
				      : ca_err_set(err, CA_EDB, NULL, "resolved cases: a case id is not a number");
	if (r) {
		free(c.v);
		return r;
	}
	*ret_ids = c.v;
	*ret_n = c.n;
	return 0;
}

typedef struct strs_ctx {
	ca_strv *sv;
	int rc;
} strs_ctx;

static int take_str(const ca_sql_row *row, void *ud)
{
	strs_ctx *c = ud;
	if (row->n < 1 || !row->text[0])
		return 0;
	c->rc = ca_strv_push(c->sv, row->text[0]) ? CA_ENOMEM : 0;
	return c->rc ? 1 : 0;
}

int ca_store_closed_conversations(ca_store *s, const char *after_id, size_t limit, ca_strv *ret_ids, ca_err *err)
{
	strs_ctx c = { .sv = ret_ids };
	ca_sql_param p[] = { ca_sql_text(after_id ? after_id : ""), ca_sql_int(limit ? (int64_t)limit : -1) };
	int r = db_query(s, "closed conversations",
			 "SELECT id FROM conversation WHERE state = 'closed' AND id > ? ORDER BY id LIMIT ?", p, 2, take_str,
			 &c, err);
	return !r && c.rc ? enomem(err, "closed conversations") : r;
}

int ca_store_closed_conversation_count(ca_store *s, int64_t *ret, ca_err *err)
{
	bool found;
	return db_i64(s, "closed conversations", "SELECT COUNT(*) FROM conversation WHERE state = 'closed'", NULL, 0, ret,
		      &found, err);
}

int ca_store_resolved_case_count(ca_store *s, int64_t *ret, ca_err *err)
{
	bool found;
	return db_i64(s, "resolved cases", "SELECT COUNT(*) FROM case_record WHERE status IN ('resolved', 'closed')", NULL,
		      0, ret, &found, err);
}

int ca_store_knowledge_stats(ca_store *s, json_t **ret, ca_err *err)
{
	json_t *by_state = NULL, *by_source = NULL, *rev = NULL, *rated = NULL;
	int r = db_rows(s, "insights", "SELECT state, COUNT(*) AS n FROM knowledge_article GROUP BY state ORDER BY state",
			NULL, 0, &by_state, err);
	if (!r)
		r = db_rows(s, "insights", "SELECT source, COUNT(*) AS n FROM knowledge_article GROUP BY source ORDER BY source",
			    NULL, 0, &by_source, err);
	if (!r)
		r = db_rows(s, "insights",
			    "SELECT number, title, CAST(rating_sum AS REAL) / rating_count AS average_rating FROM knowledge_article "
			    "WHERE rating_count > 0 AND rating_sum <= 2 * rating_count ORDER BY number",
			    NULL, 0, &rev, err);
	if (!r)
		r = db_rows(s, "insights",
			    "SELECT COUNT(*) AS rated, SUM(rating_sum) AS total, SUM(rating_count) AS votes FROM knowledge_article "
			    "WHERE rating_count > 0",
			    NULL, 0, &rated, err);
	int64_t resolved = 0, linked = 0, published = 0;
	bool found;
	if (!r)
		r = db_i64(s, "insights",
			   "SELECT COUNT(*) FROM case_record WHERE LOWER(status) IN ('resolved', 'closed')", NULL, 0, &resolved,
			   &found, err);
	if (!r)
		r = db_i64(s, "insights",
			   "SELECT COUNT(DISTINCT c.id) FROM case_record c JOIN article_source a ON a.record_type = 'case' "
			   "AND a.record_id = CAST(c.id AS TEXT) WHERE LOWER(c.status) IN ('resolved', 'closed')",
			   NULL, 0, &linked, &found, err);
	int64_t closed = 0, closed_linked = 0;
	if (!r)
		r = ca_store_closed_conversation_count(s, &closed, err);
	if (!r)
		r = db_i64(s, "insights",
			   "SELECT COUNT(DISTINCT c.id) FROM conversation c JOIN article_source a ON "
			   "a.record_type = 'conversation' AND a.record_id = c.id WHERE c.state = 'closed'",
			   NULL, 0, &closed_linked, &found, err);
	if (!r)
		r = db_i64(s, "insights", "SELECT COUNT(*) FROM knowledge_article WHERE state = 'published'", NULL, 0,
			   &published, &found, err);
	json_t *out = NULL;
	if (!r) {
		json_t *st = json_object(), *so = json_object();
		size_t i;
		json_t *row;
		json_array_foreach(by_state, i, row) json_object_set(st, ca_json_str(row, "state"), json_object_get(row, "n"));
		json_array_foreach(by_source, i, row) json_object_set(so, ca_json_str(row, "source"), json_object_get(row, "n"));
		json_t *r0 = json_array_get(rated, 0);
		json_t *votes = json_object_get(r0, "votes"), *total = json_object_get(r0, "total");
		double avg = json_integer_value(votes) > 0 ? (double)json_integer_value(total) / (double)json_integer_value(votes) : 0;
		out = json_pack("{s:{s:o, s:o, s:I, s:O, s:o, s:O}, s:I, s:I, s:I, s:I}", "articles", "by_state", st,
				"by_source", so, "published", (json_int_t)published, "rated", json_object_get(r0, "rated"),
				"average_rating", json_integer_value(votes) > 0 ? json_real(avg) : json_null(), "to_revise", rev,
				"resolved_cases", (json_int_t)resolved, "resolved_cases_linked", (json_int_t)linked,
				"closed_conversations", (json_int_t)closed, "closed_conversations_linked",
				(json_int_t)closed_linked);
		if (!out)
			r = enomem(err, "insights");
	}
	json_decref(by_state);
	json_decref(by_source);
	json_decref(rev);
	json_decref(rated);
	if (r)
		return r;
	*ret = out;
	return 0;
}
