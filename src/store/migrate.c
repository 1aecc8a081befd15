/* SPDX-License-Identifier: MIT */
/*
 * Versioned schema migrations, the only place the database layout is written
 * down. Migrations are applied in order, each in its own transaction and
 * recorded in schema_version, so an interrupted upgrade resumes where it
 * stopped and two processes opening the same database at once apply each step
 * once. The SQL is the portable subset shared by SQLite and PostgreSQL:
 * INTEGER/BIGINT, TEXT, REAL, no AUTOINCREMENT or SERIAL; ids are handed out
 * by the repository from the counter table (see store.c), not by the backend.
 * Never edit a released migration; append a new one.
 */
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "internal.h"

typedef struct migration {
	int version;
	const char *name;
	const char *sql;
	const char *dialect; /* NULL: every driver; else only the driver of that name */
} migration;

/* A step of a migration only C can do (computing values SQL cannot), run
 * after its `sql` in the same transaction, then `sql_after` (may be NULL).
 * A table of its own, so the migration list keeps its simple shape. */
typedef struct migration_step {
	int version;
	int (*fill)(const ca_sql_driver *drv, void *conn, ca_err *err);
	const char *sql_after;
} migration_step;

/* Case columns follow model.h's ca_case_standard_fields (src/model/field.c),
 * which the repository writes by name; keep the two in step. */
static const char schema_v1[] =
	/* Next id per kind of numbered record. One row update per new id
	 * serialises concurrent creators on PostgreSQL too, and a rolled-back
	 * transaction gives its number back, so tickets stay dense. */
	"CREATE TABLE counter (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  value BIGINT NOT NULL\n"
	");\n"
	"INSERT INTO counter (name, value) VALUES ('case', 0), ('audit', 0), ('note', 0), ('interaction', 0);\n"
	"\n"
	"CREATE TABLE settings (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  body TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL\n"
	");\n"
	"\n"
	/* Directory: ids are the importer's strings. No foreign keys between
	 * directory tables, so files can be imported in any order. */
	"CREATE TABLE account (\n"
	"  id TEXT PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  account_number TEXT,\n"
	"  email TEXT,\n"
	"  phone TEXT\n"
	");\n"
	"CREATE INDEX account_number_idx ON account (account_number);\n"
	"CREATE INDEX account_email_idx ON account (email);\n"
	"CREATE TABLE contact (\n"
	"  id TEXT PRIMARY KEY,\n"
	"  full_name TEXT NOT NULL,\n"
	"  email TEXT,\n"
	"  phone TEXT,\n"
	"  username TEXT,\n"
	"  account_number TEXT,\n"
	"  account_id TEXT\n"
	");\n"
	"CREATE INDEX contact_email_idx ON contact (email);\n"
	"CREATE INDEX contact_username_idx ON contact (username);\n"
	"CREATE INDEX contact_phone_idx ON contact (phone);\n"
	"CREATE INDEX contact_account_number_idx ON contact (account_number);\n"
	"CREATE TABLE product (\n"
	"  id TEXT PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  aliases TEXT,\n" /* JSON array of strings */
	"  product_number TEXT\n"
	");\n"
	"CREATE TABLE subject (\n"
	"  id TEXT PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  parent_id TEXT\n"
	");\n"
	"\n"
	/* "case" is a keyword in both dialects. conversation_id has no foreign
	 * key: an e-mail case may name a thread that has no conversation row. */
	"CREATE TABLE case_record (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  version INTEGER NOT NULL DEFAULT 1,\n"
	"  conversation_id TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL,\n"
	"  ticket_number TEXT NOT NULL UNIQUE,\n"
	"  title TEXT,\n"
	"  description TEXT,\n"
	"  customer TEXT,\n"
	"  account TEXT,\n"
	"  product TEXT,\n"
	"  subject TEXT,\n"
	"  priority TEXT,\n"
	"  case_type TEXT,\n"
	"  category TEXT,\n"
	"  origin TEXT,\n"
	"  status TEXT,\n"
	"  status_reason TEXT,\n"
	"  serial_number TEXT,\n"
	"  order_number TEXT,\n"
	"  owner TEXT\n"
	");\n"
	"CREATE INDEX case_record_conversation_idx ON case_record (conversation_id);\n"
	"CREATE INDEX case_record_status_idx ON case_record (status);\n"
	"CREATE TABLE case_custom_field (\n"
	"  case_id INTEGER NOT NULL REFERENCES case_record (id),\n"
	"  field TEXT NOT NULL,\n"
	"  value TEXT NOT NULL,\n"
	"  PRIMARY KEY (case_id, field)\n"
	");\n"
	"CREATE TABLE field_provenance (\n"
	"  case_id INTEGER NOT NULL REFERENCES case_record (id),\n"
	"  field TEXT NOT NULL,\n"
	"  source TEXT NOT NULL,\n"
	"  actor TEXT,\n"
	"  confidence REAL,\n"
	"  method TEXT,\n"
	"  evidence TEXT,\n" /* JSON array */
	"  at TEXT NOT NULL,\n"
	"  PRIMARY KEY (case_id, field)\n"
	");\n"
	"CREATE TABLE audit (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  case_id INTEGER NOT NULL REFERENCES case_record (id),\n"
	"  field TEXT NOT NULL,\n"
	"  old_value TEXT,\n"
	"  new_value TEXT,\n"
	"  source TEXT NOT NULL,\n"
	"  actor TEXT,\n"
	"  confidence REAL,\n"
	"  method TEXT,\n"
	"  evidence TEXT,\n"
	"  at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX audit_case_idx ON audit (case_id, id);\n"
	"\n"
	/* message_count doubles as the sequence counter of the messages: bumping
	 * it locks the conversation row, which orders concurrent appends. */
	"CREATE TABLE conversation (\n"
	"  id TEXT PRIMARY KEY,\n"
	"  channel TEXT NOT NULL,\n"
	"  state TEXT NOT NULL,\n"
	"  case_id INTEGER REFERENCES case_record (id),\n"
	"  case_link TEXT,\n"
	"  contact_id TEXT,\n"
	"  opened_at TEXT NOT NULL,\n"
	"  closed_at TEXT,\n"
	"  message_count INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"CREATE INDEX conversation_case_idx ON conversation (case_id);\n"
	"CREATE TABLE message (\n"
	"  conversation_id TEXT NOT NULL REFERENCES conversation (id),\n"
	"  id TEXT NOT NULL,\n"
	"  seq INTEGER NOT NULL,\n"
	"  role TEXT NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  at TEXT NOT NULL,\n"
	"  PRIMARY KEY (conversation_id, id)\n"
	");\n"
	"CREATE UNIQUE INDEX message_seq_idx ON message (conversation_id, seq);\n"
	"CREATE TABLE chat_event (\n"
	"  event_id TEXT PRIMARY KEY,\n"
	"  conversation_id TEXT,\n"
	"  type TEXT NOT NULL,\n"
	"  result TEXT NOT NULL,\n" /* JSON */
	"  at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX chat_event_conversation_idx ON chat_event (conversation_id);\n"
	"\n"
	"CREATE TABLE note (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  case_id INTEGER NOT NULL REFERENCES case_record (id),\n"
	"  kind TEXT NOT NULL,\n"
	"  body TEXT NOT NULL,\n"
	"  evidence TEXT,\n"
	"  actor TEXT,\n"
	"  at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX note_case_idx ON note (case_id, id);\n"
	/* No foreign key on case_id: the log reports on what happened, and
	 * must be writable even for a case id that failed to commit. */
	"CREATE TABLE interaction_log (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  conversation_id TEXT,\n"
	"  case_id INTEGER,\n"
	"  action TEXT NOT NULL,\n"
	"  outcome TEXT,\n"
	"  detail TEXT,\n" /* JSON object */
	"  at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX interaction_log_conversation_idx ON interaction_log (conversation_id, id);\n"
	"\n"
	/* Binary-safe in a TEXT column on both backends: data is the bytes
	 * themselves when they are NUL-free UTF-8 (encoding 'text', readable
	 * with the sqlite3 shell), else lowercase hex (encoding 'hex'). */
	"CREATE TABLE blob (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  encoding TEXT NOT NULL,\n"
	"  data TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL\n"
	");\n";


