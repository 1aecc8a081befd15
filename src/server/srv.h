/* SPDX-License-Identifier: MIT */
/*
 * Private interface of the HTTP service (layer 5, src/server). server.c runs
 * libmicrohttpd and takes each request through its life (limits, route,
 * credentials, body, handler, response, access log); routes.c is the one
 * declarative route table (method, path template, rights, handler, limits,
 * schemas) that the router, GET /openapi.json and the authz test read;
 * router.c holds the parsers of what a client sends (path, query string,
 * the headers the server reads), pure functions the fuzz target calls;
 * problem.c the one mapping of CA_E* to HTTP status and the problem+json
 * body; handlers.c the handlers; openapi.c the document; events.c the
 * Server-Sent Events stream; worker.c the background worker; metrics.c the
 * counters. Everything here calls only the public API of include/caseagent/.
 */
#ifndef CA_SRV_H
#define CA_SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "caseagent/caseagent.h"

/* ---- limits ---- */

#define SRV_BODY_DEFAULT ((size_t)1 << 20)   /* request body, bytes */
#define SRV_BODY_MAIL ((size_t)25 << 20)     /* POST /api/v1/email/messages */
#define SRV_SEGMENT_MAX 256                  /* one decoded path segment (an id), bytes */
#define SRV_SEGMENTS_MAX 8                   /* segments of a path */
#define SRV_QUERY_MAX 16                     /* query parameters */
#define SRV_BODY_SECONDS 30.0                /* a request's body must arrive within */
#define SRV_MAX_PARAMS 2                     /* {params} of one template */

/* ---- the parsers of client input (router.c) ---- */

/* A request path split into percent-decoded segments. Segments point into
 * `buf` (NUL-terminated each). */
typedef struct srv_path {
	char buf[SRV_SEGMENTS_MAX * (SRV_SEGMENT_MAX + 1)];
	const char *seg[SRV_SEGMENTS_MAX];
	size_t nseg;
} srv_path;

/*
 * Split the path part of a request target ("/api/v1/cases/CAS-1"; a "?..."
 * after it is ignored) into segments, percent-decoding each (RFC 3986 §2.1).
 * CA_EINVAL naming the reason for: a target not starting with "/", an empty
 * segment (a doubled or trailing "/" is allowed only for "/" itself), a bad
 * escape, a decoded NUL or control character (C0, DEL), a "." or ".."
 * segment, a decoded "/" or "\\" in a segment, a segment over SRV_SEGMENT_MAX bytes, text that is not UTF-8,
 * more than SRV_SEGMENTS_MAX segments. *ret untouched on error.
 */
int srv_path_parse(const char *target, srv_path *ret, ca_err *err);

/* Query parameters, percent-decoded ("+" is a space, as HTML forms send). */
typedef struct srv_query {
	char *key[SRV_QUERY_MAX];
	char *val[SRV_QUERY_MAX];
	size_t n;
} srv_query;

/*
 * Parse the query of a request target (what follows the first "?"; none is
 * an empty query). A key given twice, more than SRV_QUERY_MAX parameters, a
 * bad escape, a NUL or control character, or text that is not UTF-8 is
 * CA_EINVAL naming the key. Caller frees with srv_query_done (also on error).
 */
int srv_query_parse(const char *target, srv_query *q, ca_err *err);
void srv_query_done(srv_query *q);
/* The value of `key`, or NULL; borrowed from q. */
const char *srv_query_get(const srv_query *q, const char *key);

/*
 * The row version of an If-Match header (RFC 9110 §13.1.1): one entity tag,
 * "\"7\"" (a weak W/ one is refused: versions compare strongly) or "*".
 * *ret: the version, or 0 for "*" (any). CA_EINVAL for anything else,
 * including a list of several tags.
 */
int srv_if_match_parse(const char *header, int64_t *ret, ca_err *err);

/* A Last-Event-ID header (the SSE spec): a decimal event id 0..INT64_MAX,
 * optionally surrounded by blanks. CA_EINVAL otherwise. */
int srv_event_id_parse(const char *header, int64_t *ret, ca_err *err);

/* The value of cookie `name` in a Cookie header (RFC 6265 §5.4:
 * "a=1; b=2"), copied to out (NUL-terminated); a value in double quotes
 * loses them. false when absent, empty, or longer than outsize - 1. */
bool srv_cookie_get(const char *header, const char *name, char *out, size_t outsize);

/* The token of an "Authorization: Bearer TOKEN" header (RFC 6750 §2.1; the
 * scheme case-insensitive), borrowed from header; NULL for another scheme
 * or an empty token. */
const char *srv_bearer(const char *header);

