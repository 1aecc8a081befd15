/* SPDX-License-Identifier: MIT */
/*
 * The knowledge agent over history (issue 4, item 8): a persisted harvest
 * job walks every resolved or closed case, or every closed conversation
 * (ORDER BY id, at most CA_HARVEST_MAX_RECORDS per job) in batches and runs
 * the same per-record decision as the real-time trigger
 * (ca_knowledge_process_with). Each record's outcome, its harvest_log row,
 * the job's counters and its cursor (last_case_id, or last_record for
 * conversations) are one savepoint, all or nothing, and a batch of records
 * is one transaction, so a process killed at any instant leaves every record
 * either fully done and logged or not touched (its whole batch), and a
 * resumed job continues after the cursor: no record is lost or repeated, and
 * no issue is drafted twice. One commit a batch, not one a record, is what
 * keeps 100,000 records within a minute: SQLite writes each page a
 * transaction touches once into its write-ahead log. The job row's state doubles as
 * the stop flag: another process sets it to "stopped" and the running loop
 * sees it between batches and returns cleanly. A caller in the same process
 * (serve's background worker, on SIGTERM) cancels through a flag instead,
 * checked at the same point, which leaves the job "running" to continue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include "knowledge.h"

/* Records per batch: the stop flag is checked this often. A batch is one
 * transaction, or more when it would hold the write lock (and keep the live
 * agent's writes waiting) longer than HARVEST_TX_SECONDS. */
#define HARVEST_BATCH 200
#define HARVEST_TX_SECONDS 0.25
/* Full-text index pages merged a batch: the drafts a batch writes each add
 * a segment that every later gap-detection query would read. */
#define HARVEST_TIDY_PAGES 64

typedef struct harvest_rec {
	int64_t job;
	bool conversations;
} harvest_rec;

/* The log's word for a knowledge outcome. */
static const char *log_outcome(const char *outcome)
{
	if (!outcome)
		return "error";
	if (!strcmp(outcome, "drafted") || !strcmp(outcome, "published"))
		return "created";
	if (!strcmp(outcome, "covered"))
		return "covered";
	if (!strcmp(outcome, "filtered"))
		return "filtered";
	if (!strcmp(outcome, "insufficient content"))
		return "insufficient";
	return "error";
}

/* The cursor after a record: a case id, or a conversation id. */
static int64_t case_cursor(const char *type, const char *id)
{
	int64_t v = 0;
	return !strcmp(type, "case") && ca_parse_i64(id, &v) == 0 ? v : 0;
}

/* Runs inside the record's own transaction (see knowledge.c). */
static int log_in_tx(ca_agent *a, const char *type, const char *id, const json_t *outcome, void *ud, ca_err *err)
{
	harvest_rec *h = ud;
	return ca_store_harvest_record(a->store, h->job, type, id, case_cursor(type, id), h->conversations ? id : NULL,
				       log_outcome(ca_json_str(outcome, "outcome")), ca_json_str(outcome, "article"),
				       ca_json_str(outcome, "reason"), err);
}

/* An error for one record: logged in a transaction of its own (the
 * record's own one rolled back, so nothing else of it was written). */