/* E-mail: every message as received (raw bytes kept, so nothing is ever
 * lost), its attachments, one activity-log row per ingest, the outbox of
 * automatic responses, and IMAP mailbox state. */
static const char schema_v2[] =
	"CREATE TABLE email (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  msg_key TEXT NOT NULL UNIQUE,\n"
	"  message_id TEXT,\n"
	"  in_reply_to TEXT,\n"
	"  refs TEXT,\n"
	"  direction TEXT NOT NULL DEFAULT 'in',\n"
	"  from_addr TEXT,\n"
	"  from_name TEXT,\n"
	"  to_addrs TEXT,\n"
	"  subject TEXT,\n"
	"  subject_norm TEXT,\n"
	"  sent_epoch INTEGER,\n"
	"  received_at TEXT NOT NULL,\n"
	"  received_epoch INTEGER NOT NULL,\n"
	"  mailbox TEXT,\n"
	"  origin TEXT,\n"
	"  raw BLOB NOT NULL,\n"
	"  raw_size INTEGER NOT NULL,\n"
	"  body_text TEXT,\n"
	"  reply_text TEXT,\n"
	"  auto_kind TEXT,\n"
	"  parse_error TEXT,\n"
	"  case_id INTEGER REFERENCES case_record(id)\n"
	");\n"
	"CREATE INDEX email_message_id ON email (message_id);\n"
	"CREATE INDEX email_from ON email (from_addr, received_epoch);\n"
	"CREATE INDEX email_case ON email (case_id);\n"
	"CREATE INDEX email_subject ON email (from_addr, subject_norm);\n"
	"CREATE TABLE email_attachment (\n"
	"  email_id INTEGER NOT NULL REFERENCES email(id),\n"
	"  seq INTEGER NOT NULL,\n"
	"  filename TEXT,\n"
	"  content_type TEXT,\n"
	"  size INTEGER NOT NULL,\n"
	"  sha256 TEXT NOT NULL,\n"
	"  content BLOB,\n"
	"  PRIMARY KEY (email_id, seq)\n"
	");\n"
	"CREATE TABLE email_log (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  email_id INTEGER REFERENCES email(id),\n"
	"  origin TEXT,\n"
	"  outcome TEXT NOT NULL,\n"
	"  reason TEXT,\n"
	"  rule TEXT,\n"
	"  case_id INTEGER,\n"
	"  at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX email_log_email ON email_log (email_id);\n"
	"CREATE TABLE outbox (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  case_id INTEGER,\n"
	"  email_id INTEGER,\n"
	"  to_addr TEXT NOT NULL,\n"
	"  subject TEXT NOT NULL,\n"
	"  body TEXT NOT NULL,\n"
	"  headers TEXT NOT NULL,\n"
	"  status TEXT NOT NULL DEFAULT 'queued',\n"
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  created_epoch INTEGER NOT NULL,\n"
	"  sent_at TEXT\n"
	");\n"
	"CREATE INDEX outbox_to ON outbox (to_addr, created_epoch);\n"
	"CREATE TABLE mailbox_state (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  uidvalidity INTEGER,\n"
	"  last_uid INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"INSERT INTO counter (name, value) VALUES ('email', 0), ('email_log', 0), ('outbox', 0);\n";

