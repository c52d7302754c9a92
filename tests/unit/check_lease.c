/*
 * The cluster schema's migration and the node lease, against a real
 * PostgreSQL (tests/pg/lease.sh runs this under with-pg.sh): nodes
 * register, renew, stop trusting their lease before the database lets it
 * go, are reaped by a peer when they die, and come back as new owners.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "pg_check.h"
#include "pgschema.h"

struct node {
	struct pgconn *c;
	struct lease *l;
	int up, live_changes, lives, deaths, reaped, stopped, claims_told;
	const char *busy;             /* the channel it may not let go */
	char why[256], died_why[256]; /* the last change's, the last death's */
	char reaped_id[64];
	int64_t reaped_epoch;
	uint64_t died_ns;
};

static uv_loop_t loop;
static int migrated;
static char migrate_err[512];

/* As store_pg.c does: a connection back up beats at once. */
static void on_up(void *arg)
{
	struct node *n = arg;

	n->up++;
	if (n->l)
		lease_beat_now(n->l);
}

static void on_live(void *arg, int live, const char *why)
{
	struct node *n = arg;

	n->live_changes++;
	if (live) {
		n->lives++;
	} else {
		n->deaths++;
		n->died_ns = uv_hrtime();
		snprintf(n->died_why, sizeof(n->died_why), "%s", why);
	}
	snprintf(n->why, sizeof(n->why), "%s", why);
}

static void on_reaped(void *arg, const char *id, int64_t epoch)
{
	struct node *n = arg;

	n->reaped++;
	snprintf(n->reaped_id, sizeof(n->reaped_id), "%s", id);
	n->reaped_epoch = epoch;
}

static void on_migrated(void *arg, const char *err)
{
	(void)arg;
	migrated++;
	snprintf(migrate_err, sizeof(migrate_err), "%s", err ? err : "");
}

static void connect_node(struct node *n, const char *name)
{
	struct pgconn_opts o = {.conninfo = "",
	                        .name = name,
	                        .on_up = on_up,
	                        .arg = n,
	                        .backoff_max_ms = 200};
	char err[256];

	memset(n, 0, sizeof(*n));
	ck_assert_msg(pgconn_start(&loop, &o, &n->c, err, sizeof(err)) == 0,
	              "%s", err);
	pg_run_until(&loop, &n->up, 1, 5000, name);
}

static void migrate(struct node *n)
{
	int want = migrated + 1;

	ck_assert_int_eq(pgschema_migrate(n->c, on_migrated, NULL), 0);
	pg_run_until(&loop, &migrated, want, 5000, "migration");
	ck_assert_msg(migrate_err[0] == '\0', "%s", migrate_err);
}

static void start_lease_as(struct node *n, const char *id, int exclusive)
{
	struct lease_opts o = {.node_id = id,
	                       .version = "test",
	                       .exclusive = exclusive,
	                       .on_live = on_live,
	                       .on_reaped = on_reaped,
	                       .arg = n};

	ck_assert_ptr_nonnull(n->l = lease_start(&loop, n->c, &o));
}

static void start_lease(struct node *n, const char *id)
{
	start_lease_as(n, id, 0);
}

static void setup(void)
{
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	migrated = 0;
	/* What earlier tests' dead nodes left (none before the first). */
	pg_psql("delete from smmd_node", NULL, 0);
}

static void close_node(struct node *n)
{
	if (n->l)
		lease_free(n->l);
	pgconn_close(n->c);
	n->l = NULL;
	n->c = NULL;
}

