/* SPDX-License-Identifier: MIT */
/*
 * Settings: the administrator's configuration of the case agent
 * (docs/settings.md), validated as a whole so a typo never reaches
 * production: unknown keys, undefined fields, bad rules and bad regexes are
 * rejected with the key's path. Stored in the database as canonical JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "text.h"

static const char *const top_keys[] = {
	"version", "channels", "fields", "default_fields", "update_rules",
	"summary_note_on_close", "record_agent_experience", "email", "arc_rules", "knowledge", "followup",
};

ca_settings *ca_settings_ref(ca_settings *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void ca_settings_free(ca_settings *s)
{
	/* The last reference frees; acquire-release so every thread's reads
	 * of the snapshot happen before it is torn down. */
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < s->n_fields; i++)
		ca_field_def_done(&s->fields[i]);
	free(s->fields);
	free(s->defaults);
	for (size_t i = 0; i < s->n_rules; i++) {
		free(s->rules[i].name);
		ca_rule_free(s->rules[i].condition);
		free(s->rules[i].predict);
	}
	free(s->rules);
	ca_strv_done(&s->email.mailboxes);
	ca_strv_done(&s->email.own_addresses);
	free(s->email.token_prefix);
	free(s->email.token_suffix);
	free(s->email.reply_from);
	free(s->email.reply_from_key);
	free(s->email.reply_subject);
	free(s->email.reply_body);
	free(s->email.spam.service.address);
	struct ca_mail_account *acc[] = { &s->email.imap, &s->email.smtp };
	for (size_t i = 0; i < CA_ARRAY_SIZE(acc); i++) {
		free(acc[i]->url);
		free(acc[i]->user);
		free(acc[i]->password_file);
		free(acc[i]->mailbox);
	}
	for (size_t i = 0; i < s->n_arc; i++) {
		free(s->arc[i].name);
		ca_rule_free(s->arc[i].condition);
		json_decref(s->arc[i].fields);
	}
	free(s->arc);
	for (size_t i = 0; i < s->knowledge.n_rules; i++) {
		ca_rule_free(s->knowledge.rules[i]);
		free(s->knowledge.rule_names[i]);
		json_decref(s->knowledge.rule_templates[i]);
	}
	free(s->knowledge.rules);
	free(s->knowledge.rule_names);
	free(s->knowledge.rule_templates);
	for (size_t i = 0; i < CA_ARRAY_SIZE(s->knowledge.attr); i++)
		free(s->knowledge.attr[i].field);
	free(s->knowledge.default_compliance);
	free(s->knowledge.audience);
	ca_followup_settings *fs = &s->followup;
	for (size_t i = 0; i < fs->n_rules; i++) {
		ca_followup_rule *fr = &fs->rules[i];
		free(fr->name);
		ca_rule_free(fr->condition);
		free(fr->status_reason);
		free(fr->reply_context);
		for (size_t t = 0; t < fr->n_templates; t++) {
			free(fr->templates[t].subject);
			free(fr->templates[t].body);
		}
		free(fr->templates);
	}
	free(fs->rules);
	for (size_t t = 0; t < fs->n_templates; t++) {
		free(fs->templates[t].subject);
		free(fs->templates[t].body);
	}
	free(fs->templates);
	json_decref(s->json);
	free(s);
}

int ca_settings_field(const ca_settings *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_fields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int check_top_keys(const json_t *j, ca_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v) {
		bool ok = false;
		for (size_t i = 0; i < CA_ARRAY_SIZE(top_keys) && !ok; i++)
			ok = strcmp(k, top_keys[i]) == 0;
		if (!ok)
			return ca_err_set(err, CA_EINVAL, k,
					  "settings: unknown key '%s' (known: version, channels, fields, default_fields, "
					  "update_rules, summary_note_on_close, record_agent_experience, email, arc_rules, knowledge, followup)", k);
	}
	return 0;
}

