/*
 * The report page: smmd's "report" reply (see smmctl(1), REPORT) rendered
 * as one self-contained HTML file: inline CSS, inline SVG charts, no
 * script, no external asset, every text HTML-escaped. Pure functions of
 * the JSON, writing to a FILE*, so a test renders a fixture and reads the
 * page back. Instants (generated_ms, published_ms, due_ms) are shown in
 * the process's time zone: smmctl report sets TZ to the report's zone.
 *
 * report_html.c: the page and its sections; report_cal.c: the month grid;
 * report_data.c: the sections as chart data; report_svg.c: the charts;
 * report_put.c: escaping and number formats.
 */
#ifndef SMM_REPORT_H
#define SMM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* The whole page; version names smmctl in the footer. 0, or -1 (errno). */
int report_html(FILE *out, const json_t *report, const char *version);

/* report_cal.c: the month grid of the report's days. */
void report_calendar(FILE *out, const json_t *days);

/* report_svg.c: a chart of nseries series over ncols columns (days). */
struct report_chart {
	const char *title;         /* what it shows, for screen readers */
	const char *y_label;       /* the unit on the vertical axis */
	size_t ncols;              /* columns: one per day */
	const char *const *labels; /* each column's label ("1", "2", ...) */
	size_t nseries;            /* series: channels, campaigns */
	const char *const *names;  /* each series' name, for the legend */
	const double *values;      /* values[s * ncols + c]; NAN: none */
};
/* Bars stacked per column, one colour per series. */
void report_svg_bars(FILE *out, const struct report_chart *c);
/* A line and a point per value, one colour per series. */
void report_svg_lines(FILE *out, const struct report_chart *c);
/* The colour of series i, "#rrggbb": the same in charts and legends. */
const char *report_colour(size_t i);

/* report_data.c: the charts of the report's sections. */
/* Published per day per channel, stacked; 0 (nothing drawn) if none. */
int report_chart_published(FILE *out, const json_t *days);
/* Rows {date, SERIES_KEY, VALUE_KEY} over the days, one line a series. */
struct report_over_time {
	const char *title;
	const char *y_label;
	const char *series_key; /* "campaign", "channel" */
	const char *no_series;  /* the name of a series that is null */
	const char *value_key;  /* "total", "followers" */
};
/* 1 if drawn, 0 if the rows had nothing to draw. */
int report_chart_over_time(FILE *out, const json_t *days, const json_t *rows,
                           const struct report_over_time *how);

/* report_put.c */
/* s HTML-escaped (& < > " '); NULL writes nothing. */
void report_esc(FILE *out, const char *s);
/* A string member of obj, or NULL. */
const char *report_str(const json_t *obj, const char *key);
/* An integer member of obj (a real is rounded), or 0. */
long long report_int(const json_t *obj, const char *key);
/* n with thousands separators: "12,345". */
void report_num(FILE *out, long long n);
/* A local "2026-11-02 09:30" for ms, into buf (32 bytes). */
const char *report_when(int64_t ms, char *buf, size_t len);
/* Days since 1970-01-01 of "YYYY-MM-DD"; 0 or -1 if it is none. */
int report_day_number(const char *date, int64_t *days);
/* The date of day number days: year, month (1-12), day. */
void report_civil(int64_t days, int *y, int *m, int *d);
/* "Jan".."Dec". */
const char *report_month_name(int m, int full);
/* A delivery state as a CSS class suffix: known names only, else "other". */
const char *report_state_class(const char *state);
/* Whether url may be a link: http:// or https:// and nothing odd. */
int report_url_ok(const char *url);

#endif
