/* SPDX-License-Identifier: MIT */
/*
 * `caseagent serve`'s engine: libmicrohttpd's thread reading and writing
 * the sockets, request workers running the handlers in the order the
 * requests completed (pool.c: one queue, whatever the connection; one
 * ca_agent per worker thread, opened on first use, since the API is one
 * agent per thread) and each request's life: the raw request target from the URI log
 * callback (so the path is decoded and checked here, never by the library),
 * the connection limit (503), the route (404, 405 with Allow), credentials
 * (401, 403, CSRF) before any lookup or body check, the body read within
 * its limit (413 as soon as Content-Length or the bytes read exceed it,
 * never buffered further) and its time (408), the JSON parsed (400 naming
 * line and column) and checked against the route's schema (422 naming the
 * key), the handler, the response, and one JSON access-log line on stderr
 * when libmicrohttpd says the request is complete. SIGTERM or SIGINT
 * quiesces the daemon, lets requests in flight finish, ends the event
 * streams, stops the background worker after its batch, and returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "caseagent/server.h"
#include "srv.h"

#define SESSION_COOKIE "caseagent_session"
#define SHUTDOWN_GRACE_S 30.0
#define IDLE_TIMEOUT_S 30u
/* The web UI loads only its own files; nothing inline, no frames, no
 * plug-ins, no <base>; forms post only here. */
#define SRV_CSP                                                                                                      \
	"default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "        \
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

struct srv_server {
	char *db;
	struct MHD_Daemon *daemon;
	pthread_key_t agent_key;
	atomic_int connections;  /* open connections (libmicrohttpd's notify) */
	atomic_int in_flight;    /* requests being answered, streams excepted */
	atomic_bool draining;    /* shutting down: answer with Connection: close */
	unsigned max_connections;
	srv_metrics *metrics;
	json_t **schemas;        /* the routes' request schemas, parsed once */
	srv_events *events;
	srv_worker *worker;
	srv_checkpointer *checkpointer;
	srv_pool *pool;          /* the request workers */
	ca_interaction_queue *iq; /* the agents' queued interaction-log rows; the checkpointer writes them */
	int web_fd;              /* the web UI's directory, or -1 */
};

/* A worker thread's agent. */
typedef struct thread_agent {
	ca_agent *agent;
	bool deferred; /* its checkpoints left to the checkpointer */
} thread_agent;

/* One request, from the URI log callback to the completed notification. */
typedef struct req_state {
	char *target;          /* the raw request target, as the client sent it */
	double t0;             /* monotonic seconds at the start */
	bool started;          /* the headers were handled */
	bool complete;         /* the request (and its body) is all in */
	bool answered;         /* a response is queued */
	bool stream;           /* an SSE stream (not in flight for shutdown) */
	bool has_body;         /* the client announced a body */
	int reject;            /* 413 or 408: the body is dropped as it comes */
	/* An answer decided before it can be queued: before a body-less
	 * request's end, or by a request worker (pool.c) while the connection
	 * is suspended (`pooled`), queued once it is resumed. */
	struct MHD_Response *deferred;
	int deferred_status;
	bool pooled;
	bool pool_failed;      /* the worker found no answer (out of memory): close */
	srv_server *srv;
	struct MHD_Connection *conn;
	const srv_route *route;
	int status;            /* queued status, 0 before */
	char method[16];
	char user[128];
	char *body;            /* the body so far, at most `limit` bytes */
	size_t len, cap, limit;
	srv_path path;
	const char *params[SRV_MAX_PARAMS];
	srv_query query;
	ca_principal who;
	bool authed;
	char session[256];
	int64_t if_match;
	bool has_last_id;
	int64_t last_id;
	bool secure;
	char address[INET6_ADDRSTRLEN];
} req_state;

double srv_mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void srv_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cond, lock, &until);
}

/* ---- the worker threads' agents ---- */

static void thread_agent_free(void *p)
{
	thread_agent *t = p;
	if (t)
		ca_agent_close(t->agent);
	free(t);
}

int srv_agent(srv_server *s, ca_agent **ret, ca_err *err)
{
	thread_agent *t = pthread_getspecific(s->agent_key);
	int rc;

	if (!t) {
		if (!(t = calloc(1, sizeof *t)))
			return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
		if (pthread_setspecific(s->agent_key, t) != 0) {
			free(t);
			return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
		}
	}
	if (!t->agent && (rc = ca_agent_open(s->db, &t->agent, err)) < 0) {
		t->agent = NULL;
		return rc;
	}
	/* The checkpointer thread copies the WAL back; no request waits for it. */
	if (!t->deferred && ca_agent_defer_checkpoints(t->agent, true, NULL) == 0)
		t->deferred = true;
	ca_agent_defer_interactions(t->agent, s->iq);
	*ret = t->agent;
	return 0;
}

