/* SPDX-License-Identifier: MIT */
/*
 * The reply classifier (src/followup/intent.c): each intent on replies
 * written here, negation ("not fixed", "no longer an issue"), politeness
 * ("thanks, but it still ..."), automatic replies by header and by wording,
 * evidence offsets that point at the cue in the caller's text (also when
 * quoted history is stripped first), and the input limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "followup.h"
#include "caseagent/caseagent.h"

static ca_reply_intent read_intent(const char *text, const char *headers_json, ca_reply_reading *rd)
{
	json_t *h = headers_json ? json_loads(headers_json, 0, NULL) : NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_reply_read(text, h, rd, &err), 0);
	json_decref(h);
	double sum = 0;
	for (int k = 0; k < CA_REPLY_N; k++) {
		assert_true(rd->scores[k] >= 0 && rd->scores[k] <= 1);
		sum += rd->scores[k];
	}
	assert_true(sum > 0.999 && sum < 1.001);
	assert_true(rd->confidence >= 0 && rd->confidence <= 1);
	return rd->intent;
}

static void expect(const char *text, ca_reply_intent want)
{
	ca_reply_reading rd;
	ca_reply_intent got = read_intent(text, NULL, &rd);
	if (got != want)
		fail_msg("\"%s\": %s (%.2f), want %s", text, ca_reply_intent_name(got), rd.confidence,
			 ca_reply_intent_name(want));
	ca_reply_reading_clear(&rd);
}

/* The evidence item whose cue is `cue`, or NULL. */
static const json_t *evidence_of(const ca_reply_reading *rd, const char *cue)
{
	size_t i;
	json_t *ev;
	json_array_foreach(rd->evidence, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "cue")), cue) == 0)
			return ev;
	}
	return NULL;
}

static void test_names(void **state)
{
	(void)state;
	for (int k = 0; k < CA_REPLY_N; k++)
		assert_int_equal(ca_reply_intent_parse(ca_reply_intent_name((ca_reply_intent)k)), k);
	assert_int_equal(ca_reply_intent_parse("solved"), CA_REPLY_N);
	assert_int_equal(ca_reply_intent_parse(NULL), CA_REPLY_N);
}

static void test_each_intent(void **state)
{
	(void)state;
	expect("That fixed it, thank you so much!", CA_REPLY_RESOLVED);
	expect("All sorted now, you can close the ticket.", CA_REPLY_RESOLVED);
	expect("Thanks a lot, really appreciate it", CA_REPLY_RESOLVED);
	expect("It still doesn't work after the update. Same error as before.", CA_REPLY_STILL_PROBLEM);
	expect("This is ridiculous, three weeks and my order never came", CA_REPLY_STILL_PROBLEM);
	expect("How do I change the billing address on my account?", CA_REPLY_QUESTION_OR_INFO);
	expect("Sent you a DM with my order number", CA_REPLY_QUESTION_OR_INFO);
	expect("My email is jo.miller@example.com and the order is 88123457", CA_REPLY_QUESTION_OR_INFO);
	expect("Hmm", CA_REPLY_UNCLEAR);
	expect("I haven't had a chance to try it yet, thanks", CA_REPLY_UNCLEAR);
	expect("", CA_REPLY_UNCLEAR);
}

static void test_negation(void **state)
{
	(void)state;
	expect("It is not fixed.", CA_REPLY_STILL_PROBLEM);
	expect("Still not working", CA_REPLY_STILL_PROBLEM);
	expect("The app isn't working again", CA_REPLY_STILL_PROBLEM);
	expect("No longer an issue, it sorted itself out.", CA_REPLY_RESOLVED);
	expect("Never mind, I don't need it anymore.", CA_REPLY_RESOLVED);
	expect("Thanks, but it still crashes every time I open it", CA_REPLY_STILL_PROBLEM);
	expect("Thanks for nothing", CA_REPLY_STILL_PROBLEM);

	ca_reply_reading rd;
	read_intent("Sadly the update has not fixed it.", NULL, &rd);
	const json_t *ev = evidence_of(&rd, "not fixed");
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "text")), "not fixed");
	assert_string_equal(json_string_value(json_object_get(ev, "intent")), "still_problem");
	ca_reply_reading_clear(&rd);
}

