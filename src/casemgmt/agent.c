/* SPDX-License-Identifier: MIT */
/*
 * The case agent on live chat (ARCHITECTURE §3): the conversation state
 * machine (open -> active -> [waiting] -> wrap-up -> closed), the creation
 * gate (a case only when every default field is predicted above its
 * threshold), update from conversation, the summary note on close, the agent
 * interaction log, and people's edits. Each event is one transaction and is
 * idempotent by event id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "pii.h"
#include "summary.h"
#include "text.h"

/* ---- opening ---- */

int ca_casemgmt_open(const char *db_path, ca_agent **ret, ca_err *err)
{
	ca_agent *a = calloc(1, sizeof(*a));
	if (!a)
		return CA_ENOMEM;
	int r = ca_store_open(db_path, &a->store, err);
	if (r) {
		free(a);
		return r;
	}
	*ret = a;
	return 0;
}

/* ---- the analyses of conversations ----
 *
 * A conversation's analysis (its messages' tokens and the predictors'
 * incremental state) is kept across its events, so an event or an update
 * looks only at the messages new since: messages are append-only. An agent
 * keeps CA_ANALYSES_MAX of them, the least recently used making way, so a
 * server thread serving many chats in turn keeps each one's. An analysis is
 * kept only while the directory is the one its linker asked (the
 * directory's generation and this connection's own writes to it, read when
 * the analysis is taken: a later write makes it start again). With it are
 * the messages read so far, so the next event or update reads only the
 * ones after them (ca_store_message_list_after), as long as their text
 * stays within KEPT_CONV_BYTES a conversation and KEPT_AGENT_BYTES all
 * together (past that a conversation's are read whole each time, so memory
 * stays bounded whatever the chats send). A conversation's entry is
 * dropped when one of its events rolls back (it may hold the event's
 * messages; an update writes none), and every entry with the predictor
 * (the states are keyed by the predictor's parts).
 */
#define KEPT_CONV_BYTES ((size_t)256 * 1024)
#define KEPT_AGENT_BYTES ((size_t)8 * 1024 * 1024)

typedef struct ca_conv_analysis {
	char *conv;
	ca_analysis an;
	json_t *msgs;      /* the messages read so far (ca_store_message_list rows), or NULL */
	int64_t msgs_seq;  /* the seq of the last of them */
	size_t msgs_bytes; /* the bytes of their text */
	int64_t dir_gen;
	uint64_t dir_own;
	uint64_t used; /* a->analyses_tick at its last use */
} ca_conv_analysis;

/* Let go of the messages entry c keeps. */
static void drop_msgs(ca_agent *a, ca_conv_analysis *c)
{
	json_decref(c->msgs);
	c->msgs = NULL;
	a->kept_msg_bytes -= c->msgs_bytes;
	c->msgs_bytes = 0;
}

static void conv_analysis_free(ca_agent *a, ca_conv_analysis *c)
{
	if (c) {
		drop_msgs(a, c);
		free(c->conv);
		ca_analysis_done(&c->an);
		free(c);
	}
}

static void forget_analyses(ca_agent *a)
{
	for (size_t i = 0; i < CA_ANALYSES_MAX; i++) {
		conv_analysis_free(a, a->analyses[i]);
		a->analyses[i] = NULL;
	}
}

/* Drop conversation conv's analysis, if kept. */
static void forget_analysis(ca_agent *a, const char *conv)
{
	for (size_t i = 0; conv && i < CA_ANALYSES_MAX; i++) {
		ca_conv_analysis *c = a->analyses[i];
		if (c && !strcmp(c->conv, conv)) {
			conv_analysis_free(a, c);
			a->analyses[i] = NULL;
		}
	}
}

const ca_analysis *ca_agent_analysis_of(const ca_agent *a, const char *conv)
{
	for (size_t i = 0; i < CA_ANALYSES_MAX; i++)
		if (a->analyses[i] && !strcmp(a->analyses[i]->conv, conv))
			return &a->analyses[i]->an;
	return NULL;
}

/* Conversation conv's entry: its own, else a fresh one in the place of an
 * empty or the least recently used one. Borrowed: valid until the next call
 * for another conversation or forget_analyses. NULL when out of memory. */
static ca_conv_analysis *conv_entry(ca_agent *a, const char *conv)
{
	ca_conv_analysis **slot = NULL;
	for (size_t i = 0; i < CA_ANALYSES_MAX; i++) {
		ca_conv_analysis *c = a->analyses[i];
		if (c && !strcmp(c->conv, conv)) {
			slot = &a->analyses[i];
			break;
		}
		if (!slot || (*slot && (!c || c->used < (*slot)->used)))
			slot = &a->analyses[i];
	}
	ca_conv_analysis *c = *slot;
	if (c && strcmp(c->conv, conv)) { /* the least recently used makes way */
		conv_analysis_free(a, c);
		c = *slot = NULL;
	}
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))) || !(c->conv = strdup(conv))) {
			free(c);
			return NULL;
		}
		ca_analysis_init(&c->an);
		*slot = c;
	}
	c->used = ++a->analyses_tick;
	return c;
}

/* Entry c's analysis for its n_msgs messages, as far as it is still good:
 * started again when the directory moved since (module comment). */
static ca_analysis *analysis_of(ca_agent *a, ca_conv_analysis *c, size_t n_msgs)
{
	int64_t gen = 0;
	uint64_t own = 0;
	bool known = ca_store_directory_generation(a->store, &gen, &own, NULL) == 0;
	if (!known || c->dir_gen != gen || c->dir_own != own || c->an.n > n_msgs) {
		ca_analysis_done(&c->an);
		ca_analysis_init(&c->an);
	}
	c->dir_gen = gen;
	c->dir_own = own;
	return &c->an;
}

json_t *ca_agent_record_done(ca_agent *a, const char *record_type, const char *record_id)
{
	if (!a->hooks.record_done)
		return json_pack("{s:s, s:s}", "outcome", "off", "reason", "no knowledge agent is attached to this agent");
	json_t *k = NULL;
	ca_err kerr;
	ca_err_clear(&kerr);
	if (a->hooks.record_done(a, record_type, record_id, &k, &kerr)) {
		json_decref(k);
		k = json_pack("{s:s, s:s}", "outcome", "error", "reason", kerr.message);
	}
	return k;
}

void ca_agent_rollback(ca_agent *a)
{
	ca_store_rollback(a->store);
	if (a->hooks.rolled_back) /* a module may hold what was rolled back */
		a->hooks.rolled_back(a);
}

void ca_agent_invalidate(ca_agent *a)
{
	ca_pii_free(a->pii); /* it knows the directory's names */
	a->pii = NULL;
	ca_predictor_free(a->predictor);
	a->predictor = NULL;
	json_decref(a->models);
	a->models = NULL;
	forget_analyses(a); /* their states are keyed by the predictor's parts */
}

void ca_agent_close(ca_agent *a)
{
	if (!a)
		return;
	if (a->hooks.close)
		a->hooks.close(a);
	ca_agent_invalidate(a);
	ca_dir_cache_free(a->dir_cache);
	ca_pii_lexicon_unref(a->pii_lexicon);
	ca_settings_free(a->settings);
	ca_settings_free(a->settings_prev);
	ca_store_close(a->store);
	free(a);
}

int ca_agent_defer_checkpoints(ca_agent *a, bool defer, ca_err *err)
{
	return ca_store_checkpoint(a->store, defer ? CA_CKPT_DEFER : CA_CKPT_AUTO, err);
}

int ca_checkpoint(ca_agent *a, ca_err *err)
{
	return ca_store_checkpoint(a->store, CA_CKPT_NOW, err);
}