/* E-mail senders are matched to contacts whatever the case of the address:
 * an expression index keeps that lookup off a table scan. */
static const char schema_v3[] = "CREATE INDEX contact_email_lower_idx ON contact (LOWER(email));\n";

/* Knowledge articles. The CHECK is the rule that a non-compliant (or not yet
 * compliant) article is never published, enforced by the database itself so
 * no path around the application can break it. */
static const char schema_v4[] =
	"CREATE TABLE knowledge_article (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  number TEXT NOT NULL UNIQUE,\n"
	"  version_major INTEGER NOT NULL DEFAULT 1,\n"
	"  version_minor INTEGER NOT NULL DEFAULT 0,\n"
	"  state TEXT NOT NULL DEFAULT 'draft'\n"
	"    CHECK (state IN ('draft', 'in_review', 'published', 'archived', 'discarded')),\n"
	"  compliance TEXT NOT NULL DEFAULT 'pending'\n"
	"    CHECK (compliance IN ('pending', 'compliant', 'non_compliant')),\n"
	"  audience TEXT NOT NULL DEFAULT 'internal' CHECK (audience IN ('internal', 'external')),\n"
	"  title TEXT NOT NULL,\n"
	"  issue TEXT,\n"
	"  cause TEXT,\n"
	"  resolution TEXT,\n"
	"  product TEXT,\n"
	"  subject TEXT,\n"
	"  keywords TEXT,\n"
	"  evidence TEXT,\n"
	"  source TEXT NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'person')),\n"
	"  owner TEXT,\n"
	"  pii_removed TEXT,\n"
	"  rating_sum INTEGER NOT NULL DEFAULT 0,\n"
	"  rating_count INTEGER NOT NULL DEFAULT 0,\n"
	"  created_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL,\n"
	"  published_at TEXT,\n"
	"  CHECK (state <> 'published' OR compliance = 'compliant')\n"
	");\n"
	"CREATE INDEX knowledge_article_state ON knowledge_article (state);\n"
	"CREATE TABLE article_source (\n"
	"  article_id INTEGER NOT NULL REFERENCES knowledge_article(id),\n"
	"  record_type TEXT NOT NULL CHECK (record_type IN ('case', 'conversation')),\n"
	"  record_id TEXT NOT NULL,\n"
	"  relation TEXT NOT NULL CHECK (relation IN ('drafted_from', 'covered_by')),\n"
	"  similarity REAL,\n"
	"  at TEXT NOT NULL,\n"
	"  PRIMARY KEY (article_id, record_type, record_id)\n"
	");\n"
	"CREATE INDEX article_source_record ON article_source (record_type, record_id);\n"
	"CREATE TABLE notification (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  recipient TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL,\n"
	"  article_id INTEGER,\n"
	"  case_id INTEGER,\n"
	"  message TEXT NOT NULL,\n"
	"  created_at TEXT NOT NULL,\n"
	"  read_at TEXT\n"
	");\n"
	"CREATE INDEX notification_recipient ON notification (recipient, id);\n"
	"INSERT INTO counter (name, value) VALUES ('article', 0), ('notification', 0);\n";

/* Historical harvest jobs (issue 4, item 8). The log's primary key is the
 * "exactly once" rule itself: a record written twice into one job fails the
 * transaction that tried, so a resumed job can never repeat one. The job row
 * holds the cursor (last_case_id) and the counters, updated in the same
 * transaction as each record's outcome and log row. state is also the stop
 * flag another process sets. */
static const char schema_v5[] =
	"CREATE TABLE harvest_job (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  source TEXT NOT NULL CHECK (source IN ('cases', 'conversations')),\n"
	"  rule TEXT,\n"
	"  state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped', 'done', 'failed')),\n"
	"  total INTEGER NOT NULL DEFAULT 0,\n"
	"  processed INTEGER NOT NULL DEFAULT 0,\n"
	"  created INTEGER NOT NULL DEFAULT 0,\n"
	"  covered INTEGER NOT NULL DEFAULT 0,\n"
	"  filtered INTEGER NOT NULL DEFAULT 0,\n"
	"  insufficient INTEGER NOT NULL DEFAULT 0,\n"
	"  errors INTEGER NOT NULL DEFAULT 0,\n"
	"  last_case_id BIGINT NOT NULL DEFAULT 0,\n"
	"  started_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL,\n"
	"  finished_at TEXT\n"
	");\n"
	"CREATE TABLE harvest_log (\n"
	"  job_id INTEGER NOT NULL REFERENCES harvest_job(id),\n"
	"  record_type TEXT NOT NULL CHECK (record_type IN ('case', 'conversation')),\n"
	"  record_id TEXT NOT NULL,\n"
	"  outcome TEXT NOT NULL CHECK (outcome IN ('created', 'covered', 'filtered', 'insufficient', 'error')),\n"
	"  article TEXT,\n"
	"  reason TEXT,\n"
	"  at TEXT NOT NULL,\n"
	"  PRIMARY KEY (job_id, record_type, record_id)\n"
	");\n"
	"CREATE INDEX harvest_log_outcome ON harvest_log (job_id, outcome);\n"
	"INSERT INTO counter (name, value) VALUES ('harvest_job', 0);\n";

