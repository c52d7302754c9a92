/*
 * goals: each campaign's goals against what was done (goals.c). Read
 * only; the store is read through the due-time index over the campaigns'
 * windows alone, off the loop (cmd_read.c), with a copy of the
 * campaigns' goals taken on it.
 */
#include <stdlib.h>

#include "command.h"
#include "goals.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "wallclock.h"

struct goals_job {
	struct cmd_read base; /* first: the job is freed as this */
	struct goals_plan *plan;
};

static void goals_job_free(struct cmd_read *base)
{
	struct goals_job *j = (struct goals_job *)base;

	goals_plan_free(j->plan);
	free(j);
}

static enum cmd_retval goals_read(struct cmd_ctx *x, struct store *s,
                                  struct cmd_read *base)
{
	struct goals_job *j = (struct goals_job *)base;
	int r = goals_progress(s, j->plan, wallclock_now_ms(), x->result);

	return r < 0 ? cmd_store_error(x, r, "read") : CMD_DONE;
}

static enum cmd_retval cmd_goals(struct cmd_ctx *x)
{
	struct goals_job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->plan = goals_plan_new(x->d->plan_book)) == NULL) {
		free(j);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	j->base.run = goals_read;
	j->base.free = goals_job_free;
	return cmd_read_later(x, &j->base);
}

const struct cmd_entry cmd_goals_entry = {
        .name = "goals",
        .flags = CMD_OFFLOOP,
        .run = cmd_goals,
        .help = "the campaigns' goals against what was done",
};
