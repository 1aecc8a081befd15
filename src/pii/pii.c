/* SPDX-License-Identifier: MIT */
/*
 * The pii module's engine: type names, the recogniser object and its
 * configuration (contacts' names, PCRE2 patterns for account and order
 * numbers, the confidence floor), running every scanner over a text,
 * resolving overlapping findings to one span per stretch of text, and
 * redaction with typed placeholders. The scanners themselves live in
 * patterns.c, address.c and names.c; the word lists in lexicon.c.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "text.h"

static const char *const type_names[CA_PII_NTYPES] = {
	"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "STREET_ADDRESS", "PERSON",
	"ACCOUNT_NUMBER", "ORDER_NUMBER",
};

/* Tie-break between equally confident overlapping spans: lower wins. A
 * checksum says more than a shape, a shape more than context. */
static const int type_rank[CA_PII_NTYPES] = {
	[CA_PII_CREDIT_CARD] = 0, [CA_PII_IBAN] = 1, [CA_PII_ACCOUNT_NUMBER] = 2, [CA_PII_ORDER_NUMBER] = 3,
	[CA_PII_EMAIL] = 4, [CA_PII_IP_ADDRESS] = 5, [CA_PII_US_SSN] = 6, [CA_PII_PHONE] = 7,
	[CA_PII_STREET_ADDRESS] = 8, [CA_PII_PERSON] = 9,
};

const char *ca_pii_type_name(ca_pii_type t)
{
	return (unsigned)t < CA_PII_NTYPES ? type_names[t] : "?";
}

int ca_pii_type_parse(const char *name)
{
	for (int i = 0; name && i < CA_PII_NTYPES; i++)
		if (strcmp(type_names[i], name) == 0)
			return i;
	return -1;
}

int ca_pii_spans_push(ca_pii_spans *s, uint32_t begin, uint32_t end, ca_pii_type type, double confidence)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		ca_pii_span *v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return CA_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (confidence > 1.0)
		confidence = 1.0;
	s->v[s->n++] = (ca_pii_span){.begin = begin, .end = end, .type = type, .confidence = (float)confidence};
	return 0;
}

void ca_pii_spans_done(ca_pii_spans *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* ---- helpers shared by the scanners ---- */

int pii_compile(const char *src, uint32_t opts, pcre2_code **ret, ca_err *err)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | opts, &ec, &off,
				       NULL);

	if (!re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ec, msg, sizeof msg);
		return ca_err_set(err, ec == PCRE2_ERROR_NOMEMORY ? CA_ENOMEM : CA_EPARSE, "pattern",
				  "pattern at offset %zu: %s", (size_t)off, (const char *)msg);
	}
	/* JIT is a speed-up only; the interpreter gives the same matches. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	*ret = re;
	return 0;
}

bool pii_next(const pcre2_code *re, pcre2_match_data *md, const char *text, size_t len, size_t *pos,
	      size_t *ret_begin, size_t *ret_end)
{
	while (*pos <= len) {
		/* The text is checked once by ca_pii_find; no need per match. */
		int rc = pcre2_match(re, (PCRE2_SPTR)text, len, *pos, PCRE2_NO_UTF_CHECK, md, NULL);
		PCRE2_SIZE *ov;

		if (rc < 0)
			return false;
		ov = pcre2_get_ovector_pointer(md);
		*ret_begin = ov[0];
		*ret_end = ov[1];
		if (ov[1] > ov[0]) {
			*pos = ov[1];
			return true;
		}
		/* an empty match: step over one UTF-8 character */
		*pos = ov[0] + 1;
		while (*pos < len && ((unsigned char)text[*pos] & 0xC0) == 0x80)
			(*pos)++;
	}
	return false;
}

size_t pii_match_at(const pcre2_code *re, pcre2_match_data *md, const char *text, size_t len, size_t at)
{
	int rc;

	if (at > len)
		return 0;
	rc = pcre2_match(re, (PCRE2_SPTR)text, len, at, PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, md, NULL);
	if (rc < 0)
		return 0;
	return pcre2_get_ovector_pointer(md)[1];
}

