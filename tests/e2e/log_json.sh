#!/bin/bash
# log_format: json makes every log line one JSON object with time, level
# and message, and a delivery result carries its fields (post_id, channel,
# attempt, http_status, latency_ms, outcome) for log shippers; a body full
# of quotes, control characters and invalid UTF-8 still gives valid JSON.
# Reloaded to text, the same events are "TIME LEVEL sentence key=value...".
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink --status-seq 503,200,400 --body $'no "good"\t\\ \xff\xfe end'
write_config -g 'log_format: json' demo
start_smmd

smmctl add -c demo --id j1 "retried once" >/dev/null
wait_state j1/demo published 15
smmctl add -c demo --id j2 "refused" >/dev/null
# Watched in the log, not with smmctl: "show" omits a delivery whose
# last_error is not valid UTF-8 (a command.c matter).
wait_for "grep -q '\"post_id\":\"j2\"' '$T/smmd.log'" 15 ||
	fail "no result for j2 in the log"

# Every line (but the test's own markers) is one JSON object.
grep -v '^--- ' "$T/smmd.log" >"$T/lines"
[ -s "$T/lines" ] || fail "smmd logged nothing"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	jq -e 'type == "object" and (.time | test("^[0-9-]{10}T[0-9:.]{12}Z$"))
		and (.level | IN("error", "warning", "info", "debug"))
		and (.message | type == "string")' <<<"$line" >/dev/null 2>&1 ||
		fail "line $n is not a JSON log object: $line"
done <"$T/lines"
! LC_ALL=C grep -q $'[\x80-\xff]' "$T/lines" ||
	LC_ALL=C.UTF-8 iconv -f UTF-8 -t UTF-8 "$T/lines" >/dev/null ||
	fail "a JSON log line is not valid UTF-8"
grep -q '"message":"smmd [0-9.]* ready: ' "$T/lines" || fail "no ready line"

# delivery N: the JSON log object of the Nth result of post $1.
delivery() {
	jq -c --arg id "$1" 'select(.post_id == $id)' "$T/lines" | sed -n "${2}p"
}
d=$(delivery j1 1)
jq_true '.level == "warning" and .channel == "demo" and .attempt == 1
	and .http_status == 503 and (.latency_ms | type == "number")
	and (.outcome | startswith("retry in"))
	and (.message | startswith("publish: post '"'j1'"' channel '"'demo'"' attempt 1: HTTP 503"))' <<<"$d" ||
	fail "the first result of j1 is wrong: $d"
d=$(delivery j1 2)
jq_true '.level == "info" and .attempt == 2 and .http_status == 200
	and .outcome == "published"' <<<"$d" || fail "the second result of j1 is wrong: $d"
d=$(delivery j2 1)
jq_true '.level == "error" and .http_status == 400 and .outcome == "failed"
	and (.message | contains("HTTP 400"))' <<<"$d" ||
	fail "the result of j2 is wrong: $d"

# Back to text on reload: the sentence, then the same fields as key=value.
sed -i 's/^log_format: json$/log_format: text/' "$CFG"
kill -HUP "$SMMD_PID"
wait_for "grep -q '^[0-9-]*T[0-9:.]*Z info reload: ' '$T/smmd.log'" 5 ||
	fail "no text line after reloading with log_format: text"
smmctl add -c demo --id t1 "text again" >/dev/null
wait_state t1/demo published 15
line=$(grep "publish: post 't1'" "$T/smmd.log") || fail "no text line for t1"
[[ $line =~ ^[0-9-]+T[0-9:.]+Z\ info\ publish:\ post\ \'t1\'\ channel\ \'demo\'\ attempt\ 1:\ HTTP\ [0-9]+\ in\ [0-9.]+\ ms,\ [a-z]+\ post_id=t1\ channel=demo\ http_status=[0-9]+\ attempt=1\ latency_ms=[0-9.]+\ outcome=[a-z]+$ ]] ||
	fail "text delivery line not as expected: $line"

# A bad value is an error at its place.
sed -i 's/^log_format: text$/log_format: xml/' "$CFG"
out=$("$SMMD_BIN" --check-config -c "$CFG" 2>&1) && fail "log_format: xml was accepted"
[[ $out == *":3:13: 'log_format' must be text or json, not 'xml'"* ]] ||
	fail "unexpected diagnostic: $out"
stop_smmd
log "ok"
