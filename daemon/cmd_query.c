/* The commands that only read: list, show, status, agenda. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engage.h"
#include "command.h"
#include "dispatch.h"
#include "config.h"
#include "events.h"
#include "looptime.h"
#include "pause.h"
#include "sched.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "view.h"
#include "wallclock.h"

#define LIST_DEFAULT         1000
#define LIST_MAX             100000
#define AGENDA_SPAN_MS       (14LL * 24 * 60 * 60 * 1000)
#define AGENDA_LIMIT_DEFAULT 10000
#define AGENDA_LIMIT_MAX     100000

/* A read off the loop (cmd_read.c), with what the request asked. */
struct query_job {
	struct cmd_read base; /* first: the job is freed as this */
	int state, awaiting;
	unsigned limit;
	struct agenda_query q;
	char *id, *channel; /* show's id, agenda's channel: copies */
};

static void query_job_free(struct cmd_read *base)
{
	struct query_job *j = (struct query_job *)base;

	free(j->id);
	free(j->channel);
	free(j);
}

static struct query_job *
        query_job_new(enum cmd_retval (*run)(struct cmd_ctx *, struct store *,
                                             struct cmd_read *))
{
	struct query_job *j = calloc(1, sizeof(*j));

	if (j) {
		j->base.run = run;
		j->base.free = query_job_free;
	}
	return j;
}

static enum cmd_retval list_read(struct cmd_ctx *x, struct store *s,
                                 struct cmd_read *base)
{
	struct query_job *j = (struct query_job *)base;

	if ((j->awaiting ? view_awaiting(s, j->limit, x->result)
	                 : view_list(s, j->state, j->limit, x->result)) < 0)
		return cmd_fail(x, SMM_ERR_INTERNAL, "cannot read the store");
	return CMD_DONE;
}

/*
 * Deliveries by due time: all, in one state, or awaiting an approval
 * (drafts, and those held for want of one). Up to 100,000 rows: read off
 * the loop.
 */
static enum cmd_retval cmd_list(struct cmd_ctx *x)
{
	const char *status;
	unsigned n = LIST_DEFAULT;
	int state = -1, awaiting = 0;
	struct query_job *j;

	if (cmd_arg_string(x, "status", &status, 0) < 0 ||
	    cmd_arg_bool(x, "awaiting_approval", &awaiting) < 0)
		return CMD_ERROR;
	if (awaiting && status)
		return cmd_fail(
		        x, SMM_ERR_INVALID_ARGUMENT,
		        "give 'status' or 'awaiting_approval', not both");
	if (status && (state = state_parse(status)) < 0)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "unknown status '%s' (known: %s)", status,
		                state_list());
	if (cmd_arg_limit(x, "limit", LIST_MAX, &n) < 0)
		return CMD_ERROR;
	if ((j = query_job_new(list_read)) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	j->state = state;
	j->awaiting = awaiting;
	j->limit = n;
	return cmd_read_later(x, &j->base);
}

static enum cmd_retval show_read(struct cmd_ctx *x, struct store *s,
                                 struct cmd_read *base)
{
	struct query_job *j = (struct query_job *)base;
	int r;

	if ((r = view_show(s, j->id, x->result)) < 0) {
		snprintf(x->msg, x->msglen, "no post or delivery '%.200s'",
		         j->id);
		return cmd_store_error(x, r, "read");
	}
	return CMD_DONE;
}

/*
 * A post with its deliveries, or one delivery, with every attempt: point
 * lookups, but a post may go to hundreds of channels, each with its
 * attempts; off the loop like the rest.
 */
static enum cmd_retval cmd_show(struct cmd_ctx *x)
{
	const char *id;
	struct query_job *j;

	if (cmd_arg_string(x, "id", &id, 1) < 0)
		return CMD_ERROR;
	if ((j = query_job_new(show_read)) == NULL ||
	    (j->id = strdup(id)) == NULL) {
		if (j)
			query_job_free(&j->base);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	return cmd_read_later(x, &j->base);
}

/* The daemon at a glance: version, uptime, counts per state, channels. */
static enum cmd_retval cmd_status(struct cmd_ctx *x)
{
	int64_t counts[DS_COUNT], next = sched_next_due(x->d->sched);
	int64_t now = wallclock_now_ms();
	char started[TIME_RFC3339_LEN], next_s[TIME_RFC3339_LEN];
	struct events_follow_stats fs;
	json_t *c, *channels, *cluster;
	int r;