static int get_bool(const json_t *j, const char *key, bool dflt, bool *out, ca_err *err)
{
	json_t *v = json_object_get(j, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return ca_err_set(err, CA_EINVAL, key, "settings: %s must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* A list of field names -> indexes, each defined. */
static int field_list(const ca_settings *s, const json_t *arr, const char *path, size_t **ret, size_t *ret_n,
		      ca_err *err)
{
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return ca_err_set(err, CA_EINVAL, path, "settings: %s must be a non-empty array of field names", path);
	size_t *v = calloc(json_array_size(arr), sizeof(size_t));
	if (!v)
		return CA_ENOMEM;
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(arr, i, e) {
		char where[160];
		snprintf(where, sizeof(where), "%s[%zu]", path, i);
		int fi = ca_settings_field(s, json_string_value(e));
		if (fi < 0) {
			free(v);
			return ca_err_set(err, CA_EINVAL, where, "settings: %s names field '%s', which is not defined in \"fields\"",
					  where, json_is_string(e) ? json_string_value(e) : "(not a string)");
		}
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= v[k] == (size_t)fi;
		if (!dup)
			v[n++] = (size_t)fi;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

const char *ca_json_unknown_key(const json_t *o, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		bool ok = false;
		for (size_t i = 0; i < n && !ok; i++)
			ok = !strcmp(k, keys[i]);
		if (!ok)
			return k;
	}
	return NULL;
}

/* Keys of an object must be among `keys`; the error names the first other. */
static int only_keys(const json_t *o, const char *path, const char *const *keys, size_t n, ca_err *err)
{
	const char *k = ca_json_unknown_key(o, keys, n);
	if (!k)
		return 0;
	char where[160];
	if (snprintf(where, sizeof(where), "%s.%s", path, k) < 0) /* a long key is cut, as err->where would be */
		where[0] = '\0';
	return ca_err_set(err, CA_EINVAL, where, "settings: unknown key '%s' in %s", k, path);
}

static int parse_rules(ca_settings *s, const json_t *arr, ca_err *err)
{
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return ca_err_set(err, CA_EINVAL, "update_rules", "settings: update_rules must be an array");
	s->rules = calloc(json_array_size(arr) + 1, sizeof(*s->rules));
	if (!s->rules)
		return CA_ENOMEM;
	size_t i;
	json_t *r;
	json_array_foreach(arr, i, r) {
		char path[96], where[160];
		snprintf(path, sizeof(path), "update_rules[%zu]", i);
		ca_update_rule *u = &s->rules[s->n_rules];
		if (!json_is_object(r))
			return ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object", path);
		static const char *const rule_keys[] = { "name", "condition", "predict" };
		int rk = only_keys(r, path, rule_keys, CA_ARRAY_SIZE(rule_keys), err);
		if (rk)
			return rk;
		const char *name = ca_json_str(r, "name");
		u->name = name ? strdup(name) : strdup(path);
		if (!u->name)
			return CA_ENOMEM;
		s->n_rules++;
		snprintf(where, sizeof(where), "%s.condition", path);
		int rc = ca_rule_compile(json_object_get(r, "condition"), where, &u->condition, err);
		if (rc)
			return rc;
		ca_strv used = { 0 };
		rc = ca_rule_fields(u->condition, &used);
		for (size_t q = 0; !rc && q < used.n; q++)
			if (ca_settings_field(s, used.v[q]) < 0 && !ca_case_is_standard_field(used.v[q]))
				rc = ca_err_set(err, CA_EINVAL, where, "settings: %s reads field '%s', which is neither defined nor a standard case field",
						where, used.v[q]);
		ca_strv_done(&used);
		if (rc)
			return rc;
		snprintf(where, sizeof(where), "%s.predict", path);
		rc = field_list(s, json_object_get(r, "predict"), where, &u->predict, &u->n_predict, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int get_str(const json_t *o, const char *path, const char *key, const char *dflt, char **out, ca_err *err)
{
	json_t *v = json_object_get(o, key);
	if (v && !json_is_string(v)) {
		char where[160];
		snprintf(where, sizeof(where), "%s.%s", path, key);
		return ca_err_set(err, CA_EINVAL, where, "settings: %s must be a string", where);
	}
	const char *s = v ? json_string_value(v) : dflt;
	if (s && !(*out = strdup(s)))
		return CA_ENOMEM;
	return 0;
}

static int get_uint(const json_t *o, const char *path, const char *key, unsigned dflt, unsigned *out, ca_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000) {
		char where[160];
		snprintf(where, sizeof(where), "%s.%s", path, key);
		return ca_err_set(err, CA_EINVAL, where, "settings: %s must be a whole number from 0 to 1000000", where);
	}
	*out = (unsigned)json_integer_value(v);
	return 0;
}

/* A list of e-mail addresses, stored in their normalised form. */
static int get_addresses(const json_t *o, const char *path, const char *key, ca_strv *out, ca_err *err)
{
	json_t *arr = json_object_get(o, key);
	char where[160];
	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return ca_err_set(err, CA_EINVAL, where, "settings: %s must be an array of e-mail addresses", where);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *a = json_string_value(v);
		if (!a || !strchr(a, '@'))
			return ca_err_set(err, CA_EINVAL, where, "settings: %s[%zu] is not an e-mail address", where, i);
		/* The one normalised form, as the parser gives senders. */
		char *low = NULL;
		int r = ca_email_addr_key(a, &low);
		if (r == CA_ENOMEM)
			return r;
		if (r)
			return ca_err_set(err, CA_EINVAL, where, "settings: %s[%zu] is not an e-mail address (%s)", where, i,
					  r == CA_EUTF8 ? "not UTF-8" : "one local@domain, no CR or LF");
		r = ca_strv_push(out, low);
		free(low);
		if (r)
			return r;
	}
	return 0;
}

/* A value that goes into a header line (From, Subject): CR or LF there
 * would start a header of the sender's choosing (RFC 5322 §2.2). */
static int header_safe(const char *v, const char *where, ca_err *err)
{
	if (v && strpbrk(v, "\r\n"))
		return ca_err_set(err, CA_EINVAL, where,
				  "settings: %s holds a line break (CR or LF); a header value is one line", where);
	return 0;
}

/* Every {name} of a template must be one its expansion knows (`known`,
 * or `prefix` followed by a name): a typo would otherwise go out to
 * customers as written. Braces around anything that is not a name ("{ }",
 * JSON) are text. `hint` lists the known ones for the message. */
static int placeholders_check(const char *tpl, const char *where, const char *const *known, size_t n_known,
			      const char *prefix, const char *hint, ca_err *err)
{
	size_t np = strlen(prefix);
	for (const char *o = tpl ? strchr(tpl, '{') : NULL; o; o = strchr(o + 1, '{')) {
		const char *q = o + 1;
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_'))
			continue;
		while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_' ||
		       *q == ':' || *q == '-' || *q == '.')
			q++;
		if (*q != '}')
			continue;
		size_t n = (size_t)(q - o - 1);
		bool ok = n > np && !strncmp(o + 1, prefix, np);
		for (size_t i = 0; !ok && i < n_known; i++)
			ok = strlen(known[i]) == n && !strncmp(o + 1, known[i], n);
		if (!ok)
			return ca_err_set(err, CA_EINVAL, where, "settings: %s: unknown placeholder {%.*s} (known: %s)", where,
					  (int)n, o + 1, hint);
	}
	return 0;
}

/* The automatic response's placeholders (casemgmt/email.c, expand). */
static int placeholders_known(const char *tpl, const char *where, ca_err *err)
{
	static const char *const known[] = { "subject", "body", "from", "from_name", "ticket", "token", "mailbox" };
	return placeholders_check(tpl, where, known, CA_ARRAY_SIZE(known), "header:",
				  "{ticket}, {token}, {subject}, {body}, {from}, {from_name}, {mailbox}, {header:Name}", err);
}

static const char *const email_keys[] = {
	"mailboxes", "own_addresses", "case_token", "subject_threading", "subject_threading_days",
	"max_per_sender_per_hour", "max_message_bytes", "auto_response", "spam",
	"imap", "smtp", "poll_interval_s", "send_interval_s",
};

/*
 * "email.imap" / "email.smtp": a server for serve's background work. The
 * URL's scheme is the protocol's (imap/imaps, smtp/smtps) and it carries no
 * password; the password comes from password_file (an absolute path, since
 * serve's working directory is not the operator's), read at each run.
 */
static int parse_account(const json_t *o, const char *path, bool imap, struct ca_mail_account *acc, ca_err *err)
{
	if (!o)
		return 0;
	static const char *const imap_keys[] = { "url", "user", "password_file", "mailbox", "allow_plaintext" };
	static const char *const smtp_keys[] = { "url", "user", "password_file", "allow_plaintext" };
	char where[64];
	int r = json_is_object(o) ? only_keys(o, path, imap ? imap_keys : smtp_keys,
					      imap ? CA_ARRAY_SIZE(imap_keys) : CA_ARRAY_SIZE(smtp_keys), err)
				  : ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object", path);
	if (!r)
		r = get_str(o, path, "url", NULL, &acc->url, err);
	if (!r)
		r = get_str(o, path, "user", NULL, &acc->user, err);
	if (!r)
		r = get_str(o, path, "password_file", NULL, &acc->password_file, err);
	if (!r && imap)
		r = get_str(o, path, "mailbox", NULL, &acc->mailbox, err);
	const char *scheme = imap ? "imap" : "smtp";
	size_t sl = strlen(scheme);
	snprintf(where, sizeof(where), "%s.url", path);
	if (!r && (!acc->url || strncmp(acc->url, scheme, sl) ||
		   (strncmp(acc->url + sl, "://", 3) && strncmp(acc->url + sl, "s://", 4))))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be %s://HOST[:PORT]%s or %ss://...", where, scheme,
			       imap ? "/MAILBOX" : "", scheme);
	if (!r) {
		/* user:password@ in the authority: the password belongs in a file. */
		const char *auth = strstr(acc->url, "://") + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', alen);
		if (at && memchr(auth, ':', (size_t)(at - auth)))
			r = ca_err_set(err, CA_EINVAL, where,
				       "settings: %s carries a password; put it in the file password_file names", where);
	}
	if (!r)
		r = header_safe(acc->url, where, err);
	snprintf(where, sizeof(where), "%s.password_file", path);
	if (!r && acc->password_file && acc->password_file[0] != '/')
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be an absolute path", where);
	snprintf(where, sizeof(where), "%s.allow_plaintext", path);
	json_t *pt = json_object_get(o, "allow_plaintext");
	if (!r && pt && !json_is_boolean(pt))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be true or false", where);
	acc->allow_plaintext = json_is_true(pt);
	return r;
}

/* The background work's servers and intervals; an interval needs its server. */
static int parse_email_work(ca_email_settings *es, const json_t *e, ca_err *err)
{
	int r = parse_account(json_object_get(e, "imap"), "email.imap", true, &es->imap, err);
	if (!r)
		r = parse_account(json_object_get(e, "smtp"), "email.smtp", false, &es->smtp, err);
	if (!r)
		r = get_uint(e, "email", "poll_interval_s", 0, &es->poll_interval_s, err);
	if (!r)
		r = get_uint(e, "email", "send_interval_s", 0, &es->send_interval_s, err);
	if (!r && es->poll_interval_s && !es->imap.url)
		r = ca_err_set(err, CA_EINVAL, "email.poll_interval_s",
			       "settings: email.poll_interval_s is set but email.imap names no server to poll");
	if (!r && es->send_interval_s && !es->smtp.url)
		r = ca_err_set(err, CA_EINVAL, "email.send_interval_s",
			       "settings: email.send_interval_s is set but email.smtp names no server to send through");
	return r;
}

/* "email.spam": the verdicts in headers, and the filter to ask. */
static int parse_spam(ca_email_settings *es, const json_t *sp, ca_err *err)
{
	static const char *const keys[] = { "headers", "spamd", "rspamd", "timeout_ms", "max_bytes", "threshold",
					    "on_failure", "respond_below" };
	es->spam.headers = true;
	es->spam.service.timeout_ms = 10000;
	es->spam.service.max_bytes = 512000;
	if (!sp)
		return 0;
	int r = json_is_object(sp) ? only_keys(sp, "email.spam", keys, CA_ARRAY_SIZE(keys), err)
				   : ca_err_set(err, CA_EINVAL, "email.spam", "settings: email.spam must be an object");
	const json_t *h = json_object_get(sp, "headers");
	if (!r && h && !json_is_boolean(h))
		r = ca_err_set(err, CA_EINVAL, "email.spam.headers", "settings: email.spam.headers must be true or false");
	if (!r && h)
		es->spam.headers = json_is_true(h);
	char *spamd = NULL, *rspamd = NULL;
	if (!r)
		r = get_str(sp, "email.spam", "spamd", NULL, &spamd, err);
	if (!r)
		r = get_str(sp, "email.spam", "rspamd", NULL, &rspamd, err);
	if (!r && spamd && rspamd)
		r = ca_err_set(err, CA_EINVAL, "email.spam", "settings: email.spam names both spamd and rspamd; use one");
	if (!r && spamd) {
		const char *colon = strrchr(spamd, ':');
		int64_t port = 0;
		bool path = spamd[0] == '/';
		if (!path && (!colon || colon == spamd || ca_parse_i64(colon + 1, &port) < 0 || port < 1 || port > 65535))
			r = ca_err_set(err, CA_EINVAL, "email.spam.spamd",
				       "settings: email.spam.spamd must be HOST:PORT (e.g. \"127.0.0.1:783\") or the absolute path of its Unix socket");
		else if (path && strlen(spamd) >= 108)
			r = ca_err_set(err, CA_EINVAL, "email.spam.spamd", "settings: email.spam.spamd: the socket path is too long");
		es->spam.service.kind = CA_SPAM_SERVICE_SPAMD;
	}
	if (!r && rspamd) {
		if (strncmp(rspamd, "http://", 7) && strncmp(rspamd, "https://", 8))
			r = ca_err_set(err, CA_EINVAL, "email.spam.rspamd",
				       "settings: email.spam.rspamd must be the URL of rspamd's normal worker (e.g. \"http://127.0.0.1:11333\")");
		es->spam.service.kind = CA_SPAM_SERVICE_RSPAMD;
	}
	if (!r) {
		es->spam.service.address = spamd ? spamd : rspamd;
		spamd = rspamd = NULL;
	}
	free(spamd);
	free(rspamd);
	unsigned u = 0;
	if (!r && !(r = get_uint(sp, "email.spam", "timeout_ms", 10000, &u, err))) {
		if (u < 100 || u > 600000)
			r = ca_err_set(err, CA_EINVAL, "email.spam.timeout_ms",
				       "settings: email.spam.timeout_ms must be from 100 to 600000 (milliseconds)");
		es->spam.service.timeout_ms = u;
	}
	const json_t *mb = json_object_get(sp, "max_bytes");
	if (!r && mb) {
		if (!json_is_integer(mb) || json_integer_value(mb) < 1024 || json_integer_value(mb) > ((json_int_t)50 << 20))
			r = ca_err_set(err, CA_EINVAL, "email.spam.max_bytes",
				       "settings: email.spam.max_bytes must be a whole number of bytes from 1024 to 52428800");
		else
			es->spam.service.max_bytes = (size_t)json_integer_value(mb);
	}
	const json_t *th = json_object_get(sp, "threshold");
	if (!r && th) {
		if (!json_is_number(th) || json_number_value(th) <= 0 || json_number_value(th) > 1000)
			r = ca_err_set(err, CA_EINVAL, "email.spam.threshold",
				       "settings: email.spam.threshold must be a score above 0 (the filter's own is used without it)");
		else
			es->spam.service.threshold = json_number_value(th);
	}
	const json_t *rb = json_object_get(sp, "respond_below");
	if (!r && rb) {
		if (json_is_null(rb))
			es->spam.respond_below = -1;
		else if (!json_is_number(rb) || json_number_value(rb) <= 0 || json_number_value(rb) > 1000)
			r = ca_err_set(err, CA_EINVAL, "email.spam.respond_below",
				       "settings: email.spam.respond_below must be a score above 0, or null to answer whatever the score");
		else
			es->spam.respond_below = json_number_value(rb);
	}
	const json_t *of = json_object_get(sp, "on_failure");
	if (!r && of) {
		const char *v = json_string_value(of);
		if (!v || (strcmp(v, "process") && strcmp(v, "hold")))
			r = ca_err_set(err, CA_EINVAL, "email.spam.on_failure",
				       "settings: email.spam.on_failure must be \"process\" or \"hold\"");
		else
			es->spam.hold_on_failure = !strcmp(v, "hold");
	}
	if (!r && (th || of || rb || json_object_get(sp, "timeout_ms") || mb) && es->spam.service.kind == CA_SPAM_SERVICE_NONE)
		r = ca_err_set(err, CA_EINVAL, "email.spam",
			       "settings: email.spam sets a filter's options but names no filter (spamd or rspamd)");
	return r;
}

static int parse_email(ca_settings *s, const json_t *e, ca_err *err)
{
	ca_email_settings *es = &s->email;
	const json_t *empty = json_object();
	if (!e)
		e = empty;
	int r = json_is_object(e) ? only_keys(e, "email", email_keys, CA_ARRAY_SIZE(email_keys), err)
				  : ca_err_set(err, CA_EINVAL, "email", "settings: email must be an object");
	if (!r)
		r = get_addresses(e, "email", "mailboxes", &es->mailboxes, err);
	if (!r)
		r = get_addresses(e, "email", "own_addresses", &es->own_addresses, err);
	char *token = NULL;
	if (!r)
		r = get_str(e, "email", "case_token", "[{ticket}]", &token, err);
	if (!r)
		r = header_safe(token, "email.case_token", err);
	if (!r) {
		const char *at = token ? strstr(token, "{ticket}") : NULL;
		if (!at || strstr(at + 1, "{ticket}") || at == token)
			r = ca_err_set(err, CA_EINVAL, "email.case_token",
				       "settings: email.case_token must contain {ticket} once, after a prefix such as '[' (e.g. \"[{ticket}]\")");
		else if (!(es->token_prefix = strndup(token, (size_t)(at - token))) || !(es->token_suffix = strdup(at + 8)))
			r = CA_ENOMEM;
	}
	free(token);
	json_t *st = json_object_get(e, "subject_threading");
	if (!r && st && !json_is_boolean(st))
		r = ca_err_set(err, CA_EINVAL, "email.subject_threading", "settings: email.subject_threading must be true or false");
	es->subject_threading = json_is_true(st);
	if (!r)
		r = get_uint(e, "email", "subject_threading_days", 7, &es->subject_threading_days, err);
	if (!r)
		r = get_uint(e, "email", "max_per_sender_per_hour", 20, &es->max_per_sender_per_hour, err);
	es->max_message_bytes = (size_t)50 << 20;
	const json_t *mb = json_object_get(e, "max_message_bytes");
	if (!r && mb) {
		/* 1 KiB to 1 GiB: the headers must fit, and a prefix is kept anyway. */
		if (!json_is_integer(mb) || json_integer_value(mb) < 1024 || json_integer_value(mb) > ((json_int_t)1 << 30))
			r = ca_err_set(err, CA_EINVAL, "email.max_message_bytes",
				       "settings: email.max_message_bytes must be a whole number of bytes from 1024 to 1073741824");
		else
			es->max_message_bytes = (size_t)json_integer_value(mb);
	}
	if (!r)
		r = parse_spam(es, json_object_get(e, "spam"), err);
	if (!r)
		r = parse_email_work(es, e, err);
	const json_t *ar = json_object_get(e, "auto_response");
	static const char *const ar_keys[] = { "from", "subject", "body" };
	if (!r && ar) {
		r = json_is_object(ar) ? only_keys(ar, "email.auto_response", ar_keys, CA_ARRAY_SIZE(ar_keys), err)
				       : ca_err_set(err, CA_EINVAL, "email.auto_response", "settings: email.auto_response must be an object");
		if (!r)
			r = get_str(ar, "email.auto_response", "from", NULL, &es->reply_from, err);
		if (!r)
			r = get_str(ar, "email.auto_response", "subject", "{token} {subject}", &es->reply_subject, err);
		if (!r)
			r = get_str(ar, "email.auto_response", "body",
				    "We have received your message and opened case {ticket}. Reply to this e-mail to add to it.",
				    &es->reply_body, err);
		if (!r && (!es->reply_from || !strchr(es->reply_from, '@')))
			r = ca_err_set(err, CA_EINVAL, "email.auto_response.from",
				       "settings: email.auto_response.from must be the address responses are sent from");
		if (!r)
			r = header_safe(es->reply_from, "email.auto_response.from", err);
		if (!r) {
			/* "Name <a@b>" or "a@b": the address, normalised, is ours. */
			const char *lt = strrchr(es->reply_from, '<');
			const char *gt = lt ? strchr(lt, '>') : NULL;
			char *addr = lt && gt ? strndup(lt + 1, (size_t)(gt - lt - 1)) : strdup(es->reply_from);
			int kr = addr ? ca_email_addr_key(addr, &es->reply_from_key) : CA_ENOMEM;
			free(addr);
			if (kr == CA_ENOMEM)
				r = kr;
			else if (kr)
				r = ca_err_set(err, CA_EINVAL, "email.auto_response.from",
					       "settings: email.auto_response.from must be an address (\"a@b.example\" or "
					       "\"Name <a@b.example>\")");
		}
		if (!r)
			r = header_safe(es->reply_subject, "email.auto_response.subject", err);
		if (!r)
			r = placeholders_known(es->reply_subject, "email.auto_response.subject", err);
		if (!r)
			r = placeholders_known(es->reply_body, "email.auto_response.body", err);
	}
	json_decref((json_t *)empty);
	return r;
}

/* Field names an ARC rule condition may read: the e-mail's, or header.NAME. */
static bool arc_field_ok(const char *f)
{
	static const char *const names[] = { "from", "from_name", "to", "cc", "subject", "body", "has_attachments",
					     "sender_known", "mailbox" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(names); i++)
		if (!strcmp(f, names[i]))
			return true;
	return strncmp(f, "header.", 7) == 0 && f[7];
}

static const char *const arc_keys[] = {
	"name", "condition", "fields", "accept_unknown_senders", "resolved_window_hours", "auto_response",
};

static int parse_arc(ca_settings *s, const json_t *arr, ca_err *err)
{
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return ca_err_set(err, CA_EINVAL, "arc_rules", "settings: arc_rules must be an array");
	s->arc = calloc(json_array_size(arr) + 1, sizeof(*s->arc));
	if (!s->arc)
		return CA_ENOMEM;
	size_t i;
	json_t *j;
	json_array_foreach(arr, i, j) {
		char path[64], where[160];
		snprintf(path, sizeof(path), "arc_rules[%zu]", i);
		ca_arc_rule *a = &s->arc[s->n_arc];
		if (!json_is_object(j))
			return ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object", path);
		int r = only_keys(j, path, arc_keys, CA_ARRAY_SIZE(arc_keys), err);
		if (!r)
			r = get_str(j, path, "name", path, &a->name, err);
		s->n_arc++;
		if (r)
			return r;
		snprintf(where, sizeof(where), "%s.condition", path);
		const json_t *cond = json_object_get(j, "condition");
		/* No condition: the rule takes every e-mail that reaches it. */
		json_t *all = cond ? NULL : json_pack("{s:s, s:[{s:s, s:s}]}", "match", "all", "conditions", "field", "from",
						      "operator", "is_not_empty");
		r = ca_rule_compile(cond ? cond : all, where, &a->condition, err);
		json_decref(all);
		if (r)
			return r;
		ca_strv used = { 0 };
		r = ca_rule_fields(a->condition, &used);
		for (size_t q = 0; !r && q < used.n; q++)
			if (!arc_field_ok(used.v[q]))
				r = ca_err_set(err, CA_EINVAL, where,
					       "settings: %s reads '%s'; an ARC rule reads from, from_name, to, cc, subject, body, "
					       "has_attachments, sender_known, mailbox or header.NAME",
					       where, used.v[q]);
		ca_strv_done(&used);
		if (r)
			return r;
		const json_t *fields = json_object_get(j, "fields");
		snprintf(where, sizeof(where), "%s.fields", path);
		if (fields && !json_is_object(fields))
			return ca_err_set(err, CA_EINVAL, where, "settings: %s must map field names to values", where);
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)fields, k, v) {
			if (!json_is_string(v))
				return ca_err_set(err, CA_EINVAL, where, "settings: %s.%s must be a string (a value or a template)",
						  where, k);
			if (ca_settings_field(s, k) < 0 && !ca_case_is_standard_field(k))
				return ca_err_set(err, CA_EINVAL, where, "settings: %s sets '%s', which is neither defined nor a standard case field",
						  where, k);
			if (!strcmp(k, "ticket_number") || !strcmp(k, "status"))
				return ca_err_set(err, CA_EINVAL, where, "settings: %s cannot set %s", where, k);
		}
		a->fields = fields ? json_deep_copy(fields) : json_object();
		if (!a->fields)
			return CA_ENOMEM;
		bool unk = true, resp = false;
		r = get_bool(j, "accept_unknown_senders", true, &unk, err);
		if (!r)
			r = get_bool(j, "auto_response", false, &resp, err);
		if (!r)
			r = get_uint(j, path, "resolved_window_hours", 24, &a->resolved_window_hours, err);
		if (r)
			return r;
		a->accept_unknown_senders = unk;
		a->auto_response = resp;
		if (resp && !s->email.reply_from)
			return ca_err_set(err, CA_EINVAL, path, "settings: %s sends an automatic response but email.auto_response is not set",
					  path);
	}
	return 0;
}

static const char *const knowledge_keys[] = {
	"realtime_cases", "realtime_conversations", "rules", "default_compliance", "auto_publish", "audience",
	"coverage_threshold", "case_attributes",
};

const char *const ca_article_parts[] = { "issue", "cause", "resolution", "product", "subject", "keywords" };
const size_t ca_article_nparts = CA_ARRAY_SIZE(ca_article_parts);

/* The case attributes an administrator maps, and their default fields. */
static const char *const attr_keys[] = { "title", "description", "product", "subject", "notes" };

/* One case attribute: true | false | {"include": bool, "field": "name"}.
 * A field must be one the settings define, or the attribute's own name. */
static int parse_attribute(ca_settings *s, const json_t *v, size_t i, ca_err *err)
{
	ca_knowledge_settings *ks = &s->knowledge;
	char path[64];
	snprintf(path, sizeof(path), "knowledge.case_attributes.%s", attr_keys[i]);
	const char *field = attr_keys[i];
	ks->attr[i].include = true;
	if (json_is_boolean(v)) {
		ks->attr[i].include = json_is_true(v);
	} else if (json_is_object(v)) {
		static const char *const keys[] = { "include", "field" };
		int r = only_keys(v, path, keys, CA_ARRAY_SIZE(keys), err);
		json_t *inc = json_object_get(v, "include"), *f = json_object_get(v, "field");
		if (!r && inc && !json_is_boolean(inc))
			r = ca_err_set(err, CA_EINVAL, path, "settings: %s.include must be true or false", path);
		if (!r && f && (!json_is_string(f) || i == CA_KATTR_NOTES))
			r = ca_err_set(err, CA_EINVAL, path,
				       i == CA_KATTR_NOTES ? "settings: %s takes no field (every person's note feeds it)"
							   : "settings: %s.field must be a field name",
				       path);
		if (!r && f && strcmp(json_string_value(f), attr_keys[i]) && ca_settings_field(s, json_string_value(f)) < 0)
			r = ca_err_set(err, CA_EINVAL, path, "settings: %s.field '%s' is not a field the settings define", path,
				       json_string_value(f));
		if (r)
			return r;
		ks->attr[i].include = !inc || json_is_true(inc);
		if (f)
			field = json_string_value(f);
	} else if (v) {
		return ca_err_set(err, CA_EINVAL, path, "settings: %s must be true, false or {\"include\", \"field\"}", path);
	}
	if (i != CA_KATTR_NOTES && !(ks->attr[i].field = strdup(field)))
		return CA_ENOMEM;
	return 0;
}

/* An article template: {"name", "sections": [{"heading", "from"}]}, each
 * section showing one part of the article under its own heading. */
static int parse_template(const json_t *t, const char *path, json_t **ret, ca_err *err)
{
	static const char *const keys[] = { "name", "sections" };
	int r = json_is_object(t) ? only_keys(t, path, keys, CA_ARRAY_SIZE(keys), err)
				  : ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object {\"name\", \"sections\"}", path);
	const json_t *secs = json_object_get(t, "sections");
	if (!r && !json_is_string(json_object_get(t, "name")))
		r = ca_err_set(err, CA_EINVAL, path, "settings: %s.name must be a string", path);
	if (!r && (!json_is_array(secs) || json_array_size(secs) == 0))
		r = ca_err_set(err, CA_EINVAL, path, "settings: %s.sections must be a non-empty array", path);
	size_t i;
	json_t *sec;
	bool has_resolution = false;
	json_array_foreach(secs, i, sec) {
		if (r)
			break;
		char where[160];
		snprintf(where, sizeof(where), "%s.sections[%zu]", path, i);
		static const char *const sk[] = { "heading", "from" };
		r = json_is_object(sec) ? only_keys(sec, where, sk, CA_ARRAY_SIZE(sk), err)
					: ca_err_set(err, CA_EINVAL, where, "settings: %s must be {\"heading\", \"from\"}", where);
		const char *h = r ? NULL : ca_json_str(sec, "heading"), *from = r ? NULL : ca_json_str(sec, "from");
		if (!r && ca_str_empty(h))
			r = ca_err_set(err, CA_EINVAL, where, "settings: %s.heading must be a non-empty string", where);
		bool known = false;
		for (size_t k = 0; !r && from && k < ca_article_nparts && !known; k++)
			known = !strcmp(from, ca_article_parts[k]);
		if (!r && !known)
			r = ca_err_set(err, CA_EINVAL, where,
				       "settings: %s.from must be one of issue, cause, resolution, product, subject, keywords",
				       where);
		has_resolution |= !r && !strcmp(from, "resolution");
	}
	if (!r && !has_resolution)
		r = ca_err_set(err, CA_EINVAL, path, "settings: %s needs a section from \"resolution\": an article must say how the issue was solved", path);
	if (!r && !(*ret = json_deep_copy(t)))
		r = CA_ENOMEM;
	return r;
}

static int parse_knowledge(ca_settings *s, const json_t *k, ca_err *err)
{
	ca_knowledge_settings *ks = &s->knowledge;
	json_t *empty = json_object();
	if (!k)
		k = empty;
	int r = json_is_object(k) ? only_keys(k, "knowledge", knowledge_keys, CA_ARRAY_SIZE(knowledge_keys), err)
				  : ca_err_set(err, CA_EINVAL, "knowledge", "settings: knowledge must be an object");
	if (!r)
		r = get_bool(k, "realtime_cases", true, &ks->realtime_cases, err);
	if (!r)
		r = get_bool(k, "realtime_conversations", false, &ks->realtime_conversations, err);
	if (!r)
		r = get_bool(k, "auto_publish", false, &ks->auto_publish, err);
	if (!r)
		r = get_str(k, "knowledge", "default_compliance", "pending", &ks->default_compliance, err);
	if (!r && strcmp(ks->default_compliance, "pending") && strcmp(ks->default_compliance, "compliant") &&
	    strcmp(ks->default_compliance, "non_compliant"))
		r = ca_err_set(err, CA_EINVAL, "knowledge.default_compliance",
			       "settings: knowledge.default_compliance must be pending, compliant or non_compliant");
	if (!r)
		r = get_str(k, "knowledge", "audience", "internal", &ks->audience, err);
	if (!r && strcmp(ks->audience, "internal") && strcmp(ks->audience, "external"))
		r = ca_err_set(err, CA_EINVAL, "knowledge.audience",
			       "settings: knowledge.audience must be internal or external (internal and external readers)");
	json_t *th = json_object_get(k, "coverage_threshold");
	ks->coverage_threshold = 0.35;
	if (!r && th) {
		if (!json_is_number(th) || json_number_value(th) <= 0 || json_number_value(th) > 1)
			r = ca_err_set(err, CA_EINVAL, "knowledge.coverage_threshold",
				       "settings: knowledge.coverage_threshold must be a number above 0, at most 1");
		else
			ks->coverage_threshold = json_number_value(th);
	}
	const json_t *attrs = json_object_get(k, "case_attributes");
	if (!r && attrs)
		r = json_is_object(attrs) ? only_keys(attrs, "knowledge.case_attributes", attr_keys, CA_ARRAY_SIZE(attr_keys), err)
					  : ca_err_set(err, CA_EINVAL, "knowledge.case_attributes",
						       "settings: knowledge.case_attributes must be an object");
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(attr_keys); i++)
		r = parse_attribute(s, json_object_get(attrs, attr_keys[i]), i, err);
	const json_t *rules = json_object_get(k, "rules");
	if (!r && rules && !json_is_array(rules))
		r = ca_err_set(err, CA_EINVAL, "knowledge.rules", "settings: knowledge.rules must be an array");
	if (!r && json_array_size(rules)) {
		ks->rules = calloc(json_array_size(rules), sizeof(*ks->rules));
		ks->rule_names = calloc(json_array_size(rules), sizeof(*ks->rule_names));
		ks->rule_templates = calloc(json_array_size(rules), sizeof(*ks->rule_templates));
		if (!ks->rules || !ks->rule_names || !ks->rule_templates)
			r = CA_ENOMEM;
	}
	size_t i;
	json_t *rj;
	json_array_foreach(rules, i, rj) {
		if (r)
			break;
		char path[64], where[96];
		snprintf(path, sizeof(path), "knowledge.rules[%zu]", i);
		static const char *const rk[] = { "name", "condition", "template" };
		r = json_is_object(rj) ? only_keys(rj, path, rk, CA_ARRAY_SIZE(rk), err)
				       : ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object", path);
		if (!r)
			r = get_str(rj, path, "name", path, &ks->rule_names[i], err);
		snprintf(where, sizeof(where), "%s.condition", path);
		if (!r)
			r = ca_rule_compile(json_object_get(rj, "condition"), where, &ks->rules[i], err);
		snprintf(where, sizeof(where), "%s.template", path);
		if (!r && json_object_get(rj, "template"))
			r = parse_template(json_object_get(rj, "template"), where, &ks->rule_templates[i], err);
		ks->n_rules = i + 1; /* what was built is freed with the settings */
	}
	json_decref(empty);
	return r;
}

