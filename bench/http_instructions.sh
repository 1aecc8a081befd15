#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What one request costs in CPU instructions, which other load on the
# machine does not change (bench/http.sh's times and rates move with it):
# `bench/http_instructions.sh BUILD_DIR`. A scratch database is prepared as
# the server tests prepare theirs (tests/server/lib/server.py) with 32 cases
# made by product-defect chats; `caseagent serve --workers 1` runs under
# valgrind's callgrind; N representatives' Update from conversation
# requests (HTTP_INSN_UPDATES, default 300, round the 32 cases) follow; the
# figure is the instructions of serve's update handler (srv_h_case_ufc,
# inclusive) per request, and of a chat event (srv_h_chat_event) per event
# of the seeding chats. Without valgrind it says so and exits 0.
set -euo pipefail
BUILD=${1:?usage: bench/http_instructions.sh BUILD_DIR}
BIN=$(cd "$(dirname "$BUILD/caseagent")" && pwd)/caseagent
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
echo
echo "caseagent benchmark: instructions per HTTP request (callgrind, serve --workers 1)"
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
	echo "  skipped: valgrind is not installed (Debian package valgrind)"
	exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat >"$WORK/serve" <<EOF
#!/bin/sh
if [ "\$1" = serve ]; then exec valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BIN" "\$@"; fi
exec "$BIN" "\$@"
EOF
chmod +x "$WORK/serve"
python3 - "$WORK/serve" "$ROOT" "${HTTP_INSN_UPDATES:-300}" <<'PY'
import os, sys
wrapper, root, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, os.path.join(root, "tests", "server", "lib"))
from server import Server, defect_chats  # noqa: E402
srv = Server(wrapper, root, name="bench-insn")
try:
    srv.start(workers=1)
    refs, events = defect_chats(srv, 32, "bi")
    for k in range(n):
        r = srv.request("POST", f"/api/v1/cases/{refs[k % len(refs)]}/update-from-conversation", body={}, user="rep")
        if r.status != 200:
            sys.exit(f"bench: update answered {r.status}")
    if srv.stop() != 0:
        sys.exit("bench: serve did not exit 0 on SIGTERM")
    with open(os.path.join(os.path.dirname(wrapper), "events"), "w") as f:
        f.write(str(events))
finally:
    srv.close()
PY
callgrind_annotate --inclusive=yes "$WORK/cg.out" 2>/dev/null >"$WORK/cg.txt"
python3 - "$WORK/cg.txt" "${HTTP_INSN_UPDATES:-300}" "$(cat "$WORK/events")" <<'PY'
import re, sys
text, n, events = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3])
def ir(fn):
    m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:" + fn + r" \[", text, re.M)
    return int(m.group(1).replace(",", "")) if m else 0
upd, ev = ir("srv_h_case_ufc"), ir("srv_h_chat_event")
print(f"  Update from conversation  {upd / n:>12,.0f}   instructions per request ({n} requests over 32 cases)")
print(f"  chat event                {ev / events:>12,.0f}   instructions per event (the seeding chats' {events})")
PY
