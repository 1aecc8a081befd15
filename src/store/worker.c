/* SPDX-License-Identifier: MIT */
/*
 * The state of the background e-mail work (migration 15): one row per
 * worker ("imap" polling, "smtp" sending) with its last run, last success,
 * last error and last result's counts, written at each run, so every serve
 * process on the database reports the same; and the outbox counted by
 * status. Nothing secret is ever given to it: the callers pass the server's
 * URL (which holds no password) and their own error text.
 */
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

static const char *const workers[] = { "imap", "smtp" };

int ca_store_worker_record(ca_store *s, const char *worker, const char *url, const char *error, const json_t *result,
			   ca_err *err)
{
	if (!one_of(worker, workers, CA_ARRAY_SIZE(workers)))
		return ca_err_set(err, CA_EINVAL, "worker", "worker state: '%s' is not imap or smtp", worker ? worker : "");
	int r = check_str(url, false, "worker state", "url", err);
	if (!r)
		r = check_str(error, false, "worker state", "error", err);
	if (r)
		return r;
	char *res = result ? dump(result) : NULL;
	if (result && !res)
		return enomem(err, "worker state");
	char at[21];
	now_iso(at);
	/* A failed run keeps the last success's time and result. */
	ca_sql_param p[] = { ca_sql_text(worker), ca_sql_text(url), ca_sql_text(at), ca_sql_text(error ? NULL : at),
			     ca_sql_text(error), ca_sql_text(res) };
	r = db_exec(s, "worker state",
		    "INSERT INTO worker_state (worker, url, runs, last_run_at, last_ok_at, last_error, last_result) "
		    "VALUES (?, ?, 1, ?, ?, ?, ?) ON CONFLICT (worker) DO UPDATE SET url = excluded.url, "
		    "runs = worker_state.runs + 1, last_run_at = excluded.last_run_at, "
		    "last_ok_at = COALESCE(excluded.last_ok_at, worker_state.last_ok_at), last_error = excluded.last_error, "
		    "last_result = COALESCE(excluded.last_result, worker_state.last_result)",
		    p, CA_ARRAY_SIZE(p), err);
	free(res);
	return r;
}

int ca_store_worker_get(ca_store *s, const char *worker, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(worker) };
	json_t *rows = NULL;
	int r = db_rows(s, "worker state",
			"SELECT url, runs, last_run_at, last_ok_at, last_error, last_result FROM worker_state WHERE worker = ?",
			p, 1, &rows, err);
	if (!r)
		r = parse_col_all(rows, "last_result", "worker state", err);
	if (!r) {
		json_t *row = json_array_get(rows, 0);
		*ret = row ? json_incref(row) : json_null();
	}
	json_decref(rows);
	return r;
}

int ca_store_outbox_counts(ca_store *s, json_t **ret, ca_err *err)
{
	static const char *const statuses[] = { "queued", "failed", "sent" };
	json_t *out = json_object();
	int r = out ? 0 : enomem(err, "outbox");
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(statuses); i++) {
		ca_sql_param p[] = { ca_sql_text(statuses[i]) };
		int64_t n = 0;
		bool found;
		r = db_i64(s, "outbox", "SELECT COUNT(*) FROM outbox WHERE status = ?", p, 1, &n, &found, err);
		if (!r && json_object_set_new(out, statuses[i], json_integer(n)) < 0)
			r = enomem(err, "outbox");
	}
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}
