#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The e-mail channel on the network, against real servers on 127.0.0.1: a
# private Dovecot (IMAP, plaintext login, Maildir in the scratch dir) and
# aiosmtpd (SMTP, delivering into a Maildir). `email poll` ingests unseen mail
# and sets \Seen only after the commit; a second poll takes nothing; a poll
# killed between fetch and commit (CA_TEST_CRASH_AFTER_FETCH) loses nothing
# and the next one doubles nothing; a message seen again is a duplicate.
# TLS is the default: without --allow-plaintext the plain-text test servers
# are refused with advice, and --allow-plaintext is refused for a host that
# is not loopback. `email send` delivers the automatic responses (Auto-Submitted, the case
# token, RFC 2047 subjects, the null envelope sender), marks them sent, a
# customer's reply to one threads by In-Reply-To, and a server that is down
# leaves a response failed and retried later. A message over the size limit
# is fetched only as far as its headers and a prefix. Skips (exit 0) only when
# dovecot or aiosmtpd is not installed or cannot start.
set -euo pipefail
BIN=$1; SRC=$2
skip() { echo "skipped: $*"; exit 0; }
fail() { echo "FAIL: $*" >&2; [ -f "${T:-/nonexistent}/dovecot.log" ] && tail -20 "$T/dovecot.log" >&2; exit 1; }

. "$SRC/tests/cli/lib/mailservers.bash"

ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# The test servers speak plain text on 127.0.0.1, which only an explicit
# --allow-plaintext permits (TLS is the default; see 0. below).
poll() { ca --json email poll --url "$IMAP" --user test --password-file "$T/pw" --mailbox support@brightwave.example --allow-plaintext "$@"; }
count() { ca --json "$@"; }
ncases() { ca --json case list | j 'len(d["cases"])'; }
nlog() { ca --json email log --limit 0 | j 'len(d["log"])'; }

ca init >/dev/null
ca settings import "$SRC/tests/data/email/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import products "$SRC/examples/products.jsonl" >/dev/null

# 1. three messages: a known contact, an unknown sender with an encoded
#    non-ASCII subject, and an auto-reply (never a case)
deliver a1 'Priya Vantassel <priya.vantassel@example.com>' 'My earbuds will not pair' n1@example.com <<'B'
Hello, my new earbuds will not pair with my phone. Order BW-517204.
B
deliver a2 'Jürgen Weiß <juergen@example.de>' '=?utf-8?q?Kopfh=C3=B6rer_kaputt?=' n2@example.de <<'B'
Mein Kopfhörer lädt nicht mehr.
B
deliver a3 'Robot <robot@partner.example>' 'Your ticket' n3@partner.example 'Auto-Submitted: auto-replied' <<'B'
This is an automatic reply.
B
[ "$(unseen)" = 3 ] || fail "the test mailbox does not show 3 unseen messages"

# 0. TLS by default: a server offering no STARTTLS is refused before any
#    login, with an error saying what to do; --allow-plaintext is refused
#    for a server that is not on this machine.
logins() { grep -c 'Login: user=<test>' "$T/dovecot.log" || true; }
before=$(logins)
set +e
ca email poll --url "$IMAP" --user test --password-file "$T/pw" > "$T/tls.out" 2>&1; rc=$?
set -e
[ "$(logins)" = "$before" ] || fail "the password crossed in plain text to a server without TLS"
echo "refused: $(cat "$T/tls.out")"
[ "$rc" -eq 1 ] || fail "a poll of a server without STARTTLS should fail, got $rc: $(cat "$T/tls.out")"
grep -q "offers no TLS" "$T/tls.out" && grep -q -- "--allow-plaintext" "$T/tls.out" && grep -q "imaps://" "$T/tls.out" \
	|| fail "the refusal does not say what is wrong and what to do: $(cat "$T/tls.out")"
[ "$(unseen)" = 3 ] && [ "$(nlog)" -eq 0 ] || fail "a refused poll ingested or marked mail"
for url in "imap://192.0.2.7:$IPORT/INBOX" "imap://mail.example.com/INBOX" "imap://localhost.evil.example/INBOX" \
	"imap://[2001:db8::1]/INBOX"; do
	set +e
	ca email poll --url "$url" --user test --password-file "$T/pw" --allow-plaintext > "$T/pt.out" 2>&1; rc=$?
	set -e
	[ "$rc" -ne 0 ] && grep -q "only for an IMAP server on this machine" "$T/pt.out" \
		|| fail "--allow-plaintext accepted for $url: rc $rc, $(cat "$T/pt.out")"
