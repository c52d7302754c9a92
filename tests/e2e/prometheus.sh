#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# metrics_listen: GET /metrics in the Prometheus text format. Three posts
# with known outcomes (published; failed by a 400; a 500 retried, then
# published) give exact counters, and promtool accepts the page. Other
# paths are 404, other methods 405; a client that sends half a request
# neither blocks a scrape nor stays for good; with nobody connected the
# server does not wake smmd up; with 16 of them coming
# back (the limit) scrapes wait their turn and are served again after; a
# reload that moves the address rebinds, one whose address is taken keeps
# the old listener; a malformed address is an error at its line and
# column, a taken one at start names the address.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
command -v promtool >/dev/null 2>&1 ||
	skip "promtool is not installed (Debian package prometheus)"

# scrape PORT: the page in $T/page, its headers in $T/headers.
scrape() {
	curl -sS --max-time 5 -D "$T/headers" -o "$T/page" \
		"http://127.0.0.1:$1/metrics" ||
		fail "GET /metrics on port $1 failed"
}

# value SERIES: the sample's value on the last page ("" if absent).
value() {
	awk -v s="$1" '$1 == s { print $2 }' "$T/page"
}

# expect SERIES VALUE
expect() {
	local v
	v=$(value "$1")
	[ "$v" = "$2" ] || fail "$1 is '$v', expected $2"
}

# config PORT_SPEC: the three channels, metrics on PORT_SPEC.
config() {
	write_config -g "metrics_listen: $1" ok bad flaky,max_attempts=3
}

start_sink --rule 'POST /hook/bad 400 {"error":"no text"}' \
	--rule 'POST /hook/flaky 500 {"error":"busy"}' \
	--rule 'POST /hook/flaky 200 {"ok":true}'
PORT=$(free_port)
config "127.0.0.1:$PORT"
start_smmd
grep -q "metrics: serving GET /metrics on 127.0.0.1:$PORT" "$T/smmd.log" ||
	fail "smmd did not log where it serves the metrics"

# At the limit: 16 slow clients, each back as soon as it is dropped, for
# 8 s, while a scrape is tried every second. Scrapes wait their turn, and
# once the slow clients are gone one answers at once: the HTTP server,
# which takes its listening socket out at the limit, put it back with no
# event to wake it. Publishing goes on meanwhile.
stalls=()
for _ in $(seq 16); do
	(
		end=$((SECONDS + 8))
		while [ "$SECONDS" -lt "$end" ]; do
			(
				printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n'
				sleep 6
			) | socat -t 1 - "TCP:127.0.0.1:$PORT" >/dev/null 2>&1
		done
	) &
	E2E_PIDS+=($!)
	stalls+=($!)
done
served=0
for _ in 1 2 3 4; do
	if curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$PORT/metrics"; then
		served=$((served + 1))
	fi
	sleep 1
done
for pid in "${stalls[@]}"; do
	wait_for "! pid_running $pid" 20 || fail "a slow client never left"
	e2e_forget "$pid"
done
t0=$(now_ms)
curl -sS --max-time 5 -o "$T/page" "http://127.0.0.1:$PORT/metrics" ||
	fail "no scrape is served after 16 slow clients ($served of 4 were meanwhile)"
[ $(($(now_ms) - t0)) -lt 1000 ] ||
	fail "a scrape after the slow clients took $(($(now_ms) - t0)) ms"
log "$served of 4 scrapes served beside 16 slow clients"


smmctl add -c ok --id p1 "goes out" >/dev/null
smmctl add -c bad --id p2 "refused" >/dev/null
smmctl add -c flaky --id p3 "second time lucky" >/dev/null
wait_state p1/ok published 20
wait_state p2/bad failed 20
wait_state p3/flaky published 20

scrape "$PORT"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" ||
	fail "Content-Type is $(grep -i content-type "$T/headers")"
promtool check metrics <"$T/page" >"$T/promtool" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool")"
[ ! -s "$T/promtool" ] || fail "promtool found problems: $(cat "$T/promtool")"

