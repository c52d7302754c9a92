#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Campaign goals from the calendar against what was done:
# - spring: goals {posts: 4, engagement: 30, followers: +50, from
#   yesterday, by ten days from now}; two of its posts go out on a Mastodon
#   channel, each read back at +1s as 5 favourites, 2 reblogs, 1 reply
#   (engagement 16); the account had 100 followers a day ago (a sample an
#   earlier run of smmd kept) and has 130 now (growth 30). smmctl goals
#   says 2/4, 16/30, 30/50 with their percentages, days left and on track;
#   a post of another campaign and an off-campaign post count for nothing.
# - smmctl report --json carries the same: engagement per campaign and day
#   of publication, the top posts, the audience by day, the goals.
# - bad goals are reported at file:line:column, all at once.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
st() {
	printf '{"id":"%s","favourites_count":5,"reblogs_count":2,"replies_count":1}' "$1"
}
start_sink --log-get \
	--rule "POST /m/api/v1/statuses 200 $J {\"id\":\"10900{{n}}\"}" \
	--rule "GET /m/api/v1/statuses 200 $J [$(st 109001),$(st 109002),$(st 109003),$(st 109004)]" \
	--rule "GET /m/api/v1/statuses/109001 200 $J $(st 109001)" \
	--rule "GET /m/api/v1/statuses/109002 200 $J $(st 109002)" \
	--rule "GET /m/api/v1/statuses/109003 200 $J $(st 109003)" \
	--rule "GET /m/api/v1/statuses/109004 200 $J $(st 109004)" \
	--rule "GET /m/api/v1/accounts/verify_credentials 200 $J {\"followers_count\":130}"
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf 'tok\n' >"$T/token"
)
today=$(date -u +%F)
yesterday=$(date -u -d yesterday +%F)
by=$(date -u -d '+10 days' +%F)
at() { date -u -d "@$(($(date +%s) + $1))" +%FT%TZ; }
cat >"$T/cal.yaml" <<EOF
timezone: UTC
campaigns:
  spring:
    utm_campaign: spring
    goals: {posts: 4, engagement: 30, followers: +50, from: $yesterday, by: $by}
  other:
    utm_campaign: other
posts:
  - {id: s1, at: "$(at 3)", channels: [m], text: one, campaign: spring}
  - {id: s2, at: "$(at 3)", channels: [m], text: two, campaign: spring}
  - {id: o1, at: "$(at 3)", channels: [m], text: three, campaign: other}
  - {id: n1, at: "$(at 3)", channels: [m], text: four}
EOF
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
calendar: $T/cal.yaml
metrics: [1s]
channels:
  m:
    publisher: mastodon
    instance: $base/m
    token_file: $T/token
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"

# A day-old audience sample, as an earlier run would have kept: the store
# is made by smmd, then the sample written while it is stopped.
start_smmd
stop_smmd
sqlite3 "$T/state/smmd.db" "INSERT INTO audience VALUES ('m',
	$(($(now_ms) - 25 * 3600 * 1000)), 100)" || fail "cannot seed the audience"
start_smmd

for p in s1 s2 o1 n1; do
	wait_state "$p/m" published 20
done
samples() { delivery_json "$1" | jq -c '.engagement // []'; }
# The report below counts all four posts' samples, not just spring's.
for p in s1 s2 o1 n1; do
	wait_for "[ \"\$(samples $p/m | jq length)\" -ge 1 ]" 15 ||
		fail "$p/m has no sample"
done
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT count(*) FROM audience')\" -ge 2 ]" 10 ||
	fail "the audience was not read"

g=$(smmctl goals --json) || fail "smmctl goals failed: $g"
jq_true --arg by "$by" '.goals | length == 1 and .[0].campaign == "spring"
	and .[0].by == $by and .[0].days_left == 10' <<<"$g" ||
	fail "goals: $g"
m=$(jq -c '.goals[0].metrics | map({key: .name, value: .}) | from_entries' <<<"$g")
jq_true '.posts.done == 2 and .posts.target == 4 and .posts.percent == 50 and
	.engagement.done == 16 and .engagement.target == 30 and
	.engagement.percent == 53.3 and
	.followers.done == 30 and .followers.target == 50 and
	.followers.percent == 60' <<<"$m" || fail "goal metrics: $m"
# Two posts in about a day and a half of an eleven-day window: on pace.
jq_true '.posts.on_track == true' <<<"$m" || fail "posts not on track: $m"
jq -r '.goals[0].from' <<<"$g" | grep -q "^${yesterday}T00:00:00" ||
	fail "from is $(jq -r '.goals[0].from' <<<"$g"), not $yesterday"
run smmctl goals
[ "$rc" -eq 0 ] || fail "smmctl goals: $err"
grep -q "^spring: by $by, 10 days left" <<<"$out" || fail "goals says: $out"
grep -Eq '^  posts +2 / 4 +\[##########\.{10}\]  50\.0%' <<<"$out" ||
	fail "goals' posts line: $out"
# --- the report's measures of this month.
rj=$(smmctl report --json) || fail "smmctl report failed: $rj"
jq_true --arg d "$today" '[.engagement[] | select(.date == $d)] as $e
	| ($e | map({key: (.campaign // "-"), value: .total}) | from_entries)
	  == {"spring": 16, "other": 8, "-": 8}
	and ($e | all(.views == null and .likes > 0))' <<<"$rj" ||
	fail "report engagement: $(jq -c .engagement <<<"$rj")"
jq_true '.top_posts | length == 4 and all(.total == 8 and .likes == 5
	and .views == null)' <<<"$rj" || fail "report top posts: $(jq -c .top_posts <<<"$rj")"
jq_true --arg d "$today" '[.audience[] | select(.channel == "m" and .date == $d)]
	| length == 1 and .[0].followers == 130' <<<"$rj" ||
	fail "report audience: $(jq -c .audience <<<"$rj")"
jq_true '.goals == $g' --argjson g "$(jq -c .goals <<<"$g")" <<<"$rj" ||
	fail "report goals differ from smmctl goals: $(jq -c .goals <<<"$rj")"
stop_smmd

# --- bad goals: every error at its place.
cat >"$T/bad.yaml" <<EOF
timezone: UTC
campaigns:
  a:
    goals: {posts: -3, likes: 5}
  b:
    goals: {engagement: 10, by: someday}
  c:
    goals: [12]
posts: []
EOF
sed -i "s|^calendar: .*|calendar: $T/bad.yaml|" "$CFG"
run "$SMMD_BIN" --check-config -c "$CFG"
[ "$rc" -ne 0 ] || fail "bad goals were accepted"
for want in \
	"bad.yaml:4:20: goals: 'posts' must be a positive count, not '-3'" \
	"bad.yaml:4:24: goals: unknown key 'likes'" \
	"bad.yaml:4:5: goals: 'by' is required" \
	"bad.yaml:6:33: goals: 'by' must be a date such as 2026-12-31" \
	"bad.yaml:8:12: 'goals' must be a mapping"; do
	grep -qF -- "$want" <<<"$out$err" || fail "missing '$want' in: $out$err"
done
grep -q 'name at least one' <<<"$out$err" &&
	fail "an invalid target also says none was named: $out$err"
log "ok"
