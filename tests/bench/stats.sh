#!/bin/bash
# smmctl stats on a 200,000-delivery store (issue 13's benchmark; target:
# under 100 ms a call). The store is made by smmd (its schema, at the
# current migration) and then filled with SQL on the stopped store: 100,000
# posts with two deliveries each on 20 channels, 40 campaigns (and some
# posts with none), due over 90 days up to a day ahead; states as a month
# of real use leaves them (mostly published, some retried, failed, missed,
# skipped, held, unknown, cancelled; the last day still scheduled), with
# publishing times a few ms to minutes late and a few shifted by a
# blackout. Then smmd is started on it and each query is timed from
# smmctl's start to its exit, RUNS times after one warm-up: the default
# range (the last 30 days), --by campaign, --by day, and the whole 90 days
# with and without --by channel. Reported: median, min and max. Run by
# "make bench"; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/stats.sh
# Knobs: SMM_BENCH_STATS_POSTS (100000, two deliveries each),
# SMM_BENCH_STATS_RUNS (5).
set -u

BLD=${SMM_TOP_BUILDDIR:-build}
POSTS=${SMM_BENCH_STATS_POSTS:-100000}
RUNS=${SMM_BENCH_STATS_RUNS:-5}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="posts=$POSTS"
bench_need "stats bench" "$SMMD" "$SMMCTL"
command -v sqlite3 >/dev/null ||
	{ echo "stats bench: sqlite3 (the command) is not installed" >&2; exit 1; }
T=$(mktemp -d /var/tmp/smm-stats-bench.XXXXXX)
PID=
cleanup() {
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export SMMD_SOCKET=$T/smmd.sock

# 20 channels to a closed port: nothing is due while we measure.
{
	printf 'state_dir: %s/state\nsocket: %s\nchannels:\n' "$T" "$SMMD_SOCKET"
	for i in $(seq -w 0 19); do
		printf '  c%s:\n    publisher: webhook\n    url: http://127.0.0.1:9/c%s\n' "$i" "$i"
	done
} >"$T/smmd.yaml"

start() {
	"$SMMD" -c "$T/smmd.yaml" --foreground 2>>"$T/smmd.log" &
	PID=$!
	for _ in $(seq 600); do
		"$SMMCTL" status >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null ||
			{ echo "stats bench: smmd exited: $(tail -n 3 "$T/smmd.log")" >&2; exit 1; }
		sleep 0.1
	done
	echo "stats bench: smmd did not answer" >&2
	exit 1
}
stop() {
	kill -TERM "$PID" && wait "$PID"
	PID=
}

# The schema, as smmd makes it.
start
stop

NOW=$(date +%s%3N)
DAY=86400000
t0=$(date +%s%N)
# Deterministic "random" from the row number: r(k) in [0, 1000).
sqlite3 -bail "$T/state/smmd.db" >/dev/null <<EOF || { echo "stats bench: filling the store failed" >&2; exit 1; }
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $POSTS - 1)
INSERT INTO posts (id, source, text, link, campaign, media, created_ms)
SELECT printf('p%07d', i), CASE WHEN i % 3 = 0 THEN 'calendar' ELSE 'adhoc' END,
  'Post number ' || i || ': a sentence or two of marketing text, with a link and a hashtag #smmd',
  'https://example.org/p/' || i,
  CASE WHEN i % 10 = 9 THEN NULL ELSE printf('campaign-%02d', (i * 7) % 40) END,
  '[]', $NOW - 91 * $DAY
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2 * $POSTS - 1),
r(i, post, due, k) AS (
  SELECT i, i / 2, $NOW - 89 * $DAY + (i / 2) * (90 * $DAY / $POSTS),
    (i * 2654435761) % 1000 FROM n),
s(i, post, due, k, state) AS (
  SELECT i, post, due, k, CASE
    WHEN due > $NOW THEN 'scheduled'
    WHEN k < 30 THEN 'failed'
    WHEN k < 40 THEN 'missed'
    WHEN k < 50 THEN 'skipped'
    WHEN k < 60 THEN 'held'
    WHEN k < 65 THEN 'unknown'
    WHEN k < 95 THEN 'cancelled'
    ELSE 'published' END FROM r),
