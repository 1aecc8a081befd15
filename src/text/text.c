/* SPDX-License-Identifier: MIT */
/*
 * Text primitives every reader of customer text goes through: UTF-8
 * validation, Unicode folding (utf8proc), the tokenizer with byte offsets into
 * the original message, the Snowball English stemmer wrapper, stop words,
 * sentence spans, phone and e-mail normalisation and bounded edit distance.
 * The tokenizer runs on every message the agent reads, so it avoids
 * per-character work beyond one table-free byte test on ASCII and makes one
 * allocation per token; utf8proc is only consulted for non-ASCII characters.
 */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libstemmer.h>
#include <utf8proc.h>
#include "base.h"
#include "text.h"

/* Locale-independent ASCII classes: <ctype.h> depends on setlocale and would
 * make token boundaries differ between the CLI and the server. */
static inline bool is_alpha(unsigned char c)
{
	return (unsigned char)((c | 0x20) - 'a') < 26;
}

static inline bool is_digit(unsigned char c)
{
	return (unsigned char)(c - '0') < 10;
}

static inline bool is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static inline bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* ---- UTF-8 ---- */

size_t ca_utf8_cut(const char *s, size_t len, size_t max)
{
	if (max >= len)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

bool ca_utf8_valid(const char *s, size_t len, size_t *ret_bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		/* Messages are mostly ASCII: test eight bytes at once. */
		while (len - i >= 8) {
			uint64_t w;
			memcpy(&w, p + i, sizeof(w));
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		unsigned char c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		/* RFC 3629 §4: the second byte's range is what rules out overlongs
		 * (E0, F0), surrogates (ED) and code points above U+10FFFF (F4). */
		size_t n;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			goto bad;
		}
		if (len - i < n || p[i + 1] < lo || p[i + 1] > hi)
			goto bad;
		for (size_t k = 2; k < n; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				goto bad;
		i += n;
		continue;
bad:
		if (ret_bad)
			*ret_bad = i;
		return false;
	}
	return true;
}

/* Decode one code point of text already known to be valid UTF-8. */
static inline int32_t decode(const unsigned char *p, size_t *ret_n)
{
	unsigned char c = p[0];
	if (c < 0x80) {
		*ret_n = 1;
		return c;
	}
	if (c < 0xE0) {
		*ret_n = 2;
		return (int32_t)(((c & 0x1Fu) << 6) | (p[1] & 0x3Fu));
	}
	if (c < 0xF0) {
		*ret_n = 3;
		return (int32_t)(((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu));
	}
	*ret_n = 4;
	return (int32_t)(((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
			 (p[3] & 0x3Fu));
}

static bool all_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* utf8proc_map on valid input; the result is malloc'd by utf8proc. */
static int fold_utf8proc(const char *s, size_t len, char **ret, size_t *ret_len)
{
	if (len > (size_t)PTRDIFF_MAX)
		return CA_ETOOBIG;
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
					  UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
					  UTF8PROC_STRIPMARK | UTF8PROC_STABLE);
	if (n < 0) {
		free(dst);
		switch (n) {
		case UTF8PROC_ERROR_NOMEM:
			return CA_ENOMEM;
		case UTF8PROC_ERROR_OVERFLOW:
			return CA_ETOOBIG;
		case UTF8PROC_ERROR_INVALIDUTF8:
			return CA_EUTF8;
		default:
			return CA_EINVAL;
		}
	}
	*ret = (char *)dst;
	*ret_len = (size_t)n;
	return 0;
}

/* A lower-cased, NUL-terminated heap copy of s[0..len) (bytes above 0x7f
 * unchanged). CA_ENOMEM on failure. */
static int ascii_lower_dup(const char *s, size_t len, char **ret)
{
	char *d = malloc(len + 1);
	if (!d)
		return CA_ENOMEM;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)to_lower((unsigned char)s[i]);
	d[len] = '\0';
	*ret = d;
	return 0;
}

int ca_text_fold(const char *s, size_t len, char **ret)
{
	if (!s && len)
		return CA_EINVAL;
	if (!ca_utf8_valid(s, len, NULL))
		return CA_EUTF8;
	if (all_ascii(s, len))
		/* NFKC and case folding of ASCII is plain lower case. */
		return ascii_lower_dup(s, len, ret);
	size_t n;
	return fold_utf8proc(s, len, ret, &n);
}

/* ---- stemmer ---- */

/* Snowball is the cost of tokenising, and chat repeats its words: a small
 * direct-mapped memo of short words and their stems answers most calls. */
#define STEM_MEMO_SLOTS 4096
#define STEM_MEMO_WORD 24

typedef struct stem_memo {
	uint8_t wlen, slen; /* 0 = empty slot */
	char word[STEM_MEMO_WORD];
	char stem[STEM_MEMO_WORD];
} stem_memo;

struct ca_stemmer {
	struct sb_stemmer *sb;
	stem_memo memo[STEM_MEMO_SLOTS];
};

ca_stemmer *ca_stemmer_new(void)
{
	ca_stemmer *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	/* NULL encoding selects UTF-8, which is what ca_text_fold produces. */
	st->sb = sb_stemmer_new("english", NULL);
	if (!st->sb) {
		free(st);
		return NULL;
	}
	return st;
}

void ca_stemmer_free(ca_stemmer *st)
{
	if (!st)
		return;
	sb_stemmer_delete(st->sb);
	free(st);
}

/* Stem into the stemmer's own buffer (valid until its next call). */
static int stem_raw(ca_stemmer *st, const char *w, size_t len, const char **ret, size_t *ret_len)
{
	if (len > INT_MAX) {
		/* No English word is this long; keeping it unstemmed is harmless. */
		*ret = w;
		*ret_len = len;
		return 0;
	}
	stem_memo *slot = NULL;
	if (len > 0 && len < STEM_MEMO_WORD) {
		uint32_t h = 2166136261u;
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)w[i]) * 16777619u;
		slot = &st->memo[h % STEM_MEMO_SLOTS];
		if (slot->wlen == len && memcmp(slot->word, w, len) == 0) {
			*ret = slot->stem;
			*ret_len = slot->slen;
			return 0;
		}
	}
	const sb_symbol *s = sb_stemmer_stem(st->sb, (const sb_symbol *)w, (int)len);
	if (!s)
		return CA_ENOMEM;
	int n = sb_stemmer_length(st->sb);
	*ret = (const char *)s;
	*ret_len = n > 0 ? (size_t)n : 0;
	if (slot && *ret_len < STEM_MEMO_WORD) {
		memcpy(slot->word, w, len);
		slot->wlen = (uint8_t)len;
		memcpy(slot->stem, s, *ret_len);
		slot->slen = (uint8_t)*ret_len;
	}
	return 0;
}

