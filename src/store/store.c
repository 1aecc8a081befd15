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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"
#include "model.h"
#include "text.h"

struct ca_store {
	const ca_sql_driver *drv;
	void *conn;
	ca_stemmer *st; /* for directory name keys; made on first use */
	int schema_version;
	int tx_depth; /* the caller's open ca_store_begin calls: 1 a transaction, more savepoints in it */
	int ended;    /* tx_depth + 1 when a failed commit has just ended that level: the caller's
		       * rollback that follows is for it, and must not reach the enclosing one */
	int op_depth; /* nesting of the repository's own atomic sections */
};

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
static bool utf8_valid(const char *s, size_t n)
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
static int check_str(const char *v, bool required, const char *what, const char *key, ca_err *err)
{
	if (!v || (required && !*v))
		return required ? ca_err_set(err, CA_EINVAL, key, "%s: %s is required", what, key) : 0;
	if (!utf8_valid(v, strlen(v)))
		return ca_err_set(err, CA_EUTF8, key, "%s: %s is not valid UTF-8", what, key);
	return 0;
}

static bool one_of(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

static void now_iso(char out[static 21])
{
	ca_time_iso(ca_time_now(), out);
}

static int enomem(ca_err *err, const char *what)
{
	return ca_err_set(err, CA_ENOMEM, NULL, "%s: out of memory", what);
}

/* Compact JSON text of any value; caller frees. NULL only on ENOMEM. */
static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* ---- driver calls, with the record named in any failure ---- */

static int wrap(ca_err *err, int r, const char *what, const ca_err *e)
{
	return ca_err_set(err, r, e->where, "%s: %s", what, e->message[0] ? e->message : ca_strerror(r));
}

static int db_exec(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
		   ca_err *err)
{
	ca_err e;
	ca_err_clear(&e);
	s->ended = 0;
	int r = s->drv->exec(s->conn, sql, p, n, &e);
	return r ? wrap(err, r, what, &e) : 0;
}

static int db_query(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
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
		v = json_string(t);
		if (!v && !utf8_valid(t, strlen(t)))
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
		if (!r && json_object_set_new(o, row->names[i], v) < 0)
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
static int db_rows(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
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

/* The first row's first columns as heap strings; NULL for SQL NULL. */
#define FIRST_MAX 2
typedef struct first_row {
	bool found;
	int rc;
	char *v[FIRST_MAX];
} first_row;

static void first_row_done(first_row *f)
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

static int db_first(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
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
static int db_i64(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
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
static int db_str(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
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
static int op_begin(ca_store *s, const char *what, ca_err *err)
{
	if (s->op_depth++ > 0)
		return 0;
	int r = db_exec(s, what, s->tx_depth ? "SAVEPOINT ca_op" : "BEGIN", NULL, 0, err);
	if (r)
		s->op_depth = 0;
	return r;
}

static int op_end(ca_store *s, int r, const char *what, ca_err *err)
{
	if (--s->op_depth > 0)
		return r;
	if (!r) {
		r = db_exec(s, what, s->tx_depth ? "RELEASE SAVEPOINT ca_op" : "COMMIT", NULL, 0, err);
		if (!r)
			return 0;
	}
	/* The first failure is the one to report; undoing it cannot add a
	 * better reason. */
	undo_level(s, s->tx_depth ? "ca_op" : NULL);
	return r;
}

/* Next id of a numbered record; call inside an atomic section. */
static int next_id(ca_store *s, const char *what, const char *counter, int64_t *ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(counter) };
	bool found;
	int r = db_i64(s, what, "UPDATE counter SET value = value + 1 WHERE name = ? RETURNING value", p, 1, ret,
		       &found, err);
	if (!r && !found)
		r = ca_err_set(err, CA_EDB, "counter", "%s: id counter '%s' is missing from the database", what,
			       counter);
	return r;
}

/* Parse a column that holds JSON text back into JSON, in place. */
static int parse_col(json_t *obj, const char *key, const char *what, ca_err *err)
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

static int parse_col_all(json_t *arr, const char *key, const char *what, ca_err *err)
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

static int case_exists(ca_store *s, const char *what, int64_t id, ca_err *err)
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

int ca_store_bulk(ca_store *s, bool on, ca_err *err)
{
	return s->drv->bulk ? s->drv->bulk(s->conn, on, err) : 0;
}

bool ca_store_contended(ca_store *s)
{
	return s->drv->contended ? s->drv->contended(s->conn) : false;
}

int ca_store_begin(ca_store *s, ca_err *err)
{
	int r = db_exec(s, "begin transaction", s->tx_depth ? "SAVEPOINT ca_tx" : "BEGIN", NULL, 0, err);
	if (!r)
		s->tx_depth++;
	return r;
}

int ca_store_commit(ca_store *s, ca_err *err)
{
	if (!s->tx_depth)
		return ca_err_set(err, CA_ESTATE, "transaction", "commit without an open transaction");
	int r = db_exec(s, "commit", s->tx_depth > 1 ? "RELEASE SAVEPOINT ca_tx" : "COMMIT", NULL, 0, err);
	if (r) {
		/* A failed commit writes nothing, and says so by ending its
		 * level rather than leaving it half-open; the rollback callers
		 * follow a failure with then ends nothing more. */
		ca_store_rollback(s);
		s->ended = s->tx_depth + 1;
		return r;
	}
	s->tx_depth--;
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
	s->tx_depth--;
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
		       "INSERT INTO settings (id, body, updated_at) VALUES (1, ?, ?) "
		       "ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
		       p, CA_ARRAY_SIZE(p), err);
}

/* ---- directory ---- */

#define DIR_MAX_COLS 7
#define DIR_MAX_KEYS 5
_Static_assert(DIR_MAX_COLS + DIR_MAX_KEYS <= CA_DIR_ROW_MAX, "a ca_dir_row holds every column and key");

/* A lookup key column and the column it is computed from (model.h). */
typedef struct dir_key {
	const char *col;
	const char *from;
	ca_dir_key type;
} dir_key;

typedef struct dir_kind {
	const char *kind;
	const char *name_key;
	const char *cols[DIR_MAX_COLS]; /* cols[0] is "id"; order of the SQL below */
	size_t ncols;
	const char *json_col; /* column holding a JSON array, or NULL */
	const char *upsert;   /* cols, then keys */
	const char *get;
	const char *list;
	dir_key keys[DIR_MAX_KEYS];
	size_t nkeys;
	/* per key: SELECT id, name FROM kind WHERE key = ? ORDER BY id LIMIT ? */
	const char *find[DIR_MAX_KEYS];
	const char *prefix; /* a name key in [?, ?) exists */
	const char *fill;   /* records after an id, for migration 11 */
} dir_kind;

/* Upserts replace the whole record: a key left out of the new version is
 * NULL afterwards, as store.h promises. */
static const dir_kind dir_kinds[] = {
	{ "contact", "full_name",
	  { "id", "full_name", "email", "phone", "username", "account_number", "account_id" }, 7, NULL,
	  "INSERT INTO contact (id, full_name, email, phone, username, account_number, account_id, "
	  "email_key, phone_key, username_key, account_key, name_key) "
	  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, "
	  "email = excluded.email, phone = excluded.phone, username = excluded.username, "
	  "account_number = excluded.account_number, account_id = excluded.account_id, "
	  "email_key = excluded.email_key, phone_key = excluded.phone_key, username_key = excluded.username_key, "
	  "account_key = excluded.account_key, name_key = excluded.name_key",
	  "SELECT id, full_name, email, phone, username, account_number, account_id FROM contact WHERE id = ?",
	  "SELECT id, full_name, email, phone, username, account_number, account_id FROM contact ORDER BY id",
	  { { "email_key", "email", CA_DIRKEY_EMAIL },
	    { "phone_key", "phone", CA_DIRKEY_PHONE },
	    { "username_key", "username", CA_DIRKEY_USERNAME },
	    { "account_key", "account_number", CA_DIRKEY_ACCOUNT_NUMBER },
	    { "name_key", "full_name", CA_DIRKEY_NAME } }, 5,
	  { "SELECT id, full_name FROM contact WHERE email_key = ? ORDER BY id LIMIT ?",
	    "SELECT id, full_name FROM contact WHERE phone_key = ? ORDER BY id LIMIT ?",
	    "SELECT id, full_name FROM contact WHERE username_key = ? ORDER BY id LIMIT ?",
	    "SELECT id, full_name FROM contact WHERE account_key = ? ORDER BY id LIMIT ?",
	    "SELECT id, full_name FROM contact WHERE name_key = ? ORDER BY id LIMIT ?" },
	  "SELECT 1 FROM contact WHERE name_key >= ? AND name_key < ? LIMIT 1",
	  "SELECT id, full_name, email, phone, username, account_number FROM contact WHERE id > ? ORDER BY id LIMIT 1000" },
	{ "account", "name", { "id", "name", "account_number", "email", "phone" }, 5, NULL,
	  "INSERT INTO account (id, name, account_number, email, phone, account_key, name_key) "
	  "VALUES (?, ?, ?, ?, ?, ?, ?) "
	  "ON CONFLICT (id) DO UPDATE SET name = excluded.name, account_number = excluded.account_number, "
	  "email = excluded.email, phone = excluded.phone, account_key = excluded.account_key, "
	  "name_key = excluded.name_key",
	  "SELECT id, name, account_number, email, phone FROM account WHERE id = ?",
	  "SELECT id, name, account_number, email, phone FROM account ORDER BY id",
	  { { "account_key", "account_number", CA_DIRKEY_ACCOUNT_NUMBER }, { "name_key", "name", CA_DIRKEY_NAME } }, 2,
	  { "SELECT id, name FROM account WHERE account_key = ? ORDER BY id LIMIT ?",
	    "SELECT id, name FROM account WHERE name_key = ? ORDER BY id LIMIT ?" },
	  "SELECT 1 FROM account WHERE name_key >= ? AND name_key < ? LIMIT 1",
	  "SELECT id, name, account_number FROM account WHERE id > ? ORDER BY id LIMIT 1000" },
	{ "product", "name", { "id", "name", "aliases", "product_number" }, 4, "aliases",
	  "INSERT INTO product (id, name, aliases, product_number) VALUES (?, ?, ?, ?) "
	  "ON CONFLICT (id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases, "
	  "product_number = excluded.product_number",
	  "SELECT id, name, aliases, product_number FROM product WHERE id = ?",
	  "SELECT id, name, aliases, product_number FROM product ORDER BY id", { { 0 } }, 0, { 0 }, NULL, NULL },
	{ "subject", "name", { "id", "name", "parent_id" }, 3, NULL,
	  "INSERT INTO subject (id, name, parent_id) VALUES (?, ?, ?) "
	  "ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id",
	  "SELECT id, name, parent_id FROM subject WHERE id = ?",
	  "SELECT id, name, parent_id FROM subject ORDER BY id", { { 0 } }, 0, { 0 }, NULL, NULL },
};

static int find_kind(const char *kind, const dir_kind **ret, ca_err *err)
{
	for (size_t i = 0; kind && i < CA_ARRAY_SIZE(dir_kinds); i++) {
		if (strcmp(dir_kinds[i].kind, kind) == 0) {
			*ret = &dir_kinds[i];
			return 0;
		}
	}
	return ca_err_set(err, CA_EINVAL, "kind", "unknown directory kind '%s' (contact, account, product, subject)",
			  kind ? kind : "(null)");
}

static int col_index(const dir_kind *k, const char *key)
{
	for (size_t i = 0; i < k->ncols; i++)
		if (strcmp(k->cols[i], key) == 0)
			return (int)i;
	return -1;
}

/* Directory records round-trip as given: a NULL column is an absent key. */
static int dir_record(json_t *row, const dir_kind *k, const char *what, ca_err *err)
{
	const char *key;
	json_t *v, *tmp;
	json_object_foreach_safe(row, tmp, key, v) {
		if (json_is_null(v))
			json_object_del(row, key);
	}
	return k->json_col ? parse_col(row, k->json_col, what, err) : 0;
}

/* Validate a record and fill the column parameters (strings borrowed from
 * rec, the JSON column's text in *ret_json_text for the caller to free). */
static int dir_params(const dir_kind *k, const json_t *rec, ca_sql_param *p, char **ret_json_text, ca_err *err)
{
	const char *kind = k->kind;
	int r = 0;
	*ret_json_text = NULL;
	if (!json_is_object(rec))
		return ca_err_set(err, CA_EINVAL, kind, "%s record is not a JSON object", kind);
	const char *id = ca_json_str(rec, "id");
	if (ca_str_empty(id))
		return ca_err_set(err, CA_EINVAL, "id", "%s record: \"id\" is required (a non-empty string)", kind);
	const char *name = ca_json_str(rec, k->name_key);
	if (ca_str_empty(name))
		return ca_err_set(err, CA_EINVAL, k->name_key, "%s '%s': \"%s\" is required (a non-empty string)",
				  kind, id, k->name_key);
	for (size_t i = 0; i < k->ncols + k->nkeys; i++)
		p[i] = ca_sql_null();
	char *json_text = NULL;
	const char *key;
	json_t *v;
	/* jansson's iterator wants a mutable object; it is only read here. */
	json_object_foreach((json_t *)rec, key, v) {
		int ci = col_index(k, key);
		if (ci < 0) {
			r = ca_err_set(err, CA_EINVAL, key, "%s '%s': unknown key '%s'", kind, id, key);
			break;
		}
		if (json_is_null(v))
			continue;
		if (k->json_col && strcmp(key, k->json_col) == 0) {
			bool ok = json_is_array(v);
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				ok = ok && json_is_string(e);
			}
			if (!ok) {
				r = ca_err_set(err, CA_EINVAL, key, "%s '%s': \"%s\" must be an array of strings", kind,
					       id, key);
				break;
			}
			json_text = dump(v);
			if (!json_text) {
				r = ca_err_set(err, CA_ENOMEM, key, "%s '%s': out of memory", kind, id);
				break;
			}
			p[ci] = ca_sql_text(json_text);
			continue;
		}
		if (!json_is_string(v)) {
			r = ca_err_set(err, CA_EINVAL, key, "%s '%s': \"%s\" must be a string or null", kind, id, key);
			break;
		}
		p[ci] = ca_sql_text(json_string_value(v));
	}
	if (r) {
		free(json_text);
		return r;
	}
	*ret_json_text = json_text;
	return 0;
}

void ca_dir_row_done(ca_dir_row *row)
{
	if (!row)
		return;
	for (size_t i = 0; i < row->n; i++)
		free(row->v[i]);
	memset(row, 0, sizeof(*row));
}

int ca_store_directory_prepare(ca_store *s, const char *kind, const json_t *rec, ca_dir_row *ret, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = find_kind(kind, &k, err);
	if (r)
		return r;
	ca_sql_param p[DIR_MAX_COLS + DIR_MAX_KEYS];
	char *json_text = NULL;
	if ((r = dir_params(k, rec, p, &json_text, err)))
		return r;
	ca_dir_row row = { .kind = k->kind, .n = k->ncols + k->nkeys };
	/* Copies, so the row outlives the record (an importer spools it). */
	for (size_t i = 0; !r && i < k->ncols; i++)
		if (p[i].type == CA_SQL_TEXT && !(row.v[i] = strdup(p[i].s)))
			r = enomem(err, kind);
	free(json_text);
	if (!r && k->nkeys && !s->st && !(s->st = ca_stemmer_new()))
		r = enomem(err, kind);
	for (size_t i = 0; !r && i < k->nkeys; i++) {
		const char *from = row.v[col_index(k, k->keys[i].from)];
		if (from && ca_dir_key_of(k->keys[i].type, from, s->st, &row.v[k->ncols + i]))
			r = enomem(err, kind);
	}
	if (r) {
		ca_dir_row_done(&row);
		return r;
	}
	*ret = row;
	return 0;
}

int ca_store_directory_put_row(ca_store *s, const ca_dir_row *row, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = find_kind(row->kind, &k, err);
	if (r)
		return r;
	if (row->n != k->ncols + k->nkeys || !row->v[0])
		return ca_err_set(err, CA_EINVAL, row->kind, "%s row: %zu values, not %zu", row->kind, row->n,
				  k->ncols + k->nkeys);
	ca_sql_param p[DIR_MAX_COLS + DIR_MAX_KEYS];
	for (size_t i = 0; i < row->n; i++)
		p[i] = ca_sql_text(row->v[i]);
	char what[160];
	snprintf(what, sizeof(what), "%s '%s'", row->kind, row->v[0]);
	return db_exec(s, what, k->upsert, p, row->n, err);
}

int ca_store_directory_put(ca_store *s, const char *kind, const json_t *rec, ca_err *err)
{
	ca_dir_row row;
	int r = ca_store_directory_prepare(s, kind, rec, &row, err);
	if (r)
		return r;
	r = ca_store_directory_put_row(s, &row, err);
	ca_dir_row_done(&row);
	return r;
}

/* ---- directory lookups through the key indexes ---- */

typedef struct find_ctx {
	ca_store_dir_hit_fn fn;
	void *ud;
	unsigned type;
	int stopped;
} find_ctx;

static int find_row(const ca_sql_row *row, void *ud)
{
	find_ctx *f = ud;
	if (row->n < 2 || !row->text[0])
		return 0;
	f->stopped = f->fn(row->text[0], row->text[1] ? row->text[1] : row->text[0], f->type, f->ud);
	return f->stopped;
}

static int keyed_kind(const char *kind, const dir_kind **ret, ca_err *err)
{
	int r = find_kind(kind, ret, err);
	if (!r && !(*ret)->nkeys)
		r = ca_err_set(err, CA_EINVAL, "kind", "%s records are not looked up by key (contact, account)", kind);
	return r;
}

int ca_store_directory_find(ca_store *s, const char *kind, unsigned types, const char *key, size_t limit,
			    ca_store_dir_hit_fn fn, void *ud, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = keyed_kind(kind, &k, err);
	if (r || ca_str_empty(key))
		return r;
	find_ctx f = { .fn = fn, .ud = ud };
	for (size_t i = 0; !r && !f.stopped && i < k->nkeys; i++) {
		if (!(types & k->keys[i].type))
			continue;
		f.type = k->keys[i].type;
		ca_sql_param p[] = { ca_sql_text(key), ca_sql_int((int64_t)(limit ? limit : 1)) };
		r = db_query(s, kind, k->find[i], p, 2, find_row, &f, err);
	}
	return r ? r : f.stopped;
}

static int count_row(const ca_sql_row *row, void *ud)
{
	int64_t v = 0;
	if (row->n && row->text[0] && ca_parse_i64(row->text[0], &v) == 0 && v >= 0)
		*(size_t *)ud = (size_t)v;
	return 1;
}

int ca_store_directory_count(ca_store *s, const char *kind, size_t at_most, size_t *ret, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = find_kind(kind, &k, err);
	if (r)
		return r;
	/* The kind is one of the fixed names above, never the caller's text. */
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM (SELECT 1 FROM %s LIMIT ?)", k->kind);
	size_t n = 0;
	ca_sql_param p[] = { ca_sql_int((int64_t)at_most + 1) };
	r = db_query(s, kind, sql, p, 1, count_row, &n, err);
	if (!r)
		*ret = n;
	return r;
}

static int found_row(const ca_sql_row *row, void *ud)
{
	(void)row;
	*(bool *)ud = true;
	return 1;
}

int ca_store_directory_name_prefix(ca_store *s, const char *kind, const char *stems, bool *ret, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = keyed_kind(kind, &k, err);
	if (r)
		return r;
	/* Keys from `stems` up to `stems!`: the key itself and every key that
	 * goes on with a space, which sorts below '!'. Stems hold no control
	 * characters, so nothing else falls in the range. */
	ca_buf hi = { 0 };
	if (ca_buf_puts(&hi, stems ? stems : "") < 0 || ca_buf_puts(&hi, "!") < 0) {
		ca_buf_done(&hi);
		return enomem(err, kind);
	}
	bool found = false;
	ca_sql_param p[] = { ca_sql_text(stems ? stems : ""), ca_sql_text(hi.data) };
	r = db_query(s, kind, k->prefix, p, 2, found_row, &found, err);
	ca_buf_done(&hi);
	if (!r)
		*ret = found;
	return r;
}

/* Migration 11: the keys of records stored before keys existed. A batch of
 * rows is read first and then updated, so no query is open while writing. */
typedef struct fill_batch {
	json_t *rows;
} fill_batch;

static int fill_row(const ca_sql_row *row, void *ud)
{
	fill_batch *b = ud;
	json_t *o = json_object();
	for (size_t i = 0; o && i < row->n; i++)
		if (row->text[i] && json_object_set_new(o, row->names[i], json_string(row->text[i])) < 0) {
			json_decref(o);
			o = NULL;
		}
	return !o || json_array_append_new(b->rows, o) < 0 ? CA_ENOMEM : 0;
}

static int fill_kind(const ca_sql_driver *drv, void *conn, const dir_kind *k, ca_stemmer *st, ca_err *err)
{
	char *last = strdup("");
	ca_buf sql = { 0 };
	int r = last ? 0 : CA_ENOMEM;
	if (!r && ca_buf_printf(&sql, "UPDATE %s SET ", k->kind) < 0)
		r = CA_ENOMEM;
	for (size_t i = 0; !r && i < k->nkeys; i++)
		if (ca_buf_printf(&sql, "%s%s = ?", i ? ", " : "", k->keys[i].col) < 0)
			r = CA_ENOMEM;
	if (!r && ca_buf_puts(&sql, " WHERE id = ?") < 0)
		r = CA_ENOMEM;
	while (!r) {
		fill_batch b = { json_array() };
		if (!b.rows) {
			r = CA_ENOMEM;
			break;
		}
		ca_sql_param lp[] = { ca_sql_text(last) };
		r = drv->query(conn, k->fill, lp, 1, fill_row, &b, err);
		size_t n = json_array_size(b.rows), i;
		json_t *row;
		json_array_foreach(b.rows, i, row) {
			if (r)
				break;
			char *keys[DIR_MAX_KEYS] = { 0 };
			ca_sql_param p[DIR_MAX_KEYS + 1];
			for (size_t j = 0; !r && j < k->nkeys; j++) {
				r = ca_dir_key_of(k->keys[j].type, ca_json_str(row, k->keys[j].from), st, &keys[j]);
				p[j] = ca_sql_text(keys[j]);
			}
			p[k->nkeys] = ca_sql_text(ca_json_str(row, "id"));
			if (!r)
				r = drv->exec(conn, sql.data, p, k->nkeys + 1, err);
			for (size_t j = 0; j < k->nkeys; j++)
				free(keys[j]);
		}
		if (!r && n) {
			free(last);
			last = strdup(ca_json_str(json_array_get(b.rows, n - 1), "id"));
			if (!last)
				r = CA_ENOMEM;
		}
		json_decref(b.rows);
		if (n == 0)
			break;
	}
	if (r == CA_ENOMEM)
		ca_err_set(err, r, k->kind, "%s lookup keys: out of memory", k->kind);
	free(last);
	ca_buf_done(&sql);
	return r;
}

int ca_store_fill_dir_keys(const ca_sql_driver *drv, void *conn, ca_err *err)
{
	ca_stemmer *st = ca_stemmer_new();
	int r = st ? 0 : ca_err_set(err, CA_ENOMEM, "directory", "directory lookup keys: out of memory");
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(dir_kinds); i++)
		if (dir_kinds[i].nkeys)
			r = fill_kind(drv, conn, &dir_kinds[i], st, err);
	ca_stemmer_free(st);
	return r;
}

int ca_store_contact_by_email(ca_store *s, const char *email, bool *found, char **ret_id, ca_err *err)
{
	char *low = strdup(email ? email : "");
	if (!low)
		return enomem(err, "contact");
	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	ca_sql_param p[] = { ca_sql_text(low) };
	/* The same rows as LOWER(email) = ?, through two indexes: where the
	 * e-mail key is the lowered address (nearly always), the key's; where
	 * it is not, the partial LOWER(email) index of migration 14, whose
	 * condition the second branch repeats word for word so SQLite uses it. */
	int r = db_str(s, "contact",
		       "SELECT id FROM contact WHERE email_key = ?1 AND LOWER(email) = ?1 "
		       "UNION SELECT id FROM contact WHERE LOWER(email) = ?1 AND email IS NOT NULL AND "
		       "(email_key IS NULL OR email_key <> LOWER(email)) ORDER BY id LIMIT 1",
		       p, 1, ret_id, found, err);
	free(low);
	return r;
}

int ca_store_directory_get(ca_store *s, const char *kind, const char *id, json_t **ret, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = find_kind(kind, &k, err);
	if (r)
		return r;
	if (ca_str_empty(id))
		return ca_err_set(err, CA_EINVAL, "id", "%s: no id given", kind);
	char what[160];
	snprintf(what, sizeof(what), "%s '%s'", kind, id);
	ca_sql_param p[] = { ca_sql_text(id) };
	json_t *rows;
	r = db_rows(s, what, k->get, p, 1, &rows, err);
	if (r)
		return r;
	json_t *row = json_array_get(rows, 0);
	if (!row)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	else
		r = dir_record(row, k, what, err);
	if (!r)
		*ret = json_incref(row);
	json_decref(rows);
	return r;
}

int ca_store_directory_list(ca_store *s, const char *kind, json_t **ret, ca_err *err)
{
	const dir_kind *k = NULL;
	int r = find_kind(kind, &k, err);
	if (r)
		return r;
	json_t *rows;
	r = db_rows(s, kind, k->list, NULL, 0, &rows, err);
	if (r)
		return r;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		r = dir_record(row, k, kind, err);
		if (r) {
			json_decref(rows);
			return r;
		}
	}
	*ret = rows;
	return 0;
}

/* ---- cases ---- */

/* Columns the store manages itself; a field of that name would shadow them. */
static const char *const case_reserved[] = { "id", "version", "conversation_id", "created_at", "updated_at" };

/*
 * The case_record column for a standard field, from model.h's fixed list —
 * the pointer returned is that list's, never the caller's string, and is
 * checked to be a plain identifier before it goes into SQL.
 */
static const char *standard_column(const char *field)
{
	if (!ca_case_is_standard_field(field))
		return NULL;
	for (size_t i = 0; i < ca_case_standard_field_count; i++) {
		const char *c = ca_case_standard_fields[i];
		if (strcmp(c, field) != 0)
			continue;
		if (!*c || strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(c))
			return NULL;
		return c;
	}
	return NULL;
}

static int check_field_name(int64_t case_id, const char *field, ca_err *err)
{
	if (ca_str_empty(field))
		return ca_err_set(err, CA_EINVAL, "field", "case %lld: no field name given", (long long)case_id);
	size_t n = strlen(field);
	bool ctl = false;
	for (size_t i = 0; i < n; i++)
		ctl = ctl || (unsigned char)field[i] < 0x20 || field[i] == 0x7f;
	if (n > 128 || ctl || !utf8_valid(field, n))
		return ca_err_set(err, CA_EINVAL, "field",
				  "case %lld: field name is not a name (control characters, bad UTF-8 or over 128 bytes)",
				  (long long)case_id);
	if (one_of(field, case_reserved, CA_ARRAY_SIZE(case_reserved)))
		return ca_err_set(err, CA_EINVAL, field, "case %lld: field '%s' is managed by the store", (long long)case_id,
				  field);
	return 0;
}

/* One case row plus its custom fields, as the case JSON of store.h. */
static int case_json(json_t *row, json_t *customs, json_t **ret)
{
	json_t *c = json_object(), *fields = json_object();
	if (!c || !fields) {
		json_decref(c);
		json_decref(fields);
		return CA_ENOMEM;
	}
	static const char *const top[] = { "id", "ticket_number", "version", "conversation_id", "origin",
					   "created_at", "updated_at" };
	int bad = 0;
	for (size_t i = 0; i < CA_ARRAY_SIZE(top); i++) {
		json_t *v = json_object_get(row, top[i]);
		bad |= json_object_set(c, top[i], v ? v : json_null());
	}
	for (size_t i = 0; i < ca_case_standard_field_count; i++) {
		json_t *v = json_object_get(row, ca_case_standard_fields[i]);
		if (json_is_string(v))
			bad |= json_object_set(fields, ca_case_standard_fields[i], v);
	}
	size_t i;
	json_t *cf;
	json_array_foreach(customs, i, cf) {
		const char *f = ca_json_str(cf, "field");
		json_t *v = json_object_get(cf, "value");
		if (f && v)
			bad |= json_object_set(fields, f, v);
	}
	bad |= json_object_set_new(c, "fields", fields);
	if (bad) {
		json_decref(c);
		return CA_ENOMEM;
	}
	*ret = c;
	return 0;
}

int ca_store_case_get_id(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)id);
	ca_sql_param p[] = { ca_sql_int(id) };
	json_t *rows = NULL, *customs = NULL;
	int r = db_rows(s, what, "SELECT * FROM case_record WHERE id = ?", p, 1, &rows, err);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "case %lld not found", (long long)id);
	if (!r)
		r = db_rows(s, what, "SELECT field, value FROM case_custom_field WHERE case_id = ? ORDER BY field", p,
			    1, &customs, err);
	json_t *c = NULL;
	if (!r && case_json(json_array_get(rows, 0), customs, &c) < 0)
		r = enomem(err, what);
	json_decref(rows);
	json_decref(customs);
	if (!r)
		*ret = c;
	return r;
}

