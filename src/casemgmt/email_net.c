/* SPDX-License-Identifier: MIT */
/*
 * The e-mail channel on the network (ARCHITECTURE §3): polling an IMAP
 * mailbox into the case agent and sending the outbox of automatic
 * responses over SMTP. The order of a poll is what makes it safe: fetch
 * without \Seen, ingest in one committed transaction, only then set \Seen.
 * Whatever dies in between (the process, the database, the connection)
 * leaves the message unseen for the next poll, and ingest's idempotency by
 * Message-ID turns the second look into a recorded duplicate, never a
 * second case. Sending is the mirror image: the server accepts the message,
 * then one transaction marks it sent and stores it as an outgoing e-mail
 * of its case, so the customer's reply threads by In-Reply-To.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "casemgmt.h"
#include "email.h"
#include "mailnet.h"

/* Transport failures in a row after which a poll gives up: the server is
 * gone, not one message broken. */
#define MAX_CONSECUTIVE_FAILURES 3

/* The documented test hook: CA_TEST_CRASH_AFTER_FETCH=N, 0 when unset. */
static int64_t crash_after_fetch(void)
{
	const char *v = getenv("CA_TEST_CRASH_AFTER_FETCH");
	int64_t n = 0;
	if (!v || ca_parse_i64(v, &n) < 0 || n < 0)
		return 0;
	return n;
}

static void count_outcome(json_t *counts, const char *outcome)
{
	if (!outcome)
		return;
	json_object_set_new(counts, outcome, json_integer(json_integer_value(json_object_get(counts, outcome)) + 1));
}

typedef struct poll_state {
	json_t *details, *counts, *failed;
	size_t ingested;
	int64_t max_uid;
} poll_state;

static int note_failure(poll_state *ps, uint32_t uid, const ca_err *e, int code)
{
	json_t *f = json_pack("{s:I, s:s, s:s}", "uid", (json_int_t)uid, "code", ca_strerror(code), "error",
			      e->message[0] ? e->message : ca_strerror(code));
	return f && json_array_append_new(ps->failed, f) == 0 ? 0 : CA_ENOMEM;
}

/* One message: fetch, ingest, mark. Returns 0 (done, or a per-message
 * failure noted in ps->failed and *ret_transport_failed set), or the error
 * that must stop the poll. */
static int poll_one(ca_agent *a, ca_imap *m, const ca_mail_server *srv, uint32_t uid, int64_t nth, int64_t crash_at,
		    poll_state *ps, bool *ret_transport_failed, ca_err *err)
{
	*ret_transport_failed = false;
	char *raw = NULL;
	size_t len = 0, received = 0;
	ca_err fe;
	ca_err_clear(&fe);
	int r = ca_imap_fetch(m, uid, a->settings->email.max_message_bytes, &raw, &len, &received, &fe);
	if (r == CA_ENOTFOUND)
		return 0; /* expunged since the search: nothing to do */
	if (r == CA_ENOMEM)
		return ca_err_set(err, r, "imap", "%s", fe.message);
	if (r) {
		*ret_transport_failed = r == CA_EIO;
		return note_failure(ps, uid, &fe, r);
	}
	if (crash_at > 0 && nth == crash_at)
		_exit(3); /* test hook: die between fetch and commit */

	char origin[512];
	snprintf(origin, sizeof(origin), "%s/%s;UIDVALIDITY=%u/;UID=%u", ca_imap_server(m), ca_imap_mailbox(m),
		 (unsigned)ca_imap_uidvalidity(m), (unsigned)uid);
	char *out = NULL;
	r = ca_email_ingest_prefix(a, raw, len, received, origin, srv->mailbox_name, &out, err);
	free(raw);
	if (r) {
		/* Not marked: the message stays unseen for the next poll. */
		ca_err_locate(err, "%s mailbox %s UID %u", ca_imap_server(m), ca_imap_mailbox(m), (unsigned)uid);
		return r;
	}
	json_t *res = json_loads(out, 0, NULL);
	free(out);
	if (!res)
		return ca_err_set(err, CA_ENOMEM, "email", "out of memory after ingesting UID %u", (unsigned)uid);
	json_object_set_new(res, "uid", json_integer((json_int_t)uid));
	count_outcome(ps->counts, ca_json_str(res, "outcome"));
	json_array_append_new(ps->details, res);
	ps->ingested++;
	if ((int64_t)uid > ps->max_uid)
		ps->max_uid = (int64_t)uid;

	ca_err_clear(&fe);
	r = ca_imap_mark_seen(m, uid, &fe);
	if (r == CA_ENOMEM)
		return ca_err_set(err, r, "imap", "%s", fe.message);
	if (r) {
		/* Ingested and committed; the next poll sees a duplicate and
		 * sets \Seen then. */
		*ret_transport_failed = r == CA_EIO;
		return note_failure(ps, uid, &fe, r);
	}
	return 0;
}

