/* SPDX-License-Identifier: MIT */
/*
 * Simulation: runs the case agent over labelled transcripts exactly as live
 * chats would run it (same schedule of events, same decision core and update
 * policy) against an in-memory case, writes nothing, and scores the result:
 * per field precision, recall, F1 and support against the labels, the
 * calibration of each option field's confidence (expected calibration
 * error of the top prediction at close, 10 equal-width bins), and the
 * creation decision (created at which event, or withheld and why).
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"
#include "email.h"


typedef struct counts {
	size_t tp, predicted, support;
} counts;

typedef struct field_score {
	counts all, in_text;
	size_t raw_correct, raw_support; /* ungated top prediction at close */
	double *conf;                    /* its confidence, per prediction (option fields) */
	bool *ok;                        /* and whether it was right */
	size_t n_conf, cap_conf;
} field_score;

#define ECE_BINS 10

/* Calibration of one option field's top predictions at close: expected
 * calibration error over ECE_BINS equal-width bins (Naeini et al. 2015,
 * Guo et al. 2017) and the reliability of each bin. */
/*
 * What a perfectly calibrated field would measure on this few samples: the
 * ECE of outcomes drawn as Bernoulli(confidence) for the same confidences,
 * over NOISE_DRAWS draws (a fixed xorshift64 seed, so the figure repeats):
 * its mean and its 90th percentile. An ECE below the percentile is what
 * sampling noise alone gives, so the sample cannot tell it from calibrated;
 * with 20 predictions the floor is near 0.1 by itself.
 */
#define NOISE_DRAWS 2000
static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static void ece_noise_floor(const field_score *fs, double *ret_mean, double *ret_p90)
{
	*ret_mean = *ret_p90 = 0;
	bool *ok = fs->n_conf ? malloc(fs->n_conf * sizeof(*ok)) : NULL;
	double *e = ok ? malloc(NOISE_DRAWS * sizeof(*e)) : NULL;
	if (!e) {
		free(ok);
		return;
	}
	uint64_t x = 0x9e3779b97f4a7c15u;
	double sum = 0;
	for (unsigned d = 0; d < NOISE_DRAWS; d++) {
		for (size_t i = 0; i < fs->n_conf; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ok[i] = (double)(x >> 11) / 9007199254740992.0 < fs->conf[i];
		}
		e[d] = ca_ece(fs->conf, ok, fs->n_conf, ECE_BINS);
		sum += e[d];
	}
	qsort(e, NOISE_DRAWS, sizeof(*e), cmp_double);
	*ret_mean = sum / NOISE_DRAWS;
	*ret_p90 = e[NOISE_DRAWS * 9 / 10];
	free(e);
	free(ok);
}

static json_t *calibration_json(const field_score *fs)
{
	json_t *bins = json_array();
	double sc = 0, so = 0;
	for (unsigned b = 0; b < ECE_BINS; b++) {
		double c = 0, o = 0;
		size_t k = 0;
		for (size_t i = 0; i < fs->n_conf; i++) {
			unsigned bi = (unsigned)(fs->conf[i] * ECE_BINS);
			if ((bi < ECE_BINS ? bi : ECE_BINS - 1) != b)
				continue;
			c += fs->conf[i];
			o += fs->ok[i];
			k++;
		}
		sc += c;
		so += o;
		if (k)
			json_array_append_new(bins, json_pack("{s:f, s:f, s:I, s:f, s:f}", "from", (double)b / ECE_BINS, "to",
							      (double)(b + 1) / ECE_BINS, "n", (json_int_t)k, "confidence",
							      c / (double)k, "accuracy", o / (double)k));
	}
	double n = fs->n_conf ? (double)fs->n_conf : 1, floor_mean, floor_p90;
	ece_noise_floor(fs, &floor_mean, &floor_p90);
	return json_pack("{s:f, s:i, s:I, s:f, s:f, s:o, s:{s:f, s:f}}", "ece",
			 ca_ece(fs->conf, fs->ok, fs->n_conf, ECE_BINS), "bins", ECE_BINS, "n", (json_int_t)fs->n_conf,
			 "mean_confidence", sc / n, "accuracy", so / n, "reliability", bins, "ece_if_calibrated", "mean",
			 floor_mean, "p90", floor_p90);
}

