/* SPDX-License-Identifier: MIT */
/*
 * The fixture the case agent's unit tests share: a scratch folder
 * /tmp/ca-NAME-XXXXXX holding a real SQLite file (t.db) with an agent open
 * on it, and settings and directory records imported from text the test
 * gives. Header-only (static inline): each test is one translation unit.
 * Include after <cmocka.h> and "casemgmt.h".
 */
#ifndef CA_TEST_FIXTURE_H
#define CA_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
	char dir[64];  /* the scratch folder, removed by fixture_free */
	char db[128];  /* its database file */
	char ex[512];  /* the examples/ folder (fixture_examples), or "" */
	ca_agent *a;   /* open on db */
	ca_err err;    /* for the test's own calls */
} fixture;

static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A new scratch folder and an agent on its t.db; NULL on failure (said on
 * stderr). Free with fixture_free. */
static inline fixture *fixture_new(const char *name)
{
	fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return NULL;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ca-%s-XXXXXX", name);
	if (!mkdtemp(fx->dir)) {
		perror(fx->dir);
		free(fx);
		return NULL;
	}
	snprintf(fx->db, sizeof(fx->db), "%s/t.db", fx->dir);
	if (ca_agent_open(fx->db, &fx->a, &fx->err)) {
		fprintf(stderr, "%s: %s\n", fx->db, fx->err.message);
		fx->a = NULL;
	}
	return fx;
}

/* Import settings (JSON text) and, when not NULL, contacts and products
 * (JSON Lines text, each written to the folder and imported as a file).
 * 0, or -1 with the reason on stderr. */
static inline int fixture_load(fixture *fx, const char *settings, const char *contacts, const char *products)
{
	if (!fx || !fx->a)
		return -1;
	if (settings && ca_settings_import_text(fx->a, settings, strlen(settings), &fx->err)) {
		fprintf(stderr, "settings: %s (%s)\n", fx->err.message, fx->err.where);
		return -1;
	}
	const char *kinds[] = { "contacts", "products" }, *texts[] = { contacts, products };
	for (size_t i = 0; i < 2; i++) {
		if (!texts[i])
			continue;
		char p[160], *res = NULL;
		snprintf(p, sizeof(p), "%s/%s.jsonl", fx->dir, kinds[i]);
		write_file(p, texts[i]);
		if (ca_import_file(fx->a, kinds[i], p, &res, &fx->err)) {
			fprintf(stderr, "%s: %s\n", kinds[i], fx->err.message);
			return -1;
		}
		free(res);
	}
	return 0;
}

/* Close the agent, remove the folder, free; -1 when the folder stays. */
static inline int fixture_free(fixture *fx)
{
	if (!fx)
		return 0;
	ca_agent_close(fx->a);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	int r = system(cmd) == 0 ? 0 : -1;
	if (r)
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(fx);
	return r;
}

/* cmocka's teardown for a fixture made in setup. */
static inline int teardown(void **state)
{
	return fixture_free(*state);
}

#endif
