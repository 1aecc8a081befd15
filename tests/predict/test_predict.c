/* SPDX-License-Identifier: MIT */
/*
 * Embedded predictor tests: contacts by identifier and by name (with shared
 * names), products from partial mentions, pattern strings anchored by cues,
 * option sets from descriptions and from a liblinear model, text fields, and
 * the evidence spans every value carries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "predictor.h"

static const char *DIRECTORY =
	"{\"contact\":["
	" {\"id\":\"C-1\",\"full_name\":\"Crystal Minh\",\"email\":\"cminh730@email.com\",\"username\":\"cminh730\"},"
	" {\"id\":\"C-2\",\"full_name\":\"Crystal Minh\",\"email\":\"crystalm914@email.com\",\"username\":\"crystalm914\"},"
	" {\"id\":\"C-3\",\"full_name\":\"Joseph Banter\",\"phone\":\"(977) 625-2661\",\"account_number\":\"4VEJCYVP8U\"}],"
	"\"product\":["
	" {\"id\":\"P-1\",\"name\":\"Calvin Klein Boots\"},"
	" {\"id\":\"P-2\",\"name\":\"Calvin Klein Jeans\"},"
	" {\"id\":\"P-3\",\"name\":\"Guess Boots\",\"product_number\":\"GB-100\"}]}";

static const char *FIELDS =
	"[{\"name\":\"customer\",\"type\":\"lookup\",\"lookup\":\"contact\"},"
	" {\"name\":\"product\",\"type\":\"lookup\",\"lookup\":\"product\"},"
	" {\"name\":\"order_number\",\"type\":\"pattern\",\"pattern\":\"\\\\b[0-9]{10}\\\\b\",\"cues\":[\"order id\",\"order number\"]},"
	" {\"name\":\"category\",\"type\":\"option\",\"options\":["
	"   {\"value\":\"refund\",\"description\":\"refund money back return an item\",\"cues\":[\"refund\"]},"
	"   {\"value\":\"password\",\"description\":\"forgot password cannot log in reset login\",\"cues\":[\"password\"]}]},"
	" {\"name\":\"description\",\"type\":\"text\"},"
	" {\"name\":\"quantity\",\"type\":\"number\",\"cues\":[\"quantity\"]},"
	" {\"name\":\"purchase_date\",\"type\":\"date\",\"cues\":[\"bought it on\"]}]";

typedef struct env {
	ca_field_def fields[7];
	size_t n;
	ca_predictor *p;
	ca_msg msgs[16];
	size_t n_msgs;
	ca_analysis an;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	json_t *fj = json_loads(FIELDS, 0, NULL);
	json_t *dir = json_loads(DIRECTORY, 0, NULL);
	ca_err err = { 0 };
	for (size_t i = 0; i < json_array_size(fj); i++) {
		if (ca_field_def_parse(json_array_get(fj, i), "f", &e->fields[i], &err))
			return -1;
		e->n++;
	}
	if (ca_embedded_new(dir, e->fields, e->n, NULL, &e->p, &err))
		return -1;
	json_decref(fj);
	json_decref(dir);
	ca_analysis_init(&e->an);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	ca_predictor_free(e->p);
	for (size_t i = 0; i < e->n; i++)
		ca_field_def_done(&e->fields[i]);
	ca_analysis_done(&e->an);
	free(e);
	return 0;
}

static void add(env *e, const char *id, ca_role role, const char *text)
{
	e->msgs[e->n_msgs++] = (ca_msg){ id, role, text, strlen(text) };
}

static int run(env *e, const char *field, ca_prediction *p)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->fields[i].name, field)) {
			ca_predict_input in = { .msgs = e->msgs, .n_msgs = e->n_msgs, .analysis = &e->an };
			memset(p, 0, sizeof(*p));
			return ca_predict(e->p, &in, &e->fields[i], p, NULL);
		}
	return -99;
}

static void test_contact_by_email_beats_shared_name(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "Hi, I'm Crystal Minh and I need a refund");
	ca_prediction p;
	/* the name alone fits two contacts: not sure enough */
	assert_int_equal(run(e, "customer", &p), 0);
	assert_true(p.confidence < 0.6);
	ca_prediction_done(&p);
	add(e, "m2", CA_ROLE_CUSTOMER, "my email is crystalm914@email.com");
	assert_int_equal(run(e, "customer", &p), 0);
	assert_string_equal(p.value, "C-2");
	assert_true(p.confidence > 0.9);
	assert_string_equal(p.method, "email-match");
	assert_string_equal(p.evidence[0].msg_id, "m2");
	assert_memory_equal(e->msgs[1].text + p.evidence[0].begin, "crystalm914@email.com", 21);
	ca_prediction_done(&p);
}

static void test_contact_by_phone_and_account(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "You can reach me at 977.625.2661");
	ca_prediction p;
	assert_int_equal(run(e, "customer", &p), 0);
	assert_string_equal(p.value, "C-3");
	assert_string_equal(p.method, "phone-match");
	ca_prediction_done(&p);
	e->n_msgs = 0;
	ca_analysis_done(&e->an);
	add(e, "m1", CA_ROLE_CUSTOMER, "account id 4vejcyvp8u");
	assert_int_equal(run(e, "customer", &p), 0);
	assert_string_equal(p.value, "C-3");
	ca_prediction_done(&p);
}

static void test_no_contact_without_context(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "Hello, my boots fell apart");
	ca_prediction p;
	assert_int_equal(run(e, "customer", &p), CA_ENOTFOUND);
}

