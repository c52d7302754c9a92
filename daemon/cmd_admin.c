/* The commands about smmd itself: hello, reload, log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "command.h"
#include "control.h"
#include "events.h"
#include "reload.h"
#include "smm/protocol.h"
#include "smmd.h"

/* Versions first, so an old smmctl gets a sentence and not garbage. */
static enum cmd_retval cmd_hello(struct cmd_ctx *x)
{
	json_t *p = json_object_get(x->args, "protocol");

	if (p && (!json_is_integer(p) ||
	          json_integer_value(p) != SMM_PROTOCOL_VERSION))
		return cmd_fail(x, SMM_ERR_INCOMPATIBLE,
		                "incompatible smmctl and smmd (client %lld, "
		                "daemon %d)",
		                json_is_integer(p)
		                        ? (long long)json_integer_value(p)
		                        : -1LL,
		                SMM_PROTOCOL_VERSION);
	*x->result = json_pack("{s:i, s:s}", "protocol", SMM_PROTOCOL_VERSION,
	                       "version", PACKAGE_VERSION);
	return CMD_DONE;
}

static void reload_done(void *arg, int ok, const json_t *summary,
                        const json_t *errors)
{
	struct cmd_later *later = arg;
	char *msg = NULL;
	size_t i, len = 0;
	json_t *v;
	FILE *out;

	if (ok) {
		later->finish(later, json_deep_copy(summary), NULL, NULL);
		return;
	}
	/* Every error, one per line, as --check-config prints them. */
	if ((out = open_memstream(&msg, &len)) != NULL) {
		json_array_foreach (errors, i, v) {
			fprintf(out, "%s%s", i ? "\n" : "",
			        json_string_value(v));
		}
		fclose(out);
	}
	later->finish(later, NULL, SMM_ERR_INVALID_ARGUMENT,
	              msg && msg[0] ? msg : "the reload failed");
	free(msg);
}

/* Re-read smmd.yaml and the calendar; answer with what changed. */
static enum cmd_retval cmd_reload(struct cmd_ctx *x)
{
	if (x->later == NULL || x->later->finish == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL,
		                "reload needs a connection to answer on");
	if (reload_start(x->d, "asked by smmctl", reload_done, x->later) < 0)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	return CMD_WAIT;
}

/*
 * The recent delivery events (of one channel, or all); with follow, the
 * client then stays subscribed and gets each new event as it happens.
 */
static enum cmd_retval cmd_log(struct cmd_ctx *x)
{
	const char *channel;
	int follow, r;

	if (cmd_arg_bool(x, "follow", &follow) < 0 ||
	    cmd_arg_channel(x, "channel", &channel) < 0)
		return CMD_ERROR;
	if (follow && (x->later == NULL || x->later->follow == NULL))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'follow' needs a connection to stream on");
	*x->result = json_pack("{s:o}", "events",
	                       events_recent(x->d->events, channel));
	if (!follow || *x->result == NULL)
		return CMD_DONE;
	/* Subscribed in the same turn as the ring was read: no gap. */
	if ((r = x->later->follow(x->later, channel)) < 0) {
		json_decref(*x->result);
		*x->result = NULL;
		if (r == -EALREADY)
			return cmd_fail(x, SMM_ERR_CONFLICT,
			                "this connection follows already");
		if (r == -EBUSY)
			return cmd_fail(x, SMM_ERR_CONFLICT,
			                "too many followers (at most %d): "
			                "the other connections are kept for "
			                "operators",
			                CONTROL_MAX_FOLLOWERS);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	return CMD_FOLLOW;
}

const struct cmd_entry cmd_hello_entry = {
        .name = "hello",
        .flags = CMD_STANDBY,
        .run = cmd_hello,
        .help = "compare protocol versions",
};
const struct cmd_entry cmd_reload_entry = {
        .name = "reload",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_reload,
        .help = "re-read smmd.yaml and the calendar",
};
const struct cmd_entry cmd_log_entry = {
        .name = "log",
        .flags = CMD_LOCAL | CMD_STREAM,
        .run = cmd_log,
        .help = "recent delivery events; with follow, every new one",
};
