/* SPDX-License-Identifier: MIT */
/*
 * Private to the embedded predictor: the pieces embedded.c assembles — entity
 * linkers (linker.c) and option-set classifiers (classify.c).
 */
#ifndef CA_PREDICT_INTERNAL_H
#define CA_PREDICT_INTERNAL_H

#include "predictor.h"

/* ---- phrases (phrase.c) ---- */

/* A phrase as a stem sequence with the hash of each stem; `tag` is the
 * owner's (an option index for option cues). */
typedef struct ca_phrase {
	char **stems;
	uint32_t *hash;
	size_t n;
	size_t tag;
} ca_phrase;

typedef struct ca_phrases {
	ca_phrase *v;
	size_t n;
	size_t *order; /* phrase indexes sorted by the hash of their first stem
			  (built by ca_phrases_index; NULL before) */
} ca_phrases;

/* Tokenise and stem `text` into a new phrase (text that is not valid UTF-8
 * or has no tokens adds nothing). CA_ENOMEM on failure. */
int ca_phrases_add(ca_phrases *p, const char *text, size_t tag, ca_stemmer *st);
void ca_phrases_done(ca_phrases *p);
/* Sort the phrases by first-stem hash so the phrases that can start at a
 * token are found by binary search. Call once all are added. */
int ca_phrases_index(ca_phrases *p);
/* Positions in p->order of the phrases whose first stem hashes to h:
 * [*ret_lo, *ret_hi). Needs ca_phrases_index. */
void ca_phrases_starting(const ca_phrases *p, uint32_t h, size_t *ret_lo, size_t *ret_hi);
/* Does the phrase start at token i of the message? */
bool ca_phrase_matches(const ca_phrase *ph, const ca_msg_info *mi, size_t i);

/* ---- the product and subject gazetteer (gazetteer.c) ---- */

/*
 * Names, aliases and product numbers of products or subjects (records:
 * a JSON array of {"id", "name", "aliases": [...], "product_number"},
 * borrowed), indexed for linking: a whole name or alias in a row, a word
 * only one record's names have, every word of a name said apart, close
 * misspellings of long words (Levenshtein distance 1, or 2 from 8 letters,
 * same first letter) unless the word is itself in the word list
 * `words_path` (one word a line; NULL: /usr/share/dict/words, Debian's
 * wamerican; without a list no misspelling is matched and a lone word
 * speaks for a record only as its capitalised first word), and the product
 * number in any spelling of its letters and digits.
 * Immutable once built: any number of threads may predict with it at once.
 * Starts with one reference; ca_gazetteer_unref drops one and frees it with
 * the last (NULL-safe). CA_ENOMEM.
 */
typedef struct ca_gazetteer ca_gazetteer;
int ca_gazetteer_new(ca_entity kind, const json_t *records, ca_stemmer *st, const char *words_path,
		     ca_gazetteer **ret, ca_err *err);
ca_gazetteer *ca_gazetteer_ref(ca_gazetteer *g);
void ca_gazetteer_unref(ca_gazetteer *g);
size_t ca_gazetteer_size(const ca_gazetteer *g);
/* Best record for the conversation, its confidence the best score less half
 * the runner-up's; evidence: the strongest mention. Keeps its running state
 * in in->analysis (synced by the caller). CA_ENOTFOUND when nothing links. */
int ca_gazetteer_predict(const ca_gazetteer *g, const ca_predict_input *in, const ca_field_def *f,
			 ca_prediction *ret);

/* ---- entity linking (lookup fields) ---- */

typedef struct ca_linker ca_linker;
/* Index one kind of directory record ("contact", "product"...) from a JSON
 * array of records (may be NULL: contacts and accounts then come from the
 * call's directory alone). Immutable once built and reference-counted, so
 * threads may share it: the caller holds one reference and drops it with
 * ca_linker_unref (NULL-safe). */
int ca_linker_new(ca_entity kind, const json_t *records, ca_stemmer *st, ca_linker **ret, ca_err *err);
ca_linker *ca_linker_ref(ca_linker *l);
void ca_linker_unref(ca_linker *l);
/* Best record for the conversation; CA_ENOTFOUND when nothing links.
 * Contacts and accounts are also looked up in in->directory. */
int ca_linker_predict(const ca_linker *l, const ca_predict_input *in, const ca_field_def *f,
		      ca_prediction *ret);

/* ---- option sets ---- */

typedef struct ca_classifier ca_classifier;
/* From the admin's option descriptions (and cues), plus a trained liblinear
 * model when `model` (one entry of the trained models object) is given. */
int ca_classifier_new(const ca_field_def *f, const json_t *model, ca_stemmer *st,
		      ca_classifier **ret, ca_err *err);
void ca_classifier_free(ca_classifier *c);
int ca_classifier_predict(const ca_classifier *c, const ca_predict_input *in, const ca_field_def *f,
			  ca_prediction *ret);

/* Terms (stems of content words) of one token list, appended to *out as
 * borrowed pointers into the tokens. */
int ca_content_terms(const ca_tokens *t, size_t from, size_t to, const char ***terms, size_t *n, size_t *cap);

/* True for chat filler ("thanks", "ok", "hi"...), given a folded token. */
bool ca_filler_word(const char *norm);

/* Set p->field/value/display/method and confidence (copies strings). */
int ca_prediction_set(ca_prediction *p, const ca_field_def *f, const char *value, const char *display,
		      double confidence, const char *method);

#endif
