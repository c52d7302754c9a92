/*
 * pgrepl against a real PostgreSQL (tests/pg/pgrepl.sh): two nodes, each
 * with its own view (a SQLite file with the store's real schema) and its
 * own connection and lease, ship their changes and pull each other's;
 * conflicting writes, a lost lease and a refused group's successors are
 * refused whole, and the views come back to what PostgreSQL holds; a
 * group lost with its connection is sent again; a new view, and one
 * behind the change log's trim, read the tables whole.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "pg_check.h"
#include "pgrepl.h"
#include "pgschema.h"
#include "store.h"

static const char *const tables[] = {"posts", "deliveries", "attempts", NULL};

struct node {
	char dir[64];
	sqlite3 *db;
	struct pgconn *c;
	struct lease *l;
	struct pgrepl *r;
	int up, lives, changed, done, kept, refused, infos, trims, backlogs;
	int64_t trimmed;
	char last_changed[128];
	char last_info[256];
	char why[512];
};

static uv_loop_t loop;
static int setup_done;

static void on_up(void *arg)
{
	struct node *n = arg;

	n->up++;
	if (n->r)
		pgrepl_reconnected(n->r);
}

static void on_live(void *arg, int live, const char *why)
{
	((struct node *)arg)->lives += live;
}

static int64_t epoch_of(void *arg)
{
	struct node *n = arg;

	return n->l && lease_live(n->l) ? lease_epoch(n->l) : 0;
}

static void on_changed(void *arg, const char *table, const char *pk)
{
	struct node *n = arg;

	n->changed++;
	snprintf(n->last_changed, sizeof(n->last_changed), "%s %s", table, pk);
}

/* A node started after this is set leaves a pull's changes to be applied
 * by hand (pgrepl_apply_backlog), as smmd does from its loop. */
static int start_chunked;

static void on_backlog(void *arg)
{
	((struct node *)arg)->backlogs++;
}

static void on_info(void *arg, const char *what)
{
	struct node *n = arg;

	n->infos++;
	snprintf(n->last_info, sizeof(n->last_info), "%s", what);
}

static void on_trimmed(void *arg, int64_t removed, const char *err)
{
	struct node *n = arg;

	ck_assert_msg(err == NULL, "%s", err);
	n->trimmed = removed;
	n->trims++;
}

static void on_shipped(void *arg, int err, const char *why)
{
	struct node *n = arg;

	n->done++;
	if (err == 0)
		n->kept++;
	else
		n->refused++;
	snprintf(n->why, sizeof(n->why), "%s", why ? why : "");
}

static void ignore(void *arg, const PGresult *res, const char *err)
{
	ck_assert_msg(err == NULL, "%s", err);
}

static void on_setup(void *arg, const char *err)
{
	ck_assert_msg(err == NULL, "%s", err);
	setup_done++;
}

static void exec_view(struct node *n, const char *sql)
{
	char *err = NULL;

	ck_assert_msg(sqlite3_exec(n->db, sql, NULL, NULL, &err) == SQLITE_OK,
	              "%s: %s", sql, err);
}

/* A view with the store's schema, a connection, a lease, a replicator. */
static void start_node(struct node *n, const char *id)
{
	struct pgconn_opts co = {.conninfo = "",
	                         .name = id,
	                         .on_up = on_up,
	                         .arg = n,
	                         .backoff_max_ms = 200};
	struct lease_opts lo = {.node_id = id, .on_live = on_live, .arg = n};
	struct pgrepl_opts ro = {.tables = tables,
	                         .node_id = id,
	                         .epoch = epoch_of,
	                         .margin_ms = 1000,
	                         .on_changed = on_changed,
	                         .on_info = on_info,
	                         .on_backlog =
	                                 start_chunked ? on_backlog : NULL,
	                         .arg = n};
	struct store *s;
	char err[256], path[96];

	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "/tmp/check-pgrepl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	ck_assert_msg(store_open(n->dir, &s, err, sizeof(err)) == 0, "%s", err);
	store_close(s);
	snprintf(path, sizeof(path), "%s/smmd.db", n->dir);
	ck_assert_int_eq(sqlite3_open(path, &n->db), SQLITE_OK);
	exec_view(n, "PRAGMA foreign_keys = ON");
	ck_assert_msg(pgconn_start(&loop, &co, &n->c, err, sizeof(err)) == 0,
	              "%s", err);
	pg_run_until(&loop, &n->up, 1, 5000, "connect");
	ro.db = n->db;
	ro.pg = n->c;
	ck_assert_msg(pgrepl_open(&ro, &n->r, err, sizeof(err)) == 0, "%s",
	              err);
	ck_assert_ptr_nonnull(n->l = lease_start(&loop, n->c, &lo));
}

