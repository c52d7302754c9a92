/*
 * report_html: the report page and its sections, in the order a marketer
 * reads them: at a glance, the month, what went out, what it achieved,
 * the goals, the audience, and what went wrong. A section without data
 * says so in words instead of drawing an empty chart.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "timeparse.h"

/* The style sheet: screen and print (the page is mailed and printed). */
static const char report_css[] =
        "*{box-sizing:border-box}"
        "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;"
        "color:#1d2733;background:#fff;margin:0 auto;max-width:1200px;"
        "padding:24px;font-size:14px;line-height:1.4}"
        "h1{font-size:26px;margin:0 0 4px}"
        "h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;"
        "border-bottom:2px solid #d8dee6}"
        "h3{font-size:15px;margin:14px 0 6px}"
        ".meta{color:#5b6775;margin:0}"
        ".empty{color:#5b6775;font-style:italic}"
        ".tiles{display:flex;flex-wrap:wrap;gap:10px}"
        ".tile{border:1px solid #d8dee6;border-radius:6px;padding:8px 12px;"
        "min-width:120px}"
        ".tile .v{font-size:24px;font-weight:bold;display:block}"
        ".tile .k{color:#5b6775;font-size:12px}"
        ".tile.na .v{font-size:15px;line-height:36px;color:#98a2ae}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;vertical-align:top;padding:4px 6px;"
        "border-bottom:1px solid #e4e8ee}"
        "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".cal{table-layout:fixed}"
        ".cal th{text-align:center;background:#f1f4f8}"
        ".cal td{border:1px solid #d8dee6;height:92px;font-size:11px;"
        "overflow:hidden}"
        ".cal td.out{color:#b8c0ca;background:#f8f9fb}"
        ".cal .dnum{font-weight:bold;font-size:13px}"
        ".cal .counts{color:#3c4857}.cal .counts.none{color:#98a2ae}"
        ".cal ul{list-style:none;margin:2px 0 0;padding:0}"
        ".cal li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;"
        "border-left:4px solid #98a2ae;padding-left:3px;margin:1px 0}"
        ".cal .tm{font-variant-numeric:tabular-nums}"
        ".cal .ch{font-weight:bold}"
        ".cal .more{color:#5b6775}"
        ".legend span{display:inline-block;margin-right:12px;"
        "border-left:12px solid #98a2ae;padding-left:4px}"
        ".badge{border-left:8px solid #98a2ae;padding-left:4px}"
        ".st-published{border-color:#2e9d49!important;color:#1f6e33}"
        ".st-failed{border-color:#d13438!important;color:#a4262c}"
        ".st-held{border-color:#e8a317!important;color:#8a5d00}"
        ".st-skipped{border-color:#8a8886!important;color:#605e5c}"
        ".st-missed{border-color:#8764b8!important;color:#5c2e91}"
        ".st-unknown{border-color:#ca5010!important;color:#8e3a0c}"
        ".st-scheduled,.st-retry_wait,.st-publishing,.st-draft"
        "{border-color:#2b78c5!important}"
        "svg.chart{width:100%;height:auto;font-size:12px}"
        "svg .grid{stroke:#e4e8ee}svg .axisline{stroke:#5b6775}"
        "svg .tick,svg .legend{fill:#3c4857}svg .axis{fill:#5b6775}"
        "svg .line{stroke-width:2}"
        ".goal .track{background:#e4e8ee;border-radius:4px;height:14px;"
        "width:100%;min-width:160px}"
        ".goal .fill{background:#2b78c5;border-radius:4px;height:14px}"
        ".goal table{table-layout:fixed}.goal td:first-child{width:16%}"
        ".goal td.bar{width:44%}"
        ".goal .fill.behind{background:#e8a317}"
        ".ok{color:#1f6e33;font-weight:bold}.behind{color:#8a5d00;"
        "font-weight:bold}"
        "footer{margin-top:32px;color:#98a2ae;font-size:12px}"
        "@media print{body{padding:0;font-size:11px;max-width:none}"
        "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
        "section{break-inside:avoid}h2{break-after:avoid}"
        ".cal td{height:78px}a{color:inherit}}"
        "@page{size:A4 landscape;margin:12mm}";

