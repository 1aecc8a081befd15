/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the text module: UTF-8 validation, folding, tokens and their
 * offsets, stems, stop words, sentence spans, phone and e-mail normalisation,
 * bounded edit distance and TF-IDF vectors. Cases come from the kind of
 * customer messages the agent reads (order numbers, user names, e-mail
 * addresses, prices, phone numbers in several spellings).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text.h"

/* ---- UTF-8 ---- */

static void test_utf8_cut(void **state)
{
	(void)state;
	const char *s = "ab\xC3\xA9\xE2\x82\xAC"; /* a b é € : 2 + 2 + 3 bytes */
	assert_int_equal(ca_utf8_cut(s, 7, 99), 7);
	assert_int_equal(ca_utf8_cut(s, 7, 7), 7);
	assert_int_equal(ca_utf8_cut(s, 7, 2), 2);  /* before é */
	assert_int_equal(ca_utf8_cut(s, 7, 3), 2);  /* inside é */
	assert_int_equal(ca_utf8_cut(s, 7, 4), 4);  /* before € */
	assert_int_equal(ca_utf8_cut(s, 7, 6), 4);  /* inside € */
	assert_int_equal(ca_utf8_cut("\xE2\x82\xAC", 3, 2), 0);
	assert_int_equal(ca_utf8_cut("", 0, 0), 0);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	size_t bad = 99;
	assert_true(ca_utf8_valid("", 0, &bad));
	assert_true(ca_utf8_valid(NULL, 0, NULL));
	assert_true(ca_utf8_valid("plain ascii text, long enough for words", 39, NULL));
	const char *ok = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
	assert_true(ca_utf8_valid(ok, strlen(ok), &bad));
	assert_int_equal(bad, 99); /* untouched on success */

	/* overlong encodings of '/' (2, 3 and 4 bytes) */
	assert_false(ca_utf8_valid("ab\xC0\xAF", 4, &bad));
	assert_int_equal(bad, 2);
	assert_false(ca_utf8_valid("\xC1\xBF", 2, &bad));
	assert_int_equal(bad, 0);
	assert_false(ca_utf8_valid("\xE0\x80\xAF", 3, &bad));
	assert_int_equal(bad, 0);
	assert_false(ca_utf8_valid("x\xF0\x80\x80\xAF", 5, &bad));
	assert_int_equal(bad, 1);
	/* surrogates U+D800 and U+DFFF */
	assert_false(ca_utf8_valid("\xED\xA0\x80", 3, &bad));
	assert_false(ca_utf8_valid("ok \xED\xBF\xBF", 6, &bad));
	assert_int_equal(bad, 3);
	/* above U+10FFFF, and bytes that never occur */
	assert_false(ca_utf8_valid("\xF4\x90\x80\x80", 4, &bad));
	assert_false(ca_utf8_valid("\xF5\x80\x80\x80", 4, &bad));
	assert_false(ca_utf8_valid("\xFF", 1, &bad));
	/* lone continuation byte */
	assert_false(ca_utf8_valid("a\x80", 2, &bad));
	assert_int_equal(bad, 1);
	/* truncated: the length cuts the sequence, even with bytes after it */
	assert_false(ca_utf8_valid("\xE2\x82", 2, &bad));
	assert_int_equal(bad, 0);
	assert_false(ca_utf8_valid("price \xE2\x82\xAC", 8, &bad));
	assert_int_equal(bad, 6);
	assert_false(ca_utf8_valid("\xE2\x82x", 3, &bad));
	assert_false(ca_utf8_valid("\xF0\x9D\x84", 3, NULL));
	/* a bad byte after the 8-byte ASCII fast path */
	assert_false(ca_utf8_valid("0123456789abcdef\x80", 17, &bad));
	assert_int_equal(bad, 16);
}

static void test_text_fold(void **state)
{
	(void)state;
	char *f = NULL;
	assert_int_equal(ca_text_fold("\xC3\x89" "COLE", 6, &f), 0);
	assert_string_equal(f, "ecole");
	free(f);
	assert_int_equal(ca_text_fold("Stra\xC3\x9F" "e", 7, &f), 0);
	assert_string_equal(f, "strasse");
	free(f);
	/* NFKC: ligature fi and fullwidth letters */
	assert_int_equal(ca_text_fold("\xEF\xAC\x81le \xEF\xBC\xA1", 9, &f), 0);
	assert_string_equal(f, "file a");
	free(f);
	/* decomposed e + combining acute loses its mark */
	assert_int_equal(ca_text_fold("Cafe\xCC\x81", 6, &f), 0);
	assert_string_equal(f, "cafe");
	free(f);
	assert_int_equal(ca_text_fold("Order ID: 12AB", 14, &f), 0);
	assert_string_equal(f, "order id: 12ab");
	free(f);
	/* only len bytes are read */
	assert_int_equal(ca_text_fold("HELLO", 2, &f), 0);
	assert_string_equal(f, "he");
	free(f);
	assert_int_equal(ca_text_fold("", 0, &f), 0);
	assert_string_equal(f, "");
	free(f);

	char *keep = (char *)"unchanged";
	f = keep;
	assert_int_equal(ca_text_fold("bad \xC0\xAF", 6, &f), CA_EUTF8);
	assert_int_equal(ca_text_fold("\xED\xA0\x80", 3, &f), CA_EUTF8);
	assert_ptr_equal(f, keep);
}

