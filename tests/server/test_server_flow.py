#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The service's credentials, rights and live parts against the real
`caseagent serve` on 127.0.0.1 over a real SQLite file: users and tokens made
with the CLI; rights from the route table (anonymous 401, a lacking role 403
before any lookup, so an unknown case and a known one answer alike); a
password login that sets an HttpOnly, SameSite=Strict cookie and returns the
CSRF token but never the session; a change with the cookie but without
X-CSRF-Token refused (403, problem type csrf); a chat platform's events over
HTTP creating a case that each of 50 connected Server-Sent Events clients
receives as case.created (while another request is answered at once), that
an integration's stream does not show, and that a client resuming from
Last-Event-ID gets again; a stale If-Match refused with 412; a harvest job started over
HTTP and run by the background worker to "done", and one killed with its
process continued by serve; and /metrics counting the requests, the agent's
decisions and the harvest's records.

Usage: test_server_flow.py CASEAGENT_BINARY SOURCE_DIR
"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server, check, finish  # noqa: E402

BIN, SRC = sys.argv[1], sys.argv[2]


def ca(db, *args, stdin=None):
    r = subprocess.run([BIN, "--db", db] + list(args), input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("caseagent %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


class Events(threading.Thread):
    """A Server-Sent Events client collecting (id, event, data)."""

    def __init__(self, port, token, last_id=None):
        super().__init__(daemon=True)
        self.port, self.token, self.events, self.comments = port, token, [], 0
        self.last_id = last_id
        self.ready = threading.Event()

    def run(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Authorization": "Bearer " + self.token, "Accept": "text/event-stream"}
        if self.last_id is not None:
            h["Last-Event-ID"] = str(self.last_id)
        c.request("GET", "/api/v1/events", headers=h)
        r = c.getresponse()
        self.status, self.type = r.status, r.getheader("Content-Type")
        self.ready.set()
        ev = {}
        while True:
            line = r.readline()  # the body, de-chunked
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line.startswith(":"):
                self.comments += 1
            elif line == "":
                if "event" in ev:
                    self.events.append(ev)
                ev = {}
            else:
                k, _, v = line.partition(":")
                ev[k] = v.lstrip(" ")


def main():
    tmp = tempfile.mkdtemp(prefix="ca-flow-")
    db = os.path.join(tmp, "t.db")
    ca(db, "init")
    ca(db, "settings", "import", os.path.join(SRC, "examples/settings.json"))
    ca(db, "import", "contacts", os.path.join(SRC, "examples/contacts.jsonl"))
    ca(db, "import", "products", os.path.join(SRC, "examples/products.jsonl"))
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("correct horse battery\n")
    ca(db, "user", "add", "ada", "--role", "System Administrator", "--password-file", pw)
    ca(db, "user", "add", "rep", "--role", "Customer Service Representative", "--password-file", pw)
    ca(db, "user", "add", "chatbot", "--role", "Integration")
    tok = {u: ca(db, "token", "create", u).strip() for u in ("ada", "rep", "chatbot")}
    # A harvest job killed with its process after 3 records: still
    # "running", so serve's worker continues it.
    ca(db, "import", "cases", os.path.join(SRC, "examples/cases.jsonl"))
    r = subprocess.run([BIN, "--db", db, "--quiet", "knowledge", "harvest", "--from", "cases"],
                       env=dict(os.environ, CA_TEST_CRASH_AFTER_RECORDS="3"), capture_output=True)
    check(r.returncode == 3, "the harvest was killed after 3 records: %d" % r.returncode)
    s = Server(BIN, db, workers=3)
    try:
        # Rights before lookups: the same answer for a case that exists or not.
        r, p = s.call("GET", "/api/v1/users", token=tok["rep"])
        check(r.status == 403, "a representative lists users: %d" % r.status)
        r, p = s.call("GET", "/api/v1/users", token=tok["ada"])
        check(r.status == 200 and any(u["name"] == "rep" for u in p["users"]), "an administrator lists users: %d" % r.status)
        r1, _ = s.call("GET", "/api/v1/cases/CAS-99999", token=tok["chatbot"])
        r2, _ = s.call("GET", "/api/v1/cases/CAS-99999")
        check((r1.status, r2.status) == (403, 401), "no right / anonymous: %d %d" % (r1.status, r2.status))
        r, p = s.call("GET", "/api/v1/session", token=tok["rep"])
        check(r.status == 200 and p["user"] == "rep" and p["rights"] == ["work"], "who am I: %r" % p)

        # A password login: the cookie, the CSRF token, never the session in the body.
        r, p = s.call("POST", "/api/v1/session", {"user": "rep", "password": "correct horse battery"},
                      headers={"X-Forwarded-Proto": "https"})
        cookie = r.getheader("Set-Cookie") or ""
        check(r.status == 200 and "csrf" in p and "session" not in p, "login: %d %r" % (r.status, p))
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Secure"):
            check(attr in cookie, "the session cookie lacks %s: %r" % (attr, cookie))
        sess = cookie.split(";")[0]
        r, p = s.call("GET", "/api/v1/session", headers={"Cookie": sess})
        check(r.status == 200 and p.get("via") == "session", "the cookie authenticates: %d %r" % (r.status, p))
        r, p = s.call("POST", "/api/v1/cases", {"fields": {"description": "x"}}, headers={"Cookie": sess})
        check(r.status == 403 and "csrf" in p.get("type", ""), "a change without X-CSRF-Token: %d %r" % (r.status, p))
        r, p = s.call("POST", "/api/v1/session", {"user": "rep", "password": "wrong password!"})
        check(r.status == 401, "a wrong password: %d" % r.status)

        # Live events: a client connected before the chat platform's events.
        # Fifty representatives' streams at once on three worker threads:
        # no stream holds a thread, so other requests are answered at once.
        streams = [Events(s.port, tok["rep"]) for _ in range(50)]
        for e in streams:
            e.start()
        sse = streams[0]
        blind = Events(s.port, tok["chatbot"])  # no work right: sees no case events
        blind.start()
        for e in streams + [blind]:
            e.ready.wait(10)
        t0 = time.time()
        r, p = s.call("GET", "/api/v1/session", token=tok["rep"])
        check(r.status == 200 and time.time() - t0 < 2, "a request while 51 streams are open: %d" % r.status)
        check(sse.status == 200 and (sse.type or "").startswith("text/event-stream"), "the event stream opens")
        conv = json.loads(open(os.path.join(SRC, "examples/conversations.jsonl")).readline())
        cid = conv["conversation_id"]
        path = "/api/v1/conversations/%s/events" % cid
        evs = [{"id": "e-open", "type": "open"}]
        for m in conv["messages"]:
            evs.append({"id": "e-" + m["id"], "type": "message", "message": {"id": m["id"], "role": m["role"], "text": m["text"]}})
        evs.insert(4, {"id": "e-accept", "type": "accept", "actor": "rep"})
        evs.append({"id": "e-wrapup", "type": "wrapup"})
        case = None
        for e in evs:
            r, p = s.call("POST", path, e, token=tok["chatbot"])
            check(r.status == 200, "chat event %s: %d %r" % (e["id"], r.status, p))
            case = case or (p or {}).get("case")
        r, p = s.call("POST", path, evs[0], token=tok["chatbot"])
        check(r.status == 200 and p.get("replayed") is True, "a replayed event says so: %r" % p)
        r, p = s.call("POST", path, dict(evs[1], conversation="other"), token=tok["chatbot"])
        check(r.status == 422 and p.get("field") == "conversation", "a body naming another conversation: %d" % r.status)
        check(case is not None, "the conversation has a case")
        deadline = time.time() + 10
        while time.time() < deadline and not any(e["event"] == "case.created" for e in sse.events):
            time.sleep(0.1)
        created = [e for e in sse.events if e["event"] == "case.created"]
        check(created and json.loads(created[0]["data"]).get("case") == case and created[0]["id"].isdigit(),
              "the stream delivered case.created: %r" % sse.events[:3])
        deadline = time.time() + 10
        while time.time() < deadline and not all(any(x["event"] == "case.created" for x in e.events) for e in streams):
            time.sleep(0.1)
        check(all(any(x["event"] == "case.created" for x in e.events) for e in streams),
              "every one of 50 streams delivered case.created")
        check(not any(e["event"].startswith("case.") for e in blind.events),
              "an integration's stream shows case events: %r" % blind.events[:3])
        # A client that reconnects from an earlier id gets what it missed.
        late = Events(s.port, tok["rep"], last_id=0)
        late.start()
        deadline = time.time() + 10
        while time.time() < deadline and not any(e["event"] == "case.created" for e in late.events):
            time.sleep(0.1)
        deadline = time.time() + 10
        while time.time() < deadline and created[0]["id"] not in [e["id"] for e in late.events]:
            time.sleep(0.1)
        ids = [int(e["id"]) for e in late.events]
        check(created[0]["id"] in [e["id"] for e in late.events] and ids == sorted(set(ids)) and ids[0] == 1,
              "resuming after Last-Event-ID 0 replays every event from the first, in order: %r" % ids[:10])

        # Versions: the ETag, a stale If-Match refused with 412.
        r, p = s.call("GET", "/api/v1/cases/" + case, token=tok["rep"])
        etag = r.getheader("ETag")
        check(r.status == 200 and etag == '"%d"' % p["version"], "the case's ETag %r" % etag)
        r, p = s.call("PATCH", "/api/v1/cases/" + case, {"fields": {"priority": "high"}}, token=tok["rep"],
                      headers={"If-Match": etag})
        check(r.status == 200, "an edit with the current version: %d %r" % (r.status, p))
        r, p = s.call("PATCH", "/api/v1/cases/" + case, {"fields": {"priority": "low"}}, token=tok["rep"],
                      headers={"If-Match": etag})
        check(r.status == 412, "an edit with a stale version: %d %r" % (r.status, p))

        # The background worker runs a harvest started over HTTP.
        r, p = s.call("POST", "/api/v1/cases/%s/resolve" % case, {"resolution": "Sent a replacement pair."},
                      token=tok["rep"])
        check(r.status == 200, "resolve: %d %r" % (r.status, p))
        r, p = s.call("POST", "/api/v1/knowledge/harvests", {"source": "cases"}, token=tok["ada"])
        check(r.status == 202 and p.get("state") == "running", "a harvest starts: %d %r" % (r.status, p))
        job = p.get("id")
        deadline = time.time() + 30
        while time.time() < deadline:
            r, p = s.call("GET", "/api/v1/knowledge/harvests/%s" % job, token=tok["ada"])
            if p.get("state") != "running":
                break
            time.sleep(0.2)
        check(p.get("state") == "done", "the worker finished the harvest: %r" % p)

        r, p = s.call("GET", "/api/v1/knowledge/harvests/1", token=tok["ada"])
        check(p.get("state") == "done" and p.get("processed") == p.get("total") and p.get("total", 0) >= 30,
              "the job killed with its process was continued by serve: %r" % p)

        # Metrics, for the scraper's token.
        r, text = s.call("GET", "/metrics", token=tok["chatbot"])
        text = text.decode() if isinstance(text, bytes) else str(text)
        check(r.status == 200 and r.getheader("Content-Type", "").startswith("text/plain"), "metrics: %d" % r.status)
        check('caseagent_http_requests_total{route="/api/v1/conversations/{id}/events",method="POST",status="200"}'
              in text, "metrics count the chat events")
        check(re.search(r'caseagent_agent_decisions_total\{outcome="replayed"\} [1-9]', text), "metrics count replays")
        check("caseagent_http_request_duration_seconds_bucket" in text, "metrics have the duration histogram")
        check(re.search(r"caseagent_harvest_records_processed_total [1-9]", text), "metrics count harvest records")
        rc = s.stop()
        check(rc == 0, "serve exited %r" % rc)
        time.sleep(0.2)
    finally:
        s.kill()
    text = "\n".join(s.log)
    for t in tok.values():
        check(t not in text, "a token reached the log")
    check("correct horse" not in text, "a password reached the log")
    finish("server flow")


main()
