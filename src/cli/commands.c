/* SPDX-License-Identifier: MIT */
/*
 * The commands of `caseagent`: one declarative table (name, subcommand,
 * handler, usage, one-line help, long help, options, argument counts, flags)
 * from which main.c parses the command line and output.c generates every help
 * text, and the handlers. A handler calls the public API of
 * include/caseagent/caseagent.h, then prints the result: the API's JSON as
 * one line with --json, otherwise a readable rendering of it. Handlers hold
 * no state between runs and never exit; they return an exit status.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"

/* Value of option `name` if given, else `def`. The table guarantees the
 * option exists; parse_uint in main.c that it fits in unsigned. */
static unsigned long long opt_num(const cli_args *a, const char *name, unsigned long long def)
{
	int i = cli_opt_index(a->cmd, name);

	return i >= 0 && a->set[i] ? a->num[i] : def;
}

static const char *opt_str(const cli_args *a, const char *name, const char *def)
{
	const char *v = cli_opt_str(a, name);

	return v ? v : def;
}

static bool opt_flag(const cli_args *a, const char *name)
{
	int i = cli_opt_index(a->cmd, name);

	return i >= 0 && a->set[i];
}

/* ---- init ---- */

static int cmd_init(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *text = NULL;
	json_t *settings = NULL, *out;
	size_t nfields = 0;
	int rc, status;

	(void)a;
	ca_err_clear(&err);
	rc = ca_settings_export(ctx->agent, &text, &err);
	if (rc < 0 && rc != CA_ENOTFOUND)
		return cli_fail(ctx, rc, &err);
	if (rc == 0) {
		settings = json_loads(text, 0, NULL);
		free(text);
		nfields = json_array_size(json_object_get(settings, "fields"));
	}
	if (ctx->json) {
		out = json_pack("{s:s,s:b,s:s,s:s,s:b,s:I}", "db", ctx->db_path, "created", !ctx->db_existed,
				"schema", "current", "version", CA_VERSION, "settings", settings != NULL,
				"fields", (json_int_t)nfields);
		status = out ? cli_print_json(ctx, out) : cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
		json_decref(out);
	} else if (!ctx->quiet) {
		printf("database  %s (%s)\n", ctx->db_path, ctx->db_existed ? "existing" : "created");
		printf("schema    up to date (caseagent %s)\n", CA_VERSION);
		if (settings)
			printf("settings  imported: %zu fields\n", nfields);
		else
			printf("settings  none yet: run `caseagent settings import FILE`\n");
		status = CLI_EXIT_OK;
	} else {
		status = CLI_EXIT_OK;
	}
	json_decref(settings);
	return status;
}

/* ---- settings ---- */

/* "email", "arc_rules (2)", "channels (chat, email)": one block of the
 * settings file as the import summary names it. Caller frees. */
static char *block_label(const char *key, const json_t *v)
{
	if (json_is_array(v))
		return cli_strf("%s (%zu)", key, json_array_size(v));
	if (strcmp(key, "channels") == 0 && json_is_object(v)) {
		char *on = cli_strf("%s", ""), *n, *r;
		const char *k;
		json_t *x;

		json_object_foreach((json_t *)v, k, x) {
			if (!on || !json_is_true(x))
				continue;
			n = cli_strf("%s%s%s", on, on[0] ? ", " : "", k);
			free(on);
			on = n;
		}
		r = on ? cli_strf("channels (%s)", on[0] ? on : "none on") : NULL;
		free(on);
		return r;
	}
	return cli_strf("%s", key);
}

