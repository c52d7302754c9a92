#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "smm/protocol.h"

#include "auth.h"
#include "auth_impl.h"
#include "backoff.h"
#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "engage.h"
#include "http.h"
#include "log.h"
#include "outage.h"
#include "pause.h"
#include "pkce.h"
#include "publishers/publisher.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "tokenfile.h"
#include "tokenseal.h"
#include "wallclock.h"

struct auth *auth_new(void)
{
	return calloc(1, sizeof(struct auth));
}

static void waiting_flush(struct smmd *d, struct auth_slot *s)
{
	int64_t now = wallclock_now_ms();

	/* Each goes back to the dispatcher, which asks the gates again. */
	for (size_t i = 0; i < s->nwaiting; i++) {
		if (dispatch_schedule(d, s->waiting[i], now) < 0)
			log_error("auth: delivery '%s' not queued again (out "
			          "of memory); it runs after a restart",
			          s->waiting[i]);
		free(s->waiting[i]);
	}
	s->nwaiting = 0;
}

static void slot_free(struct auth_slot *s)
{
	for (size_t i = 0; i < s->nwaiting; i++)
		free(s->waiting[i]);
	free(s->waiting);
	auth_tokens_clear(&s->tok);
	auth_tokens_clear(&s->fresh);
	explicit_bzero(s->verifier, sizeof(s->verifier));
	free(s->channel);
	free(s);
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		slot_free(a->v[i]);
	free(a->v);
	free(a->save_text);
	free(a->state_dir);
	auth_held_free(a);
	explicit_bzero(a->key, sizeof(a->key));
	free(a);
}

static struct auth_slot *slot_find(struct auth *a, const char *channel)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i]->channel, channel) == 0)
			return a->v[i];
	return NULL;
}

/*
 * ch's slot, made (with its tokens read from disk) the first time. NULL
 * without memory, or before auth_start: a node not working yet (and the
 * control fuzzer's) has no tokens to show.
 */
struct auth_slot *auth_slot_of(struct smmd *d, const struct channel *ch)
{
	struct auth *a = d->auth;
	struct auth_slot *s, **v;
	char path[PATH_MAX], err[512];
	int r;

	if (a == NULL || a->state_dir == NULL)
		return NULL;
	if ((s = slot_find(a, ch->name)) != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->channel = strdup(ch->name)) == NULL ||
	    (v = realloc(a->v, (a->n + 1) * sizeof(*v))) == NULL) {
		if (s)
			free(s->channel);
		free(s);
		return NULL;
	}
	a->v = v;
	a->v[a->n++] = s;
	auth_tokens_clear(&s->tok);
	auth_tokens_clear(&s->fresh);
	s->who_uid = -1;
	if (tokenfile_path(a->state_dir, ch->name, path, sizeof(path)) < 0)
		return s;
	if ((r = tokenfile_read(path, &s->tok, NULL, err, sizeof(err))) ==
	    -EINVAL)
		log_error("auth: channel '%s': %s; ignoring it", ch->name, err);
	else if (r < 0 && r != -ENOENT)
		log_error("auth: channel '%s': cannot read %s: %s", ch->name,
		          path, strerror(-r));
	return s;
}

int auth_has_tokens(const struct auth_slot *s)
{
	return s->tok.access != NULL || s->tok.refresh != NULL;
}

/* Point ch at its slot's tokens (none yet: the driver's token_file). */
static void attach(struct auth_slot *s, struct channel *ch)
{
	ch->tokens = auth_has_tokens(s) ? &s->tok : NULL;
}

struct channel *auth_channel_of(struct smmd *d, const struct auth_slot *s)
{
	return (struct channel *)config_channel(d->cfg, s->channel);
}

const struct auth_ops *auth_ops_of(const struct channel *ch)
{
	const struct auth_ops *o = ch && ch->pub ? ch->pub->auth : NULL;

	return o && (o->used == NULL || o->used(ch)) ? o : NULL;
}

static int can_refresh(const struct auth_slot *s, const struct channel *ch)
{
	const struct auth_ops *o = auth_ops_of(ch);

	return o && o->refresh_request && auth_has_tokens(s) &&
	       !s->refresh_refused;
}

