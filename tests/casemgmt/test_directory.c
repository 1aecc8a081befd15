/* SPDX-License-Identifier: MIT */
/*
 * The directory at scale, against real SQLite files: an event's database
 * work does not grow with the number of contacts (the agent looks contacts
 * up through the store's key indexes and never loads the directory; the
 * measure is the store's deterministic work count, SQLite VM steps, never
 * time), contacts are still found by e-mail, phone, user name, account
 * number and name, a contact added after the agent was loaded is found,
 * and a directory import validates the whole file first: a CSV with a byte
 * order mark imports, a repeated id is an error naming both lines, and a
 * bad record anywhere writes nothing of the file.
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
	"  {\"value\":\"defect\",\"label\":\"Product defect\",\"description\":\"the device is broken, damaged, faulty, stopped working\",\"cues\":[\"broken\"]},"
	"  {\"value\":\"billing\",\"label\":\"Billing\",\"description\":\"a charge on the invoice, payment, refund\",\"cues\":[\"charged\"]}]},"
	"{\"name\":\"description\",\"label\":\"Issue description\",\"type\":\"text\",\"threshold\":0.3}],"
	"\"default_fields\":[\"customer\",\"category\",\"description\"],"
	"\"summary_note_on_close\":false,\"record_agent_experience\":true}";

static int setup(void **state)
{
	fixture *fx = fixture_new("directory");
	*state = fx;
	return fx && fx->a ? 0 : -1;
}

/* A fresh database with the settings and `n` contacts: the few the
 * conversation names (C-1..C-3) and n - 3 others nobody mentions. */
