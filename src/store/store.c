/* SPDX-License-Identifier: MIT */
/*
 * The repository: every table of the case agent behind typed calls, written
 * once in portable SQL over the driver interface so each backend passes the
 * same contract tests. It validates records at the door (clear errors naming
 * the record and key, nothing half-written), hands out ids from the counter
 * table inside the writing transaction, and makes every multi-statement call
 * atomic on its own: a savepoint inside the caller's transaction, or a short
 * transaction of its own in autocommit. SQL text is fixed; the only names
 * ever spliced into it are case columns taken from model.h's standard field
 * list, never from the caller's string.
 *
 * This file is the core the aggregates share: the parameter constructors,
 * validation and driver-call helpers, atomic sections, open/close and
 * transactions, and settings. The aggregates live beside it, one file each:
 * directory.c, case.c, conversation.c, email.c, knowledge.c and job.c, all
 * behind store.h and sharing what internal.h declares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"
#include "text.h"

/* ---- level 1 parameter constructors ---- */

ca_sql_param ca_sql_int(int64_t v)
{
	return (ca_sql_param){ .type = CA_SQL_INT, .i = v };
}

ca_sql_param ca_sql_real(double v)
{
	return (ca_sql_param){ .type = CA_SQL_REAL, .r = v };
}

ca_sql_param ca_sql_null(void)
{
	return (ca_sql_param){ .type = CA_SQL_NULL };
}

ca_sql_param ca_sql_blob(const void *p, size_t len)
{
	return p ? (ca_sql_param){ .type = CA_SQL_BLOB, .s = p, .len = len } : ca_sql_null();
}

ca_sql_param ca_sql_text(const char *s)
{
	return s ? (ca_sql_param){ .type = CA_SQL_TEXT, .s = s } : ca_sql_null();
}

/* ---- small helpers ---- */

/*
 * RFC 3629 well-formedness. Our own, not text.h's, because the store's
 * declared dependencies are base and model; jansson only validates while
 * copying, and cannot tell bad input from a failed allocation.
 */
bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - p) < len)
			return false;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += len;
	}
	return true;
}

/* A text input: present and non-empty when required, valid UTF-8 always. */
int check_str(const char *v, bool required, const char *what, const char *key, ca_err *err)
{
	if (!v || (required && !*v))
		return required ? ca_err_set(err, CA_EINVAL, key, "%s: %s is required", what, key) : 0;
	if (!utf8_valid(v, strlen(v)))
		return ca_err_set(err, CA_EUTF8, key, "%s: %s is not valid UTF-8", what, key);
	return 0;
}

