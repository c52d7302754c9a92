#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
# Upgrading a store: a database left by an smmd at schema 5 is brought to
# the current schema ($SCHEMA) on start (migration 6 rebuilds "deliveries" for
# its CHECK; 7 adds the table of counts a clean stop keeps; 8 Plan B's
# pauses, audit trail and held deliveries' columns; 9 rebuilds it again
# for the draft state and approvals' columns; 10 indexes moved deliveries;
# 11 keeps what stats reads in one covering index; 12 adds engagement's
# columns and tables)
# without losing a row or a field: every delivery keeps its state, attempts,
# errors and remote URL; the rebuilt CHECK still refuses a state nobody
# knows; the indexes are back; a delivery the old store had scheduled goes
# out once, with the webhook-id it was given. A second start changes
# nothing.
#
# The schema-5 store is built here with the sqlite3 tool, from the SQL of
# migrations 1 to 5 as daemon/store_sqlite.c has them (INDEX_PENDING and INDEX_DUE
# expanded), each applied the way smmd applies it: in its own transaction
# with PRAGMA user_version. Those entries are never edited once released,
# so this copy stays right; a fresh store from today's smmd would only test
# migrations 6 to 9 on an empty table.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# The schema smmd makes now: bump it with each migration.
SCHEMA=15

command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"

start_sink
write_config demo shop
# write_config puts the state directory here; smmd opens smmd.db in it.
STATE=$T/state
DB=$STATE/smmd.db
mkdir -m 0750 "$STATE"

# sqlite3 on the store, stopping at the first error. -readonly for what
# only looks: it may run next to smmd (WAL lets a reader in).
sql() {
	sqlite3 -batch -bail -cmd '.timeout 5000' "$@"
}
sql_ro() {
	sql -readonly "$DB" "$@"
}

# ---- A schema-5 store, by hand --------------------------------------------

# As smmd opens it: WAL first; foreign keys off while tables are rebuilt.
mode=$(sql "$DB" 'PRAGMA journal_mode = WAL')
[ "$mode" = wal ] || fail "sqlite3 could not put the store in WAL mode: $mode"
sql "$DB" <<'EOF' || fail "migrations 1 to 5 failed on an empty store"
PRAGMA foreign_keys = OFF;

BEGIN;
CREATE TABLE posts (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  text TEXT NOT NULL,
  link TEXT,
  campaign TEXT,
  media TEXT NOT NULL DEFAULT '[]',
  created_ms INTEGER NOT NULL
);
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  post_id TEXT NOT NULL REFERENCES posts(id),
  channel TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'publishing',
    'retry_wait', 'published', 'failed', 'cancelled')),
  due_ms INTEGER NOT NULL,
  next_ms INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX deliveries_post ON deliveries(post_id);
CREATE INDEX deliveries_state_due ON deliveries(state, due_ms);
CREATE TABLE attempts (
  delivery_id TEXT NOT NULL REFERENCES deliveries(id),
  n INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER,
  http_status INTEGER,
  error TEXT,
  latency_ms REAL,
  PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;
PRAGMA user_version = 1;
COMMIT;

BEGIN;
CREATE TABLE deliveries_v2 (
  id TEXT PRIMARY KEY,
  post_id TEXT NOT NULL REFERENCES posts(id),
  channel TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'publishing',
    'retry_wait', 'published', 'failed', 'cancelled', 'unknown',
    'held', 'skipped', 'missed')),
  due_ms INTEGER NOT NULL,
  next_ms INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  updated_ms INTEGER NOT NULL,
  remote_id TEXT,
  remote_url TEXT
);
INSERT INTO deliveries_v2 (id, post_id, channel, webhook_id, state,
  due_ms, next_ms, attempts, last_status, last_error, updated_ms)
  SELECT id, post_id, channel, webhook_id, state, due_ms, next_ms,
  attempts, last_status, last_error, updated_ms FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE INDEX deliveries_post ON deliveries(post_id);
