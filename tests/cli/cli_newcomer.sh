#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a newcomer tripped on, through the real binary: `settings import`
# names the blocks it loaded (and those left to defaults); `case show` names
# a message once in a field's evidence however many spans it holds there;
# the `wait` event puts a chat on hold and the next update takes it back;
# a query that starts with '-' is searched after `--`. Arguments: $1 the
# caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_newcomer.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_newcomer.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/new.db"
fail() { echo "FAIL (cli_newcomer): $*" >&2; exit 1; }
run() { OUT=$("$BIN" "$@" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
ok() { run "$@"; [ "$RC" -eq 0 ] || fail "caseagent $* exited $RC: $ERR"; }
j() { printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1"; }

ok init
# settings import: the blocks loaded, by name.
ok settings import "$EX/settings.json"
for b in "channels (chat, email)" "fields (6)" "update_rules (2)" email "arc_rules (2)" knowledge; do
	printf '%s\n' "$OUT" | grep '^  loaded:' | grep -qF -- "$b" ||
		fail "settings import does not name '$b' as loaded: $OUT"
done
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); [s.pop(k) for k in ("email","arc_rules","knowledge")]; json.dump(s, open(sys.argv[2],"w"))' \
	"$EX/settings.json" "$T/chat-only.json"
ok --json settings import "$T/chat-only.json"
[ "$(j 'sorted(d["defaults"])')" = "['arc_rules', 'email', 'knowledge']" ] || fail "defaults not named: $OUT"
ok settings import "$T/chat-only.json"
printf '%s\n' "$OUT" | grep -q 'defaults: email, arc_rules, knowledge' || fail "text: defaults not named: $OUT"
ok settings import "$EX/settings.json"
echo "ok: settings import names its blocks"

ok import contacts "$EX/contacts.jsonl"
ok import products "$EX/products.jsonl"
# A description drawn from two sentences of one message: the message once.
ok chat event '{"id":"e1","type":"open","conversation":"d"}'
ok chat event '{"id":"e2","type":"message","conversation":"d","message":{"id":"d-m1","role":"customer","text":"Hi, I am Priya Vantassel, priya.vantassel@example.com. My Lumora X2 earbuds will not charge. The left earbud is broken and the case light stays off. I was charged twice too."}}'
ok --json chat event '{"id":"e3","type":"accept","conversation":"d"}'
TICKET=$(j 'd["case"]')
ok --json case show "$TICKET"
[ "$(j 'max(len(p["evidence"]) for p in d["provenance"].values())')" -ge 2 ] ||
	fail "no field has two evidence spans; the test needs one: $OUT"
ok case show "$TICKET"
printf '%s\n' "$OUT" | grep -q 'd-m1, d-m1' && fail "case show lists a message twice in the evidence: $OUT"
printf '%s\n' "$OUT" | grep -q 'd-m1' || fail "case show lists no evidence: $OUT"
echo "ok: evidence names each message once"

# wait: on hold, then back to active on update.
ok --json chat event '{"id":"e4","type":"wait","conversation":"d","actor":"rep:alba"}'
[ "$(j 'd["state"]')" = waiting ] || fail "wait did not put the chat on hold: $OUT"
ok --json chat event '{"id":"e5","type":"update","conversation":"d"}'
[ "$(j 'd["state"]')" = active ] || fail "update after wait did not make the chat active: $OUT"
echo "ok: wait"

# A query starting with '-', after "--".
ok knowledge search -- "-charged twice"
printf '%s\n' "$OUT" | grep -qF 'for "-charged twice"' || fail "the query was not searched as written: $OUT"
ok -- knowledge search "-charged twice"
printf '%s\n' "$OUT" | grep -qF 'for "-charged twice"' || fail "-- before the command: the query was not searched: $OUT"
echo "ok: cli_newcomer"
