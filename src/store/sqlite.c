/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend of the SQL driver interface (store.h level 1), the
 * default for a single machine. A connection runs in WAL mode so readers never
 * block the one writer, with foreign keys on, synchronous=NORMAL (durable at
 * checkpoints, never corrupt) and a 5 s busy timeout, polled every
 * millisecond (busy_wait); a writer that waits says so in a side file (see
 * stamp_wait), so a long import can end its batch at once. Statements are prepared
 * once and kept in a small per-connection cache keyed by SQL text, because the
 * repository issues the same few dozen statements over and over.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "store.h"

/* Enough for every statement of the repository's hot paths; colder ones are
 * evicted least-recently-used. */
#define STMT_CACHE_SIZE 160

/* How long a writer waits for the write lock (busy_wait below): far longer
 * than any batch an import or a harvest holds it for (0.25 s). */
#define BUSY_TIMEOUT_MS 5000

/* A waiter's stamp this recent means it is waiting now: it stamps on every
 * try, a millisecond apart, so this leaves room for a loaded machine. */
#define WAITING_NS 50000000LL

typedef struct cached_stmt {
	char *sql;
	const char *src; /* the caller's pointer it was cached from: most SQL is a
			    literal, so a pointer compare finds it first */
	sqlite3_stmt *st;
	uint64_t used; /* tick of last use, for eviction */
	bool busy;     /* stepping right now: a nested call must not reset it */
} cached_stmt;

/*
 * The write lock, in process. The writers of one process (a server's
 * threads, each with its own connection) queue on a mutex of their database
 * file before they ask SQLite for its lock, so the next one starts the
 * moment the last one commits, where SQLite's busy handler would find out
 * up to a millisecond later; under a steady stream of writers those waits
 * were the tail of the latency. Writers in other processes still meet in
 * SQLite's lock (busy_wait). One entry per file opened, kept for the
 * process's life (a handful). `waiting` counts the threads queued, which
 * sq_contended reports as the side file does for other processes.
 */
typedef struct wlock {
	char *path;
	pthread_mutex_t m;
	atomic_int waiting;
	struct wlock *next;
} wlock;

static pthread_mutex_t wlocks_guard = PTHREAD_MUTEX_INITIALIZER;
static wlock *wlocks;

static wlock *wlock_of(const char *path)
{
	pthread_mutex_lock(&wlocks_guard);
	wlock *w = wlocks;
	while (w && strcmp(w->path, path) != 0)
		w = w->next;
	if (!w && (w = calloc(1, sizeof(*w))) != NULL) {
		if ((w->path = strdup(path)) == NULL) {
			free(w);
			w = NULL;
		} else {
			pthread_mutex_init(&w->m, NULL);
			w->next = wlocks;
			wlocks = w;
		}
	}
	pthread_mutex_unlock(&wlocks_guard);
	return w; /* NULL (out of memory): SQLite's lock alone, as before */
}

typedef struct conn {
	sqlite3 *db;
	wlock *wl;       /* the in-process write lock of the file, or NULL */
	bool wl_held;
	int64_t changes;
	uint64_t vm_steps; /* work done so far (ca_sql_driver.work) */
	uint64_t tick;
	char *wait_path; /* "<database>-wait", NULL for a database without a file */
	int wait_fd;     /* wait_path open for reading (sq_contended), or -1 */
	bool stamped;    /* this connection's stamp is in wait_path (unstamp) */
	cached_stmt cache[STMT_CACHE_SIZE];
} conn;

static int map_code(int rc)
{
	switch (rc) {
	case SQLITE_NOMEM:
		return CA_ENOMEM;
	case SQLITE_CANTOPEN:
		return CA_EIO;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		/* The repository checks first, so a reader of the error sees the
		 * record named; this is the backstop for racing writers. */
		return CA_EEXIST;
	default:
		return CA_EDB;
	}
}

