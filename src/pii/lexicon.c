/* SPDX-License-Identifier: MIT */
/*
 * The pii module's lexicon: Debian's word list (wamerican) read into a set
 * of folded words flagged common (a lower-case entry) or proper (a
 * capitalised one), the US Census 1990 given-name and surname lists that
 * libtext-names-perl carries as heredocs in Text/Names.pm, flagged given or
 * surname, and place names (iso-codes' ISO 3166 countries and
 * subdivisions, tzdata's zone cities), flagged place. The name recogniser asks it whether a capitalised token is a
 * common word ("Need", "Help"), a proper noun that may be a place, or a
 * known name. One open-addressing table holds every key once with its flag
 * bits; the lexicon is immutable after loading and shared by reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "text.h"

/* Largest list file read (the word list is ~1 MB, Names.pm ~270 KB). */
#define MAX_LIST_BYTES (64u << 20)

/* FNV-1a, 32 bits. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static bool key_eq(const lx_map *m, uint32_t idx, const char *key, size_t len)
{
	const char *k = m->pool + m->off[idx];

	return strncmp(k, key, len) == 0 && k[len] == '\0';
}

static int grow_slots(lx_map *m)
{
	size_t nslot = m->nslot ? m->nslot * 2 : 1024;
	uint32_t *slot = calloc(nslot, sizeof *slot);

	if (!slot)
		return CA_ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->pool + m->off[i];
		size_t j = hash_bytes(k, strlen(k)) & (nslot - 1);

		while (slot[j])
			j = (j + 1) & (nslot - 1);
		slot[j] = (uint32_t)i + 1;
	}
	free(m->slot);
	m->slot = slot;
	m->nslot = nslot;
	return 0;
}

int lx_map_add(lx_map *m, const char *key, size_t len, unsigned flags)
{
	size_t j;

	if (len == 0)
		return 0;
	if ((m->n + 1) * 2 > m->nslot && grow_slots(m) < 0)
		return CA_ENOMEM;
	j = hash_bytes(key, len) & (m->nslot - 1);
	while (m->slot[j]) {
		uint32_t idx = m->slot[j] - 1;

		if (key_eq(m, idx, key, len)) {
			m->flags[idx] |= (uint8_t)flags;
			return 0;
		}
		j = (j + 1) & (m->nslot - 1);
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		uint32_t *off = realloc(m->off, cap * sizeof *off);

		if (!off)
			return CA_ENOMEM;
		m->off = off;
		uint8_t *fl = realloc(m->flags, cap);
		if (!fl)
			return CA_ENOMEM;
		m->flags = fl;
		m->cap = cap;
	}
	if (m->pool_len + len + 1 > m->pool_cap) {
		size_t cap = m->pool_cap ? m->pool_cap : 4096;
		char *pool;

		while (m->pool_len + len + 1 > cap)
			cap *= 2;
		if (cap > UINT32_MAX)
			return CA_ETOOBIG;
		pool = realloc(m->pool, cap);
		if (!pool)
			return CA_ENOMEM;
		m->pool = pool;
		m->pool_cap = cap;
	}
	memcpy(m->pool + m->pool_len, key, len);
	m->pool[m->pool_len + len] = '\0';
	m->off[m->n] = (uint32_t)m->pool_len;
	m->flags[m->n] = (uint8_t)flags;
	m->pool_len += len + 1;
	m->slot[j] = (uint32_t)m->n + 1;
	m->n++;
	return 0;
}

unsigned lx_map_get(const lx_map *m, const char *key, size_t len)
{
	size_t j;

	if (!m->nslot || len == 0)
		return 0;
	j = hash_bytes(key, len) & (m->nslot - 1);
	while (m->slot[j]) {
		uint32_t idx = m->slot[j] - 1;

		if (key_eq(m, idx, key, len))
			return m->flags[idx];
		j = (j + 1) & (m->nslot - 1);
	}
	return 0;
}

void lx_map_done(lx_map *m)
{
	free(m->slot);
	free(m->off);
	free(m->flags);
	free(m->pool);
	memset(m, 0, sizeof *m);
}

unsigned lx_flags(const ca_pii_lexicon *lx, const char *folded)
{
	return lx ? lx_map_get(&lx->map, folded, strlen(folded)) : 0;
}

char *pii_fold(const char *s, size_t len)
{
	char *out = NULL;
	bool ascii = true;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			ascii = false;
	if (ascii) {
		out = malloc(len + 1);
		if (!out)
			return NULL;
		for (size_t i = 0; i < len; i++)
			out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
		out[len] = '\0';
		return out;
	}
	if (ca_text_fold(s, len, &out) < 0)
		return NULL;
	return out;
}

static bool is_upper_initial(const char *w)
{
	unsigned char c = (unsigned char)w[0];

	/* The list's non-ASCII initials are Latin-1 letters (Ångström, Élysée):
	 * U+00C0..U+00DE are the capitals, encoded C3 80..C3 9E. */
	return (c >= 'A' && c <= 'Z') || (c == 0xC3 && (unsigned char)w[1] < 0x9F);
}

