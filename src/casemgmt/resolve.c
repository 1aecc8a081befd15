/* SPDX-License-Identifier: MIT */
/*
 * Case resolution: resolve (with the resolution text a representative
 * writes), cancel and reactivate. Each is a person's change of status, with
 * its audit row, in one transaction; the resolution text is kept as a note.
 * Resolving is what the knowledge agent listens for (issue 4), and what the
 * e-mail channel's resolved-case window measures from. Resolution help
 * reads the case's thread (chat lines, e-mails, people's notes) and lets
 * the summariser (ca_summary_propose_resolution) pick what the
 * representative said was done, for the person resolving to accept or
 * change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "summary.h"
#include "text.h"

static bool is_closed(const char *status)
{
	return status && (ca_streq_ci(status, "resolved") || ca_streq_ci(status, "cancelled") || ca_streq_ci(status, "closed"));
}

/*
 * Move a case to `status` if its current status allows it: resolve and
 * cancel from an open status, reactivate from a closed one. *ret: the
 * result (new reference); *ret_id: the case's id.
 */
static int transition(ca_agent *a, const char *ref, const char *status, const char *reason, const char *note_kind,
		      const char *note, const char *actor, json_t **ret, int64_t *ret_id, ca_err *err)
{
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	int64_t id = 0, version = 0, nv = 0;
	json_t *c = NULL;
	r = ca_case_ref(a, ref, &id, err);
	if (!r)
		r = ca_store_case_get_id(a->store, id, &c, err);
	const char *ticket = r ? NULL : ca_json_str(c, "ticket_number");
	const char *old = r ? NULL : ca_json_str(json_object_get(c, "fields"), "status");
	bool reopening = !strcmp(status, "active");
	if (!r && reopening && !is_closed(old))
		r = ca_err_set(err, CA_ESTATE, "status", "case %s is %s, not resolved or cancelled: nothing to reactivate", ticket,
			       old ? old : "active");
	else if (!r && !reopening && is_closed(old))
		r = ca_err_set(err, CA_ESTATE, "status", "case %s is already %s; reactivate it first", ticket, old);
	if (!r) {
		version = json_integer_value(json_object_get(c, "version"));
		r = ca_store_case_bump_version(a->store, id, version, &nv, err);
	}
	const char *who = actor ? actor : "unknown";
	if (!r)
		r = ca_case_write_as(a, id, "status", status, "person", who, err);
	if (!r)
		r = ca_case_write_as(a, id, "status_reason", reason, "person", who, err);
	if (!r && note)
		r = ca_store_note_add(a->store, id, note_kind, note, NULL, who, err);
	json_t *res = NULL;
	if (!r && !(res = json_pack("{s:s, s:s?, s:s, s:s?, s:I}", "case", ticket, "old_status", old, "status", status,
				    "reason", reason, "version", (json_int_t)nv)))
		r = ca_err_set(err, CA_ENOMEM, NULL, "case %s: out of memory", ref);
	if (!r)
		r = ca_store_commit(a->store, err);
	json_decref(c);
	if (r) {
		ca_store_rollback(a->store);
		json_decref(res);
		return r;
	}
	*ret = res;
	*ret_id = id;
	return 0;
}

int ca_case_resolve(ca_agent *a, const char *ref, const char *resolution, const char *actor, char **ret_json,
		    ca_err *err)
{
	int r0 = ca_agent_ready(a, err);
	if (r0)
		return r0;
	if (ca_str_empty(resolution))
		return ca_err_set(err, CA_EINVAL, "resolution",
				  "a resolution says how the case was solved: give it with --resolution TEXT");
	size_t bad;
	if (!ca_utf8_valid(resolution, strlen(resolution), &bad))
		return ca_err_set(err, CA_EUTF8, "resolution", "the resolution is not valid UTF-8 (byte %zu)", bad);
	/* The resolution and the knowledge agent's real-time trigger commit
	 * together, each in a savepoint of its own, so a crash cannot keep
	 * the one and lose the other. The resolution stands whatever the
	 * knowledge agent does; its outcome (or error) is reported beside it. */
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	json_t *res = NULL;
	int64_t id = 0;
	r = transition(a, ref, "resolved", "problem solved", "resolution", resolution, actor, &res, &id, err);
	if (!r) {
		char rid[32];
		snprintf(rid, sizeof(rid), "%lld", (long long)id);
		json_object_set_new(res, "knowledge", ca_agent_record_done(a, "case", rid));
		r = ca_store_commit(a->store, err);
	}
	if (r) {
		ca_agent_rollback(a);
		json_decref(res);
		return r;
	}
	return ca_result(res, ret_json);
}

