/* SPDX-License-Identifier: MIT */
/*
 * Spam verdict tests: the two filter answers (spamd's spamc-protocol reply
 * as SpamAssassin's spamd/PROTOCOL gives it, rspamd's /checkv2 JSON) and the
 * verdicts of headers, including the direction rule: a header can make its
 * message spam, never vouch for it. Answers are written inline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "spam.h"

static int spamd(const char *resp, ca_spam_verdict *v, ca_err *err)
{
	ca_spam_verdict_init(v);
	return ca_spam_parse_spamd(resp, strlen(resp), "spamd test", v, err);
}

static void test_spamd_answers(void **state)
{
	(void)state;
	ca_spam_verdict v;
	ca_err err = { 0 };
	assert_int_equal(spamd("SPAMD/1.1 0 EX_OK\r\nContent-length: 26\r\nSpam: True ; 15.3 / 5.0\r\n\r\nBAYES_99,HTML_MESSAGE,GTUBE\r\n",
			       &v, &err), 0);
	assert_true(v.is_spam);
	assert_true(v.has_score);
	assert_true(v.score > 15.29 && v.score < 15.31);
	assert_true(v.threshold > 4.99 && v.threshold < 5.01);
	assert_int_equal(v.source, CA_SPAM_SPAMD);
	assert_string_equal(v.origin, "spamd test");
	assert_string_equal(v.detail, "BAYES_99,HTML_MESSAGE,GTUBE");
	ca_spam_verdict_done(&v);

	/* CHECK answers have no body; negative scores; the old Yes/No words */
	assert_int_equal(spamd("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -1.9 / 5.0\r\n\r\n", &v, &err), 0);
	assert_false(v.is_spam);
	assert_true(v.score < -1.8);
	assert_null(v.detail);
	ca_spam_verdict_done(&v);
	assert_int_equal(spamd("SPAMD/1.0 0 EX_OK\nSpam: Yes ; 7 / 5\n\n", &v, &err), 0);
	assert_true(v.is_spam);
	ca_spam_verdict_done(&v);

	/* spamd's own errors are the filter failing, not a parse problem */
	assert_int_equal(spamd("SPAMD/1.0 76 Bad header line: (Content-Length contains non-numeric bytes)\r\n", &v, &err),
			 CA_EIO);
	assert_non_null(strstr(err.message, "76 Bad header line"));
	/* not the protocol */
	assert_int_equal(spamd("HTTP/1.1 200 OK\r\n\r\n", &v, &err), CA_EPARSE);
	assert_int_equal(spamd("SPAMD/1.1 0 EX_OK\r\n\r\nBAYES_99\r\n", &v, &err), CA_EPARSE); /* no Spam header */
	assert_int_equal(spamd("SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n", &v, &err), CA_EPARSE);
	assert_int_equal(spamd("SPAMD/1.1 0 EX_OK\r\nSpam: True ; nan / 5\r\n\r\n", &v, &err), CA_EPARSE);
	assert_int_equal(spamd("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 15 / 5 extra\r\n\r\n", &v, &err), CA_EPARSE);
	assert_int_equal(spamd("SPAMD/1.1 x EX_OK\r\n", &v, &err), CA_EPARSE);
	assert_int_equal(spamd("", &v, &err), CA_EPARSE);
	ca_spam_verdict_done(&v);
}

static void test_rspamd_answers(void **state)
{
	(void)state;
	ca_spam_verdict v;
	ca_err err = { 0 };
	const char *rej = "{\"is_skipped\":false,\"score\":16.2,\"required_score\":15,\"action\":\"reject\","
			  "\"symbols\":{\"R_SPF_FAIL\":{\"score\":1.0}}}";
	ca_spam_verdict_init(&v);
	assert_int_equal(ca_spam_parse_rspamd(rej, strlen(rej), "rspamd test", &v, &err), 0);
	assert_true(v.is_spam);
	assert_int_equal(v.source, CA_SPAM_RSPAMD);
	assert_string_equal(v.detail, "R_SPF_FAIL");
	const char *ok = "{\"score\":1.5,\"required_score\":15,\"action\":\"no action\",\"symbols\":{}}";
	assert_int_equal(ca_spam_parse_rspamd(ok, strlen(ok), "rspamd test", &v, &err), 0);
	assert_false(v.is_spam);
	const char *grey = "{\"score\":9,\"required_score\":15,\"action\":\"greylist\"}";
	assert_int_equal(ca_spam_parse_rspamd(grey, strlen(grey), "rspamd test", &v, &err), 0);
	assert_false(v.is_spam); /* greylisting asks for a retry: not a verdict */
	const char *addh = "{\"score\":7,\"required_score\":15,\"action\":\"add header\"}";
	assert_int_equal(ca_spam_parse_rspamd(addh, strlen(addh), "rspamd test", &v, &err), 0);
	assert_true(v.is_spam);
	const char *e = "{\"error\":\"message has no body\"}";
	assert_int_equal(ca_spam_parse_rspamd(e, strlen(e), "rspamd test", &v, &err), CA_EIO);
	assert_int_equal(ca_spam_parse_rspamd("[1]", 3, "rspamd test", &v, &err), CA_EPARSE);
	assert_int_equal(ca_spam_parse_rspamd("{\"action\":\"reject\"}", 19, "rspamd test", &v, &err), CA_EPARSE);
	ca_spam_verdict_done(&v);
}