srv_metrics *srv_server_metrics(srv_server *s)
{
	return s->metrics;
}

srv_events *srv_server_events(srv_server *s)
{
	return s->events;
}

const char *srv_server_db(srv_server *s)
{
	return s->db;
}

int srv_server_web_fd(srv_server *s)
{
	return s->web_fd;
}

/* ---- responses ---- */

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

/* Queue `resp` with `status` and the headers every answer has. Takes resp. */
static enum MHD_Result queue(srv_server *s, struct MHD_Connection *conn, req_state *st, int status,
			     struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (st->pooled) { /* a request worker's answer: queued when resumed */
		st->deferred = resp;
		st->deferred_status = status;
		return resp ? MHD_YES : MHD_NO;
	}
	if (!resp)
		return MHD_NO;
	st->status = status;
	st->answered = true;
	/* Queued before the end of a request without a body, an answer would
	 * make libmicrohttpd close the connection; it waits for the end. */
	if (st->started && !st->has_body && !st->deferred && !st->complete) {
		st->deferred = resp;
		st->deferred_status = status;
		return MHD_YES;
	}
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* Every answer, not only the UI's HTML: a JSON or problem body opened
	 * as a page runs nothing either. */
	MHD_add_response_header(resp, "Content-Security-Policy", SRV_CSP);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (!MHD_get_response_header(resp, "Cache-Control"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (atomic_load(&s->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	r = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* A response owning `body` (JSON text, may be NULL for none). */
static struct MHD_Response *text_response(char *body, const char *type)
{
	struct MHD_Response *resp;
	size_t len = body ? strlen(body) : 0;

	resp = MHD_create_response_from_buffer_with_free_callback(len, body ? body : (char *)"", body ? free : NULL);
	if (!resp) {
		free(body);
		return NULL;
	}
	if (body)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type ? type : "application/json");
	return resp;
}

/* Answer a problem (RFC 9457). `extra` (taken) adds members. */
static enum MHD_Result problem(srv_server *s, struct MHD_Connection *conn, req_state *st, int status,
			       const char *slug, const char *detail, const char *field, json_t *extra)
{
	char *body = srv_problem_json(status, slug, detail, field, extra);
	struct MHD_Response *resp = text_response(body, "application/problem+json");

	if (!resp)
		return MHD_NO;
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"caseagent\"");
	if (status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return queue(s, conn, st, status, resp);
}

/* Answer a CA_E* failure through the one mapping. */
static enum MHD_Result fail(srv_server *s, struct MHD_Connection *conn, req_state *st, int code, const ca_err *err)
{
	int status = srv_status_of(code, err);
	char *body;
	struct MHD_Response *resp;
	const char *field = err ? err->where : "";

	if (code == CA_EDB)
		srv_metrics_db_error(s->metrics);
	/* "retry_after=N" (ca_session_login's throttle) is a header, not a key. */
	unsigned long retry = 0;
	if (code == CA_ELIMIT && err && !strncmp(err->where, "retry_after=", 12)) {
		retry = strtoul(err->where + 12, NULL, 10);
		field = "";
	}
	if (code == CA_ENOMEM || code == CA_EIO)
		field = "";
	body = srv_problem_json(status, srv_problem_slug(code), err ? err->message : NULL, field, NULL);
	if (!(resp = text_response(body, "application/problem+json")))
		return MHD_NO;
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"caseagent\"");
	if (status == 429 || status == 503) {
		char ra[24];
		snprintf(ra, sizeof ra, "%lu", retry ? retry : 1);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	return queue(s, conn, st, status, resp);
}

/* ---- the request's life ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	req_state *st = calloc(1, sizeof *st);

	(void)cls;
	(void)conn;
	if (!st)
		return NULL;
	st->t0 = srv_mono_now();
	st->target = strdup(uri ? uri : "");
	st->if_match = -1;
	return st;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Who the request is, from a bearer token or the session cookie. */
static int authenticate(srv_server *s, struct MHD_Connection *conn, req_state *st, ca_err *err)
{
	const char *auth = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = header(conn, MHD_HTTP_HEADER_COOKIE);
	ca_agent *a;
	int rc;

	if (auth) {
		const char *token = srv_bearer(auth);
		if (!token)
			return ca_err_set(err, CA_EAUTH, "Authorization",
					  "the Authorization header must be 'Bearer TOKEN' (an API token)");
		if ((rc = srv_agent(s, &a, err)) < 0)
			return rc;
		return ca_auth_token(a, token, &st->who, err);
	}
	if (cookie && srv_cookie_get(cookie, SESSION_COOKIE, st->session, sizeof st->session)) {
		if ((rc = srv_agent(s, &a, err)) < 0)
			return rc;
		if ((rc = ca_auth_session(a, st->session, &st->who, err)) < 0)
			return rc;
		st->who.via_session = true;
		return 0;
	}
	return ca_err_set(err, CA_EAUTH, NULL,
			  "this route needs credentials: an API token (Authorization: Bearer TOKEN) or a session "
			  "(POST /api/v1/session)");
}

/* Whether the query has only parameters the route takes. */
static int check_query(const srv_route *route, const srv_query *q, ca_err *err)
{
	for (size_t i = 0; i < q->n; i++) {
		const char *allowed = route->query ? route->query : "";
		size_t kl = strlen(q->key[i]);
		bool ok = false;
		for (const char *p = allowed; *p;) {
			size_t l = strcspn(p, ",");
			if (l == kl && !memcmp(p, q->key[i], kl))
				ok = true;
			p += l;
			if (*p == ',')
				p++;
		}
		if (!ok)
			return ca_err_set(err, CA_EINVAL, q->key[i], "%s %s takes no query parameter '%s'%s%s",
					  route->method, route->path, q->key[i], allowed[0] ? "; it takes " : "", allowed);
	}
	return 0;
}

static enum MHD_Result too_big(srv_server *s, struct MHD_Connection *conn, req_state *st)
{
	char d[128];
	snprintf(d, sizeof d, "the body is larger than this route takes (%zu bytes)", st->limit);
	return problem(s, conn, st, 413, "too-big", d, NULL, json_pack("{s:I}", "limit", (json_int_t)st->limit));
}

/* The headers are in: everything that can be decided before the body. */
static enum MHD_Result on_headers(srv_server *s, struct MHD_Connection *conn, req_state *st, const char *method)
{
	char allow[128];
	ca_err err;
	const char *v;
	int rc;

	ca_err_clear(&err);
	snprintf(st->method, sizeof st->method, "%s", method);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, st->address,
				  sizeof st->address);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, st->address,
				  sizeof st->address);
	}
	/* Behind a proxy on this machine (the README's setup), the client is
	 * the one it names, so login throttling counts per real address. */
	if ((!strcmp(st->address, "127.0.0.1") || !strcmp(st->address, "::1")) &&
	    (v = header(conn, "X-Forwarded-For")))
		(void)srv_forwarded_for(v, st->address, sizeof st->address); /* else the peer stays */
	if (atomic_load(&s->connections) > (int)s->max_connections)
		return problem(s, conn, st, 503, "too-many-connections",
			       "the server has as many connections as it serves at once; retry shortly", NULL, NULL);
	if (srv_path_parse(st->target, &st->path, &err) < 0)
		return problem(s, conn, st, 400, "bad-path", err.message, "path", NULL);
	st->route = srv_route_find(method, &st->path, st->params, allow, sizeof allow);
	if (!st->route && !allow[0])
		return problem(s, conn, st, 404, "no-route", "no route has this path (see GET /openapi.json)", NULL,
			       NULL);
	if (!st->route) {
		char *body = srv_problem_json(405, "method-not-allowed", "this path does not take that method", NULL,
					      json_pack("{s:s}", "allow", allow));
		struct MHD_Response *resp = text_response(body, "application/problem+json");
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
		return queue(s, conn, st, 405, resp);
	}
	/* The web UI's pages take the browser's own query, unread. */
	if (st->route->flags & SRV_WEB)
		goto credentials;
	if ((rc = srv_query_parse(st->target, &st->query, &err)) < 0) {
		if (rc == CA_ENOMEM)
			return fail(s, conn, st, rc, &err);
		return problem(s, conn, st, 400, "bad-query", err.message, err.where, NULL);
	}
	if (check_query(st->route, &st->query, &err) < 0)
		return problem(s, conn, st, 400, "bad-query", err.message, err.where, NULL);

	/* Credentials first, so nobody learns from a later answer whether a
	 * record exists. */
credentials:
	if (!(st->route->flags & SRV_PUBLIC)) {
		if ((rc = authenticate(s, conn, st, &err)) < 0)
			return fail(s, conn, st, rc, &err);
		st->authed = true;
		snprintf(st->user, sizeof st->user, "%s", st->who.user);
		if (st->route->rights && !(st->who.rights & st->route->rights)) {
			ca_err_set(&err, CA_EFORBIDDEN, NULL, "the role '%s' may not %s %s", st->who.role,
				   st->route->method, st->route->path);
			return fail(s, conn, st, CA_EFORBIDDEN, &err);
		}
		if (st->who.via_session && unsafe_method(method)) {
			const char *csrf = header(conn, "X-CSRF-Token");
			if (!csrf || !st->who.csrf[0] || !srv_secret_equal(csrf, st->who.csrf))
				return problem(s, conn, st, 403, "csrf",
					       "a change made with the session cookie needs the X-CSRF-Token header "
					       "the login returned",
					       "X-CSRF-Token", NULL);
		}
	}

	/* The body's size and kind, before a byte of it is read. */
	st->limit = st->route->body_limit ? st->route->body_limit : SRV_BODY_DEFAULT;
	if ((v = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH))) {
		char *end = NULL;
		errno = 0;
		unsigned long long cl = strtoull(v, &end, 10);
		if (errno == 0 && end != v && cl > st->limit)
			return too_big(s, conn, st);
	}
	v = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (st->route->body == SRV_BODY_RFC822 && (!v || !srv_media_type_is(v, "message/rfc822")))
		return problem(s, conn, st, 415, "unsupported-media-type", "this route takes Content-Type: message/rfc822",
			       "Content-Type", NULL);
	if (st->route->body == SRV_BODY_JSON && v && !srv_media_type_is(v, "application/json"))
		return problem(s, conn, st, 415, "unsupported-media-type", "this route takes Content-Type: application/json",
			       "Content-Type", NULL);
	if ((v = header(conn, MHD_HTTP_HEADER_IF_MATCH)) && srv_if_match_parse(v, &st->if_match, &err) < 0)
		return problem(s, conn, st, 400, "bad-header", err.message, err.where, NULL);
	if ((v = header(conn, "Last-Event-ID"))) {
		if (srv_event_id_parse(v, &st->last_id, &err) < 0)
			return problem(s, conn, st, 400, "bad-header", err.message, err.where, NULL);
		st->has_last_id = true;
	}
	v = header(conn, "X-Forwarded-Proto");
	st->secure = v && !strcasecmp(v, "https");
	return MHD_YES;
}