/* One entry of the word list: common when lower-case, proper when
 * capitalised; possessives ("Ann's") are skipped. */
static int add_word(ca_pii_lexicon *lx, const char *w, size_t len)
{
	char *f;
	unsigned fl;
	int r;

	if (len >= 2 && w[len - 2] == '\'' && w[len - 1] == 's')
		return 0;
	f = pii_fold(w, len);
	if (!f)
		return ca_utf8_valid(w, len, NULL) ? CA_ENOMEM : 0; /* a bad line is skipped */
	fl = is_upper_initial(w) ? LX_PROPER : LX_COMMON;
	r = lx_map_add(&lx->map, f, strlen(f), fl);
	free(f);
	if (r == 0) {
		if (fl == LX_COMMON)
			lx->n_common++;
		else
			lx->n_proper++;
	}
	return r;
}

static int load_words(ca_pii_lexicon *lx, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		int r;

		while (j < len && data[j] != '\n')
			j++;
		size_t e = j;
		while (e > i && (data[e - 1] == '\r' || data[e - 1] == ' '))
			e--;
		if (e > i && (r = add_word(lx, data + i, e - i)) < 0)
			return r;
		i = j + 1;
	}
	return 0;
}

/* First occurrence of needle in hay[0..len), or NULL (memmem is a GNU
 * extension). */
static const char *find_bytes(const char *hay, size_t len, const char *needle, size_t nlen)
{
	for (size_t i = 0; nlen <= len && i <= len - nlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

/*
 * The body of heredoc `$NAME = <<ENDNAMES;` in Names.pm: lines of
 * "JAMES          3.318  3.318      1" (some lines hold two entries). Every
 * alphabetic field is a name.
 */
static int load_heredoc(ca_pii_lexicon *lx, const char *data, size_t len, const char *var, unsigned flag,
			size_t *count)
{
	char head[96];
	const char *p, *end;
	int w = snprintf(head, sizeof head, "$%s = <<ENDNAMES;", var);

	if (w < 0 || (size_t)w >= sizeof head)
		return CA_EINVAL;
	p = find_bytes(data, len, head, (size_t)w);
	if (!p)
		return 0;
	p += w;
	end = find_bytes(p, len - (size_t)(p - data), "\nENDNAMES", 9);
	if (!end)
		end = data + len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		const char *q = p;
		bool alpha = true;

		while (q < end && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
			if (!((*q >= 'A' && *q <= 'Z') || *q == '\'' || *q == '-'))
				alpha = false;
			q++;
		}
		if (q > p && alpha) {
			char *f = pii_fold(p, (size_t)(q - p));
			int r;

			if (!f)
				return CA_ENOMEM;
			r = lx_map_add(&lx->map, f, strlen(f), flag);
			free(f);
			if (r < 0)
				return r;
			(*count)++;
		}
		p = q;
	}
	return 0;
}

static int read_list(const char *path, bool required, char **ret, size_t *ret_len, ca_err *err)
{
	ca_err e2;
	int r;

	ca_err_clear(&e2);
	r = ca_file_read(path, MAX_LIST_BYTES, ret, ret_len, &e2);
	if (r == CA_ENOMEM)
		return r;
	if (r < 0) {
		*ret = NULL;
		*ret_len = 0;
		if (required)
			return ca_err_set(err, CA_EIO, path, "cannot read the word list %s: %s", path, e2.message);
		return 0;
	}
	return 0;
}

/* A place name, whole and (when it has several words) as the part before
 * a comma or parenthesis: "Korea, Republic of" gives "korea" too. */
static int add_place(ca_pii_lexicon *lx, const char *name, unsigned flag)
{
	size_t n = name ? strlen(name) : 0, cut = strcspn(name ? name : "", ",(");
	char *f;
	int r = 0;

	for (int pass = 0; r == 0 && pass < 2 && n; pass++) {
		size_t m = pass ? cut : n;

		while (m > 0 && name[m - 1] == ' ')
			m--;
		if (m == 0 || (pass && cut >= n))
			continue;
		if (!(f = pii_fold(name, m)))
			return ca_utf8_valid(name, m, NULL) ? CA_ENOMEM : 0;
		r = lx_map_add(&lx->map, f, strlen(f), flag);
		free(f);
	}
	if (r == 0)
		lx->n_places++;
	return r;
}

static int load_iso(ca_pii_lexicon *lx, const char *path, const char *key, unsigned flag, bool required,
		    ca_err *err)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je), *e;
	size_t i;
	int r = 0;

	if (!doc)
		return required ? ca_err_set(err, CA_EIO, path, "cannot read %s: %s", path, je.text) : 0;
	json_array_foreach(json_object_get(doc, key), i, e) {
		r = add_place(lx, ca_json_str(e, "name"), flag);
		if (r == 0 && ca_json_str(e, "common_name"))
			r = add_place(lx, ca_json_str(e, "common_name"), flag);
		if (r < 0)
			break;
	}
	json_decref(doc);
	return r;
}

