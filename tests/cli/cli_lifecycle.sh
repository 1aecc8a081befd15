#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of the whole chat lifecycle through the real binary and a
# fresh SQLite file, with the shipped examples/: init, settings import and
# export, directory import, `chat replay` creating cases, case list / show /
# audit, the interaction log, and idempotence (replaying the same file again
# creates no case and writes nothing, because event ids were seen before).
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_lifecycle.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_lifecycle.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/lifecycle.db"

fail() { echo "FAIL (cli_lifecycle): $*" >&2; exit 1; }
run() { OUT=$("$BIN" "$@" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
ok() { run "$@"; [ "$RC" -eq 0 ] || fail "caseagent $* exited $RC: $ERR"; }
# j EXPR: evaluate a Python expression over the JSON in $OUT (as d).
j() { printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1"; }
# jcheck EXPR MESSAGE: fail unless EXPR is true.
jcheck() { [ "$(j "bool($1)")" = True ] || fail "$2 ($1) in: $(printf '%.600s' "$OUT")"; }

for f in settings.json contacts.jsonl products.jsonl conversations.jsonl; do
	[ -f "$EX/$f" ] || fail "missing $EX/$f"
done
NCONV=$(grep -c . "$EX/conversations.jsonl")

ok --json init
jcheck 'd["created"] is True and d["settings"] is False' "init on a new file"
[ -f "$CASEAGENT_DB" ] || fail "init created no database"
# Before settings: a clear error and the hint.
run chat replay "$EX/conversations.jsonl"
[ "$RC" -eq 1 ] || fail "replay without settings exited $RC"
printf '%s\n' "$ERR" | grep -q 'settings import' || fail "no settings hint: $ERR"

ok settings import "$EX/settings.json"
ok --json settings export
jcheck 'len(d["fields"]) > 0' "exported settings have fields"
ok settings export
printf '%s\n' "$OUT" >"$T/exported.json"
ok settings import "$T/exported.json"   # the export imports again
ok --json import contacts "$EX/contacts.jsonl"
jcheck "d['imported'] == $(grep -c . "$EX/contacts.jsonl")" "every contact imported"
ok --json import products "$EX/products.jsonl"
jcheck "d['imported'] == $(grep -c . "$EX/products.jsonl")" "every product imported"
ok init
printf '%s\n' "$OUT" | grep -q 'existing' || fail "second init does not say existing: $OUT"
echo "ok: init, settings, import"

ok --json chat replay "$EX/conversations.jsonl"
printf '%s\n' "$OUT" >"$T/replay1.json"
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] || fail "--json printed more than one line"
jcheck "d['conversations'] == $NCONV" "replay saw every conversation"
jcheck 'd["cases_created"] > 0' "replay created cases"
CREATED=$(j 'd["cases_created"]')
echo "ok: replay created $CREATED cases from $NCONV conversations"

ok --json case list
jcheck "len(d['cases']) == $CREATED" "case list shows the created cases"
FIRST=$(j 'd["cases"][-1]["ticket_number"]')
ok --json case list --limit 1
jcheck 'len(d["cases"]) == 1' "--limit 1"
ok case list
printf '%s\n' "$OUT" | grep -q "$FIRST" || fail "human case list lacks $FIRST"

ok --json case show "$FIRST"
jcheck "d['ticket_number'] == '$FIRST'" "case show names the case"
jcheck 'len(d["fields"]) > 0 and len(d["provenance"]) > 0' "case has fields with provenance"
jcheck 'all(p["source"] in ("agent","person","arc","import","system") for p in d["provenance"].values())' "provenance sources"
ok case show "$FIRST"
printf '%s\n' "$OUT" | grep -q "^$FIRST" || fail "case show heading lacks $FIRST"
printf '%s\n' "$OUT" | grep -q 'agent' || fail "case show shows no provenance"

ok --json audit "$FIRST"
jcheck 'len(d["audit"]) > 0' "audit has rows"
jcheck 'all(r["confidence"] is not None for r in d["audit"] if r["source"] == "agent")' "agent rows carry confidence"
AUDIT1=$(j 'len(d["audit"])')
ok audit "$FIRST"
printf '%s\n' "$OUT" | grep -q -- '->' || fail "audit shows no old -> new"
echo "ok: case list, show, audit ($AUDIT1 changes on $FIRST)"

# Idempotent: the same events again change nothing.
ok --json chat replay "$EX/conversations.jsonl"
jcheck 'd["cases_created"] == 0' "second replay created no case"
jcheck 'd["fields_filled"] == 0 and d["notes_written"] == 0' "second replay wrote nothing"
ok --json case list
jcheck "len(d['cases']) == $CREATED" "case count unchanged after second replay"
ok --json audit "$FIRST"
jcheck "len(d['audit']) == $AUDIT1" "audit unchanged after second replay"
echo "ok: second replay is a no-op"

ok --json interactions
jcheck 'len(d["interactions"]) > 0' "interaction log has rows"
CONV=$(j 'd["interactions"][0]["conversation_id"]')
ok --json interactions --conversation "$CONV"
jcheck "len(d['interactions']) > 0 and all(r['conversation_id'] == '$CONV' for r in d['interactions'])" \
	"--conversation filters"
ok interactions
echo "ok: interactions"

# The human replay summary (on a second database, so something happens).
ok --db "$T/human.db" init
ok --db "$T/human.db" settings import "$EX/settings.json"
ok --db "$T/human.db" import contacts "$EX/contacts.jsonl"
ok --db "$T/human.db" import products "$EX/products.jsonl"
ok --db "$T/human.db" chat replay "$EX/conversations.jsonl" --accept-after 2 --update-every 4
for want in conversations 'cases created' 'fields filled' '"no changes" updates' 'notes written'; do
	printf '%s\n' "$OUT" | grep -q "$want" || fail "replay summary lacks '$want': $OUT"
done
ok --db "$T/human.db" --quiet chat replay "$EX/conversations.jsonl"
[ -z "$OUT" ] || fail "--quiet replay printed: $OUT"
echo "ok: cli_lifecycle"
