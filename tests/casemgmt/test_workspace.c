/* SPDX-License-Identifier: MIT */
/*
 * A representative's daily operations against a real SQLite file: creating
 * a case by hand, pages of cases by filter and words (no case repeated or
 * skipped, bad cursors refused, a page's cost flat as cases grow), a
 * several-field edit as one version step or nothing, update from
 * conversation leaving a person's value alone, notes, replies queued in
 * the outbox, conversations, the agent report over a period, notifications
 * read, settings stored by one agent seen by another, and the interaction
 * queue a server's agents share (a "no changes" update writes nothing;
 * its row reaches the log at the flush, or when the log is read).
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
	"{\"version\":1,\"channels\":{\"chat\":true,\"email\":true},"
	"\"fields\":["
	"{\"name\":\"customer\",\"type\":\"lookup\",\"lookup\":\"contact\",\"threshold\":0.6},"
	"{\"name\":\"category\",\"type\":\"option\",\"threshold\":0.3,\"options\":["
	"  {\"value\":\"defect\",\"description\":\"the device is broken, damaged, faulty, stopped working, will not turn on\",\"cues\":[\"broken\",\"not working\"]},"
	"  {\"value\":\"billing\",\"description\":\"a charge on the invoice, payment, refund of money, double charged\",\"cues\":[\"charged\",\"invoice\"]}]},"
	"{\"name\":\"description\",\"type\":\"text\",\"threshold\":0.3},"
	"{\"name\":\"priority\",\"type\":\"option\",\"threshold\":0.2,\"options\":["
	"  {\"value\":\"low\",\"description\":\"not urgent, whenever, no rush\"},"
	"  {\"value\":\"high\",\"description\":\"urgent, immediately, right now, emergency, asap\"}]}],"
	"\"default_fields\":[\"customer\",\"category\",\"description\"],"
	"\"update_rules\":[],"
	"\"summary_note_on_close\":false,\"record_agent_experience\":true,"
	"\"email\":{\"mailboxes\":[\"support@shop.example\"],\"case_token\":\"[{ticket}]\","
	"  \"auto_response\":{\"from\":\"Shop support <support@shop.example>\"}}}";

static int setup(void **state)
{
	fixture *fx = fixture_new("workspace");
	*state = fx;
	return fixture_load(fx, SETTINGS,
			    "{\"id\":\"C-1\",\"full_name\":\"Dana Whitfield\",\"email\":\"dana@example.org\"}\n"
			    "{\"id\":\"C-2\",\"full_name\":\"Omar Lindqvist\"}\n",
			    NULL);
}

/* The parsed result of a call that must succeed; *outp is read after the
 * call (arguments are evaluated in no fixed order). */
static json_t *parsed(int rc, char **outp, const ca_err *err)
{
	if (rc)
		fail_msg("call failed: %d %s (%s)", rc, err->message, err->where);
	json_t *j = json_loads(*outp, 0, NULL);
	free(*outp);
	*outp = NULL;
	assert_non_null(j);
	return j;
}

static json_t *create(fixture *fx, const char *body)
{
	char *out = NULL;
	ca_err_clear(&fx->err);
	return parsed(ca_case_create(fx->a, body, "alice", &out, &fx->err), &out, &fx->err);
}

static int64_t case_count(fixture *fx)
{
	int64_t n = -1;
	assert_int_equal(ca_store_case_count(fx->a->store, &n, NULL), 0);
	return n;
}

static int fails(fixture *fx, int rc, int want, const char *where)
{
	assert_int_equal(rc, want);
	if (where)
		assert_string_equal(fx->err.where, where);
	return 0;
}

static json_t *event(fixture *fx, const char *json)
{
	char *out = NULL;
	ca_err_clear(&fx->err);
	return parsed(ca_chat_event(fx->a, json, &out, &fx->err), &out, &fx->err);
}

