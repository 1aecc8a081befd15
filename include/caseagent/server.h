/* SPDX-License-Identifier: MIT */
/*
 * The HTTP service (`caseagent serve`, src/server): the REST API of
 * docs/api.md over libmicrohttpd, with the live event stream, metrics and the
 * background worker (harvest jobs, IMAP polling, SMTP sending). The server is
 * built on the public API of caseagent.h alone, as the CLI is; this header is
 * what the CLI calls to run it.
 */
#ifndef CASEAGENT_SERVER_H
#define CASEAGENT_SERVER_H

#include <stddef.h>
#include "caseagent/caseagent.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_serve_opts {
	const char *db_path;       /* the SQLite database (created and migrated if needed) */
	const char *listen;        /* "127.0.0.1:8080" (NULL: that), "[::1]:8080", "0.0.0.0:80" */
	unsigned workers;          /* request worker threads (0: one per CPU, 2-16); each opens its own ca_agent */
	unsigned max_connections;  /* concurrent connections served; more get 503 (0: 256) */
	/* The web UI's built files (web/dist) served at "/", or NULL/"" for
	 * none (then "/" says how to build them). Must hold index.html. */
	const char *web_dir;
	/* Called once the port is bound, with the address served (for the
	 * CLI's "listening on" line); may be NULL. */
	void (*on_listening)(const char *address, void *ud);
	void *ud;
} ca_serve_opts;

/*
 * Run the service until SIGTERM or SIGINT, which are blocked in every
 * thread it starts and taken with sigwait (the signal mask is restored on
 * return; call it from the main thread). On a signal it
 * stops accepting, lets the requests in flight finish (at most 30 s), lets the
 * background worker finish its current batch (a harvest job stays "running"
 * and continues when serve starts again), ends the event streams, and
 * returns 0. One JSON line per request on stderr (method, route template,
 * status, duration_ms, user); never bodies, tokens, query strings or
 * personal data. Errors: CA_EINVAL (a bad listen address, err->where
 * "listen"), CA_EIO (the port cannot be bound, or web_dir cannot
 * be opened or lacks index.html: err->where "web"), CA_EDB/CA_ESTATE (the
 * database cannot be opened), CA_ENOMEM. Not re-entrant: one server per
 * process.
 */
int ca_serve(const ca_serve_opts *opts, ca_err *err);

#ifdef __cplusplus
}
#endif
#endif
