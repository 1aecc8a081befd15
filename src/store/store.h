/* SPDX-License-Identifier: MIT */
/*
 * Layer 2 persistence. Two levels:
 *
 *  1. A SQL driver (struct ca_sql_driver, a vtable with a version field, in the
 *     manner of Dovecot's lib-sql drivers): open, exec, query with a row
 *     callback, transactions. Backends sit side by side: sqlite.c (default,
 *     WAL) now, postgres.c later. SQL given to a driver is portable: `?`
 *     placeholders (a driver rewrites them to its own), no backend-only syntax.
 *
 *  2. The repository (store.c, with one file per aggregate beside it:
 *     directory.c, case.c, conversation.c, email.c, knowledge.c, job.c):
 *     every table of ARCHITECTURE §3 behind typed calls, written once over
 *     the driver, so every backend passes the same contract tests. Records
 *     cross this API as jansson objects whose keys are the column names given
 *     below.
 *
 * Transactions: the caller brackets one event with ca_store_begin/commit (or
 * rollback); the repository never commits on its own. Calls outside a
 * transaction run in autocommit. Errors: CA_EDB with the driver's message,
 * CA_ENOTFOUND, CA_ECONFLICT (row version), CA_EINVAL (bad record: the message
 * names the record id and key). Thread-safety: one ca_store per thread.
 */
#ifndef CA_STORE_H
#define CA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base.h"

/* ---- level 1: drivers ---- */

/* Types are only appended. CA_SQL_BLOB carries bytes that may hold NUL or
 * invalid UTF-8 (a raw e-mail as received). */
typedef enum ca_sql_type { CA_SQL_NULL = 0, CA_SQL_INT, CA_SQL_REAL, CA_SQL_TEXT, CA_SQL_BLOB } ca_sql_type;

typedef struct ca_sql_param {
	ca_sql_type type;
	int64_t i;
	double r;
	const char *s; /* borrowed for the call */
	size_t len;    /* bytes of s, for CA_SQL_BLOB */
} ca_sql_param;

/* Constructors for parameter arrays. A NULL string gives CA_SQL_NULL. */
ca_sql_param ca_sql_int(int64_t v);
ca_sql_param ca_sql_real(double v);
ca_sql_param ca_sql_text(const char *s);
ca_sql_param ca_sql_null(void);
ca_sql_param ca_sql_blob(const void *p, size_t len);

/* One result row: n columns; text of column i (NULL for SQL NULL), borrowed
 * until the callback returns. Return nonzero from the callback to stop. */
typedef struct ca_sql_row {
	size_t n;
	const char *const *names;
	const char *const *text;
	const ca_sql_type *types;
	const size_t *lens; /* bytes of text[i] (a BLOB may hold NUL) */
} ca_sql_row;
typedef int (*ca_sql_row_fn)(const ca_sql_row *row, void *ud);

#define CA_SQL_DRIVER_VERSION 1
typedef struct ca_sql_driver {
	unsigned version; /* CA_SQL_DRIVER_VERSION */
	const char *name; /* "sqlite", "postgres" */
	int (*open)(const char *dsn, void **ret_conn, ca_err *err);
	void (*close)(void *conn);
	int (*exec)(void *conn, const char *sql, const ca_sql_param *p, size_t n, ca_err *err);
	int (*query)(void *conn, const char *sql, const ca_sql_param *p, size_t n,
		     ca_sql_row_fn fn, void *ud, ca_err *err);
	/* Rows changed by the last exec. */
	int64_t (*changes)(void *conn);
	/* Run a script of several statements (migrations); no parameters. */
	int (*exec_script)(void *conn, const char *sql, ca_err *err);
	/* Work the connection has done so far, in the backend's own unit
	 * (SQLite: virtual-machine steps of every statement run), so a test
	 * can check that a call's cost does not grow with a table. May be NULL. */
	uint64_t (*work)(void *conn);
	/* Tune the connection for (on) or back from (off) a long series of
	 * write batches, such as a million-record import. May be NULL. */
	int (*bulk)(void *conn, bool on, ca_err *err);
	/* Whether another connection is waiting for the write lock this one
	 * holds, right now, as far as the backend can tell (false when it
	 * cannot). May be NULL. */
	bool (*contended)(void *conn);
	/* The write-ahead log: CA_CKPT_NOW copies what is committed into the
	 * database without waiting for readers or writers (SQLite PASSIVE);
	 * CA_CKPT_DEFER / CA_CKPT_AUTO: this connection's commits stop / go
	 * back to checkpointing as they go. May be NULL. */
	int (*checkpoint)(void *conn, int how, ca_err *err);
	/* Keep the connection's temporary files (savepoint journals above all)
	 * in memory (on) or back as the backend keeps them (off); outside a
	 * transaction only. May be NULL. */
	int (*temp_in_memory)(void *conn, bool on, ca_err *err);
} ca_sql_driver;

enum { CA_CKPT_NOW, CA_CKPT_DEFER, CA_CKPT_AUTO };

extern const ca_sql_driver ca_sqlite_driver;

/* Apply pending migrations (src/store/migrate.c) on an open connection; sets
 * *ret_version to the schema version after. CA_ESTATE when the database is
 * newer than this build. Used by ca_store_open_with. */
int ca_store_migrate(const ca_sql_driver *drv, void *conn, int *ret_version, ca_err *err);

/* ---- level 2: the repository ---- */

typedef struct ca_store ca_store;

/*
 * Open (creating if needed) the database at `path` with the SQLite driver, in
 * WAL mode with foreign keys on and a 5 s busy timeout, and apply pending
 * migrations (each in its own transaction; schema_version table). Caller frees
 * with ca_store_close (NULL-safe).
 */
int ca_store_open(const char *path, ca_store **ret, ca_err *err);
/* The same over any driver (dsn is the driver's: a path for sqlite), so the
 * contract tests run every backend through one entry point. */
int ca_store_open_with(const ca_sql_driver *drv, const char *dsn, ca_store **ret, ca_err *err);
void ca_store_close(ca_store *s);
/* Schema version after migrations. */
int ca_store_schema_version(ca_store *s);
/* The driver's count of work done on this connection (ca_sql_driver.work;
 * 0 when the driver keeps none). Deterministic for the same statements on
 * the same data, unlike time. */
uint64_t ca_store_work(ca_store *s);
/* Bulk mode for a long import (ca_sql_driver.bulk; a no-op when the driver
 * has none): more memory for fewer writes. Turn it off after. */
int ca_store_bulk(ca_store *s, bool on, ca_err *err);
/* Records each in its own savepoint, many to a transaction (an e-mail
 * batch): the savepoint journals, which hold the pages a record changes
 * until it is released, kept in memory rather than in temporary files
 * (ca_sql_driver.temp_in_memory; a no-op when the driver has none). Call
 * outside a transaction; turn it off after. */
