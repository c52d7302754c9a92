/* Commands relayed from a standby to the working node (pgrelay.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgrelay.h"

/* A standby looks for its replies when told one is there (NOTIFY), and
 * this often besides, for a notification lost with its connection. */
#define RELAY_POLL_MS   200
#define RELAY_ANSWER_MS 30000 /* taken, and no reply: give up saying so */
#define RELAY_POLL_MAX  16    /* requests looked for in one statement */
#define RELAY_TAKE_MAX  16    /* requests taken in one (take_sql's LIMIT) */
/* RELAY_TAKE_MS, in SQL: untaken this long, withdrawn; older, not taken. */
#define RELAY_TAKE_SQL "interval '3 seconds'"

static const char ask_sql[] =
        "INSERT INTO smmd_request (from_node, uid, gid, readonly, line, "
        "to_channel) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
static const char notify_sql[] = "SELECT pg_notify('smmd_request', '')";
/* Replies, and requests withdrawn: both rows go, in one statement. */
static const char poll_sql[] =
        "DELETE FROM smmd_request WHERE id = ANY ($1::bigint[]) AND (reply "
        "IS NOT NULL OR (taken_by IS NULL AND asked_at < clock_timestamp() "
        "- " RELAY_TAKE_SQL ")) RETURNING id, reply";
/* A live claim of channel c (lease.c's tables): by node $1, or by any. */
#define OWNED(c, by)                                                       \
	"EXISTS (SELECT 1 FROM smmd_channel_owner o JOIN smmd_node n ON "  \
	"n.node_id = o.node_id AND n.epoch = o.epoch WHERE o.channel = " c \
	" AND n.lease_until > clock_timestamp()" by ")"
/*
 * $1 takes what names a channel it owns; and, when $2 (the working
 * node), what names none, or one no live node owns.
 */
static const char take_sql[] =
        "UPDATE smmd_request SET taken_by = $1 WHERE id IN (SELECT id FROM "
        "smmd_request r WHERE taken_by IS NULL AND asked_at >= "
        "clock_timestamp() - " RELAY_TAKE_SQL " AND CASE WHEN r.to_channel "
        "IS NULL THEN $2::boolean ELSE " OWNED(
                "r.to_channel",
                " AND o.node_id = $1") " OR "
                                       "($2::boolean AND NOT " OWNED(
                                               "r.to_channel",
                                               "") ") END ORDER BY id "
                                                   "LIMIT 16 FOR UPDATE SKIP LOCKED) RETURNING id, uid, gid, readonly, "
                                                   "line, to_channel IS NOT NULL";
/* ... and the standby that asked is woken to read it back. */
static const char answer_sql[] =
        "WITH u AS (UPDATE smmd_request SET reply = $2, answered_at = "
        "clock_timestamp() WHERE id = $1 RETURNING from_node) SELECT "
        "pg_notify('smmd_reply', from_node) FROM u";
static const char give_back_sql[] =
        "UPDATE smmd_request SET taken_by = NULL WHERE id = ANY "
        "($1::bigint[]) AND taken_by = $2";
/* Rows a standby that died never read back. */
static const char sweep_sql[] = "DELETE FROM smmd_request WHERE asked_at < "
                                "clock_timestamp() - interval '1 day'";

/* A request taken, kept until the take commits. */
struct taken {
	int64_t id;
	struct pgrelay_peer peer;
	char *line;
};

struct ask {
	struct pgrelay *r;
	struct ask *next;
	int64_t id; /* 0 until the insert's answer */
	uint64_t asked_ns;
	int refs; /* the asker's, and each callback of its insert */
	int told;
	pgrelay_answer_fn *fn;
	void *arg;
};

struct pgrelay {
	uv_loop_t *loop;
	struct pgconn *pg;
	char *node_id;
	struct ask *asks;
	uv_timer_t poll;
	int polling;    /* a poll statement is in flight */
	int poll_again; /* a reply was announced meanwhile */
	pgrelay_request_fn *serve;
	void *serve_arg;
	char *taker;     /* who takes (pgrelay_serve) */
	int unaddressed; /* ... what names no channel too (working node) */
	int taking, take_again;
	struct taken taken[RELAY_TAKE_MAX];
	size_t ntaken;
	unsigned takes;
	int dead; /* freed: answers in flight find no one */
	int refs; /* groups in flight, and the timer */
};

