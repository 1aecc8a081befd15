/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the pii module (src/pii): the checksums (Luhn, IBAN
 * mod-97, SSA rules), each recogniser with texts it must and must not
 * find, person names from contacts, cues and word lists (a small lexicon
 * under tests/data/pii in the layout of the Debian lists, so the tests do
 * not depend on what the machine has installed), the overlap resolution,
 * redaction with placeholders and counts, configured account and order
 * patterns, and byte offsets behind multibyte UTF-8 text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pii.h"

static char data_path[512];

static const char *data(const char *name)
{
	const char *dir = getenv("CA_TEST_DATA");
	int n = snprintf(data_path, sizeof data_path, "%s/pii/%s", dir ? dir : "tests/data", name);

	assert_true(n > 0 && (size_t)n < sizeof data_path);
	return data_path;
}

static ca_pii_lexicon *test_lexicon(void)
{
	char words[512], names[512];
	ca_pii_lexicon_paths paths = {0};
	ca_pii_lexicon *lx = NULL;
	ca_err err = {0};

	snprintf(words, sizeof words, "%s", data("words.txt"));
	snprintf(names, sizeof names, "%s", data("names.pm"));
	paths.words = words;
	paths.names = names;
	assert_int_equal(ca_pii_lexicon_load(&paths, true, &lx, &err), 0);
	return lx;
}

/* A recogniser over the test lexicon (or none). */
static ca_pii *new_pii(bool lexicon)
{
	ca_pii_lexicon *lx = lexicon ? test_lexicon() : NULL;
	ca_pii *p = NULL;
	ca_err err = {0};

	assert_int_equal(ca_pii_new(lx, &p, &err), 0);
	ca_pii_lexicon_unref(lx); /* the recogniser holds its own reference */
	return p;
}

static void find(const ca_pii *p, const char *text, ca_pii_spans *s)
{
	ca_err err = {0};

	s->n = 0;
	assert_int_equal(ca_pii_find(p, text, strlen(text), s, &err), 0);
}

/* A span of type t covers exactly the first occurrence of needle. */
static bool has(const ca_pii_spans *s, ca_pii_type t, const char *text, const char *needle)
{
	const char *at = strstr(text, needle);

	for (size_t i = 0; at && i < s->n; i++)
		if (s->v[i].type == t && s->v[i].begin == (uint32_t)(at - text) &&
		    s->v[i].end == (uint32_t)(at - text + (ptrdiff_t)strlen(needle)))
			return true;
	return false;
}

/* A span of type t overlaps the first occurrence of needle. */
static bool covers(const ca_pii_spans *s, ca_pii_type t, const char *text, const char *needle)
{
	const char *at = strstr(text, needle);

	for (size_t i = 0; at && i < s->n; i++)
		if (s->v[i].type == t && s->v[i].begin < (uint32_t)(at - text + (ptrdiff_t)strlen(needle)) &&
		    (uint32_t)(at - text) < s->v[i].end)
			return true;
	return false;
}

/* A span of type t at bytes [b, b + n). */
static bool has_at(const ca_pii_spans *s, ca_pii_type t, ptrdiff_t b, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].type == t && s->v[i].begin == (uint32_t)b && s->v[i].end == (uint32_t)b + n)
			return true;
	return false;
}

static size_t count(const ca_pii_spans *s, ca_pii_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].type == t;
	return n;
}

/* ---- checksums ---- */

static void test_luhn(void **state)
{
	(void)state;
	assert_true(ca_pii_luhn_ok("4111111111111111", 16));
	assert_true(ca_pii_luhn_ok("4111 1111 1111 1111", 19));
	assert_false(ca_pii_luhn_ok("4111111111111112", 16));
	assert_false(ca_pii_luhn_ok("4111x11111111111", 16));
	assert_false(ca_pii_luhn_ok("0", 1));
}

