/*
 * report_svg: the report's charts as inline SVG, drawn from numbers only
 * (no script, no font file): axes with round ticks, a legend, and data
 * marks a reader, a printer and a test can count (class "bar" per bar
 * segment, "pt" per point, "line" per series).
 */
#include <math.h>
#include <stdio.h>

#include "report.h"

#define CHART_W     960.0
#define CHART_H     240.0 /* the plot and its axes, without the legend */
#define PAD_LEFT    56.0
#define PAD_RIGHT   12.0
#define PAD_TOP     14.0
#define PAD_BOTTOM  36.0
#define LEGEND_ROW  20.0
#define LEGEND_COLS 5

/* Distinct on screen and on paper, and for the commonest colour blindness. */
static const char *const palette[] = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

const char *report_colour(size_t i)
{
	return palette[i % NPALETTE];
}

/* A round step (1, 2 or 5 times a power of ten) giving about 4 ticks. */
static double nice_step(double max)
{
	double raw = max / 4, mag, f, step;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
	/* Posts, likes and followers are counted: no half ticks. */
	return step < 1 ? 1 : step;
}

struct frame {
	double top;  /* the axis' value at the top of the plot */
	double x0;   /* the plot's left edge */
	double colw; /* one column's width */
	double y0;   /* the plot's bottom edge */
	double h;    /* the plot's height */
};

static double frame_y(const struct frame *f, double v)
{
	return f->y0 - v / f->top * f->h;
}

/* <svg> with its title, the horizontal grid and the y axis' ticks. */
static void chart_open(FILE *out, const struct report_chart *c, double max,
                       struct frame *f)
{
	double step = nice_step(max), rows;

	f->top = step * ceil((max > 0 ? max : 1) / step);
	f->x0 = PAD_LEFT;
	f->colw = (CHART_W - PAD_LEFT - PAD_RIGHT) /
	          (double)(c->ncols ? c->ncols : 1);
	f->y0 = CHART_H - PAD_BOTTOM;
	f->h = CHART_H - PAD_TOP - PAD_BOTTOM;
	rows = ceil((double)c->nseries / LEGEND_COLS);
	fprintf(out,
	        "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	        "aria-label=\"",
	        CHART_W, CHART_H + rows * LEGEND_ROW);
	report_esc(out, c->title);
	fputs("\"><title>", out);
	report_esc(out, c->title);
	fputs("</title>\n", out);
	for (double v = 0; v <= f->top + step / 2; v += step) {
		double y = frame_y(f, v);

		fprintf(out,
		        "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
		        "x2=\"%.1f\" y2=\"%.1f\"/>"
		        "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
		        "text-anchor=\"end\">%g</text>\n",
		        f->x0, y, CHART_W - PAD_RIGHT, y, f->x0 - 6, y + 4, v);
	}
	fprintf(out,
	        "<text class=\"axis\" transform=\"translate(14 %.1f) "
	        "rotate(-90)\" text-anchor=\"middle\">",
	        PAD_TOP + f->h / 2);
	report_esc(out, c->y_label);
	fputs("</text>\n", out);
}

/* The x axis' labels (every one, or every k-th when crowded), legend. */
static void chart_close(FILE *out, const struct report_chart *c,
                        const struct frame *f)
{
	size_t every = c->ncols / 32 + 1;

	fprintf(out,
	        "<line class=\"axisline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
	        "y2=\"%.1f\"/>\n",
	        f->x0, f->y0, CHART_W - PAD_RIGHT, f->y0);
	for (size_t i = 0; c->labels && i < c->ncols; i += every) {
		fprintf(out,
		        "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
		        "text-anchor=\"middle\">",
		        f->x0 + f->colw * ((double)i + 0.5), f->y0 + 16);
		report_esc(out, c->labels[i]);
		fputs("</text>\n", out);
	}
	for (size_t s = 0; s < c->nseries; s++) {
		double x = PAD_LEFT + (double)(s % LEGEND_COLS) *
		                              (CHART_W - PAD_LEFT) /
		                              LEGEND_COLS;
		double y = CHART_H + (double)(s / LEGEND_COLS) * LEGEND_ROW;

		fprintf(out,
		        "<rect class=\"key\" x=\"%.1f\" y=\"%.1f\" width=\"12\" "
		        "height=\"12\" fill=\"%s\"/><text class=\"legend\" "
		        "x=\"%.1f\" y=\"%.1f\">",
		        x, y - 2, report_colour(s), x + 18, y + 8);
		report_esc(out, c->names[s]);
		fputs("</text>\n", out);
	}
	fputs("</svg>\n", out);
}

/* A tooltip: "series, column: value". */
static void chart_tip(FILE *out, const struct report_chart *c, size_t s,
                      size_t col, double v)
{
	fputs("<title>", out);
	report_esc(out, c->names[s]);
	if (c->labels) {
		fputs(", ", out);
		report_esc(out, c->labels[col]);
	}
	fprintf(out, ": %g</title>", v);
}

void report_svg_bars(FILE *out, const struct report_chart *c)
{
	struct frame f;
	double max = 0;

	for (size_t col = 0; col < c->ncols; col++) {
		double sum = 0;

		for (size_t s = 0; s < c->nseries; s++)
			if (c->values[s * c->ncols + col] > 0)
				sum += c->values[s * c->ncols + col];
		max = sum > max ? sum : max;
	}
	chart_open(out, c, max, &f);
	for (size_t col = 0; col < c->ncols; col++) {
		double base = 0, w = f.colw * 0.7;

		for (size_t s = 0; s < c->nseries; s++) {
			double v = c->values[s * c->ncols + col];
			double y1, y2;

			if (!(v > 0))
				continue;
			y1 = frame_y(&f, base);
			y2 = frame_y(&f, base + v);
			fprintf(out,
			        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
			        "width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
			        f.x0 + f.colw * (double)col + (f.colw - w) / 2,
			        y2, w, y1 - y2, report_colour(s));
			chart_tip(out, c, s, col, v);
			fputs("</rect>\n", out);
			base += v;
		}
	}
	chart_close(out, c, &f);
}

void report_svg_lines(FILE *out, const struct report_chart *c)
{
	struct frame f;
	double max = 0;

	for (size_t i = 0; i < c->nseries * c->ncols; i++)
		if (isfinite(c->values[i]) && c->values[i] > max)
			max = c->values[i];
	chart_open(out, c, max, &f);
	for (size_t s = 0; s < c->nseries; s++) {
		const double *v = c->values + s * c->ncols;

		fprintf(out,
		        "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" "
		        "points=\"",
		        report_colour(s));
		for (size_t col = 0; col < c->ncols; col++)
			if (isfinite(v[col]))
				fprintf(out, "%.1f,%.1f ",
				        f.x0 + f.colw * ((double)col + 0.5),
				        frame_y(&f, v[col]));
		fputs("\"/>\n", out);
		for (size_t col = 0; col < c->ncols; col++) {
			if (!isfinite(v[col]))
				continue;
			fprintf(out,
			        "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" "
			        "r=\"3.5\" fill=\"%s\">",
			        f.x0 + f.colw * ((double)col + 0.5),
			        frame_y(&f, v[col]), report_colour(s));
			chart_tip(out, c, s, col, v[col]);
			fputs("</circle>\n", out);
		}
	}
	chart_close(out, c, &f);
}
