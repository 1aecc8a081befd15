/* SPDX-License-Identifier: MIT */
/*
 * The gazetteer of products and subjects (ARCHITECTURE §4): every name and
 * alias as a sequence of normalised tokens (Snowball stems of folded words),
 * matched over a conversation's tokens as a dictionary automaton would
 * (Aho and Corasick 1975: every token position extends the partial matches
 * ending at the token before), with a bounded edit distance on long words
 * for misspellings, and product numbers in any spelling ("BW-CH-0650",
 * "bwch0650", "BW CH 0650") through one compact key. A word that is itself
 * an English word (the system word list, Debian's wamerican) is never taken
 * for a misspelling of a name ("charged" is not "charger"). Built once,
 * immutable after, and reference-counted, so the worker threads of a server
 * share one copy; its lookups are GLib hash tables.
 */
#include <ctype.h>
#include <glib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define MAX_ALIAS_TOKENS 16
#define NUMBER_TOKENS 4     /* a product number spelt in at most 4 pieces */
#define FUZZY_MIN_LEN 5     /* shorter words are too easily another word */
#define DEFAULT_WORDS "/usr/share/dict/words"

/* Strengths: how often such a mention, alone, names the right record. */
#define S_NUMBER 0.95       /* the product number, any spelling */
#define S_FULL 0.93         /* a whole name or alias, its tokens in a row */
#define S_SCATTERED 0.80    /* every token of a name, said apart */
#define S_BRAND 0.80        /* a word only this record's names have */
#define S_WEAK_BRAND 0.35   /* the same, but an everyday word written in lower case */
#define S_PARTIAL 0.40      /* x coverage^2: a common word of the name */
#define FUZZY_FACTOR 0.90   /* per misspelt token */
#define AGENT_FACTOR 0.7    /* the representative's lines repeat or guess */

typedef struct gz_rec {
	char *id;
	char *display;
} gz_rec;

typedef struct gz_alias {
	size_t rec;
	unsigned n;   /* tokens */
} gz_alias;

typedef struct gz_posting {
	uint32_t alias;
	uint32_t pos;
} gz_posting;

/* How a term alone speaks for the one record whose names hold it. */
enum { BRAND_NONE, BRAND_WEAK, BRAND_STRONG };

typedef struct gz_term {
	char *norm;          /* folded form, for edit distance */
	const char *stem;    /* its key in term_ids (owned there) */
	gz_posting *post;
	size_t n_post, cap_post;
	size_t rec;          /* the record, when every posting is one record's */
	bool one_rec;
	bool everyday;       /* in the word list */
	bool namelike;       /* has letters and is no everyday word ("tessel", "x2") */
	uint8_t brand;
} gz_term;

typedef struct gz_number {
	size_t *recs;
	size_t n;
} gz_number;

struct ca_gazetteer {
	gint refs;
	ca_entity kind;
	gz_rec *recs;
	size_t n_recs;
	gz_alias *aliases;
	size_t n_aliases, cap_aliases;
	gz_term *terms;
	size_t n_terms, cap_terms;
	GHashTable *term_ids;   /* stem -> term index + 1 */
	GHashTable *word_ids;   /* folded word -> term index + 1, for a word whose
				   stem another word of the names already has */
	GHashTable *numbers;    /* compact number -> gz_number */
	size_t max_number;      /* longest compact number, bytes */
	GHashTable *real_words; /* English words within fuzzy reach of a term */
	GPtrArray *fuzzy[26];   /* term indexes (as pointers + 1) by first letter */
};

/* ---- building ---- */

static void number_free(gpointer p)
{
	gz_number *n = p;
	if (n)
		free(n->recs);
	free(n);
}

ca_gazetteer *ca_gazetteer_ref(ca_gazetteer *g)
{
	if (g)
		g_atomic_int_inc(&g->refs);
	return g;
}

