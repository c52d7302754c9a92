/* cmd_plan: the plan against its cadences (plan check). */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smmctl.h"

/* "FILE:LINE:COLUMN: warning: message", as compilers and smmd -n say it. */
static void print_finding(const json_t *f)
{
	const char *file = ctl_str(f, "file");

	if (file)
		printf("%s:%lld:%lld: ", file, ctl_int(f, "line"),
		       ctl_int(f, "column"));
	printf("warning: %s\n", ctl_str(f, "message"));
}

/*
 * Where recurring calendar posts are not stored yet (past smmd's horizon),
 * weeks under target and long gaps are not judged: say so, once.
 */
static void print_horizon(const json_t *subjects)
{
	const char *horizon = NULL;
	size_t channels = 0, campaigns = 0, i;
	const json_t *s;
	char local[64];

	json_array_foreach (subjects, i, s) {
		if (ctl_str(s, "horizon") == NULL)
			continue;
		horizon = ctl_str(s, "horizon");
		if (json_object_get(s, "channel"))
			channels++;
		else
			campaigns++;
	}
	if (horizon == NULL)
		return;
	printf("plan check: recurring calendar posts are scheduled 'horizon' "
	       "ahead: after %s, %zu channel%s and %zu campaign%s with some "
	       "are judged only on posts over target or too close\n",
	       ctl_local_time(horizon, local), channels,
	       channels == 1 ? "" : "s", campaigns, campaigns == 1 ? "" : "s");
}

/* The last line: how many warnings, over what. */
static void print_summary(const json_t *result)
{
	const json_t *subjects = json_object_get(result, "subjects"), *s;
	size_t nf = json_array_size(json_object_get(result, "findings")) +
	            (size_t)ctl_int(result, "more");
	size_t channels = 0, campaigns = 0, i;
	long long weeks = ctl_int(result, "weeks");

	if (json_array_size(subjects) == 0) {
		printf("plan check: no channel or campaign declares a cadence "
		       "or a min_gap\n");
		return;
	}
	json_array_foreach (subjects, i, s)
		channels += json_object_get(s, "channel") != NULL;
	campaigns = json_array_size(subjects) - channels;
	print_horizon(subjects);
	printf("plan check: %zu warning%s over %lld week%s (%zu channel%s, "
	       "%zu campaign%s)\n",
	       nf, nf == 1 ? "" : "s", weeks, weeks == 1 ? "" : "s", channels,
	       channels == 1 ? "" : "s", campaigns, campaigns == 1 ? "" : "s");
}

/* plan ACTION: check (the one action so far). */
static int cmd_plan_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *f;
	size_t i;
	int r;

	if (strcmp(a->argv[0], "check") != 0) {
		ctl_warnx("plan: unknown action '%s' (check)", a->argv[0]);
		return EX_USAGE;
	}
	if ((r = ctl_args_request(c, a, "plan_check", &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
	} else {
		json_array_foreach (json_object_get(result, "findings"), i, f)
			print_finding(f);
		if (ctl_int(result, "more") > 0)
			printf("... and %lld more warnings\n",
			       ctl_int(result, "more"));
		print_summary(result);
	}
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_plan_entry = {
        .name = "plan",
        .usage = "check [--weeks N] [--json]",
        .help = "check the planned posts against their cadences",
        .opts =
                (const struct ctl_opt[]){
                        {"ACTION", 0, CTL_ARG, 0, NULL, NULL,
                         "check: every week under or over a channel's or\n"
                         "campaign's cadence, every gap longer than twice\n"
                         "the planned interval, every pair of posts closer\n"
                         "than min_gap"},
                        {"weeks", 0, CTL_INT, 0, "weeks", "N",
                         "how many weeks from this one (default 4, at "
                         "most 52)"},
                        {0},
                },
        .notes = "One warning a line, at the calendar post that causes it\n"
                 "(else at the cadence in smmd.yaml or the calendar),\n"
                 "then a count. Warnings are not errors: exit status 0.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_plan_run,
};