static void test_iban_checksum(void **state)
{
	(void)state;
	assert_true(ca_pii_iban_ok("GB82 WEST 1234 5698 7654 32", 27));
	assert_true(ca_pii_iban_ok("gb82west12345698765432", 22));
	assert_true(ca_pii_iban_ok("DE89370400440532013000", 22));
	assert_false(ca_pii_iban_ok("GB82 WEST 1234 5698 7654 33", 27)); /* check digits */
	assert_false(ca_pii_iban_ok("GB82WEST123456987654", 20));        /* GB is 22 long */
	assert_false(ca_pii_iban_ok("XX82WEST12345698765432", 22));      /* no such country */
}

static void test_ssn_rules(void **state)
{
	(void)state;
	assert_true(ca_pii_ssn_ok(123, 45, 6780));
	assert_false(ca_pii_ssn_ok(0, 12, 3456));
	assert_false(ca_pii_ssn_ok(666, 12, 3456));
	assert_false(ca_pii_ssn_ok(912, 12, 3456));
	assert_false(ca_pii_ssn_ok(123, 0, 4567));
	assert_false(ca_pii_ssn_ok(123, 45, 0));
	assert_false(ca_pii_ssn_ok(78, 5, 1120));   /* the wallet card */
	assert_false(ca_pii_ssn_ok(123, 45, 6789)); /* the advertising one */
}

/* ---- recognisers ---- */

static void test_card(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "Please charge card 4111 1111 1111 1111 today.";
	const char *t2 = "Please charge card 4111 1111 1111 1112 today.";
	const char *t3 = "my card 503812345679 is lost";
	const char *t4 = "reference 503812345679 attached";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_CREDIT_CARD, t1, "4111 1111 1111 1111"));
	find(p, t2, &s); /* Luhn fails */
	assert_int_equal(count(&s, CA_PII_CREDIT_CARD), 0);
	find(p, t3, &s); /* 12 digits (Maestro) only next to a card word */
	assert_true(has(&s, CA_PII_CREDIT_CARD, t3, "503812345679"));
	find(p, t4, &s);
	assert_int_equal(count(&s, CA_PII_CREDIT_CARD), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_iban(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "Wire it to GB82 WEST 1234 5698 7654 32 please";
	const char *t2 = "IBAN: DE89370400440532013000.";
	const char *t3 = "IBAN: DE89370400440532013001.";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_IBAN, t1, "GB82 WEST 1234 5698 7654 32"));
	find(p, t2, &s);
	assert_true(has(&s, CA_PII_IBAN, t2, "DE89370400440532013000"));
	find(p, t3, &s);
	assert_int_equal(count(&s, CA_PII_IBAN), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_ssn(void **state)
{
	static const char *const bad[] = {
		"SSN 000-12-3456", "SSN 666-12-3456", "SSN 912-12-3456", "SSN 123-00-4567", "SSN 123-45-0000",
	};
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "My SSN is 123-45-6780.";
	const char *t2 = "ssn 123456780";
	const char *t3 = "ticket 123456780";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_US_SSN, t1, "123-45-6780"));
	find(p, t2, &s);
	assert_true(has(&s, CA_PII_US_SSN, t2, "123456780"));
	find(p, t3, &s); /* nine bare digits need the word */
	assert_int_equal(count(&s, CA_PII_US_SSN), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s.n = 0;
		assert_int_equal(ca_pii_scan_type(p, CA_PII_US_SSN, bad[i], strlen(bad[i]), &s), 0);
		assert_int_equal(s.n, 0);
	}
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_phone(void **state)
{
	static const char *const yes[][2] = {
		{"Call me on +1 (555) 123-4567 tomorrow", "+1 (555) 123-4567"},
		{"my number is 020 7946 0958.", "020 7946 0958"},
		{"Desk: +41 (0)44 668 18 00", "+41 (0)44 668 18 00"},
		{"Fax: 5551234567", "5551234567"},
		{"reach me at 555.123.4567x89 any time", "555.123.4567x89"},
	};
	static const char *const no[] = {
		"my order number is 5551234567",      /* an order number */
		"delivered on 2023-10-05 by noon",    /* a date */
		"due 05.10.2023 at the latest",       /* a date */
		"at 12:30:45 the server stopped",     /* a time */
		"it costs $1 234 567 in total",       /* an amount */
		"tracking 12345678901234567890123",   /* inside a longer digit run */
		"5551234567",                         /* bare digits, nothing says phone */
	};
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		find(p, yes[i][0], &s);
		assert_true(has(&s, CA_PII_PHONE, yes[i][0], yes[i][1]));
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		find(p, no[i], &s);
		assert_int_equal(count(&s, CA_PII_PHONE), 0);
	}
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