static void open_with_contacts(fixture *fx, const char *name, size_t n)
{
	ca_agent_close(fx->a);
	fx->a = NULL;
	snprintf(fx->db, sizeof(fx->db), "%s/%s.db", fx->dir, name);
	ca_err err = { 0 };
	assert_int_equal(ca_agent_open(fx->db, &fx->a, &err), 0);
	char p[160];
	snprintf(p, sizeof(p), "%s/settings.json", fx->dir);
	write_file(p, SETTINGS);
	assert_int_equal(ca_settings_import_file(fx->a, p, &err), 0);
	snprintf(p, sizeof(p), "%s/%s.jsonl", fx->dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("{\"id\":\"C-1\",\"full_name\":\"Dana Whitfield\",\"email\":\"dana@example.org\"}\n"
	      "{\"id\":\"C-2\",\"full_name\":\"Omar Lindqvist\",\"phone\":\"+1 555 201 3344\",\"username\":\"olindq\"}\n"
	      "{\"id\":\"C-3\",\"full_name\":\"Ines Calloway\",\"account_number\":\"BW-A10877\"}\n",
	      f);
	for (size_t i = 3; i < n; i++)
		fprintf(f,
			"{\"id\":\"X-%06zu\",\"full_name\":\"Filler Person%zu\",\"email\":\"filler%zu@example.com\","
			"\"phone\":\"+1 (212) %03zu-%04zu\",\"username\":\"filler%zu\",\"account_number\":\"ZZ-%07zu\"}\n",
			i, i, i, 200 + i / 10000 % 800, i % 10000, i, i);
	fclose(f);
	char *res = NULL;
	assert_int_equal(ca_import_file(fx->a, "contacts", p, &res, &err), 0);
	free(res);
}

static void event(fixture *fx, const char *json)
{
	char *res = NULL;
	ca_err err = { 0 };
	int r = ca_chat_event(fx->a, json, &res, &err);
	if (r)
		fprintf(stderr, "event %s: %s\n", json, err.message);
	assert_int_equal(r, 0);
	free(res);
}

/* The database work of one conversation from open to accept, on a freshly
 * opened agent (as each `caseagent chat event` process is). */
static uint64_t conversation_work(fixture *fx)
{
	ca_agent_close(fx->a);
	ca_err err = { 0 };
	assert_int_equal(ca_agent_open(fx->db, &fx->a, &err), 0);
	uint64_t before = ca_store_work(fx->a->store);
	event(fx, "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"c1\"}");
	event(fx, "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"c1\",\"message\":{\"id\":\"m1\",\"role\":"
		  "\"customer\",\"text\":\"Hello, this is Dana Whitfield (dana@example.org). My blender is broken.\"}}");
	event(fx, "{\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"c1\"}");
	return ca_store_work(fx->a->store) - before;
}

static char *case_customer(fixture *fx)
{
	json_t *c = NULL;
	assert_int_equal(ca_store_case_get(fx->a->store, "1", &c, NULL), 0);
	char *v = strdup(ca_json_str(json_object_get(c, "fields"), "customer"));
	json_decref(c);
	return v;
}

static void test_event_work_does_not_grow_with_contacts(void **state)
{
	fixture *fx = *state;
	open_with_contacts(fx, "small", 100);
	uint64_t small = conversation_work(fx);
	char *who = case_customer(fx);
	assert_string_equal(who, "C-1");
	free(who);
	open_with_contacts(fx, "big", 20000);
	uint64_t big = conversation_work(fx);
	who = case_customer(fx);
	assert_string_equal(who, "C-1");
	free(who);
	/* Index lookups cost a few more steps in a deeper B-tree, nothing
	 * like the 200 times more rows a loaded directory reads. */
	if (big > small + small / 4)
		fail_msg("an event's database work grew from %llu to %llu VM steps with 200x the contacts",
			 (unsigned long long)small, (unsigned long long)big);
}

/* Each identifier, through the store's indexes, on a fresh agent. */
static void predict_customer(fixture *fx, const char *text, const char *want, const char *method)
{
	ca_err err = { 0 };
	assert_int_equal(ca_agent_ready(fx->a, &err), 0);
	ca_msg m = { "m1", CA_ROLE_CUSTOMER, text, strlen(text) };
	ca_analysis an;
	ca_analysis_init(&an);
	ca_predict_input in = { .msgs = &m, .n_msgs = 1, .analysis = &an, .directory = ca_agent_directory(fx->a) };
	int fi = ca_settings_field(fx->a->settings, "customer");
	ca_prediction p = { 0 };
	int r = ca_predict(fx->a->predictor, &in, &fx->a->settings->fields[fi], &p, &err);
	if (r)
		fail_msg("'%s': nothing predicted (%d)", text, r);
	assert_string_equal(p.value, want);
	assert_string_equal(p.method, method);
	assert_true(p.confidence > 0.8);
	ca_prediction_done(&p);
	ca_analysis_done(&an);
}

static void test_contacts_found_by_every_identifier(void **state)
{
	fixture *fx = *state;
	open_with_contacts(fx, "ids", 500);
	predict_customer(fx, "my address is DANA@example.org", "C-1", "email-match");
	predict_customer(fx, "call me on (555) 201-3344 please", "C-2", "phone-match");
	predict_customer(fx, "my user name is olindq", "C-2", "identifier-match");
	predict_customer(fx, "account bw-a10877", "C-3", "identifier-match");
	predict_customer(fx, "this is ines calloway speaking", "C-3", "name-match");
	/* A contact stored after the agent was loaded is found at once: there
	 * is no copy of the directory to go stale. */
	json_t *c = json_pack("{s:s, s:s, s:s}", "id", "C-9", "full_name", "Rosa Quintero", "email", "rosa@example.com");
	assert_int_equal(ca_store_directory_put(fx->a->store, "contact", c, NULL), 0);
	json_decref(c);
	predict_customer(fx, "it's rosa@example.com", "C-9", "email-match");
}

/* The agent remembers the directory's answers (a word asked before costs no
 * query), but never past a change: a contact another connection adds, or
 * one a rolled-back transaction of its own added, is seen as it is now. */
static void test_remembered_answers_follow_the_directory(void **state)
{
	fixture *fx = *state;
	open_with_contacts(fx, "memo", 50);
	ca_err err = { 0 };
	assert_int_equal(ca_agent_ready(fx->a, &err), 0);
	const char *ask = "it's rosa@example.com, user rquintero";
	/* Asked once: nobody; asked again: the same, from memory. */
	for (int i = 0; i < 2; i++) {
		ca_msg m = { "m1", CA_ROLE_CUSTOMER, ask, strlen(ask) };
		ca_analysis an;
		ca_analysis_init(&an);
		ca_predict_input in = { .msgs = &m, .n_msgs = 1, .analysis = &an, .directory = ca_agent_directory(fx->a) };
		int fi = ca_settings_field(fx->a->settings, "customer");
		ca_prediction p = { 0 };
		uint64_t before = ca_store_work(fx->a->store);
		int r = ca_predict(fx->a->predictor, &in, &fx->a->settings->fields[fi], &p, &err);
		uint64_t work = ca_store_work(fx->a->store) - before;
		assert_int_equal(r, CA_ENOTFOUND);
		if (i == 1 && work != 0)
			fail_msg("a question asked before cost %llu VM steps", (unsigned long long)work);
		ca_prediction_done(&p);
		ca_analysis_done(&an);
	}
	/* Another connection (another worker, another process) adds her. */
	ca_agent *other = NULL;
	assert_int_equal(ca_agent_open(fx->db, &other, &err), 0);
	json_t *c = json_pack("{s:s, s:s, s:s}", "id", "C-9", "full_name", "Rosa Quintero", "email", "rosa@example.com");
	assert_int_equal(ca_store_directory_put(other->store, "contact", c, NULL), 0);
	json_decref(c);
	ca_agent_close(other);
	predict_customer(fx, ask, "C-9", "email-match");
	/* A contact written and rolled back in this connection: found inside
	 * the transaction, forgotten after, even once another connection has
	 * written the directory as many times. */
	assert_int_equal(ca_store_begin(fx->a->store, &err), 0);
	c = json_pack("{s:s, s:s, s:s}", "id", "C-10", "full_name", "Theo Brandt", "username", "tbrandt");
	assert_int_equal(ca_store_directory_put(fx->a->store, "contact", c, NULL), 0);
	json_decref(c);
	predict_customer(fx, "my user name is tbrandt", "C-10", "identifier-match");
	ca_store_rollback(fx->a->store);
	assert_int_equal(ca_agent_open(fx->db, &other, &err), 0);
	c = json_pack("{s:s, s:s, s:s}", "id", "C-11", "full_name", "Uma Okafor", "email", "uma@example.com");
	assert_int_equal(ca_store_directory_put(other->store, "contact", c, NULL), 0);
	json_decref(c);
	ca_agent_close(other);
	ca_msg m = { "m1", CA_ROLE_CUSTOMER, "my user name is tbrandt", 23 };
	ca_analysis an;
	ca_analysis_init(&an);
	ca_predict_input in = { .msgs = &m, .n_msgs = 1, .analysis = &an, .directory = ca_agent_directory(fx->a) };
	int fi = ca_settings_field(fx->a->settings, "customer");
	ca_prediction p = { 0 };
	assert_int_equal(ca_predict(fx->a->predictor, &in, &fx->a->settings->fields[fi], &p, &err), CA_ENOTFOUND);
	ca_prediction_done(&p);
	ca_analysis_done(&an);
}

static size_t contact_count(fixture *fx)
{
	json_t *all = NULL;
	assert_int_equal(ca_store_directory_list(fx->a->store, "contact", &all, NULL), 0);
	size_t n = json_array_size(all);
	json_decref(all);
	return n;
}

static void test_import_bom_duplicates_and_nothing_half_written(void **state)
{
	fixture *fx = *state;
	open_with_contacts(fx, "imp", 3);
	char p[160];
	char *res = NULL;
	ca_err err = { 0 };

	/* A spreadsheet's UTF-8 CSV starts with a byte order mark. */
	snprintf(p, sizeof(p), "%s/bom.csv", fx->dir);
	write_file(p, "\xEF\xBB\xBFid,full_name,email\nB-1,Bo Brandt,bo@example.com\nB-2,Cy Crane,cy@example.com\n");
	assert_int_equal(ca_import_file(fx->a, "contacts", p, &res, &err), 0);
	free(res);
	assert_int_equal(contact_count(fx), 5);
	json_t *rec = NULL;
	assert_int_equal(ca_store_directory_get(fx->a->store, "contact", "B-1", &rec, NULL), 0);
	json_decref(rec);

	/* A repeated id: an error naming both lines; nothing of the file. */
	snprintf(p, sizeof(p), "%s/dup.jsonl", fx->dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < 3000; i++)
		fprintf(f, "{\"id\":\"D-%d\",\"full_name\":\"Dee %d\"}\n", i, i);
	fputs("{\"id\":\"D-7\",\"full_name\":\"Dee again\"}\n", f);
	fclose(f);
	ca_err_clear(&err);
	assert_int_equal(ca_import_file(fx->a, "contacts", p, &res, &err), CA_EINVAL);
	assert_non_null(strstr(err.message, "D-7"));
	assert_non_null(strstr(err.message, "lines 8 and 3001"));
	assert_int_equal(contact_count(fx), 5);

	/* The same in a CSV, which numbers records from the header's 1. */
	snprintf(p, sizeof(p), "%s/dup.csv", fx->dir);
	write_file(p, "id,full_name\nE-1,Eve One\nE-2,Eve Two\nE-1,Eve Again\n");
	ca_err_clear(&err);
	assert_int_equal(ca_import_file(fx->a, "contacts", p, &res, &err), CA_EINVAL);
	assert_non_null(strstr(err.message, "lines 2 and 4"));
	assert_int_equal(contact_count(fx), 5);

	/* A bad record at the very end of a long file writes nothing. */
	snprintf(p, sizeof(p), "%s/bad.jsonl", fx->dir);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "{\"id\":\"F-%d\",\"full_name\":\"Fay %d\"}\n", i, i);
	fputs("{\"id\":\"F-x\",\"full_name\":\"Fay X\",\"shoe_size\":\"9\"}\n", f);
	fclose(f);
	ca_err_clear(&err);
	assert_int_equal(ca_import_file(fx->a, "contacts", p, &res, &err), CA_EINVAL);
	assert_non_null(strstr(err.where, ":5001"));
	assert_non_null(strstr(err.message, "shoe_size"));
	assert_int_equal(contact_count(fx), 5);
}