struct pgrelay *pgrelay_new(uv_loop_t *loop, struct pgconn *pg,
                            const char *node_id)
{
	struct pgrelay *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->node_id = strdup(node_id)) == NULL) {
		free(r);
		return NULL;
	}
	r->loop = loop;
	r->pg = pg;
	uv_timer_init(loop, &r->poll);
	r->poll.data = r;
	r->refs = 1; /* the timer's */
	return r;
}

static void relay_unref(struct pgrelay *r)
{
	if (--r->refs > 0)
		return;
	free(r->node_id);
	free(r->taker);
	free(r);
}

static void on_answered(void *arg, const char *err)
{
	(void)err; /* lost: the standby says "may have been done" */
	relay_unref(arg);
}

static void poll_closed(uv_handle_t *h)
{
	relay_unref(h->data);
}

static void ask_unref(struct ask *a)
{
	struct pgrelay *r = a->r;

	if (--a->refs == 0)
		free(a);
	relay_unref(r);
}

/* Forget a without a word: the asker hears it from pgrelay_ask. */
static void ask_drop(struct ask *a)
{
	struct ask **pp = &a->r->asks;

	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	a->told = 1;
	ask_unref(a);
}

/* Tell the asker once, and forget it (freed once its insert is told). */
static void ask_done(struct ask *a, const char *reply, const char *why,
                     int maybe)
{
	struct ask **pp = &a->r->asks;

	if (a->told)
		return;
	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	a->told = 1;
	a->fn(a->arg, reply, why, maybe);
	ask_unref(a);
}

void pgrelay_free(struct pgrelay *r)
{
	if (r == NULL)
		return;
	while (r->asks)
		ask_done(r->asks, NULL,
		         "this node stopped or took over while the request "
		         "was relayed: it may have been done; look with list "
		         "or show",
		         1);
	r->dead = 1;
	uv_close((uv_handle_t *)&r->poll, poll_closed);
}

int pgrelay_waiting(const struct pgrelay *r)
{
	return r != NULL && r->asks != NULL;
}

static struct ask *ask_find(struct pgrelay *r, int64_t id)
{
	for (struct ask *a = r->asks; a; a = a->next)
		if (a->id == id)
			return a;
	return NULL;
}

static void on_polled_row(void *arg, const PGresult *res, const char *err)
{
	struct pgrelay *r = arg;

	for (int i = 0; !r->dead && res && i < PQntuples(res); i++) {
		struct ask *a =
		        ask_find(r, strtoll(PQgetvalue(res, i, 0), NULL, 10));

		if (a == NULL)
			continue;
		if (PQgetisnull(res, i, 1))
			ask_done(
			        a, NULL,
			        "the node it went to (the working node, or the "
			        "one that fires its channel) did not take it "
			        "within 3 s: not done",
			        0);
		else
			ask_done(a, PQgetvalue(res, i, 1), NULL, 0);
	}
}

static void on_poll(uv_timer_t *t);

static void on_polled(void *arg, const char *err)
{
	struct pgrelay *r = arg;

	r->polling = 0;
	if (!r->dead && r->poll_again) {
		r->poll_again = 0;
		on_poll(&r->poll);
	}
	relay_unref(r);
}

/* Taken long ago and still no reply: the working node may have died. */
static void give_up_stale(struct pgrelay *r)
{
	uint64_t now = uv_hrtime();
	struct ask *a = r->asks, *next;

	for (; a; a = next) {
		next = a->next;
		if (a->id &&
		    now - a->asked_ns > (uint64_t)RELAY_ANSWER_MS * 1000000)
			ask_done(
			        a, NULL,
			        "the working node took it and did not answer "
			        "in 30 s: it may have been done; look with list "
			        "or show",
			        1);
	}
}

