/* SPDX-License-Identifier: MIT */
/*
 * `caseagent eval summary`: the conversation summariser scored with ROUGE
 * against human summaries, next to a lead baseline scored the same way. It
 * reads dialogue sets in the two formats of ../shared/data — tweetsumm
 * (`turns` [{speaker, text}] with `abstractive_summaries`) and dialogsum
 * (`dialogue` with "#Person1#: ..." lines and `summary`, or `summary1`..N
 * as its test split has) — detected line by line; turns the dialogue into
 * the chat messages the case agent summarises, names the two parties as the
 * data does, runs the summariser's brief (ca_summarize_brief) and renders it
 * as reported speech, which is what human summaries are. The baseline is the
 * lead: the first turn of the customer and the first turn of the agent, in
 * dialogue order, as written (the reference point of the tweetsumm README);
 * a second baseline renders those two turns as reported speech too, so the
 * choice of sentences is judged apart from the rendering. Nothing touches
 * the database.
 */
#include "eval.h"
#include "summary.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/HTMLparser.h>

/* A dialogue on one line beyond this is not a dialogue. */
#define MAX_LINE_BYTES ((size_t)16 << 20)
/* Words per sentence of the brief: a summary sentence, not a paragraph. */
#define BRIEF_MAX_WORDS 30

/* One dialogue as read from a line. */
typedef struct dialogue {
	ca_strv text;     /* turn texts, entities decoded */
	int *speaker;     /* per turn: index into `speakers` */
	size_t cap_turns;
	ca_strv speakers; /* speaker labels as written, in order of appearance */
	ca_strv refs;     /* human summaries, one string each */
} dialogue;

static void dialogue_done(dialogue *d)
{
	ca_strv_done(&d->text);
	ca_strv_done(&d->speakers);
	ca_strv_done(&d->refs);
	free(d->speaker);
	memset(d, 0, sizeof(*d));
}

static int put_utf8(ca_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return ca_buf_append(b, u, n);
}

/* The code point of the reference at s ("&amp;", "&#39;", "&#x2019;") and
 * its length, or 0 when s does not start one (then '&' stays as it is). */
static size_t entity(const char *s, unsigned long *ret_cp)
{
	size_t i = 1;
	unsigned long cp = 0;
	if (s[i] == '#') {
		bool hex = s[i + 1] == 'x' || s[i + 1] == 'X';
		i += hex ? 2 : 1;
		size_t d0 = i;
		for (; i - d0 < 8; i++) {
			char c = s[i];
			int v = c >= '0' && c <= '9' ? c - '0'
				: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
				: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
							     : -1;
			if (v < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long)v;
		}
		if (i == d0 || s[i] != ';')
			return 0;
	} else {
		char name[33];
		size_t n = 0;
		while (n < sizeof(name) - 1 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
						(s[i] >= '0' && s[i] <= '9')))
			name[n++] = s[i++];
		name[n] = '\0';
		if (n == 0 || s[i] != ';')
			return 0;
		/* libxml2's table of the HTML 4 entities */
		const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
		if (!e)
			return 0;
		cp = e->value;
	}
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*ret_cp = cp;
	return i + 1;
}

char *ca_eval_decode_entities(const char *s)
{
	ca_buf b = { 0 };
	int r = 0;
	for (const char *p = s; *p && r == 0;) {
		const char *amp = strchr(p, '&');
		if (!amp) {
			r = ca_buf_puts(&b, p);
			break;
		}
		r = ca_buf_append(&b, p, (size_t)(amp - p));
		unsigned long cp = 0;
		size_t n = r == 0 ? entity(amp, &cp) : 0;
		if (r == 0)
			r = n ? put_utf8(&b, cp) : ca_buf_append(&b, "&", 1);
		p = amp + (n ? n : 1);
	}
	if (r < 0) {
		ca_buf_done(&b);
		return NULL;
	}
	return ca_buf_steal(&b);
}

