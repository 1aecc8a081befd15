/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the summariser's brief (src/summary): the two lines it picks
 * (the customer's opening statement, where the representative left it, each
 * traced to its bytes), the reported speech it is rendered in (names for
 * pronouns, agreeing verbs, indirect questions, social-media furniture left
 * out), and the guess of which unlabelled party is the customer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "summary.h"

#define MSG(i, r, t) { (i), (r), (t), sizeof(t) - 1 }

static const ca_msg SHOES[] = {
	MSG("m1", CA_ROLE_AGENT, "Hi, thanks for contacting Northwind! How can I help you today?"),
	MSG("m2", CA_ROLE_CUSTOMER, "Hello."),
	MSG("m3", CA_ROLE_CUSTOMER, "I ordered running shoes last week and they are too small. Can I swap them?"),
	MSG("m4", CA_ROLE_AGENT, "I'm sorry to hear that. May I have your order number please?"),
	MSG("m5", CA_ROLE_CUSTOMER, "Sure, 88213409."),
	MSG("m6", CA_ROLE_SYSTEM, "Exchange created for order 88213409."),
	MSG("m7", CA_ROLE_AGENT, "Thank you. I have created an exchange for a larger size."),
	MSG("m8", CA_ROLE_AGENT, "Your new pair has been shipped and will arrive within 3 days."),
	MSG("m9", CA_ROLE_CUSTOMER, "Perfect, thanks!"),
};

static const ca_msg *find_msg(const ca_msg *msgs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(msgs[i].id, id) == 0)
			return &msgs[i];
	return NULL;
}