static void test_create(void **state)
{
	fixture *fx = *state;
	json_t *c = create(fx, "{\"fields\":{\"title\":\"Blender will not start\",\"customer\":\"C-1\",\"priority\":\"high\"}}");
	assert_string_equal(ca_json_str(c, "ticket_number"), "CAS-00001");
	assert_string_equal(ca_json_str(c, "origin"), "manual");
	json_t *prov = json_object_get(c, "provenance");
	assert_string_equal(ca_json_str(json_object_get(prov, "title"), "source"), "person");
	assert_string_equal(ca_json_str(json_object_get(prov, "priority"), "actor"), "alice");
	json_decref(c);
	c = create(fx, "{\"fields\":{\"title\":\"Phoned in\",\"origin\":\"phone\"}}");
	assert_string_equal(ca_json_str(c, "origin"), "phone");
	json_decref(c);

	/* refused whole, naming the key; nothing created */
	char *out = NULL;
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(fx->a, "{\"fields\":{\"title\":\"x\",\"bogus\":\"1\"}}", "alice", &out, &fx->err),
	      CA_EINVAL, "fields.bogus");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(fx->a, "{\"fields\":{\"priority\":\"mega\"}}", "alice", &out, &fx->err), CA_EINVAL,
	      "fields.priority");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(fx->a, "{\"fields\":{\"customer\":\"C-404\"}}", "alice", &out, &fx->err), CA_EINVAL,
	      "fields.customer");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(fx->a, "{\"fields\":{},\"extra\":1}", "alice", &out, &fx->err), CA_EINVAL, "extra");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(fx->a, "{\"fields\":{\"ticket_number\":\"CAS-9\"}}", "alice", &out, &fx->err), CA_EINVAL,
	      "fields.ticket_number");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(fx->a, "{\"fields\":", "alice", &out, &fx->err), CA_EPARSE, "body");
	assert_int_equal(case_count(fx), 2);
}

/* Every page of a query in turn: the ticket numbers seen, in order. */
static json_t *all_pages(fixture *fx, ca_case_filter f, size_t *ret_pages)
{
	json_t *seen = json_array();
	char *cursor = NULL;
	size_t pages = 0;
	do {
		f.cursor = cursor;
		char *out = NULL;
		ca_err_clear(&fx->err);
		json_t *r = parsed(ca_case_query(fx->a, &f, &out, &fx->err), &out, &fx->err);
		free(cursor);
		cursor = ca_json_str(r, "next_cursor") ? strdup(ca_json_str(r, "next_cursor")) : NULL;
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(r, "cases"), i, c)
			json_array_append(seen, json_object_get(c, "ticket_number"));
		assert_true(json_array_size(json_object_get(r, "cases")) <= f.limit);
		json_decref(r);
		pages++;
		assert_true(pages < 100);
	} while (cursor);
	*ret_pages = pages;
	return seen;
}

static void test_query_pages(void **state)
{
	fixture *fx = *state;
	for (int i = 1; i <= 11; i++) {
		char body[200];
		snprintf(body, sizeof(body), "{\"fields\":{\"title\":\"%s case %d\",\"owner\":\"%s\"}}",
			 i % 3 ? "Router" : "Invoice", i, i % 2 ? "bob" : "carol");
		json_decref(create(fx, body));
	}
	size_t pages = 0;
	json_t *seen = all_pages(fx, (ca_case_filter){ .limit = 4 }, &pages);
	assert_int_equal(pages, 3);
	assert_int_equal(json_array_size(seen), 11);
	for (size_t i = 0; i < 11; i++) { /* newest first, none repeated or skipped */
		char want[16];
		snprintf(want, sizeof(want), "CAS-%05zu", 11 - i);
		assert_string_equal(json_string_value(json_array_get(seen, i)), want);
	}
	json_decref(seen);

	seen = all_pages(fx, (ca_case_filter){ .owner = "bob", .limit = 2 }, &pages);
	assert_int_equal(json_array_size(seen), 6); /* 1, 3, 5, 7, 9, 11 */
	assert_int_equal(pages, 3);
	assert_string_equal(json_string_value(json_array_get(seen, 5)), "CAS-00001");
	json_decref(seen);

	seen = all_pages(fx, (ca_case_filter){ .q = "invoice", .limit = 50 }, &pages);
	assert_int_equal(json_array_size(seen), 3); /* 3, 6, 9 */
	assert_string_equal(json_string_value(json_array_get(seen, 0)), "CAS-00009");
	json_decref(seen);
	seen = all_pages(fx, (ca_case_filter){ .q = "invoice case", .owner = "carol", .limit = 1 }, &pages);
	assert_int_equal(json_array_size(seen), 1); /* 6 */
	assert_int_equal(pages, 1);
	json_decref(seen);
	seen = all_pages(fx, (ca_case_filter){ .q = "CAS-00007", .limit = 5 }, &pages);
	assert_int_equal(json_array_size(seen), 1);
	assert_string_equal(json_string_value(json_array_get(seen, 0)), "CAS-00007");
	json_decref(seen);
	/* an operator is a word like any other */
	seen = all_pages(fx, (ca_case_filter){ .q = "router NOT \"", .limit = 5 }, &pages);
	assert_int_equal(json_array_size(seen), 0);
	json_decref(seen);
	seen = all_pages(fx, (ca_case_filter){ .status = "resolved", .limit = 5 }, &pages);
	assert_int_equal(json_array_size(seen), 0);
	json_decref(seen);
	/* a page names each case's contact, as the case itself does */
	json_decref(create(fx, "{\"fields\":{\"title\":\"Named\",\"customer\":\"C-1\"}}"));
	char *page = NULL;
	json_t *r = parsed(ca_case_query(fx->a, &(ca_case_filter){ .limit = 2 }, &page, &fx->err), &page, &fx->err);
	json_t *first = json_array_get(json_object_get(r, "cases"), 0);
	assert_string_equal(ca_json_str(json_object_get(first, "display"), "customer"), "Dana Whitfield");
	assert_int_equal(json_object_size(json_object_get(json_array_get(json_object_get(r, "cases"), 1), "display")), 0);
	json_decref(r);

	static const char *const bad[] = { "zz", "636173653a", "636173653a3078", "636173653a2d31", "636f6e766572736174696f6e3a31",
					   "6361736", "636173653a310a" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		ca_err_clear(&fx->err);
		fails(fx, ca_case_query(fx->a, &(ca_case_filter){ .cursor = bad[i] }, &out, &fx->err), CA_EINVAL, "cursor");
	}
	char *out = NULL;
	ca_err_clear(&fx->err);
	fails(fx, ca_case_query(fx->a, &(ca_case_filter){ .limit = 201 }, &out, &fx->err), CA_EINVAL, "limit");
}