/* ---- the follow-up agent ("followup", docs/settings.md) ---- */

const char *const ca_followup_placeholders[] = { "ticket", "token", "title", "customer_name", "owner", "step",
						 "followups", "status_reason", "days_waiting" };
const size_t ca_followup_nplaceholders = CA_ARRAY_SIZE(ca_followup_placeholders);

/* The built-in follow-up when neither the rule nor the block gives one. */
static const char fu_default_subject[] = "Following up: {title} {token}";
static const char fu_default_body[] =
	"Hello {customer_name},\n\nWe have not heard back from you about case {ticket} ({title}). Could you let us know "
	"whether the problem is solved, or send us what we asked for?\n\nThis is reminder {step} of {followups}; if we "
	"do not hear from you, we will close the case.";

/* "HH:MM" -> minutes after midnight (24:00 allowed as an end). */
static int clock_minutes(const json_t *o, const char *path, const char *key, const char *dflt, int *out, ca_err *err)
{
	json_t *v = json_object_get(o, key);
	const char *t = v ? json_string_value(v) : dflt;
	char where[160];
	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (!t || strlen(t) != 5 || t[2] != ':' || !strchr("012", t[0]) || t[1] < '0' || t[1] > '9' || t[3] < '0' ||
	    t[3] > '5' || t[4] < '0' || t[4] > '9')
		return ca_err_set(err, CA_EINVAL, where, "settings: %s must be a time of day \"HH:MM\" (24-hour)", where);
	int m = ((t[0] - '0') * 10 + (t[1] - '0')) * 60 + (t[3] - '0') * 10 + (t[4] - '0');
	if (m > 24 * 60)
		return ca_err_set(err, CA_EINVAL, where, "settings: %s: '%s' is not a time of day", where, t);
	*out = m;
	return 0;
}

