/*
 * pgconn against a real PostgreSQL: tests/pg/with-pg.sh starts a
 * throwaway cluster and exports PGHOST, PGPORT, PGUSER, PGDATABASE and
 * SMM_PG_DIR; without them this test is skipped (77). Each test runs its
 * own loop and tables; the server is restarted and its backends
 * terminated for real (tests/pg/cluster.sh).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_check.h"
#include "pgconn.h"

struct t {
	uv_loop_t loop;
	struct pgconn *c;
	int ups, downs, notes;
	char down_why[512];
	char note[128];
	/* Results, in the order they came. */
	char log[8192];
	int done;
};

/* Appends what, then s in parentheses if given, then a space. */
static void add_log(struct t *t, const char *what, const char *s)
{
	size_t n = strlen(t->log);

	snprintf(t->log + n, sizeof(t->log) - n, s ? "%s(%s) " : "%s ", what,
	         s);
}

static void on_up(void *arg)
{
	((struct t *)arg)->ups++;
}

static void on_down(void *arg, const char *why)
{
	struct t *t = arg;

	t->downs++;
	snprintf(t->down_why, sizeof(t->down_why), "%s", why);
}

static void on_notify(void *arg, const char *chan, const char *payload)
{
	struct t *t = arg;

	t->notes++;
	snprintf(t->note, sizeof(t->note), "%s:%s", chan, payload);
}

/* Logs "v" + the first value, or "E(" + the error + ")". */
static void on_result(void *arg, const PGresult *res, const char *err)
{
	struct t *t = arg;

	char v[64];

	if (res && PQntuples(res) > 0) {
		snprintf(v, sizeof(v), "v%s", PQgetvalue(res, 0, 0));
		add_log(t, v, NULL);
	} else {
		add_log(t, res ? "ok" : "E", err);
	}
}

static void on_done(void *arg, const char *err)
{
	struct t *t = arg;

	add_log(t, "D", err);
	t->done++;
}

static void start(struct t *t, const char *conninfo, const char *name,
                  int64_t backoff_max_ms, int64_t result_timeout_ms)
{
	struct pgconn_opts o = {
	        .conninfo = conninfo,
	        .name = name,
	        .on_up = on_up,
	        .on_down = on_down,
	        .on_notify = on_notify,
	        .arg = t,
	        .backoff_min_ms = 20,
	        .backoff_max_ms = backoff_max_ms,
	        .result_timeout_ms = result_timeout_ms,
	};
	char err[256];

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(uv_loop_init(&t->loop), 0);
	ck_assert_msg(pgconn_start(&t->loop, &o, &t->c, err, sizeof(err)) == 0,
	              "%s", err);
}

static void run_until(struct t *t, const int *flag, int want, int ms)
{
	pg_run_until(&t->loop, flag, want, ms, t->down_why);
}

static void finish(struct t *t)
{
	pgconn_close(t->c);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&t->loop), 0);
}

static void query(struct t *t, const char *sql)
{
	ck_assert_int_eq(pgconn_query(t->c, sql, 0, NULL, on_result, t), 0);
}

static void sync_group(struct t *t)
{
	ck_assert_int_eq(pgconn_sync(t->c, on_done, t), 0);
}

/* Run one statement alone and wait for its group. */
static void one(struct t *t, const char *sql)
{
	int want = t->done + 1;

	query(t, sql);
	sync_group(t);
	run_until(t, &t->done, want, 5000);
}

START_TEST(test_pipeline_in_order)
{
	struct t t;
	const char *p[1];
	char num[16];

	start(&t, "", "check-pgconn", 200, 0);
	run_until(&t, &t.ups, 1, 5000);
	one(&t, "drop table if exists pipe");
	one(&t, "create table pipe (i int primary key)");
	t.log[0] = '\0';
	/* 100 inserts and their count, in one round trip. */
	for (int i = 0; i < 100; i++) {
		snprintf(num, sizeof(num), "%d", i);
		p[0] = num;
		ck_assert_int_eq(pgconn_query(t.c,
		                              "insert into pipe values ($1) "
		                              "returning i",
		                              1, p, on_result, &t),
		                 0);
	}
	query(&t, "select count(*) from pipe");
	sync_group(&t);
	ck_assert_uint_eq(pgconn_pending(t.c), 102);
	run_until(&t, &t.done, t.done + 1, 5000);
	ck_assert_msg(strncmp(t.log, "v0 v1 v2 ", 9) == 0, "%s", t.log);
	ck_assert_msg(strstr(t.log, "v98 v99 v100 D ") != NULL, "%s", t.log);
	ck_assert_uint_eq(pgconn_pending(t.c), 0);
	finish(&t);
}
END_TEST

