/* SPDX-License-Identifier: MIT */
/*
 * The route table: every route of the service with its method, path
 * template, the rights it needs (any one of the CA_RIGHT_* bits; 0 with
 * SRV_PUBLIC for the few that need no credentials; 0 without it for any
 * authenticated caller), its handler, body and limit, the query parameters
 * it takes, a summary, and JSON Schema fragments of its request and response.
 * The router (router.c), GET /openapi.json (openapi.c) and the authz test
 * (tests/server/) all read this table and nothing else, as Redis reads its
 * command table. Rights are granted to roles by ca_role_rights (src/auth);
 * this table only says what each route needs. The paths are a contract
 * other tools rely on (docs/api.md).
 */
#include "srv.h"

#define W CA_RIGHT_WORK
#define CONF CA_RIGHT_CONFIGURE

/* Schemas used by several routes. */
#define EMPTY "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"
#define OBJ "{\"type\":\"object\"}"
#define CASE_OUT                                                                                                    \
	"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"ticket_number\":{\"type\":\"string\"}," \
	"\"version\":{\"type\":\"integer\"},\"fields\":{\"type\":\"object\"},\"provenance\":{\"type\":\"object\"},"   \
	"\"notes\":{\"type\":\"array\"},\"suggestions\":{\"type\":\"array\"},"                                        \
	"\"display\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}}}"
#define FIELDS_IN                                                                                                   \
	"{\"type\":\"object\",\"properties\":{\"fields\":{\"type\":\"object\",\"additionalProperties\":"             \
	"{\"type\":[\"string\",\"null\"]}}},\"required\":[\"fields\"],\"additionalProperties\":false}"
#define STATUS_OUT                                                                                                  \
	"{\"type\":\"object\",\"properties\":{\"case\":{\"type\":\"string\"},\"old_status\":{\"type\":\"string\"},"  \
	"\"status\":{\"type\":\"string\"},\"reason\":{\"type\":[\"string\",\"null\"]},\"version\":{\"type\":\"integer\"}}}"
#define CHANGED_OUT                                                                                                 \
	"{\"type\":\"object\",\"properties\":{\"case\":{\"type\":[\"string\",\"null\"]},\"changed\":{\"type\":\"array\"}," \
	"\"no_changes\":{\"type\":\"boolean\"},\"missing\":{\"type\":\"array\"},\"suggestions\":{\"type\":\"array\"}}}"
#define JOB_OUT                                                                                                     \
	"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"source\":{\"type\":\"string\"},"       \
	"\"state\":{\"type\":\"string\"},\"total\":{\"type\":\"integer\"},\"processed\":{\"type\":\"integer\"}}}"
#define USER_OUT                                                                                                    \
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"role\":{\"type\":\"string\"},"        \
	"\"profile\":{\"type\":\"string\"},\"display_name\":{\"type\":[\"string\",\"null\"]},"                       \
	"\"disabled\":{\"type\":\"boolean\"},\"has_password\":{\"type\":\"boolean\"},\"created_at\":{\"type\":\"string\"}}}"
#define PROFILE                                                                                                     \
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},"  \
	"\"autonomous_case\":{\"type\":\"boolean\"},\"autonomous_followup\":{\"type\":\"boolean\"}},"                 \
	"\"additionalProperties\":false}"
#define FOLLOWUP_RUN                                                                                                \
	"{\"type\":\"object\",\"properties\":{\"now\":{\"type\":[\"string\",\"integer\"]},\"cases\":{\"type\":\"integer\"}," \
	"\"counts\":{\"type\":\"object\"},\"decisions\":{\"type\":\"array\"}}}"
#define LIST_OF(key) "{\"type\":\"object\",\"properties\":{\"" key "\":{\"type\":\"array\"}}}"
#define PAGE_OF(key)                                                                                                \
	"{\"type\":\"object\",\"properties\":{\"" key "\":{\"type\":\"array\"},"                                    \
	"\"next_cursor\":{\"type\":[\"string\",\"null\"]}}}"

const char *const srv_right_names[6] = { "work", "configure", "reports", "chat_ingest", "mail_ingest", "metrics" };

const char *const srv_api_roots[] = { "api", "healthz", "readyz", "metrics", "openapi.json", NULL };

