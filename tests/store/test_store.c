/* SPDX-License-Identifier: MIT */
/*
 * Contract tests of the store (src/store/store.h): the driver interface and
 * every repository call, run against a real database in a fresh temporary
 * directory per test. The suite is one table of tests run once per backend
 * in `backends[]`, so a new driver (postgres) joins by adding a row and must
 * pass exactly what SQLite passes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store.h"
#include "internal.h"
#include "model.h"

/* 2024-06-01T12:00:00Z: every timestamp the store writes under test. */
#define NOW_EPOCH "1717243200"
#define NOW_ISO "2024-06-01T12:00:00Z"

typedef struct backend {
	const char *name;
	const ca_sql_driver *drv;
	/* The dsn of a fresh, empty database under the test's scratch dir;
	 * false when the backend is not configured here (the group is skipped). */
	bool (*dsn)(const char *dir, char *out, size_t n);
} backend;

static bool sqlite_dsn(const char *dir, char *out, size_t n)
{
	return (size_t)snprintf(out, n, "%s/caseagent.db", dir) < n;
}

static const backend backends[] = {
	{ "sqlite", &ca_sqlite_driver, sqlite_dsn },
};

typedef struct fixture {
	const backend *b;
	char dir[256];
	char dsn[512];
	ca_store *s;
	ca_err err;
} fixture;

#define OK(call)                                                                                            \
	do {                                                                                                \
		ca_err_clear(&f->err);                                                                      \
		int r_ = (call);                                                                            \
		if (r_ != 0)                                                                                \
			fail_msg("%s -> %s: %s", #call, ca_strerror(r_), f->err.message);                  \
	} while (0)

#define FAILS(want_, call)                                                                                   \
	do {                                                                                                \
		ca_err_clear(&f->err);                                                                      \
		int r_ = (call);                                                                            \
		if (r_ != (want_))                                                                           \
			fail_msg("%s -> %s, expected %s (%s)", #call, ca_strerror(r_), ca_strerror(want_),   \
				 f->err.message);                                                           \
		assert_int_equal(f->err.code, (want_));                                                      \
	} while (0)

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char path[600];
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int setup(void **state)
{
	const backend *b = *state;
	fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->b = b;
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/castore-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir) || !b->dsn(f->dir, f->dsn, sizeof(f->dsn))) {
		free(f);
		return -1;
	}
	if (ca_store_open_with(b->drv, f->dsn, &f->s, &f->err) != 0) {
		print_error("open %s: %s\n", f->dsn, f->err.message);
		rm_tree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	ca_store_close(f->s);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static json_t *prov(const char *source, const char *actor, double confidence)
{
	json_t *p = json_pack("{s:s, s:s}", "source", source, "actor", actor);
	assert_non_null(p);
	if (confidence >= 0)
		json_object_set_new(p, "confidence", json_real(confidence));
	return p;
}

static const char *field_of(const json_t *c, const char *name)
{
	return ca_json_str(json_object_get(c, "fields"), name);
}

/* ---- level 1: the driver itself ---- */

typedef struct seen {
	int rows;
	int stop_after;
	ca_sql_type types[4];
	char text[4][32];
	bool null[4];
	char names[4][16];
} seen;

static int see_row(const ca_sql_row *row, void *ud)
{
	seen *s = ud;
	s->rows++;
	for (size_t i = 0; i < row->n && i < 4; i++) {
		s->types[i] = row->types[i];
		s->null[i] = row->text[i] == NULL;
		snprintf(s->text[i], sizeof(s->text[i]), "%s", row->text[i] ? row->text[i] : "");
		snprintf(s->names[i], sizeof(s->names[i]), "%s", row->names[i]);
	}
	return s->stop_after && s->rows >= s->stop_after;
}

static void test_driver_contract(void **state)
{
	fixture *f = *state;
	const ca_sql_driver *d = f->b->drv;
	assert_int_equal(d->version, CA_SQL_DRIVER_VERSION);
	void *c = NULL;
	OK(d->open(f->dsn, &c, &f->err));
	OK(d->exec_script(c, "CREATE TABLE t (k TEXT PRIMARY KEY, i BIGINT, r REAL, n TEXT);"
			     "CREATE TABLE u (k TEXT);", &f->err));
	ca_sql_param p[] = { ca_sql_text("a"), ca_sql_int(INT64_MAX), ca_sql_real(0.5), ca_sql_text(NULL) };
	OK(d->exec(c, "INSERT INTO t (k, i, r, n) VALUES (?, ?, ?, ?)", p, 4, &f->err));
	assert_int_equal(d->changes(c), 1);
	ca_sql_param p2[] = { ca_sql_text("b"), ca_sql_int(-7), ca_sql_null(), ca_sql_text("x") };
	OK(d->exec(c, "INSERT INTO t (k, i, r, n) VALUES (?, ?, ?, ?)", p2, 4, &f->err));

	seen s = { 0 };
	OK(d->query(c, "SELECT k, i, r, n FROM t WHERE k = ?", p, 1, see_row, &s, &f->err));
	assert_int_equal(s.rows, 1);
	assert_string_equal(s.names[0], "k");
	assert_string_equal(s.names[3], "n");
	assert_int_equal(s.types[0], CA_SQL_TEXT);
	assert_int_equal(s.types[1], CA_SQL_INT);
	assert_string_equal(s.text[1], "9223372036854775807");
	assert_int_equal(s.types[2], CA_SQL_REAL);
	assert_string_equal(s.text[2], "0.5");
	assert_int_equal(s.types[3], CA_SQL_NULL);
	assert_true(s.null[3]);

	/* A nonzero return from the callback stops the query without error. */
	seen s2 = { .stop_after = 1 };
	OK(d->query(c, "SELECT k FROM t ORDER BY k", NULL, 0, see_row, &s2, &f->err));
	assert_int_equal(s2.rows, 1);
	assert_string_equal(s2.text[0], "a");

	OK(d->exec(c, "UPDATE t SET n = 'y'", NULL, 0, &f->err));
	assert_int_equal(d->changes(c), 2);

	/* Same statement again (cached), then errors that name the cause. */
	OK(d->query(c, "SELECT k, i, r, n FROM t WHERE k = ?", p2, 1, see_row, &s, &f->err));
	assert_int_equal(s.rows, 2);
	assert_string_equal(s.text[1], "-7");
	ca_err_clear(&f->err);
	assert_int_equal(d->exec(c, "INSERT INTO t (k) VALUES (?)", p, 1, &f->err), CA_EEXIST);
	ca_err_clear(&f->err);
	assert_int_equal(d->exec(c, "SELEC nonsense", NULL, 0, &f->err), CA_EDB);
	assert_non_null(strstr(f->err.message, "syntax"));
	ca_err_clear(&f->err);
	assert_int_equal(d->exec(c, "INSERT INTO t (k) VALUES (?)", NULL, 0, &f->err), CA_EINVAL);
	ca_err_clear(&f->err);
	assert_int_equal(d->exec_script(c, "CREATE TABLE u (k TEXT)", &f->err), CA_EDB);
	assert_non_null(strstr(f->err.message, "already exists"));

	/* Transactions through plain statements. */
	OK(d->exec(c, "BEGIN", NULL, 0, &f->err));
	OK(d->exec(c, "DELETE FROM t", NULL, 0, &f->err));
	OK(d->exec(c, "ROLLBACK", NULL, 0, &f->err));
	seen s3 = { 0 };
	OK(d->query(c, "SELECT k FROM t", NULL, 0, see_row, &s3, &f->err));
	assert_int_equal(s3.rows, 2);
	d->close(c);
}

static void test_sqlite_pragmas(void **state)
{
	fixture *f = *state;
	if (strcmp(f->b->name, "sqlite") != 0)
		skip();
	const ca_sql_driver *d = f->b->drv;
	void *c = NULL;
	OK(d->open(f->dsn, &c, &f->err));
	seen s = { 0 };
	OK(d->query(c, "PRAGMA journal_mode", NULL, 0, see_row, &s, &f->err));
	assert_string_equal(s.text[0], "wal");
	OK(d->query(c, "PRAGMA foreign_keys", NULL, 0, see_row, &s, &f->err));
	assert_string_equal(s.text[0], "1");
	OK(d->query(c, "PRAGMA synchronous", NULL, 0, see_row, &s, &f->err));
	assert_string_equal(s.text[0], "1"); /* NORMAL */
	d->close(c);

	/* A file that is not a database is refused with its name. */
	char bad[600];
	snprintf(bad, sizeof(bad), "%s/not-a-db", f->dir);
	FILE *fp = fopen(bad, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite file. ", fp);
	fclose(fp);
	ca_store *s2 = NULL;
	FAILS(CA_EDB, ca_store_open(bad, &s2, &f->err));
	assert_null(s2);
	assert_non_null(strstr(f->err.message, "not-a-db"));
}

/* ---- a writer waiting for the write lock ---- */

typedef struct waiter {
	const backend *b;
	const char *dsn;
	int r;
	ca_err err;
} waiter;

/* Another connection, in its own thread as a live event in its own
 * process would be: it writes, and so waits for the lock. */
static void *wait_and_write(void *ud)
{
	waiter *w = ud;
	ca_store *s = NULL;
	w->r = ca_store_open_with(w->b->drv, w->dsn, &s, &w->err);
	if (!w->r)
		w->r = ca_store_settings_put(s, "{\"waiter\":1}", &w->err);
	ca_store_close(s);
	return NULL;
}

/* The holder of the write lock learns that a writer is waiting
 * (ca_store_contended), so a long import can end its batch for it; nobody
 * waiting, it hears nothing. Before, no holder could tell, and an import
 * either held the lock in quarter-second batches throughout (rewriting its
 * index pages hundreds of times) or shut live events out. */
static void test_write_lock_waiter(void **state)
{
	fixture *f = *state;
	if (!f->b->drv->contended)
		skip();
	assert_false(ca_store_contended(f->s));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_settings_put(f->s, "{\"holder\":1}", &f->err));
	assert_false(ca_store_contended(f->s));
	waiter w = { .b = f->b, .dsn = f->dsn };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_and_write, &w), 0);
	/* Poll well within the waiter's own patience (5 s), then let it in. */
	bool heard = false;
	for (int i = 0; i < 4000 && !heard; i++)
		if (!(heard = ca_store_contended(f->s)))
			usleep(1000);
	OK(ca_store_commit(f->s, &f->err));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(heard);
	if (w.r)
		fail_msg("the waiting writer failed: %s", w.err.message);
	char *body = NULL;
	OK(ca_store_settings_get(f->s, &body, &f->err));
	assert_string_equal(body, "{\"waiter\":1}");
	free(body);
}

