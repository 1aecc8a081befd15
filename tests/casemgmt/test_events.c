/* SPDX-License-Identifier: MIT */
/*
 * The event outbox against a real SQLite file (examples/ as the data): each
 * event type comes from its change, one case.updated per case and
 * transaction, nothing from a change rolled back (the transaction, a
 * savepoint in it, or a failed call), paging by id, retention, and a second
 * agent on the same file reading what the first wrote. And the background
 * e-mail work's settings and state without a server (tests/cli/
 * cli_email_worker.sh runs it against real ones).
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
#include "internal.h" /* the store's connection, to age events for the retention test */

static void path_of(const fixture *fx, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", fx->ex, name);
}

/* The examples' settings, contacts and products. */
static int setup(void **state)
{
	const char *data = getenv("CA_TEST_DATA");
	fixture *fx = data ? fixture_new("events") : NULL;
	*state = fx;
	if (!fx || !fx->a)
		return -1;
	snprintf(fx->ex, sizeof(fx->ex), "%s/../../examples", data);
	char p[600], *res = NULL;
	path_of(fx, "settings.json", p, sizeof(p));
	if (ca_settings_import_file(fx->a, p, &fx->err))
		return -1;
	static const char *const kinds[] = { "contacts", "products" };
	for (size_t i = 0; i < 2; i++) {
		char f[64];
		snprintf(f, sizeof(f), "%s.jsonl", kinds[i]);
		path_of(fx, f, p, sizeof(p));
		if (ca_import_file(fx->a, kinds[i], p, &res, &fx->err))
			return -1;
		free(res);
	}
	return 0;
}

/* {"events","last_id"} after `after` (caller decrefs). */
static json_t *since(ca_agent *a, int64_t after, size_t limit)
{
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_events_since(a, after, limit, &out, &err), 0);
	json_t *j = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(j);
	return j;
}

static int64_t last_id(ca_agent *a)
{
	int64_t id = -1;
	ca_err err = { 0 };
	assert_int_equal(ca_events_last_id(a, &id, &err), 0);
	return id;
}

static size_t count_type(const json_t *res, const char *type)
{
	size_t n = 0, i;
	json_t *e;
	json_array_foreach(json_object_get(res, "events"), i, e) n += !strcmp(ca_json_str(e, "type"), type);
	return n;
}

/* The nth (0-based) event of a type, borrowed from res; NULL when none. */
static json_t *nth_type(const json_t *res, const char *type, size_t nth)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(res, "events"), i, e) {
		if (!strcmp(ca_json_str(e, "type"), type) && nth-- == 0)
			return e;
	}
	return NULL;
}

static bool has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static json_t *prov(const char *source)
{
	return json_pack("{s:s, s:s}", "source", source, "actor", "tester");
}

/* A case with one field through the store, in autocommit; its id. */
static int64_t new_case(ca_store *s)
{
	int64_t id = 0;
	ca_err err = { 0 };
	assert_int_equal(ca_store_case_create(s, "manual", NULL, &id, NULL, &err), 0);
	return id;
}

