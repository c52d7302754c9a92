#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "outage.h"
#include "pause.h"
#include "proto.h"
#include "relay.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "timeparse.h"

/* Every command, in the order "known:" lists them. */
static const struct cmd_entry *const commands[] = {
        &cmd_hello_entry,       &cmd_add_entry,
        &cmd_list_entry,        &cmd_show_entry,
        &cmd_cancel_entry,      &cmd_status_entry,
        &cmd_retry_entry,       &cmd_resolve_entry,
        &cmd_reload_entry,      &cmd_backup_entry,
        &cmd_agenda_entry,      &cmd_log_entry,
        &cmd_pause_entry,       &cmd_resume_entry,
        &cmd_held_entry,        &cmd_release_entry,
        &cmd_skip_entry,        &cmd_audit_entry,
        &cmd_planb_list_entry,  &cmd_planb_activate_entry,
        &cmd_planb_drill_entry, &cmd_planb_end_entry,
        &cmd_queue_entry,       &cmd_import_entry,
        &cmd_approve_entry,     &cmd_plan_check_entry,
        &cmd_goals_entry,       &cmd_report_entry,
        &cmd_stats_entry,       &cmd_auth_entry,
        &cmd_channels_entry,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

enum cmd_retval cmd_fail(struct cmd_ctx *x, const char *code, const char *fmt,
                         ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, x->msglen, fmt, ap);
	va_end(ap);
	*x->code = code;
	return CMD_ERROR;
}

enum cmd_retval cmd_store_error(struct cmd_ctx *x, int r, const char *doing)
{
	const char *code = r == -ENOENT     ? SMM_ERR_NOT_FOUND
	                   : r == -EALREADY ? SMM_ERR_CONFLICT
	                   : r == -EEXIST   ? SMM_ERR_EXISTS
	                                    : NULL;

	if (code) {
		/* The store (or the caller) already said which and why. */
		*x->code = code;
		return CMD_ERROR;
	}
	if (r == -ENOMEM)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	/* A write that failed: the turn goes, and smmd holds (outage.c). */
	if (r == -EIO && strcmp(doing, "write") == 0) {
		outage_begin(x->d);
		return cmd_fail(x, SMM_ERR_STORE_UNAVAILABLE,
		                "not done: the store cannot be written; smmd's "
		                "log says why");
	}
	return cmd_fail(x, SMM_ERR_INTERNAL, "cannot %s the store", doing);
}

void cmd_actor(const struct cmd_ctx *x, struct pause_actor *a, char *name,
               size_t len)
{
	long uid = x->peer ? (long)x->peer->uid : (long)getuid();
	struct passwd pw, *res = NULL;
	const char *routed_as;
	char buf[1024];

	/* Routed here (route.h): named by the node asked, whose machine
	 * knows the peer; this one may not. */
	if (x->peer && x->peer->routed &&
	    (routed_as = json_string_value(
	             json_object_get(x->args, ROUTE_ACTOR_ARG))) != NULL)
		snprintf(name, len, "%s", routed_as);
	else if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 &&
	         res)
		snprintf(name, len, "%s", pw.pw_name);
	else
		snprintf(name, len, "uid %ld", uid);
	a->uid = uid;
	a->user = name;
}

int cmd_arg_string(struct cmd_ctx *x, const char *key, const char **out,
                   int required)
{
	if (proto_get_string(x->args, key, out, required, x->msg, x->msglen) <
	    0) {
		*x->code = SMM_ERR_INVALID_ARGUMENT;
		return -1;
	}
	return 0;
}

int cmd_arg_time(struct cmd_ctx *x, const char *key, int64_t *out)
{
	const char *v;

	if (cmd_arg_string(x, key, &v, 0) < 0)
		return -1;
	if (v && time_parse_rfc3339(v, out) < 0)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'%s': '%.64s' is not an RFC 3339 time", key,
		                v);
	return 0;
}

