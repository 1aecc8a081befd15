/* SPDX-License-Identifier: MIT */
/*
 * The interaction-log queue (ca_interaction_queue, caseagent.h): the rows
 * of decisions that write nothing else, kept in memory by a server's
 * agents and written in one transaction by one thread (group commit).
 *
 * Why: an Update from conversation that finds no changes only reads, but
 * its row in the interaction log made it a write transaction: the
 * process's write lock, a WAL commit, and, worse, every other connection's
 * page cache thrown away at its next read (SQLite resets a connection's
 * cache whenever the database changed under it), so each request read its
 * pages again from the file. Queued, such a request takes no lock and
 * writes nothing; the rows follow within the flush interval, each with the
 * time it was decided, and whoever reads the log here flushes first, so a
 * report never misses what this process already decided.
 *
 * A row is held in memory until flushed: kill -9 loses at most the rows of
 * one interval (they say only that nothing was changed); SIGTERM flushes.
 * When the queue is full (the writer stuck), an agent writes its row at
 * once instead, so memory stays bounded and nothing is dropped.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"

/* Rows held at most; past this the agents write their own. */
#define QUEUE_MAX 100000

typedef struct queued_row {
	char *conversation;
	int64_t case_id;
	char *action;
	char *outcome;
	json_t *detail; /* owned, or NULL */
	char at[21];
} queued_row;

struct ca_interaction_queue {
	pthread_mutex_t lock;
	queued_row *rows;
	size_t n, cap;
};

static void row_done(queued_row *r)
{
	free(r->conversation);
	free(r->action);
	free(r->outcome);
	json_decref(r->detail);
}

int ca_interaction_queue_new(ca_interaction_queue **ret, ca_err *err)
{
	ca_interaction_queue *q = calloc(1, sizeof *q);
	if (!q)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	pthread_mutex_init(&q->lock, NULL);
	*ret = q;
	return 0;
}

void ca_interaction_queue_free(ca_interaction_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		row_done(&q->rows[i]);
	free(q->rows);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void ca_agent_defer_interactions(ca_agent *a, ca_interaction_queue *q)
{
	a->iq = q;
}

int ca_interaction_queue_put(ca_agent *a, const char *conv, int64_t case_id, const char *action,
			     const char *outcome, json_t *detail, ca_err *err)
{
	if (!a->settings->record_agent_experience) { /* as log_interaction (agent.c) */
		json_decref(detail);
		return 0;
	}
	ca_interaction_queue *q = a->iq;
	queued_row row = { .case_id = case_id, .detail = detail };
	ca_time_iso(ca_time_now(), row.at);
	bool queued = false;
	if (q && (row.conversation = strdup(conv ? conv : "")) && (row.action = strdup(action)) &&
	    (row.outcome = strdup(outcome ? outcome : ""))) {
		pthread_mutex_lock(&q->lock);
		if (q->n < QUEUE_MAX) {
			if (q->n == q->cap) {
				size_t cap = q->cap ? 2 * q->cap : 256;
				queued_row *v = realloc(q->rows, cap * sizeof *v);
				if (v) {
					q->rows = v;
					q->cap = cap;
				}
			}
			if (q->n < q->cap) {
				q->rows[q->n++] = row;
				queued = true;
			}
		}
		pthread_mutex_unlock(&q->lock);
	}
	if (queued)
		return 0;
	/* No queue, no memory or a full one: the row is written now. */
	free(row.conversation);
	free(row.action);
	free(row.outcome);
	int r = ca_store_interaction_add(a->store, conv, case_id, action, outcome, detail, err);
	json_decref(detail);
	return r;
}

int ca_interactions_flush(ca_agent *a, ca_err *err)
{
	ca_interaction_queue *q = a->iq;
	if (!q)
		return 0;
	pthread_mutex_lock(&q->lock);
	queued_row *rows = q->rows;
	size_t n = q->n;
	q->rows = NULL;
	q->n = q->cap = 0;
	pthread_mutex_unlock(&q->lock);
	if (!n) {
		free(rows);
		return 0;
	}
	ca_interaction_row *batch = malloc(n * sizeof *batch);
	int r = batch ? 0 : ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; batch && i < n; i++)
		batch[i] = (ca_interaction_row){ rows[i].conversation, rows[i].case_id, rows[i].action,
					     rows[i].outcome, rows[i].detail, rows[i].at };
	if (!r) /* one transaction of its own for all of them */
		r = ca_store_interaction_add_rows(a->store, batch, n, err);
	free(batch);
	if (r) {
		/* Not written: back into the queue, behind what came since, for
		 * the next flush (the rows keep the times they were decided). */
		pthread_mutex_lock(&q->lock);
		size_t need = q->n + n;
		queued_row *v = need > q->cap ? realloc(q->rows, need * sizeof *v) : q->rows;
		if (v) {
			q->rows = v;
			q->cap = need > q->cap ? need : q->cap;
			memcpy(q->rows + q->n, rows, n * sizeof *rows);
			q->n += n;
			n = 0;
		}
		pthread_mutex_unlock(&q->lock);
	}
	for (size_t i = 0; i < n; i++) /* written, or (out of memory) lost */
		row_done(&rows[i]);
	free(rows);
	return r;
}