static void test_chat_replay_events(void **state)
{
	fixture *fx = *state;
	char p[600], *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(last_id(fx->a), 0);
	path_of(fx, "conversations.jsonl", p, sizeof(p));
	ca_replay_opts o = { 0 };
	assert_int_equal(ca_chat_replay(fx->a, p, &o, &out, &err), 0);
	json_t *rep = json_loads(out, 0, NULL);
	free(out);
	json_int_t created = json_integer_value(json_object_get(rep, "cases_created"));
	json_int_t notes = json_integer_value(json_object_get(rep, "notes_written"));
	assert_true(created > 0);
	json_t *ev = since(fx->a, 0, 1000);
	/* one case.created per case created, never two */
	assert_int_equal(count_type(ev, "case.created"), created);
	assert_int_equal(count_type(ev, "note.added"), notes);
	json_t *c = nth_type(ev, "case.created", 0);
	json_t *d = json_object_get(c, "data");
	assert_string_equal(ca_json_str(d, "origin"), "chat");
	assert_non_null(ca_json_str(c, "case"));
	assert_string_equal(ca_json_str(d, "case"), ca_json_str(c, "case"));
	assert_string_equal(ca_json_str(c, "right"), "work");
	assert_true(json_is_null(json_object_get(c, "recipient")));
	assert_true(json_array_size(json_object_get(d, "fields")) >= 2);
	/* one conversation.updated per chat event applied: which conversation
	 * and what happened, never what was said */
	json_int_t applied = json_integer_value(json_object_get(rep, "events"));
	assert_true(applied > 0);
	assert_int_equal(count_type(ev, "conversation.updated"), applied);
	json_t *cu = nth_type(ev, "conversation.updated", 0);
	json_t *cd = json_object_get(cu, "data");
	assert_non_null(ca_json_str(cd, "conversation"));
	assert_string_equal(ca_json_str(cd, "event"), "open");
	assert_int_equal(json_object_size(cd), 3);
	/* ids ascend; last_id is the last one's and the newest */
	size_t i;
	json_t *e;
	json_int_t prev = 0;
	json_array_foreach(json_object_get(ev, "events"), i, e) {
		assert_true(json_integer_value(json_object_get(e, "id")) > prev);
		prev = json_integer_value(json_object_get(e, "id"));
		/* a case.updated lists each field once */
		json_t *ch = json_object_get(json_object_get(e, "data"), "changed");
		for (size_t k = 0; k < json_array_size(ch); k++)
			for (size_t m = k + 1; m < json_array_size(ch); m++)
				assert_string_not_equal(json_string_value(json_array_get(ch, k)),
							json_string_value(json_array_get(ch, m)));
	}
	assert_int_equal(json_integer_value(json_object_get(ev, "last_id")), prev);
	assert_int_equal(last_id(fx->a), prev);

	/* a person's edit: one case.updated naming the field, source person */
	const char *ticket = ca_json_str(c, "case");
	assert_int_equal(ca_case_edit(fx->a, ticket, "priority", "high", "dana", 0, &out, &err), 0);
	free(out);
	json_t *ev2 = since(fx->a, prev, 0);
	assert_int_equal(json_array_size(json_object_get(ev2, "events")), 1);
	json_t *u = nth_type(ev2, "case.updated", 0);
	assert_non_null(u);
	assert_string_equal(ca_json_str(u, "case"), ticket);
	assert_string_equal(ca_json_str(json_object_get(u, "data"), "source"), "person");
	assert_true(has_string(json_object_get(json_object_get(u, "data"), "changed"), "priority"));
	json_decref(ev2);

	/* resolving runs the knowledge agent: an article drafted, a reviewer told */
	assert_int_equal(ca_case_resolve(fx->a, ticket, "Replaced the earbud under warranty.", "dana", &out, &err), 0);
	json_t *res = json_loads(out, 0, NULL);
	free(out);
	json_t *ev3 = since(fx->a, prev, 0);
	assert_int_equal(count_type(ev3, "note.added"), 1);
	assert_int_equal(count_type(ev3, "case.updated"), 2); /* the edit, and the resolution */
	const char *outcome = ca_json_str(json_object_get(res, "knowledge"), "outcome");
	if (outcome && !strcmp(outcome, "drafted")) {
		json_t *k = nth_type(ev3, "knowledge.article_drafted", 0);
		assert_non_null(k);
		assert_string_equal(ca_json_str(json_object_get(k, "data"), "article"),
				    ca_json_str(json_object_get(res, "knowledge"), "article"));
		json_t *n = nth_type(ev3, "notification.created", 0);
		assert_non_null(n);
		assert_non_null(ca_json_str(n, "recipient"));
		assert_true(json_is_integer(json_object_get(json_object_get(n, "data"), "notification")));
	} else {
		fail_msg("resolving did not draft an article (outcome %s)", outcome ? outcome : "none");
	}
	json_decref(res);
	json_decref(ev3);
	json_decref(ev);
	json_decref(rep);
}