static void stop_node(struct node *n)
{
	/* The connection first: what is in flight is told, then freed. */
	pgconn_close(n->c);
	lease_free(n->l);
	pgrepl_free(n->r);
	sqlite3_close(n->db);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", n->dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}

/* The cluster schema, and the replicated tables from a's view. */
static void setup_cluster(struct node *a)
{
	char *sql = pgrepl_schema_sql(a->r);

	ck_assert_ptr_nonnull(sql);
	ck_assert_int_eq(pgschema_migrate(a->c, on_setup, NULL), 0);
	ck_assert_int_eq(pgconn_query(a->c, sql, 0, NULL, ignore, NULL), 0);
	free(sql);
	ck_assert_int_eq(pgconn_sync(a->c, on_setup, NULL), 0);
	pg_run_until(&loop, &setup_done, 2, 10000, "schema");
}

static void setup(void)
{
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	setup_done = 0;
}

static void teardown(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void ship(struct node *n, int want_kept)
{
	int done = n->done + 1, kept = n->kept;

	ck_assert_int_eq(pgrepl_ship(n->r, on_shipped, n), 0);
	pg_run_until(&loop, &n->done, done, 5000, "ship");
	ck_assert_msg(n->kept == kept + want_kept, "kept %d, want %d: %s",
	              n->kept - kept, want_kept, n->why);
}

/* Run until n has nothing in flight and nothing left to read back. */
static void settle(struct node *n)
{
	uint64_t end = uv_hrtime() + 5000ull * 1000000;

	while (!pgrepl_settled(n->r) && uv_hrtime() < end) {
		pgrepl_tick(n->r); /* the owner's beat */
		pg_run_for(&loop, 20);
	}
	ck_assert_msg(pgrepl_settled(n->r), "%s never settled", n->dir);
}

/* Wait until psql's lock on deliveries is granted. */
static void wait_lock(void)
{
	char out[32];

	for (int i = 0; i < 100; i++) {
		pg_psql("select count(*) from pg_locks l join pg_class c on "
		        "c.oid = l.relation where c.relname = 'deliveries' and "
		        "l.mode = 'ExclusiveLock' and l.granted",
		        out, sizeof(out));
		if (strcmp(out, "1") == 0)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("psql never took its lock");
}

/* Pull until caught up (a new view reads the tables whole first). */
static void pull(struct node *n)
{
	uint64_t end = uv_hrtime() + 5000ull * 1000000;

	ck_assert_int_eq(pgrepl_pull(n->r), 0);
	while (pgrepl_pulling(n->r) && uv_hrtime() < end) {
		pg_run_for(&loop, 5);
		while (pgrepl_apply_backlog(n->r) > 0) /* on_backlog's */
			;
	}
	ck_assert_msg(!pgrepl_pulling(n->r), "%s: the pull never ended",
	              n->dir);
}

static char *view_text(struct node *n, const char *sql)
{
	static char out[256];
	sqlite3_stmt *st;

	out[0] = '\0';
	ck_assert_int_eq(sqlite3_prepare_v2(n->db, sql, -1, &st, NULL),
	                 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void both_live(struct node *a, struct node *b)
{
	pg_run_until(&loop, &a->lives, 1, 5000, "a's lease");
	if (b)
		pg_run_until(&loop, &b->lives, 1, 5000, "b's lease");
}

static void add_post(struct node *n, const char *id)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "BEGIN; INSERT INTO posts (id, source, text, created_ms) "
	         "VALUES ('%s', 'add', 'hello', 1); INSERT INTO deliveries "
	         "(id, post_id, channel, webhook_id, state, due_ms, "
	         "updated_ms) VALUES ('%s/x', '%s', 'x', 'msg_%s', "
	         "'scheduled', 1000, 1); COMMIT",
	         id, id, id, id);
	exec_view(n, sql);
}

/* One node's rows reach the other; numbers agree with PostgreSQL's. */
START_TEST(test_ship_and_pull)
{
	struct node a, b;
	char sql[160], pg[64];

	start_node(&a, "node-a");
	start_node(&b, "node-b");
	setup_cluster(&a);
	both_live(&a, &b);
	add_post(&a, "p1");
	ship(&a, 1);
	pg_psql("select _v from deliveries where id = 'p1/x'", pg, sizeof(pg));
	ck_assert_str_eq(view_text(&a, "SELECT v FROM _smmd_v WHERE tbl = "
	                               "'deliveries' AND pk = '[\"p1/x\"]'"),
	                 pg);
	/* Nothing new: nothing sent. */
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 1);
	pull(&b);
	ck_assert_str_eq(view_text(&b, "SELECT state || ' ' || post_id FROM "
	                               "deliveries WHERE id = 'p1/x'"),
	                 "scheduled p1");
	ck_assert_int_eq(b.changed, 2);
	ck_assert_str_eq(b.last_changed, "deliveries [\"p1/x\"]");
	/* b's change comes back to a; a's own are not applied twice. */
	exec_view(&b, "UPDATE deliveries SET state = 'cancelled' WHERE id = "
	              "'p1/x'");
	ship(&b, 1);
	a.changed = 0;
	pull(&a);
	ck_assert_str_eq(view_text(&a, "SELECT state FROM deliveries WHERE id "
	                               "= 'p1/x'"),
	                 "cancelled");
	ck_assert_int_eq(a.changed, 1);
	snprintf(sql, sizeof(sql),
	         "select count(*) from smmd_change where "
	         "row->>'id' like 'p1%%'");
	ck_assert_int_eq(atoi((pg_psql(sql, pg, sizeof(pg)), pg)), 3);
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/* Two nodes change one row at once: one wins, the other reads it back. */
START_TEST(test_conflict)
{
	struct node a, b;
	int done_a, done_b, changed_a, changed_b;

	start_node(&a, "node-a2");
	start_node(&b, "node-b2");
	setup_cluster(&a);
	both_live(&a, &b);
	add_post(&a, "p2");
	ship(&a, 1);
	pull(&b);
	exec_view(&a, "UPDATE deliveries SET state = 'publishing', attempts = "
	              "1 WHERE id = 'p2/x'");
	exec_view(&b, "UPDATE deliveries SET state = 'cancelled' WHERE id = "
	              "'p2/x'");
	done_a = a.done + 1;
	done_b = b.done + 1;
	changed_a = a.changed;
	changed_b = b.changed;
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	ck_assert_int_eq(pgrepl_ship(b.r, on_shipped, &b), 0);
	pg_run_until(&loop, &a.done, done_a, 5000, "a's group");
	pg_run_until(&loop, &b.done, done_b, 5000, "b's group");
	ck_assert_int_eq(a.kept + b.kept, 2); /* the two adds were a's */
	ck_assert_int_eq(a.refused + b.refused, 1);
	ck_assert_msg(strstr(a.refused ? a.why : b.why,
	                     "smmd stale: update of deliveries") != NULL,
	              "%s", a.refused ? a.why : b.why);
	/* The loser's view is PostgreSQL's row again, read back (no pull). */
	{
		struct node *loser = a.refused ? &a : &b;
		int changed = a.refused ? changed_a : changed_b;
		char pg[64];

		settle(loser);
		pg_psql("select state from deliveries where id = 'p2/x'", pg,
		        sizeof(pg));
		ck_assert_str_eq(view_text(loser, "SELECT state FROM "
		                                  "deliveries WHERE id = "
		                                  "'p2/x'"),
		                 pg);
		ck_assert_int_gt(loser->changed, changed);
		pull(&a);
		pull(&b);
		ck_assert_str_eq(view_text(&a, "SELECT state FROM deliveries "
		                               "WHERE id = 'p2/x'"),
		                 pg);
		ck_assert_str_eq(view_text(&b, "SELECT state FROM deliveries "
		                               "WHERE id = 'p2/x'"),
		                 pg);
	}
	/* Then both ship again as usual. */
	exec_view(&b, "UPDATE deliveries SET last_error = 'x' WHERE id = "
	              "'p2/x'");
	ship(&b, 1);
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/*
 * A row changed again while the group with its last change is in flight
 * (a post added, then marked publishing, then published, each its own
 * group): each compares with this node's stamp, and all are kept. A
 * change from outside in between (psql: no stamp) refuses the next.
 */
START_TEST(test_change_in_flight)
{
	struct node a;
	int done;
	char pg[64];

	start_node(&a, "node-a10");
	setup_cluster(&a);
	both_live(&a, NULL);
	done = a.done + 3;
	add_post(&a, "p10");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	exec_view(&a, "UPDATE deliveries SET state = 'publishing', attempts = "
	              "1 WHERE id = 'p10/x'");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	exec_view(&a, "UPDATE deliveries SET state = 'published' WHERE id = "
	              "'p10/x'");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	ck_assert_uint_eq(pgrepl_in_flight(a.r), 3);
	pg_run_until(&loop, &a.done, done, 5000, "three groups");
	ck_assert_msg(a.kept == 3, "kept %d: %s", a.kept, a.why);
	pg_psql("select state || ' ' || attempts from deliveries where id = "
	        "'p10/x'",
	        pg, sizeof(pg));
	ck_assert_str_eq(pg, "published 1");
	pg_psql("update deliveries set last_error = 'by hand' where id = "
	        "'p10/x'",
	        pg, sizeof(pg));
	exec_view(&a, "UPDATE deliveries SET state = 'failed' WHERE id = "
	              "'p10/x'");
	ship(&a, 0);
	ck_assert_msg(strstr(a.why, "smmd stale: update of deliveries") != NULL,
	              "%s", a.why);
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT state || ' ' || last_error FROM "
	                               "deliveries WHERE id = 'p10/x'"),
	                 "published by hand");
	stop_node(&a);
}
END_TEST

/* No lease: nothing of the group is kept, and the view is restored. */
START_TEST(test_fence)
{
	struct node a;
	char pg[64];

	start_node(&a, "node-a3");
	setup_cluster(&a);
	both_live(&a, NULL);
	add_post(&a, "p3");
	ship(&a, 1);
	/* The lease taken away (as a peer would, thinking it dead). */
	ck_assert_int_eq(pg_psql("delete from smmd_node where node_id = "
	                         "'node-a3'",
	                         NULL, 0),
	                 0);
	exec_view(&a, "UPDATE deliveries SET state = 'publishing' WHERE id = "
	              "'p3/x'");
	ship(&a, 0);
	ck_assert_msg(strstr(a.why, "smmd fence: node node-a3") != NULL, "%s",
	              a.why);
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT state FROM deliveries WHERE id "
	                               "= 'p3/x'"),
	                 "scheduled");
	pg_psql("select state from deliveries where id = 'p3/x'", pg,
	        sizeof(pg));
	ck_assert_str_eq(pg, "scheduled");
	stop_node(&a);
}
END_TEST

