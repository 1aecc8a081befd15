/* SPDX-License-Identifier: MIT */
/*
 * The handlers the route table names: each takes what the router and the
 * server checked already (credentials and rights, path segments, query
 * parameters, a JSON body of the route's shape) and makes one call of the
 * public API with it, answering its JSON result or returning its CA_E*
 * code (the server turns codes into problem+json). The actor of every write
 * is the principal's user name. A chat event's "actor" stays the chat
 * platform's: it names the representative who accepted, whose agent
 * experience profile decides what the agent may do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

/* ---- helpers ---- */

static int take(srv_reply *out, char *json)
{
	out->body = json;
	return 0;
}

/* A JSON value as an answer. Takes v. */
static int answer(srv_reply *out, json_t *v, ca_err *err)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (!text)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	return take(out, text);
}

/* The body re-serialised for an API call taking JSON text. Caller frees. */
static int body_text(const srv_req *r, char **ret, ca_err *err)
{
	json_t *empty = r->body ? NULL : json_object();
	char *text = json_dumps(r->body ? r->body : empty, JSON_COMPACT);

	json_decref(empty);
	if (!text)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	*ret = text;
	return 0;
}

static const char *bstr(const srv_req *r, const char *key)
{
	return json_string_value(json_object_get(r->body, key));
}

static const char *qstr(const srv_req *r, const char *key)
{
	const char *v = srv_query_get(r->query, key);
	return v && v[0] ? v : NULL;
}

/* A whole number from the query, 0 when absent. */
static int qsize(const srv_req *r, const char *key, size_t max, size_t *ret, ca_err *err)
{
	const char *v = qstr(r, key);
	char *end = NULL;
	unsigned long long n;

	*ret = 0;
	if (!v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno || *end || n > max)
		return ca_err_set(err, CA_EINVAL, key, "query parameter '%s' must be a whole number from 0 to %zu", key,
				  max);
	*ret = (size_t)n;
	return 0;
}

/* A record id from the path's {param} number `at`: a positive whole
 * number, else no such record. */
static int param_id(const srv_req *r, size_t at, const char *what, int64_t *ret, ca_err *err)
{
	const char *v = r->param[at];
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (v[0] < '1' || v[0] > '9' || errno || *end || n <= 0)
		return ca_err_set(err, CA_ENOTFOUND, "id", "there is no %s '%s'", what, v);
	*ret = (int64_t)n;
	return 0;
}

/* The id of a path with one {param}. */
static int path_id(const srv_req *r, const char *what, int64_t *ret, ca_err *err)
{
	return param_id(r, 0, what, ret, err);
}

static const char *actor(const srv_req *r)
{
	return r->who ? r->who->user : "anonymous";
}

/* The rights bits as their names. */
static json_t *rights_json(unsigned rights)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < sizeof srv_right_names / sizeof srv_right_names[0]; i++)
		if (rights & (1u << i))
			json_array_append_new(a, json_string(srv_right_names[i]));
	return a;
}

/* ---- generic ---- */

