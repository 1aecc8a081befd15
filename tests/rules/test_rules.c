/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the rules engine (src/rules): every operator both ways,
 * absent fields, numbers against numeric strings, dates, Unicode case
 * folding, nesting, every compile error with the exact location it reports,
 * the canonical JSON round trip, and the list of fields a rule reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("bad test JSON (%s): %s", je.text, text);
	return j;
}

static ca_rule *compile_text(const char *text)
{
	json_t *spec = load(text);
	ca_rule *r = NULL;
	ca_err err;
	ca_err_clear(&err);
	int rc = ca_rule_compile(spec, "rule", &r, &err);
	if (rc != 0)
		fail_msg("compile failed (%s at %s): %s", err.message, err.where, text);
	json_decref(spec);
	return r;
}

static bool eval_text(const ca_rule *r, const char *record)
{
	json_t *rec = load(record);
	bool b = ca_rule_eval(r, rec);
	json_decref(rec);
	return b;
}

/*
 * One case of a single-condition rule on field "f": value is JSON text or
 * NULL for no value; record is JSON text of the whole record.
 */
struct op_case {
	const char *op;
	const char *value;
	const char *record;
	bool want;
};

static void run_cases(const struct op_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct op_case *c = &cases[i];
		json_t *cond = json_pack("{s:s, s:s}", "field", "f", "operator", c->op);
		assert_non_null(cond);
		if (c->value)
			assert_int_equal(json_object_set_new(cond, "value", load(c->value)), 0);
		json_t *spec = json_pack("{s:s, s:[o]}", "match", "all", "conditions", cond);
		assert_non_null(spec);
		ca_rule *r = NULL;
		ca_err err;
		ca_err_clear(&err);
		int rc = ca_rule_compile(spec, "t", &r, &err);
		if (rc != 0)
			fail_msg("case %zu (%s %s): compile failed: %s at %s", i, c->op,
				 c->value ? c->value : "-", err.message, err.where);
		bool got = eval_text(r, c->record);
		if (got != c->want)
			fail_msg("case %zu: %s %s on %s gave %s", i, c->op, c->value ? c->value : "-",
				 c->record, got ? "true" : "false");
		ca_rule_free(r);
		json_decref(spec);
	}
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* ---- operators ---- */

static void test_equals(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"equals", "\"product_defect\"", "{\"f\": \"product_defect\"}", true},
		{"equals", "\"product_defect\"", "{\"f\": \"Product_Defect\"}", true},
		{"equals", "\"PRODUCT_DEFECT\"", "{\"f\": \"product_defect\"}", true},
		{"equals", "\"product_defect\"", "{\"f\": \"product_defects\"}", false},
		{"equals", "\"product_defect\"", "{\"f\": \"product\"}", false},
		{"equals", "\"product_defect\"", "{\"g\": \"product_defect\"}", false},
		{"equals", "\"x\"", "{\"f\": null}", false},
		{"equals", "\"\"", "{}", true},   /* absent is empty */
		{"equals", "\"\"", "{\"f\": null}", true},
		/* numbers compare numerically when both sides parse */
		{"equals", "5", "{\"f\": 5}", true},
		{"equals", "5", "{\"f\": \"5\"}", true},
		{"equals", "\"5\"", "{\"f\": 5.0}", true},
		{"equals", "\"5\"", "{\"f\": \"05\"}", true},
		{"equals", "\"5.0\"", "{\"f\": \"5\"}", true},
		{"equals", "\"1e3\"", "{\"f\": 1000}", true},
		{"equals", "5", "{\"f\": 6}", false},
		{"equals", "5", "{\"f\": \"5 \"}", false},
		{"equals", "5", "{\"f\": \"five\"}", false},
		/* integers beyond 2^53 stay exact */
		{"equals", "\"9007199254740993\"", "{\"f\": 9007199254740992}", false},
		{"equals", "\"9007199254740993\"", "{\"f\": 9007199254740993}", true},
		/* booleans read as "true"/"false" */
		{"equals", "\"true\"", "{\"f\": true}", true},
		{"equals", "\"TRUE\"", "{\"f\": true}", true},
		{"equals", "\"true\"", "{\"f\": false}", false},
		{"equals", "false", "{\"f\": \"False\"}", true},
		{"equals", "true", "{\"f\": false}", false},
		/* arrays and objects in a record never equal anything */
		{"equals", "\"a\"", "{\"f\": [\"a\"]}", false},
	};
	RUN(cases);
}

