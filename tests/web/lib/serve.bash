# SPDX-License-Identifier: MIT
# What tests/web/e2e.sh and bench/ui.sh share: a scratch directory and
# `caseagent serve --web DIST` on a free port of 127.0.0.1, stopped (and the
# directory removed) when the script exits. Source it, then:
#   web_scratch PREFIX        sets T to a new directory (removed at exit)
#   web_serve BIN DB DIST WHO serve in the background; sets WEB_PORT, or says
#                             why not (prefixed WHO) with serve's log and exits 1
# serve's log is $T/serve.log.
# shellcheck shell=bash

SERVE_PID=""
DRAIN_PID=""
web_cleanup() {
	if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
	if [ -n "$DRAIN_PID" ]; then kill "$DRAIN_PID" 2>/dev/null || true; wait "$DRAIN_PID" 2>/dev/null || true; fi
	[ -z "${T:-}" ] || rm -rf "$T"
}

web_scratch() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap web_cleanup EXIT
	trap 'exit 143' TERM INT HUP
}

web_serve() {
	local bin=$1 db=$2 dist=$3 who=$4 line
	# serve on a free port: its first line of stdout says where it listens.
	mkfifo "$T/serve.out"
	"$bin" --db "$db" serve --listen 127.0.0.1:0 --workers 2 --web "$dist" >"$T/serve.out" 2>"$T/serve.log" &
	SERVE_PID=$!
	exec 3<"$T/serve.out"
	read -r -t 20 line <&3 || { echo "$who: serve did not start" >&2; cat "$T/serve.log" >&2; exit 1; }
	WEB_PORT=$(printf '%s' "$line" | sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p')
	[ -n "$WEB_PORT" ] || { echo "$who: serve said: $line" >&2; exit 1; }
	# Keep reading the fifo so serve never blocks on a full pipe.
	cat <&3 >/dev/null &
	DRAIN_PID=$!
}
