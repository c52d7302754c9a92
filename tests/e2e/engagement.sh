#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Engagement read back from the networks after publishing, against a sink
# that answers like each API (short ages: metrics: [2s, 4s]).
# - masto: two statuses published together are read in one batch GET
#   /api/v1/statuses?id[]=..&id[]=.. with the token, at +2s and +4s; each
#   sample is kept (history), quotes_count absent is null, views null.
#   The account's followers_count is read once (audience).
# - old: a server without the batch endpoint (404) is read one status at
#   a time from then on.
# - slow: a 429 with Retry-After: 3 on a read holds the channel's reads
#   back 3 s; the sample lands late rather than never.
# - gone: a 401 on a read stops polling that channel, with one notice on
#   its notify channel and one log line; a reload polls it again.
# - tight: publishing's answer says 2 requests are left in the window
#   until a reset 8 s on (X-RateLimit-*, Mastodon's RFC 3339 Reset): the
#   reads, which share the budget, wait for the reset.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
st() { # st ID FAVS REBLOGS REPLIES [QUOTES]: one status object
	local q=
	[ -z "${5:-}" ] || q=",\"quotes_count\":$5"
	printf '{"id":"%s","favourites_count":%s,"reblogs_count":%s,"replies_count":%s%s}' \
		"$1" "$2" "$3" "$4" "$q"
}
RESET_MS=$(($(now_ms) + 8000))
RESET=$(ms_to_iso "$RESET_MS")
start_sink --log-get \
	--rule "POST /tight/api/v1/statuses 200 $J H:X-RateLimit-Limit=300 H:X-RateLimit-Remaining=2 H:X-RateLimit-Reset=$RESET {\"id\":\"60900{{n}}\"}" \
	--rule "GET /tight/api/v1/statuses/609001 200 $J $(st 609001 1 1 1)" \
	--rule "GET /tight/api/v1/accounts/verify_credentials 200 $J {\"followers_count\":3}" \
	--rule "POST /masto/api/v1/statuses 200 $J {\"id\":\"10900{{n}}\",\"url\":\"https://social.example/@s/10900{{n}}\"}" \
	--rule "GET /masto/api/v1/statuses 200 $J [$(st 109001 3 1 0),$(st 109002 7 2 1 4)]" \
	--rule "GET /masto/api/v1/statuses 200 $J [$(st 109001 5 1 2),$(st 109002 9 3 1 4)]" \
	--rule "GET /masto/api/v1/accounts/verify_credentials 200 $J {\"id\":\"1\",\"followers_count\":1234}" \
	--rule "POST /old/api/v1/statuses 200 $J {\"id\":\"20900{{n}}\"}" \
	--rule "GET /old/api/v1/statuses 404 $J {\"error\":\"Record not found\"}" \
	--rule "GET /old/api/v1/statuses/209001 200 $J $(st 209001 1 0 0)" \
	--rule "GET /old/api/v1/statuses/209002 200 $J $(st 209002 6 0 0)" \
	--rule "GET /old/api/v1/accounts/verify_credentials 200 $J {\"followers_count\":5}" \
	--rule "POST /slow/api/v1/statuses 200 $J {\"id\":\"30900{{n}}\"}" \
	--rule "GET /slow/api/v1/statuses/309001 429 H:Retry-After=3 $J {\"error\":\"Too many requests\"}" \
	--rule "GET /slow/api/v1/statuses/309001 200 $J $(st 309001 2 2 2)" \
	--rule "GET /slow/api/v1/accounts/verify_credentials 200 $J {\"followers_count\":7}" \
	--rule "POST /gone/api/v1/statuses 200 $J {\"id\":\"40900{{n}}\"}" \
	--rule "GET /gone/api/v1/statuses/409001 401 $J {\"error\":\"The access token was revoked\"}" \
	--rule "GET /gone/api/v1/accounts/verify_credentials 401 $J {\"error\":\"The access token was revoked\"}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=tok-$(openssl rand -hex 16)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	printf 'sekrit\n' >"$SECRET_FILE"
)
chan() {
	printf '  %s:\n    publisher: mastodon\n' "$1"
	printf '    instance: %s/%s\n    token_file: %s\n' "$base" "$1" "$T/token"
	printf '    metrics: [2s, 4s]\n'
	shift
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
MPORT=$(free_port)
{
	printf 'state_dir: %s/state\nsocket: %s\n' "$T" "$SOCK"
	printf 'metrics_listen: %s\nchannels:\n' "$MPORT"
	chan masto
	chan old
	chan slow
	chan gone 'notify: ops'
	chan tight
	printf '  ops:\n    publisher: webhook\n    url: %s/hook/ops\n' "$base"
	printf '    secret_file: %s\n' "$SECRET_FILE"
} >"$CFG"
start_smmd

# reqs PATH: the requests the sink got on PATH (its query apart), in order.
reqs() {
	sink_requests | jq -s -c --arg p "$1" \
		'[.[] | select(.path == $p)] | sort_by(.t_us)'
}
samples() { # samples DELIVERY: its engagement history as JSON
	delivery_json "$1" | jq -c '.engagement // []'
}

# Each pair due at one instant, so that its samples fall due together
# and are read in one batch: added one after the other, they went out as
# far apart as the adds (under ASan, with a read taken early, past the
# 250 ms a read takes along).
pair_at=$(ms_to_iso $(($(now_ms) + 3000)))
smmctl add -c masto --id a --at "$pair_at" 'first' >/dev/null
smmctl add -c masto --id b --at "$pair_at" 'second' >/dev/null
smmctl add -c old --id c --at "$pair_at" 'third' >/dev/null
smmctl add -c old --id c2 --at "$pair_at" 'third too' >/dev/null
smmctl add -c slow --id d 'fourth' >/dev/null
smmctl add -c gone --id e 'fifth' >/dev/null
smmctl add -c tight --id f 'sixth' >/dev/null
for id in a/masto b/masto c/old c2/old d/slow e/gone f/tight; do
	wait_state "$id" published 20
done

# --- masto: two samples each, read in batches, history kept.
wait_for "[ \"\$(samples b/masto | jq length)\" -ge 2 ]" 20 ||
	fail "b/masto has samples $(samples b/masto)"
wait_for "[ \"\$(samples a/masto | jq length)\" -ge 2 ]" 10 ||
	fail "a/masto has samples $(samples a/masto)"
sa=$(samples a/masto)
sb=$(samples b/masto)
jq_true '.[0].age_s == 2 and .[0].likes == 3 and .[0].shares == 1 and
	.[0].comments == 0 and .[0].quotes == null and .[0].views == null and
	.[1].age_s == 4 and .[1].likes == 5 and .[1].comments == 2' <<<"$sa" ||
	fail "a/masto samples are $sa"
jq_true '.[0].likes == 7 and .[0].quotes == 4 and .[1].likes == 9' <<<"$sb" ||
	fail "b/masto samples are $sb"
gets=$(reqs /masto/api/v1/statuses | jq -c '[.[] | select(.method == "GET")]')
jq_true 'length == 2 and all(.[]; .query ==
	"id%5B%5D=109001&id%5B%5D=109002")' <<<"$gets" ||
	fail "masto was not read in two batches: $(jq -c '[.[].query]' <<<"$gets")"
