#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTTP service's basics, against the real `caseagent serve` on a free
127.0.0.1 port over a real SQLite file: health and readiness, the problem+json
answers of the router (unknown route 404, wrong method 405 with Allow, bad
path segments 400 before any lookup, oversized bodies 413 by Content-Length
and while reading a chunked body, bad JSON 400 naming line and column,
unknown keys 422 naming the key, anonymous 401), GET /openapi.json listing
every route of the route table (src/server/routes.c, read here), the access
log as JSON lines without tokens or query strings, and SIGTERM during a slow
request: the request completes and serve exits 0.

Usage: test_server_basics.py CASEAGENT_BINARY SOURCE_DIR
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server, check, finish  # noqa: E402

BIN, SRC = sys.argv[1], sys.argv[2]


def problem(r, data, status, what):
    check(r.status == status, "%s: status %d, wanted %d (%r)" % (what, r.status, status, data[:200]))
    check(r.getheader("Content-Type", "").startswith("application/problem+json"),
          "%s: Content-Type %r is not application/problem+json" % (what, r.getheader("Content-Type")))
    try:
        p = json.loads(data)
    except ValueError:
        check(False, "%s: the body is not JSON: %r" % (what, data[:200]))
        return {}
    for k in ("type", "title", "status", "detail"):
        check(k in p, "%s: the problem has no %r" % (what, k))
    check(p.get("status") == status, "%s: problem status %r" % (what, p.get("status")))
    return p


def table_routes():
    """(method, path) of every entry of the route table, read from its source."""
    text = open(os.path.join(SRC, "src/server/routes.c")).read()
    return set(re.findall(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"([^"]+)"', text))


