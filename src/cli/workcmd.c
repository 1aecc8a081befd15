/* SPDX-License-Identifier: MIT */
/*
 * A representative's daily commands, listed in the table of commands.c:
 * `case create`, `case note`, `case notes`, `case emails`, `case reply`,
 * `case update`
 * (update from conversation), `conversation list`, `conversation show` and
 * `report agent`. Each calls one function of the public API's "daily
 * operations" and renders its JSON, or prints it with --json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Who acts: --actor, else $USER, else "cli". */
static const char *actor_of(const cli_args *a)
{
	const char *actor = cli_opt_str(a, "actor");

	if (!actor) {
		actor = getenv("USER");
		if (!actor || !actor[0])
			actor = "cli";
	}
	return actor;
}

/* The whole of a file ("-": stdin), at most `max` bytes; caller frees. */
static int read_text(const cli_ctx *ctx, const char *path, size_t max, char **ret)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf;
	size_t n = 0, cap = 4096;

	if (!f)
		return cli_failf(ctx, CA_EIO, path, "cannot open %s: %s", path, strerror(errno));
	buf = malloc(cap);
	while (buf) {
		size_t got;

		if (n + 1 >= cap) {
			char *nb = cap > max + 1 ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max)
			break;
		if (got == 0)
			break;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return cli_failf(ctx, n > max ? CA_ETOOBIG : CA_ENOMEM, path, "%s is over %zu bytes", path, max);
	if (n > max) {
		free(buf);
		return cli_failf(ctx, CA_ETOOBIG, path, "%s is over %zu bytes", path, max);
	}
	buf[n] = '\0';
	*ret = buf;
	return CLI_EXIT_OK;
}

/* ---- case create, update ---- */

int cli_check_field_pairs(const cli_ctx *ctx, const cli_args *a, size_t first)
{
	for (size_t i = first; i < a->npos; i++) {
		const char *eq = strchr(a->pos[i], '=');

		if (!eq || eq == a->pos[i])
			return cli_usage_error(ctx, a->cmd, NULL, "'%s' is not FIELD=VALUE", a->pos[i]);
	}
	return CLI_EXIT_OK;
}

int cli_check_case_create(const cli_ctx *ctx, const cli_args *a)
{
	return cli_check_field_pairs(ctx, a, 0);
}

