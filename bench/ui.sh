#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The browser UI, the last section of `make bench` (bench/run.sh): usage
# `bench/ui.sh BUILD_DIR`. Prints the built UI's JavaScript size, gzip
# (target <= 250 KB), and the time from navigation to an interactive
# workspace with 500 cases (target <= 1 s): a scratch SQLite file with the
# example settings, contacts and products and 500 open cases (`caseagent
# import cases`, owned by the representative who signs in), `caseagent
# serve --web web/dist` on a free port of 127.0.0.1, and bench/ui.mjs
# driving Debian's chromium through playwright-core (web/node_modules).
# It prints figures and never fails on them; without a built UI, its npm
# packages or chromium it says so and exits 0.
set -euo pipefail

BUILD=${1:?usage: bench/ui.sh BUILD_DIR}
BIN="$BUILD/caseagent"
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (build first: make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
NCASES=${UI_BENCH_CASES:-500}

echo
echo "caseagent benchmark: web UI (web/dist; chromium through playwright-core; $NCASES cases)"
[ -f "$ROOT/web/dist/index.html" ] || { echo "  skipped: the UI is not built (make web)"; exit 0; }
[ -d "$ROOT/web/node_modules/playwright-core" ] || { echo "  skipped: web/node_modules has no playwright-core (make web)"; exit 0; }
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "  skipped: Debian's chromium is not installed (make deps)"; exit 0; }
command -v node >/dev/null 2>&1 || { echo "  skipped: node is not installed"; exit 0; }

# shellcheck source=../tests/web/lib/serve.bash
. "$ROOT/tests/web/lib/serve.bash"
web_scratch ca-bench-ui

export CASEAGENT_DB="$T/ui.db"
"$BIN" --quiet init
"$BIN" --quiet settings import "$ROOT/examples/settings.json"
"$BIN" --quiet import contacts "$ROOT/examples/contacts.jsonl"
"$BIN" --quiet import products "$ROOT/examples/products.jsonl"
PASSWORD="correct horse battery staple"
printf '%s\n' "$PASSWORD" >"$T/pw"
"$BIN" --quiet user add rep --role "Customer Service Representative" --password-file "$T/pw"
# NCASES open cases owned by rep, over the example contacts and categories.
python3 - "$ROOT/examples/contacts.jsonl" "$NCASES" >"$T/cases.jsonl" <<'PY'
import json, sys
contacts = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()]
kinds = [("device_fault", "The left earbud will not charge in its case"),
         ("delivery_problem", "My parcel is stuck at the depot since Monday"),
         ("billing_question", "I was charged twice for the same order"),
         ("returns_exchange", "I would like to swap the charger for another model"),
         ("account_help", "The password reset link has expired")]
for i in range(int(sys.argv[2])):
    cat, text = kinds[i % len(kinds)]
    print(json.dumps({"fields": {"title": f"{text} ({i + 1})", "description": f"{text}. Reference {100000 + i}.",
                                 "category": cat, "customer": contacts[i % len(contacts)], "status": "active",
                                 "owner": "rep"}}))
PY
"$BIN" --quiet import cases "$T/cases.jsonl"

web_serve "$BIN" "$CASEAGENT_DB" "$ROOT/web/dist" bench
PORT=$WEB_PORT

UI_BASE="http://127.0.0.1:$PORT" UI_USER=rep UI_PASSWORD="$PASSWORD" UI_CASES="$NCASES" UI_DIST="$ROOT/web/dist" \
	CHROMIUM="$CHROMIUM" node "$HERE/ui.mjs"
