#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of bad input through the real binary: every kind of broken
# input gets exit status 1, an error that names the record (line, key,
# message, conversation) and the reason, and leaves the database as it was.
# Cases: a malformed JSONL line in a transcript, an unknown settings key, an
# unknown contact id (import and case edit), invalid UTF-8 in a message, a
# 10 MB message, and an event for a conversation that was never opened.
# Inputs are generated with python3 in a scratch directory. Arguments: $1 the
# caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_bad_input.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_bad_input.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/bad.db"

NAME=cli_bad_input
# shellcheck source=lib/assert.bash
. "$SRC/tests/cli/lib/assert.bash"

ok init
ok settings import "$EX/settings.json"
ok import contacts "$EX/contacts.jsonl"
ok import products "$EX/products.jsonl"

# A baseline of one good conversation (without events linking to other cases).
python3 - "$EX/conversations.jsonl" "$T" <<'EOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
convs = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
good = [c for c in convs if not any(e.get("type") == "link" for e in c.get("events", []))]
assert len(good) >= 2, "examples need two conversations without link events"

def renamed(c, new_id):
    c = json.loads(json.dumps(c))
    old = c["conversation_id"]
    c["conversation_id"] = new_id
    for m in c["messages"]:
        m["id"] = m["id"].replace(old, new_id)
    for e in c.get("events", []):
        e["id"] = e["id"].replace(old, new_id)
        if "message" in e:
            e["message"] = e["message"].replace(old, new_id)
    return c

def write(name, lines):
    with open(f"{out}/{name}", "wb") as f:
        for l in lines:
            f.write(l if isinstance(l, bytes) else l.encode("utf-8"))
            f.write(b"\n")

base = good[0]
write("baseline.jsonl", [json.dumps(base)])
# Malformed: line 3 of 4 is cut short; lines 1, 2 and 4 are good.
write("malformed.jsonl", [json.dumps(renamed(good[1], "mal-1")), json.dumps(renamed(good[1], "mal-2")),
                          '{"conversation_id": "mal-3", "channel": "chat", "messages": [',
                          json.dumps(renamed(good[1], "mal-4"))])
# Invalid UTF-8 inside the text of message 2 of the second conversation (line 2).
c = renamed(good[1], "utf-2")
c["messages"][1]["text"] = "@@BAD@@"
write("badutf8.jsonl", [json.dumps(renamed(good[1], "utf-1")),
                        json.dumps(c).encode().replace(b"@@BAD@@", b"caf\xc3 \xff\xfe broken")])
# A 10 MB message (message 2 of the conversation on line 2).
c = renamed(good[1], "big-2")
c["messages"][1]["text"] = "spam " * (2 * 1024 * 1024)
write("big.jsonl", [json.dumps(renamed(good[1], "big-1")), json.dumps(c)])
print(c["messages"][1]["id"], file=open(f"{out}/big.msgid", "w"))
EOF
[ -f "$T/big.jsonl" ] || fail "could not generate inputs"
[ "$(stat -c %s "$T/big.jsonl")" -gt 10000000 ] || fail "big.jsonl is not 10 MB"
ok chat replay "$T/baseline.jsonl"
BASE=$(state)
echo "baseline: $BASE"

# 1. A malformed JSONL line: the error names line 3; nothing is written,
#    not even the good conversations on lines 1 and 2.
run chat replay "$T/malformed.jsonl"
rejected "malformed line"
says "malformed line" "malformed.jsonl:3"
[ "$(state)" = "$BASE" ] || fail "malformed line: the database changed: $(state)"
run --json chat replay "$T/malformed.jsonl"
rejected "malformed line (--json)"
[ "$(j 'd["error"]["code"]')" = CA_EPARSE ] || fail "malformed line: --json error is not CA_EPARSE: $OUT"
echo "ok: malformed JSONL line"

# 2. An unknown settings key: the error names it; the settings stay as they were.
ok settings export
printf '%s\n' "$OUT" >"$T/settings.before"
python3 - "$EX/settings.json" "$T/badkey.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))
s["fields"][1]["colour"] = "blue"
s["default_fields"] = s["default_fields"][:1]   # a change that must not land
json.dump(s, open(sys.argv[2], "w"))
EOF
run settings import "$T/badkey.json"
rejected "unknown settings key"
says "unknown settings key" "colour"
says "unknown settings key" "fields[1]"
ok settings export
[ "$OUT" = "$(cat "$T/settings.before")" ] || fail "unknown settings key: the settings changed"
echo "ok: unknown settings key"

