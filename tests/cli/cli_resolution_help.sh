#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Resolution help (issue 12): `case resolution` proposes a case's resolution
# from its thread, extractive: the representative's statements of what was
# done, from the chat and a person's note, each with its source; never the
# customer's words, a "let me check" or a question; it writes nothing; a
# case whose thread states nothing gets null; an unknown case is an error.
set -uo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
NAME=cli_resolution_help
source "$SRC/tests/cli/lib/assert.bash"
ca() { "$BIN" --db "$T/t.db" "$@" || fail "caseagent $* exited $?"; }
ca init >/dev/null
ca settings import "$SRC/examples/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import products "$SRC/examples/products.jsonl" >/dev/null
ev() { ca chat event "$1" >/dev/null; }
msg() { ev "{\"id\":\"e-$2\",\"type\":\"message\",\"conversation\":\"$1\",\"message\":{\"id\":\"$2\",\"role\":\"$3\",\"text\":\"$4\"}}"; }
ev '{"id":"e1","type":"open","conversation":"c1"}'
msg c1 m1 customer "Hi, my card statement shows two payments for order BW-522103. Could you refund one of them please? I am Hugo Morcombe, hugo.m@example.net"
ev '{"id":"e2","type":"accept","conversation":"c1","actor":"ann"}'
msg c1 m2 agent "Thanks Hugo. Let me check the payments on that order."
msg c1 m3 agent "I have refunded the duplicate payment of 49.99 to your card. Is there anything else I can help with?"
msg c1 m4 customer "Great, thank you!"
ca case note CAS-00001 "I have credited 5.00 to the account as a goodwill gesture for the trouble." --actor ann >/dev/null
"$BIN" --db "$T/t.db" --json case show CAS-00001 > "$T/before.json"

ok --db "$T/t.db" --json case resolution CAS-00001
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["case"] == "CAS-00001", d
res = d["resolution"]
assert res and "refunded the duplicate payment of 49.99" in res, d
assert "credited 5.00" in res, d
for bad in ("Let me check", "anything else", "thank you", "two payments"):
    assert bad not in res, (bad, res)
assert 0 < d["confidence"] <= 1, d
src = {(e["source"], str(e["id"])) for e in d["evidence"]}
assert ("message", "m3") in src, d["evidence"]
assert any(s == "note" for s, _ in src), d["evidence"]
for e in d["evidence"]:
    assert e["text"] and e["text"] in (res + " ") or e["text"].split(",")[0] in res, e
print("ok: proposed", repr(res), "from", sorted(src))'
ok --db "$T/t.db" case resolution CAS-00001
printf '%s\n' "$OUT" | grep -q "proposed resolution (confidence" || fail "no human output: $OUT"
printf '%s\n' "$OUT" | grep -q "from message m3: I have refunded" || fail "no evidence line: $OUT"
"$BIN" --db "$T/t.db" --json case show CAS-00001 > "$T/after.json"
cmp -s "$T/before.json" "$T/after.json" || fail "case resolution changed the case"

# a thread with only a question and a deferral proposes nothing
ev '{"id":"e1","type":"open","conversation":"c2"}'
msg c2 n1 customer "My parcel for order BW-522104 has not arrived, where is it? I am Hugo Morcombe, hugo.m@example.net"
ev '{"id":"e2","type":"accept","conversation":"c2","actor":"ann"}'
msg c2 n2 agent "Let me check with the courier. Could you confirm your address?"
ok --db "$T/t.db" --json case resolution CAS-00002
[ "$(j 'd["resolution"] is None and d["evidence"] == [] and d["confidence"] == 0')" = True ] || fail "CAS-00002: $OUT"
ok --db "$T/t.db" case resolution CAS-00002
printf '%s\n' "$OUT" | grep -q "states no resolution" || fail "CAS-00002 human output: $OUT"

run --db "$T/t.db" case resolution CAS-09999
rejected "an unknown case"
says "an unknown case" "CAS-09999"
ok case resolution --help
printf '%s\n' "$OUT" | grep -q "Resolution help" || fail "--help: $OUT"
echo "ok: $NAME"