char *ca_stem(ca_stemmer *st, const char *word)
{
	if (!word)
		return NULL;
	size_t len = strlen(word);
	const char *s = word;
	size_t n = len;
	if (st && stem_raw(st, word, len, &s, &n) < 0)
		return NULL;
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ---- tokens ---- */

enum cls { C_OTHER, C_LETTER, C_DIGIT, C_MARK };

static enum cls classify(int32_t cp)
{
	if (cp < 0x80) {
		if (is_alpha((unsigned char)cp))
			return C_LETTER;
		return is_digit((unsigned char)cp) ? C_DIGIT : C_OTHER;
	}
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
		return C_LETTER;
	case UTF8PROC_CATEGORY_ND:
		return C_DIGIT;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return C_MARK;
	default:
		return C_OTHER;
	}
}

/* Class of the code point at p[i], and its byte length. */
static inline enum cls class_at(const unsigned char *p, size_t i, size_t *ret_n)
{
	if (p[i] < 0x80) {
		*ret_n = 1;
		return classify(p[i]);
	}
	return classify(decode(p + i, ret_n));
}

#define RSQUO "\xE2\x80\x99" /* U+2019, the apostrophe phones and word processors type */

static inline bool is_local_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/*
 * Length of an e-mail address (local@domain.tld, ASCII, in the spirit of RFC
 * 5322 §3.4.1 dot-atoms but only the common characters) starting at s[0], or 0.
 * *ret_run is where the run of local-part characters from s[0] ends, so a
 * caller can skip further attempts inside that run: they would end at the
 * same place. The domain is cut after its last label that can be a TLD, so a
 * trailing "." or ".123" stays outside.
 */
