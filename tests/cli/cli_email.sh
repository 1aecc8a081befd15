#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The e-mail channel end to end on real .eml files: ARC rules create cases,
# replies thread by case token, In-Reply-To and References, the same message
# twice is one case, automatic mail never creates a case or a response, a
# loop of 100 mails from one sender makes one case and at most one response,
# replies to resolved cases honour the rule's window, and a field an ARC rule
# set is never overwritten by the agent. Every message gets one log row.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export CA_NOW=1767225600   # 2026-01-01T00:00:00Z; moved on below
ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ca init >/dev/null
ca settings import "$SRC/tests/data/email/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import products "$SRC/examples/products.jsonl" >/dev/null

# shellcheck source=lib/mail.bash
. "$SRC/tests/cli/lib/mail.bash"
ingest() { ca --json email ingest "$T/$1"; }

# 1. a new request from a known contact: the support-mailbox rule creates a case
mail new.eml 'Priya Vantassel <priya.vantassel@example.com>' 'My earbuds will not pair' m1@example.com <<'B'
Hello, my new earbuds will not pair with my phone since yesterday. Order BW-517204.
B
r=$(outcome new.eml); echo "new: $r"
[[ $r == "created CAS-00001 "* ]] || fail "new request: $r"
ca --json case show CAS-00001 | j 'd["fields"]["customer"]' | grep -qx C-pvantassel || fail "customer not set from the sender"
ca --json email outbox | j 'len(d["outbox"])' | grep -qx 1 || fail "no automatic response queued"
ca --json email outbox | j 'd["outbox"][0]["headers"]["Auto-Submitted"] + "|" + d["outbox"][0]["subject"]' | grep -q '^auto-replied|\[CAS-00001\]' || fail "response lacks Auto-Submitted or the token"

# 2. the same message again: a duplicate, no second case
r=$(outcome new.eml); [[ $r == "skipped CAS-00001 duplicate"* ]] || fail "duplicate: $r"

# 3. replies: by token, by In-Reply-To, by References
mail tok.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: [CAS-00001] We received: My earbuds will not pair' m2@example.com <<'B'
I tried resetting them, still nothing.

On Thu, 1 Jan 2026, Brightwave <noreply@brightwave.example> wrote:
> Thank you for writing to us.
B
r=$(outcome tok.eml); [[ $r == "updated CAS-00001 reply found by case token"* ]] || fail "token reply: $r"
mail irt.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: something else entirely' m3@example.com 'In-Reply-To: <m1@example.com>' <<'B'
Any news on this?
B
r=$(outcome irt.eml); [[ $r == "updated CAS-00001 reply found by In-Reply-To"* ]] || fail "In-Reply-To reply: $r"
mail refs.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Fwd: from my other phone' m4@example.com 'References: <zz@elsewhere> <m3@example.com>' <<'B'
Sending again from my other phone.
B
r=$(outcome refs.eml); [[ $r == "updated CAS-00001 reply found by References"* ]] || fail "References reply: $r"

# 4. automatic mail: auto-reply, out-of-office, bounce (attached to its case)
mail auto.eml 'Robot <robot@partner.example>' 'Your ticket' a1@partner.example 'Auto-Submitted: auto-replied' <<'B'
This is an automatic reply.
B
r=$(outcome auto.eml); [[ $r == "skipped None auto-reply"* ]] || fail "auto-reply: $r"
mail ooo.eml 'Hugo Morcombe <hugo.m@example.net>' 'Out of Office: back on Monday' o1@example.net <<'B'
I am out of the office until Monday.
B
r=$(outcome ooo.eml); [[ $r == "skipped None out-of-office"* ]] || fail "out-of-office: $r"
# Mail a list relayed (a support address that is a list or a Google group
# adds Precedence: list and List-Id to every customer's mail) is a person's:
# a reply threads into its case, a new request makes a case, and neither is
# answered automatically (the list could pass the answer on).
mail list-reply.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: [CAS-00001] We received: My earbuds will not pair' l1@example.com 'Precedence: list' 'List-Id: Support <support.brightwave.example>' <<'B'
Still not pairing after the reset, sorry.
B
r=$(outcome list-reply.eml); [[ $r == "updated CAS-00001 reply found by case token"* ]] || fail "a list-relayed reply: $r"
before=$(ca --json email outbox | j 'len(d["outbox"])')
mail list-new.eml 'Hugo Morcombe <hugo.m@example.net>' 'My charger is broken' l2@example.net 'Precedence: list' 'List-Id: <support.brightwave.example>' <<'B'
Hello, the charger of my earbuds stopped working yesterday.
B
r=$(outcome list-new.eml); [[ $r == "created CAS-"*"no automatic response (relayed by a list)"* ]] || fail "a list-relayed request: $r"
# Precedence: bulk stays automatic, with a List-Id too (a newsletter).
mail news.eml 'Gadget News <news@gadgets.example>' 'This week in gadgets' n1@gadgets.example 'Precedence: bulk' 'List-Id: <news.gadgets.example>' <<'B'
Ten new earbuds you will love.
B
r=$(outcome news.eml); [[ $r == "skipped None auto-generated"* ]] || fail "a newsletter: $r"
ca --json email outbox | j 'len(d["outbox"])' | grep -qx "$before" || fail "an automatic response to list-relayed mail"
cat > "$T/bounce.eml" <<'B'
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>
To: noreply@brightwave.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <b1@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BB"

