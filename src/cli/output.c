/* SPDX-License-Identifier: MIT */
/*
 * Everything the `caseagent` command prints: help and usage generated from
 * the command table, results as one line of JSON (--json) or as aligned text
 * tables, errors as "caseagent: error: ..." with where it happened and a hint
 * of what to do next (and as an {"error": ...} object on stdout with --json),
 * and a progress bar that is drawn on stderr only when stderr is a terminal.
 * Handlers decide what to show; this file decides how it looks. Text output
 * passes through one filter (cli_output_init) that neutralises terminal
 * control characters, so text from outside (chat messages, e-mail subjects,
 * names) cannot move the cursor, retitle the window or hide what follows,
 * whichever command prints it.
 */
#define _GNU_SOURCE /* fopencookie */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- terminal safety ---- */

/*
 * A stream that writes to `to` with every terminal control character made
 * visible and inert: C0 controls other than newline and tab in caret notation
 * (ESC as "^[", CR as "^M"), DEL as "^?", and the C1 controls U+0080..U+009F
 * (CSI, OSC... in 8-bit form) as well as bytes that are not UTF-8 as U+FFFD.
 * A UTF-8 sequence split across two writes is held until it is complete.
 */
typedef struct safe_sink {
	FILE *to;
	unsigned char pend[4];
	size_t npend, need; /* bytes held, bytes the held sequence needs */
	bool failed;
} safe_sink;

/* The standard streams are the process's, and so is their filter: these
 * are set once by cli_output_init and undone by cli_output_done. */
static safe_sink sink_out, sink_err;
static FILE *raw_out, *raw_err;

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static void sink_put(safe_sink *k, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, k->to) != n)
		k->failed = true;
}

/* The held bytes are no complete sequence: one U+FFFD each. */
static void sink_drop_pending(safe_sink *k)
{
	for (size_t i = 0; i < k->npend; i++)
		sink_put(k, replacement, sizeof replacement - 1);
	k->npend = k->need = 0;
}

static void sink_byte(safe_sink *k, unsigned char c)
{
	if (k->need) {
		/* The second byte's range rules out overlong forms (an ESC
		 * spelt E0 80 9B), surrogates and code points past U+10FFFF
		 * (RFC 3629 §4). */
		unsigned char lo = 0x80, hi = 0xBF;

		if (k->npend == 1) {
			lo = k->pend[0] == 0xE0 ? 0xA0 : k->pend[0] == 0xF0 ? 0x90 : 0x80;
			hi = k->pend[0] == 0xED ? 0x9F : k->pend[0] == 0xF4 ? 0x8F : 0xBF;
		}
		if (c >= lo && c <= hi) {
			k->pend[k->npend++] = c;
			if (k->npend < k->need)
				return;
			/* C1 controls are U+0080..U+009F: C2 80..C2 9F. */
			if (k->pend[0] == 0xC2 && k->pend[1] < 0xA0)
				sink_put(k, replacement, sizeof replacement - 1);
			else
				sink_put(k, k->pend, k->npend);
			k->npend = k->need = 0;
			return;
		}
		sink_drop_pending(k); /* cut short: c starts afresh */
	}
	if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
		sink_put(k, &c, 1);
	} else if (c < 0x20 || c == 0x7F) {
		char caret[2] = { '^', (char)(c == 0x7F ? '?' : c + 0x40) };
		sink_put(k, caret, 2);
	} else if (c >= 0xC2 && c <= 0xF4) {
		k->pend[0] = c;
		k->npend = 1;
		k->need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	} else {
		sink_put(k, replacement, sizeof replacement - 1); /* stray continuation, C0, C1, F5..FF */
	}
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	safe_sink *k = cookie;

	for (size_t i = 0; i < n; i++)
		sink_byte(k, (unsigned char)buf[i]);
	/* The filter's own buffer was just flushed (full, a newline on a
	 * terminal, or fflush): pass it on now, so a reader of a pipe sees
	 * each result as it is printed. */
	if (fflush(k->to) != 0)
		k->failed = true;
	return k->failed ? -1 : (ssize_t)n;
}

