/* SPDX-License-Identifier: MIT */
/*
 * The knowledge agent, real-time side (ARCHITECTURE §5): when a case is
 * resolved it decides whether the knowledge base already covers the issue.
 * A record qualifies when a knowledge rule holds, a person answered, and it
 * states a problem and a resolution. Personal data is removed first. An
 * existing draft, in-review or published article whose issue is similar
 * enough covers it: the case is linked to it as evidence (and a resolution
 * that adds steps proposes a minor version to its owner). Otherwise a draft
 * is written from the case (title, issue, cause, resolution steps, product,
 * subject, keywords), every section traced to its source; compliant drafts
 * publish at once when auto-publish is on, the rest go to the case owner
 * for review with a notification. Non-compliant articles never publish: the
 * store refuses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "kbindex.h"
#include "pii.h"
#include "summary.h"
#include "text.h"

/* Words that introduce a cause. */
static const char *const cause_cues[] = { "because", "due to", "caused by", "the reason", "since the", "turned out" };

static bool has_cue(const char *s, const char *const *cues, size_t n)
{
	char *low = strdup(s);
	if (!low)
		return false;
	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	bool hit = false;
	for (size_t i = 0; i < n && !hit; i++)
		hit = strstr(low, cues[i]) != NULL;
	free(low);
	return hit;
}

/* A PII-free copy of text (caller frees); counts added to *counts. */
static int scrub(const ca_pii *p, const char *text, ca_pii_counts *counts, char **ret, ca_err *err)
{
	*ret = NULL;
	if (!text)
		return 0;
	ca_pii_counts c = { 0 };
	int r = ca_pii_redact(p, text, strlen(text), ret, &c, NULL, err);
	for (size_t i = 0; !r && i < CA_PII_NTYPES; i++)
		counts->n[i] += c.n[i];
	return r;
}

static int word_count(const char *s)
{
	int n = 0;
	bool in = false;
	for (; s && *s; s++) {
		bool w = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s & 0x80);
		n += w && !in;
		in = w;
	}
	return n;
}

/* Stems of a text's content words, as TF-IDF terms (borrowed from t). */
static int terms_of(const char *text, ca_stemmer *st, ca_tokens *t, const char ***terms, size_t *n, size_t *cap)
{
	ca_tokens_reset(t);
	*n = 0;
	int r = text ? ca_tokenize(text, strlen(text), 0, st, t) : 0;
	if (r == CA_EUTF8)
		r = 0;
	for (size_t i = 0; !r && i < t->n; i++) {
		if (t->v[i].kind == CA_TOK_WORD && (ca_stopword(t->v[i].norm) || strlen(t->v[i].norm) < 3))
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			const char **v = realloc(*terms, c * sizeof(*v));
			if (!v)
				return CA_ENOMEM;
			*terms = v;
			*cap = c;
		}
		(*terms)[(*n)++] = t->v[i].stem;
	}
	return r;
}

/*
 * The article that covers `query` best: TF-IDF cosine over the stems of
 * each candidate's title and issue (idf from the candidates and the query).
 * *ret_best is its index in `arts`, -1 when there are none.
 */
