/* SPDX-License-Identifier: MIT */
/*
 * The network commands of the e-mail channel, `caseagent email poll` (IMAP)
 * and `caseagent email send` (SMTP), with the server given on the command
 * line or, without --url, the one the settings name (email.imap,
 * email.smtp, as serve's background work uses them), `caseagent email
 * status` (that work's recorded state), and `caseagent email release` (a
 * person lets a held e-mail through): their option tables and handlers,
 * kept apart from commands.c, whose table points here. A password is read only
 * from a file named by --password-file, never taken on the command line,
 * where every user of the machine could read it in the process list; it is
 * wiped from memory after use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A password file larger than this is not a password file. */
#define MAX_PASSWORD_BYTES 4096

const cli_opt cli_email_poll_opts[] = {
	{"url", CLI_ARG_STR, "URL", "the mailbox: imap://HOST[:PORT]/MAILBOX or imaps://... (default: settings email.imap)"},
	{"user", CLI_ARG_STR, "NAME", "the login name"},
	{"password-file", CLI_ARG_STR, "FILE", "read the password from FILE (its first line)"},
	{"limit", CLI_ARG_UINT, "N", "take at most N unseen messages this time (default 0: all)"},
	{"mailbox", CLI_ARG_STR, "ADDRESS", "the receiving address or queue, for ARC rules"},
	{"allow-plaintext", CLI_ARG_NONE, NULL,
	 "permit a server without TLS (no STARTTLS): only for a server on this machine (127.0.0.0/8, ::1, localhost)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

const cli_opt cli_email_send_opts[] = {
	{"url", CLI_ARG_STR, "URL", "the server: smtp://HOST[:PORT] or smtps://... (default: settings email.smtp)"},
	{"user", CLI_ARG_STR, "NAME", "the login name (no AUTH without it)"},
	{"password-file", CLI_ARG_STR, "FILE", "read the password from FILE (its first line)"},
	{"allow-plaintext", CLI_ARG_NONE, NULL,
	 "permit a server without TLS (no STARTTLS): only for a server on this machine (127.0.0.0/8, ::1, localhost)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

const cli_opt cli_email_release_opts[] = {
	{"actor", CLI_ARG_STR, "NAME", "who releases it, recorded on the e-mail and in the log (default: $USER)"},
	{NULL, CLI_ARG_NONE, NULL, NULL},
};

static void wipe(char *s)
{
	if (s) {
		/* volatile: the stores must happen though the memory is freed next */
		for (volatile char *p = s; *p; p++)
			*p = '\0';
		free(s);
	}
}

/* The first line of `path`, without its line end. Caller wipes. */
static int read_password(const cli_ctx *ctx, const char *path, char **ret)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return cli_failf(ctx, CA_EIO, path, "cannot open the password file %s: %s", path, strerror(errno));
	buf = calloc(1, MAX_PASSWORD_BYTES + 1);
	if (!buf) {
		fclose(f);
		return cli_failf(ctx, CA_ENOMEM, path, "out of memory");
	}
	n = fread(buf, 1, MAX_PASSWORD_BYTES + 1, f);
	if (ferror(f) || n > MAX_PASSWORD_BYTES) {
		bool big = !ferror(f);

		fclose(f);
		wipe(buf);
		return cli_failf(ctx, big ? CA_ETOOBIG : CA_EIO, path, "%s: %s", path,
				 big ? "too large for a password file" : strerror(errno));
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		wipe(buf);
		return cli_failf(ctx, CA_EINVAL, path, "%s: the first line of the password file is empty", path);
	}
	*ret = buf;
	return CLI_EXIT_OK;
}

/* Without --url the settings name the server, and give the rest too. */
static bool configured(const cli_args *a)
{
	return !cli_opt_str(a, "url");
}

static int configured_only(cli_ctx *ctx, const cli_args *a)
{
	static const char *const with_url[] = {"user", "password-file", "mailbox", "allow-plaintext"};

	for (size_t i = 0; i < sizeof(with_url) / sizeof(with_url[0]); i++) {
		int k = cli_opt_index(a->cmd, with_url[i]);

		if (k >= 0 && a->set[k])
			return cli_usage_error(ctx, a->cmd, NULL,
					       "--%s goes with --url; without --url the settings' server is used as configured",
					       with_url[i]);
	}
	return CLI_EXIT_OK;
}

/* --password-file wants a user (in --user or the URL). */
static int server_opts(cli_ctx *ctx, const cli_args *a, ca_mail_server *srv, char **ret_password)
{
	const char *pf = cli_opt_str(a, "password-file");

	*ret_password = NULL;
	memset(srv, 0, sizeof *srv);
	int pt = cli_opt_index(a->cmd, "allow-plaintext");

	srv->url = cli_opt_str(a, "url");
	srv->user = cli_opt_str(a, "user");
	srv->allow_plaintext = pt >= 0 && a->set[pt];
	if (pf) {
		int rc = read_password(ctx, pf, ret_password);

		if (rc != CLI_EXIT_OK)
			return rc;
		srv->password = *ret_password;
	}
	return CLI_EXIT_OK;
}

int cli_show_email_rows(const cli_ctx *ctx, const json_t *rows, const cli_column *first)
{
	const cli_column cols[] = {
		*first, {"outcome", "outcome", 'l', 0, 0}, {"case", "case", 'l', 0, 0}, {"rule", "rule", 'l', 0, 24},
		{"reason", "reason", 'l', 0, 60},
	};

	if (json_array_size(rows) > 200) {
		puts("(more than 200: see `caseagent email log` or --json for each)");
		return CLI_EXIT_OK;
	}
	return cli_show_rows(ctx, rows, cols, sizeof cols / sizeof cols[0]);
}

/* Outside text on a terminal: control characters (ESC sequences could
 * rewrite the screen or the title) shown as U+FFFD; line ends kept when
 * `multiline`, else shown as spaces. */
static void put_text(const char *s, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '\n' && multiline)
			putchar('\n');
		else if (*p == '\t' || *p == '\n' || *p == '\r')
			putchar(*p == '\t' && multiline ? '\t' : ' ');
		else if (*p < 0x20 || *p == 0x7f)
			fputs("\xef\xbf\xbd", stdout);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) {
			fputs("\xef\xbf\xbd", stdout); /* C1 controls (U+0080..U+009F) */
			p++;
		} else
			putchar(*p);
	}
}

