/* cmd_post: the commands that queue or settle posts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smmctl.h"

/*
 * A post due in a blackout: say so on stderr (the id stays alone on
 * stdout, for scripts), with where each delivery goes instead.
 */
static void cmd_add_blackouts(const json_t *result)
{
	const json_t *d;
	size_t i;

	json_array_foreach (json_object_get(result, "deliveries"), i, d) {
		const char *why = ctl_str(d, "blackout");
		const char *goes = ctl_str(d, "goes");

		if (why == NULL)
			continue;
		if (goes)
			ctl_warnx("%s: in a blackout: goes at %s instead (%s)",
			          ctl_str(d, "channel"), goes, why);
		else
			ctl_warnx("%s: in a blackout: it will be held when "
			          "due, until released or skipped (%s)",
			          ctl_str(d, "channel"), why);
	}
}

/* add: queue a post; prints its id. */
static int cmd_add_run(struct ctl *c, struct ctl_args *a)
{
	char *stdin_text = NULL;
	const char *text = a->argv[0];
	json_t *result = NULL;
	int r;

	if (strcmp(text, "-") == 0) {
		if ((r = ctl_read_stdin(&stdin_text)) != 0)
			return r;
		text = stdin_text;
	}
	/*
	 * --at is read once the text is in (so "+10m" counts from then), in
	 * the user's own time zone, and sent as UTC; whether it is too far in
	 * the past is smmd's call. Without --at smmd uses its own "now": a
	 * slow stdin must not make a post late.
	 */
	if ((r = ctl_args_set(a, "text", text, "TEXT")) == 0 &&
	    (r = ctl_args_request(c, a, NULL, &result)) == 0) {
		if ((text = ctl_str(result, "id")) != NULL) {
			printf("%s\n", text);
			cmd_add_blackouts(result);
			/* On stderr: stdout stays the id alone, for scripts. */
			if (json_is_true(json_object_get(result,
			                                 "awaiting_approval")))
				ctl_warnx(
				        "post '%s' awaits approval: it goes "
				        "out once 'smmctl approve %s' says so",
				        text, text);
		} else {
			ctl_warnx(
			        "protocol error: add reply without a post id");
			r = EX_PROTOCOL;
		}
	}
	free(stdin_text);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_add_entry = {
        .name = "add",
        .help = "queue a post on one or more channels; prints its id",
        .opts =
                (const struct ctl_opt[]){
                        {"channel", 'c', CTL_CHANNEL, CTL_REPEAT | CTL_REQUIRED,
                         "channels", "CHANNEL",
                         "publish on CHANNEL (repeat for more)"},
                        {"at", 0, CTL_TIME, 0, "at", "TIME",
                         "when to publish (default: now)"},
                        {"next-slot", 0, CTL_FLAG, 0, "next_slot", NULL,
                         "the first free slot of the channels (from --at)"},
                        {"link", 0, CTL_STR, 0, "link", "URL",
                         "link sent with the post"},
                        {"campaign", 0, CTL_STR, 0, "campaign", "NAME",
                         "campaign the post belongs to"},
                        {"id", 0, CTL_POSTID, 0, "id", "ID",
                         "the post id (default: a generated, sortable one)"},
                        {"media", 0, CTL_STR, CTL_REPEAT, "media", "URL",
                         "attach a media URL (repeat for more)"},
                        {"TEXT", 0, CTL_ARG, 0, NULL, NULL,
                         "the text; \"-\" reads it from standard input"},
                        {0},
                },
        .min_args = 1,
        .max_args = 1,
        .run = cmd_add_run,
};

/* Set args "id" to the positional ID and send the request. */
static int cmd_post_request_id(struct ctl *c, struct ctl_args *a,
                               json_t **result)
{
	int r;

	if ((r = ctl_args_set(a, "id", a->argv[0], "ID")) != 0)
		return r;
	return ctl_args_request(c, a, NULL, result);
}

/* cancel: stop a post's (or one delivery's) pending deliveries. */
static int cmd_cancel_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *v;
	size_t i;
	int r;

	if ((r = cmd_post_request_id(c, a, &result)) != 0)
		return r;
	json_array_foreach (json_object_get(result, "cancelled"), i, v) {
		if (json_is_string(v))
			printf("cancelled %s\n", json_string_value(v));
	}
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_cancel_entry = {
        .name = "cancel",
        .help = "cancel the pending deliveries of a post (or one delivery)",
        .opts =
                (const struct ctl_opt[]){
                        {"ID", 0, CTL_ARG, 0, NULL, NULL,
                         "a post id, or a delivery id POST/CHANNEL; only\n"
                         "scheduled, retry_wait and draft deliveries can be "
                         "cancelled"},
                        {0},
                },
        .min_args = 1,
        .max_args = 1,
        .run = cmd_cancel_run,
};

/* approve: sign a post's drafts off (or one delivery's). */
static int cmd_approve_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *v;
	char at[32];
	size_t i;
	int r;

	if ((r = cmd_post_request_id(c, a, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
		json_decref(result);
		return r;
	}
	ctl_local_time(ctl_str(result, "at"), at);
	json_array_foreach (json_object_get(result, "approved"), i, v) {
		const char *too_late = ctl_str(v, "too_late");

		printf("approved %s by %s at %s: ", ctl_str(v, "id"),
		       ctl_str(result, "by"), at);
		if (too_late)
			printf("still held, %s\n", too_late);
		else if (json_is_true(json_object_get(v, "released")))
			printf("released now\n");
		else
			printf("%s\n", ctl_str(v, "state"));
	}
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_approve_entry = {
        .name = "approve",
        .help = "approve a post's drafts, so they may go out",
        .opts =
                (const struct ctl_opt[]){
                        {"ID", 0, CTL_ARG, 0, NULL, NULL,
                         "a post id (each of its deliveries that awaits\n"
                         "approval), or a delivery id POST/CHANNEL"},
                        {0},
                },
        .notes = "Only root and the members of approvers_group may "
                 "approve. A draft becomes\nscheduled; one held awaiting "
                 "approval goes out now, unless it is later\nthan its "
                 "channel's max_lateness: then it stays held for release "
                 "or skip.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_approve_run,
};

/* retry: send an unknown or failed delivery again, now. */
static int cmd_retry_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL;
	const char *id;
	int r;

	if ((r = cmd_post_request_id(c, a, &result)) != 0)
		return r;
	id = ctl_str(result, "id");
	printf("retrying %s\n", id ? id : a->argv[0]);
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_retry_entry = {
        .name = "retry",
        .help = "send an unknown or failed delivery again, now",
        .opts =
                (const struct ctl_opt[]){
                        {"ID", 0, CTL_ARG, 0, NULL, NULL,
                         "a delivery id POST/CHANNEL (or a post id with a "
                         "single delivery)"},
                        {0},
                },
        .min_args = 1,
        .max_args = 1,
        .run = cmd_retry_run,
};

/* resolve: record by hand what happened to an unknown or failed delivery. */
static int cmd_resolve_run(struct ctl *c, struct ctl_args *a)
{
	int published = ctl_args_count(a, "published"),
	    failed = ctl_args_count(a, "failed");
	const char *outcome = published ? "published" : "failed", *id;
	json_t *result = NULL;
	int r;

	if (published + failed > 1) {
		ctl_warnx("resolve: give --published or --failed, once");
		return EX_USAGE;
	}
	if (published + failed == 0 ||
	    (ctl_args_get(a, "url") != NULL && !published)) {
		ctl_warnx("resolve: usage: smmctl resolve %s", a->cmd->usage);
		return EX_USAGE;
	}
	if ((r = ctl_args_set(a, "outcome", outcome, "outcome")) != 0 ||
	    (r = cmd_post_request_id(c, a, &result)) != 0)
		return r;
	id = ctl_str(result, "id");
	printf("%s %s\n", id ? id : a->argv[0], outcome);
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_resolve_entry = {
        .name = "resolve",
        /* Either outcome, and --url only with --published. */
        .usage = "ID --published [--url URL] | --failed",
        .help = "record by hand what became of an unknown or failed delivery",
        .opts =
                (const struct ctl_opt[]){
                        {"ID", 0, CTL_ARG, 0, NULL, NULL,
                         "a delivery id POST/CHANNEL (or a post id with a "
                         "single delivery)"},
                        {"published", 0, CTL_FLAG, 0, NULL, NULL,
                         "it did go out (--url: where it is)"},
                        {"failed", 0, CTL_FLAG, 0, NULL, NULL,
                         "it did not go out and must not be retried"},
                        {"url", 0, CTL_STR, 0, "url", "URL", NULL},
                        {0},
                },
        .min_args = 1,
        .max_args = 1,
        .run = cmd_resolve_run,
};
