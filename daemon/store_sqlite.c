/*
 * The SQLite backend: one database file (WAL) in a directory, opened by
 * the loop's connection through store_wal.c's VFS. Writes of a loop turn
 * share one transaction, committed without a sync; store_wal.c makes the
 * batches durable and checkpoints off the loop and argues why that is
 * crash-safe. Everything SQLite-specific (migrations, statements, sync
 * levels, bulk indexes, checkpoints) stays in this file and store_wal.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store_sqlite.h"
#include "postid.h"
#include "store_backend.h"
#include "store_wal.h"
#include "timeparse.h"

/*
 * What waits for its due time, as the pending index (migration 9) and the
 * query it serves spell it: SQLite uses a partial index only for a query
 * with the same term.
 */
#define PENDING_STATES \
	"(state = 'scheduled' OR state = 'retry_wait' OR state = 'draft')"

/*
 * The due-time index that also covers smmctl stats (migration 11, its
 * columns reordered by 15), as the migration and a bulk load spell it;
 * store_sqlite_stats.c reads these columns.
 */
#define STATS_INDEX "deliveries_stats"
/* Published by hand: when its last attempt started, if it had one. */
#define HAND_PUBLISHED                                                  \
	"SELECT a.started_ms FROM attempts a WHERE a.delivery_id = ?1 " \
	"AND a.n = deliveries.attempts"
/*
 * Migration 15's order. After due_ms and state, a burst's published
 * deliveries differ first in late_ms, which grows as it goes: the entries
 * one turn publishes sit side by side. channel, before it in migration
 * 11's order, spread them over a page per channel. (Those still waiting
 * or publishing have no late_ms and still sort by channel: the
 * dispatcher taking a few of a channel at a time, DISPATCH_QUANTUM,
 * keeps theirs together.) Stats read the columns, not the order, so
 * nothing else depends on it.
 */
#define STATS_INDEX_COLUMNS \
	"due_ms, state, attempts, campaign, late_ms, last_error, channel"

/*
 * Forward migrations: entry i brings the schema from version i to i + 1
 * (PRAGMA user_version). Never edit an entry once released; append.
 */