/* A piece of the body. libmicrohttpd (0.9.75) queues answers only before
 * the body or after all of it, so a body found too large or too slow is
 * read on and dropped, and answered at its end; one still arriving after
 * twice the time allowed is cut off (its line in the log says 408). */
static enum MHD_Result on_body(srv_server *s, struct MHD_Connection *conn, req_state *st, const char *data,
			       size_t n)
{
	double took = srv_mono_now() - st->t0;

	(void)s;
	(void)conn;
	if (took > 2 * SRV_BODY_SECONDS) {
		st->status = 408;
		return MHD_NO;
	}
	if (st->reject)
		return MHD_YES;
	if (took > SRV_BODY_SECONDS) {
		st->reject = 408;
	} else if (n > st->limit - st->len) {
		st->reject = 413;
	} else {
		if (st->len + n + 1 > st->cap) {
			size_t cap = st->cap ? st->cap : 4096;
			while (cap < st->len + n + 1)
				cap *= 2;
			if (cap > st->limit + 1)
				cap = st->limit + 1;
			char *b = realloc(st->body, cap);
			if (!b)
				return MHD_NO; /* out of memory: close */
			st->body = b;
			st->cap = cap;
		}
		memcpy(st->body + st->len, data, n);
		st->len += n;
		st->body[st->len] = '\0';
		return MHD_YES;
	}
	free(st->body); /* what was read of a refused body goes at once */
	st->body = NULL;
	st->len = st->cap = 0;
	return MHD_YES;
}


