#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A post queued for +2s arrives once, not before its time, signed, with the
# Standard Webhooks headers and the documented body; smmctl reports it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config demo
start_smmd
grep -q 'ready' "$T/smmd.log" || fail "smmd did not log that it is ready"

t_add=$(now_ms)
id=$(smmctl add -c demo --at +2s --link https://example.org/launch \
	--campaign spring "hello world")
[ -n "$id" ] || fail "smmctl add printed no post id"
[ "$(printf '%s\n' "$id" | wc -l)" -eq 1 ] || fail "add printed more than one line: $id"
log "queued post $id"

# The daemon's view before it is due.
d=$(delivery_json "$id/demo")
[ "$(jq -r .state <<<"$d")" = scheduled ] ||
	fail "fresh delivery is not scheduled: $d"
due_iso=$(jq -r .due <<<"$d")
due_ms=$(iso_to_ms "$due_iso")
if [ "$due_ms" -lt $((t_add + 1500)) ] || [ "$due_ms" -gt $((t_add + 3500)) ]; then
	fail "due $due_iso is not about 2 s after the add at $(ms_to_iso "$t_add")"
fi

wait_arrivals "$id" 1 15
wait_state "$id/demo" published 10
# Nothing more may come: a later marker arriving proves no retry is pending.
settle demo +2s
[ "$(sink_count "$id")" -eq 1 ] ||
	fail "post $id arrived $(sink_count "$id") times, expected once"

req=$(sink_posts_for "$id" | jq -c '.[0]')
now_s=$(($(now_ms) / 1000))

# Not before its time (50 ms for the two clocks' reading granularity).
t_ms=$(($(jq -r .t_us <<<"$req") / 1000))
[ "$t_ms" -ge $((due_ms - 50)) ] ||
	fail "arrived at $(ms_to_iso "$t_ms"), before its due time $due_iso"
log "arrived $((t_ms - due_ms)) ms after its due time"

h() {
	jq -r --arg k "$1" '.headers[$k] // empty' <<<"$req"
}
[ "$(jq -r .path <<<"$req")" = /hook/demo ] || fail "wrong path: $(jq -r .path <<<"$req")"
case $(h content-type) in
application/json*) ;;
*) fail "content-type is '$(h content-type)'" ;;
esac
case $(h user-agent) in
smmd/*) ;;
*) fail "user-agent is '$(h user-agent)'" ;;
esac
wid=$(h webhook-id)
[ -n "$wid" ] || fail "no webhook-id header"
[ "$(h idempotency-key)" = "$wid" ] ||
	fail "idempotency-key '$(h idempotency-key)' != webhook-id '$wid'"
ts=$(h webhook-timestamp)
case $ts in
'' | *[!0-9]*) fail "webhook-timestamp '$ts' is not unix seconds" ;;
esac
if [ "$ts" -lt $((now_s - 60)) ] || [ "$ts" -gt $((now_s + 60)) ]; then
	fail "webhook-timestamp $ts is not within 60 s of now ($now_s)"
fi

# The body, field by field.
b=$(jq -c .post <<<"$req")
[ "$b" != null ] || fail "body is not JSON: $(jq -r .body <<<"$req")"
expect() {
	local got
	got=$(jq -c "$1" <<<"$b")
	[ "$got" = "$2" ] || fail "body $1 is $got, expected $2 (body: $b)"
}
expect .id "\"$id\""
expect .channel '"demo"'
expect .text '"hello world"'
expect .link '"https://example.org/launch"'
expect .campaign '"spring"'
expect .media '[]'
expect .attempt 1
expect .scheduled_at "\"$due_iso\""

# The signature: v1,base64(HMAC-SHA256(secret file bytes, "id.ts.body")),
# recomputed over the body exactly as it was received.
jq -j .body <<<"$req" >"$T/body"
key=$(od -An -v -tx1 "$SECRET_FILE" | tr -d ' \n')
want=$({
	printf '%s.%s.' "$wid" "$ts"
	cat "$T/body"
} | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64 -w0)
sig=$(h webhook-signature)
found=0
for s in $sig; do
	[ "$s" = "v1,$want" ] && found=1
done
[ "$found" -eq 1 ] || fail "webhook-signature '$sig' does not verify (expected v1,$want)"

# What smmctl reports.
d=$(delivery_json "$id/demo")
[ "$(jq -r .state <<<"$d")" = published ] || fail "show: not published: $d"
[ "$(jq -r '.attempts | length' <<<"$d")" -eq 1 ] || fail "show: expected one attempt record: $d"
[ "$(jq -r '.attempts[0].http_status' <<<"$d")" = 200 ] ||
	fail "show: attempt 1 is not HTTP 200: $d"
[ "$(jq -r '.webhook_id' <<<"$d")" = "$wid" ] ||
	fail "show: webhook_id $(jq -r .webhook_id <<<"$d") != header $wid"
# shellcheck disable=SC2016 # $id is jq's
list_json --status published | jq_true --arg id "$id/demo" \
	'any(.[]; .id == $id and .state == "published")' ||
	fail "list --status published does not contain $id/demo"
smmctl show "$id" | grep -q published || fail "show (text) does not say published"
grep -q "'$id'" "$T/smmd.log" || fail "smmd.log never names post '$id'"

# The loop's longest turn so far, and the named work that took most of it.
st=$(smmctl status --json) || fail "status failed: $st"
jq_true '.loop | (.max_turn_cause | type == "string" and . != "none yet")
	and .max_turn_cause_ms <= .max_turn_ms and .turns > 0' <<<"$st" ||
	fail "status: no cause for the longest loop turn: $(jq -c .loop <<<"$st")"
# ... and how much of it the thread was on the CPU, from its own counters
# read at each end of a turn (so what the kernel charged it while it
# polled counts too), and what kept it off.
jq_true '.loop | (.max_turn_cpu_ms | type == "number" and . >= 0)
	and ([.max_turn_preempted, .max_turn_waited, .max_turn_faults,
	      .max_turn_major_faults]
	     | all(type == "number" and . >= 0 and floor == .))
	and .max_turn_major_faults <= .max_turn_faults' <<<"$st" ||
	fail "status: the longest turn's CPU figures are off: $(jq -c .loop <<<"$st")"
smmctl status | grep -Eq '^  loop turn +[0-9.]+ ms at most \(.+: [0-9.]+ ms; on the CPU [0-9.]+ ms, preempted [0-9]+, waited [0-9]+\)$' ||
	fail "status (text) does not say what took the longest turn: $(smmctl status)"

stop_smmd
log "ok"
