/*
 * store_wal.c's VFS and threads on real SQLite files. Beneath the VFS
 * sits a recorder registered as "unix" (the VFS store_wal.c wraps), which
 * notes what reaches the WAL file in order, so the tests see that a log
 * started over has its header synced before any frame is written over an
 * old one, however long the old one was (the WAL is never truncated), that
 * a commit's frames go in one write, and that the checkpoint follows the
 * log's frames, not the file's size.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <sqlite3.h>

#include "check_main.h"
#include "store_wal.h"

/* ---- The recorder: the real unix VFS, the WAL's writes, syncs, truncates */

enum { OP_WRITE = 'W', OP_SYNC = 'S', OP_TRUNCATE = 'T' };

struct op {
	int kind;
	sqlite3_int64 off; /* a write's offset, a truncate's size */
	int n;
};

static struct op ops[64];
static int nops, recording;
static int failing; /* the WAL's writes fail as on a full disk */
static sqlite3_vfs *unix_vfs;
static sqlite3_vfs recorder;

struct rec_file {
	sqlite3_file base;
	sqlite3_file *real;
	int wal;
};

#define RREAL(f) (((struct rec_file *)(f))->real)

static void note(sqlite3_file *f, int kind, sqlite3_int64 off, int n)
{
	if (recording && ((struct rec_file *)f)->wal &&
	    nops < (int)(sizeof(ops) / sizeof(ops[0])))
		ops[nops++] = (struct op){kind, off, n};
}

static int rec_close(sqlite3_file *f)
{
	return RREAL(f)->pMethods->xClose(RREAL(f));
}
static int rec_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	return RREAL(f)->pMethods->xRead(RREAL(f), b, n, off);
}
static int rec_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	if (failing && ((struct rec_file *)f)->wal)
		return SQLITE_FULL;
	note(f, OP_WRITE, off, n);
	return RREAL(f)->pMethods->xWrite(RREAL(f), b, n, off);
}
static int rec_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	note(f, OP_TRUNCATE, size, 0);
	return RREAL(f)->pMethods->xTruncate(RREAL(f), size);
}
static int rec_sync(sqlite3_file *f, int flags)
{
	note(f, OP_SYNC, 0, 0);
	return RREAL(f)->pMethods->xSync(RREAL(f), flags);
}
static int rec_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return RREAL(f)->pMethods->xFileSize(RREAL(f), size);
}
static int rec_lock(sqlite3_file *f, int l)
{
	return RREAL(f)->pMethods->xLock(RREAL(f), l);
}
static int rec_unlock(sqlite3_file *f, int l)
{
	return RREAL(f)->pMethods->xUnlock(RREAL(f), l);
}
static int rec_reserved(sqlite3_file *f, int *out)
{
	return RREAL(f)->pMethods->xCheckReservedLock(RREAL(f), out);
}
static int rec_fcntl(sqlite3_file *f, int op, void *arg)
{
	return RREAL(f)->pMethods->xFileControl(RREAL(f), op, arg);
}
static int rec_sector(sqlite3_file *f)
{
	return RREAL(f)->pMethods->xSectorSize(RREAL(f));
}
static int rec_device(sqlite3_file *f)
{
	return RREAL(f)->pMethods->xDeviceCharacteristics(RREAL(f));
}
static int rec_shm_map(sqlite3_file *f, int pg, int size, int extend,
                       void volatile **out)
{
	return RREAL(f)->pMethods->xShmMap(RREAL(f), pg, size, extend, out);
}
static int rec_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return RREAL(f)->pMethods->xShmLock(RREAL(f), off, n, flags);
}
static void rec_shm_barrier(sqlite3_file *f)
{
	RREAL(f)->pMethods->xShmBarrier(RREAL(f));
}
static int rec_shm_unmap(sqlite3_file *f, int del)
{
	return RREAL(f)->pMethods->xShmUnmap(RREAL(f), del);
}
static int rec_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return RREAL(f)->pMethods->xFetch(RREAL(f), off, n, pp);
}
static int rec_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return RREAL(f)->pMethods->xUnfetch(RREAL(f), off, p);
}

