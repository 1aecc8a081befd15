/* SPDX-License-Identifier: MIT */
/*
 * Option-set classification (category, priority, case type...). Two sources,
 * the stronger one used when present:
 *  - a liblinear L2-regularised logistic regression over TF-IDF features,
 *    trained on the team's own resolved cases by `caseagent train`
 *    (R.-E. Fan et al., "LIBLINEAR: A Library for Large Linear
 *    Classification", JMLR 9, 2008);
 *  - before enough history exists, the administrator's option descriptions:
 *    cosine similarity between the conversation's TF-IDF vector and each
 *    option's description vector (Salton & Buckley 1988 term weighting), plus
 *    the option's keyword cues as a last resort. Scores become a
 *    distribution by a softmax, whose top probability is the confidence.
 * The customer's words weigh most, early turns (where the issue is stated)
 * more than late ones; the representative's words count at half weight;
 * system and bot lines not at all.
 */
#include <errno.h>
#include <linear.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define SOFTMAX_TEMPERATURE 0.06
#define CUE_WEIGHT 0.04
#define AGENT_WEIGHT 0.35
#define LABEL_REPEAT 1
/* Message weights, set on the ABCD dev chats where a plateau of settings
 * scored alike (customer turns 1-3 at 1.0, later at 0.35, the agent at 0.35,
 * the issue statement doubled): the middle of the plateau, not its edge. */
#define EARLY_TURNS 3
#define ISSUE_BOOST 2.0
#define LATE_WEIGHT 0.35

struct ca_classifier {
	size_t n_options;
	ca_vocab *vocab;      /* over option prototypes */
	ca_svec *opt_vec;     /* one per prototype */
	size_t *proto_option; /* prototype -> option */
	size_t n_protos;
	/* inverted index: term id -> (prototype, weight) postings, so scoring a
	 * query touches only the prototypes that share its terms */
	size_t *post_start;   /* V + 1 offsets */
	uint32_t *post_proto;
	float *post_val;
	ca_phrases cues;      /* keyword cues; tag = option index */
	/* trained model (optional) */
	struct model *lin;
	ca_vocab *lin_vocab;  /* term -> id */
	int *lin_feature;     /* id -> liblinear feature index (1-based) */
	double *lin_idf;      /* id -> idf at training time */
	int *lin_option;      /* liblinear label -> option index */
	size_t lin_n_labels;
	/* calibration map (optional): raw confidence up to cal_x[i] means
	 * cal_y[i], fit by ca_embedded_calibrate on labelled conversations */
	double *cal_x, *cal_y;
	size_t cal_n;
};

/* Chat filler: greetings, thanks and acknowledgements say nothing about
 * what a conversation is about, yet fill every chat. */
static const char *const filler[] = {
	"also", "could", "get", "hello", "hey", "hi", "like", "ok", "okay", "one", "please", "thank",
	"thanks", "thx", "would", "yeah", "yes",
};

static ca_wordset filler_set = CA_WORDSET(filler);

bool ca_filler_word(const char *norm)
{
	return ca_wordset_has(&filler_set, norm);
}

int ca_content_terms(const ca_tokens *t, size_t from, size_t to, const char ***terms, size_t *n, size_t *cap)
{
	for (size_t i = from; i < to && i < t->n; i++) {
		const ca_token *tok = &t->v[i];
		if (tok->kind == CA_TOK_WORD && (ca_stopword(tok->norm) || strlen(tok->norm) < 2 || ca_filler_word(tok->norm)))
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			const char **v = realloc(*terms, c * sizeof(*v));
			if (!v)
				return CA_ENOMEM;
			*terms = v;
			*cap = c;
		}
		(*terms)[(*n)++] = tok->stem;
	}
	return 0;
}

int ca_prediction_set(ca_prediction *p, const ca_field_def *f, const char *value, const char *display,
		      double confidence, const char *method)
{
	memset(p, 0, sizeof(*p));
	p->field = strdup(f->name);
	p->value = strdup(value);
	p->display = strdup(display ? display : value);
	p->method = strdup(method);
	p->confidence = confidence < 0 ? 0 : confidence > 1 ? 1 : confidence;
	if (!p->field || !p->value || !p->display || !p->method) {
		ca_prediction_done(p);
		return CA_ENOMEM;
	}
	return 0;
}

void ca_classifier_free(ca_classifier *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_protos && c->opt_vec; i++)
		ca_svec_done(&c->opt_vec[i]);
	free(c->opt_vec);
	free(c->proto_option);
	free(c->post_start);
	free(c->post_proto);
	free(c->post_val);
	ca_vocab_free(c->vocab);
	ca_phrases_done(&c->cues);
	if (c->lin)
		free_and_destroy_model(&c->lin);
	ca_vocab_free(c->lin_vocab);
	free(c->lin_feature);
	free(c->lin_idf);
	free(c->lin_option);
	free(c->cal_x);
	free(c->cal_y);
	free(c);
}

/* Terms of one prototype of an option: its label, description, cues and
 * value, plus subcategory `sub` when the option has subcategories. */
