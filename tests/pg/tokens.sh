#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Tokens follow the work. Two smmd nodes on one PostgreSQL, with the
# same token_key_file: a works, b is a standby. Against a sink that is
# X's API and token endpoint (X rotates its refresh token on every use):
# - smmctl auth on a gives tokens 1 (due for renewal at once); a renews
#   them with refresh token 1 and gets tokens 2, which PostgreSQL refuses
#   to keep at first: a post goes out with tokens 1 meanwhile, and tokens
#   2 are used only once kept;
# - each save also goes to smmd_token, one row for the channel, written
#   by a under its lease, sealed: no token nor the client secret in the
#   clear in the database (nor in its log);
# - a is killed with SIGKILL; b takes over and, before it works, installs
#   tokens 2 from PostgreSQL into its own state directory (0600);
# - a post added on b goes out with access token 2, and b asks the token
#   endpoint nothing: not with the spent refresh token 1, and not at all
#   (token 2 is good for 2 h); x is not in needs_auth on b.
# - the other way: b's file newer than PostgreSQL's (saved, then stopped
#   before it was kept) goes there at b's next start; a, back as a
#   standby, takes over from b with those tokens;
# - a node whose token_key_file differs neither opens nor overwrites the
#   row, says so, and uses its own; a person's smmctl auth there replaces
#   the row (how a key is changed).
# No token and no client secret in any node's log.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

# Tokens 1, tokens 2, tokens 5 (node c's authorization at the end), then
# every further request is refused (the last reply repeats). Every tweet is taken, with its own id.
start_x_sink Rot 1:301 2:7200 5:7200
x_cluster_config CanaryRotSecret-k9 postgresql://
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd # node a: $CFG, $SOCK, $T/state
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"
start_cluster_node b # $T/b.yaml: $T/state_b, $T/sock_b, $T/b.log
PID_B=$NODE_PID
wait_for "grep -q standby '$T/b.log'" 15 || fail "b is no standby"
[ "$(node_role "$T/sock_b")" = standby ] || fail "b does not say it is a standby"

# post_with ID N ACCESS: post ID on x, published, is the sink's tweet N
# (from 0) and carries access token ACCESS.
post_with() {
	smmctl add -c x --id "$1" "post $1" >/dev/null
	wait_state "$1/x" published 15
	[ "$(sink_path_requests /x/2/tweets | jq -r ".[$2].headers.authorization")" = "Bearer $3" ] ||
		fail "$1 went out with $(sink_path_requests /x/2/tweets | jq -r ".[$2].headers.authorization"), not $3"
}
FA=$T/state/auth/x
FB=$T/state_b/auth/x

# PostgreSQL refuses to keep the renewal that comes (a trigger stands
# in for its being unreachable): what the exchange got (an insert) is
# kept and used, the renewed tokens are saved in the file but not used
# until PostgreSQL keeps them too; smmd tries again every 5 s.
pg "create function refuse_token() returns trigger language plpgsql as
	\$\$ begin raise exception 'refused by the test'; end \$\$;
	create trigger refuse_token before update on smmd_token for each row
	execute function refuse_token()" || fail "cannot make the trigger"
t_auth=$(now_ms)
url=$(smmctl auth x --start) || fail "auth --start: $url"
smmctl auth x --code "http://127.0.0.1:8976/callback?code=c1&state=$(url_param state "$url")" \
	>"$T/auth.out" || fail "auth: $(cat "$T/auth.out")"
# Tokens 1 are due for renewal at once: refresh token 1 buys tokens 2.
wait_for "grep -q RotRef-2-k9 '$FA' 2>/dev/null" 15 ||
	fail "tokens 2 never reached a's file: $(sink_path_requests /x/2/oauth2/token | jq -c '[.[].body]')"
[ "$(url_param refresh_token "&$(sink_path_requests /x/2/oauth2/token | jq -r '.[1].body')")" = RotRef-1-k9 ] ||
	fail "the first refresh did not send refresh token 1"
a_saved=$(jq -r '.saved_ms // empty' "$FA")
[[ "$a_saved" =~ ^[0-9]+$ ]] || fail "a's token file has no saved_ms: $(jq -c 'keys' "$FA")"
[ "$(jq -r '.access_token + " " + .refresh_token' "$FA")" = "RotAcc-2-k9 RotRef-2-k9" ] ||
	fail "a's file does not hold tokens 2"
a_tokens=$(jq -c '{access_token, refresh_token, access_expires_ms}' "$FA")
wait_for "grep -q \"channel 'x': cannot keep its new credentials in PostgreSQL: .*refused by the test\" '$T/smmd.log'" 10 ||
	fail "a did not say PostgreSQL refused to keep tokens 2"
post_with t0 0 RotAcc-1-k9 # not the tokens PostgreSQL has not kept
pg "drop trigger refuse_token on smmd_token" || fail "cannot drop the trigger"

# The save is in PostgreSQL too: one row for x, the one that holds
# tokens 2 (saved when the file was), written by a under its lease.
row() {
	pg "select saved_ms from smmd_token where channel = 'x'" 2>/dev/null
}
wait_for "[ \"\$(row)\" = '$a_saved' ]" 10 ||
	fail "smmd_token does not hold a's last save ($a_saved): $(pg 'select channel, saved_ms, node_id, epoch from smmd_token' 2>&1)"
