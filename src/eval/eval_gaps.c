/* SPDX-License-Identifier: MIT */
/*
 * `caseagent eval gaps`: does gap detection group records by issue, and
 * only by issue? On real conversations whose issue is known — the Twitter
 * customer-care conversations labelled with the support article that
 * resolved them (Ganhotra et al. 2020: one doc_id, one issue), or ABCD
 * chats (Chen et al. 2021: one subflow, one issue) — every conversation
 * becomes a resolved case (title: the customer's first sentence;
 * description: the customer's turns; resolution: the agent's reply, links
 * replaced by a placeholder so the label cannot leak), and a historical
 * harvest runs over them on a scratch database through the agent's own
 * path (ca_knowledge_harvest_run: PII removal, gap detection, drafting).
 * The grouping it makes (each record to the article it was drafted from or
 * covered by) is scored against the labels with B-cubed precision and
 * recall (Bagga & Baldwin 1998, "Algorithms for scoring coreference
 * chains": per record, the share of its group that shares its label, and
 * the share of its label's records in its group, averaged over records),
 * next to the baseline of one article per conversation. Also counted: the
 * records covered by an article of another issue, and the new steps
 * proposed across issues (both should be none). The caller's database is
 * never written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "eval.h"

/* One labelled conversation as a resolved case. */
typedef struct gap_rec {
	char *title, *description, *resolution, *label;
} gap_rec;

typedef struct gap_set {
	gap_rec *v;
	size_t n, cap;
	const char *format; /* "twitter_care" | "abcd" */
} gap_set;

static void gap_set_done(gap_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].title);
		free(s->v[i].description);
		free(s->v[i].resolution);
		free(s->v[i].label);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Twitter handles ("@AppleSupport") and links ("https://t.co/...") out of
 * a text; links become "[LINK]" (caller frees). A handle names the
 * company, a link the very article that is the label. */
static char *clean_text(const char *s)
{
	ca_buf out = { 0 };
	for (const char *p = s; p && *p;) {
		bool start = p == s || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '(';
		if (start && *p == '@') {
			while (*p && *p != ' ' && *p != '\n')
				p++;
			while (*p == ' ')
				p++;
			continue;
		}
		if (start && (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8) || !strncmp(p, "https: //", 9) ||
			      !strncmp(p, "www.", 4))) {
			if (!strncmp(p, "https: //", 9))
				p += 9;
			while (*p && *p != ' ' && *p != '\n')
				p++;
			ca_buf_puts(&out, "[LINK]");
			continue;
		}
		ca_buf_append(&out, p, 1);
		p++;
	}
	if (!out.data)
		return strdup("");
	return out.data;
}

/* The first sentence of a text, at most ~200 bytes (caller frees). */
static char *first_sentence(const char *t)
{
	while (*t == ' ' || *t == '\n')
		t++;
	size_t n = 0, len = strlen(t);
	while (n < len && !(n > 3 && (t[n - 1] == '.' || t[n - 1] == '?' || t[n - 1] == '!') && (t[n] == ' ' || t[n] == '\n')))
		n++;
	if (n > 200) {
		n = 200;
		while (n > 40 && t[n] != ' ')
			n--;
		while (n < len && (t[n] & 0xC0) == 0x80)
			n++;
	}
	return strndup(t, n);
}

static int add_rec(gap_set *s, const char *first, const char *desc, const char *res, const char *label)
{
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 256;
		gap_rec *v = realloc(s->v, c * sizeof(*v));
		if (!v)
			return CA_ENOMEM;
		s->v = v;
		s->cap = c;
	}
	gap_rec *r = &s->v[s->n];
	r->title = first_sentence(first);
	r->description = strdup(desc);
	r->resolution = strdup(res);
	r->label = strdup(label);
	s->n++;
	return r->title && r->description && r->resolution && r->label ? 0 : CA_ENOMEM;
}

/* Twitter customer care (dev.json): dialogContent [{client|agent,
 * message}], agentURL {doc_id, url_utterance}. */