int ca_store_temp_in_memory(ca_store *s, bool on, ca_err *err);
/* ca_sql_driver.checkpoint (a no-op when the driver has none). */
int ca_store_checkpoint(ca_store *s, int how, ca_err *err);
/* Whether another writer is waiting for the write lock right now
 * (ca_sql_driver.contended; false when the driver cannot tell), so a long
 * series of write batches can end the current one for it. */
bool ca_store_contended(ca_store *s);

/*
 * Transactions nest. The outermost begin/commit is a transaction; an inner
 * pair is a savepoint in it (SQL:2003 SAVEPOINT, as SQLite and PostgreSQL
 * have it): its commit folds its writes into the enclosing transaction,
 * durable only when the outermost one commits, and its rollback undoes its
 * own writes alone. A harvest commits a batch of records at once this way,
 * each record still all-or-nothing. A failed commit ends its level (its
 * writes undone); a rollback right after it, as callers write on any
 * failure, is a no-op and leaves the enclosing level alone.
 */
int ca_store_begin(ca_store *s, ca_err *err);
/*
 * A read snapshot: like ca_store_begin, but taking no write lock (SQL
 * `BEGIN READ ONLY`; SQLite's driver runs it as a deferred transaction), so
 * a run of lookups (one simulated conversation: the directory is asked key
 * by key) takes the database's shared lock once instead of once a query.
 * Ended with ca_store_commit or ca_store_rollback; nothing may be written
 * in it. Nested inside a transaction it is a savepoint.
 */
int ca_store_begin_read(ca_store *s, ca_err *err);
int ca_store_commit(ca_store *s, ca_err *err);
void ca_store_rollback(ca_store *s); /* the innermost level; never fails visibly; NULL-safe */
bool ca_store_in_transaction(const ca_store *s);
/*
 * Ends a unit of work in the open transaction (a no-op outside one;
 * NULL-safe). What a unit wrote is announced as its own transaction would
 * have announced it: its events are written at the commit as that
 * transaction would have written them (one case.updated per case per unit,
 * the next unit's writes never merged into them), and the directory's
 * generation moves once per unit that writes the directory. An e-mail
 * batch ends one after each message, so batching changes no event and no
 * generation.
 */
void ca_store_unit_end(ca_store *s);

/* Settings: one JSON document (text). get: CA_ENOTFOUND before any import;
 * *ret is a heap string the caller frees. */
int ca_store_settings_get(ca_store *s, char **ret, ca_err *err);
int ca_store_settings_put(ca_store *s, const char *json_text, ca_err *err);
/* The settings' generation: 0 before any import, one more with every put
 * (migration 14), so an agent can tell with one primary-key read whether
 * another connection stored new settings since it loaded them. */
int ca_store_settings_generation(ca_store *s, int64_t *ret, ca_err *err);

/*
 * Directory records, upserted by "id" (a string chosen by the importer).
 *   contact: id, full_name, email, phone, username, account_number, account_id
 *   account: id, name, account_number, email, phone
 *   product: id, name, aliases (JSON array of strings), product_number
 *   subject: id, name, parent_id
 * Missing keys are NULL. Unknown keys: CA_EINVAL naming the key. "id" and the
 * name (full_name/name) are required. kind is "contact" | "account" |
 * "product" | "subject".
 */
int ca_store_directory_put(ca_store *s, const char *kind, const json_t *rec, ca_err *err);
/*
 * ca_store_directory_put in two steps, so an importer can check a whole
 * file before its first write and hold the write lock for the writes
 * alone: prepare validates the record (the same errors as put) and turns
 * it into the values of its columns and lookup keys, writing nothing;
 * put_row writes such a row. A row owns its strings (v[i] NULL is SQL
 * NULL; v[0] is the id; n at most CA_DIR_ROW_MAX); free with
 * ca_dir_row_done. `kind` points at a static name.
 */
#define CA_DIR_ROW_MAX 12
typedef struct ca_dir_row {
	const char *kind;
	size_t n;
	char *v[CA_DIR_ROW_MAX];
} ca_dir_row;
int ca_store_directory_prepare(ca_store *s, const char *kind, const json_t *rec, ca_dir_row *ret, ca_err *err);
int ca_store_directory_put_row(ca_store *s, const ca_dir_row *row, ca_err *err);
void ca_dir_row_done(ca_dir_row *row);
/* One record by id (new reference in *ret), CA_ENOTFOUND if absent. */
int ca_store_directory_get(ca_store *s, const char *kind, const char *id, json_t **ret, ca_err *err);
/* The id of the contact with this e-mail address, by its directory key
 * (CA_DIRKEY_EMAIL: compared as mail compares addresses, through an index);
 * *found false when there is none or `email` is not an address. Caller
 * frees *ret_id. */
int ca_store_contact_by_email(ca_store *s, const char *email, bool *found, char **ret_id, ca_err *err);
/* All records of a kind as a JSON array (new reference), ordered by id.
 * Reads the whole table: for products and subjects (small); contacts and
 * accounts are looked up with ca_store_directory_find instead. */
int ca_store_directory_list(ca_store *s, const char *kind, json_t **ret, ca_err *err);

/*
 * Lookup through the directory's key indexes (model.h, ca_dir_key; the
 * store writes each contact's and account's keys with the record). For each
 * key type in the bit set `types` the kind has, every record whose key of
 * that type equals `key`, in id order, at most `limit` per type: fn(id,
 * name, type, ud) per record (strings borrowed for the call; a nonzero
 * return stops with that value). kind: "contact" | "account" (CA_EINVAL
 * otherwise). One indexed query per type; cost does not grow with the table.
 */
typedef int (*ca_store_dir_hit_fn)(const char *id, const char *name, unsigned type, void *ud);
/* The directory's generation: *ret moves with every transaction (or
 * autocommitted statement) that writes a contact or an account, in any
 * process, and rolls back with it (0 before the first write); *ret_own
 * counts this connection's own such writes, rolled back or not, so a
 * number reused after a rollback is still told apart. Whoever caches
 * lookups keeps them while both stay the same. One primary-key read. */
int ca_store_directory_generation(ca_store *s, int64_t *ret, uint64_t *ret_own, ca_err *err);
int ca_store_directory_find(ca_store *s, const char *kind, unsigned types, const char *key, size_t limit,
			    ca_store_dir_hit_fn fn, void *ud, ca_err *err);
/* How many records of `kind` there are, counting no further than
 * `at_most` (*ret = at_most + 1 when there are more): a bounded probe, so
 * asking whether a directory is small costs the same for a huge one. */
int ca_store_directory_count(ca_store *s, const char *kind, size_t at_most, size_t *ret, ca_err *err);
/* Whether some record's name key is `stems` or starts with `stems` and a
 * space (a name that begins with these words): one indexed range probe. */