int ca_email_poll(ca_agent *a, const ca_mail_server *srv, size_t limit, char **ret_json, ca_err *err)
{
	if (!srv || ca_str_empty(srv->url))
		return ca_err_set(err, CA_EINVAL, "url", "no IMAP URL given");
	int r = ca_email_ready(a, err);
	if (r)
		return r;
	ca_email_global_init();
	int64_t crash_at = crash_after_fetch();
	ca_imap *m = NULL;
	r = ca_imap_open(srv->url, srv->user, srv->password, srv->allow_plaintext, &m, err);
	if (r)
		return r;

	/* UIDVALIDITY per user, server and mailbox; a change is recorded. */
	const char *key = ca_imap_state_key(m);
	int64_t uidvalidity = (int64_t)ca_imap_uidvalidity(m), old_validity = 0, last_uid = 0;
	bool known = false, changed = false;
	r = ca_store_mailbox_state_get(a->store, key, &known, &old_validity, &last_uid, err);
	if (!r && (!known || old_validity != uidvalidity)) {
		changed = known;
		if (changed)
			last_uid = 0; /* the old UIDs mean nothing now */
		r = ca_store_mailbox_state_put(a->store, key, uidvalidity, last_uid, err);
	}

	uint32_t *uids = NULL;
	size_t n = 0;
	if (!r)
		r = ca_imap_search_unseen(m, &uids, &n, err);
	poll_state ps = { .details = json_array(), .failed = json_array(),
			  .counts = json_pack("{s:i, s:i, s:i, s:i}", "created", 0, "updated", 0, "attached", 0, "skipped", 0),
			  .max_uid = last_uid };
	if (!r && (!ps.details || !ps.failed || !ps.counts))
		r = CA_ENOMEM;
	unsigned consecutive = 0;
	size_t todo = limit && limit < n ? limit : n;
	for (size_t i = 0; !r && i < todo; i++) {
		bool transport_failed = false;
		r = poll_one(a, m, srv, uids[i], (int64_t)i + 1, crash_at, &ps, &transport_failed, err);
		consecutive = transport_failed ? consecutive + 1 : 0;
		if (!r && consecutive >= MAX_CONSECUTIVE_FAILURES) {
			json_t *last = json_array_get(ps.failed, json_array_size(ps.failed) - 1);
			r = ca_err_set(err, CA_EIO, "imap", "%s mailbox %s: giving up after %u failures in a row; last: %s",
				       ca_imap_server(m), ca_imap_mailbox(m), consecutive, ca_json_str(last, "error"));
		}
	}
	if (!r && ps.max_uid > last_uid)
		r = ca_store_mailbox_state_put(a->store, key, uidvalidity, ps.max_uid, err);
	json_t *res = NULL;
	if (!r) {
		res = json_pack("{s:s, s:s, s:I, s:b, s:I, s:I, s:O, s:O, s:O}", "server", ca_imap_server(m), "mailbox",
				ca_imap_mailbox(m), "uidvalidity", (json_int_t)uidvalidity, "uidvalidity_changed", changed,
				"unseen", (json_int_t)n, "ingested", (json_int_t)ps.ingested, "outcomes", ps.counts, "failed",
				ps.failed, "emails_detail", ps.details);
		if (!res)
			r = CA_ENOMEM;
	}
	json_decref(ps.details);
	json_decref(ps.failed);
	json_decref(ps.counts);
	free(uids);
	ca_imap_close(m);
	return r ? r : ca_result(res, ret_json);
}

/* ---- sending ---- */

/* The addr-spec of "Name <a@b>" or "a@b" (caller frees), or NULL. */
static char *bare_address(const char *s)
{
	if (!s)
		return NULL;
	const char *lt = strrchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *b = lt && gt ? lt + 1 : s, *e = lt && gt ? gt : s + strlen(s);
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e > b ? strndup(b, (size_t)(e - b)) : NULL;
}

static const char *header_ci(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)headers, k, v) {
		if (!strcasecmp(k, name))
			return json_string_value(v);
	}
	return NULL;
}

/* The stored outgoing e-mail of a sent message: parsed back from the very
 * text we sent, so it reads like any other e-mail of the thread. */