static int db_error(conn *c, int rc, const char *sql, ca_err *err)
{
	if ((rc & 0xff) == SQLITE_BUSY)
		return ca_err_set(err, CA_EDB, "sqlite",
				  "the database stayed locked by another writer for more than %d s (a long import, "
				  "harvest or migration in another process?); nothing of this was written: try again",
				  BUSY_TIMEOUT_MS / 1000);
	/* Enough of the statement to tell which one failed, never the values. */
	return ca_err_set(err, map_code(rc), "sqlite", "sqlite: %s (in \"%.80s\")",
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), sql);
}

static void wlock_give(conn *c);

static void conn_free(conn *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
		sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].sql);
	}
	/* close_v2 defers the close if anything is still open instead of
	 * failing, so the handle is never leaked. */
	sqlite3_close_v2(c->db);
	wlock_give(c); /* closing rolled back whatever was open */
	if (c->wait_fd >= 0)
		close(c->wait_fd);
	free(c->wait_path);
	free(c);
}

static int pragma(conn *c, const char *sql, const char *path, ca_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	int r = ca_err_set(err, map_code(rc), path, "cannot open database %s: %s", path,
			   msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return r;
}

/*
 * Waiting for the write lock: try again every millisecond, for up to
 * BUSY_TIMEOUT_MS. SQLite's own busy_timeout backs off to 100 ms between
 * tries, so a writer that lets go of the lock only briefly between long
 * transactions (a harvest batch, then a 2 ms pause) would be missed again
 * and again, and a live chat event could time out behind it.
 */
static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/*
 * Say "a writer is waiting" to the connection holding the write lock: the
 * time now (CLOCK_MONOTONIC, one clock for every process of the machine)
 * in the side file "<database>-wait". SQLite shows a lock holder no
 * waiters, and an import that knows nobody waits can write far bigger
 * batches (each commit rewrites the index pages it touched, so fewer
 * commits are much less work). Opened and closed on each try so nothing
 * stays open in an idle connection; a failure only means the holder does
 * not hear of this waiter and ends its batch at its longest bound instead.
 */
static bool write_stamp(const conn *c, int64_t t)
{
	int fd = open(c->wait_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	bool ok = pwrite(fd, &t, sizeof(t), 0) == (ssize_t)sizeof(t);
	close(fd);
	return ok;
}

static void stamp_wait(conn *c)
{
	if (c && c->wait_path && write_stamp(c, now_ns()))
		c->stamped = true;
}

/* The wait is over (the lock was had, or given up on): the stamp goes, or
 * the holder would end its batches early for the next WAITING_NS for a
 * waiter that is no longer there. Another process's waiter stamps again
 * on its next try, a millisecond later; a stamp that cannot be cleared
 * ages out. */
static void unstamp(conn *c)
{
	if (c->stamped) {
		c->stamped = false;
		(void)write_stamp(c, 0);
	}
}

static int busy_wait(void *ud, int tries)
{
	if (tries >= BUSY_TIMEOUT_MS)
		return 0;
	stamp_wait(ud);
	sqlite3_sleep(1);
	return 1;
}

static int wlock_take(conn *c, ca_err *err)
{
	if (!c->wl || c->wl_held)
		return 0;
	if (pthread_mutex_trylock(&c->wl->m) != 0) {
		atomic_fetch_add(&c->wl->waiting, 1);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += BUSY_TIMEOUT_MS / 1000;
		int rc = pthread_mutex_timedlock(&c->wl->m, &until);
		atomic_fetch_sub(&c->wl->waiting, 1);
		if (rc != 0)
			return ca_err_set(err, rc == ETIMEDOUT ? CA_EDB : CA_EINVAL, "sql",
					  "the database is busy: another writer of this process held it for %d s",
					  BUSY_TIMEOUT_MS / 1000);
	}
	c->wl_held = true;
	return 0;
}

static void wlock_give(conn *c)
{
	if (c->wl_held) {
		c->wl_held = false;
		pthread_mutex_unlock(&c->wl->m);
	}
}

/* SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS, on unless built
 * otherwise) take one mutex for the whole process on every allocation and
 * free: a server's threads, each on its own connection, then queue on it
 * (60% of serve's futex calls under an update load). Nothing here reads
 * the statistics, so they are off; the setting must come before SQLite
 * initialises, hence once, before the first open. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	/* SQLITE_MISUSE when something initialised SQLite first: it keeps
	 * the statistics then, which costs time, not correctness. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite3_initialize();
}

static int sq_open(const char *dsn, void **ret_conn, ca_err *err)
{
	if (ca_str_empty(dsn))
		return ca_err_set(err, CA_EINVAL, "path", "no database path given");
	conn *c = calloc(1, sizeof(*c));
	if (!c)
		return ca_err_set(err, CA_ENOMEM, dsn, "out of memory opening %s", dsn);
	c->wait_fd = -1;
	pthread_once(&sqlite_once, sqlite_setup);
	/* NOMUTEX: a ca_store belongs to one thread (store.h), so SQLite's own
	 * locking would only cost time. */
	int rc = sqlite3_open_v2(dsn, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int r = ca_err_set(err, map_code(rc), dsn, "cannot open database %s: %s", dsn,
				   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_free(c);
		return r;
	}
	sqlite3_extended_result_codes(c->db, 1);
	const char *file = sqlite3_db_filename(c->db, "main");
	if (file && *file) {
		size_t n = strlen(file) + sizeof("-wait");
		if ((c->wait_path = malloc(n)) != NULL)
			snprintf(c->wait_path, n, "%s-wait", file);
		c->wl = wlock_of(file);
	}
	sqlite3_busy_handler(c->db, busy_wait, c);
	int r = pragma(c, "PRAGMA journal_mode=WAL", dsn, err);
	if (!r)
		r = pragma(c, "PRAGMA foreign_keys=ON", dsn, err);
	if (!r)
		r = pragma(c, "PRAGMA synchronous=NORMAL", dsn, err);
	/* Up to 64 MB of page cache (SQLite's default is 2 MB): an import
	 * batch touches index pages all over seven B-trees, and with the
	 * small cache each is read and written again and again. The cache
	 * only grows to what a connection touches, so an event stays small. */
	if (!r)
		r = pragma(c, "PRAGMA cache_size=-65536", dsn, err);
	if (r) {
		conn_free(c);
		return r;
	}
	*ret_conn = c;
	return 0;
}

static void sq_close(void *p)
{
	conn_free(p);
}

/*
 * A prepared statement for `sql`: from the cache when it is there and idle,
 * else prepared and cached. When the cached copy is in use by an outer query
 * (a row callback issuing the same SQL), a private statement is prepared and
 * *ret_owned is set so the caller finalizes it.
 */
static int prepare(conn *c, const char *sql, sqlite3_stmt **ret, bool *ret_owned, cached_stmt **ret_slot,
		   ca_err *err)
{
	cached_stmt *slot = NULL, *victim = NULL;
	bool in_use = false;
	for (size_t i = 0; i < STMT_CACHE_SIZE && !slot; i++) {
		cached_stmt *e = &c->cache[i];
		if (e->src == sql && e->sql && !e->busy && strcmp(e->sql, sql) == 0)
			slot = e;
	}
	for (size_t i = 0; i < STMT_CACHE_SIZE && !slot; i++) {
		cached_stmt *e = &c->cache[i];
		if (e->sql && strcmp(e->sql, sql) == 0) {
			if (e->busy) {
				in_use = true;
				continue;
			}
			slot = e;
			break;
		}
		if (e->busy)
			continue;
		if (!victim || !e->sql || (victim->sql && e->used < victim->used))
			victim = e;
	}
	if (slot) {
		slot->used = ++c->tick;
		slot->busy = true;
		*ret = slot->st;
		*ret_owned = false;
		*ret_slot = slot;
		return 0;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return db_error(c, rc, sql, err);
	}
	if (!st) /* only whitespace or a comment: nothing to run */
		return ca_err_set(err, CA_EINVAL, "sql", "empty SQL statement");
	char *copy = in_use || !victim ? NULL : strdup(sql);
	if (!copy) {
		/* Not cacheable (duplicate in use, cache full of busy statements,
		 * or no memory for the key): run it uncached, which is correct,
		 * only slower. */
		*ret = st;
		*ret_owned = true;
		*ret_slot = NULL;
		return 0;
	}
	sqlite3_finalize(victim->st);
	free(victim->sql);
	victim->sql = copy;
	victim->src = sql;
	victim->st = st;
	victim->used = ++c->tick;
	victim->busy = true;
	*ret = st;
	*ret_owned = false;
	*ret_slot = victim;
	return 0;
}

static void release(conn *c, sqlite3_stmt *st, bool owned, cached_stmt *slot)
{
	c->vm_steps += (uint64_t)sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	if (owned) {
		sqlite3_finalize(st);
		return;
	}
	/* Reset at once: a statement left mid-step would hold its read
	 * transaction open and pin the WAL. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	slot->busy = false;
}

static int bind(conn *c, sqlite3_stmt *st, const char *sql, const ca_sql_param *p, size_t n, ca_err *err)
{
	if (n != (size_t)sqlite3_bind_parameter_count(st))
		return ca_err_set(err, CA_EINVAL, "sql", "statement expects %d parameters, got %zu (in \"%.80s\")",
				  sqlite3_bind_parameter_count(st), n, sql);
	for (size_t i = 0; i < n; i++) {
		int idx = (int)i + 1, rc;
		switch (p[i].type) {
		case CA_SQL_INT:
			rc = sqlite3_bind_int64(st, idx, p[i].i);
			break;
		case CA_SQL_REAL:
			rc = sqlite3_bind_double(st, idx, p[i].r);
			break;
		case CA_SQL_TEXT:
			/* STATIC is safe: the string is borrowed for the call and
			 * the bindings are cleared before we return. */
			rc = p[i].s ? sqlite3_bind_text(st, idx, p[i].s, -1, SQLITE_STATIC)
				    : sqlite3_bind_null(st, idx);
			break;
		case CA_SQL_BLOB:
			rc = p[i].s ? sqlite3_bind_blob64(st, idx, p[i].s, p[i].len, SQLITE_STATIC)
				    : sqlite3_bind_null(st, idx);
			break;
		case CA_SQL_NULL:
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
		if (rc != SQLITE_OK)
			return db_error(c, rc, sql, err);
	}
	return 0;
}

static int run_stmt(conn *c, const char *sql, const ca_sql_param *p, size_t n, ca_sql_row_fn fn, void *ud,
		    ca_err *err);

/* Runs `sql`; with fn, hands each row to it until it returns nonzero. */
static int run(conn *c, const char *sql, const ca_sql_param *p, size_t n, ca_sql_row_fn fn, void *ud,
	       ca_err *err)
{
	/* BEGIN takes the write lock up front: a deferred transaction that
	 * reads and then writes cannot wait out a concurrent writer (SQLite
	 * returns SQLITE_BUSY at once to avoid deadlock), while BEGIN IMMEDIATE
	 * honours busy_timeout; the process's own writers queue first (wlock).
	 * A read-only transaction (PostgreSQL's BEGIN READ ONLY) is SQLite's
	 * deferred one: it never takes the write lock. These are the dialect
	 * rewrites this driver does. */
	int r;
	if (strcmp(sql, "BEGIN") == 0) {
		if ((r = wlock_take(c, err)) != 0)
			return r;
		sql = "BEGIN IMMEDIATE";
	} else if (strcmp(sql, "BEGIN READ ONLY") == 0) {
		sql = "BEGIN DEFERRED";
	}
	r = run_stmt(c, sql, p, n, fn, ud, err);
	unstamp(c);
	/* The transaction ended (committed, rolled back, or never began). */
	if (c->wl_held && sqlite3_get_autocommit(c->db))
		wlock_give(c);
	return r;
}

static int run_stmt(conn *c, const char *sql, const ca_sql_param *p, size_t n, ca_sql_row_fn fn, void *ud,
		    ca_err *err)
{
	sqlite3_stmt *st = NULL;
	bool owned = false;
	cached_stmt *slot = NULL;
	int r = prepare(c, sql, &st, &owned, &slot, err);
	if (r)
		return r;
	r = bind(c, st, sql, p, n, err);
	const char **names = NULL, **text = NULL;
	ca_sql_type *types = NULL;
	size_t *lens = NULL;
	size_t ncol = 0;
	while (!r) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = db_error(c, rc, sql, err);
			break;
		}
		if (!fn)
			continue;
		/* The columns are read at the first row, not before the first
		 * step: a step may prepare the statement again (the schema
		 * changed: another connection's migration or trigger, a
		 * temp_store change), which frees the names read before. */
		if (!names) {
			ncol = (size_t)sqlite3_column_count(st);
			names = calloc(ncol + 1, sizeof(*names));
			text = calloc(ncol + 1, sizeof(*text));
			types = calloc(ncol + 1, sizeof(*types));
			lens = calloc(ncol + 1, sizeof(*lens));
			if (!names || !text || !types || !lens) {
				r = ca_err_set(err, CA_ENOMEM, "sql", "out of memory running \"%.80s\"", sql);
				break;
			}
			for (size_t i = 0; i < ncol; i++)
				names[i] = sqlite3_column_name(st, (int)i);
		}
		for (size_t i = 0; i < ncol; i++) {
			/* The type first: reading the text converts the value. */
			switch (sqlite3_column_type(st, (int)i)) {
			case SQLITE_INTEGER:
				types[i] = CA_SQL_INT;
				break;
			case SQLITE_FLOAT:
				types[i] = CA_SQL_REAL;
				break;
			case SQLITE_NULL:
				types[i] = CA_SQL_NULL;
				break;
			case SQLITE_BLOB:
				types[i] = CA_SQL_BLOB;
				break;
			default:
				types[i] = CA_SQL_TEXT;
				break;
			}
			if (types[i] == CA_SQL_BLOB) {
				text[i] = sqlite3_column_blob(st, (int)i);
				/* a zero-length BLOB reads as NULL: give it an address */
				if (!text[i])
					text[i] = "";
			} else {
				text[i] = (const char *)sqlite3_column_text(st, (int)i);
			}
			lens[i] = (size_t)sqlite3_column_bytes(st, (int)i);
			if (!text[i] && types[i] != CA_SQL_NULL) {
				r = ca_err_set(err, CA_ENOMEM, "sql", "out of memory reading a row of \"%.80s\"", sql);
				break;
			}
		}
		if (r)
			break;
		ca_sql_row row = { .n = ncol, .names = names, .text = text, .types = types, .lens = lens };
		if (fn(&row, ud) != 0)
			break;
	}
	if (!r)
		c->changes = sqlite3_changes64(c->db);
	free(names);
	free(text);
	free(types);
	free(lens);
	release(c, st, owned, slot);
	return r;
}