static int load_settings(ca_agent *a, ca_err *err)
{
	char *text = NULL;
	/* The generation first: a change stored between the two reads is
	 * then loaded again on the next call, never missed. */
	int64_t gen = 0;
	int r = ca_store_settings_generation(a->store, &gen, err);
	if (!r)
		r = ca_store_settings_get(a->store, &text, err);
	if (r == CA_ENOTFOUND) {
		ca_err_clear(err);
		return ca_err_set(err, CA_ESTATE, "settings",
				  "this database has no settings yet: run `caseagent settings import FILE` first");
	}
	if (r)
		return r;
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	free(text);
	if (!j)
		return ca_err_set(err, CA_EPARSE, "settings", "stored settings are not JSON: %s", je.text);
	ca_settings *s = NULL;
	r = ca_settings_parse(j, &s, err);
	json_decref(j);
	if (r)
		return r;
	if (a->settings) {
		ca_settings_free(a->settings_prev);
		a->settings_prev = a->settings;
		ca_agent_invalidate(a); /* the predictor was built from the old fields */
	}
	a->settings = s;
	a->settings_gen = gen;
	return 0;
}

/* The current settings, loaded again when they changed (not the predictor). */
static int settings_ready(ca_agent *a, ca_err *err)
{
	int r = 0;
	if (a->settings && !ca_store_in_transaction(a->store)) {
		/* Inside a transaction the snapshot stays: the call holds its
		 * pointers, and its reads see one version of the database. */
		int64_t gen = 0;
		if ((r = ca_store_settings_generation(a->store, &gen, err)))
			return r;
		if (gen != a->settings_gen && (r = load_settings(a, err)))
			return r;
	}
	if (!a->settings && (r = load_settings(a, err)))
		return r;
	return 0;
}

int ca_agent_ready(ca_agent *a, ca_err *err)
{
	int r = settings_ready(a, err);
	if (r)
		return r;
	if (a->predictor)
		return 0;
	/* Only the small gazetteers: contacts and accounts stay in the store
	 * and are looked up through its indexes (ca_agent_directory). */
	static const char *const kinds[] = { "product", "subject" };
	json_t *dir = json_object();
	if (!dir)
		return CA_ENOMEM;
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(kinds); i++) {
		json_t *list = NULL;
		r = ca_store_directory_list(a->store, kinds[i], &list, err);
		if (!r)
			json_object_set_new(dir, kinds[i], list);
	}
	char *blob = NULL;
	size_t len = 0;
	if (!r) {
		int b = ca_store_blob_get(a->store, "models", &blob, &len, NULL);
		if (b == 0) {
			json_error_t je;
			a->models = json_loadb(blob, len, 0, &je);
			free(blob);
			if (!a->models)
				r = ca_err_set(err, CA_EPARSE, "models", "stored models are damaged (%s): run `caseagent train` again", je.text);
		}
	}
	if (!r)
		r = ca_embedded_new(dir, a->settings->fields, a->settings->n_fields, a->models, &a->predictor, err);
	json_decref(dir);
	return r;
}

/* ---- helpers ---- */

int ca_case_ref(ca_agent *a, const char *ref, int64_t *ret_id, ca_err *err)
{
	return ca_store_case_id(a->store, ref, ret_id, err);
}

static int log_interaction(ca_agent *a, const char *conv, int64_t case_id, const char *action, const char *outcome,
			   json_t *detail, ca_err *err)
{
	int r = 0;
	if (a->settings->record_agent_experience)
		r = ca_store_interaction_add(a->store, conv, case_id, action, outcome, detail, err);
	json_decref(detail);
	return r;
}

/* The conversation's messages, with the analysis cache kept across events of
 * the same conversation (messages are append-only). */
typedef struct conv_msgs {
	json_t *json;
	ca_msg *msgs;
	size_t n;
	ca_analysis *an; /* the conversation's analysis (analysis_for), borrowed */
} conv_msgs;

static void conv_msgs_done(conv_msgs *m)
{
	json_decref(m->json);
	free(m->msgs);
}

static int load_msgs(ca_agent *a, const char *conv, conv_msgs *out, ca_err *err)
{
	memset(out, 0, sizeof(*out));
	ca_conv_analysis *c = conv_entry(a, conv);
	if (!c)
		return ca_err_set(err, CA_ENOMEM, "conversation", "out of memory");
	json_t *fresh = NULL;
	int r = ca_store_message_list_after(a->store, conv, c->msgs ? c->msgs_seq : INT64_MIN, &fresh, err);
	if (r)
		return r;
	size_t bytes = 0, i;
	json_t *m;
	json_array_foreach(fresh, i, m)
		bytes += json_string_length(json_object_get(m, "text"));
	if (!c->msgs) {
		c->msgs = fresh;
		fresh = NULL;
	} else if (json_array_extend(c->msgs, fresh) < 0) {
		json_decref(fresh);
		return ca_err_set(err, CA_ENOMEM, "conversation", "out of memory");
	}
	json_decref(fresh);
	c->msgs_bytes += bytes;
	a->kept_msg_bytes += bytes;
	size_t n = json_array_size(c->msgs);
	if (n)
		c->msgs_seq = json_integer_value(json_object_get(json_array_get(c->msgs, n - 1), "seq"));
	out->json = json_incref(c->msgs);
	if (c->msgs_bytes > KEPT_CONV_BYTES || a->kept_msg_bytes > KEPT_AGENT_BYTES)
		drop_msgs(a, c); /* out holds them for this call; the next reads them whole */
	if ((r = ca_msgs_from_json(out->json, &out->msgs, &out->n)))
		return r;
	out->an = analysis_of(a, c, out->n);
	return 0;
}

/* Create a case from a complete plan, or report what was missing. */
static int try_create(ca_agent *a, const char *conv, const char *identity, const conv_msgs *m, json_t *res,
		      ca_err *err)
{
	ca_plan plan;
	int r = ca_plan_update(a, m->msgs, m->n, m->an, identity, NULL, &plan, err);
	if (r)
		return r;
	json_object_set(res, "suggestions", plan.suggestions);
	if (!plan.complete) {
		json_object_set(res, "missing", plan.missing);
		r = log_interaction(a, conv, 0, "create_case", "withheld",
				    json_pack("{s:O}", "missing", plan.missing), err);
		ca_plan_done(&plan);
		return r;
	}
	int64_t id;
	char *ticket = NULL;
	r = ca_store_case_create(a->store, "chat", conv, &id, &ticket, err);
	json_t *changed = json_array();
	if (!r)
		r = ca_plan_apply(a, id, 1, &plan, changed, err);
	if (!r)
		r = ca_store_conversation_set_case(a->store, conv, id, "agent", err);
	if (!r) {
		json_object_set_new(res, "case", json_string(ticket));
		json_object_set_new(res, "created", json_true());
		json_object_set(res, "changed", changed);
		r = log_interaction(a, conv, id, "create_case", "created",
				    json_pack("{s:I, s:I}", "fields", (json_int_t)plan.n_writes, "rules_matched",
					      (json_int_t)plan.rules_matched), err);
	}
	json_decref(changed);
	free(ticket);
	ca_plan_done(&plan);
	return r;
}

/* What an update would write to case_id now: its view and version, and the
 * plan (ca_plan_update). Reads only. The caller ends the plan and view. */
/* case_json: the case as read already, or NULL to read it. */
static int update_plan(ca_agent *a, int64_t case_id, const json_t *case_json, const char *identity, const conv_msgs *m,
		       ca_case_view *view, int64_t *version, ca_plan *plan, ca_err *err)
{
	int r = case_json ? ca_case_view_of(a, case_json, view, version, err)
			  : ca_case_view_load(a, case_id, view, version, err);
	if (!r && (r = ca_plan_update(a, m->msgs, m->n, m->an, identity, view, plan, err)))
		ca_case_view_done(view);
	return r;
}

/* Write a plan made at `version` (CA_ECONFLICT when the case has moved on
 * since and there is something to write), say so in res, log it. */
static int update_apply(ca_agent *a, const char *conv, int64_t case_id, int64_t version, const ca_plan *plan,
			json_t *res, ca_err *err)
{
	json_t *changed = json_array();
	int r = changed ? ca_plan_apply(a, case_id, version, plan, changed, err) : CA_ENOMEM;
	json_object_set(res, "changed", changed);
	json_object_set(res, "suggestions", plan->suggestions);
	json_object_set_new(res, "no_changes", json_boolean(plan->n_writes == 0));
	json_t *detail = json_pack("{s:I}", "fields", (json_int_t)plan->n_writes);
	if (r)
		json_decref(detail);
	else if (plan->n_writes)
		r = log_interaction(a, conv, case_id, "update_case", "changed", detail, err);
	else /* wrote nothing: the row may wait in the queue */
		r = ca_interaction_queue_put(a, conv, case_id, "update_case", "no_changes", detail, err);
	json_decref(changed);
	return r;
}

