/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/events: the event outbox (ca_events_since) as Server-Sent
 * Events (WHATWG HTML §9.2): "id:" the event id, "event:" its type,
 * "data:" the event as one line of JSON, a comment heartbeat every 15 s.
 * One poller thread, with its own agent, reads the outbox every 250 ms into
 * a ring of recent events; a stream is a libmicrohttpd callback response
 * whose reader copies what its caller may see from the ring and, when there
 * is nothing, suspends its connection (MHD_suspend_connection, the pattern
 * the libmicrohttpd manual gives for callbacks without data) until the
 * poller resumes it. So no worker thread is held by a connected client,
 * however many there are. A stream resuming from an id older than the ring
 * reads the outbox itself with its worker thread's agent. Events are rows
 * committed with their changes, so a second serve process on the database
 * streams them too.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "srv.h"

#define RING 4096                 /* recent events kept in memory */
#define POLL_MS 250
#define POLL_PAGE 1000            /* events read at once (ca_events_since's most) */
#define HEARTBEAT_S 15.0
#define PENDING_MAX (64 * 1024)   /* bytes of frames prepared at once per stream */

typedef struct ring_ev {
	int64_t id;
	char *recipient; /* NULL: everyone with the right */
	char *right;
	char *frame;     /* "id: ...\nevent: ...\ndata: ...\n\n" */
	size_t len;
} ring_ev;

typedef struct sse_client {
	srv_events *hub;
	struct MHD_Connection *conn;
	char user[128];
	unsigned rights;
	int64_t last_id;       /* the newest event id looked at */
	char *pending;         /* frames prepared, not yet handed to libmicrohttpd */
	size_t plen, poff, pcap;
	bool suspended;
	bool heartbeat_due;
	struct sse_client *prev, *next;
} sse_client;

struct srv_events {
	srv_server *srv;
	ca_agent *agent;       /* the poller's own */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool closing;          /* streams end */
	bool stop;             /* the poller ends */
	ring_ev ring[RING];
	size_t head, n;        /* oldest at head */
	int64_t base;          /* the ring holds every event with base < id <= newest */
	int64_t newest;
	double next_heartbeat;
	sse_client *clients;
};

bool srv_event_visible(const char *recipient, const char *right, const char *user, unsigned rights)
{
	if (recipient && recipient[0])
		return !strcmp(recipient, user);
	if (right && !strcmp(right, "configure"))
		return (rights & CA_RIGHT_CONFIGURE) != 0;
	return (rights & CA_RIGHT_WORK) != 0;
}

/* The SSE frame of one outbox event; NULL for one that cannot be framed. */
static char *frame_of(const json_t *ev, size_t *ret_len)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_int_t id = json_integer_value(json_object_get(ev, "id"));
	char *data, *frame;
	size_t n;

	/* A type is one line of an SSE field, or nothing. */
	if (!type || strcspn(type, "\r\n") != strlen(type))
		return NULL;
	if (!(data = json_dumps(ev, JSON_COMPACT)))
		return NULL;
	n = strlen(data) + strlen(type) + 48;
	if ((frame = malloc(n)))
		*ret_len = (size_t)snprintf(frame, n, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)id, type, data);
	free(data);
	return frame;
}

static bool pending_add(sse_client *c, const char *s, size_t n)
{
	if (c->poff == c->plen)
		c->poff = c->plen = 0;
	if (c->plen + n > c->pcap) {
		size_t cap = c->pcap ? c->pcap : 4096;
		while (cap < c->plen + n)
			cap *= 2;
		char *p = realloc(c->pending, cap);
		if (!p)
			return false;
		c->pending = p;
		c->pcap = cap;
	}
	memcpy(c->pending + c->plen, s, n);
	c->plen += n;
	return true;
}

/* Frames of the ring's events after c->last_id that c may see. Locked. */
static void fill_from_ring(srv_events *e, sse_client *c)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) { /* the first event with id > last_id */
		size_t mid = (lo + hi) / 2;
		if (e->ring[(e->head + mid) % RING].id <= c->last_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < e->n && c->plen - c->poff < PENDING_MAX; i++) {
		ring_ev *ev = &e->ring[(e->head + i) % RING];
		if (srv_event_visible(ev->recipient, ev->right, c->user, c->rights) && !pending_add(c, ev->frame, ev->len))
			return;
		c->last_id = ev->id;
	}
}