static int option_terms(const ca_option *o, size_t sub, ca_stemmer *st, ca_tokens *t, const char ***terms, size_t *n,
			size_t *cap)
{
	ca_tokens_reset(t);
	int r = 0;
	/* The label is the admin's own name for the option: it counts thrice. */
	for (int k = 0; k < LABEL_REPEAT && !r; k++)
		r = ca_tokenize(o->label, strlen(o->label), 0, st, t);
	if (!r && sub < o->subcategories.n)
		r = ca_tokenize(o->subcategories.v[sub], strlen(o->subcategories.v[sub]), 0, st, t);
	if (!r)
		r = ca_tokenize(o->description, strlen(o->description), 0, st, t);
	for (size_t k = 0; !r && k < o->cues.n; k++)
		r = ca_tokenize(o->cues.v[k], strlen(o->cues.v[k]), 0, st, t);
	/* The value itself ("product_defect") names the option too. */
	if (!r) {
		char *v = strdup(o->value);
		if (!v)
			return CA_ENOMEM;
		for (char *p = v; *p; p++)
			if (*p == '_' || *p == '-')
				*p = ' ';
		r = ca_tokenize(v, strlen(v), 0, st, t);
		free(v);
	}
	*n = 0;
	if (!r)
		r = ca_content_terms(t, 0, t->n, terms, n, cap);
	return r;
}

/* liblinear reads and writes models through files only: use an unlinked
 * temporary file under $TMPDIR (or /tmp) as the go-between. */
static int tmp_model_file(char *path, size_t size)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int n = snprintf(path, size, "%s/caseagent-model-XXXXXX", dir);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return mkstemp(path);
}

static int load_liblinear(const char *text, struct model **ret)
{
	char path[512];
	int fd = tmp_model_file(path, sizeof(path));
	if (fd < 0)
		return CA_EIO;
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	close(fd);
	struct model *m = w == (ssize_t)len ? load_model(path) : NULL;
	unlink(path);
	if (!m)
		return CA_EPARSE;
	*ret = m;
	return 0;
}

static int save_liblinear(const struct model *m, char **ret)
{
	char path[512];
	int fd = tmp_model_file(path, sizeof(path));
	if (fd < 0)
		return CA_EIO;
	close(fd);
	int r = save_model(path, m) == 0 ? 0 : CA_EIO;
	size_t len;
	if (!r)
		r = ca_file_read(path, (size_t)1 << 30, ret, &len, NULL);
	unlink(path);
	return r;
}

static int load_trained(ca_classifier *c, const ca_field_def *f, const json_t *model, ca_err *err)
{
	const json_t *vocab = json_object_get(model, "vocab");
	const json_t *idf = json_object_get(model, "idf");
	const json_t *labels = json_object_get(model, "labels");
	const char *text = ca_json_str(model, "liblinear");
	if (!json_is_array(vocab) || !json_is_array(idf) || json_array_size(vocab) != json_array_size(idf) ||
	    !json_is_array(labels) || !text)
		return ca_err_set(err, CA_EPARSE, f->name,
				  "trained model for field '%s' is incomplete; run `caseagent train` again", f->name);
	/* The vocab only maps terms to ids here; the feature index and idf of
	 * each id come from the stored arrays, so weights match training. */
	c->lin_vocab = ca_vocab_new();
	size_t V = json_array_size(vocab);
	c->lin_feature = calloc(V ? V : 1, sizeof(int));
	c->lin_idf = calloc(V ? V : 1, sizeof(double));
	if (!c->lin_vocab || !c->lin_feature || !c->lin_idf)
		return CA_ENOMEM;
	size_t i;
	json_t *t;
	json_array_foreach(vocab, i, t) {
		const char *term = json_string_value(t);
		if (!term || ca_vocab_add_doc(c->lin_vocab, &term, 1) < 0)
			return ca_err_set(err, CA_EPARSE, f->name, "trained model for field '%s': bad vocabulary", f->name);
	}
	ca_vocab_freeze(c->lin_vocab);
	json_array_foreach(vocab, i, t) {
		int32_t id = ca_vocab_id(c->lin_vocab, json_string_value(t));
		if (id < 0 || (size_t)id >= V)
			return ca_err_set(err, CA_EPARSE, f->name, "trained model for field '%s': duplicate term", f->name);
		c->lin_feature[id] = (int)i + 1;
		c->lin_idf[id] = json_number_value(json_array_get(idf, i));
	}
	int r = load_liblinear(text, &c->lin);
	if (r)
		return ca_err_set(err, r, f->name, "cannot load the trained model for field '%s'", f->name);
	int nr = get_nr_class(c->lin);
	int *lab = calloc((size_t)nr, sizeof(int));
	c->lin_option = calloc((size_t)nr, sizeof(int));
	if (!lab || !c->lin_option) {
		free(lab);
		return CA_ENOMEM;
	}
	get_labels(c->lin, lab);
	c->lin_n_labels = (size_t)nr;
	for (int k = 0; k < nr; k++) {
		const char *v = json_string_value(json_array_get(labels, (size_t)lab[k]));
		c->lin_option[k] = ca_field_option_index(f, v);
	}
	free(lab);
	return 0;
}