static void test_not_equals(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"not_equals", "\"open\"", "{\"f\": \"closed\"}", true},
		{"not_equals", "\"open\"", "{\"f\": \"OPEN\"}", false},
		{"not_equals", "\"open\"", "{\"f\": \"open\"}", false},
		{"not_equals", "\"open\"", "{}", true},
		{"not_equals", "\"open\"", "{\"f\": null}", true},
		{"not_equals", "3", "{\"f\": \"3.00\"}", false},
		{"not_equals", "3", "{\"f\": 4}", true},
		{"not_equals", "\"true\"", "{\"f\": true}", false},
		{"not_equals", "\"a\"", "{\"f\": {\"a\": 1}}", true},
	};
	RUN(cases);
}

static void test_contains(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"contains", "\"refund\"", "{\"f\": \"I want a REFUND now\"}", true},
		{"contains", "\"Refund\"", "{\"f\": \"refund\"}", true},
		{"contains", "\"refund\"", "{\"f\": \"I want a replacement\"}", false},
		{"contains", "\"refund\"", "{\"f\": \"refun\"}", false},
		{"contains", "\"refund\"", "{}", false},
		{"contains", "\"234\"", "{\"f\": 12345}", true},
		{"contains", "\"0.1\"", "{\"f\": 0.1}", true}, /* shortest text form of a real */
		{"contains", "5", "{\"f\": \"order 1500\"}", true},
		{"contains", "\"ru\"", "{\"f\": true}", true},
		{"does_not_contain", "\"refund\"", "{\"f\": \"I want a replacement\"}", true},
		{"does_not_contain", "\"refund\"", "{\"f\": \"Refund please\"}", false},
		{"does_not_contain", "\"refund\"", "{}", true},
		{"does_not_contain", "\"refund\"", "{\"f\": null}", true},
	};
	RUN(cases);
}

static void test_begins_ends(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"begins_with", "\"re:\"", "{\"f\": \"RE: your order\"}", true},
		{"begins_with", "\"re:\"", "{\"f\": \"Fwd: RE: your order\"}", false},
		{"begins_with", "\"re:\"", "{\"f\": \"re\"}", false},
		{"begins_with", "\"re:\"", "{}", false},
		{"begins_with", "\"B07\"", "{\"f\": \"b07xyz\"}", true},
		{"begins_with", "12", "{\"f\": 1234}", true},
		{"ends_with", "\"@example.com\"", "{\"f\": \"ann@EXAMPLE.com\"}", true},
		{"ends_with", "\"@example.com\"", "{\"f\": \"ann@example.com.evil\"}", false},
		{"ends_with", "\"@example.com\"", "{\"f\": \"com\"}", false},
		{"ends_with", "\"@example.com\"", "{\"f\": null}", false},
		{"ends_with", "\"se\"", "{\"f\": false}", true},
	};
	RUN(cases);
}

static void test_in_not_in(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"in", "[\"billing\", \"refund\"]", "{\"f\": \"Refund\"}", true},
		{"in", "[\"billing\", \"refund\"]", "{\"f\": \"billing\"}", true},
		{"in", "[\"billing\", \"refund\"]", "{\"f\": \"shipping\"}", false},
		{"in", "[\"billing\", \"refund\"]", "{\"f\": \"bill\"}", false},
		{"in", "[\"billing\", \"refund\"]", "{}", false},
		{"in", "[1, \"2\", \"x\"]", "{\"f\": 2}", true},
		{"in", "[1, \"2\", \"x\"]", "{\"f\": \"1.0\"}", true},
		{"in", "[1, \"2\", \"x\"]", "{\"f\": \"X\"}", true},
		{"in", "[1, \"2\", \"x\"]", "{\"f\": 3}", false},
		{"in", "[\"true\"]", "{\"f\": true}", true},
		{"not_in", "[\"billing\", \"refund\"]", "{\"f\": \"shipping\"}", true},
		{"not_in", "[\"billing\", \"refund\"]", "{\"f\": \"BILLING\"}", false},
		{"not_in", "[\"billing\", \"refund\"]", "{}", true},
		{"not_in", "[1, 2]", "{\"f\": \"2\"}", false},
		{"not_in", "[1, 2]", "{\"f\": 3}", true},
	};
	RUN(cases);
}

static void test_is_empty(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"is_empty", NULL, "{}", true},
		{"is_empty", NULL, "{\"f\": null}", true},
		{"is_empty", NULL, "{\"f\": \"\"}", true},
		{"is_empty", NULL, "{\"f\": \" \\t\\r\\n\"}", true},
		{"is_empty", NULL, "{\"f\": \"\\u00a0\\u2003\\u3000 \"}", true}, /* Unicode spaces */
		{"is_empty", "null", "{\"f\": \"\"}", true},                     /* null value tolerated */
		{"is_empty", NULL, "{\"f\": \"x\"}", false},
		{"is_empty", NULL, "{\"f\": \" x \"}", false},
		{"is_empty", NULL, "{\"f\": \"\\u00a0x\"}", false},
		{"is_empty", NULL, "{\"f\": 0}", false},
		{"is_empty", NULL, "{\"f\": false}", false},
		{"is_empty", NULL, "{\"g\": \"x\"}", true},
		{"is_not_empty", NULL, "{\"f\": \"x\"}", true},
		{"is_not_empty", NULL, "{\"f\": 0}", true},
		{"is_not_empty", NULL, "{\"f\": false}", true},
		{"is_not_empty", NULL, "{}", false},
		{"is_not_empty", NULL, "{\"f\": null}", false},
		{"is_not_empty", NULL, "{\"f\": \"  \"}", false},
	};
	RUN(cases);
}

