#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# No leaks and no memory errors under valgrind (memcheck) in `caseagent
# serve` (tests/server/lib/server.py), the service's main paths in one run:
# 8 clients post a short chat each at once, so the chat feed's events are
# committed in batches (src/server/server.c, run_feed), with one event in
# the load refused inside the agent (an accept of a conversation never
# opened: a savepoint undone in a batch); every chat event posted again (the
# replays); a representative's Update from conversation, an edit with
# If-Match, a note and the case list; then SIGTERM, and serve must exit 0.
# A definite or indirect leak, or any invalid read or write, makes valgrind
# exit 99 and fails the test. Skipped (77) without valgrind or for a
# sanitizer build, which valgrind cannot run (the ASan+UBSan suite covers
# those). Arguments: the caseagent binary, the source directory.
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import SKIP, Server, chat_events, check, in_threads, main  # noqa: E402

N = 8
WHO = [("jide.okafor@example.net", "parcel has not arrived and the tracking has not moved"),
       ("marit.torvik@example.com", "Aurel Smart Kettle is broken and will not turn on")]


def valgrind_ok(binary):
    if not shutil.which("valgrind"):
        print("SKIP (test_server_valgrind): valgrind is not installed")
        sys.exit(SKIP)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    if any(s in ldd for s in ("libasan", "libubsan", "libtsan")):
        print(f"SKIP (test_server_valgrind): {binary} is a sanitizer build")
        sys.exit(SKIP)


def under_valgrind(binary, source, workdir):
    """A wrapper that runs `serve` under memcheck and every other command as is."""
    log = os.path.join(workdir, "valgrind.log")
    wrapper = os.path.join(workdir, "caseagent-vg")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                "if [ \"$1\" = serve ]; then exec valgrind --quiet --soname-synonyms='somalloc=libmimalloc.so*' "
                f"--suppressions='{source}/tests/cli/valgrind.supp' --error-exitcode=99 --leak-check=full "
                "--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect "
                f"--log-file='{log}' '{binary}' \"$@\"; fi\n"
                f"exec '{binary}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    return wrapper, log


def valgrind(binary, source):
    binary = os.path.abspath(binary)
    valgrind_ok(binary)
    with Server(binary, source, name="valgrind") as srv:
        srv.bin, log = under_valgrind(binary, os.path.abspath(source), srv.dir)
        srv.start()
        convs = {}
        for i in range(N):
            email, issue = WHO[i % len(WHO)]
            conv = f"vg-{i}"
            convs[conv] = chat_events(conv, [("customer", f"Hello, my {issue}."),
                                             ("agent", "Sorry to hear that. Which e-mail is it under?"),
                                             ("customer", email)], accept_after=3, close=False)
        names = sorted(convs)

        def post(i):
            out = []
            for e in convs[names[i]]:
                r = srv.post_event(names[i], e, timeout=120)
                check(200 <= r.status < 300, f"{names[i]} {e['id']}: {r!r}")
                out.append(r.json())
            if i == 0:  # refused inside the agent, beside the others' events
                r = srv.post_event("vg-never", {"id": "vg-never-e1", "type": "accept", "actor": "rep"}, timeout=120)
                check(400 <= r.status < 500, f"an accept of a conversation never opened: {r!r}")
            return out

        results = in_threads(N, post)
        in_threads(N, lambda i: [check(srv.post_event(names[i], e, timeout=120).json().get("replayed") is True,
                                       f"replay of {names[i]} {e['id']}") for e in convs[names[i]]])
        ref = next((r["case"] for res in results for r in res if r.get("case")), None)
        check(ref, "no case was created by the chats")
        r = srv.request("POST", f"/api/v1/cases/{ref}/update-from-conversation", body={}, user="rep", timeout=120)
        check(r.status == 200, f"update from conversation: {r!r}")
        r = srv.request("GET", f"/api/v1/cases/{ref}", user="rep", timeout=120)
        check(r.status == 200 and r.header("ETag"), f"GET case: {r!r}")
        r = srv.request("PATCH", f"/api/v1/cases/{ref}", body={"fields": {"priority": "high"}}, user="rep",
                        headers={"If-Match": r.header("ETag")}, timeout=120)
        check(r.status == 200, f"PATCH case: {r!r}")
        r = srv.request("POST", f"/api/v1/cases/{ref}/notes", body={"body": "Called the customer back."}, user="rep",
                        timeout=120)
        check(200 <= r.status < 300, f"note: {r!r}")
        r = srv.request("GET", "/api/v1/cases?limit=5", user="rep", timeout=120)
        check(r.status == 200, f"case list: {r!r}")
        rc = srv.stop(timeout=180)
        with open(log, encoding="utf-8", errors="replace") as f:
            report = f.read()
        check(rc != 99, f"valgrind found errors in serve:\n{report[-4000:]}")
        check(rc == 0, f"serve under valgrind exited {rc}:\n{srv.log_tail()}\n{report[-2000:]}")
        print(f"serve under valgrind: {sum(len(v) for v in convs.values())} chat events and their replays, "
              "an update, an edit, a note, a list; no leak, no invalid access")


if __name__ == "__main__":
    main(valgrind, "test_server_valgrind")