/* The client address an X-Forwarded-For header gives: its last entry,
 * the one the proxy next to us added (RFC 7239 §5.2's list order), copied
 * to out when it is an IPv4 or IPv6 address; false otherwise. */
bool srv_forwarded_for(const char *header, char *out, size_t outsize);

/* Whether the media type of a Content-Type header is `type` (case-insensitive,
 * parameters after ";" ignored). */
bool srv_media_type_is(const char *header, const char *type);

/* Replace every byte of s that does not begin a valid UTF-8 sequence by
 * '?', in place (error messages cut to a fixed size, text from clients). */
void srv_utf8_clean(char *s);

/*
 * Write one JSON log line to standard error (takes `line`; NULL-safe): ASCII
 * only (JSON_ENSURE_ASCII, DEL shown as '?'), so no client text reaches a
 * terminal as a control, and one write(2) of the whole line, so the lines
 * of concurrent workers never interleave and a request costs one system
 * call, not one per byte through the CLI's filtering stderr.
 */
void srv_log_line(json_t *line);

/* The request workers (pool.c): n threads running submitted jobs in the
 * order submitted. With two or more, the feed's jobs (SRV_LANE_FEED) run
 * on the first worker only, one at a time or a batch at a time (below),
 * and people's on any worker;
 * with one, people's first, at most four in a row while a feed job
 * waits. submit: false when the pool is stopping (or out of
 * memory): the caller runs the job itself. stop: runs what is queued and
 * joins the threads, after which submit says false; free: stops if need
 * be and frees. Both NULL-safe; neither may race with submit's caller
 * except through submit (stop first, free once nothing can submit).
 * feed_batch (or NULL): the feed's jobs go to it, not to their own fn:
 * every feed job queued when a worker takes the feed (at least one, at
 * most SRV_FEED_BATCH, in the order submitted), borrowed for the call; it
 * must see each one done (typically by calling its fn). */
typedef struct srv_pool srv_pool;
typedef void (*srv_job_fn)(void *arg);
typedef struct srv_job {
	srv_job_fn fn;
	void *arg;
} srv_job;
typedef void (*srv_batch_fn)(const srv_job *jobs, size_t n, void *ud);
#define SRV_FEED_BATCH 32
typedef enum srv_lane { SRV_LANE_PEOPLE, SRV_LANE_FEED, SRV_LANES } srv_lane;
int srv_pool_start(unsigned n, srv_batch_fn feed_batch, void *feed_ud, srv_pool **ret, ca_err *err);
bool srv_pool_submit(srv_pool *p, srv_lane lane, srv_job_fn fn, void *arg);
void srv_pool_stop(srv_pool *p);
void srv_pool_free(srv_pool *p);

/* The checkpointer thread (checkpoint.c): its own agent, a PASSIVE
 * checkpoint every 250 ms and a last one at stop; the request threads'
 * agents defer theirs. Each round it first writes the interaction-log rows
 * queued in iq (borrowed; it must outlive the thread). stop: NULL-safe,
 * joins the thread. */
typedef struct srv_checkpointer srv_checkpointer;
int srv_checkpointer_start(const char *db_path, ca_interaction_queue *iq, srv_checkpointer **ret, ca_err *err);
void srv_checkpointer_stop(srv_checkpointer *c);

/* Constant-time comparison of two NUL-terminated secrets (time depends on
 * the lengths only). */
bool srv_secret_equal(const char *a, const char *b);

/* ---- requests and handlers ---- */

typedef struct srv_server srv_server;

/* What a handler answers, besides an error. */
typedef struct srv_reply {
	int status;          /* 0 = 200 */
	char *body;          /* taken: freed by the server; NULL = no body */
	const char *type;    /* Content-Type; NULL = application/json */
	char etag[32];       /* "" = none; else the version, quoted by the server */
	char *set_cookie;    /* taken: a Set-Cookie header value, or NULL */
	void *stream;        /* events.c: an SSE client to stream instead of a body */
	const char *cache;   /* Cache-Control; NULL = no-store */
	bool has_file;       /* web.c: the body is the open file file_fd (taken), file_size bytes */
	int file_fd;
	uint64_t file_size;
} srv_reply;

struct srv_route;

/* One request as a handler sees it. Everything is borrowed for the call. */
typedef struct srv_req {
	srv_server *srv;
	const struct srv_route *route;
	ca_agent *agent;                    /* the worker thread's own */
	const ca_principal *who;            /* NULL: anonymous (public routes only) */
	const char *param[SRV_MAX_PARAMS];  /* the template's {params}, decoded, in order */
	const srv_path *path;               /* the whole path, decoded */
	const srv_query *query;
	json_t *body;                       /* the parsed JSON body, or NULL */
	const char *raw;                    /* the raw body (any media type) */
	size_t raw_len;
	int64_t if_match;                   /* -1: no If-Match; 0: "*" */
	bool has_last_event_id;
	int64_t last_event_id;
	bool secure;                        /* came over HTTPS (X-Forwarded-Proto) */
	const char *session;                /* the session cookie's value, or NULL */
	const char *address;                /* the client's IP address, as text */
	struct MHD_Connection *conn;
} srv_req;