/* ---- opening and migrations ---- */

static void test_open_twice(void **state)
{
	fixture *f = *state;
	int v = ca_store_schema_version(f->s);
	assert_true(v >= 1);
	OK(ca_store_settings_put(f->s, "{\"a\":1}", &f->err));

	/* A second handle while the first is open, then reopen after close. */
	ca_store *s2 = NULL;
	OK(ca_store_open_with(f->b->drv, f->dsn, &s2, &f->err));
	assert_int_equal(ca_store_schema_version(s2), v);
	ca_store_close(s2);
	ca_store_close(f->s);
	f->s = NULL;
	OK(ca_store_open_with(f->b->drv, f->dsn, &f->s, &f->err));
	assert_int_equal(ca_store_schema_version(f->s), v);
	char *body = NULL;
	OK(ca_store_settings_get(f->s, &body, &f->err));
	assert_string_equal(body, "{\"a\":1}");
	free(body);

	/* Each migration recorded exactly once (numbers may have gaps: each
	 * branch of work reserves its own). */
	void *c = NULL;
	OK(f->b->drv->open(f->dsn, &c, &f->err));
	seen s = { 0 };
	/* (Version numbers are handed to branches ahead of time, so the list
	 * may have gaps: count distinct versions, not the highest.) */
	OK(f->b->drv->query(c, "SELECT COUNT(*) - COUNT(DISTINCT version), MAX(version), MIN(version) FROM schema_version",
			    NULL, 0, see_row, &s, &f->err));
	char want[16];
	snprintf(want, sizeof(want), "%d", v);
	assert_string_equal(s.text[0], "0");
	assert_string_equal(s.text[1], want);
	assert_string_equal(s.text[2], "1");
	/* Migrating an up-to-date connection again is a no-op. */
	int v2 = 0;
	OK(ca_store_migrate(f->b->drv, c, &v2, &f->err));
	assert_int_equal(v2, v);
	/* A database from a newer build is refused rather than misread. */
	ca_sql_param p[] = { ca_sql_int(v + 1) };
	OK(f->b->drv->exec(c, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 'x')", p, 1,
			   &f->err));
	FAILS(CA_ESTATE, ca_store_migrate(f->b->drv, c, &v2, &f->err));
	f->b->drv->close(c);
	ca_store *s3 = NULL;
	FAILS(CA_ESTATE, ca_store_open_with(f->b->drv, f->dsn, &s3, &f->err));
	assert_non_null(strstr(f->err.message, "newer"));
}

/* A cached statement prepared again by SQLite (the schema changed under
 * it: another connection's migration or trigger) still names its columns:
 * the names are read after the step that prepares it again, not before. */
static void test_column_names_after_schema_change(void **state)
{
	fixture *f = *state;
	const ca_sql_driver *d = f->b->drv;
	void *c = NULL, *other = NULL;
	OK(d->open(f->dsn, &c, &f->err));
	OK(d->open(f->dsn, &other, &f->err));
	const char *q = "SELECT version AS first_column, name AS second_column FROM schema_version LIMIT 1";
	for (int round = 0; round < 3; round++) {
		seen s = { 0 };
		OK(d->query(c, q, NULL, 0, see_row, &s, &f->err));
		assert_int_equal(s.rows, 1);
		assert_string_equal(s.names[0], "first_column");
		assert_string_equal(s.names[1], "second_column");
		char sql[64];
		snprintf(sql, sizeof sql, "CREATE TABLE schema_moved_%d (x)", round);
		OK(d->exec(other, sql, NULL, 0, &f->err));
	}
	d->close(other);
	d->close(c);
}

static void test_driver_version_checked(void **state)
{
	fixture *f = *state;
	ca_sql_driver bad = *f->b->drv;
	bad.version = CA_SQL_DRIVER_VERSION + 1;
	ca_store *s = NULL;
	FAILS(CA_EUNSUPPORTED, ca_store_open_with(&bad, f->dsn, &s, &f->err));
	assert_null(s);
}

/* ---- settings ---- */

static void test_settings(void **state)
{
	fixture *f = *state;
	char *body = NULL;
	FAILS(CA_ENOTFOUND, ca_store_settings_get(f->s, &body, &f->err));
	assert_null(body);
	OK(ca_store_settings_put(f->s, "{\"channels\":{\"chat\":true}}", &f->err));
	OK(ca_store_settings_put(f->s, "{\"channels\":{\"chat\":false}}", &f->err));
	OK(ca_store_settings_get(f->s, &body, &f->err));
	assert_string_equal(body, "{\"channels\":{\"chat\":false}}");
	free(body);
	FAILS(CA_EPARSE, ca_store_settings_put(f->s, "{\"channels\":", &f->err));
	assert_non_null(strstr(f->err.message, "line 1"));
	OK(ca_store_settings_get(f->s, &body, &f->err));
	assert_string_equal(body, "{\"channels\":{\"chat\":false}}");
	free(body);
}

/* ---- directory ---- */

static void test_directory(void **state)
{
	fixture *f = *state;
	json_t *c2 = json_pack("{s:s, s:s, s:s, s:s}", "id", "C-2", "full_name", "Bea Lund", "email", "bea@example.com",
			       "phone", "+4670000002");
	json_t *c1 = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "C-1", "full_name", "Ann Berg", "username", "annb",
			       "account_number", "AC-9", "account_id", "A-1");
	json_t *a1 = json_pack("{s:s, s:s, s:s}", "id", "A-1", "name", "Acme", "account_number", "AC-9");
	json_t *p1 = json_pack("{s:s, s:s, s:[s,s], s:s}", "id", "P-1", "name", "Router X1", "aliases", "X1",
			       "the X one", "product_number", "RX-100");
	json_t *s1 = json_pack("{s:s, s:s, s:n}", "id", "S-1", "name", "Billing", "parent_id");
	OK(ca_store_directory_put(f->s, "contact", c2, &f->err));
	OK(ca_store_directory_put(f->s, "contact", c1, &f->err));
	OK(ca_store_directory_put(f->s, "account", a1, &f->err));
	OK(ca_store_directory_put(f->s, "product", p1, &f->err));
	OK(ca_store_directory_put(f->s, "subject", s1, &f->err));

	json_t *got = NULL;
	OK(ca_store_directory_get(f->s, "contact", "C-1", &got, &f->err));
	assert_true(json_equal(got, c1));
	json_decref(got);
	OK(ca_store_directory_get(f->s, "product", "P-1", &got, &f->err));
	assert_true(json_equal(got, p1));
	assert_true(json_is_array(json_object_get(got, "aliases")));
	json_decref(got);
	OK(ca_store_directory_get(f->s, "subject", "S-1", &got, &f->err));
	assert_null(json_object_get(got, "parent_id")); /* NULL reads back as absent */
	assert_string_equal(ca_json_str(got, "name"), "Billing");
	json_decref(got);

	/* Upsert replaces the whole record. */
	json_t *c1b = json_pack("{s:s, s:s, s:s}", "id", "C-1", "full_name", "Ann Berg-Ek", "email", "ann@example.com");
	OK(ca_store_directory_put(f->s, "contact", c1b, &f->err));
	OK(ca_store_directory_get(f->s, "contact", "C-1", &got, &f->err));
	assert_true(json_equal(got, c1b));
	json_decref(got);

	json_t *list = NULL;
	OK(ca_store_directory_list(f->s, "contact", &list, &f->err));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(ca_json_str(json_array_get(list, 0), "id"), "C-1");
	assert_string_equal(ca_json_str(json_array_get(list, 1), "id"), "C-2");
	json_decref(list);
	OK(ca_store_directory_list(f->s, "account", &list, &f->err));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);

	/* Bad input is named. */
	json_t *bad = json_pack("{s:s, s:s, s:s}", "id", "C-3", "full_name", "Cy", "shoe_size", "44");
	FAILS(CA_EINVAL, ca_store_directory_put(f->s, "contact", bad, &f->err));
	assert_non_null(strstr(f->err.message, "shoe_size"));
	assert_non_null(strstr(f->err.message, "C-3"));
	assert_string_equal(f->err.where, "shoe_size");
	json_decref(bad);
	bad = json_pack("{s:s}", "full_name", "No Id");
	FAILS(CA_EINVAL, ca_store_directory_put(f->s, "contact", bad, &f->err));
	assert_string_equal(f->err.where, "id");
	json_decref(bad);
	bad = json_pack("{s:s}", "id", "A-2");
	FAILS(CA_EINVAL, ca_store_directory_put(f->s, "account", bad, &f->err));
	assert_string_equal(f->err.where, "name");
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:s}", "id", "P-2", "name", "Y", "aliases", "not-an-array");
	FAILS(CA_EINVAL, ca_store_directory_put(f->s, "product", bad, &f->err));
	assert_string_equal(f->err.where, "aliases");
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:i}", "id", "A-3", "name", "Z", "phone", 5);
	FAILS(CA_EINVAL, ca_store_directory_put(f->s, "account", bad, &f->err));
	assert_string_equal(f->err.where, "phone");
	json_decref(bad);
	FAILS(CA_EINVAL, ca_store_directory_put(f->s, "queue", c1, &f->err));
	assert_non_null(strstr(f->err.message, "queue"));
	FAILS(CA_ENOTFOUND, ca_store_directory_get(f->s, "contact", "C-404", &got, &f->err));
	assert_non_null(strstr(f->err.message, "C-404"));
	FAILS(CA_EINVAL, ca_store_directory_list(f->s, "nope", &list, &f->err));
	OK(ca_store_directory_list(f->s, "contact", &list, &f->err));
	assert_int_equal(json_array_size(list), 2); /* nothing half-written */
	json_decref(list);

	json_decref(c1);
	json_decref(c1b);
	json_decref(c2);
	json_decref(a1);
	json_decref(p1);
	json_decref(s1);
}