/* Frames after c->last_id from the outbox itself (a stream resuming from
 * before the ring), with the calling worker thread's agent. Not locked. */
static int fill_from_outbox(srv_events *e, sse_client *c)
{
	ca_agent *a;
	ca_err err;
	char *json = NULL;
	int rc;

	ca_err_clear(&err);
	if ((rc = srv_agent(e->srv, &a, &err)) < 0 || (rc = ca_events_since(a, c->last_id, 200, &json, &err)) < 0)
		return rc;
	json_t *res = json_loads(json, 0, NULL);
	free(json);
	json_t *evs = json_object_get(res, "events");
	size_t i;
	json_t *ev;
	int64_t seen = c->last_id;
	json_array_foreach(evs, i, ev) {
		size_t len = 0;
		char *frame;
		seen = json_integer_value(json_object_get(ev, "id"));
		if (!srv_event_visible(json_string_value(json_object_get(ev, "recipient")),
				       json_string_value(json_object_get(ev, "right")), c->user, c->rights))
			continue;
		if ((frame = frame_of(ev, &len))) {
			bool ok = pending_add(c, frame, len);
			free(frame);
			if (!ok)
				break;
		}
	}
	/* Nothing older is left (kept 7 days): go on from the ring. */
	c->last_id = json_array_size(evs) ? seen : e->base;
	json_decref(res);
	return 0;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	sse_client *c = cls;
	srv_events *e = c->hub;

	(void)pos;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		if (c->poff < c->plen) {
			size_t n = c->plen - c->poff < max ? c->plen - c->poff : max;
			memcpy(buf, c->pending + c->poff, n);
			c->poff += n;
			pthread_mutex_unlock(&e->lock);
			return (ssize_t)n;
		}
		if (e->closing) {
			pthread_mutex_unlock(&e->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (c->last_id < e->base) {
			pthread_mutex_unlock(&e->lock);
			int rc = fill_from_outbox(e, c);
			pthread_mutex_lock(&e->lock);
			if (rc < 0) {
				pthread_mutex_unlock(&e->lock);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			continue;
		}
		fill_from_ring(e, c);
		if (c->poff < c->plen)
			continue;
		if (c->heartbeat_due) {
			c->heartbeat_due = false;
			if (pending_add(c, ": heartbeat\n\n", 13))
				continue;
		}
		/* Nothing to send: off libmicrohttpd's loop until the poller
		 * has something (or the heartbeat is due). */
		c->suspended = true;
		MHD_suspend_connection(c->conn);
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
}

static void sse_free(void *cls)
{
	sse_client *c = cls;
	srv_events *e = c->hub;

	pthread_mutex_lock(&e->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		e->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&e->lock);
	free(c->pending);
	free(c);
}

int srv_events_stream(srv_events *e, srv_req *r, srv_reply *out, ca_err *err)
{
	sse_client *c = calloc(1, sizeof *c);
	int rc;

	if (!c)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	c->hub = e;
	c->conn = r->conn;
	snprintf(c->user, sizeof c->user, "%s", r->who->user);
	c->rights = r->who->rights;
	if (r->has_last_event_id) {
		c->last_id = r->last_event_id;
	} else if ((rc = ca_events_last_id(r->agent, &c->last_id, err)) < 0) {
		free(c);
		return rc;
	}
	/* The first bytes tell the client the stream is open, and how soon to
	 * reconnect (ms) when it drops. */
	if (!pending_add(c, ": caseagent events\nretry: 3000\n\n", 32)) {
		free(c);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	pthread_mutex_lock(&e->lock);
	c->next = e->clients;
	if (e->clients)
		e->clients->prev = c;
	e->clients = c;
	pthread_mutex_unlock(&e->lock);
	out->stream = c;
	return 0;
}

struct MHD_Response *srv_events_response(void *stream)
{
	sse_client *c = stream;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, c, sse_free);

	if (!resp) {
		sse_free(c);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no"); /* a reverse proxy must not hold it back */
	return resp;
}

/* Append the outbox's new events to the ring. Not locked (the ring's
 * writer is this thread alone; readers take the lock). */
static int poll_outbox(srv_events *e, size_t *ret_new)
{
	ca_err err;
	char *json = NULL;
	int rc;

	*ret_new = 0;
	ca_err_clear(&err);
	if ((rc = ca_events_since(e->agent, e->newest, POLL_PAGE, &json, &err)) < 0)
		return rc;
	json_t *res = json_loads(json, 0, NULL);
	free(json);
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(res, "events"), i, ev) {
		ring_ev r = { 0 };
		const char *rcp = json_string_value(json_object_get(ev, "recipient"));
		const char *right = json_string_value(json_object_get(ev, "right"));
		r.id = json_integer_value(json_object_get(ev, "id"));
		r.frame = frame_of(ev, &r.len);
		r.recipient = rcp ? strdup(rcp) : NULL;
		r.right = strdup(right ? right : "work");
		pthread_mutex_lock(&e->lock);
		if (!r.frame || !r.right || (rcp && !r.recipient)) {
			/* Skipped: streams go past it. */
			free(r.frame);
			free(r.recipient);
			free(r.right);
		} else {
			if (e->n == RING) { /* the oldest goes; streams behind it read the outbox */
				ring_ev *old = &e->ring[e->head];
				e->base = old->id;
				free(old->frame);
				free(old->recipient);
				free(old->right);
				e->head = (e->head + 1) % RING;
				e->n--;
			}
			e->ring[(e->head + e->n) % RING] = r;
			e->n++;
		}
		if (r.id > e->newest)
			e->newest = r.id;
		pthread_mutex_unlock(&e->lock);
		(*ret_new)++;
	}
	json_decref(res);
	return 0;
}

static void *poller(void *ud)
{
	srv_events *e = ud;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		pthread_mutex_unlock(&e->lock);
		size_t fresh = 0, got;
		/* A full page means more are waiting: read on (a burst is caught
		 * up at once). A failed read (the database busy) is tried again
		 * next time. */
		for (int page = 0; page < 16 && poll_outbox(e, &got) == 0; page++) {
			fresh += got;
			if (got < POLL_PAGE)
				break;
		}
		pthread_mutex_lock(&e->lock);
		double now = srv_mono_now();
		bool beat = now >= e->next_heartbeat;
		if (beat)
			e->next_heartbeat = now + HEARTBEAT_S;
		for (sse_client *c = e->clients; c; c = c->next) {
			if (beat)
				c->heartbeat_due = true;
			if (c->suspended && (fresh || beat)) {
				c->suspended = false;
				MHD_resume_connection(c->conn);
			}
		}
		if (!e->stop)
			srv_cond_wait_ms(&e->wake, &e->lock, POLL_MS);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

int srv_events_start(const char *db_path, srv_server *srv, srv_events **ret, ca_err *err)
{
	srv_events *e = calloc(1, sizeof *e);
	int rc;

	if (!e)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	e->srv = srv;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->wake, NULL);
	if ((rc = ca_agent_open(db_path, &e->agent, err)) < 0 || (rc = ca_events_last_id(e->agent, &e->newest, err)) < 0) {
		srv_events_free(e);
		return rc;
	}
	e->base = e->newest;
	e->next_heartbeat = srv_mono_now() + HEARTBEAT_S;
	if (pthread_create(&e->thread, NULL, poller, e) != 0) {
		srv_events_free(e);
		return ca_err_set(err, CA_ENOMEM, NULL, "cannot start the event poller thread");
	}
	e->started = true;
	*ret = e;
	return 0;
}

void srv_events_close(srv_events *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->closing = true;
	e->stop = true;
	for (sse_client *c = e->clients; c; c = c->next)
		if (c->suspended) {
			c->suspended = false;
			MHD_resume_connection(c->conn);
		}
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	if (e->started) {
		pthread_join(e->thread, NULL);
		e->started = false;
	}
}

void srv_events_free(srv_events *e)
{
	if (!e)
		return;
	srv_events_close(e);
	for (size_t i = 0; i < e->n; i++) {
		ring_ev *ev = &e->ring[(e->head + i) % RING];
		free(ev->frame);
		free(ev->recipient);
		free(ev->right);
	}
	ca_agent_close(e->agent);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
