#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of the generated help and of usage errors: every command
# listed by `caseagent --help` answers `CMD --help` and `help CMD` with exit 0
# and its usage line; groups list their subcommands; unknown commands and
# options, missing arguments and malformed numbers exit 2 with the usage line;
# asking for help never creates a database. Arguments: $1 the caseagent
# binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_help.sh CASEAGENT_BINARY SOURCE_DIR}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/help.db"

fail() { echo "FAIL (cli_help): $*" >&2; exit 1; }
# run ARGS...: sets OUT, ERR and RC.
run() { OUT=$("$BIN" "$@" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
expect_rc() {
	local want=$1; shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "caseagent $* exited $RC, expected $want; stderr: $ERR"
}

# The command list, taken from the top-level help so that table and help agree.
expect_rc 0 --help
printf '%s\n' "$OUT" | grep -q '^usage: caseagent' || fail "--help prints no usage line"
COMMANDS=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]*\( [a-z][a-z]*\)\?\)  .*/\1/p')
[ -n "$COMMANDS" ] || fail "no commands found in --help output"
n=0
for want in init "settings import" "settings export" "import contacts" "import accounts" \
	"import products" "import subjects" "import cases" "chat replay" "chat event" "case list" \
	"case show" "case edit" audit interactions train simulate; do
	printf '%s\n' "$COMMANDS" | grep -qx "$want" || fail "--help does not list '$want'"
done

while IFS= read -r cmd; do
	# shellcheck disable=SC2086 # split "case edit" into two words on purpose
	expect_rc 0 $cmd --help
	printf '%s\n' "$OUT" | grep -q "^usage: caseagent $cmd" || fail "'$cmd --help' prints no usage line: $OUT"
	# shellcheck disable=SC2086
	expect_rc 0 help $cmd
	printf '%s\n' "$OUT" | grep -q "^usage: caseagent $cmd" || fail "'help $cmd' prints no usage line"
	# shellcheck disable=SC2086
	expect_rc 0 --help $cmd
	n=$((n + 1))
done <<EOF
$COMMANDS
EOF
echo "ok: --help of $n commands"

# Option help comes from the table too.
expect_rc 0 chat replay --help
printf '%s\n' "$OUT" | grep -q -- '--accept-after N' || fail "chat replay --help does not list --accept-after"
expect_rc 0 case edit --help
printf '%s\n' "$OUT" | grep -q -- '--expect-version N' || fail "case edit --help does not list --expect-version"

# Groups.
for g in settings import chat case; do
	expect_rc 0 "$g" --help
	printf '%s\n' "$OUT" | grep -q "^usage: caseagent $g " || fail "'$g --help' lists no subcommand usage"
	expect_rc 0 help "$g"
	expect_rc 2 "$g"
	printf '%s\n' "$ERR" | grep -q "caseagent $g " || fail "'$g' without subcommand does not print usage"
done

# Usage errors: exit 2, the message, the usage line.
expect_rc 2 frobnicate
printf '%s\n' "$ERR" | grep -q "unknown command 'frobnicate'" || fail "unknown command not named: $ERR"
printf '%s\n' "$ERR" | grep -q '^usage: caseagent' || fail "unknown command prints no usage"
expect_rc 2 help frobnicate
expect_rc 2 case frobnicate
printf '%s\n' "$ERR" | grep -q "unknown subcommand 'case frobnicate'" || fail "unknown subcommand not named"
expect_rc 2 case list --bogus
printf '%s\n' "$ERR" | grep -q "unknown option '--bogus'" || fail "unknown option not named: $ERR"
printf '%s\n' "$ERR" | grep -q '^usage: caseagent case list \[--limit N\]' || fail "no usage line for case list"
expect_rc 2 case show
printf '%s\n' "$ERR" | grep -q '^usage: caseagent case show CASE' || fail "missing argument prints no usage: $ERR"
expect_rc 2 case show CAS-00001 extra
expect_rc 2 case list --limit
expect_rc 2 case list --limit ten
expect_rc 2 case list --limit -1
expect_rc 2 case list --limit 99999999999999999999
expect_rc 2 simulate x.jsonl --repeat 0
expect_rc 2 case edit CAS-00001 priority
printf '%s\n' "$ERR" | grep -q "not FIELD=VALUE" || fail "case edit without = not explained: $ERR"
expect_rc 2 init --db
expect_rc 2
expect_rc 2 --json nosuch
printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["error"]["code"]=="usage", d' \
	|| fail "--json usage error is not an error object on stdout: $OUT"
