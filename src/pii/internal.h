/* SPDX-License-Identifier: MIT */
/*
 * Private interface between the files of the pii module: the recogniser
 * object, the lexicon's word flags, the per-recogniser scanners (patterns.c
 * for the checksummed and regular identifiers, address.c, names.c) and the
 * small text helpers they share (context cue words, PCRE2 matching over a
 * byte range). Nothing here is seen outside src/pii/.
 */
#ifndef CA_PII_INTERNAL_H
#define CA_PII_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>

#include "pii.h"

/* ---- lexicon ---- */

enum {
	LX_COMMON = 1u << 0,  /* a lower-case word of the word list */
	LX_PROPER = 1u << 1,  /* a capitalised entry of the word list */
	LX_GIVEN = 1u << 2,   /* a given name (census) */
	LX_SURNAME = 1u << 3, /* a surname (census) */
	LX_PLACE = 1u << 4,   /* a subdivision or time-zone city (iso-codes, tzdata) */
	LX_COUNTRY = 1u << 5, /* a country (iso-codes) */
};

/* An open-addressing set of folded strings, each with flag bits. */
typedef struct lx_map {
	uint32_t *slot;   /* 0 empty, else 1 + index into off/flags */
	size_t nslot;     /* power of two */
	uint32_t *off;    /* offset of each key in pool */
	uint8_t *flags;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
} lx_map;

struct ca_pii_lexicon {
	atomic_int refs;
	lx_map map;
	size_t n_common, n_proper, n_given, n_surnames, n_places;
};

/* Flags of a folded word (0 when unknown, or for a NULL lexicon). */
unsigned lx_flags(const ca_pii_lexicon *lx, const char *folded);

int lx_map_add(lx_map *m, const char *key, size_t len, unsigned flags);
unsigned lx_map_get(const lx_map *m, const char *key, size_t len);
void lx_map_done(lx_map *m);

/* ---- the recogniser ---- */

typedef struct pii_pattern {
	ca_pii_type type;
	pcre2_code *re;
	char **cues;      /* folded, NULL-terminated */
} pii_pattern;

/* A known person's name: folded tokens. */
typedef struct pii_name {
	char **tok;
	size_t n;
} pii_name;

struct ca_pii {
	ca_pii_lexicon *lx;
	double min_conf;
	pcre2_code *re_email, *re_phone, *re_card, *re_iban, *re_ssn, *re_ipv4, *re_ipv6;
	pcre2_code *re_addr_core, *re_addr_unit, *re_addr_zip, *re_addr_place, *re_addr_military, *re_addr_pobox;
	pcre2_code *re_addr_corner, *re_addr_cued, *re_addr_core_lower, *re_addr_corner_lower;
	pcre2_code *re_word, *re_upper_start, *re_all_upper;
	pii_pattern *pat;
	size_t n_pat;
	pii_name *names;      /* contacts */
	size_t n_names;
	lx_map contact_tokens; /* folded name parts of contacts */
};

/* Compile a built-in pattern (UTF|UCP plus `opts`) with JIT when available. */
int pii_compile(const char *src, uint32_t opts, pcre2_code **ret, ca_err *err);
/* Next match of re in text[0..len) at or after *pos; true with the match's
 * [begin,end) and the ovector (md) filled; *pos advanced past it (at least
 * one byte). */
bool pii_next(const pcre2_code *re, pcre2_match_data *md, const char *text, size_t len, size_t *pos,
	      size_t *ret_begin, size_t *ret_end);
/* Anchored match at `at`; the match's end or 0 when none. */
size_t pii_match_at(const pcre2_code *re, pcre2_match_data *md, const char *text, size_t len, size_t at);

/* Whether one of `cues` (lower-case ASCII words or phrases, NULL-ended)
 * ends within `window` bytes before `pos` as whole words, ignoring case. */
bool pii_cue_before(const char *text, size_t pos, size_t window, const char *const *cues);
/* How many bytes lie between the end of the nearest such cue and `pos`;
 * SIZE_MAX when none ends within the window. */
size_t pii_cue_dist_before(const char *text, size_t pos, size_t window, const char *const *cues);
/* The same for a cue starting within `window` bytes after `pos`. */
bool pii_cue_after(const char *text, size_t len, size_t pos, size_t window, const char *const *cues);
/* Length of a bullet or quote mark that may start a line at text[i]
 * ("> ", "- ", "* ", "• ", "? " as some exports garble bullets), or 0. */
size_t pii_bullet(const char *text, size_t len, size_t i);
/* Whether only bullets and blanks stand between the last line break (or
 * the text start) and pos. */
bool pii_line_start(const char *text, size_t pos);
/* Whether byte c is an ASCII letter or digit. */
bool pii_alnum(unsigned char c);

/* Scanners: append raw candidates. */
int pii_scan_email(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_phone(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_card(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_iban(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_ssn(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_ip(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_patterns(const ca_pii *p, ca_pii_type type, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_address(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);
int pii_scan_person(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out);

/* Compile the scanners' patterns into p (called by ca_pii_new). */
int pii_patterns_init(ca_pii *p, ca_err *err);
int pii_address_init(ca_pii *p, ca_err *err);
int pii_names_init(ca_pii *p, ca_err *err);

/* Fold a word for lexicon look-ups (ASCII lower-casing fast path, else
 * ca_text_fold). Caller frees. NULL on ENOMEM or bad UTF-8. */
char *pii_fold(const char *s, size_t len);

#endif
