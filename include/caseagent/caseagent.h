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

/*
 * For a server whose threads each hold an agent: `a`'s commits stop
 * copying the write-ahead log back into the database file as they go
 * (defer true; SQLite's wal_autocheckpoint 0), so no request pays for a
 * checkpoint, and a background thread calls ca_checkpoint instead; defer
 * false restores the default. ca_checkpoint: copy what is committed into
 * the database now, waiting for no reader or writer (SQLite
 * wal_checkpoint PASSIVE; another checkpoint already running is not an
 * error). Both CA_EDB on failure.
 */
int ca_agent_defer_checkpoints(ca_agent *a, bool defer, ca_err *err);
int ca_checkpoint(ca_agent *a, ca_err *err);

/*
 * Group commit, for a server's chat feed (src/server/server.c): between
 * ca_agent_batch_begin and ca_agent_batch_end, each ca_chat_event* call is
 * a savepoint of one transaction (all or nothing on its own, as outside a
 * batch, and its replay answered as one), and nothing of them is durable
 * or seen by other connections until end(commit true) commits them all.
 * end(commit false), or a commit that fails, undoes every event of the
 * batch and forgets what the agent kept in memory of them. One commit a
 * batch writes each page the events touched into the write-ahead log
 * once, not once an event. contended: another writer waits for the write
 * lock now (end the batch to let it in). begin: CA_ESTATE inside a
 * transaction, CA_EDB; end: CA_ESTATE without a batch, CA_EDB when the
 * commit fails (nothing of the batch is then kept); 0 after an undo.
 */
int ca_agent_batch_begin(ca_agent *a, ca_err *err);
int ca_agent_batch_end(ca_agent *a, bool commit, ca_err *err);
bool ca_agent_batch_contended(ca_agent *a);

/*
 * For a server whose threads each hold an agent (src/casemgmt/interactions.c):
 * the interaction-log rows of decisions that write nothing else (an Update
 * from conversation with no changes) go into a queue the agents share, and
 * one thread writes them in one transaction (ca_interactions_flush), so such
 * a request takes no write lock and leaves the other connections' page
 * caches warm. Each row keeps the time it was decided. The agent's own
 * readers of the log (ca_interactions, ca_conversation_show,
 * ca_report_agent) flush first. Rows still queued when the process is
 * killed are lost (at most one flush interval); flush before freeing.
 * new: CA_ENOMEM. defer: q NULL = write at once again; q is borrowed and
 * must outlive the agent's use of it. flush: writes the rows of a's queue
 * (none: returns 0); on failure they stay queued and the error is
 * returned (CA_EDB, CA_EBUSY).
 */
typedef struct ca_interaction_queue ca_interaction_queue;
int ca_interaction_queue_new(ca_interaction_queue **ret, ca_err *err);
void ca_interaction_queue_free(ca_interaction_queue *q);
void ca_agent_defer_interactions(ca_agent *a, ca_interaction_queue *q);
int ca_interactions_flush(ca_agent *a, ca_err *err);

/* Progress callback for long runs: done of total units (total 0 = unknown). */
typedef void (*ca_progress_fn)(size_t done, size_t total, void *ud);

/* ---- settings (docs/settings.md) ---- */

/* Validate and store settings from a JSON file. Errors name the key
 * (err->where, e.g. "fields[2].type"); nothing is stored on error. */
int ca_settings_import_file(ca_agent *a, const char *path, ca_err *err);
/* The same from `len` bytes of JSON text (PUT /settings): duplicate keys
 * and bad JSON are CA_EPARSE naming line and column; the same validation,
 * refused whole naming the key. Every other open agent on the database
 * (another thread's, another process's) takes the new settings at its next
 * call (ca_agent_ready reads the settings generation). */
int ca_settings_import_text(ca_agent *a, const char *json, size_t len, ca_err *err);
/* The stored settings as canonical JSON text. CA_ENOTFOUND before import. */
int ca_settings_export(ca_agent *a, char **ret_json, ca_err *err);

/* ---- directory and history import ---- */

/*
 * Import records of `kind` ("contacts", "accounts", "products", "subjects",
 * "cases") from a CSV file (RFC 4180, header row; by the .csv extension; a
 * UTF-8 byte order mark is skipped) or JSON Lines (one object per line);
 * path "-" is stdin. The whole file is validated first (an id given twice is
 * an error naming both lines); a file with any error writes nothing, and
 * the error names the file, line and key. Directory kinds then stream in
 * batches holding the write lock at most 0.25 s each (memory does not grow
 * with the file); a database failure mid-way keeps the batches committed,
 * each record whole, says how many, and the same import run again
 * completes it (upsert by id). Cases: one transaction.
 * *ret_json: {"kind","imported":N,"file"} (directory kinds: and "batches").
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
 *    "suggestions": [{"field","value","display","confidence","threshold",
 *    "method","evidence"}] (values predicted below their field's threshold,
 *    so not written), "note": bool, "replayed": bool}
 */
int ca_chat_event(ca_agent *a, const char *event_json, char **ret_json, ca_err *err);
/* The same for an event already parsed (a jansson json_t, borrowed): *ret
 * is the result as a new reference, for a caller that reads it before
 * answering (the server's metrics), so the event and its result are not
 * written out as text and read back. */
