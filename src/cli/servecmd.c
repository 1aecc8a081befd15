/* SPDX-License-Identifier: MIT */
/*
 * `caseagent serve`: the HTTP service (src/server, include/caseagent/server.h)
 * on --listen, over the database of --db (created on a first start, as a
 * service's state directory is empty then), until SIGTERM or SIGINT. It prints
 * the address it listens on to stdout once the port is bound (a port of 0
 * picks a free one, so tests and scripts read the address from there); the
 * access log is on stderr, one JSON line per request. The web UI's files
 * come from --web, $CASEAGENT_WEB or the installed CA_WEB_DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "caseagent/server.h"
#include "cli.h"

const cli_opt cli_serve_opts[] = {
	{"listen", CLI_ARG_STR, "ADDR", "address and port: 127.0.0.1:8080 (default), [::1]:8080, 0.0.0.0:80"},
	{"workers", CLI_ARG_COUNT, "N", "request worker threads, each with its own database connection (default: one per CPU, at least 2)"},
	{"max-connections", CLI_ARG_COUNT, "N", "connections served at once; more are answered 503 (default 256)"},
	{"web", CLI_ARG_STR, "DIR", "the built web UI (web/dist) served at / (default: $CASEAGENT_WEB, else "
	 CA_WEB_DIR " if it exists)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static void on_listening(const char *address, void *ud)
{
	const cli_ctx *ctx = ud;

	if (ctx->json) {
		char *url = cli_strf("http://%s", address);
		json_t *o = url ? json_pack("{s:s}", "listening", url) : NULL;
		if (o)
			cli_print_json(ctx, o);
		json_decref(o);
		free(url);
	} else {
		printf("caseagent: listening on http://%s (Ctrl-C or SIGTERM stops)\n", address);
	}
	fflush(stdout);
}

int cli_cmd_serve(cli_ctx *ctx, const cli_args *a)
{
	ca_serve_opts o = {0};
	struct stat st;
	ca_err err;
	int i, rc;

	/* The one command besides init that creates its database: a service's
	 * first start (systemd's StateDirectory is empty then). It says so. */
	if (stat(ctx->db_path, &st) != 0)
		fprintf(stderr, "{\"source\":\"serve\",\"message\":\"creating the database named by --db\"}\n");
	o.db_path = ctx->db_path;
	o.listen = cli_opt_str(a, "listen");
	if ((i = cli_opt_index(a->cmd, "workers")) >= 0 && a->set[i])
		o.workers = (unsigned)a->num[i];
	if ((i = cli_opt_index(a->cmd, "max-connections")) >= 0 && a->set[i])
		o.max_connections = (unsigned)a->num[i];
	/* The UI: --web, else the environment's, else the installed one. */
	o.web_dir = cli_opt_str(a, "web");
	if (!o.web_dir)
		o.web_dir = getenv("CASEAGENT_WEB");
	if (!o.web_dir && stat(CA_WEB_DIR "/index.html", &st) == 0)
		o.web_dir = CA_WEB_DIR;
	o.on_listening = on_listening;
	o.ud = ctx;
	ca_err_clear(&err);
	rc = ca_serve(&o, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return CLI_EXIT_OK;
}
