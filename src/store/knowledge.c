/* SPDX-License-Identifier: MIT */
/*
 * Knowledge articles: the article, its states and the publish rule
 * (published means reviewed and compliant), pending revisions, links to the
 * cases they came from or answer, full-text search through FTS5 (the sqlite
 * driver's so far), and the notifications raised for reviewers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

/* ---- knowledge articles ---- */

static const char *const art_states[] = { "draft", "in_review", "published", "archived", "discarded" };
static const char *const art_compliance[] = { "pending", "compliant", "non_compliant" };
static const char *const art_audiences[] = { "internal", "external" };

/* The one rule in words, before the database's CHECK says it in its own. */
static int publish_rule(const char *state, const char *compliance, const char *what, ca_err *err)
{
	if (state && !strcmp(state, "published") && (!compliance || strcmp(compliance, "compliant")))
		return ca_err_set(err, CA_ESTATE, "compliance",
				  "%s: only a compliant article can be published (compliance is %s); "
				  "a reviewer must mark it compliant first",
				  what, compliance ? compliance : "pending");
	return 0;
}

static int json_text_or_null(const json_t *v, char **out)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	*out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return *out ? 0 : CA_ENOMEM;
}

int ca_store_article_add(ca_store *s, const json_t *art, int64_t *ret_id, char **ret_number, ca_err *err)
{
	const char *what = "knowledge article";
	const char *title = ca_json_str(art, "title");
	if (ca_str_empty(title))
		return ca_err_set(err, CA_EINVAL, "title", "%s: a title is required", what);
	const char *state = ca_json_str(art, "state") ? ca_json_str(art, "state") : "draft";
	const char *compliance = ca_json_str(art, "compliance") ? ca_json_str(art, "compliance") : "pending";
	const char *audience = ca_json_str(art, "audience") ? ca_json_str(art, "audience") : "internal";
	if (!one_of(state, art_states, CA_ARRAY_SIZE(art_states)) ||
	    !one_of(compliance, art_compliance, CA_ARRAY_SIZE(art_compliance)) ||
	    !one_of(audience, art_audiences, CA_ARRAY_SIZE(art_audiences)))
		return ca_err_set(err, CA_EINVAL, "state", "%s: unknown state, compliance or audience", what);
	int r = publish_rule(state, compliance, what, err);
	if (r)
		return r;
	char *keywords = NULL, *evidence = NULL, *pii = NULL, *tmpl = NULL;
	if ((r = json_text_or_null(json_object_get(art, "keywords"), &keywords)) ||
	    (r = json_text_or_null(json_object_get(art, "evidence"), &evidence)) ||
	    (r = json_text_or_null(json_object_get(art, "pii_removed"), &pii)) ||
	    (r = json_text_or_null(json_object_get(art, "template"), &tmpl))) {
		free(keywords);
		free(evidence);
		free(pii);
		return enomem(err, what);
	}
	char at[21];
	ca_time_iso(ca_time_now(), at);
	int64_t id = 0;
	char number[32];
	r = op_begin(s, what, err);
	if (!r)
		r = next_id(s, what, "article", &id, err);
	if (!r) {
		snprintf(number, sizeof(number), "KA-%05lld", (long long)id);
		ca_sql_param p[] = {
			ca_sql_int(id), ca_sql_text(number), ca_sql_text(state), ca_sql_text(compliance), ca_sql_text(audience),
			ca_sql_text(title), ca_sql_text(ca_json_str(art, "issue")), ca_sql_text(ca_json_str(art, "cause")),
			ca_sql_text(ca_json_str(art, "resolution")), ca_sql_text(ca_json_str(art, "product")),
			ca_sql_text(ca_json_str(art, "subject")), ca_sql_text(keywords), ca_sql_text(evidence),
			ca_sql_text(ca_json_str(art, "source") ? ca_json_str(art, "source") : "agent"),
			ca_sql_text(ca_json_str(art, "owner")), ca_sql_text(pii), ca_sql_text(at), ca_sql_text(at),
			ca_sql_text(!strcmp(state, "published") ? at : NULL), ca_sql_text(tmpl),
		};
		r = db_exec(s, what,
			    "INSERT INTO knowledge_article (id, number, state, compliance, audience, title, issue, cause, "
			    "resolution, product, subject, keywords, evidence, source, owner, pii_removed, created_at, "
			    "updated_at, published_at, template) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	if (!r)
		r = ev_plain(s, "knowledge.article_drafted", 0, NULL, "work",
			     json_pack("{s:s, s:s, s:s}", "article", number, "title", title, "state", state), err);
	free(keywords);
	free(evidence);
	free(pii);
	free(tmpl);
	r = op_end(s, r, what, err);
	if (r)
		return r;
	if (ret_id)
		*ret_id = id;
	if (ret_number && !(*ret_number = strdup(number)))
		return enomem(err, what);
	return 0;
}

/* The article's version waiting for review, if any (*ret NULL when none):
 * {"id","version_major","version_minor","compliance","title","issue",
 * "cause","resolution","keywords","created_at","updated_at"}. */
static int pending_revision(ca_store *s, int64_t article_id, json_t **ret, ca_err *err)
{
	*ret = NULL;
	json_t *rows = NULL;
	ca_sql_param p[] = { ca_sql_int(article_id) };
	int r = db_rows(s, "knowledge article version",
			"SELECT id, version_major, version_minor, compliance, title, issue, cause, resolution, keywords, "
			"created_at, updated_at FROM knowledge_article_revision WHERE article_id = ? AND state = 'in_review'",
			p, 1, &rows, err);
	if (r)
		return r;
	json_t *rev = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (rev) {
		const char *kw = ca_json_str(rev, "keywords");
		json_t *v = kw ? json_loads(kw, JSON_DECODE_ANY, NULL) : NULL;
		if (v)
			json_object_set_new(rev, "keywords", v);
	}
	*ret = rev;
	return 0;
}

static const char article_cols[] =
	"SELECT id, number, version_major, version_minor, state, compliance, audience, title, issue, cause, "
	"resolution, product, subject, keywords, evidence, source, owner, pii_removed, rating_sum, rating_count, "
	"created_at, updated_at, published_at, template, (SELECT r.version_minor FROM knowledge_article_revision r "
	"WHERE r.article_id = knowledge_article.id AND r.state = 'in_review') AS pending_version_minor "
	"FROM knowledge_article ";

/* Stored JSON text columns back to JSON values. */
static void article_json_cols(json_t *a)
{
	static const char *const cols[] = { "keywords", "evidence", "pii_removed", "template" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(cols); i++) {
		const char *t = ca_json_str(a, cols[i]);
		if (t) {
			json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
			if (v)
				json_object_set_new(a, cols[i], v);
		}
	}
}

int ca_store_article_get(ca_store *s, const char *ref, json_t **ret, ca_err *err)
{
	int64_t id = 0;
	bool numeric = ca_parse_i64(ref, &id) == 0;
	ca_buf sql = { 0 };
	if (ca_buf_puts(&sql, article_cols) < 0 || ca_buf_puts(&sql, numeric ? "WHERE id = ?" : "WHERE number = ?") < 0) {
		ca_buf_done(&sql);
		return enomem(err, "knowledge article");
	}
	ca_sql_param p[] = { numeric ? ca_sql_int(id) : ca_sql_text(ref) };
	json_t *rows = NULL, *src = NULL;
	int r = db_rows(s, "knowledge article", sql.data, p, 1, &rows, err);
	ca_buf_done(&sql);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "article", "knowledge article %s not found", ref);
	json_t *a = r ? NULL : json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (!r) {
		ca_sql_param q[] = { ca_sql_int(json_integer_value(json_object_get(a, "id"))) };
		r = db_rows(s, "knowledge article",
			    "SELECT record_type, record_id, relation, similarity, at FROM article_source WHERE article_id = ? "
			    "ORDER BY at, record_id",
			    q, 1, &src, err);
	}
	if (r) {
		json_decref(a);
		return r;
	}
	json_t *rev = NULL;
	if ((r = pending_revision(s, json_integer_value(json_object_get(a, "id")), &rev, err))) {
		json_decref(a);
		json_decref(src);
		return r;
	}
	article_json_cols(a);
	json_object_set_new(a, "sources", src);
	if (rev)
		json_object_set_new(a, "pending_version", rev);
	*ret = a;
	return 0;
}

int ca_store_article_list(ca_store *s, const char *state, json_t **ret, ca_err *err)
{
	ca_buf sql = { 0 };
	int r = ca_buf_puts(&sql, article_cols) < 0 ||
			ca_buf_puts(&sql, !state ? "WHERE state <> 'discarded' ORDER BY id DESC"
					  : !strcmp(state, "in_review")
					  /* what waits for review: drafts, and new versions of published articles */
					  ? "WHERE state = ? OR id IN (SELECT article_id FROM knowledge_article_revision "
					    "WHERE state = 'in_review') ORDER BY id DESC"
					  : "WHERE state = ? ORDER BY id DESC") < 0
		? enomem(err, "knowledge articles")
		: 0;
	ca_sql_param p[] = { ca_sql_text(state) };
	if (!r)
		r = db_rows(s, "knowledge articles", sql.data, p, state ? 1 : 0, ret, err);
	ca_buf_done(&sql);
	if (!r) {
		size_t i;
		json_t *a;
		json_array_foreach(*ret, i, a) article_json_cols(a);
	}
	return r;
}

/* The content a reviewer may change, and only through review once the
 * article is published. */
static const char *const art_content[] = { "title", "issue", "cause", "resolution", "keywords" };

/* A change's value for a content column, as stored (keywords: JSON text;
 * caller frees), or NULL when the change does not name it. */
static int content_value(const json_t *changes, const char *col, char **ret)
{
	*ret = NULL;
	const json_t *v = json_object_get(changes, col);
	if (!v)
		return 0;
	if (json_is_string(v))
		return (*ret = strdup(json_string_value(v))) ? 0 : CA_ENOMEM;
	return json_text_or_null(v, ret);
}

/* Does the change alter some content of `base` (the article, or its
 * version in review)? */
static bool changes_content(const json_t *changes, const json_t *base)
{
	bool edited = false;
	for (size_t i = 0; i < CA_ARRAY_SIZE(art_content) && !edited; i++) {
		char *now = NULL, *was = NULL;
		if (content_value(changes, art_content[i], &now) == 0 && now) {
			/* out of memory reading the old value: taken as changed,
			 * which at worst sends an unchanged text to review */
			(void)content_value(base, art_content[i], &was);
			edited = !was || strcmp(now, was);
		}
		free(now);
		free(was);
	}
	return edited;
}

/*
 * A published article's content change, compliance and publication, on
 * its version in review (inside the caller's op): the content goes into
 * that version (created from the published one on the first change; a
 * change of content takes its compliance back to pending unless the same
 * change sets it); "published" replaces the published content by it, only
 * when it is compliant; "discarded" rejects it and leaves the published
 * article as it is; any other state applies to the article and drops it.
 * Sets *ret_rest to the changes left for the article itself (new
 * reference).
 */
static int revise(ca_store *s, const json_t *cur, json_t *pending, const json_t *changes, const char *label,
		  const char *at, json_t **ret_rest, ca_err *err)
{
	const char *what = "knowledge article version";
	int64_t aid = json_integer_value(json_object_get(cur, "id"));
	json_t *rest = json_deep_copy(changes);
	if (!rest)
		return enomem(err, what);
	for (size_t i = 0; i < CA_ARRAY_SIZE(art_content); i++)
		json_object_del(rest, art_content[i]);
	json_object_del(rest, "compliance");
	json_object_del(rest, "bump_minor");
	const char *state = ca_json_str(changes, "state");
	bool content = changes_content(changes, pending ? pending : cur);
	const char *compliance = ca_json_str(changes, "compliance");
	if (!compliance)
		compliance = pending && !content ? ca_json_str(pending, "compliance") : "pending";
	int r = 0;
	int64_t rid = pending ? json_integer_value(json_object_get(pending, "id")) : 0;
	if (!pending && content) {
		/* the new version: the change over the published content */
		char *val[CA_ARRAY_SIZE(art_content)] = { 0 };
		for (size_t i = 0; !r && i < CA_ARRAY_SIZE(art_content); i++)
			r = content_value(json_object_get(changes, art_content[i]) ? changes : cur, art_content[i], &val[i]);
		ca_sql_param p[] = { ca_sql_int(aid), ca_sql_int(json_integer_value(json_object_get(cur, "version_major"))),
				     ca_sql_int(json_integer_value(json_object_get(cur, "version_minor")) + 1),
				     ca_sql_text(compliance), ca_sql_text(val[0]), ca_sql_text(val[1]), ca_sql_text(val[2]),
				     ca_sql_text(val[3]), ca_sql_text(val[4]), ca_sql_text(at), ca_sql_text(at) };
		if (r == CA_ENOMEM)
			r = enomem(err, what);
		else if (!r && ca_str_empty(val[0]))
			r = ca_err_set(err, CA_EINVAL, "title", "%s: a title is required", label);
		if (!r)
			r = db_exec(s, what,
				    "INSERT INTO knowledge_article_revision (article_id, version_major, version_minor, compliance, "
				    "title, issue, cause, resolution, keywords, created_at, updated_at) "
				    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				    p, CA_ARRAY_SIZE(p), err);
		for (size_t i = 0; i < CA_ARRAY_SIZE(art_content); i++)
			free(val[i]);
		if (!r) {
			ca_sql_param q[] = { ca_sql_int(aid) };
			json_t *rows = NULL;
			r = db_rows(s, what,
				    "SELECT id FROM knowledge_article_revision WHERE article_id = ? AND state = 'in_review'", q,
				    1, &rows, err);
			rid = json_integer_value(json_object_get(json_array_get(rows, 0), "id"));
			json_decref(rows);
		}
	} else if (pending) {
		for (size_t i = 0; !r && content && i < CA_ARRAY_SIZE(art_content); i++) {
			char *val = NULL;
			if ((r = content_value(changes, art_content[i], &val)) || !val) {
				r = r ? enomem(err, what) : 0;
				continue;
			}
			ca_buf sql = { 0 };
			/* the column name comes from the fixed list above, never from input */
			ca_buf_printf(&sql, "UPDATE knowledge_article_revision SET %s = ?, updated_at = ? WHERE id = ?",
				      art_content[i]);
			ca_sql_param p[] = { ca_sql_text(val), ca_sql_text(at), ca_sql_int(rid) };
			r = sql.data ? db_exec(s, what, sql.data, p, 3, err) : enomem(err, what);
			ca_buf_done(&sql);
			free(val);
		}
		if (!r) {
			ca_sql_param p[] = { ca_sql_text(compliance), ca_sql_text(at), ca_sql_int(rid) };
			r = db_exec(s, what, "UPDATE knowledge_article_revision SET compliance = ?, updated_at = ? WHERE id = ?",
				    p, 3, err);
		}
	}
	if (!r && rid && state && !strcmp(state, "published")) {
		char vlabel[96];
		snprintf(vlabel, sizeof(vlabel), "%s, its version in review", label);
		r = publish_rule("published", compliance, vlabel, err);
		ca_sql_param p[] = { ca_sql_text(at), ca_sql_text(at), ca_sql_int(rid), ca_sql_int(aid) };
		if (!r)
			r = db_exec(s, what,
				    "UPDATE knowledge_article SET (title, issue, cause, resolution, keywords, version_major, "
				    "version_minor) = (SELECT title, issue, cause, resolution, keywords, version_major, "
				    "version_minor FROM knowledge_article_revision WHERE id = ?3), published_at = ?1, "
				    "updated_at = ?2 WHERE id = ?4",
				    p, 4, err);
		ca_sql_param q[] = { ca_sql_text(at), ca_sql_int(rid) };
		if (!r)
			r = db_exec(s, what,
				    "UPDATE knowledge_article_revision SET state = 'published', decided_at = ? WHERE id = ?", q, 2,
				    err);
		json_object_del(rest, "state"); /* it is published already */
	} else if (!r && rid && state) {
		ca_sql_param q[] = { ca_sql_text(at), ca_sql_int(rid) };
		r = db_exec(s, what, "UPDATE knowledge_article_revision SET state = 'discarded', decided_at = ? WHERE id = ?",
			    q, 2, err);
		if (!strcmp(state, "discarded"))
			json_object_del(rest, "state"); /* the version is rejected, not the article */
	}
	if (r) {
		json_decref(rest);
		return r;
	}
	*ret_rest = rest;
	return 0;
}

int ca_store_article_update(ca_store *s, int64_t id, const json_t *changes, ca_err *err)
{
	static const char *const text_cols[] = { "title",      "issue",	   "cause", "resolution",
						 "state",      "compliance", "audience", "owner" };
	const char *what = "knowledge article";
	json_t *cur = NULL, *pending = NULL, *rest = NULL;
	char ref[32];
	snprintf(ref, sizeof(ref), "%lld", (long long)id);
	int r = ca_store_article_get(s, ref, &cur, err);
	if (r)
		return r;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)changes, k, v) {
		if (!one_of(k, text_cols, CA_ARRAY_SIZE(text_cols)) && strcmp(k, "bump_minor") && strcmp(k, "rating") &&
		    strcmp(k, "keywords")) {
			json_decref(cur);
			return ca_err_set(err, CA_EINVAL, k, "%s %s: '%s' cannot be changed", what, ca_json_str(cur, "number"), k);
		}
	}
	const json_t *kw = json_object_get(changes, "keywords");
	if (kw && !json_is_array(kw)) {
		r = ca_err_set(err, CA_EINVAL, "keywords", "%s %s: keywords are a list of words", what,
			       ca_json_str(cur, "number"));
		json_decref(cur);
		return r;
	}
	char label[64];
	snprintf(label, sizeof(label), "%s %s", what, ca_json_str(cur, "number"));
	char at[21];
	ca_time_iso(ca_time_now(), at);
	if (ca_json_str(changes, "compliance") &&
	    !one_of(ca_json_str(changes, "compliance"), art_compliance, CA_ARRAY_SIZE(art_compliance)))
		r = ca_err_set(err, CA_EINVAL, "compliance", "%s: unknown compliance '%s'", label,
			       ca_json_str(changes, "compliance"));
	if (!r && ca_json_str(changes, "state") && !one_of(ca_json_str(changes, "state"), art_states, CA_ARRAY_SIZE(art_states)))
		r = ca_err_set(err, CA_EINVAL, "state", "%s: unknown state '%s'", label, ca_json_str(changes, "state"));
	if (!r)
		r = pending_revision(s, id, &pending, err);
	if (!r)
		r = op_begin(s, what, err);
	if (r) {
		json_decref(cur);
		json_decref(pending);
		return r;
	}
	/* Published means reviewed: once readers see an article, its content
	 * changes only through a version in review (revise). */
	if (!strcmp(ca_json_str(cur, "state"), "published") && (pending || changes_content(changes, cur)))
		r = revise(s, cur, pending, changes, label, at, &rest, err);
	else
		rest = json_incref((json_t *)changes);
	changes = rest;
	const char *state = ca_json_str(changes, "state") ? ca_json_str(changes, "state") : ca_json_str(cur, "state");
	const char *compliance = ca_json_str(changes, "compliance") ? ca_json_str(changes, "compliance")
								     : ca_json_str(cur, "compliance");
	if ((!r && ca_json_str(changes, "audience") &&
	     !one_of(ca_json_str(changes, "audience"), art_audiences, CA_ARRAY_SIZE(art_audiences))))
		r = ca_err_set(err, CA_EINVAL, "state", "%s: unknown state, compliance or audience", label);
	if (!r)
		r = publish_rule(state, compliance, label, err);
	json_t *rating = json_object_get(changes, "rating");
	if (!r && rating && (!json_is_integer(rating) || json_integer_value(rating) < 1 || json_integer_value(rating) > 5))
		r = ca_err_set(err, CA_EINVAL, "rating", "%s: a rating is a whole number from 1 to 5", label);
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(text_cols); i++) {
		const char *val = ca_json_str(changes, text_cols[i]);
		if (!val)
			continue;
		ca_buf sql = { 0 };
		/* the column name comes from the fixed list above, never from input */
		if (ca_buf_printf(&sql, "UPDATE knowledge_article SET %s = ?, updated_at = ? WHERE id = ?", text_cols[i]) < 0)
			r = enomem(err, what);
		ca_sql_param p[] = { ca_sql_text(val), ca_sql_text(at), ca_sql_int(id) };
		if (!r)
			r = db_exec(s, what, sql.data, p, 3, err);
		ca_buf_done(&sql);
	}
	if (!r && json_object_get(changes, "keywords")) {
		char *text = NULL;
		r = json_text_or_null(json_object_get(changes, "keywords"), &text) ? enomem(err, what) : 0;
		ca_sql_param p[] = { ca_sql_text(text), ca_sql_int(id) };
		if (!r)
			r = db_exec(s, what, "UPDATE knowledge_article SET keywords = ? WHERE id = ?", p, 2, err);
		free(text);
	}
	if (!r && ca_json_str(changes, "state") && !strcmp(state, "published")) {
		ca_sql_param p[] = { ca_sql_text(at), ca_sql_int(id) };
		r = db_exec(s, what, "UPDATE knowledge_article SET published_at = ? WHERE id = ?", p, 2, err);
	}
	if (!r && json_is_true(json_object_get(changes, "bump_minor"))) {
		ca_sql_param p[] = { ca_sql_int(id) };
		r = db_exec(s, what, "UPDATE knowledge_article SET version_minor = version_minor + 1 WHERE id = ?", p, 1, err);
	}
	if (!r && rating) {
		ca_sql_param p[] = { ca_sql_int(json_integer_value(rating)), ca_sql_int(id) };
		r = db_exec(s, what,
			    "UPDATE knowledge_article SET rating_sum = rating_sum + ?, rating_count = rating_count + 1 WHERE id = ?",
			    p, 2, err);
	}
	/* Should the checks above ever miss a path, the schema's CHECK refuses
	 * the write and nothing of this call remains. */
	if (r == CA_EDB && strstr(err ? err->message : "", "CHECK")) {
		ca_err_clear(err);
		r = publish_rule("published", "pending", label, err);
	}
	json_decref(cur);
	json_decref(pending);
	json_decref(rest);
	return op_end(s, r, what, err);
}

