/*
 * Times and durations people type (lib/timeparse.c: smmctl add --at, the
 * control protocol's times, smmd.yaml's durations) and the calendar's
 * (daemon/caltime.c). What time_parse_rfc3339 accepts must survive
 * formatting and parsing again unchanged: the store keeps times so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "fuzz.h"
#include "timeparse.h"

/* 2026-11-22T10:00:00Z */
#define NOW_MS INT64_C(1795341600000)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Local times go through mktime: a zone with daylight saving. */
	setenv("TZ", "Europe/Madrid", 1);
	return 0;
}

static void rfc3339_round_trip(const char *s)
{
	char buf[TIME_RFC3339_LEN];
	int64_t ms, again;

	if (time_parse_rfc3339(s, &ms) < 0)
		return;
	time_format_rfc3339(ms, buf);
	if (time_parse_rfc3339(buf, &again) < 0 || again != ms) {
		fprintf(stderr, "'%s' -> %lld -> '%s' does not read back\n", s,
		        (long long)ms, buf);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), err[256], buf[64];
	struct caltime_civil c;
	int64_t ms;

	if (time_parse(s, NOW_MS, &ms, err, sizeof(err)) == 0) {
		time_format_rfc3339(ms, buf);
		time_format_local(ms, buf);
	}
	time_parse_date(s, NOW_MS, &ms, err, sizeof(err));
	rfc3339_round_trip(s);
	if (duration_parse(s, &ms) == 0)
		duration_format(ms, buf, sizeof(buf));
	caltime_parse(s, &c, err, sizeof(err));
	free(s);
	return 0;
}
