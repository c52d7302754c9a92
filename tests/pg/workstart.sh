#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The calendar sync at a start beside workers (doc/cluster.md): a, the
# working node, and two workers, b and c, fire a channel each. a is
# killed; the calendar changes three posts, one on each channel, due a
# moment after whichever worker takes over does. The new working node's
# first sync runs before any claim of its own: it knows from the start
# that a worker fires channels beside it (a channel owned elsewhere), and
# leaves those another live node owned then for the sync after, as a
# running node does, and changes the others (its own, the dead node's)
# at once. Each goes out once: the deferred as they were, the others as
# changed; no write is refused on any node.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
CAL=$T/calendar.yaml
printf 'posts: []\n' >"$CAL"
write_config -g "store: postgresql://" -g "share_work: true" \
	-g "calendar: $CAL" c1 c2 c3
start_smmd
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"
for n in b c; do
	start_cluster_node "$n"
	wait_for "[ \"\$(node_role '$T/sock_$n')\" = worker ]" 15 ||
		fail "$n is no worker: $(tail -n 5 "$T/$n.log")"
done
owners() {
	pg "select count(distinct o.node_id) from smmd_channel_owner o join
		smmd_node n on n.node_id = o.node_id and n.epoch = o.epoch and
		n.lease_until > clock_timestamp()"
}
wait_for "[ \"\$(owners)\" = 3 ]" 30 || fail "the channels are not shared three ways"
# calendar WORDS: a post on each channel, due at $due.
calendar() {
	{
		printf 'posts:\n'
		for ch in c1 c2 c3; do
			printf '  - id: s%s\n    at: %s\n    channels: [%s]\n    text: %s\n' \
				"${ch#c}" "$(ms_to_iso_s "$due")" "$ch" "$1"
		done
	} >"$CAL.new"
	mv "$CAL.new" "$CAL"
}

due=$((($(now_ms) / 1000 + 12) * 1000))
calendar "old words"
run smmctl reload
grep -q "calendar: 3 added" <<<"$out" || fail "first reload said: $out"
for n in b c; do
	wait_for "SMMD_SOCKET='$T/sock_$n' '$SMMCTL_BIN' show s3 >/dev/null 2>&1" 5 ||
		fail "$n did not read the posts"
done
# a dies 4.5 s before they are due; a worker takes over about 3 s later.
while [ "$(now_ms)" -lt $((due - 4500)) ]; do sleep 0.01; done
crash_smmd
calendar "new words"
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ] || [ \"\$(node_role '$T/sock_c')\" = working ]" 15 ||
	fail "no worker took over"
new=b
[ "$(node_role "$T/sock_b")" = working ] || new=c
log "$new took over $(($(now_ms) - due + 4500)) ms after a was killed"
# Its first sync: what another live node owned at the start (the other
# worker's channel, and those passed to it meanwhile) deferred, the rest
# (its own, the dead node's) changed at once.
first="calendar: '$CAL': 0 added, \([0-9]\) updated, 0 cancelled, 0 unchanged, 0 missed, \([0-9]\) deferred"
wait_for "grep -q \"$first\" '$T/$new.log'" 10 ||
	fail "$new's first sync: $(grep "calendar: '" "$T/$new.log" | tail -n 1)"
counts=$(grep "$first" "$T/$new.log" | head -n 1 | sed "s|.*$first.*|\1 \2|")
read -r updated deferred <<<"$counts"
log "$new's first sync: $updated updated, $deferred deferred"
[ "$deferred" -ge 1 ] && [ $((updated + deferred)) -eq 3 ] ||
	fail "$new's first sync: $updated updated, $deferred deferred"
old=0
for i in 1 2 3; do
	wait_for "[ \"\$(SMMD_SOCKET='$T/sock_$new' smmctl show s$i --json | jq -r '.deliveries[0].state')\" = published ]" 15 ||
		fail "s$i was not published"
	[ "$(sink_count "s$i")" -eq 1 ] || fail "s$i reached the sink $(sink_count "s$i") times"
	[ "$(sink_posts_for "s$i" | jq -r '.[0].post.text')" = "new words" ] ||
		old=$((old + 1))
done
[ "$old" -eq "$deferred" ] ||
	fail "$old went out with the old words, $deferred were deferred"
# The sync after: they went out, so nothing changes.
wait_for "grep -q \"reload: calendar '$CAL': 0 added, 0 updated, 0 cancelled, 3 unchanged, 0 missed, 0 deferred\" '$T/$new.log'" 15 ||
	fail "$new's sync after: $(grep "calendar '" "$T/$new.log" | tail -n 1)"
no_write_refused "$T/smmd.log" "$T/b.log" "$T/c.log" || fail "a write was refused"
log ok
