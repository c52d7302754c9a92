/* The commands that change posts: add, cancel, retry, resolve. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "blackout.h"
#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "pause.h"
#include "postid.h"
#include "queue.h"
#include "route.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "textcheck.h"
#include "timeparse.h"
#include "urlcheck.h"
#include "view.h"
#include "wallclock.h"

#define ADD_MAX_MEDIA   16
#define DELIVERY_ID_MAX (POSTID_MAX * 2 + 2)

/* "channels": ["a", "b"] or "channel": "a"; each must be configured. */
static int add_channels(struct cmd_ctx *x, const char **names, size_t *n)
{
	json_t *arr = json_object_get(x->args, "channels");
	json_t *one = json_object_get(x->args, "channel");
	size_t i;
	json_t *v;

	*n = 0;
	if (one && arr)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "give 'channel' or 'channels', not both");
	if (one) {
		if (!json_is_string(one))
			return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
			                "'channel' must be a string");
		names[(*n)++] = json_string_value(one);
	} else if (arr) {
		if (!json_is_array(arr) || json_array_size(arr) == 0 ||
		    json_array_size(arr) > ADD_MAX_CHANNELS)
			return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
			                "'channels' must be a list of 1 to %d "
			                "channel names",
			                ADD_MAX_CHANNELS);
		json_array_foreach (arr, i, v) {
			if (!json_is_string(v))
				return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
				                "'channels' must hold strings");
			for (size_t j = 0; j < *n; j++)
				if (strcmp(names[j], json_string_value(v)) == 0)
					return cmd_fail(
					        x, SMM_ERR_INVALID_ARGUMENT,
					        "channel '%s' is listed twice",
					        names[j]);
			names[(*n)++] = json_string_value(v);
		}
	} else {
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "missing 'channels': which channel to post on");
	}
	for (i = 0; i < *n; i++)
		if (cmd_check_channel(x, names[i]) < 0)
			return -1;
	return 0;
}

/*
 * "media": at most ADD_MAX_MEDIA http(s) URLs or media_dir file names.
 * When absent, *out is a new empty list, also put in *owned to free.
 */
static int add_media(struct cmd_ctx *x, const json_t **out, json_t **owned)
{
	const json_t *media = json_object_get(x->args, "media");
	size_t i;
	json_t *v;

	if (media == NULL) {
		if ((*owned = json_array()) == NULL)
			return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
		*out = *owned;
		return 0;
	}
	if (!json_is_array(media) || json_array_size(media) > ADD_MAX_MEDIA)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'media' must be a list of at most %d URLs",
		                ADD_MAX_MEDIA);
	json_array_foreach (media, i, v) {
		const char *m = json_string_value(v);

		/* A URL must be one curl parses, with a host, as --link. */
		if (m == NULL ||
		    (url_is_http(m)
		             ? urlcheck(m, URLCHECK_PREFIX) != URLCHECK_OK
		             : !media_name_valid(m)))
			return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
			                "'media' entries must be http or https "
			                "URLs, or file names in the channel's "
			                "media_dir");
	}
	*out = media;
	return 0;
}

/*
 * The text fits every channel, measured as its network counts (the
 * calendar makes the same check): every channel it is too long for, at
 * once.
 */
static int add_text_fits(struct cmd_ctx *x, const char *text, const char *link,
                         const char *const *channels, size_t n)
{
	char all[1024] = "", why[512];
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		const struct channel *ch =
		        config_channel(x->d->cfg, channels[i]);

		if (ch && textcheck(ch, text, link, why, sizeof(why)) &&
		    used < sizeof(all))
			used += (size_t)snprintf(all + used, sizeof(all) - used,
			                         "%s%s", used ? "; " : "", why);
	}
	if (used == 0)
		return 0;
	return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT, "%s", all);
}

/* "at": when, now by default; more than a minute past is refused. */
static int add_due(struct cmd_ctx *x, int64_t now, int64_t *due)
{
	char when[TIME_RFC3339_LEN], ago[32];

	*due = now;
	if (cmd_arg_time(x, "at", due) < 0)
		return -1;
	if (*due < now - SMM_ADD_MAX_PAST_MS)
		return cmd_fail(x, SMM_ERR_TOO_LATE,
		                "%s is %s in the past (more than a minute): "
		                "refusing to post it late",
		                time_format_rfc3339(*due, when),
		                duration_format(now - *due, ago, sizeof(ago)));
	return 0;
}

