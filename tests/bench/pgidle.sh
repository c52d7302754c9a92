#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# What idle smmd nodes cost PostgreSQL, and what a command relayed by a
# standby costs its client (issue 16), run by tests/bench/cluster.sh under
# tests/pg/with-pg.sh:
#  - statements a second, counted from PostgreSQL's own statement log
#    (log_statement = all) over SECONDS (20): a working node alone, then
#    with a standby beside it (the standby's figure is the difference),
#    then with a worker too (share_work: its figure is the difference
#    again, with what the working node adds for it); target: at most 3
#    each;
#  - 100 adds one after another through the standby, relayed to the
#    working node, and 100 made on the working node itself: round trip
#    p50 and p99, smmctl's own start included in both.
#
# pgidle.sh [SECONDS]
: "${SMM_PG_DIR:?run under tests/pg/with-pg.sh}" "${SMM_TOP_SRCDIR:?}"
secs=${1:-20}
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$SMM_TOP_SRCDIR/tests/e2e/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$SMM_TOP_SRCDIR/tests/bench/lib.sh"

pg() {
	sh "$SMM_PG_CLUSTER" psql "$SMM_PG_DIR" -Atq -c "$1"
}
# The statements PostgreSQL logged since line $1 of its log.
logged_since() {
	tail -n +"$(($1 + 1))" "$SMM_PG_DIR/log" |
		grep -cE 'LOG:  (statement|execute [^:]*):' || true
}
# statements_per_s: what every smmd running sends, a second, over $secs.
statements_per_s() {
	local from n
	from=$(wc -l <"$SMM_PG_DIR/log")
	sleep "$secs"
	n=$(logged_since "$from")
	awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.2f", n / s }'
}

start_sink
write_config -g "store: postgresql://" demo
start_smmd
pg "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
pg "SELECT pg_reload_conf()" >/dev/null
sleep 2 # the reload, and a node settled into its beat
working=$(statements_per_s)
start_cluster_node b
wait_for "[ \"\$(node_role '$T/sock_b')\" = standby ]" 15 ||
	fail "the second node is no standby"
sleep 2
both=$(statements_per_s)
standby=$(awk -v a="$both" -v w="$working" 'BEGIN { printf "%.2f", a - w }')
# A worker (share_work): what it sends, and what the working node adds
# for it (its pulls of what workers write).
start_cluster_node c "share_work: true"
wait_for "[ \"\$(node_role '$T/sock_c')\" = worker ]" 15 ||
	fail "the third node is no worker"
sleep 7 # the shares settled: a claim round, a channel handed over
three=$(statements_per_s)
worker=$(awk -v a="$three" -v b="$both" 'BEGIN { printf "%.2f", a - b }')
pg "ALTER SYSTEM RESET log_statement" >/dev/null
pg "SELECT pg_reload_conf()" >/dev/null
echo "idle nodes, from PostgreSQL's statement log over ${secs} s:" \
	"working $(fig pg.idle.working "$working" /s)," \
	"standby $(fig pg.idle.standby "$standby" /s)," \
	"a worker with what it adds to the working node" \
	"$(fig pg.idle.worker "$worker" /s) (target: at most 3 each)"

# round_trips SOCKET PREFIX: 100 adds, one after another; p50 and p99 ms.
round_trips() {
	local i t0 t1
	: >"$T/rt"
	for i in $(seq 1 100); do
		t0=$(date +%s%N)
		SMMD_SOCKET=$1 smmctl add --channel demo --id "$2$i" --at +1d \
			"round trip $i" >/dev/null || fail "add $2$i through $1"
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$T/rt"
	done
	sort -n "$T/rt" | awk '{ v[NR] = $1 } END {
		printf "%.1f %.1f", v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000 }'
}
read -r direct50 direct99 <<<"$(round_trips "$SOCK" d)"
read -r relay50 relay99 <<<"$(round_trips "$T/sock_b" r)"
echo "add, 100 one after another (smmctl's start included): on the working" \
	"node p50 $(fig pg.add.direct.p50 "$direct50" ms)," \
	"p99 $(fig pg.add.direct.p99 "$direct99" ms); relayed by a standby" \
	"p50 $(fig pg.add.relayed.p50 "$relay50" ms)," \
	"p99 $(fig pg.add.relayed.p99 "$relay99" ms)"
