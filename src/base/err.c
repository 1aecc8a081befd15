/* SPDX-License-Identifier: MIT */
/* Error codes and ca_err: the one way failures carry their detail upward. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "caseagent/error.h"

const char *ca_strerror(int code)
{
	static const char *const names[] = {
		"CA_OK", "CA_ENOMEM", "CA_EINVAL", "CA_ENOTFOUND", "CA_EIO", "CA_EDB",
		"CA_ECONFLICT", "CA_EPARSE", "CA_EEXIST", "CA_ETOOBIG", "CA_EUTF8",
		"CA_ESTATE", "CA_EUNSUPPORTED", "CA_EAUTH", "CA_EFORBIDDEN", "CA_ELIMIT",
	};
	int i = -code;
	if (i < 0 || (size_t)i >= sizeof(names) / sizeof(names[0]))
		return "CA_EUNKNOWN";
	return names[i];
}

void ca_err_clear(ca_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->message[0] = '\0';
	err->where[0] = '\0';
}

/* dst = a + ": " + b, truncated to fit. */
static void ca_err_join(char *dst, size_t size, const char *a, const char *b)
{
	size_t la = strnlen(a, size - 1);
	memcpy(dst, a, la);
	size_t pos = la;
	const char *mid = ": ";
	for (size_t i = 0; mid[i] && pos + 1 < size; i++)
		dst[pos++] = mid[i];
	for (size_t i = 0; b[i] && pos + 1 < size; i++)
		dst[pos++] = b[i];
	dst[pos] = '\0';
}

int ca_err_set(ca_err *err, int code, const char *where, const char *fmt, ...)
{
	if (!err || err->code != 0)
		return code;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	return code;
}

void ca_err_locate(ca_err *err, const char *fmt, ...)
{
	if (!err || err->code == 0)
		return;
	char outer[sizeof(err->where)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	char inner[sizeof(err->where)];
	memcpy(inner, err->where, sizeof(inner));
	if (!inner[0])
		memcpy(err->where, outer, sizeof(outer));
	else if (strstr(inner, outer) != inner) /* not already located there */
		ca_err_join(err->where, sizeof(err->where), outer, inner);
}