/* The whole body is in: parse, check, run the handler, answer. */
static enum MHD_Result on_complete(srv_server *s, struct MHD_Connection *conn, req_state *st)
{
	const srv_route *route = st->route;
	srv_req r = { 0 };
	srv_reply out = { 0 };
	ca_err err;
	json_t *body = NULL;
	int rc;

	ca_err_clear(&err);
	if (route->body == SRV_BODY_JSON && st->len > 0) {
		json_error_t jerr;
		if (!(body = json_loadb(st->body, st->len, JSON_REJECT_DUPLICATES, &jerr))) {
			char d[300];
			snprintf(d, sizeof d, "the body is not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
				 jerr.column);
			return problem(s, conn, st, 400, "bad-json", d, NULL,
				       json_pack("{s:i, s:i}", "line", jerr.line, "column", jerr.column));
		}
	}
	if (route->body == SRV_BODY_JSON) {
		json_t *empty = body ? NULL : json_object();
		rc = srv_body_check(s->schemas[route - srv_routes], body ? body : empty, &err);
		json_decref(empty);
		if (rc < 0) {
			json_decref(body);
			return fail(s, conn, st, rc, &err);
		}
	}
	r.srv = s;
	r.route = route;
	r.who = st->authed ? &st->who : NULL;
	memcpy(r.param, st->params, sizeof r.param);
	r.path = &st->path;
	r.query = &st->query;
	r.body = body;
	r.raw = st->body ? st->body : "";
	r.raw_len = st->len;
	r.if_match = st->if_match;
	r.has_last_event_id = st->has_last_id;
	r.last_event_id = st->last_id;
	r.secure = st->secure;
	r.session = st->session[0] ? st->session : NULL;
	r.address = st->address;
	r.conn = conn;
	rc = route->flags & SRV_NO_AGENT ? 0 : srv_agent(s, &r.agent, &err);
	if (rc == 0)
		rc = route->fn(&r, &out, &err);
	json_decref(body);
	if (rc < 0) {
		free(out.body);
		free(out.set_cookie);
		return fail(s, conn, st, rc, &err);
	}
	int status = out.status ? out.status : route->ok_status ? route->ok_status : 200;
	struct MHD_Response *resp;
	if (out.stream) {
		resp = srv_events_response(out.stream);
		st->stream = true;
		atomic_fetch_sub(&s->in_flight, 1);
	} else if (out.has_file) {
		/* libmicrohttpd reads it as it sends (sendfile) and closes it. */
		free(out.body);
		if (!(resp = MHD_create_response_from_fd64(out.file_size, out.file_fd)))
			close(out.file_fd);
		else
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out.type);
	} else {
		if (status == 204) {
			free(out.body);
			out.body = NULL;
		}
		resp = text_response(out.body, out.type);
	}
	if (!resp) {
		free(out.set_cookie);
		return MHD_NO;
	}
	if (out.etag[0]) {
		char tag[40];
		snprintf(tag, sizeof tag, "\"%s\"", out.etag);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, tag);
	}
	if (out.set_cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, out.set_cookie);
	if (out.cache)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, out.cache);
	free(out.set_cookie);
	return queue(s, conn, st, status, resp);
}

