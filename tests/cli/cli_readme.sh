#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's e-mail and knowledge examples run as written on examples/:
# the set-up block, then every command of the "E-mail" and "Knowledge"
# blocks, read from README.md itself (so the README cannot drift from what
# works), each with exit 0, inside a copy of examples/. Left out, and said
# so: `email poll` and `email send` (they need an IMAP or SMTP server;
# cli_email_net covers them) and the `eval`/`pii eval` lines over
# ../shared/data (their own tests run them). Then what the examples promise
# is checked: the e-mails made cases and queued a response, the out-of-office
# reply made none, the resolved case drafted an article that is published
# externally and found by the search. Arguments: $1 the caseagent binary,
# $2 the project source directory.
set -u
BIN=${1:?usage: cli_readme.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_readme.sh CASEAGENT_BINARY SOURCE_DIR}
BIN=$(readlink -f "$BIN")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/readme.db"
fail() { echo "FAIL (cli_readme): $*" >&2; exit 1; }

cp -r "$SRC/examples" "$T/examples" || fail "cannot copy examples/"
# The blocks: the set-up (the sh block after "run as they are inside
# `examples/`"), then those after "E-mail (" and "Knowledge (".
python3 - "$SRC/README.md" "$SRC" >"$T/commands" <<'EOF' || fail "README.md has not the expected blocks"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
out = []
for intro in ("run as they are inside `examples/`", "\nE-mail (", "\nKnowledge (", "\nFollow-up and closure ("):
    at = text.index(intro)
    m = re.compile(r"```sh\n(.*?)```", re.S).search(text, at)
    for line in m.group(1).splitlines():
        cmd = re.sub(r"\s+#.*$", "", line).strip()
        if not cmd or cmd.startswith("#"):
            continue
        assert cmd.startswith("caseagent "), cmd
        if re.search(r"caseagent email (poll|send|release)\b|\.\./shared/data", cmd):
            print("skipped: " + cmd, file=sys.stderr)
            continue
        # Paths into the repository's tests/ name the source tree.
        cmd = re.sub(r"(?<= )tests/", sys.argv[2] + "/tests/", cmd)
        out.append(cmd)
assert len(out) >= 15, out
print("\n".join(out))
EOF
caseagent() { "$BIN" "$@"; }
cd "$T/examples" || fail "no examples copy"
n=0
while IFS= read -r cmd; do
	out=$(eval "$cmd" 2>"$T/err") || fail "README command failed (exit $?): $cmd
$(cat "$T/err")"
	printf '%s\n' "$out" >"$T/out.$n"
	n=$((n + 1))
done <"$T/commands"
echo "ok: $n README commands ran on examples/"

j() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1"; }
log=$("$BIN" --json email log) || fail "email log failed"
[ "$(printf '%s' "$log" | j 'sum(r["outcome"] == "created" for r in d["log"])')" -ge 3 ] ||
	fail "the example e-mails did not create three cases: $log"
[ "$(printf '%s' "$log" | j 'sum(r["outcome"] == "skipped" and "office" in (r["reason"] or "") for r in d["log"])')" = 1 ] ||
	fail "the out-of-office reply was not skipped as such: $log"
ob=$("$BIN" --json email outbox) || fail "email outbox failed"
[ "$(printf '%s' "$ob" | j 'len(d["outbox"])')" -ge 3 ] || fail "no automatic responses were queued: $ob"
[ "$(printf '%s' "$ob" | j 'sum("office" in r["to_addr"] or r["to_addr"] == "ines.calloway@example.org" for r in d["outbox"])')" = 0 ] ||
	fail "an automatic response went to an out-of-office reply: $ob"
ka=$("$BIN" --json knowledge search "earbuds will not pair" --audience external) || fail "search failed"
printf '%s' "$ka" | grep -q 'KA-00001' || fail "the published article is not found externally: $ka"
# The follow-up walk-through: three follow-ups to the earbuds customer, 48
# hours apart, threaded and automatic, then the case resolved by the agent.
fu=$("$BIN" --json case show CAS-00039) || fail "case show CAS-00039 failed"
[ "$(printf '%s' "$fu" | j 'd["fields"]["status"]')" = resolved ] || fail "the follow-up agent did not resolve CAS-00039: $fu"
ob=$("$BIN" --json email outbox) || fail "email outbox failed"
[ "$(printf '%s' "$ob" | j 'sum(r.get("case") == "CAS-00039" and r["subject"].startswith("Following up") and r["headers"].get("Auto-Submitted") == "auto-generated" and bool(r["headers"].get("In-Reply-To")) for r in d["outbox"])')" = 3 ] ||
	fail "not three follow-ups to CAS-00039: $ob"
echo "ok: cli_readme"
