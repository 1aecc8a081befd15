#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The rspamd client (email.spam.rspamd: POST /checkv2, issue 9 item 3)
# against a real rspamd started here: its own configuration directory
# (LOCAL_CONFDIR), database and run directories, one normal worker on a free
# 127.0.0.1 port, no controller, proxy or fuzzy workers, no DNS (a dead
# resolver), hyperscan off so it starts in seconds. GTUBE (the standard
# test pattern every filter must call spam) is held as spam with rspamd's
# action and score in the log; an ordinary request is processed with its
# verdict "not spam". Exit 77 (skip) when rspamd is not installed.
set -euo pipefail
BIN=$1; SRC=$2
command -v rspamd >/dev/null 2>&1 || { echo "SKIP: rspamd is not installed (Debian: rspamd)"; exit 77; }
T=$(mktemp -d)
RPID=
cleanup() {
	if [ -n "$RPID" ]; then
		kill "$RPID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/rspamd.log" ] && tail -5 "$T/rspamd.log" >&2; exit 1; }
ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/conf/local.d" "$T/db" "$T/run"
printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\n' "$PORT" > "$T/conf/local.d/worker-normal.inc"
for w in controller proxy fuzzy; do echo 'enabled = false;' > "$T/conf/local.d/worker-$w.inc"; done
printf 'type = "file";\nfilename = "%s/rspamd.log";\nlevel = "error";\n' "$T" > "$T/conf/local.d/logging.inc"
printf 'disable_hyperscan = true;\ndns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 0; }\n' > "$T/conf/local.d/options.inc"
USER_OPT=()
if [ "$(id -u)" -eq 0 ]; then
	USER_OPT=(-u nobody -g nogroup)
	chmod -R a+rwX "$T"
fi
rspamd -f "${USER_OPT[@]}" -c /etc/rspamd/rspamd.conf --var="LOCAL_CONFDIR=$T/conf" --var="DBDIR=$T/db" \
	--var="RUNDIR=$T/run" --var="LOGDIR=$T" >"$T/rspamd.out" 2>&1 &
RPID=$!
printf 'From: a@b.example\r\nSubject: ping\r\n\r\nping\r\n' > "$T/ping.eml"
up=no
for _ in $(seq 600); do
	kill -0 "$RPID" 2>/dev/null || { cat "$T/rspamd.out" >&2; fail "rspamd exited"; }
	if [ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/ping.eml" "http://127.0.0.1:$PORT/checkv2" 2>/dev/null)" = 200 ]; then
		up=yes; break
	fi
	sleep 0.2
done
[ $up = yes ] || fail "rspamd did not start"

python3 - "$SRC/tests/data/email/settings.json" "$T/s.json" "$PORT" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["arc_rules"].append({"name": "catch-all", "fields": {"title": "{subject}", "description": "{body}"},
                       "accept_unknown_senders": True, "auto_response": True})
s["email"]["spam"] = {"rspamd": f"http://127.0.0.1:{sys.argv[3]}", "timeout_ms": 60000}
json.dump(s, open(sys.argv[2], "w"))
PY
ca init >/dev/null
ca settings import "$T/s.json" >/dev/null
mail() { # mail FILE FROM SUBJECT MESSAGE-ID < body
	{ printf 'From: %s\r\nTo: Support <support@brightwave.example>\r\nSubject: %s\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <%s>\r\n' "$2" "$3" "$4"
	  printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'; cat; } > "$T/$1"
}
mail gtube.eml 'Winner <win@lottery.example>' 'Test spam mail (GTUBE)' g1@lottery.example <<'B'
This is the GTUBE, the
	Generic
	Test for
	Unsolicited
	Bulk
	Email

XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X
B
r=$(ca --json email ingest "$T/gtube.eml" | j 'd["emails_detail"][0]["outcome"] + " " + d["emails_detail"][0]["reason"]')
echo "GTUBE: $r"
[[ $r == "spam spam (rspamd http://127.0.0.1:$PORT: "* ]] || fail "GTUBE through rspamd: $r"
ca --json email log | j 'd["log"][0]["spam_source"] + "|" + str(d["log"][0]["spam_score"])' | grep -q "^rspamd http://127.0.0.1:$PORT|" ||
	fail "the log lacks rspamd as the source"
[ "$(ca --json email outbox | j 'len(d["outbox"])')" = 0 ] || fail "GTUBE got a response"
mail ok.eml 'Dana Ruiz <dana.ruiz@example.org>' 'Where is my parcel' ok1@example.org <<'B'
Hello, my parcel has not arrived yet. The order number is BW-123456. Could you check with the courier?
Thank you, Dana
B
r=$(ca --json email ingest "$T/ok.eml" | j 'd["emails_detail"][0]["outcome"]')
echo "ordinary mail: $r"
[ "$r" = created ] || fail "an ordinary mail through rspamd: $r"
ca --json email show 2 | j 'd["spam_status"] + "|" + d["spam_source"]' | grep -q "^not spam|rspamd " || fail "no 'not spam' verdict recorded"
echo "ok: rspamd client against a real rspamd"