/* A request worker's job: the handler and its answer, then the connection
 * resumed, which has libmicrohttpd call on_request again to queue it. */
static void run_pooled(void *arg)
{
	req_state *st = arg;
	if (on_complete(st->srv, st->conn, st) == MHD_NO || !st->deferred)
		st->pool_failed = true;
	st->pooled = false;
	MHD_resume_connection(st->conn);
}

/*
 * The chat feed's group commit: the feed's jobs come here in batches
 * (pool.c: those queued when the feed's worker takes it). Chat events run
 * in one transaction, each a savepoint of it (ca_agent_batch_begin), and
 * their answers are held until it commits, so a 2xx is only ever sent for
 * an event that is written, and the batch pays for one commit: every page
 * the events touched goes into the write-ahead log once, not once an
 * event, and the savepoints' journals stay in memory (CPU per event
 * 0.43-0.52 -> 0.31-0.40 ms, chat events/s 2,100-2,600 -> 2,800-3,700,
 * bench/http.sh). A batch ends early when another writer waits for the
 * lock (a representative's edit does not wait behind thirty events),
 * after FEED_BATCH_S, and at an event that
 * fails with a server error: SQLite may have undone the whole transaction
 * with it, so every event of the batch is undone and answered 503, to be
 * sent again. A job that cannot share (an e-mail, whose spam filter must
 * not be asked while holding the write lock), or one alone, runs as
 * before. Decisions counted in the metrics by an event undone this way
 * stay counted.
 */
#define FEED_BATCH_S 0.010

