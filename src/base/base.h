/* SPDX-License-Identifier: MIT */
/*
 * Layer 0 helpers used by every module: growable byte buffers, checked number
 * parsing, time, JSON conveniences over jansson, and a tiny string vector.
 * Nothing here knows about cases or conversations.
 */
#ifndef CA_BASE_H
#define CA_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "caseagent/error.h"

#define CA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- buffers ---- */

/* A growable NUL-terminated byte buffer. Zero-initialise or ca_buf_init(). */
typedef struct ca_buf {
	char *data;   /* NULL until the first append; always NUL-terminated after */
	size_t len;   /* bytes used, excluding the terminator */
	size_t cap;
} ca_buf;

void ca_buf_init(ca_buf *b);
/* Frees the heap memory; the buffer may be reused after. */
void ca_buf_done(ca_buf *b);
void ca_buf_reset(ca_buf *b);
/* Append n bytes / a C string / printf output. CA_ENOMEM on failure. */
int ca_buf_append(ca_buf *b, const void *p, size_t n);
int ca_buf_puts(ca_buf *b, const char *s);
int ca_buf_printf(ca_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the data to the caller (caller frees with free()); buffer becomes empty.
 * Returns an empty heap string for an unused buffer; NULL only on ENOMEM. */
char *ca_buf_steal(ca_buf *b);

/* ---- strings ---- */

/* strdup that returns NULL for NULL. Caller frees. */
char *ca_strdup(const char *s);
/* Case-insensitive ASCII equality; NULL equals only NULL. */
bool ca_streq_ci(const char *a, const char *b);
bool ca_streq(const char *a, const char *b);
bool ca_str_empty(const char *s);
/*
 * Parse a whole base-10 integer; rejects empty input, trailing bytes and
 * overflow. Returns 0 or CA_EINVAL.
 */
int ca_parse_i64(const char *s, int64_t *ret_v);
/* Parse a whole finite double; same rules. */
int ca_parse_double(const char *s, double *ret_v);

/* A vector of owned C strings. */
typedef struct ca_strv {
	char **v;
	size_t n, cap;
} ca_strv;
int ca_strv_push(ca_strv *sv, const char *s);   /* copies s */
void ca_strv_done(ca_strv *sv);
bool ca_strv_contains(const ca_strv *sv, const char *s);

/* ---- time ---- */

/* Seconds since the epoch, UTC, as an ISO 8601 string "YYYY-MM-DDTHH:MM:SSZ"
 * written to out (at least 21 bytes). */
void ca_time_iso(int64_t epoch, char out[static 21]);
/* Current wall-clock time in seconds; CA_NOW env var overrides it (tests). */
int64_t ca_time_now(void);
/* Monotonic seconds, for benchmarks and progress. */
double ca_time_mono(void);

/* ---- JSON (jansson) ---- */

/* Borrowed string member or NULL when absent or not a string. */
const char *ca_json_str(const json_t *obj, const char *key);
/* Read a whole file into a jansson value; error names the file and line. */
int ca_json_load_file(const char *path, json_t **ret, ca_err *err);

/* ---- files ---- */

/* Read a whole file into a heap buffer (caller frees); max bytes guard. */
int ca_file_read(const char *path, size_t max, char **ret_data, size_t *ret_len, ca_err *err);

/* ---- logging (edge decides verbosity; the library logs at debug only) ---- */
extern int ca_log_level; /* 0 quiet, 1 info, 2 debug */
void ca_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
