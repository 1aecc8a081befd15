/* SPDX-License-Identifier: MIT */
/*
 * Entity linking for lookup fields: finds which contact, account, product or
 * subject a conversation is about. Products and subjects go to their
 * gazetteer (gazetteer.c); contacts and accounts are linked here.
 * Identifiers first (authenticated identity,
 * e-mail, user name, account number, phone, product number: exact matches of
 * normalised forms), then names: a gazetteer of every name and alias as stem
 * sequences, matched over the conversation's n-grams, so "Calvin Klein
 * boots" and "the boots ... from calvin klein" both cover the product's name.
 * Evidence from several mentions combines as independent signals
 * (1 - prod(1 - s)); the confidence is the best score less half the runner-up,
 * so a name shared by two contacts is not enough on its own.
 *
 * Two sources of records: the gazetteer built here from the records given
 * (products and subjects: small, held in GLib hash tables, immutable and
 * reference-counted so threads can share it), and for contacts and accounts
 * the directory of the call (predictor.h, ca_directory), asked key by key
 * through the store's indexes, so the directory is never loaded and an
 * event costs the same with a hundred contacts or a million.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define MAX_ALIAS_TOKENS 16
#define MAX_NGRAM 6

/* A name or identifier the directory holds for more records than this is
 * no evidence for any of them (each would get a 1/n share below 0.03). */
#define DIR_MAX_HITS 32

/* Strengths of each kind of evidence: how often such a mention, alone,
 * names the right record. Customer text is the customer speaking about
 * themselves; the representative's lines repeat or guess. */
#define S_IDENTITY 0.99
#define S_EMAIL 0.97
#define S_ACCOUNT 0.95
#define S_USERNAME 0.93
#define S_PHONE 0.90
#define S_NUMBER 0.95  /* product number */
#define S_NAME 0.85    /* full name or alias, all tokens */
#define AGENT_FACTOR 0.7

typedef struct rec {
	char *id;
	char *display;
	unsigned n_name_tokens; /* tokens of the longest alias */
} rec;

/* Hits of the gazetteer's tables (GArray elements). */
typedef struct exact_hit {
	size_t idx;
	double strength;
} exact_hit;

typedef struct name_hit {
	size_t idx;
	uint32_t mask;
	unsigned alias_len;
} name_hit;

struct ca_linker {
	gint refs;
	ca_entity kind;
	rec *recs;
	size_t n;
	GHashTable *exact;  /* normalised identifier -> GArray of exact_hit */
	GHashTable *names;  /* stem sequence "a b c" -> GArray of name_hit */
	GHashTable *starts; /* stems that begin some indexed name: most tokens are not */
	bool directory;     /* contacts, accounts: also ask the call's directory */
	ca_gazetteer *gaz;  /* products and subjects: all of their linking */
};

static void linker_free(ca_linker *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->recs[i].id);
		free(l->recs[i].display);
	}
	free(l->recs);
	ca_gazetteer_unref(l->gaz);
	if (l->exact)
		g_hash_table_destroy(l->exact);
	if (l->names)
		g_hash_table_destroy(l->names);
	if (l->starts)
		g_hash_table_destroy(l->starts);
	free(l);
}

ca_linker *ca_linker_ref(ca_linker *l)
{
	if (l)
		g_atomic_int_inc(&l->refs);
	return l;
}

void ca_linker_unref(ca_linker *l)
{
	if (l && g_atomic_int_dec_and_test(&l->refs))
		linker_free(l);
}

static GArray *table_slot(GHashTable *t, const char *key, size_t elem)
{
	GArray *arr = g_hash_table_lookup(t, key);
	if (!arr) {
		arr = g_array_new(FALSE, FALSE, (guint)elem);
		g_hash_table_insert(t, g_strdup(key), arr);
	}
	return arr;
}

/* exact[key] gets {idx, strength}; a key shared by several records keeps all. */
static int add_exact(ca_linker *l, const char *key, size_t idx, double strength)
{
	if (ca_str_empty(key))
		return 0;
	exact_hit h = { idx, strength };
	g_array_append_val(table_slot(l->exact, key, sizeof(h)), h);
	return 0;
}