static bool shares(const srv_job *j)
{
	return j->fn == run_pooled && (((const req_state *)j->arg)->route->flags & SRV_BATCH);
}

/* An event of a batch that was undone is answered so, unless it failed itself. */
static void undone(srv_server *s, req_state *st, const char *why)
{
	if (st->deferred_status >= 500 || st->pool_failed)
		return;
	if (st->deferred)
		MHD_destroy_response(st->deferred);
	st->deferred = NULL;
	char d[512];
	snprintf(d, sizeof d,
		 "the event was undone with the batch of events it was written in (%.300s); nothing of it was written: "
		 "send it again",
		 why);
	if (problem(s, st->conn, st, 503, "batch-undone", d, NULL, NULL) == MHD_NO || !st->deferred)
		st->pool_failed = true;
}

static void run_feed(const srv_job *jobs, size_t n, void *ud)
{
	srv_server *s = ud;
	size_t i = 0;
	while (i < n) {
		ca_agent *a = NULL;
		ca_err err;
		ca_err_clear(&err);
		if (!shares(&jobs[i]) || i + 1 == n || !shares(&jobs[i + 1]) || srv_agent(s, &a, &err) < 0 ||
		    ca_agent_batch_begin(a, &err) < 0) {
			jobs[i].fn(jobs[i].arg);
			i++;
			continue;
		}
		size_t first = i;
		double t0 = srv_mono_now();
		bool failed = false;
		const char *why = "";
		while (i < n && shares(&jobs[i])) {
			req_state *st = jobs[i++].arg;
			if (on_complete(s, st->conn, st) == MHD_NO || !st->deferred)
				st->pool_failed = true;
			if (st->pool_failed || st->deferred_status >= 500) {
				failed = true;
				why = "another event of the batch failed on the server";
				break;
			}
			if (ca_agent_batch_contended(a) || srv_mono_now() - t0 >= FEED_BATCH_S)
				break;
		}
		if (ca_agent_batch_end(a, !failed, &err) < 0) {
			failed = true;
			why = err.message;
			srv_metrics_db_error(s->metrics);
		}
		for (size_t k = first; k < i; k++) {
			req_state *st = jobs[k].arg;
			if (failed)
				undone(s, st, why);
			st->pooled = false;
			MHD_resume_connection(st->conn);
		}
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	srv_server *s = cls;
	req_state *st = *req_cls;

	(void)url;
	(void)version;
	if (!st)
		return MHD_NO; /* out of memory in on_uri: close */
	if (!st->started) {
		const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
		st->has_body = header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) || (cl && strcmp(cl, "0"));
		st->started = true;
		atomic_fetch_add(&s->in_flight, 1);
		return on_headers(s, conn, st, method);
	}
	if (st->pool_failed)
		return MHD_NO; /* back from a request worker without an answer: close */
	if (st->deferred && !*upload_data_size) {
		struct MHD_Response *resp = st->deferred;
		st->deferred = NULL;
		st->complete = true;
		return queue(s, conn, st, st->deferred_status, resp);
	}
	if (st->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		return on_body(s, conn, st, upload_data, n);
	}
	st->complete = true;
	if (st->reject == 413)
		return too_big(s, conn, st);
	if (st->reject == 408)
		return problem(s, conn, st, 408, "too-slow", "the request body did not arrive in time", NULL, NULL);
	/* The handler runs on a request worker, in turn; what needs no agent
	 * (health, metrics, the UI's files) is answered here at once. */
	if (!(st->route->flags & SRV_NO_AGENT)) {
		st->srv = s;
		st->conn = conn;
		st->pooled = true;
		MHD_suspend_connection(conn);
		/* The chat platform's and the mail server's doors are the feed. */
		srv_lane lane = st->route->rights & (CA_RIGHT_CHAT_INGEST | CA_RIGHT_MAIL_INGEST) ? SRV_LANE_FEED
												   : SRV_LANE_PEOPLE;
		if (srv_pool_submit(s->pool, lane, run_pooled, st))
			return MHD_YES;
		st->pooled = false; /* the workers are stopping: answer here */
		MHD_resume_connection(conn);
	}
	return on_complete(s, conn, st);
}

static const char *termination(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return NULL;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client_closed";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "read_error";
	default:
		return "error";
	}
}

