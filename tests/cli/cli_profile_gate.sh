#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of the agent experience profile gate (issue 10): the same
# conversation (the first of examples/conversations.jsonl), accepted by
#  - a representative whose profile has autonomous case creation off: no
#    case on accept, update, wrap-up or close, "missing" empty, and each
#    result saying why in "autonomous"; the interaction log says so too;
#  - a representative with the Default profile: the case is created on accept;
#  - an actor who is not a user ("rep:someone"): as before users existed;
#  - after the first representative's profile is switched back on: the
#    next update creates the case.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_profile_gate.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_profile_gate.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
NAME=cli_profile_gate
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/gate.db"
# shellcheck source=lib/assert.bash
. "$SRC/tests/cli/lib/assert.bash"

ok init
ok settings import "$EX/settings.json"
ok import contacts "$EX/contacts.jsonl"
ok import products "$EX/products.jsonl"
printf '{"description": "cases by hand", "autonomous_case": false, "autonomous_followup": true}' >"$T/assisted.json"
ok profile put Assisted "$T/assisted.json"
ok user add alba --role "Customer Service Representative" --profile Assisted
ok user add tomas --role "Customer Service Representative"

# events CONVERSATION ACTOR: the first example conversation as chat events,
# accepted by ACTOR after every message, then update, wrap-up and close.
events() {
	python3 - "$EX/conversations.jsonl" "$1" "$2" <<'PY'
import json, sys
t = json.loads(open(sys.argv[1]).readline())
conv, actor = sys.argv[2], sys.argv[3]
ev = [{"id": "open", "type": "open", "conversation": conv}]
for m in t["messages"]:
    ev.append({"id": "m-" + m["id"], "type": "message", "conversation": conv,
               "message": {"id": conv + "-" + m["id"], "role": m["role"], "text": m["text"]}})
ev.append({"id": "accept", "type": "accept", "conversation": conv, "actor": actor})
ev.append({"id": "update", "type": "update", "conversation": conv})
ev.append({"id": "wrapup", "type": "wrapup", "conversation": conv})
ev.append({"id": "close", "type": "close", "conversation": conv})
for e in ev:
    print(json.dumps(e))
PY
}
# results FILE: the lifecycle events' results (no open or message) as a Python list.
lifecycle() { grep -v '"type":"\(open\|message\)"' "$1"; }

events off alba >"$T/off.jsonl"
run_stdin "$T/off.jsonl" --json chat event -
[ "$RC" -eq 0 ] || fail "events of the gated conversation: $ERR"
printf '%s\n' "$OUT" >"$T/off.out"
[ "$(lifecycle "$T/off.out" | wc -l)" -eq 4 ] || fail "expected 4 lifecycle results: $OUT"
lifecycle "$T/off.out" | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    assert d["case"] is None and d["created"] is False, d
    assert d["missing"] == [] and d["changed"] == [], d
    a = d["autonomous"]
    assert a["enabled"] is False, d
    assert a["reason"] == "agent experience profile '"'"'Assisted'"'"' of '"'"'alba'"'"' has autonomous case creation off", a
' || fail "the gated conversation's results: $(lifecycle "$T/off.out")"
ok --json case list
[ "$(j 'len(d["cases"])')" = 0 ] || fail "a case was created for alba's conversation: $OUT"
ok --json interactions --conversation off
[ "$(j 'sorted(set(i["outcome"] for i in d["interactions"]))')" = "['off_by_profile']" ] \
	|| fail "interaction log of the gated conversation: $OUT"
echo "ok: profile without autonomous case creation: no case, and the result says why"

events on tomas >"$T/on.jsonl"
run_stdin "$T/on.jsonl" --json chat event -
[ "$RC" -eq 0 ] || fail "events of the Default conversation: $ERR"
printf '%s\n' "$OUT" >"$T/on.out"
ACCEPT=$(grep '"type":"accept"' "$T/on.out")
OUT=$ACCEPT
[ "$(j 'd["created"] and d["case"] == "CAS-00001" and "autonomous" not in d')" = True ] \
	|| fail "Default profile: no case on accept: $ACCEPT"
echo "ok: Default profile: the case is created on accept"

events other "rep:someone" >"$T/other.jsonl"
run_stdin "$T/other.jsonl" --json chat event -
OUT=$(grep '"type":"accept"' <<<"$OUT")
[ "$(j 'd["created"] and "autonomous" not in d')" = True ] || fail "an actor who is not a user: $OUT"
echo "ok: an acceptor who is not a user changes nothing"

# The replay of a gated event answers as the first time.
run_stdin "$T/off.jsonl" --json chat event -
OUT=$(grep '"type":"accept"' <<<"$OUT")
[ "$(j 'd["replayed"] and d["autonomous"]["enabled"] is False')" = True ] || fail "replayed gated accept: $OUT"

# Switched back on, the next update of a still open conversation creates its case.
events again alba | grep -v '"type": "\(wrapup\|close\)"' | grep -v '"id": "update"' >"$T/again.jsonl"
run_stdin "$T/again.jsonl" --json chat event -
OUT=$(grep '"type":"accept"' <<<"$OUT")
[ "$(j 'd["case"] is None and d["autonomous"]["enabled"] is False')" = True ] || fail "gated accept: $OUT"
printf '{"description": "cases by hand", "autonomous_case": true, "autonomous_followup": true}' >"$T/on.json"
ok profile put Assisted "$T/on.json"
ok --json chat event '{"id":"update","type":"update","conversation":"again"}'
[ "$(j 'd["created"] and "autonomous" not in d')" = True ] || fail "update after the profile was switched on: $OUT"
echo "ok: the profile switched back on: the next update creates the case"