/* ---- cases ---- */

/* Directory lookups by key: each key type, a name prefix, a bounded count,
 * and migration 11's C step writing the keys of records stored without. */
typedef struct hits_seen {
	char ids[8][32];
	unsigned types[8];
	size_t n;
} hits_seen;

static int see_hit(const char *id, const char *name, unsigned type, void *ud)
{
	hits_seen *h = ud;
	(void)name;
	if (h->n < 8) {
		snprintf(h->ids[h->n], sizeof(h->ids[0]), "%s", id);
		h->types[h->n++] = type;
	}
	return 0;
}

static const char *find_one(fixture *f, const char *kind, unsigned types, const char *key)
{
	static hits_seen h;
	memset(&h, 0, sizeof(h));
	OK(ca_store_directory_find(f->s, kind, types, key, 5, see_hit, &h, &f->err));
	return h.n == 1 ? h.ids[0] : h.n ? "several" : "none";
}

static void test_directory_keys(void **state)
{
	fixture *f = *state;
	json_t *c1 = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", "C-1", "full_name", "Priya Vantassel", "email",
			       " Priya.V@Example.COM ", "phone", "+1 (415) 555-0142", "username", "PVan", "account_number",
			       "BW-A10231");
	json_t *c2 = json_pack("{s:s, s:s}", "id", "C-2", "full_name", "Priya Vantassel");
	json_t *a1 = json_pack("{s:s, s:s, s:s}", "id", "A-1", "name", "Brightwave Labs", "account_number", "ACC-77");
	OK(ca_store_directory_put(f->s, "contact", c1, &f->err));
	OK(ca_store_directory_put(f->s, "contact", c2, &f->err));
	OK(ca_store_directory_put(f->s, "account", a1, &f->err));
	json_decref(c1);
	json_decref(c2);
	json_decref(a1);
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_EMAIL, "priya.v@example.com"), "C-1");
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_PHONE, "4155550142"), "C-1");
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_USERNAME, "pvan"), "C-1");
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_ACCOUNT_NUMBER, "bw-a10231"), "C-1");
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_NAME, "priya vantassel"), "several");
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_USERNAME | CA_DIRKEY_EMAIL, "4155550142"), "none");
	assert_string_equal(find_one(f, "account", CA_DIRKEY_ACCOUNT_NUMBER, "acc-77"), "A-1");
	assert_string_equal(find_one(f, "account", CA_DIRKEY_NAME, "brightwav lab"), "A-1");
	bool known = false;
	OK(ca_store_directory_name_prefix(f->s, "contact", "priya", &known, &f->err));
	assert_true(known);
	OK(ca_store_directory_name_prefix(f->s, "contact", "pri", &known, &f->err));
	assert_false(known); /* a prefix of a word is not the start of a name */
	OK(ca_store_directory_name_prefix(f->s, "contact", "priya vantassel", &known, &f->err));
	assert_true(known);
	size_t n = 0;
	OK(ca_store_directory_count(f->s, "contact", 1, &n, &f->err));
	assert_int_equal(n, 2);
	OK(ca_store_directory_count(f->s, "contact", 10, &n, &f->err));
	assert_int_equal(n, 2);
	/* Products are not looked up by key. */
	assert_int_equal(ca_store_directory_find(f->s, "product", CA_DIRKEY_NAME, "x", 5, see_hit, NULL, NULL), CA_EINVAL);

	/* Records stored before the keys existed get them from migration 11. */
	void *c = NULL;
	OK(f->b->drv->open(f->dsn, &c, &f->err));
	OK(f->b->drv->exec(c, "UPDATE contact SET email_key = NULL, phone_key = NULL, username_key = NULL, "
			      "account_key = NULL, name_key = NULL", NULL, 0, &f->err));
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_EMAIL, "priya.v@example.com"), "none");
	OK(ca_store_fill_dir_keys(f->b->drv, c, &f->err));
	f->b->drv->close(c);
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_EMAIL, "priya.v@example.com"), "C-1");
	assert_string_equal(find_one(f, "contact", CA_DIRKEY_NAME, "priya vantassel"), "several");
}

/* The contact with a sender's address, compared as mail compares it (the
 * e-mail key, ca_email_addr_key: case aside, blanks around it trimmed, an
 * IDN domain in either spelling), two contacts sharing an address giving the
 * lowest id, each through the key's index: the work of a look-up does not
 * grow with the directory. */
static const char *by_email(fixture *f, const char *addr)
{
	static char id[64];
	char *got = NULL;
	bool found = false;
	OK(ca_store_contact_by_email(f->s, addr, &found, &got, &f->err));
	snprintf(id, sizeof(id), "%s", found && got ? got : "none");
	free(got);
	return id;
}

static void put_contact(fixture *f, const char *id, const char *email)
{
	json_t *c = json_pack("{s:s, s:s}", "id", id, "full_name", "Some One");
	assert_non_null(c);
	if (email)
		json_object_set_new(c, "email", json_string(email));
	OK(ca_store_directory_put(f->s, "contact", c, &f->err));
	json_decref(c);
}

static void test_contact_by_email(void **state)
{
	fixture *f = *state;
	put_contact(f, "C-1", "Ann.Lee@Example.com");
	put_contact(f, "C-0", "ANN.LEE@example.COM");
	put_contact(f, "C-2", " Bob@Example.com ");
	put_contact(f, "C-3", "J\xc3\xb6rg@Ex\xc3\xa4mple.com");
	put_contact(f, "C-4", NULL);
	const char *addr[] = { "ann.lee@EXAMPLE.com", " BOB@example.com ", "bob@example.com",
			       "J\xc3\xb6rg@ex\xc3\xa4mple.COM", "j\xc3\xb6rg@xn--exmple-cua.com", "nobody@example.com" };
	const char *want[] = { "C-0", "C-2", "C-2", "C-3", "C-3", "none" };
	uint64_t small[CA_ARRAY_SIZE(addr)];
	for (size_t i = 0; i < CA_ARRAY_SIZE(addr); i++) {
		uint64_t w = ca_store_work(f->s);
		assert_string_equal(by_email(f, addr[i]), want[i]);
		small[i] = ca_store_work(f->s) - w;
	}
	/* Thousands more contacts, of both kinds of address. */
	OK(ca_store_begin(f->s, &f->err));
	for (int i = 0; i < 3000; i++) {
		char id[32], email[64];
		snprintf(id, sizeof(id), "D-%05d", i);
		snprintf(email, sizeof(email), i % 2 ? "Person.%d@Example.com" : " p%d@example.com ", i);
		put_contact(f, id, email);
	}
	OK(ca_store_commit(f->s, &f->err));
	for (size_t i = 0; i < CA_ARRAY_SIZE(addr); i++) {
		uint64_t w = ca_store_work(f->s);
		assert_string_equal(by_email(f, addr[i]), want[i]);
		uint64_t big = ca_store_work(f->s) - w;
		if (big > small[i] + 20)
			fail_msg("finding %s took %llu steps with 3,005 contacts, %llu with 5: not through an index",
				 addr[i], (unsigned long long)big, (unsigned long long)small[i]);
	}
	assert_string_equal(by_email(f, "person.7@example.com"), "D-00007");
	assert_string_equal(by_email(f, " p8@example.com "), "D-00008");
	assert_string_equal(by_email(f, "P8@Example.COM"), "D-00008");
}