static int can_renew(const struct auth_slot *s, const struct channel *ch)
{
	const struct auth_ops *o = auth_ops_of(ch);

	return can_refresh(s, ch) || (o && o->login_request);
}

static int64_t ahead_of(const struct channel *ch)
{
	const struct auth_ops *o = auth_ops_of(ch);

	return o && o->refresh_ahead_ms > 0 ? o->refresh_ahead_ms
	                                    : AUTH_AHEAD_DEFAULT_MS;
}

/*
 * When the token is renewed ahead of its expiry. A network that hands out
 * tokens shorter-lived than the margin would be asked again at once, and
 * again: after three such renewals in a row, at most once a minute.
 */
static int64_t renew_at(const struct auth_slot *s, const struct channel *ch)
{
	int64_t at = s->tok.access_expires_ms - ahead_of(ch);

	if (s->short_lived >= 3 && at < s->last_renew_ms + AUTH_RENEW_GAP_MS)
		at = s->last_renew_ms + AUTH_RENEW_GAP_MS;
	return at > s->retry_ms ? at : s->retry_ms;
}

/* When the channel's credentials end for good, or -1 (never, not said). */
static int64_t final_expiry(const struct auth_slot *s, const struct channel *ch)
{
	if (!auth_has_tokens(s))
		return -1;
	if (can_renew(s, ch))
		/* A login needs nothing that expires; a refresh token may. */
		return auth_ops_of(ch)->login_request
		               ? -1
		               : s->tok.refresh_expires_ms;
	return s->tok.access_expires_ms;
}

/* A finished smmctl auth: its reply, once. */
void auth_later_done(struct auth_slot *s, json_t *result, const char *msg)
{
	struct cmd_later *l = s->later;

	if (l == NULL) {
		json_decref(result);
		return;
	}
	s->later = NULL;
	if (l->finish)
		l->finish(l, result, result ? NULL : SMM_ERR_AUTH, msg);
	else
		json_decref(result);
}

/* The channel's credentials are no good: hold it until a person acts. */
void auth_needs(struct smmd *d, struct auth_slot *s, const char *why)
{
	char reason[512];
	struct pause *p;
	int r;

	s->busy = SLOT_IDLE;
	auth_later_done(s, NULL, why);
	if (d->stopping) {
		/* The pauses are closed: the next start finds it out again. */
		log_warnx("auth: channel '%s' needs auth: %s", s->channel, why);
		return;
	}
	if (pause_find(d, PAUSE_AUTH, s->channel) == NULL) {
		snprintf(reason, sizeof(reason),
		         "needs auth: %s (run: smmctl auth %s)", why,
		         s->channel);
		r = pause_begin(
		        d,
		        &(struct pause_rec){.kind = PAUSE_AUTH,
		                            .scope = s->channel,
		                            .since_ms = wallclock_now_ms(),
		                            .until_ms = -1,
		                            .reason = reason},
		        &(struct pause_actor){.uid = -1, .user = "smmd"}, &p);
		if (r == 0)
			pause_announce(d, p);
		else if (r != -EEXIST)
			log_error("auth: channel '%s': cannot hold it: %s",
			          s->channel, strerror(-r));
	}
	waiting_flush(d, s);
}

/*
 * Whether this node ends channel's needs_auth pause: the one that fires
 * it, which wrote it; beside workers, two nodes ending it would write
 * one row (the other hears of the tokens, NOTIFY smmd_token, and ends
 * it: auth_slot_reread).
 */
static int ends_auth_pause(struct smmd *d, const char *channel)
{
	return !store_shared(d->store) || store_owns(d->store, channel);
}

