/* SPDX-License-Identifier: MIT */
/*
 * `caseagent knowledge harvest`: the historical harvest's command line.
 * Without an action it starts a job (`--from cases [--rule NAME]`) and runs
 * it, with a progress bar on a terminal's stderr and a summary at the end;
 * `resume JOB`, `stop JOB`, `status [JOB]` and `log JOB [--outcome O]`
 * act on a persisted job. The command table in commands.c points here; the
 * work is all in the library (src/knowledge/harvest.c).
 *
 * Test hook: CA_TEST_CRASH_AFTER_RECORDS=N makes a run _exit(3) right after
 * its Nth committed record, the moment a kill -9 is most likely to find, so
 * the crash-and-resume test is deterministic. CA_TEST_PAUSE_AFTER_RECORDS=N:MS
 * makes a run sleep MS milliseconds once, after its Nth committed record, so
 * the stop-from-another-process test can land its stop mid-job however fast
 * the machine is. Both are read only here, at the edge, never by the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const cli_opt cli_harvest_opts[] = {
	{"from", CLI_ARG_STR, "SOURCE", "start a job over cases (or conversations)"},
	{"rule", CLI_ARG_STR, "NAME", "only records this knowledge rule selects (default: any rule)"},
	{"outcome", CLI_ARG_STR, "OUTCOME", "log: only created, covered, filtered, insufficient or error"},
	{"limit", CLI_ARG_UINT, "N", "log: at most N rows (default: all)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static long long ji(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

typedef struct run_progress {
	cli_progress bar;
	unsigned long long crash_after; /* 0: no test crash */
	unsigned long long pause_after; /* 0: no test pause */
	unsigned long long pause_ms;
	unsigned long long seen;
} run_progress;

