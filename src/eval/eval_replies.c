/* SPDX-License-Identifier: MIT */
/*
 * `caseagent eval replies`: the reply classifier (src/followup/intent.c) on
 * the labelled set tests/data/followup/replies.jsonl (docs/replies.md). A
 * row points at a customer turn of a dev data set under data_dir, so no
 * copy of the data lives in the repository: {"source": "tweetsumm" |
 * "twitter_care" | "abcd", "ref": conversation id, "turn": index of the
 * turn, "intent", "part": "train" | "test"}; rows of "own" replies written
 * for the set carry their "text" (and "headers") inline. Tweets are read as
 * a reply's text would be: HTML character references decoded and the
 * leading @handles (the tweet's addressing, as an e-mail's To header) left
 * out. Reports per-intent precision, recall and F1, macro-F1 over the
 * intents the part holds, the confusion matrix, the expected calibration
 * error of the confidence (10 equal-width bins), the softmax temperature
 * that would fit the part best, and the misread rows. A row whose turn
 * cannot be found is listed under "missing" with the reason. Writes nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"
#include "followup.h"

#define MAX_LABEL_BYTES ((size_t)16 << 20)
#define MAX_DATA_BYTES ((size_t)256 << 20)
#define MAX_LISTED 200
#define CAL_BINS 10

/* The conversations of the dev data sets, loaded on first use, by id. */
typedef struct sources {
	const char *dir;
	json_t *tweetsumm, *twitter_care, *abcd; /* {ref: [turn text, ...]} */
} sources;

static int load_json(const char *dir, const char *rel, json_t **ret, ca_err *err)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path))
		return ca_err_set(err, CA_EINVAL, dir, "data folder path too long");
	return ca_json_load_file(path, ret, err);
}

/* The next line of a NUL-terminated buffer, cut in place, or NULL at its
 * end; *cursor moves past it. */
static char *take_line(char **cursor)
{
	char *p = *cursor;
	if (!p || !*p)
		return NULL;
	char *e = strchr(p, '\n');
	if (e)
		*e = '\0';
	*cursor = e ? e + 1 : NULL;
	return p;
}

/* map[ref] = texts (stolen); a conversation without an id is left out. */
static int add_conv(json_t *map, const char *ref, json_t *texts)
{
	if (!texts)
		return CA_ENOMEM;
	if (!ref) {
		json_decref(texts);
		return 0;
	}
	return json_object_set_new(map, ref, texts) < 0 ? CA_ENOMEM : 0;
}

static int load_tweetsumm(sources *s, ca_err *err)
{
	char path[4096], *data = NULL;
	size_t len;
	if ((size_t)snprintf(path, sizeof(path), "%s/tweetsumm/dialogs.jsonl", s->dir) >= sizeof(path))
		return ca_err_set(err, CA_EINVAL, s->dir, "data folder path too long");
	int r = ca_file_read(path, MAX_DATA_BYTES, &data, &len, err);
	if (r < 0)
		return r;
	json_t *map = json_object();
	size_t line = 0;
	char *cursor = data, *p;
	while (map && r == 0 && (p = take_line(&cursor))) {
		line++;
		if (!*p)
			continue;
		json_error_t je;
		json_t *d = json_loads(p, 0, &je), *turns = json_object_get(d, "turns"), *texts = json_array(), *t;
		size_t i;
		json_array_foreach(turns, i, t)
			json_array_append(texts, json_object_get(t, "text"));
		if (!d) {
			json_decref(texts);
			r = ca_err_set(err, CA_EPARSE, path, "line %zu: %s", line, je.text);
		} else
			r = add_conv(map, ca_json_str(d, "conversation_id"), texts);
		json_decref(d);
	}
	free(data);
	if (!map)
		return ca_err_set(err, CA_ENOMEM, path, "out of memory");
	if (r < 0) {
		json_decref(map);
		return r;
	}
	s->tweetsumm = map;
	return 0;
}

/* A data set that is one JSON list of conversations: its id (a string or
 * an integer) at id_path (one or two keys deep), its turns at turns_key,
 * each turn's text at text_key, or at index 1 of a [speaker, text] pair. */
