#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The follow-up agent over days of simulated time (CA_NOW and --now are the
# one clock): three follow-ups 48 h apart and then an autonomous resolution;
# a favourable reply after the second stops the sequence; a negative reply
# hands the case to a person with a draft; an out-of-office reply does not
# count; confirm queues nothing until a person accepts; shadow changes
# nothing but its own table (a full SQL dump compared); an owner whose
# profile lacks the feature, or no owner, is left alone; two runs at once
# and a run killed with SIGKILL never queue a step twice. Customer replies
# come in through `email ingest` of .eml files, threaded by the case token
# and In-Reply-To. Arguments: the caseagent binary, the source directory.
set -uo pipefail
BIN=$1; SRC=$2; NAME=cli_followup
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
. "$SRC/tests/cli/lib/assert.bash"
export CASEAGENT_DB="$T/t.db"
T0=1767225600 # 2026-01-01T00:00:00Z
H=3600

# at HOURS: CA_NOW at T0 + HOURS.
at() { export CA_NOW=$((T0 + $1 * H)); }
# sq SQL: one value from the database.
sq() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$CASEAGENT_DB" "$1"; }
followups() { sq "SELECT COUNT(*) FROM outbox WHERE case_id = ${1:-1} AND headers LIKE '%auto-generated%'"; }