const srv_route srv_routes[] = {
	/* ---- outside /api/v1 ---- */
	{ "GET", "/healthz", 0, SRV_PUBLIC | SRV_NO_AGENT, srv_h_healthz, SRV_BODY_NONE, 0, NULL, "Liveness: the process answers",
	  NULL, "{\"type\":\"object\",\"properties\":{\"status\":{\"const\":\"ok\"}}}", 0, NULL, NULL },
	{ "GET", "/readyz", 0, SRV_PUBLIC | SRV_NO_AGENT, srv_h_readyz, SRV_BODY_NONE, 0, NULL,
	  "Readiness: the database is reachable and its schema current (503 otherwise)", NULL,
	  "{\"type\":\"object\",\"properties\":{\"status\":{\"const\":\"ready\"},\"database\":{\"type\":\"string\"}}}", 0, NULL, NULL },
	{ "GET", "/openapi.json", 0, SRV_PUBLIC | SRV_NO_AGENT, srv_h_openapi, SRV_BODY_NONE, 0, NULL,
	  "This API as an OpenAPI 3.1 document, generated from the route table", NULL, OBJ, 0, NULL, NULL },
	{ "GET", "/metrics", CA_RIGHT_METRICS, SRV_NO_AGENT, srv_h_metrics, SRV_BODY_NONE, 0, NULL,
	  "Prometheus text exposition 0.0.4: requests, durations, agent decisions, e-mails, harvest, database errors",
	  NULL, "{\"type\":\"string\"}", 0, NULL, NULL },

	/* ---- sessions and who you are ---- */
	{ "POST", "/api/v1/session", 0, SRV_PUBLIC, srv_h_login, SRV_BODY_JSON, 0, NULL,
	  "Log in with a password: sets the HttpOnly session cookie; send the csrf value as X-CSRF-Token on unsafe methods",
	  "{\"type\":\"object\",\"properties\":{\"user\":{\"type\":\"string\"},\"password\":{\"type\":\"string\"}},"
	  "\"required\":[\"user\",\"password\"],\"additionalProperties\":false}",
	  "{\"type\":\"object\",\"properties\":{\"csrf\":{\"type\":\"string\"},\"user\":{\"type\":\"string\"},"
	  "\"role\":{\"type\":\"string\"},\"profile\":{\"type\":\"string\"},\"expires_at\":{\"type\":\"string\"}}}", 0, NULL, NULL },
	{ "GET", "/api/v1/session", 0, 0, srv_h_whoami, SRV_BODY_NONE, 0, NULL, "Who you are: your rights, your agent experience profile's features, and for a cookie session its CSRF token "
	  "(a reloaded page reads it here; the session secret stays in its HttpOnly cookie)", NULL,
	  "{\"type\":\"object\",\"properties\":{\"user\":{\"type\":\"string\"},\"role\":{\"type\":\"string\"},"
	  "\"profile\":{\"type\":\"string\"},\"rights\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	  "\"via\":{\"enum\":[\"session\",\"token\"]},\"csrf\":{\"type\":\"string\"},"
	  "\"features\":{\"type\":\"object\",\"properties\":{\"autonomous_case\":{\"type\":\"boolean\"},"
	  "\"autonomous_followup\":{\"type\":\"boolean\"}}}}}", 0, NULL, NULL },
	{ "DELETE", "/api/v1/session", 0, 0, srv_h_logout, SRV_BODY_JSON, 0, NULL,
	  "Log out: ends the session and clears its cookie", EMPTY, NULL, 204, NULL, NULL },
	{ "GET", "/api/v1/roles", 0, SRV_NO_AGENT, srv_h_roles, SRV_BODY_NONE, 0, NULL, "The roles and the rights each grants",
	  NULL, LIST_OF("roles"), 0, NULL, NULL },
	{ "GET", "/api/v1/notifications", 0, 0, srv_h_notifications, SRV_BODY_NONE, 0, NULL,
	  "Your own notifications, newest first", NULL, LIST_OF("notifications"), 0, NULL, NULL },
	{ "POST", "/api/v1/notifications/{id}/read", 0, 0, srv_h_notification_read, SRV_BODY_JSON, 0, NULL,
	  "Mark one of your notifications read", EMPTY, NULL, 204, NULL, NULL },
	{ "GET", "/api/v1/events", 0, SRV_STREAM, srv_h_events, SRV_BODY_NONE, 0, NULL,
	  "Live events as Server-Sent Events, filtered to what you may see; resumes after Last-Event-ID", NULL,
	  "{\"type\":\"string\",\"contentMediaType\":\"text/event-stream\"}", 0, NULL, NULL },

	/* ---- the integrations' doors ---- */
	{ "POST", "/api/v1/conversations/{id}/events", CA_RIGHT_CHAT_INGEST, SRV_BATCH, srv_h_chat_event, SRV_BODY_JSON, 0,
	  NULL, "One chat event of conversation {id}, as `caseagent chat event` takes it; a replay answers as such",
	  "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"type\":{\"enum\":[\"open\",\"message\","
	  "\"accept\",\"update\",\"wait\",\"wrapup\",\"close\",\"link\"]},\"conversation\":{\"type\":\"string\"},"
	  "\"message\":{\"type\":\"object\"},\"case\":{\"type\":\"string\"},\"actor\":{\"type\":\"string\"},"
	  "\"identity\":{\"type\":\"string\"},\"channel\":{\"type\":\"string\"}},\"required\":[\"id\",\"type\"],"
	  "\"additionalProperties\":false}",
	  "{\"type\":\"object\",\"properties\":{\"event\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"},"
	  "\"case\":{\"type\":[\"string\",\"null\"]},\"created\":{\"type\":\"boolean\"},\"changed\":{\"type\":\"array\"},"
	  "\"no_changes\":{\"type\":\"boolean\"},\"missing\":{\"type\":\"array\"},\"replayed\":{\"type\":\"boolean\"}}}", 0, NULL, NULL },
	{ "POST", "/api/v1/email/messages", CA_RIGHT_MAIL_INGEST, 0, srv_h_email_ingest, SRV_BODY_RFC822, SRV_BODY_MAIL,
	  "mailbox", "One raw RFC 5322 message (Content-Type: message/rfc822), as an MTA pipe delivers it",
	  "{\"type\":\"string\",\"contentMediaType\":\"message/rfc822\"}",
	  "{\"type\":\"object\",\"properties\":{\"email_id\":{\"type\":[\"integer\",\"null\"]},"
	  "\"message_id\":{\"type\":[\"string\",\"null\"]},\"outcome\":{\"type\":\"string\"},"
	  "\"case\":{\"type\":[\"string\",\"null\"]}}}", 0, NULL, NULL },

	/* ---- a representative's work ---- */
	{ "GET", "/api/v1/conversations", W, 0, srv_h_conversations, SRV_BODY_NONE, 0, "state,limit,cursor",
	  "Conversations, newest first, a page at a time", NULL, PAGE_OF("conversations"), 0, NULL, NULL },
	{ "GET", "/api/v1/conversations/{id}", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "One conversation: state, messages, case, interactions", NULL, OBJ, 0, ca_conversation_show, NULL },
	{ "GET", "/api/v1/cases", W, 0, srv_h_cases, SRV_BODY_NONE, 0, "status,owner,customer,origin,q,limit,cursor",
	  "Cases, newest first, filtered, a page at a time (next_cursor)", NULL, PAGE_OF("cases"), 0, NULL, NULL },
	{ "POST", "/api/v1/cases", W, 0, srv_h_case_create, SRV_BODY_JSON, 0, NULL,
	  "A case a person creates by hand (every field set by a person)", FIELDS_IN, CASE_OUT, 201, NULL, NULL },
	{ "GET", "/api/v1/cases/{ref}", W, 0, srv_h_case_show, SRV_BODY_NONE, 0, NULL,
	  "One case: values, provenance, evidence, notes, lookup display names, version (also its ETag)", NULL, CASE_OUT, 0, NULL, NULL },
	{ "PATCH", "/api/v1/cases/{ref}", W, 0, srv_h_case_patch, SRV_BODY_JSON, 0, NULL,
	  "A person's edit of fields, all or nothing; If-Match with the ETag refuses a stale edit (412)", FIELDS_IN,
	  "{\"type\":\"object\",\"properties\":{\"case\":{\"type\":\"string\"},\"changed\":{\"type\":\"array\"},"
	  "\"version\":{\"type\":\"integer\"}}}", 0, NULL, NULL },
	{ "POST", "/api/v1/cases/{ref}/update-from-conversation", W, 0, srv_h_case_ufc, SRV_BODY_JSON, 0, NULL,
	  "Update from conversation: the agent fills what the update policy allows (people win)", EMPTY,
	  CHANGED_OUT, 0, NULL, NULL },
	{ "POST", "/api/v1/cases/{ref}/resolve", W, 0, srv_h_case_resolve, SRV_BODY_JSON, 0, NULL,
	  "Resolve an open case, saying how the problem was solved",
	  "{\"type\":\"object\",\"properties\":{\"resolution\":{\"type\":\"string\"}},\"required\":[\"resolution\"],"
	  "\"additionalProperties\":false}",
	  STATUS_OUT, 0, NULL, NULL },
	{ "POST", "/api/v1/cases/{ref}/cancel", W, 0, srv_h_case_cancel, SRV_BODY_JSON, 0, NULL, "Cancel an open case",
	  "{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":\"string\"}},\"additionalProperties\":false}",
	  STATUS_OUT, 0, NULL, NULL },
	{ "POST", "/api/v1/cases/{ref}/reactivate", W, 0, srv_h_case_reactivate, SRV_BODY_JSON, 0, NULL,
	  "Reactivate a resolved or cancelled case", EMPTY, STATUS_OUT, 0, NULL, NULL },
	{ "GET", "/api/v1/cases/{ref}/suggestion", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "The follow-up agent's pending suggestion on the case (a rule at level confirm), or null", NULL,
	  "{\"type\":\"object\",\"properties\":{\"case\":{\"type\":\"string\"},\"suggestion\":{\"type\":[\"object\",\"null\"],"
	  "\"properties\":{\"id\":{\"type\":\"integer\"},\"rule\":{\"type\":\"string\"},\"step\":{\"type\":\"integer\"},"
	  "\"created_at\":{\"type\":\"string\"},\"proposed\":{\"enum\":[\"send_followup\",\"draft_reply\",\"resolve\"]},"
	  "\"reply_summary\":{\"type\":[\"string\",\"null\"]},\"intent\":{\"type\":[\"object\",\"null\"]},"
	  "\"email\":{\"type\":[\"object\",\"null\"]},\"resolution\":{\"type\":[\"string\",\"null\"]}}}}}",
	  0, ca_case_suggestion, NULL },
	{ "POST", "/api/v1/cases/{ref}/suggestion/{id}", W, 0, srv_h_case_suggestion_act, SRV_BODY_JSON, 0, NULL,
	  "Act on the case's suggestion {id}: send its e-mail (as edited), draft a reply from it, resolve, or dismiss",
	  "{\"type\":\"object\",\"properties\":{\"action\":{\"type\":\"string\",\"enum\":[\"send\",\"draft\",\"resolve\","
	  "\"dismiss\"]},\"subject\":{\"type\":\"string\"},\"body\":{\"type\":\"string\"},\"resolution\":{\"type\":\"string\"}},"
	  "\"required\":[\"action\"],\"additionalProperties\":false}",
	  "{\"type\":\"object\",\"properties\":{\"case\":{\"type\":\"string\"},\"suggestion\":{\"type\":\"integer\"},"
	  "\"action\":{\"type\":\"string\"},\"outbox\":{\"type\":[\"object\",\"integer\",\"null\"]},"
	  "\"draft\":{\"type\":[\"object\",\"null\"]},\"status\":{\"type\":\"string\"}}}",
	  0, NULL, NULL },
	{ "GET", "/api/v1/cases/{ref}/resolution-proposal", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "Resolution help: the resolution the agent proposes from the case's thread, with its evidence (writes nothing)",
	  NULL,
	  "{\"type\":\"object\",\"properties\":{\"case\":{\"type\":\"string\"},\"resolution\":{\"type\":[\"string\",\"null\"]},"
	  "\"confidence\":{\"type\":\"number\"},\"evidence\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	  "\"properties\":{\"source\":{\"enum\":[\"email\",\"message\",\"note\"]},\"id\":{\"type\":[\"string\",\"integer\"]},"
	  "\"text\":{\"type\":\"string\"}}}}}}",
	  0, ca_case_resolution_proposal, NULL },
	{ "GET", "/api/v1/cases/{ref}/audit", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "The case's audit: every field change, oldest first", NULL, LIST_OF("audit"), 0, ca_case_audit, NULL },
	{ "GET", "/api/v1/cases/{ref}/notes", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL, "The case's notes, oldest first",
	  NULL, LIST_OF("notes"), 0, ca_case_notes, NULL },
	{ "POST", "/api/v1/cases/{ref}/notes", W, 0, srv_h_note_add, SRV_BODY_JSON, 0, NULL, "Add a person's note",
	  "{\"type\":\"object\",\"properties\":{\"body\":{\"type\":\"string\"}},\"required\":[\"body\"],"
	  "\"additionalProperties\":false}",
	  "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"kind\":{\"type\":\"string\"},"
	  "\"body\":{\"type\":\"string\"},\"actor\":{\"type\":\"string\"},\"at\":{\"type\":\"string\"}}}", 201, NULL, NULL },
	{ "GET", "/api/v1/cases/{ref}/emails", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "The case's e-mails, incoming and outgoing, oldest first", NULL, LIST_OF("emails"), 0, ca_case_emails, NULL },
	{ "POST", "/api/v1/cases/{ref}/emails", W, 0, srv_h_case_reply, SRV_BODY_JSON, 0, NULL,
	  "Reply to the case's customer: queued in the outbox, threaded with the case, sent by the worker",
	  "{\"type\":\"object\",\"properties\":{\"body\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"}},"
	  "\"required\":[\"body\"],\"additionalProperties\":false}",
	  "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"to\":{\"type\":\"string\"},"
	  "\"subject\":{\"type\":\"string\"},\"case\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"}}}", 201, NULL, NULL },
	{ "GET", "/api/v1/email/log", W, 0, srv_h_email_log, SRV_BODY_NONE, 0, "limit",
	  "The e-mail activity monitor, newest first", NULL, LIST_OF("log"), 0, NULL, NULL },
	{ "GET", "/api/v1/email/messages/{id}", W, 0, srv_h_email_show, SRV_BODY_NONE, 0, NULL,
	  "One stored e-mail with its attachments' metadata and spam verdict", NULL, OBJ, 0, NULL, NULL },
	{ "GET", "/api/v1/email/outbox", W, 0, srv_h_all, SRV_BODY_NONE, 0, NULL,
	  "Responses and replies queued or sent", NULL, LIST_OF("outbox"), 0, NULL, ca_outbox },
	{ "GET", "/api/v1/email/held", W, 0, srv_h_email_held, SRV_BODY_NONE, 0, "limit",
	  "E-mails held (spam, or not spam-checked), newest first", NULL, LIST_OF("held"), 0, NULL, NULL },
	{ "POST", "/api/v1/email/messages/{id}/release", W, 0, srv_h_email_release, SRV_BODY_JSON, 0, NULL,
	  "Release a held e-mail: it is then decided as new mail is", EMPTY, OBJ, 0, NULL, NULL },
	{ "GET", "/api/v1/email/status", W, 0, srv_h_all, SRV_BODY_NONE, 0, NULL,
	  "The state of IMAP polling and SMTP sending", NULL, OBJ, 0, NULL, ca_email_status },
	{ "GET", "/api/v1/knowledge/articles", W, 0, srv_h_articles, SRV_BODY_NONE, 0, "state",
	  "Knowledge articles in a state (default: all but discarded), newest first", NULL, LIST_OF("articles"), 0, NULL, NULL },
	{ "GET", "/api/v1/knowledge/articles/{ref}", W, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "One knowledge article with its sources", NULL, OBJ, 0, ca_knowledge_show, NULL },
	{ "PATCH", "/api/v1/knowledge/articles/{ref}", W, 0, srv_h_article_change, SRV_BODY_JSON, 0, NULL,
	  "A reviewer's change: content, state, compliance, audience, owner",
	  "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"},\"issue\":{\"type\":\"string\"},"
	  "\"cause\":{\"type\":\"string\"},\"resolution\":{\"type\":\"string\"},\"state\":{\"enum\":[\"draft\","
	  "\"in_review\",\"published\",\"archived\",\"discarded\"]},\"compliance\":{\"enum\":[\"pending\","
	  "\"compliant\",\"non_compliant\"]},\"audience\":{\"enum\":[\"internal\",\"external\"]},"
	  "\"owner\":{\"type\":\"string\"},\"bump_minor\":{\"type\":\"boolean\"}},\"additionalProperties\":false}",
	  OBJ, 0, NULL, NULL },
	{ "POST", "/api/v1/knowledge/articles/{ref}/ratings", W, 0, srv_h_article_rate, SRV_BODY_JSON, 0, NULL,
	  "Rate an article from 1 to 5",
	  "{\"type\":\"object\",\"properties\":{\"rating\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5}},"
	  "\"required\":[\"rating\"],\"additionalProperties\":false}",
	  OBJ, 0, NULL, NULL },
	{ "GET", "/api/v1/knowledge/search", W, 0, srv_h_search, SRV_BODY_NONE, 0, "q,audience,limit",
	  "Published articles ranked for a query (BM25)", NULL, LIST_OF("results"), 0, NULL, NULL },
	{ "GET", "/api/v1/knowledge/insights", W, 0, srv_h_all, SRV_BODY_NONE, 0, NULL,
	  "Knowledge base figures: articles, ratings, coverage, harvests", NULL, OBJ, 0, NULL, ca_knowledge_insights },

	/* ---- configuration ---- */
	{ "GET", "/api/v1/settings", W | CONF, 0, srv_h_all, SRV_BODY_NONE, 0, NULL,
	  "The whole settings document (the workspace needs its field definitions)", NULL, OBJ, 0, NULL,
	  ca_settings_export },
	{ "PUT", "/api/v1/settings", CONF, 0, srv_h_settings_put, SRV_BODY_JSON, 0, NULL,
	  "Replace the whole settings document; a bad one is refused whole, naming the key", OBJ, OBJ, 0, NULL, NULL },
	{ "GET", "/api/v1/users", CONF, 0, srv_h_all, SRV_BODY_NONE, 0, NULL, "Users, by name", NULL, LIST_OF("users"),
	  0, NULL, ca_user_list },
	{ "POST", "/api/v1/users", CONF, 0, srv_h_user_add, SRV_BODY_JSON, 0, NULL,
	  "Add a user (password optional: integration users log in with tokens only)",
	  "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"role\":{\"type\":\"string\"},"
	  "\"profile\":{\"type\":\"string\"},\"password\":{\"type\":\"string\"}},\"required\":[\"name\",\"role\"],"
	  "\"additionalProperties\":false}",
	  USER_OUT, 201, NULL, NULL },
	{ "GET", "/api/v1/users/{name}", CONF, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL, "One user", NULL, USER_OUT, 0,
	  ca_user_show, NULL },
	{ "PATCH", "/api/v1/users/{name}", CONF, 0, srv_h_user_change, SRV_BODY_JSON, 0, NULL,
	  "Change a user's role, profile, display name, password, or disable them",
	  "{\"type\":\"object\",\"properties\":{\"role\":{\"type\":\"string\"},\"profile\":{\"type\":\"string\"},"
	  "\"display_name\":{\"type\":[\"string\",\"null\"]},\"disabled\":{\"type\":\"boolean\"},"
	  "\"password\":{\"type\":[\"string\",\"null\"]}},\"additionalProperties\":false}",
	  USER_OUT, 0, NULL, NULL },
	{ "GET", "/api/v1/users/{name}/tokens", CONF, 0, srv_h_tokens, SRV_BODY_NONE, 0, NULL,
	  "A user's API tokens (never their secrets)", NULL, LIST_OF("tokens"), 0, NULL, NULL },
	{ "POST", "/api/v1/users/{name}/tokens", CONF, 0, srv_h_token_create, SRV_BODY_JSON, 0, NULL,
	  "Create an API token: the token is in this answer only",
	  "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"additionalProperties\":false}",
	  "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"user\":{\"type\":\"string\"},"
	  "\"name\":{\"type\":[\"string\",\"null\"]},\"token\":{\"type\":\"string\"},\"created_at\":{\"type\":\"string\"}}}",
	  201, NULL, NULL },
	{ "DELETE", "/api/v1/tokens/{id}", CONF, 0, srv_h_token_revoke, SRV_BODY_JSON, 0, NULL, "Revoke an API token",
	  EMPTY, NULL, 204, NULL, NULL },
	{ "GET", "/api/v1/profiles", CONF, 0, srv_h_all, SRV_BODY_NONE, 0, NULL, "Agent experience profiles", NULL,
	  LIST_OF("profiles"), 0, NULL, ca_profile_list },
	{ "GET", "/api/v1/profiles/{name}", CONF, 0, srv_h_ref, SRV_BODY_NONE, 0, NULL,
	  "One agent experience profile", NULL, PROFILE, 0, ca_profile_show, NULL },
	{ "PUT", "/api/v1/profiles/{name}", CONF, 0, srv_h_profile_put, SRV_BODY_JSON, 0, NULL,
	  "Create or replace an agent experience profile (the whole object)", PROFILE, PROFILE, 0, NULL, NULL },
	{ "GET", "/api/v1/knowledge/harvests", CONF, 0, srv_h_harvests, SRV_BODY_NONE, 0, NULL,
	  "Historical harvest jobs", NULL, LIST_OF("jobs"), 0, NULL, NULL },
	{ "POST", "/api/v1/knowledge/harvests", CONF, 0, srv_h_harvest_start, SRV_BODY_JSON, 0, NULL,
	  "Start a harvest job; the server's background worker runs it (and resumes it after a restart)",
	  "{\"type\":\"object\",\"properties\":{\"source\":{\"enum\":[\"cases\",\"conversations\"]},"
	  "\"rule\":{\"type\":[\"string\",\"null\"]}},\"additionalProperties\":false}",
	  JOB_OUT, 202, NULL, NULL },
	{ "GET", "/api/v1/knowledge/harvests/{id}", CONF, 0, srv_h_harvest_show, SRV_BODY_NONE, 0, NULL,
	  "One harvest job and its progress", NULL, JOB_OUT, 0, NULL, NULL },
	{ "GET", "/api/v1/knowledge/harvests/{id}/log", CONF, 0, srv_h_harvest_log, SRV_BODY_NONE, 0, "outcome,limit",
	  "A harvest job's per-record log", NULL, LIST_OF("log"), 0, NULL, NULL },
	{ "POST", "/api/v1/knowledge/harvests/{id}/stop", CONF, 0, srv_h_harvest_stop, SRV_BODY_JSON, 0, NULL,
	  "Stop a running harvest job after its current batch", EMPTY, JOB_OUT, 0, NULL, NULL },

	{ "POST", "/api/v1/followup/simulate", CONF, 0, srv_h_followup_simulate, SRV_BODY_JSON, 0, NULL,
	  "Simulate the follow-up rules over up to 100 matching cases as of now: per case the reply intent, the action "
	  "and the e-mail; writes and sends nothing",
	  "{\"type\":\"object\",\"properties\":{\"rule\":{\"type\":[\"string\",\"null\"]},"
	  "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}},\"additionalProperties\":false}",
	  FOLLOWUP_RUN, 0, NULL, NULL },
	{ "GET", "/api/v1/followup/shadow", CONF, 0, srv_h_followup_shadow, SRV_BODY_NONE, 0, "rule,limit",
	  "What follow-up rules at level shadow decided, newest first (they send and change nothing)", NULL,
	  "{\"type\":\"object\",\"properties\":{\"rule\":{\"type\":[\"string\",\"null\"]},"
	  "\"decisions\":{\"type\":\"array\"}}}",
	  0, NULL, NULL },

	/* ---- reports ---- */
	{ "GET", "/api/v1/interactions", CA_RIGHT_REPORTS, 0, srv_h_interactions, SRV_BODY_NONE, 0, "conversation",
	  "The agent's interaction log", NULL, LIST_OF("interactions"), 0, NULL, NULL },
	{ "GET", "/api/v1/reports/agent", CA_RIGHT_REPORTS, 0, srv_h_report_agent, SRV_BODY_NONE, 0, "from,to",
	  "The agent's own figures for a period [from, to) (ISO 8601 UTC)", NULL, OBJ, 0, NULL, NULL },

	/* ---- the web UI (web.c) ---- */
	{ "GET", "/{path}", 0, SRV_PUBLIC | SRV_NO_AGENT | SRV_WEB, srv_h_web, SRV_BODY_NONE, 0, NULL,
	  "The web UI's built files (serve --web DIR), for any path of any depth outside /api/, /healthz, /readyz, "
	  "/metrics and /openapi.json: /assets/* cached for a year (immutable), other paths index.html (no-cache) "
	  "for the UI's own routing; without a built UI, a page saying how to build it",
	  NULL, "{\"type\":\"string\",\"contentMediaType\":\"text/html\"}", 0, NULL, NULL },
};

const size_t srv_nroutes = sizeof srv_routes / sizeof srv_routes[0];
