#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Synthetic directory for the scale benchmark (bench/run.sh) and the scale
# tests: `gen_contacts.py N OUT [--csv] [--seed S]` writes N contacts as JSON
# Lines (or CSV with --csv), ids C-0000001..., names drawn from the proper
# nouns of the Debian word list (/usr/share/dict/american-english, package
# wamerican; a small built-in list when it is absent), each with a unique
# e-mail address, phone number, user name and account number. The output is
# deterministic for a seed, so a run can be repeated; nothing of it is ever
# committed.
import csv
import json
import random
import sys

FALLBACK = ["Ada", "Bruno", "Chen", "Dara", "Emil", "Farah", "Goran", "Hana", "Ivo", "Jun",
            "Kasia", "Lior", "Mina", "Nils", "Omar", "Pia", "Quinn", "Rui", "Sana", "Tove"]


def names():
    try:
        with open("/usr/share/dict/american-english", encoding="utf-8") as f:
            words = [w.strip() for w in f]
    except OSError:
        return FALLBACK
    out = [w for w in words if w[:1].isupper() and w.isalpha() and w.isascii() and 3 <= len(w) <= 10]
    return out or FALLBACK


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit("usage: gen_contacts.py N OUT [--csv] [--seed S]")
    n, out = int(args[0]), args[1]
    seed = 1
    for i, a in enumerate(sys.argv):
        if a == "--seed" and i + 1 < len(sys.argv):
            seed = int(sys.argv[i + 1])
    as_csv = "--csv" in sys.argv
    rnd = random.Random(seed)
    pool = names()
    cols = ["id", "full_name", "email", "phone", "username", "account_number"]
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f) if as_csv else None
        if w:
            w.writerow(cols)
        for i in range(1, n + 1):
            first, last = rnd.choice(pool), rnd.choice(pool)
            user = f"{first[0].lower()}{last.lower()}{i}"
            rec = [f"C-{i:07d}", f"{first} {last}", f"{first.lower()}.{last.lower()}.{i}@example.com",
                   f"+1 (6{i // 10000000 % 10}{i // 1000000 % 10}) {i // 10000 % 100:02d}{i // 1000 % 10}-{i % 10000:04d}",
                   user, f"AC-{i:08d}"]
            if w:
                w.writerow(rec)
            else:
                f.write(json.dumps(dict(zip(cols, rec))) + "\n")


if __name__ == "__main__":
    main()
