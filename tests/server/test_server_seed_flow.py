#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The seed's example driven entirely over HTTP against a real `caseagent
# serve` on 127.0.0.1 and a real SQLite file (tests/server/lib/server.py).
# The settings (tests/server/data/seed_settings.json): default fields Issue
# description and Contact; an update rule "Case category equals Product
# defect -> Product, Priority, Serial number". The chat platform's token
# posts every chat event (open, messages, accept by the representative,
# update, wrap-up, close); a delivery chat's case gets description and
# contact at accept; a product-defect chat accepted before the customer says
# who they are is withheld, then created at the update with product,
# priority and serial number too.
# A representative's edit (PATCH with If-Match) is left alone by the next
# Update from conversation, while a control chat with the same messages and
# no edit shows the agent would have written the field; a stale If-Match is
# refused with 412 and changes nothing. The mail server's token posts a raw
# RFC 5322 message that creates a case; notes are added and listed; an SSE
# client receives case.created for a case created after it connected,
# resumes from Last-Event-ID, and a client of a second serve process on the
# same database is told of a case the first one created. The access log has
# one JSON line per request and never a token, password or personal data. A
# representative whose agent experience profile has autonomous case creation
# off gets no case from the chat they accept (the result says why), while
# Update from conversation on demand still fills the case linked to it.
# Logins: cookie and CSRF token, a wrong password 401, logout, and after 5
# failures a login is 429 with Retry-After, even with the right password.
# Arguments: the caseagent binary, the source directory.
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import PASSWORD, EventStream, Server, all_pages, chat_events, check, main, problem  # noqa: E402

DELIVERY = [
    ("customer", "Hello, my parcel has not arrived and the tracking has not moved for a week."),
    ("agent", "Sorry about that. Which e-mail is the order under?"),
    ("customer", "jide.okafor@example.net"),
    ("agent", "Thank you, I have found the order and asked the courier."),
    ("customer", "Great, thanks."),
]
DEFECT = [
    ("customer", "Hi, my Aurel Smart Kettle is broken, it stopped working and will not turn on."),
    ("agent", "Sorry to hear that. Could I have the e-mail on your order and the serial number?"),
    ("customer", "marit.torvik@example.com, serial number SN-482913. It is urgent, I need it for work."),
]
# A product-defect chat whose serial number comes only after the case exists.
TABLET = [
    ("customer", "Hi, my Quill 10 Tablet is broken, the screen stopped working."),
    ("agent", "Sorry to hear that. Could I have your e-mail?"),
    ("customer", "lena.brennan@example.org"),
]
TABLET_LATER = [
    ("agent", "Could you read me the serial number on the back?"),
    ("customer", "The serial number is SN-730418."),
]

MAIL = (
    "From: Marit Torvik <marit.torvik@example.com>\r\n"
    "To: support@seedshop.example\r\n"
    "Subject: Ember heater rattles\r\n"
    "Message-ID: <flow-1@example.com>\r\n"
    "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello, my Ember Fan Heater makes a loud rattling noise since Monday.\r\n"
    "Marit\r\n"
)


def get_case(srv, ref, user="rep"):
    r = srv.request("GET", f"/api/v1/cases/{ref}", user=user)
    check(r.status == 200, f"GET case {ref}: {r!r}")
    c = r.json()
    etag = r.header("ETag")
    check(etag, f"GET case {ref}: no ETag")
    check(etag.strip('W/"') == str(c["version"]), f"case {ref}: ETag {etag} is not the version {c['version']}")
    return c, etag


def case_of(results):
    refs = {r.get("case") for r in results if r.get("case")}
    check(len(refs) == 1, f"expected one case from the chat, got {refs}")
    return refs.pop()


