/* SPDX-License-Identifier: MIT */
/*
 * The background e-mail work of `caseagent serve` (issue 10, item 6): one
 * IMAP poll or one outbox send with the servers the settings name, the
 * password read from its file for the run and wiped after, and each run's
 * outcome recorded in the database (worker_state, migration 15), so every
 * serve process on it shows the same state at GET /api/v1/email/status.
 * The scheduling (intervals, threads) is the server's; this is one run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"

/* A password file larger than this is not a password file. */
#define MAX_PASSWORD_BYTES 4096

static void wipe(char *s)
{
	if (!s)
		return;
	/* volatile: the stores must happen though the memory is freed next */
	for (volatile char *p = s; *p; p++)
		*p = '\0';
	free(s);
}

/* The first line of `path`, without its line end; caller wipes. Read
 * unbuffered, so no copy of it stays in a stdio buffer. */
static int read_password(const char *path, char **ret, ca_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ca_err_set(err, CA_EIO, "password_file", "cannot open the password file %s: %s", path,
				  strerror(errno));
	setvbuf(f, NULL, _IONBF, 0);
	char *buf = calloc(1, MAX_PASSWORD_BYTES + 2);
	if (!buf) {
		fclose(f);
		return ca_err_set(err, CA_ENOMEM, "password_file", "out of memory");
	}
	size_t n = fread(buf, 1, MAX_PASSWORD_BYTES + 1, f);
	bool failed = ferror(f);
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	int r = 0;
	if (failed)
		r = ca_err_set(err, CA_EIO, "password_file", "cannot read the password file %s", path);
	else if (n > MAX_PASSWORD_BYTES)
		r = ca_err_set(err, CA_ETOOBIG, "password_file", "%s is too large for a password file (over %d bytes)", path,
			       MAX_PASSWORD_BYTES);
	else if (!buf[0])
		r = ca_err_set(err, CA_EINVAL, "password_file", "%s: the first line of the password file is empty", path);
	if (r) {
		memset(buf, 0, MAX_PASSWORD_BYTES + 2);
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

/* Whatever a server said back, the password never leaves in an error. */
static void redact(ca_err *e, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	if (!n)
		return;
	for (char *p; (p = strstr(e->message, secret));)
		memset(p, '*', n);
	for (char *p; (p = strstr(e->where, secret));)
		memset(p, '*', n);
}

/* The counts of a run's result that its state keeps. */
static json_t *counts(bool imap, const char *out)
{
	json_t *res = out ? json_loads(out, 0, NULL) : NULL;
	json_t *c = !res ? NULL
		    : imap ? json_pack("{s:O?, s:O?, s:O?, s:I}", "unseen", json_object_get(res, "unseen"), "ingested",
				       json_object_get(res, "ingested"), "outcomes", json_object_get(res, "outcomes"),
				       "failed", (json_int_t)json_array_size(json_object_get(res, "failed")))
			   : json_pack("{s:O?, s:O?, s:O?}", "attempted", json_object_get(res, "attempted"), "sent",
				       json_object_get(res, "sent"), "failed", json_object_get(res, "failed"));
	json_decref(res);
	return c;
}

typedef int (*run_fn)(ca_agent *a, const ca_mail_server *srv, size_t limit, char **ret_json, ca_err *err);

static int run_poll(ca_agent *a, const ca_mail_server *srv, size_t limit, char **ret_json, ca_err *err)
{
	return ca_email_poll(a, srv, limit, ret_json, err);
}

static int run_send(ca_agent *a, const ca_mail_server *srv, size_t limit, char **ret_json, ca_err *err)
{
	(void)limit; /* a send takes the whole outbox */
	return ca_outbox_send(a, srv, ret_json, err);
}

/* One run with the configured server of `worker`, recorded. */
static int run_configured(ca_agent *a, bool imap, run_fn run, size_t limit, char **ret_json, ca_err *err)
{
	const char *worker = imap ? "imap" : "smtp";
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	const struct ca_mail_account *acc = imap ? &a->settings->email.imap : &a->settings->email.smtp;
	if (!acc->url)
		return ca_err_set(err, CA_ESTATE, imap ? "email.imap" : "email.smtp",
				  "no %s server is configured (settings: email.%s)", imap ? "IMAP" : "SMTP", worker);
	ca_err e;
	ca_err_clear(&e);
	char *password = NULL, *out = NULL;
	if (acc->password_file)
		r = read_password(acc->password_file, &password, &e);
	if (!r) {
		ca_mail_server srv = { .url = acc->url, .user = acc->user, .password = password,
				       .mailbox_name = acc->mailbox, .allow_plaintext = acc->allow_plaintext };
		r = run(a, &srv, limit, &out, &e);
	}
	redact(&e, password);
	wipe(password);
	json_t *c = r ? NULL : counts(imap, out);
	ca_err ignored;
	ca_err_clear(&ignored);
	/* The run's outcome is the news; its record is a best effort (a
	 * database that failed the run may fail this too). */
	(void)ca_store_worker_record(a->store, worker, acc->url, r ? (e.message[0] ? e.message : ca_strerror(r)) : NULL,
				     c, &ignored);
	json_decref(c);
	if (r) {
		free(out);
		return ca_err_set(err, r, e.where[0] ? e.where : NULL, "%s", e.message[0] ? e.message : ca_strerror(r));
	}
	*ret_json = out;
	return 0;
}

int ca_email_poll_configured(ca_agent *a, size_t limit, char **ret_json, ca_err *err)
{
	return run_configured(a, true, run_poll, limit, ret_json, err);
}

int ca_outbox_send_configured(ca_agent *a, char **ret_json, ca_err *err)
{
	return run_configured(a, false, run_send, 0, ret_json, err);
}

/* One worker's part of the status: the settings' view and the last runs'. */
static int worker_status(ca_agent *a, const struct ca_mail_account *acc, unsigned interval, const char *worker,
			 json_t **ret, ca_err *err)
{
	json_t *st = NULL;
	int r = ca_store_worker_get(a->store, worker, &st, err);
	if (r)
		return r;
	json_t *o = json_pack("{s:b, s:s?, s:I}", "configured", acc && acc->url, "url", acc ? acc->url : NULL,
			      "interval_s", (json_int_t)(acc && acc->url ? interval : 0));
	static const char *const keys[] = { "runs", "last_run_at", "last_ok_at", "last_error", "last_result" };
	for (size_t i = 0; o && i < CA_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(st, keys[i]);
		v = v ? json_incref(v) : i == 0 ? json_integer(0) : json_null();
		if (json_object_set_new(o, keys[i], v) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	json_decref(st);
	if (!o)
		return ca_err_set(err, CA_ENOMEM, NULL, "e-mail status: out of memory");
	*ret = o;
	return 0;
}

int ca_email_status(ca_agent *a, char **ret_json, ca_err *err)
{
	/* Without settings nothing is configured; the recorded runs still show. */
	ca_err ignored;
	ca_err_clear(&ignored);
	const ca_email_settings *es = ca_agent_ready(a, &ignored) == 0 ? &a->settings->email : NULL;
	json_t *imap = NULL, *smtp = NULL, *outbox = NULL;
	int r = worker_status(a, es ? &es->imap : NULL, es ? es->poll_interval_s : 0, "imap", &imap, err);
	if (!r)
		r = worker_status(a, es ? &es->smtp : NULL, es ? es->send_interval_s : 0, "smtp", &smtp, err);
	if (!r)
		r = ca_store_outbox_counts(a->store, &outbox, err);
	if (r) {
		json_decref(imap);
		json_decref(smtp);
		return r;
	}
	json_t *res = json_pack("{s:o, s:o, s:o}", "imap", imap, "smtp", smtp, "outbox", outbox);
	return res ? ca_result(res, ret_json) : ca_err_set(err, CA_ENOMEM, NULL, "e-mail status: out of memory");
}
