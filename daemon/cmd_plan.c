/*
 * plan_check: what the store really has planned over the next weeks
 * (calendar deliveries and posts added with smmctl alike) against the
 * channels' and campaigns' cadences (plancheck.c). A delivery of a
 * calendar post is placed at the post's file:line:column, which the book
 * smmd keeps of the calendar (planbook.h) knows. Read only: the store is
 * read once, through its due-time index, over the window alone.
 */
#include <errno.h>

#include "command.h"
#include "plancheck.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

struct feed {
	struct plancheck *pc;
	int err;
};

static void add_row(void *arg, const struct plan_row *row)
{
	struct feed *f = arg;
	int r;

	if (f->err == 0 &&
	    (r = plancheck_add(f->pc, row->post_id, row->channel, row->campaign,
	                       row->due_ms, NULL, row->calendar)) < 0)
		f->err = r;
}

static enum cmd_retval cmd_plan_check(struct cmd_ctx *x)
{
	struct feed f = {.pc = NULL};
	int64_t now = wallclock_now_ms(), from, to;
	unsigned weeks = 4;
	int r = 0;

	if (cmd_arg_limit(x, "weeks", PLANCHECK_MAX_WEEKS, &weeks) < 0)
		return CMD_ERROR;
	/* The last sync stored the series' occurrences up to there. */
	if ((f.pc = plancheck_new(x->d->cfg, x->d->plan_book, now, weeks,
	                          x->d->calendar_horizon_ms)) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	plancheck_range(f.pc, &from, &to);
	if (plancheck_subjects(f.pc) > 0)
		r = store_plan_rows(x->d->store, from, to, add_row, &f);
	if (r == 0 && f.err == -E2BIG) {
		plancheck_free(f.pc);
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "more than %d deliveries to check over %u "
		                "weeks: ask for fewer (--weeks)",
		                PLANCHECK_MAX_POSTS, weeks);
	}
	if (r == 0 && f.err < 0)
		r = f.err;
	if (r == 0 && (*x->result = plancheck_run(f.pc)) == NULL)
		r = -ENOMEM;
	plancheck_free(f.pc);
	return r < 0 ? cmd_store_error(x, r, "read") : CMD_DONE;
}

const struct cmd_entry cmd_plan_check_entry = {
        .name = "plan_check",
        .run = cmd_plan_check,
        .help = "the planned posts against the channels' and campaigns' "
                "cadences",
};
