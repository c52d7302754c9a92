#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmctl's error paths and everyday commands, as a user meets them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# expect_fail WHAT [CODE]: the last run failed with one "smmctl: ..." line,
# and with exit status CODE when given (sysexits: 64 usage, 65 data, 69
# no daemon), so a crash or an unreachable daemon can't pass for a refusal.
expect_fail() {
	[ "$rc" -ne 0 ] || fail "$1: exit status 0 (stdout: $out)"
	[ -z "${2:-}" ] || [ "$rc" -eq "$2" ] ||
		fail "$1: exit status $rc, expected $2 ($err)"
	case $err in
	smmctl:*) ;;
	*) fail "$1: stderr does not start with 'smmctl:': '$err'" ;;
	esac
	log "$1 -> exit $rc: $err"
}

run smmctl --version
[ "$rc" -eq 0 ] || fail "smmctl --version exited $rc"
[ "$out" = "smmctl 0.1.0" ] || fail "smmctl --version printed '$out'"
run smmctl --help
{ [ "$rc" -eq 0 ] && [ -n "$out" ]; } || fail "smmctl --help failed ($rc)"
run smmctl frobnicate
[ "$rc" -eq 64 ] || fail "an unknown subcommand exited $rc, expected 64 (usage)"

# No daemon: non-zero, and the message names the socket it tried.
run smmctl status
expect_fail "status without a daemon" 69
[ "$rc" -eq 69 ] || fail "status without a daemon exited $rc, expected 69 (unavailable)"
case $err in
*"$SOCK"*) ;;
*) fail "the error does not name the socket $SOCK: $err" ;;
esac
run smmctl -s "$T/elsewhere.sock" status
expect_fail "status with -s and no daemon" 69
case $err in
*"$T/elsewhere.sock"*) ;;
*) fail "-s: the error does not name $T/elsewhere.sock: $err" ;;
esac

start_sink
write_config demo shop,max_length=40
start_smmd

# -s overrides $SMMD_SOCKET.
SMMD_SOCKET=$T/nowhere.sock run smmctl -s "$SOCK" status
[ "$rc" -eq 0 ] || fail "smmctl -s SOCKET status failed: $err"

# Unknown channel: the message lists the known ones.
run smmctl add -c nosuch "hello"
expect_fail "add to an unknown channel" 65
case $err in
*nosuch*demo*shop* | *nosuch*shop*demo*) ;;
*) fail "unknown channel: the error does not name 'nosuch' and list demo, shop: $err" ;;
esac

# Due time 2 minutes in the past: refused, saying so.
run smmctl add -c demo --at "$(date -u -d '-2 min' +%Y-%m-%dT%H:%M:%SZ)" "too late"
expect_fail "add --at 2 minutes ago" 65
case $err in
*past* | *ago* | *late*) ;;
*) fail "a due time in the past: the error does not say it is past: $err" ;;
esac

# A text longer than a channel's max_length: refused, naming the channel
# and by how much, and nothing queued (counted in characters: the emoji
# is one, its bytes four).
run smmctl add -c demo -c shop --id toolong \
	$'This text is longer than forty characters \xf0\x9f\x8e\x89'
expect_fail "add a text over max_length" 65
[[ $err == *"text is 43 characters, 3 over channel 'shop''s limit of 40 (max_length)"* ]] ||
	fail "over max_length: $err"
run smmctl show toolong
[ "$rc" -ne 0 ] || fail "an over-long text was queued"

# Unparsable times.
for bad in 'tomorrow-ish' '2026-13-45T99:00:00Z' '+5x' ''; do
	run smmctl add -c demo --at "$bad" "bad time"
	expect_fail "add --at '$bad'"
done

# Usage errors.
run smmctl add "no channel"
expect_fail "add without -c" 64
run smmctl list --status bogus
expect_fail "list --status bogus" 64
[ "$rc" -eq 64 ] || fail "list --status bogus exited $rc, expected 64"
run smmctl show no-such-post
expect_fail "show of an unknown id" 65

# Cancel a scheduled post: it is listed as cancelled and never sent. A
# marker due after it proves its time has passed.
run smmctl add -c demo --id c1 --at +2s "to be cancelled"
{ [ "$rc" -eq 0 ] && [ "$out" = c1 ]; } || fail "add --id c1 printed '$out' ($rc): $err"
run smmctl cancel c1
[ "$rc" -eq 0 ] || fail "cancel c1 failed: $err"
[ "$(delivery_state c1/demo)" = cancelled ] || fail "c1/demo is '$(delivery_state c1/demo)' after cancel"
list_json --status cancelled | jq_true 'any(.[]; .id == "c1/demo")' ||
	fail "list --status cancelled does not show c1/demo"
