/* SPDX-License-Identifier: MIT */
/*
 * One tick of the follow-up agent (ca_followup_run) and what it writes: a
 * page of open cases is decided in one read snapshot; each case decided
 * other than wait is decided again under the write lock and applied in one
 * transaction (the step row keyed (case, step), the outbox message or the
 * suggestion or the resolution, the audit and interaction-log rows), so a
 * step is queued once whatever restarts or concurrent runs do. Shadow rules
 * write only their own table. Also the shadow log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fu_internal.h"

#define PAGE 256
#define LISTED_MAX 1000
#define BATCH_MAX 64
#define BATCH_SECONDS 0.25

const char *fu_level_name(ca_followup_level l)
{
	return l == CA_FU_FULL ? "full" : l == CA_FU_SHADOW ? "shadow" : "confirm";
}

void fu_tick_done(fu_tick *t)
{
	for (size_t i = 0; i < t->n_owners; i++)
		free(t->owners[i].name);
	t->n_owners = 0;
}

int fu_customer_wrote_since(const json_t *replies, int64_t since, int64_t except_id, bool *ret, ca_err *err)
{
	*ret = false;
	size_t i;
	json_t *e;
	json_array_foreach(replies, i, e) {
		if (json_integer_value(json_object_get(e, "received_epoch")) <= since)
			break;
		if (json_integer_value(json_object_get(e, "id")) == except_id)
			continue;
		const char *ak = ca_json_str(e, "auto_kind");
		if (ak && strcmp(ak, "none"))
			continue;
		ca_reply_reading rd = { 0 };
		int r = fu_read_reply(e, NULL, &rd, err);
		if (r)
			return r;
		bool automatic = rd.intent == CA_REPLY_AUTOMATIC;
		ca_reply_reading_clear(&rd);
		if (!automatic) {
			*ret = true;
			return 0;
		}
	}
	return 0;
}

/* The decision as `followup run` and `simulate` list it (new reference). */
static json_t *decision_json(const fu_case *fc, const fu_decision *d, int64_t outbox, int64_t suggestion)
{
	json_t *email = d->subject ? json_pack("{s:s, s:s}", "subject", d->subject, "body", d->body) : json_null();
	return json_pack("{s:s, s:s?, s:s?, s:s, s:I, s:s, s:s?, s:o, s:s?, s:o, s:o}", "case", fc->ticket, "rule",
			 d->rule ? d->rule->name : NULL, "level", d->rule ? fu_level_name(d->rule->level) : NULL, "decision",
			 d->decision, "step", (json_int_t)d->followup_no, "reason", d->reason, "intent",
			 d->intent < CA_REPLY_N ? ca_reply_intent_name(d->intent) : NULL, "email", email, "resolution",
			 d->resolution, "outbox", outbox ? json_integer(outbox) : json_null(), "suggestion",
			 suggestion ? json_integer(suggestion) : json_null());
}

/* Resolve the case as the agent: status, status reason, the resolution
 * note, and the knowledge agent's trigger, as a person's resolution has. */
static int resolve_case(ca_agent *a, fu_case *fc, const fu_decision *d, json_t *detail, ca_err *err)
{
	int64_t nv = 0;
	int r = ca_store_case_bump_version(a->store, fc->id, json_integer_value(json_object_get(fc->c, "version")), &nv,
					   err);
	if (!r)
		r = ca_case_write_as(a, fc->id, "status", "resolved", "agent", "caseagent", err);
	if (!r)
		r = ca_case_write_as(a, fc->id, "status_reason", d->resolve_reason, "agent", "caseagent", err);
	if (!r)
		r = ca_store_note_add(a->store, fc->id, "resolution", d->resolution, d->evidence, "caseagent", err);
	if (!r) {
		char rid[32];
		snprintf(rid, sizeof(rid), "%lld", (long long)fc->id);
		json_object_set_new(detail, "knowledge", ca_agent_record_done(a, "case", rid));
	}
	return r;
}

static int suggest(ca_agent *a, fu_case *fc, const fu_decision *d, const char *proposed, int64_t *ret_id, ca_err *err)
{
	json_t *rec = json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I}", "case_id", (json_int_t)fc->id,
				"step", (json_int_t)d->step_no, "rule", d->rule->name, "proposed", proposed, "reply_summary",
				d->summary, "intent", d->intent < CA_REPLY_N ? ca_reply_intent_name(d->intent) : NULL,
				"email_subject", d->subject, "email_body", d->body, "resolution", d->resolution,
				"reply_email_id", (json_int_t)d->reply_email_id, "created_epoch", (json_int_t)ca_time_now());
	int r = rec ? ca_store_suggestion_add(a->store, rec, ret_id, err) : CA_ENOMEM;
	json_decref(rec);
	return r;
}