static int show_case_brief(const cli_ctx *ctx, const json_t *r)
{
	const char *k;
	json_t *v;
	char *ver = cli_scalar(json_object_get(r, "version"), 0);

	(void)ctx;
	printf("%s created (version %s)\n", cli_jstr(r, "ticket_number") ? cli_jstr(r, "ticket_number") : "?",
	       ver ? ver : "?");
	free(ver);
	json_object_foreach(json_object_get(r, "fields"), k, v) {
		char *s = cli_scalar(v, 2);

		printf("  %-16s %s\n", k, s ? s : "?");
		free(s);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_case_create(cli_ctx *ctx, const cli_args *a)
{
	json_t *fields = json_object(), *body;
	char *text, *out = NULL;
	ca_err err;
	int rc;

	for (size_t i = 0; fields && i < a->npos; i++) {
		const char *eq = strchr(a->pos[i], '=');
		char *field = cli_strf("%.*s", (int)(eq - a->pos[i]), a->pos[i]);

		if (!field || json_object_set_new(fields, field, json_string(eq + 1)) < 0) {
			free(field);
			json_decref(fields);
			return cli_failf(ctx, CA_EUTF8, a->pos[i], "'%s' is not UTF-8 text", a->pos[i]);
		}
		free(field);
	}
	body = fields ? json_pack("{s:o}", "fields", fields) : NULL;
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	ca_err_clear(&err);
	rc = ca_case_create(ctx->agent, text, actor_of(a), &out, &err);
	free(text);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_case_brief);
}

static int show_update(const cli_ctx *ctx, const json_t *r)
{
	const json_t *changed = json_object_get(r, "changed");
	size_t i;
	json_t *c;

	(void)ctx;
	if (json_is_true(json_object_get(r, "no_changes")) || json_array_size(changed) == 0) {
		printf("%s: no changes\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?");
		return CLI_EXIT_OK;
	}
	printf("%s: %zu field%s changed from conversation %s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       json_array_size(changed), json_array_size(changed) == 1 ? "" : "s",
	       cli_jstr(r, "conversation") ? cli_jstr(r, "conversation") : "?");
	json_array_foreach(changed, i, c) {
		char *o = cli_scalar(json_object_get(c, "old"), 2), *n = cli_scalar(json_object_get(c, "new"), 2);
		char *conf = cli_scalar(json_object_get(c, "confidence"), 2);

		printf("  %s: %s -> %s (confidence %s)\n", cli_jstr(c, "field") ? cli_jstr(c, "field") : "?", o ? o : "?",
		       n ? n : "?", conf ? conf : "?");
		free(o);
		free(n);
		free(conf);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_case_update(cli_ctx *ctx, const cli_args *a)
{
	char *out = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	rc = ca_case_update_from_conversation(ctx->agent, a->pos[0], actor_of(a), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_update);
}

/* ---- notes ---- */

static int show_note(const cli_ctx *ctx, const json_t *r)
{
	char *id = cli_scalar(json_object_get(r, "id"), 0);

	(void)ctx;
	printf("note %s added to %s by %s\n", id ? id : "?", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       cli_jstr(r, "actor") ? cli_jstr(r, "actor") : "?");
	free(id);
	return CLI_EXIT_OK;
}

int cli_cmd_case_note(cli_ctx *ctx, const cli_args *a)
{
	char *text = NULL, *out = NULL;
	ca_err err;
	int rc;

	if (!strcmp(a->pos[1], "-")) {
		rc = read_text(ctx, "-", (size_t)64 << 10, &text);
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	ca_err_clear(&err);
	rc = ca_case_note_add(ctx->agent, a->pos[0], text ? text : a->pos[1], actor_of(a), &out, &err);
	free(text);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_note);
}

static int show_notes(const cli_ctx *ctx, const json_t *r)
{
	const json_t *notes = json_object_get(r, "notes");
	size_t i;
	json_t *n;

	(void)ctx;
	printf("%s: %zu note%s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?", json_array_size(notes),
	       json_array_size(notes) == 1 ? "" : "s");
	json_array_foreach(notes, i, n) {
		printf("\n  [%s] %s by %s\n", cli_jstr(n, "kind") ? cli_jstr(n, "kind") : "?",
		       cli_jstr(n, "at") ? cli_jstr(n, "at") : "?", cli_jstr(n, "actor") ? cli_jstr(n, "actor") : "?");
		for (const char *p = cli_jstr(n, "body") ? cli_jstr(n, "body") : ""; *p;) {
			size_t len = strcspn(p, "\n");

			printf("    %.*s\n", (int)len, p);
			p += len + (p[len] == '\n');
		}
	}
	return CLI_EXIT_OK;
}

int cli_cmd_case_notes(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_case_notes, a->pos[0], show_notes);
}

/* ---- reply ---- */

static int show_reply(const cli_ctx *ctx, const json_t *r)
{
	char *id = cli_scalar(json_object_get(r, "id"), 0);

	(void)ctx;
	printf("reply queued as outbox message %s to %s for %s\n  subject: %s\n", id ? id : "?",
	       cli_jstr(r, "to") ? cli_jstr(r, "to") : "?", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       cli_jstr(r, "subject") ? cli_jstr(r, "subject") : "?");
	printf("`caseagent email send` sends it\n");
	free(id);
	return CLI_EXIT_OK;
}

int cli_cmd_case_reply(cli_ctx *ctx, const cli_args *a)
{
	const char *file = cli_opt_str(a, "body-file"), *body = cli_opt_str(a, "body");
	const char *subject = cli_opt_str(a, "subject");
	char *text = NULL, *req, *out = NULL;
	json_t *j;
	ca_err err;
	int rc;

	if (!file == !body)
		return cli_usage_error(ctx, a->cmd, NULL, "give the reply as --body TEXT or --body-file FILE (one of them)");
	if (file && (rc = read_text(ctx, file, (size_t)256 << 10, &text)) != CLI_EXIT_OK)
		return rc;
	j = json_pack("{s:s?, s:s?}", "body", text ? text : body, "subject", subject);
	free(text);
	if (!j)
		return cli_failf(ctx, CA_EUTF8, file ? file : "body", "the reply is not UTF-8 text");
	req = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!req)
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	ca_err_clear(&err);
	rc = ca_case_reply(ctx->agent, a->pos[0], req, actor_of(a), &out, &err);
	free(req);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_reply);
}