/* A group sent after a refused one is refused too (the chain). */
START_TEST(test_chain)
{
	struct node a;

	start_node(&a, "node-a4");
	setup_cluster(&a);
	both_live(&a, NULL);
	add_post(&a, "p4");
	add_post(&a, "p5");
	ship(&a, 1);
	/* p4 changed behind a's back: a's update of it is stale. */
	ck_assert_int_eq(pg_psql("update deliveries set last_error = 'other' "
	                         "where id = 'p4/x'",
	                         NULL, 0),
	                 0);
	exec_view(&a, "UPDATE deliveries SET state = 'publishing' WHERE id = "
	              "'p4/x'");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	/* Sent before the first is answered: p5 alone would be fine. */
	exec_view(&a, "UPDATE deliveries SET state = 'publishing' WHERE id = "
	              "'p5/x'");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	pg_run_until(&loop, &a.done, 3, 5000, "both groups");
	ck_assert_int_eq(a.refused, 2);
	ck_assert_msg(strstr(a.why, "smmd stale: group 3 of node node-a4 "
	                            "does not follow") != NULL,
	              "%s", a.why);
	/* Read back: p4 has PostgreSQL's error, both are scheduled. */
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT state || ' ' || last_error FROM "
	                               "deliveries WHERE id = 'p4/x'"),
	                 "scheduled other");
	ck_assert_str_eq(view_text(&a, "SELECT state FROM deliveries WHERE id "
	                               "= 'p5/x'"),
	                 "scheduled");
	/* And the chain goes on. */
	exec_view(&a, "UPDATE deliveries SET state = 'publishing' WHERE id = "
	              "'p5/x'");
	ship(&a, 1);
	stop_node(&a);
}
END_TEST