static int sink_close(void *cookie)
{
	safe_sink *k = cookie;

	sink_drop_pending(k);
	if (fflush(k->to) != 0)
		k->failed = true;
	return k->failed ? -1 : 0;
}

/* `*stream` becomes a filtering stream over what it was; false if that
 * could not be made (the stream is then left as it was). */
static bool wrap_stream(FILE **stream, safe_sink *k, int mode)
{
	cookie_io_functions_t io = { .read = NULL, .write = sink_write, .seek = NULL, .close = sink_close };
	FILE *f;

	memset(k, 0, sizeof *k);
	k->to = *stream;
	f = fopencookie(k, "w", io);
	if (!f)
		return false;
	setvbuf(f, NULL, mode, BUFSIZ);
	*stream = f;
	return true;
}

void cli_output_init(bool json)
{
	raw_err = stderr;
	if (wrap_stream(&stderr, &sink_err, _IONBF) == false)
		raw_err = NULL;
	/* --json output is escaped by the JSON encoder and must stay byte for
	 * byte what it encoded. */
	raw_out = stdout;
	if (json || !wrap_stream(&stdout, &sink_out, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF))
		raw_out = NULL;
}

int cli_output_done(void)
{
	int rc = 0;

	if (raw_out) {
		rc |= fclose(stdout);
		stdout = raw_out;
		raw_out = NULL;
	}
	if (raw_err) {
		rc |= fclose(stderr);
		stderr = raw_err;
		raw_err = NULL;
	}
	return rc ? -1 : 0;
}

FILE *cli_raw_stdout(void)
{
	return raw_out ? raw_out : stdout;
}

FILE *cli_raw_stderr(void)
{
	return raw_err ? raw_err : stderr;
}

/* ---- small strings ---- */

__attribute__((format(printf, 1, 0))) static char *vstrf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *s;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	if (vsnprintf(s, (size_t)n + 1, fmt, ap) != n) {
		free(s);
		return NULL;
	}
	return s;
}

char *cli_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vstrf(fmt, ap);
	va_end(ap);
	return s;
}

/* Display width of UTF-8 text: one column per code point (continuation bytes
 * take none). Wide CJK characters come out one short; good enough for
 * aligning ids, numbers and Latin text. */
static size_t utf8_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

char *cli_clip(const char *s, size_t max)
{
	size_t len, out = 0, w = 0, keep;
	bool cut;
	char *r;

	if (!s)
		s = "";
	len = strlen(s);
	cut = max > 0 && utf8_width(s) > max;
	/* When cut, keep max - 3 code points and add "..." (max <= 3: just
	 * the dots), so the result is never wider than max. */
	keep = cut ? (max > 3 ? max - 3 : 0) : len;
	r = malloc(len + 4);
	if (!r)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xC0) != 0x80 && w++ == keep)
			break;
		r[out++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : (char)c;
	}
	if (cut) {
		memcpy(r + out, "...", 3);
		out += 3;
	}
	r[out] = '\0';
	return r;
}

char *cli_scalar(const json_t *v, int prec)
{
	if (!v || json_is_null(v))
		return cli_strf("-");
	if (json_is_string(v))
		return cli_strf("%s", json_string_value(v));
	if (json_is_integer(v))
		return cli_strf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return cli_strf("%.*f", prec, json_real_value(v));
	if (json_is_true(v))
		return cli_strf("true");
	if (json_is_false(v))
		return cli_strf("false");
	{
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char *r;

		if (!s)
			return NULL;
		/* json_dumps memory belongs to jansson's allocator; hand back ours. */
		r = cli_strf("%s", s);
		free(s);
		return r;
	}
}

/* ---- suggestions ---- */

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, Damerau 1964), bytes, case-insensitive; stops counting
 * beyond `max` (returns max + 1). Words here are command and option names,
 * a few dozen bytes at most: longer ones are never a typo of ours. */