/* One transaction's writes to a case are one case.updated, whatever the calls. */
static void test_grouped_per_transaction(void **state)
{
	fixture *fx = *state;
	ca_store *s = fx->a->store;
	ca_err err = { 0 };
	int64_t c1 = new_case(s), c2 = new_case(s);
	int64_t before = last_id(fx->a);
	json_t *pa = prov("agent"), *pp = prov("person");
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "title", "Left earbud", pa, &err), 0);
	assert_int_equal(ca_store_case_write(s, c2, "title", "Other", pa, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "description", "does not charge", pa, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "title", "Left earbud (again)", pa, &err), 0);
	assert_int_equal(ca_store_commit(s, &err), 0);
	json_t *ev = since(fx->a, before, 0);
	assert_int_equal(json_array_size(json_object_get(ev, "events")), 2);
	json_t *u1 = nth_type(ev, "case.updated", 0), *u2 = nth_type(ev, "case.updated", 1);
	json_t *ch = json_object_get(json_object_get(u1, "data"), "changed");
	/* at the place of the case's first write, fields in order, once each */
	assert_int_equal(json_array_size(ch), 2);
	assert_string_equal(json_string_value(json_array_get(ch, 0)), "title");
	assert_string_equal(json_string_value(json_array_get(ch, 1)), "description");
	assert_string_equal(ca_json_str(json_object_get(u1, "data"), "source"), "agent");
	assert_int_equal(json_array_size(json_object_get(json_object_get(u2, "data"), "changed")), 1);
	json_decref(ev);

	/* writes by two sources say so */
	before = last_id(fx->a);
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "title", "x", pa, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "priority", "high", pp, &err), 0);
	assert_int_equal(ca_store_commit(s, &err), 0);
	ev = since(fx->a, before, 0);
	assert_string_equal(ca_json_str(json_object_get(nth_type(ev, "case.updated", 0), "data"), "source"), "mixed");
	json_decref(ev);

	/* a case created and written in one transaction: one case.created with its fields */
	before = last_id(fx->a);
	int64_t c3 = 0;
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_create(s, "email", NULL, &c3, NULL, &err), 0);
	assert_int_equal(ca_store_case_write(s, c3, "title", "New", pa, &err), 0);
	assert_int_equal(ca_store_note_add(s, c3, "note", "first note", NULL, "dana", &err), 0);
	assert_int_equal(ca_store_commit(s, &err), 0);
	ev = since(fx->a, before, 0);
	assert_int_equal(json_array_size(json_object_get(ev, "events")), 2);
	/* the case's event comes first: it was created before its note */
	json_t *first = json_array_get(json_object_get(ev, "events"), 0);
	assert_string_equal(ca_json_str(first, "type"), "case.created");
	assert_string_equal(ca_json_str(json_object_get(first, "data"), "origin"), "email");
	assert_true(has_string(json_object_get(json_object_get(first, "data"), "fields"), "title"));
	json_t *note = nth_type(ev, "note.added", 0);
	assert_string_equal(ca_json_str(json_object_get(note, "data"), "kind"), "note");
	assert_string_equal(ca_json_str(note, "case"), ca_json_str(first, "case"));
	json_decref(ev);
	json_decref(pa);
	json_decref(pp);
}

/* Units of work in one transaction (an e-mail batch: one message each) are
 * announced as their own transactions would be: a case written in two units
 * gets two case.updated, and the directory's generation moves once per unit
 * that writes it; a unit rolled back leaves no event. */
static void test_units_in_one_transaction(void **state)
{
	fixture *fx = *state;
	ca_store *s = fx->a->store;
	ca_err err = { 0 };
	int64_t c1 = new_case(s);
	int64_t before = last_id(fx->a), g0 = 0, g1 = 0;
	uint64_t own = 0;
	assert_int_equal(ca_store_directory_generation(s, &g0, &own, &err), 0);
	json_t *pa = prov("agent");
	json_t *k1 = json_pack("{s:s, s:s, s:s}", "id", "unit-1", "full_name", "Una One", "email", "unit1@example.org");
	json_t *k2 = json_pack("{s:s, s:s, s:s}", "id", "unit-2", "full_name", "Udo Two", "email", "unit2@example.org");
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "title", "Left earbud", pa, &err), 0);
	assert_int_equal(ca_store_directory_put(s, "contact", k1, &err), 0);
	assert_int_equal(ca_store_commit(s, &err), 0);
	ca_store_unit_end(s);
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "description", "does not charge", pa, &err), 0);
	assert_int_equal(ca_store_directory_put(s, "contact", k2, &err), 0);
	assert_int_equal(ca_store_commit(s, &err), 0);
	ca_store_unit_end(s);
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c1, "priority", "high", pa, &err), 0);
	ca_store_rollback(s);
	ca_store_unit_end(s);
	assert_int_equal(ca_store_commit(s, &err), 0);
	assert_int_equal(ca_store_directory_generation(s, &g1, &own, &err), 0);
	assert_int_equal(g1, g0 + 2);
	json_t *ev = since(fx->a, before, 0);
	assert_int_equal(count_type(ev, "case.updated"), 2);
	json_t *u1 = json_object_get(nth_type(ev, "case.updated", 0), "data");
	json_t *u2 = json_object_get(nth_type(ev, "case.updated", 1), "data");
	assert_int_equal(json_array_size(json_object_get(u1, "changed")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(u1, "changed"), 0)), "title");
	assert_int_equal(json_array_size(json_object_get(u2, "changed")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(u2, "changed"), 0)), "description");
	json_decref(ev);
	/* outside a transaction it does nothing */
	ca_store_unit_end(s);
	ca_store_unit_end(NULL);
	json_decref(k1);
	json_decref(k2);
	json_decref(pa);
}

