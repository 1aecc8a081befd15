/* SPDX-License-Identifier: MIT */
/*
 * Errors over HTTP: the one mapping of CA_E* codes to HTTP status, and the
 * problem+json body (RFC 9457) every error response carries. CA_EINVAL is
 * 422 (the request was well-formed but its content is refused, naming the
 * key); what cannot be parsed at all (CA_EPARSE, CA_EUTF8, a bad path or
 * query) is 400. Handlers return codes; only the server builds bodies.
 */
#include <string.h>

#include "srv.h"

int srv_status_of(int code, const ca_err *err)
{
	switch (code) {
	case CA_EINVAL:
		return 422;
	case CA_EPARSE:
	case CA_EUTF8:
		return 400;
	case CA_ENOTFOUND:
		return 404;
	case CA_ECONFLICT:
		return 412;
	case CA_ESTATE:
	case CA_EEXIST:
		return 409;
	case CA_ETOOBIG:
		return 413;
	case CA_EAUTH:
		return 401;
	case CA_EFORBIDDEN:
		return 403;
	case CA_ELIMIT:
		return 429;
	case CA_EUNSUPPORTED:
		return 501;
	case CA_EDB:
		/* The write lock held too long by another writer: come back. */
		return err && strstr(err->message, "locked") ? 503 : 500;
	default: /* CA_ENOMEM, CA_EIO, and any code appended later */
		return 500;
	}
}

const char *srv_problem_slug(int code)
{
	switch (code) {
	case CA_EINVAL:
		return "invalid";
	case CA_EPARSE:
		return "malformed";
	case CA_EUTF8:
		return "not-utf8";
	case CA_ENOTFOUND:
		return "not-found";
	case CA_ECONFLICT:
		return "version-conflict";
	case CA_ESTATE:
		return "state-conflict";
	case CA_EEXIST:
		return "exists";
	case CA_ETOOBIG:
		return "too-big";
	case CA_EAUTH:
		return "unauthenticated";
	case CA_EFORBIDDEN:
		return "forbidden";
	case CA_ELIMIT:
		return "rate-limited";
	case CA_EUNSUPPORTED:
		return "unsupported";
	case CA_EDB:
		return "database";
	default:
		return "internal";
	}
}

/* The title of a status (RFC 9110 §15 reason phrases). */
static const char *title_of(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

char *srv_problem_json(int status, const char *slug, const char *detail, const char *field, json_t *extra)
{
	char type[96], d[sizeof ((ca_err *)0)->message], f[sizeof ((ca_err *)0)->where];
	json_t *o;
	char *text;

	snprintf(d, sizeof d, "%s", detail && detail[0] ? detail : title_of(status));
	snprintf(f, sizeof f, "%s", field ? field : "");
	srv_utf8_clean(d);
	srv_utf8_clean(f);

	snprintf(type, sizeof type, "urn:caseagent:problem:%s", slug);
	o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title_of(status), "status", status, "detail", d);
	if (!o) {
		json_decref(extra);
		return NULL;
	}
	if (f[0])
		json_object_set_new(o, "field", json_string(f));
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}
