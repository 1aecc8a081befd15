/* SPDX-License-Identifier: MIT */
/*
 * Where raw messages come from when mail is imported rather than received:
 * single files, mbox files (split by GMime's mbox parser), Maildirs (cur/
 * then new/, per the Maildir convention dot-files ignored), directory trees
 * in byte-wise name order, and standard input. Each message is handed to a
 * callback with a stable origin ("path" or "path#N"), so an import can be
 * resumed, deduplicated and reported message by message; files that cannot
 * be read are reported through the same callback and do not stop the walk.
 *
 * The size limit holds while reading, never after: a single file larger
 * than the limit is not read past its first CA_EMAIL_PEEK_BYTES (fstat says
 * how large it is), standard input is read on but not kept beyond the
 * limit, and an mbox is parsed from the file itself (GMime's parser on a
 * file stream, contents left on disk) and each message read with pread(),
 * so a 200 MB message costs its headers and a bounded prefix of the body
 * (ca_email_prefix_len), not 200 MB.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gmime/gmime.h>
#include "email.h"

#define MAX_DIR_DEPTH 32
#define DEFAULT_MAX_BYTES ((size_t)50 << 20)

typedef struct walker {
	ca_email_source_fn fn;
	void *ud;
	size_t max;  /* bytes of one message; larger ones get a prefix */
} walker;

size_t ca_email_prefix_len(const char *raw, size_t len, size_t max_body)
{
	/* The header block ends at the first empty line (RFC 5322 §2.1). */
	size_t hend = len;
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n') {
			hend = i + 2;
			break;
		}
		if (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n') {
			hend = i + 3;
			break;
		}
	}
	if (hend >= len)
		return len; /* all header (or no end seen): keep what was read */
	size_t body = len - hend < max_body ? len - hend : max_body;
	return hend + body;
}

/* Hand one message of `received` bytes to the callback: whole when within
 * the limit, else its headers and the first CA_EMAIL_KEEP_BODY bytes of
 * its body (raw holds at least what is kept). */
static int hand(walker *wk, const char *raw, size_t len, size_t received, const char *origin)
{
	if (received > wk->max)
		len = ca_email_prefix_len(raw, len, CA_EMAIL_KEEP_BODY);
	return wk->fn(raw, len, received, origin, NULL, wk->ud);
}

/* Tell the caller that `origin` could not be read ("WHAT ORIGIN: DETAIL"). */
static int report(walker *wk, const char *origin, int code, const char *what, const char *detail)
{
	ca_err e;
	ca_err_clear(&e);
	ca_err_set(&e, code, origin, "%s %s: %s", what, origin, detail);
	return wk->fn(NULL, 0, 0, origin, &e, wk->ud);
}

typedef struct span {
	size_t begin, end;
} span;

/* pread all of [off, off + n) into buf (n bytes of room). */
static int read_at(int fd, char *buf, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, buf + got, n - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return CA_EIO;
		got += (size_t)k;
	}
	return 0;
}

/*
 * Split the mbox open on fd (`size` bytes) with GMime's parser reading the
 * file itself. A "From " line in a body that the writer forgot to escape
 * makes GMime start a "message" without headers; such a piece is put back
 * into the message before it.
 */
static int walk_mbox(walker *wk, const char *path, int fd, size_t size, bool *ret_found)
{
	ca_email_global_init();
	int dfd = dup(fd);
	if (dfd < 0)
		return report(wk, path, CA_EIO, "cannot read", strerror(errno));
	GMimeStream *s = g_mime_stream_fs_new(dfd); /* owns dfd */
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MBOX);
	/* Contents stay in the file: a huge message is never loaded. */
	g_mime_parser_set_persist_stream(p, TRUE);
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
		if (marker < 0 || begin < marker || (size_t)begin > size)
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
		v[n].end = size;
		n++;
	}
	g_object_unref(p);
	g_object_unref(s);
	ca_buf origin;
	ca_buf_init(&origin);
	for (size_t i = 0; i < n && !r; i++) {
		size_t b = v[i].begin, e = v[i].end, total = e - b;
		/* Within the limit: all of it; beyond: only what may be kept. */
		size_t want = total <= wk->max ? total : (wk->max < CA_EMAIL_PEEK_BYTES ? wk->max : CA_EMAIL_PEEK_BYTES);
		char *buf = malloc(want + 1);
		if (!buf) {
			r = CA_ENOMEM;
			break;
		}
		ca_buf_reset(&origin);
		if ((r = ca_buf_printf(&origin, "%s#%zu", path, i + 1)) < 0) {
			free(buf);
			break;
		}
		if (read_at(fd, buf, want, (off_t)b) != 0) {
			free(buf);
			r = report(wk, origin.data, CA_EIO, "cannot read", "the mbox changed or shrank while it was read");
			continue;
		}
		buf[want] = '\0';
		size_t len = want;
		/* The empty line before the next "From " separates, it is not content. */
		if (want == total && i + 1 < n && len > 0 && buf[len - 1] == '\n') {
			len--;
			total--;
			if (len > 0 && buf[len - 1] == '\r') {
				len--;
				total--;
			}
		}
		r = hand(wk, buf, len, total, origin.data);
		free(buf);
	}
	ca_buf_done(&origin);
	free(v);
	*ret_found = n > 0;
	return r;
}

/* Where the header block of an mbox's only message begins: after its
 * "From " line, when that line ends and the next one is a header field
 * ("name:", RFC 5322 §2.2), else 0 (let walk_mbox decide). */
