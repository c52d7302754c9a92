#!/bin/bash
# The test sink's --notify-at N --notify FILE, which the bench blocks on
# instead of polling: "N" lands in FILE when the N-th request is in the
# log (not before), a FIFO's reader wakes with it, and the option pair
# is refused without its partner or without --log.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"

post() {
	curl -sS --max-time 5 -o /dev/null -H 'Content-Type: application/json' \
		--data "{\"n\":$1}" "http://127.0.0.1:$SINK_PORT/hook/demo" ||
		fail "POST $1 to the sink failed"
}

# A plain file: absent until the third request, then "3".
start_sink --notify-at 3 --notify "$T/notified"
post 1
post 2
[ ! -e "$T/notified" ] || fail "notified after 2 of 3: $(cat "$T/notified")"
post 3
wait_for "[ -s '$T/notified' ]" 5 || fail "no notice after the third request"
[ "$(cat "$T/notified")" = 3 ] || fail "notice says '$(cat "$T/notified")', not 3"
[ "$(wc -l <"$SINK_LOG")" -eq 3 ] || fail "the log has $(wc -l <"$SINK_LOG") lines at the notice"
post 4
[ "$(cat "$T/notified")" = 3 ] || fail "notified again: $(cat "$T/notified")"

# A FIFO: a blocked reader wakes with the count.
mkfifo "$T/fifo"
exec {fd}<>"$T/fifo"
start_sink --notify-at 2 --notify "$T/fifo"
post 1
! read -r -t 0.5 -u "$fd" got || fail "the FIFO said '$got' after one request"
post 2
read -r -t 5 -u "$fd" got || fail "the FIFO said nothing after two requests"
[ "$got" = 2 ] || fail "the FIFO said '$got', not 2"
exec {fd}<&-

# Half the pair, or no log: refused at start, with a reason.
for args in "--notify-at 2" "--notify $T/x"; do
	# shellcheck disable=SC2086 # the words are the options
	run "$SINK_BIN" --port 0 --log "$T/x.log" $args
	[ "$rc" -eq 2 ] || fail "smm-sink $args exited $rc, not 2"
	grep -q 'go together' <<<"$err" || fail "smm-sink $args: no reason: $err"
done
run "$SINK_BIN" --port 0 --notify-at 2 --notify "$T/x"
[ "$rc" -eq 2 ] || fail "--notify without --log exited $rc, not 2"
log "ok"
