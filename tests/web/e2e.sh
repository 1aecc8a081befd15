#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web UI's end-to-end tests: a real `caseagent serve` on 127.0.0.1 over
# a real SQLite file (the example settings, contacts and products; users
# made with `caseagent user add`, the chat platform's token with `caseagent
# token create`) hosting the built UI itself (`serve --web web/dist`: one
# origin, its cache headers and Content-Security-Policy as in production),
# and the tests in web/e2e/ driving Debian's chromium through playwright-core.
# The tests get the binary and the database too (E2E_BIN, E2E_DB) for what
# only the CLI does, such as a follow-up tick at a set time (`followup run
# --now`). Screenshots go to out/screenshots/.
#
# Usage: tests/web/e2e.sh CASEAGENT_BINARY SOURCE_DIR
set -euo pipefail

BIN=$(realpath "$1")
SRC=$(realpath "$2")
WEB="$SRC/web"
[ -x "$BIN" ] || { echo "e2e: no caseagent binary at $1" >&2; exit 2; }
[ -f "$WEB/dist/index.html" ] || { echo "e2e: the UI is not built: run make web" >&2; exit 2; }
[ -d "$WEB/node_modules/playwright-core" ] || { echo "e2e: run npm ci in web/ first (make web)" >&2; exit 2; }
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "e2e: Debian's chromium is not installed (make deps)" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ca-web-e2e.XXXXXX")
SERVE_PID=""
DRAIN_PID=""
cleanup() {
	if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
	if [ -n "$DRAIN_PID" ]; then kill "$DRAIN_PID" 2>/dev/null || true; wait "$DRAIN_PID" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

DB="$T/e2e.db"
ca() { "$BIN" --db "$DB" "$@"; }
ca init >/dev/null
ca settings import "$SRC/examples/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import products "$SRC/examples/products.jsonl" >/dev/null
PASSWORD="correct horse battery staple"
printf '%s\n' "$PASSWORD" >"$T/pw"
ca user add rep --role "Customer Service Representative" --password-file "$T/pw" >/dev/null
ca user add ada --role "System Administrator" --password-file "$T/pw" >/dev/null
ca user add chatbot --role Integration >/dev/null
CHAT_TOKEN=$(ca token create chatbot --name e2e 2>/dev/null)

# serve on a free port: its first line of stdout says where it listens.
mkfifo "$T/serve.out"
"$BIN" --db "$DB" serve --listen 127.0.0.1:0 --workers 2 --web "$WEB/dist" >"$T/serve.out" 2>"$T/serve.log" &
SERVE_PID=$!
exec 3<"$T/serve.out"
read -r -t 20 LINE <&3 || { echo "e2e: serve did not start" >&2; cat "$T/serve.log" >&2; exit 1; }
API_PORT=$(printf '%s' "$LINE" | sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p')
[ -n "$API_PORT" ] || { echo "e2e: serve said: $LINE" >&2; exit 1; }
# Keep reading the fifo so serve never blocks on a full pipe.
cat <&3 >/dev/null &
DRAIN_PID=$!

# serve hosts the UI: its page, with the policy the tests rely on.
curl -fsS -o /dev/null "http://127.0.0.1:$API_PORT/" || { echo "e2e: serve does not answer the UI at /" >&2; cat "$T/serve.log" >&2; exit 1; }
HEADERS=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$API_PORT/")
grep -qi "^Content-Security-Policy: default-src 'self'" <<<"$HEADERS" ||
	{ echo "e2e: the UI is served without its Content-Security-Policy" >&2; exit 1; }

mkdir -p "$SRC/out/screenshots"
rc=0
(cd "$WEB" && E2E_BASE="http://127.0.0.1:$API_PORT" E2E_API="http://127.0.0.1:$API_PORT" E2E_CHAT_TOKEN="$CHAT_TOKEN" \
	E2E_PASSWORD="$PASSWORD" E2E_SCREENSHOTS="$SRC/out/screenshots" CHROMIUM="$CHROMIUM" E2E_BIN="$BIN" E2E_DB="$DB" \
	node --test --test-concurrency=1 e2e/) || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- serve's access log (last 40 lines) ---" >&2
	tail -n 40 "$T/serve.log" >&2
fi
exit "$rc"
