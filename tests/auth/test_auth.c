/* SPDX-License-Identifier: MIT */
/*
 * Users, roles, agent experience profiles and credentials against a real
 * SQLite file: Argon2id passwords, API tokens stored only as hashes and
 * revoked at once, disabled users shut out of tokens and sessions, session
 * idle expiry and the CSRF token, throttled logins per user and per address
 * (counted in the database), and profiles with their key checks. Time is
 * moved with CA_NOW (base's clock), never slept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <jansson.h>
#include "caseagent/caseagent.h"
#include "casemgmt.h" /* the agent's store, to count its work */

#define T0 1800000000LL /* 2027-01-15T08:00:00Z */

typedef struct fixture {
	char dir[64];
	char db[128];
	ca_agent *a;
} fixture;

static void at(long long epoch)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", epoch);
	setenv("CA_NOW", v, 1);
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ca-auth-XXXXXX");
	if (!fx || !mkdtemp(fx->dir))
		return -1;
	snprintf(fx->db, sizeof(fx->db), "%s/t.db", fx->dir);
	ca_err err = { 0 };
	if (ca_agent_open(fx->db, &fx->a, &err))
		return -1;
	at(T0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	ca_agent_close(fx->a);
	char path[160];
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i]);
		unlink(path);
	}
	rmdir(fx->dir);
	free(fx);
	unsetenv("CA_NOW");
	return 0;
}

static json_t *parse(char *text)
{
	assert_non_null(text);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(text);
	return j;
}

static void add_user(ca_agent *a, const char *name, const char *role, const char *profile, const char *password)
{
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_user_add(a, name, role, profile, password, &out, &err), 0);
	free(out);
}

/* The session value of a successful login; caller frees. */
static char *login(ca_agent *a, const char *user, const char *password, const char *address)
{
	char *out = NULL;
	ca_err err = { 0 };
	int r = ca_session_login(a, user, password, address, &out, &err);
	if (r)
		fail_msg("login of %s from %s: %s (%s)", user, address, ca_strerror(r), err.message);
	json_t *j = parse(out);
	char *s = strdup(json_string_value(json_object_get(j, "session")));
	json_decref(j);
	return s;
}

static int login_rc(ca_agent *a, const char *user, const char *password, const char *address, ca_err *err)
{
	char *out = NULL;
	ca_err_clear(err);
	int r = ca_session_login(a, user, password, address, &out, err);
	free(out);
	return r;
}

/* Every text cell of table `table` in the database file. */
static char *column_dump(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	size_t cap = 1 << 16, n = 0;
	char *buf = calloc(1, cap);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *t = (const char *)sqlite3_column_text(st, i);
			n += (size_t)snprintf(buf + n, cap - n, "%s|", t ? t : "NULL");
			assert_true(n < cap);
		}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return buf;
}

static void test_roles(void **state)
{
	(void)state;
	assert_int_equal(ca_role_rights("System Administrator"),
			 CA_RIGHT_CONFIGURE | CA_RIGHT_WORK | CA_RIGHT_REPORTS | CA_RIGHT_METRICS);
	assert_int_equal(ca_role_rights("CSR Manager"), CA_RIGHT_CONFIGURE | CA_RIGHT_WORK | CA_RIGHT_REPORTS);
	assert_int_equal(ca_role_rights("Customer Service Representative"), CA_RIGHT_WORK);
	assert_int_equal(ca_role_rights("Omnichannel Agent"), CA_RIGHT_WORK);
	assert_int_equal(ca_role_rights("Integration"),
			 CA_RIGHT_CHAT_INGEST | CA_RIGHT_MAIL_INGEST | CA_RIGHT_METRICS);
	assert_int_equal(ca_role_rights("customer service representative"), 0); /* exact */
	assert_int_equal(ca_role_rights(NULL), 0);
	const char *const *names = ca_role_names();
	size_t n = 0;
	while (names[n]) {
		assert_int_not_equal(ca_role_rights(names[n]), 0);
		n++;
	}
	assert_int_equal(n, 5);
}

