/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the conversation summariser (src/summary): an invented chat
 * about a jacket delivered in the wrong size, read the way the close-of-chat
 * note reads it — the customer's problem sentence as the issue, the
 * representative's steps as actions, the e-mailed return label as the next
 * step — with every line traced back to the exact bytes of its message, and
 * the edge cases: empty conversations, greetings only, system and bot lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "summary.h"

#define MSG(i, r, t) { (i), (r), (t), sizeof(t) - 1 }

static const ca_msg JACKET[] = {
	MSG("m1", CA_ROLE_SYSTEM, "Chat started. Customer joined the queue."),
	MSG("m2", CA_ROLE_AGENT,
	    "Hi, thanks for contacting Northwind Outfitters! How can I help you today?"),
	MSG("m3", CA_ROLE_CUSTOMER,
	    "Hi there. I ordered a rain jacket last week and it arrived in the wrong size. "
	    "I ordered a medium but got an XL."),
	MSG("m4", CA_ROLE_AGENT, "I'm sorry to hear that. May I have your order number please?"),
	MSG("m5", CA_ROLE_CUSTOMER, "Sure, it's 88213409."),
	MSG("m6", CA_ROLE_SYSTEM,
	    "Order 88213409 refunded and return label issued; customer will be notified by e-mail."),
	MSG("m7", CA_ROLE_AGENT,
	    "Thank you. I've checked your order and I can see the jacket was shipped in size XL by mistake."),
	MSG("m8", CA_ROLE_AGENT,
	    "I have issued a prepaid return label for the jacket. "
	    "The return label will arrive by e-mail within 24 hours."),
	MSG("m9", CA_ROLE_CUSTOMER, "Great, and will I get a medium one instead?"),
	MSG("m10", CA_ROLE_AGENT, "Yes, once we receive the XL back we will ship a medium at no cost. You're all set!"),
	MSG("m11", CA_ROLE_CUSTOMER, "Perfect, thanks so much for your help."),
	MSG("m12", CA_ROLE_AGENT, "You're welcome, have a great day!"),
	MSG("m13", CA_ROLE_BOT, "Please rate your experience from 1 to 5. Your refund will arrive within 3 days."),
};

static const ca_msg *find_msg(const ca_msg *msgs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(msgs[i].id, id) == 0)
			return &msgs[i];
	return NULL;
}

static size_t count_section(const ca_summary *s, ca_summary_section sec)
{
	size_t c = 0;
	for (size_t i = 0; i < s->n; i++)
		c += s->lines[i].section == sec;
	return c;
}

/* Every line is the exact bytes of its span, from a person, never twice. */
static void check_invariants(const ca_msg *msgs, size_t n, const ca_summary *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const ca_summary_line *l = &s->lines[i];
		const ca_msg *m = find_msg(msgs, n, l->msg_id);
		assert_non_null(m);
		assert_true(m->role == CA_ROLE_CUSTOMER || m->role == CA_ROLE_AGENT);
		assert_true(l->begin < l->end);
		assert_true(l->end <= m->len);
		assert_int_equal(strlen(l->text), l->end - l->begin);
		assert_memory_equal(l->text, m->text + l->begin, l->end - l->begin);
		assert_true(l->text[0] != ' ' && l->text[strlen(l->text) - 1] != ' ');
		if (i > 0)
			assert_true(l->section >= s->lines[i - 1].section);
		for (size_t j = 0; j < i; j++)
			assert_false(strcmp(s->lines[j].msg_id, l->msg_id) == 0 && s->lines[j].begin == l->begin);
	}
}

