/* SPDX-License-Identifier: MIT */
/*
 * Layer 3 removal of personal data (ARCHITECTURE §2, §5): recognisers that
 * find e-mail addresses, phone numbers, payment card numbers, IBANs, US
 * social security numbers, IP addresses, street addresses and person names
 * in free text, each as typed spans with byte offsets and a confidence, the
 * resolution of overlapping spans, and redaction with typed placeholders
 * ("[EMAIL]", "[PERSON]"...) that reports how many of each type it removed,
 * never the values. The knowledge agent runs every source through it before
 * drafting an article. Word lists come from Debian (wamerican for telling
 * common words from proper nouns, libtext-names-perl's US Census given-name
 * and surname lists), loaded once into an immutable, reference-counted
 * lexicon that many recognisers and threads may share.
 *
 * Offsets are byte offsets into the caller's UTF-8 text, [begin, end).
 * Thread-safety: a ca_pii is read-only once configured (after the last
 * ca_pii_add_*), so one recogniser may serve many threads; configuring it is
 * not thread-safe.
 */
#ifndef CA_PII_H
#define CA_PII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base.h"

/* The kinds of personal data. The order is the order of the per-type counts
 * and of the "removed" object; names are the placeholders' words. */
typedef enum ca_pii_type {
	/* RFC 5322 addr-spec, simplified: a dot-atom local part (no quoted
	 * strings, comments or IP literals) "@" LDH labels and an alphabetic
	 * top-level label */
	CA_PII_EMAIL = 0,
	/* ITU-T E.164 lengths: 7 to 15 digits, "+CC", "(area)", "(0)", groups
	 * joined by one space, dot or hyphen, an "x123"/"ext. 123" extension;
	 * not inside a longer digit run, not a date, time, amount, IPv4 or
	 * SSN-shaped group; not after an identifier word ("order", "serial",
	 * "ticket", ...) nearer than any phone word; a bare digit run only next
	 * to a phone word, with "+", or as 10-12 digits of a national shape
	 * (trunk 0, NANP, Indian mobile, country code without "+") */
	CA_PII_PHONE,
	/* ISO/IEC 7812-1: 13-19 digits (12 next to a card word: Maestro),
	 * written whole or in groups of four (Amex 4-6-5), Luhn check digit;
	 * surer for a known issuer range */
	CA_PII_CREDIT_CARD,
	/* ISO 13616: a registry country code, its length, and ISO 7064
	 * MOD 97-10 check digits; compact or in groups of four */
	CA_PII_IBAN,
	/* SSA rules: area 001-899 but 666, group 01-99, serial 0001-9999;
	 * ddd-dd-dddd, or without hyphens next to "SSN"/"social security" */
	CA_PII_US_SSN,
	/* IPv4 dotted quads with octets 0-255; IPv6 as inet_pton(3) reads it */
	CA_PII_IP_ADDRESS,
	/* house number, street name and type (USPS Pub. 28 suffixes, European
	 * leading types and compound endings), with the unit, city, state and
	 * postal code that follow; PO and military boxes; "corner of A and B" */
	CA_PII_STREET_ADDRESS,
	/* contacts' names, cue phrases, signatures, speaker labels, known
	 * given names and words no word list knows (names.c) */
	CA_PII_PERSON,
	CA_PII_ACCOUNT_NUMBER,   /* only with a pattern from ca_pii_add_pattern */
	CA_PII_ORDER_NUMBER,     /* only with a pattern from ca_pii_add_pattern */
	CA_PII_NTYPES
} ca_pii_type;

/* "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS",
 * "STREET_ADDRESS", "PERSON", "ACCOUNT_NUMBER", "ORDER_NUMBER"; static
 * storage; "?" for a value out of range. */
const char *ca_pii_type_name(ca_pii_type t);
/* The type of a name above (exact, upper case); -1 when unknown. */
int ca_pii_type_parse(const char *name);

/* One finding: bytes [begin, end) of the text, its type and a confidence
 * in [0, 1] (how sure the recogniser is that this is personal data of this
 * type: a checksum-valid card near the word "card" is surer than a bare
 * digit group). */
typedef struct ca_pii_span {
	uint32_t begin, end;
	ca_pii_type type;
	float confidence;
} ca_pii_span;

