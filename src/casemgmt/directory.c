/* SPDX-License-Identifier: MIT */
/*
 * The directory the predictor's entity linker reads (predictor.h,
 * ca_directory), implemented over the store's key indexes: every mention a
 * conversation makes of an e-mail address, phone number, user name, account
 * number or name is one indexed query, so loading the agent reads no
 * contact and an event costs the same with a hundred contacts or a million.
 *
 * Answers are remembered per agent while the directory's generation
 * (ca_store_directory_generation, read once per plan) stays the same: most
 * words of a conversation are asked of the directory in the conversation
 * before too, and name nobody. A write to the directory in any process
 * moves the generation and empties the memory; so does its reaching
 * DIR_CACHE_MAX answers, so memory stays bounded whatever the traffic.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "casemgmt.h"

#define DIR_CACHE_MAX 100000

typedef struct dir_hit {
	char *id, *display;
	unsigned type;
} dir_hit;

/* One remembered answer: the rows a find returned (NULL array: none) or a
 * name-prefix verdict. */
typedef struct dir_answer {
	GArray *hits; /* of dir_hit */
	bool known;
} dir_answer;

struct ca_dir_cache {
	GHashTable *answers; /* answer_key() -> dir_answer */
	int64_t generation;
	uint64_t own_writes;
	bool valid;
};

static void answer_free(gpointer p)
{
	dir_answer *an = p;
	if (an->hits) {
		for (guint i = 0; i < an->hits->len; i++) {
			dir_hit *h = &g_array_index(an->hits, dir_hit, i);
			free(h->id);
			free(h->display);
		}
		g_array_free(an->hits, TRUE);
	}
	g_free(an);
}

void ca_dir_cache_free(ca_dir_cache *c)
{
	if (!c)
		return;
	g_hash_table_destroy(c->answers);
	g_free(c);
}

/* Keep the answers only while the directory is the one they came from. */
static void cache_sync(ca_agent *a)
{
	if (!a->dir_cache) {
		a->dir_cache = g_new0(ca_dir_cache, 1);
		a->dir_cache->answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, answer_free);
	}
	ca_dir_cache *c = a->dir_cache;
	int64_t gen = 0;
	uint64_t own = 0;
	if (ca_store_directory_generation(a->store, &gen, &own, NULL) != 0) {
		c->valid = false; /* cannot tell: ask the store every time */
		g_hash_table_remove_all(c->answers);
		return;
	}
	if (!c->valid || gen != c->generation || own != c->own_writes ||
	    g_hash_table_size(c->answers) >= DIR_CACHE_MAX)
		g_hash_table_remove_all(c->answers);
	c->generation = gen;
	c->own_writes = own;
	c->valid = true;
}

typedef struct collect {
	GArray *hits;
	bool failed;
} collect;

static int collect_hit(const char *id, const char *name, unsigned type, void *ud)
{
	collect *c = ud;
	dir_hit h = { strdup(id), strdup(name), type };
	if (!h.id || !h.display) {
		free(h.id);
		free(h.display);
		c->failed = true;
		return CA_ENOMEM;
	}
	g_array_append_val(c->hits, h);
	return 0;
}

static int replay(const GArray *hits, ca_directory_hit_fn fn, void *fn_ud)
{
	for (guint i = 0; hits && i < hits->len; i++) {
		const dir_hit *h = &g_array_index(hits, dir_hit, i);
		int r = fn(h->id, h->display, h->type, fn_ud);
		if (r)
			return r;
	}
	return 0;
}

/* The memory's key of a question, "OP KIND TYPES LIMIT" and the text, in
 * buf (no formatting: this runs for every word of every message). false
 * when it does not fit: such a question is not remembered. */
static bool answer_key(char *buf, size_t size, char op, ca_entity kind, unsigned types, size_t limit,
		       const char *text)
{
	size_t n = strlen(text);
	if (n + 8 > size)
		return false;
	buf[0] = op;
	buf[1] = (char)('0' + (int)kind);
	buf[2] = (char)('0' + (types & 0x3f));
	buf[3] = (char)('0' + ((types >> 6) & 0x3f));
	buf[4] = (char)('0' + (limit & 0x3f));
	buf[5] = (char)('0' + ((limit >> 6) & 0x3f));
	memcpy(buf + 6, text, n + 1);
	return types < (1u << 12) && limit < (1u << 12);
}

static int dir_find(void *ud, ca_entity kind, unsigned types, const char *key, size_t limit, ca_directory_hit_fn fn,
		    void *fn_ud)
{
	ca_agent *a = ud;
	ca_dir_cache *c = a->dir_cache;
	char kbuf[256];
	if (!c || !c->valid || !answer_key(kbuf, sizeof(kbuf), 'f', kind, types, limit, key))
		return ca_store_directory_find(a->store, ca_entity_name(kind), types, key, limit, fn, fn_ud, NULL);
	dir_answer *an = g_hash_table_lookup(c->answers, kbuf);
	if (an)
		return replay(an->hits, fn, fn_ud);
	char *k = g_strdup(kbuf);
	collect col = { g_array_new(FALSE, FALSE, sizeof(dir_hit)), false };
	int r = ca_store_directory_find(a->store, ca_entity_name(kind), types, key, limit, collect_hit, &col, NULL);
	an = g_new0(dir_answer, 1);
	an->hits = col.hits;
	if (r || col.failed) {
		answer_free(an);
		g_free(k);
		return r ? r : CA_ENOMEM;
	}
	g_hash_table_insert(c->answers, k, an);
	return replay(an->hits, fn, fn_ud);
}

static int dir_name_prefix(void *ud, ca_entity kind, const char *stems, bool *ret)
{
	ca_agent *a = ud;
	ca_dir_cache *c = a->dir_cache;
	char kbuf[256];
	if (!c || !c->valid || !answer_key(kbuf, sizeof(kbuf), 'p', kind, 0, 0, stems))
		return ca_store_directory_name_prefix(a->store, ca_entity_name(kind), stems, ret, NULL);
	dir_answer *an = g_hash_table_lookup(c->answers, kbuf);
	if (an) {
		*ret = an->known;
		return 0;
	}
	int r = ca_store_directory_name_prefix(a->store, ca_entity_name(kind), stems, ret, NULL);
	if (r)
		return r;
	an = g_new0(dir_answer, 1);
	an->known = *ret;
	g_hash_table_insert(c->answers, g_strdup(kbuf), an);
	return 0;
}

static int dir_display(void *ud, ca_entity kind, const char *id, char **ret)
{
	ca_agent *a = ud;
	json_t *rec = NULL;
	int r = ca_store_directory_get(a->store, ca_entity_name(kind), id, &rec, NULL);
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
	cache_sync(a);
	a->directory = (ca_directory){
		.version = CA_DIRECTORY_VERSION,
		.ud = a,
		.find = dir_find,
		.name_prefix = dir_name_prefix,
		.display = dir_display,
	};
	return &a->directory;
}