static void test_jacket(void **state)
{
	(void)state;
	size_t n = sizeof(JACKET) / sizeof(JACKET[0]);
	ca_summary s = { 0 };
	ca_err err = { 0 };
	assert_int_equal(ca_summarize(JACKET, n, 0, &s, &err), 0);
	check_invariants(JACKET, n, &s);

	/* The issue is the customer's problem sentence, not the greeting. */
	assert_true(count_section(&s, CA_SUM_ISSUE) >= 1);
	assert_true(count_section(&s, CA_SUM_ISSUE) <= 2);
	const ca_summary_line *issue = &s.lines[0];
	assert_int_equal(issue->section, CA_SUM_ISSUE);
	assert_string_equal(issue->msg_id, "m3");
	assert_string_equal(issue->text, "I ordered a rain jacket last week and it arrived in the wrong size.");

	bool label_action = false, label_next = false;
	for (size_t i = 0; i < s.n; i++) {
		const ca_summary_line *l = &s.lines[i];
		const ca_msg *m = find_msg(JACKET, n, l->msg_id);
		/* System and bot lines never contribute, even full of cue words. */
		assert_true(m->role != CA_ROLE_SYSTEM && m->role != CA_ROLE_BOT);
		if (l->section == CA_SUM_ACTIONS) {
			assert_int_equal(m->role, CA_ROLE_AGENT);
			label_action |= strcmp(l->text, "I have issued a prepaid return label for the jacket.") == 0;
		}
		if (l->section == CA_SUM_NEXT_STEPS)
			label_next |= strcmp(l->text, "The return label will arrive by e-mail within 24 hours.") == 0;
		/* The identity request and the pleasantries stay out of the note. */
		assert_null(strstr(l->text, "May I have"));
		assert_null(strstr(l->text, "have a great day"));
		assert_null(strstr(l->text, "How can I help"));
	}
	assert_true(label_action);
	assert_true(label_next);
	assert_int_equal(count_section(&s, CA_SUM_OUTCOME) >= 1, 1);

	/* The e-mail line's span points into m8 exactly. */
	const ca_msg *m8 = find_msg(JACKET, n, "m8");
	const char *want = "The return label will arrive by e-mail within 24 hours.";
	const char *at = strstr(m8->text, want);
	for (size_t i = 0; i < s.n; i++)
		if (strcmp(s.lines[i].text, want) == 0) {
			assert_string_equal(s.lines[i].msg_id, "m8");
			assert_int_equal(s.lines[i].begin, (uint32_t)(at - m8->text));
			assert_int_equal(s.lines[i].end, (uint32_t)(at - m8->text + strlen(want)));
		}
	ca_summary_done(&s);
	ca_summary_done(&s); /* done twice is harmless */
}

static void test_render_and_json(void **state)
{
	(void)state;
	size_t n = sizeof(JACKET) / sizeof(JACKET[0]);
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(JACKET, n, 0, &s, NULL), 0);

	ca_buf b = { 0 };
	assert_int_equal(ca_summary_render(&s, &b), 0);
	assert_non_null(b.data);
	assert_true(strncmp(b.data, "Issue: I ordered a rain jacket", 30) == 0);
	assert_non_null(strstr(b.data, "\nActions taken: "));
	assert_non_null(strstr(b.data, "\nNext steps: "));
	assert_non_null(strstr(b.data, "\nOutcome: "));
	assert_true(strstr(b.data, "\nActions taken: ") < strstr(b.data, "\nOutcome: "));
	assert_true(strstr(b.data, "\nOutcome: ") < strstr(b.data, "\nNext steps: "));
	assert_int_equal(b.data[b.len - 1], '\n');
	/* One line per section present. */
	size_t nl = 0;
	for (size_t i = 0; i < b.len; i++)
		nl += b.data[i] == '\n';
	size_t present = 0;
	for (int sec = CA_SUM_ISSUE; sec <= CA_SUM_NEXT_STEPS; sec++)
		present += count_section(&s, (ca_summary_section)sec) > 0;
	assert_int_equal(nl, present);
	ca_buf_done(&b);

	json_t *j = ca_summary_to_json(&s);
	assert_non_null(j);
	json_t *issue = json_object_get(j, "issue");
	assert_true(json_is_array(issue));
	assert_true(json_is_array(json_object_get(j, "actions_taken")));
	assert_true(json_is_array(json_object_get(j, "outcome")));
	assert_true(json_is_array(json_object_get(j, "next_steps")));
	json_t *first = json_array_get(issue, 0);
	assert_string_equal(json_string_value(json_object_get(first, "message")), "m3");
	assert_string_equal(json_string_value(json_object_get(first, "text")), s.lines[0].text);
	assert_int_equal(json_integer_value(json_object_get(first, "begin")), s.lines[0].begin);
	assert_int_equal(json_integer_value(json_object_get(first, "end")), s.lines[0].end);
	size_t total = json_array_size(issue) + json_array_size(json_object_get(j, "actions_taken")) +
		       json_array_size(json_object_get(j, "outcome")) +
		       json_array_size(json_object_get(j, "next_steps"));
	assert_int_equal(total, s.n);
	json_decref(j);
	ca_summary_done(&s);
}