/* New tokens are on disk: use them, and let what waited go. */
static void installed(struct smmd *d, struct auth_slot *s)
{
	struct channel *ch = auth_channel_of(d, s);
	struct pause *p;
	char when[TIME_RFC3339_LEN];
	json_t *result, *resumed;

	auth_tokens_clear(&s->tok);
	s->tok = s->fresh;
	s->fresh = (struct auth_tokens){.access_expires_ms = -1,
	                                .refresh_expires_ms = -1};
	s->busy = SLOT_IDLE;
	s->short_lived =
	        ch && s->tok.access_expires_ms >= 0 &&
	                        s->tok.access_expires_ms - ahead_of(ch) <=
	                                wallclock_now_ms()
	                ? s->short_lived + 1
	                : 0;
	s->refused = 0;
	s->refresh_refused = 0;
	s->failures = 0;
	s->retry_ms = 0;
	if (ch)
		attach(s, ch);
	if (d->stopping || outage_restarting(d)) {
		/* Saved for the next start; the pauses are closed already (or
		 * the store is, for an image about to start afresh). */
		auth_later_done(s, NULL, "smmd is stopping");
		return;
	}
	p = pause_find(d, PAUSE_AUTH, s->channel);
	resumed = json_object();
	log_info("auth: channel '%s': new credentials saved%s%s", s->channel,
	         s->tok.access_expires_ms >= 0 ? ", good until " : "",
	         s->tok.access_expires_ms >= 0
	                 ? time_format_rfc3339(s->tok.access_expires_ms, when)
	                 : "");
	if (p && ends_auth_pause(d, s->channel) &&
	    pause_resume(d, p, RESUME_AUTO,
	                 &(struct pause_actor){
	                         .uid = s->who_uid,
	                         .user = s->who_uid < 0 ? "smmd" : s->who_user},
	                 "authorized", resumed) < 0)
		log_error("auth: channel '%s': cannot resume it", s->channel);
	result = json_pack("{s:s, s:b, s:o}", "channel", s->channel,
	                   "authorized", 1, "resumed", resumed);
	if (result && s->tok.access_expires_ms >= 0)
		json_object_set_new(result, "expires",
		                    json_string(time_format_rfc3339(
		                            s->tok.access_expires_ms, when)));
	auth_later_done(s, result, NULL);
	s->who_uid = -1;
	waiting_flush(d, s);
	engage_reload(d);
	auth_arm(d->auth);
}

static void save_work(uv_work_t *w)
{
	struct auth *a = w->data;

	a->save_err = tokenfile_write(a->save_path, a->save_text);
}

/* Not saved everywhere it must be: the slot tries again in 5 s. */
static void save_again(struct auth *a, struct auth_slot *s)
{
	s->busy = SLOT_SAVING;
	s->retry_ms = wallclock_now_ms() + 5000;
	auth_arm(a);
}

/* Several nodes share the work (token_key_file): the tokens must be
 * where a node that takes over finds them, as they must be on disk. */
static int shared(const struct smmd *d)
{
	return d->auth->shared;
}

static void kept_for_cluster(void *arg, int err, const char *why)
{
	struct auth *a = arg;
	struct auth_slot *s = a->saving;

	a->saving = NULL;
	if (err == 0) {
		installed(a->d, s);
		return;
	}
	if (err == -EKEYREJECTED) {
		/* No node with this key could open them: holding them back
		 * would only stop this channel. */
		log_error(
		        "auth: channel '%s': %s; its new credentials are used "
		        "on this node only (make token_key_file the same on "
		        "every node, then smmctl auth %s)",
		        s->channel, why, s->channel);
		installed(a->d, s);
		return;
	}
	if (a->d->stopping || outage_restarting(a->d)) {
		/* authshare.c puts the newer file there at the next start. */
		log_warnx("auth: channel '%s': its new credentials are saved "
		          "on this node only (PostgreSQL: %s)",
		          s->channel, why);
		return;
	}
	log_error("auth: channel '%s': cannot keep its new credentials in "
	          "PostgreSQL: %s; they are not used until they are kept "
	          "(trying again in 5s)",
	          s->channel, why);
	save_again(a, s);
}

/* On disk: sealed into PostgreSQL too before use, when shared. */
static int keep_for_cluster(struct auth *a, struct auth_slot *s)
{
	char *sealed =
	        tokenseal_seal(a->key, s->channel, a->save_ms, a->save_text);
	int r;

	if (sealed == NULL)
		return -ENOMEM;
	r = store_token_put(a->d->store, s->channel, sealed, a->save_ms,
	                    a->key_id, s->fresh_by_person, kept_for_cluster, a);
	free(sealed);
	return r;
}