/* "November 2026" for a whole month, else "1 Nov 2026 – 15 Nov 2026". */
static void report_title_range(FILE *out, const json_t *days)
{
	size_t n = json_array_size(days);
	int64_t a, b;
	int y1, m1, d1, y2, m2, d2;

	if (n == 0 ||
	    report_day_number(report_str(json_array_get(days, 0), "date"), &a) <
	            0 ||
	    report_day_number(report_str(json_array_get(days, n - 1), "date"),
	                      &b) < 0) {
		fputs("no days", out);
		return;
	}
	report_civil(a, &y1, &m1, &d1);
	report_civil(b, &y2, &m2, &d2);
	if (d1 == 1 && y1 == y2 && m1 == m2 && time_days_in_month(y2, m2) == d2)
		fprintf(out, "%s %d", report_month_name(m1, 1), y1);
	else
		fprintf(out, "%d %s %d – %d %s %d", d1,
		        report_month_name(m1, 0), y1, d2,
		        report_month_name(m2, 0), y2);
}

static void report_head(FILE *out, const json_t *r, const char *version)
{
	char when[32];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<title>Social media report: ",
	      out);
	report_title_range(out, json_object_get(r, "days"));
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n",
	        report_css);
	fputs("<header><h1>Social media report: ", out);
	report_title_range(out, json_object_get(r, "days"));
	fputs("</h1>\n<p class=\"meta\">From ", out);
	report_esc(out,
	           report_when(report_int(r, "since_ms"), when, sizeof(when)));
	fputs(" to ", out);
	report_esc(out,
	           report_when(report_int(r, "until_ms"), when, sizeof(when)));
	fputs(" (excluded), times in ", out);
	report_esc(out, report_str(r, "zone") ? report_str(r, "zone")
	                                      : "local time");
	fputs(". Generated ", out);
	report_esc(out, report_when(report_int(r, "generated_ms"), when,
	                            sizeof(when)));
	fputs(" by smmctl ", out);
	report_esc(out, version);
	fputs(".</p></header>\n", out);
}

/* One figure with what it is. */
static void report_tile(FILE *out, const char *key, const char *value,
                        const char *cls)
{
	fprintf(out, "<div class=\"tile%s%s\"><span class=\"v\">",
	        cls ? " " : "", cls ? cls : "");
	report_esc(out, value);
	fputs("</span><span class=\"k\">", out);
	report_esc(out, key);
	fputs("</span></div>\n", out);
}

/* A summary figure in ms as "180 ms", "2.4 s", "3m10s"; "not measured". */
static void report_tile_ms(FILE *out, const json_t *summary, const char *key,
                           const char *label)
{
	const json_t *v = json_object_get(summary, key);
	double ms = json_is_number(v) ? json_number_value(v) : NAN;
	char buf[32];

	if (!isfinite(ms))
		snprintf(buf, sizeof(buf), "not measured");
	else if (ms < 1000)
		snprintf(buf, sizeof(buf), "%.0f ms", ms);
	else if (ms < 60000)
		snprintf(buf, sizeof(buf), "%.1f s", ms / 1000);
	else
		duration_format((int64_t)llround(ms), buf, sizeof(buf));
	report_tile(out, label, buf, isfinite(ms) ? NULL : "na");
}

/* Totals over the days, then the delivery summary's figures. */
static void report_glance(FILE *out, const json_t *r)
{
	static const char *const keys[] = {"planned", "published", "failed",
	                                   "held",    "skipped",   "missed",
	                                   "unknown", "waiting"};
	static const char *const labels[] = {
	        "planned", "went out", "failed",  "held",
	        "skipped", "missed",   "unknown", "still to go",
	};
	const json_t *summary = json_object_get(r, "summary"), *day, *rate;
	char buf[32];
	size_t i;

	fputs("<section id=\"glance\"><h2>At a glance</h2>\n"
	      "<div class=\"tiles\">\n",
	      out);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		long long sum = 0;

		json_array_foreach (json_object_get(r, "days"), i, day)
			sum += report_int(day, keys[k]);
		if (sum == 0 && k >= 4)
			continue; /* rare troubles: shown when they happened */
		snprintf(buf, sizeof(buf), "%lld", sum);
		report_tile(out, labels[k], buf,
		            k >= 2 && k < 7 && sum > 0 ? "st-failed" : NULL);
	}
	rate = json_object_get(summary, "on_time_rate");
	if (json_is_number(rate))
		snprintf(buf, sizeof(buf), "%.1f %%",
		         100.0 * json_number_value(rate));
	else
		snprintf(buf, sizeof(buf), "not measured");
	report_tile(out, "on time (within 1 s)", buf,
	            json_is_number(rate) ? NULL : "na");
	report_tile_ms(out, summary, "lateness_p50_ms", "lateness, median");
	report_tile_ms(out, summary, "lateness_p99_ms", "lateness, p99");
	fputs("</div></section>\n", out);
}

