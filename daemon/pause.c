#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blackout.h"
#include "calendar.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "outage.h"
#include "pause.h"
#include "queue.h"
#include "smmd.h"
#include "timeparse.h"
#include "wallclock.h"

struct pauses {
	struct pause **v; /* in the order they began */
	size_t n, cap;
	uv_timer_t until; /* the earliest --until */
	struct smmd *d;
	/* The calendar's campaigns' blackouts, taken from the last read. */
	struct campaign_blackouts {
		char *name;
		struct blackouts *set;
	} * camps;
	size_t ncamps;
};

static void campaigns_free(struct pauses *ps)
{
	for (size_t i = 0; i < ps->ncamps; i++) {
		free(ps->camps[i].name);
		blackouts_free(ps->camps[i].set);
		free(ps->camps[i].set);
	}
	free(ps->camps);
	ps->camps = NULL;
	ps->ncamps = 0;
}

static void pause_free(struct pause *p)
{
	if (p == NULL)
		return;
	free(p->scope);
	free(p->user);
	free(p->reason);
	free(p->scenario);
	free(p);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A copy of r in the list. NULL when out of memory. */
static struct pause *pauses_add(struct pauses *ps, const struct pause_rec *r)
{
	struct pause *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	*p = (struct pause){
	        .id = r->id,
	        .kind = r->kind,
	        .since_ms = r->since_ms,
	        .until_ms = r->until_ms,
	        .uid = r->uid,
	};
	p->scope = dup_or_null(r->scope);
	p->user = dup_or_null(r->user);
	p->reason = dup_or_null(r->reason);
	p->scenario = dup_or_null(r->scenario);
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		struct pause **v = realloc(ps->v, cap * sizeof(*v));

		if (v == NULL) {
			pause_free(p);
			return NULL;
		}
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n++] = p;
	return p;
}

static void pauses_drop(struct pauses *ps, struct pause *p)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i] == p) {
			memmove(&ps->v[i], &ps->v[i + 1],
			        (ps->n - i - 1) * sizeof(*ps->v));
			ps->n--;
			return;
		}
}

static void pauses_arm(struct pauses *ps);
static const char *scope_of(const struct pause *p, char *buf, size_t len);

static void on_until(uv_timer_t *t)
{
	struct pauses *ps = t->data;
	struct smmd *d = ps->d;
	struct pause_actor smmd = {.uid = -1, .user = "smmd"};
	int64_t now = wallclock_now_ms();

	for (size_t i = 0; i < ps->n;) {
		struct pause *p = ps->v[i];
		json_t *out;

		if (p->until_ms < 0 || p->until_ms > now) {
			i++;
			continue;
		}
		out = json_object();
		if (pause_resume(d, p, RESUME_AUTO, &smmd,
		                 "the pause's --until time came", out) < 0) {
			/* It stays paused; smmd starts afresh (outage.c). */
			json_decref(out);
			outage_begin(d);
			return;
		}
		json_decref(out);
		/* pause_resume took p out of the list: i is the next one. */
	}
	pauses_arm(ps);
}

/* The timer for the earliest --until, or none. */
static void pauses_arm(struct pauses *ps)
{
	int64_t first = -1, now = wallclock_now_ms();

	/* A worker's pauses end when the working node ends them. */
	if (ps->d->worker)
		return;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i]->until_ms >= 0 &&
		    (first < 0 || ps->v[i]->until_ms < first))
			first = ps->v[i]->until_ms;
	if (first < 0) {
		uv_timer_stop(&ps->until);
		return;
	}
	uv_timer_start(&ps->until, on_until,
	               first > now ? (uint64_t)(first - now) : 0, 0);
}

static void load_one(void *arg, const struct pause_rec *r)
{
	if (pauses_add(arg, r) == NULL)
		fatalx("out of memory");
}

int pauses_start(struct smmd *d)
{
	struct pauses *ps = calloc(1, sizeof(*ps));
	char scope[160];

	if (ps == NULL)
		return -ENOMEM;
	ps->d = d;
	d->pauses = ps;
	uv_timer_init(d->loop, &ps->until);
	ps->until.data = ps;
	if (store_pauses(d->store, load_one, ps) < 0)
		return -EIO;
	for (size_t i = 0; i < ps->n; i++) {
		struct pause *p = ps->v[i];

		log_warnx("pause: %s is paused (since before this start), "
		          "holding %lld",
		          scope_of(p, scope, sizeof(scope)),
		          (long long)store_held_count(d->store, p->id));
	}
	pauses_arm(ps);
	return 0;
}

