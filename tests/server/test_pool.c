/* SPDX-License-Identifier: MIT */
/*
 * The request workers (src/server/pool.c) on real threads: one worker
 * takes people's jobs before the feed's, but no more than four in a row
 * while a feed job waits; with two workers the feed's jobs are the first
 * worker's, one at a time, so a person's job runs while a feed job holds
 * it; stopping runs what is queued, and a submit after it says no; with
 * a batch function, the feed's jobs queued together reach it together, in
 * order, at most SRV_FEED_BATCH at a time, and people's never do.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include "srv.h"

typedef struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool open;
	int started; /* jobs that waited at the gate */
} gate;

static gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static char order[96];

static void gate_reset(void)
{
	g.open = false;
	g.started = 0;
	order[0] = '\0';
}

/* Waits until the gate opens, then notes its name. */
static void at_gate(void *arg)
{
	pthread_mutex_lock(&g.m);
	g.started++;
	pthread_cond_broadcast(&g.c);
	while (!g.open)
		pthread_cond_wait(&g.c, &g.m);
	pthread_mutex_unlock(&g.m);
	pthread_mutex_lock(&order_lock);
	strcat(order, arg);
	pthread_mutex_unlock(&order_lock);
}

static void note(void *arg)
{
	pthread_mutex_lock(&order_lock);
	strcat(order, arg);
	pthread_mutex_unlock(&order_lock);
}

static void open_gate(void)
{
	pthread_mutex_lock(&g.m);
	g.open = true;
	pthread_cond_broadcast(&g.c);
	pthread_mutex_unlock(&g.m);
}

/* Until `n` jobs wait at the gate (at most 5 s). */
static void wait_started(int n)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&g.m);
	while (g.started < n && pthread_cond_timedwait(&g.c, &g.m, &until) == 0)
		;
	int got = g.started;
	pthread_mutex_unlock(&g.m);
	assert_int_equal(got, n);
}

static bool order_has(const char *want, int secs)
{
	for (int i = 0; i < secs * 100; i++) {
		pthread_mutex_lock(&order_lock);
		bool ok = strstr(order, want) != NULL;
		pthread_mutex_unlock(&order_lock);
		if (ok)
			return true;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void test_people_first(void **state)
{
	(void)state;
	srv_pool *p = NULL;
	ca_err err = { 0 };
	gate_reset();
	assert_int_equal(srv_pool_start(1, NULL, NULL, &p, &err), 0);
	assert_true(srv_pool_submit(p, SRV_LANE_PEOPLE, at_gate, "g"));
	wait_started(1); /* the one worker is held */
	assert_true(srv_pool_submit(p, SRV_LANE_FEED, note, "F"));
	assert_true(srv_pool_submit(p, SRV_LANE_FEED, note, "f"));
	static char *people[] = { "1", "2", "3", "4", "5", "6" };
	for (int i = 0; i < 6; i++)
		assert_true(srv_pool_submit(p, SRV_LANE_PEOPLE, note, people[i]));
	open_gate();
	srv_pool_stop(p); /* runs what is queued */
	/* after the gate's (a person's): three more people, then the feed's
	 * turn, then the rest of the people before the feed's second */
	assert_string_equal(order, "g123F456f");
	assert_false(srv_pool_submit(p, SRV_LANE_PEOPLE, note, "x"));
	srv_pool_free(p);
}

static void test_worker_kept_from_feed(void **state)
{
	(void)state;
	srv_pool *p = NULL;
	ca_err err = { 0 };
	gate_reset();
	assert_int_equal(srv_pool_start(2, NULL, NULL, &p, &err), 0);
	assert_true(srv_pool_submit(p, SRV_LANE_FEED, at_gate, "A"));
	assert_true(srv_pool_submit(p, SRV_LANE_FEED, at_gate, "B"));
	wait_started(1);
	/* the second worker does not take the feed's second job ... */
	struct timespec ts = { 0, 100 * 1000000L };
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&g.m);
	int started = g.started;
	pthread_mutex_unlock(&g.m);
	assert_int_equal(started, 1);
	/* ... so a person's job runs while the feed's first still waits */
	assert_true(srv_pool_submit(p, SRV_LANE_PEOPLE, note, "p"));
	assert_true(order_has("p", 5));
	open_gate();
	srv_pool_free(p);
	assert_string_equal(order, "pAB");
}

/* The batch function: notes "[" and each job's name (running its fn), "]". */
static void batch_of(const srv_job *jobs, size_t n, void *ud)
{
	(void)ud;
	note("[");
	for (size_t i = 0; i < n; i++)
		jobs[i].fn(jobs[i].arg);
	note("]");
}

static void test_feed_in_batches(void **state)
{
	(void)state;
	srv_pool *p = NULL;
	ca_err err = { 0 };
	gate_reset();
	assert_int_equal(srv_pool_start(2, batch_of, NULL, &p, &err), 0);
	assert_true(srv_pool_submit(p, SRV_LANE_FEED, at_gate, "a"));
	wait_started(1); /* the feed's worker is held in a batch of one */
	/* queued meanwhile: one batch, in order, at most SRV_FEED_BATCH jobs */
	static char names[SRV_FEED_BATCH + 2][2];
	for (int i = 0; i < SRV_FEED_BATCH + 2; i++) {
		names[i][0] = (char)('A' + i % 26);
		assert_true(srv_pool_submit(p, SRV_LANE_FEED, note, names[i]));
	}
	/* people's jobs are never in a batch, and run while the feed is held */
	assert_true(srv_pool_submit(p, SRV_LANE_PEOPLE, note, "p"));
	assert_true(order_has("p", 5));
	open_gate();
	srv_pool_free(p);
	char want[64] = "[pa][";
	for (int i = 0; i < SRV_FEED_BATCH; i++)
		strcat(want, names[i]);
	strcat(want, "][");
	strcat(want, names[SRV_FEED_BATCH]);
	strcat(want, names[SRV_FEED_BATCH + 1]);
	strcat(want, "]");
	assert_string_equal(order, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_people_first),
		cmocka_unit_test(test_worker_kept_from_feed),
		cmocka_unit_test(test_feed_in_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
