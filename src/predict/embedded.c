/* SPDX-License-Identifier: MIT */
/*
 * The embedded predictor: no model download, every value explainable. It
 * dispatches on field type (ARCHITECTURE §4): lookups to the entity linkers,
 * option sets to the classifiers, and here the extractors for text (the
 * customer sentences that state the problem), pattern strings (the admin's
 * PCRE2 pattern, the match nearest a cue word winning), numbers, dates and
 * booleans (typed parsers over cue-anchored spans).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ---- analysis cache ---- */

void ca_analysis_init(ca_analysis *a)
{
	memset(a, 0, sizeof(*a));
}

uint32_t ca_hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void ca_analysis_done(ca_analysis *a)
{
	for (size_t i = 0; i < a->n; i++) {
		ca_tokens_done(&a->info[i].tokens);
		free(a->info[i].sentences);
		free(a->info[i].stem_hash);
		free(a->info[i].flags);
	}
	free(a->info);
	for (size_t i = 0; i < a->n_slots; i++)
		a->slots[i].free_state(a->slots[i].state);
	free(a->slots);
	ca_analysis_init(a);
}

void *ca_analysis_state(const ca_analysis *a, const void *owner)
{
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].owner == owner)
			return a->slots[i].state;
	return NULL;
}

int ca_analysis_set_state(ca_analysis *a, const void *owner, void *state, void (*free_state)(void *))
{
	ca_analysis_slot *v = realloc(a->slots, (a->n_slots + 1) * sizeof(*v));
	if (!v) {
		free_state(state);
		return CA_ENOMEM;
	}
	a->slots = v;
	a->slots[a->n_slots++] = (ca_analysis_slot){ owner, state, free_state };
	return 0;
}