/* A handler returns 0 having filled *out, or a CA_E* code with *err, which
 * the server turns into problem+json (handlers never build error bodies). */
typedef int (*srv_handler)(srv_req *r, srv_reply *out, ca_err *err);

/* What a route takes as its body. */
enum srv_body { SRV_BODY_NONE, SRV_BODY_JSON, SRV_BODY_RFC822 };

/* Route flags. */
#define SRV_PUBLIC 0x1u   /* no credentials needed (rights 0) */
#define SRV_STREAM 0x2u   /* a long-lived response (SSE): not counted as in flight at shutdown */
#define SRV_NO_AGENT 0x4u /* the handler needs no agent (r->agent NULL): it answers when the database does not */
/* The web UI's files (web.c): matched only when no other route's template
 * matches, for any path whose first segment is none of srv_api_roots, with
 * any query (the browser's own); its template "/{path}" stands for paths of
 * any depth. */
#define SRV_WEB 0x8u
/* A feed request that may share one transaction with the others queued
 * beside it (the chat feed's group commit: server.c, run_feed). */
#define SRV_BATCH 0x10u

/* The API a table entry passes to a generic handler (handlers.c). */
typedef int (*srv_ref_api)(ca_agent *a, const char *ref, char **ret_json, ca_err *err);
typedef int (*srv_all_api)(ca_agent *a, char **ret_json, ca_err *err);

/* One route: the table is the single source of the router, the OpenAPI
 * document and the authz test. */
typedef struct srv_route {
	const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;         /* template: "/api/v1/cases/{ref}" */
	unsigned rights;          /* CA_RIGHT_* bits, any of them; 0: any authenticated (or SRV_PUBLIC) */
	unsigned flags;
	srv_handler fn;
	enum srv_body body;
	size_t body_limit;        /* 0: SRV_BODY_DEFAULT */
	const char *query;        /* the query parameters it takes, "status,owner"; NULL: none */
	const char *summary;
	const char *request;      /* JSON Schema of the body (text), NULL: none */
	const char *response;     /* JSON Schema of a 2xx body (text) */
	int ok_status;            /* 0: 200 */
	srv_ref_api ref_api;      /* for the generic handlers */
	srv_all_api all_api;
} srv_route;

extern const srv_route srv_routes[];
extern const size_t srv_nroutes;

/*
 * Find the route for a method and a parsed path. Returns the route, with
 * its {params} in params[] (borrowed from p); NULL when none matches: then
 * *ret_allow says which methods the path has ("GET, POST"; "" when the
 * path is unknown: 404; else 405). HEAD matches GET. The SRV_WEB route
 * matches a path no other template matches whose first segment is none of
 * srv_api_roots (so an unknown /api/v1/... stays 404).
 */
const srv_route *srv_route_find(const char *method, const srv_path *p, const char **params, char *ret_allow,
				size_t allow_size);

/* The first path segments that belong to the API, never to the web UI
 * ("api", "healthz", ...; NULL-terminated). */
extern const char *const srv_api_roots[];

/* The names of rights bits, in CA_RIGHT_* order ("work", "configure",
 * "reports", "chat_ingest", "mail_ingest", "metrics"). */
extern const char *const srv_right_names[6];

/* The request schemas of the table parsed, by route index (NULL for a
 * route without one): read-only, shared by the worker threads. NULL on
 * ENOMEM (or a schema that is not JSON, a bug the tests catch). Free with
 * srv_schemas_free. */
json_t **srv_schemas_load(void);
void srv_schemas_free(json_t **schemas);
/* Check the JSON body against the top level of a request schema (type,
 * required, properties with their types, additionalProperties false);
 * schema NULL: anything. CA_EINVAL naming the key. */
int srv_body_check(const json_t *schema, const json_t *body, ca_err *err);

/* ---- errors (problem.c) ---- */

/* The HTTP status of a CA_E* code: the one mapping. */
int srv_status_of(int code, const ca_err *err);
/* The problem+json body (RFC 9457) of an error: "type", "title", "status",
 * "detail", "field" when err->where names a key. Caller frees. */
char *srv_problem_json(int status, const char *slug, const char *detail, const char *field, json_t *extra);
/* The slug of a CA_E* code's problem type ("not-found", ...). */
const char *srv_problem_slug(int code);

/* ---- metrics (metrics.c) ---- */