run smmctl cancel c1
expect_fail "cancel of a cancelled post" 65
settle demo +3s
[ "$(sink_count c1)" -eq 0 ] || fail "the cancelled post c1 reached the sink"

# Text from standard input with "-", two channels, link, campaign, media.
run smmctl add -c demo -c shop --id stdin1 --link https://example.org/a \
	--campaign launch --media https://example.org/1.png - \
	< <(printf 'first line\nsecond line')
{ [ "$rc" -eq 0 ] && [ "$out" = stdin1 ]; } || fail "add - (stdin) printed '$out' ($rc): $err"
wait_state stdin1/demo published 15
wait_state stdin1/shop published 15
reqs=$(sink_posts_for stdin1)
[ "$(jq length <<<"$reqs")" -eq 2 ] || fail "stdin1 reached the sink $(jq length <<<"$reqs") times, expected 2"
[ "$(jq -c '[.[].post.channel] | sort' <<<"$reqs")" = '["demo","shop"]' ] ||
	fail "stdin1 channels: $(jq -c '[.[].post.channel]' <<<"$reqs")"
[ "$(jq -c '[.[].path] | sort' <<<"$reqs")" = '["/hook/demo","/hook/shop"]' ] ||
	fail "stdin1 paths: $(jq -c '[.[].path]' <<<"$reqs")"
[ "$(jq -c '[.[].headers["webhook-id"]] | unique | length' <<<"$reqs")" -eq 2 ] ||
	fail "the two deliveries of stdin1 share a webhook-id"
jq_true 'all(.[]; .post.text == "first line\nsecond line" and
	.post.link == "https://example.org/a" and .post.campaign == "launch" and
	.post.media == ["https://example.org/1.png"])' <<<"$reqs" ||
	fail "stdin1 bodies: $(jq -c '[.[].post]' <<<"$reqs")"
run smmctl show stdin1
[ "$rc" -eq 0 ] || fail "show stdin1 failed: $err"
case $out in
*first\ line*) ;;
*) fail "show stdin1 does not show the text: $out" ;;
esac
run smmctl show stdin1/shop --json
[ "$rc" -eq 0 ] || fail "show stdin1/shop failed: $err"
jq_true '.deliveries | any(.id == "stdin1/shop")' <<<"$out" ||
	fail "show stdin1/shop --json: $out"

# A post id that is taken.
run smmctl add -c demo --id stdin1 "again"
expect_fail "add with a duplicate --id" 65
case $err in
*stdin1*) ;;
*) fail "duplicate id: the error does not name the id: $err" ;;
esac

# list (text and JSON) and status (text and JSON).
run smmctl list
[ "$rc" -eq 0 ] || fail "list failed: $err"
case $out in
*stdin1*) ;;
*) fail "list does not show stdin1: $out" ;;
esac
run smmctl status --json
[ "$rc" -eq 0 ] || fail "status --json failed: $err"
jq_true '.version == "0.1.0" and .protocol == 1 and (.pid | type == "number")
	and .counts.cancelled == 1 and .counts.published >= 3
	and (.channels | sort) == ["demo","shop"]' <<<"$out" ||
	fail "status --json: $out"
[ "$(jq -r .pid <<<"$out")" = "$SMMD_PID" ] || fail "status pid $(jq -r .pid <<<"$out") is not smmd's $SMMD_PID"
run smmctl status
{ [ "$rc" -eq 0 ] && [ -n "$out" ]; } || fail "status failed: $err"
stop_smmd

# A calendar may name a thousand channels: status shows as many as fit
# 80 columns and says how many more.
many=()
for i in $(seq -w 1 30); do many+=("brand-channel-$i"); done
write_config "${many[@]}"
start_smmd
run smmctl status
[ "$rc" -eq 0 ] || fail "status with 30 channels failed: $err"
line=$(grep '^  channels' <<<"$out") || fail "status has no channels line: $out"
[ "${#line}" -le 80 ] || fail "status: the channels line is ${#line} columns: $line"
[[ $line =~ ^\ \ channels\ +brand-channel-01,\ .*\ and\ ([0-9]+)\ more$ ]] ||
	fail "status: the channels line does not say how many more: $line"
shown=$(grep -o 'brand-channel-' <<<"$line" | wc -l)
[ $((shown + BASH_REMATCH[1])) -eq 30 ] ||
	fail "status: $shown shown + ${BASH_REMATCH[1]} more is not 30: $line"
stop_smmd
log "ok"
