/* SPDX-License-Identifier: MIT */
/*
 * The rules engine behind rules.h: a JSON condition group is validated and
 * compiled once into an immutable tree whose constant values are already
 * folded, parsed as numbers and parsed as dates, so that evaluation against a
 * record (which happens for every case update, ARC rule and knowledge rule)
 * only has to look at the record side. Evaluation allocates nothing for ASCII
 * text and never fails; a comparison that cannot be made is simply false.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"
#include "text.h"

/* Bounds recursion in both compile and eval, so a hostile spec cannot blow the stack. */
#define MAX_DEPTH 16

enum op {
	OP_EQUALS,
	OP_NOT_EQUALS,
	OP_CONTAINS,
	OP_DOES_NOT_CONTAIN,
	OP_BEGINS_WITH,
	OP_ENDS_WITH,
	OP_IN,
	OP_NOT_IN,
	OP_IS_EMPTY,
	OP_IS_NOT_EMPTY,
	OP_GREATER_THAN,
	OP_LESS_THAN,
};

/* What an operator's "value" must be. */
enum value_kind {
	VK_NONE,    /* no value (null tolerated, since form UIs tend to send one) */
	VK_SCALAR,  /* string, number or boolean */
	VK_LIST,    /* non-empty array of strings/numbers */
	VK_ORDERED, /* number, numeric string or ISO 8601 date string */
};

/* Indexed by enum op; the order is also the order listed in error messages. */
static const struct {
	const char *name;
	enum value_kind vk;
} ops[] = {
	[OP_EQUALS] = {"equals", VK_SCALAR},
	[OP_NOT_EQUALS] = {"not_equals", VK_SCALAR},
	[OP_CONTAINS] = {"contains", VK_SCALAR},
	[OP_DOES_NOT_CONTAIN] = {"does_not_contain", VK_SCALAR},
	[OP_BEGINS_WITH] = {"begins_with", VK_SCALAR},
	[OP_ENDS_WITH] = {"ends_with", VK_SCALAR},
	[OP_IN] = {"in", VK_LIST},
	[OP_NOT_IN] = {"not_in", VK_LIST},
	[OP_IS_EMPTY] = {"is_empty", VK_NONE},
	[OP_IS_NOT_EMPTY] = {"is_not_empty", VK_NONE},
	[OP_GREATER_THAN] = {"greater_than", VK_ORDERED},
	[OP_LESS_THAN] = {"less_than", VK_ORDERED},
};

#define VALID_OPERATORS \
	"equals, not_equals, contains, does_not_contain, begins_with, ends_with, " \
	"in, not_in, is_empty, is_not_empty, greater_than, less_than"

/*
 * A number kept both ways: integers that fit int64 compare exactly, because
 * order and account numbers routinely exceed the 2^53 a double holds exactly.
 */
struct num {
	bool is_int;
	int64_t i;
	double d;
};

/* One constant of a condition, prepared for every comparison it may take part in. */
struct cval {
	char *folded; /* case-folded text form (heap) */
	size_t folded_len;
	bool has_num;
	struct num num;
	bool has_date;
	int64_t date; /* seconds since the epoch, UTC */
};

struct node {
	bool group;
	/* group */
	bool any;
	struct node *kids;
	size_t n_kids;
	/* condition */
	char *field;
	enum op op;
	json_t *value; /* private deep copy, only for ca_rule_to_json; NULL for VK_NONE */
	struct cval *vals;
	size_t n_vals;
};

struct ca_rule {
	struct node root;
};

/* ---- text ---- */

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Fold a constant into a heap string. ASCII takes the same shortcut as the
 * record side (for ASCII, NFKC + case fold + mark stripping is exactly
 * lowercasing), so both sides are always folded by the same rule.
 */
static int fold_alloc(const char *s, size_t len, char **ret, size_t *ret_len)
{
	if (is_ascii(s, len)) {
		char *d = malloc(len + 1);
		if (!d)
			return CA_ENOMEM;
		for (size_t i = 0; i < len; i++)
			d[i] = ascii_lower(s[i]);
		d[len] = '\0';
		*ret = d;
		*ret_len = len;
		return 0;
	}
	char *d = NULL;
	int r = ca_text_fold(s, len, &d);
	if (r < 0)
		return r;
	*ret = d;
	*ret_len = strlen(d);
	return 0;
}

