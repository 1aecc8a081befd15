/* SPDX-License-Identifier: MIT */
/*
 * Users, agent experience profiles and credentials (migration 13): the rows
 * behind src/auth. Only what src/auth computed is stored — a password as its
 * Argon2id string, a token or session as its BLAKE2b hash — and every lookup
 * a request makes (a token's or a session's hash, a user's name, the profile
 * of the representative who accepted a conversation) goes through a unique
 * index, so its cost does not grow with the number of users or sessions.
 * The policy (who may log in, when a login is throttled) is src/auth's; the
 * checks here are those that keep the tables consistent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

/* The first row of a query (new reference), NULL in *ret when none. */
static int one_row(ca_store *s, const char *what, const char *sql, const char *key, json_t **ret, ca_err *err)
{
	*ret = NULL;
	ca_sql_param p[] = { ca_sql_text(key) };
	json_t *rows;
	int r = db_rows(s, what, sql, p, 1, &rows, err);
	if (!r)
		*ret = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

/* A record by name: CA_ENOTFOUND naming it when there is none. */
static int named_row(ca_store *s, const char *kind, const char *sql, const char *name, json_t **ret, ca_err *err)
{
	int r = check_str(name, true, kind, "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "%s '%s'", kind, name);
	if (!(r = one_row(s, what, sql, name, ret, err)) && !*ret)
		r = ca_err_set(err, CA_ENOTFOUND, "name", "%s not found", what);
	return r;
}

/* ---- users ---- */

#define USER_COLS "name, display_name, role, profile, password_hash, disabled, created_at"

static int profile_exists(ca_store *s, const char *what, const char *profile, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(profile) };
	int64_t one;
	bool found;
	int r = db_i64(s, what, "SELECT 1 FROM agent_profile WHERE name = ?", p, 1, &one, &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_EINVAL, "profile", "%s: agent experience profile '%s' does not exist", what,
			       profile);
	return r;
}

int ca_store_user_add(ca_store *s, const json_t *user, ca_err *err)
{
	const char *name = ca_json_str(user, "name");
	int r = check_str(name, true, "new user", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "user '%s'", name);
	const char *display = ca_json_str(user, "display_name"), *role = ca_json_str(user, "role"),
		   *profile = ca_json_str(user, "profile"), *hash = ca_json_str(user, "password_hash");
	if (!r)
		r = check_str(display ? display : name, true, what, "display_name", err);
	if (!r)
		r = check_str(role, true, what, "role", err);
	if (!r)
		r = check_str(profile, true, what, "profile", err);
	if (!r)
		r = check_str(hash, false, what, "password_hash", err);
	if (!r)
		r = op_begin(s, what, err);
	if (r)
		return r;
	ca_sql_param q[] = { ca_sql_text(name) };
	int64_t one;
	bool found;
	r = db_i64(s, what, "SELECT 1 FROM users WHERE name = ?", q, 1, &one, &found, err);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "name", "%s exists already", what);
	if (!r)
		r = profile_exists(s, what, profile, err);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(name), ca_sql_text(display ? display : name), ca_sql_text(role),
				     ca_sql_text(profile), ca_sql_text(hash), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO users (name, display_name, role, profile, password_hash, disabled, created_at) "
			    "VALUES (?, ?, ?, ?, ?, 0, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	return op_end(s, r, what, err);
}

int ca_store_user_get(ca_store *s, const char *name, json_t **ret, ca_err *err)
{
	return named_row(s, "user", "SELECT " USER_COLS " FROM users WHERE name = ?", name, ret, err);
}

int ca_store_user_list(ca_store *s, json_t **ret, ca_err *err)
{
	return db_rows(s, "users",
		       "SELECT name, display_name, role, profile, password_hash IS NOT NULL AS has_password, disabled, "
		       "created_at FROM users ORDER BY name",
		       NULL, 0, ret, err);
}

static const char *const user_change_keys[] = { "display_name", "role", "profile", "password_hash", "disabled" };