/* Conversations in the knowledge agent (issue 4): the article template a
 * knowledge rule chose (JSON {"name","sections":[{"heading","from"}]}; NULL:
 * the default Issue / Cause / Resolution), and a text cursor for harvest
 * jobs over conversations, whose ids are text. */
static const char schema_v6[] =
	"ALTER TABLE knowledge_article ADD COLUMN template TEXT;\n"
	"ALTER TABLE harvest_job ADD COLUMN last_record TEXT;\n"
	"CREATE INDEX conversation_state_idx ON conversation (state, id);\n";

/* Full-text search over knowledge articles, in the SQL dialect's own
 * engine: SQLite FTS5 (https://sqlite.org/fts5.html), Porter stems over
 * unicode61 tokens, ranked by its bm25(). Triggers keep it in the same
 * transaction as the article, so it can never disagree with the table. A
 * PostgreSQL driver brings its own version 7 (a tsvector column and index). */
static const char schema_v7_sqlite[] =
	"CREATE VIRTUAL TABLE knowledge_article_fts USING fts5(title, body, tokenize = 'porter unicode61');\n"
	"CREATE TRIGGER knowledge_article_fts_insert AFTER INSERT ON knowledge_article BEGIN\n"
	"  INSERT INTO knowledge_article_fts (rowid, title, body)\n"
	"  VALUES (new.id, new.title, COALESCE(new.issue, '') || ' ' || COALESCE(new.resolution, ''));\n"
	"END;\n"
	"CREATE TRIGGER knowledge_article_fts_update AFTER UPDATE OF title, issue, resolution ON knowledge_article BEGIN\n"
	"  DELETE FROM knowledge_article_fts WHERE rowid = old.id;\n"
	"  INSERT INTO knowledge_article_fts (rowid, title, body)\n"
	"  VALUES (new.id, new.title, COALESCE(new.issue, '') || ' ' || COALESCE(new.resolution, ''));\n"
	"END;\n"
	"CREATE TRIGGER knowledge_article_fts_delete AFTER DELETE ON knowledge_article BEGIN\n"
	"  DELETE FROM knowledge_article_fts WHERE rowid = old.id;\n"
	"END;\n"
	"INSERT INTO knowledge_article_fts (rowid, title, body)\n"
	"  SELECT id, title, COALESCE(issue, '') || ' ' || COALESCE(resolution, '') FROM knowledge_article;\n";

/* Who is on an e-mail thread (Cc as well as To), whether a reused
 * Message-ID carries the same content (a hash of what was parsed), and
 * the size as received of a message kept only in part. */
static const char schema_v8[] =
	"ALTER TABLE email ADD COLUMN cc_addrs TEXT;\n"
	"ALTER TABLE email ADD COLUMN content_sha256 TEXT;\n"
	"ALTER TABLE email ADD COLUMN received_size INTEGER;\n";

/* Chat event ids are scoped to their conversation: a chat platform numbers
 * events per conversation, so "e1" of two conversations are two events. The
 * event's canonical text is kept beside its result, so a replay of the same
 * event is told apart from an id reused with other content. Rows from before
 * have no content; they are compared by type alone. */
static const char schema_v10[] =
	"CREATE TABLE chat_event_v10 (\n"
	"  conversation_id TEXT NOT NULL,\n"
	"  event_id TEXT NOT NULL,\n"
	"  type TEXT NOT NULL,\n"
	"  content TEXT,\n" /* canonical JSON of the event; NULL before v10 */
	"  result TEXT NOT NULL,\n" /* JSON */
	"  at TEXT NOT NULL,\n"
	"  PRIMARY KEY (conversation_id, event_id)\n"
	");\n"
	"INSERT INTO chat_event_v10 (conversation_id, event_id, type, content, result, at)\n"
	"  SELECT COALESCE(conversation_id, ''), event_id, type, NULL, result, at FROM chat_event;\n"
	"DROP TABLE chat_event;\n"
	"ALTER TABLE chat_event_v10 RENAME TO chat_event;\n";
/* Lookup keys of the directory (model.h, ca_dir_key): normalised e-mail,
 * phone, user name, account number and name stems beside each contact and
 * account, each indexed, so the entity linker finds a record with one
 * indexed query per mention instead of loading the directory. The store
 * writes them with every record; this migration fills them for records
 * already stored (ca_store_fill_dir_keys), then builds the indexes, each
 * (key, id) so a lookup's ORDER BY id reads the index in order instead of
 * sorting in a temporary b-tree (that sort was most of an event's cost). The
 * raw-column indexes nothing queries go, each a cost at import (e-mail
 * senders are found by email_key too, so LOWER(email) goes as well). */