int pauses_reread(struct smmd *d)
{
	struct pauses *ps = d->pauses, fresh = {.d = d};
	size_t was = ps->n;

	/* Read aside: a failed read leaves the pauses as they were. */
	if (store_pauses(d->store, load_one, &fresh) < 0) {
		for (size_t i = 0; i < fresh.n; i++)
			pause_free(fresh.v[i]);
		free(fresh.v);
		return -EIO;
	}
	for (size_t i = 0; i < ps->n; i++)
		pause_free(ps->v[i]);
	free(ps->v);
	ps->v = fresh.v;
	ps->n = fresh.n;
	ps->cap = fresh.cap;
	if (ps->n != was)
		log_info("pause: %zu pauses now, as another node wrote them",
		         ps->n);
	/* Prepared here, not yet gone: a new pause holds them. */
	dispatch_hold_prepared(d);
	pauses_arm(ps);
	return 0;
}

static void pauses_closed(uv_handle_t *h)
{
	struct pauses *ps = h->data;

	for (size_t i = 0; i < ps->n; i++)
		pause_free(ps->v[i]);
	free(ps->v);
	campaigns_free(ps);
	free(ps);
}

void pauses_stop(struct smmd *d)
{
	if (d->pauses == NULL)
		return;
	uv_close((uv_handle_t *)&d->pauses->until, pauses_closed);
	d->pauses = NULL;
}

size_t pauses_count(const struct smmd *d)
{
	return d->pauses ? d->pauses->n : 0;
}

struct pause *pause_at(const struct smmd *d, size_t i)
{
	return d->pauses->v[i];
}

struct pause *pause_find(const struct smmd *d, int kind, const char *scope)
{
	for (size_t i = 0; i < pauses_count(d); i++) {
		struct pause *p = d->pauses->v[i];

		if (p->kind == kind &&
		    (kind == PAUSE_ALL || strcmp(p->scope, scope) == 0))
			return p;
	}
	return NULL;
}

const char *pause_scope_name(const struct pause_rec *r, char *buf, size_t len)
{
	if (r->kind == PAUSE_ALL)
		snprintf(buf, len, "all");
	else if (r->kind == PAUSE_AUTH)
		snprintf(buf, len, "channel %s (needs auth)", r->scope);
	else
		snprintf(buf, len, "%s %s",
		         r->kind == PAUSE_CHANNEL ? "channel" : "campaign",
		         r->scope);
	return buf;
}

static const char *scope_of(const struct pause *p, char *buf, size_t len)
{
	return pause_scope_name(
	        &(struct pause_rec){.kind = p->kind, .scope = p->scope}, buf,
	        len);
}

int pause_covers(const struct pause *p, const char *channel,
                 const char *campaign)
{
	switch (p->kind) {
	case PAUSE_ALL:
		return 1;
	case PAUSE_CHANNEL:
	case PAUSE_AUTH:
		return strcmp(p->scope, channel) == 0;
	default:
		return campaign && strcmp(p->scope, campaign) == 0;
	}
}

/*
 * The first pause covering a delivery. One released by hand passes every
 * pause; so does a plan B statement, which the crisis' own pause must not
 * stop.
 */
static struct pause *gate(struct smmd *d, const char *channel,
                          const char *campaign, const char *source,
                          int pass_pause)
{
	if (pass_pause || (source && strcmp(source, "planb") == 0))
		return NULL;
	for (size_t i = 0; i < pauses_count(d); i++)
		if (pause_covers(d->pauses->v[i], channel, campaign))
			return d->pauses->v[i];
	return NULL;
}

struct pause *pause_gate(struct smmd *d, const struct delivery_rec *rec)
{
	return gate(d, rec->channel, rec->campaign, rec->source,
	            rec->pass_pause);
}

int pause_channel_paused(struct smmd *d, const char *channel)
{
	for (size_t i = 0; i < pauses_count(d); i++) {
		const struct pause *p = d->pauses->v[i];

		if (p->kind == PAUSE_ALL ||
		    ((p->kind == PAUSE_CHANNEL || p->kind == PAUSE_AUTH) &&
		     strcmp(p->scope, channel) == 0))
			return 1;
	}
	return 0;
}

/* Why a delivery is held, as its last_error and event say. */
static void hold_reason(const struct pause *p, char *buf, size_t len)
{
	char scope[160], since[TIME_RFC3339_LEN];

	snprintf(buf, len, "paused (%s) since %s by %s%s%s",
	         scope_of(p, scope, sizeof(scope)),
	         time_format_rfc3339(p->since_ms, since),
	         p->user ? p->user : "?", p->reason ? ": " : "",
	         p->reason ? p->reason : "");
}

