#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Settling by hand: a failed delivery can be retried (same webhook-id) or
# resolved as published with its URL; a published one can be neither; and a
# failure is announced on the channel's notify channel.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# s1 fails (400), its notice goes through, s2 fails, then all succeed.
start_sink --status-seq 400,200,400 --body '{"error":"bad"}'
write_config demo,notify=alerts alerts
start_smmd

notices() {
	sink_requests | jq -r 'select(.post.channel == "alerts") | .post.text'
}
smmctl add -c demo --id s1 "first" >/dev/null
wait_state s1/demo failed 15
# The failure is announced on 'alerts', naming the delivery and why.
wait_for "notices | grep 's1/demo' | grep -q 400" 15 ||
	fail "no notice about s1/demo reached the alerts channel"
smmctl add -c demo --id s2 "second" >/dev/null
wait_state s2/demo failed 15
wait_for "notices | grep -q 's2/demo'" 15 || fail "no notice about s2/demo"

# retry: sent again at once with the same webhook-id, now published.
out=$(smmctl retry s1/demo) || fail "smmctl retry failed: $out"
wait_state s1/demo published 15
ids=$(sink_posts_for s1 | jq -r '.[].headers["webhook-id"]' | sort -u | wc -l)
[ "$ids" -eq 1 ] || fail "the retry changed the webhook-id ($ids distinct)"
[ "$(sink_count s1)" -eq 2 ] || fail "expected 2 requests for s1, got $(sink_count s1)"

# resolve: recorded by hand, with the post's public URL; nothing is sent.
smmctl resolve s2 --published --url https://social.example/@shop/1 >/dev/null ||
	fail "smmctl resolve failed"
d=$(delivery_json s2/demo)
[ "$(jq -r .state <<<"$d")" = published ] || fail "s2 not published: $d"
[ "$(jq -r .remote_url <<<"$d")" = https://social.example/@shop/1 ] ||
	fail "s2 has no URL: $d"
settle demo +1s
[ "$(sink_count s2)" -eq 1 ] || fail "resolve sent s2 again"

# Neither works on a delivery that is already settled.
if smmctl retry s1/demo 2>"$T/err"; then
	fail "retry of a published delivery was accepted"
fi
grep -q "only unknown or failed" "$T/err" || fail "unclear refusal: $(cat "$T/err")"
if smmctl resolve s1/demo --failed 2>/dev/null; then
	fail "resolve of a published delivery was accepted"
fi
if smmctl resolve nope/demo --failed 2>/dev/null; then
	fail "resolve of an unknown id was accepted"
fi

stop_smmd
log "ok"
