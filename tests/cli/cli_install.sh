#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make install` puts the command, the systemd unit and the documents under
# PREFIX (here a scratch prefix, as DESTDIR staging would), the unit names
# the installed command, passes `systemd-analyze verify` and keeps its
# hardening (a dedicated user, StateDirectory=, ProtectSystem=strict,
# NoNewPrivileges=), and the installed command runs. Arguments: $1 the
# caseagent binary (its directory is the build tree), $2 the source dir.
set -u
BIN=${1:?usage: cli_install.sh CASEAGENT_BINARY SOURCE_DIR}
BUILD=$(dirname "$(readlink -f "$BIN")")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL (cli_install): $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$T/usr" >"$T/log" 2>&1 || { cat "$T/log"; fail "cmake --install failed"; }
UNIT="$T/usr/lib/systemd/system/caseagent.service"
for f in usr/bin/caseagent usr/lib/systemd/system/caseagent.service \
	 usr/share/doc/caseagent/README.md usr/share/doc/caseagent/settings.md; do
	[ -e "$T/$f" ] || fail "$f not installed"
done
grep -q "^ExecStart=$T/usr/bin/caseagent serve " "$UNIT" || fail "ExecStart does not name the installed command: $(grep ExecStart "$UNIT")"
for want in "User=caseagent" "StateDirectory=caseagent" "ProtectSystem=strict" "NoNewPrivileges=yes" \
	    "KillSignal=SIGTERM"; do
	grep -qx "$want" "$UNIT" || fail "the unit lacks $want"
done
grep -q '@CA_' "$UNIT" && fail "the unit has an unfilled placeholder"
if command -v systemd-analyze >/dev/null; then
	# verify checks the unit's syntax and that ExecStart's command exists.
	systemd-analyze verify "$UNIT" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "systemd-analyze verify refused the unit"; }
	grep -v '^$' "$T/verify" && fail "systemd-analyze verify warned"
fi
"$T/usr/bin/caseagent" --version >/dev/null || fail "the installed command does not run"
echo "cli_install: ok"