void ca_gazetteer_unref(ca_gazetteer *g)
{
	if (!g || !g_atomic_int_dec_and_test(&g->refs))
		return;
	for (size_t i = 0; i < g->n_recs; i++) {
		free(g->recs[i].id);
		free(g->recs[i].display);
	}
	free(g->recs);
	free(g->aliases);
	for (size_t i = 0; i < g->n_terms; i++) {
		free(g->terms[i].norm);
		free(g->terms[i].post);
	}
	free(g->terms);
	if (g->term_ids)
		g_hash_table_destroy(g->term_ids);
	if (g->word_ids)
		g_hash_table_destroy(g->word_ids);
	if (g->numbers)
		g_hash_table_destroy(g->numbers);
	if (g->real_words)
		g_hash_table_destroy(g->real_words);
	for (size_t i = 0; i < 26; i++)
		if (g->fuzzy[i])
			g_ptr_array_free(g->fuzzy[i], TRUE);
	free(g);
}

/* The letters and digits of s, folded to ASCII lower case, into out
 * (NUL-terminated); false when s has anything but ASCII or it is empty. */
static bool compact_key(const char *s, size_t len, ca_buf *out)
{
	ca_buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80)
			return false;
		if (isalnum(c) && ca_buf_append(out, (char[]){ (char)tolower(c) }, 1) < 0)
			return false;
	}
	return out->len > 0;
}

static int add_number(ca_gazetteer *g, const char *raw, size_t rec)
{
	if (ca_str_empty(raw))
		return 0;
	ca_buf k = { 0 };
	if (!compact_key(raw, strlen(raw), &k)) {
		ca_buf_done(&k);
		return 0;
	}
	gz_number *n = g_hash_table_lookup(g->numbers, k.data);
	int r = 0;
	if (!n) {
		char *key = strdup(k.data);
		n = calloc(1, sizeof(*n));
		if (!key || !n) {
			free(key);
			free(n);
			r = CA_ENOMEM;
		} else {
			g_hash_table_insert(g->numbers, key, n);
		}
	}
	if (!r) {
		size_t *v = realloc(n->recs, (n->n + 1) * sizeof(*v));
		if (!v)
			r = CA_ENOMEM;
		else {
			n->recs = v;
			n->recs[n->n++] = rec;
		}
		if (k.len > g->max_number)
			g->max_number = k.len;
	}
	ca_buf_done(&k);
	return r;
}

/* One word in two inflections ("billed", "billing"; "earbud", "earbuds"),
 * not a stem shared by two words ("access", "accessibility"): each form ends
 * at most three letters past their common part. */
static bool same_word(const char *a, const char *b)
{
	size_t cp = 0;
	while (a[cp] && a[cp] == b[cp])
		cp++;
	return strlen(a) - cp <= 3 && strlen(b) - cp <= 3;
}

/* The term of a token: by stem, unless the stem's term is another word. */
static bool term_lookup(const ca_gazetteer *g, const ca_token *t, size_t *ret)
{
	gpointer v = g_hash_table_lookup(g->term_ids, t->stem);
	if (v && same_word(t->norm, g->terms[GPOINTER_TO_SIZE(v) - 1].norm)) {
		*ret = GPOINTER_TO_SIZE(v) - 1;
		return true;
	}
	if ((v = g_hash_table_lookup(g->word_ids, t->norm))) {
		*ret = GPOINTER_TO_SIZE(v) - 1;
		return true;
	}
	return false;
}

static int term_for(ca_gazetteer *g, const ca_token *t, size_t *ret)
{
	if (term_lookup(g, t, ret))
		return 0;
	if (g->n_terms == g->cap_terms) {
		size_t cap = g->cap_terms ? g->cap_terms * 2 : 64;
		gz_term *nv = realloc(g->terms, cap * sizeof(*nv));
		if (!nv)
			return CA_ENOMEM;
		g->terms = nv;
		g->cap_terms = cap;
	}
	gz_term *x = &g->terms[g->n_terms];
	memset(x, 0, sizeof(*x));
	bool by_stem = !g_hash_table_contains(g->term_ids, t->stem);
	char *key = strdup(by_stem ? t->stem : t->norm);
	if (!key || !(x->norm = strdup(t->norm))) {
		free(key);
		return CA_ENOMEM;
	}
	x->stem = key;
	g_hash_table_insert(by_stem ? g->term_ids : g->word_ids, key, GSIZE_TO_POINTER(g->n_terms + 1));
	*ret = g->n_terms++;
	return 0;
}