static void lock_and_kill(uv_timer_t *t)
{
	(void)t;
	ck_assert_int_eq(pg_psql("select pg_terminate_backend(pid) from "
	                         "pg_stat_activity where application_name = "
	                         "'node-a5'",
	                         NULL, 0),
	                 0);
}

/*
 * Lost with its connection before it committed: the chain says so, and
 * the group is sent again as it was once the connection is back, rather
 * than refused: nothing of it was kept, nothing was sent after it.
 */
START_TEST(test_lost_group)
{
	struct node a;
	uv_timer_t tm;
	char pg[64];

	start_node(&a, "node-a5");
	setup_cluster(&a);
	both_live(&a, NULL);
	add_post(&a, "p6");
	ship(&a, 1);
	/* Writers wait for 3 s: the group is in flight when it dies. */
	ck_assert_int_eq(
	        system("psql -X -qc 'begin; lock table deliveries in exclusive "
	               "mode; select pg_sleep(3); commit' >/dev/null 2>&1 &"),
	        0);
	wait_lock();
	exec_view(&a, "UPDATE deliveries SET state = 'publishing' WHERE id = "
	              "'p6/x'");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	uv_timer_init(&loop, &tm);
	uv_timer_start(&tm, lock_and_kill, 500, 0);
	/* The owner's beat too: a decision that comes while the lease is not
	 * trusted sends the group again at a tick once it is. */
	for (int i = 0; i < 500 && a.done < 2; i++) {
		pgrepl_tick(a.r);
		pg_run_for(&loop, 20);
	}
	ck_assert_msg(a.done == 2, "the lost group was never decided");
	ck_assert_msg(a.refused == 0, "refused: %s", a.why);
	ck_assert_int_eq(a.kept, 2);
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT state FROM deliveries WHERE id "
	                               "= 'p6/x'"),
	                 "publishing");
	pg_psql("select state from deliveries where id = 'p6/x'", pg,
	        sizeof(pg));
	ck_assert_str_eq(pg, "publishing");
	/* The chain goes on past the group's number and the bar, once the
	 * lease (on the connection that was killed too) is trusted again. */
	for (int i = 0; i < 250 && !lease_live(a.l); i++)
		pg_run_for(&loop, 20);
	ck_assert(lease_live(a.l));
	exec_view(&a, "UPDATE deliveries SET state = 'published' WHERE id = "
	              "'p6/x'");
	ship(&a, 1);
	pg_psql("select state from deliveries where id = 'p6/x'", pg,
	        sizeof(pg));
	ck_assert_str_eq(pg, "published");
	uv_close((uv_handle_t *)&tm, NULL);
	stop_node(&a);
	uv_run(&loop, UV_RUN_DEFAULT); /* closes tm while it still is */
}
END_TEST