/* A copy of `rows` whose string values have control characters as
 * put_text shows them, for the table printer. New reference or NULL. */
static json_t *neutralised(const json_t *rows)
{
	json_t *copy = json_deep_copy(rows);
	size_t i;
	json_t *row;

	json_array_foreach(copy, i, row) {
		const char *k;
		json_t *v;

		json_object_foreach(row, k, v) {
			const unsigned char *p = (const unsigned char *)json_string_value(v);
			size_t n = p ? strlen((const char *)p) : 0;
			char *out = p ? malloc(3 * n + 1) : NULL;
			size_t o = 0;

			if (!out)
				continue;
			for (; *p; p++) {
				if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)) {
					memcpy(out + o, "\xef\xbf\xbd", 3);
					o += 3;
					p += *p == 0xc2;
				} else {
					out[o++] = (char)*p;
				}
			}
			out[o] = '\0';
			json_string_set(v, out);
			free(out);
		}
	}
	return copy;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void put_line(const char *label, const json_t *v)
{
	char *text;

	if (!v || json_is_null(v))
		return;
	text = json_is_string(v) ? NULL : cli_scalar(v, 0);
	printf("%-12s ", label);
	put_text(text ? text : json_string_value(v), false);
	putchar('\n');
	free(text);
}

int cli_show_email(const cli_ctx *ctx, const json_t *e)
{
	static const char *const heads[] = {"#", "file", "type", "bytes", "sha256"};
	const json_t *att = json_object_get(e, "attachments");
	const json_t *size = json_object_get(e, "received_size");
	const char *from = json_string_value(json_object_get(e, "from_addr"));
	const char *name = json_string_value(json_object_get(e, "from_name"));
	const char *body = json_string_value(json_object_get(e, "body_text"));
	size_t i;
	json_t *a;
	cli_table t;

	printf("e-mail %lld", (long long)json_integer_value(json_object_get(e, "id")));
	if (json_is_string(json_object_get(e, "direction")))
		printf(" (%s)", json_string_value(json_object_get(e, "direction")));
	putchar('\n');
	if (name || from) {
		printf("%-12s ", "From:");
		if (name) {
			put_text(name, false);
			fputs(" <", stdout);
		}
		put_text(from ? from : "", false);
		if (name)
			putchar('>');
		putchar('\n');
	}
	put_line("To:", json_object_get(e, "to_addrs"));
	put_line("Cc:", json_object_get(e, "cc_addrs"));
	put_line("Subject:", json_object_get(e, "subject"));
	put_line("Message-ID:", json_object_get(e, "message_id"));
	put_line("In-Reply-To:", json_object_get(e, "in_reply_to"));
	put_line("Received:", json_object_get(e, "received_at"));
	put_line("Mailbox:", json_object_get(e, "mailbox"));
	put_line("Origin:", json_object_get(e, "origin"));
	put_line("Case:", json_is_string(json_object_get(e, "case")) ? json_object_get(e, "case")
								     : json_object_get(e, "case_id"));
	if (!same(json_string_value(json_object_get(e, "auto_kind")), "none"))
		put_line("Automatic:", json_object_get(e, "auto_kind"));
	put_line("Parse error:", json_object_get(e, "parse_error"));
	if (json_is_integer(size))
		printf("%-12s %lld bytes as received; the first %lld kept\n", "Size:", (long long)json_integer_value(size),
		       (long long)json_integer_value(json_object_get(e, "raw_size")));
	else
		put_line("Size:", json_object_get(e, "raw_size"));
	if (body && *body) {
		putchar('\n');
		put_text(body, true);
		if (body[strlen(body) - 1] != '\n')
			putchar('\n');
	}
	if (json_array_size(att) == 0)
		return CLI_EXIT_OK;
	printf("\n%zu attachment%s:\n", json_array_size(att), json_array_size(att) == 1 ? "" : "s");
	cli_table_init(&t, 5, heads, "rllrl");
	json_array_foreach(att, i, a) {
		cli_table_cellj(&t, json_object_get(a, "seq"), 0, 0);
		cli_table_cellj(&t, json_object_get(a, "filename"), 0, 40);
		cli_table_cellj(&t, json_object_get(a, "content_type"), 0, 32);
		cli_table_cellj(&t, json_object_get(a, "size"), 0, 0);
		cli_table_cellj(&t, json_object_get(a, "sha256"), 0, 16);
	}
	return cli_table_show(ctx, &t);
}