CREATE INDEX deliveries_state_due ON deliveries(state, due_ms);
PRAGMA user_version = 2;
COMMIT;

BEGIN;
DROP INDEX deliveries_state_due;CREATE INDEX deliveries_pending ON deliveries(due_ms)  WHERE state IN ('scheduled', 'retry_wait');
PRAGMA user_version = 3;
COMMIT;

BEGIN;
ALTER TABLE deliveries ADD COLUMN text TEXT;
ALTER TABLE deliveries ADD COLUMN link TEXT;
ALTER TABLE deliveries ADD COLUMN media TEXT;
ALTER TABLE deliveries ADD COLUMN hash INTEGER;
CREATE INDEX posts_source ON posts(source);
PRAGMA user_version = 4;
COMMIT;

BEGIN;
CREATE INDEX deliveries_due ON deliveries(due_ms);
PRAGMA user_version = 5;
COMMIT;
EOF

# What an smmd of schema 5 would have left: ad hoc and calendar posts,
# deliveries in every state it can stop in (not "publishing": start-up
# recovery rewrites that one on purpose), the attempts behind them.
now=$(now_ms)
HOUR=3600000
DAY=86400000
# Due after start-up: it must go out once smmd runs on the new schema.
due_sched=$((now + 4000))
# Far off: stays retry_wait for the whole test.
next_retry=$((now + DAY))
MSG_SCHED=msg_0KNB2V8H1Q7RZ4MX
MSG_PUB=msg_0KN9ZW4C3D5EFGH2
RID_PUB=113456789012345678
URL_PUB=https://social.example/@ovillo/113456789012345678
E_503='HTTP 503: upstream busy'
E_400='HTTP 400: {"error":"bad"}'
E_UNK='interrupted: smmd stopped while the request was in flight; the endpoint cannot drop a repeat, so it was not re-sent: check the channel, then smmctl retry or resolve'
E_MISSED="due at $(ms_to_iso $((now - 2 * DAY))), found 2h late (smmd not running, or the machine asleep): more than catch_up (15m), not sent"
VARIANT='Merino Cloud, spun in Asturias: eight colours, out today.'
# 64-bit hashes, one negative: an INTEGER column must keep every bit.
HASH_SHOP=-7046029254386353131
HASH_DEMO=9223372036854775807

sql "$DB" <<EOF || fail "could not fill the schema-5 store"
BEGIN;
INSERT INTO posts (id, source, text, link, campaign, media, created_ms)
  VALUES
  ('mig-sched', 'adhoc', 'Merino Cloud is back in stock',
   'https://ovillo.example/merino', 'merino-cloud', '[]', $((now - HOUR))),
  ('mig-pub', 'adhoc', 'Open late on Thursday', NULL, NULL, '[]',
   $((now - DAY))),
  ('mig-fail', 'adhoc', 'Black Friday: 20% off all yarn',
   'https://ovillo.example/bf', 'black-friday',
   '["https://cdn.ovillo.example/bf.png"]', $((now - DAY))),
  ('mig-unk', 'adhoc', 'Knit-along starts Monday', NULL, 'tips', '[]',
   $((now - 3 * HOUR))),
  ('mig-retry', 'adhoc', 'New needles from Japan', NULL, NULL, '[]',
   $((now - 2 * HOUR))),
  ('merino-launch', 'calendar', 'Our merino is here.',
   'https://ovillo.example/merino', 'merino-cloud', '[]', $((now - 2 * DAY))),
  ('knit-tip-2026-11-05', 'calendar', 'Tip: block your swatch', NULL,
   'tips', '[]', $((now - 3 * DAY)));