static int sq_exec(void *p, const char *sql, const ca_sql_param *params, size_t n, ca_err *err)
{
	return run(p, sql, params, n, NULL, NULL, err);
}

static int sq_query(void *p, const char *sql, const ca_sql_param *params, size_t n, ca_sql_row_fn fn,
		    void *ud, ca_err *err)
{
	return run(p, sql, params, n, fn, ud, err);
}

static int64_t sq_changes(void *p)
{
	return ((conn *)p)->changes;
}

/* Bulk mode (ca_sql_driver.bulk): a bigger page cache for the indexes a
 * million-record import touches, and checkpoints far less often: every
 * batch rewrites index pages all over the B-trees, and a checkpoint after
 * each would copy them all back to the database file each time. Leaving
 * bulk mode checkpoints and truncates the WAL it grew. */
static int sq_bulk(void *p, bool on, ca_err *err)
{
	conn *c = p;
	return pragma(c, on ? "PRAGMA cache_size=-98304; PRAGMA wal_autocheckpoint=32768"
			    : "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=1000; PRAGMA wal_checkpoint(TRUNCATE)",
		      "bulk mode", err);
}

/* Temporary files in memory (ca_sql_driver.temp_in_memory): an e-mail
 * batch's per-message savepoints journal some 300 KiB of pages a message,
 * which SQLite's default writes to a temporary file past 64 KiB (three
 * quarters of the batch's write calls). Held in memory, a journal is
 * emptied when its message's savepoint is released, so it holds one
 * message's pages at most. */
