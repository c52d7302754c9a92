# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source it
# Shared by the benchmark scripts (sourced, bash): where the programs are,
# and the figures file that keeps each headline figure of this run beside
# the previous run's.
#
# tests/bench/results/figures.tsv holds one line per figure:
#   key<TAB>value<TAB>unit<TAB>run<TAB>sizes
# (run: the UTC start time, to the millisecond, of the script that
# measured it; sizes: FIG_CTX then, the knobs that make figures comparable,
# such as "n=5000 step=2").
# Recording a key that an earlier run measured moves that run's line to
# figures.prev.tsv first, so a run of some scenarios (or of one script)
# keeps every other figure and its previous value as they were. A previous
# value taken at other sizes is shown as such, without a change.

: "${SMM_TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${SMM_TOP_BUILDDIR:=$SMM_TOP_SRCDIR/build}"
SMMD_BIN=$SMM_TOP_BUILDDIR/daemon/smmd
SMMCTL_BIN=$SMM_TOP_BUILDDIR/client/smmctl
SINK_BIN=$SMM_TOP_BUILDDIR/tests/sink/smm-sink
CURLBENCH_BIN=$SMM_TOP_BUILDDIR/tests/bench/curlbench
TIMERFLOOR_BIN=$SMM_TOP_BUILDDIR/tests/bench/timerfloor
STOREBENCH_BIN=$SMM_TOP_BUILDDIR/tests/bench/storebench

# The source tree's results/ (ignored by git), else the build tree's.
RESULTS_DIR=$SMM_TOP_SRCDIR/tests/bench/results
mkdir -p "$RESULTS_DIR" 2>/dev/null ||
	RESULTS_DIR=$SMM_TOP_BUILDDIR/tests/bench/results
mkdir -p "$RESULTS_DIR"
FIG_FILE=$RESULTS_DIR/figures.tsv
FIG_PREV=$RESULTS_DIR/figures.prev.tsv
FIG_RUN=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
FIG_CTX=
touch "$FIG_FILE" "$FIG_PREV"

# awk: iso(ms) -> RFC 3339 UTC with milliseconds (days-to-civil).
AWK_ISO='
function iso(ms,   s, r, d, sod, z, era, doe, yoe, y, doy, mp, dd, m) {
	s = int(ms / 1000); r = ms - s * 1000
	d = int(s / 86400); sod = s - d * 86400
	z = d + 719468; era = int(z / 146097); doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - \
	           int(doe / 146096)) / 365)
	y = yoe + era * 400
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	dd = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9
	if (m <= 2) y++
	return sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, dd,
	               int(sod / 3600), int((sod % 3600) / 60), sod % 60, r)
}'

# AWK_TURN: turn(line) reads the -v log's "loop: a turn took X ms (on the CPU
# C ms; preempted P, waited W, faults F, M from disk), Y ms of it in
# CAUSE" into TURN_MS (X), TURN_CPU (C; -1 from an smmd that does not
# say) and TURN_CAUSE ("CAUSE, Y ms of it; on the CPU C ms, preempted P,
# ..."); 0 if line is not one.
AWK_TURN='
function turn(line,   c, cpu) {
	if (line !~ / loop: a turn took [0-9.]+ ms/)
		return 0
	c = line; sub(/.* loop: a turn took /, "", c)
	TURN_MS = c + 0; sub(/^[0-9.]+ ms */, "", c)
	cpu = ""; TURN_CPU = -1
	if (match(c, /^\(on the CPU [^)]*\)/)) {
		cpu = substr(c, 2, RLENGTH - 2); sub(/;/, ",", cpu)
		c = substr(c, RLENGTH + 1)
		TURN_CPU = substr(cpu, 12) + 0
	}
	sub(/^[,:;] */, "", c)
	if (match(c, /^[0-9.]+ ms of it in /))
		c = substr(c, RLENGTH + 1) ", " substr(c, 1, RLENGTH - 4)
	TURN_CAUSE = c (cpu == "" ? "" : (c == "" ? "" : "; ") cpu)
	return 1
}'