/* zone1970.tab: "codes<TAB>coordinates<TAB>Area/City[/Sub]<TAB>comment";
 * the last part of the zone name is a city, '_' for spaces. */
static int load_zones(ca_pii_lexicon *lx, const char *data, size_t len)
{
	size_t i = 0;
	int r = 0;

	while (r == 0 && i < len) {
		size_t j = i, tabs = 0, zb = 0, ze = 0;

		while (j < len && data[j] != '\n') {
			if (data[j] == '\t') {
				tabs++;
				if (tabs == 2)
					zb = j + 1;
				if (tabs == 3)
					ze = j;
			}
			j++;
		}
		if (tabs == 2)
			ze = j;
		if (data[i] != '#' && zb && ze > zb) {
			size_t k = ze;
			char name[128];
			size_t n = 0;

			while (k > zb && data[k - 1] != '/')
				k--;
			for (; k < ze && n + 1 < sizeof name; k++)
				name[n++] = data[k] == '_' ? ' ' : data[k];
			name[n] = '\0';
			r = add_place(lx, name, LX_PLACE);
		}
		i = j + 1;
	}
	return r;
}

int ca_pii_lexicon_load(const ca_pii_lexicon_paths *paths, bool required, ca_pii_lexicon **ret, ca_err *err)
{
	ca_pii_lexicon *lx = calloc(1, sizeof *lx);
	char *data = NULL;
	size_t len = 0;
	int r = 0;

	if (!lx)
		return CA_ENOMEM;
	atomic_init(&lx->refs, 1);
	if (paths->words) {
		r = read_list(paths->words, required, &data, &len, err);
		if (r == 0 && data)
			r = load_words(lx, data, len);
		free(data);
		data = NULL;
	}
	if (r == 0 && paths->names) {
		r = read_list(paths->names, required, &data, &len, err);
		if (r == 0 && data) {
			size_t male = 0, female = 0;

			r = load_heredoc(lx, data, len, "COMMON_MALE_FIRSTNAMES", LX_GIVEN, &male);
			if (r == 0)
				r = load_heredoc(lx, data, len, "COMMON_FEMALE_FIRSTNAMES", LX_GIVEN, &female);
			if (r == 0)
				r = load_heredoc(lx, data, len, "COMMON_SURNAMES", LX_SURNAME, &lx->n_surnames);
			lx->n_given = male + female;
			if (r == 0 && required && lx->n_given == 0)
				r = ca_err_set(err, CA_EPARSE, paths->names, "%s holds no given-name lists", paths->names);
		}
		free(data);
		data = NULL;
	}
	if (r == 0 && paths->countries)
		r = load_iso(lx, paths->countries, "3166-1", LX_COUNTRY, required, err);
	if (r == 0 && paths->subdivisions)
		r = load_iso(lx, paths->subdivisions, "3166-2", LX_PLACE, required, err);
	if (r == 0 && paths->zones) {
		r = read_list(paths->zones, required, &data, &len, err);
		if (r == 0 && data)
			r = load_zones(lx, data, len);
		free(data);
	}
	if (r < 0) {
		ca_pii_lexicon_unref(lx);
		return r;
	}
	*ret = lx;
	return 0;
}

int ca_pii_lexicon_default(ca_pii_lexicon **ret, ca_err *err)
{
	static const ca_pii_lexicon_paths debian = {
		CA_PII_WORDS_PATH, CA_PII_NAMES_PATH, CA_PII_COUNTRIES_PATH, CA_PII_SUBDIVISIONS_PATH, CA_PII_ZONES_PATH,
	};

	return ca_pii_lexicon_load(&debian, false, ret, err);
}

ca_pii_lexicon *ca_pii_lexicon_ref(ca_pii_lexicon *lx)
{
	if (lx)
		atomic_fetch_add(&lx->refs, 1);
	return lx;
}

void ca_pii_lexicon_unref(ca_pii_lexicon *lx)
{
	if (!lx || atomic_fetch_sub(&lx->refs, 1) != 1)
		return;
	lx_map_done(&lx->map);
	free(lx);
}

void ca_pii_lexicon_count(const ca_pii_lexicon *lx, ca_pii_lexicon_sizes *ret)
{
	memset(ret, 0, sizeof *ret);
	if (lx)
		*ret = (ca_pii_lexicon_sizes){lx->n_common, lx->n_proper, lx->n_given, lx->n_surnames, lx->n_places};
}