int ca_case_cancel(ca_agent *a, const char *ref, const char *reason, const char *actor, char **ret_json, ca_err *err)
{
	json_t *res = NULL;
	int64_t id;
	int r = transition(a, ref, "cancelled", ca_str_empty(reason) ? "cancelled" : reason, "note", NULL, actor, &res, &id,
			   err);
	return r ? r : ca_result(res, ret_json);
}

int ca_case_reactivate(ca_agent *a, const char *ref, const char *actor, char **ret_json, ca_err *err)
{
	json_t *res = NULL;
	int64_t id;
	int r = transition(a, ref, "active", "reactivated", "note", NULL, actor, &res, &id, err);
	return r ? r : ca_result(res, ret_json);
}

/* ---- resolution help ---- */

/* One message of a case's thread and where it is stored. */
typedef struct thread_src {
	const char *source; /* "message" | "email" | "note" */
	json_t *id;         /* the stored record's id (borrowed from the thread's JSON) */
	char key[24];       /* the unique id the summariser sees: "m<index>" */
} thread_src;

/* A case's thread, oldest first within each kind: its conversation's chat
 * lines, its e-mails (what is new in each; automatic ones left out), then
 * people's notes (a representative's own words, so role agent). */
typedef struct thread {
	ca_msg *m;
	thread_src *src;
	size_t n;
	json_t *hold; /* owns what m and src borrow */
} thread;

static void thread_done(thread *t)
{
	free(t->m);
	free(t->src);
	json_decref(t->hold);
	memset(t, 0, sizeof(*t));
}

/* Append msgs[0..n) (texts borrowed) from `source`, ids[i] the stored
 * id of msgs[i]. The summariser's ids (src[].key) are set once the
 * thread is whole (thread_load), as the arrays move until then. */
static int thread_add(thread *t, const ca_msg *msgs, size_t n, const char *source, json_t *const *ids)
{
	if (!n)
		return 0;
	ca_msg *m = realloc(t->m, (t->n + n) * sizeof(*m));
	if (!m)
		return CA_ENOMEM;
	t->m = m;
	thread_src *src = realloc(t->src, (t->n + n) * sizeof(*src));
	if (!src)
		return CA_ENOMEM;
	t->src = src;
	for (size_t i = 0; i < n; i++, t->n++) {
		thread_src *s = &t->src[t->n];
		s->source = source;
		s->id = ids[i];
		snprintf(s->key, sizeof(s->key), "m%zu", t->n);
		t->m[t->n] = msgs[i];
	}
	return 0;
}

/* The ids of the rows of `arr` by key, borrowed; NULL for rows without. */
static json_t **row_ids(const json_t *arr, const char *key)
{
	size_t n = json_array_size(arr);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_object_get(json_array_get(arr, i), key);
	return v;
}

