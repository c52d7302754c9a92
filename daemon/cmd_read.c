/*
 * Read commands off the loop (command.h's struct cmd_read): the job's
 * reads run on libuv's thread pool through a reader of the store, the
 * reply goes out from the after-work callback on the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "smm/protocol.h"
#include "smmd.h"

/*
 * The line, moved to a copy, and the original freed here. Freeing the
 * reply's JSON left this thread's malloc arena with a million small free
 * chunks; glibc merges them (malloc_consolidate) at the next large free
 * in that arena, whichever thread makes it. That was the loop's, freeing
 * the sent line: 20 ms for a report. Freeing a large chunk here first
 * pays for the merge on this thread. -1 when out of memory (*line
 * freed).
 */
static int settle_heap(char **line, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy)
		memcpy(copy, *line, len + 1);
	free(*line);
	*line = copy;
	return copy ? 0 : -1;
}

/* A worker thread: one snapshot, the command's reads, the reply built. */
static void read_work(uv_work_t *w)
{
	struct cmd_read *j = w->data;
	struct cmd_ctx x = {
	        .result = &j->result,
	        .code = &j->code,
	        .msg = j->msg,
	        .msglen = sizeof(j->msg),
	};
	struct store *reader;
	char err[256];
	int r;

	if ((r = store_read_begin(j->store, &reader, err, sizeof(err))) < 0) {
		j->read_failed = r != -ECANCELED;
		j->r = cmd_fail(&x,
		                r == -ECANCELED ? SMM_ERR_SHUTTING_DOWN
		                                : SMM_ERR_INTERNAL,
		                "cannot read the store: %s", err);
		return;
	}
	j->r = j->run(&x, reader, j);
	store_read_end(j->store, reader);
	/*
	 * A report's or a calendar's reply is megabytes of JSON: encoding
	 * it, and freeing it, took the loop 20-40 ms. Both happen here.
	 */
	if (j->r != CMD_ERROR && j->result && j->later->encode) {
		j->line = j->later->encode(j->later, j->result, &j->len);
		j->result = NULL;
		if (j->line == NULL || settle_heap(&j->line, j->len) < 0)
			j->r = cmd_fail(&x, SMM_ERR_INTERNAL, "out of memory");
	}
}

static void read_done(uv_work_t *w, int status);

/* Hand j to the thread pool: 0, or a libuv error (j is still the caller's). */
static int read_start(struct cmd_read *j)
{
	int r = uv_queue_work(j->d->loop, &j->work, read_work, read_done);

	if (r == 0)
		j->d->reads_running++;
	return r;
}

/* The next waiting read, started; one that cannot start is answered. */
static void read_next(struct smmd *d)
{
	struct cmd_read *j;
	int r;

	while (d->reads_running < CMD_READS_AT_ONCE &&
	       (j = d->reads_waiting) != NULL) {
		if ((d->reads_waiting = j->next) == NULL)
			d->reads_waiting_tail = NULL;
		if ((r = read_start(j)) < 0) {
			j->later->finish(j->later, NULL, SMM_ERR_INTERNAL,
			                 uv_strerror(r));
			j->free(j);
		}
	}
}

/* Back on the loop: the reply, then the job goes and the next starts. */
static void read_done(uv_work_t *w, int status)
{
	struct cmd_read *j = w->data;
	struct cmd_later *later = j->later;
	struct smmd *d = j->d;

	if (j->read_failed)
		log_warnx("control: %s", j->msg);
	if (status < 0) {
		json_decref(j->result);
		later->finish(later, NULL, SMM_ERR_SHUTTING_DOWN,
		              "smmd is shutting down: the read was cancelled");
	} else if (j->line) {
		later->finish_line(later, j->line, j->len);
	} else if (j->r == CMD_ERROR) {
		json_decref(j->result);
		later->finish(later, NULL, j->code, j->msg);
	} else if (j->result == NULL) {
		later->finish(later, NULL, SMM_ERR_INTERNAL, "out of memory");
	} else {
		later->finish(later, j->result, NULL, NULL);
	}
	j->free(j);
	d->reads_running--;
	read_next(d);
}

enum cmd_retval cmd_read_later(struct cmd_ctx *x, struct cmd_read *job)
{
	struct smmd *d = x->d;
	enum cmd_retval r;
	int rc;

	if (x->later == NULL || !store_reads_off_loop(d->store)) {
		r = job->run(x, d->store, job);
		job->free(job);
		return r;
	}
	job->store = d->store;
	job->later = x->later;
	job->d = d;
	job->work.data = job;
	job->next = NULL;
	if (d->reads_running < CMD_READS_AT_ONCE) {
		if ((rc = read_start(job)) < 0) {
			job->free(job);
			return cmd_fail(x, SMM_ERR_INTERNAL, "cannot read: %s",
			                uv_strerror(rc));
		}
	} else if (d->reads_waiting_tail) {
		d->reads_waiting_tail = d->reads_waiting_tail->next = job;
	} else {
		d->reads_waiting = d->reads_waiting_tail = job;
	}
	return CMD_WAIT;
}