size_t pii_bullet(const char *text, size_t len, size_t i)
{
	unsigned char c = (unsigned char)text[i];

	if (c == '>' || c == '*' || c == '-' || c == '?' || c == '#')
		return 1;
	if (c == 0xC2 && i + 1 < len && (unsigned char)text[i + 1] == 0xB7) /* · */
		return 2;
	if (c == 0xE2 && i + 2 < len && (unsigned char)text[i + 1] == 0x80 && (unsigned char)text[i + 2] == 0xA2)
		return 3; /* • */
	return 0;
}

bool pii_line_start(const char *text, size_t pos)
{
	size_t q = pos;

	while (q > 0) {
		unsigned char c = (unsigned char)text[q - 1];

		if (c == '\n' || c == '\r')
			return true;
		if (c == ' ' || c == '\t' || c == '>' || c == '*' || c == '-' || c == '?' || c == '#')
			q--;
		else if (q >= 2 && (unsigned char)text[q - 2] == 0xC2 && c == 0xB7)
			q -= 2;
		else if (q >= 3 && (unsigned char)text[q - 3] == 0xE2 && (unsigned char)text[q - 2] == 0x80 && c == 0xA2)
			q -= 3;
		else
			return false;
	}
	return true;
}

bool pii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether cue occurs at text[i..] as whole words (ASCII, case-insensitive). */
static bool cue_at(const char *text, size_t lo, size_t hi, size_t i, const char *cue, size_t clen)
{
	if (i + clen > hi)
		return false;
	for (size_t k = 0; k < clen; k++)
		if (lower(text[i + k]) != cue[k])
			return false;
	if (i > lo && pii_alnum((unsigned char)text[i - 1]) && pii_alnum((unsigned char)cue[0]))
		return false;
	if (i + clen < hi && pii_alnum((unsigned char)text[i + clen]) && pii_alnum((unsigned char)cue[clen - 1]))
		return false;
	return true;
}

bool pii_cue_before(const char *text, size_t pos, size_t window, const char *const *cues)
{
	size_t lo = pos > window ? pos - window : 0;

	for (size_t c = 0; cues && cues[c]; c++) {
		size_t clen = strlen(cues[c]);

		for (size_t i = lo; clen && i + clen <= pos; i++)
			if (cue_at(text, lo, pos, i, cues[c], clen)) {
				/* whole word on the right too, even where the window ends */
				if (i + clen < pos || !pii_alnum((unsigned char)text[pos]) ||
				    !pii_alnum((unsigned char)cues[c][clen - 1]))
					return true;
			}
	}
	return false;
}

size_t pii_cue_dist_before(const char *text, size_t pos, size_t window, const char *const *cues)
{
	size_t lo = pos > window ? pos - window : 0, best = SIZE_MAX;

	for (size_t c = 0; cues && cues[c]; c++) {
		size_t clen = strlen(cues[c]);

		for (size_t i = lo; clen && i + clen <= pos; i++)
			if (cue_at(text, lo, pos, i, cues[c], clen) &&
			    (i + clen < pos || !pii_alnum((unsigned char)text[pos]) ||
			     !pii_alnum((unsigned char)cues[c][clen - 1])) &&
			    pos - (i + clen) < best)
				best = pos - (i + clen);
	}
	return best;
}

bool pii_cue_after(const char *text, size_t len, size_t pos, size_t window, const char *const *cues)
{
	size_t hi = pos + window < len ? pos + window : len;

	for (size_t c = 0; cues && cues[c]; c++) {
		size_t clen = strlen(cues[c]);

		for (size_t i = pos; clen && i + clen <= hi; i++)
			if (cue_at(text, pos, len, i, cues[c], clen))
				return true;
	}
	return false;
}

/* ---- the recogniser ---- */

static void free_cues(char **cues)
{
	for (size_t i = 0; cues && cues[i]; i++)
		free(cues[i]);
	free(cues);
}

