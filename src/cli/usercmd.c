/* SPDX-License-Identifier: MIT */
/*
 * The commands for who may use the service: `caseagent user` (add, list,
 * show, edit), `caseagent token` (API tokens for scripts and integrations:
 * create, list, revoke) and `caseagent profile` (agent experience profiles:
 * list, show, put). The table in commands.c points here. A password is read
 * only from a file named by --password-file (- for standard input), never
 * from the command line, where every user of the machine could read it in
 * the process list; a new token is the only thing `token create` prints on
 * standard output, so a script can capture it, and it is shown only once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* A password file larger than this is not a password file. */
#define MAX_PASSWORD_FILE 4096
/* A profile document larger than this is not a profile. */
#define MAX_PROFILE_FILE 65536

const cli_opt cli_user_add_opts[] = {
	{"role", CLI_ARG_STR, "ROLE", "the role, as the seed names it (required; e.g. \"Customer Service Representative\")"},
	{"profile", CLI_ARG_STR, "NAME", "the agent experience profile (default: Default)"},
	{"password-file", CLI_ARG_STR, "FILE", "read the password from FILE (- for stdin; a trailing newline is dropped)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

const cli_opt cli_user_edit_opts[] = {
	{"role", CLI_ARG_STR, "ROLE", "a new role"},
	{"profile", CLI_ARG_STR, "NAME", "a new agent experience profile"},
	{"display-name", CLI_ARG_STR, "TEXT", "the name people see"},
	{"disable", CLI_ARG_NONE, NULL, "disable the user: its sessions and tokens stop working at once"},
	{"enable", CLI_ARG_NONE, NULL, "enable a disabled user again"},
	{"password-file", CLI_ARG_STR, "FILE", "a new password from FILE (- for stdin); ends the user's sessions"},
	{"no-password", CLI_ARG_NONE, NULL, "remove the password (token only); ends the user's sessions"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

const cli_opt cli_token_create_opts[] = {
	{"name", CLI_ARG_STR, "LABEL", "what the token is for (\"chat platform\")"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

const cli_opt cli_token_list_opts[] = {
	{"user", CLI_ARG_STR, "NAME", "only the tokens of user NAME"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static bool flag(const cli_args *a, const char *name)
{
	int i = cli_opt_index(a->cmd, name);

	return i >= 0 && a->set[i];
}

static void wipe(char *s, size_t n)
{
	if (s) {
		/* volatile: the stores must happen though the memory is freed next */
		for (volatile char *p = s; n--; p++)
			*p = '\0';
		free(s);
	}
}

/* All of `path` (- for stdin), at most `max` bytes, NUL-terminated, no NUL
 * inside. Caller wipes with wipe(*ret, *ret_len). */
static int read_all(const cli_ctx *ctx, const char *path, size_t max, const char *what, char **ret, size_t *ret_len)
{
	bool in = strcmp(path, "-") == 0;
	FILE *f = in ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return cli_failf(ctx, CA_EIO, path, "cannot open the %s %s: %s", what, path, strerror(errno));
	buf = calloc(1, max + 2);
	if (!buf) {
		if (!in)
			fclose(f);
		return cli_failf(ctx, CA_ENOMEM, path, "out of memory");
	}
	n = fread(buf, 1, max + 1, f);
	bool bad = ferror(f) != 0;
	if (!in)
		fclose(f);
	if (bad || n > max || memchr(buf, '\0', n)) {
		wipe(buf, max + 2);
		return cli_failf(ctx, bad ? CA_EIO : n > max ? CA_ETOOBIG : CA_EINVAL, path, "%s: %s", path,
				 bad ? "reading failed" : n > max ? "too large" : "it contains a NUL byte");
	}
	*ret = buf;
	*ret_len = max + 2;
	return CLI_EXIT_OK;
}

/* The password in `path`: the whole file but a trailing line end. */
static int read_password(const cli_ctx *ctx, const char *path, char **ret, size_t *ret_len)
{
	int rc = read_all(ctx, path, MAX_PASSWORD_FILE, "password file", ret, ret_len);
	size_t n;

	if (rc != CLI_EXIT_OK)
		return rc;
	n = strlen(*ret);
	if (n && (*ret)[n - 1] == '\n')
		(*ret)[--n] = '\0';
	if (n && (*ret)[n - 1] == '\r')
		(*ret)[--n] = '\0';
	return CLI_EXIT_OK;
}

/* The seed's role name that `given` names, compared without case; NULL
 * (after reporting the roles there are) when none does. */
static const char *role_name(const cli_ctx *ctx, const char *given)
{
	const char *const *names = ca_role_names();
	char list[512] = "";

	for (size_t i = 0; names[i]; i++)
		if (strcasecmp(names[i], given) == 0)
			return names[i];
	for (size_t i = 0; names[i]; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i ? ", " : "", names[i]);
	}
	cli_failf(ctx, CA_EINVAL, "role", "unknown role '%s'; the roles are %s", given, list);
	return NULL;
}

/* Rows as a table, or the line `none` when there are none. */
static int show_list(const cli_ctx *ctx, const json_t *rows, const cli_column *cols, size_t n, const char *none)
{
	if (json_array_size(rows) == 0) {
		puts(none);
		return CLI_EXIT_OK;
	}
	return cli_show_rows(ctx, rows, cols, n);
}

/* ---- users ---- */

static int show_user(const cli_ctx *ctx, const json_t *u)
{
	static const char *const keys[] = {"name", "display_name", "role", "profile", "disabled", "has_password",
					   "created_at"};

	if (ctx->quiet)
		return CLI_EXIT_OK;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *v = cli_scalar(json_object_get(u, keys[i]), 0);

		if (!v)
			return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
		printf("%-13s %s\n", keys[i], v);
		free(v);
	}
	return CLI_EXIT_OK;
}

static int show_users(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"name", "name", 'l', 0, 0},       {"role", "role", 'l', 0, 0},
		{"profile", "profile", 'l', 0, 0}, {"disabled", "disabled", 'l', 0, 0},
		{"has_password", "password", 'l', 0, 0}, {"created_at", "created", 'l', 0, 0},
	};

	return show_list(ctx, json_object_get(r, "users"), cols, sizeof cols / sizeof cols[0],
			 "no users yet: add one with `caseagent user add NAME --role ROLE`");
}

int cli_cmd_user_add(cli_ctx *ctx, const cli_args *a)
{
	const char *pf = cli_opt_str(a, "password-file"), *role;
	char *password = NULL, *out = NULL;
	size_t plen = 0;
	ca_err err;
	int rc;

	if (!cli_opt_str(a, "role"))
		return cli_usage_error(ctx, a->cmd, NULL, "--role is required");
	if (!(role = role_name(ctx, cli_opt_str(a, "role"))))
		return CLI_EXIT_ERROR;
	if (pf && (rc = read_password(ctx, pf, &password, &plen)) != CLI_EXIT_OK)
		return rc;
	ca_err_clear(&err);
	rc = ca_user_add(ctx->agent, a->pos[0], role, cli_opt_str(a, "profile"), password, &out, &err);
	wipe(password, plen);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_user);
}

/* A listing without arguments: the API call, then its rendering. */
static int call_list(cli_ctx *ctx, int (*api)(ca_agent *, char **, ca_err *), cli_render_fn human)
{
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	rc = api(ctx->agent, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, human);
}

int cli_cmd_user_list(cli_ctx *ctx, const cli_args *a)
{
	(void)a;
	return call_list(ctx, ca_user_list, show_users);
}

int cli_cmd_user_show(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_user_show, a->pos[0], show_user);
}

int cli_cmd_user_edit(cli_ctx *ctx, const cli_args *a)
{
	const char *pf = cli_opt_str(a, "password-file"), *role = cli_opt_str(a, "role");
	json_t *ch = json_object();
	char *password = NULL, *text = NULL, *out = NULL;
	size_t plen = 0;
	ca_err err;
	int rc = CLI_EXIT_OK;

	if (!ch)
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	if (flag(a, "disable") && flag(a, "enable"))
		rc = cli_usage_error(ctx, a->cmd, NULL, "--disable and --enable contradict each other");
	else if (pf && flag(a, "no-password"))
		rc = cli_usage_error(ctx, a->cmd, NULL, "--password-file and --no-password contradict each other");
	if (rc == CLI_EXIT_OK && role) {
		role = role_name(ctx, role);
		if (!role)
			rc = CLI_EXIT_ERROR;
		else
			json_object_set_new(ch, "role", json_string(role));
	}
	if (rc == CLI_EXIT_OK && cli_opt_str(a, "profile"))
		json_object_set_new(ch, "profile", json_string(cli_opt_str(a, "profile")));
	if (rc == CLI_EXIT_OK && cli_opt_str(a, "display-name")) {
		json_t *dn = json_string(cli_opt_str(a, "display-name"));

		if (!dn)
			rc = cli_failf(ctx, CA_EUTF8, "display-name", "--display-name is not valid UTF-8");
		json_object_set_new(ch, "display_name", dn);
	}
	if (rc == CLI_EXIT_OK && (flag(a, "disable") || flag(a, "enable")))
		json_object_set_new(ch, "disabled", json_boolean(flag(a, "disable")));
	if (rc == CLI_EXIT_OK && flag(a, "no-password"))
		json_object_set_new(ch, "password", json_null());
	if (rc == CLI_EXIT_OK && pf && (rc = read_password(ctx, pf, &password, &plen)) == CLI_EXIT_OK) {
		json_t *pw = json_string(password);

		if (!pw)
			rc = cli_failf(ctx, CA_EUTF8, pf, "%s: the password is not valid UTF-8", pf);
		json_object_set_new(ch, "password", pw);
	}
	if (rc == CLI_EXIT_OK && json_object_size(ch) == 0)
		rc = cli_usage_error(ctx, a->cmd, NULL, "nothing to change: give at least one option");
	if (rc == CLI_EXIT_OK && !(text = json_dumps(ch, JSON_COMPACT)))
		rc = cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	json_decref(ch);
	wipe(password, plen);
	if (rc != CLI_EXIT_OK)
		return rc;
	ca_err_clear(&err);
	rc = ca_user_change(ctx->agent, a->pos[0], text, &out, &err);
	wipe(text, strlen(text));
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_user);
}

/* ---- tokens ---- */

static int parse_id(const cli_ctx *ctx, const char *s, int64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || v == 0 || v > INT64_MAX)
		return cli_usage_error(ctx, NULL, "token", "'%s' is not a token id (a positive number; see `token list`)",
				       s);
	*ret = (int64_t)v;
	return CLI_EXIT_OK;
}

