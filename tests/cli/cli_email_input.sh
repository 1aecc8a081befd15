#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No e-mail input lost, nothing oversized kept whole (issue 9, item 5):
# a Message-ID reused with other content (or sender) is stored as its own
# e-mail and logged, while the same message delivered again (even with an
# extra Received header) stays a duplicate; a message over
# email.max_message_bytes keeps its headers and a bounded prefix of its
# body, from a file, standard input, an mbox and a Maildir, and the limit
# holds while reading (peak memory does not grow with the message); the
# settings refuse CR/LF in header values and unknown placeholders in the
# automatic response, naming the key.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export CA_NOW=1767225600
ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ca init >/dev/null
python3 - "$SRC/tests/data/email/settings.json" "$T/settings.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["email"]["max_message_bytes"] = 100000
json.dump(s, open(sys.argv[2], "w"))
PY
ca settings import "$T/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
mail() { # mail FILE FROM SUBJECT MESSAGE-ID [EXTRA-HEADER...] < body
	local f=$1 from=$2 subject=$3 mid=$4; shift 4
	{ for h in "$@"; do printf '%s\r\n' "$h"; done
	  printf 'From: %s\r\nTo: Support <support@brightwave.example>\r\nSubject: %s\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n' "$from" "$subject"
	  printf 'Message-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' "$mid"; cat; } > "$T/$f"
}
outcome() { ca --json email ingest "$@" | j 'd["emails_detail"][0]["outcome"] + " " + str(d["emails_detail"][0].get("case")) + " " + d["emails_detail"][0]["reason"]'; }
nemails() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM email').fetchone()[0])" "$T/t.db"; }

# 1. a reused Message-ID
mail o1.eml 'Oskar Lindqvale <oskar.lindqvale@example.com>' 'Charged twice' same@example.com <<'B'
I was charged twice for my order BW-522467.
B
r=$(outcome "$T/o1.eml"); [[ $r == "created CAS-00001 "* ]] || fail "first: $r"
mail o1b.eml 'Oskar Lindqvale <oskar.lindqvale@example.com>' 'Charged twice' same@example.com 'Received: from mx2.example.com by mx.brightwave.example; Thu, 1 Jan 2026 00:00:05 +0000' <<'B'
I was charged twice for my order BW-522467.
B
r=$(outcome "$T/o1b.eml"); [[ $r == "skipped CAS-00001 duplicate of e-mail 1"* ]] || fail "the same message delivered again: $r"
mail m1.eml 'Mallory <mallory@evil.example>' 'Something else entirely' same@example.com <<'B'
Please change the delivery address of my order to 1 Evil Street.
B
r=$(outcome "$T/m1.eml"); echo "reused Message-ID: $r"
[[ $r != "skipped"*"duplicate"* ]] || fail "a message with a reused Message-ID was dropped as a duplicate: $r"
[[ $r == *"Message-ID <same@example.com> reused with other content (e-mail 1 has it)"* ]] || fail "the reuse is not logged: $r"
[ "$(nemails)" = 2 ] || fail "expected 2 stored e-mails, got $(nemails)"
ca --json email show 2 | j 'd["from_addr"] + "|" + d["body_text"].strip()' | grep -qx 'mallory@evil.example|Please change the delivery address of my order to 1 Evil Street.' \
	|| fail "the second message is not stored as itself"
r=$(outcome "$T/m1.eml"); [[ $r == "skipped "*"duplicate of e-mail 2"* ]] || fail "the second message delivered again: $r"
mail o2.eml 'Oskar Lindqvale <oskar.lindqvale@example.com>' 'Charged twice' same@example.com <<'B'
Sorry, one more thing: it was the card ending 4242.
B
r=$(outcome "$T/o2.eml"); [[ $r != "skipped"*"duplicate"* ]] || fail "the same sender's other content under one Message-ID: $r"
[ "$(nemails)" = 3 ] || fail "expected 3 stored e-mails, got $(nemails)"