/* ---- tokens ---- */

static void expect_tok(const ca_tokens *t, size_t i, const char *norm, int kind, uint32_t b,
		       uint32_t e)
{
	assert_true(i < t->n);
	assert_string_equal(t->v[i].norm, norm);
	assert_int_equal(t->v[i].kind, kind);
	assert_int_equal(t->v[i].begin, b);
	assert_int_equal(t->v[i].end, e);
}

static void test_tokenize_kinds(void **state)
{
	(void)state;
	ca_tokens t = { 0 };
	const char *s = "Hi, I'm cminh730 - Order ID: 3348917502. Mail cminh730@email.com, don't wait!";
	assert_int_equal(ca_tokenize(s, strlen(s), 0, NULL, &t), 0);
	expect_tok(&t, 0, "hi", CA_TOK_WORD, 0, 2);
	expect_tok(&t, 1, "i'm", CA_TOK_WORD, 4, 7);
	expect_tok(&t, 2, "cminh730", CA_TOK_ALNUM, 8, 16);
	expect_tok(&t, 3, "order", CA_TOK_WORD, 19, 24);
	expect_tok(&t, 4, "id", CA_TOK_WORD, 25, 27);
	expect_tok(&t, 5, "3348917502", CA_TOK_NUMBER, 29, 39); /* the "." stays outside */
	expect_tok(&t, 6, "mail", CA_TOK_WORD, 41, 45);
	expect_tok(&t, 7, "cminh730@email.com", CA_TOK_EMAIL, 46, 64);
	expect_tok(&t, 8, "don't", CA_TOK_WORD, 66, 71);
	expect_tok(&t, 9, "wait", CA_TOK_WORD, 72, 76);
	assert_int_equal(t.n, 10);
	/* without a stemmer, stem is norm */
	for (size_t i = 0; i < t.n; i++)
		assert_string_equal(t.v[i].stem, t.v[i].norm);
	ca_tokens_done(&t);
	assert_null(t.v);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.cap, 0);

	s = "It cost $9.99, or 1,000 for 977-625-2661; e-mail 4VEJCYVP8U re B07XYZ covid-19 x.";
	assert_int_equal(ca_tokenize(s, strlen(s), 0, NULL, &t), 0);
	expect_tok(&t, 0, "it", CA_TOK_WORD, 0, 2);
	expect_tok(&t, 1, "cost", CA_TOK_WORD, 3, 7);
	expect_tok(&t, 2, "9.99", CA_TOK_NUMBER, 9, 13);
	expect_tok(&t, 3, "or", CA_TOK_WORD, 15, 17);
	expect_tok(&t, 4, "1,000", CA_TOK_NUMBER, 18, 23);
	expect_tok(&t, 5, "for", CA_TOK_WORD, 24, 27);
	expect_tok(&t, 6, "977-625-2661", CA_TOK_NUMBER, 28, 40);
	expect_tok(&t, 7, "e-mail", CA_TOK_WORD, 42, 48);
	expect_tok(&t, 8, "4vejcyvp8u", CA_TOK_ALNUM, 49, 59);
	expect_tok(&t, 9, "re", CA_TOK_WORD, 60, 62);
	expect_tok(&t, 10, "b07xyz", CA_TOK_ALNUM, 63, 69);
	expect_tok(&t, 11, "covid-19", CA_TOK_ALNUM, 70, 78);
	expect_tok(&t, 12, "x", CA_TOK_WORD, 79, 80);
	assert_int_equal(t.n, 13);
	ca_tokens_done(&t);

	/* connectors that do not join: trailing, doubled, apostrophe after a digit */
	s = "well- --x 90's 'quoted' a.b 3.x";
	assert_int_equal(ca_tokenize(s, strlen(s), 0, NULL, &t), 0);
	const char *want[] = { "well", "x", "90", "s", "quoted", "a", "b", "3", "x" };
	assert_int_equal(t.n, CA_ARRAY_SIZE(want));
	for (size_t i = 0; i < t.n; i++)
		assert_string_equal(t.v[i].norm, want[i]);
	ca_tokens_done(&t);
}

static void test_tokenize_email_edges(void **state)
{
	(void)state;
	ca_tokens t = { 0 };
	/* trailing dot and a numeric last label are not part of the address */
	const char *s = "to John.Doe_1+tag@Mail.Example.ORG. or a@b.c or x@y.com.123 or @z.com";
	assert_int_equal(ca_tokenize(s, strlen(s), 0, NULL, &t), 0);
	expect_tok(&t, 0, "to", CA_TOK_WORD, 0, 2);
	expect_tok(&t, 1, "john.doe_1+tag@mail.example.org", CA_TOK_EMAIL, 3, 34);
	assert_string_equal(t.v[1].stem, t.v[1].norm);
	expect_tok(&t, 2, "or", CA_TOK_WORD, 36, 38);
	/* a@b.c: a one-letter TLD is not an address */
	expect_tok(&t, 3, "a", CA_TOK_WORD, 39, 40);
	expect_tok(&t, 4, "b", CA_TOK_WORD, 41, 42);
	expect_tok(&t, 5, "c", CA_TOK_WORD, 43, 44);
	expect_tok(&t, 7, "x@y.com", CA_TOK_EMAIL, 48, 55);
	expect_tok(&t, 8, "123", CA_TOK_NUMBER, 56, 59);
	expect_tok(&t, 10, "z", CA_TOK_WORD, 64, 65);
	expect_tok(&t, 11, "com", CA_TOK_WORD, 66, 69);
	assert_int_equal(t.n, 12);

	/* every EMAIL token is accepted by ca_email_norm and normalises the same */
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].kind != CA_TOK_EMAIL)
			continue;
		char buf[128];
		size_t n = t.v[i].end - t.v[i].begin;
		memcpy(buf, s + t.v[i].begin, n);
		buf[n] = '\0';
		char *e = NULL;
		assert_int_equal(ca_email_norm(buf, &e), 0);
		assert_string_equal(e, t.v[i].norm);
		free(e);
	}
	ca_tokens_done(&t);
}

