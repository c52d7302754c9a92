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

/*
 * The deliveries due in [since, until) (default: the 30 days up to now),
 * counted overall and per channel, campaign, day or week. Days and weeks
 * are the calendar's (its timezone, else the system's).
 */
static enum cmd_retval cmd_stats(struct cmd_ctx *x)
{
	struct stats_query q = {.until_ms = wallclock_now_ms()};
	struct stats_result r;
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
	rc = store_stats_query(x->d->store, &q, &r);
	if (rc == 0 && (*x->result = stats_json(&r)) != NULL)
		json_object_set_new(*x->result, "timezone",
		                    json_string(zone_name ? zone_name : "UTC"));
	stats_clear(&r);
	free(zone_name);
	if (rc < 0)
		return cmd_store_error(x, rc, "read");
	/* A NULL result: command_run says out of memory. */
	return CMD_DONE;
}

const struct cmd_entry cmd_stats_entry = {
        .name = "stats",
        .run = cmd_stats,
        .help = "delivery counts, punctuality and failure reasons over a "
                "range",
};