static void test_case_create_get(void **state)
{
	fixture *f = *state;
	int64_t id = 0, n = -1;
	char *ticket = NULL;
	OK(ca_store_case_count(f->s, &n, &f->err));
	assert_int_equal(n, 0);
	OK(ca_store_case_create(f->s, "chat", "c1", &id, &ticket, &f->err));
	assert_int_equal(id, 1);
	assert_string_equal(ticket, "CAS-00001");
	free(ticket);
	OK(ca_store_case_create(f->s, "email", NULL, &id, &ticket, &f->err));
	assert_int_equal(id, 2);
	assert_string_equal(ticket, "CAS-00002");
	free(ticket);
	OK(ca_store_case_count(f->s, &n, &f->err));
	assert_int_equal(n, 2);

	json_t *c = NULL;
	OK(ca_store_case_get(f->s, "CAS-00001", &c, &f->err));
	assert_int_equal(json_integer_value(json_object_get(c, "id")), 1);
	assert_string_equal(ca_json_str(c, "ticket_number"), "CAS-00001");
	assert_int_equal(json_integer_value(json_object_get(c, "version")), 1);
	assert_string_equal(ca_json_str(c, "conversation_id"), "c1");
	assert_string_equal(ca_json_str(c, "origin"), "chat");
	assert_string_equal(ca_json_str(c, "created_at"), NOW_ISO);
	assert_string_equal(ca_json_str(c, "updated_at"), NOW_ISO);
	assert_string_equal(field_of(c, "status"), "active");
	assert_string_equal(field_of(c, "origin"), "chat");
	assert_string_equal(field_of(c, "ticket_number"), "CAS-00001");
	assert_null(field_of(c, "title"));
	json_decref(c);

	OK(ca_store_case_get(f->s, "2", &c, &f->err));
	assert_string_equal(ca_json_str(c, "ticket_number"), "CAS-00002");
	assert_true(json_is_null(json_object_get(c, "conversation_id")));
	json_t *c2 = NULL;
	OK(ca_store_case_get_id(f->s, 2, &c2, &f->err));
	assert_true(json_equal(c, c2));
	json_decref(c);
	json_decref(c2);

	FAILS(CA_ENOTFOUND, ca_store_case_get(f->s, "CAS-00099", &c, &f->err));
	assert_non_null(strstr(f->err.message, "CAS-00099"));
	FAILS(CA_ENOTFOUND, ca_store_case_get(f->s, "99", &c, &f->err));
	FAILS(CA_ENOTFOUND, ca_store_case_get_id(f->s, 99, &c, &f->err));
	assert_non_null(strstr(f->err.message, "99"));
	FAILS(CA_EINVAL, ca_store_case_get(f->s, "", &c, &f->err));

	OK(ca_store_case_create(f->s, "chat", "c3", &id, NULL, &f->err));
	json_t *list = NULL;
	OK(ca_store_case_list(f->s, 0, &list, &f->err));
	assert_int_equal(json_array_size(list), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 2), "id")), 1);
	json_decref(list);
	OK(ca_store_case_list(f->s, 2, &list, &f->err));
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "id")), 2);
	json_decref(list);
}

static void test_case_write_fields(void **state)
{
	fixture *f = *state;
	int64_t id;
	OK(ca_store_case_create(f->s, "chat", NULL, &id, NULL, &f->err));
	json_t *p = prov("person", "alice", -1);

	/* Every standard field has its column (model.h's list is the schema). */
	for (size_t i = 0; i < ca_case_standard_field_count; i++) {
		const char *name = ca_case_standard_fields[i];
		char v[64];
		snprintf(v, sizeof(v), "v-%s", name);
		OK(ca_store_case_write(f->s, id, name, v, p, &f->err));
	}
	OK(ca_store_case_write(f->s, id, "warranty_until", "2025-01-31", p, &f->err));
	OK(ca_store_case_write(f->s, id, "Ünicode field", "välue ✓", p, &f->err));
	json_t *c = NULL;
	OK(ca_store_case_get_id(f->s, id, &c, &f->err));
	for (size_t i = 0; i < ca_case_standard_field_count; i++) {
		char v[64];
		snprintf(v, sizeof(v), "v-%s", ca_case_standard_fields[i]);
		assert_string_equal(field_of(c, ca_case_standard_fields[i]), v);
	}
	assert_string_equal(field_of(c, "warranty_until"), "2025-01-31");
	assert_string_equal(field_of(c, "Ünicode field"), "välue ✓");
	/* The ticket column moved with the field. */
	assert_string_equal(ca_json_str(c, "ticket_number"), "v-ticket_number");
	json_decref(c);
	OK(ca_store_case_get(f->s, "v-ticket_number", &c, &f->err));
	json_decref(c);

	/* NULL clears, for standard columns and custom fields alike. */
	OK(ca_store_case_write(f->s, id, "title", NULL, p, &f->err));
	OK(ca_store_case_write(f->s, id, "warranty_until", NULL, p, &f->err));
	OK(ca_store_case_get_id(f->s, id, &c, &f->err));
	assert_null(json_object_get(json_object_get(c, "fields"), "title"));
	assert_null(json_object_get(json_object_get(c, "fields"), "warranty_until"));
	assert_string_equal(field_of(c, "category"), "v-category");
	json_decref(c);

	/* A field name is data, never SQL. */
	const char *evil = "title = 'x' WHERE 1; DROP TABLE case_record; --";
	OK(ca_store_case_write(f->s, id, evil, "harmless", p, &f->err));
	OK(ca_store_case_get_id(f->s, id, &c, &f->err));
	assert_string_equal(field_of(c, evil), "harmless");
	assert_null(json_object_get(json_object_get(c, "fields"), "title"));
	json_decref(c);

	/* Refusals name the case and the reason, and write nothing. */
	FAILS(CA_ENOTFOUND, ca_store_case_write(f->s, 999, "title", "x", p, &f->err));
	assert_non_null(strstr(f->err.message, "999"));
	FAILS(CA_ENOTFOUND, ca_store_case_write(f->s, 999, "custom", "x", p, &f->err));
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "version", "7", p, &f->err));
	assert_non_null(strstr(f->err.message, "version"));
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "", "x", p, &f->err));
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "bad\nname", "x", p, &f->err));
	FAILS(CA_EUTF8, ca_store_case_write(f->s, id, "title", "bad \xC3\x28 text", p, &f->err));
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "title", "x", NULL, &f->err));
	json_t *badp = json_pack("{s:s}", "source", "robot");
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "title", "x", badp, &f->err));
	assert_non_null(strstr(f->err.message, "robot"));
	json_decref(badp);
	badp = json_pack("{s:s, s:f}", "source", "agent", "confidence", 1.5);
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "title", "x", badp, &f->err));
	assert_string_equal(f->err.where, "confidence");
	json_decref(badp);
	badp = json_pack("{s:s, s:s}", "source", "agent", "why", "because");
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id, "title", "x", badp, &f->err));
	assert_string_equal(f->err.where, "why");
	json_decref(badp);

	/* Ticket numbers stay unique and present. */
	int64_t id2;
	OK(ca_store_case_create(f->s, "chat", NULL, &id2, NULL, &f->err));
	FAILS(CA_EEXIST, ca_store_case_write(f->s, id2, "ticket_number", "v-ticket_number", p, &f->err));
	FAILS(CA_EINVAL, ca_store_case_write(f->s, id2, "ticket_number", NULL, p, &f->err));
	json_t *audit = NULL;
	OK(ca_store_audit_list(f->s, id2, &audit, &f->err));
	assert_int_equal(json_array_size(audit), 0);
	json_decref(audit);
	json_decref(p);
}

static void test_provenance_replaced(void **state)
{
	fixture *f = *state;
	int64_t id;
	OK(ca_store_case_create(f->s, "chat", "c1", &id, NULL, &f->err));
	json_t *agent = json_pack("{s:s, s:s, s:f, s:s, s:[{s:s, s:i, s:i}]}", "source", "agent", "actor", "caseagent",
				  "confidence", 0.625, "method", "liblinear", "evidence", "message", "m1", "begin", 0,
				  "end", 12);
	OK(ca_store_case_write(f->s, id, "title", "Router drops Wi-Fi", agent, &f->err));
	OK(ca_store_case_write(f->s, id, "category", "connectivity", agent, &f->err));
	json_t *pv = NULL;
	OK(ca_store_case_provenance(f->s, id, &pv, &f->err));
	json_t *t = json_object_get(pv, "title");
	assert_string_equal(ca_json_str(t, "source"), "agent");
	assert_true(json_real_value(json_object_get(t, "confidence")) == 0.625);
	assert_string_equal(ca_json_str(t, "method"), "liblinear");
	assert_true(json_equal(json_object_get(t, "evidence"), json_object_get(agent, "evidence")));
	assert_string_equal(ca_json_str(t, "at"), NOW_ISO);
	json_decref(pv);

	json_t *person = prov("person", "alice", -1);
	OK(ca_store_case_write(f->s, id, "title", "Wi-Fi drops every hour", person, &f->err));
	OK(ca_store_case_provenance(f->s, id, &pv, &f->err));
	assert_int_equal(json_object_size(pv), 2);
	t = json_object_get(pv, "title");
	assert_string_equal(ca_json_str(t, "source"), "person");
	assert_string_equal(ca_json_str(t, "actor"), "alice");
	assert_true(json_is_null(json_object_get(t, "confidence")));
	assert_true(json_is_null(json_object_get(t, "evidence")));
	assert_string_equal(ca_json_str(json_object_get(pv, "category"), "source"), "agent");
	json_decref(pv);
	FAILS(CA_ENOTFOUND, ca_store_case_provenance(f->s, 77, &pv, &f->err));
	json_decref(agent);
	json_decref(person);
}