/*
 * The record side of a text comparison. ASCII text is not copied: `lower`
 * says to lowercase each byte as it is compared, which keeps evaluation free
 * of allocation (and of any length limit) for the common case.
 */
struct text {
	const char *s;
	size_t len;
	bool lower;
	char *heap; /* folded non-ASCII text, freed by text_done */
};

static void text_init(struct text *t, const char *s, size_t len)
{
	t->s = s;
	t->len = len;
	t->lower = true;
	t->heap = NULL;
	if (is_ascii(s, len))
		return;
	char *d = NULL;
	/* Evaluation cannot fail, so text that cannot be folded (bad UTF-8, out of
	 * memory) is compared as written with ASCII letters lowercased: still
	 * deterministic, and right for every ASCII constant. */
	if (ca_text_fold(s, len, &d) < 0)
		return;
	t->s = t->heap = d;
	t->len = strlen(d);
	t->lower = false;
}

static void text_done(struct text *t)
{
	free(t->heap);
	t->heap = NULL;
}

static bool match_at(const struct text *t, size_t pos, const char *n, size_t nlen)
{
	if (!t->lower)
		return memcmp(t->s + pos, n, nlen) == 0;
	for (size_t i = 0; i < nlen; i++)
		if (ascii_lower(t->s[pos + i]) != n[i])
			return false;
	return true;
}

static bool text_eq(const struct text *t, const struct cval *c)
{
	return t->len == c->folded_len && match_at(t, 0, c->folded, c->folded_len);
}

static bool text_begins(const struct text *t, const struct cval *c)
{
	return t->len >= c->folded_len && match_at(t, 0, c->folded, c->folded_len);
}

static bool text_ends(const struct text *t, const struct cval *c)
{
	return t->len >= c->folded_len &&
	       match_at(t, t->len - c->folded_len, c->folded, c->folded_len);
}

static bool text_contains(const struct text *t, const struct cval *c)
{
	if (c->folded_len > t->len)
		return false;
	for (size_t i = 0; i + c->folded_len <= t->len; i++)
		if (match_at(t, i, c->folded, c->folded_len))
			return true;
	return false;
}

/* Unicode White_Space (PropList.txt), so a value of only no-break spaces
 * pasted from a web form still counts as empty. */
static bool is_blank(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c == ' ' || (c >= '\t' && c <= '\r')) {
			i++;
			continue;
		}
		if (c == 0xC2 && i + 1 < len && (s[i + 1] == 0x85 || s[i + 1] == 0xA0)) {
			i += 2;
			continue;
		}
		if (c == 0xE1 && i + 2 < len && s[i + 1] == 0x9A && s[i + 2] == 0x80) {
			i += 3; /* U+1680 */
			continue;
		}
		if (c == 0xE2 && i + 2 < len && s[i + 1] == 0x80 &&
		    (s[i + 2] <= 0x8A || s[i + 2] == 0xA8 || s[i + 2] == 0xA9 || s[i + 2] == 0xAF) &&
		    s[i + 2] >= 0x80) {
			i += 3; /* U+2000..200A, U+2028, U+2029, U+202F */
			continue;
		}
		if (c == 0xE2 && i + 2 < len && s[i + 1] == 0x81 && s[i + 2] == 0x9F) {
			i += 3; /* U+205F */
			continue;
		}
		if (c == 0xE3 && i + 2 < len && s[i + 1] == 0x80 && s[i + 2] == 0x80) {
			i += 3; /* U+3000 */
			continue;
		}
		return false;
	}
	return true;
}

/* ---- numbers and dates ---- */

/*
 * A whole number in JSON's syntax (leading '+' and a bare leading '.'
 * tolerated). Checked before strtod so that hex, "inf", "nan" and leading
 * spaces, which strtod would accept, do not turn text into numbers.
 */