int ca_store_article_link(ca_store *s, int64_t article_id, const char *record_type, const char *record_id,
			  const char *relation, double similarity, ca_err *err)
{
	char at[21];
	ca_time_iso(ca_time_now(), at);
	ca_sql_param d[] = { ca_sql_int(article_id), ca_sql_text(record_type), ca_sql_text(record_id) };
	int r = op_begin(s, "article link", err);
	if (!r)
		r = db_exec(s, "article link",
			    "DELETE FROM article_source WHERE article_id = ? AND record_type = ? AND record_id = ?", d, 3, err);
	ca_sql_param p[] = { ca_sql_int(article_id), ca_sql_text(record_type), ca_sql_text(record_id), ca_sql_text(relation),
			     ca_sql_real(similarity), ca_sql_text(at) };
	if (!r)
		r = db_exec(s, "article link",
			    "INSERT INTO article_source (article_id, record_type, record_id, relation, similarity, at) "
			    "VALUES (?, ?, ?, ?, ?, ?)",
			    p, 6, err);
	return op_end(s, r, "article link", err);
}

int fts_query(const char *const *words, size_t n, const char *joiner, ca_buf *q)
{
	for (size_t i = 0; i < n && i < 64; i++) {
		if (!words[i] || !words[i][0])
			continue;
		if (q->len)
			ca_buf_puts(q, joiner);
		ca_buf_puts(q, "\"");
		for (const char *c = words[i]; *c; c++) {
			ca_buf_append(q, c, 1);
			if (*c == '"') /* a quote inside a string is doubled */
				ca_buf_append(q, c, 1);
		}
		ca_buf_puts(q, "\"");
	}
	return q->len && !q->data ? CA_ENOMEM : 0;
}