int ca_analysis_sync(ca_analysis *a, const ca_msg *msgs, size_t n, ca_stemmer *st)
{
	if (n > a->cap) {
		size_t cap = a->cap ? a->cap : 16;
		while (cap < n)
			cap *= 2;
		ca_msg_info *v = realloc(a->info, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		a->info = v;
		a->cap = cap;
	}
	while (a->n < n) {
		ca_msg_info *mi = &a->info[a->n];
		memset(mi, 0, sizeof(*mi));
		const ca_msg *m = &msgs[a->n];
		int r = ca_tokenize(m->text, m->len, 0, st, &mi->tokens);
		if (!r)
			r = ca_sentences(m->text, m->len, &mi->sentences, &mi->n_sentences);
		size_t nt = mi->tokens.n ? mi->tokens.n : 1;
		if (!r && (!(mi->stem_hash = malloc(nt * sizeof(uint32_t))) || !(mi->flags = calloc(nt, 1))))
			r = CA_ENOMEM;
		if (r) {
			ca_tokens_done(&mi->tokens);
			free(mi->sentences);
			free(mi->stem_hash);
			return r;
		}
		for (size_t i = 0; i < mi->tokens.n; i++) {
			const ca_token *tok = &mi->tokens.v[i];
			mi->stem_hash[i] = ca_hash_str(tok->stem);
			if (tok->kind == CA_TOK_WORD) {
				if (ca_stopword(tok->norm) || !tok->norm[0] || !tok->norm[1])
					mi->flags[i] |= CA_TF_STOP;
				if (ca_filler_word(tok->norm))
					mi->flags[i] |= CA_TF_FILLER;
			}
		}
		a->n++;
	}
	return 0;
}

/* ---- cue phrases ---- */

/* Length in tokens of the longest phrase starting at token i, or 0. */
static size_t phrase_at(const ca_phrases *p, const ca_msg_info *mi, size_t i)
{
	size_t best = 0, lo, hi;
	ca_phrases_starting(p, mi->stem_hash[i], &lo, &hi);
	for (size_t q = lo; q < hi; q++) {
		const ca_phrase *ph = &p->v[p->order[q]];
		if (ph->n > best && ca_phrase_matches(ph, mi, i))
			best = ph->n;
	}
	return best;
}

/* Byte offset just past the last cue in the message ending at or before
 * `limit`, or -1 when there is none. */
static long last_cue_before(const ca_phrases *p, const ca_msg_info *mi, uint32_t limit)
{
	const ca_tokens *t = &mi->tokens;
	long end = -1;
	for (size_t i = 0; i < t->n && t->v[i].begin < limit; i++) {
		size_t k = phrase_at(p, mi, i);
		if (k && t->v[i + k - 1].end <= limit)
			end = (long)t->v[i + k - 1].end;
	}
	return end;
}

static bool has_cue(const ca_phrases *p, const ca_msg_info *mi)
{
	for (size_t i = 0; i < mi->tokens.n; i++)
		if (phrase_at(p, mi, i))
			return true;
	return false;
}

/* ---- the predictor ---- */

typedef struct embedded {
	ca_predictor base; /* first member: the interface */
	ca_stemmer *st;
	ca_linker *linkers[CA_ENT_SUBJECT + 1];
	const ca_field_def *fields;
	size_t n_fields;
	ca_classifier **classifiers; /* per field, option sets only */
	ca_phrases *cues;            /* per field */
	ca_phrases problem;          /* problem-statement cues for text fields */
} embedded;

/* Words with which customers state a problem or a request. */
static const char *const problem_cues[] = {
	"need", "want", "help", "problem", "issue", "wrong", "broken", "damaged", "not", "can't",
	"cannot", "unable", "error", "missing", "charged", "charge", "return", "refund", "cancel",
	"change", "delivered", "received", "receive", "arrive", "arrived", "question", "wondering",
	"know", "how", "when", "why", "where", "trying", "work", "working", "login", "log in",
	"password", "stain", "size", "color", "fee", "bill", "price", "order", "shipping", "account",
	"would like", "i'd like", "doesn't", "didn't", "won't", "isn't", "still", "late", "expired",
	"promo code", "subscription", "membership", "upgrade", "slow", "cart", "address", "update",
	"forgot", "lost", "locked", "stuck", "failed", "fails", "declined", "rejected", "stopped",
	"delayed", "defective", "faulty", "username", "reset", "cost", "expire",
};

static void embedded_free(ca_predictor *p)
{
	embedded *e = (embedded *)p;
	if (!e)
		return;
	for (size_t i = 0; i < CA_ARRAY_SIZE(e->linkers); i++)
		ca_linker_unref(e->linkers[i]);
	for (size_t i = 0; i < e->n_fields; i++) {
		if (e->classifiers)
			ca_classifier_free(e->classifiers[i]);
		if (e->cues)
			ca_phrases_done(&e->cues[i]);
	}
	free(e->classifiers);
	free(e->cues);
	ca_phrases_done(&e->problem);
	ca_stemmer_free(e->st);
	free(e);
}

/* ---- text: the customer's own statement of the problem ---- */

typedef struct scored {
	size_t msg;
	ca_span span;
	double score;
} scored;

static int cmp_scored(const void *a, const void *b)
{
	const scored *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->msg != y->msg)
		return x->msg < y->msg ? -1 : 1;
	return x->span.begin < y->span.begin ? -1 : 1;
}

static int cmp_position(const void *a, const void *b)
{
	const scored *x = a, *y = b;
	if (x->msg != y->msg)
		return x->msg < y->msg ? -1 : 1;
	return x->span.begin < y->span.begin ? -1 : (x->span.begin > y->span.begin);
}

/* Bytes of a greeting that opens a sentence ("Hi there, ", "Hello team! ",
 * "Good morning Anna, ", "Dear support team, "), or 0: a greeting, at most
 * two more words closed by punctuation, then the rest of the sentence. */
