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
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define MAX_ALIAS_TOKENS 16
#define MAX_NGRAM 6

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

struct ca_linker {
	ca_entity kind;
	rec *recs;
	size_t n;
	json_t *exact;   /* normalised identifier -> [rec idx, ...] with kind tag */
	json_t *names;   /* stem sequence "a b c" -> [[rec idx, mask, alias_len], ...] */
	bool partial;    /* every sub-run of a name is indexed (products, subjects) */
	json_t *starts;  /* stems that begin some indexed name: most tokens are not */
	ca_gazetteer *gaz; /* products and subjects: all of their linking */
};

void ca_linker_free(ca_linker *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->recs[i].id);
		free(l->recs[i].display);
	}
	free(l->recs);
	ca_gazetteer_unref(l->gaz);
	json_decref(l->exact);
	json_decref(l->names);
	json_decref(l->starts);
	free(l);
}

/* exact[key] gets [idx, strength]; a key shared by several records keeps all. */
static int add_exact(ca_linker *l, const char *key, size_t idx, double strength)
{
	if (ca_str_empty(key))
		return 0;
	json_t *arr = json_object_get(l->exact, key);
	if (!arr) {
		arr = json_array();
		if (!arr || json_object_set_new(l->exact, key, arr) < 0)
			return CA_ENOMEM;
	}
	return json_array_append_new(arr, json_pack("[I,f]", (json_int_t)idx, strength)) < 0 ? CA_ENOMEM : 0;
}

static int fold_key(const char *s, char **ret)
{
	return ca_text_fold(s, strlen(s), ret);
}

static int add_exact_folded(ca_linker *l, const char *raw, size_t idx, double strength)
{
	if (ca_str_empty(raw))
		return 0;
	char *k;
	int r = fold_key(raw, &k);
	if (r)
		return r == CA_EUTF8 ? 0 : r;
	r = add_exact(l, k, idx, strength);
	free(k);
	return r;
}

/* Index every contiguous run of an alias's stems, with the mask of alias
 * tokens it covers, so partial mentions add up across the conversation. */
static int add_name(ca_linker *l, const char *name, size_t idx, ca_stemmer *st, bool partial)
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
	ca_buf key = { 0 };
	for (size_t i = 0; i < n && !r; i++) {
		for (size_t j = i; j < n && j < i + MAX_NGRAM && !r; j++) {
			if (!partial && !(i == 0 && j == n - 1))
				continue;
			/* A lone stop word ("the") or one-letter token is no mention. */
			if (i == j && (ca_stopword(t.v[i].norm) || strlen(t.v[i].norm) < 2))
				continue;
			ca_buf_reset(&key);
			for (size_t k = i; k <= j; k++)
				if (ca_buf_puts(&key, k > i ? " " : "") < 0 || ca_buf_puts(&key, t.v[k].stem) < 0)
					r = CA_ENOMEM;
			uint32_t mask = 0;
			for (size_t k = i; k <= j; k++)
				mask |= 1u << k;
			json_t *arr = json_object_get(l->names, key.data);
			if (!arr) {
				arr = json_array();
				if (!arr || json_object_set_new(l->names, key.data, arr) < 0 ||
				    json_object_set_new(l->starts, t.v[i].stem, json_true()) < 0) {
					r = CA_ENOMEM;
					break;
				}
			}
			json_array_append_new(arr, json_pack("[I,I,I]", (json_int_t)idx, (json_int_t)mask, (json_int_t)n));
		}
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
	l->partial = kind == CA_ENT_PRODUCT || kind == CA_ENT_SUBJECT;
	l->exact = json_object();
	l->names = json_object();
	l->starts = json_object();
	size_t n = json_array_size(records);
	l->recs = calloc(n ? n : 1, sizeof(*l->recs));
	if (!l->exact || !l->names || !l->starts || !l->recs) {
		ca_linker_free(l);
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
			const char *email = ca_json_str(rj, "email");
			char *e = NULL;
			if (email && ca_email_norm(email, &e) == 0) {
				r = add_exact(l, e, idx, S_EMAIL);
				free(e);
			}
			if (!r)
				r = add_exact_folded(l, ca_json_str(rj, "username"), idx, S_USERNAME);
			if (!r)
				r = add_exact_folded(l, ca_json_str(rj, "account_number"), idx, S_ACCOUNT);
			const char *phone = ca_json_str(rj, "phone");
			char pn[16];
			if (!r && phone && ca_phone_norm(phone, pn) == 0)
				r = add_exact(l, pn, idx, S_PHONE);
			/* Only a full name names a person: first names recur too often. */
			if (!r)
				r = add_name(l, name, idx, st, false);
			break;
		}
		case CA_ENT_ACCOUNT:
			r = add_exact_folded(l, ca_json_str(rj, "account_number"), idx, S_ACCOUNT);
			if (!r)
				r = add_name(l, name, idx, st, false);
			break;
		default:
			break;
		}
	}
	if (r) {
		ca_linker_free(l);
		return ca_err_set(err, r, "directory", "indexing %s records failed", ca_entity_name(kind));
	}
	*ret = l;
	return 0;
}

