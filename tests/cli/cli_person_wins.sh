#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The required "people win" test, end to end through `caseagent chat event`
# and `caseagent case edit`: a representative edits Priority, then an update
# from the conversation runs after messages that push the agent towards
# another priority; the person's value stays, and the audit shows the
# person's change (source person, actor alice) and no later agent write to
# priority. A control conversation with the same messages and no edit shows
# that the agent would indeed have changed the priority, so the test cannot
# pass by the predictor simply agreeing. Arguments: $1 the caseagent binary,
# $2 the project source directory.
set -u
BIN=${1:?usage: cli_person_wins.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_person_wins.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/person.db"

fail() { echo "FAIL (cli_person_wins): $*" >&2; exit 1; }
run() { OUT=$("$BIN" "$@" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
ok() { run "$@"; [ "$RC" -eq 0 ] || fail "caseagent $* exited $RC: $ERR"; }
ok_stdin() { local in=$1; shift; OUT=$("$BIN" "$@" <"$in" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
	[ "$RC" -eq 0 ] || fail "caseagent $* < $in exited $RC: $ERR"; }
j() { printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1"; }
jcheck() { [ "$(j "bool($1)")" = True ] || fail "$2 ($1) in: $(printf '%.800s' "$OUT")"; }
# shellcheck source=lib/priority.bash
. "$SRC/tests/cli/lib/priority.bash"

# The example settings have a priority option field (low/normal/high/urgent),
# predicted by the update rule "priority once the customer is known"; use
# them when they do, else a small settings file of our own with the same field.
SETTINGS="$EX/settings.json"
if ! python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
f=[f for f in s["fields"] if f["name"]=="priority" and f["type"]=="option"]
assert f and {"high","urgent"} <= {o["value"] for o in f[0]["options"]}' "$SETTINGS" 2>/dev/null; then
	SETTINGS="$T/settings.json"
	priority_settings "$SETTINGS"
fi
cat >"$T/contacts.jsonl" <<'EOF'
{"id": "C-pvantassel", "full_name": "Priya Vantassel", "email": "priya.vantassel@example.com", "username": "pvantassel"}
EOF

ok init
ok settings import "$SETTINGS"
ok import contacts "$T/contacts.jsonl"

# second_half CONV: the messages, then an update. "p" gets the person's edit
# between the two halves; "c" (control) does not.
second_half() { second_half_messages "$1"; printf '{"id":"%s-e8","type":"update","conversation":"%s","actor":"alice"}\n' "$1" "$1"; }

for c in p c; do first_half "$c"; done >"$T/first.jsonl"
ok_stdin "$T/first.jsonl" --json chat event -
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 10 ] || fail "chat event - did not print one result per event: $OUT"
CASE_P=$(printf '%s\n' "$OUT" | sed -n 5p | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"] or "")')
CASE_C=$(printf '%s\n' "$OUT" | sed -n 10p | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"] or "")')
[ -n "$CASE_P" ] && [ -n "$CASE_C" ] || fail "accept created no case: $OUT"
echo "ok: accept created $CASE_P (edited) and $CASE_C (control)"

ok --json case show "$CASE_P"
BEFORE=$(j 'd["fields"].get("priority")')
[ "$BEFORE" != high ] || fail "the agent already chose high; the test needs another starting value"
ok --json case edit "$CASE_P" priority=high --actor alice
jcheck 'd["field"] == "priority" and d["new"] == "high"' "the edit took"
EDIT_VERSION=$(j 'd["version"]')

for c in p c; do second_half "$c"; done >"$T/second.jsonl"
ok_stdin "$T/second.jsonl" --json chat event -
UPDATE_P=$(printf '%s\n' "$OUT" | sed -n 3p)
UPDATE_C=$(printf '%s\n' "$OUT" | sed -n 6p)

# The control: the same words make the agent change the priority.
ok --json case show "$CASE_C"
CONTROL=$(j 'd["fields"].get("priority")')
[ -n "$CONTROL" ] && [ "$CONTROL" != None ] && [ "$CONTROL" != high ] ||
	fail "control case $CASE_C has priority '$CONTROL': the messages do not push the agent away from high"
echo "ok: without the edit the agent moves priority to $CONTROL"

# The edited case: the person's value stays.
OUT=$UPDATE_P
jcheck 'd["type"] == "update" and all(c["field"] != "priority" for c in d["changed"])' \
	"the update did not change priority"
ok --json case show "$CASE_P"
jcheck 'd["fields"]["priority"] == "high"' "priority is still the person's value"
jcheck 'd["provenance"]["priority"]["source"] == "person" and d["provenance"]["priority"]["actor"] == "alice"' \
	"provenance of priority is the person"
jcheck "d['version'] >= $EDIT_VERSION" "version moved forward"

ok --json audit "$CASE_P"
printf '%s\n' "$OUT" >"$T/audit.json"
jcheck '[r for r in d["audit"] if r["field"] == "priority" and r["source"] == "person" and r["actor"] == "alice" and r["new_value"] == "high"]' \
	"audit shows alice's change of priority"
# Nothing but people wrote priority after alice did.
jcheck '(lambda rows: all(r["source"] == "person" for r in rows[max(i for i, r in enumerate(rows) if r["source"] == "person"):]))([r for r in d["audit"] if r["field"] == "priority"])' \
	"no agent write to priority after the person's edit"
ok audit "$CASE_P"
printf '%s\n' "$OUT" | grep -q 'priority.*-> high.*person/alice' || fail "human audit lacks alice's row: $OUT"
ok case show "$CASE_P"
printf '%s\n' "$OUT" | grep -q 'priority *high *person *alice' || fail "case show lacks person provenance: $OUT"

# A stale --expect-version is refused (the update moved the case on).
run case edit "$CASE_P" priority=low --actor bob --expect-version 1
[ "$RC" -eq 1 ] || fail "stale --expect-version exited $RC"
printf '%s\n' "$ERR" | grep -q 'expect-version' || fail "conflict gives no hint: $ERR"
echo "ok: cli_person_wins"