bool has_fts(const ca_store *s)
{
	return !strcmp(s->drv->name, "sqlite");
}

int fts_note_case(ca_store *s, int64_t case_id, ca_err *err)
{
	if (!has_fts(s))
		return 0;
	for (size_t i = 0; i < s->fts_n; i++)
		if (s->fts_dirty[i] == case_id)
			return 0;
	if (s->fts_n == s->fts_cap) {
		size_t cap = s->fts_cap ? s->fts_cap * 2 : 8;
		int64_t *v = realloc(s->fts_dirty, cap * sizeof(*v));
		if (!v)
			return enomem(err, "case search");
		s->fts_dirty = v;
		s->fts_cap = cap;
	}
	s->fts_dirty[s->fts_n++] = case_id;
	return 0;
}

int fts_flush(ca_store *s, ca_err *err)
{
	int r = 0;
	for (size_t i = 0; !r && i < s->fts_n; i++) {
		ca_sql_param p[] = { ca_sql_int(s->fts_dirty[i]) };
		r = db_exec(s, "case search", "DELETE FROM case_record_fts WHERE rowid = ?", p, 1, err);
		if (!r)
			r = db_exec(s, "case search",
				    "INSERT INTO case_record_fts (rowid, title, body) SELECT id, COALESCE(title, ''), "
				    "COALESCE(description, '') || ' ' || ticket_number FROM case_record WHERE id = ?",
				    p, 1, err);
	}
	s->fts_n = 0;
	return r;
}