struct json_t;
int ca_chat_event_json(ca_agent *a, const struct json_t *event, struct json_t **ret, ca_err *err);

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
 * {"id","ticket_number","version","fields":{},"provenance":{},"notes":[],
 *  "suggestions":[...]}: suggestions as in ca_chat_event's result, what the
 * agent predicts from the case's conversation now but may not write (below
 * the threshold); empty for a case without a conversation. "display":
 * {"field": "name"} the display name of each lookup value (a contact's
 * full name; an account's, product's or subject's name) and of the
 * customer, read by primary key; a value whose record is gone has none. */
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

/* ---- knowledge (ARCHITECTURE §5; docs/settings.md "knowledge") ---- */

/*
 * Resolving a case runs the knowledge agent at once (when
 * knowledge.realtime_cases is on); ca_case_resolve's result then has
 * "knowledge": {"outcome": "drafted"|"published"|"covered"|"filtered"|
 * "insufficient content"|"off"|"error", "article", "similarity", ...}.
 */
/* {"articles":[...]} in a state (NULL: all but discarded), newest first. */
int ca_knowledge_list(ca_agent *a, const char *state, char **ret_json, ca_err *err);
/* One article (by "KA-00001" or id) with its sources. */
int ca_knowledge_show(ca_agent *a, const char *ref, char **ret_json, ca_err *err);
/*
 * A reviewer's change, as a JSON object: any of title, issue, cause,
 * resolution, state (draft, in_review, published, archived, discarded),
 * compliance (pending, compliant, non_compliant), audience (internal,
 * external), owner, "bump_minor": true, "rating": 1-5. Publishing a
 * non-compliant or pending article is refused (CA_ESTATE) by the store
 * itself. Published means reviewed: a content change of a published article
 * is a new minor version in review beside it ("pending_version" in the
 * result), with its own compliance; readers keep the published version
 * until that one is compliant and published; "discarded" rejects it. The
 * owner (or the current owner of the case it was drafted from) is notified.
 * Keywords are drawn again from the new text.
 */
int ca_knowledge_change(ca_agent *a, const char *ref, const char *changes_json, char **ret_json, ca_err *err);
/* Published articles ranked for a query (BM25); audience "external" sees
 * only external articles. {"query","audience","results":[{"article",
 * "title","score" (cosine similarity to the query, 0 to 1),"bm25"}]}. */
int ca_knowledge_search(ca_agent *a, const char *query, const char *audience, size_t limit, char **ret_json,
			ca_err *err);
/* Knowledge insights: {"articles": {"by_state", "by_source", "published",
 * "rated", "average_rating", "to_revise": [{"number","title",
 * "average_rating"}]} (to revise: average rating 2 or less),
 * "total" (every article, whatever its state)}, "resolved_cases",
 * "resolved_cases_linked", "coverage" (share of resolved cases an article
 * was drafted from or covers), "harvest_jobs": [...]}. */
int ca_knowledge_insights(ca_agent *a, char **ret_json, ca_err *err);
/*
 * Knowledge de-duplication on StackFAQ threads (a threads.jsonl, or its
 * folder): {"covered_top1", "covered_at_threshold", "one_article_per_thread",
 * "new_articles", "threshold", "sweep": [...], ...}. threshold <= 0 takes
 * knowledge.coverage_threshold (0.35 without settings). Writes nothing.
 */
int ca_eval_dedup(ca_agent *a, const char *path, double threshold, char **ret_json, ca_err *err);
/*
 * `eval gaps` (src/eval/eval_gaps.c): gap detection's grouping of labelled
 * conversations (a Twitter customer-care dev.json, or ABCD's
 * conversations.json, or their folder) harvested as resolved cases on a
 * scratch database, scored with B-cubed precision, recall and F1 against
 * the issue labels, beside one article per conversation. part: "all"
 * (NULL), "tune" or "test" (the issues at even or odd positions of first
 * appearance). threshold <= 0: the caller's knowledge.coverage_threshold
 * (0.35 without settings). *ret_json: {"records","issues","articles",
 * "bcubed": {"precision","recall","f1"}, "baseline_one_per_record": {...},
 * "covered_across_issues","new_steps_across_issues", ...}. Writes nothing
 * to the caller's database.
 */
int ca_eval_gaps(ca_agent *a, const char *path, const char *part, double threshold, char **ret_json, ca_err *err);

/* In-app notifications (review requests, proposed versions), newest first. */
int ca_notifications(ca_agent *a, const char *recipient, char **ret_json, ca_err *err);

/*
 * Historical harvest (issue 4, item 8): the knowledge agent over every
 * resolved or closed case, oldest first, at most CA_HARVEST_MAX_RECORDS per
 * job. A job is persisted; each record's outcome, its log row and the job's
 * counters and cursor commit together, so a job killed at any point (even
 * kill -9) and run again continues after its last record: every record is
 * processed exactly once and no issue is drafted twice.
 *
 * start: a new job (state "running") over the records there are now; source
 *   "cases" ("conversations": CA_EUNSUPPORTED for now); rule NULL = any
 *   knowledge rule, else one by name (CA_EINVAL if there is none).
 * run: work a job to its end, or until it is stopped; also resumes a
 *   stopped, failed or interrupted job. `progress` (may be NULL) is called
 *   after each committed record with (processed, total). Not thread-safe
 *   with other calls on the same agent.
 * stop: set a running job's stop flag (state "stopped"); a run in any
 *   process returns after its current batch. CA_ESTATE for a finished job.
 * status: job_id 0 = every job. {"jobs":[{"id","source","rule","state",
 *   "total","processed","created","covered","filtered","insufficient",
 *   "errors","last_case_id","started_at","updated_at","finished_at",
 *   "records_per_second"}]}; run and stop return one such job object (run
 *   adds "this_run": {"processed","seconds","records_per_second"}).
 * log: {"job","outcome","log":[{"record_type","record_id","case","outcome"
 *   (created|covered|filtered|insufficient|error),"article","reason","at"}]},
 *   optionally one outcome only, at most `limit` rows (0 = all).
 */
#define CA_HARVEST_MAX_RECORDS 100000
int ca_knowledge_harvest_start(ca_agent *a, const char *source, const char *rule, int64_t *ret_job, ca_err *err);
int ca_knowledge_harvest_run(ca_agent *a, int64_t job_id, ca_progress_fn progress, void *ud, char **ret_json,
			     ca_err *err);
int ca_knowledge_harvest_stop(ca_agent *a, int64_t job_id, char **ret_json, ca_err *err);
int ca_knowledge_harvest_status(ca_agent *a, int64_t job_id, char **ret_json, ca_err *err);
int ca_knowledge_harvest_log(ca_agent *a, int64_t job_id, const char *outcome, size_t limit, char **ret_json,
			     ca_err *err);
/*
 * ca_knowledge_harvest_run that also returns after the current batch once
 * *cancel is non-zero (set by another thread, e.g. serve on SIGTERM; NULL:
 * never). A cancelled job stays "running", so the next run, in this or
 * another process, continues after its last committed batch; the result
 * then has "cancelled": true.
 */
int ca_knowledge_harvest_run_cancel(ca_agent *a, int64_t job_id, const volatile int *cancel, ca_progress_fn progress,
				    void *ud, char **ret_json, ca_err *err);

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

/*
 * Calibrate the confidences of option fields on labelled transcripts (the
 * simulate format, docs/transcript-format.md): each field with at least
 * `min_examples` (0: 10) labelled conversations gets an isotonic map from
 * its raw confidence to the share of such values that were right, stored
 * with the trained models and applied from then on (ca_embedded_calibrate).
 * Training again (ca_train) replaces the models and drops the maps.
 * *ret_json: {"calibrated": {"field": {"examples", "bins", "ece_before",
 * "ece_after", "steps"}}, "skipped": {"field": {"examples", "reason"}}}.
 * Calibrate on a training split and measure with ca_simulate on another.
 */
int ca_calibrate(ca_agent *a, const char *path, size_t min_examples, char **ret_json, ca_err *err);

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
 *                      "in_text":{"precision","recall","f1","support"},
 *                      "calibration" (option fields):{"ece","bins":10,"n",
 *                        "mean_confidence","accuracy","reliability":
 *                        [{"from","to","n","confidence","accuracy"}]}}},
 *    "creation":{"created","withheld","created_with_missing_field",
 *                "by_event":{...},"withheld_missing":{"field":N}},
 *    "per_conversation":[...], "seconds", "conversations_per_second"}
 * Calibration: the expected calibration error (Naeini et al. 2015, Guo et
 * al. 2017) of each option field's top prediction at close, over 10
 * equal-width confidence bins, from the first repeat.
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
 * message is all or nothing and gets one activity-log row; a message that
 * cannot be parsed is kept raw with the reason. The same message twice is a
 * duplicate, never a second case. Messages are committed in batches of at
 * most 0.25 s of work (each message a savepoint in its batch's transaction;
 * a batch ends early for another writer waiting), one transaction each when
 * a spam filter is to be asked; events and results are those of one
 * transaction a message. A failed message is undone alone and the batch
 * before it committed; a crash loses the open batch whole, which the next
 * run ingests as new. *ret_json: {"path","emails",
 * "outcomes":{"created","updated","attached","skipped","spam","held"},"emails_detail":
 * [{"origin","email_id","message_id","outcome","reason","rule","case","changed"}]}.
 * Errors are the database's only (the message is then not recorded at all,
 * so a retry loses nothing). Spam (email.spam: a header's verdict, or the
 * spamd or rspamd the settings name) is stored and logged with outcome
 * "spam" and held: no case, no response, no update to a case, until a
 * person releases it (ca_email_release). A filter that cannot be asked
 * leaves the message "not spam-checked", processed as usual or, with
 * on_failure "hold", held with outcome "held".
 */
