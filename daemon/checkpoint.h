/*
 * WAL checkpoints off the loop. SQLite's automatic checkpoint runs inside
 * the commit that crosses its threshold: it copies the log into the
 * database and fsyncs it on the loop thread, which then sends nothing for
 * that long (a first calendar load leaves 58 MB to copy). smmd turns it
 * off and has a second connection do the same work on libuv's thread pool,
 * in PASSIVE mode, which never blocks the writer.
 */
#ifndef SMMD_CHECKPOINT_H
#define SMMD_CHECKPOINT_H

#include <uv.h>

struct checkpointer;

/* For the database file at path. NULL when out of memory. */
struct checkpointer *checkpointer_new(uv_loop_t *, const char *path);
/*
 * After a commit: start a checkpoint if the log holds wal_pages pages or
 * more and none is running. Cheap to call every turn.
 */
void checkpointer_maybe(struct checkpointer *, int wal_pages);
/* Once the loop has stopped (a running checkpoint has finished). */
void checkpointer_free(struct checkpointer *);

#endif
