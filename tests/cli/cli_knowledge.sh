#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The knowledge agent in real time: a resolved case with a new issue yields
# one draft with personal data removed; a second case about the same issue
# yields no new article and is linked to it; a case owned outside the
# knowledge rule yields nothing; a compliant draft with auto-publish on is
# published to the chosen audience; a non-compliant article cannot be
# published by any path, the store's own included; closed conversations
# become articles through a rule's own template, and a harvest over records
# the real-time trigger saw adds nothing twice.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ca() { "$BIN" --db "$T/t.db" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ca init >/dev/null
ca settings import "$SRC/tests/data/knowledge/settings.json" >/dev/null
ca import contacts "$SRC/examples/contacts.jsonl" >/dev/null
ca import cases "$SRC/tests/data/knowledge/cases.jsonl" >/dev/null

# 1. a new issue: one draft, in review, personal data removed, owner notified
out=$(ca --json case resolve CAS-00001 --resolution "Reset the earbuds (hold both buttons 10 s) and pair them again; call Priya at +1 415 555 0142 if it fails." --actor ann)
echo "$out" | j 'd["knowledge"]' 
[ "$(echo "$out" | j 'd["knowledge"]["outcome"]')" = drafted ] || fail "no draft: $out"
ca --json knowledge review show KA-00001 > "$T/a.json"
python3 - "$T/a.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
text = json.dumps(a)
for secret in ["priya.vantassel@example.com", "555 0142", "Vantassel"]:
    assert secret not in text, "personal data left in the article: " + secret
assert a["state"] == "in_review" and a["compliance"] == "pending", a
assert a["pii_removed"].get("EMAIL") == 1 and a["pii_removed"].get("PHONE", 0) >= 1, a["pii_removed"]
assert a["sources"][0]["relation"] == "drafted_from"
print("ok: draft", a["number"], a["title"], a["pii_removed"])
PY
ca --json notifications --recipient ann | j 'len(d["notifications"])' | grep -qx 1 || fail "the owner was not notified"

# 2. the same issue again: no new article, the case is linked as evidence
out=$(ca --json case resolve CAS-00002 --resolution "Reset and re-paired the earbuds after the update." --actor bob)
[ "$(echo "$out" | j 'd["knowledge"]["outcome"]')" = covered ] || fail "second case: $out"
[ "$(echo "$out" | j 'd["knowledge"]["article"]')" = KA-00001 ] || fail "covered by the wrong article: $out"
[ "$(ca --json knowledge review list | j 'len(d["articles"])')" = 1 ] || fail "a second article was made"
ca --json knowledge review show KA-00001 | j '[s["relation"] for s in d["sources"]]' | grep -q covered_by || fail "case not linked"

# 3. owned outside the knowledge rule: nothing
out=$(ca --json case resolve CAS-00003 --resolution "Corrected the company name and VAT number and sent a new invoice." --actor zed)
[ "$(echo "$out" | j 'd["knowledge"]["outcome"]')" = filtered ] || fail "rule ignored: $out"

# 4. non-compliant (and pending) can never be published: not by the CLI, not by SQL
ca knowledge review publish KA-00001 >/dev/null 2>&1 && fail "a pending article was published"
ca knowledge review edit KA-00001 compliance=non_compliant >/dev/null
ca knowledge review publish KA-00001 >/dev/null 2>&1 && fail "a non-compliant article was published"
python3 - "$T/t.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
try:
    db.execute("UPDATE knowledge_article SET state = 'published' WHERE number = 'KA-00001'")
    db.commit()
    raise SystemExit("FAIL: the database let a non-compliant article be published")
except sqlite3.IntegrityError as e:
    print("ok: the store refuses it:", e)
PY
ca knowledge review edit KA-00001 compliance=compliant >/dev/null
ca --json knowledge review publish KA-00001 --audience internal | j 'd["state"]' | grep -qx published || fail "compliant article not published"
[ "$(ca --json knowledge search 'earbuds pairing after update' | j 'd["results"][0]["article"]')" = KA-00001 ] || fail "search"
# scores a reader can read (issue 9, item 9: every score printed 0.000)
ca --json knowledge search 'earbuds pairing after update' | j 'd["results"][0]["score"]' |
	python3 -c "import sys; v = float(sys.stdin.read()); assert 0.05 < v <= 1, v" || fail "search score is not a similarity"
