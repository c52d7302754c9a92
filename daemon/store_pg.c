/*
 * The postgresql store backend (doc/cluster.md): the SQLite backend's
 * operations, answered at once from a local view (state_dir/view.db),
 * and PostgreSQL as the log that decides. What a turn committed to the
 * view is shipped as one group (pgrepl.c), fenced by this node's lease
 * (lease.c); the turn's batch is durable once PostgreSQL has committed
 * that group, so nothing leaves before the write that allows it is kept.
 *
 * The view is rebuilt from PostgreSQL at every start: what the view held
 * and PostgreSQL never kept (a crash between a commit and its ship) is
 * gone with it, exactly as the turns it belonged to never had effects.
 * Only a clean stop, everything kept, leaves it marked whole: the next
 * start then reads on from where it was.
 *
 * The connections, the lease and the replication live on a private loop.
 * Once started it is embedded in smmd's loop (uvembed.c); before that,
 * and at shutdown, waiting for a group runs it in place.
 *
 * One node works at a time: its lease is exclusive. Another smmd on the
 * same database is a standby: it keeps its view close behind the working
 * node's, answers reads from it (STORE_OPEN_STANDBY; else it waits in
 * open), and once the working node's lease has run out (about 4 s after
 * its last renewal) it hands the view on, marked whole, to the smmd that
 * starts afresh in its place and works.
 *
 * The channels' tokens are kept and read in store_pg_token.c, and
 * commands relayed between nodes run through store_pg_relay.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "looptime.h"
#include "pgschema.h"
#include "postid.h"
#include "service.h"
#include "store_pg_impl.h"
#include "wallclock.h"

/* Every table of the store but saved_counts (counts this node keeps). */
static const char *const replicated[] = {
        "posts",      "deliveries", "attempts",       "pauses", "audit",
        "engagement", "audience",   "engage_stopped", NULL};

#define VIEW_FILE        "view.db"
#define OPEN_TIMEOUT_MS  15000 /* connecting, migrating, catching up */
#define WAIT_TIMEOUT_MS  30000 /* for a group's decision, in place */
#define CLOSE_TIMEOUT_MS 10000 /* ... and for the last ones at close */
#define TICK_MS          1000  /* retry: the replication's beat */
/* The database's clock this far from ours: said (log, status). */
#define SKEW_WARN_MS 500
/* How often the cluster's nodes are read again, for smmctl status. */
#define NODES_EVERY_TICKS 5
/* A pull the pauses' change asks for, tried again this often (ms). */
#define PAUSE_PULL_RETRY_MS 5
/* Who lists which channel, as read so many beats ago, is still told. */
#define LISTED_FRESH_TICKS (3 * NODES_EVERY_TICKS)
/* How often the working node looks for relayed requests a NOTIFY missed
 * (one sent while its connection was down). */
#define RELAYS_EVERY_TICKS 5
/* ... and pulls what workers wrote without a NOTIFY's word. */
#define PULL_EVERY_TICKS 5
/* How many changed deliveries smmd is told of in one turn of its loop
 * (each a read of the view: 2-4 ms for 20 on a worker of workbench.sh). */
#define WATCH_TELL_MAX 16
/*
 * How long the change log keeps a change, and how often the working
 * node trims it (pgrepl_trim). A standby reads it every second; a node
 * restarted within the hour reads on from its kept view; any view
 * further behind reads the tables whole, which a log kept whole would
 * make no faster than that after a day of posts.
 */
#define CHANGES_KEPT_MS  (60 * 60 * 1000)
#define TRIM_EVERY_TICKS 60

/*
 * The nodes with a live lease (the working node, and workers beside it),
 * then the standbys seen (lease.c) but those that work beside it (a
 * worker registers as <node>/w): each with its epoch (those with a
 * lease), the offset of PostgreSQL's clock from its own that it measured
 * last, its version, how long it has been there, how many channels it
 * owns under its lease (claims), and those it lists, one a line (NULL:
 * it claims nothing, an older version's, which fires any).
 */
static const char nodes_sql[] =
        "SELECT node_id, CASE WHEN worker THEN 'worker' ELSE 'working' "
        "END, epoch, clock_skew_ms, version, (extract(epoch FROM "
        "clock_timestamp() - started_at) * 1000)::bigint, (SELECT "
        "count(*) FROM smmd_channel_owner o WHERE o.node_id = n.node_id "
        "AND o.epoch = n.epoch), CASE WHEN claims THEN channels END "
        "FROM smmd_node n WHERE lease_until > clock_timestamp() "
        "UNION ALL SELECT node_id, 'standby', NULL, clock_skew_ms, "
        "version, (extract(epoch FROM clock_timestamp() - since) * "
        "1000)::bigint, 0, '' FROM smmd_standby s WHERE seen_until > "
        "clock_timestamp() AND NOT EXISTS (SELECT 1 FROM smmd_node n "
        "WHERE n.node_id IN (s.node_id, s.node_id || '/w') AND "
        "n.lease_until > clock_timestamp()) "
        "ORDER BY 2 DESC, 1";

struct lease *pg_writer(const struct pgstore *ps)
{
	return ps->wlease ? ps->wlease : ps->lease;
}

/* Tell the front end, from a callback of the loop's own (never from
 * inside sync, which the front end calls while it submits). */
void pg_kick(struct pgstore *ps)
{
	if (ps->embed.started)
		uvembed_kick(&ps->embed);
}

/* smmd's loop runs the private one from now on (uvembed), and a pull's
 * changes a few each of its turns (on_backlog). 0, or a libuv error. */
static int embed_start(struct pgstore *ps, uv_loop_t *host)
{
	int rc;

	if ((rc = uvembed_start(&ps->embed, host, &ps->loop)) < 0)
		return rc;
	uv_idle_init(host, &ps->apply_idle);
	uv_check_init(host, &ps->apply_check);
	ps->apply_idle.data = ps->apply_check.data = ps;
	ps->apply_handles = 1;
	return 0;
}

/* No more: smmd's loop closes the handles on its next turns; a pull's
 * changes still waiting are applied now, which nothing else would. */
static void embed_stop(struct pgstore *ps)
{
	uvembed_stop(&ps->embed);
	if (ps->repl)
		while (pgrepl_apply_backlog(ps->repl) > 0)
			;
	if (!ps->apply_handles)
		return;
	ps->apply_handles = 0;
	uv_close((uv_handle_t *)&ps->apply_idle, NULL);
	uv_close((uv_handle_t *)&ps->apply_check, NULL);
}

static void on_report(uv_timer_t *h)
{
	struct pgstore *ps = h->data;
	int err = ps->failed;

	if (ps->waiting || ps->done == NULL)
		return; /* pg_wait reads the state itself */
	if (err < 0) {
		ps->failed = 0;
		ps->done(ps->done_arg, ps->told, err);
	} else if (ps->durable > ps->told) {
		ps->told = ps->durable;
		ps->done(ps->done_arg, ps->told, 0);
	}
}

static void schedule_report(struct pgstore *ps)
{
	uv_timer_start(&ps->report, on_report, 0, 0);
	pg_kick(ps);
}

static void fail(struct pgstore *ps, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int wait_for(struct pgstore *ps, uint64_t seq, int64_t ms);
static int lease_lost(struct pgstore *ps);
static void tell_claims(struct pgstore *ps);
static void tell_changes(struct pgstore *ps);
static void on_apply_idle(uv_idle_t *);
static void on_apply_check(uv_check_t *);

static void fail(struct pgstore *ps, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->fail_why, sizeof(ps->fail_why), fmt, ap);
	va_end(ap);
	ps->failed = err;
	ps->ever_failed = 1;
	schedule_report(ps);
}

