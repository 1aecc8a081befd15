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

# shellcheck source=lib/serve.bash
. "$SRC/tests/web/lib/serve.bash"
web_scratch ca-web-e2e

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

web_serve "$BIN" "$DB" "$WEB/dist" e2e
API_PORT=$WEB_PORT

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
