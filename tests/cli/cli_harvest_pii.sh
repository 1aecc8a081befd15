#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No harvested draft keeps a phone-like digit run (issue 9, item 8): the
# bench's resolved cases (bench/harvest_cases.py over the real dialogue
# sets beside the repository: tweetsumm, dialogsum, ABCD, each dialogue
# once) are harvested into drafts, and every draft's title, issue, cause
# and resolution is searched for a run of 10 to 12 digits, whole or in
# groups joined by one space, dot or hyphen, that is not part of a longer
# identifier. A run right after an order, invoice, ticket, reference,
# tracking, serial, model, account or id word is that identifier, not a
# phone number (the rule of src/pii/patterns.c, docs/settings.md), and is
# not counted. Without the data sets there is nothing to harvest: skipped.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_harvest_pii.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_harvest_pii.sh CASEAGENT_BINARY SOURCE_DIR}
DATA="$SRC/../shared/data"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/h.db"
fail() { echo "FAIL (cli_harvest_pii): $*" >&2; exit 1; }

if [ ! -d "$DATA/tweetsumm" ]; then
	echo "cli_harvest_pii: skipped, no data sets at $DATA"
	exit 0
fi
# first the dialogue count, then one case per dialogue
N=$(python3 "$SRC/bench/harvest_cases.py" "$DATA" 1 "$T/one.jsonl") || fail "harvest_cases.py"
[ "$N" -ge 300 ] || fail "only $N dialogues under $DATA"
python3 "$SRC/bench/harvest_cases.py" "$DATA" "$N" "$T/cases.jsonl" >/dev/null || fail "harvest_cases.py"
"$BIN" --quiet init || fail "init"
"$BIN" --quiet settings import "$SRC/tests/data/knowledge/settings.json" || fail "settings import"
"$BIN" --quiet import cases "$T/cases.jsonl" || fail "import cases"
"$BIN" --json knowledge harvest --from cases >"$T/harvest.json" || fail "harvest: $(cat "$T/harvest.json")"

python3 - "$T/h.db" "$T/harvest.json" <<'PY' || fail "drafts keep phone-like digit runs"
import json, re, sqlite3, sys
h = json.load(open(sys.argv[2]))
assert h["state"] == "done" and h["created"] >= 200, h
db = sqlite3.connect(sys.argv[1])
run = re.compile(r"(?<![\w\-.+/#])\+?\d(?:[ .\-]?\d)+(?!\w)(?![\-.]\d)")
ident = re.compile(r"(order|invoice|ticket|ref|reference|tracking|serial|model|account|acct|id|imei)\b[^\w]*(\w+\W+){0,2}$",
                   re.I)
bad, drafts = [], 0
for number, *parts in db.execute("SELECT number, title, issue, cause, resolution FROM knowledge_article"):
    drafts += 1
    for text in parts:
        for m in run.finditer(text or ""):
            digits = re.sub(r"\D", "", m.group(0))
            if 10 <= len(digits) <= 12 and not ident.search(text[max(0, m.start() - 30):m.start()]):
                bad.append((number, m.group(0), text[max(0, m.start() - 50):m.end() + 10]))
for b in bad:
    print("  %s keeps %r: ...%s..." % b, file=sys.stderr)
print(f"cli_harvest_pii: {drafts} drafts, {len(bad)} phone-like digit runs", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "cli_harvest_pii: all checks passed"
