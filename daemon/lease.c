/*
 * This node's lease (lease.h). The statements follow River's lease
 * discipline (../shared/research/scaleout-anchors.md, 2.1 and 4.4): every
 * time is the database's clock_timestamp(), a renewal only extends a lease
 * that is still running, and the node's own trust runs from the moment it
 * sent the renewal, so a slow answer never stretches it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease_impl.h"
#include "wallclock.h"

/*
 * Nodes whose lease ran out, whatever their epoch: their work is free.
 * SKIP LOCKED: a node's row held by one of its groups still deciding
 * (smmd_fence's KEY SHARE) waits for the next beat instead of holding
 * this one up. Sent in a transaction of its own, after the renewal.
 */
static const char reap_sql[] =
        "DELETE FROM smmd_node WHERE node_id IN (SELECT node_id FROM "
        "smmd_node WHERE lease_until < clock_timestamp() FOR UPDATE SKIP "
        "LOCKED) RETURNING node_id, epoch";
/* $1 node, $2 epoch, $3 ttl ms, $4 skew ms. */
static const char renew_sql[] =
        "UPDATE smmd_node SET lease_until = clock_timestamp() + $3 * "
        "interval '1 millisecond', clock_skew_ms = $4 "
        "WHERE node_id = $1 AND epoch = $2 AND lease_until > "
        "clock_timestamp() "
        "RETURNING epoch, (extract(epoch FROM clock_timestamp()) * "
        "1000)::bigint";
/*
 * The same, for a node that claims (leaseclaim.c), and whether one of
 * its channels ($5, one a line) has no live owner: its owner's lease ran
 * out, or it has none (another node let it go). A round follows at once,
 * so such channels wait for no periodic round. Only its own: a channel
 * no node lists would otherwise ask for a round every beat. Then whether
 * any node's lease ran out: such a node reaps only then, with a round
 * (which reaps), so that its idle beat is this one statement; and
 * whether a node holds an exclusive lease (lease_holder_lives).
 */
static const char renew_claims_sql[] =
        "UPDATE smmd_node SET lease_until = clock_timestamp() + $3 * "
        "interval '1 millisecond', clock_skew_ms = $4 "
        "WHERE node_id = $1 AND epoch = $2 AND lease_until > "
        "clock_timestamp() "
        "RETURNING epoch, (extract(epoch FROM clock_timestamp()) * "
        "1000)::bigint, EXISTS (SELECT 1 FROM unnest(string_to_array($5, "
        "E'\\n')) AS c WHERE NOT EXISTS (SELECT 1 FROM smmd_channel_owner "
        "o JOIN smmd_node n ON n.node_id = o.node_id AND n.epoch = "
        "o.epoch WHERE o.channel = c AND n.lease_until > "
        "clock_timestamp())), EXISTS (SELECT 1 FROM smmd_node WHERE "
        "lease_until < clock_timestamp()), EXISTS (SELECT 1 FROM "
        "smmd_node WHERE NOT worker AND lease_until > clock_timestamp())";
/*
 * $1 node, $2 ttl ms, $3 version, $4 a worker, $5 it claims; the lease's
 * chain (pgrepl) starts.
 */
static const char register_sql[] =
        "WITH n AS (INSERT INTO smmd_node (node_id, epoch, lease_until, "
        "version, worker, claims) VALUES ($1, nextval('smmd_epoch_seq'), "
        "clock_timestamp() + $2 * interval '1 millisecond', $3, $4, $5) "
        "ON CONFLICT (node_id) DO NOTHING RETURNING epoch), "
        "c AS (INSERT INTO smmd_chain (node_id, epoch, shipped) SELECT $1, "
        "epoch, 0 FROM n) "
        "SELECT epoch, (extract(epoch FROM clock_timestamp()) * "
        "1000)::bigint FROM n";
/*
 * An exclusive registration (lease_opts.exclusive): only while no other
 * node's lease runs. The lock comes first, in a statement of its own:
 * READ COMMITTED takes each statement's snapshot when it starts, so the
 * registration, started once the lock is granted, sees a rival's row
 * that committed while it waited.
 */
static const char exclusive_lock_sql[] =
        "SELECT pg_advisory_xact_lock(" LEASE_EXCLUSIVE_LOCK ")";