ca knowledge search 'earbuds pairing after update' | grep -q '^  0\.000 ' && fail "search prints a score of 0.000"
# --state, as --help promises (issue 9, item 9: refused)
ca --json knowledge review list --state published | j '[a["number"] for a in d["articles"]]' | grep -qx "\['KA-00001'\]" ||
	fail "review list --state published"
ca knowledge review show KA-00001 --state published >/dev/null 2>&1 && fail "--state accepted with show"
# keywords: no stop words or words of conversation (issue 9, item 9)
ca --json knowledge review show KA-00001 | j '" ".join(d["keywords"])' > "$T/kw1"
grep -Eqw "please|thanks|just|will|still|person|https" "$T/kw1" && fail "stop words in keywords: $(cat "$T/kw1")"
# the owner adds the proposed steps to the published article: a new minor
# version, in review (issue 9, item 6: published means reviewed); readers
# keep the published 1.0 until 1.1 is compliant and published
ca --json knowledge review edit KA-00001 "resolution=Reset the earbuds (hold both buttons 10 s), then pair them again. If they still fail, update the phone's Bluetooth firmware." > "$T/e1.json"
python3 - "$T/e1.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert (a["version_major"], a["version_minor"], a["state"]) == (1, 0, "published"), a
assert "Bluetooth" not in a["resolution"], "readers see the unreviewed text"
pv = a["pending_version"]
assert (pv["version_major"], pv["version_minor"], pv["compliance"]) == (1, 1, "pending"), pv
assert "Bluetooth" in pv["resolution"], pv
print("ok: the edit is v1.1 in review beside the published v1.0")
PY
[ "$(ca --json knowledge search 'bluetooth' | j 'len(d["results"])')" = 0 ] || fail "unreviewed text searchable"
ca --json knowledge review list --state in_review | j '[a["number"] for a in d["articles"]]' | grep -q KA-00001 || fail "the new version is not in review"
ca --json notifications --recipient ann | j '[n["kind"] for n in d["notifications"]]' | grep -q "review_requested', 'review_requested" ||
	fail "the owner was not asked to review the new version"
ca knowledge review publish KA-00001 >/dev/null 2>&1 && fail "a pending new version was published"
ca knowledge review edit KA-00001 compliance=compliant > /dev/null
ca --json knowledge review show KA-00001 | j '"%d.%d %s" % (d["version_major"], d["version_minor"], d["state"])' | grep -qx "1.0 published" ||
	fail "marking the new version compliant changed what readers see"
ca --json knowledge review publish KA-00001 | j '"%d.%d %s %s" % (d["version_major"], d["version_minor"], d["state"], "pending_version" in d)' |
	grep -qx "1.1 published False" || fail "publishing the compliant new version"
[ "$(ca --json knowledge search 'bluetooth' | j 'd["results"][0]["article"]')" = KA-00001 ] || fail "the published new version is not searchable"
[ "$(ca --json knowledge search 'earbuds pairing after update' --audience external | j 'len(d["results"])')" = 0 ] || fail "internal article shown to external readers"

# 5. compliant by default with auto-publish: published at once to the chosen audience
ca settings import "$SRC/tests/data/knowledge/settings-publish.json" >/dev/null
out=$(ca --json case resolve CAS-00004 --resolution "Turned off the morning routine in the app, which set the volume to maximum." --actor ann)
[ "$(echo "$out" | j 'd["knowledge"]["outcome"]')" = published ] || fail "auto-publish: $out"
ca --json knowledge review show KA-00002 | j 'd["state"] + " " + d["audience"] + " " + d["compliance"]' | grep -qx "published external compliant" || fail "not published externally"
[ "$(ca --json knowledge search 'speaker volume resets' --audience external | j 'd["results"][0]["article"]')" = KA-00002 ] || fail "external search"
# editing a published external article: external readers never see the
# unreviewed text (issue 9, item 6), and keywords follow the new issue
# (issue 9, item 9: not refreshed after an edit)
ca knowledge review edit KA-00002 "issue=The smart speaker plays loud zebrafinch birdsong every morning at full volume." >/dev/null
[ "$(ca --json knowledge search 'zebrafinch birdsong' --audience external | j 'len(d["results"])')" = 0 ] || fail "unreviewed edit searchable externally"
[ "$(ca --json knowledge search 'speaker volume resets' --audience external | j 'd["results"][0]["article"]')" = KA-00002 ] || fail "the published version left external search"
ca knowledge review show KA-00002 | grep -q "^version in review: v1.1, pending" || fail "show does not say a version is in review"
ca --json knowledge review show KA-00002 | j '" ".join(d["pending_version"]["keywords"])' | grep -qw zebrafinch || fail "keywords not refreshed after the edit"
ca knowledge review reject KA-00002 >/dev/null
ca --json knowledge review show KA-00002 | j '"%s %d.%d %s" % (d["state"], d["version_major"], d["version_minor"], "pending_version" in d)' |
	grep -qx "published 1.0 False" || fail "rejecting the new version touched the published article"