static int cmd_settings_import(cli_ctx *ctx, const cli_args *a)
{
	const char *path = a->pos[0];
	ca_err err;
	char *text = NULL;
	json_t *settings, *file, *names, *blocks, *defaults, *out, *f, *v;
	const char *k;
	size_t i;
	int rc, status;

	ca_err_clear(&err);
	rc = ca_settings_import_file(ctx->agent, path, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	ca_err_clear(&err);
	rc = ca_settings_export(ctx->agent, &text, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	settings = json_loads(text, 0, NULL);
	free(text);
	/* The file was just read and accepted; read again for its blocks, to
	 * say which it had and which were left to their defaults. */
	file = json_load_file(path, 0, NULL);
	names = json_array();
	blocks = json_array();
	defaults = json_array();
	json_array_foreach(json_object_get(settings, "fields"), i, f) {
		const char *n = cli_jstr(f, "name");

		if (n)
			json_array_append_new(names, json_string(n));
	}
	json_object_foreach(file, k, v)
		if (strcmp(k, "version") != 0)
			json_array_append_new(blocks, json_string(k));
	/* The export leaves out blocks that are not set, so the optional
	 * blocks of docs/settings.md are named here. */
	static const char *const optional[] = {"channels", "update_rules", "summary_note_on_close",
					       "record_agent_experience", "email", "arc_rules", "knowledge"};
	for (i = 0; i < sizeof optional / sizeof optional[0]; i++)
		if (!json_object_get(file, optional[i]))
			json_array_append_new(defaults, json_string(optional[i]));
	json_object_foreach(settings, k, v) {
		bool listed = false;

		for (i = 0; i < sizeof optional / sizeof optional[0] && !listed; i++)
			listed = strcmp(optional[i], k) == 0;
		if (!listed && strcmp(k, "version") != 0 && !json_object_get(file, k))
			json_array_append_new(defaults, json_string(k));
	}
	if (ctx->json) {
		out = json_pack("{s:s,s:s,s:O,s:I,s:O,s:O}", "settings", "imported", "file", path, "fields", names,
				"update_rules", (json_int_t)json_array_size(json_object_get(settings, "update_rules")),
				"blocks", blocks, "defaults", defaults);
		status = out ? cli_print_json(ctx, out) : cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
		json_decref(out);
	} else {
		if (!ctx->quiet) {
			printf("settings imported from %s: %zu fields (", path, json_array_size(names));
			json_array_foreach(names, i, f)
				printf("%s%s", i ? ", " : "", json_string_value(f));
			i = json_array_size(json_object_get(settings, "update_rules"));
			printf("), %zu update rule%s\n", i, i == 1 ? "" : "s");
			fputs("  loaded:", stdout);
			json_array_foreach(blocks, i, f) {
				char *l = block_label(json_string_value(f), json_object_get(file, json_string_value(f)));

				printf("%s %s", i ? "," : "", l ? l : json_string_value(f));
				free(l);
			}
			fputc('\n', stdout);
			if (json_array_size(defaults) > 0) {
				fputs("  defaults:", stdout);
				json_array_foreach(defaults, i, f)
					printf("%s %s", i ? "," : "", json_string_value(f));
				fputs(" (not in the file; see docs/settings.md)\n", stdout);
			}
		}
		status = CLI_EXIT_OK;
	}
	json_decref(names);
	json_decref(blocks);
	json_decref(defaults);
	json_decref(file);
	json_decref(settings);
	return status;
}

static int cmd_settings_export(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *text = NULL;
	size_t len;
	int rc;

	(void)a;
	ca_err_clear(&err);
	rc = ca_settings_export(ctx->agent, &text, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	if (ctx->json) {
		rc = cli_print_json_text(ctx, text);
		free(text);
		return rc;
	}
	/* As the library wrote it: canonical, and ready to import again
	 * (JSON, so its control characters are escaped already). */
	len = strlen(text);
	fputs(text, cli_raw_stdout());
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', cli_raw_stdout());
	free(text);
	return CLI_EXIT_OK;
}

/* ---- import ---- */

static int show_import(const cli_ctx *ctx, const json_t *r)
{
	char *n;

	if (ctx->quiet)
		return CLI_EXIT_OK;
	n = cli_scalar(json_object_get(r, "imported"), 0);
	if (!n)
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	printf("imported %s %s from %s\n", n, cli_jstr(r, "kind") ? cli_jstr(r, "kind") : ctx->cmd->sub,
	       cli_jstr(r, "file") ? cli_jstr(r, "file") : "-");
	free(n);
	return CLI_EXIT_OK;
}

static int cmd_import(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	/* ca_import_file reports no progress; say what is running instead of
	 * a bar, on a terminal only, and clear the line afterwards. */
	if (ctx->progress) {
		fprintf(stderr, "importing %s from %s ...", a->cmd->sub, a->pos[0]);
		fflush(stderr);
	}
	rc = ca_import_file(ctx->agent, a->cmd->sub, a->pos[0], &out, &err);
	if (ctx->progress)
		fputs("\r\033[K", cli_raw_stderr());
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_import);
}

/* ---- chat ---- */

/* "accept 9, update 1" from {"accept":9,"update":1}, zero counts left out
 * ("" when all are zero). Caller frees; NULL on ENOMEM. */
static char *count_list(const json_t *obj)
{
	const char *k;
	json_t *v;
	char *s = cli_strf("%s", ""), *n;

	json_object_foreach((json_t *)obj, k, v) {
		char *c;

		if (!s)
			return NULL;
		if (json_is_integer(v) && json_integer_value(v) == 0)
			continue;
		c = cli_scalar(v, 2);
		n = c ? cli_strf("%s%s%s %s", s, s[0] ? ", " : "", k, c) : NULL;
		free(c);
		free(s);
		s = n;
	}
	return s;
}

/* A row of a three-column summary: label, count, remark. */
static void summary_row(cli_table *t, const char *label, const json_t *v, const char *remark)
{
	cli_table_cell(t, label);
	cli_table_cellj(t, v, 2, 0);
	cli_table_cell(t, remark ? remark : "");
}

static int show_replay(const cli_ctx *ctx, const json_t *r)
{
	static const char *const sh[] = {"replay", "count", ""};
	static const char *const dh[] = {"conversation", "case", "created at event", "after message"};
	const json_t *detail = json_object_get(r, "conversations_detail");
	cli_table t;
	char *by, *at;
	int status;
	size_t i;
	json_t *c;

	if (ctx->quiet)
		return CLI_EXIT_OK;
	by = count_list(json_object_get(r, "created_at"));
	at = by && by[0] ? cli_strf("at %s", by) : NULL;
	cli_table_init(&t, 3, sh, "lrl");
	summary_row(&t, "conversations", json_object_get(r, "conversations"), NULL);
	summary_row(&t, "events", json_object_get(r, "events"), NULL);
	summary_row(&t, "cases created", json_object_get(r, "cases_created"), at);
	summary_row(&t, "withheld", json_object_get(r, "withheld"), "conversations left without a case");
	summary_row(&t, "fields filled", json_object_get(r, "fields_filled"), NULL);
	summary_row(&t, "\"no changes\" updates", json_object_get(r, "no_change_updates"), NULL);
	summary_row(&t, "notes written", json_object_get(r, "notes_written"), NULL);
	free(by);
	free(at);
	status = cli_table_show(ctx, &t);
	if (status != CLI_EXIT_OK || json_array_size(detail) == 0)
		return status;

	fputc('\n', stdout);
	cli_table_init(&t, 4, dh, "llll");
	json_array_foreach(detail, i, c) {
		cli_table_cellj(&t, json_object_get(c, "conversation"), 2, 40);
		cli_table_cellj(&t, json_object_get(c, "case"), 2, 0);
		/* Not created by this replay (none, or one from before): no event. */
		if (json_is_null(json_object_get(c, "created_at_event")) ||
		    !json_object_get(c, "created_at_event")) {
			cli_table_cell(&t, "-");
			cli_table_cell(&t, "-");
			continue;
		}
		cli_table_cellj(&t, json_object_get(c, "created_at_event"), 2, 40);
		cli_table_cellj(&t, json_object_get(c, "created_after_message"), 2, 40);
	}
	return cli_table_show(ctx, &t);
}

static int cmd_chat_replay(cli_ctx *ctx, const cli_args *a)
{
	ca_replay_opts o = {0};
	cli_progress p;
	ca_err err;
	char *out = NULL;
	int rc;

	o.accept_after = (unsigned)opt_num(a, "accept-after", 2);
	o.update_every = (unsigned)opt_num(a, "update-every", 4);
	cli_progress_init(&p, ctx, "replay");
	o.progress = cli_progress_fn;
	o.progress_ud = &p;
	ca_err_clear(&err);
	rc = ca_chat_replay(ctx->agent, a->pos[0], &o, &out, &err);
	cli_progress_done(&p);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_replay);
}

/* One line per event: what happened to the conversation and its case. */
static int show_event(const cli_ctx *ctx, const json_t *r)
{
	const json_t *changed = json_object_get(r, "changed");
	const json_t *missing = json_object_get(r, "missing");
	const char *cas = cli_jstr(r, "case");
	size_t i;
	json_t *c;

	printf("%s %s %s: %s", cli_jstr(r, "event") ? cli_jstr(r, "event") : "-", cli_jstr(r, "type") ? cli_jstr(r, "type") : "-",
	       cli_jstr(r, "conversation") ? cli_jstr(r, "conversation") : "-", cli_jstr(r, "state") ? cli_jstr(r, "state") : "-");
	if (cas)
		printf("; case %s%s", cas, json_is_true(json_object_get(r, "created")) ? " created" : "");
	if (json_array_size(changed) > 0) {
		fputs("; changed", stdout);
		json_array_foreach(changed, i, c) {
			char *v = cli_scalar(json_object_get(c, "new"), 2);
			char *vc = cli_clip(v, 40);
			char *conf = cli_scalar(json_object_get(c, "confidence"), 2);

			printf("%s %s=%s (%s)", i ? "," : "", cli_jstr(c, "field") ? cli_jstr(c, "field") : "?",
			       vc ? vc : "?", conf ? conf : "?");
			free(v);
			free(vc);
			free(conf);
		}
	} else if (json_is_true(json_object_get(r, "no_changes"))) {
		fputs("; no changes", stdout);
	}
	if (json_array_size(missing) > 0) {
		fputs("; missing", stdout);
		json_array_foreach(missing, i, c) {
			const char *reason = cli_jstr(c, "reason");

			printf("%s %s%s%s%s", i ? "," : "", cli_jstr(c, "field") ? cli_jstr(c, "field") : "?",
			       reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
		}
	}
	const json_t *sugg = json_object_get(r, "suggestions");
	if (json_array_size(sugg) > 0) {
		fputs("; suggested, not written", stdout);
		json_array_foreach(sugg, i, c) {
			char *v = cli_scalar(json_object_get(c, "value"), 2);
			char *vc = cli_clip(v, 40);

			printf("%s %s=%s (%.2f < %.2f)", i ? "," : "", cli_jstr(c, "field") ? cli_jstr(c, "field") : "?",
			       vc ? vc : "?", json_number_value(json_object_get(c, "confidence")),
			       json_number_value(json_object_get(c, "threshold")));
			free(v);
			free(vc);
		}
	}
	if (json_is_true(json_object_get(r, "note")))
		fputs("; note written", stdout);
	if (json_is_true(json_object_get(r, "replayed")))
		fputs(" [seen before: stored result, nothing changed]", stdout);
	fputc('\n', stdout);
	(void)ctx;
	return CLI_EXIT_OK;
}

/* Events from stdin, one JSON object a line; stops at the first failure so
 * later events never run against a state the failed one should have made. */
static int chat_events_stdin(cli_ctx *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int status = CLI_EXIT_OK;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		ca_err err;
		char *out = NULL;
		const char *p = line;
		int rc;

		lineno++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		if ((size_t)n != strlen(line)) {
			status = cli_failf(ctx, CA_EPARSE, NULL, "stdin line %lu contains a NUL byte", lineno);
			break;
		}
		ca_err_clear(&err);
		rc = ca_chat_event(ctx->agent, line, &out, &err);
		if (rc < 0) {
			ca_err e2 = err;
			int w = snprintf(e2.where, sizeof e2.where, "stdin line %lu%s%s", lineno,
					 err.where[0] ? ", " : "", err.where);

			if (w < 0)
				e2.where[0] = '\0';
			status = cli_fail(ctx, rc, &e2);
			break;
		}
		status = cli_result(ctx, out, show_event);
		if (status != CLI_EXIT_OK)
			break;
		/* Results appear as events are applied, for a caller reading a pipe. */
		fflush(stdout);
	}
	if (status == CLI_EXIT_OK && ferror(stdin))
		status = cli_failf(ctx, CA_EIO, "stdin", "reading standard input failed");
	free(line);
	return status;
}

static int cmd_chat_event(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int rc;

	if (strcmp(a->pos[0], "-") == 0)
		return chat_events_stdin(ctx);
	ca_err_clear(&err);
	rc = ca_chat_event(ctx->agent, a->pos[0], &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_event);
}

/* ---- cases ---- */

/* Long free-text fields get more room in a table than ids and options. */
static size_t field_clip(const char *field)
{
	return strcmp(field, "description") == 0 || strcmp(field, "title") == 0 ? 48 : 28;
}

static int show_case_list(const cli_ctx *ctx, const json_t *r)
{
	enum { MAX_FIELD_COLS = 8 };
	const json_t *cases = json_object_get(r, "cases");
	const char *cols[4 + MAX_FIELD_COLS] = {"case", "version", "origin", "created"};
	char align[4 + MAX_FIELD_COLS + 1] = "lrll";
	size_t ncols = 4, i;
	json_t *c;
	cli_table t;

	if (json_array_size(cases) == 0) {
		printf("no cases\n");
		return CLI_EXIT_OK;
	}
	/* Columns: the fields that occur, in order of first appearance. */
	json_array_foreach(cases, i, c) {
		const char *k;
		json_t *v;

		json_object_foreach(json_object_get(c, "fields"), k, v) {
			size_t j;

			if (strcmp(k, "ticket_number") == 0 || strcmp(k, "origin") == 0)
				continue;

			for (j = 4; j < ncols && strcmp(cols[j], k) != 0; j++)
				;
			if (j == ncols && ncols < 4 + MAX_FIELD_COLS) {
				cols[ncols] = k;
				align[ncols++] = 'l';
			}
		}
	}
	align[ncols] = '\0';
	cli_table_init(&t, ncols, cols, align);
	json_array_foreach(cases, i, c) {
		const json_t *f = json_object_get(c, "fields");

		cli_table_cellj(&t, json_object_get(c, "ticket_number"), 2, 0);
		cli_table_cellj(&t, json_object_get(c, "version"), 2, 0);
		cli_table_cellj(&t, json_object_get(c, "origin"), 2, 12);
		cli_table_cellj(&t, json_object_get(c, "created_at"), 2, 20);
		for (size_t j = 4; j < ncols; j++)
			cli_table_cellj(&t, json_object_get(f, cols[j]), 2, field_clip(cols[j]));
	}
	printf("%zu case%s\n", json_array_size(cases), json_array_size(cases) == 1 ? "" : "s");
	return cli_table_show(ctx, &t);
}

static int show_case_page(const cli_ctx *ctx, const json_t *r)
{
	int rc = show_case_list(ctx, r);
	const char *next = cli_jstr(r, "next_cursor");

	if (rc == CLI_EXIT_OK && next)
		printf("more: caseagent case list --cursor %s (with the same filters)\n", next);
	return rc;
}

/* Filters, a cursor or a page-sized --limit make it a query of one page
 * (ca_case_query); without them every case (or the --limit newest) as
 * before, with "next_cursor": null. */
static int cmd_case_list(cli_ctx *ctx, const cli_args *a)
{
	ca_case_filter f = {
		.status = opt_str(a, "status", NULL), .owner = opt_str(a, "owner", NULL),
		.customer = opt_str(a, "customer", NULL), .origin = opt_str(a, "origin", NULL),
		.q = opt_str(a, "query", NULL), .cursor = opt_str(a, "cursor", NULL),
	};
	unsigned long long limit = opt_num(a, "limit", 0);
	bool paged = f.status || f.owner || f.customer || f.origin || f.q || f.cursor || (limit > 0 && limit <= 200);
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	f.limit = (size_t)limit;
	rc = paged ? ca_case_query(ctx->agent, &f, &out, &err) : ca_case_list(ctx->agent, (size_t)limit, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	if (!paged) {
		json_t *r = json_loads(out, 0, NULL);

		free(out);
		out = NULL;
		if (r && json_object_set_new(r, "next_cursor", json_null()) == 0)
			out = json_dumps(r, JSON_COMPACT);
		json_decref(r);
		if (!out)
			return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	}
	return cli_result(ctx, out, show_case_page);
}

static bool same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Message ids of an evidence array: "m3, m5", each once. Caller frees. */
static char *evidence_ids(const json_t *ev)
{
	size_t i;
	json_t *e;
	char *s = cli_strf("%s", "");

	json_array_foreach(ev, i, e) {
		const char *m = json_is_object(e) ? cli_jstr(e, "message") : json_string_value(e);
		char *n;

		if (!s)
			return NULL;
		if (!m)
			continue;
		/* Several spans in one message name the message once. */
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++) {
			const json_t *p = json_array_get(ev, k);

			seen = same_str(json_is_object(p) ? cli_jstr(p, "message") : json_string_value(p), m);
		}
		if (seen)
			continue;
		n = cli_strf("%s%s%s", s, s[0] ? ", " : "", m);
		free(s);
		s = n;
	}
	if (s && !s[0]) {
		free(s);
		s = cli_strf("-");
	}
	return s;
}

static void print_indented(const char *text, const char *indent)
{
	const char *p = text ? text : "";

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		printf("%s%.*s\n", indent, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* Case columns that the fields object repeats; tables show them once. */
static bool is_header_field(const char *k)
{
	return strcmp(k, "ticket_number") == 0 || strcmp(k, "origin") == 0 || strcmp(k, "status") == 0;
}

static int show_case(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"field", "value", "source", "actor", "confidence", "method", "evidence"};
	const json_t *fields = json_object_get(r, "fields");
	const json_t *prov = json_object_get(r, "provenance");
	const json_t *notes = json_object_get(r, "notes");
	const char *k;
	json_t *v, *n;
	cli_table t;
	size_t i;
	char *ver = cli_scalar(json_object_get(r, "version"), 0);
	int status;

	printf("%s  version %s", cli_jstr(r, "ticket_number") ? cli_jstr(r, "ticket_number") : "?", ver ? ver : "?");
	free(ver);
	if (cli_jstr(json_object_get(r, "fields"), "status"))
		printf(", %s", cli_jstr(json_object_get(r, "fields"), "status"));
	if (cli_jstr(r, "origin"))
		printf(", from %s", cli_jstr(r, "origin"));
	if (cli_jstr(r, "conversation_id"))
		printf(" %s", cli_jstr(r, "conversation_id"));
	fputc('\n', stdout);
	if (cli_jstr(r, "created_at"))
		printf("created %s, updated %s\n", cli_jstr(r, "created_at"),
		       cli_jstr(r, "updated_at") ? cli_jstr(r, "updated_at") : "-");
	fputc('\n', stdout);

	cli_table_init(&t, 7, heads, "llllrll");
	json_object_foreach((json_t *)fields, k, v) {
		const json_t *p = json_object_get(prov, k);

		/* Shown in the heading above. */
		if (is_header_field(k))
			continue;
		char *ev = evidence_ids(json_object_get(p, "evidence"));
		char *evc = cli_clip(ev, 32);

		cli_table_cell(&t, k);
		cli_table_cellj(&t, v, 2, field_clip(k) + 12);
		cli_table_cellj(&t, json_object_get(p, "source"), 2, 0);
		cli_table_cellj(&t, json_object_get(p, "actor"), 2, 20);
		cli_table_cellj(&t, json_object_get(p, "confidence"), 3, 0);
		cli_table_cellj(&t, json_object_get(p, "method"), 2, 34);
		cli_table_cell(&t, evc ? evc : "?");
		free(ev);
		free(evc);
	}
	if (cli_table_rows(&t) == 0) {
		cli_table_done(&t);
		printf("  (no fields set)\n");
	} else if ((status = cli_table_show(ctx, &t)) != CLI_EXIT_OK) {
		return status;
	}

	const json_t *sugg = json_object_get(r, "suggestions");
	if (json_array_size(sugg) > 0) {
		static const char *const sh[] = {"suggested field", "value", "confidence", "threshold", "method", "evidence"};

		printf("\nsuggestions (below the field's threshold, not written):\n");
		cli_table_init(&t, 6, sh, "llrrll");
		json_array_foreach(sugg, i, n) {
			char *ev = evidence_ids(json_object_get(n, "evidence"));
			char *evc = cli_clip(ev, 32);
			const char *f = cli_jstr(n, "field");

			cli_table_cell(&t, f ? f : "?");
			cli_table_cellj(&t, json_object_get(n, "display") ? json_object_get(n, "display") : json_object_get(n, "value"),
					2, field_clip(f ? f : "") + 12);
			cli_table_cellj(&t, json_object_get(n, "confidence"), 3, 0);
			cli_table_cellj(&t, json_object_get(n, "threshold"), 2, 0);
			cli_table_cellj(&t, json_object_get(n, "method"), 2, 34);
			cli_table_cell(&t, evc ? evc : "?");
			free(ev);
			free(evc);
		}
		if ((status = cli_table_show(ctx, &t)) != CLI_EXIT_OK)
			return status;
	}

	printf("\nnotes: %zu\n", json_array_size(notes));
	json_array_foreach(notes, i, n) {
		const char *body = cli_jstr(n, "body") ? cli_jstr(n, "body") : cli_jstr(n, "text");

		printf("  [%s] %s by %s\n", cli_jstr(n, "kind") ? cli_jstr(n, "kind") : "note",
		       cli_jstr(n, "at") ? cli_jstr(n, "at") : "-", cli_jstr(n, "actor") ? cli_jstr(n, "actor") : "-");
		print_indented(body, "    ");
	}
	return CLI_EXIT_OK;
}

static int cmd_case_show(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_case_show, a->pos[0], show_case);
}

/* Every pair is checked before the first write (and before the database
 * opens): a typo in the third pair must not leave the first two applied. */
static int check_case_edit(const cli_ctx *ctx, const cli_args *a)
{
	return cli_check_field_pairs(ctx, a, 1);
}

static int cmd_case_edit(cli_ctx *ctx, const cli_args *a)
{
	const char *ref = a->pos[0];
	const char *actor = opt_str(a, "actor", NULL);
	int64_t expected = (int64_t)opt_num(a, "expect-version", 0);
	json_t *edits;
	int status = CLI_EXIT_OK;

	if (!actor) {
		actor = getenv("USER");
		if (!actor || !actor[0])
			actor = "cli";
	}
	edits = json_array();
	if (!edits)
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	for (size_t i = 1; i < a->npos; i++) {
		const char *eq = strchr(a->pos[i], '=');
		char *field = cli_strf("%.*s", (int)(eq - a->pos[i]), a->pos[i]);
		ca_err err;
		char *out = NULL;
		json_t *r;
		int rc;

		if (!field) {
			status = cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
			break;
		}
		ca_err_clear(&err);
		rc = ca_case_edit(ctx->agent, ref, field, eq + 1, actor, expected, &out, &err);
		free(field);
		if (rc < 0) {
			if (json_array_size(edits) > 0 && !ctx->json)
				fprintf(stderr, "caseagent: %zu earlier edit%s of %s stayed applied\n",
					json_array_size(edits), json_array_size(edits) == 1 ? "" : "s", ref);
			status = cli_fail(ctx, rc, &err);
			break;
		}
		r = json_loads(out, 0, NULL);
		free(out);
		if (!r) {
			status = cli_failf(ctx, CA_EPARSE, "result", "the library returned a result that is not JSON");
			break;
		}
		/* The next pair must find the case at the version this one made;
		 * anything else means someone else edited it in between. */
		if (expected > 0 && json_is_integer(json_object_get(r, "version")))
			expected = json_integer_value(json_object_get(r, "version"));
		if (!ctx->json && !ctx->quiet) {
			char *o = cli_scalar(json_object_get(r, "old"), 2), *nv = cli_scalar(json_object_get(r, "new"), 2);
			char *ver = cli_scalar(json_object_get(r, "version"), 0);

			printf("%s %s: %s -> %s (version %s, by %s)\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : ref,
			       cli_jstr(r, "field") ? cli_jstr(r, "field") : "?", o ? o : "?", nv ? nv : "?", ver ? ver : "?",
			       actor);
			free(o);
			free(nv);
			free(ver);
		}
		json_array_append_new(edits, r);
	}
	if (status == CLI_EXIT_OK && ctx->json) {
		if (json_array_size(edits) == 1) {
			status = cli_print_json(ctx, json_array_get(edits, 0));
		} else {
			const json_t *last = json_array_get(edits, json_array_size(edits) - 1);
			json_t *o = json_pack("{s:O?,s:O?,s:O}", "case", json_object_get(last, "case"), "version",
					      json_object_get(last, "version"), "edits", edits);

			status = o ? cli_print_json(ctx, o) : cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
			json_decref(o);
		}
	}
	json_decref(edits);
	return status;
}

static int show_audit(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"at", "field", "old -> new", "source/actor", "confidence", "method"};
	const json_t *rows = json_object_get(r, "audit");
	cli_table t;
	size_t i;
	json_t *e;

	printf("audit of %s: %zu change%s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?", json_array_size(rows),
	       json_array_size(rows) == 1 ? "" : "s");
	if (json_array_size(rows) == 0)
		return CLI_EXIT_OK;
	cli_table_init(&t, 6, heads, "llllrl");
	json_array_foreach(rows, i, e) {
		char *o = cli_scalar(json_object_get(e, "old_value"), 2);
		char *n = cli_scalar(json_object_get(e, "new_value"), 2);
		char *oc = cli_clip(o, 24), *nc = cli_clip(n, 32);

		cli_table_cellj(&t, json_object_get(e, "at"), 2, 0);
		cli_table_cellj(&t, json_object_get(e, "field"), 2, 0);
		cli_table_cellf(&t, "%s -> %s", oc ? oc : "?", nc ? nc : "?");
		cli_table_cellf(&t, "%s/%s", cli_jstr(e, "source") ? cli_jstr(e, "source") : "-",
				cli_jstr(e, "actor") ? cli_jstr(e, "actor") : "-");
		cli_table_cellj(&t, json_object_get(e, "confidence"), 3, 0);
		cli_table_cellj(&t, json_object_get(e, "method"), 2, 34);
		free(o);
		free(n);
		free(oc);
		free(nc);
	}
	return cli_table_show(ctx, &t);
}

