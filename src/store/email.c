/* SPDX-License-Identifier: MIT */
/*
 * E-mail: stored messages with their headers and threading keys, the case a
 * message belongs to (by Message-ID or by sender and subject), raw bodies,
 * the ingest log, spam verdicts and held mail, the outbox, when a case was
 * resolved (for a reply that comes after), and the IMAP mailbox state
 * (UIDVALIDITY and last UID) that makes fetching resumable.
 */
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

/* ---- e-mail ---- */

static const char *const email_keys[] = {
	"msg_key", "message_id", "in_reply_to", "refs", "direction", "from_addr", "from_name", "to_addrs",
	"subject", "subject_norm", "sent_epoch", "mailbox", "origin", "body_text", "reply_text", "auto_kind",
	"parse_error", "cc_addrs", "content_sha256", "received_size",
};

/* A string member, NULL when absent or null; CA_EINVAL (naming the key) for
 * any other type or for text that is not UTF-8. */
static int rec_str(const json_t *rec, const char *key, const char *what, const char **ret, ca_err *err)
{
	json_t *v = json_object_get(rec, key);
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return ca_err_set(err, CA_EINVAL, key, "%s: %s must be a string", what, key);
	*ret = json_string_value(v);
	return 0;
}

int ca_store_email_add(ca_store *s, const json_t *rec, const void *raw, size_t raw_len, int64_t *ret_id,
		       ca_err *err)
{
	const char *what = "e-mail";
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)rec, k, v) {
		if (!one_of(k, email_keys, CA_ARRAY_SIZE(email_keys)))
			return ca_err_set(err, CA_EINVAL, k, "%s: unknown key '%s'", what, k);
	}
	const char *str[CA_ARRAY_SIZE(email_keys)];
	for (size_t i = 0; i < CA_ARRAY_SIZE(email_keys); i++) {
		if (!strcmp(email_keys[i], "refs") || !strcmp(email_keys[i], "sent_epoch") ||
		    !strcmp(email_keys[i], "received_size")) {
			str[i] = NULL;
			continue;
		}
		int r = rec_str(rec, email_keys[i], what, &str[i], err);
		if (r)
			return r;
	}
	if (ca_str_empty(str[0]))
		return ca_err_set(err, CA_EINVAL, "msg_key", "%s: msg_key is required", what);
	if (!raw)
		return ca_err_set(err, CA_EINVAL, "raw", "%s %s: the raw message is required", what, str[0]);
	char *refs = json_object_get(rec, "refs") ? json_dumps(json_object_get(rec, "refs"), JSON_COMPACT) : NULL;
	json_t *se = json_object_get(rec, "sent_epoch");
	json_t *rs = json_object_get(rec, "received_size");
	int64_t now = ca_time_now();
	char at[21];
	ca_time_iso(now, at);
	int r = op_begin(s, what, err);
	if (r) {
		free(refs);
		return r;
	}
	bool found;
	int64_t id = 0, existing;
	ca_sql_param pk[] = { ca_sql_text(str[0]) };
	r = db_i64(s, what, "SELECT id FROM email WHERE msg_key = ?", pk, 1, &existing, &found, err);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "msg_key", "%s %s is stored already (id %lld)", what, str[0],
			       (long long)existing);
	if (!r)
		r = next_id(s, what, "email", &id, err);
	if (!r) {
		ca_sql_param p[] = {
			ca_sql_int(id), ca_sql_text(str[0]), ca_sql_text(str[1]), ca_sql_text(str[2]), ca_sql_text(refs),
			ca_sql_text(str[4] ? str[4] : "in"), ca_sql_text(str[5]), ca_sql_text(str[6]), ca_sql_text(str[7]),
			ca_sql_text(str[8]), ca_sql_text(str[9]),
			json_is_integer(se) ? ca_sql_int(json_integer_value(se)) : ca_sql_null(), ca_sql_text(at),
			ca_sql_int(now), ca_sql_text(str[11]), ca_sql_text(str[12]), ca_sql_blob(raw, raw_len),
			ca_sql_int((int64_t)raw_len), ca_sql_text(str[13]), ca_sql_text(str[14]), ca_sql_text(str[15]),
			ca_sql_text(str[16]), ca_sql_text(str[17]), ca_sql_text(str[18]),
			json_is_integer(rs) ? ca_sql_int(json_integer_value(rs)) : ca_sql_null(),
		};
		r = db_exec(s, what,
			    "INSERT INTO email (id, msg_key, message_id, in_reply_to, refs, direction, from_addr, from_name, "
			    "to_addrs, subject, subject_norm, sent_epoch, received_at, received_epoch, mailbox, origin, raw, "
			    "raw_size, body_text, reply_text, auto_kind, parse_error, cc_addrs, content_sha256, received_size) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(refs);
	r = op_end(s, r, what, err);
	if (!r && ret_id)
		*ret_id = id;
	return r;
}

int ca_store_email_by_key(ca_store *s, const char *msg_key, bool *found, int64_t *ret_id, int64_t *ret_case,
			  ca_err *err)
{
	first_row f;
	ca_sql_param p[] = { ca_sql_text(msg_key) };
	int r = db_first(s, "e-mail", "SELECT id, case_id FROM email WHERE msg_key = ?", p, 1, &f, err);
	if (r)
		return r;
	*found = f.found;
	int64_t id = 0, c = 0;
	if (f.found && (ca_parse_i64(f.v[0], &id) < 0 || (f.v[1] && ca_parse_i64(f.v[1], &c) < 0)))
		r = ca_err_set(err, CA_EDB, "email", "e-mail %s: unreadable ids", msg_key);
	first_row_done(&f);
	if (ret_id)
		*ret_id = id;
	if (ret_case)
		*ret_case = c;
	return r;
}

int ca_store_email_attachment_add(ca_store *s, int64_t email_id, int64_t seq, const char *filename,
				  const char *content_type, size_t size, const char *sha256, const void *content,
				  ca_err *err)
{
	if (filename && !utf8_valid(filename, strlen(filename)))
		return ca_err_set(err, CA_EUTF8, "filename", "attachment %lld of e-mail %lld: file name is not UTF-8",
				  (long long)seq, (long long)email_id);
	ca_sql_param p[] = { ca_sql_int(email_id), ca_sql_int(seq), ca_sql_text(filename), ca_sql_text(content_type),
			     ca_sql_int((int64_t)size), ca_sql_text(sha256), ca_sql_blob(content ? content : "", size) };
	return db_exec(s, "attachment",
		       "INSERT INTO email_attachment (email_id, seq, filename, content_type, size, sha256, content) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?)",
		       p, CA_ARRAY_SIZE(p), err);
}

int ca_store_email_set_case(ca_store *s, int64_t email_id, int64_t case_id, ca_err *err)
{
	ca_sql_param p[] = { case_id > 0 ? ca_sql_int(case_id) : ca_sql_null(), ca_sql_int(email_id) };
	int r = db_exec(s, "e-mail", "UPDATE email SET case_id = ? WHERE id = ?", p, 2, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)email_id);
	return r;
}

