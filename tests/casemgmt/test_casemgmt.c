/* SPDX-License-Identifier: MIT */
/*
 * Case agent tests against a real SQLite file: the creation gate, update
 * rules to a fixpoint, the update policy (people win; row version stops stale
 * AI writes), audit rows, idempotent events and bad input leaving nothing
 * half-written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "casemgmt.h"
#include "fixture.h"

static const char *SETTINGS =
	"{\"version\":1,\"channels\":{\"chat\":true},"
	"\"fields\":["
	"{\"name\":\"customer\",\"label\":\"Customer\",\"type\":\"lookup\",\"lookup\":\"contact\",\"threshold\":0.6},"
	"{\"name\":\"category\",\"type\":\"option\",\"threshold\":0.3,\"options\":["
	"  {\"value\":\"defect\",\"label\":\"Product defect\",\"description\":\"the device is broken, damaged, faulty, stopped working, will not turn on\",\"cues\":[\"broken\",\"not working\"]},"
	"  {\"value\":\"billing\",\"label\":\"Billing\",\"description\":\"a charge on the invoice, payment, refund of money, double charged\",\"cues\":[\"charged\",\"invoice\"]},"
	"  {\"value\":\"delivery\",\"label\":\"Delivery\",\"description\":\"the parcel has not arrived, shipping is late, tracking\",\"cues\":[\"parcel\",\"tracking\"]}]},"
	"{\"name\":\"description\",\"label\":\"Issue description\",\"type\":\"text\",\"threshold\":0.3},"
	"{\"name\":\"product\",\"type\":\"lookup\",\"lookup\":\"product\",\"threshold\":0.5},"
	"{\"name\":\"serial_number\",\"type\":\"pattern\",\"pattern\":\"\\\\bSN-[0-9]{5}\\\\b\",\"cues\":[\"serial number\",\"serial\"],\"threshold\":0.5},"
	"{\"name\":\"priority\",\"type\":\"option\",\"threshold\":0.2,\"options\":["
	"  {\"value\":\"low\",\"description\":\"not urgent, whenever, no rush, low priority\"},"
	"  {\"value\":\"high\",\"description\":\"urgent, immediately, right now, emergency, asap\"}]}],"
	"\"default_fields\":[\"customer\",\"category\",\"description\"],"
	"\"update_rules\":["
	"  {\"name\":\"defect details\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"category\",\"operator\":\"equals\",\"value\":\"defect\"}]},\"predict\":[\"product\",\"serial_number\"]},"
	"  {\"name\":\"product known\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"product\",\"operator\":\"is_not_empty\"}]},\"predict\":[\"priority\"]}],"
	"\"summary_note_on_close\":true,\"record_agent_experience\":true}";

static int setup(void **state)
{
	fixture *fx = fixture_new("casemgmt");
	*state = fx;
	return fixture_load(fx, SETTINGS,
			    "{\"id\":\"C-1\",\"full_name\":\"Dana Whitfield\",\"email\":\"dana@example.org\"}\n"
			    "{\"id\":\"C-2\",\"full_name\":\"Omar Lindqvist\",\"email\":\"omar@example.net\",\"phone\":\"+1 555 201 3344\"}\n",
			    "{\"id\":\"P-1\",\"name\":\"Blendmaster X200\",\"aliases\":[\"X200 blender\"]}\n"
			    "{\"id\":\"P-2\",\"name\":\"Toastly Pro\"}\n");
}

/* Send one event; returns the parsed result (caller decrefs) or NULL with err. */
__attribute__((format(printf, 3, 0))) static json_t *vevent(ca_agent *a, ca_err *err, const char *fmt,
								 va_list ap)
{
	char buf[4096];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	char *out = NULL;
	ca_err_clear(err);
	if (ca_chat_event(a, buf, &out, err) != 0)
		return NULL;
	json_t *j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

__attribute__((format(printf, 3, 4))) static json_t *event(ca_agent *a, ca_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *j = vevent(a, err, fmt, ap);
	va_end(ap);
	return j;
}

__attribute__((format(printf, 2, 3))) static json_t *ok_event(ca_agent *a, const char *fmt, ...)
{
	ca_err err = { 0 };
	va_list ap;
	va_start(ap, fmt);
	json_t *j = vevent(a, &err, fmt, ap);
	va_end(ap);
	if (!j)
		fprintf(stderr, "event failed: %s (%s)\n", err.message, err.where);
	assert_non_null(j);
	return j;
}

static void say(ca_agent *a, const char *conv, const char *mid, const char *role, const char *text)
{
	char buf[2048];
	snprintf(buf, sizeof(buf),
		 "{\"id\":\"%s-%s\",\"type\":\"message\",\"conversation\":\"%s\",\"message\":{\"id\":\"%s\",\"role\":\"%s\",\"text\":\"%s\"}}",
		 conv, mid, conv, mid, role, text);
	json_decref(ok_event(a, "%s%s", buf, ""));
}

static json_t *case_json(ca_agent *a, const char *ticket)
{
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_case_show(a, ticket, &out, &err), 0);
	json_t *j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

static void open_defect_chat(ca_agent *a, const char *conv)
{
	json_decref(ok_event(a, "{\"id\":\"%s-open\",\"type\":\"open\",\"conversation\":\"%s\"}", conv, conv));
	say(a, conv, "m1", "agent", "Hello, how can I help you today?");
	say(a, conv, "m2", "customer", "Hi, my Blendmaster X200 is broken and not working since yesterday.");
	say(a, conv, "m3", "agent", "Sorry to hear that. May I have your e-mail and the serial number?");
	say(a, conv, "m4", "customer", "dana@example.org, serial number SN-88213");
}

static void test_create_when_all_default_fields_known(void **state)
{
	fixture *fx = *state;
	open_defect_chat(fx->a, "c1");
	json_t *r = ok_event(fx->a, "{\"id\":\"c1-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c1", "");
	assert_true(json_is_true(json_object_get(r, "created")));
	const char *ticket = ca_json_str(r, "case");
	assert_non_null(ticket);
	json_t *c = case_json(fx->a, ticket);
	json_t *f = json_object_get(c, "fields");
	assert_string_equal(ca_json_str(f, "customer"), "C-1");
	assert_string_equal(ca_json_str(f, "category"), "defect");
	assert_non_null(strstr(ca_json_str(f, "description"), "broken"));
	/* rule 1 fired (product, serial), and rule 2 on product: a fixpoint */
	assert_string_equal(ca_json_str(f, "product"), "P-1");
	assert_string_equal(ca_json_str(f, "serial_number"), "SN-88213");
	/* every predicted value carries provenance with evidence */
	json_t *pv = json_object_get(json_object_get(c, "provenance"), "serial_number");
	assert_string_equal(ca_json_str(pv, "source"), "agent");
	json_t *ev = json_array_get(json_object_get(pv, "evidence"), 0);
	assert_string_equal(ca_json_str(ev, "message"), "m4");
	assert_int_equal(json_integer_value(json_object_get(ev, "end")) - json_integer_value(json_object_get(ev, "begin")),
			 strlen("SN-88213"));
	json_decref(c);
	json_decref(r);
}

static void test_withheld_lists_missing_fields(void **state)
{
	fixture *fx = *state;
	json_decref(ok_event(fx->a, "{\"id\":\"c2-open\",\"type\":\"open\",\"conversation\":\"%s\"%s}", "c2", ""));
	say(fx->a, "c2", "m1", "customer", "Hi there");
	say(fx->a, "c2", "m2", "customer", "My toaster is broken and does not heat at all anymore.");
	json_t *r = ok_event(fx->a, "{\"id\":\"c2-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c2", "");
	assert_false(json_is_true(json_object_get(r, "created")));
	assert_true(json_is_null(json_object_get(r, "case")));
	json_t *missing = json_object_get(r, "missing");
	assert_int_equal(json_array_size(missing), 1);
	assert_string_equal(ca_json_str(json_array_get(missing, 0), "field"), "customer");
	int64_t n;
	ca_err err = { 0 };
	assert_int_equal(ca_store_case_count(fx->a->store, &n, &err), 0);
	assert_int_equal(n, 0);
	json_decref(r);
	/* once the customer says who they are, an update creates the case */
	say(fx->a, "c2", "m3", "customer", "I am Omar Lindqvist, omar@example.net");
	r = ok_event(fx->a, "{\"id\":\"c2-upd\",\"type\":\"update\",\"conversation\":\"%s\"%s}", "c2", "");
	assert_true(json_is_true(json_object_get(r, "created")));
	json_decref(r);
}

static void test_person_wins_and_audit(void **state)
{
	fixture *fx = *state;
	open_defect_chat(fx->a, "c3");
	json_t *r = ok_event(fx->a, "{\"id\":\"c3-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c3", "");
	char ticket[32];
	snprintf(ticket, sizeof(ticket), "%s", ca_json_str(r, "case"));
	json_decref(r);
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_case_edit(fx->a, ticket, "priority", "high", "alice", 0, &out, &err), 0);
	free(out);
	say(fx->a, "c3", "m5", "customer", "Honestly it is not urgent at all, no rush, low priority, whenever you can.");
	r = ok_event(fx->a, "{\"id\":\"c3-upd\",\"type\":\"update\",\"conversation\":\"%s\"%s}", "c3", "");
	json_t *changed = json_object_get(r, "changed");
	for (size_t i = 0; i < json_array_size(changed); i++)
		assert_string_not_equal(ca_json_str(json_array_get(changed, i), "field"), "priority");
	json_decref(r);
	json_t *c = case_json(fx->a, ticket);
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "priority"), "high");
	json_decref(c);
	assert_int_equal(ca_case_audit(fx->a, ticket, &out, &err), 0);
	json_t *doc = json_loads(out, 0, NULL);
	json_t *audit = json_object_get(doc, "audit");
	free(out);
	bool person = false, agent_after = false;
	for (size_t i = 0; i < json_array_size(audit); i++) {
		json_t *row = json_array_get(audit, i);
		if (strcmp(ca_json_str(row, "field"), "priority"))
			continue;
		if (!strcmp(ca_json_str(row, "source"), "person")) {
			person = true;
			assert_string_equal(ca_json_str(row, "actor"), "alice");
			assert_string_equal(ca_json_str(row, "new_value"), "high");
		} else if (person) {
			agent_after = true;
		}
	}
	assert_true(person);
	assert_false(agent_after);
	json_decref(doc);
}