int ca_store_directory_name_prefix(ca_store *s, const char *kind, const char *stems, bool *ret, ca_err *err);

/*
 * Cases. A case as JSON:
 *   {"id": 12, "ticket_number": "CAS-00012", "version": 3,
 *    "conversation_id": "c1" | null, "origin": "chat", "created_at": "ISO",
 *    "updated_at": "ISO", "fields": {"title": "...", "customer": "C-1", ...}}
 * "fields" holds every non-NULL field: standard columns (model.h list) and
 * custom fields alike, all as strings.
 *
 * create: inserts an empty case (status "active", version 1) and returns its
 * id and ticket number "CAS-%05d" of the id. Fields are then written with
 * ca_store_case_write.
 */
int ca_store_case_create(ca_store *s, const char *origin, const char *conversation_id,
			 int64_t *ret_id, char **ret_ticket, ca_err *err);
/* By numeric id or ticket number ("CAS-00012" or "12"). New reference.
 * ca_store_case_id: only the numeric id, for callers that need no more
 * (one indexed read; CA_ENOTFOUND naming the reference). */
int ca_store_case_id(ca_store *s, const char *id_or_ticket, int64_t *ret_id, ca_err *err);
int ca_store_case_get(ca_store *s, const char *id_or_ticket, json_t **ret, ca_err *err);
/* The ticket number of case `id` ("CAS-00012"): one primary-key read, for
 * a caller that needs no more of the case. *ret: heap string the caller
 * frees. CA_ENOTFOUND when there is no such case. */
int ca_store_case_ticket(ca_store *s, int64_t id, char **ret, ca_err *err);
int ca_store_case_get_id(ca_store *s, int64_t id, json_t **ret, ca_err *err);
/* All cases, newest first, at most `limit` (0 = all); array of case JSON. */
int ca_store_case_list(ca_store *s, size_t limit, json_t **ret, ca_err *err);

/*
 * One field write with its provenance and audit row. The caller (the update
 * policy in casemgmt) decides whether to write; this only records it.
 *   prov: {"source": "agent"|"person"|"arc"|"import"|"system",
 *          "actor": "caseagent"|user name, "confidence": 0.87 (agent only),
 *          "method": "...", "evidence": [{"message","begin","end"}]}
 * `value` NULL clears the field. Writes: the column or custom-field row, the
 * field_provenance row (replacing the previous one), an audit row with old
 * value, new value, source, actor, confidence, method, evidence, time.
 */
int ca_store_case_write(ca_store *s, int64_t case_id, const char *field, const char *value,
			const json_t *prov, ca_err *err);
/*
 * Row version check-and-bump: succeeds (and sets *ret_version to the new
 * version) only if the case is still at `expected`; CA_ECONFLICT otherwise.
 * Every writer calls it once per batch of writes, in the same transaction.
 */
int ca_store_case_bump_version(ca_store *s, int64_t case_id, int64_t expected,
			       int64_t *ret_version, ca_err *err);
/* Provenance of every field of a case: {"field": prov, ...} (new reference). */
int ca_store_case_provenance(ca_store *s, int64_t case_id, json_t **ret, ca_err *err);
/* Only who set each field, {"field": "agent"|"person"|"arc"|...} (new
 * reference): what the update policy needs, without parsing the evidence.
 * No existence check (the caller has read the case); none set = {}. */
int ca_store_case_sources(ca_store *s, int64_t case_id, json_t **ret, ca_err *err);
/* Audit history of a case, oldest first: array of {"id","field","old_value",
 * "new_value","source","actor","confidence","method","evidence","at"}. */
int ca_store_audit_list(ca_store *s, int64_t case_id, json_t **ret, ca_err *err);
int ca_store_case_count(ca_store *s, int64_t *ret, ca_err *err);

/*
 * Conversations:
 *   {"id","channel","state","case_id" (int or null),"case_link" ("agent" |
 *    "person" | null),"contact_id","opened_at","closed_at","message_count",
 *    "accepted_by" (user name or null)}
 * states: open, active, waiting, wrapup, closed.
 */
int ca_store_conversation_create(ca_store *s, const char *id, const char *channel, ca_err *err);
int ca_store_conversation_get(ca_store *s, const char *id, json_t **ret, ca_err *err);
int ca_store_conversation_set_state(ca_store *s, const char *id, const char *state, ca_err *err);
/* The contact the conversation is known to be with (authenticated chat);
 * NULL clears. The store does not check the contact exists (directories may
 * be imported in any order); CA_ENOTFOUND for an unknown conversation. */
int ca_store_conversation_set_contact(ca_store *s, const char *id, const char *contact_id, ca_err *err);
/* Who accepted the conversation (the accept event's "actor"; migration 13,
 * shown as "accepted_by" by get); NULL clears. CA_ENOTFOUND. */
int ca_store_conversation_set_accepted_by(ca_store *s, const char *id, const char *actor, ca_err *err);
/* Link a case; link is "agent" or "person". */
int ca_store_conversation_set_case(ca_store *s, const char *id, int64_t case_id, const char *link, ca_err *err);

/* Messages of a conversation, in arrival order (seq 1, 2, ...).
 * add: CA_EEXIST if the message id exists already. */
int ca_store_message_add(ca_store *s, const char *conversation_id, const char *msg_id,
			 const char *role, const char *text, ca_err *err);
/* Array of {"id","role","text","seq","at"} (new reference), in seq order. */
int ca_store_message_list(ca_store *s, const char *conversation_id, json_t **ret, ca_err *err);
/* The same for the messages after seq after_seq only: what came since a
 * list the caller keeps (messages are never changed or removed). */
int ca_store_message_list_after(ca_store *s, const char *conversation_id, int64_t after_seq, json_t **ret,
				ca_err *err);

/* Chat event idempotency. Event ids are scoped to their conversation (a
 * chat platform numbers events per conversation): the pair (conversation_id,
 * event_id) names one event. `content` is the event's canonical JSON text, so
 * the caller can tell a replay of the same event from an id reused with other
 * content.
 * lookup: *ret = stored result JSON (new reference) or NULL when unseen;
 * *ret_content = the stored content (caller frees), NULL when unseen or
 * recorded before content was kept (schema 10).
 * record: CA_EEXIST when the pair was recorded already; content may be NULL. */
int ca_store_event_lookup(ca_store *s, const char *conversation_id, const char *event_id, char **ret_content,
			  json_t **ret, ca_err *err);
int ca_store_event_record(ca_store *s, const char *conversation_id, const char *event_id, const char *type,
			  const char *content, const json_t *result, ca_err *err);

/* Notes on a case: kind "summary" | "note" | "resolution"; body text; evidence JSON or NULL. */
int ca_store_note_add(ca_store *s, int64_t case_id, const char *kind, const char *body,
		      const json_t *evidence, const char *actor, ca_err *err);