def test_chat(srv):
    # The delivery chat: description and contact, nothing of the defect rule.
    events = chat_events("flow-d1", DELIVERY, accept_after=3)
    check([e["type"] for e in events if e["type"] != "message"] == ["open", "accept", "update", "wrapup", "close"],
          f"the delivery chat's lifecycle: {events}")
    res = srv.chat("flow-d1", events)
    created = [r for r in res if r.get("created")]
    check(len(created) == 1 and created[0]["type"] == "accept", f"delivery chat: case not created at accept: {res}")
    ref = case_of(res)
    c, _ = get_case(srv, ref)
    f = c["fields"]
    check("parcel" in f.get("description", ""), f"{ref}: description {f.get('description')!r}")
    check(f.get("customer") == "C-jokafor", f"{ref}: customer {f.get('customer')!r}")
    for k in ("product", "serial_number"):
        check(not f.get(k), f"{ref}: {k} set on a delivery case: {f}")
    check(c["provenance"]["customer"]["source"] == "agent", f"{ref}: provenance {c['provenance'].get('customer')}")

    conv = srv.request("GET", "/api/v1/conversations/flow-d1", user="rep")
    check(conv.status == 200, f"GET conversation: {conv!r}")
    cv = conv.json()
    check(cv["state"] == "closed", f"conversation state {cv['state']!r}, expected closed")
    check(cv["case"] == ref, f"conversation case {cv['case']!r}, expected {ref}")
    check([m["id"] for m in cv["messages"]] == [f"flow-d1-m{i}" for i in range(1, 6)],
          f"conversation messages {cv['messages']}")

    # The product-defect chat, accepted before the customer says who they
    # are: withheld at accept (no contact), created at the update with what
    # the update rule adds: product, priority, serial number.
    res = srv.chat("flow-p1", chat_events("flow-p1", DEFECT, accept_after=1))
    accept = next(r for r in res if r["type"] == "accept")
    check(not accept.get("case") and "customer" in json.dumps(accept.get("missing")),
          f"defect chat: accept without the contact should withhold the case: {accept}")
    check(next(r for r in res if r.get("created"))["type"] == "update", f"defect chat: not created at update: {res}")
    ref = case_of(res)
    f = get_case(srv, ref)[0]["fields"]
    check(f.get("category") == "product_defect", f"{ref}: category {f.get('category')!r}")
    check(f.get("customer") == "C-mtorvik", f"{ref}: customer {f.get('customer')!r}")
    check(f.get("product") == "P-aurel-kettle", f"{ref}: product {f.get('product')!r}")
    check(f.get("serial_number") == "SN-482913", f"{ref}: serial number {f.get('serial_number')!r}")
    check(f.get("priority") == "high", f"{ref}: priority {f.get('priority')!r}")

    listed = {c["ticket_number"] for c in all_pages(srv, "/api/v1/cases?origin=chat", "cases")}
    check(ref in listed, f"GET /api/v1/cases?origin=chat lacks {ref}: {listed}")


def test_person_wins(srv):
    refs = {}
    for conv in ("flow-t1", "flow-t2"):  # t1 gets the representative's edit, t2 is the control
        res = srv.chat(conv, chat_events(conv, TABLET, wrapup=False, close=False))
        refs[conv] = case_of(res)
    edited, control = refs["flow-t1"], refs["flow-t2"]
    c, etag = get_case(srv, edited)
    check(not c["fields"].get("serial_number"), f"{edited}: serial number before it was said: {c['fields']}")

    r = srv.request("PATCH", f"/api/v1/cases/{edited}", {"fields": {"serial_number": "SN-111111"}}, user="rep",
                    headers={"If-Match": etag})
    check(r.status == 200, f"PATCH {edited} with If-Match {etag}: {r!r}")
    c2, etag2 = get_case(srv, edited)
    check(c2["fields"]["serial_number"] == "SN-111111", f"{edited} after PATCH: {c2['fields']}")
    check(c2["version"] > c["version"], f"{edited}: version {c['version']} -> {c2['version']}")
    check(c2["provenance"]["serial_number"]["source"] == "person", f"provenance {c2['provenance']['serial_number']}")

    # A stale If-Match: 412, nothing changes.
    r = srv.request("PATCH", f"/api/v1/cases/{edited}", {"fields": {"serial_number": "SN-222222"}}, user="rep",
                    headers={"If-Match": etag})
    problem(r, 412, f"PATCH {edited} with stale If-Match {etag}")
    c3, etag3 = get_case(srv, edited)
    check(c3["fields"]["serial_number"] == "SN-111111" and etag3 == etag2, f"a stale PATCH changed {edited}: {c3}")

    # The customer now says the serial number; Update from conversation on both.
    for conv in ("flow-t1", "flow-t2"):
        for i, (role, text) in enumerate(TABLET_LATER, 4):
            srv.chat(conv, [{"id": f"{conv}-x{i}", "type": "message",
                             "message": {"id": f"{conv}-m{i}", "role": role, "text": text}}])
    r = srv.request("POST", f"/api/v1/cases/{control}/update-from-conversation", {}, user="rep")
    check(r.status == 200, f"update-from-conversation {control}: {r!r}")
    changed = {ch["field"]: ch["new"] for ch in r.json().get("changed", [])}
    check(changed.get("serial_number") == "SN-730418", f"control {control}: the agent did not write the serial "
          f"number, so the edit test would prove nothing: {r.json()}")
    r = srv.request("POST", f"/api/v1/cases/{edited}/update-from-conversation", {}, user="rep")
    check(r.status == 200, f"update-from-conversation {edited}: {r!r}")
    u = r.json()
    check("serial_number" not in {ch["field"] for ch in u.get("changed", [])}, f"{edited}: agent changed it: {u}")
    c4, _ = get_case(srv, edited)
    check(c4["fields"]["serial_number"] == "SN-111111", f"{edited}: the person's serial number was overwritten: "
          f"{c4['fields']}")
    check(c4["provenance"]["serial_number"]["source"] == "person", f"provenance {c4['provenance']['serial_number']}")

    # The audit shows the person's change.
    r = srv.request("GET", f"/api/v1/cases/{edited}/audit", user="rep")
    check(r.status == 200, f"audit {edited}: {r!r}")
    text = r.text()
    check("SN-111111" in text and "SN-730418" not in text, f"audit of {edited}: {text[:800]}")
    # Asked again with nothing new said: "no changes" (an Omnichannel Agent may ask too).
    r = srv.request("POST", f"/api/v1/cases/{control}/update-from-conversation", {}, user="omni")
    check(r.status == 200 and r.json().get("no_changes") is True, f"second update of {control}: {r!r}")