static void test_audit_rows(void **state)
{
	fixture *f = *state;
	int64_t id;
	OK(ca_store_case_create(f->s, "email", NULL, &id, NULL, &f->err));
	json_t *agent = prov("agent", "caseagent", 0.9);
	json_t *person = prov("person", "bob", -1);
	OK(ca_store_case_write(f->s, id, "priority", "high", agent, &f->err));
	OK(ca_store_case_write(f->s, id, "priority", "low", person, &f->err));
	OK(ca_store_case_write(f->s, id, "priority", NULL, person, &f->err));
	OK(ca_store_case_write(f->s, id, "sla", "gold", agent, &f->err));
	json_t *a = NULL;
	OK(ca_store_audit_list(f->s, id, &a, &f->err));
	assert_int_equal(json_array_size(a), 4);
	json_t *r0 = json_array_get(a, 0), *r1 = json_array_get(a, 1), *r2 = json_array_get(a, 2),
	       *r3 = json_array_get(a, 3);
	assert_string_equal(ca_json_str(r0, "field"), "priority");
	assert_true(json_is_null(json_object_get(r0, "old_value")));
	assert_string_equal(ca_json_str(r0, "new_value"), "high");
	assert_string_equal(ca_json_str(r0, "source"), "agent");
	assert_true(json_real_value(json_object_get(r0, "confidence")) == 0.9);
	assert_string_equal(ca_json_str(r0, "at"), NOW_ISO);
	assert_string_equal(ca_json_str(r1, "old_value"), "high");
	assert_string_equal(ca_json_str(r1, "new_value"), "low");
	assert_string_equal(ca_json_str(r1, "actor"), "bob");
	assert_true(json_is_null(json_object_get(r1, "confidence")));
	assert_string_equal(ca_json_str(r2, "old_value"), "low");
	assert_true(json_is_null(json_object_get(r2, "new_value")));
	assert_string_equal(ca_json_str(r3, "field"), "sla");
	assert_true(json_integer_value(json_object_get(r0, "id")) < json_integer_value(json_object_get(r1, "id")));
	assert_true(json_integer_value(json_object_get(r2, "id")) < json_integer_value(json_object_get(r3, "id")));
	json_decref(a);
	/* Other cases' audit stays separate. */
	int64_t id2;
	OK(ca_store_case_create(f->s, "email", NULL, &id2, NULL, &f->err));
	OK(ca_store_audit_list(f->s, id2, &a, &f->err));
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	FAILS(CA_ENOTFOUND, ca_store_audit_list(f->s, 404, &a, &f->err));
	json_decref(agent);
	json_decref(person);
}

static void test_bump_version(void **state)
{
	fixture *f = *state;
	int64_t id, v = 0;
	OK(ca_store_case_create(f->s, "chat", NULL, &id, NULL, &f->err));
	OK(ca_store_case_bump_version(f->s, id, 1, &v, &f->err));
	assert_int_equal(v, 2);
	v = 0;
	FAILS(CA_ECONFLICT, ca_store_case_bump_version(f->s, id, 1, &v, &f->err));
	assert_int_equal(v, 0); /* ret_* untouched on failure */
	assert_non_null(strstr(f->err.message, "version 2"));
	OK(ca_store_case_bump_version(f->s, id, 2, &v, &f->err));
	assert_int_equal(v, 3);
	json_t *c = NULL;
	OK(ca_store_case_get_id(f->s, id, &c, &f->err));
	assert_int_equal(json_integer_value(json_object_get(c, "version")), 3);
	json_decref(c);
	FAILS(CA_ENOTFOUND, ca_store_case_bump_version(f->s, 55, 1, &v, &f->err));
}

static void test_rollback(void **state)
{
	fixture *f = *state;
	int64_t before, after, id;
	OK(ca_store_case_create(f->s, "chat", NULL, &id, NULL, &f->err));
	OK(ca_store_case_count(f->s, &before, &f->err));
	json_t *p = prov("agent", "caseagent", 0.8);

	OK(ca_store_begin(f->s, &f->err));
	int64_t nid;
	char *ticket = NULL;
	OK(ca_store_case_create(f->s, "chat", "c9", &nid, &ticket, &f->err));
	OK(ca_store_case_write(f->s, nid, "title", "half", p, &f->err));
	OK(ca_store_case_write(f->s, id, "title", "also undone", p, &f->err));
	OK(ca_store_note_add(f->s, nid, "note", "undone", NULL, "alice", &f->err));
	ca_store_rollback(f->s);
	ca_store_rollback(f->s); /* harmless twice */

	OK(ca_store_case_count(f->s, &after, &f->err));
	assert_int_equal(after, before);
	json_t *c = NULL;
	FAILS(CA_ENOTFOUND, ca_store_case_get(f->s, ticket, &c, &f->err));
	OK(ca_store_case_get_id(f->s, id, &c, &f->err));
	assert_null(field_of(c, "title"));
	json_decref(c);
	json_t *a = NULL;
	OK(ca_store_audit_list(f->s, id, &a, &f->err));
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);

	/* The rolled-back number is handed out again: ids come from the
	 * counter table inside the transaction. */
	int64_t again;
	char *ticket2 = NULL;
	FAILS(CA_ESTATE, ca_store_commit(f->s, &f->err));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_case_create(f->s, "chat", "c9", &again, &ticket2, &f->err));
	OK(ca_store_case_write(f->s, again, "title", "kept", p, &f->err));
	OK(ca_store_commit(f->s, &f->err));
	assert_int_equal(again, nid);
	assert_string_equal(ticket2, ticket);
	OK(ca_store_case_get(f->s, ticket2, &c, &f->err));
	assert_string_equal(field_of(c, "title"), "kept");
	json_decref(c);
	free(ticket);
	free(ticket2);
	json_decref(p);
}

/* An inner begin/commit is a savepoint: its rollback undoes its own writes
 * alone; its commit is kept only if the outer transaction commits. */
static void test_nested_transactions(void **state)
{
	fixture *f = *state;
	int64_t before, n, kept, undone;
	json_t *p = prov("person", "alice", -1);
	OK(ca_store_case_count(f->s, &before, &f->err));
	assert_false(ca_store_in_transaction(f->s));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_case_create(f->s, "chat", NULL, &kept, NULL, &f->err));
	OK(ca_store_commit(f->s, &f->err));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_case_create(f->s, "chat", NULL, &undone, NULL, &f->err));
	OK(ca_store_case_write(f->s, kept, "title", "undone with its savepoint", p, &f->err));
	ca_store_rollback(f->s);
	assert_true(ca_store_in_transaction(f->s));
	OK(ca_store_commit(f->s, &f->err));
	assert_false(ca_store_in_transaction(f->s));
	OK(ca_store_case_count(f->s, &n, &f->err));
	assert_int_equal(n, before + 1);
	json_t *c = NULL;
	OK(ca_store_case_get_id(f->s, kept, &c, &f->err));
	assert_null(field_of(c, "title"));
	json_decref(c);
	/* The outer rollback takes the inner commits with it. */
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_case_write(f->s, kept, "title", "committed inside, rolled back outside", p, &f->err));
	OK(ca_store_commit(f->s, &f->err));
	ca_store_rollback(f->s);
	OK(ca_store_case_get_id(f->s, kept, &c, &f->err));
	assert_null(field_of(c, "title"));
	json_decref(c);
	FAILS(CA_ESTATE, ca_store_commit(f->s, &f->err));
	json_decref(p);
}

/* The SQLite driver, except that releasing a savepoint fails while
 * fail_release is set: a commit of an inner level that fails. */
static bool fail_release;

static int failing_exec(void *conn, const char *sql, const ca_sql_param *p, size_t n, ca_err *err)
{
	if (fail_release && !strncmp(sql, "RELEASE SAVEPOINT ca_tx", 23))
		return ca_err_set(err, CA_EDB, NULL, "test: release refused");
	return ca_sqlite_driver.exec(conn, sql, p, n, err);
}

/* A failed inner commit undoes its own writes, and the rollback the caller
 * follows it with does not reach the enclosing transaction. */
static void test_failed_inner_commit(void **state)
{
	fixture *f = *state;
	if (strcmp(f->b->drv->name, "sqlite"))
		skip();
	ca_sql_driver drv = ca_sqlite_driver;
	drv.exec = failing_exec;
	ca_store *s = NULL;
	OK(ca_store_open_with(&drv, f->dsn, &s, &f->err));
	json_t *p = prov("person", "alice", -1);
	int64_t outer, inner;
	OK(ca_store_begin(s, &f->err));
	OK(ca_store_case_create(s, "chat", NULL, &outer, NULL, &f->err));
	OK(ca_store_begin(s, &f->err));
	OK(ca_store_case_create(s, "chat", NULL, &inner, NULL, &f->err));
	fail_release = true;
	FAILS(CA_EDB, ca_store_commit(s, &f->err));
	fail_release = false;
	ca_store_rollback(s); /* as every caller does after a failure */
	assert_true(ca_store_in_transaction(s));
	OK(ca_store_case_write(s, outer, "title", "kept", p, &f->err));
	OK(ca_store_commit(s, &f->err));
	assert_false(ca_store_in_transaction(s));
	json_t *c = NULL;
	OK(ca_store_case_get_id(s, outer, &c, &f->err));
	assert_string_equal(field_of(c, "title"), "kept");
	json_decref(c);
	FAILS(CA_ENOTFOUND, ca_store_case_get_id(s, inner, &c, &f->err));
	json_decref(p);
	ca_store_close(s);
}

static void test_failure_inside_transaction(void **state)
{
	fixture *f = *state;
	json_t *p = prov("person", "alice", -1);
	int64_t a, b;
	OK(ca_store_case_create(f->s, "chat", NULL, &a, NULL, &f->err));
	OK(ca_store_begin(f->s, &f->err));
	OK(ca_store_case_create(f->s, "chat", NULL, &b, NULL, &f->err));
	OK(ca_store_case_write(f->s, b, "title", "first", p, &f->err));
	/* Fails after the call began its own work: only that call is undone. */
	FAILS(CA_EEXIST, ca_store_case_write(f->s, b, "ticket_number", "CAS-00001", p, &f->err));
	FAILS(CA_ENOTFOUND, ca_store_note_add(f->s, 4242, "note", "x", NULL, NULL, &f->err));
	OK(ca_store_case_write(f->s, b, "description", "second", p, &f->err));
	OK(ca_store_commit(f->s, &f->err));
	json_t *c = NULL, *audit = NULL;
	OK(ca_store_case_get_id(f->s, b, &c, &f->err));
	assert_string_equal(field_of(c, "title"), "first");
	assert_string_equal(field_of(c, "description"), "second");
	assert_string_equal(ca_json_str(c, "ticket_number"), "CAS-00002");
	json_decref(c);
	OK(ca_store_audit_list(f->s, b, &audit, &f->err));
	assert_int_equal(json_array_size(audit), 2);
	json_decref(audit);
	json_decref(p);
}

