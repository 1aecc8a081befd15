/* SPDX-License-Identifier: MIT */
/*
 * Case resolution: resolve (with the resolution text a representative
 * writes), cancel and reactivate. Each is a person's change of status, with
 * its audit row, in one transaction; the resolution text is kept as a note.
 * Resolving is what the knowledge agent listens for (issue 4), and what the
 * e-mail channel's resolved-case window measures from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"
#include "text.h"

static bool is_closed(const char *status)
{
	return status && (ca_streq_ci(status, "resolved") || ca_streq_ci(status, "cancelled") || ca_streq_ci(status, "closed"));
}

/*
 * Move a case to `status` if its current status allows it: resolve and
 * cancel from an open status, reactivate from a closed one. *ret: the
 * result (new reference); *ret_id: the case's id.
 */
static int transition(ca_agent *a, const char *ref, const char *status, const char *reason, const char *note_kind,
		      const char *note, const char *actor, json_t **ret, int64_t *ret_id, ca_err *err)
{
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	int64_t id = 0, version = 0, nv = 0;
	json_t *c = NULL;
	r = ca_case_ref(a, ref, &id, err);
	if (!r)
		r = ca_store_case_get_id(a->store, id, &c, err);
	const char *ticket = r ? NULL : ca_json_str(c, "ticket_number");
	const char *old = r ? NULL : ca_json_str(json_object_get(c, "fields"), "status");
	bool reopening = !strcmp(status, "active");
	if (!r && reopening && !is_closed(old))
		r = ca_err_set(err, CA_ESTATE, "status", "case %s is %s, not resolved or cancelled: nothing to reactivate", ticket,
			       old ? old : "active");
	else if (!r && !reopening && is_closed(old))
		r = ca_err_set(err, CA_ESTATE, "status", "case %s is already %s; reactivate it first", ticket, old);
	if (!r) {
		version = json_integer_value(json_object_get(c, "version"));
		r = ca_store_case_bump_version(a->store, id, version, &nv, err);
	}
	const char *who = actor ? actor : "unknown";
	if (!r)
		r = ca_case_write_as(a, id, "status", status, "person", who, err);
	if (!r)
		r = ca_case_write_as(a, id, "status_reason", reason, "person", who, err);
	if (!r && note)
		r = ca_store_note_add(a->store, id, note_kind, note, NULL, who, err);
	json_t *res = NULL;
	if (!r && !(res = json_pack("{s:s, s:s?, s:s, s:s?, s:I}", "case", ticket, "old_status", old, "status", status,
				    "reason", reason, "version", (json_int_t)nv)))
		r = ca_err_set(err, CA_ENOMEM, NULL, "case %s: out of memory", ref);
	if (!r)
		r = ca_store_commit(a->store, err);
	json_decref(c);
	if (r) {
		ca_store_rollback(a->store);
		json_decref(res);
		return r;
	}
	*ret = res;
	*ret_id = id;
	return 0;
}

int ca_case_resolve(ca_agent *a, const char *ref, const char *resolution, const char *actor, char **ret_json,
		    ca_err *err)
{
	int r0 = ca_agent_ready(a, err);
	if (r0)
		return r0;
	if (ca_str_empty(resolution))
		return ca_err_set(err, CA_EINVAL, "resolution",
				  "a resolution says how the case was solved: give it with --resolution TEXT");
	size_t bad;
	if (!ca_utf8_valid(resolution, strlen(resolution), &bad))
		return ca_err_set(err, CA_EUTF8, "resolution", "the resolution is not valid UTF-8 (byte %zu)", bad);
	/* The resolution and the knowledge agent's real-time trigger commit
	 * together, each in a savepoint of its own, so a crash cannot keep
	 * the one and lose the other. The resolution stands whatever the
	 * knowledge agent does; its outcome (or error) is reported beside it. */
	int r = ca_store_begin(a->store, err);
	if (r)
		return r;
	json_t *res = NULL;
	int64_t id = 0;
	r = transition(a, ref, "resolved", "problem solved", "resolution", resolution, actor, &res, &id, err);
	if (!r) {
		char rid[32];
		snprintf(rid, sizeof(rid), "%lld", (long long)id);
		json_object_set_new(res, "knowledge", ca_agent_record_done(a, "case", rid));
		r = ca_store_commit(a->store, err);
	}
	if (r) {
		ca_agent_rollback(a);
		json_decref(res);
		return r;
	}
	return ca_result(res, ret_json);
}

int ca_case_cancel(ca_agent *a, const char *ref, const char *reason, const char *actor, char **ret_json, ca_err *err)
{
	json_t *res = NULL;
	int64_t id;
	int r = transition(a, ref, "cancelled", ca_str_empty(reason) ? "cancelled" : reason, "note", NULL, actor, &res, &id,
			   err);
	return r ? r : ca_result(res, ret_json);
}

int ca_case_reactivate(ca_agent *a, const char *ref, const char *actor, char **ret_json, ca_err *err)
{
	json_t *res = NULL;
	int64_t id;
	int r = transition(a, ref, "active", "reactivated", "note", NULL, actor, &res, &id, err);
	return r ? r : ca_result(res, ret_json);
}
