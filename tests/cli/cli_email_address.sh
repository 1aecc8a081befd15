#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Addresses compared as mail systems compare them (issue 9, item 2): the
# domain without case and in either IDNA spelling, the local part without
# case. Our own address in capitals is our own address (no case, no
# response to ourselves); 100 mails from case variants of one sender behave
# exactly as 100 from one spelling (the rate limit and the one response an
# hour key on the one normalised form).
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export CA_NOW=1767225600
ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ca init >/dev/null
ca settings import "$SRC/tests/data/email/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
# shellcheck source=lib/mail.bash
. "$SRC/tests/cli/lib/mail.bash"
category() { ca --json case show "$1" | j 'd["fields"].get("category")'; }

# Our own address in capitals is still ours: no case, no response to ourselves.
before=$(ca --json email outbox | j 'len(d["outbox"])')
mail own.eml 'Support <SUPPORT@BrightWave.Example>' 'Loop test' own1@brightwave.example <<'B'
This came from our own mailbox.
B
r=$(outcome own.eml); echo "own: $r"
[[ $r == "skipped None own address"* ]] || fail "our own address in capitals: $r"
after=$(ca --json email outbox | j 'len(d["outbox"])')
[ "$before" = "$after" ] || fail "a response was queued to our own address"

# The address automatic responses go out from is ours too, named or not,
# though own_addresses does not repeat it.
python3 - "$SRC/tests/data/email/settings.json" "$T/s2.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["email"]["own_addresses"] = []
s["email"]["auto_response"]["from"] = "Brightwave Support <Replies@BrightWave.example>"
json.dump(s, open(sys.argv[2], "w"))
PY
ca settings import "$T/s2.json" >/dev/null
mail own2.eml 'Brightwave <REPLIES@brightwave.EXAMPLE>' 'Re: We received your message' own2@brightwave.example <<'B'
An automatic response of ours that came back.
B
r=$(outcome own2.eml); echo "own (reply from): $r"
[[ $r == "skipped None own address"* ]] || fail "the auto-response From address is not ours: $r"
ca settings import "$SRC/tests/data/email/settings.json" >/dev/null

# 100 mails from case variants of one address behave as 100 from one
# spelling: distinct subjects, so the rate limit (20 an hour) decides.
python3 - "$T" <<'PY'
import os, random, sys
t = sys.argv[1]
random.seed(9)
for kind, base in (("same", "helpdesk.bot@vendor.example"), ("vary", "helpdesk.robot@vendor.example")):
    d = os.path.join(t, kind); os.mkdir(d)
    for i in range(100):
        a = base if kind == "same" else "".join(c.upper() if random.random() < .5 else c for c in base)
        if kind == "vary" and i == 0:
            a = base.upper()
        with open(os.path.join(d, "m%03d.eml" % i), "w") as f:
            f.write("From: Bot <%s>\r\nTo: support@brightwave.example\r\nSubject: Ticket number %d\r\n"
                    "Message-ID: <%s-%d@vendor.example>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n"
                    "Request %d was received and will be handled.\r\n" % (a, i, kind, i, i))
PY
ca --json email ingest "$T/same" | j 'json.dumps(d["outcomes"], sort_keys=True)' > "$T/same.out"
ca --json email ingest "$T/vary" | j 'json.dumps(d["outcomes"], sort_keys=True)' > "$T/vary.out"
echo "one spelling: $(cat "$T/same.out"); case variants: $(cat "$T/vary.out")"
cmp -s "$T/same.out" "$T/vary.out" || fail "case variants of one sender are not one sender"
ca --json email outbox | j 'sum(1 for m in d["outbox"] if m["to_addr"].lower()=="helpdesk.robot@vendor.example")' | grep -qx 1 ||
	fail "more than one automatic response to the case variants"
# One domain in its two IDNA spellings (and any case) is one sender: the
# second mail joins the first's case as the same sender and subject.
mail idn1.eml 'Kunde <kunde@BÜCHER.example>' 'Lieferung fehlt' idn1@xn--bcher-kva.example <<'B'
My parcel has not arrived, the tracking says it is stuck at the depot.
B
r=$(outcome idn1.eml); echo "idn (U-label): $r"; IDN=$(echo "$r" | cut -d' ' -f2)
[[ $r == "created CAS-"* ]] || fail "IDN sender's first mail: $r"
mail idn2.eml 'Kunde <Kunde@xn--bcher-kva.EXAMPLE>' 'Lieferung fehlt' idn2@xn--bcher-kva.example <<'B'
My parcel has not arrived, the tracking says it is stuck at the depot.
B
r=$(outcome idn2.eml); echo "idn (A-label): $r"
[[ $r == "updated $IDN "* ]] || fail "the A-label spelling is another sender: $r"
ca --json email outbox | j 'sum(1 for m in d["outbox"] if m["to_addr"]=="kunde@xn--bcher-kva.example")' | grep -qx 1 ||
	fail "not one response to the IDN sender in its normalised form"
# A contact imported with the Unicode spelling is the sender of the A-label one.
echo '{"id": "C-lena", "full_name": "Lena Buch", "email": "Lena@Bücher.example"}' > "$T/idn.jsonl"
ca import contacts "$T/idn.jsonl" >/dev/null
mail idn3.eml 'Lena <lena@xn--bcher-kva.example>' 'Invoice copy' idn3@xn--bcher-kva.example <<'B'
Could you send me a copy of the invoice for my last order?
B
r=$(outcome idn3.eml); LENA=$(echo "$r" | cut -d' ' -f2)
ca --json case show "$LENA" | j 'd["fields"].get("customer")' | grep -qx C-lena || fail "the IDN contact was not found: $r"

echo "ok: cli_email_address"