static const char schema_v11[] =
	"ALTER TABLE contact ADD COLUMN email_key TEXT;\n"
	"ALTER TABLE contact ADD COLUMN phone_key TEXT;\n"
	"ALTER TABLE contact ADD COLUMN username_key TEXT;\n"
	"ALTER TABLE contact ADD COLUMN account_key TEXT;\n"
	"ALTER TABLE contact ADD COLUMN name_key TEXT;\n"
	"ALTER TABLE account ADD COLUMN account_key TEXT;\n"
	"ALTER TABLE account ADD COLUMN name_key TEXT;\n"
	"DROP INDEX contact_email_idx;\n"
	"DROP INDEX contact_username_idx;\n"
	"DROP INDEX contact_phone_idx;\n"
	"DROP INDEX contact_account_number_idx;\n"
	"DROP INDEX contact_email_lower_idx;\n";
static const char schema_v11_after[] =
	"CREATE INDEX contact_email_key_idx ON contact (email_key, id);\n"
	"CREATE INDEX contact_phone_key_idx ON contact (phone_key, id);\n"
	"CREATE INDEX contact_username_key_idx ON contact (username_key, id);\n"
	"CREATE INDEX contact_account_key_idx ON contact (account_key, id);\n"
	"CREATE INDEX contact_name_key_idx ON contact (name_key, id);\n"
	"CREATE INDEX account_account_key_idx ON account (account_key, id);\n"
	"CREATE INDEX account_name_key_idx ON account (name_key, id);\n";
/* Spam (issue 9): the verdict each e-mail got and from whom, whether it is
 * held (never a case, never a response) and who released it; the log row
 * carries the verdict's source and score, and the person who acted. */
static const char schema_v9[] =
	"ALTER TABLE email ADD COLUMN spam_status TEXT;\n"
	"ALTER TABLE email ADD COLUMN spam_source TEXT;\n"
	"ALTER TABLE email ADD COLUMN spam_score REAL;\n"
	"ALTER TABLE email ADD COLUMN spam_threshold REAL;\n"
	"ALTER TABLE email ADD COLUMN spam_detail TEXT;\n"
	"ALTER TABLE email ADD COLUMN held INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE email ADD COLUMN released_by TEXT;\n"
	"ALTER TABLE email ADD COLUMN released_at TEXT;\n"
	"CREATE INDEX email_held ON email (held, id);\n"
	"ALTER TABLE email_log ADD COLUMN spam_source TEXT;\n"
	"ALTER TABLE email_log ADD COLUMN spam_score REAL;\n"
	"ALTER TABLE email_log ADD COLUMN actor TEXT;\n";
/* Published means reviewed (issue 9, item 6): a change to a published
 * article's content is a new version kept beside it, in review, with a
 * compliance state of its own; readers (search, show) keep the published
 * version, which the new one replaces only when it is compliant and
 * published. At most one version of an article waits for review. */
static const char schema_v12[] =
	"CREATE TABLE knowledge_article_revision (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  article_id INTEGER NOT NULL REFERENCES knowledge_article(id),\n"
	"  version_major INTEGER NOT NULL,\n"
	"  version_minor INTEGER NOT NULL,\n"
	"  state TEXT NOT NULL DEFAULT 'in_review' CHECK (state IN ('in_review', 'published', 'discarded')),\n"
	"  compliance TEXT NOT NULL DEFAULT 'pending'\n"
	"    CHECK (compliance IN ('pending', 'compliant', 'non_compliant')),\n"
	"  title TEXT NOT NULL,\n"
	"  issue TEXT,\n"
	"  cause TEXT,\n"
	"  resolution TEXT,\n"
	"  keywords TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL,\n"
	"  decided_at TEXT,\n"
	"  CHECK (state <> 'published' OR compliance = 'compliant')\n"
	");\n"
	"CREATE UNIQUE INDEX knowledge_article_revision_pending ON knowledge_article_revision (article_id)\n"
	"  WHERE state = 'in_review';\n";

/* Users, roles, agent experience profiles and credentials (src/auth):
 * secrets are stored only as hashes (Argon2id for passwords, BLAKE2b for
 * tokens and sessions), looked up through unique indexes; failed logins
 * are counted here so every serve process sees them. The owner column is
 * user_name, since USER is a reserved word in PostgreSQL. */
static const char schema_v13[] =
	"CREATE TABLE agent_profile (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  description TEXT NOT NULL DEFAULT '',\n"
	"  autonomous_case INTEGER NOT NULL CHECK (autonomous_case IN (0, 1)),\n"
	"  autonomous_followup INTEGER NOT NULL CHECK (autonomous_followup IN (0, 1)),\n"
	"  created_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL\n"
	");\n"
	"INSERT INTO agent_profile (name, description, autonomous_case, autonomous_followup, created_at, updated_at)\n"
	"  VALUES ('Default', 'Out of the box: autonomous case creation and update from conversations, and "
	"autonomous case follow-up and closure', 1, 1, '1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z');\n"
	"CREATE TABLE users (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  display_name TEXT NOT NULL,\n"
	"  role TEXT NOT NULL,\n"
	"  profile TEXT NOT NULL REFERENCES agent_profile(name),\n"
	"  password_hash TEXT,\n"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),\n"
	"  created_at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX users_profile_idx ON users (profile);\n"
	"CREATE TABLE api_token (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  user_name TEXT NOT NULL REFERENCES users(name),\n"
	"  name TEXT,\n"
	"  hash TEXT NOT NULL UNIQUE,\n"
	"  created_at TEXT NOT NULL,\n"
	"  last_used_at TEXT,\n"
	"  revoked_at TEXT\n"
	");\n"
	"CREATE INDEX api_token_user_idx ON api_token (user_name);\n"
	"CREATE TABLE session (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  hash TEXT NOT NULL UNIQUE,\n"
	"  user_name TEXT NOT NULL REFERENCES users(name),\n"
	"  csrf TEXT NOT NULL,\n"
	"  created_at TEXT NOT NULL,\n"
	"  last_seen_at TEXT NOT NULL,\n"
	"  expires_at TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX session_user_idx ON session (user_name);\n"
	"CREATE INDEX session_expires_idx ON session (expires_at);\n"
	"CREATE TABLE login_failure (\n"
	"  key TEXT PRIMARY KEY,\n"
	"  count INTEGER NOT NULL,\n"
	"  first_at INTEGER NOT NULL,\n"
	"  last_at INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX login_failure_last_idx ON login_failure (last_at);\n"
	"ALTER TABLE conversation ADD COLUMN accepted_by TEXT;\n";

