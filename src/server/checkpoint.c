/* SPDX-License-Identifier: MIT */
/*
 * The checkpointer: one thread with its own agent that copies the
 * write-ahead log back into the database file every CHECKPOINT_MS
 * (ca_checkpoint, SQLite PASSIVE), while the request threads' agents defer
 * theirs (ca_agent_defer_checkpoints). Left to SQLite, the commit that
 * crosses 1000 WAL pages does the copying itself: one request in a
 * thousand then waits for it, which is the tail of the latency. A passive
 * checkpoint waits for nobody, so neither readers nor writers notice it.
 * Each round first writes the interaction-log rows the request threads
 * queued (ca_interactions_flush: one transaction for all of them), and the
 * last round, after the requests are done, writes what is left.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "srv.h"

#define CHECKPOINT_MS 250

struct srv_checkpointer {
	ca_agent *agent;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

static void *checkpoint_main(void *ud)
{
	srv_checkpointer *c = ud;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		bool stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		ca_err err = { 0 };
		if (ca_interactions_flush(c->agent, &err) < 0) {
			srv_log_line(json_pack("{s:s, s:s}", "source", "interaction-log", "error", err.message));
			ca_err_clear(&err);
		}
		if (ca_checkpoint(c->agent, &err) < 0)
			srv_log_line(json_pack("{s:s, s:s}", "source", "checkpoint", "error", err.message));
		pthread_mutex_lock(&c->lock);
		if (stop) /* the last one ran after the requests were done */
			break;
		if (!c->stop)
			srv_cond_wait_ms(&c->wake, &c->lock, CHECKPOINT_MS);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int srv_checkpointer_start(const char *db_path, ca_interaction_queue *iq, srv_checkpointer **ret, ca_err *err)
{
	srv_checkpointer *c = calloc(1, sizeof *c);
	int rc;
	if (!c)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	if ((rc = ca_agent_open(db_path, &c->agent, err)) < 0) {
		free(c);
		return rc;
	}
	ca_agent_defer_interactions(c->agent, iq);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
		ca_agent_close(c->agent);
		free(c);
		return ca_err_set(err, CA_ENOMEM, NULL, "cannot start the checkpoint thread");
	}
	*ret = c;
	return 0;
}

void srv_checkpointer_stop(srv_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	ca_agent_close(c->agent);
	free(c);
}
