#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A representative's day through the CLI: `case create`, `case list` with
# filters over several pages (no case repeated or skipped), `case note`,
# `case notes`, `case reply` (queued in the outbox, threaded, Auto-Submitted
# no), `case emails`, `case update` (update from conversation) leaving a
# person's value alone while a control case without the edit changes,
# `conversation list` and `show`, and `report agent` over a period (times
# fixed with CA_NOW). Errors: unknown case, stale version, bad cursor,
# empty note, reply to a customer without an address, each writing nothing.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_workspace.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_workspace.sh CASEAGENT_BINARY SOURCE_DIR}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
NAME=cli_workspace
export CASEAGENT_DB="$T/work.db"
# shellcheck source=lib/assert.bash
. "$SRC/tests/cli/lib/assert.bash"
jcheck() { [ "$(j "bool($1)")" = True ] || fail "$2 ($1) in: $(printf '%.800s' "$OUT")"; }
# shellcheck source=lib/priority.bash
. "$SRC/tests/cli/lib/priority.bash"

priority_settings "$T/settings.json" '"record_agent_experience": true,
 "email": {"mailboxes": ["support@shop.example"], "case_token": "[{ticket}]",
   "auto_response": {"from": "Shop support <support@shop.example>"}}' '"chat": true, "email": true'
cat >"$T/contacts.jsonl" <<'EOF'
{"id": "C-pvantassel", "full_name": "Priya Vantassel", "email": "priya.vantassel@example.com", "username": "pvantassel"}
{"id": "C-noaddr", "full_name": "Nils Okafor"}
EOF

# Day one (CA_NOW fixes the store's clock): cases by hand.
DAY1=1767261600 # 2026-01-01T10:00:00Z
DAY2=1767348000 # 2026-01-02T10:00:00Z
export CA_NOW=$DAY1
ok init
ok settings import "$T/settings.json"
ok import contacts "$T/contacts.jsonl"

ok --json case create title="Router drops Wi-Fi every hour" customer=C-pvantassel priority=high owner=bob
jcheck 'd["ticket_number"] == "CAS-00001" and d["origin"] == "manual"' "create gives a ticket and origin manual"
jcheck 'd["provenance"]["title"]["source"] == "person"' "a created case's fields are a person's"
ok case create title="No address customer" customer=C-noaddr owner=carol
printf '%s\n' "$OUT" | grep -q 'CAS-00002 created' || fail "human create output: $OUT"
for i in 3 4 5 6 7 8 9; do
	ok case create "title=Invoice question $i" "owner=$([ $((i % 2)) = 1 ] && echo bob || echo carol)"
done
BEFORE=$(state)
run case create priority=mega
rejected "bad option"; says "bad option" "fields.priority"
run case create bogus=1
rejected "unknown field"; says "unknown field" "fields.bogus"
run case create title
[ "$RC" -eq 2 ] || fail "create without FIELD=VALUE exited $RC"
[ "$(state)" = "$BEFORE" ] || fail "a refused create wrote something"
echo "ok: case create"

# Pages: every case once, newest first.
SEEN=""
CURSOR=""
PAGES=0
while :; do
	if [ -n "$CURSOR" ]; then ok --json case list --limit 4 --cursor "$CURSOR"; else ok --json case list --limit 4; fi
	SEEN="$SEEN $(j '" ".join(c["ticket_number"] for c in d["cases"])')"
	CURSOR=$(j 'd["next_cursor"] or ""')
	PAGES=$((PAGES + 1))
	[ -z "$CURSOR" ] && break
	[ "$PAGES" -lt 10 ] || fail "pages never end"
