#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The reply reader's learning curve: how its held-back figures move with the
number of labelled train replies (docs/replies.md "How much more data would
give").

    tools/reply_learning_curve.py [--build DIR] [--data DIR] [--more FILE]
                                  [--fractions 0.25,0.5,0.75,1] [--seeds 1,2] [--json]

For each fraction and seed it keeps that share of the train part's
conversations (drawn at random, seeded; a conversation's rows stay
together), adds --more (rows of extra train replies, default
tests/data/followup/replies_more.jsonl) for one last point at the whole
train part, fits the reader on them (`eval replies --fit`, the committed
procedure: weights, temperature and floors), rebuilds, and scores every
held-back part (test to test5) with the rebuilt reader. Prints per point:
the train replies, the fit's cross-validated macro-F1 on them, and on the
held-back parts pooled (their confusion matrices summed; 811 replies) the
macro-F1 and resolved's precision and recall, and the best guess's macro-F1
and resolved precision with the floors aside (what the model reaches
before the floors turn its unsure readings into unclear). The held-back parts are only
scored here, never chosen on: the reader's choices stay made on train.

It rewrites src/followup/reply_model.c for each point and puts the
committed file back at the end (also on failure or ^C), then rebuilds.
Needs a configured build directory (make build) and the dev data sets.
"""
import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
SET = os.path.join(ROOT, "tests", "data", "followup", "replies.jsonl")
MORE = os.path.join(ROOT, "tests", "data", "followup", "replies_more.jsonl")
MODEL = os.path.join(ROOT, "src", "followup", "reply_model.c")
INTENTS = ["resolved", "still_problem", "question_or_info", "unclear", "automatic"]
HELD_BACK = ["test", "test2", "test3", "test4", "test5"]


def rows_of(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def conversation(r):
    return (r["source"], str(r["ref"]))


def pooled(confusion):
    """Macro-F1 over the intents present, and resolved's precision and recall."""
    f1s, rp, rr = [], 0.0, 0.0
    for k in INTENTS:
        support = sum(confusion[(k, x)] for x in INTENTS)
        if not support:
            continue
        read = sum(confusion[(g, k)] for g in INTENTS)
        tp = confusion[(k, k)]
        p, r = (tp / read if read else 0.0), tp / support
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        if k == "resolved":
            rp, rr = p, r
    return sum(f1s) / len(f1s), rp, rr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--more", default=MORE)
    ap.add_argument("--fractions", default="0.25,0.5,0.75,1")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    binary = os.path.join(a.build, "caseagent")
    if not os.access(binary, os.X_OK):
        sys.exit(f"reply_learning_curve: {binary} is not built (run make build first)")

    def run(*cmd):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"reply_learning_curve: {' '.join(cmd)} failed: {p.stderr.strip()}")
        return p.stdout

    def caseagent(*args):
        return json.loads(run(binary, "--json", *args))

    rows = rows_of(SET)
    train = [r for r in rows if r["part"] == "train"]
    held = [r for r in rows if r["part"] != "train"]
    more = rows_of(a.more) if a.more and os.path.exists(a.more) else []
    fractions = [float(x) for x in a.fractions.split(",")]
    seeds = [int(x) for x in a.seeds.split(",")]
    points = [(f, s, False) for f in fractions for s in (seeds if f < 1 else seeds[:1])]
    if more:
        points.append((1.0, seeds[0], True))

    work = tempfile.mkdtemp()
    kept = os.path.join(work, "reply_model.c")
    shutil.copy(MODEL, kept)
    out = []
    try:
        for frac, seed, with_more in points:
            pool = train + (more if with_more else [])
            convs = sorted({conversation(r) for r in pool})
            random.seed(seed)
            keep = set(random.sample(convs, int(len(convs) * frac)))
            sub = [r for r in pool if conversation(r) in keep]
            labels = os.path.join(work, "set.jsonl")
            with open(labels, "w") as f:
                for r in sub + held:
                    f.write(json.dumps(r) + "\n")
            cv = caseagent("eval", "replies", labels, "--data", a.data, "--fit", MODEL)
            run("make", "-s", "-C", ROOT, "build")
            confusion, guessed = collections.Counter(), collections.Counter()
            for part in HELD_BACK:
                j = caseagent("eval", "replies", "--data", a.data, "--part", part)
                for into, matrix in ((confusion, j["confusion"]), (guessed, j["best_guess"]["confusion"])):
                    for gold, row in matrix.items():
                        for read, n in row.items():
                            into[(gold, read)] += n
            m, rp, rr = pooled(confusion)
            gm, gp, gr = pooled(guessed)
            point = {"fraction": frac, "seed": seed, "more": with_more, "train": len(sub),
                     "cv_macro_f1": round(cv["macro_f1"], 3), "held_back": sum(confusion.values()),
                     "held_back_macro_f1": round(m, 3), "resolved_precision": round(rp, 3),
                     "resolved_recall": round(rr, 3), "best_guess_macro_f1": round(gm, 3),
                     "best_guess_resolved_precision": round(gp, 3)}
            out.append(point)
            if not a.json:
                print(f"train {point['train']:5d} ({frac:.2f}, seed {seed}{', with --more' if with_more else ''}): "
                      f"cross-validated {point['cv_macro_f1']:.3f}; held-back ({point['held_back']}) macro-F1 "
                      f"{m:.3f}, resolved P {rp:.3f} R {rr:.3f}; best guess {gm:.3f} (resolved P {gp:.3f})",
                      flush=True)
    finally:
        shutil.copy(kept, MODEL)
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["make", "-s", "-C", ROOT, "build"], capture_output=True)
    if a.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
