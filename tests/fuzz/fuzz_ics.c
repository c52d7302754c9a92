/*
 * The agenda as iCalendar (lib/ics.c): deliveries as the agenda command
 * returns them, whose texts, links and channel names came from posts, in
 * any shape JSON can give them. What comes out must keep RFC 5545's rules
 * that a reader relies on: CRLF only, no line over ICS_LINE_MAX octets.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ics.h"

/* 2026-11-22T10:00:00Z */
#define NOW_MS INT64_C(1795341600000)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_lines(const char *ics)
{
	const char *p = ics, *crlf;

	while (*p) {
		if ((crlf = strstr(p, "\r\n")) == NULL ||
		    memchr(p, '\n', (size_t)(crlf - p)) != NULL ||
		    memchr(p, '\r', (size_t)(crlf - p)) != NULL ||
		    crlf - p > ICS_LINE_MAX) {
			fprintf(stderr, "a bad line at offset %zu:\n%s\n",
			        (size_t)(p - ics), ics);
			abort();
		}
		p = crlf + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *deliveries = json_loadb((const char *)data, size, 0, NULL);
	char *ics;

	if (deliveries == NULL)
		return 0;
	if ((ics = ics_render(deliveries, NOW_MS)) != NULL) {
		check_lines(ics);
		free(ics);
	} else if (errno != EINVAL && errno != ENOMEM) {
		fprintf(stderr, "ics_render failed with errno %d\n", errno);
		abort();
	}
	json_decref(deliveries);
	return 0;
}