/* Room for one more group's batch number: 0, or -ENOMEM. */
static int seq_room(struct pgstore *ps)
{
	size_t cap;
	uint64_t *v;

	if (ps->nseq < ps->seq_cap)
		return 0;
	cap = ps->seq_cap ? ps->seq_cap * 2 : 16;
	if ((v = malloc(cap * sizeof(*v))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ps->nseq; i++)
		v[i] = ps->seqs[(ps->seq_head + i) % ps->seq_cap];
	free(ps->seqs);
	ps->seqs = v;
	ps->seq_cap = cap;
	ps->seq_head = 0;
	return 0;
}

/* After seq_room. */
static void seq_push(struct pgstore *ps, uint64_t seq)
{
	ps->seqs[(ps->seq_head + ps->nseq++) % ps->seq_cap] = seq;
}

/* A group was decided: groups end in the order they were shipped. */
static void on_shipped(void *arg, int err, const char *why)
{
	struct pgstore *ps = arg;
	uint64_t seq = 0;

	if (ps->nseq > 0) {
		seq = ps->seqs[ps->seq_head];
		ps->seq_head = (ps->seq_head + 1) % ps->seq_cap;
		ps->nseq--;
	}
	if (err == 0) {
		if (seq > ps->durable)
			ps->durable = seq;
		schedule_report(ps);
	} else {
		log_warnx("store: PostgreSQL refused a write: %s",
		          why ? why : "refused");
		fail(ps, err, "PostgreSQL refused a write: %s",
		     why ? why : "refused");
	}
}

/* Groups shipped untold: a NOTIFY of their own (pgrepl_untold_in). */
static void on_tell(uv_timer_t *t)
{
	struct pgstore *ps = t->data;

	if (ps->repl)
		pgrepl_tell_untold(ps->repl);
}

/* Ship what the view's turns committed since the last ship. */
static void ship_pending(struct pgstore *ps)
{
	int rc;

	if (ps->repl == NULL || ps->asked <= ps->sent)
		return;
	/* Mid-turn (a private loop callback inside smmd's turn), the view's
	 * transaction may be open: only what is committed ships, from sync. */
	if (!sqlite3_get_autocommit(ps->db))
		return;
	/* Room for the group's number first: once sent it must be there. */
	if (seq_room(ps) < 0) {
		fail(ps, -ENOMEM, "out of memory");
		return;
	}
	rc = pgrepl_ship(ps->repl, on_shipped, ps);
	if (rc == -ENOTCONN)
		return; /* not connected, or no lease: the tick tries again */
	ps->sent = ps->asked;
	if (rc == 0) {
		int64_t tell_in = pgrepl_untold_in(ps->repl);

		ps->groups++;
		seq_push(ps, ps->asked);
		if (tell_in >= 0 &&
		    !uv_is_active((uv_handle_t *)&ps->tell_timer))
			uv_timer_start(&ps->tell_timer, on_tell,
			               (uint64_t)tell_in, 0);
	} else if (rc == 1 && ps->nseq > 0) {
		/* Nothing new: durable with the last group in flight. */
		ps->seqs[(ps->seq_head + ps->nseq - 1) % ps->seq_cap] =
		        ps->asked;
	} else if (rc == 1) {
		ps->durable = ps->asked;
		schedule_report(ps);
	} else {
		fail(ps, rc, "the view's changes cannot be shipped: %s",
		     strerror(-rc));
	}
}

/* A clock offset (ms) worth a warning. */
static int too_far(int64_t skew_ms)
{
	return llabs(skew_ms) > SKEW_WARN_MS;
}

/* Leases are on the database's clock, due times on ours: say so once. */
static void note_skew(struct pgstore *ps)
{
	int64_t skew;
	int skewed;

	if (ps->lease == NULL)
		return; /* not started yet, or given up */
	skew = lease_skew_ms(pg_writer(ps));
	skewed = too_far(skew);

	if (skewed && !ps->skewed)
		log_warnx("store: PostgreSQL's clock is %+" PRId64 " ms from "
		          "this node's: check NTP on both (posts go out on "
		          "this node's clock)",
		          skew);
	ps->skewed = skewed;
}

static int workers_seen(struct pgstore *ps);
static void share_work(struct pgstore *ps);

/* Who lists what was read too long ago to be told (pg_listed). */
static int listed_stale(const struct pgstore *ps)
{
	return uv_hrtime() - ps->nodes_at_ns >
	       (uint64_t)LISTED_FRESH_TICKS * TICK_MS * 1000000;
}

/* Each of a node's channels, one a line, into set: 0, or -ENOMEM. */
static int listed_add(json_t *set, const char *lines)
{
	char name[POSTID_MAX + 1];

	while (*lines) {
		size_t n = strcspn(lines, "\n");

		/* Longer than a channel's name: none this node has. */
		if (n < sizeof(name)) {
			memcpy(name, lines, n);
			name[n] = '\0';
			if (n > 0 &&
			    json_object_set_new(set, name, json_true()) < 0)
				return -ENOMEM;
		}
		lines += n + (lines[n] == '\n');
	}
	return 0;
}

static void on_node_row(void *arg, const PGresult *res, const char *err)
{
	struct pgstore *ps = arg;

	json_decref(ps->nodes_next);
	json_decref(ps->listed_next);
	ps->nodes_next = ps->listed_next = NULL;
	ps->listed_any_next = 0;
	if (res == NULL || (ps->nodes_next = json_array()) == NULL ||
	    (ps->listed_next = json_object()) == NULL)
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 7))
			ps->listed_any_next = 1;
		else if (listed_add(ps->listed_next, PQgetvalue(res, i, 7)) < 0)
			ps->listed_any_next = 1; /* not all known */
		int known = !PQgetisnull(res, i, 3);
		int64_t skew = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		json_t *n = json_pack(
		        "{s:s, s:s, s:o, s:o, s:b, s:s, s:I, s:I}", "node",
		        PQgetvalue(res, i, 0), "role", PQgetvalue(res, i, 1),
		        "epoch",
		        PQgetisnull(res, i, 2)
		                ? json_null()
		                : json_integer(strtoll(PQgetvalue(res, i, 2),
		                                       NULL, 10)),
		        "clock_offset_ms",
		        known ? json_integer(skew) : json_null(),
		        "clock_skewed", known && too_far(skew), "version",
		        PQgetvalue(res, i, 4), "up_ms",
		        (json_int_t)strtoll(PQgetvalue(res, i, 5), NULL, 10),
		        "channels",
		        (json_int_t)strtoll(PQgetvalue(res, i, 6), NULL, 10));

		json_array_append_new(ps->nodes_next, n);
	}
}

static void on_nodes_read(void *arg, const char *err)
{
	struct pgstore *ps = arg;
	int changed;

	ps->nodes_asked = 0;
	if (err != NULL || ps->nodes_next == NULL || ps->listed_next == NULL)
		return; /* the next read may do better */
	/* Who lists what changed, or is known again after reads failed:
	 * smmd looks at what waits again (pg_listed). */
	changed = ps->listed == NULL || listed_stale(ps) ||
	          ps->listed_any != ps->listed_any_next ||
	          !json_equal(ps->listed, ps->listed_next);
	json_decref(ps->nodes);
	ps->nodes = ps->nodes_next;
	ps->nodes_next = NULL;
	ps->nodes_at_ns = uv_hrtime();
	json_decref(ps->listed);
	ps->listed = ps->listed_next;
	ps->listed_next = NULL;
	ps->listed_any = ps->listed_any_next;
	if (!ps->standby && !ps->shared && workers_seen(ps))
		share_work(ps);
	else if (changed && ps->shared)
		tell_claims(ps);
}

/*
 * A worker writes beside this node: from now on its view pulls what
 * the workers write (their deliveries' outcomes), when one says it
 * wrote and every PULL_EVERY_TICKS (share_work).
 */
static int workers_seen(struct pgstore *ps)
{
	size_t i;
	json_t *node;

	json_array_foreach (ps->nodes, i, node)
		if (strcmp(json_string_value(json_object_get(node, "role")),
		           "worker") == 0)
			return 1;
	return 0;
}

static void ask_nodes(struct pgstore *ps)
{
	if (ps->nodes_asked || !ps->wr_up)
		return;
	if (pgconn_query(ps->wr, nodes_sql, 0, NULL, on_node_row, ps) == 0 &&
	    pgconn_sync(ps->wr, on_nodes_read, ps) == 0)
		ps->nodes_asked = 1;
}

/*
 * Read the cluster's nodes again, now and then, on the working node
 * (status shows them). A standby reads them only when asked for its
 * status (pg_cluster), so an idle one's beats stay at three statements.
 */
static void read_nodes(struct pgstore *ps)
{
	if (ps->done == NULL ||
	    (ps->nodes && ps->ticks++ % NODES_EVERY_TICKS != 0))
		return;
	ask_nodes(ps);
}

/* A standby keeps its view warm: a take-over reads only the tail. */
static void pull_behind(struct pgstore *ps)
{
	if (!pgrepl_pulling(ps->repl))
		pgrepl_pull(ps->repl);
}

/* The node that works as a standby last read it, or NULL. */
static const char *working_node(struct pgstore *ps)
{
	size_t i;
	json_t *node;

	/* Read at open, and again when status is asked: the later. */
	if (ps->nodes == NULL)
		return ps->works[0] ? ps->works : NULL;
	json_array_foreach (ps->nodes, i, node)
		if (strcmp(json_string_value(json_object_get(node, "role")),
		           "working") == 0)
			return json_string_value(json_object_get(node, "node"));
	return NULL;
}

/*
 * Whether this node's clock is outvoted (lease.h) by PostgreSQL's and the
 * other nodes' as last read: its due times are wrong, so a working node
 * stops working, and a node with a good clock takes over.
 */
static int clock_outvoted(struct pgstore *ps)
{
	int64_t others[16];
	size_t n = 0, i;
	json_t *node;

	/* Not judged before the node list is read, the registration's
	 * vote (the same voters) stands till then. */
	if (ps->nodes == NULL)
		return 0;
	json_array_foreach (ps->nodes, i, node) {
		json_t *off = json_object_get(node, "clock_offset_ms");

		const char *id =
		        json_string_value(json_object_get(node, "node"));

		/* Not its own rows: a worker has two. */
		if (n < sizeof(others) / sizeof(others[0]) &&
		    json_is_integer(off) && strcmp(id, ps->node_id) != 0 &&
		    strcmp(id, ps->writer_id) != 0)
			others[n++] = json_integer_value(off);
	}
	return lease_clock_outvoted(lease_skew_ms(pg_writer(ps)), others, n);
}

/* A node that no longer works runs nothing relayed to it. */
static void stop_serving(struct pgstore *ps)
{
	ps->serving = 0;
	if (ps->relay)
		pgrelay_serve(ps->relay, NULL, NULL, NULL, 0);
}

