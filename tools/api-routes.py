#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print the markdown tables of docs/api.md that come from the server itself,
so the document cannot drift from the code:

  api-routes.py SOURCE            every route: method, path, rights, summary,
                                  from the OpenAPI document (GET /openapi.json,
                                  generated from src/server/routes.c)
  api-routes.py --roles SOURCE    every role and the rights it grants, from
                                  GET /api/v1/roles (ca_role_rights, src/auth)

SOURCE is a URL (http://127.0.0.1:8080/openapi.json), a saved file, or "-"
for standard input. --token TOKEN (or $CASEAGENT_TOKEN) is sent as
"Authorization: Bearer TOKEN" when SOURCE is a URL; /api/v1/roles needs one
(any user's). The output goes between the marker comments of docs/api.md
(<!-- routes:begin --> ... <!-- routes:end -->, <!-- roles:begin --> ...);
--write docs/api.md puts it there instead of printing it.
Python 3 standard library only."""
import argparse
import json
import os
import re
import sys
import urllib.request

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


def load(source, token):
    if source == "-":
        return json.load(sys.stdin)
    if source.startswith(("http://", "https://")):
        req = urllib.request.Request(source, headers={"Accept": "application/json"})
        if token:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode("utf-8"))
    with open(source, encoding="utf-8") as f:
        return json.load(f)


def cell(text):
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def rights_text(rights, public):
    if public:
        return "none (public)"
    if not rights:
        return "any signed-in user"
    return " or ".join(f"`{r}`" for r in rights)


def routes_table(doc):
    rows = ["| Method | Path | Rights | Summary |", "|---|---|---|---|"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            rights = rights_text(op.get("x-caseagent-rights", []), op.get("x-caseagent-public", False))
            rows.append(f"| {method.upper()} | `{path}` | {rights} | {cell(op.get('summary', ''))} |")
    return "\n".join(rows)


def roles_table(doc):
    names = []
    for role in doc["roles"]:
        for r in role["rights"]:
            if r not in names:
                names.append(r)
    rows = ["| Role | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for role in doc["roles"]:
        marks = ["yes" if n in role["rights"] else "" for n in names]
        rows.append(f"| {cell(role['name'])} | " + " | ".join(marks) + " |")
    return "\n".join(rows)


def write_between(path, name, table):
    """Replace what stands between <!-- NAME:begin --> and <!-- NAME:end --> in path."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    marks = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not marks.search(text):
        raise ValueError(f"no <!-- {name}:begin --> ... <!-- {name}:end --> markers in {path}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(marks.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text, count=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source", help="a URL, a saved JSON file, or - for standard input")
    p.add_argument("--roles", action="store_true", help="the roles table (GET /api/v1/roles) instead of the routes")
    p.add_argument("--write", metavar="DOC", help="put the table between the markers of DOC (docs/api.md)")
    p.add_argument("--token", default=os.environ.get("CASEAGENT_TOKEN"), help="an API token for a URL")
    a = p.parse_args()
    try:
        doc = load(a.source, a.token)
        table = roles_table(doc) if a.roles else routes_table(doc)
        if a.write:
            write_between(a.write, "roles" if a.roles else "routes", table)
        else:
            print(table)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"api-routes.py: {a.source}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