int srv_h_ref(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = r->route->ref_api(r->agent, r->param[0], &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_all(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = r->route->all_api(r->agent, &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* ---- outside /api/v1 ---- */

int srv_h_healthz(srv_req *r, srv_reply *out, ca_err *err)
{
	(void)r;
	return answer(out, json_pack("{s:s}", "status", "ok"), err);
}

int srv_h_readyz(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t last = 0;
	ca_err why;
	int rc;

	/* The worker thread's agent opens (so the schema was migrated to
	 * current, or the database refused: a newer schema, a broken file),
	 * and a read of the event outbox says the database answers. */
	ca_err_clear(&why);
	ca_agent *a = NULL;
	rc = srv_agent(r->srv, &a, &why);
	if (rc == 0)
		rc = ca_events_last_id(a, &last, &why);
	if (rc < 0) {
		out->status = 503;
		return answer(out, json_pack("{s:s, s:s, s:s}", "status", "not ready", "database", ca_strerror(rc),
					     "detail", why.message),
			      err);
	}
	return answer(out, json_pack("{s:s, s:s, s:s}", "status", "ready", "database", "ok", "schema", "current"), err);
}

int srv_h_openapi(srv_req *r, srv_reply *out, ca_err *err)
{
	char *doc = srv_openapi_json();
	(void)r;
	if (!doc)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	return take(out, doc);
}

int srv_h_metrics(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = srv_metrics_render(srv_server_metrics(r->srv));
	if (!text)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	out->type = "text/plain; version=0.0.4; charset=utf-8";
	return take(out, text);
}

/* ---- sessions ---- */

/* The session cookie (RFC 6265 §4.1): never readable by scripts, never sent
 * cross-site, Secure when the request came over HTTPS (a TLS proxy). */
static char *cookie_header(const char *value, bool secure, bool clear)
{
	size_t n = strlen(value) + 96;
	char *h = malloc(n);

	if (h)
		snprintf(h, n, "caseagent_session=%s; %sHttpOnly; SameSite=Strict; Path=/%s", clear ? "" : value,
			 clear ? "Max-Age=0; " : "", secure ? "; Secure" : "");
	return h;
}

int srv_h_login(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	json_t *res;
	int rc = ca_session_login(r->agent, bstr(r, "user"), bstr(r, "password"), r->address, &json, err);

	if (rc < 0)
		return rc;
	res = json_loads(json, 0, NULL);
	free(json);
	const char *session = json_string_value(json_object_get(res, "session"));
	if (!session || strcspn(session, ";, \t\r\n\"") != strlen(session)) {
		json_decref(res);
		return ca_err_set(err, CA_ENOMEM, NULL, "the login's result could not be read");
	}
	if (!(out->set_cookie = cookie_header(session, r->secure, false))) {
		json_decref(res);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	json_object_del(res, "session"); /* the secret goes in the cookie only */
	return answer(out, res, err);
}

int srv_h_logout(srv_req *r, srv_reply *out, ca_err *err)
{
	int rc;

	if (r->who->via_session && r->session && (rc = ca_session_logout(r->agent, r->session, err)) < 0)
		return rc;
	if (!(out->set_cookie = cookie_header("", r->secure, true)))
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	return 0;
}

/* The features of the caller's agent experience profile ("" is the
 * out-of-the-box one, as for ca_user_add). */
static int profile_features(srv_req *r, json_t **ret, ca_err *err)
{
	const char *name = r->who->profile[0] ? r->who->profile : "Default";
	char *json = NULL;
	json_t *profile;
	int rc;

	if ((rc = ca_profile_show(r->agent, name, &json, err)) < 0)
		return rc;
	profile = json_loads(json, 0, NULL);
	free(json);
	*ret = json_pack("{s:b, s:b}", "autonomous_case", json_is_true(json_object_get(profile, "autonomous_case")),
			 "autonomous_followup", json_is_true(json_object_get(profile, "autonomous_followup")));
	json_decref(profile);
	return *ret ? 0 : ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
}

int srv_h_whoami(srv_req *r, srv_reply *out, ca_err *err)
{
	const ca_principal *p = r->who;
	json_t *features = NULL;
	int rc;

	if ((rc = profile_features(r, &features, err)) < 0)
		return rc;
	/* A reloaded page reads its session's CSRF token here, so the UI
	 * stores it nowhere; the session's own secret (the HttpOnly cookie)
	 * is never in a body. */
	return answer(out,
		      json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:s*}", "user", p->user, "role", p->role, "profile",
				p->profile, "rights", rights_json(p->rights), "via", p->via_session ? "session" : "token",
				"features", features, "csrf", p->via_session && p->csrf[0] ? p->csrf : NULL),
		      err);
}

int srv_h_roles(srv_req *r, srv_reply *out, ca_err *err)
{
	json_t *roles = json_array();
	(void)r;
	for (const char *const *n = ca_role_names(); roles && *n; n++)
		json_array_append_new(roles, json_pack("{s:s, s:o}", "name", *n, "rights", rights_json(ca_role_rights(*n))));
	return answer(out, json_pack("{s:o}", "roles", roles), err);
}

int srv_h_notifications(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_notifications(r->agent, r->who->user, &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_notification_read(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	int rc = path_id(r, "notification", &id, err);
	(void)out;
	return rc < 0 ? rc : ca_notification_read(r->agent, id, r->who->user, err);
}

int srv_h_events(srv_req *r, srv_reply *out, ca_err *err)
{
	return srv_events_stream(srv_server_events(r->srv), r, out, err);
}

/* ---- the integrations' doors ---- */

int srv_h_chat_event(srv_req *r, srv_reply *out, ca_err *err)
{
	const char *conv = bstr(r, "conversation");
	char *json = NULL;
	int rc;

	if (conv && strcmp(conv, r->param[0]))
		return ca_err_set(err, CA_EINVAL, "conversation",
				  "the body's conversation '%s' is not the one of the path", conv);
	if (!conv && json_object_set_new(r->body, "conversation", json_string(r->param[0])) < 0)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	json_t *res = NULL;
	if ((rc = ca_chat_event_json(r->agent, r->body, &res, err)) < 0)
		return rc;
	srv_metrics_decision(srv_server_metrics(r->srv), res);
	json = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6)); /* as the agent writes its results */
	json_decref(res);
	if (!json)
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	return take(out, json);
}

int srv_h_email_ingest(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_email_ingest_raw(r->agent, r->raw, r->raw_len, "http", qstr(r, "mailbox"), &json, err);

	if (rc < 0)
		return rc;
	json_t *res = json_loads(json, 0, NULL);
	srv_metrics_email(srv_server_metrics(r->srv), json_string_value(json_object_get(res, "outcome")), 1);
	json_decref(res);
	return take(out, json);
}

/* ---- conversations and cases ---- */

int srv_h_conversations(srv_req *r, srv_reply *out, ca_err *err)
{
	size_t limit;
	char *json = NULL;
	int rc = qsize(r, "limit", 200, &limit, err);

	if (rc == 0)
		rc = ca_conversation_list(r->agent, qstr(r, "state"), limit, qstr(r, "cursor"), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_cases(srv_req *r, srv_reply *out, ca_err *err)
{
	ca_case_filter f = { 0 };
	char *json = NULL;
	int rc = qsize(r, "limit", 200, &f.limit, err);

	if (rc < 0)
		return rc;
	f.status = qstr(r, "status");
	f.owner = qstr(r, "owner");
	f.customer = qstr(r, "customer");
	f.origin = qstr(r, "origin");
	f.q = qstr(r, "q");
	f.cursor = qstr(r, "cursor");
	rc = ca_case_query(r->agent, &f, &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* The ETag of a result that has a "version". */
static void version_etag(srv_reply *out, const char *json)
{
	json_t *res = json_loads(json, 0, NULL);
	json_t *v = json_object_get(res, "version");
	if (json_is_integer(v))
		snprintf(out->etag, sizeof out->etag, "%lld", (long long)json_integer_value(v));
	json_decref(res);
}

int srv_h_case_create(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = NULL, *json = NULL;
	int rc = body_text(r, &text, err);

	if (rc == 0)
		rc = ca_case_create(r->agent, text, actor(r), &json, err);
	free(text);
	if (rc < 0)
		return rc;
	version_etag(out, json);
	return take(out, json);
}

int srv_h_case_show(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_case_show(r->agent, r->param[0], &json, err);

	if (rc < 0)
		return rc;
	version_etag(out, json);
	return take(out, json);
}

int srv_h_case_patch(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = NULL, *json = NULL;
	int rc = body_text(r, &text, err);

	if (rc == 0)
		rc = ca_case_patch(r->agent, r->param[0], text, actor(r), r->if_match > 0 ? r->if_match : 0, &json, err);
	free(text);
	if (rc < 0)
		return rc;
	version_etag(out, json);
	return take(out, json);
}

int srv_h_case_ufc(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_case_update_from_conversation(r->agent, r->param[0], actor(r), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_case_resolve(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_case_resolve(r->agent, r->param[0], bstr(r, "resolution"), actor(r), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_case_cancel(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_case_cancel(r->agent, r->param[0], bstr(r, "reason"), actor(r), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_case_reactivate(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_case_reactivate(r->agent, r->param[0], actor(r), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_note_add(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_case_note_add(r->agent, r->param[0], bstr(r, "body"), actor(r), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_case_reply(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = NULL, *json = NULL;
	int rc = body_text(r, &text, err);

	if (rc == 0)
		rc = ca_case_reply(r->agent, r->param[0], text, actor(r), &json, err);
	free(text);
	return rc < 0 ? rc : take(out, json);
}

/* ---- the follow-up agent ---- */

/* A simulation's cases at most (ca_followup_opts.limit: 1-100). */
#define SIMULATE_MAX 100

int srv_h_case_suggestion_act(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	char *text = NULL, *json = NULL;
	int rc = param_id(r, 1, "suggestion", &id, err);

	if (rc == 0)
		rc = body_text(r, &text, err);
	if (rc == 0)
		rc = ca_case_suggestion_act(r->agent, r->param[0], id, text, actor(r), &json, err);
	free(text);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_followup_simulate(srv_req *r, srv_reply *out, ca_err *err)
{
	/* The schema checked the types; the range is the simulation's. */
	const json_t *lim = json_object_get(r->body, "limit");
	json_int_t n = lim ? json_integer_value(lim) : SIMULATE_MAX;
	if (n < 1 || n > SIMULATE_MAX)
		return ca_err_set(err, CA_EINVAL, "limit", "a simulation covers 1 to %d cases, not %lld",
				  SIMULATE_MAX, (long long)n);
	ca_followup_opts o = { .rule = bstr(r, "rule"), .limit = (size_t)n, .dry_run = true };
	char *json = NULL;
	int rc = ca_followup_run(r->agent, &o, &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_followup_shadow(srv_req *r, srv_reply *out, ca_err *err)
{
	size_t limit;
	char *json = NULL;
	int rc = qsize(r, "limit", 1000, &limit, err);

	if (rc == 0)
		rc = ca_followup_shadow_log(r->agent, qstr(r, "rule"), limit, &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* ---- e-mail ---- */

int srv_h_email_log(srv_req *r, srv_reply *out, ca_err *err)
{
	size_t limit;
	char *json = NULL;
	int rc = qsize(r, "limit", 10000, &limit, err);

	if (rc == 0)
		rc = ca_email_log(r->agent, limit ? limit : 100, &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_email_show(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	char *json = NULL;
	int rc = path_id(r, "e-mail", &id, err);

	if (rc == 0)
		rc = ca_email_show(r->agent, id, &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_email_held(srv_req *r, srv_reply *out, ca_err *err)
{
	size_t limit;
	char *json = NULL;
	int rc = qsize(r, "limit", 10000, &limit, err);

	if (rc == 0)
		rc = ca_email_held(r->agent, limit ? limit : 100, &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_email_release(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	char *json = NULL;
	int rc = path_id(r, "e-mail", &id, err);

	if (rc == 0)
		rc = ca_email_release(r->agent, id, actor(r), &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* ---- knowledge ---- */

int srv_h_articles(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_knowledge_list(r->agent, qstr(r, "state"), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_article_change(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = NULL, *json = NULL;
	int rc = body_text(r, &text, err);

	if (rc == 0)
		rc = ca_knowledge_change(r->agent, r->param[0], text, &json, err);
	free(text);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_article_rate(srv_req *r, srv_reply *out, ca_err *err)
{
	/* A rating is a change of the article (ca_knowledge_change checks 1-5). */
	return srv_h_article_change(r, out, err);
}

int srv_h_search(srv_req *r, srv_reply *out, ca_err *err)
{
	size_t limit;
	char *json = NULL;
	int rc = qsize(r, "limit", 100, &limit, err);

	if (rc < 0)
		return rc;
	if (!qstr(r, "q"))
		return ca_err_set(err, CA_EINVAL, "q", "the search needs words: ?q=...");
	rc = ca_knowledge_search(r->agent, qstr(r, "q"), qstr(r, "audience"), limit ? limit : 10, &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* ---- configuration ---- */

int srv_h_settings_put(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = NULL, *json = NULL;
	int rc = body_text(r, &text, err);

	if (rc == 0)
		rc = ca_settings_import_text(r->agent, text, strlen(text), err);
	free(text);
	if (rc < 0)
		return rc;
	/* The other threads' agents take the new settings at their next call. */
	if ((rc = ca_settings_export(r->agent, &json, err)) < 0)
		return rc;
	return take(out, json);
}

int srv_h_user_add(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_user_add(r->agent, bstr(r, "name"), bstr(r, "role"), bstr(r, "profile"), bstr(r, "password"), &json,
			     err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_user_change(srv_req *r, srv_reply *out, ca_err *err)
{
	char *text = NULL, *json = NULL;
	int rc = body_text(r, &text, err);

	if (rc == 0)
		rc = ca_user_change(r->agent, r->param[0], text, &json, err);
	free(text);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_tokens(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	/* An unknown user is 404, not an empty list. */
	int rc = ca_user_show(r->agent, r->param[0], &json, err);

	free(json);
	json = NULL;
	if (rc == 0)
		rc = ca_token_list(r->agent, r->param[0], &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_token_create(srv_req *r, srv_reply *out, ca_err *err)
{
	char *token = NULL, *json = NULL;
	int rc = ca_token_create(r->agent, r->param[0], bstr(r, "name"), &token, &json, err);

	if (rc < 0)
		return rc;
	json_t *res = json_loads(json, 0, NULL);
	free(json);
	if (!res || json_object_set_new(res, "token", json_string(token)) < 0) {
		json_decref(res);
		explicit_bzero(token, strlen(token));
		free(token);
		return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
	}
	explicit_bzero(token, strlen(token));
	free(token);
	return answer(out, res, err);
}

int srv_h_token_revoke(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	int rc = path_id(r, "token", &id, err);
	(void)out;
	return rc < 0 ? rc : ca_token_revoke(r->agent, id, err);
}

int srv_h_profile_put(srv_req *r, srv_reply *out, ca_err *err)
{
	const char *name = bstr(r, "name");
	char *text = NULL, *json = NULL;
	int rc;

	if (name && strcmp(name, r->param[0]))
		return ca_err_set(err, CA_EINVAL, "name", "the body's name '%s' is not the one of the path", name);
	if ((rc = body_text(r, &text, err)) < 0)
		return rc;
	rc = ca_profile_put(r->agent, r->param[0], text, &json, err);
	free(text);
	return rc < 0 ? rc : take(out, json);
}

/* ---- harvests ---- */

int srv_h_harvests(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_knowledge_harvest_status(r->agent, 0, &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* One job's object out of the status of that job. */
static int one_job(srv_req *r, int64_t id, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_knowledge_harvest_status(r->agent, id, &json, err);

	if (rc < 0)
		return rc;
	json_t *res = json_loads(json, 0, NULL);
	free(json);
	json_t *job = json_array_get(json_object_get(res, "jobs"), 0);
	if (!job) {
		json_decref(res);
		return ca_err_set(err, CA_ENOTFOUND, "id", "there is no harvest job %lld", (long long)id);
	}
	json_incref(job);
	json_decref(res);
	return answer(out, job, err);
}

int srv_h_harvest_start(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t job = 0;
	const char *source = bstr(r, "source");
	int rc = ca_knowledge_harvest_start(r->agent, source ? source : "cases", bstr(r, "rule"), &job, err);

	/* The background worker runs every job in state "running". */
	return rc < 0 ? rc : one_job(r, job, out, err);
}

int srv_h_harvest_show(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	int rc = path_id(r, "harvest job", &id, err);
	return rc < 0 ? rc : one_job(r, id, out, err);
}

int srv_h_harvest_log(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	size_t limit;
	char *json = NULL;
	int rc = path_id(r, "harvest job", &id, err);

	if (rc == 0)
		rc = qsize(r, "limit", CA_HARVEST_MAX_RECORDS, &limit, err);
	if (rc == 0)
		rc = ca_knowledge_harvest_log(r->agent, id, qstr(r, "outcome"), limit, &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_harvest_stop(srv_req *r, srv_reply *out, ca_err *err)
{
	int64_t id = 0;
	char *json = NULL;
	int rc = path_id(r, "harvest job", &id, err);

	if (rc == 0)
		rc = ca_knowledge_harvest_stop(r->agent, id, &json, err);
	return rc < 0 ? rc : take(out, json);
}

/* ---- reports ---- */

int srv_h_interactions(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_interactions(r->agent, qstr(r, "conversation"), &json, err);
	return rc < 0 ? rc : take(out, json);
}

int srv_h_report_agent(srv_req *r, srv_reply *out, ca_err *err)
{
	char *json = NULL;
	int rc = ca_report_agent(r->agent, qstr(r, "from"), qstr(r, "to"), &json, err);
	return rc < 0 ? rc : take(out, json);
}