static size_t greeting_len(const char *s, size_t len)
{
	static const char *const greetings[] = { "good afternoon", "good evening", "good morning", "greetings", "hello",
						 "hey", "hi", "hiya", "howdy", "dear" };
	size_t i = 0;
	for (size_t g = 0; g < CA_ARRAY_SIZE(greetings) && !i; g++) {
		size_t gl = strlen(greetings[g]);
		if (gl < len && strncasecmp(s, greetings[g], gl) == 0 && !((unsigned char)s[gl] < 0x80 && isalpha((unsigned char)s[gl])))
			i = gl;
	}
	if (!i)
		return 0;
	/* one or two more words ("there", "Anna", "support team"), when
	 * punctuation closes the greeting after them */
	size_t w = i;
	for (int k = 0; k < 2; k++) {
		size_t j = w;
		while (j < len && s[j] == ' ')
			j++;
		w = j;
		while (w < len && ((unsigned char)s[w] >= 0x80 || isalpha((unsigned char)s[w])))
			w++;
		if (w == j)
			break;
		if (w < len && strchr(",!:;", s[w])) {
			i = w;
			break;
		}
	}
	bool punct = false;
	while (i < len && strchr(",!.:;- ", s[i])) {
		punct |= s[i] != ' ';
		i++;
	}
	/* "Hi my earbuds..." drops the "Hi"; "Hello world" is not a greeting
	 * unless punctuation or a lower-case word follows. */
	if (i >= len || (!punct && !((unsigned char)s[i] < 0x80 && islower((unsigned char)s[i]))))
		return 0;
	return i;
}

/* The customer's sentences scored so far in one conversation. */
typedef struct text_state {
	size_t upto, turn;
	scored *c;
	size_t n, cap;
} text_state;

static void text_state_free(void *p)
{
	text_state *st = p;
	if (st)
		free(st->c);
	free(st);
}

/* Score the sentences of customer messages [st->upto, in->n_msgs). */
static int text_consume(const embedded *e, text_state *st, const ca_predict_input *in)
{
	for (; st->upto < in->n_msgs; st->upto++) {
		size_t mi = st->upto;
		const ca_msg *m = &in->msgs[mi];
		if (m->role != CA_ROLE_CUSTOMER)
			continue;
		const ca_msg_info *info = &in->analysis->info[mi];
		size_t ti = 0;
		for (size_t si = 0; si < info->n_sentences; si++) {
			ca_span sp = info->sentences[si];
			sp.begin += (uint32_t)greeting_len(m->text + sp.begin, sp.end - sp.begin);
			size_t words = 0, content = 0, ids = 0, cues = 0;
			while (ti < info->tokens.n && info->tokens.v[ti].begin < sp.begin)
				ti++;
			for (size_t k = ti; k < info->tokens.n && info->tokens.v[k].end <= sp.end; k++) {
				if (info->tokens.v[k].kind == CA_TOK_WORD) {
					words++;
					if (!(info->flags[k] & CA_TF_STOP))
						content++;
				} else {
					ids++;
				}
				if (phrase_at(&e->problem, info, k))
					cues++;
			}
			bool question = sp.end > sp.begin && m->text[sp.end - 1] == '?';
			/* Greetings, introductions, one-word answers and bare identifiers
			 * state nothing: a problem sentence has a problem cue or asks.
			 * An identifier counts as a word of it ("My BW-CH-0650 is
			 * broken"), not as the whole of it. */
			if (words < 3 || words + ids < 4 || content + ids < 2 || ids > words || (cues == 0 && !question))
				continue;
			double sc = 0.35 + 0.12 * (double)(cues < 4 ? cues : 4) + (content >= 4 ? 0.1 : 0) +
				    (st->turn < 2 ? 0.2 : st->turn < 5 ? 0.1 : 0);
			if (question)
				sc += 0.05;
			if (st->n == st->cap) {
				size_t cap = st->cap ? st->cap * 2 : 16;
				scored *v = realloc(st->c, cap * sizeof(*v));
				if (!v)
					return CA_ENOMEM;
				st->c = v;
				st->cap = cap;
			}
			st->c[st->n++] = (scored){ mi, sp, sc };
		}
		st->turn++;
	}
	return 0;
}

