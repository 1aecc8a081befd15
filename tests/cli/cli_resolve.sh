#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case resolution as a person does it: resolve needs a resolution (kept as a
# note), cannot resolve twice, cancel and reactivate move the status, and
# every step is in the audit with its actor.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ca() { "$BIN" --db "$T/t.db" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ca init >/dev/null
ca settings import "$SRC/examples/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import cases "$SRC/examples/cases.jsonl" >/dev/null   # imported as resolved
ca case reactivate CAS-00001 --actor ann >/dev/null
ca case resolve CAS-00001 --actor ann >/dev/null 2>&1 && fail "resolve without a resolution was accepted"
ca --json case resolve CAS-00001 --resolution "Reset the earbuds and re-paired them in the app." --actor ann > "$T/r.json"
python3 -c "import json; d=json.load(open('$T/r.json')); assert d['status']=='resolved' and d['old_status']=='active', d"
ca case resolve CAS-00001 --resolution "again" >/dev/null 2>&1 && fail "a resolved case was resolved twice"
ca --json case show CAS-00001 | python3 -c "
import json,sys; d=json.load(sys.stdin)
assert d['fields']['status']=='resolved', d['fields']
assert any(n['kind']=='resolution' and 'Reset the earbuds' in n['body'] for n in d['notes']), d['notes']"
ca case reactivate CAS-00001 --actor bob >/dev/null
ca --json case cancel CAS-00001 --reason "duplicate of CAS-00002" --actor bob | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['status']=='cancelled', d"
ca --json audit CAS-00001 | python3 -c "
import json,sys; rows=[r for r in json.load(sys.stdin)['audit'] if r['field']=='status']
seq=[(r['new_value'], r['actor']) for r in rows]
assert seq[-4:]==[('active','ann'),('resolved','ann'),('active','bob'),('cancelled','bob')], seq
print('ok: status history', seq)"
echo "ok: cli_resolve"