static size_t one_message_begin(const char *buf, size_t size)
{
	const char *nl = memchr(buf, '\n', size);
	if (!nl)
		return 0;
	size_t b = (size_t)(nl - buf) + 1, i = b;
	while (i < size && buf[i] > ' ' && buf[i] < 127 && buf[i] != ':')
		i++;
	return i > b && i < size && buf[i] == ':' ? b : 0;
}

/* Whether a line of buf[0..n) after its first starts with "From " (mboxrd:
 * a message boundary). */
static bool later_from_line(const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if ((size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0)
			return true;
	}
	return false;
}

/*
 * An mbox within the size limit that holds one message, as most files of a
 * mail archive do (each starts with its "From " line): no other line starts
 * with "From ", so GMime's parser would find exactly this one message,
 * running from the line after the "From " line to the end of the file. Read
 * once and handed on, without constructing the message twice. *ret_found is
 * false, and nothing handed, for anything else (walk_mbox splits it).
 */
static int walk_mbox_one(walker *wk, const char *path, int fd, size_t size, bool *ret_found)
{
	*ret_found = false;
	char *buf = malloc(size + 1);
	if (!buf)
		return CA_ENOMEM;
	if (read_at(fd, buf, size, 0) != 0) {
		free(buf);
		return 0; /* walk_mbox reads it again and says what went wrong */
	}
	buf[size] = '\0';
	size_t b = one_message_begin(buf, size);
	int r = 0;
	if (b && !later_from_line(buf + b, size - b)) {
		ca_buf origin;
		ca_buf_init(&origin);
		if ((r = ca_buf_printf(&origin, "%s#1", path)) >= 0) {
			*ret_found = true;
			r = hand(wk, buf + b, size - b, size - b, origin.data);
		}
		ca_buf_done(&origin);
	}
	free(buf);
	return r;
}

/* Read a stream that cannot be measured first (standard input): at most
 * `max` bytes are kept; beyond, only a prefix is, and the rest is read and
 * dropped so the writer (an MTA's pipe) is not cut off. */
static int read_stream(FILE *f, size_t max, char **ret, size_t *ret_len, size_t *ret_received)
{
	ca_buf b;
	ca_buf_init(&b);
	char chunk[65536];
	size_t n, received = 0;
	bool over = false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		received += n;
		if (over)
			continue;
		if (b.len + n > max) {
			/* Shrink to what can be kept and keep counting. */
			size_t keep = max < CA_EMAIL_PEEK_BYTES ? max : CA_EMAIL_PEEK_BYTES;
			if (b.len < keep && ca_buf_append(&b, chunk, keep - b.len < n ? keep - b.len : n) < 0) {
				ca_buf_done(&b);
				return CA_ENOMEM;
			}
			if (b.len > keep) {
				b.len = keep;
				b.data[keep] = '\0';
			}
			over = true;
			continue;
		}
		if (ca_buf_append(&b, chunk, n) < 0) {
			ca_buf_done(&b);
			return CA_ENOMEM;
		}
	}
	if (ferror(f)) {
		ca_buf_done(&b);
		return CA_EIO;
	}
	*ret_len = b.len;
	*ret_received = received;
	*ret = ca_buf_steal(&b);
	return *ret ? 0 : CA_ENOMEM;
}

/* One file: an mbox when it opens with a "From " line, else one message,
 * read no further than the limit allows. */
static int walk_file(walker *wk, const char *path, bool single)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return report(wk, path, CA_EIO, "cannot open", strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return report(wk, path, CA_EIO, "cannot read", strerror(e));
	}
	size_t size = (size_t)st.st_size;
	char head[5];
	bool mbox = !single && size >= 5 && read_at(fd, head, 5, 0) == 0 && memcmp(head, "From ", 5) == 0;
	bool found = false;
	int r = 0;
	if (mbox && size <= wk->max)
		r = walk_mbox_one(wk, path, fd, size, &found);
	if (!r && mbox && !found)
		r = walk_mbox(wk, path, fd, size, &found);
	if (!r && !found) {
		size_t want = size <= wk->max ? size : (wk->max < CA_EMAIL_PEEK_BYTES ? wk->max : CA_EMAIL_PEEK_BYTES);
		char *buf = malloc(want + 1);
		if (!buf)
			r = CA_ENOMEM;
		else if (read_at(fd, buf, want, 0) != 0)
			r = report(wk, path, CA_EIO, "cannot read", "the file changed or shrank while it was read");
		else {
			buf[want] = '\0';
			r = hand(wk, buf, want, size, path);
		}
		free(buf);
	}
	close(fd);
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

int ca_email_sources_walk(const char *path, size_t max_bytes, ca_email_source_fn fn, void *ud, ca_err *err)
{
	if (!path || !fn)
		return ca_err_set(err, CA_EINVAL, NULL, "ca_email_sources_walk: no path or no callback");
	walker wk = { .fn = fn, .ud = ud, .max = max_bytes ? max_bytes : DEFAULT_MAX_BYTES };
	if (strcmp(path, "-") == 0) {
		char *data = NULL;
		size_t len = 0, received = 0;
		int r = read_stream(stdin, wk.max, &data, &len, &received);
		if (r == CA_ENOMEM)
			return ca_err_set(err, r, "-", "out of memory reading standard input");
		r = r < 0 ? report(&wk, "-", CA_EIO, "cannot read", "error reading standard input")
			  : hand(&wk, data, len, received, "-");
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