static int add_name(ca_gazetteer *g, const char *name, size_t rec, ca_stemmer *st, size_t *ret_first)
{
	if (ca_str_empty(name))
		return 0;
	ca_tokens t = { 0 };
	int r = ca_tokenize(name, strlen(name), 0, st, &t);
	if (r) {
		ca_tokens_done(&t);
		return r == CA_EUTF8 ? 0 : r;
	}
	/* Stop words are not said ("the", "and"): the name is its other tokens. */
	size_t keep[MAX_ALIAS_TOKENS], n = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].kind == CA_TOK_EMAIL || (t.v[i].kind == CA_TOK_WORD && ca_stopword(t.v[i].norm)))
			continue;
		if (n == MAX_ALIAS_TOKENS) {
			n = 0; /* too long to be said as a name */
			break;
		}
		keep[n++] = i;
	}
	if (n == 0) {
		ca_tokens_done(&t);
		return 0;
	}
	if (g->n_aliases == g->cap_aliases) {
		size_t cap = g->cap_aliases ? g->cap_aliases * 2 : 64;
		gz_alias *v = realloc(g->aliases, cap * sizeof(*v));
		if (!v) {
			ca_tokens_done(&t);
			return CA_ENOMEM;
		}
		g->aliases = v;
		g->cap_aliases = cap;
	}
	size_t a = g->n_aliases++;
	g->aliases[a] = (gz_alias){ rec, (unsigned)n };
	for (size_t i = 0; i < n && !r; i++) {
		size_t ti;
		if ((r = term_for(g, &t.v[keep[i]], &ti)))
			break;
		if (i == 0 && ret_first)
			*ret_first = ti;
		gz_term *x = &g->terms[ti];
		if (x->n_post == x->cap_post) {
			size_t cap = x->cap_post ? x->cap_post * 2 : 4;
			gz_posting *p = realloc(x->post, cap * sizeof(*p));
			if (!p) {
				r = CA_ENOMEM;
				break;
			}
			x->post = p;
			x->cap_post = cap;
		}
		x->post[x->n_post++] = (gz_posting){ (uint32_t)a, (uint32_t)i };
	}
	ca_tokens_done(&t);
	return r;
}

/* A lone word speaks for a record when only its names have it and it is a
 * name, not a kind of thing: not a number or a short model code ("14",
 * "x2"), and not an everyday word inside the name ("wireless", "charger").
 * An everyday word that begins the full name is the brand ("Orbit",
 * "Kestrel"): it counts when written as a name (capitalised). */
static void classify_terms(ca_gazetteer *g, GHashTable *first_tokens)
{
	for (size_t i = 0; i < g->n_terms; i++) {
		gz_term *x = &g->terms[i];
		x->one_rec = true;
		x->rec = x->n_post ? g->aliases[x->post[0].alias].rec : 0;
		for (size_t k = 1; k < x->n_post; k++)
			if (g->aliases[x->post[k].alias].rec != x->rec)
				x->one_rec = false;
		x->everyday = g->real_words && g_hash_table_contains(g->real_words, x->norm);
		bool letters = true, digits = false;
		for (const char *p = x->norm; *p; p++) {
			if (*p >= '0' && *p <= '9')
				digits = true;
			else if (!((unsigned char)*p >= 0x80 || isalpha((unsigned char)*p)))
				letters = false;
		}
		size_t len = strlen(x->norm);
		bool any_letter = false;
		for (const char *p = x->norm; *p; p++)
			any_letter |= (unsigned char)*p >= 0x80 || isalpha((unsigned char)*p);
		x->namelike = any_letter && !x->everyday;
		x->brand = BRAND_NONE;
		if (!x->one_rec || len < 3)
			continue;
		if (digits) {
			if (len >= 4 && letters)
				x->brand = BRAND_STRONG; /* a model code like "kx500" */
			continue;
		}
		bool everyday = x->everyday;
		if (!g->real_words) {
			/* no word list: nothing tells a brand from a kind of thing,
			 * so only a capitalised first word of the name speaks alone */
			if (g_hash_table_contains(first_tokens, GSIZE_TO_POINTER(i + 1)))
				x->brand = BRAND_WEAK;
			continue;
		}
		if (!everyday && len >= 4) /* three letters are mostly a kind: "SSD", "USB" */
			x->brand = BRAND_STRONG;
		else if (g_hash_table_contains(first_tokens, GSIZE_TO_POINTER(i + 1)))
			x->brand = BRAND_WEAK;
	}
}