[ "$(pg "select count(*) from smmd_token where channel = 'x'")" = 1 ] ||
	fail "smmd_token holds $(pg "select count(*) from smmd_token where channel = 'x'") rows for x"
a_node=$(smmctl status --json | jq -r .cluster.node)
a_epoch=$(smmctl status --json | jq -r .cluster.epoch)
[ "$(pg "select node_id || ' ' || epoch from smmd_token where channel = 'x'")" = "$a_node $a_epoch" ] ||
	fail "the row is not a's (node $a_node, epoch $a_epoch): $(pg "select node_id, epoch from smmd_token")"
[ "$(pg "select extract(epoch from at) * 1000 between $((t_auth - 1000)) and $(($(now_ms) + 1000)) from smmd_token where channel = 'x'")" = t ] ||
	fail "the row's time is not the save's: $(pg "select at from smmd_token") (auth at $(ms_to_iso "$t_auth"))"
# Sealed, never in the clear: not in the table, nor inside any base64
# in it, nor in what the server logged.
pg "select * from smmd_token" >"$T/dump"
[ -n "$(pg "select sealed from smmd_token where channel = 'x' and length(sealed) > 32")" ] ||
	fail "the row holds no sealed tokens: $(cat "$T/dump")"
! grep -qF -e RotAcc -e RotRef -e CanaryRotSecret "$T/dump" ||
	fail "tokens in the clear in smmd_token: $(cat "$T/dump")"
tr -c 'A-Za-z0-9+/=' '\n' <"$T/dump" | while read -r b64; do
	[ "${#b64}" -lt 16 ] || printf '%s' "$b64" | base64 -d 2>/dev/null || :
done >"$T/dump.decoded"
! grep -aqF -e RotAcc -e RotRef -e CanaryRotSecret "$T/dump.decoded" ||
	fail "tokens only base64-encoded in smmd_token"
! grep -qF -e RotAcc -e RotRef -e CanaryRotSecret "$SMM_PG_DIR/log" ||
	fail "a token or the secret is in PostgreSQL's log"

# Kept: a post on a goes out with access token 2.
post_with t0b 1 RotAcc-2-k9

# a dies; b takes over and installs tokens 2 before it works.
crash_smmd
killed=$(now_ms)
wait_for "grep -q 'standby: taking over' '$T/b.log' &&
	[ \"\$(node_role '$T/sock_b')\" = working ]" 15 ||
	fail "b did not take over: $(tail -n 8 "$T/b.log")"
log "b works $(($(now_ms) - killed)) ms after a was killed"
kill -0 "$PID_B" || fail "b's process is gone"
export SMMD_SOCKET=$T/sock_b
[ -s "$FB" ] || fail "b did not install x's tokens: $(tail -n 8 "$T/b.log")"
[ "$(stat -c %a "$FB")" = 600 ] || fail "b's token file is $(stat -c %a "$FB"), not 0600"
[ "$(jq -c '{access_token, refresh_token, access_expires_ms}' "$FB")" = "$a_tokens" ] ||
	fail "b's file does not hold a's tokens 2 (its keys: $(jq -c keys "$FB"))"
[ "$(jq -r '.saved_ms == '"$a_saved" "$FB")" = true ] ||
	fail "b's file: saved_ms $(jq -r .saved_ms "$FB"), a saved at $a_saved"

post_with t1 2 RotAcc-2-k9
[ "$(sink_path_requests /x/2/tweets | jq length)" -eq 3 ] ||
	fail "$(sink_path_requests /x/2/tweets | jq length) tweets reached the sink, not t0, t0b and t1"
[ "$(jq -r '.access_token + " " + .refresh_token' "$FB")" = "RotAcc-2-k9 RotRef-2-k9" ] ||
	fail "b's file does not hold tokens 2 after the post"
# The exchange and a's one refresh: b renewed nothing (token 2 lives 2 h),
# least of all with the spent refresh token 1.
n=$(sink_path_requests /x/2/oauth2/token | jq length)
[ "$n" -eq 2 ] || fail "the token endpoint was asked $n times, not 2: $(sink_path_requests /x/2/oauth2/token |
	jq -c '[.[] | .body | capture("grant_type=(?<g>[a-z_]+)").g]')"
smmctl channels --json | jq -e '.channels[] | select(.name == "x")' >/dev/null ||
	fail "b does not list x: $(smmctl channels --json)"
! smmctl channels --json | jq -e '.channels[] | select(.name == "x" and .state == "needs_auth")' >/dev/null ||
	fail "x needs auth on b: $(smmctl channels --json)"
! grep -qF -e RotAcc -e RotRef -e CanaryRotSecret "$T/smmd.log" "$T/b.log" ||
	fail "a token or the secret is in a node's log"
kill -TERM "$PID_B"
wait_pid_exit "$PID_B" 15
[ "$E2E_EXIT" -eq 0 ] || fail "b exited with $E2E_EXIT on SIGTERM"

