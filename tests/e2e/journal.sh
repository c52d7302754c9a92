#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The journal's fields, as journald receives them: smmd under a
# JOURNAL_STREAM that names its stderr sends each entry natively, and a
# delivery's result carries POST_ID, CHANNEL, ATTEMPT, HTTP_STATUS and
# OUTCOME, a pause's EVENT, SCOPE, BY, UID and REASON, a held delivery's
# EVENT, POST_ID and REASON, each with its PRIORITY. journald itself is a
# datagram socket at the fixed /run/systemd/journal/socket; the test runs
# in a private mount namespace with its own /run, so the machine's
# journal (if any) sees nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

FAKE_BIN=$SMM_TOP_BUILDDIR/tests/systemd/smm-fake-systemd
grep -q -- '-DHAVE_LIBSYSTEMD=1' "$SMM_TOP_BUILDDIR/Makefile" ||
	skip "smmd was built without libsystemd"
[ -x "$FAKE_BIN" ] || skip "$FAKE_BIN is not built"
if [ -z "${SMM_JOURNAL_NS:-}" ]; then
	unshare -m true 2>/dev/null || skip "no private mount namespace here"
	# exec runs no exit trap: this $T goes now; the inner run makes its own.
	rm -rf "$T"
	SMM_JOURNAL_NS=1 exec unshare -m bash "$0"
fi
mount -t tmpfs tmpfs /run || skip "cannot mount a private /run"
mkdir -p /run/systemd/journal
JSOCK=/run/systemd/journal/socket
JLOG=$T/journal.log

# The entries so far, one a line, fields joined by spaces.
entries() {
	cat "$JLOG"
}

# entry FIELD=VALUE...: the first entry that has every field, exactly.
entry() {
	local e f ok
	while IFS= read -r e; do
		ok=1
		for f in "$@"; do
			[[ " $e " == *" $f "* ]] || { ok=0; break; }
		done
		[ "$ok" = 1 ] && { printf '%s\n' "$e"; return 0; }
	done <"$JLOG"
	return 1
}

wait_entry() {
	wait_for "entry $(printf "'%s' " "$@") >/dev/null" 10 ||
		fail "no journal entry with $*; got: $(entries | tail -n 5)"
}

start_sink
write_config demo
"$FAKE_BIN" notify-recv "$JSOCK" >"$JLOG" 2>"$T/journal.err" &
E2E_PIDS+=("$!")
wait_for "[ -S '$JSOCK' ]" 5 || fail "the journal socket did not appear"

# start_smmd appends stderr to smmd.log: that file is "the journal stream".
: >"$T/smmd.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/smmd.log")
export JOURNAL_STREAM
start_smmd
me=$(id -un)
uid=$(id -u)
wait_entry 'SYSLOG_IDENTIFIER=smmd' 'PRIORITY=6'
# stderr holds only start_smmd's marker lines: smmd wrote to the journal.
! grep -v '^---' "$T/smmd.log" | grep -q . ||
	fail "smmd wrote to stderr as well as the journal: $(grep -v '^---' "$T/smmd.log" | head -n 3)"

# A delivery's result: its sentence, and the data as fields.
smmctl add -c demo --id j1 "to the journal" >/dev/null
wait_state j1/demo published 15
wait_entry POST_ID=j1 CHANNEL=demo ATTEMPT=1 HTTP_STATUS=200 \
	OUTCOME=published PRIORITY=6
e=$(entry POST_ID=j1 OUTCOME=published)
[[ $e == "MESSAGE=publish: post 'j1' channel 'demo' attempt 1: HTTP 200 in "* ]] ||
	fail "the delivery's MESSAGE is not its sentence: $e"

# A pause: who, what, why, as a warning.
smmctl pause --all --reason "storm" >/dev/null
wait_entry EVENT=paused SCOPE=all "BY=$me" "UID=$uid" REASON=storm \
	PRIORITY=4
e=$(entry EVENT=paused)
[[ $e == "MESSAGE=pause: all paused by $me (uid $uid); reason: storm "* ]] ||
	fail "the pause's MESSAGE is wrong: $e"

# A delivery held by it, then the resume that publishes it.
smmctl add -c demo --id j2 "held for now" >/dev/null
wait_state j2/demo held 10
wait_entry EVENT=held POST_ID=j2 CHANNEL=demo STATE=held
smmctl resume --all --publish >/dev/null
wait_entry EVENT=resumed SCOPE=all "BY=$me" PRIORITY=4
e=$(entry EVENT=resumed)
[[ $e == *"OUTCOME=1 published, 0 skipped, 0 still held (publish) "* ]] ||
	fail "the resume's outcome is wrong: $e"
wait_state j2/demo published 15
wait_entry POST_ID=j2 OUTCOME=published

stop_smmd
log "ok"
