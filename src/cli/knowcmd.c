/* SPDX-License-Identifier: MIT */
/*
 * The knowledge commands: `knowledge review list|show|edit|publish|reject`,
 * `knowledge rate`, `knowledge search` and `notifications`, with their
 * option tables; the command table in commands.c points here. Publishing
 * goes through the store, which refuses any article that is not compliant.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const cli_opt cli_review_list_opts[] = {
	{"state", CLI_ARG_STR, "STATE", "only articles in STATE (draft, in_review, published, archived, discarded)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
/* `knowledge review`'s options: --state for list, --audience for publish
 * (cli_cmd_review refuses either with another action). */
const cli_opt cli_publish_opts[] = {
	{"audience", CLI_ARG_STR, "WHO", "publish: internal, or external (internal and external readers)"},
	{"state", CLI_ARG_STR, "STATE", "list: only articles in STATE (draft, in_review, published, archived, discarded)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_search_opts[] = {
	{"audience", CLI_ARG_STR, "WHO", "internal (default: every published article) or external"},
	{"limit", CLI_ARG_UINT, "N", "at most N results (default 10)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};
const cli_opt cli_notifications_opts[] = {
	{"recipient", CLI_ARG_STR, "NAME", "only NAME's notifications"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static int show_list(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const json_t *arts = json_object_get(r, "articles");
	size_t i;
	json_t *a;
	printf("%zu article%s\n", json_array_size(arts), json_array_size(arts) == 1 ? "" : "s");
	json_array_foreach(arts, i, a) {
		printf("  %-9s v%lld.%lld  %-10s %-13s %-8s %s", cli_jstr(a, "number"),
		       (long long)json_integer_value(json_object_get(a, "version_major")),
		       (long long)json_integer_value(json_object_get(a, "version_minor")), cli_jstr(a, "state"), cli_jstr(a, "compliance"),
		       cli_jstr(a, "audience"), cli_jstr(a, "title"));
		const json_t *pm = json_object_get(a, "pending_version_minor");
		if (json_is_integer(pm))
			printf("  (v%lld.%lld in review)", (long long)json_integer_value(json_object_get(a, "version_major")),
			       (long long)json_integer_value(pm));
		putchar('\n');
	}
	return CLI_EXIT_OK;
}

static int show_article(const cli_ctx *ctx, const json_t *a)
{
	(void)ctx;
	printf("%s v%lld.%lld  %s, %s, %s\n%s\n", cli_jstr(a, "number"),
	       (long long)json_integer_value(json_object_get(a, "version_major")),
	       (long long)json_integer_value(json_object_get(a, "version_minor")), cli_jstr(a, "state"), cli_jstr(a, "compliance"),
	       cli_jstr(a, "audience"), cli_jstr(a, "title"));
	size_t i;
	json_t *s;
	const json_t *tmpl = json_object_get(a, "template");
	if (cli_jstr(tmpl, "name"))
		printf("template: %s\n", cli_jstr(tmpl, "name"));
	json_array_foreach(json_object_get(a, "sections"), i, s)
		printf("\n%s:\n%s\n", cli_jstr(s, "heading"), cli_jstr(s, "text"));
	char *kw = json_dumps(json_object_get(a, "keywords"), JSON_COMPACT);
	char *pii = json_dumps(json_object_get(a, "pii_removed"), JSON_COMPACT);
	printf("\nkeywords %s; personal data removed %s\n", kw ? kw : "[]", pii ? pii : "{}");
	free(kw);
	free(pii);
	json_array_foreach(json_object_get(a, "sources"), i, s)
		printf("  source: %s %s (%s, similarity %.2f)\n", cli_jstr(s, "record_type"), cli_jstr(s, "record_id"), cli_jstr(s, "relation"),
		       json_real_value(json_object_get(s, "similarity")));
	/* Readers see the published version above; a reviewer also sees the
	 * one waiting to replace it. */
	const json_t *pv = json_object_get(a, "pending_version");
	if (pv) {
		printf("\nversion in review: v%lld.%lld, %s (readers see v%lld.%lld until it is compliant and published)\n%s\n",
		       (long long)json_integer_value(json_object_get(pv, "version_major")),
		       (long long)json_integer_value(json_object_get(pv, "version_minor")), cli_jstr(pv, "compliance"),
		       (long long)json_integer_value(json_object_get(a, "version_major")),
		       (long long)json_integer_value(json_object_get(a, "version_minor")), cli_jstr(pv, "title"));
		static const char *const parts[][2] = { { "Issue", "issue" }, { "Cause", "cause" }, { "Resolution", "resolution" } };
		for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
			if (cli_jstr(pv, parts[k][1]))
				printf("\n%s:\n%s\n", parts[k][0], cli_jstr(pv, parts[k][1]));
	}
	return CLI_EXIT_OK;
}

int cli_cmd_review(struct cli_ctx *ctx, const cli_args *args)
{
	ca_err err;
	char *out = NULL;
	int rc;
	/* `knowledge review ACTION [ARTICLE] [...]`, and `knowledge rate ARTICLE N`:
	 * shift the action off so pos[0] is the article. */
	cli_args shifted = *args;
	const cli_args *a = &shifted;
	const char *sub;
	if (!strcmp(args->cmd->sub, "rate")) {
		sub = "rate";
	} else {
		sub = args->pos[0];
		shifted.pos = args->pos + 1;
		shifted.npos = args->npos - 1;
		static const char *const acts[] = { "list", "show", "edit", "publish", "reject" };
		bool ok = false;
		for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]) && !ok; i++)
			ok = !strcmp(sub, acts[i]);
		if (!ok)
			return cli_usage_error(ctx, args->cmd, NULL, "'%s' is not list, show, edit, publish or reject", sub);
		if (strcmp(sub, "list") && a->npos < 1)
			return cli_usage_error(ctx, args->cmd, NULL, "'%s' needs an article (KA-00001)", sub);
		if (!strcmp(sub, "edit") && a->npos < 2)
			return cli_usage_error(ctx, args->cmd, NULL, "edit needs FIELD=VALUE after the article");
		if (strcmp(sub, "list") && cli_opt_str(a, "state"))
			return cli_usage_error(ctx, args->cmd, NULL, "--state goes with list, not %s", sub);
		if (strcmp(sub, "publish") && cli_opt_str(a, "audience"))
			return cli_usage_error(ctx, args->cmd, NULL, "--audience goes with publish, not %s", sub);
	}

	ca_err_clear(&err);
	if (!strcmp(sub, "list")) {
		rc = ca_knowledge_list(ctx->agent, cli_opt_str(a, "state"), &out, &err);
		return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_list);
	}
	if (!strcmp(sub, "show")) {
		return cli_call_ref(ctx, ca_knowledge_show, a->pos[0], show_article);
	}
	json_t *ch = json_object();
	if (!strcmp(sub, "publish")) {
		json_object_set_new(ch, "state", json_string("published"));
		if (cli_opt_str(a, "audience"))
			json_object_set_new(ch, "audience", json_string(cli_opt_str(a, "audience")));
	} else if (!strcmp(sub, "reject")) {
		json_object_set_new(ch, "state", json_string("discarded"));
	} else if (!strcmp(sub, "rate")) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(a->pos[1], &end, 10);
		if (errno || *end || v < 1 || v > 5) {
			json_decref(ch);
			return cli_usage_error(ctx, a->cmd, NULL, "a rating is a whole number from 1 to 5, not '%s'", a->pos[1]);
		}
		json_object_set_new(ch, "rating", json_integer((json_int_t)v));
	} else { /* edit: FIELD=VALUE... */
		for (unsigned i = 1; i < a->npos; i++) {
			const char *eq = strchr(a->pos[i], '=');
			if (!eq || eq == a->pos[i]) {
				json_decref(ch);
				return cli_usage_error(ctx, a->cmd, NULL, "'%s' is not FIELD=VALUE", a->pos[i]);
			}
			char key[64];
			size_t kl = (size_t)(eq - a->pos[i]);
			if (kl >= sizeof(key)) {
				json_decref(ch);
				return cli_usage_error(ctx, a->cmd, NULL, "no field is called '%.*s'", (int)kl, a->pos[i]);
			}
			memcpy(key, a->pos[i], kl);
			key[kl] = '\0';
			json_object_set_new(ch, key, json_string(eq + 1));
		}
	}
	char *changes = json_dumps(ch, JSON_COMPACT);
	json_decref(ch);
	rc = changes ? ca_knowledge_change(ctx->agent, a->pos[0], changes, &out, &err) : -1;
	free(changes);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_article);
}

