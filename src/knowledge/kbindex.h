/* SPDX-License-Identifier: MIT */
/* The knowledge base's incremental TF-IDF index (kbindex.c). */
#ifndef CA_KBINDEX_H
#define CA_KBINDEX_H

#include <jansson.h>
#include "base.h"
#include "text.h"
#include <stdint.h>
#include <sys/types.h>

typedef struct ca_kb_index ca_kb_index;

/* Is a token left out of similarity and full-text queries? A word that is a
 * stop word or shorter than three letters (numbers and codes stay). */
bool ca_kb_skip_token(const ca_token *tok);

/* Index candidate articles (JSON objects with "title" and "issue"; kept by
 * reference). Caller frees with ca_kb_index_free. */
int ca_kb_index_build(const json_t *arts, ca_kb_index **ret);
void ca_kb_index_free(ca_kb_index *k);
/* Append one article (new draft or newly published). */
int ca_kb_index_add(ca_kb_index *k, const json_t *art);
/*
 * A text read once for the index (ca_kb_query_new): its content stems
 * weighed by TF-IDF with the index's document frequencies at that moment
 * (idf = ln((1 + N + 1) / (1 + df + 1)) + 1, the query counted as a
 * document), and its rarest words, at most max_words: the first always, the
 * next while the sum of their document frequencies stays within df_budget,
 * so a full-text query on them matches about that many articles.
 */
typedef struct ca_kb_query ca_kb_query;
int ca_kb_query_new(ca_kb_index *k, const char *text, size_t max_words, size_t df_budget, ca_kb_query **ret);
void ca_kb_query_free(ca_kb_query *q);
const ca_strv *ca_kb_query_words(const ca_kb_query *q);
/* Among the articles whose "id" is one of ids (n of them; the full-text
 * candidates), the one most similar to the query (new reference, NULL when
 * none shares a term) and its cosine in [0, 1]. */
int ca_kb_index_best_of(ca_kb_index *k, const ca_kb_query *q, const int64_t *ids, size_t n, json_t **ret_article,
			double *ret_sim);
size_t ca_kb_index_size(const ca_kb_index *k);
#endif