bool one_of(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

void now_iso(char out[static 21])
{
	ca_time_iso(ca_time_now(), out);
}

int enomem(ca_err *err, const char *what)
{
	return ca_err_set(err, CA_ENOMEM, NULL, "%s: out of memory", what);
}

/* Compact JSON text of any value; caller frees. NULL only on ENOMEM. */
char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* ---- driver calls, with the record named in any failure ---- */

static int wrap(ca_err *err, int r, const char *what, const ca_err *e)
{
	return ca_err_set(err, r, e->where, "%s: %s", what, e->message[0] ? e->message : ca_strerror(r));
}

int db_exec(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	    ca_err *err)
{
	ca_err e;
	ca_err_clear(&e);
	s->ended = 0;
	int r = s->drv->exec(s->conn, sql, p, n, &e);
	return r ? wrap(err, r, what, &e) : 0;
}

int db_query(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	     ca_sql_row_fn fn, void *ud, ca_err *err)
{
	ca_err e;
	ca_err_clear(&e);
	s->ended = 0;
	int r = s->drv->query(s->conn, sql, p, n, fn, ud, &e);
	return r ? wrap(err, r, what, &e) : 0;
}

/* One result cell as JSON: integers, reals, strings, null. */
static int cell(const ca_sql_row *row, size_t i, json_t **ret)
{
	const char *t = row->text[i];
	json_t *v = NULL;
	int64_t iv;
	double dv;
	switch (row->types[i]) {
	case CA_SQL_NULL:
		v = json_null();
		break;
	case CA_SQL_INT:
		if (ca_parse_i64(t, &iv) < 0)
			return CA_EDB;
		v = json_integer(iv);
		break;
	case CA_SQL_REAL:
		if (ca_parse_double(t, &dv) < 0)
			return CA_EDB;
		v = json_real(dv);
		break;
	case CA_SQL_TEXT:
	default:
		v = json_stringn(t, row->lens[i]); /* checks the UTF-8, as the value came from a file */
		if (!v && !utf8_valid(t, row->lens[i]))
			return CA_EUTF8;
		break;
	}
	if (!v)
		return CA_ENOMEM;
	*ret = v;
	return 0;
}

typedef struct rows_ctx {
	json_t *arr;
	int rc;
} rows_ctx;

static int collect_row(const ca_sql_row *row, void *ud)
{
	rows_ctx *c = ud;
	json_t *o = json_object();
	if (!o) {
		c->rc = CA_ENOMEM;
		return 1;
	}
	for (size_t i = 0; i < row->n; i++) {
		json_t *v;
		int r = cell(row, i, &v);
		/* column names are the SQL's own identifiers: no UTF-8 to check */
		if (!r && json_object_set_new_nocheck(o, row->names[i], v) < 0)
			r = CA_ENOMEM;
		if (r) {
			c->rc = r;
			json_decref(o);
			return 1;
		}
	}
	if (json_array_append_new(c->arr, o) < 0) {
		c->rc = CA_ENOMEM;
		return 1;
	}
	return 0;
}

/* All rows as an array of objects keyed by column name (new reference). */
int db_rows(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	    json_t **ret, ca_err *err)
{
	rows_ctx c = { .arr = json_array() };
	if (!c.arr)
		return enomem(err, what);
	int r = db_query(s, what, sql, p, n, collect_row, &c, err);
	if (!r && c.rc) {
		r = c.rc == CA_ENOMEM ? enomem(err, what)
				      : ca_err_set(err, c.rc, NULL, "%s: a stored value is not readable (%s)", what,
						   ca_strerror(c.rc));
	}
	if (r) {
		json_decref(c.arr);
		return r;
	}
	*ret = c.arr;
	return 0;
}

void first_row_done(first_row *f)
{
	for (size_t i = 0; i < FIRST_MAX; i++)
		free(f->v[i]);
}

static int take_first(const ca_sql_row *row, void *ud)
{
	first_row *f = ud;
	f->found = true;
	for (size_t i = 0; i < row->n && i < FIRST_MAX; i++) {
		if (!row->text[i])
			continue;
		f->v[i] = strdup(row->text[i]);
		if (!f->v[i]) {
			f->rc = CA_ENOMEM;
			break;
		}
	}
	return 1;
}

int db_first(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	     first_row *f, ca_err *err)
{
	*f = (first_row){ .found = false };
	int r = db_query(s, what, sql, p, n, take_first, f, err);
	if (!r && f->rc)
		r = enomem(err, what);
	if (r)
		first_row_done(f);
	return r;
}

/* First column of the first row as an integer; *found false when no row. */
int db_i64(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	   int64_t *ret, bool *found, ca_err *err)
{
	first_row f;
	int r = db_first(s, what, sql, p, n, &f, err);
	if (r)
		return r;
	*found = f.found;
	if (f.found && (!f.v[0] || ca_parse_i64(f.v[0], ret) < 0))
		r = ca_err_set(err, CA_EDB, NULL, "%s: expected a number from the database, got '%s'", what,
			       f.v[0] ? f.v[0] : "NULL");
	first_row_done(&f);
	return r;
}

/* First column of the first row as a heap string (NULL for SQL NULL). */
int db_str(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	   char **ret, bool *found, ca_err *err)
{
	first_row f;
	int r = db_first(s, what, sql, p, n, &f, err);
	if (r)
		return r;
	*found = f.found;
	*ret = f.v[0];
	f.v[0] = NULL;
	first_row_done(&f);
	return 0;
}

int case_of(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n, bool *found,
	    int64_t *ret_case, ca_err *err)
{
	bool f;
	int64_t c = 0;
	int r = db_i64(s, what, sql, p, n, &c, &f, err);
	*found = !r && f;
	*ret_case = *found ? c : 0;
	return r;
}

int take_id(const ca_sql_row *row, void *ud)
{
	ids_ctx *c = ud;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		int64_t *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->rc = CA_ENOMEM;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	if (!row->text[0] || ca_parse_i64(row->text[0], &c->v[c->n]) < 0) {
		c->rc = CA_EDB;
		return 1;
	}
	c->n++;
	return 0;
}

/* ---- atomic sections ---- */

/*
 * Undo one level: back to `savepoint` and let it go, or (NULL) the whole
 * transaction. Never fails visibly: nothing useful can be done when
 * ROLLBACK itself fails, and the backend ends the transaction on its own
 * (SQLite on error, PostgreSQL on disconnect).
 */
static void undo_level(ca_store *s, const char *savepoint)
{
	ca_err ignored;
	ca_err_clear(&ignored);
	if (s->dir_bumps && (s->dir_bumped_serial == s->unit_serial || !s->tx_depth)) {
		/* A directory generation this level may have moved is undone:
		 * whoever remembered answers under that number must not trust
		 * it again (ca_store_directory_generation), and the next write
		 * in the transaction moves it afresh. */
		s->dir_bumps++;
		s->dir_bumped_serial = 0;
		s->gen_serial = 0;
	}
	if (!savepoint) {
		(void)s->drv->exec(s->conn, "ROLLBACK", NULL, 0, &ignored);
		return;
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT %s", savepoint);
	(void)s->drv->exec(s->conn, sql, NULL, 0, &ignored);
	snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT %s", savepoint);
	(void)s->drv->exec(s->conn, sql, NULL, 0, &ignored);
}

/*
 * Makes one repository call all-or-nothing. Inside the caller's transaction a
 * savepoint, so a failed call leaves the caller's earlier work intact (and,
 * on PostgreSQL, the transaction usable); in autocommit a transaction of its
 * own. Nested sections join the outer one.
 */
int op_begin(ca_store *s, const char *what, ca_err *err)
{
	if (s->op_depth++ > 0)
		return 0;
	s->ev_op_mark = s->ev_n;
	int r = db_exec(s, what, s->tx_depth ? "SAVEPOINT ca_op" : "BEGIN", NULL, 0, err);
	if (r)
		s->op_depth = 0;
	return r;
}

int op_end(ca_store *s, int r, const char *what, ca_err *err)
{
	if (--s->op_depth > 0)
		return r;
	/* In autocommit this is the transaction: its events go with it. */
	if (!r && !s->tx_depth)
		r = fts_flush(s, err);
	if (!r && !s->tx_depth)
		r = ev_flush(s, err);
	if (!r) {
		r = db_exec(s, what, s->tx_depth ? "RELEASE SAVEPOINT ca_op" : "COMMIT", NULL, 0, err);
		if (!r) {
			if (!s->tx_depth)
				ev_truncate(s, 0);
			return 0;
		}
	}
	/* The first failure is the one to report; undoing it cannot add a
	 * better reason. */
	undo_level(s, s->tx_depth ? "ca_op" : NULL);
	ev_truncate(s, s->ev_op_mark);
	if (!s->tx_depth)
		s->fts_n = 0;
	return r;
}

/* Next id of a numbered record; call inside an atomic section. */
int next_id(ca_store *s, const char *what, const char *counter, int64_t *ret, ca_err *err)
{
	return next_ids(s, what, counter, 1, ret, err);
}

int next_ids(ca_store *s, const char *what, const char *counter, int64_t n, int64_t *ret_first, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(n), ca_sql_text(counter) };
	bool found;
	int64_t last = 0;
	int r = db_i64(s, what, "UPDATE counter SET value = value + ? WHERE name = ? RETURNING value", p, 2, &last,
		       &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_EDB, "counter", "%s: id counter '%s' is missing from the database", what,
			       counter);
	if (!r)
		*ret_first = last - n + 1;
	return r;
}

/* Parse a column that holds JSON text back into JSON, in place. */
int parse_col(json_t *obj, const char *key, const char *what, ca_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return 0;
	json_error_t je;
	json_t *j = json_loads(json_string_value(v), JSON_DECODE_ANY, &je);
	if (!j)
		return ca_err_set(err, CA_EPARSE, key, "%s: stored %s is not JSON: %s", what, key, je.text);
	if (json_object_set_new(obj, key, j) < 0)
		return enomem(err, what);
	return 0;
}

int parse_col_all(json_t *arr, const char *key, const char *what, ca_err *err)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		int r = parse_col(o, key, what, err);
		if (r)
			return r;
	}
	return 0;
}