int fts_ready(ca_store *s, const char *what, ca_err *err)
{
	return has_fts(s) ? 0
			  : ca_err_set(err, CA_EUNSUPPORTED, NULL, "%s: the %s driver has no full-text search yet", what,
				       s->drv->name);
}

int ca_store_article_search(ca_store *s, const char *const *words, size_t n, bool published_only,
			    const char *audience, size_t limit, json_t **ret, ca_err *err)
{
	const char *what = "knowledge search";
	*ret = NULL;
	ca_buf q = { 0 };
	int r = fts_ready(s, what, err);
	if (!r && fts_query(words, n, " OR ", &q))
		r = enomem(err, what);
	if (!r && !q.len)
		r = (*ret = json_array()) ? 0 : enomem(err, what);
	if (r || *ret) {
		ca_buf_done(&q);
		return r;
	}
	ca_buf sql = { 0 };
	ca_buf_printf(&sql,
		      "SELECT a.id AS id, a.number AS number, a.title AS title, a.audience AS audience, "
		      "-bm25(knowledge_article_fts, 2.0, 1.0) AS score FROM knowledge_article_fts f "
		      "JOIN knowledge_article a ON a.id = f.rowid WHERE knowledge_article_fts MATCH ? AND %s%s "
		      "ORDER BY bm25(knowledge_article_fts, 2.0, 1.0), a.id LIMIT ?",
		      published_only ? "a.state = 'published'" : "a.state IN ('draft', 'in_review', 'published')",
		      audience ? " AND a.audience = ?" : "");
	ca_sql_param p[3];
	size_t np = 0;
	p[np++] = ca_sql_text(q.data);
	if (audience)
		p[np++] = ca_sql_text(audience);
	p[np++] = ca_sql_int(limit ? (int64_t)limit : -1);
	r = sql.data ? db_rows(s, what, sql.data, p, np, ret, err) : enomem(err, what);
	ca_buf_done(&sql);
	ca_buf_done(&q);
	return r;
}

