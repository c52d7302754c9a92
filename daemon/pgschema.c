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
        " clock_skew_ms integer,"
        " version text NOT NULL DEFAULT '');",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Any 64-bit number no other user of the database is likely to take. */
#define MIGRATE_LOCK "7301637432012345601"

int pgschema_version(void)
{
	return SCHEMA_VERSION;
}

char *pgschema_sql(void)
{
	static const char head[] =
	        "DO $smmd$ DECLARE v integer; BEGIN "
	        "PERFORM pg_advisory_xact_lock(" MIGRATE_LOCK "); "
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

static void ignore_result(void *arg, const PGresult *res, const char *err)
{
	/* The group's done says it all. */
	(void)arg;
	(void)res;
	(void)err;
}

int pgschema_migrate(struct pgconn *c, pgconn_done_fn *done, void *arg)
{
	char *sql = pgschema_sql();
	int r;

	if (sql == NULL)
		return -ENOMEM;
	r = pgconn_query(c, sql, 0, NULL, ignore_result, NULL);
	free(sql);
	if (r == 0)
		r = pgconn_sync(c, done, arg);
	return r;
}