done
echo "ok: no STARTTLS is refused with advice; --allow-plaintext only for loopback"

poll > "$T/p1.json" || fail "first poll failed: $(cat "$T/p1.json")"
j 'd["unseen"], d["ingested"], d["outcomes"]["created"], d["outcomes"]["skipped"], len(d["failed"])' < "$T/p1.json" | grep -qx '3 3 2 1 0' \
	|| fail "first poll: $(cat "$T/p1.json")"
j 'd["server"] + " " + d["mailbox"]' < "$T/p1.json" | grep -qx "imap://127.0.0.1:$IPORT INBOX" || fail "server/mailbox not reported"
[ "$(unseen)" = 0 ] || fail "ingested messages were not marked \\Seen"
echo "ok: first poll ingested 3 (2 cases, 1 auto-reply skipped) and set \\Seen"

# 2. nothing new: a second poll ingests nothing
poll > "$T/p2.json"
j 'd["unseen"], d["ingested"]' < "$T/p2.json" | grep -qx '0 0' || fail "second poll: $(cat "$T/p2.json")"
echo "ok: second poll ingested nothing"

# 3. a crash between fetch and commit: nothing lost, nothing doubled
for i in 4 5 6 7; do
	deliver "b$i" "Sender $i <sender$i@example.org>" "Parcel $i never arrived" "n$i@example.org" <<B
My parcel number $i has not arrived, the tracking says it is stuck at the depot.
B
done
cases_before=$(ncases); log_before=$(nlog)
set +e
CA_TEST_CRASH_AFTER_FETCH=2 poll > "$T/crash.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "the crash hook did not end the poll with status 3 (got $rc): $(cat "$T/crash.out")"
[ "$(nlog)" -eq $((log_before + 1)) ] || fail "before the crash exactly one message should be ingested, log has $(nlog) rows"
[ "$(unseen)" = 3 ] || fail "after the crash 3 messages should still be unseen, not $(unseen)"
poll > "$T/p3.json"
j 'd["unseen"], d["ingested"], d["outcomes"]["created"]' < "$T/p3.json" | grep -qx '3 3 3' || fail "poll after crash: $(cat "$T/p3.json")"
[ "$(unseen)" = 0 ] || fail "messages left unseen after the recovery poll"
[ "$(ncases)" -eq $((cases_before + 4)) ] || fail "expected $((cases_before + 4)) cases, got $(ncases)"
[ "$(nlog)" -eq $((log_before + 4)) ] || fail "expected one log row per message, got $(($(nlog) - log_before)) for 4"
ca --json email log --limit 0 > "$T/log.json"
"$PY" - "$T/log.json" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))["log"]
ids = [r["email_id"] for r in log]
assert len(ids) == len(set(ids)), "an e-mail was logged twice: %r" % ids
print("ok: crash after fetching the 2nd message lost nothing and doubled nothing (%d log rows, one per e-mail)" % len(ids))
PY

# 4. a message seen again (as after a crash between commit and \Seen) is a duplicate
imap_py "M.uid('store', M.uid('search', None, 'HEADER', 'Message-ID', 'n5@example.org')[1][0], '-FLAGS', '(\\\\Seen)')"
[ "$(unseen)" = 1 ] || fail "could not clear \\Seen for the duplicate test"
cases_before=$(ncases)
poll > "$T/p4.json"
j 'd["emails_detail"][0]["outcome"] + " " + d["emails_detail"][0]["reason"]' < "$T/p4.json" | grep -q '^skipped duplicate' \
	|| fail "a re-fetched message was not a duplicate: $(cat "$T/p4.json")"
[ "$(ncases)" -eq "$cases_before" ] || fail "a re-fetched message made a case"
[ "$(unseen)" = 0 ] || fail "the duplicate was not marked \\Seen"
echo "ok: a message fetched twice is recorded as a duplicate and marked \\Seen"