static void teardown(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* A number from psql, or a failed test. */
static long long psql_num(const char *sql)
{
	char out[128];

	ck_assert_msg(pg_psql(sql, out, sizeof(out)) == 0, "%s: %s", sql, out);
	ck_assert_msg(out[0] != '\0', "%s: no row", sql);
	return strtoll(out, NULL, 10);
}

/* Nodes starting together migrate once; a newer schema is refused. */
START_TEST(test_migrate)
{
	struct node a, b;
	char sql[128];

	connect_node(&a, "smmd-a");
	connect_node(&b, "smmd-b");
	/*
	 * The migration lock held elsewhere for a second: both wait for
	 * it, so they do overlap, and then take turns.
	 */
	ck_assert_int_eq(
	        system("psql -X -qc 'select pg_advisory_lock(" PGSCHEMA_LOCK
	               "); select pg_sleep(1)' >/dev/null 2>&1 &"),
	        0);
	for (int i = 0; i < 100 && psql_num("select count(*) from pg_locks "
	                                    "where locktype = 'advisory' and "
	                                    "granted") == 0;
	     i++)
		usleep(20 * 1000);
	ck_assert_int_eq(pgschema_migrate(a.c, on_migrated, NULL), 0);
	ck_assert_int_eq(pgschema_migrate(b.c, on_migrated, NULL), 0);
	pg_run_until(&loop, &migrated, 2, 10000, "two migrations");
	ck_assert_msg(migrate_err[0] == '\0', "%s", migrate_err);
	snprintf(sql, sizeof(sql), "select version from smmd_schema");
	ck_assert_int_eq(psql_num(sql), pgschema_version());
	ck_assert_int_eq(psql_num("select count(*) from smmd_schema"), 1);
	ck_assert_int_eq(psql_num("select count(*) from smmd_node"), 0);
	/* Again: nothing to do. */
	migrate(&a);
	/* A newer smmd's database. */
	ck_assert_int_eq(
	        pg_psql("update smmd_schema set version = 99", NULL, 0), 0);
	ck_assert_int_eq(pgschema_migrate(a.c, on_migrated, NULL), 0);
	pg_run_until(&loop, &migrated, 4, 5000, "refused migration");
	ck_assert_msg(strstr(migrate_err, "version 99, newer than this smmd "
	                                  "knows") != NULL,
	              "%s", migrate_err);
	snprintf(sql, sizeof(sql), "update smmd_schema set version = %d",
	         pgschema_version());
	ck_assert_int_eq(pg_psql(sql, NULL, 0), 0);
	close_node(&a);
	close_node(&b);
}
END_TEST

/* Registered, renewed on the database clock, and trusted meanwhile. */
START_TEST(test_register_and_renew)
{
	struct node a;
	long long left;

	connect_node(&a, "smmd-a");
	migrate(&a);
	start_lease(&a, "node-a");
	pg_run_until(&loop, &a.lives, 1, 3000, "registration");
	ck_assert(lease_live(a.l));
	ck_assert_int_gt(lease_epoch(a.l), 0);
	ck_assert_msg(strstr(a.why, "registered as epoch") == a.why, "%s",
	              a.why);
	/* Three more beats: still live, never a change. */
	pg_run_for(&loop, 3200);
	ck_assert(lease_live(a.l));
	ck_assert_int_eq(a.live_changes, 1);
	left = psql_num("select (extract(epoch from lease_until - "
	                "clock_timestamp()) * 1000)::bigint from smmd_node "
	                "where node_id = 'node-a'");
	/* Renewed in the last 2 s (registered alone, it would be gone). */
	ck_assert_msg(left > 1000 && left <= 3000, "%lld ms left", left);
	/*
	 * Same machine, same clock: the skew is small, and recorded. Its
	 * error is up to half a round trip, which a loaded machine makes
	 * long: under the 500 ms the node warns past.
	 */
	ck_assert_msg(llabs((long long)lease_skew_ms(a.l)) < 500, "%lld",
	              (long long)lease_skew_ms(a.l));
	ck_assert_msg(psql_num("select count(*) from smmd_node where "
	                       "clock_skew_ms is not null") == 1,
	              "no skew recorded");
	close_node(&a);
}
END_TEST

/* A node dies without a word: a peer reaps it within the budget. */
START_TEST(test_dead_peer_is_reaped)
{
	struct node a, b;
	int64_t epoch_a;
	uint64_t t0, took_ms;

	connect_node(&a, "smmd-a");
	connect_node(&b, "smmd-b");
	migrate(&a);
	start_lease(&a, "node-a");
	start_lease(&b, "node-b");
	pg_run_until(&loop, &a.lives, 1, 3000, "a registers");
	pg_run_until(&loop, &b.lives, 1, 3000, "b registers");
	epoch_a = lease_epoch(a.l);
	/* Killed: no goodbye, its connection just goes. */
	close_node(&a);
	t0 = uv_hrtime();
	pg_run_until(&loop, &b.reaped, 1, 6000, "b reaps a");
	took_ms = (uv_hrtime() - t0) / 1000000;
	ck_assert_str_eq(b.reaped_id, "node-a");
	ck_assert_int_eq(b.reaped_epoch, epoch_a);
	/*
	 * ttl 3 s from a's last renewal, plus at most one beat of b's: 4 s;
	 * the budget for a fail-over is 5 s.
	 */
	ck_assert_msg(took_ms <= 5000, "reaped after %llu ms",
	              (unsigned long long)took_ms);
	ck_assert_int_eq(psql_num("select count(*) from smmd_node where "
	                          "node_id = 'node-a'"),
	                 0);
	ck_assert(lease_live(b.l));
	ck_assert_int_eq(b.deaths, 0);
	close_node(&b);
}
END_TEST

/*
 * Exclusive leases: of three nodes registering at once one gets the
 * lease, the others keep trying; the holder killed, one of them takes
 * over once its lease has run out, within 5 s, and the third still waits.
 */
START_TEST(test_exclusive)
{
	struct node n[3];
	const char *ids[] = {"node-x0", "node-x1", "node-x2"};
	int holder = -1, next = -1;
	uint64_t t0, took_ms;

	for (int i = 0; i < 3; i++)
		connect_node(&n[i], ids[i]);
	migrate(&n[0]);
	for (int i = 0; i < 3; i++)
		start_lease_as(&n[i], ids[i], 1);
	pg_run_for(&loop, 2500);
	for (int i = 0; i < 3; i++)
		if (lease_live(n[i].l)) {
			ck_assert_msg(holder < 0, "%s and %s both hold it",
			              ids[holder], ids[i]);
			holder = i;
		}
	ck_assert_msg(holder >= 0, "nobody holds the lease");
	ck_assert_int_eq(psql_num("select count(*) from smmd_node"), 1);
	/* The two others say they are standbys, with their clock offsets. */
	ck_assert_int_eq(psql_num("select count(*) from smmd_standby where "
	                          "seen_until > clock_timestamp() and "
	                          "abs(clock_skew_ms) < 500"),
	                 2);
	close_node(&n[holder]);
	t0 = uv_hrtime();
	while (next < 0 && (uv_hrtime() - t0) / 1000000 < 6000) {
		pg_run_for(&loop, 20);
		for (int i = 0; i < 3; i++)
			if (i != holder && lease_live(n[i].l))
				next = i;
	}
	took_ms = (uv_hrtime() - t0) / 1000000;
	ck_assert_msg(next >= 0, "nobody took over");
	/* Not before the holder's lease ran out: renewed at most a beat
	 * (1 s) before its death, it ran 3 s from then. */
	ck_assert_msg(took_ms >= 1500 && took_ms <= 5000,
	              "taken over after %llu ms", (unsigned long long)took_ms);
	pg_run_for(&loop, 1500);
	for (int i = 0; i < 3; i++)
		if (i != holder && i != next)
			ck_assert_msg(!lease_live(n[i].l), "%s took it too",
			              ids[i]);
	/* The one that took over is a standby no more; the other still is. */
	ck_assert_int_eq(psql_num("select count(*) from smmd_standby where "
	                          "seen_until > clock_timestamp()"),
	                 1);
	for (int i = 0; i < 3; i++)
		if (i != holder)
			close_node(&n[i]);
}
END_TEST

/*
 * The database stops answering (its table locked): the node stops
 * trusting its lease while the database still holds it, so no peer can
 * take its work while it fires; afterwards it comes back as a new epoch.
 */
START_TEST(test_stops_before_the_database_lets_go)
{
	struct node a;
	int64_t epoch1;
	long long left_ms;

	connect_node(&a, "smmd-a");
	migrate(&a);
	start_lease(&a, "node-a");
	pg_run_until(&loop, &a.lives, 1, 3000, "registration");
	epoch1 = lease_epoch(a.l);
	/* Writers wait 6 s; readers (this test) do not. */
	ck_assert_int_eq(
	        system("psql -X -qc 'begin; lock table smmd_node in exclusive "
	               "mode; select pg_sleep(6); commit' >/dev/null 2>&1 &"),
	        0);
	/* The lock taken before the clock of this test starts. */
	for (int i = 0;
	     i < 100 && psql_num("select count(*) from pg_locks l "
	                         "join pg_class c on c.oid = "
	                         "l.relation where c.relname = "
	                         "'smmd_node' and l.mode = "
	                         "'ExclusiveLock' and l.granted") == 0;
	     i++)
		usleep(50 * 1000);
	pg_run_until(&loop, &a.deaths, 1, 5000, "a stops trusting");
	ck_assert(!lease_live(a.l));
	ck_assert_msg(
	        strstr(a.died_why, "no renewal of the lease for 2000 ms") ==
	                a.died_why,
	        "%s", a.died_why);
	left_ms = psql_num("select (extract(epoch from lease_until - "
	                   "clock_timestamp()) * 1000)::bigint from smmd_node "
	                   "where node_id = 'node-a'");
	/* The margin (1 s), less what reading it took. */
	ck_assert_msg(left_ms > 300, "the database lets go in %lld ms",
	              left_ms);
	/* Once the lock goes: lapsed, so registered again, as a new owner. */
	pg_run_until(&loop, &a.lives, 2, 10000, "a registers again");
	ck_assert(lease_live(a.l));
	ck_assert_int_gt(lease_epoch(a.l), epoch1);
	close_node(&a);
}
END_TEST

static void on_stopped(void *arg, const char *err)
{
	struct node *n = arg;

	ck_assert_msg(err == NULL, "%s", err);
	n->stopped++;
}

/*
 * The lease's connection is lost: the lease is renewed as soon as it is
 * back, not at the next tick, which may come too late for the trust left.
 */
START_TEST(test_beats_on_reconnect)
{
	struct lease_opts o = {.node_id = "node-a",
	                       .version = "test",
	                       .ttl_ms = 30000,
	                       .beat_ms = 10000,
	                       .margin_ms = 10000,
	                       .on_live = on_live,
	                       .arg = NULL};
	struct node a;
	long long before, after = 0;

	connect_node(&a, "smmd-a");
	migrate(&a);
	o.arg = &a;
	ck_assert_ptr_nonnull(a.l = lease_start(&loop, a.c, &o));
	pg_run_until(&loop, &a.lives, 1, 3000, "registration");
	before = psql_num("select (extract(epoch from lease_until) * 1000)"
	                  "::bigint from smmd_node where node_id = 'node-a'");
	/* Past the 500 ms a beat on reconnection waits after the last. */
	pg_run_for(&loop, 700);
	ck_assert_int_eq(pg_psql("select pg_terminate_backend(pid) from "
	                         "pg_stat_activity where application_name "
	                         "= 'smmd-a'",
	                         NULL, 0),
	                 0);
	pg_run_until(&loop, &a.up, 2, 5000, "reconnection");
	/* The next tick is 10 s after the first: a renewal within 3 s is
	 * the reconnection's. */
	for (int i = 0; i < 30 && after <= before; i++) {
		pg_run_for(&loop, 100);
		after = psql_num("select (extract(epoch from lease_until) * "
		                 "1000)::bigint from smmd_node where node_id "
		                 "= 'node-a'");
	}
	ck_assert_msg(after > before, "not renewed: %lld ms, as before", after);
	ck_assert(lease_live(a.l));
	ck_assert_int_eq(a.deaths, 0);
	close_node(&a);
}
END_TEST

/* A clean stop gives the lease up at once. */
START_TEST(test_clean_stop)
{
	struct node a;

	connect_node(&a, "smmd-a");
	migrate(&a);
	start_lease(&a, "node-a");
	pg_run_until(&loop, &a.lives, 1, 3000, "registration");
	ck_assert_int_eq(psql_num("select count(*) from smmd_node"), 1);
	lease_stop(a.l, on_stopped, &a);
	a.l = NULL;
	pg_run_until(&loop, &a.stopped, 1, 3000, "stop");
	ck_assert_int_eq(psql_num("select count(*) from smmd_node"), 0);
	close_node(&a);
}
END_TEST

/* Taken away by hand (or a peer that thought it dead): a new epoch. */
START_TEST(test_taken_away)
{
	struct node a;
	int64_t epoch1;

	connect_node(&a, "smmd-a");
	migrate(&a);
	start_lease(&a, "node-a");
	pg_run_until(&loop, &a.lives, 1, 3000, "registration");
	epoch1 = lease_epoch(a.l);
	ck_assert_int_eq(pg_psql("delete from smmd_node", NULL, 0), 0);
	pg_run_until(&loop, &a.deaths, 1, 3000, "a learns it");
	/* It registers again at once: the death's reason, not the last. */
	ck_assert_msg(strstr(a.died_why, "the lease lapsed") == a.died_why,
	              "%s", a.died_why);
	pg_run_until(&loop, &a.lives, 2, 3000, "a registers again");
	ck_assert_int_gt(lease_epoch(a.l), epoch1);
	close_node(&a);
}
END_TEST

/* The clock vote (lease.h): PostgreSQL and the others, a tie to it. */
START_TEST(test_clock_vote)
{
	const int64_t good[] = {0, 40}, ahead[] = {600000, 600100};

	/* Alone with PostgreSQL: a tie, which the database wins. */
	ck_assert(!lease_clock_outvoted(1500, NULL, 0));
	ck_assert(lease_clock_outvoted(2500, NULL, 0));
	ck_assert(lease_clock_outvoted(-600000, NULL, 0));
	/* A node set wrong, the others right: outvoted. */
	ck_assert(lease_clock_outvoted(600000, good, 1));
	ck_assert(lease_clock_outvoted(600000, good, 2));
	/* PostgreSQL's clock set wrong: the nodes agree among themselves. */
	ck_assert(!lease_clock_outvoted(600000, ahead, 1));
	ck_assert(!lease_clock_outvoted(600000, ahead, 2));
	/* Within the limit of each other, whatever the database says. */
	ck_assert(!lease_clock_outvoted(0, good, 2));
	/* Most nodes against, PostgreSQL for: outvoted all the same. */
	ck_assert(lease_clock_outvoted(600000, (int64_t[]){600000, 0, 0}, 3));
	/* A tie goes to PostgreSQL's side: a node that agrees with it
	 * works, though two wrong nodes disagree with it. */
	ck_assert(!lease_clock_outvoted(0, (int64_t[]){600000, 600000}, 2));
	ck_assert(!lease_clock_outvoted(0, (int64_t[]){600000, -600000}, 2));
	ck_assert(
	        lease_clock_outvoted(600000, (int64_t[]){0, 600000, -5000}, 3));
}
END_TEST

/* A lease from o registers at its first beat; then it goes, row and all. */
static void registers_at_once(struct node *n, const struct lease_opts *o,
                              const char *what)
{
	ck_assert_ptr_nonnull(n->l = lease_start(&loop, n->c, o));
	pg_run_until(&loop, &n->lives, n->lives + 1, 3000, what);
	lease_free(n->l);
	n->l = NULL;
	pg_psql("delete from smmd_node", NULL, 0);
}

/* The exclusive registration votes with the offset measured before it. */
START_TEST(test_exclusive_clock_vote)
{
	/* Beats 4 s apart: only the first, with the offset given here,
	 * falls in each window below; later ones measure the real one. */
	struct lease_opts o = {.node_id = "node-clock",
	                       .version = "test",
	                       .exclusive = 1,
	                       .beat_ms = 4000,
	                       .ttl_ms = 12000,
	                       .skew_ms = 600000,
	                       .skew_known = 1,
	                       .on_live = on_live};
	struct node n;

	connect_node(&n, "node-clock");
	migrate(&n);
	o.arg = &n;
	/* Two standbys whose clocks agree with this one's: registered at
	 * the first beat, though PostgreSQL's disagrees. */
	pg_psql("delete from smmd_standby", NULL, 0);
	ck_assert_int_eq(
	        pg_psql("insert into smmd_standby (node_id, seen_until, "
	                "clock_skew_ms, version) values ('x1', "
	                "clock_timestamp() + interval '1 minute', 600000, "
	                "'t'), ('x2', clock_timestamp() + interval "
	                "'1 minute', 600050, 't')",
	                NULL, 0),
	        0);
	registers_at_once(&n, &o, "registered at the first beat");
	/* A good clock against those two wrong ones: a tie, which goes to
	 * PostgreSQL's side: registered. */
	o.skew_ms = 0;
	registers_at_once(&n, &o, "registered on the tie");
	/* Alone with PostgreSQL, which disagrees: refused, a standby
	 * saying its offset, until the next beat measures the real one. */
	o.skew_ms = 600000;
	pg_psql("delete from smmd_standby", NULL, 0);
	ck_assert_ptr_nonnull(n.l = lease_start(&loop, n.c, &o));
	pg_run_for(&loop, 1500);
	ck_assert_int_eq(n.lives, 2);
	ck_assert_int_eq(psql_num("select count(*) from smmd_standby where "
	                          "node_id = 'node-clock' and clock_skew_ms = "
	                          "600000"),
	                 1);
	pg_run_until(&loop, &n.lives, 3, 6000, "registered on a good clock");
	close_node(&n);
}
END_TEST

/* Claims (leaseclaim.c). */
static const char *const ten[] = {"ch0", "ch1", "ch2", "ch3", "ch4", "ch5",
                                  "ch6", "ch7", "ch8", "ch9", NULL};

static int may_release(void *arg, const char *channel)
{
	const struct node *n = arg;

	return n->busy == NULL || strcmp(channel, n->busy) != 0;
}

static void on_claims(void *arg)
{
	((struct node *)arg)->claims_told++;
}

static void start_claimer_every(struct node *n, const char *id,
                                const char *const *channels, int exclusive,
                                int worker, int64_t every_ms)
{
	struct lease_opts o = {.node_id = id,
	                       .version = "test",
	                       .exclusive = exclusive,
	                       .worker = worker,
	                       .channels = channels,
	                       .may_release = may_release,
	                       .on_claims = on_claims,
	                       .claim_every_ms = every_ms,
	                       .on_live = on_live,
	                       .on_reaped = on_reaped,
	                       .arg = n};

	ck_assert_ptr_nonnull(n->l = lease_start(&loop, n->c, &o));
}

/* Rounds every second, so that the shares even out within a test. */
static void start_claimer(struct node *n, const char *id,
                          const char *const *channels, int exclusive,
                          int worker)
{
	start_claimer_every(n, id, channels, exclusive, worker, 1000);
}

static int owns_count(const struct node *n, const char *const *channels)
{
	int k = 0;

	for (size_t i = 0; n->l && channels[i]; i++)
		k += lease_owns(n->l, channels[i]);
	return k;
}

/*
 * Run until the k nodes own every channel between them, each from least
 * to most of them; fails past ms, and at once if a channel has two
 * owners. How long it took, in ms.
 */
static uint64_t settle(struct node *const *v, int k, int least, int most,
                       int ms, const char *why)
{
	uint64_t t0 = uv_hrtime(), elapsed;
	int done = 0, total = 0, counts[8];

	while (!done &&
	       (elapsed = (uv_hrtime() - t0) / 1000000) < (uint64_t)ms) {
		pg_run_for(&loop, 20);
		total = 0;
		for (size_t i = 0; ten[i]; i++) {
			int owners = 0;

			for (int j = 0; j < k; j++)
				owners +=
				        v[j]->l && lease_owns(v[j]->l, ten[i]);
			ck_assert_msg(owners <= 1, "%s has %d owners (%s)",
			              ten[i], owners, why);
			total += owners;
		}
		done = total == 10;
		for (int j = 0; j < k; j++) {
			counts[j] = owns_count(v[j], ten);
			done = done && counts[j] >= least && counts[j] <= most;
		}
	}
	ck_assert_msg(done, "%s: %d of 10 owned after %d ms (%d, %d, %d)", why,
	              total, ms, counts[0], k > 1 ? counts[1] : -1,
	              k > 2 ? counts[2] : -1);
	return (uv_hrtime() - t0) / 1000000;
}

/*
 * A node is about to die: the channels it owns, to follow (a copy,
 * NULL-terminated, at most ten).
 */
static void note_owned(const struct node *n, char names[11][16])
{
	const char *const *v;
	size_t k;

	v = lease_owned(n->l, &k);
	ck_assert_uint_le(k, 10);
	for (size_t i = 0; i < k; i++)
		snprintf(names[i], 16, "%s", v[i]);
	names[k][0] = '\0';
}

/*
 * Run until each of names (a dead node's channels) has been owned by one
 * of the k live nodes since: fails past ms, and at once if a channel has
 * two owners. How long it took, in ms. The channels need not be owned
 * all at once at the end: a node that took more than its share lets a
 * quiet one go for another to take at its next round (leaseclaim.c).
 */
static uint64_t taken_again(struct node *const *v, int k, char names[11][16],
                            int ms, const char *why)
{
	uint64_t t0 = uv_hrtime();
	int seen[10] = {0}, left = 1;

	while (left && (uv_hrtime() - t0) / 1000000 < (uint64_t)ms) {
		pg_run_for(&loop, 20);
		left = 0;
		for (size_t i = 0; names[i][0]; i++) {
			int owners = 0;

			for (int j = 0; j < k; j++)
				owners += lease_owns(v[j]->l, names[i]);
			ck_assert_msg(owners <= 1, "%s has %d owners (%s)",
			              names[i], owners, why);
			seen[i] |= owners;
			left += !seen[i];
		}
	}
	ck_assert_msg(!left, "%s: %d channels never owned again in %d ms", why,
	              left, ms);
	return (uv_hrtime() - t0) / 1000000;
}

/* What the nodes own is what the table says, under their epochs, each
 * with its claim's fence. */
static void table_agrees(struct node *const *v, int k)
{
	char sql[256];

	for (int j = 0; j < k; j++) {
		const char *const *owned;
		size_t n;

		owned = lease_owned(v[j]->l, &n);
		snprintf(sql, sizeof(sql),
		         "select count(*) from smmd_channel_owner o join "
		         "smmd_node n using (node_id, epoch) where n.epoch = "
		         "%lld",
		         (long long)lease_epoch(v[j]->l));
		ck_assert_int_eq(psql_num(sql), (long long)n);
		for (size_t i = 0; i < n; i++) {
			snprintf(sql, sizeof(sql),
			         "select fence from smmd_channel_owner where "
			         "channel = '%s'",
			         owned[i]);
			ck_assert_int_eq(psql_num(sql),
			                 lease_fence(v[j]->l, owned[i]));
		}
	}
}

/*
 * Three nodes share ten channels: the first takes them all, the others
 * join and the shares even out (4, 4, 2: a node past its share lets go
 * while another owns fewer), never a channel with two owners; one
 * killed, its channels are taken within 5 s and the two even out again.
 */
START_TEST(test_claims)
{
	struct node a, b, c;
	struct node *all[] = {&a, &b, &c}, *left[] = {&a, &c};
	char gone[11][16];
	int64_t fences[10] = {0};
	uint64_t took;

	connect_node(&a, "smmd-a");
	connect_node(&b, "smmd-b");
	connect_node(&c, "smmd-c");
	migrate(&a);
	pg_psql("delete from smmd_channel_owner", NULL, 0);
	start_claimer(&a, "node-a", ten, 0, 0);
	settle(all, 1, 10, 10, 4000, "a alone");
	ck_assert_int_ge(a.claims_told, 1);
	start_claimer(&b, "node-b", ten, 0, 0);
	start_claimer(&c, "node-c", ten, 0, 0);
	settle(all, 3, 2, 4, 15000, "three");
	table_agrees(all, 3);
	ck_assert_int_eq(psql_num("select count(*) from smmd_channel_owner"),
	                 10);
	note_owned(&b, gone);
	for (size_t i = 0; gone[i][0]; i++)
		fences[i] = lease_fence(b.l, gone[i]);
	close_node(&b);
	took = taken_again(left, 2, gone, 6000, "b killed");
	/* b renewed at most a beat before it died, for 3 s; a beat more to
	 * reap it, and the round that takes its channels at once. */
	ck_assert_msg(took <= 5000, "b's channels taken after %llu ms",
	              (unsigned long long)took);
	settle(left, 2, 5, 5, 10000, "two even out");
	table_agrees(left, 2);
	/* A claim's fence rises with each owner, whoever registered first. */
	for (size_t i = 0; gone[i][0]; i++) {
		int64_t now =
		        lease_fence(a.l, gone[i]) + lease_fence(c.l, gone[i]);

		ck_assert_msg(fences[i] > 0 && now > fences[i],
		              "%s: fence %lld after b's %lld", gone[i],
		              (long long)now, (long long)fences[i]);
	}
	/*
	 * Every connection cut, three times over, claim rounds among the
	 * groups lost: never two owners, and all owned again after.
	 */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(pg_psql("select pg_terminate_backend(pid) "
		                         "from pg_stat_activity where "
		                         "application_name like 'smmd-%'",
		                         NULL, 0),
		                 0);
		settle(left, 2, 0, 10, 6000, "after the cut");
	}
	settle(left, 2, 5, 5, 10000, "even again after the cuts");
	table_agrees(left, 2);
	close_node(&a);
	close_node(&c);
}
END_TEST