static size_t email_at(const char *s, size_t n, size_t *ret_run)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n && is_local_char(p[i]))
		i++;
	*ret_run = i;
	if (i == 0 || i > 64 || i >= n || p[i] != '@' || p[0] == '.' || p[i - 1] == '.')
		return 0;
	size_t j = i + 1, best = 0, labels = 0;
	for (;;) {
		size_t ls = j;
		bool alpha = true;
		while (j < n && (is_alnum(p[j]) || p[j] == '-')) {
			alpha = alpha && is_alpha(p[j]);
			j++;
		}
		if (j == ls || p[ls] == '-' || p[j - 1] == '-' || j - ls > 63)
			break;
		labels++;
		if (labels >= 2 && alpha && j - ls >= 2)
			best = j;
		if (j + 1 < n && p[j] == '.' && is_alnum(p[j + 1])) {
			j++;
			continue;
		}
		break;
	}
	return best <= 254 ? best : 0;
}

static void token_free(ca_token *t)
{
	/* norm and stem share one block (stem == norm or points inside it). */
	free(t->norm);
	t->norm = t->stem = NULL;
}

void ca_tokens_reset(ca_tokens *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		token_free(&t->v[i]);
	t->n = 0;
}

void ca_tokens_done(ca_tokens *t)
{
	if (!t)
		return;
	ca_tokens_reset(t);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

/* Build and append one token; `scratch` is reused across tokens so ASCII
 * tokens cost a single allocation (their norm+stem block). */
static int emit(ca_tokens *out, ca_stemmer *st, ca_buf *scratch, const char *text, size_t b,
		size_t e, uint32_t base, uint8_t kind, bool ascii, bool rsquo)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(ca_token))
			return CA_ENOMEM;
		ca_token *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		out->v = v;
		out->cap = cap;
	}

	const char *norm;
	size_t nlen;
	char *folded = NULL;
	int r;
	if (ascii) {
		ca_buf_reset(scratch);
		if ((r = ca_buf_append(scratch, text + b, e - b)) < 0)
			return r;
		for (size_t i = 0; i < scratch->len; i++)
			scratch->data[i] = (char)to_lower((unsigned char)scratch->data[i]);
		norm = scratch->data;
		nlen = scratch->len;
	} else {
		if ((r = fold_utf8proc(text + b, e - b, &folded, &nlen)) < 0)
			return r;
		if (rsquo) {
			/* Fold "don’t" onto "don't" so stop words and stems agree. */
			size_t w = 0;
			for (size_t i = 0; i < nlen;) {
				if (nlen - i >= 3 && memcmp(folded + i, RSQUO, 3) == 0) {
					folded[w++] = '\'';
					i += 3;
				} else {
					folded[w++] = folded[i++];
				}
			}
			nlen = w;
			folded[w] = '\0';
		}
		norm = folded;
	}

	const char *stem = norm;
	size_t slen = nlen;
	if (kind == CA_TOK_WORD && st && (r = stem_raw(st, norm, nlen, &stem, &slen)) < 0) {
		free(folded);
		return r;
	}
	bool same = slen == nlen && memcmp(stem, norm, nlen) == 0;

	char *blk = malloc(nlen + 1 + (same ? 0 : slen + 1));
	if (!blk) {
		free(folded);
		return CA_ENOMEM;
	}
	memcpy(blk, norm, nlen);
	blk[nlen] = '\0';
	char *s = blk;
	if (!same) {
		s = blk + nlen + 1;
		memcpy(s, stem, slen);
		s[slen] = '\0';
	}
	free(folded);

	ca_token *t = &out->v[out->n++];
	t->norm = blk;
	t->stem = s;
	t->begin = base + (uint32_t)b;
	t->end = base + (uint32_t)e;
	t->kind = kind;
	return 0;
}