# The other way: b saved tokens 3 in its file and stopped before
# PostgreSQL kept them (as a crash between the two would leave it). Its
# next start as the working node puts them there, since its file is the
# newer; a, started again as a standby, then takes over with them.
b_saved=$(($(now_ms) + 1))
jq -c --argjson ms "$b_saved" '.access_token = "RotAcc-3-k9" |
	.refresh_token = "RotRef-3-k9" | .saved_ms = $ms' "$FB" >"$FB.tmp"
mv "$FB.tmp" "$FB"
chmod 600 "$FB"
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
PID_B=$!
E2E_PIDS+=("$PID_B")
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ]" 15 ||
	fail "b does not work again: $(tail -n 5 "$T/b.log")"
wait_for "[ \"\$(row)\" = '$b_saved' ]" 5 ||
	fail "b's newer tokens did not reach PostgreSQL: $(pg 'select channel, saved_ms, node_id from smmd_token')"
b_node=$(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -r .cluster.node)
[ "$(pg "select node_id from smmd_token where channel = 'x'")" = "$b_node" ] ||
	fail "the row is not b's"
start_smmd # a again, as a standby: its file holds the older tokens 2
wait_for "[ \"\$(node_role '$SOCK')\" = standby ]" 10 || fail "a is no standby"
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null || true
e2e_forget "$PID_B"
export SMMD_SOCKET=$SOCK
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 15 ||
	fail "a did not take over from b: $(tail -n 5 "$T/smmd.log")"
[ "$(jq -r '.access_token + " " + .refresh_token' "$FA")" = "RotAcc-3-k9 RotRef-3-k9" ] ||
	fail "a did not take tokens 3 from PostgreSQL"
post_with t2 3 RotAcc-3-k9
stop_smmd

# A node whose token_key_file differs neither opens nor overwrites what
# the others sealed: c, whose own file is newer than the row, says so,
# keeps its tokens to itself (its post goes out with them) and the row
# stays as b sealed it. Only a person's smmctl auth on c replaces it: how
# a key is changed.
mv "$T/token.key" "$T/token.key.a"
(
	umask 077
	head -c 48 /dev/urandom | base64 -w0 >"$T/token.key"
	mkdir -p "$T/state_c/auth"
	jq -c --argjson ms "$(($(now_ms) + 1))" '.access_token = "RotAcc-4-k9" |
		.refresh_token = "RotRef-4-k9" | .saved_ms = $ms' "$FA" >"$T/state_c/auth/x"
)
kid_a=$(pg "select key_id from smmd_token where channel = 'x'")
start_cluster_node c
PID_C=$NODE_PID
wait_for "[ \"\$(node_role '$T/sock_c')\" = working ]" 15 ||
	fail "c does not work: $(tail -n 5 "$T/c.log")"
grep -q "channel 'x': its tokens in PostgreSQL are sealed under another token_key_file" "$T/c.log" ||
	fail "c did not say the row is sealed under another key: $(grep auth "$T/c.log")"
wait_for "grep -q \"channel 'x': its tokens, newer on this node, could not be kept in PostgreSQL: PostgreSQL holds them sealed under another token_key_file\" '$T/c.log'" 10 ||
	fail "c did not say its newer tokens could not be kept: $(grep auth "$T/c.log")"
[ "$(pg "select saved_ms || ' ' || key_id from smmd_token where channel = 'x'")" = "$b_saved $kid_a" ] ||
	fail "c changed the row sealed under a's key"
[ "$(jq -r .access_token "$T/state_c/auth/x")" = RotAcc-4-k9 ] ||
	fail "c's own tokens were replaced"
SMMD_SOCKET=$T/sock_c post_with t3 4 RotAcc-4-k9 # c's own
url=$(SMMD_SOCKET=$T/sock_c smmctl auth x --start) || fail "auth --start on c: $url"
SMMD_SOCKET=$T/sock_c smmctl auth x --code \
	"http://127.0.0.1:8976/callback?code=c5&state=$(url_param state "$url")" \
	>"$T/auth.out" || fail "auth on c: $(cat "$T/auth.out")"
c_saved=$(jq -r .saved_ms "$T/state_c/auth/x")
[ "$(jq -r .refresh_token "$T/state_c/auth/x")" = RotRef-5-k9 ] ||
	fail "c's file does not hold the tokens of its authorization"
wait_for "[ \"\$(row)\" = '$c_saved' ]" 10 ||
	fail "c's authorization did not replace the row: $(pg 'select saved_ms, node_id from smmd_token')"
[ "$(pg "select key_id from smmd_token where channel = 'x'")" != "$kid_a" ] ||
	fail "the row is still under a's key"
! grep -qF -e RotAcc -e RotRef -e CanaryRotSecret "$T/smmd.log" "$T/b.log" "$T/c.log" ||
	fail "a token or the secret is in a node's log"
kill -TERM "$PID_C"
wait_pid_exit "$PID_C" 15
[ "$E2E_EXIT" -eq 0 ] || fail "c exited with $E2E_EXIT on SIGTERM"
log "ok"
