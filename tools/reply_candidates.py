#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print candidate customer replies for labelling tests/data/followup/replies.jsonl.

For every conversation of the dev data sets (TweetSumm, Twitter customer
care, ABCD under --data) it prints the last customer turn, and with
--second the second-to-last, each with the representative's turn before it
(context: was information asked for?). Only turns that answer a
representative are candidates: a customer turn with an agent turn before it.
The labels are a person's, written by hand per docs/replies.md; this tool
only shows the text and the pointer ({"source","ref","turn"}) a row needs.

    tools/reply_candidates.py [--data DIR] [--source S] [--second] [--skip N] [--limit N]
"""
import argparse
import html
import json
import os
import sys


def conversations(data):
    """(source, ref, [(speaker, text)]) per conversation, speaker customer|agent|other."""
    with open(os.path.join(data, "tweetsumm", "dialogs.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            yield "tweetsumm", d["conversation_id"], [(t["speaker"], html.unescape(t["text"])) for t in d["turns"]]
    with open(os.path.join(data, "twitter_care_docpred", "dev.json"), encoding="utf-8") as f:
        for d in json.load(f):
            turns = [("customer" if "client" in t else "agent", html.unescape(t["message"])) for t in d["dialogContent"]]
            yield "twitter_care", d["dialogHeader"]["sessionID"], turns
    with open(os.path.join(data, "abcd", "conversations.json"), encoding="utf-8") as f:
        for d in json.load(f):
            turns = [(s if s in ("customer", "agent") else "other", t) for s, t in d["original"]]
            yield "abcd", str(d["convo_id"]), turns


def candidates(turns, second):
    """Indices of the last (and second-to-last) customer turns that follow an agent turn."""
    idx = [i for i, (s, _) in enumerate(turns) if s == "customer" and any(p == "agent" for p, _ in turns[:i])]
    return idx[-2:] if second else idx[-1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--source")
    ap.add_argument("--second", action="store_true")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--limit", type=int, default=50)
    a = ap.parse_args()
    n = 0
    for source, ref, turns in conversations(a.data):
        if a.source and source != a.source:
            continue
        for i in candidates(turns, a.second):
            n += 1
            if n <= a.skip:
                continue
            if n > a.skip + a.limit:
                return
            prev = next((t for s, t in reversed(turns[:i]) if s == "agent"), "")
            print(json.dumps({"source": source, "ref": ref, "turn": i}))
            print("   agent:", prev.replace("\n", " ")[:200])
            print("   CUST :", turns[i][1].replace("\n", " ")[:400])


if __name__ == "__main__":
    sys.exit(main())