static unsigned typo_distance(const char *a, const char *b, unsigned max)
{
	enum { N = 40 };
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[N + 1][N + 1];

	if (la > N || lb > N)
		return max + 1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t k = 0; k <= lb; k++)
		d[0][k] = (unsigned)k;
	for (size_t i = 1; i <= la; i++) {
		for (size_t k = 1; k <= lb; k++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[k - 1]);
			unsigned v = d[i - 1][k] + 1;

			if (d[i][k - 1] + 1 < v)
				v = d[i][k - 1] + 1;
			if (d[i - 1][k - 1] + cost < v)
				v = d[i - 1][k - 1] + cost;
			if (i > 1 && k > 1 && a[i - 1] == b[k - 2] && a[i - 2] == b[k - 1] && d[i - 2][k - 2] + 1 < v)
				v = d[i - 2][k - 2] + 1;
			d[i][k] = v;
		}
	}
	return d[la][lb] > max ? max + 1 : d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t len = word ? strlen(word) : 0;
	/* One edit in a short word, two in a longer one: "chta" -> "chat",
	 * "acceptt" -> "accept", never "ls" -> "log". */
	unsigned max = len <= 4 ? 1 : 2, best = max + 1;
	const char *pick = NULL;

	for (size_t i = 0; word && i < n; i++) {
		unsigned dist;

		if (!cands[i])
			continue;
		/* A prefix long enough to be meant ("harv" for "harvest"). */
		dist = len >= 3 && strlen(cands[i]) > len && strncasecmp(cands[i], word, len) == 0
			       ? 1
			       : typo_distance(word, cands[i], max);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return pick;
}

/* ---- tables ---- */

void cli_table_init(cli_table *t, size_t ncols, const char *const *heads, const char *align)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	t->heads = heads;
	t->align = align;
}

