/* SPDX-License-Identifier: MIT */
/*
 * `caseagent eval replies`: the reply classifier (src/followup/intent.c) on
 * the labelled set tests/data/followup/replies.jsonl (docs/replies.md). A
 * row points at a customer turn of a dev data set under data_dir, so no
 * copy of the data lives in the repository: {"source": "tweetsumm" |
 * "twitter_care" | "abcd", "ref": conversation id, "turn": index of the
 * turn, "intent", "part": "train" | "test" | "test2" | "test3" | "test4" | "test5" |
 * "mail"}; an e-mail reply of the SpamAssassin set is {"source":
 * "spamassassin", "ref": "GROUP/FILE" under spamassassin_emails/raw}, read
 * as the follow-up agent reads a mail (mail_reply); rows of "own" replies written for the set carry their "text" (and "headers")
 * inline. Tweets are read as a reply's text would be: HTML character
 * references decoded and the leading @handles (the tweet's addressing, as
 * an e-mail's To header) left out. Reports per-intent precision, recall and F1, macro-F1 over the
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
#include "email.h"
#include "followup.h"
#include "text.h"

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
			json_array_append_new(texts, json_pack("[O?O?]", json_object_get(t, "speaker"),
							       json_object_get(t, "text")));
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
 * each turn's text at text_key (the representative's turns have the key
 * agent_key), or a [speaker, text] pair. */
typedef struct list_format {
	const char *rel, *id_outer, *id_key, *turns_key, *text_key, *agent_key;
} list_format;

/* twitter_care_docpred/dev.json: [{"dialogHeader":{"sessionID"},
 * "dialogContent":[{"client"|"agent","message"}]}]. */
static const list_format twitter_care_format = { "twitter_care_docpred/dev.json", "dialogHeader", "sessionID",
						 "dialogContent", "message", "agent" };
/* abcd/conversations.json: [{"convo_id", "original": [[speaker, text]]}]. */
static const list_format abcd_format = { "abcd/conversations.json", NULL, "convo_id", "original", NULL, NULL };

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
		json_array_foreach(json_object_get(d, f->turns_key), k, t) {
			json_t *pair = f->text_key ? json_pack("[sO?]", json_object_get(t, f->agent_key) ? "agent" : "customer",
							       json_object_get(t, f->text_key))
						   : json_incref(t);
			json_array_append_new(texts, pair);
		}
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

/* The turn a row points at (borrowed), or NULL with *ret_why; *ret_context
 * the representative's turn before it, or NULL. */
static const char *pointed_text(sources *s, const json_t *row, const char **ret_context, const char **ret_why,
				ca_err *err, int *ret_rc)
{
	*ret_context = NULL;
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
	json_int_t at = json_integer_value(turn);
	const char *t = at >= 0 ? json_string_value(json_array_get(json_array_get(texts, (size_t)at), 1)) : NULL;
	if (!t) {
		*ret_why = "no such turn";
		return NULL;
	}
	for (json_int_t i = at - 1; i >= 0 && !*ret_context; i--) {
		json_t *pair = json_array_get(texts, (size_t)i);
		if (ca_streq(json_string_value(json_array_get(pair, 0)), "agent"))
			*ret_context = json_string_value(json_array_get(pair, 1));
	}
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

/* ---- e-mail replies of the SpamAssassin set ---- */

#define MAIL_DIR "spamassassin_emails/raw"
#define MAX_MAIL_BYTES ((size_t)4 << 20)
#define MAIL_CONTEXT_BYTES 2000

/* A row's ref into MAIL_DIR: "GROUP/FILE", letters, digits, '.', '_', '-'
 * and one '/' between two names, so a labelled set cannot point outside. */
static bool mail_ref_ok(const char *ref)
{
	if (!ref || !*ref || strlen(ref) > 200 || *ref == '.' || *ref == '/')
		return false;
	int slashes = 0;
	for (const char *p = ref; *p; p++) {
		if (*p == '/') {
			if (++slashes > 1 || p[1] == '.' || p[1] == '\0')
				return false;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
			     *p == '_' || *p == '-'))
			return false;
	}
	return slashes == 1;
}

/* The lines of `text` quoted once ("> " as a reply quotes the message it
 * answers; deeper quotes are older messages), without the mark, cut to
 * MAIL_CONTEXT_BYTES; *ret NULL when there are none. */