/* ---- resolution ---- */

static int show_status_change(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	printf("%s: %s -> %s", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       cli_jstr(r, "old_status") ? cli_jstr(r, "old_status") : "active", cli_jstr(r, "status") ? cli_jstr(r, "status") : "?");
	if (cli_jstr(r, "reason"))
		printf(" (%s)", cli_jstr(r, "reason"));
	printf(", version %lld\n", (long long)json_integer_value(json_object_get(r, "version")));
	return CLI_EXIT_OK;
}

static int cmd_case_status(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	const char *actor = opt_str(a, "actor", getenv("USER"));
	int rc;

	ca_err_clear(&err);
	if (!strcmp(a->cmd->sub, "resolve"))
		rc = ca_case_resolve(ctx->agent, a->pos[0], opt_str(a, "resolution", NULL), actor, &out, &err);
	else if (!strcmp(a->cmd->sub, "cancel"))
		rc = ca_case_cancel(ctx->agent, a->pos[0], opt_str(a, "reason", NULL), actor, &out, &err);
	else
		rc = ca_case_reactivate(ctx->agent, a->pos[0], actor, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_status_change);
}

static int show_resolution_proposal(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const char *text = cli_jstr(r, "resolution");
	if (!text) {
		printf("%s: the thread states no resolution (nothing the representative said was done)\n",
		       cli_jstr(r, "case") ? cli_jstr(r, "case") : "?");
		return CLI_EXIT_OK;
	}
	printf("%s: proposed resolution (confidence %.2f)\n%s\n", cli_jstr(r, "case") ? cli_jstr(r, "case") : "?",
	       json_number_value(json_object_get(r, "confidence")), text);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "evidence"), i, e) {
		char *id = cli_scalar(json_object_get(e, "id"), 0);
		printf("  from %s %s: %s\n", cli_jstr(e, "source") ? cli_jstr(e, "source") : "?", id ? id : "?",
		       cli_jstr(e, "text") ? cli_jstr(e, "text") : "");
		free(id);
	}
	return CLI_EXIT_OK;
}

static int cmd_case_resolution(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_case_resolution_proposal, a->pos[0], show_resolution_proposal);
}

static int cmd_audit(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_case_audit, a->pos[0], show_audit);
}

static int show_interactions(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"at", "at", 'l', 2, 0},		 {"conversation_id", "conversation", 'l', 2, 24},
		{"case_id", "case", 'r', 2, 0},		 {"action", "action", 'l', 2, 16},
		{"outcome", "outcome", 'l', 2, 24},	 {"detail", "detail", 'l', 2, 60},
	};
	const json_t *rows = json_object_get(r, "interactions");

	printf("%zu interaction%s\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
	return cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
}

static int cmd_interactions(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	rc = ca_interactions(ctx->agent, opt_str(a, "conversation", NULL), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_interactions);
}

/* ---- e-mail ---- */

static int show_email_ingest(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column origin = {"origin", "origin", 'l', 2, 40};
	const json_t *o = json_object_get(r, "outcomes");

	printf("%lld e-mails: %lld created a case, %lld updated one, %lld attached, %lld skipped, %lld held as spam",
	       (long long)json_integer_value(json_object_get(r, "emails")),
	       (long long)json_integer_value(json_object_get(o, "created")),
	       (long long)json_integer_value(json_object_get(o, "updated")),
	       (long long)json_integer_value(json_object_get(o, "attached")),
	       (long long)json_integer_value(json_object_get(o, "skipped")),
	       (long long)json_integer_value(json_object_get(o, "spam")));
	if (json_integer_value(json_object_get(o, "held")) > 0)
		printf(", %lld held unchecked", (long long)json_integer_value(json_object_get(o, "held")));
	putchar('\n');
	return cli_show_email_rows(ctx, json_object_get(r, "emails_detail"), &origin);
}