/* The event outbox (issue 10, ARCHITECTURE §6): rows the API's live stream
 * reads, written in the transaction of the change each announces (event.c).
 * Read by id (the primary key) and trimmed oldest first by id, so it needs
 * no other index, and each insert writes one b-tree. data is a JSON object
 * without personal data (ids, field names, outcomes). And the state of the
 * background e-mail work (IMAP polling, SMTP sending) that every serve
 * process reports, one row per worker, and the outbox by status, which the
 * sender reads and the status counts. */
static const char schema_v15[] =
	"CREATE TABLE event (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  type TEXT NOT NULL,\n"
	"  case_id INTEGER,\n"
	"  recipient TEXT,\n"
	"  right_needed TEXT NOT NULL CHECK (right_needed IN ('work', 'configure')),\n"
	"  data TEXT NOT NULL,\n"
	"  at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE worker_state (\n"
	"  worker TEXT PRIMARY KEY CHECK (worker IN ('imap', 'smtp')),\n"
	"  url TEXT,\n"
	"  runs INTEGER NOT NULL DEFAULT 0,\n"
	"  last_run_at TEXT,\n"
	"  last_ok_at TEXT,\n"
	"  last_error TEXT,\n"
	"  last_result TEXT\n"
	");\n"
	"CREATE INDEX outbox_status ON outbox (status);\n";

/* A representative's daily work (issue 10): each filter of the case list
 * (status, owner, customer, origin) served by an index ending in the id,
 * so a page newest first reads as many index entries as it shows; the
 * conversation list by opening time; the outbox by case; the agent report's
 * period counts by time (interaction log, audit, outbox, e-mail log,
 * articles). The settings row counts its versions, so every open agent
 * notices a change made by another connection with one primary-key read.
 * The case full-text index is migration 14's C step (sqlite only). */
static const char schema_v14[] =
	"DROP INDEX case_record_status_idx;\n"
	"CREATE INDEX case_record_status_id_idx ON case_record (status, id);\n"
	"CREATE INDEX case_record_owner_id_idx ON case_record (owner, id);\n"
	"CREATE INDEX case_record_customer_id_idx ON case_record (customer, id);\n"
	"CREATE INDEX case_record_origin_id_idx ON case_record (origin, id);\n"
	"CREATE INDEX conversation_opened_idx ON conversation (opened_at, id);\n"
	"CREATE INDEX conversation_state_opened_idx ON conversation (state, opened_at, id);\n"
	"CREATE INDEX chat_event_type_idx ON chat_event (conversation_id, type);\n"
	"CREATE INDEX outbox_case_idx ON outbox (case_id, id);\n"
	"CREATE INDEX outbox_created_idx ON outbox (created_at);\n"
	"CREATE INDEX outbox_sent_idx ON outbox (sent_at);\n"
	"CREATE INDEX interaction_log_action_at_idx ON interaction_log (action, outcome, at);\n"
	"CREATE INDEX audit_source_at_idx ON audit (source, at);\n"
	"CREATE INDEX email_log_outcome_at_idx ON email_log (outcome, at);\n"
	"CREATE INDEX knowledge_article_created_idx ON knowledge_article (created_at);\n"
	"CREATE INDEX knowledge_article_published_idx ON knowledge_article (published_at);\n"
	"ALTER TABLE settings ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;\n"
	/* who queued a message by hand (a representative's reply); NULL: the agent */
	"ALTER TABLE outbox ADD COLUMN actor TEXT;\n";

/* Words of a case's title, description and ticket number, for the case
 * list's `q`, in SQLite FTS5 as knowledge articles are (migration 7):
 * triggers keep it in the writing transaction. A PostgreSQL driver brings
 * a tsvector of its own. */
static const char case_fts_sqlite[] =
	"CREATE VIRTUAL TABLE case_record_fts USING fts5(title, body, tokenize = 'porter unicode61');\n"
	"CREATE TRIGGER case_record_fts_insert AFTER INSERT ON case_record BEGIN\n"
	"  INSERT INTO case_record_fts (rowid, title, body)\n"
	"  VALUES (new.id, COALESCE(new.title, ''), COALESCE(new.description, '') || ' ' || new.ticket_number);\n"
	"END;\n"
	"CREATE TRIGGER case_record_fts_update AFTER UPDATE OF title, description, ticket_number ON case_record BEGIN\n"
	"  DELETE FROM case_record_fts WHERE rowid = old.id;\n"
	"  INSERT INTO case_record_fts (rowid, title, body)\n"
	"  VALUES (new.id, COALESCE(new.title, ''), COALESCE(new.description, '') || ' ' || new.ticket_number);\n"
	"END;\n"
	"CREATE TRIGGER case_record_fts_delete AFTER DELETE ON case_record BEGIN\n"
	"  DELETE FROM case_record_fts WHERE rowid = old.id;\n"
	"END;\n"
	"INSERT INTO case_record_fts (rowid, title, body)\n"
	"  SELECT id, COALESCE(title, ''), COALESCE(description, '') || ' ' || ticket_number FROM case_record;\n";