static const sqlite3_io_methods rec_io = {
        .iVersion = 3,
        .xClose = rec_close,
        .xRead = rec_read,
        .xWrite = rec_write,
        .xTruncate = rec_truncate,
        .xSync = rec_sync,
        .xFileSize = rec_size,
        .xLock = rec_lock,
        .xUnlock = rec_unlock,
        .xCheckReservedLock = rec_reserved,
        .xFileControl = rec_fcntl,
        .xSectorSize = rec_sector,
        .xDeviceCharacteristics = rec_device,
        .xShmMap = rec_shm_map,
        .xShmLock = rec_shm_lock,
        .xShmBarrier = rec_shm_barrier,
        .xShmUnmap = rec_shm_unmap,
        .xFetch = rec_fetch,
        .xUnfetch = rec_unfetch,
};

static int rec_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                    int flags, int *out_flags)
{
	struct rec_file *r = (struct rec_file *)f;
	int rc;

	(void)vfs;
	r->real = (sqlite3_file *)(r + 1);
	r->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = unix_vfs->xOpen(unix_vfs, name, r->real, flags, out_flags);
	f->pMethods = r->real->pMethods ? &rec_io : NULL;
	return rc;
}

/* Once per process (Check forks each test after it). */
static void recorder_register(void)
{
	if (unix_vfs)
		return;
	ck_assert_ptr_nonnull(unix_vfs = sqlite3_vfs_find("unix"));
	recorder = *unix_vfs;
	recorder.szOsFile = (int)sizeof(struct rec_file) + unix_vfs->szOsFile;
	recorder.xOpen = rec_open;
	recorder.pNext = NULL;
	/* Named "unix" and first in the list: store_wal.c wraps it. */
	ck_assert_int_eq(sqlite3_vfs_register(&recorder, 1), SQLITE_OK);
	ck_assert_int_eq(store_wal_vfs_register(), 0);
}

/* ---- Helpers ------------------------------------------------------------ */

static char dir[64], db_path[96], wal_path[100];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_storewal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/t.db", dir);
	snprintf(wal_path, sizeof(wal_path), "%s-wal", db_path);
	recorder_register();
	nops = recording = failing = 0;
}

static void teardown(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		ck_abort_msg("%s: %s", sql, msg ? msg : "?");
}

/* The loop's connection as store_sqlite.c opens it: through the VFS,
 * never syncing, never checkpointing. */
static sqlite3 *open_writer(void)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(
	        sqlite3_open_v2(db_path, &db,
	                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                        STORE_WAL_VFS),
	        SQLITE_OK);
	exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"
	         "PRAGMA wal_autocheckpoint = 0;"
	         "CREATE TABLE IF NOT EXISTS t(x BLOB)");
	return db;
}

/* n rows of a 4 KiB blob each, in one transaction. */
static void fill(sqlite3 *db, int n)
{
	char sql[128];

	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	         "FROM c WHERE i < %d) INSERT INTO t SELECT randomblob(4000) "
	         "FROM c",
	         n);
	exec(db, sql);
}

/* The rows of t in the database at path, read by a connection of its own. */
static int rows_in(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int rows;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	        sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL),
	        SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rows;
}

/* A PASSIVE checkpoint from another connection copies the whole log. */
static void checkpoint_all(void)
{
	sqlite3 *db = NULL;
	int log = -1, copied = -2;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	/* A read first: until one, the connection has no WAL open. */
	exec(db, "SELECT count(*) FROM sqlite_master");
	ck_assert_int_eq(sqlite3_wal_checkpoint_v2(db, NULL,
	                                           SQLITE_CHECKPOINT_PASSIVE,
	                                           &log, &copied),
	                 SQLITE_OK);
	ck_assert_int_gt(log, 0);
	ck_assert_int_eq(copied, log);
	sqlite3_close(db);
}

static long long file_size(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return (long long)sb.st_size;
}

