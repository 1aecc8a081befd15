#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `email show` and `email outbox` print text, not raw JSON, unless --json
# (issue 9, item 9): the headers a person reads, the body, the attachments;
# the outbox as a table with a summary line. Terminal control characters
# from the message (an OSC title change, colour codes) never reach the
# terminal as such.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export CA_NOW=1767225600
ca() { "$BIN" --db "$T/t.db" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ca init >/dev/null
ca settings import "$SRC/tests/data/email/settings.json" >/dev/null
printf 'From: Ann Example <Ann@Example.com>\r\nTo: support@brightwave.example\r\nCc: bob@example.com\r\nSubject: Parcel \033]0;pwned\007missing\r\nMessage-ID: <show1@example.com>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nMy order BW-123456 never arrived.\r\n\033[31mStill nothing.\033[0m\r\n' > "$T/a.eml"
ca email ingest "$T/a.eml" >/dev/null
ca email show 1 > "$T/show.txt"
cat "$T/show.txt"
head -c1 "$T/show.txt" | grep -q '{' && fail "email show printed JSON without --json"
grep -q '^From: *Ann Example <ann@example.com>$' "$T/show.txt" || fail "no From line"
grep -q '^Cc: *bob@example.com$' "$T/show.txt" || fail "no Cc line"
grep -q '^Subject: *Parcel .*missing$' "$T/show.txt" || fail "no Subject line"
grep -q '^My order BW-123456 never arrived.$' "$T/show.txt" || fail "no body"
if grep -q $'\033' "$T/show.txt" || grep -q $'\007' "$T/show.txt"; then fail "control characters reached the terminal"; fi
ca --json email show 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["id"] == 1 and d["cc_addrs"] == "bob@example.com"' \
	|| fail "email show --json"

ca email outbox > "$T/outbox.txt"
cat "$T/outbox.txt"
head -c1 "$T/outbox.txt" | grep -q '{' && fail "email outbox printed JSON without --json"
grep -q '^1 automatic response: 1 queued, 0 sent, 0 failed$' "$T/outbox.txt" || fail "no outbox summary"
grep -q 'queued  *ann@example.com  *CAS-00001' "$T/outbox.txt" || fail "no outbox row with status, recipient and case"
if grep -q $'\033' "$T/outbox.txt"; then fail "control characters in the outbox table"; fi
ca --json email outbox | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["outbox"][0]["case"] == "CAS-00001"' \
	|| fail "email outbox --json"
echo "ok: cli_email_show"
