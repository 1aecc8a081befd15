/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of a knowledge draft's wording (src/summary/draft.c): titles
 * without placeholders (issue 9: "[ORDER_NUMBER]" in a title after PII
 * removal), falling back to the issue when nothing is left, and resolutions
 * that state what was done, never a "let me check" (issue 9: a draft took
 * "Let me check the payments on that order." as its resolution), and a
 * case's proposed resolution (issue 12, resolution help): the
 * representative's statements in thread order with their messages, never
 * the customer's words, a deferral or a question.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "summary.h"

static void title_is(const char *in, const char *fallback, const char *want)
{
	char *t = NULL;
	assert_int_equal(ca_summary_title(in, fallback, &t), 0);
	if (strcmp(t, want) != 0)
		fail_msg("title of \"%s\": \"%s\", want \"%s\"", in, t, want);
	assert_null(strchr(t, '['));
	free(t);
}

static void test_title_placeholders(void **state)
{
	(void)state;
	title_is("Charged twice for order [ORDER_NUMBER]", NULL, "Charged twice for order");
	title_is("Refund for [ORDER_NUMBER] never arrived", NULL, "Refund never arrived");
	title_is("kindly help me my line [PHONE] doesn't connect data bundles", NULL,
		 "kindly help me my line doesn't connect data bundles");
	title_is("My [PERSON] Matrix printer stopped working", NULL, "My Matrix printer stopped working");
	title_is("do you guys hate [PERSON] Swift?", NULL, "do you guys hate Swift?");
	title_is("You really should go to [PERSON]'s pet store.", NULL, "You really should go pet store.");
	title_is("I waited for my bag in Atlanta when I returned from [PERSON].", NULL,
		 "I waited for my bag in Atlanta when I returned.");
	title_is("Dear [PERSON], the parcel came without a charger", NULL, "the parcel came without a charger");
	/* nothing left: the first sentence that says something */
	title_is("Hello, [PERSON], this is [PERSON].", "Hi [PERSON]. My Kestrel 14 will not charge since Monday.",
		 "My Kestrel 14 will not charge since Monday.");
	title_is("Hi, my name is [PERSON].", "My name is [PERSON]. I was charged twice for order [ORDER_NUMBER].",
		 "I was charged twice for order.");
	/* no placeholder: unchanged, a long one cut at a word */
	title_is("The earbuds stopped charging", NULL, "The earbuds stopped charging");
	char *t = NULL;
	const char *longer = "The screen of the tablet flickers whenever the brightness is below half and the charger "
			     "is plugged in, and it has done so since the update";
	assert_int_equal(ca_summary_title(longer, NULL, &t), 0);
	assert_true(strlen(t) <= 120 && strlen(t) > 40);
	assert_memory_equal(t, longer, strlen(t));
	free(t);
	assert_int_equal(ca_summary_title(NULL, NULL, &t), CA_EINVAL);
}

static void resolution_is(const char *in, const char *want)
{
	char *r = NULL;
	int rc = ca_summary_resolution(in, &r);
	if (!want) {
		if (rc != CA_ENOTFOUND)
			fail_msg("\"%s\" taken as a resolution: \"%s\"", in, r ? r : "");
		return;
	}
	assert_int_equal(rc, 0);
	if (strcmp(r, want) != 0)
		fail_msg("resolution of \"%s\": \"%s\", want \"%s\"", in, r, want);
	free(r);
}