/*
 * Move one delivery: 1 if it moved, 0 if it had moved on meanwhile; a
 * store failure begins the outage (and is 0: the turn is given up).
 */
static int transition_or_outage(struct smmd *d, const struct transition *t)
{
	int r = store_transition(d->store, t, NULL);

	if (r == -EALREADY || r == -ENOENT)
		return 0;
	if (r < 0) {
		outage_begin(d);
		return 0;
	}
	return 1;
}

/* Move id from state from to held (by pause held_by, 0: none) for why. */
static int hold_for(struct smmd *d, const char *id, int from, int64_t held_by,
                    const char *why, int origin, int64_t now)
{
	int r = transition_or_outage(d,
	                             &(struct transition){.id = id,
	                                                  .from = DS_BIT(from),
	                                                  .to = DS_HELD,
	                                                  .reason = why,
	                                                  .next_ms = -1,
	                                                  .now_ms = now,
	                                                  .held_by = held_by});

	if (r <= 0)
		return 0;
	if (from != DS_HELD)
		events_change(d->events, (enum event_origin)origin, id, from,
		              DS_HELD, -1, why);
	return 1;
}

/* Move id from state from to held under p. 1, or 0 if it moved on. */
static int hold_id(struct smmd *d, const char *id, int from, struct pause *p,
                   int origin, int64_t now)
{
	char why[512];

	hold_reason(p, why, sizeof(why));
	return hold_for(d, id, from, p->id, why, origin, now);
}

int pause_hold(struct smmd *d, const struct delivery_rec *rec, int from,
               struct pause *p, int64_t now)
{
	return hold_id(d, rec->id, from, p, EVO_DISPATCH, now);
}

/* ---- blackouts: pauses planned ahead, through the same gate ----------- */

/* How every blackout's reason begins: a sweep knows what it shifted. */
#define BLACKOUT_WHY "blackout ("

/* A crisis statement, a notice to the team: no blackout stops them. */
static int blackout_exempt(const char *source, int pass_pause)
{
	return pass_pause || (source && (strcmp(source, "planb") == 0 ||
	                                 strcmp(source, "notice") == 0));
}

/* The channel's blackout_action, else the campaign's, else smmd.yaml's. */
static int blackout_action_of(const struct blackouts *const sets[3])
{
	for (int i = 0; i < 3; i++)
		if (sets[i] && sets[i]->action >= 0)
			return sets[i]->action;
	return BLACKOUT_SHIFT;
}

void pause_adopt_campaigns(struct smmd *d, struct calendar *cal)
{
	struct pauses *ps = d->pauses;

	if (ps == NULL)
		return;
	campaigns_free(ps);
	if (cal == NULL || cal->ncampaigns == 0)
		return;
	if ((ps->camps = calloc(cal->ncampaigns, sizeof(*ps->camps))) == NULL) {
		log_error("blackouts: out of memory: the campaigns' blackouts "
		          "hold from the next reload");
		return;
	}
	for (size_t i = 0; i < cal->ncampaigns; i++) {
		struct cal_campaign *c = &cal->campaigns[i];
		char *name;

		if (c->blackouts == NULL)
			continue;
		if ((name = strdup(c->name)) == NULL) {
			log_error("blackouts: out of memory: campaign '%s''s "
			          "blackouts hold from the next reload",
			          c->name);
			continue;
		}
		ps->camps[ps->ncamps++] =
		        (struct campaign_blackouts){name, c->blackouts};
		c->blackouts = NULL;
	}
}

/* Whether any blackout is set: smmd.yaml's, or a calendar campaign's. */
static int any_blackouts(const struct smmd *d)
{
	return d->cfg->any_blackouts || (d->pauses && d->pauses->ncamps > 0);
}

static const struct blackouts *campaign_set(const struct smmd *d,
                                            const char *campaign)
{
	for (size_t i = 0; campaign && d->pauses && i < d->pauses->ncamps; i++)
		if (strcmp(d->pauses->camps[i].name, campaign) == 0)
			return d->pauses->camps[i].set;
	return NULL;
}

int pause_blackout(struct smmd *d, const struct blackout_ask *a,
                   struct blackout_place *out)
{
	const struct channel *ch;
	const struct blackouts *sets[3];
	struct blackout_verdict v;
	char at[TIME_RFC3339_LEN], to[TIME_RFC3339_LEN];