static void test_greater_less_numbers(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"greater_than", "9", "{\"f\": 10}", true},
		{"greater_than", "9", "{\"f\": \"10\"}", true}, /* numerically, not as text */
		{"greater_than", "\"9\"", "{\"f\": \"10\"}", true},
		{"greater_than", "9", "{\"f\": 9}", false},
		{"greater_than", "9", "{\"f\": 8.5}", false},
		{"greater_than", "10", "{\"f\": 10.5}", true},
		{"greater_than", "-1", "{\"f\": \"-0.5\"}", true},
		{"greater_than", "\"1.5e2\"", "{\"f\": 151}", true},
		{"greater_than", "1", "{\"f\": \"abc\"}", false},
		{"greater_than", "1", "{\"f\": \"0x10\"}", false}, /* no hex */
		{"greater_than", "1", "{\"f\": \"inf\"}", false},
		{"greater_than", "1", "{\"f\": \" 5\"}", false},
		{"greater_than", "1", "{\"f\": \"5 apples\"}", false},
		{"greater_than", "1", "{\"f\": \"1e400\"}", false}, /* overflows a double */
		{"greater_than", "0", "{\"f\": true}", false},
		{"greater_than", "0", "{}", false},
		{"greater_than", "0", "{\"f\": null}", false},
		{"greater_than", "9007199254740992", "{\"f\": 9007199254740993}", true},
		{"less_than", "100", "{\"f\": 99}", true},
		{"less_than", "100", "{\"f\": \"99.99\"}", true},
		{"less_than", "100", "{\"f\": 100}", false},
		{"less_than", "100", "{\"f\": \"1000\"}", false},
		{"less_than", "100", "{\"f\": \"abc\"}", false},
		{"less_than", "100", "{}", false},
		{"less_than", "100", "{\"f\": \"2024-01-02\"}", false}, /* a date is not a number */
	};
	RUN(cases);
}

static void test_greater_less_dates(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"greater_than", "\"2024-01-02\"", "{\"f\": \"2024-01-02T10:00Z\"}", true},
		{"greater_than", "\"2024-01-02\"", "{\"f\": \"2024-01-02T00:00:01Z\"}", true},
		{"greater_than", "\"2024-01-02\"", "{\"f\": \"2024-01-02\"}", false},
		{"greater_than", "\"2024-01-02\"", "{\"f\": \"2024-01-02T00:00Z\"}", false},
		{"greater_than", "\"2024-01-02\"", "{\"f\": \"2024-01-01T23:59:59Z\"}", false},
		{"greater_than", "\"2024-01-02T10:00Z\"", "{\"f\": \"2024-01-03\"}", true},
		{"greater_than", "\"2024-01-02T10:00Z\"", "{\"f\": \"2024-01-02T10:00:30\"}", true},
		{"greater_than", "\"2023-12-31\"", "{\"f\": \"2024-01-01\"}", true},
		{"greater_than", "\"2024-02-28\"", "{\"f\": \"2024-02-29\"}", true},
		{"greater_than", "\"2023-01-01\"", "{\"f\": \"2023-02-29\"}", false}, /* not a date */
		{"greater_than", "\"2023-01-01\"", "{\"f\": \"2024-13-01\"}", false},
		{"greater_than", "\"2023-01-01\"", "{\"f\": \"2024-01-02T24:00Z\"}", false},
		{"greater_than", "\"2023-01-01\"", "{\"f\": \"2024-01-02T10\"}", false},
		{"greater_than", "\"2023-01-01\"", "{\"f\": \"2024-01-02 junk\"}", false},
		{"greater_than", "\"2023-01-01\"", "{\"f\": \"tomorrow\"}", false},
		{"greater_than", "\"2023-01-01\"", "{\"f\": 20240101}", false},
		{"greater_than", "\"2023-01-01\"", "{}", false},
		{"less_than", "\"2024-01-02T10:00Z\"", "{\"f\": \"2024-01-02\"}", true},
		{"less_than", "\"2024-01-02\"", "{\"f\": \"2024-01-01T23:59:59Z\"}", true},
		{"less_than", "\"2024-01-02\"", "{\"f\": \"2024-01-02\"}", false},
		{"less_than", "\"2000-01-01\"", "{\"f\": \"1999-12-31\"}", true},
		{"less_than", "\"2000-01-01\"", "{\"f\": \"2000-01-01T00:01Z\"}", false},
	};
	RUN(cases);
}