int ca_email_ingest_path(ca_agent *a, const char *path, const ca_email_opts *opts, char **ret_json, ca_err *err);
/* One message given as bytes; the result is one element of emails_detail. */
int ca_email_ingest_raw(ca_agent *a, const char *raw, size_t len, const char *origin, const char *mailbox,
			char **ret_json, ca_err *err);
/* The activity monitor, newest first: {"log":[{"id","email_id","origin",
 * "outcome","reason","rule","case","from_addr","subject","spam_source",
 * "spam_score","actor","at"}]}. */
int ca_email_log(ca_agent *a, size_t limit, char **ret_json, ca_err *err);
/* One stored e-mail with its attachments (metadata) and its spam verdict
 * ("spam_status","spam_source","spam_score","spam_threshold","spam_detail",
 * "held","released_by","released_at"). */
int ca_email_show(ca_agent *a, int64_t id, char **ret_json, ca_err *err);
/*
 * Release a held e-mail (spam, or held unchecked): `actor` (required) is
 * recorded on the e-mail and in its new log row, and the message is then
 * decided as new mail is (threading, ARC rules, response) in one
 * transaction. CA_ESTATE when it is not held (never, or released already),
 * CA_ENOTFOUND. *ret_json: {"email_id","message_id","outcome","reason",
 * "rule","case","changed","released_by"}.
 */
int ca_email_release(ca_agent *a, int64_t id, const char *actor, char **ret_json, ca_err *err);
/* The e-mails held now, newest first (limit 0: all): {"held":[{"id",
 * "from_addr","subject","received_at","spam_status","spam_source",
 * "spam_score","spam_threshold"}]}. */
int ca_email_held(ca_agent *a, size_t limit, char **ret_json, ca_err *err);
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
	/* TLS is required (implicit, or STARTTLS: a server offering none is
	 * refused). true lets a server without TLS be used in plain text, and
	 * is itself refused (CA_EINVAL) unless the host is loopback
	 * (127.0.0.0/8, ::1, localhost): for test servers on this machine. */
	bool allow_plaintext;
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

/*
 * The background e-mail work of `caseagent serve`, with the servers the
 * settings name (docs/settings.md: "email.imap", "email.smtp"): one
 * ca_email_poll (at most `limit` messages, 0 = all) or one ca_outbox_send.
 * The password is read at each call from the settings' password_file (its
 * first line, at most 4096 bytes), wiped after, and never logged, stored or
 * put in an error. Every run that got as far as the server, or failed to
 * read the password file, is recorded in the database for ca_email_status
 * (run time, success time, the error's text, the result's counts), so each
 * serve process on the database reports the same state. *ret_json: the
 * result of ca_email_poll or ca_outbox_send. Errors: CA_ESTATE (no
 * settings, or the server is not configured; nothing recorded), CA_EIO
 * naming the password file, and those of ca_email_poll / ca_outbox_send.
 */
