/* SPDX-License-Identifier: MIT */
/*
 * The follow-up agent's step machine (docs/followup.md): at each tick, for
 * every open case the first active follow-up rule matches, whose owner's
 * agent experience profile enables autonomous follow-up and closure, it
 * decides from the case's latest messages and its own earlier steps whether
 * to wait, send follow-up N, stop (a favourable reply), hand the case to a
 * person (a draft reply) or resolve it after the last follow-up. A case is
 * decided in a read snapshot first; only a decision other than wait is
 * decided again under the write lock and applied in one transaction with
 * its step row (UNIQUE (case, step)), outbox message, suggestion, audit and
 * interaction-log rows, so restarts and concurrent runs queue a step once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "followup.h"
#include "fu_internal.h"
#include "text.h"

/* Steps and replies read per case: a sequence has at most 10 follow-ups,
 * so the newest 16 steps hold the whole current one and its end. */
#define MAX_STEPS 16
#define MAX_REPLIES 5

static const char ai_note[] =
	"\n\n--\nThis message was written and sent by the caseagent follow-up agent (AI), on behalf of our support team.";

bool fu_status_closed(const char *status)
{
	return ca_streq_ci(status, "resolved") || ca_streq_ci(status, "cancelled") || ca_streq_ci(status, "closed");
}

static int64_t jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* ---- time: waits, optionally in business hours ---- */

int64_t fu_due(const ca_followup_settings *fs, const ca_followup_rule *fr, int64_t anchor)
{
	if (!fs->calendar.on)
		return anchor + fr->wait_s;
	int64_t day_len = (int64_t)(fs->calendar.end_min - fs->calendar.start_min) * 60;
	int64_t left = fr->wait_days ? (int64_t)fr->wait_n * day_len : (int64_t)fr->wait_n * 3600;
	int64_t off = (int64_t)fs->calendar.utc_offset_min * 60, start = fs->calendar.start_min * 60,
		end = fs->calendar.end_min * 60;
	int64_t t = anchor;
	/* At most two steps per calendar day, and a wait is at most a year of
	 * business time, with every weekday possibly off but one. */
	for (int guard = 0; guard < 8 * 366 * 2; guard++) {
		int64_t local = t + off;
		int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
		int64_t sod = local - day * 86400;
		int wday = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
		if (!(fs->calendar.days & (1u << wday)) || sod >= end) {
			t += 86400 - sod + start; /* the next day's opening */
			continue;
		}
		if (sod < start) {
			t += start - sod;
			continue;
		}
		if (left <= end - sod)
			return t + left;
		left -= end - sod;
		t += end - sod;
	}
	return t;
}

/* ---- text ---- */

/* The first sentences of a reply, at most `max` bytes, cut on a UTF-8
 * boundary: what a person reads on the suggestion card. Caller frees. */