static void test_rollback_leaves_no_event(void **state)
{
	fixture *fx = *state;
	ca_store *s = fx->a->store;
	ca_err err = { 0 };
	int64_t c = new_case(s);
	int64_t before = last_id(fx->a);
	json_t *pa = prov("agent");

	/* the whole transaction */
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c, "title", "gone", pa, &err), 0);
	assert_int_equal(ca_store_note_add(s, c, "note", "gone too", NULL, "dana", &err), 0);
	ca_store_rollback(s);
	assert_int_equal(last_id(fx->a), before);

	/* a savepoint: its own events go, the enclosing transaction's stay */
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c, "title", "kept", pa, &err), 0);
	assert_int_equal(ca_store_begin(s, &err), 0);
	assert_int_equal(ca_store_case_write(s, c, "description", "undone", pa, &err), 0);
	assert_int_equal(ca_store_note_add(s, c, "note", "undone", NULL, "dana", &err), 0);
	ca_store_rollback(s);
	/* a failed call inside the transaction: its atomic section undoes it */
	ca_err_clear(&err);
	assert_int_equal(ca_store_note_add(s, c + 1000, "note", "no such case", NULL, "dana", &err), CA_ENOTFOUND);
	ca_err_clear(&err);
	assert_int_equal(ca_store_case_write(s, c, "id", "1", pa, &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_store_commit(s, &err), 0);
	json_t *ev = since(fx->a, before, 0);
	assert_int_equal(json_array_size(json_object_get(ev, "events")), 1);
	json_t *ch = json_object_get(json_object_get(nth_type(ev, "case.updated", 0), "data"), "changed");
	assert_int_equal(json_array_size(ch), 1);
	assert_string_equal(json_string_value(json_array_get(ch, 0)), "title");
	json_decref(ev);

	/* an error in the agent's own transaction (a stale version) writes nothing */
	before = last_id(fx->a);
	char *out = NULL;
	char ticket[32];
	snprintf(ticket, sizeof(ticket), "%lld", (long long)c);
	assert_int_equal(ca_case_edit(fx->a, ticket, "priority", "high", "dana", 999, &out, &err), CA_ECONFLICT);
	assert_int_equal(last_id(fx->a), before);
	json_decref(pa);
}

static void test_paging(void **state)
{
	fixture *fx = *state;
	ca_store *s = fx->a->store;
	ca_err err = { 0 };
	int64_t c = new_case(s);
	int64_t before = last_id(fx->a);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ca_store_note_add(s, c, "note", "paged", NULL, "dana", &err), 0);
	json_t *p1 = since(fx->a, before, 2);
	assert_int_equal(json_array_size(json_object_get(p1, "events")), 2);
	int64_t l1 = json_integer_value(json_object_get(p1, "last_id"));
	assert_int_equal(l1, json_integer_value(json_object_get(json_array_get(json_object_get(p1, "events"), 1), "id")));
	json_t *p2 = since(fx->a, l1, 2), *p3 = since(fx->a, json_integer_value(json_object_get(p2, "last_id")), 2);
	assert_int_equal(json_array_size(json_object_get(p2, "events")), 2);
	assert_int_equal(json_array_size(json_object_get(p3, "events")), 1);
	int64_t l3 = json_integer_value(json_object_get(p3, "last_id"));
	assert_int_equal(l3, last_id(fx->a));
	/* past the end: empty, last_id stays where it was asked from */
	json_t *p4 = since(fx->a, l3, 0);
	assert_int_equal(json_array_size(json_object_get(p4, "events")), 0);
	assert_int_equal(json_integer_value(json_object_get(p4, "last_id")), l3);
	char *out = NULL;
	assert_int_equal(ca_events_since(fx->a, -1, 0, &out, &err), CA_EINVAL);
	assert_null(out);
	/* limit 0 is 100; more than 1000 is 1000 */
	assert_int_equal(ca_store_begin(s, &err), 0);
	for (int i = 0; i < 1100; i++)
		assert_int_equal(ca_store_note_add(s, c, "note", "many", NULL, "dana", &err), 0);
	assert_int_equal(ca_store_commit(s, &err), 0);
	json_t *d = since(fx->a, l3, 0), *m = since(fx->a, l3, 5000);
	assert_int_equal(json_array_size(json_object_get(d, "events")), 100);
	assert_int_equal(json_array_size(json_object_get(m, "events")), 1000);
	json_decref(p1);
	json_decref(p2);
	json_decref(p3);
	json_decref(p4);
	json_decref(d);
	json_decref(m);
}

