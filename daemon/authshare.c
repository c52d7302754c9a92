/*
 * Tokens shared by the nodes of a cluster (token_key_file): the node that
 * works keeps each channel's tokens sealed in PostgreSQL (auth.c, before
 * it uses them), and a node that starts working takes from there what is
 * newer than its own files, so a take-over goes on with the chain the
 * node before it held: X's refresh token is of one use, and tokens a
 * person gave with `smmctl auth` were on that node only. A file newer
 * than PostgreSQL's (saved there, then the node stopped before it could
 * keep it) goes the other way, once the store has started under this
 * node's lease. Newer is by when the network gave them (saved_ms, which
 * the seal binds): the nodes' clocks agree within 2 s (lease.h), and
 * tokens got on two nodes are a take-over apart. A file from before
 * saved_ms is older than any row, and goes there only where PostgreSQL
 * holds none. Rows sealed under another key (key_id) are neither opened
 * nor overwritten: the nodes' token_key_file differ, and only a person
 * can say which (smmctl auth replaces them: auth.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "auth_impl.h"
#include "config.h"
#include "log.h"
#include "smmd.h"
#include "store.h"
#include "tokenfile.h"
#include "tokenseal.h"

/* What PostgreSQL held for one channel at the start. */
struct auth_held {
	char *channel;
	int64_t saved_ms;
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void auth_held_free(struct auth *a)
{
	for (size_t i = 0; i < a->nheld; i++)
		free(a->held[i].channel);
	free(a->held);
	a->held = NULL;
	a->nheld = a->capheld = 0;
	a->held_known = 0;
}

/* Note what PostgreSQL holds for channel; 0, or -1 out of memory. */
static int note_held(struct auth *a, const char *channel, int64_t saved_ms)
{
	struct auth_held *v;

	if (a->nheld == a->capheld) {
		size_t cap = a->capheld ? a->capheld * 2 : 8;

		if ((v = realloc(a->held, cap * sizeof(*v))) == NULL)
			return -1;
		a->held = v;
		a->capheld = cap;
	}
	if ((a->held[a->nheld].channel = strdup(channel)) == NULL)
		return -1;
	a->held[a->nheld++].saved_ms = saved_ms;
	return 0;
}

/*
 * When this node's file of a channel got its tokens (saved_ms); -1 when
 * there is none or it does not say, unless legacy: then its time of
 * change stands in (a file from before saved_ms).
 */
static int64_t file_saved_ms(const char *path, struct auth_tokens *t,
                             int legacy)
{
	char err[256];
	int64_t ms = -1;
	struct stat st;

	if (tokenfile_read(path, t, &ms, err, sizeof(err)) < 0)
		return -1;
	if (ms < 0 && legacy && stat(path, &st) == 0)
		ms = (int64_t)st.st_mtim.tv_sec * 1000 +
		     st.st_mtim.tv_nsec / 1000000;
	return ms;
}

/* One row of smmd_token: installed in this node's file when newer. */
static void install_newer(struct smmd *d, const char *channel,
                          const char *sealed, int64_t saved_ms,
                          const char *key_id)
{
	struct auth *a = d->auth;
	const struct channel *ch = config_channel(d->cfg, channel);
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1},
	                   mine = t;
	char path[PATH_MAX], err[256], *text;
	int r;

