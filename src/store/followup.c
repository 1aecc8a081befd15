/* SPDX-License-Identifier: MIT */
/*
 * The follow-up agent's tables (migration 17): its steps per case, keyed
 * (case, step) so a step is written once; the suggestions it leaves for a
 * person; what shadow rules would have done; and the reads a tick makes of
 * one case, each through an index on the case id, so a tick's cost per case
 * does not grow with history. The decisions themselves are src/followup's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int ca_store_case_statuses(ca_store *s, ca_strv *out, ca_err *err)
{
	/* A skip scan by hand: the next status after the last one, one seek of
	 * the (status, id) index each. */
	char *last = NULL;
	int r = 0;
	for (;;) {
		char *next = NULL;
		bool found = false;
		ca_sql_param p[] = { ca_sql_text(last ? last : "") };
		r = db_str(s, "case statuses",
			   last ? "SELECT MIN(status) FROM case_record WHERE status > ?"
				: "SELECT MIN(status) FROM case_record WHERE status >= ?",
			   p, 1, &next, &found, err);
		free(last);
		last = next;
		if (r || !next)
			break;
		if (ca_strv_push(out, next) < 0) {
			r = enomem(err, "case statuses");
			break;
		}
	}
	free(last);
	return r;
}

#define SUGGESTION_COLS                                                                                        \
	"id, case_id, step, rule, proposed, state, reply_summary, intent, email_subject, email_body, resolution, " \
	"reply_email_id, created_at, created_epoch, action, acted_by, acted_at, outbox_id"

/* The first row of a query, or JSON null (new reference in *ret). */
static int one_row(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n, json_t **ret,
		   ca_err *err)
{
	json_t *rows = NULL;
	int r = db_rows(s, what, sql, p, n, &rows, err);
	if (r)
		return r;
	json_t *row = json_array_get(rows, 0);
	*ret = row ? json_incref(row) : json_null();
	json_decref(rows);
	return 0;
}