	/* Kept, not counted again per request: by the store when other
	 * nodes write to it (they move its deliveries without an event
	 * here), else by the event bus. */
	if ((r = store_kept_counts(x->d->store, counts)) < 0)
		return cmd_store_error(x, r, "read");
	if (r == 0)
		events_counts(x->d->events, counts);
	events_follow_stats(x->d->events, &fs);
	c = json_object();
	for (int i = 0; i < DS_COUNT; i++)
		json_object_set_new(c, state_name(i), json_integer(counts[i]));
	channels = json_array();
	for (size_t i = 0; i < x->d->cfg->nchannels; i++)
		json_array_append_new(channels,
		                      json_string(x->d->cfg->channels[i].name));
	*x->result = json_pack(
	        "{s:s, s:i, s:I, s:s, s:I, s:I, s:o, s:o, s:o}", "version",
	        PACKAGE_VERSION, "protocol", SMM_PROTOCOL_VERSION, "pid",
	        (json_int_t)getpid(), "started",
	        time_format_rfc3339(x->d->started_ms, started), "uptime_s",
	        (json_int_t)((now - x->d->started_ms) / 1000), "in_flight",
	        (json_int_t)x->d->in_flight, "next_due",
	        next >= 0 ? json_string(time_format_rfc3339(next, next_s))
	                  : json_null(),
	        "counts", c, "channels", channels);
	if (*x->result == NULL)
		return CMD_DONE; /* command_run says: out of memory */
	json_object_set_new(*x->result, "followers",
	                    json_integer((json_int_t)fs.followers));
	json_object_set_new(*x->result, "followers_dropped",
	                    json_integer((json_int_t)fs.dropped));
	json_object_set_new(*x->result, "events_missed",
	                    json_integer((json_int_t)fs.missed));
	json_object_set_new(*x->result, "loop", looptime_json(x->d->looptime));
	/* A standby runs neither: its view has the working node's pauses,
	 * and the working node's status its engagement. */
	json_object_set_new(*x->result, "pauses",
	                    x->d->standby ? pauses_json_stored(x->d)
	                                  : cmd_pauses_json(x->d));
	json_object_set_new(*x->result, "engagement",
	                    x->d->standby ? json_null() : engage_json(x->d));
	cluster = store_cluster_json(x->d->store);
	json_object_set_new(*x->result, "cluster",
	                    cluster ? cluster : json_null());
	json_object_set_new(*x->result, "unlisted",
	                    dispatch_unlisted_json(x->d));
	return CMD_DONE;
}

static enum cmd_retval agenda_read(struct cmd_ctx *x, struct store *s,
                                   struct cmd_read *base)
{
	struct query_job *j = (struct query_job *)base;
	char from[TIME_RFC3339_LEN], to[TIME_RFC3339_LEN];
	int r;

	if ((r = view_agenda(s, &j->q, x->result)) < 0)
		return cmd_store_error(x, r, "read");
	json_object_set_new(
	        *x->result, "from",
	        json_string(time_format_rfc3339(j->q.from_ms, from)));
	json_object_set_new(*x->result, "to",
	                    json_string(time_format_rfc3339(j->q.to_ms, to)));
	return CMD_DONE;
}

/*
 * The deliveries due in [from, to), by due time, for smmctl calendar and
 * export. The default range is the next two weeks, like the calendar's
 * horizon; from alone reaches two weeks past it. Read off the loop.
 */
static enum cmd_retval cmd_agenda(struct cmd_ctx *x)
{
	struct agenda_query q = {.limit = AGENDA_LIMIT_DEFAULT};
	char from[TIME_RFC3339_LEN], to[TIME_RFC3339_LEN];
	struct query_job *j;

	q.from_ms = wallclock_now_ms();
	if (cmd_arg_time(x, "from", &q.from_ms) < 0)
		return CMD_ERROR;
	q.to_ms = q.from_ms + AGENDA_SPAN_MS;
	if (cmd_arg_time(x, "to", &q.to_ms) < 0 ||
	    cmd_arg_channel(x, "channel", &q.channel) < 0 ||
	    cmd_arg_bool(x, "full", &q.full) < 0 ||
	    cmd_arg_bool(x, "cancelled", &q.cancelled) < 0 ||
	    cmd_arg_limit(x, "limit", AGENDA_LIMIT_MAX, &q.limit) < 0)
		return CMD_ERROR;
	if (q.to_ms <= q.from_ms)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'to' (%s) must come after 'from' (%s)",
		                time_format_rfc3339(q.to_ms, to),
		                time_format_rfc3339(q.from_ms, from));
	if ((j = query_job_new(agenda_read)) == NULL ||
	    (q.channel && (j->channel = strdup(q.channel)) == NULL)) {
		if (j)
			query_job_free(&j->base);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	j->q = q;
	j->q.channel = j->channel; /* the request's is gone by then */
	return cmd_read_later(x, &j->base);
}

const struct cmd_entry cmd_list_entry = {
        .name = "list",
        .flags = CMD_OFFLOOP,
        .run = cmd_list,
        .help = "deliveries by due time, all or in one state",
};
const struct cmd_entry cmd_show_entry = {
        .name = "show",
        .flags = CMD_OFFLOOP,
        .run = cmd_show,
        .help = "a post or a delivery with every attempt",
};
const struct cmd_entry cmd_status_entry = {
        .name = "status",
        .flags = CMD_STANDBY,
        .run = cmd_status,
        .help = "version, uptime, counts per state, channels",
};
const struct cmd_entry cmd_agenda_entry = {
        .name = "agenda",
        .flags = CMD_OFFLOOP,
        .run = cmd_agenda,
        .help = "deliveries due in a time range, for calendar and export",
};
