#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Concurrency and crash safety of `caseagent serve` (tests/server/lib/server.py).
# 1. 32 client threads, one conversation each, post a short chat (open,
#    messages, accept, update, wrap-up, close) at once with the chat
#    platform's token; then every event is posted again. Every event is
#    stored once (each conversation's messages, no duplicates; one case per
#    conversation), every replay is answered as a replay ("replayed": true,
#    the same case), no 5xx anywhere.
# 2. The same load on 32 new conversations, and kill -9 of serve when about
#    half of the events are answered; serve restarted on the same file:
#    every event that got a 2xx is there exactly once; then every event is
#    posted again (those answered before must come back as replays), and
#    each conversation ends complete, exactly once, with one case.
# 3. The feed's group commit (src/server/server.c, run_feed): chat events
#    queued together run in one transaction, answered after it commits.
#    The test holds the database's write lock from its own connection so
#    the events queue up behind the first, then lets go: in one batch an
#    event that fails inside the agent (an accept of a conversation never
#    opened, 4xx) is undone alone; an event the database refuses (a
#    trigger the test adds, 500) undoes the events of its batch before it,
#    which are answered 503 batch-undone and stored nowhere; sent again,
#    they are stored once. Every 2xx event is stored exactly once.
# Arguments: the caseagent binary, the source directory.
import http.client
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import Server, all_pages, chat_events, check, in_threads, main, problem  # noqa: E402

N = 32
WHO = [("jide.okafor@example.net", "parcel has not arrived and the tracking has not moved"),
       ("marit.torvik@example.com", "Aurel Smart Kettle is broken and will not turn on"),
       ("lena.brennan@example.org", "Quill 10 Tablet screen stopped working")]


def conversation(conv, i, extra=0):
    email, issue = WHO[i % len(WHO)]
    lines = [("customer", f"Hello, my {issue}."), ("agent", "Sorry to hear that. Which e-mail is it under?"),
             ("customer", email), ("agent", "Thank you, one moment please.")]
    lines += [("customer" if k % 2 == 0 else "agent", f"Message {k} of {conv}.") for k in range(extra)]
    return chat_events(conv, lines, accept_after=3)


def message_ids(events):
    return [e["message"]["id"] for e in events if e["type"] == "message"]


def stored_messages(srv, conv):
    r = srv.request("GET", f"/api/v1/conversations/{conv}", user="rep")
    if r.status == 404:
        return None, None
    check(r.status == 200, f"GET conversation {conv}: {r!r}")
    c = r.json()
    return [m["id"] for m in c["messages"]], c


def check_complete(srv, convs):
    """Each conversation holds each message once, is closed and has one case."""
    for conv, events in convs.items():
        ids, c = stored_messages(srv, conv)
        check(ids == message_ids(events), f"{conv}: stored messages {ids}, expected {message_ids(events)}")
        check(c["state"] == "closed" and c["case"], f"{conv}: state {c['state']!r}, case {c['case']!r}")
    cases = all_pages(srv, "/api/v1/cases?origin=chat", "cases")
    per_conv = {}
    for case in cases:
        per_conv.setdefault(case.get("conversation_id"), []).append(case["ticket_number"])
    for conv in convs:
        check(len(per_conv.get(conv, [])) == 1, f"{conv}: cases {per_conv.get(conv)}, expected exactly one")


def load_and_replay(srv):
    convs = {f"cc-{i}": conversation(f"cc-{i}", i) for i in range(N)}
    names = sorted(convs)

    def first(i):
        conv = names[i]
        out = []
        for e in convs[conv]:
            r = srv.post_event(conv, e)
            check(r.status < 500, f"{conv} {e['id']}: {r!r}")
            check(200 <= r.status < 300, f"{conv} {e['id']}: {r!r}")
            b = r.json()
            check(b.get("replayed") is False, f"{conv} {e['id']}: first post answered {b.get('replayed')!r}")
            out.append(b)
        return out

    t0 = time.monotonic()
    firsts = in_threads(N, first)
    secs = time.monotonic() - t0
    total = sum(len(v) for v in convs.values())
    print(f"load: {total} events in {secs:.2f} s from {N} clients ({total / secs:.0f}/s)")

    def again(i):
        conv = names[i]
        for e, before in zip(convs[conv], firsts[i]):
            r = srv.post_event(conv, e)
            check(200 <= r.status < 300, f"replay of {conv} {e['id']}: {r!r}")
            b = r.json()
            check(b.get("replayed") is True, f"replay of {conv} {e['id']} not answered as a replay: {b}")
            check(b.get("case") == before.get("case"), f"replay of {conv} {e['id']}: case {b.get('case')} "
                  f"but {before.get('case')} the first time")

    in_threads(N, again)
    check_complete(srv, convs)