/* Read the word list; keep each word that is a term (an everyday word) or
 * lies within fuzzy reach of one (so it is never corrected to it). */
static int load_words(ca_gazetteer *g, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	if (ca_file_read(path, (size_t)16 << 20, &data, &len, NULL) != 0)
		return 0; /* no word list: no misspellings, and fewer lone brand words */
	g->real_words = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	if (!g->real_words) {
		free(data);
		return CA_ENOMEM;
	}
	/* the terms' own words, to tell which are everyday words */
	GHashTable *norms = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t k = 0; k < g->n_terms; k++)
		g_hash_table_add(norms, g->terms[k].norm);
	int r = 0;
	char word[64];
	for (size_t i = 0; i < len && !r;) {
		size_t e = i;
		while (e < len && data[e] != '\n')
			e++;
		size_t wl = e - i;
		bool ok = wl > 0 && wl < sizeof(word);
		for (size_t k = 0; ok && k < wl; k++) {
			unsigned char c = (unsigned char)data[i + k];
			if (!isalpha(c))
				ok = false;
			else
				word[k] = (char)tolower(c);
		}
		i = e + 1;
		if (!ok)
			continue;
		word[wl] = '\0';
		bool keep = false;
		if (g->fuzzy[word[0] - 'a']) {
			GPtrArray *b = g->fuzzy[word[0] - 'a'];
			/* within reach of either form a text word is compared with */
			for (guint k = 0; k < b->len && !keep; k++) {
				const gz_term *x = &g->terms[GPOINTER_TO_SIZE(b->pdata[k]) - 1];
				const char *forms[2] = { x->norm, x->stem };
				for (int q = 0; q < 2 && !keep; q++) {
					size_t tl = strlen(forms[q]);
					unsigned max = tl >= 8 && wl >= 8 ? 2 : 1;
					if ((wl > tl ? wl - tl : tl - wl) <= max && ca_osa_distance(word, forms[q], max) <= max)
						keep = true;
				}
			}
		}
		if (!keep)
			keep = g_hash_table_contains(norms, word);
		if (keep && !g_hash_table_contains(g->real_words, word)) {
			char *w = strdup(word);
			if (!w)
				r = CA_ENOMEM;
			else
				g_hash_table_add(g->real_words, w);
		}
	}
	g_hash_table_destroy(norms);
	free(data);
	return r;
}