int ca_store_case_get(ca_store *s, const char *id_or_ticket, json_t **ret, ca_err *err)
{
	if (ca_str_empty(id_or_ticket))
		return ca_err_set(err, CA_EINVAL, "case", "no case id or ticket number given");
	/* Ticket first: an imported ticket number may itself be all digits. */
	ca_sql_param p[] = { ca_sql_text(id_or_ticket) };
	int64_t id;
	bool found;
	int r = db_i64(s, "case", "SELECT id FROM case_record WHERE ticket_number = ?", p, 1, &id, &found, err);
	if (r)
		return r;
	if (!found && ca_parse_i64(id_or_ticket, &id) < 0)
		return ca_err_set(err, CA_ENOTFOUND, "case", "case '%s' not found", id_or_ticket);
	return ca_store_case_get_id(s, id, ret, err);
}

int ca_store_case_create(ca_store *s, const char *origin, const char *conversation_id, int64_t *ret_id,
			 char **ret_ticket, ca_err *err)
{
	int r = check_str(origin, false, "new case", "origin", err);
	if (!r)
		r = check_str(conversation_id, false, "new case", "conversation_id", err);
	if (r)
		return r;
	r = op_begin(s, "new case", err);
	if (r)
		return r;
	int64_t id;
	ca_buf ticket;
	ca_buf_init(&ticket);
	r = next_id(s, "new case", "case", &id, err);
	if (!r && ca_buf_printf(&ticket, "CAS-%05lld", (long long)id) < 0)
		r = enomem(err, "new case");
	if (!r) {
		/* A hand-imported ticket may hold the number already. */
		ca_sql_param q[] = { ca_sql_text(ticket.data) };
		int64_t other;
		bool taken;
		r = db_i64(s, "new case", "SELECT id FROM case_record WHERE ticket_number = ?", q, 1, &other, &taken,
			   err);
		if (!r && taken)
			r = ca_err_set(err, CA_EEXIST, "ticket_number", "new case: ticket number %s is taken by case %lld",
				       ticket.data, (long long)other);
	}
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(ticket.data), ca_sql_text(conversation_id),
				     ca_sql_text(origin), ca_sql_text(at), ca_sql_text(at) };
		r = db_exec(s, ticket.data,
			    "INSERT INTO case_record (id, ticket_number, version, conversation_id, origin, status, "
			    "created_at, updated_at) VALUES (?, ?, 1, ?, ?, 'active', ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	r = op_end(s, r, "new case", err);
	if (r) {
		ca_buf_done(&ticket);
		return r;
	}
	/* Cannot fail: the buffer already holds the ticket, so steal only
	 * hands the pointer over. */
	char *t = ret_ticket ? ca_buf_steal(&ticket) : NULL;
	ca_buf_done(&ticket);
	*ret_id = id;
	if (ret_ticket)
		*ret_ticket = t;
	return 0;
}