# 3. An unknown contact id: import of cases names the line and the id and
#    imports nothing (line 1 is good); case edit refuses it too.
cat >"$T/cases.jsonl" <<'EOF'
{"customer": "C-pvantassel", "category": "device_fault", "description": "earbud will not charge"}
{"customer": "C-404", "category": "device_fault", "description": "unknown customer"}
EOF
run import cases "$T/cases.jsonl"
rejected "unknown contact id (import)"
says "unknown contact id (import)" "cases.jsonl:2"
says "unknown contact id (import)" "C-404"
[ "$(state)" = "$BASE" ] || fail "unknown contact id: something was imported: $(state)"
ok --json case list
FIRST=$(j 'd["cases"][-1]["ticket_number"]')
run case edit "$FIRST" customer=C-404 --actor alice
rejected "unknown contact id (case edit)"
says "unknown contact id (case edit)" "C-404"
[ "$(state)" = "$BASE" ] || fail "case edit customer=C-404 changed the database: $(state)"
echo "ok: unknown contact id"

# 4. Invalid UTF-8 in a message: named by line; nothing written. Through chat
#    event too: the event is not recorded, so it can be sent again fixed.
run chat replay "$T/badutf8.jsonl"
rejected "invalid UTF-8"
says "invalid UTF-8" "badutf8.jsonl:2"
[ "$(state)" = "$BASE" ] || fail "invalid UTF-8: the database changed: $(state)"
ok chat event '{"id":"u-e1","type":"open","conversation":"u"}'
printf '{"id":"u-e2","type":"message","conversation":"u","message":{"id":"u-m1","role":"customer","text":"caf\xc3 \xff broken"}}\n' >"$T/badutf8.event"
run_stdin "$T/badutf8.event" chat event -
rejected "invalid UTF-8 (chat event)"
says "invalid UTF-8 (chat event)" "stdin line 1"
ok --json chat event '{"id":"u-e2","type":"message","conversation":"u","message":{"id":"u-m1","role":"customer","text":"café fixed"}}'
[ "$(j 'd["replayed"]')" = False ] || fail "the rejected event u-e2 had been recorded: $OUT"
echo "ok: invalid UTF-8"

# 5. A 10 MB message: rejected naming the message and the limit; nothing written.
MSGID=$(cat "$T/big.msgid")
run chat replay "$T/big.jsonl"
rejected "10 MB message"
says "10 MB message" "$MSGID"
printf '%s\n' "$ERR" | grep -qi 'limit' || fail "10 MB message: the error does not state the limit: $ERR"
[ "$(state)" = "$BASE" ] || fail "10 MB message: the database changed: $(state)"
python3 -c 'import json; print(json.dumps({"id": "u-e3", "type": "message", "conversation": "u",
  "message": {"id": "u-m2", "role": "customer", "text": "x" * (10 * 1024 * 1024)}}))' >"$T/big.event"
run_stdin "$T/big.event" chat event -
rejected "10 MB message (chat event)"
says "10 MB message (chat event)" "u-m2"
ok --json chat event '{"id":"u-e3","type":"message","conversation":"u","message":{"id":"u-m2","role":"customer","text":"short now"}}'
[ "$(j 'd["replayed"]')" = False ] || fail "the rejected event u-e3 had been recorded: $OUT"
echo "ok: 10 MB message"

# 6. An event for a conversation that was never opened: named; nothing written.
BEFORE=$(state)
run chat event '{"id":"n-e1","type":"message","conversation":"never-opened","message":{"id":"n-m1","role":"customer","text":"hello"}}'
rejected "unknown conversation"
says "unknown conversation" "never-opened"
run --json chat event '{"id":"n-e2","type":"update","conversation":"never-opened"}'
rejected "unknown conversation (update)"
[ "$(j 'd["error"]["code"]')" != usage ] || fail "unknown conversation reported as usage error"
[ "$(state)" = "$BEFORE" ] || fail "unknown conversation: the database changed"
echo "ok: event for an unknown conversation"

# 7. A missing file is an error naming the file, not a crash.
run chat replay "$T/no-such-file.jsonl"
rejected "missing file"
says "missing file" "no-such-file.jsonl"
echo "ok: cli_bad_input"