static void test_users_and_passwords(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_user_add(a, "alba.ferreira", "Customer Service Representative", NULL, "correct horse",
				     &out, &err),
			 0);
	json_t *u = parse(out);
	assert_string_equal(json_string_value(json_object_get(u, "profile")), "Default");
	assert_true(json_is_true(json_object_get(u, "has_password")));
	assert_true(json_is_false(json_object_get(u, "disabled")));
	assert_null(json_object_get(u, "password_hash"));
	json_decref(u);

	/* Stored as an Argon2id string, never as given. */
	char *rows = column_dump(fx->db, "SELECT * FROM users");
	assert_null(strstr(rows, "correct horse"));
	assert_non_null(strstr(rows, "$argon2id$"));
	free(rows);

	/* Refusals, each naming its key, and nothing written. */
	ca_err_clear(&err);
	assert_int_equal(ca_user_add(a, "alba.ferreira", "CSR Manager", NULL, NULL, &out, &err), CA_EEXIST);
	ca_err_clear(&err);
	assert_int_equal(ca_user_add(a, "bad name", "CSR Manager", NULL, NULL, &out, &err), CA_EINVAL);
	assert_string_equal(err.where, "name");
	ca_err_clear(&err);
	assert_int_equal(ca_user_add(a, "bob", "Supervisor", NULL, NULL, &out, &err), CA_EINVAL);
	assert_string_equal(err.where, "role");
	assert_non_null(strstr(err.message, "Customer Service Representative"));
	ca_err_clear(&err);
	assert_int_equal(ca_user_add(a, "bob", "CSR Manager", NULL, "short", &out, &err), CA_EINVAL);
	assert_string_equal(err.where, "password");
	ca_err_clear(&err);
	assert_int_equal(ca_user_add(a, "bob", "CSR Manager", "Nobody's", NULL, &out, &err), CA_EINVAL);
	assert_string_equal(err.where, "profile");
	ca_err_clear(&err);
	assert_int_equal(ca_user_add(a, "chat", "Integration", NULL, "a password!", &out, &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_user_show(a, "bob", &out, &err), CA_ENOTFOUND);

	/* The password opens a session; a wrong one, or a wrong user, the same
	 * refusal. */
	char *s = login(a, "alba.ferreira", "correct horse", "192.0.2.1");
	free(s);
	char wrong_pw[512], wrong_user[512];
	assert_int_equal(login_rc(a, "alba.ferreira", "Correct horse", "192.0.2.1", &err), CA_EAUTH);
	snprintf(wrong_pw, sizeof(wrong_pw), "%s", err.message);
	assert_int_equal(login_rc(a, "nobody", "correct horse", "192.0.2.1", &err), CA_EAUTH);
	snprintf(wrong_user, sizeof(wrong_user), "%s", err.message);
	assert_string_equal(wrong_pw, wrong_user);

	/* Removing the password ends password login. */
	ca_err_clear(&err);
	assert_int_equal(ca_user_change(a, "alba.ferreira", "{\"password\": null}", &out, &err), 0);
	u = parse(out);
	assert_true(json_is_false(json_object_get(u, "has_password")));
	json_decref(u);
	assert_int_equal(login_rc(a, "alba.ferreira", "correct horse", "192.0.2.2", &err), CA_EAUTH);
	ca_err_clear(&err);
	assert_int_equal(ca_user_change(a, "alba.ferreira", "{\"password\": \"a new one, long\"}", &out, &err), 0);
	free(out);
	s = login(a, "alba.ferreira", "a new one, long", "192.0.2.2");
	free(s);

	ca_err_clear(&err);
	assert_int_equal(ca_user_list(a, &out, &err), 0);
	u = parse(out);
	assert_int_equal(json_array_size(json_object_get(u, "users")), 1);
	json_decref(u);
}