int ca_store_article_candidates(ca_store *s, const char *const *words, size_t n, size_t limit, int64_t **ret_ids,
				size_t *ret_n, ca_err *err)
{
	const char *what = "knowledge candidates";
	*ret_ids = NULL;
	*ret_n = 0;
	ca_buf q = { 0 };
	int r = fts_ready(s, what, err);
	if (!r && fts_query(words, n, " OR ", &q))
		r = enomem(err, what);
	if (r || !q.len) {
		ca_buf_done(&q);
		return r;
	}
	/* Every match when there are at most `limit` (the BM25 order would
	 * keep them all anyway, and ranking costs more than matching); else
	 * the `limit` best by BM25. */
	ids_ctx c = { 0 };
	ca_sql_param p[] = { ca_sql_text(q.data), ca_sql_int((int64_t)limit + 1) };
	r = db_query(s, what, "SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH ? LIMIT ?", p, 2,
		     take_id, &c, err);
	if (!r && !c.rc && c.n > limit) {
		c.n = 0;
		p[1] = ca_sql_int((int64_t)limit);
		r = db_query(s, what,
			     "SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH ? "
			     "ORDER BY bm25(knowledge_article_fts, 2.0, 1.0), rowid LIMIT ?",
			     p, 2, take_id, &c, err);
	}
	ca_buf_done(&q);
	if (!r && c.rc)
		r = c.rc == CA_ENOMEM ? enomem(err, what) : ca_err_set(err, CA_EDB, NULL, "%s: a rowid is not a number", what);
	if (r) {
		free(c.v);
		return r;
	}
	*ret_ids = c.v;
	*ret_n = c.n;
	return 0;
}