static int quoted_once(const char *text, char **ret)
{
	*ret = NULL;
	ca_buf b;
	ca_buf_init(&b);
	int r = 0;
	for (const char *p = text; r == 0 && p && *p;) {
		const char *e = strchr(p, '\n'), *end = e ? e : p + strlen(p);
		if (*p == '>' && p[1] != '>') {
			const char *q = p + 1 + (p[1] == ' ');
			if (q < end && (r = ca_buf_append(&b, q, (size_t)(end - q))) == 0)
				r = ca_buf_append(&b, "\n", 1);
		}
		p = e ? e + 1 : NULL;
	}
	if (r == 0 && b.len) {
		size_t n = ca_utf8_cut(b.data, b.len, MAIL_CONTEXT_BYTES);
		if (!(*ret = strndup(b.data, n)))
			r = CA_ENOMEM;
	}
	ca_buf_done(&b);
	return r;
}

/* The reply of a mail row (ref: "GROUP/FILE" under MAIL_DIR) as the
 * follow-up agent reads an e-mail reply (fu_read_reply): the text without
 * quoted history and signature (the body when that is empty), the headers
 * of ca_reply_mail_headers, set on the row as its "headers", but for the
 * list's Precedence mark (list_mark below); the context
 * is the message it quotes (quoted_once). A missing or unreadable file is
 * *ret_why (the row is listed as missing), never an error. */
static int mail_reply(const char *dir, json_t *row, char **ret_text, char **ret_context, const char **ret_why,
		      ca_err *err)
{
	*ret_text = *ret_context = NULL;
	const char *ref = ca_json_str(row, "ref");
	if (!mail_ref_ok(ref)) {
		*ret_why = "ref is not GROUP/FILE";
		return 0;
	}
	char path[4096], *raw = NULL;
	size_t len;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", dir, MAIL_DIR, ref) >= sizeof(path))
		return ca_err_set(err, CA_EINVAL, dir, "data folder path too long");
	ca_err e2 = { 0 };
	if (ca_file_read(path, MAX_MAIL_BYTES, &raw, &len, &e2) < 0) {
		*ret_why = "no such message";
		return 0;
	}
	ca_email m;
	int r = ca_email_parse(raw, len, MAX_MAIL_BYTES, &m, &e2);
	free(raw);
	if (r < 0) {
		*ret_why = "not a message";
		return r == CA_ENOMEM ? ca_err_set(err, r, path, "out of memory") : 0;
	}
	/* The set's mail is list mail, which Mailman marks "Precedence: bulk":
	 * read as if sent to the support address directly, that mark is not
	 * given to the reader (every row would read automatic by it); any
	 * other sign of automatic mail is. */
	bool list_mark = m.via_list && m.auto_reason && strncmp(m.auto_reason, "Precedence", 10) == 0;
	const char *text = !ca_str_empty(m.reply_text) ? m.reply_text : m.text;
	json_t *h = ca_reply_mail_headers(m.subject, m.auto_kind != CA_AUTO_NONE && !list_mark);
	if (!h || json_object_set_new(row, "headers", h) < 0 || !(*ret_text = strdup(text ? text : "")) ||
	    quoted_once(m.text, ret_context) < 0) {
		free(*ret_text);
		*ret_text = NULL;
		r = ca_err_set(err, CA_ENOMEM, path, "out of memory");
	}
	ca_email_done(&m);
	return r;
}