static const char *const migrations[] = {
        "CREATE TABLE posts ("
        "  id TEXT PRIMARY KEY,"
        "  source TEXT NOT NULL,"
        "  text TEXT NOT NULL,"
        "  link TEXT,"
        "  campaign TEXT,"
        "  media TEXT NOT NULL DEFAULT '[]',"
        "  created_ms INTEGER NOT NULL"
        ");"
        "CREATE TABLE deliveries ("
        "  id TEXT PRIMARY KEY,"
        "  post_id TEXT NOT NULL REFERENCES posts(id),"
        "  channel TEXT NOT NULL,"
        "  webhook_id TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('scheduled', 'publishing',"
        "    'retry_wait', 'published', 'failed', 'cancelled')),"
        "  due_ms INTEGER NOT NULL,"
        "  next_ms INTEGER,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_status INTEGER,"
        "  last_error TEXT,"
        "  updated_ms INTEGER NOT NULL"
        ");"
        "CREATE INDEX deliveries_post ON deliveries(post_id);"
        "CREATE INDEX deliveries_state_due ON deliveries(state, due_ms);"
        "CREATE TABLE attempts ("
        "  delivery_id TEXT NOT NULL REFERENCES deliveries(id),"
        "  n INTEGER NOT NULL,"
        "  started_ms INTEGER NOT NULL,"
        "  finished_ms INTEGER,"
        "  http_status INTEGER,"
        "  error TEXT,"
        "  latency_ms REAL,"
        "  PRIMARY KEY (delivery_id, n)"
        ") WITHOUT ROWID;",

        /*
         * 2: the network's post id and URL; states for outcomes nobody knows
         * (unknown), pausing (held, skipped) and downtime (missed). SQLite
         * can't alter a CHECK: rebuild the table (foreign keys are off
         * during migrations).
         */
        "CREATE TABLE deliveries_v2 ("
        "  id TEXT PRIMARY KEY,"
        "  post_id TEXT NOT NULL REFERENCES posts(id),"
        "  channel TEXT NOT NULL,"
        "  webhook_id TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('scheduled', 'publishing',"
        "    'retry_wait', 'published', 'failed', 'cancelled', 'unknown',"
        "    'held', 'skipped', 'missed')),"
        "  due_ms INTEGER NOT NULL,"
        "  next_ms INTEGER,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_status INTEGER,"
        "  last_error TEXT,"
        "  updated_ms INTEGER NOT NULL,"
        "  remote_id TEXT,"
        "  remote_url TEXT"
        ");"
        "INSERT INTO deliveries_v2 (id, post_id, channel, webhook_id, state,"
        "  due_ms, next_ms, attempts, last_status, last_error, updated_ms)"
        "  SELECT id, post_id, channel, webhook_id, state, due_ms, next_ms,"
        "  attempts, last_status, last_error, updated_ms FROM deliveries;"
        "DROP TABLE deliveries;"
        "ALTER TABLE deliveries_v2 RENAME TO deliveries;"
        "CREATE INDEX deliveries_post ON deliveries(post_id);"
        "CREATE INDEX deliveries_state_due ON deliveries(state, due_ms);",

        /*
         * 3: index only what is pending. An index on (state, due_ms) is
         * rewritten on every state change, twice per delivery; this one is
         * touched once, when a delivery stops waiting.
         */
        "DROP INDEX deliveries_state_due;"
        "CREATE INDEX deliveries_pending ON deliveries(due_ms)"
        "  WHERE state IN ('scheduled', 'retry_wait');",

        /*
         * 4: the content calendar. A calendar post's channels may each get
         * their own words (variants): a delivery can carry its own text,
         * link and media over its post's; hash is what the calendar asked
         * for last, so a reload finds what changed without comparing text.
         */
        "ALTER TABLE deliveries ADD COLUMN text TEXT;"
        "ALTER TABLE deliveries ADD COLUMN link TEXT;"
        "ALTER TABLE deliveries ADD COLUMN media TEXT;"
        "ALTER TABLE deliveries ADD COLUMN hash INTEGER;"
        "CREATE INDEX posts_source ON posts(source);",

        /*
         * 5: the agenda reads a range of due times in every state. A plain
         * index on due_ms is written when a delivery is added or moved,
         * never on a state change (the cost 3 avoided).
         */
        "CREATE INDEX deliveries_due ON deliveries(due_ms);",

        /*
         * 6: SQLite builds a temporary B-tree for an IN list of more than
         * two constants, on every execution: migration 2's CHECK did that
         * on every insert and state change. The same rule as plain
         * comparisons costs nothing. A CHECK can't be altered: rebuild.
         */
        "CREATE TABLE deliveries_v6 ("
        "  id TEXT PRIMARY KEY,"
        "  post_id TEXT NOT NULL REFERENCES posts(id),"
        "  channel TEXT NOT NULL,"
        "  webhook_id TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK (state = 'scheduled' OR"
        "    state = 'publishing' OR state = 'retry_wait' OR"
        "    state = 'published' OR state = 'failed' OR"
        "    state = 'cancelled' OR state = 'unknown' OR state = 'held' OR"
        "    state = 'skipped' OR state = 'missed'),"
        "  due_ms INTEGER NOT NULL,"
        "  next_ms INTEGER,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_status INTEGER,"
        "  last_error TEXT,"
        "  updated_ms INTEGER NOT NULL,"
        "  remote_id TEXT,"
        "  remote_url TEXT,"
        "  text TEXT,"
        "  link TEXT,"
        "  media TEXT,"
        "  hash INTEGER"
        ");"
        "INSERT INTO deliveries_v6 SELECT id, post_id, channel, webhook_id,"
        "  state, due_ms, next_ms, attempts, last_status, last_error,"
        "  updated_ms, remote_id, remote_url, text, link, media, hash"
        "  FROM deliveries;"
        "DROP TABLE deliveries;"
        "ALTER TABLE deliveries_v6 RENAME TO deliveries;"
        "CREATE INDEX deliveries_post ON deliveries(post_id);"
        "CREATE INDEX deliveries_pending ON deliveries(due_ms)"
        "  WHERE state IN ('scheduled', 'retry_wait');"
        "CREATE INDEX deliveries_due ON deliveries(due_ms);",
        /*
         * 7: the per-state counts a clean close leaves for the next open
         * (sq_keep_counts). A later migration that changes deliveries'
         * states must empty it.
         */
        "CREATE TABLE saved_counts ("
        "  state TEXT PRIMARY KEY,"
        "  n INTEGER NOT NULL"
        ") WITHOUT ROWID;",

        /*
         * 8: Plan B. A held delivery names the pause holding it (the
         * partial index keeps counting and listing them cheap: only held
         * rows are in it); a delivery released by hand passes every pause.
         * Pauses and the audit trail are only ever appended to, and a pause
         * only ever ended: nothing of an incident is rewritten.
         */
        "ALTER TABLE deliveries ADD COLUMN held_by INTEGER;"
        "ALTER TABLE deliveries ADD COLUMN pass_pause INTEGER NOT NULL "
        "  DEFAULT 0;"
        "CREATE INDEX deliveries_held ON deliveries(held_by, due_ms)"
        "  WHERE state = 'held';"
        "CREATE TABLE pauses ("
        "  id INTEGER PRIMARY KEY,"
        "  kind TEXT NOT NULL CHECK (kind = 'all' OR kind = 'channel' OR"
        "    kind = 'campaign'),"
        "  scope TEXT NOT NULL,"
        "  since_ms INTEGER NOT NULL,"
        "  until_ms INTEGER,"
        "  uid INTEGER,"
        "  user TEXT,"
        "  reason TEXT,"
        "  scenario TEXT,"
        "  ended_ms INTEGER"
        ");"
        "CREATE UNIQUE INDEX pauses_active ON pauses(kind, scope)"
        "  WHERE ended_ms IS NULL;"
        "CREATE TABLE audit ("
        "  id INTEGER PRIMARY KEY,"
        "  time_ms INTEGER NOT NULL,"
        "  uid INTEGER,"
        "  user TEXT,"
        "  action TEXT NOT NULL,"
        "  scope TEXT,"
        "  reason TEXT,"
        "  detail TEXT"
        ");"
        "CREATE INDEX audit_time ON audit(time_ms);",

        /*
         * 9: approvals. A delivery whose channel requires approval is
         * stored as a draft, and who approved it and when are kept. A
         * draft waits for its due time like a scheduled delivery (the gate
         * holds it then), so the pending index takes it in; its CHECK is
         * plain comparisons, for migration 6's reason. A CHECK can't be
         * altered: rebuild. No state changes, so saved_counts stands.
         */
        "CREATE TABLE deliveries_v9 ("
        "  id TEXT PRIMARY KEY,"
        "  post_id TEXT NOT NULL REFERENCES posts(id),"
        "  channel TEXT NOT NULL,"
        "  webhook_id TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK (state = 'scheduled' OR"
        "    state = 'publishing' OR state = 'retry_wait' OR"
        "    state = 'published' OR state = 'failed' OR"
        "    state = 'cancelled' OR state = 'unknown' OR state = 'held' OR"
        "    state = 'skipped' OR state = 'missed' OR state = 'draft'),"
        "  due_ms INTEGER NOT NULL,"
        "  next_ms INTEGER,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  last_status INTEGER,"
        "  last_error TEXT,"
        "  updated_ms INTEGER NOT NULL,"
        "  remote_id TEXT,"
        "  remote_url TEXT,"
        "  text TEXT,"
        "  link TEXT,"
        "  media TEXT,"
        "  hash INTEGER,"
        "  held_by INTEGER,"
        "  pass_pause INTEGER NOT NULL DEFAULT 0,"
        "  needs_approval INTEGER NOT NULL DEFAULT 0,"
        "  approved_ms INTEGER,"
        "  approved_by_uid INTEGER,"
        "  approved_by_user TEXT"
        ");"
        "INSERT INTO deliveries_v9 (id, post_id, channel, webhook_id, state,"
        "  due_ms, next_ms, attempts, last_status, last_error, updated_ms,"
        "  remote_id, remote_url, text, link, media, hash, held_by,"
        "  pass_pause) SELECT id, post_id, channel, webhook_id, state,"
        "  due_ms, next_ms, attempts, last_status, last_error, updated_ms,"
        "  remote_id, remote_url, text, link, media, hash, held_by,"
        "  pass_pause FROM deliveries;"
        "DROP TABLE deliveries;"
        "ALTER TABLE deliveries_v9 RENAME TO deliveries;"
        "CREATE INDEX deliveries_post ON deliveries(post_id);"
        "CREATE INDEX deliveries_pending ON deliveries(due_ms)"
        "  WHERE " PENDING_STATES ";"
        "CREATE INDEX deliveries_due ON deliveries(due_ms);"
        "CREATE INDEX deliveries_held ON deliveries(held_by, due_ms)"
        "  WHERE state = 'held';"
        "CREATE INDEX deliveries_awaiting ON deliveries(due_ms)"
        "  WHERE needs_approval = 1 AND approved_ms IS NULL;",

        /*
         * 10: what goes at another time than it is due (shifted past a
         * blackout, released), so that a reload's blackout sweep with no
         * blackouts left finds those few without reading every delivery.
         * In parentheses: one statement in two literals (clang asks).
         */
        ("CREATE INDEX deliveries_moved ON deliveries(next_ms)"
         "  WHERE next_ms IS NOT NULL;"),

        /*
         * 11: smmctl stats, answered from one index. A delivery keeps when
         * its publishing attempt started (published_ms: the moment the
         * request left), when it was meant to go (meant_ms, set at its
         * first attempt: the time a blackout shifted it to or a release
         * gave it, else NULL for its due time), the difference (late_ms,
         * computed once when it is published rather than on every stats
         * call), and a copy of its post's campaign, kept by a trigger, so
         * that the covering index below holds every column stats reads
         * and no row is visited. That
         * index is written on state changes, which migration 3 avoided
         * for the pending index: the price of stats without a scan. Its
         * first column is due_ms, so it serves every query the plain
         * due-time index of migration 5 served: that one goes.
         */
        ("ALTER TABLE deliveries ADD COLUMN campaign TEXT;"
         "ALTER TABLE deliveries ADD COLUMN meant_ms INTEGER;"
         "ALTER TABLE deliveries ADD COLUMN published_ms INTEGER;"
         "ALTER TABLE deliveries ADD COLUMN late_ms INTEGER;"
         "UPDATE deliveries SET campaign = (SELECT p.campaign FROM posts p"
         "  WHERE p.id = deliveries.post_id);"
         "UPDATE deliveries SET published_ms = (SELECT a.started_ms FROM"
         "  attempts a WHERE a.delivery_id = deliveries.id AND"
         "  a.n = deliveries.attempts) WHERE state = 'published';"
         "UPDATE deliveries SET late_ms = published_ms - due_ms"
         "  WHERE published_ms IS NOT NULL;"
         "CREATE TRIGGER posts_campaign AFTER UPDATE OF campaign ON posts"
         "  WHEN old.campaign IS NOT new.campaign BEGIN"
         "  UPDATE deliveries SET campaign = new.campaign"
         "  WHERE post_id = new.id; END;"
         "DROP INDEX deliveries_due;"
         "CREATE INDEX " STATS_INDEX " ON deliveries(due_ms, state,"
         "  channel, campaign, attempts, late_ms, last_error);"),

        /*
         * 12: engagement read back from the networks. Each published
         * delivery says when its next sample is due (NULL: none), indexed
         * per channel for the fetcher; every sample is kept, a figure the
         * network does not give stored as NULL, never 0.
         */
        "ALTER TABLE deliveries ADD COLUMN metrics_age_ms INTEGER;"
        "ALTER TABLE deliveries ADD COLUMN metrics_next_ms INTEGER;"
        "CREATE INDEX deliveries_metrics ON deliveries(channel,"
        "  metrics_next_ms) WHERE metrics_next_ms IS NOT NULL;"
        "CREATE TABLE engagement ("
        "  delivery_id TEXT NOT NULL REFERENCES deliveries(id),"
        "  age_ms INTEGER NOT NULL,"
        "  taken_ms INTEGER NOT NULL,"
        "  likes INTEGER, shares INTEGER, comments INTEGER,"
        "  quotes INTEGER, views INTEGER,"
        "  PRIMARY KEY (delivery_id, age_ms)"
        ") WITHOUT ROWID;"
        "CREATE TABLE audience ("
        "  channel TEXT NOT NULL,"
        "  taken_ms INTEGER NOT NULL,"
        "  followers INTEGER NOT NULL,"
        "  PRIMARY KEY (channel, taken_ms)"
        ") WITHOUT ROWID;"
        "CREATE TABLE engage_stopped ("
        "  channel TEXT PRIMARY KEY,"
        "  since_ms INTEGER NOT NULL,"
        "  reason TEXT NOT NULL"
        ");",

        /*
         * 13: a channel whose credentials the network refused is held by
         * a pause of its own kind, 'auth', which only `smmctl auth` ends.
         * A CHECK can't be altered: rebuild (nothing refers to pauses).
         */
        "CREATE TABLE pauses_v13 ("
        "  id INTEGER PRIMARY KEY,"
        "  kind TEXT NOT NULL CHECK (kind = 'all' OR kind = 'channel' OR"
        "    kind = 'campaign' OR kind = 'auth'),"
        "  scope TEXT NOT NULL,"
        "  since_ms INTEGER NOT NULL,"
        "  until_ms INTEGER,"
        "  uid INTEGER,"
        "  user TEXT,"
        "  reason TEXT,"
        "  scenario TEXT,"
        "  ended_ms INTEGER"
        ");"
        "INSERT INTO pauses_v13 SELECT id, kind, scope, since_ms, until_ms,"
        "  uid, user, reason, scenario, ended_ms FROM pauses;"
        "DROP TABLE pauses;"
        "ALTER TABLE pauses_v13 RENAME TO pauses;"
        "CREATE UNIQUE INDEX pauses_active ON pauses(kind, scope)"
        "  WHERE ended_ms IS NULL;",

        /*
         * 14: how a pause was resumed ('auto', 'publish', 'skip' or
         * 'review'), kept: what another node held under it after the
         * resume listed its holds is settled the same way, whenever the
         * working node learns of it (pause_followed). NULL for a pause
         * still on, or ended before this version.
         */
        "ALTER TABLE pauses ADD COLUMN resumed_as TEXT;",

        /*
         * 15: the stats index's columns in an order that keeps a turn's
         * writes to it on few pages (STATS_INDEX_COLUMNS says why): a
         * burst over 100 channels cost the store a quarter more CPU a
         * delivery with migration 11's.
         */
        "DROP INDEX " STATS_INDEX ";"
        "CREATE INDEX " STATS_INDEX " ON deliveries(" STATS_INDEX_COLUMNS ");",
};
#define SCHEMA_VERSION (sizeof(migrations) / sizeof(migrations[0]))

