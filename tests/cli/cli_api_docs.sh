#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/api.md cannot drift from the server. Against a real `caseagent serve`
# on a free 127.0.0.1 port over a scratch SQLite file prepared by the doc's
# own set-up block (the seed settings of tests/server/data, contacts,
# products, users and tokens with the CLI):
# - the routes table between <!-- routes:begin --> and <!-- routes:end -->
#   is exactly what tools/api-routes.py prints for the live /openapi.json,
#   and the roles table (<!-- roles:* -->) what it prints for GET
#   /api/v1/roles;
# - every example of the doc, a ```sh block followed by its answer (```http:
#   one `curl -si` response; ```json: the JSON values printed), runs as
#   written, read from the doc itself: the worked example's first, in
#   order, then the others (they use its case). Each answer must hold what
#   the doc shows: the status line, every header shown, and every member
#   shown ("..." stands for any value; lists must have the length shown).
# Then SIGTERM stops serve and it must exit 0.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -u
BIN=${1:?usage: cli_api_docs.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_api_docs.sh CASEAGENT_BINARY SOURCE_DIR}
BIN=$(readlink -f "$BIN")
SRC=$(readlink -f "$SRC")
NAME=cli_api_docs
T=$(mktemp -d)
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=lib/assert.bash
. "$SRC/tests/cli/lib/assert.bash"
command -v curl >/dev/null || fail "the examples of docs/api.md use curl: install it (make deps)"
DOC="$SRC/docs/api.md"

# The set-up block (the sh block of "## Worked example" that runs
# `caseagent init`) without its `serve` and `BASE=` lines, which this test
# replaces with a free port; then every example with its answer.
python3 - "$DOC" "$SRC" "$T" <<'EOF' || fail "docs/api.md has not the expected blocks"
import json, re, sys
doc, src, out = sys.argv[1:4]
text = open(doc, encoding="utf-8").read()
fence = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in fence.finditer(text)]
worked = text.index("\n## Worked example")
after = text.index("\n## ", worked + 1)
setup = next(b for b in blocks if b[0] == "sh" and worked < b[2] < after and "caseagent init" in b[1])
lines, dropped = [], 0
for line in setup[1].splitlines():
    if re.match(r"caseagent serve\b.*&\s*$", line) or line.startswith("BASE="):
        dropped += 1
        continue
    lines.append(re.sub(r"(?<= )tests/", src + "/tests/", line))
assert dropped == 2, "the set-up block has no `caseagent serve ... &` and `BASE=` lines"
open(out + "/setup.sh", "w").write("\n".join(lines) + "\n")
steps = []
for (lang, body, start, end), nxt in zip(blocks, blocks[1:]):
    if lang == "sh" and nxt[0] in ("http", "json") and text[end:nxt[2]].strip() == "":
        steps.append({"cmd": body, "kind": nxt[0], "expect": nxt[1], "worked": worked < start < after})
steps = [s for s in steps if s["worked"]] + [s for s in steps if not s["worked"]]
assert sum(s["worked"] for s in steps) >= 10 and len(steps) >= 20, f"only {len(steps)} examples found"
json.dump(steps, open(out + "/steps.json", "w"))
with open(out + "/steps.sh", "w") as f:
    for i, s in enumerate(steps):
        f.write(f"{{\n{s['cmd']}}} >\"$T/out.{i}\" 2>&1\n")
print(f"{len(steps)} examples", file=sys.stderr)
EOF

caseagent() { "$BIN" "$@"; }
cd "$T" || fail "no scratch folder"
# shellcheck disable=SC1091
. "$T/setup.sh" >"$T/setup.out" 2>&1 || fail "the set-up block failed: $(cat "$T/setup.out")"
[ -s "$T/example.db" ] || fail "the set-up block made no example.db"
for v in REP_TOKEN CHAT_TOKEN MAIL_TOKEN; do
	case ${!v:-} in ca_*) ;; *) fail "the set-up block did not set $v to a token: '${!v:-}'" ;; esac
done
export BASE REP_TOKEN CHAT_TOKEN MAIL_TOKEN T

"$BIN" serve --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 300); do
	grep -q 'listening on http://' "$T/serve.out" 2>/dev/null && break
	kill -0 "$SERVE_PID" 2>/dev/null || fail "serve exited before listening: $(cat "$T/serve.err")"
	sleep 0.1
done
BASE=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$T/serve.out" | head -1)
[ -n "$BASE" ] || fail "serve did not say where it listens: $(cat "$T/serve.out")"