/*
 * ... and an exclusive lease's renewal takes it shared: a renewal checked
 * just before its lease ran out and committed just after is neither
 * missed by a rival's registration in between (which waits for it, then
 * sees it) nor kept after the rival registered (it waits for the
 * registration, then finds its own lease run out).
 */
static const char exclusive_share_sql[] =
        "SELECT pg_advisory_xact_lock_shared(" LEASE_EXCLUSIVE_LOCK ")";
#define STR_(x)     #x
#define STR(x)      STR_(x)
#define CLOCK_LIMIT STR(LEASE_CLOCK_LIMIT_MS)
/*
 * A registration refused leaves the node a standby: it says so in
 * smmd_standby (for smmctl status on the working node), and the database
 * clock comes back all the same, so a standby knows its offset too.
 * $4: the offset last measured, or NULL; $5: the node claims.
 *
 * It reaps in the same statement (as reap_sql, and standbys gone), so a
 * standby's beat is two statements with the lock, and it has one a
 * second left for keeping its view warm (store_pg.c) within the budget
 * of three. Nobody is told what it reaped: an exclusive lease's holder
 * reaps nothing, its successor starts as after a crash.
 *
 * A node whose clock is outvoted (lease.h) by PostgreSQL's, the
 * standbys' and the workers' (a worker that no longer says it is a
 * standby counts by its worker row) registers as a standby too, so that
 * one with a good clock works; the same rule as lease_clock_outvoted.
 * The working node is not counted: no registration succeeds while it
 * lives.
 */
static const char register_exclusive_sql[] =
        "WITH r AS (DELETE FROM smmd_node WHERE node_id IN (SELECT "
        "node_id FROM smmd_node WHERE lease_until < clock_timestamp() FOR "
        "UPDATE SKIP LOCKED)), "
        "x AS (DELETE FROM smmd_standby WHERE seen_until < "
        "clock_timestamp()), "
        "n AS (INSERT INTO smmd_node (node_id, epoch, lease_until, "
        "version, claims) SELECT $1, nextval('smmd_epoch_seq'), "
        "clock_timestamp() + $2 * interval '1 millisecond', $3, $5 WHERE "
        "NOT EXISTS (SELECT 1 "
        "FROM smmd_node WHERE node_id <> $1 AND lease_until > "
        "clock_timestamp() AND NOT worker) AND (SELECT 2 * a < t OR (2 * a = t AND "
        "abs($4::bigint) <= " CLOCK_LIMIT ") FROM (SELECT count(*) FILTER "
        "(WHERE abs(o - $4::bigint) > " CLOCK_LIMIT ") AS a, count(*) + 1 "
        "AS t FROM (SELECT 0::bigint AS o UNION ALL SELECT clock_skew_ms "
        "FROM smmd_standby WHERE node_id <> $1 AND seen_until > "
        "clock_timestamp() AND clock_skew_ms IS NOT NULL UNION ALL "
        "SELECT clock_skew_ms FROM smmd_node k WHERE worker AND "
        "k.node_id <> $1 || '/w' AND lease_until > clock_timestamp() AND "
        "clock_skew_ms IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        "smmd_standby s WHERE s.node_id || '/w' = k.node_id AND "
        "s.seen_until > clock_timestamp())) v) w) "
        "ON CONFLICT (node_id) DO NOTHING RETURNING epoch), "
        "c AS (INSERT INTO smmd_chain (node_id, epoch, shipped) SELECT $1, "
        "epoch, 0 FROM n), "
        "s AS (INSERT INTO smmd_standby (node_id, seen_until, "
        "clock_skew_ms, version) SELECT $1, clock_timestamp() + $2 * "
        "interval '1 millisecond', $4, $3 WHERE NOT EXISTS (SELECT 1 FROM "
        "n) ON CONFLICT (node_id) DO UPDATE SET seen_until = "
        "excluded.seen_until, clock_skew_ms = excluded.clock_skew_ms), "
        "d AS (DELETE FROM smmd_standby WHERE node_id = $1 AND EXISTS "
        "(SELECT 1 FROM n)) "
        "SELECT (SELECT epoch FROM n), (extract(epoch FROM "
        "clock_timestamp()) * 1000)::bigint";
static const char unregister_sql[] =
        "DELETE FROM smmd_node WHERE node_id = $1 AND epoch = $2";