static void save_done(uv_work_t *w, int status)
{
	struct auth *a = w->data;
	struct auth_slot *s = a->saving;
	struct smmd *d = a->d;
	int r = 0;

	if (status == 0 && a->save_err == 0 && shared(d))
		r = keep_for_cluster(a, s);
	explicit_bzero(a->save_text, strlen(a->save_text));
	free(a->save_text);
	a->save_text = NULL;
	if (status == 0 && a->save_err == 0 && shared(d) && r == 0)
		return; /* kept_for_cluster goes on */
	a->saving = NULL;
	if (status == 0 && a->save_err == 0 && r == 0) {
		installed(d, s);
		return;
	}
	/* Unsaved, they are not used: a crash would lose a rotated chain. */
	if (r < 0)
		log_error("auth: channel '%s': cannot keep its new "
		          "credentials in PostgreSQL: %s; they are not used "
		          "until they are kept (trying again in 5s)",
		          s->channel, strerror(-r));
	else
		log_error("auth: channel '%s': cannot save its new credentials "
		          "in %s: %s; they are not used until they are saved "
		          "(trying again in 5s)",
		          s->channel, a->save_path,
		          strerror(status ? -status : -a->save_err));
	save_again(a, s);
}

/* Write s->fresh to disk off the loop; installed() once it is there. */
static void save(struct smmd *d, struct auth_slot *s)
{
	struct auth *a = d->auth;
	int r;

	s->busy = SLOT_SAVING;
	if (a->saving != NULL) {
		/* One write at a time: the timer brings this one back. */
		s->retry_ms = wallclock_now_ms() + 100;
		auth_arm(a);
		return;
	}
	a->save_ms = s->fresh_ms;
	if (tokenfile_path(a->state_dir, s->channel, a->save_path,
	                   sizeof(a->save_path)) < 0 ||
	    (a->save_text = tokenfile_encode(&s->fresh, a->save_ms)) == NULL) {
		log_error("auth: channel '%s': cannot encode its credentials",
		          s->channel);
		s->retry_ms = wallclock_now_ms() + 5000;
		auth_arm(a);
		return;
	}
	a->saving = s;
	a->work.data = a;
	if ((r = uv_queue_work(d->loop, &a->work, save_work, save_done)) < 0) {
		a->saving = NULL;
		explicit_bzero(a->save_text, strlen(a->save_text));
		free(a->save_text);
		a->save_text = NULL;
		log_error("auth: channel '%s': cannot save: %s", s->channel,
		          uv_strerror(r));
		s->retry_ms = wallclock_now_ms() + 5000;
		auth_arm(a);
	}
}

/* The answer's start, for a reason, without the secrets it may quote. */
static void answer_excerpt(const struct auth_slot *s,
                           const struct http_result *res, char *out, size_t cap)
{
	publisher_body_excerpt(res->body, res->body_len, out, cap);
	publisher_redact(out, s->tok.access);
	publisher_redact(out, s->tok.refresh);
}

/* A request that may work later: renewals try again with backoff. */
static void ask_again_later(struct smmd *d, struct auth_slot *s,
                            const struct http_result *res, const char *what)
{
	int64_t now = wallclock_now_ms(), delay = AUTH_RETRY_MIN_MS, ra;
	char ex[160], why[256];

	for (unsigned i = 0; i < s->failures && delay < AUTH_RETRY_MAX_MS; i++)
		delay *= 2;
	if (delay > AUTH_RETRY_MAX_MS)
		delay = AUTH_RETRY_MAX_MS;
	if (res->retry_after &&
	    retry_after_parse(res->retry_after, now, &ra) == 0 && ra > delay)
		delay = ra < AUTH_RETRY_MAX_MS ? ra : AUTH_RETRY_MAX_MS;
	s->failures++;
	s->busy = SLOT_IDLE;
	s->retry_ms = now + delay;
	if (res->status) {
		answer_excerpt(s, res, ex, sizeof(ex));
		snprintf(why, sizeof(why), "%s: HTTP %ld%s%s", what,
		         res->status, ex[0] ? ": " : "", ex);
	} else
		snprintf(why, sizeof(why), "%s: %s", what,
		         res->error ? res->error : "no answer");
	log_warnx("auth: channel '%s': %s; again in %llds", s->channel, why,
	          (long long)(delay / 1000));
	auth_later_done(s, NULL, why);
	/* Those that can still go with the token they have, go. */
	if (!s->refused)
		waiting_flush(d, s);
	auth_arm(d->auth);
}

