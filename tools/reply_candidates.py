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
    tools/reply_candidates.py --mail [--data DIR] [--seed 6] [--limit 150]

With --mail it prints e-mail replies of the SpamAssassin set instead (the
only real e-mail replies in the dev data; its ham is 2002 mailing-list and
personal mail, not support mail): every ham message of a users' list
(SUPPORT_LISTS: where people ask for help and answer) whose subject starts
"Re:" and whose new text (the body's first text/plain part without quoted
lines, "... wrote:" lines and what follows a signature or an original-
message separator, as this tool approximates ca_email_reply_text) is 1 to
600 characters, drawn at random (seeded), and every ham message whose
subject reads as an out-of-office notice; each with the lines it quotes
(the message it answers) and the pointer {"source": "spamassassin",
"ref": "GROUP/FILE"} a row needs.
"""
import argparse
import email
import email.policy
import html
import json
import os
import random
import re
import sys

HAM = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
# The users' lists of the set, where people ask for help and answer (the
# others are discussion lists, FoRK and forteana most of all).
SUPPORT_LISTS = ("ilug.linux.ie", "rpm-zzzlist.freshrpms.net", "razor-users.", "spamassassin-talk.", "exmh-users.")
OOO = re.compile(r"\bis out of (the )?office\b|^out of (the )?office|auto.?reply|automatic reply", re.I)


def mail_replies(data):
    """(ref, subject, new text, quoted text, out-of-office) per ham reply."""
    raw_dir = os.path.join(data, "spamassassin_emails", "raw")
    for group in HAM:
        for name in sorted(os.listdir(os.path.join(raw_dir, group))):
            with open(os.path.join(raw_dir, group, name), "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.compat32)
            subject = re.sub(r"\s+", " ", str(m.get("Subject", "")))
            ooo = bool(OOO.search(subject)) and not subject.lower().startswith("re:")
            support = any(l in str(m.get("List-Id", "")) for l in SUPPORT_LISTS)
            if not ooo and not (support and subject.lower().startswith("re:")):
                continue
            part = next((p for p in m.walk() if p.get_content_type() == "text/plain"), None)
            try:
                body = part.get_payload(decode=True).decode("utf-8", "replace") if part else ""
            except (AttributeError, LookupError):
                body = ""
            new, quoted = [], []
            for line in body.split("\n"):
                if re.match(r"^\s*(-- ?$|_{5,}|-----Original)", line):
                    break
                if line.startswith(">"):
                    if not line.startswith(">>"):
                        quoted.append(line[1:].strip())
                elif not re.match(r"^.*(wrote|writes):\s*$", line):
                    new.append(line)
            yield f"{group}/{name}", subject, "\n".join(new).strip(), "\n".join(quoted).strip(), ooo


def print_mail(a):
    rows = list(mail_replies(a.data))
    short = [r for r in rows if not r[4] and 0 < len(r[2]) <= 600]
    random.seed(a.seed)
    chosen = sorted(random.sample(short, min(a.limit, len(short)))) + [r for r in rows if r[4]]
    for ref, subject, new, quoted, ooo in chosen:
        print(json.dumps({"source": "spamassassin", "ref": ref}) + ("  (out-of-office subject)" if ooo else ""))
        print("   subject:", subject[:160])
        print("   quoted :", re.sub(r"\s+", " ", quoted)[:300])
        print("   REPLY  :", re.sub(r"\s+", " ", new)[:600])


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
    ap.add_argument("--mail", action="store_true")
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()
    if a.mail:
        return print_mail(a)
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