/* The work (SQLite VM steps) of one filtered page and one search. */
static uint64_t page_work(fixture *fx, const ca_case_filter *f)
{
	uint64_t before = ca_store_work(fx->a->store);
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_decref(parsed(ca_case_query(fx->a, f, &out, &fx->err), &out, &fx->err));
	return ca_store_work(fx->a->store) - before;
}

static void test_query_cost_flat(void **state)
{
	fixture *fx = *state;
	for (int i = 0; i < 12; i++)
		json_decref(create(fx, "{\"fields\":{\"title\":\"Toaster smoke\",\"owner\":\"bob\",\"customer\":\"C-1\"}}"));
	ca_case_filter by_owner = { .owner = "bob", .limit = 10 }, by_words = { .q = "toaster", .limit = 10 },
		       by_customer = { .customer = "C-1", .limit = 10 }, by_origin = { .origin = "manual", .limit = 10 };
	uint64_t w1 = page_work(fx, &by_owner), q1 = page_work(fx, &by_words), c1 = page_work(fx, &by_customer);
	uint64_t o1 = page_work(fx, &by_origin);
	assert_int_equal(ca_store_begin(fx->a->store, NULL), 0);
	for (int i = 0; i < 600; i++) {
		int64_t id;
		assert_int_equal(ca_store_case_create(fx->a->store, "chat", NULL, &id, NULL, NULL), 0);
		assert_int_equal(ca_case_write_as(fx->a, id, "title", "Kettle leaks", "person", "x", NULL), 0);
		assert_int_equal(ca_case_write_as(fx->a, id, "owner", "carol", "person", "x", NULL), 0);
	}
	assert_int_equal(ca_store_commit(fx->a->store, NULL), 0);
	uint64_t w2 = page_work(fx, &by_owner), q2 = page_work(fx, &by_words), c2 = page_work(fx, &by_customer);
	uint64_t o2 = page_work(fx, &by_origin);
	/* 600 more cases that match none of them: the same work, within noise */
	assert_true(w2 < w1 * 3 / 2 + 200);
	assert_true(q2 < q1 * 3 / 2 + 200);
	assert_true(c2 < c1 * 3 / 2 + 200);
	assert_true(o2 < o1 * 3 / 2 + 200);
}