/* next_slot: the first free slot from the due time (now, or "at"). */
static int add_slot(struct cmd_ctx *x, const char *const *channels, size_t n,
                    const char *campaign, const struct slot_claims *claims,
                    int64_t *due)
{
	char err[256];
	int64_t t;
	int want;

	if (cmd_arg_bool(x, "next_slot", &want) < 0)
		return -1;
	if (!want)
		return 0;
	if ((t = queue_pick(x->d, channels, n, campaign, *due, claims, err,
	                    sizeof(err))) < 0)
		return cmd_fail(x, SMM_ERR_CONFLICT, "no slot: %s", err);
	*due = t;
	return 0;
}

/* "id": the caller's, checked, or a new one in gen. */
static int add_id(struct cmd_ctx *x, int64_t now, char *gen, const char **id)
{
	uint64_t rnd = 0;

	if (cmd_arg_string(x, "id", id, 0) < 0)
		return -1;
	if (*id && !postid_valid(*id))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "invalid post id '%.200s': use 1 to %d "
		                "letters, digits or ._:@+-",
		                *id, POSTID_MAX);
	if (*id)
		return 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)now * 2654435761u;
	postid_generate(now, rnd, gen);
	*id = gen;
	return 0;
}

/*
 * One queued delivery, waiting in state, as the reply says it; one due in
 * a blackout is shifted now, or says it will be held, and why.
 */
static json_t *add_delivery_json(struct cmd_ctx *x, const struct post_new *p,
                                 const char *did, size_t i, int state,
                                 const char *when)
{
	struct blackout_place bp;
	char at[TIME_RFC3339_LEN];
	json_t *o = json_pack(
	        "{s:s, s:s, s:s, s:s}", "id", did, "channel", p->channels[i],
	        "state", state_name((enum delivery_state)state), "due", when);

	if (o && pause_blackout_place(
	                 x->d,
	                 &(struct blackout_ask){.id = did,
	                                        .channel = p->channels[i],
	                                        .campaign = p->campaign,
	                                        .source = p->source,
	                                        .state = state,
	                                        .at = p->due_ms},
	                 EVO_CONTROL, wallclock_now_ms(), &bp)) {
		json_object_set_new(o, "blackout", json_string(bp.why));
		json_object_set_new(
		        o, "blackout_action",
		        json_string(blackout_action_name(bp.action)));
		if (bp.at_ms >= 0)
			json_object_set_new(
			        o, "goes",
			        json_string(time_format_rfc3339(bp.at_ms, at)));
	}
	return o;
}

/*
 * Stored: queue each delivery (a draft too: the gate holds it when due)
 * and say what was queued, and whether it awaits an approval.
 */
static json_t *add_queued(struct cmd_ctx *x, const struct post_new *p)
{
	char did[DELIVERY_ID_MAX], when[TIME_RFC3339_LEN];
	json_t *out = json_array();
	size_t drafts = 0;

	time_format_rfc3339(p->due_ms, when);
	for (size_t i = 0; i < p->nchannels; i++) {
		enum delivery_state state =
		        p->drafts && p->drafts[i] ? DS_DRAFT : DS_SCHEDULED;

		drafts += state == DS_DRAFT;
		snprintf(did, sizeof(did), "%s/%s", p->id, p->channels[i]);
		events_change(x->d->events, EVO_CONTROL, did, -1, state,
		              p->due_ms, NULL);
		if (dispatch_schedule(x->d, did, p->due_ms) < 0)
			log_error("sched: cannot queue '%s' (out of memory); "
			          "it runs after a restart",
			          did);
		json_array_append_new(
		        out, add_delivery_json(x, p, did, i, (int)state, when));
	}
	if (drafts)
		log_info("control: post '%s' queued for %s on %zu channel%s, "
		         "awaiting approval on %zu",
		         p->id, when, p->nchannels,
		         p->nchannels == 1 ? "" : "s", drafts);
	else
		log_info("control: post '%s' queued for %s on %zu channel%s",
		         p->id, when, p->nchannels,
		         p->nchannels == 1 ? "" : "s");
	return json_pack("{s:s, s:o, s:b}", "id", p->id, "deliveries", out,
	                 "awaiting_approval", drafts > 0);
}

void add_req_clear(struct add_req *a)
{
	json_decref(a->empty);
	a->empty = NULL;
}

int add_check(struct cmd_ctx *x, int64_t now, const struct slot_claims *claims,
              struct add_req *a)
{
	struct post_new *p = &a->p;