static void test_tokenize_multibyte(void **state)
{
	(void)state;
	ca_tokens t = { 0 };
	/* "Café ÉCOLE naïve 9,5€ — don’t Straße" with a decomposed é in "Cafe\u0301" */
	const char *s = "Caf\xC3\xA9 \xC3\x89" "COLE na\xC3\xAFve 9,5\xE2\x82\xAC \xE2\x80\x94 "
			"don\xE2\x80\x99t Cafe\xCC\x81s Stra\xC3\x9F" "e";
	assert_int_equal(ca_tokenize(s, strlen(s), 0, NULL, &t), 0);
	expect_tok(&t, 0, "cafe", CA_TOK_WORD, 0, 5);
	expect_tok(&t, 1, "ecole", CA_TOK_WORD, 6, 12);
	expect_tok(&t, 2, "naive", CA_TOK_WORD, 13, 19);
	expect_tok(&t, 3, "9,5", CA_TOK_NUMBER, 20, 23);
	/* U+2019 joins like ' and folds to it */
	expect_tok(&t, 4, "don't", CA_TOK_WORD, 31, 38);
	expect_tok(&t, 5, "cafes", CA_TOK_WORD, 39, 46);
	expect_tok(&t, 6, "strasse", CA_TOK_WORD, 47, 54);
	assert_int_equal(t.n, 7);
	/* offsets point at the original bytes */
	assert_memory_equal(s + t.v[1].begin, "\xC3\x89" "COLE", 6);
	assert_memory_equal(s + t.v[4].begin, "don\xE2\x80\x99t", 7);

	/* non-Latin letters and digits: Greek word, Arabic-Indic digits */
	ca_tokens_reset(&t);
	assert_int_equal(t.n, 0);
	s = "\xCE\x9A\xCE\xB1\xCE\xBB\xCE\xB7\xCE\xBC\xCE\xAD\xCF\x81\xCE\xB1 \xD9\xA1\xD9\xA2 x\xF0\x9F\x98\x80y";
	assert_int_equal(ca_tokenize(s, strlen(s), 0, NULL, &t), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.v[0].kind, CA_TOK_WORD);
	assert_string_equal(t.v[0].norm, "\xCE\xBA\xCE\xB1\xCE\xBB\xCE\xB7\xCE\xBC\xCE\xB5\xCF\x81\xCE\xB1");
	assert_int_equal(t.v[1].kind, CA_TOK_NUMBER);
	assert_int_equal(t.v[1].begin, 17);
	assert_int_equal(t.v[1].end, 21);
	/* an emoji separates */
	expect_tok(&t, 2, "x", CA_TOK_WORD, 22, 23);
	expect_tok(&t, 3, "y", CA_TOK_WORD, 27, 28);
	ca_tokens_done(&t);
}

static void test_tokenize_base_append_invalid(void **state)
{
	(void)state;
	ca_tokens t = { 0 };
	const char *msg = "first part. Second Part";
	assert_int_equal(ca_tokenize(msg, 10, 0, NULL, &t), 0);
	assert_int_equal(t.n, 2);
	/* second call appends, offsets relative to the whole message */
	assert_int_equal(ca_tokenize(msg + 12, strlen(msg + 12), 12, NULL, &t), 0);
	assert_int_equal(t.n, 4);
	expect_tok(&t, 2, "second", CA_TOK_WORD, 12, 18);
	expect_tok(&t, 3, "part", CA_TOK_WORD, 19, 23);
	assert_memory_equal(msg + t.v[3].begin, "Part", 4);

	/* invalid UTF-8 anywhere: nothing appended */
	assert_int_equal(ca_tokenize("ok words \xED\xA0\x80", 12, 0, NULL, &t), CA_EUTF8);
	assert_int_equal(ca_tokenize("trunc \xE2\x82", 8, 0, NULL, &t), CA_EUTF8);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.v[3].norm, "part");

	/* offsets must fit 32 bits */
	assert_int_equal(ca_tokenize("abc", 3, UINT32_MAX - 1, NULL, &t), CA_ETOOBIG);
	assert_int_equal(ca_tokenize("abc", 3, UINT32_MAX - 3, NULL, &t), 0);
	assert_int_equal(t.v[4].end, UINT32_MAX);

	/* empty and punctuation-only text */
	assert_int_equal(ca_tokenize("", 0, 0, NULL, &t), 0);
	assert_int_equal(ca_tokenize(NULL, 0, 0, NULL, &t), 0);
	assert_int_equal(ca_tokenize(" ,.;!? -- ''", 12, 0, NULL, &t), 0);
	assert_int_equal(t.n, 5);

	/* reset keeps the array for reuse */
	ca_tokens_reset(&t);
	assert_int_equal(t.n, 0);
	assert_non_null(t.v);
	assert_int_equal(ca_tokenize("again", 5, 0, NULL, &t), 0);
	expect_tok(&t, 0, "again", CA_TOK_WORD, 0, 5);
	ca_tokens_done(&t);
	ca_tokens_done(&t); /* idempotent */

	/* many tokens: the array grows past its first capacity */
	char big[4000];
	size_t n = 0;
	for (int i = 0; i < 500; i++) {
		memcpy(big + n, "ab1 cd. ", 8);
		n += 8;
	}
	assert_int_equal(ca_tokenize(big, n, 0, NULL, &t), 0);
	assert_int_equal(t.n, 1000);
	expect_tok(&t, 999, "cd", CA_TOK_WORD, 3996, 3998);
	ca_tokens_done(&t);
}