static int headers(const char *json, ca_spam_verdict *v)
{
	json_t *h = json_loads(json, 0, NULL);
	assert_non_null(h);
	ca_spam_verdict_init(v);
	int r = ca_spam_from_headers(h, v);
	json_decref(h);
	return r;
}

static void test_header_verdicts(void **state)
{
	(void)state;
	static const char *const spam[] = {
		"{\"x-spam-flag\": \"YES\"}",
		"{\"x-spam-flag\": \" yes\"}",
		"{\"x-spam-status\": \"Yes, score=15.3 required=5.0 tests=BAYES_99 autolearn=no\"}",
		"{\"x-spam-status\": \"Yes, hits=7.1 required=5.0\"}",
		"{\"x-spam\": \"yes\"}",
		"{\"x-spam\": \"True\"}",
		"{\"x-spamd-result\": \"default: True [16.20 / 15.00]; R_SPF_FAIL(1.00)[-all]\"}",
		"{\"x-rspamd-action\": \"reject\"}",
		"{\"x-spam-action\": \"add header\"}",
		"{\"x-rspamd-action\": \"rewrite subject\"}",
		"{\"x-spamd-bar\": \"++++++\"}",
		"{\"x-spam-flag\": [\"NO\", \"YES\"]}", /* a later server's verdict counts too */
	};
	static const char *const not_spam[] = {
		"{\"x-spam-flag\": \"NO\"}",
		"{\"x-spam-status\": \"No, score=-1.0 required=5.0\"}",
		"{\"x-spam-status\": \"Yesterday\"}",
		"{\"x-spam\": \"high\"}",   /* not a verdict we can read: hard ham writes it */
		"{\"x-spam\": \"spam\"}",
		"{\"x-spamd-result\": \"default: False [1.20 / 15.00]\"}",
		"{\"x-rspamd-action\": \"no action\"}",
		"{\"x-rspamd-action\": \"greylist\"}",
		"{\"x-spamd-bar\": \"+++++\"}",
		"{\"x-spamd-bar\": \"/\"}",
		"{\"subject\": \"X-Spam-Flag: YES\"}",
		"{}",
	};
	ca_spam_verdict v;
	for (size_t i = 0; i < sizeof(spam) / sizeof(spam[0]); i++) {
		assert_int_equal(headers(spam[i], &v), 0);
		if (!v.is_spam)
			fail_msg("not spam: %s", spam[i]);
		assert_int_equal(v.source, CA_SPAM_HEADER);
		assert_non_null(v.origin);
		ca_spam_verdict_done(&v);
	}
	for (size_t i = 0; i < sizeof(not_spam) / sizeof(not_spam[0]); i++) {
		assert_int_equal(headers(not_spam[i], &v), 0);
		if (v.is_spam)
			fail_msg("spam: %s", not_spam[i]);
		assert_int_equal(v.source, CA_SPAM_UNCHECKED);
		ca_spam_verdict_done(&v);
	}
	assert_int_equal(headers("{\"x-spam-status\": \"Yes, score=15.3 required=5.0\"}", &v), 0);
	assert_true(v.has_score && v.score > 15.2 && v.threshold > 4.9);
	assert_string_equal(v.origin, "header X-Spam-Status");
	ca_spam_verdict_done(&v);
}

static void test_unreachable(void **state)
{
	(void)state;
	ca_spam_service svc = { .kind = CA_SPAM_SERVICE_SPAMD, .address = "/nonexistent/spamd.sock",
				.timeout_ms = 500, .max_bytes = 1024 };
	ca_spam_verdict v;
	ca_spam_verdict_init(&v);
	ca_err err = { 0 };
	assert_int_equal(ca_spam_check(&svc, "Subject: x\r\n\r\nx\r\n", 16, &v, &err), CA_EIO);
	assert_non_null(strstr(err.message, "cannot connect"));
	char big[2048];
	memset(big, 'a', sizeof(big));
	assert_int_equal(ca_spam_check(&svc, big, sizeof(big), &v, &err), CA_ETOOBIG);
	assert_int_equal(v.source, CA_SPAM_UNCHECKED); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spamd_answers),
		cmocka_unit_test(test_rspamd_answers),
		cmocka_unit_test(test_header_verdicts),
		cmocka_unit_test(test_unreachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
