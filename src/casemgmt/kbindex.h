/* SPDX-License-Identifier: MIT */
/* The knowledge base's incremental TF-IDF index (kbindex.c). */
#ifndef CA_KBINDEX_H
#define CA_KBINDEX_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ca_kb_index ca_kb_index;

/* Index candidate articles (JSON objects with "title" and "issue"; kept by
 * reference). Caller frees with ca_kb_index_free. */
int ca_kb_index_build(const json_t *arts, ca_kb_index **ret);
void ca_kb_index_free(ca_kb_index *k);
/* Append one article (new draft or newly published). */
int ca_kb_index_add(ca_kb_index *k, const json_t *art);
/* The article most similar to text (new reference, NULL when none shares a
 * term) and its cosine in [0, 1]. With `ids` (n of them), only among the
 * articles whose "id" is one of those (the full-text candidates). */
int ca_kb_index_best(ca_kb_index *k, const char *text, json_t **ret_article, double *ret_sim);
int ca_kb_index_best_of(ca_kb_index *k, const char *text, const int64_t *ids, size_t n, json_t **ret_article,
			double *ret_sim);
size_t ca_kb_index_size(const ca_kb_index *k);

#endif