INSERT INTO deliveries (id, post_id, channel, webhook_id, state, due_ms,
  next_ms, attempts, last_status, last_error, updated_ms, remote_id,
  remote_url, text, link, media, hash)
  VALUES
  ('mig-sched/demo', 'mig-sched', 'demo', '$MSG_SCHED', 'scheduled',
   $due_sched, NULL, 0, NULL, NULL, $((now - HOUR)), NULL, NULL,
   NULL, NULL, NULL, NULL),
  ('mig-pub/demo', 'mig-pub', 'demo', '$MSG_PUB', 'published',
   $((now - DAY + 60000)), NULL, 1, 200, NULL, $((now - DAY + 60042)),
   '$RID_PUB', '$URL_PUB', NULL, NULL, NULL, NULL),
  ('mig-fail/demo', 'mig-fail', 'demo', 'msg_0KN9ZW4C3D5EFGH3', 'failed',
   $((now - DAY + 60000)), NULL, 2, 400, '$E_400', $((now - DAY + 60300)),
   NULL, NULL, NULL, NULL, NULL, NULL),
  ('mig-unk/demo', 'mig-unk', 'demo', 'msg_0KNAQ1R2S3T4V5W6', 'unknown',
   $((now - 3 * HOUR)), NULL, 1, NULL, '$E_UNK', $((now - 2 * HOUR)),
   NULL, NULL, NULL, NULL, NULL, NULL),
  ('mig-retry/shop', 'mig-retry', 'shop', 'msg_0KNAX7Y8Z9A0B1C2',
   'retry_wait', $((now - HOUR)), $next_retry, 1, 503, '$E_503',
   $((now - HOUR + 30)), NULL, NULL, NULL, NULL, NULL, NULL),
  ('merino-launch/demo', 'merino-launch', 'demo', 'msg_0KN8M3N4P5Q6R7S8',
   'cancelled', $((now + 2 * DAY)), NULL, 0, NULL, NULL, $((now - DAY)),
   NULL, NULL, NULL, NULL, NULL, $HASH_DEMO),
  ('merino-launch/shop', 'merino-launch', 'shop', 'msg_0KN8M3N4P5Q6R7S9',
   'held', $((now + 2 * DAY)), NULL, 0, NULL, NULL, $((now - DAY)),
   NULL, NULL, '$VARIANT', 'https://ovillo.example/merino?utm=shop',
   '["https://cdn.ovillo.example/m.png"]', $HASH_SHOP),
  ('knit-tip-2026-11-05/demo', 'knit-tip-2026-11-05', 'demo',
   'msg_0KN7A1B2C3D4E5F6', 'missed', $((now - 2 * DAY)), NULL, 0, NULL,
   '$E_MISSED', $((now - 2 * DAY + 2 * HOUR)), NULL, NULL, NULL, NULL, NULL,
   12345),
  ('knit-tip-2026-11-05/shop', 'knit-tip-2026-11-05', 'shop',
   'msg_0KN7A1B2C3D4E5F7', 'skipped', $((now - 2 * DAY)), NULL, 0, NULL,
   NULL, $((now - 3 * DAY)), NULL, NULL, NULL, NULL, NULL, 12345);
INSERT INTO attempts (delivery_id, n, started_ms, finished_ms, http_status,
  error, latency_ms)
  VALUES
  ('mig-pub/demo', 1, $((now - DAY + 60000)), $((now - DAY + 60042)), 200,
   NULL, 41.5),
  ('mig-fail/demo', 1, $((now - DAY + 60000)), $((now - DAY + 60012)), 503,
   '$E_503', 12.25),
  ('mig-fail/demo', 2, $((now - DAY + 60290)), $((now - DAY + 60300)), 400,
   '$E_400', 8.0),
  ('mig-unk/demo', 1, $((now - 3 * HOUR)), $((now - 2 * HOUR)), NULL,
   '$E_UNK', NULL),
  ('mig-retry/shop', 1, $((now - HOUR)), $((now - HOUR + 30)), 503,
   '$E_503', 30.0);
COMMIT;
EOF

# The fixture is what it claims: schema 5, the IN-list CHECK.
[ "$(sql_ro 'PRAGMA user_version')" = 5 ] || fail "the hand-made store is not at schema 5"
sql_ro "SELECT sql FROM sqlite_master WHERE name = 'deliveries'" |
	grep -q "CHECK (state IN ('scheduled'" ||
	fail "the hand-made deliveries table lacks migration 2's CHECK"

