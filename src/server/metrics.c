/* SPDX-License-Identifier: MIT */
/*
 * The service's counters, per process, as atomics (every worker thread
 * counts without a lock) and their Prometheus text exposition (format
 * 0.0.4): caseagent_http_requests_total{route,method,status}, the request
 * duration histogram by route, the agent's decisions on chat events by
 * outcome, e-mails by outcome, harvest records processed and database
 * errors. Routes are the table's templates (never raw paths), so the number
 * of series is bounded by the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other" };
#define NMETHODS (sizeof methods / sizeof methods[0])
static const int statuses[] = { 200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 408, 409,
				412, 413, 415, 422, 429, 500, 501, 503, 0 /* other */ };
#define NSTATUSES (sizeof statuses / sizeof statuses[0])
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof buckets / sizeof buckets[0])
static const char *const decisions[] = { "created", "withheld", "updated", "no_changes", "replayed" };
#define NDECISIONS (sizeof decisions / sizeof decisions[0])
static const char *const email_outcomes[] = { "created", "updated", "attached", "skipped", "spam",
					      "held",    "sent",    "failed",   "other" };
#define NEMAIL (sizeof email_outcomes / sizeof email_outcomes[0])

typedef struct route_hist {
	atomic_ullong le[NBUCKETS]; /* non-cumulative; summed when rendered */
	atomic_ullong count;
	atomic_ullong sum_us;
} route_hist;

struct srv_metrics {
	atomic_ullong *requests; /* [route][method][status], route srv_nroutes = unmatched */
	route_hist *hist;        /* [route] */
	atomic_ullong decisions[NDECISIONS];
	atomic_ullong emails[NEMAIL];
	atomic_ullong harvest_records;
	atomic_ullong db_errors;
};

srv_metrics *srv_metrics_new(void)
{
	srv_metrics *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->requests = calloc((srv_nroutes + 1) * NMETHODS * NSTATUSES, sizeof *m->requests);
	m->hist = calloc(srv_nroutes + 1, sizeof *m->hist);
	if (!m->requests || !m->hist) {
		srv_metrics_free(m);
		return NULL;
	}
	return m;
}

void srv_metrics_free(srv_metrics *m)
{
	if (!m)
		return;
	free(m->requests);
	free(m->hist);
	free(m);
}

static size_t method_slot(const char *method)
{
	for (size_t i = 0; i + 1 < NMETHODS; i++)
		if (!strcmp(methods[i], method))
			return i;
	return NMETHODS - 1;
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i + 1 < NSTATUSES; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUSES - 1;
}

void srv_metrics_request(srv_metrics *m, size_t route, const char *method, int status, double seconds)
{
	if (route > srv_nroutes)
		route = srv_nroutes;
	atomic_fetch_add(&m->requests[(route * NMETHODS + method_slot(method)) * NSTATUSES + status_slot(status)], 1);
	route_hist *h = &m->hist[route];
	size_t b = 0;
	while (b < NBUCKETS && seconds > buckets[b])
		b++;
	if (b < NBUCKETS)
		atomic_fetch_add(&h->le[b], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)(seconds > 0 ? seconds * 1e6 : 0));
}

void srv_metrics_decision(srv_metrics *m, const json_t *res)
{
	const json_t *changed = json_object_get(res, "changed");
	if (!res)
		return;
	if (json_is_true(json_object_get(res, "replayed")))
		atomic_fetch_add(&m->decisions[4], 1);
	else if (json_is_true(json_object_get(res, "created")))
		atomic_fetch_add(&m->decisions[0], 1);
	else if (json_array_size(json_object_get(res, "missing")) > 0 && json_is_null(json_object_get(res, "case")))
		atomic_fetch_add(&m->decisions[1], 1);
	else if (json_array_size(changed) > 0)
		atomic_fetch_add(&m->decisions[2], 1);
	else if (json_is_true(json_object_get(res, "no_changes")))
		atomic_fetch_add(&m->decisions[3], 1);
}