jq_true --arg t "Bearer $TOKEN" 'all(.[]; .headers.authorization == $t)' \
	<<<"$gets" || fail "the reads lack the token"
# Each sample at its age after publishing; a read takes along what is due
# within 250 ms (2% of the first age, at least 250 ms, at most a quarter of
# it), so it may be that much early.
pub=$(delivery_json a/masto | jq -r '.attempts[-1].started')
pub_ms=$(iso_to_ms "$pub")
for k in 0 1; do
	t=$(jq -r ".[$k].taken" <<<"$sa")
	age=$(jq -r ".[$k].age_s" <<<"$sa")
	late=$(($(iso_to_ms "$t") - pub_ms - age * 1000))
	[ "$late" -ge -250 ] && [ "$late" -lt 1500 ] ||
		fail "sample $k of a/masto taken ${late} ms after its age"
done
smmctl show a | grep -q 'engagement' || fail "smmctl show has no engagement table"
wait_for "[ \"\$(reqs /masto/api/v1/accounts/verify_credentials | jq length)\" -ge 1 ]" 10 ||
	fail "masto's audience was not read"

# --- old: the batch refused, then one at a time.
wait_for "[ \"\$(samples c/old | jq length)\" -ge 1 ]" 20 ||
	fail "c/old has no sample: $(samples c/old)"
wait_for "[ \"\$(samples c2/old | jq length)\" -ge 1 ]" 10 ||
	fail "c2/old has no sample: $(samples c2/old)"