static int parse_calendar(ca_followup_settings *fs, const json_t *c, ca_err *err)
{
	static const char *const keys[] = { "days", "start", "end", "utc_offset" };
	static const char *const wd[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	const char *path = "followup.calendar";
	if (!c)
		return 0;
	int r = json_is_object(c) ? only_keys(c, path, keys, CA_ARRAY_SIZE(keys), err)
				  : ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object", path);
	fs->calendar.on = true;
	const json_t *days = json_object_get(c, "days");
	if (!r && !days) {
		fs->calendar.days = 0x3e; /* Monday to Friday */
	} else if (!r && (!json_is_array(days) || !json_array_size(days))) {
		r = ca_err_set(err, CA_EINVAL, "followup.calendar.days",
			       "settings: followup.calendar.days must be a non-empty array of weekdays (\"mon\" ... \"sun\")");
	}
	size_t i;
	json_t *d;
	json_array_foreach(days, i, d) {
		size_t k = 0;
		while (!r && k < CA_ARRAY_SIZE(wd) && !(json_is_string(d) && ca_streq_ci(json_string_value(d), wd[k])))
			k++;
		if (!r && k == CA_ARRAY_SIZE(wd)) {
			char where[64];
			snprintf(where, sizeof(where), "followup.calendar.days[%zu]", i);
			r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be one of mon, tue, wed, thu, fri, sat, sun", where);
		}
		if (!r)
			fs->calendar.days |= 1u << k;
	}
	if (!r)
		r = clock_minutes(c, path, "start", "09:00", &fs->calendar.start_min, err);
	if (!r)
		r = clock_minutes(c, path, "end", "17:00", &fs->calendar.end_min, err);
	if (!r && fs->calendar.start_min >= fs->calendar.end_min)
		r = ca_err_set(err, CA_EINVAL, "followup.calendar.end", "settings: followup.calendar.end must be after its start");
	const json_t *off = json_object_get(c, "utc_offset");
	const char *o = off ? json_string_value(off) : "+00:00";
	if (!r && (!o || strlen(o) != 6 || (o[0] != '+' && o[0] != '-') || o[3] != ':' || strspn(o + 1, "0123456789") != 2 ||
		   strspn(o + 4, "0123456789") != 2 || (o[1] - '0') * 10 + (o[2] - '0') > 14 || o[4] > '5'))
		r = ca_err_set(err, CA_EINVAL, "followup.calendar.utc_offset",
			       "settings: followup.calendar.utc_offset must be \"+HH:MM\" or \"-HH:MM\" (at most 14 hours)");
	if (!r)
		fs->calendar.utc_offset_min = (o[0] == '-' ? -1 : 1) *
					      (((o[1] - '0') * 10 + (o[2] - '0')) * 60 + (o[4] - '0') * 10 + (o[5] - '0'));
	return r;
}

/* A list of follow-up templates [{"subject","body"}], placeholders checked. */
static int parse_fu_templates(const json_t *arr, const char *path, ca_followup_template **ret, size_t *ret_n,
			      ca_err *err)
{
	static const char *const keys[] = { "subject", "body" };
	if (!arr)
		return 0;
	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > 10)
		return ca_err_set(err, CA_EINVAL, path,
				  "settings: %s must be an array of 1 to 10 templates {\"subject\", \"body\"}, one per follow-up",
				  path);
	if (!(*ret = calloc(json_array_size(arr), sizeof(**ret))))
		return CA_ENOMEM;
	int r = 0;
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		char p[96], where[128];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		r = json_is_object(t) ? only_keys(t, p, keys, CA_ARRAY_SIZE(keys), err)
				      : ca_err_set(err, CA_EINVAL, p, "settings: %s must be an object", p);
		*ret_n = i + 1;
		for (size_t k = 0; !r && k < CA_ARRAY_SIZE(keys); k++) {
			snprintf(where, sizeof(where), "%s.%s", p, keys[k]);
			const char *v = ca_json_str(t, keys[k]);
			char **dst = k ? &(*ret)[i].body : &(*ret)[i].subject;
			if (ca_str_empty(v))
				r = ca_err_set(err, CA_EINVAL, where, "settings: %s is required text", where);
			else if (!(*dst = strdup(v)))
				r = CA_ENOMEM;
			if (!r && !k)
				r = header_safe(v, where, err);
			if (!r)
				r = placeholders_check(v, where, ca_followup_placeholders, ca_followup_nplaceholders, "field:",
						       "{ticket}, {token}, {title}, {customer_name}, {owner}, {step}, {followups}, "
						       "{status_reason}, {days_waiting}, {field:NAME}",
						       err);
		}
		if (r)
			break;
	}
	return r;
}

