#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Malformed, oversized, half-closed and unknown requests on the control
# socket get an error or a closed connection; the daemon stays up and a
# well-behaved client polling alongside never sees a failure.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config demo
start_smmd

# The well-behaved client: "smmctl status" in a loop until told to stop.
: >"$T/good.ok"
: >"$T/good.fail"
(
	for _ in $(seq 1 3000); do
		[ -e "$T/good.stop" ] && exit 0
		if "$SMMCTL_BIN" status --json >"$T/good.out" 2>"$T/good.err"; then
			echo ok >>"$T/good.ok"
		else
			{
				echo "exit $? at $(date +%T.%N)"
				cat "$T/good.err"
			} >>"$T/good.fail"
		fi
		sleep 0.02
	done
) &
good_pid=$!
E2E_PIDS+=("$good_pid")
wait_for "[ \$(wc -l <'$T/good.ok') -ge 3 ]" 10 || fail "the well-behaved client does not get through"

# raw SECONDS [,ADDRESS-OPTIONS]: send stdin to the socket, print what
# comes back; the write side stays open while the caller's stdin does, then
# socat waits SECONDS for the rest of the reply.
raw() {
	socat -t "$1" - "UNIX-CONNECT:$SOCK${2:-}" 2>"$T/socat.err" || true
}

hello='{"id":1,"cmd":"hello","args":{"protocol":1,"client":"e2e-abuse"}}'

# Not JSON: an invalid_request reply, and the connection stays usable.
out=$({
	printf 'not json\n'
	sleep 0.3
	printf '%s\n' "$hello"
	sleep 0.5
} | raw 2)
log "garbage -> $(head -c 300 <<<"$out")"
first=$(head -n 1 <<<"$out")
jq_true '.ok == false and .error.code == "invalid_request"' <<<"$first" ||
	fail "garbage line got '$first', expected an invalid_request error"
second=$(sed -n 2p <<<"$out")
jq_true '.ok == true and .id == 1' <<<"$second" ||
	fail "after an invalid line the connection did not answer hello: '$second'"
smmd_alive || fail "smmd died on a line of garbage"

# Binary junk with NUL bytes.
out=$({
	head -c 4096 /dev/urandom
	printf '\n'
	sleep 0.3
} | raw 2)
smmd_alive || fail "smmd died on binary junk"

# Overlong lines: line_too_long, whatever the client still sends is read
# and dropped, then the close. A client that writes on after the limit
# sees the reply rather than EPIPE, however the kernel splits its writes:
# a 2 MiB line through a pipe (64 KiB pieces), and a 100 KiB line through
# a 4 KiB send buffer, so the daemon has its 64 KiB long before the rest
# is written.
overlong() {
	local what=$1 out t0
	shift
	t0=$(now_ms)
	out=$(raw 5 "$@")
	log "$what -> $(head -c 300 <<<"$out") ($(($(now_ms) - t0)) ms)"
	jq_true '.ok == false and .error.code == "line_too_long"' <<<"$(head -n 1 <<<"$out")" ||
		fail "$what got '$(head -c 300 <<<"$out")' ($(cat "$T/socat.err")), expected line_too_long"
	smmd_alive || fail "smmd died on $what"
}
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' x >"$T/long"
echo >>"$T/long"
overlong "a 2 MiB line" <"$T/long"
head -c $((100 * 1024)) /dev/zero | tr '\0' y >"$T/long"
overlong "a 100 KiB line through a 4 KiB buffer" ,sndbuf=4096 <"$T/long"

# A client that goes quiet after its overlong line without closing: the
# daemon closes once it has been quiet 2 s (socat then waits its -t 1),
# not when the client's 10 s are up.
mkfifo "$T/quiet"
{
	head -c $((70 * 1024)) /dev/zero | tr '\0' z
	exec sleep 10
} >"$T/quiet" &
quiet_pid=$!
E2E_PIDS+=("$quiet_pid")
t0=$(now_ms)
out=$(raw 1 <"$T/quiet")
dt=$(($(now_ms) - t0))
kill "$quiet_pid" 2>/dev/null || true
log "overlong line then quiet -> $(head -c 100 <<<"$out") after $dt ms"
jq_true '.error.code == "line_too_long"' <<<"$(head -n 1 <<<"$out")" ||
	fail "an overlong line then quiet got '$out'"