static void test_unicode_case_folding(void **state)
{
	(void)state;
	static const struct op_case cases[] = {
		{"equals", "\"Café\"", "{\"f\": \"CAFÉ\"}", true},
		{"equals", "\"CAFÉ\"", "{\"f\": \"café\"}", true},
		{"equals", "\"Café\"", "{\"f\": \"Caff\"}", false},
		{"not_equals", "\"Café\"", "{\"f\": \"CAFÉ\"}", false},
		{"contains", "\"ÉCOLE\"", "{\"f\": \"une école de Paris\"}", true},
		{"contains", "\"straße\"", "{\"f\": \"STRASSE 5\"}", true},
		{"begins_with", "\"Ärger\"", "{\"f\": \"ÄRGER mit dem Router\"}", true},
		{"begins_with", "\"caf\"", "{\"f\": \"CAFÉ\"}", true},
		{"ends_with", "\"MÜNCHEN\"", "{\"f\": \"Büro München\"}", true},
		{"in", "[\"Zürich\", \"Genève\"]", "{\"f\": \"GENÈVE\"}", true},
		{"not_in", "[\"Zürich\", \"Genève\"]", "{\"f\": \"BERN\"}", true},
		{"equals", "\"ΣΟΦΊΑ\"", "{\"f\": \"σοφία\"}", true},
	};
	RUN(cases);
}

/* Text that is not valid UTF-8 cannot be folded; it is still compared,
 * with its ASCII letters lowercased, rather than making evaluation fail. */
static void test_invalid_utf8_record(void **state)
{
	(void)state;
	ca_rule *r = compile_text("{\"conditions\": [{\"field\": \"f\", \"operator\": \"contains\", "
				  "\"value\": \"abc\"}]}");
	json_t *rec = json_object();
	assert_int_equal(json_object_set_new(rec, "f", json_stringn_nocheck("\xC3(ABC\xFF", 6)), 0);
	assert_true(ca_rule_eval(r, rec));
	json_decref(rec);
	ca_rule_free(r);
}

/* ---- groups ---- */

static void test_nested_all_any(void **state)
{
	(void)state;
	/* category = defect AND (priority in [high, urgent] OR amount > 1000) */
	ca_rule *r = compile_text(
		"{\"match\": \"all\", \"conditions\": ["
		" {\"field\": \"category\", \"operator\": \"equals\", \"value\": \"defect\"},"
		" {\"match\": \"any\", \"conditions\": ["
		"  {\"field\": \"priority\", \"operator\": \"in\", \"value\": [\"high\", \"urgent\"]},"
		"  {\"field\": \"amount\", \"operator\": \"greater_than\", \"value\": 1000}]}]}");
	assert_true(eval_text(r, "{\"category\": \"Defect\", \"priority\": \"high\"}"));
	assert_true(eval_text(r, "{\"category\": \"defect\", \"priority\": \"low\", \"amount\": 1500}"));
	assert_true(eval_text(r, "{\"category\": \"defect\", \"priority\": \"urgent\", \"amount\": 5}"));
	assert_false(eval_text(r, "{\"category\": \"defect\", \"priority\": \"low\", \"amount\": 5}"));
	assert_false(eval_text(r, "{\"category\": \"defect\"}"));
	assert_false(eval_text(r, "{\"category\": \"billing\", \"priority\": \"high\"}"));
	assert_false(eval_text(r, "{}"));
	ca_rule_free(r);

	r = compile_text("{\"match\": \"any\", \"conditions\": ["
			 " {\"field\": \"a\", \"operator\": \"equals\", \"value\": \"1\"},"
			 " {\"match\": \"all\", \"conditions\": ["
			 "  {\"field\": \"b\", \"operator\": \"is_not_empty\"},"
			 "  {\"field\": \"c\", \"operator\": \"is_empty\"}]}]}");
	assert_true(eval_text(r, "{\"a\": 1}"));
	assert_true(eval_text(r, "{\"b\": \"x\"}"));
	assert_false(eval_text(r, "{\"b\": \"x\", \"c\": \"y\"}"));
	assert_false(eval_text(r, "{\"a\": 2, \"c\": \"y\"}"));
	ca_rule_free(r);
}

static void test_match_defaults_to_all(void **state)
{
	(void)state;
	ca_rule *r = compile_text("{\"conditions\": ["
				  " {\"field\": \"a\", \"operator\": \"is_not_empty\"},"
				  " {\"field\": \"b\", \"operator\": \"is_not_empty\"}]}");
	assert_true(eval_text(r, "{\"a\": 1, \"b\": 2}"));
	assert_false(eval_text(r, "{\"a\": 1}"));
	json_t *j = ca_rule_to_json(r);
	assert_string_equal(json_string_value(json_object_get(j, "match")), "all");
	json_decref(j);
	ca_rule_free(r);
}