static json_t *prf(const counts *c)
{
	double p = c->predicted ? (double)c->tp / (double)c->predicted : 0;
	double r = c->support ? (double)c->tp / (double)c->support : 0;
	double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
	return json_pack("{s:f, s:f, s:f, s:I, s:I, s:I}", "precision", p, "recall", r, "f1", f, "support",
			 (json_int_t)c->support, "predicted", (json_int_t)c->predicted, "correct", (json_int_t)c->tp);
}

/* Does the field apply to this conversation, judged on the labels: a default
 * field always; a rule field when its rule holds on the labelled case. */
/*
 * A labelled e-mail thread becomes the messages the predictor reads (the new
 * part of each e-mail; ours as the agent's) plus "_arc", the decision the
 * first e-mail gets on ingest: {"create": bool, "reason", "rule", "fields",
 * "identity"}. Read-only: nothing is stored.
 */
static int email_transcript(ca_agent *a, json_t *t, const char *dir, ca_err *err)
{
	const ca_settings *s = a->settings;
	json_t *msgs = json_array(), *arc = json_object();
	int r = msgs && arc ? 0 : CA_ENOMEM;
	size_t i;
	json_t *m;
	ca_email_global_init();
	json_array_foreach(json_object_get(t, "emails"), i, m) {
		if (r)
			break;
		char *raw = NULL;
		size_t len = 0;
		const char *path = ca_json_str(m, "path");
		if (path) {
			ca_buf p = { 0 };
			r = path[0] == '/' ? ca_buf_puts(&p, path) : ca_buf_printf(&p, "%s/%s", dir, path);
			if (!r)
				r = ca_file_read(p.data, (size_t)50 << 20, &raw, &len, err);
			ca_buf_done(&p);
			if (r)
				break;
		}
		const char *bytes = raw ? raw : ca_json_str(m, "raw");
		if (!raw)
			len = strlen(bytes);
		ca_email e;
		ca_err perr = { 0 };
		if (ca_email_parse(bytes, len, 0, &e, &perr) != 0) {
			if (i == 0)
				json_object_set_new(arc, "reason", json_sprintf("parse error: %s", perr.message));
			free(raw);
			continue;
		}
		char id[32];
		snprintf(id, sizeof(id), "e%zu", i + 1);
		bool ours = ca_email_is_ours(s, e.from.email);
		json_array_append_new(msgs, json_pack("{s:s, s:s, s:s}", "id", id, "role", ours ? "agent" : "customer", "text",
						      e.reply_text ? e.reply_text : ""));
		if (i == 0) {
			bool known = false;
			char *contact = NULL;
			if (e.from.email)
				r = ca_store_contact_by_email(a->store, e.from.email, &known, &contact, err);
			const char *mailbox = ca_json_str(t, "mailbox");
			const ca_arc_rule *rule = r ? NULL : ca_arc_match(s, &e, known, mailbox);
			const char *why = NULL;
			if (e.auto_kind != CA_AUTO_NONE)
				why = ca_auto_kind_name(e.auto_kind);
			else if (ours)
				why = "own address";
			else if (!e.from.email)
				why = "unknown sender";
			else if (!rule)
				why = "no rule matched";
			else if (!known && !rule->accept_unknown_senders)
				why = "unknown sender";
			if (!r && why) {
				json_object_set_new(arc, "create", json_false());
				json_object_set_new(arc, "reason", json_string(why));
			} else if (!r) {
				json_t *fields = json_object();
				r = fields ? ca_arc_fields(s, rule, &e, "CAS-SIM", mailbox, fields) : CA_ENOMEM;
				if (!r)
					r = json_object_set_new(arc, "fields", fields) ? CA_ENOMEM : 0;
				ca_buf cid = { 0 };
				if (!r && !known)
					r = ca_buf_printf(&cid, "C-%s", e.from.email);
				json_object_set_new(arc, "identity", json_string(known ? contact : cid.data));
				json_object_set_new(arc, "create", json_true());
				json_object_set_new(arc, "rule", json_string(rule->name));
				ca_buf_done(&cid);
			}
			free(contact);
		}
		ca_email_done(&e);
		free(raw);
	}
	if (!r) {
		if (!json_object_get(arc, "create"))
			json_object_set_new(arc, "create", json_false());
		json_object_set_new(t, "messages", msgs);
		json_object_set_new(t, "_arc", arc);
		return 0;
	}
	json_decref(msgs);
	json_decref(arc);
	return r;
}

