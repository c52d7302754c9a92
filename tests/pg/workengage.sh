#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Engagement with workers (share_work): a post a worker publishes on a
# Mastodon channel it owns has its samples planned by the worker and read
# by the working node, once per age: two nodes, two Mastodon channels
# (metrics: [2s, 4s]), one each; both posts get both samples (the
# worker's post too, which the worker published), and each status is
# read twice in all (once per age).
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

J=H:Content-Type=application/json
st() { # st ID FAVS: one status object
	printf '{"id":"%s","favourites_count":%s,"reblogs_count":0,"replies_count":0}' \
		"$1" "$2"
}
start_sink --log-get \
	--rule "POST /m1/api/v1/statuses 200 $J {\"id\":\"1100{{n}}\"}" \
	--rule "GET /m1/api/v1/statuses/11001 200 $J $(st 11001 3)" \
	--rule "GET /m1/api/v1/statuses/11001 200 $J $(st 11001 5)" \
	--rule "GET /m1/api/v1/accounts/verify_credentials 200 $J {\"followers_count\":10}" \
	--rule "POST /m2/api/v1/statuses 200 $J {\"id\":\"2100{{n}}\"}" \
	--rule "GET /m2/api/v1/statuses/21001 200 $J $(st 21001 7)" \
	--rule "GET /m2/api/v1/statuses/21001 200 $J $(st 21001 9)" \
	--rule "GET /m2/api/v1/accounts/verify_credentials 200 $J {\"followers_count\":20}"
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf 'tok-%s\n' "$(openssl rand -hex 16)" >"$T/token"
)
{
	printf 'state_dir: %s/state\nsocket: %s\n' "$T" "$SOCK"
	printf 'store: postgresql://\nshare_work: true\nchannels:\n'
	for c in m1 m2; do
		printf '  %s:\n    publisher: mastodon\n' "$c"
		printf '    instance: %s/%s\n    token_file: %s\n' "$base" "$c" \
			"$T/token"
		printf '    metrics: [2s, 4s]\n'
	done
} >"$CFG"
start_smmd
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"
start_cluster_node b
wait_for "[ \"\$(node_role '$T/sock_b')\" = worker ]" 15 ||
	fail "b is no worker: $(tail -n 5 "$T/b.log")"
wait_for "[ \"\$(pg 'select count(*) from smmd_channel_owner o join smmd_node n
	on n.node_id = o.node_id and n.epoch = o.epoch where n.worker')\" = 1 ]" 20 ||
	fail "b owns no channel: $(pg 'table smmd_channel_owner')"
b_chan=$(pg "select o.channel from smmd_channel_owner o join smmd_node n on
	n.node_id = o.node_id and n.epoch = o.epoch where n.worker")
log "b fires $b_chan"

smmctl add -c m1 --id p1 'first' >/dev/null
smmctl add -c m2 --id p2 'second' >/dev/null
wait_state p1/m1 published 10
wait_state p2/m2 published 10
samples() { delivery_json "$1" | jq -c '.engagement // []'; }
for id in p1/m1 p2/m2; do
	wait_for "[ \"\$(samples $id | jq length)\" -ge 2 ]" 20 ||
		fail "$id has samples $(samples "$id") (b fires $b_chan)"
done
jq_true '.[0].age_s == 2 and .[0].likes == 3 and .[1].likes == 5' \
	<<<"$(samples p1/m1)" || fail "p1/m1: $(samples p1/m1)"
jq_true '.[0].age_s == 2 and .[0].likes == 7 and .[1].likes == 9' \
	<<<"$(samples p2/m2)" || fail "p2/m2: $(samples p2/m2)"
sleep 3 # a read by a second node would come by now
for c in m1 m2; do
	n=$(sink_requests | jq -s --arg p "/$c/api/v1/statuses/" \
		'[.[] | select((.path | startswith($p)) and
		.method == "GET")] | length')
	[ "$n" = 2 ] || fail "$c's statuses were read $n times, not twice"
done
# The worker published the post on its channel, and planned its samples.
b_post=p1
[ "$b_chan" = m1 ] || b_post=p2
grep -q "publish: post '$b_post' channel '$b_chan'.*outcome=published" "$T/b.log" ||
	fail "b did not publish $b_post on $b_chan: $(tail -n 5 "$T/b.log")"
log "ok"