/* Array of {"id","kind","body","evidence","actor","at"}. */
int ca_store_note_list(ca_store *s, int64_t case_id, json_t **ret, ca_err *err);

/* Agent interaction log (for reports): what the agent did and why.
 * case_id <= 0 means none. detail: any JSON object (fields changed, missing
 * fields, timings). */
int ca_store_interaction_add(ca_store *s, const char *conversation_id, int64_t case_id,
			     const char *action, const char *outcome, const json_t *detail, ca_err *err);
/* One row of ca_store_interaction_add_rows, its strings borrowed: as
 * ca_store_interaction_add takes them, with the time it happened: `at` is
 * ISO-8601 UTC as the store writes it ("2026-12-02T15:30:00Z"), or NULL for
 * now. */
typedef struct ca_interaction_row {
	const char *conversation_id;
	int64_t case_id;
	const char *action;
	const char *outcome;
	const json_t *detail;
	const char *at;
} ca_interaction_row;
/* n rows at once, all or none (CA_EINVAL names the first bad row's field):
 * one atomic section and one reservation of n ids for all of them, where n
 * calls of ca_store_interaction_add take n of each. */
int ca_store_interaction_add_rows(ca_store *s, const ca_interaction_row *rows, size_t n, ca_err *err);
/* Array of {"id","conversation_id","case_id","action","outcome","detail","at"},
 * optionally filtered by conversation (NULL = all). */
int ca_store_interaction_list(ca_store *s, const char *conversation_id, json_t **ret, ca_err *err);

/* Trained models (liblinear text, vocabulary...): named blobs. get returns
 * CA_ENOTFOUND when absent; *ret heap, caller frees. */
int ca_store_blob_put(ca_store *s, const char *name, const char *data, size_t len, ca_err *err);
int ca_store_blob_get(ca_store *s, const char *name, char **ret, size_t *ret_len, ca_err *err);

/* Resolved cases with their conversation text, for training: array of
 * {"case_id","fields":{...},"text":"customer and agent messages joined"}. */
int ca_store_training_cases(ca_store *s, json_t **ret, ca_err *err);

/* ---- a representative's work list (migration 14; workspace.c) ---- */

/*
 * One page of case ids, newest first: cases matching every filter given
 * (NULL = any; exact values), with id < before_id (0 = from the newest),
 * at most `limit` (1 or more). `words` (n of them, NULL/0 for none): cases
 * whose title, description or ticket number hold every word (FTS5, Porter
 * stems; each word quoted, never an operator; at most 32 read);
 * CA_EUNSUPPORTED on a driver without full-text search. Each filter is
 * served by an index ending in the id (migration 14), so a page reads about
 * as many entries as it returns when one filter is given; with words, the
 * full-text index yields the matches newest first and the filters are
 * checked on each. *ret_ids: heap array (caller frees), NULL when empty.
 */
typedef struct ca_store_case_filter {
	const char *status, *owner, *customer, *origin;
	const char *const *words;
	size_t n_words;
	int64_t before_id;
	size_t limit;
} ca_store_case_filter;
int ca_store_case_page(ca_store *s, const ca_store_case_filter *f, int64_t **ret_ids, size_t *ret_n, ca_err *err);

/* Conversations newest first by (opened_at, id), in `state` (NULL: any),
 * strictly before (before_opened_at, before_id) when those are given (both
 * or neither), at most `limit`: array of the rows ca_store_conversation_get
 * gives, each with "case_ticket" (or null) and "accepted_by" (the actor of
 * its accept event, or null). */
int ca_store_conversation_page(ca_store *s, const char *state, const char *before_opened_at, const char *before_id,
			       size_t limit, json_t **ret, ca_err *err);
/* Who accepted the conversation (conversation.accepted_by, the accept
 * event's actor; caller frees), NULL when it was not accepted or the
 * event named none. */
int ca_store_conversation_accepted_by(ca_store *s, const char *conversation_id, char **ret, ca_err *err);

/* The conversation of a case (caller frees): the one it was created from,
 * else the newest one linked to it; NULL when none. CA_ENOTFOUND for an
 * unknown case. */
int ca_store_conversation_of_case(ca_store *s, int64_t case_id, char **ret, ca_err *err);

/* The newest `limit` rows of the interaction log, oldest first, as
 * ca_store_interaction_list gives them. */
int ca_store_interaction_recent(ca_store *s, size_t limit, json_t **ret, ca_err *err);

/* Outbox rows of a case, oldest first: [{"id","to_addr","subject","status",
 * "headers","created_at","created_epoch","sent_at"}] (headers as JSON). */
int ca_store_outbox_of_case(ca_store *s, int64_t case_id, json_t **ret, ca_err *err);

/* Mark notification `id` read (the first time: read_at keeps the first
 * reading), if it is `recipient`'s; CA_ENOTFOUND otherwise. */
int ca_store_notification_read(ca_store *s, int64_t id, const char *recipient, ca_err *err);

/*
 * The agent's own figures for [from, to) (ISO 8601 UTC text as the store
 * writes it, "YYYY-MM-DDTHH:MM:SSZ"; NULL = unbounded), each one indexed
 * range count (migration 14): {"conversations" (opened in the period),
 * "cases_created" (the chat agent's creations and e-mail cases created),
 * "cases_withheld", "withheld_missing": {"field": N}, "cases_enriched"
 * (distinct cases an agent update changed), "fields_filled" (audit rows of
 * source agent), "no_change_updates", "fields_changed_by_person" (a
 * person's audit row on a field the agent had set on that case before),
 * "emails_sent_by_agent" (automatic responses sent in the period),
 * "emails_drafted_by_agent" (queued in it, whatever became of them),
 * "articles_drafted" (by the agent, created in the period),
 * "articles_published" (drafted by the agent, published in it)}.
 */
int ca_store_agent_report(ca_store *s, const char *from, const char *to, json_t **ret, ca_err *err);

/* ---- e-mail (migration 2) ---- */

/*
 * An e-mail as received. `msg_key` is its identity for idempotent ingest:
 * "mid:" + Message-ID, or "sha256:" + hex of the raw bytes when it has none.
 *   rec: {"msg_key","message_id","in_reply_to","refs":[...],"direction":"in"|"out",
 *         "from_addr","from_name","to_addrs","subject","subject_norm","sent_epoch",
 *         "mailbox","origin","body_text","reply_text","auto_kind","parse_error",
 *         "cc_addrs","content_sha256","received_size"}  (the last three: migration 8)
 * Missing keys are NULL; "msg_key" is required. raw is stored byte for byte.
 * CA_EEXIST when msg_key is stored already.
 */
int ca_store_email_add(ca_store *s, const json_t *rec, const void *raw, size_t raw_len, int64_t *ret_id,
		       ca_err *err);