static int show_emails(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"received_at", "at", 'l', 0, 0}, {"direction", "dir", 'l', 0, 0},    {"status", "status", 'l', 0, 0},
		{"from_addr", "from", 'l', 0, 32}, {"to_addr", "to", 'l', 0, 32},     {"subject", "subject", 'l', 0, 48},
		{"id", "e-mail", 'r', 0, 0},	   {"outbox_id", "outbox", 'r', 0, 0},
	};
	const json_t *rows = json_object_get(r, "emails");

	printf("%s: %zu e-mail%s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?", json_array_size(rows),
	       json_array_size(rows) == 1 ? "" : "s");
	return cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
}

int cli_cmd_case_emails(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_case_emails, a->pos[0], show_emails);
}

/* ---- conversations ---- */

static void next_page_hint(const json_t *r, const char *command)
{
	const char *next = cli_jstr(r, "next_cursor");

	if (next)
		printf("more: caseagent %s --cursor %s\n", command, next);
}

static int show_conversations(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"id", "conversation", 'l', 0, 32}, {"state", "state", 'l', 0, 0},	   {"case", "case", 'l', 0, 0},
		{"contact", "contact", 'l', 0, 24}, {"messages", "messages", 'r', 0, 0}, {"accepted_by", "accepted by", 'l', 0, 24},
		{"opened_at", "opened", 'l', 0, 0},
	};
	const json_t *rows = json_object_get(r, "conversations");
	int rc;

	printf("%zu conversation%s\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
	rc = cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
	next_page_hint(r, "conversation list");
	return rc;
}

int cli_cmd_conversation_list(cli_ctx *ctx, const cli_args *a)
{
	int i = cli_opt_index(a->cmd, "limit");
	size_t limit = i >= 0 && a->set[i] ? (size_t)a->num[i] : 0;
	char *out = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	rc = ca_conversation_list(ctx->agent, cli_opt_str(a, "state"), limit, cli_opt_str(a, "cursor"), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_conversations);
}

static int show_conversation(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column icols[] = {
		{"at", "at", 'l', 0, 0}, {"action", "action", 'l', 0, 16}, {"outcome", "outcome", 'l', 0, 24},
		{"detail", "detail", 'l', 2, 60},
	};
	const json_t *msgs = json_object_get(r, "messages");
	size_t i;
	json_t *m;

	printf("conversation %s (%s, %s)\n", cli_jstr(r, "id") ? cli_jstr(r, "id") : "?",
	       cli_jstr(r, "channel") ? cli_jstr(r, "channel") : "?", cli_jstr(r, "state") ? cli_jstr(r, "state") : "?");
	printf("  case: %s  contact: %s  accepted by: %s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "-",
	       cli_jstr(r, "contact") ? cli_jstr(r, "contact") : "-",
	       cli_jstr(r, "accepted_by") ? cli_jstr(r, "accepted_by") : "-");
	printf("\n%zu message%s\n", json_array_size(msgs), json_array_size(msgs) == 1 ? "" : "s");
	json_array_foreach(msgs, i, m) {
		char *t = cli_clip(cli_jstr(m, "text") ? cli_jstr(m, "text") : "", 200);

		printf("  %-8s %s\n", cli_jstr(m, "role") ? cli_jstr(m, "role") : "?", t ? t : "");
		free(t);
	}
	printf("\n%zu interaction%s\n", json_array_size(json_object_get(r, "interactions")),
	       json_array_size(json_object_get(r, "interactions")) == 1 ? "" : "s");
	return cli_show_rows(ctx, json_object_get(r, "interactions"), icols, sizeof icols / sizeof icols[0]);
}

