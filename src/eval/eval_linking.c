/* SPDX-License-Identifier: MIT */
/*
 * Scoring product and subject linking on a labelled mention set: a folder
 * with products.jsonl and subjects.jsonl (the catalogue, as `import
 * products`/`import subjects` take it) and mentions.jsonl, one support-style
 * sentence a line, {"text", "field": "product"|"subject", "expect": id or
 * null, "kind"}. Each sentence is a one-message conversation the embedded
 * predictor reads as the customer's; a value counts as linked when its
 * confidence reaches the threshold (the value the agent would write).
 * Precision = correct links / links made; recall = correct links /
 * mentions that name a record; decoys (expect null) may only cost precision.
 * Writes nothing; needs no database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"
#include "predictor.h"

#define DEFAULT_THRESHOLD 0.5

/* Every line of a JSONL file as an array of objects. */
static int load_jsonl(const char *path, bool optional, json_t **ret, ca_err *err)
{
	char *data = NULL;
	size_t len = 0;
	json_t *out = json_array();
	if (!out)
		return CA_ENOMEM;
	ca_err ferr = { 0 };
	int r = ca_file_read(path, (size_t)64 << 20, &data, &len, &ferr);
	if (r && optional) {
		*ret = out;
		return 0;
	}
	if (r) {
		json_decref(out);
		if (err)
			*err = ferr;
		return r;
	}
	size_t line = 0;
	for (size_t i = 0; i < len && !r;) {
		size_t e = i;
		while (e < len && data[e] != '\n')
			e++;
		line++;
		size_t b = i;
		i = e + 1;
		while (b < e && (data[b] == ' ' || data[b] == '\t' || data[b] == '\r'))
			b++;
		if (b == e)
			continue;
		json_error_t je;
		json_t *o = json_loadb(data + b, e - b, 0, &je);
		if (!json_is_object(o)) {
			json_decref(o);
			r = ca_err_set(err, CA_EPARSE, path, "%s:%zu: not a JSON object (%s)", path, line, je.text);
			break;
		}
		json_object_set_new(o, "_line", json_integer((json_int_t)line));
		if (json_array_append_new(out, o) < 0)
			r = CA_ENOMEM;
	}
	free(data);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

typedef struct tally {
	size_t mentions, named, linked, correct;
} tally;

static json_t *tally_json(const tally *t)
{
	double p = t->linked ? (double)t->correct / (double)t->linked : 1.0;
	double rc = t->named ? (double)t->correct / (double)t->named : 1.0;
	return json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f}", "mentions", (json_int_t)t->mentions, "naming_a_record",
			 (json_int_t)t->named, "linked", (json_int_t)t->linked, "correct", (json_int_t)t->correct, "precision",
			 p, "recall", rc, "f1", p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0);
}

static void count(tally *t, const char *expect, const char *got)
{
	t->mentions++;
	t->named += expect != NULL;
	t->linked += got != NULL;
	t->correct += expect && got && strcmp(expect, got) == 0;
}