static void test_brief_lines(void **state)
{
	(void)state;
	ca_summary s = { 0 };
	ca_err err = { 0 };
	assert_int_equal(ca_summarize_brief(SHOES, CA_ARRAY_SIZE(SHOES), &s, &err), 0);
	assert_int_equal(s.n, 2);
	/* the opening statement, not the greeting before it */
	assert_int_equal(s.lines[0].section, CA_SUM_ISSUE);
	assert_int_equal(s.lines[0].role, CA_ROLE_CUSTOMER);
	assert_string_equal(s.lines[0].msg_id, "m3");
	assert_string_equal(s.lines[0].text, "I ordered running shoes last week and they are too small.");
	/* the outcome, from the representative */
	assert_int_equal(s.lines[1].section, CA_SUM_OUTCOME);
	assert_int_equal(s.lines[1].role, CA_ROLE_AGENT);
	assert_string_equal(s.lines[1].msg_id, "m8");
	for (size_t i = 0; i < s.n; i++) {
		const ca_msg *m = find_msg(SHOES, CA_ARRAY_SIZE(SHOES), s.lines[i].msg_id);
		assert_non_null(m);
		assert_memory_equal(s.lines[i].text, m->text + s.lines[i].begin, s.lines[i].end - s.lines[i].begin);
	}

	ca_buf b = { 0 };
	assert_int_equal(ca_summary_render_prose(&s, NULL, &b), 0);
	assert_string_equal(b.data, "Customer ordered running shoes last week and they are too small. "
				    "Agent says Customer's new pair has been shipped and will arrive within 3 days.");
	ca_buf_done(&b);
	ca_summary_done(&s);

	/* greetings only: nothing to say */
	static const ca_msg hello[] = { MSG("g1", CA_ROLE_CUSTOMER, "Hi!"), MSG("g2", CA_ROLE_AGENT, "Hello there.") };
	assert_int_equal(ca_summarize_brief(hello, 2, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ca_summarize_brief(NULL, 0, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ca_summarize_brief(SHOES, 1, NULL, NULL), CA_EINVAL);
}

/* The note's lines say who spoke. */
static void test_lines_have_roles(void **state)
{
	(void)state;
	ca_summary s = { 0 };
	assert_int_equal(ca_summarize(SHOES, CA_ARRAY_SIZE(SHOES), 0, &s, NULL), 0);
	assert_true(s.n > 0);
	for (size_t i = 0; i < s.n; i++) {
		const ca_msg *m = find_msg(SHOES, CA_ARRAY_SIZE(SHOES), s.lines[i].msg_id);
		assert_int_equal(s.lines[i].role, m->role);
	}
	ca_summary_done(&s);
}

/* Render one line said by `role` with the given names. */
static void said(ca_role role, const char *text, const char *cust, const char *agent, unsigned max_words,
		 const char *want)
{
	ca_summary_line l = { .section = CA_SUM_ISSUE, .text = (char *)text, .msg_id = (char *)"x", .role = role };
	ca_summary s = { .lines = &l, .n = 1 };
	ca_summary_prose_opts o = { .customer = cust, .agent = agent, .max_words = max_words };
	ca_buf b = { 0 };
	assert_int_equal(ca_summary_render_prose(&s, &o, &b), 0);
	assert_string_equal(b.data ? b.data : "", want);
	ca_buf_done(&b);
}

static void test_reported_speech(void **state)
{
	(void)state;
	const ca_role C = CA_ROLE_CUSTOMER, A = CA_ROLE_AGENT;
	/* pronouns become names; the verb agrees */
	said(C, "I need a refund for my order.", NULL, NULL, 0, "Customer needs a refund for Customer's order.");
	said(A, "I have sent you a new label.", NULL, NULL, 0, "Agent has sent Customer a new label.");
	said(C, "I really want to cancel.", NULL, NULL, 0, "Customer really wants to cancel.");
	said(C, "I'm locked out and I don't know why", NULL, NULL, 0,
	     "Customer is locked out and Customer doesn't know why.");
	/* an object "you" is not a subject: no agreement */
	said(A, "We will send you the form", NULL, NULL, 0, "Agent says we will send Customer the form.");
	/* the data's own names; tokenised apostrophes joined */
	said(C, "I ' m not sure what is wrong with my chest.", "#Person2#", "#Person1#", 0,
	     "#Person2# is not sure what is wrong with #Person2#'s chest.");
	/* questions become indirect */
	said(C, "How do I change GRS replication to LRS?", NULL, NULL, 0,
	     "Customer asks how to change GRS replication to LRS.");
	said(C, "Can you send it again?", NULL, NULL, 0, "Customer asks if Agent can send it again.");
	said(C, "Do you sell gloves?", NULL, NULL, 0, "Customer asks if Agent sells gloves.");
	said(A, "What time do you want to go?", "#Person2#", "#Person1#", 0,
	     "#Person1# asks what time #Person2# wants to go.");
	/* furniture of social media and greetings left out */
	said(A, "@756012 Here is some documentation: https://t.co/EZJMmre6uM ^PB", NULL, NULL, 0,
	     "Agent says here is some documentation.");
	said(A, "Hi Mitchell, sorry for the delay there is a limited service. (1/2) -Andy", NULL, NULL, 0,
	     "Agent says Mitchell, sorry for the delay there is a limited service.");
	said(C, "@AzureSupport #azTechHelp my VM is down!!", NULL, NULL, 0, "Customer's VM is down.");
	/* 24/7 is content, not a reply counter */
	said(A, "We are open 24/7.", NULL, NULL, 0, "Agent says we are open 24/7.");
	/* cut after max_words */
	said(C, "The screen flickers every time the laptop wakes from sleep mode.", NULL, NULL, 4,
	     "Customer says the screen flickers every.");
	/* nothing left: no sentence */
	said(C, "@AmazonHelp https://t.co/x", NULL, NULL, 0, "");
	said(C, "?!", NULL, NULL, 0, "");

	assert_int_equal(ca_summary_render_prose(NULL, NULL, NULL), CA_EINVAL);
}

static void guess(const ca_msg *msgs, size_t n, bool want)
{
	bool second = !want;
	assert_int_equal(ca_summary_customer_is_second(msgs, n, &second, NULL), 0);
	assert_true(second == want);
}

static void test_who_is_the_customer(void **state)
{
	(void)state;
	/* the first party offers help: the second is the customer */
	static const ca_msg clerk_first[] = {
		MSG("1", CA_ROLE_CUSTOMER, "Good morning, what can I do for you?"),
		MSG("2", CA_ROLE_AGENT, "I'd like to open a savings account."),
		MSG("3", CA_ROLE_CUSTOMER, "Certainly. Do you have your ID with you?"),
	};
	guess(clerk_first, CA_ARRAY_SIZE(clerk_first), true);
	/* the first party states a need, the second answers */
	static const ca_msg customer_first[] = {
		MSG("1", CA_ROLE_CUSTOMER, "My package never arrived and I need a refund."),
		MSG("2", CA_ROLE_AGENT, "Let me look at the tracking."),
	};
	guess(customer_first, CA_ARRAY_SIZE(customer_first), false);
	/* neither offers help; the need is on the second party's side */
	static const ca_msg need_second[] = {
		MSG("1", CA_ROLE_CUSTOMER, "Next please."),
		MSG("2", CA_ROLE_AGENT, "Hi, my card was charged twice and I can't log in."),
	};
	guess(need_second, CA_ARRAY_SIZE(need_second), true);
	/* nothing to go on: the first party */
	static const ca_msg flat[] = { MSG("1", CA_ROLE_CUSTOMER, "Nice weather."), MSG("2", CA_ROLE_AGENT, "Indeed.") };
	guess(flat, CA_ARRAY_SIZE(flat), false);
	guess(NULL, 0, false);
	bool b;
	assert_int_equal(ca_summary_customer_is_second(flat, 2, NULL, NULL), CA_EINVAL);
	static const ca_msg bad[] = { { "x", CA_ROLE_CUSTOMER, "I need \xff help", 13 } };
	assert_int_equal(ca_summary_customer_is_second(bad, 1, &b, NULL), CA_EUTF8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brief_lines),
		cmocka_unit_test(test_lines_have_roles),
		cmocka_unit_test(test_reported_speech),
		cmocka_unit_test(test_who_is_the_customer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