static int do_update(ca_agent *a, const char *conv, int64_t case_id, const char *identity, const conv_msgs *m,
		     json_t *res, ca_err *err)
{
	ca_case_view view = { 0 };
	int64_t version;
	ca_plan plan;
	int r = update_plan(a, case_id, NULL, identity, m, &view, &version, &plan, err);
	if (r)
		return r;
	r = update_apply(a, conv, case_id, version, &plan, res, err);
	ca_plan_done(&plan);
	ca_case_view_done(&view);
	return r;
}

static int write_summary(ca_agent *a, const char *conv, int64_t case_id, const conv_msgs *m, json_t *res,
			 ca_err *err)
{
	ca_summary sum = { 0 };
	int r = ca_summarize(m->msgs, m->n, 0, &sum, err);
	if (r)
		return r;
	if (sum.n == 0) {
		ca_summary_done(&sum);
		return 0;
	}
	ca_buf body = { 0 };
	r = ca_summary_render(&sum, &body);
	json_t *ev = ca_summary_to_json(&sum);
	if (!r && ev)
		r = ca_store_note_add(a->store, case_id, "summary", body.data, ev, "caseagent", err);
	else if (!r)
		r = CA_ENOMEM;
	if (!r) {
		json_object_set_new(res, "note", json_true());
		r = log_interaction(a, conv, case_id, "summary_note", "written", json_pack("{s:I}", "lines", (json_int_t)sum.n), err);
	}
	json_decref(ev);
	ca_buf_done(&body);
	ca_summary_done(&sum);
	return r;
}

/*
 * The profile gate (issue 10): the representative who accepted the
 * conversation may have an agent experience profile without autonomous
 * case creation and update, and then the agent leaves the case to them.
 * One indexed lookup when someone accepted, none otherwise; an acceptor who
 * is not a user (or a database without users) leaves the agent on. Only
 * the autonomous path asks: an update a person requests does not come here.
 */
static int autonomy(ca_agent *a, const char *conv, const char *accepted_by, int64_t case_id, json_t *res,
		    bool *ret_on, ca_err *err)
{
	*ret_on = true;
	if (!accepted_by)
		return 0;
	bool found = false, on = true;
	char *profile = NULL;
	int r = ca_store_user_autonomy(a->store, accepted_by, &found, &profile, &on, err);
	if (r || !found || on) {
		free(profile);
		return r;
	}
	*ret_on = false;
	char reason[512];
	snprintf(reason, sizeof(reason),
		 "agent experience profile '%s' of '%s' has autonomous case creation off", profile, accepted_by);
	json_object_set_new(res, "autonomous", json_pack("{s:b, s:s, s:s, s:s}", "enabled", 0, "reason", reason,
							 "profile", profile, "user", accepted_by));
	r = log_interaction(a, conv, case_id, case_id ? "update_case" : "create_case", "off_by_profile",
			    json_pack("{s:s, s:s}", "profile", profile, "user", accepted_by), err);
	free(profile);
	return r;
}

/* ---- events ---- */

static const char *const event_types[] = { "open", "message", "accept", "update", "wrapup", "close", "link", "wait" };
static const char *const event_keys[] = { "id", "type", "conversation", "message", "case", "actor", "identity", "channel" };

static const char *nearest_type(const char *type);

static int validate_event(const json_t *ev, ca_err *err)
{
	if (!json_is_object(ev))
		return ca_err_set(err, CA_EINVAL, "event", "an event must be a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)ev, k, v) {
		bool ok = false;
		for (size_t i = 0; i < CA_ARRAY_SIZE(event_keys) && !ok; i++)
			ok = !strcmp(k, event_keys[i]);
		if (!ok)
			return ca_err_set(err, CA_EINVAL, k, "event: unknown key '%s'", k);
	}
	const char *id = ca_json_str(ev, "id"), *type = ca_json_str(ev, "type"), *conv = ca_json_str(ev, "conversation");
	if (ca_str_empty(id))
		return ca_err_set(err, CA_EINVAL, "id", "event: \"id\" is required (events are idempotent by id)");
	bool known = false;
	for (size_t i = 0; type && i < CA_ARRAY_SIZE(event_types); i++)
		known |= !strcmp(type, event_types[i]);
	if (!known) {
		const char *near = type ? nearest_type(type) : NULL;
		return ca_err_set(err, CA_EINVAL, "type",
				  "event %s: type '%s' is not one of open, message, accept, update, wait, wrapup, close, "
				  "link%s%s%s",
				  id, type ? type : "(missing)", near ? "; did you mean '" : "", near ? near : "",
				  near ? "'?" : "");
	}
	if (ca_str_empty(conv))
		return ca_err_set(err, CA_EINVAL, "conversation", "event %s: \"conversation\" is required", id);
	if (!strcmp(type, "message")) {
		const json_t *m = json_object_get(ev, "message");
		const char *mid = ca_json_str(m, "id"), *role = ca_json_str(m, "role");
		json_t *text = json_object_get(m, "text");
		if (!json_is_object(m) || ca_str_empty(mid))
			return ca_err_set(err, CA_EINVAL, "message.id", "event %s: a message event needs \"message\" with an \"id\"", id);
		if (!ca_role_parse(role))
			return ca_err_set(err, CA_EINVAL, "message.role", "message %s: role '%s' is not customer, agent, system or bot",
					  mid, role ? role : "(missing)");
		if (!json_is_string(text))
			return ca_err_set(err, CA_EINVAL, "message.text", "message %s: \"text\" must be a string", mid);
		size_t len = json_string_length(text);
		if (len > CA_MAX_MESSAGE_BYTES)
			return ca_err_set(err, CA_ETOOBIG, "message.text",
					  "message %s is %zu bytes; the limit for a chat message is %u bytes", mid, len,
					  CA_MAX_MESSAGE_BYTES);
		size_t bad;
		if (!ca_utf8_valid(json_string_value(text), len, &bad) || memchr(json_string_value(text), 0, len))
			return ca_err_set(err, CA_EUTF8, "message.text", "message %s: text is not valid UTF-8 (byte %zu)", mid, bad);
	}
	return 0;
}