static int predict_text(const embedded *e, const ca_predict_input *in, const ca_field_def *f, ca_prediction *ret)
{
	text_state *st = ca_analysis_state(in->analysis, &e->problem);
	int r = 0;
	if (!st) {
		if (!(st = calloc(1, sizeof(*st))))
			return CA_ENOMEM;
		if ((r = ca_analysis_set_state(in->analysis, &e->problem, st, text_state_free)))
			return r;
	}
	if (st->upto > in->n_msgs)
		return CA_EINVAL; /* messages are append-only */
	if ((r = text_consume(e, st, in)))
		return r;
	if (st->n == 0)
		return CA_ENOTFOUND;
	/* A title is one sentence; a description the two best, in the order said. */
	bool title = strcmp(f->name, "title") == 0;
	size_t take = title ? 1 : (st->n < 2 ? st->n : 2);
	size_t limit = title ? 120 : 600;
	scored top[2];
	size_t nt = 0;
	for (size_t i = 0; i < st->n; i++) {
		/* keep the `take` best, best first (earlier sentences win ties) */
		if (nt < take)
			top[nt++] = st->c[i];
		else if (cmp_scored(&st->c[i], &top[nt - 1]) < 0)
			top[nt - 1] = st->c[i];
		else
			continue;
		for (size_t k = nt - 1; k > 0 && cmp_scored(&top[k], &top[k - 1]) < 0; k--) {
			scored x = top[k];
			top[k] = top[k - 1];
			top[k - 1] = x;
		}
	}
	double conf = top[0].score > 0.95 ? 0.95 : top[0].score;
	qsort(top, nt, sizeof(top[0]), cmp_position);
	ca_buf v = { 0 };
	for (size_t i = 0; i < nt && !r; i++) {
		const ca_msg *m = &in->msgs[top[i].msg];
		size_t len = top[i].span.end - top[i].span.begin;
		if (v.len && v.len + 1 + len > limit)
			break;
		if (len > limit)
			len = limit; /* a long sentence: cut at the limit, on a UTF-8 boundary */
		while (len > 0 && ((unsigned char)m->text[top[i].span.begin + len] & 0xC0) == 0x80 &&
		       top[i].span.begin + len < top[i].span.end)
			len--;
		/* Sentences said without a full stop still end one. */
		if (v.len && !strchr(".!?", v.data[v.len - 1]))
			r = ca_buf_puts(&v, ".");
		if (!r && v.len)
			r = ca_buf_puts(&v, " ");
		size_t at = v.len;
		if (!r)
			r = ca_buf_append(&v, m->text + top[i].span.begin, len);
		/* A sentence whose greeting was dropped starts in lower case. */
		if (!r && v.len > at && (unsigned char)v.data[at] < 0x80 && islower((unsigned char)v.data[at]))
			v.data[at] = (char)toupper((unsigned char)v.data[at]);
	}
	if (!r)
		r = ca_prediction_set(ret, f, v.data ? v.data : "", NULL, conf, "problem-sentences");
	for (size_t i = 0; i < nt && !r; i++)
		r = ca_prediction_add_evidence(ret, in->msgs[top[i].msg].id, top[i].span.begin, top[i].span.end);
	ca_buf_done(&v);
	return r;
}

/* ---- pattern strings: the match nearest a cue ---- */

typedef struct match {
	char *value;
	const char *msg;
	uint32_t begin, end;
	double s;
} match;

