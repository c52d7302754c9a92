/*
 * The channels a node owns (lease.h, claims; doc/cluster.md). Each row of
 * smmd_channel_owner names the node and epoch that fires the channel. A
 * round, sent after a beat's renewal, reaps dead nodes as reap_sql does,
 * deletes the rows the node lets go, and takes free channels: those with
 * no row, or whose owner's lease ran out or was registered again.
 *
 * Why a channel never has two live owners:
 * - Rounds take turns (an advisory lock, in a statement before the
 *   round's, so its snapshot is taken once the lock is granted): a round
 *   sees every row an earlier round wrote, and the registration of every
 *   node that wrote one.
 * - An owner is dead only if its row is locked by this round with its
 *   lease run out (FOR UPDATE SKIP LOCKED re-reads the row; a renewal in
 *   flight holds it, so its node counts as alive), or is gone. Its node
 *   stopped trusting its lease before the database let it go (lease.c).
 * - A node lets a channel go only after it stopped firing it
 *   (may_release, then lease_owns says 0 at once), before the round that
 *   deletes its row.
 *
 * Shares (each node lists its channels in smmd_node.channels; its share
 * is its channels over the live nodes that claim, rounded up). A round
 * takes:
 * - every channel a dead node owned: the first survivor to look takes
 *   them at once;
 * - every free channel no node with fewer channels lists (ties by
 *   node_id) and no node that lists it has room for (owns fewer than
 *   its share), so a channel only some nodes list is still taken, and
 *   one another node will take is left to it;
 * - free channels up to its share, whatever others hold.
 * A round also deletes the rows of dead owners whose channel no live
 * node lists (dropped from every node's configuration): nobody would
 * ever take them.
 * A node past its share lets go of a quiet channel only where another
 * node that lists it owns at least two fewer, half the gap at a time:
 * that node then comes before it, so what one lets go the other never
 * gives back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lease_impl.h"

/* The claim rounds' turn, apart from the exclusive lease's. */
#define CLAIM_LOCK "7301637432012345604"

static const char claim_lock_sql[] =
        "SELECT pg_advisory_xact_lock(" CLAIM_LOCK ")";
/*
 * $1 node, $2 epoch, $3 this node's channels and $4 those it lets go,
 * each a line (channel names hold no line break: config.c). Rows out:
 * ('o', channel, the fewest channels another live node that lists it
 * owns, or -1, the claim's fence) owned now, ('d', node, epoch) reaped,
 * ('s', share) and ('f', how many of its channels are free and not
 * taken by it). Each take draws the claim's fence from the epochs'
 * sequence (migration 11), so it rises with each owner of a channel.
 */
