/* SPDX-License-Identifier: MIT */
/*
 * What a representative's work list reads (issue 10): pages of cases by
 * filter and words, pages of conversations, a case's outbox rows, the
 * newest interactions, notifications marked read, and the agent report's
 * period counts. Every page is keyset-paginated over an index of migration
 * 14 and every count is an indexed range, so neither grows with the number
 * of cases. Writes of cases, fields, notes and outbox rows stay in case.c
 * and email.c, where every writer goes through them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

/* ---- cases ---- */

#define CASE_WORDS_MAX 32

int ca_store_case_page(ca_store *s, const ca_store_case_filter *f, int64_t **ret_ids, size_t *ret_n, ca_err *err)
{
	const char *what = "case list";
	*ret_ids = NULL;
	*ret_n = 0;
	if (!f || f->limit == 0)
		return ca_err_set(err, CA_EINVAL, "limit", "%s: a page needs a limit of 1 or more", what);
	struct {
		const char *col, *v;
	} eq[] = { { "status", f->status }, { "owner", f->owner }, { "customer", f->customer }, { "origin", f->origin } };
	int r = 0;
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(eq); i++)
		r = check_str(eq[i].v, false, what, eq[i].col, err);
	if (r)
		return r;
	ca_buf sql = { 0 }, match = { 0 };
	ca_sql_param p[8];
	size_t np = 0;
	bool words = f->words && f->n_words;
	if (words) {
		if ((r = fts_ready(s, what, err)))
			return r;
		if (fts_query(f->words, f->n_words < CASE_WORDS_MAX ? f->n_words : CASE_WORDS_MAX, " ", &match))
			return enomem(err, what);
	}
	if (words && match.len) {
		/* FTS5 yields its rowids newest first with the bound on rowid
		 * inside the index, the filters checked per match. */
		ca_buf_puts(&sql, "SELECT c.id FROM case_record_fts f JOIN case_record c ON c.id = f.rowid "
				  "WHERE case_record_fts MATCH ?");
		p[np++] = ca_sql_text(match.data);
		if (f->before_id > 0) {
			ca_buf_puts(&sql, " AND f.rowid < ?");
			p[np++] = ca_sql_int(f->before_id);
		}
		for (size_t i = 0; i < CA_ARRAY_SIZE(eq); i++)
			if (!ca_str_empty(eq[i].v)) {
				ca_buf_printf(&sql, " AND c.%s = ?", eq[i].col);
				p[np++] = ca_sql_text(eq[i].v);
			}
		ca_buf_puts(&sql, " ORDER BY f.rowid DESC LIMIT ?");
	} else {
		ca_buf_puts(&sql, "SELECT id FROM case_record WHERE 1 = 1");
		if (f->before_id > 0) {
			ca_buf_puts(&sql, " AND id < ?");
			p[np++] = ca_sql_int(f->before_id);
		}
		for (size_t i = 0; i < CA_ARRAY_SIZE(eq); i++)
			if (!ca_str_empty(eq[i].v)) {
				ca_buf_printf(&sql, " AND %s = ?", eq[i].col);
				p[np++] = ca_sql_text(eq[i].v);
			}
		ca_buf_puts(&sql, " ORDER BY id DESC LIMIT ?");
	}
	p[np++] = ca_sql_int(f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit);
	if (!sql.data)
		r = enomem(err, what);
	ids_ctx ids = { 0 };
	if (!r)
		r = db_query(s, what, sql.data, p, np, take_id, &ids, err);
	if (!r && ids.rc)
		r = ids.rc == CA_ENOMEM ? enomem(err, what)
					: ca_err_set(err, CA_EDB, "id", "%s: a case id is not a number", what);
	ca_buf_done(&sql);
	ca_buf_done(&match);
	if (r) {
		free(ids.v);
		return r;
	}
	*ret_ids = ids.v;
	*ret_n = ids.n;
	return 0;
}

/* ---- conversations ---- */

int ca_store_conversation_accepted_by(ca_store *s, const char *conversation_id, char **ret, ca_err *err)
{
	*ret = NULL;
	bool found = false;
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	return db_str(s, "conversation", "SELECT accepted_by FROM conversation WHERE id = ?", p, 1, ret, &found, err);
}

