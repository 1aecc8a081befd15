#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Turns a labelled sentence file (one sentence a line, personal items marked
# [[TYPE:text]], lines starting with # ignored) into the span format of
# Microsoft Presidio's evaluation data that `caseagent pii eval` reads: a
# JSON list of {"full_text", "masked", "spans": [{"entity_type",
# "entity_value", "start_position", "end_position"}], "template_id"}, with
# positions in characters (Unicode code points), end exclusive.
# A line with an unclosed or empty mark is an error naming the line.
# usage: pii_markup.py IN.txt OUT.json
import json, re, sys

MARK = re.compile(r"\[\[([A-Z_]+):([^\]]+)\]\]")

def convert(lines):
    out = []
    for no, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        text, masked, spans, pos = "", "", [], 0
        for m in MARK.finditer(line):
            text += line[pos:m.start()]
            masked += line[pos:m.start()]
            spans.append({"entity_type": m.group(1), "entity_value": m.group(2),
                          "start_position": len(text), "end_position": len(text) + len(m.group(2))})
            text += m.group(2)
            masked += "{{" + m.group(1) + "}}"
            pos = m.end()
        text += line[pos:]
        masked += line[pos:]
        if "[[" in text or "]]" in text:
            sys.exit(f"pii_markup: line {no}: a mark is not of the form [[TYPE:text]]")
        out.append({"full_text": text, "masked": masked, "spans": spans, "template_id": no, "metadata": None})
    return out

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: pii_markup.py IN.txt OUT.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        recs = convert(f)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(recs, f, ensure_ascii=False, indent=0)
        f.write("\n")
