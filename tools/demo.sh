#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demonstration run by `make demo`: usage `tools/demo.sh PATH/TO/caseagent`.
# Takes the ABCD conversations when the shared data set is present beside the
# repository (../shared/data/abcd, converted with tools/abcd-convert into
# out/abcd), else the invented shop in examples/; builds a fresh out/demo.db
# (init, settings, contacts, products); replays every conversation through the
# case lifecycle (accept after the customer's 2nd message, an update every 4
# messages, wrap-up, close) and prints the replay summary; scores the same
# transcripts with `caseagent simulate`; and shows the first case created with
# its provenance and its audit. Everything it writes stays under out/. Run
# from a terminal, it then starts `caseagent serve` on the demo database at
# 127.0.0.1:8080 (CASEAGENT_DEMO_LISTEN) with a demo login it prints, until
# Ctrl-C; without a terminal it ends after the replay.
set -euo pipefail

BIN=${1:?usage: tools/demo.sh PATH/TO/caseagent}
[ -x "$BIN" ] || { echo "demo: $BIN is not an executable (build first: make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ABCD="$HERE/../../shared/data/abcd"
OUT=${CASEAGENT_DEMO_OUT:-"$ROOT/out"}

heading() { printf '\n== %s ==\n' "$*"; }
ca() { printf '$ caseagent %s\n' "$*"; "$BIN" "$@"; }

mkdir -p "$OUT"
if [ -f "$ABCD/conversations.json" ]; then
	heading "Data: ABCD (converted from $(cd "$ABCD" && pwd))"
	"$ROOT/tools/abcd-convert" "$ABCD/conversations.json" "$OUT/abcd"
	DATA="$OUT/abcd"
else
	heading "Data: examples/ (ABCD not found at $ABCD)"
	DATA="$ROOT/examples"
fi
for f in settings.json contacts.jsonl products.jsonl conversations.jsonl; do
	[ -f "$DATA/$f" ] || { echo "demo: missing $DATA/$f" >&2; exit 1; }
done

export CASEAGENT_DB="$OUT/demo.db"
rm -f "$CASEAGENT_DB" "$CASEAGENT_DB-wal" "$CASEAGENT_DB-shm"

heading "A fresh database"
ca init
ca settings import "$DATA/settings.json"
ca import contacts "$DATA/contacts.jsonl"
ca import products "$DATA/products.jsonl"

heading "Replay: accept after the customer's 2nd message, update every 4 messages, wrap-up, close"
ca chat replay "$DATA/conversations.jsonl" --accept-after 2 --update-every 4

heading "Simulation on the same transcripts (scored against their labels; writes nothing)"
ca simulate "$DATA/conversations.jsonl" --accept-after 2 --update-every 4

FIRST=$("$BIN" --json case list | python3 -c '
import json, sys
cases = json.load(sys.stdin)["cases"]
print(min(cases, key=lambda c: c["id"])["ticket_number"] if cases else "")')
if [ -z "$FIRST" ]; then
	heading "No case was created"
else
	heading "The first case created, with the provenance of each field"
	ca case show "$FIRST"
	heading "Its audit"
	ca audit "$FIRST"
fi
printf '\nThe database is %s; try: %s --db %s case list\n' "$CASEAGENT_DB" "$BIN" "$CASEAGENT_DB"

# From a terminal, the service on the demo database: a demo login (a new
# random password each run, kept only as its hash) and Ctrl-C to stop.
# Without a terminal (CI, a pipe) the demo ends here, as before.
if [ -t 0 ] && [ -t 1 ] && [ -z "${CASEAGENT_DEMO_NO_SERVE:-}" ]; then
	LISTEN=${CASEAGENT_DEMO_LISTEN:-127.0.0.1:8080}
	PW_FILE="$OUT/demo-password"
	(umask 077 && head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$PW_FILE")
	"$BIN" --quiet user add demo --role "CSR Manager" --password-file "$PW_FILE"
	heading "caseagent serve on the demo database (Ctrl-C stops it)"
	printf 'Address:  http://%s/   (API: http://%s/api/v1/, OpenAPI: http://%s/openapi.json)\n' "$LISTEN" "$LISTEN" "$LISTEN"
	printf 'Login:    user demo, password %s   (also in %s)\n\n' "$(cat "$PW_FILE")" "$PW_FILE"
	exec "$BIN" serve --listen "$LISTEN"
fi