/* {"method": "isotonic", "x": [...], "y": [...]}: x ascending, y in [0, 1]. */
static int load_calibration(ca_classifier *c, const ca_field_def *f, const json_t *cal, ca_err *err)
{
	const json_t *x = json_object_get(cal, "x"), *y = json_object_get(cal, "y");
	size_t n = json_array_size(x);
	if (n == 0 || n != json_array_size(y))
		return ca_err_set(err, CA_EPARSE, f->name,
				  "the calibration of field '%s' is damaged; run `caseagent calibrate` again", f->name);
	c->cal_x = malloc(n * sizeof(double));
	c->cal_y = malloc(n * sizeof(double));
	if (!c->cal_x || !c->cal_y)
		return CA_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->cal_x[i] = json_number_value(json_array_get(x, i));
		c->cal_y[i] = json_number_value(json_array_get(y, i));
		if ((i && c->cal_x[i] < c->cal_x[i - 1]) || c->cal_y[i] < 0 || c->cal_y[i] > 1)
			return ca_err_set(err, CA_EPARSE, f->name,
					  "the calibration of field '%s' is damaged; run `caseagent calibrate` again", f->name);
	}
	c->cal_n = n;
	return 0;
}

/* The calibrated confidence: the value of the first step whose upper end
 * reaches the raw one (the last step above them all). */
static double calibrated(const ca_classifier *c, double raw)
{
	if (!c->cal_n)
		return raw;
	for (size_t i = 0; i < c->cal_n; i++)
		if (raw <= c->cal_x[i])
			return c->cal_y[i];
	return c->cal_y[c->cal_n - 1];
}

static int build_postings(ca_classifier *c)
{
	size_t V = ca_vocab_size(c->vocab), total = 0;
	c->post_start = calloc(V + 1, sizeof(size_t));
	if (!c->post_start)
		return CA_ENOMEM;
	for (size_t p = 0; p < c->n_protos; p++) {
		total += c->opt_vec[p].n;
		for (size_t k = 0; k < c->opt_vec[p].n; k++)
			c->post_start[c->opt_vec[p].idx[k] + 1]++;
	}
	for (size_t i = 0; i < V; i++)
		c->post_start[i + 1] += c->post_start[i];
	c->post_proto = malloc((total ? total : 1) * sizeof(uint32_t));
	c->post_val = malloc((total ? total : 1) * sizeof(float));
	size_t *fill = calloc(V ? V : 1, sizeof(size_t));
	if (!c->post_proto || !c->post_val || !fill) {
		free(fill);
		return CA_ENOMEM;
	}
	for (size_t p = 0; p < c->n_protos; p++)
		for (size_t k = 0; k < c->opt_vec[p].n; k++) {
			uint32_t id = c->opt_vec[p].idx[k];
			size_t at = c->post_start[id] + fill[id]++;
			c->post_proto[at] = (uint32_t)p;
			c->post_val[at] = c->opt_vec[p].val[k];
		}
	free(fill);
	return 0;
}

int ca_classifier_new(const ca_field_def *f, const json_t *model, ca_stemmer *st, ca_classifier **ret, ca_err *err)
{
	ca_classifier *c = calloc(1, sizeof(*c));
	if (!c)
		return CA_ENOMEM;
	c->n_options = f->n_options;
	/* One prototype per subcategory (or one for an option without any): an
	 * option is as close as its nearest prototype, so a broad option with
	 * many subcategories is not diluted into one vague vector. */
	size_t np = 0;
	for (size_t i = 0; i < f->n_options; i++)
		np += f->options[i].subcategories.n ? f->options[i].subcategories.n : 1;
	c->vocab = ca_vocab_new();
	c->opt_vec = calloc(np ? np : 1, sizeof(ca_svec));
	c->proto_option = calloc(np ? np : 1, sizeof(size_t));
	int r = c->vocab && c->opt_vec && c->proto_option ? 0 : CA_ENOMEM;
	ca_tokens t = { 0 };
	const char **terms = NULL;
	size_t n = 0, cap = 0;
	for (int pass = 0; pass < 2 && !r; pass++) {
		size_t p = 0;
		for (size_t i = 0; i < f->n_options && !r; i++) {
			size_t subs = f->options[i].subcategories.n ? f->options[i].subcategories.n : 1;
			for (size_t k = 0; k < subs && !r; k++, p++) {
				r = option_terms(&f->options[i], f->options[i].subcategories.n ? k : SIZE_MAX, st, &t, &terms, &n, &cap);
				if (!r && pass == 0)
					r = ca_vocab_add_doc(c->vocab, terms, n);
				else if (!r) {
					r = ca_tfidf(c->vocab, terms, n, &c->opt_vec[p]);
					c->proto_option[p] = i;
				}
			}
		}
		if (!r && pass == 0)
			ca_vocab_freeze(c->vocab);
		c->n_protos = p;
	}
	for (size_t i = 0; i < f->n_options && !r; i++)
		for (size_t k = 0; !r && k < f->options[i].cues.n; k++)
			r = ca_phrases_add(&c->cues, f->options[i].cues.v[k], i, st);
	if (!r)
		r = build_postings(c);
	if (!r)
		r = ca_phrases_index(&c->cues);
	ca_tokens_done(&t);
	free(terms);
	if (!r && model && json_object_get(model, "liblinear"))
		r = load_trained(c, f, model, err);
	if (!r && model && json_object_get(model, "calibration"))
		r = load_calibration(c, f, json_object_get(model, "calibration"), err);
	if (r) {
		ca_classifier_free(c);
		return ca_err_set(err, r, f->name, "cannot build the classifier for field '%s'", f->name);
	}
	*ret = c;
	return 0;
}

/* Weight of a message for classification: the customer's first turns state
 * the issue; later turns are identity details and pleasantries. */