/* The case search index is written by the store once per transaction, at
 * its commit (fts_flush), no longer by triggers at every field write: a
 * virtual table written early in a transaction takes part in each of its
 * savepoints after, and e-mail ingest spent a third of its time there. */
static const char case_fts_untrigger_sqlite[] =
	"DROP TRIGGER IF EXISTS case_record_fts_insert;\n"
	"DROP TRIGGER IF EXISTS case_record_fts_update;\n"
	"DROP TRIGGER IF EXISTS case_record_fts_delete;\n"
	/* Each transaction that writes the index adds a segment; FTS5 merges
	 * four at a time by default, which rewrote segments after nearly
	 * every e-mail. Sixteen (the most) merges less often, in bigger steps
	 * (the setting is kept in the index). */
	"INSERT INTO case_record_fts (case_record_fts, rank) VALUES ('automerge', 16);\n";

static int untrigger_case_fts(const ca_sql_driver *drv, void *conn, ca_err *err)
{
	return strcmp(drv->name, "sqlite") ? 0 : drv->exec_script(conn, case_fts_untrigger_sqlite, err);
}

static const char schema_v16[] = "-- the C step (untrigger_case_fts) is the whole migration\n";

static int fill_case_fts(const ca_sql_driver *drv, void *conn, ca_err *err)
{
	return strcmp(drv->name, "sqlite") ? 0 : drv->exec_script(conn, case_fts_sqlite, err);
}

/* The follow-up agent (issue 12; src/followup): one row per decision it
 * took on a case, keyed by (case, step) and written in the transaction of
 * the outbox message it queued, so a step is queued once whatever restarts
 * or other processes do; the suggestions it leaves for a person (level
 * confirm), at most one pending per case; what shadow rules would have
 * done, once per decision and basis. The e-mail index lets a tick read a
 * case's latest replies without its whole thread. */
static const char schema_v17[] =
	"CREATE TABLE followup_step (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  case_id INTEGER NOT NULL REFERENCES case_record (id),\n"
	"  step INTEGER NOT NULL,\n"
	"  followup INTEGER NOT NULL,\n"
	"  rule TEXT NOT NULL,\n"
	"  level TEXT NOT NULL,\n"
	"  decision TEXT NOT NULL,\n"
	"  reason TEXT NOT NULL,\n"
	"  intent TEXT,\n"
	"  reply_email_id INTEGER,\n"
	"  outbox_id INTEGER,\n"
	"  suggestion_id INTEGER,\n"
	"  resolved INTEGER NOT NULL DEFAULT 0,\n"
	"  at TEXT NOT NULL,\n"
	"  at_epoch INTEGER NOT NULL,\n"
	"  UNIQUE (case_id, step)\n"
	");\n"
	"CREATE INDEX followup_step_at_idx ON followup_step (at);\n"
	"CREATE TABLE case_suggestion (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  case_id INTEGER NOT NULL REFERENCES case_record (id),\n"
	"  step INTEGER NOT NULL,\n"
	"  rule TEXT NOT NULL,\n"
	"  proposed TEXT NOT NULL CHECK (proposed IN ('send_followup', 'draft_reply', 'resolve')),\n"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acted', 'dismissed', 'superseded')),\n"
	"  reply_summary TEXT,\n"
	"  intent TEXT,\n"
	"  email_subject TEXT,\n"
	"  email_body TEXT,\n"
	"  resolution TEXT,\n"
	"  reply_email_id INTEGER,\n"
	"  created_at TEXT NOT NULL,\n"
	"  created_epoch INTEGER NOT NULL,\n"
	"  action TEXT,\n"
	"  acted_by TEXT,\n"
	"  acted_at TEXT,\n"
	"  outbox_id INTEGER\n"
	");\n"
	"CREATE INDEX case_suggestion_case_idx ON case_suggestion (case_id, id);\n"
	"CREATE UNIQUE INDEX case_suggestion_pending_idx ON case_suggestion (case_id) WHERE state = 'pending';\n"
	"CREATE TABLE followup_shadow (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  case_id INTEGER NOT NULL,\n"
	"  rule TEXT NOT NULL,\n"
	"  decision TEXT NOT NULL,\n"
	"  step INTEGER NOT NULL,\n"
	"  basis TEXT NOT NULL,\n"
	"  reason TEXT NOT NULL,\n"
	"  intent TEXT,\n"
	"  email TEXT,\n"
	"  at TEXT NOT NULL,\n"
	"  UNIQUE (case_id, rule, decision, step, basis)\n"
	");\n"
	"CREATE INDEX followup_shadow_rule_idx ON followup_shadow (rule, id);\n"
	"CREATE INDEX email_case_direction_idx ON email (case_id, direction, received_epoch);\n"
	"INSERT INTO counter (name, value) VALUES ('followup_step', 0), ('case_suggestion', 0), ('followup_shadow', 0);\n";

