/* SPDX-License-Identifier: MIT */
/*
 * The web UI's built files (web/dist, `caseagent serve --web DIR`): the
 * route "/{path}" of the table, matched for any path outside the API. A
 * file under assets/ (hashed names, Vite's build) is cached for a year as
 * immutable; index.html and the other files are revalidated (no-cache); a
 * path naming no file outside assets/ is the UI's own route and answered
 * with index.html, so a reloaded /cases/CAS-00001 works. Files are opened
 * one segment at a time from the directory's descriptor with O_NOFOLLOW
 * (openat), so neither "..", which the path parser already refuses, nor a
 * symbolic link leads outside it; only regular files of at most
 * SRV_WEB_FILE_MAX bytes are sent, names starting with "." never, and a
 * directory is never listed. Each file has an entity tag, and a client
 * revalidating its copy (If-None-Match) gets 304 without the body. Without a directory, every such path answers
 * a small page saying how to build the UI; the API works the same. The
 * Content-Security-Policy of every answer is server.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <microhttpd.h>

#include "srv.h"

#define HTML "text/html; charset=utf-8"
#define IMMUTABLE "public, max-age=31536000, immutable"

static const char hint_page[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>caseagent: the web UI is not "
	"built</title></head>\n<body><h1>The web UI is not built</h1>\n<p>caseagent serve has no built web UI to "
	"show. Build it in the source tree with <code>make web</code> (it writes <code>web/dist</code>), then "
	"start <code>caseagent serve --web web/dist</code>, or set <code>CASEAGENT_WEB</code> to that directory, "
	"or install it (<code>make install</code> puts it in <code>PREFIX/share/caseagent/web</code>).</p>\n"
	"<p>The API works meanwhile: <a href=\"/openapi.json\">/openapi.json</a> describes it.</p></body></html>\n";

/* Content types by file name extension (RFC 6838 registrations; JavaScript
 * per RFC 9239). */
static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", HTML },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "ico", "image/x-icon" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "webmanifest", "application/manifest+json" },
	{ "woff2", "font/woff2" },
	{ "txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot + 1, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

int srv_web_open(const char *dir, int *ret_fd, ca_err *err)
{
	struct stat st;
	int fd;

	if (!dir || !dir[0]) {
		*ret_fd = -1;
		return 0;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ca_err_set(err, CA_EIO, "web", "cannot open the web UI's directory %s: %s", dir, strerror(errno));
	if (fstatat(fd, "index.html", &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ca_err_set(err, CA_EIO, "web", "%s has no index.html: is it the built UI (make web: web/dist)?",
				  dir);
	}
	*ret_fd = fd;
	return 0;
}

/* Open seg[0..n) below the directory `root`, one component at a time,
 * following no symbolic link. Returns the descriptor of a regular file
 * (its status in *ret_st), or -errno (EISDIR for a directory, ENODEV for
 * anything else that is not a regular file). */
static int open_beneath(int root, const char *const *seg, size_t n, struct stat *ret_st)
{
	int dir = root;
	struct stat st = { 0 };

	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		int fd = openat(dir, seg[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? O_NONBLOCK : O_DIRECTORY));
		int e = errno;
		if (dir != root)
			close(dir);
		if (fd < 0)
			return -e;
		dir = fd;
	}
	if (fstat(dir, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
		close(dir);
		return -e;
	}
	*ret_st = st;
	return dir;
}

/* Answer the open file fd (taken), or 304 when the client's copy is this
 * version (If-None-Match, RFC 9110 §13.1.2), so a revalidated index.html
 * costs no body. The entity tag: the file's inode, size and modification
 * time, which a new build changes. */
static int send_file(srv_req *r, srv_reply *out, int fd, const struct stat *st, const char *name, const char *cache,
		     ca_err *err)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	char quoted[sizeof out->etag + 2];

	if ((uint64_t)st->st_size > SRV_WEB_FILE_MAX) {
		close(fd);
		return ca_err_set(err, CA_ENOTFOUND, "path", "the file is larger than serve sends (%llu bytes)",
				  (unsigned long long)SRV_WEB_FILE_MAX);
	}
	snprintf(out->etag, sizeof out->etag, "%llx-%llx-%llx", (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull + (unsigned long long)st->st_mtim.tv_nsec);
	snprintf(quoted, sizeof quoted, "\"%s\"", out->etag);
	out->type = type_of(name);
	out->cache = cache;
	if (inm && (strstr(inm, quoted) || !strcmp(inm, "*"))) {
		close(fd);
		out->status = 304;
		return 0;
	}
	out->has_file = true;
	out->file_fd = fd;
	out->file_size = (uint64_t)st->st_size;
	return 0;
}

int srv_h_web(srv_req *r, srv_reply *out, ca_err *err)
{
	int root = srv_server_web_fd(r->srv);
	const srv_path *p = r->path;
	const char *index = "index.html";
	bool asset = p->nseg > 1 && !strcmp(p->seg[0], "assets");
	struct stat st;
	int fd;

	if (root < 0) {
		out->status = p->nseg ? 404 : 200;
		out->type = HTML;
		out->cache = "no-cache";
		if (!(out->body = strdup(hint_page)))
			return ca_err_set(err, CA_ENOMEM, NULL, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < p->nseg; i++)
		if (p->seg[i][0] == '.')
			return ca_err_set(err, CA_ENOTFOUND, "path", "names starting with '.' are not served");
	fd = p->nseg ? open_beneath(root, p->seg, p->nseg, &st) : -ENOENT;
	if (fd >= 0)
		return send_file(r, out, fd, &st, p->seg[p->nseg - 1], asset ? IMMUTABLE : "no-cache", err);
	if (fd == -ELOOP)
		return ca_err_set(err, CA_ENOTFOUND, "path", "a symbolic link is not served");
	if (fd != -ENOENT && fd != -ENOTDIR && fd != -EISDIR)
		return ca_err_set(err, fd == -EACCES ? CA_ENOTFOUND : CA_EIO, "path", "the file cannot be served: %s",
				  strerror(-fd));
	/* A missing hashed file is an old build's: index.html would only be
	 * parsed as script. Any other path is a route of the UI itself. */
	if (asset)
		return ca_err_set(err, CA_ENOTFOUND, "path", "no such file in the web UI's assets");
	if ((fd = open_beneath(root, &index, 1, &st)) < 0)
		return ca_err_set(err, CA_ENOTFOUND, "path", "the web UI's index.html is gone");
	return send_file(r, out, fd, &st, index, "no-cache", err);
}
