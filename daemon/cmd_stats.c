/* cmd_stats: what went out, on time or not, and why the rest did not. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "command.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "stats.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

#define STATS_SPAN_MS (30LL * 24 * 60 * 60 * 1000)

/* What the worker needs: the query, and its zone's name for the reply. */
struct stats_job {
	struct cmd_read base; /* first: the job is freed as this */
	struct stats_query q;
	char *zone_name;
};

static void stats_job_free(struct cmd_read *base)
{
	struct stats_job *j = (struct stats_job *)base;

	free(j->zone_name);
	free(j);
}

/* On a worker thread (cmd_read.c): one scan of the stats index. */
static enum cmd_retval stats_read(struct cmd_ctx *x, struct store *s,
                                  struct cmd_read *base)
{
	struct stats_job *j = (struct stats_job *)base;
	struct stats_result r;
	int rc = store_stats_query(s, &j->q, &r);

	if (rc == 0 && (*x->result = stats_json(&r)) != NULL)
		json_object_set_new(*x->result, "timezone",
		                    json_string(j->zone_name));
	stats_clear(&r);
	if (rc < 0)
		return cmd_store_error(x, rc, "read");
	/* A NULL result: out of memory, cmd_read.c says. */
	return CMD_DONE;
}

/*
 * The deliveries due in [since, until) (default: the 30 days up to now),
 * counted overall and per channel, campaign, day or week. Days and weeks
 * are the calendar's (its timezone, else the system's). The scan covers
 * every delivery of the range: off the loop.
 */
static enum cmd_retval cmd_stats(struct cmd_ctx *x)
{
	struct stats_query q = {.until_ms = wallclock_now_ms()};
	struct stats_job *j;
	const char *by = NULL;
	char *zone_name = NULL, a[TIME_RFC3339_LEN], b[TIME_RFC3339_LEN];
	int rc;

	if (cmd_arg_time(x, "until", &q.until_ms) < 0)
		return CMD_ERROR;
	q.since_ms = q.until_ms - STATS_SPAN_MS;
	if (cmd_arg_time(x, "since", &q.since_ms) < 0 ||
	    cmd_arg_string(x, "by", &by, 0) < 0)
		return CMD_ERROR;
	if (by && ((rc = stats_by_parse(by)) < 0 || rc == STATS_BY_NONE))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'by' must be channel, campaign, day or week, "
		                "not '%.64s'",
		                by);
	q.by = by ? (enum stats_by)rc : STATS_BY_NONE;
	if (q.until_ms <= q.since_ms)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'until' (%s) must come after 'since' (%s)",
		                time_format_rfc3339(q.until_ms, a),
		                time_format_rfc3339(q.since_ms, b));
	zone_name = x->d->calendar_zone ? strdup(x->d->calendar_zone)
	                                : caltime_system_zone_name();
	if (zone_name == NULL || (q.zone = caltime_zone(zone_name)) == NULL) {
		free(zone_name);
		zone_name = strdup("UTC");
		q.zone = caltime_zone("UTC");
	}
	if (zone_name == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		free(zone_name);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	j->base.run = stats_read;
	j->base.free = stats_job_free;
	j->q = q;
	j->zone_name = zone_name;
	return cmd_read_later(x, &j->base);
}

const struct cmd_entry cmd_stats_entry = {
        .name = "stats",
        .flags = CMD_OFFLOOP,
        .run = cmd_stats,
        .help = "delivery counts, punctuality and failure reasons over a "
                "range",
};
