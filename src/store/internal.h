/* SPDX-License-Identifier: MIT */
/*
 * Private to the store: what its files share and nothing outside src/store/
 * sees. The repository object, the small helpers and driver calls of
 * store.c that the aggregate files (directory.c, case.c, conversation.c,
 * email.c, knowledge.c, job.c) use, and what migrate.c needs of directory.c,
 * namely computing the directory's lookup keys for records stored before
 * the keys existed.
 */
#ifndef CA_STORE_INTERNAL_H
#define CA_STORE_INTERNAL_H

#include "store.h"
#include "text.h" /* ca_stemmer */

struct ca_store {
	const ca_sql_driver *drv;
	void *conn;
	ca_stemmer *st; /* for directory name keys; made on first use */
	int schema_version;
	int tx_depth; /* the caller's open ca_store_begin calls: 1 a transaction, more savepoints in it */
	int ended;    /* tx_depth + 1 when a failed commit has just ended that level: the caller's
		       * rollback that follows is for it, and must not reach the enclosing one */
	int op_depth; /* nesting of the repository's own atomic sections */
	uint64_t tx_serial;         /* outermost transactions begun so far */
	uint64_t unit_serial;       /* units of work begun so far: each outermost transaction is
				     * one, or several when ended by ca_store_unit_end */
	uint64_t dir_bumped_serial; /* the unit whose directory write bumped the generation */
	uint64_t dir_bumps;         /* generation bumps this connection made, committed or not */
	uint64_t gen_serial;        /* the transaction the generation below was read in (0: none) */
	int64_t gen;
	/* The event outbox (event.c): what the open transaction's writes
	 * announce, in order, written at its outermost commit. */
	struct ev_pending *ev;
	size_t ev_n, ev_cap;
	size_t *ev_marks;     /* ev_n when each open transaction level began */
	size_t ev_marks_cap;
	size_t ev_op_mark;    /* ev_n when the outermost atomic section began */
	/* Cases whose title, description or ticket changed in the open
	 * transaction: their search rows are written once, at its commit
	 * (fts_flush), not by triggers at every write (case.c). */
	int64_t *fts_dirty;
	size_t fts_n, fts_cap;
};
typedef struct ev_pending ev_pending;

/*
 * The helpers keep their short names in the code, but link under a ca_st_
 * prefix: they are no longer static, and a global named dump or one_of could
 * otherwise collide with, or interpose on, a symbol of another module or of
 * a shared library.
 */
#define utf8_valid ca_st_utf8_valid
#define check_str ca_st_check_str
#define one_of ca_st_one_of
#define now_iso ca_st_now_iso
#define enomem ca_st_enomem
#define dump ca_st_dump
#define db_exec ca_st_db_exec
#define db_query ca_st_db_query
#define db_rows ca_st_db_rows
#define first_row_done ca_st_first_row_done
#define db_first ca_st_db_first
#define db_i64 ca_st_db_i64
#define db_str ca_st_db_str
#define op_begin ca_st_op_begin
#define op_end ca_st_op_end
#define next_id ca_st_next_id
#define next_ids ca_st_next_ids
#define parse_col ca_st_parse_col
#define parse_col_all ca_st_parse_col_all
#define case_exists ca_st_case_exists
#define case_of ca_st_case_of
#define take_id ca_st_take_id
#define ev_case_created ca_st_ev_case_created
#define ev_case_field ca_st_ev_case_field
#define ev_harvest ca_st_ev_harvest
#define ev_plain ca_st_ev_plain
#define ev_reserve_level ca_st_ev_reserve_level
#define ev_truncate ca_st_ev_truncate
#define ev_flush ca_st_ev_flush
#define ev_free ca_st_ev_free
#define fts_query ca_st_fts_query
#define fts_note_case ca_st_fts_note_case
#define fts_flush ca_st_fts_flush
#define has_fts ca_st_has_fts
#define fts_ready ca_st_fts_ready

/* ---- small helpers (store.c) ---- */

/* RFC 3629 well-formedness. */
bool utf8_valid(const char *s, size_t n);
/* A text input: present and non-empty when required, valid UTF-8 always. */
int check_str(const char *v, bool required, const char *what, const char *key, ca_err *err);
bool one_of(const char *v, const char *const *list, size_t n);
void now_iso(char out[static 21]);
int enomem(ca_err *err, const char *what);
/* Compact JSON text of any value; caller frees. NULL only on ENOMEM. */
char *dump(const json_t *j);

/* ---- driver calls (store.c) ---- */

/* Driver calls; a failure names `what` and the driver's reason. */
int db_exec(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	    ca_err *err);
int db_query(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	     ca_sql_row_fn fn, void *ud, ca_err *err);
/* All rows as an array of objects keyed by column name (new reference). */
int db_rows(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	    json_t **ret, ca_err *err);

