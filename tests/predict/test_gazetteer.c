/* SPDX-License-Identifier: MIT */
/*
 * The product gazetteer as server workers share it: one copy built once,
 * referenced by several threads that link conversations at the same time
 * (each with its own analysis), every thread getting the answers a single
 * thread gets, and freed with the last reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char *PRODUCTS =
	"[{\"id\":\"P-orbit\",\"name\":\"Orbit Mini Smart Speaker\",\"aliases\":[\"orbit mini\"],\"product_number\":\"BW-SP-0300\"},"
	" {\"id\":\"P-pylon\",\"name\":\"Pylon 65W USB-C Charger\",\"aliases\":[\"pylon charger\"],\"product_number\":\"BW-CH-0650\"},"
	" {\"id\":\"P-kestrel\",\"name\":\"Kestrel 14 Laptop\",\"aliases\":[\"kestrel laptop\"],\"product_number\":\"BW-LT-1400\"}]";

static const char *const texts[] = { "My Orbit Mini is broken", "bw ch 0650 sparks", "the kestral laptop is hot",
				     "I was charged twice" };
static const char *const want[] = { "P-orbit", "P-pylon", "P-kestrel", NULL };

typedef struct worker {
	ca_gazetteer *g;
	const ca_field_def *f;
	int failures;
} worker;

static const char *link_text(const ca_gazetteer *g, const ca_field_def *f, ca_stemmer *st, const char *text, char *out,
			     size_t size)
{
	ca_msg m = { "m1", CA_ROLE_CUSTOMER, text, strlen(text) };
	ca_analysis an;
	ca_analysis_init(&an);
	const char *res = NULL;
	if (ca_analysis_sync(&an, &m, 1, st) == 0) {
		ca_predict_input in = { .msgs = &m, .n_msgs = 1, .analysis = &an };
		ca_prediction p = { 0 };
		if (ca_gazetteer_predict(g, &in, f, &p) == 0) {
			if (p.confidence >= 0.5) {
				strncpy(out, p.value, size - 1);
				out[size - 1] = '\0';
				res = out;
			}
			ca_prediction_done(&p);
		}
	}
	ca_analysis_done(&an);
	return res;
}

static void *run(void *arg)
{
	worker *w = arg;
	ca_stemmer *st = ca_stemmer_new(); /* a stemmer is per thread */
	char buf[64];
	for (int rep = 0; rep < 200; rep++)
		for (size_t i = 0; i < 4; i++) {
			const char *v = link_text(w->g, w->f, st, texts[i], buf, sizeof(buf));
			if ((v == NULL) != (want[i] == NULL) || (v && strcmp(v, want[i]) != 0))
				w->failures++;
		}
	ca_stemmer_free(st);
	ca_gazetteer_unref(w->g); /* each worker drops its own reference */
	return NULL;
}

static void test_shared_by_threads(void **state)
{
	(void)state;
	json_t *recs = json_loads(PRODUCTS, 0, NULL);
	json_t *fj = json_loads("{\"name\":\"product\",\"type\":\"lookup\",\"lookup\":\"product\"}", 0, NULL);
	ca_field_def f;
	assert_int_equal(ca_field_def_parse(fj, "f", &f, NULL), 0);
	ca_stemmer *st = ca_stemmer_new();
	ca_gazetteer *g = NULL;
	assert_int_equal(ca_gazetteer_new(CA_ENT_PRODUCT, recs, st, NULL, &g, NULL), 0);
	json_decref(recs); /* the gazetteer keeps nothing of the JSON */
	assert_int_equal(ca_gazetteer_size(g), 3);
	worker w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (worker){ ca_gazetteer_ref(g), &f, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	/* still ours after the workers let go */
	char buf[64];
	assert_string_equal(link_text(g, &f, st, "My BW-SP-0300 rattles", buf, sizeof(buf)), "P-orbit");
	ca_gazetteer_unref(g);
	ca_gazetteer_unref(NULL);
	ca_stemmer_free(st);
	ca_field_def_done(&f);
	json_decref(fj);
}

/* Without a word list nothing tells "laptop" (a kind) from "Lumora" (a
 * name), and no misspelling from a word: whole names and numbers still
 * link, a lone everyday word does not. */
static void test_without_word_list(void **state)
{
	(void)state;
	json_t *recs = json_loads(PRODUCTS, 0, NULL);
	json_t *fj = json_loads("{\"name\":\"product\",\"type\":\"lookup\",\"lookup\":\"product\"}", 0, NULL);
	ca_field_def f;
	assert_int_equal(ca_field_def_parse(fj, "f", &f, NULL), 0);
	ca_stemmer *st = ca_stemmer_new();
	ca_gazetteer *g = NULL;
	assert_int_equal(ca_gazetteer_new(CA_ENT_PRODUCT, recs, st, "/nonexistent/words", &g, NULL), 0);
	char buf[64];
	assert_string_equal(link_text(g, &f, st, "My Orbit Mini is broken", buf, sizeof(buf)), "P-orbit");
	assert_string_equal(link_text(g, &f, st, "bw ch 0650 sparks", buf, sizeof(buf)), "P-pylon");
	assert_null(link_text(g, &f, st, "my laptop is slow", buf, sizeof(buf)));
	assert_null(link_text(g, &f, st, "I was charged twice", buf, sizeof(buf)));
	ca_gazetteer_unref(g);
	ca_stemmer_free(st);
	ca_field_def_done(&f);
	json_decref(fj);
	json_decref(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_by_threads),
		cmocka_unit_test(test_without_word_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