static void ask_done(void *arg, const struct http_result *res)
{
	struct ask *k = arg;
	struct smmd *d = k->d;
	struct auth_slot *s = k->s;
	const struct channel *ch = auth_channel_of(d, s);
	char err[256], ex[160], why[512];
	int r = -1;

	http_request_clear(&k->req);
	if (ch == NULL || auth_ops_of(ch) == NULL) {
		s->busy = SLOT_IDLE;
		auth_later_done(s, NULL, "the channel is no longer configured");
		waiting_flush(d, s);
	} else if (res->status >= 200 && res->status <= 299) {
		if ((r = auth_tokens_copy(&s->fresh, &s->tok)) == 0)
			r = auth_ops_of(ch)->token_parse(
			        ch, res, wallclock_now_ms(), &s->fresh, err,
			        sizeof(err));
		else
			snprintf(err, sizeof(err), "out of memory");
		if (r == 0) {
			s->fresh_ms = wallclock_now_ms();
			s->fresh_by_person = k->exchange;
			save(d, s);
		} else if (k->exchange) {
			s->busy = SLOT_IDLE;
			auth_tokens_clear(&s->fresh);
			snprintf(why, sizeof(why), "%s: %s", k->what, err);
			auth_later_done(s, NULL, why);
		} else {
			snprintf(why, sizeof(why), "%s: %s", k->what, err);
			auth_needs(d, s, why);
		}
	} else if (k->exchange && res->status != 0 && res->status < 500 &&
	           res->status != 429) {
		/* A person's code refused: say so; the channel stays as is. */
		s->busy = SLOT_IDLE;
		answer_excerpt(s, res, ex, sizeof(ex));
		snprintf(why, sizeof(why), "%s: HTTP %ld%s%s", k->what,
		         res->status, ex[0] ? ": " : "", ex);
		auth_later_done(s, NULL, why);
	} else if (k->refresh && auth_ops_of(ch)->login_request &&
	           (res->status == 400 || res->status == 401)) {
		/* A session that ran out (Bluesky): the password still works.
		 */
		s->busy = SLOT_IDLE;
		s->refresh_refused = 1;
		auth_renew(d, s, "its refresh was refused");
	} else if (res->status == 400 || res->status == 401 ||
	           res->status == 403) {
		/* The grant is gone (invalid_grant, revoked): a person acts. */
		answer_excerpt(s, res, ex, sizeof(ex));
		snprintf(why, sizeof(why), "%s: HTTP %ld%s%s", k->what,
		         res->status, ex[0] ? ": " : "", ex);
		auth_needs(d, s, why);
	} else {
		ask_again_later(d, s, res, k->what);
	}
	free(k);
}

/* Send the request ask() built for s. */
int auth_ask_send(struct smmd *d, struct auth_slot *s, struct ask *k,
                  const struct channel *ch)
{
	int r;

	if (k->req.timeout_ms == 0)
		k->req.timeout_ms = ch->timeout_ms;
	if (k->req.connect_timeout_ms == 0)
		k->req.connect_timeout_ms = ch->connect_timeout_ms;
	/* A token request is never sent twice by libcurl on its own. */
	k->req.once = 1;
	s->busy = SLOT_ASKING;
	s->last_renew_ms = wallclock_now_ms();
	if ((r = http_submit(d->http, &k->req, ask_done, k)) < 0) {
		struct http_result res = {.error = strerror(-r)};

		http_request_clear(&k->req);
		free(k);
		ask_again_later(d, s, &res, "sending the request");
		return -1;
	}
	return 0;
}

/* This node may spend the channel's tokens: it acts, and fires it. */
static int may_renew(struct smmd *d, const struct auth_slot *s)
{
	return store_may_act(d->store) && store_owns(d->store, s->channel);
}