int ca_tokenize(const char *text, size_t len, uint32_t base, ca_stemmer *st, ca_tokens *out)
{
	if (!out || (!text && len))
		return CA_EINVAL;
	if (!ca_utf8_valid(text, len, NULL))
		return CA_EUTF8;
	if (len > UINT32_MAX - base)
		return CA_ETOOBIG; /* offsets are 32-bit */

	const unsigned char *p = (const unsigned char *)text;
	size_t n0 = out->n, i = 0, no_email_until = 0;
	ca_buf scratch = { 0 };
	int r = 0;

	while (i < len) {
		size_t cl;
		enum cls c = class_at(p, i, &cl);
		if (c != C_LETTER && c != C_DIGIT) {
			i += cl;
			continue;
		}
		size_t b = i;

		if (cl == 1 && i >= no_email_until) {
			size_t run;
			size_t el = email_at(text + i, len - i, &run);
			if (el) {
				r = emit(out, st, &scratch, text, b, b + el, base, CA_TOK_EMAIL, true, false);
				if (r < 0)
					goto fail;
				i += el;
				continue;
			}
			no_email_until = i + run;
		}

		bool letter = c == C_LETTER, digit = c == C_DIGIT, ascii = cl == 1, rsquo = false;
		enum cls prev = c;
		i += cl;
		while (i < len) {
			size_t nl;
			enum cls nc = class_at(p, i, &nl);
			if (nc == C_LETTER || nc == C_DIGIT) {
				letter |= nc == C_LETTER;
				digit |= nc == C_DIGIT;
				ascii &= nl == 1;
				prev = nc;
				i += nl;
				continue;
			}
			if (nc == C_MARK) {
				/* A decomposed accent belongs to the letter before it. */
				ascii = false;
				i += nl;
				continue;
			}
			/* Inner connectors join only when a letter/digit follows:
			 * "don't", "e-mail", "625-2661", "9.99", "1,000". */
			bool apos = p[i] == '\'' || (nl == 3 && memcmp(p + i, RSQUO, 3) == 0);
			bool dash = p[i] == '-';
			bool point = p[i] == '.' || p[i] == ',';
			if (!apos && !dash && !point)
				break;
			if (i + nl >= len)
				break;
			size_t fl;
			enum cls fc = class_at(p, i + nl, &fl);
			bool ok = (apos && prev == C_LETTER && fc == C_LETTER) ||
				  (dash && (fc == C_LETTER || fc == C_DIGIT)) ||
				  (point && prev == C_DIGIT && fc == C_DIGIT);
			if (!ok)
				break;
			if (nl == 3) {
				rsquo = true;
				ascii = false;
			}
			letter |= fc == C_LETTER;
			digit |= fc == C_DIGIT;
			ascii &= fl == 1;
			prev = fc;
			i += nl + fl;
		}

		uint8_t kind = letter && digit ? CA_TOK_ALNUM : letter ? CA_TOK_WORD : CA_TOK_NUMBER;
		if ((r = emit(out, st, &scratch, text, b, i, base, kind, ascii, rsquo)) < 0)
			goto fail;
	}
	ca_buf_done(&scratch);
	return 0;

fail:
	/* Drop this call's tokens so the caller sees what it had before. */
	for (size_t k = n0; k < out->n; k++)
		token_free(&out->v[k]);
	out->n = n0;
	ca_buf_done(&scratch);
	return r;
}

/* ---- stop words ---- */