static const migration migrations[] = {
	{ 1, "initial schema", schema_v1, NULL },
	{ 2, "e-mail channel", schema_v2, NULL },
	{ 3, "contact by e-mail, any case", schema_v3, NULL },
	{ 4, "knowledge articles", schema_v4, NULL },
	{ 5, "knowledge harvest jobs", schema_v5, NULL },
	{ 6, "knowledge from conversations, article templates", schema_v6, NULL },
	{ 7, "knowledge article full-text search", schema_v7_sqlite, "sqlite" },
	{ 8, "e-mail Cc, content identity and received size", schema_v8, NULL },
	{ 9, "e-mail spam verdicts and holds", schema_v9, NULL },
	{ 10, "chat event ids per conversation, with their content", schema_v10, NULL },
	{ 11, "directory lookup keys", schema_v11, NULL },
	{ 12, "knowledge article versions in review", schema_v12, NULL },
	{ 13, "users, roles, agent experience profiles, credentials", schema_v13, NULL },
	{ 14, "case list filters, case search, report periods, settings generation", schema_v14, NULL },
	{ 15, "event outbox, e-mail worker state", schema_v15, NULL },
	{ 16, "case search index written once per transaction", schema_v16, NULL },
	{ 17, "follow-up steps, suggested actions, shadow decisions", schema_v17, NULL },
};

static const migration_step migration_steps[] = {
	{ 11, ca_store_fill_dir_keys, schema_v11_after },
	{ 14, fill_case_fts, NULL },
	{ 16, untrigger_case_fts, NULL },
};

static const migration_step *step_of(int version)
{
	for (size_t i = 0; i < CA_ARRAY_SIZE(migration_steps); i++)
		if (migration_steps[i].version == version)
			return &migration_steps[i];
	return NULL;
}

static int read_version(const ca_sql_row *row, void *ud)
{
	int64_t *v = ud;
	if (row->n < 1 || !row->text[0] || ca_parse_i64(row->text[0], v) < 0)
		*v = -1;
	return 1;
}

static int current_version(const ca_sql_driver *drv, void *conn, int64_t *ret, ca_err *err)
{
	int64_t v = 0;
	int r = drv->query(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, read_version, &v,
			   err);
	if (r)
		return r;
	if (v < 0)
		return ca_err_set(err, CA_EDB, "schema_version", "schema_version holds a non-numeric version");
	*ret = v;
	return 0;
}

static int apply(const ca_sql_driver *drv, void *conn, const migration *m, ca_err *err)
{
	/* A local error so the message can say which migration failed. */
	ca_err e;
	ca_err_clear(&e);
	int r = drv->exec(conn, "BEGIN", NULL, 0, &e);
	if (r)
		return ca_err_set(err, r, "schema_version", "migration %d (%s): %s", m->version, m->name, e.message);
	/* Another process may have applied it while we waited for the lock. */
	int64_t v = 0;
	r = current_version(drv, conn, &v, &e);
	if (!r && v < m->version) {
		r = drv->exec_script(conn, m->sql, &e);
		const migration_step *step = step_of(m->version);
		if (!r && step && step->fill)
			r = step->fill(drv, conn, &e);
		if (!r && step && step->sql_after)
			r = drv->exec_script(conn, step->sql_after, &e);
		if (!r) {
			char at[21];
			ca_time_iso(ca_time_now(), at);
			ca_sql_param p[] = { ca_sql_int(m->version), ca_sql_text(m->name), ca_sql_text(at) };
			r = drv->exec(conn, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
				      p, CA_ARRAY_SIZE(p), &e);
		}
	}
	if (!r)
		r = drv->exec(conn, "COMMIT", NULL, 0, &e);
	if (r) {
		/* The failure is what the caller needs to see; a failed
		 * rollback of a failed transaction adds nothing to it. */
		ca_err ignored;
		ca_err_clear(&ignored);
		(void)drv->exec(conn, "ROLLBACK", NULL, 0, &ignored);
		return ca_err_set(err, r, "schema_version", "migration %d (%s) failed: %s", m->version, m->name,
				  e.message);
	}
	return 0;
}

int ca_store_migrate(const ca_sql_driver *drv, void *conn, int *ret_version, ca_err *err)
{
	int r = drv->exec_script(conn,
				 "CREATE TABLE IF NOT EXISTS schema_version (\n"
				 "  version INTEGER PRIMARY KEY,\n"
				 "  name TEXT NOT NULL,\n"
				 "  applied_at TEXT NOT NULL\n"
				 ")",
				 err);
	if (r)
		return r;
	int64_t v = 0;
	r = current_version(drv, conn, &v, err);
	if (r)
		return r;
	int latest = migrations[CA_ARRAY_SIZE(migrations) - 1].version;
	if (v > latest)
		return ca_err_set(err, CA_ESTATE, "schema_version",
				  "database schema version %lld is newer than this build knows (%d); upgrade caseagent",
				  (long long)v, latest);
	for (size_t i = 0; i < CA_ARRAY_SIZE(migrations); i++) {
		if (migrations[i].version <= v || (migrations[i].dialect && strcmp(migrations[i].dialect, drv->name)))
			continue;
		r = apply(drv, conn, &migrations[i], err);
		if (r)
			return r;
	}
	*ret_version = latest;
	return 0;
}