static int best_cover(const json_t *arts, const char *query, ssize_t *ret_best, double *ret_sim)
{
	*ret_best = -1;
	*ret_sim = 0;
	size_t n = json_array_size(arts);
	if (n == 0)
		return 0;
	ca_stemmer *st = ca_stemmer_new();
	ca_vocab *v = ca_vocab_new();
	ca_tokens t = { 0 };
	const char **terms = NULL;
	size_t nt = 0, cap = 0;
	ca_svec *docs = calloc(n, sizeof(*docs));
	ca_svec q = { 0 };
	int r = st && v && docs ? 0 : CA_ENOMEM;
	ca_buf text = { 0 };
	for (int pass = 0; pass < 2 && !r; pass++) {
		for (size_t i = 0; i <= n && !r; i++) {
			const json_t *a = json_array_get(arts, i);
			ca_buf_reset(&text);
			if (i < n)
				r = ca_buf_printf(&text, "%s\n%s", ca_json_str(a, "title") ? ca_json_str(a, "title") : "",
						  ca_json_str(a, "issue") ? ca_json_str(a, "issue") : "");
			else
				r = ca_buf_puts(&text, query);
			if (!r)
				r = terms_of(text.data, st, &t, &terms, &nt, &cap);
			if (!r && pass == 0)
				r = ca_vocab_add_doc(v, terms, nt);
			else if (!r)
				r = ca_tfidf(v, terms, nt, i < n ? &docs[i] : &q);
		}
		if (!r && pass == 0)
			ca_vocab_freeze(v);
	}
	for (size_t i = 0; !r && i < n; i++) {
		double d = ca_svec_dot(&q, &docs[i]);
		if (d > *ret_sim) {
			*ret_sim = d;
			*ret_best = (ssize_t)i;
		}
	}
	for (size_t i = 0; docs && i < n; i++)
		ca_svec_done(&docs[i]);
	free(docs);
	ca_svec_done(&q);
	ca_buf_done(&text);
	free(terms);
	ca_tokens_done(&t);
	ca_vocab_free(v);
	ca_stemmer_free(st);
	return r;
}

/* The most frequent content words of a text, as keywords. */
static json_t *keywords_of(const char *text)
{
	json_t *out = json_array();
	ca_tokens t = { 0 };
	if (!out || !text || ca_tokenize(text, strlen(text), 0, NULL, &t) != 0) {
		ca_tokens_done(&t);
		return out;
	}
	json_t *freq = json_object();
	for (size_t i = 0; i < t.n; i++) {
		const char *w = t.v[i].norm;
		if (t.v[i].kind != CA_TOK_WORD || ca_stopword(w) || strlen(w) < 4)
			continue;
		json_object_set_new(freq, w, json_integer(json_integer_value(json_object_get(freq, w)) + 1));
	}
	for (int k = 0; k < 5; k++) {
		const char *best = NULL, *key;
		json_int_t bc = 0;
		json_t *val;
		json_object_foreach(freq, key, val) if (json_integer_value(val) > bc) {
			bc = json_integer_value(val);
			best = key;
		}
		if (!best)
			break;
		json_array_append_new(out, json_string(best));
		json_object_del(freq, best);
	}
	json_decref(freq);
	ca_tokens_done(&t);
	return out;
}

/* One recogniser per agent, shared with `pii redact` (pii_cmd.c). */
static int get_pii(ca_agent *a, const ca_pii **ret, ca_err *err)
{
	return ca_agent_pii(a, ret, err);
}

/* Articles a new record is compared with: all but archived and discarded. */
static int candidate_articles(ca_agent *a, json_t **ret, ca_err *err)
{
	json_t *all = NULL;
	int r = ca_store_article_list(a->store, NULL, &all, err);
	if (r)
		return r;
	json_t *arts = json_array();
	size_t i;
	json_t *n;
	json_array_foreach(all, i, n) {
		const char *st = ca_json_str(n, "state");
		if (strcmp(st, "archived") && strcmp(st, "discarded"))
			json_array_append(arts, n);
	}
	json_decref(all);
	*ret = arts;
	return arts ? 0 : CA_ENOMEM;
}

/* The knowledge-base index, built from the store on first use. */
static int kb_index(ca_agent *a, ca_kb_index **ret, ca_err *err)
{
	if (!a->kb) {
		json_t *arts = NULL;
		int r = candidate_articles(a, &arts, err);
		if (!r)
			r = ca_kb_index_build(arts, &a->kb);
		json_decref(arts);
		if (r)
			return ca_err_set(err, r, "knowledge", "cannot index the knowledge base: %s", ca_strerror(r));
	}
	*ret = a->kb;
	return 0;
}

int ca_knowledge_cover(ca_agent *a, const char *text, json_t **ret_article, double *ret_sim, ca_err *err)
{
	ca_kb_index *k = NULL;
	int r = kb_index(a, &k, err);
	return r ? r : ca_kb_index_best(k, text, ret_article, ret_sim);
}

static int process_case(ca_agent *a, int64_t case_id, bool realtime, const char *only_rule, ca_knowledge_hook hook,
			void *ud, json_t **ret, ca_err *err);

