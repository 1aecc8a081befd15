/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of ROUGE (src/summary/rouge.c), the measure `caseagent eval
 * summary` reports, against values computed by hand: identical texts score
 * 1, disjoint ones 0, the worked example of Lin (2004, §3.1: "police killed
 * the gunman" against "police kill the gunman" and "the gunman kill
 * police"), clipped n-gram counts, the tokenisation ([a-z0-9]+ after
 * lower-casing), and several references, where each measure takes its own
 * best reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "summary.h"

#define EPS 1e-9

static void toks(const char *s, ca_rouge_tokens *t)
{
	assert_int_equal(ca_rouge_tokenize(s, strlen(s), t), 0);
}

static void check(const ca_rouge *r, double p, double rc, double f)
{
	assert_float_equal(r->precision, p, EPS);
	assert_float_equal(r->recall, rc, EPS);
	assert_float_equal(r->f1, f, EPS);
}

static void test_tokenize(void **state)
{
	(void)state;
	ca_rouge_tokens t = { 0 };
	toks("  Customer's E-mail: FOO@bar.com!! Caf\xC3\xA9 2x4 ", &t);
	static const char *const want[] = { "customer", "s", "e", "mail", "foo", "bar", "com", "caf", "2x4" };
	assert_int_equal(t.n, CA_ARRAY_SIZE(want));
	for (size_t i = 0; i < t.n; i++)
		assert_string_equal(t.v[i], want[i]);
	toks("", &t); /* reuse: the old tokens are freed */
	assert_int_equal(t.n, 0);
	toks("?!  \xE2\x80\x94 ...", &t);
	assert_int_equal(t.n, 0);
	ca_rouge_tokens_done(&t);
	ca_rouge_tokens_done(&t); /* twice is harmless */
	ca_rouge_tokens_done(NULL);
	assert_int_equal(ca_rouge_tokenize(NULL, 3, &t), CA_EINVAL);
}

static void test_identical(void **state)
{
	(void)state;
	ca_rouge_tokens a = { 0 }, b = { 0 };
	ca_rouge r;
	toks("The refund was issued today.", &a);
	toks("the REFUND was issued today", &b);
	assert_int_equal(ca_rouge_n(&a, &b, 1, &r), 0);
	check(&r, 1, 1, 1);
	assert_int_equal(ca_rouge_n(&a, &b, 2, &r), 0);
	check(&r, 1, 1, 1);
	assert_int_equal(ca_rouge_l(&a, &b, &r), 0);
	check(&r, 1, 1, 1);
	ca_rouge_tokens_done(&a);
	ca_rouge_tokens_done(&b);
}

static void test_disjoint_and_empty(void **state)
{
	(void)state;
	ca_rouge_tokens a = { 0 }, b = { 0 }, e = { 0 }, one = { 0 };
	ca_rouge r;
	toks("refund issued", &a);
	toks("password reset link", &b);
	toks("", &e);
	toks("refund", &one);
	assert_int_equal(ca_rouge_n(&a, &b, 1, &r), 0);
	check(&r, 0, 0, 0);
	assert_int_equal(ca_rouge_n(&a, &b, 2, &r), 0);
	check(&r, 0, 0, 0);
	assert_int_equal(ca_rouge_l(&a, &b, &r), 0);
	check(&r, 0, 0, 0);
	/* nothing to match: 0, not a division by zero */
	assert_int_equal(ca_rouge_l(&e, &b, &r), 0);
	check(&r, 0, 0, 0);
	assert_int_equal(ca_rouge_n(&a, &e, 1, &r), 0);
	check(&r, 0, 0, 0);
	/* one token has no bigram */
	assert_int_equal(ca_rouge_n(&one, &a, 2, &r), 0);
	check(&r, 0, 0, 0);
	assert_int_equal(ca_rouge_n(&one, &a, 1, &r), 0);
	check(&r, 1, 0.5, 2.0 / 3.0);
	assert_int_equal(ca_rouge_n(&a, &b, 0, &r), CA_EINVAL);
	assert_int_equal(ca_rouge_l(NULL, &b, &r), CA_EINVAL);
	ca_rouge_tokens_done(&a);
	ca_rouge_tokens_done(&b);
	ca_rouge_tokens_done(&e);
	ca_rouge_tokens_done(&one);
}