/* An e-mail thread: the ARC decision, then the agent over the whole thread
 * with the rule's fields protected, as the ingest path does. */
static int run_email(ca_agent *a, const json_t *t, ca_analysis *an, json_t **ret_case, const char **ret_created_at,
		     size_t *ret_after, json_t **ret_missing, ca_err *err)
{
	const json_t *arc = json_object_get(t, "_arc");
	*ret_case = NULL;
	*ret_created_at = NULL;
	*ret_after = 0;
	*ret_missing = NULL;
	if (!json_is_true(json_object_get(arc, "create"))) {
		*ret_missing = json_pack("[{s:s%, s:s?}]", "field", "no case", (size_t)7, "reason", ca_json_str(arc, "reason"));
		json_t *m0 = json_array_get(*ret_missing, 0);
		/* Counted by reason: "no case: out-of-office" */
		char key[160];
		snprintf(key, sizeof(key), "no case: %s", ca_json_str(arc, "reason") ? ca_json_str(arc, "reason") : "?");
		json_object_set_new(m0, "field", json_string(key));
		return 0;
	}
	ca_msg *msgs = NULL;
	size_t n = 0;
	int r = ca_msgs_from_json(json_object_get(t, "messages"), &msgs, &n);
	if (r)
		return r;
	ca_case_view view = { .fields = json_deep_copy(json_object_get(arc, "fields")), .sources = json_object() };
	const char *k;
	json_t *v;
	json_object_foreach(view.fields, k, v) json_object_set_new(view.sources, k, json_string("arc"));
	ca_plan plan;
	r = ca_plan_update(a, msgs, n, an, ca_json_str(arc, "identity"), &view, &plan, err);
	if (!r) {
		for (size_t i = 0; i < plan.n_writes; i++)
			json_object_set_new(view.fields, plan.writes[i].pred.field, json_string(plan.writes[i].pred.value));
		ca_plan_done(&plan);
		*ret_case = json_incref(view.fields);
		*ret_created_at = "email";
		*ret_after = 1;
	}
	ca_case_view_done(&view);
	free(msgs);
	return r;
}

static bool applies(const ca_settings *s, size_t fi, const json_t *labels, bool all_fields)
{
	if (all_fields)
		return true;
	for (size_t i = 0; i < s->n_defaults; i++)
		if (s->defaults[i] == fi)
			return true;
	for (size_t k = 0; k < s->n_rules; k++)
		for (size_t q = 0; q < s->rules[k].n_predict; q++)
			if (s->rules[k].predict[q] == fi && ca_rule_eval(s->rules[k].condition, labels))
				return true;
	return false;
}