static const char claim_sql[] =
        "WITH dead AS (DELETE FROM smmd_node WHERE node_id IN (SELECT "
        "node_id FROM smmd_node WHERE lease_until < clock_timestamp() "
        "FOR UPDATE SKIP LOCKED) RETURNING node_id, epoch), me AS "
        "(UPDATE smmd_node SET channels = $3, claims = true WHERE "
        "node_id = $1 AND epoch = $2 AND lease_until > clock_timestamp() "
        "RETURNING 1), "
        "gone AS (SELECT unnest(string_to_array($4, E'\\n')) AS c), rel "
        "AS (DELETE FROM smmd_channel_owner WHERE node_id = $1 AND "
        "epoch = $2 AND channel IN (SELECT c FROM gone)), held AS "
        "(SELECT channel, fence FROM smmd_channel_owner WHERE node_id = "
        "$1 AND epoch = $2 AND channel NOT IN (SELECT c FROM gone) AND "
        "EXISTS (SELECT 1 FROM me)), mine AS (SELECT count(*) AS k FROM held "
        "WHERE channel = ANY (string_to_array($3, E'\\n'))), "
        "peers AS (SELECT n.node_id, string_to_array(n.channels, "
        "E'\\n') AS list, count(o.channel) AS k FROM smmd_node n LEFT "
        "JOIN smmd_channel_owner o ON o.node_id = n.node_id AND o.epoch "
        "= n.epoch WHERE n.lease_until > clock_timestamp() AND n.claims "
        "AND n.node_id <> $1 GROUP BY n.node_id, n.channels), junk AS "
        "(DELETE FROM smmd_channel_owner o WHERE NOT EXISTS (SELECT 1 "
        "FROM smmd_node n WHERE n.node_id = o.node_id AND n.epoch = "
        "o.epoch AND (n.node_id, n.epoch) NOT IN (SELECT node_id, epoch "
        "FROM dead)) AND o.channel <> ALL (string_to_array($3, "
        "E'\\n')) AND NOT EXISTS (SELECT 1 FROM peers p WHERE o.channel "
        "= ANY (p.list))), share AS "
        "(SELECT (cardinality(string_to_array($3, E'\\n')) + count(*)) "
        "/ (count(*) + 1) AS s, count(*) AS n FROM peers), free AS "
        "(SELECT c, EXISTS (SELECT 1 FROM smmd_channel_owner o WHERE "
        "o.channel = c) AS orphan, NOT EXISTS (SELECT 1 FROM peers p "
        "WHERE c = ANY (p.list) AND (p.k < (cardinality(p.list) + (SELECT "
        "n FROM share)) / ((SELECT n FROM share) + 1) OR (p.k, p.node_id) "
        "< ((SELECT k FROM mine), $1))) AS first FROM "
        "unnest(string_to_array($3, E'\\n')) AS c WHERE c "
        "NOT IN (SELECT c FROM gone) AND c NOT IN (SELECT channel FROM "
        "held) AND NOT EXISTS (SELECT 1 FROM smmd_channel_owner o JOIN "
        "smmd_node n ON n.node_id = o.node_id AND n.epoch = o.epoch "
        "WHERE o.channel = c AND (n.node_id, n.epoch) NOT IN (SELECT "
        "node_id, epoch FROM dead))), pick AS (SELECT c FROM free WHERE "
        "orphan OR first UNION (SELECT c FROM free WHERE NOT orphan "
        "ORDER BY c LIMIT greatest(0, (SELECT s FROM share) - (SELECT k "
        "FROM mine) - (SELECT count(*) FROM free WHERE orphan OR "
        "first)))), took "
        "AS (INSERT INTO smmd_channel_owner (channel, node_id, epoch, "
        "fence) SELECT c, $1, $2, nextval('smmd_epoch_seq') FROM pick "
        "WHERE EXISTS (SELECT 1 FROM me) ON CONFLICT (channel) DO UPDATE "
        "SET node_id = excluded.node_id, epoch = excluded.epoch, fence = "
        "excluded.fence, since = clock_timestamp() RETURNING channel, "
        "fence), owned AS (SELECT channel, fence FROM held UNION ALL "
        "SELECT channel, fence FROM took) SELECT 'o', channel, "
        "coalesce((SELECT min(p.k) FROM peers p WHERE channel = ANY "
        "(p.list)), -1), fence FROM owned UNION ALL SELECT 'd', node_id, "
        "epoch, NULL FROM dead UNION ALL SELECT 's', NULL, s, NULL FROM "
        "share UNION ALL SELECT 'f', NULL, (SELECT count(*) FROM free) - "
        "(SELECT count(*) FROM took), NULL";

void names_clear(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->num);
	free(s->fence);
	memset(s, 0, sizeof(*s));
}

/* Where name is in s, or -1. */
static long names_find(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return (long)i;
	return -1;
}

int names_has(const struct names *s, const char *name)
{
	return names_find(s, name) >= 0;
}