static void on_poll(uv_timer_t *t)
{
	struct pgrelay *r = t->data;
	char ids[RELAY_POLL_MAX * 24 + 4];
	const char *params[] = {ids};
	size_t used = 0;

	give_up_stale(r);
	if (r->asks == NULL) {
		uv_timer_stop(&r->poll);
		return;
	}
	if (r->polling || !pgconn_up(r->pg))
		return;
	used += (size_t)snprintf(ids, sizeof(ids), "{");
	for (struct ask *a = r->asks; a && used + 24 < sizeof(ids); a = a->next)
		if (a->id)
			used += (size_t)snprintf(ids + used, sizeof(ids) - used,
			                         "%s%" PRId64,
			                         used > 1 ? "," : "", a->id);
	if (used == 1)
		return; /* none inserted yet */
	snprintf(ids + used, sizeof(ids) - used, "}");
	if (pgconn_query(r->pg, poll_sql, 1, params, on_polled_row, r) == 0 &&
	    pgconn_sync(r->pg, on_polled, r) == 0) {
		r->polling = 1;
		r->refs++;
	}
}

static void on_asked_row(void *arg, const PGresult *res, const char *err)
{
	struct ask *a = arg;

	if (res && PQntuples(res) == 1)
		a->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	ask_unref(a);
}

static void on_asked(void *arg, const char *err)
{
	struct ask *a = arg;

	/* Its commit is not known: taken meanwhile, it may run. */
	if (err != NULL)
		ask_done(a, NULL,
		         "the connection to PostgreSQL broke while relaying "
		         "the request: it may have been done; look with list "
		         "or show",
		         1);
	ask_unref(a);
}

/* Hold a (and the relay) for a callback of its insert. */
static struct ask *ask_ref(struct ask *a)
{
	a->refs++;
	a->r->refs++;
	return a;
}

int pgrelay_ask(struct pgrelay *r, const struct pgrelay_peer *p,
                const char *line, const char *channel, pgrelay_answer_fn *fn,
                void *arg)
{
	char uid[24], gid[24];
	const char *params[] = {
	        r->node_id, uid, gid, p->readonly ? "t" : "f", line, channel};
	struct ask *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	snprintf(uid, sizeof(uid), "%ld", p->uid);
	snprintf(gid, sizeof(gid), "%ld", p->gid);
	*a = (struct ask){
	        .r = r, .asked_ns = uv_hrtime(), .fn = fn, .arg = arg};
	ask_ref(a); /* the asker's, until told */
	/* At the tail: the poll looks at the oldest first. */
	{
		struct ask **pp = &r->asks;

		while (*pp)
			pp = &(*pp)->next;
		*pp = a;
	}
	if (pgconn_query(r->pg, ask_sql, 6, params, on_asked_row, ask_ref(a)) <
	    0) {
		ask_unref(a); /* never called */
		ask_drop(a);
		return -ENOTCONN;
	}
	ask_ref(a); /* for on_asked */
	if (pgconn_query(r->pg, notify_sql, 0, NULL, pgconn_ignore, NULL) < 0 ||
	    pgconn_sync(r->pg, on_asked, a) < 0) {
		/* Nothing was sent, and the half-queued group goes with the
		 * connection, never committed by a later sync: the insert's
		 * callback is told so by the reset. */
		ask_unref(a); /* on_asked, never called */
		pgconn_reset(r->pg, "a relayed request could not be queued");
		ask_drop(a);
		return -ENOTCONN;
	}
	if (!uv_is_active((uv_handle_t *)&r->poll))
		uv_timer_start(&r->poll, on_poll, RELAY_POLL_MS, RELAY_POLL_MS);
	return 0;
}

void pgrelay_replied(struct pgrelay *r, const char *node_id)
{
	if (r->dead || r->asks == NULL || strcmp(node_id, r->node_id) != 0)
		return;
	if (r->polling)
		r->poll_again = 1;
	else
		on_poll(&r->poll);
}