static void test_resolution_statements(void **state)
{
	(void)state;
	resolution_is("Let me check the payments on that order.", NULL);
	resolution_is("I'll look into it and get back to you.", NULL);
	resolution_is("One moment please. Could you confirm the e-mail on the account?", NULL);
	resolution_is("Thanks so much! Have a great day!", NULL);
	resolution_is("We're checking with the warehouse now.", NULL);
	resolution_is("Let me check. I have reversed the duplicate payment and e-mailed the confirmation.",
		      "I have reversed the duplicate payment and e-mailed the confirmation.");
	resolution_is("Reset the earbuds by holding both buttons for ten seconds, then paired them again.",
		      "Reset the earbuds by holding both buttons for ten seconds, then paired them again.");
	resolution_is("Please restart the router and update the firmware. Let us know if it helps!",
		      "Please restart the router and update the firmware.");
	resolution_is("I have refunded the order, let me know if it does not arrive.",
		      "I have refunded the order, let me know if it does not arrive.");
	resolution_is("Ok, please let us know if there is anything else.", NULL);
	resolution_is("I refunded a second payment that was taken by mistake.",
		      "I refunded a second payment that was taken by mistake.");
	resolution_is("I can see the jacket was shipped in XL, so I have sent a free return label.",
		      "I can see the jacket was shipped in XL, so I have sent a free return label.");
	char *r = NULL;
	assert_int_equal(ca_summary_resolution(NULL, &r), CA_EINVAL);
}

static void test_propose_resolution(void **state)
{
	(void)state;
	const ca_msg thread[] = {
		{ "m0", CA_ROLE_CUSTOMER, "My card statement shows two payments for order BW-522103. Could you refund one?", 0 },
		{ "m1", CA_ROLE_AGENT, "Thanks for waiting. Let me check the payments on that order.", 0 },
		{ "m2", CA_ROLE_AGENT, "I have refunded the duplicate payment to your card. Is there anything else?", 0 },
		{ "m3", CA_ROLE_CUSTOMER, "Great, I have refunded nothing myself, thanks!", 0 },
		{ "m4", CA_ROLE_AGENT, "You will see the refund on your statement within 5 business days.", 0 },
	};
	ca_msg m[5];
	memcpy(m, thread, sizeof(m));
	for (size_t i = 0; i < 5; i++)
		m[i].len = strlen(m[i].text);
	ca_summary s = { 0 };
	char *text = NULL;
	double conf = -1;
	assert_int_equal(ca_summary_propose_resolution(m, 5, 0, &s, &text, &conf, NULL), 0);
	assert_non_null(text);
	if (strcmp(text, "I have refunded the duplicate payment to your card. "
			 "You will see the refund on your statement within 5 business days."))
		fail_msg("proposed: \"%s\"", text);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0].msg_id, "m2"); /* thread order, not section order */
	assert_string_equal(s.lines[1].msg_id, "m4");
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(s.lines[i].role, CA_ROLE_AGENT);
		const ca_msg *src = strcmp(s.lines[i].msg_id, "m2") ? &m[4] : &m[2];
		assert_memory_equal(src->text + s.lines[i].begin, s.lines[i].text, s.lines[i].end - s.lines[i].begin);
	}
	assert_true(conf > 0.3 && conf < 1);
	ca_summary_done(&s);
	free(text);

	/* only deferrals and questions: nothing proposed, confidence 0 */
	const ca_msg none[] = {
		{ "a", CA_ROLE_CUSTOMER, "The parcel has not arrived yet, where is it?", 44 },
		{ "b", CA_ROLE_AGENT, "Let me check with the courier. Could you confirm your address?", 62 },
	};
	text = (char *)"untouched";
	assert_int_equal(ca_summary_propose_resolution(none, 2, 0, &s, &text, &conf, NULL), 0);
	assert_null(text);
	assert_int_equal(s.n, 0);
	assert_true(conf == 0);
	ca_summary_done(&s);
	/* an empty thread is no error */
	assert_int_equal(ca_summary_propose_resolution(NULL, 0, 0, &s, &text, &conf, NULL), 0);
	assert_null(text);
	assert_int_equal(ca_summary_propose_resolution(NULL, 1, 0, &s, &text, &conf, NULL), CA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_title_placeholders),
		cmocka_unit_test(test_resolution_statements),
		cmocka_unit_test(test_propose_resolution),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
