/* SPDX-License-Identifier: MIT */
/*
 * The directory: contacts, accounts, agents and the other reference records
 * a case links to, one table per kind described by a row of dir_kinds (its
 * columns, SQL and lookup keys), validated and upserted whole. The lookups
 * find a record by its normalised keys (model.h, ca_dir_key) through the key
 * indexes, and migration 11's C step fills those keys for records stored
 * before they existed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"
#include "model.h"
#include "text.h"

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
	r = db_exec(s, what, k->upsert, p, row->n, err);
	/* The generation moves once per transaction (or unit of work in it,
	 * ca_store_unit_end) that writes the directory (an import batch is one
	 * UPDATE more), and rolls back with it. */
	if (!r && (!s->tx_depth || s->dir_bumped_serial != s->unit_serial)) {
		r = db_exec(s, "directory generation",
			    "INSERT INTO counter (name, value) VALUES ('directory', 1) "
			    "ON CONFLICT (name) DO UPDATE SET value = counter.value + 1",
			    NULL, 0, err);
		if (!r && s->tx_depth)
			s->dir_bumped_serial = s->unit_serial;
		if (!r)
			s->dir_bumps++;
		s->gen_serial = 0;
	}
	return r;
}

static int generation_row(const ca_sql_row *row, void *ud)
{
	*(int64_t *)ud = row->n && row->text[0] ? strtoll(row->text[0], NULL, 10) : 0;
	return 0;
}

int ca_store_directory_generation(ca_store *s, int64_t *ret, uint64_t *ret_own, ca_err *err)
{
	*ret_own = s->dir_bumps;
	/* Inside one transaction only its own writes move it (a snapshot). */
	if (s->tx_depth && s->gen_serial == s->tx_serial) {
		*ret = s->gen;
		return 0;
	}
	*ret = 0;
	int r = db_query(s, "directory generation", "SELECT value FROM counter WHERE name = 'directory'", NULL, 0,
			 generation_row, ret, err);
	if (!r && s->tx_depth) {
		s->gen = *ret;
		s->gen_serial = s->tx_serial;
	}
	return r;
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
	char *key = NULL;
	int r = ca_dir_key_of(CA_DIRKEY_EMAIL, email, NULL, &key);
	if (r)
		return enomem(err, "contact");
	if (!key) { /* not an address: no contact has it */
		*found = false;
		return 0;
	}
	ca_sql_param p[] = { ca_sql_text(key) };
	r = db_str(s, "contact", "SELECT id FROM contact WHERE email_key = ? ORDER BY id LIMIT 1", p, 1, ret_id, found,
		   err);
	free(key);
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