int cli_show_outbox(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column cols[] = {
		{"id", "id", 'r', 0, 0},       {"status", "status", 'l', 0, 0},  {"to_addr", "to", 'l', 0, 32},
		{"case", "case", 'l', 0, 0},   {"attempts", "tries", 'r', 0, 0}, {"created_at", "queued", 'l', 0, 0},
		{"subject", "subject", 'l', 0, 50}, {"last_error", "last error", 'l', 0, 60},
	};
	const json_t *rows = json_object_get(r, "outbox");
	size_t i, queued = 0, sent = 0, failed = 0;
	json_t *m;

	json_array_foreach(rows, i, m) {
		const char *st = json_string_value(json_object_get(m, "status"));

		queued += same(st, "queued");
		sent += same(st, "sent");
		failed += same(st, "failed");
	}
	printf("%zu automatic response%s: %zu queued, %zu sent, %zu failed\n", json_array_size(rows),
	       json_array_size(rows) == 1 ? "" : "s", queued, sent, failed);
	json_t *safe = neutralised(rows);
	int rc = safe ? cli_show_rows(ctx, safe, cols, sizeof cols / sizeof cols[0]) : CLI_EXIT_ERROR;

	json_decref(safe);
	return rc;
}

static int show_poll(const cli_ctx *ctx, const json_t *r)
{
	static const cli_column uid = {"uid", "uid", 'r', 0, 0};
	const json_t *o = json_object_get(r, "outcomes");
	const json_t *failed = json_object_get(r, "failed");
	size_t i;
	json_t *e;

	printf("%s %s: %lld unseen, %lld ingested: %lld created a case, %lld updated one, %lld attached, %lld skipped, "
	       "%lld held as spam\n",
	       json_string_value(json_object_get(r, "server")), json_string_value(json_object_get(r, "mailbox")),
	       (long long)json_integer_value(json_object_get(r, "unseen")),
	       (long long)json_integer_value(json_object_get(r, "ingested")),
	       (long long)json_integer_value(json_object_get(o, "created")),
	       (long long)json_integer_value(json_object_get(o, "updated")),
	       (long long)json_integer_value(json_object_get(o, "attached")),
	       (long long)json_integer_value(json_object_get(o, "skipped")),
	       (long long)json_integer_value(json_object_get(o, "spam")) +
		       (long long)json_integer_value(json_object_get(o, "held")));
	if (json_is_true(json_object_get(r, "uidvalidity_changed")))
		printf("note: the mailbox's UIDVALIDITY changed (now %lld); unseen messages were taken as usual\n",
		       (long long)json_integer_value(json_object_get(r, "uidvalidity")));
	json_array_foreach(failed, i, e)
		fprintf(stderr, "caseagent: UID %lld left unseen: %s\n", (long long)json_integer_value(json_object_get(e, "uid")),
			json_string_value(json_object_get(e, "error")));
	return cli_show_email_rows(ctx, json_object_get(r, "emails_detail"), &uid);
}

