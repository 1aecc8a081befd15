/* SPDX-License-Identifier: MIT */
/* Strings, checked number parsing, time, files, JSON helpers, debug log. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "base.h"

int ca_log_level = 0;

char *ca_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

bool ca_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool ca_streq_ci(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcasecmp(a, b) == 0;
}

bool ca_str_empty(const char *s)
{
	return !s || !*s;
}

int ca_parse_i64(const char *s, int64_t *ret_v)
{
	if (ca_str_empty(s))
		return CA_EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return CA_EINVAL;
	*ret_v = v;
	return 0;
}

int ca_parse_double(const char *s, double *ret_v)
{
	if (ca_str_empty(s))
		return CA_EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end != '\0' || !isfinite(v))
		return CA_EINVAL;
	*ret_v = v;
	return 0;
}

void ca_time_iso(int64_t epoch, char out[static 21])
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t ca_time_now(void)
{
	const char *fixed = getenv("CA_NOW");
	int64_t v;
	if (fixed && ca_parse_i64(fixed, &v) == 0)
		return v;
	return (int64_t)time(NULL);
}

double ca_time_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *ca_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int ca_json_load_file(const char *path, json_t **ret, ca_err *err)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ca_err_set(err, CA_EPARSE, path, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	*ret = j;
	return 0;
}

int ca_file_read(const char *path, size_t max, char **ret_data, size_t *ret_len, ca_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return ca_err_set(err, CA_EIO, path, "cannot open %s: %s", path, strerror(errno));
	ca_buf b;
	ca_buf_init(&b);
	char chunk[65536];
	size_t n;
	int r = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > max) {
			r = ca_err_set(err, CA_ETOOBIG, path, "%s is larger than %zu bytes", path, max);
			break;
		}
		if (ca_buf_append(&b, chunk, n) < 0) {
			r = ca_err_set(err, CA_ENOMEM, path, "out of memory reading %s", path);
			break;
		}
	}
	if (!r && ferror(f))
		r = ca_err_set(err, CA_EIO, path, "error reading %s", path);
	if (f != stdin)
		fclose(f);
	if (r) {
		ca_buf_done(&b);
		return r;
	}
	*ret_len = b.len;
	*ret_data = ca_buf_steal(&b);
	return *ret_data ? 0 : CA_ENOMEM;
}

void ca_log_debug(const char *fmt, ...)
{
	if (ca_log_level < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("debug: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
