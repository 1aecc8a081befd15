/* SPDX-License-Identifier: MIT */
/*
 * Private interface of the `caseagent` command (layer 6). main.c parses the
 * command line (global options anywhere, then a command from the table,
 * then that command's options and arguments) and is the only place that
 * exits; commands.c holds the declarative command table (name, subcommand,
 * handler, usage, help, options — in the manner of tmux's cmd_entry and
 * Redis's command table) and the handlers, which call only the public API of
 * include/caseagent/; output.c renders what the handlers return: help
 * generated from the table, text tables, JSON on stdout, errors with hints,
 * and the progress bar on a terminal's stderr. Nothing here is used by the
 * library.
 */
#ifndef CA_CLI_H
#define CA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "caseagent/caseagent.h"

/* Exit statuses: 1 for a failure reported by the library (or the file
 * system), 2 for a command line we cannot make sense of. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2 };

/* Most options one command accepts (size of the parsed-option arrays). */
#define CLI_MAX_OPTS 8
/* max_pos value of a command taking any number of trailing arguments. */
#define CLI_UNLIMITED ((unsigned)-1)

/* What an option takes. Numbers are checked while parsing, so a handler never
 * sees a malformed one: CLI_ARG_UINT is 0..UINT_MAX, CLI_ARG_COUNT 1..UINT_MAX. */
enum cli_arg { CLI_ARG_NONE, CLI_ARG_UINT, CLI_ARG_COUNT, CLI_ARG_STR };

typedef struct cli_opt {
	const char *name;     /* without the leading "--"; NULL ends a list */
	enum cli_arg arg;
	const char *metavar;  /* "N", "NAME"; NULL for a flag */
	const char *help;
} cli_opt;

struct cli_ctx;
struct cli_cmd;

/* Most values a command line gives its options, repeats included. */
#define CLI_MAX_VALUES 32

/* One parsed invocation. Strings are borrowed from argv. */
typedef struct cli_args {
	const struct cli_cmd *cmd;
	char **pos;                                 /* positional arguments */
	size_t npos;
	bool set[CLI_MAX_OPTS];                     /* opts[i] given */
	const char *str[CLI_MAX_OPTS];              /* its text */
	unsigned long long num[CLI_MAX_OPTS];       /* its value for a number option */
	/* Every option value in command-line order, for options that may be
	 * given more than once (str[] holds the last): value[k] of option
	 * value_opt[k]. */
	const char *value[CLI_MAX_VALUES];
	unsigned char value_opt[CLI_MAX_VALUES];
	size_t nvalues;
} cli_args;

/* A handler returns an exit status (CLI_EXIT_*), having printed its result
 * or its error already. */
typedef int (*cli_handler)(struct cli_ctx *ctx, const cli_args *args);

/* Command flags. */
#define CLI_NEEDS_DB 0x1u  /* open the agent on --db before the handler runs */
#define CLI_CREATES_DB 0x2u /* may create the database file (init only) */

typedef struct cli_cmd {
	const char *name;       /* "case" */
	const char *sub;        /* "edit", or NULL for a command without one */
	cli_handler fn;
	const char *args;       /* positional part of the usage: "CASE FIELD=VALUE..." */
	const char *help;       /* one line, for the command list */
	const char *long_help;  /* paragraphs for `help CMD`, may be NULL */
	const cli_opt *opts;    /* NULL or a list ended by {NULL} */
	unsigned min_pos, max_pos;
	unsigned flags;
	/* Optional check of the positional arguments' form, run before the
	 * database is opened; returns CLI_EXIT_OK or a usage error. */
	int (*check)(const struct cli_ctx *ctx, const cli_args *args);
} cli_cmd;

/* State of one run of the command. */
typedef struct cli_ctx {
	const char *db_path;
	bool json;      /* --json: results as one JSON object on stdout */
	bool quiet;     /* --quiet: no progress bar or confirmations (errors and hints stay) */
	bool progress;  /* draw progress bars (stderr is a terminal, not quiet) */
	bool db_existed;
	ca_agent *agent; /* open while a CLI_NEEDS_DB handler runs */
	const cli_cmd *cmd;
} cli_ctx;

