/*
 * The SQLite backend's durability off the loop: the loop's connection
 * commits without syncing (its COMMIT only write(2)s frames to the WAL);
 * a sync thread makes every committed batch durable with fdatasync on the
 * WAL, a checkpoint thread copies the WAL into the database. The crash
 * argument is at the top of store_wal.c.
 */
#ifndef SMMD_STORE_WAL_H
#define SMMD_STORE_WAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The VFS the loop's connection opens the database with. */
#define STORE_WAL_VFS "smmd-wal"

struct store_wal;

/* Register STORE_WAL_VFS (once per process). 0 or -1. */
int store_wal_vfs_register(void);
/*
 * For the database at db_path, whose WAL exists (the loop's connection
 * has read it): open the WAL for syncing and sync the directory once.
 */
int store_wal_open(const char *db_path, struct store_wal **out, char *err,
                   size_t errlen);
/* Make everything committed so far durable, on the caller's thread. */
int store_wal_sync_now(struct store_wal *);
/*
 * Start the threads. done(arg, seq, err) runs on the loop once every
 * batch up to seq is durable (err 0), or with err a -errno when a sync
 * failed (nothing later will be durable).
 */
int store_wal_start(struct store_wal *, uv_loop_t *,
                    void (*done)(void *arg, uint64_t seq, int err), void *arg);
/* Whether the threads run. */
int store_wal_started(const struct store_wal *);
/*
 * After each commit of the loop's connection (its sqlite3_wal_hook): the
 * log now holds this many frames. Past a threshold the sync thread asks
 * for a checkpoint.
 */
void store_wal_logged(struct store_wal *, int frames);
/* Batches up to seq are committed: make them durable. */
void store_wal_request(struct store_wal *, uint64_t seq);
/* Block until batch seq is durable: 0, or -errno. */
int store_wal_wait(struct store_wal *, uint64_t seq);
/* Stop the threads (each finishes what it does) and close the handle. */
void store_wal_stop(struct store_wal *);
/* After stop, once the loop has run the close. NULL is fine. */
void store_wal_free(struct store_wal *);
/* How many fdatasync calls made batches durable, and checkpoints run. */
void store_wal_counts(const struct store_wal *, uint64_t *syncs,
                      uint64_t *checkpoints);
/* 1 once a checkpoint failed (logged as a warning), else 0. */
int store_wal_checkpoint_failed(const struct store_wal *);

#endif