/* Run an "SELECT id ..." query and build one item per id with `item`,
 * in the query's order: the shape of every list of whole cases. */
static int items_by_id(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
		       int (*item)(ca_store *, int64_t, json_t **, ca_err *), json_t **ret, ca_err *err)
{
	json_t *ids, *out = json_array();
	if (!out)
		return enomem(err, what);
	int r = db_rows(s, what, sql, p, n, &ids, err);
	if (r) {
		json_decref(out);
		return r;
	}
	size_t i;
	json_t *row;
	json_array_foreach(ids, i, row) {
		json_t *it;
		r = item(s, json_integer_value(json_object_get(row, "id")), &it, err);
		if (!r && json_array_append_new(out, it) < 0)
			r = enomem(err, what);
		if (r)
			break;
	}
	json_decref(ids);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int ca_store_case_list(ca_store *s, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(limit > INT64_MAX ? INT64_MAX : (int64_t)limit) };
	return limit ? items_by_id(s, "case list", "SELECT id FROM case_record ORDER BY id DESC LIMIT ?", p, 1,
				   ca_store_case_get_id, ret, err)
		     : items_by_id(s, "case list", "SELECT id FROM case_record ORDER BY id DESC", NULL, 0,
				   ca_store_case_get_id, ret, err);
}

int ca_store_case_count(ca_store *s, int64_t *ret, ca_err *err)
{
	int64_t n;
	bool found;
	int r = db_i64(s, "case count", "SELECT COUNT(*) FROM case_record", NULL, 0, &n, &found, err);
	if (!r)
		*ret = found ? n : 0;
	return r;
}

static const char *const prov_sources[] = { "agent", "person", "arc", "import", "system" };
static const char *const prov_keys[] = { "source", "actor", "confidence", "method", "evidence" };

typedef struct prov {
	const char *source, *actor, *method; /* borrowed from the JSON */
	bool has_confidence;
	double confidence;
	char *evidence; /* JSON text, heap, or NULL */
} prov;

static int prov_parse(const json_t *j, const char *what, prov *pv, ca_err *err)
{
	*pv = (prov){ .source = NULL };
	if (!json_is_object(j))
		return ca_err_set(err, CA_EINVAL, "prov", "%s: provenance is required (an object with \"source\")", what);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)j, key, v) { /* read only; jansson wants it mutable */
		if (!one_of(key, prov_keys, CA_ARRAY_SIZE(prov_keys)))
			return ca_err_set(err, CA_EINVAL, key, "%s: unknown provenance key '%s'", what, key);
		if (json_is_null(v))
			continue;
		if (strcmp(key, "confidence") == 0) {
			double c = json_number_value(v);
			if (!json_is_number(v) || !(c >= 0.0 && c <= 1.0))
				return ca_err_set(err, CA_EINVAL, key, "%s: confidence must be a number in [0, 1]", what);
			pv->has_confidence = true;
			pv->confidence = c;
		} else if (strcmp(key, "evidence") == 0) {
			if (!json_is_array(v))
				return ca_err_set(err, CA_EINVAL, key, "%s: evidence must be an array", what);
		} else if (!json_is_string(v)) {
			return ca_err_set(err, CA_EINVAL, key, "%s: provenance \"%s\" must be a string", what, key);
		}
	}
	pv->source = ca_json_str(j, "source");
	pv->actor = ca_json_str(j, "actor");
	pv->method = ca_json_str(j, "method");
	if (!one_of(pv->source, prov_sources, CA_ARRAY_SIZE(prov_sources)))
		return ca_err_set(err, CA_EINVAL, "source",
				  "%s: provenance source '%s' is not one of agent, person, arc, import, system", what,
				  pv->source ? pv->source : "(missing)");
	json_t *ev = json_object_get(j, "evidence");
	if (json_is_array(ev) && !(pv->evidence = dump(ev)))
		return enomem(err, what);
	return 0;
}

