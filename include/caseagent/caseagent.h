/* SPDX-License-Identifier: MIT */
/*
 * The public API of caseagent: everything the `caseagent` command (and later
 * the HTTP server) may call. An agent is an open database plus the settings
 * and predictor loaded from it. Results of commands are JSON documents
 * (UTF-8 text, caller frees with free()) whose shapes are given per call and
 * in docs/; this keeps the API small and stable and gives scripts --json for
 * free. Errors: negative CA_E* codes with detail in the optional ca_err.
 * Thread-safety: one ca_agent per thread.
 */
#ifndef CASEAGENT_H
#define CASEAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "caseagent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_VERSION "0.1.0"

typedef struct ca_agent ca_agent;

/*
 * Open (creating and migrating if needed) the SQLite database at `db_path`
 * and load its settings, directory and trained models. A database without
 * settings opens fine; commands that need settings fail with CA_ESTATE
 * saying to run `caseagent settings import`. Caller frees with ca_agent_close.
 */
int ca_agent_open(const char *db_path, ca_agent **ret, ca_err *err);
void ca_agent_close(ca_agent *a);

/* Progress callback for long runs: done of total units (total 0 = unknown). */
typedef void (*ca_progress_fn)(size_t done, size_t total, void *ud);

/* ---- settings (docs/settings.md) ---- */

/* Validate and store settings from a JSON file. Errors name the key
 * (err->where, e.g. "fields[2].type"); nothing is stored on error. */
int ca_settings_import_file(ca_agent *a, const char *path, ca_err *err);
/* The stored settings as canonical JSON text. CA_ENOTFOUND before import. */
int ca_settings_export(ca_agent *a, char **ret_json, ca_err *err);

/* ---- directory and history import ---- */

/*
 * Import records of `kind` ("contacts", "accounts", "products", "subjects",
 * "cases") from a CSV file (RFC 4180, header row; by the .csv extension) or
 * JSON Lines (one object per line). All or nothing: one transaction; an
 * error names the file, line and key, and leaves the database unchanged.
 * *ret_json: {"kind","imported":N,"file"}.
 */
int ca_import_file(ca_agent *a, const char *kind, const char *path, char **ret_json, ca_err *err);

/* ---- chat lifecycle (ARCHITECTURE §3, docs/transcript-format.md) ---- */

/*
 * Apply one chat event, given as JSON text:
 *   {"id": "e1", "type": "open"|"message"|"accept"|"update"|"wrapup"|"close"|"link",
 *    "conversation": "c1", "message": {"id","role","text"} (type message),
 *    "case": "CAS-00001" (type link), "actor": "rep name", "identity": "C-1" (open)}
 * One transaction per event; an event id seen before returns the stored
 * result and changes nothing. *ret_json (caller frees) is the result:
 *   {"event","type","conversation","state","case": "CAS-.."|null,
 *    "created": bool, "changed": [{"field","old","new","confidence","method",
 *    "evidence"}], "no_changes": bool, "missing": [{"field","reason"}],
 *    "note": bool, "replayed": bool}
 */
int ca_chat_event(ca_agent *a, const char *event_json, char **ret_json, ca_err *err);

typedef struct ca_replay_opts {
	unsigned accept_after;   /* customer messages before accept (default 2) */
	unsigned update_every;   /* messages between updates after accept (default 4) */
	ca_progress_fn progress;
	void *progress_ud;
} ca_replay_opts;

/*
 * Drive the lifecycle from a transcript JSONL file (every line validated
 * before anything is written). *ret_json: {"conversations","events",
 * "cases_created","created_at":{"accept":N,"update":N,"wrapup":N,"close":N},
 * "withheld","fields_filled","no_change_updates","notes_written",
 * "conversations_detail":[{"conversation","case","created_at_event",
 * "created_after_message"}]}.
 */
int ca_chat_replay(ca_agent *a, const char *path, const ca_replay_opts *opts, char **ret_json, ca_err *err);

/* ---- cases ---- */

/* {"cases":[case...]} newest first; limit 0 = all. */
int ca_case_list(ca_agent *a, size_t limit, char **ret_json, ca_err *err);
/* One case with provenance and notes:
 * {"id","ticket_number","version","fields":{},"provenance":{},"notes":[]}. */
