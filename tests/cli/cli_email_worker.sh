#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The background e-mail work as `caseagent serve` runs it, against real
# servers on 127.0.0.1 (tests/cli/lib/mailservers.bash: Dovecot, aiosmtpd):
# `email poll` and `email send` without --url use the servers of settings
# email.imap / email.smtp (ca_email_poll_configured, ca_outbox_send_configured),
# the password read from password_file, and each run is recorded for
# `email status` (ca_email_status): after a success, last_ok_at and the
# counts; after a failure (the wrong port), last_error while the last
# success stays; never the password, in the state, the output or the errors.
# Skips (exit 0) only when dovecot or aiosmtpd is missing or cannot start.
set -euo pipefail
BIN=$1; SRC=$2
skip() { echo "skipped: $*"; exit 0; }
fail() { echo "FAIL (cli_email_worker): $*" >&2; exit 1; }

. "$SRC/tests/cli/lib/mailservers.bash"

ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
status() { ca --json email status | j "$1"; }
# settings IMAP_URL SMTP_URL: the e-mail test settings with the work's servers
settings() {
	"$PY" - "$SRC/tests/data/email/settings.json" "$T/settings.json" "$1" "$2" "$T/pw" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["email"]["imap"] = {"url": sys.argv[3], "user": "test", "password_file": sys.argv[5],
                      "mailbox": "support@brightwave.example", "allow_plaintext": True}
s["email"]["smtp"] = {"url": sys.argv[4], "allow_plaintext": True}
s["email"]["poll_interval_s"] = 60
s["email"]["send_interval_s"] = 30
json.dump(s, open(sys.argv[2], "w"))
PY
	ca settings import "$T/settings.json" >/dev/null
}

ca init >/dev/null
ca settings import "$SRC/tests/data/email/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null

# nothing configured: the status says so, a configured poll is refused
[ "$(status 'd["imap"]["configured"], d["smtp"]["configured"], d["imap"]["runs"], d["outbox"]')" = \
	"False False 0 {'queued': 0, 'failed': 0, 'sent': 0}" ] || fail "status before configuring: $(ca --json email status)"
set +e
ca email poll > "$T/nc.out" 2>&1; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "email.imap" "$T/nc.out" || fail "a poll with nothing configured: rc $rc, $(cat "$T/nc.out")"
set +e
ca email poll --user test > "$T/u.out" 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q -- "--user goes with --url" "$T/u.out" || fail "--user without --url: rc $rc, $(cat "$T/u.out")"
echo "ok: nothing configured is reported and refused"

settings "$IMAP" "smtp://127.0.0.1:$SPORT"
[ "$(status 'd["imap"]["configured"], d["imap"]["url"], d["imap"]["interval_s"], d["smtp"]["interval_s"]')" = \
	"True $IMAP 60 30" ] || fail "status after configuring: $(ca --json email status)"

# a successful poll through the settings
deliver w1 'Priya Vantassel <priya.vantassel@example.com>' 'My earbuds will not pair' w1@example.com <<'B'
Hello, my new earbuds will not pair with my phone.
B
deliver w2 'Ines Calloway <ines.calloway@example.org>' 'Cannot log in' w2@example.org <<'B'
I cannot log in to my account since this morning.
B
ca --json email poll > "$T/p1.json" 2>"$T/p1.err" || fail "configured poll failed: $(cat "$T/p1.json" "$T/p1.err")"
j 'd["ingested"]' < "$T/p1.json" | grep -qx 2 || fail "configured poll: $(cat "$T/p1.json")"
[ "$(unseen)" = 0 ] || fail "the configured poll did not mark the mail \\Seen"
ca --json email status > "$T/s1.json"
j 'd["imap"]["runs"], d["imap"]["last_ok_at"] == d["imap"]["last_run_at"], d["imap"]["last_error"], d["imap"]["last_result"]["ingested"], d["imap"]["last_result"]["unseen"]' < "$T/s1.json" \
	| grep -qx '1 True None 2 2' || fail "status after a successful poll: $(cat "$T/s1.json")"
OK_AT=$(j 'd["imap"]["last_ok_at"]' < "$T/s1.json")
echo "ok: email poll without --url polls the configured mailbox; status shows the run"

# a successful send through the settings
start_smtp
queued=$(status 'd["outbox"]["queued"]')
[ "$queued" -ge 1 ] || fail "no automatic response queued: $(ca --json email status)"
ca --json email send > "$T/send.json" 2>"$T/send.err" || fail "configured send failed: $(cat "$T/send.json" "$T/send.err")"
j 'd["sent"], d["failed"]' < "$T/send.json" | grep -qx "$queued 0" || fail "configured send: $(cat "$T/send.json")"
ca --json email status > "$T/s2.json"
j 'd["smtp"]["runs"], d["smtp"]["last_error"], d["smtp"]["last_result"]["sent"], d["outbox"]["queued"], d["outbox"]["sent"]' < "$T/s2.json" \
	| grep -qx "1 None $queued 0 $queued" || fail "status after a send: $(cat "$T/s2.json")"
ls "$T/out/new" | grep -q . || fail "aiosmtpd received nothing"
echo "ok: email send without --url sends through the configured server; status counts the outbox"

# the wrong port: the run fails, is recorded, the last success stays
DEAD=$(free_port)
settings "imap://127.0.0.1:$DEAD/INBOX" "smtp://127.0.0.1:$SPORT"
set +e
ca --json email poll > "$T/bad.out" 2>"$T/bad.err"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a poll of a port nobody listens on: rc $rc, $(cat "$T/bad.out" "$T/bad.err")"
ca --json email status > "$T/s3.json"
j 'd["imap"]["runs"], d["imap"]["url"], d["imap"]["last_ok_at"], d["imap"]["last_error"] is not None, d["imap"]["last_result"]["ingested"], d["imap"]["last_run_at"] >= d["imap"]["last_ok_at"]' < "$T/s3.json" \
	| grep -qx "2 imap://127.0.0.1:$DEAD/INBOX $OK_AT True 2 True" || fail "status after a failed poll: $(cat "$T/s3.json")"
echo "failed run recorded: $(j 'd["imap"]["last_error"]' < "$T/s3.json")"
# a password file that is gone: a failure naming the file
settings "$IMAP" "smtp://127.0.0.1:$SPORT"
mv "$T/pw" "$T/pw.away"
set +e
ca email poll > "$T/nopw.out" 2>&1; rc=$?
set -e
mv "$T/pw.away" "$T/pw"
[ "$rc" -eq 1 ] && grep -q "$T/pw" "$T/nopw.out" || fail "a missing password file: rc $rc, $(cat "$T/nopw.out")"
[ "$(status 'd["imap"]["runs"]')" = 3 ] || fail "the missing password file was not recorded"
# the password is nowhere: not in the state, the outputs, the errors
for f in "$T"/*.json "$T"/*.out "$T"/*.err; do
	! grep -q 's3cret-pw' "$f" || fail "the password appears in $(basename "$f")"
done
"$PY" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); rows=c.execute('SELECT * FROM worker_state').fetchall(); sys.exit(any('s3cret-pw' in str(r) for r in rows))" "$T/t.db" \
	|| fail "the password is in worker_state"
# and a later success clears the error
ca --json email poll > /dev/null || fail "poll after the failures"
[ "$(status 'd["imap"]["runs"], d["imap"]["last_error"]')" = "4 None" ] || fail "a success did not clear the error: $(ca --json email status)"
echo "ok: a failed run is recorded with its error, the last success kept, the password nowhere"