static void test_patch(void **state)
{
	fixture *fx = *state;
	json_decref(create(fx, "{\"fields\":{\"title\":\"Old title\"}}"));
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_t *r = parsed(ca_case_patch(fx->a, "CAS-00001",
					 "{\"fields\":{\"title\":\"New title\",\"priority\":\"low\",\"customer\":\"C-2\"}}", "bob",
					 1, &out, &fx->err),
			   &out, &fx->err);
	assert_int_equal(json_integer_value(json_object_get(r, "version")), 2);
	assert_int_equal(json_array_size(json_object_get(r, "changed")), 3);
	json_decref(r);
	json_t *audit = NULL;
	assert_int_equal(ca_store_audit_list(fx->a->store, 1, &audit, NULL), 0);
	size_t person = 0, i;
	json_t *row;
	json_array_foreach(audit, i, row) person += ca_streq(ca_json_str(row, "actor"), "bob");
	assert_int_equal(person, 3);
	json_decref(audit);

	/* stale, unknown field, unknown key: refused, nothing written */
	ca_err_clear(&fx->err);
	fails(fx, ca_case_patch(fx->a, "CAS-00001", "{\"fields\":{\"title\":\"Late\"}}", "eve", 1, &out, &fx->err),
	      CA_ECONFLICT, "version");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_patch(fx->a, "CAS-00001", "{\"fields\":{\"title\":\"T\",\"colour\":\"red\"}}", "eve", 0, &out, &fx->err),
	      CA_EINVAL, "fields.colour");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_patch(fx->a, "CAS-00001", "{\"fields\":{\"title\":\"T\"},\"why\":1}", "eve", 0, &out, &fx->err),
	      CA_EINVAL, "why");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_patch(fx->a, "CAS-00404", "{\"fields\":{\"title\":\"T\"}}", "eve", 0, &out, &fx->err), CA_ENOTFOUND,
	      NULL);
	json_t *c = NULL;
	assert_int_equal(ca_store_case_get(fx->a->store, "CAS-00001", &c, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "version")), 2);
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "title"), "New title");
	json_decref(c);
}

static void test_update_from_conversation(void **state)
{
	fixture *fx = *state;
	json_decref(event(fx, "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"v1\",\"identity\":\"C-1\"}"));
	json_decref(event(fx, "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"v1\",\"message\":{\"id\":\"m1\","
			      "\"role\":\"customer\",\"text\":\"My blender is broken, it stopped working and will not turn on.\"}}"));
	json_t *r = event(fx, "{\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"v1\",\"actor\":\"alice\"}");
	assert_true(json_is_true(json_object_get(r, "created")));
	char ticket[32];
	snprintf(ticket, sizeof(ticket), "%s", ca_json_str(r, "case"));
	json_decref(r);
	/* a person sets the category; the customer then talks about money */
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_decref(parsed(ca_case_patch(fx->a, ticket, "{\"fields\":{\"category\":\"billing\"}}", "alice", 0, &out, &fx->err),
			   &out, &fx->err));
	json_decref(event(fx, "{\"id\":\"e4\",\"type\":\"message\",\"conversation\":\"v1\",\"message\":{\"id\":\"m2\","
			      "\"role\":\"customer\",\"text\":\"It is broken, faulty, damaged. Not working at all, broken.\"}}"));
	ca_err_clear(&fx->err);
	r = parsed(ca_case_update_from_conversation(fx->a, ticket, "alice", &out, &fx->err), &out, &fx->err);
	assert_string_equal(ca_json_str(r, "type"), "update");
	assert_string_equal(ca_json_str(r, "conversation"), "v1");
	assert_string_equal(ca_json_str(r, "case"), ticket);
	assert_true(json_is_array(json_object_get(r, "changed")));
	assert_true(json_is_boolean(json_object_get(r, "no_changes")));
	assert_true(json_is_array(json_object_get(r, "suggestions")));
	size_t i;
	json_t *ch;
	json_array_foreach(json_object_get(r, "changed"), i, ch) assert_string_not_equal(ca_json_str(ch, "field"), "category");
	json_decref(r);
	json_t *c = NULL;
	assert_int_equal(ca_store_case_get(fx->a->store, ticket, &c, NULL), 0);
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "category"), "billing");
	json_decref(c);
	/* twice in a row: nothing new to write */
	ca_err_clear(&fx->err);
	r = parsed(ca_case_update_from_conversation(fx->a, ticket, "alice", &out, &fx->err), &out, &fx->err);
	assert_true(json_is_true(json_object_get(r, "no_changes")));
	json_decref(r);

	json_decref(create(fx, "{\"fields\":{\"title\":\"By hand\"}}"));
	ca_err_clear(&fx->err);
	fails(fx, ca_case_update_from_conversation(fx->a, "CAS-00002", "alice", &out, &fx->err), CA_ESTATE, "case");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_update_from_conversation(fx->a, "CAS-00404", "alice", &out, &fx->err), CA_ENOTFOUND, NULL);

	/* conversations */
	ca_err_clear(&fx->err);
	r = parsed(ca_conversation_show(fx->a, "v1", &out, &fx->err), &out, &fx->err);
	assert_string_equal(ca_json_str(r, "accepted_by"), "alice");
	assert_string_equal(ca_json_str(r, "case"), ticket);
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 2);
	assert_true(json_array_size(json_object_get(r, "interactions")) >= 2);
	json_decref(r);
	ca_err_clear(&fx->err);
	fails(fx, ca_conversation_show(fx->a, "nope", &out, &fx->err), CA_ENOTFOUND, NULL);
}