int ca_store_case_write(ca_store *s, int64_t case_id, const char *field, const char *value, const json_t *prov_j,
			ca_err *err)
{
	int r = check_field_name(case_id, field, err);
	if (r)
		return r;
	char what[192];
	snprintf(what, sizeof(what), "case %lld field '%s'", (long long)case_id, field);
	r = check_str(value, false, what, "value", err);
	if (r)
		return r;
	prov pv;
	r = prov_parse(prov_j, what, &pv, err);
	if (r) {
		free(pv.evidence);
		return r;
	}
	const char *col = standard_column(field);
	bool is_ticket = col && strcmp(col, "ticket_number") == 0;
	if (is_ticket && ca_str_empty(value)) {
		free(pv.evidence);
		return ca_err_set(err, CA_EINVAL, field, "%s: the ticket number cannot be cleared", what);
	}

	ca_buf sql;
	ca_buf_init(&sql);
	char *old = NULL;
	char at[21];
	now_iso(at);
	r = op_begin(s, what, err);
	if (r) {
		free(pv.evidence);
		return r;
	}
	ca_sql_param pid[] = { ca_sql_int(case_id) };
	bool found = false;
	if (col) {
		if (ca_buf_printf(&sql, "SELECT %s FROM case_record WHERE id = ?", col) < 0)
			r = enomem(err, what);
		if (!r)
			r = db_str(s, what, sql.data, pid, 1, &old, &found, err);
		if (!r && !found)
			r = ca_err_set(err, CA_ENOTFOUND, "case_id", "case %lld not found", (long long)case_id);
	} else {
		r = case_exists(s, what, case_id, err);
		ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(field) };
		if (!r)
			r = db_str(s, what, "SELECT value FROM case_custom_field WHERE case_id = ? AND field = ?", p, 2,
				   &old, &found, err);
	}
	if (!r && is_ticket) {
		ca_sql_param p[] = { ca_sql_text(value), ca_sql_int(case_id) };
		int64_t other;
		bool taken;
		r = db_i64(s, what, "SELECT id FROM case_record WHERE ticket_number = ? AND id <> ?", p, 2, &other,
			   &taken, err);
		if (!r && taken)
			r = ca_err_set(err, CA_EEXIST, field, "%s: ticket number %s is taken by case %lld", what, value,
				       (long long)other);
	}
	if (!r && col) {
		ca_buf_reset(&sql);
		if (ca_buf_printf(&sql, "UPDATE case_record SET %s = ?, updated_at = ? WHERE id = ?", col) < 0)
			r = enomem(err, what);
		ca_sql_param p[] = { ca_sql_text(value), ca_sql_text(at), ca_sql_int(case_id) };
		if (!r)
			r = db_exec(s, what, sql.data, p, 3, err);
	} else if (!r) {
		ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(field), ca_sql_text(value) };
		if (value)
			r = db_exec(s, what,
				    "INSERT INTO case_custom_field (case_id, field, value) VALUES (?, ?, ?) "
				    "ON CONFLICT (case_id, field) DO UPDATE SET value = excluded.value",
				    p, 3, err);
		else
			r = db_exec(s, what, "DELETE FROM case_custom_field WHERE case_id = ? AND field = ?", p, 2, err);
		ca_sql_param q[] = { ca_sql_text(at), ca_sql_int(case_id) };
		if (!r)
			r = db_exec(s, what, "UPDATE case_record SET updated_at = ? WHERE id = ?", q, 2, err);
	}
	ca_sql_param conf = pv.has_confidence ? ca_sql_real(pv.confidence) : ca_sql_null();
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(field), ca_sql_text(pv.source),
				     ca_sql_text(pv.actor), conf, ca_sql_text(pv.method), ca_sql_text(pv.evidence),
				     ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO field_provenance (case_id, field, source, actor, confidence, method, evidence, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, field) DO UPDATE SET "
			    "source = excluded.source, actor = excluded.actor, confidence = excluded.confidence, "
			    "method = excluded.method, evidence = excluded.evidence, at = excluded.at",
			    p, CA_ARRAY_SIZE(p), err);
	}
	int64_t audit_id = 0;
	if (!r)
		r = next_id(s, what, "audit", &audit_id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(audit_id), ca_sql_int(case_id), ca_sql_text(field), ca_sql_text(old),
				     ca_sql_text(value), ca_sql_text(pv.source), ca_sql_text(pv.actor), conf,
				     ca_sql_text(pv.method), ca_sql_text(pv.evidence), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO audit (id, case_id, field, old_value, new_value, source, actor, confidence, "
			    "method, evidence, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	r = op_end(s, r, what, err);
	free(old);
	free(pv.evidence);
	ca_buf_done(&sql);
	return r;
}

int ca_store_case_bump_version(ca_store *s, int64_t case_id, int64_t expected, int64_t *ret_version, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(at), ca_sql_int(case_id), ca_sql_int(expected) };
	int r = db_exec(s, what, "UPDATE case_record SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			p, 3, err);
	if (r)
		return r;
	if (s->drv->changes(s->conn) == 1) {
		*ret_version = expected + 1;
		return 0;
	}
	ca_sql_param q[] = { ca_sql_int(case_id) };
	int64_t now;
	bool found;
	r = db_i64(s, what, "SELECT version FROM case_record WHERE id = ?", q, 1, &now, &found, err);
	if (r)
		return r;
	if (!found)
		return ca_err_set(err, CA_ENOTFOUND, "case_id", "case %lld not found", (long long)case_id);
	return ca_err_set(err, CA_ECONFLICT, "version",
			  "case %lld is at version %lld, not %lld: it changed under us; recompute", (long long)case_id,
			  (long long)now, (long long)expected);
}

int ca_store_case_provenance(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	int r = case_exists(s, what, case_id, err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows, *out = json_object();
	if (!out)
		return enomem(err, what);
	r = db_rows(s, what,
		    "SELECT field, source, actor, confidence, method, evidence, at FROM field_provenance "
		    "WHERE case_id = ? ORDER BY field",
		    p, 1, &rows, err);
	if (r) {
		json_decref(out);
		return r;
	}
	r = parse_col_all(rows, "evidence", what, err);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (r)
			break;
		char *field = ca_strdup(ca_json_str(row, "field"));
		if (!field) {
			r = enomem(err, what);
			break;
		}
		json_object_del(row, "field");
		if (json_object_set(out, field, row) < 0)
			r = enomem(err, what);
		free(field);
	}
	json_decref(rows);
	if (r) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int ca_store_audit_list(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld", (long long)case_id);
	int r = case_exists(s, what, case_id, err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows = NULL;
	r = db_rows(s, what,
		    "SELECT id, field, old_value, new_value, source, actor, confidence, method, evidence, at "
		    "FROM audit WHERE case_id = ? ORDER BY id",
		    p, 1, &rows, err);
	if (!r)
		r = parse_col_all(rows, "evidence", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- conversations and messages ---- */

static const char *const conv_states[] = { "open", "active", "waiting", "wrapup", "closed" };
static const char *const case_links[] = { "agent", "person" };

int ca_store_conversation_create(ca_store *s, const char *id, const char *channel, ca_err *err)
{
	int r = check_str(id, true, "new conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	r = check_str(channel, true, what, "channel", err);
	if (!r)
		r = op_begin(s, what, err);
	if (r)
		return r;
	ca_sql_param q[] = { ca_sql_text(id) };
	char *dummy = NULL;
	bool found;
	r = db_str(s, what, "SELECT id FROM conversation WHERE id = ?", q, 1, &dummy, &found, err);
	free(dummy);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "id", "%s exists already", what);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(id), ca_sql_text(channel), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO conversation (id, channel, state, opened_at, message_count) "
			    "VALUES (?, ?, 'open', ?, 0)",
			    p, 3, err);
	}
	return op_end(s, r, what, err);
}

int ca_store_conversation_get(ca_store *s, const char *id, json_t **ret, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	ca_sql_param p[] = { ca_sql_text(id) };
	json_t *rows;
	r = db_rows(s, what,
		    "SELECT id, channel, state, case_id, case_link, contact_id, opened_at, closed_at, message_count "
		    "FROM conversation WHERE id = ?",
		    p, 1, &rows, err);
	if (r)
		return r;
	json_t *row = json_array_get(rows, 0);
	if (!row) {
		json_decref(rows);
		return ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	}
	*ret = json_incref(row);
	json_decref(rows);
	return 0;
}

int ca_store_conversation_set_state(ca_store *s, const char *id, const char *state, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	if (!one_of(state, conv_states, CA_ARRAY_SIZE(conv_states)))
		return ca_err_set(err, CA_EINVAL, "state",
				  "%s: unknown state '%s' (open, active, waiting, wrapup, closed)", what,
				  state ? state : "(null)");
	char at[21];
	now_iso(at);
	/* closed_at belongs to the closed state only: reopening clears it. */
	bool closed = strcmp(state, "closed") == 0;
	ca_sql_param p[] = { ca_sql_text(state), closed ? ca_sql_text(at) : ca_sql_null(), ca_sql_text(id) };
	r = db_exec(s, what, "UPDATE conversation SET state = ?, closed_at = ? WHERE id = ?", p, 3, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return r;
}

int ca_store_conversation_set_case(ca_store *s, const char *id, int64_t case_id, const char *link, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	if (!one_of(link, case_links, CA_ARRAY_SIZE(case_links)))
		return ca_err_set(err, CA_EINVAL, "case_link", "%s: case link '%s' is not agent or person", what,
				  link ? link : "(null)");
	r = op_begin(s, what, err);
	if (r)
		return r;
	r = case_exists(s, what, case_id, err);
	ca_sql_param p[] = { ca_sql_int(case_id), ca_sql_text(link), ca_sql_text(id) };
	if (!r)
		r = db_exec(s, what, "UPDATE conversation SET case_id = ?, case_link = ? WHERE id = ?", p, 3, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return op_end(s, r, what, err);
}

int ca_store_conversation_set_contact(ca_store *s, const char *id, const char *contact_id, ca_err *err)
{
	int r = check_str(id, true, "conversation", "id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", id);
	r = check_str(contact_id, false, what, "contact_id", err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_text(contact_id), ca_sql_text(id) };
	r = db_exec(s, what, "UPDATE conversation SET contact_id = ? WHERE id = ?", p, 2, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "id", "%s not found", what);
	return r;
}

int ca_store_message_add(ca_store *s, const char *conversation_id, const char *msg_id, const char *role,
			 const char *text, ca_err *err)
{
	int r = check_str(conversation_id, true, "message", "conversation_id", err);
	if (r)
		return r;
	char what[192];
	snprintf(what, sizeof(what), "conversation '%s'", conversation_id);
	r = check_str(msg_id, true, what, "message id", err);
	if (r)
		return r;
	snprintf(what, sizeof(what), "conversation '%s' message '%s'", conversation_id, msg_id);
	if (!ca_role_parse(role))
		return ca_err_set(err, CA_EINVAL, "role", "%s: unknown role '%s' (customer, agent, system, bot)", what,
				  role ? role : "(null)");
	if (!text)
		return ca_err_set(err, CA_EINVAL, "text", "%s: text is required", what);
	r = check_str(text, false, what, "text", err);
	if (!r)
		r = op_begin(s, what, err);
	if (r)
		return r;
	/* Checked before writing so the answer names the message, and so a
	 * PostgreSQL transaction is not poisoned by a constraint failure. */
	ca_sql_param pk[] = { ca_sql_text(conversation_id), ca_sql_text(msg_id) };
	int64_t seq;
	bool found;
	r = db_i64(s, what, "SELECT seq FROM message WHERE conversation_id = ? AND id = ?", pk, 2, &seq, &found, err);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "id", "%s exists already (seq %lld)", what, (long long)seq);
	if (!r) {
		ca_sql_param p[] = { ca_sql_text(conversation_id) };
		r = db_i64(s, what,
			   "UPDATE conversation SET message_count = message_count + 1 WHERE id = ? RETURNING message_count",
			   p, 1, &seq, &found, err);
		if (!r && !found)
			r = ca_err_set(err, CA_ENOTFOUND, "conversation_id", "conversation '%s' not found",
				       conversation_id);
	}
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(conversation_id), ca_sql_text(msg_id), ca_sql_int(seq),
				     ca_sql_text(role), ca_sql_text(text), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO message (conversation_id, id, seq, role, text, at) VALUES (?, ?, ?, ?, ?, ?)", p,
			    CA_ARRAY_SIZE(p), err);
	}
	return op_end(s, r, what, err);
}

int ca_store_message_list(ca_store *s, const char *conversation_id, json_t **ret, ca_err *err)
{
	int r = check_str(conversation_id, true, "messages", "conversation_id", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "conversation '%s'", conversation_id);
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	char *dummy = NULL;
	bool found;
	r = db_str(s, what, "SELECT id FROM conversation WHERE id = ?", p, 1, &dummy, &found, err);
	free(dummy);
	if (!r && !found)
		r = ca_err_set(err, CA_ENOTFOUND, "conversation_id", "%s not found", what);
	if (r)
		return r;
	return db_rows(s, what, "SELECT id, role, text, seq, at FROM message WHERE conversation_id = ? ORDER BY seq", p,
		       1, ret, err);
}

/* ---- chat events ---- */

int ca_store_event_lookup(ca_store *s, const char *conversation_id, const char *event_id, char **ret_content,
			  json_t **ret, ca_err *err)
{
	int r = check_str(conversation_id, true, "chat event", "conversation_id", err);
	if (!r)
		r = check_str(event_id, true, "chat event", "event_id", err);
	if (r)
		return r;
	char what[320];
	snprintf(what, sizeof(what), "chat event '%s' of conversation '%s'", event_id, conversation_id);
	ca_sql_param p[] = { ca_sql_text(conversation_id), ca_sql_text(event_id) };
	first_row f;
	r = db_first(s, what, "SELECT result, content FROM chat_event WHERE conversation_id = ? AND event_id = ?", p,
		     CA_ARRAY_SIZE(p), &f, err);
	if (r)
		return r;
	if (!f.found) {
		first_row_done(&f);
		*ret = NULL;
		*ret_content = NULL;
		return 0;
	}
	json_error_t je;
	json_t *j = f.v[0] ? json_loads(f.v[0], JSON_DECODE_ANY, &je) : json_null();
	if (!j) {
		first_row_done(&f);
		return ca_err_set(err, CA_EPARSE, "result", "%s: stored result is not JSON", what);
	}
	*ret = j;
	*ret_content = f.v[1];
	f.v[1] = NULL;
	first_row_done(&f);
	return 0;
}

int ca_store_event_record(ca_store *s, const char *conversation_id, const char *event_id, const char *type,
			  const char *content, const json_t *result, ca_err *err)
{
	int r = check_str(conversation_id, true, "chat event", "conversation_id", err);
	if (!r)
		r = check_str(event_id, true, "chat event", "event_id", err);
	if (r)
		return r;
	char what[320];
	snprintf(what, sizeof(what), "chat event '%s' of conversation '%s'", event_id, conversation_id);
	r = check_str(type, true, what, "type", err);
	if (!r)
		r = check_str(content, false, what, "content", err);
	if (r)
		return r;
	/* A NULL result is stored as JSON null so lookup can still tell
	 * "seen" from "unseen". */
	char *text = dump(result ? result : json_null());
	if (!text)
		return enomem(err, what);
	r = op_begin(s, what, err);
	if (r) {
		free(text);
		return r;
	}
	ca_sql_param q[] = { ca_sql_text(conversation_id), ca_sql_text(event_id) };
	char *dummy = NULL;
	bool found;
	r = db_str(s, what, "SELECT event_id FROM chat_event WHERE conversation_id = ? AND event_id = ?", q,
		   CA_ARRAY_SIZE(q), &dummy, &found, err);
	free(dummy);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "event_id", "%s was recorded already", what);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_text(conversation_id), ca_sql_text(event_id), ca_sql_text(type),
				     content ? ca_sql_text(content) : ca_sql_null(), ca_sql_text(text), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO chat_event (conversation_id, event_id, type, content, result, at) "
			    "VALUES (?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(text);
	return op_end(s, r, what, err);
}

/* ---- notes ---- */

static const char *const note_kinds[] = { "summary", "note", "resolution" };

int ca_store_note_add(ca_store *s, int64_t case_id, const char *kind, const char *body, const json_t *evidence,
		      const char *actor, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld note", (long long)case_id);
	if (!one_of(kind, note_kinds, CA_ARRAY_SIZE(note_kinds)))
		return ca_err_set(err, CA_EINVAL, "kind", "%s: kind '%s' is not summary or note", what,
				  kind ? kind : "(null)");
	int r = check_str(body, true, what, "body", err);
	if (!r)
		r = check_str(actor, false, what, "actor", err);
	if (r)
		return r;
	char *ev = NULL;
	if (evidence && !(ev = dump(evidence)))
		return enomem(err, what);
	r = op_begin(s, what, err);
	if (r) {
		free(ev);
		return r;
	}
	int64_t id = 0;
	r = case_exists(s, what, case_id, err);
	if (!r)
		r = next_id(s, what, "note", &id, err);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_int(case_id), ca_sql_text(kind), ca_sql_text(body),
				     ca_sql_text(ev), ca_sql_text(actor), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO note (id, case_id, kind, body, evidence, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)", p,
			    CA_ARRAY_SIZE(p), err);
	}
	free(ev);
	return op_end(s, r, what, err);
}