/* A transaction rolled back in the view is never shipped. */
START_TEST(test_rollback_not_shipped)
{
	struct node a;

	start_node(&a, "node-a6");
	setup_cluster(&a);
	both_live(&a, NULL);
	exec_view(&a, "BEGIN; INSERT INTO posts (id, source, text, created_ms) "
	              "VALUES ('gone', 'add', 'x', 1); ROLLBACK");
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 1);
	stop_node(&a);
}
END_TEST

/*
 * A post and its delivery, refused (no lease): read back as gone, both,
 * whatever the order, and the node goes on afterwards.
 */
START_TEST(test_refused_insert)
{
	struct node a;

	start_node(&a, "node-a7");
	setup_cluster(&a);
	both_live(&a, NULL);
	ck_assert_int_eq(pg_psql("delete from smmd_node where node_id = "
	                         "'node-a7'",
	                         NULL, 0),
	                 0);
	add_post(&a, "p7");
	ship(&a, 0);
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT count(*) FROM posts WHERE id = "
	                               "'p7'"),
	                 "0");
	ck_assert_str_eq(view_text(&a, "SELECT count(*) FROM deliveries WHERE "
	                               "id = 'p7/x'"),
	                 "0");
	/* A new lease (the next beat registers again): writes go on. */
	pg_run_until(&loop, &a.lives, 2, 5000, "a registers again");
	add_post(&a, "p7b");
	ship(&a, 1);
	stop_node(&a);
}
END_TEST

/* A node's own delete, pulled back, is not undone; re-adding works. */
START_TEST(test_delete_echo)
{
	struct node a;
	int changed;

	start_node(&a, "node-a8");
	setup_cluster(&a);
	both_live(&a, NULL);
	pull(&a); /* what earlier tests left */
	add_post(&a, "p8");
	ship(&a, 1);
	exec_view(&a, "BEGIN; DELETE FROM deliveries WHERE id = 'p8/x'; "
	              "DELETE FROM posts WHERE id = 'p8'; COMMIT");
	ship(&a, 1);
	changed = a.changed;
	pull(&a);
	ck_assert_int_eq(a.changed, changed); /* all its own: nothing new */
	add_post(&a, "p8");
	ship(&a, 1);
	pull(&a);
	ck_assert_str_eq(view_text(&a, "SELECT state FROM deliveries WHERE id "
	                               "= 'p8/x'"),
	                 "scheduled");
	ck_assert_int_eq(a.changed, changed);
	stop_node(&a);
}
END_TEST

/* The rows chunked_pair added (posts and deliveries), in n's view. */
static int view_rows(struct node *n, const char *prefix)
{
	char sql[192];

	snprintf(sql, sizeof(sql),
	         "SELECT (SELECT count(*) FROM posts WHERE id LIKE '%s%%') + "
	         "(SELECT count(*) FROM deliveries WHERE id LIKE '%s%%')",
	         prefix, prefix);
	return atoi(view_text(n, sql));
}

/*
 * a and b, b applying a pull's changes only when asked (on_backlog), a
 * having shipped 40 posts (80 rows, under a pull's 100) named prefix and
 * a number; b's pull of them asked, its answer in, nothing applied yet.
 */
static void chunked_pair(struct node *a, struct node *b, const char *tag,
                         const char *prefix)
{
	char id[24], name[24];

	snprintf(name, sizeof(name), "node-a-%s", tag);
	start_node(a, name);
	start_chunked = 1;
	snprintf(name, sizeof(name), "node-b-%s", tag);
	start_node(b, name);
	start_chunked = 0;
	setup_cluster(a);
	both_live(a, b);
	pull(b); /* what earlier tests left, and the tables read whole */
	b->changed = b->backlogs = 0;
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		add_post(a, id);
	}
	ship(a, 1);
	ck_assert_int_eq(pgrepl_pull(b->r), 0);
	pg_run_until(&loop, &b->backlogs, 1, 5000, "b's backlog");
	ck_assert_int_eq(view_rows(b, prefix), 0);
	ck_assert(pgrepl_pulling(b->r));
}

static void assert_pulled_all(struct node *b, const char *prefix)
{
	char pg[32];

	ck_assert(!pgrepl_pulling(b->r));
	ck_assert_int_eq(view_rows(b, prefix), 80);
	pg_psql("select max(v) from smmd_change", pg, sizeof(pg));
	ck_assert_int_eq(pgrepl_pulled(b->r), atoll(pg));
	ck_assert_str_eq(view_text(b, "SELECT v FROM _smmd_pull"), pg);
	ck_assert_int_eq(pgrepl_apply_backlog(b->r), 0); /* nothing left */
}