static int cmd_email_ingest(cli_ctx *ctx, const cli_args *a)
{
	ca_email_opts o = {0};
	cli_progress p;
	json_t *all = NULL;
	int rc = CLI_EXIT_OK;

	o.mailbox = opt_str(a, "mailbox", NULL);
	cli_progress_init(&p, ctx, "ingest");
	o.progress = cli_progress_fn;
	o.progress_ud = &p;
	for (unsigned i = 0; i < a->npos && rc == CLI_EXIT_OK; i++) {
		ca_err err;
		char *out = NULL;
		ca_err_clear(&err);
		int r = ca_email_ingest_path(ctx->agent, a->pos[i], &o, &out, &err);
		if (r < 0) {
			cli_progress_done(&p);
			json_decref(all);
			return cli_fail(ctx, r, &err);
		}
		if (a->npos == 1) {
			/* One path: its result is the summary as it stands. */
			cli_progress_done(&p);
			return cli_result(ctx, out, show_email_ingest);
		}
		json_t *j = json_loads(out, 0, NULL);
		free(out);
		if (!all) {
			all = j;
			continue;
		}
		/* several paths: one summary */
		json_object_set_new(all, "emails", json_integer(json_integer_value(json_object_get(all, "emails")) +
								json_integer_value(json_object_get(j, "emails"))));
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(j, "outcomes"), k, v) {
			json_t *o2 = json_object_get(all, "outcomes");
			json_object_set_new(o2, k, json_integer(json_integer_value(json_object_get(o2, k)) + json_integer_value(v)));
		}
		json_array_extend(json_object_get(all, "emails_detail"), json_object_get(j, "emails_detail"));
		json_decref(j);
	}
	cli_progress_done(&p);
	char *text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	return cli_result(ctx, text, show_email_ingest);
}

static int show_email_log(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"at", "at", 'l', 2, 0},	      {"email_id", "e-mail", 'r', 2, 0},  {"from_addr", "from", 'l', 2, 28},
		{"subject", "subject", 'l', 2, 32}, {"outcome", "outcome", 'l', 2, 0}, {"case", "case", 'l', 2, 0},
		{"rule", "rule", 'l', 2, 20},	      {"reason", "reason", 'l', 2, 50},
	};
	const json_t *rows = json_object_get(r, "log");

	printf("%zu row%s\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
	return cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
}

static int cmd_email_log(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;

	ca_err_clear(&err);
	int rc = ca_email_log(ctx->agent, (size_t)opt_num(a, "limit", 50), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_email_log);
}

static int show_email_held(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"id", "e-mail", 'r', 2, 0},	    {"received_at", "received", 'l', 2, 0}, {"from_addr", "from", 'l', 2, 28},
		{"subject", "subject", 'l', 2, 32}, {"spam_status", "status", 'l', 2, 0},   {"spam_score", "score", 'r', 2, 0},
		{"spam_source", "source", 'l', 2, 40},
	};
	const json_t *rows = json_object_get(r, "held");

	printf("%zu held e-mail%s (release one with `caseagent email release ID`)\n", json_array_size(rows),
	       json_array_size(rows) == 1 ? "" : "s");
	return cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
}

static int cmd_email_held(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;

	ca_err_clear(&err);
	int rc = ca_email_held(ctx->agent, (size_t)opt_num(a, "limit", 50), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_email_held);
}

static int cmd_email_show(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	unsigned long long id = 0;
	char *end;

	errno = 0;
	id = strtoull(a->pos[0], &end, 10);
	if (errno || *end || id == 0 || id > INT64_MAX)
		return cli_usage_error(ctx, a->cmd, NULL, "'%s' is not an e-mail id (see `caseagent email log`)", a->pos[0]);
	ca_err_clear(&err);
	int rc = ca_email_show(ctx->agent, (int64_t)id, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, cli_show_email);
}

static int cmd_outbox(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;

	(void)a;
	ca_err_clear(&err);
	int rc = ca_outbox(ctx->agent, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, cli_show_outbox);
}

/* ---- learning and evaluation ---- */

static int show_train(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"field", "result", "examples", "classes / reason"};
	const char *k;
	json_t *v;
	cli_table t;

	cli_table_init(&t, 4, heads, "llrl");
	json_object_foreach(json_object_get(r, "trained"), k, v) {
		cli_table_cell(&t, k);
		cli_table_cell(&t, "trained");
		cli_table_cellj(&t, json_object_get(v, "examples"), 2, 0);
		cli_table_cellj(&t, json_object_get(v, "classes"), 2, 0);
	}
	json_object_foreach(json_object_get(r, "skipped"), k, v) {
		const json_t *why = json_is_object(v) ? json_object_get(v, "reason") : v;

		cli_table_cell(&t, k);
		cli_table_cell(&t, "skipped");
		cli_table_cellj(&t, json_is_object(v) ? json_object_get(v, "examples") : NULL, 2, 0);
		cli_table_cellj(&t, why, 2, 60);
	}
	if (cli_table_rows(&t) == 0) {
		cli_table_done(&t);
		printf("no option fields to train\n");
		return CLI_EXIT_OK;
	}
	return cli_table_show(ctx, &t);
}

static int cmd_train(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	rc = ca_train(ctx->agent, (size_t)opt_num(a, "min-examples", 0), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_train);
}

static int show_calibrate(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"field", "examples", "steps", "ECE before", "ECE after", ""};
	const char *k;
	json_t *v;
	cli_table t;

	cli_table_init(&t, 6, heads, "lrrrrl");
	json_object_foreach(json_object_get(r, "calibrated"), k, v) {
		cli_table_cell(&t, k);
		cli_table_cellj(&t, json_object_get(v, "examples"), 0, 0);
		cli_table_cellj(&t, json_object_get(v, "steps"), 0, 0);
		cli_table_cellj(&t, json_object_get(v, "ece_before"), 3, 0);
		cli_table_cellj(&t, json_object_get(v, "ece_after"), 3, 0);
		cli_table_cell(&t, "calibrated");
	}
	json_object_foreach(json_object_get(r, "skipped"), k, v) {
		cli_table_cell(&t, k);
		cli_table_cellj(&t, json_object_get(v, "examples"), 0, 0);
		cli_table_cell(&t, "");
		cli_table_cell(&t, "");
		cli_table_cell(&t, "");
		cli_table_cellj(&t, json_object_get(v, "reason"), 0, 60);
	}
	if (cli_table_rows(&t) == 0) {
		cli_table_done(&t);
		printf("no option fields to calibrate\n");
		return CLI_EXIT_OK;
	}
	printf("ECE: expected calibration error over 10 equal-width bins, on the examples fit\n");
	return cli_table_show(ctx, &t);
}

static int cmd_calibrate(cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int rc;

	ca_err_clear(&err);
	rc = ca_calibrate(ctx->agent, a->pos[0], (size_t)opt_num(a, "min-examples", 0), &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_calibrate);
}

static int show_simulate(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"field", "precision", "recall", "F1", "support",
					    "in-text P", "in-text R", "in-text F1", "in-text n", "predictor acc"};
	static const char *const ch[] = {"case creation", "count", ""};
	const json_t *creation = json_object_get(r, "creation");
	char *n = cli_scalar(json_object_get(r, "conversations"), 0);
	char *secs = cli_scalar(json_object_get(r, "seconds"), 3);
	char *cps = cli_scalar(json_object_get(r, "conversations_per_second"), 0);
	const char *k;
	json_t *v;
	cli_table t;
	char *list, *at;
	int status;

	printf("simulated %s conversations in %s s (%s conversations/s); nothing was written\n\n", n ? n : "?",
	       secs ? secs : "?", cps ? cps : "?");
	free(n);
	free(secs);
	free(cps);

	cli_table_init(&t, 10, heads, "lrrrrrrrrr");
	json_object_foreach(json_object_get(r, "fields"), k, v) {
		const json_t *it = json_object_get(v, "in_text");

		cli_table_cell(&t, k);
		cli_table_cellj(&t, json_object_get(v, "precision"), 3, 0);
		cli_table_cellj(&t, json_object_get(v, "recall"), 3, 0);
		cli_table_cellj(&t, json_object_get(v, "f1"), 3, 0);
		cli_table_cellj(&t, json_object_get(v, "support"), 3, 0);
		cli_table_cellj(&t, json_object_get(it, "precision"), 3, 0);
		cli_table_cellj(&t, json_object_get(it, "recall"), 3, 0);
		cli_table_cellj(&t, json_object_get(it, "f1"), 3, 0);
		cli_table_cellj(&t, json_object_get(it, "support"), 3, 0);
		cli_table_cellj(&t, json_object_get(v, "predictor_accuracy"), 3, 0);
	}
	status = cli_table_show(ctx, &t);
	if (status != CLI_EXIT_OK)
		return status;
	puts("  precision/recall: the case's final values against the labels (no case, no value);\n"
	     "  in-text: where the label's value appears in the chat; predictor acc: the top\n"
	     "  prediction at close, whatever the threshold or the creation gate.");
	json_object_foreach(json_object_get(r, "fields"), k, v) {
		const json_t *cal = json_object_get(v, "calibration");
		if (!cal)
			continue;
		printf("  calibration of %s: ECE %.3f over %lld conversations (%lld equal-width bins; mean confidence %.3f, "
		       "accuracy %.3f; target <= 0.10)\n",
		       k, json_number_value(json_object_get(cal, "ece")), (long long)json_integer_value(json_object_get(cal, "n")),
		       (long long)json_integer_value(json_object_get(cal, "bins")),
		       json_number_value(json_object_get(cal, "mean_confidence")),
		       json_number_value(json_object_get(cal, "accuracy")));
		const json_t *fl = json_object_get(cal, "ece_if_calibrated");
		printf("    a calibrated field would measure ECE %.3f on as many (90 %% of draws below %.3f):\n"
		       "    a figure under that is what this sample size gives by chance\n",
		       json_number_value(json_object_get(fl, "mean")), json_number_value(json_object_get(fl, "p90")));
	}

	fputc('\n', stdout);
	cli_table_init(&t, 3, ch, "lrl");
	list = count_list(json_object_get(creation, "by_event"));
	at = list && list[0] ? cli_strf("at %s", list) : NULL;
	summary_row(&t, "created", json_object_get(creation, "created"), at);
	free(list);
	free(at);
	list = count_list(json_object_get(creation, "withheld_missing"));
	at = list && list[0] ? cli_strf("lacking %s", list) : NULL;
	summary_row(&t, "withheld", json_object_get(creation, "withheld"), at);
	free(list);
	free(at);
	summary_row(&t, "created with a missing field", json_object_get(creation, "created_with_missing_field"),
		    NULL);
	return cli_table_show(ctx, &t);
}

static int cmd_simulate(cli_ctx *ctx, const cli_args *a)
{
	ca_simulate_opts o = {0};
	cli_progress p;
	ca_err err;
	char *out = NULL;
	int rc;

	o.accept_after = (unsigned)opt_num(a, "accept-after", 2);
	o.update_every = (unsigned)opt_num(a, "update-every", 4);
	o.repeat = (unsigned)opt_num(a, "repeat", 1);
	o.all_fields = opt_flag(a, "all-fields");
	cli_progress_init(&p, ctx, "simulate");
	o.progress = cli_progress_fn;
	o.progress_ud = &p;
	ca_err_clear(&err);
	rc = ca_simulate(ctx->agent, a->pos[0], &o, &out, &err);
	cli_progress_done(&p);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_simulate);
}

/* ---- help ---- */

/* The verbs a command takes as its first argument, from its usage text:
 * "list|show|edit [ARTICLE]" or "[resume|stop|status|log] [JOB]" give the
 * lower-case words; placeholders (JSON|-, TEXT) are none. Returns how many
 * were stored in v (at most max), each `len[i]` bytes of c->args. */
static size_t command_verbs(const cli_cmd *c, const char **v, size_t *len, size_t max)
{
	const char *p = c->args ? c->args : "";
	size_t n = 0;

	if (*p == '[')
		p++;
	while (*p && n < max) {
		size_t l = strspn(p, "abcdefghijklmnopqrstuvwxyz");

		if (l == 0 || (p[l] != '|' && p[l] != ' ' && p[l] != ']' && p[l] != '\0'))
			return strchr(c->args, '|') && n ? n : 0;
		v[n] = p;
		len[n++] = l;
		if (p[l] != '|')
			break;
		p += l + 1;
	}
	return n > 1 || (c->args && c->args[0] == '[') ? n : 0;
}