typedef struct tally {
	size_t confusion[CA_REPLY_N][CA_REPLY_N]; /* [gold][predicted] */
	size_t guessed[CA_REPLY_N][CA_REPLY_N];   /* [gold][best guess], the floors aside */
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
	t->guessed[gold][rd->guess]++;
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

/* Macro-F1 of a confusion matrix ([gold][read]) over the intents it holds;
 * resolved's precision and (ret_resolved_recall, if not NULL) recall. */
static double macro_f1_of(const size_t confusion[CA_REPLY_N][CA_REPLY_N], double *ret_resolved_precision,
			  double *ret_resolved_recall)
{
	double sum = 0;
	size_t present = 0;
	for (int g = 0; g < CA_REPLY_N; g++) {
		size_t tp = confusion[g][g], support = 0, predicted = 0;
		for (int p = 0; p < CA_REPLY_N; p++) {
			support += confusion[g][p];
			predicted += confusion[p][g];
		}
		double pr = ratio(tp, predicted), rc = ratio(tp, support);
		if (g == CA_REPLY_RESOLVED) {
			*ret_resolved_precision = pr;
			if (ret_resolved_recall)
				*ret_resolved_recall = rc;
		}
		if (support) {
			present++;
			sum += pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
		}
	}
	return present ? sum / (double)present : 0;
}

/* {label: {reading: N}} of a confusion matrix, every intent in both. */
static json_t *confusion_json(const size_t m[CA_REPLY_N][CA_REPLY_N])
{
	json_t *conf = json_object();
	for (int g = 0; g < CA_REPLY_N && conf; g++) {
		json_t *row = json_object();
		for (int p = 0; p < CA_REPLY_N && row; p++)
			if (json_object_set_new(row, ca_reply_intent_name((ca_reply_intent)p), json_integer((json_int_t)m[g][p])) < 0) {
				json_decref(row);
				row = NULL;
			}
		if (!row || json_object_set_new(conf, ca_reply_intent_name((ca_reply_intent)g), row) < 0) {
			json_decref(conf);
			conf = NULL;
		}
	}
	return conf;
}

static json_t *figures(const tally *t, size_t n)
{
	json_t *per = json_object(), *conf = confusion_json(t->confusion);
	size_t right = 0;
	for (int g = 0; g < CA_REPLY_N; g++) {
		size_t tp = t->confusion[g][g], support = 0, predicted = 0;
		for (int p = 0; p < CA_REPLY_N; p++) {
			support += t->confusion[g][p];
			predicted += t->confusion[p][g];
		}
		double pr = ratio(tp, predicted), rc = ratio(tp, support), f1 = pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
		right += tp;
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
	double rp = 0, macro = macro_f1_of(t->confusion, &rp, NULL);
	double gp = 0, gr = 0, gm = macro_f1_of(t->guessed, &gp, &gr);
	json_t *guess = json_pack("{s:f,s:f,s:f,s:o?}", "macro_f1", gm, "resolved_precision", gp, "resolved_recall", gr,
				  "confusion", confusion_json(t->guessed));
	return json_pack("{s:f,s:f,s:o,s:o,s:{s:f,s:f,s:f,s:o},s:o}", "macro_f1", macro,
			 "accuracy", ratio(right, n), "per_intent", per, "confusion", conf, "calibration", "ece", ece,
			 "log_loss", n ? t->nll[6] / (double)n : 0.0, "best_temperature_scale", temp_scale[best], "bins",
			 bins, "best_guess", guess);
}

/* One labelled reply with its text. */
typedef struct reply_row {
	size_t line;
	json_t *row;        /* the label's line, owned */
	const char *source; /* borrowed from row */
	ca_reply_intent gold;
	const char *text, *context; /* borrowed from row or the sources; context may be NULL */
	char *own_text, *own_context; /* tweets read as replies (heap) */
} reply_row;

typedef struct reply_rows {
	reply_row *v;
	size_t n, cap;
	sources s;
	json_t *missing; /* rows whose turn was not found */
} reply_rows;

static void rows_done(reply_rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		json_decref(rs->v[i].row);
		free(rs->v[i].own_text);
		free(rs->v[i].own_context);
	}
	free(rs->v);
	json_decref(rs->missing);
	json_decref(rs->s.tweetsumm);
	json_decref(rs->s.twitter_care);
	json_decref(rs->s.abcd);
	memset(rs, 0, sizeof(*rs));
}

static bool known_part(const char *p)
{
	return ca_streq(p, "train") || ca_streq(p, "test") || ca_streq(p, "test2") || ca_streq(p, "test3") ||
	       ca_streq(p, "test4") || ca_streq(p, "test5") || ca_streq(p, "mail");
}

/* The rows of `part` ("all": every row) with their texts. */
static int load_rows(const char *labels_path, const char *data_dir, const char *part, reply_rows *rs, ca_err *err)
{
	memset(rs, 0, sizeof(*rs));
	rs->s.dir = data_dir ? data_dir : "../shared/data";
	char *data = NULL, *cursor, *p;
	size_t len, line = 0;
	int r = ca_file_read(labels_path, MAX_LABEL_BYTES, &data, &len, err);
	if (r < 0)
		return r;
	if (!(rs->missing = json_array())) {
		r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		goto done;
	}
	cursor = data;
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
		if (gold == CA_REPLY_N || !src || !known_part(rp)) {
			json_decref(row);
			r = ca_err_set(err, CA_EINVAL, labels_path, "line %zu: needs a source, an intent and a part", line);
			goto done;
		}
		if (strcmp(part, "all") && strcmp(part, rp)) {
			json_decref(row);
			continue;
		}
		reply_row x = { line, row, src, gold, NULL, NULL, NULL, NULL };
		const char *why = NULL;
		if (ca_streq(src, "own")) {
			x.text = ca_json_str(row, "text");
			x.context = ca_json_str(row, "context");
			why = x.text ? NULL : "no text";
		} else if (ca_streq(src, "spamassassin")) {
			r = mail_reply(rs->s.dir, row, &x.own_text, &x.own_context, &why, err);
			x.text = x.own_text;
			x.context = x.own_context;
		} else if ((x.text = pointed_text(&rs->s, row, &x.context, &why, err, &r)) != NULL) {
			x.text = x.own_text = tweet_reply(x.text);
			x.context = x.context ? (x.own_context = tweet_reply(x.context)) : NULL;
			if (!x.own_text || (x.context && !x.own_context))
				r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		}
		if (r == 0 && !x.text &&
		    json_array_append_new(rs->missing, json_pack("{s:I,s:s,s:O,s:s}", "line", (json_int_t)line, "source",
								 src, "ref", json_object_get(row, "ref"), "reason",
								 why ? why : "?")) < 0)
			r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		if (r == 0 && x.text && rs->n == rs->cap) {
			size_t cap = rs->cap ? rs->cap * 2 : 256;
			reply_row *v = realloc(rs->v, cap * sizeof(*v));
			if (v) {
				rs->v = v;
				rs->cap = cap;
			} else
				r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		}
		if (r < 0 || !x.text) {
			free(x.own_text);
			free(x.own_context);
			json_decref(row);
			if (r < 0)
				goto done;
			continue;
		}
		rs->v[rs->n++] = x;
	}
	r = 0;
done:
	free(data);
	if (r < 0)
		rows_done(rs);
	return r;
}