/* Builds a chain of `levels` groups, the innermost holding one condition. */
static json_t *nested(int levels)
{
	json_t *inner = json_pack("{s:s, s:s}", "field", "f", "operator", "is_empty");
	for (int i = 0; i < levels; i++)
		inner = json_pack("{s:s, s:[o]}", "match", i % 2 ? "any" : "all", "conditions", inner);
	return inner;
}

static void test_depth_limit(void **state)
{
	(void)state;
	json_t *ok = nested(16);
	ca_rule *r = NULL;
	ca_err err;
	ca_err_clear(&err);
	assert_int_equal(ca_rule_compile(ok, "r", &r, &err), 0);
	assert_true(eval_text(r, "{}"));
	assert_false(eval_text(r, "{\"f\": \"x\"}"));
	ca_rule_free(r);
	json_decref(ok);

	json_t *deep = nested(17);
	r = NULL;
	ca_err_clear(&err);
	assert_int_equal(ca_rule_compile(deep, "r", &r, &err), CA_EINVAL);
	assert_null(r);
	assert_int_equal(err.code, CA_EINVAL);
	assert_non_null(strstr(err.message, "16"));
	/* The 17th group's location; longer than err.where holds, so it is truncated. */
	ca_buf want;
	ca_buf_init(&want);
	assert_int_equal(ca_buf_puts(&want, "r"), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(ca_buf_puts(&want, ".conditions[0]"), 0);
	assert_true(want.len > sizeof(err.where) - 1);
	assert_int_equal(strlen(err.where), sizeof(err.where) - 1);
	assert_memory_equal(err.where, want.data, sizeof(err.where) - 1);
	ca_buf_done(&want);
	json_decref(deep);

	/* A shallower group list nested inside a deep one fails the same way. */
	ca_err_clear(&err);
	deep = json_pack("{s:[o]}", "conditions", nested(16));
	assert_int_equal(ca_rule_compile(deep, "", &r, &err), CA_EINVAL);
	assert_int_equal(strncmp(err.where, "conditions[0].conditions[0]", 27), 0);
	json_decref(deep);
}

static void test_record_not_object(void **state)
{
	(void)state;
	ca_rule *r = compile_text("{\"conditions\": [{\"field\": \"f\", \"operator\": \"is_empty\"}]}");
	assert_true(eval_text(r, "[1, 2]"));
	assert_true(ca_rule_eval(r, NULL));
	ca_rule_free(r);
	assert_false(ca_rule_eval(NULL, NULL));
	ca_rule_free(NULL);
}

/* ---- compile errors ---- */

struct err_case {
	const char *spec;
	const char *path;
	const char *where;
	const char *msg1; /* substrings the message must contain */
	const char *msg2;
};

#define C(body) "{\"match\": \"all\", \"conditions\": [" body "]}"
#define OKC "{\"field\": \"a\", \"operator\": \"equals\", \"value\": \"x\"}"

static const struct err_case err_cases[] = {
	/* operator */
	{C(OKC ", {\"field\": \"b\", \"operator\": \"equal\", \"value\": \"x\"}"),
	 "update_rules[2].condition", "update_rules[2].condition.conditions[1].operator",
	 "'equal'", "equals, not_equals, contains, does_not_contain, begins_with, ends_with, "
		    "in, not_in, is_empty, is_not_empty, greater_than, less_than"},
	{C("{\"field\": \"b\", \"operator\": \"Equals\", \"value\": \"x\"}"), "r",
	 "r.conditions[0].operator", "'Equals'", "greater_than"},
	{C("{\"field\": \"b\", \"operator\": 5, \"value\": \"x\"}"), "r",
	 "r.conditions[0].operator", "a number", "is_empty"},
	{C("{\"field\": \"b\", \"value\": \"x\"}"), "r", "r.conditions[0].operator", "no operator",
	 "less_than"},
	/* field */
	{C("{\"operator\": \"equals\", \"value\": \"x\"}"), "r", "r.conditions[0].field", "no field",
	 NULL},
	{C("{\"field\": 3, \"operator\": \"equals\", \"value\": \"x\"}"), "r",
	 "r.conditions[0].field", "a number", NULL},
	{C("{\"field\": \"\", \"operator\": \"equals\", \"value\": \"x\"}"), "r",
	 "r.conditions[0].field", "empty", NULL},
	/* value of scalar operators */
	{C("{\"field\": \"a\", \"operator\": \"equals\"}"), "r", "r.conditions[0].value",
	 "equals needs a value", NULL},
	{C("{\"field\": \"a\", \"operator\": \"contains\", \"value\": null}"), "r",
	 "r.conditions[0].value", "contains", "null"},
	{C("{\"field\": \"a\", \"operator\": \"begins_with\", \"value\": [\"x\"]}"), "r",
	 "r.conditions[0].value", "begins_with", "an array"},
	{C("{\"field\": \"a\", \"operator\": \"ends_with\", \"value\": {\"x\": 1}}"), "r",
	 "r.conditions[0].value", "ends_with", "an object"},
	/* value of ordered operators */
	{C("{\"field\": \"a\", \"operator\": \"greater_than\"}"), "r", "r.conditions[0].value",
	 "greater_than needs a value", NULL},
	{C("{\"field\": \"a\", \"operator\": \"greater_than\", \"value\": \"abc\"}"), "r",
	 "r.conditions[0].value", "'abc'", "ISO 8601"},
	{C("{\"field\": \"a\", \"operator\": \"less_than\", \"value\": \"2023-02-29\"}"), "r",
	 "r.conditions[0].value", "'2023-02-29'", "less_than"},
	{C("{\"field\": \"a\", \"operator\": \"less_than\", \"value\": true}"), "r",
	 "r.conditions[0].value", "less_than", "a boolean"},
	/* value of list operators */
	{C("{\"field\": \"a\", \"operator\": \"in\"}"), "r", "r.conditions[0].value",
	 "in needs a value", NULL},
	{C("{\"field\": \"a\", \"operator\": \"in\", \"value\": \"x\"}"), "r",
	 "r.conditions[0].value", "non-empty array", "a string"},
	{C("{\"field\": \"a\", \"operator\": \"not_in\", \"value\": []}"), "r",
	 "r.conditions[0].value", "not_in", "an empty array"},
	{C("{\"field\": \"a\", \"operator\": \"in\", \"value\": [\"x\", true]}"), "r",
	 "r.conditions[0].value[1]", "a boolean", NULL},
	{C("{\"field\": \"a\", \"operator\": \"not_in\", \"value\": [1, 2, null]}"), "r",
	 "r.conditions[0].value[2]", "null", NULL},
	/* value of operators that take none */
	{C("{\"field\": \"a\", \"operator\": \"is_empty\", \"value\": \"x\"}"), "r",
	 "r.conditions[0].value", "is_empty takes no value", NULL},
	{C("{\"field\": \"a\", \"operator\": \"is_not_empty\", \"value\": 0}"), "r",
	 "r.conditions[0].value", "is_not_empty takes no value", NULL},
	/* unknown keys */
	{C("{\"field\": \"a\", \"operator\": \"equals\", \"valu\": \"x\"}"), "r",
	 "r.conditions[0].valu", "'valu'", "field, operator, value"},
	{"{\"match\": \"all\", \"name\": \"x\", \"conditions\": [" OKC "]}", "r", "r.name", "'name'",
	 "match, conditions"},
	/* match */
	{"{\"match\": \"some\", \"conditions\": [" OKC "]}", "r", "r.match", "'some'", "\"any\""},
	{"{\"match\": 1, \"conditions\": [" OKC "]}", "r", "r.match", "a number", NULL},
	/* conditions */
	{"{\"match\": \"all\"}", "r", "r.conditions", "no conditions", NULL},
	{"{\"match\": \"any\", \"conditions\": []}", "r", "r.conditions", "empty condition list",
	 NULL},
	{"{\"match\": \"any\", \"conditions\": {}}", "r", "r.conditions", "an array", "an object"},
	{C("\"a = 1\""), "r", "r.conditions[0]", "must be an object", "a string"},
	/* nested locations */
	{C(OKC ", {\"match\": \"any\", \"conditions\": [" OKC
	       ", {\"field\": \"b\", \"operator\": \"like\", \"value\": \"x\"}]}"),
	 "rule", "rule.conditions[1].conditions[1].operator", "'like'", "not_in"},
	{C("{\"match\": \"any\", \"conditions\": []}"), "rule", "rule.conditions[0].conditions",
	 "empty condition list", NULL},
	{C("{\"match\": \"one\", \"conditions\": [" OKC "]}"), "rule", "rule.conditions[0].match",
	 "'one'", NULL},
	/* the top level */
	{"[1]", "settings.rule", "settings.rule", "must be an object", "an array"},
	{OKC, "settings.rule", "settings.rule", "single condition", NULL},
	/* no path prefix */
	{C("{\"field\": \"b\", \"operator\": \"eq\", \"value\": \"x\"}"), NULL,
	 "conditions[0].operator", "'eq'", NULL},
	{C("{\"field\": \"b\", \"operator\": \"eq\", \"value\": \"x\"}"), "",
	 "conditions[0].operator", "'eq'", NULL},
	{"{}", NULL, "conditions", "no conditions", NULL},
};

static void test_compile_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		json_t *spec = load(c->spec);
		static char dummy;
		ca_rule *sentinel = (ca_rule *)(void *)&dummy;
		ca_rule *r = sentinel;
		ca_err err;
		ca_err_clear(&err);
		int rc = ca_rule_compile(spec, c->path, &r, &err);
		if (rc != CA_EINVAL)
			fail_msg("case %zu (%s): returned %d", i, c->spec, rc);
		assert_ptr_equal(r, sentinel); /* output untouched on failure */
		assert_int_equal(err.code, CA_EINVAL);
		if (strcmp(err.where, c->where) != 0)
			fail_msg("case %zu (%s): where '%s', want '%s' (%s)", i, c->spec, err.where,
				 c->where, err.message);
		if (c->msg1 && !strstr(err.message, c->msg1))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, c->msg1);
		if (c->msg2 && !strstr(err.message, c->msg2))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, c->msg2);
		/* Without an err the code is the same. */
		assert_int_equal(ca_rule_compile(spec, c->path, &r, NULL), CA_EINVAL);
		json_decref(spec);
	}
}