/*
 * Fault injection: a driver that wraps the backend under test and fails the
 * next statement starting with `fault_sql`, so "nothing half-written" is
 * checked where a call fails after it has already written something.
 */
static const ca_sql_driver *fault_base;
static const char *fault_sql;

static bool fault_hit(const char *sql, ca_err *err)
{
	if (!fault_sql || strncmp(sql, fault_sql, strlen(fault_sql)) != 0)
		return false;
	fault_sql = NULL;
	ca_err_set(err, CA_EDB, "fault", "injected failure");
	return true;
}

static int fault_exec(void *c, const char *sql, const ca_sql_param *p, size_t n, ca_err *err)
{
	return fault_hit(sql, err) ? CA_EDB : fault_base->exec(c, sql, p, n, err);
}

static int fault_query(void *c, const char *sql, const ca_sql_param *p, size_t n, ca_sql_row_fn fn, void *ud,
		       ca_err *err)
{
	return fault_hit(sql, err) ? CA_EDB : fault_base->query(c, sql, p, n, fn, ud, err);
}

static void test_nothing_half_written(void **state)
{
	fixture *f = *state;
	ca_sql_driver fd = *f->b->drv;
	fd.exec = fault_exec;
	fd.query = fault_query;
	fault_base = f->b->drv;
	ca_store *s = NULL;
	OK(ca_store_open_with(&fd, f->dsn, &s, &f->err));
	json_t *p = prov("agent", "caseagent", 0.7);
	int64_t id, n;

	/* Autocommit: the call is its own transaction. */
	fault_sql = "INSERT INTO case_record";
	FAILS(CA_EDB, ca_store_case_create(s, "chat", NULL, &id, NULL, &f->err));
	OK(ca_store_case_count(s, &n, &f->err));
	assert_int_equal(n, 0);
	OK(ca_store_case_create(s, "chat", NULL, &id, NULL, &f->err));
	assert_int_equal(id, 1); /* the counter bump was undone too */
	fault_sql = "INSERT INTO audit";
	FAILS(CA_EDB, ca_store_case_write(s, id, "title", "lost", p, &f->err));
	assert_non_null(strstr(f->err.message, "case 1 field 'title'"));
	fault_sql = "INSERT INTO audit";
	FAILS(CA_EDB, ca_store_case_write(s, id, "warranty", "lost", p, &f->err));
	json_t *c = NULL, *pv = NULL, *audit = NULL;
	OK(ca_store_case_get_id(s, id, &c, &f->err));
	assert_null(field_of(c, "title"));
	assert_null(field_of(c, "warranty"));
	json_decref(c);
	OK(ca_store_case_provenance(s, id, &pv, &f->err));
	assert_int_equal(json_object_size(pv), 0);
	json_decref(pv);

	/* Inside the caller's transaction: only the failed call is undone. */
	OK(ca_store_begin(s, &f->err));
	OK(ca_store_case_write(s, id, "description", "kept", p, &f->err));
	fault_sql = "INSERT INTO audit";
	FAILS(CA_EDB, ca_store_case_write(s, id, "title", "lost", p, &f->err));
	OK(ca_store_conversation_create(s, "c1", "chat", &f->err));
	fault_sql = "INSERT INTO message";
	FAILS(CA_EDB, ca_store_message_add(s, "c1", "m1", "customer", "lost", &f->err));
	OK(ca_store_message_add(s, "c1", "m2", "customer", "kept", &f->err));
	OK(ca_store_commit(s, &f->err));
	OK(ca_store_case_get_id(s, id, &c, &f->err));
	assert_null(field_of(c, "title"));
	assert_string_equal(field_of(c, "description"), "kept");
	json_decref(c);
	OK(ca_store_audit_list(s, id, &audit, &f->err));
	assert_int_equal(json_array_size(audit), 1);
	json_decref(audit);
	json_t *msgs = NULL;
	OK(ca_store_message_list(s, "c1", &msgs, &f->err));
	assert_int_equal(json_array_size(msgs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(msgs, 0), "seq")), 1);
	json_decref(msgs);

	/* A failed commit ends the transaction and keeps nothing. */
	OK(ca_store_begin(s, &f->err));
	OK(ca_store_case_write(s, id, "title", "lost at commit", p, &f->err));
	fault_sql = "COMMIT";
	FAILS(CA_EDB, ca_store_commit(s, &f->err));
	OK(ca_store_case_get_id(s, id, &c, &f->err));
	assert_null(field_of(c, "title"));
	json_decref(c);
	OK(ca_store_begin(s, &f->err)); /* not stuck in the old one */
	ca_store_rollback(s);

	fault_sql = NULL;
	ca_store_close(s);
	json_decref(p);
}

/* ---- conversations, messages, events ---- */

static void test_conversation(void **state)
{
	fixture *f = *state;
	OK(ca_store_conversation_create(f->s, "c1", "chat", &f->err));
	FAILS(CA_EEXIST, ca_store_conversation_create(f->s, "c1", "chat", &f->err));
	assert_non_null(strstr(f->err.message, "c1"));
	FAILS(CA_EINVAL, ca_store_conversation_create(f->s, "c2", "", &f->err));
	json_t *c = NULL;
	OK(ca_store_conversation_get(f->s, "c1", &c, &f->err));
	assert_string_equal(ca_json_str(c, "id"), "c1");
	assert_string_equal(ca_json_str(c, "channel"), "chat");
	assert_string_equal(ca_json_str(c, "state"), "open");
	assert_true(json_is_null(json_object_get(c, "case_id")));
	assert_true(json_is_null(json_object_get(c, "case_link")));
	assert_true(json_is_null(json_object_get(c, "contact_id")));
	assert_string_equal(ca_json_str(c, "opened_at"), NOW_ISO);
	assert_true(json_is_null(json_object_get(c, "closed_at")));
	assert_int_equal(json_integer_value(json_object_get(c, "message_count")), 0);
	json_decref(c);

	OK(ca_store_conversation_set_state(f->s, "c1", "active", &f->err));
	FAILS(CA_EINVAL, ca_store_conversation_set_state(f->s, "c1", "sleeping", &f->err));
	assert_non_null(strstr(f->err.message, "sleeping"));
	FAILS(CA_ENOTFOUND, ca_store_conversation_set_state(f->s, "nope", "active", &f->err));
	int64_t id;
	OK(ca_store_case_create(f->s, "chat", "c1", &id, NULL, &f->err));
	OK(ca_store_conversation_set_case(f->s, "c1", id, "agent", &f->err));
	FAILS(CA_EINVAL, ca_store_conversation_set_case(f->s, "c1", id, "robot", &f->err));
	FAILS(CA_ENOTFOUND, ca_store_conversation_set_case(f->s, "c1", 999, "person", &f->err));
	FAILS(CA_ENOTFOUND, ca_store_conversation_set_case(f->s, "nope", id, "person", &f->err));
	OK(ca_store_conversation_set_contact(f->s, "c1", "C-1", &f->err));
	FAILS(CA_ENOTFOUND, ca_store_conversation_set_contact(f->s, "nope", "C-1", &f->err));
	OK(ca_store_conversation_set_state(f->s, "c1", "closed", &f->err));
	OK(ca_store_conversation_get(f->s, "c1", &c, &f->err));
	assert_string_equal(ca_json_str(c, "contact_id"), "C-1");
	assert_string_equal(ca_json_str(c, "state"), "closed");
	assert_string_equal(ca_json_str(c, "closed_at"), NOW_ISO);
	assert_int_equal(json_integer_value(json_object_get(c, "case_id")), id);
	assert_string_equal(ca_json_str(c, "case_link"), "agent");
	json_decref(c);
	FAILS(CA_ENOTFOUND, ca_store_conversation_get(f->s, "c404", &c, &f->err));
	assert_non_null(strstr(f->err.message, "c404"));
}