/* A group is one transaction: an error undoes its earlier statements. */
START_TEST(test_group_is_a_transaction)
{
	struct t t;

	start(&t, "", "check-pgconn", 200, 0);
	run_until(&t, &t.ups, 1, 5000);
	one(&t, "drop table if exists tx");
	one(&t, "create table tx (i int primary key)");
	t.log[0] = '\0';
	query(&t, "insert into tx values (1)");
	query(&t, "insert into tx values (1)");
	query(&t, "insert into tx values (2)");
	sync_group(&t);
	query(&t, "select count(*) from tx");
	sync_group(&t);
	run_until(&t, &t.done, t.done + 2, 5000);
	ck_assert_msg(strstr(t.log, "ok E(ERROR: duplicate key") == t.log, "%s",
	              t.log);
	ck_assert_msg(strstr(t.log, "E(aborted: an earlier statement") != NULL,
	              "%s", t.log);
	ck_assert_msg(strstr(t.log, ") D(ERROR: duplicate key") != NULL, "%s",
	              t.log);
	/* Rolled back: the first insert is not there. */
	ck_assert_msg(strstr(t.log, "v0 D ") != NULL, "%s", t.log);
	finish(&t);
}
END_TEST

START_TEST(test_notify)
{
	struct t t;

	start(&t, "", "check-pgconn", 200, 0);
	run_until(&t, &t.ups, 1, 5000);
	one(&t, "listen smmd_test");
	one(&t, "select pg_notify('smmd_test', 'hello')");
	run_until(&t, &t.notes, 1, 5000);
	ck_assert_str_eq(t.note, "smmd_test:hello");
	finish(&t);
}
END_TEST

static void terminate_victim(uv_timer_t *tm)
{
	(void)tm;
	ck_assert_int_eq(pg_psql("select pg_terminate_backend(pid) from "
	                         "pg_stat_activity where application_name = "
	                         "'check-victim'",
	                         NULL, 0),
	                 0);
}

/* A terminated backend: the statement in flight is told, then it is back. */
START_TEST(test_terminated_backend)
{
	struct t t;
	uv_timer_t tm;

	start(&t, "", "check-victim", 200, 0);
	run_until(&t, &t.ups, 1, 5000);
	query(&t, "select pg_sleep(20)");
	sync_group(&t);
	uv_timer_init(&t.loop, &tm);
	uv_timer_start(&tm, terminate_victim, 200, 0);
	run_until(&t, &t.done, 1, 5000);
	/* The statement's own end, then its group's: ambiguous. */
	ck_assert_msg(strstr(t.log, "E(FATAL: terminating connection") == t.log,
	              "%s", t.log);
	ck_assert_msg(strstr(t.log, "D(connection lost: server closed the "
	                            "connection unexpectedly") != NULL,
	              "%s", t.log);
	ck_assert_msg(strstr(t.log, "(it may or may not have run)) ") != NULL,
	              "%s", t.log);
	ck_assert_int_eq(t.downs, 1);
	ck_assert(!pgconn_up(t.c));
	ck_assert_int_eq(pgconn_query(t.c, "select 1", 0, NULL, on_result, &t),
	                 -ENOTCONN);
	run_until(&t, &t.ups, 2, 5000);
	t.log[0] = '\0';
	one(&t, "select 41 + 1");
	ck_assert_str_eq(t.log, "v42 D ");
	uv_close((uv_handle_t *)&tm, NULL);
	finish(&t);
}
END_TEST

static void restart_server(uv_timer_t *tm)
{
	(void)tm;
	pg_cluster("restart", "immediate");
}

/* The server restarted: reconnection on its own, with backoff. */
START_TEST(test_server_restart)
{
	struct t t;
	uv_timer_t tm;

	start(&t, "", "check-pgconn", 300, 0);
	run_until(&t, &t.ups, 1, 5000);
	one(&t, "drop table if exists kept");
	one(&t, "create table kept (i int)");
	one(&t, "insert into kept values (7)");
	uv_timer_init(&t.loop, &tm);
	uv_timer_start(&tm, restart_server, 0, 0);
	run_until(&t, &t.downs, 1, 15000);
	run_until(&t, &t.ups, 2, 15000);
	t.log[0] = '\0';
	one(&t, "select i from kept");
	ck_assert_str_eq(t.log, "v7 D ");
	uv_close((uv_handle_t *)&tm, NULL);
	finish(&t);
}
END_TEST