int ca_store_email_case_of_message(ca_store *s, const char *message_id, bool *found, int64_t *ret_case,
				   ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(message_id) };
	return case_of(s, "thread", "SELECT case_id FROM email WHERE message_id = ? AND case_id IS NOT NULL ORDER BY id LIMIT 1",
		       p, 1, found, ret_case, err);
}

int ca_store_email_case_by_subject(ca_store *s, const char *from_addr, const char *subject_norm, int64_t since_epoch,
				   bool *found, int64_t *ret_case, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(from_addr), ca_sql_text(subject_norm), ca_sql_int(since_epoch) };
	return case_of(s, "thread",
		       "SELECT case_id FROM email WHERE from_addr = ? AND subject_norm = ? AND received_epoch >= ? "
		       "AND case_id IS NOT NULL ORDER BY id DESC LIMIT 1",
		       p, 3, found, ret_case, err);
}

int ca_store_email_thread(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(case_id) };
	return db_rows(s, "thread",
		       "SELECT id, direction, from_addr, to_addrs, cc_addrs, subject, body_text, reply_text, received_epoch, "
		       "auto_kind FROM email WHERE case_id = ? ORDER BY id",
		       p, 1, ret, err);
}

int ca_store_email_last_in(ca_store *s, int64_t case_id, int64_t *ret_id, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(case_id) };
	bool found = false;
	int64_t id = 0;
	int r = db_i64(s, "e-mail", "SELECT COALESCE(MAX(id), 0) FROM email WHERE case_id = ? AND direction = 'in'", p, 1,
		       &id, &found, err);
	if (!r)
		*ret_id = id;
	return r;
}