int case_exists(ca_store *s, const char *what, int64_t id, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(id) };
	int64_t v;
	bool found;
	int r = db_i64(s, what, "SELECT id FROM case_record WHERE id = ?", p, 1, &v, &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_ENOTFOUND, "case_id", "case %lld not found", (long long)id);
	return r;
}

/* ---- open, close, transactions ---- */

int ca_store_open_with(const ca_sql_driver *drv, const char *dsn, ca_store **ret, ca_err *err)
{
	if (!drv || drv->version != CA_SQL_DRIVER_VERSION)
		return ca_err_set(err, CA_EUNSUPPORTED, "driver",
				  "store driver '%s' speaks interface version %u; this build needs %d",
				  drv && drv->name ? drv->name : "?", drv ? drv->version : 0u, CA_SQL_DRIVER_VERSION);
	ca_store *s = calloc(1, sizeof(*s));
	if (!s)
		return enomem(err, "opening the store");
	s->drv = drv;
	int r = drv->open(dsn, &s->conn, err);
	if (!r)
		r = ca_store_migrate(drv, s->conn, &s->schema_version, err);
	if (r) {
		ca_store_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ca_store_open(const char *path, ca_store **ret, ca_err *err)
{
	return ca_store_open_with(&ca_sqlite_driver, path, ret, err);
}

void ca_store_close(ca_store *s)
{
	if (!s)
		return;
	while (s->tx_depth)
		ca_store_rollback(s);
	ev_free(s);
	free(s->fts_dirty);
	if (s->conn)
		s->drv->close(s->conn);
	ca_stemmer_free(s->st);
	free(s);
}

int ca_store_schema_version(ca_store *s)
{
	return s->schema_version;
}

uint64_t ca_store_work(ca_store *s)
{
	return s->drv->work ? s->drv->work(s->conn) : 0;
}

int ca_store_checkpoint(ca_store *s, int how, ca_err *err)
{
	return s->drv->checkpoint ? s->drv->checkpoint(s->conn, how, err) : 0;
}

int ca_store_bulk(ca_store *s, bool on, ca_err *err)
{
	return s->drv->bulk ? s->drv->bulk(s->conn, on, err) : 0;
}

int ca_store_temp_in_memory(ca_store *s, bool on, ca_err *err)
{
	return s->drv->temp_in_memory ? s->drv->temp_in_memory(s->conn, on, err) : 0;
}

bool ca_store_contended(ca_store *s)
{
	return s->drv->contended ? s->drv->contended(s->conn) : false;
}

/* One more level: its events are those noted from here on. */
static int begin_level(ca_store *s, const char *what, const char *sql, ca_err *err)
{
	int r = ev_reserve_level(s, err);
	if (!r)
		r = db_exec(s, what, sql, NULL, 0, err);
	if (!r && s->tx_depth == 0) {
		s->tx_serial++;
		s->unit_serial++;
	}
	if (!r)
		s->ev_marks[s->tx_depth++] = s->ev_n;
	return r;
}

void ca_store_unit_end(ca_store *s)
{
	if (s && s->tx_depth)
		s->unit_serial++;
}

int ca_store_begin(ca_store *s, ca_err *err)
{
	return begin_level(s, "begin transaction", s->tx_depth ? "SAVEPOINT ca_tx" : "BEGIN", err);
}

int ca_store_begin_read(ca_store *s, ca_err *err)
{
	return begin_level(s, "begin read", s->tx_depth ? "SAVEPOINT ca_tx" : "BEGIN READ ONLY", err);
}

int ca_store_commit(ca_store *s, ca_err *err)
{
	if (!s->tx_depth)
		return ca_err_set(err, CA_ESTATE, "transaction", "commit without an open transaction");
	/* The transaction's search rows and events are written in it, last. */
	int r = s->tx_depth == 1 ? fts_flush(s, err) : 0;
	if (!r && s->tx_depth == 1)
		r = ev_flush(s, err);
	if (!r)
		r = db_exec(s, "commit", s->tx_depth > 1 ? "RELEASE SAVEPOINT ca_tx" : "COMMIT", NULL, 0, err);
	if (r) {
		/* A failed commit writes nothing, and says so by ending its
		 * level rather than leaving it half-open; the rollback callers
		 * follow a failure with then ends nothing more. */
		ca_store_rollback(s);
		s->ended = s->tx_depth + 1;
		return r;
	}
	if (--s->tx_depth == 0)
		ev_truncate(s, 0);
	return 0;
}

void ca_store_rollback(ca_store *s)
{
	if (s && s->ended == s->tx_depth + 1) { /* the level a failed commit ended */
		s->ended = 0;
		return;
	}
	if (!s || !s->tx_depth)
		return;
	undo_level(s, s->tx_depth > 1 ? "ca_tx" : NULL);
	ev_truncate(s, s->ev_marks[--s->tx_depth]);
	if (!s->tx_depth)
		s->fts_n = 0; /* (a savepoint's cases stay noted: indexing a case again is harmless) */
}

bool ca_store_in_transaction(const ca_store *s)
{
	return s->tx_depth > 0;
}

/* ---- settings ---- */

int ca_store_settings_get(ca_store *s, char **ret, ca_err *err)
{
	char *body = NULL;
	bool found;
	int r = db_str(s, "settings", "SELECT body FROM settings WHERE id = 1", NULL, 0, &body, &found, err);
	if (r)
		return r;
	if (!found || !body) {
		free(body);
		return ca_err_set(err, CA_ENOTFOUND, "settings", "settings have not been imported yet");
	}
	*ret = body;
	return 0;
}

int ca_store_settings_put(ca_store *s, const char *json_text, ca_err *err)
{
	if (!json_text)
		return ca_err_set(err, CA_EINVAL, "settings", "settings: no document given");
	json_error_t je;
	json_t *j = json_loads(json_text, 0, &je);
	if (!j)
		return ca_err_set(err, CA_EPARSE, "settings", "settings: line %d column %d: %s", je.line, je.column,
				  je.text);
	json_decref(j);
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(json_text), ca_sql_text(at) };
	return db_exec(s, "settings",
		       "INSERT INTO settings (id, body, updated_at, generation) VALUES (1, ?, ?, 1) "
		       "ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, "
		       "generation = settings.generation + 1",
		       p, CA_ARRAY_SIZE(p), err);
}

int ca_store_settings_generation(ca_store *s, int64_t *ret, ca_err *err)
{
	int64_t g = 0;
	bool found = false;
	int r = db_i64(s, "settings", "SELECT generation FROM settings WHERE id = 1", NULL, 0, &g, &found, err);
	if (!r)
		*ret = found ? g : 0;
	return r;
}