int pgrelay_serve(struct pgrelay *r, pgrelay_request_fn *fn, void *arg,
                  const char *taker, int unaddressed)
{
	char *t;

	if (fn == NULL) {
		r->serve = NULL; /* what it takes now goes back */
		return 0;
	}
	if ((t = strdup(taker)) == NULL)
		return -ENOMEM;
	free(r->taker);
	r->taker = t;
	r->unaddressed = unaddressed;
	r->serve = fn;
	r->serve_arg = arg;
	return 0;
}

/* Kept until the take commits: a take that does not, took nothing. */
static void on_taken_row(void *arg, const PGresult *res, const char *err)
{
	struct pgrelay *r = arg;

	for (int i = 0; res && i < PQntuples(res) && r->ntaken < RELAY_TAKE_MAX;
	     i++) {
		struct taken *t = &r->taken[r->ntaken];

		if ((t->line = strdup(PQgetvalue(res, i, 4))) == NULL)
			continue; /* taken all the same: "may have been done" */
		t->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		t->peer = (struct pgrelay_peer){
		        .uid = strtol(PQgetvalue(res, i, 1), NULL, 10),
		        .gid = strtol(PQgetvalue(res, i, 2), NULL, 10),
		        .readonly = PQgetvalue(res, i, 3)[0] == 't',
		        .routed = PQgetvalue(res, i, 5)[0] == 't',
		};
		r->ntaken++;
	}
}

/* Taken by a node that no longer serves: for the one that works now. */
static void give_back(struct pgrelay *r)
{
	char ids[RELAY_TAKE_MAX * 24 + 4];
	const char *params[] = {ids, r->taker};
	size_t used = (size_t)snprintf(ids, sizeof(ids), "{");

	for (size_t i = 0; i < r->ntaken; i++)
		used += (size_t)snprintf(ids + used, sizeof(ids) - used,
		                         "%s%" PRId64, i ? "," : "",
		                         r->taken[i].id);
	snprintf(ids + used, sizeof(ids) - used, "}");
	if (pgconn_query(r->pg, give_back_sql, 2, params, pgconn_ignore,
	                 NULL) == 0 &&
	    pgconn_sync(r->pg, on_answered, r) == 0)
		r->refs++;
}

static void on_taken(void *arg, const char *err)
{
	struct pgrelay *r = arg;
	int again = r->take_again;

	r->taking = r->take_again = 0;
	if (err == NULL && r->ntaken > 0 && !r->dead && r->serve == NULL)
		give_back(r);
	for (size_t i = 0; i < r->ntaken; i++) {
		if (err == NULL && !r->dead && r->serve)
			r->serve(r->serve_arg, r->taken[i].id,
			         &r->taken[i].peer, r->taken[i].line);
		free(r->taken[i].line);
	}
	r->ntaken = 0;
	if (!r->dead && again)
		pgrelay_take(r);
	relay_unref(r);
}

void pgrelay_take(struct pgrelay *r)
{
	const char *params[] = {r->taker, r->unaddressed ? "t" : "f"};

	if (r->serve == NULL || !pgconn_up(r->pg))
		return;
	if (r->taking) {
		r->take_again = 1; /* a NOTIFY during a take: look again */
		return;
	}
	/* Now and then, the rows nobody read back. */
	if (r->takes++ % 3600 == 0)
		pgconn_query(r->pg, sweep_sql, 0, NULL, pgconn_ignore, NULL);
	if (pgconn_query(r->pg, take_sql, 2, params, on_taken_row, r) == 0 &&
	    pgconn_sync(r->pg, on_taken, r) == 0) {
		r->taking = 1;
		r->refs++;
	}
}

void pgrelay_answer(struct pgrelay *r, int64_t id, const char *reply)
{
	char id_s[24];
	const char *params[] = {id_s, reply};

	if (r->dead)
		return;
	snprintf(id_s, sizeof(id_s), "%" PRId64, id);
	/* Lost with the connection: the standby says "may have been done"
	 * after RELAY_ANSWER_MS. */
	if (pgconn_query(r->pg, answer_sql, 2, params, pgconn_ignore, NULL) ==
	            0 &&
	    pgconn_sync(r->pg, on_answered, r) == 0)
		r->refs++;
}