static void test_user_change_checks(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	add_user(a, "rep", "Omnichannel Agent", NULL, NULL);
	char *out = NULL;
	ca_err err = { 0 };
	static const struct {
		const char *changes, *where;
		int code;
	} bad[] = {
		{ "{\"colour\": \"red\"}", "colour", CA_EINVAL },
		{ "{\"role\": \"CSR Manager\", \"disabled\": \"yes\"}", "disabled", CA_EINVAL },
		{ "{\"role\": \"Boss\"}", "role", CA_EINVAL },
		{ "{\"profile\": \"Missing\"}", "profile", CA_EINVAL },
		{ "{\"password\": \"short\"}", "password", CA_EINVAL },
		{ "{\"display_name\": \"a\\nb\"}", "display_name", CA_EINVAL },
		{ "[1]", "changes", CA_EINVAL },
		{ "{\"role\":", "changes", CA_EPARSE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ca_err_clear(&err);
		assert_int_equal(ca_user_change(a, "rep", bad[i].changes, &out, &err), bad[i].code);
		assert_string_equal(err.where, bad[i].where);
	}
	/* Nothing of the refused changes was written. */
	assert_int_equal(ca_user_show(a, "rep", &out, &err), 0);
	json_t *u = parse(out);
	assert_string_equal(json_string_value(json_object_get(u, "role")), "Omnichannel Agent");
	assert_true(json_is_false(json_object_get(u, "disabled")));
	json_decref(u);
	ca_err_clear(&err);
	assert_int_equal(ca_user_change(a, "nobody", "{\"role\": \"CSR Manager\"}", &out, &err), CA_ENOTFOUND);
	ca_err_clear(&err);
	assert_int_equal(ca_user_change(a, "rep", "{\"role\": \"CSR Manager\", \"display_name\": \"Rep Resentative\"}",
					&out, &err),
			 0);
	u = parse(out);
	assert_string_equal(json_string_value(json_object_get(u, "role")), "CSR Manager");
	assert_string_equal(json_string_value(json_object_get(u, "display_name")), "Rep Resentative");
	json_decref(u);
}

static void test_tokens(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	add_user(a, "chat-platform", "Integration", NULL, NULL);
	char *token = NULL, *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_token_create(a, "chat-platform", "live chat", &token, &out, &err), 0);
	json_t *row = parse(out);
	int64_t id = json_integer_value(json_object_get(row, "id"));
	assert_true(id > 0);
	assert_string_equal(json_string_value(json_object_get(row, "name")), "live chat");
	json_decref(row);
	assert_int_equal(strncmp(token, "ca_", 3), 0);
	assert_int_equal(strlen(token), 46);

	/* Only its BLAKE2b hash is in the database. */
	char *rows = column_dump(fx->db, "SELECT * FROM api_token");
	assert_null(strstr(rows, token));
	assert_null(strstr(rows, token + 3));
	unsigned char h[crypto_generichash_BYTES];
	char hex[2 * crypto_generichash_BYTES + 1];
	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	assert_non_null(strstr(rows, hex));
	free(rows);

	ca_principal p;
	assert_int_equal(ca_auth_token(a, token, &p, &err), 0);
	assert_string_equal(p.user, "chat-platform");
	assert_string_equal(p.role, "Integration");
	assert_string_equal(p.profile, "Default");
	assert_int_equal(p.rights, CA_RIGHT_CHAT_INGEST | CA_RIGHT_MAIL_INGEST | CA_RIGHT_METRICS);
	assert_int_equal(p.token_id, id);
	assert_false(p.via_session);

	/* The last use is recorded, at most once a minute. */
	assert_int_equal(ca_token_list(a, "chat-platform", &out, &err), 0);
	json_t *l = parse(out);
	json_t *t = json_array_get(json_object_get(l, "tokens"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "last_used_at")), "2027-01-15T08:00:00Z");
	assert_null(json_object_get(t, "hash"));
	json_decref(l);
	at(T0 + 30);
	assert_int_equal(ca_auth_token(a, token, &p, &err), 0);
	at(T0 + 61);
	assert_int_equal(ca_auth_token(a, token, &p, &err), 0);
	rows = column_dump(fx->db, "SELECT last_used_at FROM api_token");
	assert_string_equal(rows, "2027-01-15T08:01:01Z|");
	free(rows);

	/* Malformed or unknown tokens. */
	static const char *const bad[] = { "", "ca_", "Bearer x", "ca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					   "ca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ca_err_clear(&err);
		assert_int_equal(ca_auth_token(a, bad[i], &p, &err), CA_EAUTH);
	}
	ca_err_clear(&err);
	assert_int_equal(ca_auth_token(a, NULL, &p, &err), CA_EAUTH);

	/* Revoked: refused at once. */
	assert_int_equal(ca_token_revoke(a, id, &err), 0);
	ca_err_clear(&err);
	assert_int_equal(ca_auth_token(a, token, &p, &err), CA_EAUTH);
	ca_err_clear(&err);
	assert_int_equal(ca_token_revoke(a, id + 100, &err), CA_ENOTFOUND);
	ca_err_clear(&err);
	assert_int_equal(ca_token_create(a, "nobody", NULL, &token, &out, &err), CA_ENOTFOUND);
	free(token);
}

