#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo` (tools/demo.sh): without a terminal it replays, scores and
# shows a case, then ends (exit 0, no server left behind); from a terminal
# (here a pseudo-terminal made by script(1)) it then serves the demo
# database and prints an address and a demo login that works: the login
# answers 200 with a session cookie, a case list answers with the cases the
# replay made, and Ctrl-C (SIGINT) stops it. Arguments: $1 the caseagent
# binary, $2 the source dir. The demo's output goes to a scratch folder
# (CASEAGENT_DEMO_OUT), never the source tree's out/.
set -u
BIN=$(readlink -f "${1:?usage: cli_demo.sh CASEAGENT_BINARY SOURCE_DIR}")
SRC=$(readlink -f "${2:?usage: cli_demo.sh CASEAGENT_BINARY SOURCE_DIR}")
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL (cli_demo): $*" >&2; [ -f "$T/out.txt" ] && tail -20 "$T/out.txt" >&2; exit 1; }
export CASEAGENT_DEMO_OUT="$T/out"

# No terminal: the demo ends after the replay.
"$SRC/tools/demo.sh" "$BIN" </dev/null >"$T/plain.txt" 2>&1 || { cat "$T/plain.txt"; fail "the demo failed without a terminal"; }
grep -q '== Replay' "$T/plain.txt" || fail "no replay summary"
grep -q 'Login:' "$T/plain.txt" && fail "served without a terminal"

command -v script >/dev/null || { echo "cli_demo: script(1) not found; the terminal half is not run"; exit 0; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CASEAGENT_DEMO_LISTEN="127.0.0.1:$PORT" script -qfec "$SRC/tools/demo.sh $BIN" /dev/null >"$T/out.txt" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
	grep -q 'listening on' "$T/out.txt" 2>/dev/null && break
	kill -0 "$PID" 2>/dev/null || fail "the demo ended before serving"
	sleep 0.2
done
grep -q "Address:  http://127.0.0.1:$PORT/" "$T/out.txt" || fail "no address printed"
PW=$(sed -n 's/.*Login:    user demo, password \([^ ]*\) .*/\1/p' "$T/out.txt" | tr -d '\r')
[ -n "$PW" ] || fail "no demo login printed"
curl -s -o "$T/login.json" -D "$T/login.h" -H 'Content-Type: application/json' \
	-d "{\"user\":\"demo\",\"password\":\"$PW\"}" "http://127.0.0.1:$PORT/api/v1/session" || fail "login request failed"
grep -q '^HTTP/1.1 200' "$T/login.h" || fail "the demo login was refused: $(head -1 "$T/login.h")"
COOKIE=$(sed -n 's/^Set-Cookie: \(caseagent_session=[^;]*\).*/\1/p' "$T/login.h" | tr -d '\r')
[ -n "$COOKIE" ] || fail "no session cookie"
curl -s -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/api/v1/cases?limit=5" >"$T/cases.json" || fail "case list failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("cases") else 1)' "$T/cases.json" ||
	fail "the served demo database shows no cases: $(head -c 300 "$T/cases.json")"
# Ctrl-C: script passes SIGINT on to serve through the terminal; signal
# serve itself, as the terminal would.
SPID=$(pgrep -f "serve --listen 127.0.0.1:$PORT" | head -1)
[ -n "$SPID" ] || fail "no serve process"
kill -INT "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SPID" 2>/dev/null && fail "serve did not stop on SIGINT"
wait "$PID"
echo "cli_demo: ok"