static int load_twitter(const json_t *all, gap_set *s, const char *path, ca_err *err)
{
	size_t i, k;
	json_t *c, *m;
	int r = 0;
	s->format = "twitter_care";
	json_array_foreach(all, i, c) {
		const json_t *url = json_object_get(c, "agentURL");
		const char *doc = ca_json_str(url, "doc_id"), *reply = ca_json_str(url, "url_utterance");
		if (!doc || !reply || !json_is_array(json_object_get(c, "dialogContent")))
			return ca_err_set(err, CA_EPARSE, path, "%s: conversation %zu has no agentURL doc_id and url_utterance",
					  path, i + 1);
		ca_buf desc = { 0 };
		char *first = NULL;
		json_array_foreach(json_object_get(c, "dialogContent"), k, m) {
			if (!json_object_get(m, "client") || !ca_json_str(m, "message"))
				continue;
			char *t = clean_text(ca_json_str(m, "message"));
			if (t && *t) {
				ca_buf_printf(&desc, "%s%s", desc.len ? " " : "", t);
				if (!first)
					first = strdup(t);
			}
			free(t);
		}
		char *res = clean_text(reply);
		if (first && desc.data && res)
			r = add_rec(s, first, desc.data, res, doc);
		free(first);
		free(res);
		ca_buf_done(&desc);
		if (r)
			return r;
	}
	return 0;
}

/* ABCD (conversations.json): "original" [[speaker, text]], the issue in
 * scenario.subflow; the resolution is the agent's first turn of six words
 * or more after the last system action (the answer the action led to:
 * "all promo codes expire after 7 days"), else the agent's last such turn
 * (a closing "a pleasure to help you" says nothing of what was done). */
static int load_abcd(const json_t *all, gap_set *s, const char *path, ca_err *err)
{
	size_t i, k;
	json_t *c, *turn;
	int r = 0;
	s->format = "abcd";
	json_array_foreach(all, i, c) {
		const char *label = ca_json_str(json_object_get(c, "scenario"), "subflow");
		if (!label || !json_is_array(json_object_get(c, "original")))
			return ca_err_set(err, CA_EPARSE, path, "%s: conversation %zu has no scenario.subflow and original turns",
					  path, i + 1);
		ca_buf desc = { 0 };
		const char *first = NULL, *res = NULL, *last_agent = NULL, *after_action = NULL;
		bool seek = false;
		json_array_foreach(json_object_get(c, "original"), k, turn) {
			const char *who = json_string_value(json_array_get(turn, 0)), *t = json_string_value(json_array_get(turn, 1));
			if (!who || !t)
				continue;
			if (!strcmp(who, "customer") && desc.len < 1000) {
				ca_buf_printf(&desc, "%s%s", desc.len ? " " : "", t);
				if (!first)
					first = t;
			} else if (!strcmp(who, "action")) {
				seek = true;
				after_action = NULL;
			} else if (!strcmp(who, "agent")) {
				last_agent = t;
				int words = 0;
				for (const char *p = t; *p; p++)
					words += (p == t || p[-1] == ' ') && *p != ' ';
				if (words >= 6)
					res = t;
				if (words >= 6 && seek) {
					after_action = t;
					seek = false;
				}
			}
		}
		if (after_action)
			res = after_action;
		if (!res)
			res = last_agent;
		char *clean = res ? clean_text(res) : NULL;
		if (first && desc.data && clean)
			r = add_rec(s, first, desc.data, clean, label);
		free(clean);
		ca_buf_done(&desc);
		if (r)
			return r;
	}
	return 0;
}

static int load_set(const char *path, gap_set *s, ca_err *err)
{
	ca_strv files = { 0 };
	int r = ca_dataset_files(path, "dev.json", ".json", &files, err);
	if (r == CA_ENOTFOUND) {
		ca_strv_done(&files);
		ca_err_clear(err);
		r = ca_dataset_files(path, "conversations.json", ".json", &files, err);
	}
	if (r) {
		ca_strv_done(&files);
		return r;
	}
	json_error_t je;
	json_t *all = json_load_file(files.v[0], 0, &je);
	if (!json_is_array(all)) {
		r = ca_err_set(err, CA_EPARSE, files.v[0], "%s: not a JSON list of conversations (line %d: %s)", files.v[0],
			       je.line, je.text);
	} else {
		const json_t *c0 = json_array_get(all, 0);
		if (json_object_get(c0, "agentURL"))
			r = load_twitter(all, s, files.v[0], err);
		else if (json_object_get(c0, "original"))
			r = load_abcd(all, s, files.v[0], err);
		else
			r = ca_err_set(err, CA_EPARSE, files.v[0],
				       "%s: neither Twitter customer-care conversations (agentURL) nor ABCD ones (original)",
				       files.v[0]);
	}
	json_decref(all);
	ca_strv_done(&files);
	return r;
}