static int add_turn(dialogue *d, const char *speaker, size_t speaker_len, const char *text)
{
	size_t k;
	for (k = 0; k < d->speakers.n; k++)
		if (strlen(d->speakers.v[k]) == speaker_len && memcmp(d->speakers.v[k], speaker, speaker_len) == 0)
			break;
	if (k == d->speakers.n) {
		char *sp = strndup(speaker, speaker_len);
		int r = sp ? ca_strv_push(&d->speakers, sp) : CA_ENOMEM;
		free(sp);
		if (r < 0)
			return r;
	}
	if (d->text.n == d->cap_turns) {
		size_t nc = d->cap_turns ? d->cap_turns * 2 : 16;
		int *ns = realloc(d->speaker, nc * sizeof(*ns));
		if (!ns)
			return CA_ENOMEM;
		d->speaker = ns;
		d->cap_turns = nc;
	}
	char *t = ca_eval_decode_entities(text);
	int r = t ? ca_strv_push(&d->text, t) : CA_ENOMEM;
	free(t);
	if (r < 0)
		return r;
	d->speaker[d->text.n - 1] = (int)k;
	return 0;
}

static int add_ref(dialogue *d, const char *text)
{
	char *t = ca_eval_decode_entities(text);
	int r = t ? ca_strv_push(&d->refs, t) : CA_ENOMEM;
	free(t);
	return r;
}

/* A reference given as a list of sentences is one summary. */
static int add_ref_json(dialogue *d, const json_t *v)
{
	if (json_is_string(v))
		return add_ref(d, json_string_value(v));
	if (!json_is_array(v))
		return 0;
	ca_buf b = { 0 };
	size_t i;
	json_t *s;
	int r = 0;
	json_array_foreach(v, i, s) {
		if (!json_is_string(s))
			continue;
		if (b.len > 0)
			r = ca_buf_puts(&b, " ");
		if (r == 0)
			r = ca_buf_puts(&b, json_string_value(s));
		if (r < 0)
			break;
	}
	if (r == 0 && b.len > 0)
		r = add_ref(d, b.data);
	ca_buf_done(&b);
	return r;
}

/* "#Person1#: text" (or "Name: text") — the label's length, or 0 for a line
 * that continues the turn before. */
static size_t speaker_label(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len < 48 ? len : 48);
	if (!colon || colon == line)
		return 0;
	size_t n = (size_t)(colon - line);
	if (line[0] == '#')
		return line[n - 1] == '#' ? n : 0;
	for (size_t i = 0; i < n; i++)
		if (line[i] == ' ' || line[i] == '\t')
			return 0;
	return n;
}

/* The dialogsum form: one turn per "Label: text" line. */
static int parse_dialogue_text(dialogue *d, const char *s)
{
	ca_buf turn = { 0 };
	const char *label = NULL;
	size_t label_len = 0;
	int r = 0;
	while (r == 0 && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		size_t ll = speaker_label(s, len);
		/* once the labels are "#...#", a "Time: 5 pm" line is text, not a speaker */
		if (ll > 0 && label && label[0] == '#' && s[0] != '#')
			ll = 0;
		if (ll > 0) {
			if (label)
				r = add_turn(d, label, label_len, turn.data ? turn.data : "");
			ca_buf_reset(&turn);
			label = s;
			label_len = ll;
			const char *t = s + ll + 1;
			while (t < s + len && (*t == ' ' || *t == '\t'))
				t++;
			if (r == 0)
				r = ca_buf_append(&turn, t, (size_t)(s + len - t));
		} else if (label && len > 0) {
			r = ca_buf_puts(&turn, "\n");
			if (r == 0)
				r = ca_buf_append(&turn, s, len);
		}
		s += len + (nl ? 1 : 0);
	}
	if (r == 0 && label)
		r = add_turn(d, label, label_len, turn.data ? turn.data : "");
	ca_buf_done(&turn);
	return r;
}

/* Fill *d from one record; *ret_known false when the record is in neither format. */
static int parse_record(const json_t *rec, dialogue *d, bool *ret_known)
{
	const json_t *turns = json_object_get(rec, "turns");
	const char *dtext = ca_json_str(rec, "dialogue");
	int r = 0;
	*ret_known = json_is_array(turns) || dtext;
	if (json_is_array(turns)) {
		size_t i;
		json_t *t;
		json_array_foreach(turns, i, t) {
			const char *sp = ca_json_str(t, "speaker"), *tx = ca_json_str(t, "text");
			if (!sp || !tx)
				continue;
			if ((r = add_turn(d, sp, strlen(sp), tx)) < 0)
				return r;
		}
	} else if (dtext) {
		if ((r = parse_dialogue_text(d, dtext)) < 0)
			return r;
	}
	/* tweetsumm: abstractive_summaries [[sentence...]...]; dialogsum: summary,
	 * or summary1, summary2... in its test split. */
	const json_t *abs = json_object_get(rec, "abstractive_summaries");
	if (json_is_array(abs)) {
		size_t i;
		json_t *v;
		json_array_foreach(abs, i, v) {
			if ((r = add_ref_json(d, v)) < 0)
				return r;
		}
	}
	if ((r = add_ref_json(d, json_object_get(rec, "summary"))) < 0)
		return r;
	for (unsigned k = 1; k < 100; k++) {
		char key[16];
		snprintf(key, sizeof(key), "summary%u", k);
		const json_t *v = json_object_get(rec, key);
		if (!v)
			break;
		if ((r = add_ref_json(d, v)) < 0)
			return r;
	}
	return 0;
}

