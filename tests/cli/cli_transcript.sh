#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of transcript validation and of event ids through the real
# binary. A transcript file with a bad event (no ids, a skipped or unknown
# message reference, two accepts, an unknown type, an event after close, an
# event before accept that needs it) is refused with exit 1 naming the line
# and the event, and writes nothing at all: not the bad conversation's first
# events, not the good conversations before it (the same conversations
# replay cleanly afterwards). A link to a case that does not exist fails at
# run time and takes its conversation's earlier events with it. Event ids
# are scoped to their conversation: "e1" of two conversations are two
# events; an id reused in the same conversation with other content is an
# error, an identical event is an idempotent replay. `wait` is accepted.
# `simulate` refuses the same defects.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_transcript.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_transcript.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/tr.db"

NAME=cli_transcript
# shellcheck source=lib/assert.bash
. "$SRC/tests/cli/lib/assert.bash"

ok init
ok settings import "$EX/settings.json"
ok import contacts "$EX/contacts.jsonl"
ok import products "$EX/products.jsonl"

# Inputs: a good conversation with explicit events (12 messages), and
# variants of it, each with one defect.
python3 - "$EX/conversations.jsonl" "$T" <<'EOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
convs = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
good = [c for c in convs if c.get("events")]
assert good, "examples need a conversation with events"
# Its link names a case of the example database; this test has none.
good[0]["events"] = [e for e in good[0]["events"] if e["type"] != "link"]

def renamed(c, new_id):
    c = json.loads(json.dumps(c))
    old = c["conversation_id"]
    c["conversation_id"] = new_id
    for m in c["messages"]:
        m["id"] = m["id"].replace(old, new_id)
    for e in c["events"]:
        e["id"] = e["id"].replace(old, new_id)
        if "message" in e:
            e["message"] = e["message"].replace(old, new_id)
    return c

def write(name, convs):
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        for c in convs:
            f.write(json.dumps(c) + "\n")

def variant(name, change):
    c = renamed(good[0], "bad-" + name)
    change(c)
    # Line 1 is a good conversation: it must not be written either.
    write(name + ".jsonl", [renamed(good[0], "ok-" + name), c])

def msg_events(c):
    return [e for e in c["events"] if e["type"] == "message"]

def no_ids(c):
    for e in c["events"]:
        del e["id"]
def skipped(c):
    c["events"].remove(msg_events(c)[1])      # m2 never delivered; m3 follows m1
def unknown_ref(c):
    msg_events(c)[2]["message"] = "bad-unknown_ref-m99"
def two_accepts(c):
    k = c["events"].index(next(e for e in c["events"] if e["type"] == "accept"))
    c["events"].insert(k + 2, {"id": "extra-accept", "type": "accept"})
def unknown_type(c):
    next(e for e in c["events"] if e["type"] == "accept")["type"] = "acceptt"
def after_close(c):
    c["events"].append({"id": "late", "type": "update"})
def dup_id(c):
    c["events"][3]["id"] = c["events"][2]["id"]

assert len(good[0]["messages"]) == 12 and len(msg_events(good[0])) == 12
for name, change in [("no_ids", no_ids), ("skipped", skipped), ("unknown_ref", unknown_ref),
                     ("two_accepts", two_accepts), ("unknown_type", unknown_type),
                     ("after_close", after_close), ("dup_id", dup_id)]:
    variant(name, change)
# The fixed files: the same conversations, all good.
write("fixed.jsonl", [renamed(good[0], "bad-no_ids")])
print(len(good[0]["events"]), file=open(f"{out}/fixed.n", "w"))
# A link to a case that does not exist, after three messages and accept.
c = renamed(good[0], "link-404")
k = c["events"].index(next(e for e in c["events"] if e["type"] == "accept"))
c["events"].insert(k + 1, {"id": "link-404-l", "type": "link", "case": "CAS-99999"})
write("link404.jsonl", [c])
# wait (on hold) after accept, then an update: documented and accepted.
c = renamed(good[0], "waits")
k = c["events"].index(next(e for e in c["events"] if e["type"] == "accept"))
c["events"].insert(k + 1, {"id": "waits-hold", "type": "wait", "actor": "rep:alba.ferreira"})
write("wait.jsonl", [c])
EOF
[ -f "$T/fixed.jsonl" ] || fail "could not generate inputs"
BASE=$(state)