# 6. insights: ratings, articles to revise, coverage
ca knowledge rate KA-00001 2 >/dev/null
ca knowledge rate KA-00002 5 >/dev/null
ca --json knowledge insights > "$T/ins.json"
python3 - "$T/ins.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["articles"]
assert a["published"] == 2 and a["by_state"]["published"] == 2, a
assert a["by_source"]["agent"] == 2, a
assert abs(a["average_rating"] - 3.5) < 1e-9, a
assert [t["number"] for t in a["to_revise"]] == ["KA-00001"], a["to_revise"]
# resolved: CAS-00001 (drafted), 00002 (covered), 00003 (filtered), 00004 (published) -> 3 of 4 linked
assert d["resolved_cases"] == 4 and d["resolved_cases_linked"] == 3 and abs(d["coverage"] - 0.75) < 1e-9, d
print("ok: insights", a["published"], a["average_rating"], d["coverage"])
PY
ca knowledge insights --csv | grep -qx "coverage,0.7500" || fail "insights --csv"
# a third article, in review: insights count 3 articles, 2 of them published
# (issue 9, item 9: "articles published 2" for 3 articles)
echo '{"fields": {"title": "Charging dock does not charge", "description": "The charging dock stopped charging the headset overnight.", "owner": "ann", "status": "active"}}' > "$T/c5.jsonl"
ca import cases "$T/c5.jsonl" >/dev/null
ca settings import "$SRC/tests/data/knowledge/settings.json" >/dev/null
ca --json case resolve CAS-00005 --resolution "Replaced the frayed charging cable and the dock charges again." --actor ann | j 'd["knowledge"]["outcome"]' | grep -qx drafted ||
	fail "a third article"
ca knowledge insights | grep -Eq "^articles +3 \(2 published\)$" || fail "insights: $(ca knowledge insights | head -1)"
[ "$(ca --json knowledge insights | j 'd["articles"]["total"]')" = 3 ] || fail "insights total"
# 7. eval dedup: the interface scripts rely on
ca --json eval dedup "$SRC/tests/data/knowledge/threads_small.jsonl" > "$T/dd.json"
python3 - "$T/dd.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("covered_top1", "one_article_per_thread", "covered_at_threshold", "sweep", "threshold"):
    assert k in d, k
assert d["threads"] == 4 and d["threads_in_kb"] == 2 and 0 <= d["covered_top1"] <= 1
assert d["covered_top1"] == 1.0, d   # distinct vocabularies: every paraphrase finds its thread
print("ok: eval dedup", d["covered_top1"], d["one_article_per_thread"])
PY

# 8. closed conversations (fixed attributes: the conversation summary), in
# real time, with a knowledge rule over the channel and its own template
python3 - "$SRC/tests/data/knowledge/settings.json" "$T/sc.json" "$T/conv.jsonl" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["knowledge"] = {"realtime_cases": True, "realtime_conversations": True, "default_compliance": "pending",
                  "coverage_threshold": 0.3,
                  "rules": [{"name": "chat support",
                             "condition": {"match": "all", "conditions": [{"field": "channel", "operator": "equals", "value": "chat"}]},
                             "template": {"name": "troubleshooting", "sections": [
                                 {"heading": "Symptoms", "from": "issue"}, {"heading": "Fix", "from": "resolution"},
                                 {"heading": "Applies to", "from": "product"}]}}]}
json.dump(s, open(sys.argv[2], "w"))
def conv(cid, lines):
    return {"conversation_id": cid, "channel": "chat",
            "messages": [{"id": f"{cid}-m{i+1}", "role": r, "text": t} for i, (r, t) in enumerate(lines)]}
