/* SPDX-License-Identifier: MIT */
/*
 * Suggested actions (level confirm, and every hand-over to a person): the
 * case's pending suggestion as the API and the card show it, and a
 * person's answer to it (send the follow-up, possibly edited; take the
 * draft into the reply editor; resolve; dismiss), each one transaction with
 * what it does. A suggestion is gone once a person acts on it or the
 * customer writes again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fu_internal.h"

/* The pending suggestion of case `id` that still stands (*ret JSON null
 * when none, when the case is closed, or when the customer wrote since it
 * was made). */
static int standing(ca_agent *a, int64_t id, const json_t *c, json_t **ret, ca_err *err)
{
	if (fu_status_closed(ca_json_str(json_object_get(c, "fields"), "status"))) {
		*ret = json_null();
		return 0;
	}
	json_t *st = NULL;
	int r = ca_store_followup_case(a->store, id, 5, 0, &st, err);
	if (r)
		return r;
	json_t *sg = json_object_get(st, "suggestion");
	bool wrote = false;
	if (json_is_object(sg))
		r = fu_customer_wrote_since(json_object_get(st, "replies"),
					    json_integer_value(json_object_get(sg, "created_epoch")),
					    json_integer_value(json_object_get(sg, "reply_email_id")), &wrote, err);
	*ret = !r && json_is_object(sg) && !wrote ? json_incref(sg) : json_null();
	json_decref(st);
	return r;
}

static json_t *suggestion_json(const json_t *sg)
{
	if (!json_is_object(sg))
		return json_null();
	const char *subject = ca_json_str(sg, "email_subject"), *body = ca_json_str(sg, "email_body");
	json_t *email = subject && body ? json_pack("{s:s, s:s}", "subject", subject, "body", body) : json_null();
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:O}", "id", json_object_get(sg, "id"), "rule",
			 json_object_get(sg, "rule"), "step", json_object_get(sg, "step"), "created_at",
			 json_object_get(sg, "created_at"), "proposed", json_object_get(sg, "proposed"), "reply_summary",
			 json_object_get(sg, "reply_summary"), "intent", json_object_get(sg, "intent"), "email", email,
			 "resolution", json_object_get(sg, "resolution"));
}

int ca_case_suggestion(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err)
{
	int64_t id = 0;
	json_t *c = NULL, *sg = NULL;
	int r = ca_case_ref(a, case_ref, &id, err);
	if (!r)
		r = ca_store_case_get_id(a->store, id, &c, err);
	if (!r)
		r = standing(a, id, c, &sg, err);
	json_t *res = r ? NULL
			: json_pack("{s:O, s:o}", "case", json_object_get(c, "ticket_number"), "suggestion",
				    suggestion_json(sg));
	json_decref(c);
	json_decref(sg);
	if (r)
		return r;
	return res ? ca_result(res, ret_json) : CA_ENOMEM;
}

/* The text of key `k` of the request: absent NULL, else a string. */
static int opt_text(const json_t *req, const char *k, const char **out, ca_err *err)
{
	const json_t *v = json_object_get(req, k);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return ca_err_set(err, CA_EINVAL, k, "suggested action: \"%s\" must be text", k);
	*out = json_string_value(v);
	return 0;
}