static void test_stemmer(void **state)
{
	(void)state;
	ca_stemmer *st = ca_stemmer_new();
	assert_non_null(st);
	char *s = ca_stem(st, "returning");
	assert_string_equal(s, "return");
	free(s);
	s = ca_stem(st, "refunds");
	assert_string_equal(s, "refund");
	free(s);
	s = ca_stem(st, "");
	assert_string_equal(s, "");
	free(s);
	s = ca_stem(NULL, "returning"); /* no stemmer: a copy */
	assert_string_equal(s, "returning");
	free(s);

	ca_tokens t = { 0 };
	const char *m = "Returning RETURNS, the items arrived damaged: 3348917502 cminh730 don't";
	assert_int_equal(ca_tokenize(m, strlen(m), 0, st, &t), 0);
	assert_int_equal(t.n, 9);
	assert_string_equal(t.v[0].norm, "returning");
	assert_string_equal(t.v[0].stem, "return");
	assert_string_equal(t.v[1].stem, "return");
	assert_string_equal(t.v[3].norm, "items");
	assert_string_equal(t.v[3].stem, "item");
	assert_string_equal(t.v[4].stem, "arriv");
	assert_string_equal(t.v[5].stem, "damag");
	/* only words are stemmed */
	assert_int_equal(t.v[6].kind, CA_TOK_NUMBER);
	assert_string_equal(t.v[6].stem, "3348917502");
	assert_string_equal(t.v[7].stem, "cminh730");
	assert_string_equal(t.v[8].stem, "don't");
	/* a stem of a folded non-ASCII word */
	ca_tokens_reset(&t);
	assert_int_equal(ca_tokenize("R\xC3\x89TURNED", 9, 0, st, &t), 0);
	assert_string_equal(t.v[0].norm, "returned");
	assert_string_equal(t.v[0].stem, "return");
	ca_tokens_done(&t);
	ca_stemmer_free(st);
	ca_stemmer_free(NULL);
}

static void test_stopword(void **state)
{
	(void)state;
	const char *yes[] = { "a", "the", "i", "my", "is", "don't", "i'm", "yourselves", "about", "with" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(yes); i++)
		assert_true(ca_stopword(yes[i]));
	const char *no[] = { "", "refund", "order", "The", "aa", "zzz", "yourselvesx", "don" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(no); i++)
		assert_false(ca_stopword(no[i]));
	assert_false(ca_stopword(NULL));

	/* the tokenizer's norms are what the list is keyed on */
	ca_tokens t = { 0 };
	const char *m = "THE Refund IS MY don\xE2\x80\x99t";
	assert_int_equal(ca_tokenize(m, strlen(m), 0, NULL, &t), 0);
	assert_int_equal(t.n, 5);
	assert_true(ca_stopword(t.v[0].norm));
	assert_false(ca_stopword(t.v[1].norm));
	assert_true(ca_stopword(t.v[2].norm));
	assert_true(ca_stopword(t.v[3].norm));
	assert_true(ca_stopword(t.v[4].norm));
	ca_tokens_done(&t);
}

/* ---- sentences ---- */

static void expect_sentences(const char *text, const char *const *want, size_t nwant)
{
	ca_span *sp = NULL;
	size_t n = 99;
	assert_int_equal(ca_sentences(text, strlen(text), &sp, &n), 0);
	if (n != nwant) {
		for (size_t i = 0; i < n; i++)
			print_message("  [%.*s]\n", (int)(sp[i].end - sp[i].begin), text + sp[i].begin);
	}
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_true(sp[i].begin < sp[i].end);
		assert_int_equal(sp[i].end - sp[i].begin, strlen(want[i]));
		assert_memory_equal(text + sp[i].begin, want[i], strlen(want[i]));
	}
	free(sp);
}

