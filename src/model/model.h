/* SPDX-License-Identifier: MIT */
/*
 * Layer 1 entity and field metadata: the field types an administrator can put
 * on a case (text, lookup, option set, pattern string, number, date, boolean),
 * their definitions as parsed from settings JSON, the standard case fields,
 * conversation messages, and predicted values with their evidence.
 */
#ifndef CA_MODEL_H
#define CA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base.h"

/* ---- conversation messages ---- */

/* Who wrote a message. System and bot lines are never a person's words. */
typedef enum ca_role {
	CA_ROLE_CUSTOMER = 1,
	CA_ROLE_AGENT,    /* the representative */
	CA_ROLE_SYSTEM,   /* tool/action logs, joins, transfers */
	CA_ROLE_BOT,
} ca_role;

/* "customer" | "agent" | "system" | "bot" -> role; 0 when unknown. */
ca_role ca_role_parse(const char *s);
const char *ca_role_name(ca_role r);

/* A message as the predictor and summariser read it; all strings borrowed. */
typedef struct ca_msg {
	const char *id;    /* stable message id (evidence points here) */
	ca_role role;
	const char *text;  /* valid UTF-8 */
	size_t len;
} ca_msg;

/* ---- fields ---- */

typedef enum ca_field_type {
	CA_FT_TEXT = 1,
	CA_FT_LOOKUP,
	CA_FT_OPTION,
	CA_FT_PATTERN,
	CA_FT_NUMBER,
	CA_FT_DATE,
	CA_FT_BOOLEAN,
} ca_field_type;

typedef enum ca_entity {
	CA_ENT_NONE = 0,
	CA_ENT_CONTACT,
	CA_ENT_ACCOUNT,
	CA_ENT_PRODUCT,
	CA_ENT_SUBJECT,
} ca_entity;

const char *ca_field_type_name(ca_field_type t);
const char *ca_entity_name(ca_entity e);

/*
 * Directory lookup keys: the normalised forms under which a contact or an
 * account is found, written beside the record when it is stored and
 * computed the same way from what a customer writes, so the entity linker
 * finds a record through an index instead of holding the directory in
 * memory. Bits, so one lookup can ask for several kinds of key at once.
 */
typedef enum ca_dir_key {
	CA_DIRKEY_EMAIL = 1,          /* ca_email_addr_key: as mail compares addresses */
	CA_DIRKEY_PHONE = 2,          /* ca_phone_norm: digits, NANP "1" dropped */
	CA_DIRKEY_USERNAME = 4,       /* ca_text_fold */
	CA_DIRKEY_ACCOUNT_NUMBER = 8, /* ca_text_fold */
	CA_DIRKEY_NAME = 16,          /* stems of the name's tokens, joined by ' ' */
} ca_dir_key;

/* A name of more tokens than this gets no name key: no one types a whole
 * seven-word name, and message n-grams are tried up to this length. */
#define CA_DIR_NAME_MAX_TOKENS 6

/*
 * The key of type `type` for the raw value `raw` (an e-mail address, a
 * phone number, a user name, an account number, a full name). `st` stems
 * the tokens of a name (may be NULL for the other types). *ret: a heap
 * string the caller frees, or NULL when the value has no key (not an
 * address, too few digits, no tokens, a name over CA_DIR_NAME_MAX_TOKENS
 * tokens, invalid UTF-8). Returns 0 or CA_ENOMEM.
 */
struct ca_stemmer;
int ca_dir_key_of(ca_dir_key type, const char *raw, struct ca_stemmer *st, char **ret);

/* One choice of an option set, as the administrator describes it. */
typedef struct ca_option {
	char *value;        /* stored value, e.g. "product_defect" */
	char *label;        /* shown to people, e.g. "Product defect" */
	char *description;  /* admin's prose: what cases of this kind are about */
	ca_strv cues;       /* optional keyword cues (last resort) */
	ca_strv subcategories; /* "Label. description" of each subcategory the
				  admin described; each is a prototype of its own */
} ca_option;

/*
 * A field definition. Owned by the settings that parsed it; immutable after
 * parsing. `pattern` is compiled with PCRE2 (UTF, case-insensitive) into an
 * opaque `re` (pcre2_code*).
 */
typedef struct ca_field_def {
	char *name;          /* key: "customer", "category", "order_number", ... */
	char *label;         /* "Customer", "Order number" */
	ca_field_type type;
	ca_entity lookup;    /* for CA_FT_LOOKUP */
	ca_option *options;  /* for CA_FT_OPTION */
	size_t n_options;
	char *pattern;       /* for CA_FT_PATTERN: PCRE2 source */
	void *re;            /* compiled pattern */
	ca_strv cues;        /* cue words/phrases that anchor a value ("order id") */
	double threshold;    /* confidence needed to write, 0..1 */
	bool standard;       /* maps to a column of the case table */
} ca_field_def;

/*
 * Parse one field definition from JSON (docs/settings.md). `path` prefixes
 * error locations ("fields[3]"). Errors name the key: unknown type, unknown
 * lookup entity, option set without options, bad regex (with PCRE2's message
 * and offset), threshold outside [0,1], unknown key. On success *def is
 * filled (caller releases with ca_field_def_done).
 */
int ca_field_def_parse(const json_t *j, const char *path, ca_field_def *def, ca_err *err);
void ca_field_def_done(ca_field_def *def);
/* The definition as JSON (new reference). */
json_t *ca_field_def_to_json(const ca_field_def *def);
/* Index of an option by value (exact) or label (case-insensitive); -1 if none. */
int ca_field_option_index(const ca_field_def *def, const char *value);

/* Standard case columns, in the order of the case table. A field definition
 * whose name is one of these is stored in that column; others are custom. */
extern const char *const ca_case_standard_fields[];
extern const size_t ca_case_standard_field_count;
bool ca_case_is_standard_field(const char *name);

/* ---- predicted values ---- */

/* Where a predicted value came from in the conversation. */
typedef struct ca_evidence {
	char *msg_id;          /* message id, or NULL when not text-anchored */
	uint32_t begin, end;   /* byte offsets into that message's text */
} ca_evidence;

/*
 * A proposed value for one field. `value` is the stored form (a record id for
 * lookups, an option value, a string, a decimal number, an ISO date,
 * "true"/"false"); `display` what a person reads (may equal value). `method`
 * names how it was found ("email-match", "option-description-similarity",
 * "liblinear", "pattern+cue", ...). Caller owns all strings (ca_prediction_done).
 */
typedef struct ca_prediction {
	char *field;
	char *value;
	char *display;
	double confidence;     /* 0..1 */
	char *method;
	ca_evidence *evidence; /* most relevant first */
	size_t n_evidence;
} ca_prediction;

void ca_prediction_done(ca_prediction *p);
/* Append one evidence span (copies msg_id). */
int ca_prediction_add_evidence(ca_prediction *p, const char *msg_id, uint32_t begin, uint32_t end);
/* {"field","value","display","confidence","method","evidence":[{"message","begin","end"}]} */
json_t *ca_prediction_to_json(const ca_prediction *p);

#endif