int ca_store_user_update(ca_store *s, const char *name, const json_t *changes, ca_err *err)
{
	int r = check_str(name, true, "user", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "user '%s'", name);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)changes, k, v) {
		if (!one_of(k, user_change_keys, CA_ARRAY_SIZE(user_change_keys)))
			return ca_err_set(err, CA_EINVAL, k, "%s: '%s' is not a column of a user", what, k);
		if (!strcmp(k, "disabled") ? !json_is_boolean(v)
		    : !strcmp(k, "password_hash") ? !json_is_string(v) && !json_is_null(v)
						  : !json_is_string(v))
			return ca_err_set(err, CA_EINVAL, k, "%s: '%s' has the wrong type", what, k);
		if (json_is_string(v) && (r = check_str(json_string_value(v), true, what, k, err)))
			return r;
	}
	if ((r = op_begin(s, what, err)))
		return r;
	json_t *cur = NULL;
	r = ca_store_user_get(s, name, &cur, err);
	const json_t *pv = json_object_get(changes, "profile");
	if (!r && pv)
		r = profile_exists(s, what, json_string_value(pv), err);
	if (!r) {
		/* The row as it will be: each column from the changes, else as stored. */
		const char *col[4];
		for (size_t i = 0; i < 4; i++) {
			json_t *c = json_object_get(changes, user_change_keys[i]);
			col[i] = c ? json_string_value(c) : ca_json_str(cur, user_change_keys[i]);
		}
		const json_t *dv = json_object_get(changes, "disabled");
		int64_t disabled = dv ? json_is_true(dv) : json_integer_value(json_object_get(cur, "disabled"));
		ca_sql_param p[] = { ca_sql_text(col[0]), ca_sql_text(col[1]), ca_sql_text(col[2]),
				     ca_sql_text(col[3]), ca_sql_int(disabled), ca_sql_text(name) };
		r = db_exec(s, what,
			    "UPDATE users SET display_name = ?, role = ?, profile = ?, password_hash = ?, disabled = ? "
			    "WHERE name = ?",
			    p, CA_ARRAY_SIZE(p), err);
	}
	json_decref(cur);
	return op_end(s, r, what, err);
}

/* The profile of `user` and one of its feature flags (a column name of
 * ours, never the caller's), in one indexed query. */
static int user_profile_flag(ca_store *s, const char *user, const char *what, const char *sql, bool *ret_found,
			     char **ret_profile, bool *ret_on, ca_err *err)
{
	*ret_found = false;
	if (!user || !*user || !utf8_valid(user, strlen(user)))
		return 0;
	ca_sql_param p[] = { ca_sql_text(user) };
	first_row f = { 0 };
	int r = db_first(s, what, sql, p, 1, &f, err);
	if (!r && f.found) {
		*ret_found = true;
		*ret_on = f.v[1] && strcmp(f.v[1], "0") != 0;
		*ret_profile = f.v[0];
		f.v[0] = NULL;
	}
	first_row_done(&f);
	return r;
}

int ca_store_user_autonomy(ca_store *s, const char *user, bool *ret_found, char **ret_profile,
			   bool *ret_autonomous_case, ca_err *err)
{
	return user_profile_flag(s, user, "the accepting representative's profile",
				 "SELECT p.name, p.autonomous_case FROM users u JOIN agent_profile p ON p.name = u.profile "
				 "WHERE u.name = ?",
				 ret_found, ret_profile, ret_autonomous_case, err);
}

int ca_store_user_followup(ca_store *s, const char *user, bool *ret_found, char **ret_profile, bool *ret_on,
			   ca_err *err)
{
	return user_profile_flag(s, user, "the case owner's profile",
				 "SELECT p.name, p.autonomous_followup FROM users u JOIN agent_profile p ON p.name = u.profile "
				 "WHERE u.name = ?",
				 ret_found, ret_profile, ret_on, err);
}

/* ---- agent experience profiles ---- */

#define PROFILE_SELECT                                                                                       \
	"SELECT p.name, p.description, p.autonomous_case, p.autonomous_followup, "                           \
	"(SELECT COUNT(*) FROM users u WHERE u.profile = p.name) AS users, p.created_at, p.updated_at "    \
	"FROM agent_profile p "