int ca_email_poll_configured(ca_agent *a, size_t limit, char **ret_json, ca_err *err);
int ca_outbox_send_configured(ca_agent *a, char **ret_json, ca_err *err);
/*
 * The state of the background e-mail work, from the database:
 * {"imap":{"configured": bool,"url","interval_s","runs","last_run_at",
 * "last_ok_at","last_error","last_result":{...counts}|null},"smtp":{same},
 * "outbox":{"queued","failed","sent"}}. url and interval_s are the
 * settings' (null, 0 when not configured); the rest is the last runs' of
 * any process (null before the first). IMAP counts: "unseen","ingested",
 * "failed" and "outcomes"; SMTP: "attempted","sent","failed". Times ISO
 * 8601 UTC. Works without settings (nothing configured).
 */
int ca_email_status(ca_agent *a, char **ret_json, ca_err *err);

/* Agent interaction log for reports: {"interactions":[{"id",
 * "conversation_id","case_id","action","outcome","detail","at"}]}, oldest
 * first: every row of `conversation`, or with conversation NULL the newest
 * 200 rows only (figures for a period: ca_report_agent). */
int ca_interactions(ca_agent *a, const char *conversation, char **ret_json, ca_err *err);

/* ---- PII (ARCHITECTURE §5; src/pii/pii.h for the recognisers) ---- */

/*
 * Remove personal data from `text` (NUL-terminated UTF-8): e-mail addresses
 * (RFC 5322 addr-spec, simplified), phone numbers (ITU-T E.164 lengths,
 * 7-15 digits, national and international spellings; not dates, times or
 * amounts), payment cards (13-19 digits, or 12 next to a card word;
 * ISO/IEC 7812-1 Luhn), IBANs (ISO 13616 country lengths, ISO 7064
 * MOD 97-10), US SSNs (SSA area/group/serial rules), IPv4/IPv6 addresses,
 * street addresses, person names (the agent's contacts, cue phrases,
 * signatures, Debian word lists), and account and order numbers where the
 * settings have a "pattern" field whose name says account or order. Each
 * span becomes a typed placeholder: "[EMAIL]", "[PHONE]", "[CREDIT_CARD]",
 * "[IBAN]", "[US_SSN]", "[IP_ADDRESS]", "[STREET_ADDRESS]", "[PERSON]",
 * "[ACCOUNT_NUMBER]", "[ORDER_NUMBER]"; overlapping findings resolve to the
 * more confident (then more specific) one. Works on a database without
 * settings or contacts.
 * *ret_json (caller frees): {"text": redacted text, "removed": {"EMAIL": 1,
 * ...} (types removed at least once; counts, never values), "spans":
 * [{"type","begin","end","confidence"}]} with begin/end byte offsets into
 * the original text, sorted. Errors: CA_EINVAL (no text), CA_EUTF8 (naming
 * the byte offset), CA_EDB, CA_EPARSE (a bad pattern in the settings),
 * CA_ENOMEM.
 */
int ca_pii_redact_text(ca_agent *a, const char *text, char **ret_json, ca_err *err);

/*
 * Score the PII recognisers on span-labelled text at `path`: a JSON list of
 * {"full_text", "spans": [{"entity_type", "entity_value", "start_position",
 * "end_position"}]} as in Microsoft Presidio's evaluation sets, positions in
 * CHARACTERS (Unicode code points, end exclusive; converted to bytes here).
 * Types scored (Presidio names mapped to ours): EMAIL_ADDRESS -> EMAIL,
 * PHONE_NUMBER -> PHONE, CREDIT_CARD, IBAN_CODE -> IBAN, US_SSN,
 * IP_ADDRESS, STREET_ADDRESS, PERSON (our own names are accepted too);
 * other gold types are counted under "ignored_types" and not scored.
 * Matching is by overlap: a gold span is found when a predicted span of the
 * same type overlaps it by at least one byte, and a predicted span is
 * correct when it overlaps a gold span of its type (so one prediction over
 * an address the labels split in three finds all three). "exact" repeats
 * the figures for spans equal to the byte after trimming white space.
 * *ret_json: {"EMAIL": {"precision","recall","f1","support","predicted"},
 * ... one per scored type, "overall": {the same, micro-averaged over the
 * scored types}, "exact": {per type and "overall" as above},
 * "residual_pii_rate": non-space characters of gold spans that no predicted
 * span (of any type) hides / all of them, "pii_characters",
 * "visible_characters", "records", "matching": "overlap", "ignored_types":
 * {"TYPE": count}, "file"}. A ratio without a denominator is null. Uses
 * the agent's contacts and patterns as ca_pii_redact_text does.
 * Errors: CA_EIO (file), CA_EPARSE (not JSON, or a record without
 * full_text or with a span out of range, naming the record), CA_EUTF8,
 * CA_ETOOBIG (over 512 MiB), CA_ENOMEM.
 */
int ca_pii_eval(ca_agent *a, const char *path, char **ret_json, ca_err *err);

/* ---- evaluation ---- */