int ca_knowledge_on_case(ca_agent *a, int64_t case_id, json_t **ret, ca_err *err)
{
	return process_case(a, case_id, true, NULL, NULL, NULL, ret, err);
}

int ca_knowledge_process_case(ca_agent *a, int64_t case_id, const char *rule, json_t **ret, ca_err *err)
{
	return process_case(a, case_id, false, rule, NULL, NULL, ret, err);
}

int ca_knowledge_process_case_with(ca_agent *a, int64_t case_id, const char *rule, ca_knowledge_hook hook, void *ud,
				   json_t **ret, ca_err *err)
{
	return process_case(a, case_id, false, rule, hook, ud, ret, err);
}

/* An outcome that writes nothing of its own (filtered, insufficient
 * content) still gets the hook's transaction, so a harvest logs it exactly
 * once. On failure *ret is dropped. */
static int hook_alone(ca_agent *a, int64_t case_id, ca_knowledge_hook hook, void *ud, json_t **ret, ca_err *err)
{
	if (!hook)
		return 0;
	int r = *ret ? ca_store_begin(a->store, err) : CA_ENOMEM;
	if (!r) {
		r = hook(a, case_id, *ret, ud, err);
		if (!r)
			r = ca_store_commit(a->store, err);
		if (r)
			ca_store_rollback(a->store);
	}
	if (r) {
		json_decref(*ret);
		*ret = NULL;
	}
	return r;
}

