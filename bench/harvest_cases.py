#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Builds the historical-harvest benchmark's cases for `make bench`: N
# resolved cases as `caseagent import cases` JSONL, from the real dialogue
# sets beside the repository (tweetsumm dialogs.jsonl turns, dialogsum,
# ABCD), repeated until N (each copy a fresh case id on import). A case's
# title is the customer's first sentence, its description the customer's
# first turns, its resolution the agent's last substantive turn; owners
# alternate ann and bob so the knowledge rule of tests/data/knowledge holds.
# usage: harvest_cases.py DATA_DIR N OUT.jsonl   (prints the dialogue count)
import json, os, re, sys

data, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dialogs = []  # [(customer turns, agent turns)]

def add(turns):
    cust = [t for s, t in turns if s == "customer" and t.strip()]
    agent = [t for s, t in turns if s == "agent" and t.strip()]
    if cust and agent:
        dialogs.append((cust, agent))

p = os.path.join(data, "tweetsumm", "dialogs.jsonl")
if os.path.exists(p):
    for line in open(p):
        d = json.loads(line)
        add([(t["speaker"], re.sub(r"@\w+\s*", "", t["text"])) for t in d["turns"]])
p = os.path.join(data, "dialogsum", "dialogsum.dev.jsonl")
if os.path.exists(p):
    for line in open(p):
        d = json.loads(line)
        turns = []
        for l in d["dialogue"].split("\n"):
            m = re.match(r"#Person(\d)#:\s*(.*)", l)
            if m:  # Person2 is the one with the problem in most dialogues
                turns.append(("customer" if m.group(1) == "2" else "agent", m.group(2)))
        add(turns)
p = os.path.join(data, "abcd", "conversations.json")
if os.path.exists(p):
    for c in json.load(open(p)):
        add([(s, t) for s, t in c.get("original", []) if s in ("customer", "agent")])
if not dialogs:
    sys.exit("harvest_cases: no dialogues under " + data)

def first_sentence(t):
    m = re.match(r"(.+?[.?!])(\s|$)", t.strip())
    return (m.group(1) if m else t.strip())[:200]

def resolution(agent):
    for t in reversed(agent):
        if len(t.split()) >= 6:
            return t
    return agent[-1]

with open(out, "w") as f:
    for i in range(n):
        cust, agent = dialogs[i % len(dialogs)]
        rec = {"fields": {"title": first_sentence(cust[0]), "description": " ".join(cust[:2])[:1000],
                          "owner": "ann" if i % 2 else "bob", "status": "resolved"},
               "resolution": resolution(agent)}
        f.write(json.dumps(rec) + "\n")
print(len(dialogs))