/* Run one transcript; *ret_case is the final in-memory case fields. */
static int run_one(ca_agent *a, const json_t *t, ca_analysis *an_out, unsigned accept_after, unsigned update_every, json_t **ret_case,
		   const char **ret_created_at, size_t *ret_after, json_t **ret_missing, bool *ret_bad_create,
		   ca_err *err)
{
	ca_step *steps = NULL;
	size_t n_steps = 0;
	int r = ca_transcript_schedule(t, accept_after, update_every, &steps, &n_steps);
	if (r)
		return r;
	const json_t *msgs_j = json_object_get(t, "messages");
	ca_msg *all = NULL;
	size_t n_all = 0;
	r = ca_msgs_from_json(msgs_j, &all, &n_all);
	ca_analysis an = *an_out;
	ca_case_view view = { .fields = NULL, .sources = json_object() };
	size_t seen = 0;
	const char *identity = ca_json_str(t, "identity");
	*ret_created_at = NULL;
	*ret_after = 0;
	*ret_missing = NULL;
	*ret_bad_create = false;
	for (size_t k = 0; !r && k < n_steps; k++) {
		const char *type = ca_step_name(steps[k].type);
		if (steps[k].type == CA_STEP_MESSAGE) {
			seen++;
			continue;
		}
		if (steps[k].type != CA_STEP_ACCEPT && steps[k].type != CA_STEP_UPDATE && steps[k].type != CA_STEP_WRAPUP &&
		    steps[k].type != CA_STEP_CLOSE)
			continue;
		if (view.fields && (!strcmp(type, "close") || !strcmp(type, "accept")))
			continue;
		ca_plan plan;
		r = ca_plan_update(a, all, seen, &an, identity, view.fields ? &view : NULL, &plan, err);
		if (r)
			break;
		if (!view.fields && !plan.complete) {
			json_decref(*ret_missing);
			*ret_missing = json_incref(plan.missing);
		} else {
			if (!view.fields) {
				view.fields = json_object();
				*ret_created_at = type;
				*ret_after = seen;
				json_decref(*ret_missing);
				*ret_missing = NULL;
			}
			for (size_t i = 0; i < plan.n_writes; i++) {
				json_object_set_new(view.fields, plan.writes[i].pred.field, json_string(plan.writes[i].pred.value));
				json_object_set_new(view.sources, plan.writes[i].pred.field, json_string("agent"));
			}
			/* The creation gate, checked independently of the plan. */
			if (*ret_after == seen && *ret_created_at == type)
				for (size_t i = 0; i < a->settings->n_defaults; i++)
					if (!json_object_get(view.fields, a->settings->fields[a->settings->defaults[i]].name))
						*ret_bad_create = true;
		}
		ca_plan_done(&plan);
	}
	*an_out = an;
	free(all);
	free(steps);
	json_decref(view.sources);
	if (r) {
		json_decref(view.fields);
		return r;
	}
	*ret_case = view.fields;
	return 0;
}

/* The predictor alone: its top value for each labelled, applicable field
 * with the whole conversation, whatever the threshold or the gate. */
static int score_raw(ca_agent *a, const json_t *t, ca_analysis *an, bool all_fields, field_score *fs, json_t **ret_row,
		     ca_err *err)
{
	const ca_settings *s = a->settings;
	const json_t *labels = json_object_get(t, "labels");
	ca_msg *msgs = NULL;
	size_t n = 0;
	int r = ca_msgs_from_json(json_object_get(t, "messages"), &msgs, &n);
	json_t *row = ret_row ? json_object() : NULL;
	const char *identity = ca_json_str(t, "identity");
	if (!identity) /* an e-mail thread: the sender, as ingest resolves it */
		identity = ca_json_str(json_object_get(t, "_arc"), "identity");
	ca_predict_input in = { .msgs = msgs, .n_msgs = n, .analysis = an, .identity_contact = identity,
				.directory = ca_agent_directory(a),
				.case_fields = labels };
	for (size_t fi = 0; !r && fi < s->n_fields; fi++) {
		const char *truth = ca_json_str(labels, s->fields[fi].name);
		if (!truth || !applies(s, fi, labels, all_fields))
			continue;
		ca_prediction p = { 0 };
		int pr = ca_predict(a->predictor, &in, &s->fields[fi], &p, err);
		if (pr && pr != CA_ENOTFOUND) {
			r = pr;
			break;
		}
		fs[fi].raw_support++;
		if (!pr && strcmp(p.value, truth) == 0)
			fs[fi].raw_correct++;
		if (!pr && s->fields[fi].type == CA_FT_OPTION && ret_row) {
			/* once per conversation (the first repeat) */
			field_score *x = &fs[fi];
			if (x->n_conf == x->cap_conf) {
				size_t cap = x->cap_conf ? x->cap_conf * 2 : 64;
				double *c = realloc(x->conf, cap * sizeof(*c));
				if (c)
					x->conf = c;
				bool *o = c ? realloc(x->ok, cap * sizeof(*o)) : NULL;
				if (o)
					x->ok = o;
				if (!c || !o) {
					ca_prediction_done(&p);
					r = CA_ENOMEM;
					break;
				}
				x->cap_conf = cap;
			}
			x->conf[x->n_conf] = p.confidence;
			x->ok[x->n_conf++] = strcmp(p.value, truth) == 0;
		}
		if (row && !pr)
			json_object_set_new(row, s->fields[fi].name,
					    json_pack("{s:s, s:f, s:s}", "value", p.value, "confidence", p.confidence, "method", p.method));
		ca_prediction_done(&p);
	}
	free(msgs);
	if (ret_row)
		*ret_row = row;
	return r;
}

