#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A hold that outlived its pause (doc/cluster.md: a worker holds by the
# pauses its view has read, a beat behind; the working node may be down
# when the pull would have told it). The resume's policy is kept with
# the pause (schema 14), and a working node's start settles what is
# still held under a pause that is over, as that resume said:
# - held under a pause resumed with --publish: published, once; but
#   skipped where it is later than its channel's max_lateness (the
#   resume's --publish was said of what it held then, not of a post
#   this late);
# - under one resumed with --skip: skipped, saying so;
# - under one resumed with --review: still held, for a person;
# - under a pause still on: still held.
# The store is a real SQLite file; the holds are made by smmd itself,
# and only the pauses' end is written by hand, as the resume that ran
# while the hold was not yet known would have left it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"

start_sink
write_config -g "catch_up: 1h" pub "old,max_lateness=1s" skp rev on
start_smmd
due=$(($(now_ms) + 1500))
for ch in pub old skp rev on; do
	smmctl pause -c "$ch" --reason drill >/dev/null || fail "pause $ch"
	smmctl add -c "$ch" --id "$ch" --at "$(ms_to_iso "$due")" "$ch" \
		>/dev/null || fail "adding $ch"
done
for ch in pub old skp rev on; do
	wait_state "$ch/$ch" held 10
done
stop_smmd

# The resumes this node never heard of.
DB=$T/state/smmd.db
end_pause() { # CHANNEL POLICY
	sqlite3 "$DB" "UPDATE pauses SET ended_ms = $(now_ms),
		resumed_as = '$2' WHERE scope = '$1' AND ended_ms IS NULL" ||
		fail "ending $1's pause"
}
end_pause pub publish
end_pause old publish
end_pause skp skip
end_pause rev review
# old is more than its max_lateness (1 s) late by the start.
while [ "$(now_ms)" -lt $((due + 1500)) ]; do sleep 0.1; done

start_smmd
wait_state pub/pub published 10
[ "$(sink_count pub)" -eq 1 ] || fail "pub reached the sink $(sink_count pub) times"
wait_state skp/skp skipped 5
delivery_json skp/skp | jq -e '.last_error | test("--skip")' >/dev/null ||
	fail "skp does not say why: $(delivery_json skp/skp | jq -c .last_error)"
wait_state old/old skipped 5
delivery_json old/old | jq -e '.last_error | test("max_lateness")' >/dev/null ||
	fail "old does not say why: $(delivery_json old/old | jq -c .last_error)"
[ "$(sink_count old)" -eq 0 ] || fail "old was sent"
settle pub
for ch in rev on; do
	[ "$(delivery_state "$ch/$ch")" = held ] ||
		fail "$ch is $(delivery_state "$ch/$ch"), not held"
	[ "$(sink_count "$ch")" -eq 0 ] || fail "$ch was sent"
done
[ "$(grep -c 'held by another node as pause' "$T/smmd.log")" -eq 3 ] ||
	fail "the start did not say what it settled: $(grep 'pause:' "$T/smmd.log")"
stop_smmd
log ok
