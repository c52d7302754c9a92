/*
 * plan_check: what the store really has planned over the next weeks
 * (calendar deliveries and posts added with smmctl alike) against the
 * channels' and campaigns' cadences (plancheck.c). A delivery of a
 * calendar post is placed at the post's file:line:column, which the book
 * smmd keeps of the calendar (planbook.h) knows. Read only: the store is
 * read once, through its due-time index, over the window alone, off the
 * loop (cmd_read.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "command.h"
#include "config.h"
#include "planbook.h"
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

/*
 * What the worker needs: the config and the plan book, which the check
 * borrows, held here until the job is freed, on the loop.
 */
struct plan_job {
	struct cmd_read base; /* first: the job is freed as this */
	struct plancheck *pc;
	struct config *cfg;
	struct plan_book *book;
	unsigned weeks;
	int64_t now_ms, horizon_ms;
};

static void plan_job_free(struct cmd_read *base)
{
	struct plan_job *j = (struct plan_job *)base;

	plan_book_free(j->book);
	config_unref(j->cfg);
	free(j);
}

/* On a worker thread (cmd_read.c): the window read, the check run. */
static enum cmd_retval plan_check(struct cmd_ctx *x, struct store *s,
                                  struct plan_job *j)
{
	struct feed f = {.pc = j->pc};
	int64_t from, to;
	int r = 0;

	plancheck_range(f.pc, &from, &to);
	if (plancheck_subjects(f.pc) > 0)
		r = store_plan_rows(s, from, to, add_row, &f);
	if (r == 0 && f.err == -E2BIG)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "more than %d deliveries to check over %u "
		                "weeks: ask for fewer (--weeks)",
		                PLANCHECK_MAX_POSTS, j->weeks);
	if (r == 0 && f.err < 0)
		r = f.err;
	if (r == 0 && (*x->result = plancheck_run(f.pc)) == NULL)
		r = -ENOMEM;
	return r < 0 ? cmd_store_error(x, r, "read") : CMD_DONE;
}

/*
 * The check made here too (1,020 subjects' zones looked up: 8 ms), and
 * its deliveries, hundreds of thousands, freed here.
 */
static enum cmd_retval plan_read(struct cmd_ctx *x, struct store *s,
                                 struct cmd_read *base)
{
	struct plan_job *j = (struct plan_job *)base;
	enum cmd_retval r;

	if ((j->pc = plancheck_new(j->cfg, j->book, j->now_ms, j->weeks,
	                           j->horizon_ms)) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	r = plan_check(x, s, j);

	plancheck_free(j->pc);
	j->pc = NULL;
	return r;
}

/*
 * The check of a big calendar reads 178,000 deliveries and takes most of
 * a second: off the loop, with the config and the book it borrows kept
 * alive by references (a reload may replace both meanwhile).
 */
static enum cmd_retval cmd_plan_check(struct cmd_ctx *x)
{
	struct plan_job *j;
	unsigned weeks = 4;

	if (cmd_arg_limit(x, "weeks", PLANCHECK_MAX_WEEKS, &weeks) < 0)
		return CMD_ERROR;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	j->base.run = plan_read;
	j->base.free = plan_job_free;
	j->weeks = weeks;
	j->cfg = config_ref(x->d->cfg);
	j->book = plan_book_ref(x->d->plan_book);
	j->now_ms = wallclock_now_ms();
	/* The last sync stored the series' occurrences up to there. */
	j->horizon_ms = x->d->calendar_horizon_ms;
	return cmd_read_later(x, &j->base);
}

const struct cmd_entry cmd_plan_check_entry = {
        .name = "plan_check",
        .flags = CMD_OFFLOOP,
        .run = cmd_plan_check,
        .help = "the planned posts against the channels' and campaigns' "
                "cadences",
};