static bool parse_num(const char *s, size_t len, struct num *ret)
{
	if (len == 0 || strlen(s) != len)
		return false;
	size_t i = 0, digits = 0;
	bool integral = true;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		integral = false;
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		integral = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t exp_digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, exp_digits++;
		if (exp_digits == 0)
			return false;
	}
	if (i != len)
		return false;
	struct num n = {0};
	if (ca_parse_double(s, &n.d) < 0)
		return false;
	/* A leading '+' is not something ca_parse_i64 promises to take. */
	if (integral && s[0] != '+' && ca_parse_i64(s, &n.i) == 0)
		n.is_int = true;
	*ret = n;
	return true;
}

static bool json_num(const json_t *v, struct num *ret)
{
	if (json_is_integer(v)) {
		ret->is_int = true;
		ret->i = (int64_t)json_integer_value(v);
		ret->d = (double)ret->i;
		return true;
	}
	if (json_is_real(v)) {
		ret->is_int = false;
		ret->d = json_real_value(v);
		ret->i = 0;
		return true;
	}
	return false;
}

static int num_cmp(const struct num *a, const struct num *b)
{
	if (a->is_int && b->is_int)
		return (a->i > b->i) - (a->i < b->i);
	return (a->d > b->d) - (a->d < b->d);
}

static bool digits_at(const char *s, size_t pos, size_t n, int *ret)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[pos + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*ret = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * YYYY-MM-DD, optionally followed by THH:MM[:SS][Z] (ISO 8601 extended
 * format). A date alone means its midnight and a time without "Z" is taken as
 * UTC, so every form lands on one time line and "2024-01-02" sorts before
 * "2024-01-02T10:00Z".
 */
static bool parse_date(const char *s, size_t len, int64_t *ret)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (len < 10 || !digits_at(s, 0, 4, &y) || s[4] != '-' || !digits_at(s, 5, 2, &mo) ||
	    s[7] != '-' || !digits_at(s, 8, 2, &d))
		return false;
	size_t i = 10;
	if (i < len) {
		if ((s[i] != 'T' && s[i] != 't') || len < i + 6 || !digits_at(s, i + 1, 2, &h) ||
		    s[i + 3] != ':' || !digits_at(s, i + 4, 2, &mi))
			return false;
		i += 6;
		if (i < len && s[i] == ':') {
			if (len < i + 3 || !digits_at(s, i + 1, 2, &sec))
				return false;
			i += 3;
		}
		if (i < len && (s[i] == 'Z' || s[i] == 'z'))
			i++;
		if (i != len)
			return false;
	}
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	/* 60 admits a leap second rather than rejecting a real timestamp. */
	if (h > 23 || mi > 59 || sec > 60)
		return false;
	*ret = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}

/*
 * Text form of a JSON scalar for text comparisons, written to buf (big enough
 * for any number). Reals use the shortest form that reads back the same, so
 * 0.1 is "0.1" and not "0.10000000000000001". Returns NULL for arrays/objects.
 */
static const char *scalar_text(const json_t *v, char buf[static 32], size_t *ret_len)
{
	if (!v || json_is_null(v)) {
		*ret_len = 0;
		return "";
	}
	if (json_is_string(v)) {
		*ret_len = json_string_length(v);
		return json_string_value(v);
	}
	if (json_is_true(v) || json_is_false(v)) {
		const char *s = json_is_true(v) ? "true" : "false";
		*ret_len = strlen(s);
		return s;
	}
	if (json_is_integer(v)) {
		int n = snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*ret_len = n > 0 ? (size_t)n : 0;
		return buf;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		int n = 0;
		for (int prec = 1; prec <= 17; prec++) {
			n = snprintf(buf, 32, "%.*g", prec, d);
			double back;
			if (ca_parse_double(buf, &back) == 0 && back == d)
				break;
		}
		*ret_len = n > 0 ? (size_t)n : 0;
		return buf;
	}
	return NULL;
}

/* ---- compile ---- */

static void node_done(struct node *n)
{
	if (n->group) {
		for (size_t i = 0; i < n->n_kids; i++)
			node_done(&n->kids[i]);
		free(n->kids);
	} else {
		free(n->field);
		json_decref(n->value);
		for (size_t i = 0; i < n->n_vals; i++)
			free(n->vals[i].folded);
		free(n->vals);
	}
	memset(n, 0, sizeof(*n));
}

