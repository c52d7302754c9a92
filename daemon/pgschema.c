/*
 * The cluster schema's migrations (pgschema.h). Entry i brings the schema
 * from version i to i + 1; never edit one that has shipped, add another.
 *
 * All of them go in one DO block: PostgreSQL runs it as one statement in
 * one transaction, after pg_advisory_xact_lock, so two nodes starting at
 * once take turns, and the second finds nothing left to do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgschema.h"

/*
 * smmd_fence (migrations 3 and 10): the order lock, this node's row and
 * its lease checked, then (between the two) the group's writer noted,
 * then the group is the next in the node's chain.
 */
#define FENCE_HEAD FENCE_OPEN("")
/* args: what the fence takes after its four first arguments. */
#define FENCE_OPEN(args)                                                     \
	"CREATE OR REPLACE FUNCTION smmd_fence(node text, ep bigint,"        \
	" margin_ms bigint, n bigint" args ") RETURNS void LANGUAGE plpgsql" \
	" AS $f$ DECLARE r smmd_node; BEGIN"                                 \
	" PERFORM pg_advisory_xact_lock(" PGSCHEMA_ORDER_LOCK ");"           \
	" SELECT * INTO r FROM smmd_node WHERE node_id = node"               \
	"  FOR KEY SHARE;"                                                   \
	" IF NOT FOUND OR r.epoch <> ep OR r.lease_until <="                 \
	"  clock_timestamp() + margin_ms * interval '1 millisecond' THEN"    \
	"  RAISE EXCEPTION 'smmd fence: node % epoch % holds no lease for"   \
	" % ms more', node, ep, margin_ms"                                   \
	"  USING ERRCODE = 'serialization_failure'; END IF;"
#define FENCE_TAIL                                                         \
	" UPDATE smmd_chain SET shipped = n WHERE node_id = node AND"      \
	"  epoch = ep AND shipped = n - 1;"                                \
	" IF NOT FOUND THEN"                                               \
	"  RAISE EXCEPTION 'smmd stale: group % of node % does not follow" \
	" the last it shipped', n, node"                                   \
	"  USING ERRCODE = 'serialization_failure'; END IF;"

/* Migration 14's fence: it tells of its group only when asked (tell). */
#define FENCE_TELLS_WHEN_ASKED                                         \
	FENCE_OPEN(", tell boolean")                                   \
	" PERFORM set_config('smmd.writer', node || '/' || ep, true);" \
	" IF tell THEN"                                                \
	"  PERFORM pg_notify('smmd_change', node || '/' || ep);"       \
	" END IF;" FENCE_TAIL " END $f$;"

/*
 * smmd_track (migrations 3 and 13): the order lock, then each change
 * numbered and logged; 13 adds the pauses' NOTIFY between the two.
 */
#define TRACK_HEAD                                                \
	"CREATE OR REPLACE FUNCTION smmd_track() RETURNS trigger" \
	" LANGUAGE plpgsql AS $f$ BEGIN"                          \
	" PERFORM pg_advisory_xact_lock(" PGSCHEMA_ORDER_LOCK ");"
#define TRACK_TAIL                                                      \
	" IF TG_OP = 'DELETE' THEN"                                     \
	"  INSERT INTO smmd_change (v, tbl, op, row) VALUES"            \
	"  (nextval('smmd_v_seq'), TG_TABLE_NAME, 'D', to_jsonb(OLD));" \
	"  RETURN OLD;"                                                 \
	" END IF;"                                                      \
	" NEW._v := nextval('smmd_v_seq');"                             \
	" NEW._w := current_setting('smmd.writer', true);"              \
	" INSERT INTO smmd_change (v, tbl, op, row) VALUES"             \
	" (NEW._v, TG_TABLE_NAME, 'U', to_jsonb(NEW));"                 \
	" RETURN NEW;"                                                  \
	" END $f$;"