/* from to to, its first 32 bytes (a WAL header) from head when not NULL. */
static void copy_file(const char *from, const char *to, const char *head)
{
	FILE *in = fopen(from, "rb"), *out;
	char buf[65536];
	size_t n;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out = fopen(to, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	if (head) {
		ck_assert_ptr_nonnull(in = fopen(head, "rb"));
		ck_assert_uint_eq(fread(buf, 1, 32, in), 32);
		fclose(in);
		ck_assert_int_eq(fseek(out, 0, SEEK_SET), 0);
		ck_assert_uint_eq(fwrite(buf, 1, 32, out), 32);
	}
	ck_assert_int_eq(fclose(out), 0);
}

/*
 * The rows of t in what a crash could leave: the database file as it is,
 * and as its WAL the file wal with its header from head when not NULL
 * (no -shm: the log is read again, as after a reboot).
 */
static int rows_after_crash(const char *wal, const char *head)
{
	char image[128], image_wal[136];

	snprintf(image, sizeof(image), "%s/crash.db", dir);
	snprintf(image_wal, sizeof(image_wal), "%s-wal", image);
	unlink(image);
	unlink(image_wal);
	copy_file(db_path, image, NULL);
	copy_file(wal, image_wal, head);
	return rows_in(image);
}

/* The WAL as it was before restart_log's commit. */
static char old_wal[128];

/* The writes, syncs and truncates of the WAL by the commit that restarts
 * the log after a full checkpoint; the WAL's size before it in *before,
 * a copy of the WAL then in old_wal. */
static void restart_log(sqlite3 *db, long long *before)
{
	checkpoint_all();
	*before = file_size(wal_path);
	snprintf(old_wal, sizeof(old_wal), "%s/old-wal", dir);
	copy_file(wal_path, old_wal, NULL);
	nops = 0;
	recording = 1;
	exec(db, "INSERT INTO t VALUES (randomblob(100))");
	recording = 0;
}

/*
 * The restart restart_log recorded: the header alone, then its sync, then
 * the frames, over the old ones in the blocks the file has (its size,
 * before, unchanged): nothing truncated.
 */
static void assert_restarted_in_place(long long before)
{
	ck_assert_int_ge(nops, 3);
	ck_assert_int_eq(ops[0].kind, OP_WRITE);
	ck_assert_int_eq(ops[0].off, 0);
	ck_assert_int_eq(ops[0].n, 32);
	ck_assert_int_eq(ops[1].kind, OP_SYNC);
	for (int i = 2; i < nops; i++) {
		ck_assert_int_eq(ops[i].kind, OP_WRITE);
		ck_assert_int_gt(ops[i].off, 0);
	}
	ck_assert_int_eq(file_size(wal_path), before);
}

/* ---- Tests -------------------------------------------------------------- */

/* A short log started over in place (assert_restarted_in_place), and
 * what a crash at either side of the header's sync leaves. */
START_TEST(test_restart_syncs_header)
{
	sqlite3 *db = open_writer();
	long long before;

	fill(db, 100);
	restart_log(db, &before);
	assert_restarted_in_place(before);
	ck_assert_int_gt(before, 100 * 4096);
	/*
	 * After a crash: with the new log's frames, its row is read back and
	 * the old frames after them ignored; with the synced header alone
	 * over the old log, no old frame is replayed (the database's 100).
	 */
	ck_assert_int_eq(rows_after_crash(wal_path, NULL), 101);
	ck_assert_int_eq(rows_after_crash(old_wal, wal_path), 100);
	sqlite3_close(db);
}
END_TEST

/*
 * A long log (a burst outran the checkpoints) is started over the same
 * way: never truncated, whose freeing of blocks would stall the loop.
 */
START_TEST(test_long_log_kept)
{
	sqlite3 *db = open_writer();
	long long before;

	fill(db, 4200); /* 16 MiB and more */
	restart_log(db, &before);
	ck_assert_int_gt(before, 16LL * 1024 * 1024);
	assert_restarted_in_place(before);
	sqlite3_close(db);
}
END_TEST

/* Whether the writes recorded started the log over (a write at 0). */
static int restarted(void)
{
	for (int i = 0; i < nops; i++)
		if (ops[i].kind == OP_WRITE && ops[i].off == 0)
			return 1;
	return 0;
}

/*
 * What the checkpoint thread's pin rests on: a read transaction begun
 * before a checkpoint that copies the whole log keeps the writer from
 * starting it over (it appends); once it ends and a checkpoint has
 * caught up, the next commit starts the log over, its header synced.
 */
START_TEST(test_reader_defers_restart)
{
	sqlite3 *db = open_writer(), *pin = NULL;
	long long before;

	fill(db, 10);
	ck_assert_int_eq(sqlite3_open(db_path, &pin), SQLITE_OK);
	exec(pin, "BEGIN; SELECT 1 FROM sqlite_schema LIMIT 1");
	checkpoint_all();
	before = file_size(wal_path);
	nops = 0;
	recording = 1;
	exec(db, "INSERT INTO t VALUES (randomblob(100))");
	recording = 0;
	ck_assert_int_gt(nops, 0);
	ck_assert(!restarted());
	ck_assert_int_eq(ops[0].off, before); /* at the log's end */
	exec(pin, "COMMIT");
	sqlite3_close(pin);
	restart_log(db, &before);
	assert_restarted_in_place(before);
	ck_assert_int_eq(rows_in(db_path), 12);
	sqlite3_close(db);
}
END_TEST

/* ---- A commit's frames in one write ------------------------------------ */

/* SQLite's frame: a 24-byte header and a page of 4 KiB. */
#define FRAME_BYTES (24 + 4096)

/* The recorded writes: one run of whole frames, its length returned. */
static long long assert_frames_contiguous(void)
{
	long long sum = 0;

	for (int i = 0; i < nops; i++) {
		ck_assert_int_eq(ops[i].kind, OP_WRITE);
		if (i > 0)
			ck_assert_int_eq(ops[i].off,
			                 ops[i - 1].off + ops[i - 1].n);
		sum += ops[i].n;
	}
	ck_assert_int_gt(nops, 0);
	ck_assert_int_eq((ops[0].off - 32) % FRAME_BYTES, 0);
	ck_assert_int_eq(sum % FRAME_BYTES, 0);
	return sum;
}

/* The rows of t as another connection reads them and a crash keeps. */
static void assert_rows_kept(int n)
{
	ck_assert_int_eq(rows_in(db_path), n);
	ck_assert_int_eq(rows_after_crash(wal_path, NULL), n);
}

/*
 * 5 rows committed, then n more in one commit, whose writes are recorded:
 * at least a frame each, one run of them.
 */
static void record_commit(sqlite3 *db, int n)
{
	fill(db, 5);
	nops = 0;
	recording = 1;
	fill(db, n);
	recording = 0;
	ck_assert_int_ge(assert_frames_contiguous(), n * FRAME_BYTES);
	assert_rows_kept(5 + n);
}

/*
 * A commit of ten pages and more reaches the WAL in one write, which
 * other connections read and a crash keeps: it is in the file before the
 * commit returns.
 */
START_TEST(test_commit_one_write)
{
	sqlite3 *db = open_writer();

	record_commit(db, 10);
	ck_assert_int_eq(nops, 1);
	sqlite3_close(db);
}
END_TEST

/* A commit larger than one write: several, one after the other. */
START_TEST(test_large_commit_writes)
{
	sqlite3 *db = open_writer();

	record_commit(db, 100);
	ck_assert_int_ge(nops, 4);
	for (int i = 0; i < nops; i++)
		ck_assert_int_lt(ops[i].n, 128 * 1024);
	sqlite3_close(db);
}
END_TEST

/*
 * A transaction larger than the writer's page cache spills frames before
 * its commit; a page it changes again is then written over its frame in
 * place, and at the commit SQLite rewrites the headers of the frames from
 * there (new checksums) after the commit frame. Those header writes must
 * be in the file too: a crash image without them drops the commit.
 */
START_TEST(test_rewritten_checksums_kept)
{
	sqlite3 *db = open_writer();

	exec(db, "PRAGMA cache_size = 10");
	fill(db, 5);
	exec(db, "BEGIN");
	fill(db, 40);
	exec(db,
	     "UPDATE t SET x = randomblob(4000) WHERE rowid BETWEEN 6 AND 30");
	fill(db, 2);
	exec(db, "COMMIT");
	assert_rows_kept(47);
	sqlite3_close(db);
}
END_TEST

/*
 * A write of the gathered frames that fails (a full disk) fails the
 * commit, as SQLite's own write would: nothing of it is read, and the
 * next commit, once there is room, goes in whole.
 */
START_TEST(test_failed_write_fails_commit)
{
	sqlite3 *db = open_writer();
	char *msg = NULL;

	fill(db, 5);
	failing = 1;
	ck_assert_int_eq(sqlite3_exec(db,
	                              "INSERT INTO t VALUES (randomblob(4000)),"
	                              " (randomblob(4000))",
	                              NULL, NULL, &msg),
	                 SQLITE_FULL);
	sqlite3_free(msg);
	failing = 0;
	ck_assert_int_eq(rows_in(db_path), 5);
	fill(db, 3);
	assert_rows_kept(8);
	sqlite3_close(db);
}
END_TEST

/* ---- The checkpoint follows the log's frames --------------------------- */

/* Past STORE_WAL_CHECKPOINT_FRAMES: the sync after asks for one. */
#define STORE_WAL_TEST_FRAMES 1001

static uv_loop_t loop;
static uint64_t durable;

static void on_durable(void *arg, uint64_t seq, int err)
{
	(void)arg;
	ck_assert_int_eq(err, 0);
	durable = seq;
}

static uint64_t checkpoints_now(struct store_wal *w)
{
	uint64_t syncs, ckpts;

	store_wal_counts(w, &syncs, &ckpts);
	return ckpts;
}

/* Batch seq durable, the log at frames once it was committed. */
static void sync_batch(struct store_wal *w, uint64_t seq, int frames)
{
	store_wal_logged(w, frames);
	store_wal_request(w, seq);
	while (durable < seq)
		uv_run(&loop, UV_RUN_ONCE);
}

/* The checkpoints once want have run, within 20 s (a slow disk's). */
static uint64_t checkpoints_reach(struct store_wal *w, uint64_t want)
{
	for (int i = 0; i < 2000 && checkpoints_now(w) < want; i++)
		usleep(10 * 1000);
	return checkpoints_now(w);
}

/*
 * Still n checkpoints: none was asked for. A wrong one would have 200 ms
 * to show; a slow machine can only hide it, not fail here.
 */
static void assert_checkpoints_stay(struct store_wal *w, uint64_t n)
{
	usleep(200 * 1000);
	ck_assert_uint_eq(checkpoints_now(w), n);
}

/* Stop w as smmd does, run its close, free it and close db. */
static void stop_wal(struct store_wal *w, sqlite3 *db)
{
	store_wal_stop(w);
	uv_run(&loop, UV_RUN_DEFAULT);
	store_wal_free(w);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	sqlite3_close(db);
}

START_TEST(test_checkpoint_by_frames)
{
	sqlite3 *db = open_writer();
	struct store_wal *w = NULL;
	char err[256];

	/* A WAL file longer than the threshold, whose log is short. */
	fill(db, 1200);
	checkpoint_all();
	exec(db, "INSERT INTO t VALUES (1)");
	ck_assert_int_gt(file_size(wal_path), 1200 * 4096);
	ck_assert_int_eq(store_wal_open(db_path, &w, err, sizeof(err)), 0);
	uv_loop_init(&loop);
	durable = 0;
	ck_assert_int_eq(store_wal_start(w, &loop, on_durable, NULL), 0);
	/* The one a start asks for (a bulk load may have left a long log). */
	ck_assert_uint_eq(checkpoints_reach(w, 1), 1);
	/* A short log in a long file: none asked for. */
	sync_batch(w, 1, 1);
	sync_batch(w, 2, 999);
	assert_checkpoints_stay(w, 1);
	sync_batch(w, 3, 1001);
	ck_assert_uint_eq(checkpoints_reach(w, 2), 2);
	/* Counted from there on, a log started over from its start: 399,
	 * then 600 of a new log, then 2 more. */
	sync_batch(w, 4, 1400);
	sync_batch(w, 5, 600);
	assert_checkpoints_stay(w, 2);
	sync_batch(w, 6, 602);
	ck_assert_uint_eq(checkpoints_reach(w, 3), 3);
	stop_wal(w, db);
}
END_TEST

/*
 * The checkpoint thread lets go of its pin after each checkpoint: one
 * that has caught up leaves the log to be started over by the next
 * commit. A pin held on would let the log grow without end.
 */
START_TEST(test_checkpoint_lets_go_of_pin)
{
	sqlite3 *db = open_writer();
	struct store_wal *w = NULL;
	char err[256];

	fill(db, 5);
	ck_assert_int_eq(store_wal_open(db_path, &w, err, sizeof(err)), 0);
	uv_loop_init(&loop);
	durable = 0;
	ck_assert_int_eq(store_wal_start(w, &loop, on_durable, NULL), 0);
	ck_assert_uint_eq(checkpoints_reach(w, 1), 1);
	for (int round = 0; round < 3; round++) {
		fill(db, 5);
		sync_batch(w, (uint64_t)round + 1,
		           (round + 1) * STORE_WAL_TEST_FRAMES);
		ck_assert_uint_eq(checkpoints_reach(w, (uint64_t)round + 2),
		                  (uint64_t)round + 2);
		nops = 0;
		recording = 1;
		exec(db, "INSERT INTO t VALUES (randomblob(100))");
		recording = 0;
		ck_assert_msg(restarted(), "round %d: the log went on", round);
	}
	ck_assert_int_eq(store_wal_checkpoint_failed(w), 0);
	stop_wal(w, db);
}
END_TEST

/*
 * Another connection's FULL checkpoint that waits for a writer holds the
 * checkpoint lock all the while: its busy handler spins until released.
 */
struct ckpt_holder {
	sqlite3 *db;
	atomic_int holding, release;
};

static int hold_busy(void *arg, int tries)
{
	struct ckpt_holder *h = arg;

	(void)tries;
	atomic_store(&h->holding, 1);
	while (!atomic_load(&h->release))
		usleep(1000);
	return 0;
}

static void *hold_main(void *arg)
{
	struct ckpt_holder *h = arg;

	sqlite3_busy_handler(h->db, hold_busy, h);
	sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_FULL, NULL,
	                          NULL);
	return NULL;
}