static void test_messages(void **state)
{
	fixture *f = *state;
	OK(ca_store_conversation_create(f->s, "c1", "chat", &f->err));
	OK(ca_store_conversation_create(f->s, "c2", "chat", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m1", "customer", "My router keeps dropping.", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m2", "agent", "Sorry to hear! Which model?", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m3", "system", "Agent joined", &f->err));
	OK(ca_store_message_add(f->s, "c2", "m1", "customer", "Same id, other conversation", &f->err));
	FAILS(CA_EEXIST, ca_store_message_add(f->s, "c1", "m2", "agent", "again", &f->err));
	assert_non_null(strstr(f->err.message, "m2"));
	FAILS(CA_ENOTFOUND, ca_store_message_add(f->s, "c404", "m1", "agent", "x", &f->err));
	FAILS(CA_EINVAL, ca_store_message_add(f->s, "c1", "m9", "wizard", "x", &f->err));
	FAILS(CA_EUTF8, ca_store_message_add(f->s, "c1", "m9", "agent", "\xFF", &f->err));

	json_t *list = NULL;
	OK(ca_store_message_list(f->s, "c1", &list, &f->err));
	assert_int_equal(json_array_size(list), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *m = json_array_get(list, i);
		assert_int_equal(json_integer_value(json_object_get(m, "seq")), (json_int_t)i + 1);
		assert_string_equal(ca_json_str(m, "at"), NOW_ISO);
	}
	assert_string_equal(ca_json_str(json_array_get(list, 0), "id"), "m1");
	assert_string_equal(ca_json_str(json_array_get(list, 1), "role"), "agent");
	assert_string_equal(ca_json_str(json_array_get(list, 1), "text"), "Sorry to hear! Which model?");
	json_decref(list);
	json_t *c = NULL;
	OK(ca_store_conversation_get(f->s, "c1", &c, &f->err));
	assert_int_equal(json_integer_value(json_object_get(c, "message_count")), 3);
	json_decref(c);
	FAILS(CA_ENOTFOUND, ca_store_message_list(f->s, "c404", &list, &f->err));
}

static void test_events(void **state)
{
	fixture *f = *state;
	json_t *got = json_true(); /* must be overwritten with NULL */
	char *content = (char *)"x";
	OK(ca_store_event_lookup(f->s, "c1", "e1", &content, &got, &f->err));
	assert_null(got);
	assert_null(content);
	json_t *result = json_pack("{s:s, s:i}", "outcome", "created", "case_id", 4);
	OK(ca_store_event_record(f->s, "c1", "e1", "accept", "{\"type\":\"accept\"}", result, &f->err));
	OK(ca_store_event_lookup(f->s, "c1", "e1", &content, &got, &f->err));
	assert_true(json_equal(got, result));
	assert_string_equal(content, "{\"type\":\"accept\"}");
	free(content);
	json_decref(got);
	FAILS(CA_EEXIST, ca_store_event_record(f->s, "c1", "e1", "accept", NULL, result, &f->err));
	assert_non_null(strstr(f->err.message, "e1"));
	/* The same id in another conversation is another event. */
	OK(ca_store_event_lookup(f->s, "c2", "e1", &content, &got, &f->err));
	assert_null(got);
	OK(ca_store_event_record(f->s, "c2", "e1", "ping", NULL, NULL, &f->err));
	OK(ca_store_event_lookup(f->s, "c2", "e1", &content, &got, &f->err));
	assert_true(json_is_null(got)); /* seen, with no result */
	assert_null(content);
	json_decref(got);
	FAILS(CA_EINVAL, ca_store_event_record(f->s, "c1", "e3", "", NULL, result, &f->err));
	FAILS(CA_EINVAL, ca_store_event_record(f->s, NULL, "e3", "accept", NULL, result, &f->err));
	json_decref(result);
}

/* ---- notes, interactions, blobs ---- */

static void test_notes(void **state)
{
	fixture *f = *state;
	int64_t id;
	OK(ca_store_case_create(f->s, "chat", NULL, &id, NULL, &f->err));
	json_t *ev = json_pack("[{s:s, s:i, s:i}]", "message", "m1", "begin", 3, "end", 9);
	OK(ca_store_note_add(f->s, id, "summary", "Issue: Wi-Fi drops.", ev, "caseagent", &f->err));
	OK(ca_store_note_add(f->s, id, "note", "Called back.", NULL, "alice", &f->err));
	FAILS(CA_EINVAL, ca_store_note_add(f->s, id, "memo", "x", NULL, NULL, &f->err));
	FAILS(CA_EINVAL, ca_store_note_add(f->s, id, "note", "", NULL, NULL, &f->err));
	FAILS(CA_ENOTFOUND, ca_store_note_add(f->s, 31337, "note", "x", NULL, NULL, &f->err));
	json_t *list = NULL;
	OK(ca_store_note_list(f->s, id, &list, &f->err));
	assert_int_equal(json_array_size(list), 2);
	json_t *n0 = json_array_get(list, 0), *n1 = json_array_get(list, 1);
	assert_string_equal(ca_json_str(n0, "kind"), "summary");
	assert_string_equal(ca_json_str(n0, "body"), "Issue: Wi-Fi drops.");
	assert_true(json_equal(json_object_get(n0, "evidence"), ev));
	assert_string_equal(ca_json_str(n0, "actor"), "caseagent");
	assert_string_equal(ca_json_str(n0, "at"), NOW_ISO);
	assert_true(json_is_integer(json_object_get(n0, "id")));
	assert_true(json_is_null(json_object_get(n1, "evidence")));
	json_decref(list);
	FAILS(CA_ENOTFOUND, ca_store_note_list(f->s, 31337, &list, &f->err));
	json_decref(ev);
}

static void test_interactions(void **state)
{
	fixture *f = *state;
	json_t *detail = json_pack("{s:[s,s], s:f}", "missing", "product", "category", "ms", 12.5);
	OK(ca_store_interaction_add(f->s, "c1", 0, "accept", "not_created", detail, &f->err));
	OK(ca_store_interaction_add(f->s, "c1", 3, "update", "changed", NULL, &f->err));
	OK(ca_store_interaction_add(f->s, NULL, -1, "harvest", NULL, NULL, &f->err));
	json_t *arr = json_array();
	FAILS(CA_EINVAL, ca_store_interaction_add(f->s, "c1", 0, "accept", "x", arr, &f->err));
	json_decref(arr);
	FAILS(CA_EINVAL, ca_store_interaction_add(f->s, "c1", 0, "", "x", NULL, &f->err));

	json_t *list = NULL;
	OK(ca_store_interaction_list(f->s, "c1", &list, &f->err));
	assert_int_equal(json_array_size(list), 2);
	json_t *i0 = json_array_get(list, 0), *i1 = json_array_get(list, 1);
	assert_string_equal(ca_json_str(i0, "action"), "accept");
	assert_string_equal(ca_json_str(i0, "outcome"), "not_created");
	assert_true(json_is_null(json_object_get(i0, "case_id")));
	assert_true(json_equal(json_object_get(i0, "detail"), detail));
	assert_string_equal(ca_json_str(i0, "at"), NOW_ISO);
	assert_int_equal(json_integer_value(json_object_get(i1, "case_id")), 3);
	assert_string_equal(ca_json_str(i1, "conversation_id"), "c1");
	json_decref(list);
	OK(ca_store_interaction_list(f->s, NULL, &list, &f->err));
	assert_int_equal(json_array_size(list), 3);
	assert_true(json_is_null(json_object_get(json_array_get(list, 2), "conversation_id")));
	json_decref(list);

	/* Rows at once: all or none, ids one after another, each its own time. */
	ca_interaction_row rows[] = {
		{ "c2", 0, "update", "no_changes", detail, "2026-12-01T08:00:00Z" },
		{ "c2", 3, "", "changed", NULL, NULL }, /* an empty action is refused */
		{ "c2", 0, "update", "changed", NULL, NULL },
	};
	FAILS(CA_EINVAL, ca_store_interaction_add_rows(f->s, rows, 3, &f->err));
	assert_non_null(strstr(f->err.where, "row 2 of 3"));
	ca_err_clear(&f->err);
	OK(ca_store_interaction_list(f->s, "c2", &list, &f->err));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	rows[1].action = "update";
	OK(ca_store_interaction_add_rows(f->s, rows, 3, &f->err));
	OK(ca_store_interaction_add_rows(f->s, rows, 0, &f->err));
	OK(ca_store_interaction_list(f->s, "c2", &list, &f->err));
	assert_int_equal(json_array_size(list), 3);
	json_int_t id0 = json_integer_value(json_object_get(json_array_get(list, 0), "id"));
	for (size_t i = 0; i < 3; i++) {
		json_t *row = json_array_get(list, i);
		assert_int_equal(json_integer_value(json_object_get(row, "id")), id0 + (json_int_t)i);
		assert_string_equal(ca_json_str(row, "at"), i == 0 ? "2026-12-01T08:00:00Z" : NOW_ISO);
	}
	assert_true(json_equal(json_object_get(json_array_get(list, 0), "detail"), detail));
	json_decref(list);
	OK(ca_store_interaction_add(f->s, "c2", 0, "update", "changed", NULL, &f->err));
	OK(ca_store_interaction_list(f->s, "c2", &list, &f->err));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 3), "id")), id0 + 3);
	json_decref(list);
	json_decref(detail);
}

static void test_blobs(void **state)
{
	fixture *f = *state;
	char *data = NULL;
	size_t len = 99;
	FAILS(CA_ENOTFOUND, ca_store_blob_get(f->s, "model", &data, &len, &f->err));
	assert_null(data);
	assert_int_equal(len, 99);

	const char *model = "solver_type L2R_LR\nnr_class 3\nw\n0.25 -1 3.5\n";
	OK(ca_store_blob_put(f->s, "model", model, strlen(model), &f->err));
	OK(ca_store_blob_get(f->s, "model", &data, &len, &f->err));
	assert_int_equal(len, strlen(model));
	assert_memory_equal(data, model, len);
	assert_int_equal(data[len], '\0');
	free(data);

	/* Binary, with NULs and bytes that are not UTF-8, round-trips too. */
	char bin[300];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7 % 256);
	OK(ca_store_blob_put(f->s, "model", bin, sizeof(bin), &f->err));
	OK(ca_store_blob_get(f->s, "model", &data, &len, &f->err));
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(data, bin, sizeof(bin));
	free(data);

	OK(ca_store_blob_put(f->s, "empty", "", 0, &f->err));
	OK(ca_store_blob_get(f->s, "empty", &data, &len, &f->err));
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	FAILS(CA_EINVAL, ca_store_blob_put(f->s, "", "x", 1, &f->err));
	FAILS(CA_EINVAL, ca_store_blob_put(f->s, "n", NULL, 4, &f->err));
}