/* Each record's issue as a small integer, in order of first appearance
 * (rank[i]); the number of issues. */
static size_t label_ranks(const gap_set *s, size_t *rank)
{
	size_t issues = 0;
	for (size_t i = 0; i < s->n; i++) {
		size_t j = 0;
		while (j < i && strcmp(s->v[j].label, s->v[i].label))
			j++;
		rank[i] = j < i ? rank[j] : issues++;
	}
	return issues;
}

/* Which part a record is in: "tune" takes the issues at even ranks, "test"
 * the odd ones, so an issue is never split across parts. */
static bool in_part(const size_t *rank, size_t i, const char *part)
{
	if (!part || !strcmp(part, "all"))
		return true;
	return !strcmp(part, "tune") ? rank[i] % 2 == 0 : rank[i] % 2 == 1;
}

/* B-cubed over records: cluster[i] and label[i] are small integers. */
static void bcubed(const int64_t *cluster, const size_t *label, size_t n, double *ret_p, double *ret_r)
{
	double p = 0, r = 0;
	for (size_t i = 0; i < n; i++) {
		size_t same_c = 0, same_l = 0, both = 0;
		for (size_t j = 0; j < n; j++) {
			bool c = cluster[j] == cluster[i], l = label[j] == label[i];
			same_c += c;
			same_l += l;
			both += c && l;
		}
		p += (double)both / (double)same_c;
		r += (double)both / (double)same_l;
	}
	*ret_p = n ? p / (double)n : 0;
	*ret_r = n ? r / (double)n : 0;
}