void cli_table_done(cli_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/* Takes ownership of s (NULL records an allocation failure). */
static void table_take(cli_table *t, char *s)
{
	if (!s) {
		t->oom = true;
		s = NULL;
	}
	if (t->ncells == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, ncap * sizeof *nc);

		if (!nc) {
			free(s);
			t->oom = true;
			return;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	t->cells[t->ncells++] = s;
}

void cli_table_cell(cli_table *t, const char *s)
{
	table_take(t, cli_clip(s ? s : "-", 0));
}

void cli_table_cellf(cli_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vstrf(fmt, ap);
	va_end(ap);
	table_take(t, s);
}

void cli_table_cellj(cli_table *t, const json_t *v, int prec, size_t max)
{
	char *s = cli_scalar(v, prec);
	char *c;

	if (!s) {
		table_take(t, NULL);
		return;
	}
	c = cli_clip(s, max);
	free(s);
	table_take(t, c);
}

size_t cli_table_rows(const cli_table *t)
{
	return t->ncols ? t->ncells / t->ncols : 0;
}

static void put_padded(FILE *f, const char *s, size_t width, char align, bool last)
{
	size_t w = utf8_width(s);
	size_t pad = width > w ? width - w : 0;

	if (align == 'r')
		fprintf(f, "%*s%s", (int)pad, "", s);
	else if (last)
		fputs(s, f);
	else
		fprintf(f, "%s%*s", s, (int)pad, "");
}

/* Print one row: cells up to the last non-empty one, so lines carry no
 * trailing blanks. */
static void print_row(const cli_table *t, FILE *f, const char *const *cells, const size_t *w)
{
	size_t last = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (cells[c][0])
			last = c;
	fputs("  ", f);
	for (size_t c = 0; c <= last; c++) {
		put_padded(f, cells[c], w[c], t->align[c], c == last);
		fputs(c == last ? "\n" : "  ", f);
	}
}

int cli_table_print(const cli_table *t, FILE *f)
{
	size_t rows = cli_table_rows(t);
	size_t *w;

	if (t->oom)
		return CA_ENOMEM;
	w = calloc(t->ncols, sizeof *w);
	if (!w)
		return CA_ENOMEM;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = utf8_width(t->heads[c]);
		for (size_t r = 0; r < rows; r++) {
			size_t cw = utf8_width(t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	}
	print_row(t, f, t->heads, w);
	fputs("  ", f);
	for (size_t c = 0; c < t->ncols; c++) {
		for (size_t k = 0; k < w[c]; k++)
			fputc('-', f);
		fputs(c + 1 == t->ncols ? "\n" : "  ", f);
	}
	for (size_t r = 0; r < rows; r++)
		print_row(t, f, (const char *const *)&t->cells[r * t->ncols], w);
	free(w);
	return 0;
}

/* ---- help, generated from the table ---- */

static void print_usage_line(FILE *f, const char *prefix, const cli_cmd *c)
{
	fprintf(f, "%scaseagent %s", prefix, c->name);
	if (c->sub)
		fprintf(f, " %s", c->sub);
	if (c->args && c->args[0])
		fprintf(f, " %s", c->args);
	if (c->opts) {
		for (const cli_opt *o = c->opts; o->name; o++) {
			if (o->metavar)
				fprintf(f, " [--%s %s]", o->name, o->metavar);
			else
				fprintf(f, " [--%s]", o->name);
		}
	}
	fputc('\n', f);
}

void cli_print_usage(FILE *f, const cli_cmd *cmd)
{
	print_usage_line(f, "usage: ", cmd);
}

void cli_print_group_usage(FILE *f, const char *group)
{
	const char *prefix = "usage: ";

	for (size_t i = 0; i < cli_ncommands; i++) {
		if (strcmp(cli_commands[i].name, group) == 0) {
			print_usage_line(f, prefix, &cli_commands[i]);
			prefix = "       ";
		}
	}
}

static const char global_usage[] =
	"usage: caseagent [--db PATH] [--json] [--quiet] COMMAND [ARGS...]\n"
	"       caseagent help [COMMAND [SUBCOMMAND [VERB]]]\n"
	"       caseagent --version\n";

static const char global_options[] =
	"Global options (accepted anywhere on the line):\n"
	"  --db PATH    the database file (default: $CASEAGENT_DB, else ./caseagent.db)\n"
	"  --json       print the result as one JSON object on stdout, nothing else;\n"
	"               errors also as {\"error\":{\"code\",\"message\",\"where\"}}\n"
	"  --quiet, -q  no progress bar and no confirmations; results and errors only\n"
	"  --version    print the version and exit\n"
	"  --help, -h   show help (after a command: that command's help)\n"
	"  --           end of options: every later word is an argument, e.g.\n"
	"               caseagent knowledge search -- \"-charged twice\"\n";

void cli_print_help_all(FILE *f)
{
	size_t width = 0;

	fputs(global_usage, f);
	fputs("\ncaseagent creates and updates customer-service cases from chat conversations:\n"
	      "it predicts field values with their confidence and evidence, never overwrites\n"
	      "what a person set, and keeps an audit of every change.\n\nCommands:\n", f);
	for (size_t i = 0; i < cli_ncommands; i++) {
		const cli_cmd *c = &cli_commands[i];
		size_t w = strlen(c->name) + (c->sub ? strlen(c->sub) + 1 : 0);

		if (w > width)
			width = w;
	}
	for (size_t i = 0; i < cli_ncommands; i++) {
		const cli_cmd *c = &cli_commands[i];
		size_t w = strlen(c->name) + (c->sub ? strlen(c->sub) + 1 : 0);

		fprintf(f, "  %s%s%s%*s  %s\n", c->name, c->sub ? " " : "", c->sub ? c->sub : "",
			(int)(width - w), "", c->help);
	}
	fputc('\n', f);
	fputs(global_options, f);
	fputs("\nRun `caseagent help COMMAND` or `caseagent COMMAND --help` for a command's\n"
	      "arguments and options.\n\n"
	      "Exit status: 0 success, 1 an error (the message says what and where),\n"
	      "2 a usage error (unknown command or option, missing argument).\n", f);
}

static void print_opts(FILE *f, const cli_opt *opts)
{
	size_t width = 0;

	if (!opts || !opts->name)
		return;
	for (const cli_opt *o = opts; o->name; o++) {
		size_t w = strlen(o->name) + 2 + (o->metavar ? strlen(o->metavar) + 1 : 0);

		if (w > width)
			width = w;
	}
	fputs("\nOptions:\n", f);
	for (const cli_opt *o = opts; o->name; o++) {
		size_t w = strlen(o->name) + 2 + (o->metavar ? strlen(o->metavar) + 1 : 0);

		fprintf(f, "  --%s%s%s%*s  %s\n", o->name, o->metavar ? " " : "",
			o->metavar ? o->metavar : "", (int)(width - w), "", o->help);
	}
}

void cli_print_help_cmd(FILE *f, const cli_cmd *cmd)
{
	cli_print_usage(f, cmd);
	fprintf(f, "\n%s.\n", cmd->help);
	if (cmd->long_help)
		fprintf(f, "\n%s", cmd->long_help);
	print_opts(f, cmd->opts);
	fputs("\nGlobal options: --db PATH, --json, --quiet (see `caseagent --help`).\n", f);
}

void cli_print_help_group(FILE *f, const char *group)
{
	cli_print_group_usage(f, group);
	fputs("\n", f);
	for (size_t i = 0; i < cli_ncommands; i++) {
		const cli_cmd *c = &cli_commands[i];

		if (strcmp(c->name, group) == 0)
			fprintf(f, "  %s %-10s  %s\n", c->name, c->sub ? c->sub : "", c->help);
	}
	fprintf(f, "\nRun `caseagent help %s SUBCOMMAND` for details.\n", group);
}

/* ---- JSON on stdout ---- */

int cli_table_show(const cli_ctx *ctx, cli_table *t)
{
	int rc = cli_table_print(t, stdout);

	cli_table_done(t);
	if (rc < 0)
		return cli_failf(ctx, rc, NULL, "out of memory while printing the result");
	return CLI_EXIT_OK;
}

int cli_show_rows(const cli_ctx *ctx, const json_t *rows, const cli_column *cols, size_t n)
{
	const char *heads[12];
	char align[13];
	cli_table t;
	size_t i, k;
	json_t *e;

	if (json_array_size(rows) == 0)
		return CLI_EXIT_OK;
	if (n > 12)
		n = 12;
	for (k = 0; k < n; k++) {
		heads[k] = cols[k].heading;
		align[k] = cols[k].align;
	}
	align[n] = '\0';
	cli_table_init(&t, n, heads, align);
	json_array_foreach(rows, i, e)
		for (k = 0; k < n; k++)
			cli_table_cellj(&t, json_object_get(e, cols[k].key), cols[k].prec, cols[k].max);
	return cli_table_show(ctx, &t);
}

int cli_print_json(const cli_ctx *ctx, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));

	if (!s)
		return cli_failf(ctx, CA_ENOMEM, NULL, "out of memory while printing the result");
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
	return CLI_EXIT_OK;
}

int cli_print_json_text(const cli_ctx *ctx, const char *text)
{
	bool in_str = false, esc = false;

	(void)ctx;
	/* Drop whitespace outside strings; raw newlines cannot occur inside a
	 * JSON string, so the result is one line. */
	for (const char *p = text; *p; p++) {
		char c = *p;

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
			continue;
		}
		fputc(c, stdout);
	}
	fputc('\n', stdout);
	return CLI_EXIT_OK;
}