static double msg_weight(const ca_msg *m, size_t customer_turn)
{
	if (m->role == CA_ROLE_CUSTOMER)
		return customer_turn < EARLY_TURNS ? 1.0 : LATE_WEIGHT;
	if (m->role == CA_ROLE_AGENT)
		return AGENT_WEIGHT;
	return 0;
}

/* Running sums of one conversation for one classifier: messages are only
 * ever appended, so each prediction adds the new messages and re-scores. */
typedef struct mterm {
	uint32_t id;  /* vocab id */
	uint32_t tok; /* token index in its message */
} mterm;

typedef struct cls_state {
	size_t upto;          /* messages consumed */
	size_t turn;          /* customer turns so far */
	bool any;
	double *acc;          /* per vocab id: weighted count */
	uint32_t *touched;    /* ids with acc > 0 */
	size_t n_touched;
	double *cue;          /* per option: cue score */
	size_t *cue_msg;      /* per option: message of the strongest cue (+1; 0 none) */
	uint32_t *cue_b, *cue_e;
	double *cue_w;
	bool stated;          /* the customer's issue statement has been seen */
	mterm **mt;           /* per message: its vocabulary terms */
	size_t *mt_n;
	double *mw;           /* per message: the weight it was counted with */
	size_t mt_cap;
} cls_state;

static void cls_state_free(void *p)
{
	cls_state *st = p;
	if (!st)
		return;
	for (size_t i = 0; i < st->upto && st->mt; i++)
		free(st->mt[i]);
	free(st->mt);
	free(st->mt_n);
	free(st->mw);
	free(st->acc);
	free(st->touched);
	free(st->cue);
	free(st->cue_msg);
	free(st->cue_b);
	free(st->cue_e);
	free(st->cue_w);
	free(st);
}

static cls_state *cls_state_new(const ca_classifier *c)
{
	size_t V = ca_vocab_size(c->vocab), O = c->n_options ? c->n_options : 1;
	cls_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->acc = calloc(V ? V : 1, sizeof(double));
	st->touched = malloc((V ? V : 1) * sizeof(uint32_t));
	st->cue = calloc(O, sizeof(double));
	st->cue_msg = calloc(O, sizeof(size_t));
	st->cue_b = calloc(O, sizeof(uint32_t));
	st->cue_e = calloc(O, sizeof(uint32_t));
	st->cue_w = calloc(O, sizeof(double));
	if (!st->acc || !st->touched || !st->cue || !st->cue_msg || !st->cue_b || !st->cue_e || !st->cue_w) {
		cls_state_free(st);
		return NULL;
	}
	return st;
}

/* Add messages [st->upto, in->n_msgs) to the running sums. */
static int cls_consume(const ca_classifier *c, cls_state *st, const ca_predict_input *in)
{
	if (in->n_msgs > st->mt_cap) {
		size_t cap = st->mt_cap ? st->mt_cap * 2 : 32;
		while (cap < in->n_msgs)
			cap *= 2;
		mterm **mt = realloc(st->mt, cap * sizeof(*mt));
		if (!mt)
			return CA_ENOMEM;
		st->mt = mt;
		size_t *mn = realloc(st->mt_n, cap * sizeof(*mn));
		if (!mn)
			return CA_ENOMEM;
		st->mt_n = mn;
		double *mw = realloc(st->mw, cap * sizeof(*mw));
		if (!mw)
			return CA_ENOMEM;
		st->mw = mw;
		st->mt_cap = cap;
	}
	for (; st->upto < in->n_msgs; st->upto++) {
		size_t mi = st->upto;
		const ca_msg *m = &in->msgs[mi];
		double w = msg_weight(m, st->turn);
		if (m->role == CA_ROLE_CUSTOMER)
			st->turn++;
		st->mt[mi] = NULL;
		st->mt_n[mi] = 0;
		st->mw[mi] = 0;
		if (w <= 0)
			continue;
		const ca_msg_info *info = &in->analysis->info[mi];
		const ca_tokens *t = &info->tokens;
		/* The customer's first message with some substance states the
		 * issue; what follows is mostly identity details and replies. */
		if (m->role == CA_ROLE_CUSTOMER && !st->stated) {
			size_t content = 0;
			for (size_t i = 0; i < t->n; i++)
				content += t->v[i].kind == CA_TOK_WORD && !info->flags[i];
			if (content >= 3) {
				st->stated = true;
				w *= ISSUE_BOOST;
			}
		}
		st->mw[mi] = w;
		st->mt[mi] = malloc((t->n ? t->n : 1) * sizeof(mterm));
		if (!st->mt[mi])
			return CA_ENOMEM;
		for (size_t i = 0; i < t->n; i++) {
			if (info->flags[i])
				continue;
			const ca_token *tok = &t->v[i];
			int32_t id = ca_vocab_id(c->vocab, tok->stem);
			if (id >= 0) {
				if (st->acc[id] == 0)
					st->touched[st->n_touched++] = (uint32_t)id;
				st->acc[id] += w;
				st->mt[mi][st->mt_n[mi]++] = (mterm){ (uint32_t)id, (uint32_t)i };
				st->any = true;
			}
			size_t lo, hi;
			ca_phrases_starting(&c->cues, info->stem_hash[i], &lo, &hi);
			for (size_t o = lo; o < hi; o++) {
				const ca_phrase *cu = &c->cues.v[c->cues.order[o]];
				if (!ca_phrase_matches(cu, info, i))
					continue;
				size_t opt = cu->tag;
				st->cue[opt] += CUE_WEIGHT * w;
				st->any = true;
				if (w > st->cue_w[opt]) {
					st->cue_w[opt] = w;
					st->cue_msg[opt] = mi + 1;
					st->cue_b[opt] = tok->begin;
					st->cue_e[opt] = t->v[i + cu->n - 1].end;
				}
			}
		}
	}
	return 0;
}