int ca_store_note_list(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "case %lld notes", (long long)case_id);
	int r = case_exists(s, what, case_id, err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_int(case_id) };
	json_t *rows;
	r = db_rows(s, what, "SELECT id, kind, body, evidence, actor, at FROM note WHERE case_id = ? ORDER BY id", p, 1,
		    &rows, err);
	if (r)
		return r;
	r = parse_col_all(rows, "evidence", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- agent interaction log ---- */

int ca_store_interaction_add(ca_store *s, const char *conversation_id, int64_t case_id, const char *action,
			     const char *outcome, const json_t *detail, ca_err *err)
{
	const char *what = "interaction log";
	int r = check_str(conversation_id, false, what, "conversation_id", err);
	if (!r)
		r = check_str(action, true, what, "action", err);
	if (!r)
		r = check_str(outcome, false, what, "outcome", err);
	if (r)
		return r;
	if (detail && !json_is_object(detail))
		return ca_err_set(err, CA_EINVAL, "detail", "%s: detail must be a JSON object", what);
	char *dt = NULL;
	if (detail && !(dt = dump(detail)))
		return enomem(err, what);
	r = op_begin(s, what, err);
	if (r) {
		free(dt);
		return r;
	}
	int64_t id = 0;
	r = next_id(s, what, "interaction", &id, err);
	if (!r) {
		char at[21];
		now_iso(at);
		ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(conversation_id),
				     case_id > 0 ? ca_sql_int(case_id) : ca_sql_null(), ca_sql_text(action),
				     ca_sql_text(outcome), ca_sql_text(dt), ca_sql_text(at) };
		r = db_exec(s, what,
			    "INSERT INTO interaction_log (id, conversation_id, case_id, action, outcome, detail, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(dt);
	return op_end(s, r, what, err);
}

int ca_store_interaction_list(ca_store *s, const char *conversation_id, json_t **ret, ca_err *err)
{
	const char *what = "interaction log";
	int r = check_str(conversation_id, false, what, "conversation_id", err);
	if (r)
		return r;
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	json_t *rows;
	if (conversation_id)
		r = db_rows(s, what,
			    "SELECT id, conversation_id, case_id, action, outcome, detail, at FROM interaction_log "
			    "WHERE conversation_id = ? ORDER BY id",
			    p, 1, &rows, err);
	else
		r = db_rows(s, what,
			    "SELECT id, conversation_id, case_id, action, outcome, detail, at FROM interaction_log ORDER BY id",
			    NULL, 0, &rows, err);
	if (r)
		return r;
	r = parse_col_all(rows, "detail", what, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	*ret = rows;
	return 0;
}

/* ---- blobs ---- */

static const char hexdigits[] = "0123456789abcdef";

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ca_store_blob_put(ca_store *s, const char *name, const char *data, size_t len, ca_err *err)
{
	int r = check_str(name, true, "blob", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "blob '%s'", name);
	if (!data && len)
		return ca_err_set(err, CA_EINVAL, "data", "%s: no data given for %zu bytes", what, len);
	/* Both backends keep TEXT as NUL-free UTF-8 only, so anything else
	 * goes in as hex (see the blob table in migrate.c). */
	bool as_text = !len || (!memchr(data, '\0', len) && utf8_valid(data, len));
	if (!as_text && len > (SIZE_MAX - 1) / 2)
		return ca_err_set(err, CA_ETOOBIG, "data", "%s: %zu bytes is too large", what, len);
	char *enc = malloc(as_text ? len + 1 : 2 * len + 1);
	if (!enc)
		return enomem(err, what);
	if (as_text) {
		if (len)
			memcpy(enc, data, len);
		enc[len] = '\0';
	} else {
		for (size_t i = 0; i < len; i++) {
			unsigned char b = (unsigned char)data[i];
			enc[2 * i] = hexdigits[b >> 4];
			enc[2 * i + 1] = hexdigits[b & 15];
		}
		enc[2 * len] = '\0';
	}
	char at[21];
	now_iso(at);
	ca_sql_param p[] = { ca_sql_text(name), ca_sql_text(as_text ? "text" : "hex"), ca_sql_text(enc),
			     ca_sql_text(at) };
	r = db_exec(s, what,
		    "INSERT INTO blob (name, encoding, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) "
		    "DO UPDATE SET encoding = excluded.encoding, data = excluded.data, updated_at = excluded.updated_at",
		    p, CA_ARRAY_SIZE(p), err);
	free(enc);
	return r;
}

int ca_store_blob_get(ca_store *s, const char *name, char **ret, size_t *ret_len, ca_err *err)
{
	int r = check_str(name, true, "blob", "name", err);
	if (r)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "blob '%s'", name);
	ca_sql_param p[] = { ca_sql_text(name) };
	first_row f;
	r = db_first(s, what, "SELECT encoding, data FROM blob WHERE name = ?", p, 1, &f, err);
	if (r)
		return r;
	if (!f.found) {
		first_row_done(&f);
		return ca_err_set(err, CA_ENOTFOUND, "name", "%s not found", what);
	}
	const char *enc = f.v[0] ? f.v[0] : "", *data = f.v[1] ? f.v[1] : "";
	size_t n = strlen(data);
	if (strcmp(enc, "text") == 0) {
		*ret_len = n;
		*ret = f.v[1] ? f.v[1] : calloc(1, 1);
		f.v[1] = NULL;
		first_row_done(&f);
		return *ret ? 0 : enomem(err, what);
	}
	if (strcmp(enc, "hex") != 0 || n % 2) {
		first_row_done(&f);
		return ca_err_set(err, CA_EDB, "data", "%s is corrupt (encoding '%s', %zu characters)", what, enc, n);
	}
	char *out = malloc(n / 2 + 1);
	if (!out) {
		first_row_done(&f);
		return enomem(err, what);
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = unhex(data[2 * i]), lo = unhex(data[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			first_row_done(&f);
			return ca_err_set(err, CA_EDB, "data", "%s is corrupt (bad hex at %zu)", what, 2 * i);
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	first_row_done(&f);
	*ret = out;
	*ret_len = n / 2;
	return 0;
}

/* ---- training data ---- */

/* The people's words of a conversation, one message a line; empty when the
 * conversation has none. */
static int conversation_text(ca_store *s, const char *conversation_id, ca_buf *out, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(conversation_id) };
	json_t *rows;
	int r = db_rows(s, "training text",
			"SELECT text FROM message WHERE conversation_id = ? AND role IN ('customer', 'agent') ORDER BY seq",
			p, 1, &rows, err);
	if (r)
		return r;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *t = ca_json_str(row, "text");
		if ((out->len && ca_buf_puts(out, "\n") < 0) || ca_buf_puts(out, t ? t : "") < 0) {
			r = enomem(err, "training text");
			break;
		}
	}
	json_decref(rows);
	return r;
}

static int training_item(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	json_t *c;
	int r = ca_store_case_get_id(s, id, &c, err);
	if (r)
		return r;
	ca_buf text;
	ca_buf_init(&text);
	const char *conv = ca_json_str(c, "conversation_id");
	if (conv)
		r = conversation_text(s, conv, &text, err);
	if (!r && text.len == 0) {
		json_t *fields = json_object_get(c, "fields");
		const char *title = ca_json_str(fields, "title"), *desc = ca_json_str(fields, "description");
		if (ca_buf_puts(&text, title ? title : "") < 0 ||
		    (desc && (ca_buf_puts(&text, "\n") < 0 || ca_buf_puts(&text, desc) < 0)))
			r = enomem(err, "training text");
	}
	json_t *item = NULL;
	if (!r) {
		/* The _new setters take their value even when they fail. */
		item = json_object();
		if (!item || json_object_set_new(item, "case_id", json_integer(id)) < 0 ||
		    json_object_set(item, "fields", json_object_get(c, "fields")) < 0 ||
		    json_object_set_new(item, "text", json_string(text.data ? text.data : "")) < 0) {
			json_decref(item);
			item = NULL;
			r = enomem(err, "training text");
		}
	}
	ca_buf_done(&text);
	json_decref(c);
	if (!r)
		*ret = item;
	return r;
}

int ca_store_training_cases(ca_store *s, json_t **ret, ca_err *err)
{
	return items_by_id(s, "training cases",
			   "SELECT id FROM case_record WHERE LOWER(status) IN ('resolved', 'closed') ORDER BY id", NULL, 0,
			   training_item, ret, err);
}

/* ---- e-mail ---- */

static const char *const email_keys[] = {
	"msg_key", "message_id", "in_reply_to", "refs", "direction", "from_addr", "from_name", "to_addrs",
	"subject", "subject_norm", "sent_epoch", "mailbox", "origin", "body_text", "reply_text", "auto_kind",
	"parse_error", "cc_addrs", "content_sha256", "received_size",
};

/* A string member, NULL when absent or null; CA_EINVAL (naming the key) for
 * any other type or for text that is not UTF-8. */
static int rec_str(const json_t *rec, const char *key, const char *what, const char **ret, ca_err *err)
{
	json_t *v = json_object_get(rec, key);
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return ca_err_set(err, CA_EINVAL, key, "%s: %s must be a string", what, key);
	*ret = json_string_value(v);
	return 0;
}

int ca_store_email_add(ca_store *s, const json_t *rec, const void *raw, size_t raw_len, int64_t *ret_id,
		       ca_err *err)
{
	const char *what = "e-mail";
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)rec, k, v) {
		if (!one_of(k, email_keys, CA_ARRAY_SIZE(email_keys)))
			return ca_err_set(err, CA_EINVAL, k, "%s: unknown key '%s'", what, k);
	}
	const char *str[CA_ARRAY_SIZE(email_keys)];
	for (size_t i = 0; i < CA_ARRAY_SIZE(email_keys); i++) {
		if (!strcmp(email_keys[i], "refs") || !strcmp(email_keys[i], "sent_epoch") ||
		    !strcmp(email_keys[i], "received_size")) {
			str[i] = NULL;
			continue;
		}
		int r = rec_str(rec, email_keys[i], what, &str[i], err);
		if (r)
			return r;
	}
	if (ca_str_empty(str[0]))
		return ca_err_set(err, CA_EINVAL, "msg_key", "%s: msg_key is required", what);
	if (!raw)
		return ca_err_set(err, CA_EINVAL, "raw", "%s %s: the raw message is required", what, str[0]);
	char *refs = json_object_get(rec, "refs") ? json_dumps(json_object_get(rec, "refs"), JSON_COMPACT) : NULL;
	json_t *se = json_object_get(rec, "sent_epoch");
	json_t *rs = json_object_get(rec, "received_size");
	int64_t now = ca_time_now();
	char at[21];
	ca_time_iso(now, at);
	int r = op_begin(s, what, err);
	if (r) {
		free(refs);
		return r;
	}
	bool found;
	int64_t id = 0, existing;
	ca_sql_param pk[] = { ca_sql_text(str[0]) };
	r = db_i64(s, what, "SELECT id FROM email WHERE msg_key = ?", pk, 1, &existing, &found, err);
	if (!r && found)
		r = ca_err_set(err, CA_EEXIST, "msg_key", "%s %s is stored already (id %lld)", what, str[0],
			       (long long)existing);
	if (!r)
		r = next_id(s, what, "email", &id, err);
	if (!r) {
		ca_sql_param p[] = {
			ca_sql_int(id), ca_sql_text(str[0]), ca_sql_text(str[1]), ca_sql_text(str[2]), ca_sql_text(refs),
			ca_sql_text(str[4] ? str[4] : "in"), ca_sql_text(str[5]), ca_sql_text(str[6]), ca_sql_text(str[7]),
			ca_sql_text(str[8]), ca_sql_text(str[9]),
			json_is_integer(se) ? ca_sql_int(json_integer_value(se)) : ca_sql_null(), ca_sql_text(at),
			ca_sql_int(now), ca_sql_text(str[11]), ca_sql_text(str[12]), ca_sql_blob(raw, raw_len),
			ca_sql_int((int64_t)raw_len), ca_sql_text(str[13]), ca_sql_text(str[14]), ca_sql_text(str[15]),
			ca_sql_text(str[16]), ca_sql_text(str[17]), ca_sql_text(str[18]),
			json_is_integer(rs) ? ca_sql_int(json_integer_value(rs)) : ca_sql_null(),
		};
		r = db_exec(s, what,
			    "INSERT INTO email (id, msg_key, message_id, in_reply_to, refs, direction, from_addr, from_name, "
			    "to_addrs, subject, subject_norm, sent_epoch, received_at, received_epoch, mailbox, origin, raw, "
			    "raw_size, body_text, reply_text, auto_kind, parse_error, cc_addrs, content_sha256, received_size) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(refs);
	r = op_end(s, r, what, err);
	if (!r && ret_id)
		*ret_id = id;
	return r;
}

int ca_store_email_by_key(ca_store *s, const char *msg_key, bool *found, int64_t *ret_id, int64_t *ret_case,
			  ca_err *err)
{
	first_row f;
	ca_sql_param p[] = { ca_sql_text(msg_key) };
	int r = db_first(s, "e-mail", "SELECT id, case_id FROM email WHERE msg_key = ?", p, 1, &f, err);
	if (r)
		return r;
	*found = f.found;
	int64_t id = 0, c = 0;
	if (f.found && (ca_parse_i64(f.v[0], &id) < 0 || (f.v[1] && ca_parse_i64(f.v[1], &c) < 0)))
		r = ca_err_set(err, CA_EDB, "email", "e-mail %s: unreadable ids", msg_key);
	first_row_done(&f);
	if (ret_id)
		*ret_id = id;
	if (ret_case)
		*ret_case = c;
	return r;
}

int ca_store_email_attachment_add(ca_store *s, int64_t email_id, int64_t seq, const char *filename,
				  const char *content_type, size_t size, const char *sha256, const void *content,
				  ca_err *err)
{
	if (filename && !utf8_valid(filename, strlen(filename)))
		return ca_err_set(err, CA_EUTF8, "filename", "attachment %lld of e-mail %lld: file name is not UTF-8",
				  (long long)seq, (long long)email_id);
	ca_sql_param p[] = { ca_sql_int(email_id), ca_sql_int(seq), ca_sql_text(filename), ca_sql_text(content_type),
			     ca_sql_int((int64_t)size), ca_sql_text(sha256), ca_sql_blob(content ? content : "", size) };
	return db_exec(s, "attachment",
		       "INSERT INTO email_attachment (email_id, seq, filename, content_type, size, sha256, content) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?)",
		       p, CA_ARRAY_SIZE(p), err);
}

int ca_store_email_set_case(ca_store *s, int64_t email_id, int64_t case_id, ca_err *err)
{
	ca_sql_param p[] = { case_id > 0 ? ca_sql_int(case_id) : ca_sql_null(), ca_sql_int(email_id) };
	int r = db_exec(s, "e-mail", "UPDATE email SET case_id = ? WHERE id = ?", p, 2, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)email_id);
	return r;
}

static int case_of(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n, bool *found,
		   int64_t *ret_case, ca_err *err)
{
	bool f;
	int64_t c = 0;
	int r = db_i64(s, what, sql, p, n, &c, &f, err);
	*found = !r && f;
	*ret_case = *found ? c : 0;
	return r;
}

int ca_store_email_case_of_message(ca_store *s, const char *message_id, bool *found, int64_t *ret_case,
				   ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(message_id) };
	return case_of(s, "thread", "SELECT case_id FROM email WHERE message_id = ? AND case_id IS NOT NULL ORDER BY id LIMIT 1",
		       p, 1, found, ret_case, err);
}

int ca_store_email_case_by_subject(ca_store *s, const char *from_addr, const char *subject_norm, int64_t since_epoch,
				   bool *found, int64_t *ret_case, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(from_addr), ca_sql_text(subject_norm), ca_sql_int(since_epoch) };
	return case_of(s, "thread",
		       "SELECT case_id FROM email WHERE from_addr = ? AND subject_norm = ? AND received_epoch >= ? "
		       "AND case_id IS NOT NULL ORDER BY id DESC LIMIT 1",
		       p, 3, found, ret_case, err);
}

int ca_store_email_thread(ca_store *s, int64_t case_id, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(case_id) };
	return db_rows(s, "thread",
		       "SELECT id, direction, from_addr, to_addrs, cc_addrs, subject, body_text, reply_text, received_epoch, "
		       "auto_kind FROM email WHERE case_id = ? ORDER BY id",
		       p, 1, ret, err);
}

int ca_store_email_content_hash(ca_store *s, int64_t id, char **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(id) };
	bool found = false;
	char *h = NULL;
	int r = db_str(s, "e-mail", "SELECT content_sha256 FROM email WHERE id = ? AND content_sha256 IS NOT NULL", p, 1,
		       &h, &found, err);
	if (!r)
		*ret = found ? h : NULL;
	return r;
}

int ca_store_email_count_from(ca_store *s, const char *from_addr, int64_t since_epoch, int64_t *ret, ca_err *err)
{
	bool found;
	ca_sql_param p[] = { ca_sql_text(from_addr), ca_sql_int(since_epoch) };
	return db_i64(s, "rate", "SELECT COUNT(*) FROM email WHERE from_addr = ? AND received_epoch >= ?", p, 2, ret,
		      &found, err);
}

int ca_store_email_get(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	json_t *rows = NULL, *att = NULL;
	ca_sql_param p[] = { ca_sql_int(id) };
	int r = db_rows(s, "e-mail",
			"SELECT id, msg_key, message_id, in_reply_to, refs, direction, from_addr, from_name, to_addrs, "
			"cc_addrs, subject, sent_epoch, received_at, mailbox, origin, raw_size, received_size, body_text, "
			"reply_text, auto_kind, parse_error, content_sha256, case_id FROM email WHERE id = ?",
			p, 1, &rows, err);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)id);
	if (!r)
		r = db_rows(s, "e-mail", "SELECT seq, filename, content_type, size, sha256 FROM email_attachment "
					 "WHERE email_id = ? ORDER BY seq",
			    p, 1, &att, err);
	if (r) {
		json_decref(rows);
		return r;
	}
	json_t *e = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	json_object_set_new(e, "attachments", att);
	*ret = e;
	return 0;
}

