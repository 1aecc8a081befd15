/* SPDX-License-Identifier: MIT */
/*
 * The follow-up agent's commands, listed in the table of commands.c:
 * `followup run` (one tick, for cron and tests), `followup simulate` (the
 * same decisions over up to 100 cases, writing nothing), `followup shadow`
 * (what shadow rules would have done) and `case suggestion` (a case's
 * suggested action, and a person's answer to it). --now sets the one clock
 * (CA_NOW) for the whole run, so what the store stamps agrees with the tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* --now: ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD) or Unix
 * seconds; sets CA_NOW. *ret 0 when not given. */
static int set_now(const cli_ctx *ctx, const cli_args *a, int64_t *ret)
{
	const char *v = cli_opt_str(a, "now");
	*ret = 0;
	if (!v)
		return CLI_EXIT_OK;
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
	char *end = NULL;
	long long secs;

	errno = 0;
	secs = strtoll(v, &end, 10);
	if (!errno && end && end != v && !*end && secs > 0) {
		*ret = (int64_t)secs;
	} else if ((sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) == 6 && !v[n]) ||
		   (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && !v[n])) {
		if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
			return cli_usage_error(ctx, a->cmd, NULL, "--now %s is not a time", v);
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = s;
		*ret = (int64_t)timegm(&tm);
	} else {
		return cli_usage_error(ctx, a->cmd, NULL,
				       "--now takes a UTC time, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD (or Unix seconds)");
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)*ret);
	if (setenv("CA_NOW", buf, 1) != 0)
		return cli_failf(ctx, CA_ENOMEM, "now", "cannot set the clock: %s", strerror(errno));
	return CLI_EXIT_OK;
}

static int show_run(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"case", "case", 'l', 0, 0},	     {"rule", "rule", 'l', 0, 24},	{"level", "level", 'l', 0, 0},
		{"decision", "decision", 'l', 0, 0}, {"step", "step", 'r', 0, 0},	{"intent", "intent", 'l', 0, 0},
		{"reason", "reason", 'l', 0, 72},
	};
	const char *k;
	json_t *v;

	printf("follow-up %s at %s: %lld case%s\n", json_is_true(json_object_get(r, "dry_run")) ? "simulation" : "tick",
	       cli_jstr(r, "now") ? cli_jstr(r, "now") : "?", (long long)json_integer_value(json_object_get(r, "cases")),
	       json_integer_value(json_object_get(r, "cases")) == 1 ? "" : "s");
	json_object_foreach(json_object_get(r, "counts"), k, v)
		printf("  %-20s %lld\n", k, (long long)json_integer_value(v));
	if (!json_array_size(json_object_get(r, "decisions")))
		return CLI_EXIT_OK;
	return cli_show_rows(ctx, json_object_get(r, "decisions"), cols, sizeof cols / sizeof cols[0]);
}

static int run(cli_ctx *ctx, const cli_args *a, bool dry_run)
{
	ca_followup_opts o = {0};
	char *out = NULL;
	ca_err err;
	int rc = set_now(ctx, a, &o.now);

	if (rc != CLI_EXIT_OK)
		return rc;
	o.rule = cli_opt_str(a, "rule");
	o.dry_run = dry_run;
	if (cli_opt_str(a, "limit"))
		o.limit = (size_t)a->num[cli_opt_index(a->cmd, "limit")];
	ca_err_clear(&err);
	rc = ca_followup_run(ctx->agent, &o, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_run);
}

int cli_cmd_followup_run(cli_ctx *ctx, const cli_args *a)
{
	return run(ctx, a, false);
}

int cli_cmd_followup_simulate(cli_ctx *ctx, const cli_args *a)
{
	return run(ctx, a, true);
}

static int show_shadow(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"at", "at", 'l', 0, 0},	   {"case", "case", 'l', 0, 0},	    {"rule", "rule", 'l', 0, 24},
		{"decision", "decision", 'l', 0, 0}, {"step", "step", 'r', 0, 0}, {"reason", "reason", 'l', 0, 72},
	};
	const json_t *rows = json_object_get(r, "decisions");

	printf("%zu shadow decision%s%s%s\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s",
	       cli_jstr(r, "rule") ? " of rule " : "", cli_jstr(r, "rule") ? cli_jstr(r, "rule") : "");
	return cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
}

int cli_cmd_followup_shadow(cli_ctx *ctx, const cli_args *a)
{
	char *out = NULL;
	ca_err err;
	size_t limit = cli_opt_str(a, "limit") ? (size_t)a->num[cli_opt_index(a->cmd, "limit")] : 0;
	int rc;

	ca_err_clear(&err);
	rc = ca_followup_shadow_log(ctx->agent, cli_opt_str(a, "rule"), limit, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_shadow);
}

