/* cmd_admin: running smmd and smmctl itself: reload help. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"

/* reload: re-read smmd.yaml and the calendar; print what changed. */
int ctl_cmd_reload(struct ctl *c, const struct ctl_command *cmd, int argc,
                   char **argv)
{
	json_t *args, *result = NULL, *cal;
	int json = 0, r;

	if ((r = ctl_parse_flags(c, cmd, argc, argv, &json)) != 0)
		return r == -1 ? 0 : r;
	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	r = ctl_request(c, "reload", args, &result);
	json_decref(args);
	if (r != 0)
		return r;
	if (json) {
		r = ctl_print_json(result);
		json_decref(result);
		return r;
	}
	printf("reloaded %s (%lld channels)\n", ctl_str(result, "config"),
	       (long long)json_integer_value(
	               json_object_get(result, "channels")));
	cal = json_object_get(result, "calendar");
	if (json_is_object(cal))
		printf("calendar: %lld added, %lld updated, %lld cancelled, "
		       "%lld unchanged, %lld missed\n",
		       (long long)json_integer_value(
		               json_object_get(cal, "added")),
		       (long long)json_integer_value(
		               json_object_get(cal, "updated")),
		       (long long)json_integer_value(
		               json_object_get(cal, "cancelled")),
		       (long long)json_integer_value(
		               json_object_get(cal, "unchanged")),
		       (long long)json_integer_value(
		               json_object_get(cal, "missed")));
	json_decref(result);
	return 0;
}

/* help [COMMAND]: the whole summary, or one command in detail. */
int ctl_cmd_help(struct ctl *c, const struct ctl_command *cmd, int argc,
                 char **argv)
{
	const struct ctl_command *target;

	if (argc > 2) {
		ctl_warnx("help: give at most one COMMAND");
		return EX_USAGE;
	}
	if (argc < 2) {
		ctl_print_help(stdout);
		return 0;
	}
	if ((target = ctl_command_lookup(argv[1])) == NULL) {
		ctl_warnx("unknown command '%s' (try 'smmctl help')", argv[1]);
		return EX_USAGE;
	}
	ctl_print_usage(stdout, target, 1);
	return 0;
}