def test_profile(srv):
    """A representative whose agent experience profile has autonomous case
    creation off: the agent creates no case for the chat they accept, the
    result says why, and Update from conversation on demand still works."""
    r = srv.request("PUT", "/api/v1/profiles/Assisted", {"name": "Assisted", "description": "Suggestions only",
                                                         "autonomous_case": False, "autonomous_followup": False},
                    user="manager")
    check(r.status in (200, 201), f"PUT profile Assisted: {r!r}")
    r = srv.request("PATCH", "/api/v1/users/omni", {"profile": "Assisted"}, user="admin")
    check(r.status == 200 and r.json().get("profile") == "Assisted", f"PATCH omni's profile: {r!r}")
    res = srv.chat("flow-a1", chat_events("flow-a1", DEFECT, actor="omni", wrapup=False, close=False))
    check(not any(x.get("case") for x in res), f"a case was created for omni's chat: {res}")
    accept = next(x for x in res if x["type"] == "accept")
    check("Assisted" in json.dumps(accept), f"the accept result does not say the profile withheld the case: {accept}")
    r = srv.request("POST", "/api/v1/cases", {"fields": {"description": "Kettle will not turn on."}}, user="omni")
    check(r.status == 201, f"omni creating a case by hand: {r!r}")
    ref = r.json()["ticket_number"]
    srv.chat("flow-a1", [{"id": "flow-a1-link", "type": "link", "case": ref}])
    r = srv.request("POST", f"/api/v1/cases/{ref}/update-from-conversation", {}, user="omni")
    check(r.status == 200, f"update-from-conversation on demand: {r!r}")
    changed = {ch["field"]: ch["new"] for ch in r.json().get("changed", [])}
    check(changed.get("customer") == "C-mtorvik", f"on demand, the agent did not fill the contact: {r.json()}")
    c, _ = get_case(srv, ref)
    check(c["fields"]["description"] == "Kettle will not turn on.", f"{ref}: the person's description changed: {c}")


def test_email(srv):
    before = len(all_pages(srv, "/api/v1/cases?origin=email", "cases"))
    r = srv.request("POST", "/api/v1/email/messages", MAIL, user="mta", content_type="message/rfc822")
    check(200 <= r.status < 300, f"POST /api/v1/email/messages: {r!r}")
    cases = all_pages(srv, "/api/v1/cases?origin=email", "cases")
    check(len(cases) == before + 1, f"e-mail cases {before} -> {len(cases)}: {r!r}")
    c = cases[0]
    check("rattling" in c["fields"].get("description", ""), f"e-mail case {c}")
    check(c["fields"].get("customer") == "C-mtorvik", f"e-mail case customer {c['fields'].get('customer')!r}")
    log = srv.request("GET", "/api/v1/email/log", user="rep")
    check(log.status == 200 and "Ember heater rattles" in log.text(), f"e-mail log: {log!r}")
    r = srv.request("POST", "/api/v1/email/messages", MAIL, user="rep", content_type="message/rfc822")
    problem(r, 403, "a representative posting raw mail")
    return c["ticket_number"]


def test_notes(srv, ref):
    r = srv.request("POST", f"/api/v1/cases/{ref}/notes", {"body": "Called the customer back; replacement sent."},
                    user="rep")
    check(r.status in (200, 201), f"POST note: {r!r}")
    note = r.json()
    r = srv.request("GET", f"/api/v1/cases/{ref}/notes", user="omni")
    check(r.status == 200, f"GET notes: {r!r}")
    notes = r.json()["notes"]
    mine = [n for n in notes if n["body"] == "Called the customer back; replacement sent."]
    check(len(mine) == 1 and mine[0]["actor"] == "rep" and mine[0]["id"] == note["id"], f"notes {notes}")