/*
 * A node lets go only of what may_release allows, and at once of a
 * channel no longer its own, which another node that lists it takes.
 */
START_TEST(test_claims_release)
{
	static const char *const four[] = {"ch0", "ch1", "ch2", "ch3", NULL};
	static const char *const three[] = {"ch1", "ch2", "ch3", NULL};
	struct node a, b;
	uint64_t t0;

	connect_node(&a, "smmd-a");
	connect_node(&b, "smmd-b");
	migrate(&a);
	pg_psql("delete from smmd_channel_owner", NULL, 0);
	a.busy = "ch0";
	start_claimer(&a, "node-a", four, 0, 0);
	t0 = uv_hrtime();
	while (owns_count(&a, four) < 4 && uv_hrtime() - t0 < 4000000000ull)
		pg_run_for(&loop, 20);
	ck_assert_int_eq(owns_count(&a, four), 4);
	start_claimer(&b, "node-b", four, 0, 0);
	t0 = uv_hrtime();
	while (owns_count(&b, four) < 2 && uv_hrtime() - t0 < 8000000000ull)
		pg_run_for(&loop, 20);
	ck_assert_int_eq(owns_count(&b, four), 2);
	ck_assert_int_eq(owns_count(&a, four), 2);
	ck_assert(lease_owns(a.l, "ch0")); /* busy: kept */
	/* ch0 is no longer a's: kept while busy (a request in flight on it
	 * ends first), let go once quiet, and b takes it. */
	ck_assert_int_eq(lease_set_channels(a.l, three), 0);
	pg_run_for(&loop, 1500);
	ck_assert(lease_owns(a.l, "ch0"));
	ck_assert(!lease_owns(b.l, "ch0"));
	a.busy = NULL;
	t0 = uv_hrtime();
	while (lease_owns(a.l, "ch0") && uv_hrtime() - t0 < 3000000000ull)
		pg_run_for(&loop, 20);
	ck_assert(!lease_owns(a.l, "ch0"));
	t0 = uv_hrtime();
	while (!lease_owns(b.l, "ch0") && uv_hrtime() - t0 < 4000000000ull) {
		pg_run_for(&loop, 20);
		ck_assert(!lease_owns(a.l, "ch0"));
	}
	ck_assert(lease_owns(b.l, "ch0"));
	/* b, past its share now, lets a quiet one go to a: all owned. */
	t0 = uv_hrtime();
	while (owns_count(&a, four) + owns_count(&b, four) < 4 &&
	       uv_hrtime() - t0 < 4000000000ull) {
		pg_run_for(&loop, 20);
		for (size_t i = 0; four[i]; i++)
			ck_assert(!lease_owns(a.l, four[i]) ||
			          !lease_owns(b.l, four[i]));
	}
	ck_assert_int_eq(owns_count(&a, four) + owns_count(&b, four), 4);
	ck_assert(lease_owns(b.l, "ch0"));
	close_node(&a);
	close_node(&b);
}
END_TEST