/* Apply a decision other than wait, inside the caller's transaction. */
static int apply(ca_agent *a, fu_tick *t, fu_case *fc, fu_decision *d, int64_t *ret_outbox, int64_t *ret_sugg,
		 ca_err *err)
{
	const ca_followup_rule *fr = d->rule;
	int r = 0;
	if (fr->level == CA_FU_SHADOW) {
		char basis[64];
		snprintf(basis, sizeof(basis), "out:%lld reply:%lld", (long long)d->basis_out, (long long)d->reply_email_id);
		json_t *rec = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s?, s:o}", "case_id", (json_int_t)fc->id, "rule",
					fr->name, "decision", d->decision, "step", (json_int_t)d->followup_no, "basis", basis,
					"reason", d->reason, "intent",
					d->intent < CA_REPLY_N ? ca_reply_intent_name(d->intent) : NULL, "email",
					d->subject ? json_pack("{s:s, s:s}", "subject", d->subject, "body", d->body) : json_null());
		r = rec ? ca_store_followup_shadow_add(a->store, rec, NULL, err) : CA_ENOMEM;
		json_decref(rec);
		return r;
	}
	json_t *detail = json_pack("{s:s, s:s, s:s, s:I, s:s?}", "rule", fr->name, "level", fu_level_name(fr->level), "reason",
				   d->reason, "step", (json_int_t)d->followup_no, "intent",
				   d->intent < CA_REPLY_N ? ca_reply_intent_name(d->intent) : NULL);
	if (!detail)
		return CA_ENOMEM;
	if (d->intent < CA_REPLY_N)
		json_object_set_new(detail, "confidence", json_real(d->confidence));
	int64_t outbox = 0, sugg = 0;
	bool resolved = false;
	if (d->supersede)
		r = ca_store_suggestion_close(a->store, d->supersede, "superseded", NULL, NULL, 0, err);
	const char *dec = d->decision;
	if (r) {
	} else if (!strcmp(dec, "send_followup") && fr->level == CA_FU_FULL) {
		json_t *row = NULL;
		r = ca_case_email_queue(a, fc->id, d->subject, d->body, NULL, "auto-generated", &row, err);
		outbox = r ? 0 : json_integer_value(json_object_get(row, "id"));
		json_decref(row);
	} else if (!strcmp(dec, "send_followup")) {
		r = suggest(a, fc, d, "send_followup", &sugg, err);
	} else if (!strcmp(dec, "hand_to_person")) {
		r = suggest(a, fc, d, "draft_reply", &sugg, err);
	} else if (fr->level == CA_FU_FULL && (!strcmp(dec, "stop") || fr->after_last_resolve)) {
		r = resolve_case(a, fc, d, detail, err);
		resolved = !r;
	} else {
		r = suggest(a, fc, d, "resolve", &sugg, err);
	}
	if (!r) {
		ca_store_followup_step st = { .case_id = fc->id,
					      .step = d->step_no,
					      .followup = d->followup_no,
					      .rule = fr->name,
					      .level = fu_level_name(fr->level),
					      .decision = dec,
					      .reason = d->reason,
					      .intent = d->intent < CA_REPLY_N ? ca_reply_intent_name(d->intent) : NULL,
					      .reply_email_id = d->reply_email_id,
					      .outbox_id = outbox,
					      .suggestion_id = sugg,
					      .resolved = resolved,
					      .at_epoch = t->now };
		r = ca_store_followup_step_add(a->store, &st, err);
	}
	if (outbox)
		json_object_set_new(detail, "outbox", json_integer(outbox));
	if (sugg)
		json_object_set_new(detail, "suggestion", json_integer(sugg));
	json_object_set_new(detail, "resolved", json_boolean(resolved));
	if (!r)
		r = ca_store_followup_audit(a->store, fc->id, dec, fr->name, detail, err);
	if (!r)
		r = ca_store_interaction_add(a->store, NULL, fc->id, "followup", dec, detail, err);
	json_decref(detail);
	if (!r) {
		*ret_outbox = outbox;
		*ret_sugg = sugg;
	}
	return r;
}

