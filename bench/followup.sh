#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The follow-up agent at scale, run by bench/run.sh (or alone:
# `bench/followup.sh BUILD_DIR`, FOLLOWUP_N to change the size): FOLLOWUP_N
# (default 100,000) open cases waiting for the customer, owned by a
# representative whose profile enables autonomous follow-up, imported
# through `import cases` into a fresh SQLite file; then three ticks of
# `caseagent followup run --now`, each under /usr/bin/time -f %M: one where
# every case waits (the read pass alone), one where every case is sent its
# first follow-up (a savepoint each, committed in batches: step row, outbox message, audit,
# interaction log), and one more 1 h later where every case waits again
# with its history. Prints decisions per second and peak RSS. It prints
# figures and never fails on them; it fails only if a run fails.
set -euo pipefail
BUILD=${1:?usage: bench/followup.sh BUILD_DIR}
BIN="$BUILD/caseagent"
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (build first: make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
N=${FOLLOWUP_N:-100000}
T0=1767225600 # 2026-01-01T00:00:00Z

export CASEAGENT_DB="$WORK/followup.db" CA_NOW=$T0
python3 - "$ROOT/examples/settings.json" "$WORK/settings.json" "$N" "$WORK/cases.jsonl" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["followup"] = {"rules": [{"name": "waiting for customer", "trigger": {"status_reason": "waiting_for_customer"},
                            "followups": 3, "wait": {"hours": 48}, "level": "full", "after_last": "resolve"}]}
json.dump(s, open(sys.argv[2], "w"))
with open(sys.argv[4], "w") as f:
    for i in range(int(sys.argv[3])):
        f.write(json.dumps({"fields": {"title": f"Order {i} has not arrived", "customer": "C-pvantassel",
                                       "status": "active", "status_reason": "waiting_for_customer",
                                       "owner": "ann"}}) + "\n")
PY
"$BIN" --quiet init
"$BIN" --quiet settings import "$WORK/settings.json"
"$BIN" --quiet import contacts "$ROOT/examples/contacts.jsonl"
"$BIN" --quiet user add ann --role "Customer Service Representative"
IS=$(date +%s.%N)
"$BIN" --quiet import cases "$WORK/cases.jsonl"
IE=$(date +%s.%N)

# tick NAME HOURS: one `followup run` at T0 + HOURS; NAME.json, NAME.kb, NAME.s
tick() {
	local name=$1 hours=$2 now a b
	now=$(date -u -d "@$((T0 + hours * 3600))" +%Y-%m-%dT%H:%M:%SZ)
	a=$(date +%s.%N)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$WORK/$name.kb" "$BIN" --json followup run --now "$now" >"$WORK/$name.json"
	else
		"$BIN" --json followup run --now "$now" >"$WORK/$name.json"
		echo 0 >"$WORK/$name.kb"
	fi
	b=$(date +%s.%N)
	python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$a" "$b" >"$WORK/$name.s"
}
tick wait 1
tick send 48
tick again 49
python3 - "$WORK" "$N" "$IS" "$IE" <<'PY'
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
print()
print(f"caseagent benchmark: follow-up tick over {n} open cases (one rule, level full; import {float(sys.argv[4]) - float(sys.argv[3]):.1f} s)")
for name, what in (("wait", "every case waits (read pass only)"),
                   ("send", "every case gets follow-up 1 (a savepoint each, committed in batches)"),
                   ("again", "every case waits, with its follow-up history")):
    d = json.load(open(f"{w}/{name}.json"))
    secs = float(open(f"{w}/{name}.s").read())
    kb = int(open(f"{w}/{name}.kb").read().split()[-1] or 0)
    print(f"  {what}")
    print(f"    cases {d['cases']:>8}  counts {d['counts']}")
    print(f"    seconds {secs:>8.2f}  decisions/s {d['cases'] / secs if secs else 0:>8.0f}  peak RSS {kb / 1024:.1f} MB")
PY