int ca_case_suggestion_act(ca_agent *a, const char *case_ref, int64_t sid, const char *body_json, const char *actor,
			   char **ret_json, ca_err *err)
{
	static const char *const keys[] = { "action", "subject", "body", "resolution" };
	static const char *const actions[] = { "send", "draft", "resolve", "dismiss" };
	json_error_t je;
	json_t *req = body_json ? json_loads(body_json, JSON_REJECT_DUPLICATES, &je) : NULL;
	int r = 0;
	if (!json_is_object(req))
		r = ca_err_set(err, CA_EINVAL, "body", "suggested action: the request must be a JSON object {\"action\": "
				"send|draft|resolve|dismiss, ...}");
	const char *bad = r ? NULL : ca_json_unknown_key(req, keys, CA_ARRAY_SIZE(keys));
	if (bad)
		r = ca_err_set(err, CA_EINVAL, bad, "suggested action: unknown key \"%.60s\" (action, subject, body, resolution)",
			       bad);
	const char *action = r ? NULL : ca_json_str(req, "action"), *subject = NULL, *body = NULL, *resolution = NULL;
	size_t k = 0;
	while (action && k < CA_ARRAY_SIZE(actions) && strcmp(action, actions[k]))
		k++;
	if (!r && (!action || k == CA_ARRAY_SIZE(actions)))
		r = ca_err_set(err, CA_EINVAL, "action", "suggested action: \"action\" must be send, draft, resolve or dismiss");
	if (!r)
		r = opt_text(req, "subject", &subject, err);
	if (!r)
		r = opt_text(req, "body", &body, err);
	if (!r)
		r = opt_text(req, "resolution", &resolution, err);
	if (!r)
		r = ca_agent_ready(a, err);
	if (r) {
		json_decref(req);
		return r;
	}
	const char *who = ca_str_empty(actor) ? "unknown" : actor;
	json_t *c = NULL, *sg = NULL, *out = NULL, *draft = json_null(), *still = NULL;
	int64_t id = 0, outbox = 0;
	r = ca_store_begin(a->store, err);
	if (!r)
		r = ca_case_ref(a, case_ref, &id, err);
	if (!r)
		r = ca_store_case_get_id(a->store, id, &c, err);
	if (!r)
		r = ca_store_suggestion_get(a->store, id, sid, &sg, err);
	const char *ticket = ca_json_str(c, "ticket_number");
	if (!r && strcmp(ca_json_str(sg, "state"), "pending"))
		r = ca_err_set(err, CA_ESTATE, "suggestion", "suggestion %lld of case %s is %s already, not pending",
			       (long long)sid, ticket, ca_json_str(sg, "state"));
	if (!r)
		r = standing(a, id, c, &still, err);
	if (!r && !json_is_object(still))
		r = ca_err_set(err, CA_ESTATE, "suggestion",
			       "suggestion %lld of case %s no longer stands: the case is closed or the customer wrote since it "
			       "was made",
			       (long long)sid, ticket);
	const char *ssub = ca_json_str(sg, "email_subject"), *sbody = ca_json_str(sg, "email_body");
	if (!r && !strcmp(action, "send")) {
		if (!body)
			body = sbody;
		if (!subject)
			subject = ssub;
		if (!body)
			r = ca_err_set(err, CA_EINVAL, "body",
				       "suggestion %lld of case %s proposes no e-mail: give the e-mail's \"body\" to send one",
				       (long long)sid, ticket);
		json_t *msg = r ? NULL : json_pack("{s:s, s:s?}", "body", body, "subject", subject);
		char *mtext = msg ? json_dumps(msg, JSON_COMPACT) : NULL, *reply = NULL;
		if (!r && !mtext)
			r = CA_ENOMEM;
		if (!r)
			r = ca_case_reply(a, ticket, mtext, who, &reply, err);
		json_t *rj = reply ? json_loads(reply, 0, NULL) : NULL;
		outbox = json_integer_value(json_object_get(rj, "id"));
		if (!r && !strcmp(ca_json_str(sg, "proposed"), "send_followup"))
			r = ca_store_followup_step_sent(a->store, id, json_integer_value(json_object_get(sg, "step")), outbox, err);
		json_decref(rj);
		json_decref(msg);
		free(mtext);
		free(reply);
	} else if (!r && !strcmp(action, "draft")) {
		json_decref(draft);
		draft = json_pack("{s:s?, s:s?}", "subject", subject ? subject : ssub, "body", body ? body : sbody);
		if (!draft)
			r = CA_ENOMEM;
	} else if (!r && !strcmp(action, "resolve")) {
		if (!resolution)
			resolution = ca_json_str(sg, "resolution");
		char *res = NULL;
		r = ca_case_resolve(a, ticket, resolution, who, &res, err);
		free(res);
	}
	if (!r)
		r = ca_store_suggestion_close(a->store, sid, strcmp(action, "dismiss") ? "acted" : "dismissed", action, who,
					      outbox, err);
	json_t *detail = r ? NULL
			   : json_pack("{s:I, s:s, s:s, s:O}", "suggestion", (json_int_t)sid, "actor", who, "proposed",
				       ca_json_str(sg, "proposed"), "rule", json_object_get(sg, "rule"));
	if (!r)
		r = detail ? ca_store_interaction_add(a->store, NULL, id, "followup_suggestion", action, detail, err)
			   : CA_ENOMEM;
	json_decref(detail);
	json_t *after = NULL;
	if (!r)
		r = ca_store_case_get_id(a->store, id, &after, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r)
		ca_agent_rollback(a);
	if (!r)
		out = json_pack("{s:s, s:I, s:s, s:o, s:O, s:O}", "case", ticket, "suggestion", (json_int_t)sid, "action",
				action, "outbox", outbox ? json_integer(outbox) : json_null(), "draft", draft, "status",
				json_object_get(json_object_get(after, "fields"), "status"));
	json_decref(after);
	json_decref(draft);
	json_decref(still);
	json_decref(sg);
	json_decref(c);
	json_decref(req);
	if (r)
		return r;
	return out ? ca_result(out, ret_json) : CA_ENOMEM;
}
