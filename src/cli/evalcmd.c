/* SPDX-License-Identifier: MIT */
/*
 * The evaluation commands of `caseagent` that score the agent on the dialogue
 * sets of ../shared/data: `eval summary` (ROUGE of the conversation summary
 * against human summaries, next to a lead baseline), `eval linking`, and
 * `eval replies` (the reply classifier on its labelled set) with `reply
 * classify` (one reply read as the follow-up agent reads it). Their handlers live here,
 * apart from commands.c, whose table points here; each calls one function of
 * the public API and prints its JSON with --json, else a small table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- issue 12: reading the customer's reply ---- */

const cli_opt cli_eval_replies_opts[] = {
	{"data", CLI_ARG_STR, "DIR", "the dev data sets the rows point into (default ../shared/data)"},
	{"part", CLI_ARG_STR, "PART", "train, test, test2, test3, test4, test5, mail (the held-back parts) or all (default)"},
	{"fit", CLI_ARG_STR, "OUT", "fit the learned layer on the train part and write it to OUT (C source)"},
	{"l2", CLI_ARG_STR, "L", "with --fit: the L2 penalty (default 0.005)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static const char *const intents[] = {"resolved", "still_problem", "question_or_info", "unclear", "automatic"};

static int show_eval_replies(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"intent", "precision", "recall", "F1", "support", "predicted"};
	const json_t *per = json_object_get(r, "per_intent"), *conf = json_object_get(r, "confusion");
	const json_t *cal = json_object_get(r, "calibration"), *v;
	cli_table t;
	int rc;
	size_t i;

	printf("%s, part %s: %lld replies (%zu not found); macro-F1 %.3f, accuracy %.3f\n\n", cli_jstr(r, "labels"),
	       cli_jstr(r, "part"), (long long)json_integer_value(json_object_get(r, "n")),
	       json_array_size(json_object_get(r, "missing")), num(r, "macro_f1"), num(r, "accuracy"));
	cli_table_init(&t, 6, heads, "lrrrrr");
	for (i = 0; i < sizeof intents / sizeof intents[0]; i++) {
		const json_t *f = json_object_get(per, intents[i]);
		cli_table_cell(&t, intents[i]);
		cli_table_cellf(&t, "%.3f", num(f, "precision"));
		cli_table_cellf(&t, "%.3f", num(f, "recall"));
		cli_table_cellf(&t, "%.3f", num(f, "f1"));
		cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(f, "support")));
		cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(f, "predicted")));
	}
	if ((rc = cli_table_show(ctx, &t)) != CLI_EXIT_OK)
		return rc;

	static const char *const cheads[] = {"labelled \\ read", "resolved", "still", "q/info", "unclear", "auto"};
	printf("\nconfusion (rows: the label, columns: the reading)\n");
	cli_table_init(&t, 6, cheads, "lrrrrr");
	for (i = 0; i < sizeof intents / sizeof intents[0]; i++) {
		const json_t *row = json_object_get(conf, intents[i]);
		cli_table_cell(&t, intents[i]);
		for (size_t k = 0; k < sizeof intents / sizeof intents[0]; k++)
			cli_table_cellf(&t, "%lld", (long long)json_integer_value(json_object_get(row, intents[k])));
	}
	if ((rc = cli_table_show(ctx, &t)) != CLI_EXIT_OK)
		return rc;
	printf("\ncalibration: ECE %.3f, log loss %.3f (best temperature x%.2f)\n", num(cal, "ece"),
	       num(cal, "log_loss"), num(cal, "best_temperature_scale"));
	const json_t *guess = json_object_get(r, "best_guess");
	if (guess)
		printf("best guess, the floors aside: macro-F1 %.3f, resolved "
		       "precision %.3f, recall %.3f\n",
		       num(guess, "macro_f1"), num(guess, "resolved_precision"), num(guess, "resolved_recall"));
	const json_t *floors = json_object_get(r, "floors");
	if (floors)
		printf("floors (chosen on these readings): resolved %.2f, still_problem %.2f, question_or_info %.2f, "
		       "automatic %.2f; temperature %.2f\n",
		       num(floors, "resolved"), num(floors, "still_problem"), num(floors, "question_or_info"),
		       num(floors, "automatic"), num(r, "temperature"));
	json_array_foreach(json_object_get(r, "missing"), i, v)
		printf("  not found: line %lld %s %s: %s\n", (long long)json_integer_value(json_object_get(v, "line")),
		       cli_jstr(v, "source"), cli_jstr(v, "ref") ? cli_jstr(v, "ref") : "?", cli_jstr(v, "reason"));
	return CLI_EXIT_OK;
}

