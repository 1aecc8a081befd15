/* SPDX-License-Identifier: MIT */
/*
 * The public face of PII removal (include/caseagent/caseagent.h, "PII"):
 * redacting one text with the agent's knowledge (its contacts' names as
 * known persons, its pattern fields for account and order numbers as
 * identifiers to remove), and scoring the recognisers against span-labelled
 * text in the format of Microsoft Presidio's evaluation data, with
 * per-type and overall precision, recall and F1 (span overlap and span
 * exact) and the share of personal characters left visible. The knowledge
 * agent builds its recogniser with the same function before drafting.
 */
#include <stdlib.h>
#include <string.h>

#include "casemgmt.h"
#include "pii.h"
#include "text.h"

/* Largest evaluation file read. */
#define MAX_EVAL_BYTES (512u << 20)

/* Lower-case name fragments of pattern fields that are account or order
 * numbers (settings' "pattern" fields: docs/settings.md). */
static int pattern_type(const char *name)
{
	if (!name)
		return -1;
	if (strstr(name, "account") || strstr(name, "acct"))
		return CA_PII_ACCOUNT_NUMBER;
	if (strstr(name, "order"))
		return CA_PII_ORDER_NUMBER;
	return -1;
}

/* Account and order number patterns from the stored settings, when there
 * are settings; none otherwise. */