static void test_disabled_user(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	add_user(a, "rep", "Customer Service Representative", NULL, "rep's password");
	char *token = NULL, *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_token_create(a, "rep", NULL, &token, &out, &err), 0);
	free(out);
	char *s = login(a, "rep", "rep's password", "198.51.100.1");
	ca_principal p;
	assert_int_equal(ca_auth_token(a, token, &p, &err), 0);
	assert_int_equal(ca_auth_session(a, s, &p, &err), 0);

	assert_int_equal(ca_user_change(a, "rep", "{\"disabled\": true}", &out, &err), 0);
	free(out);
	ca_err_clear(&err);
	assert_int_equal(ca_auth_token(a, token, &p, &err), CA_EAUTH);
	ca_err_clear(&err);
	assert_int_equal(ca_auth_session(a, s, &p, &err), CA_EAUTH);
	assert_int_equal(login_rc(a, "rep", "rep's password", "198.51.100.1", &err), CA_EAUTH);

	assert_int_equal(ca_user_change(a, "rep", "{\"disabled\": false}", &out, &err), 0);
	free(out);
	ca_err_clear(&err);
	assert_int_equal(ca_auth_token(a, token, &p, &err), 0);
	assert_int_equal(ca_auth_session(a, s, &p, &err), 0);
	free(token);
	free(s);
}