/* The Snowball English stop list (snowballstem.org, algorithms/english/stop.txt). */
static const char *const stopwords[] = {
	"a", "about", "above", "after", "again", "against", "all", "am",
	"an", "and", "any", "are", "aren't", "as", "at", "be",
	"because", "been", "before", "being", "below", "between", "both", "but",
	"by", "can", "can't", "cannot", "could", "couldn't", "did", "didn't",
	"do", "does", "doesn't", "doing", "don't", "down", "during", "each",
	"few", "for", "from", "further", "had", "hadn't", "has", "hasn't",
	"have", "haven't", "having", "he", "he'd", "he'll", "he's", "her",
	"here", "here's", "hers", "herself", "him", "himself", "his", "how",
	"how's", "i", "i'd", "i'll", "i'm", "i've", "if", "in",
	"into", "is", "isn't", "it", "it's", "its", "itself", "let's",
	"me", "more", "most", "mustn't", "my", "myself", "no", "nor",
	"not", "of", "off", "on", "once", "only", "or", "other",
	"ought", "our", "ours", "ourselves", "out", "over", "own", "same",
	"shan't", "she", "she'd", "she'll", "she's", "should", "shouldn't", "so",
	"some", "such", "than", "that", "that's", "the", "their", "theirs",
	"them", "themselves", "then", "there", "there's", "these", "they", "they'd",
	"they'll", "they're", "they've", "this", "those", "through", "to", "too",
	"under", "until", "up", "very", "was", "wasn't", "we", "we'd",
	"we'll", "we're", "we've", "were", "weren't", "what", "what's", "when",
	"when's", "where", "where's", "which", "while", "who", "who's", "whom",
	"why", "why's", "with", "won't", "would", "wouldn't", "you", "you'd",
	"you'll", "you're", "you've", "your", "yours", "yourself", "yourselves",
};

/* Word sets: open addressing (FNV-1a 32-bit, linear probing) over the
 * list's indexes, built on first use under a mutex (double-checked with an
 * acquire load), read without locks after. Every token of every message is
 * asked several times: a search of the sorted list cost a tenth of the
 * predictor's time. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static pthread_mutex_t wordset_lock = PTHREAD_MUTEX_INITIALIZER;

static void wordset_build(ca_wordset *ws)
{
	pthread_mutex_lock(&wordset_lock);
	if (!__atomic_load_n(&ws->ready, __ATOMIC_ACQUIRE)) {
		assert(ws->n < CA_WORDSET_SLOTS / 2);
		for (size_t i = 0; i < ws->n; i++) {
			uint32_t h = fnv1a(ws->words[i]) & (CA_WORDSET_SLOTS - 1);
			while (ws->slot[h])
				h = (h + 1) & (CA_WORDSET_SLOTS - 1);
			ws->slot[h] = (uint16_t)(i + 1);
		}
		__atomic_store_n(&ws->ready, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&wordset_lock);
}

bool ca_wordset_has(ca_wordset *ws, const char *word)
{
	if (!word)
		return false;
	if (!__atomic_load_n(&ws->ready, __ATOMIC_ACQUIRE))
		wordset_build(ws);
	for (uint32_t h = fnv1a(word) & (CA_WORDSET_SLOTS - 1); ws->slot[h]; h = (h + 1) & (CA_WORDSET_SLOTS - 1))
		if (strcmp(ws->words[ws->slot[h] - 1], word) == 0)
			return true;
	return false;
}

static ca_wordset stopword_set = CA_WORDSET(stopwords);

bool ca_stopword(const char *norm)
{
	return ca_wordset_has(&stopword_set, norm);
}

/* ---- sentences ---- */

/* Abbreviations whose final "." rarely ends a sentence. Words that often do
 * ("etc", "no") are left out on purpose. Lower case, without the final dot. */
static const char *const abbrevs[] = {
	"approx", "cf", "co", "corp", "dept", "dr", "e.g", "i.e", "inc",
	"jr", "ltd", "mr", "mrs", "ms", "prof", "sr", "st", "vs",
};