static void report_cal_section(FILE *out, const json_t *r)
{
	static const char *const states[] = {"published", "scheduled", "failed",
	                                     "held",      "skipped",   "missed",
	                                     "unknown"};

	fputs("<section id=\"calendar\"><h2>Calendar</h2>\n"
	      "<p class=\"legend\">",
	      out);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(out, "<span class=\"st-%s\">%s</span>", states[i],
		        i == 1 ? "still to go" : states[i]);
	fputs("</p>\n", out);
	report_calendar(out, json_object_get(r, "days"));
	fputs("</section>\n", out);
}

/* A chart section, or the sentence that says there is nothing to draw. */
static void report_chart_section(FILE *out, const json_t *r, const char *id,
                                 const char *heading,
                                 const struct report_over_time *how,
                                 const char *rows_key, const char *empty)
{
	int drawn;

	fprintf(out, "<section id=\"%s\"><h2>%s</h2>\n", id, heading);
	if (how == NULL)
		drawn = report_chart_published(out, json_object_get(r, "days"));
	else
		drawn = report_chart_over_time(out, json_object_get(r, "days"),
		                               json_object_get(r, rows_key),
		                               how);
	if (!drawn)
		fprintf(out, "<p class=\"empty\">%s</p>\n", empty);
	fputs("</section>\n", out);
}

/* A number cell; null or absent: a dash. */
static void report_num_cell(FILE *out, const json_t *row, const char *key)
{
	fputs("<td class=\"n\">", out);
	if (json_is_number(json_object_get(row, key)))
		report_num(out, report_int(row, key));
	else
		fputs("—", out);
	fputs("</td>", out);
}

/* A text cell: s escaped, or a dash. */
static void report_text_cell(FILE *out, const char *s)
{
	fputs("<td>", out);
	if (s)
		report_esc(out, s);
	else
		fputs("—", out);
	fputs("</td>", out);
}