static int record_sent(ca_agent *a, const json_t *msg, const char *text, size_t len, const char *message_id,
		       bool is_auto, int64_t *ret_email_id, ca_err *err)
{
	ca_email e;
	int r = ca_email_parse(text, len, 0, &e, err);
	if (r)
		return r;
	char *subject_norm = ca_email_subject_norm(e.subject);
	json_t *refs = json_array();
	for (size_t i = 0; refs && i < e.references.n; i++)
		json_array_append_new(refs, json_string(e.references.v[i]));
	ca_buf key = { 0 }, origin = { 0 }, to = { 0 };
	for (size_t i = 0; i < e.n_to; i++)
		if (e.to[i].email && ca_buf_printf(&to, "%s%s", to.len ? ", " : "", e.to[i].email) < 0)
			r = CA_ENOMEM;
	if (!r && (ca_buf_printf(&key, "mid:%s", message_id) < 0 ||
		   ca_buf_printf(&origin, "outbox:%lld", (long long)json_integer_value(json_object_get(msg, "id"))) < 0))
		r = CA_ENOMEM;
	json_t *rec = r ? NULL
			: json_pack("{s:s, s:s, s:s?, s:o, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:s, s:s?, s:s?, s:s}",
				    "msg_key", key.data, "message_id", message_id, "in_reply_to", e.in_reply_to, "refs", refs,
				    "direction", "out", "from_addr", e.from.email, "from_name", e.from.name, "to_addrs",
				    to.data, "subject", e.subject, "subject_norm", subject_norm, "sent_epoch",
				    (json_int_t)e.date, "origin", origin.data, "body_text", e.text, "reply_text",
				    e.reply_text, "auto_kind",
				    /* ours, so we know: the parser's guess (it may
				     * read X-Auto-Response-Suppress as out-of-office)
				     * is not needed */
				    ca_auto_kind_name(is_auto ? CA_AUTO_REPLY : CA_AUTO_NONE));
	if (r)
		json_decref(refs);
	if (!r && !rec)
		r = CA_ENOMEM;
	int64_t id = 0;
	if (!r)
		r = ca_store_email_add(a->store, rec, text, len, &id, err);
	json_t *case_id = json_object_get(msg, "case_id");
	if (!r && json_is_integer(case_id) && json_integer_value(case_id) > 0)
		r = ca_store_email_set_case(a->store, id, (int64_t)json_integer_value(case_id), err);
	json_decref(rec);
	ca_buf_done(&key);
	ca_buf_done(&origin);
	ca_buf_done(&to);
	free(subject_norm);
	ca_email_done(&e);
	if (!r)
		*ret_email_id = id;
	return r;
}

/* Compose and send one outbox message; on success record it. A failure to
 * compose or send is the message's (marked failed); a database failure
 * afterwards is the run's (returned). */
