/* SPDX-License-Identifier: MIT */
/*
 * The vocabulary (term -> id with document frequencies) and sparse TF-IDF
 * vectors that the option-set predictor and the similarity code compare.
 * A vocabulary is built once from a team's resolved cases and then frozen,
 * after which it is read-only and shared between threads; vectors are small
 * sorted (id, weight) arrays so a cosine is a linear merge.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base.h"
#include "text.h"

struct ca_vocab {
	char **terms;       /* id -> owned term */
	uint32_t *hash;     /* id -> FNV-1a of the term, so growth never rehashes strings */
	uint32_t *df;       /* id -> documents containing the term */
	uint32_t *seen;     /* id -> last document stamp; counts a term once per doc */
	double *idf;        /* id -> idf, filled by ca_vocab_freeze */
	size_t n, cap;
	uint32_t *slots;    /* open addressing, linear probing: id + 1, 0 = empty */
	size_t nslots;      /* power of two, kept at most half full */
	size_t ndocs;
	bool frozen;
};

/* FNV-1a, 32-bit (Fowler/Noll/Vo, IETF draft-eastlake-fnv). */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

ca_vocab *ca_vocab_new(void)
{
	return calloc(1, sizeof(ca_vocab));
}

void ca_vocab_free(ca_vocab *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		free(v->terms[i]);
	free(v->terms);
	free(v->hash);
	free(v->df);
	free(v->seen);
	free(v->idf);
	free(v->slots);
	free(v);
}

/* Slot holding `term`, or the empty slot where it would go. */
static size_t probe(const ca_vocab *v, const char *term, uint32_t h)
{
	size_t mask = v->nslots - 1;
	for (size_t s = h & mask;; s = (s + 1) & mask) {
		uint32_t e = v->slots[s];
		if (e == 0)
			return s;
		if (v->hash[e - 1] == h && strcmp(v->terms[e - 1], term) == 0)
			return s;
	}
}

/* Insert ids [0, n) into a cleared table; needs no allocation. */
static void reindex(ca_vocab *v, size_t n)
{
	memset(v->slots, 0, v->nslots * sizeof(*v->slots));
	size_t mask = v->nslots - 1;
	for (size_t id = 0; id < n; id++) {
		size_t s = v->hash[id] & mask;
		while (v->slots[s])
			s = (s + 1) & mask;
		v->slots[s] = (uint32_t)id + 1;
	}
}

static int grow_array(void **p, size_t elem, size_t cap)
{
	void *q = realloc(*p, cap * elem);
	if (!q)
		return CA_ENOMEM;
	*p = q;
	return 0;
}

/* Room for `extra` more terms, so that the insert loop itself can only fail
 * on the term copy (which add_doc rolls back). */
static int reserve(ca_vocab *v, size_t extra)
{
	if (extra > (size_t)INT32_MAX - v->n)
		return CA_ETOOBIG; /* ids are int32_t in ca_vocab_id */
	size_t need = v->n + extra;
	if (need > v->cap) {
		size_t cap = v->cap ? v->cap : 64;
		while (cap < need)
			cap *= 2;
		if (grow_array((void **)&v->terms, sizeof(*v->terms), cap) < 0 ||
		    grow_array((void **)&v->hash, sizeof(*v->hash), cap) < 0 ||
		    grow_array((void **)&v->df, sizeof(*v->df), cap) < 0 ||
		    grow_array((void **)&v->seen, sizeof(*v->seen), cap) < 0)
			return CA_ENOMEM;
		v->cap = cap;
	}
	if (need * 2 > v->nslots) {
		size_t ns = v->nslots ? v->nslots : 128;
		while (ns < need * 2)
			ns *= 2;
		uint32_t *slots = malloc(ns * sizeof(*slots));
		if (!slots)
			return CA_ENOMEM;
		free(v->slots);
		v->slots = slots;
		v->nslots = ns;
		reindex(v, v->n);
	}
	return 0;
}

int ca_vocab_add_doc(ca_vocab *v, const char *const *terms, size_t n)
{
	if (!v || (!terms && n))
		return CA_EINVAL;
	if (v->frozen)
		return CA_ESTATE;
	for (size_t i = 0; i < n; i++)
		if (!terms[i])
			return CA_EINVAL;
	if (v->ndocs >= UINT32_MAX - 1)
		return CA_ETOOBIG; /* document stamps are 32-bit */
	int r = reserve(v, n);
	if (r < 0)
		return r;

	size_t n0 = v->n;
	uint32_t stamp = (uint32_t)v->ndocs + 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t h = fnv1a(terms[i]);
		size_t s = probe(v, terms[i], h);
		uint32_t id;
		if (v->slots[s]) {
			id = v->slots[s] - 1;
		} else {
			char *t = strdup(terms[i]);
			if (!t)
				goto nomem;
			id = (uint32_t)v->n++;
			v->terms[id] = t;
			v->hash[id] = h;
			v->df[id] = 0;
			v->seen[id] = 0;
			v->slots[s] = id + 1;
		}
		if (v->seen[id] != stamp) {
			v->seen[id] = stamp;
			v->df[id]++;
		}
	}
	v->ndocs++;
	return 0;

