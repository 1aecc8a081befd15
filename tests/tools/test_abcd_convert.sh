#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test of tools/abcd-convert on tests/data/abcd_mini (3 invented conversations
# in ABCD's schema with a tiny reference/). Exit 0 when every check passes;
# otherwise prints each failed check and exits 1.
# usage: tests/tools/test_abcd_convert.sh [REPO_ROOT]
set -u

ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOL="$ROOT/tools/abcd-convert"
DATA="$ROOT/tests/data/abcd_mini"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/abcd-convert-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fails=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { # check "description" command...
	local what=$1; shift
	if "$@" >"$WORK/check.out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/       /' "$WORK/check.out"; fi
}

[ -x "$TOOL" ] || { echo "FAIL - $TOOL is not executable"; exit 1; }

# ---- --help
check "--help exits 0 and shows the usage" \
	bash -c '"$1" --help | grep -q "CONVERSATIONS.json OUTDIR"' _ "$TOOL"

# ---- conversion of the mini set
OUT="$WORK/out"
if "$TOOL" "$DATA/conversations.json" "$OUT" 2>"$WORK/stderr"; then
	pass "conversion exits 0"
else
	fail "conversion exits 0 (status $?)"; cat "$WORK/stderr"
fi
check "one-line summary on stderr with the counts" \
	grep -q "wrote 3 conversations, 2 contacts, 5 products, 5 category options" "$WORK/stderr"
for f in settings.json contacts.jsonl products.jsonl conversations.jsonl; do
	check "$f exists and is not empty" test -s "$OUT/$f"
done

# Everything else is checked in Python (the tool's own runtime).
check "outputs are valid JSON/JSONL with the expected content" python3 - "$OUT" "$DATA" <<'PY'
import json, os, re, sys
out, data = sys.argv[1], sys.argv[2]
errors = []
def expect(cond, msg):
    if not cond:
        errors.append(msg)