/* A growable array of spans. Zero-initialise; ca_pii_spans_done frees. */
typedef struct ca_pii_spans {
	ca_pii_span *v;
	size_t n, cap;
} ca_pii_spans;

int ca_pii_spans_push(ca_pii_spans *s, uint32_t begin, uint32_t end, ca_pii_type type, double confidence);
void ca_pii_spans_done(ca_pii_spans *s);

/* Per-type counts of removed spans, indexed by ca_pii_type. */
typedef struct ca_pii_counts {
	unsigned n[CA_PII_NTYPES];
} ca_pii_counts;

/* ---- checksums and number rules (pure; exposed for tests) ---- */

/* Luhn mod-10 check (ISO/IEC 7812-1 annex B) over the decimal digits of
 * s[0..len), ignoring spaces and hyphens; false for any other byte or for
 * fewer than 2 digits. */
bool ca_pii_luhn_ok(const char *s, size_t len);
/*
 * IBAN check (ISO 13616-1): s[0..len) without spaces is a country code that
 * the IBAN registry lists, two check digits, and a BBAN of that country's
 * length; moving the first four characters to the end and reading letters as
 * 10..35 (ISO 7064 MOD 97-10) leaves remainder 1. Spaces are ignored, letters
 * may be of either case.
 */
bool ca_pii_iban_ok(const char *s, size_t len);
/*
 * US social security number rules of the Social Security Administration:
 * area 001-899 except 666, group 01-99, serial 0001-9999; the numbers the
 * SSA voided after they appeared in advertising (078-05-1120, 123-45-6789)
 * are refused too.
 */
bool ca_pii_ssn_ok(unsigned area, unsigned group, unsigned serial);

/* ---- the lexicon ---- */

/* Where Debian puts the word lists (packages wamerican, libtext-names-perl,
 * iso-codes, tzdata). */
#define CA_PII_WORDS_PATH "/usr/share/dict/american-english"
#define CA_PII_NAMES_PATH "/usr/share/perl5/Text/Names.pm"
#define CA_PII_COUNTRIES_PATH "/usr/share/iso-codes/json/iso_3166-1.json"
#define CA_PII_SUBDIVISIONS_PATH "/usr/share/iso-codes/json/iso_3166-2.json"
#define CA_PII_ZONES_PATH "/usr/share/zoneinfo/zone1970.tab"

/*
 * Word knowledge for telling names from common words, immutable once
 * loaded and reference-counted (atomically, so threads may share it):
 *   - common words: lower-case entries of the word list;
 *   - proper nouns: capitalised entries (places, brands, names alike);
 *   - given names and surnames: the US Census 1990 lists that
 *     libtext-names-perl ships inside Text/Names.pm (heredocs
 *     COMMON_MALE_FIRSTNAMES, COMMON_FEMALE_FIRSTNAMES, COMMON_SURNAMES);
 *   - places: ISO 3166-1 country and ISO 3166-2 subdivision names
 *     (iso-codes) and the cities of tzdata's zone1970.tab, so "France"
 *     or "Los Angeles" is not taken for a person.
 * All keys are folded (NFKC, case fold, marks stripped: ca_text_fold), so
 * "Tómas" finds "tomas".
 */
typedef struct ca_pii_lexicon ca_pii_lexicon;

/* The files a lexicon is read from; a NULL path skips that list. */
typedef struct ca_pii_lexicon_paths {
	const char *words;        /* one word a line (wamerican) */
	const char *names;        /* Text/Names.pm */
	const char *countries;    /* iso_3166-1.json */
	const char *subdivisions; /* iso_3166-2.json */
	const char *zones;        /* zone1970.tab */
} ca_pii_lexicon_paths;

/*
 * Load the lexicon from the files of `paths`. With `required`, a list that cannot be read is CA_EIO naming
 * the file; without, it is left empty (the recognisers then find fewer
 * names: cues, contacts and signatures still work). CA_ENOMEM on
 * allocation failure. Caller releases with ca_pii_lexicon_unref.
 */
