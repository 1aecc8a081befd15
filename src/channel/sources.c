/* SPDX-License-Identifier: MIT */
/*
 * Where raw messages come from when mail is imported rather than received:
 * single files, mbox files (split by GMime's mbox parser), Maildirs (cur/
 * then new/, per the Maildir convention dot-files ignored), directory trees
 * in byte-wise name order, and standard input. Each message is handed to a
 * callback with a stable origin ("path" or "path#N"), so an import can be
 * resumed, deduplicated and reported message by message; files that cannot
 * be read are reported through the same callback and do not stop the walk.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gmime/gmime.h>
#include "email.h"

#define MAX_FILE_BYTES ((size_t)1 << 30) /* one file (an mbox may hold many messages) */
#define MAX_DIR_DEPTH 32

typedef struct walker {
	ca_email_source_fn fn;
	void *ud;
} walker;

/* Tell the caller that `origin` could not be read ("WHAT ORIGIN: DETAIL"). */
static int report(walker *wk, const char *origin, int code, const char *what, const char *detail)
{
	ca_err e;
	ca_err_clear(&e);
	ca_err_set(&e, code, origin, "%s %s: %s", what, origin, detail);
	return wk->fn(NULL, 0, origin, &e, wk->ud);
}

typedef struct span {
	size_t begin, end;
} span;

/*
 * Split an mbox held in data[0..len) with GMime's parser. A "From " line in a
 * body that the writer forgot to escape makes GMime start a "message" without
 * headers; such a piece is put back into the message before it.
 */
static int walk_mbox(walker *wk, const char *path, const char *data, size_t len, bool *ret_found)
{
	ca_email_global_init();
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MBOX);
	span *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	while (!g_mime_parser_eos(p)) {
		GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
		if (!m)
			break;
		gint64 marker = g_mime_parser_get_mbox_marker_offset(p);
		gint64 begin = g_mime_parser_get_headers_begin(p);
		int nh = g_mime_header_list_get_count(g_mime_object_get_header_list(GMIME_OBJECT(m)));
		g_object_unref(m);
		if (marker < 0 || begin < marker || (size_t)begin > len)
			continue;
		if (nh == 0 && n > 0)
			continue; /* the previous message runs on through this piece */
		if (n > 0)
			v[n - 1].end = (size_t)marker;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			span *nv = realloc(v, c * sizeof(*nv));
			if (!nv) {
				r = CA_ENOMEM;
				break;
			}
			v = nv;
			cap = c;
		}
		v[n].begin = (size_t)begin;
		v[n].end = len;
		n++;
	}
	g_object_unref(p);
	g_object_unref(s);
	ca_buf origin;
	ca_buf_init(&origin);
	for (size_t i = 0; i < n && !r; i++) {
		size_t b = v[i].begin, e = v[i].end;
		/* The empty line before the next "From " separates, it is not content. */
		if (i + 1 < n && e > b && data[e - 1] == '\n') {
			e--;
			if (e > b && data[e - 1] == '\r')
				e--;
		}
		ca_buf_reset(&origin);
		if ((r = ca_buf_printf(&origin, "%s#%zu", path, i + 1)) < 0)
			break;
		r = wk->fn(data + b, e - b, origin.data, NULL, wk->ud);
	}
	ca_buf_done(&origin);
	free(v);
	*ret_found = n > 0;
	return r;
}

