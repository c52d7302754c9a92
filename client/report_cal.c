/*
 * report_cal: the month grid every scheduler shows: weeks as rows, Monday
 * to Sunday, each day of the range with its counts (planned, went out,
 * and what did not) and its first posts coloured by state.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

/* What did not go out as planned, in the order a reader cares. */
static const char *const trouble[] = {"failed", "held", "skipped", "missed",
                                      "unknown"};

/* "3 planned · 2 out · 1 failed": the day's counts that are not zero. */
static void cal_counts(FILE *out, const json_t *day)
{
	long long planned = report_int(day, "planned");

	if (planned == 0 && report_int(day, "cancelled") == 0) {
		fputs("<div class=\"counts none\">nothing planned</div>", out);
		return;
	}
	fputs("<div class=\"counts\"><b>", out);
	report_num(out, planned);
	fputs("</b> planned · <b>", out);
	report_num(out, report_int(day, "published"));
	fputs("</b> out", out);
	for (size_t i = 0; i < sizeof(trouble) / sizeof(trouble[0]); i++) {
		long long n = report_int(day, trouble[i]);

		if (n == 0)
			continue;
		fprintf(out, " · <span class=\"st-%s\"><b>", trouble[i]);
		report_num(out, n);
		fprintf(out, "</b> %s</span>", trouble[i]);
	}
	fputs("</div>\n", out);
}

/* One day of the range: its number, counts and posts. */
static void cal_day(FILE *out, const json_t *day, int mday, int mon)
{
	const json_t *p;
	size_t i;

	fputs("<td class=\"day\">", out);
	fprintf(out, "<div class=\"dnum\">%d", mday);
	if (mday == 1)
		fprintf(out, " %s", report_month_name(mon, 0));
	fputs("</div>", out);
	cal_counts(out, day);
	if (json_array_size(json_object_get(day, "posts")) > 0)
		fputs("<ul>", out);
	json_array_foreach (json_object_get(day, "posts"), i, p) {
		fprintf(out, "<li class=\"st-%s\" title=\"",
		        report_state_class(report_str(p, "state")));
		report_esc(out, report_str(p, "state"));
		fputs(": ", out);
		report_esc(out, report_str(p, "id"));
		fputs("\"><span class=\"tm\">", out);
		report_esc(out, report_str(p, "time"));
		fputs("</span> <span class=\"ch\">", out);
		report_esc(out, report_str(p, "channel"));
		fputs("</span> ", out);
		report_esc(out, report_str(p, "text"));
		fputs("</li>", out);
	}
	if (i > 0)
		fputs("</ul>", out);
	if (report_int(day, "more") > 0) {
		fputs("<div class=\"more\">+", out);
		report_num(out, report_int(day, "more"));
		fputs(" more</div>", out);
	}
	fputs("</td>\n", out);
}

void report_calendar(FILE *out, const json_t *days)
{
	int64_t first, last, start, end;
	static const char *const wdays[] = {"Mon", "Tue", "Wed", "Thu",
	                                    "Fri", "Sat", "Sun"};
	size_t n = json_array_size(days);

	/* smmd's days are contiguous, one entry each: trust nothing else. */
	if (n == 0 ||
	    report_day_number(report_str(json_array_get(days, 0), "date"),
	                      &first) < 0 ||
	    report_day_number(report_str(json_array_get(days, n - 1), "date"),
	                      &last) < 0 ||
	    last < first || last - first >= (int64_t)n) {
		fputs("<p class=\"empty\">No days in this range.</p>\n", out);
		return;
	}
	/* 1970-01-01 was a Thursday: Monday is (days + 3) % 7 == 0. */
	start = first - (((first + 3) % 7) + 7) % 7;
	end = last + 6 - (((last + 3) % 7) + 7) % 7;
	fputs("<table class=\"cal\"><thead><tr>", out);
	for (size_t i = 0; i < 7; i++)
		fprintf(out, "<th>%s</th>", wdays[i]);
	fputs("</tr></thead><tbody>\n", out);
	for (int64_t d = start; d <= end; d++) {
		int y, m, md;
		/* The days are contiguous: the one of date d is at d - first.
		 */
		const json_t *day =
		        d >= first && d <= last
		                ? json_array_get(days, (size_t)(d - first))
		                : NULL;

		if ((d - start) % 7 == 0)
			fputs("<tr>", out);
		report_civil(d, &y, &m, &md);
		if (day)
			cal_day(out, day, md, m);
		else
			fprintf(out, "<td class=\"out\">%d</td>", md);
		if ((d - start) % 7 == 6)
			fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}
