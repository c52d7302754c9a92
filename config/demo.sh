#!/bin/sh
# A two-minute tour of smmd: build it, start a local webhook sink and smmd
# with config/smmd.yaml, queue three posts a few seconds apart, and watch
# them arrive. Run it from the source root as root on Debian 12:
#
#   sh config/demo.sh
#
# Everything stays on this machine: the only webhook is 127.0.0.1:8080.
set -eu

cd "$(dirname "$0")/.."
srcdir=$(pwd)
build=$srcdir/build
config=$srcdir/config/smmd.yaml
socket=/run/smmd/smmd.sock
state_dir=/var/lib/smmd
port=8080

smmd=$build/daemon/smmd
smmctl=$build/client/smmctl
sink=$build/tests/sink/smm-sink

say() {
	printf '\n==> %s\n' "$*"
}

die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	die "run me as root: smmd keeps its state in $state_dir and its socket in /run/smmd"
fi

say "Installing the Debian packages smmd needs (skipped when present)"
sh .ci/deps.sh

say "Building smmd, smmctl and the demo webhook sink in build/"
if [ ! -x configure ]; then
	autoreconf -fi
fi
if [ ! -f "$build/Makefile" ]; then
	mkdir -p "$build"
	(cd "$build" && "$srcdir/configure" --enable-werror --quiet)
fi
make -C "$build" -j2 daemon/smmd client/smmctl tests/sink/smm-sink >/dev/null
echo "built: $("$smmd" --version)"

# 1 if something listens on TCP port $1 (IPv4 or IPv6), read from /proc so
# that probing does not send the sink a request of its own.
listening() {
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { found = 1 } END { exit !found }'
}

if listening "$port"; then
	die "TCP port $port is already in use; stop what listens there and try again"
fi
if "$smmctl" -s "$socket" status >/dev/null 2>&1; then
	die "an smmd is already running on $socket; stop it first (it may be the service)"
fi

logdir=$(mktemp -d /tmp/smmd-demo.XXXXXX)
sink_pid=""
smmd_pid=""
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$smmd_pid" ]; then
		kill -TERM "$smmd_pid" 2>/dev/null || true
		wait "$smmd_pid" 2>/dev/null || true
	fi
	if [ -n "$sink_pid" ]; then
		kill -TERM "$sink_pid" 2>/dev/null || true
		wait "$sink_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

say "Starting the webhook sink on 127.0.0.1:$port (it prints every request it receives)"
"$sink" --port "$port" --print &
sink_pid=$!
i=0
until listening "$port"; do
	kill -0 "$sink_pid" 2>/dev/null || die "the sink did not start"
	i=$((i + 1))
	[ "$i" -lt 100 ] || die "the sink is not listening on port $port after 10s"
	sleep 0.1
done

# The example calendar is a November; run it as a plan that starts
# tomorrow: a copy with every date moved by whole weeks (weekdays stay),
# so that nothing in it is already past. The shipped file stays as it is.
DATE_RE='[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
mkdir -p "$logdir/config"
cp "$config" "$srcdir/config/calendar.yaml" "$srcdir/config/holidays.ics" \
	"$logdir/config/"
first=$(grep -o "$DATE_RE" "$srcdir/config/calendar.yaml" | sort | head -n 1)
days=$((($(date -d tomorrow +%s) - $(date -d "$first" +%s)) / 86400))
shift_days=0
[ "$days" -le 0 ] || shift_days=$(((days + 6) / 7 * 7))
grep -o "$DATE_RE" "$srcdir/config/calendar.yaml" | sort -u |
	while read -r d; do
		echo "$d $(date -d "$d + $shift_days days" +%F)"
	done >"$logdir/dates"
awk -v re="$DATE_RE" 'NR == FNR { to[$1] = $2; next }
	{
		out = ""
		while (match($0, re)) {
			out = out substr($0, 1, RSTART - 1) to[substr($0, RSTART, RLENGTH)]
			$0 = substr($0, RSTART + RLENGTH)
		}
		print out $0
	}' "$logdir/dates" "$srcdir/config/calendar.yaml" >"$logdir/config/calendar.yaml"
config=$logdir/config/smmd.yaml
echo "the example calendar's month moved $shift_days days on: it starts $(date -d "$first + $shift_days days" +%F)"

say "Starting smmd with config/smmd.yaml (its log goes to $logdir/smmd.log)"
"$smmd" -c "$config" --foreground 2>"$logdir/smmd.log" &
smmd_pid=$!
i=0
until "$smmctl" -s "$socket" status >/dev/null 2>&1; do
	if ! kill -0 "$smmd_pid" 2>/dev/null; then
		cat "$logdir/smmd.log" >&2
		smmd_pid=""
		die "smmd stopped; its log is above"
	fi
	i=$((i + 1))
	[ "$i" -lt 100 ] || die "smmd is not ready after 10s; see $logdir/smmd.log"
	sleep 0.1
done
"$smmctl" -s "$socket" status

say "Queueing three posts on channel 'demo', due in 3, 5 and 7 seconds"
id1=$("$smmctl" -s "$socket" add -c demo --at +3s \
	--link https://shop.example.net/launch --campaign launch \
	"We are live! Meet our new shop.")
echo "  smmctl add -c demo --at +3s ... -> post $id1"
id2=$("$smmctl" -s "$socket" add -c demo --at +5s --campaign launch \
	"Free shipping this week only.")
echo "  smmctl add -c demo --at +5s ... -> post $id2"
id3=$(echo "Thank you for a great launch day!" |
	"$smmctl" -s "$socket" add -c demo --at +7s -)
echo "  echo ... | smmctl add -c demo --at +7s - -> post $id3"

say "smmctl list --status scheduled: what is waiting for its time"
"$smmctl" -s "$socket" list --status scheduled

say "Waiting for the three posts to reach the sink"
i=0
for id in "$id1" "$id2" "$id3"; do
	while :; do
		state=$("$smmctl" -s "$socket" show "$id" --json |
			jq -r '.deliveries[0].state')
		case $state in
		published | failed | cancelled) break ;;
		esac
		i=$((i + 1))
		[ "$i" -lt 300 ] || die "the posts did not go out within 30s; see $logdir/smmd.log"
		sleep 0.1
	done
done

say "smmctl list: every delivery smmd knows, with its state"
"$smmctl" -s "$socket" list

say "smmctl show $id1: one post, its delivery and every attempt"
"$smmctl" -s "$socket" show "$id1"

say "What smmd logged"
cat "$logdir/smmd.log"

say "Stopping smmd and the sink"
cleanup
echo "The posts and their attempts stay in $state_dir/smmd.db; smmd's log is in"
echo "$logdir/smmd.log. Run the demo again and 'smmctl list' shows them too."