char *fu_summary(const char *text, size_t max)
{
	if (!text)
		return NULL;
	while (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')
		text++;
	size_t n = strlen(text), cut = n < max ? n : max;
	for (size_t i = 40; i < cut; i++)
		if ((text[i] == '.' || text[i] == '?' || text[i] == '!') && (i + 1 == n || text[i + 1] == ' ' || text[i + 1] == '\n')) {
			cut = i + 1;
			break;
		}
	cut = ca_utf8_cut(text, n, cut);
	char *s = strndup(text, cut);
	for (char *p = s; p && *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return s;
}

/* Expand a follow-up template's placeholders (the list in settings.c,
 * ca_followup_placeholders, and {field:NAME}). */
static int expand(const char *tpl, const fu_case *fc, unsigned step, unsigned steps, ca_buf *out)
{
	const json_t *fields = json_object_get(fc->c, "fields");
	int r = 0;
	for (const char *p = tpl; !r && *p;) {
		const char *q = *p == '{' ? strchr(p, '}') : NULL;
		if (!q) {
			const char *o = strchr(p + 1, '{');
			size_t n = o ? (size_t)(o - p) : strlen(p);
			r = ca_buf_append(out, p, n);
			p += n;
			continue;
		}
		char name[128];
		size_t n = (size_t)(q - p - 1);
		if (n >= sizeof(name)) {
			r = ca_buf_append(out, p, 1);
			p++;
			continue;
		}
		memcpy(name, p + 1, n);
		name[n] = '\0';
		char num[32];
		const char *v = NULL;
		bool known = true;
		if (!strcmp(name, "ticket"))
			v = fc->ticket;
		else if (!strcmp(name, "token"))
			v = fc->token;
		else if (!strcmp(name, "title"))
			v = ca_json_str(fields, "title");
		else if (!strcmp(name, "customer_name"))
			v = fc->customer_name ? fc->customer_name : "customer";
		else if (!strcmp(name, "owner"))
			v = ca_json_str(fields, "owner");
		else if (!strcmp(name, "status_reason"))
			v = ca_json_str(fields, "status_reason");
		else if (!strcmp(name, "step") || !strcmp(name, "followups") || !strcmp(name, "days_waiting")) {
			long long x = !strcmp(name, "step") ? step : !strcmp(name, "followups") ? steps : fc->days_waiting;
			snprintf(num, sizeof(num), "%lld", x);
			v = num;
		} else if (!strncmp(name, "field:", 6))
			v = ca_json_str(fields, name + 6);
		else
			known = false;
		if (known) {
			r = ca_buf_puts(out, v ? v : "");
			p = q + 1;
		} else {
			r = ca_buf_append(out, p, 1);
			p++;
		}
	}
	if (!r && !out->data)
		r = ca_buf_puts(out, "");
	return r ? CA_ENOMEM : 0;
}

/* The decision's e-mail from the subject and body built (r: whether
 * building them failed). */
static int take_email(int r, ca_buf *s, ca_buf *b, fu_decision *d)
{
	if (r) {
		ca_buf_done(s);
		ca_buf_done(b);
		return CA_ENOMEM;
	}
	d->subject = ca_buf_steal(s);
	d->body = ca_buf_steal(b);
	return 0;
}

/* The e-mail of follow-up `step` (1-based) of rule fr. */
static int followup_email(const ca_followup_settings *fs, const ca_followup_rule *fr, const fu_case *fc, unsigned step,
			  fu_decision *d)
{
	const ca_followup_template *tv = fr->n_templates ? fr->templates : fs->templates;
	size_t tn = fr->n_templates ? fr->n_templates : fs->n_templates;
	const ca_followup_template *t = &tv[step - 1 < tn ? step - 1 : tn - 1];
	ca_buf s = { 0 }, b = { 0 };
	int r = expand(t->subject, fc, step, fr->followups, &s);
	if (!r)
		r = expand(t->body, fc, step, fr->followups, &b);
	/* The token in the subject threads the answer (as ca_case_email_queue
	 * adds it); the note says who wrote it. */
	if (!r && fc->token && !strstr(s.data, fc->token))
		r = ca_buf_printf(&s, " %s", fc->token);
	if (!r)
		r = ca_buf_puts(&b, ai_note);
	return take_email(r, &s, &b, d);
}

/* A draft answer to a reply a person takes over. */
static int draft_reply(const fu_case *fc, ca_reply_intent intent, fu_decision *d)
{
	const char *middle = intent == CA_REPLY_STILL_PROBLEM
				     ? "We are sorry the problem is not solved yet. We are looking into it again and will "
				       "come back to you shortly."
			     : intent == CA_REPLY_QUESTION_OR_INFO
				     ? "Thank you for the information and your question. We are reviewing it and will "
				       "answer shortly."
				     : "We are reviewing your message and will answer shortly.";
	ca_buf s = { 0 }, b = { 0 };
	const char *title = ca_json_str(json_object_get(fc->c, "fields"), "title");
	int r = ca_buf_printf(&s, "Re: %s %s", title ? title : fc->ticket, fc->token ? fc->token : "");
	if (!r)
		r = ca_buf_printf(&b, "Hello %s,\n\nThank you for your reply about case %s. %s",
				  fc->customer_name ? fc->customer_name : "customer", fc->ticket, middle);
	return take_email(r, &s, &b, d);
}

void fu_decision_done(fu_decision *d)
{
	free(d->subject);
	free(d->body);
	free(d->resolution);
	free(d->summary);
	json_decref(d->evidence);
	memset(d, 0, sizeof(*d));
}

void fu_case_done(fu_case *fc)
{
	json_decref(fc->c);
	json_decref(fc->st);
	free(fc->token);
	free(fc->customer_name);
	memset(fc, 0, sizeof(*fc));
}

/* ---- reading a case ---- */

int fu_case_load(ca_agent *a, int64_t id, fu_case *fc, ca_err *err)
{
	memset(fc, 0, sizeof(*fc));
	fc->id = id;
	int r = ca_store_case_get_id(a->store, id, &fc->c, err);
	if (!r)
		r = ca_store_followup_case(a->store, id, MAX_REPLIES, MAX_STEPS, &fc->st, err);
	if (r) {
		fu_case_done(fc);
		return r;
	}
	fc->ticket = ca_json_str(fc->c, "ticket_number");
	const ca_email_settings *es = &a->settings->email;
	ca_buf t = { 0 };
	if (ca_buf_printf(&t, "%s%s%s", es->token_prefix ? es->token_prefix : "[", fc->ticket,
			  es->token_suffix ? es->token_suffix : "]")) {
		fu_case_done(fc);
		return CA_ENOMEM;
	}
	fc->token = ca_buf_steal(&t);
	return 0;
}

/* The contact's name, for the e-mail (read only when one is written). */
static int customer_name(ca_agent *a, fu_case *fc, ca_err *err)
{
	const char *cust = ca_json_str(json_object_get(fc->c, "fields"), "customer");
	if (!cust || fc->customer_name)
		return 0;
	json_t *ct = NULL;
	int r = ca_store_directory_get(a->store, "contact", cust, &ct, err);
	if (r == CA_ENOTFOUND) {
		ca_err_clear(err);
		return 0;
	}
	const char *name = ca_json_str(ct, "full_name");
	if (!r && name && !(fc->customer_name = strdup(name)))
		r = CA_ENOMEM;
	json_decref(ct);
	return r;
}

/* Whether the rule's conditions and trigger hold on the case. */
static bool rule_matches(const ca_followup_rule *fr, const fu_case *fc, bool waiting, bool replied)
{
	const json_t *fields = json_object_get(fc->c, "fields");
	if (fr->condition && !ca_rule_eval(fr->condition, fields))
		return false;
	if (fr->status_reason && !ca_streq_ci(ca_json_str(fields, "status_reason"), fr->status_reason))
		return false;
	/* waiting on the customer: our message is unanswered, or was answered
	 * by the reply not yet read; customer_replied: that reply is there. */
	if (fr->reply_context && !strcmp(fr->reply_context, "waiting_on_customer") && !waiting && !replied)
		return false;
	if (fr->reply_context && !strcmp(fr->reply_context, "customer_replied") && !replied)
		return false;
	return true;
}

/* ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" as the store writes it -> epoch. */
static int64_t iso_epoch(const char *iso)
{
	if (!iso || strlen(iso) < 19)
		return 0;
	struct tm tm = { 0 };
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

json_t *ca_reply_mail_headers(const char *subject, bool automatic)
{
	json_t *h = json_pack("{s:s?}", "Subject", subject);
	if (h && automatic && json_object_set_new(h, "Auto-Submitted", json_string("auto-replied")) < 0) {
		json_decref(h);
		return NULL;
	}
	return h;
}

int fu_read_reply(const json_t *e, const char *context, ca_reply_reading *rd, ca_err *err)
{
	const char *text = ca_json_str(e, "reply_text");
	if (ca_str_empty(text))
		text = ca_json_str(e, "body_text");
	const char *ak = ca_json_str(e, "auto_kind");
	json_t *h = ca_reply_mail_headers(ca_json_str(e, "subject"), ak && strcmp(ak, "none"));
	if (!h)
		return CA_ENOMEM;
	ca_err e2 = { 0 };
	int r = ca_reply_read_ctx(text ? text : "", context, h, rd, &e2);
	json_decref(h);
	if (r == CA_ENOMEM)
		return r;
	if (r) {
		memset(rd, 0, sizeof(*rd));
		rd->intent = CA_REPLY_UNCLEAR;
		rd->confidence = 0;
	}
	(void)err;
	return 0;
}

/*
 * Decide one case: fill *d (decision "left_alone", "wait", "send_followup",
 * "stop", "hand_to_person", "resolve"). Reads only; the e-mail, draft and
 * resolution a decision would write are generated here, so a simulation
 * shows them.
 */
int fu_decide(ca_agent *a, fu_tick *t, fu_case *fc, fu_decision *d, ca_err *err)
{
	const ca_followup_settings *fs = &a->settings->followup;
	const json_t *fields = json_object_get(fc->c, "fields");
	const json_t *st = fc->st, *steps = json_object_get(st, "steps"), *replies = json_object_get(st, "replies");
	const json_t *rep_out = json_object_get(st, "rep_out"), *pending = json_object_get(st, "suggestion");
	int64_t now = t->now;
	memset(d, 0, sizeof(*d));
	d->decision = "wait";
	d->intent = CA_REPLY_N;
	if (fu_status_closed(ca_json_str(fields, "status"))) {
		d->decision = NULL; /* not an open case: no rule applies */
		return 0;
	}
	/* The last message to the customer: a person's, or a follow-up queued. */
	int64_t out_last = json_is_object(rep_out) ? jint(rep_out, "at_epoch") : 0;
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s) {
		if (jint(s, "outbox_id") && jint(s, "at_epoch") > out_last)
			out_last = jint(s, "at_epoch");
	}
	/* Before any message to the customer, the case has waited since its
	 * status reason was set (else since it was created). */
	int64_t since = out_last;
	if (!since)
		since = iso_epoch(ca_json_str(st, "status_reason_at"));
	if (!since)
		since = iso_epoch(ca_json_str(fc->c, "created_at"));
	/* The customer's reply: the newest e-mail since then that is not automatic. */
	const json_t *reply = NULL;
	ca_reply_reading rd = { 0 };
	bool skipped_auto = false;
	json_t *e;
	json_array_foreach(replies, i, e) {
		if (jint(e, "received_epoch") <= since)
			break;
		const json_t *lo = json_object_get(st, "last_out");
		const char *context = json_is_object(lo) && jint(lo, "at_epoch") <= jint(e, "received_epoch")
					      ? ca_json_str(lo, "body")
					      : NULL;
		int r = fu_read_reply(e, context, &rd, err);
		if (r)
			return r;
		if (rd.intent == CA_REPLY_AUTOMATIC) {
			skipped_auto = true;
			ca_reply_reading_clear(&rd);
			continue;
		}
		reply = e;
		break;
	}
	bool waiting = out_last && !reply;
	/* the first active rule that matches */
	const ca_followup_rule *fr = NULL;
	for (size_t k = 0; k < fs->n_rules && !fr; k++) {
		const ca_followup_rule *x = &fs->rules[k];
		/* a rule named for the run is tried even if inactive (simulate
		 * before switching it on), at its place in the order */
		if ((x->active || (t->rule && !strcmp(t->rule, x->name))) && rule_matches(x, fc, waiting, reply != NULL))
			fr = x;
	}
	if (!fr || (t->rule && strcmp(fr->name, t->rule))) {
		ca_reply_reading_clear(&rd);
		d->decision = NULL;
		return 0;
	}
	d->rule = fr;
	/* only for an owner whose profile enables it */
	const char *owner = ca_json_str(fields, "owner");
	fu_owner_state os = FU_OWNER_NONE;
	int r = owner ? fu_owner(a, t, owner, &os, err) : 0;
	if (r) {
		ca_reply_reading_clear(&rd);
		return r;
	}
	if (os != FU_OWNER_ON) {
		d->decision = "left_alone";
		snprintf(d->reason, sizeof(d->reason), "%s",
			 os == FU_OWNER_NONE	 ? "the case has no owner, so no profile enables autonomous follow-up"
			 : os == FU_OWNER_UNKNOWN ? "the case's owner is not a user, so no profile enables autonomous follow-up"
						  : "the owner's agent experience profile does not enable autonomous case "
						    "follow-up and closure");
		ca_reply_reading_clear(&rd);
		return 0;
	}
	int64_t last_step = json_array_size(steps) ? jint(json_array_get(steps, 0), "step") : 0;
	d->step_no = last_step + 1;
	if (reply) {
		d->reply_email_id = jint(reply, "id");
		d->intent = rd.intent;
		d->confidence = rd.confidence;
		d->evidence = json_incref(rd.evidence);
		d->basis_reply = jint(reply, "received_epoch");
		const char *text = ca_json_str(reply, "reply_text");
		d->summary = fu_summary(ca_str_empty(text) ? ca_json_str(reply, "body_text") : text, 280);
		ca_reply_reading_clear(&rd);
		json_array_foreach(steps, i, s) {
			if (jint(s, "reply_email_id") == d->reply_email_id) {
				snprintf(d->reason, sizeof(d->reason), "the customer's reply was read already (%s at step %lld)",
					 ca_json_str(s, "decision"), (long long)jint(s, "step"));
				return 0; /* wait */
			}
		}
		d->supersede = json_is_object(pending) ? jint(pending, "id") : 0;
		if (d->intent == CA_REPLY_RESOLVED) {
			d->decision = "stop";
			snprintf(d->reason, sizeof(d->reason), "the customer's reply says the problem is solved (confidence %.2f)",
				 d->confidence);
			const json_t *ev0 = json_array_get(d->evidence, 0);
			ca_buf b = { 0 };
			if (ca_buf_printf(&b, "The customer confirmed the case is solved: \"%s\". Resolved by the follow-up "
					      "agent (rule \"%s\").",
					  ev0 && ca_json_str(ev0, "text") ? ca_json_str(ev0, "text") : d->summary ? d->summary : "",
					  fr->name))
				return CA_ENOMEM;
			d->resolution = ca_buf_steal(&b);
			d->resolve_reason = "confirmed_by_customer";
			return 0;
		}
		d->decision = "hand_to_person";
		snprintf(d->reason, sizeof(d->reason), "the customer's reply reads as %s (confidence %.2f): a person answers",
			 ca_reply_intent_name(d->intent), d->confidence);
		r = customer_name(a, fc, err);
		return r ? r : draft_reply(fc, d->intent, d);
	}
	ca_reply_reading_clear(&rd);
	/* No reply. The sequence: steps since the last that ended one. */
	const json_t *end = NULL;
	int64_t sent = 0;
	const json_t *unsent = NULL;
	json_array_foreach(steps, i, s) {
		const char *dec = ca_json_str(s, "decision");
		bool is_send = ca_streq(dec, "send_followup");
		bool open_suggestion = json_is_object(pending) && jint(pending, "id") == jint(s, "suggestion_id");
		if (!is_send || (!jint(s, "outbox_id") && !open_suggestion)) {
			end = s;
			break;
		}
		if (jint(s, "outbox_id") && jint(s, "followup") > sent)
			sent = jint(s, "followup");
		if (!jint(s, "outbox_id"))
			unsent = s;
	}
	int64_t rep_at = json_is_object(rep_out) ? jint(rep_out, "at_epoch") : 0;
	if (end && rep_at <= jint(end, "at_epoch")) {
		snprintf(d->reason, sizeof(d->reason), "step %lld (%s) ended the follow-ups; waiting for a person or the customer "
			 "to write", (long long)jint(end, "step"), ca_json_str(end, "decision"));
		return 0;
	}
	if (unsent) {
		snprintf(d->reason, sizeof(d->reason), "follow-up %lld awaits a person's confirmation (suggestion %lld)",
			 (long long)jint(unsent, "followup"), (long long)jint(unsent, "suggestion_id"));
		return 0;
	}
	/* A representative's own unanswered e-mail counts as the first. */
	if (!sent && rep_at && (!end || rep_at > jint(end, "at_epoch")))
		sent = 1;
	int64_t anchor = sent ? out_last : since;
	d->followup_no = sent;
	d->basis_out = anchor;
	int64_t due = fu_due(fs, fr, anchor);
	fc->days_waiting = anchor && now > anchor ? (now - anchor) / 86400 : 0;
	char due_iso[21];
	ca_time_iso(due, due_iso);
	if (now < due) {
		if (sent < fr->followups)
			snprintf(d->reason, sizeof(d->reason), "follow-up %lld is due at %s%s", (long long)sent + 1, due_iso,
				 skipped_auto ? " (an automatic reply does not count as an answer)" : "");
		else
			snprintf(d->reason, sizeof(d->reason), "%s is due at %s", fr->after_last_resolve ? "resolution" : "the resolution suggestion", due_iso);
		return 0;
	}
	if (sent < fr->followups) {
		d->decision = "send_followup";
		d->followup_no = sent + 1;
		snprintf(d->reason, sizeof(d->reason), "no answer since %s: follow-up %lld of %u%s",
			 sent ? "the last message to the customer" : "the trigger held", (long long)d->followup_no,
			 fr->followups, skipped_auto ? " (an automatic reply does not count as an answer)" : "");
		r = customer_name(a, fc, err);
		return r ? r : followup_email(fs, fr, fc, (unsigned)d->followup_no, d);
	}
	d->decision = "resolve";
	char last_iso[21];
	ca_time_iso(anchor, last_iso);
	snprintf(d->reason, sizeof(d->reason), "no answer to %lld follow-up%s, the last on %s", (long long)sent,
		 sent == 1 ? "" : "s", last_iso);
	ca_buf b = { 0 };
	if (ca_buf_printf(&b, "Resolved by the follow-up agent (rule \"%s\"): the customer did not answer %lld follow-up%s; "
			      "the last was sent on %s.",
			  fr->name, (long long)sent, sent == 1 ? "" : "s", last_iso))
		return CA_ENOMEM;
	d->resolution = ca_buf_steal(&b);
	d->resolve_reason = "no_response_from_customer";
	return 0;
}

int fu_owner(ca_agent *a, fu_tick *t, const char *owner, fu_owner_state *ret, ca_err *err)
{
	for (size_t i = 0; i < t->n_owners; i++)
		if (!strcmp(t->owners[i].name, owner)) {
			*ret = t->owners[i].state;
			return 0;
		}
	bool found = false, on = false;
	char *profile = NULL;
	int r = ca_store_user_followup(a->store, owner, &found, &profile, &on, err);
	free(profile);
	if (r)
		return r;
	*ret = !found ? FU_OWNER_UNKNOWN : on ? FU_OWNER_ON : FU_OWNER_OFF;
	if (t->n_owners < FU_OWNER_CACHE) {
		char *n = strdup(owner);
		if (!n)
			return CA_ENOMEM;
		t->owners[t->n_owners].name = n;
		t->owners[t->n_owners++].state = *ret;
	}
	return 0;
}