static const char *const migrations[] = {
        /*
         * 1: nodes and their leases. Every lease time is the database's
         * clock (clock_timestamp()), never a node's. epoch comes from a
         * sequence at each registration, so a node that comes back after
         * being reaped is a new owner and its old claims are not its own.
         */
        "CREATE SEQUENCE smmd_epoch_seq;"
        "CREATE TABLE smmd_node ("
        " node_id text PRIMARY KEY,"
        " epoch bigint NOT NULL,"
        " started_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
        " lease_until timestamptz NOT NULL,"
        " clock_skew_ms bigint,"
        " version text NOT NULL DEFAULT '');",
        /*
         * 2: replication (pgrepl.c). Every write to a replicated table
         * goes through smmd_track: it takes one advisory lock until its
         * transaction ends, so changes commit in the order of their
         * numbers (v) and a node that has read up to v has missed none;
         * it numbers the row (_v) and logs its image. smmd_cas turns a
         * compare-and-set that matched no row into an error that rolls
         * the node's whole group back; smmd_fence does the same unless
         * the node holds its lease for margin more and the group is the
         * next in its chain (smmd_chain), so a group after a refused one is
         * refused too.
         */
        "CREATE SEQUENCE smmd_v_seq;"
        "CREATE TABLE smmd_change ("
        " v bigint PRIMARY KEY,"
        " tbl text NOT NULL,"
        " op char(1) NOT NULL,"
        " row jsonb NOT NULL,"
        " at timestamptz NOT NULL DEFAULT clock_timestamp());"
        "CREATE TABLE smmd_chain ("
        " node_id text NOT NULL,"
        " epoch bigint NOT NULL,"
        " shipped bigint NOT NULL,"
        " PRIMARY KEY (node_id, epoch));"
        "CREATE FUNCTION smmd_track() RETURNS trigger LANGUAGE plpgsql AS"
        " $f$ BEGIN"
        " PERFORM pg_advisory_xact_lock(" PGSCHEMA_ORDER_LOCK ");"
        " IF TG_OP = 'DELETE' THEN"
        "  INSERT INTO smmd_change (v, tbl, op, row) VALUES"
        "  (nextval('smmd_v_seq'), TG_TABLE_NAME, 'D', to_jsonb(OLD));"
        "  RETURN OLD;"
        " END IF;"
        " NEW._v := nextval('smmd_v_seq');"
        " INSERT INTO smmd_change (v, tbl, op, row) VALUES"
        " (NEW._v, TG_TABLE_NAME, 'U', to_jsonb(NEW));"
        " RETURN NEW;"
        " END $f$;"
        "CREATE FUNCTION smmd_cas(n bigint, what text, v bigint)"
        " RETURNS bigint LANGUAGE plpgsql AS $f$ BEGIN"
        " IF n <> 1 THEN RAISE EXCEPTION 'smmd stale: %', what"
        "  USING ERRCODE = 'serialization_failure'; END IF;"
        " RETURN v; END $f$;"
        /*
         * KEY SHARE on the node's row: its lease renewals (an UPDATE of
         * other columns) go on meanwhile, but a peer reaping it (a
         * DELETE) waits until this group has committed or not.
         */
        "CREATE FUNCTION smmd_fence(node text, ep bigint, margin_ms bigint,"
        " n bigint) RETURNS void LANGUAGE plpgsql AS $f$"
        " DECLARE r smmd_node; BEGIN"
        /* The order lock before any row's: smmd_track takes it too. */
        " PERFORM pg_advisory_xact_lock(" PGSCHEMA_ORDER_LOCK ");"
        " SELECT * INTO r FROM smmd_node WHERE node_id = node"
        "  FOR KEY SHARE;"
        " IF NOT FOUND OR r.epoch <> ep OR r.lease_until <="
        "  clock_timestamp() + margin_ms * interval '1 millisecond' THEN"
        "  RAISE EXCEPTION 'smmd fence: node % epoch % holds no lease for"
        " % ms more', node, ep, margin_ms"
        "  USING ERRCODE = 'serialization_failure'; END IF;"
        /* The lease's registration made the row (shipped 0). */
        " UPDATE smmd_chain SET shipped = n WHERE node_id = node AND"
        "  epoch = ep AND shipped = n - 1;"
        " IF NOT FOUND THEN"
        "  RAISE EXCEPTION 'smmd stale: group % of node % does not follow"
        " the last it shipped', n, node"
        "  USING ERRCODE = 'serialization_failure'; END IF;"
        " END $f$;",
        /*
         * 3: each row keeps who wrote it last (_w: node and epoch, set by
         * smmd_fence for its group, written by smmd_track; pgrepl.c adds
         * the column): a node's change to a row its own group still in
         * flight changed compares with that stamp, since the row's
         * number is not known yet (pgrepl.c, write_cas).
         */
        TRACK_HEAD TRACK_TAIL FENCE_HEAD
        " PERFORM set_config('smmd.writer', node || '/' || ep, true);" FENCE_TAIL
        " END $f$;",
        /*
         * 4: standbys (an exclusive lease's losers) say they are there,
         * every beat, so that smmctl status on the working node lists
         * them with their clock offsets. Not a lease: nothing is fenced
         * by it, and a row past seen_until is a standby gone.
         */
        "CREATE TABLE smmd_standby ("
        " node_id text PRIMARY KEY,"
        " since timestamptz NOT NULL DEFAULT clock_timestamp(),"
        " seen_until timestamptz NOT NULL,"
        " clock_skew_ms bigint,"
        " version text NOT NULL DEFAULT '');",
        /*
         * 5: a node's view marked whole at its clean stop (store_pg.c):
         * a token of one use, committed before the mark, with the change
         * number the view was at. The next start keeps the view only if
         * it takes the token back: a database dropped and made again,
         * restored from a dump or recovered to a point before that stop
         * has none.
         */
        "CREATE TABLE smmd_view_mark ("
        " token text PRIMARY KEY,"
        " v bigint NOT NULL,"
        " at timestamptz NOT NULL DEFAULT clock_timestamp());",
        /*
         * 6: commands a standby relays to the working node (pgrelay.c):
         * the request line and who asked, who took it, and the reply,
         * which the standby reads back and deletes with the row.
         */
        "CREATE TABLE smmd_request ("
        " id bigserial PRIMARY KEY,"
        " from_node text NOT NULL,"
        " uid bigint NOT NULL,"
        " gid bigint NOT NULL,"
        " readonly boolean NOT NULL,"
        " line text NOT NULL,"
        " asked_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
        " taken_by text,"
        " reply text,"
        " answered_at timestamptz);",
        /*
         * 7: the change log is trimmed (pgrepl_whole.c): smmd_trim says how
         * far, in the same transaction as the rows go, so a node whose
         * view is behind it knows that it missed changes and reads the
         * tables whole instead.
         */
        "CREATE TABLE smmd_trim ("
        " id integer PRIMARY KEY CHECK (id = 1),"
        " v bigint NOT NULL);"
        "INSERT INTO smmd_trim VALUES (1, 0);",
        /*
         * 8: channels' tokens, sealed by the nodes (tokenseal.h: the
         * database never holds them in the clear), so that a node that
         * takes over uses what the one before it got or renewed; key_id
         * names the key they are sealed under. Not a replicated table:
         * read by a node as it starts working, written under a live
         * lease (store_pg.c).
         */
        "CREATE TABLE smmd_token ("
        " channel text PRIMARY KEY,"
        " sealed text NOT NULL,"
        " saved_ms bigint NOT NULL,"
        " key_id text NOT NULL,"
        " node_id text NOT NULL,"
        " epoch bigint NOT NULL,"
        " at timestamptz NOT NULL DEFAULT clock_timestamp());",
        /*
         * 9: claims (lease.c). A node fires only the channels it owns
         * here, under the epoch it registered with, so two nodes never
         * send on one channel (its min_interval, its in-flight limit and
         * its tokens are one node's). A row whose owner's lease ran out,
         * or whose epoch is not its node's now, is free. A worker works
         * beside the node that holds the exclusive lease (the
         * coordinator), whose registration does not count it; a node
         * that claims counts in the shares, and lists its channels (one
         * a line) so that a free one goes to the node with the fewest of
         * those that list it.
         */
        "ALTER TABLE smmd_node ADD COLUMN worker boolean NOT NULL "
        "DEFAULT false;"
        "ALTER TABLE smmd_node ADD COLUMN claims boolean NOT NULL "
        "DEFAULT false;"
        "ALTER TABLE smmd_node ADD COLUMN channels text NOT NULL "
        "DEFAULT '';"
        "CREATE TABLE smmd_channel_owner ("
        " channel text PRIMARY KEY,"
        " node_id text NOT NULL,"
        " epoch bigint NOT NULL,"
        " since timestamptz NOT NULL DEFAULT clock_timestamp());",
        /*
         * 10: a group's fence says who wrote it (NOTIFY smmd_change, its
         * writer as the payload, sent at its commit): the working node
         * beside workers pulls when another writer's group committed
         * rather than every second (store_pg.c).
         */
        FENCE_HEAD
        " PERFORM set_config('smmd.writer', node || '/' || ep, true);"
        " PERFORM pg_notify('smmd_change', node || '/' || ep);" FENCE_TAIL
        " END $f$;",
        /*
         * 11: each claim of a channel has a fencing token of its own,
         * drawn from the epochs' sequence as it is taken: a request
         * carries its channel's, which rises with each owner of the
         * channel, whichever node registered first.
         */
        ("ALTER TABLE smmd_channel_owner ADD COLUMN fence bigint NOT NULL "
         "DEFAULT nextval('smmd_epoch_seq');"),
        /*
         * 12: a command on one delivery goes to the node that fires its
         * channel (pgrelay.c): the request names the channel, and that
         * node takes it (the working node when no live node owns it).
         */
        "ALTER TABLE smmd_request ADD COLUMN to_channel text;",
        /*
         * 13: a change of the pauses says so at its commit (NOTIFY
         * smmd_pause): workers, which pull every beat, pull at once, so
         * that a pause holds there, and a resume ends there, within
         * milliseconds rather than up to a beat (store_pg.c). Notifies
         * of one transaction are one.
         */
        TRACK_HEAD " IF TG_TABLE_NAME = 'pauses' THEN"
                   "  PERFORM pg_notify('smmd_pause', '');"
                   " END IF;" TRACK_TAIL,
        /*
         * 14: the fence tells the other nodes of its group only when
         * its writer asks (tell): a NOTIFY at every group's commit woke
         * the listening node and its backend hundreds of times a second
         * for a hint read once a beat (pgrepl.c's TELL_EVERY_MS). The
         * fence of 10, which always tells, stays for nodes of before.
         */
        FENCE_TELLS_WHEN_ASKED,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int pgschema_version(void)
{
	return SCHEMA_VERSION;
}

char *pgschema_sql(void)
{
	static const char head[] =
	        "DO $smmd$ DECLARE v integer; BEGIN "
	        "PERFORM pg_advisory_xact_lock(" PGSCHEMA_LOCK "); "
	        "CREATE TABLE IF NOT EXISTS smmd_schema (version integer NOT "
	        "NULL); "
	        "SELECT version INTO v FROM smmd_schema; "
	        "IF v IS NULL THEN INSERT INTO smmd_schema VALUES (0); v := 0; "
	        "END IF; "
	        "IF v > %d THEN RAISE EXCEPTION 'the database schema is at "
	        "version %%, newer than this smmd knows (%d): upgrade smmd', "
	        "v; END IF; ";
	size_t len = sizeof(head) + 64;
	char *sql, *p;

	for (int i = 0; i < SCHEMA_VERSION; i++)
		len += strlen(migrations[i]) + 96;
	if ((sql = malloc(len)) == NULL)
		return NULL;
	p = sql + snprintf(sql, len, head, SCHEMA_VERSION, SCHEMA_VERSION);
	for (int i = 0; i < SCHEMA_VERSION; i++)
		p += snprintf(p, len - (size_t)(p - sql),
		              "IF v < %d THEN %s UPDATE smmd_schema SET "
		              "version = %d; END IF; ",
		              i + 1, migrations[i], i + 1);
	snprintf(p, len - (size_t)(p - sql), "END $smmd$");
	return sql;
}

int pgschema_migrate(struct pgconn *c, pgconn_done_fn *done, void *arg)
{
	char *sql = pgschema_sql();
	int r;

	if (sql == NULL)
		return -ENOMEM;
	r = pgconn_query(c, sql, 0, NULL, pgconn_ignore, NULL);
	free(sql);
	if (r == 0)
		r = pgconn_sync(c, done, arg);
	return r;
}