typedef struct run_out {
	json_t *counts, *list;
	size_t cases, listed;
	int rc;
} run_out;

static void count(run_out *o, const char *key)
{
	json_int_t n = json_integer_value(json_object_get(o->counts, key));
	if (json_object_set_new(o->counts, key, json_integer(n + 1)) < 0)
		o->rc = CA_ENOMEM;
}

static void list(run_out *o, json_t *item)
{
	if (!item || (o->listed < LISTED_MAX && json_array_append(o->list, item) < 0))
		o->rc = CA_ENOMEM;
	o->listed++;
	json_decref(item);
}

/* Decide a case again under the write lock and apply what it decides. */
static int act_on(ca_agent *a, fu_tick *t, int64_t id, run_out *o, ca_err *err)
{
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	fu_case fc = { 0 };
	fu_decision d = { 0 };
	int64_t outbox = 0, sugg = 0;
	r = fu_case_load(a, id, &fc, err);
	if (!r)
		r = fu_decide(a, t, &fc, &d, err);
	bool acts = !r && d.decision && strcmp(d.decision, "wait") && strcmp(d.decision, "left_alone");
	if (acts)
		r = apply(a, t, &fc, &d, &outbox, &sugg, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r) {
		ca_agent_rollback(a);
	} else if (d.decision) {
		count(o, d.decision);
		if (acts)
			list(o, decision_json(&fc, &d, outbox, sugg));
	}
	if (r == CA_EEXIST) {
		/* another run took this step first: it is queued once, by it */
		ca_err_clear(err);
		count(o, "decided_elsewhere");
		r = 0;
	}
	fu_decision_done(&d);
	fu_case_done(&fc);
	return r;
}

/* Cases after the read pass that need the write pass. */
typedef struct todo {
	int64_t *v;
	size_t n, cap;
} todo;

