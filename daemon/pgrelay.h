/*
 * Commands a standby cannot run, relayed to the working node through
 * PostgreSQL (doc/cluster.md): the standby inserts the request line into
 * smmd_request and says so with NOTIFY; the working node takes it (a row
 * lock, SKIP LOCKED), runs it as its own client would, and writes the
 * reply there once what it did is kept; the standby reads the reply back
 * and deletes the row, told by NOTIFY smmd_reply that it is there (and
 * looking now and then besides). A request nobody took within RELAY_TAKE_MS is
 * withdrawn by the standby in the same statement that reads replies, so
 * it is either taken or withdrawn, never both: not done, and said so.
 */
#ifndef SMMD_PGRELAY_H
#define SMMD_PGRELAY_H

#include <stdint.h>

#include "pgconn.h"

/* Who asked, as the standby's socket saw the peer. */
struct pgrelay_peer {
	long uid, gid;
	int readonly;
	int routed; /* named a channel: run where taken, sent on no further */
};

struct pgrelay;

/*
 * The reply line (newline included), or NULL and why: not done, or, when
 * maybe is 1, not known to be done or not.
 */
typedef void pgrelay_answer_fn(void *arg, const char *reply, const char *why,
                               int maybe);
/* A request to run, on the working node; answer it with pgrelay_answer. */
typedef void pgrelay_request_fn(void *arg, int64_t id,
                                const struct pgrelay_peer *, const char *line);

/* On pg, from loop; node_id is this node's. NULL when out of memory. */
struct pgrelay *pgrelay_new(uv_loop_t *, struct pgconn *pg,
                            const char *node_id);
/* Every request still waiting is answered: maybe done. */
void pgrelay_free(struct pgrelay *);

/*
 * The asking side: relay line to the working node, or, with channel, to
 * the node that fires channel (the working node if none does); fn is
 * called once, never from inside this call. 0, or -ENOMEM or -ENOTCONN
 * (PostgreSQL is not reachable now: not done) and fn is not called.
 */
int pgrelay_ask(struct pgrelay *, const struct pgrelay_peer *, const char *line,
                const char *channel, pgrelay_answer_fn *fn, void *arg);
/* Requests waiting for their reply (the loop has work in flight). */
int pgrelay_waiting(const struct pgrelay *);
/* A reply was written for node_id's requests (NOTIFY smmd_reply). */
void pgrelay_replied(struct pgrelay *, const char *node_id);

/*
 * The serving side: from now on, fn runs what taker is asked, the
 * requests naming a channel it owns (smmd_channel_owner, under taker's
 * id), and, if unaddressed (the working node), those naming none or a
 * channel no live node owns. 0 or -ENOMEM.
 */
int pgrelay_serve(struct pgrelay *, pgrelay_request_fn *fn, void *arg,
                  const char *taker, int unaddressed);
/* Take what is waiting (a NOTIFY said so, or the periodic look). */
void pgrelay_take(struct pgrelay *);
/* The reply to request id, what it did kept: the standby reads it. */
void pgrelay_answer(struct pgrelay *, int64_t id, const char *reply);

#endif
