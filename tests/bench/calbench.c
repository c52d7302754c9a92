/*
 * The calendar's own cost, without the store: load a configuration and a
 * calendar, expand it over a horizon, and print the time of each step and
 * the process's peak RSS. Pair with gen-calendar.sh:
 *
 *   sh tests/bench/gen-calendar.sh /tmp/big
 *   build/tests/bench/calbench /tmp/big/smmd.yaml /tmp/big/calendar.yaml \
 *           [FROM-RFC3339 [HORIZON-DAYS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchclock.h"
#include "calendar.h"
#include "config.h"
#include "timeparse.h"

/* A line of /proc/self/status, in KiB ("VmHWM", "VmRSS"). */
static long status_kib(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void count(void *arg, const struct cal_delivery *d)
{
	unsigned long *n = arg;

	(*n)++;
	(void)d;
}

int main(int argc, char **argv)
{
	struct config_errors errs = {0};
	struct config *cfg;
	struct calendar *cal;
	unsigned long n = 0;
	int64_t from = 1793491200000; /* 2026-11-01T00:00:00Z */
	double t0, t1, t2;
	long days = 14;

	if (argc < 3 || (argc > 3 && time_parse_rfc3339(argv[3], &from) < 0)) {
		fprintf(stderr, "usage: calbench SMMD.YAML CALENDAR "
		                "[FROM-RFC3339 [HORIZON-DAYS]]\n");
		return 64;
	}
	if (argc > 4)
		days = strtol(argv[4], NULL, 10);
	if (config_load(argv[1], &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.len; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		config_errors_clear(&errs);
		return 1;
	}
	printf("calbench: rss before load %ld KiB\n", status_kib("VmRSS"));
	t0 = now_s();
	if (calendar_load(argv[2], cfg, &cal, &errs) < 0) {
		for (size_t i = 0; i < errs.len && i < 20; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		fprintf(stderr, "calbench: %zu errors\n", errs.len);
		config_errors_clear(&errs);
		config_unref(cfg);
		return 1;
	}
	t1 = now_s();
	printf("calbench: load %zu posts: %.3f s, rss %ld KiB\n", cal->nposts,
	       t1 - t0, status_kib("VmRSS"));
	calendar_expand(cal, from, from + days * 86400 * 1000, count, &n);
	t2 = now_s();
	printf("calbench: expand %ld days: %lu deliveries in %.3f s\n", days, n,
	       t2 - t1);
	calendar_free(cal);
	config_unref(cfg);
	printf("calbench: load + expand %.3f s, peak rss %ld KiB\n", t2 - t0,
	       status_kib("VmHWM"));
	return 0;
}