static void test_compile_null_spec(void **state)
{
	(void)state;
	ca_rule *r = NULL;
	ca_err err;
	ca_err_clear(&err);
	assert_int_equal(ca_rule_compile(NULL, "x", &r, &err), CA_EINVAL);
	assert_null(r);
	assert_string_equal(err.where, "x");
}

/* ---- round trip ---- */

static const char *const rt_specs[] = {
	C("{\"field\": \"category\", \"operator\": \"equals\", \"value\": \"Product_Defect\"}"),
	C("{\"field\": \"n\", \"operator\": \"equals\", \"value\": 5}"
	  ", {\"field\": \"b\", \"operator\": \"not_equals\", \"value\": true}"),
	"{\"conditions\": [{\"field\": \"s\", \"operator\": \"contains\", \"value\": \"café\"}]}",
	"{\"match\": \"any\", \"conditions\": ["
	" {\"field\": \"s\", \"operator\": \"does_not_contain\", \"value\": \"x\"},"
	" {\"field\": \"s\", \"operator\": \"begins_with\", \"value\": \"RE:\"},"
	" {\"field\": \"s\", \"operator\": \"ends_with\", \"value\": 0.5},"
	" {\"field\": \"p\", \"operator\": \"in\", \"value\": [\"high\", 2, 2.5]},"
	" {\"field\": \"p\", \"operator\": \"not_in\", \"value\": [\"low\"]},"
	" {\"field\": \"e\", \"operator\": \"is_empty\", \"value\": null},"
	" {\"field\": \"e\", \"operator\": \"is_not_empty\"},"
	" {\"match\": \"all\", \"conditions\": ["
	"  {\"field\": \"n\", \"operator\": \"greater_than\", \"value\": \"10\"},"
	"  {\"field\": \"d\", \"operator\": \"less_than\", \"value\": \"2024-01-02T10:00Z\"}]}]}",
};