typedef struct list_format {
	const char *rel, *id_outer, *id_key, *turns_key, *text_key;
} list_format;

/* twitter_care_docpred/dev.json: [{"dialogHeader":{"sessionID"},
 * "dialogContent":[{"client"|"agent","message"}]}]. */
static const list_format twitter_care_format = { "twitter_care_docpred/dev.json", "dialogHeader", "sessionID",
						 "dialogContent", "message" };
/* abcd/conversations.json: [{"convo_id", "original": [[speaker, text]]}]. */
static const list_format abcd_format = { "abcd/conversations.json", NULL, "convo_id", "original", NULL };

static int load_list(sources *s, const list_format *f, json_t **ret, ca_err *err)
{
	json_t *all, *d, *map = json_object();
	int r = load_json(s->dir, f->rel, &all, err);
	size_t i;
	if (r < 0 || !map) {
		json_decref(map);
		return r < 0 ? r : CA_ENOMEM;
	}
	json_array_foreach(all, i, d) {
		json_t *texts = json_array(), *t;
		json_t *id = json_object_get(f->id_outer ? json_object_get(d, f->id_outer) : d, f->id_key);
		size_t k;
		char ref[32];
		if (json_is_integer(id))
			snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(id));
		json_array_foreach(json_object_get(d, f->turns_key), k, t)
			json_array_append(texts, f->text_key ? json_object_get(t, f->text_key) : json_array_get(t, 1));
		if ((r = add_conv(map, json_is_integer(id) ? ref : json_string_value(id), texts)) < 0)
			break;
	}
	json_decref(all);
	if (r < 0) {
		json_decref(map);
		return ca_err_set(err, r, f->rel, "out of memory");
	}
	*ret = map;
	return 0;
}

static int load_twitter_care(sources *s, ca_err *err)
{
	return load_list(s, &twitter_care_format, &s->twitter_care, err);
}

static int load_abcd(sources *s, ca_err *err)
{
	return load_list(s, &abcd_format, &s->abcd, err);
}

/* The turn a row points at (borrowed), or NULL with *ret_why. */
static const char *pointed_text(sources *s, const json_t *row, const char **ret_why, ca_err *err, int *ret_rc)
{
	const char *src = ca_json_str(row, "source"), *ref = ca_json_str(row, "ref");
	json_t *turn = json_object_get(row, "turn"), **map;
	int (*load)(sources *, ca_err *);
	*ret_rc = 0;
	if (ca_streq(src, "tweetsumm"))
		map = &s->tweetsumm, load = load_tweetsumm;
	else if (ca_streq(src, "twitter_care"))
		map = &s->twitter_care, load = load_twitter_care;
	else if (ca_streq(src, "abcd"))
		map = &s->abcd, load = load_abcd;
	else {
		*ret_why = "unknown source";
		return NULL;
	}
	if (!*map && (*ret_rc = load(s, err)) < 0)
		return NULL;
	if (!ref || !json_is_integer(turn)) {
		*ret_why = "no ref or turn";
		return NULL;
	}
	json_t *texts = json_object_get(*map, ref);
	if (!texts) {
		*ret_why = "no such conversation";
		return NULL;
	}
	const char *t = json_string_value(json_array_get(texts, (size_t)json_integer_value(turn)));
	if (!t)
		*ret_why = "no such turn";
	return t;
}

/* A tweet as a reply: entities decoded, leading @handles dropped (heap). */
static char *tweet_reply(const char *t)
{
	while (*t == '@' || *t == ' ') {
		if (*t == '@')
			while (*t && *t != ' ' && *t != '\n')
				t++;
		while (*t == ' ')
			t++;
		if (*t != '@')
			break;
	}
	return ca_eval_decode_entities(t);
}

typedef struct tally {
	size_t confusion[CA_REPLY_N][CA_REPLY_N]; /* [gold][predicted] */
	size_t bin_n[CAL_BINS], bin_right[CAL_BINS];
	double bin_conf[CAL_BINS];
	/* log-likelihood of the gold intent under a temperature rescale t/T0 */
	double nll[16];
} tally;