[ "$dt" -lt 8000 ] || fail "smmd kept a quiet client past its line_too_long for ${dt} ms"

# One that never goes quiet: closed when its 10 s of linger are up.
{
	head -c $((70 * 1024)) /dev/zero | tr '\0' z
	while printf z; do sleep 0.5; done
} >"$T/quiet" 2>/dev/null &
quiet_pid=$!
E2E_PIDS+=("$quiet_pid")
t0=$(now_ms)
out=$(raw 1 <"$T/quiet")
dt=$(($(now_ms) - t0))
kill "$quiet_pid" 2>/dev/null || true
log "overlong line then a byte every 0.5 s -> closed after $dt ms"
jq_true '.error.code == "line_too_long"' <<<"$(head -n 1 <<<"$out")" ||
	fail "an overlong line then a trickle got '$out'"
{ [ "$dt" -ge 9000 ] && [ "$dt" -lt 20000 ]; } ||
	fail "a client trickling after its line_too_long was closed after ${dt} ms, not 10 s"

# Half-closed with a partial line: the daemon closes (or answers an error);
# socat would wait 8 s for a peer that keeps the connection open.
t0=$(now_ms)
out=$(printf '{"id":1' | raw 8)
dt=$(($(now_ms) - t0))
log "partial line then EOF -> '$(head -c 300 <<<"$out")' after $dt ms"
if [ -n "$out" ]; then
	jq_true '.ok == false' <<<"$(head -n 1 <<<"$out")" ||
		fail "a partial line got '$out'"
fi
[ "$dt" -lt 7500 ] || fail "smmd kept a half-closed connection open for ${dt} ms"
smmd_alive || fail "smmd died on a half-closed connection"

# A connection that says nothing and goes away.
raw 1 </dev/null >/dev/null

# An unknown command: unknown_command, with the request id echoed.
out=$({
	printf '%s\n' "$hello"
	printf '{"id":5,"cmd":"nope"}\n'
	sleep 0.5
} | raw 2)
reply=$(jq -c 'select(.id == 5)' <<<"$out")
jq_true '.ok == false and .error.code == "unknown_command"' <<<"$reply" ||
	fail "unknown command got '$out', expected unknown_command for id 5"

# Valid JSON of the wrong shape.
for bad in '[1,2,3]' '{"id":6}' '{"id":7,"cmd":42}' '{"id":8,"cmd":"add","args":"x"}' \
	'{"id":9,"cmd":"add","args":{"channels":"demo","text":1}}' '"just a string"'; do
	out=$({
		printf '%s\n' "$hello"
		printf '%s\n' "$bad"
		sleep 0.3
	} | raw 2)
	reply=$(sed -n 2p <<<"$out")
	jq_true '.ok == false' <<<"$reply" ||
		fail "'$bad' got '$reply', expected an error reply"
done
smmd_alive || fail "smmd died on a malformed request"

# A client that writes all its requests and shuts down its write side
# (socat at end of input) still gets every reply before the close.
for i in $(seq 1 300); do
	printf '{"id":%d,"cmd":"add","args":{"channels":["demo"],"text":"hc %d","at":"2099-01-01T00:00:00Z"}}\n' "$i" "$i"
done >"$T/halfclose.ndjson"
n=$(socat -t10 - "UNIX-CONNECT:$SMMD_SOCKET" <"$T/halfclose.ndjson" | grep -c '"ok":true' || true)
[ "$n" -eq 300 ] || fail "half-closed client got $n of 300 replies"

# A client that pipelines 40,000 adds and reads no reply for 6 s is not
# read from while thousands of replies wait for it: smmd holds a bounded
# backlog, not 40,000 replies (4 MB), nor drops it part-way. Once it
# reads, every request is done and answered.
scheduled() {
	smmctl status --json | jq .counts.scheduled
}
for i in $(seq 1 40000); do
	printf '{"id":%d,"cmd":"add","args":{"channels":["demo"],"id":"pipe%d","text":"p %d","at":"2099-01-01T00:00:00Z"}}\n' "$i" "$i" "$i"
done >"$T/pipeline.ndjson"
before=$(scheduled)
socat -t30 - "UNIX-CONNECT:$SMMD_SOCKET" <"$T/pipeline.ndjson" |
	{
		sleep 6
		cat
	} >"$T/pipeline.out" &