	*p = (struct post_new){.source = "adhoc", .channels = a->channels};
	a->empty = NULL;
	/* Each step names its field first, for an import's messages. */
	if ((a->field = "channels",
	     add_channels(x, a->channels, &p->nchannels) < 0) ||
	    (a->field = "text", cmd_arg_string(x, "text", &p->text, 1) < 0) ||
	    (a->field = "link", cmd_arg_string(x, "link", &p->link, 0) < 0) ||
	    (a->field = "campaign",
	     cmd_arg_string(x, "campaign", &p->campaign, 0) < 0))
		return -1;
	a->field = "text";
	if (p->text[strspn(p->text, " \t\r\n")] == '\0')
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "the text is empty");
	if (add_text_fits(x, p->text, p->link, a->channels, p->nchannels) < 0)
		return -1;
	a->field = "link";
	if (p->link && urlcheck(p->link, URLCHECK_PREFIX) != URLCHECK_OK)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'link' must be an http or https URL");
	if ((a->field = "at", add_due(x, now, &p->due_ms) < 0) ||
	    add_slot(x, a->channels, p->nchannels, p->campaign, claims,
	             &p->due_ms) < 0 ||
	    (a->field = "id", add_id(x, now, a->gen_id, &p->id) < 0) ||
	    (a->field = "media", add_media(x, &p->media, &a->empty) < 0))
		return -1;
	/* Drafts where the channel wants an approval first. */
	for (size_t i = 0; i < p->nchannels; i++)
		a->drafts[i] =
		        (unsigned char)config_channel(x->d->cfg, a->channels[i])
		                ->require_approval;
	p->drafts = a->drafts;
	a->field = NULL;
	return 0;
}

json_t *add_store(struct cmd_ctx *x, struct add_req *a, int64_t now)
{
	int r = store_add_post(x->d->store, &a->p, now);

	if (r == -EEXIST) {
		cmd_fail(x, SMM_ERR_EXISTS, "post id '%s' already exists",
		         a->p.id);
		return NULL;
	}
	if (r < 0) {
		cmd_store_error(x, r, "write");
		return NULL;
	}
	return add_queued(x, &a->p);
}

/* A new post on one or more channels, now or at a given time. */
static enum cmd_retval cmd_add(struct cmd_ctx *x)
{
	int64_t now = wallclock_now_ms();
	struct add_req a;

	if (add_check(x, now, NULL, &a) < 0) {
		add_req_clear(&a);
		return CMD_ERROR;
	}
	*x->result = add_store(x, &a, now);
	add_req_clear(&a);
	return *x->result ? CMD_DONE : CMD_ERROR;
}

/* Withdraw a delivery, or every waiting delivery of a post, here. */
static enum cmd_retval cancel_here(struct cmd_ctx *x, const char *id)
{
	const char *did;
	json_t *cancelled, *withdrawn, *before, *v;
	size_t i;
	int r;

	/* Every event needs the state it leaves: read them first. */
	if ((before = route_states(x, id)) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "cannot read '%.200s'",
		                id);
	/* Prepared a moment ahead of its time but not sent: still ours. */
	withdrawn = dispatch_withdraw(x->d, id);
	r = view_cancel(x->d->store, id, wallclock_now_ms(), &cancelled, x->msg,
	                x->msglen);
	if (r == -EALREADY && json_array_size(withdrawn) > 0) {
		cancelled = json_array();
		r = 0;
	}
	if (r < 0) {
		json_decref(withdrawn);
		json_decref(before);
		return cmd_store_error(x, r, "update");
	}
	json_array_foreach (cancelled, i, v) {
		did = json_string_value(v);
		events_change(x->d->events, EVO_CONTROL, did,
		              state_parse(json_string_value(
		                      json_object_get(before, did))),
		              DS_CANCELLED, -1, NULL);
	}
	json_decref(before);
	/* The withdrawn ones had their events from dispatch_withdraw. */
	json_array_extend(cancelled, withdrawn);
	json_decref(withdrawn);
	json_array_foreach (cancelled, i, v) {
		dispatch_unschedule(x->d, json_string_value(v));
	}
	*x->result = json_pack("{s:o}", "cancelled", cancelled);
	return CMD_DONE;
}

static enum cmd_retval cmd_cancel(struct cmd_ctx *x)
{
	const char *id;

	if (cmd_arg_string(x, "id", &id, 1) < 0)
		return CMD_ERROR;
	/* Beside workers: each where its channel is fired (route.h). */
	if (route_may(x))
		return route_split(x, id, "cancel", "cancelled", DS_WAITING,
		                   cancel_here);
	return cancel_here(x, id);
}