# 2. over-size messages: headers and a bounded prefix, from every source
big() { # big FILE MESSAGE-ID MB
	python3 - "$1" "$2" "$3" <<'PY'
import sys
path, mid, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
with (open(path, "wb") if path != "-" else sys.stdout.buffer) as f:
    f.write(b"From: Dmitri Halvorsen <d.halvorsen@example.com>\r\nTo: support@brightwave.example\r\n"
            b"Subject: Router logs\r\nMessage-ID: <%s>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n" % mid.encode())
    line = b"log line with some words in it to fill the message up to its size xxxxxxxxxx\r\n"
    for _ in range(mb * 1024 * 1024 // len(line)):
        f.write(line)
PY
}
check_big() { # check_big ID WHAT
	ca --json email show "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin); what = sys.argv[1]
assert d["subject"] == "Router logs", (what, d["subject"])
assert d["from_addr"] == "d.halvorsen@example.com", (what, d["from_addr"])
assert d["received_size"] and d["received_size"] > 1000000, (what, d["received_size"])
assert d["raw_size"] <= 100000, (what, "kept %d bytes of %d" % (d["raw_size"], d["received_size"]))
assert d["body_text"].startswith("log line"), (what, d["body_text"][:40])
print("ok: %s: %d bytes as received, %d kept" % (what, d["received_size"], d["raw_size"]))' "$2"
}
big "$T/big.eml" big1@example.com 40
r=$(outcome "$T/big.eml"); echo "file: $r"
[[ $r == "skipped None too large ("* ]] || fail "an over-size file: $r"
check_big 4 file
big "$T/big2.eml" big2@example.com 40
r=$(ca --json email ingest - < "$T/big2.eml" | j 'd["emails_detail"][0]["outcome"] + " " + d["emails_detail"][0]["reason"]')
[[ $r == "skipped too large ("* ]] || fail "an over-size message on standard input: $r"
check_big 5 stdin
{ printf 'From d.halvorsen@example.com Thu Jan  1 00:00:00 2026\n'; big - big3@example.com 20
  printf '\nFrom hugo.m@example.net Thu Jan  1 00:00:00 2026\nFrom: Hugo Morcombe <hugo.m@example.net>\nTo: support@brightwave.example\nSubject: Router keeps dropping\nMessage-ID: <after-big@example.net>\n\nMy router drops the connection every evening.\n'; } > "$T/box.mbox"
ca --json email ingest "$T/box.mbox" > "$T/box.json"
j '" ".join(e["outcome"] for e in d["emails_detail"])' < "$T/box.json" | grep -qx 'skipped created' || fail "mbox with a big message: $(cat "$T/box.json")"
check_big 6 mbox
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"; big "$T/md/new/1.host" big4@example.com 20
r=$(outcome "$T/md"); [[ $r == "skipped None too large ("* ]] || fail "an over-size Maildir message: $r"
check_big 8 Maildir

# the limit holds while reading: a 40 MB message costs no more memory than a small one
/usr/bin/time -f %M -o "$T/rss.small" "$BIN" --db "$T/t.db" email ingest "$T/o1.eml" >/dev/null
big "$T/big5.eml" big5@example.com 40
/usr/bin/time -f %M -o "$T/rss.big" "$BIN" --db "$T/t.db" email ingest "$T/big5.eml" >/dev/null
small=$(tail -1 "$T/rss.small"); large=$(tail -1 "$T/rss.big")
echo "peak RSS: small message ${small} KB, 40 MB message ${large} KB"
[ $((large - small)) -lt 16384 ] || fail "reading a 40 MB message took $((large - small)) KB more than a small one"

# 3. settings: CR/LF in header values, unknown placeholders
bad() { # bad KEY PYTHON-EDIT: the import fails naming KEY, nothing stored
	python3 - "$T/settings.json" "$T/bad.json" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(s, open(sys.argv[2], "w"))
PY
	set +e; ca settings import "$T/bad.json" > "$T/bad.out" 2>&1; rc=$?; set -e
	[ "$rc" -ne 0 ] && grep -q -- "$1" "$T/bad.out" || fail "settings with $1 bad: rc $rc, $(cat "$T/bad.out")"
}
bad email.auto_response.from 's["email"]["auto_response"]["from"] = "noreply@brightwave.example\r\nBcc: all@evil.example"'
bad email.auto_response.from 's["email"]["auto_response"]["from"] = "noreply@brightwave.example\nBcc: all@evil.example"'
bad email.auto_response.subject 's["email"]["auto_response"]["subject"] = "{token} We received\r\nBcc: all@evil.example"'
bad email.case_token 's["email"]["case_token"] = "[{ticket}]\r\nX: y"'
bad email.own_addresses 's["email"]["own_addresses"] = ["noreply@brightwave.example\r\nBcc: x@evil.example"]'
bad email.auto_response.subject 's["email"]["auto_response"]["subject"] = "{tokn} We received: {subject}"'
bad email.auto_response.body 's["email"]["auto_response"]["body"] = "Your case is {tiket}."'
grep -q "{tiket}" "$T/bad.out" || fail "the unknown placeholder is not named: $(cat "$T/bad.out")"
ca --json settings export | j 'd["email"]["auto_response"]["from"]' | grep -qx 'noreply@brightwave.example' || fail "a refused import changed the settings"
echo "ok: cli_email_input"