/* The stored e-mail with this key: *found, its id and case id (0 = none). */
int ca_store_email_by_key(ca_store *s, const char *msg_key, bool *found, int64_t *ret_id, int64_t *ret_case,
			  ca_err *err);
int ca_store_email_attachment_add(ca_store *s, int64_t email_id, int64_t seq, const char *filename,
				  const char *content_type, size_t size, const char *sha256, const void *content,
				  ca_err *err);
int ca_store_email_set_case(ca_store *s, int64_t email_id, int64_t case_id, ca_err *err);
/* The case of a stored e-mail (either direction) with this Message-ID. */
int ca_store_email_case_of_message(ca_store *s, const char *message_id, bool *found, int64_t *ret_case,
				   ca_err *err);
/* The newest case of an e-mail from `from_addr` with this normalised
 * subject, received at or after `since_epoch`. */
int ca_store_email_case_by_subject(ca_store *s, const char *from_addr, const char *subject_norm, int64_t since_epoch,
				   bool *found, int64_t *ret_case, ca_err *err);
/* The e-mails of a case, oldest first: [{"id","direction","from_addr","to_addrs","cc_addrs","subject",
 * "body_text","reply_text","received_epoch","auto_kind"}]. */
int ca_store_email_thread(ca_store *s, int64_t case_id, json_t **ret, ca_err *err);
/* The id of the case's last incoming e-mail (the highest id), 0 when it
 * has none: through the (case_id, direction, ...) index (migration 17),
 * reading no message. */
int ca_store_email_last_in(ca_store *s, int64_t case_id, int64_t *ret_id, ca_err *err);
/* The content hash stored with e-mail `id` (caller frees), NULL in *ret
 * when it has none (stored before migration 8, or unparsable). */
int ca_store_email_content_hash(ca_store *s, int64_t id, char **ret, ca_err *err);
/* E-mails received from `from_addr` at or after since_epoch. */
int ca_store_email_count_from(ca_store *s, const char *from_addr, int64_t since_epoch, int64_t *ret, ca_err *err);
/* One e-mail with its attachments (no content) and raw size, or
 * CA_ENOTFOUND. */
int ca_store_email_get(ca_store *s, int64_t id, json_t **ret, ca_err *err);
/* The raw bytes as received (caller frees *ret). */
int ca_store_email_raw(ca_store *s, int64_t id, char **ret, size_t *ret_len, ca_err *err);

/* Activity monitor: one row per ingest. outcome: "created" | "updated" |
 * "attached" | "skipped" | "spam" (held as spam: no case, no response) |
 * "held" (held because the spam filter could not be asked and
 * email.spam.on_failure is "hold"); reason says why (for skipped:
 * "auto-reply", "bounce", "unknown sender", "no rule matched", "duplicate",
 * "resolved-case window", "rate limit", "parse error", "own address"...). */
int ca_store_email_log_add(ca_store *s, int64_t email_id, const char *origin, const char *outcome,
			   const char *reason, const char *rule, int64_t case_id, ca_err *err);
/* The same row with the spam verdict's source and score (migration 9) and
 * the person who acted (a release), each NULL/unset when none. */
typedef struct ca_store_email_log_row {
	int64_t email_id;
	const char *origin, *outcome, *reason, *rule;
	int64_t case_id;
	const char *spam_source;  /* "spamd 127.0.0.1:783", "header X-Spam-Flag", or NULL */
	bool has_spam_score;
	double spam_score;
	const char *actor;        /* who released the e-mail, or NULL */
} ca_store_email_log_row;
int ca_store_email_log_write(ca_store *s, const ca_store_email_log_row *row, ca_err *err);
/* Newest first, with the e-mail's from and subject: [{"id","email_id",
 * "origin","outcome","reason","rule","case","from_addr","subject",
 * "spam_source","spam_score","actor","at"}]. */
int ca_store_email_log_list(ca_store *s, size_t limit, json_t **ret, ca_err *err);

/* The spam verdict of a stored e-mail (migration 9). status: "spam" |
 * "not spam" | "unchecked" (no filter answered); held: kept out of the
 * case agent until a person releases it. Strings are copied. */
typedef struct ca_store_spam {
	const char *status;
	const char *source;      /* who gave the verdict, or NULL */
	bool has_score;
	double score, threshold;
	const char *detail;      /* rules that fired, or the header's value, or NULL */
	bool held;
} ca_store_spam;
int ca_store_email_spam_set(ca_store *s, int64_t email_id, const ca_store_spam *v, ca_err *err);
/* {"spam_status","spam_source","spam_score","spam_threshold","spam_detail",
 * "held": bool,"released_by","released_at"}; CA_ENOTFOUND. Caller decrefs. */
int ca_store_email_spam_get(ca_store *s, int64_t email_id, json_t **ret, ca_err *err);
/* Clear the hold, recording who and when; CA_ESTATE when it is not held
 * (never held, or released already), so two releases cannot both run. */
int ca_store_email_release(ca_store *s, int64_t email_id, const char *actor, ca_err *err);
/* Held e-mails, newest first: [{"id","from_addr","subject","received_at",
 * "spam_status","spam_source","spam_score","spam_threshold"}]. */
int ca_store_email_held_list(ca_store *s, size_t limit, json_t **ret, ca_err *err);

/* Outbox of automatic responses: {"case_id","email_id","to_addr","subject",
 * "body","headers": {...}} queued for sending; "actor" (optional, migration
 * 14): the person who wrote it (a representative's reply), absent for the
 * agent's own. */
int ca_store_outbox_add(ca_store *s, const json_t *msg, int64_t *ret_id, ca_err *err);
/* Responses queued to `to_addr` at or after since_epoch. */
int ca_store_outbox_count_to(ca_store *s, const char *to_addr, int64_t since_epoch, int64_t *ret, ca_err *err);
/* [{"id","case_id","email_id","to_addr","subject","body","headers","status",
 * "attempts","last_error","created_at","sent_at"}], oldest first; status NULL = all. */
int ca_store_outbox_list(ca_store *s, const char *status, json_t **ret, ca_err *err);
int ca_store_outbox_mark(ca_store *s, int64_t id, const char *status, const char *error, ca_err *err);

/* IMAP mailbox state between polls, by a stable mailbox name (user, server
 * and mailbox, e.g. "imap://support@mail.example:993/INBOX"): the
 * UIDVALIDITY seen last (RFC 3501 §2.3.1.1) and the highest UID ingested.
 * get: *found false (values 0) for a mailbox never polled. put: insert or
 * replace. */
int ca_store_mailbox_state_get(ca_store *s, const char *name, bool *found, int64_t *ret_uidvalidity,
			       int64_t *ret_last_uid, ca_err *err);
