/* SPDX-License-Identifier: MIT */
/*
 * The evaluation commands of `caseagent` that score the agent on the dialogue
 * sets of ../shared/data: `eval summary` (ROUGE of the conversation summary
 * against human summaries, next to a lead baseline). Their handlers live here,
 * apart from commands.c, whose table points here; each calls one function of
 * the public API and prints its JSON with --json, else a small table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static int show_eval_summary(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"", "ROUGE-1", "ROUGE-2", "ROUGE-L", "words"};
	static const char *const keys[] = {"rouge1", "rouge2", "rougeL"};
	const json_t *lead = json_object_get(r, "lead");
	const json_t *lead_prose = json_object_get(r, "lead_prose");
	const json_t *how = json_object_get(r, "method");
	cli_table t;
	int rc;

	printf("%s: %lld dialogues (%lld skipped), %lld human summaries; ROUGE F1 x 100, best reference per measure\n",
	       json_string_value(json_object_get(r, "dataset")), (long long)json_integer_value(json_object_get(r, "dialogues")),
	       (long long)json_integer_value(json_object_get(r, "skipped")),
	       (long long)json_integer_value(json_object_get(r, "references")));
	cli_table_init(&t, 5, heads, "lrrrr");
	cli_table_cell(&t, "agent");
	for (size_t i = 0; i < 3; i++)
		cli_table_cellf(&t, "%.1f", 100 * num(r, keys[i]));
	cli_table_cellf(&t, "%.1f", num(r, "summary_words_avg"));
	cli_table_cell(&t, "lead");
	for (size_t i = 0; i < 3; i++)
		cli_table_cellf(&t, "%.1f", 100 * num(lead, keys[i]));
	cli_table_cellf(&t, "%.1f", num(r, "lead_words_avg"));
	cli_table_cell(&t, "lead as prose");
	for (size_t i = 0; i < 3; i++)
		cli_table_cellf(&t, "%.1f", 100 * num(lead_prose, keys[i]));
	cli_table_cellf(&t, "%.1f", num(r, "lead_prose_words_avg"));
	if ((rc = cli_table_show(ctx, &t)) != CLI_EXIT_OK)
		return rc;
	printf("agent: %s\nlead: %s\nlead as prose: %s\n", json_string_value(json_object_get(how, "summary")),
	       json_string_value(json_object_get(how, "lead")), json_string_value(json_object_get(how, "lead_prose")));
	return CLI_EXIT_OK;
}

int cli_cmd_eval_summary(struct cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_eval_summary, a->pos[0], show_eval_summary);
}

static int show_eval_linking(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"", "mentions", "naming one", "linked", "correct", "precision", "recall"};
	cli_table t;
	int rc;

	printf("%s: %lld mentions over %lld products and %lld subjects; linked at confidence >= %.2f\n",
	       json_string_value(json_object_get(r, "dataset")), (long long)json_integer_value(json_object_get(r, "mentions")),
	       (long long)json_integer_value(json_object_get(r, "products")),
	       (long long)json_integer_value(json_object_get(r, "subjects")), num(r, "threshold"));
	cli_table_init(&t, 7, heads, "lrrrrrr");
	const char *k;
	json_t *v;
	json_t *rows = json_pack("{s:O}", "all", (json_t *)r);
	json_object_update(rows, json_object_get(r, "fields"));
	json_object_update(rows, json_object_get(r, "kinds"));
	json_object_foreach(rows, k, v) {
		cli_table_cell(&t, k);
		cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(v, "mentions")));
		cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(v, "naming_a_record")));
		cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(v, "linked")));
		cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(v, "correct")));
		cli_table_cellf(&t, "%.3f", num(v, "precision"));
		cli_table_cellf(&t, "%.3f", num(v, "recall"));
	}
	json_decref(rows);
	if ((rc = cli_table_show(ctx, &t)) != CLI_EXIT_OK)
		return rc;
	size_t i;
	json_array_foreach(json_object_get(r, "errors"), i, v) {
		const char *best = json_string_value(json_object_get(v, "best"));
		printf("  line %lld %s: expected %s, got %s (best %s %.2f): %s\n",
		       (long long)json_integer_value(json_object_get(v, "line")),
		       json_string_value(json_object_get(v, "field")),
		       json_is_string(json_object_get(v, "expect")) ? json_string_value(json_object_get(v, "expect")) : "nothing",
		       json_is_string(json_object_get(v, "got")) ? json_string_value(json_object_get(v, "got")) : "nothing",
		       best ? best : "-", num(v, "confidence"), json_string_value(json_object_get(v, "text")));
	}
	return CLI_EXIT_OK;
}

int cli_cmd_eval_linking(struct cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_eval_linking, a->pos[0], show_eval_linking);
}
