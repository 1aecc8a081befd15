/* SPDX-License-Identifier: MIT */
/*
 * Entry point of the `caseagent` command: takes the global options (--db,
 * --json, --quiet, --version, --help) from anywhere on the line, finds the
 * command (and subcommand) in the table of commands.c, parses that command's
 * own options and positional arguments against its table entry, opens the
 * database when the command needs it, runs the handler and turns the outcome
 * into the exit status: 0 success, 1 an error reported by the library, 2 a
 * usage error. This is the only file of caseagent that ends the process.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Parse a whole unsigned decimal number no larger than UINT_MAX. strtoull
 * alone would accept leading blanks, a sign (negating "-1" into a huge
 * value) and trailing bytes, so those are refused first or after. */
static bool parse_uint(const char *s, unsigned long long *ret)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || !end || *end != '\0' || v > UINT_MAX)
		return false;
	*ret = v;
	return true;
}

/* "unknown option '--lmit'; did you mean '--limit'?" among the command's
 * options and the global ones. */
static int unknown_option(const cli_ctx *ctx, const cli_cmd *cmd, const char *name, size_t nlen)
{
	static const char *const global[] = { "json", "quiet", "db", "help", "version" };
	const char *cands[CLI_MAX_OPTS + 5];
	size_t n = 0;
	char *word = cli_strf("%.*s", (int)nlen, name);
	const char *pick;
	int status;

	for (size_t i = 0; i < 5; i++)
		cands[n++] = global[i];
	for (size_t i = 0; cmd->opts && cmd->opts[i].name && n < sizeof cands / sizeof cands[0]; i++)
		cands[n++] = cmd->opts[i].name;
	pick = word ? cli_suggest(word, cands, n) : NULL;
	if (pick)
		status = cli_usage_error(ctx, cmd, NULL, "unknown option '--%.*s'; did you mean '--%s'?", (int)nlen, name,
					 pick);
	else
		status = cli_usage_error(ctx, cmd, NULL, "unknown option '--%.*s'", (int)nlen, name);
	free(word);
	return status;
}

/*
 * "missing argument CASE": the names of the required positional arguments
 * not given, read from the usage text of the table ("CASE FIELD=VALUE...";
 * optional parts in [...] and options are skipped; "a|b|c" is one of
 * those words).
 */