# 5. sending: aiosmtpd delivers into a Maildir
start_smtp
queued=$(ca --json email outbox | j 'sum(1 for m in d["outbox"] if m["status"] == "queued")')
[ "$queued" -eq 6 ] || fail "expected 6 queued responses (one per new case), got $queued"
set +e
ca email send --url "smtp://127.0.0.1:$SPORT" > "$T/stls.out" 2>&1; rc=$?
ca email send --url "smtp://192.0.2.7:$SPORT" --allow-plaintext > "$T/spt.out" 2>&1; rc2=$?
set -e
[ "$rc" -eq 1 ] && grep -q "offers no TLS" "$T/stls.out" && grep -q -- "--allow-plaintext" "$T/stls.out" \
	|| fail "a send to a server without STARTTLS: rc $rc, $(cat "$T/stls.out")"
[ "$rc2" -ne 0 ] && grep -q "only for an SMTP server on this machine" "$T/spt.out" \
	|| fail "--allow-plaintext accepted for another machine's SMTP server: rc $rc2, $(cat "$T/spt.out")"
ca --json email outbox | j 'sorted(set((m["status"], m["attempts"]) for m in d["outbox"]))' | grep -qx "\[('queued', 0)\]" \
	|| fail "a refused send touched the outbox: $(ca --json email outbox)"
[ -z "$(ls -A "$T/out/new" 2>/dev/null)" ] || fail "a message reached the server without TLS"
echo "ok: SMTP without STARTTLS is refused, nothing sent, the outbox untouched"
ca --json email send --url "smtp://127.0.0.1:$SPORT" --allow-plaintext > "$T/s1.json" || fail "send failed: $(cat "$T/s1.json")"
j 'd["attempted"], d["sent"], d["failed"]' < "$T/s1.json" | grep -qx '6 6 0' || fail "send: $(cat "$T/s1.json")"
ca --json email outbox | j 'sorted(set(m["status"] for m in d["outbox"]))' | grep -qx "\['sent'\]" || fail "outbox not all sent"
"$PY" - "$T/out" "$T/s1.json" <<'PY'
import email, email.header, email.policy, json, mailbox, sys
box = mailbox.Maildir(sys.argv[1], create=False)
msgs = [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]
sent = json.load(open(sys.argv[2]))["messages"]
assert len(msgs) == 6, len(msgs)
by_to = {m["To"].addresses[0].addr_spec: m for m in msgs}
for s in sent:
    m = by_to[s["to"]]
    assert m["Auto-Submitted"] == "auto-replied", m["Auto-Submitted"]
    assert "[%s]" % s["case"] in str(m["Subject"]), (m["Subject"], s["case"])
    assert m["Message-ID"].strip("<>") == s["message_id"], (m["Message-ID"], s["message_id"])
    assert m["X-MailFrom"] == "<>", "automatic responses go out with the null sender: %r" % m["X-MailFrom"]
    assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
    assert m["Date"] and m["In-Reply-To"]
de = by_to["juergen@example.de"]
raw_subject = [l for l in de.as_string(policy=email.policy.compat32).splitlines() if l.startswith("Subject:")][0]
assert "=?" in raw_subject, "a non-ASCII subject must be RFC 2047-encoded: %r" % raw_subject
assert "Kopfhörer kaputt" in str(de["Subject"]), str(de["Subject"])
assert de["In-Reply-To"] == "<n2@example.de>", de["In-Reply-To"]
print("ok: 6 responses delivered: Auto-Submitted, case token, RFC 2047 subject, In-Reply-To, null sender")
PY

# 6. the customer answers our response: In-Reply-To our Message-ID threads
OURS=$(j '[m["message_id"] for m in d["messages"] if m["to"] == "priya.vantassel@example.com"][0]' < "$T/s1.json")
CASE1=$(j '[m["case"] for m in d["messages"] if m["to"] == "priya.vantassel@example.com"][0]' < "$T/s1.json")
deliver c1 'Priya Vantassel <priya.vantassel@example.com>' 'Still broken' n8@example.com "In-Reply-To: <$OURS>" <<'B'
I tried a reset, still no luck.
B
poll > "$T/p5.json"
j 'd["emails_detail"][0]["outcome"] + " " + str(d["emails_detail"][0]["case"]) + " " + d["emails_detail"][0]["reason"]' < "$T/p5.json" \
	| grep -qx "updated $CASE1 reply found by In-Reply-To" || fail "reply to our response: $(cat "$T/p5.json")"
echo "ok: a reply to our response threads into $CASE1 by In-Reply-To"