void srv_metrics_email(srv_metrics *m, const char *outcome, uint64_t n)
{
	size_t i = 0;
	while (i + 1 < NEMAIL && (!outcome || strcmp(email_outcomes[i], outcome)))
		i++;
	atomic_fetch_add(&m->emails[i], n);
}

void srv_metrics_harvest(srv_metrics *m, uint64_t records)
{
	atomic_fetch_add(&m->harvest_records, records);
}

void srv_metrics_db_error(srv_metrics *m)
{
	atomic_fetch_add(&m->db_errors, 1);
}

/* A growing text buffer; `oom` remembers a failed growth. */
typedef struct out_buf {
	char *s;
	size_t len, cap;
	bool oom;
} out_buf;

static void put(out_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static const char *route_label(size_t r)
{
	return r < srv_nroutes ? srv_routes[r].path : "unmatched";
}

char *srv_metrics_render(srv_metrics *m)
{
	out_buf b = { 0 };

	put(&b, "# HELP caseagent_http_requests_total HTTP requests answered, by route template, method and status.\n"
		"# TYPE caseagent_http_requests_total counter\n");
	for (size_t r = 0; r <= srv_nroutes; r++)
		for (size_t mi = 0; mi < NMETHODS; mi++)
			for (size_t si = 0; si < NSTATUSES; si++) {
				unsigned long long v =
					atomic_load(&m->requests[(r * NMETHODS + mi) * NSTATUSES + si]);
				if (!v)
					continue;
				if (statuses[si])
					put(&b, "caseagent_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
					    route_label(r), methods[mi], statuses[si], v);
				else
					put(&b, "caseagent_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} %llu\n",
					    route_label(r), methods[mi], v);
			}
	put(&b, "# HELP caseagent_http_request_duration_seconds Time from a request's first byte to its answer.\n"
		"# TYPE caseagent_http_request_duration_seconds histogram\n");
	for (size_t r = 0; r <= srv_nroutes; r++) {
		route_hist *h = &m->hist[r];
		unsigned long long count = atomic_load(&h->count), cum = 0;
		if (!count)
			continue;
		for (size_t i = 0; i < NBUCKETS; i++) {
			cum += atomic_load(&h->le[i]);
			put(&b, "caseagent_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    route_label(r), buckets[i], cum);
		}
		put(&b, "caseagent_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route_label(r),
		    count);
		put(&b, "caseagent_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_label(r),
		    (double)atomic_load(&h->sum_us) / 1e6);
		put(&b, "caseagent_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_label(r), count);
	}
	put(&b, "# HELP caseagent_agent_decisions_total The agent's decisions on chat events, by outcome.\n"
		"# TYPE caseagent_agent_decisions_total counter\n");
	for (size_t i = 0; i < NDECISIONS; i++)
		put(&b, "caseagent_agent_decisions_total{outcome=\"%s\"} %llu\n", decisions[i],
		    atomic_load(&m->decisions[i]));
	put(&b, "# HELP caseagent_emails_total E-mails ingested (by outcome) and sent or failed.\n"
		"# TYPE caseagent_emails_total counter\n");
	for (size_t i = 0; i < NEMAIL; i++)
		put(&b, "caseagent_emails_total{outcome=\"%s\"} %llu\n", email_outcomes[i], atomic_load(&m->emails[i]));
	put(&b, "# HELP caseagent_harvest_records_processed_total Records the background worker's harvest jobs processed.\n"
		"# TYPE caseagent_harvest_records_processed_total counter\n"
		"caseagent_harvest_records_processed_total %llu\n",
	    atomic_load(&m->harvest_records));
	put(&b, "# HELP caseagent_database_errors_total Requests that failed with a database error.\n"
		"# TYPE caseagent_database_errors_total counter\n"
		"caseagent_database_errors_total %llu\n",
	    atomic_load(&m->db_errors));
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