/* The outcome of the knowledge agent for one resolved case. */
static int process_case(ca_agent *a, int64_t case_id, bool realtime, const char *only_rule, ca_knowledge_hook hook,
			void *ud, json_t **ret, ca_err *err)
{
	const ca_knowledge_settings *ks = &a->settings->knowledge;
	json_t *c = NULL, *notes = NULL, *msgs = NULL, *arts = NULL, *out = NULL;
	const ca_pii *pii = NULL;
	ca_pii_counts removed = { 0 };
	char *title = NULL, *issue = NULL, *resolution = NULL, *cause = NULL, *steps = NULL;
	ca_buf causes = { 0 }, actions = { 0 };
	int r = ca_store_case_get_id(a->store, case_id, &c, err);
	if (r)
		return r;
	const char *ticket = ca_json_str(c, "ticket_number");
	json_t *fields = json_object_get(c, "fields");
	if (realtime && !ks->realtime_cases) {
		*ret = json_pack("{s:s, s:s}", "outcome", "off", "reason", "real-time creation for cases is off");
		goto done;
	}
	bool rule_ok = ks->n_rules == 0 && !only_rule;
	const char *rule_name = NULL;
	for (size_t i = 0; i < ks->n_rules && !rule_ok; i++)
		if ((!only_rule || !strcmp(only_rule, ks->rule_names[i])) && ca_rule_eval(ks->rules[i], fields)) {
			rule_ok = true;
			rule_name = ks->rule_names[i];
		}
	if (!rule_ok) {
		*ret = json_pack("{s:s, s:s}", "outcome", "filtered", "reason", "no knowledge rule holds for this case");
		r = hook_alone(a, case_id, hook, ud, ret, err);
		goto done;
	}
	if ((r = ca_store_note_list(a->store, case_id, &notes, err)))
		goto done;
	const char *res_note = NULL, *res_actor = NULL;
	size_t i;
	json_t *n;
	json_array_foreach(notes, i, n) if (!strcmp(ca_json_str(n, "kind"), "resolution")) {
		res_note = ca_json_str(n, "body");
		res_actor = ca_json_str(n, "actor");
	}
	/* A person answered: the representative wrote in the conversation, or
	 * resolved the case with their own words. Bot and system lines never
	 * count and never enter an article. */
	bool person = res_actor && strcmp(res_actor, "caseagent") != 0;
	const char *conv = ca_json_str(c, "conversation_id");
	ca_msg *m = NULL;
	size_t nm = 0;
	if (conv && ca_store_message_list(a->store, conv, &msgs, NULL) == 0 && ca_msgs_from_json(msgs, &m, &nm) == 0) {
		for (size_t k = 0; k < nm; k++)
			person |= m[k].role == CA_ROLE_AGENT;
	}
	const char *raw_issue = ks->use_description ? ca_json_str(fields, "description") : NULL;
	const char *raw_title = ks->use_title ? ca_json_str(fields, "title") : NULL;
	if (!raw_issue)
		raw_issue = raw_title;
	if (!person || !raw_issue || word_count(raw_issue) < 3 || !res_note || word_count(res_note) < 2) {
		*ret = json_pack("{s:s, s:s}", "outcome", "insufficient content", "reason",
				 !person ? "no person answered" : !res_note ? "no resolution" : "the case states no problem");
		free(m);
		r = hook_alone(a, case_id, hook, ud, ret, err);
		goto done;
	}
	/* Personal data goes before anything is compared or drafted. */
	r = get_pii(a, &pii, err);
	if (!r)
		r = scrub(pii, raw_issue, &removed, &issue, err);
	if (!r)
		r = scrub(pii, raw_title ? raw_title : raw_issue, &removed, &title, err);
	if (!r)
		r = scrub(pii, res_note, &removed, &resolution, err);
	/* Cause: sentences that give one, from the issue and the customer's and
	 * representative's words. Steps: what the representative did. */
	if (!r && nm) {
		ca_summary sum = { 0 };
		if (ca_summarize(m, nm, 4, &sum, NULL) == 0) {
			for (size_t k = 0; k < sum.n; k++)
				if (sum.lines[k].section == CA_SUM_ACTIONS || sum.lines[k].section == CA_SUM_OUTCOME)
					ca_buf_printf(&actions, "%s- %s", actions.len ? "\n" : "", sum.lines[k].text);
			ca_summary_done(&sum);
		}
		for (size_t k = 0; k < nm; k++)
			if ((m[k].role == CA_ROLE_CUSTOMER || m[k].role == CA_ROLE_AGENT) &&
			    has_cue(m[k].text, cause_cues, CA_ARRAY_SIZE(cause_cues)) && causes.len < 600)
				ca_buf_printf(&causes, "%s%s", causes.len ? " " : "", m[k].text);
	}
	free(m);
	if (!r && has_cue(raw_issue, cause_cues, CA_ARRAY_SIZE(cause_cues)) && !causes.len)
		ca_buf_puts(&causes, raw_issue);
	if (!r && causes.len)
		r = scrub(pii, causes.data, &removed, &cause, err);
	if (!r && actions.len)
		r = scrub(pii, actions.data, &removed, &steps, err);
	if (r)
		goto done;
	/* Gap detection against everything not discarded or archived. */
	ca_buf query = { 0 };
	ca_buf_printf(&query, "%s\n%s", title, issue);
	json_t *cover = NULL;
	double sim = 0;
	r = ca_knowledge_cover(a, query.data, &cover, &sim, err);
	ca_buf_done(&query);
	if (r)
		goto done;
	arts = cover; /* freed at done */
	char rec[32];
	snprintf(rec, sizeof(rec), "%lld", (long long)case_id);
	if ((r = ca_store_begin(a->store, err)))
		goto done;
	int64_t new_article = 0;
	if (cover && sim >= ks->coverage_threshold) {
		const json_t *art = cover;
		int64_t aid = json_integer_value(json_object_get(art, "id"));
		r = ca_store_article_link(a->store, aid, "case", rec, "covered_by", sim, err);
		/* New steps for a covered article are a minor version to review. */
		const char *known = ca_json_str(art, "resolution");
		bool new_steps = resolution && (!known || !strstr(known, resolution));
		if (!r && new_steps) {
			ca_buf msg = { 0 };
			ca_buf_printf(&msg, "%s resolved %s with steps the article lacks; proposed for version %lld.%lld: %s",
				      ticket, ca_json_str(art, "number"),
				      (long long)json_integer_value(json_object_get(art, "version_major")),
				      (long long)json_integer_value(json_object_get(art, "version_minor")) + 1, resolution);
			r = ca_store_notification_add(a->store, ca_json_str(art, "owner"), "minor_version_proposed", aid, case_id,
						      msg.data, err);
			ca_buf_done(&msg);
		}
		out = json_pack("{s:s, s:s, s:f, s:b}", "outcome", "covered", "article", ca_json_str(art, "number"),
				"similarity", sim, "new_steps_proposed", new_steps);
	} else {
		const char *compliance = ks->default_compliance;
		bool publish = ks->auto_publish && !strcmp(compliance, "compliant");
		const char *owner = ca_json_str(fields, "owner") ? ca_json_str(fields, "owner") : "unassigned";
		json_t *pii_counts = json_object();
		for (int k = 0; k < CA_PII_NTYPES; k++)
			if (removed.n[k])
				json_object_set_new(pii_counts, ca_pii_type_name((ca_pii_type)k), json_integer(removed.n[k]));
		ca_buf res_text = { 0 };
		ca_buf_puts(&res_text, resolution);
		if (steps)
			ca_buf_printf(&res_text, "\n%s", steps);
		json_t *art = json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:o, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:O}",
					"title", title, "issue", issue, "cause", cause, "resolution", res_text.data,
					"product", ks->use_product ? ca_json_str(fields, "product") : NULL, "subject",
					ks->use_subject ? ca_json_str(fields, "subject") : NULL, "keywords", keywords_of(issue),
					"evidence", "title", ticket, "issue", ticket, "resolution", ticket, "record", rec, "state",
					publish ? "published" : "in_review", "compliance", compliance, "audience", ks->audience,
					"source", "agent", "owner", owner, "pii_removed", pii_counts);
		ca_buf_done(&res_text);
		int64_t aid = 0;
		char *number = NULL;
		r = art ? ca_store_article_add(a->store, art, &aid, &number, err) : CA_ENOMEM;
		new_article = aid;
		json_decref(art);
		if (!r)
			r = ca_store_article_link(a->store, aid, "case", rec, "drafted_from", 1.0, err);
		if (!r && !publish) {
			ca_buf msg = { 0 };
			ca_buf_printf(&msg, "%s was drafted from %s and waits for your review (compliance: %s)", number, ticket,
				      compliance);
			r = ca_store_notification_add(a->store, owner, "review_requested", aid, case_id, msg.data, err);
			ca_buf_done(&msg);
		}
		if (!r)
			out = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:O, s:f}", "outcome", publish ? "published" : "drafted",
					"article", number, "state", publish ? "published" : "in_review", "compliance", compliance,
					"rule", rule_name, "pii_removed", pii_counts, "best_similarity", sim);
		free(number);
		json_decref(pii_counts);
	}
	if (!r && !out)
		r = CA_ENOMEM;
	if (!r && hook)
		r = hook(a, case_id, out, ud, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r) {
		ca_store_rollback(a->store);
		json_decref(out);
		goto done;
	}
	/* Committed: the new draft covers the next records of the same issue. */
	if (new_article && a->kb) {
		json_t *na = NULL;
		char ref[32];
		snprintf(ref, sizeof(ref), "%lld", (long long)new_article);
		if (ca_store_article_get(a->store, ref, &na, NULL) != 0 || ca_kb_index_add(a->kb, na) != 0) {
			ca_kb_index_free(a->kb); /* rebuilt from the store on next use */
			a->kb = NULL;
		}
		json_decref(na);
	}
	*ret = out;