static int check_part(const char *part, ca_err *err)
{
	if (!known_part(part) && !ca_streq(part, "all"))
		return ca_err_set(err, CA_EINVAL, "part", "part is train, test, test2, test3, test4, test5, mail or all, not '%s'", part);
	return 0;
}

int ca_eval_replies(ca_agent *a, const char *labels_path, const char *data_dir, const char *part, char **ret_json,
		    ca_err *err)
{
	(void)a; /* the reading is pure: no store, no settings */
	if (!part)
		part = "all";
	int r = check_part(part, err);
	if (r < 0)
		return r;
	if (!labels_path)
		return ca_err_set(err, CA_EINVAL, "labels", "no labelled set");
	reply_rows rs;
	if ((r = load_rows(labels_path, data_dir, part, &rs, err)) < 0)
		return r;
	tally *t = calloc(1, sizeof(*t));
	json_t *misread = json_array(), *by_source = json_object(), *res = NULL;
	if (!t || !misread || !by_source) {
		r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < rs.n; i++) {
		const reply_row *x = &rs.v[i];
		ca_reply_reading rd;
		ca_err rerr = { 0 };
		r = ca_reply_read_ctx(x->text, x->context, json_object_get(x->row, "headers"), &rd, &rerr);
		if (r < 0) {
			ca_err_set(err, r, labels_path, "line %zu: %s", x->line, rerr.message);
			goto done;
		}
		count(t, x->gold, &rd);
		json_t *c = json_object_get(by_source, x->source);
		json_object_set_new(by_source, x->source, json_integer(json_integer_value(c) + 1));
		if (rd.intent != x->gold && json_array_size(misread) < MAX_LISTED) {
			const json_t *ev = json_array_get(rd.evidence, 0);
			size_t tl = strlen(x->text);
			json_array_append_new(misread, json_pack("{s:I,s:s,s:s,s:s,s:f,s:s%,s:O?}", "line", (json_int_t)x->line,
								 "source", x->source, "intent", ca_reply_intent_name(x->gold),
								 "read", ca_reply_intent_name(rd.intent), "confidence",
								 rd.confidence, "text", x->text, ca_utf8_cut(x->text, tl, 160),
								 "cue", json_object_get(ev, "cue")));
		}
		ca_reply_reading_clear(&rd);
	}
	res = figures(t, rs.n);
	if (!res || json_object_set_new(res, "part", json_string(part)) < 0 ||
	    json_object_set_new(res, "n", json_integer((json_int_t)rs.n)) < 0 ||
	    json_object_set_new(res, "labels", json_string(labels_path)) < 0 ||
	    json_object_set_new(res, "sources", json_incref(by_source)) < 0 ||
	    json_object_set_new(res, "missing", json_incref(rs.missing)) < 0 ||
	    json_object_set_new(res, "misread", json_incref(misread)) < 0 ||
	    !(*ret_json = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)))) {
		r = ca_err_set(err, CA_ENOMEM, labels_path, "out of memory");
		goto done;
	}
	r = 0;