/* How the summary names a party: the data's own label, "customer" as "Customer". */
static char *party_name(const char *label)
{
	char *s = strdup(label);
	if (s && s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 'a' + 'A');
	return s;
}

typedef struct totals {
	size_t dialogues, skipped, refs;
	double agent[3], lead[3], lead_prose[3];
	double agent_words, lead_words, lead_prose_words;
} totals;

/* Score `text`, adding its F1s to sum[3] and its length to *words. */
static int add_scores(const char *text, const dialogue *d, double sum[3], double *words)
{
	ca_rouge_scores sc;
	ca_rouge_tokens t = { 0 };
	int r = ca_rouge_best(text, (const char *const *)d->refs.v, d->refs.n, &sc);
	if (r == 0)
		r = ca_rouge_tokenize(text, strlen(text), &t);
	if (r < 0)
		return r;
	sum[0] += sc.rouge1.f1;
	sum[1] += sc.rouge2.f1;
	sum[2] += sc.rougeL.f1;
	*words += (double)t.n;
	ca_rouge_tokens_done(&t);
	return 0;
}

/*
 * The lead: the first turn of the customer and the first of the agent, in
 * dialogue order — joined as written into *raw, and as summary lines into
 * *lines, so the prose renderer can put it in the agent's form.
 */
static int lead_of(const ca_msg *msgs, size_t n, ca_buf *raw, ca_summary *lines)
{
	bool seen_c = false, seen_a = false;
	lines->lines = calloc(2, sizeof(*lines->lines));
	if (!lines->lines)
		return CA_ENOMEM;
	for (size_t i = 0; i < n && !(seen_c && seen_a); i++) {
		bool *seen = msgs[i].role == CA_ROLE_CUSTOMER ? &seen_c : msgs[i].role == CA_ROLE_AGENT ? &seen_a : NULL;
		if (!seen || *seen)
			continue;
		*seen = true;
		ca_summary_line *l = &lines->lines[lines->n++];
		l->section = msgs[i].role == CA_ROLE_CUSTOMER ? CA_SUM_ISSUE : CA_SUM_OUTCOME;
		l->role = msgs[i].role;
		l->begin = 0;
		l->end = (uint32_t)msgs[i].len;
		l->text = strdup(msgs[i].text);
		l->msg_id = strdup(msgs[i].id);
		if (!l->text || !l->msg_id)
			return CA_ENOMEM;
		if ((raw->len && ca_buf_puts(raw, " ") < 0) || ca_buf_puts(raw, msgs[i].text) < 0)
			return CA_ENOMEM;
	}
	return 0;
}

/*
 * Score one dialogue. The parties: "customer" and "agent" when the data says
 * so; otherwise the first two speakers, the customer being the one
 * ca_summary_customer_is_second picks. Turns of any further speaker are
 * left out, as system lines are.
 */