/* 0, or -ENOMEM (s unchanged). */
static int names_add(struct names *s, const char *name, int64_t num)
{
	char *copy;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		char **v = realloc(s->v, cap * sizeof(*v));
		int64_t *nv;

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		if ((nv = realloc(s->num, cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		s->num = nv;
		if ((nv = realloc(s->fence, cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		s->fence = nv;
		s->cap = cap;
	}
	if ((copy = strdup(name)) == NULL)
		return -ENOMEM;
	s->num[s->n] = num;
	s->fence[s->n] = 0;
	s->v[s->n++] = copy;
	return 0;
}

static void names_drop(struct names *s, size_t i)
{
	free(s->v[i]);
	s->n--;
	s->v[i] = s->v[s->n];
	s->num[i] = s->num[s->n];
	s->fence[i] = s->fence[s->n];
}

/* Move entry i of from to the end of to; 0 or -ENOMEM (nothing moved). */
static int names_move(struct names *from, size_t i, struct names *to)
{
	if (names_add(to, from->v[i], from->num[i]) < 0)
		return -ENOMEM;
	to->fence[to->n - 1] = from->fence[i];
	names_drop(from, i);
	return 0;
}

static void names_remove(struct names *s, const char *name)
{
	long i = names_find(s, name);

	if (i >= 0)
		names_drop(s, (size_t)i);
}

/* The names one to a line; malloc'd, NULL when out of memory. */
static char *names_lines(const struct names *s)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + 1;
	if ((p = out = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", s->v[i]);
	*p = '\0';
	return out;
}

static int same_names(const struct names *a, const struct names *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!names_has(b, a->v[i]))
			return 0;
	return 1;
}

char *claims_lines(const struct lease *l)
{
	return names_lines(&l->channels);
}

int claims_set(struct lease *l, const char *const *channels)
{
	struct names next = {0};

	for (size_t i = 0; channels[i]; i++)
		if (!names_has(&next, channels[i]) &&
		    names_add(&next, channels[i], 0) < 0) {
			names_clear(&next);
			return -ENOMEM;
		}
	names_clear(&l->channels);
	l->channels = next;
	l->claiming = 1;
	l->claim_soon = 1;
	return 0;
}

int claims_due(const struct lease *l)
{
	if (!l->claiming || l->epoch == 0)
		return 0;
	return l->claim_soon || l->claim_now || l->releasing.n > 0 ||
	       uv_hrtime() - l->claimed_ns >=
	               (uint64_t)l->o.claim_every_ms * 1000000;
}

static void told(struct lease *l)
{
	if (l->o.on_claims && !l->dead)
		l->o.on_claims(l->o.arg);
}

/* Whether it owns a channel no longer its own (kept while busy). */
static int any_unlisted(const struct lease *l)
{
	for (size_t i = 0; i < l->owned.n; i++)
		if (!names_has(&l->channels, l->owned.v[i]))
			return 1;
	return 0;
}

/* Whether the node may stop firing ch now (lease_opts.may_release). */
static int may_go(struct lease *l, const char *ch)
{
	return l->o.may_release == NULL || l->o.may_release(l->o.arg, ch);
}

void claims_let_go(struct lease *l)
{
	size_t listed = 0, gone = 0;
	int changed = 0;

	/* Its share is of its own channels: one kept while busy after a
	 * reload dropped it does not count. */
	for (size_t i = 0; i < l->owned.n; i++)
		listed += names_has(&l->channels, l->owned.v[i]);
	for (size_t i = l->owned.n; i-- > 0;) {
		const char *ch = l->owned.v[i];
		int64_t other = l->owned.num[i], have = (int64_t)listed;
		int mine = names_has(&l->channels, ch);
		int even_out = l->share > 0 &&
		               (int64_t)(listed - gone) > l->share &&
		               other >= 0 && other + 2 <= have &&
		               (int64_t)gone < (have - other) / 2;

		/* Past its share, or no longer its own: once quiet. */
		if ((mine && !even_out) || !may_go(l, ch))
			continue;
		if (names_move(&l->owned, i, &l->releasing) == 0) {
			changed = 1;
			gone += mine;
		}
	}
	l->unlisted = any_unlisted(l);
	if (changed)
		told(l);
}

static void on_claim(void *arg, const PGresult *res, const char *err)
{
	struct beat *b = arg;

	(void)err;
	for (int i = 0; res && i < PQntuples(res); i++) {
		const char *kind = PQgetvalue(res, i, 0);
		const char *name = PQgetvalue(res, i, 1);
		int64_t num = strtoll(PQgetvalue(res, i, 2), NULL, 10);

		if (kind[0] == 'o' && names_add(&b->got, name, num) < 0)
			b->share = -1; /* not all known: believe none of it */
		else if (kind[0] == 'o')
			b->got.fence[b->got.n - 1] =
			        strtoll(PQgetvalue(res, i, 3), NULL, 10);
		else if (kind[0] == 'd')
			lease_note_reaped(b, name, num);
		else if (kind[0] == 's' && b->share >= 0)
			b->share = num;
		else if (kind[0] == 'f')
			b->free_left = num;
	}
	if (res == NULL)
		b->share = -1;
	lease_beat_unref(b);
}

int claims_queue(struct lease *l, struct beat *b)
{
	char epoch[24], *mine, *gone = NULL;
	const char *params[4];
	int r = 1;

	/* Everything that may fail for want of memory, before any query. */
	if ((mine = names_lines(&l->channels)) == NULL ||
	    (gone = names_lines(&l->releasing)) == NULL)
		goto out;
	for (size_t i = 0; i < l->releasing.n; i++)
		if (names_add(&b->released, l->releasing.v[i], 0) < 0)
			goto out;
	snprintf(epoch, sizeof(epoch), "%lld", (long long)l->epoch);
	params[0] = l->node_id;
	params[1] = epoch;
	params[2] = mine;
	params[3] = gone;
	r = -1;
	if (pgconn_query(l->pg, claim_lock_sql, 0, NULL, pgconn_ignore, NULL) <
	    0)
		goto out;
	if (lease_beat_item(b, pgconn_query(l->pg, claim_sql, 4, params,
	                                    on_claim, b)) < 0) {
		/* The lock alone would join the next group. */
		pgconn_reset(l->pg, "a claim round could not be queued");
		goto out;
	}
	b->claims = 1;
	b->claim_epoch = l->epoch;
	l->claim_soon = l->claim_now = 0;
	l->claimed_ns = uv_hrtime();
	r = 0;
out:
	if (r != 0)
		names_clear(&b->released);
	free(mine);
	free(gone);
	return r;
}

void claims_done(struct lease *l, struct beat *b, const char *err)
{
	int changed;

	if (err || b->share < 0 || b->claim_epoch != l->epoch) {
		l->claim_soon = 1;
		return;
	}
	/* What it let go is gone from the table. */
	for (size_t i = 0; i < b->released.n; i++)
		names_remove(&l->releasing, b->released.v[i]);
	/*
	 * A channel let go since the round was sent stays let go; one no
	 * longer the node's (a reload meanwhile) is let go once quiet, as
	 * claims_let_go does with those it owned before (unlisted).
	 */
	for (size_t i = b->got.n; i-- > 0;)
		if (names_has(&l->releasing, b->got.v[i]))
			names_drop(&b->got, i);
	/*
	 * What it let go now, and what is free and left to others, the
	 * nodes that own fewer take at their next rounds, after this one
	 * counted them: count it as theirs already, or the next round would
	 * let go again of what it keeps.
	 */
	for (size_t i = 0; i < b->got.n; i++)
		if (b->got.num[i] >= 0)
			b->got.num[i] += (int64_t)b->released.n + b->free_left;
	changed = l->owned_epoch != b->claim_epoch ||
	          !same_names(&l->owned, &b->got);
	names_clear(&l->owned);
	l->owned = b->got;
	memset(&b->got, 0, sizeof(b->got));
	l->owned_epoch = b->claim_epoch;
	l->unlisted = any_unlisted(l);
	l->share = b->share;
	l->claim_soon = l->releasing.n > 0;
	if (changed)
		told(l);
}

void claims_lost(struct lease *l)
{
	int had = l->owned.n > 0;

	/* Rows under the old epoch are free once its lease ran out. */
	names_clear(&l->owned);
	names_clear(&l->releasing);
	l->owned_epoch = 0;
	l->claim_soon = 1;
	if (had)
		told(l);
}

void claims_free(struct lease *l)
{
	names_clear(&l->channels);
	names_clear(&l->owned);
	names_clear(&l->releasing);
}

void claims_beat_free(struct beat *b)
{
	names_clear(&b->released);
	names_clear(&b->got);
}

int lease_holds(const struct lease *l, const char *channel)
{
	return l->owned_epoch == l->epoch && names_has(&l->owned, channel);
}

int64_t lease_fence(const struct lease *l, const char *channel)
{
	long i = names_find(&l->owned, channel);

	return i >= 0 && l->owned_epoch == l->epoch ? l->owned.fence[i] : 0;
}

int lease_claimed(const struct lease *l)
{
	return l->owned_epoch != 0;
}

int lease_owns(const struct lease *l, const char *channel)
{
	return lease_live(l) && lease_holds(l, channel);
}

const char *const *lease_owned(const struct lease *l, size_t *n)
{
	*n = l->owned_epoch == l->epoch ? l->owned.n : 0;
	return (const char *const *)l->owned.v;
}

int lease_set_channels(struct lease *l, const char *const *channels)
{
	int r = claims_set(l, channels);

	/* Those no longer the node's go once quiet; the round deletes
	 * them, and takes the new ones, without waiting for a beat. */
	if (r == 0) {
		claims_let_go(l);
		if (!l->dead)
			lease_claim_now(l);
	}
	return r;
}
