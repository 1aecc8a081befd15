/* SPDX-License-Identifier: MIT */
/*
 * The decision core of the case agent and its update policy (ARCHITECTURE
 * §3). Planning is pure: from the conversation and a view of the case it
 * decides which fields to predict (the default list, then the fields of
 * every update rule whose condition holds, re-evaluated to a fixpoint) and
 * which predictions the policy lets through. Applying is the only step that
 * writes, inside the caller's transaction, guarded by the case's row version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"

/* A value below its threshold is reported as a suggestion unless it is
 * hardly more than noise (one word of a long product name, once). */
#define SUGGESTION_FLOOR 0.05

bool ca_policy_allows(const char *writer_source, const ca_field_def *f, const char *current_value,
		      const char *current_source, const char *new_value, double confidence,
		      const char **ret_reason)
{
	const char *reason = NULL;
	bool agent = strcmp(writer_source, "agent") == 0;
	if (agent && current_source && strcmp(current_source, "person") == 0)
		reason = "set by a person";
	else if (agent && current_source && strcmp(current_source, "arc") == 0)
		reason = "set by an ARC rule";
	else if (agent && confidence < f->threshold)
		reason = "below threshold";
	else if (ca_streq(current_value, new_value))
		reason = "unchanged";
	if (ret_reason)
		*ret_reason = reason;
	return reason == NULL;
}

void ca_plan_done(ca_plan *p)
{
	for (size_t i = 0; i < p->n_writes; i++)
		ca_prediction_done(&p->writes[i].pred);
	free(p->writes);
	json_decref(p->missing);
	json_decref(p->suggestions);
	memset(p, 0, sizeof(*p));
}

void ca_case_view_done(ca_case_view *v)
{
	json_decref(v->fields);
	json_decref(v->sources);
	v->fields = v->sources = NULL;
}

typedef struct planner {
	ca_agent *a;
	ca_predict_input in;
	const ca_case_view *view;
	json_t *record;      /* the case as it would be after the plan */
	bool *requested;     /* per field */
	ca_plan *plan;
	ca_err *err;
} planner;

/* Predict one field and let the policy decide. Returns whether the field now
 * has a value (kept, or written). */
static int consider(planner *p, size_t fi, bool is_default)
{
	const ca_settings *s = p->a->settings;
	const ca_field_def *f = &s->fields[fi];
	const char *cur = p->view ? ca_json_str(p->view->fields, f->name) : NULL;
	const char *src = p->view ? ca_json_str(p->view->sources, f->name) : NULL;
	ca_prediction pred = { 0 };
	int r = ca_predict(p->a->predictor, &p->in, f, &pred, p->err);
	if (r == CA_ENOTFOUND) {
		if (is_default && ca_str_empty(cur))
			json_array_append_new(p->plan->missing,
					      json_pack("{s:s, s:s}", "field", f->name, "reason",
							"no value found in the conversation"));
		return 0;
	}
	if (r)
		return r;
	const char *why = NULL;
	if (ca_policy_allows("agent", f, cur, src, pred.value, pred.confidence, &why)) {
		ca_planned_write *w = realloc(p->plan->writes, (p->plan->n_writes + 1) * sizeof(*w));
		if (!w) {
			ca_prediction_done(&pred);
			return CA_ENOMEM;
		}
		p->plan->writes = w;
		w[p->plan->n_writes].field = fi;
		w[p->plan->n_writes].pred = pred;
		w[p->plan->n_writes].old_value = cur;
		p->plan->n_writes++;
		json_object_set_new(p->record, f->name, json_string(pred.value));
		return 0;
	}
	if (strcmp(why, "below threshold") == 0 && !ca_streq(cur, pred.value) && pred.confidence >= SUGGESTION_FLOOR) {
		/* Not written, but said: the value, how sure, and why. */
		json_t *sg = ca_prediction_to_json(&pred);
		if (!sg || json_object_set_new(sg, "threshold", json_real(f->threshold)) < 0 ||
		    json_array_append_new(p->plan->suggestions, sg) < 0) {
			ca_prediction_done(&pred);
			return CA_ENOMEM;
		}
	}
	if (is_default && ca_str_empty(cur) && strcmp(why, "below threshold") == 0) {
		char reason[128];
		snprintf(reason, sizeof(reason), "confidence %.2f below threshold %.2f", pred.confidence, f->threshold);
		json_array_append_new(p->plan->missing, json_pack("{s:s, s:s, s:s}", "field", f->name, "reason", reason,
								  "candidate", pred.value));
	}
	ca_prediction_done(&pred);
	return 0;
}

