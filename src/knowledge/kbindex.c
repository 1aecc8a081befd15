/* SPDX-License-Identifier: MIT */
/*
 * An incremental TF-IDF index of the knowledge base (title, counted
 * TITLE_WEIGHT times, and issue of each candidate article), kept on the
 * agent so a harvest of 100,000 records does not tokenise every article
 * again for every record. Terms are Snowball stems of content words;
 * idf = ln((1 + N) / (1 + df)) + 1 (smoothed, as in scikit-learn's
 * TfidfVectorizer). A query is scored by cosine against the candidates
 * the caller names (the full-text search's, knowledge.c), term by term,
 * each candidate's norm taken with the idf of the collection as it is now
 * (cached until the collection changes): a score is a function of the
 * articles indexed and the query alone, never of the order they were added
 * in or of when the index was last rebuilt, so a harvest that is
 * interrupted and resumed (the index rebuilt from the store) decides every
 * record exactly as an uninterrupted one does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "kbindex.h"
#include "text.h"

typedef struct kb_doc {
	uint32_t *term;  /* term ids */
	float *tf;       /* counts */
	size_t n;
	double norm;     /* with the idf of when n_docs was norm_at */
	size_t norm_at;  /* n_docs + 1 then; 0: never computed */
} kb_doc;

struct ca_kb_index {
	ca_kb_field field; /* what of an article it indexes */
	ca_kb_index *res;  /* an issue index's resolution index: the same articles */
	ca_stemmer *st;
	json_t *dict;      /* term -> id */
	uint32_t *df;
	size_t n_terms, cap_terms;
	kb_doc *docs;
	json_t *arts;      /* article JSON, parallel to docs */
	size_t *doc_of;    /* article id -> doc index + 1 (0: not indexed); ids are the store's, dense from 1 */
	size_t cap_ids;
	size_t n_docs, cap_docs;
};

/* How many times a title's words count against its body's (measured on
 * StackFAQ with `eval dedup`: covered_top1 0.747 at 1, 0.786 at 2, 0.802
 * at 3, 0.806 at 4). */
#define TITLE_WEIGHT 3
/* The share of articles a term may be in and still count as informative
 * (ca_kb_match.informative): the words of nearly every article ("order",
 * "account") are left out of corroboration. Chosen with `eval gaps --part
 * tune` on the Twitter customer-care dev conversations: B-cubed F1 0.647
 * at 0.05, 0.648 at 0.1, 0.656 at 0.2 and 0.3 (precision 0.99-0.98); of
 * the two best, 0.3 keeps `eval dedup`'s StackFAQ figures where they were. */
#define KB_RARE_SHARE 0.3

static double idf(const ca_kb_index *k, uint32_t t)
{
	return log((1.0 + (double)k->n_docs) / (1.0 + (double)k->df[t])) + 1.0;
}

void ca_kb_index_free(ca_kb_index *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n_docs; i++) {
		free(k->docs[i].term);
		free(k->docs[i].tf);
	}
	free(k->docs);
	free(k->df);
	json_decref(k->dict);
	json_decref(k->arts);
	free(k->doc_of);
	ca_stemmer_free(k->st);
	ca_kb_index_free(k->res);
	free(k);
}

/* Words of conversation rather than of an issue, beyond the stop list
 * (ca_stopword): "please", "thanks" or "help" say nothing of what a
 * customer's problem is, yet in support chats they are in nearly every
 * record, and a match on them alone covered records of other issues. */
static const char *const chat_words[] = {
	"also",	 "anyone", "anything", "back",	 "dear",  "every",  "going", "good",	 "guys",   "hello", "help",
	"hey",	 "http",   "https",    "just",	 "know",  "like",   "made",  "make",	 "much",   "need",  "please",
	"really", "said",  "says",     "since",	 "someone", "still", "thank", "thanks", "today", "tried", "trying",
	"want",	 "well",   "will",     "www",	 "yesterday",
};

static ca_wordset chat_word_set = CA_WORDSET(chat_words);

bool ca_kb_chat_word(const char *norm)
{
	return ca_wordset_has(&chat_word_set, norm);
}

bool ca_kb_placeholder(const char *text, const ca_token *tok)
{
	return tok->begin > 0 && text[tok->begin - 1] == '[' && text[tok->end] == ']';
}

bool ca_kb_skip_token(const ca_token *tok)
{
	return tok->kind == CA_TOK_WORD && (ca_stopword(tok->norm) || strlen(tok->norm) < 3 || ca_kb_chat_word(tok->norm));
}