done:
	json_decref(res);
	free(t);
	json_decref(misread);
	json_decref(by_source);
	rows_done(&rs);
	return r;
}

/* ---- fitting the learned layer (docs/replies.md "The model") ---- */

#define FIT_FOLDS 5
#define FIT_ITERATIONS 3000
#define FIT_RATE 1.0
#define FIT_MIN_COUNT 2      /* a feature seen in fewer train replies is left out */
#define FIT_DEFAULT_L2 0.005 /* per reply: the penalty is l2/2 * |W|^2 beside the mean log loss */

typedef struct fit_set {
	size_t n, nf;
	int *start;           /* row i's features are feat[start[i] .. start[i + 1]) */
	int *feat;
	ca_reply_intent *gold;
	int *fold;
	char **names;         /* nf, owned */
	double *prior;        /* nf x CA_REPLY_N: the weights the fit is drawn to */
} fit_set;

static void fit_set_done(fit_set *fs)
{
	for (size_t i = 0; i < fs->nf; i++)
		free(fs->names[i]);
	free(fs->names);
	free(fs->prior);
	free(fs->start);
	free(fs->feat);
	free(fs->gold);
	free(fs->fold);
}

/* The fold of a row: by conversation, so that one conversation's replies
 * are never both trained and scored on. */
