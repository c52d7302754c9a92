#!/bin/sh
# Generate a big calendar for the calendar benchmark: DIR/smmd.yaml with
# CHANNELS webhook channels (c0000, c0001, ...; each posts to URL/cNNNN,
# every tenth has a max_length of 280), its state in DIR/state and
# DIR/calendar.yaml as its calendar, and DIR/calendar.yaml with POSTS
# posts, each on one to three channels, due over the 30 days from START,
# one in a hundred (RECURRING %) a weekly rrule, one in twenty with an
# X-style variant.
# With -k CADENCE every channel declares that cadence (such as 40/week),
# with -K CADENCE every campaign (for the plan check's benchmark).
# Deterministic: the same arguments give the same files.
#
#   sh tests/bench/gen-calendar.sh [-n POSTS] [-c CHANNELS] [-r PERCENT]
#                                  [-s YYYY-MM-DD] [-u URL] [-k CADENCE]
#                                  [-K CADENCE] DIR
#
# Defaults: 100000 posts, 1000 channels, 1 % recurring, from 2026-11-01,
# channels posting to http://127.0.0.1:8080.
# Then, e.g.: build/tests/bench/calbench DIR/smmd.yaml DIR/calendar.yaml
set -eu
export LC_ALL=C

posts=100000
channels=1000
recurring=1
start=2026-11-01
url=http://127.0.0.1:8080
cadence=
camp_cadence=
usage="usage: $0 [-n POSTS] [-c CHANNELS] [-r PERCENT] [-s DATE] [-u URL] [-k CADENCE] [-K CADENCE] DIR"
while getopts n:c:r:s:u:k:K: opt; do
	case $opt in
	n) posts=$OPTARG ;;
	c) channels=$OPTARG ;;
	r) recurring=$OPTARG ;;
	s) start=$OPTARG ;;
	u) url=${OPTARG%/} ;;
	k) cadence=$OPTARG ;;
	K) camp_cadence=$OPTARG ;;
	*) echo "$usage" >&2
	   exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "$usage" >&2; exit 64; }
dir=$1
mkdir -p "$dir"

awk -v n="$channels" -v dir="$dir" -v url="$url" -v cad="$cadence" 'BEGIN {
	printf "state_dir: %s/state\nsocket: %s/smmd.sock\n", dir, dir
	printf "calendar: %s/calendar.yaml\nchannels:\n", dir
	for (i = 0; i < n; i++) {
		printf "  c%04d:\n    publisher: webhook\n", i
		printf "    url: %s/c%04d\n", url, i
		if (i % 10 == 0)
			printf "    max_length: 280\n"
		if (cad != "")
			printf "    cadence: %s\n", cad
	}
}' > "$dir/smmd.yaml"

awk -v n="$posts" -v nch="$channels" -v pct="$recurring" -v start="$start" \
	-v cad="$camp_cadence" '
function pick() { return sprintf("c%04d", int(rand() * nch)) }
BEGIN {
	srand(42)
	split(start, d, "-")
	print "timezone: Europe/Madrid"
	print "campaigns:"
	for (i = 0; i < 20; i++)
		printf "  camp%02d: {utm_campaign: camp%02d-2026%s}\n", i, i,
		       cad == "" ? "" : ", cadence: " cad
	print "posts:"
	for (i = 0; i < n; i++) {
		day = d[3] + int(rand() * 30)
		mon = d[2] + 0; year = d[1] + 0
		while (day > 28) { day -= 28; mon++ }
		if (mon > 12) { mon -= 12; year++ }
		printf "  - id: post-%06d\n", i
		printf "    at: %04d-%02d-%02d %02d:%02d\n", year, mon, day,
		       8 + int(rand() * 12), int(rand() * 60)
		if (rand() * 100 < pct)
			printf "    rrule: FREQ=WEEKLY;BYDAY=%s\n",
			       substr("MOTUWETHFRSASU", 1 + 2 * int(rand() * 7), 2)
		k = 1 + int(rand() * 3)
		a = pick(); b = pick(); c = pick()
		if (k == 1) printf "    channels: [%s]\n", a
		else if (k == 2 && a != b) printf "    channels: [%s, %s]\n", a, b
		else if (a != b && b != c && a != c)
			printf "    channels: [%s, %s, %s]\n", a, b, c
		else printf "    channels: [%s]\n", a
		printf "    text: \"Post %d of the big calendar: autumn colours, new yarn and a pattern for a warm hat. Ñandú №%d\"\n", i, i % 97
		if (i % 3 == 0)
			printf "    link: https://shop.example.net/p/%d\n", i
		if (i % 7 == 0)
			printf "    media: [https://shop.example.net/img/%d.jpg]\n", i
		if (i % 4 == 0)
			printf "    campaign: camp%02d\n", i % 20
		if (i % 20 == 0)
			printf "    variants:\n      %s: {text: \"Short post %d\"}\n", a, i
	}
}' > "$dir/calendar.yaml"

echo "gen-calendar: $dir/calendar.yaml ($posts posts), $dir/smmd.yaml ($channels channels)" >&2