static void test_session_expiry_and_csrf(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	add_user(a, "mgr", "CSR Manager", NULL, "manager's password");
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_session_login(a, "mgr", "manager's password", "203.0.113.5", &out, &err), 0);
	json_t *j = parse(out);
	const char *session = json_string_value(json_object_get(j, "session"));
	const char *csrf = json_string_value(json_object_get(j, "csrf"));
	assert_non_null(session);
	assert_non_null(csrf);
	assert_string_not_equal(session, csrf);
	assert_string_equal(json_string_value(json_object_get(j, "role")), "CSR Manager");
	assert_string_equal(json_string_value(json_object_get(j, "expires_at")), "2027-01-15T16:00:00Z");

	char *rows = column_dump(fx->db, "SELECT * FROM session");
	assert_null(strstr(rows, session));
	free(rows);

	ca_principal p;
	assert_int_equal(ca_auth_session(a, session, &p, &err), 0);
	assert_true(p.via_session);
	assert_int_equal(p.token_id, 0);
	assert_string_equal(p.csrf, csrf);
	assert_int_equal(p.rights, CA_RIGHT_CONFIGURE | CA_RIGHT_WORK | CA_RIGHT_REPORTS);

	/* CSRF: the login's value, compared whole. */
	assert_int_equal(ca_auth_csrf_check(&p, csrf, &err), 0);
	char other[80];
	snprintf(other, sizeof(other), "%s", csrf);
	other[0] = other[0] == 'A' ? 'B' : 'A';
	assert_int_equal(ca_auth_csrf_check(&p, other, &err), CA_EFORBIDDEN);
	ca_err_clear(&err);
	assert_int_equal(ca_auth_csrf_check(&p, NULL, &err), CA_EFORBIDDEN);
	ca_err_clear(&err);
	other[strlen(other) - 1] = '\0';
	assert_int_equal(ca_auth_csrf_check(&p, other, &err), CA_EFORBIDDEN);
	ca_principal tp = { .token_id = 1 };
	assert_int_equal(ca_auth_csrf_check(&tp, NULL, &err), 0);

	/* Idle 8 h: each use moves the end; 8 h without one ends it. */
	at(T0 + 7 * 3600);
	ca_err_clear(&err);
	assert_int_equal(ca_auth_session(a, session, &p, &err), 0);
	at(T0 + 14 * 3600);
	assert_int_equal(ca_auth_session(a, session, &p, &err), 0);
	at(T0 + 22 * 3600 + 1);
	assert_int_equal(ca_auth_session(a, session, &p, &err), CA_EAUTH);

	/* Logout ends a session; an unknown or malformed one is no error. */
	at(T0 + 30 * 3600);
	char *s2 = login(a, "mgr", "manager's password", "203.0.113.5");
	ca_err_clear(&err);
	assert_int_equal(ca_auth_session(a, s2, &p, &err), 0);
	assert_int_equal(ca_session_logout(a, s2, &err), 0);
	assert_int_equal(ca_auth_session(a, s2, &p, &err), CA_EAUTH);
	ca_err_clear(&err);
	assert_int_equal(ca_session_logout(a, s2, &err), 0);
	assert_int_equal(ca_session_logout(a, "not a session", &err), 0);
	assert_int_equal(ca_auth_session(a, "not a session", &p, &err), CA_EAUTH);
	free(s2);
	json_decref(j);

	/* A new password ends the sessions the old one opened. */
	char *s3 = login(a, "mgr", "manager's password", "203.0.113.5");
	ca_err_clear(&err);
	assert_int_equal(ca_user_change(a, "mgr", "{\"password\": \"another password\"}", &out, &err), 0);
	free(out);
	assert_int_equal(ca_auth_session(a, s3, &p, &err), CA_EAUTH);
	free(s3);
}

static void test_throttle_per_user(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	add_user(a, "rep", "Omnichannel Agent", NULL, "the right one");
	ca_err err;
	char addr[32];
	/* Five failures, each from another address: the user's count. */
	for (int i = 1; i <= 5; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		assert_int_equal(login_rc(a, "rep", "the wrong one", addr, &err), CA_EAUTH);
	}
	/* Locked: even the right password is refused, and says for how long. */
	assert_int_equal(login_rc(a, "rep", "the right one", "192.0.2.99", &err), CA_ELIMIT);
	assert_string_equal(err.where, "retry_after=30");
	/* The delay passed: one more try; failing doubles the delay. */
	at(T0 + 30);
	assert_int_equal(login_rc(a, "rep", "the wrong one", "192.0.2.6", &err), CA_EAUTH);
	at(T0 + 31);
	assert_int_equal(login_rc(a, "rep", "the right one", "192.0.2.99", &err), CA_ELIMIT);
	assert_string_equal(err.where, "retry_after=59");
	at(T0 + 90);
	assert_int_equal(login_rc(a, "rep", "the right one", "192.0.2.99", &err), 0);
	/* Success forgets the user's failures. */
	assert_int_equal(login_rc(a, "rep", "the wrong one", "192.0.2.7", &err), CA_EAUTH);
	assert_int_equal(login_rc(a, "rep", "the right one", "192.0.2.99", &err), 0);

	/* Counted in the database: another agent on the file sees the lock. */
	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", 10 + i);
		assert_int_equal(login_rc(a, "rep", "the wrong one", addr, &err), CA_EAUTH);
	}
	ca_agent *b = NULL;
	ca_err_clear(&err);
	assert_int_equal(ca_agent_open(fx->db, &b, &err), 0);
	assert_int_equal(login_rc(b, "rep", "the right one", "192.0.2.99", &err), CA_ELIMIT);
	/* Fifteen minutes without a failure forget them. */
	at(T0 + 90 + 15 * 60 + 1);
	assert_int_equal(login_rc(b, "rep", "the right one", "192.0.2.99", &err), 0);
	ca_agent_close(b);
}