static void test_stale_plan_conflicts(void **state)
{
	fixture *fx = *state;
	open_defect_chat(fx->a, "c4");
	json_t *r = ok_event(fx->a, "{\"id\":\"c4-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c4", "");
	char ticket[32];
	snprintf(ticket, sizeof(ticket), "%s", ca_json_str(r, "case"));
	json_decref(r);
	int64_t id, version;
	ca_err err = { 0 };
	assert_int_equal(ca_case_ref(fx->a, ticket, &id, &err), 0);
	/* the agent computes a plan on version V... */
	ca_case_view view = { 0 };
	assert_int_equal(ca_case_view_load(fx->a, id, &view, &version, &err), 0);
	json_object_del(view.fields, "serial_number");
	json_object_del(view.sources, "serial_number");
	json_t *msgs = NULL;
	assert_int_equal(ca_store_message_list(fx->a->store, "c4", &msgs, &err), 0);
	ca_msg *m;
	size_t n;
	assert_int_equal(ca_msgs_from_json(msgs, &m, &n), 0);
	ca_analysis an;
	ca_analysis_init(&an);
	ca_plan plan;
	assert_int_equal(ca_plan_update(fx->a, m, n, &an, NULL, &view, &plan, &err), 0);
	assert_true(plan.n_writes > 0);
	/* ...a person edits the case meanwhile... */
	char *out = NULL;
	assert_int_equal(ca_case_edit(fx->a, ticket, "serial_number", "SN-00001", "bob", version, &out, &err), 0);
	free(out);
	/* ...so the stale plan must not land */
	assert_int_equal(ca_store_begin(fx->a->store, &err), 0);
	assert_int_equal(ca_plan_apply(fx->a, id, version, &plan, NULL, &err), CA_ECONFLICT);
	ca_store_rollback(fx->a->store);
	json_t *c = case_json(fx->a, ticket);
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "serial_number"), "SN-00001");
	json_decref(c);
	/* a person's edit with a stale version is refused too */
	ca_err_clear(&err);
	assert_int_equal(ca_case_edit(fx->a, ticket, "priority", "low", "carol", version, &out, &err), CA_ECONFLICT);
	ca_plan_done(&plan);
	ca_analysis_done(&an);
	ca_case_view_done(&view);
	free(m);
	json_decref(msgs);
}