static int64_t ms_of(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void lease_beat_unref(struct beat *b)
{
	if (--b->refs > 0)
		return;
	while (b->reaped) {
		struct reaped *r = b->reaped;

		b->reaped = r->next;
		free(r);
	}
	claims_beat_free(b);
	free(b);
}

void lease_note_reaped(struct beat *b, const char *node_id, int64_t epoch)
{
	size_t len = strlen(node_id) + 1;
	struct reaped *r = malloc(sizeof(*r) + len);

	if (r == NULL)
		return; /* deleted, and no beat will see it again */
	memcpy(r->node_id, node_id, len);
	r->epoch = epoch;
	r->next = b->reaped;
	b->reaped = r;
}

static void on_reap(void *arg, const PGresult *res, const char *err)
{
	struct beat *b = arg;

	(void)err;
	for (int i = 0; res && i < PQntuples(res); i++)
		lease_note_reaped(b, PQgetvalue(res, i, 0), ms_of(res, i, 1));
	lease_beat_unref(b);
}

static void on_renew(void *arg, const PGresult *res, const char *err)
{
	struct beat *b = arg;

	if (res && PQntuples(res) == 1) {
		b->answered = !PQgetisnull(res, 0, 0);
		b->epoch = ms_of(res, 0, 0);
		b->db_ms = ms_of(res, 0, 1);
		b->clocked = 1;
		b->orphans = PQnfields(res) > 2 &&
		             strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		b->dead_seen = PQnfields(res) > 3 &&
		               strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		b->holder = PQnfields(res) > 4 &&
		            strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	}
	lease_beat_unref(b);
}

static void set_live(struct lease *l, int live, const char *why)
{
	if (l->live == live)
		return;
	l->live = live;
	if (l->o.on_live)
		l->o.on_live(l->o.arg, live, why);
}

static void send_beat(struct lease *l);
static void send_round(struct lease *l, int renew);

/* No renewal came in time: the database may already count us dead. */
static void on_trust_end(uv_timer_t *t)
{
	struct lease *l = t->data;
	char why[96];

	snprintf(why, sizeof(why), "no renewal of the lease for %" PRId64 " ms",
	         l->o.ttl_ms - l->o.margin_ms);
	set_live(l, 0, why);
}

static void unregister(struct lease *l);

/* The renewal committed: believe what it said, if it is still in time. */
static void renewal_kept(struct lease *l, struct beat *b)
{
	uint64_t now = uv_hrtime();
	char why[128];
	int gone;

	if (b->clocked) {
		l->clocked_wall_ms = wallclock_now_ms();
		l->clocked_ns = now;
		l->skew_ms =
		        b->db_ms - (b->sent_wall_ms + l->clocked_wall_ms) / 2;
		l->have_skew = 1;
	}
	if (!b->answered) {
		int had = l->epoch != 0;

		/*
		 * Lapsed, or taken away: start over as a new owner, at once.
		 * A registration refused (our id's old row, not reaped yet)
		 * waits for the next beat, which reaps it.
		 */
		l->epoch = 0;
		claims_lost(l);
		uv_timer_stop(&l->trust_timer);
		set_live(l, 0,
		         "the lease lapsed: the database holds none "
		         "for this node");
		if (had && !l->dead)
			send_beat(l);
		return;
	}
	snprintf(why, sizeof(why), "%s as epoch %" PRId64,
	         l->epoch == b->epoch ? "lease renewed" : "registered",
	         b->epoch);
	/* Rows under another epoch are not ours; a new registration
	 * claims at once, not a beat later: it fires nothing till then. */
	if (l->epoch != b->epoch) {
		claims_lost(l);
		l->claim_now = l->claiming;
	}
	/* A round in this beat came after the renewal: it has seen to it. */
	if ((b->orphans || b->dead_seen) && !b->claims)
		l->claim_now = 1;
	gone = l->holder_seen && !b->holder;
	l->holder_seen = b->holder;
	l->epoch = b->epoch;
	l->trust_until_ns =
	        b->sent_ns + (uint64_t)(l->o.ttl_ms - l->o.margin_ms) * 1000000;
	/* An answer that came too late (a stalled loop) extends nothing. */
	if (now >= l->trust_until_ns) {
		set_live(l, 0, "the renewal's answer came too late to trust");
		return;
	}
	uv_timer_start(&l->trust_timer, on_trust_end,
	               (l->trust_until_ns - now) / 1000000, 0);
	set_live(l, 1, why);
	/* Told once live, so that lease_holder_lives answers for now. */
	if (gone && l->o.on_holder_gone && !l->dead)
		l->o.on_holder_gone(l->o.arg);
}

/* The beat's last group ended: the next may go. */
static void beat_over(struct lease *l)
{
	l->beat = NULL;
	if (l->dead)
		return;
	if (l->stop_done)
		unregister(l); /* lease_stop waited for this beat */
	else if (l->beat_missed)
		send_beat(l); /* a tick came meanwhile: renew now */
	else if (l->claim_now)
		send_round(l, 0); /* a channel's owner died */
}

static void on_renewal_done(void *arg, const char *err)
{
	struct beat *b = arg;
	struct lease *l = b->l;

	if (l && err == NULL && !l->stop_done)
		renewal_kept(l, b);
	if (b->l && !b->reaps)
		beat_over(b->l);
	lease_beat_unref(b);
}

static void on_reaping_done(void *arg, const char *err)
{
	struct beat *b = arg;
	struct lease *l = b->l;

	if (l) {
		if (b->claims && !l->dead)
			claims_done(l, b, err);
		/* Their channels are free now: claim them at once. */
		if (b->reaped && !err && !b->claims && l->claiming)
			l->claim_now = 1;
		/*
		 * Reaped only if committed; our own current row never is. An
		 * exclusive lease's holder is told nothing (lease.h).
		 */
		for (struct reaped *r = b->reaped;
		     r && !err && !l->dead && !l->o.exclusive; r = r->next)
			if ((strcmp(r->node_id, l->node_id) != 0 ||
			     r->epoch != l->epoch) &&
			    l->o.on_reaped)
				l->o.on_reaped(l->o.arg, r->node_id, r->epoch);
		beat_over(l);
	}
	lease_beat_unref(b);
}

/* Queue one statement or sync of b; 0, or -1 when pgconn refused it. */
int lease_beat_item(struct beat *b, int r)
{
	if (r < 0)
		return -1;
	b->refs++;
	return 0;
}

/* The renewal, or the registration, with an exclusive lease's lock. */
static int queue_renewal(struct lease *l, struct beat *b,
                         const char *const *renew, const char *const *reg)
{
	if (l->o.exclusive &&
	    pgconn_query(l->pg,
	                 l->epoch ? exclusive_share_sql : exclusive_lock_sql, 0,
	                 NULL, pgconn_ignore, NULL) < 0)
		return -1;
	if (l->epoch)
		return lease_beat_item(
		        b,
		        pgconn_query(l->pg,
		                     l->claiming ? renew_claims_sql : renew_sql,
		                     l->claiming ? 5 : 4, renew, on_renew, b));
	return lease_beat_item(b, pgconn_query(l->pg,
	                                       l->o.exclusive
	                                               ? register_exclusive_sql
	                                               : register_sql,
	                                       5, reg, on_renew, b));
}

/*
 * The beat's second group, after the renewal's: a claim round when due
 * (it reaps too), else the reaping, but on a node that claims, whose
 * renewal says whether there is anything to reap (renew_claims_sql): a
 * round follows then. 0, or -1 when the connection broke.
 */
static int queue_second(struct lease *l, struct beat *b, int renew, int claims)
{
	int r = claims ? claims_queue(l, b) : 1, reap;

	if (r < 0)
		return -1;
	reap = r > 0 && !l->o.exclusive && !(renew && l->claiming && l->epoch);
	if (reap && lease_beat_item(b, pgconn_query(l->pg, reap_sql, 0, NULL,
	                                            on_reap, b)) < 0)
		return -1;
	b->reaps = r == 0 || reap;
	if (b->reaps &&
	    lease_beat_item(b, pgconn_sync(l->pg, on_reaping_done, b)) < 0)
		return -1;
	return 0;
}

/*
 * A beat: the renewal (or registration), then the reaping or a claim
 * round. Without renew, a claim round alone (a peer was just reaped).
 */
static void send_round(struct lease *l, int renew)
{
	char ttl[24], epoch[24], skew[24], *mine;
	const char *renew_p[] = {l->node_id, epoch, ttl,
	                         l->have_skew ? skew : NULL, ""};
	const char *reg[] = {l->node_id, ttl, l->version,
	                     l->o.exclusive ? (l->have_skew ? skew : NULL)
	                                    : (l->o.worker ? "true" : "false"),
	                     l->claiming ? "true" : "false"};
	struct beat *b;
	int claims, r;

	if (l->beat && renew)
		l->beat_missed = 1;
	if (l->beat || l->stop_done || l->dead || !pgconn_up(l->pg))
		return; /* one at a time; trust runs down meanwhile */
	/* An exclusive registration its owner does not want now. */
	if (renew && l->o.exclusive && l->epoch == 0 && l->o.may_register &&
	    !l->o.may_register(l->o.arg))
		return;
	if (claims_due(l) || l->unlisted) {
		/* Before the round is built: on_claims may stop the lease. */
		claims_let_go(l);
		if (l->beat || l->stop_done || l->dead || !pgconn_up(l->pg))
			return;
	}
	claims = claims_due(l); /* ... and what it let go makes one due */
	if (!renew && !claims)
		return;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return;
	b->l = l;
	b->refs = 1; /* ours, until queued */
	if (renew) {
		l->beat_missed = 0;
		b->sent_ns = l->beat_sent_ns = uv_hrtime();
		b->sent_wall_ms = wallclock_now_ms();
	}
	snprintf(ttl, sizeof(ttl), "%" PRId64, l->o.ttl_ms);
	snprintf(epoch, sizeof(epoch), "%" PRId64, l->epoch);
	snprintf(skew, sizeof(skew), "%" PRId64, l->skew_ms);
	/*
	 * The renewal first, alone: nothing a dead node holds delays it.
	 * An exclusive lease's renewals reap nothing, and its registrations
	 * reap in their own statement (register_exclusive_sql). That keeps
	 * such a beat at two statements, with the lock. A claim round, when
	 * due, reaps too, in place of the reaping (leaseclaim.c).
	 */
	/* Out of memory, it looks for free channels at a later beat. */
	mine = renew && l->claiming ? claims_lines(l) : NULL;
	if (mine)
		renew_p[4] = mine;
	r = renew ? queue_renewal(l, b, renew_p, reg) : 0;
	free(mine); /* libpq has copied it */
	if (r < 0 ||
	    (renew &&
	     lease_beat_item(b, pgconn_sync(l->pg, on_renewal_done, b)) < 0))
		goto broke;
	if (queue_second(l, b, renew, claims) < 0)
		goto broke;
	if (!renew && !b->reaps) {
		/* Nothing sent after all (out of memory). */
		lease_beat_unref(b);
		return;
	}
	l->beat = b;
	lease_beat_unref(b);
	return;
broke:
	/* The connection broke: what was queued is told, not this. */
	b->l = NULL;
	lease_beat_unref(b);
}

static void send_beat(struct lease *l)
{
	send_round(l, 1);
}

void lease_claim_now(struct lease *l)
{
	l->claim_now = 1;
	if (l->beat == NULL && l->epoch != 0)
		send_round(l, 0);
}

static void on_tick(uv_timer_t *t)
{
	send_beat(t->data);
}

struct lease *lease_start(uv_loop_t *loop, struct pgconn *c,
                          const struct lease_opts *o)
{
	struct lease *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->loop = loop;
	l->pg = c;
	l->o = *o;
	l->o.channels = NULL; /* the caller's: claims_set copies them */
	l->node_id = strdup(o->node_id);
	l->version = strdup(o->version ? o->version : "");
	if (l->node_id == NULL || l->version == NULL ||
	    (o->channels && claims_set(l, o->channels) < 0)) {
		claims_free(l);
		free(l->node_id);
		free(l->version);
		free(l);
		return NULL;
	}
	if (l->o.ttl_ms <= 0)
		l->o.ttl_ms = 3000;
	if (l->o.beat_ms <= 0)
		l->o.beat_ms = 1000;
	if (l->o.margin_ms <= 0)
		l->o.margin_ms = 1000;
	if (l->o.claim_every_ms <= 0)
		l->o.claim_every_ms = LEASE_CLAIM_EVERY_MS;
	l->epoch = o->epoch;
	if (o->skew_known) {
		l->skew_ms = o->skew_ms;
		l->have_skew = 1;
		l->clocked_wall_ms = wallclock_now_ms();
		l->clocked_ns = uv_hrtime();
	}
	uv_timer_init(loop, &l->beat_timer);
	uv_timer_init(loop, &l->trust_timer);
	l->beat_timer.data = l->trust_timer.data = l;
	l->handles = 2;
	uv_timer_start(&l->beat_timer, on_tick, 0, (uint64_t)l->o.beat_ms);
	return l;
}

void lease_beat_now(struct lease *l)
{
	/* Not within half a tick (at most 500 ms) of the last: a flapping
	 * connection comes back up every 100 ms, and the node's statements
	 * stay within budget. */
	int64_t gap_ms = l->o.beat_ms / 2 < 500 ? l->o.beat_ms / 2 : 500;

	if (l->beat || l->dead || l->stop_done ||
	    uv_hrtime() - l->beat_sent_ns < (uint64_t)gap_ms * 1000000)
		return;
	/* The ticks go on from here: no second beat a moment later. */
	uv_timer_again(&l->beat_timer);
	send_beat(l);
}

void lease_take_skew(struct lease *to, const struct lease *from)
{
	if (!from->have_skew)
		return;
	to->skew_ms = from->skew_ms;
	to->have_skew = 1;
	to->clocked_wall_ms = from->clocked_wall_ms;
	to->clocked_ns = from->clocked_ns;
}

int lease_holder_lives(const struct lease *l)
{
	return lease_live(l) && l->holder_seen;
}

int lease_live(const struct lease *l)
{
	return l->live && uv_hrtime() < l->trust_until_ns;
}

int64_t lease_epoch(const struct lease *l)
{
	return l->epoch;
}

int64_t lease_skew_ms(const struct lease *l)
{
	return l->skew_ms;
}

int64_t lease_clock_drift_ms(const struct lease *l)
{
	if (!l->have_skew)
		return 0;
	return (wallclock_now_ms() - l->clocked_wall_ms) -
	       (int64_t)((uv_hrtime() - l->clocked_ns) / 1000000);
}

int lease_clock_outvoted(int64_t skew_ms, const int64_t *others, size_t n)
{
	int db_against = llabs(skew_ms) > LEASE_CLOCK_LIMIT_MS;
	size_t against = (size_t)db_against;

	for (size_t i = 0; i < n; i++)
		against += llabs(skew_ms - others[i]) > LEASE_CLOCK_LIMIT_MS;
	/* Voters: this node, PostgreSQL and the n others. */
	return 2 * against > n + 2 || (2 * against == n + 2 && db_against);
}

static void timer_closed(uv_handle_t *h)
{
	struct lease *l = h->data;

	if (--l->handles == 0) {
		claims_free(l);
		free(l->node_id);
		free(l->version);
		free(l);
	}
}

void lease_free(struct lease *l)
{
	if (l == NULL || l->dead)
		return;
	if (l->beat)
		l->beat->l = NULL; /* its answer finds no one */
	l->dead = 1;
	uv_close((uv_handle_t *)&l->beat_timer, timer_closed);
	uv_close((uv_handle_t *)&l->trust_timer, timer_closed);
}

static void on_unregistered(void *arg, const char *err)
{
	struct lease *l = arg;
	pgconn_done_fn *done = l->stop_done;
	void *done_arg = l->stop_arg;

	lease_free(l);
	done(done_arg, err);
}

/* Give the row up; lease_stop's done follows, then the lease goes. */
static void unregister(struct lease *l)
{
	char epoch[24];
	const char *params[] = {l->node_id, epoch};

	snprintf(epoch, sizeof(epoch), "%" PRId64, l->epoch);
	if (l->epoch == 0 ||
	    pgconn_query(l->pg, unregister_sql, 2, params, pgconn_ignore,
	                 NULL) < 0 ||
	    pgconn_sync(l->pg, on_unregistered, l) < 0)
		on_unregistered(l, l->epoch ? "not connected" : NULL);
}

void lease_stop(struct lease *l, pgconn_done_fn *done, void *arg)
{
	uv_timer_stop(&l->beat_timer);
	uv_timer_stop(&l->trust_timer);
	l->stop_done = done;
	l->stop_arg = arg;
	/* No more firing, whatever an answer in flight says. */
	set_live(l, 0, "stopping");
	if (l->dead)
		return;
	/* A registration in flight would leave a row: after it. */
	if (l->beat == NULL)
		unregister(l);
}