int ca_store_profile_get(ca_store *s, const char *name, json_t **ret, ca_err *err)
{
	return named_row(s, "agent experience profile", PROFILE_SELECT "WHERE p.name = ?", name, ret, err);
}

int ca_store_profile_list(ca_store *s, json_t **ret, ca_err *err)
{
	return db_rows(s, "agent experience profiles", PROFILE_SELECT "ORDER BY p.name", NULL, 0, ret, err);
}

int ca_store_profile_put(ca_store *s, const char *name, const char *description, bool autonomous_case,
			 bool autonomous_followup, ca_err *err)
{
	int r = check_str(name, true, "agent experience profile", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "agent experience profile '%s'", name);
	if ((r = check_str(description, false, what, "description", err)))
		return r;
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(name), ca_sql_text(description ? description : ""),
			     ca_sql_int(autonomous_case), ca_sql_int(autonomous_followup), ca_sql_text(at),
			     ca_sql_text(at) };
	return db_exec(s, what,
		       "INSERT INTO agent_profile (name, description, autonomous_case, autonomous_followup, created_at, "
		       "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
		       "description = excluded.description, autonomous_case = excluded.autonomous_case, "
		       "autonomous_followup = excluded.autonomous_followup, updated_at = excluded.updated_at",
		       p, CA_ARRAY_SIZE(p), err);
}

/* ---- API tokens ---- */

#define TOKEN_COLS "id, user_name AS user, name, created_at, last_used_at, revoked_at"

int ca_store_token_add(ca_store *s, const char *user, const char *label, const char *hash, json_t **ret,
		       ca_err *err)
{
	int r = check_str(user, true, "new API token", "user", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "API token of user '%s'", user);
	if ((r = check_str(label, false, what, "name", err)) || (r = check_str(hash, true, what, "hash", err)))
		return r;
	if ((r = op_begin(s, what, err)))
		return r;
	ca_sql_param q[] = { ca_sql_text(user) };
	int64_t one, id = 0;
	bool found;
	r = db_i64(s, what, "SELECT 1 FROM users WHERE name = ?", q, 1, &one, &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_ENOTFOUND, "user", "user '%s' not found", user);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(user), ca_sql_text(label), ca_sql_text(hash), ca_sql_text(at) };
		r = db_i64(s, what,
			   "INSERT INTO api_token (user_name, name, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			   p, CA_ARRAY_SIZE(p), &id, &found, err);
	}
	json_t *rows = NULL;
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id) };
		r = db_rows(s, what, "SELECT " TOKEN_COLS " FROM api_token WHERE id = ?", p, 1, &rows, err);
	}
	r = op_end(s, r, what, err);
	if (!r)
		*ret = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

int ca_store_token_revoke(ca_store *s, int64_t id, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "API token %lld", (long long)id);
	char at[21];
	now_iso(at);
	/* A second revoke keeps the first time: the token died then. */
	ca_sql_param p[] = { ca_sql_text(at), ca_sql_int(id) };
	int r = db_exec(s, what, "UPDATE api_token SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", p, 2, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return r;
}

int ca_store_token_list(ca_store *s, const char *user, json_t **ret, ca_err *err)
{
	if (user) {
		ca_sql_param p[] = { ca_sql_text(user) };
		return db_rows(s, "API tokens", "SELECT " TOKEN_COLS " FROM api_token WHERE user_name = ? ORDER BY id",
			       p, 1, ret, err);
	}
	return db_rows(s, "API tokens", "SELECT " TOKEN_COLS " FROM api_token ORDER BY id", NULL, 0, ret, err);
}

int ca_store_token_find(ca_store *s, const char *hash, json_t **ret, ca_err *err)
{
	return one_row(s, "API token",
			  "SELECT t.id, t.user_name AS user, t.last_used_at, t.revoked_at, u.role, u.profile, u.disabled "
			  "FROM api_token t JOIN users u ON u.name = t.user_name WHERE t.hash = ?",
			  hash, ret, err);
}

