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
 * the mail server's messages; SRV_LANE_FEED). A worker takes a person's
 * request first, so a click waits for the requests being answered, not
 * for the feed's backlog (31 chat connections queue about 30 events, 20
 * ms here); after FEED_EVERY people's requests in a row it takes one of
 * the feed's, so neither line starves. And one worker is kept from the
 * feed (when there are two or more): the feed's requests write, and
 * writers wait for each other and for a checkpoint that holds them back
 * (tens of milliseconds), so with every worker inside a feed request a
 * click found none free however early its place in line.
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

struct srv_pool {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	line lines[SRV_LANES];
	unsigned people_in_row; /* people's requests taken since the feed's last */
	unsigned feed_running;  /* workers inside a feed request */
	bool stopping;
	unsigned n;
	pthread_t *threads;
};

/* The next job, or NULL when there is none this worker may take; *feed_job
 * says which line it came from. Under the lock. */
static job *take(srv_pool *p, bool *feed_job)
{
	line *people = &p->lines[SRV_LANE_PEOPLE], *feed = &p->lines[SRV_LANE_FEED];
	bool feed_ok = feed->head && (p->n < 2 || p->feed_running + 1 < p->n);
	line *from = people->head && (!feed_ok || p->people_in_row < FEED_EVERY) ? people
		     : feed_ok							? feed
										: NULL;
	if (!from)
		return NULL;
	p->people_in_row = from == people ? p->people_in_row + 1 : 0;
	*feed_job = from == feed;
	p->feed_running += *feed_job;
	job *j = from->head;
	from->head = j->next;
	if (!from->head)
		from->tail = NULL;
	return j;
}

static void *pool_main(void *ud)
{
	srv_pool *p = ud;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		job *j;
		bool feed_job = false;
		/* Stopping ends the loop once nothing is left it may take: the
		 * feed's last requests wait only for the workers in the feed. */
		while (!(j = take(p, &feed_job)) && !(p->stopping && !p->lines[SRV_LANE_PEOPLE].head &&
						      (!p->lines[SRV_LANE_FEED].head || p->feed_running == 0)))
			pthread_cond_wait(&p->ready, &p->lock);
		if (!j)
			break;
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->lock);
		if (feed_job) {
			p->feed_running--;
			if (p->lines[SRV_LANE_FEED].head || p->stopping) /* a worker held back may take it now */
				pthread_cond_broadcast(&p->ready);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int srv_pool_start(unsigned n, srv_pool **ret, ca_err *err)
{
	srv_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->threads = calloc(n, sizeof *p->threads))) {
		free(p);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	for (; p->n < n; p->n++)
		if (pthread_create(&p->threads[p->n], NULL, pool_main, p) != 0)
			break;
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
		pthread_join(p->threads[i], NULL);
}

void srv_pool_free(srv_pool *p)
{
	if (!p)
		return;
	srv_pool_stop(p);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}