/* The key of a contact's identifier, as the store writes it (model.h). */
static int add_exact_key(ca_linker *l, ca_dir_key type, const char *raw, size_t idx, double strength)
{
	char *k = NULL;
	int r = ca_dir_key_of(type, raw, NULL, &k);
	if (!r && k)
		r = add_exact(l, k, idx, strength);
	free(k);
	return r;
}

/* Index a name as its whole stem sequence, with the mask of the tokens it
 * covers: only a full name names a person or an account (first names and
 * single words recur too often); products and subjects, whose partial names
 * do count, are the gazetteer's. */
static int add_name(ca_linker *l, const char *name, size_t idx, ca_stemmer *st)
{
	if (ca_str_empty(name))
		return 0;
	ca_tokens t = { 0 };
	int r = ca_tokenize(name, strlen(name), 0, st, &t);
	if (r) {
		ca_tokens_done(&t);
		return r == CA_EUTF8 ? 0 : r;
	}
	size_t n = t.n < MAX_ALIAS_TOKENS ? t.n : MAX_ALIAS_TOKENS;
	if (n > l->recs[idx].n_name_tokens)
		l->recs[idx].n_name_tokens = (unsigned)n;
	/* A lone stop word ("the") or one-letter token is no mention. */
	if (n == 0 || n > MAX_NGRAM || (n == 1 && (ca_stopword(t.v[0].norm) || strlen(t.v[0].norm) < 2))) {
		ca_tokens_done(&t);
		return 0;
	}
	ca_buf key = { 0 };
	for (size_t k = 0; k < n && !r; k++)
		if (ca_buf_puts(&key, k ? " " : "") < 0 || ca_buf_puts(&key, t.v[k].stem) < 0)
			r = CA_ENOMEM;
	if (!r) {
		uint32_t mask = n >= 32 ? UINT32_MAX : (1u << n) - 1;
		name_hit h = { idx, mask, (unsigned)n };
		g_array_append_val(table_slot(l->names, key.data, sizeof(h)), h);
		if (!g_hash_table_contains(l->starts, t.v[0].stem))
			g_hash_table_add(l->starts, g_strdup(t.v[0].stem));
	}
	ca_buf_done(&key);
	ca_tokens_done(&t);
	return r;
}

int ca_linker_new(ca_entity kind, const json_t *records, ca_stemmer *st, ca_linker **ret, ca_err *err)
{
	ca_linker *l = calloc(1, sizeof(*l));
	if (!l)
		return CA_ENOMEM;
	l->refs = 1;
	l->kind = kind;
	if (kind == CA_ENT_PRODUCT || kind == CA_ENT_SUBJECT) {
		int gr = ca_gazetteer_new(kind, records, st, NULL, &l->gaz, err);
		if (gr) {
			free(l);
			return gr;
		}
		*ret = l;
		return 0;
	}
	l->directory = kind == CA_ENT_CONTACT || kind == CA_ENT_ACCOUNT;
	l->exact = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
	l->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
	l->starts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t n = json_array_size(records);
	l->recs = calloc(n ? n : 1, sizeof(*l->recs));
	if (!l->recs) {
		linker_free(l);
		return CA_ENOMEM;
	}
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		const json_t *rj = json_array_get(records, i);
		const char *id = ca_json_str(rj, "id");
		const char *name = ca_json_str(rj, kind == CA_ENT_CONTACT ? "full_name" : "name");
		if (!id)
			continue;
		l->recs[l->n].id = strdup(id);
		l->recs[l->n].display = strdup(name ? name : id);
		if (!l->recs[l->n].id || !l->recs[l->n].display) {
			r = CA_ENOMEM;
			break;
		}
		size_t idx = l->n++;
		switch (kind) {
		case CA_ENT_CONTACT: {
			r = add_exact_key(l, CA_DIRKEY_EMAIL, ca_json_str(rj, "email"), idx, S_EMAIL);
			if (!r)
				r = add_exact_key(l, CA_DIRKEY_USERNAME, ca_json_str(rj, "username"), idx, S_USERNAME);
			if (!r)
				r = add_exact_key(l, CA_DIRKEY_ACCOUNT_NUMBER, ca_json_str(rj, "account_number"), idx,
						  S_ACCOUNT);
			if (!r)
				r = add_exact_key(l, CA_DIRKEY_PHONE, ca_json_str(rj, "phone"), idx, S_PHONE);
			/* Only a full name names a person: first names recur too often. */
			if (!r)
				r = add_name(l, name, idx, st);
			break;
		}
		case CA_ENT_ACCOUNT:
			r = add_exact_key(l, CA_DIRKEY_ACCOUNT_NUMBER, ca_json_str(rj, "account_number"), idx, S_ACCOUNT);
			if (!r)
				r = add_name(l, name, idx, st);
			break;
		default:
			break;
		}
	}
	if (r) {
		linker_free(l);
		return ca_err_set(err, r, "directory", "indexing %s records failed", ca_entity_name(kind));
	}
	*ret = l;
	return 0;
}

