/* SPDX-License-Identifier: MIT */
/*
 * Who may do what: the role table (the only place rights are granted), the
 * users who hold the roles and the agent experience profiles assigned to
 * them. A user's password never leaves this module but as its Argon2id
 * string (credential.c hashes it); what callers see of a user says only
 * whether it has one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "auth.h"

/* ---- roles ---- */

static const struct role {
	const char *name;
	unsigned rights;
} roles[] = {
	{ "System Administrator", CA_RIGHT_CONFIGURE | CA_RIGHT_WORK | CA_RIGHT_REPORTS | CA_RIGHT_METRICS },
	{ "CSR Manager", CA_RIGHT_CONFIGURE | CA_RIGHT_WORK | CA_RIGHT_REPORTS },
	{ "Customer Service Representative", CA_RIGHT_WORK },
	{ "Omnichannel Agent", CA_RIGHT_WORK },
	{ CA_AUTH_ROLE_INTEGRATION, CA_RIGHT_CHAT_INGEST | CA_RIGHT_MAIL_INGEST | CA_RIGHT_METRICS },
};

static const char *const role_names[] = {
	"System Administrator", "CSR Manager", "Customer Service Representative", "Omnichannel Agent",
	CA_AUTH_ROLE_INTEGRATION, NULL,
};
_Static_assert(CA_ARRAY_SIZE(role_names) == CA_ARRAY_SIZE(roles) + 1, "one name per role");

unsigned ca_role_rights(const char *role)
{
	for (size_t i = 0; role && i < CA_ARRAY_SIZE(roles); i++)
		if (!strcmp(roles[i].name, role))
			return roles[i].rights;
	return 0;
}

const char *const *ca_role_names(void)
{
	return role_names;
}

static int unknown_role(const char *role, ca_err *err)
{
	return ca_err_set(err, CA_EINVAL, "role",
			  "unknown role '%s'; the roles are: System Administrator, CSR Manager, Customer Service "
			  "Representative, Omnichannel Agent, Integration",
			  role ? role : "(none)");
}

/* ---- users ---- */

bool ca_auth_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > CA_AUTH_NAME_MAX)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

static int check_name(const char *name, ca_err *err)
{
	if (ca_auth_name_ok(name))
		return 0;
	return ca_err_set(err, CA_EINVAL, "name",
			  "user name '%.80s' is not 1-%d characters of letters, digits and . _ @ -",
			  name ? name : "", CA_AUTH_NAME_MAX);
}

/* Text a person reads (a display name, a description): at most `max`
 * bytes, no control characters (the store checks UTF-8). */
static int check_text(const char *v, size_t max, bool required, const char *what, const char *key, ca_err *err)
{
	size_t n = strlen(v);
	if (required && n == 0)
		return ca_err_set(err, CA_EINVAL, key, "%s: %s must not be empty", what, key);
	if (n > max)
		return ca_err_set(err, CA_ETOOBIG, key, "%s: %s is %zu bytes; at most %zu", what, key, n, max);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return ca_err_set(err, CA_EINVAL, key, "%s: %s holds a control character", what, key);
	return 0;
}

/* A user row from the store as callers see it (new reference). */
static json_t *user_view(const json_t *row)
{
	const json_t *hp = json_object_get(row, "has_password");
	bool has_password = hp ? json_integer_value(hp) != 0 : json_is_string(json_object_get(row, "password_hash"));
	return json_pack("{s:O, s:O, s:O, s:O, s:b, s:b, s:O}", "name", json_object_get(row, "name"), "role",
			 json_object_get(row, "role"), "profile", json_object_get(row, "profile"), "display_name",
			 json_object_get(row, "display_name"), "disabled",
			 json_integer_value(json_object_get(row, "disabled")) != 0, "has_password", has_password,
			 "created_at", json_object_get(row, "created_at"));
}

/* {key: [view(row)...]} of the store's rows (taken) as JSON text. */
static int list_result(json_t *rows, json_t *(*view)(const json_t *), const char *key, char **ret_json)
{
	json_t *list = json_array(), *row;
	size_t i;
	json_array_foreach(rows, i, row) {
		if (!list || json_array_append_new(list, view(row)) < 0) {
			json_decref(list);
			list = NULL;
			break;
		}
	}
	json_decref(rows);
	return list ? ca_result(json_pack("{s:o}", key, list), ret_json) : CA_ENOMEM;
}

static int show_user(ca_agent *a, const char *name, char **ret_json, ca_err *err)
{
	json_t *row = NULL;
	int r = ca_store_user_get(a->store, name, &row, err);
	if (r)
		return r;
	json_t *v = user_view(row);
	json_decref(row);
	return v ? ca_result(v, ret_json) : CA_ENOMEM;
}

static void wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