# 7. the SMTP server is down: the response is marked failed, then retried
stop_smtp
deliver d1 'Ines Calloway <ines.calloway@example.org>' 'Cannot log in' n9@example.org <<'B'
My password reset link has expired twice.
B
poll >/dev/null
set +e
ca --json email send --url "smtp://127.0.0.1:$SPORT" --allow-plaintext > "$T/s2.json"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a failed send should exit 1, got $rc"
j 'd["sent"], d["failed"]' < "$T/s2.json" | grep -qx '0 1' || fail "send to a closed port: $(cat "$T/s2.json")"
ca --json email outbox | j '[(m["status"], m["attempts"], "127.0.0.1:'"$SPORT"'" in (m["last_error"] or "")) for m in d["outbox"] if m["to_addr"] == "ines.calloway@example.org"][0]' \
	| grep -qx "('failed', 1, True)" || fail "the failure was not recorded with the server named"
start_smtp
ca --json email send --url "smtp://127.0.0.1:$SPORT" --allow-plaintext > "$T/s3.json" || fail "retry failed: $(cat "$T/s3.json")"
j 'd["attempted"], d["sent"]' < "$T/s3.json" | grep -qx '1 1' || fail "retry: $(cat "$T/s3.json")"
echo "ok: a send to a server that is down is marked failed and sent on the next run"

# 8. errors name the server: a wrong password, a URL with a password
printf 'wrong\n' > "$T/badpw"
set +e
ca email poll --url "$IMAP" --user test --password-file "$T/badpw" --allow-plaintext > "$T/bad.out" 2>&1; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "imap://127.0.0.1:$IPORT" "$T/bad.out" || fail "a refused login: rc $rc, $(cat "$T/bad.out")"
set +e
ca email poll --url "imap://test:s3cret-pw@127.0.0.1:$IPORT/INBOX" --allow-plaintext > "$T/bad2.out" 2>&1; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "password" "$T/bad2.out" && ! grep -q "s3cret-pw" "$T/bad2.out" || fail "a password in the URL: $(cat "$T/bad2.out")"
echo "ok: a refused login and a password in the URL fail with the server named"

# 9. a large message (fetched in ranges) arrives byte for byte; one whose
#    content mimics the IMAP protocol is refused, reported, left unseen, and
#    does not stop the others
"$PY" - "$MAILDIR/tmp/big" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Dmitri Halvorsen <d.halvorsen@example.com>\r\nTo: support@brightwave.example\r\n"
            b"Subject: Logs attached\r\nMessage-ID: <big@example.com>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nMy router logs:\r\n")
    f.write(b"x" * 200000 + b"\r\n")                 # one line longer than a fetch range
    for i in range(20000):
        f.write(b"line %05d \xc3\xa4\r\n" % i)       # and many short ones
PY
[ "$(id -u)" -eq 0 ] && chown "$MUSER" "$MAILDIR/tmp/big"
mv "$MAILDIR/tmp/big" "$MAILDIR/new/big"
{ printf 'From: Fenna Brightwater <fenna.b@example.net>\r\nTo: support@brightwave.example\r\nSubject: odd\r\nMessage-ID: <odd@example.net>\r\n\r\n'
  for n in $(seq 1 60); do printf 'A%03d OK not really\r\n' "$n"; done; } > "$MAILDIR/tmp/odd"
[ "$(id -u)" -eq 0 ] && chown "$MUSER" "$MAILDIR/tmp/odd"
mv "$MAILDIR/tmp/odd" "$MAILDIR/new/odd"
deliver e1 'Hugo Morcombe <hugo.m@example.net>' 'Wrong colour delivered' n10@example.net <<'B'
I ordered the blue one and got a red one.
B
set +e
poll > "$T/p6.json"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a poll with a refused message should exit 1, got $rc"
j 'd["unseen"], d["ingested"], len(d["failed"]), d["failed"][0]["code"]' < "$T/p6.json" | grep -qx '3 2 1 CA_EPARSE' \
	|| fail "poll with a large and a protocol-like message: $(cat "$T/p6.json")"
[ "$(unseen)" = 1 ] || fail "the refused message should stay unseen (and only it)"
"$PY" - "$T/t.db" "$MAILDIR/cur" <<'PY'
import os, sqlite3, sys
raw = sqlite3.connect(sys.argv[1]).execute("SELECT raw FROM email WHERE msg_key = 'mid:big@example.com'").fetchone()[0]
raw = raw.encode() if isinstance(raw, str) else raw
orig = [open(os.path.join(sys.argv[2], f), "rb").read() for f in os.listdir(sys.argv[2]) if f.startswith("big")][0]
assert raw == orig, "stored %d bytes, the server holds %d" % (len(raw), len(orig))
print("ok: a %d-byte message with a 200 KB line arrived byte for byte" % len(orig))
PY