/* A delivery's state now, for its event's "from"; -1 if unreadable. */
static int state_now(struct cmd_ctx *x, const char *id)
{
	struct delivery_rec rec;
	int state;

	if (store_delivery_load(x->d->store, id, &rec) < 0)
		return -1;
	state = (int)rec.state;
	store_delivery_clear(&rec);
	return state;
}

/*
 * A delivery id for retry/resolve: "POST/CHANNEL", or a post id when the
 * post has a single delivery.
 */
static int delivery_arg(struct cmd_ctx *x, char *out, size_t len)
{
	const char *id;
	json_t *shown = NULL, *deliveries;
	int r;

	if (cmd_arg_string(x, "id", &id, 1) < 0)
		return -1;
	if (strchr(id, '/')) {
		snprintf(out, len, "%s", id);
		return 0;
	}
	if ((r = view_show(x->d->store, id, &shown)) < 0) {
		snprintf(x->msg, x->msglen, "no post or delivery '%.200s'", id);
		return cmd_store_error(x, r, "read");
	}
	deliveries = json_object_get(shown, "deliveries");
	if (json_array_size(deliveries) != 1) {
		cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		         "post '%.200s' has %zu deliveries: name one as "
		         "POST/CHANNEL",
		         id, json_array_size(deliveries));
		json_decref(shown);
		return -1;
	}
	snprintf(out, len, "%s",
	         json_string_value(
	                 json_object_get(json_array_get(deliveries, 0), "id")));
	json_decref(shown);
	return 0;
}

/* Send an unknown or failed delivery again, now, with the same id. */
static enum cmd_retval cmd_retry(struct cmd_ctx *x)
{
	char id[DELIVERY_ID_MAX];
	int64_t now = wallclock_now_ms();
	int r, from;

	if (delivery_arg(x, id, sizeof(id)) < 0)
		return CMD_ERROR;
	/* Beside workers: its channel's node sends it at once. */
	if (route_away(x, postid_channel(id))) {
		json_t *args = json_pack("{s:s}", "id", id);
		enum cmd_retval rv =
		        route_command(x, "retry", args, postid_channel(id));

		json_decref(args);
		return rv;
	}
	from = state_now(x, id);
	r = view_settle(x->d->store, id, DS_RETRY_WAIT, NULL, now, x->msg,
	                x->msglen);
	if (r < 0)
		return cmd_store_error(x, r, "update");
	events_change(x->d->events, EVO_CONTROL, id, from, DS_RETRY_WAIT, now,
	              NULL);
	if (dispatch_schedule(x->d, id, now) < 0)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	*x->result = json_pack("{s:s, s:s}", "id", id, "state", "retry_wait");
	return CMD_DONE;
}

/* Record by hand what happened to an unknown or failed delivery. */
static enum cmd_retval cmd_resolve(struct cmd_ctx *x)
{
	char id[DELIVERY_ID_MAX];
	const char *outcome, *url;
	enum delivery_state state;
	int r, from;

	if (delivery_arg(x, id, sizeof(id)) < 0 ||
	    cmd_arg_string(x, "outcome", &outcome, 1) < 0 ||
	    cmd_arg_string(x, "url", &url, 0) < 0)
		return CMD_ERROR;
	if (strcmp(outcome, "published") == 0)
		state = DS_PUBLISHED;
	else if (strcmp(outcome, "failed") == 0)
		state = DS_FAILED;
	else
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'outcome' must be published or failed");
	if (url && (state != DS_PUBLISHED || !url_is_http(url)))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'url' goes with published and must be "
		                "http(s)");
	from = state_now(x, id);
	r = view_settle(x->d->store, id, state, url, wallclock_now_ms(), x->msg,
	                x->msglen);
	if (r < 0)
		return cmd_store_error(x, r, "update");
	events_change(x->d->events, EVO_CONTROL, id, from, state, -1,
	              state == DS_FAILED ? "marked failed by hand" : NULL);
	*x->result = json_pack("{s:s, s:s}", "id", id, "state", outcome);
	return CMD_DONE;
}

const struct cmd_entry cmd_add_entry = {
        .name = "add",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_add,
        .help = "queue a new post on one or more channels",
};
const struct cmd_entry cmd_cancel_entry = {
        .name = "cancel",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_cancel,
        .help = "withdraw a delivery, or a post's waiting deliveries",
};
const struct cmd_entry cmd_retry_entry = {
        .name = "retry",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_retry,
        .help = "send an unknown or failed delivery again, now",
};
const struct cmd_entry cmd_resolve_entry = {
        .name = "resolve",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_resolve,
        .help = "record what happened to an unknown or failed delivery",
};
