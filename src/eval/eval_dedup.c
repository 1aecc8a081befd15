/* SPDX-License-Identifier: MIT */
/*
 * `caseagent eval dedup`: does the knowledge agent recognise an issue the
 * knowledge base already covers, and make one article, not many, for one it
 * does not? On help-centre threads with crowd-written paraphrases (StackFAQ,
 * Karan & Šnajder 2018): threads at even positions become published
 * articles (question as title, answers as body); every paraphrase of those
 * must find its own thread's article first (covered_top1). The paraphrases
 * of the other threads then arrive one by one, exactly as resolved records
 * do in a harvest: covered when an article is similar enough (the
 * knowledge.coverage_threshold), else a new draft. A left-out thread scores
 * when its paraphrases made exactly one new article and none was absorbed by
 * another thread's article (one_article_per_thread). The same coverage index
 * (kbindex.c) the agent uses is used here; nothing is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"

typedef struct dedup_score {
	double threshold;
	double covered_top1, covered_at_threshold, one_article_per_thread;
	size_t new_articles;
} dedup_score;

static int load_threads(const char *path, json_t **ret, ca_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ca_err_set(err, CA_EIO, path, "cannot open %s (a StackFAQ threads.jsonl, or its folder)", path);
	json_t *arr = json_array();
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int r = 0;
	while (!r && getline(&line, &cap, f) >= 0) {
		lineno++;
		if (line[0] == '\n' || line[0] == '\0')
			continue;
		json_error_t je;
		json_t *t = json_loads(line, 0, &je);
		if (!t || !json_is_string(json_object_get(t, "question")) || !json_is_array(json_object_get(t, "rephrasings")))
			r = ca_err_set(err, CA_EPARSE, path, "%s:%zu: not a thread {question, answers, rephrasings}%s%s", path,
				       lineno, t ? "" : ": ", t ? "" : je.text);
		else
			json_array_append(arr, t);
		json_decref(t);
	}
	free(line);
	fclose(f);
	if (r) {
		json_decref(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

/* A published article in the scratch knowledge base; *ret_id its id. */
static int add_article(ca_agent *kb, const char *title, const char *body, bool published, int64_t *ret_id, ca_err *err)
{
	json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", title, "issue", body, "state",
			      published ? "published" : "in_review", "compliance", published ? "compliant" : "pending",
			      "source", published ? "person" : "agent");
	int r = a ? ca_store_article_add(kb->store, a, ret_id, NULL, err) : CA_ENOMEM;
	json_decref(a);
	if (!r)
		ca_knowledge_indexed(kb, *ret_id);
	return r;
}

/* The thread of the article that covers text best, -1 when none: at
 * `threshold` as the agent decides it (corroborated), or with a threshold
 * below 0 the most similar one (a ranking). */
static int cover(ca_agent *kb, const size_t *thread_of, const char *text, double threshold, ssize_t *ret_thread,
		 double *ret_sim, ca_err *err)
{
	json_t *best = NULL;
	int r = ca_knowledge_cover(kb, text, NULL, threshold, &best, ret_sim, err);
	*ret_thread = r || !best ? -1 : (ssize_t)thread_of[json_integer_value(json_object_get(best, "id"))];
	json_decref(best);
	return r;
}

/*
 * One run at one threshold, on a scratch knowledge base of its own (an
 * in-memory database): the agent's own gap detection end to end, full-text
 * candidates and similarity (ca_knowledge_cover), articles written and
 * indexed as the agent writes them.
 */