/* A working node whose clock is outvoted starts afresh, as a standby. */
static int clock_lost(struct pgstore *ps)
{
	int64_t skew;

	/* No lease yet (a start waiting on the schema's lock) or none any
	 * more (a close gave it up): no clock measured, none to lose. */
	if (pg_writer(ps) == NULL || ps->done == NULL || ps->epoch == 0 ||
	    !clock_outvoted(ps))
		return 0;
	skew = lease_skew_ms(pg_writer(ps));
	log_warnx("store: this node's clock is %+" PRId64 " ms from "
	          "PostgreSQL's, and from the cluster's: it stops working, "
	          "so that a node with a good clock does (check NTP)",
	          -skew);
	ps->clock_out = ps->lost = 1;
	stop_serving(ps);
	fail(ps, -ESTALE, "this node's clock is wrong");
	return 1;
}

static void on_trimmed(void *arg, int64_t removed, const char *err)
{
	struct pgstore *ps = arg;

	ps->trimming = 0;
	if (err && ps->ls_up && !ps->closing)
		log_warnx("store: trimming the change log: %s", err);
	/* A full trim leaves more: the next beat goes on. */
	ps->trim_ticks = removed == PGREPL_TRIM_MAX ? TRIM_EVERY_TICKS : 0;
}

/* The working node keeps the change log short (pgrepl_trim): at its
 * first beat, then every TRIM_EVERY_TICKS. */
static void trim_changes(struct pgstore *ps)
{
	if (ps->done == NULL || ps->epoch == 0 || ps->standby || ps->trimming ||
	    ps->closing || !ps->ls_up || ++ps->trim_ticks < TRIM_EVERY_TICKS)
		return;
	if (pgrepl_trim(ps->repl, ps->ls, CHANGES_KEPT_MS, on_trimmed, ps) == 0)
		ps->trimming = 1;
}

static void on_tick(uv_timer_t *h)
{
	struct pgstore *ps = h->data;

	if (ps->claims_pending)
		tell_claims(ps); /* what waited behind a wait in place */
	if (ps->watch_pending)
		tell_changes(ps);
	if (ps->repl == NULL || lease_lost(ps) || clock_lost(ps))
		return;
	note_skew(ps);
	read_nodes(ps);
	if (pgrepl_resent(ps->repl) != ps->resent) {
		log_info("store: %" PRIu64 " groups of writes lost with the "
		         "connection were sent again",
		         pgrepl_resent(ps->repl) - ps->resent);
		ps->resent = pgrepl_resent(ps->repl);
	}
	/* A pull is not begun inside a turn's open transaction either;
	 * its changes may be applied in one (on_apply_check), and a
	 * rollback of it reads them again (pgrepl_rolled_back). */
	if (!sqlite3_get_autocommit(ps->db))
		return;
	if (ps->standby && !ps->worker) {
		pull_behind(ps);
		return;
	}
	/* Not a worker's (its idle budget): a request routed to it that
	 * a NOTIFY missed is withdrawn after 3 s, said "not done". */
	if (ps->serving && !ps->standby &&
	    ++ps->relay_ticks % RELAYS_EVERY_TICKS == 0)
		pgrelay_take(ps->relay);
	trim_changes(ps);
	pgrepl_tick(ps->repl);
	/* A pull running may have begun before the hint's commit: the
	 * hint waits for the next beat then. */
	if (ps->shared &&
	    (ps->pull_hint || ++ps->pull_ticks % PULL_EVERY_TICKS == 0) &&
	    pgrepl_pull(ps->repl) == 0)
		ps->pull_hint = 0;
	ship_pending(ps);
}

static void on_wr_up(void *arg)
{
	struct pgstore *ps = arg;

	if (ps->ever_live && !ps->wr_up)
		log_info("store: connected to PostgreSQL again");
	ps->wr_up = 1;
	if (ps->repl) {
		pgrepl_reconnected(ps->repl);
		ship_pending(ps);
	}
}

static void on_listened(void *arg, const char *err)
{
	struct pgstore *ps = arg;

	/* Lost with the connection: issued again when it is up. Heard
	 * from now on; what was asked while it was down is taken now. */
	if (err == NULL && ps->serving)
		pgrelay_take(ps->relay);
}

/* A node that serves hears of relayed requests, and every node of the
 * replies to its own (a standby's, a command routed to a channel's
 * node) and of a channel's tokens another node kept (store_pg_token.c),
 * on the lease's connection, which is idle between beats. */
void pg_listen_relays(struct pgstore *ps)
{
	if (ps->serving && pgconn_query(ps->ls, "LISTEN smmd_request", 0, NULL,
	                                pgconn_ignore, NULL) < 0)
		return;
	if (pgconn_query(ps->ls, "LISTEN smmd_token", 0, NULL, pgconn_ignore,
	                 NULL) == 0 &&
	    pgconn_query(ps->ls, "LISTEN smmd_reply", 0, NULL, pgconn_ignore,
	                 NULL) == 0 &&
	    pgconn_query(ps->ls, "LISTEN smmd_pause", 0, NULL, pgconn_ignore,
	                 NULL) == 0)
		pgconn_sync(ps->ls, on_listened, ps);
}

/*
 * A standby (a worker above all) heard the pauses change: it pulls now
 * rather than at its next beat, so that a pause holds at its gate, and a
 * resume ends there, within milliseconds. Not inside a turn's open
 * transaction (as on_tick), nor while a pull runs that may have begun
 * before the pause's commit: a moment later then.
 */
static void on_pause_heard(uv_timer_t *h)
{
	struct pgstore *ps = h->data;

	if (ps->closing || ps->repl == NULL || !ps->standby)
		return;
	if (!sqlite3_get_autocommit(ps->db) || pgrepl_pulling(ps->repl)) {
		uv_timer_start(h, on_pause_heard, PAUSE_PULL_RETRY_MS, 0);
		return;
	}
	pgrepl_pull(ps->repl); /* failing, the next beat pulls */
}

/*
 * "CHANNEL WRITER": another node kept channel's tokens; smmd is told
 * ("*": any channel's may have changed).
 */
static void tokens_kept(struct pgstore *ps, const char *payload)
{
	const char *sp = strchr(payload, ' ');
	char channel[160];

	if (sp == NULL || ps->watch_fn == NULL ||
	    strcmp(sp + 1, ps->writer_id) == 0 ||
	    (size_t)(sp - payload) >= sizeof(channel))
		return;
	snprintf(channel, sizeof(channel), "%.*s", (int)(sp - payload),
	         payload);
	if (ps->tokens_changed == NULL &&
	    (ps->tokens_changed = json_object()) == NULL)
		return; /* read at its next take all the same */
	json_object_set_new(ps->tokens_changed, channel, json_true());
	tell_changes(ps);
}

static void on_listened_changes(void *arg, const char *err)
{
	struct pgstore *ps = arg;

	/* Lost with the connection: issued again when it is up. What was
	 * written before it was heard is pulled at the next beat. */
	if (err == NULL)
		ps->pull_hint = 1;
}

/* The working node beside workers hears when one wrote (smmd_fence). */
static void listen_changes(struct pgstore *ps)
{
	if (ps->shared && pgconn_query(ps->ls, "LISTEN smmd_change", 0, NULL,
	                               pgconn_ignore, NULL) == 0)
		pgconn_sync(ps->ls, on_listened_changes, ps);
}

/*
 * The working node works beside workers (share_work, or one is seen):
 * what they write is pulled when one says it wrote (smmd_fence's
 * NOTIFY) and every PULL_EVERY_TICKS, for good (pgrepl_share), and smmd
 * is told: a channel it does not list is now another node's to fire.
 */
static void share_work(struct pgstore *ps)
{
	pgrepl_share(ps->repl, 0);
	ps->shared = 1;
	listen_changes(ps);
	tell_claims(ps);
}

static void on_ls_up(void *arg)
{
	struct pgstore *ps = arg;

	ps->ls_up = 1;
	if (ps->lease)
		lease_beat_now(ps->lease);
	if (ps->wlease)
		lease_beat_now(ps->wlease);
	pg_listen_relays(ps);
	listen_changes(ps);
	/* Listening again: a NOTIFY of tokens kept meanwhile was lost. */
	if (ps->ls_was_up)
		tokens_kept(ps, "* ");
	ps->ls_was_up = 1;
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct pgstore *ps = arg;

	char me[160];

	snprintf(me, sizeof(me), "%s/%" PRId64, ps->writer_id, ps->epoch);
	if (strcmp(channel, "smmd_change") == 0 && strcmp(payload, me) != 0)
		ps->pull_hint = 1; /* another node's group: at the next beat */
	else if (ps->serving && strcmp(channel, "smmd_request") == 0)
		pgrelay_take(ps->relay);
	else if (strcmp(channel, "smmd_reply") == 0)
		pgrelay_replied(ps->relay, payload);
	else if (strcmp(channel, "smmd_token") == 0)
		tokens_kept(ps, payload);
	else if (strcmp(channel, "smmd_pause") == 0 && ps->standby) {
		uv_timer_start(&ps->pause_timer, on_pause_heard, 0, 0);
		pg_kick(ps);
	}
}

static void on_down(void *arg, const char *why)
{
	struct pgstore *ps = arg;

	if (ps->wr_up || ps->ls_up || !ps->ever_live)
		log_warnx("store: PostgreSQL: %s", why);
	snprintf(ps->why, sizeof(ps->why), "%s", why);
	ps->wr_up = ps->ls_up = 0;
}

/*
 * Once smmd works under a registration, that one only: if it ran out
 * (the database holds none, or a new one), another node may have worked
 * and changed rows since, and what smmd holds in memory may be behind.
 * It starts afresh, as after a crash (the store's failure path), rather
 * than patch itself up or wait for a lease a standby may hold now.
 */