static int handle_event(ca_agent *a, const json_t *ev, json_t *res, ca_err *err)
{
	const char *id = ca_json_str(ev, "id"), *type = ca_json_str(ev, "type"), *conv = ca_json_str(ev, "conversation");
	json_t *c = NULL;
	int r = 0;
	if (!strcmp(type, "open")) {
		r = ca_store_conversation_create(a->store, conv, ca_json_str(ev, "channel") ? ca_json_str(ev, "channel") : "chat", err);
		if (r == CA_EEXIST)
			return ca_err_set(err, CA_EEXIST, "conversation", "event %s: conversation %s is already open", id, conv);
		if (!r && ca_json_str(ev, "identity")) {
			json_t *ct = NULL;
			r = ca_store_directory_get(a->store, "contact", ca_json_str(ev, "identity"), &ct, err);
			json_decref(ct);
			if (r == CA_ENOTFOUND) {
				ca_err_clear(err);
				r = ca_err_set(err, CA_EINVAL, "identity", "event %s: identity '%s' is not a known contact id", id,
					       ca_json_str(ev, "identity"));
			}
			if (!r)
				r = ca_store_conversation_set_contact(a->store, conv, ca_json_str(ev, "identity"), err);
		}
		if (r)
			return r;
	}
	r = ca_store_conversation_get(a->store, conv, &c, err);
	if (r == CA_ENOTFOUND) {
		ca_err_clear(err);
		return ca_err_set(err, CA_ENOTFOUND, "conversation",
				  "event %s: conversation '%s' does not exist; send an \"open\" event first", id, conv);
	}
	if (r)
		return r;
	const char *state = ca_json_str(c, "state");
	const char *identity = ca_json_str(c, "contact_id");
	json_t *cid = json_object_get(c, "case_id");
	int64_t case_id = json_is_integer(cid) ? json_integer_value(cid) : 0;
	if (strcmp(state, "closed") == 0 && strcmp(type, "open") != 0) {
		r = ca_err_set(err, CA_ESTATE, "conversation", "event %s: conversation %s is closed", id, conv);
		goto out;
	}
	if (!strcmp(type, "message")) {
		const json_t *m = json_object_get(ev, "message");
		r = ca_store_message_add(a->store, conv, ca_json_str(m, "id"), ca_json_str(m, "role"), ca_json_str(m, "text"), err);
		if (r == CA_EEXIST) {
			ca_err_clear(err);
			r = ca_err_set(err, CA_EEXIST, "message.id", "event %s: message %s is already in conversation %s", id,
				       ca_json_str(m, "id"), conv);
		}
	} else if (!strcmp(type, "link")) {
		int64_t linked;
		r = ca_case_ref(a, ca_json_str(ev, "case"), &linked, err);
		if (!r)
			r = ca_store_conversation_set_case(a->store, conv, linked, "person", err);
		if (!r) {
			case_id = linked;
			r = log_interaction(a, conv, linked, "link_case", "linked_by_person",
					    json_pack("{s:s?}", "actor", ca_json_str(ev, "actor")), err);
		}
	} else if (!strcmp(type, "wait")) {
		r = ca_store_conversation_set_state(a->store, conv, "waiting", err);
		state = "waiting";
	} else if (!strcmp(type, "accept") || !strcmp(type, "update") || !strcmp(type, "wrapup") || !strcmp(type, "close")) {
		const char *next = !strcmp(type, "accept") || !strcmp(type, "update") ? "active"
				   : !strcmp(type, "wrapup")				? "wrapup"
											: "closed";
		if (!strcmp(type, "update") && !strcmp(state, "open"))
			next = "open";
		const char *accepted_by = ca_json_str(c, "accepted_by");
		if (!strcmp(type, "accept") && ca_json_str(ev, "actor")) {
			accepted_by = ca_json_str(ev, "actor");
			r = ca_store_conversation_set_accepted_by(a->store, conv, accepted_by, err);
		}
		bool on = true;
		if (!r)
			r = autonomy(a, conv, accepted_by, case_id, res, &on, err);
		conv_msgs m = { 0 };
		if (!r)
			r = load_msgs(a, conv, &m, err);
		if (!r) {
			/* Off: the representative's profile leaves the case to them. */
			if (on && case_id == 0)
				r = try_create(a, conv, identity, &m, res, err);
			else if (on && strcmp(type, "close") != 0 && strcmp(type, "accept") != 0)
				r = do_update(a, conv, case_id, identity, &m, res, err);
			if (!r && case_id == 0 && json_is_true(json_object_get(res, "created")))
				r = ca_case_ref(a, ca_json_str(res, "case"), &case_id, err);
			if (!r && !strcmp(type, "close") && case_id && a->settings->summary_note_on_close)
				r = write_summary(a, conv, case_id, &m, res, err);
			if (!r)
				r = ca_store_conversation_set_state(a->store, conv, next, err);
			state = next;
		}
		conv_msgs_done(&m);
	}
	if (!r && case_id && !json_is_string(json_object_get(res, "case"))) {
		json_t *cj = NULL;
		if (ca_store_case_get_id(a->store, case_id, &cj, NULL) == 0)
			json_object_set(res, "case", json_object_get(cj, "ticket_number"));
		json_decref(cj);
	}
	if (!r && !strcmp(type, "open"))
		state = "open";
	json_object_set_new(res, "state", json_string(state));
out:
	json_decref(c);
	return r;
}

/* Apply one parsed event in its own transaction. *ret: result (new ref). */
static int apply_event(ca_agent *a, const json_t *ev, json_t **ret, ca_err *err)
{
	int r = validate_event(ev, err);
	if (r)
		return r;
	if (a->directory_stale) {
		ca_agent_invalidate(a); /* e-mail added contacts chat may name */
		a->directory_stale = false;
	}
	if ((r = ca_agent_ready(a, err)))
		return r;
	if (!a->settings->chat_enabled)
		return ca_err_set(err, CA_ESTATE, "channels.chat", "the live chat channel is disabled in settings");
	const char *id = ca_json_str(ev, "id"), *conv = ca_json_str(ev, "conversation");
	/* The event's identity for idempotency: its canonical text (keys
	 * sorted), so the same event sent again is recognised byte for byte
	 * and an id reused with other content is not. */
	char *content = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	if (!content)
		return CA_ENOMEM;
	if ((r = ca_store_begin(a->store, err))) {
		free(content);
		return r;
	}
	json_t *prev = NULL;
	char *prev_content = NULL;
	r = ca_store_event_lookup(a->store, conv, id, &prev_content, &prev, err);
	if (!r && prev) {
		ca_store_rollback(a->store);
		/* Rows from before schema 10 kept no content: the type is all
		 * there is to compare. */
		bool same = prev_content ? !strcmp(prev_content, content)
					 : ca_streq(ca_json_str(prev, "type"), ca_json_str(ev, "type"));
		free(prev_content);
		free(content);
		if (!same) {
			json_decref(prev);
			return ca_err_set(err, CA_EEXIST, "id",
					  "event %s of conversation %s was applied before with other content; an event id "
					  "names one event of its conversation: give this one a new id",
					  id, conv);
		}
		json_object_set_new(prev, "replayed", json_true());
		*ret = prev;
		return 0;
	}
	free(prev_content);
	json_t *res = json_pack("{s:s, s:s, s:s, s:n, s:b, s:[], s:b, s:[], s:b, s:b}", "event", ca_json_str(ev, "id"),
				"type", ca_json_str(ev, "type"), "conversation", ca_json_str(ev, "conversation"),
				"case", "created", 0, "changed", "no_changes", 0, "missing", "note", 0, "replayed", 0);
	if (!r && !res)
		r = CA_ENOMEM;
	if (!r)
		r = handle_event(a, ev, res, err);
	/* The knowledge agent's real-time trigger for a closed conversation,
	 * in the event's transaction (a savepoint of its own), so a crash
	 * cannot keep the close and lose the trigger. The close stands
	 * whatever the agent does; its outcome (or error) is reported beside
	 * it, and kept with the event for a replay. */
	if (!r && !strcmp(ca_json_str(ev, "type"), "close"))
		json_object_set_new(res, "knowledge", ca_agent_record_done(a, "conversation", ca_json_str(ev, "conversation")));
	if (!r)
		r = ca_store_event_record(a->store, conv, id, ca_json_str(ev, "type"), content, res, err);
	free(content);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r) {
		ca_agent_rollback(a);
		forget_analysis(a, conv); /* it may hold the messages rolled back */
		json_decref(res);
		return r;
	}
	ca_store_unit_end(a->store); /* in a batch, the next event is a unit of its own */
	*ret = res;
	return 0;
}

int ca_agent_batch_begin(ca_agent *a, ca_err *err)
{
	if (ca_store_in_transaction(a->store))
		return ca_err_set(err, CA_ESTATE, "batch", "a batch begins outside any transaction");
	if (!a->batch_temp_in_memory && ca_store_temp_in_memory(a->store, true, NULL) == 0)
		a->batch_temp_in_memory = true;
	return ca_store_begin(a->store, err);
}

int ca_agent_batch_end(ca_agent *a, bool commit, ca_err *err)
{
	if (!ca_store_in_transaction(a->store))
		return ca_err_set(err, CA_ESTATE, "batch", "no batch is open");
	int r = 0;
	if (!commit)
		ca_agent_rollback(a);
	else if ((r = ca_store_commit(a->store, err)) && a->hooks.rolled_back)
		a->hooks.rolled_back(a); /* a failed commit has rolled back already */
	/* What the agent kept in memory may hold what the batch's events wrote. */
	if (!commit || r)
		forget_analyses(a);
	return r;
}

bool ca_agent_batch_contended(ca_agent *a)
{
	return ca_store_contended(a->store);
}

