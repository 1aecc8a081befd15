/* SPDX-License-Identifier: MIT */
/*
 * The case agent on e-mail (ARCHITECTURE §3): each message is one
 * transaction (or, in a walk over files, one savepoint of a batch: see
 * INGEST_TX_SECONDS) that stores it as received, then decides, in this order:
 * duplicate (by Message-ID with the same content, or a hash of the bytes;
 * a Message-ID reused with other content is a message of its own), over
 * the size limit (kept in part, nothing done), unparsable, automatic
 * (auto-reply, bounce, out-of-office, bulk: never a case, never a response;
 * a bounce attaches to its thread), from our own addresses, over the
 * sender's hourly limit, part of a thread (case token in the subject,
 * In-Reply-To/References, optionally sender + subject) whose sender belongs
 * to it (on_thread: the case's contact, its account's, or on an earlier
 * message) -> update or attach, else the first matching ARC rule -> create
 * the case with the rule's field values (protected like a person's), let
 * the agent fill the rest, and queue the automatic response. Addresses are
 * compared in their one normalised form (ca_email_addr_key). Spam comes
 * first, right after the duplicate check: a header's spam verdict, or the
 * filter email.spam names (asked before the transaction opens), holds the
 * message with no case, response or update until a person releases it
 * (spam_verdict, spam_gate). Every message leaves exactly one row in the
 * activity log saying what happened and why.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "casemgmt.h"
#include "email.h"
#include "text.h"

/* How long a spam filter that failed is left alone. */
#define SPAM_RETRY_MS 30000

typedef struct decision {
	const char *outcome;  /* created | updated | attached | skipped */
	char reason[560];
	char note[240];       /* why threading did not apply, or "" (goes first) */
	const char *rule;
	int64_t case_id;
	json_t *changed;
	/* The spam filter's score was not clearly clean: a case may open, but
	 * no automatic response goes to an address that may be forged. */
	bool no_response;
} decision;