static int lease_lost(struct pgstore *ps)
{
	if (ps->lost)
		return 1;
	if (ps->done == NULL || ps->epoch == 0 ||
	    lease_epoch(pg_writer(ps)) == ps->epoch)
		return 0;
	log_warnx("store: this node's lease ran out: starting afresh");
	ps->lost = 1;
	stop_serving(ps);
	fail(ps, -ESTALE, "this node's lease ran out");
	return 1;
}

_Static_assert(STORE_CLAIM_QUIET_MS == LEASE_CLAIM_QUIET_MS,
               "what smmd's may_release asks is what the lease asks");

/*
 * smmd hears of what it owns only from its own loop: not while the
 * private loop runs in place (open, pg_wait, a token read, smmd's
 * start-up before pg_start), where smmd is inside a store call and may
 * be half started (its credentials not read yet). pg_start tells it
 * then, and the tick what waited behind a later wait.
 */
static void on_claims_told(uv_timer_t *h)
{
	struct pgstore *ps = h->data;

	if (ps->claims.changed == NULL || ps->closing)
		return;
	if (!ps->embed.started || ps->waiting || ps->token_fn) {
		ps->claims_pending = 1;
		return;
	}
	ps->claims_pending = 0;
	ps->claims.changed(ps->claims.arg);
}

/* What this node may fire changed (the lease says so from inside
 * pg_claim too): smmd is told from a timer of the loop's. */
static void tell_claims(struct pgstore *ps)
{
	if (ps->claims.changed == NULL)
		return;
	uv_timer_start(&ps->claims_timer, on_claims_told, 0, 0);
	pg_kick(ps);
}

static void on_claims(void *arg)
{
	tell_claims(arg);
}

/* What a pull read in, to smmd (pg_watch), under the claims' rule. */
static void on_watch_told(uv_timer_t *h)
{
	struct pgstore *ps = h->data;
	uint64_t t0;
	size_t end;

	if (ps->watch_fn == NULL || ps->closing)
		return;
	if (!ps->embed.started || ps->waiting || ps->token_fn) {
		ps->watch_pending = 1;
		return;
	}
	ps->watch_pending = 0;
	if (ps->pauses_changed) {
		ps->pauses_changed = 0;
		ps->watch_fn(ps->watch_arg, "pauses", NULL);
	}
	if (ps->tokens_changed) {
		json_t *channels = ps->tokens_changed;
		const char *channel;
		json_t *v;

		ps->tokens_changed = NULL;
		json_object_foreach (channels, channel, v)
			ps->watch_fn(ps->watch_arg, "tokens", channel);
		json_decref(channels);
	}
	/*
	 * A busy cluster's pull holds thousands: a turn tells this many,
	 * a later turn the next ones, so posts due meanwhile are not late.
	 * By index: what the calls pull meanwhile goes on the end. The
	 * timer goes again in 1 ms, not 0: libuv before 1.45 runs a timer
	 * re-armed for 0 ms from its callback in the same pass of the loop.
	 */
	end = ps->told_changed + WATCH_TELL_MAX;
	t0 = looptime_enter();
	while (ps->told_changed < ps->nchanged && ps->told_changed < end) {
		char *id = ps->changed[ps->told_changed];

		ps->changed[ps->told_changed++] = NULL;
		ps->watch_fn(ps->watch_arg, "deliveries", id);
		free(id);
	}
	looptime_leave(t0, "following other nodes' changes", NULL);
	if (ps->told_changed < ps->nchanged) {
		uv_update_time(&ps->loop); /* 1 ms from now, not the pass */
		uv_timer_start(&ps->watch_timer, on_watch_told, 1, 0);
		return;
	}
	free(ps->changed);
	ps->changed = NULL;
	ps->nchanged = ps->changed_cap = ps->told_changed = 0;
}

/*
 * pgrepl's on_backlog. Once smmd's loop runs this one (embedded), a few
 * each of its turns, after its poll (apply_check), the poll not waiting
 * meanwhile (apply_idle): posts due and answers come between. A timer
 * would leave the loop idle a millisecond between the few, or run them
 * all in one pass (a 0 ms timer started from a timer's callback, libuv
 * 1.44). Before (open's catch-up) or after (close), nothing waits on the
 * loop: all at once.
 */
static void on_backlog(void *arg)
{
	struct pgstore *ps = arg;

	if (ps->embed.started && !ps->closing) {
		uv_idle_start(&ps->apply_idle, on_apply_idle);
		uv_check_start(&ps->apply_check, on_apply_check);
	} else {
		while (pgrepl_apply_backlog(ps->repl) > 0)
			;
	}
}

static void on_apply_idle(uv_idle_t *h)
{
	(void)h; /* active: the poll returns at once */
}

static void on_apply_check(uv_check_t *h)
{
	struct pgstore *ps = h->data;
	uint64_t t0 = looptime_enter();
	int more = pgrepl_apply_backlog(ps->repl);

	looptime_leave(t0, "applying pulled changes", NULL);
	if (!more) {
		uv_idle_stop(&ps->apply_idle);
		uv_check_stop(&ps->apply_check);
	}
	pg_kick(ps); /* what it told and asked, on the private loop */
}

static void tell_changes(struct pgstore *ps)
{
	uv_timer_start(&ps->watch_timer, on_watch_told, 0, 0);
	pg_kick(ps);
}

/* A delivery's id, from its row's key (a JSON array): malloc'd. */
static char *delivery_of(const char *pk)
{
	json_t *key = json_loads(pk, JSON_DECODE_ANY, NULL);
	const char *id = json_string_value(json_array_get(key, 0));
	char *out = id ? strdup(id) : NULL;

	json_decref(key);
	return out;
}

/* pgrepl's on_changed: a row another node wrote, read into the view. */
static void on_row_changed(void *arg, const char *table, const char *pk)
{
	struct pgstore *ps = arg;
	char *id;

	if (ps->watch_fn == NULL)
		return;
	if (strcmp(table, "pauses") == 0) {
		ps->pauses_changed = 1;
	} else if (strcmp(table, "deliveries") == 0) {
		if (ps->nchanged == ps->changed_cap) {
			size_t cap = ps->changed_cap ? 2 * ps->changed_cap : 64;
			char **v = realloc(ps->changed, cap * sizeof(*v));

			if (v == NULL)
				goto oom;
			ps->changed = v;
			ps->changed_cap = cap;
		}
		if ((id = delivery_of(pk)) == NULL)
			goto oom;
		ps->changed[ps->nchanged++] = id;
	} else {
		return;
	}
	tell_changes(ps);
	return;
oom:
	/* smmd would miss a change for good: start afresh instead. */
	fail(ps, -ENOMEM, "out of memory noting what other nodes changed");
}

static int may_release(void *arg, const char *channel)
{
	struct pgstore *ps = arg;

	return ps->claims.may_release == NULL ||
	       ps->claims.may_release(ps->claims.arg, channel);
}

/* The lease smmd writes under (pg_writer()) is trusted, or not (*flag). */
static void writer_live(struct pgstore *ps, int *flag, int live,
                        const char *why)
{
	if (live && !*flag && ps->ever_live)
		log_info("store: this node's lease is renewed again");
	else if (!live && *flag && !ps->closing)
		log_warnx("store: this node's lease is not trusted (%s): "
		          "writes wait for it",
		          why ? why : "?");
	*flag = live;
	if (lease_lost(ps) || !live)
		return;
	ps->ever_live = 1;
	ps->epoch = lease_epoch(pg_writer(ps));
	ship_pending(ps);
}

static void on_worker_live(void *arg, int live, const char *why)
{
	struct pgstore *ps = arg;

	writer_live(ps, &ps->wlive, live, why);
}

static void on_live(void *arg, int live, const char *why)
{
	struct pgstore *ps = arg;

	if (ps->standby) {
		/* Its registration took: the node that worked is gone. The
		 * smmd started afresh in this one's place works (pg_close
		 * hands it the view, then gives this registration up). */
		ps->live = live;
		if (live && ps->turn && !ps->turning) {
			ps->turning = 1;
			log_info("store: node %s's lease ran out: this node "
			         "takes over",
			         ps->works);
			ps->turn(ps->turn_arg);
		}
		return;
	}
	writer_live(ps, &ps->live, live, why);
}

/* Nothing ships under a registration smmd does not work under. */
static int64_t epoch_of(void *arg)
{
	struct pgstore *ps = arg;

	struct lease *l = pg_writer(ps);

	if (l == NULL || !lease_live(l) || lease_epoch(l) != ps->epoch)
		return 0;
	return ps->epoch;
}

static void on_repl_error(void *arg, const char *why)
{
	struct pgstore *ps = arg;

	/* A lost connection was said once already (on_down). */
	if (ps->wr_up && !ps->closing)
		log_warnx("store: catching up with PostgreSQL: %s", why);
	snprintf(ps->why, sizeof(ps->why), "%s", why);
}

static void on_repl_info(void *arg, const char *what)
{
	log_info("store: %s", what);
}

static void on_step(void *arg, const char *err)
{
	struct pgstore *ps = arg;

	if (err) {
		snprintf(ps->why, sizeof(ps->why), "%s", err);
		ps->failed = -EIO;
	}
	ps->steps++;
}

