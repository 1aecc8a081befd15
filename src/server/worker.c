/* SPDX-License-Identifier: MIT */
/*
 * serve's background worker: one thread with its own agent that, every
 * second, runs the harvest jobs in state "running" (POST
 * /api/v1/knowledge/harvests starts one; a job whose process died is still
 * "running" and so continues when serve starts again), and polls IMAP and
 * sends the outbox through SMTP when the settings give intervals. On
 * shutdown it finishes the batch it is in (ca_knowledge_harvest_run_cancel
 * leaves the job "running") and stops. Its outcomes go to the log as JSON
 * lines and to the metrics.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv.h"

#define TICK_MS 1000

struct srv_worker {
	char *db;
	srv_metrics *metrics;
	ca_agent *agent;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	volatile int cancel; /* read by the harvest between batches */
	double last_poll, last_send;
};

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One JSON line on the log; takes line. */
static void log_line(json_t *line)
{
	char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	if (text)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}

static void log_error(const char *what, int rc, const ca_err *err)
{
	char msg[sizeof err->message];
	snprintf(msg, sizeof msg, "%s", err->message);
	srv_utf8_clean(msg);
	log_line(json_pack("{s:s, s:s, s:s, s:s}", "source", "worker", "task", what, "error", ca_strerror(rc), "detail",
			   msg));
}

static void on_record(size_t done, size_t total, void *ud)
{
	srv_worker *w = ud;
	(void)done;
	(void)total;
	srv_metrics_harvest(w->metrics, 1);
}

/* Run every job in state "running" until done, stopped or cancelled. */
static void run_harvests(srv_worker *w)
{
	char *json = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	if ((rc = ca_knowledge_harvest_status(w->agent, 0, &json, &err)) < 0) {
		log_error("harvest", rc, &err);
		return;
	}
	json_t *res = json_loads(json, 0, NULL);
	free(json);
	size_t i;
	json_t *job;
	json_array_foreach(json_object_get(res, "jobs"), i, job) {
		if (w->cancel)
			break;
		const char *state = json_string_value(json_object_get(job, "state"));
		if (!state || strcmp(state, "running"))
			continue;
		int64_t id = json_integer_value(json_object_get(job, "id"));
		char *out = NULL;
		ca_err_clear(&err);
		rc = ca_knowledge_harvest_run_cancel(w->agent, id, &w->cancel, on_record, w, &out, &err);
		if (rc < 0) {
			log_error("harvest", rc, &err);
			continue;
		}
		json_t *r = json_loads(out, 0, NULL);
		free(out);
		log_line(json_pack("{s:s, s:s, s:I, s:O?, s:O?, s:b}", "source", "worker", "task", "harvest", "job",
				   (json_int_t)id, "state", json_object_get(r, "state"), "processed",
				   json_object_get(r, "processed"), "cancelled",
				   json_is_true(json_object_get(r, "cancelled"))));
		json_decref(r);
	}
	json_decref(res);
}

static void *worker_main(void *ud)
{
	srv_worker *w = ud;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		pthread_mutex_unlock(&w->lock);
		run_harvests(w);
		pthread_mutex_lock(&w->lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += TICK_MS / 1000;
		if (!w->stop)
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int srv_worker_start(const char *db_path, srv_metrics *m, srv_worker **ret, ca_err *err)
{
	srv_worker *w = calloc(1, sizeof *w);
	int rc;

	if (!w || !(w->db = strdup(db_path))) {
		free(w);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	w->metrics = m;
	w->last_poll = w->last_send = mono_now();
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if ((rc = ca_agent_open(db_path, &w->agent, err)) < 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		rc = ca_err_set(err, CA_ENOMEM, NULL, "cannot start the background worker thread");
		goto fail;
	}
	*ret = w;
	return 0;
fail:
	ca_agent_close(w->agent);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->db);
	free(w);
	return rc;
}

void srv_worker_stop(srv_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	w->cancel = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	ca_agent_close(w->agent);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->db);
	free(w);
}