int ca_pii_new(ca_pii_lexicon *lx, ca_pii **ret, ca_err *err)
{
	ca_pii *p = calloc(1, sizeof *p);
	int r;

	if (!p)
		return CA_ENOMEM;
	p->lx = ca_pii_lexicon_ref(lx);
	p->min_conf = 0.5;
	r = pii_patterns_init(p, err);
	if (r == 0)
		r = pii_address_init(p, err);
	if (r == 0)
		r = pii_names_init(p, err);
	if (r < 0) {
		ca_pii_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void ca_pii_free(ca_pii *p)
{
	if (!p)
		return;

	pcre2_code **res[] = {
		&p->re_email, &p->re_phone, &p->re_card, &p->re_iban, &p->re_ssn, &p->re_ipv4, &p->re_ipv6,
		&p->re_addr_core, &p->re_addr_unit, &p->re_addr_zip, &p->re_addr_place, &p->re_addr_military,
		&p->re_addr_pobox, &p->re_addr_corner, &p->re_addr_cued, &p->re_addr_core_lower,
		&p->re_addr_corner_lower, &p->re_word, &p->re_upper_start, &p->re_all_upper,
	};

	for (size_t i = 0; i < CA_ARRAY_SIZE(res); i++)
		pcre2_code_free(*res[i]);
	for (size_t i = 0; i < p->n_pat; i++) {
		pcre2_code_free(p->pat[i].re);
		free_cues(p->pat[i].cues);
	}
	free(p->pat);
	for (size_t i = 0; i < p->n_names; i++) {
		for (size_t k = 0; k < p->names[i].n; k++)
			free(p->names[i].tok[k]);
		free(p->names[i].tok);
	}
	free(p->names);
	lx_map_done(&p->contact_tokens);
	ca_pii_lexicon_unref(p->lx);
	free(p);
}

void ca_pii_set_min_confidence(ca_pii *p, double min_confidence)
{
	p->min_conf = min_confidence;
}

int ca_pii_add_name(ca_pii *p, const char *full_name, ca_err *err)
{
	size_t len = full_name ? strlen(full_name) : 0, pos = 0, b, e;
	pcre2_match_data *md;
	pii_name nm = {0};
	int r = 0;

	if (!ca_utf8_valid(full_name ? full_name : "", len, NULL))
		return ca_err_set(err, CA_EUTF8, "name", "a contact's name is not valid UTF-8");
	md = pcre2_match_data_create_from_pattern(p->re_word, NULL);
	if (!md)
		return CA_ENOMEM;
	while (r == 0 && pii_next(p->re_word, md, full_name, len, &pos, &b, &e)) {
		char *f = pii_fold(full_name + b, e - b);
		char **tok;

		if (!f) {
			r = CA_ENOMEM;
			break;
		}
		tok = realloc(nm.tok, (nm.n + 1) * sizeof *tok);
		if (!tok) {
			free(f);
			r = CA_ENOMEM;
			break;
		}
		nm.tok = tok;
		nm.tok[nm.n++] = f;
	}
	pcre2_match_data_free(md);
	if (r == 0 && nm.n == 0)
		r = ca_err_set(err, CA_EINVAL, "name", "a contact's name has no letters");
	if (r == 0) {
		pii_name *v = realloc(p->names, (p->n_names + 1) * sizeof *v);

		if (!v) {
			r = CA_ENOMEM;
		} else {
			p->names = v;
			p->names[p->n_names++] = nm;
			for (size_t k = 0; r == 0 && k < nm.n; k++)
				if (strlen(nm.tok[k]) >= 2 && !(lx_flags(p->lx, nm.tok[k]) & LX_COMMON))
					r = lx_map_add(&p->contact_tokens, nm.tok[k], strlen(nm.tok[k]), 1);
			return r;
		}
	}
	for (size_t k = 0; k < nm.n; k++)
		free(nm.tok[k]);
	free(nm.tok);
	return r;
}

int ca_pii_add_pattern(ca_pii *p, ca_pii_type type, const char *pattern, const char *const *cues, ca_err *err)
{
	pii_pattern pt = {.type = type};
	pii_pattern *v = NULL;
	int r;

	if (type != CA_PII_ACCOUNT_NUMBER && type != CA_PII_ORDER_NUMBER)
		return ca_err_set(err, CA_EINVAL, "type", "only account and order numbers take a pattern, not %s",
				  ca_pii_type_name(type));
	if (!pattern || !pattern[0])
		return ca_err_set(err, CA_EINVAL, "pattern", "the %s pattern is empty", ca_pii_type_name(type));
	size_t nc = 0;

	while (cues && cues[nc])
		nc++;
	r = pii_compile(pattern, PCRE2_CASELESS, &pt.re, err);
	if (r < 0)
		return r;
	pt.cues = calloc(nc + 1, sizeof *pt.cues);
	if (!pt.cues)
		r = CA_ENOMEM;
	for (size_t i = 0; r == 0 && i < nc; i++)
		if (!(pt.cues[i] = pii_fold(cues[i], strlen(cues[i]))))
			r = CA_ENOMEM;
	if (r == 0 && !(v = realloc(p->pat, (p->n_pat + 1) * sizeof *v)))
		r = CA_ENOMEM;
	if (r < 0) {
		pcre2_code_free(pt.re);
		free_cues(pt.cues);
		return r;
	}
	p->pat = v;
	p->pat[p->n_pat++] = pt;
	return 0;
}

int ca_pii_scan_type(const ca_pii *p, ca_pii_type type, const char *text, size_t len, ca_pii_spans *out)
{
	switch (type) {
	case CA_PII_EMAIL: return pii_scan_email(p, text, len, out);
	case CA_PII_PHONE: return pii_scan_phone(p, text, len, out);
	case CA_PII_CREDIT_CARD: return pii_scan_card(p, text, len, out);
	case CA_PII_IBAN: return pii_scan_iban(p, text, len, out);
	case CA_PII_US_SSN: return pii_scan_ssn(p, text, len, out);
	case CA_PII_IP_ADDRESS: return pii_scan_ip(p, text, len, out);
	case CA_PII_STREET_ADDRESS: return pii_scan_address(p, text, len, out);
	case CA_PII_PERSON: return pii_scan_person(p, text, len, out);
	case CA_PII_ACCOUNT_NUMBER:
	case CA_PII_ORDER_NUMBER: return pii_scan_patterns(p, type, text, len, out);
	default: return CA_EINVAL;
	}
}

/* ---- overlap resolution ---- */

static int by_priority(const void *x, const void *y)
{
	const ca_pii_span *a = x, *b = y;
	uint32_t la = a->end - a->begin, lb = b->end - b->begin;

	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	if (type_rank[a->type] != type_rank[b->type])
		return type_rank[a->type] - type_rank[b->type];
	if (la != lb)
		return la > lb ? -1 : 1;
	return a->begin < b->begin ? -1 : a->begin > b->begin;
}

static int by_begin(const void *x, const void *y)
{
	const ca_pii_span *a = x, *b = y;

	return a->begin < b->begin ? -1 : a->begin > b->begin;
}

/* A street address that holds a person's name whole wins over it: streets
 * are named after people ("Victor Hugo u. 49"), and the address is the
 * larger disclosure. */
static bool contains_wins(const ca_pii_span *a, const ca_pii_span *b)
{
	return a->type == CA_PII_STREET_ADDRESS && b->type == CA_PII_PERSON && a->begin <= b->begin &&
	       b->end <= a->end;
}

/* Greedy resolution of one cluster v[0..n) of transitively overlapping
 * spans, in priority order: a span survives only where it overlaps nothing
 * kept, or wins by containment over all it overlaps. */
static void resolve_cluster(ca_pii_span *v, size_t n, bool *dead)
{
	qsort(v, n, sizeof *v, by_priority);
	for (size_t i = 1; i < n; i++) {
		bool lose = false;

		for (size_t j = 0; j < i && !lose; j++) {
			if (dead[j] || v[j].end <= v[i].begin || v[i].end <= v[j].begin)
				continue;
			if (!contains_wins(&v[i], &v[j]))
				lose = true;
		}
		if (lose) {
			dead[i] = true;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!dead[j] && v[j].end > v[i].begin && v[i].end > v[j].begin)
				dead[j] = true;
	}
}

int ca_pii_resolve(ca_pii_spans *s, double min_confidence)
{
	size_t n = 0, last[CA_PII_NTYPES];
	bool *dead;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].confidence >= min_confidence && s->v[i].end > s->v[i].begin &&
		    (unsigned)s->v[i].type < CA_PII_NTYPES)
			s->v[n++] = s->v[i];
	s->n = n;
	if (n < 2)
		return 0;
	/* Overlapping findings of one type are one finding: "5366 Pivovarská
	 * 276" from one pattern and "Pivovarská 276" from another become the
	 * union, as sure as the surer of them. In begin order, the last kept
	 * span of a type is the only one a new span of that type can overlap. */
	qsort(s->v, n, sizeof *s->v, by_begin);
	for (size_t t = 0; t < CA_PII_NTYPES; t++)
		last[t] = SIZE_MAX;
	n = 0;
	for (size_t i = 0; i < s->n; i++) {
		size_t k = last[s->v[i].type];

		if (k != SIZE_MAX && s->v[k].end > s->v[i].begin) {
			if (s->v[i].end > s->v[k].end)
				s->v[k].end = s->v[i].end;
			if (s->v[i].confidence > s->v[k].confidence)
				s->v[k].confidence = s->v[i].confidence;
			continue;
		}
		last[s->v[i].type] = n;
		s->v[n++] = s->v[i];
	}
	s->n = n;
	dead = calloc(n, sizeof *dead);
	if (!dead)
		return CA_ENOMEM;
	/* Overlaps are local: resolve each cluster of overlapping spans alone,
	 * so a long text with many findings stays linear. */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		uint32_t end = s->v[i].end;

		while (j < n && s->v[j].begin < end) {
			if (s->v[j].end > end)
				end = s->v[j].end;
			j++;
		}
		if (j - i > 1)
			resolve_cluster(s->v + i, j - i, dead + i);
		i = j;
	}
	n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!dead[i])
			s->v[n++] = s->v[i];
	s->n = n;
	free(dead);
	qsort(s->v, n, sizeof *s->v, by_begin);
	return 0;
}

