/* SPDX-License-Identifier: MIT */
/*
 * ROUGE, the overlap measures by which the conversation summary is scored
 * against human summaries (`caseagent eval summary`): ROUGE-N over clipped
 * n-gram counts and ROUGE-L over the longest common subsequence, as defined by
 * Lin, "ROUGE: A Package for Automatic Evaluation of Summaries" (ACL 2004
 * Workshop "Text Summarization Branches Out"), §2 and §3.1, reported as
 * precision, recall and F1 (β = 1). Text is lower-cased ASCII and tokens are
 * the runs of [a-z0-9], the tokenisation of the tweetsumm dataset's README
 * (and of the rouge-score package without stemming), so figures compare with
 * the reference points published there. No stemming, no stop-word removal.
 */
#include "summary.h"

#include <stdlib.h>
#include <string.h>

static bool tok_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

void ca_rouge_tokens_done(ca_rouge_tokens *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int ca_rouge_tokenize(const char *text, size_t len, ca_rouge_tokens *out)
{
	if (!out || (len > 0 && !text))
		return CA_EINVAL;
	ca_rouge_tokens t = { 0 };
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (tok_char(lower((unsigned char)text[i])) && (i == 0 || !tok_char(lower((unsigned char)text[i - 1]))))
			n++;
	/* Every token is followed by a NUL, and a separator precedes every
	 * token but the first, so len + 1 bytes hold them; one more ends buf. */
	t.buf = malloc(len + 2);
	t.v = malloc((n ? n : 1) * sizeof(*t.v));
	if (!t.buf || !t.v) {
		ca_rouge_tokens_done(&t);
		return CA_ENOMEM;
	}
	size_t w = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = lower((unsigned char)text[i]);
		if (!tok_char(c)) {
			i++;
			continue;
		}
		t.v[t.n++] = t.buf + w;
		while (i < len && tok_char(c = lower((unsigned char)text[i]))) {
			t.buf[w++] = (char)c;
			i++;
		}
		t.buf[w++] = '\0';
	}
	t.buf[w] = '\0';
	ca_rouge_tokens_done(out);
	*out = t;
	return 0;
}

static void fill(ca_rouge *r, double overlap, size_t n_cand, size_t n_ref)
{
	r->precision = n_cand ? overlap / (double)n_cand : 0;
	r->recall = n_ref ? overlap / (double)n_ref : 0;
	r->f1 = r->precision + r->recall > 0 ? 2 * r->precision * r->recall / (r->precision + r->recall) : 0;
}

/* An n-gram: n consecutive tokens starting at t. Self-describing, so that
 * qsort's comparator needs no outside state. */
typedef struct gram {
	const char *const *t;
	unsigned n;
} gram;

static int gram_cmp(const void *pa, const void *pb)
{
	const gram *a = pa, *b = pb;
	for (unsigned i = 0; i < a->n; i++) {
		int c = strcmp(a->t[i], b->t[i]);
		if (c)
			return c;
	}
	return 0;
}

static gram *grams(const ca_rouge_tokens *t, unsigned n, size_t *ret_n)
{
	size_t k = t->n >= n ? t->n - n + 1 : 0;
	gram *g = malloc((k ? k : 1) * sizeof(*g));
	if (!g)
		return NULL;
	for (size_t i = 0; i < k; i++)
		g[i] = (gram){ .t = (const char *const *)&t->v[i], .n = n };
	qsort(g, k, sizeof(*g), gram_cmp);
	*ret_n = k;
	return g;
}

int ca_rouge_n(const ca_rouge_tokens *cand, const ca_rouge_tokens *ref, unsigned n, ca_rouge *ret)
{
	if (!cand || !ref || !ret || n == 0)
		return CA_EINVAL;
	size_t nc = 0, nr = 0;
	gram *gc = grams(cand, n, &nc), *gr = grams(ref, n, &nr);
	if (!gc || !gr) {
		free(gc);
		free(gr);
		return CA_ENOMEM;
	}
	/* Both sorted: walking them together counts, for every distinct n-gram,
	 * min(count in candidate, count in reference) — Lin's Count_match. */
	size_t i = 0, j = 0, overlap = 0;
	while (i < nc && j < nr) {
		int c = gram_cmp(&gc[i], &gr[j]);
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			overlap++;
			i++;
			j++;
		}
	}
	free(gc);
	free(gr);
	fill(ret, (double)overlap, nc, nr);
	return 0;
}

int ca_rouge_lcs(const ca_rouge_tokens *a, const ca_rouge_tokens *b, size_t *ret_len)
{
	if (!a || !b || !ret_len)
		return CA_EINVAL;
	/* The classic dynamic programme, one row at a time: O(|a|·|b|) time,
	 * O(|b|) memory. */
	size_t *row = calloc(b->n + 1, sizeof(*row));
	if (!row)
		return CA_ENOMEM;
	for (size_t i = 0; i < a->n; i++) {
		size_t diag = 0; /* row[j] of the previous row, before it is overwritten */
		for (size_t j = 1; j <= b->n; j++) {
			size_t up = row[j];
			if (strcmp(a->v[i], b->v[j - 1]) == 0)
				row[j] = diag + 1;
			else if (row[j - 1] > row[j])
				row[j] = row[j - 1];
			diag = up;
		}
	}
	*ret_len = row[b->n];
	free(row);
	return 0;
}

int ca_rouge_l(const ca_rouge_tokens *cand, const ca_rouge_tokens *ref, ca_rouge *ret)
{
	if (!ret)
		return CA_EINVAL;
	size_t l = 0;
	int r = ca_rouge_lcs(cand, ref, &l);
	if (r < 0)
		return r;
	fill(ret, (double)l, cand->n, ref->n);
	return 0;
}

int ca_rouge_best(const char *cand, const char *const *refs, size_t n_refs, ca_rouge_scores *ret)
{
	if (!cand || !ret || (n_refs > 0 && !refs))
		return CA_EINVAL;
	ca_rouge_scores best;
	memset(&best, 0, sizeof(best));
	ca_rouge_tokens tc = { 0 }, tr = { 0 };
	int r = ca_rouge_tokenize(cand, strlen(cand), &tc);
	for (size_t i = 0; r == 0 && i < n_refs; i++) {
		if (!refs[i]) {
			r = CA_EINVAL;
			break;
		}
		ca_rouge s1, s2, sl;
		r = ca_rouge_tokenize(refs[i], strlen(refs[i]), &tr);
		if (r == 0)
			r = ca_rouge_n(&tc, &tr, 1, &s1);
		if (r == 0)
			r = ca_rouge_n(&tc, &tr, 2, &s2);
		if (r == 0)
			r = ca_rouge_l(&tc, &tr, &sl);
		if (r < 0)
			break;
		/* Each measure takes its own best reference, by F1. */
		if (i == 0 || s1.f1 > best.rouge1.f1)
			best.rouge1 = s1;
		if (i == 0 || s2.f1 > best.rouge2.f1)
			best.rouge2 = s2;
		if (i == 0 || sl.f1 > best.rougeL.f1)
			best.rougeL = sl;
	}
	ca_rouge_tokens_done(&tc);
	ca_rouge_tokens_done(&tr);
	if (r < 0)
		return r;
	*ret = best;
	return 0;
}