def jsonl(name):
    rows = []
    with open(os.path.join(out, name), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append("%s line %d: invalid JSON: %s" % (name, n, e))
    return rows

with open(os.path.join(out, "settings.json"), encoding="utf-8") as f:
    settings_text = f.read()
settings = json.loads(settings_text)
contacts = jsonl("contacts.jsonl")
products = jsonl("products.jsonl")
convs = jsonl("conversations.jsonl")

# settings.json schema
expect(settings.get("version") == 1, "settings.version != 1")
expect(settings.get("channels") == {"chat": True, "email": False}, "settings.channels")
expect(settings.get("default_fields") == ["customer", "category", "description"], "settings.default_fields")
expect(settings.get("summary_note_on_close") is True, "summary_note_on_close")
expect(settings.get("record_agent_experience") is True, "record_agent_experience")
fields = {f["name"]: f for f in settings["fields"]}
expect(list(fields) == ["customer", "category", "description", "product", "order_number", "priority"],
       "field order: %s" % list(fields))
expect(fields["customer"] == {"name": "customer", "label": "Customer", "type": "lookup",
                              "lookup": "contact", "threshold": 0.6}, "customer field")
expect(fields["product"]["lookup"] == "product", "product field lookup")
expect(fields["order_number"]["pattern"] == r"\b[0-9]{10}\b", "order_number pattern")
expect([o["value"] for o in fields["priority"]["options"]] == ["low", "normal", "high", "urgent"], "priority options")
expect(all(o.get("description") for o in fields["priority"]["options"]), "priority descriptions")
rule = settings["update_rules"][0]
expect(rule == {"name": "product defect details",
                "condition": {"match": "all", "conditions": [
                    {"field": "category", "operator": "equals", "value": "product_defect"}]},
                "predict": ["product", "order_number"]}, "update rule: %r" % rule)
opts = {o["value"]: o for o in fields["category"]["options"]}
expect(list(opts) == ["account_access", "product_defect", "shipping_issue", "single_item_query",
                      "storewide_query"], "category options follow ontology flows: %s" % list(opts))
expect(opts["single_item_query"]["label"] == "Single-Item Query", "guideline key 'Single-Item Query' matched")
subs = {o["value"]: {sc["label"]: sc["description"] for sc in o.get("subcategories", [])} for o in fields["category"]["options"]}
expect("Boots FAQ" in subs["single_item_query"], "subflow becomes a subcategory")
pd = " ".join(subs["product_defect"].values())
expect("Validate Purchase" in pd, "action text in subcategory description")
expect("Email Address" in pd, "action subtext in subcategory description")
expect(opts["product_defect"]["description"].startswith("refunds and returns of faulty"), "flow description kept")
expect("description" not in opts["storewide_query"], "no guideline -> no description")
expect(opts["product_defect"].get("cues") == ["refund", "return", "size", "color"],
       "product_defect cues: %r" % opts["product_defect"].get("cues"))
expect(opts["shipping_issue"].get("cues") == ["missing", "cost"], "generic cue words dropped")

# no label / scenario / delexed-target text in settings.json
low = settings_text.lower()
for leak in ["marisol", "quenby", "mquenby411", "tobias", "renwick", "k3x9q2m7zd", "5820147736",
             "0091827364", "555-0147", "larkspur", "brookhaven", "return_size", "recover_username",
             "zephyr", "c-mquenby411", "p-guess-boots"]:
    expect(leak not in low, "settings.json leaks %r" % leak)

# guideline instructions are admin prose about each subflow: they belong in subcategories
expect("mini-instructions-marker" in low, "subflow instructions are part of the subcategory descriptions")

# contacts
expect(len(contacts) == 2, "2 contacts (dedup by e-mail), got %d" % len(contacts))
byid = {c["id"]: c for c in contacts}
expect(byid.get("C-mquenby411") == {"id": "C-mquenby411", "full_name": "Marisol Quenby",
                                    "email": "mquenby411@email.com", "phone": "(312) 555-0147",
                                    "username": "mquenby411"}, "contact C-mquenby411: %r" % byid.get("C-mquenby411"))
tob = [c for c in contacts if c.get("full_name") == "Tobias Renwick"]
expect(len(tob) == 1 and tob[0].get("account_number") == "k3x9q2m7zd" and "email" not in tob[0]
       and "username" not in tob[0], "contact Tobias Renwick: %r" % tob)

# products
pids = [p["id"] for p in products]
expect(pids == ["P-guess-boots", "P-guess-jacket", "P-michael_kors-boots", "P-michael_kors-jacket",
                "P-zephyr_denim-jacket"], "product ids: %s" % pids)
mk = next((p for p in products if p["id"] == "P-michael_kors-boots"), {})
expect(mk.get("name") == "Michael Kors Boots", "product name title-cased")
expect("michael kors boots" in mk.get("aliases", []) and "michael_kors boots" in mk.get("aliases", []),
       "product aliases: %r" % mk.get("aliases"))

# conversations
expect([c["conversation_id"] for c in convs] == ["abcd-90001", "abcd-90002", "abcd-90003"], "conversation ids")
c1, c2, c3 = (convs + [{}, {}, {}])[:3]
expect(all(c.get("channel") == "chat" for c in convs), "channel chat")
expect([m["role"] for m in c1["messages"]][:5] == ["agent", "customer", "agent", "customer", "system"],
       "roles (action -> system)")
expect([m["id"] for m in c1["messages"]][:2] == ["abcd-90001-m1", "abcd-90001-m2"], "message ids")
expect(len(c1["messages"]) == 10 and c1["messages"][3]["text"] == "Marisol Quenby", "message text kept")
expect(c1.get("labels") == {"customer": "C-mquenby411", "category": "product_defect",
                            "order_number": "5820147736", "product": "P-guess-boots"}, "labels 1: %r" % c1.get("labels"))
expect(c2.get("labels") == {"customer": tob[0]["id"] if tob else None, "category": "account_access"},
       "labels 2 (no order, no product): %r" % c2.get("labels"))
expect(c3.get("labels") == {"customer": "C-mquenby411", "category": "shipping_issue",
                            "order_number": "0091827364", "product": "P-zephyr_denim-jacket"},
       "labels 3: %r" % c3.get("labels"))
expect(c1.get("labels_found_in_text", {}).get("customer") is True, "conv 1: customer found")
expect(c1.get("labels_found_in_text", {}).get("order_number") is True, "conv 1: order found")
expect(c2.get("labels_found_in_text", {}).get("customer") is False,
       "conv 2: name only in a system line -> not found")
expect(c3.get("labels_found_in_text", {}).get("customer") is False, "conv 3: customer not found")
expect(c3.get("labels_found_in_text", {}).get("order_number") is True, "conv 3: spaced digits found")
expect("order_number" not in c2.get("labels_found_in_text", {}), "conv 2: no flag for an absent label")

if errors:
    print("\n".join(errors))
    sys.exit(1)
PY

# ---- without reference files: flow names only
NOREF="$WORK/noref"; mkdir -p "$NOREF/empty"
cp "$DATA/conversations.json" "$NOREF/conversations.json"
check "works without reference/ (flows seen in data, no descriptions)" bash -c '
	"$1" "$2/conversations.json" "$2/out" 2>/dev/null || exit 1
	python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
opts = s[\"fields\"][1][\"options\"]
assert [o[\"value\"] for o in opts] == [\"account_access\", \"product_defect\", \"shipping_issue\"], opts
assert all(\"description\" not in o and \"cues\" not in o and \"subcategories\" not in o for o in opts), opts
" "$2/out/settings.json"' _ "$TOOL" "$NOREF"
check "--reference DIR overrides the default place" bash -c '
	"$1" --reference "$2" "$3/conversations.json" "$3/out2" 2>/dev/null &&
	grep -q "\"storewide_query\"" "$3/out2/settings.json"' _ "$TOOL" "$DATA/reference" "$NOREF"

# ---- malformed input: exit 2 and a message naming the problem
expect_exit2() { # expect_exit2 "what" file "grep pattern" [extra args]
	local what=$1 file=$2 pat=$3; shift 3
	"$TOOL" "$@" "$file" "$WORK/bad-out" >/dev/null 2>"$WORK/err"
	local rc=$?
	if [ "$rc" -eq 2 ] && grep -q -- "$pat" "$WORK/err"; then
		pass "$what"
	else
		fail "$what (exit $rc, stderr: $(cat "$WORK/err"))"
	fi
}
printf '[{"convo_id": 1, "scenario": {}, "original": []},' >"$WORK/trunc.json"
expect_exit2 "invalid JSON -> exit 2 naming file and line" "$WORK/trunc.json" "trunc.json: invalid JSON at line 1"
python3 - "$DATA/conversations.json" "$WORK" <<'PY'
import json, sys
convs = json.load(open(sys.argv[1]))
bad = json.loads(json.dumps(convs)); del bad[1]["original"]
json.dump(bad, open(sys.argv[2] + "/no-original.json", "w"))
bad = json.loads(json.dumps(convs)); bad[2]["original"][3][0] = "robot"
json.dump(bad, open(sys.argv[2] + "/bad-speaker.json", "w"))
bad = json.loads(json.dumps(convs)); bad[0]["scenario"] = "oops"
json.dump(bad, open(sys.argv[2] + "/bad-scenario.json", "w"))
bad = json.loads(json.dumps(convs)); bad[2]["convo_id"] = 90001
json.dump(bad, open(sys.argv[2] + "/dup-id.json", "w"))
json.dump({"convo_id": 1}, open(sys.argv[2] + "/not-list.json", "w"))
PY
expect_exit2 "missing 'original' -> exit 2 naming conversation #1 (convo_id 90002)" \
	"$WORK/no-original.json" "conversation #1 (convo_id 90002): missing or invalid original"
expect_exit2 "unknown speaker -> exit 2 naming the turn" \
	"$WORK/bad-speaker.json" "conversation #2 (convo_id 90003): original\[3\]: unknown speaker 'robot'"
expect_exit2 "scenario not an object -> exit 2" "$WORK/bad-scenario.json" "conversation #0 (convo_id 90001): missing or invalid scenario"
expect_exit2 "duplicate convo_id -> exit 2" "$WORK/dup-id.json" "duplicate convo_id"
expect_exit2 "top level not a list -> exit 2" "$WORK/not-list.json" "expected a JSON list"
expect_exit2 "missing file -> exit 2" "$WORK/nope.json" "nope.json: conversations file not found"
expect_exit2 "missing --reference dir -> exit 2" "$DATA/conversations.json" "reference directory not found" \
	--reference "$WORK/no-such-dir"
check "no output written on bad input" test ! -e "$WORK/bad-out"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"
