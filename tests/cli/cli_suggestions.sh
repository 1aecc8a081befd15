#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A value predicted below its field's threshold is not written, but it is
# reported, with its confidence, threshold and evidence, as a suggestion: in
# the event's result and in `case show` (docs/settings.md, "Thresholds").
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ca() { "$BIN" --db "$T/t.db" "$@"; }
ca init >/dev/null
ca settings import "$SRC/examples/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import products "$SRC/examples/products.jsonl" >/dev/null
ca chat event '{"id":"e1","type":"open","conversation":"c1"}' >/dev/null
# "speaker" alone is a word of one product's name: too little to write it
ca chat event '{"id":"e2","type":"message","conversation":"c1","message":{"id":"m1","role":"customer","text":"My speaker is broken, it will not turn on."}}' >/dev/null
ca chat event '{"id":"e3","type":"message","conversation":"c1","message":{"id":"m2","role":"customer","text":"I am Priya Vantassel, priya.vantassel@example.com"}}' >/dev/null
ca --json chat event '{"id":"e4","type":"accept","conversation":"c1"}' > "$T/accept.json"
ca --json case show CAS-00001 > "$T/show.json"
ca case show CAS-00001 > "$T/show.txt"
python3 - "$T/accept.json" "$T/show.json" <<'PY'
import json, sys
ev, case = (json.load(open(p)) for p in sys.argv[1:])
assert ev.get("created") is True, ev
sug = {s["field"]: s for s in ev.get("suggestions", [])}
assert "product" in sug, ev
p = sug["product"]
assert p["value"] == "P-orbit-mini-speaker" and p["confidence"] < p["threshold"] == 0.5, p
assert p["evidence"] and p["evidence"][0]["message"] == "m1" and p["method"], p
assert "product" not in case["fields"], case["fields"]  # a suggestion, not written
cs = {s["field"]: s for s in case.get("suggestions", [])}
assert cs.get("product", {}).get("value") == "P-orbit-mini-speaker", case.get("suggestions")
assert cs["product"]["evidence"][0]["message"] == "m1"
print("ok: product suggested at %.2f (threshold %.2f), not written" % (p["confidence"], p["threshold"]))
PY
grep -q "suggestions (below the field's threshold, not written)" "$T/show.txt" || { echo "FAIL: case show lists no suggestion"; cat "$T/show.txt"; exit 1; }
grep -q "Orbit Mini Smart Speaker" "$T/show.txt"
ca chat event '{"id":"e5","type":"update","conversation":"c1"}' | grep -q "suggested, not written product=P-orbit-mini-speaker" ||
	{ echo "FAIL: the event line names no suggestion"; exit 1; }
echo "ok: cli_suggestions"