int cli_result(const cli_ctx *ctx, char *text, cli_render_fn human)
{
	json_error_t jerr;
	json_t *root;
	int status;

	if (!text)
		return cli_failf(ctx, CA_EINVAL, NULL, "the library returned no result");
	root = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!root) {
		status = cli_failf(ctx, CA_EPARSE, "result", "the library returned a result that is not JSON: %s",
				   jerr.text);
		free(text);
		return status;
	}
	if (ctx->json)
		status = cli_print_json_text(ctx, text);
	else
		status = human(ctx, root);
	json_decref(root);
	free(text);
	return status;
}

/* ---- errors ---- */

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static bool cmd_is(const cli_ctx *ctx, const char *name, const char *sub)
{
	const cli_cmd *c = ctx->cmd;

	if (!c || strcmp(c->name, name) != 0)
		return false;
	if (!sub)
		return true;
	return c->sub && strcmp(c->sub, sub) == 0;
}

/* What to do next, when it is obvious; NULL otherwise. */
static const char *hint_for(const cli_ctx *ctx, int code, const char *msg, const char *where)
{
	switch (code) {
	case CA_ESTATE:
		if (contains_ci(msg, "newer"))
			return "this database was written by a newer caseagent; use that version";
		if (contains_ci(msg, "setting") || contains_ci(msg, "configur"))
			return "run `caseagent settings import FILE` first";
		if (contains_ci(msg, "closed"))
			return "the conversation is closed; open a new one";
		return NULL;
	case CA_ENOTFOUND:
		if (where && strcmp(where, ctx->db_path) == 0)
			return "run `caseagent init` first, or pass --db PATH (or set CASEAGENT_DB)";
		if (cmd_is(ctx, "settings", NULL) || contains_ci(msg, "setting"))
			return "run `caseagent settings import FILE` first";
		if (contains_ci(msg, "conversation"))
			return "start it with an \"open\" event (`caseagent chat event '{\"type\":\"open\",...}'`)";
		if (contains_ci(msg, "case") || cmd_is(ctx, "case", NULL) || cmd_is(ctx, "audit", NULL))
			return "`caseagent case list` shows the cases in this database";
		return NULL;
	case CA_ECONFLICT:
		return "the case changed meanwhile: look at it with `caseagent case show CASE` and retry "
		       "with its current --expect-version";
	case CA_EIO:
		if (where && !strcmp(where, "tls"))
			return "the message above says what to do: TLS is required for IMAP and SMTP";
		if (cmd_is(ctx, "email", "poll") || cmd_is(ctx, "email", "send"))
			return "check the server's address, that it is running, and the login";
		return "check that the file exists and can be read (or written)";
	case CA_EDB:
		return "check that the database file is writable and not locked by another program";
	case CA_EPARSE:
		return "fix the input at the place named above and run the command again";
	case CA_EUTF8:
		return "convert the input to UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`) and run the command again";
	case CA_ETOOBIG:
		return "shorten or split the input named above";
	case CA_EINVAL:
		if (cmd_is(ctx, "case", "edit"))
			return "`caseagent case show CASE` lists the fields; lookups must name an imported "
			       "record and options one of the field's values (`caseagent settings export`)";
		if (cmd_is(ctx, "settings", "import"))
			return "docs/settings.md lists the keys and their values; nothing was stored";
		return NULL;
	case CA_ENOMEM:
		return "the input may be too large for this machine's memory";
	default:
		return NULL;
	}
}