done
WANT=" CAS-00009 CAS-00008 CAS-00007 CAS-00006 CAS-00005 CAS-00004 CAS-00003 CAS-00002 CAS-00001"
[ "$(echo $SEEN)" = "$(echo $WANT)" ] || fail "pages gave '$SEEN', want '$WANT'"
[ "$PAGES" -eq 3 ] || fail "9 cases in pages of 4 took $PAGES pages"
ok --json case list --owner bob --limit 2
jcheck '[c["ticket_number"] for c in d["cases"]] == ["CAS-00009", "CAS-00007"] and d["next_cursor"]' "owner filter, first page"
ok --json case list --owner bob --limit 2 --cursor "$(j 'd["next_cursor"]')"
jcheck '[c["ticket_number"] for c in d["cases"]] == ["CAS-00005", "CAS-00003"]' "owner filter, second page"
ok --json case list --query "router wi-fi"
jcheck '[c["ticket_number"] for c in d["cases"]] == ["CAS-00001"] and d["next_cursor"] is None' "words in the title"
ok --json case list --query CAS-00004
jcheck '[c["ticket_number"] for c in d["cases"]] == ["CAS-00004"]' "the ticket number as words"
ok --json case list --customer C-pvantassel --origin manual --status active
jcheck '[c["ticket_number"] for c in d["cases"]] == ["CAS-00001"]' "customer, origin and status together"
ok --json case list
jcheck 'len(d["cases"]) == 9 and d["next_cursor"] is None' "case list without options: every case, next_cursor null"
ok case list --owner carol
printf '%s\n' "$OUT" | grep -q '^4 cases' || fail "human list with a filter: $OUT"
for bad in zz 636173653a 636173653a2d31 "$(printf 'conversation:x' | od -An -tx1 | tr -d ' \n')"; do
	run case list --cursor "$bad"
	rejected "bad cursor $bad"; says "bad cursor" "cursor"
done
run case list --status active --limit 201
rejected "limit over 200"; says "limit" "limit"
echo "ok: case list pages and filters"

# Notes.
ok --json case note CAS-00001 "Called the customer back; no answer."
jcheck 'd["kind"] == "note" and d["actor"] and d["case"] == "CAS-00001"' "the note as added"
printf 'From standard input\nsecond line\n' >"$T/note.txt"
run_stdin "$T/note.txt" case note CAS-00001 - --actor alice
[ "$RC" -eq 0 ] || fail "note from stdin: $ERR"
ok --json case notes CAS-00001
jcheck 'len(d["notes"]) == 2 and d["notes"][1]["actor"] == "alice" and "second line" in d["notes"][1]["body"]' "notes oldest first"
ok case notes CAS-00001
printf '%s\n' "$OUT" | grep -q 'second line' || fail "human notes: $OUT"
BEFORE=$(state)
run case note CAS-00001 "   "
rejected "empty note"; says "empty note" "body"
run case note CAS-00404 "hello"
rejected "note on an unknown case"; says "unknown case" "CAS-00404"
ok --json case notes CAS-00001
jcheck 'len(d["notes"]) == 2' "refused notes wrote nothing"
echo "ok: case note, case notes"

# Replies.
ok --json case reply CAS-00001 --body "Hello Priya, a new router is on its way." --actor bob
jcheck 'd["to"] == "priya.vantassel@example.com" and d["status"] == "queued" and "[CAS-00001]" in d["subject"]' "reply queued"
printf 'A longer reply\nfrom a file.\n' >"$T/reply.txt"
ok case reply CAS-00001 --body-file "$T/reply.txt" --subject "About your router"
ok --json email outbox
jcheck 'len(d["outbox"]) == 2 and all(m["headers"]["Auto-Submitted"] == "no" for m in d["outbox"])' "replies say Auto-Submitted: no"
jcheck 'd["outbox"][1]["subject"] == "About your router [CAS-00001]" and d["outbox"][1]["body"].startswith("A longer reply")' "subject and body file"
ok --json case emails CAS-00001
jcheck 'len(d["emails"]) == 2 and all(e["status"] == "queued" and e["outbox_id"] for e in d["emails"])' "the case's e-mails list the queued replies"
run case reply CAS-00002 --body "Hello"
rejected "reply without an address"; says "reply without an address" "no e-mail address"
run case reply CAS-00001
[ "$RC" -eq 2 ] || fail "reply without a body exited $RC"
run case reply CAS-00404 --body "x"
rejected "reply to an unknown case"
ok --json email outbox
jcheck 'len(d["outbox"]) == 2' "refused replies queued nothing"
echo "ok: case reply, case emails"