/*
 * Score the conversation summary against human summaries with ROUGE-1,
 * ROUGE-2 and ROUGE-L F1 (Lin 2004; lower-cased tokens [a-z0-9]+, the best
 * reference per measure when a dialogue has several, averaged over
 * dialogues, as fractions 0..1). `path` is a JSONL file or a folder (its
 * dialogs.jsonl, else every *.jsonl); each line is a tweetsumm record
 * ("turns" [{speaker, text}], "abstractive_summaries") or a dialogsum one
 * ("dialogue" with "#Person1#: ..." lines, "summary" or "summary1".."N"),
 * detected per line; HTML entities are decoded. Speakers named customer
 * and agent are taken as such; otherwise the first two speakers are the
 * parties and the customer is the one who does not offer help, or states
 * more need (ca_summary_customer_is_second). The agent's text is the brief
 * of the summariser rendered as reported speech with the parties named as
 * the data names them; the baseline ("lead") is the first customer turn
 * plus the first agent turn, in dialogue order, as written. The database of
 * `a` is not used (a may be NULL). A dialogue without turns or without a
 * human summary is skipped and counted. A second baseline, "lead_prose",
 * renders the lead's two turns as reported speech like the summary, so the
 * summariser's choice of sentences is measured apart from its rendering.
 * Words are ROUGE tokens. *ret_json (caller frees): {"dataset","files":[...],
 * "dialogues","skipped","references","rouge1","rouge2","rougeL",
 * "lead":{"rouge1","rouge2","rougeL"},"lead_prose":{...},
 * "summary_words_avg","lead_words_avg","lead_prose_words_avg",
 * "method":{"measure","references","summary","lead","lead_prose"}}.
 * Errors: CA_ENOTFOUND/CA_EIO (path), CA_EPARSE (a line that is
 * not JSON or in neither format, err->where "file:line"), CA_ETOOBIG,
 * CA_EUTF8, CA_EINVAL (no dialogue to score), CA_ENOMEM.
 */
int ca_eval_summary(ca_agent *a, const char *path, char **ret_json, ca_err *err);

/*
 * Score product and subject linking on a labelled mention set: the folder
 * `path` holds products.jsonl, subjects.jsonl (either may be absent) and
 * mentions.jsonl ({"text", "field": "product"|"subject", "expect": id or
 * null, "kind"} a line). Each text is one customer message; a link counts
 * at confidence >= 0.5. *ret_json (caller frees): {"mentions",
 * "naming_a_record", "linked", "correct", "precision", "recall", "f1",
 * "threshold", "fields": {"product": {...}, "subject": {...}}, "kinds":
 * {kind: {...}}, "errors": [{"line", "text", "field", "expect", "got",
 * "best", "confidence", "method"}]}. Writes nothing. Errors: CA_EIO,
 * CA_EPARSE (a bad line, err->where the file and line), CA_EINVAL (no
 * mention), CA_ENOMEM.
 */
int ca_eval_linking(ca_agent *a, const char *path, char **ret_json, ca_err *err);


/* ==== issue 10: the service's API (users, daily operations, events) ==== */

/* ---- users, roles, agent experience profiles, credentials (src/auth) ---- */

/*
 * Rights a role grants (bits). The server's route table names the rights
 * each route needs; the role table below is the only place that grants them.
 */
enum {
	CA_RIGHT_WORK = 1u << 0,      /* cases, conversations, e-mail replies, notes, knowledge review */
	CA_RIGHT_CONFIGURE = 1u << 1, /* settings, rules, users, profiles, knowledge settings, harvests */
	CA_RIGHT_REPORTS = 1u << 2,   /* interactions, agent reports */
	CA_RIGHT_CHAT_INGEST = 1u << 3, /* the live-chat platform's door: conversation events */
	CA_RIGHT_MAIL_INGEST = 1u << 4, /* the mail server's door: raw messages */
	CA_RIGHT_METRICS = 1u << 5    /* GET /metrics (a Prometheus scraper) */
};

/*
 * The roles, as the seed names them: "System Administrator" (configure,
 * work, reports, metrics), "CSR Manager" (configure, work, reports),
 * "Customer Service Representative" (work), "Omnichannel Agent" (work),
 * "Integration" (chat and mail ingest, metrics: a chat platform, a mail
 * server, a scraper; token only, no password). Returns the rights of a role
 * name (exact), 0 for an unknown one.
 */
unsigned ca_role_rights(const char *role);
/* The role names in table order, NULL-terminated, static storage. */
const char *const *ca_role_names(void);

/* Who a request is: filled by ca_auth_token / ca_auth_session. */
typedef struct ca_principal {
	char user[128];     /* user name */
	char role[64];      /* role name */
	char profile[64];   /* agent experience profile name ("" for none) */
	unsigned rights;    /* CA_RIGHT_* of the role */
	int64_t token_id;   /* API token used (0: a session) */
	bool via_session;   /* authenticated by the session cookie: unsafe methods need the CSRF token */
	char csrf[80];      /* session only: the CSRF token the login returned, to compare */
} ca_principal;

/*
 * Users. name: 1-64 characters of [A-Za-z0-9._@-]; role: a role name;
 * profile NULL = the out-of-the-box profile ("Default", both features on);
 * password NULL = no password login (integration users, token only);
 * otherwise 8-1024 bytes, stored only as an Argon2id hash (libsodium
 * crypto_pwhash_str, interactive limits). CA_EEXIST, CA_EINVAL naming the
 * key. *ret_json: the user {"name","role","profile","display_name",
 * "disabled","has_password","created_at"}.
 */
int ca_user_add(ca_agent *a, const char *name, const char *role, const char *profile, const char *password,
		char **ret_json, ca_err *err);
/* {"users":[user...]} by name. */
int ca_user_list(ca_agent *a, char **ret_json, ca_err *err);
/* One user. CA_ENOTFOUND. */
int ca_user_show(ca_agent *a, const char *name, char **ret_json, ca_err *err);
/* Change a user: any of "role", "profile", "display_name", "disabled" (bool),
 * "password" (string, or null to remove it); unknown keys CA_EINVAL. A
 * disabled user's sessions and tokens stop working at once. */
int ca_user_change(ca_agent *a, const char *name, const char *changes_json, char **ret_json, ca_err *err);

/*
 * API tokens for scripts and integrations. create: a random token (32 bytes
 * from libsodium, base64url, prefixed "ca_"), returned once in *ret_token
 * (caller frees) and stored only as its BLAKE2b hash; *ret_json
 * {"id","user","name","created_at"}. revoke: CA_ENOTFOUND. list (user NULL:
 * all): {"tokens":[{"id","user","name","created_at","last_used_at",
 * "revoked_at"}]} without secrets.
 */
