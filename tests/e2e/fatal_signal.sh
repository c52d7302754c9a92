#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A fatal signal leaves a report on stderr before smmd dies of it: the
# signal, and the stack with smmd's exported functions named and the rest
# as offsets that addr2line resolves against the same binary. smmd still
# dies of the signal (the exit status a supervisor sees is unchanged), and
# starts again on its state directory with nothing lost.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# AddressSanitizer reports fatal signals itself, and smmd leaves it to.
if ldd "$SMMD_BIN" 2>/dev/null | grep -q libasan; then
	skip "a sanitizer build reports fatal signals itself"
fi
# No core files left behind in the build tree.
ulimit -c 0

start_sink
write_config demo
start_smmd
smmctl add --channel demo --id kept --at +1d "survives the crash" >/dev/null ||
	fail "add failed"

# crash_with SIGNAL NUMBER: send it, check the report and the exit status.
crash_with() {
	local name=$1 num=$2 mark
	mark=$(wc -l <"$T/smmd.log")
	kill -s "$name" "$SMMD_PID"
	wait_pid_exit "$SMMD_PID" 10
	e2e_forget "$SMMD_PID"
	SMMD_PID=
	[ "$E2E_EXIT" -eq $((128 + num)) ] ||
		fail "smmd exited with $E2E_EXIT on SIG$name, not $((128 + num))"
	tail -n +$((mark + 1)) "$T/smmd.log" >"$T/report"
	grep -q "^smmd: crashed: fatal signal $num (SIG$name) sent by pid $$;" "$T/report" ||
		fail "no report of SIG$name: $(head -n 3 "$T/report")"
	# The poll it was sent in, under main: named through -rdynamic.
	grep -Eq '\(main\+0x[0-9a-f]+\)' "$T/report" ||
		fail "main is not named in the stack: $(cat "$T/report")"
	grep -Eq 'smmd\(\+0x[0-9a-f]+\)' "$T/report" ||
		fail "no frame of smmd's own as an offset: $(cat "$T/report")"
	grep -q "^smmd: crashed; a bug" "$T/report" ||
		fail "the report has no end: $(tail -n 3 "$T/report")"
}

crash_with SEGV 11
# An offset names a function and a line of this build.
off=$(grep -Eo 'smmd\(\+0x[0-9a-f]+\)' "$T/report" | head -n 1 | grep -Eo '0x[0-9a-f]+')
fn=$(addr2line -f -e "$SMMD_BIN" "$off" | head -n 1)
[ -n "$fn" ] && [ "$fn" != "??" ] ||
	fail "addr2line does not name $off: $(addr2line -f -e "$SMMD_BIN" "$off")"
log "SIGSEGV reported; its first offset $off is $fn"

start_smmd
[ "$(smmctl show kept --json | jq -r '.deliveries[0].state')" = scheduled ] ||
	fail "the post queued before the crash: $(smmctl show kept --json)"
crash_with ABRT 6
log "SIGABRT reported; smmd started again in between with its post kept"