# bench_need NAME BIN...: each program is built, else NAME's bench stops.
bench_need() {
	local name=$1 b
	shift
	for b in "$@"; do
		[ -x "$b" ] || {
			echo "$name: $b is not built (make bench builds it)" >&2
			exit 1
		}
	done
}

# SMM_BENCH_FIG_PREFIX, when set, goes before every key (a run of the
# same scenarios on another store keeps figures of its own).
# fig_put KEY VALUE UNIT: record this run's KEY; an earlier run's line for
# KEY moves to figures.prev.tsv. An empty VALUE (not measured) is skipped.
# Files, not shell variables: it works from $(...) too.
fig_put() {
	local key=${SMM_BENCH_FIG_PREFIX:-}$1 val=$2 unit=${3:-} old
	[ -n "$val" ] || return 0
	old=$(awk -F'\t' -v k="$key" -v run="$FIG_RUN" \
		'$1 == k && $4 != run { print; exit }' "$FIG_FILE")
	if [ -n "$old" ]; then
		{
			awk -F'\t' -v k="$key" '$1 != k' "$FIG_PREV"
			printf '%s\n' "$old"
		} >"$FIG_PREV.tmp" && mv -f "$FIG_PREV.tmp" "$FIG_PREV"
	fi
	{
		awk -F'\t' -v k="$key" '$1 != k' "$FIG_FILE"
		printf '%s\t%s\t%s\t%s\t%s\n' "$key" "$val" "$unit" "$FIG_RUN" "$FIG_CTX"
	} >"$FIG_FILE.tmp" && mv -f "$FIG_FILE.tmp" "$FIG_FILE"
}

# fig_get KEY: this run's value of KEY, as recorded; empty if none.
fig_get() {
	awk -F'\t' -v k="${SMM_BENCH_FIG_PREFIX:-}$1" -v run="$FIG_RUN" '$1 == k && $4 == run { print $2 }' "$FIG_FILE"
}

# fig_prev KEY: the previous run's value of KEY, a tab and its sizes;
# empty if none is kept.
fig_prev() {
	awk -F'\t' -v k="${SMM_BENCH_FIG_PREFIX:-}$1" '$1 == k { v = $2 "\t" $5 } END { print v }' "$FIG_PREV"
}

# fig_fmt VALUE UNIT: VALUE with its unit ("/s" and "%" stick to it);
# whole numbers of four digits or more grouped by thousands.
fig_fmt() {
	awk -v v="$1" -v u="${2:-}" 'BEGIN {
		s = v
		if (v ~ /^-?[0-9]+$/ && length(v) > 3 + (v ~ /^-/)) {
			s = ""; d = v; sign = ""
			if (d ~ /^-/) { sign = "-"; d = substr(d, 2) }
			while (length(d) > 3) {
				s = "," substr(d, length(d) - 2) s
				d = substr(d, 1, length(d) - 3)
			}
			s = sign d s
		}
		if (u == "") printf "%s", s
		else if (u ~ /^[\/%]/) printf "%s%s", s, u
		else printf "%s %s", s, u
	}'
}

# fig_vs_prev KEY VALUE UNIT: " (prev X, +Y%)", or nothing without one.
fig_vs_prev() {
	local p ctx
	IFS=$'\t' read -r p ctx < <(fig_prev "$1")
	[ -n "$p" ] || return 0
	printf ' (prev %s' "$(fig_fmt "$p" "${3:-}")"
	if [ "$ctx" != "$FIG_CTX" ]; then
		printf ', other sizes)'
		return 0
	fi
	awk -v p="$p" -v v="$2" 'BEGIN {
		if (p ~ /^-?[0-9.]+$/ && v ~ /^-?[0-9.]+$/ && p + 0 != 0)
			printf ", %+.1f%%", 100 * (v - p) / p
		printf ")"
	}'
}