/* The first row's first columns as heap strings; NULL for SQL NULL. */
#define FIRST_MAX 2
typedef struct first_row {
	bool found;
	int rc;
	char *v[FIRST_MAX];
} first_row;

void first_row_done(first_row *f);

int db_first(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	     first_row *f, ca_err *err);
/* First column of the first row as an integer; *found false when no row. */
int db_i64(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	   int64_t *ret, bool *found, ca_err *err);
/* First column of the first row as a heap string (NULL for SQL NULL). */
int db_str(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n,
	   char **ret, bool *found, ca_err *err);

typedef struct ids_ctx {
	int64_t *v;
	size_t n, cap;
	int rc;
} ids_ctx;

/* The case id a query's first row names; *found false when none. */
int case_of(ca_store *s, const char *what, const char *sql, const ca_sql_param *p, size_t n, bool *found,
	    int64_t *ret_case, ca_err *err);
/* Row callback: appends the first column, an integer, to an ids_ctx. */
int take_id(const ca_sql_row *row, void *ud);

/* ---- atomic sections (store.c) ---- */

/* An atomic section: a savepoint in the caller's transaction, else a
 * transaction of its own (store.c). */
int op_begin(ca_store *s, const char *what, ca_err *err);
int op_end(ca_store *s, int r, const char *what, ca_err *err);
/* Next id of a numbered record; call inside an atomic section. */
int next_id(ca_store *s, const char *what, const char *counter, int64_t *ret, ca_err *err);
/* The next n ids (n >= 1) of a numbered record at once: *ret_first, ...,
 * *ret_first + n - 1; call inside an atomic section. */
int next_ids(ca_store *s, const char *what, const char *counter, int64_t n, int64_t *ret_first, ca_err *err);
/* Parse a column that holds JSON text back into JSON, in place. */
int parse_col(json_t *obj, const char *key, const char *what, ca_err *err);
int parse_col_all(json_t *arr, const char *key, const char *what, ca_err *err);
int case_exists(ca_store *s, const char *what, int64_t id, ca_err *err);

/* ---- the event outbox (event.c) ---- */

/* What a write call announces, noted inside its atomic section (so the
 * section's or the transaction's rollback drops it again); written at the
 * outermost commit. A case's notes of one transaction become one event:
 * case.created (the fields written with it) when it was created in it,
 * else case.updated; a job's become one harvest.progress (read from the
 * job then). `source` is a static string; the rest is copied. */
int ev_case_created(ca_store *s, int64_t case_id, const char *origin, ca_err *err);
int ev_case_field(ca_store *s, int64_t case_id, const char *field, const char *source, ca_err *err);
int ev_harvest(ca_store *s, int64_t job_id, ca_err *err);
/* Any other event: type and right static strings, case_id 0 for none,
 * recipient NULL for everyone with the right; data (stolen) is the event's
 * data object, NULL only when building it failed (then CA_ENOMEM). A
 * "case" key in it is filled with the ticket when the event is read. */
int ev_plain(ca_store *s, const char *type, int64_t case_id, const char *recipient, const char *right, json_t *data,
	     ca_err *err);
/* Transaction bookkeeping (store.c): room for one more level's mark before
 * it begins; drop the notes after the first n; write them all (before the
 * outermost COMMIT); free at close. */
int ev_reserve_level(ca_store *s, ca_err *err);
void ev_truncate(ca_store *s, size_t n);
int ev_flush(ca_store *s, ca_err *err);
void ev_free(ca_store *s);
/* ---- full-text search (knowledge.c) ---- */

/* An FTS5 query of quoted words joined by `joiner` (" OR ": any word; " ":
 * every word), at most 64 read, so no word is read as an operator ("NOT",
 * "NEAR", a column filter). */
int fts_query(const char *const *words, size_t n, const char *joiner, ca_buf *q);
/* Full-text search (migrations 7 and 14) is the sqlite driver's so far;
 * fts_ready: CA_EUNSUPPORTED naming `what` elsewhere. */
bool has_fts(const ca_store *s);
/* The case search index (migrations 14, 16): note a case whose title,
 * description or ticket number was written; fts_flush writes the noted
 * cases' rows from the case table as it is then (before the outermost
 * COMMIT), once each; the list is emptied at the end of the outermost
 * transaction either way. A virtual table written early in a transaction
 * takes part in every savepoint after, which cost a third of e-mail
 * ingest when triggers wrote it at each field. */
int fts_note_case(ca_store *s, int64_t case_id, ca_err *err);
int fts_flush(ca_store *s, ca_err *err);
int fts_ready(ca_store *s, const char *what, ca_err *err);

/* ---- directory (directory.c) ---- */

/* Migration 11's C step: write the lookup keys (model.h, ca_dir_key) of
 * every contact and account already stored, in batches by id, inside the
 * migration's transaction. */
int ca_store_fill_dir_keys(const ca_sql_driver *drv, void *conn, ca_err *err);

#endif