int auth_renew(struct smmd *d, struct auth_slot *s, const char *why)
{
	const struct channel *ch = auth_channel_of(d, s);
	const struct auth_ops *o = auth_ops_of(ch);
	struct ask *k;
	char err[256];
	int r = -1;

	if (o == NULL || s->busy != SLOT_IDLE)
		return -1;
	/*
	 * Not while this node may not act for the cluster (its lease not
	 * trusted: cut off, or stopped and resumed), nor for a channel
	 * another node fires (claims): a refresh spends a token the node
	 * firing it may hold, and X's are of one use. The timer asks again
	 * (slot_tick waits for the same).
	 */
	if (!may_renew(d, s)) {
		log_info("auth: channel '%s': not renewed now (%s): this "
		         "node's lease is not trusted, or another node fires "
		         "the channel",
		         s->channel, why);
		s->retry_ms = wallclock_now_ms() + 1000;
		auth_arm(d->auth);
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		s->retry_ms = wallclock_now_ms() + 5000;
		auth_arm(d->auth);
		return -1;
	}
	*k = (struct ask){.d = d, .s = s};
	if (can_refresh(s, ch)) {
		k->what = "renewing the token";
		k->refresh = 1;
		r = o->refresh_request(ch, &s->tok, &k->req, err, sizeof(err));
	}
	if (r < 0 && o->login_request) {
		http_request_clear(&k->req);
		k->what = "logging in";
		k->refresh = 0;
		r = o->login_request(ch, &k->req, err, sizeof(err));
	}
	if (r < 0) {
		http_request_clear(&k->req);
		free(k);
		auth_needs(d, s, can_renew(s, ch) ? err : why);
		return -1;
	}
	log_info("auth: channel '%s': %s (%s)", s->channel, k->what, why);
	return auth_ask_send(d, s, k, ch);
}