static void test_replayed_event_is_noop(void **state)
{
	fixture *fx = *state;
	open_defect_chat(fx->a, "c5");
	json_t *r1 = ok_event(fx->a, "{\"id\":\"c5-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c5", "");
	json_t *r2 = ok_event(fx->a, "{\"id\":\"c5-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c5", "");
	assert_true(json_is_true(json_object_get(r2, "replayed")));
	assert_string_equal(ca_json_str(r1, "case"), ca_json_str(r2, "case"));
	int64_t n;
	ca_err err = { 0 };
	assert_int_equal(ca_store_case_count(fx->a->store, &n, &err), 0);
	assert_int_equal(n, 1);
	json_decref(r1);
	json_decref(r2);
}

/* An agent keeps the messages it has read with the conversation's analysis
 * and reads only the ones after them: what another agent (another server
 * thread or process) added since is read all the same. */
static void test_messages_added_elsewhere_are_read(void **state)
{
	fixture *fx = *state;
	ca_agent *other = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_casemgmt_open(fx->db, &other, &err), 0);
	json_decref(ok_event(fx->a, "{\"id\":\"c11-open\",\"type\":\"open\",\"conversation\":\"c11\"}"));
	say(fx->a, "c11", "m1", "agent", "Hello, how can I help you today?");
	say(fx->a, "c11", "m2", "customer", "Hi, my Blendmaster X200 is broken and not working since yesterday.");
	/* this agent reads m1 and m2: no contact yet, so no case */
	json_t *r = ok_event(fx->a, "{\"id\":\"c11-u1\",\"type\":\"update\",\"conversation\":\"c11\"}");
	assert_false(json_is_true(json_object_get(r, "created")));
	json_decref(r);
	say(other, "c11", "m3", "customer", "dana@example.org, serial number SN-77120");
	r = ok_event(fx->a, "{\"id\":\"c11-accept\",\"type\":\"accept\",\"conversation\":\"c11\"}");
	assert_true(json_is_true(json_object_get(r, "created")));
	json_t *c = case_json(fx->a, ca_json_str(r, "case"));
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "customer"), "C-1");
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "serial_number"), "SN-77120");
	json_decref(c);
	json_decref(r);

	/* Past its budget a conversation's messages are not kept (a hostile
	 * chat cannot fill the memory), and are read whole the next time. */
	json_decref(ok_event(fx->a, "{\"id\":\"c12-open\",\"type\":\"open\",\"conversation\":\"c12\"}"));
	say(fx->a, "c12", "m1", "customer", "Hi, my Blendmaster X200 is broken and not working since yesterday.");
	json_decref(ok_event(fx->a, "{\"id\":\"c12-u1\",\"type\":\"update\",\"conversation\":\"c12\"}"));
	assert_true(fx->a->kept_msg_bytes > 0);
	size_t words = 45000, k;
	char *big = malloc(words * 7 + 256);
	assert_non_null(big);
	k = (size_t)snprintf(big, 256, "{\"id\":\"c12-m2\",\"type\":\"message\",\"conversation\":\"c12\",\"message\":{\"id\":\"m2\",\"role\":\"customer\",\"text\":\"");
	for (size_t w = 0; w < words; w++, k += 7)
		memcpy(big + k, "filler ", 7);
	snprintf(big + k, 16, "\"}}");
	char *out = NULL;
	assert_int_equal(ca_chat_event(other, big, &out, &err), 0);
	free(out);
	free(big);
	size_t before = fx->a->kept_msg_bytes;
	json_decref(ok_event(fx->a, "{\"id\":\"c12-u2\",\"type\":\"update\",\"conversation\":\"c12\"}"));
	assert_true(fx->a->kept_msg_bytes < before); /* c12's are no longer kept */
	say(other, "c12", "m3", "customer", "dana@example.org, serial number SN-44211");
	r = ok_event(fx->a, "{\"id\":\"c12-accept\",\"type\":\"accept\",\"conversation\":\"c12\"}");
	assert_true(json_is_true(json_object_get(r, "created")));
	c = case_json(fx->a, ca_json_str(r, "case"));
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "serial_number"), "SN-44211");
	json_decref(c);
	json_decref(r);
	ca_agent_close(other);
}