static int sq_temp_in_memory(void *p, bool on, ca_err *err)
{
	conn *c = p;
	const char *sql = on ? "PRAGMA temp_store=MEMORY" : "PRAGMA temp_store=DEFAULT";
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_error(c, rc, sql, err);
}

/* Checkpoints (ca_sql_driver.checkpoint). A server defers its request
 * threads' checkpoints (wal_autocheckpoint=0: SQLite's default has the
 * commit that crosses 1000 WAL pages copy them back, a stall that lands on
 * one unlucky request) and runs them from a thread of its own: PASSIVE,
 * which waits for nobody. Under a steady stream of writers that is not
 * enough: SQLite starts the log over only when a writer finds every frame
 * copied back, and another writer has always appended since, so the log
 * grows without end (1.5 GB in 20 s of the HTTP benchmark, each new block
 * zeroed by the file system on the way). Past CKPT_RESTART_FRAMES the
 * checkpoint is RESTART instead: it holds new writers back for the copy
 * (they wait in the busy handler, a few milliseconds) so the next one
 * starts the log over, and journal_size_limit trims the file after. */
#define CKPT_RESTART_FRAMES 500

static int sq_checkpoint(void *p, int how, ca_err *err)
{
	conn *c = p;
	switch (how) {
	case CA_CKPT_DEFER:
	case CA_CKPT_AUTO: {
		/* Not through pragma(): its message is about opening a database. */
		const char *sql = how == CA_CKPT_DEFER ? "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864"
						       : "PRAGMA wal_autocheckpoint=1000";
		int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		return rc == SQLITE_OK ? 0
				       : ca_err_set(err, map_code(rc), "checkpoint", "cannot set the checkpoint mode: %s",
						    sqlite3_errmsg(c->db));
	}
	default: {
		int log = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc == SQLITE_OK && log > CKPT_RESTART_FRAMES)
			rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
		unstamp(c);
		/* BUSY: another checkpoint is running, or the readers outlasted
		 * the busy timeout: the next round does the same work. */
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			return ca_err_set(err, CA_EDB, "checkpoint", "checkpoint failed: %s", sqlite3_errmsg(c->db));
		return 0;
	}
	}
}