/* A candidate record and what the conversation says for it. */
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

static int exact_hits(const ca_linker *l, cands *c, const char *key, double factor, size_t m,
		      uint32_t b, uint32_t e, const char *method)
{
	json_t *arr = json_object_get(l->exact, key);
	if (!arr)
		return 0;
	size_t n = json_array_size(arr), i;
	json_t *hit;
	json_array_foreach(arr, i, hit) {
		size_t idx = (size_t)json_integer_value(json_array_get(hit, 0));
		/* An identifier shared by n records is worth 1/n to each. */
		double s = json_real_value(json_array_get(hit, 1)) * factor / (double)n;
		cand *x = cand_get(c, idx);
		if (!x)
			return CA_ENOMEM;
		x->miss *= 1.0 - s;
		note_evidence(x, s, m, b, e, method);
	}
	return 0;
}

/* Phone numbers are written with spaces, dots, dashes and brackets: collect
 * runs of those around digits and normalise each run. */
static int phone_hits(const ca_linker *l, cands *c, const ca_msg *m, size_t mi, double factor)
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
			int r = exact_hits(l, c, pn, factor, mi, (uint32_t)b, (uint32_t)i, "phone-match");
			if (r)
				return r;
		}
	}
	return 0;
}

static int name_hits(const ca_linker *l, cands *c, size_t m, const ca_tokens *t, double factor)
{
	ca_buf key = { 0 };
	int r = 0;
	for (size_t i = 0; i < t->n && !r; i++) {
		if (!json_object_get(l->starts, t->v[i].stem))
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
			json_t *arr = json_object_get(l->names, key.data);
			if (!arr) {
				/* With every sub-run indexed, a longer n-gram can only be
				 * known if this one is. */
				if (l->partial)
					break;
				continue;
			}
			size_t n = 0, q;
			json_t *hit;
			/* Count distinct records this mention fits. */
			json_array_foreach(arr, q, hit) n++;
			json_array_foreach(arr, q, hit) {
				size_t idx = (size_t)json_integer_value(json_array_get(hit, 0));
				uint32_t mask = (uint32_t)json_integer_value(json_array_get(hit, 1));
				unsigned alen = (unsigned)json_integer_value(json_array_get(hit, 2));
				cand *x = cand_get(c, idx);
				if (!x) {
					r = CA_ENOMEM;
					break;
				}
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
				note_evidence(x, s * part / (double)(n > 1 ? n : 1), m, t->v[i].begin, t->v[j].end,
					      part >= 1.0 ? "name-match" : "partial-name-match");
			}
		}
	}
	ca_buf_done(&key);
	return r;
}

/* What one conversation has said so far about each candidate record. */
typedef struct link_state {
	size_t upto;
	cands c;
} link_state;

static void link_state_free(void *p)
{
	link_state *st = p;
	if (st)
		free(st->c.v);
	free(st);
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
	if (l->kind == CA_ENT_CONTACT && in->identity_contact) {
		/* An authenticated identity is the answer, even for a contact made
		 * after this index was built (an e-mail sender seen first). */
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->recs[i].id, in->identity_contact) == 0)
				return ca_prediction_set(ret, f, l->recs[i].id, l->recs[i].display, S_IDENTITY, "identity");
		return ca_prediction_set(ret, f, in->identity_contact, NULL, S_IDENTITY, "identity");
	}
	link_state *st = ca_analysis_state(in->analysis, l);
	if (!st) {
		if (!(st = calloc(1, sizeof(*st))))
			return CA_ENOMEM;
		if ((r = ca_analysis_set_state(in->analysis, l, st, link_state_free)))
			return r;
	}
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
			const char *method = tok->kind == CA_TOK_EMAIL ? "email-match" : "identifier-match";
			r = exact_hits(l, &st->c, tok->norm, factor, mi, tok->begin, tok->end, method);
		}
		if (!r && l->kind == CA_ENT_CONTACT)
			r = phone_hits(l, &st->c, m, mi, factor);
		if (!r)
			r = name_hits(l, &st->c, mi, t, factor);
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
	const rec *rc = &l->recs[win->idx];
	r = ca_prediction_set(ret, f, rc->id, rc->display, conf < 0 ? 0 : conf, win->method ? win->method : "name-match");
	if (!r && win->ev_msg)
		r = ca_prediction_add_evidence(ret, in->msgs[win->ev_msg - 1].id, win->ev_begin, win->ev_end);
	return r;
}