/* Group commit (ca_agent_batch_begin): an undone batch leaves nothing, in
 * the database or in what the agent kept of the conversation; a committed
 * one is there for every connection. */
static void test_batch_undone_and_committed(void **state)
{
	fixture *fx = *state;
	ca_agent *other = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_casemgmt_open(fx->db, &other, &err), 0);
	json_decref(ok_event(fx->a, "{\"id\":\"c13-open\",\"type\":\"open\",\"conversation\":\"c13\"}"));
	say(fx->a, "c13", "m1", "customer", "Hi, my Blendmaster X200 is broken and not working since yesterday.");
	json_decref(ok_event(fx->a, "{\"id\":\"c13-u1\",\"type\":\"update\",\"conversation\":\"c13\"}"));
	assert_int_equal(ca_agent_batch_begin(fx->a, &err), 0);
	assert_int_equal(ca_agent_batch_begin(fx->a, &err), CA_ESTATE); /* one at a time */
	say(fx->a, "c13", "m2", "customer", "dana@example.org, serial number SN-90001");
	json_decref(ok_event(fx->a, "{\"id\":\"c13-u2\",\"type\":\"update\",\"conversation\":\"c13\"}"));
	assert_int_equal(ca_agent_batch_end(fx->a, false, &err), 0);
	assert_int_equal(ca_agent_batch_end(fx->a, false, &err), CA_ESTATE);
	/* the undone message's id is free (the same id with other content
	 * would be refused), and the agent reads the new one, not its memory */
	say(other, "c13", "m2", "customer", "dana@example.org, serial number SN-90002");
	json_t *r = ok_event(fx->a, "{\"id\":\"c13-accept\",\"type\":\"accept\",\"conversation\":\"c13\"}");
	assert_true(json_is_true(json_object_get(r, "created")));
	json_t *c = case_json(fx->a, ca_json_str(r, "case"));
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "serial_number"), "SN-90002");
	json_decref(c);
	json_decref(r);

	assert_int_equal(ca_agent_batch_begin(fx->a, &err), 0);
	json_decref(ok_event(fx->a, "{\"id\":\"c14-open\",\"type\":\"open\",\"conversation\":\"c14\"}"));
	say(fx->a, "c14", "m1", "customer", "Hello there");
	char *out = NULL;
	assert_int_equal(ca_conversation_show(other, "c14", &out, &err), CA_ENOTFOUND); /* not yet committed */
	ca_err_clear(&err);
	assert_int_equal(ca_agent_batch_end(fx->a, true, &err), 0);
	assert_int_equal(ca_conversation_show(other, "c14", &out, &err), 0);
	json_t *conv = json_loads(out, 0, NULL);
	free(out);
	assert_int_equal(json_array_size(json_object_get(conv, "messages")), 1);
	json_decref(conv);
	ca_agent_close(other);
}