int ca_pii_lexicon_load(const ca_pii_lexicon_paths *paths, bool required, ca_pii_lexicon **ret, ca_err *err);
/* The same from the Debian paths above, never required. */
int ca_pii_lexicon_default(ca_pii_lexicon **ret, ca_err *err);
ca_pii_lexicon *ca_pii_lexicon_ref(ca_pii_lexicon *lx);
void ca_pii_lexicon_unref(ca_pii_lexicon *lx); /* NULL-safe */
/* Entries loaded per list. */
typedef struct ca_pii_lexicon_sizes {
	size_t common, proper, given, surnames, places;
} ca_pii_lexicon_sizes;
void ca_pii_lexicon_count(const ca_pii_lexicon *lx, ca_pii_lexicon_sizes *ret);

/* ---- the recogniser ---- */

typedef struct ca_pii ca_pii;

/*
 * A recogniser with every built-in recogniser compiled (PCRE2, UTF + UCP).
 * `lx` may be NULL (no word lists); otherwise a reference is taken.
 * Caller frees with ca_pii_free. CA_ENOMEM; CA_EPARSE only for a bug in a
 * built-in pattern (PCRE2's message in err).
 */
int ca_pii_new(ca_pii_lexicon *lx, ca_pii **ret, ca_err *err);
void ca_pii_free(ca_pii *p); /* NULL-safe */

/*
 * A known person (a contact's full name, UTF-8): the whole name and each
 * part of two or more letters that is not a common word are then found as
 * PERSON wherever they appear capitalised. The string is copied. CA_EINVAL
 * for a name without letters, CA_EUTF8, CA_ENOMEM.
 */
int ca_pii_add_name(ca_pii *p, const char *full_name, ca_err *err);

/*
 * A pattern for an identifier the team uses (account and order numbers:
 * type CA_PII_ACCOUNT_NUMBER or CA_PII_ORDER_NUMBER; other types CA_EINVAL).
 * `pattern` is PCRE2 source (UTF, case-insensitive, as settings' pattern
 * fields); a bad pattern is CA_EPARSE with PCRE2's message and offset.
 * `cues` (NULL-terminated, may be NULL) are words whose nearness raises the
 * confidence ("order number 5545781356"); a match without a cue still counts
 * at 0.6, so it outranks an uncued bare digit run read as a phone number.
 */
int ca_pii_add_pattern(ca_pii *p, ca_pii_type type, const char *pattern, const char *const *cues, ca_err *err);

/* Spans below this confidence are not reported (default 0.5). */
void ca_pii_set_min_confidence(ca_pii *p, double min_confidence);

/*
 * Run one recogniser over text[0..len) (valid UTF-8) and append its raw
 * candidates to *out, overlapping and unfiltered. For tests and tuning.
 */
int ca_pii_scan_type(const ca_pii *p, ca_pii_type type, const char *text, size_t len, ca_pii_spans *out);

/*
 * Every recogniser over text[0..len), then overlap resolution: spans below
 * the minimum confidence are dropped; of overlapping spans the more
 * confident one wins, a tie going to the more specific type (checksummed
 * numbers, then configured patterns, e-mail, IP, SSN, phone, address,
 * person) and then to the longer span; the loser is dropped whole.
 * *out (previous contents kept; the new spans appended) gets spans sorted
 * by begin, none overlapping. CA_EUTF8 for invalid UTF-8 (naming the byte
 * offset), CA_ETOOBIG beyond 4 GiB, CA_ENOMEM.
 */
int ca_pii_find(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out, ca_err *err);

/* Overlap resolution alone, in place (as ca_pii_find does after scanning). */
int ca_pii_resolve(ca_pii_spans *spans, double min_confidence);

/*
 * Replace each span of `spans` (sorted, non-overlapping, within len: as
 * ca_pii_find returns them) in text[0..len) by "[TYPE]" and count them.
 * *ret_text is a new NUL-terminated heap string (caller frees); *ret_counts
 * (may be NULL) gets the counts. CA_EINVAL for spans out of order or out of
 * range, CA_ENOMEM.
 */
int ca_pii_apply(const char *text, size_t len, const ca_pii_spans *spans, char **ret_text, ca_pii_counts *ret_counts);

/*
 * ca_pii_find then ca_pii_apply. `ret_spans` (may be NULL) receives the
 * spans removed, as offsets into the original text.
 */
int ca_pii_redact(const ca_pii *p, const char *text, size_t len, char **ret_text, ca_pii_counts *ret_counts,
		  ca_pii_spans *ret_spans, ca_err *err);

#endif