static void test_conversation_pages(void **state)
{
	fixture *fx = *state;
	for (int i = 0; i < 7; i++) {
		char ev[128];
		snprintf(ev, sizeof(ev), "{\"id\":\"o\",\"type\":\"open\",\"conversation\":\"conv-%d\"}", i);
		json_decref(event(fx, ev));
	}
	json_t *seen = json_object();
	char *cursor = NULL;
	size_t pages = 0;
	do {
		char *out = NULL;
		ca_err_clear(&fx->err);
		json_t *r = parsed(ca_conversation_list(fx->a, "open", 3, cursor, &out, &fx->err), &out, &fx->err);
		free(cursor);
		cursor = ca_json_str(r, "next_cursor") ? strdup(ca_json_str(r, "next_cursor")) : NULL;
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(r, "conversations"), i, c) {
			assert_null(json_object_get(seen, ca_json_str(c, "id")));
			json_object_set_new(seen, ca_json_str(c, "id"), json_true());
		}
		json_decref(r);
		pages++;
	} while (cursor && pages < 10);
	assert_int_equal(json_object_size(seen), 7);
	assert_int_equal(pages, 3);
	json_decref(seen);
	char *out = NULL;
	ca_err_clear(&fx->err);
	fails(fx, ca_conversation_list(fx->a, NULL, 0, "636173653a31", &out, &fx->err), CA_EINVAL, "cursor");
	ca_err_clear(&fx->err);
	fails(fx, ca_conversation_list(fx->a, NULL, 500, NULL, &out, &fx->err), CA_EINVAL, "limit");
}

static void test_notes(void **state)
{
	fixture *fx = *state;
	json_decref(create(fx, "{\"fields\":{\"title\":\"Noted\"}}"));
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_t *n = parsed(ca_case_note_add(fx->a, "CAS-00001", "Called back, no answer.", "bob", &out, &fx->err), &out,
			   &fx->err);
	assert_string_equal(ca_json_str(n, "body"), "Called back, no answer.");
	assert_string_equal(ca_json_str(n, "actor"), "bob");
	assert_string_equal(ca_json_str(n, "kind"), "note");
	assert_true(json_is_integer(json_object_get(n, "id")));
	json_decref(n);
	ca_err_clear(&fx->err);
	fails(fx, ca_case_note_add(fx->a, "CAS-00001", " \n", "bob", &out, &fx->err), CA_EINVAL, "body");
	char *big = malloc((64 << 10) + 2);
	memset(big, 'a', (64 << 10) + 1);
	big[(64 << 10) + 1] = '\0';
	ca_err_clear(&fx->err);
	fails(fx, ca_case_note_add(fx->a, "CAS-00001", big, "bob", &out, &fx->err), CA_ETOOBIG, "body");
	big[64 << 10] = '\0'; /* exactly the limit */
	ca_err_clear(&fx->err);
	json_decref(parsed(ca_case_note_add(fx->a, "CAS-00001", big, "bob", &out, &fx->err), &out, &fx->err));
	free(big);
	ca_err_clear(&fx->err);
	fails(fx, ca_case_note_add(fx->a, "CAS-00001", "\xff\xfe", "bob", &out, &fx->err), CA_EUTF8, "body");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_note_add(fx->a, "CAS-00404", "text", "bob", &out, &fx->err), CA_ENOTFOUND, NULL);
	ca_err_clear(&fx->err);
	json_t *list = parsed(ca_case_notes(fx->a, "CAS-00001", &out, &fx->err), &out, &fx->err);
	assert_int_equal(json_array_size(json_object_get(list, "notes")), 2);
	json_decref(list);
}

