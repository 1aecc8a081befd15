#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Spam never becomes a case, an automatic response or an update (issue 9,
# item 3), on the verdicts servers on the way wrote: X-Spam-Flag,
# X-Spam-Status, X-Spam, rspamd's X-Spamd-Result, X-Rspamd-Action and
# X-Spamd-Bar. A header saying "no" never vouches for a message. Spam is
# stored, logged as "spam" with the verdict's source and score, and a
# person can release it (`email release ID --actor NAME`), which then
# decides it as new mail and records who. A filter that cannot be reached
# leaves the mail "not spam-checked" (processed, or held with on_failure
# "hold"), and a filter that never answers costs at most its timeout.
# The email.spam settings are validated with errors naming the key.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
export CA_NOW=1767225600
ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The test settings plus a catch-all rule that opens a case for anyone and
# answers: the worst case for spam, where every message would be a case.
settings() { # settings OUT [SPAM-JSON]
	python3 - "$SRC/tests/data/email/settings.json" "$1" "${2:-}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["arc_rules"].append({"name": "catch-all", "fields": {"title": "{subject}", "description": "{body}"},
                       "accept_unknown_senders": True, "auto_response": True})
if sys.argv[3]:
    s["email"]["spam"] = json.loads(sys.argv[3])
json.dump(s, open(sys.argv[2], "w"))
PY
}
settings "$T/s.json"
ca init >/dev/null
ca settings import "$T/s.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null

