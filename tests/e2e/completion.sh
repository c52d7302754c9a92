#!/bin/bash
# Bash completion for smmctl (client/bash-completion/smmctl): commands,
# options per command, --status values, and what only the running smmd
# knows: channel names for -c, ids for show, cancellable ids for cancel,
# ids awaiting approval for approve;
# nothing, and quickly, when smmd is not there.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COMPLETION=$SMM_TOP_SRCDIR/client/bash-completion/smmctl
[ -f "$COMPLETION" ] || skip "$COMPLETION is missing"
# shellcheck source=../../client/bash-completion/smmctl
. "$COMPLETION"

# complete WORD...: the candidates for the last word of "smmctl WORD...",
# sorted, on one line.
complete_line() {
	COMP_WORDS=("$SMMCTL_BIN" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_smmctl "$SMMCTL_BIN" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {
	local want=$1 got
	shift
	got=$(complete_line "$@")
	[ "$got" = "$want" ] || fail "smmctl $* <TAB>: got '$got', want '$want'"
}

# Without a daemon: the static parts, and no channels (nor a hang).
expect "add approve audit auth backup calendar cancel channels export goals held help import list log pause plan planb queue release reload report resolve resume retry show skip stats status" ""
expect "calendar cancel" ca
expect "--cancelled --channel" calendar --c
expect "--ics" export --i
expect "--help --socket --version -V -h -s" -
expect "--campaign --channel" add --c
expect "--json" status --j
expect "--json" reload --j
expect "--channel --follow --help --json --socket" log --
expect "--awaiting-approval --help --json --socket --status" list --
expect "retry_wait" list --status r
expect "cancelled draft failed held missed published publishing retry_wait scheduled skipped unknown" list --status ""
expect "list log" help l
expect "check" plan ""
expect "--month" report --m
# -o takes a file name: completed from the file system.
: >"$T/report-out.html"
expect "$T/report-out.html" report -o "$T/report-o"
expect "--help --json --socket --weeks" plan check --
expect "--failed --help --published --socket --url" resolve x --
expect "--url" resolve x --published --u
expect "--by --help --json --since --socket --until" stats --
expect "campaign channel" stats --by c
expect "-1d -30d -7d -90d" stats --since -
t0=$(now_ms)
expect "" add -c ""
[ $(($(now_ms) - t0)) -lt 5000 ] || fail "completion took $(($(now_ms) - t0)) ms without smmd"

start_sink --rule 'POST /hook/blog 400 {"error":"no"}'
write_config demo shop-x,require_approval=true blog
start_smmd
expect "blog demo shop-x" add -c ""
expect "shop-x" add --at +1h -c s
expect "blog demo shop-x" add --channel ""
expect "shop-x" calendar -c s
expect "blog demo shop-x" log -c ""
expect "demo" -s "$SOCK" add -c d
expect "demo" add -s "$SOCK" -c d

smmctl add -c demo -c blog --id later --at +1h "later" >/dev/null
smmctl add -c demo --id gone --at +1h "gone" >/dev/null
# A 400: failed, which is what retry and resolve take.
smmctl add -c blog --id bad "bad" --at now >/dev/null
smmctl cancel gone >/dev/null
wait_state bad/blog failed 10
expect "bad bad/blog gone gone/demo later later/blog later/demo" show ""
expect "later later/blog later/demo" cancel l
expect "later/blog later/demo" cancel later/
expect "bad bad/blog" retry ""
expect "bad bad/blog" resolve b
# approve offers what waits for an approval; cancel takes drafts too.
smmctl add -c shop-x --id wait1 --at +1h "needs approval" >/dev/null 2>&1
expect "wait1 wait1/shop-x" approve ""
expect "wait1 wait1/shop-x" cancel w
stop_smmd
log "ok"