static int cmp_feature(const void *a, const void *b)
{
	const struct feature_node *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

static int predict_trained(const ca_classifier *c, const ca_predict_input *in, const ca_field_def *f,
			   ca_prediction *ret)
{
	size_t V = ca_vocab_size(c->lin_vocab);
	double *acc = calloc(V ? V : 1, sizeof(double));
	if (!acc)
		return CA_ENOMEM;
	for (size_t mi = 0; mi < in->n_msgs; mi++) {
		const ca_msg *m = &in->msgs[mi];
		if (m->role != CA_ROLE_CUSTOMER && m->role != CA_ROLE_AGENT)
			continue;
		const ca_tokens *t = &in->analysis->info[mi].tokens;
		for (size_t i = 0; i < t->n; i++) {
			int32_t id = ca_vocab_id(c->lin_vocab, t->v[i].stem);
			if (id >= 0)
				acc[id] += 1.0;
		}
	}
	size_t nz = 0;
	for (size_t i = 0; i < V; i++)
		nz += acc[i] > 0;
	struct feature_node *x = calloc(nz + 2, sizeof(*x));
	double *prob = calloc(c->lin_n_labels ? c->lin_n_labels : 1, sizeof(double));
	if (!x || !prob) {
		free(acc);
		free(x);
		free(prob);
		return CA_ENOMEM;
	}
	double norm = 0;
	size_t k = 0;
	for (size_t i = 0; i < V; i++)
		if (acc[i] > 0) {
			double v = (1.0 + log(acc[i])) * c->lin_idf[i];
			x[k].index = c->lin_feature[i];
			x[k].value = v;
			norm += v * v;
			k++;
		}
	norm = sqrt(norm);
	for (size_t i = 0; i < k && norm > 0; i++)
		x[i].value /= norm;
	/* liblinear wants ascending feature indexes. */
	qsort(x, k, sizeof(*x), cmp_feature);
	x[k].index = -1;
	predict_probability(c->lin, x, prob);
	size_t bi = 0;
	for (size_t i = 1; i < c->lin_n_labels; i++)
		if (prob[i] > prob[bi])
			bi = i;
	int r = CA_ENOTFOUND;
	int oi = c->lin_option[bi];
	if (k > 0 && oi >= 0)
		r = ca_prediction_set(ret, f, f->options[oi].value, f->options[oi].label, calibrated(c, prob[bi]),
				      "liblinear");
	free(acc);
	free(x);
	free(prob);
	return r;
}

/* Weight of term `id` in a sparse vector (ids ascending), 0 if absent. */
static double svec_get(const ca_svec *v, uint32_t id)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v->idx[mid] == id)
			return v->val[mid];
		if (v->idx[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Evidence for a similarity decision: the message that adds most to the
 * winning prototype, spanning its first to last contributing word. */
static int similarity_evidence(const ca_predict_input *in, const cls_state *st, const ca_svec *proto,
			       ca_prediction *ret)
{
	double best = 0;
	size_t bm = 0;
	uint32_t bb = 0, be = 0;
	for (size_t mi = 0; mi < st->upto; mi++) {
		double w = st->mw[mi];
		double sum = 0;
		uint32_t b = UINT32_MAX, e = 0;
		const ca_tokens *t = &in->analysis->info[mi].tokens;
		for (size_t k = 0; k < st->mt_n[mi]; k++) {
			double v = svec_get(proto, st->mt[mi][k].id);
			if (v <= 0)
				continue;
			const ca_token *tok = &t->v[st->mt[mi][k].tok];
			sum += w * v;
			if (tok->begin < b)
				b = tok->begin;
			if (tok->end > e)
				e = tok->end;
		}
		if (sum > best) {
			best = sum;
			bm = mi;
			bb = b;
			be = e;
		}
	}
	return best > 0 ? ca_prediction_add_evidence(ret, in->msgs[bm].id, bb, be) : 0;
}

int ca_classifier_predict(const ca_classifier *c, const ca_predict_input *in, const ca_field_def *f,
			  ca_prediction *ret)
{
	if (c->lin)
		return predict_trained(c, in, f, ret);
	cls_state *st = ca_analysis_state(in->analysis, c);
	if (!st || st->upto > in->n_msgs) {
		if (st)
			return CA_EINVAL; /* the conversation shrank: the caller reset nothing */
		if (!(st = cls_state_new(c)))
			return CA_ENOMEM;
		int r = ca_analysis_set_state(in->analysis, c, st, cls_state_free);
		if (r)
			return r;
	}
	int r = cls_consume(c, st, in);
	if (r)
		return r;
	if (!st->any)
		return CA_ENOTFOUND;
	size_t O = c->n_options, P = c->n_protos;
	double *buf = calloc(O * 2 + P + 1, sizeof(double));
	size_t *best_proto = calloc(O ? O : 1, sizeof(size_t));
	if (!buf || !best_proto) {
		free(buf);
		free(best_proto);
		return CA_ENOMEM;
	}
	double *sim = buf, *score = buf + O, *dot = buf + 2 * O;
	/* Query: the weighted counts times idf, L2-normalised; scored through
	 * the inverted index. Linear, not sublinear, tf: the message weights are
	 * the signal (0.825 against 0.775 on the ABCD dev chats). */
	double norm = 0;
	for (size_t k = 0; k < st->n_touched; k++) {
		uint32_t id = st->touched[k];
		double v = st->acc[id] * ca_vocab_idf(c->vocab, id);
		norm += v * v;
		for (size_t at = c->post_start[id]; at < c->post_start[id + 1]; at++)
			dot[c->post_proto[at]] += v * c->post_val[at];
	}
	norm = sqrt(norm);
	for (size_t p = 0; p < P; p++) {
		double d = norm > 0 ? dot[p] / norm : 0;
		if (d > sim[c->proto_option[p]]) {
			sim[c->proto_option[p]] = d;
			best_proto[c->proto_option[p]] = p;
		}
	}
	/* Cues add a small nudge to similarity, and decide alone only when no
	 * option is similar at all (the last resort of ARCHITECTURE §4). */
	double best = -1, sum = 0, top_sim = 0;
	size_t bi = 0;
	for (size_t o = 0; o < O; o++) {
		top_sim = sim[o] > top_sim ? sim[o] : top_sim;
		score[o] = sim[o] + st->cue[o];
		if (score[o] > best) {
			best = score[o];
			bi = o;
		}
	}
	for (size_t o = 0; o < O; o++)
		sum += exp((score[o] - best) / SOFTMAX_TEMPERATURE);
	r = ca_prediction_set(ret, f, f->options[bi].value, f->options[bi].label, calibrated(c, 1.0 / sum),
			      top_sim > 0 ? "option-description+cue" : "option-cue");
	if (!r && top_sim <= 0 && st->cue_msg[bi])
		r = ca_prediction_add_evidence(ret, in->msgs[st->cue_msg[bi] - 1].id, st->cue_b[bi], st->cue_e[bi]);
	else if (!r && top_sim > 0)
		r = similarity_evidence(in, st, &c->opt_vec[best_proto[bi]], ret);
	free(buf);
	free(best_proto);
	return r;
}

/* ---- training ---- */

static void quiet(const char *s)
{
	(void)s; /* liblinear prints iterations; the CLI reports progress itself */
}

typedef struct doc {
	const char **terms;
	size_t n, cap;
	int label;
} doc;

static int train_field(const json_t *examples, const ca_field_def *f, size_t min_examples,
		       ca_stemmer *st, json_t *out, json_t *skipped)
{
	size_t ne = json_array_size(examples);
	doc *docs = calloc(ne ? ne : 1, sizeof(doc));
	ca_tokens *toks = calloc(ne ? ne : 1, sizeof(ca_tokens));
	json_t *labels = json_array();
	int r = docs && toks && labels ? 0 : CA_ENOMEM;
	size_t nd = 0;
	for (size_t i = 0; i < ne && !r; i++) {
		const json_t *ex = json_array_get(examples, i);
		const char *val = ca_json_str(json_object_get(ex, "fields"), f->name);
		const char *text = ca_json_str(ex, "text");
		int oi = ca_field_option_index(f, val);
		if (oi < 0 || !text)
			continue;
		const char *value = f->options[oi].value;
		int li = -1;
		for (size_t k = 0; k < json_array_size(labels); k++)
			if (strcmp(json_string_value(json_array_get(labels, k)), value) == 0)
				li = (int)k;
		if (li < 0) {
			li = (int)json_array_size(labels);
			json_array_append_new(labels, json_string(value));
		}
		if (ca_tokenize(text, strlen(text), 0, st, &toks[nd]) != 0)
			continue; /* invalid UTF-8 in history: skip that example */
		r = ca_content_terms(&toks[nd], 0, toks[nd].n, &docs[nd].terms, &docs[nd].n, &docs[nd].cap);
		docs[nd].label = li;
		nd++;
	}
	if (!r && (nd < min_examples || json_array_size(labels) < 2)) {
		json_object_set_new(skipped, f->name,
				    json_pack("{s:I, s:I, s:s}", "examples", (json_int_t)nd, "classes",
					      (json_int_t)json_array_size(labels), "reason",
					      nd < min_examples ? "too few labelled resolved cases"
								: "fewer than two classes"));
		goto out;
	}
	ca_vocab *v = r ? NULL : ca_vocab_new();
	if (!r && !v)
		r = CA_ENOMEM;
	for (size_t i = 0; i < nd && !r; i++)
		r = ca_vocab_add_doc(v, docs[i].terms, docs[i].n);
	if (!r) {
		ca_vocab_freeze(v);
		size_t V = ca_vocab_size(v);
		struct problem prob = { 0 };
		prob.l = (int)nd;
		prob.n = (int)V;
		prob.bias = -1;
		prob.y = calloc(nd, sizeof(double));
		prob.x = calloc(nd, sizeof(struct feature_node *));
		ca_svec sv = { 0 };
		if (!prob.y || !prob.x)
			r = CA_ENOMEM;
		for (size_t i = 0; i < nd && !r; i++) {
			prob.y[i] = docs[i].label;
			if ((r = ca_tfidf(v, docs[i].terms, docs[i].n, &sv)))
				break;
			prob.x[i] = calloc(sv.n + 1, sizeof(struct feature_node));
			if (!prob.x[i]) {
				r = CA_ENOMEM;
				break;
			}
			for (size_t k = 0; k < sv.n; k++) {
				prob.x[i][k].index = (int)sv.idx[k] + 1;
				prob.x[i][k].value = sv.val[k];
			}
			prob.x[i][sv.n].index = -1;
		}
		ca_svec_done(&sv);
		struct parameter param = { 0 };
		param.solver_type = L2R_LR;
		param.C = 10;
		param.eps = 0.01;
		struct model *m = NULL;
		if (!r && check_parameter(&prob, &param) == NULL)
			m = train(&prob, &param);
		char *text = NULL;
		if (!r && m)
			r = save_liblinear(m, &text);
		else if (!r)
			r = CA_EINVAL;
		if (!r) {
			json_t *vocab = json_array(), *idf = json_array();
			for (size_t k = 0; k < V; k++) {
				json_array_append_new(vocab, json_string(ca_vocab_term(v, (uint32_t)k)));
				json_array_append_new(idf, json_real(ca_vocab_idf(v, (uint32_t)k)));
			}
			json_object_set_new(out, f->name,
					    json_pack("{s:o, s:o, s:s, s:O, s:I}", "vocab", vocab, "idf", idf,
						      "liblinear", text, "labels", labels, "examples", (json_int_t)nd));
		}
		free(text);
		if (m)
			free_and_destroy_model(&m);
		for (size_t i = 0; prob.x && i < nd; i++)
			free(prob.x[i]);
		free(prob.x);
		free(prob.y);
	}
	ca_vocab_free(v);
out:
	for (size_t i = 0; i < ne && docs; i++) {
		free(docs[i].terms);
		if (toks)
			ca_tokens_done(&toks[i]);
	}
	free(docs);
	free(toks);
	json_decref(labels);
	return r;
}

int ca_embedded_train(const json_t *examples, const ca_field_def *fields, size_t n_fields,
		      size_t min_examples, json_t **ret, ca_err *err)
{
	set_print_string_function(quiet);
	ca_stemmer *st = ca_stemmer_new();
	json_t *out = json_object(), *skipped = json_object();
	int r = st && out && skipped ? 0 : CA_ENOMEM;
	for (size_t i = 0; i < n_fields && !r; i++)
		if (fields[i].type == CA_FT_OPTION) {
			r = train_field(examples, &fields[i], min_examples, st, out, skipped);
			if (r)
				ca_err_set(err, r, fields[i].name, "training field '%s' failed: %s", fields[i].name,
					   ca_strerror(r));
		}
	ca_stemmer_free(st);
	if (r) {
		json_decref(out);
		json_decref(skipped);
		return r;
	}
	json_object_set_new(out, "_skipped", skipped);
	*ret = out;
	return 0;
}

/* ---- calibration ---- */

double ca_ece(const double *conf, const bool *correct, size_t n, unsigned bins)
{
	if (n == 0 || bins == 0)
		return 0;
	double e = 0;
	for (unsigned b = 0; b < bins; b++) {
		double sc = 0, so = 0;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned bi = (unsigned)(conf[i] * bins);
			if (bi >= bins)
				bi = bins - 1;
			if (bi != b)
				continue;
			sc += conf[i];
			so += correct[i];
			k++;
		}
		if (k)
			e += (double)k / (double)n * fabs(sc / (double)k - so / (double)k);
	}
	return e;
}

typedef struct cal_pt {
	double conf;
	bool ok;
} cal_pt;

static int cmp_cal(const void *a, const void *b)
{
	const cal_pt *x = a, *y = b;
	return (x->conf > y->conf) - (x->conf < y->conf);
}

/* Isotonic regression by pool adjacent violators (Zadrozny and Elkan 2002;
 * Niculescu-Mizil and Caruana 2005): steps of non-decreasing accuracy over
 * the sorted raw confidences, each step's accuracy shrunk one example's
 * worth towards the overall accuracy so a step of two is no certainty. */
static int fit_isotonic(cal_pt *pts, size_t n, json_t **ret)
{
	qsort(pts, n, sizeof(*pts), cmp_cal);
	double *sum = malloc(n * sizeof(double)), *upper = malloc(n * sizeof(double));
	size_t *cnt = malloc(n * sizeof(size_t));
	if (!sum || !upper || !cnt) {
		free(sum);
		free(upper);
		free(cnt);
		return CA_ENOMEM;
	}
	double base = 0;
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		base += pts[i].ok;
		sum[nb] = pts[i].ok;
		cnt[nb] = 1;
		upper[nb] = pts[i].conf;
		nb++;
		while (nb > 1 && sum[nb - 2] / (double)cnt[nb - 2] >= sum[nb - 1] / (double)cnt[nb - 1]) {
			sum[nb - 2] += sum[nb - 1];
			cnt[nb - 2] += cnt[nb - 1];
			upper[nb - 2] = upper[nb - 1];
			nb--;
		}
	}
	base /= (double)n;
	json_t *x = json_array(), *y = json_array();
	for (size_t i = 0; i < nb; i++) {
		json_array_append_new(x, json_real(i + 1 == nb ? 1.0 : upper[i]));
		json_array_append_new(y, json_real((sum[i] + base) / ((double)cnt[i] + 1.0)));
	}
	free(sum);
	free(upper);
	free(cnt);
	*ret = json_pack("{s:s, s:o, s:o}", "method", "isotonic", "x", x, "y", y);
	return *ret ? 0 : CA_ENOMEM;
}