static void on_peer(void *arg, const PGresult *res, const char *err)
{
	struct pgstore *ps = arg;

	if (res && PQntuples(res) > 0)
		snprintf(ps->why, sizeof(ps->why), "%s", PQgetvalue(res, 0, 0));
	ps->peer = res && PQntuples(res) > 0;
}

/*
 * Run the private loop until *flag reaches want, a failure, or ms pass.
 * 0, or -ETIMEDOUT, or the failure.
 */
static int run_until(struct pgstore *ps, const int *flag, int want, int64_t ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;

	while (*flag < want && ps->failed == 0) {
		if (uv_hrtime() >= end)
			return -ETIMEDOUT;
		uv_run(&ps->loop, UV_RUN_ONCE);
	}
	return ps->failed;
}

static int connect_both(struct pgstore *ps, const char *url, char *err,
                        size_t errlen)
{
	struct pgconn_opts o = {.conninfo = url,
	                        .name = "smmd",
	                        .on_up = on_wr_up,
	                        .on_down = on_down,
	                        .arg = ps};
	int both = 0;
	uint64_t end = uv_hrtime() + (uint64_t)OPEN_TIMEOUT_MS * 1000000;

	/* libpq's words on a bad URL may quote it, password and all. */
	if (pgconn_start(&ps->loop, &o, &ps->wr, err, errlen) < 0) {
		snprintf(err, errlen,
		         "the store URL is not one libpq accepts (see "
		         "\"Connection URIs\" in its manual)");
		return -1;
	}
	o.on_up = on_ls_up;
	o.on_notify = on_notify;
	if (pgconn_start(&ps->loop, &o, &ps->ls, err, errlen) < 0)
		return -1;
	while (!(both = ps->wr_up && ps->ls_up) && uv_hrtime() < end)
		uv_run(&ps->loop, UV_RUN_ONCE);
	if (!both)
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
		         ps->why[0] ? ps->why : "no answer");
	return both ? 0 : -1;
}

