/*
 * The cluster pieces' own figures (issue 16), against the PostgreSQL that
 * tests/bench/cluster.sh starts (PGHOST etc. in the environment):
 *
 *   clusterbench failover N    N nodes killed (no goodbye) one after the
 *                              other: how long until a peer reaps each
 *   clusterbench ship ROWS B   ROWS new posts and deliveries written B to
 *                              a transaction and shipped as they come,
 *                              then all of them marked publishing; then
 *                              a node that was up before pulls all the
 *                              changes, and a new node reads the tables
 *                              whole (as a new view does): rows/s
 *   clusterbench idle S        one idle node for S seconds: transactions
 *                              and statements per second it costs
 *
 * Each prints one line of figures per measure, "name value unit".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "pgrepl.h"
#include "pgschema.h"
#include "store.h"

static const char *const tables[] = {"posts", "deliveries", NULL};

struct node {
	char id[32], dir[64];
	sqlite3 *db;
	struct pgconn *c;  /* writes and pulls */
	struct pgconn *lc; /* the lease's own: never behind a big group */
	struct lease *l;
	struct pgrepl *r;
	int up, lives, reaped, kept, refused, done, changed;
};

static uv_loop_t loop;
static int flag;

static void die(const char *what)
{
	fprintf(stderr, "clusterbench: %s\n", what);
	exit(1);
}

static void on_up(void *arg)
{
	((struct node *)arg)->up++;
}

static void on_live(void *arg, int live, const char *why)
{
	((struct node *)arg)->lives += live;
}

static void on_reaped(void *arg, const char *id, int64_t epoch)
{
	((struct node *)arg)->reaped++;
}

static int64_t epoch_of(void *arg)
{
	struct node *n = arg;

	return n->l && lease_live(n->l) ? lease_epoch(n->l) : 0;
}

static void on_changed(void *arg, const char *t, const char *pk)
{
	((struct node *)arg)->changed++;
}

static void on_shipped(void *arg, int err, const char *why)
{
	struct node *n = arg;

	n->done++;
	if (err)
		fprintf(stderr, "clusterbench: refused: %s\n", why);
	*(err ? &n->refused : &n->kept) += 1;
}

static void on_flag(void *arg, const char *err)
{
	if (err)
		die(err);
	flag++;
}

static void ignore(void *arg, const PGresult *res, const char *err)
{
	if (err)
		die(err);
}

static void tick(uv_timer_t *t)
{
	(void)t;
}

static void run_until(const int *v, int want, int ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;
	uv_timer_t tm;

	uv_timer_init(&loop, &tm);
	uv_timer_start(&tm, tick, 10, 10);
	while (*v < want && uv_hrtime() < end)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (*v < want)
		die("timed out");
}

static double now_s(void)
{
	return (double)uv_hrtime() / 1e9;
}

static void connect_node(struct node *n, const char *id)
{
	struct pgconn_opts o = {
	        .conninfo = "", .name = id, .on_up = on_up, .arg = n};
	char err[256];

	snprintf(n->id, sizeof(n->id), "%s", id);
	if (pgconn_start(&loop, &o, &n->c, err, sizeof(err)) < 0)
		die(err);
	run_until(&n->up, 1, 5000);
}

static void start_lease(struct node *n)
{
	struct lease_opts o = {.node_id = n->id,
	                       .on_live = on_live,
	                       .on_reaped = on_reaped,
	                       .arg = n};
	struct pgconn_opts co = {
	        .conninfo = "", .name = n->id, .on_up = on_up, .arg = n};
	char err[256];
	int up = n->up;

	if (pgconn_start(&loop, &co, &n->lc, err, sizeof(err)) < 0)
		die(err);
	run_until(&n->up, up + 1, 5000);
	if ((n->l = lease_start(&loop, n->lc, &o)) == NULL)
		die("out of memory");
	run_until(&n->lives, n->lives + 1, 5000);
}

/* Gone at once, without a word: as after SIGKILL. */
static void drop_node(struct node *n)
{
	lease_free(n->l);
	pgconn_close(n->lc);
	pgconn_close(n->c);
}

