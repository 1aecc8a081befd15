/* SPDX-License-Identifier: MIT */
/*
 * The follow-up agent's pure parts: the "followup" settings block (defaults,
 * each bad value named by its path), waits in plain and business time
 * (weekends, closing time, a time zone offset) and the reply summary. The
 * step machine over a real database and real e-mail is
 * tests/cli/cli_followup.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "fu_internal.h"

/* Settings with the given followup block (JSON text); *err set on failure. */
static int parse(const char *followup, ca_settings **ret, ca_err *err)
{
	char buf[4096];
	snprintf(buf, sizeof buf,
		 "{\"version\": 1, \"fields\": [{\"name\": \"description\", \"type\": \"text\"}], "
		 "\"default_fields\": [\"description\"], \"followup\": %s}",
		 followup);
	json_error_t je;
	json_t *j = json_loads(buf, 0, &je);
	assert_non_null(j);
	memset(err, 0, sizeof(*err));
	int r = ca_settings_parse(j, ret, err);
	json_decref(j);
	return r;
}

static void refused(const char *followup, const char *where)
{
	ca_settings *s = NULL;
	ca_err err;
	int r = parse(followup, &s, &err);
	if (r == 0)
		ca_settings_free(s);
	assert_int_equal(r, CA_EINVAL);
	if (strcmp(err.where, where))
		fail_msg("expected the error at %s, got %s: %s", where, err.where, err.message);
}

static void test_defaults(void **state)
{
	(void)state;
	ca_settings *s = NULL;
	ca_err err;
	assert_int_equal(parse("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"waiting_for_customer\"}}]}",
			       &s, &err),
			 0);
	const ca_followup_settings *fs = &s->followup;
	assert_int_equal(fs->interval_minutes, 15);
	assert_false(fs->calendar.on);
	assert_int_equal(fs->n_templates, 1); /* the built-in reminder */
	assert_int_equal(fs->n_rules, 1);
	const ca_followup_rule *fr = &fs->rules[0];
	assert_true(fr->active);
	assert_int_equal(fr->followups, 3);
	assert_int_equal(fr->wait_s, 48 * 3600);
	assert_int_equal(fr->level, CA_FU_CONFIRM);
	assert_false(fr->after_last_resolve);
	assert_null(fr->condition);
	assert_string_equal(fr->status_reason, "waiting_for_customer");
	ca_settings_free(s);
	/* settings without the block: no rules, nothing to do */
	assert_int_equal(parse("{}", &s, &err), 0);
	assert_int_equal(s->followup.n_rules, 0);
	ca_settings_free(s);
}

static void test_refused(void **state)
{
	(void)state;
	refused("[]", "followup");
	refused("{\"every\": 3}", "followup.every");
	refused("{\"interval_minutes\": 2000}", "followup.interval_minutes");
	refused("{\"rules\": [{\"trigger\": {\"status_reason\": \"x\"}}]}", "followup.rules[0].name");
	refused("{\"rules\": [{\"name\": \"w\"}]}", "followup.rules[0].trigger");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {}}]}", "followup.rules[0].trigger");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"reply_context\": \"soon\"}}]}",
		"followup.rules[0].trigger.reply_context");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"wait\": {\"hours\": 2, \"days\": 1}}]}",
		"followup.rules[0].wait");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"wait\": {\"hours\": 0}}]}",
		"followup.rules[0].wait.hours");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"followups\": 11}]}",
		"followup.rules[0].followups");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"level\": \"auto\"}]}",
		"followup.rules[0].level");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"after_last\": \"close\"}]}",
		"followup.rules[0].after_last");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"active\": 1}]}",
		"followup.rules[0].active");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"conditions\": {\"match\": \"all\", "
		"\"conditions\": [{\"field\": \"colour\", \"operator\": \"equals\", \"value\": \"red\"}]}}]}",
		"followup.rules[0].conditions");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}}, "
		"{\"name\": \"w\", \"trigger\": {\"status_reason\": \"y\"}}]}",
		"followup.rules[1].name");
	refused("{\"templates\": [{\"subject\": \"Hi {tikcet}\", \"body\": \"x\"}]}", "followup.templates[0].subject");
	refused("{\"templates\": [{\"subject\": \"Hi\\nBcc: x\", \"body\": \"x\"}]}", "followup.templates[0].subject");
	refused("{\"templates\": [{\"subject\": \"Hi\"}]}", "followup.templates[0].body");
	refused("{\"rules\": [{\"name\": \"w\", \"trigger\": {\"status_reason\": \"x\"}, \"templates\": "
		"[{\"subject\": \"s\", \"body\": \"{field:x} {nope}\"}]}]}",
		"followup.rules[0].templates[0].body");
	refused("{\"calendar\": {\"start\": \"17:00\", \"end\": \"09:00\"}}", "followup.calendar.end");
	refused("{\"calendar\": {\"days\": [\"mon\", \"someday\"]}}", "followup.calendar.days[1]");
	refused("{\"calendar\": {\"start\": \"9am\"}}", "followup.calendar.start");
	refused("{\"calendar\": {\"utc_offset\": \"+25:00\"}}", "followup.calendar.utc_offset");
}