static int run(const json_t *threads, double threshold, dedup_score *out, ca_err *err)
{
	memset(out, 0, sizeof(*out));
	out->threshold = threshold;
	size_t n = json_array_size(threads), cap = n + 1;
	size_t i, k;
	json_t *t, *p;
	json_array_foreach(threads, i, t) cap += json_array_size(json_object_get(t, "rephrasings"));
	size_t *thread_of = calloc(cap, sizeof(size_t)); /* article id -> thread */
	size_t *made = calloc(n ? n : 1, sizeof(size_t));
	bool *absorbed = calloc(n ? n : 1, sizeof(bool));
	ca_agent *kb = NULL;
	int r = thread_of && made && absorbed ? ca_agent_open(":memory:", &kb, err) : CA_ENOMEM;
	/* Even threads: question as title, top answers as the body. */
	for (i = 0; !r && i < n; i += 2) {
		t = json_array_get(threads, i);
		ca_buf body = { 0 };
		json_array_foreach(json_object_get(t, "answers"), k, p) {
			if (body.len > 2000)
				break;
			ca_buf_printf(&body, "%s%s", body.len ? "\n" : "", json_string_value(p) ? json_string_value(p) : "");
		}
		int64_t id = 0;
		r = add_article(kb, ca_json_str(t, "question"), body.data ? body.data : "", true, &id, err);
		ca_buf_done(&body);
		if (!r && (size_t)id < cap)
			thread_of[id] = i;
	}
	size_t asked = 0, top1 = 0, at_th = 0;
	for (i = 0; !r && i < n; i += 2) {
		json_array_foreach(json_object_get(json_array_get(threads, i), "rephrasings"), k, p) {
			ssize_t th;
			double sim = 0;
			if ((r = cover(kb, thread_of, json_string_value(p), -1, &th, &sim, err)))
				break;
			asked++;
			top1 += th == (ssize_t)i;
			if ((r = cover(kb, thread_of, json_string_value(p), threshold, &th, &sim, err)))
				break;
			at_th += th == (ssize_t)i;
		}
	}
	/* The left-out threads, paraphrase by paraphrase, as records arrive:
	 * covered at the threshold, else drafted (and covering the next). */
	for (i = 1; !r && i < n; i += 2) {
		json_array_foreach(json_object_get(json_array_get(threads, i), "rephrasings"), k, p) {
			ssize_t th;
			double sim = 0;
			if ((r = cover(kb, thread_of, json_string_value(p), threshold, &th, &sim, err)))
				break;
			if (th >= 0) {
				absorbed[i] |= th != (ssize_t)i;
				continue;
			}
			int64_t id = 0;
			if ((r = add_article(kb, json_string_value(p), "", false, &id, err)))
				break;
			if ((size_t)id < cap)
				thread_of[id] = i;
			made[i]++;
			out->new_articles++;
		}
	}
	size_t left = 0, good = 0;
	for (i = 1; !r && i < n; i += 2) {
		left++;
		good += made[i] == 1 && !absorbed[i];
	}
	free(thread_of);
	free(made);
	free(absorbed);
	ca_agent_close(kb);
	out->covered_top1 = asked ? (double)top1 / (double)asked : 0;
	out->covered_at_threshold = asked ? (double)at_th / (double)asked : 0;
	out->one_article_per_thread = left ? (double)good / (double)left : 0;
	return r;
}

int ca_eval_dedup(ca_agent *a, const char *path, double threshold, char **ret_json, ca_err *err)
{
	ca_buf file = { 0 };
	/* A folder: its threads.jsonl. */
	FILE *probe = fopen(path, "rb");
	bool dir = false;
	if (probe) {
		char c;
		dir = fread(&c, 1, 1, probe) == 0 && ferror(probe);
		fclose(probe);
	}
	ca_buf_puts(&file, path);
	if (dir || (file.len > 0 && file.data[file.len - 1] == '/'))
		ca_buf_printf(&file, "/threads.jsonl");
	if (threshold <= 0)
		threshold = a->settings ? a->settings->knowledge.coverage_threshold : 0.35;
	json_t *threads = NULL;
	int r = load_threads(file.data, &threads, err);
	ca_buf_done(&file);
	if (r)
		return r;
	dedup_score main_s;
	r = run(threads, threshold, &main_s, err);
	json_t *sweep = json_array();
	for (int k = 1; !r && k <= 12; k++) {
		dedup_score s;
		double th = 0.05 * k;
		if ((r = run(threads, th, &s, err)))
			break;
		json_array_append_new(sweep, json_pack("{s:f, s:f, s:f, s:I}", "threshold", th, "covered_at_threshold",
						       s.covered_at_threshold, "one_article_per_thread",
						       s.one_article_per_thread, "new_articles", (json_int_t)s.new_articles));
	}
	size_t n = json_array_size(threads);
	json_decref(threads);
	if (r) {
		json_decref(sweep);
		return err->message[0] ? r : ca_err_set(err, r, path, "eval dedup failed: %s", ca_strerror(r));
	}
	return ca_result(json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:o, s:s}", "dataset", path, "threads",
				   (json_int_t)n, "threads_in_kb", (json_int_t)((n + 1) / 2), "threads_left_out",
				   (json_int_t)(n / 2), "threshold", threshold, "covered_top1", main_s.covered_top1,
				   "covered_at_threshold", main_s.covered_at_threshold, "one_article_per_thread",
				   main_s.one_article_per_thread, "new_articles", (json_int_t)main_s.new_articles, "sweep",
				   sweep, "method",
				   "even threads form the knowledge base (question + answers); the agent's gap detection: "
				   "BM25 candidates (SQLite FTS5), then TF-IDF cosine over stems of title and body "
				   "(kbindex.c); left-out paraphrases arrive in order and are covered at the threshold or "
				   "drafted"),
			 ret_json);
}