int ca_chat_event(ca_agent *a, const char *event_json, char **ret_json, ca_err *err)
{
	json_error_t je;
	json_t *ev = json_loads(event_json, JSON_REJECT_DUPLICATES, &je);
	if (!ev)
		return ca_err_set(err, CA_EPARSE, "event", "event is not valid JSON: %s (column %d)", je.text, je.column);
	json_t *res = NULL;
	int r = apply_event(a, ev, &res, err);
	json_decref(ev);
	return r ? r : ca_result(res, ret_json);
}

int ca_chat_event_json(ca_agent *a, const json_t *event, json_t **ret, ca_err *err)
{
	if (!json_is_object(event))
		return ca_err_set(err, CA_EPARSE, "event", "an event is a JSON object");
	return apply_event(a, event, ret, err);
}

/* ---- transcripts ---- */

static const char *const step_names[] = { "open", "message", "accept", "update", "wait", "wrapup", "close", "link" };

const char *ca_step_name(ca_step_type t)
{
	return (size_t)t < CA_ARRAY_SIZE(step_names) ? step_names[t] : "unknown";
}

static int push_step(ca_step **v, size_t *n, size_t *cap, ca_step s)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		ca_step *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return CA_ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = s;
	return 0;
}

int ca_transcript_schedule(const json_t *t, unsigned accept_after, unsigned update_every, ca_step **ret,
			   size_t *ret_n)
{
	const json_t *msgs = json_object_get(t, "messages");
	const json_t *explicit_ev = json_object_get(t, "events");
	ca_step *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	size_t i;
	json_t *e;
	if (explicit_ev) {
		json_array_foreach(explicit_ev, i, e) {
			const char *type = ca_json_str(e, "type");
			ca_step st = { CA_STEP_OPEN, 0, e };
			for (size_t k = 0; type && k < CA_ARRAY_SIZE(step_names); k++)
				if (!strcmp(type, step_names[k]))
					st.type = (ca_step_type)k;
			if (st.type == CA_STEP_MESSAGE) {
				const char *mid = ca_json_str(e, "message");
				size_t k;
				json_t *m;
				json_array_foreach(msgs, k, m) if (ca_streq(ca_json_str(m, "id"), mid)) st.msg = k;
			}
			if ((r = push_step(&v, &n, &cap, st)))
				break;
		}
	} else {
		unsigned customer = 0, since = 0;
		bool accepted = false;
		r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_OPEN, 0, NULL });
		for (i = 0; !r && i < json_array_size(msgs); i++) {
			r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_MESSAGE, i, NULL });
			if (ca_streq(ca_json_str(json_array_get(msgs, i), "role"), "customer"))
				customer++;
			if (!r && !accepted && customer >= accept_after) {
				r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_ACCEPT, i, NULL });
				accepted = true;
				since = 0;
			} else if (!r && accepted && ++since >= update_every) {
				r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_UPDATE, i, NULL });
				since = 0;
			}
		}
		if (!r && !accepted)
			r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_ACCEPT, 0, NULL });
		if (!r)
			r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_WRAPUP, 0, NULL });
		if (!r)
			r = push_step(&v, &n, &cap, (ca_step){ CA_STEP_CLOSE, 0, NULL });
	}
	if (r) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- transcripts: validation before anything is written ---- */

static const char *const transcript_event_keys[] = { "id", "type", "message", "case", "identity", "actor" };

/* The event type `type` is likely a typo of (one or two edits), or NULL. */
static const char *nearest_type(const char *type)
{
	const char *best = NULL;
	unsigned bd = 3;
	for (size_t i = 0; i < CA_ARRAY_SIZE(step_names); i++) {
		unsigned d = ca_edit_distance(type, step_names[i], 2);
		if (d < bd) {
			bd = d;
			best = step_names[i];
		}
	}
	return best;
}

/* An error about event k (0-based) of a transcript: the message names the
 * conversation, the event's number and its id; `where` is file:line. */
static int event_error(ca_err *err, const char *where, const char *conv, size_t k, const json_t *e, const char *fmt,
		       ...) __attribute__((format(printf, 6, 7)));