/* A candidate record and what the conversation says for it. `idx` is an
 * index into the linker's records, or (>= l->n) into the records the
 * directory returned, kept in the conversation's link_state. */
typedef struct cand {
	size_t idx;
	double miss;        /* prod(1 - s) over identifier evidence */
	uint32_t mask;      /* alias tokens covered by name mentions */
	unsigned alias_len;
	double name_s;      /* strength of the best name mention */
	size_t ev_msg;      /* strongest evidence: message index + 1 (0: none) */
	uint32_t ev_begin, ev_end;
	double ev_s;
	const char *method;
} cand;

typedef struct cands {
	cand *v;
	size_t n, cap;
} cands;

/* What one conversation has said so far about each candidate record. */
typedef struct link_state {
	size_t upto;
	cands c;
	GPtrArray *found;    /* rec* the directory returned, owned */
	GHashTable *found_i; /* id -> index in found + 1 */
} link_state;

static void rec_free(gpointer p)
{
	rec *r = p;
	if (r) {
		free(r->id);
		free(r->display);
	}
	free(r);
}

static void link_state_free(void *p)
{
	link_state *st = p;
	if (st) {
		free(st->c.v);
		g_ptr_array_unref(st->found);
		g_hash_table_destroy(st->found_i);
	}
	free(st);
}

static link_state *link_state_new(void)
{
	link_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->found = g_ptr_array_new_with_free_func(rec_free);
	st->found_i = g_hash_table_new(g_str_hash, g_str_equal); /* keys borrowed from found */
	return st;
}

static const rec *cand_rec(const ca_linker *l, const link_state *st, size_t idx)
{
	return idx < l->n ? &l->recs[idx] : g_ptr_array_index(st->found, idx - l->n);
}

/* The candidate index of a record the directory returned. */
static int found_idx(const ca_linker *l, link_state *st, const char *id, const char *display, size_t *ret)
{
	gpointer v = g_hash_table_lookup(st->found_i, id);
	if (!v) {
		rec *r = calloc(1, sizeof(*r));
		if (!r || !(r->id = strdup(id)) || !(r->display = strdup(display ? display : id))) {
			rec_free(r);
			return CA_ENOMEM;
		}
		g_ptr_array_add(st->found, r);
		v = GSIZE_TO_POINTER(st->found->len);
		g_hash_table_insert(st->found_i, r->id, v);
	}
	*ret = l->n + GPOINTER_TO_SIZE(v) - 1;
	return 0;
}

static cand *cand_get(cands *c, size_t idx)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].idx == idx)
			return &c->v[i];
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		cand *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	cand *x = &c->v[c->n++];
	memset(x, 0, sizeof(*x));
	x->idx = idx;
	x->miss = 1.0;
	return x;
}

static void note_evidence(cand *x, double s, size_t mi, uint32_t b, uint32_t e, const char *method)
{
	if (s > x->ev_s) {
		x->ev_s = s;
		x->ev_msg = mi + 1;
		x->ev_begin = b;
		x->ev_end = e;
		x->method = method;
	}
}

/* One mention of a key, and the records it fits (from the gazetteer and
 * the directory together): the hits are gathered first, because a key
 * shared by n records is worth 1/n to each. */
typedef struct hits {
	exact_hit *v;
	size_t n, cap;
	const ca_linker *l;
	link_state *st;
	int r;
} hits;

static int hits_add(hits *h, size_t idx, double strength)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;
		exact_hit *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = (exact_hit){ idx, strength };
	return 0;
}

static double key_strength(unsigned type)
{
	switch (type) {
	case CA_DIRKEY_EMAIL:
		return S_EMAIL;
	case CA_DIRKEY_PHONE:
		return S_PHONE;
	case CA_DIRKEY_USERNAME:
		return S_USERNAME;
	case CA_DIRKEY_ACCOUNT_NUMBER:
		return S_ACCOUNT;
	default:
		return S_NAME;
	}
}