int ca_store_email_content_hash(ca_store *s, int64_t id, char **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(id) };
	bool found = false;
	char *h = NULL;
	int r = db_str(s, "e-mail", "SELECT content_sha256 FROM email WHERE id = ? AND content_sha256 IS NOT NULL", p, 1,
		       &h, &found, err);
	if (!r)
		*ret = found ? h : NULL;
	return r;
}

int ca_store_email_count_from(ca_store *s, const char *from_addr, int64_t since_epoch, int64_t *ret, ca_err *err)
{
	bool found;
	ca_sql_param p[] = { ca_sql_text(from_addr), ca_sql_int(since_epoch) };
	return db_i64(s, "rate", "SELECT COUNT(*) FROM email WHERE from_addr = ? AND received_epoch >= ?", p, 2, ret,
		      &found, err);
}

int ca_store_email_get(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	json_t *rows = NULL, *att = NULL;
	ca_sql_param p[] = { ca_sql_int(id) };
	int r = db_rows(s, "e-mail",
			"SELECT id, msg_key, message_id, in_reply_to, refs, direction, from_addr, from_name, to_addrs, "
			"cc_addrs, subject, sent_epoch, received_at, mailbox, origin, raw_size, received_size, body_text, "
			"reply_text, auto_kind, parse_error, content_sha256, case_id FROM email WHERE id = ?",
			p, 1, &rows, err);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)id);
	if (!r)
		r = db_rows(s, "e-mail", "SELECT seq, filename, content_type, size, sha256 FROM email_attachment "
					 "WHERE email_id = ? ORDER BY seq",
			    p, 1, &att, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	json_t *e = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	json_object_set_new(e, "attachments", att);
	*ret = e;
	return 0;
}

typedef struct blob_out {
	char *data;
	size_t len;
	bool found;
	int rc;
} blob_out;

static int take_blob(const ca_sql_row *row, void *ud)
{
	blob_out *b = ud;
	b->found = true;
	size_t n = row->lens ? row->lens[0] : strlen(row->text[0]);
	b->data = malloc(n + 1);
	if (!b->data) {
		b->rc = CA_ENOMEM;
		return 1;
	}
	memcpy(b->data, row->text[0], n);
	b->data[n] = '\0';
	b->len = n;
	return 1;
}

int ca_store_email_raw(ca_store *s, int64_t id, char **ret, size_t *ret_len, ca_err *err)
{
	blob_out b = { 0 };
	ca_sql_param p[] = { ca_sql_int(id) };
	int r = db_query(s, "e-mail", "SELECT raw FROM email WHERE id = ?", p, 1, take_blob, &b, err);
	if (!r && b.rc)
		r = enomem(err, "e-mail");
	if (!r && !b.found)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)id);
	if (r) {
		free(b.data);
		return r;
	}
	*ret = b.data;
	*ret_len = b.len;
	return 0;
}

static const char *const log_outcomes[] = { "created", "updated", "attached", "skipped", "spam", "held" };