done:
	json_decref(c);
	json_decref(notes);
	json_decref(msgs);
	json_decref(arts);
	free(title);
	free(issue);
	free(resolution);
	free(cause);
	free(steps);
	ca_buf_done(&causes);
	ca_buf_done(&actions);
	return r;
}

/* ---- review, search, notifications ---- */

int ca_knowledge_list(ca_agent *a, const char *state, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	int r = ca_store_article_list(a->store, state, &list, err);
	return r ? r : ca_result(json_pack("{s:o}", "articles", list), ret_json);
}

int ca_knowledge_show(ca_agent *a, const char *ref, char **ret_json, ca_err *err)
{
	json_t *art = NULL;
	int r = ca_store_article_get(a->store, ref, &art, err);
	return r ? r : ca_result(art, ret_json);
}

int ca_knowledge_change(ca_agent *a, const char *ref, const char *changes_json, char **ret_json, ca_err *err)
{
	json_error_t je;
	json_t *ch = json_loads(changes_json, 0, &je);
	if (!json_is_object(ch)) {
		json_decref(ch);
		return ca_err_set(err, CA_EPARSE, "changes", "changes must be a JSON object: %s", je.text);
	}
	json_t *art = NULL;
	int r = ca_store_article_get(a->store, ref, &art, err);
	if (!r)
		r = ca_store_article_update(a->store, json_integer_value(json_object_get(art, "id")), ch, err);
	/* A reviewer changed the knowledge base: index it again on next use. */
	ca_kb_index_free(a->kb);
	a->kb = NULL;
	json_decref(art);
	json_decref(ch);
	if (r)
		return r;
	return ca_knowledge_show(a, ref, ret_json, err);
}

