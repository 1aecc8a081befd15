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

/* What of an article an index holds: its title (weighed thrice) and
 * issue, or its resolution. */
typedef enum ca_kb_field { CA_KB_ISSUE, CA_KB_RESOLUTION } ca_kb_field;

/* Is a token left out of similarity and full-text queries? A word that is a
 * stop word, a word of conversation (ca_kb_chat_word: "please", "thanks",
 * "help") or shorter than three letters (numbers and codes stay). */
bool ca_kb_skip_token(const ca_token *tok);
bool ca_kb_chat_word(const char *norm);
/* Is a token of text a placeholder's name ("[PERSON]", "[LINK]": what PII
 * removal and link masking leave), which says nothing of an issue? */
bool ca_kb_placeholder(const char *text, const ca_token *tok);

/* Index candidate articles (JSON objects with "title", "issue" and
 * "resolution"; kept by reference). Caller frees with ca_kb_index_free.
 * An issue index keeps a resolution index of the same articles beside it
 * (ca_kb_index_resolutions; add appends to both, free frees both). */
int ca_kb_index_build(const json_t *arts, ca_kb_field field, ca_kb_index **ret);
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
/* One article against a query: its cosine, and how many terms they share
 * and how many of those are informative (in at most 30 % of the
 * articles, or in 2). All zero for an article not indexed. */
typedef struct ca_kb_match {
	double sim;
	size_t shared, informative;
} ca_kb_match;
int ca_kb_index_score(ca_kb_index *k, const ca_kb_query *q, int64_t id, ca_kb_match *ret);
/* An issue index's resolution index (borrowed), NULL for any other. */
ca_kb_index *ca_kb_index_resolutions(ca_kb_index *k);
/* Does the index hold an article with at least one content term? */
bool ca_kb_index_has_text(const ca_kb_index *k, int64_t id);
/* An indexed article by id (new reference), NULL when not indexed. */
json_t *ca_kb_index_article(const ca_kb_index *k, int64_t id);
size_t ca_kb_index_size(const ca_kb_index *k);
#endif