int ca_store_email_log_write(ca_store *s, const ca_store_email_log_row *row, ca_err *err)
{
	if (!one_of(row->outcome, log_outcomes, CA_ARRAY_SIZE(log_outcomes)))
		return ca_err_set(err, CA_EINVAL, "outcome",
				  "e-mail log: outcome '%s' is not created, updated, attached, skipped, spam or held",
				  row->outcome ? row->outcome : "(null)");
	char at[21];
	ca_time_iso(ca_time_now(), at);
	int r = op_begin(s, "e-mail log", err);
	int64_t id = 0;
	if (!r)
		r = next_id(s, "e-mail log", "email_log", &id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), row->email_id > 0 ? ca_sql_int(row->email_id) : ca_sql_null(),
				     ca_sql_text(row->origin), ca_sql_text(row->outcome), ca_sql_text(row->reason),
				     ca_sql_text(row->rule), row->case_id > 0 ? ca_sql_int(row->case_id) : ca_sql_null(),
				     ca_sql_text(at), ca_sql_text(row->spam_source),
				     row->has_spam_score ? ca_sql_real(row->spam_score) : ca_sql_null(), ca_sql_text(row->actor) };
		r = db_exec(s, "e-mail log",
			    "INSERT INTO email_log (id, email_id, origin, outcome, reason, rule, case_id, at, spam_source, "
			    "spam_score, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	/* One per decision on a message: its ids and outcome, never who sent
	 * it or what it says. */
	if (!r)
		r = ev_plain(s, "email.received", row->case_id, NULL, "work",
			     row->email_id > 0 ? json_pack("{s:I, s:n, s:s}", "email", (json_int_t)row->email_id, "case",
							   "outcome", row->outcome)
					       : json_pack("{s:n, s:n, s:s}", "email", "case", "outcome", row->outcome),
			     err);
	return op_end(s, r, "e-mail log", err);
}

int ca_store_email_log_add(ca_store *s, int64_t email_id, const char *origin, const char *outcome,
			   const char *reason, const char *rule, int64_t case_id, ca_err *err)
{
	ca_store_email_log_row row = { .email_id = email_id, .origin = origin, .outcome = outcome, .reason = reason,
				       .rule = rule, .case_id = case_id };
	return ca_store_email_log_write(s, &row, err);
}

int ca_store_email_log_list(ca_store *s, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(limit ? (int64_t)limit : INT64_MAX) };
	return db_rows(s, "e-mail log",
		       "SELECT l.id, l.email_id, l.origin, l.outcome, l.reason, l.rule, c.ticket_number AS \"case\", "
		       "e.from_addr, e.subject, l.spam_source, l.spam_score, l.actor, l.at FROM email_log l "
		       "LEFT JOIN email e ON e.id = l.email_id "
		       "LEFT JOIN case_record c ON c.id = l.case_id ORDER BY l.id DESC LIMIT ?",
		       p, 1, ret, err);
}

static const char *const spam_statuses[] = { "spam", "not spam", "unchecked" };

int ca_store_email_spam_set(ca_store *s, int64_t email_id, const ca_store_spam *v, ca_err *err)
{
	if (!one_of(v->status, spam_statuses, CA_ARRAY_SIZE(spam_statuses)))
		return ca_err_set(err, CA_EINVAL, "spam_status", "e-mail %lld: spam status '%s' is not spam, not spam or unchecked",
				  (long long)email_id, v->status ? v->status : "(null)");
	ca_sql_param p[] = { ca_sql_text(v->status), ca_sql_text(v->source),
			     v->has_score ? ca_sql_real(v->score) : ca_sql_null(),
			     v->has_score ? ca_sql_real(v->threshold) : ca_sql_null(), ca_sql_text(v->detail),
			     ca_sql_int(v->held ? 1 : 0), ca_sql_int(email_id) };
	int r = db_exec(s, "e-mail",
			"UPDATE email SET spam_status = ?, spam_source = ?, spam_score = ?, spam_threshold = ?, "
			"spam_detail = ?, held = ? WHERE id = ?",
			p, CA_ARRAY_SIZE(p), err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)email_id);
	return r;
}

int ca_store_email_spam_get(ca_store *s, int64_t email_id, json_t **ret, ca_err *err)
{
	json_t *rows = NULL;
	ca_sql_param p[] = { ca_sql_int(email_id) };
	int r = db_rows(s, "e-mail",
			"SELECT spam_status, spam_source, spam_score, spam_threshold, spam_detail, held, released_by, "
			"released_at FROM email WHERE id = ?",
			p, 1, &rows, err);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)email_id);
	if (r) {
		json_decref(rows);
		return r;
	}
	json_t *v = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	/* held is a flag: say so in JSON rather than 0/1 */
	json_object_set_new(v, "held", json_boolean(json_integer_value(json_object_get(v, "held")) != 0));
	*ret = v;
	return 0;
}