static int parse_fu_wait(ca_followup_rule *fr, const json_t *w, const char *path, ca_err *err)
{
	char where[128];
	snprintf(where, sizeof(where), "%s.wait", path);
	const json_t *h = json_object_get(w, "hours"), *d = json_object_get(w, "days");
	if (!json_is_object(w) || json_object_size(w) != 1 || (!h && !d))
		return ca_err_set(err, CA_EINVAL, where, "settings: %s must be {\"hours\": N} or {\"days\": N}", where);
	const json_t *v = h ? h : d;
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	snprintf(where, sizeof(where), "%s.wait.%s", path, h ? "hours" : "days");
	if (n < 1 || n > (h ? 8760 : 365))
		return ca_err_set(err, CA_EINVAL, where, "settings: %s must be a whole number from 1 to %d", where,
				  h ? 8760 : 365);
	fr->wait_days = d != NULL;
	fr->wait_n = (unsigned)n;
	fr->wait_s = (int64_t)n * (h ? 3600 : 86400);
	return 0;
}

static int parse_fu_rule(const ca_settings *s, ca_followup_rule *fr, const json_t *rj, const char *path, ca_err *err)
{
	static const char *const keys[] = { "name", "active", "conditions", "trigger", "followups", "wait",
					    "templates", "level", "after_last" };
	static const char *const tkeys[] = { "status_reason", "reply_context" };
	char where[128];
	int r = json_is_object(rj) ? only_keys(rj, path, keys, CA_ARRAY_SIZE(keys), err)
				   : ca_err_set(err, CA_EINVAL, path, "settings: %s must be an object", path);
	const char *name = r ? NULL : ca_json_str(rj, "name");
	snprintf(where, sizeof(where), "%s.name", path);
	if (!r && (ca_str_empty(name) || strlen(name) > 200))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s is required text of at most 200 bytes", where);
	if (!r && !(fr->name = strdup(name)))
		r = CA_ENOMEM;
	const json_t *act = r ? NULL : json_object_get(rj, "active");
	snprintf(where, sizeof(where), "%s.active", path);
	if (act && !json_is_boolean(act))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be true or false", where);
	fr->active = !act || json_is_true(act);
	snprintf(where, sizeof(where), "%s.conditions", path);
	if (!r && json_object_get(rj, "conditions"))
		r = ca_rule_compile(json_object_get(rj, "conditions"), where, &fr->condition, err);
	ca_strv used = { 0 };
	if (!r && fr->condition)
		r = ca_rule_fields(fr->condition, &used);
	for (size_t q = 0; !r && q < used.n; q++)
		if (ca_settings_field(s, used.v[q]) < 0 && !ca_case_is_standard_field(used.v[q]))
			r = ca_err_set(err, CA_EINVAL, where,
				       "settings: %s reads field '%s', which is neither defined nor a standard case field", where,
				       used.v[q]);
	ca_strv_done(&used);
	const json_t *tr = json_object_get(rj, "trigger");
	snprintf(where, sizeof(where), "%s.trigger", path);
	if (!r)
		r = json_is_object(tr) ? only_keys(tr, where, tkeys, CA_ARRAY_SIZE(tkeys), err)
				       : ca_err_set(err, CA_EINVAL, where,
						    "settings: %s must be an object with \"status_reason\", \"reply_context\" or both",
						    where);
	if (!r && !json_object_size(tr))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s names no trigger (\"status_reason\", \"reply_context\")",
			       where);
	if (!r)
		r = get_str(tr, where, "status_reason", NULL, &fr->status_reason, err);
	if (!r)
		r = get_str(tr, where, "reply_context", NULL, &fr->reply_context, err);
	if (!r && fr->status_reason && !*fr->status_reason)
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s.status_reason is empty", where);
	if (!r && fr->reply_context && strcmp(fr->reply_context, "waiting_on_customer") &&
	    strcmp(fr->reply_context, "customer_replied")) {
		snprintf(where, sizeof(where), "%s.trigger.reply_context", path);
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be waiting_on_customer or customer_replied", where);
	}
	if (!r)
		r = get_uint(rj, path, "followups", 3, &fr->followups, err);
	snprintf(where, sizeof(where), "%s.followups", path);
	if (!r && (fr->followups < 1 || fr->followups > 10))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be from 1 to 10", where);
	if (!r) {
		const json_t *w = json_object_get(rj, "wait");
		json_t *dflt = w ? NULL : json_pack("{s:i}", "hours", 48);
		r = w || dflt ? parse_fu_wait(fr, w ? w : dflt, path, err) : CA_ENOMEM;
		json_decref(dflt);
	}
	snprintf(where, sizeof(where), "%s.templates", path);
	if (!r)
		r = parse_fu_templates(json_object_get(rj, "templates"), where, &fr->templates, &fr->n_templates, err);
	const char *level = r ? NULL : ca_json_str(rj, "level");
	snprintf(where, sizeof(where), "%s.level", path);
	if (!r && json_object_get(rj, "level") && !level)
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be confirm, shadow or full", where);
	else if (!r && (!level || !strcmp(level, "confirm")))
		fr->level = CA_FU_CONFIRM;
	else if (!r && !strcmp(level, "shadow"))
		fr->level = CA_FU_SHADOW;
	else if (!r && !strcmp(level, "full"))
		fr->level = CA_FU_FULL;
	else if (!r)
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be confirm, shadow or full, not '%s'", where, level);
	const char *after = r ? NULL : ca_json_str(rj, "after_last");
	snprintf(where, sizeof(where), "%s.after_last", path);
	if (!r && json_object_get(rj, "after_last") && !after)
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be resolve or suggest_resolve", where);
	else if (!r && after && strcmp(after, "resolve") && strcmp(after, "suggest_resolve"))
		r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be resolve or suggest_resolve, not '%s'", where, after);
	else if (!r)
		fr->after_last_resolve = after && !strcmp(after, "resolve");
	return r;
}

