#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The follow-up agent's routes against a real `caseagent serve`
# (tests/server/lib/server.py), issue 12:
# - GET /api/v1/cases/{ref}/resolution-proposal: the representative's
#   statements from the chat and a note, with their evidence, never the
#   customer's words or a "let me check"; it writes nothing; an unknown case
#   is 404; the integration user (no "work") is 403.
# - GET /api/v1/cases/{ref}/suggestion and POST .../suggestion/{id}: a rule
#   at level confirm and a tick (`followup run --now`, three days on) leave
#   a pending suggestion and queue nothing; bad bodies are problem+json
#   (not JSON 400; no action, an unknown action, a wrong type, an unknown
#   key 422) and change nothing; a bad id is 404; the integration user is
#   403; dismiss closes it (then 409 for a second action); send queues the
#   edited e-mail in the outbox; the customer's answer by e-mail closes it.
# - POST /api/v1/followup/simulate and GET /api/v1/followup/shadow need
#   "configure": a representative is 403; a limit over 100 or of the wrong
#   type is 422; a simulation reports per case and writes nothing (cases,
#   suggestions and the outbox compared before and after); a shadow rule's
#   decisions are in the shadow log, by rule.
# - GET /api/v1/reports/agent carries the follow-up figures.
# Arguments: the caseagent binary, the source directory.
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import Server, chat_events, check, main, problem  # noqa: E402

CONFIRM = {"name": "chase confirm", "trigger": {"status_reason": "waiting_for_customer"}, "followups": 2,
           "wait": {"hours": 48}, "level": "confirm", "after_last": "suggest_resolve"}
SHADOW = {"name": "chase shadow", "trigger": {"status_reason": "waiting_for_parts"}, "followups": 2,
          "wait": {"hours": 48}, "level": "shadow", "after_last": "resolve"}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def state(srv):
    """What a read-only call must leave alone: the cases with their versions,
    the outbox, and each case's pending suggestion."""
    cases = srv.request("GET", "/api/v1/cases?limit=200", user="admin").json()["cases"]
    out = []
    for c in sorted(cases, key=lambda c: c["ticket_number"]):
        s = srv.request("GET", f"/api/v1/cases/{c['ticket_number']}/suggestion", user="rep").json()
        out.append((c["ticket_number"], c["version"], json.dumps(s.get("suggestion"), sort_keys=True)))
    outbox = srv.request("GET", "/api/v1/email/outbox", user="admin").json()["outbox"]
    return out, len(outbox)