static void test_reply(void **state)
{
	fixture *fx = *state;
	json_decref(create(fx, "{\"fields\":{\"title\":\"Blender noise\",\"customer\":\"C-1\"}}"));
	json_decref(create(fx, "{\"fields\":{\"title\":\"No address\",\"customer\":\"C-2\"}}"));
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_t *r = parsed(ca_case_reply(fx->a, "CAS-00001", "{\"body\":\"We are sending a new one.\"}", "bob", &out, &fx->err),
			   &out, &fx->err);
	assert_string_equal(ca_json_str(r, "to"), "dana@example.org");
	assert_string_equal(ca_json_str(r, "subject"), "Re: Blender noise [CAS-00001]");
	assert_string_equal(ca_json_str(r, "status"), "queued");
	json_decref(r);
	json_t *ob = NULL;
	assert_int_equal(ca_store_outbox_list(fx->a->store, "queued", &ob, NULL), 0);
	assert_int_equal(json_array_size(ob), 1);
	const json_t *h = json_object_get(json_array_get(ob, 0), "headers");
	assert_string_equal(ca_json_str(h, "Auto-Submitted"), "no");
	assert_string_equal(ca_json_str(h, "From"), "Shop support <support@shop.example>");
	json_decref(ob);
	ca_err_clear(&fx->err);
	r = parsed(ca_case_emails(fx->a, "CAS-00001", &out, &fx->err), &out, &fx->err);
	assert_int_equal(json_array_size(json_object_get(r, "emails")), 1);
	assert_string_equal(ca_json_str(json_array_get(json_object_get(r, "emails"), 0), "status"), "queued");
	json_decref(r);

	ca_err_clear(&fx->err);
	fails(fx, ca_case_reply(fx->a, "CAS-00002", "{\"body\":\"Hello\"}", "bob", &out, &fx->err), CA_ESTATE, "customer");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_reply(fx->a, "CAS-00001", "{\"body\":\"\"}", "bob", &out, &fx->err), CA_EINVAL, "body");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_reply(fx->a, "CAS-00001", "{\"body\":\"x\",\"cc\":\"a@b\"}", "bob", &out, &fx->err), CA_EINVAL, "cc");
	ca_err_clear(&fx->err);
	fails(fx, ca_case_reply(fx->a, "CAS-00001", "{\"body\":\"x\",\"subject\":\"a\\r\\nBcc: x@y\"}", "bob", &out, &fx->err),
	      CA_EINVAL, "subject");
	assert_int_equal(ca_store_outbox_list(fx->a->store, NULL, &ob, NULL), 0);
	assert_int_equal(json_array_size(ob), 1);
	json_decref(ob);
}

static void test_report(void **state)
{
	fixture *fx = *state;
	json_decref(event(fx, "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"r1\"}"));
	json_decref(event(fx, "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"r1\",\"message\":{\"id\":\"m1\","
			      "\"role\":\"customer\",\"text\":\"hello\"}}"));
	json_decref(event(fx, "{\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"r1\"}")); /* withheld */
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_t *r = parsed(ca_report_agent(fx->a, "2000-01-01", NULL, &out, &fx->err), &out, &fx->err);
	assert_int_equal(json_integer_value(json_object_get(r, "conversations")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "cases_withheld")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "withheld_missing"), "customer")), 1);
	assert_string_equal(ca_json_str(r, "from"), "2000-01-01T00:00:00Z");
	json_decref(r);
	/* a period before everything counts nothing */
	ca_err_clear(&fx->err);
	r = parsed(ca_report_agent(fx->a, NULL, "2000-01-01T00:00:00Z", &out, &fx->err), &out, &fx->err);
	assert_int_equal(json_integer_value(json_object_get(r, "conversations")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "cases_withheld")), 0);
	assert_int_equal(json_object_size(json_object_get(r, "withheld_missing")), 0);
	json_decref(r);
	ca_err_clear(&fx->err);
	fails(fx, ca_report_agent(fx->a, "yesterday", NULL, &out, &fx->err), CA_EINVAL, "from");
	ca_err_clear(&fx->err);
	fails(fx, ca_report_agent(fx->a, "2026-02-01", "2026-01-01", &out, &fx->err), CA_EINVAL, "to");
}