static void test_close_writes_summary_note(void **state)
{
	fixture *fx = *state;
	open_defect_chat(fx->a, "c6");
	say(fx->a, "c6", "m5", "agent", "I have issued a replacement; it will arrive within 3 days.");
	json_t *r = ok_event(fx->a, "{\"id\":\"c6-close\",\"type\":\"close\",\"conversation\":\"%s\"%s}", "c6", "");
	assert_true(json_is_true(json_object_get(r, "created")));
	assert_true(json_is_true(json_object_get(r, "note")));
	json_t *c = case_json(fx->a, ca_json_str(r, "case"));
	json_t *note = json_array_get(json_object_get(c, "notes"), 0);
	assert_string_equal(ca_json_str(note, "kind"), "summary");
	assert_non_null(strstr(ca_json_str(note, "body"), "Issue:"));
	json_decref(c);
	json_decref(r);
	/* closed conversations take no more events */
	ca_err err = { 0 };
	assert_null(event(fx->a, &err, "{\"id\":\"c6-late\",\"type\":\"update\",\"conversation\":\"c6\"}"));
	assert_int_equal(err.code, CA_ESTATE);
}

static void test_bad_events(void **state)
{
	fixture *fx = *state;
	ca_err err = { 0 };
	assert_null(event(fx->a, &err, "{\"id\":\"x1\",\"type\":\"accept\",\"conversation\":\"nope\"}"));
	assert_int_equal(err.code, CA_ENOTFOUND);
	assert_non_null(strstr(err.message, "nope"));
	assert_null(event(fx->a, &err, "{\"id\":\"x2\",\"type\":\"fly\",\"conversation\":\"c1\"}"));
	assert_int_equal(err.code, CA_EINVAL);
	assert_null(event(fx->a, &err, "{\"id\":\"x3\",\"type\":\"open\",\"conversation\":\"c9\",\"colour\":1}"));
	assert_string_equal(err.where, "colour");
	assert_null(event(fx->a, &err, "{\"id\":\"x4\",\"type\":\"open\",\"conversation\":\"c9\",\"identity\":\"C-404\"}"));
	assert_non_null(strstr(err.message, "C-404"));
	/* nothing of the failed open was kept */
	json_t *c = NULL;
	assert_int_equal(ca_store_conversation_get(fx->a->store, "c9", &c, &err), CA_ENOTFOUND);
	/* invalid UTF-8 in a message */
	json_decref(ok_event(fx->a, "{\"id\":\"c8-open\",\"type\":\"open\",\"conversation\":\"%s\"%s}", "c8", ""));
	assert_null(event(fx->a, &err, "{\"id\":\"x5\",\"type\":\"message\",\"conversation\":\"c8\",\"message\":{\"id\":\"m1\",\"role\":\"customer\",\"text\":\"caf\\u00e9 \\ud800\"}}"));
	/* a 2 MB message */
	size_t big = 2u << 20;
	char *ev = malloc(big + 256);
	int k = snprintf(ev, 256, "{\"id\":\"x6\",\"type\":\"message\",\"conversation\":\"c8\",\"message\":{\"id\":\"m2\",\"role\":\"customer\",\"text\":\"");
	memset(ev + k, 'a', big);
	snprintf(ev + k + big, 16, "\"}}");
	char *out = NULL;
	ca_err_clear(&err);
	assert_int_equal(ca_chat_event(fx->a, ev, &out, &err), CA_ETOOBIG);
	assert_non_null(strstr(err.message, "m2"));
	free(ev);
	json_t *msgs = NULL;
	assert_int_equal(ca_store_message_list(fx->a->store, "c8", &msgs, &err), 0);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
}