static double f1(double p, double r)
{
	return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

/* The minimal settings a scratch harvest needs: every record qualifies
 * (no knowledge rule), drafts wait in review, nothing publishes. */
static int scratch_settings(const char *dir, double threshold, ca_buf *path)
{
	ca_buf_printf(path, "%s/settings.json", dir);
	FILE *f = path->data ? fopen(path->data, "w") : NULL;
	if (!f)
		return CA_EIO;
	fprintf(f,
		"{\"version\": 1, \"fields\": [{\"name\": \"title\", \"type\": \"text\", \"label\": \"Title\"}],\n"
		" \"default_fields\": [\"title\"],\n"
		" \"knowledge\": {\"rules\": [], \"realtime_cases\": false, \"realtime_conversations\": false,\n"
		"   \"default_compliance\": \"pending\", \"auto_publish\": false, \"coverage_threshold\": %.6f}}\n",
		threshold);
	return fclose(f) ? CA_EIO : 0;
}

static int write_cases(const gap_set *s, const size_t *rank, const char *part, const char *dir, ca_buf *path,
		       size_t **ret_index, size_t *ret_n)
{
	ca_buf_printf(path, "%s/cases.jsonl", dir);
	FILE *f = path->data ? fopen(path->data, "w") : NULL;
	size_t *index = calloc(s->n ? s->n : 1, sizeof(size_t)), n = 0;
	if (!f || !index) {
		if (f)
			fclose(f);
		free(index);
		return f ? CA_ENOMEM : CA_EIO;
	}
	int r = 0;
	for (size_t i = 0; !r && i < s->n; i++) {
		if (!in_part(rank, i, part))
			continue;
		json_t *rec = json_pack("{s:{s:s, s:s, s:s, s:s}, s:s}", "fields", "title", s->v[i].title, "description",
					s->v[i].description, "owner", "eval", "status", "resolved", "resolution",
					s->v[i].resolution);
		char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
		if (!line || fprintf(f, "%s\n", line) < 0)
			r = line ? CA_EIO : CA_ENOMEM;
		free(line);
		json_decref(rec);
		index[n++] = i; /* case n (1-based id n) is record i */
	}
	if (fclose(f) && !r)
		r = CA_EIO;
	if (r) {
		free(index);
		return r;
	}
	*ret_index = index;
	*ret_n = n;
	return 0;
}

/* The scratch harvest and its grouping: cluster[k] is the article case
 * k+1 was linked to, or -(k+1) (a group of its own) when none. */
static int harvest(const gap_set *s, const size_t *rank, const char *part, double threshold, int64_t **ret_cluster, size_t **ret_index,
		   size_t *ret_n, json_t **ret_job, size_t *ret_cross_steps, ca_err *err)
{
	char dir[] = "/tmp/caseagent-eval-gaps-XXXXXX";
	if (!mkdtemp(dir))
		return ca_err_set(err, CA_EIO, NULL, "eval gaps: cannot make a scratch folder in /tmp");
	ca_buf settings = { 0 }, cases = { 0 }, db = { 0 };
	size_t *index = NULL, n = 0;
	int64_t *cluster = NULL;
	ca_agent *kb = NULL;
	char *out = NULL;
	int r = scratch_settings(dir, threshold, &settings);
	if (!r)
		r = write_cases(s, rank, part, dir, &cases, &index, &n);
	if (r)
		r = ca_err_set(err, r, dir, "eval gaps: cannot write the scratch data in %s", dir);
	ca_buf_printf(&db, "%s/gaps.db", dir);
	if (!r)
		r = ca_agent_open(db.data, &kb, err);
	if (!r)
		r = ca_settings_import_file(kb, settings.data, err);
	char *imported = NULL;
	if (!r)
		r = ca_import_file(kb, "cases", cases.data, &imported, err);
	free(imported);
	int64_t job = 0;
	if (!r)
		r = ca_knowledge_harvest_start(kb, "cases", NULL, &job, err);
	if (!r)
		r = ca_knowledge_harvest_run(kb, job, NULL, NULL, &out, err);
	if (!r && !(cluster = malloc((n ? n : 1) * sizeof(*cluster))))
		r = CA_ENOMEM;
	for (size_t k = 0; !r && k < n; k++)
		cluster[k] = -(int64_t)(k + 1);
	/* The grouping, from the harvest's own log: each case's outcome and
	 * article (created: drafted from it; covered: covered by it). */
	json_t *links = NULL, *steps = NULL, *drafted = json_object();
	if (!r)
		r = drafted ? ca_store_harvest_log(kb->store, job, NULL, 0, &links, err) : CA_ENOMEM;
	size_t i;
	json_t *l;
	json_array_foreach(links, i, l) {
		int64_t c = 0;
		const char *art = ca_json_str(l, "article");
		if (!art || ca_parse_i64(ca_json_str(l, "record_id"), &c) < 0 || c < 1 || (size_t)c > n)
			continue;
		int64_t aid = 0;
		if (!strncmp(art, "KA-", 3) && ca_parse_i64(art + 3, &aid) == 0)
			cluster[c - 1] = aid;
		if (!strcmp(ca_json_str(l, "outcome"), "created"))
			json_object_set_new(drafted, art, json_integer(c));
	}
	/* New steps proposed to an article of another issue: the proposing
	 * case against the case the article was drafted from. */
	if (!r)
		r = ca_store_notification_list(kb->store, NULL, &steps, err);
	size_t cross = 0;
	json_array_foreach(steps, i, l) {
		int64_t c = 0;
		const char *ticket = ca_json_str(l, "case"), *art = ca_json_str(l, "article");
		if (strcmp(ca_json_str(l, "kind"), "minor_version_proposed") || !ticket || !art ||
		    strncmp(ticket, "CAS-", 4) || ca_parse_i64(ticket + 4, &c) < 0)
			continue;
		int64_t d = json_integer_value(json_object_get(drafted, art));
		if (c >= 1 && d >= 1 && (size_t)c <= n && (size_t)d <= n &&
		    strcmp(s->v[index[c - 1]].label, s->v[index[d - 1]].label))
			cross++;
	}
	json_decref(drafted);
	json_decref(links);
	json_decref(steps);
	ca_agent_close(kb);
	json_t *jobj = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	unlink(cases.data);
	unlink(settings.data);
	static const char *const sfx[] = { "", "-wal", "-shm" };
	for (size_t k = 0; k < CA_ARRAY_SIZE(sfx); k++) {
		ca_buf f = { 0 };
		ca_buf_printf(&f, "%s%s", db.data, sfx[k]);
		if (f.data)
			unlink(f.data);
		ca_buf_done(&f);
	}
	rmdir(dir);
	ca_buf_done(&settings);
	ca_buf_done(&cases);
	ca_buf_done(&db);
	if (r) {
		free(index);
		free(cluster);
		json_decref(jobj);
		return r;
	}
	*ret_cluster = cluster;
	*ret_index = index;
	*ret_n = n;
	*ret_job = jobj;
	*ret_cross_steps = cross;
	return 0;
}

int ca_eval_gaps(ca_agent *a, const char *path, const char *part, double threshold, char **ret_json, ca_err *err)
{
	if (part && strcmp(part, "all") && strcmp(part, "tune") && strcmp(part, "test"))
		return ca_err_set(err, CA_EINVAL, "part", "a part is all, tune or test, not '%s'", part);
	if (threshold <= 0)
		threshold = a && a->settings ? a->settings->knowledge.coverage_threshold : 0.35;
	gap_set s = { 0 };
	int r = load_set(path, &s, err);
	int64_t *cluster = NULL;
	size_t *index = NULL, n = 0, cross_steps = 0, *rank = NULL;
	json_t *job = NULL;
	if (!r && !(rank = calloc(s.n ? s.n : 1, sizeof(size_t))))
		r = CA_ENOMEM;
	if (!r) {
		label_ranks(&s, rank);
		r = harvest(&s, rank, part, threshold, &cluster, &index, &n, &job, &cross_steps, err);
	}
	size_t *label = r ? NULL : calloc(n ? n : 1, sizeof(size_t));
	int64_t *single = r ? NULL : calloc(n ? n : 1, sizeof(int64_t));
	if (!r && (!label || !single))
		r = CA_ENOMEM;
	size_t issues = 0, wrong_cover = 0;
	json_t *examples = json_array();
	json_t *articles = json_object();
	for (size_t k = 0; !r && k < n; k++) {
		/* labels as small integers, by first appearance */
		size_t j = 0;
		while (j < k && strcmp(s.v[index[j]].label, s.v[index[k]].label))
			j++;
		label[k] = j < k ? label[j] : issues++;
		single[k] = (int64_t)k;
		char key[32];
		snprintf(key, sizeof(key), "%lld", (long long)cluster[k]);
		json_object_set_new(articles, key, json_true());
	}
	/* A record whose group's first record (the draft) is of another issue
	 * was covered across issues. */
	for (size_t k = 0; !r && k < n; k++) {
		size_t first = k;
		for (size_t j = 0; j < k; j++)
			if (cluster[j] == cluster[k]) {
				first = j;
				break;
			}
		if (label[first] != label[k]) {
			wrong_cover++;
			if (json_array_size(examples) < 20)
				json_array_append_new(examples,
						      json_pack("{s:s, s:s, s:s, s:s}", "record", s.v[index[k]].title, "issue",
								s.v[index[k]].label, "covered_by_draft_of", s.v[index[first]].title,
								"its_issue", s.v[index[first]].label));
		}
	}
	double p = 0, rc = 0, bp = 0, br = 0;
	if (!r) {
		bcubed(cluster, label, n, &p, &rc);
		bcubed(single, label, n, &bp, &br);
	}
	size_t n_articles = json_object_size(articles);
	json_decref(articles);
	json_t *result = NULL;
	if (!r) {
		json_t *jc = json_object_get(job, "covered"), *jn = json_object_get(job, "insufficient");
		result = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:I, s:{s:f, s:f, s:f}, s:{s:I, s:f, s:f, s:f}, "
				   "s:I, s:I, s:I, s:I, s:s}",
				   "dataset", path, "format", s.format, "part", part ? part : "all", "records", (json_int_t)n,
				   "issues", (json_int_t)issues, "threshold", threshold, "articles", (json_int_t)n_articles,
				   "bcubed", "precision", p, "recall", rc, "f1", f1(p, rc), "baseline_one_per_record",
				   "articles", (json_int_t)n, "precision", bp, "recall", br, "f1", f1(bp, br), "covered",
				   json_integer_value(jc), "insufficient", json_integer_value(jn), "covered_across_issues",
				   (json_int_t)wrong_cover, "new_steps_across_issues", (json_int_t)cross_steps, "method",
				   "each conversation a resolved case (title: the customer's first sentence; description: "
				   "the customer's turns; resolution: the agent's reply, links replaced by [LINK]); a harvest "
				   "on a scratch database groups them (drafted from / covered by an article; a record with "
				   "neither is a group of its own); B-cubed precision and recall against the issue labels "
				   "(Bagga & Baldwin 1998)");
		if (!result || json_object_set(result, "covered_across_issues_examples", examples) < 0)
			r = CA_ENOMEM;
	}
	json_decref(job);
	json_decref(examples);
	free(cluster);
	free(index);
	free(label);
	free(single);
	free(rank);
	gap_set_done(&s);
	if (r)
		return err && err->message[0] ? r : ca_err_set(err, r, path, "eval gaps failed: %s", ca_strerror(r));
	return ca_result(result, ret_json);
}