int ca_user_add(ca_agent *a, const char *name, const char *role, const char *profile, const char *password,
		char **ret_json, ca_err *err)
{
	int r = check_name(name, err);
	if (r)
		return r;
	if (!ca_role_rights(role))
		return unknown_role(role, err);
	if (password && !strcmp(role, CA_AUTH_ROLE_INTEGRATION))
		return ca_err_set(err, CA_EINVAL, "password",
				  "user '%s': an Integration user signs in with API tokens only, never a password", name);
	char *hash = NULL;
	if (password && (r = ca_auth_hash_password(password, &hash, err)))
		return r;
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s?}", "name", name, "role", role, "profile",
				profile ? profile : "Default", "password_hash", hash);
	r = rec ? ca_store_user_add(a->store, rec, err) : CA_ENOMEM;
	json_decref(rec);
	wipe_free(hash);
	return r ? r : show_user(a, name, ret_json, err);
}

int ca_user_list(ca_agent *a, char **ret_json, ca_err *err)
{
	json_t *rows = NULL;
	int r = ca_store_user_list(a->store, &rows, err);
	return r ? r : list_result(rows, user_view, "users", ret_json);
}

int ca_user_show(ca_agent *a, const char *name, char **ret_json, ca_err *err)
{
	int r = check_name(name, err);
	return r ? r : show_user(a, name, ret_json, err);
}

static const char *const user_keys[] = { "role", "profile", "display_name", "disabled", "password" };

/* The store's changes for `changes_json` (new reference in *ret), every
 * key checked before anything is written. */
static int user_changes(const json_t *cur, const json_t *in, json_t **ret, ca_err *err)
{
	const char *name = ca_json_str(cur, "name");
	char what[96];
	snprintf(what, sizeof(what), "user '%s'", name);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)in, k, v) {
		bool known = false;
		for (size_t i = 0; i < CA_ARRAY_SIZE(user_keys) && !known; i++)
			known = !strcmp(k, user_keys[i]);
		if (!known)
			return ca_err_set(err, CA_EINVAL, k,
					  "%s: unknown key '%s' (role, profile, display_name, disabled, password)", what, k);
		bool ok = !strcmp(k, "disabled") ? json_is_boolean(v)
			  : !strcmp(k, "password") ? json_is_string(v) || json_is_null(v)
						   : json_is_string(v);
		if (!ok)
			return ca_err_set(err, CA_EINVAL, k, "%s: \"%s\" must be %s", what, k,
					  !strcmp(k, "disabled") ? "true or false"
					  : !strcmp(k, "password") ? "a string, or null to remove it"
								   : "a string");
	}
	const char *role = ca_json_str(in, "role") ? ca_json_str(in, "role") : ca_json_str(cur, "role");
	if (ca_json_str(in, "role") && !ca_role_rights(role))
		return unknown_role(role, err);
	const json_t *pw = json_object_get(in, "password");
	bool has_password = pw ? json_is_string(pw) : json_is_string(json_object_get(cur, "password_hash"));
	if (has_password && !strcmp(role, CA_AUTH_ROLE_INTEGRATION))
		return ca_err_set(err, CA_EINVAL, pw ? "password" : "role",
				  "%s: an Integration user signs in with API tokens only; remove the password "
				  "(\"password\": null) first",
				  what);
	int r = 0;
	const char *dn = ca_json_str(in, "display_name"), *prof = ca_json_str(in, "profile");
	if (dn)
		r = check_text(dn, 128, true, what, "display_name", err);
	if (!r && prof)
		r = check_text(prof, 63, true, what, "profile", err);
	if (r)
		return r;
	json_t *out = json_object();
	if (!out)
		return CA_ENOMEM;
	static const char *const same[] = { "role", "profile", "display_name", "disabled" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(same); i++)
		if (json_object_get(in, same[i]))
			json_object_set(out, same[i], json_object_get(in, same[i]));
	if (pw) {
		char *hash = NULL;
		if (json_is_string(pw) && (r = ca_auth_hash_password(json_string_value(pw), &hash, err))) {
			json_decref(out);
			return r;
		}
		json_object_set_new(out, "password_hash", hash ? json_string(hash) : json_null());
		wipe_free(hash);
	}
	*ret = out;
	return 0;
}

int ca_user_change(ca_agent *a, const char *name, const char *changes_json, char **ret_json, ca_err *err)
{
	int r = check_name(name, err);
	if (r)
		return r;
	json_error_t je;
	json_t *in = json_loads(changes_json ? changes_json : "", JSON_REJECT_DUPLICATES, &je);
	if (!in)
		return ca_err_set(err, CA_EPARSE, "changes", "changes of user '%s' are not JSON: %s (line %d, column %d)",
				  name, je.text, je.line, je.column);
	if (!json_is_object(in)) {
		json_decref(in);
		return ca_err_set(err, CA_EINVAL, "changes", "changes of user '%s' must be a JSON object", name);
	}
	json_t *cur = NULL, *ch = NULL;
	r = ca_store_user_get(a->store, name, &cur, err);
	if (!r)
		r = user_changes(cur, in, &ch, err);
	if (!r)
		r = ca_store_begin(a->store, err);
	if (!r) {
		r = ca_store_user_update(a->store, name, ch, err);
		/* A new or removed password ends the sessions the old one opened. */
		if (!r && json_object_get(ch, "password_hash"))
			r = ca_store_session_delete_user(a->store, name, err);
		if (!r)
			r = ca_store_commit(a->store, err);
		if (r)
			ca_store_rollback(a->store);
	}
	json_decref(ch);
	json_decref(cur);
	json_decref(in);
	return r ? r : show_user(a, name, ret_json, err);
}