# setup LEVEL [AFTER_LAST] [OWNER]: a fresh database, the examples, a rule
# "waiting for customer" at LEVEL, user ann (Default profile: follow-up on),
# and case CAS-00001 from Priya's e-mail, owned by OWNER (default ann),
# waiting for the customer since T0.
setup() {
	local level=$1 after=${2:-resolve} owner=${3-ann}
	rm -f "$T"/t.db*
	python3 - "$SRC/examples/settings.json" "$T/s.json" "$level" "$after" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["followup"] = {"interval_minutes": 15, "rules": [
    {"name": "waiting for customer", "trigger": {"status_reason": "waiting_for_customer"},
     "followups": 3, "wait": {"hours": 48}, "level": sys.argv[3], "after_last": sys.argv[4]}]}
json.dump(s, open(sys.argv[2], "w"))
EOF
	at 0
	ok init
	ok settings import "$T/s.json"
	ok import contacts "$SRC/examples/contacts.jsonl"
	ok user add ann --role "Customer Service Representative"
	mail m1.eml "Priya Vantassel <priya.vantassel@example.com>" "My earbuds do not charge" m1@example.com <<<"My earbuds will not charge since yesterday. Order BW-123456."
	ok --json email ingest "$T/m1.eml"
	[ "$(j 'd["emails_detail"][0]["case"]')" = CAS-00001 ] || fail "setup: no case from the e-mail: $OUT"
	if [ -n "$owner" ]; then ok case edit CAS-00001 owner="$owner" status_reason=waiting_for_customer --actor ann
	else ok case edit CAS-00001 status_reason=waiting_for_customer --actor ann; fi
}
# reply FILE MID TEXT [HEADER...]: the customer answers the case at the
# current CA_NOW, threaded by the token and In-Reply-To.
reply() {
	local f=$1 mid=$2 text=$3; shift 3
	mail "$f" "Priya Vantassel <priya.vantassel@example.com>" "Re: Following up: My earbuds do not charge [CAS-00001]" "$mid" \
		"In-Reply-To: <m1@example.com>" "$@" <<<"$text"
	ok --json email ingest "$T/$f"
}
tick() { at "$1"; ok --json followup run --now "$(date -u -d "@$CA_NOW" +%Y-%m-%dT%H:%M:%SZ)"; }
decision() { j '",".join(x["decision"] for x in d["decisions"])'; }
mail() {
	local f=$1 from=$2 subject=$3 mid=$4; shift 4
	{ printf 'From: %s\r\nTo: Support <support@brightwave.example>\r\nSubject: %s\r\nDate: %s\r\n' "$from" "$subject" "$(date -u -R -d "@$CA_NOW")"
	  printf 'Message-ID: <%s>\r\n' "$mid"
	  for h in "$@"; do printf '%s\r\n' "$h"; done
	  printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'; cat; } > "$T/$f"
}

# ---- 1. three follow-ups 48 h apart, then the agent resolves ----
setup full
tick 47; [ "$(j 'd["counts"].get("wait")')" = 1 ] && [ "$(followups)" = 0 ] || fail "a follow-up before the wait: $OUT"
tick 48; [ "$(decision)" = send_followup ] || fail "no follow-up 1 at 48 h: $OUT"
tick 48; [ "$(decision)" = "" ] && [ "$(followups)" = 1 ] || fail "follow-up 1 queued twice: $OUT"
tick 95; [ "$(followups)" = 1 ] || fail "follow-up 2 before its wait"
tick 96; [ "$(j 'd["decisions"][0]["step"]')" = 2 ] || fail "no follow-up 2 at 96 h: $OUT"
tick 144; [ "$(j 'd["decisions"][0]["step"]')" = 3 ] || fail "no follow-up 3 at 144 h: $OUT"
tick 191; [ "$(decision)" = "" ] || fail "resolved before the last wait: $OUT"
tick 192; [ "$(decision)" = resolve ] || fail "not resolved 48 h after the last follow-up: $OUT"
[ "$(followups)" = 3 ] || fail "expected 3 follow-ups, found $(followups)"
ok --json case show CAS-00001
[ "$(j 'd["fields"]["status"] + " " + d["fields"]["status_reason"]')" = "resolved no_response_from_customer" ] || fail "case not resolved by the agent: $OUT"
[ "$(j 'any(n["kind"]=="resolution" and "did not answer 3 follow-ups" in n["body"] for n in d["notes"])')" = True ] || fail "no generated resolution: $OUT"
# threading, the header and the visible note
[ "$(sq "SELECT COUNT(*) FROM outbox WHERE case_id = 1 AND headers LIKE '%auto-generated%' AND headers LIKE '%In-Reply-To%m1@example.com%' AND subject LIKE '%[CAS-00001]%' AND body LIKE '%written and sent by the caseagent follow-up agent (AI)%'")" = 3 ] \
	|| fail "follow-ups are not threaded and marked: $(sq "SELECT headers || ' ' || subject FROM outbox WHERE case_id = 1 ORDER BY id DESC")"
ok --json interactions
[ "$(j 'sorted(x["outcome"] for x in d["interactions"] if x["action"]=="followup")')" = "['resolve', 'send_followup', 'send_followup', 'send_followup']" ] || fail "interaction log: $OUT"
[ "$(j 'all(x["detail"]["rule"]=="waiting for customer" and x["detail"]["reason"] for x in d["interactions"] if x["action"]=="followup")')" = True ] || fail "interaction detail lacks rule or reason"
ok --json audit CAS-00001
[ "$(j '[r["new_value"] for r in d["audit"] if r["field"]=="followup"]')" = "['send_followup', 'send_followup', 'send_followup', 'resolve']" ] || fail "audit: $OUT"
tick 400; [ "$(j 'd["cases"]')" = 0 ] || fail "a resolved case was looked at again: $OUT"
ok --json report agent
[ "$(j '(d["followups_sent"], d["cases_resolved_by_agent"], d["cases_handed_to_person"], d["reopened_after_agent_resolution"])')" = "(3, 1, 0, 0)" ] || fail "report: $OUT"
# the customer writes into it within the resolved-case window (24 h)
at 200; reply r9.eml r9@example.com "Why was my case closed? It still does not charge."
ok --json report agent
[ "$(j 'd["reopened_after_agent_resolution"]')" = 1 ] || fail "a reply after the agent's resolution not counted: $OUT"
echo "ok: three follow-ups 48 h apart, then resolved"

# ---- 2. a favourable reply after the second follow-up stops it ----
setup full
tick 48; tick 96
at 100; reply r1.eml r1@example.com "Thanks, it works now after the firmware update. Problem solved!"
tick 101; [ "$(decision)" = stop ] || fail "a favourable reply did not stop the sequence: $OUT"
[ "$(j 'd["decisions"][0]["intent"]')" = resolved ] || fail "intent: $OUT"
tick 144; tick 200
[ "$(followups)" = 2 ] || fail "follow-up 3 was sent after the customer's favourable reply"
ok --json case show CAS-00001
[ "$(j 'd["fields"]["status"] + " " + d["fields"]["status_reason"]')" = "resolved confirmed_by_customer" ] || fail "not resolved on the favourable reply: $OUT"
echo "ok: a favourable reply stops the follow-ups"

# ---- 3. a negative reply hands the case to a person with a draft ----
setup full
tick 48
at 60; reply r2.eml r2@example.com "It still does not work. The earbuds are still dead after the reset and the case light does not come on."
tick 61; [ "$(decision)" = hand_to_person ] || fail "a negative reply was not handed to a person: $OUT"
ok --json case suggestion CAS-00001
[ "$(j 'd["suggestion"]["proposed"]')" = draft_reply ] || fail "no draft reply: $OUT"
[ "$(j 'd["suggestion"]["intent"] in ("still_problem","unclear") and "still does not work" in d["suggestion"]["reply_summary"] and bool(d["suggestion"]["email"]["body"])')" = True ] || fail "suggestion: $OUT"
tick 200; [ "$(followups)" = 1 ] || fail "follow-ups went on after the case was handed to a person"
ok --json case show CAS-00001; [ "$(j 'd["fields"]["status"]')" = active ] || fail "the case changed status"
ok --json report agent
[ "$(j '(d["cases_handed_to_person"], sum(d["replies_by_intent"].values()))')" = "(1, 1)" ] || fail "report after a hand-over: $OUT"
echo "ok: a negative reply goes to a person with a draft"

# ---- 4. an out-of-office reply is not an answer ----
setup full
tick 48
at 50; reply r3.eml r3@example.com "I am out of the office until 12 January with limited access to e-mail." "Auto-Submitted: auto-replied"
at 52; mail r4.eml "Priya Vantassel <priya.vantassel@example.com>" "Automatic reply: Out of Office [CAS-00001]" r4@example.com "In-Reply-To: <m1@example.com>" <<<"Thank you for your message. I am away and will reply when I return."
ok email ingest "$T/r4.eml"
tick 96; [ "$(decision)" = send_followup ] || fail "an out-of-office reply stopped the follow-ups: $OUT"
[ "$(followups)" = 2 ] || fail "expected follow-up 2 after the out-of-office reply"
echo "ok: an out-of-office reply does not count"

# ---- 5. confirm: nothing is queued until a person accepts ----
setup confirm
before=$(sq "SELECT COUNT(*) FROM outbox")
tick 48; [ "$(decision)" = send_followup ] || fail "confirm: no suggestion: $OUT"
tick 49; tick 90
[ "$(sq "SELECT COUNT(*) FROM outbox")" = "$before" ] || fail "confirm queued an e-mail by itself"
[ "$(sq "SELECT COUNT(*) FROM case_suggestion")" = 1 ] || fail "confirm suggested twice"
ok --json case suggestion CAS-00001
sid=$(j 'd["suggestion"]["id"]')
[ "$(j 'd["suggestion"]["proposed"]')" = send_followup ] || fail "suggestion: $OUT"
run case suggestion CAS-00001 act "$sid" launch; [ "$RC" = 2 ] || fail "a bad action was accepted"
at 91; ok --json case suggestion CAS-00001 act "$sid" send --body "Hello Priya, did the reset help? Ann" --actor ann
[ "$(j 'd["outbox"] is not None and d["action"]=="send"')" = True ] || fail "send: $OUT"
[ "$(sq "SELECT COUNT(*) FROM outbox")" = $((before + 1)) ] || fail "send queued no e-mail"
[ "$(sq "SELECT actor || ' ' || body FROM outbox ORDER BY id DESC LIMIT 1")" = "ann Hello Priya, did the reset help? Ann" ] || fail "the edited e-mail was not queued as ann's"
run case suggestion CAS-00001 act "$sid" send; rejected "a second send"; says "a second send" "pending"
ok --json case suggestion CAS-00001; [ "$(j 'd["suggestion"]')" = None ] || fail "the suggestion is still shown: $OUT"
tick 138; [ "$(decision)" = "" ] || fail "follow-up 2 before 48 h after the person's send: $OUT"
tick 139; [ "$(j 'd["decisions"][0]["step"]')" = 2 ] || fail "no suggestion of follow-up 2: $OUT"
ok --json case suggestion CAS-00001; sid=$(j 'd["suggestion"]["id"]')
ok --json case suggestion CAS-00001 act "$sid" dismiss --actor ann
tick 300; [ "$(decision)" = "" ] || fail "suggested again after a person dismissed: $OUT"
echo "ok: confirm waits for a person (send, dismiss)"

# ---- 5b. a representative's own e-mail counts as the first follow-up ----
setup full
at 10; ok case reply CAS-00001 --body "Could you send us a photo of the charging case's light?" --actor ann
tick 57; [ "$(decision)" = "" ] || fail "a follow-up before 48 h after the representative's e-mail: $OUT"
tick 58; [ "$(j '(d["decisions"][0]["decision"], d["decisions"][0]["step"])')" = "('send_followup', 2)" ] || fail "the representative's e-mail did not count as follow-up 1: $OUT"
[ "$(j '"reminder 2 of 3" in d["decisions"][0]["email"]["body"]')" = True ] || fail "template step: $OUT"
tick 106; tick 154
[ "$(j 'd["decisions"][0]["decision"]')" = resolve ] || fail "not resolved after the representative's e-mail and two follow-ups: $OUT"
[ "$(followups)" = 2 ] || fail "expected 2 follow-ups after the representative's e-mail"
echo "ok: a representative's unanswered e-mail is the first follow-up"

# ---- 5c. confirm: the customer writes before anyone answers the suggestion ----
setup confirm
tick 48; [ "$(decision)" = send_followup ] || fail "no suggestion: $OUT"
at 50; reply r5.eml r5@example.com "Sorry for the delay: the order number is BW-654321 and I bought it in March. Can you check?"
ok --json case suggestion CAS-00001; [ "$(j 'd["suggestion"]')" = None ] || fail "the suggestion stands after the customer wrote: $OUT"
tick 51; [ "$(decision)" = hand_to_person ] || fail "the customer's message was not read: $OUT"
[ "$(sq "SELECT group_concat(proposed || ':' || state, ' ') FROM case_suggestion ORDER BY id")" = "send_followup:superseded draft_reply:pending" ] \
	|| fail "suggestions: $(sq "SELECT group_concat(proposed || ':' || state, ' ') FROM case_suggestion")"
echo "ok: a suggestion is superseded when the customer writes"

# ---- 6. shadow changes nothing but its own table ----
setup shadow
dump() { python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for line in c.iterdump():
    if "followup_shadow" not in line:
        print(line)' "$CASEAGENT_DB"; }
dump > "$T/before.sql"
tick 48; [ "$(decision)" = send_followup ] || fail "shadow decided nothing: $OUT"
tick 60; tick 100
at 101; dump > "$T/after.sql"
cmp -s "$T/before.sql" "$T/after.sql" || { diff "$T/before.sql" "$T/after.sql" | head -20; fail "shadow changed the database"; }
ok --json followup shadow --rule "waiting for customer"
[ "$(j 'len(d["decisions"])')" = 1 ] || fail "shadow recorded the same decision more than once: $OUT"
[ "$(j 'd["decisions"][0]["decision"] == "send_followup" and "[CAS-00001]" in d["decisions"][0]["email"]["subject"]')" = True ] || fail "shadow log: $OUT"
echo "ok: shadow records and changes nothing else"

# ---- 7. owners without the feature, and cases without an owner ----
setup full resolve ""
printf '{"description": "chat only", "autonomous_case": true, "autonomous_followup": false}' > "$T/p.json"
ok profile put ChatOnly "$T/p.json"
ok user add bob --role "Customer Service Representative" --profile ChatOnly
at 100; ok --json followup simulate
[ "$(j 'd["decisions"][0]["decision"]')" = left_alone ] && [ "$(j '"no owner" in d["decisions"][0]["reason"]')" = True ] || fail "no owner: $OUT"
ok case edit CAS-00001 owner=bob --actor ann
ok --json followup simulate
[ "$(j 'd["decisions"][0]["decision"]')" = left_alone ] && [ "$(j '"profile does not enable" in d["decisions"][0]["reason"]')" = True ] || fail "profile: $OUT"
tick 300; [ "$(followups)" = 0 ] && [ "$(j 'd["counts"]["left_alone"]')" = 1 ] || fail "a case of bob's was followed up: $OUT"
echo "ok: left alone without the feature"

# ---- 8. two runs at once, and a run killed mid-tick: a step once ----
setup full
N=1000
for i in $(seq 2 $N); do
	printf '{"fields": {"title": "Case %d", "customer": "C-pvantassel", "status": "active", "status_reason": "waiting_for_customer", "owner": "ann"}}\n' "$i"
done > "$T/cases.jsonl"
ok import cases "$T/cases.jsonl"
at 48
"$BIN" --json followup run > "$T/run1.json" 2>&1 &
p1=$!
"$BIN" --json followup run > "$T/run2.json" 2>&1 &
p2=$!
wait $p1 || fail "run 1 failed: $(cat "$T/run1.json")"
wait $p2 || fail "run 2 failed: $(cat "$T/run2.json")"
[ "$(sq "SELECT COUNT(*) FROM (SELECT case_id FROM outbox WHERE headers LIKE '%auto-generated%' GROUP BY case_id HAVING COUNT(*) > 1)")" = 0 ] || fail "two runs queued a follow-up twice"
[ "$(sq "SELECT COUNT(DISTINCT case_id) FROM outbox WHERE headers LIKE '%auto-generated%'")" = $N ] || fail "not every case got follow-up 1"
at 96
"$BIN" followup run > /dev/null 2>&1 &
p=$!
# kill it once it has queued some of the second follow-ups, not all
for _ in $(seq 200); do
	[ "$(sq "SELECT COUNT(*) FROM followup_step")" -gt $((N + 5)) ] && break
	sleep 0.01
done
kill -9 $p 2>/dev/null; wait $p 2>/dev/null
mid=$(sq "SELECT COUNT(*) FROM outbox WHERE headers LIKE '%auto-generated%'")
ok --json followup run
"$BIN" followup run >/dev/null || fail "third run"
[ "$(sq "SELECT COUNT(*) FROM (SELECT case_id FROM outbox WHERE headers LIKE '%auto-generated%' GROUP BY case_id HAVING COUNT(*) <> 2)")" = 0 ] || fail "after kill -9 a case has other than 2 follow-ups"
[ "$(sq "SELECT COUNT(*) FROM followup_step s WHERE decision = 'send_followup' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = s.outbox_id)")" = 0 ] || fail "a step without its outbox message"
[ "$(sq "SELECT COUNT(*) FROM outbox o WHERE headers LIKE '%auto-generated%' AND NOT EXISTS (SELECT 1 FROM followup_step s WHERE s.outbox_id = o.id)")" = 0 ] || fail "an outbox message without its step"
echo "ok: concurrent and killed runs queue each step once ($mid of $((2 * N)) queued when killed)"

# ---- 9. serve's background worker runs the tick and logs it ----
setup full
at 49
"$BIN" serve --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" &
sp=$!
for _ in $(seq 100); do grep -q '"task":"followup"' "$T/serve.err" && break; sleep 0.1; done
kill -TERM $sp; wait $sp || fail "serve did not stop cleanly: $(tail -3 "$T/serve.err")"
line=$(grep '"task":"followup"' "$T/serve.err" | head -1)
[ -n "$line" ] || fail "serve's worker logged no follow-up tick: $(tail -5 "$T/serve.err")"
printf '%s' "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["source"]=="worker" and d["counts"]=={"send_followup": 1}, d' \
	|| fail "tick line: $line"
[ "$(followups)" = 1 ] || fail "serve's tick queued no follow-up"
echo "ok: serve runs the tick in its background worker"

# ---- settings: a bad value is named by its path ----
python3 - "$T/s.json" "$T/bad.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["followup"]["rules"][0]["wait"] = {"weeks": 2}
json.dump(s, open(sys.argv[2], "w"))
EOF
run settings import "$T/bad.json"; rejected "bad wait"; says "bad wait" "followup.rules[0].wait"
python3 - "$T/s.json" "$T/bad.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["followup"]["templates"] = [{"subject": "Ping {tikcet}", "body": "x"}]
json.dump(s, open(sys.argv[2], "w"))
EOF
run settings import "$T/bad.json"; rejected "bad placeholder"; says "bad placeholder" "unknown placeholder {tikcet}"
echo "ok: cli_followup"
