/* SPDX-License-Identifier: MIT */
/*
 * Import of directory records (contacts, accounts, products, subjects) and of
 * historical cases from CSV (RFC 4180, parsed with libcsv; a UTF-8 byte order
 * mark is skipped) or JSON Lines, and loading of transcript files. Any error
 * names the file, the line and the key. A directory file streams in two
 * passes, so a million contacts take neither the memory of the whole file
 * nor the write lock for the whole import: the first pass reads and
 * validates every record, finds repeated ids (naming both lines), and
 * spools the rows the store will write (columns and lookup keys) to a
 * temporary file, writing nothing to the database; only a file without an
 * error is then written from the spool, in batches that hold the write
 * lock for at most IMPORT_TX_SECONDS while another writer waits for it,
 * and longer (IMPORT_TX_MAX_SECONDS) while nobody does (batch_done). A failure of the database in the
 * second pass (disk full, the lock never coming) keeps the batches already
 * committed, every record whole, and says so: records are upserted by id,
 * so importing the same file again completes it. Cases are imported in one
 * transaction, all or nothing.
 */
#include <csv.h>
#include <errno.h>
#include <glib.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "text.h"

#define MAX_IMPORT_BYTES ((size_t)1 << 30)
/* The byte order mark spreadsheet programs put before UTF-8 CSV text. */
#define UTF8_BOM "\xEF\xBB\xBF"
/* A directory import holds the write lock at most this long per batch, as
 * a harvest does (src/knowledge/harvest.c), then lets go for IMPORT_PAUSE_NS
 * so a live event waiting for it (sqlite.c tries every millisecond) gets in. */
#define IMPORT_TX_SECONDS 0.25
#define IMPORT_PAUSE_NS 2000000L
/* The longest batch while no other writer waits (batch_done). */
#define IMPORT_TX_MAX_SECONDS 2.0
/* Records between two looks at the clock. */
#define IMPORT_CLOCK_EVERY 64

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- JSON Lines ---- */

/* Parse a JSONL file into an array of objects, each tagged with its line
 * number in "_line". Blank lines are skipped. */