static void report_top_posts(FILE *out, const json_t *r)
{
	const json_t *p, *rows = json_object_get(r, "top_posts");
	static const char *const nums[] = {"likes", "shares", "comments",
	                                   "views", "total"};
	char when[32];
	size_t i;

	fputs("<section id=\"top\"><h2>Top posts by engagement</h2>\n", out);
	if (json_array_size(rows) == 0) {
		fputs("<p class=\"empty\">No engagement collected in this "
		      "period, so no top posts.</p></section>\n",
		      out);
		return;
	}
	fputs("<table><thead><tr><th>#</th><th>Post</th><th>Channel</th>"
	      "<th>Campaign</th><th>Published</th><th class=\"n\">Likes</th>"
	      "<th class=\"n\">Shares</th><th class=\"n\">Comments</th>"
	      "<th class=\"n\">Views</th><th class=\"n\">Total</th></tr>"
	      "</thead><tbody>\n",
	      out);
	json_array_foreach (rows, i, p) {
		const char *url = report_str(p, "url");

		fprintf(out, "<tr><td class=\"n\">%zu</td><td>", i + 1);
		/* The post's own link, the only one the page has. */
		if (report_url_ok(url)) {
			fputs("<a href=\"", out);
			report_esc(out, url);
			fputs("\">", out);
		}
		report_esc(out, report_str(p, "text") ? report_str(p, "text")
		                                      : report_str(p, "id"));
		fputs(report_url_ok(url) ? "</a></td>" : "</td>", out);
		report_text_cell(out, report_str(p, "channel"));
		report_text_cell(out, report_str(p, "campaign"));
		report_text_cell(
		        out,
		        json_is_number(json_object_get(p, "published_ms"))
		                ? report_when(report_int(p, "published_ms"),
		                              when, sizeof(when))
		                : NULL);
		for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			report_num_cell(out, p, nums[k]);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

/* One metric of a goal: a bar, the percent, done of target, the pace. */
static void report_goal_metric(FILE *out, const json_t *m)
{
	const json_t *pct = json_object_get(m, "percent");
	double p = json_is_number(pct) ? json_number_value(pct) : 0;
	int on_track = json_is_true(json_object_get(m, "on_track"));

	fputs("<tr><td>", out);
	report_esc(out, report_str(m, "name"));
	fprintf(out,
	        "</td><td class=\"bar\"><div class=\"track\"><div "
	        "class=\"fill%s\" style=\"width:%.1f%%\"></div></div></td>"
	        "<td class=\"n\">%.1f %%</td><td class=\"n\">",
	        on_track ? "" : " behind",
	        p < 0     ? 0
	        : p > 100 ? 100
	                  : p,
	        p);
	report_num(out, report_int(m, "done"));
	fputs(" of ", out);
	report_num(out, report_int(m, "target"));
	fprintf(out, "</td><td class=\"%s\">%s</td></tr>\n",
	        on_track ? "ok" : "behind", on_track ? "on track" : "behind");
}

static void report_goals(FILE *out, const json_t *r)
{
	const json_t *g, *m, *goals = json_object_get(r, "goals");
	size_t i, k;

	fputs("<section id=\"goals\"><h2>Goals</h2>\n", out);
	if (json_array_size(goals) == 0)
		fputs("<p class=\"empty\">No goals set for the campaigns in this "
		      "period.</p>\n",
		      out);
	json_array_foreach (goals, i, g) {
		fputs("<div class=\"goal\"><h3>", out);
		report_esc(out, report_str(g, "campaign"));
		fputs("</h3><p class=\"meta\">by ", out);
		report_esc(out, report_str(g, "by"));
		fputs(", ", out);
		report_num(out, report_int(g, "days_left"));
		fputs(report_int(g, "days_left") == 1 ? " day left"
		                                      : " days left",
		      out);
		fputs("</p>\n<table><tbody>\n", out);
		json_array_foreach (json_object_get(g, "metrics"), k, m)
			report_goal_metric(out, m);
		fputs("</tbody></table></div>\n", out);
	}
	fputs("</section>\n", out);
}

static void report_problems(FILE *out, const json_t *r)
{
	const json_t *p, *rows = json_object_get(r, "problems");
	char when[32];
	size_t i;

	fputs("<section id=\"problems\"><h2>Failed, held and skipped "
	      "posts</h2>\n",
	      out);
	if (json_array_size(rows) == 0) {
		fputs("<p class=\"empty\">No failed, held, skipped, missed or "
		      "unknown posts in this period.</p></section>\n",
		      out);
		return;
	}
	fputs("<table><thead><tr><th>Due</th><th>Delivery</th><th>Channel</th>"
	      "<th>State</th><th>Why</th></tr></thead><tbody>\n",
	      out);
	json_array_foreach (rows, i, p) {
		const char *state = report_str(p, "state");

		fputs("<tr>", out);
		report_text_cell(out, report_when(report_int(p, "due_ms"), when,
		                                  sizeof(when)));
		report_text_cell(out, report_str(p, "id"));
		report_text_cell(out, report_str(p, "channel"));
		fprintf(out, "<td><span class=\"badge st-%s\">",
		        report_state_class(state));
		report_esc(out, state);
		fputs("</span></td>", out);
		report_text_cell(out, report_str(p, "reason"));
		fputs("</tr>\n", out);
	}
	if (report_int(r, "problems_more") > 0) {
		fputs("<tr><td colspan=\"5\" class=\"empty\">and ", out);
		report_num(out, report_int(r, "problems_more"));
		fputs(" more</td></tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

int report_html(FILE *out, const json_t *r, const char *version)
{
	static const struct report_over_time engagement = {
	        .title = "Engagement per campaign over time",
	        .y_label = "likes, shares, comments",
	        .series_key = "campaign",
	        .no_series = "(no campaign)",
	        .value_key = "total",
	};
	static const struct report_over_time audience = {
	        .title = "Followers per channel",
	        .y_label = "followers",
	        .series_key = "channel",
	        .no_series = "(no channel)",
	        .value_key = "followers",
	};

	report_head(out, r, version);
	report_glance(out, r);
	report_cal_section(out, r);
	report_chart_section(out, r, "published", "Posts published per day",
	                     NULL, NULL,
	                     "No posts were published in this period.");
	report_chart_section(out, r, "engagement", "Engagement per campaign",
	                     &engagement, "engagement",
	                     "No engagement collected in this period.");
	report_top_posts(out, r);
	report_goals(out, r);
	report_chart_section(out, r, "audience", "Audience growth", &audience,
	                     "audience",
	                     "No audience figures collected in this period.");
	report_problems(out, r);
	fputs("<footer>Made by smmctl report from smmd's store: every figure "
	      "is what smmd recorded.</footer>\n</body>\n</html>\n",
	      out);
	if (fflush(out) != 0 || ferror(out)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