static void test_deterministic_and_capped(void **state)
{
	(void)state;
	size_t n = sizeof(JACKET) / sizeof(JACKET[0]);
	ca_summary a = { 0 }, b = { 0 };
	assert_int_equal(ca_summarize(JACKET, n, 0, &a, NULL), 0);
	assert_int_equal(ca_summarize(JACKET, n, 0, &b, NULL), 0);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_int_equal(a.lines[i].section, b.lines[i].section);
		assert_string_equal(a.lines[i].msg_id, b.lines[i].msg_id);
		assert_int_equal(a.lines[i].begin, b.lines[i].begin);
		assert_int_equal(a.lines[i].end, b.lines[i].end);
	}
	ca_summary_done(&a);
	ca_summary_done(&b);

	ca_summary one = { 0 };
	assert_int_equal(ca_summarize(JACKET, n, 1, &one, NULL), 0);
	check_invariants(JACKET, n, &one);
	for (int sec = CA_SUM_ISSUE; sec <= CA_SUM_NEXT_STEPS; sec++)
		assert_true(count_section(&one, (ca_summary_section)sec) <= 1);
	assert_int_equal(count_section(&one, CA_SUM_ISSUE), 1);
	ca_summary_done(&one);
}

static void test_empty(void **state)
{
	(void)state;
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(NULL, 0, 0, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	assert_null(s.lines);

	ca_buf b = { 0 };
	assert_int_equal(ca_summary_render(&s, &b), 0);
	assert_true(b.len == 0);
	ca_buf_done(&b);

	json_t *j = ca_summary_to_json(&s);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "issue")), 0);
	json_decref(j);
	ca_summary_done(&s);

	/* Messages with no text are not sentences. */
	const ca_msg blank[] = { { "b1", CA_ROLE_CUSTOMER, "", 0 }, { "b2", CA_ROLE_AGENT, "  \n ", 4 } };
	assert_int_equal(ca_summarize(blank, 2, 0, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	ca_summary_done(&s);
}

static void test_greetings_only(void **state)
{
	(void)state;
	static const ca_msg chat[] = {
		MSG("g1", CA_ROLE_AGENT, "Hello! How can I help you today?"),
		MSG("g2", CA_ROLE_CUSTOMER, "Hi!"),
		MSG("g3", CA_ROLE_CUSTOMER, "Hello there, good morning."),
		MSG("g4", CA_ROLE_AGENT, "Good morning!"),
		MSG("g5", CA_ROLE_CUSTOMER, "Yes"),
		MSG("g6", CA_ROLE_CUSTOMER, "Thanks! Bye."),
		MSG("g7", CA_ROLE_AGENT, "You're welcome, have a great day!"),
	};
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(chat, CA_ARRAY_SIZE(chat), 0, &s, NULL), 0);
	assert_int_equal(count_section(&s, CA_SUM_ISSUE), 0);
	assert_int_equal(s.n, 0);
	ca_summary_done(&s);
}