/* Lin 2004, §3.1: reference S1 "police killed the gunman". */
static void test_lin_example(void **state)
{
	(void)state;
	ca_rouge_tokens s1 = { 0 }, s2 = { 0 }, s3 = { 0 };
	ca_rouge r;
	size_t l = 0;
	toks("police killed the gunman", &s1);
	toks("police kill the gunman", &s2);
	toks("the gunman kill police", &s3);

	/* S2: LCS "police the gunman" = 3 of 4 words each way */
	assert_int_equal(ca_rouge_lcs(&s2, &s1, &l), 0);
	assert_int_equal(l, 3);
	assert_int_equal(ca_rouge_l(&s2, &s1, &r), 0);
	check(&r, 0.75, 0.75, 0.75);
	/* S3: LCS "the gunman" = 2, so S2 is the better, as Lin argues,
	 * though both share the same three unigrams with S1 */
	assert_int_equal(ca_rouge_l(&s3, &s1, &r), 0);
	check(&r, 0.5, 0.5, 0.5);
	assert_int_equal(ca_rouge_n(&s2, &s1, 1, &r), 0);
	check(&r, 0.75, 0.75, 0.75);
	assert_int_equal(ca_rouge_n(&s3, &s1, 1, &r), 0);
	check(&r, 0.75, 0.75, 0.75);
	/* bigrams of S1: police-killed, killed-the, the-gunman; S2 shares one, S3 one */
	assert_int_equal(ca_rouge_n(&s2, &s1, 2, &r), 0);
	check(&r, 1.0 / 3, 1.0 / 3, 1.0 / 3);
	assert_int_equal(ca_rouge_n(&s3, &s1, 2, &r), 0);
	check(&r, 1.0 / 3, 1.0 / 3, 1.0 / 3);
	ca_rouge_tokens_done(&s1);
	ca_rouge_tokens_done(&s2);
	ca_rouge_tokens_done(&s3);
}

static void test_lcs_and_clipping(void **state)
{
	(void)state;
	ca_rouge_tokens a = { 0 }, b = { 0 };
	ca_rouge r;
	size_t l = 0;
	/* LCS of "a b c d e" and "a c e" is "a c e": P 3/5, R 3/3, F 0.75 */
	toks("a b c d e", &a);
	toks("a c e", &b);
	assert_int_equal(ca_rouge_l(&a, &b, &r), 0);
	check(&r, 0.6, 1.0, 0.75);
	/* LCS is symmetric and not a substring: "x a y b z c" vs "a b c" */
	toks("x a y b z c", &a);
	assert_int_equal(ca_rouge_lcs(&a, &b, &l), 0);
	assert_int_equal(l, 2); /* "a c" of b = "a c e" */
	assert_int_equal(ca_rouge_lcs(&b, &a, &l), 0);
	assert_int_equal(l, 2);
	/* counts are clipped: four "the" match the reference's one "the" once */
	toks("the the the the", &a);
	toks("the cat", &b);
	assert_int_equal(ca_rouge_n(&a, &b, 1, &r), 0);
	check(&r, 0.25, 0.5, 1.0 / 3);
	/* "the the" occurs twice in the candidate's bigrams, once in the reference */
	toks("the the the", &a);
	toks("the the cat", &b);
	assert_int_equal(ca_rouge_n(&a, &b, 2, &r), 0);
	check(&r, 0.5, 0.5, 0.5);
	ca_rouge_tokens_done(&a);
	ca_rouge_tokens_done(&b);
}

/* Each measure takes its best reference: here ROUGE-1 the first, ROUGE-L
 * and ROUGE-2 the second. */
static void test_best_of_references(void **state)
{
	(void)state;
	const char *refs[] = { "the gunman kill police", "police killed the gunman" };
	ca_rouge_scores s;
	assert_int_equal(ca_rouge_best("Police kill the gunman.", refs, 2, &s), 0);
	check(&s.rouge1, 1, 1, 1);
	check(&s.rouge2, 1.0 / 3, 1.0 / 3, 1.0 / 3);
	check(&s.rougeL, 0.75, 0.75, 0.75);
	/* order of the references does not matter */
	const char *rev[] = { refs[1], refs[0] };
	ca_rouge_scores t;
	assert_int_equal(ca_rouge_best("Police kill the gunman.", rev, 2, &t), 0);
	assert_float_equal(t.rouge1.f1, s.rouge1.f1, EPS);
	assert_float_equal(t.rouge2.f1, s.rouge2.f1, EPS);
	assert_float_equal(t.rougeL.f1, s.rougeL.f1, EPS);
	/* no reference: all 0 */
	assert_int_equal(ca_rouge_best("anything", NULL, 0, &s), 0);
	check(&s.rouge1, 0, 0, 0);
	check(&s.rougeL, 0, 0, 0);
	assert_int_equal(ca_rouge_best(NULL, refs, 2, &s), CA_EINVAL);
	const char *bad[] = { "ok", NULL };
	assert_int_equal(ca_rouge_best("ok", bad, 2, &s), CA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenize),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_disjoint_and_empty),
		cmocka_unit_test(test_lin_example),
		cmocka_unit_test(test_lcs_and_clipping),
		cmocka_unit_test(test_best_of_references),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
