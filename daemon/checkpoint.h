/*
 * A WAL checkpoint off the loop. SQLite's automatic checkpoint runs inside
 * the commit that crosses its threshold: it copies the log into the
 * database and fsyncs it on the loop thread, which sends nothing
 * meanwhile. That is fine for a turn's worth of log, not for the 58 MB a
 * first calendar load leaves: the store skips that commit's checkpoint
 * (store_checkpoint_wanted) and a second connection does it on libuv's
 * thread pool, in PASSIVE mode, which never blocks the writer.
 */
#ifndef SMMD_CHECKPOINT_H
#define SMMD_CHECKPOINT_H

#include <uv.h>

struct checkpointer;

/* For the database file at path. NULL when out of memory. */
struct checkpointer *checkpointer_new(uv_loop_t *, const char *path);
/* Start a checkpoint unless one is running. */
void checkpointer_start(struct checkpointer *);
/* Once the loop has stopped (a running checkpoint has finished). */
void checkpointer_free(struct checkpointer *);

#endif
