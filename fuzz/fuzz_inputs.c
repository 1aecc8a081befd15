/* SPDX-License-Identifier: MIT */
/*
 * One libFuzzer target over every parser of outside input: chat events,
 * transcript files (through simulate and replay), settings, CSV and JSONL
 * imports, raw message text through the whole analysis (tokens, sentences,
 * prediction, summary), and raw e-mail (the MIME parser, HTML to text,
 * reply extraction, and the whole ingest path into the store), PII
 * removal over any text, and the answers of the spam filters (spamd's
 * spamc protocol, rspamd's JSON) with the spam verdict of headers, and
 * the HTTP service's parsers (request path, query string, If-Match,
 * Last-Event-ID, Cookie, Authorization, Content-Type, X-Forwarded-For,
 * body schemas), and the reading of a customer's reply (its text, and the
 * parsed e-mail's reply text with its headers). The
 * first byte chooses the parser; the
 * rest is the input. Built with -DCA_FUZZ=ON and clang it is a libFuzzer
 * binary; otherwise fuzz_replay, which CTest runs over fuzz/corpus so every
 * crash once found stays fixed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "casemgmt.h"
#include "email.h"
#include "spam.h"
#include "followup.h"
#include "summary.h"
#include "srv.h"

static const char *SETTINGS =
	"{\"version\":1,\"channels\":{\"chat\":true,\"email\":true},"
	"\"email\":{\"mailboxes\":[\"support@shop.example\"],\"max_per_sender_per_hour\":5,"
	"\"auto_response\":{\"from\":\"noreply@shop.example\"}},"
	"\"arc_rules\":[{\"name\":\"pri\",\"condition\":{\"match\":\"all\",\"conditions\":[{\"field\":\"header.x-priority\",\"operator\":\"equals\",\"value\":\"1\"}]},"
	"\"fields\":{\"title\":\"{subject}\",\"description\":\"{body}\",\"serial\":\"{header:X-Serial}\"},\"accept_unknown_senders\":false},"
	"{\"name\":\"all\",\"fields\":{\"title\":\"{subject}\"},\"auto_response\":true}],"
	"\"fields\":["
	"{\"name\":\"customer\",\"type\":\"lookup\",\"lookup\":\"contact\",\"threshold\":0.6},"
	"{\"name\":\"category\",\"type\":\"option\",\"threshold\":0.2,\"options\":["
	"{\"value\":\"defect\",\"description\":\"broken damaged not working\",\"subcategories\":[{\"label\":\"Stain\",\"description\":\"a stain on it\"}]},"
	"{\"value\":\"billing\",\"description\":\"charge invoice refund\",\"cues\":[\"charged\"]}]},"
	"{\"name\":\"description\",\"type\":\"text\",\"threshold\":0.3},"
	"{\"name\":\"order_number\",\"type\":\"pattern\",\"pattern\":\"\\\\b[0-9]{6,10}\\\\b\",\"cues\":[\"order\"]},"
	"{\"name\":\"product\",\"type\":\"lookup\",\"lookup\":\"product\"},"
	"{\"name\":\"amount\",\"type\":\"number\",\"cues\":[\"amount\"]},"
	"{\"name\":\"when\",\"type\":\"date\",\"cues\":[\"on\"]},"
	"{\"name\":\"urgent\",\"type\":\"boolean\",\"cues\":[\"urgent\"]},"
	"{\"name\":\"serial\",\"type\":\"text\"}],"
	"\"default_fields\":[\"customer\",\"category\",\"description\"],"
	"\"update_rules\":[{\"condition\":{\"match\":\"any\",\"conditions\":[{\"field\":\"category\",\"operator\":\"equals\",\"value\":\"defect\"}]},"
	"\"predict\":[\"order_number\",\"product\",\"amount\",\"when\",\"urgent\"]}]}";

static char dir[64];
static ca_agent *agent;

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (n && fwrite(data, 1, n, f) != n)
		abort();
	fclose(f);
}

static void setup(void)
{
	if (agent)
		return;
	snprintf(dir, sizeof(dir), "/tmp/ca-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	char p[128];
	snprintf(p, sizeof(p), "%s/f.db", dir);
	ca_err err = { 0 };
	if (ca_agent_open(p, &agent, &err))
		abort();
	snprintf(p, sizeof(p), "%s/settings.json", dir);
	write_file(p, SETTINGS, strlen(SETTINGS));
	if (ca_settings_import_file(agent, p, &err))
		abort();
	snprintf(p, sizeof(p), "%s/c.jsonl", dir);
	const char *contacts = "{\"id\":\"C-1\",\"full_name\":\"Ana Lima\",\"email\":\"ana@example.org\",\"phone\":\"555 201 3344\"}\n";
	write_file(p, contacts, strlen(contacts));
	char *out = NULL;
	if (ca_import_file(agent, "contacts", p, &out, &err))
		abort();
	free(out);
	snprintf(p, sizeof(p), "%s/p.jsonl", dir);
	const char *products = "{\"id\":\"P-1\",\"name\":\"Acme Kettle\",\"aliases\":[\"kettle\"],\"product_number\":\"AK-1\"}\n";
	write_file(p, products, strlen(products));
	if (ca_import_file(agent, "products", p, &out, &err))
		abort();
	free(out);
}

static void run_text(const char *text, size_t len)
{
	if (!ca_utf8_valid(text, len, NULL) || memchr(text, 0, len))
		return;
	ca_msg msgs[2] = { { "m1", CA_ROLE_CUSTOMER, text, len }, { "m2", CA_ROLE_AGENT, text, len } };
	ca_err err = { 0 };
	if (ca_agent_ready(agent, &err))
		abort();
	ca_analysis an;
	ca_analysis_init(&an);
	ca_plan plan;
	if (ca_plan_update(agent, msgs, 2, &an, NULL, NULL, &plan, &err) == 0)
		ca_plan_done(&plan);
	ca_analysis_done(&an);
	ca_summary sum;
	if (ca_summarize(msgs, 2, 0, &sum, &err) == 0) {
		ca_buf b = { 0 };
		(void)ca_summary_render(&sum, &b); /* output unused: only crashes matter here */
		ca_buf_done(&b);
		ca_summary_done(&sum);
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	setup();
	/* 0xff: the HTTP service's parsers; otherwise the first byte modulo 10
	 * (so the corpus kept its meaning when the server came). */
	unsigned sel = data[0] == 0xff ? 10 : data[0] % 10;
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, body, n);
	text[n] = '\0';
	char *out = NULL;
	ca_err err = { 0 };
	char p[128];
	switch (sel) {
	case 0: /* one chat event */
		if (ca_chat_event(agent, text, &out, &err) == 0)
			free(out);
		break;
	case 1: /* a transcript file through simulate and replay */
		snprintf(p, sizeof(p), "%s/t.jsonl", dir);
		write_file(p, body, n);
		if (ca_simulate(agent, p, NULL, &out, &err) == 0)
			free(out);
		ca_err_clear(&err);
		if (ca_chat_replay(agent, p, NULL, &out, &err) == 0)
			free(out);
		break;
	case 2: { /* settings, on a scratch agent so the fixed settings stay */
		snprintf(p, sizeof(p), "%s/s.json", dir);
		write_file(p, body, n);
		json_t *j = json_loadb(body, n, 0, NULL);
		ca_settings *s = NULL;
		if (j && ca_settings_parse(j, &s, &err) == 0)
			ca_settings_free(s);
		json_decref(j);
		break;
	}
	case 3: /* CSV import */
		snprintf(p, sizeof(p), "%s/i.csv", dir);
		write_file(p, body, n);
		if (ca_import_file(agent, (n && body[0] & 1) ? "contacts" : "cases", p, &out, &err) == 0)
			free(out);
		break;
	case 4: /* JSONL import */
		snprintf(p, sizeof(p), "%s/i.jsonl", dir);
		write_file(p, body, n);
		if (ca_import_file(agent, (n && body[0] & 1) ? "products" : "cases", p, &out, &err) == 0)
			free(out);
		break;
	case 5:
		run_text(text, n);
		break;
	case 6: { /* raw e-mail through the whole ingest path, into the store */
		if (ca_email_ingest_raw(agent, body, n, "fuzz", "support@shop.example", &out, &err) == 0)
			free(out);
		break;
	}
	case 8: /* personal-data removal over any text */
		if (ca_pii_redact_text(agent, text, &out, &err) == 0)
			free(out);
		break;
	case 9: { /* spam filter answers, and the verdict of headers */
		ca_spam_verdict v;
		ca_spam_verdict_init(&v);
		if (ca_spam_parse_spamd(body, n, "spamd fuzz", &v, &err) == 0 && !v.origin)
			abort(); /* a verdict always names who gave it */
		ca_err_clear(&err);
		(void)ca_spam_parse_rspamd(body, n, "rspamd fuzz", &v, &err); /* only crashes and leaks matter */
		ca_email_global_init();
		ca_email e;
		if (ca_email_parse(body, n, 0, &e, &err) == 0) {
			(void)ca_spam_from_headers(e.headers, &v);
			ca_email_done(&e);
		}
		ca_spam_verdict_done(&v);
		break;
	}
	case 10: { /* the HTTP service's parsers of what a client sends */
		static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
		srv_path *path = malloc(sizeof *path);
		if (path && srv_path_parse(text, path, &err) == 0) {
			const char *params[SRV_MAX_PARAMS];
			char allow[128];
			for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
				(void)srv_route_find(methods[i], path, params, allow, sizeof allow);
		}
		free(path);
		srv_query q;
		(void)srv_query_parse(text, &q, &err);
		srv_query_done(&q);
		int64_t v;
		(void)srv_if_match_parse(text, &v, &err);
		(void)srv_event_id_parse(text, &v, &err);
		char cookie[256];
		(void)srv_cookie_get(text, "caseagent_session", cookie, sizeof cookie);
		(void)srv_bearer(text);
		char addr[64];
		(void)srv_forwarded_for(text, addr, sizeof addr);
		(void)srv_media_type_is(text, "application/json");
		(void)srv_secret_equal(text, "csrf-token");
		json_t *doc = json_loadb(body, n, 0, NULL);
		json_t **schemas = doc ? srv_schemas_load() : NULL;
		for (size_t i = 0; schemas && i < srv_nroutes; i++)
			(void)srv_body_check(schemas[i], doc, &err);
		srv_schemas_free(schemas);
		json_decref(doc);
		srv_utf8_clean(text);
		break;
	}
	case 7: { /* the parser alone, and what is derived from it */
		ca_email_global_init();
		ca_email e;
		ca_reply_reading rd;
		if (ca_email_parse(body, n, 0, &e, &err) == 0) {
			char *sn = ca_email_subject_norm(e.subject);
			free(sn);
			if (ca_reply_read(e.text, e.headers, &rd, NULL) == 0)
				ca_reply_reading_clear(&rd);
			ca_email_done(&e);
		}
		char *h = ca_html_to_text(body, n);
		free(h);
		char *rt = ca_email_reply_text(text);
		free(rt);
		if (ca_reply_classify(agent, text, NULL, &out, NULL) == 0)
			free(out);
		/* the reply with itself as the message it answers */
		if (ca_reply_read_ctx(text, text, NULL, &rd, NULL) == 0)
			ca_reply_reading_clear(&rd);
		break;
	}
	}
	free(text);
	return 0;
}

#ifndef CA_LIBFUZZER
/* Replay mode: run every file named (or every file in a named directory). */
#include <dirent.h>
static int replay(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	if (ca_file_read(path, (size_t)64 << 20, &data, &len, NULL) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const unsigned char *)data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0, runs = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) {
			bad |= replay(argv[i]);
			runs++;
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			bad |= replay(p);
			runs++;
		}
		closedir(d);
	}
	ca_agent_close(agent);
	if (dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			bad = 1;
	}
	printf("fuzz replay: %d inputs, %s\n", runs, bad ? "errors" : "no crash");
	return bad;
}
#endif