/* No server: retried with backoff, told each time, never up. */
START_TEST(test_no_server)
{
	struct t t;

	start(&t, "host=/nonexistent-smmd-dir port=5", "check-pgconn", 100, 0);
	run_until(&t, &t.downs, 4, 5000);
	ck_assert_int_eq(t.ups, 0);
	ck_assert_msg(strstr(t.down_why, "cannot connect:") == t.down_why, "%s",
	              t.down_why);
	ck_assert_msg(strstr(t.down_why, "/nonexistent-smmd-dir") != NULL, "%s",
	              t.down_why);
	ck_assert_int_eq(pgconn_sync(t.c, on_done, &t), -ENOTCONN);
	finish(&t);
}
END_TEST

/*
 * Names are resolved before libpq sees them: a bad one is said so by
 * pgconn ("resolving ..."; libpq would say "could not translate host
 * name"), and a good one leads to a connection attempt to its address.
 */
START_TEST(test_resolution)
{
	struct t t;

	start(&t, "host=localhost port=1", "check-pgconn", 100, 0);
	run_until(&t, &t.downs, 1, 5000);
	/* libpq names the address it was given: ours. */
	ck_assert_msg(strstr(t.down_why, "127.0.0.1") ||
	                      strstr(t.down_why, "::1"),
	              "%s", t.down_why);
	finish(&t);
	start(&t, "host=no-such-host.invalid port=1", "check-pgconn", 100, 0);
	run_until(&t, &t.downs, 1, 5000);
	ck_assert_msg(strstr(t.down_why, "resolving no-such-host.invalid") !=
	                      NULL,
	              "%s", t.down_why);
	finish(&t);
}
END_TEST

START_TEST(test_bad_conninfo)
{
	uv_loop_t loop;
	struct pgconn *c = (struct pgconn *)&loop;
	struct pgconn_opts o = {.conninfo = "host=x nosuchkeyword=1"};
	char err[256];

	uv_loop_init(&loop);
	ck_assert_int_eq(pgconn_start(&loop, &o, &c, err, sizeof(err)), -1);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "nosuchkeyword") != NULL, "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	o.conninfo = "postgresql://[::1";
	ck_assert_int_eq(pgconn_start(&loop, &o, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "the PostgreSQL address:") == err, "%s", err);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* No answer in time: the connection is dropped, never a cancel sent. */
START_TEST(test_result_timeout)
{
	struct t t;

	start(&t, "", "check-pgconn", 100, 300);
	run_until(&t, &t.ups, 1, 5000);
	query(&t, "select pg_sleep(3)");
	sync_group(&t);
	run_until(&t, &t.done, 1, 2000);
	ck_assert_msg(strstr(t.log, "no answer after 300 ms") != NULL, "%s",
	              t.log);
	run_until(&t, &t.ups, 2, 5000);
	finish(&t);
}
END_TEST

/* Closing with statements in flight: each is told, nothing leaks. */
START_TEST(test_close_in_flight)
{
	struct t t;

	start(&t, "", "check-pgconn", 100, 0);
	run_until(&t, &t.ups, 1, 5000);
	query(&t, "select pg_sleep(1)");
	sync_group(&t);
	query(&t, "select 1"); /* queued, never sent */
	pgconn_close(t.c);
	ck_assert_msg(strstr(t.log, "E(closing (it may or may not have run)) "
	                            "D(closing (it may or may not have run)) "
	                            "E(closing (it was not sent))") == t.log,
	              "%s", t.log);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&t.loop), 0);
}
END_TEST

static void prepared(struct t *t, const char *sql, const char *param)
{
	const char *params[] = {param};

	ck_assert_int_eq(
	        pgconn_query_prepared(t->c, sql, 1, params, on_result, t), 0);
}

static void kill_own_backend(uv_timer_t *tm)
{
	(void)tm;
	ck_assert_int_eq(pg_psql("select pg_terminate_backend(pid) from "
	                         "pg_stat_activity where application_name = "
	                         "'check-prepared'",
	                         NULL, 0),
	                 0);
}

/*
 * A text is prepared once per connection and run many times; a prepare
 * whose group failed before it is undone (groups already sent that use
 * it fail; later ones prepare it again); a new connection prepares again.
 */
