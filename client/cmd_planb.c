/* cmd_planb: Plan B's commands: pause, resume, held, release, skip, audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smmctl.h"

/* The scope options pause and resume share. */
#define SCOPE_OPTS(verb)                                                 \
	{"all", 'a', CTL_FLAG, 0, "all", NULL, verb " every channel"},   \
	        {"channel",                                              \
	         'c',                                                    \
	         CTL_CHANNEL,                                            \
	         CTL_REPEAT,                                             \
	         "channels",                                             \
	         "CHANNEL",                                              \
	         verb " this channel (again for more)"},                 \
	{                                                                \
		"campaign", 0, CTL_STR, CTL_REPEAT, "campaigns", "NAME", \
		        verb " this campaign's posts (again for more)"   \
	}

static void print_pause(const json_t *p)
{
	char since[32], until[32];
	const char *u = ctl_str(p, "until"), *reason = ctl_str(p, "reason");

	printf("paused %s since %s", ctl_str(p, "scope"),
	       ctl_local_time(ctl_str(p, "since"), since));
	if (u)
		printf(" until %s", ctl_local_time(u, until));
	printf(" by %s, holding %lld%s%s\n",
	       ctl_str(p, "by") ? ctl_str(p, "by") : "?", ctl_int(p, "held"),
	       reason ? ": " : "", reason ? reason : "");
}

static int cmd_pause_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *v;
	size_t i;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
	} else if (json_is_true(json_object_get(result, "dry_run"))) {
		json_array_foreach (json_object_get(result, "would_hold"), i,
		                    v) {
			char due[32];

			printf("would hold %s (due %s)\n", ctl_str(v, "id"),
			       ctl_local_time(ctl_str(v, "due"), due));
		}
	} else {
		json_array_foreach (json_object_get(result, "paused"), i, v)
			print_pause(v);
		if (ctl_int(result, "in_flight") > 0)
			printf("%lld requests of the scope were still under way "
			       "after 5 s: they finish and are recorded\n",
			       ctl_int(result, "in_flight"));
	}
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_pause_entry = {
        .name = "pause",
        .help = "hold every post of a scope that falls due (Plan B)",
        .opts =
                (const struct ctl_opt[]){
                        SCOPE_OPTS("pause"),
                        {"until", 'u', CTL_TIME, 0, "until", "TIME",
                         "resume by itself then"},
                        {"reason", 'r', CTL_STR, 0, "reason", "TEXT",
                         "why, for status and the audit trail"},
                        {"dry-run", 'n', CTL_FLAG, 0, "dry_run", NULL,
                         "list what would be held in the next 24 h"},
                        {0},
                },
        .notes = "Once smmctl returns, no request of the scope leaves: due "
                 "posts become\n'held' until 'smmctl resume'.",
        .flags = CTL_CMD_JSON,
        .run = cmd_pause_run,
};

/* --publish, --skip or --review as the request's "policy". */
static int set_policy(struct ctl_args *a)
{
	int publish = ctl_args_count(a, "publish"),
	    skip = ctl_args_count(a, "skip"),
	    review = ctl_args_count(a, "review");

	if (publish + skip + review > 1) {
		ctl_warnx("%s: give at most one of --publish, --skip and "
		          "--review",
		          a->cmd->name);
		return EX_USAGE;
	}
	if (publish + skip + review == 0)
		return 0;
	return ctl_args_set(a, "policy",
	                    publish ? "publish"
	                    : skip  ? "skip"
	                            : "review",
	                    "POLICY");
}

static void print_resumed(const json_t *result)
{
	json_t *v;
	size_t i;

	json_array_foreach (json_object_get(result, "resumed"), i, v)
		printf("resumed %s: %lld published, %lld skipped, %lld still "
		       "held\n",
		       ctl_str(v, "scope"), ctl_int(v, "published"),
		       ctl_int(v, "skipped"), ctl_int(v, "held"));
}

static int cmd_resume_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL;
	int r;

	if ((r = set_policy(a)) != 0 ||
	    (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json)
		r = ctl_print_json(result);
	else
		print_resumed(result);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_resume_entry = {
        .name = "resume",
        .help = "end pauses (all of them without a scope)",
        .opts =
                (const struct ctl_opt[]){
                        SCOPE_OPTS("resume"),
                        {"publish", 0, CTL_FLAG, 0, NULL, NULL,
                         "publish every held post, however late"},
                        {"skip", 0, CTL_FLAG, 0, NULL, NULL,
                         "publish none of them"},
                        {"review", 0, CTL_FLAG, 0, NULL, NULL,
                         "keep them held: release or skip each"},
                        {"reason", 'r', CTL_STR, 0, "reason", "TEXT",
                         "why, for the audit trail"},
                        {0},
                },
        .notes = "By default a held post goes out if it is late by at most "
                 "its channel's\nmax_lateness (1h), at the channel's usual "
                 "pace, and is skipped otherwise.",
        .flags = CTL_CMD_JSON,
        .run = cmd_resume_run,
};

/*
 * Ask, then print the reply as JSON or each element of its array key as
 * a line.
 */
static int request_rows(struct ctl *c, struct ctl_args *a, const char *key,
                        void (*line)(const json_t *))
{
	json_t *result = NULL, *v;
	size_t i;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json)
		r = ctl_print_json(result);
	else
		json_array_foreach (json_object_get(result, key), i, v)
			line(v);
	json_decref(result);
	return r;
}

static void held_line(const json_t *v)
{
	char due[32];

	printf("%s  due %s  %s\n", ctl_str(v, "id"),
	       ctl_local_time(ctl_str(v, "due"), due),
	       ctl_str(v, "reason") ? ctl_str(v, "reason") : "");
}