int ca_store_article_index_tidy(ca_store *s, int pages, ca_err *err)
{
	if (!has_fts(s) || pages <= 0)
		return 0;
	ca_sql_param p[] = { ca_sql_int(-(int64_t)pages) };
	return db_exec(s, "tidying the full-text index",
		       "INSERT INTO knowledge_article_fts (knowledge_article_fts, rank) VALUES ('merge', ?)", p, 1, err);
}

int ca_store_article_of_record(ca_store *s, const char *record_type, const char *record_id, bool *found,
			       int64_t *ret_article, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(record_type), ca_sql_text(record_id) };
	return case_of(s, "article link",
		       "SELECT article_id FROM article_source WHERE record_type = ? AND record_id = ? ORDER BY at LIMIT 1", p,
		       2, found, ret_article, err);
}

int ca_store_notification_add(ca_store *s, const char *recipient, const char *kind, int64_t article_id,
			      int64_t case_id, const char *message, ca_err *err)
{
	char at[21];
	ca_time_iso(ca_time_now(), at);
	int64_t id = 0;
	int r = op_begin(s, "notification", err);
	if (!r)
		r = next_id(s, "notification", "notification", &id, err);
	ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(recipient ? recipient : "unassigned"), ca_sql_text(kind),
			     article_id > 0 ? ca_sql_int(article_id) : ca_sql_null(),
			     case_id > 0 ? ca_sql_int(case_id) : ca_sql_null(), ca_sql_text(message), ca_sql_text(at) };
	if (!r)
		r = db_exec(s, "notification",
			    "INSERT INTO notification (id, recipient, kind, article_id, case_id, message, created_at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	if (!r)
		r = ev_plain(s, "notification.created", case_id, recipient ? recipient : "unassigned", "work",
			     json_pack("{s:I, s:s}", "notification", (json_int_t)id, "kind", kind), err);
	return op_end(s, r, "notification", err);
}

int ca_store_notification_list(ca_store *s, const char *recipient, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(recipient) };
	return recipient ? db_rows(s, "notifications",
				   "SELECT n.id, n.recipient, n.kind, a.number AS article, c.ticket_number AS \"case\", n.message, "
				   "n.created_at, n.read_at FROM notification n LEFT JOIN knowledge_article a ON a.id = n.article_id "
				   "LEFT JOIN case_record c ON c.id = n.case_id WHERE n.recipient = ? ORDER BY n.id DESC",
				   p, 1, ret, err)
			 : db_rows(s, "notifications",
				   "SELECT n.id, n.recipient, n.kind, a.number AS article, c.ticket_number AS \"case\", n.message, "
				   "n.created_at, n.read_at FROM notification n LEFT JOIN knowledge_article a ON a.id = n.article_id "
				   "LEFT JOIN case_record c ON c.id = n.case_id ORDER BY n.id DESC",
				   NULL, 0, ret, err);
}