	/*
	 * The common case, on every delivery's way out: no blackouts at all,
	 * known before a channel is looked up by name.
	 */
	if (!any_blackouts(d) || blackout_exempt(a->source, a->pass_pause) ||
	    (ch = config_channel(d->cfg, a->channel)) == NULL)
		return 0;
	sets[0] = ch->blackouts;
	sets[1] = campaign_set(d, a->campaign);
	sets[2] = d->cfg->blackouts;
	if (sets[0] == NULL && sets[1] == NULL && sets[2] == NULL)
		return 0;
	if (!blackout_judge(sets, 3, queue_zone(d, ch), a->at, &v))
		return 0;
	out->action =
	        v.allowed_ms < 0 ? BLACKOUT_HOLD : blackout_action_of(sets);
	out->at_ms = out->action == BLACKOUT_SHIFT ? v.allowed_ms : -1;
	time_format_rfc3339(a->at, at);
	if (out->action == BLACKOUT_SHIFT)
		snprintf(out->why, sizeof(out->why),
		         BLACKOUT_WHY "%s): shifted from %s to %s",
		         v.by->reason, at,
		         time_format_rfc3339(v.allowed_ms, to));
	else
		snprintf(out->why, sizeof(out->why),
		         BLACKOUT_WHY "%s) at %s: %s", v.by->reason, at,
		         v.allowed_ms < 0 ? "no allowed time within a year"
		                          : "blackout_action is hold");
	return 1;
}

/* Move id, waiting in state from, to at (its due time stays). */
static int move_to(struct smmd *d, const char *id, int from, int64_t at,
                   const char *why, int origin, int64_t now)
{
	int r = transition_or_outage(
	        d, &(struct transition){.id = id,
	                                .from = DS_BIT(from),
	                                .to = (enum delivery_state)from,
	                                .reason = why,
	                                .next_ms = at,
	                                .now_ms = now});

	if (r <= 0)
		return 0;
	events_emit(d->events, &(struct delivery_event){
	                               .kind = EV_SHIFTED,
	                               .origin = (enum event_origin)origin,
	                               .id = id,
	                               .from = from,
	                               .to = (enum delivery_state)from,
	                               .next_ms = at,
	                               .latency_ms = -1,
	                               .reason = why,
	                       });
	if (dispatch_schedule(d, id, at) < 0)
		log_error("sched: cannot queue '%s' (out of memory); it runs "
		          "after a restart",
		          id);
	return 1;
}

int pause_blackout_gate(struct smmd *d, const struct delivery_rec *rec,
                        int64_t t, int64_t now)
{
	struct blackout_place bp;

	if (!pause_blackout(
	            d,
	            &(struct blackout_ask){.channel = rec->channel,
	                                   .campaign = rec->campaign,
	                                   .source = rec->source,
	                                   .pass_pause = rec->pass_pause,
	                                   .at = t},
	            &bp))
		return 0;
	if (bp.action == BLACKOUT_HOLD)
		hold_for(d, rec->id, (int)rec->state, 0, bp.why, EVO_DISPATCH,
		         now);
	else
		move_to(d, rec->id, (int)rec->state, bp.at_ms, bp.why,
		        EVO_DISPATCH, now);
	return 1;
}

int pause_gate_hold(struct smmd *d, const struct delivery_rec *rec, int64_t at,
                    int64_t now)
{
	struct pause *p;

	/*
	 * An approval first: an unapproved post must never go, and a pause
	 * that ends (or a release by hand) must not be what decides it.
	 */
	if (rec->awaiting_approval) {
		hold_for(d, rec->id, (int)rec->state, 0,
		         PAUSE_AWAITING_APPROVAL, EVO_DISPATCH, now);
		return 1;
	}
	if ((p = pause_gate(d, rec)) != NULL) {
		pause_hold(d, rec, (int)rec->state, p, now);
		return 1;
	}
	return at >= 0 && pause_blackout_gate(d, rec, at, now);
}

int pause_blackout_place(struct smmd *d, const struct blackout_ask *a,
                         int origin, int64_t now, struct blackout_place *out)
{
	if (!pause_blackout(d, a, out))
		return 0;
	if (out->action == BLACKOUT_SHIFT)
		move_to(d, a->id, a->state, out->at_ms, out->why, origin, now);
	return 1;
}

/* What a sweep moves, collected first: the store is not written mid-scan. */
struct sweep {
	struct smmd *d;
	int64_t now;
	struct sweep_move {
		char *id;
		int state;
		int64_t at;
		char *why;
	} * v;
	size_t n, cap;
	int err;
};