static int todo_push(todo *td, int64_t id)
{
	if (td->n == td->cap) {
		size_t nc = td->cap ? td->cap * 2 : 64;
		int64_t *v = realloc(td->v, nc * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		td->v = v;
		td->cap = nc;
	}
	td->v[td->n++] = id;
	return 0;
}

/* One page of a status's cases: decide them in one read snapshot; then
 * apply, one transaction each, what is not a wait. *ret_done: the limit
 * was reached. */
static int run_page(ca_agent *a, fu_tick *t, const ca_followup_opts *opts, size_t limit, const int64_t *ids, size_t n,
		    run_out *o, bool *ret_done, ca_err *err)
{
	todo td = { 0 };
	int r = ca_store_begin_read(a->store, err);
	if (r)
		return r;
	for (size_t i = 0; !r && i < n && !*ret_done; i++) {
		fu_case fc;
		fu_decision d = { 0 };
		r = fu_case_load(a, ids[i], &fc, err);
		if (r == CA_ENOTFOUND) { /* removed since the page was read */
			ca_err_clear(err);
			r = 0;
			continue;
		}
		if (!r)
			r = fu_decide(a, t, &fc, &d, err);
		if (!r && d.decision) {
			o->cases++;
			bool acts = strcmp(d.decision, "wait") && strcmp(d.decision, "left_alone");
			if (opts->dry_run) {
				count(o, d.decision);
				list(o, decision_json(&fc, &d, 0, 0));
			} else if (acts) {
				r = todo_push(&td, ids[i]);
			} else {
				count(o, d.decision);
			}
			if (limit && o->cases >= limit)
				*ret_done = true;
		}
		fu_decision_done(&d);
		fu_case_done(&fc);
	}
	if (r)
		ca_store_rollback(a->store);
	else
		r = ca_store_commit(a->store, err);
	/* The cases to act on go in batches, each case in a savepoint of its
	 * own (all or nothing), the batch committed at BATCH_MAX cases, after
	 * BATCH_SECONDS, or when another writer waits: one commit's write-out
	 * for many cases, and the write lock never held long. */
	size_t in_batch = 0;
	double began = 0;
	for (size_t i = 0; !r && i < td.n; i++) {
		ca_err e2 = { 0 };
		if (!in_batch) {
			if ((r = ca_store_begin(a->store, err)))
				break;
			began = ca_time_mono();
		}
		in_batch++;
		int x = act_on(a, t, td.v[i], o, &e2);
		if (i + 1 == td.n || in_batch >= BATCH_MAX || ca_time_mono() - began > BATCH_SECONDS ||
		    ca_store_contended(a->store)) {
			in_batch = 0;
			if ((r = ca_store_commit(a->store, err)))
				ca_agent_rollback(a);
		}
		if (x == CA_ENOMEM) {
			r = x;
		} else if (x) {
			/* one case's failure (a lock timeout) is reported, the
			 * others go on; the next tick decides it again */
			count(o, "error");
			json_t *item = json_pack("{s:I, s:s, s:s}", "case_id", (json_int_t)td.v[i], "decision", "error",
						 "reason", e2.message[0] ? e2.message : ca_strerror(x));
			list(o, item);
		}
	}
	if (in_batch) {
		/* a failure broke out of the loop with a batch open */
		ca_agent_rollback(a);
	}
	free(td.v);
	return r;
}

int ca_followup_run(ca_agent *a, const ca_followup_opts *opts, char **ret_json, ca_err *err)
{
	ca_followup_opts none = { 0 };
	if (!opts)
		opts = &none;
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	const ca_followup_settings *fs = &a->settings->followup;
	if (opts->rule) {
		size_t k = 0;
		while (k < fs->n_rules && strcmp(fs->rules[k].name, opts->rule))
			k++;
		if (k == fs->n_rules)
			return ca_err_set(err, CA_ENOTFOUND, "rule", "no follow-up rule is named '%.100s' (followup.rules)",
					  opts->rule);
	}
	size_t limit = opts->limit;
	if (opts->dry_run && limit == 0)
		limit = 100;
	if (opts->dry_run && limit > 100)
		return ca_err_set(err, CA_EINVAL, "limit", "a simulation looks at 1 to 100 cases, not %zu", limit);
	fu_tick t = { .now = opts->now ? opts->now : ca_time_now(), .rule = opts->rule };
	run_out o = { json_object(), json_array(), 0, 0, 0 };
	ca_strv statuses = { 0 };
	if (!o.counts || !o.list)
		r = CA_ENOMEM;
	/* Settings hold the snapshot for the whole tick, even if a reload
	 * comes in between. */
	ca_settings *snap = ca_settings_ref(a->settings);
	if (!r && fs->n_rules)
		r = ca_store_case_statuses(a->store, &statuses, err);
	bool done = false;
	for (size_t si = 0; !r && !done && si < statuses.n; si++) {
		if (fu_status_closed(statuses.v[si]))
			continue;
		int64_t before = 0;
		while (!r && !done) {
			ca_store_case_filter f = { .status = statuses.v[si], .before_id = before, .limit = PAGE };
			int64_t *ids = NULL;
			size_t n = 0;
			r = ca_store_case_page(a->store, &f, &ids, &n, err);
			if (!r && n)
				r = run_page(a, &t, opts, limit, ids, n, &o, &done, err);
			if (!r && n)
				before = ids[n - 1];
			free(ids);
			if (!n)
				break;
		}
	}
	if (!r && o.rc)
		r = CA_ENOMEM;
	char at[21];
	ca_time_iso(t.now, at);
	json_t *res = r ? NULL
			: json_pack("{s:s, s:I, s:O, s:O, s:b}", "now", at, "cases", (json_int_t)o.cases, "counts", o.counts,
				    "decisions", o.list, "dry_run", opts->dry_run);
	if (!r && !res)
		r = CA_ENOMEM;
	if (!r && o.listed > LISTED_MAX)
		json_object_set_new(res, "decisions_not_listed", json_integer((json_int_t)(o.listed - LISTED_MAX)));
	json_decref(o.counts);
	json_decref(o.list);
	ca_strv_done(&statuses);
	fu_tick_done(&t);
	ca_settings_free(snap);
	if (r)
		return r;
	return ca_result(res, ret_json);
}

int ca_followup_interval(ca_agent *a, unsigned *ret_minutes, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	if (!r)
		*ret_minutes = a->settings->followup.n_rules ? a->settings->followup.interval_minutes : 0;
	return r;
}

int ca_followup_shadow_log(ca_agent *a, const char *rule, size_t limit, char **ret_json, ca_err *err)
{
	json_t *rows = NULL;
	if (limit > 1000)
		return ca_err_set(err, CA_EINVAL, "limit", "the shadow log lists at most 1000 decisions at once");
	int r = ca_store_followup_shadow_list(a->store, rule, limit, &rows, err);
	if (r)
		return r;
	json_t *res = json_pack("{s:s?, s:o}", "rule", rule, "decisions", rows);
	return res ? ca_result(res, ret_json) : CA_ENOMEM;
}