/* Identifiers a customer types in answer to questions are not the issue. */
static void test_identifiers_not_issue(void **state)
{
	(void)state;
	static const ca_msg chat[] = {
		MSG("i1", CA_ROLE_AGENT, "May I have your full name, e-mail and order ID?"),
		MSG("i2", CA_ROLE_CUSTOMER, "Crystal Minh"),
		MSG("i3", CA_ROLE_CUSTOMER, "cminh730@email.com"),
		MSG("i4", CA_ROLE_CUSTOMER, "Order ID: 3348917502"),
		MSG("i5", CA_ROLE_CUSTOMER, "Username: cminh730"),
		MSG("i6", CA_ROLE_CUSTOMER, "(977) 625-2661"),
	};
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(chat, CA_ARRAY_SIZE(chat), 0, &s, NULL), 0);
	assert_int_equal(count_section(&s, CA_SUM_ISSUE), 0);
	assert_int_equal(s.n, 0);
	ca_summary_done(&s);
}

static void test_system_and_bot_only(void **state)
{
	(void)state;
	static const ca_msg chat[] = {
		MSG("s1", CA_ROLE_SYSTEM, "I need a refund because the item is broken."),
		MSG("s2", CA_ROLE_BOT, "I have refunded your order. You will receive an e-mail within 2 days."),
	};
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(chat, CA_ARRAY_SIZE(chat), 0, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	ca_summary_done(&s);
}

/* The same sentence repeated by the customer is one issue line, and a
 * sentence fitting two sections is used once. */
static void test_no_repeats(void **state)
{
	(void)state;
	static const ca_msg chat[] = {
		MSG("r1", CA_ROLE_CUSTOMER, "My package never arrived."),
		MSG("r2", CA_ROLE_AGENT, "Let me check the tracking for you."),
		MSG("r3", CA_ROLE_CUSTOMER, "My package never arrived."),
		MSG("r4", CA_ROLE_AGENT,
		    "I have sent a replacement and you will receive a tracking e-mail within 2 days."),
		MSG("r5", CA_ROLE_CUSTOMER, "Great, I received the e-mail already, that worked."),
	};
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(chat, CA_ARRAY_SIZE(chat), 0, &s, NULL), 0);
	check_invariants(chat, CA_ARRAY_SIZE(chat), &s);
	assert_int_equal(count_section(&s, CA_SUM_ISSUE), 1);
	assert_string_equal(s.lines[0].msg_id, "r1");
	size_t r4 = 0;
	bool confirmed = false;
	for (size_t i = 0; i < s.n; i++) {
		r4 += strcmp(s.lines[i].msg_id, "r4") == 0;
		confirmed |= s.lines[i].section == CA_SUM_OUTCOME && strcmp(s.lines[i].msg_id, "r5") == 0;
	}
	assert_int_equal(r4, 1);
	assert_true(confirmed);
	ca_summary_done(&s);
}

/* Typed apostrophes and an opening question without "?" still read as the issue. */
static void test_typography(void **state)
{
	(void)state;
	static const ca_msg chat[] = {
		MSG("a1", CA_ROLE_AGENT, "Welcome to Northwind, how can I help?"),
		MSG("a2", CA_ROLE_CUSTOMER, "hi do you sell the rain jacket in red"),
		MSG("a3", CA_ROLE_CUSTOMER, "Also I can\xE2\x80\x99t log in to my account since yesterday."),
		MSG("a4", CA_ROLE_AGENT, "I\xE2\x80\x99ve sent a password reset link to your e-mail."),
	};
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(chat, CA_ARRAY_SIZE(chat), 100, &s, NULL), 0);
	check_invariants(chat, CA_ARRAY_SIZE(chat), &s);
	assert_int_equal(count_section(&s, CA_SUM_ISSUE), 2);
	assert_string_equal(s.lines[0].msg_id, "a2");
	assert_string_equal(s.lines[1].msg_id, "a3");
	bool sent_link = false;
	for (size_t i = 0; i < s.n; i++)
		sent_link |= s.lines[i].section == CA_SUM_ACTIONS && strcmp(s.lines[i].msg_id, "a4") == 0;
	assert_true(sent_link);
	ca_summary_done(&s);
}

