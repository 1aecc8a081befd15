/* SPDX-License-Identifier: MIT */
/*
 * The event outbox at the public API (ARCHITECTURE §6): what the server's
 * live stream reads. The rows are written by the store in the transaction
 * of each change (src/store/event.c); this only pages through them.
 */
#include "casemgmt.h"

int ca_events_since(ca_agent *a, int64_t after_id, size_t limit, char **ret_json, ca_err *err)
{
	json_t *events = NULL;
	int64_t last = 0;
	int r = ca_store_events_since(a->store, after_id, limit, &events, &last, err);
	if (r)
		return r;
	json_t *res = json_pack("{s:o, s:I}", "events", events, "last_id", (json_int_t)last);
	return res ? ca_result(res, ret_json) : ca_err_set(err, CA_ENOMEM, NULL, "events: out of memory");
}

int ca_events_last_id(ca_agent *a, int64_t *ret, ca_err *err)
{
	int64_t id = 0;
	int r = ca_store_events_last_id(a->store, &id, err);
	if (!r)
		*ret = id;
	return r;
}
