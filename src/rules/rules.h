/* SPDX-License-Identifier: MIT */
/*
 * Layer 2 rules engine: condition groups (field, operator, value) nested with
 * AND ("all") / OR ("any"), parsed from JSON, compiled once, evaluated many
 * times against a record. Used by case update rules now and by ARC rules,
 * knowledge rules and follow-up rules later.
 *
 * JSON shape of a group (docs/rules.md):
 *   {"match": "all" | "any", "conditions": [ CONDITION | GROUP, ... ]}
 * and of a condition:
 *   {"field": "category", "operator": "equals", "value": "product_defect"}
 * Operators: equals, not_equals, contains, does_not_contain, begins_with,
 * ends_with, in, not_in (value is an array), is_empty, is_not_empty (no
 * value), greater_than, less_than (numbers, or ISO 8601 dates/times).
 * Text comparisons are case-insensitive after Unicode folding.
 *
 * A record is a JSON object mapping field names to values (string, number,
 * boolean or null); an absent field is empty. Evaluation never fails: a
 * comparison that cannot be made (e.g. greater_than on a non-number) is false.
 */
#ifndef CA_RULES_H
#define CA_RULES_H

#include <stdbool.h>
#include <jansson.h>
#include "base.h"

typedef struct ca_rule ca_rule; /* compiled condition group; immutable, shareable */

/*
 * Compile a group. `path` names where the spec came from and prefixes error
 * locations (e.g. "update_rules[2].condition"); err->where then names the exact
 * key, like "update_rules[2].condition.conditions[0].operator". Errors:
 * CA_EINVAL for unknown operator, missing field/value, wrong value type,
 * unknown "match", empty condition list, nesting deeper than 16.
 * On success *ret is owned by the caller (ca_rule_free).
 */
int ca_rule_compile(const json_t *spec, const char *path, ca_rule **ret, ca_err *err);
void ca_rule_free(ca_rule *r);

/* Evaluate against a record (JSON object). Thread-safe on a compiled rule. */
bool ca_rule_eval(const ca_rule *r, const json_t *record);

/* The field names the rule reads, each once, appended to *out. */
int ca_rule_fields(const ca_rule *r, ca_strv *out);

/* Canonical JSON of the rule (new reference, caller decrefs); round-trips
 * through ca_rule_compile. */
json_t *ca_rule_to_json(const ca_rule *r);

#endif
