/*
 * The channels' sealed tokens in PostgreSQL (smmd_token), so that they
 * follow a channel from node to node (doc/cluster.md, tokens): kept under
 * the lease, read whole at a working node's start, and one channel's
 * row read again when a node takes the channel over.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

#define TOKENS_TIMEOUT_MS 5000 /* reading channels' tokens at start */

/* A put or a get on its way: one statement's rows, then its sync. */
struct token_call {
	store_token_fn *row; /* a get's, for each row */
	store_token_done_fn *done;
	void *arg;
	int lease, kept; /* a put's answer: a lease held, the row written */
	int orphan; /* the sync was never queued: the statement's call frees */
};

/*
 * Queue sql, then the sync that ends it, on the writing connection. The
 * call is the statement's and the sync's from here on, failure or not.
 */
static int token_send(struct pgstore *ps, struct token_call *t, const char *sql,
                      int n, const char *const *params,
                      pgconn_result_fn *on_result, pgconn_done_fn *on_done)
{
	int rc;

	if ((rc = pgconn_query(ps->wr, sql, n, params, on_result, t)) < 0) {
		free(t);
		return rc;
	}
	/* A failed sync drops the connection; the statement hears of it
	 * later, from the loop. */
	if ((rc = pgconn_sync(ps->wr, on_done, t)) < 0) {
		t->orphan = 1;
		return rc;
	}
	pg_kick(ps);
	return 0;
}

/* The statement's call of a call whose sync was never queued: it goes. */
static int orphaned(struct token_call *t)
{
	if (!t->orphan)
		return 0;
	free(t);
	return 1;
}

static void on_token_kept(void *arg, const PGresult *res, const char *err)
{
	struct token_call *t = arg;

	(void)err;
	if (orphaned(t))
		return;
	if (res && PQntuples(res) == 1 && PQnfields(res) == 3) {
		t->lease = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
		t->kept = strcmp(PQgetvalue(res, 0, 1), "1") == 0;
	}
}

static void on_token_put(void *arg, const char *err)
{
	struct token_call *t = arg;

	/* No lease: a node that no longer works must not overwrite what its
	 * successor got. Another key: neither node can open the other's. */
	if (err)
		t->done(t->arg, -EIO, err);
	else if (!t->lease)
		t->done(t->arg, -ESTALE, "this node's lease ran out");
	else if (!t->kept)
		t->done(t->arg, -EKEYREJECTED,
		        "PostgreSQL holds them sealed under another "
		        "token_key_file");
	else
		t->done(t->arg, 0, NULL);
	free(t);
}

int pg_token_put(struct store_be *s, const char *channel, const char *sealed,
                 int64_t saved_ms, const char *key_id, int replace,
                 store_token_done_fn *done, void *arg)
{
	/*
	 * Under the lease smmd works under, with the margin its writes
	 * need, on the database's clock; the shared lock first, in a
	 * statement of its own, as a renewal takes it (lease.c): a rival's
	 * registration waits for this write, and the node it starts reads
	 * what it wrote. Over a row sealed under another key only for a
	 * person's authorization (replace): that is how a key is changed.
	 * Kept, the other nodes hear of it at the commit (NOTIFY
	 * smmd_token, "CHANNEL WRITER"): the one that fires the channel
	 * installs them, a person's smmctl auth included.
	 */
	static const char sql[] =
	        "WITH f AS (SELECT 1 FROM smmd_node WHERE node_id = $1 AND "
	        "epoch = $2 AND lease_until > clock_timestamp() + $7 * "
	        "interval '1 millisecond' FOR KEY SHARE), "
	        "u AS (INSERT INTO smmd_token (channel, sealed, saved_ms, "
	        "key_id, node_id, epoch) SELECT $3, $4, $5, $6, $1, $2 FROM f "
	        "ON CONFLICT (channel) DO UPDATE SET sealed = EXCLUDED.sealed, "
	        "saved_ms = EXCLUDED.saved_ms, key_id = EXCLUDED.key_id, "
	        "node_id = EXCLUDED.node_id, "
	        "epoch = EXCLUDED.epoch, at = clock_timestamp() "
	        "WHERE smmd_token.key_id = EXCLUDED.key_id OR $8 RETURNING 1), "
	        "n AS (SELECT pg_notify('smmd_token', $3 || ' ' || $1) FROM u) "
	        "SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM u), "
	        "(SELECT count(*) FROM n)";
	struct pgstore *ps = s->pg;
	char epoch[24], ms[24], margin[24];
	const char *params[] = {ps ? ps->writer_id : NULL,
	                        epoch,
	                        channel,
	                        sealed,
	                        ms,
	                        key_id,
	                        margin,
	                        replace ? "true" : "false"};
	struct token_call *t;
	int rc;

	if (ps == NULL || (ps->standby && !ps->worker) || ps->epoch == 0 ||
	    ps->wr == NULL)
		return -ENOTCONN;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->done = done;
	t->arg = arg;
	snprintf(epoch, sizeof(epoch), "%" PRId64, ps->epoch);
	snprintf(ms, sizeof(ms), "%" PRId64, saved_ms);
	snprintf(margin, sizeof(margin), "%d", MARGIN_MS);
	if ((rc = pgconn_query(
	             ps->wr,
	             "SELECT pg_advisory_xact_lock_shared(" LEASE_EXCLUSIVE_LOCK
	             ")",
	             0, NULL, pgconn_ignore, NULL)) < 0) {
		free(t);
		return rc;
	}
	return token_send(ps, t, sql, 8, params, on_token_kept, on_token_put);
}