static int load_jsonl(const char *path, json_t **ret, ca_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return ca_err_set(err, CA_EIO, path, "cannot open %s: %s", path, strerror(errno));
	json_t *arr = json_array();
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t lineno = 0;
	int r = arr ? 0 : CA_ENOMEM;
	while (!r && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		char where[512];
		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		size_t bad;
		if (!ca_utf8_valid(line, (size_t)len, &bad)) {
			r = ca_err_set(err, CA_EUTF8, where, "%s: line is not valid UTF-8 (byte %zu); nothing was imported",
				       where, bad);
			break;
		}
		size_t i = 0;
		while (i < (size_t)len && strchr(" \t\r\n", line[i]))
			i++;
		if (i == (size_t)len)
			continue;
		json_error_t je;
		json_t *j = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &je);
		if (!j) {
			r = ca_err_set(err, CA_EPARSE, where, "%s: malformed JSON at column %d: %s; nothing was imported", where,
				       je.column, je.text);
			break;
		}
		if (!json_is_object(j)) {
			json_decref(j);
			r = ca_err_set(err, CA_EPARSE, where, "%s: each line must be a JSON object", where);
			break;
		}
		json_object_set_new(j, "_line", json_integer((json_int_t)lineno));
		json_array_append_new(arr, j);
	}
	free(line);
	if (!r && ferror(f))
		r = ca_err_set(err, CA_EIO, path, "error reading %s", path);
	if (f != stdin)
		fclose(f);
	if (r) {
		json_decref(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

/* ---- CSV ---- */

/* One pass of libcsv: the first record names the columns, every later
 * record becomes a JSON object keyed by them (empty fields left out). */
typedef struct csv_state {
	json_t *rows;
	json_t *header;  /* column names */
	json_t *row;     /* record being read, NULL between records */
	bool in_header;
	size_t col;
	size_t line;     /* record number, 1 = header */
	int r;
	ca_err *err;
	const char *path;
} csv_state;

static void csv_on_field(void *s, size_t len, void *ud)
{
	csv_state *st = ud;
	if (st->r)
		return;
	char where[512];
	snprintf(where, sizeof(where), "%s:%zu", st->path, st->line);
	size_t bad;
	if (!ca_utf8_valid(s, len, &bad) || memchr(s, 0, len)) {
		st->r = ca_err_set(st->err, CA_EUTF8, where, "%s: field %zu is not valid UTF-8 text", where, st->col + 1);
		return;
	}
	if (st->in_header) {
		if (json_array_append_new(st->header, json_stringn(s, len)) < 0)
			st->r = CA_ENOMEM;
		st->col++;
		return;
	}
	const char *name = json_string_value(json_array_get(st->header, st->col));
	if (!name) {
		st->r = ca_err_set(st->err, CA_EPARSE, where, "%s: more fields than the header's %zu", where,
				   json_array_size(st->header));
		return;
	}
	if (!st->row && !(st->row = json_object())) {
		st->r = CA_ENOMEM;
		return;
	}
	if (len && json_object_set_new(st->row, name, json_stringn(s, len)) < 0)
		st->r = CA_ENOMEM;
	st->col++;
}

static void csv_on_record(int c, void *ud)
{
	csv_state *st = ud;
	(void)c;
	if (!st->r && st->in_header) {
		st->in_header = false;
	} else if (!st->r && st->row) {
		json_object_set_new(st->row, "_line", json_integer((json_int_t)st->line));
		if (json_array_append_new(st->rows, st->row) < 0)
			st->r = CA_ENOMEM;
		st->row = NULL;
	}
	st->col = 0;
	st->line++;
}

static int load_csv(const char *path, json_t **ret, ca_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int r = ca_file_read(path, MAX_IMPORT_BYTES, &data, &len, err);
	if (r)
		return r;
	size_t bom = len >= 3 && !memcmp(data, UTF8_BOM, 3) ? 3 : 0;
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		free(data);
		return CA_ENOMEM;
	}
	csv_state st = { .rows = json_array(), .header = json_array(), .in_header = true, .line = 1,
			 .path = path, .err = err };
	if (!st.rows || !st.header)
		st.r = CA_ENOMEM;
	if (!st.r && (csv_parse(&p, data + bom, len - bom, csv_on_field, csv_on_record, &st) != len - bom ||
		      csv_fini(&p, csv_on_field, csv_on_record, &st) != 0) && !st.r) {
		char where[512];
		snprintf(where, sizeof(where), "%s:%zu", path, st.line);
		st.r = ca_err_set(err, CA_EPARSE, where, "%s: not valid CSV: %s", where, csv_strerror(csv_error(&p)));
	}
	csv_free(&p);
	free(data);
	if (!st.r && json_array_size(st.header) == 0)
		st.r = ca_err_set(err, CA_EPARSE, path, "%s:1: a CSV file needs a header row naming the columns", path);
	json_decref(st.header);
	json_decref(st.row);
	if (st.r) {
		json_decref(st.rows);
		return st.r;
	}
	*ret = st.rows;
	return 0;
}

static int load_records(const char *path, json_t **ret, ca_err *err)
{
	return ends_with(path, ".csv") ? load_csv(path, ret, err) : load_jsonl(path, ret, err);
}

/* ---- streaming records (directory imports) ---- */

/* Records one at a time from a JSONL or CSV stream, each tagged with its
 * line ("_line"; for CSV the record number, 1 being the header). */
typedef struct rec_reader {
	FILE *f;
	const char *path;
	bool csv, first, eof;
	char *line;         /* JSONL */
	size_t cap, lineno;
	struct csv_parser p; /* CSV: parsed rows queue in st.rows */
	csv_state st;
	size_t next;        /* next row of st.rows to hand out */
	char *buf;
} rec_reader;

#define READ_CHUNK 65536

static int reader_open(rec_reader *rd, FILE *f, const char *path, ca_err *err)
{
	memset(rd, 0, sizeof(*rd));
	rd->f = f;
	rd->path = path;
	rd->csv = ends_with(path, ".csv");
	rd->first = true;
	if (!rd->csv)
		return 0;
	rd->st = (csv_state){ .rows = json_array(), .header = json_array(), .in_header = true, .line = 1,
			      .path = path, .err = err };
	rd->buf = malloc(READ_CHUNK);
	if (!rd->st.rows || !rd->st.header || !rd->buf || csv_init(&rd->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
		return CA_ENOMEM;
	return 0;
}

static void reader_close(rec_reader *rd)
{
	free(rd->line);
	free(rd->buf);
	if (rd->csv)
		csv_free(&rd->p);
	json_decref(rd->st.rows);
	json_decref(rd->st.header);
	json_decref(rd->st.row);
}

static int csv_next(rec_reader *rd, json_t **ret, ca_err *err)
{
	csv_state *st = &rd->st;
	while (rd->next >= json_array_size(st->rows) && !rd->eof && !st->r) {
		json_array_clear(st->rows);
		rd->next = 0;
		size_t n = fread(rd->buf, 1, READ_CHUNK, rd->f);
		if (n == 0) {
			if (ferror(rd->f))
				return ca_err_set(err, CA_EIO, rd->path, "error reading %s", rd->path);
			rd->eof = true;
			if (csv_fini(&rd->p, csv_on_field, csv_on_record, st) != 0 && !st->r) {
				char where[512];
				snprintf(where, sizeof(where), "%s:%zu", rd->path, st->line);
				st->r = ca_err_set(err, CA_EPARSE, where, "%s: not valid CSV: %s", where,
						   csv_strerror(csv_error(&rd->p)));
			}
			if (!st->r && json_array_size(st->header) == 0)
				st->r = ca_err_set(err, CA_EPARSE, rd->path, "%s:1: a CSV file needs a header row naming the columns",
						   rd->path);
			break;
		}
		size_t off = 0;
		if (rd->first) {
			rd->first = false;
			off = n >= 3 && !memcmp(rd->buf, UTF8_BOM, 3) ? 3 : 0;
		}
		if (csv_parse(&rd->p, rd->buf + off, n - off, csv_on_field, csv_on_record, st) != n - off && !st->r) {
			char where[512];
			snprintf(where, sizeof(where), "%s:%zu", rd->path, st->line);
			st->r = ca_err_set(err, CA_EPARSE, where, "%s: not valid CSV: %s", where,
					   csv_strerror(csv_error(&rd->p)));
		}
	}
	if (st->r)
		return st->r;
	json_t *row = json_array_get(st->rows, rd->next);
	if (row)
		rd->next++;
	*ret = json_incref(row);
	return 0;
}

static int jsonl_next(rec_reader *rd, json_t **ret, ca_err *err)
{
	ssize_t len;
	while ((len = getline(&rd->line, &rd->cap, rd->f)) >= 0) {
		rd->lineno++;
		char *line = rd->line;
		if (rd->first) {
			rd->first = false;
			if (len >= 3 && !memcmp(line, UTF8_BOM, 3))
				line += 3, len -= 3;
		}
		char where[512];
		snprintf(where, sizeof(where), "%s:%zu", rd->path, rd->lineno);
		size_t bad;
		if (!ca_utf8_valid(line, (size_t)len, &bad))
			return ca_err_set(err, CA_EUTF8, where, "%s: line is not valid UTF-8 (byte %zu); nothing was imported",
					  where, bad);
		size_t i = 0;
		while (i < (size_t)len && strchr(" \t\r\n", line[i]))
			i++;
		if (i == (size_t)len)
			continue;
		json_error_t je;
		json_t *j = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &je);
		if (!j)
			return ca_err_set(err, CA_EPARSE, where, "%s: malformed JSON at column %d: %s; nothing was imported",
					  where, je.column, je.text);
		if (!json_is_object(j)) {
			json_decref(j);
			return ca_err_set(err, CA_EPARSE, where, "%s: each line must be a JSON object", where);
		}
		json_object_set_new(j, "_line", json_integer((json_int_t)rd->lineno));
		*ret = j;
		return 0;
	}
	if (ferror(rd->f))
		return ca_err_set(err, CA_EIO, rd->path, "error reading %s", rd->path);
	*ret = NULL;
	return 0;
}

/* The next record (new reference), or NULL at the end. */
static int reader_next(rec_reader *rd, json_t **ret, ca_err *err)
{
	return rd->csv ? csv_next(rd, ret, err) : jsonl_next(rd, ret, err);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- import ---- */

static const char *kind_singular(const char *kind)
{
	static const char *const map[][2] = {
		{ "contacts", "contact" }, { "accounts", "account" }, { "products", "product" },
		{ "subjects", "subject" }, { "cases", "case" },
	};
	for (size_t i = 0; i < CA_ARRAY_SIZE(map); i++)
		if (!strcmp(kind, map[i][0]) || !strcmp(kind, map[i][1]))
			return map[i][1];
	return NULL;
}

/* A CSV "aliases" column holds names separated by '|'. */
static void aliases_to_array(json_t *rec)
{
	json_t *a = json_object_get(rec, "aliases");
	if (!json_is_string(a))
		return;
	json_t *arr = json_array();
	const char *s = json_string_value(a);
	while (arr && *s) {
		const char *e = strchr(s, '|');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n)
			json_array_append_new(arr, json_stringn(s, n));
		s += n + (e ? 1 : 0);
	}
	json_object_set_new(rec, "aliases", arr);
}

static int import_case(ca_agent *a, json_t *rec, const char *where, ca_err *err)
{
	const ca_settings *s = a->settings;
	json_t *fields = json_object_get(rec, "fields");
	json_t *flat = NULL;
	if (!fields) {
		/* Flat form (CSV, or JSONL without "fields"): every column is a field. */
		flat = json_deep_copy(rec);
		json_object_del(flat, "_line");
		json_object_del(flat, "id");
		json_object_del(flat, "text");
		json_object_del(flat, "resolution");
		fields = flat;
	}
	if (!json_is_object(fields))
		return ca_err_set(err, CA_EINVAL, where, "%s: \"fields\" must be an object", where);
	const char *k;
	json_t *v;
	int r = 0;
	json_object_foreach(fields, k, v) {
		char w[600];
		snprintf(w, sizeof(w), "%s: %s", where, k);
		if (!json_is_string(v)) {
			r = ca_err_set(err, CA_EINVAL, w, "%s: field '%s' must be a string", where, k);
			break;
		}
		int fi = ca_settings_field(s, k);
		if (fi < 0 && !ca_case_is_standard_field(k)) {
			r = ca_err_set(err, CA_EINVAL, w, "%s: '%s' is neither a configured field nor a standard case field", where, k);
			break;
		}
		if (!strcmp(k, "ticket_number")) {
			r = ca_err_set(err, CA_EINVAL, w, "%s: ticket numbers are assigned by caseagent", where);
			break;
		}
		const char *kind = fi >= 0 && s->fields[fi].type == CA_FT_LOOKUP ? ca_entity_name(s->fields[fi].lookup)
				   : !strcmp(k, "customer")				  ? "contact"
				   : !strcmp(k, "account")				  ? "account"
				   : !strcmp(k, "product")				  ? "product"
				   : !strcmp(k, "subject")				  ? "subject"
											  : NULL;
		if (kind) {
			json_t *d = NULL;
			int g = ca_store_directory_get(a->store, kind, json_string_value(v), &d, NULL);
			json_decref(d);
			if (g) {
				r = ca_err_set(err, CA_EINVAL, w, "%s: %s '%s' is not a known %s id; import %ss first", where, k,
					       json_string_value(v), kind, kind);
				break;
			}
		} else if (fi >= 0 && s->fields[fi].type == CA_FT_OPTION &&
			   ca_field_option_index(&s->fields[fi], json_string_value(v)) < 0) {
			r = ca_err_set(err, CA_EINVAL, w, "%s: '%s' is not an option of %s", where, json_string_value(v), k);
			break;
		}
	}
	int64_t id = 0;
	char *ticket = NULL;
	if (!r)
		r = ca_store_case_create(a->store, "import", NULL, &id, &ticket, err);
	free(ticket);
	json_object_foreach(fields, k, v) {
		if (r)
			break;
		r = ca_case_write_as(a, id, k, json_string_value(v), "import", "import", err);
	}
	const char *text = ca_json_str(rec, "text");
	if (!r && text)
		r = ca_store_note_add(a->store, id, "note", text, NULL, "import", err);
	/* "resolution": how the case was solved, kept as the resolution note a
	 * person's `case resolve` writes, by the case's owner (the person who
	 * resolved it, as far as the import knows), so history can be harvested. */
	const char *resolution = ca_json_str(rec, "resolution");
	if (!r && resolution) {
		const char *owner = ca_json_str(fields, "owner");
		r = ca_store_note_add(a->store, id, "resolution", resolution, NULL, owner ? owner : "import", err);
	}
	json_decref(flat);
	return r;
}

/* The record as the store takes it: no "_line", aliases as an array. */
static json_t *clean_record(const json_t *rec)
{
	json_t *clean = json_copy((json_t *)rec); /* shallow: values are only read */
	if (clean) {
		json_object_del(clean, "_line");
		aliases_to_array(clean);
	}
	return clean;
}

/* The validated rows spool to a temporary file between the passes, so the
 * second pass neither parses nor validates again: per row its line, the
 * number of values, then each value as a 32-bit length (UINT32_MAX for
 * NULL) and its bytes. */
static int spool_row(FILE *f, size_t line, const ca_dir_row *row)
{
	uint64_t l = line;
	uint32_t n = (uint32_t)row->n;
	bool ok = fwrite(&l, sizeof(l), 1, f) == 1 && fwrite(&n, sizeof(n), 1, f) == 1;
	for (size_t i = 0; ok && i < row->n; i++) {
		uint32_t len = row->v[i] ? (uint32_t)strlen(row->v[i]) : UINT32_MAX;
		ok = fwrite(&len, sizeof(len), 1, f) == 1 && (!row->v[i] || fwrite(row->v[i], 1, len, f) == len);
	}
	return ok ? 0 : CA_EIO;
}

/* Bytes of one spooled row, reused from row to row so reading a million
 * rows back costs no allocation per value. */
typedef struct spool_buf {
	char *data;
	size_t len, cap;
} spool_buf;

static int spool_reserve(spool_buf *b, size_t extra)
{
	if (extra > SIZE_MAX / 2 - b->len)
		return CA_ENOMEM;
	if (b->len + extra <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return CA_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* The next spooled row into *row (kind set by the caller), its values
 * pointing into *buf (valid until the next call; the row owns nothing, so
 * it is never given to ca_dir_row_done); *ret_end at the end. */
static int unspool_row(FILE *f, spool_buf *buf, ca_dir_row *row, size_t *ret_line, bool *ret_end)
{
	uint64_t l;
	uint32_t n;
	if (fread(&l, sizeof(l), 1, f) != 1) {
		*ret_end = true;
		return ferror(f) ? CA_EIO : 0;
	}
	*ret_end = false;
	if (fread(&n, sizeof(n), 1, f) != 1 || n > CA_DIR_ROW_MAX)
		return CA_EIO;
	size_t off[CA_DIR_ROW_MAX];
	buf->len = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t len;
		if (fread(&len, sizeof(len), 1, f) != 1)
			return CA_EIO;
		off[i] = SIZE_MAX;
		if (len == UINT32_MAX)
			continue;
		if (spool_reserve(buf, (size_t)len + 1) < 0)
			return CA_ENOMEM;
		if (len && fread(buf->data + buf->len, 1, len, f) != len)
			return CA_EIO;
		off[i] = buf->len;
		buf->data[buf->len + len] = '\0';
		buf->len += (size_t)len + 1;
	}
	row->n = n;
	for (size_t i = 0; i < n; i++)
		row->v[i] = off[i] == SIZE_MAX ? NULL : buf->data + off[i];
	*ret_line = (size_t)l;
	return 0;
}

/* Pass 1: every record valid, no id twice; the rows go to `spool`.
 * Writes nothing to the database. */
static int import_check(ca_agent *a, rec_reader *rd, const char *kind, FILE *spool, size_t *ret_n, ca_err *err)
{
	/* id -> line of its first record; ids packed in one string chunk, so a
	 * million of them take tens of megabytes, not hundreds. */
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	GStringChunk *ids = g_string_chunk_new(1 << 20);
	size_t n = 0;
	int r = 0;
	for (;;) {
		json_t *rec = NULL;
		if ((r = reader_next(rd, &rec, err)) || !rec)
			break;
		size_t line = (size_t)json_integer_value(json_object_get(rec, "_line"));
		char where[512];
		snprintf(where, sizeof(where), "%s:%zu", rd->path, line);
		json_t *clean = clean_record(rec);
		ca_dir_row row = { 0 };
		r = clean ? ca_store_directory_prepare(a->store, kind, clean, &row, err) : CA_ENOMEM;
		if (r)
			ca_err_locate(err, "%s", where);
		gpointer first = r ? NULL : g_hash_table_lookup(seen, row.v[0]);
		if (first)
			r = ca_err_set(err, CA_EINVAL, where, "%s: %s id '%s' appears twice in the file, at lines %zu and %zu; "
				       "nothing was imported", where, kind, row.v[0], GPOINTER_TO_SIZE(first), line);
		else if (!r)
			g_hash_table_insert(seen, g_string_chunk_insert(ids, row.v[0]), GSIZE_TO_POINTER(line));
		if (!r && spool_row(spool, line, &row))
			r = ca_err_set(err, CA_EIO, rd->path, "cannot write a temporary copy of %s: %s", rd->path,
				       strerror(errno));
		ca_dir_row_done(&row);
		json_decref(clean);
		json_decref(rec);
		if (r)
			break;
		n++;
	}
	g_hash_table_destroy(seen);
	g_string_chunk_free(ids);
	if (!r)
		*ret_n = n;
	return r;
}

/* Let go of the write lock for a moment (see IMPORT_PAUSE_NS). */
static void pause_lock(void)
{
	struct timespec pause = { 0, IMPORT_PAUSE_NS };
	while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
		;
}

/* Whether the batch begun at `started` has held the write lock long
 * enough: IMPORT_TX_SECONDS when another writer is waiting for it (a live
 * event), as a harvest batch does; when nobody is waiting, up to
 * IMPORT_TX_MAX_SECONDS, because every commit rewrites the pages of the
 * random-keyed indexes it touched, and a million contacts in batches of a
 * quarter second rewrite them hundreds of times (most of the import's
 * time). A writer that begins to wait in a long batch is seen within
 * IMPORT_CLOCK_EVERY records, so it waits no longer than it would for a
 * short one. */
static bool batch_done(ca_store *s, double started)
{
	double held = now_s() - started;
	return held >= IMPORT_TX_MAX_SECONDS || (held >= IMPORT_TX_SECONDS && ca_store_contended(s));
}

/* Pass 2: write the spooled rows, one batch per transaction (batch_done). */
static int import_write(ca_agent *a, FILE *spool, const char *path, const char *kind, size_t *ret_done,
			size_t *ret_batches, ca_err *err)
{
	size_t done = 0, batches = 0;
	spool_buf buf = { 0 };
	ca_dir_row row = { .kind = kind };
	size_t line = 0;
	bool end = false;
	int r = 0;
	while (!r && !end) {
		if ((r = ca_store_begin(a->store, err)))
			break;
		double started = now_s();
		size_t in_batch = 0;
		for (;;) {
			if ((r = unspool_row(spool, &buf, &row, &line, &end))) {
				r = ca_err_set(err, r, path, "cannot read the temporary copy of %s back", path);
				break;
			}
			if (end)
				break;
			if ((r = ca_store_directory_put_row(a->store, &row, err))) {
				ca_err_locate(err, "%s:%zu", path, line);
				break;
			}
			if (++in_batch % IMPORT_CLOCK_EVERY == 0 && batch_done(a->store, started))
				break;
		}
		if (!r && (r = ca_store_commit(a->store, err)) == 0) {
			done += in_batch;
			if (in_batch)
				batches++;
			if (!end)
				pause_lock();
		}
	}
	if (r && ca_store_in_transaction(a->store))
		ca_store_rollback(a->store);
	free(buf.data);
	*ret_done = done;
	*ret_batches = batches;
	return r;
}

static int import_directory(ca_agent *a, const char *kind, const char *plural, const char *path, char **ret_json,
			    ca_err *err)
{
	bool from_stdin = strcmp(path, "-") == 0;
	FILE *f = from_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return ca_err_set(err, CA_EIO, path, "cannot open %s: %s", path, strerror(errno));
	FILE *spool = tmpfile();
	rec_reader rd;
	size_t n = 0, done = 0, batches = 0;
	int r = spool ? 0 : ca_err_set(err, CA_EIO, path, "cannot make a temporary file for %s: %s", path, strerror(errno));
	if (!r)
		r = reader_open(&rd, f, path, err);
	if (!r) {
		r = import_check(a, &rd, kind, spool, &n, err);
		reader_close(&rd);
	}
	if (!r && (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0))
		r = ca_err_set(err, CA_EIO, path, "cannot read the temporary copy of %s back: %s", path, strerror(errno));
	if (!r) {
		r = ca_store_bulk(a->store, true, err);
		if (!r)
			r = import_write(a, spool, path, kind, &done, &batches, err);
		/* Back to the usual cache; a failure here loses nothing. */
		(void)ca_store_bulk(a->store, false, NULL);
		if (r && done && err) {
			ca_err e = *err;
			ca_err_set(err, r, e.where, "%s; %zu of the file's %zu records had been written, each whole, before "
				   "it: importing the file again completes it (records are upserted by id)",
				   e.message, done, n);
		}
	}
	if (spool)
		fclose(spool);
	if (f != stdin)
		fclose(f);
	if (done)
		ca_agent_invalidate(a); /* the directory changed: rebuild the gazetteers */
	if (r)
		return r;
	return ca_result(json_pack("{s:s, s:I, s:s, s:I}", "kind", plural, "imported", (json_int_t)n, "file", path,
				   "batches", (json_int_t)batches),
			 ret_json);
}

int ca_import_file(ca_agent *a, const char *kind, const char *path, char **ret_json, ca_err *err)
{
	const char *one = kind_singular(kind);
	if (!one)
		return ca_err_set(err, CA_EINVAL, kind, "cannot import '%s': use contacts, accounts, products, subjects or cases", kind);
	if (strcmp(one, "case") != 0)
		return import_directory(a, one, kind, path, ret_json, err);
	/* Cases: the whole file in one transaction, all or nothing. */
	int r = ca_agent_ready(a, err);
	if (r)
		return r;
	json_t *recs = NULL;
	if ((r = load_records(path, &recs, err)))
		return r;
	if ((r = ca_store_begin(a->store, err))) {
		json_decref(recs);
		return r;
	}
	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) {
		char where[512];
		snprintf(where, sizeof(where), "%s:%lld", path, (long long)json_integer_value(json_object_get(rec, "_line")));
		if ((r = import_case(a, rec, where, err)))
			break;
	}
	if (!r)
		r = ca_store_commit(a->store, err);
	if (r) {
		ca_store_rollback(a->store);
		json_decref(recs);
		return r;
	}
	size_t n = json_array_size(recs);
	json_decref(recs);
	ca_agent_invalidate(a); /* the directory changed: rebuild the linkers */
	return ca_result(json_pack("{s:s, s:I, s:s}", "kind", kind, "imported", (json_int_t)n, "file", path), ret_json);
}

/* ---- settings ---- */

/* Validate a settings document and store it; the agent takes the new
 * snapshot and the generation it was stored at. */
static int settings_store(ca_agent *a, json_t *j, ca_err *err)
{
	ca_settings *s = NULL;
	int r = ca_settings_parse(j, &s, err);
	if (r)
		return r;
	char *text = json_dumps(s->json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int64_t gen = 0;
	r = text ? ca_store_settings_put(a->store, text, err) : CA_ENOMEM;
	free(text);
	if (!r)
		r = ca_store_settings_generation(a->store, &gen, err);
	if (r) {
		ca_settings_free(s);
		return r;
	}
	ca_settings_free(a->settings);
	a->settings = s;
	a->settings_gen = gen;
	ca_agent_invalidate(a);
	return 0;
}

int ca_settings_import_file(ca_agent *a, const char *path, ca_err *err)
{
	json_t *j = NULL;
	int r = ca_json_load_file(path, &j, err);
	if (r)
		return r;
	r = settings_store(a, j, err);
	json_decref(j);
	return r;
}

int ca_settings_import_text(ca_agent *a, const char *json, size_t len, ca_err *err)
{
	if (!json)
		return ca_err_set(err, CA_EINVAL, "settings", "settings: no document given");
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ca_err_set(err, CA_EPARSE, "settings", "settings are not JSON: line %d column %d: %s", je.line,
				  je.column, je.text);
	int r = settings_store(a, j, err);
	json_decref(j);
	return r;
}

int ca_settings_export(ca_agent *a, char **ret_json, ca_err *err)
{
	return ca_store_settings_get(a->store, ret_json, err);
}

/* ---- transcripts ---- */

static const char *const transcript_keys[] = {
	"conversation_id", "channel", "messages", "labels", "labels_found_in_text", "events", "identity", "_line",
	"emails", "mailbox",
};

static int check_transcript(const json_t *t, const char *where, json_t *seen_ids, ca_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)t, k, v) {
		bool ok = false;
		for (size_t i = 0; i < CA_ARRAY_SIZE(transcript_keys) && !ok; i++)
			ok = !strcmp(k, transcript_keys[i]);
		if (!ok)
			return ca_err_set(err, CA_EINVAL, where, "%s: unknown key '%s'", where, k);
	}
	const char *conv = ca_json_str(t, "conversation_id");
	if (ca_str_empty(conv))
		return ca_err_set(err, CA_EINVAL, where, "%s: \"conversation_id\" is required", where);
	if (json_object_get(seen_ids, conv))
		return ca_err_set(err, CA_EINVAL, where, "%s: conversation %s appears twice in the file", where, conv);
	json_object_set_new(seen_ids, conv, json_true());
	const json_t *emails = json_object_get(t, "emails");
	if (emails) {
		/* A labelled e-mail thread: {"raw": "RFC 5322 text"} or {"path":
		 * "file.eml", relative to the transcript file}, oldest first. */
		if (!ca_streq(ca_json_str(t, "channel"), "email") || !json_is_array(emails) || json_array_size(emails) == 0)
			return ca_err_set(err, CA_EINVAL, where,
					  "%s: conversation %s: \"emails\" needs \"channel\": \"email\" and a non-empty array", where, conv);
		size_t i;
		json_t *m;
		json_array_foreach(emails, i, m) {
			if (!json_is_string(json_object_get(m, "raw")) && !json_is_string(json_object_get(m, "path")))
				return ca_err_set(err, CA_EINVAL, where, "%s: conversation %s: emails[%zu] needs \"raw\" or \"path\"",
						  where, conv, i);
		}
		if (json_object_get(t, "messages"))
			return ca_err_set(err, CA_EINVAL, where, "%s: conversation %s: give \"emails\" or \"messages\", not both",
					  where, conv);
		return 0;
	}
	const json_t *msgs = json_object_get(t, "messages");
	if (!json_is_array(msgs))
		return ca_err_set(err, CA_EINVAL, where, "%s: conversation %s: \"messages\" must be an array", where, conv);
	json_t *mids = json_object();
	size_t i;
	json_t *m;
	int r = mids ? 0 : CA_ENOMEM;
	json_array_foreach(msgs, i, m) {
		if (r)
			break;
		const char *mid = ca_json_str(m, "id");
		json_t *text = json_object_get(m, "text");
		if (ca_str_empty(mid))
			r = ca_err_set(err, CA_EINVAL, where, "%s: conversation %s: message %zu has no \"id\"", where, conv, i + 1);
		else if (json_object_get(mids, mid))
			r = ca_err_set(err, CA_EINVAL, where, "%s: conversation %s: message id %s repeats", where, conv, mid);
		else if (!ca_role_parse(ca_json_str(m, "role")))
			r = ca_err_set(err, CA_EINVAL, where, "%s: message %s: role must be customer, agent, system or bot", where, mid);
		else if (!json_is_string(text))
			r = ca_err_set(err, CA_EINVAL, where, "%s: message %s: \"text\" must be a string", where, mid);
		else if (json_string_length(text) > CA_MAX_MESSAGE_BYTES)
			r = ca_err_set(err, CA_ETOOBIG, where, "%s: message %s is %zu bytes; the limit for a chat message is %u bytes",
				       where, mid, json_string_length(text), CA_MAX_MESSAGE_BYTES);
		else if (memchr(json_string_value(text), 0, json_string_length(text)))
			r = ca_err_set(err, CA_EUTF8, where, "%s: message %s: text contains a NUL character", where, mid);
		else
			json_object_set_new(mids, mid, json_true());
	}
	json_decref(mids);
	const json_t *evs = json_object_get(t, "events");
	if (!r && evs && !json_is_array(evs))
		r = ca_err_set(err, CA_EINVAL, where, "%s: \"events\" must be an array", where);
	return r;
}

int ca_transcripts_load(const char *path, json_t **ret, ca_err *err)
{
	json_t *arr = NULL;
	int r = load_jsonl(path, &arr, err);
	if (r)
		return r;
	json_t *seen = json_object();
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		char where[512];
		snprintf(where, sizeof(where), "%s:%lld", path, (long long)json_integer_value(json_object_get(t, "_line")));
		if ((r = check_transcript(t, where, seen, err)) || (r = ca_transcript_check_events(t, where, err)))
			break;
	}
	json_decref(seen);
	if (r) {
		json_decref(arr);
		return r;
	}
	*ret = arr;
	return 0;
}