static void test_errors_and_names(void **state)
{
	(void)state;
	ca_err err = { 0 };
	assert_int_equal(ca_summarize(JACKET, 1, 0, NULL, &err), CA_EINVAL);
	assert_int_equal(err.code, CA_EINVAL);
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(NULL, 3, 0, &s, NULL), CA_EINVAL);

	/* Bad UTF-8 is refused and named; *out is left alone. */
	static const ca_msg bad[] = { { "x1", CA_ROLE_CUSTOMER, "I need help \xff\xfe now", 17 } };
	ca_err_clear(&err);
	assert_int_equal(ca_summarize(bad, 1, 0, &s, &err), CA_EUTF8);
	assert_string_equal(err.where, "x1");
	assert_int_equal(s.n, 0);
	assert_null(s.lines);

	assert_string_equal(ca_summary_section_name(CA_SUM_ISSUE), "Issue");
	assert_string_equal(ca_summary_section_name(CA_SUM_ACTIONS), "Actions taken");
	assert_string_equal(ca_summary_section_name(CA_SUM_OUTCOME), "Outcome");
	assert_string_equal(ca_summary_section_name(CA_SUM_NEXT_STEPS), "Next steps");
	ca_summary_done(NULL);
}

/* The issue 9 note: the problem stated with no cue word the tables knew
 * ("will not turn on") and a customer aside late in the chat. */
static const ca_msg KESTREL[] = {
	MSG("k1", CA_ROLE_AGENT, "Hello and thanks for contacting BrightWave. How can I help you today?"),
	MSG("k2", CA_ROLE_CUSTOMER,
	    "Hi, my new Kestrel 14 laptop will not turn on. The power light stays dark even after a night on the charger."),
	MSG("k3", CA_ROLE_AGENT, "I'm sorry to hear that. Could you hold the power button for thirty seconds with the charger unplugged?"),
	MSG("k4", CA_ROLE_CUSTOMER, "Done that twice, nothing happens."),
	MSG("k5", CA_ROLE_AGENT, "Thank you for trying. I have booked a free repair under warranty."),
	MSG("k6", CA_ROLE_CUSTOMER, "Honestly this is not urgent, I have an old laptop I can use in the meantime."),
	MSG("k7", CA_ROLE_AGENT, "Understood. A courier will collect the laptop on Thursday."),
	MSG("k8", CA_ROLE_CUSTOMER, "Ok, thanks."),
};

/* The same fault, the representative's last turns questions, and the
 * customer's aside full of words that sound like agreement. */
static const ca_msg KESTREL_ASIDE[] = {
	MSG("a1", CA_ROLE_AGENT, "Hi, this is BrightWave support. What can I do for you?"),
	MSG("a2", CA_ROLE_CUSTOMER, "My new Kestrel 14 laptop will not turn on, not even the keyboard light."),
	MSG("a3", CA_ROLE_AGENT, "Does anything happen when you plug in the charger?"),
	MSG("a4", CA_ROLE_CUSTOMER, "No, the charger light goes on but the laptop stays dark."),
	MSG("a5", CA_ROLE_AGENT, "Thanks. I have opened a warranty repair for the laptop."),
	MSG("a6", CA_ROLE_AGENT, "Would Thursday suit you for the courier?"),
	MSG("a7", CA_ROLE_CUSTOMER,
	    "Honestly this is not urgent, any day works for me and I understand these things take time."),
};

/* A complaint that uses the words of a resolution, and a question. */
static const ca_msg COMPLAINT[] = {
	MSG("c1", CA_ROLE_CUSTOMER, "My parcel never arrived and the tracking has not moved since Friday."),
	MSG("c2", CA_ROLE_AGENT, "I have opened a trace with the carrier."),
	MSG("c3", CA_ROLE_CUSTOMER, "Called in four times now with no resolve, this is disgusting."),
	MSG("c4", CA_ROLE_CUSTOMER, "So you got it?"),
	MSG("c5", CA_ROLE_AGENT, "Could you confirm the delivery address?"),
};