static void test_sentences(void **state)
{
	(void)state;
	const char *s1 = "I got the wrong size. It cost $9.99! Can you help?";
	const char *w1[] = { "I got the wrong size.", "It cost $9.99!", "Can you help?" };
	expect_sentences(s1, w1, 3);
	ca_span *sp = NULL;
	size_t n = 0;
	assert_int_equal(ca_sentences(s1, strlen(s1), &sp, &n), 0);
	assert_int_equal(sp[1].begin, 22);
	assert_int_equal(sp[1].end, 36);
	free(sp);

	const char *w2[] = { "e.g. this" };
	expect_sentences("e.g. this", w2, 1);
	const char *w3[] = { "Mr. Smith wrote to a.b@x.com.", "He paid 1,299.50 (approx.) today." };
	expect_sentences("  Mr. Smith wrote to a.b@x.com.  He paid 1,299.50 (approx.) today.  ", w3, 2);
	/* newlines split, blank lines and whitespace-only pieces vanish */
	const char *w4[] = { "Hi there", "Order 123", "Thanks!!", "Bye" };
	expect_sentences("Hi there\r\n\n  Order 123 \n\t\nThanks!! Bye", w4, 4);
	/* closing quotes and brackets stay with their sentence; ?! runs are one end */
	const char *w5[] = { "He said \"stop.\"", "Really?!", "(It broke.)", "Then what\xE2\x80\xA6" };
	expect_sentences("He said \"stop.\" Really?! (It broke.) Then what\xE2\x80\xA6", w5, 4);
	/* "etc." and "no." do end sentences */
	const char *w6[] = { "Shoes, bags etc.", "The answer is no.", "Ok" };
	expect_sentences("Shoes, bags etc. The answer is no. Ok", w6, 3);
	/* no final terminator, a terminator glued to the next word */
	const char *w7[] = { "version 2.0.1 is out?yes.", "ok" };
	expect_sentences("version 2.0.1 is out?yes. ok", w7, 2);

	sp = (ca_span *)1;
	n = 99;
	assert_int_equal(ca_sentences("", 0, &sp, &n), 0);
	assert_int_equal(n, 0);
	free(sp);
	assert_int_equal(ca_sentences(" \n\t ", 4, &sp, &n), 0);
	assert_int_equal(n, 0);
	free(sp);
	assert_int_equal(ca_sentences(NULL, 0, &sp, &n), 0);
	assert_int_equal(n, 0);
	free(sp);
	const char *w8[] = { "..." };
	expect_sentences(" ... ", w8, 1);
}

/* ---- identifiers ---- */

static void test_phone_norm(void **state)
{
	(void)state;
	const char *same[] = { "(977) 625-2661", "977.625.2661", "+1 977 625 2661", "9776252661",
			       "1-977-625-2661", "+1 (977) 625-2661", " 977 625 2661 " };
	for (size_t i = 0; i < CA_ARRAY_SIZE(same); i++) {
		char out[16] = "";
		assert_int_equal(ca_phone_norm(same[i], out), 0);
		assert_string_equal(out, "9776252661");
	}
	char out[16];
	assert_int_equal(ca_phone_norm("555-1234", out), 0); /* 7 digits: the minimum */
	assert_string_equal(out, "5551234");
	assert_int_equal(ca_phone_norm("+44 20 7946 0958", out), 0);
	assert_string_equal(out, "442079460958");
	assert_int_equal(ca_phone_norm("29776252661", out), 0); /* 11 digits, not NANP */
	assert_string_equal(out, "29776252661");
	assert_int_equal(ca_phone_norm("+123 456 789 012 345", out), 0); /* 15: the maximum */
	assert_string_equal(out, "123456789012345");

	memcpy(out, "untouched", 10);
	assert_int_equal(ca_phone_norm("555-123", out), CA_EINVAL);
	assert_int_equal(ca_phone_norm("1234 5678 9012 3456", out), CA_EINVAL);
	assert_int_equal(ca_phone_norm("", out), CA_EINVAL);
	assert_int_equal(ca_phone_norm("no digits here", out), CA_EINVAL);
	assert_int_equal(ca_phone_norm(NULL, out), CA_EINVAL);
	assert_string_equal(out, "untouched");
}

static void test_email_norm(void **state)
{
	(void)state;
	char *e = NULL;
	assert_int_equal(ca_email_norm("  CMinh730@Email.COM \n", &e), 0);
	assert_string_equal(e, "cminh730@email.com");
	free(e);
	assert_int_equal(ca_email_norm("first.last+tag@sub-domain.example.co.uk", &e), 0);
	assert_string_equal(e, "first.last+tag@sub-domain.example.co.uk");
	free(e);

	const char *bad[] = { "", "   ", "foo", "foo@bar", "@x.com", "a@b.c", "a b@x.com", "a@@x.com",
			      "a@-x.com", "a@x-.com", "a@x..com", ".a@x.com", "a.@x.com", "a@x.com.",
			      "a@x.123", "<a@x.com>", "caf\xC3\xA9@x.com", "a@x.com b" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(bad); i++) {
		e = (char *)"keep";
		assert_int_equal(ca_email_norm(bad[i], &e), CA_EINVAL);
		assert_string_equal(e, "keep");
	}
	assert_int_equal(ca_email_norm(NULL, &e), CA_EINVAL);
}

/* ---- edit distance ---- */

