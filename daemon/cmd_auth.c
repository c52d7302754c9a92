/*
 * cmd_auth: a channel's credentials (auth) and every channel as it stands
 * (channels: its publisher, whether it is paused or needs auth, when its
 * token expires).
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "command.h"
#include "config.h"
#include "pause.h"
#include "publishers/publisher.h"
#include "smm/protocol.h"
#include "smmd.h"

static enum cmd_retval cmd_auth(struct cmd_ctx *x)
{
	const char *channel, *code = NULL;
	const struct channel *ch;
	struct pause_actor who;
	char user[64];
	int r;

	if (cmd_arg_string(x, "channel", &channel, 1) < 0 ||
	    cmd_check_channel(x, channel) < 0 ||
	    cmd_arg_string(x, "code", &code, 0) < 0)
		return CMD_ERROR;
	ch = config_channel(x->d->cfg, channel);
	cmd_actor(x, &who, user, sizeof(user));
	r = auth_command(x->d, ch, code,
	                 &(struct auth_asker){.uid = who.uid, .user = who.user},
	                 x->later, x->result, x->msg, x->msglen);
	if (r < 0) {
		*x->code = SMM_ERR_AUTH;
		return CMD_ERROR;
	}
	return r == 1 ? CMD_WAIT : CMD_DONE;
}

/* What holds ch, if anything: "needs_auth", "paused", or "ok". */
static const char *hold_of(struct smmd *d, const struct channel *ch,
                           const struct pause **by)
{
	if ((*by = pause_find(d, PAUSE_AUTH, ch->name)) != NULL)
		return "needs_auth";
	if ((*by = pause_find(d, PAUSE_CHANNEL, ch->name)) != NULL ||
	    (*by = pause_find(d, PAUSE_ALL, NULL)) != NULL)
		return "paused";
	return "ok";
}

static enum cmd_retval cmd_channels(struct cmd_ctx *x)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < x->d->cfg->nchannels; i++) {
		const struct channel *ch = &x->d->cfg->channels[i];
		const struct pause *by;
		const char *state = hold_of(x->d, ch, &by);
		json_t *o =
		        json_pack("{s:s, s:s, s:s}", "name", ch->name,
		                  "publisher", ch->pub->name, "state", state);

		if (o == NULL)
			continue;
		if (by && by->reason)
			json_object_set_new(o, "reason",
			                    json_string(by->reason));
		if (ch->notify)
			json_object_set_new(o, "notify",
			                    json_string(ch->notify));
		json_object_set_new(o, "auth", auth_json(x->d, ch));
		json_array_append_new(arr, o);
	}
	*x->result = json_pack("{s:o}", "channels", arr);
	return CMD_DONE;
}

const struct cmd_entry cmd_auth_entry = {
        .name = "auth",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_auth,
        .help = "authorize a channel with its network (OAuth, login)",
};
const struct cmd_entry cmd_channels_entry = {
        .name = "channels",
        .run = cmd_channels,
        .help = "every channel: publisher, held or not, its credentials",
};