static int score_dialogue(const dialogue *d, const char *where, totals *t, ca_err *err)
{
	size_t n = d->text.n;
	int cust = -1, agent = -1;
	for (size_t k = 0; k < d->speakers.n; k++) {
		if (ca_streq_ci(d->speakers.v[k], "customer") && cust < 0)
			cust = (int)k;
		else if (ca_streq_ci(d->speakers.v[k], "agent") && agent < 0)
			agent = (int)k;
	}
	bool labelled = cust >= 0 || agent >= 0;
	if (!labelled) {
		cust = 0;
		agent = d->speakers.n > 1 ? 1 : -1;
	}
	ca_msg *msgs = calloc(n ? n : 1, sizeof(*msgs));
	char (*ids)[24] = calloc(n ? n : 1, sizeof(*ids));
	char *cname = NULL, *aname = NULL;
	ca_summary sum = { 0 }, lead = { 0 };
	ca_buf note = { 0 }, lb = { 0 }, lp = { 0 };
	int r = msgs && ids ? 0 : CA_ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "t%zu", i + 1);
		msgs[i].id = ids[i];
		msgs[i].text = d->text.v[i];
		msgs[i].len = strlen(d->text.v[i]);
		msgs[i].role = d->speaker[i] == cust ? CA_ROLE_CUSTOMER
			       : d->speaker[i] == agent ? CA_ROLE_AGENT
							: CA_ROLE_SYSTEM;
	}
	if (r == 0 && !labelled && agent >= 0) {
		bool second = false;
		r = ca_summary_customer_is_second(msgs, n, &second, err);
		if (r == 0 && second) {
			int x = cust;
			cust = agent;
			agent = x;
			for (size_t i = 0; i < n; i++)
				if (msgs[i].role != CA_ROLE_SYSTEM)
					msgs[i].role = msgs[i].role == CA_ROLE_CUSTOMER ? CA_ROLE_AGENT : CA_ROLE_CUSTOMER;
		}
	}
	if (r == 0) {
		cname = party_name(cust >= 0 ? d->speakers.v[cust] : "customer");
		aname = party_name(agent >= 0 ? d->speakers.v[agent] : "agent");
		if (!cname || !aname)
			r = CA_ENOMEM;
	}
	if (r == 0)
		r = ca_summarize_brief(msgs, n, &sum, err);
	if (r == 0) {
		ca_summary_prose_opts po = { .customer = cname, .agent = aname, .max_words = BRIEF_MAX_WORDS };
		r = ca_summary_render_prose(&sum, &po, &note);
	}
	if (r == 0)
		r = lead_of(msgs, n, &lb, &lead);
	if (r == 0) {
		ca_summary_prose_opts po = { .customer = cname, .agent = aname, .max_words = BRIEF_MAX_WORDS };
		r = ca_summary_render_prose(&lead, &po, &lp);
	}
	if (r == 0)
		r = add_scores(note.data ? note.data : "", d, t->agent, &t->agent_words);
	if (r == 0)
		r = add_scores(lb.data ? lb.data : "", d, t->lead, &t->lead_words);
	if (r == 0)
		r = add_scores(lp.data ? lp.data : "", d, t->lead_prose, &t->lead_prose_words);
	if (r == 0) {
		t->dialogues++;
		t->refs += d->refs.n;
	}
	if (r < 0) {
		if (r == CA_ENOMEM)
			ca_err_set(err, r, where, "out of memory");
		ca_err_locate(err, "%s", where);
	}
	ca_summary_done(&sum);
	ca_summary_done(&lead);
	ca_buf_done(&note);
	ca_buf_done(&lb);
	ca_buf_done(&lp);
	free(cname);
	free(aname);
	free(ids);
	free(msgs);
	return r;
}