static void test_product_partial_mentions(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "The boots I bought are falling apart");
	ca_prediction p;
	assert_int_equal(run(e, "product", &p), 0);
	assert_true(p.confidence < 0.5); /* two products are boots */
	ca_prediction_done(&p);
	add(e, "m2", CA_ROLE_CUSTOMER, "they are from calvin klein");
	assert_int_equal(run(e, "product", &p), 0);
	assert_string_equal(p.value, "P-1");
	assert_true(p.confidence > 0.5);
	ca_prediction_done(&p);
}

static void test_pattern_nearest_cue(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "call me on 5551234567 please");
	add(e, "m2", CA_ROLE_AGENT, "Could I have your order ID?");
	add(e, "m3", CA_ROLE_CUSTOMER, "3348917502");
	ca_prediction p;
	assert_int_equal(run(e, "order_number", &p), 0);
	assert_string_equal(p.value, "3348917502");
	assert_string_equal(p.evidence[0].msg_id, "m3");
	ca_prediction_done(&p);
	add(e, "m4", CA_ROLE_CUSTOMER, "sorry, my order number is 1112223334");
	assert_int_equal(run(e, "order_number", &p), 0);
	assert_string_equal(p.value, "1112223334");
	ca_prediction_done(&p);
}

static void test_option_from_descriptions(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "I forgot my password and cannot log in to my account");
	ca_prediction p;
	assert_int_equal(run(e, "category", &p), 0);
	assert_string_equal(p.value, "password");
	assert_true(p.confidence > 0.5);
	ca_prediction_done(&p);
}

static void test_text_problem_sentence(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "Hi!");
	add(e, "m2", CA_ROLE_AGENT, "How can I help?");
	add(e, "m3", CA_ROLE_CUSTOMER, "I need to return the jeans because they are the wrong size.");
	add(e, "m4", CA_ROLE_SYSTEM, "Account has been pulled up for Crystal Minh.");
	ca_prediction p;
	assert_int_equal(run(e, "description", &p), 0);
	assert_non_null(strstr(p.value, "wrong size"));
	assert_string_equal(p.evidence[0].msg_id, "m3");
	ca_prediction_done(&p);
}

/* A greeting that opens the customer's sentence is not part of the issue. */
static void test_text_greeting_dropped(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "Hi there, my earbuds stopped charging");
	add(e, "m2", CA_ROLE_AGENT, "Sorry to hear that. Which model?");
	add(e, "m3", CA_ROLE_CUSTOMER, "Hello team! The case does not charge either and the light is off.");
	ca_prediction p;
	assert_int_equal(run(e, "description", &p), 0);
	if (strncmp(p.value, "My earbuds stopped charging", 27) != 0 || strstr(p.value, "Hello"))
		fail_msg("description kept a greeting: \"%s\"", p.value);
	assert_string_equal(p.evidence[0].msg_id, "m1");
	assert_memory_equal(e->msgs[0].text + p.evidence[0].begin, "my earbuds", 10);
	ca_prediction_done(&p);
}

/* A product number is a word of the problem statement, not all of it. */
static void test_text_with_identifier(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "My GB-100 is broken");
	add(e, "m2", CA_ROLE_CUSTOMER, "Yes, it's GB-100");
	ca_prediction p;
	assert_int_equal(run(e, "description", &p), 0);
	assert_string_equal(p.value, "My GB-100 is broken");
	ca_prediction_done(&p);
}

static void test_typed_values(void **state)
{
	env *e = *state;
	add(e, "m1", CA_ROLE_CUSTOMER, "quantity 3 please, I bought it on 2019-11-06");
	ca_prediction p;
	assert_int_equal(run(e, "quantity", &p), 0);
	assert_string_equal(p.value, "3");
	ca_prediction_done(&p);
	assert_int_equal(run(e, "purchase_date", &p), 0);
	assert_string_equal(p.value, "2019-11-06");
	ca_prediction_done(&p);
}

static void test_trained_model(void **state)
{
	env *e = *state;
	json_t *ex = json_array();
	const char *refund[] = { "I want my money back for the jacket", "please refund my order", "return and refund the shirt",
				 "money back on the boots", "refund for the damaged jeans" };
	const char *pw[] = { "I cannot log in", "reset my password please", "login fails with my password",
			     "locked out of my account login", "forgot the password" };
	for (size_t i = 0; i < 5; i++) {
		json_array_append_new(ex, json_pack("{s:s, s:{s:s}}", "text", refund[i], "fields", "category", "refund"));
		json_array_append_new(ex, json_pack("{s:s, s:{s:s}}", "text", pw[i], "fields", "category", "password"));
	}
	json_t *models = NULL;
	ca_err err = { 0 };
	assert_int_equal(ca_embedded_train(ex, e->fields, e->n, 5, &models, &err), 0);
	assert_non_null(json_object_get(models, "category"));
	ca_predictor *p2 = NULL;
	json_t *dir = json_loads(DIRECTORY, 0, NULL);
	assert_int_equal(ca_embedded_new(dir, e->fields, e->n, models, &p2, &err), 0);
	add(e, "m1", CA_ROLE_CUSTOMER, "I would like my money back");
	ca_predict_input in = { .msgs = e->msgs, .n_msgs = e->n_msgs, .analysis = &e->an };
	ca_prediction p;
	assert_int_equal(ca_predict(p2, &in, &e->fields[3], &p, &err), 0);
	assert_string_equal(p.value, "refund");
	assert_string_equal(p.method, "liblinear");
	ca_prediction_done(&p);
	ca_predictor_free(p2);
	json_decref(dir);
	json_decref(models);
	json_decref(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contact_by_email_beats_shared_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_by_phone_and_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_contact_without_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_product_partial_mentions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pattern_nearest_cue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_option_from_descriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_problem_sentence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_greeting_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_with_identifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trained_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