/* Term ids and counts of a text; terms new to the index are added. */
static int text_terms(ca_kb_index *k, const char *text, uint32_t **ret_id, float **ret_tf, size_t *ret_n)
{
	ca_tokens t = { 0 };
	int r = ca_tokenize(text, strlen(text), 0, k->st, &t);
	if (r == CA_EUTF8)
		r = 0;
	uint32_t *ids = malloc((t.n ? t.n : 1) * sizeof(uint32_t));
	float *tf = malloc((t.n ? t.n : 1) * sizeof(float));
	size_t n = 0;
	if (!r && (!ids || !tf))
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < t.n; i++) {
		const ca_token *tok = &t.v[i];
		if (ca_kb_skip_token(tok) || ca_kb_placeholder(text, tok))
			continue;
		json_t *idj = json_object_get(k->dict, tok->stem);
		uint32_t id;
		if (idj) {
			id = (uint32_t)json_integer_value(idj);
		} else {
			if (k->n_terms == k->cap_terms) {
				size_t c = k->cap_terms ? k->cap_terms * 2 : 1024;
				uint32_t *df = realloc(k->df, c * sizeof(*df));
				if (!df) {
					r = CA_ENOMEM;
					break;
				}
				k->df = df;
				k->cap_terms = c;
			}
			id = (uint32_t)k->n_terms++;
			k->df[id] = 0;
			if (json_object_set_new(k->dict, tok->stem, json_integer(id)) < 0) {
				r = CA_ENOMEM;
				break;
			}
		}
		size_t j = 0;
		while (j < n && ids[j] != id)
			j++;
		if (j == n) {
			ids[n] = id;
			tf[n++] = 0;
		}
		tf[j] += 1;
	}
	ca_tokens_done(&t);
	if (r) {
		free(ids);
		free(tf);
		return r;
	}
	*ret_id = ids;
	*ret_tf = tf;
	*ret_n = n;
	return 0;
}

static double doc_norm(const ca_kb_index *k, const kb_doc *d)
{
	double s = 0;
	for (size_t i = 0; i < d->n; i++) {
		double w = d->tf[i] * idf(k, d->term[i]);
		s += w * w;
	}
	return sqrt(s);
}

/* A document's norm with the idf of the collection as it is now: every
 * df and N change only when an article is added, so it is cached for as
 * long as n_docs stays. */
static double cur_norm(const ca_kb_index *k, kb_doc *d)
{
	if (d->norm_at != k->n_docs + 1) {
		d->norm = doc_norm(k, d);
		d->norm_at = k->n_docs + 1;
	}
	return d->norm;
}

int ca_kb_index_add(ca_kb_index *k, const json_t *art)
{
	ca_buf text = { 0 };
	const char *title = ca_json_str(art, "title") ? ca_json_str(art, "title") : "";
	/* A title's words count TITLE_WEIGHT times its body's: a title says
	 * what an article is about, its body says much else besides. */
	for (int i = 0; k->field == CA_KB_ISSUE && i < TITLE_WEIGHT; i++)
		ca_buf_printf(&text, "%s\n", title);
	const char *body = ca_json_str(art, k->field == CA_KB_ISSUE ? "issue" : "resolution");
	if (ca_buf_printf(&text, "%s", body ? body : "") < 0)
		return CA_ENOMEM;
	if (k->n_docs == k->cap_docs) {
		size_t c = k->cap_docs ? k->cap_docs * 2 : 256;
		kb_doc *d = realloc(k->docs, c * sizeof(*d));
		if (!d) {
			ca_buf_done(&text);
			return CA_ENOMEM;
		}
		k->docs = d;
		k->cap_docs = c;
	}
	kb_doc *d = &k->docs[k->n_docs];
	memset(d, 0, sizeof(*d));
	int r = text_terms(k, text.data, &d->term, &d->tf, &d->n);
	ca_buf_done(&text);
	if (r)
		return r;
	for (size_t i = 0; i < d->n; i++)
		k->df[d->term[i]]++;
	k->n_docs++;
	if (json_array_append(k->arts, (json_t *)art) < 0)
		return CA_ENOMEM;
	json_t *id = json_object_get(art, "id");
	json_int_t aid = json_is_integer(id) ? json_integer_value(id) : 0;
	if (aid > 0) {
		if ((size_t)aid >= k->cap_ids) {
			size_t c = k->cap_ids ? k->cap_ids : 256;
			while (c <= (size_t)aid)
				c *= 2;
			size_t *v = realloc(k->doc_of, c * sizeof(*v));
			if (!v)
				return CA_ENOMEM;
			memset(v + k->cap_ids, 0, (c - k->cap_ids) * sizeof(*v));
			k->doc_of = v;
			k->cap_ids = c;
		}
		k->doc_of[aid] = k->n_docs; /* index + 1 */
	}
	if (k->res)
		return ca_kb_index_add(k->res, art);
	return 0;
}