def main():
    tmp = tempfile.mkdtemp(prefix="ca-server-")
    db = os.path.join(tmp, "t.db")
    subprocess.run([BIN, "--db", db, "init"], check=True, stdout=subprocess.DEVNULL)
    s = Server(BIN, db)
    try:
        # Health and readiness.
        r, data = s.request("GET", "/healthz")
        check(r.status == 200 and json.loads(data) == {"status": "ok"}, "healthz: %d %r" % (r.status, data))
        r, data = s.request("GET", "/readyz")
        check(r.status == 200 and json.loads(data).get("status") == "ready", "readyz: %d %r" % (r.status, data))

        # The router's answers.
        problem(*s.request("GET", "/api/v1/no-such-thing"), 404, "unknown route")
        r, data = s.request("DELETE", "/healthz")
        problem(r, data, 405, "wrong method")
        check(r.getheader("Allow") == "GET, HEAD", "405 Allow is %r" % r.getheader("Allow"))
        r, data = s.request("PUT", "/api/v1/cases")
        problem(r, data, 405, "wrong method on a collection")
        check(set((r.getheader("Allow") or "").split(", ")) == {"GET", "HEAD", "POST"},
              "405 Allow of /api/v1/cases is %r" % r.getheader("Allow"))

        # Path segments refused before any lookup (anonymous: no 401 first
        # is needed to learn a path is malformed, and nothing is looked up).
        for path, what in (("/api/v1/cases/../users", "a '..' segment"), ("/api/v1/cases/%2e%2e", "an encoded '..'"),
                           ("/api/v1/cases/CAS%00-1", "%00"), ("/api/v1/cases/" + "x" * 10240, "a 10 KB id"),
                           ("/api/v1/cases/a%0Ab", "a control character"), ("/api/v1/cases/%ff", "not UTF-8"),
                           ("/api/v1/cases/a%zz", "a bad escape"), ("/api/v1/cases/..%2F..%2Fetc", "an encoded '/'"),
                           ("/api/v1/cases/a%5Cb", "an encoded backslash")):
            p = problem(*s.request("GET", path), 400, "path with " + what)
            check(p.get("field") == "path", "path with %s: field %r" % (what, p.get("field")))

        # Anonymous on a route that needs credentials: 401 with a challenge.
        r, data = s.request("GET", "/api/v1/cases/CAS-00001")
        problem(r, data, 401, "anonymous")
        check((r.getheader("WWW-Authenticate") or "").startswith("Bearer"), "401 without WWW-Authenticate")
        r, data = s.request("GET", "/api/v1/cases", headers={"Authorization": "Bearer ca_not-a-real-token-XYZZY"})
        problem(r, data, 401, "unknown token")

        # Bodies: too large by Content-Length, too large while reading a
        # chunked body, not JSON (line and column), unknown keys (422).
        # (The answer comes before the body is read, so the client sends
        # the headers only, as a client waiting for it would.)
        c = s.conn()
        c.putrequest("POST", "/api/v1/session")
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(1024 * 1024 + 1))
        c.endheaders()
        r = c.getresponse()
        p = problem(r, r.read(), 413, "oversized body")
        check(p.get("limit") == 1024 * 1024, "413 names the limit: %r" % p)
        c.close()
        c = s.conn()
        def chunks():
            for _ in range(20):
                yield b" " * 65536
            yield b"{}"
        c.request("POST", "/api/v1/session", body=chunks(), encode_chunked=True,
                  headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        r = c.getresponse()
        problem(r, r.read(), 413, "oversized chunked body")
        c.close()
        p = problem(*s.request("POST", "/api/v1/session", body=b'{\n  "user": "ann",,\n}',
                               headers={"Content-Type": "application/json"}), 400, "bad JSON")
        check(p.get("line") == 2 and isinstance(p.get("column"), int), "bad JSON names line and column: %r" % p)
        check("line 2" in p.get("detail", ""), "bad JSON detail says the line: %r" % p.get("detail"))
        problem(*s.request("POST", "/api/v1/session", body=b'{"user": "ann"',
                           headers={"Content-Type": "application/json"}), 400, "truncated JSON")
        p = problem(*s.request("POST", "/api/v1/session", body=b'{"user":"ann","password":"x","remember":true}',
                               headers={"Content-Type": "application/json"}), 422, "unknown key")
        check(p.get("field") == "remember", "unknown key named: %r" % p)
        p = problem(*s.request("POST", "/api/v1/session", body=b'{"user":"ann"}',
                               headers={"Content-Type": "application/json"}), 422, "missing key")
        check(p.get("field") == "password", "missing key named: %r" % p)
        problem(*s.request("POST", "/api/v1/session", body=b'user=ann',
                           headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "form body")

        # The OpenAPI document has every route of the table, with rights.
        r, data = s.request("GET", "/openapi.json")
        check(r.status == 200, "openapi.json: %d" % r.status)
        doc = json.loads(data)
        check(doc.get("openapi", "").startswith("3.1"), "OpenAPI version %r" % doc.get("openapi"))
        served = {(m.upper(), path) for path, item in doc["paths"].items() for m in item}
        table = table_routes()
        check(len(table) >= 55, "the route table has %d routes" % len(table))
        check(served == table, "openapi.json and the route table differ: only in the document %r, only in the table %r"
              % (sorted(served - table), sorted(table - served)))
        for path, item in doc["paths"].items():
            for m, op in item.items():
                check("x-caseagent-rights" in op and "security" in op and "responses" in op,
                      "%s %s lacks rights, security or responses" % (m, path))
        check(doc["paths"]["/api/v1/users"]["get"]["x-caseagent-rights"] == ["configure"],
              "GET /api/v1/users needs configure")
        check(doc["paths"]["/healthz"]["get"]["security"] == [], "healthz is public")

        # SIGTERM while a request's body is still arriving: it completes.
        c = s.conn(timeout=30)
        c.putrequest("POST", "/api/v1/session")
        body = b'{"user":"ann","password":"not-the-password"}'
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        c.send(body[:10])
        time.sleep(0.5)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        c.send(body[10:])
        r = c.getresponse()
        data = r.read()
        check(r.status in (401, 422, 501), "the slow request completed after SIGTERM: %d %r" % (r.status, data[:200]))
        c.close()
        rc = s.proc.wait(timeout=40)
        check(rc == 0, "serve exited %r after SIGTERM" % rc)
        s.reader.join(timeout=5)
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
            check(False, "serve still accepts connections after SIGTERM")
        except OSError:
            pass
    finally:
        s.kill()

    # The access log: one JSON line per request, with the route template,
    # never a token, a query string or a raw path.
    access = []
    for line in s.log:
        try:
            o = json.loads(line)
        except ValueError:
            check(False, "a log line is not JSON: %r" % line)
            continue
        if "route" in o:
            access.append(o)
            for k in ("method", "route", "status", "duration_ms"):
                check(k in o, "an access line lacks %r: %r" % (k, line))
    check(len(access) >= 20, "only %d access lines" % len(access))
    text = "\n".join(s.log)
    check("XYZZY" not in text, "a token reached the log")
    check("CAS%00" not in text and "x" * 300 not in text, "a raw path reached the log")
    check(any(o["route"] == "/api/v1/cases/{ref}" and o["status"] == 401 for o in access),
          "the log names route templates")
    check(any(o["route"] == "/api/v1/session" and o["status"] in (401, 422, 501) for o in access[-3:]),
          "the request in flight at SIGTERM is logged")

    finish("server basics")


main()