typedef struct blob_out {
	char *data;
	size_t len;
	bool found;
	int rc;
} blob_out;

static int take_blob(const ca_sql_row *row, void *ud)
{
	blob_out *b = ud;
	b->found = true;
	size_t n = row->lens ? row->lens[0] : strlen(row->text[0]);
	b->data = malloc(n + 1);
	if (!b->data) {
		b->rc = CA_ENOMEM;
		return 1;
	}
	memcpy(b->data, row->text[0], n);
	b->data[n] = '\0';
	b->len = n;
	return 1;
}

int ca_store_email_raw(ca_store *s, int64_t id, char **ret, size_t *ret_len, ca_err *err)
{
	blob_out b = { 0 };
	ca_sql_param p[] = { ca_sql_int(id) };
	int r = db_query(s, "e-mail", "SELECT raw FROM email WHERE id = ?", p, 1, take_blob, &b, err);
	if (!r && b.rc)
		r = enomem(err, "e-mail");
	if (!r && !b.found)
		r = ca_err_set(err, CA_ENOTFOUND, "email", "e-mail %lld not found", (long long)id);
	if (r) {
		free(b.data);
		return r;
	}
	*ret = b.data;
	*ret_len = b.len;
	return 0;
}

static const char *const log_outcomes[] = { "created", "updated", "attached", "skipped" };

int ca_store_email_log_add(ca_store *s, int64_t email_id, const char *origin, const char *outcome,
			   const char *reason, const char *rule, int64_t case_id, ca_err *err)
{
	if (!one_of(outcome, log_outcomes, CA_ARRAY_SIZE(log_outcomes)))
		return ca_err_set(err, CA_EINVAL, "outcome", "e-mail log: outcome '%s' is not created, updated, attached or skipped",
				  outcome ? outcome : "(null)");
	char at[21];
	ca_time_iso(ca_time_now(), at);
	int r = op_begin(s, "e-mail log", err);
	int64_t id = 0;
	if (!r)
		r = next_id(s, "e-mail log", "email_log", &id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), email_id > 0 ? ca_sql_int(email_id) : ca_sql_null(), ca_sql_text(origin),
				     ca_sql_text(outcome), ca_sql_text(reason), ca_sql_text(rule),
				     case_id > 0 ? ca_sql_int(case_id) : ca_sql_null(), ca_sql_text(at) };
		r = db_exec(s, "e-mail log",
			    "INSERT INTO email_log (id, email_id, origin, outcome, reason, rule, case_id, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	return op_end(s, r, "e-mail log", err);
}

int ca_store_email_log_list(ca_store *s, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(limit ? (int64_t)limit : INT64_MAX) };
	return db_rows(s, "e-mail log",
		       "SELECT l.id, l.email_id, l.origin, l.outcome, l.reason, l.rule, c.ticket_number AS \"case\", "
		       "e.from_addr, e.subject, l.at FROM email_log l LEFT JOIN email e ON e.id = l.email_id "
		       "LEFT JOIN case_record c ON c.id = l.case_id ORDER BY l.id DESC LIMIT ?",
		       p, 1, ret, err);
}

int ca_store_outbox_add(ca_store *s, const json_t *msg, int64_t *ret_id, ca_err *err)
{
	const char *to = ca_json_str(msg, "to_addr"), *subject = ca_json_str(msg, "subject"),
		   *body = ca_json_str(msg, "body");
	if (ca_str_empty(to) || !subject || !body)
		return ca_err_set(err, CA_EINVAL, "outbox", "outbox: to_addr, subject and body are required");
	char *headers = json_dumps(json_object_get(msg, "headers") ? json_object_get(msg, "headers") : json_object(),
				   JSON_COMPACT | JSON_SORT_KEYS);
	if (!headers)
		return enomem(err, "outbox");
	int64_t now = ca_time_now(), id = 0;
	char at[21];
	ca_time_iso(now, at);
	json_t *c = json_object_get(msg, "case_id"), *e = json_object_get(msg, "email_id");
	int r = op_begin(s, "outbox", err);
	if (!r)
		r = next_id(s, "outbox", "outbox", &id, err);
	if (!r) {
		ca_sql_param p[] = { ca_sql_int(id), json_is_integer(c) ? ca_sql_int(json_integer_value(c)) : ca_sql_null(),
				     json_is_integer(e) ? ca_sql_int(json_integer_value(e)) : ca_sql_null(),
				     ca_sql_text(to), ca_sql_text(subject), ca_sql_text(body), ca_sql_text(headers),
				     ca_sql_text(at), ca_sql_int(now) };
		r = db_exec(s, "outbox",
			    "INSERT INTO outbox (id, case_id, email_id, to_addr, subject, body, headers, created_at, created_epoch) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(headers);
	r = op_end(s, r, "outbox", err);
	if (!r && ret_id)
		*ret_id = id;
	return r;
}

int ca_store_outbox_count_to(ca_store *s, const char *to_addr, int64_t since_epoch, int64_t *ret, ca_err *err)
{
	bool found;
	ca_sql_param p[] = { ca_sql_text(to_addr), ca_sql_int(since_epoch) };
	return db_i64(s, "outbox", "SELECT COUNT(*) FROM outbox WHERE to_addr = ? AND created_epoch >= ?", p, 2, ret,
		      &found, err);
}

int ca_store_outbox_list(ca_store *s, const char *status, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(status) };
	int r = status ? db_rows(s, "outbox",
				 "SELECT id, case_id, email_id, to_addr, subject, body, headers, status, attempts, last_error, "
				 "created_at, sent_at FROM outbox WHERE status = ? ORDER BY id",
				 p, 1, ret, err)
		       : db_rows(s, "outbox",
				 "SELECT id, case_id, email_id, to_addr, subject, body, headers, status, attempts, last_error, "
				 "created_at, sent_at FROM outbox ORDER BY id",
				 NULL, 0, ret, err);
	if (r)
		return r;
	/* headers are stored as JSON text: give them back as an object */
	size_t i;
	json_t *row;
	json_array_foreach(*ret, i, row) {
		json_t *h = json_loads(ca_json_str(row, "headers") ? ca_json_str(row, "headers") : "{}", 0, NULL);
		json_object_set_new(row, "headers", h ? h : json_object());
	}
	return 0;
}

static const char *const outbox_states[] = { "queued", "sent", "failed" };

int ca_store_outbox_mark(ca_store *s, int64_t id, const char *status, const char *error, ca_err *err)
{
	if (!one_of(status, outbox_states, CA_ARRAY_SIZE(outbox_states)))
		return ca_err_set(err, CA_EINVAL, "status", "outbox: status '%s' is not queued, sent or failed",
				  status ? status : "(null)");
	char at[21];
	ca_time_iso(ca_time_now(), at);
	ca_sql_param p[] = { ca_sql_text(status), ca_sql_text(error), ca_sql_text(strcmp(status, "sent") ? NULL : at),
			     ca_sql_int(id) };
	int r = db_exec(s, "outbox",
			"UPDATE outbox SET status = ?, last_error = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?", p,
			4, err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "outbox", "outbox message %lld not found", (long long)id);
	return r;
}

int ca_store_case_resolved_at(ca_store *s, int64_t case_id, bool *found, char **ret_iso, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(case_id) };
	char *v = NULL;
	bool f;
	int r = db_str(s, "case", "SELECT MAX(at) FROM audit WHERE case_id = ? AND field = 'status' "
				  "AND LOWER(new_value) IN ('resolved', 'closed')",
		       p, 1, &v, &f, err);
	*found = !r && f && v;
	*ret_iso = *found ? v : NULL;
	if (!*found)
		free(v);
	return r;
}

/* ---- IMAP mailbox state ---- */

int ca_store_mailbox_state_get(ca_store *s, const char *name, bool *found, int64_t *ret_uidvalidity,
			       int64_t *ret_last_uid, ca_err *err)
{
	first_row f;
	ca_sql_param p[] = { ca_sql_text(name) };
	int r = db_first(s, "mailbox state", "SELECT uidvalidity, last_uid FROM mailbox_state WHERE name = ?", p, 1, &f,
			 err);
	if (r)
		return r;
	int64_t v = 0, last = 0;
	if (f.found && ((f.v[0] && ca_parse_i64(f.v[0], &v) < 0) || (f.v[1] && ca_parse_i64(f.v[1], &last) < 0)))
		r = ca_err_set(err, CA_EDB, "mailbox_state", "mailbox %s: unreadable state", name);
	*found = f.found;
	if (ret_uidvalidity)
		*ret_uidvalidity = v;
	if (ret_last_uid)
		*ret_last_uid = last;
	first_row_done(&f);
	return r;
}

int ca_store_mailbox_state_put(ca_store *s, const char *name, int64_t uidvalidity, int64_t last_uid, ca_err *err)
{
	if (ca_str_empty(name))
		return ca_err_set(err, CA_EINVAL, "name", "mailbox state: the mailbox name is required");
	ca_sql_param p[] = { ca_sql_int(uidvalidity), ca_sql_int(last_uid), ca_sql_text(name) };
	/* Update, else insert: portable where an upsert's syntax is not. */
	int r = op_begin(s, "mailbox state", err);
	if (!r)
		r = db_exec(s, "mailbox state", "UPDATE mailbox_state SET uidvalidity = ?, last_uid = ? WHERE name = ?", p, 3,
			    err);
	if (!r && s->drv->changes(s->conn) == 0)
		r = db_exec(s, "mailbox state", "INSERT INTO mailbox_state (uidvalidity, last_uid, name) VALUES (?, ?, ?)", p,
			    3, err);
	return op_end(s, r, "mailbox state", err);
}

/* ---- knowledge articles ---- */

static const char *const art_states[] = { "draft", "in_review", "published", "archived", "discarded" };
static const char *const art_compliance[] = { "pending", "compliant", "non_compliant" };
static const char *const art_audiences[] = { "internal", "external" };

/* The one rule in words, before the database's CHECK says it in its own. */
static int publish_rule(const char *state, const char *compliance, const char *what, ca_err *err)
{
	if (state && !strcmp(state, "published") && (!compliance || strcmp(compliance, "compliant")))
		return ca_err_set(err, CA_ESTATE, "compliance",
				  "%s: only a compliant article can be published (compliance is %s); "
				  "a reviewer must mark it compliant first",
				  what, compliance ? compliance : "pending");
	return 0;
}

static int json_text_or_null(const json_t *v, char **out)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	*out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return *out ? 0 : CA_ENOMEM;
}

