/*
 * Commands relayed from a standby to the working node (daemon/pgrelay.c),
 * against a real PostgreSQL (tests/pg/pgrelay.sh runs this under
 * with-pg.sh): a request goes over and its reply comes back; one nobody
 * takes is withdrawn after 3 s and is never taken afterwards; a relay
 * freed with a request out says it may have been done.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_check.h"
#include "pgrelay.h"
#include "pgschema.h"

static uv_loop_t loop;
static struct pgconn *c_standby, *c_worker;
static int up, migrated;

/* What the asker was told. */
static int answers, maybe;
static char reply[256], why[256];

/* What the worker was asked. */
static int requests;
static int64_t request_id;
static struct pgrelay_peer request_peer;
static char request_line[256];
static char requests_seen[1024]; /* "LINE routed|direct;" each */

static void on_up(void *arg)
{
	(void)arg;
	up++;
}

static void on_migrated(void *arg, const char *err)
{
	(void)arg;
	ck_assert_msg(err == NULL, "%s", err);
	migrated = 1;
}

static struct pgconn *connect_as(const char *name)
{
	struct pgconn_opts o = {.conninfo = "", .name = name, .on_up = on_up};
	struct pgconn *c;
	char err[256];
	int want = up + 1;

	ck_assert_msg(pgconn_start(&loop, &o, &c, err, sizeof(err)) == 0, "%s",
	              err);
	pg_run_until(&loop, &up, want, 5000, name);
	return c;
}

static void setup(void)
{
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	up = migrated = answers = maybe = requests = 0;
	reply[0] = why[0] = request_line[0] = requests_seen[0] = '\0';
	c_standby = connect_as("standby");
	c_worker = connect_as("worker");
	ck_assert_int_eq(pgschema_migrate(c_worker, on_migrated, NULL), 0);
	pg_run_until(&loop, &migrated, 1, 5000, "migration");
	pg_psql("delete from smmd_request", NULL, 0);
}