/* `help WORD...` at any depth: a command, a group, a group's subcommand,
 * and then one of that command's verbs (`help knowledge review list`),
 * whose own lines of the long help come first. */
static int cmd_help(cli_ctx *ctx, const cli_args *a)
{
	const char *verbs[16];
	size_t vlen[16], nv;
	const cli_cmd *c;
	size_t used;

	if (a->npos == 0) {
		cli_print_help_all(stdout);
		return CLI_EXIT_OK;
	}
	if (cli_is_group(a->pos[0])) {
		if (a->npos == 1) {
			cli_print_help_group(stdout, a->pos[0]);
			return CLI_EXIT_OK;
		}
		c = cli_find(a->pos[0], a->pos[1]);
		if (!c)
			return cli_unknown_command(ctx, a->pos[0], a->pos[1]);
		used = 2;
	} else {
		c = cli_find(a->pos[0], NULL);
		if (!c)
			return cli_unknown_command(ctx, NULL, a->pos[0]);
		used = 1;
	}
	if (a->npos == used) {
		cli_print_help_cmd(stdout, c);
		return CLI_EXIT_OK;
	}
	nv = command_verbs(c, verbs, vlen, sizeof verbs / sizeof verbs[0]);
	for (size_t i = 0; i < nv; i++) {
		const char *w = a->pos[used];
		const char *lh = c->long_help ? c->long_help : "";
		bool shown = false;

		if (strlen(w) != vlen[i] || strncmp(w, verbs[i], vlen[i]) != 0)
			continue;
		if (a->npos > used + 1)
			return cli_usage_error(ctx, c, NULL, "'%s' would be an argument of '%s%s%s %s', not a command",
					       a->pos[used + 1], c->name, c->sub ? " " : "", c->sub ? c->sub : "", w);
		/* The verb's lines of the long help: "  list ..." and the
		 * lines indented under it. */
		while (*lh) {
			size_t l = strcspn(lh, "\n");
			const char *t = lh + strspn(lh, " ");
			size_t ind = (size_t)(t - lh);

			bool first = ind == 2 && strncmp(t, w, vlen[i]) == 0 && (t[vlen[i]] == ' ' || t[vlen[i]] == '\n');

			if (first)
				shown = true;
			else if (shown && ind <= 2)
				shown = false;
			/* "caseagent knowledge review edit ...", and the lines
			 * under it aligned with it. */
			if (shown && first)
				printf("caseagent %s%s%s %.*s\n", c->name, c->sub ? " " : "", c->sub ? c->sub : "",
				       (int)(l - 2), lh + 2);
			else if (shown)
				printf("%*s%.*s\n", (int)(strlen("caseagent  ") + strlen(c->name) + (c->sub ? strlen(c->sub) + 1 : 0)),
				       "", (int)(l - 2), lh + 2);
			lh += l + (lh[l] == '\n');
		}
		fputc('\n', stdout);
		cli_print_help_cmd(stdout, c);
		return CLI_EXIT_OK;
	}
	if (nv) {
		const char *cands[16];
		const char *pick;

		for (size_t i = 0; i < nv; i++)
			cands[i] = cli_strf("%.*s", (int)vlen[i], verbs[i]);
		pick = cli_suggest(a->pos[used], cands, nv);
		int st = cli_usage_error(ctx, c, NULL, "'%s%s%s' has no '%s'%s%s%s", c->name, c->sub ? " " : "",
					 c->sub ? c->sub : "", a->pos[used], pick ? "; did you mean '" : "", pick ? pick : "",
					 pick ? "'?" : "");
		for (size_t i = 0; i < nv; i++)
			free((char *)cands[i]);
		return st;
	}
	return cli_usage_error(ctx, c, NULL, "'%s%s%s' has no subcommands; '%s' would be its argument", c->name,
			       c->sub ? " " : "", c->sub ? c->sub : "", a->pos[used]);
}

/* ---- the table ---- */