int ca_store_mailbox_state_put(ca_store *s, const char *name, int64_t uidvalidity, int64_t last_uid, ca_err *err);

/* ---- knowledge articles (migration 4) ---- */

/*
 * A new article, numbered "KA-%05d". art: {"title" (required), "issue",
 * "cause", "resolution", "product", "subject", "keywords": [...],
 * "evidence": {...}, "state", "compliance", "audience", "source", "owner",
 * "pii_removed": {...}}. Publishing requires compliance "compliant": the
 * database refuses anything else (CA_ESTATE with a clear message).
 */
int ca_store_article_add(ca_store *s, const json_t *art, int64_t *ret_id, char **ret_number, ca_err *err);
/* By number ("KA-00001") or numeric id: the article with "sources". */
int ca_store_article_get(ca_store *s, const char *ref, json_t **ret, ca_err *err);
/* Articles in a state (NULL = all but discarded), newest first. */
int ca_store_article_list(ca_store *s, const char *state, json_t **ret, ca_err *err);
/*
 * Change some of: title, issue, cause, resolution, keywords (a list),
 * state, compliance, audience, version_minor (+1 when "bump_minor": true),
 * rating (1-5, adds a rating). CA_ESTATE when the result would be a
 * published article that is not compliant — enforced by a CHECK in the
 * schema, mapped here to words.
 * Published means reviewed (migration 12): on a published article, a
 * content change (title, issue, cause, resolution, keywords) goes into its
 * version in review (created as version_minor + 1 from the published one,
 * compliance pending unless the change sets it), never into what readers
 * see; while that version exists, "compliance" is its compliance,
 * "state": "published" replaces the published content by it (CA_ESTATE
 * unless it is compliant), "discarded" rejects it (the article stays
 * published), any other state applies to the article and drops it.
 * get returns that version as "pending_version" {"version_major",
 * "version_minor","compliance","title","issue","cause","resolution",
 * "keywords"}; list has "pending_version_minor" (null when none), and its
 * "in_review" lists published articles with a version in review too.
 */
int ca_store_article_update(ca_store *s, int64_t id, const json_t *changes, ca_err *err);
/* Link a case or conversation to an article: "drafted_from" or "covered_by". */
int ca_store_article_link(ca_store *s, int64_t article_id, const char *record_type, const char *record_id,
			  const char *relation, double similarity, ca_err *err);
/*
 * Full-text search of knowledge articles (title weighs twice the issue and
 * resolution): those matching any of `words` (n of them, at most 64 read;
 * each is matched as a whole word, Porter-stemmed, never as an operator),
 * best first by BM25 (Robertson & Zaragoza 2009, as SQLite FTS5's bm25()).
 * published_only: published articles, else every draft, in-review and
 * published one; audience (NULL: any) limits to articles for it. At most
 * `limit` (0: all). *ret: [{"id", "number", "title", "audience", "score"}],
 * score = -bm25 (higher is better). CA_EUNSUPPORTED on a driver without full-text search.
 */
int ca_store_article_search(ca_store *s, const char *const *words, size_t n, bool published_only,
			    const char *audience, size_t limit, json_t **ret, ca_err *err);
/*
 * The candidates a record is compared with, by full-text search over every
 * article (title, issue, resolution) matching any of `words`: all of them
 * when there are at most `limit`, else the `limit` best by BM25. *ret_ids
 * (heap, caller frees; NULL when none) in no particular order. The caller
 * keeps only live articles (its index holds no archived or discarded one).
 */
int ca_store_article_candidates(ca_store *s, const char *const *words, size_t n, size_t limit, int64_t **ret_ids,
				size_t *ret_n, ca_err *err);
/*
 * Tidy the full-text index after many small writes: each article written in
 * its own transaction or savepoint adds a segment, and a query reads every
 * segment. Merges at most `pages` pages (FTS5 'merge' with a negative
 * budget: segments of all levels, as 'optimize' does but bounded), so the
 * cost stays flat however large the knowledge base. No-op on drivers
 * without full-text search.
 */
int ca_store_article_index_tidy(ca_store *s, int pages, ca_err *err);
/* The article a record is linked to, if any. */
int ca_store_article_of_record(ca_store *s, const char *record_type, const char *record_id, bool *found,
			       int64_t *ret_article, ca_err *err);
/* Knowledge insights in one read: {"articles": {"by_state": {...},
 * "by_source": {...}, "published": N, "rated": N, "average_rating": x|null,
 * "to_revise": [{"number","title","average_rating"}]}, "resolved_cases": N,
 * "resolved_cases_linked": N, "closed_conversations": N,
 * "closed_conversations_linked": N} (linked = drafted from or covered by an
 * article). */
int ca_store_knowledge_stats(ca_store *s, json_t **ret, ca_err *err);
int ca_store_notification_add(ca_store *s, const char *recipient, const char *kind, int64_t article_id,
			      int64_t case_id, const char *message, ca_err *err);
/* Newest first; recipient NULL = everyone's. */
int ca_store_notification_list(ca_store *s, const char *recipient, json_t **ret, ca_err *err);

/* When the case was last set to resolved or closed (ISO 8601, caller frees),
 * from its audit history; *found false when it never was. */
int ca_store_case_resolved_at(ca_store *s, int64_t case_id, bool *found, char **ret_iso, ca_err *err);

/* ---- knowledge harvest jobs (migration 5) ---- */

/*
 * A historical harvest job:
 *   {"id","source": "cases"|"conversations","rule" (or null),"state":
 *    "running"|"stopped"|"done"|"failed","total","processed","created",
 *    "covered","filtered","insufficient","errors","last_case_id" (the
 *    cursor of a job over cases: records up to it are done),
 *    "last_record" (the same for conversations, by id),"started_at","updated_at",
 *    "finished_at"}.
 * create: a new job in state running; CA_EINVAL for an unknown source.
 */
int ca_store_harvest_create(ca_store *s, const char *source, const char *rule, int64_t total, int64_t *ret_id,
			    ca_err *err);
/* One job (new reference); CA_ENOTFOUND. */
int ca_store_harvest_get(ca_store *s, int64_t id, json_t **ret, ca_err *err);
/* Every job, oldest first (new reference). */
int ca_store_harvest_list(ca_store *s, json_t **ret, ca_err *err);
/* Set the state (done and failed also set finished_at). With only_from,
 * only a job in that state changes (the stop flag: running -> stopped);
 * *ret_changed (may be NULL) says whether it did. */
int ca_store_harvest_set_state(ca_store *s, int64_t id, const char *state, const char *only_from, bool *ret_changed,
			       ca_err *err);