static int oom(ca_err *err)
{
	return ca_err_set(err, CA_ENOMEM, NULL, "out of memory compiling a rule");
}

/* Append ".key" (or "key" at the root) to the location. Callers remember
 * p->len beforehand and path_pop back to it. */
static int path_key(ca_buf *p, const char *key)
{
	return p->len ? ca_buf_printf(p, ".%s", key) : ca_buf_puts(p, key);
}

static int path_index(ca_buf *p, size_t i)
{
	return ca_buf_printf(p, "[%zu]", i);
}

static void path_pop(ca_buf *p, size_t mark)
{
	p->len = mark;
	if (p->data)
		p->data[p->len] = '\0';
}

static const char *path_str(const ca_buf *p)
{
	return p->data ? p->data : "";
}

/* Record an error located at the current path, plus ".key" when key is set. */
static int err_at(ca_err *err, ca_buf *p, const char *key, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int err_at(ca_err *err, ca_buf *p, const char *key, int code, const char *fmt, ...)
{
	if (!err || err->code != 0)
		return code;
	size_t mark = p->len;
	if (key && path_key(p, key) < 0)
		return oom(err);
	/* ca_err_set has no va_list form; the message is truncated to the same
	 * size there anyway. */
	char msg[sizeof(err->message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ca_err_set(err, code, path_str(p), "%s", msg);
	path_pop(p, mark);
	return code;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

/* A group is recognised by its keys, so a condition with a stray key still
 * gets the condition's error messages. */
static bool looks_like_group(const json_t *j)
{
	return json_object_get(j, "conditions") || json_object_get(j, "match");
}

static int prepare_value(const json_t *v, enum op op, struct cval *c, ca_buf *p, ca_err *err)
{
	char buf[32];
	size_t len;
	const char *s = scalar_text(v, buf, &len);
	if (!s)
		return CA_EINVAL; /* callers have checked the type */
	int r = fold_alloc(s, len, &c->folded, &c->folded_len);
	if (r == CA_ENOMEM)
		return oom(err);
	if (r < 0)
		return err_at(err, p, NULL, CA_EINVAL, "value '%s' of %s is not valid UTF-8", s,
			      ops[op].name);
	if (json_is_number(v)) {
		c->has_num = json_num(v, &c->num);
	} else if (json_is_string(v)) {
		c->has_num = parse_num(s, len, &c->num);
		c->has_date = !c->has_num && parse_date(s, len, &c->date);
	}
	if (ops[op].vk == VK_ORDERED && !c->has_num && !c->has_date)
		return err_at(err, p, NULL, CA_EINVAL,
			      "value '%s' of %s is neither a number nor an ISO 8601 date "
			      "(YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z])",
			      s, ops[op].name);
	return 0;
}

static int compile_value(const json_t *v, struct node *n, ca_buf *p, ca_err *err)
{
	const char *opname = ops[n->op].name;
	size_t mark = p->len;
	if (path_key(p, "value") < 0)
		return oom(err);
	int r = 0;
	switch (ops[n->op].vk) {
	case VK_NONE:
		if (v && !json_is_null(v))
			r = err_at(err, p, NULL, CA_EINVAL, "%s takes no value, but %s was given",
				   opname, type_name(v));
		break;
	case VK_SCALAR:
	case VK_ORDERED:
		if (!v) {
			r = err_at(err, p, NULL, CA_EINVAL, "%s needs a value", opname);
			break;
		}
		if (!json_is_string(v) && !json_is_number(v) &&
		    (ops[n->op].vk == VK_ORDERED || !json_is_boolean(v))) {
			r = err_at(err, p, NULL, CA_EINVAL, "value of %s must be %s, not %s", opname,
				   ops[n->op].vk == VK_ORDERED
					   ? "a number or an ISO 8601 date string"
					   : "a string, a number or a boolean",
				   type_name(v));
			break;
		}
		n->vals = calloc(1, sizeof(*n->vals));
		if (!n->vals) {
			r = oom(err);
			break;
		}
		n->n_vals = 1;
		r = prepare_value(v, n->op, &n->vals[0], p, err);
		break;
	case VK_LIST: {
		if (!v) {
			r = err_at(err, p, NULL, CA_EINVAL, "%s needs a value%s", opname,
				   " (a non-empty array of strings or numbers)");
			break;
		}
		if (!json_is_array(v) || json_array_size(v) == 0) {
			r = err_at(err, p, NULL, CA_EINVAL,
				   "value of %s must be a non-empty array of strings or numbers, not %s",
				   opname, json_is_array(v) ? "an empty array" : type_name(v));
			break;
		}
		size_t cnt = json_array_size(v);
		n->vals = calloc(cnt, sizeof(*n->vals));
		if (!n->vals) {
			r = oom(err);
			break;
		}
		n->n_vals = cnt;
		for (size_t i = 0; i < cnt && r == 0; i++) {
			const json_t *e = json_array_get(v, i);
			size_t m = p->len;
			if (path_index(p, i) < 0) {
				r = oom(err);
				break;
			}
			if (!json_is_string(e) && !json_is_number(e))
				r = err_at(err, p, NULL, CA_EINVAL,
					   "items of %s must be strings or numbers, not %s", opname,
					   type_name(e));
			else
				r = prepare_value(e, n->op, &n->vals[i], p, err);
			path_pop(p, m);
		}
		break;
	}
	}
	if (r == 0 && v && ops[n->op].vk != VK_NONE) {
		n->value = json_deep_copy(v);
		if (!n->value)
			r = oom(err);
	}
	path_pop(p, mark);
	return r;
}

static int compile_condition(const json_t *j, struct node *n, ca_buf *p, ca_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)j, key, v) {
		if (strcmp(key, "field") && strcmp(key, "operator") && strcmp(key, "value"))
			return err_at(err, p, key, CA_EINVAL,
				      "unknown key '%s' in a condition; expected %s", key,
				      "field, operator, value");
	}

	const json_t *field = json_object_get(j, "field");
	if (!field)
		return err_at(err, p, "field", CA_EINVAL, "condition has no field");
	if (!json_is_string(field) || json_string_length(field) == 0)
		return err_at(err, p, "field", CA_EINVAL, "field must be a non-empty string, not %s",
			      json_is_string(field) ? "an empty string" : type_name(field));

	const json_t *oper = json_object_get(j, "operator");
	if (!oper)
		return err_at(err, p, "operator", CA_EINVAL, "condition has no operator; valid operators: %s",
			      VALID_OPERATORS);
	if (!json_is_string(oper))
		return err_at(err, p, "operator", CA_EINVAL,
			      "operator must be a string, not %s; valid operators: %s",
			      type_name(oper), VALID_OPERATORS);
	const char *opname = json_string_value(oper);
	size_t op;
	for (op = 0; op < CA_ARRAY_SIZE(ops); op++)
		if (strcmp(opname, ops[op].name) == 0)
			break;
	if (op == CA_ARRAY_SIZE(ops))
		return err_at(err, p, "operator", CA_EINVAL, "unknown operator '%s'; valid operators: %s",
			      opname, VALID_OPERATORS);

	n->group = false;
	n->op = (enum op)op;
	n->field = strdup(json_string_value(field));
	if (!n->field)
		return oom(err);
	return compile_value(json_object_get(j, "value"), n, p, err);
}

static int compile_group(const json_t *j, struct node *n, int depth, ca_buf *p, ca_err *err)
{
	n->group = true;
	if (depth > MAX_DEPTH)
		return err_at(err, p, NULL, CA_EINVAL,
			      "condition groups are nested deeper than %d levels", MAX_DEPTH);
	if (!json_is_object(j))
		return err_at(err, p, NULL, CA_EINVAL,
			      "a condition group must be an object "
			      "{\"match\": \"all\"|\"any\", \"conditions\": [...]}, not %s",
			      type_name(j));

	const char *key;
	json_t *v;
	json_object_foreach((json_t *)j, key, v) {
		if (strcmp(key, "match") && strcmp(key, "conditions"))
			return err_at(err, p, key, CA_EINVAL,
				      "unknown key '%s' in a condition group; expected %s", key,
				      "match, conditions");
	}

	/* "match" may be left out: "all" is what a list of conditions reads as. */
	const json_t *match = json_object_get(j, "match");
	if (match) {
		const char *m = json_string_value(match);
		if (!m)
			return err_at(err, p, "match", CA_EINVAL,
				      "match must be \"all\" or \"any\", not %s", type_name(match));
		if (strcmp(m, "all") && strcmp(m, "any"))
			return err_at(err, p, "match", CA_EINVAL,
				      "unknown match '%s'; expected \"all\" or \"any\"", m);
		n->any = strcmp(m, "any") == 0;
	}

	const json_t *conds = json_object_get(j, "conditions");
	if (!conds)
		return err_at(err, p, "conditions", CA_EINVAL,
			      "condition group has no conditions");
	if (!json_is_array(conds))
		return err_at(err, p, "conditions", CA_EINVAL,
			      "conditions must be an array, not %s", type_name(conds));
	size_t cnt = json_array_size(conds);
	if (cnt == 0)
		return err_at(err, p, "conditions", CA_EINVAL, "empty condition list");

	n->kids = calloc(cnt, sizeof(*n->kids));
	if (!n->kids)
		return oom(err);
	n->n_kids = cnt;
	/* Marks the kids as groups until compiled, so node_done never reads a
	 * half-built condition as anything but empty. */
	for (size_t i = 0; i < cnt; i++)
		n->kids[i].group = true;

	size_t mark = p->len;
	if (path_key(p, "conditions") < 0)
		return oom(err);
	int r = 0;
	for (size_t i = 0; i < cnt && r == 0; i++) {
		const json_t *c = json_array_get(conds, i);
		size_t m = p->len;
		if (path_index(p, i) < 0) {
			r = oom(err);
			break;
		}
		if (!json_is_object(c))
			r = err_at(err, p, NULL, CA_EINVAL,
				   "a condition must be an object, not %s", type_name(c));
		else if (looks_like_group(c))
			r = compile_group(c, &n->kids[i], depth + 1, p, err);
		else
			r = compile_condition(c, &n->kids[i], p, err);
		path_pop(p, m);
	}
	path_pop(p, mark);
	return r;
}

int ca_rule_compile(const json_t *spec, const char *path, ca_rule **ret, ca_err *err)
{
	ca_buf p;
	ca_buf_init(&p);
	if (path && *path && ca_buf_puts(&p, path) < 0)
		return oom(err);

	int r;
	ca_rule *rule = calloc(1, sizeof(*rule));
	if (!rule) {
		r = oom(err);
	} else if (spec && json_is_object(spec) && !looks_like_group(spec) &&
		   json_object_get(spec, "field")) {
		/* A bare condition is the likeliest mistake at the top; say so plainly. */
		r = err_at(err, &p, NULL, CA_EINVAL,
			   "expected a condition group {\"match\": \"all\"|\"any\", \"conditions\": "
			   "[...]}, found a single condition");
	} else if (!spec) {
		r = err_at(err, &p, NULL, CA_EINVAL, "no rule given");
	} else {
		r = compile_group(spec, &rule->root, 1, &p, err);
	}
	ca_buf_done(&p);
	if (r < 0) {
		ca_rule_free(rule);
		return r;
	}
	*ret = rule;
	return 0;
}

void ca_rule_free(ca_rule *r)
{
	if (!r)
		return;
	node_done(&r->root);
	free(r);
}

/* ---- eval ---- */

/* Numeric view of a record value: JSON numbers, or strings that are wholly a number. */
static bool record_num(const json_t *v, struct num *ret)
{
	if (json_num(v, ret))
		return true;
	if (json_is_string(v))
		return parse_num(json_string_value(v), json_string_length(v), ret);
	return false;
}

static bool eval_ordered(const struct node *n, const json_t *v)
{
	const struct cval *c = &n->vals[0];
	int cmp;
	struct num num;
	int64_t date;
	if (c->has_num && record_num(v, &num))
		cmp = num_cmp(&num, &c->num);
	else if (c->has_date && json_is_string(v) &&
		 parse_date(json_string_value(v), json_string_length(v), &date))
		cmp = (date > c->date) - (date < c->date);
	else
		return false;
	return n->op == OP_GREATER_THAN ? cmp > 0 : cmp < 0;
}

static bool eval_condition(const struct node *n, const json_t *record)
{
	const json_t *v = json_is_object(record) ? json_object_get(record, n->field) : NULL;

	if (n->op == OP_IS_EMPTY || n->op == OP_IS_NOT_EMPTY) {
		bool empty = !v || json_is_null(v) ||
			     (json_is_string(v) &&
			      is_blank(json_string_value(v), json_string_length(v)));
		return n->op == OP_IS_EMPTY ? empty : !empty;
	}
	if (n->op == OP_GREATER_THAN || n->op == OP_LESS_THAN)
		return eval_ordered(n, v);

	/* The negative operators are exact complements, so "not_equals X" holds
	 * for an absent field and for a value that cannot be compared at all. */
	bool negate = n->op == OP_NOT_EQUALS || n->op == OP_DOES_NOT_CONTAIN || n->op == OP_NOT_IN;
	char buf[32];
	size_t len;
	const char *s = scalar_text(v, buf, &len);
	if (!s)
		return negate;

	bool hit = false;
	struct num num;
	bool have_num = false, num_tried = false;
	struct text t;
	text_init(&t, s, len);
	for (size_t i = 0; i < n->n_vals && !hit; i++) {
		const struct cval *c = &n->vals[i];
		switch (n->op) {
		case OP_EQUALS:
		case OP_NOT_EQUALS:
		case OP_IN:
		case OP_NOT_IN:
			if (c->has_num && !num_tried) {
				have_num = record_num(v, &num);
				num_tried = true;
			}
			if (c->has_num && have_num)
				hit = num_cmp(&num, &c->num) == 0;
			else
				hit = text_eq(&t, c);
			break;
		case OP_CONTAINS:
		case OP_DOES_NOT_CONTAIN:
			hit = text_contains(&t, c);
			break;
		case OP_BEGINS_WITH:
			hit = text_begins(&t, c);
			break;
		case OP_ENDS_WITH:
			hit = text_ends(&t, c);
			break;
		default:
			break;
		}
	}
	text_done(&t);
	return negate ? !hit : hit;
}

static bool eval_node(const struct node *n, const json_t *record)
{
	if (!n->group)
		return eval_condition(n, record);
	for (size_t i = 0; i < n->n_kids; i++) {
		bool b = eval_node(&n->kids[i], record);
		if (n->any ? b : !b)
			return b;
	}
	return !n->any;
}

bool ca_rule_eval(const ca_rule *r, const json_t *record)
{
	return r && eval_node(&r->root, record);
}

/* ---- introspection ---- */

static int fields_of(const struct node *n, ca_strv *out)
{
	if (!n->group) {
		if (ca_strv_contains(out, n->field))
			return 0;
		return ca_strv_push(out, n->field);
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		int r = fields_of(&n->kids[i], out);
		if (r < 0)
			return r;
	}
	return 0;
}

int ca_rule_fields(const ca_rule *r, ca_strv *out)
{
	if (!r || !out)
		return CA_EINVAL;
	return fields_of(&r->root, out);
}

static json_t *node_json(const struct node *n)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (n->group) {
		json_t *arr = json_array();
		if (json_object_set_new(o, "match", json_string(n->any ? "any" : "all")) < 0 ||
		    json_object_set_new(o, "conditions", arr) < 0)
			goto fail;
		for (size_t i = 0; i < n->n_kids; i++)
			if (json_array_append_new(arr, node_json(&n->kids[i])) < 0)
				goto fail;
		return o;
	}
	if (json_object_set_new(o, "field", json_string(n->field)) < 0 ||
	    json_object_set_new(o, "operator", json_string(ops[n->op].name)) < 0)
		goto fail;
	if (n->value && json_object_set_new(o, "value", json_deep_copy(n->value)) < 0)
		goto fail;
	return o;
fail:
	/* json_*_set_new consume their argument even on failure, so o is all there is to free. */
	json_decref(o);
	return NULL;
}

json_t *ca_rule_to_json(const ca_rule *r)
{
	return r ? node_json(&r->root) : NULL;
}