static void sweep_row(void *arg, const struct scheduled_row *r)
{
	struct sweep *sw = arg;
	struct blackout_place bp;
	int64_t t = r->due_ms > sw->now ? r->due_ms : sw->now, at;
	const char *why;

	if (sw->err || blackout_exempt(r->source, r->pass_pause))
		return;
	if (pause_blackout(sw->d,
	                   &(struct blackout_ask){.channel = r->channel,
	                                          .campaign = r->campaign,
	                                          .source = r->source,
	                                          .at = t},
	                   &bp) &&
	    bp.action == BLACKOUT_SHIFT) {
		at = bp.at_ms;
		why = bp.why;
	} else if (r->next_ms > t && r->last_error &&
	           strncmp(r->last_error, BLACKOUT_WHY, strlen(BLACKOUT_WHY)) ==
	                   0) {
		/* Shifted, and no blackout (or one that holds) covers it now.
		 */
		at = t;
		why = "no blackout covers its time any more: back to it";
	} else
		return;
	if (at == r->next_ms)
		return;
	if (sw->n == sw->cap) {
		size_t cap = sw->cap ? sw->cap * 2 : 64;
		struct sweep_move *v = realloc(sw->v, cap * sizeof(*v));

		if (v == NULL) {
			sw->err = -ENOMEM;
			return;
		}
		sw->v = v;
		sw->cap = cap;
	}
	sw->v[sw->n] =
	        (struct sweep_move){strdup(r->id), r->state, at, strdup(why)};
	if (sw->v[sw->n].id == NULL || sw->v[sw->n].why == NULL) {
		free(sw->v[sw->n].id);
		free(sw->v[sw->n].why);
		sw->err = -ENOMEM;
		return;
	}
	sw->n++;
}

int pause_blackout_sweep(struct smmd *d, int64_t now)
{
	struct sweep sw = {.d = d, .now = now};
	int r, moved = 0;

	/* Without blackouts only what one moved earlier can need moving. */
	r = store_scheduled_rows(d->store, !any_blackouts(d), sweep_row, &sw);
	if (r == 0)
		r = sw.err;
	for (size_t i = 0; i < sw.n; i++) {
		if (r == 0)
			moved += move_to(d, sw.v[i].id, sw.v[i].state,
			                 sw.v[i].at, sw.v[i].why, EVO_CALENDAR,
			                 now);
		free(sw.v[i].id);
		free(sw.v[i].why);
	}
	free(sw.v);
	return r < 0 ? r : moved;
}

void pause_audit(struct smmd *d, const struct pause_actor *who,
                 const char *action, const char *scope, const char *reason,
                 const json_t *detail)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	int r = store_audit_add(d->store, &(struct audit_rec){
	                                          .time_ms = wallclock_now_ms(),
	                                          .uid = who->uid,
	                                          .user = who->user,
	                                          .action = action,
	                                          .scope = scope,
	                                          .reason = reason,
	                                          .detail = text,
	                                  });

	free(text);
	/* The trail is the point: no audit, no action (the turn goes). */
	if (r < 0)
		outage_begin(d);
}

/*
 * Tell the notify channel of each channel p covers (each once) that p
 * began or ended, unless that channel is paused itself: a notice held
 * there would only pile up. A campaign's posts may go to any channel.
 */
static void pause_notices(struct smmd *d, const struct pause *p,
                          const char *verb, const char *who, const char *reason)
{
	const struct config *cfg = d->cfg;
	const char **told = calloc(cfg->nchannels + 1, sizeof(*told));
	char scope[160], text[512], about[200];
	size_t ntold = 0;

	if (told == NULL)
		return;
	scope_of(p, scope, sizeof(scope));
	snprintf(text, sizeof(text), "smmd: %s %s by %s%s%s", scope, verb,
	         who ? who : "?", reason ? ": " : "", reason ? reason : "");
	snprintf(about, sizeof(about), "%s %s", scope, verb);
	for (size_t i = 0; i < cfg->nchannels; i++) {
		const struct channel *ch = &cfg->channels[i];
		size_t j;

		if (ch->notify == NULL ||
		    ((p->kind == PAUSE_CHANNEL || p->kind == PAUSE_AUTH) &&
		     strcmp(p->scope, ch->name)) ||
		    config_channel(cfg, ch->notify) == NULL ||
		    pause_channel_paused(d, ch->notify))
			continue;
		for (j = 0; j < ntold && strcmp(told[j], ch->notify); j++)
			;
		if (j < ntold)
			continue;
		told[ntold++] = ch->notify;
		dispatch_notice(d, ch->notify, text, about);
	}
	free(told);
}

