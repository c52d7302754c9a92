/*
 * The channels' posting slots at work: the next free slot for a post
 * (add --next-slot), and the queue command, which shows a channel's
 * upcoming slots, taken and free. A slot is free on a channel when no
 * delivery of it is due at that instant and goes, or went, out; a post on
 * several channels takes an instant that is a slot of each and free on
 * each. Adds run one at a time on the loop, and each sees the turn's own
 * writes: fifty at once get fifty slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "command.h"
#include "config.h"
#include "pause.h"
#include "queue.h"
#include "slots.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

/* How far a search goes: a year of hourly slots on every day. */
#define PICK_MAX_TRIES  10000
#define QUEUE_MAX_WEEKS 52

const struct caltime_zone *queue_zone(const struct smmd *d,
                                      const struct channel *ch)
{
	return config_channel_zone(ch, d->calendar_zone);
}

/* The first instant >= t that is a slot of every channel; -1 if none. */
static int64_t common_slot(const struct smmd *d,
                           const struct channel *const *chs, size_t n,
                           int64_t t)
{
	for (int tries = 0; tries < PICK_MAX_TRIES; tries++) {
		int64_t c = -1;
		int agree = 1;

		for (size_t i = 0; i < n; i++) {
			int64_t ci = slots_next(chs[i]->slots,
			                        queue_zone(d, chs[i]), t);

			if (ci < 0)
				return -1;
			if (c >= 0 && ci != c)
				agree = 0;
			if (ci > c)
				c = ci;
		}
		if (agree)
			return c;
		t = c;
	}
	return -1;
}

int slot_claims_add(struct slot_claims *c, const char *channel, int64_t t)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		const char **ch = realloc(c->channel, cap * sizeof(*ch));
		int64_t *at;

		if (ch == NULL)
			return -1;
		c->channel = ch;
		if ((at = realloc(c->at, cap * sizeof(*at))) == NULL)
			return -1;
		c->at = at;
		c->cap = cap;
	}
	c->channel[c->n] = channel;
	c->at[c->n++] = t;
	return 0;
}

void slot_claims_free(struct slot_claims *c)
{
	free(c->channel);
	free(c->at);
	*c = (struct slot_claims){0};
}

static int claimed(const struct slot_claims *c, const char *channel, int64_t t)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->at[i] == t && strcmp(c->channel[i], channel) == 0)
			return 1;
	return 0;
}

/* A slot in a blackout is no slot: a post placed there would move. */
static int in_blackout(struct smmd *d, const char *channel,
                       const char *campaign, int64_t t)
{
	struct blackout_place bp;

	return pause_blackout(d,
	                      &(struct blackout_ask){.channel = channel,
	                                             .campaign = campaign,
	                                             .source = "adhoc",
	                                             .at = t},
	                      &bp);
}

int64_t queue_pick(struct smmd *d, const char *const *channels, size_t n,
                   const char *campaign, int64_t from_ms,
                   const struct slot_claims *claims, char *err, size_t errlen)
{
	const struct channel *chs[64];
	int64_t t = from_ms;

	if (n > sizeof(chs) / sizeof(chs[0]))
		n = sizeof(chs) / sizeof(chs[0]);
	for (size_t i = 0; i < n; i++) {
		chs[i] = config_channel(d->cfg, channels[i]);
		if (chs[i] == NULL || chs[i]->slots == NULL ||
		    chs[i]->slots->n == 0) {
			snprintf(err, errlen,
			         "channel '%s' has no slots (add 'slots:' to "
			         "it in smmd.yaml)",
			         channels[i]);
			return -1;
		}
	}
	for (int tries = 0; tries < PICK_MAX_TRIES; tries++) {
		int taken = 0, r;

		if ((t = common_slot(d, chs, n, t)) < 0)
			break;
		for (size_t i = 0; i < n && !taken; i++) {
			if ((r = store_slot_taken(d->store, chs[i]->name, t,
			                          NULL, 0)) < 0) {
				snprintf(err, errlen, "cannot read the store");
				return -1;
			}
			taken = r || claimed(claims, chs[i]->name, t) ||
			        in_blackout(d, chs[i]->name, campaign, t);
		}
		if (!taken)
			return t;
		t++;
	}
	snprintf(err, errlen, "%s within a year",
	         n > 1 ? "no instant is a free slot of every one of these "
	                 "channels (are their slots in different zones?)"
	               : "no free slot on this channel");
	return -1;
}

/* The slot of ch at instant t, for the queue's lines ("Mon-Fri 09:00"). */
static void slot_label(const struct smmd *d, const struct channel *ch,
                       int64_t t, char *buf, size_t len)
{
	struct caltime_civil c;
	int minute;

	caltime_utc_to_local(queue_zone(d, ch), t / 1000, &c);
	minute = c.hour * 60 + c.min;
	buf[0] = '\0';
	for (size_t i = 0; i < ch->slots->n; i++)
		if (ch->slots->v[i].minute == minute)
			slot_format(&ch->slots->v[i], buf, len);
}

/* queue: CHANNEL's slots over the next weeks, each taken (by) or free. */
static enum cmd_retval cmd_queue(struct cmd_ctx *x)
{
	const struct channel *ch;
	const char *name;
	unsigned weeks = 2;
	int64_t now = wallclock_now_ms(), end, t;
	char by[160], when[TIME_RFC3339_LEN], label[64], *sys;
	struct blackout_place bp;
	json_t *slots;
	int r;

	if (cmd_arg_string(x, "channel", &name, 1) < 0 ||
	    cmd_check_channel(x, name) < 0 ||
	    cmd_arg_limit(x, "weeks", QUEUE_MAX_WEEKS, &weeks) < 0)
		return CMD_ERROR;
	ch = config_channel(x->d->cfg, name);
	if (ch->slots == NULL || ch->slots->n == 0)
		return cmd_fail(x, SMM_ERR_CONFLICT,
		                "channel '%s' has no slots (add 'slots:' to it "
		                "in smmd.yaml)",
		                name);
	end = now + (int64_t)weeks * 7 * 86400 * 1000;
	slots = json_array();
	for (t = slots_next(ch->slots, queue_zone(x->d, ch), now);
	     t >= 0 && t < end;
	     t = slots_next(ch->slots, queue_zone(x->d, ch), t + 1)) {
		if ((r = store_slot_taken(x->d->store, name, t, by,
		                          sizeof(by))) < 0) {
			json_decref(slots);
			return cmd_store_error(x, r, "read");
		}
		slot_label(x->d, ch, t, label, sizeof(label));
		json_array_append_new(
		        slots,
		        json_pack("{s:s, s:s, s:s?, s:s?}", "at",
		                  time_format_rfc3339(t, when), "slot", label,
		                  "taken_by", r ? by : NULL, "blackout",
		                  pause_blackout(x->d,
		                                 &(struct blackout_ask){
		                                         .channel = name,
		                                         .source = "adhoc",
		                                         .at = t},
		                                 &bp)
		                          ? bp.why
		                          : NULL));
	}
	sys = ch->timezone || x->d->calendar_zone ? NULL
	                                          : caltime_system_zone_name();
	*x->result = json_pack("{s:s, s:s, s:o}", "channel", name, "timezone",
	                       ch->timezone          ? ch->timezone
	                       : x->d->calendar_zone ? x->d->calendar_zone
	                       : sys                 ? sys
	                                             : "UTC",
	                       "slots", slots);
	free(sys);
	return CMD_DONE;
}

const struct cmd_entry cmd_queue_entry = {
        .name = "queue",
        .run = cmd_queue,
        .help = "a channel's upcoming posting slots, taken and free",
};