mail() { # mail FILE FROM SUBJECT MESSAGE-ID [EXTRA-HEADER...] < body
	local f=$1 from=$2 subject=$3 mid=$4; shift 4
	{ printf 'From: %s\r\nTo: Support <support@brightwave.example>\r\nSubject: %s\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <%s>\r\n' "$from" "$subject" "$mid"
	  for h in "$@"; do printf '%s\r\n' "$h"; done
	  printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'; cat; } > "$T/$f"
}
detail() { ca --json email ingest "$T/$1" | j "$2"; }
outcome() { detail "$1" 'd["emails_detail"][0]["outcome"] + " " + str(d["emails_detail"][0].get("case")) + " " + d["emails_detail"][0]["reason"]'; }
outbox() { ca --json email outbox | j 'len(d["outbox"])'; }
cases() { ca --json case list 2>/dev/null | j 'len(d["cases"])' 2>/dev/null || echo "?"; }

# 1. each header form a filter writes makes its message spam: no case, no response
n=0
for h in 'X-Spam-Flag: YES' 'X-Spam-Status: Yes, score=15.3 required=5.0 tests=BAYES_99,HTML_MESSAGE autolearn=no' \
	 'X-Spam: Yes' 'X-Spamd-Result: default: True [16.20 / 15.00]; R_SPF_FAIL(1.00)[-all]' \
	 'X-Rspamd-Action: reject' 'X-Spam-Action: add header' 'X-Spamd-Bar: +++++++++'; do
	n=$((n + 1))
	mail "h$n.eml" "Winner <winner$n@lottery.example>" "You have won \$1,000,000" "h$n@lottery.example" "$h" <<'B'
Claim your prize now: send your bank details to the address below.
B
	r=$(outcome "h$n.eml"); echo "$h -> $r"
	[[ $r == "spam None spam (header "* ]] || fail "'$h' did not make the mail spam: $r"
done
[ "$(outbox)" = 0 ] || fail "spam got an automatic response"
ca --json email log | j 'd["log"][0]["outcome"] + "|" + d["log"][0]["spam_source"] + "|" + str(d["log"][0]["spam_score"])' |
	grep -qx 'spam|header X-Spamd-Bar|9.0' || fail "the log lacks outcome spam with the source and score: $(ca --json email log | j 'd["log"][0]')"
ca --json email log | j '[r for r in d["log"] if r["email_id"] == 2][0]["spam_score"]' | grep -qx 15.3 ||
	fail "X-Spam-Status score not logged"
ca --json email show 1 | j 'd["spam_status"] + "|" + str(d["held"]) + "|" + d["spam_source"]' | grep -qx 'spam|True|header X-Spam-Flag' ||
	fail "email show does not say it is held as spam"

# 2. a header saying "no" (anyone can write one) is not a spam verdict, and
#    values that are not a verdict (X-Spam: high, a short bar) are ignored
mail no.eml 'Dana Ruiz <dana.ruiz@example.org>' 'Where is my parcel' no@example.org 'X-Spam-Flag: NO' 'X-Spam-Status: No, score=-1.0 required=5.0' 'X-Spam: high' 'X-Spamd-Bar: ++' <<'B'
My parcel has not arrived yet, order BW-123456.
B
r=$(outcome no.eml); echo "no: $r"
[[ $r == "created CAS-00001 "* ]] || fail "a 'not spam' header changed the decision: $r"
[ "$(outbox)" = 1 ] || fail "the ordinary mail got no response"

# 3. a spam reply into an existing case (its token) updates nothing
before=$(ca --json case show CAS-00001 | j 'd["version"]')
mail reply.eml 'Dana Ruiz <dana.ruiz@example.org>' 'Re: [CAS-00001] We received: Where is my parcel' re@example.org 'X-Spam-Flag: YES' <<'B'
Cheap watches, best prices, click here.
B
r=$(outcome reply.eml); echo "spam reply: $r"
[[ $r == "spam None "* ]] || fail "a spam reply was threaded: $r"
[ "$(ca --json case show CAS-00001 | j 'd["version"]')" = "$before" ] || fail "a spam reply changed the case"

# 4. release: a person finds it among the held mail and lets it through;
#    it is then decided as new mail
ca --json email held | j 'len(d["held"])' | grep -qx 8 || fail "email held does not list the 8 held mails: $(ca --json email held)"
ca email held | grep -q "8 held e-mails" || fail "email held (text)"
id=$(ca --json email log | j '[r for r in d["log"] if r["outcome"] == "spam"][-1]["email_id"]')
ca email release --help | grep -q -- '--actor' || fail "release --help lacks --actor"
out=$(ca --json email release "$id" --actor alice)
echo "release: $out"
echo "$out" | j 'd["outcome"] + "|" + d["released_by"] + "|" + str(d["case"])' | grep -qx 'created|alice|CAS-00002' ||
	fail "release did not create the case: $out"
ca --json email log | j 'd["log"][0]["actor"] + "|" + d["log"][0]["outcome"] + "|" + d["log"][0]["reason"]' |
	grep -q '^alice|created|released by alice: ' || fail "the release is not in the log with its actor"
ca --json email show "$id" | j 'd["released_by"] + "|" + str(d["held"])' | grep -qx 'alice|False' || fail "email show lacks released_by"
[ "$(outbox)" = 2 ] || fail "the released mail got no response"
if ca email release "$id" --actor bob 2>"$T/err"; then fail "a second release succeeded"; fi
grep -q "is not held: alice released it" "$T/err" || fail "second release: $(cat "$T/err")"
ca email release 2 --actor bob >/dev/null 2>&1 || fail "releasing another spam mail failed"
ca email release "$(ca --json email log | j '[r for r in d["log"] if r["outcome"] == "created"][-1]["email_id"]')" --actor bob 2>"$T/err" &&
	fail "an e-mail that was never held was released"
grep -q "is not held" "$T/err" || fail "never held: $(cat "$T/err")"
ca email log | grep -q "spam" || fail "email log (text) does not show spam"
ca --json email held | j 'len(d["held"])' | grep -qx 6 || fail "released mails are still listed as held"

# 5. settings: errors name the key
bad() { # bad SPAM-JSON KEY
	settings "$T/bad.json" "$1"
	if ca settings import "$T/bad.json" 2>"$T/err" >/dev/null; then fail "accepted email.spam $1"; fi
	grep -q "$2" "$T/err" || fail "error for $1 does not name $2: $(cat "$T/err")"
}
bad '{"spamd": "localhost"}' 'email.spam.spamd'
bad '{"spamd": "127.0.0.1:99999"}' 'email.spam.spamd'
bad '{"rspamd": "127.0.0.1:11333"}' 'email.spam.rspamd'
bad '{"spamd": "127.0.0.1:783", "rspamd": "http://127.0.0.1:11333"}' 'email.spam'
bad '{"spamd": "127.0.0.1:783", "timeout_ms": 5}' 'email.spam.timeout_ms'
bad '{"spamd": "127.0.0.1:783", "on_failure": "drop"}' 'email.spam.on_failure'
bad '{"spamd": "127.0.0.1:783", "threshold": -1}' 'email.spam.threshold'
bad '{"spamd": "127.0.0.1:783", "colour": "red"}' 'colour'
bad '{"headers": "yes"}' 'email.spam.headers'
bad '{"spamd": "127.0.0.1:783", "respond_below": -1}' 'email.spam.respond_below'
bad '{"on_failure": "hold"}' 'names no filter'

# 6. a filter nobody listens on: processed, logged as not spam-checked
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
settings "$T/s2.json" "{\"spamd\": \"127.0.0.1:$PORT\", \"timeout_ms\": 2000}"
ca settings import "$T/s2.json" >/dev/null
mail down.eml 'Hugo Morcombe <hugo.m@example.net>' 'My kettle leaks' down@example.net <<'B'
My kettle leaks from the bottom since this morning.
B
r=$(outcome down.eml); echo "filter down: $r"
[[ $r == "created "*"; not spam-checked" ]] || fail "with the filter down (process) the mail was not processed as unchecked: $r"
ca --json email log | j 'd["log"][0]["spam_source"]' | grep -q "spamd 127.0.0.1:$PORT: cannot connect" ||
	fail "the log does not say the filter was unreachable: $(ca --json email log | j 'd["log"][0]')"
ca --json email show "$(ca --json email log | j 'd["log"][0]["email_id"]')" | j 'd["spam_status"]' | grep -qx unchecked ||
	fail "spam_status is not unchecked"
#    ... and with on_failure "hold": held, no case, releasable
settings "$T/s3.json" "{\"spamd\": \"127.0.0.1:$PORT\", \"on_failure\": \"hold\"}"
ca settings import "$T/s3.json" >/dev/null
mail down2.eml 'Hugo Morcombe <hugo.m@example.net>' 'My toaster sparks' down2@example.net <<'B'
My toaster sparks when I switch it on.
B
r=$(outcome down2.eml); echo "filter down (hold): $r"
[[ $r == "held None not spam-checked (spamd 127.0.0.1:$PORT: cannot connect"* ]] || fail "on_failure hold did not hold: $r"

# 7. a filter that accepts and never answers: the timeout ends the wait
python3 - "$T/port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    c, _ = s.accept(); conns.append(c)   # read nothing, answer nothing
PY
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
settings "$T/s4.json" "{\"spamd\": \"127.0.0.1:$(cat "$T/port")\", \"timeout_ms\": 1500}"
ca settings import "$T/s4.json" >/dev/null
mail hang.eml 'Hugo Morcombe <hugo.m@example.net>' 'My blender hums' hang@example.net <<'B'
My blender hums but the blades do not turn.
B
mail hang2.eml 'Priya Vantassel <priya.vantassel@example.com>' 'My earbuds crackle' hang2@example.com <<'B'
My earbuds crackle on the left side.
B
mkdir "$T/hang"; mv "$T/hang.eml" "$T/hang2.eml" "$T/hang/"
t0=$(date +%s)
ca --json email ingest "$T/hang" > "$T/hang.json"
t1=$(date +%s)
j 'd["outcomes"]["created"]' < "$T/hang.json" | grep -qx 2 || fail "a hung filter stopped the mail: $(cat "$T/hang.json")"
ca --json email log | j 'd["log"][1]["spam_source"]' | grep -q "timed out" || fail "the log does not say the filter timed out"
#    the next message does not wait again: the failed filter is left alone for a while
ca --json email log | j 'd["log"][0]["spam_source"]' | grep -q "not asked, it failed less than" ||
	fail "the second message waited for the hung filter too: $(ca --json email log | j 'd["log"][0]')"
echo "hung filter: 2 messages in $((t1 - t0)) s"
echo "ok: spam headers, release, settings, filter failures"