static const cli_opt replay_opts[] = {
	{"accept-after", CLI_ARG_COUNT, "N", "accept after the customer's Nth message (default 2)"},
	{"update-every", CLI_ARG_COUNT, "N", "after accept, update every N messages (default 4)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt simulate_opts[] = {
	{"repeat", CLI_ARG_COUNT, "N", "run the file N times, for timing (default 1)"},
	{"accept-after", CLI_ARG_COUNT, "N", "accept after the customer's Nth message (default 2)"},
	{"update-every", CLI_ARG_COUNT, "N", "after accept, update every N messages (default 4)"},
	{"all-fields", CLI_ARG_NONE, NULL, "score the predictor on every labelled field, not only where an update rule asks for it"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt list_opts[] = {
	{"limit", CLI_ARG_UINT, "N", "show at most N cases, newest first (default 0: all; with a filter 50, at most 200)"},
	{"status", CLI_ARG_STR, "STATUS", "only cases in STATUS (active, resolved, cancelled...)"},
	{"owner", CLI_ARG_STR, "NAME", "only cases NAME owns"},
	{"customer", CLI_ARG_STR, "ID", "only cases of the contact ID"},
	{"origin", CLI_ARG_STR, "ORIGIN", "only cases from ORIGIN (chat, email, manual...)"},
	{"query", CLI_ARG_STR, "WORDS", "only cases with every word in the title, description or ticket number"},
	{"cursor", CLI_ARG_STR, "CURSOR", "the next page, from the previous page's next_cursor"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt edit_opts[] = {
	{"actor", CLI_ARG_STR, "NAME", "who makes the edit, recorded in the audit (default: $USER)"},
	{"expect-version", CLI_ARG_UINT, "N", "refuse the edit unless the case is at version N"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt resolve_opts[] = {
	{"resolution", CLI_ARG_STR, "TEXT", "how the problem was solved (required; kept as a note)"},
	{"actor", CLI_ARG_STR, "NAME", "who resolves it, recorded in the audit (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt cancel_opts[] = {
	{"reason", CLI_ARG_STR, "TEXT", "why the case is cancelled (default: cancelled)"},
	{"actor", CLI_ARG_STR, "NAME", "who cancels it, recorded in the audit (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt actor_opts[] = {
	{"actor", CLI_ARG_STR, "NAME", "who does it, recorded in the audit (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt email_ingest_opts[] = {
	{"mailbox", CLI_ARG_STR, "ADDRESS", "the mailbox or queue the mail arrived at (for ARC rules)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt email_log_opts[] = {
	{"limit", CLI_ARG_UINT, "N", "show the N newest rows (default 50; 0: all)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt interactions_opts[] = {
	{"conversation", CLI_ARG_STR, "ID", "only the interactions of conversation ID"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
static const cli_opt train_opts[] = {
	{"min-examples", CLI_ARG_UINT, "N", "labelled resolved cases a field needs (default 0: the library's 20)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static const cli_opt calibrate_opts[] = {
	{"min-examples", CLI_ARG_UINT, "N", "labelled conversations a field needs (default 0: 10)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

#define IMPORT_HELP \
	"FILE is JSON Lines (one object per line) or, by its .csv extension, CSV\n" \
	"with a header row (RFC 4180; a UTF-8 byte order mark is skipped); - reads\n" \
	"stdin. Records are upserted by \"id\". The whole file is checked before\n" \
	"anything is written: an error (the file, line and key; an id given twice\n" \
	"names both lines) leaves the database unchanged. Contacts, accounts,\n" \
	"products and subjects then stream in batches that hold the database's\n" \
	"write lock at most 0.25 s each, so live chat events go on during a big\n" \
	"import; should the database fail mid-way, the error says how many records\n" \
	"were written, each whole, and importing the same file again completes it.\n" \
	"Cases are written in one transaction.\n"

const cli_cmd cli_commands[] = {
	{"init", NULL, cmd_init, "", "Open or create the database and show its status",
	 "Creates the database file at --db if it does not exist, brings its schema up\n"
	 "to date, and shows whether settings have been imported. The other commands\n"
	 "need an existing database, so a mistyped --db never creates an empty one.\n",
	 NULL, 0, 0, CLI_NEEDS_DB | CLI_CREATES_DB, NULL},
	{"settings", "import", cmd_settings_import, "FILE", "Validate and store settings from a JSON file",
	 "Reads settings.json (docs/settings.md): channels, case fields and their\n"
	 "thresholds, default fields, update rules. An error names the offending key\n"
	 "(e.g. fields[2].type) and nothing is stored.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"settings", "export", cmd_settings_export, "", "Print the stored settings as JSON",
	 "Prints the settings as the database holds them; the output can be imported\n"
	 "again with `caseagent settings import`.\n",
	 NULL, 0, 0, CLI_NEEDS_DB, NULL},
	{"import", "contacts", cmd_import, "FILE", "Import contacts (people) from JSONL or CSV",
	 "Keys: id, full_name (required), email, phone, username, account_number,\n"
	 "account_id.\n" IMPORT_HELP,
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"import", "accounts", cmd_import, "FILE", "Import accounts (customer organisations) from JSONL or CSV",
	 "Keys: id, name (required), account_number, email, phone.\n" IMPORT_HELP,
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"import", "products", cmd_import, "FILE", "Import products from JSONL or CSV",
	 "Keys: id, name (required), aliases (array of strings), product_number.\n" IMPORT_HELP,
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"import", "subjects", cmd_import, "FILE", "Import the subject tree from JSONL or CSV",
	 "Keys: id, name (required), parent_id.\n" IMPORT_HELP,
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"import", "cases", cmd_import, "FILE", "Import historical cases from JSONL or CSV",
	 "Each line is {\"fields\": {FIELD: VALUE, ...}, \"resolution\": TEXT, \"text\": TEXT}\n"
	 "(or, in CSV, one column per field, plus resolution and text): field values\n"
	 "are strings; lookup values must name imported records (an unknown contact\n"
	 "id is an error naming the line) and options be one of the field's values.\n"
	 "\"resolution\" is kept as the case's resolution note by its owner, for\n"
	 "harvest and training. Format: docs/transcript-format.md, \"Historical\n"
	 "cases\".\n" IMPORT_HELP,
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"chat", "replay", cmd_chat_replay, "FILE.jsonl", "Play transcripts through the case lifecycle",
	 "Plays each conversation of a transcript file (docs/transcript-format.md)\n"
	 "through open, accept, updates, wrap-up and close, as if it were live. A\n"
	 "conversation with its own \"events\" is replayed exactly; the others get the\n"
	 "default schedule shaped by --accept-after and --update-every. Every event\n"
	 "of every line (ids, types, message references, order) is validated before\n"
	 "anything is written: a bad file names the line and the event and writes\n"
	 "nothing. A conversation is replayed in one transaction, all or nothing.\n"
	 "Event ids make a second replay of the same file change nothing. Prints the\n"
	 "summary: conversations, cases created and at which event, fields filled,\n"
	 "\"no changes\" updates, notes written.\n",
	 replay_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"chat", "event", cmd_chat_event, "JSON|-", "Apply one chat event (or one per line of stdin)",
	 "JSON is one event object, e.g.\n"
	 "  {\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"c1\",\"identity\":\"C-1\"}\n"
	 "  {\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"c1\",\n"
	 "   \"message\":{\"id\":\"c1-m1\",\"role\":\"customer\",\"text\":\"...\"}}\n"
	 "  {\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"c1\",\"actor\":\"alice\"}\n"
	 "Types: open, message, accept, update, wait (the chat is on hold until the\n"
	 "next update), wrapup, close, link (with \"case\"); docs/transcript-format.md.\n"
	 "With `-`, events are read from stdin, one per line, and one result is\n"
	 "printed per line; the first failing event stops the run (exit 1). Event\n"
	 "ids are scoped to their conversation: the same event sent again returns\n"
	 "its stored result and changes nothing; an id reused in the conversation\n"
	 "with other content is an error (CA_EEXIST).\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "list", cmd_case_list, "", "List cases, newest first",
	 "One row per case: ticket number, version, origin, creation time and the\n"
	 "fields that are set. Without options, every case. With a filter (--status,\n"
	 "--owner, --customer, --origin, --query), a --cursor or a --limit up to 200,\n"
	 "one page (50 unless --limit says) served from the database's indexes; the\n"
	 "last line then gives the --cursor of the next page. --query finds cases with\n"
	 "every word in their title, description or ticket number (full-text index,\n"
	 "word stems). With --json: {\"cases\":[...],\"next_cursor\": string|null}.\n",
	 list_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"case", "create", cli_cmd_case_create, "FIELD=VALUE...", "Create a case by hand, as a person",
	 "Each FIELD=VALUE sets a field (a configured field or a standard case field;\n"
	 "lookups and options are checked as `case edit` checks them) as a person's\n"
	 "value, which the agent never overwrites. The case gets the next ticket\n"
	 "number and origin manual unless origin=... is given. One transaction: a bad\n"
	 "pair creates nothing. With --json: the case as `case show` gives it.\n",
	 cli_actor_only_opts, 0, CLI_UNLIMITED, CLI_NEEDS_DB, cli_check_case_create},
	{"case", "update", cli_cmd_case_update, "CASE", "Update a case from its conversation, now",
	 "The agent predicts from the case's conversation as it stands (default fields\n"
	 "and the fields of every update rule that holds) and writes what the update\n"
	 "policy allows: a person's value is never overwritten. Prints the changed\n"
	 "fields, or \"no changes\". A case without a conversation is refused.\n"
	 "With --json: the result as `chat event` gives it for an update.\n",
	 cli_actor_only_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "note", cli_cmd_case_note, "CASE TEXT|-", "Add a note to a case",
	 "TEXT (or standard input, for -) is the note: 1 byte to 64 KiB of UTF-8.\n"
	 "With --json: the note {\"id\",\"kind\",\"body\",\"actor\",\"at\",\"case\"}.\n",
	 cli_actor_only_opts, 2, 2, CLI_NEEDS_DB, NULL},
	{"case", "notes", cli_cmd_case_notes, "CASE", "Show a case's notes, oldest first",
	 "Summaries the agent wrote, resolutions and people's notes, with who and when.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "emails", cli_cmd_case_emails, "CASE", "Show a case's e-mails, received, sent and queued",
	 "Oldest first: incoming and outgoing e-mails of the case, and replies still\n"
	 "waiting in the outbox (queued or failed) with their outbox id.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "reply", cli_cmd_case_reply, "CASE --body TEXT|--body-file FILE", "Reply to a case's customer by e-mail",
	 "Queues the reply in the outbox, to the customer's address (else the sender\n"
	 "of the case's last e-mail), threaded with the case: In-Reply-To and\n"
	 "References of its last incoming e-mail, the case token in the subject,\n"
	 "Auto-Submitted: no. `caseagent email send` sends it. The body is 1 byte to\n"
	 "256 KiB of UTF-8. A customer without an address is refused.\n",
	 cli_reply_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "suggestion", cli_cmd_case_suggestion, "CASE [act ID send|draft|resolve|dismiss]",
	 "Show a case's suggested action, or act on it",
	 "The follow-up agent's pending suggestion for the case (docs/followup.md):\n"
	 "the proposed step (send_followup, draft_reply, resolve), a summary of the\n"
	 "customer's last reply and its intent, the e-mail or the resolution. `act ID`\n"
	 "answers it: send queues the e-mail (edited with --subject/--body) as the\n"
	 "person's reply, draft hands the draft back for the reply editor, resolve\n"
	 "resolves the case (--resolution to change the text), dismiss closes it.\n"
	 "A suggestion is gone once a person acts or the customer writes again.\n",
	 cli_suggestion_opts, 1, 4, CLI_NEEDS_DB, cli_check_suggestion},
	{"followup", "run", cli_cmd_followup_run, "", "Run one tick of the follow-up agent (for cron and tests)",
	 "For every open case the first active follow-up rule matches, whose owner's\n"
	 "agent experience profile enables autonomous follow-up and closure: wait,\n"
	 "send follow-up N, stop (a favourable reply), hand to a person (a draft\n"
	 "reply) or resolve after the last follow-up; at level confirm as a suggested\n"
	 "action, at level shadow only recorded (`followup shadow`). A step is queued\n"
	 "once, whatever restarts or other runs do. --now sets the clock. With\n"
	 "--json: {\"now\",\"cases\",\"counts\",\"decisions\":[...]} (docs/followup.md).\n",
	 cli_followup_run_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"followup", "simulate", cli_cmd_followup_simulate, "", "What the follow-up agent would do, writing nothing",
	 "The same decisions as `followup run` over up to 100 matching cases (--limit),\n"
	 "as of now or --now, in a read transaction: per case the rule, the reply's\n"
	 "intent, the action and the e-mail it would send; cases left alone (no owner,\n"
	 "or a profile without the feature) say so.\n",
	 cli_followup_simulate_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"followup", "shadow", cli_cmd_followup_shadow, "", "What shadow rules would have done",
	 "Newest first: the decisions of rules at level shadow, each recorded once per\n"
	 "case, decision and what it was decided on, with the e-mail it would have\n"
	 "sent. Shadow rules change nothing else.\n",
	 cli_followup_shadow_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"conversation", "list", cli_cmd_conversation_list, "", "List conversations, newest first",
	 "One page (50 unless --limit says, at most 200): id, state, case, contact,\n"
	 "messages, who accepted it, when it opened; the last line gives the --cursor\n"
	 "of the next page. With --json: {\"conversations\":[...],\"next_cursor\"}.\n",
	 cli_conversation_list_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"conversation", "show", cli_cmd_conversation_show, "ID", "Show a conversation: messages, case, interactions",
	 "The conversation's state, case and contact, its messages in order and what\n"
	 "the agent did in it.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"report", "agent", cli_cmd_report_agent, "", "The agent's own figures for a period",
	 "Conversations seen, cases created and withheld (with the fields that lacked\n"
	 "context), cases enriched, fields filled, updates without changes, the\n"
	 "agent's fields a person changed, e-mails the agent sent or queued, articles\n"
	 "drafted and published, over [--from, --to) (UTC; either may be left out).\n",
	 cli_report_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"case", "show", cmd_case_show, "CASE", "Show a case's fields with provenance, and its notes",
	 "CASE is a ticket number (CAS-00012) or a numeric id. Every field shows where\n"
	 "its value came from: source (agent, person, import...), actor, confidence,\n"
	 "method and the messages it was found in.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "edit", cmd_case_edit, "CASE FIELD=VALUE...", "Edit case fields as a person",
	 "Each FIELD=VALUE pair is one edit by a person, applied in turn. People win:\n"
	 "the agent never overwrites a field a person has set. Lookup values must name\n"
	 "an imported record; option values must be one of the field's options.\n"
	 "Every pair is checked for its form first; if an edit then fails, the pairs\n"
	 "before it stay applied (the message says so). With --expect-version the\n"
	 "first edit is refused if the case has moved on (CA_ECONFLICT).\n"
	 "With --json: the edit's result object, or for several pairs\n"
	 "{\"case\",\"version\",\"edits\":[...]}.\n",
	 edit_opts, 2, CLI_UNLIMITED, CLI_NEEDS_DB, check_case_edit},
	{"case", "resolve", cmd_case_status, "CASE --resolution TEXT", "Resolve a case, saying how it was solved",
	 "Sets status resolved as a person's change (audited) and keeps the resolution\n"
	 "text as a note. An e-mail reply within an ARC rule's window is then attached\n"
	 "to the case; after it, a reply opens a new case.\n",
	 resolve_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "resolution", cmd_case_resolution, "CASE", "Propose a case's resolution from its thread",
	 "Resolution help: what the representative said was done or should be done,\n"
	 "in the case's chat lines, e-mails and people's notes (questions and \"let\n"
	 "me check\" left out), with the message each statement came from and a\n"
	 "confidence. Writes nothing; give the text (or your own) to `case resolve`.\n"
	 "With --json: {\"case\",\"resolution\"|null,\"confidence\",\"evidence\":\n"
	 "[{\"source\":\"email\"|\"message\"|\"note\",\"id\",\"text\"}]}.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "cancel", cmd_case_status, "CASE", "Cancel an open case",
	 "Sets status cancelled as a person's change (audited).\n",
	 cancel_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"case", "reactivate", cmd_case_status, "CASE", "Reopen a resolved or cancelled case",
	 "Sets status active again as a person's change (audited).\n",
	 actor_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"audit", NULL, cmd_audit, "CASE", "Show every change of a case, oldest first",
	 "One row per change: time, field, old -> new value, source/actor, confidence\n"
	 "and method.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"email", "ingest", cmd_email_ingest, "PATH...", "Ingest e-mail: .eml files, directories, mbox, Maildir, or - (stdin)",
	 "Each message is one transaction: stored as received, then checked for\n"
	 "duplicates (Message-ID with the same content, else a hash of the bytes; a\n"
	 "Message-ID reused with other content is a message of its own), automatic\n"
	 "mail (auto-replies, bounces, out-of-office, bulk), our own addresses and\n"
	 "the sender's hourly limit (addresses compared without case, IDNA domains\n"
	 "in one spelling); replies found by the case token in the subject,\n"
	 "In-Reply-To or References update their case when the sender is on its\n"
	 "thread (the case's contact, its account's, or on To/Cc of an earlier\n"
	 "message), else they are new mail; then the first matching ARC rule creates\n"
	 "one. Every message gets one row in `caseagent email log`. A message that\n"
	 "cannot be parsed is kept raw with the reason; one over\n"
	 "email.max_message_bytes keeps its headers and the start of its body. `-`\n"
	 "reads one message from standard input, so an MTA can pipe into\n"
	 "`caseagent email ingest -`.\n"
	 "Spam (a spam verdict in its headers, or from the spamd or rspamd named in\n"
	 "settings email.spam) is stored and held: no case, no response, no update;\n"
	 "`caseagent email release ID` lets it through.\n",
	 email_ingest_opts, 1, CLI_UNLIMITED, CLI_NEEDS_DB, NULL},
	{"email", "log", cmd_email_log, "", "Show the e-mail activity monitor, newest first",
	 "One row per ingested message: outcome (created, updated, attached, skipped,\n"
	 "spam, held), the case, the ARC rule that decided, the reason, and the spam\n"
	 "verdict's source and score (--json: spam_source, spam_score, actor).\n",
	 email_log_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"email", "show", cmd_email_show, "ID", "Show one stored e-mail with its attachments",
	 "Headers as parsed, the text, the new part of a reply, attachments (name,\n"
	 "type, size, SHA-256) and the case it belongs to.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"email", "held", cmd_email_held, "", "List the e-mails held (spam, or not spam-checked), newest first",
	 "Each held e-mail: when it came, from whom, its subject, the verdict (spam or\n"
	 "unchecked), the score and who gave it. Nothing here becomes a case or an\n"
	 "automatic response until `caseagent email release ID` lets it through.\n",
	 email_log_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"email", "release", cli_cmd_email_release, "ID", "Let a held e-mail (spam, or not spam-checked) through",
	 "Clears the hold on e-mail ID, records who released it (--actor, else\n"
	 "$USER) on the e-mail and in a new `email log` row, and then decides it as\n"
	 "new mail: threading, ARC rules, automatic response. One transaction. Fails\n"
	 "when the e-mail is not held (never was, or released already). Held e-mails\n"
	 "are the `email log` rows with outcome spam or held.\n",
	 cli_email_release_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"email", "outbox", cmd_outbox, "", "Show automatic responses queued or sent",
	 "Each response carries Auto-Submitted: auto-replied and the case token in\n"
	 "its subject.\n",
	 NULL, 0, 0, CLI_NEEDS_DB, NULL},
	{"email", "poll", cli_cmd_email_poll, "", "Fetch unseen mail from an IMAP mailbox and ingest it",
	 "Logs in to the mailbox of --url (imap:// with STARTTLS, or imaps://;\n"
	 "a server offering no TLS is refused, unless --allow-plaintext and the\n"
	 "server is on this machine), or without --url to the one settings\n"
	 "email.imap names (the password read from its password_file, the run\n"
	 "recorded for `email status`), and for each message without \\Seen, oldest\n"
	 "first: fetches it\n"
	 "without marking it, ingests it as `email ingest` does (one transaction),\n"
	 "and only then sets \\Seen. If anything fails in between, the message stays\n"
	 "unseen and the next poll takes it again; ingest knows it by its Message-ID,\n"
	 "so nothing is lost and nothing is doubled. The password is read from\n"
	 "--password-file only, never from the command line. Exit status 1 when a\n"
	 "message could not be fetched (it is listed and left unseen).\n",
	 cli_email_poll_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"email", "send", cli_cmd_email_send, "", "Send the queued automatic responses over SMTP",
	 "Sends every queued response (and failed ones with attempts left) to --url\n"
	 "or, without --url, to the server settings email.smtp names (recorded for\n"
	 "`email status`)\n"
	 "(smtp:// with STARTTLS, or smtps://; a server offering no TLS is refused,\n"
	 "unless --allow-plaintext and the server is on this machine): Date, a\n"
	 "Message-ID of\n"
	 "our own, the subject RFC 2047-encoded when not ASCII, Auto-Submitted,\n"
	 "In-Reply-To and References, a text/plain UTF-8 body. A sent response is\n"
	 "marked sent and stored as an outgoing e-mail of its case, so the customer's\n"
	 "reply threads; a failure is marked failed with the server's answer. Exit\n"
	 "status 1 when a message failed.\n",
	 cli_email_send_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"email", "status", cli_cmd_email_status, "", "Show the background e-mail work: servers, intervals, last runs",
	 "For IMAP polling and SMTP sending: the server the settings name and its\n"
	 "interval (email.poll_interval_s, email.send_interval_s), the runs recorded\n"
	 "by any process on the database (last run, last success, last error, the\n"
	 "last result's counts with --json), and the outbox by status.\n",
	 NULL, 0, 0, CLI_NEEDS_DB, NULL},
	{"pii", "redact", cli_cmd_pii_redact, "[TEXT|-]", "Replace personal data in a text by typed placeholders",
	 "Finds e-mail addresses, phone numbers, payment cards (Luhn), IBANs (mod 97),\n"
	 "US SSNs, IP addresses, street addresses, person names (the contacts, cue\n"
	 "phrases such as \"my name is\", signatures, Debian word lists) and account\n"
	 "or order numbers where settings have such a pattern field, and prints the\n"
	 "text with each replaced by [EMAIL], [PHONE], [PERSON]..., then a line\n"
	 "counting what was removed (never the values; --quiet leaves it out).\n"
	 "Reads standard input without TEXT or with -. With --json:\n"
	 "{\"text\",\"removed\":{\"TYPE\":N},\"spans\":[{\"type\",\"begin\",\"end\",...}]}\n"
	 "with byte offsets into the original text.\n",
	 NULL, 0, 1, CLI_NEEDS_DB, NULL},
	{"pii", "eval", cli_cmd_pii_eval, "FILE", "Score PII removal on span-labelled text (Presidio format)",
	 "FILE is a JSON list of {\"full_text\",\"spans\":[{\"entity_type\",\n"
	 "\"start_position\",\"end_position\"}]} with character offsets, as in\n"
	 "../shared/data/pii_presidio_synth. Prints precision, recall, F1, support and\n"
	 "predicted spans per type (EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN,\n"
	 "IP_ADDRESS, STREET_ADDRESS, PERSON; a gold span is found when a predicted\n"
	 "span of its type overlaps it), the overall micro-averaged figures, the\n"
	 "same for exact spans, and the residual PII rate: the share of the gold\n"
	 "spans' characters left visible after redaction. Writes nothing.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"knowledge", "review", cli_cmd_review, "list|show|edit|publish|reject [ARTICLE] [FIELD=VALUE...]",
	 "Review knowledge articles: list, show, edit, publish, reject",
	 "  list [--state STATE]        articles, newest first\n"
	 "  show KA-00001               one article with its sources and what was removed\n"
	 "  edit KA-00001 FIELD=VALUE   title, issue, cause, resolution, compliance\n"
	 "                              (pending, compliant, non_compliant), audience,\n"
	 "                              owner (who gets its review requests);\n"
	 "                              new content in a published article is a new\n"
	 "                              minor version (1.0 -> 1.1) in review: readers\n"
	 "                              keep the published one until the new one is\n"
	 "                              compliant and published\n"
	 "  publish KA-00001 [--audience internal|external]\n"
	 "  reject KA-00001             the draft (or the version in review) is discarded\n"
	 "Only a compliant article can be published; the store refuses any other,\n"
	 "whatever path asks.\n",
	 cli_publish_opts, 1, CLI_UNLIMITED, CLI_NEEDS_DB, NULL},
	{"knowledge", "rate", cli_cmd_review, "ARTICLE 1-5", "Rate a knowledge article from 1 to 5",
	 "Ratings of 2 or less mark an article to revise in the insights.\n", NULL, 2, 2, CLI_NEEDS_DB, NULL},
	{"knowledge", "harvest", cli_cmd_harvest, "[resume|stop|status|log] [JOB]",
	 "Run the knowledge agent over history: resolved cases and closed conversations",
	 "  --from cases [--rule NAME]  start a job over every resolved or closed\n"
	 "                              case (oldest first, at most 100,000) and run it\n"
	 "  --from conversations        the same over every closed conversation (by id)\n"
	 "  resume JOB                  continue a stopped or interrupted job after\n"
	 "                              its last record\n"
	 "  stop JOB                    ask a running job (any process) to stop after\n"
	 "                              its current batch\n"
	 "  status [JOB]                counts, state and rate of one job or all\n"
	 "  log JOB [--outcome O]       one row per record: created, covered (by\n"
	 "                              KA-...), filtered, insufficient or error\n"
	 "Each record's outcome, log row and the job's cursor commit together, a\n"
	 "batch of records at a time, so a job killed at any point resumes without\n"
	 "losing or repeating a record (the batch it was in is done again).\n",
	 cli_harvest_opts, 0, 2, CLI_NEEDS_DB, NULL},
	{"knowledge", "search", cli_cmd_search, "QUERY", "Search published knowledge articles",
	 "Ranks published articles by similarity to QUERY. --audience external shows\n"
	 "only articles published to external readers.\n",
	 cli_search_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"knowledge", "insights", cli_cmd_insights, "", "Knowledge base figures: articles, ratings, coverage, harvests",
	 "Articles published, by state and by source (agent or person), the average\n"
	 "rating, articles to revise (average rating 2 or less), coverage (the share\n"
	 "of resolved cases an article was drafted from or covers), and harvest jobs\n"
	 "with their outcomes. --json for scripts, --csv for spreadsheets.\n",
	 cli_insights_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"eval", "dedup", cli_cmd_eval_dedup, "PATH", "Score knowledge de-duplication on StackFAQ threads",
	 "Even threads become the knowledge base; each paraphrase of those must find\n"
	 "its own article first (covered_top1); paraphrases of the other threads\n"
	 "arrive as new records and must make exactly one article per thread\n"
	 "(one_article_per_thread). Prints a sweep over thresholds. Writes nothing.\n",
	 cli_dedup_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"eval", "gaps", cli_cmd_eval_gaps, "DATASET", "Score gap detection's grouping of labelled conversations (B-cubed)",
	 "DATASET: Twitter customer-care conversations labelled with the article that\n"
	 "resolved them (../shared/data/twitter_care_docpred: one doc_id, one issue) or\n"
	 "ABCD chats (../shared/data/abcd: one subflow, one issue). Each conversation\n"
	 "becomes a resolved case (title: the customer's first sentence; description:\n"
	 "the customer's turns; resolution: the agent's reply, links replaced by\n"
	 "[LINK]) and a harvest on a scratch database groups them through the agent's\n"
	 "own gap detection. Prints B-cubed precision, recall and F1 (Bagga & Baldwin\n"
	 "1998) beside one article per conversation, and the records covered and new\n"
	 "steps proposed across issues. --part tune|test takes half the issues, to\n"
	 "tune on one and report on the other. Writes nothing to the database.\n",
	 cli_gaps_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"notifications", NULL, cli_cmd_notifications, "", "Show in-app notifications",
	 "Review requests for drafted articles and proposed new versions, newest\n"
	 "first.\n",
	 cli_notifications_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"interactions", NULL, cmd_interactions, "", "Show the agent's interaction log",
	 "What the agent did and why, per event: creations, updates, withheld cases\n"
	 "and the fields that lacked context.\n",
	 interactions_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"train", NULL, cmd_train, "", "Train option-field models from resolved cases",
	 "Trains one model per option field (liblinear) from the team's resolved\n"
	 "cases; fields with too few labelled cases are skipped and keep using the\n"
	 "option descriptions.\n",
	 train_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"calibrate", NULL, cmd_calibrate, "FILE.jsonl", "Calibrate option-field confidences on labelled transcripts",
	 "Predicts each option field of each labelled transcript (the simulate\n"
	 "format) and fits an isotonic map from the raw confidence to the share of\n"
	 "such values that were right; the maps are stored with the trained models\n"
	 "and every later confidence goes through them, so 0.8 means right about 8\n"
	 "times in 10. Fields with fewer than --min-examples (default 10) labelled\n"
	 "conversations are skipped. `train` drops the maps: calibrate after it.\n"
	 "Fit on a training split; `simulate` on another reports the ECE.\n",
	 calibrate_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"simulate", NULL, cmd_simulate, "FILE.jsonl", "Score the agent on labelled transcripts (writes nothing)",
	 "Runs the lifecycle over a transcript file with labels, in memory, and prints\n"
	 "precision, recall, F1 and support per field, the same restricted to labels\n"
	 "whose evidence is in the text (in-text), and how cases were created or\n"
	 "withheld. --repeat runs the file several times for benchmarks.\n",
	 simulate_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"eval", "summary", cli_cmd_eval_summary, "PATH", "Score the conversation summary with ROUGE against human summaries",
	 "PATH is a dialogue set as in ../shared/data: a JSONL file or a folder (its\n"
	 "dialogs.jsonl, else every *.jsonl) of tweetsumm records (\"turns\",\n"
	 "\"abstractive_summaries\") or dialogsum records (\"dialogue\" with\n"
	 "\"#Person1#: ...\" lines, \"summary\"), detected per line. Each dialogue is\n"
	 "summarised as the agent does (its brief, in reported speech) and scored\n"
	 "with ROUGE-1, ROUGE-2 and ROUGE-L F1 (tokens [a-z0-9]+, lower case; the\n"
	 "best human summary per measure), averaged over dialogues; the same for\n"
	 "the lead baseline, the first customer turn plus the first agent turn, and\n"
	 "for those two turns rendered as prose like the summary (lead_prose).\n"
	 "With --json: {\"rouge1\",\"rouge2\",\"rougeL\",\"lead\":{...},\n"
	 "\"lead_prose\":{...},...} as fractions 0..1. Nothing is written to the\n"
	 "database.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"eval", "linking", cli_cmd_eval_linking, "DIR", "Score product and subject linking on a labelled mention set",
	 "DIR holds products.jsonl and subjects.jsonl (the catalogue, as `import`\n"
	 "takes it) and mentions.jsonl, one sentence a line: {\"text\", \"field\":\n"
	 "\"product\"|\"subject\", \"expect\": an id or null, \"kind\"}. Each sentence\n"
	 "is read as a one-message chat; a link counts when its confidence reaches\n"
	 "0.5. Prints precision (correct links / links), recall (correct links /\n"
	 "mentions naming a record) per field and per kind, and every miss. The\n"
	 "set of the tests: tests/data/predict/linking. Nothing is written.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"eval", "replies", cli_cmd_eval_replies, "[LABELS]", "Score the reply classifier on its labelled set (per intent)",
	 "LABELS (default tests/data/followup/replies.jsonl; docs/replies.md is the\n"
	 "labelling guideline) holds one labelled customer reply a line; a row points\n"
	 "at a turn of a dev data set under --data (tweetsumm, twitter_care, abcd:\n"
	 "{\"source\",\"ref\",\"turn\",\"intent\",\"part\"}), at an e-mail of the\n"
	 "SpamAssassin set ({\"source\":\"spamassassin\",\"ref\":\"GROUP/FILE\"}) or\n"
	 "carries its own \"text\" (and \"headers\"). Each reply is read as the follow-up agent reads\n"
	 "it (`reply classify`). Prints precision, recall and F1 per intent, macro-F1\n"
	 "over the intents present, the confusion matrix, the calibration of the\n"
	 "confidence (ECE) and the figures of the best guess with the floors aside\n"
	 "(what the floors cost). --part test, test2, test3, test4, test5 and mail are the\n"
	 "held-back parts: tune on train only. With --json: {\"part\",\"n\",\"macro_f1\",\n"
	 "\"accuracy\",\"per_intent\":{intent:{\"precision\",\"recall\",\"f1\",\"support\",\n"
	 "\"predicted\"}},\"confusion\":{label:{reading:N}},\"calibration\",\"best_guess\":\n"
	 "{\"macro_f1\",\"resolved_precision\",\"resolved_recall\",\"confusion\"},\"missing\",\n"
	 "\"misread\"}.\n"
	 "Writes nothing, but --fit OUT: it fits the weights, the\n"
	 "temperature and the floors of \"unclear\" on the train part (5-fold\n"
	 "cross-validated), writes them to OUT and prints the out-of-fold figures\n"
	 "(with \"floors\", \"temperature\", \"l2\" and the out-of-fold \"misread\").\n",
	 cli_eval_replies_opts, 0, 1, 0, NULL},
	{"reply", "classify", cli_cmd_reply_classify, "[TEXT|-]", "Read a customer's reply: resolved, still a problem, question, unclear, automatic",
	 "Reads the reply (TEXT, or standard input without TEXT or with -) as the\n"
	 "follow-up agent does: quoted history and signature are stripped, cue\n"
	 "phrases (with negation: \"not fixed\", \"no longer an issue\"), questions and\n"
	 "the headers of automatic mail (--header Auto-Submitted:auto-replied,\n"
	 "--header 'Subject:Out of office', repeatable) are scored, and the intent\n"
	 "comes with its confidence, the scores of all intents and the evidence\n"
	 "(byte offsets into TEXT). Below an intent's confidence floor the reading is\n"
	 "\"unclear\": a person decides. With --json: {\"intent\",\"confidence\",\n"
	 "\"evidence\":[{\"text\",\"start\",\"end\",\"cue\"}],\"scores\":{...}}.\n"
	 "At most 256 KiB of UTF-8.\n",
	 cli_reply_classify_opts, 0, 1, 0, NULL},
	{"serve", NULL, cli_cmd_serve, "", "Run the HTTP service: REST API, live events, metrics, background jobs",
	 "Serves the API of docs/api.md on --listen (default 127.0.0.1:8080; a port\n"
	 "of 0 picks a free one) over the database of --db (created if missing, as\n"
	 "on a service's first start). Prints the address once listening; one JSON\n"
	 "access-log line per request on stderr. One thread reads and writes the\n"
	 "sockets; the --workers threads answer the requests in the order they\n"
	 "arrived, each with its own database connection: the first one the chat\n"
	 "platform's and the mail server's, the others people's. Request bodies are limited to 1 MiB (25 MiB for raw\n"
	 "e-mail, 413), must arrive within 30 s (408), and connections beyond\n"
	 "--max-connections are answered 503. A background worker runs harvest jobs\n"
	 "and, when the settings give intervals, IMAP polling and SMTP sending.\n"
	 "SIGTERM or SIGINT: stop accepting, finish the requests in flight and the\n"
	 "current job batch, exit 0. Behind a TLS proxy, send X-Forwarded-Proto:\n"
	 "https so the session cookie is marked Secure. The built web UI (make web:\n"
	 "web/dist) is served at / from --web DIR, else $CASEAGENT_WEB, else the\n"
	 "installed PREFIX/share/caseagent/web: hashed assets/ cached a year, other\n"
	 "paths index.html; without it, / says how to build it.\n",
	 cli_serve_opts, 0, 0, 0, NULL},
	{"user", "add", cli_cmd_user_add, "NAME --role ROLE", "Add a user of the service (a person or an integration)",
	 "NAME is 1-64 letters, digits and . _ @ -. ROLE is one of the roles as the\n"
	 "seed names them (case does not matter): \"System Administrator\", \"CSR\n"
	 "Manager\" (both configure: settings, rules, users, profiles, harvests),\n"
	 "\"Customer Service Representative\", \"Omnichannel Agent\" (work cases,\n"
	 "conversations, replies, notes, knowledge review) or \"Integration\" (a chat\n"
	 "platform, a mail server or a metrics scraper: API tokens only, no\n"
	 "password). --profile names the agent experience profile (default:\n"
	 "Default, with autonomous case creation and follow-up on). The password\n"
	 "(8-1024 bytes) is read from --password-file, never the command line, and\n"
	 "stored only as an Argon2id hash; without one the user signs in by token.\n",
	 cli_user_add_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"user", "list", cli_cmd_user_list, "", "List the users with their roles and profiles",
	 "One row per user, by name: role, agent experience profile, whether it is\n"
	 "disabled and whether it has a password (never the password).\n",
	 NULL, 0, 0, CLI_NEEDS_DB, NULL},
	{"user", "show", cli_cmd_user_show, "NAME", "Show one user",
	 NULL, NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"user", "edit", cli_cmd_user_edit, "NAME", "Change a user's role, profile, name, password, or disable it",
	 "Changes what the options say, all at once or nothing. A disabled user's\n"
	 "sessions and API tokens stop working at once; a new or removed password\n"
	 "ends its sessions.\n",
	 cli_user_edit_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"token", "create", cli_cmd_token_create, "USER", "Create an API token for a user; prints only the token",
	 "The token (ca_ and 43 base64url characters) is printed on standard output\n"
	 "and nowhere else, this once: the database keeps only its hash. Send it as\n"
	 "`Authorization: Bearer TOKEN`. With --json: {\"token\",\"id\",\"user\",\n"
	 "\"name\",\"created_at\",...}.\n",
	 cli_token_create_opts, 1, 1, CLI_NEEDS_DB, NULL},
	{"token", "list", cli_cmd_token_list, "", "List API tokens (never their secrets)",
	 "Id, user, name, creation, last use (written at most once a minute) and\n"
	 "revocation of each token.\n",
	 cli_token_list_opts, 0, 0, CLI_NEEDS_DB, NULL},
	{"token", "revoke", cli_cmd_token_revoke, "ID", "Revoke an API token: it stops working at once",
	 "ID is the token's id, from `token create` or `token list`.\n",
	 NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"profile", "list", cli_cmd_profile_list, "", "List the agent experience profiles",
	 "An agent experience profile is a named set of features given to users:\n"
	 "autonomous case creation and update from conversations, and autonomous\n"
	 "case follow-up and closure. When the representative who accepted a\n"
	 "conversation has a profile without autonomous case creation, the agent\n"
	 "creates and updates no case for it on its own (Update from conversation\n"
	 "on demand still works) and says why in the event's result.\n",
	 NULL, 0, 0, CLI_NEEDS_DB, NULL},
	{"profile", "show", cli_cmd_profile_show, "NAME", "Show one agent experience profile",
	 NULL, NULL, 1, 1, CLI_NEEDS_DB, NULL},
	{"profile", "put", cli_cmd_profile_put, "NAME FILE|-", "Create or replace an agent experience profile",
	 "FILE (- for stdin) is the whole profile as JSON:\n"
	 "  {\"description\": \"...\", \"autonomous_case\": false, \"autonomous_followup\": true}\n"
	 "(\"name\" and \"users\", as `profile show --json` prints them, may be\n"
	 "left in). Any other key is an error naming it.\n",
	 NULL, 2, 2, CLI_NEEDS_DB, NULL},
	{"help", NULL, cmd_help, "[COMMAND [SUBCOMMAND [VERB]]]", "Show help for all commands or one",
	 "`caseagent help knowledge review list` shows the help of a command's verb;\n"
	 "every level of a command line can be asked about.\n",
	 NULL, 0, CLI_UNLIMITED, 0, NULL},
};

const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

const cli_cmd *cli_find(const char *name, const char *sub)
{
	for (size_t i = 0; i < cli_ncommands; i++) {
		const cli_cmd *c = &cli_commands[i];

		if (strcmp(c->name, name) != 0)
			continue;
		if (!sub && !c->sub)
			return c;
		if (sub && c->sub && strcmp(c->sub, sub) == 0)
			return c;
	}
	return NULL;
}

const char *cli_suggest_command(const char *word, const char *group)
{
	const char **c = calloc(cli_ncommands, sizeof *c);
	const char *pick;
	size_t n = 0;

	if (!c)
		return NULL; /* no suggestion is no loss */
	for (size_t i = 0; i < cli_ncommands; i++) {
		if (!group)
			c[n++] = cli_commands[i].name;
		else if (strcmp(cli_commands[i].name, group) == 0 && cli_commands[i].sub)
			c[n++] = cli_commands[i].sub;
	}
	pick = cli_suggest(word, c, n);
	free(c);
	return pick;
}

bool cli_is_group(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0 && cli_commands[i].sub)
			return true;
	return false;
}

int cli_unknown_command(const cli_ctx *ctx, const char *group, const char *word)
{
	const char *pick = cli_suggest_command(word, group);

	if (group && pick)
		return cli_usage_error(ctx, NULL, group, "unknown subcommand '%s %s'; did you mean '%s %s'?", group, word,
				       group, pick);
	if (group)
		return cli_usage_error(ctx, NULL, group, "unknown subcommand '%s %s'", group, word);
	if (pick)
		return cli_usage_error(ctx, NULL, NULL, "unknown command '%s'; did you mean '%s'?", word, pick);
	return cli_usage_error(ctx, NULL, NULL, "unknown command '%s'", word);
}

int cli_opt_index(const cli_cmd *cmd, const char *name)
{
	if (!cmd || !cmd->opts)
		return -1;
	for (int i = 0; cmd->opts[i].name; i++)
		if (strcmp(cmd->opts[i].name, name) == 0)
			return i;
	return -1;
}
