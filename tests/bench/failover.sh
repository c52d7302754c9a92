#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Fail-over time of smmd on the postgresql store (issue 16), run by
# tests/bench/cluster.sh under tests/pg/with-pg.sh: two nodes, one working
# and one standby. KILLS times (20): a post is due 3 s ahead, the working
# node is killed with SIGKILL at a random point in the second before it
# is due, and the standby takes over; the figure is how late the post
# reached the sink after its due time (target: at most 5 s). The killed
# node is started again as the new standby.
#
# failover.sh [KILLS [HISTORY]]: HISTORY posts (0) are published first,
# so that the store, and its change log in PostgreSQL, are not empty: a
# node that takes over must not have to read all of it then.
: "${SMM_PG_DIR:?run under tests/pg/with-pg.sh}"
kills=${1:-20}
history=${2:-0}
[ "$kills" -gt 0 ] || { echo "failover.sh: KILLS must be at least 1" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$SMM_TOP_SRCDIR/tests/e2e/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$SMM_TOP_SRCDIR/tests/bench/lib.sh"

start_sink
write_config -g "store: postgresql://" demo
for n in a b; do
	sed "s|$T/state|$T/state_$n|; s|$SOCK|$T/sock_$n|" "$CFG" >"$T/$n.yaml"
done

# start_node N: smmd on node N's config, in the background.
start_node() {
	"$SMMD_BIN" -c "$T/$1.yaml" --foreground 2>>"$T/$1.log" &
	E2E_PIDS+=("$!")
	eval "PID_$1=$!"
}
answers() {
	SMMD_SOCKET=$T/sock_$1 smmctl status >/dev/null 2>&1
}
works() {
	[ "$(node_role "$T/sock_$1")" = working ]
}
start_node a
wait_for "answers a" 20 || fail "node a did not start"
if [ "$history" -gt 0 ]; then
	publish_history "$history" "$T/sock_a"
	echo "history: $history posts published, $HISTORY_CHANGES changes logged"
fi
start_node b
wait_for "grep -q standby '$T/b.log'" 20 || fail "node b is no standby"
work=a spare=b
: >"$T/late"
# The standby has read the whole change log into its view (it pulls
# every beat): a take-over then reads only the tail, as in steady state.
warm() {
	[ "$(sqlite3 "$T/state_$1/view.db" 'select v from _smmd_pull' 2>/dev/null)" = \
		"$(sh "$SMM_PG_CLUSTER" psql "$SMM_PG_DIR" -Atq -c \
			'select coalesce(max(v), 0) from smmd_change')" ]
}
for k in $(seq 1 "$kills"); do
	[ "$history" -eq 0 ] || wait_for "warm $spare" 60 ||
		fail "node $spare's view did not catch up"
	due=$(($(now_ms) + 3000))
	SMMD_SOCKET=$T/sock_$work smmctl add --channel demo --id "k$k" \
		--at "$(ms_to_iso "$due")" "kill $k" >/dev/null
	kill_at=$((due - 1000 + RANDOM % 1000))
	sleep_until "$kill_at"
	victim=$(eval "echo \$PID_$work")
	kill -KILL "$victim"
	wait "$victim" 2>/dev/null || true
	e2e_forget "$victim"
	wait_for "[ \"\$(sink_count k$k)\" -ge 1 ]" 15 ||
		fail "k$k never arrived after kill $k"
	at=$(sink_posts_for "k$k" | jq -r '.[0].t_us / 1000 | floor')
	echo $((at - due)) >>"$T/late"
	[ "$(sink_count "k$k")" -eq 1 ] ||
		fail "k$k reached the sink $(sink_count "k$k") times"
	wait_for "works $spare" 10 || fail "node $spare did not take over"
	before=$(grep -c standby "$T/$work.log" || true)
	start_node "$work"
	wait_for "[ \$(grep -c standby '$T/$work.log') -gt $before ]" 20 ||
		fail "node $work did not come back as a standby"
	tmp=$work work=$spare spare=$tmp
	sleep 0.5
done
sort -n "$T/late" >"$T/late.sorted"
p50=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$T/late.sorted")
max=$(tail -n 1 "$T/late.sorted")
mean=$(awk '{ s += $1 } END { printf "%d", s / NR }' "$T/late.sorted")
key=pg.failover
[ "$history" -eq 0 ] || key=pg.failover.history
echo "fail-over over $kills SIGKILLs (post due 0-1 s after the kill)," \
	"$history posts of history: late by" \
	"p50 $(fig "$key.p50" "$p50" ms), max $(fig "$key.max" "$max" ms)," \
	"mean $mean ms (target: max 5000 ms)"