/*
 * A pull's changes are applied a few at a time when the owner asks
 * (on_backlog): one call of pgrepl_apply_backlog a few, the pull running
 * until the last, and the position kept as far as applied.
 */
START_TEST(test_pull_in_chunks)
{
	struct node a, b;
	char kept[32];
	int applied = 0, more;

	chunked_pair(&a, &b, "12", "chunk");
	do {
		more = pgrepl_apply_backlog(b.r);
		ck_assert_int_gt(view_rows(&b, "chunk"), applied);
		applied = view_rows(&b, "chunk");
		ck_assert_int_eq(b.changed, applied);
		ck_assert_int_eq(pgrepl_pulling(b.r), more);
		snprintf(kept, sizeof(kept), "%" PRId64, pgrepl_pulled(b.r));
		ck_assert_str_eq(view_text(&b, "SELECT v FROM _smmd_pull"),
		                 kept);
	} while (more);
	assert_pulled_all(&b, "chunk");
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/*
 * Changes applied in a transaction that is then rolled back (a turn given
 * up) go with it, and their position: told so (pgrepl_rolled_back, from
 * SQLite's rollback hook in smmd), the pull reads them again.
 */
START_TEST(test_pull_rolled_back)
{
	struct node a, b;

	chunked_pair(&a, &b, "13", "undone");
	exec_view(&b, "BEGIN");
	ck_assert_int_eq(pgrepl_apply_backlog(b.r), 1);
	ck_assert_int_gt(view_rows(&b, "undone"), 0);
	exec_view(&b, "ROLLBACK");
	pgrepl_rolled_back(b.r);
	ck_assert_int_eq(view_rows(&b, "undone"), 0);
	/* Read again from the view's position: a new pull's backlog. */
	ck_assert_int_eq(pgrepl_apply_backlog(b.r), 0);
	pg_run_until(&loop, &b.backlogs, 2, 5000, "b's second backlog");
	while (pgrepl_apply_backlog(b.r) > 0)
		;
	assert_pulled_all(&b, "undone");
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/*
 * A pull never overwrites a change of the node's own not shipped yet:
 * the change is refused when shipped (PostgreSQL moved on) and the row
 * read back then.
 */
START_TEST(test_pull_over_dirty_row)
{
	struct node a, b;

	start_node(&a, "node-a9");
	start_node(&b, "node-b9");
	setup_cluster(&a);
	both_live(&a, &b);
	add_post(&a, "p9");
	ship(&a, 1);
	pull(&b);
	exec_view(&b, "UPDATE deliveries SET last_error = 'from b' WHERE id = "
	              "'p9/x'");
	ship(&b, 1);
	exec_view(&a, "UPDATE deliveries SET last_error = 'from a' WHERE id = "
	              "'p9/x'");
	pull(&a);
	ck_assert_str_eq(view_text(&a, "SELECT last_error FROM deliveries "
	                               "WHERE id = 'p9/x'"),
	                 "from a");
	ship(&a, 0);
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT last_error FROM deliveries "
	                               "WHERE id = 'p9/x'"),
	                 "from b");
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/*
 * A read-back of rows a pull left alone while they were dirty does not
 * stop shipping: a group sent while it is in flight goes on top of the
 * chain it read, so its answer must not take the chain back (the next
 * group would reuse a number, and PostgreSQL refuse it as stale).
 */
START_TEST(test_ship_during_read_back)
{
	struct node a;
	int done;

	start_node(&a, "node-a12");
	setup_cluster(&a);
	both_live(&a, NULL);
	add_post(&a, "p12");
	ship(&a, 1);
	pull(&a); /* a new view's first pull reads the tables whole */
	exec_view(&a, "UPDATE deliveries SET last_error = 'zero' WHERE id = "
	              "'p12/x'");
	ship(&a, 1);
	/* Dirty again, then its own change pulled back: left for later. */
	exec_view(&a, "UPDATE deliveries SET last_error = 'one' WHERE id = "
	              "'p12/x'");
	pull(&a);
	ck_assert(!pgrepl_settled(a.r));
	/* The read-back is queued, then a group behind it. */
	pgrepl_tick(a.r);
	done = a.done + 1;
	ck_assert_int_eq(pgrepl_ship(a.r, on_shipped, &a), 0);
	pg_run_until(&loop, &a.done, done, 5000, "ship");
	ck_assert_msg(a.refused == 0, "refused: %s", a.why);
	/* The next group, before anything reads the chain again. */
	exec_view(&a, "UPDATE deliveries SET last_error = 'two' WHERE id = "
	              "'p12/x'");
	ship(&a, 1);
	settle(&a);
	ck_assert_str_eq(view_text(&a, "SELECT last_error FROM deliveries "
	                               "WHERE id = 'p12/x'"),
	                 "two");
	stop_node(&a);
}
END_TEST

/* psql's answer, as a number. */
static long long psql_ll(const char *sql)
{
	char out[64];

	ck_assert_int_eq(pg_psql(sql, out, sizeof(out)), 0);
	return atoll(out);
}

static long long view_ll(struct node *n, const char *sql)
{
	return atoll(view_text(n, sql));
}

/*
 * Posts over two pages, attempts keyed by two columns over two pages,
 * one delivery changed after it was made: into n's view, shipped.
 */
static void add_many(struct node *n, const char *prefix)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "BEGIN; WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT "
	         "i + 1 FROM k WHERE i < 1500) INSERT INTO posts (id, source, "
	         "text, created_ms) SELECT printf('%s%%04d', i), 'add', 'hi', "
	         "1 FROM k; INSERT INTO deliveries (id, post_id, channel, "
	         "webhook_id, state, due_ms, updated_ms) VALUES ('%s0001/x', "
	         "'%s0001', 'x', 'msg_%s', 'scheduled', 1000, 1); WITH "
	         "RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
	         "WHERE i < 1200) INSERT INTO attempts (delivery_id, n, "
	         "started_ms, latency_ms) SELECT '%s0001/x', i, i, i / 4.0 "
	         "FROM k; COMMIT",
	         prefix, prefix, prefix, prefix, prefix);
	exec_view(n, sql);
	ship(n, 1);
	snprintf(sql, sizeof(sql),
	         "UPDATE deliveries SET state = 'cancelled' WHERE id = "
	         "'%s0001/x'",
	         prefix);
	exec_view(n, sql);
	ship(n, 1);
}