static int show_search(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	size_t i;
	json_t *h;
	const json_t *res = json_object_get(r, "results");
	printf("%zu result%s for \"%s\" (%s)\n", json_array_size(res), json_array_size(res) == 1 ? "" : "s",
	       cli_jstr(r, "query"), cli_jstr(r, "audience"));
	json_array_foreach(res, i, h)
		printf("  %.3f  %-9s %s\n", json_real_value(json_object_get(h, "score")), cli_jstr(h, "article"), cli_jstr(h, "title"));
	return CLI_EXIT_OK;
}

int cli_cmd_search(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int i = cli_opt_index(a->cmd, "limit");
	size_t limit = i >= 0 && a->set[i] ? (size_t)a->num[i] : 10;

	ca_err_clear(&err);
	int rc = ca_knowledge_search(ctx->agent, a->pos[0], cli_opt_str(a, "audience"), limit, &out, &err);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_search);
}

static int show_notifications(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	size_t i;
	json_t *n;
	const json_t *list = json_object_get(r, "notifications");
	printf("%zu notification%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
	json_array_foreach(list, i, n)
		printf("  %s  to %-12s %-22s %s\n", cli_jstr(n, "created_at"), cli_jstr(n, "recipient"), cli_jstr(n, "kind"), cli_jstr(n, "message"));
	return CLI_EXIT_OK;
}

int cli_cmd_notifications(struct cli_ctx *ctx, const cli_args *a)
{
	return cli_call_ref(ctx, ca_notifications, cli_opt_str(a, "recipient"), show_notifications);
}

const cli_opt cli_insights_opts[] = {
	{"csv", CLI_ARG_NONE, NULL, "print the figures as CSV (metric,value) instead of a table"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static int show_insights(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const json_t *ar = json_object_get(r, "articles");
	const char *k;
	json_t *v;
	long long total = 0;
	json_object_foreach((json_t *)json_object_get(ar, "by_state"), k, v)
		total += (long long)json_integer_value(v);
	printf("articles             %lld (%lld published)\n", total,
	       (long long)json_integer_value(json_object_get(ar, "published")));
	json_object_foreach((json_t *)json_object_get(ar, "by_state"), k, v)
		printf("  state %-14s %lld\n", k, (long long)json_integer_value(v));
	json_object_foreach((json_t *)json_object_get(ar, "by_source"), k, v)
		printf("  source %-13s %lld\n", k, (long long)json_integer_value(v));
	json_t *avg = json_object_get(ar, "average_rating");
	if (json_is_number(avg))
		printf("average rating       %.2f (%lld rated)\n", json_number_value(avg),
		       (long long)json_integer_value(json_object_get(ar, "rated")));
	else
		printf("average rating       - (none rated)\n");
	size_t i;
	json_t *t;
	printf("to revise (rating <= 2): %zu\n", json_array_size(json_object_get(ar, "to_revise")));
	json_array_foreach(json_object_get(ar, "to_revise"), i, t)
		printf("  %-9s %.2f  %s\n", cli_jstr(t, "number"), json_number_value(json_object_get(t, "average_rating")),
		       cli_jstr(t, "title"));
	json_t *cov = json_object_get(r, "coverage");
	printf("coverage             %s%.3f (%lld of %lld resolved cases, %lld of %lld closed conversations linked to an "
	       "article)\n",
	       json_is_number(cov) ? "" : "- ", json_is_number(cov) ? json_number_value(cov) : 0.0,
	       (long long)json_integer_value(json_object_get(r, "resolved_cases_linked")),
	       (long long)json_integer_value(json_object_get(r, "resolved_cases")),
	       (long long)json_integer_value(json_object_get(r, "closed_conversations_linked")),
	       (long long)json_integer_value(json_object_get(r, "closed_conversations")));
	printf("harvest jobs         %zu\n", json_array_size(json_object_get(r, "harvest_jobs")));
	json_array_foreach(json_object_get(r, "harvest_jobs"), i, t)
		printf("  job %lld %-8s processed %lld: created %lld, covered %lld, filtered %lld, insufficient %lld, errors %lld\n",
		       (long long)json_integer_value(json_object_get(t, "id")), cli_jstr(t, "state"),
		       (long long)json_integer_value(json_object_get(t, "processed")),
		       (long long)json_integer_value(json_object_get(t, "created")),
		       (long long)json_integer_value(json_object_get(t, "covered")),
		       (long long)json_integer_value(json_object_get(t, "filtered")),
		       (long long)json_integer_value(json_object_get(t, "insufficient")),
		       (long long)json_integer_value(json_object_get(t, "errors")));
	return CLI_EXIT_OK;
}

/* metric,value rows (RFC 4180; no value needs quoting: all are numbers or
 * fixed words). */
static int show_insights_csv(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const json_t *ar = json_object_get(r, "articles");
	const char *k;
	json_t *v;
	puts("metric,value");
	long long total = 0;
	json_object_foreach((json_t *)json_object_get(ar, "by_state"), k, v)
		total += (long long)json_integer_value(v);
	printf("articles,%lld\n", total);
	printf("articles_published,%lld\n", (long long)json_integer_value(json_object_get(ar, "published")));
	json_object_foreach((json_t *)json_object_get(ar, "by_state"), k, v)
		printf("articles_state_%s,%lld\n", k, (long long)json_integer_value(v));
	json_object_foreach((json_t *)json_object_get(ar, "by_source"), k, v)
		printf("articles_source_%s,%lld\n", k, (long long)json_integer_value(v));
	json_t *avg = json_object_get(ar, "average_rating");
	if (json_is_number(avg))
		printf("average_rating,%.4f\n", json_number_value(avg));
	printf("articles_to_revise,%zu\n", json_array_size(json_object_get(ar, "to_revise")));
	json_t *cov = json_object_get(r, "coverage");
	if (json_is_number(cov))
		printf("coverage,%.4f\n", json_number_value(cov));
	printf("resolved_cases,%lld\n", (long long)json_integer_value(json_object_get(r, "resolved_cases")));
	printf("resolved_cases_linked,%lld\n", (long long)json_integer_value(json_object_get(r, "resolved_cases_linked")));
	printf("closed_conversations,%lld\n", (long long)json_integer_value(json_object_get(r, "closed_conversations")));
	printf("closed_conversations_linked,%lld\n",
	       (long long)json_integer_value(json_object_get(r, "closed_conversations_linked")));
	printf("harvest_jobs,%zu\n", json_array_size(json_object_get(r, "harvest_jobs")));
	return CLI_EXIT_OK;
}

int cli_cmd_insights(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int i = cli_opt_index(a->cmd, "csv");

	ca_err_clear(&err);
	int rc = ca_knowledge_insights(ctx->agent, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, i >= 0 && a->set[i] ? show_insights_csv : show_insights);
}

const cli_opt cli_dedup_opts[] = {
	{"threshold", CLI_ARG_STR, "X", "coverage threshold, 0 to 1 (default: knowledge.coverage_threshold)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static int show_dedup(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	printf("%lld threads: %lld in the knowledge base, %lld left out; threshold %.2f\n",
	       (long long)json_integer_value(json_object_get(r, "threads")),
	       (long long)json_integer_value(json_object_get(r, "threads_in_kb")),
	       (long long)json_integer_value(json_object_get(r, "threads_left_out")),
	       json_number_value(json_object_get(r, "threshold")));
	printf("  covered_top1            %.3f  (paraphrase finds its own thread's article first)\n",
	       json_number_value(json_object_get(r, "covered_top1")));
	printf("  covered_at_threshold    %.3f\n", json_number_value(json_object_get(r, "covered_at_threshold")));
	printf("  one_article_per_thread  %.3f  (%lld new articles)\n",
	       json_number_value(json_object_get(r, "one_article_per_thread")),
	       (long long)json_integer_value(json_object_get(r, "new_articles")));
	size_t i;
	json_t *s;
	puts("  threshold  covered@th  one/thread  new");
	json_array_foreach(json_object_get(r, "sweep"), i, s)
		printf("  %9.2f  %10.3f  %10.3f  %3lld\n", json_number_value(json_object_get(s, "threshold")),
		       json_number_value(json_object_get(s, "covered_at_threshold")),
		       json_number_value(json_object_get(s, "one_article_per_thread")),
		       (long long)json_integer_value(json_object_get(s, "new_articles")));
	return CLI_EXIT_OK;
}

/* --threshold X of the evaluations: above 0, at most 1; 0 when not given
 * (the settings' knowledge.coverage_threshold). */
static int threshold_opt(const cli_ctx *ctx, const cli_args *a, double *ret)
{
	const char *t = cli_opt_str(a, "threshold");
	*ret = 0;
	if (!t)
		return 0;
	char *end;
	errno = 0;
	double th = strtod(t, &end);
	if (errno || *end || th <= 0 || th > 1)
		return cli_usage_error(ctx, a->cmd, NULL, "--threshold takes a number above 0, at most 1, not '%s'", t);
	*ret = th;
	return 0;
}

int cli_cmd_eval_dedup(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	double th;
	int bad = threshold_opt(ctx, a, &th);

	if (bad)
		return bad;
	ca_err_clear(&err);
	int rc = ca_eval_dedup(ctx->agent, a->pos[0], th, &out, &err);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_dedup);
}

const cli_opt cli_gaps_opts[] = {
	{"part", CLI_ARG_STR, "PART", "all (default), tune or test: the issues at even or odd positions"},
	{"threshold", CLI_ARG_STR, "X", "coverage threshold, 0 to 1 (default: knowledge.coverage_threshold)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static int show_gaps(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const json_t *b = json_object_get(r, "bcubed"), *base = json_object_get(r, "baseline_one_per_record");
	printf("%s (%s, part %s): %lld records, %lld issues; threshold %.2f\n", cli_jstr(r, "dataset"), cli_jstr(r, "format"),
	       cli_jstr(r, "part"), (long long)json_integer_value(json_object_get(r, "records")),
	       (long long)json_integer_value(json_object_get(r, "issues")), json_number_value(json_object_get(r, "threshold")));
	printf("  gap detection         %5lld articles  B-cubed precision %.3f  recall %.3f  F1 %.3f\n",
	       (long long)json_integer_value(json_object_get(r, "articles")), json_number_value(json_object_get(b, "precision")),
	       json_number_value(json_object_get(b, "recall")), json_number_value(json_object_get(b, "f1")));
	printf("  one per conversation  %5lld articles  B-cubed precision %.3f  recall %.3f  F1 %.3f\n",
	       (long long)json_integer_value(json_object_get(base, "articles")),
	       json_number_value(json_object_get(base, "precision")), json_number_value(json_object_get(base, "recall")),
	       json_number_value(json_object_get(base, "f1")));
	printf("  covered %lld, insufficient %lld; covered across issues %lld, new steps proposed across issues %lld\n",
	       (long long)json_integer_value(json_object_get(r, "covered")),
	       (long long)json_integer_value(json_object_get(r, "insufficient")),
	       (long long)json_integer_value(json_object_get(r, "covered_across_issues")),
	       (long long)json_integer_value(json_object_get(r, "new_steps_across_issues")));
	return CLI_EXIT_OK;
}

int cli_cmd_eval_gaps(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	double th;
	int bad = threshold_opt(ctx, a, &th);

	if (bad)
		return bad;
	ca_err_clear(&err);
	int rc = ca_eval_gaps(ctx->agent, a->pos[0], cli_opt_str(a, "part"), th, &out, &err);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_gaps);
}