int ca_pii_find(const ca_pii *p, const char *text, size_t len, ca_pii_spans *out, ca_err *err)
{
	ca_pii_spans all = {0};
	size_t bad;
	int r = 0;

	if (len > UINT32_MAX)
		return ca_err_set(err, CA_ETOOBIG, "text", "text of %zu bytes is too large to scan", len);
	if (!ca_utf8_valid(text, len, &bad))
		return ca_err_set(err, CA_EUTF8, "text", "text is not valid UTF-8 at byte %zu", bad);
	for (int t = 0; r == 0 && t < CA_PII_NTYPES; t++)
		r = ca_pii_scan_type(p, (ca_pii_type)t, text, len, &all);
	if (r == 0)
		r = ca_pii_resolve(&all, p->min_conf);
	for (size_t i = 0; r == 0 && i < all.n; i++)
		r = ca_pii_spans_push(out, all.v[i].begin, all.v[i].end, all.v[i].type, all.v[i].confidence);
	ca_pii_spans_done(&all);
	return r;
}

int ca_pii_apply(const char *text, size_t len, const ca_pii_spans *spans, char **ret_text, ca_pii_counts *ret_counts)
{
	ca_buf b = {0};
	ca_pii_counts c = {{0}};
	size_t at = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < spans->n; i++) {
		const ca_pii_span *s = &spans->v[i];

		if (s->begin < at || s->end < s->begin || s->end > len || (unsigned)s->type >= CA_PII_NTYPES) {
			ca_buf_done(&b);
			return CA_EINVAL;
		}
		r = ca_buf_append(&b, text + at, s->begin - at);
		if (r == 0)
			r = ca_buf_printf(&b, "[%s]", type_names[s->type]);
		c.n[s->type]++;
		at = s->end;
	}
	if (r == 0)
		r = ca_buf_append(&b, text + at, len - at);
	if (r == 0 && !(*ret_text = ca_buf_steal(&b)))
		r = CA_ENOMEM;
	ca_buf_done(&b);
	if (r == 0 && ret_counts)
		*ret_counts = c;
	return r;
}

int ca_pii_redact(const ca_pii *p, const char *text, size_t len, char **ret_text, ca_pii_counts *ret_counts,
		  ca_pii_spans *ret_spans, ca_err *err)
{
	ca_pii_spans s = {0};
	int r = ca_pii_find(p, text, len, &s, err);

	char *out = NULL;

	if (r == 0)
		r = ca_pii_apply(text, len, &s, &out, ret_counts);
	for (size_t i = 0; r == 0 && ret_spans && i < s.n; i++)
		r = ca_pii_spans_push(ret_spans, s.v[i].begin, s.v[i].end, s.v[i].type, s.v[i].confidence);
	ca_pii_spans_done(&s);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_text = out;
	return 0;
}