static void test_automatic(void **state)
{
	(void)state;
	ca_reply_reading rd;
	/* by header: the text alone would read as thanks */
	assert_int_equal(read_intent("Thank you for your message.", "{\"Auto-Submitted\": \"auto-replied\"}", &rd),
			 CA_REPLY_AUTOMATIC);
	const json_t *ev = evidence_of(&rd, "header Auto-Submitted");
	assert_non_null(ev);
	assert_true(json_is_null(json_object_get(ev, "start")));
	ca_reply_reading_clear(&rd);
	assert_int_equal(read_intent("Thanks!", "{\"x-autoreply\": [\"yes\"]}", &rd), CA_REPLY_AUTOMATIC);
	ca_reply_reading_clear(&rd);
	assert_int_equal(read_intent("Thanks!", "{\"Precedence\": \"auto_reply\"}", &rd), CA_REPLY_AUTOMATIC);
	ca_reply_reading_clear(&rd);
	assert_int_equal(read_intent("Back on Monday.", "{\"Subject\": \"Out of Office: Re: your case\"}", &rd),
			 CA_REPLY_AUTOMATIC);
	ca_reply_reading_clear(&rd);
	/* Auto-Submitted: no is a person's mail */
	assert_int_equal(read_intent("That fixed it, thanks!", "{\"Auto-Submitted\": \"no\"}", &rd), CA_REPLY_RESOLVED);
	ca_reply_reading_clear(&rd);

	/* by wording */
	expect("I am out of the office until 14 March with limited access to email. For urgent matters "
	       "please call the front desk.",
	       CA_REPLY_AUTOMATIC);
	expect("Automatic reply: I'm currently on annual leave and will reply when I return.", CA_REPLY_AUTOMATIC);
}

static void test_evidence_offsets(void **state)
{
	(void)state;
	/* The quoted history is stripped; offsets are into the caller's text. */
	const char *text = "> On Monday you wrote: is it fixed?\n"
			   "> please confirm\n"
			   "\n"
			   "Yes, it works now. Cheers\n"
			   "-- \n"
			   "Jo Miller, fixed-line team\n";
	ca_reply_reading rd;
	read_intent(text, NULL, &rd);
	/* the best guess (the opening "Yes" keeps it under resolved's floor) */
	assert_int_equal(rd.guess, CA_REPLY_RESOLVED);
	const json_t *ev = evidence_of(&rd, "works now");
	assert_non_null(ev);
	json_int_t b = json_integer_value(json_object_get(ev, "start"));
	json_int_t e = json_integer_value(json_object_get(ev, "end"));
	assert_int_equal(e - b, strlen("works now"));
	assert_memory_equal(text + b, "works now", (size_t)(e - b));
	assert_string_equal(json_string_value(json_object_get(ev, "text")), "works now");
	/* the signature's "fixed" and the quote's "fixed" are not read */
	assert_null(evidence_of(&rd, "fixed"));
	assert_null(evidence_of(&rd, "not fixed"));

	/* the reading's JSON as ca_reply_classify gives it */
	json_t *j = ca_reply_reading_json(&rd);
	assert_true(json_is_object(json_object_get(j, "scores")));
	assert_int_equal(json_object_size(json_object_get(j, "scores")), CA_REPLY_N);
	assert_true(json_array_size(json_object_get(j, "evidence")) > 0);
	json_decref(j);
	ca_reply_reading_clear(&rd);
}

static void test_limits(void **state)
{
	(void)state;
	ca_reply_reading rd = { 0 };
	ca_err err = { 0 };
	assert_int_equal(ca_reply_read("thanks \xC3\x28 a lot", NULL, &rd, &err), CA_EINVAL);
	assert_int_equal(ca_reply_read("overlong \xC0\xAF", NULL, &rd, &err), CA_EINVAL);
	assert_int_equal(ca_reply_read(NULL, NULL, &rd, &err), CA_EINVAL);
	json_t *arr = json_array();
	assert_int_equal(ca_reply_read("thanks", arr, &rd, &err), CA_EINVAL);
	json_decref(arr);

	size_t n = 256 * 1024 + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = "thanks a lot. "[i % 14];
	big[n] = '\0';
	ca_err err2 = { 0 };
	assert_int_equal(ca_reply_read(big, NULL, &rd, &err2), CA_ETOOBIG);
	/* at the limit it reads (the words read are bounded) */
	big[n - 1] = '\0';
	assert_int_equal(ca_reply_read(big, NULL, &rd, &err2), 0);
	assert_int_equal(rd.guess, CA_REPLY_RESOLVED);
	ca_reply_reading_clear(&rd);
	free(big);
}

/* The message replied to: a bare "no" to "anything else?" closes, "Yes it
 * is" to a yes/no question is the information asked for. */