int ca_embedded_calibrate(const json_t *examples, const ca_field_def *fields, size_t n_fields, const json_t *models,
			  size_t min_examples, json_t **ret, ca_err *err)
{
	ca_stemmer *st = ca_stemmer_new();
	json_t *out = json_object(), *skipped = json_object();
	size_t ne = json_array_size(examples);
	cal_pt *pts = calloc(ne ? ne : 1, sizeof(*pts));
	double *cb = calloc(ne ? ne : 1, sizeof(double)), *ca = calloc(ne ? ne : 1, sizeof(double));
	bool *ok = calloc(ne ? ne : 1, sizeof(bool));
	int r = st && out && skipped && pts && cb && ca && ok ? 0 : CA_ENOMEM;
	for (size_t fi = 0; fi < n_fields && !r; fi++) {
		const ca_field_def *f = &fields[fi];
		if (f->type != CA_FT_OPTION)
			continue;
		/* the raw confidences: the field's model without its old map */
		json_t *model = json_deep_copy(json_object_get(models, f->name));
		if (model)
			json_object_del(model, "calibration");
		ca_classifier *c = NULL;
		r = ca_classifier_new(f, model, st, &c, err);
		json_decref(model);
		size_t np = 0;
		for (size_t i = 0; i < ne && !r; i++) {
			const json_t *ex = json_array_get(examples, i);
			const char *truth = ca_json_str(json_object_get(ex, "fields"), f->name);
			const json_t *mj = json_object_get(ex, "messages");
			size_t nm = json_array_size(mj);
			if (!truth || ca_field_option_index(f, truth) < 0 || nm == 0)
				continue;
			ca_msg *msgs = calloc(nm, sizeof(*msgs));
			if (!msgs) {
				r = CA_ENOMEM;
				break;
			}
			bool valid = true;
			for (size_t k = 0; k < nm; k++) {
				const json_t *m = json_array_get(mj, k);
				const char *text = ca_json_str(m, "text");
				msgs[k] = (ca_msg){ ca_json_str(m, "id"), ca_role_parse(ca_json_str(m, "role")), text ? text : "",
						    text ? strlen(text) : 0 };
				valid &= msgs[k].id && ca_utf8_valid(msgs[k].text, msgs[k].len, NULL);
			}
			ca_analysis an;
			ca_analysis_init(&an);
			int pr = valid ? ca_analysis_sync(&an, msgs, nm, st) : CA_ENOTFOUND;
			ca_prediction p = { 0 };
			if (!pr) {
				ca_predict_input in = { .msgs = msgs, .n_msgs = nm, .analysis = &an };
				pr = ca_classifier_predict(c, &in, f, &p);
			}
			if (!pr) {
				pts[np] = (cal_pt){ p.confidence, strcmp(p.value, truth) == 0 };
				np++;
				ca_prediction_done(&p);
			} else if (pr != CA_ENOTFOUND) {
				r = pr;
			}
			ca_analysis_done(&an);
			free(msgs);
		}
		if (!r && np < min_examples) {
			json_object_set_new(skipped, f->name,
					    json_pack("{s:I, s:s}", "examples", (json_int_t)np, "reason",
						      "too few labelled conversations"));
		} else if (!r) {
			for (size_t i = 0; i < np; i++) {
				cb[i] = pts[i].conf;
				ok[i] = pts[i].ok;
			}
			json_t *map = NULL;
			r = fit_isotonic(pts, np, &map);
			if (!r) {
				/* the map's own figure on the examples it was fit on */
				ca_classifier probe = { 0 };
				json_t *x = json_object_get(map, "x"), *y = json_object_get(map, "y");
				probe.cal_n = json_array_size(x);
				probe.cal_x = malloc(probe.cal_n * sizeof(double));
				probe.cal_y = malloc(probe.cal_n * sizeof(double));
				if (!probe.cal_x || !probe.cal_y)
					r = CA_ENOMEM;
				for (size_t k = 0; !r && k < probe.cal_n; k++) {
					probe.cal_x[k] = json_number_value(json_array_get(x, k));
					probe.cal_y[k] = json_number_value(json_array_get(y, k));
				}
				for (size_t i = 0; !r && i < np; i++)
					ca[i] = calibrated(&probe, cb[i]);
				free(probe.cal_x);
				free(probe.cal_y);
			}
			if (!r) {
				json_object_set_new(map, "examples", json_integer((json_int_t)np));
				json_object_set_new(map, "bins", json_integer(10));
				json_object_set_new(map, "ece_before", json_real(ca_ece(cb, ok, np, 10)));
				json_object_set_new(map, "ece_after", json_real(ca_ece(ca, ok, np, 10)));
				json_object_set_new(out, f->name, map);
			} else {
				json_decref(map);
			}
		}
		ca_classifier_free(c);
		if (r)
			ca_err_set(err, r, f->name, "calibrating field '%s' failed: %s", f->name, ca_strerror(r));
	}
	free(pts);
	free(cb);
	free(ca);
	free(ok);
	ca_stemmer_free(st);
	if (r) {
		json_decref(out);
		json_decref(skipped);
		return r;
	}
	json_object_set_new(out, "_skipped", skipped);
	*ret = out;
	return 0;
}