static int send_one(ca_agent *a, const ca_smtp_server *srv, const json_t *msg, json_t *report, ca_err *err)
{
	int64_t id = (int64_t)json_integer_value(json_object_get(msg, "id"));
	const json_t *headers = json_object_get(msg, "headers");
	const char *from = header_ci(headers, "From");
	if (!from && a->settings)
		from = a->settings->email.reply_from;
	const char *to = ca_json_str(msg, "to_addr");
	const char *autosub = header_ci(headers, "Auto-Submitted");
	ca_mail_out mo = { .from = from, .to = to, .subject = ca_json_str(msg, "subject"),
			   .body = ca_json_str(msg, "body"), .date = ca_time_now(), .headers = headers };
	char *text = NULL, *mid = NULL, *env_from = NULL;
	size_t len = 0;
	ca_err me;
	ca_err_clear(&me);
	int mr = from ? 0 : ca_err_set(&me, CA_EINVAL, "From", "outbox message %lld has no From", (long long)id);
	if (!mr)
		mr = ca_mail_compose(&mo, &text, &len, &mid, &me);
	/* Automatic responses: the null reverse-path (RFC 3834 §3.3). */
	bool is_auto = autosub && strcasecmp(autosub, "no") != 0;
	if (!mr && !is_auto && !(env_from = bare_address(from)))
		mr = ca_err_set(&me, CA_EINVAL, "From", "outbox message %lld: no address in From '%s'", (long long)id, from);
	const char *rcpt[1] = { to };
	if (!mr)
		mr = ca_smtp_send(srv, is_auto ? "" : env_from, rcpt, 1, text, len, &me);
	free(env_from);
	int r = 0;
	int64_t email_id = 0;
	if (mr) {
		if (mr == CA_ENOMEM || !strcmp(me.where, "tls")) {
			/* No TLS is the server's setup, not this message's fault:
			 * stop the run and leave the message as it was. */
			r = ca_err_set(err, mr, me.where[0] ? me.where : "outbox", "%s", me.message);
		} else {
			ca_err_locate(&me, "outbox message %lld", (long long)id);
			r = ca_store_outbox_mark(a->store, id, "failed", me.message, err);
		}
	} else {
		r = ca_store_begin(a->store, err);
		if (!r)
			r = record_sent(a, msg, text, len, mid, is_auto, &email_id, err);
		if (!r)
			r = ca_store_outbox_mark(a->store, id, "sent", NULL, err);
		if (!r)
			r = ca_store_commit(a->store, err);
		if (r) {
			ca_store_rollback(a->store);
			ca_err_locate(err, "outbox message %lld (sent, but not recorded: it will be sent again)",
				      (long long)id);
		}
	}
	free(text);
	json_t *c = NULL;
	const char *ticket = NULL;
	json_t *case_id = json_object_get(msg, "case_id");
	if (json_is_integer(case_id) && ca_store_case_get_id(a->store, (int64_t)json_integer_value(case_id), &c, NULL) == 0)
		ticket = ca_json_str(c, "ticket_number");
	json_t *row = json_pack("{s:I, s:s?, s:s?, s:s?, s:s, s:s?, s:o, s:s?}", "id", (json_int_t)id, "to", to, "subject",
				ca_json_str(msg, "subject"), "case", ticket, "status", mr ? "failed" : "sent", "message_id",
				mr ? NULL : mid, "email_id", email_id ? json_integer((json_int_t)email_id) : json_null(),
				"error", mr ? me.message : NULL);
	json_decref(c);
	free(mid);
	if (!row || json_array_append_new(report, row) < 0)
		return r ? r : CA_ENOMEM;
	return r;
}

static int collect_outbox(ca_agent *a, json_t **ret, ca_err *err)
{
	json_t *queued = NULL, *failed = NULL;
	int r = ca_store_outbox_list(a->store, "queued", &queued, err);
	if (!r)
		r = ca_store_outbox_list(a->store, "failed", &failed, err);
	size_t i;
	json_t *m;
	json_array_foreach(failed, i, m) {
		if (json_integer_value(json_object_get(m, "attempts")) < CA_OUTBOX_MAX_ATTEMPTS)
			json_array_append(queued, m);
	}
	json_decref(failed);
	if (r) {
		json_decref(queued);
		return r;
	}
	*ret = queued;
	return 0;
}

int ca_outbox_send(ca_agent *a, const ca_mail_server *smtp, char **ret_json, ca_err *err)
{
	if (!smtp)
		return ca_err_set(err, CA_EINVAL, "url", "no SMTP server given");
	char *server = NULL;
	ca_smtp_server srv = { .url = smtp->url, .user = smtp->user, .password = smtp->password,
			       .allow_plaintext = smtp->allow_plaintext };
	/* A bad URL or plain text to another machine fails the run before
	 * any message is touched. */
	int r = ca_smtp_server_check(&srv, &server, err);
	if (r)
		return r;
	/* Settings are optional here (the outbox holds everything a message
	 * needs), but when stored they give the default From. */
	ca_err ignore;
	ca_err_clear(&ignore);
	(void)ca_agent_ready(a, &ignore);
	ca_email_global_init();
	ca_mailnet_global_init();
	json_t *todo = NULL;
	r = collect_outbox(a, &todo, err);
	json_t *report = r ? NULL : json_array();
	if (!r && !report)
		r = CA_ENOMEM;
	size_t i;
	json_t *msg;
	json_array_foreach(todo, i, msg) {
		if (r)
			break;
		r = send_one(a, &srv, msg, report, err);
	}
	json_decref(todo);
	json_t *res = NULL;
	if (!r) {
		json_int_t sent = 0, failed = 0;
		json_array_foreach(report, i, msg) {
			if (!strcmp(ca_json_str(msg, "status"), "sent"))
				sent++;
			else
				failed++;
		}
		res = json_pack("{s:s, s:I, s:I, s:I, s:O}", "server", server, "attempted", (json_int_t)json_array_size(report),
				"sent", sent, "failed", failed, "messages", report);
		if (!res)
			r = CA_ENOMEM;
	}
	json_decref(report);
	free(server);
	return r ? r : ca_result(res, ret_json);
}
