/* SPDX-License-Identifier: MIT */
/*
 * Field metadata: parsing and validating the field definitions an
 * administrator writes in settings JSON, the standard case columns, roles of
 * message authors, and predicted values with their evidence.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

const char *const ca_case_standard_fields[] = {
	"ticket_number", "title", "description", "customer", "account", "product",
	"subject", "priority", "case_type", "category", "origin", "status",
	"status_reason", "serial_number", "order_number", "owner",
};
const size_t ca_case_standard_field_count = CA_ARRAY_SIZE(ca_case_standard_fields);

bool ca_case_is_standard_field(const char *name)
{
	for (size_t i = 0; i < ca_case_standard_field_count; i++)
		if (strcmp(ca_case_standard_fields[i], name) == 0)
			return true;
	return false;
}

static const char *const role_names[] = { NULL, "customer", "agent", "system", "bot" };

ca_role ca_role_parse(const char *s)
{
	for (size_t i = 1; s && i < CA_ARRAY_SIZE(role_names); i++)
		if (strcmp(s, role_names[i]) == 0)
			return (ca_role)i;
	return 0;
}

const char *ca_role_name(ca_role r)
{
	return (size_t)r < CA_ARRAY_SIZE(role_names) && r ? role_names[r] : "unknown";
}

static const char *const type_names[] = { NULL, "text", "lookup", "option", "pattern", "number", "date", "boolean" };
static const char *const entity_names[] = { "none", "contact", "account", "product", "subject" };

const char *ca_field_type_name(ca_field_type t)
{
	return (size_t)t < CA_ARRAY_SIZE(type_names) && t ? type_names[t] : "unknown";
}

const char *ca_entity_name(ca_entity e)
{
	return (size_t)e < CA_ARRAY_SIZE(entity_names) ? entity_names[e] : "unknown";
}

static int parse_strv(const json_t *arr, const char *path, ca_strv *out, ca_err *err)
{
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return ca_err_set(err, CA_EINVAL, path, "%s must be an array of strings", path);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || ca_str_empty(json_string_value(v)))
			return ca_err_set(err, CA_EINVAL, path, "%s[%zu] must be a non-empty string", path, i);
		if (ca_strv_push(out, json_string_value(v)) < 0)
			return CA_ENOMEM;
	}
	return 0;
}

/* Every key a definition may have; anything else is a typo worth reporting. */
static const char *const field_keys[] = {
	"name", "label", "type", "lookup", "options", "pattern", "cues", "threshold", "description",
};
static const char *const option_keys[] = { "value", "label", "description", "cues", "subcategories" };

static int check_keys(const json_t *j, const char *const *keys, size_t n, const char *path, ca_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v) {
		bool ok = false;
		for (size_t i = 0; i < n && !ok; i++)
			ok = strcmp(keys[i], k) == 0;
		if (!ok)
			return ca_err_set(err, CA_EINVAL, path, "%s: unknown key '%s'", path, k);
	}
	return 0;
}

static int parse_options(const json_t *arr, const char *path, ca_field_def *def, ca_err *err)
{
	char where[192];
	snprintf(where, sizeof(where), "%s.options", path);
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return ca_err_set(err, CA_EINVAL, where, "%s: an option set needs a non-empty \"options\" array", where);
	def->options = calloc(json_array_size(arr), sizeof(*def->options));
	if (!def->options)
		return CA_ENOMEM;
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		snprintf(where, sizeof(where), "%s.options[%zu]", path, i);
		ca_option *opt = &def->options[i];
		def->n_options = i + 1;
		if (!json_is_object(o))
			return ca_err_set(err, CA_EINVAL, where, "%s must be an object", where);
		int r = check_keys(o, option_keys, CA_ARRAY_SIZE(option_keys), where, err);
		if (r)
			return r;
		const char *value = ca_json_str(o, "value");
		if (ca_str_empty(value))
			return ca_err_set(err, CA_EINVAL, where, "%s.value is required", where);
		for (size_t k = 0; k < i; k++)
			if (strcmp(def->options[k].value, value) == 0)
				return ca_err_set(err, CA_EINVAL, where, "%s: duplicate option value '%s'", where, value);
		const char *label = ca_json_str(o, "label");
		const char *desc = ca_json_str(o, "description");
		opt->value = strdup(value);
		opt->label = strdup(label ? label : value);
		opt->description = strdup(desc ? desc : "");
		if (!opt->value || !opt->label || !opt->description)
			return CA_ENOMEM;
		char cw[224];
		snprintf(cw, sizeof(cw), "%s.cues", where);
		r = parse_strv(json_object_get(o, "cues"), cw, &opt->cues, err);
		if (r)
			return r;
		json_t *subs = json_object_get(o, "subcategories");
		snprintf(cw, sizeof(cw), "%s.subcategories", where);
		if (subs && !json_is_array(subs))
			return ca_err_set(err, CA_EINVAL, cw, "%s must be an array of {\"label\", \"description\"}", cw);
		size_t k;
		json_t *sc;
		json_array_foreach(subs, k, sc) {
			const char *sl = ca_json_str(sc, "label"), *sd = ca_json_str(sc, "description");
			const char *key;
			json_t *kv;
			json_object_foreach(sc, key, kv) if (strcmp(key, "label") && strcmp(key, "description"))
				return ca_err_set(err, CA_EINVAL, cw, "%s[%zu]: unknown key '%s'", cw, k, key);
			if (ca_str_empty(sl))
				return ca_err_set(err, CA_EINVAL, cw, "%s[%zu].label is required", cw, k);
			ca_buf t = { 0 };
			if (ca_buf_printf(&t, "%s. %s", sl, sd ? sd : "") < 0 || ca_strv_push(&opt->subcategories, t.data) < 0) {
				ca_buf_done(&t);
				return CA_ENOMEM;
			}
			ca_buf_done(&t);
		}
	}
	return 0;
}

