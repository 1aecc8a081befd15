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
# Arguments: the caseagent binary, the source directory.
import http.client
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import Server, all_pages, chat_events, check, in_threads, main  # noqa: E402

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


def concurrency(binary, source):
    with Server(binary, source, name="concurrency") as srv:
        srv.start()
        load_and_replay(srv)
        crash_and_restart(srv)
        srv.stop_clean()


if __name__ == "__main__":
    main(concurrency, "test_server_concurrency")