int ca_gazetteer_new(ca_entity kind, const json_t *records, ca_stemmer *st, const char *words_path,
		     ca_gazetteer **ret, ca_err *err)
{
	ca_gazetteer *g = calloc(1, sizeof(*g));
	if (!g)
		return CA_ENOMEM;
	g->refs = 1;
	g->kind = kind;
	g->term_ids = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	g->word_ids = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	g->numbers = g_hash_table_new_full(g_str_hash, g_str_equal, free, number_free);
	GHashTable *first = g_hash_table_new(g_direct_hash, g_direct_equal);
	size_t n = json_array_size(records);
	g->recs = calloc(n ? n : 1, sizeof(*g->recs));
	int r = g->recs ? 0 : CA_ENOMEM;
	for (size_t i = 0; i < n && !r; i++) {
		const json_t *rj = json_array_get(records, i);
		const char *id = ca_json_str(rj, "id");
		const char *name = ca_json_str(rj, "name");
		if (!id)
			continue;
		gz_rec *rc = &g->recs[g->n_recs];
		rc->id = strdup(id);
		rc->display = strdup(name ? name : id);
		if (!rc->id || !rc->display) {
			free(rc->id);
			free(rc->display);
			r = CA_ENOMEM;
			break;
		}
		size_t idx = g->n_recs++;
		r = add_number(g, ca_json_str(rj, "product_number"), idx);
		size_t first_term = SIZE_MAX;
		if (!r)
			r = add_name(g, name, idx, st, &first_term);
		if (!r && first_term != SIZE_MAX)
			g_hash_table_add(first, GSIZE_TO_POINTER(first_term + 1));
		const json_t *aliases = json_object_get(rj, "aliases");
		size_t k;
		json_t *a;
		json_array_foreach(aliases, k, a) {
			if (r)
				break;
			if (json_is_string(a))
				r = add_name(g, json_string_value(a), idx, st, NULL);
		}
	}
	/* Misspellings are looked for among the long words of names. */
	for (size_t i = 0; i < g->n_terms && !r; i++) {
		const char *w = g->terms[i].norm;
		unsigned char c = (unsigned char)w[0];
		if (strlen(w) < FUZZY_MIN_LEN || c < 'a' || c > 'z')
			continue;
		bool alpha = true;
		for (const char *p = w; *p; p++)
			alpha &= *p >= 'a' && *p <= 'z';
		if (!alpha)
			continue;
		if (!g->fuzzy[c - 'a'])
			g->fuzzy[c - 'a'] = g_ptr_array_new();
		g_ptr_array_add(g->fuzzy[c - 'a'], GSIZE_TO_POINTER(i + 1));
	}
	if (!r && g->n_terms)
		r = load_words(g, words_path ? words_path : DEFAULT_WORDS);
	if (!r)
		classify_terms(g, first);
	g_hash_table_destroy(first);
	if (r) {
		ca_gazetteer_unref(g);
		return ca_err_set(err, r, "directory", "indexing %s records failed", ca_entity_name(kind));
	}
	*ret = g;
	return 0;
}

size_t ca_gazetteer_size(const ca_gazetteer *g)
{
	return g->n_recs;
}

/* ---- matching a conversation ---- */

/* What the conversation has said for one alias. */
typedef struct alias_seen {
	uint32_t mask;     /* alias tokens said somewhere */
	uint32_t fuzzy;    /* of those, tokens only said misspelt */
	double full;       /* best strength of the whole alias said in a row */
	double run;        /* best strength of a part of it said in a row */
} alias_seen;

typedef struct rec_seen {
	double number;
	double brand;      /* a word only its names have, written as a name */
	double weak;       /* the same, an everyday word in lower case */
	double name;       /* scoring: the best of its aliases */
	bool more;         /* scoring: two words of one of its names were said */
	double ev_s;       /* strength of the evidence kept */
	size_t ev_msg;     /* message index + 1 */
	uint32_t ev_b, ev_e;
	const char *method;
} rec_seen;

/* A partial match ending at the current token. */
typedef struct run {
	uint32_t alias, pos;   /* last alias position matched */
	uint32_t start;        /* alias position the run began at */
	bool odd;              /* holds a word that is no everyday word */
	uint32_t fuzzy;        /* misspelt tokens in the run */
	uint32_t begin;        /* byte offset of its first token */
} run;

typedef struct gz_state {
	size_t upto;
	GHashTable *aliases;   /* alias index + 1 -> alias_seen */
	GHashTable *recs;      /* record index + 1 -> rec_seen */
	GArray *prev, *cur;    /* runs */
} gz_state;

static void gz_state_free(void *p)
{
	gz_state *s = p;
	if (!s)
		return;
	g_hash_table_destroy(s->aliases);
	g_hash_table_destroy(s->recs);
	g_array_free(s->prev, TRUE);
	g_array_free(s->cur, TRUE);
	free(s);
}

static rec_seen *rec_get(gz_state *s, size_t rec)
{
	rec_seen *x = g_hash_table_lookup(s->recs, GSIZE_TO_POINTER(rec + 1));
	if (!x) {
		x = g_new0(rec_seen, 1);
		g_hash_table_insert(s->recs, GSIZE_TO_POINTER(rec + 1), x);
	}
	return x;
}

static alias_seen *alias_get(gz_state *s, size_t a)
{
	alias_seen *x = g_hash_table_lookup(s->aliases, GSIZE_TO_POINTER(a + 1));
	if (!x) {
		x = g_new0(alias_seen, 1);
		g_hash_table_insert(s->aliases, GSIZE_TO_POINTER(a + 1), x);
	}
	return x;
}

