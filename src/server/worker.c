/* SPDX-License-Identifier: MIT */
/*
 * serve's background worker: one thread with its own agent that, every
 * second, runs the harvest jobs in state "running" (POST
 * /api/v1/knowledge/harvests starts one; a job whose process died is still
 * "running" and so continues when serve starts again), and polls IMAP and
 * sends the outbox through SMTP when the settings give intervals, and runs
 * the follow-up agent's tick every followup.interval_minutes. On
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
	double last_poll, last_send, last_followup;
};


static void log_error(const char *what, int rc, const ca_err *err)
{
	char msg[sizeof err->message];
	snprintf(msg, sizeof msg, "%s", err->message);
	srv_utf8_clean(msg);
	srv_log_line(json_pack("{s:s, s:s, s:s, s:s}", "source", "worker", "task", what, "error", ca_strerror(rc), "detail",
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
		srv_log_line(json_pack("{s:s, s:s, s:I, s:O?, s:O?, s:b}", "source", "worker", "task", "harvest", "job",
				   (json_int_t)id, "state", json_object_get(r, "state"), "processed",
				   json_object_get(r, "processed"), "cancelled",
				   json_is_true(json_object_get(r, "cancelled"))));
		json_decref(r);
	}
	json_decref(res);
}

/* The e-mail work the settings ask for: "email.imap" and "email.smtp"
 * with their interval_s (docs/settings.md), as ca_email_status reports
 * them, each run at most once an interval. */
#define POLL_LIMIT 200

static void email_task(srv_worker *w, const json_t *status, const char *which, double *last)
{
	const json_t *srv = json_object_get(status, which);
	double interval = json_number_value(json_object_get(srv, "interval_s"));
	bool imap = !strcmp(which, "imap");
	char *out = NULL;
	ca_err err;
	int rc;

	if (!json_is_true(json_object_get(srv, "configured")) || interval <= 0 || srv_mono_now() - *last < interval)
		return;
	*last = srv_mono_now();
	ca_err_clear(&err);
	rc = imap ? ca_email_poll_configured(w->agent, POLL_LIMIT, &out, &err)
		  : ca_outbox_send_configured(w->agent, &out, &err);
	if (rc < 0) {
		log_error(imap ? "email.poll" : "email.send", rc, &err);
		return;
	}
	json_t *r = json_loads(out, 0, NULL);
	free(out);
	if (imap) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(r, "outcomes"), k, v)
			if (json_integer_value(v) > 0)
				srv_metrics_email(w->metrics, k, (uint64_t)json_integer_value(v));
	} else {
		srv_metrics_email(w->metrics, "sent", (uint64_t)json_integer_value(json_object_get(r, "sent")));
		srv_metrics_email(w->metrics, "failed", (uint64_t)json_integer_value(json_object_get(r, "failed")));
	}
	json_decref(r);
}

static void run_email(srv_worker *w)
{
	char *json = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	if ((rc = ca_email_status(w->agent, &json, &err)) < 0) {
		log_error("email", rc, &err);
		return;
	}
	json_t *status = json_loads(json, 0, NULL);
	free(json);
	email_task(w, status, "imap", &w->last_poll);
	if (!w->cancel)
		email_task(w, status, "smtp", &w->last_send);
	json_decref(status);
}

/* The follow-up agent's tick, every followup.interval_minutes. */
static void run_followup(srv_worker *w)
{
	unsigned minutes = 0;
	char *out = NULL;
	ca_err err;
	int rc;

	ca_err_clear(&err);
	if (ca_followup_interval(w->agent, &minutes, &err) < 0 || !minutes ||
	    srv_mono_now() - w->last_followup < minutes * 60.0)
		return; /* no settings yet, no rules, or not due */
	w->last_followup = srv_mono_now();
	ca_err_clear(&err);
	if ((rc = ca_followup_run(w->agent, NULL, &out, &err)) < 0) {
		log_error("followup", rc, &err);
		return;
	}
	json_t *r = json_loads(out, 0, NULL);
	free(out);
	srv_log_line(json_pack("{s:s, s:s, s:O?, s:O?, s:O?}", "source", "worker", "task", "followup", "now",
			   json_object_get(r, "now"), "cases", json_object_get(r, "cases"), "counts",
			   json_object_get(r, "counts")));
	json_decref(r);
}

static void *worker_main(void *ud)
{
	srv_worker *w = ud;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		pthread_mutex_unlock(&w->lock);
		run_harvests(w);
		if (!w->cancel)
			run_email(w);
		if (!w->cancel)
			run_followup(w);
		pthread_mutex_lock(&w->lock);
		if (!w->stop)
			srv_cond_wait_ms(&w->wake, &w->lock, TICK_MS);
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
	w->last_poll = w->last_send = w->last_followup = -1e9; /* the first tick runs each */
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