static int waiting_add(struct auth_slot *s, const char *id)
{
	char *copy;

	for (size_t i = 0; i < s->nwaiting; i++)
		if (strcmp(s->waiting[i], id) == 0)
			return 0;
	if (s->nwaiting == s->capwaiting) {
		size_t cap = s->capwaiting ? s->capwaiting * 2 : 8;
		char **v = realloc(s->waiting, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->waiting = v;
		s->capwaiting = cap;
	}
	if ((copy = strdup(id)) == NULL)
		return -ENOMEM;
	s->waiting[s->nwaiting++] = copy;
	return 0;
}

/* The access token is past its time (with a margin for the trip). */
static int expired(const struct auth_slot *s, int64_t now)
{
	return s->tok.access_expires_ms >= 0 &&
	       now + 10 * 1000 >= s->tok.access_expires_ms;
}

int auth_gate(struct smmd *d, const struct channel *ch, const char *id)
{
	struct auth_slot *s;
	int64_t now = wallclock_now_ms();

	if (auth_ops_of(ch) == NULL ||
	    (s = slot_find(d->auth, ch->name)) == NULL)
		return 0;
	/* What the node before held is being read: it may be newer. */
	if (s->busy == SLOT_READING) {
		if (waiting_add(s, id) < 0)
			dispatch_schedule(d, id, now + 1000);
		return 1;
	}
	/* Usable, even while a renewal is under way: the timer renews it
	 * ahead of its expiry. */
	if (!s->refused && !expired(s, now) &&
	    (auth_has_tokens(s) || auth_ops_of(ch)->login_request == NULL))
		return 0;
	if (waiting_add(s, id) < 0) {
		dispatch_schedule(d, id, now + 1000);
		return 1;
	}
	if (s->busy == SLOT_IDLE && now >= s->retry_ms)
		auth_renew(d, s,
		           auth_has_tokens(s) ? "it has expired" : "none yet");
	else
		auth_arm(d->auth);
	return 1;
}

void auth_refused(struct smmd *d, const struct channel *ch, const char *reason)
{
	struct auth_slot *s = auth_slot_of(d, ch);
	int64_t now = wallclock_now_ms();

	if (s == NULL) {
		log_error("auth: channel '%s': out of memory", ch->name);
		return;
	}
	s->refused = 1;
	if (s->busy != SLOT_IDLE)
		return;
	/* An expired token is renewed; one just renewed and refused is not. */
	if (can_renew(s, ch) && now - s->last_renew_ms >= AUTH_RENEW_GAP_MS)
		auth_renew(d, s, reason);
	else
		auth_needs(d, s, reason);
}

/* What the timer does for one slot at now; its next time, or -1. */
static int64_t slot_tick(struct smmd *d, struct auth_slot *s, int64_t now)
{
	const struct channel *ch = auth_channel_of(d, s);
	int64_t next = -1, end, at;
	char when[TIME_RFC3339_LEN], why[256];

	if (ch == NULL || auth_ops_of(ch) == NULL)
		return -1;
	if (s->busy == SLOT_SAVING && d->auth->saving == NULL) {
		if (now >= s->retry_ms)
			save(d, s);
		return s->busy == SLOT_SAVING ? s->retry_ms : -1;
	}
	if (s->busy != SLOT_IDLE ||
	    pause_find(d, PAUSE_AUTH, s->channel) != NULL)
		return -1;
	if (!may_renew(d, s))
		return now + 1000; /* auth_renew says why */
	if ((end = final_expiry(s, ch)) >= 0) {
		if (now >= end - AUTH_WARN_MS) {
			snprintf(why, sizeof(why),
			         "its credentials expire at %s and smmd "
			         "cannot renew them",
			         time_format_rfc3339(end, when));
			auth_needs(d, s, why);
			return -1;
		}
		next = end - AUTH_WARN_MS;
	}
	if ((s->nwaiting > 0 || s->refused) && now >= s->retry_ms)
		auth_renew(d, s, "trying again");
	else if (!auth_has_tokens(s) && auth_ops_of(ch)->login_request) {
		/* A login needs no person (attach_all's, put off). */
		if (now >= s->retry_ms)
			auth_renew(d, s, "none yet");
	} else if (can_refresh(s, ch) && s->tok.access_expires_ms >= 0) {
		at = renew_at(s, ch);
		if (now >= at)
			auth_renew(d, s, "it expires soon");
		else if (next < 0 || at < next)
			next = at;
	}
	/* Not asked after all (put off, or failed to leave): again then. */
	if (s->busy == SLOT_IDLE && s->retry_ms > now &&
	    (next < 0 || s->retry_ms < next))
		next = s->retry_ms;
	if (s->busy == SLOT_IDLE && (s->nwaiting > 0 || s->refused) &&
	    (next < 0 || s->retry_ms < next))
		next = s->retry_ms;
	return next;
}

static void on_timer(uv_timer_t *t)
{
	struct auth *a = t->data;

	auth_arm(a);
}

/* Do what is due, then sleep until the next thing is (none: no wake-up). */
void auth_arm(struct auth *a)
{
	int64_t now = wallclock_now_ms(), next = -1, at;

	if (!a->timer_open || a->d->stopping)
		return;
	for (size_t i = 0; i < a->n; i++)
		if ((at = slot_tick(a->d, a->v[i], now)) >= 0 &&
		    (next < 0 || at < next))
			next = at;
	uv_timer_stop(&a->timer);
	if (next >= 0)
		uv_timer_start(&a->timer, on_timer,
		               (uint64_t)(next > now ? next - now : 0), 0);
}

static void attach_all(struct smmd *d)
{
	for (size_t i = 0; i < d->cfg->nchannels; i++) {
		struct channel *ch = &d->cfg->channels[i];
		struct auth_slot *s;

		if (auth_ops_of(ch) == NULL)
			continue;
		if ((s = auth_slot_of(d, ch)) == NULL) {
			log_error("auth: channel '%s': out of memory",
			          ch->name);
			continue;
		}
		attach(s, ch);
		/* A login needs no person: do it now, not at the first post. */
		if (!auth_has_tokens(s) && auth_ops_of(ch)->login_request &&
		    s->busy == SLOT_IDLE &&
		    pause_find(d, PAUSE_AUTH, s->channel) == NULL)
			auth_renew(d, s, "none yet");
	}
}

static int same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int auth_slot_reading(struct smmd *d, const char *channel)
{
	struct auth_slot *s = auth_slot_of(d, config_channel(d->cfg, channel));

	if (s == NULL || s->busy != SLOT_IDLE)
		return -1;
	s->busy = SLOT_READING;
	return 0;
}

void auth_slot_reread(struct smmd *d, const char *channel)
{
	struct auth_slot *s = slot_find(d->auth, channel);
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1};
	struct channel *ch;
	struct pause *p;
	char path[PATH_MAX], err[256];
	int64_t saved_ms = -1;

	if (s == NULL || s->busy != SLOT_READING)
		return;
	s->busy = SLOT_IDLE;
	/* Others than those it had (newer, from PostgreSQL): a refusal of
	 * the old ones says nothing of these. */
	if (tokenfile_path(d->auth->state_dir, channel, path, sizeof(path)) ==
	            0 &&
	    tokenfile_read(path, &t, &saved_ms, err, sizeof(err)) == 0 &&
	    (!same_text(t.access, s->tok.access) ||
	     !same_text(t.refresh, s->tok.refresh))) {
		auth_tokens_clear(&s->tok);
		s->tok = t;
		s->refused = s->refresh_refused = 0;
	} else {
		auth_tokens_clear(&t);
	}
	/*
	 * Held needs_auth by this node, and the tokens it has now were
	 * saved since (an authorization on another node, read at its
	 * NOTIFY or at this node's take of the channel): the hold ends.
	 * Tokens older than the hold are the ones it found no good.
	 */
	if ((p = pause_find(d, PAUSE_AUTH, channel)) != NULL &&
	    saved_ms > p->since_ms && auth_has_tokens(s) &&
	    ends_auth_pause(d, channel) && !d->stopping &&
	    !outage_restarting(d) &&
	    pause_resume(d, p, RESUME_AUTO,
	                 &(struct pause_actor){.uid = -1, .user = "smmd"},
	                 "authorized on another node", NULL) < 0)
		log_error("auth: channel '%s': cannot resume it", channel);
	if ((ch = auth_channel_of(d, s)) != NULL)
		attach(s, ch);
	waiting_flush(d, s);
	auth_arm(d->auth);
}