# Update from conversation: a person's edit stays, the control moves.
export CA_NOW=$DAY2
for c in p c; do first_half "$c"; done >"$T/first.jsonl"
run_stdin "$T/first.jsonl" --json chat event -
[ "$RC" -eq 0 ] || fail "first half: $ERR"
CASE_P=$(printf '%s\n' "$OUT" | sed -n 5p | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"] or "")')
CASE_C=$(printf '%s\n' "$OUT" | sed -n 10p | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"] or "")')
[ -n "$CASE_P" ] && [ -n "$CASE_C" ] || fail "accept created no case: $OUT"
ok --json case show "$CASE_P"
[ "$(j 'd["fields"].get("priority")')" != high ] || fail "the agent chose high already; the test needs another start"
ok --json case edit "$CASE_P" priority=high --actor alice
for c in p c; do second_half_messages "$c"; done >"$T/second.jsonl"
run_stdin "$T/second.jsonl" --json chat event -
[ "$RC" -eq 0 ] || fail "second half: $ERR"
ok --json case update "$CASE_C" --actor alice
jcheck 'd["type"] == "update" and d["case"] == "'"$CASE_C"'" and any(c["field"] == "priority" for c in d["changed"])' \
	"control: the update changes priority"
ok --json case update "$CASE_P" --actor alice
jcheck 'd["type"] == "update" and all(c["field"] != "priority" for c in d["changed"])' "the person's priority is not touched"
ok --json case show "$CASE_P"
jcheck 'd["fields"]["priority"] == "high" and d["provenance"]["priority"]["actor"] == "alice"' "priority is still alice's"
ok case update "$CASE_P"
printf '%s\n' "$OUT" | grep -q 'no changes' || fail "a second update says no changes: $OUT"
run case update CAS-00001
rejected "update of a case without conversation"; says "no conversation" "no conversation"
run case update CAS-00404
rejected "update of an unknown case"
run case edit "$CASE_P" priority=low --expect-version 1
rejected "stale version"; says "stale version" "version"
echo "ok: case update leaves a person's value alone"

# Conversations.
ok --json conversation list --limit 1
jcheck 'len(d["conversations"]) == 1 and d["next_cursor"]' "first page of conversations"
FIRST=$(j 'd["conversations"][0]["id"]')
ok --json conversation list --limit 1 --cursor "$(j 'd["next_cursor"]')"
jcheck 'len(d["conversations"]) == 1 and d["conversations"][0]["id"] != "'"$FIRST"'" and d["next_cursor"] is None' "second page"
ok --json conversation list --state active
jcheck 'sorted(c["id"] for c in d["conversations"]) == ["c", "p"] and all(c["accepted_by"] == "alice" for c in d["conversations"])' "state filter, accepted by"
ok --json conversation show p
jcheck 'd["case"] == "'"$CASE_P"'" and len(d["messages"]) == 5 and d["interactions"]' "conversation show"
ok conversation show p
printf '%s\n' "$OUT" | grep -q 'overheating' || fail "human conversation show: $OUT"
run conversation show nope
rejected "unknown conversation"
run conversation list --cursor 636173653a31
rejected "a case cursor for conversations"; says "cursor" "cursor"
echo "ok: conversation list, show"

# The report over a period: day two only has the chat.
ok --json report agent --from 2026-01-02 --to 2026-01-03
jcheck 'd["conversations"] == 2 and d["cases_created"] == 2 and d["fields_filled"] > 0' "day two's agent figures"
jcheck 'd["fields_changed_by_person"] == 1 and d["cases_enriched"] >= 1' "a person changed one of the agent's fields"
ok --json report agent --from 2026-01-01 --to 2026-01-02
jcheck 'd["conversations"] == 0 and d["cases_created"] == 0 and d["fields_filled"] == 0' "day one: nothing by the agent"
ok report agent
printf '%s\n' "$OUT" | grep -q 'conversations seen *2' || fail "human report: $OUT"
run report agent --from yesterday
rejected "bad period"; says "bad period" "from"
echo "ok: report agent"
echo "ok: cli_workspace"