/*
 * A checkpoint found busy (another one runs) is no failure to warn of:
 * the next sync asks again, and that one copies the log.
 */
START_TEST(test_checkpoint_busy_not_failed)
{
	sqlite3 *db = open_writer();
	struct ckpt_holder h = {0};
	struct store_wal *w = NULL;
	char err[256];
	pthread_t th;

	ck_assert_int_eq(store_wal_open(db_path, &w, err, sizeof(err)), 0);
	uv_loop_init(&loop);
	durable = 0;
	ck_assert_int_eq(store_wal_start(w, &loop, on_durable, NULL), 0);
	ck_assert_uint_eq(checkpoints_reach(w, 1), 1);
	/* The writer in a transaction; the other checkpoint waits on it. */
	fill(db, 10);
	exec(db, "BEGIN IMMEDIATE");
	ck_assert_int_eq(sqlite3_open(db_path, &h.db), SQLITE_OK);
	exec(h.db, "SELECT count(*) FROM sqlite_master");
	ck_assert_int_eq(pthread_create(&th, NULL, hold_main, &h), 0);
	while (!atomic_load(&h.holding))
		usleep(1000);
	sync_batch(w, 1, STORE_WAL_TEST_FRAMES);
	ck_assert_uint_eq(checkpoints_reach(w, 2), 2);
	ck_assert_int_eq(store_wal_checkpoint_failed(w), 0);
	atomic_store(&h.release, 1);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	sqlite3_close(h.db);
	exec(db, "COMMIT");
	sync_batch(w, 2, STORE_WAL_TEST_FRAMES);
	ck_assert_uint_eq(checkpoints_reach(w, 3), 3);
	ck_assert_int_eq(store_wal_checkpoint_failed(w), 0);
	stop_wal(w, db);
}
END_TEST

static Suite *storewal_suite(void)
{
	Suite *s = suite_create("storewal");
	TCase *tc = tcase_create("restart");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_restart_syncs_header);
	tcase_add_test(tc, test_long_log_kept);
	tcase_add_test(tc, test_commit_one_write);
	tcase_add_test(tc, test_large_commit_writes);
	tcase_add_test(tc, test_rewritten_checksums_kept);
	tcase_add_test(tc, test_failed_write_fails_commit);
	tcase_add_test(tc, test_checkpoint_by_frames);
	tcase_add_test(tc, test_reader_defers_restart);
	tcase_add_test(tc, test_checkpoint_lets_go_of_pin);
	tcase_add_test(tc, test_checkpoint_busy_not_failed);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(storewal_suite)