/* A settings snapshot outlives a reload while someone still holds it, as
 * a worker thread's request does (the sanitizer build checks the frees). */
static void test_settings_snapshot_is_shared(void **state)
{
	fixture *fx = *state;
	open_with_contacts(fx, "snap", 3);
	ca_err err = { 0 };
	assert_int_equal(ca_agent_ready(fx->a, &err), 0);
	ca_settings *held = ca_settings_ref(fx->a->settings);
	char p[160];
	snprintf(p, sizeof(p), "%s/settings.json", fx->dir);
	assert_int_equal(ca_settings_import_file(fx->a, p, &err), 0); /* the agent drops its reference */
	assert_ptr_not_equal(held, fx->a->settings);
	assert_true(ca_settings_field(held, "customer") >= 0);
	assert_string_equal(held->fields[ca_settings_field(held, "customer")].name, "customer");
	ca_settings_free(held);
}

/* The agent keeps each conversation's analysis across its events, several
 * conversations at once (a server thread serves many chats in turn): an
 * event of a conversation seen before reads only its new message, whatever
 * other conversation came between; and an analysis never outlives the
 * directory it asked: a contact another connection adds is found at the
 * next event for a message analysed before. */
static void test_analyses_kept_per_conversation_and_follow_the_directory(void **state)
{
	fixture *fx = *state;
	open_with_contacts(fx, "analyses", 50);
	/* c1 names an address nobody has yet: accept withholds its case. */
	event(fx, "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"c1\"}");
	event(fx, "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"c1\",\"message\":{\"id\":\"m1\",\"role\":"
		  "\"customer\",\"text\":\"Hi, it's rosa@example.com here. My blender is broken.\"}}");
	event(fx, "{\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"c1\"}");
	/* c2 comes between: its case is created (case 1). */
	event(fx, "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"c2\"}");
	event(fx, "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"c2\",\"message\":{\"id\":\"m1\",\"role\":"
		  "\"customer\",\"text\":\"Hello, this is Dana Whitfield (dana@example.org). My blender is broken.\"}}");
	event(fx, "{\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"c2\"}");
	char *who = case_customer(fx);
	assert_string_equal(who, "C-1");
	free(who);
	/* c1's analysis was kept beside c2's, its one message read once. */
	const ca_analysis *an = ca_agent_analysis_of(fx->a, "c1");
	assert_non_null(an);
	assert_int_equal(an->n, 1);
	assert_non_null(ca_agent_analysis_of(fx->a, "c2"));
	/* Another connection adds the contact c1's message names; at wrap-up
	 * the agent sees her, although that message was analysed before. */
	ca_err err = { 0 };
	ca_agent *other = NULL;
	assert_int_equal(ca_agent_open(fx->db, &other, &err), 0);
	json_t *c = json_pack("{s:s, s:s, s:s}", "id", "C-9", "full_name", "Rosa Quintero", "email", "rosa@example.com");
	assert_int_equal(ca_store_directory_put(other->store, "contact", c, NULL), 0);
	json_decref(c);
	ca_agent_close(other);
	event(fx, "{\"id\":\"e4\",\"type\":\"wrapup\",\"conversation\":\"c1\"}");
	json_t *cs = NULL;
	assert_int_equal(ca_store_case_get(fx->a->store, "2", &cs, NULL), 0);
	assert_string_equal(ca_json_str(json_object_get(cs, "fields"), "customer"), "C-9");
	json_decref(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_event_work_does_not_grow_with_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contacts_found_by_every_identifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remembered_answers_follow_the_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_analyses_kept_per_conversation_and_follow_the_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_bom_duplicates_and_nothing_half_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_snapshot_is_shared, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
