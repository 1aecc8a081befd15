/* SPDX-License-Identifier: MIT */
/*
 * Credentials: passwords (Argon2id, libsodium crypto_pwhash_str with the
 * interactive limits), API tokens and login sessions (32 random bytes from
 * randombytes_buf, base64url; the database keeps only their BLAKE2b hash,
 * crypto_generichash, so a copy of it opens nothing) and the throttling of
 * failed logins, counted in the database per user and per address so that
 * every serve process on it sees the same counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "auth.h"

#define SECRET_BYTES 32
/* base64url of SECRET_BYTES without padding */
#define SECRET_B64 43
#define TOKEN_PREFIX "ca_"
/* Sessions end after this long without a request. */
#define SESSION_IDLE_S (8 * 3600)
/* A token's last use, and a session's last request, are written at most
 * this often: an authenticated request is then a read, not a write. */
#define TOUCH_EVERY_S 60
/* Throttling: failures count while the last is at most WINDOW_S old; from
 * the LIMIT-th on, each further attempt waits a delay doubling from
 * DELAY_S (30 s, 60 s, ... at most 15 minutes): a person who mistyped five
 * times waits half a minute, a guesser gets a few dozen tries an hour. */
#define FAIL_WINDOW_S (15 * 60)
#define FAIL_LIMIT 5
#define FAIL_DELAY_S 30
#define FAIL_DELAY_MAX_S (15 * 60)
#define ADDRESS_MAX 64

int ca_auth_sodium(ca_err *err)
{
	/* Thread-safe, and a no-op after the first call (libsodium's
	 * documentation); every entry point that needs randomness or a hash
	 * calls it, so no caller has to remember. */
	if (sodium_init() < 0)
		return ca_err_set(err, CA_EUNSUPPORTED, "libsodium", "libsodium could not be initialised");
	return 0;
}

int ca_auth_hash_password(const char *password, char **ret, ca_err *err)
{
	size_t n = strlen(password);
	if (n < CA_AUTH_PASSWORD_MIN || n > CA_AUTH_PASSWORD_MAX)
		return ca_err_set(err, CA_EINVAL, "password", "a password is %d to %d bytes; this one is %zu",
				  CA_AUTH_PASSWORD_MIN, CA_AUTH_PASSWORD_MAX, n);
	int r = ca_auth_sodium(err);
	if (r)
		return r;
	char *out = malloc(crypto_pwhash_STRBYTES);
	if (!out)
		return CA_ENOMEM;
	/* It fails only when the memory limit cannot be allocated. */
	if (crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		free(out);
		return ca_err_set(err, CA_ENOMEM, "password", "hashing the password needs %zu bytes of memory",
				  (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE);
	}
	*ret = out;
	return 0;
}

/* A fresh secret as base64url text (out: SECRET_B64 + 1 bytes). */
static void new_secret(char *out)
{
	unsigned char bin[SECRET_BYTES];
	randombytes_buf(bin, sizeof(bin));
	sodium_bin2base64(out, SECRET_B64 + 1, bin, sizeof(bin), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(bin, sizeof(bin));
}

/* Is s exactly SECRET_B64 characters of the base64url alphabet? */
static bool secret_ok(const char *s)
{
	return s && strlen(s) == SECRET_B64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == SECRET_B64;
}

#define HASH_HEX (2 * crypto_generichash_BYTES + 1)

/* The hex BLAKE2b-256 of a secret, as stored. */
static int secret_hash(const char *secret, char out[static HASH_HEX], ca_err *err)
{
	int r = ca_auth_sodium(err);
	if (r)
		return r;
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof(h), (const unsigned char *)secret, strlen(secret), NULL, 0);
	sodium_bin2hex(out, HASH_HEX, h, sizeof(h));
	return 0;
}

static void iso_at(int64_t epoch, char out[static 21])
{
	ca_time_iso(epoch, out);
}

/* Fill a principal from a credential row joined with its user. */
static int principal(const json_t *row, int64_t token_id, const char *csrf, ca_principal *ret, ca_err *err)
{
	const char *user = ca_json_str(row, "user"), *role = ca_json_str(row, "role"),
		   *profile = ca_json_str(row, "profile");
	if (json_integer_value(json_object_get(row, "disabled")))
		return ca_err_set(err, CA_EAUTH, "user", "user '%s' is disabled", user ? user : "");
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->user, sizeof(ret->user), "%s", user ? user : "");
	snprintf(ret->role, sizeof(ret->role), "%s", role ? role : "");
	snprintf(ret->profile, sizeof(ret->profile), "%s", profile ? profile : "");
	ret->rights = ca_role_rights(role);
	ret->token_id = token_id;
	ret->via_session = csrf != NULL;
	if (csrf)
		snprintf(ret->csrf, sizeof(ret->csrf), "%s", csrf);
	return 0;
}