int auth_start(struct smmd *d)
{
	struct auth *a = d->auth;
	int r;

	a->d = d;
	if ((a->state_dir = strdup(d->cfg->state_dir)) == NULL)
		return -ENOMEM;
	if (d->cfg->has_token_key) {
		memcpy(a->key, d->cfg->token_key, sizeof(a->key));
		if (tokenseal_key_id(a->key, a->key_id) < 0)
			return -ENOMEM;
		a->shared = 1;
	}
	if ((r = tokenfile_dir(a->state_dir)) < 0) {
		log_error("auth: cannot make %s/auth: %s", d->cfg->state_dir,
		          strerror(-r));
		return r;
	}
	if ((r = uv_timer_init(d->loop, &a->timer)) < 0)
		return r;
	a->timer.data = a;
	a->timer_open = 1;
	auth_share_at_start(d);
	attach_all(d);
	auth_arm(a);
	return 0;
}

void auth_reload(struct smmd *d)
{
	struct auth *a = d->auth;

	if (a == NULL || !a->timer_open)
		return;
	/* A channel gone, or no longer using auth: its waiters go back. */
	for (size_t i = 0; i < a->n; i++)
		if (auth_ops_of(auth_channel_of(d, a->v[i])) == NULL)
			waiting_flush(d, a->v[i]);
	attach_all(d);
	auth_arm(d->auth);
}

void auth_close(struct smmd *d)
{
	struct auth *a = d->auth;

	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		struct auth_slot *s = a->v[i];
		char path[PATH_MAX], *text;

		auth_later_done(s, NULL, "smmd is stopping");
		/* A rotated refresh token waiting its turn to be saved: the
		 * loop will not come back for it (the one being saved now
		 * finishes on its own). */
		if (s->busy != SLOT_SAVING || a->saving == s ||
		    tokenfile_path(a->state_dir, s->channel, path,
		                   sizeof(path)) < 0 ||
		    (text = tokenfile_encode(&s->fresh, s->fresh_ms)) == NULL)
			continue;
		if (tokenfile_write(path, text) < 0)
			log_error("auth: channel '%s': cannot save its new "
			          "credentials at shutdown",
			          s->channel);
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (a->timer_open) {
		a->timer_open = 0;
		uv_close((uv_handle_t *)&a->timer, NULL);
	}
}