int ca_store_email_release(ca_store *s, int64_t email_id, const char *actor, ca_err *err)
{
	if (ca_str_empty(actor))
		return ca_err_set(err, CA_EINVAL, "actor", "e-mail %lld: releasing needs the name of who releases it",
				  (long long)email_id);
	char at[21];
	ca_time_iso(ca_time_now(), at);
	ca_sql_param p[] = { ca_sql_text(actor), ca_sql_text(at), ca_sql_int(email_id) };
	int r = db_exec(s, "e-mail", "UPDATE email SET held = 0, released_by = ?, released_at = ? WHERE id = ? AND held = 1",
			p, CA_ARRAY_SIZE(p), err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ESTATE, "email", "e-mail %lld is not held", (long long)email_id);
	return r;
}

int ca_store_email_held_list(ca_store *s, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(limit ? (int64_t)limit : INT64_MAX) };
	return db_rows(s, "e-mail",
		       "SELECT id, from_addr, subject, received_at, spam_status, spam_source, spam_score, spam_threshold "
		       "FROM email WHERE held = 1 ORDER BY id DESC LIMIT ?",
		       p, 1, ret, err);
}

int ca_store_outbox_add(ca_store *s, const json_t *msg, int64_t *ret_id, ca_err *err)
{
	const char *to = ca_json_str(msg, "to_addr"), *subject = ca_json_str(msg, "subject"),
		   *body = ca_json_str(msg, "body");
	if (ca_str_empty(to) || !subject || !body)
		return ca_err_set(err, CA_EINVAL, "outbox", "outbox: to_addr, subject and body are required");
	char *headers = json_dumps(json_object_get(msg, "headers") ? json_object_get(msg, "headers") : json_object(),
				   JSON_COMPACT | JSON_SORT_KEYS);
	if (!headers)
		return enomem(err, "outbox");
	int64_t now = ca_time_now(), id = 0;
	char at[21];
	ca_time_iso(now, at);
	json_t *c = json_object_get(msg, "case_id"), *e = json_object_get(msg, "email_id");
	int r = op_begin(s, "outbox", err);
	if (!r)
		r = next_id(s, "outbox", "outbox", &id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), json_is_integer(c) ? ca_sql_int(json_integer_value(c)) : ca_sql_null(),
				     json_is_integer(e) ? ca_sql_int(json_integer_value(e)) : ca_sql_null(),
				     ca_sql_text(to), ca_sql_text(subject), ca_sql_text(body), ca_sql_text(headers),
				     ca_sql_text(at), ca_sql_int(now), ca_sql_text(ca_json_str(msg, "actor")) };
		r = db_exec(s, "outbox",
			    "INSERT INTO outbox (id, case_id, email_id, to_addr, subject, body, headers, created_at, created_epoch, "
			    "actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(headers);
	r = op_end(s, r, "outbox", err);
	if (!r && ret_id)
		*ret_id = id;
	return r;
}

int ca_store_outbox_count_to(ca_store *s, const char *to_addr, int64_t since_epoch, int64_t *ret, ca_err *err)
{
	bool found;
	ca_sql_param p[] = { ca_sql_text(to_addr), ca_sql_int(since_epoch) };
	return db_i64(s, "outbox", "SELECT COUNT(*) FROM outbox WHERE to_addr = ? AND created_epoch >= ?", p, 2, ret,
		      &found, err);
}

