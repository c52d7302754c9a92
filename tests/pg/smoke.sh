#!/bin/sh
# The throwaway PostgreSQL harness itself (tests/pg/cluster.sh and
# with-pg.sh), before any smmd test relies on it: a cluster starts and
# answers, a row survives a crash restart, kill-backends terminates the
# backends it names and only those, the cluster stops; with-pg.sh gives
# its command the variables and a live server, passes its exit status on
# and removes the directory. Prints how long start, restart and stop take.
# Exit status: 0 pass, 1 fail, 77 skip (no PostgreSQL server installed).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
CLUSTER=$HERE/cluster.sh
D=$(mktemp -d "${TMPDIR:-/tmp}/smm-pg-smoke.XXXXXX")
SLEEPERS=

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	for p in $SLEEPERS; do kill "$p" 2>/dev/null || :; done
	sh "$CLUSTER" stop "$D" || :
	rm -rf "$D"
}
trap cleanup EXIT

fail() {
	echo "smoke: FAIL: $*" >&2
	[ -s "$D/log" ] && tail -n 20 "$D/log" >&2
	exit 1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

q() {
	sh "$CLUSTER" psql "$D" -q -At -c "$1"
}

# Start a psql that sleeps 30 s as application_name $1; its pid in $!.
sleeper() {
	PGAPPNAME=$1 sh "$CLUSTER" psql "$D" -Atc 'select pg_sleep(30)' \
		>/dev/null 2>&1 &
}

# Wait up to 5 s until $1 backends are named LIKE $2.
wait_backends() {
	i=0
	while [ "$(q "select count(*) from pg_stat_activity where application_name like '$2'")" != "$1" ]; do
		i=$((i + 1))
		[ $i -le 50 ] || fail "not $1 backend(s) named like '$2' after 5 s"
		sleep 0.1
	done
}

# Wait up to 5 s for process $1 to end; fail unless its status is non-zero.
wait_killed() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 50 ] || fail "psql ($2) still running 5 s after its backend was terminated"
		sleep 0.1
	done
	if wait "$1"; then
		fail "psql ($2) exited with 0 although its backend was terminated"
	fi
}

t0=$(now_ms)
rc=0
sh "$CLUSTER" start "$D" || rc=$?
[ $rc -ne 77 ] || exit 77
[ $rc -eq 0 ] || fail "cluster.sh start exited with $rc"
t_start=$(($(now_ms) - t0))

[ "$(q 'select 1')" = 1 ] || fail "select 1 did not answer 1"
[ "$(q 'select current_user || current_database()')" = smmdsmmd ] ||
	fail "not connected as smmd to the database smmd"
q "create table smoke (v text); insert into smoke values ('kept')" ||
	fail "could not create a table and a row"

t0=$(now_ms)
sh "$CLUSTER" restart "$D" immediate || fail "restart immediate failed"
t_restart=$(($(now_ms) - t0))
[ "$(q 'select v from smoke')" = kept ] || fail "the row did not survive a crash restart"

sleeper smmd-test
p1=$!
sleeper other-test
p2=$!
SLEEPERS="$p1 $p2"
wait_backends 1 smmd-test
wait_backends 1 other-test
n=$(sh "$CLUSTER" kill-backends "$D" 'smmd-%') || fail "kill-backends failed"
[ "$n" = 1 ] || fail "kill-backends 'smmd-%' terminated '$n' backends, not 1"
wait_killed "$p1" smmd-test
wait_backends 0 smmd-test
kill -0 "$p2" 2>/dev/null || fail "kill-backends 'smmd-%' ended the psql named other-test"
wait_backends 1 other-test
n=$(sh "$CLUSTER" kill-backends "$D" other-test) || fail "kill-backends failed"
[ "$n" = 1 ] || fail "kill-backends other-test terminated '$n' backends, not 1"
wait_killed "$p2" other-test
SLEEPERS=

t0=$(now_ms)
sh "$CLUSTER" stop "$D" || fail "cluster.sh stop failed"
t_stop=$(($(now_ms) - t0))
[ ! -e "$D/.s.PGSQL.${SMM_PG_PORT:-5432}" ] || fail "the socket is still there after stop"
if q 'select 1' >/dev/null 2>&1; then
	fail "the server still answers after stop"
fi
sh "$CLUSTER" stop "$D" || fail "stopping a stopped cluster failed"

# with-pg.sh: the environment, a live server, the status, the cleanup.
t0=$(now_ms)
rc=0
# shellcheck disable=SC2016 # expanded by the inner shell
sh "$HERE/with-pg.sh" sh -c '
	[ -d "$SMM_PG_DIR" ] && [ "$PGHOST" = "$SMM_PG_DIR" ] || exit 10
	[ "$PGUSER" = smmd ] && [ "$PGDATABASE" = smmd ] || exit 11
	[ "$(sh "$1" psql "$SMM_PG_DIR" -Atc "select 2")" = 2 ] || exit 12
	echo "$SMM_PG_DIR" >"$2"
	exit 3' with-pg "$CLUSTER" "$D/with-pg.out" 2>"$D/with-pg.err" || rc=$?
t_withpg=$(($(now_ms) - t0))
wdir=$(cat "$D/with-pg.out" 2>/dev/null || :)
[ $rc -eq 3 ] || {
	cat "$D/with-pg.err" >&2
	fail "with-pg.sh exited with $rc, not its command's 3"
}
[ -n "$wdir" ] || fail "with-pg.sh's command did not run"
[ ! -e "$wdir" ] || fail "with-pg.sh left its directory $wdir"

echo "smoke: start ${t_start} ms, restart immediate ${t_restart} ms, stop ${t_stop} ms, with-pg.sh around a command ${t_withpg} ms"