int pause_begin(struct smmd *d, const struct pause_rec *rec,
                const struct pause_actor *who, struct pause **out)
{
	struct pause_rec r = *rec;
	char scope[160];
	json_t *detail;
	int ret;

	r.uid = who->uid;
	r.user = who->user;
	if ((ret = store_pause_add(d->store, &r, &r.id)) < 0)
		return ret;
	if ((*out = pauses_add(d->pauses, &r)) == NULL)
		fatalx("out of memory");
	pause_scope_name(&r, scope, sizeof(scope));
	detail = json_pack("{sI}", "pause", (json_int_t)r.id);
	if (r.until_ms >= 0)
		json_object_set_new(detail, "until", json_integer(r.until_ms));
	if (r.scenario)
		json_object_set_new(detail, "scenario",
		                    json_string(r.scenario));
	pause_audit(d, who, "pause", scope, r.reason, detail);
	json_decref(detail);
	events_scope(d->events,
	             &(struct scope_event){
	                     .kind = EV_PAUSED,
	                     .channel = r.kind == PAUSE_CHANNEL ||
	                                                r.kind == PAUSE_AUTH
	                                        ? r.scope
	                                        : NULL,
	                     .scope = scope,
	                     .by = who->user,
	                     .uid = who->uid,
	                     .reason = r.reason,
	                     .level = LOG_LEVEL_WARNING,
	             });
	/* Prepared deliveries of the scope must not leave either. */
	dispatch_hold_prepared(d);
	pauses_arm(d->pauses);
	return 0;
}

void pause_announce(struct smmd *d, const struct pause *p)
{
	pause_notices(d, p, "paused", p->user, p->reason);
}

/* A held delivery, copied out of the store's row. */
struct held {
	char *id, *channel, *campaign, *source;
	int64_t due_ms;
	int64_t held_by; /* the pause holding it; 0: none known */
};

struct held_list {
	struct held *v;
	size_t n, cap;
	int oom;
};

static void collect_held(void *arg, const struct held_row *r)
{
	struct held_list *l = arg;
	struct held *h;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct held *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			l->oom = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	h = &l->v[l->n++];
	*h = (struct held){
	        .id = strdup(r->id),
	        .channel = strdup(r->channel),
	        .campaign = dup_or_null(r->campaign),
	        .source = dup_or_null(r->source),
	        .due_ms = r->due_ms,
	        .held_by = r->held_by,
	};
	if (h->id == NULL || h->channel == NULL)
		l->oom = 1;
}

static void held_list_free(struct held_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].channel);
		free(l->v[i].campaign);
		free(l->v[i].source);
	}
	free(l->v);
}

int pause_settle(struct smmd *d, const char *id, int publish, const char *why,
                 int pass_pause, int64_t now)
{
	struct moved m;
	int r = store_transition(
	        d->store,
	        &(struct transition){.id = id,
	                             .from = DS_BIT(DS_HELD),
	                             .to = publish ? DS_SCHEDULED : DS_SKIPPED,
	                             .reason = why,
	                             .next_ms = publish ? now : -1,
	                             .now_ms = now,
	                             .pass_pause = pass_pause},
	        &m);

	if (r == -EALREADY || r == -ENOENT)
		return r;
	if (r < 0)
		fatalx("store: cannot settle held delivery '%s'", id);
	for (size_t i = 0; i < m.n; i++) {
		events_change(d->events, EVO_CONTROL, m.ids[i], DS_HELD,
		              publish ? DS_SCHEDULED : DS_SKIPPED,
		              publish ? now : -1, why);
		if (publish && dispatch_schedule(d, m.ids[i], now) < 0)
			log_error("sched: '%s' released but not queued (out "
			          "of memory); it goes out after a restart",
			          m.ids[i]);
	}
	store_moved_clear(&m);
	return r;
}