/* ---- commands.c: the table ---- */

extern const cli_cmd cli_commands[];
extern const size_t cli_ncommands;

/* knowcmd.c: the knowledge commands, listed in the table. */
extern const cli_opt cli_review_list_opts[];
extern const cli_opt cli_publish_opts[];
extern const cli_opt cli_search_opts[];
extern const cli_opt cli_notifications_opts[];
extern const cli_opt cli_insights_opts[];
extern const cli_opt cli_dedup_opts[];
int cli_cmd_eval_dedup(struct cli_ctx *ctx, const cli_args *args);
extern const cli_opt cli_gaps_opts[];
int cli_cmd_eval_gaps(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_insights(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_review(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_search(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_notifications(struct cli_ctx *ctx, const cli_args *args);

/* harvestcmd.c: `knowledge harvest [resume|stop|status|log] [JOB]`. */
extern const cli_opt cli_harvest_opts[];
int cli_cmd_harvest(struct cli_ctx *ctx, const cli_args *args);

/* mailcmd.c: `email poll` (IMAP), `email send` (SMTP) and `email release`
 * (a held e-mail), listed in the table. */
extern const cli_opt cli_email_poll_opts[];
extern const cli_opt cli_email_send_opts[];
extern const cli_opt cli_email_release_opts[];
int cli_cmd_email_poll(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_email_send(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_email_release(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_email_status(struct cli_ctx *ctx, const cli_args *args);

/* fucmd.c: `followup run|simulate|shadow` and `case suggestion`. */
extern const cli_opt cli_followup_run_opts[];
extern const cli_opt cli_followup_simulate_opts[];
extern const cli_opt cli_followup_shadow_opts[];
extern const cli_opt cli_suggestion_opts[];
int cli_cmd_followup_run(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_followup_simulate(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_followup_shadow(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_suggestion(struct cli_ctx *ctx, const cli_args *args);
int cli_check_suggestion(const struct cli_ctx *ctx, const cli_args *args);

/* servecmd.c: `serve`, the HTTP service. */
extern const cli_opt cli_serve_opts[];
int cli_cmd_serve(struct cli_ctx *ctx, const cli_args *args);

/* piicmd.c: `pii redact` and `pii eval`, listed in the table; and all of
 * standard input as a NUL-terminated string (caller frees), at most 16 MiB
 * without NUL bytes, for the commands that take TEXT or "-". */
int cli_read_stdin(const cli_ctx *ctx, char **ret);
int cli_cmd_pii_redact(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_pii_eval(struct cli_ctx *ctx, const cli_args *args);

/* usercmd.c: `user`, `token` and `profile`, listed in the table. */
extern const cli_opt cli_user_add_opts[];
extern const cli_opt cli_user_edit_opts[];
extern const cli_opt cli_token_create_opts[];
extern const cli_opt cli_token_list_opts[];
int cli_cmd_user_add(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_user_list(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_user_show(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_user_edit(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_token_create(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_token_revoke(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_token_list(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_profile_list(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_profile_show(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_profile_put(struct cli_ctx *ctx, const cli_args *args);

/* evalcmd.c: `eval summary`, listed in the table. */
int cli_cmd_eval_summary(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_eval_linking(struct cli_ctx *ctx, const cli_args *args);
/* evalcmd.c: `eval replies` and `reply classify` (issue 12). */
extern const cli_opt cli_eval_replies_opts[];
extern const cli_opt cli_reply_classify_opts[];
int cli_cmd_eval_replies(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_reply_classify(struct cli_ctx *ctx, const cli_args *args);

/* workcmd.c: a representative's daily commands (case create, note, notes,
 * reply, update; conversation list, show; report agent), listed in the
 * table. cli_check_field_pairs: positional arguments from `first` on are
 * FIELD=VALUE (a usage error otherwise). */
extern const cli_opt cli_actor_only_opts[];
extern const cli_opt cli_reply_opts[];
extern const cli_opt cli_conversation_list_opts[];
extern const cli_opt cli_report_opts[];
int cli_check_field_pairs(const struct cli_ctx *ctx, const cli_args *args, size_t first);
int cli_check_case_create(const struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_create(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_update(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_note(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_notes(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_reply(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_case_emails(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_conversation_list(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_conversation_show(struct cli_ctx *ctx, const cli_args *args);
int cli_cmd_report_agent(struct cli_ctx *ctx, const cli_args *args);

/* The entry for `name` [`sub`]; NULL if none. `sub` NULL finds a command
 * without subcommands only. */
const cli_cmd *cli_find(const char *name, const char *sub);
/* A command name close to the mistyped `word` (or, with `group`, one of
 * that group's subcommands), borrowed from the table; NULL if none. */
const char *cli_suggest_command(const char *word, const char *group);
/* Report `word` as an unknown command (or, with `group`, an unknown
 * subcommand of it), with the likeliest meant one; CLI_EXIT_USAGE. */
int cli_unknown_command(const cli_ctx *ctx, const char *group, const char *word);
/* Whether `name` is a group (its entries all have subcommands). */
bool cli_is_group(const char *name);
/* Index of option `name` in cmd->opts, or -1. */
int cli_opt_index(const cli_cmd *cmd, const char *name);

/* ---- output.c ---- */

/* From here on, stderr (and stdout unless `json`) show terminal control
 * characters neutralised: C0 other than newline and tab as ^X, DEL as ^?,
 * C1 controls and bytes that are not UTF-8 as U+FFFD. Text from outside can
 * then never drive the terminal, whatever command prints it. --json output
 * is left as the JSON encoder wrote it (it escapes controls itself). */
void cli_output_init(bool json);
/* Flush and remove the filters; -1 if writing failed. */
int cli_output_done(void);
/* The streams under the filters, for the few writers whose control
 * characters are our own (the progress bar's carriage return) or whose
 * bytes must stay exact (`settings export`). */
FILE *cli_raw_stdout(void);
FILE *cli_raw_stderr(void);

/* The candidate closest to `word`, a likely typo of it (one edit for a
 * word of up to 4 bytes, two beyond, or a prefix of 3 or more), or NULL.
 * Borrowed from cands. */
const char *cli_suggest(const char *word, const char *const *cands, size_t n);

/* Help generated from the table. */
void cli_print_usage(FILE *f, const cli_cmd *cmd);
void cli_print_group_usage(FILE *f, const char *group);
void cli_print_help_all(FILE *f);
void cli_print_help_cmd(FILE *f, const cli_cmd *cmd);
void cli_print_help_group(FILE *f, const char *group);

/* Report a failure from the library: "caseagent: error: ..." with `at:`
 * and a hint on stderr, and with --json the error object on stdout.
 * Returns CLI_EXIT_ERROR. `err` may be NULL or empty. */
int cli_fail(const cli_ctx *ctx, int code, const ca_err *err);
/* The same for an error detected by the CLI itself. */
int cli_failf(const cli_ctx *ctx, int code, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Report a usage error and the usage of `cmd` (or of the whole command when
 * cmd is NULL and group is NULL, or of a group). Returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_ctx *ctx, const cli_cmd *cmd, const char *group,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Print a JSON value compactly on one line of stdout. */
int cli_print_json(const cli_ctx *ctx, const json_t *v);
/* Print JSON text (from the API) as one line of stdout, whitespace outside
 * strings removed so numbers keep the library's spelling. */
int cli_print_json_text(const cli_ctx *ctx, const char *text);

/*
 * The common tail of a handler: `text` is a result from the API (taken: it is
 * freed here). With --json it is printed as one line; otherwise it is parsed
 * and handed to `human`, which prints it readably. Returns an exit status.
 */
typedef int (*cli_render_fn)(const cli_ctx *ctx, const json_t *result);
int cli_result(const cli_ctx *ctx, char *text, cli_render_fn human);

/* The shape of most commands: one API call on one argument (a case, an
 * article, a file), then its result rendered or its error reported. */
typedef int (*cli_ref_api)(ca_agent *a, const char *ref, char **ret_json, ca_err *err);
int cli_call_ref(cli_ctx *ctx, cli_ref_api api, const char *ref, cli_render_fn human);

/* The text of option `name` when given, else NULL (borrowed from argv). */
const char *cli_opt_str(const cli_args *a, const char *name);
/* A string member of a JSON object, or NULL (borrowed). */
const char *cli_jstr(const json_t *o, const char *key);

/* A scalar JSON value as text: strings as they are, integers in decimal,
 * reals with `prec` decimals, true/false, "-" for null or absent, and compact
 * JSON for arrays and objects. Caller frees; NULL only on ENOMEM. */
char *cli_scalar(const json_t *v, int prec);
/* printf into a new heap string (caller frees); NULL on ENOMEM. */
char *cli_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copy of at most `max` display characters of UTF-8 text `s`, with "..." when
 * cut and control characters (newlines, tabs) shown as spaces. Caller frees. */
char *cli_clip(const char *s, size_t max);

/*
 * Text tables: columns with headers, cells added left to right, row by row;
 * widths computed on print. `align` holds one letter per column, 'l' or 'r'.
 * Cells are copied. An allocation failure is remembered and reported by
 * cli_table_print (CA_ENOMEM).
 */
typedef struct cli_table {
	size_t ncols;
	const char *const *heads;
	const char *align;
	char **cells;     /* row-major */
	size_t ncells, cap;
	bool oom;
} cli_table;

void cli_table_init(cli_table *t, size_t ncols, const char *const *heads, const char *align);
void cli_table_done(cli_table *t);
void cli_table_cell(cli_table *t, const char *s);
void cli_table_cellf(cli_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON value as cli_scalar(v, prec) would show it, clipped to `max`
 * characters when max > 0. */
void cli_table_cellj(cli_table *t, const json_t *v, int prec, size_t max);
size_t cli_table_rows(const cli_table *t);
/* Print with a two-space indent and a header rule; CA_ENOMEM if a cell was lost. */
int cli_table_print(const cli_table *t, FILE *f);
struct cli_ctx;
/* Print on stdout and free the table: CLI_EXIT_OK, or the failure reported
 * through ctx when a cell was lost to memory. */
int cli_table_show(const struct cli_ctx *ctx, cli_table *t);
/* One column of cli_show_rows: the row's `key`, shown as cli_table_cellj
 * shows it (decimals `prec`, clipped to `max`, 0: never). */
typedef struct cli_column {
	const char *key, *heading;
	char align; /* 'l' or 'r' */
	int prec;
	size_t max;
} cli_column;
/* A JSON array of objects as a table of `n` (at most 12) columns, through
 * cli_table_show; nothing when there are no rows. */
int cli_show_rows(const struct cli_ctx *ctx, const json_t *rows, const cli_column *cols, size_t n);
/* The per-message rows of an e-mail ingest or poll (mailcmd.c): `first`
 * (the origin, or the UID), then outcome, case, ARC rule and reason; more
 * than 200 are left to `email log`. */
int cli_show_email_rows(const struct cli_ctx *ctx, const json_t *rows, const cli_column *first);
/* `email show` and `email outbox` as text (mailcmd.c); outside text has
 * its control characters neutralised. */
int cli_show_email(const struct cli_ctx *ctx, const json_t *email);
int cli_show_outbox(const struct cli_ctx *ctx, const json_t *result);

/* Progress bar on stderr, drawn only when ctx->progress. Use
 * cli_progress_fn with a cli_progress as user data. */
typedef struct cli_progress {
	const char *label;
	bool enabled;
	bool drawn;
	double last;
} cli_progress;

void cli_progress_init(cli_progress *p, const cli_ctx *ctx, const char *label);
void cli_progress_fn(size_t done, size_t total, void *ud);
/* Clear the bar's line. */
void cli_progress_done(cli_progress *p);

#endif