/*
 * A worker registers beside the exclusive lease's holder, which a second
 * exclusive lease still waits for; both claim, with rounds every 5 s. A
 * second worker killed, its channels are owned again within 5 s all the
 * same: a renewal that sees a dead owner's rows sends a round at once.
 * The holder killed, the waiting one takes its lease, and its channels
 * are owned again.
 */
START_TEST(test_claims_worker)
{
	struct node e, w, v, x;
	struct node *three[] = {&e, &w, &v}, *pair[] = {&e, &w},
	            *after[] = {&w, &x};
	char gone[11][16];
	uint64_t took;

	connect_node(&e, "smmd-e");
	connect_node(&w, "smmd-w");
	connect_node(&v, "smmd-v");
	connect_node(&x, "smmd-x");
	migrate(&e);
	pg_psql("delete from smmd_channel_owner", NULL, 0);
	start_claimer_every(&e, "node-e", ten, 1, 0, 0);
	pg_run_until(&loop, &e.lives, 1, 3000, "e registers");
	start_claimer_every(&w, "node-w", ten, 0, 1, 0);
	start_claimer_every(&v, "node-v", ten, 0, 1, 0);
	start_claimer_every(&x, "node-x", ten, 1, 0, 0);
	settle(three, 3, 2, 4, 30000, "e, w and v");
	ck_assert(!lease_live(x.l));
	ck_assert_int_eq(owns_count(&x, ten), 0);
	ck_assert_int_eq(psql_num("select count(*) from smmd_node where "
	                          "worker"),
	                 2);
	note_owned(&v, gone);
	close_node(&v);
	took = taken_again(pair, 2, gone, 8000, "v's channels taken");
	ck_assert_msg(took <= 5000, "v's channels taken after %llu ms",
	              (unsigned long long)took);
	/* A quiet one let go past a share waits for a 5 s round. */
	settle(pair, 2, 0, 10, 12000, "e and w own all");
	note_owned(&e, gone);
	close_node(&e);
	pg_run_until(&loop, &x.lives, 1, 6000, "x takes e's lease");
	taken_again(after, 2, gone, 6000, "e's channels taken");
	settle(after, 2, 0, 10, 12000, "w and x own all");
	close_node(&w);
	close_node(&x);
}
END_TEST

