#!/bin/bash
# SPDX-License-Identifier: MIT
# Whether two builds ingest the same mail to the same result: each ingests
# MAIL into a fresh database (the bench's settings: the test settings plus a
# catch-all ARC rule, examples/contacts.jsonl) at one fixed clock (CA_NOW),
# then every table (raw messages, cases, audit, events, log, outbox, ...) is
# dumped row by row and compared, with `email log` and `email outbox`; the
# ingest result is compared by value (its confidences at 6 significant
# digits). Usage: bench/ingest_same.sh BIN_A BIN_B MAIL. Exit 0 when equal.
set -euo pipefail
A=$1 B=$2 MAIL=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export CA_NOW=1764650000
python3 - "$ROOT/tests/data/email/settings.json" "$W/settings.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["arc_rules"].append({"name": "catch-all", "fields": {"title": "{subject}", "description": "{body}"},
                       "accept_unknown_senders": True, "auto_response": True})
json.dump(s, open(sys.argv[2], "w"))
PY
for x in A B; do
	bin=${!x}
	export CASEAGENT_DB="$W/$x.db"
	"$bin" --quiet init
	"$bin" --quiet settings import "$W/settings.json"
	"$bin" --quiet import contacts "$ROOT/examples/contacts.jsonl"
	"$bin" --json email ingest "$MAIL" >"$W/$x.ingest.json"
	"$bin" --json email log --limit 0 >"$W/$x.log.json"
	"$bin" --json email outbox >"$W/$x.outbox.json"
	python3 - "$W/$x.db" >"$W/$x.dump.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                       "AND name NOT LIKE '%fts_%' ORDER BY name"):
    try:
        rows = db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
    except sqlite3.OperationalError:
        rows = sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
    print(f"== {t} ({len(rows)} rows)")
    for r in rows:
        print(repr(r))
PY
done
status=0
for f in log.json outbox.json dump.txt; do
	if cmp -s "$W/A.$f" "$W/B.$f"; then echo "same: $f"; else echo "DIFFERENT: $f"; status=1; fi
done
python3 - "$W/A.ingest.json" "$W/B.ingest.json" <<'PY' || status=1
import json, sys
def norm(x):
    if isinstance(x, float): return float(f"{x:.6g}")
    if isinstance(x, list): return [norm(v) for v in x]
    if isinstance(x, dict): return {k: norm(v) for k, v in x.items()}
    return x
same = norm(json.load(open(sys.argv[1]))) == norm(json.load(open(sys.argv[2])))
print("same: ingest result" if same else "DIFFERENT: ingest result")
sys.exit(0 if same else 1)
PY
exit $status
