/* SPDX-License-Identifier: MIT */
/*
 * Phrases as stem sequences (cue words of fields and options, problem cues):
 * tokenised and stemmed once, matched against a message's tokens by hash
 * first and by string only to confirm. One piece for every cue list of the
 * embedded predictor.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

void ca_phrases_done(ca_phrases *p)
{
	for (size_t i = 0; i < p->n; i++) {
		for (size_t k = 0; k < p->v[i].n; k++)
			free(p->v[i].stems[k]);
		free(p->v[i].stems);
		free(p->v[i].hash);
	}
	free(p->v);
	free(p->order);
	memset(p, 0, sizeof(*p));
}

int ca_phrases_add(ca_phrases *p, const char *text, size_t tag, ca_stemmer *st)
{
	ca_tokens t = { 0 };
	int r = ca_tokenize(text, strlen(text), 0, st, &t);
	if (r || t.n == 0) {
		ca_tokens_done(&t);
		return r == CA_EUTF8 ? 0 : r; /* a phrase that is not text matches nothing */
	}
	ca_phrase *v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v) {
		ca_tokens_done(&t);
		return CA_ENOMEM;
	}
	p->v = v;
	ca_phrase *ph = &p->v[p->n++];
	ph->stems = calloc(t.n, sizeof(char *));
	ph->hash = calloc(t.n, sizeof(uint32_t));
	ph->n = 0;
	ph->tag = tag;
	if (!ph->stems || !ph->hash)
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < t.n; i++) {
		if (!(ph->stems[i] = strdup(t.v[i].stem)))
			r = CA_ENOMEM;
		else
			ph->hash[ph->n++] = ca_hash_str(t.v[i].stem);
	}
	ca_tokens_done(&t);
	return r;
}

static int cmp_first_hash(const void *a, const void *b, void *ctx)
{
	const ca_phrases *p = ctx;
	uint32_t x = p->v[*(const size_t *)a].hash[0], y = p->v[*(const size_t *)b].hash[0];
	return (x > y) - (x < y);
}

int ca_phrases_index(ca_phrases *p)
{
	free(p->order);
	p->order = malloc((p->n ? p->n : 1) * sizeof(size_t));
	if (!p->order)
		return CA_ENOMEM;
	for (size_t i = 0; i < p->n; i++)
		p->order[i] = i;
	qsort_r(p->order, p->n, sizeof(size_t), cmp_first_hash, p);
	return 0;
}

void ca_phrases_starting(const ca_phrases *p, uint32_t h, size_t *ret_lo, size_t *ret_hi)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->v[p->order[mid]].hash[0] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < p->n && p->v[p->order[end]].hash[0] == h)
		end++;
	*ret_lo = lo;
	*ret_hi = end;
}

bool ca_phrase_matches(const ca_phrase *ph, const ca_msg_info *mi, size_t i)
{
	const ca_tokens *t = &mi->tokens;
	if (ph->n == 0 || i + ph->n > t->n)
		return false;
	for (size_t k = 0; k < ph->n; k++)
		if (ph->hash[k] != mi->stem_hash[i + k] || strcmp(ph->stems[k], t->v[i + k].stem) != 0)
			return false;
	return true;
}