int ca_token_create(ca_agent *a, const char *user, const char *label, char **ret_token, char **ret_json,
		    ca_err *err);
int ca_token_revoke(ca_agent *a, int64_t id, ca_err *err);
int ca_token_list(ca_agent *a, const char *user, char **ret_json, ca_err *err);

/*
 * Authenticate a bearer token (the text after "Bearer "): fills *ret and
 * records the last used time (at most once a minute per token). CA_EAUTH
 * for an unknown, revoked or malformed token or a disabled user.
 */
int ca_auth_token(ca_agent *a, const char *token, ca_principal *ret, ca_err *err);

/*
 * Password login from `address` (the client's IP, for throttling). On
 * success a new session: *ret_json {"session" (the cookie value, secret),
 * "csrf" (send as X-CSRF-Token on unsafe methods), "user","role","profile",
 * "expires_at"}; the session is stored only as a hash, idle timeout 8 h.
 * CA_EAUTH for a wrong user or password (one message for both); after 5
 * failures for a user or an address within 15 minutes each further attempt
 * is CA_ELIMIT until a delay doubling from 30 s (at most 15 min) has passed,
 * with err->where "retry_after=SECONDS". Failures are counted in the
 * database, so every serve process sees them.
 */
int ca_session_login(ca_agent *a, const char *user, const char *password, const char *address, char **ret_json,
		     ca_err *err);
/* The principal of a session cookie value; CA_EAUTH when unknown, expired or
 * the user is disabled. Extends the idle timeout. */
int ca_auth_session(ca_agent *a, const char *session, ca_principal *ret, ca_err *err);
/* End a session (logout). Unknown sessions are not an error. */
int ca_session_logout(ca_agent *a, const char *session, ca_err *err);
/* An unsafe method's CSRF check: 0 for a principal not authenticated by a
 * session; else the X-CSRF-Token `token` (NULL: none sent) must equal the
 * session's (compared in constant time, sodium_memcmp), or CA_EFORBIDDEN. */
int ca_auth_csrf_check(const ca_principal *p, const char *token, ca_err *err);

/*
 * Agent experience profiles: named sets of features. A profile is
 * {"name","description","autonomous_case" (bool: autonomous case creation
 * and update from conversations),"autonomous_followup" (bool: autonomous
 * case follow-up and closure),"users":N}. The out-of-the-box profile
 * "Default" enables both. put creates or replaces one (the whole object;
 * unknown keys CA_EINVAL).
 */
int ca_profile_list(ca_agent *a, char **ret_json, ca_err *err);
int ca_profile_show(ca_agent *a, const char *name, char **ret_json, ca_err *err);
int ca_profile_put(ca_agent *a, const char *name, const char *profile_json, char **ret_json, ca_err *err);

/* ---- a representative's daily operations ---- */

/*
 * A case a person creates by hand: {"fields": {"name": "value", ...}}
 * (settings field names; lookups and options checked as ca_case_edit does),
 * every field's source "person" (the agent never overwrites them). One
 * transaction. *ret_json: the case as ca_case_show gives it.
 */
int ca_case_create(ca_agent *a, const char *body_json, const char *actor, char **ret_json, ca_err *err);

/* Filters for ca_case_query: NULL or "" = any. */
typedef struct ca_case_filter {
	const char *status;   /* "active", "resolved", "cancelled", ... */
	const char *owner;
	const char *customer; /* contact id */
	const char *origin;   /* "chat", "email", "manual", ... */
	const char *q;        /* words in the title, description or ticket number */
	size_t limit;         /* 1-200, 0 = 50 */
	const char *cursor;   /* opaque, from a previous page's "next_cursor" */
} ca_case_filter;
/* Cases newest first: {"cases":[case...],"next_cursor": string|null}, each
 * case with "display" as ca_case_show gives it. A bad
 * cursor or limit is CA_EINVAL naming it. Served from indexes: the cost of a
 * page does not grow with the number of cases. Filters are exact values;
 * with several, one index serves and the others are checked per case. q:
 * cases holding every word (white-space separated; Porter stems, FTS5
 * tokens, so "CAS-00012" matches its ticket), from a full-text index of
 * title, description and ticket number (migration 14), newest match
 * first; CA_EUNSUPPORTED on a store without full-text search. */
int ca_case_query(ca_agent *a, const ca_case_filter *filter, char **ret_json, ca_err *err);

/* A person's edit of several fields at once: {"fields": {...}}, all or
 * nothing, one version step; expected_version as in ca_case_edit.
 * *ret_json: {"case","changed":[{"field","old","new"}],"version"}. */
int ca_case_patch(ca_agent *a, const char *case_ref, const char *body_json, const char *actor,
		  int64_t expected_version, char **ret_json, ca_err *err);

/* Update from conversation on demand (a person asks): the agent predicts
 * from the case's conversation now and writes what the update policy allows
 * (people win). *ret_json as ca_chat_event's ("changed", "no_changes",
 * "suggestions"; "event" null, "type" "update", plus "requested_by").
 * The conversation: the one the case was created from, else the newest
 * linked to it; its state does not change (a closed one works too).
 * CA_ESTATE when the case has no conversation. */
int ca_case_update_from_conversation(ca_agent *a, const char *case_ref, const char *actor, char **ret_json,
				     ca_err *err);

/* Notes: {"case","notes":[{"id","kind","body","actor","at"}]} oldest first;
 * add: a person's note (1 B - 64 KiB UTF-8; only white space is CA_EINVAL,
 * over 64 KiB CA_ETOOBIG, where "body"), *ret_json the note with "case".
 * A note does not step the case's version. */
int ca_case_notes(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err);
int ca_case_note_add(ca_agent *a, const char *case_ref, const char *body, const char *actor, char **ret_json,
		     ca_err *err);