/*
 * Nodes that list different channels: a and b list five, c one of its
 * own. Once every channel is owned, nothing changes hands: a node past
 * its share keeps a channel no node with two fewer lists.
 */
START_TEST(test_claims_steady)
{
	static const char *const five[] = {"ch0", "ch1", "ch2",
	                                   "ch3", "ch4", NULL};
	static const char *const own[] = {"z0", NULL};
	struct node a, b, c;
	int told[3], deaths[3];
	uint64_t t0;

	connect_node(&a, "smmd-a");
	connect_node(&b, "smmd-b");
	connect_node(&c, "smmd-c");
	migrate(&a);
	pg_psql("delete from smmd_channel_owner", NULL, 0);
	start_claimer(&a, "node-a", five, 0, 0);
	start_claimer(&b, "node-b", five, 0, 0);
	start_claimer(&c, "node-c", own, 0, 0);
	t0 = uv_hrtime();
	/* Even: 3 and 2 (the share is 5 channels over 3 nodes: 2). */
	while ((owns_count(&a, five) + owns_count(&b, five) != 5 ||
	        owns_count(&a, five) < 2 || owns_count(&b, five) < 2 ||
	        !lease_owns(c.l, "z0")) &&
	       uv_hrtime() - t0 < 15000000000ull)
		pg_run_for(&loop, 20);
	ck_assert_int_ge(owns_count(&a, five), 2);
	ck_assert_int_ge(owns_count(&b, five), 2);
	ck_assert_int_eq(owns_count(&a, five) + owns_count(&b, five), 5);
	ck_assert(lease_owns(c.l, "z0"));
	told[0] = a.claims_told;
	told[1] = b.claims_told;
	told[2] = c.claims_told;
	deaths[0] = a.deaths;
	deaths[1] = b.deaths;
	deaths[2] = c.deaths;
	/*
	 * Each channel one owner all along; a sample where a lease is not
	 * trusted (a loop that stalled on a loaded machine) says nothing
	 * about the shares, and what changed hands would tell on_claims.
	 */
	for (int i = 0; i < 8000 / 100; i++) {
		pg_run_for(&loop, 100);
		if (!lease_live(a.l) || !lease_live(b.l)) {
			fprintf(stderr,
			        "test_claims_steady: a lease not "
			        "trusted for a moment: %s\n",
			        a.deaths ? a.died_why : b.died_why);
			continue;
		}
		for (size_t j = 0; five[j]; j++)
			ck_assert_msg(
			        lease_owns(a.l, five[j]) +
			                        lease_owns(b.l, five[j]) ==
			                1,
			        "%s: a %d b %d; deaths a %d b %d (%s); "
			        "told a %d b %d, from %d %d",
			        five[j], lease_owns(a.l, five[j]),
			        lease_owns(b.l, five[j]), a.deaths, b.deaths,
			        a.deaths ? a.died_why : b.died_why,
			        a.claims_told, b.claims_told, told[0], told[1]);
	}
	/* A lease that lapsed meanwhile (a stalled loop) lost its
	 * channels and told so: only the others' counts say anything. */
	ck_assert(a.deaths > deaths[0] || a.claims_told == told[0]);
	ck_assert(b.deaths > deaths[1] || b.claims_told == told[1]);
	ck_assert(c.deaths > deaths[2] || c.claims_told == told[2]);
	close_node(&a);
	close_node(&b);
	close_node(&c);
}
END_TEST

static Suite *lease_suite(void)
{
	Suite *s = suite_create("lease");
	TCase *tc = tcase_create("postgresql");

	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate);
	tcase_add_test(tc, test_register_and_renew);
	tcase_add_test(tc, test_dead_peer_is_reaped);
	tcase_add_test(tc, test_stops_before_the_database_lets_go);
	tcase_add_test(tc, test_clean_stop);
	tcase_add_test(tc, test_beats_on_reconnect);
	tcase_add_test(tc, test_taken_away);
	tcase_add_test(tc, test_exclusive);
	tcase_add_test(tc, test_clock_vote);
	tcase_add_test(tc, test_exclusive_clock_vote);
	tcase_add_test(tc, test_claims);
	tcase_add_test(tc, test_claims_release);
	tcase_add_test(tc, test_claims_worker);
	tcase_add_test(tc, test_claims_steady);
	suite_add_tcase(s, tc);
	return s;
}

SMM_PG_CHECK_MAIN(lease_suite)
