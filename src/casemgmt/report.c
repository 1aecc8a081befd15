/* SPDX-License-Identifier: MIT */
/*
 * The agent's own figures for a period (issue 10, GET /reports/agent): what
 * it saw, created, withheld and filled, what people changed after it, the
 * e-mails and articles it wrote, and the follow-up agent's follow-ups,
 * resolutions, hand-overs, replies by intent and reopenings. The counting is the store's, one indexed
 * range per figure (migration 14); here the period is checked and written
 * in the one form the store compares, so "2026-12-01" and
 * "2026-12-01T00:00:00Z" mean the same instant.
 */
#include <stdio.h>
#include <string.h>
#include "casemgmt.h"

static bool digits(const char *s, size_t n)
{
	return strspn(s, "0123456789") >= n;
}

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* ISO 8601 in UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (also with a
 * fraction of seconds, dropped), written as YYYY-MM-DDTHH:MM:SSZ. */
static int period_end(const char *v, const char *key, char out[static 21], ca_err *err)
{
	size_t n = strlen(v);
	bool ok = n >= 10 && digits(v, 4) && v[4] == '-' && digits(v + 5, 2) && v[7] == '-' && digits(v + 8, 2);
	ok = ok && two(v + 5) >= 1 && two(v + 5) <= 12 && two(v + 8) >= 1 && two(v + 8) <= 31;
	if (ok && n == 10) {
		snprintf(out, 21, "%.10sT00:00:00Z", v);
		return 0;
	}
	ok = ok && n >= 20 && (v[10] == 'T' || v[10] == 't') && digits(v + 11, 2) && v[13] == ':' && digits(v + 14, 2) &&
	     v[16] == ':' && digits(v + 17, 2) && two(v + 11) < 24 && two(v + 14) < 60 && two(v + 17) < 61;
	if (ok && n > 20 && v[19] == '.') {
		size_t f = strspn(v + 20, "0123456789");
		ok = f > 0 && 20 + f + 1 == n && (v[n - 1] == 'Z' || v[n - 1] == 'z');
	} else {
		ok = ok && n == 20 && (v[19] == 'Z' || v[19] == 'z');
	}
	if (!ok)
		return ca_err_set(err, CA_EINVAL, key,
				  "%s '%.40s' is not a UTC time in ISO 8601 (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", key, v);
	snprintf(out, 21, "%.10sT%.8sZ", v, v + 11);
	return 0;
}

int ca_report_agent(ca_agent *a, const char *from, const char *to, char **ret_json, ca_err *err)
{
	char lo[21], hi[21];
	int r = 0;
	(void)ca_interactions_flush(a, NULL); /* count what this process decided; a failure leaves them queued */
	if (!ca_str_empty(from))
		r = period_end(from, "from", lo, err);
	if (!r && !ca_str_empty(to))
		r = period_end(to, "to", hi, err);
	if (!r && !ca_str_empty(from) && !ca_str_empty(to) && strcmp(lo, hi) >= 0)
		r = ca_err_set(err, CA_EINVAL, "to", "the period ends (%s) before or when it starts (%s)", hi, lo);
	json_t *rep = NULL;
	if (!r)
		r = ca_store_agent_report(a->store, ca_str_empty(from) ? NULL : lo, ca_str_empty(to) ? NULL : hi, &rep, err);
	/* The follow-up agent's figures (issue 12). A reply after an
	 * autonomous resolution counts within the resolved-case window: the
	 * widest of the ARC rules' (the e-mail channel attaches a reply to a
	 * resolved case within it), 24 hours without settings. */
	unsigned window = 0;
	for (size_t i = 0; a->settings && i < a->settings->n_arc; i++)
		if (a->settings->arc[i].resolved_window_hours > window)
			window = a->settings->arc[i].resolved_window_hours;
	json_t *fu = NULL;
	if (!r)
		r = ca_store_followup_report(a->store, ca_str_empty(from) ? NULL : lo, ca_str_empty(to) ? NULL : hi,
					     window ? window : 24, &fu, err);
	if (!r && json_object_update(rep, fu) < 0)
		r = CA_ENOMEM;
	json_decref(fu);
	if (r)
		json_decref(rep);
	return r ? r : ca_result(rep, ret_json);
}