static int compile_pattern(ca_field_def *def, const char *path, ca_err *err)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)def->pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_CASELESS | PCRE2_UCP, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return ca_err_set(err, CA_EINVAL, path, "%s.pattern: %s at offset %zu", path, (char *)msg, (size_t)off);
	}
	/* JIT makes the per-message scan cheap; failure only costs speed. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	def->re = re;
	return 0;
}

int ca_field_def_parse(const json_t *j, const char *path, ca_field_def *def, ca_err *err)
{
	memset(def, 0, sizeof(*def));
	def->threshold = 0.5;
	char where[192];
	if (!json_is_object(j))
		return ca_err_set(err, CA_EINVAL, path, "%s must be an object", path);
	int r = check_keys(j, field_keys, CA_ARRAY_SIZE(field_keys), path, err);
	if (r)
		goto fail;
	const char *name = ca_json_str(j, "name");
	snprintf(where, sizeof(where), "%s.name", path);
	if (ca_str_empty(name)) {
		r = ca_err_set(err, CA_EINVAL, where, "%s is required", where);
		goto fail;
	}
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			r = ca_err_set(err, CA_EINVAL, where, "%s '%s': use lower-case letters, digits and _", where, name);
			goto fail;
		}
	def->name = strdup(name);
	const char *label = ca_json_str(j, "label");
	def->label = strdup(label ? label : name);
	if (!def->name || !def->label) {
		r = CA_ENOMEM;
		goto fail;
	}
	def->standard = ca_case_is_standard_field(name);
	const char *type = ca_json_str(j, "type");
	snprintf(where, sizeof(where), "%s.type", path);
	for (size_t i = 1; type && i < CA_ARRAY_SIZE(type_names); i++)
		if (strcmp(type, type_names[i]) == 0)
			def->type = (ca_field_type)i;
	if (!def->type) {
		r = ca_err_set(err, CA_EINVAL, where,
			       "%s '%s' is not a field type (text, lookup, option, pattern, number, date, boolean)",
			       where, type ? type : "(missing)");
		goto fail;
	}
	json_t *th = json_object_get(j, "threshold");
	if (th) {
		snprintf(where, sizeof(where), "%s.threshold", path);
		if (!json_is_number(th) || json_number_value(th) < 0 || json_number_value(th) > 1) {
			r = ca_err_set(err, CA_EINVAL, where, "%s must be a number from 0 to 1", where);
			goto fail;
		}
		def->threshold = json_number_value(th);
	}
	snprintf(where, sizeof(where), "%s.cues", path);
	if ((r = parse_strv(json_object_get(j, "cues"), where, &def->cues, err)))
		goto fail;
	switch (def->type) {
	case CA_FT_LOOKUP: {
		const char *ent = ca_json_str(j, "lookup");
		snprintf(where, sizeof(where), "%s.lookup", path);
		for (size_t i = 1; ent && i < CA_ARRAY_SIZE(entity_names); i++)
			if (strcmp(ent, entity_names[i]) == 0)
				def->lookup = (ca_entity)i;
		if (!def->lookup) {
			r = ca_err_set(err, CA_EINVAL, where, "%s '%s' must be contact, account, product or subject",
				       where, ent ? ent : "(missing)");
			goto fail;
		}
		break;
	}
	case CA_FT_OPTION:
		if ((r = parse_options(json_object_get(j, "options"), path, def, err)))
			goto fail;
		break;
	case CA_FT_PATTERN: {
		const char *pat = ca_json_str(j, "pattern");
		snprintf(where, sizeof(where), "%s.pattern", path);
		if (ca_str_empty(pat)) {
			r = ca_err_set(err, CA_EINVAL, where, "%s is required for a pattern field", where);
			goto fail;
		}
		if (!(def->pattern = strdup(pat))) {
			r = CA_ENOMEM;
			goto fail;
		}
		if ((r = compile_pattern(def, path, err)))
			goto fail;
		break;
	}
	default:
		break;
	}
	if (def->type != CA_FT_LOOKUP && json_object_get(j, "lookup")) {
		r = ca_err_set(err, CA_EINVAL, path, "%s: \"lookup\" only applies to lookup fields", path);
		goto fail;
	}
	if (def->type != CA_FT_OPTION && json_object_get(j, "options")) {
		r = ca_err_set(err, CA_EINVAL, path, "%s: \"options\" only applies to option fields", path);
		goto fail;
	}
	return 0;
fail:
	ca_field_def_done(def);
	return r;
}

void ca_field_def_done(ca_field_def *def)
{
	if (!def)
		return;
	free(def->name);
	free(def->label);
	for (size_t i = 0; i < def->n_options; i++) {
		free(def->options[i].value);
		free(def->options[i].label);
		free(def->options[i].description);
		ca_strv_done(&def->options[i].cues);
		ca_strv_done(&def->options[i].subcategories);
	}
	free(def->options);
	free(def->pattern);
	pcre2_code_free(def->re);
	ca_strv_done(&def->cues);
	memset(def, 0, sizeof(*def));
}

static json_t *strv_json(const ca_strv *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

json_t *ca_field_def_to_json(const ca_field_def *def)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:f}", "name", def->name, "label", def->label,
			      "type", ca_field_type_name(def->type), "threshold", def->threshold);
	if (!j)
		return NULL;
	if (def->type == CA_FT_LOOKUP)
		json_object_set_new(j, "lookup", json_string(ca_entity_name(def->lookup)));
	if (def->type == CA_FT_PATTERN)
		json_object_set_new(j, "pattern", json_string(def->pattern));
	if (def->cues.n)
		json_object_set_new(j, "cues", strv_json(&def->cues));
	if (def->type == CA_FT_OPTION) {
		json_t *opts = json_array();
		for (size_t i = 0; i < def->n_options; i++) {
			const ca_option *o = &def->options[i];
			json_t *oj = json_pack("{s:s, s:s, s:s}", "value", o->value, "label", o->label,
					       "description", o->description);
			if (oj && o->cues.n)
				json_object_set_new(oj, "cues", strv_json(&o->cues));
			if (oj && o->subcategories.n) {
				json_t *subs = json_array();
				for (size_t k = 0; subs && k < o->subcategories.n; k++) {
					const char *t = o->subcategories.v[k], *dot = strstr(t, ". ");
					json_array_append_new(subs, json_pack("{s:s%, s:s}", "label", t, dot ? (size_t)(dot - t) : strlen(t),
									      "description", dot ? dot + 2 : ""));
				}
				json_object_set_new(oj, "subcategories", subs);
			}
			json_array_append_new(opts, oj);
		}
		json_object_set_new(j, "options", opts);
	}
	return j;
}

int ca_field_option_index(const ca_field_def *def, const char *value)
{
	if (!value)
		return -1;
	for (size_t i = 0; i < def->n_options; i++)
		if (strcmp(def->options[i].value, value) == 0)
			return (int)i;
	for (size_t i = 0; i < def->n_options; i++)
		if (ca_streq_ci(def->options[i].label, value))
			return (int)i;
	return -1;
}

void ca_prediction_done(ca_prediction *p)
{
	if (!p)
		return;
	free(p->field);
	free(p->value);
	free(p->display);
	free(p->method);
	for (size_t i = 0; i < p->n_evidence; i++)
		free(p->evidence[i].msg_id);
	free(p->evidence);
	memset(p, 0, sizeof(*p));
}

int ca_prediction_add_evidence(ca_prediction *p, const char *msg_id, uint32_t begin, uint32_t end)
{
	ca_evidence *e = realloc(p->evidence, (p->n_evidence + 1) * sizeof(*e));
	if (!e)
		return CA_ENOMEM;
	p->evidence = e;
	e[p->n_evidence].msg_id = ca_strdup(msg_id);
	if (msg_id && !e[p->n_evidence].msg_id)
		return CA_ENOMEM;
	e[p->n_evidence].begin = begin;
	e[p->n_evidence].end = end;
	p->n_evidence++;
	return 0;
}

json_t *ca_prediction_to_json(const ca_prediction *p)
{
	json_t *ev = json_array();
	for (size_t i = 0; ev && i < p->n_evidence; i++)
		json_array_append_new(ev, json_pack("{s:s?, s:i, s:i}", "message", p->evidence[i].msg_id,
						    "begin", (json_int_t)p->evidence[i].begin,
						    "end", (json_int_t)p->evidence[i].end));
	return json_pack("{s:s, s:s?, s:s?, s:f, s:s?, s:o}", "field", p->field, "value", p->value,
			 "display", p->display ? p->display : p->value, "confidence", p->confidence,
			 "method", p->method, "evidence", ev);
}