# check NAME TEXT...: the file NAME.jsonl is refused naming line 2 and TEXT,
# and nothing of it is written.
check() {
	local name=$1; shift
	run chat replay "$T/$name.jsonl"
	rejected "$name"
	says "$name" "$name.jsonl:2"
	for t in "$@"; do says "$name" "$t"; done
	[ "$(state)" = "$BASE" ] || fail "$name: the database changed: $(state)"
	# Not even the first event of either conversation was kept.
	for c in "ok-$name" "bad-$name"; do
		run chat event "{\"id\":\"probe\",\"type\":\"update\",\"conversation\":\"$c\"}"
		says "$name: conversation $c was written" "does not exist"
	done
	echo "ok: $name refused, nothing written"
}
check no_ids "event 1 (no id)" '"id" is required'
check skipped "bad-skipped-m3" "skips message bad-skipped-m2"
check unknown_ref "bad-unknown_ref-m99" "not in the conversation's messages"
check two_accepts "extra-accept" "second accept"
check unknown_type "acceptt" "bad-unknown_type-e5"
check after_close "late" "after close"
check dup_id "used by an earlier event"

# simulate reads transcripts the same way: an unknown type is an error there
# too, not an "open" that skews the scores.
run simulate "$T/unknown_type.jsonl"
rejected "simulate, unknown type"
says "simulate, unknown type" "did you mean 'accept'?"
echo "ok: simulate refuses the same defects"

# The transcript whose events had no id, fixed: all 12 messages delivered.
ok --json chat replay "$T/fixed.jsonl"
[ "$(j 'd["events"]')" = "$(cat "$T/fixed.n")" ] || fail "fixed transcript: not every event applied: $OUT"
ok --json case list
[ "$(j 'sum(1 for c in d["cases"] if c.get("conversation_id") == "bad-no_ids")')" = 1 ] ||
	fail "fixed transcript: no case for bad-no_ids: $OUT"
echo "ok: the fixed transcript replays"

# A link to a case that does not exist: refused, and the conversation's
# open, messages and accept before it are rolled back with it.
BEFORE=$(state)
run chat replay "$T/link404.jsonl"
rejected "link to an unknown case"
says "link to an unknown case" "CAS-99999"
[ "$(state)" = "$BEFORE" ] || fail "link to an unknown case: the database changed: $(state)"
run chat event '{"id":"probe","type":"update","conversation":"link-404"}'
says "link to an unknown case: the conversation was kept" "does not exist"
echo "ok: a failing link rolls its conversation back"

# wait is a known event type.
ok --json chat replay "$T/wait.jsonl"
echo "ok: wait replays"

# Event ids are per conversation.
ok --json chat event '{"id":"e1","type":"open","conversation":"A"}'
ok --json chat event '{"id":"e1","type":"open","conversation":"B"}'
[ "$(j 'd["replayed"]')" = False ] || fail "e1 of conversation B was taken for e1 of A: $OUT"
[ "$(j 'd["state"]')" = open ] || fail "conversation B did not open: $OUT"
ok --json chat event '{"id":"e2","type":"message","conversation":"A","message":{"id":"m1","role":"customer","text":"my Lumora X2 earbud will not charge"}}'
ok --json chat event '{"id":"e2","type":"message","conversation":"B","message":{"id":"m1","role":"customer","text":"I was charged twice"}}'
[ "$(j 'd["replayed"]')" = False ] || fail "the message of e2 in B was dropped as seen before: $OUT"
# The same id in the same conversation with other content is an error...
run --json chat event '{"id":"e2","type":"message","conversation":"A","message":{"id":"m2","role":"customer","text":"something else"}}'
rejected "id reused with other content"
says "id reused with other content" "e2"
[ "$(j 'd["error"]["code"]')" = CA_EEXIST ] || fail "id reused: not CA_EEXIST: $OUT"
run chat event '{"id":"e1","type":"close","conversation":"B"}'
rejected "id reused with another type"
# ...and the identical event again is a replay that changes nothing.
ok --json chat event '{"id":"e2","type":"message","conversation":"A","message":{"id":"m1","role":"customer","text":"my Lumora X2 earbud will not charge"}}'
[ "$(j 'd["replayed"]')" = True ] || fail "an identical event was not a replay: $OUT"
ok chat event '{"conversation":"A","type":"message","id":"e2","message":{"text":"my Lumora X2 earbud will not charge","role":"customer","id":"m1"}}'
printf '%s\n' "$OUT" | grep -q 'seen before' || fail "the same event with its keys in another order is not a replay: $OUT"
echo "ok: event ids are scoped to their conversation"
echo "ok: cli_transcript"