int ca_store_outbox_list(ca_store *s, const char *status, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(status) };
	int r = status ? db_rows(s, "outbox",
				 "SELECT id, case_id, email_id, to_addr, subject, body, headers, status, attempts, last_error, "
				 "created_at, sent_at FROM outbox WHERE status = ? ORDER BY id",
				 p, 1, ret, err)
		       : db_rows(s, "outbox",
				 "SELECT id, case_id, email_id, to_addr, subject, body, headers, status, attempts, last_error, "
				 "created_at, sent_at FROM outbox ORDER BY id",
				 NULL, 0, ret, err);
	if (r)
		return r;
	/* headers are stored as JSON text: give them back as an object */
	size_t i;
	json_t *row;
	json_array_foreach(*ret, i, row) {
		json_t *h = json_loads(ca_json_str(row, "headers") ? ca_json_str(row, "headers") : "{}", 0, NULL);
		json_object_set_new(row, "headers", h ? h : json_object());
	}
	return 0;
}

static const char *const outbox_states[] = { "queued", "sent", "failed" };

int ca_store_outbox_mark(ca_store *s, int64_t id, const char *status, const char *error, ca_err *err)
{
	if (!one_of(status, outbox_states, CA_ARRAY_SIZE(outbox_states)))
		return ca_err_set(err, CA_EINVAL, "status", "outbox: status '%s' is not queued, sent or failed",
				  status ? status : "(null)");
	char at[21];
	ca_time_iso(ca_time_now(), at);
	ca_sql_param p[] = { ca_sql_text(status), ca_sql_text(error), ca_sql_text(strcmp(status, "sent") ? NULL : at),
			     ca_sql_int(id) };
	int r = db_exec(s, "outbox",
			"UPDATE outbox SET status = ?, last_error = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?", p,
			4, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "outbox", "outbox message %lld not found", (long long)id);
	return r;
}

int ca_store_case_resolved_at(ca_store *s, int64_t case_id, bool *found, char **ret_iso, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(case_id) };
	char *v = NULL;
	bool f;
	int r = db_str(s, "case", "SELECT MAX(at) FROM audit WHERE case_id = ? AND field = 'status' "
				  "AND LOWER(new_value) IN ('resolved', 'closed')",
		       p, 1, &v, &f, err);
	*found = !r && f && v;
	*ret_iso = *found ? v : NULL;
	if (!*found)
		free(v);
	return r;
}

/* ---- IMAP mailbox state ---- */

int ca_store_mailbox_state_get(ca_store *s, const char *name, bool *found, int64_t *ret_uidvalidity,
			       int64_t *ret_last_uid, ca_err *err)
{
	first_row f;
	ca_sql_param p[] = { ca_sql_text(name) };
	int r = db_first(s, "mailbox state", "SELECT uidvalidity, last_uid FROM mailbox_state WHERE name = ?", p, 1, &f,
			 err);
	if (r)
		return r;
	int64_t v = 0, last = 0;
	if (f.found && ((f.v[0] && ca_parse_i64(f.v[0], &v) < 0) || (f.v[1] && ca_parse_i64(f.v[1], &last) < 0)))
		r = ca_err_set(err, CA_EDB, "mailbox_state", "mailbox %s: unreadable state", name);
	*found = f.found;
	if (ret_uidvalidity)
		*ret_uidvalidity = v;
	if (ret_last_uid)
		*ret_last_uid = last;
	first_row_done(&f);
	return r;
}

int ca_store_mailbox_state_put(ca_store *s, const char *name, int64_t uidvalidity, int64_t last_uid, ca_err *err)
{
	if (ca_str_empty(name))
		return ca_err_set(err, CA_EINVAL, "name", "mailbox state: the mailbox name is required");
	ca_sql_param p[] = { ca_sql_int(uidvalidity), ca_sql_int(last_uid), ca_sql_text(name) };
	/* Update, else insert: portable where an upsert's syntax is not. */
	int r = op_begin(s, "mailbox state", err);
	if (!r)
		r = db_exec(s, "mailbox state", "UPDATE mailbox_state SET uidvalidity = ?, last_uid = ? WHERE name = ?", p, 3,
			    err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = db_exec(s, "mailbox state", "INSERT INTO mailbox_state (uidvalidity, last_uid, name) VALUES (?, ?, ?)", p,
			    3, err);
	return op_end(s, r, "mailbox state", err);
}