int ca_case_show(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err);
/*
 * A person's edit of one field (people win: the agent never overwrites it
 * after). `expected_version` 0 = don't check; otherwise CA_ECONFLICT when
 * the case moved on. Lookup values are checked (unknown contact id: CA_EINVAL
 * naming it); option values must be one of the options.
 * *ret_json: {"case","field","old","new","version"}.
 */
int ca_case_edit(ca_agent *a, const char *case_ref, const char *field, const char *value,
		 const char *actor, int64_t expected_version, char **ret_json, ca_err *err);
/*
 * Resolution, as a person does it (audited; one transaction):
 *   resolve:    an open case -> "resolved"; `resolution` (required) says how
 *               the problem was solved and is kept as a "resolution" note;
 *   cancel:     an open case -> "cancelled" (reason optional);
 *   reactivate: a resolved or cancelled case -> "active".
 * CA_ESTATE when the case is not in a status the step starts from.
 * *ret_json: {"case","old_status","status","reason","version"}.
 */
int ca_case_resolve(ca_agent *a, const char *case_ref, const char *resolution, const char *actor, char **ret_json,
		    ca_err *err);
int ca_case_cancel(ca_agent *a, const char *case_ref, const char *reason, const char *actor, char **ret_json,
		   ca_err *err);
int ca_case_reactivate(ca_agent *a, const char *case_ref, const char *actor, char **ret_json, ca_err *err);

/* {"case","audit":[{"field","old_value","new_value","source","actor",
 *  "confidence","method","evidence","at"}]} oldest first. */
int ca_case_audit(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err);

/* ---- learning and evaluation ---- */

/*
 * Train option-set models from resolved cases (liblinear). Needs at least
 * `min_examples` labelled resolved cases per field (0 = default 20).
 * *ret_json: {"trained":{"field":{"examples":N,"classes":K}},"skipped":{...}}.
 */
int ca_train(ca_agent *a, size_t min_examples, char **ret_json, ca_err *err);

typedef struct ca_simulate_opts {
	unsigned accept_after, update_every; /* as for replay */
	unsigned repeat;                      /* run the file this many times (bench) */
	bool all_fields;                      /* score every labelled field, as if
						 every update rule held */
	ca_progress_fn progress;
	void *progress_ud;
} ca_simulate_opts;

/*
 * Run the agent over labelled transcripts without writing anything and
 * score it. *ret_json:
 *   {"conversations":N,
 *    "fields":{"name":{"precision","recall","f1","support",
 *                      "in_text":{"precision","recall","f1","support"}}},
 *    "creation":{"created","withheld","created_with_missing_field",
 *                "by_event":{...},"withheld_missing":{"field":N}},
 *    "per_conversation":[...], "seconds", "conversations_per_second"}
 * Precision, recall and F1 compare the case's final value with the label;
 * a field counts where it applies (a default field, or an update-rule field
 * whose rule holds on the labelled values).
 */
int ca_simulate(ca_agent *a, const char *path, const ca_simulate_opts *opts, char **ret_json, ca_err *err);

/* ---- e-mail channel (ARCHITECTURE §3; docs/settings.md "email", "arc_rules") ---- */

typedef struct ca_email_opts {
	const char *mailbox;     /* the receiving mailbox/queue, for ARC rules (may be NULL) */
	ca_progress_fn progress;
	void *progress_ud;
} ca_email_opts;

/*
 * Ingest every message at `path`: an .eml file, a directory (recursively),
 * an mbox file, a Maildir, or "-" for one message on standard input. Each
 * message is one transaction and gets one activity-log row; a message that
 * cannot be parsed is kept raw with the reason. The same message twice is a
 * duplicate, never a second case. *ret_json: {"path","emails",
 * "outcomes":{"created","updated","attached","skipped"},"emails_detail":
 * [{"origin","email_id","message_id","outcome","reason","rule","case","changed"}]}.
 * Errors are the database's only (the message is then not recorded at all,
 * so a retry loses nothing).
 */
int ca_email_ingest_path(ca_agent *a, const char *path, const ca_email_opts *opts, char **ret_json, ca_err *err);
/* One message given as bytes; the result is one element of emails_detail. */
int ca_email_ingest_raw(ca_agent *a, const char *raw, size_t len, const char *origin, const char *mailbox,
			char **ret_json, ca_err *err);