/* The case's e-mails, incoming and outgoing, oldest first:
 * {"case","emails":[{"id","direction","from_addr","to_addr","subject",
 * "received_at","outbox_id","status"}]}: stored e-mails ("id", status
 * "received" or "sent", outbox_id null) and outbox messages not sent yet
 * (id null, "outbox_id", status "queued" or "failed"). */
int ca_case_emails(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err);
/* A representative's reply to the case's customer: {"body", "subject"
 * (optional: "Re: " + the thread's subject with the case token)}, queued in
 * the outbox, threaded with the case (In-Reply-To/References of the last
 * incoming message), Auto-Submitted "no", sent by ca_outbox_send.
 * The address: the customer contact's, else the sender of the case's last
 * e-mail; CA_ESTATE (where "customer") when there is none, and when the
 * e-mail channel is off or the settings name no From. Body 1 B - 256 KiB
 * (CA_ETOOBIG); subject one line; unknown keys CA_EINVAL naming them. The
 * outbox row records `actor`. *ret_json: the outbox
 * row {"id","to","subject","case","status"}. */
int ca_case_reply(ca_agent *a, const char *case_ref, const char *body_json, const char *actor, char **ret_json,
		  ca_err *err);

/* Conversations newest first: state NULL = any; limit 0 = 50; cursor as for
 * cases. {"conversations":[{"id","channel","state","case","contact",
 * "opened_at","closed_at","messages","accepted_by"}],"next_cursor"}. */
int ca_conversation_list(ca_agent *a, const char *state, size_t limit, const char *cursor, char **ret_json,
			 ca_err *err);
/* One conversation: the list's fields plus "messages":[{"id","role","text",
 * "at"}], "case" (ticket number or null), "interactions":[...]. */
int ca_conversation_show(ca_agent *a, const char *id, char **ret_json, ca_err *err);

/*
 * The agent's own figures for a period [from, to) (ISO 8601 UTC, NULL =
 * unbounded): {"from","to","conversations","cases_created",
 * "cases_withheld","withheld_missing":{"field":N},"cases_enriched",
 * "fields_filled","no_change_updates","fields_changed_by_person",
 * "emails_sent_by_agent","emails_drafted_by_agent","articles_drafted",
 * "articles_published", and the follow-up agent's (issue 12):
 * "followups_sent","cases_resolved_by_agent","cases_handed_to_person",
 * "replies_by_intent":{intent:N},"reopened_after_agent_resolution" (a case
 * it resolved that the customer wrote into again within the resolved-case
 * window, counted at query time)}. From the interaction log, the audit, the
 * outbox and the follow-up steps; indexed by time. Times: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.f]Z,
 * else CA_EINVAL naming "from" or "to" (also when to <= from); the result
 * gives them as YYYY-MM-DDTHH:MM:SSZ. What each figure counts: store.h,
 * ca_store_agent_report.
 */
int ca_report_agent(ca_agent *a, const char *from, const char *to, char **ret_json, ca_err *err);

/* Mark a notification read, if it is `recipient`'s (else CA_ENOTFOUND). */
int ca_notification_read(ca_agent *a, int64_t id, const char *recipient, ca_err *err);

/* ---- the event outbox (ARCHITECTURE §6) ---- */

/*
 * Events committed with the changes they announce, in commit order of their
 * ids: {"events":[{"id","type","at","case" (ticket or null),"recipient"
 * (user or null: for everyone with the right),"right" ("work" or
 * "configure"),"data":{...}}],"last_id"} with id > after_id, at most limit
 * (0 = 100, at most 1000). Types: case.created, case.updated (data.changed:
 * field names), note.added, email.received, knowledge.article_drafted,
 * notification.created, harvest.progress, conversation.updated. Kept 7
 * days.
 * data by type (ids and names only, never a customer's personal data):
 * case.created {"case","origin","fields":[names written with it]};
 * case.updated {"case","changed":[names],"source": "agent"|"person"|"arc"|
 * "import"|"system"|"mixed"}, one per case and transaction; note.added
 * {"case","note","kind"}; email.received {"email","case","outcome"} (one
 * per decision, as the e-mail log); knowledge.article_drafted {"article",
 * "title","state"}; notification.created {"notification","kind"} with the
 * recipient set; harvest.progress {"job","processed","total","state"}
 * (right "configure"; one per batch and state change);
 * conversation.updated {"conversation","event" (the chat event's type),
 * "state"}, one per chat event applied. "case" in data is
 * the ticket as it is when read. last_id: the last event's id, or after_id
 * when there is none: pass it as the next after_id. CA_EINVAL for a
 * negative after_id.
 */
int ca_events_since(ca_agent *a, int64_t after_id, size_t limit, char **ret_json, ca_err *err);
/* The newest event id (0: none), to start a stream at "now". */
int ca_events_last_id(ca_agent *a, int64_t *ret, ca_err *err);


/* ==== issue 12: follow-up and closure (src/followup; docs/settings.md
 * "followup", docs/followup.md) ==== */

/*
 * Read a customer's reply (src/followup/intent.c): text is the reply's new
 * part (UTF-8; quoted history and signature may be left in, they are
 * stripped first); headers_json NULL or a JSON object of the e-mail's
 * headers by name (Auto-Submitted, X-Autoreply, Precedence, Subject, ...),
 * which mark automatic replies. *ret_json (heap, caller frees):
 * {"intent": "resolved"|"still_problem"|"question_or_info"|"unclear"|
 * "automatic", "confidence": 0..1, "evidence": [{"text","start","end"
 * (byte offsets into text; null for a header),"cue","intent","weight"}],
 * "scores": {intent: 0..1, ...}}. An
 * intent below its confidence floor comes back "unclear", with the
 * runner-up in "scores": a person decides. CA_EINVAL for text that is not
 * UTF-8; CA_ETOOBIG over 256 KiB.
 */