/* Plain full-table Levenshtein to check the banded one against. */
static unsigned lev_ref(const char *a, const char *b)
{
	size_t m = strlen(a), n = strlen(b);
	unsigned *d = malloc((m + 1) * (n + 1) * sizeof(*d));
	assert_non_null(d);
	for (size_t i = 0; i <= m; i++)
		d[i * (n + 1)] = (unsigned)i;
	for (size_t j = 0; j <= n; j++)
		d[j] = (unsigned)j;
	for (size_t i = 1; i <= m; i++)
		for (size_t j = 1; j <= n; j++) {
			unsigned v = d[(i - 1) * (n + 1) + j - 1] + (a[i - 1] != b[j - 1]);
			unsigned x = d[(i - 1) * (n + 1) + j] + 1, y = d[i * (n + 1) + j - 1] + 1;
			d[i * (n + 1) + j] = v < x ? (v < y ? v : y) : (x < y ? x : y);
		}
	unsigned r = d[m * (n + 1) + n];
	free(d);
	return r;
}

static void test_osa_distance(void **state)
{
	(void)state;
	/* A swap of neighbours is one slip, not two substitutions. */
	assert_int_equal(ca_edit_distance("halycon", "halcyon", 3), 2);
	assert_int_equal(ca_osa_distance("halycon", "halcyon", 3), 1);
	assert_int_equal(ca_osa_distance("kestral", "kestrel", 2), 1);
	assert_int_equal(ca_osa_distance("same", "same", 0), 0);
	/* Bounded: past max it says max + 1. */
	assert_int_equal(ca_osa_distance("earbuds", "charger", 2), 3);
	assert_int_equal(ca_osa_distance("ab", "abcdef", 2), 3);
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(ca_edit_distance("kitten", "sitting", 10), 3);
	assert_int_equal(ca_edit_distance("kitten", "sitting", 3), 3);
	assert_int_equal(ca_edit_distance("kitten", "sitting", 2), 3); /* max + 1 */
	assert_int_equal(ca_edit_distance("kitten", "sitting", 0), 1);
	assert_int_equal(ca_edit_distance("flaw", "lawn", 5), 2);
	assert_int_equal(ca_edit_distance("", "", 0), 0);
	assert_int_equal(ca_edit_distance("same", "same", 0), 0);
	assert_int_equal(ca_edit_distance("", "abc", 5), 3);
	assert_int_equal(ca_edit_distance("abc", "", 1), 2);
	assert_int_equal(ca_edit_distance("abcdef", "a", 2), 3);
	assert_int_equal(ca_edit_distance(NULL, "ab", 4), 2);
	assert_int_equal(ca_edit_distance("B07XYZ", "B07XZY", 1), 2);
	assert_int_equal(ca_edit_distance("4VEJCYVP8U", "4VEJCYVB8U", 1), 1);
	assert_int_equal(ca_edit_distance("x", "y", UINT32_MAX), 1);
	assert_int_equal(ca_edit_distance("ab", "cd", UINT32_MAX - 1), 2);

	/* long strings use a heap row; shared prefix and suffix are skipped */
	char a[701], b[701];
	for (int i = 0; i < 700; i++)
		a[i] = b[i] = (char)('a' + i % 26);
	a[700] = b[700] = '\0';
	b[350] = 'X';
	b[351] = 'Y';
	assert_int_equal(ca_edit_distance(a, b, 3), 2);
	a[0] = '#';
	b[699] = '#';
	assert_int_equal(ca_edit_distance(a, b, 10), 4);
	assert_int_equal(ca_edit_distance(a, b, 3), 4);

	/* random short strings over a small alphabet against the full table */
	uint32_t seed = 12345;
	for (int round = 0; round < 3000; round++) {
		char x[24], y[24];
		size_t lx, ly;
		seed = seed * 1103515245u + 12345u;
		lx = (seed >> 16) % 20;
		seed = seed * 1103515245u + 12345u;
		ly = (seed >> 16) % 20;
		for (size_t i = 0; i < lx; i++) {
			seed = seed * 1103515245u + 12345u;
			x[i] = (char)('a' + (seed >> 16) % 3);
		}
		for (size_t i = 0; i < ly; i++) {
			seed = seed * 1103515245u + 12345u;
			y[i] = (char)('a' + (seed >> 16) % 3);
		}
		x[lx] = y[ly] = '\0';
		unsigned ref = lev_ref(x, y);
		for (unsigned max = 0; max <= 8; max++) {
			unsigned got = ca_edit_distance(x, y, max);
			assert_int_equal(got, ref <= max ? ref : max + 1);
		}
		assert_int_equal(ca_edit_distance(x, y, 100), ref);
	}
}

/* ---- TF-IDF ---- */

static ca_vocab *corpus_vocab(void)
{
	ca_vocab *v = ca_vocab_new();
	assert_non_null(v);
	const char *d1[] = { "refund", "order", "late", "refund" };
	const char *d2[] = { "order", "damag", "box" };
	const char *d3[] = { "password", "reset", "login" };
	const char *d4[] = { "order", "late" };
	assert_int_equal(ca_vocab_add_doc(v, d1, 4), 0);
	assert_int_equal(ca_vocab_add_doc(v, d2, 3), 0);
	assert_int_equal(ca_vocab_add_doc(v, d3, 3), 0);
	assert_int_equal(ca_vocab_add_doc(v, d4, 2), 0);
	assert_int_equal(ca_vocab_add_doc(v, NULL, 0), 0); /* an empty document counts */
	return v;
}