/* Issue 9: phone numbers in national spellings near or far from a cue, and
 * names after cue phrases, survived removal; order, serial and model
 * numbers next to their own words must stay. ("john" and "smith" are
 * common words in the test word list, as in wamerican.) */
static void test_phone_national_and_call_cues(void **state)
{
	static const char *const phones[][2] = {
		{"my line 0726668629 doesn't connect data bundles", "0726668629"},
		{"9025288580 is my number", "9025288580"},
		{"The affected number is 08028060872, last recharge is yesterday", "08028060872"},
		{"still 2g network at the location 8866118992", "8866118992"},
		{"I need the refund of my money 07010039592", "07010039592"},
		{"Mobile: +49 151 23456789", "+49 151 23456789"},
		{"+44 7700 900111 is the best way to reach me", "+44 7700 900111"},
		{"Mon num\xc3\xa9ro est le 06 12 34 56 78", "06 12 34 56 78"},
		{"reach me at 98765 43210 after eight", "98765 43210"},
		{"my mobile no. is 9810012345", "9810012345"},
	};
	static const char *const not_phones[] = {
		"My order number 5545781356 never arrived",
		"My order id is 4870952797 and I want to change the address",
		"Serial no. 12345678901 is under the battery",
		"My BW-CH-0650 is broken",
		"Ticket 4455667788 was closed without an answer",
		"Your reference is C1-102849262300",
		"It cost 1299.00 and arrived on 12.03.2024",
		"Order # 113-4002806-4843420 is late",
		"My IMEI is 356938035643809",
	};
	static const char *const persons[][2] = {
		{"Please call John Smith back", "John Smith"},
		{"ask for Mary O'Neil at the desk", "Mary O'Neil"},
		{"Hi, this is Ann from the billing team", "Ann"},
		{"my name is Zorbina Qwell", "Zorbina Qwell"},
		{"Please ring Mark about the part", "Mark"},
	};
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};

	(void)state;
	for (size_t i = 0; i < sizeof phones / sizeof phones[0]; i++) {
		find(p, phones[i][0], &s);
		if (!has(&s, CA_PII_PHONE, phones[i][0], phones[i][1]))
			fail_msg("no phone %s in: %s", phones[i][1], phones[i][0]);
	}
	for (size_t i = 0; i < sizeof not_phones / sizeof not_phones[0]; i++) {
		find(p, not_phones[i], &s);
		if (count(&s, CA_PII_PHONE) || count(&s, CA_PII_CREDIT_CARD))
			fail_msg("a phone or card found in: %s", not_phones[i]);
	}
	for (size_t i = 0; i < sizeof persons / sizeof persons[0]; i++) {
		find(p, persons[i][0], &s);
		if (!has(&s, CA_PII_PERSON, persons[i][0], persons[i][1]))
			fail_msg("no person %s in: %s", persons[i][1], persons[i][0]);
	}
	/* a firm after the same verbs is no person */
	find(p, "Please call Apples support back", &s);
	assert_int_equal(count(&s, CA_PII_PERSON), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_ip(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "blocked from 192.168.1.20, then from 2001:db8::8a2e:370:7334.";
	const char *t2 = "from 256.1.1.1 and 10.0.0 at 12:30:45";
	const char *t3 = "upgrade to version 1.2.3.4 first";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_IP_ADDRESS, t1, "192.168.1.20"));
	assert_true(has(&s, CA_PII_IP_ADDRESS, t1, "2001:db8::8a2e:370:7334"));
	find(p, t2, &s); /* octet out of range, three octets, a time */
	assert_int_equal(count(&s, CA_PII_IP_ADDRESS), 0);
	find(p, t3, &s);
	assert_int_equal(count(&s, CA_PII_IP_ADDRESS), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_email(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "Write to ann.smith+tag@mail.example.co.uk.";
	const char *t2 = "user@localhost or @handle or a@b";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_EMAIL, t1, "ann.smith+tag@mail.example.co.uk"));
	find(p, t2, &s);
	assert_int_equal(count(&s, CA_PII_EMAIL), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_address(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "I moved to 12 Baker Street, Apt. 4\nSpringfield, IL 62704 last week";
	const char *t2 = "The office is at Loorenstrasse 149, 8053 Zurich.";
	const char *t3 = "Send it to PO Box 123 please";
	const char *t4 = "I have 3 green apples and 2 pears";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_STREET_ADDRESS, t1, "12 Baker Street, Apt. 4\nSpringfield, IL 62704"));
	find(p, t2, &s);
	assert_true(covers(&s, CA_PII_STREET_ADDRESS, t2, "Loorenstrasse 149"));
	find(p, t3, &s);
	assert_true(covers(&s, CA_PII_STREET_ADDRESS, t3, "PO Box 123"));
	find(p, t4, &s);
	assert_int_equal(count(&s, CA_PII_STREET_ADDRESS), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_person_contacts(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	ca_err err = {0};
	const char *t1 = "please ask zyxwa qorvath about it";
	const char *t2 = "Yesterday Qorvath wrote back.";

	(void)state;
	assert_int_equal(ca_pii_add_name(p, "Zyxwa Qorvath", &err), 0);
	assert_int_equal(ca_pii_add_name(p, "1234", &err), CA_EINVAL);
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_PERSON, t1, "zyxwa qorvath"));
	find(p, t2, &s);
	assert_true(has(&s, CA_PII_PERSON, t2, "Qorvath"));
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_person_cues(void **state)
{
	static const char *const yes[][2] = {
		{"Hello, my name is Ann Lee and I need help.", "Ann Lee"},
		{"Dear Bob,\nthe card is here.", "Bob"},
		{"Mr. Qwertz will call.", "Qwertz"},
		{"The card works.\nThanks,\nZorbina", "Zorbina"},
		{"Hi, this is Yarrow Plinth from the account team.", "Yarrow Plinth"},
		{"Please send it to Mary Smith.", "Mary Smith"},
		{"Zorbina: my card is here", "Zorbina"},
		{"my name is vuokko", "vuokko"},
	};
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		find(p, yes[i][0], &s);
		assert_true(has(&s, CA_PII_PERSON, yes[i][0], yes[i][1]));
	}
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_person_lists(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	const char *t1 = "The card was sent to Ann, Qorbel and Zintra.";
	const char *t2 = "Mary Smith called. Later Smith wrote.";

	(void)state;
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_PERSON, t1, "Qorbel"));
	assert_true(has(&s, CA_PII_PERSON, t1, "Zintra"));
	find(p, t2, &s); /* a later mention of a name found before */
	assert_true(has(&s, CA_PII_PERSON, t2, "Mary Smith"));
	assert_true(has_at(&s, CA_PII_PERSON, strstr(t2, "Later Smith") + 6 - t2, 5));
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_person_negative(void **state)
{
	static const char *const no[] = {
		"I Need Help With My Account",
		"Please Send The Card",
		"Will you call me?",
		"We ship to London and Paris.",
		"Rose Street is green.",
	};
	ca_pii *p = new_pii(true), *bare = new_pii(false);
	ca_pii_spans s = {0};
	const char *t = "Hello, my name is Ann Lee.";

	(void)state;
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		find(p, no[i], &s);
		assert_int_equal(count(&s, CA_PII_PERSON), 0);
		find(bare, no[i], &s);
		assert_int_equal(count(&s, CA_PII_PERSON), 0);
	}
	/* without any word list a strong cue still finds the name */
	find(bare, t, &s);
	assert_true(has(&s, CA_PII_PERSON, t, "Ann Lee"));
	ca_pii_spans_done(&s);
	ca_pii_free(p);
	ca_pii_free(bare);
}

