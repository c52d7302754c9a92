/*
 * cmd_report: smmd's report over a month or a range, as one HTML page
 * (report_html.c) to a file or standard output, or as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "report.h"
#include "smmctl.h"

/* "YYYY-MM" with a month from 01 to 12. */
static int cmd_report_month_ok(const char *m)
{
	return strlen(m) == 7 && strspn(m, "0123456789") == 4 && m[4] == '-' &&
	       strspn(m + 5, "0123456789") == 2 &&
	       ((m[5] == '0' && m[6] >= '1') ||
	        (m[5] == '1' && m[6] >= '0' && m[6] <= '2'));
}

/*
 * Instants on the page are read in the report's zone, whoever reads it:
 * the zone smmd counted the days in.
 */
static void cmd_report_zone(const json_t *result)
{
	const char *zone = ctl_str(result, "zone");
	char path[512];

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s",
	         zone ? zone : "");
	if (zone == NULL || zone[0] == '\0' || zone[0] == '/' ||
	    strstr(zone, "..") != NULL || access(path, R_OK) != 0 ||
	    setenv("TZ", zone, 1) != 0)
		return; /* the page then says the zone, and times are local */
	tzset();
}

/* The page to path, made whole before it takes path's name. */
static int cmd_report_write(const json_t *result, const char *path)
{
	char tmp[4096];
	FILE *f;
	int r;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (report_html(stdout, result, PACKAGE_VERSION) == 0)
			return 0;
		ctl_warnx("report: cannot write standard output: %s",
		          strerror(errno));
		return EX_IOERR;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		ctl_warnx("report: file name too long: %s", path);
		return EX_USAGE;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		ctl_warnx("report: cannot create '%s': %s", tmp,
		          strerror(errno));
		return EX_CANTCREAT;
	}
	r = report_html(f, result, PACKAGE_VERSION);
	if (fclose(f) != 0)
		r = -1;
	if (r == 0 && rename(tmp, path) == 0)
		return 0;
	ctl_warnx("report: cannot write '%s': %s", path, strerror(errno));
	unlink(tmp);
	return EX_IOERR;
}

static int cmd_report_run(struct ctl *c, struct ctl_args *a)
{
	const char *month = ctl_args_get(a, "month");
	const char *file = ctl_args_get(a, "output");
	json_t *result = NULL;
	int r;

	if (month && !cmd_report_month_ok(month)) {
		ctl_warnx("report: --month wants YYYY-MM, not '%s'", month);
		return EX_USAGE;
	}
	if (month &&
	    (ctl_args_count(a, "since") || ctl_args_count(a, "until"))) {
		ctl_warnx("report: give --month or --since/--until, not both");
		return EX_USAGE;
	}
	if (a->json && file) {
		ctl_warnx("report: --json prints to standard output: no -o");
		return EX_USAGE;
	}
	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (!json_is_array(json_object_get(result, "days"))) {
		ctl_warnx("protocol error: report reply without days");
		json_decref(result);
		return EX_PROTOCOL;
	}
	if (a->json) {
		r = ctl_print_json(result);
	} else {
		cmd_report_zone(result);
		r = cmd_report_write(result, file);
	}
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_report_entry = {
        .name = "report",
        .help = "a month's report as one HTML page: calendar, charts, problems",
        .opts =
                (const struct ctl_opt[]){
                        {"since", 0, CTL_DATE, 0, "since", "DATE",
                         "start (default: the 1st of this month)"},
                        {"until", 0, CTL_DATE, 0, "until", "DATE",
                         "end, excluded (default: the end of this month,\n"
                         "or of --since's month when that is later)"},
                        {"month", 'm', CTL_STR, 0, "month", "YYYY-MM",
                         "that month, in the calendar's time zone"},
                        {"output", 'o', CTL_FILE, 0, NULL, "FILE",
                         "write the page to FILE (default: standard\n"
                         "output)"},
                        {0},
                },
        .notes = "DATE as for calendar. Days are counted in the calendar's\n"
                 "time zone (smmd's own when it has no calendar). The page\n"
                 "needs no network and no script: mail it, print it.",
        .flags = CTL_CMD_JSON,
        .run = cmd_report_run,
};
