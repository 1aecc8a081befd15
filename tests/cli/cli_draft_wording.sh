#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A knowledge draft's wording (issue 9, item 8): a case whose resolution is
# only "Let me check the payments on that order." drafts nothing (the log
# says why) and a resolution that checks first and then states the fix
# drafts with the statement alone; a title that names an order number keeps
# no "[ORDER_NUMBER]" placeholder (the issue keeps it), and neither does one
# whose first words were a greeting and a name.
# Arguments: $1 the caseagent binary, $2 the project source directory.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ca() { "$BIN" --db "$T/t.db" "$@"; }
fail() { echo "FAIL (cli_draft_wording): $*" >&2; exit 1; }

python3 - "$T/cases.jsonl" <<'PY'
import json, sys
cases = [
    ("Payment taken twice for order BW-123456", "The card statement shows two identical payments for order BW-123456 last week.",
     "Let me check the payments on that order."),
    ("Hi, Zorbina Qwell here.", "My Heron tablet screen flickers since the update on Monday evening.",
     "Let me check that. I pushed the display patch and the flicker is gone now."),
    ("Refund for order BW-654321 never arrived", "The refund for order BW-654321 was promised ten days ago and never arrived.",
     "Reissued the refund to the original card and e-mailed the confirmation."),
]
with open(sys.argv[1], "w") as f:
    for title, desc, res in cases:
        f.write(json.dumps({"fields": {"title": title, "description": desc, "owner": "ann", "status": "resolved"},
                            "resolution": res}) + "\n")
PY
ca init >/dev/null
ca settings import "$SRC/tests/data/knowledge/settings.json" >/dev/null
ca import cases "$T/cases.jsonl" >/dev/null
ca --json knowledge harvest --from cases >"$T/h.json" || fail "harvest: $(cat "$T/h.json")"
ca --json knowledge harvest log 1 >"$T/log.json" || fail "harvest log"
python3 - "$T/t.db" "$T/log.json" <<'PY' || fail "draft wording"
import json, re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
arts = db.execute("SELECT title, issue, resolution FROM knowledge_article ORDER BY id").fetchall()
log = json.load(open(sys.argv[2]))["log"]

for title, issue, res in arts:
    assert not re.search(r"\[[A-Z_]+\]", title), ("a placeholder in the title", title)
    assert "let me check" not in res.lower(), ("a deferral in the resolution", res)
titles = [a[0] for a in arts]
assert any(t.startswith("Refund") and "never arrived" in t for t in titles), titles
assert any("flickers" in t for t in titles), titles           # the greeting title gave way to the issue
assert any("[ORDER_NUMBER]" in a[1] for a in arts), arts       # the body keeps the placeholder
assert any(a[2].startswith("I pushed the display patch") for a in arts), arts
assert not any("two identical payments" in a[1] for a in arts), arts
why = [e for e in log if e.get("outcome", "").startswith("insufficient")]
assert len(why) == 1 and "nothing done" in json.dumps(why[0]), log
PY
echo "cli_draft_wording: all checks passed"