int cli_cmd_eval_replies(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	const char *data = cli_opt_str(a, "data");

	const char *labels = a->npos ? a->pos[0] : "tests/data/followup/replies.jsonl", *fit = cli_opt_str(a, "fit");
	const char *l2 = cli_opt_str(a, "l2");
	char *end = NULL;
	double l2v = l2 ? strtod(l2, &end) : 0;

	ca_err_clear(&err);
	if (l2 && (end == l2 || *end || !(l2v > 0))) {
		ca_err_set(&err, CA_EINVAL, "l2", "not a positive number: '%s'", l2);
		return cli_fail(ctx, CA_EINVAL, &err);
	}
	int rc = fit ? ca_eval_replies_fit(ctx->agent, labels, data ? data : "../shared/data", fit, l2v, &out, &err)
		     : ca_eval_replies(ctx->agent, labels, data ? data : "../shared/data", cli_opt_str(a, "part"), &out,
				       &err);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_eval_replies);
}

const cli_opt cli_reply_classify_opts[] = {
	{"header", CLI_ARG_STR, "NAME:VALUE", "a header of the reply's e-mail (Auto-Submitted, Subject...); repeatable"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static int show_reply(const cli_ctx *ctx, const json_t *r)
{
	const json_t *scores = json_object_get(r, "scores"), *v;
	size_t i;

	(void)ctx;
	printf("%s (confidence %.2f)\nscores:", cli_jstr(r, "intent"), num(r, "confidence"));
	for (i = 0; i < sizeof intents / sizeof intents[0]; i++)
		printf(" %s %.2f", intents[i], num(scores, intents[i]));
	printf("\nevidence:%s\n", json_array_size(json_object_get(r, "evidence")) ? "" : " none");
	json_array_foreach(json_object_get(r, "evidence"), i, v) {
		const json_t *start = json_object_get(v, "start");
		if (json_is_integer(start))
			printf("  %s \"%s\" at %lld-%lld (%s)\n", cli_jstr(v, "intent"), cli_jstr(v, "text"),
			       (long long)json_integer_value(start), (long long)json_integer_value(json_object_get(v, "end")),
			       cli_jstr(v, "cue"));
		else
			printf("  %s %s (%s)\n", cli_jstr(v, "intent"), cli_jstr(v, "text"), cli_jstr(v, "cue"));
	}
	return CLI_EXIT_OK;
}

int cli_cmd_reply_classify(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *input = NULL, *out = NULL, *headers = NULL;
	int hdr = cli_opt_index(a->cmd, "header"), rc;
	json_t *h = NULL;

	ca_err_clear(&err);
	for (size_t k = 0; k < a->nvalues; k++) {
		if (a->value_opt[k] != hdr)
			continue;
		const char *colon = strchr(a->value[k], ':');
		if (!colon || colon == a->value[k]) {
			json_decref(h);
			return cli_usage_error(ctx, a->cmd, NULL, "--header needs NAME:VALUE, not '%s'", a->value[k]);
		}
		const char *val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		if ((!h && !(h = json_object())) ||
		    json_object_setn_new(h, a->value[k], (size_t)(colon - a->value[k]), json_string(val)) < 0) {
			json_decref(h);
			return cli_failf(ctx, CA_EINVAL, "header", "header '%s' is not UTF-8 text", a->value[k]);
		}
	}
	if (h && !(headers = json_dumps(h, JSON_COMPACT))) {
		json_decref(h);
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory");
	}
	json_decref(h);
	if (a->npos == 0 || strcmp(a->pos[0], "-") == 0) {
		if ((rc = cli_read_stdin(ctx, &input)) != CLI_EXIT_OK) {
			free(headers);
			return rc;
		}
	}
	rc = ca_reply_classify(ctx->agent, input ? input : a->pos[0], headers, &out, &err);
	free(input);
	free(headers);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_reply);
}