static int event_error(ca_err *err, const char *where, const char *conv, size_t k, const json_t *e, const char *fmt,
		       ...)
{
	char reason[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	const char *id = json_is_object(e) ? ca_json_str(e, "id") : NULL;
	if (ca_str_empty(id))
		return ca_err_set(err, CA_EINVAL, where, "conversation %s, event %zu (no id): %s", conv, k + 1, reason);
	return ca_err_set(err, CA_EINVAL, where, "conversation %s, event %zu (id %s): %s", conv, k + 1, id, reason);
}

/*
 * The explicit events of one transcript against docs/transcript-format.md:
 * each an object of known keys with a non-empty id unique in its
 * conversation and a known type; `open` first and once; messages delivered
 * once each, in the order of the messages array; `accept` and `wrapup` at
 * most once; `update`, `wait` and `wrapup` after `accept`; `wrapup` after
 * the last message; `link` with a case; nothing after `close`. Nothing is
 * written, so a replay can check a whole file before it applies any of it.
 */
int ca_transcript_check_events(const json_t *t, const char *where, ca_err *err)
{
	const json_t *evs = json_object_get(t, "events");
	if (!evs)
		return 0;
	const char *conv = ca_json_str(t, "conversation_id");
	const json_t *msgs = json_object_get(t, "messages");
	size_t n_msgs = json_array_size(msgs), delivered = 0;
	bool accepted = false, wrapped = false, closed = false;
	json_t *ids = json_object();
	if (!ids)
		return CA_ENOMEM;
	int r = 0;
	size_t k;
	json_t *e;
	json_array_foreach(evs, k, e) {
		if (!json_is_object(e)) {
			r = event_error(err, where, conv, k, e, "an event must be a JSON object");
			break;
		}
		const char *key;
		json_t *v;
		json_object_foreach(e, key, v) {
			bool known = !strncmp(key, "x_", 2);
			for (size_t i = 0; i < CA_ARRAY_SIZE(transcript_event_keys) && !known; i++)
				known = !strcmp(key, transcript_event_keys[i]);
			if (!known) {
				r = event_error(err, where, conv, k, e, "unknown key '%s' (keys: id, type, message, case, "
					       "identity, actor; x_... for your own)", key);
				break;
			}
			if (!json_is_string(v) && strncmp(key, "x_", 2)) {
				r = event_error(err, where, conv, k, e, "\"%s\" must be a string", key);
				break;
			}
		}
		if (r)
			break;
		const char *id = ca_json_str(e, "id"), *type = ca_json_str(e, "type");
		if (ca_str_empty(id)) {
			r = event_error(err, where, conv, k, e, "\"id\" is required: events are applied once by id");
			break;
		}
		if (json_object_get(ids, id)) {
			r = event_error(err, where, conv, k, e, "id %s is used by an earlier event of this conversation", id);
			break;
		}
		if (json_object_set_new(ids, id, json_true())) {
			r = CA_ENOMEM;
			break;
		}
		bool known = false;
		for (size_t i = 0; type && i < CA_ARRAY_SIZE(step_names) && !known; i++)
			known = !strcmp(type, step_names[i]);
		if (!known) {
			const char *near = type ? nearest_type(type) : NULL;
			r = event_error(err, where, conv, k, e, "type '%s' is not one of open, message, accept, update, wait, "
				       "wrapup, close, link%s%s%s", type ? type : "(missing)", near ? "; did you mean '" : "",
				       near ? near : "", near ? "'?" : "");
			break;
		}
		if (closed) {
			r = event_error(err, where, conv, k, e, "'%s' after close: close must be the last event", type);
			break;
		}
		if ((k == 0) != !strcmp(type, "open")) {
			r = event_error(err, where, conv, k, e, k == 0 ? "the first event must be open, not '%s'"
								       : "'%s' again: a conversation opens once, with its first event",
				       type);
			break;
		}
		if (ca_json_str(e, "identity") && strcmp(type, "open")) {
			r = event_error(err, where, conv, k, e, "\"identity\" belongs to the open event only");
			break;
		}
		if (ca_json_str(e, "message") && strcmp(type, "message")) {
			r = event_error(err, where, conv, k, e, "\"message\" belongs to message events only");
			break;
		}
		if (ca_json_str(e, "case") && strcmp(type, "link")) {
			r = event_error(err, where, conv, k, e, "\"case\" belongs to link events only");
			break;
		}
		if (!strcmp(type, "message")) {
			const char *mid = ca_json_str(e, "message");
			size_t at = n_msgs;
			for (size_t i = 0; mid && i < n_msgs && at == n_msgs; i++)
				if (ca_streq(ca_json_str(json_array_get(msgs, i), "id"), mid))
					at = i;
			if (ca_str_empty(mid))
				r = event_error(err, where, conv, k, e, "a message event needs \"message\": the id of a message");
			else if (at == n_msgs)
				r = event_error(err, where, conv, k, e, "message %s is not in the conversation's messages", mid);
			else if (at < delivered)
				r = event_error(err, where, conv, k, e, "message %s was delivered already", mid);
			else if (at > delivered)
				r = event_error(err, where, conv, k, e, "message %s skips message %s: messages are delivered "
					       "once each, in the order of \"messages\"", mid,
					       ca_json_str(json_array_get(msgs, delivered), "id"));
			else if (wrapped)
				r = event_error(err, where, conv, k, e, "message %s after wrapup: wrapup comes after the last "
					       "message", mid);
			delivered++;
		} else if (!strcmp(type, "accept")) {
			if (accepted)
				r = event_error(err, where, conv, k, e, "a second accept: a conversation is accepted once");
			accepted = true;
		} else if (!strcmp(type, "update") || !strcmp(type, "wait") || !strcmp(type, "wrapup")) {
			if (!accepted)
				r = event_error(err, where, conv, k, e, "'%s' before accept", type);
			else if (wrapped)
				r = event_error(err, where, conv, k, e, "'%s' after wrapup", type);
			else if (!strcmp(type, "wrapup") && delivered < n_msgs)
				r = event_error(err, where, conv, k, e, "wrapup before message %s: wrapup comes after the last "
					       "message", ca_json_str(json_array_get(msgs, delivered), "id"));
			wrapped = !strcmp(type, "wrapup");
		} else if (!strcmp(type, "link")) {
			if (ca_str_empty(ca_json_str(e, "case")))
				r = event_error(err, where, conv, k, e, "a link event needs \"case\": a ticket number or case id");
		} else if (!strcmp(type, "close")) {
			closed = true;
		}
		if (r)
			break;
	}
	if (!r && delivered < n_msgs)
		r = ca_err_set(err, CA_EINVAL, where, "conversation %s: message %s is never delivered: with \"events\", "
			       "every message needs its message event", conv, ca_json_str(json_array_get(msgs, delivered), "id"));
	json_decref(ids);
	return r;
}

/* The chat events of one transcript's steps, with ids stable across replays
 * (so replaying a file twice changes nothing). New reference in *ret. */
static int transcript_events(const json_t *t, const ca_step *steps, size_t n, json_t **ret)
{
	const char *conv = ca_json_str(t, "conversation_id");
	const json_t *msgs = json_object_get(t, "messages");
	json_t *out = json_array();
	if (!out)
		return CA_ENOMEM;
	ca_buf id = { 0 };
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		const ca_step *s = &steps[i];
		ca_buf_reset(&id);
		if (s->event)
			r = ca_buf_printf(&id, "%s:%s", conv, ca_json_str(s->event, "id") ? ca_json_str(s->event, "id") : "");
		else if (s->type == CA_STEP_MESSAGE)
			r = ca_buf_printf(&id, "%s:msg:%s", conv, ca_json_str(json_array_get(msgs, s->msg), "id"));
		else if (s->type == CA_STEP_UPDATE)
			r = ca_buf_printf(&id, "%s:update:%zu", conv, s->msg);
		else
			r = ca_buf_printf(&id, "%s:%s", conv, ca_step_name(s->type));
		json_t *x = r ? NULL : json_pack("{s:s, s:s, s:s}", "id", id.data, "type", ca_step_name(s->type),
						 "conversation", conv);
		if (!x) {
			r = CA_ENOMEM;
			break;
		}
		if (s->type == CA_STEP_MESSAGE)
			json_object_set(x, "message", json_array_get(msgs, s->msg));
		if (s->type == CA_STEP_OPEN && !s->event && ca_json_str(t, "identity"))
			json_object_set_new(x, "identity", json_string(ca_json_str(t, "identity")));
		if (s->event && ca_json_str(s->event, "case"))
			json_object_set_new(x, "case", json_string(ca_json_str(s->event, "case")));
		if (s->event && ca_json_str(s->event, "actor"))
			json_object_set_new(x, "actor", json_string(ca_json_str(s->event, "actor")));
		json_array_append_new(out, x);
	}
	ca_buf_done(&id);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int ca_chat_replay(ca_agent *a, const char *path, const ca_replay_opts *opts, char **ret_json, ca_err *err)
{
	unsigned accept_after = opts && opts->accept_after ? opts->accept_after : CA_DEFAULT_ACCEPT_AFTER;
	unsigned update_every = opts && opts->update_every ? opts->update_every : CA_DEFAULT_UPDATE_EVERY;
	int r = ca_agent_ready(a, err);
	json_t *ts = NULL;
	if (!r)
		r = ca_transcripts_load(path, &ts, err);
	if (r)
		return r;
	/* ca_transcripts_load checked every event of the file (ids, types,
	 * references, order) before this first write. */
	json_t *detail = json_array();
	json_t *at = json_pack("{s:i, s:i, s:i, s:i}", "accept", 0, "update", 0, "wrapup", 0, "close", 0);
	size_t n_events = 0, created = 0, filled = 0, no_change = 0, notes = 0, withheld = 0, replayed = 0;
	size_t n = json_array_size(ts);
	for (size_t i = 0; !r && i < n; i++) {
		const json_t *t = json_array_get(ts, i);
		json_t *evs = NULL;
		ca_step *steps = NULL;
		size_t n_steps = 0;
		r = ca_transcript_schedule(t, accept_after, update_every, &steps, &n_steps);
		if (!r)
			r = transcript_events(t, steps, n_steps, &evs);
		free(steps);
		/* One conversation is all or nothing: an event that fails at run
		 * time (a link to a case that does not exist) takes the
		 * conversation's earlier events with it. */
		if (!r)
			r = ca_store_begin(a->store, err);
		bool in_tx = !r;
		const char *case_ticket = NULL, *created_at = NULL;
		size_t msgs_seen = 0, created_after = 0;
		for (size_t k = 0; !r && k < json_array_size(evs); k++) {
			json_t *res = NULL;
			const json_t *ev = json_array_get(evs, k);
			r = apply_event(a, ev, &res, err);
			if (r)
				break;
			n_events++;
			const char *type = ca_json_str(ev, "type");
			if (!strcmp(type, "message"))
				msgs_seen++;
			if (json_is_true(json_object_get(res, "replayed")))
				replayed++;
			else {
				if (json_is_true(json_object_get(res, "created"))) {
					created++;
					created_at = type;
					created_after = msgs_seen;
					json_object_set_new(at, type, json_integer(json_integer_value(json_object_get(at, type)) + 1));
				}
				filled += json_array_size(json_object_get(res, "changed"));
				if (json_is_true(json_object_get(res, "no_changes")))
					no_change++;
				if (json_is_true(json_object_get(res, "note")))
					notes++;
			}
			if (json_is_string(json_object_get(res, "case")))
				case_ticket = ca_json_str(res, "case");
			json_t *keep = json_pack("{s:s, s:s?, s:s?, s:I}", "conversation", ca_json_str(t, "conversation_id"),
						 "case", case_ticket, "created_at_event", created_at, "created_after_message",
						 (json_int_t)created_after);
			if (k + 1 == json_array_size(evs)) {
				if (!case_ticket)
					withheld++;
				json_array_append_new(detail, keep);
			} else {
				json_decref(keep);
			}
			json_decref(res);
		}
		if (!r && in_tx)
			r = ca_store_commit(a->store, err);
		if (r && in_tx) {
			ca_agent_rollback(a);
			forget_analyses(a); /* they may hold the messages rolled back */
		}
		json_decref(evs);
		if (r)
			ca_err_locate(err, "%s:%lld (conversation %s)", path,
				      (long long)json_integer_value(json_object_get(t, "_line")), ca_json_str(t, "conversation_id"));
		if (opts && opts->progress)
			opts->progress(i + 1, n, opts->progress_ud);
	}
	json_decref(ts);
	if (r) {
		json_decref(detail);
		json_decref(at);
		return r;
	}
	return ca_result(json_pack("{s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "conversations", (json_int_t)n,
				   "events", (json_int_t)n_events, "cases_created", (json_int_t)created, "created_at", at,
				   "withheld", (json_int_t)withheld, "fields_filled", (json_int_t)filled,
				   "no_change_updates", (json_int_t)no_change, "notes_written", (json_int_t)notes,
				   "events_replayed", (json_int_t)replayed, "conversations_detail", detail),
			 ret_json);
}

/* ---- cases ---- */

int ca_case_list(ca_agent *a, size_t limit, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	int r = ca_store_case_list(a->store, limit, &list, err);
	return r ? r : ca_result(json_pack("{s:o}", "cases", list), ret_json);
}

/* What the agent would propose for a chat case now but may not write: its
 * values below their thresholds, from the conversation as it stands (the
 * same plan an update event makes, nothing written). An array, empty when
 * the case has no conversation. */
static int case_suggestions(ca_agent *a, const json_t *c, json_t **ret, ca_err *err)
{
	const char *conv = ca_json_str(c, "conversation_id");
	json_t *cj = NULL;
	int r = conv ? ca_store_conversation_get(a->store, conv, &cj, NULL) : CA_ENOTFOUND;
	if (r) {
		*ret = json_array();
		return *ret ? 0 : CA_ENOMEM;
	}
	conv_msgs m = { 0 };
	ca_case_view view = { 0 };
	int64_t version;
	r = ca_agent_ready(a, err);
	if (!r)
		r = ca_store_message_list(a->store, conv, &m.json, err);
	if (!r)
		r = ca_msgs_from_json(m.json, &m.msgs, &m.n);
	if (!r)
		r = ca_case_view_load(a, json_integer_value(json_object_get(c, "id")), &view, &version, err);
	if (!r && m.n == 0) {
		*ret = json_array();
		r = *ret ? 0 : CA_ENOMEM;
	} else if (!r) {
		/* its own analysis: the event cache belongs to the live conversation */
		ca_analysis an;
		ca_analysis_init(&an);
		ca_plan plan;
		r = ca_plan_update(a, m.msgs, m.n, &an, ca_json_str(cj, "contact_id"), &view, &plan, err);
		if (!r) {
			*ret = json_incref(plan.suggestions);
			ca_plan_done(&plan);
		}
		ca_analysis_done(&an);
	}
	ca_case_view_done(&view);
	conv_msgs_done(&m);
	json_decref(cj);
	return r;
}

/* The display name of one directory record: a contact's full name, an
 * account's, product's or subject's name; NULL (nothing added) when the
 * record is gone. Read by primary key: its cost does not grow with the
 * directory. */
static int lookup_display(ca_agent *a, const char *kind, const char *id, json_t *display, const char *field,
			  ca_err *err)
{
	json_t *rec = NULL;
	int r = ca_store_directory_get(a->store, kind, id, &rec, err);
	if (r == CA_ENOTFOUND) {
		ca_err_clear(err);
		return 0;
	}
	if (r)
		return r;
	const char *name = ca_json_str(rec, strcmp(kind, "contact") ? "name" : "full_name");
	if (name && json_object_set_new(display, field, json_string(name)) < 0)
		r = CA_ENOMEM;
	json_decref(rec);
	return r;
}

int ca_case_display(ca_agent *a, const json_t *c, json_t **ret, ca_err *err)
{
	const json_t *fields = json_object_get(c, "fields");
	/* Without settings (none imported yet) only the customer is a lookup. */
	int r = settings_ready(a, err);
	if (r == CA_ENOMEM)
		return r;
	if (r)
		ca_err_clear(err);
	const ca_settings *st = r ? NULL : a->settings;
	json_t *display = json_object();
	r = display ? 0 : CA_ENOMEM;
	bool customer_done = false;
	for (size_t i = 0; !r && st && i < st->n_fields; i++) {
		const ca_field_def *f = &st->fields[i];
		const char *v = ca_json_str(fields, f->name);
		if (f->type != CA_FT_LOOKUP || ca_str_empty(v))
			continue;
		customer_done |= strcmp(f->name, "customer") == 0;
		r = lookup_display(a, ca_entity_name(f->lookup), v, display, f->name, err);
	}
	const char *cust = ca_json_str(fields, "customer");
	if (!r && !customer_done && !ca_str_empty(cust) && (!st || ca_settings_field(st, "customer") < 0))
		r = lookup_display(a, "contact", cust, display, "customer", err);
	if (r) {
		json_decref(display);
		return r;
	}
	*ret = display;
	return 0;
}

int ca_case_show(ca_agent *a, const char *ref, char **ret_json, ca_err *err)
{
	json_t *c = NULL, *prov = NULL, *notes = NULL;
	int r = ca_store_case_get(a->store, ref, &c, err);
	int64_t id = r ? 0 : json_integer_value(json_object_get(c, "id"));
	if (!r)
		r = ca_store_case_provenance(a->store, id, &prov, err);
	if (!r)
		r = ca_store_note_list(a->store, id, &notes, err);
	if (r) {
		json_decref(c);
		json_decref(prov);
		return r;
	}
	json_object_set_new(c, "provenance", prov);
	json_object_set_new(c, "notes", notes);
	json_t *sg = NULL;
	if ((r = case_suggestions(a, c, &sg, err))) {
		json_decref(c);
		return r;
	}
	json_object_set_new(c, "suggestions", sg);
	json_t *display = NULL;
	if ((r = ca_case_display(a, c, &display, err))) {
		json_decref(c);
		return r;
	}
	json_object_set_new(c, "display", display);
	return ca_result(c, ret_json);
}

int ca_case_audit(ca_agent *a, const char *ref, char **ret_json, ca_err *err)
{
	int64_t id;
	json_t *c = NULL, *audit = NULL;
	int r = ca_store_case_get(a->store, ref, &c, err);
	if (!r)
		id = json_integer_value(json_object_get(c, "id"));
	if (!r)
		r = ca_store_audit_list(a->store, id, &audit, err);
	if (r) {
		json_decref(c);
		return r;
	}
	json_t *res = json_pack("{s:O, s:o}", "case", json_object_get(c, "ticket_number"), "audit", audit);
	json_decref(c);
	return ca_result(res, ret_json);
}

/* A person's value must still be a valid value of the field. */
static int check_value(ca_agent *a, const ca_field_def *f, const char *value, ca_err *err)
{
	if (ca_str_empty(value))
		return 0;
	size_t bad;
	if (!ca_utf8_valid(value, strlen(value), &bad))
		return ca_err_set(err, CA_EUTF8, f->name, "value for %s is not valid UTF-8 (byte %zu)", f->name, bad);
	if (f->type == CA_FT_OPTION && ca_field_option_index(f, value) < 0)
		return ca_err_set(err, CA_EINVAL, f->name, "'%s' is not an option of %s", value, f->name);
	if (f->type == CA_FT_LOOKUP) {
		json_t *rec = NULL;
		int r = ca_store_directory_get(a->store, ca_entity_name(f->lookup), value, &rec, err);
		json_decref(rec);
		if (r == CA_ENOTFOUND) {
			ca_err_clear(err);
			return ca_err_set(err, CA_EINVAL, f->name, "%s: no %s has id '%s'", f->name, ca_entity_name(f->lookup), value);
		}
		return r;
	}
	if (f->type == CA_FT_NUMBER) {
		double d;
		if (ca_parse_double(value, &d))
			return ca_err_set(err, CA_EINVAL, f->name, "%s: '%s' is not a number", f->name, value);
	}
	return 0;
}

int ca_case_field_check(ca_agent *a, const char *field, const char *value, ca_err *err)
{
	int fi = ca_settings_field(a->settings, field);
	if (fi < 0 && !ca_case_is_standard_field(field))
		return ca_err_set(err, CA_EINVAL, field, "'%s' is neither a configured field nor a standard case field", field);
	if (fi < 0 && (!strcmp(field, "ticket_number")))
		return ca_err_set(err, CA_EINVAL, field, "the ticket number cannot be edited");
	if (fi >= 0)
		return check_value(a, &a->settings->fields[fi], value, err);
	if (!strcmp(field, "customer") && !ca_str_empty(value)) {
		/* customer is a contact even when not configured as a field */
		json_t *rec = NULL;
		int r = ca_store_directory_get(a->store, "contact", value, &rec, NULL);
		json_decref(rec);
		if (r)
			return ca_err_set(err, CA_EINVAL, field, "customer: no contact has id '%s'", value);
	}
	return 0;
}

int ca_case_for_edit(ca_agent *a, const char *ref, int64_t expected_version, json_t **ret_case, int64_t *ret_id,
		     int64_t *ret_version, ca_err *err)
{
	int64_t id = 0;
	json_t *c = NULL;
	int r = ca_case_ref(a, ref, &id, err);
	if (!r)
		r = ca_store_case_get_id(a->store, id, &c, err);
	int64_t version = r ? 0 : json_integer_value(json_object_get(c, "version"));
	if (!r && expected_version && expected_version != version)
		r = ca_err_set(err, CA_ECONFLICT, "version",
			       "case %s is at version %lld, not %lld: someone changed it; reload and edit again", ref,
			       (long long)version, (long long)expected_version);
	if (r) {
		json_decref(c);
		return r;
	}
	*ret_case = c;
	*ret_id = id;
	*ret_version = version;
	return 0;
}

int ca_case_edit(ca_agent *a, const char *ref, const char *field, const char *value, const char *actor,
		 int64_t expected_version, char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	if ((r = ca_case_field_check(a, field, value, err)))
		return r;
	if ((r = ca_store_begin(a->store, err)))
		return r;
	int64_t id = 0, version = 0, nv = 0;
	json_t *c = NULL;
	r = ca_case_for_edit(a, ref, expected_version, &c, &id, &version, err);
	const char *old = r ? NULL : ca_json_str(json_object_get(c, "fields"), field);
	json_t *res = NULL;
	if (!r)
		res = json_pack("{s:O, s:s, s:s?, s:s?}", "case", json_object_get(c, "ticket_number"), "field", field,
				"old", old, "new", value);
	if (!r)
		r = ca_store_case_bump_version(a->store, id, version, &nv, err);
	if (!r)
		r = ca_case_write_as(a, id, field, ca_str_empty(value) ? NULL : value, "person", actor ? actor : "unknown", err);
	if (!r)
		r = ca_store_commit(a->store, err);
	json_decref(c);
	if (r) {
		ca_store_rollback(a->store);
		json_decref(res);
		return r;
	}
	json_object_set_new(res, "version", json_integer(nv));
	return ca_result(res, ret_json);
}

/* Without a conversation, the newest rows only: the log grows with every
 * event, and a report reads ca_report_agent's counts instead. */
#define CA_INTERACTIONS_RECENT 200

int ca_interactions(ca_agent *a, const char *conversation, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	(void)ca_interactions_flush(a, NULL); /* what this process decided; a failure leaves them queued */
	int r = conversation ? ca_store_interaction_list(a->store, conversation, &list, err)
			     : ca_store_interaction_recent(a->store, CA_INTERACTIONS_RECENT, &list, err);
	return r ? r : ca_result(json_pack("{s:o}", "interactions", list), ret_json);
}

/* ---- update from conversation, on demand ---- */

/* What an update from conversation reads about the case: its id, its
 * conversation (row and messages) and the result to fill. */
static int ufc_gather(ca_agent *a, const char *case_ref, const char *actor, int64_t *case_id, char **conv,
		      json_t **c, json_t **cj, conv_msgs *m, json_t **res, ca_err *err)
{
	int r = ca_case_ref(a, case_ref, case_id, err);
	if (!r)
		r = ca_store_conversation_of_case(a->store, *case_id, conv, err);
	if (!r && !*conv)
		r = ca_err_set(err, CA_ESTATE, "case",
			       "case %s has no conversation to update from (it was not created from a chat, nor linked to one)",
			       case_ref);
	if (!r)
		r = ca_store_conversation_get(a->store, *conv, c, err);
	if (!r)
		r = load_msgs(a, *conv, m, err);
	if (!r) {
		r = ca_store_case_get_id(a->store, *case_id, cj, err);
		*res = r ? NULL
			 : json_pack("{s:n, s:s, s:s, s:s, s:O, s:b, s:[], s:b, s:[], s:[], s:b, s:b, s:s?}", "event",
				     "type", "update", "conversation", *conv, "state", ca_json_str(*c, "state"), "case",
				     json_object_get(*cj, "ticket_number"), "created", 0, "changed", "no_changes", 0,
				     "missing", "suggestions", "note", 0, "replayed", 0, "requested_by", actor);
		if (!r && !*res)
			r = CA_ENOMEM;
	}
	return r;
}

/*
 * Optimistic, as the decision core allows (it is pure): the reading and the
 * prediction happen in a read snapshot, without the write lock, so a
 * server's threads predict side by side; the write lock is taken only to
 * write the plan, if the case has not moved on since (its version), and
 * the whole update runs again under the lock when it has. A plan that
 * writes nothing needs no version check: the update then says "no changes"
 * of the conversation as it was when asked, and, with an interaction queue
 * (ca_agent_defer_interactions), takes no write lock at all: its row in the
 * interaction log is queued.
 */
int ca_case_update_from_conversation(ca_agent *a, const char *case_ref, const char *actor, char **ret_json,
				     ca_err *err)
{
	if (a->directory_stale) {
		ca_agent_invalidate(a); /* e-mail added contacts the chat may name */
		a->directory_stale = false;
	}
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	json_t *res = NULL;
	for (int locked = 0; locked < 2; locked++) {
		int64_t case_id = 0, version = 0;
		char *conv = NULL;
		json_t *c = NULL, *cj = NULL;
		conv_msgs m = { 0 };
		ca_case_view view = { 0 };
		ca_plan plan;
		bool planned = false;
		res = NULL;
		r = locked ? ca_store_begin(a->store, err) : ca_store_begin_read(a->store, err);
		if (r)
			return r;
		r = ufc_gather(a, case_ref, actor, &case_id, &conv, &c, &cj, &m, &res, err);
		if (!r &&
		    !(r = update_plan(a, case_id, cj, ca_json_str(c, "contact_id"), &m, &view, &version, &plan, err)))
			planned = true;
		bool reads_only = planned && plan.n_writes == 0 && a->iq;
		if (!r && !locked) { /* the snapshot ends; the write begins */
			if (!(r = ca_store_commit(a->store, err)) && !reads_only)
				r = ca_store_begin(a->store, err);
			if (r) { /* nothing of ours is open now */
				if (planned) {
					ca_plan_done(&plan);
					ca_case_view_done(&view);
				}
				conv_msgs_done(&m);
				json_decref(c);
				json_decref(cj);
				json_decref(res);
				free(conv);
				return r;
			}
		}
		if (!r)
			r = update_apply(a, conv, case_id, version, &plan, res, err);
		if (!r && !(reads_only && !locked))
			r = ca_store_commit(a->store, err);
		bool again = r == CA_ECONFLICT && !locked;
		if (r) { /* an update writes no message: the analyses stand */
			ca_agent_rollback(a);
			json_decref(res);
			res = NULL;
		}
		if (planned) {
			ca_plan_done(&plan);
			ca_case_view_done(&view);
		}
		conv_msgs_done(&m);
		json_decref(c);
		json_decref(cj);
		free(conv);
		if (!again)
			break;
		ca_err_clear(err);
	}
	return r ? r : ca_result(res, ret_json);
}
