/* SPDX-License-Identifier: MIT */
/*
 * `caseagent train`: learn option-set models from the team's own resolved
 * cases and store them in the database, so the embedded predictor moves from
 * the administrator's option descriptions to what this team actually files.
 */
#include <stdlib.h>
#include <string.h>
#include "casemgmt.h"

int ca_train(ca_agent *a, size_t min_examples, char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	json_t *ex = NULL, *models = NULL;
	if (!r)
		r = ca_store_training_cases(a->store, &ex, err);
	if (!r)
		r = ca_embedded_train(ex, a->settings->fields, a->settings->n_fields, min_examples ? min_examples : 20,
				      &models, err);
	json_decref(ex);
	if (r)
		return r;
	json_t *skipped = json_incref(json_object_get(models, "_skipped"));
	json_object_del(models, "_skipped");
	json_t *trained = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(models, k, v) {
		json_object_set_new(trained, k, json_pack("{s:O, s:I}", "examples", json_object_get(v, "examples"), "classes",
							  (json_int_t)json_array_size(json_object_get(v, "labels"))));
	}
	char *text = json_dumps(models, JSON_COMPACT);
	json_decref(models);
	r = text ? ca_store_blob_put(a->store, "models", text, strlen(text), err) : CA_ENOMEM;
	free(text);
	if (r) {
		json_decref(skipped);
		json_decref(trained);
		return r;
	}
	ca_agent_invalidate(a);
	return ca_result(json_pack("{s:o, s:o}", "trained", trained, "skipped", skipped ? skipped : json_object()), ret_json);
}

int ca_calibrate(ca_agent *a, const char *path, size_t min_examples, char **ret_json, ca_err *err)
{
	int r = ca_agent_ready(a, err);
	json_t *ts = NULL, *ex = NULL, *maps = NULL;
	if (!r)
		r = ca_transcripts_load(path, &ts, err);
	if (!r && !(ex = json_array()))
		r = CA_ENOMEM;
	size_t i;
	json_t *t;
	json_array_foreach(ts, i, t) {
		if (r)
			break;
		/* chat transcripts with labels; e-mail threads carry no messages here */
		const json_t *labels = json_object_get(t, "labels"), *msgs = json_object_get(t, "messages");
		if (json_is_object(labels) && json_array_size(msgs))
			r = json_array_append_new(ex, json_pack("{s:O, s:O}", "messages", msgs, "fields", labels)) ? CA_ENOMEM : 0;
	}
	json_decref(ts);
	if (!r)
		r = ca_embedded_calibrate(ex, a->settings->fields, a->settings->n_fields, a->models,
					  min_examples ? min_examples : 10, &maps, err);
	json_decref(ex);
	if (r)
		return r;
	json_t *skipped = json_incref(json_object_get(maps, "_skipped"));
	json_object_del(maps, "_skipped");
	json_t *models = a->models ? json_deep_copy(a->models) : json_object();
	json_t *fit = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(maps, k, v) {
		json_t *m = json_object_get(models, k);
		if (!m) {
			m = json_object();
			json_object_set_new(models, k, m);
		}
		json_object_set(m, "calibration", v);
		json_object_set_new(fit, k, json_pack("{s:O, s:O, s:O, s:O, s:I}", "examples", json_object_get(v, "examples"),
						      "bins", json_object_get(v, "bins"), "ece_before",
						      json_object_get(v, "ece_before"), "ece_after", json_object_get(v, "ece_after"),
						      "steps", (json_int_t)json_array_size(json_object_get(v, "x"))));
	}
	json_decref(maps);
	char *text = models ? json_dumps(models, JSON_COMPACT) : NULL;
	json_decref(models);
	r = text ? ca_store_blob_put(a->store, "models", text, strlen(text), err) : CA_ENOMEM;
	free(text);
	if (r) {
		json_decref(skipped);
		json_decref(fit);
		return r;
	}
	ca_agent_invalidate(a);
	return ca_result(json_pack("{s:o, s:o}", "calibrated", fit, "skipped", skipped ? skipped : json_object()), ret_json);
}