static int cmd_held_run(struct ctl *c, struct ctl_args *a)
{
	return request_rows(c, a, "held", held_line);
}

const struct ctl_cmd cmd_held_entry = {
        .name = "held",
        .help = "list the held deliveries",
        .flags = CTL_CMD_JSON,
        .run = cmd_held_run,
};

static int settle_run(struct ctl *c, struct ctl_args *a, const char *what)
{
	json_t *result = NULL;
	int r;

	if ((r = ctl_args_set(a, "id", a->argv[0], "ID")) != 0 ||
	    (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	printf("%s %lld deliveries of %s\n", what, ctl_int(result, what),
	       a->argv[0]);
	json_decref(result);
	return 0;
}

static int cmd_release_run(struct ctl *c, struct ctl_args *a)
{
	return settle_run(c, a, "released");
}

static int cmd_skip_run(struct ctl *c, struct ctl_args *a)
{
	return settle_run(c, a, "skipped");
}

static const struct ctl_opt held_id_opts[] = {
        {"ID", 0, CTL_ARG, 0, NULL, NULL,
         "a delivery id POST/CHANNEL, or a post id for all its held ones"},
        {0},
};

const struct ctl_cmd cmd_release_entry = {
        .name = "release",
        .help = "publish a held delivery now, even while paused",
        .opts = held_id_opts,
        .min_args = 1,
        .max_args = 1,
        .run = cmd_release_run,
};

const struct ctl_cmd cmd_skip_entry = {
        .name = "skip",
        .help = "never publish a held delivery",
        .opts = held_id_opts,
        .min_args = 1,
        .max_args = 1,
        .run = cmd_skip_run,
};

static void audit_line(const json_t *v)
{
	char t[32], *detail = json_dumps(json_object_get(v, "detail"),
	                                 JSON_COMPACT | JSON_ENCODE_ANY);
	const char *scope = ctl_str(v, "scope"), *reason = ctl_str(v, "reason");

	printf("%s  %s  %s%s%s%s%s  %s\n",
	       ctl_local_time(ctl_str(v, "time"), t),
	       ctl_str(v, "user") ? ctl_str(v, "user") : "?",
	       ctl_str(v, "action"), scope ? " " : "", scope ? scope : "",
	       reason ? ": " : "", reason ? reason : "", detail ? detail : "");
	free(detail);
}

static int cmd_audit_run(struct ctl *c, struct ctl_args *a)
{
	return request_rows(c, a, "audit", audit_line);
}

const struct ctl_cmd cmd_audit_entry = {
        .name = "audit",
        .help = "who paused, resumed, released and skipped what, and when",
        .opts =
                (const struct ctl_opt[]){
                        {"since", 's', CTL_TIME, 0, "since", "TIME",
                         "only from then on"},
                        {0},
                },
        .flags = CTL_CMD_JSON,
        .run = cmd_audit_run,
};

/* planb ACTION [SCENARIO]: list, activate, drill, end. */
static int cmd_planb_run(struct ctl *c, struct ctl_args *a)
{
	static const char *const actions[] = {"list", "activate", "drill",
	                                      "end"};
	const char *act = a->argv[0];
	int named, r;
	json_t *result = NULL, *v;
	char wire[32];
	const char *k;
	size_t i;

	for (i = 0; i < 4 && strcmp(act, actions[i]) != 0; i++)
		;
	if (i == 4) {
		ctl_warnx("planb: unknown action '%s' (list, activate, drill "
		          "or end)",
		          act);
		return EX_USAGE;
	}
	named = i == 1 || i == 2;
	if (named != (a->argc == 2)) {
		ctl_warnx("planb %s: %s", act,
		          named ? "which scenario?" : "takes no scenario");
		return EX_USAGE;
	}
	if (named &&
	    (r = ctl_args_set(a, "scenario", a->argv[1], "SCENARIO")) != 0)
		return r;
	if ((r = set_policy(a)) != 0)
		return r;
	snprintf(wire, sizeof(wire), "planb_%s", act);
	if ((r = ctl_args_request(c, a, wire, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
	} else if (i == 0) {
		json_object_foreach (json_object_get(result, "scenarios"), k, v)
			printf("%s  (%s, %s)  %s\n", k, ctl_str(v, "severity"),
			       ctl_str(v, "where"),
			       ctl_str(v, "text") ? ctl_str(v, "text") : "");
	} else if (i == 3) {
		print_resumed(result);
	} else {
		json_array_foreach (json_object_get(result, "paused"), i, v)
			print_pause(v);
		json_array_foreach (json_object_get(result, "statement"), i, v)
			printf("statement queued: %s\n", json_string_value(v));
	}
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_planb_entry = {
        .name = "planb",
        .usage = "list | activate SCENARIO | drill SCENARIO | end "
                 "[--publish | --skip | --review] [-r TEXT]",
        .help = "run the calendar's prepared crisis scenarios (Plan B)",
        .opts =
                (const struct ctl_opt[]){
                        {"ACTION", 0, CTL_ARG, 0, NULL, NULL,
                         "list the scenarios; activate one (pause its "
                         "scope, publish\nits statement); drill one (its "
                         "statement to drill_channel\nonly); end (resume "
                         "what scenarios paused)"},
                        {"reason", 'r', CTL_STR, 0, "reason", "TEXT",
                         "why, for the audit trail"},
                        {"publish", 0, CTL_FLAG, 0, NULL, NULL,
                         "end: publish every held post"},
                        {"skip", 0, CTL_FLAG, 0, NULL, NULL,
                         "end: publish none of them"},
                        {"review", 0, CTL_FLAG, 0, NULL, NULL,
                         "end: keep them held"},
                        {0},
                },
        .min_args = 1,
        .max_args = 2,
        .flags = CTL_CMD_JSON,
        .run = cmd_planb_run,
};