static void note(rec_seen *x, double s, size_t mi, uint32_t b, uint32_t e, const char *method)
{
	if (s > x->ev_s) {
		x->ev_s = s;
		x->ev_msg = mi + 1;
		x->ev_b = b;
		x->ev_e = e;
		x->method = method;
	}
}

/* Written as a name: capitalised, and not merely because a sentence starts. */
static bool written_as_name(const ca_msg *m, const ca_token *t)
{
	unsigned char c = (unsigned char)m->text[t->begin];
	if (!(c >= 'A' && c <= 'Z'))
		return false;
	size_t i = t->begin;
	while (i > 0 && (m->text[i - 1] == ' ' || m->text[i - 1] == '\t' || m->text[i - 1] == '"' || m->text[i - 1] == '('))
		i--;
	return i > 0 && !strchr(".!?\n", m->text[i - 1]);
}

/* The term a text token stands for: exact stem, else one misspelling away. */
static bool term_of(const ca_gazetteer *g, const ca_token *t, size_t *ret, bool *ret_fuzzy)
{
	if (term_lookup(g, t, ret)) {
		*ret_fuzzy = false;
		return true;
	}
	size_t len = strlen(t->norm);
	unsigned char c = (unsigned char)t->norm[0];
	if (t->kind != CA_TOK_WORD || len < FUZZY_MIN_LEN || c < 'a' || c > 'z' || !g->fuzzy[c - 'a'])
		return false;
	/* Without a word list a misspelling cannot be told from a real word. */
	if (!g->real_words || g_hash_table_contains(g->real_words, t->norm))
		return false;
	GPtrArray *b = g->fuzzy[c - 'a'];
	unsigned best = UINT_MAX;
	for (guint k = 0; k < b->len; k++) {
		size_t ti = GPOINTER_TO_SIZE(b->pdata[k]) - 1;
		/* the name's word as written, and its stem ("refunds", "refund") */
		const char *forms[2] = { g->terms[ti].norm, g->terms[ti].stem };
		for (int q = 0; q < 2; q++) {
			const char *w = forms[q];
			size_t tl = strlen(w);
			if (q == 1 && (tl < FUZZY_MIN_LEN || strcmp(w, forms[0]) == 0))
				continue;
			unsigned max = tl >= 8 && len >= 8 ? 2 : 1;
			if ((len > tl ? len - tl : tl - len) > max)
				continue;
			unsigned d = ca_osa_distance(t->norm, w, max);
			if (d <= max && d < best) {
				best = d;
				*ret = ti;
			}
		}
	}
	*ret_fuzzy = true;
	return best != UINT_MAX;
}

static void consume_numbers(const ca_gazetteer *g, gz_state *s, const ca_msg *m, size_t mi, const ca_tokens *t,
			    double factor)
{
	if (!g_hash_table_size(g->numbers))
		return;
	ca_buf k = { 0 };
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].kind == CA_TOK_EMAIL)
			continue;
		ca_buf_reset(&k);
		for (size_t j = i; j < t->n && j < i + NUMBER_TOKENS; j++) {
			const ca_token *tj = &t->v[j];
			if (tj->kind == CA_TOK_EMAIL)
				break;
			if (j > i) {
				/* pieces of one number: only spaces, dashes, dots or
				 * slashes between them */
				uint32_t gap = tj->begin - t->v[j - 1].end;
				bool ok = gap <= 2;
				for (uint32_t q = t->v[j - 1].end; ok && q < tj->begin; q++)
					ok = strchr(" -./_", m->text[q]) != NULL;
				if (!ok)
					break;
			}
			size_t before = k.len;
			/* the letters and digits, a span at a time */
			for (const char *p = tj->norm; *p;) {
				size_t span = 0;
				while (p[span] && isalnum((unsigned char)p[span]))
					span++;
				if (span && ca_buf_append(&k, p, span) < 0)
					goto out;
				p += span;
				while (*p && !isalnum((unsigned char)*p))
					p++;
			}
			if (k.len == before || k.len > g->max_number)
				break;
			gz_number *num = g_hash_table_lookup(g->numbers, k.data);
			if (!num)
				continue;
			double sv = S_NUMBER * factor / (double)num->n;
			for (size_t q = 0; q < num->n; q++) {
				rec_seen *x = rec_get(s, num->recs[q]);
				x->number = 1.0 - (1.0 - x->number) * (1.0 - sv);
				note(x, sv, mi, t->v[i].begin, tj->end, "product-number");
			}
			break;
		}
	}
