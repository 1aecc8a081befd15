/* SPDX-License-Identifier: MIT */
/*
 * The public face of PII removal (include/caseagent/caseagent.h, "PII"):
 * redacting one text with the agent's knowledge (its contacts' names as
 * known persons, its pattern fields for account and order numbers as
 * identifiers to remove). The knowledge agent builds its recogniser with the
 * same function before drafting; `pii eval` (src/eval) scores it.
 */
#include <stdlib.h>
#include <string.h>

#include "casemgmt.h"
#include "pii.h"
#include "text.h"

/* Lower-case name fragments of pattern fields that are account or order
 * numbers (settings' "pattern" fields: docs/settings.md). */
static int pattern_type(const char *name)
{
	if (!name)
		return -1;
	if (strstr(name, "account") || strstr(name, "acct"))
		return CA_PII_ACCOUNT_NUMBER;
	if (strstr(name, "order"))
		return CA_PII_ORDER_NUMBER;
	return -1;
}

/* Account and order number patterns from the stored settings, when there
 * are settings; none otherwise. */
static int add_setting_patterns(ca_agent *a, ca_pii *p, ca_err *err)
{
	char *text = NULL;
	json_t *j, *f;
	size_t i;
	int r = ca_store_settings_get(a->store, &text, err);

	if (r == CA_ENOTFOUND) {
		ca_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	j = json_loads(text, 0, NULL);
	free(text);
	if (!j)
		return 0; /* ca_agent_ready reports damaged settings where they matter */
	json_array_foreach(json_object_get(j, "fields"), i, f) {
		const char *pattern = ca_json_str(f, "pattern");
		int type = pattern_type(ca_json_str(f, "name"));
		const json_t *cv = json_object_get(f, "cues");
		const char **cues;
		size_t k, nc = json_array_size(cv);

		if (!pattern || type < 0 || !ca_streq(ca_json_str(f, "type"), "pattern"))
			continue;
		cues = calloc(nc + 1, sizeof *cues);
		if (!cues) {
			r = CA_ENOMEM;
			break;
		}
		for (k = 0; k < nc; k++)
			cues[k] = json_string_value(json_array_get(cv, k));
		for (k = 0; k < nc && cues[k]; k++)
			;
		cues[k] = NULL;
		r = ca_pii_add_pattern(p, (ca_pii_type)type, pattern, cues, err);
		free(cues);
		if (r < 0) {
			ca_err_locate(err, "settings field %s", ca_json_str(f, "name"));
			break;
		}
	}
	json_decref(j);
	return r;
}

#define PII_MAX_CONTACT_NAMES 20000

/* The recogniser of this agent: Debian word lists, the contacts' names and
 * the configured identifier patterns. Built once per agent (compiling its
 * patterns and reading the word lists is the costly part) and again when
 * the directory changes; borrowed, owned by the agent. */
int ca_agent_pii(ca_agent *a, const ca_pii **ret, ca_err *err)
{
	if (a->pii && !a->directory_stale) {
		*ret = a->pii;
		return 0;
	}
	ca_pii_free(a->pii);
	a->pii = NULL;
	ca_pii *p = NULL;
	json_t *contacts = NULL, *c;
	size_t i;
	int r = 0;

	if (!a->pii_lexicon)
		r = ca_pii_lexicon_default(&a->pii_lexicon, err);
	if (r == 0)
		r = ca_pii_new(a->pii_lexicon, &p, err);
	if (r < 0)
		return r;
	/* Contacts' names make them recognisable as persons wherever they are
	 * written, but copying a million names into every process would cost
	 * what the directory's indexes save: a directory of more than
	 * PII_MAX_CONTACT_NAMES contacts relies on the word lists (given names
	 * and surnames), cue phrases and signatures instead. */
	size_t n_contacts = 0;
	if (a->store && r == 0)
		r = ca_store_directory_count(a->store, "contact", PII_MAX_CONTACT_NAMES, &n_contacts, err);
	if (a->store && r == 0 && n_contacts > PII_MAX_CONTACT_NAMES) {
		r = add_setting_patterns(a, p, err);
	} else if (a->store && r == 0) {
		r = ca_store_directory_list(a->store, "contact", &contacts, err);
		json_array_foreach(contacts, i, c) {
			const char *name = ca_json_str(c, "full_name");

			if (r < 0)
				break;
			/* a name without letters protects no one: skipped */
			if (name && (r = ca_pii_add_name(p, name, NULL)) == CA_EINVAL)
				r = 0;
		}
		json_decref(contacts);
		if (r == 0)
			r = add_setting_patterns(a, p, err);
	}
	if (r < 0) {
		ca_pii_free(p);
		return r;
	}
	a->pii = p;
	*ret = p;
	return 0;
}

static json_t *spans_json(const ca_pii_spans *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < s->n; i++) {
		json_t *o = json_pack("{s:s,s:I,s:I,s:f}", "type", ca_pii_type_name(s->v[i].type), "begin",
				      (json_int_t)s->v[i].begin, "end", (json_int_t)s->v[i].end, "confidence",
				      (double)((int)(s->v[i].confidence * 100.0 + 0.5)) / 100.0);

		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int ca_pii_redact_text(ca_agent *a, const char *text, char **ret_json, ca_err *err)
{
	const ca_pii *p = NULL;
	ca_pii_spans spans = {0};
	ca_pii_counts counts;
	char *out = NULL;
	json_t *res, *removed, *list;
	int r;

	if (!text)
		return ca_err_set(err, CA_EINVAL, "text", "no text to redact");
	r = ca_agent_pii(a, &p, err);
	if (r == 0)
		r = ca_pii_redact(p, text, strlen(text), &out, &counts, &spans, err);
	if (r == 0) {
		removed = json_object();
		list = spans_json(&spans);
		for (int t = 0; removed && t < CA_PII_NTYPES; t++)
			if (counts.n[t] && json_object_set_new(removed, ca_pii_type_name((ca_pii_type)t),
							       json_integer(counts.n[t])) < 0)
				r = CA_ENOMEM;
		if (r < 0 || !removed || !list) {
			json_decref(removed);
			json_decref(list);
			r = CA_ENOMEM;
		} else {
			/* "o" hands both references to the result, even on failure */
			res = json_pack("{s:s,s:o,s:o}", "text", out, "removed", removed, "spans", list);
			r = ca_result(res, ret_json);
		}
	}
	free(out);
	ca_pii_spans_done(&spans);
	return r;
}
