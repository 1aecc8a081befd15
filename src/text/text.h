/* SPDX-License-Identifier: MIT */
/*
 * Layer 1 text processing: UTF-8 validation, Unicode folding (utf8proc),
 * tokens with byte offsets, sentence spans, English stemming (libstemmer,
 * Snowball "english"), stop words, phone/e-mail normalisation, bounded edit
 * distance, and sparse TF-IDF vectors with cosine similarity. Everything the
 * embedded predictor and the summariser read text through.
 *
 * Offsets are byte offsets into the caller's original (unfolded) text, so
 * evidence spans can be shown to a person exactly as written.
 * Thread-safety: functions are reentrant; a ca_stemmer and a ca_vocab are not
 * safe for concurrent use (one per thread), except that a frozen ca_vocab
 * (see ca_vocab_freeze) may be read from many threads.
 */
#ifndef CA_TEXT_H
#define CA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base.h"

/* ---- UTF-8 ---- */

/* True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). On false, *ret_bad (if non-NULL) is the
 * byte offset of the first bad sequence. */
bool ca_utf8_valid(const char *s, size_t len, size_t *ret_bad);

/* The length of s[0..len) cut to at most max bytes without splitting a UTF-8
 * sequence: max itself when s[max] starts a character (or max >= len), else
 * the start of the character that s[max] continues. For log rows, excerpts
 * and JSON strings (jansson refuses a split sequence). */
size_t ca_utf8_cut(const char *s, size_t len, size_t max);

/* Unicode NFKC + case fold + strip combining marks, via utf8proc
 * (utf8proc_map with COMPOSE|COMPAT|CASEFOLD|STRIPMARK|STABLE).
 * Returns a heap string the caller frees with free(); CA_EUTF8 on invalid
 * input, CA_ENOMEM on allocation failure. */
int ca_text_fold(const char *s, size_t len, char **ret);

/* ---- tokens ---- */

enum ca_token_kind {
	CA_TOK_WORD = 1,   /* letters (may contain inner apostrophe or hyphen) */
	CA_TOK_NUMBER,     /* digits, optionally with inner . , - (e.g. 3348917502, 9.99) */
	CA_TOK_ALNUM,      /* mixed letters and digits: 4VEJCYVP8U, cminh730, B07XYZ */
	CA_TOK_EMAIL,      /* local@domain.tld kept whole */
};

/*
 * One token. `norm` is the folded form (ca_text_fold, ASCII lower for ASCII),
 * `stem` the Snowball English stem of `norm` for CA_TOK_WORD (equal to `norm`
 * for other kinds, or when no stemmer was given). Both are owned by the
 * ca_tokens that holds the token. [begin, end) are byte offsets into the
 * original text.
 */
typedef struct ca_token {
	char *norm;
	char *stem;
	uint32_t begin, end;
	uint8_t kind;
} ca_token;

typedef struct ca_tokens {
	ca_token *v;
	size_t n, cap;
} ca_tokens;

/* Opaque English stemmer (wraps sb_stemmer; not thread-safe). */
typedef struct ca_stemmer ca_stemmer;
/* Caller frees with ca_stemmer_free (NULL-safe). NULL on ENOMEM. */
ca_stemmer *ca_stemmer_new(void);
void ca_stemmer_free(ca_stemmer *st);
/* Stem one folded word into a heap string (caller frees). NULL on ENOMEM. */
char *ca_stem(ca_stemmer *st, const char *word);

/*
 * Split text[0..len) into tokens, appending to *out. Punctuation and
 * whitespace are dropped. `base` is added to every offset (so a caller can
 * tokenize a substring and keep offsets relative to the whole message).
 * `st` may be NULL (then stem == norm). Text must be valid UTF-8 (CA_EUTF8
 * otherwise). CA_ENOMEM on allocation failure; *out stays consistent.
 */
int ca_tokenize(const char *text, size_t len, uint32_t base, ca_stemmer *st, ca_tokens *out);
/* Free all tokens; the struct may be reused after (it is reset to empty). */
void ca_tokens_done(ca_tokens *t);
void ca_tokens_reset(ca_tokens *t);

/* True for common English function words ("the", "i", "my", "is"...), given
 * a folded token. */
bool ca_stopword(const char *norm);

/*
 * A fixed set of words (a static list of fewer than 512) to ask "is this one
 * of them" in constant time: declare `static ca_wordset set =
 * CA_WORDSET(list);` beside the list and call ca_wordset_has(&set, word).
 * The table is built on first use; thread-safe. The list is borrowed for
 * the life of the program.
 */