static int parse_followup(ca_settings *s, const json_t *f, ca_err *err)
{
	static const char *const keys[] = { "interval_minutes", "calendar", "templates", "rules" };
	ca_followup_settings *fs = &s->followup;
	fs->interval_minutes = 15;
	if (!f)
		return 0;
	int r = json_is_object(f) ? only_keys(f, "followup", keys, CA_ARRAY_SIZE(keys), err)
				  : ca_err_set(err, CA_EINVAL, "followup", "settings: followup must be an object");
	if (!r)
		r = get_uint(f, "followup", "interval_minutes", 15, &fs->interval_minutes, err);
	if (!r && fs->interval_minutes > 1440)
		r = ca_err_set(err, CA_EINVAL, "followup.interval_minutes",
			       "settings: followup.interval_minutes must be from 0 (no tick in serve) to 1440");
	if (!r)
		r = parse_calendar(fs, json_object_get(f, "calendar"), err);
	if (!r)
		r = parse_fu_templates(json_object_get(f, "templates"), "followup.templates", &fs->templates,
				       &fs->n_templates, err);
	if (!r && !fs->templates) {
		if (!(fs->templates = calloc(1, sizeof(*fs->templates))))
			return CA_ENOMEM;
		fs->n_templates = 1;
		if (!(fs->templates[0].subject = strdup(fu_default_subject)) || !(fs->templates[0].body = strdup(fu_default_body)))
			return CA_ENOMEM;
	}
	const json_t *rules = json_object_get(f, "rules");
	if (!r && rules && !json_is_array(rules))
		r = ca_err_set(err, CA_EINVAL, "followup.rules", "settings: followup.rules must be an array");
	if (!r && json_array_size(rules) > 100)
		r = ca_err_set(err, CA_EINVAL, "followup.rules", "settings: followup.rules holds more than 100 rules");
	if (!r && json_array_size(rules) && !(fs->rules = calloc(json_array_size(rules), sizeof(*fs->rules))))
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < json_array_size(rules); i++) {
		char path[64];
		snprintf(path, sizeof(path), "followup.rules[%zu]", i);
		fs->n_rules = i + 1; /* what was built is freed with the settings */
		r = parse_fu_rule(s, &fs->rules[i], json_array_get(rules, i), path, err);
		for (size_t k = 0; !r && k < i; k++)
			if (!strcmp(fs->rules[k].name, fs->rules[i].name)) {
				snprintf(path, sizeof(path), "followup.rules[%zu].name", i);
				r = ca_err_set(err, CA_EINVAL, path, "settings: follow-up rule '%s' is defined twice",
					       fs->rules[i].name);
			}
	}
	return r;
}