# Every row, every column, typed (quote mode tells 200 from '200' and
# 8.0 from 8), in a stable order: what "nothing lost" is checked against.
snapshot() {
	sql -readonly -quote "$DB" <<'EOF'
SELECT 'post', id, source, text, link, campaign, media, created_ms
  FROM posts ORDER BY id;
SELECT 'delivery', id, post_id, channel, webhook_id, state, due_ms, next_ms,
  attempts, last_status, last_error, updated_ms, remote_id, remote_url,
  text, link, media, hash FROM deliveries ORDER BY id;
SELECT 'attempt', delivery_id, n, started_ms, finished_ms, http_status,
  error, latency_ms FROM attempts ORDER BY delivery_id, n;
EOF
}
snapshot >"$T/before.txt"
[ "$(grep -c "^'delivery'" "$T/before.txt")" -eq 9 ] ||
	fail "the fixture has $(grep -c "^'delivery'" "$T/before.txt") deliveries, not 9"

# ---- First start: the upgrade ---------------------------------------------

start_smmd
# Read next to the running daemon: the upgrade is committed before it
# answers its socket.
v=$(sql_ro 'PRAGMA user_version')
[ "$v" = "$SCHEMA" ] || fail "schema version is '$v' after start, not $SCHEMA"

wait_state mig-sched/demo published 20

