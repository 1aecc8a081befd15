/* SPDX-License-Identifier: MIT */
/*
 * The PII commands of `caseagent`: `pii redact` prints a text with personal
 * data replaced by typed placeholders and a line counting what was removed;
 * `pii eval` scores the recognisers on span-labelled text (Presidio's
 * format) and prints precision, recall, F1 and support per type, the
 * overall figures and the share of personal characters left visible. The
 * table in commands.c points here; both call only the public API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Largest text `pii redact` and `reply classify` read from standard input. */
#define MAX_REDACT_BYTES (16u << 20)

int cli_read_stdin(const cli_ctx *ctx, char **ret)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	do {
		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_REDACT_BYTES + 1)
				cap = MAX_REDACT_BYTES + 1;
			if (cap - len <= 1) {
				free(buf);
				return cli_failf(ctx, CA_ETOOBIG, "stdin", "standard input is larger than %u bytes",
						 MAX_REDACT_BYTES);
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, stdin);
		len += n;
	} while (n > 0);
	if (ferror(stdin)) {
		free(buf);
		return cli_failf(ctx, CA_EIO, "stdin", "reading standard input failed");
	}
	if (memchr(buf, '\0', len)) {
		free(buf);
		return cli_failf(ctx, CA_EINVAL, "stdin", "standard input contains a NUL byte");
	}
	buf[len] = '\0';
	*ret = buf;
	return CLI_EXIT_OK;
}

static int show_redact(const cli_ctx *ctx, const json_t *r)
{
	const char *text = json_string_value(json_object_get(r, "text"));
	const json_t *removed = json_object_get(r, "removed");
	const char *k;
	json_t *v;
	bool first = true;
	size_t n = text ? strlen(text) : 0;

	fputs(text ? text : "", stdout);
	if (n == 0 || text[n - 1] != '\n')
		fputc('\n', stdout);
	if (ctx->quiet)
		return CLI_EXIT_OK;
	fputs("removed:", stdout);
	json_object_foreach((json_t *)removed, k, v) {
		printf("%s %lld %s", first ? "" : ",", (long long)json_integer_value(v), k);
		first = false;
	}
	puts(first ? " nothing" : "");
	return CLI_EXIT_OK;
}

int cli_cmd_pii_redact(cli_ctx *ctx, const cli_args *a)
{
	char *input = NULL, *out = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	if (a->npos == 0 || strcmp(a->pos[0], "-") == 0) {
		rc = cli_read_stdin(ctx, &input);
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	rc = ca_pii_redact_text(ctx->agent, input ? input : a->pos[0], &out, &err);
	free(input);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_redact);
}

static void figure_row(cli_table *t, const char *name, const json_t *f)
{
	cli_table_cell(t, name);
	cli_table_cellj(t, json_object_get(f, "precision"), 3, 0);
	cli_table_cellj(t, json_object_get(f, "recall"), 3, 0);
	cli_table_cellj(t, json_object_get(f, "f1"), 3, 0);
	cli_table_cellj(t, json_object_get(f, "support"), 0, 0);
	cli_table_cellj(t, json_object_get(f, "predicted"), 0, 0);
}

static int show_eval(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"type", "precision", "recall", "F1", "support", "predicted"};
	static const char *const types[] = {"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS",
					    "STREET_ADDRESS", "PERSON"};
	const json_t *exact = json_object_get(r, "exact");
	char *rate = cli_scalar(json_object_get(r, "residual_pii_rate"), 4);
	cli_table t;
	int rc;

	printf("%lld records of %s; a gold span is found when a predicted span of its type overlaps it\n\n",
	       (long long)json_integer_value(json_object_get(r, "records")),
	       json_string_value(json_object_get(r, "file")));
	cli_table_init(&t, 6, heads, "lrrrrr");
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		figure_row(&t, types[i], json_object_get(r, types[i]));
	figure_row(&t, "overall", json_object_get(r, "overall"));
	figure_row(&t, "overall (exact spans)", json_object_get(exact, "overall"));
	if ((rc = cli_table_show(ctx, &t)) != CLI_EXIT_OK) {
		free(rate);
		return rc;
	}
	printf("\nresidual PII rate: %s (%lld of %lld personal characters left visible)\n", rate ? rate : "-",
	       (long long)json_integer_value(json_object_get(r, "visible_characters")),
	       (long long)json_integer_value(json_object_get(r, "pii_characters")));
	free(rate);
	return CLI_EXIT_OK;
}

int cli_cmd_pii_eval(cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_pii_eval, a->pos[0], show_eval);
}