static int dir_hit(const char *id, const char *display, unsigned type, void *ud)
{
	hits *h = ud;
	size_t idx;
	int r = found_idx(h->l, h->st, id, display, &idx);
	if (!r)
		r = hits_add(h, idx, key_strength(type));
	return r;
}

/* Ask the directory for `key` (types: a ca_dir_key bit set). More than
 * DIR_MAX_HITS records for one key: none of them is told apart by it. */
static int dir_find(const ca_linker *l, link_state *st, const ca_directory *dir, unsigned types, const char *key,
		    hits *h)
{
	if (!l->directory || !dir || !types)
		return 0;
	/* Every mention is asked (each adds evidence); the directory
	 * remembers its answers (src/casemgmt/directory.c), so a word the
	 * conversations repeat costs a hash lookup. */
	size_t before = h->n;
	h->l = l;
	h->st = st;
	int r = dir->find(dir->ud, l->kind, types, key, DIR_MAX_HITS + 1, dir_hit, h);
	if (!r && h->n - before > DIR_MAX_HITS)
		h->n = before;
	return r;
}

static int exact_hits(const ca_linker *l, link_state *st, const ca_directory *dir, unsigned types, const char *key,
		      double factor, size_t m, uint32_t b, uint32_t e, const char *method)
{
	hits h = { 0 };
	int r = 0;
	GArray *arr = g_hash_table_lookup(l->exact, key);
	for (guint i = 0; arr && i < arr->len && !r; i++)
		r = hits_add(&h, g_array_index(arr, exact_hit, i).idx, g_array_index(arr, exact_hit, i).strength);
	if (!r)
		r = dir_find(l, st, dir, types, key, &h);
	for (size_t i = 0; i < h.n && !r; i++) {
		/* An identifier shared by n records is worth 1/n to each. */
		double s = h.v[i].strength * factor / (double)h.n;
		cand *x = cand_get(&st->c, h.v[i].idx);
		if (!x) {
			r = CA_ENOMEM;
			break;
		}
		x->miss *= 1.0 - s;
		note_evidence(x, s, m, b, e, method);
	}
	free(h.v);
	return r;
}

/* Phone numbers are written with spaces, dots, dashes and brackets: collect
 * runs of those around digits and normalise each run. */
static int phone_hits(const ca_linker *l, link_state *st, const ca_directory *dir, const ca_msg *m, size_t mi,
		      double factor)
{
	const char *s = m->text;
	size_t i = 0, len = m->len;
	while (i < len) {
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '(' && s[i] != '+') {
			i++;
			continue;
		}
		size_t b = i, digits = 0;
		char buf[40];
		size_t bl = 0;
		while (i < len && strchr("0123456789 ()-.+", s[i]) && bl + 1 < sizeof(buf)) {
			if (s[i] >= '0' && s[i] <= '9')
				digits++;
			buf[bl++] = s[i++];
		}
		buf[bl] = '\0';
		if (i == b)
			i++;
		char pn[16];
		if (digits >= 10 && digits <= 11 && ca_phone_norm(buf, pn) == 0) {
			int r = exact_hits(l, st, dir, CA_DIRKEY_PHONE, pn, factor, mi, (uint32_t)b, (uint32_t)i,
					   "phone-match");
			if (r)
				return r;
		}
	}
	return 0;
}

/* A name mention (tokens i..j) fits each of `hits` (records, with the mask
 * of their alias tokens it covers and the alias's length). */
static int apply_name(cands *c, const name_hit *hv, size_t n, double factor, size_t m, uint32_t b, uint32_t e)
{
	for (size_t q = 0; q < n; q++) {
		uint32_t mask = hv[q].mask;
		unsigned alen = hv[q].alias_len;
		cand *x = cand_get(c, hv[q].idx);
		if (!x)
			return CA_ENOMEM;
		if (alen >= x->alias_len) {
			if (alen > x->alias_len)
				x->mask = 0;
			x->alias_len = alen;
			x->mask |= mask;
		}
		double s = S_NAME * factor;
		unsigned covered = (unsigned)__builtin_popcount(mask);
		double part = alen ? (double)covered / alen : 1.0;
		if (s * part > x->name_s)
			x->name_s = s;
		note_evidence(x, s * part / (double)(n > 1 ? n : 1), m, b, e,
			      part >= 1.0 ? "name-match" : "partial-name-match");
	}
	return 0;
}