int ca_store_conversation_page(ca_store *s, const char *state, const char *before_opened_at, const char *before_id,
			       size_t limit, json_t **ret, ca_err *err)
{
	const char *what = "conversation list";
	int r = check_str(state, false, what, "state", err);
	if (!r && (!before_opened_at) != (!before_id))
		r = ca_err_set(err, CA_EINVAL, "cursor", "%s: a position needs both its time and its id", what);
	if (r)
		return r;
	ca_buf sql = { 0 };
	ca_sql_param p[4];
	size_t np = 0;
	ca_buf_puts(&sql, "SELECT v.id, v.channel, v.state, v.case_id, k.ticket_number AS case_ticket, v.case_link, "
			  "v.contact_id, v.opened_at, v.closed_at, v.message_count, v.accepted_by FROM conversation v "
			  "LEFT JOIN case_record k ON k.id = v.case_id WHERE 1 = 1");
	if (state) {
		ca_buf_puts(&sql, " AND v.state = ?");
		p[np++] = ca_sql_text(state);
	}
	if (before_id) {
		ca_buf_puts(&sql, " AND (v.opened_at, v.id) < (?, ?)");
		p[np++] = ca_sql_text(before_opened_at);
		p[np++] = ca_sql_text(before_id);
	}
	ca_buf_puts(&sql, " ORDER BY v.opened_at DESC, v.id DESC LIMIT ?");
	p[np++] = ca_sql_int(limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	json_t *rows = NULL;
	r = sql.data ? db_rows(s, what, sql.data, p, np, &rows, err) : enomem(err, what);
	ca_buf_done(&sql);
	if (!r)
		*ret = rows;
	return r;
}

int ca_store_conversation_of_case(ca_store *s, int64_t case_id, char **ret, ca_err *err)
{
	*ret = NULL;
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	ca_sql_param p[] = { ca_sql_int(case_id) };
	bool found = false;
	char *conv = NULL;
	int r = db_str(s, what, "SELECT conversation_id FROM case_record WHERE id = ?", p, 1, &conv, &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_ENOTFOUND, "case", "%s not found", what);
	if (!r && !conv) /* linked by a person: the link is on the conversation */
		r = db_str(s, what, "SELECT id FROM conversation WHERE case_id = ? ORDER BY opened_at DESC, id DESC LIMIT 1",
			   p, 1, &conv, &found, err);
	if (r) {
		free(conv);
		return r;
	}
	*ret = conv;
	return 0;
}

/* ---- interactions, outbox, notifications ---- */

int ca_store_interaction_recent(ca_store *s, size_t limit, json_t **ret, ca_err *err)
{
	const char *what = "interaction log";
	ca_sql_param p[] = { ca_sql_int(limit > INT64_MAX ? INT64_MAX : (int64_t)limit) };
	json_t *rows = NULL;
	int r = db_rows(s, what,
			"SELECT * FROM (SELECT id, conversation_id, case_id, action, outcome, detail, at FROM interaction_log "
			"ORDER BY id DESC LIMIT ?) AS newest ORDER BY id",
			p, 1, &rows, err);
	if (!r)
		r = parse_col_all(rows, "detail", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int ca_store_outbox_of_case(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld outbox", (long long)case_id);
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows = NULL;
	int r = db_rows(s, what,
			"SELECT id, to_addr, subject, status, headers, created_at, created_epoch, sent_at FROM outbox "
			"WHERE case_id = ? ORDER BY id",
			p, 1, &rows, err);
	if (!r)
		r = parse_col_all(rows, "headers", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

int ca_store_notification_read(ca_store *s, int64_t id, const char *recipient, ca_err *err)
{
	int r = check_str(recipient, true, "notification", "recipient", err);
	if (r)
		return r;
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(at), ca_sql_int(id), ca_sql_text(recipient) };
	r = db_exec(s, "notification", "UPDATE notification SET read_at = COALESCE(read_at, ?) WHERE id = ? AND recipient = ?",
		    p, 3, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "notification %lld is not %s's (or does not exist)", (long long)id,
			       recipient);
	return r;
}

/* ---- the agent report ---- */

typedef struct missing_ctx {
	json_t *counts;
	int rc;
} missing_ctx;

/* Adds up the fields a withheld creation lacked, row by row, so memory
 * holds the counts and never the period's rows. */
static int add_missing(const ca_sql_row *row, void *ud)
{
	missing_ctx *m = ud;
	json_t *d = row->text[0] ? json_loads(row->text[0], 0, NULL) : NULL;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(d, "missing"), i, x) {
		const char *f = ca_json_str(x, "field");
		if (!f)
			continue;
		json_t *n = json_object_get(m->counts, f);
		if (json_object_set_new(m->counts, f, json_integer(json_integer_value(n) + 1)) < 0)
			m->rc = CA_ENOMEM;
	}
	json_decref(d);
	return m->rc;
}

int ca_store_agent_report(ca_store *s, const char *from, const char *to, json_t **ret, ca_err *err)
{
	const char *what = "agent report";
	/* Unbounded ends as text every stored time sorts between. */
	const char *lo = from ? from : "", *hi = to ? to : "~";
	static const struct {
		const char *key, *sql;
	} counts[] = {
		{ "conversations", "SELECT COUNT(*) FROM conversation WHERE opened_at >= ? AND opened_at < ?" },
		{ "cases_created",
		  "SELECT (SELECT COUNT(*) FROM interaction_log WHERE action = 'create_case' AND outcome = 'created' "
		  "AND at >= ? AND at < ?) + (SELECT COUNT(*) FROM email_log WHERE outcome = 'created' AND at >= ? "
		  "AND at < ?)" },
		{ "cases_withheld",
		  "SELECT COUNT(*) FROM interaction_log WHERE action = 'create_case' AND outcome = 'withheld' AND at >= ? "
		  "AND at < ?" },
		{ "cases_enriched",
		  "SELECT COUNT(DISTINCT case_id) FROM interaction_log WHERE action = 'update_case' AND outcome = 'changed' "
		  "AND at >= ? AND at < ?" },
		{ "fields_filled", "SELECT COUNT(*) FROM audit WHERE source = 'agent' AND at >= ? AND at < ?" },
		{ "no_change_updates",
		  "SELECT COUNT(*) FROM interaction_log WHERE action = 'update_case' AND outcome = 'no_changes' AND at >= ? "
		  "AND at < ?" },
		{ "fields_changed_by_person",
		  "SELECT COUNT(*) FROM audit p WHERE p.source = 'person' AND p.at >= ? AND p.at < ? AND EXISTS "
		  "(SELECT 1 FROM audit g WHERE g.case_id = p.case_id AND g.field = p.field AND g.source = 'agent' "
		  "AND g.id < p.id)" },
		/* A representative's reply names its actor (ca_case_reply);
		 * everything else in the outbox the agent wrote. */
		{ "emails_sent_by_agent",
		  "SELECT COUNT(*) FROM outbox WHERE sent_at >= ? AND sent_at < ? AND status = 'sent' AND actor IS NULL" },
		{ "emails_drafted_by_agent",
		  "SELECT COUNT(*) FROM outbox WHERE created_at >= ? AND created_at < ? AND actor IS NULL" },
		{ "articles_drafted",
		  "SELECT COUNT(*) FROM knowledge_article WHERE created_at >= ? AND created_at < ? AND source = 'agent'" },
		{ "articles_published",
		  "SELECT COUNT(*) FROM knowledge_article WHERE published_at >= ? AND published_at < ? AND source = 'agent'" },
	};
	json_t *out = json_pack("{s:s?, s:s?}", "from", from, "to", to);
	if (!out)
		return enomem(err, what);
	ca_sql_param p[] = { ca_sql_text(lo), ca_sql_text(hi), ca_sql_text(lo), ca_sql_text(hi) };
	int r = 0;
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(counts); i++) {
		int64_t n = 0;
		bool found;
		/* each query's ranges are (from, to) pairs, one per `?` pair */
		size_t np = 0;
		for (const char *q = counts[i].sql; (q = strchr(q, '?')); q++)
			np++;
		r = db_i64(s, what, counts[i].sql, p, np, &n, &found, err);
		if (!r && json_object_set_new(out, counts[i].key, json_integer(n)) < 0)
			r = enomem(err, what);
	}
	missing_ctx m = { json_object(), 0 };
	if (!r && !m.counts)
		r = enomem(err, what);
	if (!r)
		r = db_query(s, what,
			     "SELECT detail FROM interaction_log WHERE action = 'create_case' AND outcome = 'withheld' "
			     "AND at >= ? AND at < ?",
			     p, 2, add_missing, &m, err);
	if (!r && m.rc)
		r = enomem(err, what);
	if (!r && json_object_set(out, "withheld_missing", m.counts) < 0)
		r = enomem(err, what);
	json_decref(m.counts);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}