static void test_vocab(void **state)
{
	(void)state;
	ca_vocab *v = corpus_vocab();
	assert_int_equal(ca_vocab_size(v), 8);
	assert_int_equal(ca_vocab_id(v, "refund"), 0);
	assert_int_equal(ca_vocab_id(v, "login"), 7);
	assert_int_equal(ca_vocab_id(v, "missing"), -1);
	assert_string_equal(ca_vocab_term(v, 3), "damag");
	assert_string_equal(ca_vocab_term(v, 4), "box");
	assert_null(ca_vocab_term(v, 8));
	/* idf before freeze already follows the formula */
	assert_true(fabs(ca_vocab_idf(v, 1) - (log(6.0 / 4.0) + 1.0)) < 1e-12);

	ca_vocab_freeze(v);
	ca_vocab_freeze(v); /* twice is harmless */
	/* N = 5 documents; df(refund) = 1 although it occurs twice in d1 */
	assert_true(fabs(ca_vocab_idf(v, 0) - (log(6.0 / 2.0) + 1.0)) < 1e-12);
	assert_true(fabs(ca_vocab_idf(v, 1) - (log(6.0 / 4.0) + 1.0)) < 1e-12);
	assert_true(fabs(ca_vocab_idf(v, 2) - (log(6.0 / 3.0) + 1.0)) < 1e-12);
	assert_true(ca_vocab_idf(v, 99) == 0.0);

	const char *more[] = { "new" };
	assert_int_equal(ca_vocab_add_doc(v, more, 1), CA_ESTATE);
	assert_int_equal(ca_vocab_size(v), 8);
	assert_int_equal(ca_vocab_id(v, "new"), -1);
	ca_vocab_free(v);
	ca_vocab_free(NULL);

	/* NULL term rejected, nothing counted */
	v = ca_vocab_new();
	const char *withnull[] = { "a", NULL };
	assert_int_equal(ca_vocab_add_doc(v, withnull, 2), CA_EINVAL);
	assert_int_equal(ca_vocab_size(v), 0);
	assert_int_equal(ca_vocab_id(v, "a"), -1);

	/* enough terms to grow the table several times */
	char buf[32];
	for (int i = 0; i < 5000; i++) {
		int len = snprintf(buf, sizeof(buf), "term%d", i);
		assert_true(len > 0 && (size_t)len < sizeof(buf));
		const char *one[] = { buf, "common" };
		assert_int_equal(ca_vocab_add_doc(v, one, 2), 0);
	}
	ca_vocab_freeze(v);
	assert_int_equal(ca_vocab_size(v), 5001);
	for (int i = 0; i < 5000; i += 97) {
		(void)snprintf(buf, sizeof(buf), "term%d", i); /* fits: the loop above checked */
		int32_t id = ca_vocab_id(v, buf);
		assert_true(id >= 0);
		assert_string_equal(ca_vocab_term(v, (uint32_t)id), buf);
	}
	int32_t common = ca_vocab_id(v, "common");
	assert_int_equal(common, 1);
	/* a term in every document keeps idf 1 */
	assert_true(fabs(ca_vocab_idf(v, (uint32_t)common) - 1.0) < 1e-12);
	ca_vocab_free(v);
}

static void test_tfidf(void **state)
{
	(void)state;
	ca_vocab *v = corpus_vocab();
	ca_vocab_freeze(v);

	const char *q1[] = { "late", "order", "refund", "refund" };
	const char *q2[] = { "refund", "late", "refund", "order" };
	const char *q3[] = { "password", "reset" };
	const char *q4[] = { "unknown", "late", "zzz", "order", "refund", "refund", "nope" };
	ca_svec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 }, e = { 0 };
	assert_int_equal(ca_tfidf(v, q1, 4, &a), 0);
	assert_int_equal(ca_tfidf(v, q2, 4, &b), 0);
	assert_int_equal(ca_tfidf(v, q3, 2, &c), 0);
	assert_int_equal(ca_tfidf(v, q4, 7, &d), 0);

	/* ids ascending, unit length */
	assert_int_equal(a.n, 3);
	double sq = 0.0;
	for (size_t i = 0; i < a.n; i++) {
		if (i)
			assert_true(a.idx[i - 1] < a.idx[i]);
		sq += (double)a.val[i] * a.val[i];
	}
	assert_true(fabs(sq - 1.0) < 1e-6);
	/* sublinear tf: refund (id 0, count 2) weighs (1 + ln 2) * idf(refund) */
	double w0 = (1.0 + log(2.0)) * ca_vocab_idf(v, 0);
	double w1 = ca_vocab_idf(v, 1), w2 = ca_vocab_idf(v, 2);
	double norm = sqrt(w0 * w0 + w1 * w1 + w2 * w2);
	assert_int_equal(a.idx[0], 0);
	assert_true(fabs(a.val[0] - w0 / norm) < 1e-6);
	assert_true(fabs(a.val[1] - w1 / norm) < 1e-6);

	assert_true(fabs(ca_svec_dot(&a, &b) - 1.0) < 1e-6); /* same bag of words */
	assert_true(ca_svec_dot(&a, &a) <= 1.0);
	assert_true(ca_svec_dot(&a, &c) == 0.0);             /* disjoint */
	assert_true(fabs(ca_svec_dot(&a, &d) - 1.0) < 1e-6); /* unknown terms ignored */
	assert_int_equal(d.n, 3);

	/* partial overlap lands strictly between */
	const char *q5[] = { "order", "box" };
	assert_int_equal(ca_tfidf(v, q5, 2, &e), 0);
	double p = ca_svec_dot(&a, &e);
	assert_true(p > 0.0 && p < 1.0);
	assert_true(fabs(p - ca_svec_dot(&e, &a)) < 1e-12);

	/* only unknown terms, or none: an empty vector */
	const char *q6[] = { "nothing", "known" };
	assert_int_equal(ca_tfidf(v, q6, 2, &e), 0); /* old contents freed */
	assert_int_equal(e.n, 0);
	assert_true(ca_svec_dot(&a, &e) == 0.0);
	assert_int_equal(ca_tfidf(v, NULL, 0, &e), 0);
	assert_int_equal(e.n, 0);

	/* a long document takes the heap path for its id list */
	const char *many[600];
	for (size_t i = 0; i < 600; i++)
		many[i] = (i % 3 == 0) ? "refund" : (i % 3 == 1) ? "order" : "late";
	assert_int_equal(ca_tfidf(v, many, 600, &e), 0);
	assert_int_equal(e.n, 3);
	p = ca_svec_dot(&a, &e);
	assert_true(p > 0.9 && p < 1.0);

	ca_svec_done(&a);
	ca_svec_done(&b);
	ca_svec_done(&c);
	ca_svec_done(&d);
	ca_svec_done(&e);
	ca_svec_done(&e);
	assert_null(e.idx);
	ca_svec_done(NULL);
	ca_vocab_free(v);
}

