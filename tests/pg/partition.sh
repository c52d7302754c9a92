#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A network partition of the working node, while it keeps running: its
# connections to PostgreSQL go through a TCP proxy (socat) that is frozen
# (SIGSTOP) shortly before a post is due, so what it sends gets no answer
# and no error, as when a link drops packets. The standby, connected
# directly, takes over and publishes the post once. The partitioned node
# fires its timer but sends nothing it cannot fence: its lease goes
# untrusted, its write never commits. An add made on it meanwhile is
# refused, not lost. Healed, it finds its lease gone and
# comes back as a standby, without one request of its reaching the sink.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_pg_proxy
port=$PROXY_PORT

start_sink
write_config -g "store: postgresql://127.0.0.1:$port/" demo
start_smmd # node a, through the proxy
sed "s|$T/state|$T/state_b|; s|$SOCK|$T/sock_b|;
	s|postgresql://127.0.0.1:$port/|postgresql://|" "$CFG" >"$T/b.yaml"
grep -q '^store: postgresql://$' "$T/b.yaml" || fail "b's config: $(cat "$T/b.yaml")"
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
PID_B=$!
E2E_PIDS+=("$PID_B")
wait_for "grep -q standby '$T/b.log'" 15 || fail "b is no standby"
wait_for "[ \"\$(max_claim_fence)\" -gt 0 ]" 5 || fail "a claims nothing"
a_fence=$(max_claim_fence)

due=$(($(now_ms) + 3000))
smmctl add --channel demo --id p1 --at "$(ms_to_iso "$due")" "partitioned" >/dev/null
while [ "$(now_ms)" -lt $((due - 500)) ]; do sleep 0.02; done
pg_proxy STOP
cut_at=$(now_ms)
cut_line=$(wc -l <"$T/smmd.log")
log "a is cut off from PostgreSQL"

# a answers while cut off (its reads are local), but what changes state
# cannot be kept: the add waits, and is refused once a finds its lease
# gone (b has taken over by then).
timeout 30 "$SMMCTL_BIN" add --channel demo --id during --at +1h \
	"added while cut off" >"$T/during.out" 2>&1 &
ADDER=$!
E2E_PIDS+=("$ADDER")

wait_for "[ \"\$(sink_count p1)\" -ge 1 ]" 10 ||
	fail "p1 never arrived while a was cut off"
late=$(($(sink_posts_for p1 | jq -r '.[0].t_us / 1000 | floor') - due))
log "p1 published by b ${late} ms after its due time"
[ "$late" -le 5000 ] || fail "p1 was $late ms late"
[ "$(node_role "$T/sock_b")" = working ] || fail "b does not work"
# Within 2 s of its last renewal, which was at most a beat before the cut.
untrusted() {
	tail -n +"$((cut_line + 1))" "$T/smmd.log" | grep -q 'lease is not trusted'
}
wait_for untrusted 4 || fail "a did not stop trusting its lease while cut off"
# When a said so, by its log's clock: the test itself has spent seconds
# waiting for p1 and asking b by now (more under ASan).
untrusted_at=$(tail -n +"$((cut_line + 1))" "$T/smmd.log" |
	grep -m 1 'lease is not trusted' | cut -d' ' -f1)
took=$(($(iso_to_ms "$untrusted_at") - cut_at))
log "a stopped trusting its lease ${took} ms after the cut"
[ "$took" -le 4000 ] || fail "a trusted its lease ${took} ms after the cut"
smmd_alive || fail "a exited while cut off"

# Long enough for a's statements to time out and its reconnects to hang.
while [ "$(now_ms)" -lt $((cut_at + 12000)) ]; do sleep 0.1; done
pg_proxy CONT
log "a is connected again"

wait_for "grep -q 'lease ran out: starting afresh' '$T/smmd.log'" 20 ||
	fail "a did not notice its lease ran out"
wait_for "grep -q 'standby: node' '$T/smmd.log'" 20 ||
	fail "a did not come back as a standby"
smmd_alive || fail "a exited instead of waiting as a standby"

rc=0
wait "$ADDER" || rc=$?
e2e_forget "$ADDER"
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] ||
	fail "the add made while cut off was not refused (exit $rc): $(cat "$T/during.out")"
grep -q "store" "$T/during.out" ||
	fail "the add was refused for another reason: $(cat "$T/during.out")"
[ -z "$(SMMD_SOCKET=$T/sock_b delivery_state during/demo)" ] ||
	fail "an add refused while cut off was kept all the same"
log "the add made while cut off was refused ($(head -c 120 "$T/during.out"))"

sleep 1
[ "$(sink_count p1)" -eq 1 ] ||
	fail "p1 reached the sink $(sink_count p1) times"
# a's timer fired (its view had p1 on its way, so it stopped with one
# request held, not sent), and a published nothing itself.
! grep -q "publish: post 'p1'" "$T/smmd.log" || fail "a published p1"
# Every request carries b's claim of its channel as its fence, the same
# in header and signed body, above any of a's.
claims=$(claim_fences)
b_fence=$(jq -r .demo <<<"$claims")
[ "$b_fence" -gt "$a_fence" ] || fail "b's fence $b_fence is not above a's $a_fence"
other=$(stale_requests "$claims" | wc -l)
[ "$other" -eq 0 ] || fail "$other requests without b's fence"
log "ok"
