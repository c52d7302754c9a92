#!/bin/bash
# smmctl's help is golden: "smmctl help", "smmctl --help", "smmctl help CMD"
# and "smmctl CMD --help" print exactly the files in tests/e2e/golden/, so
# a refactoring of the command table cannot change what a person reads.
# Regenerate a file only for a deliberate change, and say so in the commit.
# No daemon is needed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

GOLDEN=$SMM_TOP_SRCDIR/tests/e2e/golden

# same WHAT GOLDEN CMD...: CMD prints GOLDEN exactly and exits 0.
same() {
	local what=$1 golden=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "$what exited $rc: $(cat "$T/err")"
	[ ! -s "$T/err" ] || fail "$what wrote to stderr: $(cat "$T/err")"
	diff -u "$golden" "$T/out" >&2 || fail "$what differs from $(basename "$golden")"
}

same "smmctl help" "$GOLDEN/help.txt" "$SMMCTL_BIN" help
same "smmctl --help" "$GOLDEN/help.txt" "$SMMCTL_BIN" --help
n=0
for golden in "$GOLDEN"/help-*.txt; do
	cmd=$(basename "$golden" .txt)
	cmd=${cmd#help-}
	same "smmctl help $cmd" "$golden" "$SMMCTL_BIN" help "$cmd"
	same "smmctl $cmd --help" "$golden" "$SMMCTL_BIN" "$cmd" --help
	# Every command with a golden file is in the summary, and the reverse.
	grep -q "^  smmctl $cmd " "$GOLDEN/help.txt" ||
		fail "smmctl help does not list '$cmd'"
	n=$((n + 1))
done
listed=$(grep -c '^  smmctl [a-z]' "$GOLDEN/help.txt")
[ "$listed" -eq "$n" ] ||
	fail "smmctl help lists $listed commands, golden files cover $n"
log "ok: $n commands"