expect 'smmd_deliveries_total{channel="ok",outcome="published"}' 1
expect 'smmd_deliveries_total{channel="bad",outcome="failed"}' 1
expect 'smmd_deliveries_total{channel="flaky",outcome="published"}' 1
expect 'smmd_deliveries_total{channel="flaky",outcome="failed"}' 0
expect 'smmd_deliveries_total{channel="ok",outcome="failed"}' 0
expect 'smmd_deliveries_total{channel="bad",outcome="published"}' 0
expect 'smmd_retries_total{channel="flaky"}' 1
expect 'smmd_retries_total{channel="ok"}' 0
expect 'smmd_retries_total{channel="bad"}' 0
# One first attempt per delivery started (the retry is not a first).
expect 'smmd_delivery_lateness_seconds_count' 3
expect 'smmd_delivery_lateness_seconds_bucket{le="+Inf"}' 3
expect 'smmd_deliveries{state="published"}' 2
expect 'smmd_deliveries{state="failed"}' 1
expect 'smmd_deliveries{state="retry_wait"}' 0
expect 'smmd_in_flight' 0
expect 'smmd_held' 0
expect 'smmd_paused_scopes' 0
expect 'smmd_event_followers' 0
expect 'smmd_event_follower_drops_total' 0
expect "smmd_build_info{version=\"$("$SMMD_BIN" --version | cut -d' ' -f2)\"}" 1
# Every family says what it is, engagement fetches too with no series yet.
for f in smmd_engagement_fetches_total smmd_store_commit_seconds \
	smmd_store_syncs_total smmd_loop_turn_max_seconds \
	smmd_start_time_seconds; do
	grep -q "^# HELP $f " "$T/page" || fail "no HELP for $f"
	grep -q "^# TYPE $f " "$T/page" || fail "no TYPE for $f"
done
# The attempts' starts were made durable: commits were timed.
[ "$(value smmd_store_commit_seconds_count)" -gt 0 ] ||
	fail "no commit was timed: $(grep commit_seconds_count "$T/page")"
[ "$(value smmd_store_syncs_total)" -gt 0 ] || fail "no sync counted"
log "lateness sum $(value smmd_delivery_lateness_seconds_sum) s over 3," \
	"commit p(<=1ms) $(value 'smmd_store_commit_seconds_bucket{le="0.001"}')/$(value smmd_store_commit_seconds_count)"

# Gauges follow what happens: a pause, a follower.
smmctl pause -c ok -r "metrics test" >/dev/null
smmctl log -f -c ok >/dev/null 2>&1 &
follower=$!
E2E_PIDS+=("$follower")
wait_for "curl -s http://127.0.0.1:$PORT/metrics | grep -qx 'smmd_event_followers 1'" 10 ||
	fail "the follower is not counted"
scrape "$PORT"
expect 'smmd_paused_scopes' 1
kill "$follower"
wait_pid_exit "$follower" 5
smmctl resume -c ok >/dev/null

# Other paths and methods.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
[ "$code" = 404 ] || fail "GET / is $code, expected 404"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metricsx")
[ "$code" = 404 ] || fail "GET /metricsx is $code, expected 404"
code=$(curl -s -o /dev/null -D "$T/h405" -w '%{http_code}' -X POST \
	-d 'x=1' "http://127.0.0.1:$PORT/metrics")
[ "$code" = 405 ] || fail "POST /metrics is $code, expected 405"
grep -qi '^allow: GET, HEAD' "$T/h405" || fail "a 405 without Allow: $(cat "$T/h405")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/metrics")
[ "$code" = 405 ] || fail "DELETE /metrics is $code, expected 405"

# A client that sends half a request and waits: a scrape still answers at
# once, and the slow one is closed after the connection timeout (5 s).
# slow_client: one such client in the background (its pid in E2E_PIDS).
slow_client() {
	(
		printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n'
		sleep 30
	) | socat -t 1 - "TCP:127.0.0.1:$PORT" >/dev/null 2>&1 &
	E2E_PIDS+=($!)
	SLOW+=($!)
}
SLOW=()
slow_client
sleep 0.3
t0=$(now_ms)
scrape "$PORT"
[ $(($(now_ms) - t0)) -lt 1000 ] ||
	fail "a scrape took $(($(now_ms) - t0)) ms beside a slow client"