/* Whole pipeline on a realistic message: fold, tokens, stop words, tf-idf. */
static void test_pipeline(void **state)
{
	(void)state;
	ca_stemmer *st = ca_stemmer_new();
	assert_non_null(st);
	const char *docs[] = {
		"I want to return my shoes, they're the wrong size.",
		"Returning the SHOES I ordered: wrong colour!",
		"I can't log in, please reset my password.",
	};
	ca_vocab *v = ca_vocab_new();
	ca_tokens t = { 0 };
	ca_svec vec[3] = { { 0 } };
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < 3; i++) {
			ca_tokens_reset(&t);
			assert_int_equal(ca_tokenize(docs[i], strlen(docs[i]), 0, st, &t), 0);
			const char *terms[32];
			size_t n = 0;
			for (size_t k = 0; k < t.n; k++)
				if (!ca_stopword(t.v[k].norm))
					terms[n++] = t.v[k].stem;
			if (pass == 0)
				assert_int_equal(ca_vocab_add_doc(v, terms, n), 0);
			else
				assert_int_equal(ca_tfidf(v, terms, n, &vec[i]), 0);
		}
		if (pass == 0)
			ca_vocab_freeze(v);
	}
	assert_true(ca_vocab_id(v, "return") >= 0);
	assert_true(ca_vocab_id(v, "shoe") >= 0);
	assert_int_equal(ca_vocab_id(v, "the"), -1);
	double same = ca_svec_dot(&vec[0], &vec[1]);
	double other = ca_svec_dot(&vec[0], &vec[2]);
	assert_true(same > 0.3);
	assert_true(other == 0.0);
	for (size_t i = 0; i < 3; i++)
		ca_svec_done(&vec[i]);
	ca_tokens_done(&t);
	ca_vocab_free(v);
	ca_stemmer_free(st);
}

/* The one normalised form of an address (issue 9, item 2). */
static void test_email_addr_key(void **state)
{
	(void)state;
	static const char *const same[][2] = {
		{ "SUPPORT@BrightWave.Example", "support@brightwave.example" },
		{ " <Oskar.Lindqvale@EXAMPLE.com> ", "oskar.lindqvale@example.com" },
		{ "kunde@BÜCHER.example", "kunde@xn--bcher-kva.example" },
		{ "Kunde@xn--BCHER-kva.Example.", "kunde@xn--bcher-kva.example" },
		{ "ÅSA@example.org", "åsa@example.org" },
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *k = NULL;
		assert_int_equal(ca_email_addr_key(same[i][0], &k), 0);
		assert_string_equal(k, same[i][1]);
		free(k);
	}
	static const char *const bad[] = { "", "no-at-sign", "@example.com", "user@", "a@b\r\nBcc: x@y" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *k = NULL;
		assert_int_equal(ca_email_addr_key(bad[i], &k), CA_EINVAL);
		assert_null(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_text_fold),
		cmocka_unit_test(test_tokenize_kinds),
		cmocka_unit_test(test_tokenize_email_edges),
		cmocka_unit_test(test_tokenize_multibyte),
		cmocka_unit_test(test_tokenize_base_append_invalid),
		cmocka_unit_test(test_stemmer),
		cmocka_unit_test(test_stopword),
		cmocka_unit_test(test_sentences),
		cmocka_unit_test(test_phone_norm),
		cmocka_unit_test(test_email_norm),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_osa_distance),
		cmocka_unit_test(test_vocab),
		cmocka_unit_test(test_tfidf),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_email_addr_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
