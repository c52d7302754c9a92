/* cmd_admin: running smmd and smmctl itself: reload help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"

/* reload: re-read smmd.yaml and the calendar; print what changed. */
static int cmd_reload_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *cal;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
		json_decref(result);
		return r;
	}
	printf("reloaded %s (%lld channels)\n", ctl_str(result, "config"),
	       ctl_int(result, "channels"));
	cal = json_object_get(result, "calendar");
	if (json_is_object(cal))
		printf("calendar: %lld added, %lld updated, %lld cancelled, "
		       "%lld unchanged, %lld missed\n",
		       ctl_int(cal, "added"), ctl_int(cal, "updated"),
		       ctl_int(cal, "cancelled"), ctl_int(cal, "unchanged"),
		       ctl_int(cal, "missed"));
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_reload_entry = {
        .name = "reload",
        .help = "re-read smmd.yaml and the calendar; print what changed",
        .notes = "A file with errors changes nothing: every error is printed\n"
                 "as FILE:LINE:COLUMN: message and the schedule keeps running.",
        .flags = CTL_CMD_JSON,
        .run = cmd_reload_run,
};

/*
 * help [COMMAND]: the whole summary, or one command in detail; with
 * --commands, --options [COMMAND] or --states, the lists that bash
 * completion and the man-page check read.
 */
static int cmd_help_run(struct ctl *c, struct ctl_args *a)
{
	const struct ctl_cmd *target = NULL;

	if (a->argc > 0 && (target = ctl_cmd_lookup(a->argv[0])) == NULL) {
		ctl_warnx("unknown command '%s' (try 'smmctl help')",
		          a->argv[0]);
		return EX_USAGE;
	}
	if (ctl_args_count(a, "commands"))
		ctl_help_commands(stdout);
	else if (ctl_args_count(a, "options"))
		ctl_help_options(stdout, target);
	else if (ctl_args_count(a, "states"))
		ctl_help_states(stdout);
	else if (target != NULL)
		ctl_help_usage(stdout, target, 1);
	else
		ctl_help_all(stdout);
	return 0;
}

const struct ctl_cmd cmd_help_entry = {
        .name = "help",
        .help = "show this help, or the details of one command",
        .opts =
                (const struct ctl_opt[]){
                        {.name = "commands",
                         .type = CTL_FLAG,
                         .flags = CTL_HIDDEN},
                        {.name = "options",
                         .type = CTL_FLAG,
                         .flags = CTL_HIDDEN},
                        {.name = "states",
                         .type = CTL_FLAG,
                         .flags = CTL_HIDDEN},
                        {.name = "COMMAND", .type = CTL_ARG},
                        {NULL},
                },
        .min_args = 0,
        .max_args = 1,
        .run = cmd_help_run,
};