static bool is_abbrev(const char *text, size_t dot)
{
	size_t w = dot;
	while (w > 0 && (is_alpha((unsigned char)text[w - 1]) || text[w - 1] == '.'))
		w--;
	size_t n = dot - w;
	if (n == 0 || n > 8)
		return false;
	for (size_t k = 0; k < CA_ARRAY_SIZE(abbrevs); k++) {
		const char *a = abbrevs[k];
		if (strlen(a) != n)
			continue;
		size_t i = 0;
		while (i < n && to_lower((unsigned char)text[w + i]) == (unsigned char)a[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* Closing quotes and brackets that stay with the sentence they end. */
static size_t closer_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	if (c == '"' || c == '\'' || c == ')' || c == ']')
		return 1;
	if (n >= 3 && (memcmp(s, "\xE2\x80\x9D", 3) == 0 || memcmp(s, RSQUO, 3) == 0))
		return 3;
	return 0;
}

typedef struct spans {
	ca_span *v;
	size_t n, cap;
} spans;

static int push_span(spans *sp, const char *text, size_t b, size_t e)
{
	while (b < e && is_space((unsigned char)text[b]))
		b++;
	while (e > b && is_space((unsigned char)text[e - 1]))
		e--;
	if (b == e)
		return 0;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 16;
		ca_span *v = realloc(sp->v, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		sp->v = v;
		sp->cap = cap;
	}
	sp->v[sp->n++] = (ca_span){ (uint32_t)b, (uint32_t)e };
	return 0;
}

int ca_sentences(const char *text, size_t len, ca_span **ret, size_t *ret_n)
{
	if ((!text && len) || !ret || !ret_n)
		return CA_EINVAL;
	if (len > UINT32_MAX)
		return CA_ETOOBIG; /* spans are 32-bit */

	spans sp = { 0 };
	size_t start = 0, i = 0;
	int r;
	while (i < len) {
		char c = text[i];
		if (c == '\n' || c == '\r') {
			if ((r = push_span(&sp, text, start, i)) < 0)
				goto fail;
			start = ++i;
			continue;
		}
		if (c != '.' && c != '!' && c != '?') {
			i++;
			continue;
		}
		/* A terminator ends a sentence only when whitespace or the end
		 * follows it, which keeps "9.99", "a.b@x.com" and the inner dot
		 * of "e.g." inside; known abbreviations need the extra check. */
		size_t j = i + 1;
		while (j < len && (text[j] == '.' || text[j] == '!' || text[j] == '?'))
			j++;
		bool single_dot = c == '.' && j == i + 1;
		size_t q;
		while (j < len && (q = closer_len(text + j, len - j)) > 0)
			j += q;
		if (j < len && !is_space((unsigned char)text[j])) {
			i = j;
			continue;
		}
		if (single_dot && is_abbrev(text, i)) {
			i = j;
			continue;
		}
		if ((r = push_span(&sp, text, start, j)) < 0)
			goto fail;
		start = i = j;
	}
	if ((r = push_span(&sp, text, start, len)) < 0)
		goto fail;
	*ret = sp.v;
	*ret_n = sp.n;
	return 0;

fail:
	free(sp.v);
	return r;
}

/* ---- identifiers ---- */

int ca_phone_norm(const char *s, char out[static 16])
{
	if (!s)
		return CA_EINVAL;
	char d[16];
	size_t n = 0;
	for (; *s; s++) {
		if (!is_digit((unsigned char)*s))
			continue;
		if (n == 15)
			return CA_EINVAL; /* E.164 allows at most 15 digits */
		d[n++] = *s;
	}
	if (n < 7)
		return CA_EINVAL;
	size_t off = n == 11 && d[0] == '1' ? 1 : 0; /* NANP country code */
	memcpy(out, d + off, n - off);
	out[n - off] = '\0';
	return 0;
}

int ca_email_norm(const char *s, char **ret)
{
	if (!s || !ret)
		return CA_EINVAL;
	size_t len = strlen(s);
	while (len && is_space((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && is_space((unsigned char)s[len - 1]))
		len--;
	size_t run;
	if (len == 0 || email_at(s, len, &run) != len)
		return CA_EINVAL;
	return ascii_lower_dup(s, len, ret);
}

/* ---- edit distance ---- */

unsigned ca_edit_distance(const char *a, const char *b, unsigned max)
{
	unsigned over = max == UINT_MAX ? UINT_MAX : max + 1;
	if (!a)
		a = "";
	if (!b)
		b = "";
	size_t m = strlen(a), n = strlen(b);

	/* Common prefix and suffix never change the distance; trimming them
	 * makes the usual near-identical names almost free. */
	while (m && n && *a == *b) {
		a++;
		b++;
		m--;
		n--;
	}
	while (m && n && a[m - 1] == b[n - 1]) {
		m--;
		n--;
	}
	if (m > n) {
		const char *t = a;
		a = b;
		b = t;
		size_t tn = m;
		m = n;
		n = tn;
	}
	/* Now m <= n, and the distance is at least n - m and at most n. */
	if (n - m > max)
		return over;
	if (m == 0)
		return (unsigned)n;

	/* Ukkonen's band: only cells with |i - j| <= k can stay within k. */
	size_t k = max < n ? max : n;
	if (k >= UINT_MAX - 1)
		k = UINT_MAX - 2;
	unsigned big = (unsigned)k + 1;

	unsigned stackrow[256];
	unsigned *row = stackrow;
	if (m + 1 > CA_ARRAY_SIZE(stackrow)) {
		row = malloc((m + 1) * sizeof(*row));
		if (!row)
			return over; /* cannot report ENOMEM here; "too far" never makes a false match */
	}
	for (size_t i = 0; i <= m; i++)
		row[i] = i <= k ? (unsigned)i : big;

	unsigned result = over;
	for (size_t j = 1; j <= n; j++) {
		size_t lo = j > k ? j - k : 1;
		size_t hi = j + k < m ? j + k : m;
		if (lo > hi)
			goto done; /* the band left the table: distance > k */
		unsigned diag = row[lo - 1];
		row[lo - 1] = lo == 1 ? (j <= k ? (unsigned)j : big) : big;
		unsigned rmin = row[lo - 1];
		for (size_t i = lo; i <= hi; i++) {
			unsigned up = row[i];
			unsigned v = diag + (a[i - 1] != b[j - 1]);
			if (row[i - 1] + 1 < v)
				v = row[i - 1] + 1;
			if (up + 1 < v)
				v = up + 1;
			if (v > big)
				v = big;
			diag = up;
			row[i] = v;
			if (v < rmin)
				rmin = v;
		}
		if (rmin > k)
			goto done;
	}
	if (row[m] <= k && row[m] <= max)
		result = row[m];
done:
	if (row != stackrow)
		free(row);
	return result;
}

/* Optimal string alignment distance (Levenshtein plus transposition of two
 * neighbours, Damerau 1964: "Halycon" is one slip from "Halcyon"), or
 * max + 1 once it exceeds max. Words of 64 bytes or more fall back to
 * ca_edit_distance (no transpositions), never worth a slip of a name. */
unsigned ca_osa_distance(const char *a, const char *b, unsigned max)
{
	size_t m = strlen(a), n = strlen(b);
	if (m >= 64 || n >= 64)
		return ca_edit_distance(a, b, max);
	if ((m > n ? m - n : n - m) > max)
		return max + 1;
	unsigned rows[3][65];
	unsigned *p2 = rows[0], *p1 = rows[1], *cur = rows[2]; /* rows i-2, i-1, i */
	for (size_t j = 0; j <= n; j++)
		p1[j] = (unsigned)j;
	for (size_t i = 1; i <= m; i++) {
		cur[0] = (unsigned)i;
		unsigned row_min = cur[0];
		for (size_t j = 1; j <= n; j++) {
			unsigned v = p1[j - 1] + (a[i - 1] != b[j - 1]);
			if (p1[j] + 1 < v)
				v = p1[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && p2[j - 2] + 1 < v)
				v = p2[j - 2] + 1;
			cur[j] = v;
			if (v < row_min)
				row_min = v;
		}
		if (row_min > max)
			return max + 1;
		unsigned *t = p2;
		p2 = p1;
		p1 = cur;
		cur = t;
	}
	return p1[n] <= max ? p1[n] : max + 1;
}
