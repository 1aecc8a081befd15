/* SPDX-License-Identifier: MIT */
/*
 * Error codes and the error detail struct shared by every caseagent call.
 * Functions return int: 0 on success, a negative CA_E* code on failure. Codes
 * are only ever appended, never renumbered (the CURLcode rule), so scripts and
 * the HTTP mapping can rely on them.
 */
#ifndef CASEAGENT_ERROR_H
#define CASEAGENT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
	CA_OK = 0,
	CA_ENOMEM = -1,      /* allocation failed */
	CA_EINVAL = -2,      /* bad argument or bad input (detail says which) */
	CA_ENOTFOUND = -3,   /* a named record does not exist */
	CA_EIO = -4,         /* reading or writing a file failed */
	CA_EDB = -5,         /* the database refused a statement */
	CA_ECONFLICT = -6,   /* row version changed under us; recompute */
	CA_EPARSE = -7,      /* input is not well-formed (JSON, CSV, regex...) */
	CA_EEXIST = -8,      /* the record exists already */
	CA_ETOOBIG = -9,     /* input exceeds a configured limit */
	CA_EUTF8 = -10,      /* text is not valid UTF-8 */
	CA_ESTATE = -11,     /* the operation is not allowed in this state */
	CA_EUNSUPPORTED = -12,
	CA_EAUTH = -13,      /* no credentials, or wrong ones (HTTP 401) */
	CA_EFORBIDDEN = -14, /* authenticated, but the role lacks the right (HTTP 403) */
	CA_ELIMIT = -15      /* too many attempts or requests; retry later (HTTP 429) */
};

/*
 * Detail of a failure. Passed as an optional last argument (may be NULL).
 * `message` is a human sentence naming the record and the reason; `where`
 * names the field, JSON key or "file:line" the message refers to (may be "").
 * Both are NUL-terminated and truncated to fit; the struct owns no heap memory.
 */
typedef struct ca_err {
	int code;
	char message[512];
	char where[160];
} ca_err;

/* Name of a CA_E* code ("CA_ENOTFOUND"...); never NULL, static storage. */
const char *ca_strerror(int code);

/* Reset *err to "no error". NULL-safe. */
void ca_err_clear(ca_err *err);

/*
 * Record a failure in *err (NULL-safe) and return `code`, so callers write
 * `return ca_err_set(err, CA_EINVAL, "settings", "unknown key '%s'", k);`.
 * `where` may be NULL. The first error recorded wins: a later call on an err
 * that already holds a failure leaves it as it is, so the innermost, most
 * precise cause reaches the user.
 */
int ca_err_set(ca_err *err, int code, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Say where an error happened, from an outer layer that knows more (a file
 * and line, a conversation): sets err->where when the inner code left it
 * empty, else prefixes it as "OUTER: inner". NULL-safe; no-op without error.
 */
void ca_err_locate(ca_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