static int thread_load(ca_agent *a, const json_t *c, int64_t case_id, thread *t, ca_err *err)
{
	if (!(t->hold = json_array()))
		return CA_ENOMEM;
	int r = 0;
	ca_msg *m = NULL;
	size_t n = 0;
	json_t **ids = NULL;
	const char *conv = ca_json_str(c, "conversation_id");
	if (conv) {
		json_t *msgs = NULL;
		r = ca_store_message_list(a->store, conv, &msgs, err);
		if (r == CA_ENOTFOUND) { /* an e-mail case may name a thread with no conversation row */
			ca_err_clear(err);
			r = 0;
		} else if (!r) {
			r = json_array_append_new(t->hold, msgs) < 0 ? CA_ENOMEM : 0;
			if (!r)
				r = ca_msgs_from_json(msgs, &m, &n);
			if (!r && !(ids = row_ids(msgs, "id")))
				r = CA_ENOMEM;
			if (!r)
				r = thread_add(t, m, n, "message", ids);
			free(m);
			free(ids);
			m = NULL;
			ids = NULL;
		}
	}
	json_t *th = NULL;
	if (!r)
		r = ca_email_thread_msgs(a, case_id, &th, &m, &n, err);
	if (!r && json_array_append_new(t->hold, th) < 0)
		r = CA_ENOMEM;
	if (!r) {
		/* ca_email_thread_msgs leaves automatic mail out: find each
		 * message's row by the id it gave it */
		ids = calloc(n ? n : 1, sizeof(*ids));
		size_t i, k = 0;
		json_t *row;
		json_array_foreach(th, i, row) {
			if (ids && k < n && m[k].id == ca_json_str(row, "msg_id"))
				ids[k++] = json_object_get(row, "id");
		}
		r = ids ? thread_add(t, m, n, "email", ids) : CA_ENOMEM;
		free(ids);
	}
	free(m);
	json_t *notes = NULL;
	if (!r)
		r = ca_store_note_list(a->store, case_id, &notes, err);
	if (!r && json_array_append_new(t->hold, notes) < 0)
		r = CA_ENOMEM;
	size_t i;
	json_t *note;
	json_array_foreach(r ? NULL : notes, i, note) {
		const char *kind = ca_json_str(note, "kind"), *actor = ca_json_str(note, "actor");
		const char *body = ca_json_str(note, "body");
		/* a person's words; the agent's summary note is its own reading */
		if (!body || !kind || (strcmp(kind, "note") && strcmp(kind, "resolution")) || !actor ||
		    !strcmp(actor, "caseagent"))
			continue;
		ca_msg one = { .role = CA_ROLE_AGENT, .text = body, .len = strlen(body) };
		json_t *id = json_object_get(note, "id");
		if ((r = thread_add(t, &one, 1, "note", &id)) < 0)
			break;
	}
	for (size_t j = 0; !r && j < t->n; j++)
		t->m[j].id = t->src[j].key;
	return r;
}

int ca_case_resolution_proposal(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	json_t *c = NULL;
	r = ca_store_case_get(a->store, case_ref, &c, err);
	if (r)
		return r;
	thread t = { 0 };
	ca_summary prop = { 0 };
	char *text = NULL;
	double confidence = 0;
	r = thread_load(a, c, (int64_t)json_integer_value(json_object_get(c, "id")), &t, err);
	if (!r)
		r = ca_summary_propose_resolution(t.m, t.n, 0, &prop, &text, &confidence, err);
	json_t *ev = r ? NULL : json_array();
	if (!r && !ev)
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < prop.n; i++) {
		const ca_summary_line *l = &prop.lines[i];
		size_t k = strtoul(l->msg_id + 1, NULL, 10); /* "m<index>", ours */
		if (k >= t.n || json_array_append_new(ev, json_pack("{s:s, s:O?, s:s}", "source", t.src[k].source, "id",
								 t.src[k].id, "text", l->text)) < 0)
			r = CA_ENOMEM;
	}
	json_t *res = NULL;
	if (!r) {
		/* json_pack takes ev, whether or not it succeeds */
		res = json_pack("{s:O, s:s?, s:f, s:o}", "case", json_object_get(c, "ticket_number"), "resolution", text,
				"confidence", confidence, "evidence", ev);
		ev = NULL;
		if (!res)
			r = CA_ENOMEM;
	}
	if (r == CA_ENOMEM && err && !err->code)
		ca_err_set(err, r, NULL, "case %s: out of memory", case_ref);
	free(text);
	ca_summary_done(&prop);
	thread_done(&t);
	json_decref(c);
	if (r) {
		json_decref(ev);
		return r;
	}
	return ca_result(res, ret_json);
}