static void test_unknown_settings_key(void **state)
{
	fixture *fx = *state;
	char p[160];
	snprintf(p, sizeof(p), "%s/bad.json", fx->dir);
	write_file(p, "{\"version\":1,\"fields\":[{\"name\":\"x\",\"type\":\"text\"}],\"default_fields\":[\"x\"],\"colour\":\"red\"}");
	ca_err err = { 0 };
	assert_int_equal(ca_settings_import_file(fx->a, p, &err), CA_EINVAL);
	assert_string_equal(err.where, "colour");
	write_file(p, "{\"version\":1,\"fields\":[{\"name\":\"x\",\"type\":\"texty\"}],\"default_fields\":[\"x\"]}");
	ca_err_clear(&err);
	assert_int_equal(ca_settings_import_file(fx->a, p, &err), CA_EINVAL);
	assert_string_equal(err.where, "fields[0].type");
	/* the stored settings are unchanged */
	char *s = NULL;
	assert_int_equal(ca_settings_export(fx->a, &s, &err), 0);
	assert_non_null(strstr(s, "serial_number"));
	free(s);
}

/* Knowledge settings: a rule's template and the case attribute mapping are
 * validated, and the error names the key. */
/* casemgmt never names the knowledge agent: it calls the hook the public
 * ca_agent_open installs, and without one reports the trigger "off". */