/* A view with the store's schema and a replicator on it. */
static void open_view(struct node *n)
{
	struct pgrepl_opts o = {.tables = tables,
	                        .node_id = n->id,
	                        .epoch = epoch_of,
	                        .margin_ms = 1000,
	                        .on_changed = on_changed,
	                        .arg = n};
	struct store *s;
	char err[256], path[96];

	snprintf(n->dir, sizeof(n->dir), "/tmp/clusterbench.XXXXXX");
	if (mkdtemp(n->dir) == NULL ||
	    store_open(n->dir, &s, err, sizeof(err)) < 0)
		die("a view");
	store_close(s);
	snprintf(path, sizeof(path), "%s/smmd.db", n->dir);
	if (sqlite3_open(path, &n->db) != SQLITE_OK)
		die("a view");
	sqlite3_exec(n->db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
	o.db = n->db;
	o.pg = n->c;
	if (pgrepl_open(&o, &n->r, err, sizeof(err)) < 0)
		die(err);
}

static void remove_view(struct node *n)
{
	char cmd[96];

	sqlite3_close(n->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", n->dir);
	if (system(cmd) != 0)
		die("cannot remove a view");
}

static void setup_schema(struct node *n)
{
	char *sql;

	flag = 0;
	if (pgschema_migrate(n->c, on_flag, NULL) < 0)
		die("migrate");
	if (n->r) {
		sql = pgrepl_schema_sql(n->r);
		pgconn_query(n->c, sql, 0, NULL, ignore, NULL);
		free(sql);
		pgconn_sync(n->c, on_flag, NULL);
	} else {
		flag++;
	}
	run_until(&flag, 2, 10000);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void failover(int kills)
{
	struct node b = {0};
	double *took = calloc((size_t)kills, sizeof(double));

	connect_node(&b, "survivor");
	setup_schema(&b);
	start_lease(&b);
	for (int i = 0; i < kills; i++) {
		struct node a = {0};
		char id[32];
		double t0;
		int reaped = b.reaped;

		snprintf(id, sizeof(id), "victim-%d", i);
		connect_node(&a, id);
		start_lease(&a);
		/* Die anywhere between two beats. */
		usleep((useconds_t)(rand() % 1000) * 1000);
		uv_run(&loop, UV_RUN_NOWAIT);
		drop_node(&a);
		t0 = now_s();
		run_until(&b.reaped, reaped + 1, 10000);
		took[i] = now_s() - t0;
	}
	qsort(took, (size_t)kills, sizeof(double), cmp_double);
	printf("failover.kills %d\n", kills);
	printf("failover.reap_p50 %.3f s\n", took[kills / 2]);
	printf("failover.reap_max %.3f s\n", took[kills - 1]);
	free(took);
	drop_node(&b);
}

static void write_batch(struct node *n, int from, int count, int publish)
{
	char sql[512];
	int rc;

	sqlite3_exec(n->db, "BEGIN", NULL, NULL, NULL);
	for (int i = from; i < from + count; i++) {
		if (publish)
			snprintf(sql, sizeof(sql),
			         "UPDATE deliveries SET state = 'publishing', "
			         "attempts = 1 WHERE id = 'b%d/x'",
			         i);
		else
			snprintf(sql, sizeof(sql),
			         "INSERT INTO posts (id, source, text, "
			         "created_ms) VALUES ('b%d', 'add', 'bench "
			         "post', 1); INSERT INTO deliveries (id, "
			         "post_id, channel, webhook_id, state, due_ms, "
			         "updated_ms) VALUES ('b%d/x', 'b%d', 'x', "
			         "'msg_b%d', 'scheduled', 1000, 1)",
			         i, i, i, i);
		if (sqlite3_exec(n->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(n->db));
	}
	sqlite3_exec(n->db, "COMMIT", NULL, NULL, NULL);
	/* No lease yet (or a renewal late): ship once it is back. */
	while ((rc = pgrepl_ship(n->r, on_shipped, n)) == -ENOTCONN)
		uv_run(&loop, UV_RUN_ONCE);
	if (rc != 0) {
		fprintf(stderr, "clusterbench: ship: %s\n",
		        rc == 1 ? "nothing to ship" : strerror(-rc));
		exit(1);
	}
}

/* Pull after pull until n has been told of want rows, in 120 s. */
static void pull_until(struct node *n, int want, const char *what)
{
	double t0 = now_s();

	while (n->changed < want) {
		int rc = pgrepl_pull(n->r);

		if (rc < 0 && rc != -EBUSY) {
			fprintf(stderr, "clusterbench: pull: %s\n",
			        strerror(-rc));
			exit(1);
		}
		uv_run(&loop, UV_RUN_ONCE);
		if (now_s() - t0 > 120) {
			fprintf(stderr, "clusterbench: %s: %d of %d rows\n",
			        what, n->changed, want);
			die("the pull stopped short");
		}
	}
	printf("%s %.0f rows/s (%d rows)\n", what, n->changed / (now_s() - t0),
	       n->changed);
}

static void ship(int rows, int batch)
{
	struct node a = {0}, b = {0}, c = {0};
	int groups = 0;
	double t0;

	connect_node(&a, "writer");
	open_view(&a);
	setup_schema(&a);
	start_lease(&a);
	/*
	 * b is up before anything is written, its view read (empty): later
	 * pulls read the log, one row per change. A view opened after the
	 * writes (c) reads the tables instead, one row per thing.
	 */
	connect_node(&b, "reader");
	open_view(&b);
	start_lease(&b);
	if (pgrepl_pull(b.r) < 0)
		die("the first pull");
	while (pgrepl_pulling(b.r))
		uv_run(&loop, UV_RUN_ONCE);
	for (int pass = 0; pass < 2; pass++) {
		t0 = now_s();
		for (int i = 0; i < rows; i += batch, groups++) {
			write_batch(&a, i, i + batch > rows ? rows - i : batch,
			            pass);
			uv_run(&loop, UV_RUN_NOWAIT);
		}
		run_until(&a.done, groups, 600000);
		if (a.refused)
			die("a group was refused");
		printf("ship.%s %.0f rows/s (%d rows, %d a group)\n",
		       pass ? "publishing" : "new", rows / (now_s() - t0), rows,
		       batch);
	}
	/* The posts, the deliveries, and the deliveries' updates. */
	pull_until(&b, 3 * rows, "pull");
	connect_node(&c, "newcomer");
	open_view(&c);
	start_lease(&c);
	/* The posts and the deliveries, as they are now. */
	pull_until(&c, 2 * rows, "pull.whole");
	drop_node(&a);
	drop_node(&b);
	drop_node(&c);
	pgrepl_free(a.r);
	pgrepl_free(b.r);
	pgrepl_free(c.r);
	remove_view(&a);
	remove_view(&b);
	remove_view(&c);
}

static int64_t commits;

static void on_commits(void *arg, const PGresult *res, const char *err)
{
	if (err)
		die(err);
	commits = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

static int64_t read_commits(struct node *n)
{
	flag = 0;
	pgconn_query(n->c,
	             "SELECT xact_commit + xact_rollback FROM pg_stat_database "
	             "WHERE datname = current_database()",
	             0, NULL, on_commits, NULL);
	pgconn_sync(n->c, on_flag, NULL);
	run_until(&flag, 1, 5000);
	return commits;
}

static void pull_tick(uv_timer_t *t)
{
	pgrepl_pull(((struct node *)t->data)->r);
}

static void idle(int seconds)
{
	struct node a = {0}, probe = {0};
	uv_timer_t puller;
	int64_t c0, c1;
	uint64_t s0, s1;

	connect_node(&a, "idle");
	open_view(&a);
	setup_schema(&a);
	start_lease(&a);
	connect_node(&probe, "probe");
	uv_timer_init(&loop, &puller);
	puller.data = &a;
	uv_timer_start(&puller, pull_tick, 1000, 1000);
	c0 = read_commits(&probe);
	s0 = pgconn_statements(a.c) + pgconn_statements(a.lc);
	{
		uint64_t end = uv_hrtime() + (uint64_t)seconds * 1000000000;

		while (uv_hrtime() < end)
			uv_run(&loop, UV_RUN_ONCE);
	}
	s1 = pgconn_statements(a.c) + pgconn_statements(a.lc);
	usleep(600 * 1000); /* backends report within 500 ms */
	c1 = read_commits(&probe);
	/* The probe's own two reads are transactions too. */
	printf("idle.transactions %.2f per s (pg_stat_database, %d s)\n",
	       (double)(c1 - c0 - 2) / seconds, seconds);
	printf("idle.statements %.2f per s (counted by pgconn)\n",
	       (double)(s1 - s0) / seconds);
	uv_close((uv_handle_t *)&puller, NULL);
	drop_node(&a);
	pgconn_close(probe.c);
	pgrepl_free(a.r);
	remove_view(&a);
}

int main(int argc, char **argv)
{
	if (argc < 3 || getenv("PGHOST") == NULL) {
		fprintf(stderr, "usage: clusterbench failover N | ship ROWS "
		                "BATCH | idle SECONDS (with PGHOST set)\n");
		return 2;
	}
	uv_loop_init(&loop);
	srand((unsigned)uv_hrtime());
	if (strcmp(argv[1], "failover") == 0)
		failover(atoi(argv[2]));
	else if (strcmp(argv[1], "ship") == 0 && argc > 3)
		ship(atoi(argv[2]), atoi(argv[3]));
	else if (strcmp(argv[1], "idle") == 0)
		idle(atoi(argv[2]));
	else
		die("unknown mode");
	uv_run(&loop, UV_RUN_DEFAULT);
	return 0;
}