int cli_cmd_conversation_show(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_conversation_show, a->pos[0], show_conversation);
}

/* ---- report ---- */

static int show_report(const cli_ctx *ctx, const json_t *r)
{
	static const struct {
		const char *key, *label;
	} rows[] = {
		{"conversations", "conversations seen"},
		{"cases_created", "cases created by the agent"},
		{"cases_withheld", "creations withheld (context missing)"},
		{"cases_enriched", "cases enriched by an update"},
		{"fields_filled", "fields filled by the agent"},
		{"no_change_updates", "updates with no changes"},
		{"fields_changed_by_person", "agent's fields a person changed"},
		{"emails_sent_by_agent", "e-mails sent by the agent"},
		{"emails_drafted_by_agent", "e-mails queued by the agent"},
		{"articles_drafted", "articles drafted"},
		{"articles_published", "articles published"},
		{"followups_sent", "follow-ups sent"},
		{"cases_resolved_by_agent", "cases resolved by the agent"},
		{"cases_handed_to_person", "cases handed to a person"},
		{"reopened_after_agent_resolution", "written into again after its resolution"},
	};
	const char *k;
	json_t *v;

	(void)ctx;
	printf("agent report from %s to %s\n", cli_jstr(r, "from") ? cli_jstr(r, "from") : "the start",
	       cli_jstr(r, "to") ? cli_jstr(r, "to") : "now");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *s = cli_scalar(json_object_get(r, rows[i].key), 0);

		printf("  %-40s %s\n", rows[i].label, s ? s : "?");
		free(s);
	}
	json_object_foreach(json_object_get(r, "withheld_missing"), k, v) {
		char *s = cli_scalar(v, 0);

		printf("    missing %-30s %s\n", k, s ? s : "?");
		free(s);
	}
	json_object_foreach(json_object_get(r, "replies_by_intent"), k, v) {
		char *s = cli_scalar(v, 0);

		printf("    replies read as %-22s %s\n", k, s ? s : "?");
		free(s);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_report_agent(cli_ctx *ctx, const cli_args *a)
{
	char *out = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	rc = ca_report_agent(ctx->agent, cli_opt_str(a, "from"), cli_opt_str(a, "to"), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_report);
}

/* ---- options, for the table ---- */

const cli_opt cli_actor_only_opts[] = {
	{"actor", CLI_ARG_STR, "NAME", "who does it, recorded with the change (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_reply_opts[] = {
	{"body", CLI_ARG_STR, "TEXT", "the reply's text"},
	{"body-file", CLI_ARG_STR, "FILE", "read the reply's text from FILE (- : stdin; at most 256 KiB)"},
	{"subject", CLI_ARG_STR, "TEXT", "the subject (default: Re: the thread's subject, with the case token)"},
	{"actor", CLI_ARG_STR, "NAME", "who writes it, recorded with the outbox message (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_conversation_list_opts[] = {
	{"state", CLI_ARG_STR, "STATE", "only conversations in STATE (open, active, waiting, wrapup, closed)"},
	{"limit", CLI_ARG_UINT, "N", "at most N a page, newest first (default 50, at most 200)"},
	{"cursor", CLI_ARG_STR, "CURSOR", "the next page, from the previous page's next_cursor"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_report_opts[] = {
	{"from", CLI_ARG_STR, "TIME", "start of the period, ISO 8601 UTC (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"},
	{"to", CLI_ARG_STR, "TIME", "end of the period (exclusive), the same forms"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