def crash_and_restart(srv):
    convs = {f"kk-{i}": conversation(f"kk-{i}", i, extra=6) for i in range(N)}
    names = sorted(convs)
    total = sum(len(v) for v in convs.values())
    acked = [0] * N  # events answered 2xx, a prefix of each conversation's events
    count = [0]
    lock = threading.Lock()
    half = threading.Event()
    problems = []

    def post(i):
        conv = names[i]
        for e in convs[conv]:
            try:
                r = srv.post_event(conv, e, timeout=10)
            except (OSError, http.client.HTTPException):  # the kill cuts the connection: stop here
                return
            if r.status >= 500:
                problems.append(f"{conv} {e['id']}: {r!r}")
            if not 200 <= r.status < 300:
                return
            acked[i] += 1
            with lock:
                count[0] += 1
                if count[0] >= total // 2:
                    half.set()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    check(half.wait(120), f"only {count[0]} of {total} events answered in 120 s")
    srv.kill9()
    for t in threads:
        t.join()
    check(not problems, "5xx during the load: " + "; ".join(problems[:5]))
    done = sum(acked)
    print(f"kill -9 after {done} of {total} events answered 2xx")
    check(done < total, "every event was answered before the kill: the test proved nothing")

    srv.start()
    for i, conv in enumerate(names):
        want = message_ids(convs[conv][:acked[i]])
        ids, _ = stored_messages(srv, conv)
        if acked[i] == 0:
            continue
        check(ids is not None, f"{conv}: {acked[i]} events answered, but the conversation is gone")
        check(len(ids) == len(set(ids)), f"{conv}: a message stored twice: {ids}")
        check(ids[:len(want)] == want, f"{conv}: answered messages {want}, stored {ids}")
        # At most the one event in flight at the kill may have committed beyond those answered.
        check(len(ids) <= len(want) + 1, f"{conv}: stored {ids} beyond the answered {want}")

    def repost(i):
        conv = names[i]
        for k, e in enumerate(convs[conv]):
            r = srv.post_event(conv, e)
            check(200 <= r.status < 300, f"re-post of {conv} {e['id']}: {r!r}")
            if k < acked[i]:
                check(r.json().get("replayed") is True, f"{conv} {e['id']} was answered before the kill, "
                      f"yet its re-post is not a replay: {r.json()}")

    in_threads(N, repost)
    check_complete(srv, convs)


def open_event(conv, eid=None):
    return {"id": eid or f"{conv}-e1", "type": "open"}


def post_all(srv, items):
    """Posts (conv, event) pairs, each from a thread of its own started in
    order 20 ms apart, so they queue in the feed in that order; returns the
    replies in the same order."""
    out = [None] * len(items)

    def post(k):
        conv, e = items[k]
        out[k] = srv.post_event(conv, e, timeout=60)

    threads = []
    for k in range(len(items)):
        threads.append(threading.Thread(target=post, args=(k,)))
        threads[-1].start()
        time.sleep(0.02)
    return out, threads


def batch_round(srv, db, k):
    """One round of part 3 on conversations bb{k}-*; returns the events
    undone with the refused one (a batch ends early after 10 ms or for a
    waiting writer, so the refused event may have started a batch)."""
    first = (f"bb{k}-first", open_event(f"bb{k}-first"))
    before = [(f"bb{k}-a{i}", open_event(f"bb{k}-a{i}")) for i in range(4)]
    refused = (f"bb{k}-refused", open_event(f"bb{k}-refused", "bb-refused"))
    after = [(f"bb{k}-b{i}", open_event(f"bb{k}-b{i}")) for i in range(4)]
    never = f"bb{k}-never"
    after.insert(2, (never, {"id": f"{never}-e2", "type": "accept", "actor": "rep"}))
    db.execute("BEGIN IMMEDIATE")  # the write lock: the first event waits for it, the rest queue
    items = [first] + before + [refused] + after
    replies, threads = post_all(srv, items)
    time.sleep(0.5)
    db.execute("COMMIT")
    for t in threads:
        t.join()
    got = dict(zip([c for c, _ in items], replies))
    check(200 <= got[first[0]].status < 300, f"the first event: {got[first[0]]!r}")
    p = problem(got[refused[0]], 500, "the event the database refused")
    check("refused by the test" in p.get("detail", ""), f"the refused event's problem: {p}")
    problem(got[never], range(400, 500), "an accept of a conversation never opened")
    for c, _ in before + after:
        r = got[c]
        if c == never:
            continue
        if r.status == 503:
            p = problem(r, 503, f"{c}, undone with its batch")
            check(p["type"] == "urn:caseagent:problem:batch-undone", f"{c}: {p}")
            check(r.header("Retry-After") == "1", f"{c}: Retry-After {r.header('Retry-After')!r}")
            check(c in dict(before), f"{c}, queued after the refused event, was undone with it")
        else:
            check(200 <= r.status < 300, f"{c}: {r!r}")
    for c, _ in items:
        _, conv = stored_messages(srv, c)
        stored = conv is not None
        want = c not in (refused[0], never) and 200 <= got[c].status < 300
        check(stored == want, f"{c}: answered {got[c].status}, {'stored' if stored else 'not stored'}")
    undone = [c for c, _ in before if got[c].status == 503]
    for c in undone:  # sent again, stored once
        r = srv.post_event(c, open_event(c))
        check(200 <= r.status < 300 and r.json().get("replayed") is False, f"{c} sent again: {r!r}")
        _, conv = stored_messages(srv, c)
        check(conv is not None and conv["state"] == "open", f"{c} sent again: {conv}")
    print(f"batch round {k}: {len(undone)} events undone with the refused one, "
          f"{sum(200 <= got[c].status < 300 for c, _ in before)} queued before it committed")
    return undone


def batch_undone(srv):
    db = sqlite3.connect(srv.db, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("CREATE TRIGGER test_refuse BEFORE INSERT ON chat_event WHEN NEW.event_id = 'bb-refused' "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    undone = []
    for k in range(5):
        undone = batch_round(srv, db, k)
        if undone:
            break
    check(undone, "in 5 rounds, no event of the refused one's batch was answered 503 batch-undone")
    db.execute("DROP TRIGGER test_refuse")
    db.close()
    r = srv.post_event("bb0-refused", open_event("bb0-refused", "bb-refused"))
    check(200 <= r.status < 300, f"the refused event, the trigger gone: {r!r}")


def concurrency(binary, source):
    with Server(binary, source, name="concurrency") as srv:
        srv.start()
        load_and_replay(srv)
        crash_and_restart(srv)
        batch_undone(srv)
        srv.stop_clean()


if __name__ == "__main__":
    main(concurrency, "test_server_concurrency")