/* The access log line and the request's metrics. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	srv_server *s = cls;
	req_state *st = *req_cls;
	const char *why = termination(toe);

	(void)conn;
	if (!st)
		return;
	if (st->started && !st->stream)
		atomic_fetch_sub(&s->in_flight, 1);
	if (st->started) {
		double secs = srv_mono_now() - st->t0;
		int status = st->status ? st->status : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 0;
		char at[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
		srv_utf8_clean(st->method);
		json_t *line = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s?}", "at", at, "method", st->method, "route",
					 st->route ? st->route->path : "unmatched", "status", status, "duration_ms",
					 (double)(long long)(secs * 1e4) / 10.0, "user", st->user[0] ? st->user : NULL);
		if (line && why)
			json_object_set_new(line, "terminated", json_string(why));
		srv_log_line(line);
		srv_metrics_request(s->metrics, st->route ? (size_t)(st->route - srv_routes) : srv_nroutes, st->method,
				    status, secs);
	}
	if (st->deferred)
		MHD_destroy_response(st->deferred);
	srv_query_done(&st->query);
	free(st->body);
	free(st->target);
	explicit_bzero(st->session, sizeof st->session);
	explicit_bzero(&st->who, sizeof st->who);
	free(st);
	*req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	srv_server *s = cls;

	(void)conn;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&s->connections, 1);
	else
		atomic_fetch_sub(&s->connections, 1);
}

/* libmicrohttpd's own messages, as JSON lines like the rest of the log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	srv_utf8_clean(msg);
	srv_log_line(json_pack("{s:s, s:s}", "source", "libmicrohttpd", "message", msg));
}

void srv_log_line(json_t *line)
{
	char *text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(line);
	if (!text)
		return;
	size_t n = strlen(text);
	char *out = realloc(text, n + 2);
	if (!out) {
		free(text);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (out[i] == 0x7f)
			out[i] = '?';
	out[n++] = '\n';
	for (size_t done = 0; done < n;) {
		ssize_t w = write(STDERR_FILENO, out + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the log is gone: nothing better to do than go on serving */
		done += (size_t)w;
	}
	free(out);
}

/* The URI is left as the client sent it: the router decodes the path
 * itself, refusing what it must (the default would turn %00 into a NUL
 * that ends the string early). */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

/* ---- listening ---- */

typedef struct listen_addr {
	struct sockaddr_storage ss;
	bool v6;
	char host[INET6_ADDRSTRLEN];
	unsigned port;
} listen_addr;

static int parse_listen(const char *text, listen_addr *la, ca_err *err)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon;
	size_t hl;

	memset(la, 0, sizeof *la);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return ca_err_set(err, CA_EINVAL, "listen", "'%s' is not [IPV6]:PORT", text);
		hl = (size_t)(close - text - 1);
		colon = close + 1;
		la->v6 = true;
		text++;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return ca_err_set(err, CA_EINVAL, "listen", "'%s' is not HOST:PORT (e.g. 127.0.0.1:8080)", text);
		hl = (size_t)(colon - text);
	}
	if (hl == 0 || hl >= sizeof host)
		return ca_err_set(err, CA_EINVAL, "listen", "the address to listen on has no host");
	memcpy(host, text, hl);
	host[hl] = '\0';
	char *end = NULL;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || !end || *end || colon[1] < '0' || colon[1] > '9' || port > 65535)
		return ca_err_set(err, CA_EINVAL, "listen", "the port must be a number from 0 to 65535");
	la->port = (unsigned)port;
	if (la->v6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&la->ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return ca_err_set(err, CA_EINVAL, "listen", "'%s' is not an IPv6 address", host);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&la->ss;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (!strcmp(host, "localhost"))
			snprintf(host, sizeof host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return ca_err_set(err, CA_EINVAL, "listen", "'%s' is not an IPv4 address (or [IPv6])", host);
	}
	snprintf(la->host, sizeof la->host, "%s", host);
	return 0;
}

/* ---- running ---- */

static void server_free(srv_server *s)
{
	if (!s)
		return;
	srv_events_free(s->events);
	srv_metrics_free(s->metrics);
	srv_schemas_free(s->schemas);
	srv_pool_free(s->pool); /* after the daemon: nothing submits now */
	ca_interaction_queue_free(s->iq); /* after the checkpointer's last flush */
	if (s->web_fd >= 0)
		close(s->web_fd);
	free(s->db);
	free(s);
}