/* Names of the directory's records: whole names only (contacts and
 * accounts are not partial), so a hit covers every token of it. */
static int dir_name_hits(const ca_linker *l, link_state *st, const ca_directory *dir, size_t m, const ca_tokens *t,
			 double factor)
{
	ca_buf key = { 0 };
	int r = 0;
	name_hit *hv = NULL;
	for (size_t i = 0; i < t->n && !r; i++) {
		ca_buf_reset(&key);
		for (size_t j = i; j < t->n && j < i + CA_DIR_NAME_MAX_TOKENS && !r; j++) {
			if (ca_buf_puts(&key, j > i ? " " : "") < 0 || ca_buf_puts(&key, t->v[j].stem) < 0) {
				r = CA_ENOMEM;
				break;
			}
			bool known;
			if ((r = dir->name_prefix(dir->ud, l->kind, key.data, &known)) || !known)
				break;
			hits h = { 0 };
			r = dir_find(l, st, dir, CA_DIRKEY_NAME, key.data, &h);
			name_hit *nv = r || !h.n ? NULL : realloc(hv, h.n * sizeof(*hv));
			if (!r && h.n && !nv)
				r = CA_ENOMEM;
			if (nv) {
				hv = nv;
				unsigned alen = (unsigned)(j - i + 1);
				for (size_t q = 0; q < h.n; q++)
					hv[q] = (name_hit){ h.v[q].idx, (uint32_t)((1u << alen) - 1), alen };
				r = apply_name(&st->c, hv, h.n, factor, m, t->v[i].begin, t->v[j].end);
			}
			free(h.v);
		}
	}
	free(hv);
	ca_buf_done(&key);
	return r;
}

static int name_hits(const ca_linker *l, cands *c, size_t m, const ca_tokens *t, double factor)
{
	ca_buf key = { 0 };
	int r = 0;
	if (g_hash_table_size(l->starts) == 0)
		return 0;
	for (size_t i = 0; i < t->n && !r; i++) {
		if (!g_hash_table_contains(l->starts, t->v[i].stem))
			continue;
		for (size_t j = i; j < t->n && j < i + MAX_NGRAM; j++) {
			ca_buf_reset(&key);
			for (size_t k = i; k <= j; k++)
				if (ca_buf_puts(&key, k > i ? " " : "") < 0 || ca_buf_puts(&key, t->v[k].stem) < 0) {
					r = CA_ENOMEM;
					break;
				}
			if (r)
				break;
			GArray *arr = g_hash_table_lookup(l->names, key.data);
			if (!arr)
				continue;
			/* Each hit is a distinct record this mention fits. */
			r = apply_name(c, (const name_hit *)(void *)arr->data, arr->len, factor, m, t->v[i].begin,
				       t->v[j].end);
			if (r)
				break;
		}
	}
	ca_buf_done(&key);
	return r;
}

static double cand_score(const cand *x, double *ret_name)
{
	/* The name contributes by how much of it was said (squared: half a name
	 * is far weaker than a whole one). */
	double cover = x->alias_len ? (double)__builtin_popcount(x->mask) / x->alias_len : 0;
	double name = x->name_s * cover * cover;
	if (ret_name)
		*ret_name = name;
	return 1.0 - x->miss * (1.0 - name);
}