/* n's view holds what PostgreSQL holds, row numbers included. */
static void same_as_pg(struct node *n)
{
	static const char *const counts[][2] = {
	        {"SELECT count(*) FROM posts", "select count(*) from posts"},
	        {"SELECT count(*) FROM deliveries",
	         "select count(*) from deliveries"},
	        {"SELECT count(*) FROM attempts",
	         "select count(*) from attempts"},
	        {"SELECT count(*) FROM deliveries WHERE state = 'cancelled'",
	         "select count(*) from deliveries where state = 'cancelled'"},
	        {"SELECT sum(v) FROM _smmd_v WHERE tbl = 'attempts' AND NOT "
	         "dead",
	         "select sum(_v) from attempts"},
	        {"SELECT sum(v) FROM _smmd_v WHERE tbl = 'deliveries' AND NOT "
	         "dead",
	         "select sum(_v) from deliveries"},
	        /* One number a row: keys spelled as the log's are. */
	        {"SELECT count(*) FROM _smmd_v WHERE tbl = 'attempts' AND NOT "
	         "dead",
	         "select count(*) from attempts"},
	        {"SELECT CAST(sum(latency_ms) * 4 AS INTEGER) FROM attempts",
	         "select (sum(latency_ms) * 4)::bigint from attempts"},
	        {"SELECT count(*) FROM deliveries WHERE last_error = 'late'",
	         "select count(*) from deliveries where last_error = 'late'"},
	};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		ck_assert_msg(view_ll(n, counts[i][0]) == psql_ll(counts[i][1]),
		              "%s: %lld in the view, %lld in PostgreSQL",
		              counts[i][0], view_ll(n, counts[i][0]),
		              psql_ll(counts[i][1]));
}

/*
 * A new view reads the tables whole (page by page, keys of one and of
 * two columns), at the newest change, then reads the log on from there.
 */