/* ---- API tokens ---- */

int ca_token_create(ca_agent *a, const char *user, const char *label, char **ret_token, char **ret_json,
		    ca_err *err)
{
	if (!ca_auth_name_ok(user))
		return ca_err_set(err, CA_EINVAL, "user", "'%.80s' is not a user name", user ? user : "");
	if (label && (strlen(label) > 128 || strpbrk(label, "\r\n\t")))
		return ca_err_set(err, CA_EINVAL, "name", "a token's name is one line of at most 128 bytes");
	int r = ca_auth_sodium(err);
	if (r)
		return r;
	char secret[SECRET_B64 + 1], hash[HASH_HEX];
	new_secret(secret);
	size_t tn = strlen(TOKEN_PREFIX) + SECRET_B64 + 1;
	char *token = malloc(tn);
	if (!token)
		return CA_ENOMEM;
	snprintf(token, tn, TOKEN_PREFIX "%s", secret);
	sodium_memzero(secret, sizeof(secret));
	json_t *row = NULL;
	r = secret_hash(token, hash, err);
	if (!r)
		r = ca_store_token_add(a->store, user, label, hash, &row, err);
	if (!r)
		r = ca_result(row, ret_json);
	if (r) {
		sodium_memzero(token, tn);
		free(token);
		return r;
	}
	*ret_token = token;
	return 0;
}

int ca_token_revoke(ca_agent *a, int64_t id, ca_err *err)
{
	return ca_store_token_revoke(a->store, id, err);
}

int ca_token_list(ca_agent *a, const char *user, char **ret_json, ca_err *err)
{
	json_t *rows = NULL;
	int r = ca_store_token_list(a->store, user, &rows, err);
	return r ? r : ca_result(json_pack("{s:o}", "tokens", rows), ret_json);
}

int ca_auth_token(ca_agent *a, const char *token, ca_principal *ret, ca_err *err)
{
	static const size_t plen = sizeof(TOKEN_PREFIX) - 1;
	if (!token || strncmp(token, TOKEN_PREFIX, plen) || !secret_ok(token + plen))
		return ca_err_set(err, CA_EAUTH, "token", "the API token is malformed");
	char hash[HASH_HEX];
	json_t *row = NULL;
	int r = secret_hash(token, hash, err);
	if (r || (r = ca_store_token_find(a->store, hash, &row, err)))
		return r;
	if (!row || !json_is_null(json_object_get(row, "revoked_at"))) {
		json_decref(row);
		return ca_err_set(err, CA_EAUTH, "token", "unknown or revoked API token");
	}
	int64_t id = json_integer_value(json_object_get(row, "id"));
	ca_principal p;
	r = principal(row, id, NULL, &p, err);
	if (!r) {
		int64_t now = ca_time_now();
		char at[21], before[21];
		iso_at(now, at);
		iso_at(now - TOUCH_EVERY_S + 1, before);
		r = ca_store_token_touch(a->store, id, at, before, err);
	}
	json_decref(row);
	if (!r)
		*ret = p;
	return r;
}