	if (ch == NULL || auth_ops_of(ch) == NULL ||
	    tokenfile_path(d->cfg->state_dir, channel, path, sizeof(path)) < 0)
		return; /* a channel gone, or no longer using tokens */
	if (strcmp(key_id, a->key_id) != 0) {
		log_error("auth: channel '%s': its tokens in PostgreSQL are "
		          "sealed under another token_key_file (is it the same "
		          "on every node?); this node's own are used",
		          channel);
		return;
	}
	if ((text = tokenseal_open(a->key, channel, saved_ms, sealed)) ==
	    NULL) {
		log_error("auth: channel '%s': its tokens in PostgreSQL do not "
		          "open (changed in the database?); this node's own "
		          "are used",
		          channel);
		return;
	}
	if (tokenfile_decode(text, "PostgreSQL's tokens", &t, NULL, err,
	                     sizeof(err)) < 0)
		log_error("auth: channel '%s': %s; this node's own are used",
		          channel, err);
	else if (saved_ms <= file_saved_ms(path, &mine, 0))
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

/* At the start: each row, noted (give_newer) and installed when newer. */
static void take_newer(void *arg, const char *channel, const char *sealed,
                       int64_t saved_ms, const char *key_id)
{
	struct smmd *d = arg;

	if (note_held(d->auth, channel, saved_ms) < 0)
		d->auth->held_known = -1; /* not knowing, nothing may go back */
	install_newer(d, channel, sealed, saved_ms, key_id);
}

/* A channel taken over: its row, read on the loop (auth_taken). */
struct taken {
	struct smmd *d;
	char *channel;
};

static void taken_row(void *arg, const char *channel, const char *sealed,
                      int64_t saved_ms, const char *key_id)
{
	struct taken *t = arg;

	install_newer(t->d, channel, sealed, saved_ms, key_id);
}

static void taken_read(void *arg, int err, const char *why)
{
	struct taken *t = arg;

	if (err < 0)
		log_error("auth: channel '%s': cannot read its tokens from "
		          "PostgreSQL: %s; this node's own are used",
		          t->channel, why ? why : strerror(-err));
	auth_slot_reread(t->d, t->channel);
	free(t->channel);
	free(t);
}

/* A read its slot was busy for (renewing, saving): again a little
 * later, for at most AGAIN_TRIES, so a NOTIFY is not lost to it. */
#define AGAIN_MS    250
#define AGAIN_TRIES 40
struct again {
	uv_timer_t timer;
	struct smmd *d;
	char *channel;
	int tries;
};

static void again_closed(uv_handle_t *h)
{
	struct again *g = h->data;

	free(g->channel);
	free(g);
}

static void read_again(struct smmd *d, const char *channel, int tries);

static void on_again(uv_timer_t *t)
{
	struct again *g = t->data;

	if (!g->d->stopping && g->d->auth)
		read_again(g->d, g->channel, g->tries);
	uv_close((uv_handle_t *)t, again_closed);
}

static void read_later(struct smmd *d, const char *channel, int tries)
{
	struct again *g;

	if (tries >= AGAIN_TRIES || d->stopping ||
	    (g = calloc(1, sizeof(*g))) == NULL)
		return; /* its next take reads it */
	if ((g->channel = strdup(channel)) == NULL) {
		free(g);
		return;
	}
	g->d = d;
	g->tries = tries + 1;
	g->timer.data = g;
	uv_timer_init(d->loop, &g->timer);
	uv_timer_start(&g->timer, on_again, AGAIN_MS, 0);
}

void auth_taken(struct smmd *d, const char *channel)
{
	read_again(d, channel, 0);
}

static void read_again(struct smmd *d, const char *channel, int tries)
{
	struct auth *a = d->auth;
	const struct channel *ch = config_channel(d->cfg, channel);
	struct taken *t;
	int r;

	if (a == NULL || !a->shared || auth_ops_of(ch) == NULL)
		return;
	if (auth_slot_reading(d, channel) < 0) {
		read_later(d, channel, tries);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->channel = strdup(channel)) == NULL) {
		free(t);
		auth_slot_reread(d, channel);
		return;
	}
	t->d = d;
	if ((r = store_token_get(d->store, channel, taken_row, taken_read, t)) <
	    0)
		taken_read(t, r, NULL);
}

/* A newer file's put: only a failure is worth a word. */
static void kept(void *arg, int err, const char *why)
{
	char *channel = arg;

	if (err < 0)
		log_error("auth: channel '%s': its tokens, newer on this node, "
		          "could not be kept in PostgreSQL: %s",
		          channel, why);
	free(channel);
}

/* A file newer than what PostgreSQL holds (or it holds none) goes there. */
static void give_newer(struct smmd *d, const struct channel *ch)
{
	struct auth *a = d->auth;
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1};
	char path[PATH_MAX], *text = NULL, *sealed = NULL, *name;
	int64_t mine, theirs = -1;
	int r;

	for (size_t i = 0; i < a->nheld; i++)
		if (strcmp(a->held[i].channel, ch->name) == 0)
			theirs = a->held[i].saved_ms;
	if (tokenfile_path(d->cfg->state_dir, ch->name, path, sizeof(path)) <
	            0 ||
	    (mine = file_saved_ms(path, &t, theirs < 0)) < 0 || mine <= theirs)
		goto out;
	if ((text = tokenfile_encode(&t, mine)) == NULL ||
	    (sealed = tokenseal_seal(a->key, ch->name, mine, text)) == NULL ||
	    (name = strdup(ch->name)) == NULL) {
		log_error("auth: channel '%s': out of memory", ch->name);
		goto out;
	}
	if ((r = store_token_put(d->store, ch->name, sealed, mine, a->key_id, 0,
	                         kept, name)) < 0)
		kept(name, r, strerror(-r));
out:
	wipe_free(text);
	free(sealed);
	auth_tokens_clear(&t);
}

void auth_share_at_start(struct smmd *d)
{
	struct auth *a = d->auth;
	char why[256];
	int r;

	if (!a->shared) {
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
	if ((r = store_tokens_read(d->store, take_newer, d, why, sizeof(why))) <
	    0)
		log_error("auth: cannot read the channels' tokens from "
		          "PostgreSQL: %s; this node's own are used",
		          why);
	else if (a->held_known == 0)
		a->held_known = 1;
}

int auth_key_changed(const struct smmd *d, const struct config *cfg)
{
	const struct auth *a = d->auth;
	int shared = a != NULL && a->shared;

	return cfg->has_token_key != shared ||
	       (shared && memcmp(cfg->token_key, a->key, sizeof(a->key)) != 0);
}

void auth_share_after_start(struct smmd *d)
{
	struct auth *a = d->auth;

	/* Not knowing what PostgreSQL holds, nothing may overwrite it. */
	if (a != NULL && a->shared && a->held_known == 1)
		for (size_t i = 0; i < d->cfg->nchannels; i++)
			if (auth_ops_of(&d->cfg->channels[i]))
				give_newer(d, &d->cfg->channels[i]);
	if (a != NULL)
		auth_held_free(a);
}
