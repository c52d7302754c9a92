/*
 * Delivery statistics (smmctl stats, and the report after it): counts per
 * state, punctuality and failure reasons over the deliveries due in a
 * range, overall and per channel, campaign, day or week. The store feeds
 * the rows (store_stats_query); this module adds them up. Pure: no clock,
 * no loop, no store; lateness percentiles come from a fixed log-scale
 * histogram filled as the rows pass, never from sorting them.
 */
#ifndef SMMD_STATS_H
#define SMMD_STATS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "hashtab.h"
#include "states.h"

struct caltime_zone;

/*
 * The lateness histogram: exact below 16 ms, then 16 buckets per power of
 * two. A percentile is its bucket's midpoint, so it is off by at most half
 * a bucket: 1/32 of the value (3.2 %), and never outside the smallest and
 * largest lateness seen.
 */
#define STATS_HIST_SUB     16
#define STATS_HIST_BUCKETS (STATS_HIST_SUB + 59 * STATS_HIST_SUB)
/* The bound above (1/32), for what stats says about its precision. */
#define STATS_HIST_ERROR_PCT 3.125

struct stats_hist {
	uint32_t n[STATS_HIST_BUCKETS];
	uint64_t count;
	int64_t min, max; /* exact; valid when count > 0 */
};

void stats_hist_add(struct stats_hist *, int64_t ms);
/* The q-quantile (0 < q <= 1, nearest rank), or -1 when empty. */
int64_t stats_hist_quantile(const struct stats_hist *, double q);
/* Which bucket holds ms, and the bucket's [lo, hi): for tests. */
unsigned stats_hist_bucket(int64_t ms);
void stats_hist_bounds(unsigned bucket, int64_t *lo, int64_t *hi);

/* Published within this long of when it was meant to go: on time. */
#define STATS_ON_TIME_MS 1000
/* Top failure reasons given per group. */
#define STATS_TOP_REASONS 5
/*
 * Distinct failure reasons kept per group; further ones are counted
 * together as "other": a bound on memory whatever the store holds.
 */
#define STATS_REASONS_MAX 1000

enum stats_by {
	STATS_BY_NONE,
	STATS_BY_CHANNEL,
	STATS_BY_CAMPAIGN,
	STATS_BY_DAY,
	STATS_BY_WEEK,
};
/* "channel", ... for a value; -1 for a name that is none. */
int stats_by_parse(const char *name);
const char *stats_by_name(enum stats_by);

struct stats_query {
	int64_t since_ms; /* deliveries due in [since_ms, until_ms) */
	int64_t until_ms;
	enum stats_by by;
	const struct caltime_zone *zone; /* days and weeks; NULL: UTC */
};

struct stats_reason {
	char *text; /* NULL: none recorded */
	uint64_t n;
};

/* The figures of one group, or of the whole range. */
struct stats_group {
	char *key; /* channel, campaign, "2026-03-29", "2026-W13"; NULL:
	              the whole range, or no campaign */
	int64_t from_ms, to_ms; /* a day's or week's span; else -1 */
	int64_t states[DS_COUNT];
	int64_t published_timed; /* published, with a known time */
	int64_t on_time;
	int64_t published_attempts; /* attempts of the published ones */
	struct stats_hist late;
	struct stats_reason *reasons;
	size_t nreasons;
	uint64_t reasons_other; /* past STATS_REASONS_MAX distinct ones */
	struct hashtab reason_index;
};

/* What the store gives per delivery. Borrowed strings. */
struct stats_row {
	int64_t due_ms;
	int state; /* enum delivery_state, -1 if unknown */
	const char *channel;
	const char *campaign; /* NULL: none */
	unsigned attempts;
	/*
	 * Published: when the attempt that published started less when it
	 * was meant to go (timed: 0 when that start is not known).
	 */
	int timed;
	int64_t late_ms;
	const char *last_error;
};

/* Its tables point into it: it stays where stats_init put it. */
struct stats_result {
	struct stats_query q;
	struct stats_group all;
	struct stats_group *groups; /* sorted by key after stats_finish */
	size_t ngroups, cap;
	struct hashtab index;
	size_t last; /* the group the last row went to, + 1; 0: none */
};

void stats_init(struct stats_result *, const struct stats_query *);
/* Count one delivery. 0, or -ENOMEM. */
int stats_add(struct stats_result *, const struct stats_row *);
/* Groups in key order, reasons by count: ready to read. */
void stats_finish(struct stats_result *);
void stats_clear(struct stats_result *);

/*
 * The local day (week: from its Monday, ISO 8601) that holds t in zone
 * z (NULL: UTC): its span [*from_ms, *to_ms), which a change of daylight
 * saving time makes 23 or 25 hours long, and its key, "2026-03-29" or
 * "2026-W13", in key (at least 16 bytes).
 */
void stats_period(const struct caltime_zone *z, int week, int64_t t,
                  int64_t *from_ms, int64_t *to_ms, char *key);

/* The result as JSON (smmctl stats --json), or NULL when out of memory. */
json_t *stats_json(const struct stats_result *);

#endif