int ca_knowledge_search(ca_agent *a, const char *query, const char *audience, size_t limit, char **ret_json,
			ca_err *err)
{
	json_t *pub = NULL;
	int r = ca_store_article_list(a->store, "published", &pub, err);
	if (r)
		return r;
	/* External readers see external articles; internal readers see all. */
	json_t *pool = json_array();
	size_t i;
	json_t *art;
	json_array_foreach(pub, i, art) if (!audience || strcmp(audience, "external") ||
					    !strcmp(ca_json_str(art, "audience"), "external"))
		json_array_append(pool, art);
	json_decref(pub);
	json_t *hits = json_array();
	/* Rank: TF-IDF cosine of the query with each article's title, issue and
	 * resolution; repeated best-first extraction keeps it simple. */
	json_t *left = json_deep_copy(pool);
	for (size_t k = 0; !r && (limit == 0 || k < limit) && json_array_size(left); k++) {
		json_t *docs = json_array();
		json_array_foreach(left, i, art) {
			ca_buf t = { 0 };
			ca_buf_printf(&t, "%s %s", ca_json_str(art, "issue") ? ca_json_str(art, "issue") : "",
				      ca_json_str(art, "resolution") ? ca_json_str(art, "resolution") : "");
			json_array_append_new(docs, json_pack("{s:s?, s:s}", "title", ca_json_str(art, "title"), "issue", t.data));
			ca_buf_done(&t);
		}
		ssize_t best;
		double sim;
		r = best_cover(docs, query, &best, &sim);
		json_decref(docs);
		if (r || best < 0 || sim <= 0)
			break;
		json_t *b = json_array_get(left, (size_t)best);
		json_array_append_new(hits, json_pack("{s:O, s:O, s:O, s:f}", "article", json_object_get(b, "number"), "title",
						      json_object_get(b, "title"), "audience", json_object_get(b, "audience"),
						      "score", sim));
		json_array_remove(left, (size_t)best);
	}
	json_decref(left);
	json_decref(pool);
	if (r) {
		json_decref(hits);
		return r;
	}
	return ca_result(json_pack("{s:s, s:s, s:o}", "query", query, "audience", audience ? audience : "internal", "results",
				   hits),
			 ret_json);
}

int ca_notifications(ca_agent *a, const char *recipient, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	int r = ca_store_notification_list(a->store, recipient, &list, err);
	return r ? r : ca_result(json_pack("{s:o}", "notifications", list), ret_json);
}

int ca_knowledge_insights(ca_agent *a, char **ret_json, ca_err *err)
{
	json_t *st = NULL, *jobs = NULL;
	int r = ca_store_knowledge_stats(a->store, &st, err);
	if (!r)
		r = ca_store_harvest_list(a->store, &jobs, err);
	if (r) {
		json_decref(st);
		return r;
	}
	json_int_t resolved = json_integer_value(json_object_get(st, "resolved_cases"));
	json_int_t linked = json_integer_value(json_object_get(st, "resolved_cases_linked"));
	/* Coverage: the share of resolved records an article drafted from or
	 * covers — how much of what the team solves the knowledge base holds. */
	json_object_set_new(st, "coverage", resolved ? json_real((double)linked / (double)resolved) : json_null());
	json_object_set_new(st, "harvest_jobs", jobs);
	return ca_result(st, ret_json);
}
