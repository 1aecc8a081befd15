/* SPDX-License-Identifier: MIT */
/*
 * Conversations and their messages, and the chat events that drive them: a
 * conversation's state and its links to a case, contact, agent and person,
 * messages in order, and each event recorded once by conversation and event
 * id with its result, so a replayed event is answered as before and a reused
 * id with other content is told apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"
#include "model.h"

/* ---- conversations and messages ---- */

static const char *const conv_states[] = { "open", "active", "waiting", "wrapup", "closed" };
static const char *const case_links[] = { "agent", "person" };

int ca_store_conversation_create(ca_store *s, const char *id, const char *channel, ca_err *err)
{
	int r = check_str(id, true, "new conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	r = check_str(channel, true, what, "channel", err);
	if (!r)
		r = op_begin(s, what, err);
	if (r)
		return r;
	ca_sql_param q[] = { ca_sql_text(id) };
	char *dummy = NULL;
	bool found;
	r = db_str(s, what, "SELECT id FROM conversation WHERE id = ?", q, 1, &dummy, &found, err);
	free(dummy);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "id", "%s exists already", what);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(id), ca_sql_text(channel), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO conversation (id, channel, state, opened_at, message_count) "
			    "VALUES (?, ?, 'open', ?, 0)",
			    p, 3, err);
	}
	return op_end(s, r, what, err);
}

int ca_store_conversation_get(ca_store *s, const char *id, json_t **ret, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	ca_sql_param p[] = { ca_sql_text(id) };
	json_t *rows;
	r = db_rows(s, what,
		    "SELECT id, channel, state, case_id, case_link, contact_id, opened_at, closed_at, message_count, accepted_by "
		    "FROM conversation WHERE id = ?",
		    p, 1, &rows, err);
	if (r)
		return r;
	json_t *row = json_array_get(rows, 0);
	if (!row) {
		json_decref(rows);
		return ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	}
	*ret = json_incref(row);
	json_decref(rows);
	return 0;
}

int ca_store_conversation_set_state(ca_store *s, const char *id, const char *state, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	if (!one_of(state, conv_states, CA_ARRAY_SIZE(conv_states)))
		return ca_err_set(err, CA_EINVAL, "state",
				  "%s: unknown state '%s' (open, active, waiting, wrapup, closed)", what,
				  state ? state : "(null)");
	char at[21];
	now_iso(at);
	/* closed_at belongs to the closed state only: reopening clears it. */
	bool closed = strcmp(state, "closed") == 0;
	ca_sql_param p[] = { ca_sql_text(state), closed ? ca_sql_text(at) : ca_sql_null(), ca_sql_text(id) };
	r = db_exec(s, what, "UPDATE conversation SET state = ?, closed_at = ? WHERE id = ?", p, 3, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return r;
}

int ca_store_conversation_set_case(ca_store *s, const char *id, int64_t case_id, const char *link, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	if (!one_of(link, case_links, CA_ARRAY_SIZE(case_links)))
		return ca_err_set(err, CA_EINVAL, "case_link", "%s: case link '%s' is not agent or person", what,
				  link ? link : "(null)");
	r = op_begin(s, what, err);
	if (r)
		return r;
	r = case_exists(s, what, case_id, err);
	ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(link), ca_sql_text(id) };
	if (!r)
		r = db_exec(s, what, "UPDATE conversation SET case_id = ?, case_link = ? WHERE id = ?", p, 3, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return op_end(s, r, what, err);
}

int ca_store_conversation_set_contact(ca_store *s, const char *id, const char *contact_id, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	r = check_str(contact_id, false, what, "contact_id", err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_text(contact_id), ca_sql_text(id) };
	r = db_exec(s, what, "UPDATE conversation SET contact_id = ? WHERE id = ?", p, 2, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return r;
}

int ca_store_conversation_set_accepted_by(ca_store *s, const char *id, const char *actor, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	if ((r = check_str(actor, false, what, "accepted_by", err)))
		return r;
	ca_sql_param p[] = { ca_sql_text(actor), ca_sql_text(id) };
	r = db_exec(s, what, "UPDATE conversation SET accepted_by = ? WHERE id = ?", p, 2, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return r;
}

int ca_store_message_add(ca_store *s, const char *conversation_id, const char *msg_id, const char *role,
			 const char *text, ca_err *err)
{
	int r = check_str(conversation_id, true, "message", "conversation_id", err);
	if (r)
		return r;
	char what[192];
	snprintf(what, sizeof(what), "conversation '%s'", conversation_id);
	r = check_str(msg_id, true, what, "message id", err);
	if (r)
		return r;
	snprintf(what, sizeof(what), "conversation '%s' message '%s'", conversation_id, msg_id);
	if (!ca_role_parse(role))
		return ca_err_set(err, CA_EINVAL, "role", "%s: unknown role '%s' (customer, agent, system, bot)", what,
				  role ? role : "(null)");
	if (!text)
		return ca_err_set(err, CA_EINVAL, "text", "%s: text is required", what);
	r = check_str(text, false, what, "text", err);
	if (!r)
		r = op_begin(s, what, err);
	if (r)
		return r;
	/* Checked before writing so the answer names the message, and so a
	 * PostgreSQL transaction is not poisoned by a constraint failure. */
	ca_sql_param pk[] = { ca_sql_text(conversation_id), ca_sql_text(msg_id) };
	int64_t seq;
	bool found;
	r = db_i64(s, what, "SELECT seq FROM message WHERE conversation_id = ? AND id = ?", pk, 2, &seq, &found, err);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "id", "%s exists already (seq %lld)", what, (long long)seq);
	if (!r) {
		ca_sql_param p[] = { ca_sql_text(conversation_id) };
		r = db_i64(s, what,
			   "UPDATE conversation SET message_count = message_count + 1 WHERE id = ? RETURNING message_count",
			   p, 1, &seq, &found, err);
		if (!r && !found)
			r = ca_err_set(err, CA_ENOTFOUND, "conversation_id", "conversation '%s' not found",
				       conversation_id);
	}
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(conversation_id), ca_sql_text(msg_id), ca_sql_int(seq),
				     ca_sql_text(role), ca_sql_text(text), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO message (conversation_id, id, seq, role, text, at) VALUES (?, ?, ?, ?, ?, ?)", p,
			    CA_ARRAY_SIZE(p), err);
	}
	return op_end(s, r, what, err);
}

