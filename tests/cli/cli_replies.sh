#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reading the customer's reply (issue 12, item 2): `reply classify` on
# replies written here (each intent, negation, an automatic reply by header
# and by wording, evidence offsets into the text, bad input), and `eval
# replies` on the labelled set tests/data/followup/replies.jsonl, whose rows
# point into the dev data sets beside the repository: every row is found,
# the figures are numbers with per-intent support adding up to n, the
# confusion matrix adds up to n, train + test + test2 + test3 + test4 + test5 + mail = all, and the
# precision of "resolved" on the held-back parts stays at 0.90 or more.
set -euo pipefail
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ca() { "$BIN" --db "$T/t.db" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
intent() { ca --json reply classify "$@" | python3 -c "import json,sys; print(json.load(sys.stdin)['intent'])"; }

ca reply classify --help | grep -q "unclear" || fail "reply classify --help"
ca eval replies --help | grep -q "held-back" || fail "eval replies --help"

[ "$(intent 'That fixed it, thanks a lot!')" = resolved ] || fail "resolved"
[ "$(intent 'Thanks, but it is still not working.')" = still_problem ] || fail "thanks but still"
[ "$(intent 'No longer an issue, we sorted it ourselves.')" = resolved ] || fail "no longer an issue"
[ "$(intent 'How do I change the delivery address?')" = question_or_info ] || fail "question"
[ "$(intent --header 'Auto-Submitted: auto-replied' 'Thanks for your message.')" = automatic ] || fail "header"
[ "$(intent --header 'Subject: Out of Office: Re: your case' 'Back Monday.')" = automatic ] || fail "subject"
printf 'I am out of the office until 3 May with limited access to email.\n' | ca --json reply classify - > "$T/ooo.json"
python3 - "$T/ooo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["intent"] == "automatic", d
assert abs(sum(d["scores"].values()) - 1) < 1e-3, d
text = "I am out of the office until 3 May with limited access to email.\n"
ev = [e for e in d["evidence"] if e["cue"] == "out of the office"]
assert ev and text.encode()[ev[0]["start"]:ev[0]["end"]].decode() == "out of the office", d
PY
ca reply classify 'It works now, cheers' | grep -q '^resolved (confidence' || fail "text output"
ca reply classify --header 'no-colon' 'ok' 2>/dev/null && fail "a header without NAME:VALUE accepted"
printf 'bad \xc3\x28 text' | ca reply classify - 2>"$T/err" && fail "invalid UTF-8 accepted"
grep -q "UTF-8" "$T/err" || fail "the error does not say UTF-8: $(cat "$T/err")"
head -c 300000 /dev/zero | tr '\0' 'a' | ca reply classify - 2>/dev/null && fail "a reply over 256 KiB accepted"

LABELS="$SRC/tests/data/followup/replies.jsonl"
ca eval replies "$LABELS" --part half 2>/dev/null && fail "an unknown part accepted"
ca eval replies "$T/nosuch.jsonl" 2>/dev/null && fail "a missing labelled set accepted"
echo '{"source":"own","text":"ok","intent":"maybe","part":"train"}' > "$T/bad.jsonl"
ca eval replies "$T/bad.jsonl" 2>"$T/err" && fail "an unknown intent accepted"
grep -q "line 1" "$T/err" || fail "the error does not name the line: $(cat "$T/err")"
# A misread reply is listed cut to 160 bytes, never inside a UTF-8
# sequence (jansson refuses a split one: the fit once failed "out of memory").
python3 - "$T/cut.jsonl" <<'PY'
import json, sys
long = "a" * 159 + "\u00e9 and it still fails every time"
with open(sys.argv[1], "w") as f:
    for i, (text, intent) in enumerate([(long, "automatic"), ("Thanks, that fixed it!", "resolved"),
                                        ("Still broken.", "still_problem"), ("What is the fee?", "question_or_info")]):
        f.write(json.dumps({"source": "own", "ref": "own-%d" % i, "text": text, "intent": intent, "part": "train"}) + "\n")
PY
ca --json eval replies "$T/cut.jsonl" --part train > "$T/cut.json" || fail "eval replies on a misread reply cut at 160 bytes"
ca --json eval replies "$T/cut.jsonl" --fit "$T/cut.c" > "$T/cutfit.json" || fail "eval replies --fit on a misread reply cut at 160 bytes"
python3 - "$T/cut.json" "$T/cutfit.json" <<'PY'
import json, sys
for p in sys.argv[1:]:
    m = [x for x in json.load(open(p))["misread"] if x["text"].startswith("aaa")]
    assert m and m[0]["text"] == "a" * 159, (p, m)
PY

DATA="$SRC/../shared/data"
[ -f "$DATA/tweetsumm/dialogs.jsonl" ] || { echo "no dev data at $DATA: only the own replies checked"; exit 0; }
for part in all train test test2 test3 test4 test5 mail; do
	ca --json eval replies "$LABELS" --data "$DATA" --part "$part" > "$T/$part.json"
done
python3 - "$T" "$LABELS" <<'PY'
import json, sys
t, labels = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(labels) if l.strip()]
assert len(rows) >= 300, len(rows)
sources = {r["source"] for r in rows}
assert {"tweetsumm", "twitter_care", "abcd", "own", "spamassassin"} <= sources, sources
PARTS = ("train", "test", "test2", "test3", "test4", "test5", "mail")  # as the loop above, without "all"
d = {p: json.load(open(f"{t}/{p}.json")) for p in ("all",) + PARTS}
for p, r in d.items():
    assert r["missing"] == [], (p, r["missing"])
    assert isinstance(r["macro_f1"], float) and 0 <= r["macro_f1"] <= 1, r["macro_f1"]
    assert sum(v["support"] for v in r["per_intent"].values()) == r["n"], p
    assert sum(sum(row.values()) for row in r["confusion"].values()) == r["n"], p
    assert 0 <= r["calibration"]["ece"] <= 1, r["calibration"]
    # the floors only turn a guess into unclear: every reading of resolved
    # is a guess of resolved, so the guess recalls at least as many
    g = r["best_guess"]
    assert 0 <= g["macro_f1"] <= 1 and 0 <= g["resolved_precision"] <= 1, g
    assert g["resolved_recall"] >= r["per_intent"]["resolved"]["recall"], (p, g, r["per_intent"]["resolved"])
    # the guess's confusion holds every reply, and only the unclear column
    # gains from the guess to the reading
    gc = g["confusion"]
    assert sum(sum(row.values()) for row in gc.values()) == r["n"], p
    for label, row in gc.items():
        for read, n in row.items():
            if read != "unclear":
                assert r["confusion"][label][read] <= n, (p, label, read)
assert d["all"]["n"] == len(rows) == sum(d[p]["n"] for p in PARTS), len(rows)
# A regression guard for the reading that closes cases on the first two
# held-back parts. The issue's target is 0.95: met on every held-back part
# by the learned layer as fitted (1.00: 14 of 14, 11 of 11, 4 of 4, 4 of 4,
# 2 of 2; docs/replies.md "Figures"); test3, test4, test5 and mail are
# printed, not guarded (0 to 4 readings each).
for p in PARTS[1:]:
    r = d[p]
    if p not in ("test3", "test4", "test5", "mail"):
        assert r["per_intent"]["resolved"]["precision"] >= 0.90, (p, r["per_intent"]["resolved"])
    print("%s part: n %d, macro-F1 %.3f, resolved precision %.3f" %
          (p, r["n"], r["macro_f1"], r["per_intent"]["resolved"]["precision"]))
PY
ca eval replies "$LABELS" --data "$DATA" --part test > "$T/test.txt"
grep -q "macro-F1" "$T/test.txt" || fail "text output of eval replies"
grep -q "best guess, the floors aside: macro-F1" "$T/test.txt" || fail "eval replies without the best guess's figures"