/* ---- throttling ---- */

/* Seconds until `key` may try again (0: now). */
static int throttle_wait(ca_agent *a, const char *key, int64_t now, int64_t *ret_wait, ca_err *err)
{
	ca_store_login_failure f;
	int r = ca_store_login_failure_get(a->store, key, now - FAIL_WINDOW_S, &f, err);
	if (r)
		return r;
	*ret_wait = 0;
	if (f.count >= FAIL_LIMIT) {
		int64_t over = f.count - FAIL_LIMIT,
			delay = over >= 10 ? FAIL_DELAY_MAX_S : (int64_t)FAIL_DELAY_S << over;
		if (delay > FAIL_DELAY_MAX_S)
			delay = FAIL_DELAY_MAX_S;
		if (f.last_at + delay > now)
			*ret_wait = f.last_at + delay - now;
	}
	return 0;
}

static int login_failed(ca_agent *a, const char *user_key, const char *addr_key, int64_t now, ca_err *err)
{
	/* The failure is what the caller hears of; a failure to count it is
	 * reported instead only when it is the database's. */
	ca_err e;
	ca_err_clear(&e);
	int r = 0;
	if (user_key)
		r = ca_store_login_failure_add(a->store, user_key, now, now - FAIL_WINDOW_S, &e);
	if (!r)
		r = ca_store_login_failure_add(a->store, addr_key, now, now - FAIL_WINDOW_S, &e);
	if (r) {
		if (err)
			*err = e;
		return r;
	}
	return ca_err_set(err, CA_EAUTH, "user", "wrong user name or password");
}

/* ---- sessions ---- */

int ca_session_login(ca_agent *a, const char *user, const char *password, const char *address, char **ret_json,
		     ca_err *err)
{
	if (!address || !*address)
		address = "unknown";
	size_t an = strlen(address);
	for (size_t i = 0; i < an; i++)
		if ((unsigned char)address[i] <= 0x20 || (unsigned char)address[i] >= 0x7f)
			an = ADDRESS_MAX + 1;
	if (an > ADDRESS_MAX)
		return ca_err_set(err, CA_EINVAL, "address", "the client address is not an address");
	int r = ca_auth_sodium(err);
	if (r)
		return r;
	char user_key[sizeof("user:") + CA_AUTH_NAME_MAX], addr_key[sizeof("addr:") + ADDRESS_MAX];
	bool named = ca_auth_name_ok(user);
	if (named)
		snprintf(user_key, sizeof(user_key), "user:%s", user);
	snprintf(addr_key, sizeof(addr_key), "addr:%s", address);
	int64_t now = ca_time_now(), wait_user = 0, wait_addr = 0;
	if (named)
		r = throttle_wait(a, user_key, now, &wait_user, err);
	if (!r)
		r = throttle_wait(a, addr_key, now, &wait_addr, err);
	if (r)
		return r;
	/* Checked before the password, so a locked account learns nothing. */
	if (wait_user || wait_addr) {
		int64_t w = wait_user > wait_addr ? wait_user : wait_addr;
		r = ca_err_set(err, CA_ELIMIT, NULL, "too many failed logins %s; try again in %lld s",
			       wait_user ? "for this user" : "from this address", (long long)w);
		if (err)
			snprintf(err->where, sizeof(err->where), "retry_after=%lld", (long long)w);
		return r;
	}
	size_t pn = password ? strlen(password) : 0;
	json_t *row = NULL;
	if (named && (r = ca_store_user_get(a->store, user, &row, err)) == CA_ENOTFOUND) {
		ca_err_clear(err);
		r = 0;
	}
	if (r)
		return r;
	const char *stored = ca_json_str(row, "password_hash");
	bool good = false;
	if (stored && password && pn <= CA_AUTH_PASSWORD_MAX) {
		good = crypto_pwhash_str_verify(stored, password, pn) == 0;
	} else if (password && pn <= CA_AUTH_PASSWORD_MAX) {
		/* No such user (or no password): spend what a verification
		 * costs, so the time taken does not tell which. */
		char *ignored = NULL;
		if (ca_auth_hash_password(pn >= CA_AUTH_PASSWORD_MIN ? password : "padding-password", &ignored, NULL) == 0) {
			sodium_memzero(ignored, strlen(ignored));
			free(ignored);
		}
	}
	if (good && json_integer_value(json_object_get(row, "disabled")))
		good = false;
	if (!good) {
		json_decref(row);
		return login_failed(a, named ? user_key : NULL, addr_key, now, err);
	}
	char session[SECRET_B64 + 1], csrf[SECRET_B64 + 1], hash[HASH_HEX];
	char at[21], expires[21];
	new_secret(session);
	new_secret(csrf);
	iso_at(now, at);
	iso_at(now + SESSION_IDLE_S, expires);
	r = secret_hash(session, hash, err);
	if (!r)
		r = ca_store_begin(a->store, err);
	if (!r) {
		r = ca_store_login_failure_clear(a->store, user_key, err);
		if (!r)
			r = ca_store_session_purge(a->store, at, err);
		if (!r)
			r = ca_store_session_add(a->store, hash, user, csrf, at, expires, err);
		if (!r)
			r = ca_store_commit(a->store, err);
		if (r)
			ca_store_rollback(a->store);
	}
	if (!r) {
		json_t *res = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s}", "session", session, "csrf", csrf, "user", user,
					"role", json_object_get(row, "role"), "profile", json_object_get(row, "profile"),
					"expires_at", expires);
		r = res ? ca_result(res, ret_json) : CA_ENOMEM;
	}
	sodium_memzero(session, sizeof(session));
	json_decref(row);
	return r;
}