/* 2026-01-02 is a Friday. */
#define FRI_0000 1767312000LL
#define HOUR 3600LL

static void test_waits(void **state)
{
	(void)state;
	ca_settings *s = NULL;
	ca_err err;
	assert_int_equal(parse("{\"calendar\": {\"start\": \"09:00\", \"end\": \"17:00\"}, \"rules\": ["
			       "{\"name\": \"h\", \"trigger\": {\"status_reason\": \"x\"}, \"wait\": {\"hours\": 2}},"
			       "{\"name\": \"d\", \"trigger\": {\"status_reason\": \"x\"}, \"wait\": {\"days\": 2}}]}",
			       &s, &err),
			 0);
	const ca_followup_settings *fs = &s->followup;
	const ca_followup_rule *h = &fs->rules[0], *d = &fs->rules[1];
	/* within the day */
	assert_int_equal(fu_due(fs, h, FRI_0000 + 10 * HOUR), FRI_0000 + 12 * HOUR);
	/* Friday 16:00 + 2 business hours: Monday 10:00 */
	assert_int_equal(fu_due(fs, h, FRI_0000 + 16 * HOUR), FRI_0000 + 3 * 24 * HOUR + 10 * HOUR);
	/* Saturday noon: from Monday's opening */
	assert_int_equal(fu_due(fs, h, FRI_0000 + 36 * HOUR), FRI_0000 + 3 * 24 * HOUR + 11 * HOUR);
	/* Friday 07:00: from 09:00 the same day */
	assert_int_equal(fu_due(fs, h, FRI_0000 + 7 * HOUR), FRI_0000 + 11 * HOUR);
	/* two business days of 8 hours from Friday 16:00: Tuesday 16:00 */
	assert_int_equal(fu_due(fs, d, FRI_0000 + 16 * HOUR), FRI_0000 + 4 * 24 * HOUR + 16 * HOUR);
	ca_settings_free(s);

	/* A time zone two hours east: business hours 09-17 local are 07-15 UTC. */
	assert_int_equal(parse("{\"calendar\": {\"utc_offset\": \"+02:00\"}, \"rules\": ["
			       "{\"name\": \"h\", \"trigger\": {\"status_reason\": \"x\"}, \"wait\": {\"hours\": 1}}]}",
			       &s, &err),
			 0);
	assert_int_equal(fu_due(&s->followup, &s->followup.rules[0], FRI_0000 + 6 * HOUR), FRI_0000 + 8 * HOUR);
	assert_int_equal(fu_due(&s->followup, &s->followup.rules[0], FRI_0000 + 14 * HOUR + 30 * 60),
			 FRI_0000 + 3 * 24 * HOUR + 7 * HOUR + 30 * 60);
	ca_settings_free(s);

	/* Without a calendar a wait is plain time, weekends included. */
	assert_int_equal(parse("{\"rules\": [{\"name\": \"d\", \"trigger\": {\"status_reason\": \"x\"}, \"wait\": {\"days\": 2}}]}",
			       &s, &err),
			 0);
	assert_int_equal(fu_due(&s->followup, &s->followup.rules[0], FRI_0000 + 16 * HOUR), FRI_0000 + 64 * HOUR);
	ca_settings_free(s);
}

static void test_summary(void **state)
{
	(void)state;
	char *s = fu_summary("  It still does not charge after the reset you suggested. I tried two cables too.", 280);
	assert_string_equal(s, "It still does not charge after the reset you suggested.");
	free(s);
	s = fu_summary("short\nreply", 280);
	assert_string_equal(s, "short reply");
	free(s);
	/* cut on a character boundary: "é" is two bytes */
	s = fu_summary("ééééé", 5);
	assert_string_equal(s, "éé");
	free(s);
	assert_null(fu_summary(NULL, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_waits),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