echo "ok: usage errors exit 2"

# says TEXT: the last usage error says TEXT (a fixed string).
says() { printf '%s\n' "$ERR" | grep -qF -- "$1" || fail "$2: the error does not say '$1': $ERR"; }

# Typos get a "did you mean": commands, subcommands, options, verbs.
expect_rc 2 chta replay x.jsonl
says "did you mean 'chat'?" "command typo"
expect_rc 2 chat evnet '{}'
says "did you mean 'chat event'?" "subcommand typo"
expect_rc 2 case list --lmit 3
says "did you mean '--limit'?" "option typo"
expect_rc 2 case list --jsno
says "did you mean '--json'?" "global option typo"
expect_rc 2 help knowledge reveiw
says "did you mean 'knowledge review'?" "help subcommand typo"
expect_rc 2 help knowledge review lsit
says "did you mean 'list'?" "help verb typo"
expect_rc 2 frobnicate
printf '%s\n' "$ERR" | grep -q "did you mean" && fail "a word like no command got a suggestion: $ERR"
echo "ok: did you mean"

# help at every depth: a command's verbs have help too.
expect_rc 0 help knowledge review list
printf '%s\n' "$OUT" | grep -q '^caseagent knowledge review list' || fail "help knowledge review list: no line of its own: $OUT"
printf '%s\n' "$OUT" | grep -q '^usage: caseagent knowledge review' || fail "help knowledge review list: no usage: $OUT"
expect_rc 0 help knowledge harvest status
printf '%s\n' "$OUT" | grep -q '^caseagent knowledge harvest status' || fail "help knowledge harvest status: $OUT"
expect_rc 0 help chat event
printf '%s\n' "$OUT" | grep -qw 'wait' || fail "help chat event does not document the wait event: $OUT"
expect_rc 2 help case show CAS-00001
says "would be its argument" "help with an argument"
echo "ok: help at every depth"

# missing argument names the argument.
expect_rc 2 case show
says "missing argument CASE" "case show"
expect_rc 2 case edit CAS-00001
says "missing argument FIELD=VALUE..." "case edit"
expect_rc 2 knowledge rate
says "missing arguments ARTICLE 1-5" "knowledge rate"
expect_rc 2 settings import
says "missing argument FILE" "settings import"
echo "ok: missing arguments are named"

# "--" ends the options everywhere: before the command too; and an argument
# that starts with "-" without it says how to pass it.
expect_rc 2 knowledge search "-charged twice"
says "-- '-charged twice'" "query starting with -"
expect_rc 0 -- help case
printf '%s\n' "$OUT" | grep -q '^usage: caseagent case list' || fail "-- before the command: $OUT"
expect_rc 0 --help
printf '%s\n' "$OUT" | grep -q -- '^  --  ' || fail "--help does not document --: $OUT"
echo "ok: -- ends the options"

expect_rc 0 --version
printf '%s\n' "$OUT" | grep -q '^caseagent [0-9]' || fail "--version: $OUT"
expect_rc 0 --version --json
printf '%s' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)["version"]' || fail "--version --json: $OUT"

# Help never opened (or created) the database.
[ ! -e "$CASEAGENT_DB" ] || fail "help created $CASEAGENT_DB"
# Nor does a command on a database that does not exist: exit 1 and a hint.
expect_rc 1 case list
printf '%s\n' "$ERR" | grep -q 'caseagent init' || fail "missing database gives no hint: $ERR"
[ ! -e "$CASEAGENT_DB" ] || fail "case list created $CASEAGENT_DB"
echo "ok: cli_help"