expect 'smmd_deliveries_total{channel="ok",outcome="published"}' 1
smmctl add -c ok --id p4 "while a client stalls" >/dev/null
wait_state p4/ok published 10
wait_for "! pid_running ${SLOW[0]}" 12 || fail "the slow client was never dropped"
e2e_forget "${SLOW[0]}"

# Nobody connected: the HTTP server wakes the loop for nothing (issue 14:
# idle costs nothing). Over 3 s the loop turns no more than the status
# readings themselves cost (two back to back measure it), and a scrape
# after it is answered at once.
turns() { smmctl status --json | jq -r .loop.turns; }
a=$(turns)
b=$(turns)
sleep 3
c=$(turns)
[ $((c - b)) -le $((b - a)) ] ||
	fail "idle, the loop turned $((c - b - (b - a))) times in 3 s beyond the readings"
t0=$(now_ms)
scrape "$PORT"
[ $(($(now_ms) - t0)) -lt 1000 ] ||
	fail "the first scrape after idling took $(($(now_ms) - t0)) ms"
expect 'smmd_deliveries_total{channel="ok",outcome="published"}' 2
# A malformed address: its line and column at --check-config.
cp "$CFG" "$T/good.yaml"
sed 's/^metrics_listen: .*/metrics_listen: 127.0.0.1:99999/' "$T/good.yaml" >"$T/bad.yaml"
run "$SMMD_BIN" --check-config -c "$T/bad.yaml"
[ "$rc" -eq 1 ] || fail "--check-config of a bad metrics_listen exits $rc"
grep -q "^$T/bad.yaml:3:17: 'metrics_listen' must be PORT, ADDRESS:PORT" "$T/err" ||
	fail "--check-config said: $err"

# A reload to another port: the old one refuses, the new one serves, and
# the counters go on.
PORT2=$(free_port)
config "127.0.0.1:$PORT2"
smmctl reload >/dev/null || fail "reload to port $PORT2 failed"
code=0
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/metrics" || code=$?
[ "$code" = 7 ] || fail "the old port $PORT still answers (curl exit $code)"
scrape "$PORT2"
expect 'smmd_deliveries_total{channel="ok",outcome="published"}' 2
# The same address again: the listener stays.
smmctl reload >/dev/null || fail "a reload with nothing changed failed"
scrape "$PORT2"

# A reload to an address in use: refused, naming it; the old one serves.
config "127.0.0.1:$SINK_PORT"
run smmctl reload
[ "$rc" -ne 0 ] || fail "a reload to a taken port succeeded"
[[ "$err" == *"cannot listen on 127.0.0.1:$SINK_PORT: Address already in use"* ]] ||
	fail "reload said: $err"
scrape "$PORT2"

# IPv6 loopback, where the machine has it.
if grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
	PORT3=$(free_port)
	config "\"[::1]:$PORT3\""
	smmctl reload >/dev/null || fail "reload to [::1]:$PORT3 failed"
	curl -sS -g --max-time 5 -o "$T/page" "http://[::1]:$PORT3/metrics" ||
		fail "no metrics on [::1]:$PORT3"
	expect 'smmd_in_flight' 0
fi

# Off: the listener goes.
write_config ok bad flaky,max_attempts=3
smmctl reload >/dev/null || fail "reload without metrics_listen failed"
grep -q "metrics: no longer serving" "$T/smmd.log" ||
	fail "turning the metrics off was not logged"
stop_smmd

# At start, an address in use is fatal and named.
config "127.0.0.1:$SINK_PORT"
run "$SMMD_BIN" -c "$CFG" --foreground
[ "$rc" -eq 1 ] || fail "smmd started on a taken metrics port (exit $rc)"
[[ "$err" == *"metrics: cannot listen on 127.0.0.1:$SINK_PORT: Address already in use"* ]] ||
	fail "smmd said: $err"
log "ok"