int ca_store_message_list(ca_store *s, const char *conversation_id, json_t **ret, ca_err *err)
{
	return ca_store_message_list_after(s, conversation_id, INT64_MIN, ret, err);
}

int ca_store_message_list_after(ca_store *s, const char *conversation_id, int64_t after_seq, json_t **ret,
				ca_err *err)
{
	int r = check_str(conversation_id, true, "messages", "conversation_id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", conversation_id);
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	char *dummy = NULL;
	bool found;
	r = db_str(s, what, "SELECT id FROM conversation WHERE id = ?", p, 1, &dummy, &found, err);
	free(dummy);
	if (!r && !found)
		r = ca_err_set(err, CA_ENOTFOUND, "conversation_id", "%s not found", what);
	if (r)
		return r;
	ca_sql_param q[] = { ca_sql_text(conversation_id), ca_sql_int(after_seq) };
	return db_rows(s, what,
		       "SELECT id, role, text, seq, at FROM message WHERE conversation_id = ? AND seq > ? ORDER BY seq", q,
		       2, ret, err);
}

/* ---- chat events ---- */

int ca_store_event_lookup(ca_store *s, const char *conversation_id, const char *event_id, char **ret_content,
			  json_t **ret, ca_err *err)
{
	int r = check_str(conversation_id, true, "chat event", "conversation_id", err);
	if (!r)
		r = check_str(event_id, true, "chat event", "event_id", err);
	if (r)
		return r;
	char what[320];
	snprintf(what, sizeof(what), "chat event '%s' of conversation '%s'", event_id, conversation_id);
	ca_sql_param p[] = { ca_sql_text(conversation_id), ca_sql_text(event_id) };
	first_row f;
	r = db_first(s, what, "SELECT result, content FROM chat_event WHERE conversation_id = ? AND event_id = ?", p,
		     CA_ARRAY_SIZE(p), &f, err);
	if (r)
		return r;
	if (!f.found) {
		first_row_done(&f);
		*ret = NULL;
		*ret_content = NULL;
		return 0;
	}
	json_error_t je;
	json_t *j = f.v[0] ? json_loads(f.v[0], JSON_DECODE_ANY, &je) : json_null();
	if (!j) {
		first_row_done(&f);
		return ca_err_set(err, CA_EPARSE, "result", "%s: stored result is not JSON", what);
	}
	*ret = j;
	*ret_content = f.v[1];
	f.v[1] = NULL;
	first_row_done(&f);
	return 0;
}

int ca_store_event_record(ca_store *s, const char *conversation_id, const char *event_id, const char *type,
			  const char *content, const json_t *result, ca_err *err)
{
	int r = check_str(conversation_id, true, "chat event", "conversation_id", err);
	if (!r)
		r = check_str(event_id, true, "chat event", "event_id", err);
	if (r)
		return r;
	char what[320];
	snprintf(what, sizeof(what), "chat event '%s' of conversation '%s'", event_id, conversation_id);
	r = check_str(type, true, what, "type", err);
	if (!r)
		r = check_str(content, false, what, "content", err);
	if (r)
		return r;
	/* A NULL result is stored as JSON null so lookup can still tell
	 * "seen" from "unseen". */
	char *text = dump(result ? result : json_null());
	if (!text)
		return enomem(err, what);
	r = op_begin(s, what, err);
	if (r) {
		free(text);
		return r;
	}
	ca_sql_param q[] = { ca_sql_text(conversation_id), ca_sql_text(event_id) };
	char *dummy = NULL;
	bool found;
	r = db_str(s, what, "SELECT event_id FROM chat_event WHERE conversation_id = ? AND event_id = ?", q,
		   CA_ARRAY_SIZE(q), &dummy, &found, err);
	free(dummy);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "event_id", "%s was recorded already", what);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(conversation_id), ca_sql_text(event_id), ca_sql_text(type),
				     content ? ca_sql_text(content) : ca_sql_null(), ca_sql_text(text), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO chat_event (conversation_id, event_id, type, content, result, at) "
			    "VALUES (?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	/* For the live views: which conversation moved, never what was said. */
	if (!r)
		r = ev_plain(s, "conversation.updated", 0, NULL, "work",
			     json_pack("{s:s, s:s, s:s?}", "conversation", conversation_id, "event", type, "state",
				       ca_json_str(result, "state")),
			     err);
	free(text);
	return op_end(s, r, what, err);
}