static void test_resolve_calls_the_module_hook(void **state)
{
	fixture *fx = *state;
	open_defect_chat(fx->a, "c7");
	json_t *r = ok_event(fx->a, "{\"id\":\"c7-accept\",\"type\":\"accept\",\"conversation\":\"%s\"%s}", "c7", "");
	char *ticket = strdup(ca_json_str(r, "case"));
	json_decref(r);
	ca_agent *alone = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_casemgmt_open(fx->db, &alone, &err), 0);
	assert_null(alone->hooks.record_done);
	char *out = NULL;
	assert_int_equal(ca_case_resolve(alone, ticket, "Replaced the blade assembly under warranty", "ann", &out, &err), 0);
	json_t *res = json_loads(out, 0, NULL);
	free(out);
	assert_string_equal(ca_json_str(json_object_get(res, "knowledge"), "outcome"), "off");
	json_decref(res);
	ca_agent_close(alone);
	/* the public agent: the knowledge agent drafts from the resolved case
	 * (these settings keep the default knowledge block) */
	assert_non_null(fx->a->hooks.record_done);
	assert_int_equal(ca_case_reactivate(fx->a, ticket, "ann", &out, &err), 0);
	free(out);
	assert_int_equal(ca_case_resolve(fx->a, ticket, "Replaced the blade assembly under warranty", "ann", &out, &err), 0);
	res = json_loads(out, 0, NULL);
	free(out);
	json_t *k = json_object_get(res, "knowledge");
	assert_string_equal(ca_json_str(k, "outcome"), "drafted");
	assert_string_equal(ca_json_str(k, "record_type"), "case");
	json_decref(res);
	free(ticket);
}

static void test_knowledge_settings_errors(void **state)
{
	fixture *fx = *state;
	static const struct {
		const char *knowledge, *where;
	} bad[] = {
		{ "{\"rules\":[{\"name\":\"r\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"x\",\"operator\":\"is_not_empty\"}]},"
		  "\"template\":{\"name\":\"t\",\"sections\":[{\"heading\":\"Fix\",\"from\":\"colour\"}]}}]}",
		  "knowledge.rules[0].template.sections[0]" },
		{ "{\"rules\":[{\"name\":\"r\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"x\",\"operator\":\"is_not_empty\"}]},"
		  "\"template\":{\"name\":\"t\",\"sections\":[{\"heading\":\"Symptoms\",\"from\":\"issue\"}]}}]}",
		  "knowledge.rules[0].template" },
		{ "{\"rules\":[{\"name\":\"r\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"x\",\"operator\":\"is_not_empty\"}]},"
		  "\"template\":{\"name\":\"t\",\"sections\":[]}}]}",
		  "knowledge.rules[0].template" },
		{ "{\"case_attributes\":{\"title\":{\"field\":\"no_such_field\"}}}", "knowledge.case_attributes.title" },
		{ "{\"case_attributes\":{\"notes\":{\"field\":\"x\"}}}", "knowledge.case_attributes.notes" },
		{ "{\"case_attributes\":{\"subject\":\"yes\"}}", "knowledge.case_attributes.subject" },
	};
	char p[160];
	snprintf(p, sizeof(p), "%s/k.json", fx->dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text),
			 "{\"version\":1,\"fields\":[{\"name\":\"x\",\"type\":\"text\"}],\"default_fields\":[\"x\"],"
			 "\"knowledge\":%s}",
			 bad[i].knowledge);
		write_file(p, text);
		ca_err err = { 0 };
		assert_int_equal(ca_settings_import_file(fx->a, p, &err), CA_EINVAL);
		assert_string_equal(err.where, bad[i].where);
	}
	/* a valid mapping and template */
	write_file(p, "{\"version\":1,\"fields\":[{\"name\":\"x\",\"type\":\"text\"}],\"default_fields\":[\"x\"],"
		      "\"knowledge\":{\"case_attributes\":{\"description\":{\"field\":\"x\"},\"notes\":false},"
		      "\"rules\":[{\"name\":\"r\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"x\",\"operator\":\"is_not_empty\"}]},"
		      "\"template\":{\"name\":\"t\",\"sections\":[{\"heading\":\"Fix\",\"from\":\"resolution\"}]}}]}}");
	ca_err err = { 0 };
	assert_int_equal(ca_settings_import_file(fx->a, p, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_when_all_default_fields_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withheld_lists_missing_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_person_wins_and_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_added_elsewhere_are_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_undone_and_committed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_plan_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_event_is_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_writes_summary_note, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_settings_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_calls_the_module_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knowledge_settings_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