static int fold_of(const json_t *row)
{
	const char *ref = ca_json_str(row, "ref");
	unsigned h = 2166136261u;
	for (const char *p = ref ? ref : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (int)(h % FIT_FOLDS);
}

static int build_set(const reply_rows *rs, fit_set *fs, ca_err *err)
{
	memset(fs, 0, sizeof(*fs));
	json_t *count = json_object(), *index = json_object();
	ca_reply_features *all = calloc(rs->n ? rs->n : 1, sizeof(*all));
	int r = count && index && all ? 0 : CA_ENOMEM;
	size_t total = 0;
	for (size_t i = 0; r == 0 && i < rs->n; i++) {
		const reply_row *x = &rs->v[i];
		if ((r = ca_reply_features_read(x->text, x->context, json_object_get(x->row, "headers"), &all[i], err)) < 0)
			break;
		for (size_t k = 0; k < all[i].n; k++) {
			const char *nm = all[i].v[k].name;
			json_object_set_new(count, nm, json_integer(json_integer_value(json_object_get(count, nm)) + 1));
		}
		total += all[i].n;
	}
	fs->n = rs->n;
	fs->start = calloc(rs->n + 1, sizeof(int));
	fs->feat = calloc(total ? total : 1, sizeof(int));
	fs->gold = calloc(rs->n ? rs->n : 1, sizeof(*fs->gold));
	fs->fold = calloc(rs->n ? rs->n : 1, sizeof(int));
	fs->names = calloc(json_object_size(count) + 1, sizeof(char *));
	fs->prior = calloc((json_object_size(count) + 1) * CA_REPLY_N, sizeof(double));
	if (r == 0 && (!fs->start || !fs->feat || !fs->gold || !fs->fold || !fs->names || !fs->prior))
		r = CA_ENOMEM;
	size_t at = 0;
	for (size_t i = 0; r == 0 && i < rs->n; i++) {
		fs->start[i] = (int)at;
		fs->gold[i] = rs->v[i].gold;
		fs->fold[i] = fold_of(rs->v[i].row);
		for (size_t k = 0; r == 0 && k < all[i].n; k++) {
			const char *nm = all[i].v[k].name;
			bool word = strncmp(nm, "w:", 2) == 0 || strncmp(nm, "b:", 2) == 0;
			if (word && json_integer_value(json_object_get(count, nm)) < FIT_MIN_COUNT)
				continue;
			json_t *ix = json_object_get(index, nm);
			if (!ix) {
				if (!(fs->names[fs->nf] = strdup(nm)) ||
				    json_object_set_new(index, nm, json_integer((json_int_t)fs->nf)) < 0) {
					r = CA_ENOMEM;
					break;
				}
				ix = json_object_get(index, nm);
				if (all[i].v[k].intent < CA_REPLY_N)
					fs->prior[fs->nf * CA_REPLY_N + all[i].v[k].intent] = all[i].v[k].prior;
				fs->nf++;
			}
			fs->feat[at++] = (int)json_integer_value(ix);
		}
	}
	if (r == 0)
		fs->start[rs->n] = (int)at;
	for (size_t i = 0; i < rs->n && all; i++)
		ca_reply_features_done(&all[i]);
	free(all);
	json_decref(count);
	json_decref(index);
	if (r == CA_ENOMEM)
		ca_err_set(err, r, "fit", "out of memory");
	return r;
}

static void logits_of(const fit_set *fs, const double *w, size_t i, double logit[CA_REPLY_N])
{
	for (int k = 0; k < CA_REPLY_N; k++)
		logit[k] = 0;
	for (int j = fs->start[i]; j < fs->start[i + 1]; j++)
		for (int k = 0; k < CA_REPLY_N; k++)
			logit[k] += w[(size_t)fs->feat[j] * CA_REPLY_N + k];
}

/* The reader's own softmax (ca_reply_decide), for the fit. */
static void softmax(const double logit[CA_REPLY_N], double temperature, double p[CA_REPLY_N])
{
	ca_reply_reading rd = { 0 };
	ca_reply_decide(logit, temperature, &rd);
	memcpy(p, rd.scores, sizeof(rd.scores));
}

/*
 * Multinomial logistic regression by full-batch gradient descent from the
 * cue tables' prior and with an L2 penalty towards it (a Gaussian prior
 * centred on what the tables say, so a cue seen in few replies keeps its
 * intent and the data moves the weights where it shows otherwise), rows
 * whose fold is `skip` left out (-1: none), each intent weighted by the
 * inverse of its share so that the rare intents count as much as the
 * common ones. Deterministic: the same set gives the same weights.
 */
static int train(const fit_set *fs, int skip, double l2, double *w)
{
	size_t nw = fs->nf * CA_REPLY_N, n = 0, per[CA_REPLY_N] = { 0 };
	double *g = calloc(nw ? nw : 1, sizeof(double)), cw[CA_REPLY_N];
	if (!g)
		return CA_ENOMEM;
	memcpy(w, fs->prior, nw * sizeof(double));
	for (size_t i = 0; i < fs->n; i++)
		if (fs->fold[i] != skip) {
			per[fs->gold[i]]++;
			n++;
		}
	size_t present = 0;
	for (int k = 0; k < CA_REPLY_N; k++)
		present += per[k] > 0;
	for (int k = 0; k < CA_REPLY_N; k++)
		cw[k] = per[k] ? (double)n / ((double)present * (double)per[k]) : 0;
	for (int it = 0; it < FIT_ITERATIONS && n; it++) {
		memset(g, 0, nw * sizeof(double));
		for (size_t i = 0; i < fs->n; i++) {
			if (fs->fold[i] == skip)
				continue;
			double logit[CA_REPLY_N], p[CA_REPLY_N];
			logits_of(fs, w, i, logit);
			softmax(logit, 1.0, p);
			for (int k = 0; k < CA_REPLY_N; k++)
				p[k] = cw[fs->gold[i]] * (p[k] - (k == (int)fs->gold[i]));
			for (int j = fs->start[i]; j < fs->start[i + 1]; j++)
				for (int k = 0; k < CA_REPLY_N; k++)
					g[(size_t)fs->feat[j] * CA_REPLY_N + k] += p[k];
		}
		for (size_t f = 0; f < fs->nf; f++)
			for (int k = 0; k < CA_REPLY_N; k++) {
				size_t x = f * CA_REPLY_N + k;
				bool bias = strcmp(fs->names[f], "bias") == 0;
				w[x] -= FIT_RATE * (g[x] / (double)n + (bias ? 0 : l2 * (w[x] - fs->prior[x])));
			}
	}
	free(g);
	return 0;
}

/* The floors below which a reading is unclear are chosen on the
 * out-of-fold readings of the train part: the ones with the best macro-F1
 * whose resolved precision is at least FLOOR_RESOLVED_PRECISION (the
 * issue's 0.95), ties to the higher resolved floor; when none reaches it,
 * the ones with the surest resolved. Automatic keeps its floor: its header
 * features decide. */
#define FLOOR_RESOLVED_PRECISION 0.95
#define FLOOR_AUTOMATIC 0.50

static void choose_floors(const fit_set *fs, const double *oof, double temperature, double floors[CA_REPLY_N])
{
	double best = -1, f[CA_REPLY_N] = { 0 }, surest = -1, surest_m = -1, fallback[CA_REPLY_N];
	f[CA_REPLY_AUTOMATIC] = FLOOR_AUTOMATIC;
	for (int r = 19; r >= 6; r--)
		for (int s = 0; s <= 12; s++)
			for (int q = 0; q <= 12; q++) {
				size_t confusion[CA_REPLY_N][CA_REPLY_N] = { { 0 } };
				f[CA_REPLY_RESOLVED] = r * 0.05;
				f[CA_REPLY_STILL_PROBLEM] = s * 0.05;
				f[CA_REPLY_QUESTION_OR_INFO] = q * 0.05;
				for (size_t i = 0; i < fs->n; i++) {
					ca_reply_reading rd = { 0 };
					ca_reply_decide_floors(&oof[i * CA_REPLY_N], temperature, f, &rd);
					confusion[fs->gold[i]][rd.intent]++;
				}
				double prec, m = macro_f1_of(confusion, &prec, NULL);
				if (prec >= FLOOR_RESOLVED_PRECISION && m > best + 1e-9) {
					best = m;
					memcpy(floors, f, sizeof(f));
				}
				if (prec > surest + 1e-9 || (prec > surest - 1e-9 && m > surest_m + 1e-9)) {
					surest = prec;
					surest_m = m;
					memcpy(fallback, f, sizeof(f));
				}
			}
	if (best < 0) /* no floors reach it: the surest resolved there is */
		memcpy(floors, fallback, sizeof(f));
}

static const double fit_temperatures[] = { 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0 };

static int cmp_name(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* A feature name as a C string literal's content. */
static void put_c_string(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\' || c == '?')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
}

static int write_model(const char *out_path, const fit_set *fs, const double *w, double temperature,
		       const double floors[CA_REPLY_N], double l2, size_t *ret_kept, ca_err *err)
{
	char ***order = calloc(fs->nf ? fs->nf : 1, sizeof(*order));
	size_t kept = 0;
	if (!order)
		return ca_err_set(err, CA_ENOMEM, out_path, "out of memory");
	for (size_t f = 0; f < fs->nf; f++) {
		double mx = 0;
		for (int k = 0; k < CA_REPLY_N; k++)
			mx = fabs(w[f * CA_REPLY_N + k]) > mx ? fabs(w[f * CA_REPLY_N + k]) : mx;
		if (mx >= 5e-4)
			order[kept++] = &fs->names[f];
	}
	qsort(order, kept, sizeof(order[0]), cmp_name);
	FILE *f = fopen(out_path, "w");
	if (!f) {
		free(order);
		return ca_err_set(err, CA_EIO, out_path, "cannot write the model");
	}
	fprintf(f, "/* SPDX-License-Identifier: MIT */\n"
		   "/*\n"
		   " * The reply reader's learned layer (docs/replies.md \"The model\"): per\n"
		   " * feature one weight per intent (resolved, still_problem, question_or_info,\n"
		   " * unclear, automatic). GENERATED from the train part of\n"
		   " * tests/data/followup/replies.jsonl (%zu replies, l2 %g, %d iterations,\n"
		   " * features seen in at least %d replies) by\n"
		   " *     caseagent eval replies --fit src/followup/reply_model.c\n"
		   " * Do not edit by hand.\n"
		   " */\n"
		   "#include \"followup.h\"\n\n"
		   "const ca_reply_weight ca_reply_model[] = {\n",
		fs->n, l2, FIT_ITERATIONS, FIT_MIN_COUNT);
	for (size_t i = 0; i < kept; i++) {
		size_t x = (size_t)(order[i] - fs->names);
		fputs("\t{ \"", f);
		put_c_string(f, *order[i]);
		fputs("\", {", f);
		for (int k = 0; k < CA_REPLY_N; k++)
			fprintf(f, " %.4ff%s", w[x * CA_REPLY_N + k], k + 1 < CA_REPLY_N ? "," : " } },\n");
	}
	fprintf(f, "};\n"
		   "const size_t ca_reply_model_n = sizeof(ca_reply_model) / sizeof(ca_reply_model[0]);\n"
		   "const double ca_reply_model_temperature = %.2f;\n"
		   "const double ca_reply_model_floor[CA_REPLY_N] = { %.2f, %.2f, %.2f, %.2f, %.2f };\n",
		temperature, floors[0], floors[1], floors[2], floors[3], floors[4]);
	free(order);
	if (fclose(f) != 0)
		return ca_err_set(err, CA_EIO, out_path, "cannot write the model");
	*ret_kept = kept;
	return 0;
}

int ca_eval_replies_fit(ca_agent *a, const char *labels_path, const char *data_dir, const char *out_path, double l2,
			char **ret_json, ca_err *err)
{
	(void)a;
	if (!labels_path || !out_path)
		return ca_err_set(err, CA_EINVAL, "fit", "needs the labelled set and the output file");
	if (!(l2 > 0))
		l2 = FIT_DEFAULT_L2;
	reply_rows rs;
	fit_set fs;
	int r = load_rows(labels_path, data_dir, "train", &rs, err);
	if (r < 0)
		return r;
	if ((r = build_set(&rs, &fs, err)) < 0) {
		rows_done(&rs);
		return r;
	}
	size_t nw = fs.nf * CA_REPLY_N, kept = 0;
	double *w = calloc(nw ? nw : 1, sizeof(double));
	double *oof = calloc(fs.n ? fs.n * CA_REPLY_N : 1, sizeof(double));
	tally *t = calloc(1, sizeof(*t));
	json_t *res = NULL, *misread = json_array();
	if (!w || !oof || !t || !misread) {
		r = ca_err_set(err, CA_ENOMEM, "fit", "out of memory");
		goto done;
	}
	/* Cross-validation on the train part: out-of-fold logits, the
	 * temperature that fits them best, and the figures they give. */
	for (int fold = 0; fold < FIT_FOLDS; fold++) {
		if ((r = train(&fs, fold, l2, w)) < 0)
			goto oom;
		for (size_t i = 0; i < fs.n; i++)
			if (fs.fold[i] == fold)
				logits_of(&fs, w, i, &oof[i * CA_REPLY_N]);
	}
	size_t best = 0;
	double best_nll = INFINITY;
	for (size_t k = 0; k < CA_ARRAY_SIZE(fit_temperatures); k++) {
		double nll = 0, p[CA_REPLY_N];
		for (size_t i = 0; i < fs.n; i++) {
			softmax(&oof[i * CA_REPLY_N], fit_temperatures[k], p);
			nll -= log(p[fs.gold[i]] > 1e-12 ? p[fs.gold[i]] : 1e-12);
		}
		if (nll < best_nll) {
			best_nll = nll;
			best = k;
		}
	}
	double temperature = fit_temperatures[best], floors[CA_REPLY_N];
	choose_floors(&fs, oof, temperature, floors);
	for (size_t i = 0; i < fs.n; i++) {
		ca_reply_reading rd = { 0 };
		ca_reply_decide_floors(&oof[i * CA_REPLY_N], temperature, floors, &rd);
		count(t, fs.gold[i], &rd);
		const reply_row *x = &rs.v[i];
		size_t tl = strlen(x->text);
		if (rd.intent != fs.gold[i] && json_array_size(misread) < MAX_LISTED &&
		    json_array_append_new(misread, json_pack("{s:I,s:s,s:s,s:s,s:f,s:s%}", "line", (json_int_t)x->line,
							     "source", x->source, "intent", ca_reply_intent_name(x->gold),
							     "read", ca_reply_intent_name(rd.intent), "confidence",
							     rd.confidence, "text", x->text,
							     ca_utf8_cut(x->text, tl, 160))) < 0)
			goto oom;
	}
	if ((r = train(&fs, -1, l2, w)) < 0)
		goto oom;
	if ((r = write_model(out_path, &fs, w, temperature, floors, l2, &kept, err)) < 0)
		goto done;
	res = figures(t, fs.n);
	if (!res || json_object_set_new(res, "part", json_string("train, cross-validated")) < 0 ||
	    json_object_set_new(res, "n", json_integer((json_int_t)fs.n)) < 0 ||
	    json_object_set_new(res, "labels", json_string(labels_path)) < 0 ||
	    json_object_set_new(res, "model", json_string(out_path)) < 0 ||
	    json_object_set_new(res, "features", json_integer((json_int_t)kept)) < 0 ||
	    json_object_set_new(res, "temperature", json_real(temperature)) < 0 ||
	    json_object_set_new(res, "l2", json_real(l2)) < 0 ||
	    json_object_set_new(res, "floors", json_pack("{s:f,s:f,s:f,s:f,s:f}", "resolved", floors[0], "still_problem",
							 floors[1], "question_or_info", floors[2], "unclear", floors[3],
							 "automatic", floors[4])) < 0 ||
	    json_object_set_new(res, "missing", json_incref(rs.missing)) < 0 ||
	    json_object_set_new(res, "misread", json_incref(misread)) < 0 ||
	    !(*ret_json = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))))
		goto oom;
	r = 0;
	goto done;
oom:
	r = ca_err_set(err, CA_ENOMEM, "fit", "out of memory");
done:
	json_decref(res);
	json_decref(misread);
	free(w);
	free(oof);
	free(t);
	fit_set_done(&fs);
	rows_done(&rs);
	return r;
}