static void decide(decision *d, const char *outcome, const char *rule, int64_t case_id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void decide(decision *d, const char *outcome, const char *rule, int64_t case_id, const char *fmt, ...)
{
	d->outcome = outcome;
	d->rule = rule;
	d->case_id = case_id;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

/* Settings lists hold normalised addresses (ca_email_addr_key); so is the
 * parser's, but callers may pass stored or typed ones: normalise here. */
static bool in_list(const ca_strv *list, const char *addr)
{
	char *key = NULL;
	if (!addr || ca_email_addr_key(addr, &key) != 0)
		return addr && ca_strv_contains(list, addr);
	bool in = ca_strv_contains(list, key);
	free(key);
	return in;
}

static bool in_list_one(const char *key, const char *addr)
{
	char *k = NULL;
	bool same = ca_email_addr_key(addr, &k) == 0 && !strcmp(k, key);
	free(k);
	return same;
}

/* The ticket number in a subject carrying our case token, or NULL. */
static char *token_ticket(const ca_email_settings *es, const char *subject)
{
	size_t pl = strlen(es->token_prefix), sl = strlen(es->token_suffix);
	for (const char *p = subject ? strstr(subject, es->token_prefix) : NULL; p; p = strstr(p + 1, es->token_prefix)) {
		const char *t = p + pl, *e = t;
		if (strncmp(t, "CAS-", 4) != 0)
			continue;
		e = t + 4;
		while (*e >= '0' && *e <= '9')
			e++;
		if (e == t + 4 || strncmp(e, es->token_suffix, sl) != 0)
			continue;
		return strndup(t, (size_t)(e - t));
	}
	return NULL;
}

/* {placeholder} expansion for ARC field values and response templates. */
static int expand(const char *tpl, const ca_email *e, const char *ticket, const char *token, const char *mailbox,
		  ca_buf *out)
{
	int r = 0;
	for (const char *p = tpl; *p && !r;) {
		const char *o = strchr(p, '{'), *c = o ? strchr(o, '}') : NULL;
		if (!o || !c) {
			r = ca_buf_puts(out, p);
			break;
		}
		r = ca_buf_append(out, p, (size_t)(o - p));
		size_t n = (size_t)(c - o - 1);
		const char *name = o + 1;
		const char *v = NULL;
		char hdr[128];
		if (n == 7 && !strncmp(name, "subject", n))
			v = e ? e->subject : "";
		else if (n == 4 && !strncmp(name, "body", n))
			v = e ? e->reply_text : "";
		else if (n == 4 && !strncmp(name, "from", n))
			v = e ? e->from.email : "";
		else if (n == 9 && !strncmp(name, "from_name", n))
			v = e && e->from.name ? e->from.name : (e ? e->from.email : "");
		else if (n == 6 && !strncmp(name, "ticket", n))
			v = ticket;
		else if (n == 5 && !strncmp(name, "token", n))
			v = token;
		else if (n == 7 && !strncmp(name, "mailbox", n))
			v = mailbox;
		else if (n > 7 && n < sizeof(hdr) && !strncmp(name, "header:", 7)) {
			size_t k = 0;
			for (const char *q = name + 7; q < c && k + 1 < sizeof(hdr); q++)
				hdr[k++] = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
			hdr[k] = '\0';
			json_t *h = e ? json_object_get(e->headers, hdr) : NULL;
			v = json_is_array(h) ? json_string_value(json_array_get(h, 0)) : json_string_value(h);
		} else {
			/* Not a placeholder: keep the braces as written. */
			if (!r)
				r = ca_buf_append(out, o, (size_t)(c - o + 1));
			p = c + 1;
			continue;
		}
		if (!r && v) {
			/* Values end where their text does: no trailing blank lines. */
			size_t vl = strlen(v);
			while (vl > 0 && (v[vl - 1] == '\n' || v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			r = ca_buf_append(out, v, vl);
		}
		p = c + 1;
	}
	return r;
}

/* The e-mail as the ARC rules see it. */
static json_t *arc_record(const ca_email *e, bool sender_known, const char *mailbox)
{
	ca_buf to = { 0 }, cc = { 0 };
	for (size_t i = 0; i < e->n_to; i++)
		if (e->to[i].email && (ca_buf_puts(&to, to.len ? ", " : "") < 0 || ca_buf_puts(&to, e->to[i].email) < 0))
			break;
	for (size_t i = 0; i < e->n_cc; i++)
		if (e->cc[i].email && (ca_buf_puts(&cc, cc.len ? ", " : "") < 0 || ca_buf_puts(&cc, e->cc[i].email) < 0))
			break;
	json_t *rec = json_pack("{s:s?, s:s?, s:s, s:s, s:s?, s:s?, s:b, s:b, s:s?}", "from", e->from.email, "from_name",
				e->from.name, "to", to.data ? to.data : "", "cc", cc.data ? cc.data : "", "subject",
				e->subject, "body", e->text, "has_attachments", e->n_attachments > 0, "sender_known",
				sender_known, "mailbox", mailbox);
	const char *k;
	json_t *v;
	json_object_foreach(e->headers, k, v) {
		char key[160];
		snprintf(key, sizeof(key), "header.%s", k);
		json_object_set(rec, key, json_is_array(v) ? json_array_get(v, 0) : v);
	}
	ca_buf_done(&to);
	ca_buf_done(&cc);
	return rec;
}

const ca_arc_rule *ca_arc_match(const ca_settings *s, const ca_email *e, bool sender_known, const char *mailbox)
{
	json_t *rec = arc_record(e, sender_known, mailbox);
	const ca_arc_rule *rule = NULL;
	for (size_t i = 0; rec && i < s->n_arc && !rule; i++)
		if (ca_rule_eval(s->arc[i].condition, rec))
			rule = &s->arc[i];
	json_decref(rec);
	return rule;
}

int ca_arc_fields(const ca_settings *s, const ca_arc_rule *rule, const ca_email *e, const char *ticket,
		  const char *mailbox, json_t *fields)
{
	ca_buf token = { 0 };
	int r = ca_buf_printf(&token, "%s%s%s", s->email.token_prefix, ticket ? ticket : "", s->email.token_suffix);
	const char *k;
	json_t *v;
	json_object_foreach(rule->fields, k, v) {
		if (r)
			break;
		ca_buf val = { 0 };
		r = expand(json_string_value(v), e, ticket, token.data, mailbox, &val);
		if (!r && val.len && json_object_set_new(fields, k, json_string(val.data)) < 0)
			r = CA_ENOMEM;
		ca_buf_done(&val);
	}
	ca_buf_done(&token);
	return r;
}

bool ca_email_is_ours(const ca_settings *s, const char *addr)
{
	/* The address automatic responses go out from is ours whether or not
	 * own_addresses repeats it: its mail must never open a case. */
	return in_list(&s->email.own_addresses, addr) || in_list(&s->email.mailboxes, addr) ||
	       (s->email.reply_from_key && addr && in_list_one(s->email.reply_from_key, addr));
}

int ca_email_thread_msgs(ca_agent *a, int64_t case_id, json_t **ret_json, ca_msg **ret, size_t *ret_n, ca_err *err)
{
	json_t *th = NULL;
	int r = ca_store_email_thread(a->store, case_id, &th, err);
	if (r)
		return r;
	size_t n = json_array_size(th);
	ca_msg *m = calloc(n ? n : 1, sizeof(*m));
	if (!m) {
		json_decref(th);
		return CA_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array_get(th, i);
		const char *auto_kind = ca_json_str(row, "auto_kind");
		if (auto_kind && strcmp(auto_kind, "none"))
			continue; /* bounces and auto-replies say nothing about the case */
		char id[32];
		snprintf(id, sizeof(id), "email-%lld", (long long)json_integer_value(json_object_get(row, "id")));
		json_object_set_new(row, "msg_id", json_string(id));
		const char *from = ca_json_str(row, "from_addr");
		bool ours = !strcmp(ca_json_str(row, "direction") ? ca_json_str(row, "direction") : "in", "out") ||
			    ca_email_is_ours(a->settings, from);
		const char *text = ca_json_str(row, "reply_text");
		m[k].id = ca_json_str(row, "msg_id");
		m[k].role = ours ? CA_ROLE_AGENT : CA_ROLE_CUSTOMER;
		m[k].text = text ? text : "";
		m[k].len = strlen(m[k].text);
		k++;
	}
	*ret_json = th;
	*ret = m;
	*ret_n = k;
	return 0;
}

/* Update from e-mail: the agent predicts from the whole thread and writes
 * what the policy allows (fields an ARC rule or a person set stay). */
static int update_from_thread(ca_agent *a, int64_t case_id, const char *identity, json_t *changed, ca_err *err)
{
	json_t *th = NULL;
	ca_msg *m = NULL;
	size_t n = 0;
	int r = ca_email_thread_msgs(a, case_id, &th, &m, &n, err);
	if (r)
		return r;
	ca_case_view view = { 0 };
	int64_t version;
	r = ca_case_view_load(a, case_id, &view, &version, err);
	ca_analysis an;
	ca_analysis_init(&an);
	ca_plan plan;
	if (!r && n > 0 && !(r = ca_plan_update(a, m, n, &an, identity, &view, &plan, err))) {
		r = ca_plan_apply(a, case_id, version, &plan, changed, err);
		ca_plan_done(&plan);
	}
	ca_analysis_done(&an);
	ca_case_view_done(&view);
	free(m);
	json_decref(th);
	return r;
}

/* The contact with the sender's address: directory records are keyed by
 * the same normalised form (ca_dir_key_of, ca_email_addr_key), so an IDN
 * domain in either spelling and any letter case find the one contact. */
static int sender_contact(ca_agent *a, const char *addr, char **ret_id, ca_err *err)
{
	*ret_id = NULL;
	bool found = false;
	return addr ? ca_store_contact_by_email(a->store, addr, &found, ret_id, err) : 0;
}

static int queue_response(ca_agent *a, const ca_email *e, int64_t email_id, int64_t case_id, const char *ticket,
			  const char *mailbox, ca_err *err)
{
	const ca_email_settings *es = &a->settings->email;
	int64_t sent = 0;
	/* At most one automatic response an hour to any address: a loop with
	 * another robot ends after one round. */
	int r = ca_store_outbox_count_to(a->store, e->from.email, ca_time_now() - 3600, &sent, err);
	if (r || sent > 0)
		return r;
	ca_buf token = { 0 }, subject = { 0 }, body = { 0 };
	r = ca_buf_printf(&token, "%s%s%s", es->token_prefix, ticket, es->token_suffix);
	if (!r)
		r = expand(es->reply_subject, e, ticket, token.data, mailbox, &subject);
	if (!r)
		r = expand(es->reply_body, e, ticket, token.data, mailbox, &body);
	/* The token must be in the subject, so the customer's reply threads. */
	if (!r && !strstr(subject.data ? subject.data : "", token.data))
		r = ca_buf_printf(&subject, " %s", token.data);
	json_t *headers = NULL;
	if (!r) {
		headers = json_pack("{s:s, s:s, s:s}", "From", es->reply_from, "Auto-Submitted", "auto-replied",
				    "X-Auto-Response-Suppress", "All");
		if (e->message_id) {
			char ref[600];
			snprintf(ref, sizeof(ref), "<%s>", e->message_id);
			json_object_set_new(headers, "In-Reply-To", json_string(ref));
			json_object_set_new(headers, "References", json_string(ref));
		}
	}
	json_t *msg = r ? NULL : json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}", "case_id", (json_int_t)case_id, "email_id",
					   (json_int_t)email_id, "to_addr", e->from.email, "subject", subject.data ? subject.data : "",
					   "body", body.data ? body.data : "", "headers", headers);
	if (!r)
		r = msg ? ca_store_outbox_add(a->store, msg, NULL, err) : CA_ENOMEM;
	json_decref(msg);
	ca_buf_done(&token);
	ca_buf_done(&subject);
	ca_buf_done(&body);
	return r;
}

/* Create the case through an ARC rule, then let the agent fill the rest. */
static int arc_create(ca_agent *a, const ca_arc_rule *rule, const ca_email *e, int64_t email_id, const char *contact,
		      const char *mailbox, decision *d, ca_err *err)
{
	int64_t id;
	char *ticket = NULL;
	int r = ca_store_case_create(a->store, "email", NULL, &id, &ticket, err);
	json_t *fields = json_object();
	if (!r)
		r = fields ? ca_arc_fields(a->settings, rule, e, ticket, mailbox, fields) : CA_ENOMEM;
	const char *k;
	json_t *v;
	json_object_foreach(fields, k, v) {
		if (r)
			break;
		r = ca_case_write_as(a, id, k, json_string_value(v), "arc", rule->name, err);
	}
	json_decref(fields);
	if (!r && contact)
		r = ca_case_write_as(a, id, "customer", contact, "arc", rule->name, err);
	if (!r)
		r = ca_store_email_set_case(a->store, email_id, id, err);
	if (!r)
		r = update_from_thread(a, id, contact, d->changed, err);
	if (!r && rule->auto_response && !d->no_response)
		r = queue_response(a, e, email_id, id, ticket, mailbox, err);
	if (!r)
		decide(d, "created", rule->name, id, "new request: %s created by ARC rule '%s'", ticket, rule->name);
	free(ticket);
	return r;
}

/* Whether `key` (normalised) is one of the addresses of a stored list
 * ("a@b, c@d"). Stored lists are normalised since the parser is; older rows
 * are normalised here. */
static bool addr_in_list(const char *list, const char *key)
{
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *one = strndup(p, n), *k = NULL;
		bool hit = one && ca_email_addr_key(one, &k) == 0 && !strcmp(k, key);
		free(one);
		free(k);
		if (hit)
			return true;
		p = e ? e + 1 : p + n;
	}
	return false;
}

/* The account a contact belongs to: its account_id, else its account
 * number (either may be empty). New reference in *ret or NULL. */
static int contact_record(ca_agent *a, const char *id, json_t **ret, ca_err *err)
{
	*ret = NULL;
	if (!id)
		return 0;
	ca_err nf = { 0 };
	int r = ca_store_directory_get(a->store, "contact", id, ret, &nf);
	if (r == CA_ENOTFOUND)
		return 0; /* a customer typed by hand that is not in the directory */
	if (r)
		ca_err_set(err, r, nf.where[0] ? nf.where : "contact", "%s", nf.message);
	return r;
}

static bool same_value(const json_t *x, const json_t *y, const char *key)
{
	const char *a = ca_json_str(x, key), *b = ca_json_str(y, key);
	return a && b && *a && !strcmp(a, b);
}

/*
 * Who may write into a case (issue 9; docs/settings.md, "Who may write into
 * a case"): the sender belongs to the thread of `case_id` when it is the
 * case's contact, a contact of the case's account (same account id or
 * account number as the case's contact, or the case's account field), or an
 * address on From, To or Cc of an earlier message of the thread (automatic
 * mail aside: a bounce adds nobody). `key` is the sender's normalised
 * address, `contact` its contact id or NULL. The message being decided is
 * not in the thread yet, so it cannot vouch for itself.
 */
static int on_thread(ca_agent *a, int64_t case_id, const char *key, const char *contact, bool *ret, char **ret_ticket,
		     ca_err *err)
{
	*ret = false;
	json_t *c = NULL, *sender = NULL, *customer = NULL, *th = NULL;
	int r = ca_store_case_get_id(a->store, case_id, &c, err);
	const json_t *f = json_object_get(c, "fields");
	const char *cust = ca_json_str(f, "customer"), *account = ca_json_str(f, "account");
	if (!r && contact && cust && !strcmp(contact, cust))
		*ret = true;
	if (!r && !*ret && contact && (cust || account)) {
		r = contact_record(a, contact, &sender, err);
		if (!r && sender && cust)
			r = contact_record(a, cust, &customer, err);
		if (!r && sender) {
			const char *sid = ca_json_str(sender, "account_id");
			*ret = same_value(sender, customer, "account_id") || same_value(sender, customer, "account_number") ||
			       (account && ((sid && !strcmp(sid, account)) ||
					    ca_streq(ca_json_str(sender, "account_number"), account)));
		}
		if (!r && sender && !*ret && account) {
			/* The case's account field names an account record: its
			 * number is the contact's account_number. */
			json_t *acc = NULL;
			ca_err nf = { 0 };
			int ar = ca_store_directory_get(a->store, "account", account, &acc, &nf);
			if (ar && ar != CA_ENOTFOUND)
				r = ca_err_set(err, ar, nf.where[0] ? nf.where : "account", "%s", nf.message);
			*ret = !ar && same_value(sender, acc, "account_number");
			json_decref(acc);
		}
	}
	if (!r && !*ret && key)
		r = ca_store_email_thread(a->store, case_id, &th, err);
	size_t i;
	json_t *row;
	json_array_foreach(th, i, row) {
		const char *kind = ca_json_str(row, "auto_kind");
		if (*ret || (kind && strcmp(kind, "none")))
			continue;
		bool in = !ca_streq(ca_json_str(row, "direction"), "out");
		*ret = addr_in_list(ca_json_str(row, "to_addrs"), key) || addr_in_list(ca_json_str(row, "cc_addrs"), key) ||
		       (in && addr_in_list(ca_json_str(row, "from_addr"), key));
	}
	if (!r && ret_ticket) {
		const char *t = ca_json_str(c, "ticket_number");
		*ret_ticket = t ? strdup(t) : NULL;
	}
	json_decref(th);
	json_decref(sender);
	json_decref(customer);
	json_decref(c);
	return r;
}

/* What threading found: the case the message joins, and the first case it
 * named but was refused (the sender not on that thread). */
typedef struct thread_pick {
	int64_t case_id;
	const char *how;
	int64_t refused;
	const char *refused_how;
	char *refused_ticket;
} thread_pick;

/* One candidate, in the order of find_thread: the first whose thread the
 * sender belongs to wins. Automatic mail is never written from, so it
 * takes the first candidate as before (a bounce attaches to its thread). */
static int consider(ca_agent *a, const ca_email *e, const char *contact, int64_t id, const char *how, thread_pick *t,
		    ca_err *err)
{
	if (!id || t->case_id || id == t->refused)
		return 0;
	bool ok = e->auto_kind != CA_AUTO_NONE;
	char *ticket = NULL;
	int r = ok ? 0 : on_thread(a, id, e->from.email, contact, &ok, &ticket, err);
	if (!r && ok) {
		t->case_id = id;
		t->how = how;
	} else if (!r && !t->refused) {
		t->refused = id;
		t->refused_how = how;
		t->refused_ticket = ticket;
		ticket = NULL;
	}
	free(ticket);
	return r;
}

/* Threading: our token, then In-Reply-To/References, then (if enabled)
 * sender + normalised subject; each found case only when the sender is on
 * its thread (on_thread). t->case_id 0 when none. */
static int find_thread(ca_agent *a, const ca_email *e, const char *subject_norm, const char *contact, thread_pick *t,
		       ca_err *err)
{
	memset(t, 0, sizeof(*t));
	char *ticket = token_ticket(&a->settings->email, e->subject);
	int r = 0;
	if (ticket) {
		int64_t id;
		ca_err ignore = { 0 };
		if (ca_case_ref(a, ticket, &id, &ignore) == 0)
			r = consider(a, e, contact, id, "case token", t, err);
		free(ticket);
	}
	bool found = false;
	int64_t id = 0;
	if (!r && !t->case_id && e->in_reply_to &&
	    !(r = ca_store_email_case_of_message(a->store, e->in_reply_to, &found, &id, err)) && found)
		r = consider(a, e, contact, id, "In-Reply-To", t, err);
	for (size_t i = e->references.n; !r && !t->case_id && i-- > 0;)
		if (!(r = ca_store_email_case_of_message(a->store, e->references.v[i], &found, &id, err)) && found)
			r = consider(a, e, contact, id, "References", t, err);
	if (!r && !t->case_id && e->bounced_message_id &&
	    !(r = ca_store_email_case_of_message(a->store, e->bounced_message_id, &found, &id, err)) && found)
		r = consider(a, e, contact, id, "bounced message", t, err);
	const ca_email_settings *es = &a->settings->email;
	if (!r && !t->case_id && e->from.email && subject_norm && *subject_norm) {
		/* A sender's new mail with the subject of a case of theirs within
		 * the hour is the same request (a loop, or a resend), whatever the
		 * subject-threading setting: never a second case. */
		int64_t window = es->subject_threading ? (int64_t)es->subject_threading_days * 86400 : 3600;
		r = ca_store_email_case_by_subject(a->store, e->from.email, subject_norm, ca_time_now() - window, &found,
						   &id, err);
		if (!r && found)
			r = consider(a, e, contact, id,
				     es->subject_threading ? "sender and subject" : "same sender and subject within the hour", t,
				     err);
	}
	return r;
}

static bool case_is_closed(const char *status)
{
	return status && (ca_streq_ci(status, "resolved") || ca_streq_ci(status, "closed") || ca_streq_ci(status, "cancelled"));
}

static int route_decide(ca_agent *a, const ca_email *e, int64_t email_id, const char *mailbox, const char *contact,
			int64_t thread, const char *how, decision *d, ca_err *err);

/* Decide and act on a parsed, stored e-mail. */
static int route(ca_agent *a, const ca_email *e, int64_t email_id, const char *mailbox, decision *d, ca_err *err)
{
	char *contact = NULL;
	int r = sender_contact(a, e->from.email, &contact, err);
	if (r)
		return r;
	if (e->via_list)
		d->no_response = true; /* a list may pass an automatic answer on */
	char *subject_norm = ca_email_subject_norm(e->subject);
	thread_pick t = { 0 };
	r = subject_norm ? find_thread(a, e, subject_norm, contact, &t, err) : CA_ENOMEM;
	free(subject_norm);
	int64_t thread = t.case_id;
	const char *how = t.how;
	if (!r && t.refused)
		/* Named a case but is not of its thread: not written into it, and
		 * the log says why, so a person can move it if it did belong. */
		snprintf(d->note, sizeof(d->note), "sender not on thread of %s (found by %s; %s is not its contact, "
			 "of its account or on an earlier message)%s",
			 t.refused_ticket ? t.refused_ticket : "the case", t.refused_how,
			 e->from.email ? e->from.email : "the sender", thread ? "" : ", so taken as new mail");
	free(t.refused_ticket);
	if (r) {
		free(contact);
		return r;
	}
	r = route_decide(a, e, email_id, mailbox, contact, thread, how, d, err);
	free(contact);
	return r;
}

static int route_decide(ca_agent *a, const ca_email *e, int64_t email_id, const char *mailbox, const char *contact,
			int64_t thread, const char *how, decision *d, ca_err *err)
{
	const ca_email_settings *es = &a->settings->email;
	int r = 0;
	if (e->auto_kind != CA_AUTO_NONE) {
		if (e->auto_kind == CA_AUTO_BOUNCE && thread) {
			r = ca_store_email_set_case(a->store, email_id, thread, err);
			decide(d, "attached", NULL, thread, "bounce (%s)", e->auto_reason ? e->auto_reason : "delivery report");
		} else {
			decide(d, "skipped", NULL, thread, "%s (%s)", ca_auto_kind_name(e->auto_kind),
			       e->auto_reason ? e->auto_reason : "automatic mail");
		}
		return r;
	}
	if (ca_email_is_ours(a->settings, e->from.email)) {
		decide(d, "skipped", NULL, 0, "own address (%s)", e->from.email);
		return 0;
	}
	if (!e->from.email) {
		decide(d, "skipped", NULL, 0, "unknown sender (no usable From address)");
		return 0;
	}
	int64_t count = 0;
	r = ca_store_email_count_from(a->store, e->from.email, ca_time_now() - 3600, &count, err);
	if (r)
		return r;
	if (es->max_per_sender_per_hour && count > (int64_t)es->max_per_sender_per_hour) {
		decide(d, "skipped", NULL, thread, "rate limit (%lld e-mails from %s in the last hour; the limit is %u)",
		       (long long)count, e->from.email, es->max_per_sender_per_hour);
		return 0;
	}
	const ca_arc_rule *rule = ca_arc_match(a->settings, e, contact != NULL, mailbox);
	if (thread) {
		json_t *c = NULL;
		r = ca_store_case_get_id(a->store, thread, &c, err);
		const char *status = r ? NULL : ca_json_str(json_object_get(c, "fields"), "status");
		if (!r && !case_is_closed(status)) {
			r = ca_store_email_set_case(a->store, email_id, thread, err);
			if (!r)
				r = update_from_thread(a, thread, contact, d->changed, err);
			decide(d, "updated", NULL, thread, "reply found by %s", how);
		} else if (!r) {
			/* A reply to a resolved case: attach it, and only open a new
			 * case once the rule's window since resolution has passed. */
			bool found = false;
			char *at = NULL;
			r = ca_store_case_resolved_at(a->store, thread, &found, &at, err);
			unsigned window = rule ? rule->resolved_window_hours : 24;
			char cutoff[21];
			ca_time_iso(ca_time_now() - (int64_t)window * 3600, cutoff);
			if (!r && (!found || strcmp(at, cutoff) >= 0 || !rule)) {
				r = ca_store_email_set_case(a->store, email_id, thread, err);
				decide(d, "attached", NULL, thread, "resolved-case window (case resolved %s, within %u h)",
				       found ? at : "recently", window);
			} else if (!r) {
				thread = 0; /* past the window: a new case, below */
			}
			free(at);
		}
		json_decref(c);
		if (r || thread)
			return r;
	}
	if (!rule) {
		decide(d, "skipped", NULL, 0, "no rule matched");
	} else if (!contact && !rule->accept_unknown_senders) {
		decide(d, "skipped", rule->name, 0, "unknown sender (%s is not a contact)", e->from.email);
	} else {
		char *new_contact = NULL;
		if (!contact) {
			/* The rule accepts unknown senders: they become contacts. */
			ca_buf id = { 0 };
			r = ca_buf_printf(&id, "C-%s", e->from.email);
			json_t *ct = r ? NULL : json_pack("{s:s, s:s, s:s}", "id", id.data, "full_name",
							  e->from.name && *e->from.name ? e->from.name : e->from.email, "email",
							  e->from.email);
			if (!r)
				r = ct ? ca_store_directory_put(a->store, "contact", ct, err) : CA_ENOMEM;
			json_decref(ct);
			if (!r)
				contact = new_contact = ca_buf_steal(&id);
			ca_buf_done(&id);
			/* The predictor knows the sender by identity; chat matching by
			 * name picks the new contact up at the next rebuild. */
			a->directory_stale = true;
		}
		if (!r)
			r = arc_create(a, rule, e, email_id, contact, mailbox, d, err);
		free(new_contact);
	}
	return r;
}

/* "a@b, c@d": the normalised addresses of a list, as stored. */
static int join_addresses(const ca_address *v, size_t n, ca_buf *out)
{
	int r = 0;
	for (size_t i = 0; !r && i < n; i++)
		if (v[i].email)
			r = ca_buf_printf(out, "%s%s", out->len ? ", " : "", v[i].email);
	return r;
}

/*
 * What a message says, as a hash: sender, recipients, subject, date, text
 * and attachments, not the trace headers a second delivery adds (Received,
 * Delivered-To). The same Message-ID with the same hash is a re-delivery;
 * with another hash it is another message (issue 9: a reused Message-ID
 * must not hide a message).
 */
static int content_hash(const ca_email *e, char out[static 65])
{
	ca_buf b = { 0 };
	int r = ca_buf_printf(&b, "from:%s\nsubject:%s\ndate:%lld\nto:", e->from.email ? e->from.email : "",
			      e->subject ? e->subject : "", (long long)e->date);
	if (!r)
		r = join_addresses(e->to, e->n_to, &b);
	if (!r)
		r = ca_buf_puts(&b, "\ncc:");
	if (!r)
		r = join_addresses(e->cc, e->n_cc, &b);
	/* The text with puts, not printf: printf would measure it twice. */
	if (!r)
		r = ca_buf_puts(&b, "\ntext:");
	if (!r && e->text)
		r = ca_buf_puts(&b, e->text);
	if (!r)
		r = ca_buf_puts(&b, "\n");
	for (size_t i = 0; !r && i < e->n_attachments; i++)
		r = ca_buf_printf(&b, "attachment:%s\n", e->attachments[i].sha256);
	if (!r)
		ca_sha256_hex(b.data, b.len, out);
	ca_buf_done(&b);
	return r;
}

static int store_parsed(ca_agent *a, const ca_email *e, const char *key, const char *hash, const char *raw, size_t len,
			size_t received, const char *origin, const char *mailbox, int64_t *ret_id, ca_err *err)
{
	char *subject_norm = ca_email_subject_norm(e->subject);
	json_t *refs = json_array();
	for (size_t i = 0; refs && i < e->references.n; i++)
		json_array_append_new(refs, json_string(e->references.v[i]));
	ca_buf to = { 0 }, cc = { 0 };
	int r = join_addresses(e->to, e->n_to, &to);
	if (!r)
		r = join_addresses(e->cc, e->n_cc, &cc);
	json_t *rec = r ? NULL
			: json_pack("{s:s, s:s?, s:s?, s:o, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:s?, s:s?, s:s?, "
				    "s:s?, s:s, s:s?, s:s}",
				    "msg_key", key, "message_id", e->message_id, "in_reply_to", e->in_reply_to, "refs", refs,
				    "direction", "in", "from_addr", e->from.email, "from_name", e->from.name, "to_addrs",
				    to.data, "subject", e->subject, "subject_norm", subject_norm, "sent_epoch",
				    (json_int_t)e->date, "mailbox", mailbox, "origin", origin, "body_text", e->text,
				    "reply_text", e->reply_text, "auto_kind", ca_auto_kind_name(e->auto_kind), "cc_addrs",
				    cc.data, "content_sha256", hash);
	if (r)
		json_decref(refs);
	if (rec && received > len)
		json_object_set_new(rec, "received_size", json_integer((json_int_t)received));
	if (!r)
		r = rec ? ca_store_email_add(a->store, rec, raw, len, ret_id, err) : CA_ENOMEM;
	/* Of a message kept in part, attachments are cut too: none is kept
	 * (the raw prefix still holds what arrived of them). */
	for (size_t i = 0; !r && received <= len && i < e->n_attachments; i++) {
		const ca_attachment *at = &e->attachments[i];
		r = ca_store_email_attachment_add(a->store, *ret_id, (int64_t)i + 1, at->filename, at->content_type,
						  at->size, at->sha256, at->content, err);
	}
	json_decref(rec);
	ca_buf_done(&to);
	ca_buf_done(&cc);
	free(subject_norm);
	return r;
}

/* The idempotency key: the Message-ID, else a SHA-256 of the bytes. */
static int message_key(const char *raw, size_t len, const char *message_id, ca_buf *out);

/* ---- spam (docs/settings.md, "email.spam") ---- */

typedef struct spam_check {
	ca_spam_verdict v;
	bool failed;      /* a filter was to be asked and gave no answer */
	ca_err failure;   /* why */
} spam_check;

/*
 * The verdict on one parsed message, found before its transaction opens so
 * a slow or hung filter never holds the database's write lock. A header
 * saying spam is enough (it can only condemn its own message); otherwise
 * the configured filter is asked, except for what can never become a case
 * anyway (automatic mail, our own addresses) and for a message stored
 * already with the same content (a duplicate: nothing to decide).
 */
static void spam_verdict(ca_agent *a, const ca_email *e, const char *key, const char *hash, const char *raw,
			 size_t len, spam_check *sc)
{
	const ca_email_settings *es = &a->settings->email;
	if (es->spam.headers && ca_spam_from_headers(e->headers, &sc->v) == 0 && sc->v.is_spam)
		return;
	if (es->spam.service.kind == CA_SPAM_SERVICE_NONE || e->auto_kind != CA_AUTO_NONE ||
	    ca_email_is_ours(a->settings, e->from.email))
		return;
	bool known = false;
	int64_t id = 0, cid = 0;
	ca_err ignore = { 0 };
	if (ca_store_email_by_key(a->store, key, &known, &id, &cid, &ignore) == 0 && known) {
		/* Only the same content is a duplicate: a stranger reusing a
		 * Message-ID must not slip past the filter (find_stored). */
		char *stored = NULL;
		bool same = ca_store_email_content_hash(a->store, id, &stored, &ignore) == 0 &&
			    (!stored || !hash || !strcmp(stored, hash));
		free(stored);
		if (same)
			return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	const char *kind = es->spam.service.kind == CA_SPAM_SERVICE_SPAMD ? "spamd" : "rspamd";
	if (now_ms < a->spam_retry_ms) {
		/* A filter that just failed (a timeout above all) is not asked
		 * again for a while: a batch of a thousand messages must not wait
		 * a thousand timeouts. Each of them says so in the log. */
		sc->failed = true;
		ca_err_set(&sc->failure, CA_EIO, "email.spam", "%s %s: not asked, it failed less than %d s ago", kind,
			   es->spam.service.address, SPAM_RETRY_MS / 1000);
		return;
	}
	int r = ca_spam_check(&es->spam.service, raw, len, &sc->v, &sc->failure);
	if (r) {
		sc->failed = true;
		if (!sc->failure.message[0])
			ca_err_set(&sc->failure, r, "email.spam", "%s %s: %s", kind, es->spam.service.address, ca_strerror(r));
		if (r == CA_EIO)
			a->spam_retry_ms = now_ms + SPAM_RETRY_MS;
	}
}

/*
 * Record the verdict on the stored e-mail and, for spam (or an unanswered
 * filter with on_failure "hold"), decide: held, no case, no response, no
 * update to any case. d->outcome stays NULL when the message goes on to
 * route() as usual.
 */
static int spam_gate(ca_agent *a, const spam_check *sc, int64_t email_id, decision *d, ca_err *err)
{
	const ca_spam_verdict *v = &sc->v;
	ca_store_spam rec = { .has_score = v->has_score, .score = v->score, .threshold = v->threshold,
			      .detail = v->detail, .source = v->origin };
	if (v->is_spam) {
		rec.status = "spam";
		rec.held = true;
	} else if (sc->failed) {
		rec.status = "unchecked";
		rec.source = sc->failure.message;
		rec.held = a->settings->email.spam.hold_on_failure;
		rec.has_score = false;
		rec.detail = NULL;
	} else if (v->source != CA_SPAM_UNCHECKED) {
		rec.status = "not spam";
	} else {
		return 0; /* no filter was asked: nothing to record */
	}
	int r = ca_store_email_spam_set(a->store, email_id, &rec, err);
	/* Grey mail: not spam, yet not clearly clean either. */
	double below = a->settings->email.spam.respond_below;
	if (!v->is_spam && v->source != CA_SPAM_UNCHECKED && v->has_score && below >= 0 &&
	    v->score >= (below > 0 ? below : v->threshold / 2))
		d->no_response = true;
	if (r || !rec.held)
		return r;
	if (v->is_spam && v->has_score)
		decide(d, "spam", NULL, 0, "spam (%s: %.1f / %.1f); held until a person releases it", v->origin,
		       v->score, v->threshold);
	else if (v->is_spam)
		decide(d, "spam", NULL, 0, "spam (%s); held until a person releases it", v->origin);
	else
		decide(d, "held", NULL, 0, "not spam-checked (%s); held until a person releases it",
		       sc->failure.message);
	return 0;
}

/* The log row of a message: its decision with the verdict's source and
 * score. */
static int log_decision(ca_agent *a, int64_t email_id, const char *origin, const decision *d, const spam_check *sc,
			const char *actor, ca_err *err)
{
	ca_store_email_log_row row = { .email_id = email_id, .origin = origin, .outcome = d->outcome,
				       .reason = d->reason, .rule = d->rule, .case_id = d->case_id, .actor = actor };
	if (sc && sc->failed) {
		row.spam_source = sc->failure.message;
	} else if (sc && sc->v.source != CA_SPAM_UNCHECKED) {
		row.spam_source = sc->v.origin;
		row.has_spam_score = sc->v.has_score;
		row.spam_score = sc->v.score;
	}
	return ca_store_email_log_write(a->store, &row, err);
}

/*
 * Is this message stored already? By its key; a Message-ID already stored
 * with other content is another message, keyed "mid:ID#sha256:HASH" (and
 * that key is looked up too, so its own re-delivery stays a duplicate).
 * *ret_reused: the e-mail that holds the Message-ID first, when reused.
 */
static int find_stored(ca_agent *a, ca_buf *key, const char *hash, bool *ret_found, int64_t *ret_id, int64_t *ret_case,
		       int64_t *ret_reused, ca_err *err)
{
	*ret_reused = 0;
	int r = ca_store_email_by_key(a->store, key->data, ret_found, ret_id, ret_case, err);
	if (r || !*ret_found || !hash)
		return r;
	char *stored = NULL;
	r = ca_store_email_content_hash(a->store, *ret_id, &stored, err);
	/* Rows without a hash (before migration 8) keep the old rule. */
	bool same = !stored || !strcmp(stored, hash);
	free(stored);
	if (r || same)
		return r;
	*ret_reused = *ret_id;
	if ((r = ca_buf_printf(key, "#sha256:%s", hash)) < 0)
		return r;
	return ca_store_email_by_key(a->store, key->data, ret_found, ret_id, ret_case, err);
}

/* One message, one transaction (a savepoint when a batch is open). `received` is its size as received when
 * the source kept only a prefix (raw[0..len)), else len. *ret: the outcome
 * (new reference). */
static int ingest_one(ca_agent *a, const char *raw, size_t len, size_t received, const char *origin,
		      const char *mailbox, json_t **ret, ca_err *err)
{
	ca_email e;
	ca_err perr = { 0 };
	int pr = ca_email_parse(raw, len, a->settings->email.max_message_bytes, &e, &perr);
	ca_buf key = { 0 };
	char hash[65];
	int r = message_key(raw, len, pr == 0 ? e.message_id : NULL, &key);
	if (!r && pr == 0)
		r = content_hash(&e, hash);
	decision d = { .changed = json_array() };
	int64_t email_id = 0;
	spam_check sc = { 0 };
	if (!r && pr == 0)
		spam_verdict(a, &e, key.data, e.message_id ? hash : NULL, raw, len, &sc);
	if (!r)
		r = ca_store_begin(a->store, err);
	bool found = false;
	int64_t prev_id = 0, prev_case = 0, reused = 0;
	if (!r)
		r = find_stored(a, &key, pr == 0 && e.message_id ? hash : NULL, &found, &prev_id, &prev_case, &reused, err);
	if (!r && reused)
		snprintf(d.note, sizeof(d.note),
			 "Message-ID <%s> reused with other content (e-mail %lld has it): stored as an e-mail of its own",
			 e.message_id, (long long)reused);
	if (!r && found) {
		decide(&d, "skipped", NULL, prev_case, "duplicate of e-mail %lld", (long long)prev_id);
		email_id = prev_id;
	} else if (!r && pr != 0) {
		/* Kept raw, so nothing is lost; the reason says why it was not read. */
		json_t *rec = json_pack("{s:s, s:s, s:s?, s:s?}", "msg_key", key.data, "parse_error", perr.message, "origin",
					origin, "mailbox", mailbox);
		if (rec && received > len)
			json_object_set_new(rec, "received_size", json_integer((json_int_t)received));
		r = rec ? ca_store_email_add(a->store, rec, raw, len, &email_id, err) : CA_ENOMEM;
		json_decref(rec);
		decide(&d, "skipped", NULL, 0, "parse error: %s", perr.message);
	} else if (!r) {
		r = store_parsed(a, &e, key.data, hash, raw, len, received, origin, mailbox, &email_id, err);
		if (!r && received > len) {
			/* Over the size limit: headers and a prefix kept, nothing acted on. */
			decide(&d, "skipped", NULL, 0,
			       "too large (%zu bytes; the limit is %zu): its headers and the first %zu bytes are kept", received,
			       a->settings->email.max_message_bytes, len);
		} else if (!r && !(r = spam_gate(a, &sc, email_id, &d, err)) && !d.outcome &&
			   !(r = route(a, &e, email_id, mailbox, &d, err)) && (sc.failed || d.no_response)) {
			size_t l = strlen(d.reason);
			if (sc.failed)
				snprintf(d.reason + l, sizeof(d.reason) - l, "; not spam-checked");
			else if (e.via_list)
				snprintf(d.reason + l, sizeof(d.reason) - l, "; no automatic response (relayed by a list)");
			else
				snprintf(d.reason + l, sizeof(d.reason) - l, "; no automatic response (spam score %.1f)",
					 sc.v.score);
		}
	}
	if (!r && d.note[0]) {
		/* The note comes first: it is why the rest happened. */
		ca_buf reason = { 0 };
		r = ca_buf_printf(&reason, "%s; %s", d.note, d.reason);
		if (!r)
			snprintf(d.reason, sizeof(d.reason), "%s", reason.data);
		ca_buf_done(&reason);
	}
	if (!r)
		r = log_decision(a, email_id, origin, &d, &sc, NULL, err);
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r) {
		ca_store_rollback(a->store);
		ca_err_locate(err, "%s", origin ? origin : "e-mail");
	} else {
		char *ticket = NULL;
		if (d.case_id && ca_store_case_ticket(a->store, d.case_id, &ticket, NULL) != 0)
			ticket = NULL;
		*ret = json_pack("{s:s?, s:I, s:s?, s:s, s:s, s:s?, s:s?, s:O}", "origin", origin, "email_id",
				 (json_int_t)email_id, "message_id", pr == 0 ? e.message_id : NULL, "outcome", d.outcome,
				 "reason", d.reason, "rule", d.rule, "case", ticket, "changed", d.changed);
		free(ticket);
		if (!*ret)
			r = CA_ENOMEM;
	}
	json_decref(d.changed);
	ca_buf_done(&key);
	ca_spam_verdict_done(&sc.v);
	if (pr == 0)
		ca_email_done(&e);
	return r;
}

static int message_key(const char *raw, size_t len, const char *message_id, ca_buf *out)
{
	if (message_id && *message_id)
		return ca_buf_printf(out, "mid:%s", message_id);
	char hex[65];
	ca_sha256_hex(raw, len, hex);
	return ca_buf_printf(out, "sha256:%s", hex);
}

/* ---- public ---- */

int ca_email_ready(ca_agent *a, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	if (!a->settings->email_enabled)
		return ca_err_set(err, CA_ESTATE, "channels.email",
				  "the e-mail channel is disabled in settings: set \"channels\": {\"email\": true}");
	ca_email_global_init();
	return 0;
}

int ca_email_ingest_prefix(ca_agent *a, const char *raw, size_t len, size_t received, const char *origin,
			   const char *mailbox, char **ret_json, ca_err *err)
{
	int r = ca_email_ready(a, err);
	if (r)
		return r;
	if (received < len)
		received = len;
	if (received > a->settings->email.max_message_bytes)
		len = ca_email_prefix_len(raw, len, CA_EMAIL_KEEP_BODY);
	json_t *res = NULL;
	r = ingest_one(a, raw, len, received, origin ? origin : "-", mailbox, &res, err);
	return r ? r : ca_result(res, ret_json);
}

int ca_email_ingest_raw(ca_agent *a, const char *raw, size_t len, const char *origin, const char *mailbox,
			char **ret_json, ca_err *err)
{
	return ca_email_ingest_prefix(a, raw, len, len, origin, mailbox, ret_json, err);
}

/*
 * A walk over files (ca_email_ingest_path) commits its messages in batches:
 * one transaction holds up to INGEST_TX_SECONDS of messages, each message a
 * savepoint in it (store.h: nested begin/commit), so each is still all or
 * nothing, as a harvest's records are. A message that fails is undone alone
 * and the batch before it is committed before the error is returned; a
 * crash loses the open batch whole, never part of a message, and the next
 * run ingests those messages as if for the first time (ingest is
 * idempotent). One commit a batch instead of one a message is a fifth of
 * the work: each commit writes every page it touched, and the case search
 * index a segment, into the write-ahead log. A batch ends early when
 * another writer waits for the lock, and that writer is let in. With a spam
 * filter to ask (email.spam), every message is its own transaction as
 * before, so a slow filter never holds the write lock.
 */
#define INGEST_TX_SECONDS 0.25
#define INGEST_PAUSE_NS 2000000L

typedef struct walk_ctx {
	ca_agent *a;
	const ca_email_opts *opts;
	json_t *results;
	json_t *counts;
	size_t done;
	bool batch;     /* messages are savepoints in a batch transaction */
	double started; /* when the open batch began (ca_time_mono) */
	ca_err *err;
} walk_ctx;

/* Commit the open batch, if any; after a failure nothing of it is left
 * open. Lets a waiting writer in before the next batch begins. */
static int batch_end(walk_ctx *w, ca_err *err)
{
	if (!w->batch || !ca_store_in_transaction(w->a->store))
		return 0;
	int r = ca_store_commit(w->a->store, err);
	if (r)
		ca_store_rollback(w->a->store);
	if (ca_store_contended(w->a->store)) {
		struct timespec pause = { 0, INGEST_PAUSE_NS };
		while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
			;
	}
	return r;
}

static int walk_one(const char *raw, size_t len, size_t received, const char *origin, const ca_err *read_err, void *ud)
{
	walk_ctx *w = ud;
	json_t *res = NULL;
	if (!raw) {
		/* A file we could not read: say so, keep going (nothing to store). */
		res = json_pack("{s:s, s:s, s:s}", "origin", origin, "outcome", "skipped", "reason",
				read_err && read_err->message[0] ? read_err->message : "unreadable");
	} else {
		int r = 0;
		if (w->batch && !ca_store_in_transaction(w->a->store)) {
			r = ca_store_begin(w->a->store, w->err);
			w->started = ca_time_mono();
		}
		if (!r)
			r = ingest_one(w->a, raw, len, received, origin, w->opts ? w->opts->mailbox : NULL, &res, w->err);
		if (!r)
			ca_store_unit_end(w->a->store);
		if (!r && (ca_time_mono() - w->started >= INGEST_TX_SECONDS || ca_store_contended(w->a->store)))
			r = batch_end(w, w->err);
		if (r) {
			json_decref(res);
			return r;
		}
	}
	const char *o = ca_json_str(res, "outcome");
	json_object_set_new(w->counts, o, json_integer(json_integer_value(json_object_get(w->counts, o)) + 1));
	json_array_append_new(w->results, res);
	w->done++;
	if (w->opts && w->opts->progress)
		w->opts->progress(w->done, 0, w->opts->progress_ud);
	return 0;
}

int ca_email_ingest_path(ca_agent *a, const char *path, const ca_email_opts *opts, char **ret_json, ca_err *err)
{
	int r = ca_email_ready(a, err);
	if (r)
		return r;
	walk_ctx w = { .a = a, .opts = opts, .results = json_array(),
		       .counts = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "created", 0, "updated", 0, "attached", 0,
					   "skipped", 0, "spam", 0, "held", 0),
		       .batch = a->settings->email.spam.service.kind == CA_SPAM_SERVICE_NONE &&
				!ca_store_in_transaction(a->store),
		       .err = err };
	/* Each message's savepoint journal in memory (ca_store_temp_in_memory);
	 * where that cannot be had, the batch is only slower. */
	ca_err late = { 0 };
	bool in_memory = w.batch && ca_store_temp_in_memory(a->store, true, &late) == 0;
	r = ca_email_sources_walk(path, a->settings->email.max_message_bytes, walk_one, &w, err);
	/* The messages before a failure stay: the batch they are in is
	 * committed; the first error is the one reported. */
	int rc = batch_end(&w, r ? &late : err);
	if (!r)
		r = rc;
	if (in_memory)
		(void)ca_store_temp_in_memory(a->store, false, &late);
	if (r) {
		json_decref(w.results);
		json_decref(w.counts);
		return r;
	}
	return ca_result(json_pack("{s:s, s:I, s:o, s:o}", "path", path, "emails", (json_int_t)w.done, "outcomes", w.counts,
				   "emails_detail", w.results),
			 ret_json);
}