/* What resuming does with one held delivery: 1 publish, 0 skip, -1 keep. */
static int resume_choice(struct smmd *d, const struct held *h,
                         enum resume_policy policy, int64_t now, char *why,
                         size_t len)
{
	const struct channel *ch = config_channel(d->cfg, h->channel);
	int64_t max = ch ? ch->max_lateness_ms : 60 * 60 * 1000;
	char late[32], limit[32];

	switch (policy) {
	case RESUME_PUBLISH:
		snprintf(why, len, "released on resume (--publish)");
		return 1;
	case RESUME_SKIP:
		snprintf(why, len, "skipped on resume (--skip)");
		return 0;
	case RESUME_REVIEW:
		return -1;
	default:
		break;
	}
	if (now - h->due_ms <= max) {
		snprintf(why, len, "released on resume");
		return 1;
	}
	snprintf(why, len,
	         "skipped on resume: %s late, more than max_lateness (%s)",
	         duration_format(now - h->due_ms, late, sizeof(late)),
	         duration_format(max, limit, sizeof(limit)));
	return 0;
}

/*
 * One held delivery of an ended pause, settled by policy (resume_choice)
 * into *choice (1 released, 0 skipped, -1 kept: held again where another
 * pause covers it, or left for review). Whether it counts: 1 or 0.
 */
static int settle_one(struct smmd *d, const struct held *h,
                      enum resume_policy policy, int64_t now, char *why,
                      size_t len, int *choice)
{
	struct pause *other = gate(d, h->channel, h->campaign, h->source, 0);

	if (other) {
		*choice = -1;
		return hold_id(d, h->id, DS_HELD, other, EVO_CONTROL, now) > 0;
	}
	*choice = resume_choice(d, h, policy, now, why, len);
	if (*choice < 0)
		return 1;
	return pause_settle(d, h->id, *choice, why, 0, now) > 0;
}

/*
 * What pause_id holds, settled by policy (resume_choice), or held again
 * where another pause covers it: counts published, skipped and kept into
 * n. What another node holds under it later is settled so too
 * (pause_followed).
 */
static void settle_held(struct smmd *d, int64_t pause_id,
                        enum resume_policy policy, int64_t now, int64_t n[3])
{
	struct held_list l = {0};
	char why[256];

	n[0] = n[1] = n[2] = 0;
	if (store_held_rows(d->store, pause_id, collect_held, &l) < 0 || l.oom)
		fatalx("store: cannot list held deliveries");
	for (size_t i = 0; i < l.n; i++) {
		int choice, moved = settle_one(d, &l.v[i], policy, now, why,
		                               sizeof(why), &choice);

		n[choice > 0 ? 0 : choice == 0 ? 1 : 2] += moved;
	}
	held_list_free(&l);
}

/* How a resume said to settle what its pause held, kept with the pause. */
static const char *const resume_names[] = {"auto", "publish", "skip", "review"};

static int resume_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(resume_names) / sizeof(*resume_names);
	     i++)
		if (strcmp(name, resume_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * Held under held_by, which is over: settled as its resume said (its
 * resumed_as), unless that was --review or is not known. --publish was
 * said of what the pause held then: one held after it, which this node
 * may learn of much later (it was down), goes only if it is no later
 * than its channel's max_lateness, as under the default policy. h
 * borrowed.
 */
static void settle_ended(struct smmd *d, const struct held *h, int64_t held_by)
{
	char as[16], why[256];
	int policy, choice;

	if (store_pause_resumed(d->store, held_by, as, sizeof(as)) <= 0 ||
	    (policy = resume_parse(as)) < 0 || policy == RESUME_REVIEW)
		return; /* on still (read here soon), or left for a person */
	if (policy == RESUME_PUBLISH)
		policy = RESUME_AUTO;
	if (settle_one(d, h, policy, wallclock_now_ms(), why, sizeof(why),
	               &choice) <= 0)
		return; /* settled meanwhile */
	log_info("pause: '%s', held by another node as pause %lld ended, is "
	         "settled as its resume said (%s): %s",
	         h->id, (long long)held_by, as,
	         choice > 0    ? "released"
	         : choice == 0 ? why
	                       : "held by another pause");
}

static struct pause *pause_by_id(struct pauses *ps, int64_t id)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i]->id == id)
			return ps->v[i];
	return NULL;
}

void pause_followed(struct smmd *d, const char *id, int64_t held_by)
{
	struct delivery_rec rec;

	/* Held under a pause that is on: as it should be. */
	if (d->pauses == NULL || held_by <= 0 ||
	    pause_by_id(d->pauses, held_by) != NULL)
		return;
	if (store_delivery_load(d->store, id, &rec) < 0)
		return;
	if (rec.state == DS_HELD && rec.held_by == held_by)
		settle_ended(d,
		             &(struct held){.id = rec.id,
		                            .channel = rec.channel,
		                            .campaign = rec.campaign,
		                            .source = rec.source,
		                            .due_ms = rec.due_ms},
		             held_by);
	store_delivery_clear(&rec);
}