int ca_serve(const ca_serve_opts *opts, ca_err *err)
{
	listen_addr la;
	srv_server *s;
	ca_agent *probe = NULL;
	sigset_t sigs, old;
	int rc, sig = 0;

	if ((rc = parse_listen(opts->listen ? opts->listen : "127.0.0.1:8080", &la, err)) < 0)
		return rc;
	if (!(s = calloc(1, sizeof *s)))
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	s->web_fd = -1;
	if (!(s->db = strdup(opts->db_path)) || !(s->metrics = srv_metrics_new()) || !(s->schemas = srv_schemas_load())) {
		server_free(s);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	if ((rc = srv_web_open(opts->web_dir, &s->web_fd, err)) < 0) {
		server_free(s);
		return rc;
	}
	s->max_connections = opts->max_connections ? opts->max_connections : 256;
	/* Open (and migrate) once here, so a bad database fails at start. */
	if ((rc = ca_agent_open(s->db, &probe, err)) < 0) {
		server_free(s);
		return rc;
	}
	ca_agent_close(probe);
	if (pthread_key_create(&s->agent_key, thread_agent_free) != 0) {
		server_free(s);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}

	/* Every thread started from here on inherits the blocked signals, so
	 * SIGTERM and SIGINT reach only the sigwait below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);

	if ((rc = ca_interaction_queue_new(&s->iq, err)) < 0 ||
	    (rc = srv_checkpointer_start(s->db, s->iq, &s->checkpointer, err)) < 0)
		goto out_key;
	if ((rc = srv_events_start(s->db, s, &s->events, err)) < 0)
		goto out_key;
	/* One per CPU: the handlers compute and seldom wait (the write lock is
	 * the feed worker's alone), so more only take turns on the cores (two
	 * workers on this 2-core machine: update p99 9.6 ms at 32
	 * connections, four: 11.9). At least two: the feed's and people's. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned workers = opts->workers ? opts->workers : cpus < 2 ? 2u : cpus > 16 ? 16u : (unsigned)cpus;
	if ((rc = srv_pool_start(workers, run_feed, s, &s->pool, err)) < 0)
		goto out_events;
	/* poll(2), not epoll: libmicrohttpd 0.9.75's epoll mode misses a
	 * client's half-close in the middle of a body until the idle timeout,
	 * where poll sees it at once; its thread polls at most a few hundred
	 * connections. One thread for the sockets: it parses and
	 * authenticates (a primary-key read) and the handlers run on the
	 * request workers; two past eight workers. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_POLL |
			 (la.v6 ? MHD_USE_IPv6 : 0);
	s->daemon = MHD_start_daemon(
		flags, (uint16_t)la.port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&la.ss,
		MHD_OPTION_THREAD_POOL_SIZE, workers > 8 ? 2u : 1u,
		/* libmicrohttpd's hard limit stays above ours, so we answer 503. */
		MHD_OPTION_CONNECTION_LIMIT, s->max_connections * 2 + 64, MHD_OPTION_CONNECTION_TIMEOUT,
		IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024, MHD_OPTION_URI_LOG_CALLBACK,
		on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
	if (!s->daemon) {
		rc = ca_err_set(err, CA_EIO, "listen", "cannot listen on %s:%u (in use, or not an address of this machine)",
				la.host, la.port);
		goto out_events;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : la.port;
	if ((rc = srv_worker_start(s->db, s->metrics, &s->worker, err)) < 0) {
		MHD_stop_daemon(s->daemon);
		goto out_events;
	}
	if (opts->on_listening) {
		char where[INET6_ADDRSTRLEN + 16];
		snprintf(where, sizeof where, la.v6 ? "[%s]:%u" : "%s:%u", la.host, port);
		opts->on_listening(where, opts->ud);
	}

	while (sigwait(&sigs, &sig) != 0)
		;
	/* Stop accepting; let what is in flight finish. */
	atomic_store(&s->draining, true);
	MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
	srv_events_close(s->events);
	srv_worker_stop(s->worker);
	double t0 = srv_mono_now();
	while (atomic_load(&s->in_flight) > 0 && srv_mono_now() - t0 < SHUTDOWN_GRACE_S) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* The workers finish what they hold and resume its connections
	 * (libmicrohttpd stops no daemon with a connection suspended); a
	 * request arriving after is answered on the socket thread. */
	srv_pool_stop(s->pool);
	MHD_stop_daemon(s->daemon);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	rc = 0;
out_events:
	srv_events_close(s->events);
out_key:
	srv_checkpointer_stop(s->checkpointer); /* after the requests: a last checkpoint */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* The main thread never opened an agent through the key. */
	pthread_key_delete(s->agent_key);
	server_free(s);
	return rc;
}
