/* SPDX-License-Identifier: MIT */
/*
 * Layer 3 prediction. A predictor proposes a value for one field of a case
 * from a conversation, with a confidence and the evidence it rests on. The
 * interface is a struct of function pointers with a version field; the base
 * struct is the first member of every backend (as Postfix's DICT does).
 * Backends: `embedded` (this directory: statistical NLP, no model download,
 * every value explainable) and, later, `llm` (an OpenAI-compatible server).
 *
 * A ca_analysis caches per-message tokens and sentences for one conversation,
 * so repeated predictions as the chat grows only analyse the new messages.
 */
#ifndef CA_PREDICTOR_H
#define CA_PREDICTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "base.h"
#include "model.h"
#include "text.h"

/* Per-message analysis, filled by ca_analysis_sync. */
typedef struct ca_msg_info {
	ca_tokens tokens;    /* stems and offsets into the message text */
	uint32_t *stem_hash; /* FNV-1a of each token's stem, for fast phrase tests */
	uint8_t *flags;      /* CA_TF_* per token */
	ca_span *sentences;
	size_t n_sentences;
} ca_msg_info;

/* Token flags computed once per message. */
enum { CA_TF_STOP = 1, CA_TF_FILLER = 2 };

/* Incremental state one part of a predictor keeps per conversation (its
 * running sums over the messages seen so far), freed with the analysis. */
typedef struct ca_analysis_slot {
	const void *owner;
	void *state;
	void (*free_state)(void *state);
} ca_analysis_slot;

typedef struct ca_analysis {
	ca_msg_info *info;  /* info[i] belongs to msgs[i] */
	size_t n, cap;
	ca_analysis_slot *slots;
	size_t n_slots;
} ca_analysis;

/* The state `owner` keeps in this analysis, or NULL. */
void *ca_analysis_state(const ca_analysis *a, const void *owner);
/* Attach a state (ownership passes to the analysis even on failure). */
int ca_analysis_set_state(ca_analysis *a, const void *owner, void *state, void (*free_state)(void *));

void ca_analysis_init(ca_analysis *a);
void ca_analysis_done(ca_analysis *a);
/* Analyse msgs[a->n .. n). Messages already analysed are not looked at again,
 * so the caller must only append. CA_EUTF8 names nothing: callers validate
 * text at the edge. */
int ca_analysis_sync(ca_analysis *a, const ca_msg *msgs, size_t n, ca_stemmer *st);

/* FNV-1a 32-bit hash of a NUL-terminated string (Fowler, Noll, Vo). */
uint32_t ca_hash_str(const char *s);

/*
 * The directory of contacts and accounts, as the entity linker reads it: a
 * struct of function pointers with a version field (STYLE.md, "Interfaces").
 * casemgmt implements it over the store's key indexes (model.h, ca_dir_key),
 * so a directory of any size costs one indexed query per mention and is
 * never loaded; a test implements it over anything. It is given per call
 * (ca_predict_input) and never kept by a predictor, so one predictor can
 * serve threads that each read their own store connection.
 *
 *   find:        each record of `kind` with a key of a type in the bit set
 *                `types` equal to `key`, at most `limit` per type: fn(id,
 *                display name, type, fn_ud) (strings borrowed for the call).
 *   name_prefix: whether some record's name key is `stems` or continues it
 *                with a space and more stems.
 *   display:     the display name of a record (heap string, caller frees);
 *                CA_ENOTFOUND when there is no such record.
 * Each returns 0 or a negative CA_E* code.
 */
#define CA_DIRECTORY_VERSION 1
typedef int (*ca_directory_hit_fn)(const char *id, const char *display, unsigned type, void *fn_ud);
typedef struct ca_directory {
	unsigned version; /* CA_DIRECTORY_VERSION */
	void *ud;
	int (*find)(void *ud, ca_entity kind, unsigned types, const char *key, size_t limit, ca_directory_hit_fn fn,
		    void *fn_ud);
	int (*name_prefix)(void *ud, ca_entity kind, const char *stems, bool *ret);
	int (*display)(void *ud, ca_entity kind, const char *id, char **ret);
} ca_directory;

/* What a prediction reads. All borrowed for the call. */
typedef struct ca_predict_input {
	const ca_msg *msgs;
	size_t n_msgs;
	ca_analysis *analysis;      /* synced to n_msgs by the predictor */
	const json_t *case_fields;  /* current values of the case ({} if none) */
	const char *identity_contact; /* authenticated chat identity or e-mail
					 sender already resolved to a contact id */
	const ca_directory *directory; /* contacts and accounts, or NULL: only the
					  records given to ca_embedded_new */
} ca_predict_input;

