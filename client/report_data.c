/*
 * report_data: the report's sections turned into the numbers a chart
 * draws: one column per day of the range, one series per channel or
 * campaign, in name order so that a page renders the same every time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Columns at most: a year and a bit, whatever dates the rows carry. */
#define DATA_MAX_COLS 400
/* Series at most: more would be a legend nobody can read. */
#define DATA_MAX_SERIES 40

/* The chart's columns and series as it is being built. */
struct data {
	int64_t first; /* day number of column 0 */
	size_t ncols;
	char (*labels)[12];
	const char **labelp;
	const char *names[DATA_MAX_SERIES];
	size_t nseries;
	double *values;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Column labels: the day of the month, with the month on the 1st. */
static int data_columns(struct data *dt, int64_t first, int64_t last)
{
	dt->first = first;
	dt->ncols = (size_t)(last - first + 1);
	dt->labels = calloc(dt->ncols, sizeof(*dt->labels));
	dt->labelp = calloc(dt->ncols, sizeof(*dt->labelp));
	if (dt->labels == NULL || dt->labelp == NULL)
		return -1;
	for (size_t i = 0; i < dt->ncols; i++) {
		int y, m, d;

		report_civil(first + (int64_t)i, &y, &m, &d);
		if (d == 1 || i == 0)
			snprintf(dt->labels[i], sizeof(dt->labels[i]), "%d %s",
			         d, report_month_name(m, 0));
		else
			snprintf(dt->labels[i], sizeof(dt->labels[i]), "%d", d);
		dt->labelp[i] = dt->labels[i];
	}
	return 0;
}

/* The series names: set's keys, sorted; the values, all NAN. */
static int data_series(struct data *dt, const json_t *set)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)set, key, v) {
		if (dt->nseries == DATA_MAX_SERIES)
			break;
		dt->names[dt->nseries++] = key;
	}
	qsort(dt->names, dt->nseries, sizeof(dt->names[0]), cmp_str);
	dt->values = malloc(sizeof(double) * (dt->nseries ? dt->nseries : 1) *
	                    dt->ncols);
	if (dt->values == NULL)
		return -1;
	for (size_t i = 0; i < dt->nseries * dt->ncols; i++)
		dt->values[i] = NAN;
	return 0;
}

static double *data_cell(struct data *dt, const char *name, int64_t day)
{
	const char **at = bsearch(&name, dt->names, dt->nseries,
	                          sizeof(dt->names[0]), cmp_str);

	if (at == NULL || day < dt->first ||
	    day >= dt->first + (int64_t)dt->ncols)
		return NULL;
	return &dt->values[(size_t)(at - dt->names) * dt->ncols +
	                   (size_t)(day - dt->first)];
}

static void data_clear(struct data *dt)
{
	free(dt->labels);
	free(dt->labelp);
	free(dt->values);
}

static struct report_chart data_chart(const struct data *dt, const char *title,
                                      const char *y_label)
{
	return (struct report_chart){
	        .title = title,
	        .y_label = y_label,
	        .ncols = dt->ncols,
	        .labels = dt->labelp,
	        .nseries = dt->nseries,
	        .names = dt->names,
	        .values = dt->values,
	};
}

/* The first and last day numbers of the report's days. */
static int data_range(const json_t *days, int64_t *first, int64_t *last)
{
	size_t n = json_array_size(days);

	return n == 0 ||
	                       report_day_number(
	                               report_str(json_array_get(days, 0),
	                                          "date"),
	                               first) < 0 ||
	                       report_day_number(
	                               report_str(json_array_get(days, n - 1),
	                                          "date"),
	                               last) < 0 ||
	                       *last < *first || *last - *first >= DATA_MAX_COLS
	               ? -1
	               : 0;
}

int report_chart_published(FILE *out, const json_t *days)
{
	struct data dt = {0};
	struct report_chart chart;
	json_t *set = json_object(), *day, *counts;
	const char *ch;
	int64_t first, last, dn;
	size_t i;
	int drawn = 0;

	if (set == NULL || data_range(days, &first, &last) < 0)
		goto done;
	json_array_foreach (days, i, day)
		json_object_foreach (json_object_get(day, "by_channel"), ch,
		                     counts)
			if (report_int(counts, "published") > 0)
				json_object_set_new(set, ch, json_true());
	if (json_object_size(set) == 0 || data_columns(&dt, first, last) < 0 ||
	    data_series(&dt, set) < 0)
		goto done;
	json_array_foreach (days, i, day) {
		if (report_day_number(report_str(day, "date"), &dn) < 0)
			continue;
		json_object_foreach (json_object_get(day, "by_channel"), ch,
		                     counts) {
			double *cell = data_cell(&dt, ch, dn);

			if (cell)
				*cell = (double)report_int(counts, "published");
		}
	}
	chart = data_chart(&dt, "Posts published per day per channel",
	                   "posts published");
	report_svg_bars(out, &chart);
	drawn = 1;
done:
	data_clear(&dt);
	json_decref(set);
	return drawn;
}

/* The days' range, widened to the rows' dates (within DATA_MAX_COLS). */
static int data_range_rows(const json_t *days, const json_t *rows,
                           int64_t *first, int64_t *last)
{
	const json_t *r;
	int64_t dn;
	size_t i;
	int have = data_range(days, first, last) == 0;

	json_array_foreach (rows, i, r) {
		if (report_day_number(report_str(r, "date"), &dn) < 0)
			continue;
		if (!have || dn < *first)
			*first = dn;
		if (!have || dn > *last)
			*last = dn;
		have = 1;
	}
	if (have && *last - *first >= DATA_MAX_COLS)
		*first = *last - DATA_MAX_COLS + 1;
	return have ? 0 : -1;
}

int report_chart_over_time(FILE *out, const json_t *days, const json_t *rows,
                           const struct report_over_time *how)
{
	struct data dt = {0};
	struct report_chart chart;
	json_t *set = json_object(), *r;
	int64_t first, last, dn;
	size_t i;
	int drawn = 0;

	if (set == NULL || data_range_rows(days, rows, &first, &last) < 0)
		goto done;
	json_array_foreach (rows, i, r) {
		const char *name = report_str(r, how->series_key);

		if (json_is_number(json_object_get(r, how->value_key)))
			json_object_set_new(set, name ? name : how->no_series,
			                    json_true());
	}
	if (json_object_size(set) == 0 || data_columns(&dt, first, last) < 0 ||
	    data_series(&dt, set) < 0)
		goto done;
	/* A second row for the same series and day replaces the first. */
	json_array_foreach (rows, i, r) {
		const char *name = report_str(r, how->series_key);
		json_t *v = json_object_get(r, how->value_key);
		double *cell;

		if (!json_is_number(v) ||
		    report_day_number(report_str(r, "date"), &dn) < 0 ||
		    (cell = data_cell(&dt, name ? name : how->no_series, dn)) ==
		            NULL)
			continue;
		*cell = json_number_value(v);
	}
	chart = data_chart(&dt, how->title, how->y_label);
	report_svg_lines(out, &chart);
	drawn = 1;
done:
	data_clear(&dt);
	json_decref(set);
	return drawn;
}