static int missing_arguments(const cli_ctx *ctx, const cli_cmd *cmd, size_t given)
{
	char *names = cli_strf("%s", "");
	const char *p = cmd->args ? cmd->args : "";
	size_t k = 0, missing = 0;
	int depth = 0, status;
	bool skip_value = false;

	while (*p && names) {
		size_t len = strcspn(p, " ");
		bool opt = depth == 0 && p[0] == '-' && p[1] == '-';
		bool required = depth == 0 && p[0] != '[' && !opt && !skip_value;

		for (size_t i = 0; i < len; i++)
			depth += p[i] == '[' ? 1 : p[i] == ']' ? -1 : 0;
		skip_value = opt; /* "--resolution TEXT": TEXT is the option's */
		if (required && k++ >= given && k <= cmd->min_pos) {
			char *word = cli_strf("%.*s", (int)len, p), *n;

			if (word && strchr(word, '|')) {
				for (char *c = word; *c; c++)
					if (*c == '|')
						*c = '/';
			}
			n = word ? cli_strf("%s%s%s", names, names[0] ? " " : "", word) : NULL;
			free(word);
			free(names);
			names = n;
			missing++;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	if (names && missing)
		status = cli_usage_error(ctx, cmd, NULL, "missing argument%s %s", missing > 1 ? "s" : "", names);
	else
		status = cli_usage_error(ctx, cmd, NULL, "missing argument%s", cmd->min_pos - given > 1 ? "s" : "");
	free(names);
	return status;
}

/* Parse the command's own options and positional arguments from tok[0..n). */
static int parse_command_args(const cli_ctx *ctx, const cli_cmd *cmd, char **tok, size_t n,
			      cli_args *a)
{
	bool only_pos = false;

	memset(a, 0, sizeof *a);
	a->cmd = cmd;
	a->pos = tok; /* positional arguments are compacted in place */
	for (size_t i = 0; i < n; i++) {
		char *t = tok[i];

		if (only_pos || strcmp(t, "-") == 0 || t[0] != '-') {
			a->pos[a->npos++] = t;
			continue;
		}
		if (strcmp(t, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (t[1] != '-')
			return cli_usage_error(ctx, cmd, NULL,
					       "unknown option '%s' (an argument that starts with '-' goes after "
					       "'--': caseagent %s%s%s -- '%s')",
					       t, cmd->name, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "", t);

		const char *name = t + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		int idx = -1;

		if (cmd->opts) {
			for (int k = 0; cmd->opts[k].name; k++) {
				if (strlen(cmd->opts[k].name) == nlen &&
				    strncmp(cmd->opts[k].name, name, nlen) == 0) {
					idx = k;
					break;
				}
			}
		}
		if (idx < 0)
			return unknown_option(ctx, cmd, name, nlen);

		const cli_opt *o = &cmd->opts[idx];
		const char *val = NULL;

		if (o->arg == CLI_ARG_NONE) {
			if (eq)
				return cli_usage_error(ctx, cmd, NULL, "option '--%s' takes no value", o->name);
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < n) {
			val = tok[++i];
		} else {
			return cli_usage_error(ctx, cmd, NULL, "option '--%s' needs a value %s", o->name,
					       o->metavar ? o->metavar : "");
		}
		if ((o->arg == CLI_ARG_UINT || o->arg == CLI_ARG_COUNT) &&
		    (!parse_uint(val, &a->num[idx]) || (o->arg == CLI_ARG_COUNT && a->num[idx] == 0)))
			return cli_usage_error(ctx, cmd, NULL,
					       "option '--%s' needs a whole number from %d to %u, not '%s'",
					       o->name, o->arg == CLI_ARG_COUNT ? 1 : 0, UINT_MAX, val);
		a->set[idx] = true;
		a->str[idx] = val;
		if (val) {
			if (a->nvalues == CLI_MAX_VALUES)
				return cli_usage_error(ctx, cmd, NULL, "more than %d option values", CLI_MAX_VALUES);
			a->value_opt[a->nvalues] = (unsigned char)idx;
			a->value[a->nvalues++] = val;
		}
	}
	if (a->npos < cmd->min_pos)
		return missing_arguments(ctx, cmd, a->npos);
	if (cmd->max_pos != CLI_UNLIMITED && a->npos > cmd->max_pos)
		return cli_usage_error(ctx, cmd, NULL, "unexpected argument '%s'", a->pos[cmd->max_pos]);
	return CLI_EXIT_OK;
}

/* Run one command line; returns the exit status. */
static int run(int argc, char **argv, char **rest)
{
	cli_ctx ctx = {0};
	size_t nrest = 0;
	bool help = false, version = false, dashdash = false;
	const char *env = getenv("CASEAGENT_DB");
	const cli_cmd *cmd;
	size_t first;
	cli_args args;
	int status;

	ctx.db_path = env && env[0] ? env : "./caseagent.db";

	/* Global options are accepted anywhere before "--", so `caseagent case
	 * list --json` and `caseagent --json case list` mean the same. */
	for (int i = 1; i < argc; i++) {
		char *t = argv[i];

		if (dashdash) {
			rest[nrest++] = t;
		} else if (strcmp(t, "--") == 0) {
			dashdash = true;
			rest[nrest++] = t;
		} else if (strcmp(t, "--json") == 0) {
			ctx.json = true;
		} else if (strcmp(t, "--quiet") == 0 || strcmp(t, "-q") == 0) {
			ctx.quiet = true;
		} else if (strcmp(t, "--version") == 0) {
			version = true;
		} else if (strcmp(t, "--help") == 0 || strcmp(t, "-h") == 0) {
			help = true;
		} else if (strcmp(t, "--db") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error(&ctx, NULL, NULL, "option '--db' needs a value PATH");
			ctx.db_path = argv[++i];
		} else if (strncmp(t, "--db=", 5) == 0) {
			ctx.db_path = t + 5;
		} else {
			rest[nrest++] = t;
		}
	}
	cli_output_init(ctx.json);
	if (!ctx.db_path[0])
		return cli_usage_error(&ctx, NULL, NULL, "option '--db' needs a non-empty PATH");
	ctx.progress = !ctx.quiet && isatty(STDERR_FILENO);

	if (version) {
		if (ctx.json) {
			json_t *v = json_pack("{s:s}", "version", CA_VERSION);
			int rc = v ? cli_print_json(&ctx, v) : cli_failf(&ctx, CA_ENOMEM, NULL, "out of memory");
			json_decref(v);
			return rc;
		}
		printf("caseagent %s\n", CA_VERSION);
		return CLI_EXIT_OK;
	}
	/* `caseagent -- knowledge search -x`: the "--" ends the options, so it
	 * moves behind the command's words, where the command's parser honours it. */
	if (nrest > 1 && strcmp(rest[0], "--") == 0 && strcmp(rest[1], "--") != 0) {
		char *dd = rest[0];
		size_t words = nrest > 2 && cli_is_group(rest[1]) ? 2 : 1;

		memmove(rest, rest + 1, words * sizeof *rest);
		rest[words] = dd;
	}
	if (nrest == 0 || strcmp(rest[0], "--") == 0) {
		if (help) {
			cli_print_help_all(stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error(&ctx, NULL, NULL, "no command given");
	}

	if (cli_is_group(rest[0])) {
		if (nrest < 2 || rest[1][0] == '-') {
			if (help) {
				cli_print_help_group(stdout, rest[0]);
				return CLI_EXIT_OK;
			}
			return cli_usage_error(&ctx, NULL, rest[0], "'%s' needs a subcommand", rest[0]);
		}
		cmd = cli_find(rest[0], rest[1]);
		if (!cmd)
			return cli_unknown_command(&ctx, rest[0], rest[1]);
		first = 2;
	} else {
		cmd = cli_find(rest[0], NULL);
		if (!cmd)
			return cli_unknown_command(&ctx, NULL, rest[0]);
		first = 1;
	}
	ctx.cmd = cmd;
	if (help) {
		cli_print_help_cmd(stdout, cmd);
		return CLI_EXIT_OK;
	}

	status = parse_command_args(&ctx, cmd, rest + first, nrest - first, &args);
	if (status == CLI_EXIT_OK && cmd->check)
		status = cmd->check(&ctx, &args);
	if (status != CLI_EXIT_OK)
		return status;

	if (cmd->flags & CLI_NEEDS_DB) {
		struct stat st;
		ca_err err;
		int rc;

		ctx.db_existed = stat(ctx.db_path, &st) == 0;
		/* Only init creates a database, so a mistyped --db does not leave
		 * an empty database behind and report "no cases". */
		if (!ctx.db_existed && !(cmd->flags & CLI_CREATES_DB))
			return cli_failf(&ctx, CA_ENOTFOUND, ctx.db_path, "no database at '%s'", ctx.db_path);
		ca_err_clear(&err);
		rc = ca_agent_open(ctx.db_path, &ctx.agent, &err);
		if (rc < 0)
			return cli_fail(&ctx, rc, &err);
	}

	status = cmd->fn(&ctx, &args);
	ca_agent_close(ctx.agent);
	return status;
}

int main(int argc, char **argv)
{
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int status;

	if (!rest) {
		fputs("caseagent: error: out of memory\n", stderr);
		exit(CLI_EXIT_ERROR);
	}
	status = run(argc, argv, rest);
	free(rest);

	/* A result that did not reach stdout (disk full, closed pipe) is a
	 * failure, not a success with missing output. */
	if (cli_output_done() != 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fputs("caseagent: error: writing to standard output failed\n", stderr);
		if (status == CLI_EXIT_OK)
			status = CLI_EXIT_ERROR;
	}
	exit(status);
}