nomem:
	/* Undo this document entirely: the counts must describe whole docs. */
	for (size_t id = 0; id < n0; id++)
		if (v->seen[id] == stamp) {
			v->seen[id] = 0;
			v->df[id]--;
		}
	for (size_t id = n0; id < v->n; id++)
		free(v->terms[id]);
	v->n = n0;
	reindex(v, n0);
	return CA_ENOMEM;
}

static double idf_of(const ca_vocab *v, uint32_t id)
{
	return log((1.0 + (double)v->ndocs) / (1.0 + (double)v->df[id])) + 1.0;
}

void ca_vocab_freeze(ca_vocab *v)
{
	if (!v || v->frozen)
		return;
	/* The cache is only an optimisation: without memory, idf is computed
	 * on each call from the same counts, which gives the same numbers. */
	v->idf = malloc((v->n ? v->n : 1) * sizeof(*v->idf));
	if (v->idf)
		for (size_t id = 0; id < v->n; id++)
			v->idf[id] = idf_of(v, (uint32_t)id);
	free(v->seen);
	v->seen = NULL;
	v->frozen = true;
}

size_t ca_vocab_size(const ca_vocab *v)
{
	return v ? v->n : 0;
}

int32_t ca_vocab_id(const ca_vocab *v, const char *term)
{
	if (!v || !term || v->n == 0)
		return -1;
	size_t s = probe(v, term, fnv1a(term));
	return v->slots[s] ? (int32_t)(v->slots[s] - 1) : -1;
}

const char *ca_vocab_term(const ca_vocab *v, uint32_t id)
{
	return v && id < v->n ? v->terms[id] : NULL;
}

double ca_vocab_idf(const ca_vocab *v, uint32_t id)
{
	if (!v || id >= v->n)
		return 0.0;
	return v->idf ? v->idf[id] : idf_of(v, id);
}

void ca_svec_done(ca_svec *s)
{
	if (!s)
		return;
	free(s->idx);
	free(s->val);
	s->idx = NULL;
	s->val = NULL;
	s->n = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int ca_tfidf(const ca_vocab *v, const char *const *terms, size_t n, ca_svec *out)
{
	if (!v || !out || (!terms && n))
		return CA_EINVAL;

	uint32_t stackids[256];
	uint32_t *ids = stackids;
	if (n > CA_ARRAY_SIZE(stackids)) {
		if (n > SIZE_MAX / sizeof(*ids))
			return CA_ENOMEM;
		ids = malloc(n * sizeof(*ids));
		if (!ids)
			return CA_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t id = ca_vocab_id(v, terms[i]);
		if (id >= 0)
			ids[k++] = (uint32_t)id;
	}
	qsort(ids, k, sizeof(*ids), cmp_u32);

	size_t d = 0;
	for (size_t i = 0; i < k; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			d++;

	ca_svec nv = { 0 };
	int r = 0;
	if (d) {
		nv.idx = malloc(d * sizeof(*nv.idx));
		nv.val = malloc(d * sizeof(*nv.val));
		if (!nv.idx || !nv.val) {
			ca_svec_done(&nv);
			r = CA_ENOMEM;
			goto out;
		}
		double sum = 0.0;
		for (size_t i = 0; i < k;) {
			size_t j = i;
			while (j < k && ids[j] == ids[i])
				j++;
			/* Sublinear tf keeps one repeated word from dominating. */
			double w = (1.0 + log((double)(j - i))) * ca_vocab_idf(v, ids[i]);
			nv.idx[nv.n] = ids[i];
			nv.val[nv.n] = (float)w;
			nv.n++;
			sum += w * w;
			i = j;
		}
		double norm = sqrt(sum);
		if (norm > 0.0)
			for (size_t i = 0; i < nv.n; i++)
				nv.val[i] = (float)(nv.val[i] / norm);
	}
	ca_svec_done(out);
	*out = nv;
out:
	if (ids != stackids)
		free(ids);
	return r;
}

double ca_svec_dot(const ca_svec *a, const ca_svec *b)
{
	if (!a || !b)
		return 0.0;
	double sum = 0.0;
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		if (a->idx[i] < b->idx[j]) {
			i++;
		} else if (a->idx[i] > b->idx[j]) {
			j++;
		} else {
			sum += (double)a->val[i] * (double)b->val[j];
			i++;
			j++;
		}
	}
	/* float rounding can push identical vectors a hair past 1 */
	return sum < 0.0 ? 0.0 : sum > 1.0 ? 1.0 : sum;
}