int cmd_arg_limit(struct cmd_ctx *x, const char *key, unsigned max,
                  unsigned *out)
{
	json_t *v = json_object_get(x->args, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > max)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'%s' must be from 1 to %u", key, max);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

int cmd_arg_bool(struct cmd_ctx *x, const char *key, int *out)
{
	json_t *v = json_object_get(x->args, key);

	if (v && !json_is_boolean(v))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int cmd_check_channel(struct cmd_ctx *x, const char *name)
{
	char *known;

	if (config_channel(x->d->cfg, name) != NULL)
		return 0;
	/* A typo must not look like an empty answer. */
	known = config_channel_names(x->d->cfg);
	cmd_fail(x, SMM_ERR_UNKNOWN_CHANNEL,
	         "unknown channel '%.200s' (known: %s)", name,
	         known ? known : "?");
	free(known);
	return -1;
}

int cmd_arg_channel(struct cmd_ctx *x, const char *key, const char **out)
{
	if (cmd_arg_string(x, key, out, 0) < 0)
		return -1;
	return *out ? cmd_check_channel(x, *out) : 0;
}

/* "a, b, c": the commands with none of the flags skip, and one of need
 * unless it is 0. */
static void command_names(char *buf, size_t len, unsigned skip, unsigned need)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NCOMMANDS && used < len; i++) {
		if ((commands[i]->flags & skip) ||
		    (need && !(commands[i]->flags & need)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		                         used ? ", " : "", commands[i]->name);
	}
}

static const struct cmd_entry *command_lookup(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int command_changes(const char *name)
{
	const struct cmd_entry *e = command_lookup(name);

	return e != NULL && (e->flags & CMD_WRITE);
}

int command_off_loop(const char *name)
{
	const struct cmd_entry *e = command_lookup(name);

	return e != NULL && (e->flags & CMD_OFFLOOP);
}

/* The policy in one place: the entry's flags against the peer and smmd. */
static enum cmd_retval command_allowed(struct cmd_ctx *x,
                                       const struct cmd_entry *e,
                                       const struct proto_request *req)
{
	char reads[256];

	if ((e->flags & CMD_ADMIN) && x->peer && x->peer->readonly) {
		command_names(reads, sizeof(reads), CMD_ADMIN, 0);
		return cmd_fail(x, SMM_ERR_PERMISSION,
		                "permission denied: '%s' %s, and uid %ld may "
		                "only read (readonly_group: %s)",
		                e->name,
		                e->flags & CMD_WRITE ? "changes state"
		                                     : "is for operators",
		                (long)x->peer->uid, reads);
	}
	/* A standby answers reads itself and relays the rest, but what
	 * runs only where its client is connected; a worker runs what is
	 * routed to it, on a channel it fires (route.h). */
	if (x->d->standby && !(e->flags & (CMD_OFFLOOP | CMD_STANDBY)) &&
	    !(x->d->worker && x->peer && x->peer->routed)) {
		char works[300] = "?";

		if (!(e->flags & CMD_LOCAL) && x->later && !x->d->stopping)
			return relay_command(x, req);

		store_standby(x->d->store, works, sizeof(works));
		command_names(reads, sizeof(reads), 0,
		              CMD_OFFLOOP | CMD_STANDBY);
		return cmd_fail(
		        x, SMM_ERR_STANDBY,
		        "'%s' refused: this node is a standby (%s): ask "
		        "the node that works. A standby answers %s",
		        e->name, works, reads);
	}
	if ((e->flags & CMD_WRITE) && x->d->store_down_ms) {
		char since[TIME_RFC3339_LEN];

		return cmd_fail(x, SMM_ERR_STORE_UNAVAILABLE,
		                "'%s' refused: the store cannot be written "
		                "since %s (%s); smmd holds every delivery and "
		                "carries on by itself once it can write again",
		                e->name,
		                time_format_rfc3339(x->d->store_down_ms, since),
		                outage_why(x->d));
	}
	if ((e->flags & CMD_WRITE) && x->d->stopping)
		return cmd_fail(x, SMM_ERR_SHUTTING_DOWN,
		                "smmd is shutting down: '%s' refused", e->name);
	return CMD_DONE;
}

enum cmd_retval command_run(struct smmd *d, const struct cmd_peer *peer,
                            const struct proto_request *req, json_t **result,
                            const char **code, char *msg, size_t msglen,
                            struct cmd_later *later)
{
	struct cmd_ctx x = {
	        .d = d,
	        .peer = peer,
	        .later = later,
	        .args = req->args,
	        .result = result,
	        .code = code,
	        .msg = msg,
	        .msglen = msglen,
	};
	const struct cmd_entry *e = command_lookup(req->cmd);
	enum cmd_retval r;
	char known[256];

	*result = NULL;
	msg[0] = '\0';
	if (e == NULL) {
		command_names(known, sizeof(known), 0, 0);
		return cmd_fail(&x, SMM_ERR_UNKNOWN_COMMAND,
		                "unknown command '%.31s' (known: %s)", req->cmd,
		                known);
	}
	if ((r = command_allowed(&x, e, req)) != CMD_DONE)
		return r;
	r = e->run(&x);
	if ((r == CMD_DONE || r == CMD_FOLLOW) && *result == NULL)
		return cmd_fail(&x, SMM_ERR_INTERNAL, "out of memory");
	return r;
}