#define CA_WORDSET_SLOTS 1024u
typedef struct ca_wordset {
	const char *const *words;
	size_t n;
	int ready;
	uint16_t slot[CA_WORDSET_SLOTS]; /* word index + 1; 0 empty */
} ca_wordset;
#define CA_WORDSET(list) { (list), sizeof(list) / sizeof((list)[0]), 0, { 0 } }
bool ca_wordset_has(ca_wordset *ws, const char *word);

/* ---- sentences ---- */

typedef struct ca_span {
	uint32_t begin, end; /* byte offsets [begin, end), trimmed of whitespace */
} ca_span;

/*
 * Split text into sentences at . ! ? (not inside numbers like 9.99, e-mail
 * addresses or common abbreviations like "e.g.", "Mr."), and at newlines.
 * *ret is a heap array (caller frees with free()), *ret_n its length; empty
 * sentences are skipped. CA_ENOMEM on failure.
 */
int ca_sentences(const char *text, size_t len, ca_span **ret, size_t *ret_n);

/* ---- normalisation of identifiers ---- */

/*
 * Phone number to a digits-only canonical form: keeps digits, drops a leading
 * "+1"/"1" country code on 11-digit NANP numbers, so "(977) 625-2661",
 * "977.625.2661" and "+1 977 625 2661" all give "9776252661". Requires 7 to
 * 15 digits (ITU-T E.164 maximum); CA_EINVAL otherwise. out has 16+ bytes.
 */
int ca_phone_norm(const char *s, char out[static 16]);

/* E-mail address folded to lower case and trimmed; CA_EINVAL if it does not
 * look like local@domain.tld. Caller frees *ret. */
int ca_email_norm(const char *s, char **ret);

/*
 * The one normalised form of an e-mail address (src/text/address.c): the
 * local part case-folded (ASCII lower case; NFC + Unicode case fold for
 * RFC 6531 local parts), the domain as its lower-case IDNA2008 A-label
 * (RFC 5891, GNU libidn2), a trailing root dot dropped; surrounding blanks
 * and angle brackets are ignored. Own-address checks, rate limits and
 * auto-response limits compare this form, nothing else. A domain that is
 * not a valid IDN keeps its folded UTF-8 spelling. *ret: heap, caller
 * frees. CA_EINVAL when there is no local@domain or it holds CR/LF,
 * CA_EUTF8 for bad UTF-8, CA_ENOMEM.
 */
int ca_email_addr_key(const char *addr, char **ret);

/* Levenshtein distance between a and b (bytes), or max+1 once it exceeds max
 * (bounded: O(len * max) time). */
unsigned ca_edit_distance(const char *a, const char *b, unsigned max);
/* Optimal string alignment distance: Levenshtein plus the transposition of
 * two neighbours (Damerau 1964: "Halycon" is one slip from "Halcyon"),
 * bytes, or max + 1 once it exceeds max; words of 64 bytes or more are
 * measured without transpositions (ca_edit_distance). */
unsigned ca_osa_distance(const char *a, const char *b, unsigned max);

/* ---- TF-IDF ---- */

/*
 * A vocabulary: term -> id with document frequencies. Build it by adding the
 * term lists of a corpus (ca_vocab_add_doc), then freeze it; a frozen vocab
 * is read-only and gives idf = ln((1 + N) / (1 + df)) + 1 (smoothed idf as in
 * scikit-learn's TfidfVectorizer). Terms not in a frozen vocab are ignored by
 * ca_tfidf.
 */
typedef struct ca_vocab ca_vocab;
ca_vocab *ca_vocab_new(void);                 /* caller frees with ca_vocab_free */
void ca_vocab_free(ca_vocab *v);
/* Count each distinct term of one document once. Not allowed after freeze. */
int ca_vocab_add_doc(ca_vocab *v, const char *const *terms, size_t n);
void ca_vocab_freeze(ca_vocab *v);
size_t ca_vocab_size(const ca_vocab *v);
/* Term id, or -1 when unknown. */
int32_t ca_vocab_id(const ca_vocab *v, const char *term);
const char *ca_vocab_term(const ca_vocab *v, uint32_t id); /* borrowed */
double ca_vocab_idf(const ca_vocab *v, uint32_t id);

/* A sparse vector: ids strictly ascending, values L2-normalised (unless all
 * zero). Zero-initialise; ca_svec_done frees. */
typedef struct ca_svec {
	uint32_t *idx;
	float *val;
	size_t n;
} ca_svec;
void ca_svec_done(ca_svec *s);

/* tf (1 + ln count, sublinear) x idf over a frozen vocab, L2-normalised.
 * Writes *out (previous contents freed). CA_ENOMEM on failure. */
int ca_tfidf(const ca_vocab *v, const char *const *terms, size_t n, ca_svec *out);
/* Cosine of two L2-normalised sparse vectors (a dot product), in [0, 1]. */
double ca_svec_dot(const ca_svec *a, const ca_svec *b);

#endif