int ca_store_token_touch(ca_store *s, int64_t id, const char *now, const char *before, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(now), ca_sql_int(id), ca_sql_text(before) };
	return db_exec(s, "API token",
		       "UPDATE api_token SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
		       p, 3, err);
}

/* ---- sessions ---- */

int ca_store_session_add(ca_store *s, const char *hash, const char *user, const char *csrf, const char *now,
			 const char *expires, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(hash), ca_sql_text(user), ca_sql_text(csrf), ca_sql_text(now),
			     ca_sql_text(now), ca_sql_text(expires) };
	return db_exec(s, "session",
		       "INSERT INTO session (hash, user_name, csrf, created_at, last_seen_at, expires_at) "
		       "VALUES (?, ?, ?, ?, ?, ?)",
		       p, CA_ARRAY_SIZE(p), err);
}

int ca_store_session_find(ca_store *s, const char *hash, json_t **ret, ca_err *err)
{
	return one_row(s, "session",
			  "SELECT s.user_name AS user, s.csrf, s.last_seen_at, s.expires_at, u.role, u.profile, "
			  "u.disabled FROM session s JOIN users u ON u.name = s.user_name WHERE s.hash = ?",
			  hash, ret, err);
}

int ca_store_session_touch(ca_store *s, const char *hash, const char *now, const char *expires, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(now), ca_sql_text(expires), ca_sql_text(hash) };
	return db_exec(s, "session", "UPDATE session SET last_seen_at = ?, expires_at = ? WHERE hash = ?", p, 3, err);
}

int ca_store_session_delete(ca_store *s, const char *hash, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(hash) };
	return db_exec(s, "session", "DELETE FROM session WHERE hash = ?", p, 1, err);
}

int ca_store_session_delete_user(ca_store *s, const char *user, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(user) };
	return db_exec(s, "sessions", "DELETE FROM session WHERE user_name = ?", p, 1, err);
}

int ca_store_session_purge(ca_store *s, const char *now, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(now) };
	return db_exec(s, "expired sessions", "DELETE FROM session WHERE expires_at <= ?", p, 1, err);
}

/* ---- failed logins ---- */

int ca_store_login_failure_get(ca_store *s, const char *key, int64_t forget_before, ca_store_login_failure *ret,
			       ca_err *err)
{
	memset(ret, 0, sizeof(*ret));
	ca_sql_param p[] = { ca_sql_text(key), ca_sql_int(forget_before) };
	json_t *rows;
	int r = db_rows(s, "failed logins", "SELECT count, first_at, last_at FROM login_failure WHERE key = ? AND last_at >= ?",
			p, 2, &rows, err);
	if (r)
		return r;
	json_t *row = json_array_get(rows, 0);
	if (row) {
		ret->count = json_integer_value(json_object_get(row, "count"));
		ret->first_at = json_integer_value(json_object_get(row, "first_at"));
		ret->last_at = json_integer_value(json_object_get(row, "last_at"));
	}
	json_decref(rows);
	return 0;
}

int ca_store_login_failure_add(ca_store *s, const char *key, int64_t now, int64_t forget_before, ca_err *err)
{
	int r = op_begin(s, "failed logins", err);
	if (r)
		return r;
	/* Rows nobody failed on lately go, so a spray of made-up names cannot
	 * fill the table: through the index on last_at. */
	ca_sql_param d[] = { ca_sql_int(forget_before) };
	r = db_exec(s, "failed logins", "DELETE FROM login_failure WHERE last_at < ?", d, 1, err);
	ca_sql_param p[] = { ca_sql_text(key), ca_sql_int(now), ca_sql_int(now) };
	if (!r)
		r = db_exec(s, "failed logins",
			    "INSERT INTO login_failure (key, count, first_at, last_at) VALUES (?, 1, ?, ?) "
			    "ON CONFLICT (key) DO UPDATE SET count = login_failure.count + 1, last_at = excluded.last_at",
			    p, 3, err);
	return op_end(s, r, "failed logins", err);
}

int ca_store_login_failure_clear(ca_store *s, const char *key, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(key) };
	return db_exec(s, "failed logins", "DELETE FROM login_failure WHERE key = ?", p, 1, err);
}