# What the daemon reads back: each delivery as smmctl lists it.
expected=$(jq -n -c \
	--arg e503 "$E_503" --arg e400 "$E_400" --arg eunk "$E_UNK" \
	--arg emissed "$E_MISSED" --arg rid "$RID_PUB" --arg url "$URL_PUB" \
	--arg next "$(ms_to_iso "$next_retry")" \
	--arg due "$(ms_to_iso "$due_sched")" '
	def d($id; $state; $n; $status; $err):
		{id: $id, state: $state, attempts: $n, last_status: $status,
		 last_error: $err, remote_id: null, remote_url: null,
		 next_attempt: null};
	[d("mig-sched/demo"; "published"; 1; 200; null) + {due: $due},
	 d("mig-pub/demo"; "published"; 1; 200; null)
		+ {remote_id: $rid, remote_url: $url},
	 d("mig-fail/demo"; "failed"; 2; 400; $e400),
	 d("mig-unk/demo"; "unknown"; 1; null; $eunk),
	 d("mig-retry/shop"; "retry_wait"; 1; 503; $e503)
		+ {next_attempt: $next},
	 d("merino-launch/demo"; "cancelled"; 0; null; null),
	 d("merino-launch/shop"; "held"; 0; null; null),
	 d("knit-tip-2026-11-05/demo"; "missed"; 0; null; $emissed),
	 d("knit-tip-2026-11-05/shop"; "skipped"; 0; null; null)]
	| sort_by(.id)')
actual=$(list_json | jq -c '
	map({id, state, attempts, last_status, last_error, remote_id,
	     remote_url, next_attempt}
	    + (if .id == "mig-sched/demo" then {due} else {} end))
	| sort_by(.id)')
[ "$actual" = "$expected" ] ||
	fail "smmctl list after the upgrade differs:
  expected $expected
  actual   $actual"

# Posts and attempts, through show: the joined rows survived too.
show_json mig-fail | jq_true --arg e503 "$E_503" --arg e400 "$E_400" '
	.post.source == "adhoc" and .post.link == "https://ovillo.example/bf"
	and .post.campaign == "black-friday"
	and .post.media == ["https://cdn.ovillo.example/bf.png"]
	and ([.deliveries[0].attempts[] | [.n, .http_status, .error, .latency_ms]]
	     == [[1, 503, $e503, 12.25], [2, 400, $e400, 8]])' ||
	fail "mig-fail lost post fields or attempts: $(show_json mig-fail)"
show_json mig-unk | jq_true --arg eunk "$E_UNK" '
	[.deliveries[0].attempts[] | [.n, .http_status, .error, .latency_ms]]
	== [[1, null, $eunk, null]]' ||
	fail "mig-unk lost its attempt: $(show_json mig-unk)"
show_json mig-pub | jq_true --arg msg "$MSG_PUB" '
	.deliveries[0].webhook_id == $msg
	and ([.deliveries[0].attempts[] | [.n, .http_status]] == [[1, 200]])' ||
	fail "mig-pub lost its webhook id or attempt: $(show_json mig-pub)"
show_json merino-launch | jq_true --arg v "$VARIANT" '
	.post.source == "calendar" and (.deliveries | length) == 2
	and (.deliveries[] | select(.channel == "shop") | .text) == $v' ||
	fail "merino-launch lost its source or its shop variant: $(show_json merino-launch)"

# The scheduled delivery went out at its time, once, as the old store had
# it: same webhook-id, the post's fields, attempt 1.
sent=$(sink_posts_for mig-sched)
[ "$(jq length <<<"$sent")" -eq 1 ] ||
	fail "mig-sched reached the sink $(jq length <<<"$sent") times"
jq_true --arg msg "$MSG_SCHED" --arg due "$(ms_to_iso "$due_sched")" '
	.[0] | .headers["webhook-id"] == $msg and .post.channel == "demo"
	and .post.text == "Merino Cloud is back in stock"
	and .post.link == "https://ovillo.example/merino"
	and .post.campaign == "merino-cloud"
	and .post.scheduled_at == $due and .post.attempt == 1' <<<"$sent" ||
	fail "mig-sched was not sent as stored: $sent"
t=$(($(jq -r '.[0].t_us' <<<"$sent") / 1000))
[ "$t" -ge $((due_sched - 50)) ] || fail "mig-sched went out $((due_sched - t)) ms early"

stop_smmd
# Stopped: nothing more can reach the sink.
[ "$(sink_count mig-sched)" -eq 1 ] ||
	fail "mig-sched reached the sink $(sink_count mig-sched) times"
for id in mig-pub mig-fail mig-unk mig-retry merino-launch knit-tip-2026-11-05; do
	[ "$(sink_count "$id")" -eq 0 ] || fail "$id was sent after the upgrade"
done

# ---- The migrated store, at rest ------------------------------------------

[ "$(sql_ro 'PRAGMA user_version')" = "$SCHEMA" ] || fail "schema version is not $SCHEMA after stop"
[ "$(sql_ro 'PRAGMA integrity_check')" = ok ] || fail "integrity_check: $(sql_ro 'PRAGMA integrity_check')"
[ -z "$(sql_ro 'PRAGMA foreign_key_check')" ] ||
	fail "dangling references: $(sql_ro 'PRAGMA foreign_key_check')"

# Every row and column as it was, but the one delivery that went out.
snapshot >"$T/after1.txt"
diff <(grep -v "'mig-sched/demo'" "$T/before.txt") \
	<(grep -v "'mig-sched/demo'" "$T/after1.txt") >&2 ||
	fail "rows changed in the upgrade (diff above: < before, > after)"
row=$(sql_ro "SELECT webhook_id, state, due_ms, attempts, last_status
	FROM deliveries WHERE id = 'mig-sched/demo'")
[ "$row" = "$MSG_SCHED|published|$due_sched|1|200" ] ||
	fail "mig-sched/demo after delivery: $row"

# Migration 6 ran, not just the version number: the comparisons CHECK,
# no leftover table, and the indexes rebuilt (deliveries_state_due, gone
# since migration 3, stays gone).
sql_ro "SELECT sql FROM sqlite_master WHERE name = 'deliveries'" |
	grep -q "CHECK (state = 'scheduled' OR" ||
	fail "deliveries does not have migration 6's CHECK"
tables=$(sql_ro "SELECT group_concat(name, ' ') FROM (SELECT name
	FROM sqlite_master WHERE type = 'table' ORDER BY name)")
[ "$tables" = "attempts audience audit deliveries engage_stopped engagement pauses posts saved_counts" ] || fail "tables after the upgrade: $tables"
# The clean stop kept the counts for the next start: a recount's.
kept=$(sql_ro "SELECT group_concat(state || '=' || n, ' ') FROM
	(SELECT state, n FROM saved_counts ORDER BY state)")
recount=$(sql_ro "SELECT group_concat(state || '=' || n, ' ') FROM
	(SELECT state, count(*) AS n FROM deliveries GROUP BY state ORDER BY state)")
[ "$kept" = "$recount" ] || fail "the stop kept '$kept', a recount says '$recount'"
idx=$(sql_ro "SELECT group_concat(name, ' ') FROM (SELECT name
	FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'
	ORDER BY name)")
[ "$idx" = "audit_time deliveries_awaiting deliveries_held deliveries_metrics deliveries_moved deliveries_pending deliveries_post deliveries_stats pauses_active posts_source" ] ||
	fail "indexes after the upgrade: $idx"
# Migration 14: a pause keeps how it was resumed (none known before).
[ "$(sql_ro "SELECT count(*) FROM pragma_table_info('pauses')
	WHERE name = 'resumed_as'")" = 1 ] || fail "pauses has no resumed_as"
[ "$(sql_ro "SELECT count(*) FROM pauses WHERE resumed_as IS NOT NULL")" = 0 ] ||
	fail "a pause ended before the upgrade says how it was resumed"
sql_ro "SELECT sql FROM sqlite_master WHERE name = 'deliveries_pending'" |
	grep -q "WHERE (state = 'scheduled' OR state = 'retry_wait' OR state = 'draft')" ||
	fail "deliveries_pending is no longer partial"
# The pending scan at start-up still finds its index.
plan=$(sql_ro "EXPLAIN QUERY PLAN SELECT id FROM deliveries
	WHERE (state = 'scheduled' OR state = 'retry_wait' OR state = 'draft')
	AND due_ms < 0")
grep -q deliveries_pending <<<"$plan" || fail "deliveries_pending unused: $plan"
# Migration 11: stats read one covering index, no table row; each
# delivery has its post's campaign (kept so by a trigger), and a published
# one the start of its last attempt.
plan=$(sql_ro "EXPLAIN QUERY PLAN SELECT due_ms, state, channel, campaign,
	attempts, late_ms, last_error FROM deliveries
	WHERE due_ms >= 0 AND due_ms < 1")
grep -q "COVERING INDEX deliveries_stats" <<<"$plan" ||
	fail "stats do not read a covering index: $plan"
# Migration 15: the same columns, channel last (a burst's entries together).
cols=$(sql_ro "SELECT group_concat(name, ',') FROM (SELECT name FROM
	pragma_index_info('deliveries_stats') ORDER BY seqno)")
[ "$cols" = "due_ms,state,attempts,campaign,late_ms,last_error,channel" ] ||
	fail "deliveries_stats has columns $cols"
[ "$(sql_ro "SELECT count(*) FROM deliveries d JOIN posts p ON
	p.id = d.post_id WHERE d.campaign IS NOT p.campaign")" = 0 ] ||
	fail "a delivery's campaign differs from its post's"
[ "$(sql_ro "SELECT count(*) FROM deliveries d JOIN attempts a ON
	a.delivery_id = d.id AND a.n = d.attempts WHERE d.state = 'published'
	AND d.published_ms IS NOT a.started_ms")" = 0 ] ||
	fail "published_ms is not the start of the publishing attempt"
[ "$(sql_ro "SELECT count(*) FROM deliveries WHERE state = 'published'
	AND published_ms IS NOT NULL AND late_ms = published_ms - due_ms")" = 2 ] ||
	fail "published_ms missing: $(sql_ro "SELECT id, published_ms FROM deliveries")"
# So does the blackout sweep's, for what goes at another time than due.
plan=$(sql_ro "EXPLAIN QUERY PLAN SELECT d.id FROM deliveries d JOIN posts p
	ON p.id = d.post_id WHERE (d.state = 'scheduled' OR d.state = 'draft')
	AND d.next_ms IS NOT NULL")
grep -q deliveries_moved <<<"$plan" || fail "deliveries_moved unused: $plan"

# The CHECK, on a copy (the store itself stays as smmd left it): each of
# the eleven states is accepted, anything else refused, case included.
COPY=$T/copy.db
sql_ro ".backup '$COPY'"
for s in scheduled publishing retry_wait published failed cancelled \
	unknown held skipped missed draft; do
	n=$(sql "$COPY" "UPDATE deliveries SET state = '$s'
		WHERE id = 'mig-pub/demo'; SELECT changes()") ||
		fail "the migrated CHECK refuses state '$s'"
	[ "$n" = 1 ] || fail "UPDATE to '$s' changed $n rows"
done
for s in bogus Scheduled ''; do
	if out=$(sql "$COPY" "UPDATE deliveries SET state = '$s'
		WHERE id = 'mig-pub/demo'" 2>&1); then
		fail "the migrated CHECK let an UPDATE to state '$s' through"
	fi
	grep -q "CHECK constraint failed" <<<"$out" ||
		fail "UPDATE to '$s' failed, but not on the CHECK: $out"
done
if out=$(sql "$COPY" "INSERT INTO deliveries (id, post_id, channel,
	webhook_id, state, due_ms, updated_ms) VALUES ('mig-pub/shop',
	'mig-pub', 'shop', 'msg_x', 'bogus', 0, 0)" 2>&1); then
	fail "the migrated CHECK let an INSERT with state 'bogus' through"
fi
grep -q "CHECK constraint failed" <<<"$out" ||
	fail "the INSERT failed, but not on the CHECK: $out"
# The same INSERT with a real state goes in: only the state was wrong.
sql "$COPY" "INSERT INTO deliveries (id, post_id, channel, webhook_id,
	state, due_ms, updated_ms) VALUES ('mig-pub/shop', 'mig-pub', 'shop',
	'msg_x', 'scheduled', 0, 0)" || fail "a valid INSERT failed on the copy"
# A post's new campaign reaches its deliveries (migration 11's trigger).
sql "$COPY" "UPDATE posts SET campaign = 'renamed' WHERE id = 'mig-pub'"
[ "$(sql "$COPY" "SELECT count(*) FROM deliveries WHERE post_id = 'mig-pub'
	AND campaign IS NOT 'renamed'")" = 0 ] ||
	fail "the trigger did not carry a post's campaign to its deliveries"

# ---- Second start: nothing left to do -------------------------------------

schema1=$(sql_ro .schema)
start_smmd
[ "$(sql_ro 'PRAGMA user_version')" = "$SCHEMA" ] || fail "schema version changed on the second start"
smmctl status --json | jq_true '.counts.published == 2 and .counts.failed == 1
	and .counts.retry_wait == 1 and .counts.cancelled == 1
	and .counts.scheduled == 0' ||
	fail "counts after the second start: $(smmctl status --json)"
stop_smmd
[ "$(sql_ro 'PRAGMA user_version')" = "$SCHEMA" ] || fail "schema version is not $SCHEMA after the second run"
[ "$(sql_ro .schema)" = "$schema1" ] || fail "the second start changed the schema"
snapshot >"$T/after2.txt"
diff "$T/after1.txt" "$T/after2.txt" >&2 ||
	fail "the second start changed rows (diff above)"
[ "$(sink_count mig-sched)" -eq 1 ] || fail "the second start sent mig-sched again"

# Neither start logged an error.
if grep -E '^[^ ]+ error ' "$T/smmd.log" >&2; then
	fail "smmd logged errors (above)"
fi
log "ok"