/* One file: an mbox when it opens with a "From " line, else one message. */
static int walk_file(walker *wk, const char *path, bool single)
{
	char *data = NULL;
	size_t len = 0;
	ca_err rerr;
	ca_err_clear(&rerr);
	int r = ca_file_read(path, MAX_FILE_BYTES, &data, &len, &rerr);
	if (r < 0) {
		if (r == CA_ENOMEM)
			return r;
		return wk->fn(NULL, 0, path, &rerr, wk->ud);
	}
	bool found = false;
	if (!single && len >= 5 && memcmp(data, "From ", 5) == 0)
		r = walk_mbox(wk, path, data, len, &found);
	if (!r && !found)
		r = wk->fn(data, len, path, NULL, wk->ud);
	free(data);
	return r;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static char *join(const char *dir, const char *name)
{
	ca_buf b;
	ca_buf_init(&b);
	size_t n = strlen(dir);
	bool slash = n > 0 && dir[n - 1] == '/';
	if (ca_buf_printf(&b, "%s%s%s", dir, slash ? "" : "/", name) < 0) {
		ca_buf_done(&b);
		return NULL;
	}
	return ca_buf_steal(&b);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int walk_dir(walker *wk, const char *path, int depth);

/* Every regular file of one directory in name order; `maildir_sub` is set
 * for cur/ and new/ of a Maildir (one message per file, dot-files skipped). */
static int walk_entries(walker *wk, const char *path, int depth, bool maildir_sub)
{
	struct dirent **names = NULL;
	int k = scandir(path, &names, NULL, by_name);
	if (k < 0)
		return report(wk, path, CA_EIO, "cannot read directory", strerror(errno));
	int r = 0;
	for (int i = 0; i < k; i++) {
		const char *nm = names[i]->d_name;
		if (r || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 || (maildir_sub && nm[0] == '.'))
			continue;
		char *child = join(path, nm);
		if (!child) {
			r = CA_ENOMEM;
			continue;
		}
		struct stat st;
		if (lstat(child, &st) != 0) {
			r = report(wk, child, CA_EIO, "cannot read", strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			/* Symbolic links to directories are not followed: no cycles. */
			if (!maildir_sub)
				r = walk_dir(wk, child, depth + 1);
		} else if (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && stat(child, &st) == 0 &&
						    S_ISREG(st.st_mode))) {
			r = walk_file(wk, child, maildir_sub);
		}
		free(child);
	}
	for (int i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return r;
}

static int walk_dir(walker *wk, const char *path, int depth)
{
	if (depth > MAX_DIR_DEPTH)
		return report(wk, path, CA_ETOOBIG, "directory nested too deep", "more than 32 levels");
	char *cur = join(path, "cur"), *new = join(path, "new");
	if (!cur || !new) {
		free(cur);
		free(new);
		return CA_ENOMEM;
	}
	int r;
	if (is_dir(cur) && is_dir(new)) {
		r = walk_entries(wk, cur, depth, true);
		if (!r)
			r = walk_entries(wk, new, depth, true);
	} else {
		r = walk_entries(wk, path, depth, false);
	}
	free(cur);
	free(new);
	return r;
}

int ca_email_sources_walk(const char *path, ca_email_source_fn fn, void *ud, ca_err *err)
{
	if (!path || !fn)
		return ca_err_set(err, CA_EINVAL, NULL, "ca_email_sources_walk: no path or no callback");
	walker wk = { .fn = fn, .ud = ud };
	if (strcmp(path, "-") == 0) {
		char *data = NULL;
		size_t len = 0;
		ca_err rerr;
		ca_err_clear(&rerr);
		int r = ca_file_read("-", MAX_FILE_BYTES, &data, &len, &rerr);
		if (r == CA_ENOMEM)
			return ca_err_set(err, r, "-", "out of memory reading standard input");
		r = r < 0 ? fn(NULL, 0, "-", &rerr, ud) : fn(data, len, "-", NULL, ud);
		free(data);
		return r;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return ca_err_set(err, errno == ENOENT ? CA_ENOTFOUND : CA_EIO, path, "cannot read %s: %s", path,
				  strerror(errno));
	int r = S_ISDIR(st.st_mode) ? walk_dir(&wk, path, 0) : walk_file(&wk, path, false);
	if (r == CA_ENOMEM)
		ca_err_set(err, r, path, "out of memory reading %s", path);
	return r;
}