static int log_error(ca_agent *a, const harvest_rec *h, const char *type, const char *id, const ca_err *why,
		     ca_err *err)
{
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	r = ca_store_harvest_record(a->store, h->job, type, id, case_cursor(type, id), h->conversations ? id : NULL,
				    "error", NULL, why->message[0] ? why->message : "error", err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_store_rollback(a->store);
	return r;
}

/* Undo a batch's transaction, and the articles it indexed. */
static void undo_batch(ca_agent *a)
{
	ca_store_rollback(a->store);
	ca_knowledge_index_drop(a);
}

/* Commit a batch's transaction, the full-text index tidied first; on
 * failure the batch is undone. */
static int commit_batch(ca_agent *a, ca_err *err)
{
	int r = ca_store_article_index_tidy(a->store, HARVEST_TIDY_PAGES, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		undo_batch(a); /* after a failed commit, the store's part is done already */
	/* Let go of the write lock for a moment: a writer waiting for it (the
	 * live agent in another process) tries every millisecond (sqlite.c). */
	struct timespec pause = { 0, 2000000L };
	while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
		;
	return r;
}

/* The next batch of record ids after the cursor, as text. */
static int next_batch(ca_agent *a, bool conversations, int64_t case_cursor_v, const char *conv_cursor, size_t want,
		      ca_strv *out, ca_err *err)
{
	if (conversations)
		return ca_store_closed_conversations(a->store, conv_cursor, want, out, err);
	int64_t *ids = NULL;
	size_t n = 0;
	int r = ca_store_resolved_cases(a->store, case_cursor_v, want, &ids, &n, err);
	for (size_t i = 0; !r && i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "%lld", (long long)ids[i]);
		r = ca_strv_push(out, id);
	}
	free(ids);
	return r;
}

static int64_t iso_epoch(const char *iso)
{
	struct tm tm = { 0 };
	if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			   &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* A job with "records_per_second" over its whole life (start to last
 * update, pauses included). Takes `job`. */
static json_t *with_rate(json_t *job)
{
	int64_t from = iso_epoch(ca_json_str(job, "started_at"));
	int64_t to = iso_epoch(ca_json_str(job, "finished_at") ? ca_json_str(job, "finished_at")
							       : ca_json_str(job, "updated_at"));
	double secs = from && to > from ? (double)(to - from) : 0;
	json_int_t done = json_integer_value(json_object_get(job, "processed"));
	json_object_set_new(job, "records_per_second", json_real(secs > 0 ? (double)done / secs : 0));
	return job;
}

int ca_knowledge_harvest_start(ca_agent *a, const char *source, const char *rule, int64_t *ret_job, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	bool conversations = source && !strcmp(source, "conversations");
	if (!source || (strcmp(source, "cases") && !conversations))
		return ca_err_set(err, CA_EINVAL, "source", "harvest from cases or conversations, not '%s'",
				  source ? source : "");
	const ca_knowledge_settings *ks = &a->settings->knowledge;
	if (rule) {
		bool known = false;
		for (size_t i = 0; i < ks->n_rules && !known; i++)
			known = !strcmp(ks->rule_names[i], rule);
		if (!known)
			return ca_err_set(err, CA_EINVAL, "rule", "no knowledge rule is called '%s' (see settings \"knowledge\")",
					  rule);
	}
	int64_t n = 0;
	if ((r = conversations ? ca_store_closed_conversation_count(a->store, &n, err)
			       : ca_store_resolved_case_count(a->store, &n, err)))
		return r;
	if (n > CA_HARVEST_MAX_RECORDS)
		n = CA_HARVEST_MAX_RECORDS;
	return ca_store_harvest_create(a->store, source, rule, n, ret_job, err);
}

int ca_knowledge_harvest_run(ca_agent *a, int64_t job_id, ca_progress_fn progress, void *ud, char **ret_json,
			     ca_err *err)
{
	return ca_knowledge_harvest_run_cancel(a, job_id, NULL, progress, ud, ret_json, err);
}

int ca_knowledge_harvest_run_cancel(ca_agent *a, int64_t job_id, const volatile int *cancel, ca_progress_fn progress,
				    void *ud, char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	json_t *job = NULL;
	if (!r)
		r = ca_store_harvest_get(a->store, job_id, &job, err);
	if (r)
		return r;
	const char *state = ca_json_str(job, "state");
	if (!strcmp(state, "done"))
		return ca_result(with_rate(job), ret_json);
	/* Running with nobody running it is a job whose process died: resume. */
	if (strcmp(state, "running") && (r = ca_store_harvest_set_state(a->store, job_id, "running", NULL, NULL, err))) {
		json_decref(job);
		return r;
	}
	char *rule = ca_json_str(job, "rule") ? strdup(ca_json_str(job, "rule")) : NULL;
	char *conv_cursor = ca_json_str(job, "last_record") ? strdup(ca_json_str(job, "last_record")) : NULL;
	bool oom = (ca_json_str(job, "rule") && !rule) || (ca_json_str(job, "last_record") && !conv_cursor);
	harvest_rec h = { .job = job_id, .conversations = !strcmp(ca_json_str(job, "source"), "conversations") };
	const char *type = h.conversations ? "conversation" : "case";
	int64_t total = json_integer_value(json_object_get(job, "total"));
	int64_t processed = json_integer_value(json_object_get(job, "processed"));
	int64_t cursor = json_integer_value(json_object_get(job, "last_case_id"));
	int64_t start_processed = processed;
	json_decref(job);
	job = NULL;
	if (oom) {
		free(rule);
		free(conv_cursor);
		return ca_err_set(err, CA_ENOMEM, NULL, "harvest: out of memory");
	}
	double t0 = ca_time_mono();
	bool stopped = false, cancelled = false;
	while (!r && processed < total && !stopped && !(cancelled = cancel && *cancel)) {
		ca_strv ids = { 0 };
		int64_t want = total - processed < HARVEST_BATCH ? total - processed : HARVEST_BATCH;
		if ((r = next_batch(a, h.conversations, cursor, conv_cursor, (size_t)want, &ids, err))) {
			ca_strv_done(&ids);
			break;
		}
		if (ids.n == 0) {
			ca_strv_done(&ids);
			break;
		}
		bool open = false;
		double tx_t0 = 0;
		for (size_t i = 0; i < ids.n && !r; i++) {
			if (!open) {
				if ((r = ca_store_begin(a->store, err)))
					break;
				open = true;
				tx_t0 = ca_time_mono();
			}
			json_t *out = NULL;
			ca_err why;
			ca_err_clear(&why);
			r = ca_knowledge_process_with(a, type, ids.v[i], false, rule, log_in_tx, &h, &out, &why);
			json_decref(out);
			if (r)
				r = log_error(a, &h, type, ids.v[i], &why, err);
			if (r)
				break;
			if (h.conversations) {
				free(conv_cursor);
				if (!(conv_cursor = strdup(ids.v[i])))
					r = ca_err_set(err, CA_ENOMEM, NULL, "harvest: out of memory");
			} else {
				cursor = case_cursor(type, ids.v[i]);
			}
			processed++;
			if (progress)
				progress((size_t)processed, (size_t)total, ud);
			if (!r && (i + 1 == ids.n || ca_time_mono() - tx_t0 > HARVEST_TX_SECONDS)) {
				open = false;
				r = commit_batch(a, err);
			}
		}
		ca_strv_done(&ids);
		if (open) /* failed inside the transaction: all of it is undone */
			undo_batch(a);
		/* The stop flag, set by `harvest stop` from any process. */
		json_t *now = NULL;
		if (!r && !(r = ca_store_harvest_get(a->store, job_id, &now, err)))
			stopped = !strcmp(ca_json_str(now, "state"), "stopped");
		json_decref(now);
	}
	free(conv_cursor);
	double secs = ca_time_mono() - t0;
	free(rule);
	if (r) {
		ca_err ignored;
		ca_err_clear(&ignored);
		/* The failure is the news; the state is a best effort. */
		(void)ca_store_harvest_set_state(a->store, job_id, "failed", NULL, NULL, &ignored);
		return r;
	}
	/* Cancelled by its caller (serve shutting down), the job stays
	 * "running", as a job whose process died does, and the next run
	 * continues after its last batch. */
	if (!stopped && !cancelled && (r = ca_store_harvest_set_state(a->store, job_id, "done", "running", NULL, err)))
		return r;
	if ((r = ca_store_harvest_get(a->store, job_id, &job, err)))
		return r;
	int64_t this_run = processed - start_processed;
	json_object_set_new(job, "this_run",
			    json_pack("{s:I, s:f, s:f}", "processed", (json_int_t)this_run, "seconds", secs,
				      "records_per_second", secs > 0 ? (double)this_run / secs : 0.0));
	if (cancelled)
		json_object_set_new(job, "cancelled", json_true());
	return ca_result(with_rate(job), ret_json);
}

int ca_knowledge_harvest_stop(ca_agent *a, int64_t job_id, char **ret_json, ca_err *err)
{
	json_t *job = NULL;
	int r = ca_store_harvest_get(a->store, job_id, &job, err);
	if (r)
		return r;
	const char *state = ca_json_str(job, "state");
	if (strcmp(state, "running") && strcmp(state, "stopped")) {
		r = ca_err_set(err, CA_ESTATE, "job", "harvest job %lld is %s; only a running job can be stopped",
			       (long long)job_id, state);
		json_decref(job);
		return r;
	}
	json_decref(job);
	if ((r = ca_store_harvest_set_state(a->store, job_id, "stopped", "running", NULL, err)) ||
	    (r = ca_store_harvest_get(a->store, job_id, &job, err)))
		return r;
	return ca_result(with_rate(job), ret_json);
}

int ca_knowledge_harvest_status(ca_agent *a, int64_t job_id, char **ret_json, ca_err *err)
{
	json_t *v = NULL;
	int r;
	if (job_id > 0) {
		if ((r = ca_store_harvest_get(a->store, job_id, &v, err)))
			return r;
		return ca_result(json_pack("{s:[o]}", "jobs", with_rate(v)), ret_json);
	}
	if ((r = ca_store_harvest_list(a->store, &v, err)))
		return r;
	size_t i;
	json_t *j;
	json_array_foreach(v, i, j) with_rate(j);
	return ca_result(json_pack("{s:o}", "jobs", v), ret_json);
}

int ca_knowledge_harvest_log(ca_agent *a, int64_t job_id, const char *outcome, size_t limit, char **ret_json,
			     ca_err *err)
{
	static const char *const outcomes[] = { "created", "covered", "filtered", "insufficient", "error" };
	bool ok = !outcome;
	for (size_t i = 0; i < CA_ARRAY_SIZE(outcomes) && !ok; i++)
		ok = !strcmp(outcome, outcomes[i]);
	if (!ok)
		return ca_err_set(err, CA_EINVAL, "outcome",
				  "'%s' is not an outcome: created, covered, filtered, insufficient or error", outcome);
	json_t *job = NULL, *log = NULL;
	int r = ca_store_harvest_get(a->store, job_id, &job, err);
	json_decref(job);
	if (!r)
		r = ca_store_harvest_log(a->store, job_id, outcome, limit, &log, err);
	if (r)
		return r;
	size_t i;
	json_t *row;
	json_array_foreach(log, i, row) {
		int64_t id;
		if (!strcmp(ca_json_str(row, "record_type"), "case") && ca_parse_i64(ca_json_str(row, "record_id"), &id) == 0) {
			char ticket[32];
			snprintf(ticket, sizeof(ticket), "CAS-%05lld", (long long)id);
			json_object_set_new(row, "case", json_string(ticket));
		}
	}
	return ca_result(json_pack("{s:I, s:s?, s:o}", "job", (json_int_t)job_id, "outcome", outcome, "log", log), ret_json);
}