/* Another process's agent on the same file reads what this one committed. */
static void test_second_agent_sees_events(void **state)
{
	fixture *fx = *state;
	ca_agent *b = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_agent_open(fx->db, &b, &err), 0);
	int64_t start = last_id(b);
	int64_t c = new_case(fx->a->store);
	assert_int_equal(ca_store_note_add(fx->a->store, c, "note", "from a", NULL, "dana", &err), 0);
	json_t *ev = since(b, start, 0);
	assert_int_equal(count_type(ev, "case.created"), 1);
	assert_int_equal(count_type(ev, "note.added"), 1);
	assert_int_equal(last_id(b), last_id(fx->a));
	/* uncommitted work of a is invisible to b */
	int64_t seen = last_id(b);
	assert_int_equal(ca_store_begin(fx->a->store, &err), 0);
	assert_int_equal(ca_store_note_add(fx->a->store, c, "note", "not yet", NULL, "dana", &err), 0);
	assert_int_equal(last_id(b), seen);
	assert_int_equal(ca_store_commit(fx->a->store, &err), 0);
	assert_int_equal(last_id(b), seen + 1);
	json_decref(ev);
	ca_agent_close(b);
}

static void test_email_knowledge_notification_harvest(void **state)
{
	fixture *fx = *state;
	ca_store *s = fx->a->store;
	ca_err err = { 0 };
	char p[600], *out = NULL, *raw = NULL;
	size_t len = 0;
	path_of(fx, "mail/0001-earbuds.eml", p, sizeof(p));
	assert_int_equal(ca_file_read(p, 1 << 20, &raw, &len, &err), 0);
	int64_t before = last_id(fx->a);
	assert_int_equal(ca_email_ingest_raw(fx->a, raw, len, "test", NULL, &out, &err), 0);
	json_t *res = json_loads(out, 0, NULL);
	free(out);
	free(raw);
	json_t *ev = since(fx->a, before, 0);
	json_t *e = nth_type(ev, "email.received", 0);
	assert_non_null(e);
	assert_int_equal(count_type(ev, "email.received"), 1);
	json_t *d = json_object_get(e, "data");
	assert_string_equal(ca_json_str(d, "outcome"), ca_json_str(res, "outcome"));
	assert_int_equal(json_integer_value(json_object_get(d, "email")), json_integer_value(json_object_get(res, "email_id")));
	assert_string_equal(ca_json_str(d, "case"), ca_json_str(res, "case"));
	/* ids and outcomes only: no address, no subject */
	assert_int_equal(json_object_size(d), 3);
	json_decref(ev);
	json_decref(res);

	before = last_id(fx->a);
	json_t *art = json_pack("{s:s, s:s}", "title", "Earbud will not charge", "issue", "left earbud");
	int64_t aid = 0;
	assert_int_equal(ca_store_article_add(s, art, &aid, NULL, &err), 0);
	json_decref(art);
	assert_int_equal(ca_store_notification_add(s, "dana", "review_requested", aid, 0, "please review", &err), 0);
	ev = since(fx->a, before, 0);
	json_t *k = nth_type(ev, "knowledge.article_drafted", 0);
	assert_string_equal(ca_json_str(json_object_get(k, "data"), "title"), "Earbud will not charge");
	assert_string_equal(ca_json_str(json_object_get(k, "data"), "state"), "draft");
	json_t *n = nth_type(ev, "notification.created", 0);
	assert_string_equal(ca_json_str(n, "recipient"), "dana");
	assert_string_equal(ca_json_str(json_object_get(n, "data"), "kind"), "review_requested");
	json_decref(ev);

	/* a harvest: at most one progress event per batch, for "configure" */
	int64_t c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = new_case(s);
		json_t *pv = prov("person");
		assert_int_equal(ca_store_case_write(s, c[i], "title", "Earbud does not charge", pv, &err), 0);
		assert_int_equal(ca_store_case_write(s, c[i], "status", "resolved", pv, &err), 0);
		json_decref(pv);
	}
	before = last_id(fx->a);
	int64_t job = 0;
	assert_int_equal(ca_knowledge_harvest_start(fx->a, "cases", NULL, &job, &err), 0);
	assert_int_equal(ca_knowledge_harvest_run(fx->a, job, NULL, NULL, &out, &err), 0);
	res = json_loads(out, 0, NULL);
	free(out);
	json_int_t total = json_integer_value(json_object_get(res, "total"));
	assert_true(total >= 3);
	ev = since(fx->a, before, 1000);
	size_t nh = count_type(ev, "harvest.progress");
	/* started, one batch (the records of a batch are one transaction), done */
	assert_int_equal(nh, 3);
	json_t *last = nth_type(ev, "harvest.progress", nh - 1);
	assert_string_equal(ca_json_str(last, "right"), "configure");
	d = json_object_get(last, "data");
	assert_int_equal(json_integer_value(json_object_get(d, "job")), job);
	assert_string_equal(ca_json_str(d, "state"), "done");
	assert_int_equal(json_integer_value(json_object_get(d, "processed")), total);
	assert_int_equal(json_integer_value(json_object_get(d, "total")), total);
	json_decref(ev);
	json_decref(res);
}