pipe_pid=$!
sleep 5
read_so_far=$(($(scheduled) - before))
[ "$read_so_far" -lt 20000 ] ||
	fail "$read_so_far of 40,000 adds were read from a client reading no reply"
wait_pid_exit "$pipe_pid" 60
n=$(grep -c '"ok":true' "$T/pipeline.out" || true)
[ "$n" -eq 40000 ] || fail "the pipelining client got $n of 40,000 replies"
[ $(($(scheduled) - before)) -eq 40000 ] ||
	fail "$(($(scheduled) - before)) of 40,000 pipelined adds were done"
! grep -q "not reading its replies" "$T/smmd.log" ||
	fail "the pipelining client was dropped"
log "a pipelining client not reading: $read_so_far adds read in 5 s, then all 40,000"

# Large replies count too: 80 pipelined lists of those 40,000 posts (about
# 300 KB each, 23 MB in all) from a client that reads nothing for 3 s all
# come back.
for i in $(seq 1 80); do
	printf '{"id":%d,"cmd":"list","args":{}}\n' "$i"
done >"$T/lists.ndjson"
socat -t30 - "UNIX-CONNECT:$SMMD_SOCKET" <"$T/lists.ndjson" |
	{
		sleep 3
		cat
	} >"$T/lists.out"
n=$(grep -c '"ok":true' "$T/lists.out" || true)
[ "$n" -eq 80 ] || fail "80 pipelined lists got $n replies"
! grep -q "not reading its replies" "$T/smmd.log" ||
	fail "the client of 80 lists was dropped"

# A line too long ends the connection even while the client is slowed
# (by the replies of 10 lists it does not read): nothing it sent after
# that line is done.
{
	for i in $(seq 1 10); do
		printf '{"id":%d,"cmd":"list","args":{}}\n' "$i"
	done
	sleep 1
	head -c 70000 /dev/zero | tr '\0' x
	printf '\n{"id":9,"cmd":"add","args":{"channels":["demo"],"id":"smuggled","text":"no","at":"2099-01-01T00:00:00Z"}}\n'
} >"$T/smuggle.ndjson"
socat -t30 - "UNIX-CONNECT:$SMMD_SOCKET" <"$T/smuggle.ndjson" |
	{
		sleep 3
		cat
	} >"$T/smuggle.out"
grep -q line_too_long "$T/smuggle.out" ||
	fail "no line_too_long after 10 lists: $(tail -c 300 "$T/smuggle.out")"
if smmctl show smuggled >/dev/null 2>&1; then
	fail "a request after a line too long was done"
fi

# An import sent in parts is bounded in bytes, not only in rows: 1,200
# parts of one 60 KB row each pass 64 MiB, and the import is refused.
awk 'BEGIN {
	s = "x"; while (length(s) < 60000) s = s s; s = substr(s, 1, 60000)
	printf "{\"id\":0,\"cmd\":\"hello\",\"args\":{\"protocol\":1,\"client\":\"e2e\"}}\n"
	for (i = 1; i <= 1200; i++)
		printf "{\"id\":%d,\"cmd\":\"import\",\"args\":{\"more\":true,\"rows\":[{\"line\":%d,\"text\":\"%s\"}]}}\n", i, i + 1, s
}' >"$T/bigimport.ndjson"
socat -t10 - "UNIX-CONNECT:$SMMD_SOCKET" <"$T/bigimport.ndjson" >"$T/bigimport.out" || true
grep -q 'in one import' "$T/bigimport.out" ||
	fail "a 72 MB import was staged: $(tail -c 300 "$T/bigimport.out")"
first_err=$(jq -c 'select(.ok == false) | .id' "$T/bigimport.out" | head -n 1)
[ -n "$first_err" ] && [ "$first_err" -ge 1000 ] ||
	fail "the import was refused at part $first_err, not past 64 MiB"
smmd_alive || fail "smmd died on a 72 MB import"
log "a 72 MB import in parts refused at part $first_err"

# The daemon still works end to end, and the good client never failed.
smmctl add -c demo --id after-abuse "still here" >/dev/null
wait_state after-abuse/demo published 15
touch "$T/good.stop"
wait_pid_exit "$good_pid" 20
[ ! -s "$T/good.fail" ] || fail "the well-behaved client failed: $(head -n 20 "$T/good.fail")"
log "well-behaved client: $(wc -l <"$T/good.ok") status calls, all ok"

stop_smmd
log "ok"
