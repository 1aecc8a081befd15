#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# SIGTERM while requests are in flight (tests/server/lib/server.py): 32
# conversations are opened; then 32 clients each send a chat message
# event's headers and half of its body, so 32 requests are in flight; an
# SSE client is connected too. serve gets SIGTERM and must still be
# running a moment later; the clients then send the rest of their bodies,
# and every request completes with its normal status and result. serve
# exits 0 (the open event stream does not keep it alive), and after a
# restart on the same file every one of the 32 messages is stored once.
# Updates from conversation that change nothing, made the moment before
# the SIGTERM, have their rows in the interaction log once serve has exited
# (serve queues those rows and writes them in batches; stopping writes the
# last batch).
# Arguments: the caseagent binary, the source directory.
import http.client
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import EventStream, Failure, Server, check, defect_chats, in_threads, main  # noqa: E402

N = 32


def head_and_half(srv, conv):
    event = {"id": f"{conv}-e2", "type": "message", "conversation": conv,
             "message": {"id": f"{conv}-m1", "role": "customer",
                         "text": "Hello, my Ember Fan Heater makes a loud rattling noise."}}
    body = json.dumps(event).encode()
    head = (f"POST /api/v1/conversations/{conv}/events HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{srv.port}\r\n"
            f"Authorization: Bearer {srv.tokens['chat']}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    s.sendall(head + body[:len(body) // 2])
    return s, body[len(body) // 2:]


def signals(binary, source):
    with Server(binary, source, name="signals") as srv:
        srv.start()
        refs, _ = defect_chats(srv, 1, "sig-upd")
        check(len(refs) == 1, "the product-defect chat made no case")
        convs = [f"sig-{i}" for i in range(N)]
        for conv in convs:
            srv.chat(conv, [{"id": f"{conv}-e1", "type": "open"}])
        stream = EventStream(srv, "rep")
        before = srv.settled_sockets()
        inflight = [head_and_half(srv, conv) for conv in convs]
        srv.wait_sockets(before + N)
        time.sleep(0.3)  # and has read their headers
        for _ in range(3):
            r = srv.request("POST", f"/api/v1/cases/{refs[0]}/update-from-conversation", body={}, user="rep")
            check(r.status == 200 and r.json().get("no_changes") is True, f"update from conversation: {r!r}")
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        check(srv.proc.poll() is None, f"serve exited ({srv.proc.returncode}) with 32 requests in flight")

        def finish(i):
            s, rest = inflight[i]
            try:
                s.sendall(rest)
                resp = http.client.HTTPResponse(s)
                resp.begin()
                body = resp.read()
            except (OSError, http.client.HTTPException) as e:
                raise Failure(f"{convs[i]}: the in-flight request was cut off after SIGTERM: {e!r}")
            finally:
                s.close()
            check(200 <= resp.status < 300, f"{convs[i]}: in-flight request answered {resp.status}: {body[:300]!r}")
            b = json.loads(body)
            check(b.get("replayed") is False and b.get("conversation") == convs[i], f"{convs[i]}: result {b}")
            return resp.status

        statuses = in_threads(N, finish)
        print(f"in flight at SIGTERM: {N} requests, answered {sorted(set(statuses))}")
        t0 = time.monotonic()
        rc = srv.stop(sig=None, timeout=30)  # one SIGTERM, as systemd sends
        stream.close()
        check(rc == 0, f"serve exited {rc} after SIGTERM, expected 0:\n{srv.log_tail()}")
        print(f"exit 0, {time.monotonic() - t0:.2f} s after the last request")
        log = json.loads(srv.cli("interactions", "--conversation", "sig-upd-0", "--json").stdout)["interactions"]
        quiet = [row for row in log if row["action"] == "update_case" and row["outcome"] == "no_changes"]
        check(len(quiet) == 3, f"'no changes' rows in the interaction log after SIGTERM: {len(quiet)}, expected 3")

        srv.start()
        for conv in convs:
            r = srv.request("GET", f"/api/v1/conversations/{conv}", user="rep")
            check(r.status == 200, f"GET {conv} after restart: {r!r}")
            ids = [m["id"] for m in r.json()["messages"]]
            check(ids == [f"{conv}-m1"], f"{conv}: stored messages {ids} after SIGTERM and restart")
        srv.stop_clean()


if __name__ == "__main__":
    main(signals, "test_server_signals")
