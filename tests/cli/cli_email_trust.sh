#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who may write into a case (issue 9, item 1). Threading (case token, In-Reply-To,
# References) attaches a message only when its sender belongs to the thread:
# the case's contact, a contact of its account, or an address on To/Cc of an
# earlier message of the thread. Mallory with Oskar's In-Reply-To, with only
# his References, or with his [CAS-00001] token, and a known customer writing
# into another customer's case, reach a new case (the ARC rules decide) and
# leave Oskar's category alone; Oskar, a Cc'd colleague and a contact of the
# same account still thread.
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
ca import products "$SRC/examples/products.jsonl" >/dev/null
cat > "$T/acme.jsonl" <<'C'
{"id": "C-anna", "full_name": "Anna Acme", "email": "anna@acme.example", "account_number": "BW-A20001"}
{"id": "C-bert", "full_name": "Bert Acme", "email": "bert@acme.example", "account_number": "BW-A20001"}
C
ca import contacts "$T/acme.jsonl" >/dev/null

# shellcheck source=lib/mail.bash
. "$SRC/tests/cli/lib/mail.bash"
category() { ca --json case show "$1" | j 'd["fields"].get("category")'; }

# Oskar's request: a billing question.
mail oskar1.eml 'Oskar Lindqvale <oskar.lindqvale@example.com>' 'Charged twice for my order' oskar1@example.com <<'B'
Hello, I was charged twice for my order BW-522467. Please refund the charge on my card and send me a receipt.
B
r=$(outcome oskar1.eml); echo "oskar: $r"
[[ $r == "created CAS-00001 "* ]] || fail "Oskar's request: $r"
[ "$(category CAS-00001)" = billing_question ] || fail "Oskar's case is not a billing question: $(category CAS-00001)"

# Mallory, three ways into Oskar's thread, with a device fault's words.
fault='My device is broken and faulty, it will not charge and it is dead. I need a repair or replacement under warranty.'
mail m-irt.eml 'Mallory <mallory@evil.example>' 'Re: Charged twice for my order' mal1@evil.example 'In-Reply-To: <oskar1@example.com>' <<<"$fault"
mail m-refs.eml 'Mallory <mallory@evil.example>' 'Re: my order' mal2@evil.example 'References: <oskar1@example.com>' <<<"$fault"
mail m-tok.eml 'Mallory <mallory@evil.example>' 'Re: [CAS-00001] We received: Charged twice for my order' mal3@evil.example <<<"$fault"
for f in m-irt m-refs m-tok; do
	r=$(outcome $f.eml); echo "mallory ($f): $r"
	[ "$(echo "$r" | cut -d' ' -f2)" != CAS-00001 ] || fail "Mallory's $f reached Oskar's case: $r"
	[[ $r == *"sender not on thread"* ]] || fail "the log does not say why Mallory's $f did not thread: $r"
	[ "$(category CAS-00001)" = billing_question ] || fail "Mallory's $f changed Oskar's category to $(category CAS-00001)"
done
ca --json email log --limit 0 | j 'sum(1 for x in d["log"] if "sender not on thread" in (x["reason"] or ""))' | grep -qx 3 ||
	fail "the activity log does not record the three refusals"

# A known customer (Priya) writing into Oskar's case, the same three ways.
mail p-irt.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: Charged twice' pri1@example.com 'In-Reply-To: <oskar1@example.com>' <<<"$fault"
mail p-refs.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: order' pri2@example.com 'References: <oskar1@example.com>' <<<"$fault"
mail p-tok.eml 'Priya Vantassel <priya.vantassel@example.com>' 'Re: [CAS-00001] Charged twice' pri3@example.com <<<"$fault"
for f in p-irt p-refs p-tok; do
	r=$(outcome $f.eml); echo "priya ($f): $r"
	[ "$(echo "$r" | cut -d' ' -f2)" != CAS-00001 ] || fail "Priya's $f reached Oskar's case: $r"
	[[ $r == *"sender not on thread"* ]] || fail "no reason for Priya's $f: $r"