static int score_file(const char *path, totals *t, ca_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ca_err_set(err, CA_EIO, path, "cannot open %s: %s", path, strerror(errno));
	char *line = NULL, where[160];
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int r = 0;
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		if ((size_t)len > MAX_LINE_BYTES) {
			r = ca_err_set(err, CA_ETOOBIG, where, "line %zu of %s is longer than %zu bytes", lineno, path,
				       MAX_LINE_BYTES);
			break;
		}
		size_t i = 0;
		while (i < (size_t)len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
			i++;
		if (i == (size_t)len)
			continue;
		json_error_t je;
		json_t *rec = json_loadb(line, (size_t)len, 0, &je);
		if (!json_is_object(rec)) {
			r = ca_err_set(err, CA_EPARSE, where, "line %zu of %s is not a JSON object%s%s", lineno, path,
				       rec ? "" : ": ", rec ? "" : je.text);
			json_decref(rec);
			break;
		}
		dialogue d = { 0 };
		bool known = false;
		r = parse_record(rec, &d, &known);
		json_decref(rec);
		if (r < 0) {
			ca_err_set(err, r, where, "out of memory reading line %zu of %s", lineno, path);
		} else if (!known) {
			r = ca_err_set(err, CA_EPARSE, where,
				       "line %zu of %s is neither tweetsumm (\"turns\", \"abstractive_summaries\") "
				       "nor dialogsum (\"dialogue\", \"summary\")",
				       lineno, path);
		} else if (d.text.n == 0 || d.refs.n == 0) {
			t->skipped++; /* nothing to summarise, or nothing to compare with */
		} else {
			r = score_dialogue(&d, where, t, err);
		}
		dialogue_done(&d);
	}
	if (r == 0 && ferror(f))
		r = ca_err_set(err, CA_EIO, path, "cannot read %s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return r;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int ca_dataset_files(const char *path, const char *preferred, const char *suffix, ca_strv *files, ca_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return ca_err_set(err, errno == ENOENT ? CA_ENOTFOUND : CA_EIO, path, "cannot read %s: %s", path,
				  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ca_strv_push(files, path);
	ca_buf p = { 0 };
	int r = 0;
	if (preferred) {
		r = ca_buf_printf(&p, "%s/%s", path, preferred);
		if (r == 0 && stat(p.data, &st) == 0 && S_ISREG(st.st_mode)) {
			r = ca_strv_push(files, p.data);
			ca_buf_done(&p);
			return r;
		}
		ca_buf_done(&p);
		if (r < 0)
			return r;
	}
	struct dirent **names = NULL;
	int k = scandir(path, &names, NULL, by_name);
	if (k < 0)
		return ca_err_set(err, CA_EIO, path, "cannot read directory %s: %s", path, strerror(errno));
	size_t before = files->n;
	for (int i = 0; i < k; i++) {
		if (r == 0 && names[i]->d_name[0] != '.' && ends_with(names[i]->d_name, suffix)) {
			ca_buf_reset(&p);
			r = ca_buf_printf(&p, "%s/%s", path, names[i]->d_name);
			if (r == 0)
				r = ca_strv_push(files, p.data);
		}
		free(names[i]);
	}
	free(names);
	ca_buf_done(&p);
	if (r == 0 && files->n == before)
		r = ca_err_set(err, CA_ENOTFOUND, path, "%s holds no %s%s*%s file", path, preferred ? preferred : "",
			       preferred ? " and no " : "", suffix);
	return r;
}

static json_t *figures(const double sum[3], size_t n)
{
	double k = n ? (double)n : 1;
	return json_pack("{s:f, s:f, s:f}", "rouge1", sum[0] / k, "rouge2", sum[1] / k, "rougeL", sum[2] / k);
}

int ca_eval_summary(ca_agent *a, const char *path, char **ret_json, ca_err *err)
{
	(void)a; /* the computation needs no database */
	if (!path || !ret_json)
		return ca_err_set(err, CA_EINVAL, "eval", "no dataset path or no output given");
	ca_strv files = { 0 };
	totals t;
	memset(&t, 0, sizeof(t));
	int r = ca_dataset_files(path, "dialogs.jsonl", ".jsonl", &files, err);
	for (size_t i = 0; r == 0 && i < files.n; i++)
		r = score_file(files.v[i], &t, err);
	if (r == 0 && t.dialogues == 0)
		r = ca_err_set(err, CA_EINVAL, path, "%s holds no dialogue with a human summary", path);
	json_t *jf = r == 0 ? json_array() : NULL;
	for (size_t i = 0; jf && i < files.n; i++)
		json_array_append_new(jf, json_string(files.v[i]));
	ca_strv_done(&files);
	if (r < 0)
		return r;
	if (!jf)
		return CA_ENOMEM;
	double n = (double)t.dialogues;
	json_t *res = json_pack("{s:s, s:o, s:I, s:I, s:I, s:f, s:f, s:f, s:o, s:o, s:f, s:f, s:f}", "dataset", path,
				"files", jf, "dialogues", (json_int_t)t.dialogues, "skipped", (json_int_t)t.skipped,
				"references", (json_int_t)t.refs, "rouge1", t.agent[0] / n, "rouge2", t.agent[1] / n,
				"rougeL", t.agent[2] / n, "lead", figures(t.lead, t.dialogues), "lead_prose",
				figures(t.lead_prose, t.dialogues), "summary_words_avg", t.agent_words / n,
				"lead_words_avg", t.lead_words / n, "lead_prose_words_avg", t.lead_prose_words / n);
	json_t *how = json_pack("{s:s, s:s, s:s, s:s, s:s}", "measure",
				"ROUGE F1 as a fraction 0..1 (Lin 2004), tokens [a-z0-9]+ lower-cased, no stemming",
				"references", "the best reference per measure, averaged over dialogues", "summary",
				"the summariser's brief (customer's opening statement, the representative's outcome) "
				"as reported speech",
				"lead", "the first customer turn and the first agent turn, in dialogue order, as written",
				"lead_prose", "the same two turns rendered as reported speech like the summary");
	if (res && (!how || json_object_set_new(res, "method", how) < 0)) {
		json_decref(res);
		res = NULL;
	}
	return ca_result(res, ret_json);
}