START_TEST(test_read_whole)
{
	struct node a, b;

	start_node(&a, "node-a10");
	start_node(&b, "node-b10");
	setup_cluster(&a);
	both_live(&a, &b);
	pull(&a); /* what earlier tests left */
	add_many(&a, "w");
	pull(&b);
	ck_assert_int_eq(b.infos, 1);
	ck_assert_msg(strstr(b.last_info, "read whole from the tables"), "%s",
	              b.last_info);
	same_as_pg(&b);
	ck_assert_int_eq(pgrepl_pulled(b.r),
	                 psql_ll("select max(v) from smmd_change"));
	/* The log from there on: no second whole read; a row read whole
	 * (a key of two columns) changes in place. */
	add_post(&a, "w-after");
	exec_view(&a, "UPDATE attempts SET latency_ms = 1000 WHERE "
	              "delivery_id = 'w0001/x' AND n = 7");
	ship(&a, 1);
	pull(&b);
	ck_assert_str_eq(view_text(&b, "SELECT state FROM deliveries WHERE id "
	                               "= 'w-after/x'"),
	                 "scheduled");
	ck_assert_str_eq(view_text(&b, "SELECT latency_ms FROM attempts WHERE "
	                               "delivery_id = 'w0001/x' AND n = 7"),
	                 "1000.0");
	ck_assert_int_eq(b.infos, 1);
	same_as_pg(&b);
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/*
 * The trim removes changes older than it keeps, and marks how far; a
 * view whose position is at the mark reads on; one behind it has missed
 * changes, and reads the tables whole again.
 */
START_TEST(test_trim)
{
	struct node a, b;
	int64_t behind;

	start_node(&a, "node-a11");
	start_node(&b, "node-b11");
	setup_cluster(&a);
	both_live(&a, &b);
	pull(&a);
	pull(&b);
	add_post(&a, "t1");
	ship(&a, 1);
	pull(&b);
	behind = pgrepl_pulled(b.r);
	add_many(&a, "t");
	/* Nothing is an hour old: nothing goes. */
	ck_assert_int_eq(pgrepl_trim(a.r, a.c, 3600 * 1000, on_trimmed, &a), 0);
	pg_run_until(&loop, &a.trims, 1, 5000, "a trim");
	ck_assert_int_eq(a.trimmed, 0);
	/* Keeping nothing: at most a batch of the oldest go. */
	ck_assert_int_eq(pgrepl_trim(a.r, a.c, 0, on_trimmed, &a), 0);
	pg_run_until(&loop, &a.trims, 2, 5000, "a trim");
	ck_assert_int_gt(a.trimmed, 0);
	ck_assert_int_le(a.trimmed, PGREPL_TRIM_MAX);
	while (a.trimmed == PGREPL_TRIM_MAX) {
		ck_assert_int_eq(pgrepl_trim(a.r, a.c, 0, on_trimmed, &a), 0);
		pg_run_until(&loop, &a.trims, a.trims + 1, 5000, "a trim");
	}
	ck_assert_int_eq(psql_ll("select count(*) from smmd_change"), 0);
	ck_assert_int_gt(psql_ll("select v from smmd_trim"), behind);
	/* b missed the changes after its position: it reads whole. */
	b.infos = 0;
	pull(&b);
	ck_assert_int_eq(b.infos, 2);
	ck_assert_msg(strstr(b.last_info, "read whole from the tables"), "%s",
	              b.last_info);
	same_as_pg(&b);
	ck_assert_int_eq(pgrepl_pulled(b.r),
	                 psql_ll("select v from smmd_trim"));
	/* At the mark now: the log on from there, as before. */
	add_post(&a, "t-after");
	ship(&a, 1);
	pull(&b);
	ck_assert_int_eq(b.infos, 2);
	ck_assert_str_eq(view_text(&b, "SELECT state FROM deliveries WHERE id "
	                               "= 't-after/x'"),
	                 "scheduled");
	stop_node(&a);
	stop_node(&b);
}
END_TEST

/*
 * Written while it is read whole: a delete and an update held open by
 * another session (which holds the order lock meanwhile) commit during
 * or after the read; the view ends as PostgreSQL, the deleted row not
 * made again by the changes before it.
 */
START_TEST(test_read_whole_while_written)
{
	struct node a, b;

	start_node(&a, "node-a12");
	start_node(&b, "node-b12");
	setup_cluster(&a);
	both_live(&a, &b);
	pull(&a);
	add_many(&a, "x");
	exec_view(&a, "UPDATE attempts SET latency_ms = 2 WHERE delivery_id = "
	              "'x0001/x' AND n = 5");
	ship(&a, 1);
	ck_assert_int_eq(system("psql -X -Atq -c \"begin; update deliveries "
	                        "set last_error = 'late' where id = "
	                        "'x0001/x'; delete from attempts where "
	                        "delivery_id = 'x0001/x' and n = 5; select "
	                        "pg_sleep(0.3); commit\" >/dev/null 2>&1 &"),
	                 0);
	usleep(100 * 1000); /* its lock taken, its changes numbered */
	pull(&b);
	pg_run_for(&loop, 400); /* it has committed */
	pull(&b);
	ck_assert_str_eq(view_text(&b, "SELECT count(*) FROM attempts WHERE "
	                               "delivery_id = 'x0001/x' AND n = 5"),
	                 "0");
	ck_assert_str_eq(view_text(&b, "SELECT last_error FROM deliveries "
	                               "WHERE id = 'x0001/x'"),
	                 "late");
	same_as_pg(&b);
	stop_node(&a);
	stop_node(&b);
}
END_TEST

static Suite *pgrepl_suite(void)
{
	Suite *s = suite_create("pgrepl");
	TCase *tc = tcase_create("postgresql");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ship_and_pull);
	tcase_add_test(tc, test_conflict);
	tcase_add_test(tc, test_fence);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_lost_group);
	tcase_add_test(tc, test_rollback_not_shipped);
	tcase_add_test(tc, test_refused_insert);
	tcase_add_test(tc, test_delete_echo);
	tcase_add_test(tc, test_pull_over_dirty_row);
	tcase_add_test(tc, test_pull_in_chunks);
	tcase_add_test(tc, test_pull_rolled_back);
	tcase_add_test(tc, test_ship_during_read_back);
	tcase_add_test(tc, test_change_in_flight);
	tcase_add_test(tc, test_read_whole);
	tcase_add_test(tc, test_trim);
	tcase_add_test(tc, test_read_whole_while_written);
	suite_add_tcase(s, tc);
	return s;
}

SMM_PG_CHECK_MAIN(pgrepl_suite)