/*
 * One record's outcome in a job, atomic: the log row (primary key job,
 * record type, record id: a record logged twice fails with CA_EDB and
 * nothing is written), processed + 1, the outcome's counter + 1 and the
 * cursor: last_case_id = cursor for a job over cases, last_record =
 * cursor_record (when not NULL) for one over conversations. Call it inside
 * the transaction that wrote the record's outcome.
 * outcome: created | covered | filtered | insufficient | error.
 */
int ca_store_harvest_record(ca_store *s, int64_t job_id, const char *record_type, const char *record_id,
			    int64_t cursor, const char *cursor_record, const char *outcome, const char *article,
			    const char *reason, ca_err *err);
/* The log of a job in processing order, optionally one outcome only (NULL:
 * all), at most `limit` rows (0: all): [{"record_type","record_id",
 * "outcome","article","reason","at"}]. */
int ca_store_harvest_log(ca_store *s, int64_t job_id, const char *outcome, size_t limit, json_t **ret, ca_err *err);
/* Ids of resolved or closed cases after `after_id`, ascending, at most
 * `limit` (0: all). *ret_ids is a heap array the caller frees. */
int ca_store_resolved_cases(ca_store *s, int64_t after_id, size_t limit, int64_t **ret_ids, size_t *ret_n,
			    ca_err *err);
int ca_store_resolved_case_count(ca_store *s, int64_t *ret, ca_err *err);
/* Ids of closed conversations after `after_id` (NULL: from the start), in
 * byte order of the id, at most `limit` (0: all), appended to *ret_ids. */
int ca_store_closed_conversations(ca_store *s, const char *after_id, size_t limit, ca_strv *ret_ids, ca_err *err);
int ca_store_closed_conversation_count(ca_store *s, int64_t *ret, ca_err *err);

/* ---- the event outbox (migration 15; event.c) ---- */

/*
 * The repository's write calls note the events their changes announce
 * (case.created, case.updated, note.added, email.received,
 * knowledge.article_drafted, notification.created, harvest.progress) and the
 * outermost commit writes them in its transaction: a rollback, of the
 * transaction or of a savepoint in it, leaves none of its own. One case's
 * writes in one transaction are one event, as are one job's.
 * events_since: at most limit (0 = 100, at most 1000) events with id >
 * after_id, oldest first: [{"id","type","at","case" (ticket or null),
 * "recipient","right","data"}] (new reference), *ret_last the id of the
 * last one (after_id when none); CA_EINVAL for a negative after_id. Rows
 * older than 7 days are removed as commits go by.
 */
int ca_store_events_since(ca_store *s, int64_t after_id, size_t limit, json_t **ret, int64_t *ret_last,
			  ca_err *err);
/* The newest event id, 0 when there is none. */
int ca_store_events_last_id(ca_store *s, int64_t *ret, ca_err *err);

/* ---- background e-mail work (migration 15; worker.c) ---- */

/* Record one run of a worker ("imap" | "smtp"): the server's URL (no
 * password in it), and either error NULL (a success: last_ok_at and
 * last_result, a JSON object of counts, are set) or the failure's text
 * (the last success's time and result stay). Never give it a secret. */
int ca_store_worker_record(ca_store *s, const char *worker, const char *url, const char *error, const json_t *result,
			   ca_err *err);
/* {"url","runs","last_run_at","last_ok_at","last_error","last_result"}, or
 * JSON null for a worker that never ran (new reference). */
int ca_store_worker_get(ca_store *s, const char *worker, json_t **ret, ca_err *err);
/* {"queued":N,"failed":N,"sent":N} through the outbox's status index. */
int ca_store_outbox_counts(ca_store *s, json_t **ret, ca_err *err);
/* ---- users, agent experience profiles, credentials (migration 13; user.c) ---- */

/*
 * Users: {"name","display_name","role","profile","password_hash" (an
 * Argon2id string, or null: no password login),"disabled" (0|1),
 * "created_at"}. The store checks text, uniqueness and that the profile
 * exists; role names and password rules are src/auth's. add: "name",
 * "role", "profile" required, "display_name" defaults to the name;
 * CA_EEXIST, CA_EINVAL naming "profile" for an unknown profile. get:
 * CA_ENOTFOUND. list: every user by name, "has_password" (0|1) in place of
 * the hash. update: any of "display_name", "role", "profile" (strings),
 * "password_hash" (string or null), "disabled" (bool), in one statement.
 */
int ca_store_user_add(ca_store *s, const json_t *user, ca_err *err);
int ca_store_user_get(ca_store *s, const char *name, json_t **ret, ca_err *err);
int ca_store_user_list(ca_store *s, json_t **ret, ca_err *err);
int ca_store_user_update(ca_store *s, const char *name, const json_t *changes, ca_err *err);
/* The agent experience profile of user `user` and whether it has
 * autonomous case creation on, in one indexed query: *ret_found false (and
 * nothing else set) when `user` is not a user. Caller frees *ret_profile. */
int ca_store_user_autonomy(ca_store *s, const char *user, bool *ret_found, char **ret_profile,
			   bool *ret_autonomous_case, ca_err *err);

/* Agent experience profiles: {"name","description","autonomous_case" (0|1),
 * "autonomous_followup" (0|1),"users" (how many have it),"created_at",
 * "updated_at"}. get: CA_ENOTFOUND; list by name; put creates or replaces. */
int ca_store_profile_get(ca_store *s, const char *name, json_t **ret, ca_err *err);
int ca_store_profile_list(ca_store *s, json_t **ret, ca_err *err);
int ca_store_profile_put(ca_store *s, const char *name, const char *description, bool autonomous_case,
			 bool autonomous_followup, ca_err *err);

/*
 * API tokens, stored by the hash src/auth computes (never the token):
 * {"id","user","name","created_at","last_used_at","revoked_at"}. add:
 * CA_ENOTFOUND for an unknown user; *ret the new row. revoke: sets
 * revoked_at once (a second revoke keeps the first time); CA_ENOTFOUND.
 * list: user NULL = all, by id. find: by hash through its unique index,
 * joined with the user: {"id","user","last_used_at","revoked_at","role",
 * "profile","disabled"}, *ret NULL when no token has that hash. touch:
 * last_used_at = now, unless it is at or after `before` already (ISO 8601
 * strings compare as times).
 */
int ca_store_token_add(ca_store *s, const char *user, const char *label, const char *hash, json_t **ret,
		       ca_err *err);
int ca_store_token_revoke(ca_store *s, int64_t id, ca_err *err);
int ca_store_token_list(ca_store *s, const char *user, json_t **ret, ca_err *err);
int ca_store_token_find(ca_store *s, const char *hash, json_t **ret, ca_err *err);
int ca_store_token_touch(ca_store *s, int64_t id, const char *now, const char *before, ca_err *err);

/* Sessions by hash (times ISO 8601): find joins the user: {"user","csrf",
 * "last_seen_at","expires_at","role","profile","disabled"}, *ret NULL when
 * none. purge deletes the sessions expired at `now` (index on expires_at). */