START_TEST(test_prepared)
{
	static const char sql[] = "select $1::int + 1";
	struct t t;
	uv_timer_t tm;

	start(&t, "", "check-prepared", 200, 0);
	run_until(&t, &t.ups, 1, 5000);
	prepared(&t, sql, "1");
	prepared(&t, sql, "2");
	sync_group(&t);
	run_until(&t, &t.done, 1, 5000);
	prepared(&t, sql, "3");
	sync_group(&t);
	run_until(&t, &t.done, 2, 5000);
	ck_assert_str_eq(t.log, "v2 v3 D v4 D ");
	/* Prepared once, on this connection. */
	t.log[0] = '\0';
	one(&t, "select count(*) from pg_prepared_statements");
	ck_assert_str_eq(t.log, "v1 D ");

	/* A new text after a failed statement: not prepared. The group sent
	 * before that is known fails; the one after prepares it again. */
	t.log[0] = '\0';
	query(&t, "select 1 / 0");
	prepared(&t, "select $1::int * 10", "5");
	sync_group(&t);
	prepared(&t, "select $1::int * 10", "6");
	sync_group(&t);
	run_until(&t, &t.done, 5, 5000);
	ck_assert_str_eq(
	        t.log, "E(ERROR: division by zero) E(aborted: an earlier "
	               "statement of its group failed) D(ERROR: division by "
	               "zero) E(ERROR: prepared statement \"smmd_1\" does not "
	               "exist) D(ERROR: prepared statement \"smmd_1\" does "
	               "not exist) ");
	ck_assert_int_eq(t.ups, 1); /* that is no reason to reconnect */
	t.log[0] = '\0';
	prepared(&t, "select $1::int * 10", "7");
	sync_group(&t);
	run_until(&t, &t.done, 6, 5000);
	ck_assert_str_eq(t.log, "v70 D ");

	/* A text the server refuses: said, and its slot is free again. */
	t.log[0] = '\0';
	prepared(&t, "select $1::nosuchtype", "1");
	sync_group(&t);
	run_until(&t, &t.done, 7, 5000);
	ck_assert_msg(strstr(t.log, "E(aborted: ") == t.log &&
	                      strstr(t.log, "D(ERROR: type \"nosuchtype\" "
	                                    "does not exist") != NULL,
	              "%s", t.log);
	t.log[0] = '\0';
	prepared(&t, "select $1::int - 1", "3");
	sync_group(&t);
	run_until(&t, &t.done, 8, 5000);
	ck_assert_str_eq(t.log, "v2 D ");

	/* The server loses them behind smmd's back: a new connection. */
	one(&t, "deallocate all");
	t.log[0] = '\0';
	prepared(&t, sql, "4");
	sync_group(&t);
	run_until(&t, &t.ups, 2, 5000);
	ck_assert_msg(strstr(t.log, "does not exist") != NULL, "%s", t.log);
	t.log[0] = '\0';
	prepared(&t, sql, "5");
	sync_group(&t);
	run_until(&t, &t.done, 11, 5000);
	ck_assert_str_eq(t.log, "v6 D ");

	/* A new connection has none: prepared again. */
	uv_timer_init(&t.loop, &tm);
	uv_timer_start(&tm, kill_own_backend, 0, 0);
	run_until(&t, &t.ups, 3, 5000);
	t.log[0] = '\0';
	prepared(&t, sql, "8");
	sync_group(&t);
	run_until(&t, &t.done, 12, 5000);
	ck_assert_str_eq(t.log, "v9 D ");
	uv_close((uv_handle_t *)&tm, NULL);
	finish(&t);
}
END_TEST

static Suite *pgconn_suite(void)
{
	Suite *s = suite_create("pgconn");
	TCase *tc = tcase_create("postgresql");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pipeline_in_order);
	tcase_add_test(tc, test_group_is_a_transaction);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_terminated_backend);
	tcase_add_test(tc, test_no_server);
	tcase_add_test(tc, test_resolution);
	tcase_add_test(tc, test_bad_conninfo);
	tcase_add_test(tc, test_result_timeout);
	tcase_add_test(tc, test_close_in_flight);
	tcase_add_test(tc, test_prepared);
	/* Last: the others need not wait for the server to come back. */
	tcase_add_test(tc, test_server_restart);
	suite_add_tcase(s, tc);
	return s;
}

SMM_PG_CHECK_MAIN(pgconn_suite)