typedef struct srv_metrics srv_metrics;
srv_metrics *srv_metrics_new(void);
void srv_metrics_free(srv_metrics *m);
/* One request: route index (srv_nroutes for an unmatched one), method, status, seconds. */
void srv_metrics_request(srv_metrics *m, size_t route, const char *method, int status, double seconds);
/* A chat event's result (created, withheld, updated, no_changes, replayed). */
void srv_metrics_decision(srv_metrics *m, const json_t *result);
/* An e-mail outcome ("created", "sent", ...), n times. */
void srv_metrics_email(srv_metrics *m, const char *outcome, uint64_t n);
void srv_metrics_harvest(srv_metrics *m, uint64_t records);
void srv_metrics_db_error(srv_metrics *m);
/* The Prometheus text exposition (format 0.0.4). Caller frees. */
char *srv_metrics_render(srv_metrics *m);

/* ---- the server (server.c) ---- */

/* The calling thread's agent, opened on first use (settings stored by
 * another agent are taken at its next call: ca_settings_import_text).
 * CA_E* on failure. */
int srv_agent(srv_server *s, ca_agent **ret, ca_err *err);
srv_metrics *srv_server_metrics(srv_server *s);
struct srv_events *srv_server_events(srv_server *s);
/* The database path served, borrowed. */
const char *srv_server_db(srv_server *s);
/* The web UI's directory, open (O_DIRECTORY), or -1 when serve has none. */
int srv_server_web_fd(srv_server *s);

/* Monotonic seconds. */
double srv_mono_now(void);
/* Wait on cond (lock held) at most ms milliseconds. */
void srv_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, long ms);

/* ---- events (events.c): the SSE stream ---- */

typedef struct srv_events srv_events;
/* Start the poller thread (its own agent on db_path). */
int srv_events_start(const char *db_path, srv_server *srv, srv_events **ret, ca_err *err);
/* End every stream and stop the poller; NULL-safe. */
void srv_events_close(srv_events *e);
void srv_events_free(srv_events *e);
/* Answer GET /api/v1/events for r->who from r's Last-Event-ID (or now). */
int srv_events_stream(srv_events *e, srv_req *r, srv_reply *out, ca_err *err);
/* The libmicrohttpd response of a stream made by srv_events_stream. */
struct MHD_Response *srv_events_response(void *stream);
/* Whether an outbox event may be seen by a principal: recipient events by
 * that user only, "configure" events by those with configure, the others
 * by those with work. */
bool srv_event_visible(const char *recipient, const char *right, const char *user, unsigned rights);

/* ---- the background worker (worker.c) ---- */

typedef struct srv_worker srv_worker;
int srv_worker_start(const char *db_path, srv_metrics *m, srv_worker **ret, ca_err *err);
/* Ask it to stop after its current batch and wait for it; NULL-safe. */
void srv_worker_stop(srv_worker *w);

/* ---- the web UI (web.c) ---- */

/* Open the web UI's directory `dir` (O_DIRECTORY, O_CLOEXEC) into *ret_fd;
 * dir NULL or "": *ret_fd -1 and 0. CA_EIO naming "web" when it cannot be
 * opened or has no index.html. */
int srv_web_open(const char *dir, int *ret_fd, ca_err *err);

/* The largest file the web UI serves, bytes. */
#define SRV_WEB_FILE_MAX ((uint64_t)32 << 20)

/* ---- the OpenAPI document (openapi.c) ---- */

/* OpenAPI 3.1 of every route of the table. Caller frees. */
char *srv_openapi_json(void);

/* ---- handlers (handlers.c), named in the table ---- */

int srv_h_ref(srv_req *r, srv_reply *out, ca_err *err);      /* route->ref_api(param[0]) */
int srv_h_all(srv_req *r, srv_reply *out, ca_err *err);      /* route->all_api() */
int srv_h_healthz(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_readyz(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_openapi(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_metrics(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_login(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_logout(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_whoami(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_roles(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_notifications(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_notification_read(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_events(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_chat_event(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_email_ingest(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_conversations(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_cases(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_create(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_show(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_patch(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_ufc(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_resolve(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_cancel(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_reactivate(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_note_add(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_reply(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_email_log(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_email_show(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_email_held(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_email_release(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_articles(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_article_change(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_article_rate(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_search(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_settings_put(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_user_add(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_user_change(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_tokens(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_token_create(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_token_revoke(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_profile_put(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_harvests(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_harvest_start(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_harvest_show(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_harvest_log(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_harvest_stop(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_case_suggestion_act(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_followup_simulate(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_followup_shadow(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_interactions(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_report_agent(srv_req *r, srv_reply *out, ca_err *err);
int srv_h_web(srv_req *r, srv_reply *out, ca_err *err);     /* web.c */

#endif
