/*
 * The content calendar (daemon/calendar.c, calplanb.c, calyaml.c,
 * caltime.c): calendar_load on any file, against the shared channels,
 * then the expansion of whatever it accepted over a few weeks.
 */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "fuzz.h"

/* 2026-11-01T00:00:00Z, and the weeks after it that are expanded. */
#define FROM_MS    INT64_C(1793491200000)
#define HORIZON_MS (FROM_MS + INT64_C(40) * 86400 * 1000)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A zone with daylight saving, for calendars that name none. */
	setenv("TZ", "Europe/Madrid", 1);
	fuzz_config();
	return 0;
}

static void on_delivery(void *arg, const struct cal_delivery *d)
{
	size_t *n = arg;

	/* Touch what the caller would store, so ASan sees every byte. */
	*n += strlen(d->id) + strlen(d->post_id) + strlen(d->channel) +
	      strlen(d->text) + (d->link ? strlen(d->link) : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	const char *path = fuzz_write("calendar.yaml", data, size);
	size_t n = 0;

	if (calendar_load(path, fuzz_config(), &cal, &errs) == 0) {
		calendar_expand(cal, FROM_MS, HORIZON_MS, on_delivery, &n);
		calendar_free(cal);
	}
	config_errors_clear(&errs);
	return 0;
}
