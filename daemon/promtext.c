#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

void promtext_init(struct promtext *pt)
{
	*pt = (struct promtext){0};
}

void promtext_free(struct promtext *pt)
{
	free(pt->buf);
	promtext_init(pt);
}

char *promtext_steal(struct promtext *pt, size_t *len)
{
	char *page = pt->oom ? NULL : pt->buf;

	*len = page ? pt->len : 0;
	if (page == NULL)
		free(pt->buf);
	promtext_init(pt);
	return page;
}

/* Room for n more bytes and the NUL: 0, or -1 (and oom set). */
static int reserve(struct promtext *pt, size_t n)
{
	size_t cap = pt->cap ? pt->cap : 4096;
	char *grown;

	if (pt->oom)
		return -1;
	if (pt->len + n + 1 <= pt->cap)
		return 0;
	while (cap < pt->len + n + 1)
		cap *= 2;
	if ((grown = realloc(pt->buf, cap)) == NULL) {
		pt->oom = 1;
		return -1;
	}
	pt->buf = grown;
	pt->cap = cap;
	return 0;
}

static void put(struct promtext *pt, const char *s, size_t n)
{
	if (reserve(pt, n) < 0)
		return;
	memcpy(pt->buf + pt->len, s, n);
	pt->len += n;
	pt->buf[pt->len] = '\0';
}

static void puts_(struct promtext *pt, const char *s)
{
	put(pt, s, strlen(s));
}

/*
 * s with backslash and newline escaped, and the double quote too in a
 * label value (quote); a HELP line leaves quotes as they are.
 */
static void put_escaped(struct promtext *pt, const char *s, int quote)
{
	for (const char *run = s;; s++) {
		const char *esc = *s == '\\'           ? "\\\\"
		                  : *s == '\n'         ? "\\n"
		                  : *s == '"' && quote ? "\\\""
		                                       : NULL;

		if (esc == NULL && *s != '\0')
			continue;
		put(pt, run, (size_t)(s - run));
		if (*s == '\0')
			return;
		puts_(pt, esc);
		run = s + 1;
	}
}

/*
 * A float as Prometheus parses it: the shortest form that reads back
 * the same value, and +Inf, -Inf, NaN by their names.
 */
static const char *format_value(double v, char buf[32])
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, 32, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* {l1="v1",...,extra="value"}; nothing when there is no label at all. */
static void put_labels(struct promtext *pt, const char *const *labels,
                       const char *extra, const char *extra_value)
{
	int first = 1;

	for (; labels && labels[0]; labels += 2) {
		puts_(pt, first ? "{" : ",");
		puts_(pt, labels[0]);
		puts_(pt, "=\"");
		put_escaped(pt, labels[1], 1);
		puts_(pt, "\"");
		first = 0;
	}
	if (extra) {
		puts_(pt, first ? "{" : ",");
		puts_(pt, extra);
		puts_(pt, "=\"");
		put_escaped(pt, extra_value, 1);
		puts_(pt, "\"");
		first = 0;
	}
	if (!first)
		puts_(pt, "}");
}

void promtext_family(struct promtext *pt, const char *name, const char *type,
                     const char *help)
{
	puts_(pt, "# HELP ");
	puts_(pt, name);
	puts_(pt, " ");
	put_escaped(pt, help, 0);
	puts_(pt, "\n# TYPE ");
	puts_(pt, name);
	puts_(pt, " ");
	puts_(pt, type);
	puts_(pt, "\n");
}

/* name{labels,extra} text\n */
static void put_sample(struct promtext *pt, const char *name,
                       const char *suffix, const char *const *labels,
                       const char *extra, const char *extra_value,
                       const char *text)
{
	puts_(pt, name);
	puts_(pt, suffix);
	put_labels(pt, labels, extra, extra_value);
	puts_(pt, " ");
	puts_(pt, text);
	puts_(pt, "\n");
}

void promtext_sample(struct promtext *pt, const char *name,
                     const char *const *labels, double value)
{
	char buf[32];

	put_sample(pt, name, "", labels, NULL, NULL, format_value(value, buf));
}

void promtext_sample_u64(struct promtext *pt, const char *name,
                         const char *const *labels, uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	put_sample(pt, name, "", labels, NULL, NULL, buf);
}

void promtext_histogram_init(struct promtext_histogram *h, const double *bounds,
                             size_t nbounds)
{
	*h = (struct promtext_histogram){.bounds = bounds};
	h->nbounds =
	        nbounds < PROMTEXT_BUCKETS_MAX ? nbounds : PROMTEXT_BUCKETS_MAX;
}

void promtext_histogram_observe(struct promtext_histogram *h, double v)
{
	size_t i = 0;

	/* A handful of bounds: a linear search beats a binary one here. */
	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void promtext_histogram(struct promtext *pt, const char *name,
                        const char *const *labels,
                        const struct promtext_histogram *h)
{
	char le[32], n[32];
	uint64_t cumulative = 0;

	for (size_t i = 0; i <= h->nbounds; i++) {
		cumulative += h->counts[i];
		snprintf(n, sizeof(n), "%" PRIu64, cumulative);
		put_sample(pt, name, "_bucket", labels, "le",
		           i < h->nbounds ? format_value(h->bounds[i], le)
		                          : "+Inf",
		           n);
	}
	put_sample(pt, name, "_sum", labels, NULL, NULL,
	           format_value(h->sum, le));
	snprintf(n, sizeof(n), "%" PRIu64, h->count);
	put_sample(pt, name, "_count", labels, NULL, NULL, n);
}