/* A problem told plainly, with none of the issue cues at all. */
static const ca_msg FLICKER[] = {
	MSG("f1", CA_ROLE_AGENT, "Good morning, you are chatting with Priya."),
	MSG("f2", CA_ROLE_CUSTOMER, "Morning. The screen of my Heron tablet flickers since the update on Monday."),
	MSG("f3", CA_ROLE_AGENT, "Thanks. I pushed the display patch to your tablet and restarted it remotely."),
	MSG("f4", CA_ROLE_CUSTOMER, "By the way I love the colour of it."),
	MSG("f5", CA_ROLE_AGENT, "The flicker should now be gone."),
	MSG("f6", CA_ROLE_CUSTOMER, "Anyway I am in no hurry, my kids mostly use it."),
};

static const ca_summary_line *first_of(const ca_summary *s, ca_summary_section sec)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->lines[i].section == sec)
			return &s->lines[i];
	return NULL;
}

/* Always an Issue line from the customer's statement of the problem; the
 * Outcome is what was done or agreed, never a customer's aside. */
static void test_issue_always_outcome_not_aside(void **state)
{
	(void)state;
	struct {
		const ca_msg *m;
		size_t n;
		const char *issue, *msg;
		bool outcome; /* the representative states one */
	} chats[] = {
		{ KESTREL, CA_ARRAY_SIZE(KESTREL), "my new Kestrel 14 laptop will not turn on", "k2", true },
		{ KESTREL_ASIDE, CA_ARRAY_SIZE(KESTREL_ASIDE), "will not turn on", "a2", false },
		{ FLICKER, CA_ARRAY_SIZE(FLICKER), "The screen of my Heron tablet flickers", "f2", true },
		{ COMPLAINT, CA_ARRAY_SIZE(COMPLAINT), "My parcel never arrived", "c1", false },
	};
	for (size_t c = 0; c < CA_ARRAY_SIZE(chats); c++) {
		ca_summary s = { 0 };
		assert_int_equal(ca_summarize(chats[c].m, chats[c].n, 0, &s, NULL), 0);
		check_invariants(chats[c].m, chats[c].n, &s);
		for (size_t i = 0; i < s.n; i++) {
			if (s.lines[i].section != CA_SUM_OUTCOME)
				continue;
			assert_null(strstr(s.lines[i].text, "not urgent"));
			assert_null(strstr(s.lines[i].text, "no hurry"));
			assert_null(strstr(s.lines[i].text, "love the colour"));
			assert_null(strstr(s.lines[i].text, "disgusting"));
			assert_null(strstr(s.lines[i].text, "got it?"));
		}
		const ca_summary_line *issue = first_of(&s, CA_SUM_ISSUE);
		assert_non_null(issue);
		assert_int_equal(issue->role, CA_ROLE_CUSTOMER);
		assert_string_equal(issue->msg_id, chats[c].msg);
		assert_non_null(strstr(issue->text, chats[c].issue));
		const ca_summary_line *out = first_of(&s, CA_SUM_OUTCOME);
		if (chats[c].outcome) {
			assert_non_null(out);
			assert_int_equal(out->role, CA_ROLE_AGENT);
		}
		ca_summary_done(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jacket),
		cmocka_unit_test(test_render_and_json),
		cmocka_unit_test(test_deterministic_and_capped),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_greetings_only),
		cmocka_unit_test(test_identifiers_not_issue),
		cmocka_unit_test(test_system_and_bot_only),
		cmocka_unit_test(test_no_repeats),
		cmocka_unit_test(test_typography),
		cmocka_unit_test(test_errors_and_names),
		cmocka_unit_test(test_issue_always_outcome_not_aside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