static int report(const cli_ctx *ctx, int code, const char *msg, const char *where)
{
	const char *hint;

	if (!msg || !msg[0])
		msg = ca_strerror(code);
	fprintf(stderr, "caseagent: error: %s\n", msg);
	if (where && where[0])
		fprintf(stderr, "  at: %s\n", where);
	hint = hint_for(ctx, code, msg, where);
	if (hint)
		fprintf(stderr, "  hint: %s\n", hint);
	if (ctx->json) {
		json_t *o = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", ca_strerror(code), "message", msg,
				      "where", where && where[0] ? json_string(where) : json_null());

		/* A message from a broken file may not be UTF-8; jansson refuses
		 * it, so fall back to the code alone rather than print nothing. */
		if (!o)
			o = json_pack("{s:{s:s,s:s,s:n}}", "error", "code", ca_strerror(code), "message",
				      ca_strerror(code), "where");
		if (o) {
			cli_print_json(ctx, o);
			json_decref(o);
		}
	}
	return CLI_EXIT_ERROR;
}

int cli_fail(const cli_ctx *ctx, int code, const ca_err *err)
{
	if (code >= 0)
		code = CA_EINVAL;
	return report(ctx, code, err ? err->message : NULL, err ? err->where : NULL);
}

int cli_failf(const cli_ctx *ctx, int code, const char *where, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int status;

	va_start(ap, fmt);
	msg = vstrf(fmt, ap);
	va_end(ap);
	status = report(ctx, code, msg ? msg : "out of memory", where);
	free(msg);
	return status;
}