/* Temperatures tried for the calibration fit, as multiples of the current one. */
static const double temp_scale[16] = { 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0 };

static void count(tally *t, ca_reply_intent gold, const ca_reply_reading *rd)
{
	t->confusion[gold][rd->intent]++;
	int b = (int)(rd->confidence * CAL_BINS);
	b = b >= CAL_BINS ? CAL_BINS - 1 : b < 0 ? 0 : b;
	t->bin_n[b]++;
	t->bin_conf[b] += rd->confidence;
	t->bin_right[b] += gold == rd->intent;
	/* p^(1/s) renormalised is the softmax at s times the temperature */
	for (int k = 0; k < 16; k++) {
		double sum = 0, pg = 0;
		for (int i = 0; i < CA_REPLY_N; i++) {
			double v = pow(rd->scores[i] > 1e-12 ? rd->scores[i] : 1e-12, 1.0 / temp_scale[k]);
			sum += v;
			pg = i == (int)gold ? v : pg;
		}
		t->nll[k] -= log(pg / sum);
	}
}

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static json_t *figures(const tally *t, size_t n)
{
	json_t *per = json_object(), *conf = json_object();
	double f1_sum = 0;
	size_t present = 0, right = 0;
	for (int g = 0; g < CA_REPLY_N; g++) {
		size_t tp = t->confusion[g][g], support = 0, predicted = 0;
		json_t *row = json_object();
		for (int p = 0; p < CA_REPLY_N; p++) {
			support += t->confusion[g][p];
			predicted += t->confusion[p][g];
			json_object_set_new(row, ca_reply_intent_name((ca_reply_intent)p),
					    json_integer((json_int_t)t->confusion[g][p]));
		}
		json_object_set_new(conf, ca_reply_intent_name((ca_reply_intent)g), row);
		double pr = ratio(tp, predicted), rc = ratio(tp, support), f1 = pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
		right += tp;
		if (support) {
			present++;
			f1_sum += f1;
		}
		json_object_set_new(per, ca_reply_intent_name((ca_reply_intent)g),
				    json_pack("{s:f,s:f,s:f,s:I,s:I}", "precision", pr, "recall", rc, "f1", f1, "support",
					      (json_int_t)support, "predicted", (json_int_t)predicted));
	}
	double ece = 0;
	json_t *bins = json_array();
	for (int b = 0; b < CAL_BINS; b++) {
		if (!t->bin_n[b])
			continue;
		double c = t->bin_conf[b] / (double)t->bin_n[b], acc = ratio(t->bin_right[b], t->bin_n[b]);
		ece += (double)t->bin_n[b] / (double)(n ? n : 1) * fabs(c - acc);
		json_array_append_new(bins, json_pack("{s:f,s:f,s:f,s:I}", "from", b / (double)CAL_BINS, "confidence", c,
						      "accuracy", acc, "n", (json_int_t)t->bin_n[b]));
	}
	int best = 6;
	for (int k = 0; k < 16; k++)
		best = t->nll[k] < t->nll[best] ? k : best;
	return json_pack("{s:f,s:f,s:o,s:o,s:{s:f,s:f,s:f,s:o}}", "macro_f1", present ? f1_sum / (double)present : 0.0,
			 "accuracy", ratio(right, n), "per_intent", per, "confusion", conf, "calibration", "ece", ece,
			 "log_loss", n ? t->nll[6] / (double)n : 0.0, "best_temperature_scale", temp_scale[best], "bins",
			 bins);
}