static void test_throttle_per_address(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	add_user(a, "rep", "Omnichannel Agent", NULL, "the right one");
	ca_err err;
	static const char *const users[] = { "admin", "root", "rep", "alice", "bob" };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(login_rc(a, users[i], "guess 12345", "198.51.100.66", &err), CA_EAUTH);
	/* The address is locked for every user, the user not elsewhere. */
	assert_int_equal(login_rc(a, "rep", "the right one", "198.51.100.66", &err), CA_ELIMIT);
	assert_non_null(strstr(err.where, "retry_after="));
	assert_int_equal(login_rc(a, "rep", "the right one", "198.51.100.67", &err), 0);
	/* Hostile input: a huge user name or address changes nothing. */
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(login_rc(a, big, "guess 12345", "198.51.100.70", &err), CA_EAUTH);
	assert_int_equal(login_rc(a, "rep", "the right one", big, &err), CA_EINVAL);
	assert_int_equal(login_rc(a, "rep", NULL, "198.51.100.71", &err), CA_EAUTH);
}

static void test_profiles(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	char *out = NULL;
	ca_err err = { 0 };
	add_user(a, "rep", "Customer Service Representative", NULL, NULL);
	assert_int_equal(ca_profile_list(a, &out, &err), 0);
	json_t *l = parse(out);
	json_t *d = json_array_get(json_object_get(l, "profiles"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "Default");
	assert_true(json_is_true(json_object_get(d, "autonomous_case")));
	assert_true(json_is_true(json_object_get(d, "autonomous_followup")));
	assert_int_equal(json_integer_value(json_object_get(d, "users")), 1);
	json_decref(l);

	assert_int_equal(ca_profile_put(a, "Assisted",
					"{\"description\": \"the representative decides\", \"autonomous_case\": false, "
					"\"autonomous_followup\": true}",
					&out, &err),
			 0);
	json_t *p = parse(out);
	assert_true(json_is_false(json_object_get(p, "autonomous_case")));
	assert_int_equal(json_integer_value(json_object_get(p, "users")), 0);
	json_decref(p);

	static const struct {
		const char *doc, *where;
		int code;
	} bad[] = {
		{ "{\"autonomous_case\": false, \"autonomous_followup\": true, \"colour\": 1}", "colour", CA_EINVAL },
		{ "{\"autonomous_followup\": true}", "autonomous_case", CA_EINVAL },
		{ "{\"autonomous_case\": \"no\", \"autonomous_followup\": true}", "autonomous_case", CA_EINVAL },
		{ "{\"autonomous_case\": true}", "autonomous_followup", CA_EINVAL },
		{ "{\"name\": \"Other\", \"autonomous_case\": true, \"autonomous_followup\": true}", "name", CA_EINVAL },
		{ "{\"description\": 5, \"autonomous_case\": true, \"autonomous_followup\": true}", "description", CA_EINVAL },
		{ "[]", "profile", CA_EINVAL },
		{ "{", "profile", CA_EPARSE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ca_err_clear(&err);
		assert_int_equal(ca_profile_put(a, "Assisted", bad[i].doc, &out, &err), bad[i].code);
		assert_string_equal(err.where, bad[i].where);
	}
	ca_err_clear(&err);
	assert_int_equal(ca_profile_put(a, "", "{}", &out, &err), CA_EINVAL);

	/* What show printed goes back in whole; the refused ones wrote nothing. */
	assert_int_equal(ca_profile_show(a, "Assisted", &out, &err), 0);
	p = parse(out);
	assert_string_equal(json_string_value(json_object_get(p, "description")), "the representative decides");
	json_object_set_new(p, "autonomous_followup", json_false());
	char *doc = json_dumps(p, 0);
	json_decref(p);
	assert_int_equal(ca_profile_put(a, "Assisted", doc, &out, &err), 0);
	free(doc);
	p = parse(out);
	assert_true(json_is_false(json_object_get(p, "autonomous_followup")));
	json_decref(p);

	assert_int_equal(ca_user_change(a, "rep", "{\"profile\": \"Assisted\"}", &out, &err), 0);
	free(out);
	assert_int_equal(ca_profile_show(a, "Assisted", &out, &err), 0);
	p = parse(out);
	assert_int_equal(json_integer_value(json_object_get(p, "users")), 1);
	json_decref(p);
	ca_err_clear(&err);
	assert_int_equal(ca_profile_show(a, "Missing", &out, &err), CA_ENOTFOUND);
}

/* A token's, a session's and the accepting representative's lookups go
 * through indexes: their work does not grow with the users and tokens. */
static void test_lookups_stay_flat(void **state)
{
	fixture *fx = *state;
	ca_agent *a = fx->a;
	ca_err err = { 0 };
	add_user(a, "rep", "Customer Service Representative", NULL, "rep's password");
	char *token = NULL, *out = NULL;
	assert_int_equal(ca_token_create(a, "rep", NULL, &token, &out, &err), 0);
	free(out);
	char *s = login(a, "rep", "rep's password", "192.0.2.1");
	uint64_t before[3];
	ca_principal p;
	bool found, on;
	char *profile = NULL;
	for (int round = 0; round < 2; round++) {
		uint64_t w0 = ca_store_work(a->store);
		assert_int_equal(ca_auth_token(a, token, &p, &err), 0);
		uint64_t w1 = ca_store_work(a->store);
		assert_int_equal(ca_auth_session(a, s, &p, &err), 0);
		uint64_t w2 = ca_store_work(a->store);
		assert_int_equal(ca_store_user_autonomy(a->store, "rep", &found, &profile, &on, &err), 0);
		uint64_t w3 = ca_store_work(a->store);
		assert_true(found && on);
		free(profile);
		uint64_t work[3] = { w1 - w0, w2 - w1, w3 - w2 };
		if (round == 1) {
			for (int i = 0; i < 3; i++)
				if (work[i] > before[i] + 8)
					fail_msg("lookup %d: %llu steps with 2000 users, %llu with 1", i,
						 (unsigned long long)work[i], (unsigned long long)before[i]);
			break;
		}
		memcpy(before, work, sizeof(before));
		/* 2000 more users, each with a token (no password: no Argon2). */
		assert_int_equal(ca_store_begin(a->store, &err), 0);
		for (int i = 0; i < 2000; i++) {
			char name[32], *t = NULL;
			snprintf(name, sizeof(name), "user%04d", i);
			add_user(a, name, "Omnichannel Agent", NULL, NULL);
			assert_int_equal(ca_token_create(a, name, NULL, &t, &out, &err), 0);
			free(t);
			free(out);
		}
		assert_int_equal(ca_store_commit(a->store, &err), 0);
	}
	free(token);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test_setup_teardown(test_users_and_passwords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_change_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_expiry_and_csrf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_per_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups_stay_flat, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