static const char *const rt_records[] = {
	"{}",
	"{\"category\": \"product_defect\", \"n\": 5, \"b\": false}",
	"{\"category\": \"other\", \"n\": \"5.0\", \"b\": true}",
	"{\"s\": \"RE: Café au lait\", \"p\": \"HIGH\"}",
	"{\"s\": \"x 0.5\", \"p\": \"low\", \"e\": \" \"}",
	"{\"s\": \"y\", \"p\": \"low\", \"e\": \"z\"}",
	"{\"n\": 11, \"d\": \"2024-01-02\", \"p\": \"low\", \"s\": \"xx\", \"e\": \"q\"}",
	"{\"n\": 11, \"d\": \"2024-01-03\", \"p\": \"low\", \"s\": \"xx\", \"e\": \"q\"}",
	"{\"p\": \"2.50\", \"s\": \"x\", \"e\": \"q\"}",
};

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rt_specs) / sizeof(rt_specs[0]); i++) {
		ca_rule *r1 = compile_text(rt_specs[i]);
		json_t *j1 = ca_rule_to_json(r1);
		assert_non_null(j1);
		ca_rule *r2 = NULL;
		ca_err err;
		ca_err_clear(&err);
		if (ca_rule_compile(j1, "rt", &r2, &err) != 0)
			fail_msg("spec %zu: canonical form does not compile: %s at %s", i, err.message,
				 err.where);
		json_t *j2 = ca_rule_to_json(r2);
		assert_true(json_equal(j1, j2));
		for (size_t k = 0; k < sizeof(rt_records) / sizeof(rt_records[0]); k++) {
			if (eval_text(r1, rt_records[k]) != eval_text(r2, rt_records[k]))
				fail_msg("spec %zu record %zu: results differ after round trip", i, k);
		}
		json_decref(j1);
		json_decref(j2);
		ca_rule_free(r1);
		ca_rule_free(r2);
	}
}