jq_true '.[0].likes == 1' <<<"$(samples c/old)" || fail "c/old: $(samples c/old)"
jq_true '.[0].likes == 6' <<<"$(samples c2/old)" || fail "c2/old: $(samples c2/old)"
nb=$(reqs /old/api/v1/statuses | jq '[.[] | select(.method == "GET")] | length')
[ "$nb" -eq 1 ] || fail "old: the batch read was tried $nb times"

# --- slow: held back by Retry-After, then read.
wait_for "[ \"\$(samples d/slow | jq length)\" -ge 1 ]" 20 ||
	fail "d/slow has no sample"
r=$(reqs /slow/api/v1/statuses/309001)
t429=$(jq -r '.[0].t_us' <<<"$r")
t200=$(jq -r '.[1].t_us' <<<"$r")
[ $(((t200 - t429) / 1000)) -ge 2900 ] ||
	fail "the read after a 429 with Retry-After: 3 came $(((t200 - t429) / 1000)) ms later"

# --- tight: the read waits for the window publishing nearly used up.
wait_for "[ \"\$(samples f/tight | jq length)\" -ge 1 ]" 20 ||
	fail "f/tight has no sample"
t=$(reqs /tight/api/v1/statuses/609001 | jq '.[0].t_us / 1000 | floor')
[ "$t" -ge "$RESET_MS" ] ||
	fail "tight was read $((RESET_MS - t)) ms before its rate-limit window reset"

# --- gone: one 401 (the audience read or the status read, whichever
# comes first), one notice, no more polling; a reload polls again.
wait_for "[ \"\$(reqs /hook/ops | jq length)\" -ge 1 ]" 10 ||
	fail "no notice on ops"
settle ops +5s
n401=$(($(reqs /gone/api/v1/statuses/409001 | jq length) +
	$(reqs /gone/api/v1/accounts/verify_credentials | jq length)))
[ "$n401" -eq 1 ] || fail "gone was polled $n401 times after its 401"
notes=$(reqs /hook/ops | jq -c '[.[] | select(.post.id | startswith("notice-"))]')
[ "$(jq length <<<"$notes")" -eq 1 ] || fail "expected one notice: $notes"
jq -r '.[0].body' <<<"$notes" | grep -q "engagement for channel 'gone' stopped" ||
	fail "the notice says $(jq -r '.[0].body' <<<"$notes")"
grep -c "engagement: channel 'gone': the network refused the token" "$T/smmd.log" |
	grep -qx 1 || fail "expected one log line about gone's token"
grep -q "$TOKEN" "$T/smmd.log" && fail "the token is in the log"
st=$(smmctl status --json | jq -c .engagement)
jq_true '.stopped == [{"channel": "gone", "reason": "the network refused the token (HTTP 401) when reading engagement"}]
	and .reads.refused == 1 and .samples >= 7 and .reads.rate_limited == 1' \
	<<<"$st" || fail "status says of engagement: $st"
smmctl status | grep -q "not read on 'gone': the network refused" ||
	fail "smmctl status does not show the stopped channel"
# The same reads in Prometheus' metrics, per channel and outcome.
if command -v curl >/dev/null 2>&1; then
	page=$(curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics") ||
		fail "no metrics on port $MPORT"
	fetches() {
		awk -v o="$1" '$1 ~ /^smmd_engagement_fetches_total\{/ &&
			index($1, "outcome=\"" o "\"") { n += $2 } END { print n + 0 }' \
			<<<"$page"
	}
	grep -qx 'smmd_engagement_fetches_total{channel="gone",outcome="revoked"} 1' \
		<<<"$page" || fail "metrics: $(grep fetches_total <<<"$page")"
	grep -qx 'smmd_engagement_fetches_total{channel="slow",outcome="rate_limited"} 1' \
		<<<"$page" || fail "metrics: $(grep fetches_total <<<"$page")"
	# Scraped after status was read: as many, or more if reads went on.
	for o in ok error; do
		[ "$(fetches "$o")" -ge "$(jq ".reads.$o" <<<"$st")" ] ||
			fail "metrics count $(fetches "$o") $o reads, status $(jq ".reads.$o" <<<"$st")"
	done
	[ "$(fetches ok)" -gt 0 ] || fail "metrics count no successful read"
fi
kill -HUP "$SMMD_PID"
wait_for "[ \$((\$(reqs /gone/api/v1/statuses/409001 | jq length) + \$(reqs /gone/api/v1/accounts/verify_credentials | jq length))) -ge 2 ]" 10 ||
	fail "a reload did not poll gone again"

stop_smmd
log "ok"
