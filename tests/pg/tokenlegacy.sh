#!/bin/bash
# Token files from before saved_ms (an smmd older than token_key_file)
# and PostgreSQL's smmd_token, against a sink that is X's API:
# - node a starts with such a file and an empty table: the file goes to
#   PostgreSQL (its time of change standing in for saved_ms), and a
#   posts with it;
# - node b starts, once a has stopped, with such a file of its own,
#   changed after a's went to PostgreSQL: the table holds a row for the
#   channel, and a file that does not say when its tokens came is older
#   than any row, whatever its time of change. b installs the row's
#   tokens, posts with them, and leaves the row as it was.
# Nobody asks the token endpoint: every access token is good for 2 h.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_x_sink Rot
x_cluster_config LegacySecret-q7 postgresql://
# legacy_file DIR ACCESS: DIR/auth/x as an smmd before saved_ms wrote it.
legacy_file() {
	mkdir -p "$1/auth"
	chmod 700 "$1/auth"
	(
		umask 077
		printf '{"access_token":"%s","refresh_token":"%s","access_expires_ms":%s}\n' \
			"$2" "${2/Acc/Ref}" "$(($(now_ms) + 7200000))" >"$1/auth/x"
	)
}
reqs() {
	sink_requests | jq -s -c '[.[] | select(.path == "/x/2/tweets")] | sort_by(.t_us)'
}
# post_with ID N ACCESS SOCKET: post ID on x, added at SOCKET, published,
# is the sink's tweet N (from 0) and carries access token ACCESS.
post_with() {
	SMMD_SOCKET=$4 smmctl add -c x --id "$1" "post $1" >/dev/null
	SMMD_SOCKET=$4 wait_state "$1/x" published 15
	[ "$(reqs | jq -r ".[$2].headers.authorization")" = "Bearer $3" ] ||
		fail "$1 went out with $(reqs | jq -r ".[$2].headers.authorization"), not $3"
}

legacy_file "$T/state" LegAcc-1-q7
a_mtime=$(($(stat -c %Y "$T/state/auth/x") * 1000))
start_smmd # node a
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"
row() {
	pg "select saved_ms from smmd_token where channel = 'x'" 2>/dev/null
}
wait_for "[ -n \"\$(row)\" ]" 10 ||
	fail "a's file did not go to PostgreSQL: $(tail -n 5 "$T/smmd.log")"
saved=$(row)
# Its time of change, to the millisecond (stat said seconds).
[ "$saved" -ge "$a_mtime" ] && [ "$saved" -lt $((a_mtime + 1000)) ] ||
	fail "the row's saved_ms $saved is not the file's time of change ($a_mtime)"
post_with l1 0 LegAcc-1-q7 "$SOCK"
stop_smmd

# b's file, changed a second after a's went to PostgreSQL.
sleep 1
legacy_file "$T/state_b" LegAcc-9-q7
[ $(($(stat -c %Y "$T/state_b/auth/x") * 1000)) -gt "$saved" ] ||
	fail "b's file is not newer than the row"
start_cluster_node b
PID_B=$NODE_PID
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ]" 15 ||
	fail "b does not work: $(tail -n 5 "$T/b.log")"
grep -q "channel 'x': tokens taken from PostgreSQL" "$T/b.log" ||
	fail "b did not take the row's tokens: $(grep auth "$T/b.log")"
[ "$(jq -r .access_token "$T/state_b/auth/x")" = LegAcc-1-q7 ] ||
	fail "b's file holds $(jq -r .access_token "$T/state_b/auth/x"), not the row's tokens"
[ "$(jq -r .saved_ms "$T/state_b/auth/x")" = "$saved" ] ||
	fail "b's file does not say when the row's tokens came"
[ "$(stat -c %a "$T/state_b/auth/x")" = 600 ] ||
	fail "b's token file is mode $(stat -c %a "$T/state_b/auth/x")"
post_with l2 1 LegAcc-1-q7 "$T/sock_b"
[ "$(row)" = "$saved" ] || fail "b's older file replaced the row: $(row)"
[ "$(sink_requests | jq -s '[.[] | select(.path == "/x/2/oauth2/token")] | length')" = 0 ] ||
	fail "the token endpoint was asked"
kill -TERM "$PID_B"
wait_pid_exit "$PID_B" 15
[ "$E2E_EXIT" -eq 0 ] || fail "b exited with $E2E_EXIT on SIGTERM"
! grep -qF -e LegAcc -e LegRef -e LegacySecret "$T/smmd.log" "$T/b.log" ||
	fail "a token or the client secret is in a log"
log "ok"