void pauses_settle_ended(struct smmd *d)
{
	struct held_list l = {0};

	/* Only those: a long pause's holds are not read at every start. */
	if (store_held_rows(d->store, STORE_HELD_ENDED, collect_held, &l) < 0 ||
	    l.oom)
		fatalx("store: cannot list held deliveries");
	for (size_t i = 0; i < l.n; i++)
		settle_ended(d, &l.v[i], l.v[i].held_by);
	held_list_free(&l);
}

int pause_resume(struct smmd *d, struct pause *p, enum resume_policy policy,
                 const struct pause_actor *who, const char *reason, json_t *out)
{
	int64_t now = wallclock_now_ms(), published, skipped, kept, n[3];
	char scope[160], outcome[128];
	json_t *detail;
	int r;

	if ((r = store_pause_end(d->store, p->id, now, resume_names[policy])) <
	    0)
		return r;
	pauses_drop(d->pauses, p);
	settle_held(d, p->id, policy, now, n);
	published = n[0], skipped = n[1], kept = n[2];
	scope_of(p, scope, sizeof(scope));
	detail = json_pack("{sI ss sI sI sI}", "pause", (json_int_t)p->id,
	                   "policy", resume_names[policy], "published",
	                   (json_int_t)published, "skipped",
	                   (json_int_t)skipped, "held", (json_int_t)kept);
	pause_audit(d, who, "resume", scope, reason, detail);
	json_object_update(out, detail);
	json_object_set_new(out, "scope", json_string(scope));
	json_decref(detail);
	snprintf(outcome, sizeof(outcome),
	         "%lld published, %lld skipped, %lld still held (%s)",
	         (long long)published, (long long)skipped, (long long)kept,
	         resume_names[policy]);
	events_scope(d->events,
	             &(struct scope_event){
	                     .kind = EV_RESUMED,
	                     .channel = p->kind == PAUSE_CHANNEL ||
	                                                p->kind == PAUSE_AUTH
	                                        ? p->scope
	                                        : NULL,
	                     .scope = scope,
	                     .by = who->user,
	                     .uid = who->uid,
	                     .reason = reason,
	                     .outcome = outcome,
	                     .level = LOG_LEVEL_WARNING,
	             });
	pause_notices(d, p, "resumed", who->user, reason);
	pause_free(p);
	pauses_arm(d->pauses);
	return 0;
}

struct stored_json {
	struct smmd *d;
	json_t *arr;
};

static void stored_json(void *arg, const struct pause_rec *r)
{
	struct stored_json *s = arg;
	struct pause p = {
	        .id = r->id,
	        .kind = r->kind,
	        .scope = (char *)r->scope,
	        .since_ms = r->since_ms,
	        .until_ms = r->until_ms,
	        .uid = r->uid,
	        .user = (char *)r->user,
	        .reason = (char *)r->reason,
	        .scenario = (char *)r->scenario,
	};

	json_array_append_new(s->arr, pause_json(s->d, &p));
}

json_t *pauses_json_stored(struct smmd *d)
{
	struct stored_json s = {.d = d, .arr = json_array()};

	if (s.arr && store_pauses(d->store, stored_json, &s) < 0) {
		json_decref(s.arr);
		return json_null();
	}
	return s.arr ? s.arr : json_null();
}

json_t *pause_json(struct smmd *d, const struct pause *p)
{
	char t[TIME_RFC3339_LEN], scope[160];
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(p->id));
	json_object_set_new(o, "scope",
	                    json_string(scope_of(p, scope, sizeof(scope))));
	if (p->kind == PAUSE_AUTH)
		json_object_set_new(o, "needs_auth", json_string(p->scope));
	json_object_set_new(o, "since",
	                    json_string(time_format_rfc3339(p->since_ms, t)));
	json_object_set_new(o, "until",
	                    p->until_ms >= 0 ? json_string(time_format_rfc3339(
	                                               p->until_ms, t))
	                                     : json_null());
	json_object_set_new(o, "by",
	                    p->user ? json_string(p->user) : json_null());
	json_object_set_new(o, "uid", json_integer(p->uid));
	json_object_set_new(o, "reason",
	                    p->reason ? json_string(p->reason) : json_null());
	if (p->scenario)
		json_object_set_new(o, "scenario", json_string(p->scenario));
	/* From the store: release, skip and cancel change it too. */
	json_object_set_new(o, "held",
	                    json_integer(store_held_count(d->store, p->id)));
	return o;
}