int cli_usage_error(const cli_ctx *ctx, const cli_cmd *cmd, const char *group, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vstrf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "caseagent: error: %s\n", msg ? msg : "bad usage");
	if (cmd) {
		cli_print_usage(stderr, cmd);
		fprintf(stderr, "Run `caseagent help %s%s%s` for details.\n", cmd->name, cmd->sub ? " " : "",
			cmd->sub ? cmd->sub : "");
	} else if (group) {
		cli_print_group_usage(stderr, group);
		fprintf(stderr, "Run `caseagent help %s` for details.\n", group);
	} else {
		fputs(global_usage, stderr);
		fputs("Run `caseagent --help` for the list of commands.\n", stderr);
	}
	if (ctx && ctx->json) {
		json_t *o = json_pack("{s:{s:s,s:s?,s:n}}", "error", "code", "usage", "message", msg, "where");

		if (o) {
			cli_print_json(ctx, o);
			json_decref(o);
		}
	}
	free(msg);
	return CLI_EXIT_USAGE;
}

/* ---- progress ---- */

static double mono_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const cli_ctx *ctx, const char *label)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->enabled = ctx->progress;
}

void cli_progress_fn(size_t done, size_t total, void *ud)
{
	static const char bar[] = "##############################";
	static const char gap[] = "..............................";
	const int width = (int)sizeof bar - 1;
	cli_progress *p = ud;
	double now;

	if (!p || !p->enabled)
		return;
	now = mono_now();
	/* Redraw at most ten times a second, but always show the end. */
	if (p->drawn && now - p->last < 0.1 && !(total && done >= total))
		return;
	p->last = now;
	p->drawn = true;
	if (total) {
		size_t d = done > total ? total : done;
		int fill = (int)((double)d / (double)total * width);
		unsigned pct = (unsigned)((double)d / (double)total * 100.0);

		fprintf(cli_raw_stderr(), "\r%s [%.*s%.*s] %3u%% %zu/%zu", p->label, fill, bar, width - fill, gap, pct,
			d, total);
	} else {
		fprintf(cli_raw_stderr(), "\r%s %zu", p->label, done);
	}
	fflush(cli_raw_stderr());
}

void cli_progress_done(cli_progress *p)
{
	if (p->enabled && p->drawn) {
		fputs("\r\033[K", cli_raw_stderr());
		fflush(cli_raw_stderr());
	}
	p->drawn = false;
}

const char *cli_opt_str(const cli_args *a, const char *name)
{
	int i = cli_opt_index(a->cmd, name);

	return i >= 0 && a->set[i] ? a->str[i] : NULL;
}

const char *cli_jstr(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int cli_call_ref(cli_ctx *ctx, cli_ref_api api, const char *ref, cli_render_fn human)
{
	ca_err err;
	char *out = NULL;

	ca_err_clear(&err);
	int rc = api(ctx->agent, ref, &out, &err);
	if (rc < 0)
		return cli_fail(ctx, rc, &err);
	return cli_result(ctx, out, human);
}