def test_sse(srv):
    stream = EventStream(srv, "rep")
    try:
        res = srv.chat("flow-s1", chat_events("flow-s1", DELIVERY, close=False, wrapup=False))
        ref = case_of(res)
        ev = stream.wait_for(lambda e: e.get("event") == "case.created"
                             and isinstance(e.get("data"), dict) and ref in json.dumps(e["data"]))
        check(ev, f"no case.created for {ref} on the stream; got {stream.events}")
        check(ev.get("id"), f"case.created without an id: {ev}")
        last = ev["id"]
    finally:
        stream.close()
    # Missed while disconnected: a new case; resuming from Last-Event-ID gets it, not the old one.
    res = srv.chat("flow-s2", chat_events("flow-s2", DEFECT, close=False, wrapup=False))
    ref2 = case_of(res)
    stream = EventStream(srv, "rep", last_event_id=last)
    try:
        ev = stream.wait_for(lambda e: e.get("event") == "case.created" and ref2 in json.dumps(e.get("data")))
        check(ev, f"resumed from {last}: no case.created for {ref2}; got {stream.events}")
        check(int(ev["id"]) > int(last), f"resumed event id {ev['id']} not after {last}")
        again = [e for e in stream.events if e.get("id") == last or ref in json.dumps(e.get("data"))
                 and e.get("event") == "case.created"]
        check(not again, f"resumed from {last} but got it again: {again}")
    finally:
        stream.close()
    # Events come from rows committed with the change: a second serve
    # process on the same database announces a case the first one created.
    with srv.second() as other:
        other.start()
        stream = EventStream(other, "rep")
        try:
            ref4 = case_of(srv.chat("flow-s4", chat_events("flow-s4", DELIVERY, close=False, wrapup=False)))
            check(stream.wait_for(lambda e: e.get("event") == "case.created" and ref4 in json.dumps(e.get("data"))),
                  f"the second serve process did not announce {ref4}; got {stream.events}")
        finally:
            stream.close()
        other.stop_clean()
    # Filtered to what the caller may see: the chat platform (no "work"
    # right) is not told of cases, while a representative is.
    rep, bot = EventStream(srv, "rep"), EventStream(srv, "chat")
    try:
        ref3 = case_of(srv.chat("flow-s3", chat_events("flow-s3", TABLET, close=False, wrapup=False)))
        check(rep.wait_for(lambda e: e.get("event") == "case.created" and ref3 in json.dumps(e.get("data"))),
              f"no case.created for {ref3}; got {rep.events}")
        leaked = bot.wait_for(lambda e: str(e.get("event", "")).startswith("case."), timeout=1.5)
        check(leaked is None, f"the integration user's stream shows a case event: {leaked}")
    finally:
        rep.close()
        bot.close()


def test_session(srv):
    s = srv.login("rep")
    check(s.body.get("user") == "rep" and s.body.get("role") == "Customer Service Representative",
          f"login body {s.body}")
    check(s.body.get("profile") == "Default", f"a new representative's profile is {s.body.get('profile')!r}")
    r = srv.request("GET", "/api/v1/session", session=s)
    check(r.status == 200 and r.json().get("user") == "rep", f"GET session: {r!r}")
    bad = srv.request("POST", "/api/v1/session", {"user": "rep", "password": "wrong password here"})
    problem(bad, 401, "login with a wrong password")
    r = srv.request("DELETE", "/api/v1/session", session=s)
    check(200 <= r.status < 300, f"logout: {r!r}")
    r = srv.request("GET", "/api/v1/session", session=s)
    problem(r, 401, "the session after logout")
    # Repeated failures slow logins down (the last step here: the address is throttled too).
    for i in range(2, 6):  # the wrong password above was the address's first failure
        problem(srv.request("POST", "/api/v1/session", {"user": "manager", "password": f"guess number {i}"}), 401,
                f"failed login {i} of 5 from the address")
    r = srv.request("POST", "/api/v1/session", {"user": "manager", "password": PASSWORD})
    problem(r, 429, "a login after 5 failures, even with the right password")
    check(r.header("Retry-After"), f"429 without Retry-After: {dict(r.headers)}")


def test_log(srv):
    text = srv.log_text()
    lines = [ln for ln in text.splitlines() if ln.startswith("{")]
    check(len(lines) >= 20, f"access log has {len(lines)} JSON lines:\n{srv.log_tail()}")
    for ln in lines:
        json.loads(ln)
    for secret in list(srv.tokens.values()) + [PASSWORD, "marit.torvik@example.com", "SN-482913", "rattling"]:
        check(secret not in text, f"the log shows {secret[:12]}...: a token, password or personal data")


def flow(binary, source):
    with Server(binary, source, name="flow") as srv:
        srv.start()
        test_chat(srv)
        test_person_wins(srv)
        test_profile(srv)
        ref = test_email(srv)
        test_notes(srv, ref)
        test_sse(srv)
        test_session(srv)
        srv.stop_clean()
        test_log(srv)


if __name__ == "__main__":
    main(flow, "test_server_seed_flow")
