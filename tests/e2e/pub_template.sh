#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The template publisher against a sink standing in for some other API:
# - json: PUT with every placeholder in a JSON body; each value arrives as
#   a JSON value (quotes, newlines, unicode escaped right; null for a
#   missing link, campaign or first media; the media list as an array; the
#   attempt as a number); literal headers and a secret one from
#   header_files; the webhook-id in the idempotency_header; success_id and
#   success_url recorded from the reply.
# - form: PATCH with every placeholder percent-encoded as
#   application/x-www-form-urlencoded (space '+', & = % ~ and UTF-8 as
#   %XX), media joined with commas, missing values empty; no idempotency
#   header when none is configured.
# - a 400 fails at once with the start of the reply.
# - an unknown placeholder is a config error at FILE:LINE:COLUMN.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
start_sink \
	--rule "PUT /v2/posts 201 $J {\"data\":{\"id\":\"post-{{n}}\",\"links\":[{\"href\":\"https://api.example/p/{{n}}\"}]}}" \
	--rule "PATCH /form 200 $J {\"ok\":true}" \
	--rule "POST /reject 400 $J {\"message\":\"text too long for this API\"}"
base=http://127.0.0.1:$SINK_PORT
SECRET=sk-$(openssl rand -hex 12)
(
	umask 077
	printf 'Bearer %s\n' "$SECRET" >"$T/auth"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  json:
    publisher: template
    url: $base/v2/posts
    method: PUT
    headers:
      X-Api-Version: "2"
      Accept: application/json
    header_files:
      Authorization: $T/auth
    idempotency_header: X-Request-Id
    success_id: data.id
    success_url: data.links.0.href
    retry_base: 100ms
    retry_max: 1s
    body: |
      {"text": {{text}}, "link": {{link}}, "id": {{id}},
       "channel": {{channel}}, "campaign": {{campaign}},
       "at": {{scheduled_at}}, "media": {{media}},
       "first": {{media_first}}, "attempt": {{attempt}},
       "key": {{ webhook_id }}, "literal": "{braces} & = %"}
  form:
    publisher: template
    url: $base/form
    method: patch
    content_type: form
    retry_base: 100ms
    retry_max: 1s
    body: text={{text}}&link={{link}}&id={{id}}&channel={{channel}}&campaign={{campaign}}&at={{scheduled_at}}&media={{media}}&first={{media_first}}&attempt={{attempt}}&key={{webhook_id}}
  reject:
    publisher: template
    url: $base/reject
    body: '{"text": {{text}}}'
    retry_base: 100ms
    retry_max: 1s
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

TEXT='He said "hi" & left = 100% ~ ü 🎉
line2'
AT=$(ms_to_iso $(($(now_ms) + 1000)))
smmctl add -c json -c form --id t1 --at "$AT" --campaign 'spring & co' \
	--link 'https://example.com/a?b=1&c=2' \
	--media https://cdn.example.com/1.png --media 'https://cdn.example.com/2x.jpg?s=1&t=2' \
	"$TEXT" >/dev/null
smmctl add -c json -c form --id t2 --at "$AT" 'bare' >/dev/null
for id in t1 t2; do
	wait_state "$id/json" published 20
	wait_state "$id/form" published 20
done

# reqs PATH ID: the request on PATH whose body mentions post ID.
reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
js=$(reqs /v2/posts)
[ "$(jq length <<<"$js")" -eq 2 ] || fail "expected 2 JSON requests: $js"
r1=$(jq -c '[.[] | select((.body | fromjson).id == "t1")][0]' <<<"$js")
r2=$(jq -c '[.[] | select((.body | fromjson).id == "t2")][0]' <<<"$js")
[ "$r1" != null ] && [ "$r2" != null ] || fail "JSON bodies do not carry the ids: $js"
jq_true --arg a "Bearer $SECRET" '.method == "PUT"
	and .headers["x-api-version"] == "2"
	and .headers.accept == "application/json"
	and .headers.authorization == $a
	and .headers["content-type"] == "application/json"' <<<"$r1" ||
	fail "JSON request method/headers wrong: $(jq -c '{method, headers: (.headers | del(.authorization))}' <<<"$r1")"
wid=$(delivery_json t1/json | jq -r .webhook_id)
[ "$(jq -r '.headers["x-request-id"]' <<<"$r1")" = "$wid" ] ||
	fail "X-Request-Id is not the webhook id $wid"
b1=$(jq -c '.body | fromjson' <<<"$r1")
jq_true --arg text "$TEXT" --arg at "$AT" '
	.text == $text and .link == "https://example.com/a?b=1&c=2"
	and .id == "t1" and .channel == "json" and .campaign == "spring & co"
	and .at == $at
	and .media == ["https://cdn.example.com/1.png", "https://cdn.example.com/2x.jpg?s=1&t=2"]
	and .first == "https://cdn.example.com/1.png"
	and .attempt == 1 and .literal == "{braces} & = %"' <<<"$b1" || fail "JSON body of t1 is $b1"
[ "$(jq -r .key <<<"$b1")" = "$wid" ] || fail "{{webhook_id}} is not $wid"
# Escaped, not raw: the newline and quotes in the text travel escaped.
jq_true '.body | contains("\"He said \\\"hi\\\" & left = 100% ~ ü 🎉\\nline2\"")' \
	<<<"$r1" || fail "text is not a JSON string literal in $(jq .body <<<"$r1")"
b2=$(jq -c '.body | fromjson' <<<"$r2")
jq_true '.text == "bare" and .link == null and .campaign == null
	and .media == [] and .first == null' <<<"$b2" || fail "JSON body of t2 is $b2"
d=$(delivery_json t1/json)
jq_true '(.remote_id | startswith("post-"))
	and (.remote_url | startswith("https://api.example/p/"))' <<<"$d" ||
	fail "success_id/url not recorded: $(jq -c '{remote_id, remote_url}' <<<"$d")"

fs=$(reqs /form)
[ "$(jq length <<<"$fs")" -eq 2 ] || fail "expected 2 form requests: $fs"
f1=$(jq -c '[.[] | select(.body | contains("&id=t1&"))][0]' <<<"$fs")
f2=$(jq -c '[.[] | select(.body | contains("&id=t2&"))][0]' <<<"$fs")
jq_true '.method == "PATCH"
	and .headers["content-type"] == "application/x-www-form-urlencoded"
	and .headers["idempotency-key"] == null and .headers["x-request-id"] == null' \
	<<<"$f1" || fail "form request wrong: $(jq -c '{method, headers}' <<<"$f1")"
at_enc=${AT//:/%3A}
want="text=He+said+%22hi%22+%26+left+%3D+100%25+%7E+%C3%BC+%F0%9F%8E%89%0Aline2"
want+="&link=https%3A%2F%2Fexample.com%2Fa%3Fb%3D1%26c%3D2&id=t1&channel=form"
want+="&campaign=spring+%26+co&at=$at_enc"
want+="&media=https%3A%2F%2Fcdn.example.com%2F1.png%2Chttps%3A%2F%2Fcdn.example.com%2F2x.jpg%3Fs%3D1%26t%3D2"
want+="&first=https%3A%2F%2Fcdn.example.com%2F1.png&attempt=1"
want+="&key=$(delivery_json t1/form | jq -r .webhook_id)"
[ "$(jq -r .body <<<"$f1")" = "$want" ] ||
	fail "form body of t1 is
$(jq -r .body <<<"$f1")
expected
$want"
want="text=bare&link=&id=t2&channel=form&campaign=&at=$at_enc&media=&first=&attempt=1"
want+="&key=$(delivery_json t2/form | jq -r .webhook_id)"
[ "$(jq -r .body <<<"$f2")" = "$want" ] || fail "form body of t2 is $(jq -r .body <<<"$f2")"
# No success_id: nothing recorded, nothing invented.
jq_true '.remote_id == null' <<<"$(delivery_json t1/form)" ||
	fail "a remote id appeared on the form channel"

# A 400 fails at once with the start of the reply.
smmctl add -c reject --id t3 'no' >/dev/null
wait_state t3/reject failed 15
err=$(delivery_json t3/reject | jq -r .last_error)
case $err in
*400*"text too long for this API"*) ;;
*) fail "400 error is '$err'" ;;
esac
[ "$(reqs /reject | jq length)" -eq 1 ] || fail "a 400 was retried"

