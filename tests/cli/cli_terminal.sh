#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test: terminal control characters from outside input never
# reach the terminal through text output. A chat whose conversation id and
# messages carry ESC sequences (CSI, OSC window title), BEL, CR, DEL and the
# 8-bit C1 CSI (U+009B), and an e-mail whose RFC 2047 subject decodes to an
# ESC sequence, are shown by `chat event`, `case show`, `case list`,
# `interactions`, `email log` and error messages: none of those outputs
# (stdout or stderr) holds a C0 byte other than newline and tab, DEL, a
# C1 control, or a raw 8-bit or overlong control from bytes that are not
# UTF-8 (a command-line argument in an error); the neutralised form (^[ for
# ESC) is visible. With --json
# the same data comes out JSON-escaped and decodes to the original text.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_terminal.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_terminal.sh CASEAGENT_BINARY SOURCE_DIR}
EX="$SRC/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/term.db"

fail() { echo "FAIL (cli_terminal): $*" >&2; exit 1; }
ok() { "$BIN" "$@" >"$T/out" 2>"$T/err" || fail "caseagent $* exited $?: $(cat "$T/err")"; }
# clean WHAT FILE: FILE holds no terminal control character.
clean() {
	python3 - "$1" "$2" <<'EOF' || exit 1
import re, sys
what, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data)
if bad:
    print(f"FAIL (cli_terminal): {what}: control byte {bad.group()!r} at {bad.start()}: {data[max(0, bad.start()-30):bad.start()+30]!r}", file=sys.stderr)
    sys.exit(1)
EOF
}
# shown WHAT FILE: the neutralised ESC is visible (the text was not dropped).
shown() { grep -qF '^[' "$2" || fail "$1: the neutralised ESC (^[) is not shown: $(cat "$2")"; }

ok init
ok settings import "$EX/settings.json"
ok import contacts "$EX/contacts.jsonl"
ok import products "$EX/products.jsonl"

CONV='evil\u001b]0;owned\u0007'
ev() { ok chat event "$1"; clean "chat event $2" "$T/out"; clean "chat event $2 (stderr)" "$T/err"; }
ev "{\"id\":\"e1\",\"type\":\"open\",\"conversation\":\"$CONV\"}" open
shown "chat event open" "$T/out"
ev "{\"id\":\"e2\",\"type\":\"message\",\"conversation\":\"$CONV\",\"message\":{\"id\":\"m1\",\"role\":\"customer\",\"text\":\"Hi, I am Priya Vantassel, priya.vantassel@example.com. My Lumora X2 earbud \u001b[2J\u001b[31mwill not charge\u0007\r\u007f \u009b31m at all\"}}" m1
ev "{\"id\":\"e3\",\"type\":\"message\",\"conversation\":\"$CONV\",\"message\":{\"id\":\"m2\",\"role\":\"agent\",\"text\":\"Sorry to hear that. I have sent a replacement \u001b[8mhidden\u001b[0m pair.\"}}" m2
ev "{\"id\":\"e4\",\"type\":\"message\",\"conversation\":\"$CONV\",\"message\":{\"id\":\"m3\",\"role\":\"customer\",\"text\":\"The left earbud of my Lumora X2 still will not charge \u001b[1A\u001b[K, order BW-482913\"}}" m3
ev "{\"id\":\"e5\",\"type\":\"accept\",\"conversation\":\"$CONV\"}" accept
ev "{\"id\":\"e6\",\"type\":\"close\",\"conversation\":\"$CONV\"}" close

ok --json case list
TICKET=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cases"]; print(c[0]["ticket_number"] if c else "")' "$T/out")
[ -n "$TICKET" ] || fail "no case was created from the conversation: $(cat "$T/out")"
ok case show "$TICKET"
clean "case show" "$T/out"
shown "case show" "$T/out"
ok case list
clean "case list" "$T/out"
ok interactions
clean "interactions" "$T/out"
# --json: escaped by JSON, and the text is the original, byte for byte.
ok --json case show "$TICKET"
python3 - "$T/out" <<'EOF' || fail "case show --json does not hold the original text"
import json, sys
raw = open(sys.argv[1], "rb").read()
assert b"\x1b" not in raw, "raw ESC in --json output"
d = json.loads(raw)
assert "\x1b[2J" in d["fields"]["description"] or any("\x1b" in n["body"] for n in d["notes"]), d
EOF

# Errors name outside input too: stderr is neutralised as well.
"$BIN" chat event '{"id":"x","type":"update","conversation":"no\u001b[2Jsuch\u009b"}' >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "an event for an unknown conversation did not fail"
clean "error message" "$T/err"
shown "error message" "$T/err"

# Bytes that are not UTF-8 reach the error message from the command line:
# a raw 8-bit CSI (0x9B), an overlong ESC (E0 80 9B), a C1 CSI (C2 9B).
"$BIN" case show "$(printf 'x\233y\340\200\233z\302\233w')" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "case show of an unknown case did not fail"
python3 - "$T/err" <<'EOF' || fail "8-bit controls reach the terminal: $(od -c "$T/err" | head -3)"
import sys
data = open(sys.argv[1], "rb").read()
assert b"\x9b" not in data.replace(b"\xef\xbf\xbd", b""), data
EOF

# An e-mail subject (RFC 2047, decoded) with an ESC sequence, in the log.
printf 'From: Priya Vantassel <priya.vantassel@example.com>\r\nTo: support@brightwave.example\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <term-1@example.com>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\nMy earbud will not charge.\r\n' \
	"$(printf 'Broken \033]0;owned\007 earbud \033[2J' | base64 -w0)" >"$T/evil.eml"
ok email ingest "$T/evil.eml"
clean "email ingest" "$T/out"
ok email log
clean "email log" "$T/out"
shown "email log" "$T/out"
echo "ok: cli_terminal"