/* ---- resolution and redaction ---- */

static void test_overlap(void **state)
{
	ca_pii_spans s = {0};

	(void)state;
	/* a card read as a phone too: the surer card wins */
	assert_int_equal(ca_pii_spans_push(&s, 10, 26, CA_PII_PHONE, 0.6), 0);
	assert_int_equal(ca_pii_spans_push(&s, 10, 29, CA_PII_CREDIT_CARD, 0.9), 0);
	/* a street named after a person: the address holds the name and wins */
	assert_int_equal(ca_pii_spans_push(&s, 40, 60, CA_PII_STREET_ADDRESS, 0.7), 0);
	assert_int_equal(ca_pii_spans_push(&s, 43, 54, CA_PII_PERSON, 0.85), 0);
	/* two findings of one type become their union */
	assert_int_equal(ca_pii_spans_push(&s, 70, 80, CA_PII_PERSON, 0.6), 0);
	assert_int_equal(ca_pii_spans_push(&s, 75, 90, CA_PII_PERSON, 0.8), 0);
	/* equal confidence: the more specific type */
	assert_int_equal(ca_pii_spans_push(&s, 100, 110, CA_PII_PHONE, 0.8), 0);
	assert_int_equal(ca_pii_spans_push(&s, 100, 109, CA_PII_US_SSN, 0.8), 0);
	/* below the floor: dropped */
	assert_int_equal(ca_pii_spans_push(&s, 120, 125, CA_PII_PERSON, 0.3), 0);
	assert_int_equal(ca_pii_resolve(&s, 0.5), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.v[0].type, CA_PII_CREDIT_CARD);
	assert_int_equal(s.v[1].type, CA_PII_STREET_ADDRESS);
	assert_int_equal(s.v[2].type, CA_PII_PERSON);
	assert_int_equal(s.v[2].begin, 70);
	assert_int_equal(s.v[2].end, 90);
	assert_true(s.v[2].confidence > 0.79f);
	assert_int_equal(s.v[3].type, CA_PII_US_SSN);
	ca_pii_spans_done(&s);
}