int ca_store_article_add(ca_store *s, const json_t *art, int64_t *ret_id, char **ret_number, ca_err *err)
{
	const char *what = "knowledge article";
	const char *title = ca_json_str(art, "title");
	if (ca_str_empty(title))
		return ca_err_set(err, CA_EINVAL, "title", "%s: a title is required", what);
	const char *state = ca_json_str(art, "state") ? ca_json_str(art, "state") : "draft";
	const char *compliance = ca_json_str(art, "compliance") ? ca_json_str(art, "compliance") : "pending";
	const char *audience = ca_json_str(art, "audience") ? ca_json_str(art, "audience") : "internal";
	if (!one_of(state, art_states, CA_ARRAY_SIZE(art_states)) ||
	    !one_of(compliance, art_compliance, CA_ARRAY_SIZE(art_compliance)) ||
	    !one_of(audience, art_audiences, CA_ARRAY_SIZE(art_audiences)))
		return ca_err_set(err, CA_EINVAL, "state", "%s: unknown state, compliance or audience", what);
	int r = publish_rule(state, compliance, what, err);
	if (r)
		return r;
	char *keywords = NULL, *evidence = NULL, *pii = NULL, *tmpl = NULL;
	if ((r = json_text_or_null(json_object_get(art, "keywords"), &keywords)) ||
	    (r = json_text_or_null(json_object_get(art, "evidence"), &evidence)) ||
	    (r = json_text_or_null(json_object_get(art, "pii_removed"), &pii)) ||
	    (r = json_text_or_null(json_object_get(art, "template"), &tmpl))) {
		free(keywords);
		free(evidence);
		free(pii);
		return enomem(err, what);
	}
	char at[21];
	ca_time_iso(ca_time_now(), at);
	int64_t id = 0;
	char number[32];
	r = op_begin(s, what, err);
	if (!r)
		r = next_id(s, what, "article", &id, err);
	if (!r) {
		snprintf(number, sizeof(number), "KA-%05lld", (long long)id);
		ca_sql_param p[] = {
			ca_sql_int(id), ca_sql_text(number), ca_sql_text(state), ca_sql_text(compliance), ca_sql_text(audience),
			ca_sql_text(title), ca_sql_text(ca_json_str(art, "issue")), ca_sql_text(ca_json_str(art, "cause")),
			ca_sql_text(ca_json_str(art, "resolution")), ca_sql_text(ca_json_str(art, "product")),
			ca_sql_text(ca_json_str(art, "subject")), ca_sql_text(keywords), ca_sql_text(evidence),
			ca_sql_text(ca_json_str(art, "source") ? ca_json_str(art, "source") : "agent"),
			ca_sql_text(ca_json_str(art, "owner")), ca_sql_text(pii), ca_sql_text(at), ca_sql_text(at),
			ca_sql_text(!strcmp(state, "published") ? at : NULL), ca_sql_text(tmpl),
		};
		r = db_exec(s, what,
			    "INSERT INTO knowledge_article (id, number, state, compliance, audience, title, issue, cause, "
			    "resolution, product, subject, keywords, evidence, source, owner, pii_removed, created_at, "
			    "updated_at, published_at, template) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	}
	free(keywords);
	free(evidence);
	free(pii);
	free(tmpl);
	r = op_end(s, r, what, err);
	if (r)
		return r;
	if (ret_id)
		*ret_id = id;
	if (ret_number && !(*ret_number = strdup(number)))
		return enomem(err, what);
	return 0;
}

static const char article_cols[] =
	"SELECT id, number, version_major, version_minor, state, compliance, audience, title, issue, cause, "
	"resolution, product, subject, keywords, evidence, source, owner, pii_removed, rating_sum, rating_count, "
	"created_at, updated_at, published_at, template FROM knowledge_article ";

/* Stored JSON text columns back to JSON values. */
static void article_json_cols(json_t *a)
{
	static const char *const cols[] = { "keywords", "evidence", "pii_removed", "template" };
	for (size_t i = 0; i < CA_ARRAY_SIZE(cols); i++) {
		const char *t = ca_json_str(a, cols[i]);
		if (t) {
			json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
			if (v)
				json_object_set_new(a, cols[i], v);
		}
	}
}

int ca_store_article_get(ca_store *s, const char *ref, json_t **ret, ca_err *err)
{
	int64_t id = 0;
	bool numeric = ca_parse_i64(ref, &id) == 0;
	ca_buf sql = { 0 };
	if (ca_buf_puts(&sql, article_cols) < 0 || ca_buf_puts(&sql, numeric ? "WHERE id = ?" : "WHERE number = ?") < 0) {
		ca_buf_done(&sql);
		return enomem(err, "knowledge article");
	}
	ca_sql_param p[] = { numeric ? ca_sql_int(id) : ca_sql_text(ref) };
	json_t *rows = NULL, *src = NULL;
	int r = db_rows(s, "knowledge article", sql.data, p, 1, &rows, err);
	ca_buf_done(&sql);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "article", "knowledge article %s not found", ref);
	json_t *a = r ? NULL : json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (!r) {
		ca_sql_param q[] = { ca_sql_int(json_integer_value(json_object_get(a, "id"))) };
		r = db_rows(s, "knowledge article",
			    "SELECT record_type, record_id, relation, similarity, at FROM article_source WHERE article_id = ? "
			    "ORDER BY at, record_id",
			    q, 1, &src, err);
	}
	if (r) {
		json_decref(a);
		return r;
	}
	article_json_cols(a);
	json_object_set_new(a, "sources", src);
	*ret = a;
	return 0;
}

int ca_store_article_list(ca_store *s, const char *state, json_t **ret, ca_err *err)
{
	ca_buf sql = { 0 };
	int r = ca_buf_puts(&sql, article_cols) < 0 ||
			ca_buf_puts(&sql, state ? "WHERE state = ? ORDER BY id DESC" : "WHERE state <> 'discarded' ORDER BY id DESC") < 0
		? enomem(err, "knowledge articles")
		: 0;
	ca_sql_param p[] = { ca_sql_text(state) };
	if (!r)
		r = db_rows(s, "knowledge articles", sql.data, p, state ? 1 : 0, ret, err);
	ca_buf_done(&sql);
	if (!r) {
		size_t i;
		json_t *a;
		json_array_foreach(*ret, i, a) article_json_cols(a);
	}
	return r;
}

int ca_store_article_update(ca_store *s, int64_t id, const json_t *changes, ca_err *err)
{
	static const char *const text_cols[] = { "title", "issue", "cause", "resolution", "state", "compliance", "audience" };
	const char *what = "knowledge article";
	json_t *cur = NULL;
	char ref[32];
	snprintf(ref, sizeof(ref), "%lld", (long long)id);
	int r = ca_store_article_get(s, ref, &cur, err);
	if (r)
		return r;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)changes, k, v) {
		if (!one_of(k, text_cols, CA_ARRAY_SIZE(text_cols)) && strcmp(k, "bump_minor") && strcmp(k, "rating")) {
			json_decref(cur);
			return ca_err_set(err, CA_EINVAL, k, "%s %s: '%s' cannot be changed", what, ca_json_str(cur, "number"), k);
		}
	}
	const char *state = ca_json_str(changes, "state") ? ca_json_str(changes, "state") : ca_json_str(cur, "state");
	const char *compliance = ca_json_str(changes, "compliance") ? ca_json_str(changes, "compliance")
								     : ca_json_str(cur, "compliance");
	char label[64];
	snprintf(label, sizeof(label), "%s %s", what, ca_json_str(cur, "number"));
	if ((ca_json_str(changes, "state") && !one_of(state, art_states, CA_ARRAY_SIZE(art_states))) ||
	    (ca_json_str(changes, "compliance") && !one_of(compliance, art_compliance, CA_ARRAY_SIZE(art_compliance))) ||
	    (ca_json_str(changes, "audience") &&
	     !one_of(ca_json_str(changes, "audience"), art_audiences, CA_ARRAY_SIZE(art_audiences))))
		r = ca_err_set(err, CA_EINVAL, "state", "%s: unknown state, compliance or audience", label);
	if (!r)
		r = publish_rule(state, compliance, label, err);
	json_t *rating = json_object_get(changes, "rating");
	if (!r && rating && (!json_is_integer(rating) || json_integer_value(rating) < 1 || json_integer_value(rating) > 5))
		r = ca_err_set(err, CA_EINVAL, "rating", "%s: a rating is a whole number from 1 to 5", label);
	char at[21];
	ca_time_iso(ca_time_now(), at);
	if (!r)
		r = op_begin(s, what, err);
	else {
		json_decref(cur);
		return r;
	}
	for (size_t i = 0; !r && i < CA_ARRAY_SIZE(text_cols); i++) {
		const char *val = ca_json_str(changes, text_cols[i]);
		if (!val)
			continue;
		ca_buf sql = { 0 };
		/* the column name comes from the fixed list above, never from input */
		if (ca_buf_printf(&sql, "UPDATE knowledge_article SET %s = ?, updated_at = ? WHERE id = ?", text_cols[i]) < 0)
			r = enomem(err, what);
		ca_sql_param p[] = { ca_sql_text(val), ca_sql_text(at), ca_sql_int(id) };
		if (!r)
			r = db_exec(s, what, sql.data, p, 3, err);
		ca_buf_done(&sql);
	}
	if (!r && ca_json_str(changes, "state") && !strcmp(state, "published")) {
		ca_sql_param p[] = { ca_sql_text(at), ca_sql_int(id) };
		r = db_exec(s, what, "UPDATE knowledge_article SET published_at = ? WHERE id = ?", p, 2, err);
	}
	if (!r && json_is_true(json_object_get(changes, "bump_minor"))) {
		ca_sql_param p[] = { ca_sql_int(id) };
		r = db_exec(s, what, "UPDATE knowledge_article SET version_minor = version_minor + 1 WHERE id = ?", p, 1, err);
	}
	if (!r && rating) {
		ca_sql_param p[] = { ca_sql_int(json_integer_value(rating)), ca_sql_int(id) };
		r = db_exec(s, what,
			    "UPDATE knowledge_article SET rating_sum = rating_sum + ?, rating_count = rating_count + 1 WHERE id = ?",
			    p, 2, err);
	}
	/* Should the checks above ever miss a path, the schema's CHECK refuses
	 * the write and nothing of this call remains. */
	if (r == CA_EDB && strstr(err ? err->message : "", "CHECK")) {
		ca_err_clear(err);
		r = publish_rule("published", "pending", label, err);
	}
	json_decref(cur);
	return op_end(s, r, what, err);
}

int ca_store_article_link(ca_store *s, int64_t article_id, const char *record_type, const char *record_id,
			  const char *relation, double similarity, ca_err *err)
{
	char at[21];
	ca_time_iso(ca_time_now(), at);
	ca_sql_param d[] = { ca_sql_int(article_id), ca_sql_text(record_type), ca_sql_text(record_id) };
	int r = op_begin(s, "article link", err);
	if (!r)
		r = db_exec(s, "article link",
			    "DELETE FROM article_source WHERE article_id = ? AND record_type = ? AND record_id = ?", d, 3, err);
	ca_sql_param p[] = { ca_sql_int(article_id), ca_sql_text(record_type), ca_sql_text(record_id), ca_sql_text(relation),
			     ca_sql_real(similarity), ca_sql_text(at) };
	if (!r)
		r = db_exec(s, "article link",
			    "INSERT INTO article_source (article_id, record_type, record_id, relation, similarity, at) "
			    "VALUES (?, ?, ?, ?, ?, ?)",
			    p, 6, err);
	return op_end(s, r, "article link", err);
}

typedef struct ids_ctx {
	int64_t *v;
	size_t n, cap;
	int rc;
} ids_ctx;

static int take_id(const ca_sql_row *row, void *ud)
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

/* An FTS5 query of quoted words joined by OR: any word may match, and no
 * word is read as an operator ("NOT", "NEAR", a column filter). */
static int fts_query(const char *const *words, size_t n, ca_buf *q)
{
	for (size_t i = 0; i < n && i < 64; i++) {
		if (!words[i] || !words[i][0])
			continue;
		ca_buf_puts(q, q->len ? " OR \"" : "\"");
		for (const char *c = words[i]; *c; c++) {
			ca_buf_append(q, c, 1);
			if (*c == '"') /* a quote inside a string is doubled */
				ca_buf_append(q, c, 1);
		}
		ca_buf_puts(q, "\"");
	}
	return q->len && !q->data ? CA_ENOMEM : 0;
}

/* Full-text search (migration 7) is the sqlite driver's so far. */
static bool has_fts(const ca_store *s)
{
	return !strcmp(s->drv->name, "sqlite");
}

static int fts_ready(ca_store *s, const char *what, ca_err *err)
{
	return has_fts(s) ? 0
			  : ca_err_set(err, CA_EUNSUPPORTED, NULL, "%s: the %s driver has no full-text search yet", what,
				       s->drv->name);
}

int ca_store_article_search(ca_store *s, const char *const *words, size_t n, bool published_only,
			    const char *audience, size_t limit, json_t **ret, ca_err *err)
{
	const char *what = "knowledge search";
	*ret = NULL;
	ca_buf q = { 0 };
	int r = fts_ready(s, what, err);
	if (!r && fts_query(words, n, &q))
		r = enomem(err, what);
	if (!r && !q.len)
		r = (*ret = json_array()) ? 0 : enomem(err, what);
	if (r || *ret) {
		ca_buf_done(&q);
		return r;
	}
	ca_buf sql = { 0 };
	ca_buf_printf(&sql,
		      "SELECT a.id AS id, a.number AS number, a.title AS title, a.audience AS audience, "
		      "-bm25(knowledge_article_fts, 2.0, 1.0) AS score FROM knowledge_article_fts f "
		      "JOIN knowledge_article a ON a.id = f.rowid WHERE knowledge_article_fts MATCH ? AND %s%s "
		      "ORDER BY bm25(knowledge_article_fts, 2.0, 1.0), a.id LIMIT ?",
		      published_only ? "a.state = 'published'" : "a.state IN ('draft', 'in_review', 'published')",
		      audience ? " AND a.audience = ?" : "");
	ca_sql_param p[3];
	size_t np = 0;
	p[np++] = ca_sql_text(q.data);
	if (audience)
		p[np++] = ca_sql_text(audience);
	p[np++] = ca_sql_int(limit ? (int64_t)limit : -1);
	r = sql.data ? db_rows(s, what, sql.data, p, np, ret, err) : enomem(err, what);
	ca_buf_done(&sql);
	ca_buf_done(&q);
	return r;
}

int ca_store_article_candidates(ca_store *s, const char *const *words, size_t n, size_t limit, int64_t **ret_ids,
				size_t *ret_n, ca_err *err)
{
	const char *what = "knowledge candidates";
	*ret_ids = NULL;
	*ret_n = 0;
	ca_buf q = { 0 };
	int r = fts_ready(s, what, err);
	if (!r && fts_query(words, n, &q))
		r = enomem(err, what);
	if (r || !q.len) {
		ca_buf_done(&q);
		return r;
	}
	/* Every match when there are at most `limit` (the BM25 order would
	 * keep them all anyway, and ranking costs more than matching); else
	 * the `limit` best by BM25. */
	ids_ctx c = { 0 };
	ca_sql_param p[] = { ca_sql_text(q.data), ca_sql_int((int64_t)limit + 1) };
	r = db_query(s, what, "SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH ? LIMIT ?", p, 2,
		     take_id, &c, err);
	if (!r && !c.rc && c.n > limit) {
		c.n = 0;
		p[1] = ca_sql_int((int64_t)limit);
		r = db_query(s, what,
			     "SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH ? "
			     "ORDER BY bm25(knowledge_article_fts, 2.0, 1.0), rowid LIMIT ?",
			     p, 2, take_id, &c, err);
	}
	ca_buf_done(&q);
	if (!r && c.rc)
		r = c.rc == CA_ENOMEM ? enomem(err, what) : ca_err_set(err, CA_EDB, NULL, "%s: a rowid is not a number", what);
	if (r) {
		free(c.v);
		return r;
	}
	*ret_ids = c.v;
	*ret_n = c.n;
	return 0;
}

int ca_store_article_index_tidy(ca_store *s, int pages, ca_err *err)
{
	if (!has_fts(s) || pages <= 0)
		return 0;
	ca_sql_param p[] = { ca_sql_int(-(int64_t)pages) };
	return db_exec(s, "tidying the full-text index",
		       "INSERT INTO knowledge_article_fts (knowledge_article_fts, rank) VALUES ('merge', ?)", p, 1, err);
}

int ca_store_article_of_record(ca_store *s, const char *record_type, const char *record_id, bool *found,
			       int64_t *ret_article, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(record_type), ca_sql_text(record_id) };
	return case_of(s, "article link",
		       "SELECT article_id FROM article_source WHERE record_type = ? AND record_id = ? ORDER BY at LIMIT 1", p,
		       2, found, ret_article, err);
}

int ca_store_notification_add(ca_store *s, const char *recipient, const char *kind, int64_t article_id,
			      int64_t case_id, const char *message, ca_err *err)
{
	char at[21];
	ca_time_iso(ca_time_now(), at);
	int64_t id = 0;
	int r = op_begin(s, "notification", err);
	if (!r)
		r = next_id(s, "notification", "notification", &id, err);
	ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(recipient ? recipient : "unassigned"), ca_sql_text(kind),
			     article_id > 0 ? ca_sql_int(article_id) : ca_sql_null(),
			     case_id > 0 ? ca_sql_int(case_id) : ca_sql_null(), ca_sql_text(message), ca_sql_text(at) };
	if (!r)
		r = db_exec(s, "notification",
			    "INSERT INTO notification (id, recipient, kind, article_id, case_id, message, created_at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	return op_end(s, r, "notification", err);
}

