#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How far the labels of tests/data/followup/replies.jsonl can be trusted: a
second, blind reading of a sample of them, scored against the first.

    tools/reply_agreement.py sample [--data DIR] [--n 100] [--seed 20261203]
    tools/reply_agreement.py score [SECOND]

`sample` prints N rows drawn at random (seeded) from the held-back parts,
each reply with the representative's turn before it and without its label,
numbered #0..; a person labels them by docs/replies.md without looking at
the set. Their labels, as rows {"source","ref","turn"?,"intent"} (turn for
the dev data sets' rows), go in SECOND (default
tests/data/followup/replies_relabel.jsonl). `score` prints the agreement
of SECOND with the set: count, per-intent precision / recall / F1 of the
second reading against the first, their macro-F1 (over the intents the
first reading holds) and Cohen's kappa (Cohen 1960, "A coefficient of
agreement for nominal scales"). The agreement bounds what a reader can be
shown to reach on these labels: a macro-F1 target above it cannot be
measured on them.
"""
import argparse
import collections
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SET = os.path.join(HERE, "..", "tests", "data", "followup", "replies.jsonl")
SECOND = os.path.join(HERE, "..", "tests", "data", "followup", "replies_relabel.jsonl")
INTENTS = ["resolved", "still_problem", "question_or_info", "unclear", "automatic"]


def key(r):
    return (r["source"], str(r["ref"]), r.get("turn"))


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def strip(text):
    return re.sub(r"^(\s*@\w+\s*)+", "", text).strip()


def sample(a):
    sys.path.insert(0, HERE)
    from reply_candidates import conversations
    rows = load(SET)
    held = [r for r in rows if r.get("part", "train") != "train"]
    random.seed(a.seed)
    pick = random.sample(held, a.n)
    need = {(r["source"], str(r["ref"])) for r in pick if r["source"] != "own"}
    convs = {(s, str(ref)): t for s, ref, t in conversations(a.data) if (s, str(ref)) in need}
    for k, r in enumerate(pick):
        if r["source"] == "own":
            text, ctx = r["text"], r.get("context", "")
            if r.get("headers"):
                ctx = (ctx + " [headers: " + json.dumps(r["headers"]) + "]").strip()
        else:
            turns = convs[(r["source"], str(r["ref"]))]
            text = turns[r["turn"]][1]
            ctx = next((t for s, t in reversed(turns[:r["turn"]]) if s == "agent"), "")
        ref = {"source": r["source"], "ref": r["ref"], **({"turn": r["turn"]} if "turn" in r else {})}
        print(f"#{k} {json.dumps(ref)}\n   CTX:   {strip(ctx)[:220]}\n   REPLY: {strip(text)[:320]}")


def score(a):
    first = {key(r): r["intent"] for r in load(SET)}
    second = load(a.second)
    missing = [r for r in second if key(r) not in first]
    if missing:
        sys.exit(f"{len(missing)} rows of {a.second} are not in the set, e.g. {missing[0]}")
    gold = [first[key(r)] for r in second]
    other = [r["intent"] for r in second]
    n = len(second)
    agree = sum(g == o for g, o in zip(gold, other))
    print(f"{a.second}: {n} replies read twice; the same intent {agree} times ({agree / n:.1%})")
    print(f"  {'intent':<18}{'first':>6}{'second':>7}{'both':>6}  precision  recall     F1")
    f1s = []
    for c in INTENTS:
        tp = sum(g == c and o == c for g, o in zip(gold, other))
        gp, op = gold.count(c), other.count(c)
        p, r = (tp / op if op else 0.0), (tp / gp if gp else 0.0)
        f = 2 * p * r / (p + r) if p + r else 0.0
        if gp:
            f1s.append(f)
        print(f"  {c:<18}{gp:>6}{op:>7}{tp:>6}  {p:>9.3f}  {r:>6.3f}  {f:>5.3f}")
    po = agree / n
    pe = sum(gold.count(c) * other.count(c) for c in INTENTS) / (n * n)
    print(f"macro-F1 of the second reading against the first: {sum(f1s) / len(f1s):.3f}; "
          f"Cohen's kappa {(po - pe) / (1 - pe):.3f}")
    diff = collections.Counter((g, o) for g, o in zip(gold, other) if g != o)
    for (g, o), k in diff.most_common():
        print(f"  first {g}, second {o}: {k}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    s.add_argument("--n", type=int, default=100)
    s.add_argument("--seed", type=int, default=20261203)
    c = sub.add_parser("score")
    c.add_argument("second", nargs="?", default=SECOND)
    a = ap.parse_args()
    (sample if a.cmd == "sample" else score)(a)


if __name__ == "__main__":
    main()