static void on_tokens(void *arg, const PGresult *res, const char *err)
{
	struct pgstore *ps = arg;

	(void)err;
	if (ps->token_fn == NULL)
		return; /* its reader gave up waiting */
	for (int i = 0; res && PQnfields(res) == 4 && i < PQntuples(res); i++)
		ps->token_fn(ps->token_arg, PQgetvalue(res, i, 0),
		             PQgetvalue(res, i, 1),
		             strtoll(PQgetvalue(res, i, 2), NULL, 10),
		             PQgetvalue(res, i, 3));
}

static void on_tokens_read(void *arg, const char *err)
{
	struct pgstore *ps = arg;

	if (err) {
		snprintf(ps->why, sizeof(ps->why), "%s", err);
		ps->tokens_err = -EIO;
	}
	ps->tokens_read = 1;
}

/*
 * At a node's start as the working node: the loop is smmd's to wait, for
 * less than open's budget (systemd's watchdog is not fed yet).
 */
int pg_tokens_read(struct store_be *s, store_token_fn *fn, void *arg, char *why,
                   size_t len)
{
	static const char sql[] =
	        "SELECT channel, sealed, saved_ms, key_id FROM smmd_token";
	struct pgstore *ps = s->pg;
	uint64_t end = uv_hrtime() + (uint64_t)TOKENS_TIMEOUT_MS * 1000000;

	if (ps == NULL || ps->wr == NULL) {
		snprintf(why, len, "not connected");
		return -ENOTCONN;
	}
	ps->why[0] = '\0';
	ps->token_fn = fn;
	ps->token_arg = arg;
	ps->tokens_read = ps->tokens_err = 0;
	if (pgconn_query(ps->wr, sql, 0, NULL, on_tokens, ps) < 0 ||
	    pgconn_sync(ps->wr, on_tokens_read, ps) < 0)
		ps->tokens_err = -ENOTCONN;
	while (ps->tokens_err == 0 && !ps->tokens_read) {
		if (uv_hrtime() >= end)
			ps->tokens_err = -ETIMEDOUT;
		else
			uv_run(&ps->loop, UV_RUN_ONCE);
	}
	ps->token_fn = NULL;
	if (ps->tokens_err < 0)
		snprintf(why, len, "%s",
		         ps->why[0]                     ? ps->why
		         : ps->tokens_err == -ETIMEDOUT ? "no answer within 5 s"
		                                        : "not connected");
	return ps->tokens_err;
}

static void on_token_row(void *arg, const PGresult *res, const char *err)
{
	struct token_call *t = arg;

	(void)err;
	if (orphaned(t))
		return;
	for (int i = 0; res && PQnfields(res) == 4 && i < PQntuples(res); i++)
		t->row(t->arg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       strtoll(PQgetvalue(res, i, 2), NULL, 10),
		       PQgetvalue(res, i, 3));
}

static void on_token_got(void *arg, const char *err)
{
	struct token_call *t = arg;

	t->done(t->arg, err ? -EIO : 0, err);
	free(t);
}

/* A channel taken over, on the loop (pg_tokens_read's, for one). */
int pg_token_get(struct store_be *s, const char *channel, store_token_fn *row,
                 store_token_done_fn *done, void *arg)
{
	static const char sql[] = "SELECT channel, sealed, saved_ms, key_id "
	                          "FROM smmd_token WHERE channel = $1";
	struct pgstore *ps = s->pg;
	const char *params[] = {channel};
	struct token_call *t;

	if (ps == NULL || ps->wr == NULL)
		return -ENOTCONN;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	*t = (struct token_call){.row = row, .done = done, .arg = arg};
	return token_send(ps, t, sql, 1, params, on_token_row, on_token_got);
}