/* ---- agent experience profiles ---- */

static json_t *profile_view(const json_t *row)
{
	return json_pack("{s:O, s:O, s:b, s:b, s:O}", "name", json_object_get(row, "name"), "description",
			 json_object_get(row, "description"), "autonomous_case",
			 json_integer_value(json_object_get(row, "autonomous_case")) != 0, "autonomous_followup",
			 json_integer_value(json_object_get(row, "autonomous_followup")) != 0, "users",
			 json_object_get(row, "users"));
}

static int check_profile_name(const char *name, ca_err *err)
{
	if (!name)
		return ca_err_set(err, CA_EINVAL, "name", "an agent experience profile needs a name");
	int r = check_text(name, 63, true, "agent experience profile", "name", err);
	if (!r && (name[0] == ' ' || name[strlen(name) - 1] == ' '))
		r = ca_err_set(err, CA_EINVAL, "name", "agent experience profile '%s': the name starts or ends with a space",
			       name);
	return r;
}

int ca_profile_list(ca_agent *a, char **ret_json, ca_err *err)
{
	json_t *rows = NULL;
	int r = ca_store_profile_list(a->store, &rows, err);
	return r ? r : list_result(rows, profile_view, "profiles", ret_json);
}

int ca_profile_show(ca_agent *a, const char *name, char **ret_json, ca_err *err)
{
	int r = check_profile_name(name, err);
	json_t *row = NULL;
	if (!r)
		r = ca_store_profile_get(a->store, name, &row, err);
	if (r)
		return r;
	json_t *v = profile_view(row);
	json_decref(row);
	return v ? ca_result(v, ret_json) : CA_ENOMEM;
}

static const char *const profile_keys[] = { "name", "description", "autonomous_case", "autonomous_followup",
					    "users" };

int ca_profile_put(ca_agent *a, const char *name, const char *profile_json, char **ret_json, ca_err *err)
{
	int r = check_profile_name(name, err);
	if (r)
		return r;
	char what[96];
	snprintf(what, sizeof(what), "agent experience profile '%s'", name);
	json_error_t je;
	json_t *in = json_loads(profile_json ? profile_json : "", JSON_REJECT_DUPLICATES, &je);
	if (!in)
		return ca_err_set(err, CA_EPARSE, "profile", "%s is not JSON: %s (line %d, column %d)", what, je.text,
				  je.line, je.column);
	const char *k;
	json_t *v;
	if (!json_is_object(in))
		r = ca_err_set(err, CA_EINVAL, "profile", "%s must be a JSON object", what);
	json_object_foreach(json_is_object(in) ? in : NULL, k, v) {
		bool known = false;
		for (size_t i = 0; i < CA_ARRAY_SIZE(profile_keys) && !known; i++)
			known = !strcmp(k, profile_keys[i]);
		if (!known) {
			r = ca_err_set(err, CA_EINVAL, k,
				       "%s: unknown key '%s' (name, description, autonomous_case, autonomous_followup)",
				       what, k);
			break;
		}
	}
	const json_t *nm = json_object_get(in, "name"), *desc = json_object_get(in, "description"),
		     *ac = json_object_get(in, "autonomous_case"), *af = json_object_get(in, "autonomous_followup"),
		     *users = json_object_get(in, "users");
	if (!r && nm && (!json_is_string(nm) || strcmp(json_string_value(nm), name)))
		r = ca_err_set(err, CA_EINVAL, "name", "%s: \"name\" differs from the profile's name", what);
	if (!r && desc && !json_is_string(desc))
		r = ca_err_set(err, CA_EINVAL, "description", "%s: \"description\" must be a string", what);
	if (!r && desc)
		r = check_text(json_string_value(desc), 1024, false, what, "description", err);
	if (!r && !json_is_boolean(ac))
		r = ca_err_set(err, CA_EINVAL, "autonomous_case", "%s: \"autonomous_case\" must be true or false", what);
	if (!r && !json_is_boolean(af))
		r = ca_err_set(err, CA_EINVAL, "autonomous_followup",
			       "%s: \"autonomous_followup\" must be true or false", what);
	/* "users" is what a GET said; a PUT of that document leaves it be. */
	if (!r && users && !json_is_integer(users))
		r = ca_err_set(err, CA_EINVAL, "users", "%s: \"users\" is a count of the profile's users", what);
	if (!r)
		r = ca_store_profile_put(a->store, name, desc ? json_string_value(desc) : "", json_is_true(ac),
					 json_is_true(af), err);
	json_decref(in);
	return r ? r : ca_profile_show(a, name, ret_json, err);
}
