/* cmd_stats: what went out over a range, on time or not, and why not. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smmctl.h"
#include "timeparse.h"

/* Widest group name the tables give before they cut names short. */
#define CMD_STATS_KEY_MAX 20

/* The waiting ones as a person counts them: not settled yet. */
static long long waiting(const json_t *g)
{
	return ctl_int(g, "scheduled") + ctl_int(g, "publishing");
}

/* A lateness: "12 ms", "2.10 s", "3m20s"; "-" when there is none. */
static const char *fmt_ms(const json_t *v, char *buf, size_t len)
{
	long long ms;

	if (!json_is_integer(v))
		return "-";
	ms = (long long)json_integer_value(v);
	if (ms < 1000)
		snprintf(buf, len, "%lld ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.2f s", (double)ms / 1000);
	else
		duration_format(ms, buf, len);
	return buf;
}

/* A share as "75.0%", "-" when there is nothing to share. */
static const char *fmt_rate(const json_t *v, char *buf, size_t len)
{
	if (!json_is_number(v))
		return "-";
	snprintf(buf, len, "%.1f%%", json_number_value(v) * 100);
	return buf;
}

/* The whole range, one figure a line. */
static void print_total(const json_t *r)
{
	const json_t *t = json_object_get(r, "total"), *lat, *v;
	char a[32], b[32], p50[32], p99[32], rate[16];
	size_t i;

	lat = json_object_get(t, "lateness_ms");
	printf("Deliveries due from %s to %s: %lld\n",
	       ctl_local_time(ctl_str(r, "since"), a),
	       ctl_local_time(ctl_str(r, "until"), b),
	       ctl_int(t, "deliveries"));
	printf("  %-10s %6lld", "published", ctl_int(t, "published"));
	if (ctl_int(t, "timed") > 0)
		printf("  on time %lld (%s within %lld ms), lateness p50 %s, "
		       "p99 %s",
		       ctl_int(t, "on_time"),
		       fmt_rate(json_object_get(t, "on_time_rate"), rate,
		                sizeof(rate)),
		       ctl_int(r, "on_time_within_ms"),
		       fmt_ms(json_object_get(lat, "p50"), p50, sizeof(p50)),
		       fmt_ms(json_object_get(lat, "p99"), p99, sizeof(p99)));
	printf("\n  %-10s %6lld  scheduled, retrying, draft or in flight\n",
	       "waiting", waiting(t));
	static const char *const rest[] = {"failed", "missed",  "skipped",
	                                   "held",   "unknown", "cancelled"};
	for (i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		printf("  %-10s %6lld\n", rest[i], ctl_int(t, rest[i]));
	v = json_object_get(t, "attempts_per_published");
	if (json_is_number(v))
		printf("  %-10s %6.2f  per published delivery\n", "attempts",
		       json_number_value(v));
	if (json_array_size(json_object_get(t, "failure_reasons")) == 0)
		return;
	printf("Top failure reasons (failed, unknown, missed)\n");
	json_array_foreach (json_object_get(t, "failure_reasons"), i, v) {
		printf("  %6lld  ", ctl_int(v, "count"));
		ctl_put_cell(ctl_str(v, "reason") ? ctl_str(v, "reason")
		                                  : "(no reason recorded)",
		             (size_t)ctl_columns() - 10, 0);
		fputc('\n', stdout);
	}
}

/* A group's name in its column: a campaign may be none. */
static void put_key(const json_t *g, const char *by, size_t w)
{
	const char *k = ctl_str(g, by);

	ctl_put_cell(k ? k : "(none)", w, 1);
}

/* How many of each state, one group a line. */
static void print_counts(const json_t *groups, const char *by, size_t kw)
{
	static const char *const cols[] = {"failed", "missed",  "skipped",
	                                   "held",   "unknown", "cancelled"};
	const json_t *g;
	size_t i, k;
	char head[32];

	snprintf(head, sizeof(head), "%s", by);
	for (k = 0; head[k]; k++)
		head[k] = (char)(head[k] -
		                 32 * (head[k] >= 'a' && head[k] <= 'z'));
	printf("%-*s  %6s %6s %6s %6s %6s %6s %6s %6s %6s\n", (int)kw, head,
	       "TOTAL", "PUBL", "WAIT", "FAIL", "MISS", "SKIP", "HELD", "UNKN",
	       "CANC");
	json_array_foreach (groups, i, g) {
		put_key(g, by, kw);
		printf("  %6lld %6lld %6lld", ctl_int(g, "deliveries"),
		       ctl_int(g, "published"), waiting(g));
		for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
			printf(" %6lld", ctl_int(g, cols[k]));
		fputc('\n', stdout);
	}
}

/* Punctuality and the first failure reason, one group a line. */
static void print_punctuality(const json_t *groups, const char *by, size_t kw)
{
	const json_t *g, *lat, *why;
	char rate[16], p50[32], p99[32], att[16];
	int cols = ctl_columns(), used;
	size_t i;

	/* KEY ON-TIME(7) P50(8) P99(8) ATTEMPTS(8) REASON, two apart. */
	used = (int)kw + 2 + 7 + 2 + 8 + 2 + 8 + 2 + 8 + 2;
	printf("%-*s  %7s  %8s  %8s  %8s  %s\n", (int)kw, "", "ON TIME", "P50",
	       "P99", "ATTEMPTS", "TOP FAILURE REASON");
	json_array_foreach (groups, i, g) {
		lat = json_object_get(g, "lateness_ms");
		why = json_array_get(json_object_get(g, "failure_reasons"), 0);
		if (json_is_number(
		            json_object_get(g, "attempts_per_published")))
			snprintf(att, sizeof(att), "%.2f",
			         json_number_value(json_object_get(
			                 g, "attempts_per_published")));
		else
			snprintf(att, sizeof(att), "-");
		put_key(g, by, kw);
		printf("  %7s  %8s  %8s  %8s  ",
		       fmt_rate(json_object_get(g, "on_time_rate"), rate,
		                sizeof(rate)),
		       fmt_ms(json_object_get(lat, "p50"), p50, sizeof(p50)),
		       fmt_ms(json_object_get(lat, "p99"), p99, sizeof(p99)),
		       att);
		ctl_put_cell(why == NULL              ? "-"
		             : ctl_str(why, "reason") ? ctl_str(why, "reason")
		                                      : "(no reason recorded)",
		             (size_t)(cols > used + 10 ? cols - used : 10), 0);
		fputc('\n', stdout);
	}
}

static void print_groups(const json_t *r)
{
	const json_t *groups = json_object_get(r, "groups"), *g;
	const char *by = ctl_str(r, "by"), *k;
	size_t i, kw, w;

	if (by == NULL || strcmp(by, "none") == 0)
		return;
	if (json_array_size(groups) == 0) {
		printf("\nno deliveries to group by %s\n", by);
		return;
	}
	kw = strlen(by) > 6 ? strlen(by) : 6;
	json_array_foreach (groups, i, g) {
		k = ctl_str(g, by);
		if ((w = ctl_cols(k ? k : "(none)")) > kw)
			kw = w;
	}
	if (kw > CMD_STATS_KEY_MAX)
		kw = CMD_STATS_KEY_MAX;
	if (strcmp(by, "day") == 0 || strcmp(by, "week") == 0)
		printf("\n%ss in %s\n", by, ctl_str(r, "timezone"));
	fputc('\n', stdout);
	print_counts(groups, by, kw);
	fputc('\n', stdout);
	print_punctuality(groups, by, kw);
}

/*
 * --since and --until: a DATE as calendar and export read it, or "-7d",
 * a time that long before now (a range of the past is what stats is
 * for). Sent as UTC RFC 3339 under the option's name.
 */
static int stats_time(struct ctl_args *a, const char *name, int64_t now)
{
	const char *v = ctl_args_get(a, name);
	char err[128], plus[64], when[TIME_RFC3339_LEN];
	int64_t ms;
	int r;

	if (v == NULL)
		return 0;
	if (v[0] == '-' && v[1] >= '0' && v[1] <= '9') {
		snprintf(plus, sizeof(plus), "+%s", v + 1);
		r = time_parse(plus, 0, &ms, err, sizeof(err));
		ms = now - ms;
	} else {
		r = time_parse_date(v, now, &ms, err, sizeof(err));
	}
	if (r != 0) {
		ctl_warnx("stats: invalid --%s '%s': %s", name, v, err);
		return EX_DATAERR;
	}
	return ctl_args_set(a, name, time_format_rfc3339(ms, when), name);
}

static int cmd_stats_run(struct ctl *c, struct ctl_args *a)
{
	int64_t now = ctl_now_ms();
	json_t *result = NULL;
	int r;

	if ((r = stats_time(a, "since", now)) != 0 ||
	    (r = stats_time(a, "until", now)) != 0 ||
	    (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
	} else if (!json_is_object(json_object_get(result, "total"))) {
		ctl_warnx("protocol error: stats reply without a total");
		r = EX_PROTOCOL;
	} else {
		print_total(result);
		print_groups(result);
	}
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_stats_entry = {
        .name = "stats",
        .help = "what went out, on time or not, and why the rest did not",
        .opts =
                (const struct ctl_opt[]){
                        {"since", 0, CTL_STR, 0, "since", "DATE",
                         "the first due time counted (default: 30 days "
                         "before\nthe end)"},
                        {"until", 0, CTL_STR, 0, "until", "DATE",
                         "the end, excluded (default: now)"},
                        {"by", 0, CTL_STR, 0, "by", "GROUP",
                         "also per channel, campaign, day or week (the\n"
                         "calendar's timezone; weeks from Monday)"},
                        {0},
                },
        .notes = "Counts the deliveries due in the range by state. On "
                 "time: published\nwithin 1 s of when it was meant to go "
                 "(a blackout's shift or a\nrelease sets that), from the "
                 "moment its request left. Lateness\npercentiles are "
                 "within 3.2%. DATE is a TIME, YYYY-MM-DD for the\nlocal "
                 "midnight that begins that day, or -7d for that long "
                 "ago.",
        .flags = CTL_CMD_JSON,
        .run = cmd_stats_run,
};