static int show_suggestion(const cli_ctx *ctx, const json_t *r)
{
	const json_t *s = json_object_get(r, "suggestion");
	const json_t *e = json_object_get(s, "email");

	(void)ctx;
	if (!json_is_object(s)) {
		printf("%s: no suggested action\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?");
		return CLI_EXIT_OK;
	}
	printf("%s: suggestion %lld (rule %s): %s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       (long long)json_integer_value(json_object_get(s, "id")), cli_jstr(s, "rule") ? cli_jstr(s, "rule") : "?",
	       cli_jstr(s, "proposed") ? cli_jstr(s, "proposed") : "?");
	if (cli_jstr(s, "reply_summary"))
		printf("  the customer wrote (%s): %s\n", cli_jstr(s, "intent") ? cli_jstr(s, "intent") : "?",
		       cli_jstr(s, "reply_summary"));
	if (json_is_object(e))
		printf("  e-mail: %s\n\n%s\n", cli_jstr(e, "subject") ? cli_jstr(e, "subject") : "",
		       cli_jstr(e, "body") ? cli_jstr(e, "body") : "");
	if (cli_jstr(s, "resolution"))
		printf("  resolution: %s\n", cli_jstr(s, "resolution"));
	return CLI_EXIT_OK;
}

static int show_act(const cli_ctx *ctx, const json_t *r)
{
	const json_t *d = json_object_get(r, "draft");

	(void)ctx;
	printf("%s: suggestion %lld: %s done; case is %s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       (long long)json_integer_value(json_object_get(r, "suggestion")), cli_jstr(r, "action") ? cli_jstr(r, "action") : "?",
	       cli_jstr(r, "status") ? cli_jstr(r, "status") : "?");
	if (json_is_integer(json_object_get(r, "outbox")))
		printf("  queued as outbox message %lld; `caseagent email send` sends it\n",
		       (long long)json_integer_value(json_object_get(r, "outbox")));
	if (json_is_object(d))
		printf("  draft: %s\n\n%s\n", cli_jstr(d, "subject") ? cli_jstr(d, "subject") : "",
		       cli_jstr(d, "body") ? cli_jstr(d, "body") : "");
	return CLI_EXIT_OK;
}

int cli_check_suggestion(const cli_ctx *ctx, const cli_args *a)
{
	static const char *const actions[] = {"send", "draft", "resolve", "dismiss"};
	char *end = NULL;

	if (a->npos == 1)
		return CLI_EXIT_OK;
	if (a->npos != 4 || strcmp(a->pos[1], "act"))
		return cli_usage_error(ctx, a->cmd, NULL, "give CASE alone, or CASE act ID send|draft|resolve|dismiss");
	errno = 0;
	long long id = strtoll(a->pos[2], &end, 10);
	if (errno || !end || *end || id <= 0)
		return cli_usage_error(ctx, a->cmd, NULL, "the suggestion id '%s' is not a positive number", a->pos[2]);
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (!strcmp(a->pos[3], actions[i]))
			return CLI_EXIT_OK;
	return cli_usage_error(ctx, a->cmd, NULL, "the action '%s' is none of send, draft, resolve, dismiss", a->pos[3]);
}

int cli_cmd_case_suggestion(cli_ctx *ctx, const cli_args *a)
{
	char *out = NULL, *req = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	if (a->npos == 1) {
		rc = ca_case_suggestion(ctx->agent, a->pos[0], &out, &err);
		if (rc < 0)
			return cli_fail(ctx, rc, &err);
		return cli_result(ctx, out, show_suggestion);
	}
	const char *actor = cli_opt_str(a, "actor");
	if (!actor)
		actor = getenv("USER") && getenv("USER")[0] ? getenv("USER") : "cli";
	json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?}", "action", a->pos[3], "subject", cli_opt_str(a, "subject"), "body",
			      cli_opt_str(a, "body"), "resolution", cli_opt_str(a, "resolution"));
	req = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!req)
		return cli_failf(ctx, CA_EUTF8, "body", "the request is not UTF-8 text");
	rc = ca_case_suggestion_act(ctx->agent, a->pos[0], strtoll(a->pos[2], NULL, 10), req, actor, &out, &err);
	free(req);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_act);
}

/* ---- options, for the table ---- */

const cli_opt cli_followup_run_opts[] = {
	{"now", CLI_ARG_STR, "TIME", "the tick's time, UTC YYYY-MM-DDTHH:MM:SSZ (default: now); sets the clock"},
	{"rule", CLI_ARG_STR, "NAME", "only cases of this rule (first match still wins)"},
	{"limit", CLI_ARG_UINT, "N", "at most N matching cases (default: all)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_followup_simulate_opts[] = {
	{"now", CLI_ARG_STR, "TIME", "decide as of this UTC time (default: now)"},
	{"rule", CLI_ARG_STR, "NAME", "only this rule (also an inactive one)"},
	{"limit", CLI_ARG_UINT, "N", "at most N matching cases, 1 to 100 (default 100)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_followup_shadow_opts[] = {
	{"rule", CLI_ARG_STR, "NAME", "only this rule's decisions"},
	{"limit", CLI_ARG_UINT, "N", "at most N, newest first (default 100, at most 1000)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_suggestion_opts[] = {
	{"subject", CLI_ARG_STR, "TEXT", "send: the edited subject"},
	{"body", CLI_ARG_STR, "TEXT", "send: the edited e-mail"},
	{"resolution", CLI_ARG_STR, "TEXT", "resolve: the resolution (default: the suggested one)"},
	{"actor", CLI_ARG_STR, "NAME", "who acts (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