int ca_reply_classify(ca_agent *a, const char *text, const char *headers_json, char **ret_json, ca_err *err);

/* Options of a follow-up tick. */
typedef struct ca_followup_opts {
	int64_t now;       /* Unix seconds of the tick; 0 = ca_time_now() */
	const char *rule;  /* only this rule (by name); NULL = every active rule */
	size_t limit;      /* at most this many cases (0 = no limit; simulate: 1-100, 0 = 100) */
	bool dry_run;      /* decide only: write nothing, send nothing (simulate) */
} ca_followup_opts;

/*
 * One tick of the follow-up agent (src/followup): for every open case a
 * rule matches (first match wins) whose owner's agent experience profile
 * enables autonomous follow-up and closure, decide "wait", "send_followup"
 * (step N), "stop" (a favourable reply), "hand_to_person" (negative or
 * unclear reply: a draft), "resolve" (after the last follow-up) or, at
 * level confirm, queue the same as a suggestion; at level shadow record the
 * decision only. Each decision other than "wait" is one transaction with
 * its audit rows, its interaction-log row (action "followup", outcome the
 * decision) and its outbox message; a step is keyed by (case, step) so it
 * is queued once, whatever restarts or other processes do. *ret_json:
 * {"now","cases":N,"counts":{decision:N},"decisions":[{"case","rule",
 * "level","decision","step","reason","intent"|null,"email"|null}]}
 * (decisions other than "wait", at most 1000 listed; with dry_run every
 * case's, as `followup simulate` shows them). CA_ESTATE without settings.
 * Also "decision" "left_alone" (the owner's profile lacks the feature, or
 * no owner; counted, listed only with dry_run); counts "decided_elsewhere"
 * (another process took the step first) and "error" (one case failed, the
 * others went on; listed with its reason); each decision also gives
 * "resolution", "outbox" and "suggestion" (ids or null); "dry_run" echoes
 * opts, "decisions_not_listed" counts those past 1000. Rows the store
 * stamps take ca_time_now(): `followup run --now` sets that clock.
 * Details: docs/followup.md.
 */
int ca_followup_run(ca_agent *a, const ca_followup_opts *opts, char **ret_json, ca_err *err);

/* How often serve's background worker runs a tick: the settings'
 * followup.interval_minutes (0: never). CA_ESTATE without settings. */
int ca_followup_interval(ca_agent *a, unsigned *ret_minutes, ca_err *err);

/* What shadow rules decided, newest first: {"rule","decisions":[{"case",
 * "at","decision","step","reason","intent","email"}]}; rule NULL = every
 * rule; limit 0 = 100. */
int ca_followup_shadow_log(ca_agent *a, const char *rule, size_t limit, char **ret_json, ca_err *err);

/*
 * A case's pending suggestion (level confirm): {"case","suggestion": null
 * | {"id","rule","step","created_at","proposed": "send_followup"|
 * "draft_reply"|"resolve","reply_summary" (of the customer's last reply,
 * or null),"intent" (ca_reply_classify's, or null),"email": {"subject",
 * "body"} | null,"resolution": text | null}}. A suggestion is gone once a
 * person acts on it or the customer writes again.
 */
int ca_case_suggestion(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err);
/*
 * A person acts on suggestion `id` of the case: body_json {"action":
 * "send"|"draft"|"resolve"|"dismiss", "subject"?, "body"? (an edited
 * e-mail, for send), "resolution"? (for resolve)}. send queues the e-mail
 * (as ca_case_reply, recorded as the person's, written by AI); draft hands
 * back the draft for the reply editor and closes the suggestion; resolve
 * resolves the case (ca_case_resolve); dismiss closes it. One transaction.
 * CA_ENOTFOUND for no such suggestion of the case; CA_ESTATE when it is no
 * longer pending. *ret_json: {"case","suggestion","action","outbox"|null,
 * "draft"|null,"status"}.
 */
int ca_case_suggestion_act(ca_agent *a, const char *case_ref, int64_t id, const char *body_json, const char *actor,
			   char **ret_json, ca_err *err);

/*
 * Resolution help: the agent's proposed resolution of a case, extractive
 * from its thread (the representative's statements of what was done or
 * should be done, in e-mails, chat messages and notes): {"case",
 * "resolution": text | null, "confidence", "evidence": [{"source":
 * "email"|"message"|"note","id","text"}]}. Writes nothing.
 */
int ca_case_resolution_proposal(ca_agent *a, const char *case_ref, char **ret_json, ca_err *err);

/*
 * `caseagent eval replies`: the reply classifier on a labelled set
 * (tests/data/followup/replies.jsonl; docs/replies.md, the labelling
 * guideline), texts read from data_dir (../shared/data) where a row points
 * there; part "train", "test", "test2", "test3" or "all". {"part","n","macro_f1",
 * "per_intent":{intent:{"precision","recall","f1","support"}},
 * "confusion":{...}}.
 */
int ca_eval_replies(ca_agent *a, const char *labels_path, const char *data_dir, const char *part, char **ret_json,
		    ca_err *err);
/*
 * `caseagent eval replies --fit OUT`: fit the reply reader's learned layer
 * (a multinomial logistic regression, docs/replies.md "The model") on the
 * train part of the labelled set and write it to OUT as C source (the
 * committed src/followup/reply_model.c) with the temperature and the
 * floors of "unclear" chosen on the out-of-fold readings; l2 the penalty
 * (<= 0: the default, 0.001). Returns the 5-fold cross-validated figures
 * on the train part in the shape of ca_eval_replies, with "model",
 * "features", "temperature", "l2", "floors" {intent: floor} and the
 * out-of-fold "misread". CA_EIO when OUT cannot be written.
 */
int ca_eval_replies_fit(ca_agent *a, const char *labels_path, const char *data_dir, const char *out_path, double l2,
			char **ret_json, ca_err *err);

#ifdef __cplusplus
}
#endif
#endif