int ca_linker_predict(const ca_linker *l, const ca_predict_input *in, const ca_field_def *f,
		      ca_prediction *ret)
{
	int r = 0;
	if (l->gaz)
		return ca_gazetteer_predict(l->gaz, in, f, ret);
	const ca_directory *dir = in->directory && in->directory->version == CA_DIRECTORY_VERSION ? in->directory : NULL;
	if (l->kind == CA_ENT_CONTACT && in->identity_contact) {
		/* An authenticated identity is the answer, even for a contact made
		 * after this index was built (an e-mail sender seen first). */
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->recs[i].id, in->identity_contact) == 0)
				return ca_prediction_set(ret, f, l->recs[i].id, l->recs[i].display, S_IDENTITY, "identity");
		char *display = NULL;
		if (dir && (r = dir->display(dir->ud, l->kind, in->identity_contact, &display)) && r != CA_ENOTFOUND)
			return r;
		r = ca_prediction_set(ret, f, in->identity_contact, display, S_IDENTITY, "identity");
		free(display);
		return r;
	}
	link_state *st = ca_analysis_state(in->analysis, l);
	if (!st) {
		if (!(st = link_state_new()))
			return CA_ENOMEM;
		if ((r = ca_analysis_set_state(in->analysis, l, st, link_state_free)))
			return r;
	}
	if (!l->directory)
		dir = NULL;
	/* Which identifier keys a token may be, per kind (the e-mail key holds
	 * an '@', so only an e-mail token is asked for it). */
	unsigned ident = l->kind == CA_ENT_CONTACT ? CA_DIRKEY_USERNAME | CA_DIRKEY_ACCOUNT_NUMBER
			 : l->kind == CA_ENT_ACCOUNT ? CA_DIRKEY_ACCOUNT_NUMBER
						     : 0;
	if (st->upto > in->n_msgs)
		return CA_EINVAL; /* messages are append-only */
	for (; st->upto < in->n_msgs && !r; st->upto++) {
		size_t mi = st->upto;
		const ca_msg *m = &in->msgs[mi];
		if (m->role != CA_ROLE_CUSTOMER && m->role != CA_ROLE_AGENT)
			continue;
		double factor = m->role == CA_ROLE_CUSTOMER ? 1.0 : AGENT_FACTOR;
		const ca_tokens *t = &in->analysis->info[mi].tokens;
		for (size_t ti = 0; ti < t->n && !r; ti++) {
			const ca_token *tok = &t->v[ti];
			bool email = tok->kind == CA_TOK_EMAIL;
			unsigned types = ident | (email && l->kind == CA_ENT_CONTACT ? CA_DIRKEY_EMAIL : 0);
			/* A lone stop word or letter is nobody's user name. */
			if (!email && (ca_stopword(tok->norm) || strlen(tok->norm) < 2))
				types = 0;
			r = exact_hits(l, st, dir, types, tok->norm, factor, mi, tok->begin, tok->end,
				       email ? "email-match" : "identifier-match");
		}
		if (!r && l->kind == CA_ENT_CONTACT)
			r = phone_hits(l, st, dir, m, mi, factor);
		if (!r)
			r = name_hits(l, &st->c, mi, t, factor);
		if (!r && dir)
			r = dir_name_hits(l, st, dir, mi, t, factor);
	}
	if (r)
		return r;
	const cands *c = &st->c;
	double best = 0;
	size_t bi = 0;
	for (size_t i = 0; i < c->n; i++) {
		double score = cand_score(&c->v[i], NULL);
		if (score > best) {
			best = score;
			bi = i;
		}
	}
	if (best <= 0)
		return CA_ENOTFOUND;
	/* Rivals weigh only with evidence the winner lacks: a name shared with
	 * the winner is no argument against it, but a rival with the same
	 * evidence splits the confidence ("Crystal Minh" fitting three contacts
	 * is a third as sure). */
	const cand *win = &c->v[bi];
	double win_name;
	cand_score(win, &win_name);
	double rival = 0;
	size_t ties = 1;
	for (size_t i = 0; i < c->n; i++) {
		if (i == bi)
			continue;
		const cand *x = &c->v[i];
		double x_name;
		cand_score(x, &x_name);
		if (win->miss >= 1.0 && x->miss >= 1.0 && x_name >= win_name - 1e-9) {
			ties++;
			continue;
		}
		double name = x_name > win_name + 1e-9 || win->miss < 1.0 ? x_name : 0;
		double score = 1.0 - x->miss * (1.0 - name);
		if (win->miss < 1.0 && x->miss >= 1.0 && x_name <= win_name + 1e-9)
			score = 0; /* only the shared name speaks for it */
		if (score > rival)
			rival = score;
	}
	double conf = best / (double)ties - 0.5 * rival;
	const rec *rc = cand_rec(l, st, win->idx);
	r = ca_prediction_set(ret, f, rc->id, rc->display, conf < 0 ? 0 : conf, win->method ? win->method : "name-match");
	if (!r && win->ev_msg)
		r = ca_prediction_add_evidence(ret, in->msgs[win->ev_msg - 1].id, win->ev_begin, win->ev_end);
	return r;
}
