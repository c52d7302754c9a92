#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A 400 is permanent: the delivery fails after exactly one request and the
# error names the status and the start of the body.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# The body ends in bytes that are not UTF-8: the error must still show.
start_sink --status-seq 400 --body $'{"error":"bad \xff\xfe"}'
write_config demo
start_smmd

smmctl add -c demo --id perm1 "rejected" >/dev/null
wait_state perm1/demo failed 15
settle demo +2s
[ "$(sink_count perm1)" -eq 1 ] ||
	fail "a 400 was retried: perm1 reached the sink $(sink_count perm1) times"

d=$(delivery_json perm1/demo)
[ "$(jq -r '.attempts | length' <<<"$d")" -eq 1 ] || fail "expected one attempt: $d"
[ "$(jq -r '.attempts[0].http_status' <<<"$d")" = 400 ] || fail "attempt is not HTTP 400: $d"
err=$(jq -r '.last_error // .attempts[0].error // ""' <<<"$d")
case $err in
*400*) ;;
*) fail "error '$err' does not mention 400" ;;
esac
case $err in
*bad*) ;;
*) fail "error '$err' does not quote the start of the body" ;;
esac
list_json --status failed | jq_true 'any(.[]; .id == "perm1/demo")' ||
	fail "list --status failed does not show perm1/demo"
grep "'perm1'" "$T/smmd.log" | grep -q 400 || fail "smmd.log does not explain the failure of perm1"

stop_smmd
log "ok"