# 10. the mailbox's UIDVALIDITY changes (a restored or rebuilt mailbox): the
#     poll records the new one, says so, and still takes what is unseen
imap_py "M.uid('store', M.uid('search', None, 'UNSEEN')[1][0], '+FLAGS', '(\\\\Deleted)'); M.expunge()"
NEWV=$(( $(j 'd["uidvalidity"]' < "$T/p1.json") + 1000 ))
DOVEADM=$(command -v doveadm || echo /usr/bin/doveadm)
"$DOVEADM" -c "$T/dovecot.conf" mailbox update -u test --uid-validity "$NEWV" INBOX 2>"$T/doveadm.err" \
	|| fail "doveadm could not change UIDVALIDITY: $(cat "$T/doveadm.err")"
deliver f1 'Priya Vantassel <priya.vantassel@example.com>' 'Another question' n11@example.com <<'B'
Can I change the delivery address of my open order?
B
poll > "$T/p7.json"
j 'd["uidvalidity"] == '"$NEWV"', d["uidvalidity_changed"], d["ingested"]' < "$T/p7.json" | grep -qx 'True True 1' \
	|| fail "UIDVALIDITY change: $(cat "$T/p7.json")"
poll > "$T/p8.json"
j 'd["uidvalidity_changed"], d["ingested"]' < "$T/p8.json" | grep -qx 'False 0' || fail "after the change: $(cat "$T/p8.json")"
echo "ok: a new UIDVALIDITY is recorded and reported once; unseen mail is still taken"

# 11. over email.max_message_bytes: the poll stops fetching once the server's
#     RFC822.SIZE says so, keeps the headers and a prefix, and marks it seen
"$PY" - "$SRC/tests/data/email/settings.json" "$T/small-limit.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["email"]["max_message_bytes"] = 200000
json.dump(s, open(sys.argv[2], "w"))
PY
ca settings import "$T/small-limit.json" >/dev/null
"$PY" - "$MAILDIR/tmp/huge" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Dmitri Halvorsen <d.halvorsen@example.com>\r\nTo: support@brightwave.example\r\n"
            b"Subject: All my logs\r\nMessage-ID: <huge@example.com>\r\n\r\n")
    for i in range(100000):
        f.write(b"log line %06d with some words to make it longer\r\n" % i)
PY
[ "$(id -u)" -eq 0 ] && chown "$MUSER" "$MAILDIR/tmp/huge"
HUGE=$(stat -c %s "$MAILDIR/tmp/huge")
mv "$MAILDIR/tmp/huge" "$MAILDIR/new/huge"
lines=$(wc -l < "$T/dovecot.log")
poll > "$T/p9.json"
for _ in $(seq 50); do # Dovecot logs the end of the poll's session as it closes
	tail -n +$((lines + 1)) "$T/dovecot.log" > "$T/p9.log"
	grep -q 'Logged out' "$T/p9.log" && break
	sleep 0.1
done
j 'd["ingested"], d["emails_detail"][0]["outcome"], d["emails_detail"][0]["reason"].startswith("too large")' < "$T/p9.json" \
	| grep -qx '1 skipped True' || fail "an over-size message over IMAP: $(cat "$T/p9.json")"
[ "$(unseen)" = 0 ] || fail "the over-size message was left unseen"
"$PY" - "$T/t.db" "$HUGE" "$T/p9.log" <<'PY'
import re, sqlite3, sys
raw_size, received = sqlite3.connect(sys.argv[1]).execute(
    "SELECT raw_size, received_size FROM email WHERE message_id = 'huge@example.com'").fetchone()
assert received == int(sys.argv[2]), (received, sys.argv[2])
assert raw_size <= 200000, raw_size
sent = [int(m) for m in re.findall(r"Logged out in=\d+ out=(\d+)", open(sys.argv[3]).read())]
assert len(sent) == 1 and sent[0] < 1000000, "the poll's sessions sent %r bytes of a %s-byte message" % (sent, sys.argv[2])
print("ok: a %d-byte message over IMAP: the poll's session sent %d bytes, %d kept" % (received, sent[0], raw_size))
PY
echo "ok: e-mail over IMAP and SMTP"