int ca_eval_linking(ca_agent *a, const char *path, char **ret_json, ca_err *err)
{
	(void)a; /* the catalogue comes with the set: no database */
	if (!path || !ret_json)
		return ca_err_set(err, CA_EINVAL, "eval", "no mention set or no output given");
	ca_buf p = { 0 };
	json_t *products = NULL, *subjects = NULL, *mentions = NULL;
	int r = ca_buf_printf(&p, "%s/products.jsonl", path);
	if (!r)
		r = load_jsonl(p.data, true, &products, err);
	ca_buf_reset(&p);
	if (!r)
		r = ca_buf_printf(&p, "%s/subjects.jsonl", path);
	if (!r)
		r = load_jsonl(p.data, true, &subjects, err);
	ca_buf_reset(&p);
	if (!r)
		r = ca_buf_printf(&p, "%s/mentions.jsonl", path);
	if (!r)
		r = load_jsonl(p.data, false, &mentions, err);
	json_t *fj = json_pack("[{s:s, s:s, s:s, s:f}, {s:s, s:s, s:s, s:f}]", "name", "product", "type", "lookup", "lookup",
			       "product", "threshold", DEFAULT_THRESHOLD, "name", "subject", "type", "lookup", "lookup",
			       "subject", "threshold", DEFAULT_THRESHOLD);
	ca_field_def fields[2];
	size_t nf = 0;
	ca_predictor *pred = NULL;
	for (size_t i = 0; !r && i < 2; i++) {
		if ((r = ca_field_def_parse(json_array_get(fj, i), "eval", &fields[i], err)))
			break;
		nf++;
	}
	json_t *dir = r ? NULL : json_pack("{s:O, s:O, s:[], s:[]}", "product", products, "subject", subjects, "contact", "account");
	if (!r && !dir)
		r = CA_ENOMEM;
	if (!r)
		r = ca_embedded_new(dir, fields, nf, NULL, &pred, err);
	tally all = { 0 }, by_field[2] = { { 0 } };
	json_t *kinds = json_object(), *errors = json_array();
	tally *kt = NULL;
	size_t n_kinds = 0;
	char **kind_names = NULL;
	size_t i;
	json_t *m;
	json_array_foreach(mentions, i, m) {
		if (r)
			break;
		const char *text = ca_json_str(m, "text");
		const char *field = ca_json_str(m, "field");
		const json_t *ex = json_object_get(m, "expect");
		const char *kind = ca_json_str(m, "kind");
		long long line = (long long)json_integer_value(json_object_get(m, "_line"));
		size_t fi = field && !strcmp(field, "product") ? 0 : field && !strcmp(field, "subject") ? 1 : 2;
		if (!text || fi == 2 || !(json_is_string(ex) || json_is_null(ex) || !ex) ||
		    !ca_utf8_valid(text, strlen(text), NULL)) {
			r = ca_err_set(err, CA_EPARSE, path,
				       "%s/mentions.jsonl:%lld: needs \"text\" (UTF-8), \"field\" (product or subject) and "
				       "\"expect\" (an id or null)",
				       path, line);
			break;
		}
		const char *expect = json_string_value(ex);
		ca_msg msg = { "m1", CA_ROLE_CUSTOMER, text, strlen(text) };
		ca_analysis an;
		ca_analysis_init(&an);
		ca_predict_input in = { .msgs = &msg, .n_msgs = 1, .analysis = &an };
		ca_prediction pr = { 0 };
		int pr_r = ca_predict(pred, &in, &fields[fi], &pr, err);
		ca_analysis_done(&an);
		if (pr_r && pr_r != CA_ENOTFOUND) {
			r = pr_r;
			break;
		}
		const char *got = !pr_r && pr.confidence >= fields[fi].threshold ? pr.value : NULL;
		count(&all, expect, got);
		count(&by_field[fi], expect, got);
		size_t k = 0;
		const char *kn = kind ? kind : "unlabelled";
		while (k < n_kinds && strcmp(kind_names[k], kn) != 0)
			k++;
		if (k == n_kinds) {
			tally *nt = realloc(kt, (n_kinds + 1) * sizeof(*nt));
			char **nn = nt ? realloc(kind_names, (n_kinds + 1) * sizeof(*nn)) : NULL;
			if (nt)
				kt = nt;
			if (nn)
				kind_names = nn;
			if (!nt || !nn || !(kind_names[n_kinds] = strdup(kn))) {
				ca_prediction_done(&pr);
				r = CA_ENOMEM;
				break;
			}
			memset(&kt[n_kinds], 0, sizeof(*kt));
			n_kinds++;
		}
		count(&kt[k], expect, got);
		bool ok = expect ? got && !strcmp(expect, got) : !got;
		if (!ok)
			json_array_append_new(errors, json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:f, s:s?}", "line",
								(json_int_t)line, "text", text, "field", field, "expect",
								expect, "got", got, "best", pr_r ? NULL : pr.value,
								"confidence", pr_r ? 0.0 : pr.confidence, "method",
								pr_r ? NULL : pr.method));
		ca_prediction_done(&pr);
	}
	for (size_t k = 0; k < n_kinds; k++) {
		if (!r)
			json_object_set_new(kinds, kind_names[k], tally_json(&kt[k]));
		free(kind_names[k]);
	}
	free(kind_names);
	free(kt);
	ca_predictor_free(pred);
	for (size_t k = 0; k < nf; k++)
		ca_field_def_done(&fields[k]);
	json_decref(fj);
	json_decref(dir);
	ca_buf_done(&p);
	size_t np = json_array_size(products), ns = json_array_size(subjects);
	json_decref(products);
	json_decref(subjects);
	json_decref(mentions);
	if (!r && all.mentions == 0)
		r = ca_err_set(err, CA_EINVAL, path, "%s/mentions.jsonl holds no mention", path);
	if (r) {
		json_decref(kinds);
		json_decref(errors);
		return r;
	}
	json_t *o = tally_json(&all);
	json_object_set_new(o, "dataset", json_string(path));
	json_object_set_new(o, "products", json_integer((json_int_t)np));
	json_object_set_new(o, "subjects", json_integer((json_int_t)ns));
	json_object_set_new(o, "threshold", json_real(DEFAULT_THRESHOLD));
	json_object_set_new(o, "fields", json_pack("{s:o, s:o}", "product", tally_json(&by_field[0]), "subject",
						   tally_json(&by_field[1])));
	json_object_set_new(o, "kinds", kinds);
	json_object_set_new(o, "errors", errors);
	return ca_result(o, ret_json);
}