done
[ "$(category CAS-00001)" = billing_question ] || fail "another customer changed Oskar's category"

# Oskar himself still threads, whatever the case of his address; he copies a colleague.
mail oskar2.eml 'Oskar Lindqvale <Oskar.Lindqvale@EXAMPLE.com>' 'Re: Charged twice for my order' oskar2@example.com 'In-Reply-To: <oskar1@example.com>' 'Cc: Lena Berg <lena.berg@partner.example>' <<'B'
Any news about the double charge? I have copied my colleague Lena.
B
r=$(outcome oskar2.eml); echo "oskar reply: $r"
[[ $r == "updated CAS-00001 reply found by In-Reply-To"* ]] || fail "Oskar's own reply: $r"
mail lena.eml 'Lena Berg <lena.berg@partner.example>' 'Re: [CAS-00001] Charged twice for my order' lena1@partner.example <<'B'
I can confirm the card was charged twice for this order.
B
r=$(outcome lena.eml); echo "cc'd colleague: $r"
[[ $r == "updated CAS-00001 reply found by case token"* ]] || fail "the Cc'd colleague's reply: $r"

# A contact of the same account threads.
mail anna.eml 'Anna Acme <anna@acme.example>' 'Invoice missing for our account' anna1@acme.example <<'B'
Hello, the invoice for our last payment is missing, could you send the receipt?
B
r=$(outcome anna.eml); echo "anna: $r"; ANNA=$(echo "$r" | cut -d' ' -f2)
[[ $r == "created CAS-"* ]] || fail "Anna's request: $r"
mail bert.eml 'Bert Acme <bert@acme.example>' 'Re: Invoice missing for our account' bert1@acme.example 'In-Reply-To: <anna1@acme.example>' <<'B'
Adding to Anna's request: we need the invoice for the accounts department.
B
r=$(outcome bert.eml); echo "bert: $r"
[[ $r == "updated $ANNA reply found by In-Reply-To"* ]] || fail "a contact of the same account: $r"

# A contact of the account a person set on the case threads too.
cat > "$T/acct.jsonl" <<'C'
{"id": "A-north", "name": "Northwind Traders", "account_number": "BW-A30001"}
C
ca import accounts "$T/acct.jsonl" >/dev/null
cat > "$T/north.jsonl" <<'C'
{"id": "C-dora", "full_name": "Dora North", "email": "dora@northwind.example"}
{"id": "C-carl", "full_name": "Carl North", "email": "carl@northwind.example", "account_number": "BW-A30001"}
C
ca import contacts "$T/north.jsonl" >/dev/null
mail dora.eml 'Dora North <dora@northwind.example>' 'Receipt for our payment' dora1@northwind.example <<'B'
Hello, could you send us a receipt for the payment on our invoice?
B
r=$(outcome dora.eml); DORA=$(echo "$r" | cut -d' ' -f2)
[[ $r == "created CAS-"* ]] || fail "Dora's request: $r"
mail carl.eml 'Carl North <carl@northwind.example>' 'Re: Receipt for our payment' carl1@northwind.example 'In-Reply-To: <dora1@northwind.example>' <<'B'
Following up on Dora's request for the receipt.
B
r=$(outcome carl.eml); echo "carl before the account is set: $r"
[[ $r == *"sender not on thread of $DORA"* ]] || fail "Carl threaded before the case had an account: $r"
ca case edit "$DORA" account=A-north --actor alice >/dev/null
mail carl2.eml 'Carl North <carl@northwind.example>' 'Re: Receipt for our payment (2)' carl2@northwind.example 'In-Reply-To: <dora1@northwind.example>' <<'B'
Following up once more on the receipt.
B
r=$(outcome carl2.eml); echo "carl after: $r"
[[ $r == "updated $DORA reply found by In-Reply-To"* ]] || fail "a contact of the case's account: $r"

echo "ok: cli_email_trust"
