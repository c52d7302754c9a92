#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A worker reloads its own smmd.yaml on SIGHUP (doc/cluster.md, workers):
# - the channel it fires gets another URL in b's file: after SIGHUP, b's
#   next post on it goes to the new URL, under b's claim;
# - the channel leaves b's file while a post on it is due 3 s later:
#   after SIGHUP, b lets it go, a takes it within 5 s, and sends that
#   post and the next once, to a's URL;
# - a file with an error changes nothing on b, which says so and fires
#   on.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
write_config -g "store: postgresql://" -g "share_work: true" c1 c2
start_worker_pair
log "b ($B_NODE) fires $b_chan"

# b_file SED: b's file is a's, then SED applied, as start_cluster_node
# writes it.
b_file() {
	sed "s|$T/state|$T/state_b|; s|$SOCK|$T/sock_b|; $1" "$CFG" >"$T/b.yaml.new"
	mv "$T/b.yaml.new" "$T/b.yaml"
}
# hup_b: SIGHUP to b, and its word that it applied its file.
hup_b() {
	local n
	n=$(grep -c "this worker's configuration is applied" "$T/b.log" || true)
	kill -HUP "$B_PID"
	wait_for "[ \$(grep -c \"this worker's configuration is applied\" '$T/b.log') -gt $n ]" 10 ||
		fail "b did not apply its file: $(tail -n 3 "$T/b.log")"
}
path_of() {
	sink_posts_for "$1" | jq -r '.[0].path'
}

# 1. Another URL for b's channel.
b_file "s|/hook/$b_chan\$|/hook/$b_chan-new|"
grep -q "/hook/$b_chan-new" "$T/b.yaml" || fail "b's file was not changed"
hup_b
smmctl add -c "$b_chan" --id moved "to the new URL" >/dev/null
wait_state "moved/$b_chan" published 10
[ "$(path_of moved)" = "/hook/$b_chan-new" ] ||
	fail "moved went to $(path_of moved), not b's new URL"
[ "$(channel_owner "$b_chan")" = "$B_NODE" ] || fail "b no longer owns $b_chan"

# 2. A file with an error: b says so, and fires on as it did.
printf 'channels: [\n' >>"$T/b.yaml"
n=$(grep -c "reload: the configuration or the calendar has errors" "$T/b.log" || true)
kill -HUP "$B_PID"
wait_for "[ \$(grep -c 'reload: the configuration or the calendar has errors' '$T/b.log') -gt $n ]" 10 ||
	fail "b did not refuse the broken file: $(tail -n 3 "$T/b.log")"
smmctl add -c "$b_chan" --id still "still there" >/dev/null
wait_state "still/$b_chan" published 10
[ "$(path_of still)" = "/hook/$b_chan-new" ] ||
	fail "still went to $(path_of still): the broken file changed b"

# 3. b's channel leaves its file: a takes it, and sends its next post.
b_file "/^  $b_chan:/,/^  [a-z]/{/^  $a_chan:/!d}"
! grep -q "^  $b_chan:" "$T/b.yaml" || fail "$b_chan is still in b's file"
grep -q "^  $a_chan:" "$T/b.yaml" || fail "$a_chan left b's file too"
t0=$(now_ms)
smmctl add -c "$b_chan" --id soon --at "$(ms_to_iso $((t0 + 3000)))" "due soon" \
	>/dev/null || fail "adding soon"
wait_for "SMMD_SOCKET='$T/sock_b' '$SMMCTL_BIN' show soon >/dev/null 2>&1" 5 ||
	fail "b did not read soon"
hup_b
wait_for "[ \"\$(channel_owner $b_chan)\" != '$B_NODE' ] && [ -n \"\$(channel_owner $b_chan)\" ]" 10 ||
	fail "b did not let $b_chan go: $(channel_owner "$b_chan")"
log "a owns $b_chan $(($(now_ms) - t0)) ms after b's SIGHUP"
smmctl add -c "$b_chan" --id back "from a" >/dev/null
wait_state "back/$b_chan" published 10
[ "$(path_of back)" = "/hook/$b_chan" ] ||
	fail "back went to $(path_of back), not a's URL"
wait_state "soon/$b_chan" published 10
[ "$(path_of soon)" = "/hook/$b_chan" ] ||
	fail "soon went to $(path_of soon), not a's URL"
for p in moved still back soon; do
	[ "$(sink_count "$p")" -eq 1 ] ||
		fail "$p reached the sink $(sink_count "$p") times"
done
smmd_alive && pid_running "$B_PID" || fail "a node died"
log ok