/* ---- training data ---- */

static void test_training_cases(void **state)
{
	fixture *f = *state;
	json_t *p = prov("person", "alice", -1);
	/* A: resolved, with a conversation. */
	OK(ca_store_conversation_create(f->s, "c1", "chat", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m1", "customer", "My router drops Wi-Fi.", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m2", "system", "Transferred to tier 2", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m3", "bot", "Please wait", &f->err));
	OK(ca_store_message_add(f->s, "c1", "m4", "agent", "Please update the firmware.", &f->err));
	int64_t a, b, c, d;
	OK(ca_store_case_create(f->s, "chat", "c1", &a, NULL, &f->err));
	OK(ca_store_case_write(f->s, a, "title", "Wi-Fi drops", p, &f->err));
	OK(ca_store_case_write(f->s, a, "category", "connectivity", p, &f->err));
	OK(ca_store_case_write(f->s, a, "status", "resolved", p, &f->err));
	/* B: closed, no conversation: title and description. */
	OK(ca_store_case_create(f->s, "email", NULL, &b, NULL, &f->err));
	OK(ca_store_case_write(f->s, b, "title", "Invoice wrong", p, &f->err));
	OK(ca_store_case_write(f->s, b, "description", "Charged twice in May.", p, &f->err));
	OK(ca_store_case_write(f->s, b, "status", "closed", p, &f->err));
	/* C: still active; D: resolved but its conversation has no messages. */
	OK(ca_store_case_create(f->s, "chat", NULL, &c, NULL, &f->err));
	OK(ca_store_case_write(f->s, c, "title", "Open one", p, &f->err));
	OK(ca_store_conversation_create(f->s, "c4", "chat", &f->err));
	OK(ca_store_case_create(f->s, "chat", "c4", &d, NULL, &f->err));
	OK(ca_store_case_write(f->s, d, "title", "Only a title", p, &f->err));
	OK(ca_store_case_write(f->s, d, "status", "resolved", p, &f->err));

	json_t *t = NULL;
	OK(ca_store_training_cases(f->s, &t, &f->err));
	assert_int_equal(json_array_size(t), 3);
	json_t *ta = json_array_get(t, 0), *tb = json_array_get(t, 1), *td = json_array_get(t, 2);
	assert_int_equal(json_integer_value(json_object_get(ta, "case_id")), a);
	assert_string_equal(ca_json_str(ta, "text"), "My router drops Wi-Fi.\nPlease update the firmware.");
	assert_string_equal(field_of(ta, "category"), "connectivity");
	assert_int_equal(json_integer_value(json_object_get(tb, "case_id")), b);
	assert_string_equal(ca_json_str(tb, "text"), "Invoice wrong\nCharged twice in May.");
	assert_string_equal(field_of(tb, "status"), "closed");
	assert_int_equal(json_integer_value(json_object_get(td, "case_id")), d);
	assert_string_equal(ca_json_str(td, "text"), "Only a title");
	json_decref(t);
	json_decref(p);
}

/* ---- knowledge articles: published means reviewed (issue 9, item 6) ---- */

static json_t *changes(const char *fmt_json)
{
	json_t *c = json_loads(fmt_json, 0, NULL);
	assert_non_null(c);
	return c;
}

static void test_published_means_reviewed(void **state)
{
	fixture *f = *state;
	json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "title", "Speaker too loud", "issue",
			      "The speaker turns its volume to maximum.", "resolution", "Turn the morning routine off.",
			      "state", "published", "compliance", "compliant", "audience", "external");
	int64_t id = 0;
	OK(ca_store_article_add(f->s, a, &id, NULL, &f->err));
	json_decref(a);
	const char *words[] = { "birdsong" };
	json_t *hits = NULL, *art = NULL, *c = NULL;

	/* a content change waits beside the published version, pending */
	c = changes("{\"issue\": \"The speaker plays birdsong at full volume.\"}");
	OK(ca_store_article_update(f->s, id, c, &f->err));
	json_decref(c);
	OK(ca_store_article_get(f->s, "KA-00001", &art, &f->err));
	assert_string_equal(ca_json_str(art, "issue"), "The speaker turns its volume to maximum.");
	assert_string_equal(ca_json_str(art, "state"), "published");
	const json_t *pv = json_object_get(art, "pending_version");
	assert_non_null(pv);
	assert_string_equal(ca_json_str(pv, "issue"), "The speaker plays birdsong at full volume.");
	assert_string_equal(ca_json_str(pv, "compliance"), "pending");
	assert_int_equal(json_integer_value(json_object_get(pv, "version_minor")), 1);
	json_decref(art);
	OK(ca_store_article_search(f->s, words, 1, true, "external", 10, &hits, &f->err));
	assert_int_equal(json_array_size(hits), 0); /* readers never see it */
	json_decref(hits);

	/* not published while pending; compliance goes to the new version */
	c = changes("{\"state\": \"published\"}");
	FAILS(CA_ESTATE, ca_store_article_update(f->s, id, c, &f->err));
	json_decref(c);
	c = changes("{\"compliance\": \"compliant\"}");
	OK(ca_store_article_update(f->s, id, c, &f->err));
	json_decref(c);
	OK(ca_store_article_search(f->s, words, 1, true, "external", 10, &hits, &f->err));
	assert_int_equal(json_array_size(hits), 0);
	json_decref(hits);
	/* published: it replaces the old content, as version 1.1 */
	c = changes("{\"state\": \"published\"}");
	OK(ca_store_article_update(f->s, id, c, &f->err));
	json_decref(c);
	OK(ca_store_article_get(f->s, "KA-00001", &art, &f->err));
	assert_string_equal(ca_json_str(art, "issue"), "The speaker plays birdsong at full volume.");
	assert_int_equal(json_integer_value(json_object_get(art, "version_minor")), 1);
	assert_null(json_object_get(art, "pending_version"));
	json_decref(art);
	OK(ca_store_article_search(f->s, words, 1, true, "external", 10, &hits, &f->err));
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);

	/* a rejected new version leaves the published article as it is */
	c = changes("{\"resolution\": \"Unplug it.\", \"compliance\": \"compliant\"}");
	OK(ca_store_article_update(f->s, id, c, &f->err));
	json_decref(c);
	c = changes("{\"state\": \"discarded\"}");
	OK(ca_store_article_update(f->s, id, c, &f->err));
	json_decref(c);
	OK(ca_store_article_get(f->s, "KA-00001", &art, &f->err));
	assert_string_equal(ca_json_str(art, "state"), "published");
	assert_string_equal(ca_json_str(art, "resolution"), "Turn the morning routine off.");
	assert_null(json_object_get(art, "pending_version"));
	json_decref(art);
}

/* ---- the table ---- */

static const struct CMUnitTest contract[] = {
	cmocka_unit_test_setup_teardown(test_driver_contract, setup, teardown),
	cmocka_unit_test_setup_teardown(test_sqlite_pragmas, setup, teardown),
	cmocka_unit_test_setup_teardown(test_open_twice, setup, teardown),
	cmocka_unit_test_setup_teardown(test_write_lock_waiter, setup, teardown),
	cmocka_unit_test_setup_teardown(test_driver_version_checked, setup, teardown),
	cmocka_unit_test_setup_teardown(test_column_names_after_schema_change, setup, teardown),
	cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
	cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
	cmocka_unit_test_setup_teardown(test_directory_keys, setup, teardown),
	cmocka_unit_test_setup_teardown(test_contact_by_email, setup, teardown),
	cmocka_unit_test_setup_teardown(test_case_create_get, setup, teardown),
	cmocka_unit_test_setup_teardown(test_case_write_fields, setup, teardown),
	cmocka_unit_test_setup_teardown(test_provenance_replaced, setup, teardown),
	cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
	cmocka_unit_test_setup_teardown(test_bump_version, setup, teardown),
	cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	cmocka_unit_test_setup_teardown(test_nested_transactions, setup, teardown),
	cmocka_unit_test_setup_teardown(test_failed_inner_commit, setup, teardown),
	cmocka_unit_test_setup_teardown(test_failure_inside_transaction, setup, teardown),
	cmocka_unit_test_setup_teardown(test_nothing_half_written, setup, teardown),
	cmocka_unit_test_setup_teardown(test_conversation, setup, teardown),
	cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
	cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	cmocka_unit_test_setup_teardown(test_notes, setup, teardown),
	cmocka_unit_test_setup_teardown(test_interactions, setup, teardown),
	cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
	cmocka_unit_test_setup_teardown(test_training_cases, setup, teardown),
	cmocka_unit_test_setup_teardown(test_published_means_reviewed, setup, teardown),
};

int main(void)
{
	setenv("CA_NOW", NOW_EPOCH, 1);
	int failed = 0;
	for (size_t b = 0; b < CA_ARRAY_SIZE(backends); b++) {
		char probe[512];
		if (!backends[b].dsn("/tmp", probe, sizeof(probe))) {
			printf("[  SKIP    ] store contract on %s: not configured\n", backends[b].name);
			continue;
		}
		/* The same tests, each handed this backend as its initial state. */
		struct CMUnitTest tests[CA_ARRAY_SIZE(contract)];
		memcpy(tests, contract, sizeof(tests));
		for (size_t i = 0; i < CA_ARRAY_SIZE(tests); i++)
			tests[i].initial_state = (void *)&backends[b];
		char group[64];
		snprintf(group, sizeof(group), "store contract: %s", backends[b].name);
		failed += cmocka_run_group_tests_name(group, tests, NULL, NULL);
	}
	return failed ? 1 : 0;
}