int ca_simulate(ca_agent *a, const char *path, const ca_simulate_opts *opts, char **ret_json, ca_err *err)
{
	unsigned accept_after = opts && opts->accept_after ? opts->accept_after : CA_DEFAULT_ACCEPT_AFTER;
	unsigned update_every = opts && opts->update_every ? opts->update_every : CA_DEFAULT_UPDATE_EVERY;
	unsigned repeat = opts && opts->repeat ? opts->repeat : 1;
	int r = ca_agent_ready(a, err);
	json_t *ts = NULL;
	if (!r)
		r = ca_transcripts_load(path, &ts, err);
	if (r)
		return r;
	/* E-mail threads become messages once, before the clock starts. */
	char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash)
		*slash = '\0';
	for (size_t i = 0; !r && dir && i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		if (json_object_get(t, "emails"))
			r = email_transcript(a, t, slash ? dir : ".", err);
		if (r)
			ca_err_locate(err, "%s (conversation %s)", path, ca_json_str(t, "conversation_id"));
	}
	free(dir);
	if (r) {
		json_decref(ts);
		return r;
	}
	const ca_settings *s = a->settings;
	field_score *fs = calloc(s->n_fields, sizeof(*fs));
	json_t *by_event = json_pack("{s:i, s:i, s:i, s:i, s:i}", "accept", 0, "update", 0, "wrapup", 0, "close", 0,
				     "email", 0);
	json_t *withheld_missing = json_object();
	json_t *per = json_array();
	size_t created = 0, withheld = 0, bad_create = 0, total = 0;
	size_t dec_tp = 0, dec_fp = 0, dec_fn = 0, dec_tn = 0; /* against labels.case */
	size_t n = json_array_size(ts);
	double t0 = ca_time_mono();
	if (!fs || !by_event || !withheld_missing || !per)
		r = CA_ENOMEM;
	for (unsigned rep = 0; !r && rep < repeat; rep++) {
		for (size_t i = 0; !r && i < n; i++) {
			const json_t *t = json_array_get(ts, i);
			json_t *cs = NULL, *missing = NULL, *raw_row = NULL;
			const char *at = NULL;
			size_t after = 0;
			bool bad = false;
			ca_analysis an;
			ca_analysis_init(&an);
			/* One read snapshot a conversation: its directory lookups
			 * share one lock, as a live event's share its transaction. */
			r = ca_store_begin_read(a->store, err);
			bool snapshot = r == 0;
			if (!r && json_object_get(t, "_arc"))
				r = run_email(a, t, &an, &cs, &at, &after, &missing, err);
			else if (!r)
				r = run_one(a, t, &an, accept_after, update_every, &cs, &at, &after, &missing, &bad, err);
			if (!r)
				r = score_raw(a, t, &an, opts && opts->all_fields, fs, rep == 0 ? &raw_row : NULL, err);
			if (snapshot)
				ca_store_rollback(a->store);
			ca_analysis_done(&an);
			if (r) {
				ca_err_locate(err, "%s (conversation %s)", path, ca_json_str(t, "conversation_id"));
				break;
			}
			total++;
			if (cs) {
				created++;
				json_object_set_new(by_event, at, json_integer(json_integer_value(json_object_get(by_event, at)) + 1));
			} else {
				withheld++;
				size_t q;
				json_t *m;
				json_array_foreach(missing, q, m) {
					const char *f = ca_json_str(m, "field");
					json_object_set_new(withheld_missing, f,
							    json_integer(json_integer_value(json_object_get(withheld_missing, f)) + 1));
				}
			}
			bad_create += bad;
			const json_t *labels = json_object_get(t, "labels");
			const json_t *found = json_object_get(t, "labels_found_in_text");
			json_t *want = json_object_get(labels, "case");
			if (json_is_boolean(want)) {
				bool w = json_is_true(want), got_case = cs != NULL;
				dec_tp += w && got_case;
				dec_fp += !w && got_case;
				dec_fn += w && !got_case;
				dec_tn += !w && !got_case;
			}
			json_t *row = rep == 0 ? json_pack("{s:s, s:s?, s:I, s:O?, s:O?, s:O?}", "conversation",
							   ca_json_str(t, "conversation_id"), "created_at", at, "created_after_message",
							   (json_int_t)after, "fields", cs, "labels", labels, "missing", missing)
					       : NULL;
			for (size_t fi = 0; labels && fi < s->n_fields; fi++) {
				const char *name = s->fields[fi].name;
				const char *truth = ca_json_str(labels, name);
				const char *got = cs ? ca_json_str(cs, name) : NULL;
				if (!applies(s, fi, labels, false))
					continue;
				bool intext = truth && json_is_true(json_object_get(found, name));
				if (truth) {
					fs[fi].all.support++;
					fs[fi].in_text.support += intext;
				}
				if (got && (truth || !json_object_get(labels, name))) {
					/* Only score predictions where a label exists or the
					 * label says the field is absent. */
					if (truth) {
						fs[fi].all.predicted++;
						fs[fi].in_text.predicted += intext;
						bool ok = strcmp(got, truth) == 0;
						fs[fi].all.tp += ok;
						fs[fi].in_text.tp += ok && intext;
					}
				}
			}
			if (row) {
				json_object_set_new(row, "predicted_at_close", raw_row);
				json_array_append_new(per, row);
			} else {
				json_decref(raw_row);
			}
			json_decref(cs);
			json_decref(missing);
		}
		if (opts && opts->progress)
			opts->progress(rep + 1, repeat, opts->progress_ud);
	}
	double secs = ca_time_mono() - t0;
	json_t *fields = json_object();
	for (size_t fi = 0; !r && fi < s->n_fields; fi++) {
		if (fs[fi].all.support == 0 && fs[fi].all.predicted == 0)
			continue;
		json_t *o = prf(&fs[fi].all);
		json_object_set_new(o, "predictor_accuracy",
				    json_real(fs[fi].raw_support ? (double)fs[fi].raw_correct / (double)fs[fi].raw_support : 0));
		/* No in-text figures where the labels do not say what is in the text. */
		json_object_set_new(o, "in_text", fs[fi].in_text.support ? prf(&fs[fi].in_text) : json_null());
		if (s->fields[fi].type == CA_FT_OPTION && fs[fi].n_conf)
			json_object_set_new(o, "calibration", calibration_json(&fs[fi]));
		json_object_set_new(fields, s->fields[fi].name, o);
	}
	for (size_t fi = 0; fs && fi < s->n_fields; fi++) {
		free(fs[fi].conf);
		free(fs[fi].ok);
	}
	free(fs);
	json_decref(ts);
	if (r) {
		json_decref(fields);
		json_decref(by_event);
		json_decref(withheld_missing);
		json_decref(per);
		return r;
	}
	json_t *creation = json_pack("{s:I, s:I, s:I, s:o, s:o}", "created", (json_int_t)created, "withheld",
				     (json_int_t)withheld, "created_with_missing_field", (json_int_t)bad_create, "by_event",
				     by_event, "withheld_missing", withheld_missing);
	size_t dec = dec_tp + dec_fp + dec_fn + dec_tn;
	if (dec)
		json_object_set_new(creation, "decision",
				    json_pack("{s:I, s:I, s:I, s:I, s:f}", "case_and_expected", (json_int_t)dec_tp,
					      "case_not_expected", (json_int_t)dec_fp, "no_case_expected_one", (json_int_t)dec_fn,
					      "no_case_as_expected", (json_int_t)dec_tn, "accuracy",
					      (double)(dec_tp + dec_tn) / (double)dec));
	return ca_result(json_pack("{s:I, s:I, s:o, s:o, s:o, s:f, s:f}", "conversations", (json_int_t)total, "repeat",
				   (json_int_t)repeat, "fields", fields, "creation", creation, "per_conversation", per,
				   "seconds", secs, "conversations_per_second", secs > 0 ? (double)total / secs : 0),
			 ret_json);
}