/* What a calendar sync compares with the calendar (sq_calendar_rows). */
#define CAL_ROWS                                                       \
	"SELECT d.id, d.state, d.due_ms, d.hash, "                     \
	"d.state = 'cancelled' AND d.last_error = '" CAL_REMOVED "', " \
	"d.needs_approval, d.approved_ms IS NOT NULL "                 \
	"FROM deliveries d JOIN posts p ON p.id = d.post_id "          \
	"WHERE p.source = 'calendar'"

/* The first attempt fixes when it was meant to go (migration 11). */
#define MARK_PUBLISHING                                    \
	"UPDATE deliveries SET state = 'publishing', "     \
	"attempts = ?2, next_ms = NULL, updated_ms = ?3, " \
	"meant_ms = coalesce(meant_ms, next_ms, due_ms) "
#define RESULT                                                 \
	"UPDATE deliveries SET state = ?2, next_ms = ?3, "     \
	"last_status = ?4, last_error = ?5, updated_ms = ?6, " \
	"remote_id = coalesce(?7, remote_id), "                \
	"remote_url = coalesce(?8, remote_url), "              \
	"published_ms = CASE WHEN ?2 = 'published' THEN ?9 "   \
	"ELSE published_ms END, "                              \
	"late_ms = CASE WHEN ?2 = 'published' THEN "           \
	"?9 - coalesce(meant_ms, due_ms) ELSE late_ms END "
/*
 * The row delivery_load found (delivery_rec.row): a lookup by rowid,
 * not a search of the text key's index. The id must still match: a row
 * can move (a rowid is reused after a delete); then nothing changes and
 * the caller goes by the id.
 */
#define BY_ROW(param) "WHERE rowid = " param " AND id = ?1"

static const char *const stmt_sql[ST_COUNT] = {
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_POST_EXISTS] = "SELECT 1 FROM posts WHERE id = ?1",
        [ST_POST_INSERT] = "INSERT INTO posts (id, source, text, link, "
                           "campaign, media, created_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_DELIVERY_INSERT] =
                "INSERT INTO deliveries (id, post_id, channel, webhook_id, "
                "state, due_ms, updated_ms, needs_approval, campaign) "
                "VALUES (?1, ?2, ?3, ?4, CASE WHEN ?7 THEN 'draft' "
                "ELSE 'scheduled' END, ?5, ?6, ?7, ?8)",
        [ST_DELIVERY_LOAD] =
                "SELECT d.id, d.post_id, d.channel, d.webhook_id, d.state, "
                "d.due_ms, d.attempts, coalesce(d.text, p.text), "
                "coalesce(d.link, p.link), p.campaign, "
                "coalesce(d.media, p.media), p.source, d.pass_pause, "
                "d.needs_approval AND d.approved_ms IS NULL, "
                "coalesce(d.next_ms, d.due_ms), coalesce(d.held_by, 0), "
                "d.rowid "
                "FROM deliveries d JOIN posts p ON p.id = d.post_id "
                "WHERE d.id = ?1",
        [ST_MARK_PUBLISHING] = MARK_PUBLISHING "WHERE id = ?1",
        [ST_MARK_PUBLISHING_ROW] = MARK_PUBLISHING BY_ROW("?4"),
        [ST_ATTEMPT_FINISH] =
                "INSERT OR REPLACE INTO attempts (delivery_id, n, started_ms, "
                "finished_ms, http_status, error, latency_ms) "
                "VALUES (?1, ?2, ?7, ?3, ?4, ?5, ?6)",
        [ST_RESULT] = RESULT "WHERE id = ?1",
        [ST_RESULT_ROW] = RESULT BY_ROW("?10"),
        [ST_DELIVERY_STATE] = "SELECT state FROM deliveries WHERE id = ?1",
        [ST_POST_DELIVERIES] =
                "SELECT id, state FROM deliveries WHERE post_id = ?1 "
                "ORDER BY channel",
        /* A scheduled delivery has a next_ms once released from a hold. */
        [ST_PENDING] = "SELECT id, coalesce(next_ms, due_ms) "
                       "FROM deliveries WHERE " PENDING_STATES,
        [ST_COUNTS] = "SELECT state, count(*) FROM deliveries GROUP BY state",
        /* A slot is taken by a post that goes, or went, out then. */
        [ST_SLOT_TAKEN] =
                "SELECT id FROM deliveries WHERE due_ms = ?1 AND "
                "channel = ?2 AND state NOT IN ('cancelled', 'skipped', "
                "'missed', 'failed') LIMIT 1",
        /* The calendar's, prepared once: a first sync runs them 100,000s of
           times. */
        [ST_CAL_POST] =
                "INSERT INTO posts (id, source, text, link, campaign, media, "
                "created_ms) VALUES (?1, 'calendar', ?2, ?3, ?4, ?5, ?6) "
                "ON CONFLICT(id) DO UPDATE SET text = excluded.text, "
                "link = excluded.link, campaign = excluded.campaign, "
                "media = excluded.media WHERE source = 'calendar'",
        [ST_CAL_ADD] =
                "INSERT INTO deliveries (id, post_id, channel, webhook_id, "
                "state, due_ms, updated_ms, text, link, media, hash, "
                "last_error, needs_approval, campaign) VALUES (?1, ?2, ?3, "
                "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                "ON CONFLICT(id) DO NOTHING",
        [ST_CAL_ROW] = CAL_ROWS " AND d.id = ?1",
        [ST_CAL_UPDATE] =
                "UPDATE deliveries SET due_ms = ?2, text = ?3, link = ?4, "
                "media = ?5, hash = ?6, updated_ms = ?7, "
                "state = CASE WHEN ?8 THEN ?9 ELSE state END, "
                "next_ms = CASE WHEN ?8 THEN NULL ELSE next_ms END, "
                "meant_ms = CASE WHEN ?8 THEN NULL ELSE meant_ms END, "
                "last_error = CASE WHEN ?8 THEN ?10 ELSE last_error END, "
                "needs_approval = ?11, "
                "approved_ms = CASE WHEN ?12 THEN NULL ELSE approved_ms END, "
                "approved_by_uid = CASE WHEN ?12 THEN NULL "
                "ELSE approved_by_uid END, "
                "approved_by_user = CASE WHEN ?12 THEN NULL "
                "ELSE approved_by_user END "
                "WHERE id = ?1 AND (?13 IS NULL OR (state = ?13 AND "
                "(approved_ms IS NOT NULL) = ?14))",
        /*
         * The state read first, so nothing moves from elsewhere. Made to
         * wait for a new time (shifted, released, resumed): it is meant to
         * go then, not when its first attempt was. Published by hand:
         * when its last attempt started, if it had one.
         */
        [ST_TRANSITION] =
                "UPDATE deliveries SET state = ?2, next_ms = ?3, "
                "last_error = CASE WHEN ?4 THEN last_error ELSE ?5 END, "
                "remote_url = coalesce(?6, remote_url), updated_ms = ?7, "
                "held_by = ?9, pass_pause = pass_pause OR ?10, "
                "meant_ms = CASE WHEN ?3 IS NOT NULL AND (?2 = 'scheduled' "
                "OR ?2 = 'draft') THEN NULL ELSE meant_ms END, "
                "published_ms = CASE WHEN ?2 = 'published' THEN "
                "(" HAND_PUBLISHED ") ELSE published_ms END, "
                "late_ms = CASE WHEN ?2 = 'published' THEN "
                "(" HAND_PUBLISHED ") - coalesce(meant_ms, due_ms) "
                "ELSE late_ms END "
                "WHERE id = ?1 AND state = ?8",
};

static void sq_rollback(struct store_be *s)
{
	if (s->in_txn && !sqlite3_get_autocommit(s->db))
		exec_done(s, stmt(s, ST_ROLLBACK));
	s->in_txn = 0;
	s->txn_durable = 0;
}

/* SQLite's codes that say the file itself is bad, not the disk under it. */
static int damaged(int code)
{
	code &= 0xff;
	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB ||
	       code == SQLITE_FORMAT || code == SQLITE_SCHEMA;
}

int sq_failure(struct store_be *s, char *why, size_t len)
{
	int code =
	        s->fail_code ? s->fail_code : sqlite3_extended_errcode(s->db);
	int sys = s->fail_code ? s->fail_errno : sqlite3_system_errno(s->db);
	const char *msg = s->fail_code ? s->fail_msg : sqlite3_errmsg(s->db);

	/* The system's error says more than SQLite's class of it. */
	if (sys)
		snprintf(why, len, "'%s': %s (%s)", s->path, msg,
		         strerror(sys));
	else
		snprintf(why, len, "'%s': %s", s->path, msg);
	s->fail_code = 0;
	return damaged(code) ? STORE_DAMAGED : STORE_UNWRITABLE;
}