int ca_kb_index_build(const json_t *arts, ca_kb_field field, ca_kb_index **ret)
{
	ca_kb_index *k = calloc(1, sizeof(*k));
	if (!k)
		return CA_ENOMEM;
	k->field = field;
	/* The resolution index starts empty: the adds below fill both. */
	json_t *none = field == CA_KB_ISSUE ? json_array() : NULL;
	int r0 = field != CA_KB_ISSUE ? 0 : none ? ca_kb_index_build(none, CA_KB_RESOLUTION, &k->res) : CA_ENOMEM;
	json_decref(none);
	if (r0) {
		free(k);
		return r0;
	}
	k->st = ca_stemmer_new();
	k->dict = json_object();
	k->arts = json_array();
	int r = k->st && k->dict && k->arts ? 0 : CA_ENOMEM;
	size_t i;
	json_t *a;
	json_array_foreach(arts, i, a) {
		if (r)
			break;
		r = ca_kb_index_add(k, a);
	}
	if (r) {
		ca_kb_index_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

/* A query term: its id and tf * idf^2 (the document side adds its tf). */
typedef struct qterm {
	uint32_t id;
	double w;
} qterm;

struct ca_kb_query {
	qterm *v;     /* the terms the index knows, by id */
	size_t n;
	double norm;  /* over every content stem, known or not */
	ca_strv words;/* the rarest words, for a full-text query */
};

static int by_term(const void *x, const void *y)
{
	const qterm *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

typedef struct rare_word {
	const char *word;
	uint32_t df;
	size_t pos;
} rare_word;

static int by_df(const void *x, const void *y)
{
	const rare_word *a = x, *b = y;
	if (a->df != b->df)
		return a->df < b->df ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

void ca_kb_query_free(ca_kb_query *q)
{
	if (!q)
		return;
	free(q->v);
	ca_strv_done(&q->words);
	free(q);
}

const ca_strv *ca_kb_query_words(const ca_kb_query *q)
{
	return &q->words;
}

int ca_kb_query_new(ca_kb_index *k, const char *text, size_t max_words, size_t df_budget, ca_kb_query **ret)
{
	ca_tokens t = { 0 };
	int r = ca_tokenize(text, strlen(text), 0, k->st, &t);
	if (r == CA_EUTF8)
		r = 0;
	ca_kb_query *q = r ? NULL : calloc(1, sizeof(*q));
	json_t *qtf = json_object(); /* every content stem: its count and first word */
	rare_word *rw = NULL;
	if (!r && (!q || !qtf))
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < t.n; i++) {
		const ca_token *tok = &t.v[i];
		if (ca_kb_skip_token(tok) || ca_kb_placeholder(text, tok))
			continue;
		json_t *e = json_object_get(qtf, tok->stem);
		if (e) {
			json_array_set_new(e, 0, json_integer(json_integer_value(json_array_get(e, 0)) + 1));
			continue;
		}
		e = json_pack("[i, s, I, b]", 1, tok->norm, (json_int_t)i, tok->kind == CA_TOK_WORD);
		if (!e || json_object_set_new(qtf, tok->stem, e) < 0)
			r = CA_ENOMEM;
	}
	size_t nt = json_object_size(qtf), nr = 0;
	if (!r && (!(q->v = malloc((nt + 1) * sizeof(*q->v))) || !(rw = malloc((nt + 1) * sizeof(*rw)))))
		r = CA_ENOMEM;
	/* The query counts as a document, as a fresh TF-IDF over the knowledge
	 * base and the query would have it: a term the base lacks weighs in the
	 * query's norm, and shared terms weigh by how rare they are. */
	double n1 = (double)k->n_docs + 1.0, qn = 0;
	const char *stem;
	json_t *e;
	json_object_foreach(qtf, stem, e) {
		if (r)
			break;
		double tf = (double)json_integer_value(json_array_get(e, 0));
		json_t *idj = json_object_get(k->dict, stem);
		uint32_t df = idj ? k->df[json_integer_value(idj)] : 0;
		double w = log((1.0 + n1) / (2.0 + (double)df)) + 1.0;
		qn += tf * w * tf * w;
		if (!idj || df == 0)
			continue;
		q->v[q->n++] = (qterm){ (uint32_t)json_integer_value(idj), tf * w * w };
		if (json_is_true(json_array_get(e, 3)))
			rw[nr++] = (rare_word){ json_string_value(json_array_get(e, 1)), df,
						(size_t)json_integer_value(json_array_get(e, 2)) };
	}
	if (!r) {
		q->norm = sqrt(qn);
		qsort(q->v, q->n, sizeof(*q->v), by_term);
		qsort(rw, nr, sizeof(*rw), by_df);
	}
	/* The rarest words, the first always, the next while the articles
	 * they can match stay within the budget. */
	size_t df_sum = 0;
	for (size_t i = 0; !r && i < nr && i < max_words; i++) {
		if (i >= 1 && df_sum + rw[i].df > df_budget)
			break;
		df_sum += rw[i].df;
		r = ca_strv_push(&q->words, rw[i].word);
	}
	free(rw);
	json_decref(qtf);
	ca_tokens_done(&t);
	if (r) {
		ca_kb_query_free(q);
		return r;
	}
	*ret = q;
	return 0;
}

int ca_kb_index_best_of(ca_kb_index *k, const ca_kb_query *q, const int64_t *ids, size_t n_ids, json_t **ret_article,
			double *ret_sim)
{
	*ret_article = NULL;
	*ret_sim = 0;
	double best = 0;
	int64_t bid = 0;
	/* Each candidate's terms against the query's (sorted by id): the cost
	 * is the candidates', never the postings of a common word. */
	for (size_t c = 0; c < n_ids; c++) {
		ca_kb_match m;
		ca_kb_index_score(k, q, ids[c], &m);
		if (m.sim > best) {
			best = m.sim;
			bid = ids[c];
		}
	}
	if (bid)
		*ret_article = ca_kb_index_article(k, bid);
	*ret_sim = best;
	return 0;
}

/* The doc index + 1 of an article id, 0 when it is not indexed. */
static size_t doc_slot(const ca_kb_index *k, int64_t id)
{
	return k && id > 0 && (size_t)id < k->cap_ids ? k->doc_of[id] : 0;
}

bool ca_kb_index_has_text(const ca_kb_index *k, int64_t id)
{
	size_t j = doc_slot(k, id);
	return j && k->docs[j - 1].n > 0;
}

ca_kb_index *ca_kb_index_resolutions(ca_kb_index *k)
{
	return k ? k->res : NULL;
}

json_t *ca_kb_index_article(const ca_kb_index *k, int64_t id)
{
	size_t j = doc_slot(k, id);
	return j ? json_incref(json_array_get(k->arts, j - 1)) : NULL;
}

int ca_kb_index_score(ca_kb_index *k, const ca_kb_query *q, int64_t id, ca_kb_match *ret)
{
	memset(ret, 0, sizeof(*ret));
	size_t j = doc_slot(k, id);
	if (!j || q->norm <= 0)
		return 0; /* not indexed (archived or discarded since), or nothing to compare */
	kb_doc *d = &k->docs[j - 1];
	/* Informative: a term in at most KB_RARE_SHARE of the articles (and
	 * never fewer than 2), the words that tell one issue from another. */
	double rare = KB_RARE_SHARE * (double)k->n_docs;
	if (rare < 2)
		rare = 2;
	double dot = 0;
	for (size_t t = 0; t < d->n; t++) {
		qterm key_t = { d->term[t], 0 };
		const qterm *hit = bsearch(&key_t, q->v, q->n, sizeof(*q->v), by_term);
		if (!hit)
			continue;
		dot += hit->w * d->tf[t];
		ret->shared++;
		ret->informative += (double)k->df[d->term[t]] <= rare;
	}
	double dn = dot > 0 ? cur_norm(k, d) : 0;
	double s = dot > 0 && dn > 0 ? dot / (q->norm * dn) : 0;
	ret->sim = s > 1 ? 1 : s;
	return 0;
}

size_t ca_kb_index_size(const ca_kb_index *k)
{
	return k ? k->n_docs : 0;
}

