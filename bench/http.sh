#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The HTTP service under load, the last section of `make bench` (bench/run.sh):
# usage `bench/http.sh BUILD_DIR`. A scratch SQLite file is prepared with the
# CLI as the server tests prepare theirs (tests/server/lib/server.py: the
# seed settings, contacts, products, a user per role with an API token), and
# `caseagent serve --workers 2` runs on a free port of 127.0.0.1. Then, with
# wrk (Debian) at 32 connections (-t2 -c32) for HTTP_BENCH_S seconds
# (default 10) each:
# - chat events per second: bench/http_events.lua posts chat events with
#   unique ids to many conversations as the chat platform (Integration);
# - Update from conversation latency, p50 and p99: bench/http_update.lua
#   posts POST /api/v1/cases/{ref}/update-from-conversation as a
#   representative over HTTP_BENCH_CASES (default 128) cases made by chats;
# - serve's peak RSS (VmHWM from /proc/PID/status) after both loads.
# Figures are printed next to the targets (>= 2,000 events/s, p99 <= 10 ms,
# RSS <= 200 MB); it never fails on them, only when the run itself fails.
# Without wrk or a binary lacking `serve` it says so and exits 0.
set -euo pipefail

BUILD=${1:?usage: bench/http.sh BUILD_DIR}
BIN="$BUILD/caseagent"
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (build first: make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

echo
echo "caseagent benchmark: HTTP (caseagent serve --workers 2, wrk -t2 -c32)"
if ! command -v wrk >/dev/null 2>&1; then
	echo "  skipped: wrk is not installed (Debian package wrk)"
	exit 0
fi

BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
SANITIZE=$(sed -n 's/^CA_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)

python3 - "$BIN" "$ROOT" "${HTTP_BENCH_S:-10}" "${HTTP_BENCH_CASES:-128}" "${BUILD_TYPE:-?}" "${SANITIZE:-}" <<'PY'
import os, re, subprocess, sys
binary, root, secs, ncases, build_type, sanitize = sys.argv[1:7]
sys.path.insert(0, os.path.join(root, "tests", "server", "lib"))
from server import Server, chat_events, has_serve  # noqa: E402

if not has_serve(binary):
    print(f"  skipped: {binary} has no `serve` command")
    sys.exit(0)

def wrk(script, token, extra, env):
    cmd = ["wrk", "-t2", "-c32", f"-d{secs}s", "--timeout", "10s", *extra, "-s", os.path.join(root, "bench", script),
           f"http://127.0.0.1:{srv.port}"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, CA_TOKEN=token, **env))
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout

def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

def verdict(ok):
    return "meets" if ok else "MISSES"

srv = Server(binary, root, name="bench-http")
try:
    srv.start(workers=2)
    # The cases Update from conversation works on: product-defect chats left open.
    refs = []
    people = [("marit.torvik@example.com", "Aurel Smart Kettle"), ("lena.brennan@example.org", "Quill 10 Tablet"),
              ("jide.okafor@example.net", "Ember Fan Heater")]
    for i in range(int(ncases)):
        email, product = people[i % len(people)]
        lines = [("customer", f"Hi, my {product} is broken, it stopped working."),
                 ("agent", "Sorry to hear that. Could I have the e-mail on your order?"),
                 ("customer", f"{email}, serial number SN-{100000 + i}."),
                 ("agent", "Thank you, let me check the warranty."),
                 ("customer", "It is urgent, I need it for work.")]
        res = srv.chat(f"bu-{i}", chat_events(f"bu-{i}", lines, accept_after=3, wrapup=False, close=False))
        ref = next((r["case"] for r in res if r.get("case")), None)
        if ref:
            refs.append(ref)
    if not refs:
        sys.exit("bench: no case was created by the seeding chats")

    out = wrk("http_events.lua", srv.tokens["chat"], [], {"CA_RUN": "ev"})
    m = re.search(r"events_2xx=(\d+) non_2xx=(\d+) replays=(\d+) opens=(\d+) seconds=([\d.]+)", out)
    if not m:
        sys.exit(f"bench: no figures from http_events.lua:\n{out}")
    ev_ok, ev_bad, ev_replays, ev_chats, ev_secs = int(m[1]), int(m[2]), int(m[3]), int(m[4]), float(m[5])
    eps = ev_ok / ev_secs if ev_secs else 0.0

    out = wrk("http_update.lua", srv.tokens["rep"], ["--latency"], {"CA_CASES": ",".join(refs)})
    m = re.search(r"updates_2xx=(\d+) non_2xx=(\d+)", out)
    pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    if not m or "50" not in pct or "99" not in pct:
        sys.exit(f"bench: no figures from http_update.lua:\n{out}")
    up_ok, up_bad = int(m[1]), int(m[2])
    with open(f"/proc/{srv.proc.pid}/status") as f:
        hwm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    rc = srv.stop()
    if rc != 0:
        sys.exit(f"bench: serve exited {rc} on SIGTERM:\n{srv.log_tail()}")
finally:
    srv.close()

rss = hwm_kb / 1024.0
print(f"  build         {binary} ({build_type}{', CA_SANITIZE=' + sanitize if sanitize else ''})")
print(f"  load          {secs} s each; {len(refs)} cases for Update from conversation")
print()
print(f"  chat events          {ev_ok:>10}   answered 2xx ({ev_bad} not 2xx, {ev_replays} replays) in {ev_chats} chats")
if ev_ok and not ev_chats:
    print("  note: the answers did not name their event, so no chat went beyond its open event")
print(f"  chat events/s        {eps:>10.0f}   target >= 2000: {verdict(eps >= 2000)}")
print(f"  update p50 (ms)      {pct['50']:>10.2f}   ({up_ok} updates 2xx, {up_bad} not)")
print(f"  update p99 (ms)      {pct['99']:>10.2f}   target <= 10: {verdict(pct['99'] <= 10)}")
print(f"  serve peak RSS (MB)  {rss:>10.1f}   target <= 200: {verdict(rss <= 200)}")
if sanitize.upper() in ("ON", "1", "TRUE", "YES"):
    print("  note: a sanitizer build; figures are not representative")
PY
