/*
 * viewcount.c against a real SQLite database: the counts follow every
 * change of main.deliveries, and whatever SQLite undoes (a rollback, a
 * savepoint rolled back, a statement aborted half-way inside a
 * transaction) is undone in them too.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>

#include "check_main.h"
#include "viewcount.h"

static sqlite3 *db;

static void exec_ok(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	              "%s: %s", sql, msg ? msg : "?");
}

static void setup(void)
{
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	/* k: a unique column, to abort a statement half-way. */
	exec_ok("CREATE TABLE deliveries (id TEXT PRIMARY KEY, state TEXT "
	        "NOT NULL, k INTEGER UNIQUE);"
	        "INSERT INTO deliveries VALUES ('d1', 'scheduled', 1), ('d2', "
	        "'scheduled', 2), ('d3', 'published', 3)");
}

static void teardown(void)
{
	sqlite3_close(db);
}

/* The kept counts equal a scan's, and state has n. */
static void assert_counts(enum delivery_state state, int64_t n)
{
	int64_t kept[DS_COUNT], scanned[DS_COUNT] = {0};
	sqlite3_stmt *st;

	ck_assert_int_eq(viewcount_read(db, kept), 0);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	                                    "SELECT state, count(*) FROM "
	                                    "deliveries GROUP BY state",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		scanned[state_parse((const char *)sqlite3_column_text(st, 0))] =
		        sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	for (int i = 0; i < DS_COUNT; i++)
		ck_assert_msg(kept[i] == scanned[i], "%s: kept %lld, rows %lld",
		              state_name(i), (long long)kept[i],
		              (long long)scanned[i]);
	ck_assert_int_eq(kept[state], n);
}

static void start(void)
{
	char err[256];

	ck_assert_msg(viewcount_start(db, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_follows_changes)
{
	start();
	assert_counts(DS_SCHEDULED, 2); /* what was there first */
	exec_ok("INSERT INTO deliveries VALUES ('d4', 'scheduled', 4)");
	assert_counts(DS_SCHEDULED, 3);
	exec_ok("UPDATE deliveries SET state = 'published' WHERE id IN "
	        "('d1', 'd2')");
	assert_counts(DS_PUBLISHED, 3);
	exec_ok("UPDATE deliveries SET k = 7 WHERE id = 'd4'"); /* no move */
	exec_ok("DELETE FROM deliveries WHERE id = 'd3'");
	assert_counts(DS_PUBLISHED, 2);
	assert_counts(DS_SCHEDULED, 1);
}
END_TEST

START_TEST(test_rollbacks)
{
	start();
	exec_ok("BEGIN; UPDATE deliveries SET state = 'failed'; "
	        "INSERT INTO deliveries VALUES ('d4', 'held', 4)");
	assert_counts(DS_FAILED, 3); /* the transaction sees its own */
	exec_ok("ROLLBACK");
	assert_counts(DS_FAILED, 0);
	assert_counts(DS_SCHEDULED, 2);
	exec_ok("BEGIN; DELETE FROM deliveries WHERE id = 'd1'; "
	        "SAVEPOINT s; UPDATE deliveries SET state = 'missed'; "
	        "ROLLBACK TO s; RELEASE s; COMMIT");
	assert_counts(DS_MISSED, 0);
	assert_counts(DS_SCHEDULED, 1);
}
END_TEST

/*
 * A statement aborted half-way (here a constraint, as an I/O error may)
 * inside a transaction that goes on: SQLite undoes the rows it changed
 * before the abort, and calls no hook that would say so.
 */
START_TEST(test_statement_aborted)
{
	start();
	exec_ok("BEGIN");
	/* d1 and d2 move first (rowid order); d3 takes d1's k: abort. */
	ck_assert_int_eq(sqlite3_exec(db,
	                              "UPDATE deliveries SET state = "
	                              "'cancelled', k = CASE id WHEN 'd3' "
	                              "THEN 1 ELSE k END",
	                              NULL, NULL, NULL),
	                 SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 0); /* still open */
	exec_ok("INSERT INTO deliveries VALUES ('d4', 'cancelled', 4)");
	exec_ok("COMMIT");
	assert_counts(DS_CANCELLED, 1);
	assert_counts(DS_SCHEDULED, 2);
}
END_TEST

START_TEST(test_stop)
{
	int64_t counts[DS_COUNT];

	start();
	viewcount_stop(db);
	ck_assert_int_eq(viewcount_read(db, counts), -EIO);
	/* The triggers went with the table: writes go on. */
	exec_ok("INSERT INTO deliveries VALUES ('d4', 'scheduled', 4)");
	start();
	assert_counts(DS_SCHEDULED, 3);
}
END_TEST

static Suite *viewcount_suite(void)
{
	Suite *s = suite_create("viewcount");
	TCase *tc = tcase_create("viewcount");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_follows_changes);
	tcase_add_test(tc, test_rollbacks);
	tcase_add_test(tc, test_statement_aborted);
	tcase_add_test(tc, test_stop);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(viewcount_suite)