int ca_store_session_add(ca_store *s, const char *hash, const char *user, const char *csrf, const char *now,
			 const char *expires, ca_err *err);
int ca_store_session_find(ca_store *s, const char *hash, json_t **ret, ca_err *err);
int ca_store_session_touch(ca_store *s, const char *hash, const char *now, const char *expires, ca_err *err);
int ca_store_session_delete(ca_store *s, const char *hash, ca_err *err);
/* End every session of a user (a password changed or removed). */
int ca_store_session_delete_user(ca_store *s, const char *user, ca_err *err);
int ca_store_session_purge(ca_store *s, const char *now, ca_err *err);

/* Failed logins by key ("user:NAME", "addr:IP"), times in epoch seconds.
 * get: the counts of a key whose last failure is at or after
 * forget_before (zeros otherwise). add: one more failure at `now`; rows
 * whose last failure is before forget_before are forgotten first (theirs
 * starts again at 1). clear: forget a key. */
typedef struct ca_store_login_failure {
	int64_t count, first_at, last_at;
} ca_store_login_failure;
int ca_store_login_failure_get(ca_store *s, const char *key, int64_t forget_before, ca_store_login_failure *ret,
			       ca_err *err);
int ca_store_login_failure_add(ca_store *s, const char *key, int64_t now, int64_t forget_before, ca_err *err);
int ca_store_login_failure_clear(ca_store *s, const char *key, ca_err *err);

/* ---- the follow-up agent (migration 17; followup.c) ---- */

/* The distinct case statuses (NULL left out), appended to *out in byte
 * order: one index seek each, so finding the open ones costs the same
 * however many resolved cases there are. */
int ca_store_case_statuses(ca_store *s, ca_strv *out, ca_err *err);

/* Whether user `user`'s agent experience profile has autonomous case
 * follow-up and closure on (one indexed query): *ret_found false when
 * `user` is no user; caller frees *ret_profile. */
int ca_store_user_followup(ca_store *s, const char *user, bool *ret_found, char **ret_profile, bool *ret_on,
			   ca_err *err);

/*
 * What the follow-up agent reads of one case, each through an index on
 * the case id, so the cost does not grow with the case's or the table's
 * history: {"rep_out": {"id","at_epoch"} | null (the newest outbox row a
 * person wrote), "replies": [{"id","received_epoch","subject","reply_text",
 * "body_text","auto_kind"}] (the `max_replies` newest e-mails received on
 * the case, newest first), "steps": [step rows, newest first, at most
 * `max_steps`: {"step","followup","rule","level","decision","reason",
 * "intent","reply_email_id","outbox_id","suggestion_id","resolved",
 * "at_epoch"}], "suggestion": the pending suggestion (as
 * ca_store_suggestion_get) | null, "status_reason_at": ISO time the status
 * reason was last written | null, "last_out": {"body","at_epoch"} of the
 * newest outbox message of the case, anyone's (what a reply answers) |
 * null}. New reference.
 */
int ca_store_followup_case(ca_store *s, int64_t case_id, size_t max_replies, size_t max_steps, json_t **ret,
			   ca_err *err);

/* One decision of the follow-up agent on a case. Strings borrowed. */
typedef struct ca_store_followup_step {
	int64_t case_id, step, followup;
	const char *rule, *level, *decision, *reason, *intent;
	int64_t reply_email_id, outbox_id, suggestion_id; /* 0: none */
	bool resolved;    /* the decision resolved the case */
	int64_t at_epoch;
} ca_store_followup_step;
/* Record a step; CA_EEXIST when (case, step) is recorded already (another
 * process decided first: the caller rolls its decision back). */
int ca_store_followup_step_add(ca_store *s, const ca_store_followup_step *st, ca_err *err);
/* The follow-up of step (case, step) was queued as outbox row outbox_id
 * (a person sent a suggested follow-up). */
int ca_store_followup_step_sent(ca_store *s, int64_t case_id, int64_t step, int64_t outbox_id, ca_err *err);
/* An audit row of the follow-up agent's decision on a case (field
 * "followup", source "followup", actor "caseagent", new value the
 * decision, method "followup:" + rule, evidence the detail), and the
 * case.updated event it announces. */
int ca_store_followup_audit(ca_store *s, int64_t case_id, const char *decision, const char *rule,
			    const json_t *detail, ca_err *err);

/*
 * Suggested actions (level confirm). rec: {"case_id","step","rule",
 * "proposed": "send_followup"|"draft_reply"|"resolve","reply_summary"?,
 * "intent"?,"email_subject"?,"email_body"?,"resolution"?,"reply_email_id"?,
 * "created_epoch"}. CA_EEXIST when the case has a pending one already.
 * get: by id of the case (id 0: its pending one; *ret JSON null when
 * none): {"id","case_id","step","rule","proposed","state","reply_summary",
 * "intent","email_subject","email_body","resolution","reply_email_id",
 * "created_at","created_epoch","action","acted_by","acted_at","outbox_id"};
 * CA_ENOTFOUND for an id that is not the case's.
 * close: pending -> state ("acted" | "dismissed" | "superseded") with the
 * action, actor and outbox row; CA_ESTATE when it is no longer pending.
 */
int ca_store_suggestion_add(ca_store *s, const json_t *rec, int64_t *ret_id, ca_err *err);
int ca_store_suggestion_get(ca_store *s, int64_t case_id, int64_t id, json_t **ret, ca_err *err);
int ca_store_suggestion_close(ca_store *s, int64_t id, const char *state, const char *action, const char *actor,
			      int64_t outbox_id, ca_err *err);

/* What a shadow rule would have done: rec {"case_id","rule","decision",
 * "step","basis" (what it decided on, so the same decision at the next
 * tick is recorded once),"reason","intent"?,"email"? (object)}; a repeat
 * is ignored (*ret_added false). list: newest first, rule NULL = all, at
 * most limit: [{"case" (ticket),"rule","at","decision","step","reason",
 * "intent","email"}]. */
int ca_store_followup_shadow_add(ca_store *s, const json_t *rec, bool *ret_added, ca_err *err);
int ca_store_followup_shadow_list(ca_store *s, const char *rule, size_t limit, json_t **ret, ca_err *err);

/*
 * The follow-up figures of the agent report for [from, to) (as
 * ca_store_agent_report): {"followups_sent","cases_resolved_by_agent",
 * "cases_handed_to_person","replies_by_intent": {intent: N},
 * "reopened_after_agent_resolution"} — the last counted at query time:
 * cases the agent resolved in the period that received an e-mail from the
 * customer within window_hours after (the resolved-case window).
 */
int ca_store_followup_report(ca_store *s, const char *from, const char *to, unsigned window_hours, json_t **ret,
			     ca_err *err);

#endif
