/*
 * Following the calendar files: a change (an editor's save, a git pull)
 * reloads them, debounced so the write-then-rename dance of an editor
 * makes one reload; and a timer reloads them now and then so recurring
 * posts are materialized as the horizon moves forward.
 */
#ifndef SMMD_CALWATCH_H
#define SMMD_CALWATCH_H

#include <stdint.h>

struct smmd;

/* Watch d->cfg->calendar (again, if it changed); nothing if unset. */
void calwatch_update(struct smmd *);
void calwatch_close(struct smmd *);
/* Sync the calendar again in delay_ms (a sync left changes for later). */
void calwatch_resync(struct smmd *, uint64_t delay_ms);

#endif
