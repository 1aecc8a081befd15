#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of the user, token and profile commands through the real
# binary and a fresh SQLite file: user add (role names without case, the
# password from a file or stdin, never argv), user list / show / edit,
# token create printing only the token (stored only as its hash), token
# list without secrets, token revoke, profile list / show / put, and the
# errors (unknown role listing the roles, a short password, unknown keys).
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_users.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_users.sh CASEAGENT_BINARY SOURCE_DIR}
NAME=cli_users
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/users.db"
# shellcheck source=lib/assert.bash
. "$SRC/tests/cli/lib/assert.bash"

ok init
printf 'alba has a long password\n' >"$T/alba.pw"
ok --json user add alba.ferreira --role "customer service representative" --password-file "$T/alba.pw"
[ "$(j 'd["role"]')" = "Customer Service Representative" ] || fail "role not matched to the seed's name: $OUT"
[ "$(j 'd["profile"]')" = "Default" ] || fail "new representative did not get the Default profile: $OUT"
[ "$(j 'd["has_password"]')" = True ] || fail "password not stored: $OUT"
# The password file's trailing newline is not part of the password.
python3 - "$CASEAGENT_DB" <<'PY' || fail "password stored as given, or not as Argon2id"
import sqlite3, sys
h = sqlite3.connect(sys.argv[1]).execute("SELECT password_hash FROM users WHERE name='alba.ferreira'").fetchone()[0]
assert h.startswith("$argon2id$") and "long password" not in h
PY
printf 'from standard input' | "$BIN" user add mgr --role "CSR Manager" --password-file - >/dev/null 2>"$T/err" \
	|| fail "password from stdin: $(cat "$T/err")"
ok user add chat-platform --role Integration

run user add bob --role Supervisor
rejected "unknown role"
says "unknown role" "Customer Service Representative"
says "unknown role" "System Administrator"
printf 'short\n' >"$T/short.pw"
run user add bob --role "CSR Manager" --password-file "$T/short.pw"
rejected "short password"
says "short password" "8 to 1024 bytes"
run user add bob --role "CSR Manager" --password-file "$T/missing.pw"
rejected "missing password file"
run user add alba.ferreira --role "CSR Manager"
rejected "duplicate user"
run user add "bad name" --role "CSR Manager"
rejected "bad user name"
run user add bob
[ "$RC" -eq 2 ] || fail "user add without --role exited $RC, expected 2"
run user add bob --role Integration --password-file "$T/alba.pw"
rejected "integration user with a password"
run user add bob --role "CSR Manager" --profile Nonexistent
rejected "unknown profile"
ok --json user list
[ "$(j '[u["name"] for u in d["users"]]')" = "['alba.ferreira', 'chat-platform', 'mgr']" ] || fail "user list: $OUT"
[ "$(j 'all("password_hash" not in u for u in d["users"])')" = True ] || fail "user list shows hashes"
ok user list
printf '%s\n' "$OUT" | grep -q 'alba.ferreira.*Customer Service Representative' || fail "human user list: $OUT"
echo "ok: user add and list"

# Tokens: only the token on stdout, stored as its hash.
ok token create chat-platform --name "live chat"
TOKEN=$OUT
printf '%s' "$TOKEN" | grep -Eqx 'ca_[A-Za-z0-9_-]{43}' || fail "token create printed more than the token: '$OUT'"
python3 - "$CASEAGENT_DB" "$TOKEN" <<'PY' || fail "the token is stored, not only its hash"
import hashlib, sqlite3, sys
db, token = sys.argv[1], sys.argv[2]
rows = sqlite3.connect(db).execute("SELECT * FROM api_token").fetchall()
cells = [str(c) for r in rows for c in r]
assert not any(token in c or token[3:] in c for c in cells), cells
assert hashlib.blake2b(token.encode(), digest_size=32).hexdigest() in cells
PY
ok --json token create alba.ferreira
[ "$(j 'd["token"].startswith("ca_") and d["user"] == "alba.ferreira" and d["id"] == 2')" = True ] || fail "token create --json: $OUT"
SECOND=$(j 'd["token"]')
ok --json token list
[ "$(j 'len(d["tokens"])')" = 2 ] || fail "token list: $OUT"
printf '%s' "$OUT" | grep -qF "$SECOND" && fail "token list shows a secret"
printf '%s' "$OUT" | grep -q '"hash"' && fail "token list shows hashes"
ok --json token list --user chat-platform
[ "$(j '[t["name"] for t in d["tokens"]]')" = "['live chat']" ] || fail "token list --user: $OUT"
ok token revoke 1
ok --json token list --user chat-platform
[ "$(j 'd["tokens"][0]["revoked_at"] is not None')" = True ] || fail "revoke left the token live: $OUT"
run token revoke 99
rejected "revoke of an unknown token"
run token revoke abc
[ "$RC" -eq 2 ] || fail "token revoke abc exited $RC, expected 2"
run token create nobody
rejected "token for an unknown user"
echo "ok: token create, list, revoke"

# Profiles and user edit.
ok --json profile list
[ "$(j '[(p["name"], p["autonomous_case"], p["autonomous_followup"], p["users"]) for p in d["profiles"]]')" = \
	"[('Default', True, True, 3)]" ] || fail "profile list: $OUT"
printf '{"description": "the representative creates cases", "autonomous_case": false, "autonomous_followup": true}' \
	>"$T/assisted.json"
ok --json profile put Assisted "$T/assisted.json"
[ "$(j 'd["autonomous_case"]')" = False ] || fail "profile put: $OUT"
printf '{"autonomous_case": false, "autonomous_followup": true, "colour": "red"}' >"$T/bad.json"
run profile put Assisted "$T/bad.json"
rejected "unknown profile key"
says "unknown profile key" "colour"
ok --json user edit alba.ferreira --profile Assisted --display-name "Alba Ferreira" --role "omnichannel agent"
[ "$(j '(d["profile"], d["display_name"], d["role"])')" = "('Assisted', 'Alba Ferreira', 'Omnichannel Agent')" ] \
	|| fail "user edit: $OUT"
ok --json profile show Assisted
[ "$(j 'd["users"]')" = 1 ] || fail "profile show counts: $OUT"
ok profile show Assisted
printf '%s\n' "$OUT" | grep -q 'autonomous_case *false' || fail "human profile show: $OUT"
ok --json user edit alba.ferreira --disable
[ "$(j 'd["disabled"]')" = True ] || fail "user edit --disable: $OUT"
ok --json user edit alba.ferreira --enable --no-password
[ "$(j '(d["disabled"], d["has_password"])')" = "(False, False)" ] || fail "user edit --enable --no-password: $OUT"
run user edit alba.ferreira --disable --enable
[ "$RC" -eq 2 ] || fail "--disable --enable exited $RC, expected 2"
run user edit alba.ferreira
[ "$RC" -eq 2 ] || fail "user edit without a change exited $RC, expected 2"
run user edit alba.ferreira --role Boss
rejected "user edit to an unknown role"
run user edit nobody --role "CSR Manager"
rejected "user edit of an unknown user"
ok --json user show alba.ferreira
[ "$(j 'd["role"]')" = "Omnichannel Agent" ] || fail "a refused edit changed the user: $OUT"
for c in "user add" "user list" "user show" "user edit" "token create" "token list" "token revoke" \
	"profile list" "profile show" "profile put"; do
	# shellcheck disable=SC2086 # two words on purpose
	ok $c --help
done
echo "ok: profiles and user edit"