# The generated tables equal the live server's.
between() { sed -n "/<!-- $1:begin -->/,/<!-- $1:end -->/p" "$DOC" | sed '1d;$d'; }
python3 "$SRC/tools/api-routes.py" "$BASE/openapi.json" >"$T/routes.md" || fail "api-routes.py failed"
[ "$(wc -l <"$T/routes.md")" -ge 40 ] || fail "api-routes.py printed a short table: $(cat "$T/routes.md")"
between routes >"$T/routes.doc"
diff -u "$T/routes.doc" "$T/routes.md" >"$T/routes.diff" ||
	fail "docs/api.md's routes table differs from tools/api-routes.py $BASE/openapi.json (regenerate it: tools/api-routes.py --write docs/api.md URL):
$(cat "$T/routes.diff")"
python3 "$SRC/tools/api-routes.py" --roles --token "$REP_TOKEN" "$BASE/api/v1/roles" >"$T/roles.md" ||
	fail "api-routes.py --roles failed"
between roles >"$T/roles.doc"
diff -u "$T/roles.doc" "$T/roles.md" >"$T/roles.diff" ||
	fail "docs/api.md's roles table differs from GET /api/v1/roles (regenerate it: tools/api-routes.py --write docs/api.md URL):
$(cat "$T/roles.diff")"
echo "ok: the routes and roles tables of docs/api.md are the live server's"

# The examples, in one shell (a block may define what a later one uses).
# shellcheck disable=SC1091
. "$T/steps.sh"
python3 - "$T" <<'EOF' || fail "an example of docs/api.md did not answer as the doc says"
import json, re, sys
T = sys.argv[1]
steps = json.load(open(T + "/steps.json"))


def values(text):
    """The JSON values of a text, one after another."""
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def holds(exp, act, at="$"):
    """None when act holds what exp shows, else where and why not."""
    if exp == "...":
        return None
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return f"{at}: expected an object, got {json.dumps(act)[:200]}"
        for k, v in exp.items():
            if k not in act:
                return f"{at}: no member {k!r} in {json.dumps(act)[:300]}"
            why = holds(v, act[k], f"{at}.{k}")
            if why:
                return why
        return None
    if isinstance(exp, list):
        if not isinstance(act, list) or len(act) != len(exp):
            return f"{at}: expected {len(exp)} items, got {json.dumps(act)[:300]}"
        for i, (e, a) in enumerate(zip(exp, act)):
            why = holds(e, a, f"{at}[{i}]")
            if why:
                return why
        return None
    if exp != act or isinstance(exp, bool) != isinstance(act, bool):
        return f"{at}: expected {json.dumps(exp)}, got {json.dumps(act)[:300]}"
    return None


def check_http(expect, out):
    head, _, body = expect.partition("\n\n")
    status, *headers = head.splitlines()
    raw = out.replace("\r\n", "\n")
    while re.match(r"HTTP/1\.1 1\d\d ", raw):  # 100 Continue
        raw = raw.split("\n\n", 1)[1]
    ahead, _, abody = raw.partition("\n\n")
    astatus, *aheaders = ahead.splitlines() or [""]
    if astatus.strip() != status.strip():
        return f"status {astatus!r}, expected {status!r}"
    got = {}
    for h in aheaders:
        k, _, v = h.partition(":")
        got[k.strip().lower()] = v.strip()
    for h in headers:
        k, _, v = h.partition(":")
        if got.get(k.strip().lower()) != v.strip():
            return f"header {k.strip()}: {got.get(k.strip().lower())!r}, expected {v.strip()!r}"
    if body.strip():
        try:
            act = json.loads(abody)
        except ValueError:
            return f"the body is not JSON: {abody[:300]!r}"
        return holds(json.loads(body), act)
    return None


def check_json(expect, out):
    exp = values(expect)
    try:
        act = values(out)
    except ValueError:
        return f"the output is not JSON values: {out[:300]!r}"
    return holds(exp, act, "values printed")


bad = 0
for i, s in enumerate(steps):
    out = open(f"{T}/out.{i}", encoding="utf-8", errors="replace").read()
    why = (check_http if s["kind"] == "http" else check_json)(s["expect"], out)
    if why:
        bad += 1
        print(f"FAIL (cli_api_docs): example {i + 1}: {s['cmd'].strip().splitlines()[-1][:160]}\n  {why}\n"
              f"  answered:\n{out[:1500]}", file=sys.stderr)
if bad:
    sys.exit(1)
print(f"ok: {len(steps)} examples of docs/api.md answered as it says")
EOF

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
rc=$?
SERVE_PID=
[ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM, expected 0: $(tail -5 "$T/serve.err")"
grep -q '"route":"/api/v1/cases/{ref}","status":412' "$T/serve.err" ||
	fail "the access log has no line of the stale PATCH: $(tail -5 "$T/serve.err")"
echo "ok: $NAME"