/* End the turn's transaction: write(2) only, no sync (store_wal.c). */
static int sq_commit(struct store_be *s)
{
	int durable = s->txn_durable;

	if (!s->in_txn)
		return 0;
	s->in_txn = 0;
	s->txn_durable = 0;
	/* Rolled back already by SQLite (begin() refused the rest). */
	if (sqlite3_get_autocommit(s->db)) {
		if (s->fail_code == 0)
			note_failure(s);
		return -1;
	}
	if (exec_done(s, stmt(s, ST_COMMIT)) < 0) {
		/* Nothing of the turn stays: the caller gives it all up. */
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return durable ? STORE_COMMIT_DURABLE : STORE_COMMIT_LOSSABLE;
}

static int sq_start(struct store_be *s, uv_loop_t *loop,
                    void (*done)(void *arg, uint64_t seq, int err), void *arg)
{
	return store_wal_start(s->wal, loop, done, arg);
}

static void sq_sync(struct store_be *s, uint64_t seq)
{
	store_wal_request(s->wal, seq);
}

static int sq_wait(struct store_be *s, uint64_t seq)
{
	return store_wal_wait(s->wal, seq);
}

static void sq_stop(struct store_be *s)
{
	store_wal_stop(s->wal);
}

static void sq_counts_io(struct store_be *s, uint64_t *syncs,
                         uint64_t *checkpoints)
{
	store_wal_counts(s->wal, syncs, checkpoints);
}

static int migrate(struct store_be *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int version;
	char *msg = NULL;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		goto bad;
	sqlite3_step(st);
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)SCHEMA_VERSION) {
		snprintf(err, errlen,
		         "the database has schema version %d, newer than this "
		         "smmd knows (%zu): refusing to touch it",
		         version, SCHEMA_VERSION);
		return -1;
	}
	/* Table rebuilds must not trip over references mid-way. */
	sqlite3_exec(s->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	for (; version < (int)SCHEMA_VERSION; version++) {
		char sql[256];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		         version + 1);
		if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, &msg) !=
		            SQLITE_OK ||
		    sqlite3_exec(s->db, migrations[version], NULL, NULL,
		                 &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) !=
		            SQLITE_OK) {
			snprintf(err, errlen, "migration to schema %d: %s",
			         version + 1, msg ? msg : "failed");
			sqlite3_free(msg);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return 0;
bad:
	snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	return -1;
}

/* Two daemons on one store would publish everything twice. */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/smmd.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
		         strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen,
		         "state_dir '%s' is in use by another smmd", dir);
		close(fd);
		return -1;
	}
	return fd;
}

#define DAMAGED_ADVICE                                                     \
	"smmd will not start on it, nor replace it with an empty one. "    \
	"Restore a backup ('smmctl backup' makes them), or move the file " \
	"away to start afresh"

/*
 * An smmd.db that exists but holds nothing was truncated, not created:
 * SQLite would take it for a new database and smmd would start empty.
 */
static int refuse_emptied(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0 || st.st_size > 0)
		return 0;
	snprintf(err, errlen,
	         "'%s' is empty (0 bytes): it was damaged or cut "
	         "short; " DAMAGED_ADVICE,
	         path);
	return -1;
}

/* Every page read once (quick_check: 0.7 s for a million deliveries). */
static int check_pages(struct store_be *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL) ==
	            SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    (v = sqlite3_column_text(st, 0)) != NULL &&
	    strcmp((const char *)v, "ok") == 0)
		r = 0;
	else
		snprintf(err, errlen, "'%s' is damaged (%s); " DAMAGED_ADVICE,
		         s->path, v ? (const char *)v : sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return r;
}

/*
 * SQLite counts each allocation under one process-wide mutex, for
 * sqlite3_memory_used() and a soft heap limit; smmd uses neither, and
 * that mutex was taken twice a row written (storebench: 1-3 us of a
 * delivery's 20). Only before SQLite is initialized; later it refuses,
 * which costs nothing but the saving.
 */
static void sqlite_configure(void)
{
	static int done;

	if (!done)
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	done = 1;
}

/*
 * Open s->path, refusing a file that is emptied, not a database or
 * damaged (a message that says so, and the file left as it is).
 */
static int open_checked(struct store_be *s, char *err, size_t errlen)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
	                              "PRAGMA synchronous = FULL;"
	                              "PRAGMA foreign_keys = ON;"
	                              "PRAGMA busy_timeout = 5000;";
	char *msg = NULL;

	if (refuse_emptied(s->path, err, errlen) < 0)
		return -1;
	if (store_wal_vfs_register() < 0) {
		snprintf(err, errlen, "cannot register the SQLite VFS");
		return -1;
	}
	if (sqlite3_open_v2(s->path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                            SQLITE_OPEN_NOMUTEX,
	                    STORE_WAL_VFS) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open '%s': %s", s->path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		return -1;
	}
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		if (damaged(sqlite3_extended_errcode(s->db)))
			snprintf(err, errlen,
			         "'%s' is not an SQLite database, or its first "
			         "page is damaged (%s); " DAMAGED_ADVICE,
			         s->path, msg ? msg : "?");
		else
			snprintf(err, errlen, "'%s': %s", s->path,
			         msg ? msg : "pragma");
		sqlite3_free(msg);
		return -1;
	}
	return check_pages(s, err, errlen);
}

int sq_prepare(struct store_be *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &s->st[i],
		                       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "preparing statement %d: %s", i,
			         sqlite3_errmsg(s->db));
			return -1;
		}
	return 0;
}

/*
 * The loop's page cache (KiB): a burst over many channels touches more
 * pages than SQLite's default 2 MiB holds, and the loop re-read them and
 * spilled dirty ones to the WAL mid-transaction. Memory is taken only as
 * pages are used.
 */
#define STORE_CACHE_KIB "16384"