out:
	ca_buf_done(&k);
}

static void consume_names(const ca_gazetteer *g, gz_state *s, const ca_msg *m, size_t mi, const ca_tokens *t,
			  const uint8_t *flags, double factor)
{
	g_array_set_size(s->prev, 0);
	for (size_t i = 0; i < t->n; i++) {
		const ca_token *tok = &t->v[i];
		/* Stop words are left out of names: they neither match nor break
		 * a run ("returns and refunds"). */
		if (tok->kind == CA_TOK_WORD && (flags[i] & CA_TF_STOP))
			continue;
		g_array_set_size(s->cur, 0);
		size_t ti;
		bool fuzzy;
		if (tok->kind != CA_TOK_EMAIL && term_of(g, tok, &ti, &fuzzy)) {
			const gz_term *x = &g->terms[ti];
			double fz = fuzzy ? FUZZY_FACTOR : 1.0;
			if (x->brand == BRAND_STRONG || (x->brand == BRAND_WEAK && written_as_name(m, tok))) {
				rec_seen *rs = rec_get(s, x->rec);
				double sv = S_BRAND * fz * factor;
				if (sv > rs->brand)
					rs->brand = sv;
				note(rs, sv, mi, tok->begin, tok->end, fuzzy ? "fuzzy-name-match" : "name-match");
			} else if (x->brand == BRAND_WEAK) {
				rec_seen *rs = rec_get(s, x->rec);
				double sv = S_WEAK_BRAND * factor;
				if (sv > rs->weak)
					rs->weak = sv;
				note(rs, sv, mi, tok->begin, tok->end, "partial-name-match");
			}
			for (size_t k = 0; k < x->n_post; k++) {
				gz_posting p = x->post[k];
				run nr = { p.alias, p.pos, p.pos, x->namelike, fuzzy, tok->begin };
				for (guint q = 0; p.pos > 0 && q < s->prev->len; q++) {
					const run *pr = &g_array_index(s->prev, run, q);
					if (pr->alias == p.alias && pr->pos + 1 == p.pos) {
						nr.start = pr->start;
						nr.odd |= pr->odd;
						nr.fuzzy += pr->fuzzy;
						nr.begin = pr->begin;
						break;
					}
				}
				alias_seen *as = alias_get(s, p.alias);
				uint32_t bit = 1u << p.pos;
				if (!fuzzy)
					as->fuzzy &= ~bit;
				else if (!(as->mask & bit))
					as->fuzzy |= bit;
				as->mask |= bit;
				const gz_alias *al = &g->aliases[p.alias];
				rec_seen *rs = rec_get(s, al->rec);
				if (nr.start == 0 && p.pos + 1 == al->n) {
					double sv = S_FULL * factor;
					for (uint32_t f = 0; f < nr.fuzzy; f++)
						sv *= FUZZY_FACTOR;
					if (sv > as->full)
						as->full = sv;
					note(rs, sv, mi, nr.begin, tok->end, nr.fuzzy ? "fuzzy-name-match" : "name-match");
				} else {
					/* Part of a name in a row: three words, or two with a
					 * name-like one ("Mini Smart Speaker", "Calvin Klein"),
					 * weigh by the share of the name they say. */
					uint32_t len = p.pos - nr.start + 1;
					double sv = 0.01;
					if (len >= 3 || (len == 2 && nr.odd)) {
						sv = S_FULL * factor * len / al->n;
						for (uint32_t f = 0; f < nr.fuzzy; f++)
							sv *= FUZZY_FACTOR;
						if (sv > as->run)
							as->run = sv;
					}
					note(rs, sv, mi, nr.begin, tok->end, "partial-name-match");
				}
				if (p.pos + 1 < al->n)
					g_array_append_val(s->cur, nr);
			}
		}
		GArray *sw = s->prev;
		s->prev = s->cur;
		s->cur = sw;
	}
}