int ca_settings_parse(const json_t *j, ca_settings **ret, ca_err *err)
{
	if (!json_is_object(j))
		return ca_err_set(err, CA_EINVAL, "", "settings must be a JSON object");
	int r = check_top_keys(j, err);
	if (r)
		return r;
	json_t *ver = json_object_get(j, "version");
	if (ver && (!json_is_integer(ver) || json_integer_value(ver) != 1))
		return ca_err_set(err, CA_EINVAL, "version", "settings: version must be 1");
	ca_settings *s = calloc(1, sizeof(*s));
	if (!s)
		return CA_ENOMEM;
	s->refs = 1;
	const json_t *ch = json_object_get(j, "channels");
	s->chat_enabled = true;
	if (ch) {
		const char *k;
		json_t *v;
		if (!json_is_object(ch))
			r = ca_err_set(err, CA_EINVAL, "channels", "settings: channels must be an object");
		json_object_foreach((json_t *)ch, k, v) {
			if (r)
				break;
			char where[64];
			snprintf(where, sizeof(where), "channels.%s", k);
			if (strcmp(k, "chat") && strcmp(k, "email"))
				r = ca_err_set(err, CA_EINVAL, where, "settings: unknown channel '%s' (chat, email)", k);
			else if (!json_is_boolean(v))
				r = ca_err_set(err, CA_EINVAL, where, "settings: %s must be true or false", where);
			else if (!strcmp(k, "chat"))
				s->chat_enabled = json_is_true(v);
			else
				s->email_enabled = json_is_true(v);
		}
	}
	const json_t *fields = json_object_get(j, "fields");
	if (!r && (!json_is_array(fields) || json_array_size(fields) == 0))
		r = ca_err_set(err, CA_EINVAL, "fields", "settings: fields must be a non-empty array of field definitions");
	if (!r) {
		s->fields = calloc(json_array_size(fields), sizeof(*s->fields));
		if (!s->fields)
			r = CA_ENOMEM;
	}
	for (size_t i = 0; !r && i < json_array_size(fields); i++) {
		char path[64];
		snprintf(path, sizeof(path), "fields[%zu]", i);
		r = ca_field_def_parse(json_array_get(fields, i), path, &s->fields[i], err);
		if (r)
			break;
		s->n_fields++;
		if (ca_settings_field(s, s->fields[i].name) != (int)i) {
			snprintf(path, sizeof(path), "fields[%zu].name", i);
			r = ca_err_set(err, CA_EINVAL, path, "settings: field '%s' is defined twice", s->fields[i].name);
		}
	}
	if (!r)
		r = field_list(s, json_object_get(j, "default_fields"), "default_fields", &s->defaults, &s->n_defaults, err);
	if (!r)
		r = parse_rules(s, json_object_get(j, "update_rules"), err);
	if (!r)
		r = get_bool(j, "summary_note_on_close", true, &s->summary_note_on_close, err);
	if (!r)
		r = get_bool(j, "record_agent_experience", true, &s->record_agent_experience, err);
	if (!r)
		r = parse_email(s, json_object_get(j, "email"), err);
	if (!r)
		r = parse_arc(s, json_object_get(j, "arc_rules"), err);
	if (!r)
		r = parse_knowledge(s, json_object_get(j, "knowledge"), err);
	if (!r)
		r = parse_followup(s, json_object_get(j, "followup"), err);
	if (r) {
		ca_settings_free(s);
		return r;
	}
	/* Canonical form: fields as parsed (defaults filled in), the rest as given. */
	s->json = json_deep_copy(j);
	json_t *cf = json_array();
	for (size_t i = 0; s->json && cf && i < s->n_fields; i++)
		json_array_append_new(cf, ca_field_def_to_json(&s->fields[i]));
	if (!s->json || !cf) {
		json_decref(cf);
		ca_settings_free(s);
		return CA_ENOMEM;
	}
	json_object_set_new(s->json, "version", json_integer(1));
	json_object_set_new(s->json, "fields", cf);
	json_object_set_new(s->json, "summary_note_on_close", json_boolean(s->summary_note_on_close));
	json_object_set_new(s->json, "record_agent_experience", json_boolean(s->record_agent_experience));
	*ret = s;
	return 0;
}
