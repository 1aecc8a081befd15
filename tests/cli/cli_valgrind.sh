#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No leaks and no memory errors under valgrind (memcheck) on the main paths,
# each its own process over one SQLite file of examples/: set-up and
# imports, the chat lifecycle (replay), e-mail ingest with threading and an
# automatic reply, case show, update from conversation, resolve (the
# knowledge agent drafting), knowledge search, the agent report and the
# e-mail log. A definite or indirect leak, or any invalid read or write,
# fails (exit 99 from valgrind). Skipped (77) without valgrind or for a
# sanitizer build, which valgrind cannot run; the ASan+UBSan suite checks
# those builds. Arguments: $1 the caseagent binary, $2 the source directory.
set -u
BIN=${1:?usage: cli_valgrind.sh CASEAGENT_BINARY SOURCE_DIR}
SRC=${2:?usage: cli_valgrind.sh CASEAGENT_BINARY SOURCE_DIR}
BIN=$(readlink -f "$BIN")
SRC=$(readlink -f "$SRC")
command -v valgrind >/dev/null 2>&1 || { echo "skip: valgrind is not installed"; exit 77; }
if ldd "$BIN" 2>/dev/null | grep -q -E "libasan|libubsan|libtsan"; then
	echo "skip: $BIN is a sanitizer build"
	exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CASEAGENT_DB="$T/vg.db"
cp -r "$SRC/examples" "$T/examples"
cd "$T/examples" || exit 1
fail() { echo "FAIL (cli_valgrind): $*" >&2; exit 1; }
n=0
vg() {
	n=$((n + 1))
	valgrind --quiet --soname-synonyms=somalloc=libmimalloc.so* --suppressions="$SRC/tests/cli/valgrind.supp" --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --log-file="$T/vg.$n.log" "$BIN" "$@" >"$T/out.$n" 2>&1
	local rc=$?
	if [ "$rc" -eq 99 ]; then
		cat "$T/vg.$n.log" >&2
		fail "valgrind found errors in: caseagent $*"
	fi
	[ "$rc" -eq 0 ] || fail "caseagent $* exited $rc: $(tail -3 "$T/out.$n")"
}
vg init
vg settings import settings.json
vg import contacts contacts.jsonl
vg import products products.jsonl
vg chat replay conversations.jsonl
vg import cases cases.jsonl
vg email ingest mail
vg case show CAS-00001
vg case update CAS-00001
vg case resolve CAS-00002 --resolution "Replaced the charging case under warranty." --actor dana
vg knowledge search "earbuds charging"
vg report agent
vg email log
echo "ok: $n commands on the main paths, no leaks or memory errors under valgrind"
