/* SPDX-License-Identifier: MIT */
/*
 * GET /openapi.json: the OpenAPI 3.1 document of the service, generated from
 * the route table alone, so it cannot drift from what the router serves:
 * every route with its summary, path and query parameters, request and
 * response schemas, the problem+json error answers, the rights it needs
 * ("x-caseagent-rights": ["work", ...]) and its security (a bearer token or
 * the session cookie; none for the public routes).
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

static json_t *schema_of(const char *text)
{
	json_t *s = text ? json_loads(text, 0, NULL) : NULL;
	return s ? s : json_object();
}

static json_t *parameters(const srv_route *r)
{
	json_t *params = json_array();
	const char *p = r->path;

	while ((p = strchr(p, '{'))) {
		const char *close = strchr(p, '}');
		if (!close)
			break;
		json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s, s:i}}", "name", p + 1,
							(size_t)(close - p - 1), "in", "path", "required", 1, "schema",
							"type", "string", "maxLength", SRV_SEGMENT_MAX));
		p = close + 1;
	}
	for (const char *q = r->query ? r->query : ""; *q;) {
		size_t l = strcspn(q, ",");
		json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", q, l, "in", "query",
							"required", 0, "schema", "type", "string"));
		q += l;
		if (*q == ',')
			q++;
	}
	return params;
}

static json_t *problem_ref(const char *description)
{
	return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", description, "content", "application/problem+json",
			 "schema", "$ref", "#/components/schemas/Problem");
}

static json_t *operation(const srv_route *r)
{
	json_t *op = json_pack("{s:s, s:s, s:o}", "summary", r->summary, "operationId", "", "parameters", parameters(r));
	json_t *rights = json_array();
	json_t *responses = json_object();
	char ok[8];
	char id[160];
	size_t n = 0;

	/* operationId: the method and the path's words ("get_api_v1_cases_ref"). */
	n = (size_t)snprintf(id, sizeof id, "%s", r->method);
	for (const char *p = r->path; *p && n + 1 < sizeof id; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		id[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	id[n] = '\0';
	for (size_t i = 0; id[i]; i++)
		if (id[i] >= 'A' && id[i] <= 'Z')
			id[i] = (char)(id[i] - 'A' + 'a');
	json_object_set_new(op, "operationId", json_string(id));
	for (size_t i = 0; i < sizeof srv_right_names / sizeof srv_right_names[0]; i++)
		if (r->rights & (1u << i))
			json_array_append_new(rights, json_string(srv_right_names[i]));
	json_object_set_new(op, "x-caseagent-rights", rights);
	json_object_set_new(op, "x-caseagent-public", json_boolean(r->flags & SRV_PUBLIC));
	/* Not the API: the UI's files, for paths of any depth. */
	if (r->flags & SRV_WEB)
		json_object_set_new(op, "x-caseagent-web", json_true());
	if (r->flags & SRV_PUBLIC)
		json_object_set_new(op, "security", json_array());
	else
		json_object_set_new(op, "security", json_pack("[{s:[]}, {s:[]}]", "bearer", "session"));
	if (r->body != SRV_BODY_NONE) {
		const char *type = r->body == SRV_BODY_RFC822 ? "message/rfc822" : "application/json";
		json_t *schema = schema_of(r->request);
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b, s:{s:{s:o}}}", "required",
					      r->body == SRV_BODY_RFC822 || json_object_get(schema, "required"),
					      "content", type, "schema", schema));
	}
	snprintf(ok, sizeof ok, "%d", r->ok_status ? r->ok_status : 200);
	if (r->ok_status == 204) {
		json_object_set_new(responses, ok, json_pack("{s:s}", "description", "Done; no body"));
	} else {
		const char *type = r->flags & SRV_STREAM ? "text/event-stream"
				   : r->fn == srv_h_metrics ? "text/plain"
				   : r->flags & SRV_WEB      ? "text/html"
							    : "application/json";
		json_object_set_new(responses, ok,
				    json_pack("{s:s, s:{s:{s:o}}}", "description", "Success", "content", type, "schema",
					      schema_of(r->response)));
	}
	json_object_set_new(responses, "400", problem_ref("A bad path, query, header or JSON body"));
	if (!(r->flags & SRV_PUBLIC)) {
		json_object_set_new(responses, "401", problem_ref("No credentials, or wrong ones"));
		json_object_set_new(responses, "403", problem_ref("The role lacks the right, or a CSRF token is missing"));
	}
	json_object_set_new(responses, "default", problem_ref("Any other error (RFC 9457 problem details)"));
	json_object_set_new(op, "responses", responses);
	return op;
}

char *srv_openapi_json(void)
{
	json_t *paths = json_object();
	json_t *doc;
	char *text;

	for (size_t i = 0; i < srv_nroutes; i++) {
		const srv_route *r = &srv_routes[i];
		json_t *item = json_object_get(paths, r->path);
		char method[16];
		size_t k;

		if (!item) {
			item = json_object();
			json_object_set_new(paths, r->path, item);
		}
		for (k = 0; r->method[k] && k + 1 < sizeof method; k++)
			method[k] = (char)(r->method[k] >= 'A' && r->method[k] <= 'Z' ? r->method[k] - 'A' + 'a' : r->method[k]);
		method[k] = '\0';
		json_object_set_new(item, method, operation(r));
	}
	doc = json_pack(
		"{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:{s:s, s:s}, s:{s:s, s:s, s:s}}, s:{s:{s:s, s:[s,s,s,s], s:{"
		"s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}}}",
		"openapi", "3.1.0", "info", "title", "caseagent", "version", CA_VERSION, "description",
		"The caseagent service: cases, conversations, e-mail, knowledge, users and live events. "
		"Errors are RFC 9457 problem+json.",
		"paths", paths, "components", "securitySchemes", "bearer", "type", "http", "scheme", "bearer", "session",
		"type", "apiKey", "in", "cookie", "name", "caseagent_session", "schemas", "Problem", "type", "object",
		"required", "type", "title", "status", "detail", "properties", "type", "type", "string", "title", "type",
		"string", "status", "type", "integer", "detail", "type", "string", "field", "type", "string");
	if (!doc)
		return NULL;
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}