static void on_record(size_t done, size_t total, void *ud)
{
	run_progress *p = ud;
	++p->seen;
	if (p->crash_after && p->seen >= p->crash_after)
		_exit(3); /* the test hook: as abrupt as kill -9, after a commit */
	if (p->pause_after && p->seen == p->pause_after) {
		struct timespec ts = { (time_t)(p->pause_ms / 1000), (long)(p->pause_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	cli_progress_fn(done, total, &p->bar);
}

static void print_job(const json_t *j)
{
	printf("harvest job %lld (%s%s%s): %s, %lld of %lld records\n", ji(j, "id"), cli_jstr(j, "source"),
	       cli_jstr(j, "rule") ? ", rule " : "", cli_jstr(j, "rule") ? cli_jstr(j, "rule") : "", cli_jstr(j, "state"), ji(j, "processed"),
	       ji(j, "total"));
	printf("  created %lld, covered %lld, filtered %lld, insufficient content %lld, errors %lld\n", ji(j, "created"),
	       ji(j, "covered"), ji(j, "filtered"), ji(j, "insufficient"), ji(j, "errors"));
	const json_t *run = json_object_get(j, "this_run");
	if (run)
		printf("  this run: %lld records in %.1f s (%.0f records/s)\n", ji(run, "processed"),
		       json_real_value(json_object_get(run, "seconds")),
		       json_real_value(json_object_get(run, "records_per_second")));
	else
		printf("  rate %.0f records/s; started %s, updated %s\n",
		       json_real_value(json_object_get(j, "records_per_second")), cli_jstr(j, "started_at"), cli_jstr(j, "updated_at"));
}

static int show_job(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	print_job(r);
	return CLI_EXIT_OK;
}

static int show_status(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const json_t *jobs = json_object_get(r, "jobs");
	if (json_array_size(jobs) == 0)
		printf("no harvest jobs\n");
	size_t i;
	json_t *j;
	json_array_foreach(jobs, i, j) print_job(j);
	return CLI_EXIT_OK;
}

static int show_log(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const json_t *log = json_object_get(r, "log");
	printf("harvest job %lld: %zu record%s%s%s\n", ji(r, "job"), json_array_size(log),
	       json_array_size(log) == 1 ? "" : "s", cli_jstr(r, "outcome") ? ", outcome " : "",
	       cli_jstr(r, "outcome") ? cli_jstr(r, "outcome") : "");
	size_t i;
	json_t *l;
	json_array_foreach(log, i, l) {
		const char *o = cli_jstr(l, "outcome");
		if (!strcmp(o, "covered"))
			printf("  %-10s covered by %s\n", cli_jstr(l, "case") ? cli_jstr(l, "case") : cli_jstr(l, "record_id"), cli_jstr(l, "article"));
		else if (!strcmp(o, "created"))
			printf("  %-10s created %s\n", cli_jstr(l, "case") ? cli_jstr(l, "case") : cli_jstr(l, "record_id"), cli_jstr(l, "article"));
		else
			printf("  %-10s %s: %s\n", cli_jstr(l, "case") ? cli_jstr(l, "case") : cli_jstr(l, "record_id"), o,
			       cli_jstr(l, "reason") ? cli_jstr(l, "reason") : "");
	}
	return CLI_EXIT_OK;
}

static int parse_job(const cli_ctx *ctx, const cli_args *a, const char *s, int64_t *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return cli_usage_error(ctx, a->cmd, NULL, "'%s' is not a harvest job number", s);
	*ret = v;
	return CLI_EXIT_OK;
}

static int run_job(struct cli_ctx *ctx, int64_t job)
{
	ca_err err;
	char *out = NULL;
	run_progress p = { 0 };
	const char *crash = getenv("CA_TEST_CRASH_AFTER_RECORDS");
	if (crash && *crash) {
		char *end;
		errno = 0;
		p.crash_after = strtoull(crash, &end, 10);
		if (errno || *end)
			return cli_failf(ctx, CA_EINVAL, "CA_TEST_CRASH_AFTER_RECORDS", "'%s' is not a number", crash);
	}
	const char *pause = getenv("CA_TEST_PAUSE_AFTER_RECORDS");
	if (pause && *pause) {
		char *end;
		errno = 0;
		p.pause_after = strtoull(pause, &end, 10);
		if (!errno && *end == ':')
			p.pause_ms = strtoull(end + 1, &end, 10);
		if (errno || *end || !p.pause_after)
			return cli_failf(ctx, CA_EINVAL, "CA_TEST_PAUSE_AFTER_RECORDS", "'%s' is not N:MS", pause);
	}
	cli_progress_init(&p.bar, ctx, "harvest");
	ca_err_clear(&err);
	int rc = ca_knowledge_harvest_run(ctx->agent, job, on_record, &p, &out, &err);
	cli_progress_done(&p.bar);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_job);
}

int cli_cmd_harvest(struct cli_ctx *ctx, const cli_args *a)
{
	ca_err err;
	char *out = NULL;
	int64_t job = 0;
	int rc;
	ca_err_clear(&err);
	if (a->npos == 0) {
		if (!cli_opt_str(a, "from"))
			return cli_usage_error(ctx, a->cmd, NULL, "start a harvest with --from cases or --from conversations (or give an action)");
		rc = ca_knowledge_harvest_start(ctx->agent, cli_opt_str(a, "from"), cli_opt_str(a, "rule"), &job, &err);
		if (rc < 0)
			return cli_fail(ctx, rc, &err);
		if (!ctx->quiet && !ctx->json)
			fprintf(stderr, "harvest job %lld started (resume it with `caseagent knowledge harvest resume %lld`)\n",
				(long long)job, (long long)job);
		return run_job(ctx, job);
	}
	const char *act = a->pos[0];
	bool needs_job = strcmp(act, "status") != 0;
	if (strcmp(act, "resume") && strcmp(act, "stop") && strcmp(act, "status") && strcmp(act, "log"))
		return cli_usage_error(ctx, a->cmd, NULL, "'%s' is not resume, stop, status or log", act);
	if (needs_job && a->npos < 2)
		return cli_usage_error(ctx, a->cmd, NULL, "'%s' needs a job number", act);
	if (a->npos >= 2 && (rc = parse_job(ctx, a, a->pos[1], &job)) != CLI_EXIT_OK)
		return rc;
	if (cli_opt_str(a, "from") || cli_opt_str(a, "rule"))
		return cli_usage_error(ctx, a->cmd, NULL, "--from and --rule start a job; '%s' takes none", act);
	if (!strcmp(act, "resume"))
		return run_job(ctx, job);
	if (!strcmp(act, "stop")) {
		rc = ca_knowledge_harvest_stop(ctx->agent, job, &out, &err);
		return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_job);
	}
	if (!strcmp(act, "status")) {
		rc = ca_knowledge_harvest_status(ctx->agent, job, &out, &err);
		return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_status);
	}
	int li = cli_opt_index(a->cmd, "limit");
	size_t limit = li >= 0 && a->set[li] ? (size_t)a->num[li] : 0;
	rc = ca_knowledge_harvest_log(ctx->agent, job, cli_opt_str(a, "outcome"), limit, &out, &err);
	return rc < 0 ? cli_fail(ctx, rc, &err) : cli_result(ctx, out, show_log);
}