int ca_store_followup_case(ca_store *s, int64_t case_id, size_t max_replies, size_t max_steps, json_t **ret,
			   ca_err *err)
{
	const char *what = "follow-up state";
	json_t *out = json_object(), *v = NULL;
	if (!out)
		return enomem(err, what);
	ca_sql_param c[] = { ca_sql_int(case_id) };
	ca_sql_param cl[] = { ca_sql_int(case_id), ca_sql_int((int64_t)max_replies) };
	ca_sql_param cs[] = { ca_sql_int(case_id), ca_sql_int((int64_t)max_steps) };
	/* The outbox's (case_id, id) index read from the newest row back;
	 * the agent's own rows (no actor) are few between a person's. */
	int r = one_row(s, what,
			"SELECT id, created_epoch AS at_epoch FROM outbox WHERE case_id = ? AND actor IS NOT NULL "
			"ORDER BY id DESC LIMIT 1",
			c, 1, &v, err);
	if (!r && json_object_set_new(out, "rep_out", v) < 0)
		r = enomem(err, what);
	/* The newest message to the customer, anyone's: what a reply answers. */
	if (!r)
		r = one_row(s, what,
			    "SELECT body, created_epoch AS at_epoch FROM outbox WHERE case_id = ? ORDER BY id DESC LIMIT 1", c,
			    1, &v, err);
	if (!r && json_object_set_new(out, "last_out", v) < 0)
		r = enomem(err, what);
	if (!r)
		r = db_rows(s, what,
			    "SELECT id, received_epoch, subject, reply_text, body_text, auto_kind FROM email "
			    "WHERE case_id = ? AND direction = 'in' ORDER BY received_epoch DESC, id DESC LIMIT ?",
			    cl, 2, &v, err);
	if (!r && json_object_set_new(out, "replies", v) < 0)
		r = enomem(err, what);
	if (!r)
		r = db_rows(s, what,
			    "SELECT step, followup, rule, level, decision, reason, intent, reply_email_id, outbox_id, "
			    "suggestion_id, resolved, at_epoch FROM followup_step WHERE case_id = ? ORDER BY step DESC "
			    "LIMIT ?",
			    cs, 2, &v, err);
	if (!r && json_object_set_new(out, "steps", v) < 0)
		r = enomem(err, what);
	if (!r)
		r = one_row(s, what, "SELECT " SUGGESTION_COLS " FROM case_suggestion WHERE case_id = ? AND state = 'pending'",
			    c, 1, &v, err);
	if (!r && json_object_set_new(out, "suggestion", v) < 0)
		r = enomem(err, what);
	char *at = NULL;
	bool found = false;
	if (!r)
		r = db_str(s, what, "SELECT at FROM field_provenance WHERE case_id = ? AND field = 'status_reason'", c, 1,
			   &at, &found, err);
	if (!r && json_object_set_new(out, "status_reason_at", at ? json_string(at) : json_null()) < 0)
		r = enomem(err, what);
	free(at);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

static ca_sql_param opt_int(int64_t v)
{
	return v ? ca_sql_int(v) : ca_sql_null();
}

int ca_store_followup_step_add(ca_store *s, const ca_store_followup_step *st, ca_err *err)
{
	const char *what = "follow-up step";
	int r = check_str(st->rule, true, what, "rule", err);
	if (!r)
		r = check_str(st->reason, true, what, "reason", err);
	if (r)
		return r;
	bool taken = false;
	int64_t one = 0, id = 0;
	ca_sql_param k[] = { ca_sql_int(st->case_id), ca_sql_int(st->step) };
	r = op_begin(s, what, err);
	if (!r)
		r = db_i64(s, what, "SELECT 1 FROM followup_step WHERE case_id = ? AND step = ?", k, 2, &one, &taken, err);
	if (!r && taken)
		r = ca_err_set(err, CA_EEXIST, "step", "%s: case %lld has step %lld already (decided by another run)", what,
			       (long long)st->case_id, (long long)st->step);
	if (!r)
		r = next_id(s, what, "followup_step", &id, err);
	char at[21];
	ca_time_iso(st->at_epoch, at);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_int(st->case_id), ca_sql_int(st->step), ca_sql_int(st->followup),
				     ca_sql_text(st->rule), ca_sql_text(st->level), ca_sql_text(st->decision),
				     ca_sql_text(st->reason), ca_sql_text(st->intent), opt_int(st->reply_email_id),
				     opt_int(st->outbox_id), opt_int(st->suggestion_id), ca_sql_int(st->resolved),
				     ca_sql_text(at), ca_sql_int(st->at_epoch) };
		/* The UNIQUE (case_id, step) key refuses a step another
		 * connection wrote between the check and here. */
		r = db_exec(s, what,
			    "INSERT INTO followup_step (id, case_id, step, followup, rule, level, decision, reason, intent, "
			    "reply_email_id, outbox_id, suggestion_id, resolved, at, at_epoch) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	return op_end(s, r, what, err);
}

int ca_store_followup_step_sent(ca_store *s, int64_t case_id, int64_t step, int64_t outbox_id, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(outbox_id), ca_sql_int(case_id), ca_sql_int(step) };
	return db_exec(s, "follow-up step",
		       "UPDATE followup_step SET outbox_id = ? WHERE case_id = ? AND step = ? AND outbox_id IS NULL", p, 3,
		       err);
}