static void teardown(void)
{
	pgconn_close(c_standby);
	pgconn_close(c_worker);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void on_answer(void *arg, const char *r, const char *w, int m)
{
	(void)arg;
	answers++;
	maybe = m;
	snprintf(reply, sizeof(reply), "%s", r ? r : "");
	snprintf(why, sizeof(why), "%s", w ? w : "");
}

static void on_request(void *arg, int64_t id, const struct pgrelay_peer *p,
                       const char *line)
{
	(void)arg;
	requests++;
	request_id = id;
	request_peer = *p;
	snprintf(request_line, sizeof(request_line), "%s", line);
	snprintf(requests_seen + strlen(requests_seen),
	         sizeof(requests_seen) - strlen(requests_seen), "%s %s;", line,
	         p->routed ? "routed" : "direct");
}

static long long num(const char *sql)
{
	char out[64];

	ck_assert_int_eq(pg_psql(sql, out, sizeof(out)), 0);
	return strtoll(out, NULL, 10);
}

/* Run the loop until the standby's insert is committed. */
static void until_inserted(long long n)
{
	uint64_t end = uv_hrtime() + 3000000000ULL;

	while (num("select count(*) from smmd_request") < n &&
	       uv_hrtime() < end)
		pg_run_for(&loop, 20);
	ck_assert_int_eq(num("select count(*) from smmd_request"), n);
}

static long long rows(void)
{
	char out[64];

	ck_assert_int_eq(
	        pg_psql("select count(*) from smmd_request", out, sizeof(out)),
	        0);
	return strtoll(out, NULL, 10);
}

START_TEST(test_relayed_and_answered)
{
	struct pgrelay *standby = pgrelay_new(&loop, c_standby, "standby-1");
	struct pgrelay *worker = pgrelay_new(&loop, c_worker, "worker-1");
	struct pgrelay_peer p = {.uid = 1001, .gid = 1002, .readonly = 1};
	const char line[] = "{\"id\":7,\"cmd\":\"add\",\"args\":{}}";

	pgrelay_serve(worker, on_request, NULL, "worker-1", 1);
	ck_assert_int_eq(pgrelay_ask(standby, &p, line, NULL, on_answer, NULL),
	                 0);
	ck_assert(pgrelay_waiting(standby));
	until_inserted(1);
	pgrelay_take(worker); /* a NOTIFY says so in smmd */
	pg_run_until(&loop, &requests, 1, 2000, "the request");
	/* Taken, it is not taken again while it runs. */
	pgrelay_take(worker);
	pg_run_for(&loop, 300);
	ck_assert_int_eq(requests, 1);
	ck_assert_str_eq(request_line, line);
	ck_assert_int_eq(request_peer.uid, 1001);
	ck_assert_int_eq(request_peer.gid, 1002);
	ck_assert_int_eq(request_peer.readonly, 1);
	ck_assert_int_eq(answers, 0);
	pgrelay_answer(worker, request_id, "{\"id\":7,\"ok\":true}\n");
	pg_run_until(&loop, &answers, 1, 2000, "the reply");
	ck_assert_str_eq(reply, "{\"id\":7,\"ok\":true}\n");
	ck_assert(!pgrelay_waiting(standby));
	/* Read back, the row is gone; nothing is taken twice. */
	ck_assert_int_eq(rows(), 0);
	pgrelay_take(worker);
	pg_run_for(&loop, 300);
	ck_assert_int_eq(requests, 1);
	pgrelay_free(standby);
	pgrelay_free(worker);
}
END_TEST

/* Nobody works: withdrawn after 3 s, not done. */
START_TEST(test_untaken_is_withdrawn)
{
	struct pgrelay *standby = pgrelay_new(&loop, c_standby, "standby-1");
	struct pgrelay_peer p = {.uid = 0};

	ck_assert_int_eq(
	        pgrelay_ask(standby, &p, "{\"id\":1}", NULL, on_answer, NULL),
	        0);
	pg_run_for(&loop, 2500);
	ck_assert_int_eq(answers, 0);
	pg_run_until(&loop, &answers, 1, 2000, "the withdrawal");
	ck_assert_str_eq(reply, "");
	ck_assert_msg(strstr(why, "not done") != NULL, "%s", why);
	ck_assert_int_eq(maybe, 0);
	ck_assert_int_eq(rows(), 0);
	pgrelay_free(standby);
}
END_TEST

/* A request older than 3 s is never taken: its standby withdraws it. */
START_TEST(test_old_is_not_taken)
{
	struct pgrelay *worker = pgrelay_new(&loop, c_worker, "worker-1");

	ck_assert_int_eq(pg_psql("insert into smmd_request (from_node, uid, "
	                         "gid, readonly, line, asked_at) values "
	                         "('gone', 0, 0, false, '{}', "
	                         "clock_timestamp() - interval '4 seconds')",
	                         NULL, 0),
	                 0);
	pgrelay_serve(worker, on_request, NULL, "worker-1", 1);
	pgrelay_take(worker);
	pg_run_for(&loop, 300);
	ck_assert_int_eq(requests, 0);
	ck_assert_int_eq(num("select count(*) from smmd_request where "
	                     "taken_by is null"),
	                 1);
	pgrelay_free(worker);
}
END_TEST

/* Taken, then the standby goes: its client hears "may have been done". */
START_TEST(test_freed_while_taken)
{
	struct pgrelay *standby = pgrelay_new(&loop, c_standby, "standby-1");
	struct pgrelay *worker = pgrelay_new(&loop, c_worker, "worker-1");
	struct pgrelay_peer p = {.uid = 0};
	struct pgrelay *other;

	pgrelay_serve(worker, on_request, NULL, "worker-1", 1);
	ck_assert_int_eq(
	        pgrelay_ask(standby, &p, "{\"id\":2}", NULL, on_answer, NULL),
	        0);
	until_inserted(1);
	pgrelay_take(worker);
	pg_run_until(&loop, &requests, 1, 2000, "the request");
	pgrelay_free(standby);
	ck_assert_int_eq(answers, 1);
	ck_assert_int_eq(maybe, 1);
	ck_assert_msg(strstr(why, "may have been done") != NULL, "%s", why);
	/* Taken: past 3 s a standby polling withdraws nothing, and the
	 * reply lands. */
	other = pgrelay_new(&loop, c_standby, "standby-1");
	ck_assert_int_eq(
	        pgrelay_ask(other, &p, "{\"id\":3}", NULL, on_answer, NULL), 0);
	pg_run_for(&loop, 3500);
	ck_assert_int_eq(num("select count(*) from smmd_request where "
	                     "taken_by = 'worker-1' and reply is null"),
	                 1);
	pgrelay_answer(worker, request_id, "late\n");
	pg_run_for(&loop, 300);
	ck_assert_int_eq(num("select count(*) from smmd_request where "
	                     "reply = 'late' || chr(10)"),
	                 1);
	pgrelay_free(other);
	pgrelay_free(worker);
}
END_TEST

/*
 * A request naming a channel goes to the node that owns it live (a
 * worker, which takes nothing else), or to the working node when no
 * live node does; either way it runs there as routed.
 */
START_TEST(test_routed_to_owner)
{
	struct pgrelay *asker = pgrelay_new(&loop, c_standby, "node-a");
	struct pgrelay *w = pgrelay_new(&loop, c_worker, "node-b");
	struct pgrelay_peer p = {.uid = 5};

	/* node-b/w is a worker owning c1; node-c/w owned c2, its lease
	 * ran out. */
	ck_assert_int_eq(
	        pg_psql("insert into smmd_node (node_id, epoch, lease_until, "
	                "worker) values ('node-b/w', 41, clock_timestamp() + "
	                "interval '1 minute', true), ('node-c/w', 42, "
	                "clock_timestamp() - interval '1 second', true); "
	                "insert into smmd_channel_owner (channel, node_id, "
	                "epoch) values ('c1', 'node-b/w', 41), ('c2', "
	                "'node-c/w', 42)",
	                NULL, 0),
	        0);
	ck_assert_int_eq(pgrelay_serve(w, on_request, NULL, "node-b/w", 0), 0);
	ck_assert_int_eq(
	        pgrelay_ask(asker, &p, "{\"id\":1}", "c1", on_answer, NULL), 0);
	ck_assert_int_eq(
	        pgrelay_ask(asker, &p, "{\"id\":2}", "c2", on_answer, NULL), 0);
	ck_assert_int_eq(
	        pgrelay_ask(asker, &p, "{\"id\":3}", NULL, on_answer, NULL), 0);
	until_inserted(3);
	/* The worker takes what names its channel, and nothing else. */
	pgrelay_take(w);
	pg_run_until(&loop, &requests, 1, 2000, "the worker's request");
	pg_run_for(&loop, 300);
	ck_assert_int_eq(requests, 1);
	ck_assert_str_eq(request_line, "{\"id\":1}");
	ck_assert_int_eq(request_peer.routed, 1);
	pgrelay_answer(w, request_id, "one\n");
	pg_run_until(&loop, &answers, 1, 2000, "its reply");
	ck_assert_str_eq(reply, "one\n");
	/* One more for c1, left to its live owner by the working node. */
	ck_assert_int_eq(
	        pgrelay_ask(asker, &p, "{\"id\":4}", "c1", on_answer, NULL), 0);
	until_inserted(3);
	/* The working node: the dead owner's channel, and the unnamed. */
	ck_assert_int_eq(pgrelay_serve(w, on_request, NULL, "node-x", 1), 0);
	pgrelay_take(w);
	pg_run_until(&loop, &requests, 3, 2000, "the working node's two");
	ck_assert_msg(strstr(requests_seen, "{\"id\":2} routed;") &&
	                      strstr(requests_seen, "{\"id\":3} direct;"),
	              "%s", requests_seen);
	pgrelay_take(w);
	pg_run_for(&loop, 300);
	ck_assert_int_eq(requests, 3);
	ck_assert_int_eq(num("select count(*) from smmd_request where "
	                     "taken_by = 'node-x'"),
	                 2);
	ck_assert_int_eq(num("select count(*) from smmd_request where "
	                     "to_channel = 'c1' and taken_by is null"),
	                 1);
	pgrelay_free(asker);
	pgrelay_free(w);
	pg_psql("delete from smmd_channel_owner; delete from smmd_node", NULL,
	        0);
}
END_TEST

static Suite *pgrelay_suite(void)
{
	Suite *s = suite_create("pgrelay");
	TCase *tc = tcase_create("postgresql");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_relayed_and_answered);
	tcase_add_test(tc, test_untaken_is_withdrawn);
	tcase_add_test(tc, test_old_is_not_taken);
	tcase_add_test(tc, test_freed_while_taken);
	tcase_add_test(tc, test_routed_to_owner);
	suite_add_tcase(s, tc);
	return s;
}

SMM_PG_CHECK_MAIN(pgrelay_suite)