/* The last run's view, once the directory is ours: it may be ahead. */
static int remove_view(const char *path, char *err, size_t errlen)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char p[4200];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		if (unlink(p) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove '%s': %s", p,
			         strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * A view its last close left whole (store_pg.c writes _smmd_clean then,
 * and the close checkpoints it synced and removes its WAL): kept. A WAL
 * left behind, or no mark, and it may hold changes never kept: 0. So is
 * a view of an older schema: a migration that fills a column in would
 * change its rows without shipping them.
 */
static int view_kept(const char *path)
{
	char wal[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int kept = 0;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (access(path, F_OK) < 0 || access(wal, F_OK) == 0)
		return 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	            SQLITE_OK &&
	    sqlite3_prepare_v2(db,
	                       "SELECT count(*), (SELECT user_version FROM "
	                       "pragma_user_version) FROM _smmd_clean",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		kept = sqlite3_column_int(st, 0) > 0 &&
		       sqlite3_column_int(st, 1) == (int)SCHEMA_VERSION;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return kept;
}

static int wal_logged(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	store_wal_logged(arg, frames);
	return SQLITE_OK;
}

/*
 * file in dir, created or migrated. A view (of another backend, which
 * rebuilds it at each start unless its last close left it whole) starts
 * empty, and SQLite checkpoints it itself, unsynced; else store_wal.c
 * syncs and checkpoints it.
 */
int sq_open_at(const char *dir, const char *file, int view,
               struct store_be **out, char *err, size_t errlen)
{
	/* After migrating: syncs and checkpoints are store_wal.c's. */
	static const char async[] = "PRAGMA synchronous = OFF;"
	                            "PRAGMA wal_autocheckpoint = 0;"
	                            "PRAGMA cache_size = -" STORE_CACHE_KIB ";";
	/*
	 * The view's savepoints' and statements' journals in memory: a pull
	 * applied under a savepoint in the turn's transaction outgrew the
	 * 64 KiB SQLite keeps in memory before it makes a file, and a file
	 * made, written and removed for each was 7% of a worker's time in
	 * tests/bench/workbench.sh. Its sorts too go to memory, and its
	 * temporary schema (viewcount.c's counts), none of them large.
	 */
	static const char unsynced[] =
	        "PRAGMA synchronous = OFF;"
	        "PRAGMA temp_store = MEMORY;"
	        "PRAGMA cache_size = -" STORE_CACHE_KIB ";";
	char path[4096];
	struct store_be *s;
	char *msg = NULL;

	*out = NULL;
	/* First: a view kept by a worker is opened before the store. */
	sqlite_configure();
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create state_dir '%s': %s", dir,
		         strerror(errno));
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rndpool_init(&s->rnd);
	if ((s->lock_fd = lock_dir(dir, err, errlen)) < 0) {
		free(s);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((s->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	if ((view && !view_kept(path) && remove_view(path, err, errlen) < 0) ||
	    open_checked(s, err, errlen) < 0 || migrate(s, err, errlen) < 0)
		goto bad;
	if (sqlite3_exec(s->db, view ? unsynced : async, NULL, NULL, &msg) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "'%s': %s", path, msg ? msg : "pragma");
		sqlite3_free(msg);
		goto bad;
	}
	if ((!view && store_wal_open(path, &s->wal, err, errlen) < 0) ||
	    sq_prepare(s, err, errlen) < 0)
		goto bad;
	/*
	 * A view's own automatic checkpoint is this hook: keep it. And a
	 * later PRAGMA wal_autocheckpoint (or sqlite3_wal_autocheckpoint)
	 * would replace this one: the store's checkpoints would stop.
	 */
	if (!view)
		sqlite3_wal_hook(s->db, wal_logged, s->wal);
	*out = s;
	return 0;
bad:
	sq_close(s);
	return -1;
}

static int sq_open(const char *dir, const char *url, unsigned flags,
                   struct store_be **out, char *err, size_t errlen)
{
	(void)flags; /* never shared: never a standby */
	if (url != NULL) {
		snprintf(err, errlen, "the sqlite store takes no URL");
		return -1;
	}
	return sq_open_at(dir, "smmd.db", 0, out, err, errlen);
}

void sq_close(struct store_be *s)
{
	if (s == NULL)
		return;
	store_wal_stop(s->wal);
	if (s->in_txn)
		exec_done(s, stmt(s, ST_ROLLBACK));
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sq_engage_close(s);
	/* The last close checkpoints and removes the WAL: synced, as SQLite
	   means it to be. */
	if (s->db)
		sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL,
		             NULL);
	sqlite3_close(s->db);
	store_wal_free(s->wal);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->path);
	free(s);
}

#define WEBHOOK_ID_LEN (POSTID_GEN_LEN + 4)

/* The message id receivers deduplicate on: one per delivery, for life. */
static int new_webhook_id(struct store_be *s, int64_t now_ms,
                          char out[WEBHOOK_ID_LEN])
{
	uint64_t rnd;

	/* One syscall per 512 ids: a first calendar sync makes 100,000s. */
	if (rndpool_get(&s->rnd, &rnd, sizeof(rnd), 0) < 0)
		return -1;
	memcpy(out, "msg_", 4);
	postid_generate(now_ms, rnd, out + 4);
	return 0;
}

static int sq_add_post(struct store_be *s, const struct post_new *p,
                       int64_t now_ms)
{
	sqlite3_stmt *st;
	char *media;
	int r;

	if (begin(s, DURABLE) < 0)
		return -EIO;
	st = stmt(s, ST_POST_EXISTS);
	bind_text(st, 1, p->id);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return -EEXIST;
	if (r != SQLITE_DONE)
		return -EIO;

	if ((media = json_dumps(p->media, JSON_COMPACT)) == NULL)
		return -ENOMEM;
	st = stmt(s, ST_POST_INSERT);
	bind_text(st, 1, p->id);
	bind_text(st, 2, p->source);
	bind_text(st, 3, p->text);
	bind_text(st, 4, p->link);
	bind_text(st, 5, p->campaign);
	bind_text(st, 6, media);
	sqlite3_bind_int64(st, 7, now_ms);
	r = exec_done(s, st);
	free(media);
	if (r < 0)
		return r;

	for (size_t i = 0; i < p->nchannels; i++) {
		char id[POSTID_MAX * 2 + 2], msg_id[WEBHOOK_ID_LEN];

		snprintf(id, sizeof(id), "%s/%s", p->id, p->channels[i]);
		if (new_webhook_id(s, now_ms, msg_id) < 0)
			return -EIO;
		st = stmt(s, ST_DELIVERY_INSERT);
		bind_text(st, 1, id);
		bind_text(st, 2, p->id);
		bind_text(st, 3, p->channels[i]);
		bind_text(st, 4, msg_id);
		sqlite3_bind_int64(st, 5, p->due_ms);
		sqlite3_bind_int64(st, 6, now_ms);
		sqlite3_bind_int(st, 7, p->drafts && p->drafts[i]);
		bind_text(st, 8, p->campaign);
		if ((r = exec_done(s, st)) < 0)
			return r;
	}
	return 0;
}

static int sq_delivery_load(struct store_be *s, const char *id,
                            struct delivery_rec *rec)
{
	sqlite3_stmt *st = stmt(s, ST_DELIVERY_LOAD);
	const char *media;
	int r;

	memset(rec, 0, sizeof(*rec));
	bind_text(st, 1, id);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	rec->id = col_strdup(st, 0);
	rec->post_id = col_strdup(st, 1);
	rec->channel = col_strdup(st, 2);
	rec->webhook_id = col_strdup(st, 3);
	rec->state = state_parse((const char *)sqlite3_column_text(st, 4));
	rec->due_ms = sqlite3_column_int64(st, 5);
	rec->attempts = (unsigned)sqlite3_column_int(st, 6);
	rec->text = col_strdup(st, 7);
	rec->link = col_strdup(st, 8);
	rec->campaign = col_strdup(st, 9);
	media = (const char *)sqlite3_column_text(st, 10);
	/* Most posts have none: no parser for that. */
	rec->media = media == NULL || strcmp(media, "[]") == 0
	                     ? json_array()
	                     : json_loads(media, 0, NULL);
	rec->source = col_strdup(st, 11);
	rec->pass_pause = sqlite3_column_int(st, 12) != 0;
	rec->awaiting_approval = sqlite3_column_int(st, 13) != 0;
	rec->next_ms = sqlite3_column_int64(st, 14);
	rec->held_by = sqlite3_column_int64(st, 15);
	rec->row = sqlite3_column_int64(st, 16);
	sqlite3_reset(st);
	if (rec->id == NULL || rec->post_id == NULL || rec->channel == NULL ||
	    rec->webhook_id == NULL || rec->text == NULL ||
	    rec->media == NULL) {
		store_delivery_clear(rec);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Run the prepared update by_row with the row hint bound, or by_id when
 * there is none or it no longer points at id (BY_ROW): the same update.
 */
static int exec_by_row(struct store_be *s, enum stmt_id by_row,
                       enum stmt_id by_id, int row_param, int64_t row,
                       void (*bind)(sqlite3_stmt *, const void *),
                       const void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (row > 0) {
		st = stmt(s, by_row);
		bind(st, arg);
		sqlite3_bind_int64(st, row_param, row);
		if ((r = exec_done(s, st)) < 0 || sqlite3_changes(s->db) > 0)
			return r;
	}
	st = stmt(s, by_id);
	bind(st, arg);
	return exec_done(s, st);
}

struct mark_args {
	const char *id;
	unsigned n;
	int64_t started_ms;
};

static void bind_mark(sqlite3_stmt *st, const void *arg)
{
	const struct mark_args *a = arg;

	bind_text(st, 1, a->id);
	sqlite3_bind_int(st, 2, (int)a->n);
	sqlite3_bind_int64(st, 3, a->started_ms);
}

static int sq_mark_publishing(struct store_be *s, const char *id, int64_t row,
                              unsigned n, int64_t started_ms)
{
	struct mark_args a = {id, n, started_ms};

	if (begin(s, DURABLE) < 0)
		return -EIO;
	/*
	 * The attempt's own row is written when it ends: "publishing" with
	 * its number and start time (updated_ms) is the intent.
	 */
	return exec_by_row(s, ST_MARK_PUBLISHING_ROW, ST_MARK_PUBLISHING, 4,
	                   row, bind_mark, &a);
}

static int finish_attempt(struct store_be *s, const char *id,
                          const struct attempt_result *r)
{
	sqlite3_stmt *st = stmt(s, ST_ATTEMPT_FINISH);

	bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, (int)r->n);
	sqlite3_bind_int64(st, 3, r->finished_ms);
	if (r->http_status > 0)
		sqlite3_bind_int64(st, 4, r->http_status);
	bind_text(st, 5, r->error);
	if (r->latency_ms >= 0)
		sqlite3_bind_double(st, 6, r->latency_ms);
	sqlite3_bind_int64(st, 7, r->started_ms);
	return exec_done(s, st);
}

struct result_args {
	const char *id;
	const struct attempt_result *r;
	enum delivery_state state;
	int64_t next_ms;
	const char *last_error, *remote_id, *remote_url;
};

static void bind_result(sqlite3_stmt *st, const void *arg)
{
	const struct result_args *a = arg;

	bind_text(st, 1, a->id);
	bind_text(st, 2, state_name(a->state));
	if (a->state == DS_RETRY_WAIT)
		sqlite3_bind_int64(st, 3, a->next_ms);
	if (a->r->http_status > 0)
		sqlite3_bind_int64(st, 4, a->r->http_status);
	bind_text(st, 5, a->last_error);
	sqlite3_bind_int64(st, 6, a->r->finished_ms);
	bind_text(st, 7, a->remote_id);
	bind_text(st, 8, a->remote_url);
	sqlite3_bind_int64(st, 9, a->r->started_ms);
}

static int sq_record_result(struct store_be *s, const char *id,
                            const struct attempt_result *r,
                            enum delivery_state state, int64_t next_ms,
                            const char *last_error, const char *remote_id,
                            const char *remote_url)
{
	struct result_args a = {id,         r,         state,     next_ms,
	                        last_error, remote_id, remote_url};
	int rc;

	/*
	 * A result may be lost (recovery handles "publishing"), but a cancel
	 * of a job prepared and not sent is a reply to smmctl: it must stay.
	 */
	if (begin(s, state == DS_CANCELLED ? DURABLE : LOSSABLE) < 0)
		return -EIO;
	if ((rc = finish_attempt(s, id, r)) < 0)
		return rc;
	return exec_by_row(s, ST_RESULT_ROW, ST_RESULT, 10, r->row, bind_result,
	                   &a);
}

/*
 * The deliveries t->id names, with their states, in channel order. The
 * statement must not be live while we write: collect first.
 */
static int transition_collect(struct store_be *s, const char *id,
                              struct moved *found, int **states)
{
	int post = strchr(id, '/') == NULL;
	sqlite3_stmt *st =
	        stmt(s, post ? ST_POST_DELIVERIES : ST_DELIVERY_STATE);
	size_t cap = 0;
	int r;

	bind_text(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *did =
		        post ? (const char *)sqlite3_column_text(st, 0) : id;
		const char *state =
		        (const char *)sqlite3_column_text(st, post ? 1 : 0);

		if (found->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **ids = realloc(found->ids, ncap * sizeof(*ids));
			int *sts = ids ? realloc(*states, ncap * sizeof(*sts))
			               : NULL;

			if (ids)
				found->ids = ids;
			if (sts)
				*states = sts;
			if (ids == NULL || sts == NULL)
				break;
			cap = ncap;
		}
		if ((found->ids[found->n] = strdup(did)) == NULL)
			break;
		(*states)[found->n++] = state_parse(state);
	}
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return -ENOMEM;
	return r == SQLITE_DONE ? 0 : -EIO;
}

/* Move one delivery known to be in state from. */
static int transition_one(struct store_be *s, const struct transition *t,
                          const char *id, int from)
{
	sqlite3_stmt *st = stmt(s, ST_TRANSITION);

	bind_text(st, 1, id);
	bind_text(st, 2, state_name(t->to));
	if (t->next_ms >= 0)
		sqlite3_bind_int64(st, 3, t->next_ms);
	sqlite3_bind_int(st, 4, t->keep_reason != 0);
	bind_text(st, 5, t->reason);
	bind_text(st, 6, t->remote_url);
	sqlite3_bind_int64(st, 7, t->now_ms);
	bind_text(st, 8, state_name(from));
	if (t->to == DS_HELD && t->held_by > 0)
		sqlite3_bind_int64(st, 9, t->held_by);
	sqlite3_bind_int(st, 10, t->pass_pause != 0);
	return exec_done(s, st);
}

static int sq_transition(struct store_be *s, const struct transition *t,
                         struct moved *m)
{
	struct moved found = {0};
	int *states = NULL, r;
	size_t n = 0; /* moved so far, kept at the front of found.ids */

	if (m)
		*m = (struct moved){0};
	if ((r = transition_collect(s, t->id, &found, &states)) < 0)
		goto out;
	r = -ENOENT;
	if (found.n == 0)
		goto out;
	if (m)
		m->current = states[0];
	for (size_t i = 0; i < found.n; i++) {
		char *id = found.ids[i];

		if (states[i] < 0 || !(t->from & DS_BIT(states[i])))
			continue;
		if (begin(s, DURABLE) < 0 ||
		    transition_one(s, t, id, states[i]) < 0) {
			r = -EIO;
			goto out;
		}
		found.ids[i] = found.ids[n];
		found.ids[n++] = id;
	}
	r = n > 0 ? (int)n : -EALREADY;
out:
	for (size_t i = m && r > 0 ? n : 0; i < found.n; i++)
		free(found.ids[i]);
	if (m && r > 0) {
		m->ids = found.ids;
		m->n = n;
	} else {
		free(found.ids);
	}
	free(states);
	return r;
}

static int sq_for_each_pending(struct store_be *s,
                               void (*fn)(void *arg, const char *id,
                                          int64_t due_ms),
                               void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_PENDING);
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

#define INTERRUPTED "interrupted: smmd stopped while the request was in flight"

static int sq_recover_interrupted(struct store_be *s, int64_t now_ms,
                                  int (*decide)(void *arg, const char *id,
                                                const char *channel),
                                  void *arg, json_t *unknown)
{
	static const char sql_list[] =
	        "SELECT id, channel FROM deliveries WHERE state = 'publishing'";
	static const char sql_attempt[] =
	        "INSERT OR IGNORE INTO attempts (delivery_id, n, started_ms, "
	        "finished_ms, error) SELECT id, attempts, updated_ms, ?2, '" INTERRUPTED
	        "' FROM deliveries WHERE id = ?1 AND attempts > 0";
	static const char sql_retry[] =
	        "UPDATE deliveries SET state = 'retry_wait', "
	        "next_ms = max(?2, due_ms), "
	        "last_error = '" INTERRUPTED "', updated_ms = ?2 WHERE id = ?1";
	static const char sql_unknown[] =
	        "UPDATE deliveries SET state = 'unknown', next_ms = NULL, "
	        "last_error = '" INTERRUPTED
	        "; the endpoint cannot drop a repeat, so it was not re-sent: "
	        "check the channel, then smmctl retry or resolve', "
	        "updated_ms = ?2 WHERE id = ?1";
	sqlite3_stmt *list = NULL, *st = NULL;
	json_t *ids = json_array(), *chans = json_array(), *v;
	size_t i;
	int r = -EIO, total = 0;

	/* Collect first: no statement may be live while we write. */
	if (sqlite3_prepare_v2(s->db, sql_list, -1, &list, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(list) == SQLITE_ROW) {
		json_array_append_new(
		        ids, json_string((const char *)sqlite3_column_text(list,
		                                                           0)));
		json_array_append_new(
		        chans, json_string((const char *)sqlite3_column_text(
		                       list, 1)));
	}
	sqlite3_finalize(list);
	json_array_foreach (ids, i, v) {
		const char *id = json_string_value(v);
		int repeat = decide(
		        arg, id, json_string_value(json_array_get(chans, i)));
		const char *sqls[2] = {sql_attempt,
		                       repeat ? sql_retry : sql_unknown};

		if (repeat < 0)
			continue; /* another node's, still in flight */
		if (total == 0 && begin(s, DURABLE) < 0)
			goto out;

		for (int k = 0; k < 2; k++) {
			if (sqlite3_prepare_v2(s->db, sqls[k], -1, &st, NULL) !=
			    SQLITE_OK)
				goto out;
			bind_text(st, 1, id);
			sqlite3_bind_int64(st, 2, now_ms);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto out;
			sqlite3_finalize(st);
			st = NULL;
		}
		if (!repeat && unknown)
			json_array_append(unknown, v);
		total++;
	}
	r = total;
out:
	sqlite3_finalize(st);
	json_decref(ids);
	json_decref(chans);
	return r;
}

#define DELIVERY_COLUMNS                                              \
	"d.id, d.post_id, d.channel, d.state, d.due_ms, d.attempts, " \
	"d.updated_ms, d.next_ms, d.last_status, d.last_error, "      \
	"coalesce(d.text, p.text), "                                  \
	"d.webhook_id, d.remote_id, d.remote_url, "                   \
	"coalesce(d.link, p.link), coalesce(d.media, p.media), "      \
	"p.campaign, d.needs_approval, d.approved_ms, "               \
	"d.approved_by_uid, d.approved_by_user "

/* The row at st, read with DELIVERY_COLUMNS. Borrowed from st. */
static void delivery_row(sqlite3_stmt *st, struct delivery_row *r)
{
	*r = (struct delivery_row){
	        .id = col_text(st, 0),
	        .post_id = col_text(st, 1),
	        .channel = col_text(st, 2),
	        .state = state_parse(col_text(st, 3)),
	        .due_ms = sqlite3_column_int64(st, 4),
	        .attempts = (unsigned)sqlite3_column_int(st, 5),
	        .updated_ms = sqlite3_column_int64(st, 6),
	        .next_ms = col_int(st, 7, -1),
	        .last_status = (long)col_int(st, 8, -1),
	        .last_error = col_text(st, 9),
	        .text = col_text(st, 10),
	        .webhook_id = col_text(st, 11),
	        .remote_id = col_text(st, 12),
	        .remote_url = col_text(st, 13),
	        .link = col_text(st, 14),
	        .media = col_text(st, 15),
	        .campaign = col_text(st, 16),
	        .needs_approval = sqlite3_column_int(st, 17) != 0,
	        .approved_ms = col_int(st, 18, -1),
	        .approved_by_uid = (long)col_int(st, 19, -1),
	        .approved_by_user = col_text(st, 20),
	};
}

static int sq_list_rows(struct store_be *s, int state, unsigned limit,
                        void (*fn)(void *arg, const struct delivery_row *),
                        void *arg)
{
	static const char sql_all[] =
	        "SELECT " DELIVERY_COLUMNS "FROM deliveries d JOIN posts p ON "
	        "p.id = d.post_id ORDER BY d.due_ms, d.id LIMIT ?2";
	static const char sql_state[] =
	        "SELECT " DELIVERY_COLUMNS "FROM deliveries d JOIN posts p ON "
	        "p.id = d.post_id WHERE d.state = ?1 ORDER BY d.due_ms, d.id "
	        "LIMIT ?2";
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, state < 0 ? sql_all : sql_state, -1, &st,
	                       NULL) != SQLITE_OK)
		return -EIO;
	if (state >= 0)
		bind_text(st, 1, state_name(state));
	sqlite3_bind_int64(st, 2, limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct delivery_row row;

		delivery_row(st, &row);
		fn(arg, &row);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

static int sq_awaiting_rows(struct store_be *s, unsigned limit,
                            void (*fn)(void *arg, const struct delivery_row *),
                            void *arg)
{
	/* The partial index has them all, the settled ones filtered here. */
	static const char sql[] =
	        "SELECT " DELIVERY_COLUMNS "FROM deliveries d JOIN posts p ON "
	        "p.id = d.post_id WHERE d.needs_approval = 1 AND "
	        "d.approved_ms IS NULL AND (d.state = 'draft' OR "
	        "d.state = 'held') ORDER BY d.due_ms, d.id LIMIT ?1";
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct delivery_row row;

		delivery_row(st, &row);
		fn(arg, &row);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/* Each attempt of a delivery, in order. */
static int attempt_rows(struct store_be *s, const char *delivery_id,
                        const struct show_rows *cb)
{
	static const char sql[] =
	        "SELECT n, started_ms, finished_ms, http_status, error, "
	        "latency_ms FROM attempts WHERE delivery_id = ?1 ORDER BY n";
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, delivery_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct attempt_row a = {
		        .n = (unsigned)sqlite3_column_int(st, 0),
		        .started_ms = sqlite3_column_int64(st, 1),
		        .finished_ms = col_int(st, 2, -1),
		        .http_status = (long)col_int(st, 3, -1),
		        .error = col_text(st, 4),
		        .latency_ms = sqlite3_column_type(st, 5) == SQLITE_NULL
		                              ? -1
		                              : sqlite3_column_double(st, 5),
		};
		cb->attempt(cb->arg, &a);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

static int sq_show_rows(struct store_be *s, const char *id,
                        const struct show_rows *cb)
{
	static const char sql_post[] =
	        "SELECT id, source, text, link, campaign, media, created_ms "
	        "FROM posts WHERE id = ?1";
	static const char sql_deliveries[] =
	        "SELECT " DELIVERY_COLUMNS "FROM deliveries d JOIN posts p ON "
	        "p.id = d.post_id WHERE d.post_id = ?1 AND (?2 IS NULL OR "
	        "d.id = ?2) ORDER BY d.channel";
	char post_id[POSTID_MAX + 1];
	const char *slash = strchr(id, '/');
	sqlite3_stmt *st;
	size_t n = 0;
	int r;

	snprintf(post_id, sizeof(post_id), "%.*s",
	         slash ? (int)(slash - id) : (int)strlen(id), id);
	if (sqlite3_prepare_v2(s->db, sql_post, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, post_id);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	cb->post(cb->arg, &(struct post_row){
	                          .id = col_text(st, 0),
	                          .source = col_text(st, 1),
	                          .text = col_text(st, 2),
	                          .link = col_text(st, 3),
	                          .campaign = col_text(st, 4),
	                          .media = col_text(st, 5),
	                          .created_ms = sqlite3_column_int64(st, 6),
	                  });
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, sql_deliveries, -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	bind_text(st, 1, post_id);
	bind_text(st, 2, slash ? id : NULL);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct delivery_row row;

		delivery_row(st, &row);
		cb->delivery(cb->arg, &row);
		if (attempt_rows(s, row.id, cb) < 0) {
			r = SQLITE_ERROR;
			break;
		}
		n++;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return -EIO;
	return slash && n == 0 ? -ENOENT : 0;
}

static int sq_counts(struct store_be *s, int64_t counts[DS_COUNT])
{
	sqlite3_stmt *st = stmt(s, ST_COUNTS);
	int r;

	memset(counts, 0, sizeof(int64_t) * DS_COUNT);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int i = state_parse((const char *)sqlite3_column_text(st, 0));

		if (i >= 0)
			counts[i] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

static int sq_post_exists(struct store_be *s, const char *id)
{
	sqlite3_stmt *st = stmt(s, ST_POST_EXISTS);
	int r;

	bind_text(st, 1, id);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -EIO;
}

static int sq_slot_taken(struct store_be *s, const char *channel,
                         int64_t due_ms, char *by, size_t bylen)
{
	sqlite3_stmt *st = stmt(s, ST_SLOT_TAKEN);
	int r;

	sqlite3_bind_int64(st, 1, due_ms);
	bind_text(st, 2, channel);
	if ((r = sqlite3_step(st)) == SQLITE_ROW && by)
		snprintf(by, bylen, "%s", col_text(st, 0));
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -EIO;
}

static int sq_scheduled_rows(struct store_be *s, int only_moved,
                             void (*fn)(void *arg,
                                        const struct scheduled_row *),
                             void *arg)
{
#define SCHEDULED_ROWS                                                     \
	"SELECT d.id, d.channel, p.source, d.due_ms, d.next_ms, "          \
	"d.pass_pause, d.last_error, d.state, p.campaign FROM deliveries " \
	"d JOIN posts p ON p.id = d.post_id WHERE (d.state = 'scheduled' " \
	"OR d.state = 'draft')"
	/* The moved ones through migration 10's index: its term, verbatim. */
	static const char sql_all[] = SCHEDULED_ROWS,
	                  sql_moved[] =
	                          SCHEDULED_ROWS " AND d.next_ms IS NOT NULL";
#undef SCHEDULED_ROWS
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, only_moved ? sql_moved : sql_all, -1, &st,
	                       NULL) != SQLITE_OK)
		return -EIO;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, &(struct scheduled_row){
		                .id = col_text(st, 0),
		                .channel = col_text(st, 1),
		                .source = col_text(st, 2),
		                .due_ms = sqlite3_column_int64(st, 3),
		                .next_ms = col_int(st, 4, -1),
		                .pass_pause = sqlite3_column_int(st, 5),
		                .last_error = col_text(st, 6),
		                .state = state_parse(col_text(st, 7)),
		                .campaign = col_text(st, 8),
		        });
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/*
 * The counts a clean close kept, taken: deleted in the turn's transaction,
 * so they are gone before anything else changes and a crash before the
 * next clean close leaves a store that must be counted again. 1 if there
 * were counts, 0 if not (first open, or the last stop was a crash).
 */
static int sq_take_counts(struct store_be *s, int64_t counts[DS_COUNT])
{
	sqlite3_stmt *st;
	int r, n = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT state, n FROM saved_counts", -1,
	                       &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int i = state_parse((const char *)sqlite3_column_text(st, 0));

		if (i >= 0)
			counts[i] = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return -EIO;
	if (n == 0)
		return 0;
	if (begin(s, LOSSABLE) < 0 ||
	    sqlite3_exec(s->db, "DELETE FROM saved_counts", NULL, NULL, NULL) !=
	            SQLITE_OK)
		return -EIO;
	return 1;
}

/* After the last write of a clean stop: the counts for the next open. */
static int sq_keep_counts(struct store_be *s, const int64_t counts[DS_COUNT])
{
	sqlite3_stmt *st;
	int r = 0;

	if (begin(s, DURABLE) < 0 ||
	    sqlite3_exec(s->db, "DELETE FROM saved_counts", NULL, NULL, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
	                       "INSERT INTO saved_counts (state, n) "
	                       "VALUES (?1, ?2)",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (int i = 0; i < DS_COUNT && r == 0; i++) {
		if (counts[i] == 0)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, state_name(i), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, counts[i]);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	}
	sqlite3_finalize(st);
	return r;
}

/* Run one prepared-on-the-fly statement with the given text/int binds. */
static int exec_sql(struct store_be *s, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	                       NULL) != SQLITE_OK)
		return -EIO;
	return 0;
}

static int sq_calendar_rows(struct store_be *s, const char *id,
                            void (*fn)(void *arg, const struct cal_row *),
                            void *arg)
{
	sqlite3_stmt *st;
	int r;

	/* One row: a sync reading a row again, prepared once for that. */
	if (id) {
		st = stmt(s, ST_CAL_ROW);
		bind_text(st, 1, id);
	} else if (exec_sql(s, CAL_ROWS, &st) < 0) {
		return -EIO;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct cal_row row = {
		        .id = (const char *)sqlite3_column_text(st, 0),
		        .state = state_parse(
		                (const char *)sqlite3_column_text(st, 1)),
		        .due_ms = sqlite3_column_int64(st, 2),
		        .hash = (uint64_t)sqlite3_column_int64(st, 3),
		        .removed = sqlite3_column_int(st, 4),
		        .needs_approval = sqlite3_column_int(st, 5),
		        .approved = sqlite3_column_int(st, 6),
		};
		fn(arg, &row);
	}
	if (id)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

static void bind_json(sqlite3_stmt *st, int i, const json_t *v, char **keep)
{
	*keep = v ? json_dumps(v, JSON_COMPACT) : NULL;
	bind_text(st, i, *keep);
}

static int sq_calendar_post(struct store_be *s, const struct cal_put *p,
                            int64_t now_ms)
{
	sqlite3_stmt *st;
	char *media;
	int r;

	if (begin(s, DURABLE) < 0)
		return -EIO;
	st = stmt(s, ST_CAL_POST);
	bind_text(st, 1, p->post_id);
	bind_text(st, 2, p->base_text);
	bind_text(st, 3, p->base_link);
	bind_text(st, 4, p->campaign);
	bind_json(st, 5, p->base_media, &media);
	sqlite3_bind_int64(st, 6, now_ms);
	r = exec_done(s, st);
	free(media);
	return r;
}

static int sq_calendar_put(struct store_be *s, const struct cal_put *p, int add,
                           int reschedule, int64_t now_ms)
{
	sqlite3_stmt *st;
	char *media = NULL, msg_id[WEBHOOK_ID_LEN];
	int r;

	if (begin(s, DURABLE) < 0)
		return -EIO;
	if (add) {
		if (new_webhook_id(s, now_ms, msg_id) < 0)
			return -EIO;
		st = stmt(s, ST_CAL_ADD);
		bind_text(st, 1, p->id);
		bind_text(st, 2, p->post_id);
		bind_text(st, 3, p->channel);
		bind_text(st, 4, msg_id);
		bind_text(st, 5, state_name(p->state));
		sqlite3_bind_int64(st, 6, p->due_ms);
		sqlite3_bind_int64(st, 7, now_ms);
		bind_text(st, 8, p->text);
		bind_text(st, 9, p->link);
		bind_json(st, 10, p->media, &media);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)p->hash);
		bind_text(st, 12, p->reason);
		sqlite3_bind_int(st, 13, p->needs_approval != 0);
		bind_text(st, 14, p->campaign);
	} else {
		st = stmt(s, ST_CAL_UPDATE);
		bind_text(st, 1, p->id);
		sqlite3_bind_int64(st, 2, p->due_ms);
		bind_text(st, 3, p->text);
		bind_text(st, 4, p->link);
		bind_json(st, 5, p->media, &media);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)p->hash);
		sqlite3_bind_int64(st, 7, now_ms);
		sqlite3_bind_int(st, 8, reschedule);
		bind_text(st, 9, state_name(p->state));
		bind_text(st, 10, p->reason);
		sqlite3_bind_int(st, 11, p->needs_approval != 0);
		sqlite3_bind_int(st, 12, p->withdraw != 0);
		if (p->expect) {
			bind_text(st, 13, state_name(p->expect_state));
			sqlite3_bind_int(st, 14, p->expect_approved != 0);
		}
	}
	r = exec_done(s, st);
	free(media);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		return -ESTALE;
	return r;
}

/*
 * A B-tree index takes rows in key order cheaply and in random order
 * dearly: a first calendar load adds 100,000s of deliveries whose due
 * times are all over the month. Building the two due-time indexes once
 * afterwards (CREATE INDEX sorts) costs a fraction of keeping them up to
 * date row by row. Only worth it, and only done, while the table is still
 * small; all inside the turn's transaction, so a crash rolls the indexes
 * back with the rows.
 */
static int bulk_exec(struct store_be *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_error("store: bulk load: %s", msg ? msg : "out of memory");
	sqlite3_free(msg);
	return -EIO;
}

static int sq_bulk_begin(struct store_be *s)
{
	static const char small[] = "SELECT count(*) < 4096 FROM "
	                            "(SELECT 1 FROM deliveries LIMIT 4096)";
	sqlite3_stmt *st;
	int r, is_small;

	if (s->bulk)
		return 0;
	if (begin(s, DURABLE) < 0 || exec_sql(s, small, &st) < 0)
		return -EIO;
	r = sqlite3_step(st);
	is_small = r == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return -EIO;
	if (!is_small)
		return 0;
	/* Set first: whatever was dropped, store_bulk_end builds again. */
	s->bulk = 1;
	return bulk_exec(s, "DROP INDEX IF EXISTS deliveries_pending;"
	                    "DROP INDEX IF EXISTS " STATS_INDEX ";");
}

static int sq_bulk_end(struct store_be *s)
{
	if (!s->bulk)
		return 0;
	/* As migrations 9 and 15 made them. */
	if (bulk_exec(s, "CREATE INDEX IF NOT EXISTS deliveries_pending ON "
	                 "deliveries(due_ms) WHERE " PENDING_STATES ";"
	                 "CREATE INDEX IF NOT EXISTS " STATS_INDEX " ON "
	                 "deliveries(" STATS_INDEX_COLUMNS ");") < 0)
		return -EIO;
	s->bulk = 0;
	return 0;
}

static int sq_agenda_rows(struct store_be *s, const struct agenda_query *q,
                          void (*fn)(void *arg, const struct delivery_row *),
                          void *arg, int *truncated)
{
	/*
	 * The range on due_ms is what the index serves; the rest filters.
	 * A delivery a blackout shifted into the range from before it is
	 * there too (the index on state and due_ms finds those few).
	 */
	static const char sql[] =
	        "SELECT " DELIVERY_COLUMNS
	        "FROM deliveries d JOIN posts p ON p.id = d.post_id "
	        "WHERE d.due_ms >= ?1 AND d.due_ms < ?2 "
	        "AND (?3 IS NULL OR d.channel = ?3) "
	        "AND (?4 OR d.state <> 'cancelled') "
	        "UNION ALL SELECT " DELIVERY_COLUMNS
	        "FROM deliveries d JOIN posts p ON p.id = d.post_id "
	        "WHERE d.state = 'scheduled' AND d.due_ms < ?1 "
	        "AND d.next_ms >= ?1 AND d.next_ms < ?2 "
	        "AND (?3 IS NULL OR d.channel = ?3) "
	        "ORDER BY 5, 1 LIMIT ?5";
	sqlite3_stmt *st;
	unsigned n = 0;
	int r;

	*truncated = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, q->from_ms);
	sqlite3_bind_int64(st, 2, q->to_ms);
	bind_text(st, 3, q->channel);
	sqlite3_bind_int(st, 4, q->cancelled != 0);
	/* One row more than asked says whether the answer is cut short. */
	sqlite3_bind_int64(st, 5, (sqlite3_int64)q->limit + 1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct delivery_row row;

		if (n++ == q->limit) {
			*truncated = 1;
			continue;
		}
		delivery_row(st, &row);
		fn(arg, &row);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

static int sq_plan_rows(struct store_be *s, int64_t from_ms, int64_t to_ms,
                        void (*fn)(void *arg, const struct plan_row *),
                        void *arg)
{
	/*
	 * The range on due_ms is what the index serves; the rest filters.
	 * Plain comparisons, not IN lists (see migration 6).
	 */
	static const char sql[] =
	        "SELECT d.post_id, d.channel, p.campaign, "
	        "p.source = 'calendar', d.due_ms "
	        "FROM deliveries d JOIN posts p ON p.id = d.post_id "
	        "WHERE d.due_ms >= ?1 AND d.due_ms < ?2 "
	        "AND d.state <> 'cancelled' AND d.state <> 'skipped' "
	        "AND d.state <> 'missed' AND d.state <> 'failed' "
	        "AND p.source <> 'notice' AND p.source <> 'planb' "
	        "ORDER BY d.due_ms";
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct plan_row row = {
		        .post_id = (const char *)sqlite3_column_text(st, 0),
		        .channel = (const char *)sqlite3_column_text(st, 1),
		        .campaign = (const char *)sqlite3_column_text(st, 2),
		        .calendar = sqlite3_column_int(st, 3),
		        .due_ms = sqlite3_column_int64(st, 4),
		};

		if (row.post_id && row.channel)
			fn(arg, &row);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/*
 * The operations every backend built on this one shares: the postgresql
 * backend answers from a SQLite view too (store_pg.c, doc/cluster.md).
 */
#define SQ_OPS                                                                 \
	.commit = sq_commit, .rollback = sq_rollback, .add_post = sq_add_post, \
	.delivery_load = sq_delivery_load,                                     \
	.mark_publishing = sq_mark_publishing,                                 \
	.record_result = sq_record_result, .transition = sq_transition,        \
	.recover = sq_recover_interrupted,                                     \
	.each_pending = sq_for_each_pending, .list_rows = sq_list_rows,        \
	.show_rows = sq_show_rows, .awaiting_rows = sq_awaiting_rows,          \
	.approve = sq_approve, .counts = sq_counts,                            \
	.slot_taken = sq_slot_taken, .scheduled_rows = sq_scheduled_rows,      \
	.post_exists = sq_post_exists, SQ_PLANB_OPS, SQ_ENGAGE_OPS,            \
	.agenda_rows = sq_agenda_rows, .plan_rows = sq_plan_rows,              \
	.due_rows = sq_due_rows, .calendar_rows = sq_calendar_rows,            \
	.calendar_post = sq_calendar_post, .calendar_put = sq_calendar_put,    \
	.bulk_begin = sq_bulk_begin, .bulk_end = sq_bulk_end,                  \
	.stats = sq_stats, SQ_READ_OPS

const struct store_backend store_backend_sqlite = {
        .name = "sqlite",
        .open = sq_open,
        .close = sq_close,
        .start = sq_start,
        .sync = sq_sync,
        .wait = sq_wait,
        .stop = sq_stop,
        .counts_io = sq_counts_io,
        .take_counts = sq_take_counts,
        .keep_counts = sq_keep_counts,
        .backup = sq_backup,
        .failure = sq_failure,
        SQ_OPS,
};

#ifdef HAVE_LIBPQ
const struct store_backend store_backend_postgresql = {
        .name = "postgresql",
        .open = pg_open,
        .close = pg_close,
        .start = pg_start,
        .sync = pg_sync,
        .wait = pg_wait,
        .stop = pg_stop,
        .counts_io = pg_counts_io,
        .failure = pg_failure,
        .fence = pg_fence,
        .cluster = pg_cluster,
        .standby = pg_standby,
        .clock_trusted = pg_clock_trusted,
        .relay = pg_relay,
        .relays_serve = pg_relays_serve,
        .relay_answer = pg_relay_answer,
        .after_pull = pg_after_pull,
        .standby_start = pg_standby_start,
        .token_put = pg_token_put,
        .tokens_read = pg_tokens_read,
        .token_get = pg_token_get,
        .may_act = pg_may_act,
        .claim = pg_claim,
        .owns = pg_owns,
        .claims_known = pg_claims_known,
        .worker = pg_worker,
        .shared = pg_shared,
        .listed = pg_listed,
        .fired_elsewhere = pg_fired_elsewhere,
        .watch = pg_watch,
        .owned_elsewhere = pg_owned_elsewhere,
        .kept_counts = pg_kept_counts,
        SQ_OPS,
};
#endif
