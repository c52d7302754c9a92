/*
 * The report command's two halves: cmd_report.c counts what was planned
 * and what became of it; report_measure.c adds what it achieved
 * (engagement, top posts, audience, goals).
 */
#ifndef SMMD_REPORT_MEASURE_H
#define SMMD_REPORT_MEASURE_H

#include <jansson.h>
#include <stdint.h>

struct caltime_zone;
struct goals_plan;
struct store;

/* The first line of text, cut for a report; null for NULL. */
json_t *report_text(const char *text);

/*
 * Set result's summary (smmctl stats' figures for the range, and
 * lateness_p50_ms, lateness_p99_ms), engagement (per campaign and day of
 * publication),
 * top_posts, audience (a channel's last sample of each day) and goals for
 * the deliveries published in [since_ms, until_ms), days in zone z,
 * goals those of plan (goals.h). Any thread: it reads s alone.
 * 0, -ENOMEM or -EIO.
 */
int report_measure(struct store *, const struct goals_plan *,
                   const struct caltime_zone *z, int64_t since_ms,
                   int64_t until_ms, json_t *result);

#endif