static int show_send(const cli_ctx *ctx, const json_t *r)
{
	static const char *const heads[] = {"id", "to", "case", "status", "subject / error"};
	const json_t *rows = json_object_get(r, "messages");
	cli_table t;
	size_t i;
	json_t *e;

	printf("%s: %lld sent, %lld failed\n", json_string_value(json_object_get(r, "server")),
	       (long long)json_integer_value(json_object_get(r, "sent")),
	       (long long)json_integer_value(json_object_get(r, "failed")));
	if (json_array_size(rows) == 0)
		return CLI_EXIT_OK;
	cli_table_init(&t, 5, heads, "rllll");
	json_array_foreach(rows, i, e) {
		const json_t *why = json_object_get(e, "error");

		cli_table_cellj(&t, json_object_get(e, "id"), 0, 0);
		cli_table_cellj(&t, json_object_get(e, "to"), 0, 32);
		cli_table_cellj(&t, json_object_get(e, "case"), 0, 0);
		cli_table_cellj(&t, json_object_get(e, "status"), 0, 0);
		cli_table_cellj(&t, json_is_string(why) ? why : json_object_get(e, "subject"), 0, 70);
	}
	return cli_table_show(ctx, &t);
}

/* Exit 1 when some message failed, after the whole result is shown, so a
 * scheduler notices without parsing the output. */
static int finish(cli_ctx *ctx, char *out, const char *key, cli_render_fn human)
{
	json_t *j = json_loads(out, 0, NULL);
	const json_t *f = json_object_get(j, key);
	bool failures = json_is_array(f) ? json_array_size(f) > 0 : json_integer_value(f) > 0;
	int rc;

	json_decref(j);
	rc = cli_result(ctx, out, human);
	return rc == CLI_EXIT_OK && failures ? CLI_EXIT_ERROR : rc;
}

int cli_cmd_email_poll(cli_ctx *ctx, const cli_args *a)
{
	ca_mail_server srv;
	char *password = NULL, *out = NULL;
	ca_err err;
	int i = cli_opt_index(a->cmd, "limit");
	size_t limit = i >= 0 && a->set[i] ? (size_t)a->num[i] : 0;
	int rc = configured(a) ? configured_only(ctx, a) : server_opts(ctx, a, &srv, &password);

	if (rc != CLI_EXIT_OK)
		return rc;
	srv.mailbox_name = cli_opt_str(a, "mailbox");
	ca_err_clear(&err);
	rc = configured(a) ? ca_email_poll_configured(ctx->agent, limit, &out, &err)
			   : ca_email_poll(ctx->agent, &srv, limit, &out, &err);
	wipe(password);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return finish(ctx, out, "failed", show_poll);
}

