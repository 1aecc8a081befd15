# SPDX-License-Identifier: MIT
# Helpers the CLI tests share (sourced, never run on its own: the tests are
# tests/cli/*.sh). Before sourcing, a test sets BIN (the caseagent binary),
# T (its scratch folder) and NAME (its name, for failure messages).
# run ARGS...: runs caseagent; OUT, RC and ERR hold what it printed and exited.
fail() { echo "FAIL ($NAME): $*" >&2; exit 1; }
run() { OUT=$("$BIN" "$@" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
run_stdin() { local in=$1; shift; OUT=$("$BIN" "$@" <"$in" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
ok() { run "$@"; [ "$RC" -eq 0 ] || fail "caseagent $* exited $RC: $ERR"; }
# rejected WHAT: the last run failed with status 1 and an error message.
rejected() {
	[ "$RC" -eq 1 ] || fail "$1: exited $RC, expected 1; stdout: $OUT; stderr: $ERR"
	printf '%s\n' "$ERR" | grep -q '^caseagent: error: ' || fail "$1: no error message: $ERR"
}
# says WHAT TEXT: the error mentions TEXT (a fixed string).
says() { printf '%s\n' "$ERR" | grep -qF -- "$2" || fail "$1: error does not mention '$2': $ERR"; }
# j EXPR: a Python expression over the last run's JSON output `d`.
j() { printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1"; }
# state: a fingerprint of what the database holds (cases with versions,
# interactions), to show that a failure wrote nothing.
state() {
	local cases inter
	cases=$("$BIN" --json case list) || fail "case list failed"
	inter=$("$BIN" --json interactions) || fail "interactions failed"
	printf '%s\n%s\n' "$cases" "$inter" | python3 -c '
import json, sys
cases = json.loads(sys.stdin.readline())["cases"]
inter = json.loads(sys.stdin.readline())["interactions"]
print(len(cases), sorted((c["ticket_number"], c["version"]) for c in cases), len(inter))'
}