int ca_eval_replies(ca_agent *a, const char *labels_path, const char *data_dir, const char *part, char **ret_json,
		    ca_err *err)
{
	(void)a; /* the reading is pure: no store, no settings */
	if (!part)
		part = "all";
	if (strcmp(part, "train") && strcmp(part, "test") && strcmp(part, "all"))
		return ca_err_set(err, CA_EINVAL, "part", "part is train, test or all, not '%s'", part);
	if (!labels_path)
		return ca_err_set(err, CA_EINVAL, "labels", "no labelled set");
	sources s = { data_dir ? data_dir : "../shared/data", NULL, NULL, NULL };
	char *data = NULL;
	size_t len, line = 0, n = 0;
	int r = ca_file_read(labels_path, MAX_LABEL_BYTES, &data, &len, err);
	if (r < 0)
		return r;
	tally *t = calloc(1, sizeof(*t));
	json_t *missing = json_array(), *misread = json_array(), *by_source = json_object();
	if (!t || !missing || !misread || !by_source) {
		r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		goto done;
	}
	char *cursor = data, *p;
	while ((p = take_line(&cursor))) {
		line++;
		if (!*p)
			continue;
		json_error_t je;
		json_t *row = json_loads(p, 0, &je);
		if (!json_is_object(row)) {
			json_decref(row);
			r = ca_err_set(err, CA_EPARSE, labels_path, "line %zu: %s", line, row ? "not an object" : je.text);
			goto done;
		}
		const char *rp = ca_json_str(row, "part"), *src = ca_json_str(row, "source");
		ca_reply_intent gold = ca_reply_intent_parse(ca_json_str(row, "intent"));
		if (gold == CA_REPLY_N || !src || (!ca_streq(rp, "train") && !ca_streq(rp, "test"))) {
			json_decref(row);
			r = ca_err_set(err, CA_EINVAL, labels_path, "line %zu: needs a source, an intent and a part", line);
			goto done;
		}
		if (strcmp(part, "all") && strcmp(part, rp)) {
			json_decref(row);
			continue;
		}
		const char *why = NULL, *text;
		char *own = NULL;
		if (ca_streq(src, "own")) {
			text = ca_json_str(row, "text");
			why = text ? NULL : "no text";
		} else if ((text = pointed_text(&s, row, &why, err, &r)) != NULL) {
			text = own = tweet_reply(text);
		}
		if (r < 0) {
			json_decref(row);
			goto done;
		}
		if (!text) {
			json_array_append_new(missing, json_pack("{s:I,s:s,s:O,s:s}", "line", (json_int_t)line, "source", src,
								 "ref", json_object_get(row, "ref"), "reason", why ? why : "?"));
			json_decref(row);
			continue;
		}
		ca_reply_reading rd;
		ca_err rerr = { 0 };
		r = ca_reply_read(text, json_object_get(row, "headers"), &rd, &rerr);
		if (r < 0) {
			ca_err_set(err, r, labels_path, "line %zu: %s", line, rerr.message);
			free(own);
			json_decref(row);
			goto done;
		}
		n++;
		count(t, gold, &rd);
		json_t *c = json_object_get(by_source, src);
		json_object_set_new(by_source, src, json_integer(json_integer_value(c) + 1));
		if (rd.intent != gold && json_array_size(misread) < MAX_LISTED) {
			const json_t *ev = json_array_get(rd.evidence, 0);
			json_array_append_new(misread, json_pack("{s:I,s:s,s:s,s:s,s:f,s:s%,s:O?}", "line", (json_int_t)line,
								 "source", src, "intent", ca_reply_intent_name(gold), "read",
								 ca_reply_intent_name(rd.intent), "confidence", rd.confidence,
								 "text", text, strlen(text) > 160 ? (size_t)160 : strlen(text),
								 "cue", json_object_get(ev, "cue")));
		}
		ca_reply_reading_clear(&rd);
		free(own);
		json_decref(row);
	}
	json_t *res = figures(t, n);
	if (!res || json_object_set_new(res, "part", json_string(part)) < 0 ||
	    json_object_set_new(res, "n", json_integer((json_int_t)n)) < 0 ||
	    json_object_set_new(res, "labels", json_string(labels_path)) < 0 ||
	    json_object_set_new(res, "sources", json_incref(by_source)) < 0 ||
	    json_object_set_new(res, "missing", json_incref(missing)) < 0 ||
	    json_object_set_new(res, "misread", json_incref(misread)) < 0 ||
	    !(*ret_json = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)))) {
		json_decref(res);
		r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		goto done;
	}
	json_decref(res);
	r = 0;
done:
	free(data);
	free(t);
	json_decref(missing);
	json_decref(misread);
	json_decref(by_source);
	json_decref(s.tweetsumm);
	json_decref(s.twitter_care);
	json_decref(s.abcd);
	return r;
}