static void test_notification_read(void **state)
{
	fixture *fx = *state;
	assert_int_equal(ca_store_notification_add(fx->a->store, "bob", "review", 0, 0, "please review", NULL), 0);
	json_t *list = NULL;
	assert_int_equal(ca_store_notification_list(fx->a->store, "bob", &list, NULL), 0);
	int64_t id = json_integer_value(json_object_get(json_array_get(list, 0), "id"));
	json_decref(list);
	ca_err_clear(&fx->err);
	fails(fx, ca_notification_read(fx->a, id, "carol", &fx->err), CA_ENOTFOUND, NULL);
	assert_int_equal(ca_notification_read(fx->a, id, "bob", &fx->err), 0);
	assert_int_equal(ca_store_notification_list(fx->a->store, "bob", &list, NULL), 0);
	assert_true(json_is_string(json_object_get(json_array_get(list, 0), "read_at")));
	json_decref(list);
	ca_err_clear(&fx->err);
	fails(fx, ca_notification_read(fx->a, id + 100, "bob", &fx->err), CA_ENOTFOUND, NULL);
}

/* Rows of the interaction log with this action and outcome, read from the
 * store directly (no flush). */
static size_t log_rows(ca_agent *a, const char *action, const char *outcome)
{
	json_t *list = NULL, *row;
	size_t i, n = 0;
	assert_int_equal(ca_store_interaction_list(a->store, NULL, &list, NULL), 0);
	json_array_foreach(list, i, row) n += !strcmp(ca_json_str(row, "action"), action) &&
					     !strcmp(ca_json_str(row, "outcome"), outcome);
	json_decref(list);
	return n;
}

static void test_interaction_queue(void **state)
{
	fixture *fx = *state;
	json_decref(event(fx, "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"q1\",\"identity\":\"C-1\"}"));
	json_decref(event(fx, "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"q1\",\"message\":{\"id\":\"m1\","
			      "\"role\":\"customer\",\"text\":\"My blender is broken, it stopped working and will not turn on.\"}}"));
	json_t *r = event(fx, "{\"id\":\"e3\",\"type\":\"accept\",\"conversation\":\"q1\",\"actor\":\"alice\"}");
	char ticket[32];
	snprintf(ticket, sizeof(ticket), "%s", ca_json_str(r, "case"));
	json_decref(r);
	char *out = NULL;
	/* without a queue (the CLI), the row is written with the update */
	ca_err_clear(&fx->err);
	json_decref(parsed(ca_case_update_from_conversation(fx->a, ticket, "alice", &out, &fx->err), &out, &fx->err));
	assert_int_equal(log_rows(fx->a, "update_case", "no_changes"), 1);

	/* two agents, as two server threads, share a queue */
	ca_interaction_queue *q = NULL;
	ca_agent *b = NULL;
	assert_int_equal(ca_interaction_queue_new(&q, &fx->err), 0);
	assert_int_equal(ca_agent_open(fx->db, &b, &fx->err), 0);
	ca_agent_defer_interactions(fx->a, q);
	ca_agent_defer_interactions(b, q);
	int64_t version = -1;
	json_t *c = NULL;
	assert_int_equal(ca_store_case_get(fx->a->store, ticket, &c, NULL), 0);
	version = json_integer_value(json_object_get(c, "version"));
	json_decref(c);
	setenv("CA_NOW", "1700000000", 1); /* 2023-11-14T22:13:20Z: the time of the decision */
	ca_err_clear(&fx->err);
	r = parsed(ca_case_update_from_conversation(b, ticket, "alice", &out, &fx->err), &out, &fx->err);
	assert_true(json_is_true(json_object_get(r, "no_changes")));
	json_decref(r);
	unsetenv("CA_NOW");
	/* nothing written: neither the case nor the log */
	assert_int_equal(log_rows(fx->a, "update_case", "no_changes"), 1);
	assert_int_equal(ca_store_case_get(fx->a->store, ticket, &c, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "version")), version);
	json_decref(c);
	/* another agent reading the log flushes the queue first */
	ca_err_clear(&fx->err);
	r = parsed(ca_interactions(fx->a, "q1", &out, &fx->err), &out, &fx->err);
	size_t i, n = 0;
	json_t *row;
	json_array_foreach(json_object_get(r, "interactions"), i, row) {
		if (strcmp(ca_json_str(row, "outcome"), "no_changes"))
			continue;
		n++;
		if (n == 2)
			assert_string_equal(ca_json_str(row, "at"), "2023-11-14T22:13:20Z");
	}
	assert_int_equal(n, 2);
	json_decref(r);
	/* a flush with nothing queued writes nothing; a queued row goes at the flush */
	assert_int_equal(ca_interactions_flush(b, &fx->err), 0);
	ca_err_clear(&fx->err);
	json_decref(parsed(ca_case_update_from_conversation(b, ticket, "alice", &out, &fx->err), &out, &fx->err));
	assert_int_equal(log_rows(fx->a, "update_case", "no_changes"), 2);
	assert_int_equal(ca_interactions_flush(b, &fx->err), 0);
	assert_int_equal(log_rows(fx->a, "update_case", "no_changes"), 3);
	/* the report counts what was decided, queued or not */
	ca_err_clear(&fx->err);
	json_decref(parsed(ca_case_update_from_conversation(b, ticket, "alice", &out, &fx->err), &out, &fx->err));
	ca_err_clear(&fx->err);
	r = parsed(ca_report_agent(fx->a, NULL, NULL, &out, &fx->err), &out, &fx->err);
	char *text = json_dumps(r, JSON_COMPACT);
	assert_non_null(strstr(text, "\"no_change_updates\":4") ? text : NULL);
	free(text);
	json_decref(r);
	ca_agent_defer_interactions(fx->a, NULL);
	ca_agent_close(b);
	ca_interaction_queue_free(q);
}