/* Events older than 7 days go as commits happen, a bounded number at a time,
 * never the newest row (so ids are never reused). */
static void test_retention(void **state)
{
	fixture *fx = *state;
	ca_store *s = fx->a->store;
	ca_err err = { 0 };
	int64_t c = new_case(s);
	for (int i = 0; i < 100; i++)
		assert_int_equal(s->drv->exec(s->conn,
					      "INSERT INTO event (type, case_id, right_needed, data, at) "
					      "VALUES ('note.added', NULL, 'work', '{}', '2001-01-01T00:00:00Z')",
					      NULL, 0, &err),
				 0);
	int64_t old_last = last_id(fx->a);
	/* enough commits with events to run retention once */
	for (int i = 0; i < 40; i++)
		assert_int_equal(ca_store_note_add(s, c, "note", "recent", NULL, "dana", &err), 0);
	json_t *all = since(fx->a, 0, 1000);
	size_t old = 0, i;
	json_t *e;
	json_array_foreach(json_object_get(all, "events"), i, e) old += !strcmp(ca_json_str(e, "at"), "2001-01-01T00:00:00Z");
	/* some went, not all at once (bounded), and no recent one */
	assert_true(old > 0 && old < 100);
	assert_int_equal(count_type(all, "note.added") - old, 40);
	assert_int_equal(count_type(all, "case.created"), 1);
	assert_int_equal(last_id(fx->a), old_last + 40);
	json_decref(all);
	/* more commits take the rest */
	for (int k = 0; k < 100; k++)
		assert_int_equal(ca_store_note_add(s, c, "note", "later", NULL, "dana", &err), 0);
	all = since(fx->a, 0, 1000);
	assert_int_equal(count_type(all, "note.added"), 140);
	json_decref(all);
}