int ca_store_notification_list(ca_store *s, const char *recipient, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_text(recipient) };
	return recipient ? db_rows(s, "notifications",
				   "SELECT n.id, n.recipient, n.kind, a.number AS article, c.ticket_number AS \"case\", n.message, "
				   "n.created_at, n.read_at FROM notification n LEFT JOIN knowledge_article a ON a.id = n.article_id "
				   "LEFT JOIN case_record c ON c.id = n.case_id WHERE n.recipient = ? ORDER BY n.id DESC",
				   p, 1, ret, err)
			 : db_rows(s, "notifications",
				   "SELECT n.id, n.recipient, n.kind, a.number AS article, c.ticket_number AS \"case\", n.message, "
				   "n.created_at, n.read_at FROM notification n LEFT JOIN knowledge_article a ON a.id = n.article_id "
				   "LEFT JOIN case_record c ON c.id = n.case_id ORDER BY n.id DESC",
				   NULL, 0, ret, err);
}

/* ---- knowledge harvest jobs (migration 5) ---- */

static const char *const harvest_states[] = { "running", "stopped", "done", "failed" };
static const char *const harvest_outcomes[] = { "created", "covered", "filtered", "insufficient", "error" };
/* The job's counter column of each outcome, in the order above. Fixed
 * names: the only text ever spliced into the SQL below. */
static const char *const harvest_counters[] = { "created", "covered", "filtered", "insufficient", "errors" };

static const char harvest_cols[] =
	"SELECT id, source, rule, state, total, processed, created, covered, filtered, insufficient, errors, "
	"last_case_id, last_record, started_at, updated_at, finished_at FROM harvest_job ";

int ca_store_harvest_create(ca_store *s, const char *source, const char *rule, int64_t total, int64_t *ret_id,
			    ca_err *err)
{
	const char *what = "harvest job";
	static const char *const sources[] = { "cases", "conversations" };
	if (!source || !one_of(source, sources, CA_ARRAY_SIZE(sources)))
		return ca_err_set(err, CA_EINVAL, "source", "%s: the source is cases or conversations, not '%s'", what,
				  source ? source : "");
	char at[21];
	now_iso(at);
	int64_t id = 0;
	int r = op_begin(s, what, err);
	if (!r)
		r = next_id(s, what, "harvest_job", &id, err);
	ca_sql_param p[] = { ca_sql_int(id), ca_sql_text(source), ca_sql_text(rule), ca_sql_int(total), ca_sql_text(at),
			     ca_sql_text(at) };
	if (!r)
		r = db_exec(s, what,
			    "INSERT INTO harvest_job (id, source, rule, state, total, started_at, updated_at) "
			    "VALUES (?, ?, ?, 'running', ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	r = op_end(s, r, what, err);
	if (!r)
		*ret_id = id;
	return r;
}

int ca_store_harvest_get(ca_store *s, int64_t id, json_t **ret, ca_err *err)
{
	ca_buf sql = { 0 };
	if (ca_buf_printf(&sql, "%sWHERE id = ?", harvest_cols) < 0) {
		ca_buf_done(&sql);
		return enomem(err, "harvest job");
	}
	ca_sql_param p[] = { ca_sql_int(id) };
	json_t *rows = NULL;
	int r = db_rows(s, "harvest job", sql.data, p, 1, &rows, err);
	ca_buf_done(&sql);
	if (!r && json_array_size(rows) == 0)
		r = ca_err_set(err, CA_ENOTFOUND, "job", "harvest job %lld not found", (long long)id);
	if (!r)
		*ret = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

int ca_store_harvest_list(ca_store *s, json_t **ret, ca_err *err)
{
	ca_buf sql = { 0 };
	if (ca_buf_printf(&sql, "%sORDER BY id", harvest_cols) < 0) {
		ca_buf_done(&sql);
		return enomem(err, "harvest jobs");
	}
	int r = db_rows(s, "harvest jobs", sql.data, NULL, 0, ret, err);
	ca_buf_done(&sql);
	return r;
}

int ca_store_harvest_set_state(ca_store *s, int64_t id, const char *state, const char *only_from, bool *ret_changed,
			       ca_err *err)
{
	const char *what = "harvest job";
	if (!state || !one_of(state, harvest_states, CA_ARRAY_SIZE(harvest_states)) ||
	    (only_from && !one_of(only_from, harvest_states, CA_ARRAY_SIZE(harvest_states))))
		return ca_err_set(err, CA_EINVAL, "state", "%s %lld: unknown state", what, (long long)id);
	char at[21];
	now_iso(at);
	bool final = !strcmp(state, "done") || !strcmp(state, "failed");
	ca_sql_param p[] = { ca_sql_text(state), ca_sql_text(at), ca_sql_text(final ? at : NULL), ca_sql_int(id),
			     ca_sql_text(only_from) };
	int r = db_exec(s, what,
			only_from ? "UPDATE harvest_job SET state = ?, updated_at = ?, finished_at = ? WHERE id = ? AND state = ?"
				  : "UPDATE harvest_job SET state = ?, updated_at = ?, finished_at = ? WHERE id = ?",
			p, only_from ? 5 : 4, err);
	if (!r && ret_changed)
		*ret_changed = s->drv->changes(s->conn) > 0;
	return r;
}

int ca_store_harvest_record(ca_store *s, int64_t job_id, const char *record_type, const char *record_id,
			    int64_t cursor, const char *cursor_record, const char *outcome, const char *article,
			    const char *reason, ca_err *err)
{
	const char *what = "harvest log";
	size_t k = 0;
	while (k < CA_ARRAY_SIZE(harvest_outcomes) && (!outcome || strcmp(outcome, harvest_outcomes[k])))
		k++;
	if (k == CA_ARRAY_SIZE(harvest_outcomes))
		return ca_err_set(err, CA_EINVAL, "outcome", "%s: unknown outcome '%s'", what, outcome ? outcome : "");
	char at[21];
	now_iso(at);
	ca_buf sql = { 0 };
	/* the column name comes from harvest_counters, never from input */
	if (ca_buf_printf(&sql,
			  "UPDATE harvest_job SET processed = processed + 1, %s = %s + 1, %s = ?, updated_at = ? "
			  "WHERE id = ?",
			  harvest_counters[k], harvest_counters[k], cursor_record ? "last_record" : "last_case_id") < 0) {
		ca_buf_done(&sql);
		return enomem(err, what);
	}
	int r = op_begin(s, what, err);
	ca_sql_param p[] = { ca_sql_int(job_id), ca_sql_text(record_type), ca_sql_text(record_id), ca_sql_text(outcome),
			     ca_sql_text(article), ca_sql_text(reason), ca_sql_text(at) };
	if (!r)
		r = db_exec(s, what,
			    "INSERT INTO harvest_log (job_id, record_type, record_id, outcome, article, reason, at) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?)",
			    p, CA_ARRAY_SIZE(p), err);
	ca_sql_param q[] = { cursor_record ? ca_sql_text(cursor_record) : ca_sql_int(cursor), ca_sql_text(at),
			     ca_sql_int(job_id) };
	if (!r)
		r = db_exec(s, what, sql.data, q, CA_ARRAY_SIZE(q), err);
	if (!r && s->drv->changes(s->conn) != 1)
		r = ca_err_set(err, CA_ENOTFOUND, "job", "%s: harvest job %lld not found", what, (long long)job_id);
	ca_buf_done(&sql);
	return op_end(s, r, what, err);
}

int ca_store_harvest_log(ca_store *s, int64_t job_id, const char *outcome, size_t limit, json_t **ret, ca_err *err)
{
	ca_sql_param p[] = { ca_sql_int(job_id), ca_sql_text(outcome), ca_sql_int(limit ? (int64_t)limit : -1) };
	if (outcome)
		return db_rows(s, "harvest log",
			       "SELECT record_type, record_id, outcome, article, reason, at FROM harvest_log "
			       "WHERE job_id = ? AND outcome = ? ORDER BY at, LENGTH(record_id), record_id LIMIT ?",
			       p, 3, ret, err);
	p[1] = p[2];
	return db_rows(s, "harvest log",
		       "SELECT record_type, record_id, outcome, article, reason, at FROM harvest_log "
		       "WHERE job_id = ? ORDER BY at, LENGTH(record_id), record_id LIMIT ?",
		       p, 2, ret, err);
}

int ca_store_resolved_cases(ca_store *s, int64_t after_id, size_t limit, int64_t **ret_ids, size_t *ret_n,
			    ca_err *err)
{
	ids_ctx c = { 0 };
	ca_sql_param p[] = { ca_sql_int(after_id), ca_sql_int(limit ? (int64_t)limit : -1) };
	int r = db_query(s, "resolved cases",
			 "SELECT id FROM case_record WHERE status IN ('resolved', 'closed') AND id > ? ORDER BY id LIMIT ?", p,
			 2, take_id, &c, err);
	if (!r && c.rc)
		r = c.rc == CA_ENOMEM ? enomem(err, "resolved cases")
				      : ca_err_set(err, CA_EDB, NULL, "resolved cases: a case id is not a number");
	if (r) {
		free(c.v);
		return r;
	}
	*ret_ids = c.v;
	*ret_n = c.n;
	return 0;
}

typedef struct strs_ctx {
	ca_strv *sv;
	int rc;
} strs_ctx;

static int take_str(const ca_sql_row *row, void *ud)
{
	strs_ctx *c = ud;
	if (row->n < 1 || !row->text[0])
		return 0;
	c->rc = ca_strv_push(c->sv, row->text[0]) ? CA_ENOMEM : 0;
	return c->rc ? 1 : 0;
}

int ca_store_closed_conversations(ca_store *s, const char *after_id, size_t limit, ca_strv *ret_ids, ca_err *err)
{
	strs_ctx c = { .sv = ret_ids };
	ca_sql_param p[] = { ca_sql_text(after_id ? after_id : ""), ca_sql_int(limit ? (int64_t)limit : -1) };
	int r = db_query(s, "closed conversations",
			 "SELECT id FROM conversation WHERE state = 'closed' AND id > ? ORDER BY id LIMIT ?", p, 2, take_str,
			 &c, err);
	return !r && c.rc ? enomem(err, "closed conversations") : r;
}

int ca_store_closed_conversation_count(ca_store *s, int64_t *ret, ca_err *err)
{
	bool found;
	return db_i64(s, "closed conversations", "SELECT COUNT(*) FROM conversation WHERE state = 'closed'", NULL, 0, ret,
		      &found, err);
}

int ca_store_resolved_case_count(ca_store *s, int64_t *ret, ca_err *err)
{
	bool found;
	return db_i64(s, "resolved cases", "SELECT COUNT(*) FROM case_record WHERE status IN ('resolved', 'closed')", NULL,
		      0, ret, &found, err);
}

int ca_store_knowledge_stats(ca_store *s, json_t **ret, ca_err *err)
{
	json_t *by_state = NULL, *by_source = NULL, *rev = NULL, *rated = NULL;
	int r = db_rows(s, "insights", "SELECT state, COUNT(*) AS n FROM knowledge_article GROUP BY state ORDER BY state",
			NULL, 0, &by_state, err);
	if (!r)
		r = db_rows(s, "insights", "SELECT source, COUNT(*) AS n FROM knowledge_article GROUP BY source ORDER BY source",
			    NULL, 0, &by_source, err);
	if (!r)
		r = db_rows(s, "insights",
			    "SELECT number, title, CAST(rating_sum AS REAL) / rating_count AS average_rating FROM knowledge_article "
			    "WHERE rating_count > 0 AND rating_sum <= 2 * rating_count ORDER BY number",
			    NULL, 0, &rev, err);
	if (!r)
		r = db_rows(s, "insights",
			    "SELECT COUNT(*) AS rated, SUM(rating_sum) AS total, SUM(rating_count) AS votes FROM knowledge_article "
			    "WHERE rating_count > 0",
			    NULL, 0, &rated, err);
	int64_t resolved = 0, linked = 0, published = 0;
	bool found;
	if (!r)
		r = db_i64(s, "insights",
			   "SELECT COUNT(*) FROM case_record WHERE LOWER(status) IN ('resolved', 'closed')", NULL, 0, &resolved,
			   &found, err);
	if (!r)
		r = db_i64(s, "insights",
			   "SELECT COUNT(DISTINCT c.id) FROM case_record c JOIN article_source a ON a.record_type = 'case' "
			   "AND a.record_id = CAST(c.id AS TEXT) WHERE LOWER(c.status) IN ('resolved', 'closed')",
			   NULL, 0, &linked, &found, err);
	int64_t closed = 0, closed_linked = 0;
	if (!r)
		r = ca_store_closed_conversation_count(s, &closed, err);
	if (!r)
		r = db_i64(s, "insights",
			   "SELECT COUNT(DISTINCT c.id) FROM conversation c JOIN article_source a ON "
			   "a.record_type = 'conversation' AND a.record_id = c.id WHERE c.state = 'closed'",
			   NULL, 0, &closed_linked, &found, err);
	if (!r)
		r = db_i64(s, "insights", "SELECT COUNT(*) FROM knowledge_article WHERE state = 'published'", NULL, 0,
			   &published, &found, err);
	json_t *out = NULL;
	if (!r) {
		json_t *st = json_object(), *so = json_object();
		size_t i;
		json_t *row;
		json_array_foreach(by_state, i, row) json_object_set(st, ca_json_str(row, "state"), json_object_get(row, "n"));
		json_array_foreach(by_source, i, row) json_object_set(so, ca_json_str(row, "source"), json_object_get(row, "n"));
		json_t *r0 = json_array_get(rated, 0);
		json_t *votes = json_object_get(r0, "votes"), *total = json_object_get(r0, "total");
		double avg = json_integer_value(votes) > 0 ? (double)json_integer_value(total) / (double)json_integer_value(votes) : 0;
		out = json_pack("{s:{s:o, s:o, s:I, s:O, s:o, s:O}, s:I, s:I, s:I, s:I}", "articles", "by_state", st,
				"by_source", so, "published", (json_int_t)published, "rated", json_object_get(r0, "rated"),
				"average_rating", json_integer_value(votes) > 0 ? json_real(avg) : json_null(), "to_revise", rev,
				"resolved_cases", (json_int_t)resolved, "resolved_cases_linked", (json_int_t)linked,
				"closed_conversations", (json_int_t)closed, "closed_conversations_linked",
				(json_int_t)closed_linked);
		if (!out)
			r = enomem(err, "insights");
	}
	json_decref(by_state);
	json_decref(by_source);
	json_decref(rev);
	json_decref(rated);
	if (r)
		return r;
	*ret = out;
	return 0;
}