static void test_settings_seen_by_other_agent(void **state)
{
	fixture *fx = *state;
	ca_agent *b = NULL;
	assert_int_equal(ca_agent_open(fx->db, &b, &fx->err), 0);
	char *out = NULL;
	/* b knows no "severity" field yet */
	ca_err_clear(&fx->err);
	fails(fx, ca_case_create(b, "{\"fields\":{\"severity\":\"S1\"}}", "x", &out, &fx->err), CA_EINVAL, "fields.severity");
	/* a bad document is refused whole, naming the key */
	const char *bad = "{\"version\":1,\"channels\":{\"chat\":true},\"fields\":[{\"name\":\"x\",\"type\":\"colour\"}],"
			  "\"default_fields\":[]}";
	ca_err_clear(&fx->err);
	assert_int_not_equal(ca_settings_import_text(fx->a, bad, strlen(bad), &fx->err), 0);
	assert_string_equal(fx->err.where, "fields[0].type");
	ca_err_clear(&fx->err);
	fails(fx, ca_settings_import_text(fx->a, "{\"a\":1,\"a\":2}", 13, &fx->err), CA_EPARSE, "settings");
	/* another agent stores settings with the field: b sees them next call */
	json_error_t je;
	json_t *s = json_loads(SETTINGS, 0, &je);
	json_array_append_new(json_object_get(s, "fields"), json_pack("{s:s, s:s, s:f}", "name", "severity", "type", "text",
								      "threshold", 0.5));
	char *text = json_dumps(s, 0);
	json_decref(s);
	ca_err_clear(&fx->err);
	assert_int_equal(ca_settings_import_text(fx->a, text, strlen(text), &fx->err), 0);
	free(text);
	ca_err_clear(&fx->err);
	json_t *c = parsed(ca_case_create(b, "{\"fields\":{\"severity\":\"S1\"}}", "x", &out, &fx->err), &out, &fx->err);
	assert_string_equal(ca_json_str(json_object_get(c, "fields"), "severity"), "S1");
	json_decref(c);
	ca_agent_close(b);
}

static void test_interactions_newest(void **state)
{
	fixture *fx = *state;
	assert_int_equal(ca_store_begin(fx->a->store, NULL), 0);
	for (int i = 0; i < 230; i++)
		assert_int_equal(ca_store_interaction_add(fx->a->store, i < 5 ? "few" : "many", 0, "create_case", "withheld",
							   NULL, NULL),
				 0);
	assert_int_equal(ca_store_commit(fx->a->store, NULL), 0);
	char *out = NULL;
	ca_err_clear(&fx->err);
	json_t *r = parsed(ca_interactions(fx->a, NULL, &out, &fx->err), &out, &fx->err);
	json_t *rows = json_object_get(r, "interactions");
	assert_int_equal(json_array_size(rows), 200);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 199), "id")), 230);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "id")), 31);
	json_decref(r);
	ca_err_clear(&fx->err);
	r = parsed(ca_interactions(fx->a, "few", &out, &fx->err), &out, &fx->err);
	assert_int_equal(json_array_size(json_object_get(r, "interactions")), 5);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_cost_flat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_from_conversation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conversation_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notification_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_seen_by_other_agent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interactions_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interaction_queue, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