def test(binary, source):
    with Server(binary, source, name="followup") as srv:
        srv.start()
        # ---- resolution help ----
        conv = "fu-refund"
        srv.chat(conv, chat_events(conv, [
            ("customer", "Hi, my card statement shows two payments for one order. I am Marit Torvik, marit.torvik@example.com"),
            ("agent", "Thanks Marit. Let me check the payments on that order."),
            ("agent", "I have refunded the duplicate payment to your card. Is there anything else?"),
            ("customer", "No, that is all, thank you!"),
        ], accept_after=1, close=False, wrapup=False))
        conv_case = srv.request("GET", f"/api/v1/conversations/{conv}", user="rep").json()["case"]
        check(conv_case, "the chat made a case")
        r = srv.request("POST", f"/api/v1/cases/{conv_case}/notes", {"body": "I have waived the card fee as a goodwill gesture."}, user="rep")
        check(r.status == 201, f"note: {r!r}")
        before = srv.request("GET", f"/api/v1/cases/{conv_case}", user="rep").json()
        r = srv.request("GET", f"/api/v1/cases/{conv_case}/resolution-proposal", user="rep")
        check(r.status == 200, f"resolution-proposal: {r!r}")
        p = r.json()
        check(p["case"] == conv_case and p["resolution"], f"a proposal: {p}")
        check("refunded the duplicate payment" in p["resolution"] and "waived the card fee" in p["resolution"], f"proposal {p}")
        for bad in ("Let me check", "two payments", "anything else"):
            check(bad not in p["resolution"], f"{bad!r} in the proposal {p['resolution']!r}")
        srcs = {(e["source"], str(e["id"])) for e in p["evidence"]}
        check(("message", f"{conv}-m3") in srcs and any(s == "note" for s, _ in srcs), f"evidence {p['evidence']}")
        check(0 < p["confidence"] <= 1, f"confidence {p['confidence']}")
        after = srv.request("GET", f"/api/v1/cases/{conv_case}", user="rep").json()
        check(after["version"] == before["version"] and after["notes"] == before["notes"], "the proposal wrote something")
        problem(srv.request("GET", "/api/v1/cases/CAS-09999/resolution-proposal", user="rep"), 404, "unknown case")
        problem(srv.request("GET", f"/api/v1/cases/{conv_case}/resolution-proposal", user="chat"), 403, "integration user")

        # ---- suggestions at level confirm ----
        settings = srv.request("GET", "/api/v1/settings", user="admin").json()
        settings.setdefault("email", {})["auto_response"] = {
            "from": "support@seedshop.example", "subject": "{token} We received: {subject}",
            "body": "Thank you for writing. Your case number is {ticket}."}
        # The ticks are this test's own (`followup run --now`): serve's
        # worker, left at its default interval, runs one at a moment of its
        # choosing (the first soon after these settings), and that one,
        # finding the customer's answer below, drafts a reply onto the
        # card the test expects gone. tests/cli/cli_followup.sh shows
        # serve's own tick.
        settings["followup"] = {"rules": [CONFIRM, SHADOW], "interval_minutes": 0}
        r = srv.request("PUT", "/api/v1/settings", settings, user="admin")
        check(r.status == 200, f"settings with follow-up rules: {r!r}")
        cases = os.path.join(srv.dir, "cases.jsonl")
        with open(cases, "w") as f:
            for i, (reason, who) in enumerate([("waiting_for_customer", "C-mtorvik"), ("waiting_for_customer", "C-jokafor"),
                                               ("waiting_for_parts", "C-mtorvik"), ("waiting_for_customer", "C-jokafor")]):
                f.write(json.dumps({"fields": {"title": f"follow-up case {i}", "description": "The parcel never came.",
                                               "customer": who, "status": "active", "status_reason": reason,
                                               "owner": "rep"}}) + "\n")
        srv.cli("import", "cases", cases)
        listed = srv.request("GET", "/api/v1/cases?owner=rep&limit=200", user="rep").json()["cases"]
        ref = {}
        for c in listed:
            title = (c.get("fields") or {}).get("title") or c.get("title")
            if title and title.startswith("follow-up case "):
                ref[int(title[-1])] = c["ticket_number"]
        check(len(ref) == 4, f"the four imported cases: {listed}")
        t0 = time.time()
        now = iso(t0 + 3 * 86400)
        outbox0 = len(srv.request("GET", "/api/v1/email/outbox", user="admin").json()["outbox"])
        run = json.loads(srv.cli("--json", "followup", "run", "--now", now).stdout)
        check(len(srv.request("GET", "/api/v1/email/outbox", user="admin").json()["outbox"]) == outbox0,
              f"confirm and shadow queued nothing: {run}")
        sugg = {}
        for i in (0, 1):
            r = srv.request("GET", f"/api/v1/cases/{ref[i]}/suggestion", user="rep")
            check(r.status == 200, f"suggestion {ref[i]}: {r!r}")
            s = r.json()["suggestion"]
            check(s and s["rule"] == CONFIRM["name"] and isinstance(s["id"], int), f"a pending suggestion on {ref[i]}: {s} ({run})")
            sugg[i] = s
        check(srv.request("GET", f"/api/v1/cases/{ref[2]}/suggestion", user="rep").json()["suggestion"] is None,
              "a shadow rule suggests nothing")
        problem(srv.request("GET", f"/api/v1/cases/{ref[0]}/suggestion", user="chat"), 403, "integration user reads a suggestion")

        act = f"/api/v1/cases/{ref[0]}/suggestion/{sugg[0]['id']}"
        snap = state(srv)
        problem(srv.request("POST", act, "{not json", user="rep"), 400, "a body that is not JSON")
        for body, key in [({}, "action"), ({"action": "explode"}, "action"), ({"action": 5}, "action"),
                          ({"action": "send", "body": ["x"]}, "body"), ({"action": "dismiss", "why": "x"}, "why")]:
            p = problem(srv.request("POST", act, body, user="rep"), 422, f"body {body}")
            check(p.get("field") == key, f"body {body}: the problem names {p.get('field')!r}, not {key!r}")
        problem(srv.request("POST", f"/api/v1/cases/{ref[0]}/suggestion/abc", {"action": "dismiss"}, user="rep"), 404, "id abc")
        problem(srv.request("POST", f"/api/v1/cases/{ref[0]}/suggestion/999999", {"action": "dismiss"}, user="rep"), 404,
                "no such suggestion")
        problem(srv.request("POST", act, {"action": "dismiss"}, user="chat"), 403, "integration user acts")
        check(state(srv) == snap, "a refused action changed something")

        r = srv.request("POST", act, {"action": "dismiss"}, user="rep")
        check(r.status == 200 and r.json()["action"] == "dismiss", f"dismiss: {r!r}")
        check(srv.request("GET", f"/api/v1/cases/{ref[0]}/suggestion", user="rep").json()["suggestion"] is None, "dismissed")
        problem(srv.request("POST", act, {"action": "dismiss"}, user="rep"), 409, "a second action")

        edited = "Hello Jide, did the parcel arrive? (edited by the representative)"
        r = srv.request("POST", f"/api/v1/cases/{ref[1]}/suggestion/{sugg[1]['id']}",
                        {"action": "send", "subject": "Your parcel", "body": edited}, user="rep")
        check(r.status == 200, f"send: {r!r}")
        queued = [m for m in srv.request("GET", "/api/v1/email/outbox", user="admin").json()["outbox"] if m.get("case") == ref[1]]
        check(len(queued) == 1 and edited in queued[0]["body"] and queued[0]["to_addr"] == "jide.okafor@example.net",
              f"the edited e-mail in the outbox: {queued}")

        # The customer answers: the suggestion is gone (the card with it).
        check(srv.request("GET", f"/api/v1/cases/{ref[3]}/suggestion", user="rep").json()["suggestion"], f"{ref[3]} suggested")
        mail = (f"From: Jide Okafor <jide.okafor@example.net>\r\nTo: support@seedshop.example\r\n"
                f"Subject: Re: [{ref[3]}] follow-up case 3\r\nMessage-ID: <fu-answer@example.net>\r\n\r\n"
                "The parcel is still not here.\r\n")
        # ... a day after the tick (the one clock, CA_NOW, set for this CLI call)
        eml = os.path.join(srv.dir, "answer.eml")
        with open(eml, "w") as f:
            f.write(mail)
        os.environ["CA_NOW"] = str(int(t0 + 4 * 86400))
        try:
            got = json.loads(srv.cli("--json", "email", "ingest", eml).stdout)
        finally:
            del os.environ["CA_NOW"]
        check(ref[3] in json.dumps(got), f"the customer's answer is on {ref[3]}: {got}")
        check(srv.request("GET", f"/api/v1/cases/{ref[3]}/suggestion", user="rep").json()["suggestion"] is None,
              "the suggestion is gone once the customer wrote again")

        # ---- simulation and the shadow log ----
        problem(srv.request("POST", "/api/v1/followup/simulate", {"limit": 5}, user="rep"), 403, "a representative simulates")
        problem(srv.request("GET", "/api/v1/followup/shadow", user="rep"), 403, "a representative reads the shadow log")
        snap = state(srv)
        for body, key in [({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"limit": "ten"}, "limit"),
                          ({"rule": 3}, "rule"), ({"dry": True}, "dry")]:
            p = problem(srv.request("POST", "/api/v1/followup/simulate", body, user="admin"), 422, f"simulate {body}")
            check(p.get("field") == key, f"simulate {body}: the problem names {p.get('field')!r}")
        problem(srv.request("POST", "/api/v1/followup/simulate", "[1,", user="admin"), 400, "simulate with bad JSON")
        r = srv.request("POST", "/api/v1/followup/simulate", {"limit": 100}, user="admin")
        check(r.status == 200, f"simulate: {r!r}")
        sim = r.json()
        check(isinstance(sim.get("decisions"), list) and isinstance(sim.get("counts"), dict), f"simulate: {sim}")
        for d in sim["decisions"]:
            for k in ("case", "rule", "decision"):
                check(k in d, f"a simulated decision without {k}: {d}")
        r = srv.request("POST", "/api/v1/followup/simulate", {"rule": CONFIRM["name"], "limit": 1}, user="manager")
        check(r.status == 200 and len(r.json()["decisions"]) <= 1, f"simulate one case of one rule: {r!r}")
        check(all(d["rule"] == CONFIRM["name"] for d in r.json()["decisions"]), f"only that rule: {r.json()}")
        check(state(srv) == snap, "a simulation changed something")

        r = srv.request("GET", f"/api/v1/followup/shadow?rule={SHADOW['name'].replace(' ', '%20')}", user="admin")
        check(r.status == 200, f"shadow: {r!r}")
        log = r.json()["decisions"]
        check(any(d["case"] == ref[2] for d in log), f"the shadow rule's decision on {ref[2]}: {log}")
        problem(srv.request("GET", "/api/v1/followup/shadow?limit=abc", user="admin"), 422, "shadow limit abc")

        # ---- the agent report ----
        r = srv.request("GET", "/api/v1/reports/agent", user="manager")
        check(r.status == 200, f"report: {r!r}")
        rep = r.json()
        for k in ("followups_sent", "cases_resolved_by_agent", "cases_handed_to_person",
                  "reopened_after_agent_resolution"):
            check(isinstance(rep.get(k), int), f"the report has {k}: {rep}")
        check(isinstance(rep.get("replies_by_intent"), dict), f"the report has replies_by_intent: {rep}")
        check(rep["followups_sent"] >= 1, f"the sent suggestion counts as a follow-up sent: {rep}")
        srv.stop_clean()


if __name__ == "__main__":
    main(test, "server_followup")
