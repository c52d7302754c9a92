/*
 * PLACEHOLDER until the calendar parser lands (issue 3): it refuses every
 * calendar, so a configuration naming one fails --check-config and reload.
 * The real daemon/calendar.c replaces this file whole.
 */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"

int calendar_load(const char *path, const struct config *cfg,
		  struct calendar **out, struct config_errors *errs)
{
	*out = NULL;
	config_errors_add(errs, path, 0, 0,
			  "calendar support is not built yet");
	return -1;
}

void calendar_free(struct calendar *cal)
{
	free(cal);
}

int calendar_expand(const struct calendar *cal, int64_t from_ms,
		    int64_t horizon_ms,
		    void (*fn)(void *arg, const struct cal_delivery *),
		    void *arg)
{
	return -1;
}