#define CA_PREDICTOR_VERSION 1
typedef struct ca_predictor ca_predictor;
typedef struct ca_predictor_ops {
	unsigned version;   /* CA_PREDICTOR_VERSION */
	const char *name;
	/*
	 * Predict `field`. Returns 0 and fills *ret (caller frees with
	 * ca_prediction_done) when a value was found, CA_ENOTFOUND when the
	 * conversation holds no value for it (not an error: "not enough
	 * context"), or a negative error. Must not modify the input.
	 */
	int (*predict)(ca_predictor *p, const ca_predict_input *in, const ca_field_def *field,
		       ca_prediction *ret, ca_err *err);
	void (*free)(ca_predictor *p);
} ca_predictor_ops;

struct ca_predictor {
	const ca_predictor_ops *ops;
};

static inline int ca_predict(ca_predictor *p, const ca_predict_input *in, const ca_field_def *f,
			     ca_prediction *ret, ca_err *err)
{
	return p->ops->predict(p, in, f, ret, err);
}
static inline void ca_predictor_free(ca_predictor *p)
{
	if (p)
		p->ops->free(p);
}

/* ---- the embedded backend ---- */

/*
 * Build the embedded predictor.
 *   directory: {"product": [...], "subject": [...]} as returned by
 *               ca_store_directory_list (borrowed; indexes are built and the
 *               JSON is not kept): the small gazetteers kept in memory.
 *               Contacts and accounts come from ca_predict_input.directory;
 *               "contact"/"account" arrays given here are indexed in memory
 *               as well (tests, small tools).
 *   fields:    the field definitions it will be asked about (borrowed; must
 *               outlive the predictor).
 *   models:    trained option-set models, {"field": {"vocab": [...],
 *               "liblinear": "<model text>", "labels": [...],
 *               "calibration": {...}}} or NULL; a field may have only
 *               its "calibration" (ca_embedded_calibrate).
 * Caller frees with ca_predictor_free.
 */
int ca_embedded_new(const json_t *directory, const ca_field_def *fields, size_t n_fields,
		    const json_t *models, ca_predictor **ret, ca_err *err);

/*
 * Train option-set models with liblinear (L2-regularised logistic
 * regression, Fan et al., JMLR 9 (2008)) over TF-IDF features of the
 * examples' text. examples: array of {"text": "...", "fields": {...}}.
 * For each option field with at least `min_examples` labelled examples and
 * two classes, *ret gets {"field": {"vocab": [...], "idf": [...],
 * "liblinear": "<model text>", "labels": [...], "examples": N}} (new
 * reference). Fields with too little history are listed in
 * (*ret)["_skipped"] with the reason.
 */
int ca_embedded_train(const json_t *examples, const ca_field_def *fields, size_t n_fields,
		      size_t min_examples, json_t **ret, ca_err *err);

/*
 * Calibrate option-set confidences on labelled conversations, so that of
 * the values given confidence 0.8, about 8 in 10 are right. examples: array
 * of {"messages": [{"id", "role", "text"}], "fields": {...labels}}. For each
 * option field with at least `min_examples` labelled conversations, the
 * field's classifier (descriptions, or the trained model in `models`, any
 * old map left out) predicts each conversation whole, and an isotonic map
 * from its raw confidence to the share that was right is fit (pool
 * adjacent violators; Zadrozny and Elkan, KDD 2002). *ret (new reference):
 * {"field": {"method": "isotonic", "x": [...], "y": [...], "examples": N,
 * "bins": 10, "ece_before", "ece_after"}, "_skipped": {...}}; the ECEs are
 * on the fitting examples. Store a field's object as models[field]
 * ["calibration"] and ca_embedded_new applies it to every confidence.
 */
int ca_embedded_calibrate(const json_t *examples, const ca_field_def *fields, size_t n_fields, const json_t *models,
			  size_t min_examples, json_t **ret, ca_err *err);

/* Expected calibration error (Naeini, Cooper and Hauskrecht, AAAI 2015;
 * Guo et al., ICML 2017): over `bins` equal-width bins of confidence, the
 * share of predictions in each bin times |mean confidence - accuracy|. */
double ca_ece(const double *conf, const bool *correct, size_t n, unsigned bins);

#endif
