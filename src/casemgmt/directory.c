/* SPDX-License-Identifier: MIT */
/*
 * The directory the predictor's entity linker reads (predictor.h,
 * ca_directory), implemented over the store's key indexes: every mention a
 * conversation makes of an e-mail address, phone number, user name, account
 * number or name is one indexed query, so loading the agent reads no
 * contact and an event costs the same with a hundred contacts or a million.
 */
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"

static int dir_find(void *ud, ca_entity kind, unsigned types, const char *key, size_t limit, ca_directory_hit_fn fn,
		    void *fn_ud)
{
	return ca_store_directory_find(ud, ca_entity_name(kind), types, key, limit, fn, fn_ud, NULL);
}

static int dir_name_prefix(void *ud, ca_entity kind, const char *stems, bool *ret)
{
	return ca_store_directory_name_prefix(ud, ca_entity_name(kind), stems, ret, NULL);
}

static int dir_display(void *ud, ca_entity kind, const char *id, char **ret)
{
	json_t *rec = NULL;
	int r = ca_store_directory_get(ud, ca_entity_name(kind), id, &rec, NULL);
	if (r)
		return r;
	const char *name = ca_json_str(rec, kind == CA_ENT_CONTACT ? "full_name" : "name");
	char *copy = strdup(name ? name : id);
	json_decref(rec);
	if (!copy)
		return CA_ENOMEM;
	*ret = copy;
	return 0;
}

const ca_directory *ca_agent_directory(ca_agent *a)
{
	a->directory = (ca_directory){
		.version = CA_DIRECTORY_VERSION,
		.ud = a->store,
		.find = dir_find,
		.name_prefix = dir_name_prefix,
		.display = dir_display,
	};
	return &a->directory;
}