static int add_setting_patterns(ca_agent *a, ca_pii *p, ca_err *err)
{
	char *text = NULL;
	json_t *j, *f;
	size_t i;
	int r = ca_store_settings_get(a->store, &text, err);

	if (r == CA_ENOTFOUND) {
		ca_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	j = json_loads(text, 0, NULL);
	free(text);
	if (!j)
		return 0; /* ca_agent_ready reports damaged settings where they matter */
	json_array_foreach(json_object_get(j, "fields"), i, f) {
		const char *pattern = ca_json_str(f, "pattern");
		int type = pattern_type(ca_json_str(f, "name"));
		const json_t *cv = json_object_get(f, "cues");
		const char **cues;
		size_t k, nc = json_array_size(cv);

		if (!pattern || type < 0 || !ca_streq(ca_json_str(f, "type"), "pattern"))
			continue;
		cues = calloc(nc + 1, sizeof *cues);
		if (!cues) {
			r = CA_ENOMEM;
			break;
		}
		for (k = 0; k < nc; k++)
			cues[k] = json_string_value(json_array_get(cv, k));
		for (k = 0; k < nc && cues[k]; k++)
			;
		cues[k] = NULL;
		r = ca_pii_add_pattern(p, (ca_pii_type)type, pattern, cues, err);
		free(cues);
		if (r < 0) {
			ca_err_locate(err, "settings field %s", ca_json_str(f, "name"));
			break;
		}
	}
	json_decref(j);
	return r;
}

#define PII_MAX_CONTACT_NAMES 20000

/* The recogniser of this agent: Debian word lists, the contacts' names and
 * the configured identifier patterns. Built once per agent (compiling its
 * patterns and reading the word lists is the costly part) and again when
 * the directory changes; borrowed, owned by the agent. */
int ca_agent_pii(ca_agent *a, const ca_pii **ret, ca_err *err)
{
	if (a->pii && !a->directory_stale) {
		*ret = a->pii;
		return 0;
	}
	ca_pii_free(a->pii);
	a->pii = NULL;
	ca_pii *p = NULL;
	json_t *contacts = NULL, *c;
	size_t i;
	int r = 0;

	if (!a->pii_lexicon)
		r = ca_pii_lexicon_default(&a->pii_lexicon, err);
	if (r == 0)
		r = ca_pii_new(a->pii_lexicon, &p, err);
	if (r < 0)
		return r;
	/* Contacts' names make them recognisable as persons wherever they are
	 * written, but copying a million names into every process would cost
	 * what the directory's indexes save: a directory of more than
	 * PII_MAX_CONTACT_NAMES contacts relies on the word lists (given names
	 * and surnames), cue phrases and signatures instead. */
	size_t n_contacts = 0;
	if (a->store && r == 0)
		r = ca_store_directory_count(a->store, "contact", PII_MAX_CONTACT_NAMES, &n_contacts, err);
	if (a->store && r == 0 && n_contacts > PII_MAX_CONTACT_NAMES) {
		r = add_setting_patterns(a, p, err);
	} else if (a->store && r == 0) {
		r = ca_store_directory_list(a->store, "contact", &contacts, err);
		json_array_foreach(contacts, i, c) {
			const char *name = ca_json_str(c, "full_name");

			if (r < 0)
				break;
			/* a name without letters protects no one: skipped */
			if (name && (r = ca_pii_add_name(p, name, NULL)) == CA_EINVAL)
				r = 0;
		}
		json_decref(contacts);
		if (r == 0)
			r = add_setting_patterns(a, p, err);
	}
	if (r < 0) {
		ca_pii_free(p);
		return r;
	}
	a->pii = p;
	*ret = p;
	return 0;
}

static json_t *spans_json(const ca_pii_spans *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < s->n; i++) {
		json_t *o = json_pack("{s:s,s:I,s:I,s:f}", "type", ca_pii_type_name(s->v[i].type), "begin",
				      (json_int_t)s->v[i].begin, "end", (json_int_t)s->v[i].end, "confidence",
				      (double)((int)(s->v[i].confidence * 100.0 + 0.5)) / 100.0);

		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int ca_pii_redact_text(ca_agent *a, const char *text, char **ret_json, ca_err *err)
{
	const ca_pii *p = NULL;
	ca_pii_spans spans = {0};
	ca_pii_counts counts;
	char *out = NULL;
	json_t *res, *removed, *list;
	int r;

	if (!text)
		return ca_err_set(err, CA_EINVAL, "text", "no text to redact");
	r = ca_agent_pii(a, &p, err);
	if (r == 0)
		r = ca_pii_redact(p, text, strlen(text), &out, &counts, &spans, err);
	if (r == 0) {
		removed = json_object();
		list = spans_json(&spans);
		for (int t = 0; removed && t < CA_PII_NTYPES; t++)
			if (counts.n[t] && json_object_set_new(removed, ca_pii_type_name((ca_pii_type)t),
							       json_integer(counts.n[t])) < 0)
				r = CA_ENOMEM;
		if (r < 0 || !removed || !list) {
			json_decref(removed);
			json_decref(list);
			r = CA_ENOMEM;
		} else {
			/* "o" hands both references to the result, even on failure */
			res = json_pack("{s:s,s:o,s:o}", "text", out, "removed", removed, "spans", list);
			r = ca_result(res, ret_json);
		}
	}
	free(out);
	ca_pii_spans_done(&spans);
	return r;
}

/* ---- evaluation ---- */

/* Presidio's entity types and ours; our own names are accepted too. */
static const struct {
	const char *gold;
	ca_pii_type type;
} type_map[] = {
	{"EMAIL_ADDRESS", CA_PII_EMAIL}, {"EMAIL", CA_PII_EMAIL},
	{"PHONE_NUMBER", CA_PII_PHONE}, {"PHONE", CA_PII_PHONE},
	{"CREDIT_CARD", CA_PII_CREDIT_CARD},
	{"IBAN_CODE", CA_PII_IBAN}, {"IBAN", CA_PII_IBAN},
	{"US_SSN", CA_PII_US_SSN},
	{"IP_ADDRESS", CA_PII_IP_ADDRESS},
	{"STREET_ADDRESS", CA_PII_STREET_ADDRESS},
	{"PERSON", CA_PII_PERSON},
};

/* The types scored, in report order. */
static const ca_pii_type scored[] = {
	CA_PII_EMAIL, CA_PII_PHONE, CA_PII_CREDIT_CARD, CA_PII_IBAN, CA_PII_US_SSN,
	CA_PII_IP_ADDRESS, CA_PII_STREET_ADDRESS, CA_PII_PERSON,
};

static int map_type(const char *gold)
{
	for (size_t i = 0; gold && i < CA_ARRAY_SIZE(type_map); i++)
		if (strcmp(type_map[i].gold, gold) == 0)
			return (int)type_map[i].type;
	return -1;
}

typedef struct tally {
	size_t support, found, predicted, correct;         /* overlap */
	size_t found_exact, correct_exact;                 /* exact */
} tally;

typedef struct gold_span {
	uint32_t begin, end;
	ca_pii_type type;
} gold_span;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* [b,e) without surrounding white space. */
static void trim(const char *s, uint32_t *b, uint32_t *e)
{
	while (*b < *e && is_space(s[*b]))
		(*b)++;
	while (*e > *b && is_space(s[*e - 1]))
		(*e)--;
}

static bool same_span(const char *s, uint32_t b1, uint32_t e1, uint32_t b2, uint32_t e2)
{
	trim(s, &b1, &e1);
	trim(s, &b2, &e2);
	return b1 == b2 && e1 == e2;
}

/* Byte offset of every code point of text (and of its end): off[k] for
 * character k. Caller frees. */
static int char_offsets(const char *text, size_t len, uint32_t **ret, size_t *ret_n)
{
	size_t n = 0;
	uint32_t *off = malloc((len + 1) * sizeof *off);

	if (!off)
		return CA_ENOMEM;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			off[n++] = (uint32_t)i;
	off[n] = (uint32_t)len;
	*ret = off;
	*ret_n = n;
	return 0;
}

/* Gold spans of one record, in bytes; types we do not score are counted
 * in `ignored`. */
static int read_gold(const json_t *rec, size_t ri, const char *text, size_t len, gold_span **ret, size_t *ret_n,
		     json_t *ignored, ca_err *err)
{
	const json_t *spans = json_object_get(rec, "spans"), *s;
	uint32_t *off = NULL;
	size_t nchars, i, n = 0;
	gold_span *g;
	int r;

	if (!json_is_array(spans))
		return ca_err_set(err, CA_EPARSE, "spans", "record %zu: \"spans\" is not a list", ri);
	r = char_offsets(text, len, &off, &nchars);
	if (r < 0)
		return r;
	g = calloc(json_array_size(spans) + 1, sizeof *g);
	if (!g) {
		free(off);
		return CA_ENOMEM;
	}
	json_array_foreach(spans, i, s) {
		const char *type = ca_json_str(s, "entity_type");
		const json_t *jb = json_object_get(s, "start_position"), *je = json_object_get(s, "end_position");
		json_int_t b = json_integer_value(jb), e = json_integer_value(je);
		int t = map_type(type);

		if (!type || !json_is_integer(jb) || !json_is_integer(je) || b < 0 || e < b || (size_t)e > nchars) {
			r = ca_err_set(err, CA_EPARSE, "spans", "record %zu, span %zu: needs entity_type and "
				       "start_position <= end_position within the text (%zu characters)", ri, i, nchars);
			break;
		}
		if (t < 0) {
			json_object_set_new(ignored, type, json_integer(json_integer_value(json_object_get(ignored, type)) + 1));
			continue;
		}
		g[n++] = (gold_span){.begin = off[b], .end = off[e], .type = (ca_pii_type)t};
	}
	free(off);
	if (r < 0) {
		free(g);
		return r;
	}
	*ret = g;
	*ret_n = n;
	return 0;
}

static bool overlaps(uint32_t b1, uint32_t e1, uint32_t b2, uint32_t e2)
{
	return b1 < e2 && b2 < e1;
}

/* Count non-space characters of gold spans, and those no prediction hides. */
static void residual(const char *text, const gold_span *g, size_t ng, const ca_pii_spans *pred, size_t *total,
		     size_t *visible)
{
	for (size_t i = 0; i < ng; i++)
		for (uint32_t k = g[i].begin; k < g[i].end; k++) {
			bool hidden = false;

			if (((unsigned char)text[k] & 0xC0) == 0x80 || is_space(text[k]))
				continue;
			for (size_t j = 0; !hidden && j < pred->n; j++)
				hidden = pred->v[j].begin <= k && k < pred->v[j].end;
			(*total)++;
			if (!hidden)
				(*visible)++;
		}
}

static void score_record(const char *text, const gold_span *g, size_t ng, const ca_pii_spans *pred, tally *tl)
{
	for (size_t i = 0; i < ng; i++) {
		bool f = false, fx = false;

		tl[g[i].type].support++;
		for (size_t j = 0; j < pred->n; j++) {
			if (pred->v[j].type != g[i].type)
				continue;
			if (overlaps(g[i].begin, g[i].end, pred->v[j].begin, pred->v[j].end))
				f = true;
			if (same_span(text, g[i].begin, g[i].end, pred->v[j].begin, pred->v[j].end))
				fx = true;
		}
		tl[g[i].type].found += f;
		tl[g[i].type].found_exact += fx;
	}
	for (size_t j = 0; j < pred->n; j++) {
		bool c = false, cx = false;

		tl[pred->v[j].type].predicted++;
		for (size_t i = 0; i < ng; i++) {
			if (pred->v[j].type != g[i].type)
				continue;
			if (overlaps(g[i].begin, g[i].end, pred->v[j].begin, pred->v[j].end))
				c = true;
			if (same_span(text, g[i].begin, g[i].end, pred->v[j].begin, pred->v[j].end))
				cx = true;
		}
		tl[pred->v[j].type].correct += c;
		tl[pred->v[j].type].correct_exact += cx;
	}
}

/* {"precision","recall","f1","support","predicted"}; null where a ratio
 * has no denominator. */
static json_t *figures(size_t support, size_t found, size_t predicted, size_t correct)
{
	json_t *o = json_object();
	double p = predicted ? (double)correct / (double)predicted : 0.0;
	double rc = support ? (double)found / (double)support : 0.0;

	if (!o)
		return NULL;
	json_object_set_new(o, "precision", predicted ? json_real(p) : json_null());
	json_object_set_new(o, "recall", support ? json_real(rc) : json_null());
	json_object_set_new(o, "f1", predicted && support ? json_real(p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0)
							 : json_null());
	json_object_set_new(o, "support", json_integer((json_int_t)support));
	json_object_set_new(o, "predicted", json_integer((json_int_t)predicted));
	return o;
}

static json_t *report(const tally *tl, bool exact)
{
	json_t *o = json_object();
	size_t s = 0, f = 0, p = 0, c = 0;

	for (size_t i = 0; o && i < CA_ARRAY_SIZE(scored); i++) {
		const tally *t = &tl[scored[i]];
		size_t found = exact ? t->found_exact : t->found, correct = exact ? t->correct_exact : t->correct;

		json_object_set_new(o, ca_pii_type_name(scored[i]), figures(t->support, found, t->predicted, correct));
		s += t->support;
		f += found;
		p += t->predicted;
		c += correct;
	}
	if (o)
		json_object_set_new(o, "overall", figures(s, f, p, c));
	return o;
}

/* The records of a span-labelled file, or of every *.json file in a
 * folder (in name order), as one JSON list (new reference). */
static int load_gold(const char *path, json_t **ret, ca_err *err)
{
	ca_strv files = { 0 };
	int r = ca_dataset_files(path, NULL, ".json", &files, err);
	json_t *all = r ? NULL : json_array();
	if (!r && !all)
		r = CA_ENOMEM;
	for (size_t f = 0; !r && f < files.n; f++) {
		char *data = NULL;
		size_t len = 0;
		json_error_t je;
		if ((r = ca_file_read(files.v[f], MAX_EVAL_BYTES, &data, &len, err)))
			break;
		json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
		free(data);
		if (!doc)
			r = ca_err_set(err, CA_EPARSE, files.v[f], "%s:%d:%d: %s", files.v[f], je.line, je.column, je.text);
		else if (!json_is_array(doc))
			r = ca_err_set(err, CA_EPARSE, files.v[f], "%s: expected a JSON list of {full_text, spans}", files.v[f]);
		else
			json_array_extend(all, doc);
		json_decref(doc);
	}
	ca_strv_done(&files);
	if (r) {
		json_decref(all);
		return r;
	}
	*ret = all;
	return 0;
}

int ca_pii_eval(ca_agent *a, const char *path, char **ret_json, ca_err *err)
{
	const ca_pii *p = NULL;
	size_t i, total = 0, visible = 0;
	json_t *doc = NULL, *rec, *res = NULL, *ignored = json_object(), *exact;
	tally tl[CA_PII_NTYPES] = {{0}};
	int r;

	if (!ignored)
		return CA_ENOMEM;
	r = load_gold(path, &doc, err);
	if (r == 0)
		r = ca_agent_pii(a, &p, err);
	json_array_foreach(doc, i, rec) {
		const char *text = ca_json_str(rec, "full_text");
		gold_span *g = NULL;
		size_t ng = 0;
		ca_pii_spans pred = {0};

		if (r < 0)
			break;
		if (!text) {
			r = ca_err_set(err, CA_EPARSE, "full_text", "record %zu has no \"full_text\" string", i);
			break;
		}
		r = read_gold(rec, i, text, strlen(text), &g, &ng, ignored, err);
		if (r == 0)
			r = ca_pii_find(p, text, strlen(text), &pred, err);
		if (r == 0) {
			score_record(text, g, ng, &pred, tl);
			residual(text, g, ng, &pred, &total, &visible);
		} else {
			ca_err_locate(err, "%s record %zu", path, i);
		}
		free(g);
		ca_pii_spans_done(&pred);
	}
	if (r == 0) {
		res = report(tl, false);
		exact = report(tl, true);
		if (!res || !exact) {
			json_decref(res);
			json_decref(exact);
			r = CA_ENOMEM;
		}
	}
	if (r == 0) {
		json_object_set_new(res, "exact", exact);
		json_object_set_new(res, "residual_pii_rate",
				    total ? json_real((double)visible / (double)total) : json_null());
		json_object_set_new(res, "pii_characters", json_integer((json_int_t)total));
		json_object_set_new(res, "visible_characters", json_integer((json_int_t)visible));
		json_object_set_new(res, "records", json_integer((json_int_t)json_array_size(doc)));
		json_object_set_new(res, "matching", json_string("overlap"));
		json_object_set_new(res, "ignored_types", json_incref(ignored));
		json_object_set_new(res, "file", json_string(path));
		r = ca_result(res, ret_json);
	}
	json_decref(ignored);
	json_decref(doc);
	return r;
}