/* The cluster's schema, then the replicated tables from the view's. */
static int migrate_pg(struct pgstore *ps, char *err, size_t errlen)
{
	char *sql = pgrepl_schema_sql(ps->repl);
	int rc = -1;

	if (sql == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ps->steps = 0;
	if (pgschema_migrate(ps->wr, on_step, ps) == 0 &&
	    pgconn_query(ps->wr, sql, 0, NULL, pgconn_ignore, NULL) == 0 &&
	    pgconn_sync(ps->wr, on_step, ps) == 0 &&
	    run_until(ps, &ps->steps, 2, OPEN_TIMEOUT_MS) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "migrating the PostgreSQL schema: %s",
		         ps->why[0] ? ps->why : "no answer");
	free(sql);
	return rc;
}

static void on_mark(void *arg, const PGresult *res, const char *err)
{
	struct pgstore *ps = arg;

	if (res && PQntuples(res) == 1)
		ps->mark_v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/* The view's mark of its last clean stop: the token it left. */
static int view_mark(sqlite3 *db, char *out, size_t len)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT token FROM _smmd_clean", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

/* Run one statement on the writes' connection and wait ms for it. */
static int run_one(struct pgstore *ps, const char *sql, int n,
                   const char *const *params, pgconn_result_fn *fn, int64_t ms)
{
	ps->steps = 0;
	if (pgconn_query(ps->wr, sql, n, params, fn, ps) < 0 ||
	    pgconn_sync(ps->wr, on_step, ps) < 0)
		return -1;
	return run_until(ps, &ps->steps, 1, ms);
}

/*
 * A view kept from the last clean stop (sq_open_at keeps it only then)
 * is read on from where it was if PostgreSQL gives its token back (the
 * stop committed it: a database made again, restored or recovered to a
 * point before has none) at the same change number; else it is emptied
 * and read whole. Either way its mark goes, synced, before anything else
 * is written to it: a crash from now on leaves a view that is rebuilt.
 */
static int check_view(struct pgstore *ps, char *err, size_t errlen)
{
	static const char sql[] =
	        "DELETE FROM smmd_view_mark WHERE token = $1 RETURNING v";
	char token[80];
	const char *params[] = {token};

	if (!view_mark(ps->db, token, sizeof(token)))
		return 0; /* a new view */
	ps->mark_v = -1;
	if (run_one(ps, sql, 1, params, on_mark, OPEN_TIMEOUT_MS) < 0) {
		snprintf(err, errlen, "checking the view kept: %s",
		         ps->why[0] ? ps->why : "no answer");
		return -1;
	}
	if (ps->mark_v >= 0 && ps->mark_v == pgrepl_pulled(ps->repl)) {
		log_info("store: the view of the last clean stop is kept: "
		         "reading on from change %" PRId64,
		         pgrepl_pulled(ps->repl));
	} else {
		log_info("store: the view kept is not one this database "
		         "knows (made again, or restored): reading it whole");
		if (pgrepl_forget_view(ps->repl) < 0)
			goto bad;
	}
	if (sqlite3_exec(ps->db,
	                 "PRAGMA synchronous = FULL; DROP TABLE _smmd_clean; "
	                 "PRAGMA synchronous = OFF",
	                 NULL, NULL, NULL) == SQLITE_OK)
		return 0;
bad:
	snprintf(err, errlen, "the view: %s", sqlite3_errmsg(ps->db));
	return -1;
}

/*
 * A clean stop, everything kept in PostgreSQL under the lease smmd
 * worked under and nothing ever refused: mark the view whole, so that
 * the next start reads on from here rather than the whole change log
 * (check_view). The token is committed in PostgreSQL first.
 */
static void mark_view_whole(struct pgstore *ps)
{
	static const char sql[] =
	        "WITH old AS (DELETE FROM smmd_view_mark WHERE at < "
	        "clock_timestamp() - interval '90 days') "
	        "INSERT INTO smmd_view_mark (token, v) VALUES ($1, $2)";
	unsigned char rnd[16];
	char token[40], at_s[24], *mark;
	const char *params[] = {token, at_s};
	int64_t at;

	if (ps->ever_failed ||
	    (!ps->standby && (ps->epoch == 0 || ps->lease == NULL ||
	                      lease_epoch(ps->lease) != ps->epoch)) ||
	    !sqlite3_get_autocommit(ps->db) ||
	    getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd) ||
	    pgrepl_save_position(ps->repl, &at) < 0)
		return;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	snprintf(at_s, sizeof(at_s), "%" PRId64, at);
	if (run_one(ps, sql, 2, params, pgconn_ignore, CLOSE_TIMEOUT_MS) < 0) {
		log_warnx("store: the view could not be marked whole (%s); "
		          "the next start reads it again from PostgreSQL",
		          ps->why[0] ? ps->why : "no answer");
		return;
	}
	mark = sqlite3_mprintf("CREATE TABLE IF NOT EXISTS _smmd_clean "
	                       "(token TEXT NOT NULL); DELETE FROM "
	                       "_smmd_clean; INSERT INTO _smmd_clean VALUES "
	                       "(%Q)",
	                       token);
	if (mark == NULL ||
	    sqlite3_exec(ps->db, mark, NULL, NULL, NULL) != SQLITE_OK)
		log_warnx("store: the view could not be marked whole; the "
		          "next start reads it again from PostgreSQL");
	sqlite3_free(mark);
}

/* Why this node is a standby, in a clause. */
static void standby_why(struct pgstore *ps, char *out, size_t len)
{
	const char *works = working_node(ps);

	if (clock_outvoted(ps) || (ps->clock_out && works == NULL))
		snprintf(out, len,
		         "this node's clock is %+" PRId64 " ms from "
		         "PostgreSQL's and outvoted by the cluster's: it "
		         "does not work on a wrong clock",
		         -lease_skew_ms(pg_writer(ps)));
	else if (works)
		snprintf(out, len, "node %s works on this database", works);
	else
		snprintf(out, len, "no node works on this database now");
}

/* The node holding a live exclusive lease (the working node, not a
 * worker beside it), into ps->why: 1, 0 none, -1 error. */
static int who_works(struct pgstore *ps)
{
	static const char sql[] =
	        "SELECT node_id FROM smmd_node WHERE node_id <> $1 AND "
	        "lease_until > clock_timestamp() AND NOT worker LIMIT 1";
	const char *params[] = {ps->node_id};

	if (run_one(ps, sql, 1, params, on_peer, 2000) < 0)
		return -1;
	return ps->peer;
}

static void on_claims(void *arg);
static int may_release(void *arg, const char *channel);

/* The working node is gone: the exclusive registration goes now. */
static void on_holder_gone(void *arg)
{
	struct pgstore *ps = arg;

	if (ps->lease)
		lease_beat_now(ps->lease);
}

/*
 * A standby that shares the work (STORE_OPEN_WORKER) registers beside
 * the working node, under its id and "/w", not exclusive: the exclusive
 * registration, which goes on waiting for its turn to coordinate, does
 * not count it (lease.c), and its writes, its fence and its claims go
 * under this one. Its view pulls every beat from now on.
 */
static int start_worker(struct pgstore *ps)
{
	struct lease_opts o = {.node_id = ps->writer_id,
	                       .version = PACKAGE_VERSION,
	                       .margin_ms = MARGIN_MS,
	                       .worker = 1,
	                       .skew_ms = lease_skew_ms(ps->lease),
	                       .skew_known = 1,
	                       .on_live = on_worker_live,
	                       .on_claims = on_claims,
	                       .on_holder_gone = on_holder_gone,
	                       .may_release = may_release,
	                       .arg = ps};

	snprintf(ps->writer_id, sizeof(ps->writer_id), "%s/w", ps->node_id);
	if (pgrepl_set_node(ps->repl, ps->writer_id) < 0 ||
	    (ps->wlease = lease_start(&ps->loop, ps->ls, &o)) == NULL) {
		snprintf(ps->why, sizeof(ps->why), "out of memory");
		return -ENOMEM;
	}
	/* Commands reach it within a second: its view is pulled each beat. */
	pgrepl_share(ps->repl, 1);
	ps->worker = 1;
	log_info("store: this node works beside it, on the channels it "
	         "claims, as %s",
	         ps->writer_id);
	return 0;
}

/*
 * One node works at a time (lease_opts.exclusive): while another holds
 * its lease this one is a standby, registering every beat, and takes
 * over once that lease has run out (3 s after its last renewal).
 */
static int await_lease(struct pgstore *ps)
{
	char why[300], status[400];
	int told = 0, works, refused = 0;

	while (run_until(ps, &ps->live, 1, 1000) == -ETIMEDOUT) {
		works = told ? 0 : who_works(ps);
		if (ps->live)
			break; /* registered while who_works ran */
		/* Nobody works and the registration was refused twice: for
		 * this node's clock (lease.h), or the next beat reaps an old
		 * row of ours and registers. */
		refused = works == 0 ? refused + 1 : 0;
		if (!told && (works == 1 || refused >= 2)) {
			ps->clock_out = works != 1;
			if (works == 1)
				snprintf(ps->works, sizeof(ps->works), "%.127s",
				         ps->why);
			standby_why(ps, why, sizeof(why));
			snprintf(status, sizeof(status),
			         "standby: %s; this one %stakes over %s", why,
			         ps->may_standby
			                 ? "answers reads from its view "
			                   "and "
			                 : "",
			         ps->clock_out ? "once the clocks agree"
			                       : "when its lease runs out");
			log_info("store: %s", status);
			log_flush(); /* a standby may wait for long */
			service_notify_status(status);
			told = 1;
			if (ps->may_standby) {
				ps->standby = 1;
				ps->failed = 0;
				/* Not on a clock the cluster outvotes. */
				if (ps->may_work && !ps->clock_out)
					return start_worker(ps);
				pull_behind(ps);
				return 0;
			}
		}
		ps->failed = 0;
		pull_behind(ps);
		/* A standby's start lasts as long as the working node: the
		 * unit's start timeout and watchdog must not end it. */
		service_notify_extend(5000000);
		service_notify_watchdog(NULL);
	}
	if (told)
		log_info("store: taking over as node %s", ps->node_id);
	return ps->failed;
}

static void on_clock(void *arg, const PGresult *res, const char *err)
{
	struct pgstore *ps = arg;

	if (res && PQntuples(res) == 1)
		ps->db_ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/*
 * PostgreSQL's clock minus ours, before the first registration, which
 * votes with it (lease.h): a node started with a wrong clock never
 * works, not even for the second until its first renewal.
 */
static int measure_clock(struct pgstore *ps, int64_t *skew)
{
	static const char sql[] = "SELECT (extract(epoch FROM "
	                          "clock_timestamp()) * 1000)::bigint";
	int64_t sent = wallclock_now_ms();

	ps->db_ms = 0;
	if (run_one(ps, sql, 0, NULL, on_clock, OPEN_TIMEOUT_MS) < 0 ||
	    ps->db_ms == 0)
		return -1;
	*skew = ps->db_ms - (sent + wallclock_now_ms()) / 2;
	return 0;
}

/*
 * A worker's exclusive registration goes only once its own renewal saw
 * no working node: an idle worker's beat is then its renewal alone.
 */
static int may_register(void *arg)
{
	struct pgstore *ps = arg;

	if (ps->wlease == NULL)
		return 1;
	if (lease_holder_lives(ps->wlease))
		return 0;
	/* It votes with the offset the worker lease measured last. */
	lease_take_skew(ps->lease, ps->wlease);
	return 1;
}

static int start_lease(struct pgstore *ps, char *err, size_t errlen)
{
	struct lease_opts o = {.node_id = ps->node_id,
	                       .version = PACKAGE_VERSION,
	                       .margin_ms = MARGIN_MS,
	                       .exclusive = 1,
	                       .may_register = may_register,
	                       .on_live = on_live,
	                       .on_claims = on_claims,
	                       .may_release = may_release,
	                       .arg = ps};

	o.epoch = ps->handed_epoch;
	if (measure_clock(ps, &o.skew_ms) < 0) {
		snprintf(err, errlen, "reading PostgreSQL's clock: %s",
		         ps->why[0] ? ps->why : "no answer");
		return -1;
	}
	o.skew_known = 1;

	if ((ps->lease = lease_start(&ps->loop, ps->ls, &o)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (await_lease(ps) < 0) {
		snprintf(err, errlen, "registering this node: %s",
		         ps->why[0] ? ps->why : "no answer");
		return -1;
	}
	return 0;
}

/*
 * Bring the view up to date: a new one (or one behind the log's trim)
 * reads the tables whole, then the log from there; a kept one, or a
 * standby's, reads the log on from where it was. No limit on the whole
 * while rows come; one on a batch's answer.
 */
static int catch_up(struct pgstore *ps, char *err, size_t errlen)
{
	uint64_t end = uv_hrtime() + (uint64_t)OPEN_TIMEOUT_MS * 1000000;
	uint64_t seen;
	int rc;

	/* A standby's pull may still run. It began before this node
	 * registered, so what the dead node committed last may be past its
	 * snapshot: let it end, then read on from there once the dead
	 * node's last group, which may still be running, has ended too. */
	seen = pgrepl_rows_read(ps->repl);
	while (pgrepl_pulling(ps->repl) && uv_hrtime() < end) {
		uv_run(&ps->loop, UV_RUN_ONCE);
		/* A view read whole takes as long as the tables are big. */
		if (pgrepl_rows_read(ps->repl) != seen) {
			seen = pgrepl_rows_read(ps->repl);
			end = uv_hrtime() + (uint64_t)OPEN_TIMEOUT_MS * 1000000;
		}
	}
	rc = pgrepl_pulling(ps->repl) ? -ETIMEDOUT
	                              : pgrepl_pull_after_writers(ps->repl);
	ps->why[0] = '\0';
	while (rc == 0 && pgrepl_pulling(ps->repl) && !ps->why[0] &&
	       uv_hrtime() < end) {
		uv_run(&ps->loop, UV_RUN_ONCE);
		if (pgrepl_rows_read(ps->repl) != seen) {
			seen = pgrepl_rows_read(ps->repl);
			end = uv_hrtime() + (uint64_t)OPEN_TIMEOUT_MS * 1000000;
		}
	}
	if (rc == 0 && !pgrepl_pulling(ps->repl) && !ps->why[0])
		return 0;
	snprintf(err, errlen, "reading the store from PostgreSQL: %s",
	         ps->why[0] ? ps->why
	         : rc       ? strerror(-rc)
	                    : "too slow");
	return -1;
}

/* What a standby that took over hands the smmd it executes (close_pg). */
#define HANDOFF_ENV "SMMD_PG_HANDOFF"

static void make_node_id(struct pgstore *ps)
{
	char host[64] = "";
	uint32_t rnd = 0;
	const char *h = getenv(HANDOFF_ENV);
	long long epoch;
	char pid[32];

	/* A standby's registration, handed over to renew rather than
	 * register again (no other standby can take the lease in between);
	 * only from this very process (the same pid across the exec), never
	 * from an environment some other smmd passed down. */
	snprintf(pid, sizeof(pid), ":%ld:", (long)getpid());
	if (h && sscanf(h, "%127s %lld", ps->node_id, &epoch) == 2 &&
	    epoch > 0 && strstr(ps->node_id, pid) != NULL) {
		ps->handed_epoch = epoch;
		unsetenv(HANDOFF_ENV);
		log_info("store: taking over as node %s with the lease it "
		         "registered as a standby (epoch %lld)",
		         ps->node_id, epoch);
		return;
	}
	unsetenv(HANDOFF_ENV);

	gethostname(host, sizeof(host) - 1);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)uv_hrtime();
	snprintf(ps->node_id, sizeof(ps->node_id), "%s:%ld:%08" PRIx32,
	         host[0] ? host : "smmd", (long)getpid(), rnd);
}

static int open_pg(struct store_be *s, struct pgstore *ps, const char *url,
                   char *err, size_t errlen)
{
	struct pgrepl_opts ro = {.db = s->db,
	                         .tables = replicated,
	                         .node_id = ps->node_id,
	                         .epoch = epoch_of,
	                         .margin_ms = MARGIN_MS,
	                         /* The lease is exclusive (start_lease). */
	                         .sole_writer = 1,
	                         .on_changed = on_row_changed,
	                         .on_backlog = on_backlog,
	                         .on_error = on_repl_error,
	                         .on_info = on_repl_info,
	                         .arg = ps};

	make_node_id(ps);
	snprintf(ps->writer_id, sizeof(ps->writer_id), "%s", ps->node_id);
	/* A working node trims at its first beat, then every minute. */
	ps->trim_ticks = TRIM_EVERY_TICKS - 1;
	if (connect_both(ps, url, err, errlen) < 0)
		return -1;
	ro.pg = ps->wr;
	if (pgrepl_open(&ro, &ps->repl, err, errlen) < 0)
		return -1;
	if ((ps->relay = pgrelay_new(&ps->loop, ps->wr, ps->node_id)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (migrate_pg(ps, err, errlen) < 0 ||
	    check_view(ps, err, errlen) < 0 ||
	    start_lease(ps, err, errlen) < 0 ||
	    ((!ps->standby || ps->worker) && catch_up(ps, err, errlen) < 0))
		return -1;
	ps->why[0] = '\0';
	return 0;
}

int pg_open(const char *dir, const char *url, unsigned flags,
            struct store_be **out, char *err, size_t errlen)
{
	struct store_be *s = NULL;
	struct pgstore *ps;
	int rc;

	*out = NULL;
	if (url == NULL) {
		snprintf(err, errlen, "the postgresql store needs a URL");
		return -1;
	}
	if (sq_open_at(dir, VIEW_FILE, 1, &s, err, errlen) < 0)
		return -1;
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		sq_close(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((rc = uv_loop_init(&ps->loop)) < 0) {
		free(ps);
		sq_close(s);
		snprintf(err, errlen, "cannot make a loop: %s",
		         uv_strerror(rc));
		return -1;
	}
	s->pg = ps;
	ps->db = s->db;
	if (pg_count_start(ps, err, errlen) < 0) {
		uv_loop_close(&ps->loop);
		free(ps);
		s->pg = NULL;
		sq_close(s);
		return -1;
	}
	ps->may_standby = (flags & STORE_OPEN_STANDBY) != 0;
	ps->may_work = ps->may_standby && (flags & STORE_OPEN_WORKER) != 0;
	uv_timer_init(&ps->loop, &ps->tick);
	uv_timer_init(&ps->loop, &ps->report);
	uv_timer_init(&ps->loop, &ps->claims_timer);
	uv_timer_init(&ps->loop, &ps->watch_timer);
	uv_timer_init(&ps->loop, &ps->pause_timer);
	uv_timer_init(&ps->loop, &ps->tell_timer);
	ps->claims_timer.data = ps->watch_timer.data = ps->pause_timer.data =
	        ps->tell_timer.data = ps;
	pg_pull_init(ps);
	ps->tick.data = ps->report.data = ps;
	uv_timer_start(&ps->tick, on_tick, TICK_MS, TICK_MS);
	if (open_pg(s, ps, url, err, errlen) < 0) {
		pg_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

static void on_wlease_gone(void *arg, const char *err)
{
	struct pgstore *ps = arg;

	(void)err;
	ps->wlease = NULL;
	ps->wgone = 1;
}

static void on_lease_gone(void *arg, const char *err)
{
	struct pgstore *ps = arg;

	(void)err; /* a lease not given up runs out by itself */
	ps->lease = NULL;
	ps->gone = 1;
}

/*
 * A standby's view holds what it pulled and nothing of its own: once the
 * pull in flight is in, it is whole, for the smmd that takes over in its
 * place or for its own next start.
 */
static void hand_view_on(struct pgstore *ps)
{
	uint64_t end = uv_hrtime() + (uint64_t)CLOSE_TIMEOUT_MS * 1000000;

	uv_timer_stop(&ps->tick); /* no pull after this one */
	while (pgrepl_pulling(ps->repl) && uv_hrtime() < end)
		uv_run(&ps->loop, UV_RUN_ONCE);
	if (!pgrepl_pulling(ps->repl))
		mark_view_whole(ps);
}

/*
 * A standby that took over executes smmd afresh (main.c): its lease goes
 * with it, to be renewed, so another standby cannot take it meanwhile.
 * Lost if the exec fails: it runs out by itself.
 */
static int hand_lease_on(struct pgstore *ps)
{
	char v[200];

	snprintf(v, sizeof(v), "%s %" PRId64, ps->node_id,
	         lease_epoch(ps->lease));
	return setenv(HANDOFF_ENV, v, 1);
}

/* Everything committed goes out, the lease is given up, all is closed. */
static void close_pg(struct pgstore *ps)
{
	embed_stop(ps);
	stop_serving(ps); /* smmd's control is going: nothing more to run */
	if (ps->repl && ps->standby && !ps->worker &&
	    sqlite3_get_autocommit(ps->db))
		hand_view_on(ps);
	/* A turn still open is given up (rolled back) with the view. */
	else if (ps->repl && ps->epoch != 0 && ps->failed == 0 && !ps->lost &&
	         sqlite3_get_autocommit(ps->db)) {
		if (wait_for(ps, ps->asked + 1, CLOSE_TIMEOUT_MS) == 0)
			mark_view_whole(ps);
		else
			log_warnx("store: the last changes did not reach "
			          "PostgreSQL: %s",
			          ps->fail_why);
	}
	ps->closing = 1;
	/* A worker's channels are free at once: nothing is in flight
	 * (smmd's stop waited for its requests). */
	if (ps->wlease) {
		uv_timer_stop(&ps->tick);
		lease_stop(ps->wlease, on_wlease_gone, ps);
		ps->failed = 0;
		run_until(ps, &ps->wgone, 1, 3000);
	}
	if (ps->lease && ps->turning && lease_live(ps->lease) &&
	    hand_lease_on(ps) == 0) {
		lease_free(ps->lease);
		ps->lease = NULL;
	}
	if (ps->lease) {
		/* Not given up in time: closing the connection below fails
		 * the unregistration, which frees the lease; its row runs out
		 * by itself. */
		lease_stop(ps->lease, on_lease_gone, ps);
		ps->failed = 0;
		run_until(ps, &ps->gone, 1, 3000);
	}
	/* Asks still waiting are told now; answers may still go out. */
	pgrelay_free(ps->relay);
	/* Connections first: what is in flight is told, pgrepl still there. */
	if (ps->wr)
		pgconn_close(ps->wr);
	if (ps->ls)
		pgconn_close(ps->ls);
	uv_close((uv_handle_t *)&ps->tick, NULL);
	uv_close((uv_handle_t *)&ps->report, NULL);
	uv_close((uv_handle_t *)&ps->claims_timer, NULL);
	uv_close((uv_handle_t *)&ps->pause_timer, NULL);
	uv_close((uv_handle_t *)&ps->tell_timer, NULL);
	uv_close((uv_handle_t *)&ps->watch_timer, NULL);
	pg_pull_close(ps);
	uv_run(&ps->loop, UV_RUN_DEFAULT);
	pgrepl_free(ps->repl);
	ps->repl = NULL; /* the rollback hook's, until pg_count_stop */
	uv_loop_close(&ps->loop);
	json_decref(ps->nodes);
	json_decref(ps->nodes_next);
	json_decref(ps->listed);
	json_decref(ps->listed_next);
	json_decref(ps->start_elsewhere);
	json_decref(ps->tokens_changed);
	for (size_t i = 0; i < ps->nchanged; i++)
		free(ps->changed[i]);
	free(ps->changed);
	free(ps->seqs);
	pg_count_stop(ps);
	free(ps);
}

void pg_close(struct store_be *s)
{
	if (s == NULL)
		return;
	if (s->pg)
		close_pg(s->pg);
	s->pg = NULL;
	sq_close(s);
}

/* Groups or a pull awaiting PostgreSQL's answer (uvembed.h's busy). */
static int in_flight(void *arg)
{
	struct pgstore *ps = arg;

	return ps->nseq > 0 || pgrepl_pulling(ps->repl) ||
	       pgconn_pending(ps->ls) > 0 || pgrelay_waiting(ps->relay);
}

int pg_start(struct store_be *s, uv_loop_t *loop,
             void (*done)(void *arg, uint64_t seq, int err), void *arg)
{
	struct pgstore *ps = s->pg;
	int rc;

	/*
	 * smmd's start-up may have kept the private loop from running for
	 * longer than the lease's ttl (loading a big store): due timers
	 * first, and a lapsed lease registered again. Only an exclusive
	 * registration succeeds, so no other node worked meanwhile: this
	 * one is the registration smmd works under from now on.
	 */
	uv_run(&ps->loop, UV_RUN_NOWAIT);
	if ((rc = run_until(ps, ps->worker ? &ps->wlive : &ps->live, 1,
	                    OPEN_TIMEOUT_MS)) < 0)
		return rc;
	ps->epoch = lease_epoch(pg_writer(ps));
	/* A worker's pauses and audit rows: keys of its own registration's
	 * (epochs are never drawn twice), none the working node takes. */
	s->id_base = ps->worker ? ps->epoch * SQ_ID_RANGE : 0;
	/* Its view must never be marked whole past a worker's changes. */
	if (ps->may_work && !ps->worker && !ps->shared)
		share_work(ps);
	ps->done = done;
	ps->done_arg = arg;
	ps->told = ps->durable;
	ps->embed.busy = in_flight;
	ps->embed.busy_arg = ps;
	if ((rc = embed_start(ps, loop)) < 0)
		return rc;
	/* What the claims said during smmd's start-up, now. */
	if (ps->claims_pending)
		tell_claims(ps);
	if (ps->watch_pending)
		tell_changes(ps);
	return 0;
}

void pg_sync(struct store_be *s, uint64_t seq)
{
	struct pgstore *ps = s->pg;

	if (seq > ps->asked)
		ps->asked = seq;
	ship_pending(ps);
	/* Its answer comes on the private loop: have it polled. */
	uvembed_kick(&ps->embed);
}

/* Run the private loop in place until batch seq is kept, or ms pass. */
static int wait_for(struct pgstore *ps, uint64_t seq, int64_t ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;

	if (seq > ps->asked)
		ps->asked = seq;
	ps->waiting = 1;
	/* Due timers first: a lease that lapsed meanwhile says so. */
	uv_run(&ps->loop, UV_RUN_NOWAIT);
	ship_pending(ps);
	while (ps->durable < seq && ps->failed == 0 && uv_hrtime() < end)
		uv_run(&ps->loop, UV_RUN_ONCE);
	ps->waiting = 0;
	if (ps->embed.started)
		uvembed_rearm(&ps->embed);
	if (ps->durable >= seq)
		return 0;
	if (ps->failed == 0)
		snprintf(ps->fail_why, sizeof(ps->fail_why),
		         "no answer from PostgreSQL in %" PRId64 " s",
		         ms / 1000);
	ps->failed = 0;
	return -1;
}

/* Before start, and at shutdown from inside smmd's loop. */
int pg_wait(struct store_be *s, uint64_t seq)
{
	return wait_for(s->pg, seq, WAIT_TIMEOUT_MS);
}

void pg_stop(struct store_be *s)
{
	struct pgstore *ps = s->pg;

	embed_stop(ps);
	ps->done = NULL;
}

void pg_counts_io(struct store_be *s, uint64_t *syncs, uint64_t *checkpoints)
{
	*syncs = s->pg->groups;
	*checkpoints = 0;
}

int pg_claim(struct store_be *s, const struct store_claims *c)
{
	struct pgstore *ps = s->pg;

	if (ps == NULL || pg_writer(ps) == NULL)
		return 0;
	ps->claims = *c;
	ps->claims.channels = NULL; /* the caller's; the lease copies them */
	return lease_set_channels(pg_writer(ps), c->channels);
}

/*
 * Owned under the lease's current epoch, trusted or not this instant: a
 * write made while it is not waits for the fence, as every write does,
 * and a lease that lapsed owns nothing (and says so).
 */
static void on_elsewhere(void *arg, const PGresult *res, const char *err)
{
	struct pgstore *ps = arg;

	(void)err;
	if (res == NULL || (ps->elsewhere = json_object()) == NULL)
		return;
	for (int i = 0; i < PQntuples(res); i++)
		json_object_set_new(ps->elsewhere, PQgetvalue(res, i, 0),
		                    json_true());
}

/* At smmd's start, before pg_start: the private loop is waited on here. */
json_t *pg_owned_elsewhere(struct store_be *s)
{
	static const char sql[] =
	        "SELECT o.channel FROM smmd_channel_owner o JOIN smmd_node n "
	        "ON n.node_id = o.node_id AND n.epoch = o.epoch WHERE "
	        "n.lease_until > clock_timestamp() AND o.node_id <> $1";
	struct pgstore *ps = s->pg;
	const char *params[] = {ps ? ps->writer_id : NULL};
	json_t *out;

	if (ps == NULL || ps->embed.started)
		return NULL;
	ps->elsewhere = NULL;
	if (run_one(ps, sql, 1, params, on_elsewhere, OPEN_TIMEOUT_MS) < 0) {
		json_decref(ps->elsewhere);
		ps->elsewhere = NULL;
	}
	out = ps->elsewhere;
	ps->elsewhere = NULL;
	/* Another live node fires channels: this one works beside workers
	 * from its start (its first node list would say so a beat later),
	 * so that the start's calendar sync leaves theirs alone. */
	if (out && json_object_size(out) > 0 && !ps->standby && !ps->shared)
		share_work(ps);
	json_decref(ps->start_elsewhere);
	ps->start_elsewhere = json_incref(out);
	return out;
}

int pg_fired_elsewhere(struct store_be *s, const char *channel)
{
	struct pgstore *ps = s->pg;

	if (ps == NULL || !(ps->worker || ps->shared))
		return 0;
	if (!pg_claims_known(s))
		return ps->start_elsewhere &&
		       json_object_get(ps->start_elsewhere, channel) != NULL;
	return !pg_owns(s, channel);
}

int pg_worker(struct store_be *s)
{
	return s->pg && s->pg->worker;
}

int pg_shared(struct store_be *s)
{
	return s->pg && (s->pg->worker || s->pg->shared);
}

int pg_listed(struct store_be *s, const char *channel)
{
	struct pgstore *ps = s->pg;

	/* Only the working node beside workers reads it every few beats. */
	if (ps == NULL || ps->standby || ps->worker || !ps->shared ||
	    ps->listed == NULL || ps->listed_any || listed_stale(ps))
		return -1;
	return json_object_get(ps->listed, channel) != NULL;
}

void pg_watch(struct store_be *s, store_changed_fn *fn, void *arg)
{
	if (s->pg == NULL)
		return;
	s->pg->watch_fn = fn;
	s->pg->watch_arg = arg;
}

int pg_owns(struct store_be *s, const char *channel)
{
	struct pgstore *ps = s->pg;

	return ps && pg_writer(ps) && lease_holds(pg_writer(ps), channel);
}

int pg_claims_known(struct store_be *s)
{
	struct pgstore *ps = s->pg;

	if (ps && !ps->claims_known && pg_writer(ps))
		ps->claims_known = lease_claimed(pg_writer(ps));
	return ps == NULL || ps->claims_known;
}

/* The claim's; the lease's epoch for a channel not claimed (none yet). */
int64_t pg_fence(struct store_be *s, const char *channel)
{
	struct pgstore *ps = s->pg;
	int64_t f;

	if (ps == NULL)
		return 0;
	f = pg_writer(ps) ? lease_fence(pg_writer(ps), channel) : 0;
	return f > 0 ? f : ps->epoch;
}

json_t *pg_cluster(struct store_be *s)
{
	struct pgstore *ps = s->pg;
	uint64_t age_ms;
	int64_t skew;
	json_t *o;

	if (ps == NULL || ps->lease == NULL)
		return NULL;
	age_ms = (uv_hrtime() - ps->nodes_at_ns) / 1000000;
	/* A standby reads the nodes when asked (read_nodes says why): this
	 * answer has the last list, the next a newer one. */
	if (ps->standby &&
	    (ps->nodes == NULL || age_ms > NODES_EVERY_TICKS * TICK_MS)) {
		ask_nodes(ps);
		uvembed_kick(&ps->embed);
	}
	skew = lease_skew_ms(pg_writer(ps));
	o = json_pack("{s:s, s:s, s:I, s:b, s:I, s:b, s:O, s:o}", "node",
	              ps->writer_id, "role",
	              ps->worker    ? "worker"
	              : ps->standby ? "standby"
	                            : "working",
	              "epoch", (json_int_t)ps->epoch, "lease_live",
	              lease_live(pg_writer(ps)), "clock_offset_ms",
	              (json_int_t)skew, "clock_skewed", too_far(skew), "nodes",
	              ps->nodes ? ps->nodes : json_null(), "nodes_age_ms",
	              ps->nodes ? json_integer((json_int_t)age_ms)
	                        : json_null());
	if (o && ps->standby) {
		const char *works = working_node(ps);

		json_object_set_new(o, "works",
		                    works ? json_string(works) : json_null());
		json_object_set_new(o, "clock_outvoted",
		                    json_boolean(clock_outvoted(ps) ||
		                                 (ps->clock_out && !works)));
		json_object_set_new(o, "view_change",
		                    json_integer(pgrepl_pulled(ps->repl)));
	}
	return o;
}

int pg_clock_trusted(struct store_be *s)
{
	struct pgstore *ps = s->pg;

	if (ps == NULL || ps->lease == NULL)
		return 1;
	/* Outvoted (before on_tick gives the work up), or set since the
	 * last beat measured it. */
	return !ps->clock_out && !clock_outvoted(ps) &&
	       llabs(lease_clock_drift_ms(pg_writer(ps))) <=
	               LEASE_CLOCK_LIMIT_MS;
}

int pg_standby(struct store_be *s, char *works, size_t len)
{
	struct pgstore *ps = s->pg;

	if (ps == NULL || !ps->standby)
		return 0;
	standby_why(ps, works, len);
	return 1;
}

int pg_standby_start(struct store_be *s, uv_loop_t *loop,
                     void (*turn)(void *arg), void *arg)
{
	struct pgstore *ps = s->pg;

	if (!ps->standby)
		return -EINVAL;
	ps->turn = turn;
	ps->turn_arg = arg;
	pg_listen_relays(ps);
	/* Registered since open: the working node went meanwhile. */
	if (ps->live && !ps->turning) {
		ps->turning = 1;
		turn(arg);
	}
	if (ps->embed.started)
		return 0; /* a worker's writer started it (pg_start) */
	ps->embed.busy = in_flight;
	ps->embed.busy_arg = ps;
	return embed_start(ps, loop);
}

int pg_failure(struct store_be *s, char *why, size_t len)
{
	struct pgstore *ps = s->pg;

	if (ps == NULL || ps->fail_why[0] == '\0')
		return sq_failure(s, why, len);
	snprintf(why, len, "PostgreSQL: %s", ps->fail_why);
	ps->fail_why[0] = '\0';
	return STORE_UNWRITABLE;
}

int pg_may_act(struct store_be *s)
{
	struct pgstore *ps = s->pg;

	return ps == NULL || ps->lease == NULL ||
	       ((!ps->standby || ps->worker) && !ps->lost &&
	        lease_live(pg_writer(ps)));
}
