#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `caseagent eval summary` on tiny dialogue sets of our own in both formats of
# ../shared/data (tests/data/summary): tweetsumm records (turns, several
# abstractive summaries, HTML entities) and dialogsum records (#PersonN#
# lines, one "summary" or "summary1".."3"). --json prints one object naming
# the figures (rouge1, rouge2, rougeL; the same under lead and lead_prose) as
# fractions; a folder takes every *.jsonl; bad input is an error naming the
# file and line.
set -euo pipefail
BIN=$1; SRC=$2
D="$SRC/tests/data/summary"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ca() { "$BIN" --db "$T/t.db" "$@"; }
ca init >/dev/null

check() { # FILE.json DIALOGUES REFERENCES
python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("dataset", "dialogues", "rouge1", "rouge2", "rougeL", "lead", "lead_prose",
          "summary_words_avg", "lead_words_avg"):
    assert k in d, (k, d)
for part in (d, d["lead"], d["lead_prose"]):
    for k in ("rouge1", "rouge2", "rougeL"):
        assert isinstance(part[k], (int, float)) and 0 <= part[k] <= 1, (k, part)
assert d["dialogues"] == int(sys.argv[2]), d
assert d["references"] == int(sys.argv[3]), d
assert d["skipped"] == 0, d
assert d["summary_words_avg"] > 0 and d["lead_words_avg"] > 0, d
# the agent's summary says something the people who wrote the references said
assert d["rouge1"] > 0.2 and d["rougeL"] > 0.15, d
PY
}

ca --json eval summary "$D/tweetsumm.jsonl" > "$T/t.json"
check "$T/t.json" 2 3
echo "ok: tweetsumm format, --json figures"

ca eval summary "$D/dialogsum.jsonl" --json > "$T/d.json"
check "$T/d.json" 2 4
echo "ok: dialogsum format (summary and summary1..3), --json after the argument"

# a folder without dialogs.jsonl: every *.jsonl, formats detected per line
ca --json eval summary "$D" > "$T/all.json"
check "$T/all.json" 4 7
python3 -c "import json; d=json.load(open('$T/all.json')); assert len(d['files']) == 2, d"
# a folder with dialogs.jsonl: that file only
mkdir "$T/set"; cp "$D/tweetsumm.jsonl" "$T/set/dialogs.jsonl"; cp "$D/dialogsum.jsonl" "$T/set/other.jsonl"
ca --json eval summary "$T/set" > "$T/set.json"
check "$T/set.json" 2 3
echo "ok: folders"

# human output: a table of agent and lead
ca eval summary "$D/tweetsumm.jsonl" > "$T/human.txt"
grep -q "ROUGE-L" "$T/human.txt"
grep -q "^  agent " "$T/human.txt"
grep -q "^  lead " "$T/human.txt"
echo "ok: human table"

# errors name the file and line; exit status 1
printf '%s\n' "$(head -1 "$D/tweetsumm.jsonl")" 'not json' > "$T/bad.jsonl"
if ca eval summary "$T/bad.jsonl" 2> "$T/err.txt"; then echo "bad JSON accepted"; exit 1; fi
grep -q "bad.jsonl:2" "$T/err.txt"
echo '{"text": "neither format"}' > "$T/odd.jsonl"
if ca eval summary "$T/odd.jsonl" 2> "$T/err.txt"; then echo "unknown format accepted"; exit 1; fi
grep -q "odd.jsonl:1" "$T/err.txt"
if ca eval summary "$T/missing.jsonl" 2>/dev/null; then echo "missing file accepted"; exit 1; fi
mkdir "$T/empty"
if ca eval summary "$T/empty" 2>/dev/null; then echo "empty folder accepted"; exit 1; fi
# a record without a human summary is skipped, not scored
echo '{"turns": [{"speaker": "customer", "text": "My card was charged twice."}], "abstractive_summaries": []}' > "$T/noref.jsonl"
head -1 "$D/tweetsumm.jsonl" >> "$T/noref.jsonl"
ca --json eval summary "$T/noref.jsonl" > "$T/noref.json"
python3 -c "import json; d=json.load(open('$T/noref.json')); assert d['dialogues'] == 1 and d['skipped'] == 1, d"
echo "ok: errors and skipped records"
echo "ok: cli_eval_summary"