/* Whether another connection is waiting for the write lock right now (its
 * stamp_wait is fresh). */
static bool sq_contended(void *p)
{
	conn *c = p;
	if (c->wl && atomic_load(&c->wl->waiting) > 0)
		return true;
	if (!c->wait_path)
		return false;
	if (c->wait_fd < 0 && (c->wait_fd = open(c->wait_path, O_RDONLY | O_CLOEXEC)) < 0)
		return false; /* no writer has waited yet */
	int64_t t = 0;
	if (pread(c->wait_fd, &t, sizeof(t), 0) != (ssize_t)sizeof(t))
		return false;
	int64_t age = now_ns() - t;
	return age >= 0 && age < WAITING_NS;
}

static uint64_t sq_work(void *p)
{
	return ((conn *)p)->vm_steps;
}

static int sq_exec_script(void *p, const char *sql, ca_err *err)
{
	conn *c = p;
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	int r = ca_err_set(err, map_code(sqlite3_extended_errcode(c->db)), "sqlite", "sqlite: %s",
			   msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return r;
}

const ca_sql_driver ca_sqlite_driver = {
	.version = CA_SQL_DRIVER_VERSION,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.query = sq_query,
	.changes = sq_changes,
	.exec_script = sq_exec_script,
	.work = sq_work,
	.bulk = sq_bulk,
	.checkpoint = sq_checkpoint,
	.temp_in_memory = sq_temp_in_memory,
	.contended = sq_contended,
};