int ca_email_log(ca_agent *a, size_t limit, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	int r = ca_store_email_log_list(a->store, limit, &list, err);
	return r ? r : ca_result(json_pack("{s:o}", "log", list), ret_json);
}

int ca_email_show(ca_agent *a, int64_t id, char **ret_json, ca_err *err)
{
	json_t *e = NULL, *c = NULL, *sp = NULL;
	int r = ca_store_email_get(a->store, id, &e, err);
	json_t *case_id = json_object_get(e, "case_id");
	if (!r && json_is_integer(case_id) &&
	    !(r = ca_store_case_get_id(a->store, (int64_t)json_integer_value(case_id), &c, err)))
		json_object_set(e, "case", json_object_get(c, "ticket_number"));
	json_decref(c);
	if (!r)
		r = ca_store_email_spam_get(a->store, id, &sp, err);
	if (!r)
		json_object_update(e, sp);
	json_decref(sp);
	if (r) {
		json_decref(e);
		return r;
	}
	return ca_result(e, ret_json);
}

int ca_email_held(ca_agent *a, size_t limit, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	int r = ca_store_email_held_list(a->store, limit, &list, err);
	return r ? r : ca_result(json_pack("{s:o}", "held", list), ret_json);
}

int ca_email_release(ca_agent *a, int64_t id, const char *actor, char **ret_json, ca_err *err)
{
	int r = ca_email_ready(a, err);
	if (r)
		return r;
	if (ca_str_empty(actor))
		return ca_err_set(err, CA_EINVAL, "actor", "e-mail %lld: say who releases it (--actor NAME)", (long long)id);
	json_t *info = NULL, *sp = NULL;
	char *raw = NULL;
	size_t len = 0;
	r = ca_store_email_get(a->store, id, &info, err);
	if (!r)
		r = ca_store_email_spam_get(a->store, id, &sp, err);
	if (!r && !json_is_true(json_object_get(sp, "held"))) {
		const char *by = ca_json_str(sp, "released_by");
		r = by ? ca_err_set(err, CA_ESTATE, "email", "e-mail %lld is not held: %s released it at %s", (long long)id, by,
				    ca_json_str(sp, "released_at") ? ca_json_str(sp, "released_at") : "?")
		       : ca_err_set(err, CA_ESTATE, "email", "e-mail %lld is not held (only spam and unchecked mail is)",
				    (long long)id);
	}
	if (!r)
		r = ca_store_email_raw(a->store, id, &raw, &len, err);
	ca_email e;
	bool parsed = false;
	if (!r) {
		r = ca_email_parse(raw, len, a->settings->email.max_message_bytes, &e, err);
		parsed = r == 0;
	}
	const char *mailbox = ca_json_str(info, "mailbox");
	decision d = { .changed = json_array() };
	ca_buf reason = { 0 };
	if (!r)
		r = ca_store_begin(a->store, err);
	if (!r) {
		/* Cleared first, in the same transaction: a second release fails
		 * on the hold, never routes the message twice. */
		r = ca_store_email_release(a->store, id, actor, err);
		if (!r)
			r = route(a, &e, id, mailbox, &d, err);
		if (!r && !(r = ca_buf_printf(&reason, "released by %s: %s", actor, d.reason))) {
			ca_store_email_log_row row = { .email_id = id, .origin = "release", .outcome = d.outcome,
						       .reason = reason.data, .rule = d.rule, .case_id = d.case_id,
						       .actor = actor };
			r = ca_store_email_log_write(a->store, &row, err);
		}
		if (!r)
			r = ca_store_commit(a->store, err);
		if (r)
			ca_store_rollback(a->store);
	}
	if (!r) {
		char *ticket = NULL;
		if (d.case_id && ca_store_case_ticket(a->store, d.case_id, &ticket, NULL) != 0)
			ticket = NULL;
		r = ca_result(json_pack("{s:I, s:s?, s:s, s:s, s:s?, s:s?, s:O, s:s}", "email_id", (json_int_t)id,
					"message_id", e.message_id, "outcome", d.outcome, "reason", reason.data, "rule",
					d.rule, "case", ticket, "changed", d.changed, "released_by", actor),
			      ret_json);
		free(ticket);
	}
	if (parsed)
		ca_email_done(&e);
	ca_buf_done(&reason);
	json_decref(d.changed);
	json_decref(info);
	json_decref(sp);
	free(raw);
	return r;
}

int ca_outbox(ca_agent *a, char **ret_json, ca_err *err)
{
	json_t *list = NULL;
	int r = ca_store_outbox_list(a->store, NULL, &list, err);
	size_t i;
	json_t *m;
	json_array_foreach(list, i, m) {
		/* The ticket, as a person names the case. */
		json_t *c = NULL, *id = json_object_get(m, "case_id");
		if (r || !json_is_integer(id))
			continue;
		if (!(r = ca_store_case_get_id(a->store, (int64_t)json_integer_value(id), &c, err)))
			json_object_set(m, "case", json_object_get(c, "ticket_number"));
		json_decref(c);
	}
	if (r) {
		json_decref(list);
		return r;
	}
	return ca_result(json_pack("{s:o}", "outbox", list), ret_json);
}