/* The name evidence for every record said: its best alias, or a word only
 * its names have. One pass over the aliases said, so a word in thousands of
 * names costs once, not once per record. */
static void name_scores(const ca_gazetteer *g, gz_state *s)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, s->recs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		rec_seen *rs = v;
		rs->name = rs->brand;
		rs->more = false;
	}
	g_hash_table_iter_init(&it, s->aliases);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const gz_alias *al = &g->aliases[GPOINTER_TO_SIZE(k) - 1];
		const alias_seen *as = v;
		rec_seen *rs = rec_get(s, al->rec);
		unsigned covered = (unsigned)__builtin_popcount(as->mask);
		double cover = (double)covered / al->n;
		double sv = as->full > as->run ? as->full : as->run;
		if (covered == al->n && al->n > 1) {
			double sc = S_SCATTERED;
			for (int f = 0; f < __builtin_popcount(as->fuzzy); f++)
				sc *= FUZZY_FACTOR;
			if (sc > sv)
				sv = sc;
		}
		if (S_PARTIAL * cover * cover > sv)
			sv = S_PARTIAL * cover * cover;
		if (sv > rs->name)
			rs->name = sv;
		rs->more |= covered >= 2;
	}
	/* An everyday brand word in lower case is the name when another word
	 * of the name comes with it ("my kestrel laptop"). */
	g_hash_table_iter_init(&it, s->recs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		rec_seen *rs = v;
		if (rs->weak > 0)
			rs->name = rs->more && S_SCATTERED > rs->name ? S_SCATTERED : rs->weak > rs->name ? rs->weak : rs->name;
	}
}

int ca_gazetteer_predict(const ca_gazetteer *g, const ca_predict_input *in, const ca_field_def *f,
			 ca_prediction *ret)
{
	gz_state *s = ca_analysis_state(in->analysis, g);
	int r = 0;
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return CA_ENOMEM;
		s->aliases = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		s->recs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		s->prev = g_array_new(FALSE, FALSE, sizeof(run));
		s->cur = g_array_new(FALSE, FALSE, sizeof(run));
		if ((r = ca_analysis_set_state(in->analysis, g, s, gz_state_free)))
			return r;
	}
	if (s->upto > in->n_msgs)
		return CA_EINVAL; /* messages are append-only */
	for (; s->upto < in->n_msgs; s->upto++) {
		size_t mi = s->upto;
		const ca_msg *m = &in->msgs[mi];
		if (m->role != CA_ROLE_CUSTOMER && m->role != CA_ROLE_AGENT)
			continue;
		double factor = m->role == CA_ROLE_CUSTOMER ? 1.0 : AGENT_FACTOR;
		const ca_msg_info *info = &in->analysis->info[mi];
		consume_numbers(g, s, m, mi, &info->tokens, factor);
		consume_names(g, s, m, mi, &info->tokens, info->flags, factor);
	}
	double best = 0, rival = 0;
	size_t bi = 0;
	const rec_seen *win = NULL;
	GHashTableIter it;
	gpointer k, v;
	name_scores(g, s);
	g_hash_table_iter_init(&it, s->recs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		size_t rec = GPOINTER_TO_SIZE(k) - 1;
		const rec_seen *rs = v;
		double sc = 1.0 - (1.0 - rs->number) * (1.0 - rs->name);
		if (sc > best || (sc == best && win && rec < bi)) {
			if (win)
				rival = best > rival ? best : rival;
			best = sc;
			bi = rec;
			win = rs;
		} else if (sc > rival) {
			rival = sc;
		}
	}
	if (!win || best <= 0)
		return CA_ENOTFOUND;
	/* A rival as well supported halves the certainty: "the boots" fits
	 * every boot in the catalogue. */
	double conf = best - 0.5 * rival;
	const gz_rec *rc = &g->recs[bi];
	r = ca_prediction_set(ret, f, rc->id, rc->display, conf, win->method ? win->method : "partial-name-match");
	if (!r && win->ev_msg)
		r = ca_prediction_add_evidence(ret, in->msgs[win->ev_msg - 1].id, win->ev_b, win->ev_e);
	return r;
}