# The header_files secret stays out of the log and smmctl's output.
{
	smmctl show t1 --json
	smmctl show t1
	smmctl list --json
} >"$T/shows.out"
! grep -qF "$SECRET" "$T/smmd.log" "$T/shows.out" ||
	fail "the header secret leaked into the log or smmctl output"
stop_smmd

# An unknown placeholder: exit 1 and FILE:LINE:COLUMN of the placeholder.
BAD=$T/bad.yaml
cat >"$BAD" <<EOF
state_dir: $T/state2
socket: $T/run/bad.sock
channels:
  x:
    publisher: template
    url: $base/x
    body: '{"text": {{text}}, "when": {{scheduled_when}}}'
EOF
line=$(grep -n 'scheduled_when' "$BAD" | cut -d: -f1)
col=$(awk -v l="$line" 'NR == l { print index($0, "{{scheduled_when") }' "$BAD")
st=0
"$SMMD_BIN" --check-config -c "$BAD" >"$T/bad.out" 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "--check-config exited $st on an unknown placeholder"
grep -qF "$BAD:$line:$col: 'body': unknown placeholder '{{scheduled_when}}'" \
	"$T/bad.out" || fail "expected $BAD:$line:$col naming {{scheduled_when}}, got: $(cat "$T/bad.out")"
log "ok"
