#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The directory at scale, run by bench/run.sh (or alone: `bench/directory.sh
# BUILD_DIR`, SCALE_N to change the size): SCALE_N (default 1,000,000)
# synthetic contacts from bench/gen_contacts.py imported into a fresh SQLite
# file, with the import's wall and CPU seconds and peak RSS against <= 30 s
# and <= 200 MB; then a chat event's latency and peak RSS with 1,000 and with
# SCALE_N contacts: three conversations of five events (open, a message
# naming the customer, accept, a message with a phone number, update), each
# event its own `caseagent chat event` process, as a chat platform's hook
# runs it; targets: latency ratio <= 1.5, RSS <= 100 MB. Prints figures and
# never fails on them; fails only if a run fails.
set -euo pipefail
BUILD=${1:?usage: bench/directory.sh BUILD_DIR}
BIN="$BUILD/caseagent"
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (build first: make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SCALE_N=${SCALE_N:-1000000}
# timed OUT CMD...: run CMD under /usr/bin/time -v; OUT gets "seconds peak_kb cpu_seconds".
timed() {
	local out=$1
	shift
	if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
		/usr/bin/time -v -o "$out.time" "$@" >/dev/null
		python3 - "$out.time" >"$out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t).groups()
secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", t).group(1)) for k in ("User", "System"))
kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(secs, kb, cpu)
PY
	else
		local a b
		a=$(date +%s.%N)
		"$@" >/dev/null
		b=$(date +%s.%N)
		python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]), 0, 0)" "$a" "$b" >"$out"
	fi
}
for N in 1000 "$SCALE_N"; do
	export CASEAGENT_DB="$WORK/dir$N.db"
	python3 "$HERE/gen_contacts.py" "$N" "$WORK/contacts$N.jsonl"
	"$BIN" --quiet init
	"$BIN" --quiet settings import "$ROOT/examples/settings.json"
	"$BIN" --quiet import products "$ROOT/examples/products.jsonl"
	timed "$WORK/import$N" "$BIN" --quiet import contacts "$WORK/contacts$N.jsonl"
	rm -f "$WORK/contacts$N.jsonl"
	: >"$WORK/events$N"
	for c in 1 2 3; do
		for ev in \
			"{\"id\":\"o$c\",\"type\":\"open\",\"conversation\":\"b$c\"}" \
			"{\"id\":\"m$c\",\"type\":\"message\",\"conversation\":\"b$c\",\"message\":{\"id\":\"b$c-1\",\"role\":\"customer\",\"text\":\"Hi, this is Crosby Venuses, crosby.venuses.1@example.com. My headphones stopped charging.\"}}" \
			"{\"id\":\"a$c\",\"type\":\"accept\",\"conversation\":\"b$c\"}" \
			"{\"id\":\"n$c\",\"type\":\"message\",\"conversation\":\"b$c\",\"message\":{\"id\":\"b$c-2\",\"role\":\"customer\",\"text\":\"My number is +1 (600) 000-0001 if you need it.\"}}" \
			"{\"id\":\"u$c\",\"type\":\"update\",\"conversation\":\"b$c\"}"; do
			timed "$WORK/ev" "$BIN" --quiet chat event "$ev"
			cat "$WORK/ev" >>"$WORK/events$N"
		done
	done
done
python3 - "$WORK" "$SCALE_N" <<'EOF'
import sys
work, big = sys.argv[1], sys.argv[2]
def verdict(ok): return "meets" if ok else "MISSES"
def events(n):
    rows = [list(map(float, l.split())) for l in open(f"{work}/events{n}") if l.strip()]
    return sum(r[0] for r in rows) / len(rows), max(r[1] for r in rows) / 1024.0, len(rows)
imp_s, imp_kb, imp_cpu = map(float, open(f"{work}/import{big}").read().split())
small_s, small_mb, k = events(1000)
big_s, big_mb, _ = events(big)
ratio = big_s / small_s if small_s else float("inf")
print()
print("caseagent benchmark: the directory at scale (contacts from bench/gen_contacts.py; each event its own process)")
print(f"  import {int(big):,} contacts   {imp_s:>8.1f} s wall ({imp_cpu:.1f} s CPU)   target <= 30: {verdict(imp_s <= 30)}")
print(f"  import peak RSS (MB)       {imp_kb / 1024.0:>8.1f}   target <= 200: {verdict(imp_kb / 1024.0 <= 200)}")
print(f"  chat event, 1,000 contacts     {small_s * 1000:>8.1f} ms mean of {k}, peak RSS {small_mb:.1f} MB")
print(f"  chat event, {int(big):,} contacts {big_s * 1000:>8.1f} ms mean of {k}, peak RSS {big_mb:.1f} MB")
print(f"  latency ratio              {ratio:>8.2f}   target <= 1.5: {verdict(ratio <= 1.5)}")
print(f"  event peak RSS (MB)        {max(small_mb, big_mb):>8.1f}   target <= 100: {verdict(max(small_mb, big_mb) <= 100)}")
EOF