# fig KEY VALUE UNIT: record the figure and print it for a report line:
# "VALUE UNIT (prev X, +Y%)".
fig() {
	fig_put "$1" "$2" "${3:-}"
	[ -n "$2" ] || {
		printf 'n/a'
		return 0
	}
	fig_fmt "$2" "${3:-}"
	fig_vs_prev "$1" "$2" "${3:-}"
}

# fig_pct PART WHOLE: PART as a percentage of WHOLE, one decimal.
fig_pct() {
	awk -v r="$1" -v w="$2" 'BEGIN { if (w + 0 == 0) print "?"; else printf "%.1f", 100 * r / w }'
}

# verdict OK: "PASS" if the awk condition OK holds, else "MISSED".
verdict() {
	if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISSED; fi
}

# loop_turn SOCKET: smmd's longest loop turn since it started (status
# loop.max_turn_ms) and, where smmd names it, its cause
# (loop.max_turn_cause: the longest named piece of work in that turn, and
# max_turn_cause_ms, how long that piece took); sets LOOP_MS, LOOP_CAUSE
# ("CAUSE, Y ms of it"), LOOP_SLOW (turns over 5 ms so far) and LOOP_TXT
# ("X ms (cause)", flagged when over 5 ms).
loop_turn() {
	local st
	LOOP_MS='' LOOP_CAUSE='' LOOP_SLOW='' LOOP_TXT="n/a (no loop figures in status)"
	st=$("$SMMCTL_BIN" -s "$1" status --json 2>/dev/null) || return 0
	read -r LOOP_MS LOOP_SLOW LOOP_CAUSE < <(jq -r 'if .loop then
		[(.loop.max_turn_ms * 100 | round / 100), (.loop.slow_turns // 0),
		 (if .loop.max_turn_cause == null then ""
		  elif .loop.max_turn_cause_ms == null then .loop.max_turn_cause
		  else "\(.loop.max_turn_cause), \(.loop.max_turn_cause_ms * 100 | round / 100) ms of it"
		  end) + (if .loop.max_turn_cpu_ms == null then ""
		  else "; on the CPU \(.loop.max_turn_cpu_ms * 100 | round / 100) ms, preempted \(.loop.max_turn_preempted), waited \(.loop.max_turn_waited), faults \(.loop.max_turn_faults), \(.loop.max_turn_major_faults) from disk"
		  end)] | map(tostring) | join(" ")
		else "" end' <<<"$st")
	[ -n "$LOOP_MS" ] || return 0
	LOOP_TXT="$LOOP_MS ms${LOOP_CAUSE:+ ($LOOP_CAUSE)}$(loop_flag "$LOOP_MS")"
}

# loop_flag MS: a warning after a turn over 5 ms (smmd's slow turn).
loop_flag() {
	awk -v m="$1" 'BEGIN { if (m > 5) printf " -- OVER 5 ms" }'
}

# publish_history N SOCK: N posts on channel demo, due now, added over
# one connection to smmd's socket SOCK; returns once smmd counts them all
# published. With the store in PostgreSQL (under tests/pg/with-pg.sh),
# HISTORY_CHANGES is the change log's length then.
publish_history() {
	local n=$1 sock=$2 at i
	at=$(ms_to_iso "$(now_ms)")
	{
		printf '{"id":0,"cmd":"hello","args":{"protocol":1,"client":"bench"}}\n'
		for i in $(seq 1 "$n"); do
			printf '{"id":%d,"cmd":"add","args":{"channels":["demo"],"id":"h%d","text":"history %d","at":"%s"}}\n' \
				"$i" "$i" "$i" "$at"
		done
	} | socat -t 120 - "UNIX-CONNECT:$sock" >/dev/null
	wait_for "[ \"\$(SMMD_SOCKET='$sock' smmctl status --json |
		jq .counts.published)\" -ge $n ]" 600 ||
		fail "the $n posts of history were not all published"
	HISTORY_CHANGES=
	[ -z "${SMM_PG_DIR:-}" ] || HISTORY_CHANGES=$(sh "$SMM_PG_CLUSTER" psql \
		"$SMM_PG_DIR" -Atq -c 'select count(*) from smmd_change')
}