t(i, post, due, k, state, meant, pub) AS (
  SELECT i, post, due, k, state,
  CASE WHEN state = 'published' AND k % 100 = 7 THEN due + 3600000 ELSE NULL END,
  CASE WHEN state <> 'published' THEN NULL
    WHEN k % 100 = 7 THEN due + 3600000 + k % 40
    WHEN k % 10 = 0 THEN due + 1000 + k * 5
    WHEN k % 97 = 3 THEN due + 60000 * (1 + k % 5)
    ELSE due + k % 50 END FROM s)
INSERT INTO deliveries (id, post_id, channel, webhook_id, state, due_ms,
  next_ms, attempts, last_status, last_error, updated_ms, campaign,
  meant_ms, published_ms, late_ms)
SELECT printf('p%07d/c%02d', post, (post * 3 + i % 2) % 20), printf('p%07d', post),
  printf('c%02d', (post * 3 + i % 2) % 20), printf('msg_%020d', i), state, due,
  NULL,
  CASE WHEN state IN ('scheduled', 'cancelled', 'held', 'skipped', 'missed') THEN 0
    WHEN state = 'failed' THEN 3 WHEN k % 10 = 0 THEN 2 WHEN k % 50 = 1 THEN 3
    ELSE 1 END,
  CASE state WHEN 'published' THEN 200 WHEN 'failed' THEN 400 + k % 4 ELSE NULL END,
  CASE state
    WHEN 'failed' THEN printf('HTTP %d: {"error":"reason %d"}', 400 + k % 4, k % 7)
    WHEN 'missed' THEN 'due while smmd was down: more than catch_up (1h), not sent'
    WHEN 'unknown' THEN 'no answer saying whether the request that was sent was done (timeout)'
    WHEN 'skipped' THEN 'held too long'
    ELSE NULL END,
  due, (SELECT campaign FROM posts WHERE id = printf('p%07d', post)),
  meant, pub, pub - coalesce(meant, due)
FROM t;
DELETE FROM saved_counts;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF
t1=$(date +%s%N)
n=$(sqlite3 "$T/state/smmd.db" 'SELECT count(*) FROM deliveries')
start
echo "smmctl stats (issue 13): $n deliveries over 90 days, 20 channels, 40 campaigns, $RUNS runs (store filled in $(((t1 - t0) / 1000000)) ms)"

# bench KEY LABEL ARGS...: time "smmctl stats ARGS" RUNS times (after one
# untimed run), print the median (recorded as stats.KEY.ms), min and max in
# ms, and the deliveries it counted.
bench() {
	local key=$1 label=$2 i t0 t1 ms=() sorted n med
	shift 2
	"$SMMCTL" stats "$@" --json >"$T/out.json" ||
		{ echo "stats bench: smmctl stats $* failed" >&2; exit 1; }
	for i in $(seq 1 "$RUNS"); do
		t0=$(date +%s%N)
		"$SMMCTL" stats "$@" --json >"$T/out.json" || exit 1
		t1=$(date +%s%N)
		ms+=("$(((t1 - t0) / 100000))")
	done
	mapfile -t sorted < <(printf '%s\n' "${ms[@]}" | sort -n)
	n=$(grep -m1 '"deliveries"' "$T/out.json" | tr -dc 0-9)
	med=$(awk -v m="${sorted[$((RUNS / 2))]}" 'BEGIN { printf "%.1f", m / 10 }')
	awk -v label="$label" -v n="$n" -v med="$med" -v medtxt="$(fig "stats.$key.ms" "$med" ms)" \
		-v lo="${sorted[0]}" -v hi="${sorted[$((RUNS - 1))]}" 'BEGIN {
		printf "  %-34s median %s (min %.1f, max %.1f) over %d deliveries: %s\n",
			label, medtxt, lo / 10, hi / 10, n,
			med < 100 ? "MET (< 100 ms)" : "MISSED (< 100 ms)" }'
}

bench 30d "default (last 30 days)"
bench 30d_campaign "last 30 days --by campaign" --by campaign
bench 30d_day "last 30 days --by day" --by day
bench 90d "90 days" --since -89d --until +1d
bench 90d_channel "90 days --by channel" --since -89d --until +1d --by channel
bench 90d_week "90 days --by week" --since -89d --until +1d --by week
"$SMMCTL" stats --by channel | head -n 14 | sed 's/^/    /'
stop
