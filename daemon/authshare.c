/*
 * Tokens shared by the nodes of a cluster (token_key_file): the node that
 * works keeps each channel's tokens sealed in PostgreSQL (auth.c, before
 * it uses them), and a node that starts working takes from there what is
 * newer than its own files, so a take-over goes on with the chain the
 * node before it held: X's refresh token is of one use, and tokens a
 * person gave with `smmctl auth` were on that node only. A file newer
 * than PostgreSQL's (saved there, then the node stopped before it could
 * keep it) goes the other way. Newer is by the time each save took,
 * which the seal binds: the nodes' clocks agree within 2 s (lease.h),
 * and saves on two nodes are a take-over apart.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "auth_impl.h"
#include "config.h"
#include "log.h"
#include "smmd.h"
#include "store.h"
#include "tokenfile.h"
#include "tokenseal.h"

/* What PostgreSQL held for one channel. */
struct held {
	char *channel;
	int64_t saved_ms;
};

struct reading {
	struct smmd *d;
	struct held *v;
	size_t n, cap;
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* This node's file of channel: when it was saved (-1: not said, -2: no
 * file or not readable). */
static int64_t file_saved_ms(const char *path, struct auth_tokens *t)
{
	char err[256];
	int64_t ms = -1;

	if (tokenfile_read(path, t, &ms, err, sizeof(err)) < 0)
		return -2;
	return ms;
}

static void take_newer(void *arg, const char *channel, const char *sealed,
                       int64_t saved_ms)
{
	struct reading *rd = arg;
	struct smmd *d = rd->d;
	const struct channel *ch = config_channel(d->cfg, channel);
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1},
	                   mine = t;
	char path[PATH_MAX], err[256], *text;
	struct held *v;
	int r;

	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 8;

		if ((v = realloc(rd->v, cap * sizeof(*v))) == NULL)
			return;
		rd->v = v;
		rd->cap = cap;
	}
	if ((rd->v[rd->n].channel = strdup(channel)) == NULL)
		return;
	rd->v[rd->n++].saved_ms = saved_ms;
	if (ch == NULL || auth_ops_of(ch) == NULL ||
	    tokenfile_path(d->cfg->state_dir, channel, path, sizeof(path)) < 0)
		return; /* a channel gone, or no longer using tokens */
	if ((text = tokenseal_open(d->cfg->token_key, channel, saved_ms,
	                           sealed)) == NULL) {
		log_error(
		        "auth: channel '%s': its tokens in PostgreSQL do not "
		        "open with this node's token_key_file (is it the same "
		        "on every node?); this node's own are used",
		        channel);
		return;
	}
	if (tokenfile_decode(text, "PostgreSQL's tokens", &t, NULL, err,
	                     sizeof(err)) < 0)
		log_error("auth: channel '%s': %s; this node's own are used",
		          channel, err);
	else if (saved_ms <= file_saved_ms(path, &mine))
		; /* this node's are as new */
	else if ((r = tokenfile_write(path, text)) < 0)
		log_error("auth: channel '%s': cannot save the tokens "
		          "PostgreSQL holds in %s: %s",
		          channel, path, strerror(-r));
	else
		log_info("auth: channel '%s': tokens taken from PostgreSQL "
		         "(newer than this node's)",
		         channel);
	wipe_free(text);
	auth_tokens_clear(&t);
	auth_tokens_clear(&mine);
}

static void kept(void *arg, int err)
{
	char *channel = arg;

	if (err < 0)
		log_error("auth: channel '%s': its tokens, newer on this node, "
		          "could not be kept in PostgreSQL: %s",
		          channel, strerror(-err));
	free(channel);
}

/* A file newer than what PostgreSQL holds (or it holds none) goes there. */
static void give_newer(struct smmd *d, const struct reading *rd,
                       const struct channel *ch)
{
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1};
	char path[PATH_MAX], *text = NULL, *sealed = NULL, *name;
	int64_t mine, theirs = -1;
	int r;

	for (size_t i = 0; i < rd->n; i++)
		if (strcmp(rd->v[i].channel, ch->name) == 0)
			theirs = rd->v[i].saved_ms;
	if (tokenfile_path(d->cfg->state_dir, ch->name, path, sizeof(path)) <
	            0 ||
	    (mine = file_saved_ms(path, &t)) < 0 || mine <= theirs)
		goto out;
	if ((text = tokenfile_encode(&t, mine)) == NULL ||
	    (sealed = tokenseal_seal(d->cfg->token_key, ch->name, mine,
	                             text)) == NULL ||
	    (name = strdup(ch->name)) == NULL) {
		log_error("auth: channel '%s': out of memory", ch->name);
		goto out;
	}
	if ((r = store_token_put(d->store, ch->name, sealed, mine, kept,
	                         name)) < 0)
		kept(name, r);
out:
	wipe_free(text);
	free(sealed);
	auth_tokens_clear(&t);
}

void auth_share_at_start(struct smmd *d)
{
	struct reading rd = {.d = d};
	int r;

	if (!d->cfg->has_token_key) {
		for (size_t i = 0; d->cfg->store_url && i < d->cfg->nchannels;
		     i++) {
			const struct auth_ops *o =
			        auth_ops_of(&d->cfg->channels[i]);

			/* A login needs nothing this node alone holds. */
			if (o && o->login_request == NULL) {
				log_warnx("auth: no token_key_file: channels' "
				          "tokens stay in this node's "
				          "state_dir, and a node that takes "
				          "over does not have them");
				break;
			}
		}
		return;
	}
	if ((r = store_tokens_read(d->store, take_newer, &rd)) < 0)
		log_error("auth: cannot read the channels' tokens from "
		          "PostgreSQL: %s; this node's own are used",
		          strerror(-r));
	else
		for (size_t i = 0; i < d->cfg->nchannels; i++)
			if (auth_ops_of(&d->cfg->channels[i]))
				give_newer(d, &rd, &d->cfg->channels[i]);
	for (size_t i = 0; i < rd.n; i++)
		free(rd.v[i].channel);
	free(rd.v);
}