--BB
Content-Type: text/plain

Your message could not be delivered.
--BB
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Final-Recipient: rfc822; gone@example.com
Action: failed
Status: 5.1.1

--BB
Content-Type: text/rfc822-headers

From: noreply@brightwave.example
To: gone@example.com
Subject: [CAS-00001] We received: My earbuds will not pair
Message-ID: <m1@example.com>

--BB--
B
r=$(outcome bounce.eml); [[ $r == "attached CAS-00001 bounce"* ]] || fail "bounce: $r"

# 5. a loop: 100 mails from one robot that answers everything: one case, one response
for i in $(seq 1 100); do
	mail "loop$i.eml" 'Helpdesk Bot <bot@vendor.example>' 'Your request has been received' "loop$i@vendor.example" <<'B'
Thank you, your request has been received and will be handled shortly.
B
done
mkdir "$T/loop"; mv "$T"/loop*.eml "$T/loop/"
ca --json email ingest "$T/loop" > "$T/loop.json"
python3 - "$T/loop.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
o = d["outcomes"]
assert d["emails"] == 100, d["emails"]
assert o["created"] == 1, o
cases = {e.get("case") for e in d["emails_detail"] if e.get("case")}
assert len(cases) == 1, cases
print("ok: loop of 100:", o)
PY
ca --json email outbox | j 'sum(1 for m in d["outbox"] if m["to_addr"]=="bot@vendor.example")' | grep -qx 1 || fail "more than one response to the loop"

# 6. a rule-set field the agent must not overwrite
mail vip.eml 'Hugo Morcombe <hugo.m@example.net>' 'Router keeps dropping' v1@example.net 'X-Priority: 1' <<'B'
My router drops the connection every evening.
B
r=$(outcome vip.eml); [[ $r == "created CAS-"* ]] || fail "vip: $r"
VIP=$(echo "$r" | cut -d' ' -f2)
mail vip2.eml 'Hugo Morcombe <hugo.m@example.net>' "Re: [$VIP] Router keeps dropping" v2@example.net <<'B'
Honestly it is not urgent at all, no rush, low priority, whenever you can.
B
r=$(outcome vip2.eml); [[ $r == "updated $VIP"* ]] || fail "vip reply: $r"
ca --json case show "$VIP" | j 'd["fields"]["priority"] + "|" + d["provenance"]["priority"]["source"]' | grep -qx 'high|arc' || fail "the agent overwrote the ARC rule's priority"

# 7. replies to resolved cases: within the window attach, past it a new case
ca case edit CAS-00001 status=resolved --actor alice >/dev/null
export CA_NOW=$((CA_NOW + 3600))
mail late1.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: [CAS-00001] We received: My earbuds will not pair' r1@example.com <<'B'
Thanks, it works now.
B
r=$(outcome late1.eml); [[ $r == "attached CAS-00001 resolved-case window"* ]] || fail "reply 1 h after resolution: $r"
export CA_NOW=$((CA_NOW + 30 * 3600))
mail late2.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: [CAS-00001] We received: My earbuds will not pair' r2@example.com <<'B'
They stopped pairing again, the left one will not charge.
B
r=$(outcome late2.eml); [[ $r == "created CAS-"* && $r != "created CAS-00001 "* ]] || fail "reply 31 h after resolution: $r"

# 8. unparsable input is kept raw with a reason; one log row per message
printf '\x00\x01\x02 not a message' > "$T/garbage.eml"
r=$(outcome garbage.eml); [[ $r == "skipped None parse error"* ]] || fail "garbage: $r"
rows=$(ca --json email log --limit 0 | j 'len(d["log"])')
[ "$rows" -eq 116 ] || fail "expected 116 log rows (one per message), got $rows"

# 9. stdin, as an MTA pipes it
mail pipe.eml 'Omar Lindqvist <omar@example.org>' 'Question about my invoice' p1@example.org <<'B'
Could you send me the invoice for my last order?
B
r=$(ca --json email ingest - < "$T/pipe.eml" | j 'd["emails_detail"][0]["outcome"]')
[ "$r" = created ] || fail "stdin: $r"
# 10. simulation on labelled e-mail threads: the same decisions, nothing written
before=$(ca --json case list | j 'len(d["cases"])')
ca --json simulate "$SRC/tests/data/email/labelled.jsonl" > "$T/esim.json"
python3 - "$T/esim.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
dec = d["creation"]["decision"]
assert dec["accuracy"] == 1.0, dec
rows = {r["conversation"]: r for r in d["per_conversation"]}
assert rows["mail-1"]["fields"]["customer"] == "C-pvantassel", rows["mail-1"]
assert rows["mail-3"]["fields"]["title"] == "Faktura - dobbelt træk", rows["mail-3"]  # RFC 2047, ISO-8859-1
assert rows["mail-2"]["fields"] is None and rows["mail-4"]["fields"] is None
print("ok: e-mail simulation:", dec)
PY
after=$(ca --json case list | j 'len(d["cases"])')
[ "$before" = "$after" ] || fail "simulate wrote cases"
echo "ok: cli_email"
