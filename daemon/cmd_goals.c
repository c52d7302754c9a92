/*
 * goals: each campaign's goals against what was done (goals.c). Read
 * only; the store is read through the due-time index over the campaigns'
 * windows alone.
 */
#include "command.h"
#include "goals.h"
#include "smm/protocol.h"
#include "wallclock.h"

static enum cmd_retval cmd_goals(struct cmd_ctx *x)
{
	int r = goals_progress(x->d, wallclock_now_ms(), x->result);

	return r < 0 ? cmd_store_error(x, r, "read") : CMD_DONE;
}

const struct cmd_entry cmd_goals_entry = {
        .name = "goals",
        .run = cmd_goals,
        .help = "the campaigns' goals against what was done",
};