int cli_cmd_token_create(cli_ctx *ctx, const cli_args *a)
{
	char *token = NULL, *out = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	rc = ca_token_create(ctx->agent, a->pos[0], cli_opt_str(a, "name"), &token, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	json_t *row = json_loads(out, 0, NULL);
	free(out);
	if (row && ctx->json) {
		json_object_set_new(row, "token", json_string(token));
		rc = cli_print_json(ctx, row);
	} else if (row) {
		puts(token);
		if (!ctx->quiet)
			fprintf(stderr, "token %lld for user %s: shown only this once; revoke with `caseagent token revoke %lld`\n",
				(long long)json_integer_value(json_object_get(row, "id")), a->pos[0],
				(long long)json_integer_value(json_object_get(row, "id")));
		rc = CLI_EXIT_OK;
	} else {
		rc = cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	}
	json_decref(row);
	wipe(token, strlen(token));
	return rc;
}

static int show_revoked(const cli_ctx *ctx, const json_t *r)
{
	if (!ctx->quiet)
		printf("token %lld revoked\n", (long long)json_integer_value(json_object_get(r, "id")));
	return CLI_EXIT_OK;
}

int cli_cmd_token_revoke(cli_ctx *ctx, const cli_args *a)
{
	int64_t id = 0;
	ca_err err;
	int rc = parse_id(ctx, a->pos[0], &id);

	if (rc != CLI_EXIT_OK)
		return rc;
	ca_err_clear(&err);
	rc = ca_token_revoke(ctx->agent, id, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, cli_strf("{\"id\":%lld,\"revoked\":true}", (long long)id), show_revoked);
}

static int show_tokens(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"id", "id", 'r', 0, 0},           {"user", "user", 'l', 0, 0},
		{"name", "name", 'l', 0, 40},      {"created_at", "created", 'l', 0, 0},
		{"last_used_at", "last used", 'l', 0, 0}, {"revoked_at", "revoked", 'l', 0, 0},
	};

	return show_list(ctx, json_object_get(r, "tokens"), cols, sizeof cols / sizeof cols[0], "no API tokens");
}