convs = [
    conv("kc-1", [("customer", "Hi, this is Hamish Morcombe, hamish.morcombe@example.org, phone +44 20 7946 0321."),
                  ("customer", "My smart speaker turns its volume up to maximum every morning by itself."),
                  ("agent", "Sorry about that Hamish. Let me check your speaker settings."),
                  ("system", "Device lookup: speaker SP-2210 linked to the account."),
                  ("agent", "The morning routine in the companion app raises the volume. I have switched the routine off for you, so the volume will stay where you set it."),
                  ("customer", "That fixed it, thank you!")]),
    conv("kc-2", [("customer", "Every morning my speaker volume jumps to the maximum level on its own."),
                  ("agent", "That is the morning routine in the companion app. I have turned the routine off, so the volume stays put now."),
                  ("customer", "Great, thanks.")]),
    conv("kc-3", [("customer", "Where is my parcel?"),
                  ("bot", "You can track your parcel at brightwire.example/track. Anything else?"),
                  ("customer", "No thanks.")]),
    conv("kc-4", [("customer", "The invoice for my last order shows the wrong company name and VAT number."),
                  ("agent", "I have corrected the company name and the VAT number on your account and sent you a new invoice by email."),
                  ("customer", "Received it, all correct now.")]),
]
with open(sys.argv[3], "w") as f:
    for c in convs:
        f.write(json.dumps(c) + "\n")
PY
cv() { "$BIN" --db "$T/c.db" "$@"; }
cv init >/dev/null
cv settings import "$T/sc.json" >/dev/null
cv import contacts "$SRC/examples/contacts.jsonl" >/dev/null
cv chat replay "$T/conv.jsonl" >/dev/null
cv --json knowledge review list > "$T/cl.json"
cv --json knowledge review show KA-00001 > "$T/c1.json"
cv --json knowledge review show KA-00002 > "$T/c2.json"
python3 - "$T/cl.json" "$T/c1.json" "$T/c2.json" <<'PY'
import json, sys
lst = json.load(open(sys.argv[1]))["articles"]
assert len(lst) == 2, [a["title"] for a in lst]   # kc-1 and kc-4; kc-2 covered; kc-3 a bot only
a1, a2 = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
text = json.dumps(a1)
for secret in ["Morcombe", "hamish.morcombe@example.org", "7946 0321", "Hamish"]:
    assert secret not in text, "personal data left in the article: " + secret
assert "Device lookup" not in text, "a system line entered the article"
src = {(s["record_type"], s["record_id"]): s["relation"] for s in a1["sources"]}
assert src == {("conversation", "kc-1"): "drafted_from", ("conversation", "kc-2"): "covered_by"}, src
assert a1["template"]["name"] == "troubleshooting", a1.get("template")
heads = [s["heading"] for s in a1["sections"]]
assert heads[:2] == ["Symptoms", "Fix"], heads
assert "routine" in a1["resolution"] and "volume" in a1["issue"], (a1["issue"], a1["resolution"])
assert a1["evidence"]["record"] == {"type": "conversation", "id": "kc-1", "label": "conversation kc-1"}, a1["evidence"]
assert [s["record_id"] for s in a2["sources"]] == ["kc-4"] and "invoice" in a2["issue"].lower(), a2
print("ok: conversations", a1["number"], a1["title"], heads, a1["pii_removed"])
PY
cv --json notifications | j 'len(d["notifications"])' | grep -qx 2 || fail "review notifications for conversation drafts"
# review notifications reach the owner set after the draft (issue 9, item
# 9: they went on to "unassigned"): the article gets an owner, and the
# next review request for it goes to her
cv knowledge review edit KA-00001 owner=ann >/dev/null
cv knowledge review edit KA-00001 compliance=compliant >/dev/null
cv knowledge review publish KA-00001 >/dev/null
cv knowledge review edit KA-00001 "cause=The companion app's morning routine sets the volume to maximum." >/dev/null
cv --json notifications --recipient ann | j '[n["kind"] + " " + n["article"] for n in d["notifications"]]' | grep -q "review_requested KA-00001" ||
	fail "the review request did not reach the case's new owner: $(cv notifications)"
# the trigger commits with the close event: a replay of that event returns
# the same knowledge outcome, and drafts nothing again
CLOSE=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT event_id FROM chat_event WHERE conversation_id = 'kc-1' AND type = 'close'\").fetchone()[0])" "$T/c.db")
cv --json chat event "{\"id\": \"$CLOSE\", \"type\": \"close\", \"conversation\": \"kc-1\"}" |
	j '"%s %s %s" % (d["replayed"], d["knowledge"]["outcome"], d["knowledge"]["article"])' | grep -qx "True drafted KA-00001" ||
	fail "a replayed close event does not carry its knowledge outcome"