static int predict_pattern(const embedded *e, const ca_predict_input *in, const ca_field_def *f,
			   const ca_phrases *cues, ca_prediction *ret)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(f->re, NULL);
	if (!md)
		return CA_ENOMEM;
	match *ms = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	bool asked = false; /* the representative just asked for this value */
	for (size_t mi = 0; mi < in->n_msgs && !r; mi++) {
		const ca_msg *m = &in->msgs[mi];
		const ca_msg_info *info = &in->analysis->info[mi];
		if (m->role == CA_ROLE_AGENT) {
			asked = has_cue(cues, info);
			continue;
		}
		if (m->role != CA_ROLE_CUSTOMER)
			continue;
		PCRE2_SIZE off = 0;
		while (off <= m->len) {
			int rc = pcre2_match(f->re, (PCRE2_SPTR)m->text, m->len, off, 0, md, NULL);
			if (rc < 0)
				break;
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			/* The first capture group, when the pattern has one, is the value. */
			size_t g = rc > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;
			uint32_t b = (uint32_t)ov[2 * g], en = (uint32_t)ov[2 * g + 1];
			off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
			if (en <= b)
				continue;
			long cue_end = last_cue_before(cues, info, b);
			double s = 0.5;
			if (cue_end >= 0 && b - (uint32_t)cue_end <= 24)
				s = 0.97;
			else if (cue_end >= 0)
				s = 0.85;
			else if (asked)
				s = 0.9;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				match *v = realloc(ms, cap * sizeof(*v));
				if (!v) {
					r = CA_ENOMEM;
					break;
				}
				ms = v;
			}
			ms[n].value = strndup(m->text + b, en - b);
			if (!ms[n].value) {
				r = CA_ENOMEM;
				break;
			}
			ms[n].msg = m->id;
			ms[n].begin = b;
			ms[n].end = en;
			ms[n].s = s;
			n++;
		}
		/* Only the customer's reply right after the question counts as asked. */
		asked = false;
	}
	pcre2_match_data_free(md);
	if (!r && n == 0)
		r = CA_ENOTFOUND;
	if (!r) {
		/* Combine mentions of the same value; distinct values compete. */
		size_t bi = 0;
		double best = 0, second = 0;
		for (size_t i = 0; i < n; i++) {
			double miss = 1.0;
			for (size_t k = 0; k < n; k++)
				if (strcmp(ms[k].value, ms[i].value) == 0)
					miss *= 1.0 - ms[k].s;
			double s = 1.0 - miss;
			if (s > best) {
				if (strcmp(ms[bi].value, ms[i].value) != 0)
					second = best;
				best = s;
				bi = i;
			} else if (s > second && strcmp(ms[bi].value, ms[i].value) != 0) {
				second = s;
			}
		}
		r = ca_prediction_set(ret, f, ms[bi].value, NULL, best - 0.5 * second,
				      best >= 0.85 ? "pattern+cue" : "pattern");
		for (size_t i = 0; !r && i < n; i++)
			if (strcmp(ms[i].value, ms[bi].value) == 0)
				r = ca_prediction_add_evidence(ret, ms[i].msg, ms[i].begin, ms[i].end);
	}
	for (size_t i = 0; i < n; i++)
		free(ms[i].value);
	free(ms);
	(void)e;
	return r;
}

/* ---- numbers, dates, booleans: typed values after a cue ---- */

static bool parse_date(const char *s, size_t len, char out[11])
{
	int y, mo, d;
	char buf[32];
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4d-%2d-%2d", &y, &mo, &d) == 3 || sscanf(buf, "%2d/%2d/%4d", &mo, &d, &y) == 3) {
		if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31)
			return false;
		snprintf(out, 11, "%04d-%02d-%02d", y, mo, d);
		return true;
	}
	return false;
}

static int predict_typed(const ca_predict_input *in, const ca_field_def *f, const ca_phrases *cues,
			 ca_prediction *ret)
{
	for (size_t mi = in->n_msgs; mi-- > 0;) {
		const ca_msg *m = &in->msgs[mi];
		if (m->role != CA_ROLE_CUSTOMER)
			continue;
		const ca_msg_info *info = &in->analysis->info[mi];
		const ca_tokens *t = &info->tokens;
		for (size_t i = 0; i < t->n; i++) {
			size_t k = phrase_at(cues, info, i);
			if (!k)
				continue;
			for (size_t j = i + k; j < t->n && j < i + k + 6; j++) {
				const ca_token *tok = &t->v[j];
				char val[32];
				const char *method = NULL;
				if (f->type == CA_FT_NUMBER && tok->kind == CA_TOK_NUMBER) {
					double d;
					size_t len = 0;
					for (const char *p = tok->norm; *p && len + 1 < sizeof(val); p++)
						if (*p != ',')
							val[len++] = *p;
					val[len] = '\0';
					if (ca_parse_double(val, &d) == 0)
						method = "number+cue";
				} else if (f->type == CA_FT_DATE) {
					/* A date spans several tokens: try the raw text from here. */
					size_t end = tok->end;
					while (end < m->len && m->text[end] && strchr("0123456789-/", m->text[end]))
						end++;
					if (parse_date(m->text + tok->begin, end - tok->begin, val))
						method = "date+cue";
				} else if (f->type == CA_FT_BOOLEAN && tok->kind == CA_TOK_WORD) {
					if (!strcmp(tok->norm, "yes") || !strcmp(tok->norm, "yeah") || !strcmp(tok->norm, "true"))
						snprintf(val, sizeof(val), "true"), method = "boolean+cue";
					else if (!strcmp(tok->norm, "no") || !strcmp(tok->norm, "not") || !strcmp(tok->norm, "false"))
						snprintf(val, sizeof(val), "false"), method = "boolean+cue";
				}
				if (method) {
					int r = ca_prediction_set(ret, f, val, NULL, 0.85, method);
					if (!r)
						r = ca_prediction_add_evidence(ret, m->id, t->v[i].begin, tok->end);
					return r;
				}
			}
		}
	}
	return CA_ENOTFOUND;
}