int ca_plan_update(ca_agent *a, const ca_msg *msgs, size_t n, ca_analysis *an, const char *identity,
		   const ca_case_view *view, ca_plan *ret, ca_err *err)
{
	const ca_settings *s = a->settings;
	memset(ret, 0, sizeof(*ret));
	ret->missing = json_array();
	ret->suggestions = json_array();
	planner p = {
		.a = a,
		.in = { .msgs = msgs, .n_msgs = n, .analysis = an, .identity_contact = identity,
			.directory = ca_agent_directory(a) },
		.view = view,
		.record = view ? json_deep_copy(view->fields) : json_object(),
		.requested = calloc(s->n_fields, sizeof(bool)),
		.plan = ret,
		.err = err,
	};
	p.in.case_fields = p.record;
	bool *matched = calloc(s->n_rules + 1, sizeof(bool));
	int r = ret->missing && ret->suggestions && p.record && p.requested && matched ? 0 : CA_ENOMEM;
	for (size_t i = 0; !r && i < s->n_defaults; i++) {
		p.requested[s->defaults[i]] = true;
		r = consider(&p, s->defaults[i], true);
	}
	ret->complete = !r && json_array_size(ret->missing) == 0;
	/* Update rules to a fixpoint: a rule's fields may make another rule hold. */
	bool again = true;
	while (!r && again) {
		again = false;
		for (size_t k = 0; !r && k < s->n_rules; k++) {
			if (matched[k] || !ca_rule_eval(s->rules[k].condition, p.record))
				continue;
			matched[k] = true;
			again = true;
			ret->rules_matched++;
			for (size_t q = 0; !r && q < s->rules[k].n_predict; q++) {
				size_t fi = s->rules[k].predict[q];
				if (p.requested[fi])
					continue;
				p.requested[fi] = true;
				r = consider(&p, fi, false);
			}
		}
	}
	free(matched);
	free(p.requested);
	json_decref(p.record);
	if (r)
		ca_plan_done(ret);
	return r;
}

int ca_plan_apply(ca_agent *a, int64_t case_id, int64_t expected_version, const ca_plan *plan,
		  json_t *changed, ca_err *err)
{
	if (plan->n_writes == 0)
		return 0;
	int64_t v;
	int r = ca_store_case_bump_version(a->store, case_id, expected_version, &v, err);
	for (size_t i = 0; !r && i < plan->n_writes; i++) {
		const ca_planned_write *w = &plan->writes[i];
		json_t *prov = ca_prediction_to_json(&w->pred);
		if (!prov)
			return CA_ENOMEM;
		json_t *ev = json_object_get(prov, "evidence");
		json_t *pv = json_pack("{s:s, s:s, s:f, s:s, s:O}", "source", "agent", "actor", "caseagent",
				       "confidence", w->pred.confidence, "method", w->pred.method, "evidence", ev);
		if (!pv) {
			json_decref(prov);
			return CA_ENOMEM;
		}
		r = ca_store_case_write(a->store, case_id, w->pred.field, w->pred.value, pv, err);
		json_decref(pv);
		if (!r && changed) {
			json_object_set_new(prov, "old", w->old_value ? json_string(w->old_value) : json_null());
			json_object_set(prov, "new", json_object_get(prov, "value"));
			json_array_append(changed, prov);
		}
		json_decref(prov);
	}
	return r;
}

int ca_case_write_as(ca_agent *a, int64_t case_id, const char *field, const char *value, const char *source,
		     const char *actor, ca_err *err)
{
	json_t *prov = json_pack("{s:s, s:s}", "source", source, "actor", actor);
	if (!prov)
		return CA_ENOMEM;
	int r = ca_store_case_write(a->store, case_id, field, value, prov, err);
	json_decref(prov);
	return r;
}

int ca_case_view_of(ca_agent *a, const json_t *c, ca_case_view *view, int64_t *ret_version, ca_err *err)
{
	json_t *sources = NULL;
	int r = ca_store_case_sources(a->store, json_integer_value(json_object_get(c, "id")), &sources, err);
	if (r)
		return r;
	json_t *fields = json_object_get(c, "fields");
	view->fields = fields ? json_incref(fields) : json_object();
	if (!view->fields) {
		json_decref(sources);
		return CA_ENOMEM;
	}
	view->sources = sources;
	if (ret_version)
		*ret_version = json_integer_value(json_object_get(c, "version"));
	return 0;
}

int ca_case_view_load(ca_agent *a, int64_t case_id, ca_case_view *view, int64_t *ret_version, ca_err *err)
{
	json_t *c = NULL;
	int r = ca_store_case_get_id(a->store, case_id, &c, err);
	if (!r)
		r = ca_case_view_of(a, c, view, ret_version, err);
	json_decref(c);
	return r;
}

int ca_msgs_from_json(const json_t *arr, ca_msg **ret, size_t *ret_n)
{
	size_t n = json_array_size(arr);
	ca_msg *m = calloc(n ? n : 1, sizeof(*m));
	if (!m)
		return CA_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *j = json_array_get(arr, i);
		m[i].id = ca_json_str(j, "id");
		m[i].role = ca_role_parse(ca_json_str(j, "role"));
		m[i].text = ca_json_str(j, "text");
		if (!m[i].text)
			m[i].text = "";
		m[i].len = strlen(m[i].text);
	}
	*ret = m;
	*ret_n = n;
	return 0;
}

int ca_result(json_t *j, char **ret_json)
{
	if (!j)
		return CA_ENOMEM;
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(j);
	if (!s)
		return CA_ENOMEM;
	*ret_json = s;
	return 0;
}