int ca_auth_session(ca_agent *a, const char *session, ca_principal *ret, ca_err *err)
{
	if (!secret_ok(session))
		return ca_err_set(err, CA_EAUTH, "session", "the session is malformed");
	char hash[HASH_HEX];
	json_t *row = NULL;
	int r = secret_hash(session, hash, err);
	if (r || (r = ca_store_session_find(a->store, hash, &row, err)))
		return r;
	int64_t now = ca_time_now();
	char at[21];
	iso_at(now, at);
	const char *expires = ca_json_str(row, "expires_at"), *seen = ca_json_str(row, "last_seen_at");
	if (!row || !expires || strcmp(expires, at) <= 0) {
		json_decref(row);
		return ca_err_set(err, CA_EAUTH, "session", "unknown or expired session; log in again");
	}
	ca_principal p;
	r = principal(row, 0, ca_json_str(row, "csrf"), &p, err);
	char before[21];
	iso_at(now - TOUCH_EVERY_S + 1, before);
	if (!r && (!seen || strcmp(seen, before) < 0)) {
		char next[21];
		iso_at(now + SESSION_IDLE_S, next);
		r = ca_store_session_touch(a->store, hash, at, next, err);
	}
	json_decref(row);
	if (!r)
		*ret = p;
	return r;
}

int ca_session_logout(ca_agent *a, const char *session, ca_err *err)
{
	if (!secret_ok(session))
		return 0;
	char hash[HASH_HEX];
	int r = secret_hash(session, hash, err);
	return r ? r : ca_store_session_delete(a->store, hash, err);
}

int ca_auth_csrf_check(const ca_principal *p, const char *token, ca_err *err)
{
	if (!p->via_session)
		return 0;
	size_t n = strlen(p->csrf);
	if (!token || n == 0 || strlen(token) != n || sodium_memcmp(token, p->csrf, n) != 0)
		return ca_err_set(err, CA_EFORBIDDEN, "X-CSRF-Token",
				  "a change made with a session cookie needs the X-CSRF-Token the login returned");
	return 0;
}
