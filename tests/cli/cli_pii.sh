#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of PII removal through the real binary: `pii redact` on a
# sentence given as an argument and on standard input (placeholders, the
# count line, the --json object with byte offsets, a contact's name found
# from the database), and `pii eval` on a small Presidio-format file of our
# own (tests/data/pii/presidio_small.json, character offsets behind
# multibyte text) checking the JSON shape and that every span is found.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_pii.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_pii.sh CASEAGENT_BINARY SOURCE_DIR}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/pii.db"

fail() { echo "FAIL (cli_pii): $*" >&2; exit 1; }
run() { OUT=$("$BIN" "$@" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr"); }
ok() { run "$@"; [ "$RC" -eq 0 ] || fail "caseagent $* exited $RC: $ERR"; }
py() { printf '%s' "$OUT" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); $1" || fail "$2: $OUT"; }

ok init

# redact: placeholders in the text and a count line, never the values
S='Hi, my name is Ann Lee. Mail ann.lee@example.com or call +1 (555) 123-4567 about card 4111 1111 1111 1111.'
ok pii redact "$S"
printf '%s\n' "$OUT" | head -1 | grep -qF 'Hi, my name is [PERSON]. Mail [EMAIL] or call [PHONE] about card [CREDIT_CARD].' \
	|| fail "redacted text: $OUT"
printf '%s\n' "$OUT" | tail -1 | grep -qF 'removed: 1 EMAIL, 1 PHONE, 1 CREDIT_CARD, 1 PERSON' || fail "count line: $OUT"
printf '%s\n' "$OUT" | grep -qF 'ann.lee@example.com' && fail "the e-mail address leaked: $OUT"

# the same from standard input, as JSON with byte offsets into the original
OUT=$(printf '%s' "$S" | "$BIN" --json pii redact - 2>"$T/stderr") || fail "pii redact - failed: $(cat "$T/stderr")"
py '
s = sys.argv[1] if len(sys.argv) > 1 else None
assert set(d) >= {"text", "removed", "spans"}, d
assert d["removed"] == {"EMAIL": 1, "PHONE": 1, "CREDIT_CARD": 1, "PERSON": 1}, d["removed"]
assert all(set(x) >= {"type", "begin", "end"} for x in d["spans"]), d["spans"]
assert [x["type"] for x in d["spans"]] == ["PERSON", "EMAIL", "PHONE", "CREDIT_CARD"], d["spans"]
' "redact --json shape"
printf '%s' "$OUT" | S="$S" python3 -c '
import json, os, sys
d = json.loads(sys.stdin.read()); b = os.environ["S"].encode()
e = [x for x in d["spans"] if x["type"] == "EMAIL"][0]
assert b[e["begin"]:e["end"]] == b"ann.lee@example.com", e
' || fail "span offsets are not byte offsets: $OUT"

# a contact of the database is a known person wherever it is mentioned
printf '{"id":"C-1","full_name":"Zyxwa Qorvath"}\n' >"$T/contacts.jsonl"
ok import contacts "$T/contacts.jsonl"
ok --json pii redact 'please ask zyxwa qorvath about the refund'
py 'assert d["text"] == "please ask [PERSON] about the refund", d' "contact name"

# nothing to remove: the text comes back as it was
ok pii redact 'The invoice total looks wrong.'
[ "$OUT" = $'The invoice total looks wrong.\nremoved: nothing' ] || fail "clean text changed: $OUT"

# eval: figures per type, overall, exact and the residual rate
ok --json pii eval "$SRC/tests/data/pii/presidio_small.json"
py '
types = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "STREET_ADDRESS", "PERSON"]
for t in types + ["overall"]:
    assert set(d[t]) == {"precision", "recall", "f1", "support", "predicted"}, (t, d[t])
for t in types:
    assert d[t]["support"] == 1 and d[t]["recall"] == 1.0, (t, d[t])
assert d["overall"]["support"] == 8 and d["overall"]["recall"] == 1.0, d["overall"]
assert d["overall"]["precision"] >= 0.85, d["overall"]
assert "overall" in d["exact"] and "PERSON" in d["exact"], d["exact"]
assert d["residual_pii_rate"] == 0.0, d["residual_pii_rate"]
assert d["records"] == 4 and d["ignored_types"] == {"ORGANIZATION": 1}, d
' "eval --json shape"

# a folder: every .json file in it, as the datasets in ../shared/data come
mkdir -p "$T/gold"
cp "$SRC/tests/data/pii/presidio_small.json" "$T/gold/a.json"
cp "$SRC/tests/data/pii/presidio_small.json" "$T/gold/b.json"
printf 'not json' >"$T/gold/README.md"
ok --json pii eval "$T/gold"
py 'assert d["records"] == 8 and d["overall"]["support"] == 16, d' "eval over a folder"

# the table for people
ok pii eval "$SRC/tests/data/pii/presidio_small.json"
printf '%s\n' "$OUT" | grep -q '^  CREDIT_CARD ' || fail "eval table: $OUT"
printf '%s\n' "$OUT" | grep -q 'residual PII rate: 0' || fail "eval residual line: $OUT"

# a file that is not Presidio's format is an error naming it
printf '{"not": "a list"}' >"$T/bad.json"
run pii eval "$T/bad.json"
[ "$RC" -eq 1 ] || fail "bad eval file: exit $RC"
printf '%s\n' "$ERR" | grep -qF 'bad.json' || fail "error does not name the file: $ERR"

echo "cli_pii: all checks passed"
