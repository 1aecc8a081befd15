/* SPDX-License-Identifier: MIT */
/*
 * The request workers (srv_pool): N threads taking the requests' handlers
 * from one first-in, first-out queue, each thread with its own agent
 * (srv_agent), while libmicrohttpd's thread reads and writes the sockets.
 *
 * Why not libmicrohttpd's thread pool alone: there each connection belongs
 * to the thread that accepted it, for its whole life, and which thread
 * accepts is a race. Under the HTTP benchmark's 32 connections the four
 * threads held 1, 1, 15 and 16 of them: the requests of the crowded
 * threads waited for fifteen others, those of the idle ones for none, and
 * the 99th percentile of the latency was three to four times the median.
 * With one queue, every request waits behind the same line, whatever
 * connection it came on; the connection is suspended meanwhile
 * (MHD_suspend_connection) and resumed with its answer, the pattern
 * libmicrohttpd documents for answering from another thread.
 *
 * Two lines, in fact: people's requests (a representative's click, an
 * administrator's page) and the machine feeds (the chat platform's events,
 * the mail server's messages; SRV_LANE_FEED). With two workers or more,
 * the feed is the first worker's alone, and people's requests everyone's
 * (the first worker's too when the feed is empty):
 * - a click waits for the requests being answered, not for the feed's
 *   backlog (31 chat connections queue about 30 events, 20 ms here), and
 *   never finds every worker inside a feed request, where they waited for
 *   each other's write lock and for a checkpoint that holds writers back
 *   (one representative's update beside 31 chat connections: p99 87 ms
 *   with the feed on every worker, 6 ms now);
 * - a chat event does all its work inside the database's write lock, so
 *   events ran one at a time whichever worker took them; on one worker's
 *   connection they keep its page cache, which SQLite throws away when
 *   another connection wrote: 40 reads of the file per event with the
 *   feed on four workers, 7 on one, and the write lock is not handed
 *   round (CPU per event 0.95 -> 0.69 ms, events/s +40%, bench/http.sh).
 * A single worker takes both, no more than FEED_EVERY people's requests
 * in a row while a feed request waits, so neither line starves.
 *
 * Given a batch function (srv_pool_start), a worker taking the feed takes
 * every feed job queued then, up to SRV_FEED_BATCH, in order, and hands
 * them to it at once: the server commits a batch of chat events in one
 * transaction (server.c: run_feed).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "srv.h"

/* People's requests a worker takes in a row while the feed waits. */
#define FEED_EVERY 4

typedef struct job {
	srv_job_fn fn;
	void *arg;
	struct job *next;
} job;

typedef struct line {
	job *head, *tail;
} line;

typedef struct worker {
	struct srv_pool *pool;
	unsigned index;
	pthread_t thread;
} worker;

struct srv_pool {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	line lines[SRV_LANES];
	unsigned people_in_row; /* people's requests taken since the feed's last */
	bool stopping;
	unsigned size;   /* workers asked for */
	unsigned n;      /* workers started */
	worker *workers;
	srv_batch_fn feed_batch; /* the feed's jobs in batches, or NULL: one at a time */
	void *feed_ud;
};

static job *pop(line *l)
{
	job *j = l->head;
	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
	}
	return j;
}

/* The feed's job `first` and those queued behind it, up to SRV_FEED_BATCH,
 * handed to the batch function outside the lock. */
static void run_batch(srv_pool *p, job *first)
{
	srv_job batch[SRV_FEED_BATCH];
	job *taken[SRV_FEED_BATCH];
	size_t n = 0;
	for (job *j = first; j; j = n < SRV_FEED_BATCH ? pop(&p->lines[SRV_LANE_FEED]) : NULL) {
		taken[n] = j;
		batch[n++] = (srv_job){ j->fn, j->arg };
	}
	pthread_mutex_unlock(&p->lock);
	p->feed_batch(batch, n, p->feed_ud);
	for (size_t i = 0; i < n; i++)
		free(taken[i]);
	pthread_mutex_lock(&p->lock);
}

/* The next job worker `w` may take, or NULL; *from_feed: it is the
 * feed's. Under the lock. */
static job *take(srv_pool *p, unsigned w, bool *from_feed)
{
	line *people = &p->lines[SRV_LANE_PEOPLE], *feed = &p->lines[SRV_LANE_FEED];
	bool feed_ok = feed->head && (p->size < 2 || w == 0);
	line *from = people->head && (!feed_ok || (p->size < 2 && p->people_in_row < FEED_EVERY)) ? people
		     : feed_ok							? feed
										: NULL;
	if (!from)
		return NULL;
	p->people_in_row = from == people ? p->people_in_row + 1 : 0;
	*from_feed = from == feed;
	return pop(from);
}

static void *pool_main(void *ud)
{
	const worker *me = ud;
	srv_pool *p = me->pool;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		job *j;
		bool feed = false;
		/* Stopping ends the loop once nothing is left this worker may
		 * take (the feed's are the first worker's, which stays for them). */
		while (!(j = take(p, me->index, &feed)) && !p->stopping)
			pthread_cond_wait(&p->ready, &p->lock);
		if (!j)
			break;
		if (feed && p->feed_batch) {
			run_batch(p, j);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int srv_pool_start(unsigned n, srv_batch_fn feed_batch, void *feed_ud, srv_pool **ret, ca_err *err)
{
	srv_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->workers = calloc(n, sizeof *p->workers))) {
		free(p);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->size = n;
	p->feed_batch = feed_batch;
	p->feed_ud = feed_ud;
	for (; p->n < n; p->n++) {
		p->workers[p->n] = (worker){ .pool = p, .index = p->n };
		if (pthread_create(&p->workers[p->n].thread, NULL, pool_main, &p->workers[p->n]) != 0)
			break;
	}
	if (p->n < n) {
		srv_pool_free(p);
		return ca_err_set(err, CA_ENOMEM, NULL, "cannot start %u request workers", n);
	}
	*ret = p;
	return 0;
}

bool srv_pool_submit(srv_pool *p, srv_lane lane, srv_job_fn fn, void *arg)
{
	job *j = p ? malloc(sizeof *j) : NULL;
	if (!j)
		return false;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	bool ok = !p->stopping;
	if (ok) {
		line *l = &p->lines[lane == SRV_LANE_FEED ? SRV_LANE_FEED : SRV_LANE_PEOPLE];
		if (l->tail)
			l->tail->next = j;
		else
			l->head = j;
		l->tail = j;
		/* A feed job is the first worker's: wake them all, or the one
		 * woken might be another. */
		if (lane == SRV_LANE_FEED)
			pthread_cond_broadcast(&p->ready);
		else
			pthread_cond_signal(&p->ready);
	}
	pthread_mutex_unlock(&p->lock);
	if (!ok)
		free(j);
	return ok;
}

void srv_pool_stop(srv_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	bool joined = p->stopping;
	p->stopping = true;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; !joined && i < p->n; i++)
		pthread_join(p->workers[i].thread, NULL);
}

void srv_pool_free(srv_pool *p)
{
	if (!p)
		return;
	srv_pool_stop(p);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p);
}
