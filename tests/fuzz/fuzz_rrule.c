/*
 * RRULEs (daemon/calexpand.c through libical): the input is a first
 * occurrence, a newline, then the rule. Both are checked as the calendar
 * checks them, then the rule runs as a calendar post's and is expanded
 * from that first occurrence on, through daylight saving changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "calexpand.h"
#include "caltime.h"
#include "config.h"
#include "fuzz.h"

/* Expanded from 2026-01-01T00:00:00Z over a little more than a year. */
#define FROM_MS    INT64_C(1767225600000)
#define HORIZON_MS (FROM_MS + INT64_C(400) * 86400 * 1000)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1);
	fuzz_config();
	return 0;
}

static void on_delivery(void *arg, const struct cal_delivery *d)
{
	size_t *n = arg;

	*n += strlen(d->id);
}

/* The rule as the calendar reads it, in a post of its own. */
static void expand(const char *at, size_t atlen, const char *rule,
                   size_t rulelen)
{
	static char yaml[16384];
	static const char head[] = "timezone: Europe/Madrid\n"
	                           "posts:\n"
	                           "  - id: r\n"
	                           "    channels: [demo]\n"
	                           "    text: x\n"
	                           "    at: ";
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	size_t len = sizeof(head) - 1, n = 0;

	memcpy(yaml, head, len);
	len = fuzz_yaml_quote(yaml, len, sizeof(yaml), at, atlen);
	if (len == (size_t)-1 || sizeof(yaml) - len < 16)
		return;
	len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
	                        "\n    rrule: ");
	len = fuzz_yaml_quote(yaml, len, sizeof(yaml), rule, rulelen);
	if (len == (size_t)-1)
		return;
	yaml[len++] = '\n';
	fuzz_write("rrule.yaml", yaml, len);
	if (calendar_load(fuzz_path("rrule.yaml"), fuzz_config(), &cal,
	                  &errs) == 0) {
		calendar_expand(cal, FROM_MS, HORIZON_MS, on_delivery, &n);
		calendar_free(cal);
	}
	config_errors_clear(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *nl, *rule, err[256];
	struct caltime_civil start;
	struct calexpand_rule out;

	if ((nl = strchr(s, '\n')) == NULL) {
		free(s);
		return 0;
	}
	*nl = '\0';
	rule = nl + 1;
	if (caltime_parse(s, &start, err, sizeof(err)) == 0)
		calexpand_check(rule, &start, &out, err, sizeof(err));
	expand(s, strlen(s), rule, strlen(rule));
	free(s);
	return 0;
}