int ca_store_followup_audit(ca_store *s, int64_t case_id, const char *decision, const char *rule,
			    const json_t *detail, ca_err *err)
{
	const char *what = "follow-up audit";
	char *ev = detail ? dump(detail) : NULL;
	if (detail && !ev)
		return enomem(err, what);
	ca_buf method = { 0 };
	int r = ca_buf_printf(&method, "followup:%s", rule ? rule : "") ? enomem(err, what) : 0;
	char at[21];
	now_iso(at);
	int64_t id = 0;
	bool began = !r && !(r = op_begin(s, what, err));
	if (!r)
		r = case_exists(s, what, case_id, err);
	if (!r)
		r = next_id(s, what, "audit", &id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_int(case_id), ca_sql_text(decision), ca_sql_text(method.data),
				     ca_sql_text(ev), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO audit (id, case_id, field, old_value, new_value, source, actor, confidence, method, "
			    "evidence, at) VALUES (?, ?, 'followup', NULL, ?, 'followup', 'caseagent', NULL, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	if (!r)
		r = ev_case_field(s, case_id, "followup", "followup", err);
	if (began)
		r = op_end(s, r, what, err);
	ca_buf_done(&method);
	free(ev);
	return r;
}

/* ---- suggested actions ---- */

static const char *const proposals[] = { "send_followup", "draft_reply", "resolve" };

int ca_store_suggestion_add(ca_store *s, const json_t *rec, int64_t *ret_id, ca_err *err)
{
	const char *what = "suggested action";
	const char *proposed = ca_json_str(rec, "proposed"), *rule = ca_json_str(rec, "rule");
	json_int_t case_id = json_integer_value(json_object_get(rec, "case_id"));
	if (!proposed || !one_of(proposed, proposals, CA_ARRAY_SIZE(proposals)))
		return ca_err_set(err, CA_EINVAL, "proposed", "%s: proposed must be send_followup, draft_reply or resolve",
				  what);
	static const char *const texts[] = { "rule", "reply_summary", "intent", "email_subject", "email_body", "resolution" };
	int r = 0;
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(texts); i++)
		r = check_str(ca_json_str(rec, texts[i]), i == 0, what, texts[i], err);
	if (r)
		return r;
	int64_t id = 0, one = 0, epoch = json_integer_value(json_object_get(rec, "created_epoch"));
	bool pending = false;
	char at[21];
	ca_time_iso(epoch, at);
	ca_sql_param c[] = { ca_sql_int(case_id) };
	r = op_begin(s, what, err);
	if (!r)
		r = db_i64(s, what, "SELECT id FROM case_suggestion WHERE case_id = ? AND state = 'pending'", c, 1, &one,
			   &pending, err);
	if (!r && pending)
		r = ca_err_set(err, CA_EEXIST, "suggestion", "%s: case %lld has suggestion %lld pending already", what,
			       (long long)case_id, (long long)one);
	if (!r)
		r = next_id(s, what, "case_suggestion", &id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_int(case_id),
				     ca_sql_int(json_integer_value(json_object_get(rec, "step"))), ca_sql_text(rule),
				     ca_sql_text(proposed), ca_sql_text(ca_json_str(rec, "reply_summary")),
				     ca_sql_text(ca_json_str(rec, "intent")), ca_sql_text(ca_json_str(rec, "email_subject")),
				     ca_sql_text(ca_json_str(rec, "email_body")), ca_sql_text(ca_json_str(rec, "resolution")),
				     opt_int(json_integer_value(json_object_get(rec, "reply_email_id"))), ca_sql_text(at),
				     ca_sql_int(epoch) };
		r = db_exec(s, what,
			    "INSERT INTO case_suggestion (id, case_id, step, rule, proposed, reply_summary, intent, "
			    "email_subject, email_body, resolution, reply_email_id, created_at, created_epoch) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	if (!r)
		r = ev_case_field(s, case_id, "suggestion", "followup", err);
	r = op_end(s, r, what, err);
	if (!r && ret_id)
		*ret_id = id;
	return r;
}

int ca_store_suggestion_get(ca_store *s, int64_t case_id, int64_t id, json_t **ret, ca_err *err)
{
	const char *what = "suggested action";
	if (!id) {
		ca_sql_param c[] = { ca_sql_int(case_id) };
		return one_row(s, what, "SELECT " SUGGESTION_COLS " FROM case_suggestion WHERE case_id = ? AND state = 'pending'",
			       c, 1, ret, err);
	}
	ca_sql_param p[] = { ca_sql_int(id), ca_sql_int(case_id) };
	json_t *row = NULL;
	int r = one_row(s, what, "SELECT " SUGGESTION_COLS " FROM case_suggestion WHERE id = ? AND case_id = ?", p, 2, &row,
			err);
	if (!r && json_is_null(row)) {
		json_decref(row);
		return ca_err_set(err, CA_ENOTFOUND, "suggestion", "%s %lld: no such suggestion of case %lld", what,
				  (long long)id, (long long)case_id);
	}
	if (!r)
		*ret = row;
	return r;
}

int ca_store_suggestion_close(ca_store *s, int64_t id, const char *state, const char *action, const char *actor,
			      int64_t outbox_id, ca_err *err)
{
	const char *what = "suggested action";
	static const char *const states[] = { "acted", "dismissed", "superseded" };
	if (!state || !one_of(state, states, CA_ARRAY_SIZE(states)))
		return ca_err_set(err, CA_EINVAL, "state", "%s %lld: a suggestion closes as acted, dismissed or superseded",
				  what, (long long)id);
	int r = check_str(actor, false, what, "actor", err);
	if (r)
		return r;
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(state), ca_sql_text(action), ca_sql_text(actor), ca_sql_text(at),
			     opt_int(outbox_id), ca_sql_int(id) };
	int64_t case_id = 0;
	bool found = false;
	r = op_begin(s, what, err);
	if (!r)
		r = db_i64(s, what,
			   "UPDATE case_suggestion SET state = ?, action = ?, acted_by = ?, acted_at = ?, outbox_id = ? "
			   "WHERE id = ? AND state = 'pending' RETURNING case_id",
			   p, CA_ARRAY_SIZE(p), &case_id, &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_ESTATE, "suggestion", "%s %lld is no longer pending", what, (long long)id);
	if (!r)
		r = ev_case_field(s, case_id, "suggestion", "followup", err);
	return op_end(s, r, what, err);
}

/* ---- shadow decisions ---- */

int ca_store_followup_shadow_add(ca_store *s, const json_t *rec, bool *ret_added, ca_err *err)
{
	const char *what = "shadow decision";
	static const char *const texts[] = { "rule", "decision", "basis", "reason", "intent" };
	int r = 0;
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(texts); i++)
		r = check_str(ca_json_str(rec, texts[i]), i < 4, what, texts[i], err);
	if (r)
		return r;
	const json_t *email = json_object_get(rec, "email");
	char *etext = email && !json_is_null(email) ? dump(email) : NULL;
	if (email && !json_is_null(email) && !etext)
		return enomem(err, what);
	char at[21];
	now_iso(at);
	json_int_t case_id = json_integer_value(json_object_get(rec, "case_id")),
		   step = json_integer_value(json_object_get(rec, "step"));
	ca_sql_param k[] = { ca_sql_int(case_id), ca_sql_text(ca_json_str(rec, "rule")),
			     ca_sql_text(ca_json_str(rec, "decision")), ca_sql_int(step),
			     ca_sql_text(ca_json_str(rec, "basis")) };
	int64_t one = 0, id = 0;
	bool seen = false;
	r = op_begin(s, what, err);
	if (!r)
		r = db_i64(s, what,
			   "SELECT 1 FROM followup_shadow WHERE case_id = ? AND rule = ? AND decision = ? AND step = ? AND "
			   "basis = ?",
			   k, CA_ARRAY_SIZE(k), &one, &seen, err);
	if (!r && !seen)
		r = next_id(s, what, "followup_shadow", &id, err);
	if (!r && !seen) {
		ca_sql_param p[] = { ca_sql_int(id), k[0], k[1], k[2], k[3], k[4], ca_sql_text(ca_json_str(rec, "reason")),
				     ca_sql_text(ca_json_str(rec, "intent")), ca_sql_text(etext), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO followup_shadow (id, case_id, rule, decision, step, basis, reason, intent, email, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	r = op_end(s, r, what, err);
	free(etext);
	if (!r && ret_added)
		*ret_added = !seen;
	return r;
}

int ca_store_followup_shadow_list(ca_store *s, const char *rule, size_t limit, json_t **ret, ca_err *err)
{
	const char *what = "shadow decisions";
	int r = check_str(rule, false, what, "rule", err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_text(rule), ca_sql_int(limit ? (int64_t)limit : 100) };
	json_t *rows = NULL;
	r = db_rows(s, what,
		    rule ? "SELECT c.ticket_number AS \"case\", f.rule, f.at, f.decision, f.step, f.reason, f.intent, f.email "
			   "FROM followup_shadow f JOIN case_record c ON c.id = f.case_id WHERE f.rule = ? "
			   "ORDER BY f.id DESC LIMIT ?"
			 : "SELECT c.ticket_number AS \"case\", f.rule, f.at, f.decision, f.step, f.reason, f.intent, f.email "
			   "FROM followup_shadow f JOIN case_record c ON c.id = f.case_id WHERE ? IS NULL "
			   "ORDER BY f.id DESC LIMIT ?",
		    p, 2, &rows, err);
	if (!r)
		r = parse_col_all(rows, "email", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- report ---- */

typedef struct intent_ctx {
	json_t *counts;
	int rc;
} intent_ctx;

static int add_intent(const ca_sql_row *row, void *ud)
{
	intent_ctx *c = ud;
	int64_t n = 0;
	if (row->text[0] && row->text[1] && ca_parse_i64(row->text[1], &n) == 0 &&
	    json_object_set_new(c->counts, row->text[0], json_integer(n)) < 0) {
		c->rc = CA_ENOMEM;
		return 1;
	}
	return 0;
}

int ca_store_followup_report(ca_store *s, const char *from, const char *to, unsigned window_hours, json_t **ret,
			     ca_err *err)
{
	const char *what = "follow-up report";
	const char *lo = from ? from : "", *hi = to ? to : "~";
	static const struct {
		const char *key, *sql;
	} counts[] = {
		{ "followups_sent",
		  "SELECT COUNT(*) FROM followup_step WHERE at >= ? AND at < ? AND decision = 'send_followup' AND "
		  "outbox_id IS NOT NULL" },
		{ "cases_resolved_by_agent",
		  "SELECT COUNT(DISTINCT case_id) FROM followup_step WHERE at >= ? AND at < ? AND resolved = 1" },
		{ "cases_handed_to_person",
		  "SELECT COUNT(DISTINCT case_id) FROM followup_step WHERE at >= ? AND at < ? AND "
		  "decision = 'hand_to_person'" },
		/* Counted at query time from the e-mails attached to the case
		 * after the resolution (the channel attaches a reply to a
		 * resolved case within the window; automatic mail is not
		 * attached). */
		{ "reopened_after_agent_resolution",
		  "SELECT COUNT(DISTINCT f.case_id) FROM followup_step f WHERE f.at >= ? AND f.at < ? AND f.resolved = 1 "
		  "AND EXISTS (SELECT 1 FROM email e WHERE e.case_id = f.case_id AND e.direction = 'in' AND "
		  "e.received_epoch > f.at_epoch AND e.received_epoch <= f.at_epoch + ?)" },
	};
	json_t *out = json_object();
	if (!out)
		return enomem(err, what);
	ca_sql_param p[] = { ca_sql_text(lo), ca_sql_text(hi), ca_sql_int((int64_t)window_hours * 3600) };
	int r = 0;
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(counts); i++) {
		int64_t n = 0;
		bool found;
		r = db_i64(s, what, counts[i].sql, p, strstr(counts[i].sql, "at_epoch + ?") ? 3 : 2, &n, &found, err);
		if (!r && json_object_set_new(out, counts[i].key, json_integer(n)) < 0)
			r = enomem(err, what);
	}
	intent_ctx ic = { json_object(), 0 };
	if (!r && !ic.counts)
		r = enomem(err, what);
	if (!r)
		r = db_query(s, what,
			     "SELECT intent, COUNT(*) FROM followup_step WHERE at >= ? AND at < ? AND intent IS NOT NULL "
			     "GROUP BY intent ORDER BY intent",
			     p, 2, add_intent, &ic, err);
	if (!r && ic.rc)
		r = enomem(err, what);
	if (!r && json_object_set(out, "replies_by_intent", ic.counts) < 0)
		r = enomem(err, what);
	json_decref(ic.counts);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}