[ "$(cv --json knowledge review list | j 'len(d["articles"])')" = 2 ] || fail "a replayed close drafted again"
cv knowledge review show KA-00001 | grep -q "^Symptoms:" || fail "the template's headings are not shown"
# a harvest over the same conversations finds each linked already: nothing new, nothing twice
cv --json knowledge harvest --from conversations > "$T/ch.json"
python3 - "$T/ch.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["total"] == 4 and d["processed"] == 4 and d["created"] == 0, d
assert d["covered"] == 3 and d["insufficient"] == 1, d
print("ok: conversation harvest after real time", d["covered"], d["insufficient"])
PY
[ "$(cv --json knowledge review list | j 'len(d["articles"])')" = 2 ] || fail "the harvest drafted an issue twice"
# coverage counts conversations: kc-1, kc-2 and kc-4 of 4 closed are linked
cv --json knowledge insights | j '"%d %d %.2f" % (d["closed_conversations"], d["closed_conversations_linked"], d["coverage"])' | grep -qx "4 3 0.75" || fail "conversation coverage: $(cv --json knowledge insights)"
# ... and so does an owner given to the case the article was drafted from
# (no knowledge rule here, so a case nobody owns yet qualifies)
python3 - "$SRC/tests/data/knowledge/settings.json" "$T/so.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["knowledge"]["rules"] = []
json.dump(s, open(sys.argv[2], "w"))
PY
co() { "$BIN" --db "$T/o.db" "$@"; }
co init >/dev/null
co settings import "$T/so.json" >/dev/null
echo '{"fields": {"title": "Charging dock does not charge", "description": "The charging dock stopped charging the headset overnight.", "status": "active"}}' > "$T/o.jsonl"
co import cases "$T/o.jsonl" >/dev/null
co case resolve CAS-00001 --resolution "Replaced the frayed charging cable and the dock charges again." --actor bob >/dev/null
co --json notifications --recipient unassigned | j 'len(d["notifications"])' | grep -qx 1 || fail "no review request for the ownerless draft"
co case edit CAS-00001 owner=bob >/dev/null
co knowledge review edit KA-00001 compliance=compliant >/dev/null
co knowledge review publish KA-00001 >/dev/null
co knowledge review edit KA-00001 "cause=The cable had frayed at the plug." >/dev/null
co --json notifications --recipient bob | j '[n["kind"] for n in d["notifications"]]' | grep -q review_requested ||
	fail "the review request did not reach the case's new owner: $(co notifications)"

# gap detection needs corroboration, not one shared word (issue 9, item 8):
# "Earbuds stopped charging", fixed by cleaning the charging contacts, was
# covered by the billing article "Charged twice again" on the one stem
# "charg" (0.32 against the 0.3 threshold) and proposed as its new version
cg() { "$BIN" --db "$T/g.db" "$@"; }
cg init >/dev/null
cg settings import "$T/so.json" >/dev/null
printf '%s\n' '{"fields": {"title": "Charged twice again", "description": "Charged twice again.", "status": "active"}}' \
	'{"fields": {"title": "Earbuds stopped charging", "description": "Earbuds stopped charging.", "status": "active"}}' \
	'{"fields": {"title": "Charged twice for one order", "description": "I was charged twice for one order, two identical payments.", "status": "active"}}' > "$T/g.jsonl"
cg import cases "$T/g.jsonl" >/dev/null
cg case resolve CAS-00001 --resolution "I have refunded the duplicate payment for that order." --actor ann >/dev/null
out=$(cg --json case resolve CAS-00002 --resolution "Cleaned the charging contacts of the earbuds and their case with a dry cloth." --actor ann)
[ "$(echo "$out" | j 'd["knowledge"]["outcome"]')" = drafted ] || fail "covered across issues on one shared word: $out"
cg --json notifications | j '[n["kind"] for n in d["notifications"]]' | grep -q minor_version_proposed && fail "a new version proposed across issues"
# the same issue, the same fix: still covered
out=$(cg --json case resolve CAS-00003 --resolution "Refunded the duplicate payment for the order to the card." --actor ann)
[ "$(echo "$out" | j 'd["knowledge"]["outcome"] + " " + d["knowledge"]["article"]')" = "covered KA-00001" ] || fail "the same issue not covered: $out"
echo "ok: cli_knowledge"