static void test_redact(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	ca_pii_counts c;
	char *out = NULL;
	ca_err err = {0};
	const char *t = "Mail ann@example.com or call +1 555 123 4567. Thanks, Mary Smith";

	(void)state;
	assert_int_equal(ca_pii_redact(p, t, strlen(t), &out, &c, &s, &err), 0);
	assert_string_equal(out, "Mail [EMAIL] or call [PHONE]. Thanks, [PERSON]");
	assert_int_equal(c.n[CA_PII_EMAIL], 1);
	assert_int_equal(c.n[CA_PII_PHONE], 1);
	assert_int_equal(c.n[CA_PII_PERSON], 1);
	assert_int_equal(c.n[CA_PII_CREDIT_CARD], 0);
	assert_int_equal(s.n, 3);
	assert_true(has(&s, CA_PII_EMAIL, t, "ann@example.com"));
	free(out);
	/* out-of-order spans are refused */
	s.n = 0;
	assert_int_equal(ca_pii_spans_push(&s, 10, 12, CA_PII_EMAIL, 1.0), 0);
	assert_int_equal(ca_pii_spans_push(&s, 5, 8, CA_PII_EMAIL, 1.0), 0);
	assert_int_equal(ca_pii_apply(t, strlen(t), &s, &out, NULL), CA_EINVAL);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_utf8_offsets(void **state)
{
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	ca_err err = {0};
	char *out = NULL;
	/* two-, three- and four-byte characters before every finding */
	const char *t = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x94 \xf0\x9f\x8e\x89 card 4111111111111111, "
			"J\xc3\xb6rg writes to j\xc3\xb6rg@example.com? no: anna@example.com";

	(void)state;
	find(p, t, &s);
	assert_true(has(&s, CA_PII_CREDIT_CARD, t, "4111111111111111"));
	assert_true(has(&s, CA_PII_EMAIL, t, "anna@example.com"));
	assert_int_equal(ca_pii_redact(p, t, strlen(t), &out, NULL, NULL, &err), 0);
	assert_non_null(strstr(out, "\xf0\x9f\x8e\x89 card [CREDIT_CARD], "));
	assert_non_null(strstr(out, "no: [EMAIL]"));
	free(out);
	/* invalid UTF-8 is refused, naming the byte */
	assert_int_equal(ca_pii_find(p, "ab\xff", 3, &s, &err), CA_EUTF8);
	assert_non_null(strstr(err.message, "byte 2"));
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_patterns(void **state)
{
	static const char *const cues[] = {"order", NULL};
	ca_pii *p = new_pii(true);
	ca_pii_spans s = {0};
	ca_err err = {0};
	const char *t1 = "my order ORD-123456 never came";
	const char *t2 = "account 5551234567 is locked";

	(void)state;
	assert_int_equal(ca_pii_add_pattern(p, CA_PII_ORDER_NUMBER, "ORD-[0-9]{6}", cues, &err), 0);
	assert_int_equal(ca_pii_add_pattern(p, CA_PII_ACCOUNT_NUMBER, "\\b[0-9]{10}\\b", NULL, &err), 0);
	assert_int_equal(ca_pii_add_pattern(p, CA_PII_PHONE, "[0-9]+", NULL, &err), CA_EINVAL);
	ca_err_clear(&err);
	assert_int_equal(ca_pii_add_pattern(p, CA_PII_ORDER_NUMBER, "(", NULL, &err), CA_EPARSE);
	find(p, t1, &s);
	assert_true(has(&s, CA_PII_ORDER_NUMBER, t1, "ORD-123456"));
	find(p, t2, &s);
	assert_true(has(&s, CA_PII_ACCOUNT_NUMBER, t2, "5551234567"));
	assert_int_equal(count(&s, CA_PII_PHONE), 0);
	ca_pii_spans_done(&s);
	ca_pii_free(p);
}

static void test_lexicon_load(void **state)
{
	ca_pii_lexicon *lx = test_lexicon();
	ca_pii_lexicon_sizes z;
	ca_pii_lexicon_paths missing = {.words = "/nonexistent/words"};
	ca_pii_lexicon *none = NULL;
	ca_err err = {0};

	(void)state;
	ca_pii_lexicon_count(lx, &z);
	assert_int_equal(z.proper, 3);
	assert_int_equal(z.given, 7);
	assert_int_equal(z.surnames, 3);
	assert_true(z.common > 40);
	assert_ptr_equal(ca_pii_lexicon_ref(lx), lx);
	ca_pii_lexicon_unref(lx);
	ca_pii_lexicon_unref(lx);
	ca_pii_lexicon_unref(NULL);
	assert_int_equal(ca_pii_lexicon_load(&missing, true, &none, &err), CA_EIO);
	assert_int_equal(ca_pii_lexicon_load(&missing, false, &none, &err), 0);
	ca_pii_lexicon_unref(none);
	assert_string_equal(ca_pii_type_name(CA_PII_STREET_ADDRESS), "STREET_ADDRESS");
	assert_int_equal(ca_pii_type_parse("IBAN"), CA_PII_IBAN);
	assert_int_equal(ca_pii_type_parse("NOPE"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_iban_checksum),
		cmocka_unit_test(test_ssn_rules),
		cmocka_unit_test(test_card),
		cmocka_unit_test(test_iban),
		cmocka_unit_test(test_ssn),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_phone_national_and_call_cues),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_person_contacts),
		cmocka_unit_test(test_person_cues),
		cmocka_unit_test(test_person_lists),
		cmocka_unit_test(test_person_negative),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_utf8_offsets),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_lexicon_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