int cli_cmd_token_list(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	rc = ca_token_list(ctx->agent, cli_opt_str(a, "user"), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_tokens);
}

/* ---- agent experience profiles ---- */

static int show_profile(const cli_ctx *ctx, const json_t *p)
{
	static const char *const keys[] = {"name", "description", "autonomous_case", "autonomous_followup", "users"};

	if (ctx->quiet)
		return CLI_EXIT_OK;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *v = cli_scalar(json_object_get(p, keys[i]), 0);

		if (!v)
			return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
		printf("%-20s %s\n", keys[i], v);
		free(v);
	}
	return CLI_EXIT_OK;
}

static int show_profiles(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"name", "name", 'l', 0, 0},
		{"autonomous_case", "autonomous case", 'l', 0, 0},
		{"autonomous_followup", "autonomous follow-up", 'l', 0, 0},
		{"users", "users", 'r', 0, 0},
		{"description", "description", 'l', 0, 60},
	};

	return show_list(ctx, json_object_get(r, "profiles"), cols, sizeof cols / sizeof cols[0], "no profiles");
}

int cli_cmd_profile_list(cli_ctx *ctx, const cli_args *a)
{
	(void)a;
	return call_list(ctx, ca_profile_list, show_profiles);
}

int cli_cmd_profile_show(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_profile_show, a->pos[0], show_profile);
}

int cli_cmd_profile_put(cli_ctx *ctx, const cli_args *a)
{
	char *doc = NULL, *out = NULL;
	size_t len = 0;
	ca_err err;
	int rc = read_all(ctx, a->pos[1], MAX_PROFILE_FILE, "profile file", &doc, &len);

	if (rc != CLI_EXIT_OK)
		return rc;
	ca_err_clear(&err);
	rc = ca_profile_put(ctx->agent, a->pos[0], doc, &out, &err);
	free(doc);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_profile);
}