static int embedded_predict(ca_predictor *p, const ca_predict_input *in, const ca_field_def *f,
			    ca_prediction *ret, ca_err *err)
{
	embedded *e = (embedded *)p;
	int r = ca_analysis_sync(in->analysis, in->msgs, in->n_msgs, e->st);
	if (r)
		return ca_err_set(err, r, f->name, "cannot analyse the conversation: %s", ca_strerror(r));
	size_t fi = (size_t)(f - e->fields);
	if (f < e->fields || fi >= e->n_fields)
		return ca_err_set(err, CA_EINVAL, f->name, "field '%s' was not given to the predictor", f->name);
	switch (f->type) {
	case CA_FT_LOOKUP:
		if (!e->linkers[f->lookup])
			return CA_ENOTFOUND;
		return ca_linker_predict(e->linkers[f->lookup], in, f, ret);
	case CA_FT_OPTION:
		return ca_classifier_predict(e->classifiers[fi], in, f, ret);
	case CA_FT_TEXT:
		return predict_text(e, in, f, ret);
	case CA_FT_PATTERN:
		return predict_pattern(e, in, f, &e->cues[fi], ret);
	case CA_FT_NUMBER:
	case CA_FT_DATE:
	case CA_FT_BOOLEAN:
		return predict_typed(in, f, &e->cues[fi], ret);
	}
	return CA_ENOTFOUND;
}

static const ca_predictor_ops embedded_ops = {
	.version = CA_PREDICTOR_VERSION,
	.name = "embedded",
	.predict = embedded_predict,
	.free = embedded_free,
};

int ca_embedded_new(const json_t *directory, const ca_field_def *fields, size_t n_fields,
		    const json_t *models, ca_predictor **ret, ca_err *err)
{
	embedded *e = calloc(1, sizeof(*e));
	if (!e)
		return CA_ENOMEM;
	e->base.ops = &embedded_ops;
	e->fields = fields;
	e->n_fields = n_fields;
	e->st = ca_stemmer_new();
	e->classifiers = calloc(n_fields ? n_fields : 1, sizeof(*e->classifiers));
	e->cues = calloc(n_fields ? n_fields : 1, sizeof(*e->cues));
	int r = e->st && e->classifiers && e->cues ? 0 : CA_ENOMEM;
	for (size_t i = 0; i < CA_ARRAY_SIZE(problem_cues) && !r; i++)
		r = ca_phrases_add(&e->problem, problem_cues[i], 0, e->st);
	if (!r)
		r = ca_phrases_index(&e->problem);
	for (size_t i = 0; i < n_fields && !r; i++) {
		const ca_field_def *f = &fields[i];
		for (size_t k = 0; k < f->cues.n && !r; k++)
			r = ca_phrases_add(&e->cues[i], f->cues.v[k], 0, e->st);
		if (!r)
			r = ca_phrases_index(&e->cues[i]);
		if (!r && f->type == CA_FT_OPTION)
			r = ca_classifier_new(f, json_object_get(models, f->name), e->st, &e->classifiers[i], err);
		if (!r && f->type == CA_FT_LOOKUP && !e->linkers[f->lookup])
			r = ca_linker_new(f->lookup, json_object_get(directory, ca_entity_name(f->lookup)), e->st,
					  &e->linkers[f->lookup], err);
	}
	if (r) {
		embedded_free(&e->base);
		return r;
	}
	*ret = &e->base;
	return 0;
}