/* The activity monitor, newest first: {"log":[{"id","email_id","origin",
 * "outcome","reason","rule","case","from_addr","subject","at"}]}. */
int ca_email_log(ca_agent *a, size_t limit, char **ret_json, ca_err *err);
/* One stored e-mail with its attachments (metadata). */
int ca_email_show(ca_agent *a, int64_t id, char **ret_json, ca_err *err);
/* Automatic responses queued or sent: {"outbox":[...]}. */
int ca_outbox(ca_agent *a, char **ret_json, ca_err *err);

/* A mail server to poll (IMAP) or send through (SMTP). Strings are
 * borrowed for the call. */
typedef struct ca_mail_server {
	const char *url;          /* imap[s]://HOST[:PORT]/MAILBOX or smtp[s]://HOST[:PORT]; no password in it */
	const char *user;         /* NULL: no login */
	const char *password;     /* never logged or stored */
	const char *mailbox_name; /* IMAP: the receiving address or queue ARC rules see as "mailbox"
				     (like ca_email_opts.mailbox), may be NULL; unused for SMTP */
} ca_mail_server;

/*
 * Poll an IMAP mailbox (RFC 3501) once: for each message without \Seen, in
 * UID order and at most `limit` of them (0 = all), fetch it without
 * setting \Seen (BODY.PEEK[]), ingest it as ca_email_ingest_raw does (one
 * transaction, committed), and only then set \Seen. A crash or a database
 * error between fetch and commit leaves the message unseen, so the next
 * poll takes it again, and ingest is idempotent by Message-ID, so nothing
 * is lost and nothing doubled. A database error stops the poll (the error
 * names the UID); a message the server cannot deliver intact is listed
 * under "failed", left unseen, and the poll goes on. The mailbox's
 * UIDVALIDITY is recorded per user, server and mailbox; a change is
 * reported ("uidvalidity_changed") and harmless, since \Seen, not UIDs,
 * marks what is done.
 * *ret_json: {"server","mailbox","uidvalidity","uidvalidity_changed",
 * "unseen":N,"ingested":N,"outcomes":{"created","updated","attached",
 * "skipped"},"failed":[{"uid","error"}],"emails_detail":[{...,"uid"}]}
 * (emails_detail elements as ca_email_ingest_raw's, plus the UID).
 * Errors: CA_ESTATE (no settings or e-mail disabled), CA_EINVAL (URL),
 * CA_EIO naming server, mailbox and UID, CA_EDB.
 * Test hook: with CA_TEST_CRASH_AFTER_FETCH=N in the environment the
 * process ends with _exit(3) right after fetching the Nth message, before
 * ingesting it (tests/cli/cli_email_net.sh).
 */
int ca_email_poll(ca_agent *a, const ca_mail_server *srv, size_t limit, char **ret_json, ca_err *err);

/*
 * Send the outbox through SMTP (RFC 5321): every message queued, and every
 * failed one with fewer than CA_OUTBOX_MAX_ATTEMPTS attempts, is composed
 * as RFC 5322 text (Date, a Message-ID of our own, From, To, Subject as
 * RFC 2047 encoded words when not ASCII, the stored headers such as
 * Auto-Submitted, In-Reply-To and References, text/plain; charset=utf-8),
 * sent, then marked sent and stored as an outgoing e-mail of its case, so
 * a reply with In-Reply-To our Message-ID threads. Automatic responses
 * (Auto-Submitted other than "no") go out with the null envelope sender
 * (MAIL FROM:<>, RFC 3834 §3.3), so bounces of them never loop back. A
 * failure marks the message failed with the reason and counts an attempt;
 * the others are still tried. At least once: a crash after the server
 * accepted a message but before it was marked sent sends it again.
 * *ret_json: {"server","attempted":N,"sent":N,"failed":N,"messages":
 * [{"id","to","subject","case","status","message_id","email_id","error"}]}.
 * Errors (the run itself): CA_EINVAL (URL), CA_EDB.
 */
#define CA_OUTBOX_MAX_ATTEMPTS 5
int ca_outbox_send(ca_agent *a, const ca_mail_server *smtp, char **ret_json, ca_err *err);

/* Agent interaction log for reports: {"interactions":[...]}. */
int ca_interactions(ca_agent *a, const char *conversation, char **ret_json, ca_err *err);

#ifdef __cplusplus
}
#endif
#endif