static void test_email_work_settings(void **state)
{
	fixture *fx = *state;
	ca_err err = { 0 };
	char *out = NULL;
	/* nothing configured */
	assert_int_equal(ca_email_status(fx->a, &out, &err), 0);
	json_t *st = json_loads(out, 0, NULL);
	free(out);
	assert_false(json_is_true(json_object_get(json_object_get(st, "imap"), "configured")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "smtp"), "runs")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(st, "imap"), "last_run_at")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "outbox"), "queued")), 0);
	json_decref(st);
	assert_int_equal(ca_email_poll_configured(fx->a, 0, &out, &err), CA_ESTATE);
	assert_string_equal(err.where, "email.imap");

	static const struct {
		const char *email, *where;
	} bad[] = {
		{ "{\"imap\":{\"url\":\"http://x/INBOX\"}}", "email.imap.url" },
		{ "{\"imap\":{\"url\":\"imap://u:secret@127.0.0.1/INBOX\"}}", "email.imap.url" },
		{ "{\"imap\":{\"url\":\"imap://127.0.0.1/INBOX\",\"password_file\":\"pw.txt\"}}", "email.imap.password_file" },
		{ "{\"imap\":{\"url\":\"imap://127.0.0.1/INBOX\",\"allow_plaintext\":\"yes\"}}", "email.imap.allow_plaintext" },
		{ "{\"imap\":{\"url\":\"imap://127.0.0.1/INBOX\",\"port\":143}}", "email.imap.port" },
		{ "{\"smtp\":{\"url\":\"smtp://127.0.0.1\",\"mailbox\":\"x\"}}", "email.smtp.mailbox" },
		{ "{\"poll_interval_s\":60}", "email.poll_interval_s" },
		{ "{\"smtp\":{\"url\":\"smtp://127.0.0.1\"},\"send_interval_s\":-1}", "email.send_interval_s" },
		{ "{\"send_interval_s\":30}", "email.send_interval_s" },
	};
	for (size_t i = 0; i < CA_ARRAY_SIZE(bad); i++) {
		/* the example's settings with these keys added to "email" */
		json_t *j = json_deep_copy(fx->a->settings->json);
		json_t *e = json_loads(bad[i].email, 0, NULL);
		assert_non_null(e);
		json_object_update(json_object_get(j, "email"), e);
		json_decref(e);
		ca_settings *s = NULL;
		ca_err_clear(&err);
		assert_int_equal(ca_settings_parse(j, &s, &err), CA_EINVAL);
		assert_string_equal(err.where, bad[i].where);
		assert_null(strstr(err.message, "secret"));
		json_decref(j);
	}

	/* configured, the server refusing (nothing listens on port 1): the run
	 * fails, and its state says so without the password */
	char pw[160], set[700];
	snprintf(pw, sizeof(pw), "%s/pw.txt", fx->dir);
	FILE *f = fopen(pw, "w");
	assert_non_null(f);
	fputs("Sup3rSecret\n", f);
	fclose(f);
	json_t *settings = json_deep_copy(fx->a->settings->json);
	json_t *email = json_object_get(settings, "email");
	json_object_set_new(email, "imap", json_pack("{s:s, s:s, s:s, s:b}", "url", "imap://127.0.0.1:1/INBOX", "user",
						      "support", "password_file", pw, "allow_plaintext", 1));
	json_object_set_new(email, "poll_interval_s", json_integer(60));
	snprintf(set, sizeof(set), "%s/settings2.json", fx->dir);
	assert_int_equal(json_dump_file(settings, set, 0), 0);
	json_decref(settings);
	assert_int_equal(ca_settings_import_file(fx->a, set, &err), 0);
	ca_err_clear(&err);
	assert_int_not_equal(ca_email_poll_configured(fx->a, 0, &out, &err), 0);
	assert_null(strstr(err.message, "Sup3rSecret"));
	assert_int_equal(ca_email_status(fx->a, &out, &err), 0);
	assert_null(strstr(out, "Sup3rSecret"));
	st = json_loads(out, 0, NULL);
	free(out);
	json_t *im = json_object_get(st, "imap");
	assert_true(json_is_true(json_object_get(im, "configured")));
	assert_string_equal(ca_json_str(im, "url"), "imap://127.0.0.1:1/INBOX");
	assert_int_equal(json_integer_value(json_object_get(im, "interval_s")), 60);
	assert_int_equal(json_integer_value(json_object_get(im, "runs")), 1);
	assert_non_null(ca_json_str(im, "last_run_at"));
	assert_true(json_is_null(json_object_get(im, "last_ok_at")));
	assert_non_null(ca_json_str(im, "last_error"));
	json_decref(st);

	/* a missing password file is a recorded failure naming the file */
	unlink(pw);
	ca_err_clear(&err);
	assert_int_equal(ca_email_poll_configured(fx->a, 0, &out, &err), CA_EIO);
	assert_non_null(strstr(err.message, pw));
	assert_int_equal(ca_email_status(fx->a, &out, &err), 0);
	st = json_loads(out, 0, NULL);
	free(out);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "imap"), "runs")), 2);
	assert_non_null(strstr(ca_json_str(json_object_get(st, "imap"), "last_error"), pw));
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chat_replay_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grouped_per_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units_in_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_no_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_agent_sees_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_knowledge_notification_harvest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_work_settings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