/* The canonical form: "match" always present, value kept with its JSON
 * type, no value for is_empty/is_not_empty. */
static void test_canonical_json(void **state)
{
	(void)state;
	ca_rule *r = compile_text(
		"{\"conditions\": ["
		" {\"value\": 5, \"operator\": \"greater_than\", \"field\": \"n\"},"
		" {\"field\": \"e\", \"operator\": \"is_empty\", \"value\": null},"
		" {\"conditions\": [{\"field\": \"p\", \"operator\": \"in\", \"value\": [\"A\", 1]}],"
		"  \"match\": \"any\"}]}");
	json_t *j = ca_rule_to_json(r);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
		s, "{\"conditions\":["
		   "{\"field\":\"n\",\"operator\":\"greater_than\",\"value\":5},"
		   "{\"field\":\"e\",\"operator\":\"is_empty\"},"
		   "{\"conditions\":[{\"field\":\"p\",\"operator\":\"in\",\"value\":[\"A\",1]}],"
		   "\"match\":\"any\"}],\"match\":\"all\"}");
	free(s);
	json_decref(j);
	ca_rule_free(r);
	assert_null(ca_rule_to_json(NULL));
}

/* The compiled rule owns its data: changing or freeing the spec afterwards
 * changes nothing. */
static void test_spec_independence(void **state)
{
	(void)state;
	json_t *spec = load(C("{\"field\": \"p\", \"operator\": \"in\", \"value\": [\"a\"]}"));
	ca_rule *r = NULL;
	assert_int_equal(ca_rule_compile(spec, "r", &r, NULL), 0);
	json_t *list = json_object_get(json_array_get(json_object_get(spec, "conditions"), 0), "value");
	assert_int_equal(json_array_set_new(list, 0, json_string("b")), 0);
	json_decref(spec);
	assert_true(eval_text(r, "{\"p\": \"a\"}"));
	assert_false(eval_text(r, "{\"p\": \"b\"}"));
	json_t *j = ca_rule_to_json(r);
	const json_t *v = json_object_get(json_array_get(json_object_get(j, "conditions"), 0), "value");
	assert_string_equal(json_string_value(json_array_get(v, 0)), "a");
	json_decref(j);
	ca_rule_free(r);
}

/* ---- fields ---- */

static void test_fields(void **state)
{
	(void)state;
	ca_rule *r = compile_text(
		"{\"match\": \"any\", \"conditions\": ["
		" {\"field\": \"category\", \"operator\": \"equals\", \"value\": \"x\"},"
		" {\"match\": \"all\", \"conditions\": ["
		"  {\"field\": \"priority\", \"operator\": \"is_empty\"},"
		"  {\"field\": \"category\", \"operator\": \"contains\", \"value\": \"y\"},"
		"  {\"field\": \"amount\", \"operator\": \"greater_than\", \"value\": 1}]},"
		" {\"field\": \"Category\", \"operator\": \"is_empty\"}]}");
	ca_strv out = {0};
	assert_int_equal(ca_rule_fields(r, &out), 0);
	assert_int_equal(out.n, 4);
	assert_string_equal(out.v[0], "category");
	assert_string_equal(out.v[1], "priority");
	assert_string_equal(out.v[2], "amount");
	assert_string_equal(out.v[3], "Category"); /* field names are exact keys */

	/* Appends, and a name already in the vector is not repeated. */
	ca_strv_done(&out);
	assert_int_equal(ca_strv_push(&out, "priority"), 0);
	assert_int_equal(ca_strv_push(&out, "other"), 0);
	assert_int_equal(ca_rule_fields(r, &out), 0);
	assert_int_equal(out.n, 5);
	assert_string_equal(out.v[0], "priority");
	assert_string_equal(out.v[1], "other");
	assert_string_equal(out.v[2], "category");
	assert_string_equal(out.v[3], "amount");
	assert_string_equal(out.v[4], "Category");
	ca_strv_done(&out);
	ca_rule_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equals),
		cmocka_unit_test(test_not_equals),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_begins_ends),
		cmocka_unit_test(test_in_not_in),
		cmocka_unit_test(test_is_empty),
		cmocka_unit_test(test_greater_less_numbers),
		cmocka_unit_test(test_greater_less_dates),
		cmocka_unit_test(test_unicode_case_folding),
		cmocka_unit_test(test_invalid_utf8_record),
		cmocka_unit_test(test_nested_all_any),
		cmocka_unit_test(test_match_defaults_to_all),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_record_not_object),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_compile_null_spec),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_canonical_json),
		cmocka_unit_test(test_spec_independence),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
