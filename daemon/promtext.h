/*
 * The Prometheus text exposition format, version 0.0.4: a page of metric
 * families, each "# HELP" and "# TYPE" then its samples, written into one
 * growing buffer. Pure: no loop, no daemon; prom.c decides what goes in.
 */
#ifndef SMMD_PROMTEXT_H
#define SMMD_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

/* What a scrape's Content-Type says the page is. */
#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A page being written. Out of memory once: every later write is a no-op. */
struct promtext {
	char *buf;
	size_t len, cap;
	int oom;
};

/* The most buckets a histogram has, +Inf not counted. */
#define PROMTEXT_BUCKETS_MAX 24

/*
 * A histogram as Prometheus sees it: each bucket counts the observations
 * at most its upper bound (le); kept per bucket here and made cumulative
 * when written.
 */
struct promtext_histogram {
	const double *bounds; /* ascending, finite; +Inf is implied */
	size_t nbounds;       /* at most PROMTEXT_BUCKETS_MAX */
	uint64_t counts[PROMTEXT_BUCKETS_MAX + 1]; /* the last one: +Inf */
	uint64_t count;
	double sum;
};

/* An empty histogram over bounds (borrowed: a static array). */
void promtext_histogram_init(struct promtext_histogram *, const double *bounds,
                             size_t nbounds);
void promtext_histogram_observe(struct promtext_histogram *, double v);

void promtext_init(struct promtext *);
/*
 * The page, NUL-terminated, its length in *len: the caller owns it (free).
 * NULL when a write ran out of memory. The writer is empty again.
 */
char *promtext_steal(struct promtext *, size_t *len);
void promtext_free(struct promtext *);

/*
 * Begin a family: "# HELP name help" (help escaped) and "# TYPE name
 * type" (counter, gauge, histogram).
 */
void promtext_family(struct promtext *, const char *name, const char *type,
                     const char *help);
/*
 * One sample: name{l1="v1",...} value. labels: pairs of name and value,
 * ended by a NULL name; NULL for none. Values are escaped.
 */
void promtext_sample(struct promtext *, const char *name,
                     const char *const *labels, double value);
/* The same for a counter's whole number, exact past 2^53. */
void promtext_sample_u64(struct promtext *, const char *name,
                         const char *const *labels, uint64_t value);
/* A histogram's name_bucket (cumulative, le last), name_sum, name_count. */
void promtext_histogram(struct promtext *, const char *name,
                        const char *const *labels,
                        const struct promtext_histogram *);

#endif