int cli_cmd_email_send(cli_ctx *ctx, const cli_args *a)
{
	ca_mail_server srv;
	char *password = NULL, *out = NULL;
	ca_err err;
	int rc = configured(a) ? configured_only(ctx, a) : server_opts(ctx, a, &srv, &password);

	if (rc != CLI_EXIT_OK)
		return rc;
	ca_err_clear(&err);
	rc = configured(a) ? ca_outbox_send_configured(ctx->agent, &out, &err) : ca_outbox_send(ctx->agent, &srv, &out, &err);
	wipe(password);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return finish(ctx, out, "failed", show_send);
}

static void show_worker(const char *name, const json_t *w)
{
	const char *err = cli_jstr(w, "last_error");

	if (!json_is_true(json_object_get(w, "configured")))
		printf("%s: not configured", name);
	else if (json_integer_value(json_object_get(w, "interval_s")) > 0)
		printf("%s: %s every %lld s", name, cli_jstr(w, "url"),
		       (long long)json_integer_value(json_object_get(w, "interval_s")));
	else
		printf("%s: %s, not on an interval", name, cli_jstr(w, "url"));
	printf("; %lld runs", (long long)json_integer_value(json_object_get(w, "runs")));
	if (cli_jstr(w, "last_run_at"))
		printf(", last %s", cli_jstr(w, "last_run_at"));
	if (cli_jstr(w, "last_ok_at"))
		printf(", last success %s", cli_jstr(w, "last_ok_at"));
	printf("\n");
	if (err)
		printf("  last error: %s\n", err);
}

static int show_status(const cli_ctx *ctx, const json_t *r)
{
	const json_t *o = json_object_get(r, "outbox");

	(void)ctx;
	show_worker("imap", json_object_get(r, "imap"));
	show_worker("smtp", json_object_get(r, "smtp"));
	printf("outbox: %lld queued, %lld failed, %lld sent\n", (long long)json_integer_value(json_object_get(o, "queued")),
	       (long long)json_integer_value(json_object_get(o, "failed")),
	       (long long)json_integer_value(json_object_get(o, "sent")));
	return CLI_EXIT_OK;
}

int cli_cmd_email_status(cli_ctx *ctx, const cli_args *a)
{
	char *out = NULL;
	ca_err err;

	(void)a;
	ca_err_clear(&err);
	int rc = ca_email_status(ctx->agent, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_status);
}

static int show_release(const cli_ctx *ctx, const json_t *r)
{
	(void)ctx;
	const char *c = json_string_value(json_object_get(r, "case"));
	printf("e-mail %lld released by %s: %s%s%s\n", (long long)json_integer_value(json_object_get(r, "email_id")),
	       json_string_value(json_object_get(r, "released_by")), json_string_value(json_object_get(r, "outcome")),
	       c ? " " : "", c ? c : "");
	printf("%s\n", json_string_value(json_object_get(r, "reason")));
	return CLI_EXIT_OK;
}

int cli_cmd_email_release(cli_ctx *ctx, const cli_args *a)
{
	const char *actor = cli_opt_str(a, "actor");
	unsigned long long id;
	char *end, *out = NULL;
	ca_err err;

	errno = 0;
	id = strtoull(a->pos[0], &end, 10);
	if (errno || *end || id == 0 || id > INT64_MAX)
		return cli_usage_error(ctx, a->cmd, NULL, "'%s' is not an e-mail id (see `caseagent email log`)", a->pos[0]);
	if (!actor) {
		actor = getenv("USER");
		if (!actor || !actor[0])
			actor = "cli";
	}
	ca_err_clear(&err);
	int rc = ca_email_release(ctx->agent, (int64_t)id, actor, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, show_release);
}