static void test_context(void **state)
{
	(void)state;
	ca_reply_reading rd, bare;
	ca_err err = { 0 };
	assert_int_equal(ca_reply_read_ctx("No", "Is there anything else I can help you with today?", NULL, &rd, &err), 0);
	assert_int_equal(ca_reply_read_ctx("No", NULL, NULL, &bare, &err), 0);
	/* the best guess: a single word stays below resolved's floor */
	assert_int_equal(rd.guess, CA_REPLY_RESOLVED);
	assert_true(rd.scores[CA_REPLY_RESOLVED] > bare.scores[CA_REPLY_RESOLVED] + 0.3);
	const json_t *ev = evidence_of(&rd, "context: anything else&no");
	assert_non_null(ev);
	assert_true(json_is_null(json_object_get(ev, "start")));
	assert_string_equal(json_string_value(json_object_get(ev, "text")), "anything else");
	ca_reply_reading_clear(&rd);
	ca_reply_reading_clear(&bare);

	assert_int_equal(ca_reply_read_ctx("Yes it is", "Is the app up to date?", NULL, &rd, &err), 0);
	assert_int_equal(rd.intent, CA_REPLY_QUESTION_OR_INFO);
	ca_reply_reading_clear(&rd);
	/* the context-less call is the call without context */
	assert_int_equal(ca_reply_read_ctx("Still broken.", NULL, NULL, &rd, &err), 0);
	assert_int_equal(ca_reply_read("Still broken.", NULL, &bare, &err), 0);
	assert_memory_equal(rd.scores, bare.scores, sizeof(rd.scores));
	ca_reply_reading_clear(&rd);
	ca_reply_reading_clear(&bare);
	/* a context that is not UTF-8 is no context, not an error */
	assert_int_equal(ca_reply_read_ctx("Still broken.", "bad \xC3\x28", NULL, &rd, &err), 0);
	ca_reply_reading_clear(&rd);
}

/* Rule 10 (docs/replies.md): a promise to send what was asked for is
 * unclear, what was sent is the information; rule 5: a bare "ok" is
 * unclear. */
static void test_promises(void **state)
{
	(void)state;
	const char *ask = "Could you DM us your order number so we can take a look?";
	static const struct {
		const char *reply;
		ca_reply_intent want;
	} cases[] = {
		{ "Will DM you", CA_REPLY_UNCLEAR },
		{ "I will DM my details now", CA_REPLY_UNCLEAR },
		{ "Thanks! I'll give it a try tomorrow.", CA_REPLY_UNCLEAR },
		{ "DM sent", CA_REPLY_QUESTION_OR_INFO },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_reply_reading rd;
		ca_err err = { 0 };
		assert_int_equal(ca_reply_read_ctx(cases[i].reply, ask, NULL, &rd, &err), 0);
		if (rd.intent != cases[i].want)
			fail_msg("\"%s\": %s (%.2f), want %s", cases[i].reply, ca_reply_intent_name(rd.intent),
				 rd.confidence, ca_reply_intent_name(cases[i].want));
		ca_reply_reading_clear(&rd);
	}
	expect("ok", CA_REPLY_UNCLEAR);
	expect("Okay!", CA_REPLY_UNCLEAR);
}

/* The floors come with the fitted weights; resolved's is the highest (it
 * closes cases) and below it a reading is unclear. */
static void test_floors(void **state)
{
	(void)state;
	for (int k = 0; k < CA_REPLY_N; k++)
		assert_true(ca_reply_model_floor[k] <= ca_reply_model_floor[CA_REPLY_RESOLVED]);
	assert_true(ca_reply_model_floor[CA_REPLY_UNCLEAR] == 0);
	double floors[CA_REPLY_N] = { 0.9, 0, 0, 0, 0 }, logit[CA_REPLY_N] = { 2, 0, 0, 0, 0 };
	ca_reply_reading rd = { 0 };
	ca_reply_decide_floors(logit, 1.0, floors, &rd);
	assert_int_equal(rd.guess, CA_REPLY_RESOLVED);
	assert_int_equal(rd.intent, CA_REPLY_UNCLEAR);
	assert_true(rd.confidence > 0.3 && rd.confidence < 0.4); /* 1 - e^2 / (e^2 + 4) */
	floors[CA_REPLY_RESOLVED] = 0.6;
	ca_reply_decide_floors(logit, 1.0, floors, &rd);
	assert_int_equal(rd.intent, CA_REPLY_RESOLVED);
}

static void test_classify_api(void **state)
{
	(void)state;
	char *out = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_reply_classify(NULL, "Still broken.", NULL, &out, &err), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "intent")), "still_problem");
	json_decref(j);
	free(out);
	out = NULL;
	assert_int_equal(ca_reply_classify(NULL, "ok", "[1]", &out, &err), CA_EINVAL);
	assert_int_equal(ca_reply_classify(NULL, "ok", "{not json", &out, &err), CA_EINVAL);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_each_intent),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_automatic),
		cmocka_unit_test(test_evidence_offsets),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_promises),
		cmocka_unit_test(test_floors),
		cmocka_unit_test(test_classify_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
