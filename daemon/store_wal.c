/*
 * Durability off the loop, and why a crash still loses nothing that was
 * acknowledged and corrupts nothing.
 *
 * The loop's connection runs synchronous=OFF and wal_autocheckpoint=0: its
 * COMMIT appends the transaction's frames to the WAL with write(2) and
 * returns; it never syncs and never checkpoints. Each committed batch has
 * a number. The sync thread calls fdatasync on the WAL (its own fd, the
 * same inode) and then tells the loop, through a uv_async_t, the highest
 * batch committed before that fdatasync began: those batches are durable
 * and their after-commit callbacks may run (a reply to smmctl, a request
 * leaving). One fdatasync covers every batch committed before it started,
 * so batches that arrive while one runs share the next (group commit).
 * The checkpoint thread copies the WAL into the database, from its own
 * connection, each time STORE_WAL_CHECKPOINT_FRAMES more frames are in the
 * log; a checkpoint on the sync thread would hold every batch back for its
 * duration.
 *
 * While it copies, it holds a read transaction open on a second
 * connection (the pin), begun just before. The copy goes up to the pin's
 * snapshot, as far as it would have gone, and SQLite cannot start the log
 * over while a reader may still need it: the loop keeps appending. So
 * while posts keep coming the log is not started over every time a
 * checkpoint catches up, between two of the loop's commits, each restart
 * a sync on the loop (below): it is started over once a checkpoint has
 * caught up and let go of the pin, when the loop next commits, which is
 * when the writing has stopped. Past STORE_WAL_PIN_FRAMES (64 MiB) the
 * checkpoints go without the pin and the log starts over as before.
 *
 * Crash safety, case by case:
 *  - A commit not yet fdatasync'ed may reach the disk in part, in any page
 *    order. Every WAL frame carries the header's salts and a checksum
 *    chained from the header: recovery replays frames up to the first that
 *    does not check out and keeps the last whole commit before it. What is
 *    lost was never acknowledged: its callbacks had not run.
 *  - Checkpoints run on a synchronous=FULL connection, so SQLite syncs the
 *    WAL before it overwrites database pages: nothing reaches the database
 *    file that is not durable in the WAL first. It syncs the database only
 *    in the checkpoint that copies the log's last frame (one the pin or a
 *    reader stops short does not), before it records the log as copied
 *    whole, which is what lets the log start over; until then every
 *    frame stays in the WAL and recovery replays it.
 *  - The WAL restart. Once a checkpoint has copied the whole WAL, the next
 *    writer starts the WAL over from offset 0 with new salts, overwriting
 *    old frames in place. At synchronous=OFF SQLite does not sync the new
 *    header first, and a crash could leave the old header with a prefix of
 *    old frames that still check out: replaying it would put old versions
 *    of pages over newer ones in the database (SQLite ticket ff5be73dee).
 *    So the loop's connection opens the database through a small VFS
 *    (STORE_WAL_VFS) whose one change is the write of the WAL header (the
 *    only write at offset 0):
 *     - It syncs the header before it returns, as SQLite itself does at
 *       synchronous=NORMAL and above: the new salts are on the disk before
 *       any frame of the new log is written, so an old frame, wherever it
 *       survives a crash, no longer checks out. One fdatasync of a page
 *       on the loop per restart (0.14 ms, at most 0.44 ms, on the 2-core
 *       machine of issue 14 when quiet; 0.2-5.8 ms in bursts, behind the
 *       checkpoints' writes, hence the pin), and the new log's frames go
 *       into blocks the file already has, so the sync thread's fdatasync
 *       has no allocation to commit (0.14 ms against 0.23 ms for appended
 *       frames).
 *     - The WAL is never truncated while the store is open, however long
 *       a burst or a bulk load made it (SQLite's own default, without a
 *       journal_size_limit): freeing its blocks waits on the file
 *       system's journal, 5 ms for 20 MiB on a quiet machine and 7-100 ms
 *       a time in a burst over 100 channels, where the checkpoints keep
 *       the disk busy. The file keeps the longest log since the store was
 *       opened (64 MiB after the first sync of a 100,000-post calendar);
 *       closing it checkpoints the log and removes the file.
 *    Readers are safe: SQLite writes the header only after it has taken
 *    every reader lock that could point into the old frames.
 *  - A commit's frames reach the file in one write. SQLite writes each
 *    frame as two (its 24-byte header, then its page), at offsets that
 *    straddle the file's pages: in a burst over 100 channels, where a
 *    commit dirties a page per channel, a quarter of the loop's time went
 *    to those writes, most of it ext4 zeroing the pages each one half
 *    covered. The VFS gathers a commit's frames in a buffer and writes it
 *    when the commit frame (its header names the database's size) is in,
 *    from that frame's own write, whose error SQLite sees as ever: a
 *    commit fails whole or is in the file before SQLite publishes it to
 *    readers and before the sync thread can be asked to sync it. A
 *    frame header written over an old frame's (SQLite rewriting
 *    checksums after a commit frame, when a large transaction wrote a
 *    page twice) is written at once: it can be the commit's last write.
 *    Any other use of the file (a read, a write elsewhere, a sync, its
 *    size, its close) writes what is gathered first.
 *  - The WAL file is created when the store is opened; its directory is
 *    synced then, once, so the file itself survives.
 *  - At close the loop's connection goes back to synchronous=FULL, so the
 *    last checkpoint and the WAL's removal are as safe as SQLite's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "store_wal.h"

/*
 * SQLite's own automatic threshold (1000 pages of 4 KiB). Counted in the
 * log's frames, not the file's size: a log started over writes into the
 * old one's blocks, and the file stays as long as it was.
 */
#define STORE_WAL_CHECKPOINT_FRAMES 1000
/*
 * Longest log the pin lets grow (see above), in frames of 4 KiB: as long
 * as the one a 100,000-post calendar's first sync leaves.
 */
#define STORE_WAL_PIN_FRAMES 16384
/* Checkpoints found busy in a row before one is told as failed. */
#define STORE_WAL_BUSY_TOLD 100

struct store_wal {
	char *db_path;
	int fd; /* the WAL, for fdatasync */
	uv_async_t async;
	pthread_t sync_thread, ckpt_thread;
	int started;
	void (*on_done)(void *arg, uint64_t seq, int err);
	void *done_arg;
	/* Under mu, shared by the loop and both threads. */
	pthread_mutex_t mu;
	pthread_cond_t sync_cv; /* want moved, or stop */
	pthread_cond_t done_cv; /* done moved, or err */
	pthread_cond_t ckpt_cv; /* ckpt_wanted, or stop */
	uint64_t want;          /* the last batch committed */
	uint64_t done;          /* the last batch durable */
	int err;                /* a failed fdatasync: -errno */
	int stop;
	int ckpt_wanted;
	atomic_int frames; /* in the log after the last commit (the loop's) */
	/* Frames appended since the last checkpoint asked for (the loop's
	 * count, which the sync thread takes). */
	atomic_int appended;
	char ckpt_error[200]; /* a failed checkpoint, for the loop to log */
	int ckpt_failed;      /* ... and whether the loop has yet to */
	uint64_t syncs, checkpoints;
	/* The checkpoint thread's: SQLITE_BUSY results in a row. */
	unsigned ckpt_busy;
};

/* ---- The VFS: the WAL header write is synced ---------------------------- */

struct shim_file {
	sqlite3_file base;
	sqlite3_file *real; /* allocated right after this struct */
	int wal;
	/* The WAL's frames gathered for one write (see above). */
	char *buf; /* SHIM_GATHER_BYTES, once a frame comes */
	size_t len;
	sqlite3_int64 off; /* where buf goes in the file */
	sqlite3_int64 end; /* the end of the log as written so far */
	int more;   /* the last write was a frame header, not a commit's */
	int header; /* the last write was a new frame's header */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs shim_vfs;

#define REAL(f) (((struct shim_file *)(f))->real)

/* The WAL header's and a frame header's sizes in SQLite's file format. */
#define WAL_HEADER_BYTES       32
#define WAL_FRAME_HEADER_BYTES 24
/*
 * Most gathered at once: a larger commit goes in several writes. The
 * unix VFS writes less than 128 KiB in one call (seekAndWriteFd).
 */
#define SHIM_GATHER_BYTES (120 * 1024)

/* Write what is gathered. SQLITE_OK or SQLite's error. */
static int shim_flush(struct shim_file *s)
{
	int rc;

	if (s->len == 0)
		return SQLITE_OK;
	rc = s->real->pMethods->xWrite(s->real, s->buf, (int)s->len, s->off);
	s->len = 0;
	return rc;
}

/*
 * A frame's bytes are gathered; the commit frame's page writes them. Only
 * a new frame's header, at the end of the log, waits for its page: one
 * written over an old frame's (SQLite's new checksums, after the commit
 * frame) may be the commit's last write.
 */
static int shim_gather(struct shim_file *s, const void *buf, int n,
                       sqlite3_int64 off)
{
	const unsigned char *b = buf;
	int rc, header = n == WAL_FRAME_HEADER_BYTES && off >= s->end;

	if (off + n > s->end)
		s->end = off + n;

	if (s->len > 0 &&
	    (off != s->off + (sqlite3_int64)s->len ||
	     s->len + (size_t)n > SHIM_GATHER_BYTES) &&
	    (rc = shim_flush(s)) != SQLITE_OK)
		return rc;
	if ((size_t)n > SHIM_GATHER_BYTES ||
	    (s->buf == NULL &&
	     (s->buf = sqlite3_malloc(SHIM_GATHER_BYTES)) == NULL))
		return s->real->pMethods->xWrite(s->real, buf, n, off);
	if (s->len == 0)
		s->off = off;
	memcpy(s->buf + s->len, buf, (size_t)n);
	s->len += (size_t)n;
	/* Bytes 4-7 of a frame header: the database's size in pages after
	 * the commit it ends, 0 for a frame that does not end one. */
	if (header) {
		s->header = 1;
		s->more = (b[4] | b[5] | b[6] | b[7]) == 0;
		return SQLITE_OK;
	}
	/* Held only when it is the page of a frame that is not the last. */
	if (s->header && s->more) {
		s->header = 0;
		return SQLITE_OK;
	}
	s->header = 0;
	return shim_flush(s);
}

static int shim_close(sqlite3_file *f)
{
	struct shim_file *s = (struct shim_file *)f;
	int rc = shim_flush(s), rc2;

	sqlite3_free(s->buf);
	s->buf = NULL;
	rc2 = REAL(f)->pMethods->xClose(REAL(f));
	return rc != SQLITE_OK ? rc : rc2;
}

static int shim_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	int rc = shim_flush((struct shim_file *)f);

	return rc != SQLITE_OK ? rc
	                       : REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

/* The one change: see "The WAL restart" above. */
static int shim_write(sqlite3_file *f, const void *buf, int n,
                      sqlite3_int64 off)
{
	const sqlite3_io_methods *m = REAL(f)->pMethods;
	struct shim_file *s = (struct shim_file *)f;
	int rc, head;

	if (!s->wal)
		return m->xWrite(s->real, buf, n, off);
	if (off != 0)
		return shim_gather(s, buf, n, off);
	if ((rc = shim_flush(s)) != SQLITE_OK)
		return rc;
	s->end = n; /* the log starts over */
	/* SQLite writes the 32-byte header alone; were frames ever to come
	 * in the same write, they must still follow the sync. */
	head = n < WAL_HEADER_BYTES ? n : WAL_HEADER_BYTES;
	if ((rc = m->xWrite(s->real, buf, head, 0)) != SQLITE_OK)
		return rc;
	rc = m->xSync(s->real, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY);
	if (rc != SQLITE_OK || n == head)
		return rc;
	return m->xWrite(s->real, (const char *)buf + head, n - head, head);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct shim_file *s = (struct shim_file *)f;
	int rc = shim_flush(s);

	if (s->end > size)
		s->end = size;
	return rc != SQLITE_OK ? rc
	                       : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int shim_sync(sqlite3_file *f, int flags)
{
	int rc = shim_flush((struct shim_file *)f);

	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int shim_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = shim_flush((struct shim_file *)f);

	return rc != SQLITE_OK ? rc
	                       : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int shim_lock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int shim_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int shim_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int shim_fcntl(sqlite3_file *f, int op, void *arg)
{
	int rc = shim_flush((struct shim_file *)f);

	return rc != SQLITE_OK
	               ? rc
	               : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int shim_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int shim_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int shim_shm_map(sqlite3_file *f, int pg, int size, int extend,
                        void volatile **out)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, size, extend, out);
}

static int shim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void shim_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int shim_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods shim_io = {
        .iVersion = 3,
        .xClose = shim_close,
        .xRead = shim_read,
        .xWrite = shim_write,
        .xTruncate = shim_truncate,
        .xSync = shim_sync,
        .xFileSize = shim_size,
        .xLock = shim_lock,
        .xUnlock = shim_unlock,
        .xCheckReservedLock = shim_reserved,
        .xFileControl = shim_fcntl,
        .xSectorSize = shim_sector,
        .xDeviceCharacteristics = shim_device,
        .xShmMap = shim_shm_map,
        .xShmLock = shim_shm_lock,
        .xShmBarrier = shim_shm_barrier,
        .xShmUnmap = shim_shm_unmap,
        .xFetch = shim_fetch,
        .xUnfetch = shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                     int flags, int *out_flags)
{
	struct shim_file *s = (struct shim_file *)f;
	int rc;

	(void)vfs;
	memset(s, 0, sizeof(*s));
	s->real = (sqlite3_file *)(s + 1);
	s->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = real_vfs->xOpen(real_vfs, name, s->real, flags, out_flags);
	/* SQLite calls xClose only when pMethods is set. */
	f->pMethods = s->real->pMethods ? &shim_io : NULL;
	return rc;
}

int store_wal_vfs_register(void)
{
	if (real_vfs)
		return 0;
	/* The unix VFS needs version 3 methods (xShm*, xFetch). */
	if ((real_vfs = sqlite3_vfs_find("unix")) == NULL ||
	    real_vfs->iVersion < 3) {
		real_vfs = NULL;
		return -1;
	}
	/* Its own methods, pAppData included, for all but xOpen. */
	shim_vfs = *real_vfs;
	shim_vfs.zName = STORE_WAL_VFS;
	shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
	shim_vfs.xOpen = shim_open;
	shim_vfs.pNext = NULL;
	if (sqlite3_vfs_register(&shim_vfs, 0) != SQLITE_OK) {
		real_vfs = NULL;
		return -1;
	}
	return 0;
}

/* ---- The threads -------------------------------------------------------- */

int store_wal_open(const char *db_path, struct store_wal **out, char *err,
                   size_t errlen)
{
	struct store_wal *w = calloc(1, sizeof(*w));
	char path[4096], *dir = NULL;
	int dfd;

	*out = NULL;
	if (w == NULL || (w->db_path = strdup(db_path)) == NULL ||
	    (dir = strdup(db_path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	snprintf(path, sizeof(path), "%s-wal", db_path);
	if ((w->fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
		         strerror(errno));
		goto bad;
	}
	/* The WAL's name must survive a crash, not only its bytes. */
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	            0 ||
	    fsync(dfd) < 0) {
		snprintf(err, errlen, "cannot sync the directory of '%s': %s",
		         path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		close(w->fd);
		goto bad;
	}
	close(dfd);
	free(dir);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->sync_cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	pthread_cond_init(&w->ckpt_cv, NULL);
	*out = w;
	return 0;
bad:
	free(dir);
	if (w)
		free(w->db_path);
	free(w);
	return -1;
}

int store_wal_sync_now(struct store_wal *w)
{
	return fdatasync(w->fd) < 0 ? -errno : 0;
}

static void *sync_main(void *arg)
{
	struct store_wal *w = arg;

	prctl(PR_SET_NAME, "smmd-sync"); /* for top -H and the bench */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		uint64_t target;
		int r, big, appended;

		while (!w->stop && !w->err && w->want == w->done)
			pthread_cond_wait(&w->sync_cv, &w->mu);
		if (w->err || w->want == w->done)
			break; /* stopping with nothing left, or broken */
		target = w->want;
		pthread_mutex_unlock(&w->mu);
		r = fdatasync(w->fd) < 0 ? -errno : 0;
		appended = atomic_load_explicit(&w->appended,
		                                memory_order_relaxed);
		big = r == 0 && appended > STORE_WAL_CHECKPOINT_FRAMES;
		/* Counted again from here: the loop adds meanwhile. */
		if (big)
			atomic_fetch_sub_explicit(&w->appended, appended,
			                          memory_order_relaxed);
		pthread_mutex_lock(&w->mu);
		if (r < 0) {
			w->err = r;
		} else {
			w->done = target;
			w->syncs++;
		}
		if (big && !w->ckpt_wanted) {
			w->ckpt_wanted = 1;
			pthread_cond_signal(&w->ckpt_cv);
		}
		pthread_cond_broadcast(&w->done_cv);
		uv_async_send(&w->async);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Let go of the pin. Were that to fail, the connection goes, and its
 * read lock with it: a pin held on would keep the log from ever
 * starting over. */
static void pin_drop(sqlite3 **pin)
{
	if (sqlite3_get_autocommit(*pin) ||
	    sqlite3_exec(*pin, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return;
	sqlite3_close_v2(*pin);
	*pin = NULL;
}

/*
 * The pin (see the top): a read transaction on *pin, opened on first use,
 * begun now. 1 if held. Without it a checkpoint runs as it would anyway,
 * and the log only starts over sooner: a failure here is no failure.
 */
static int pin_take(struct store_wal *w, sqlite3 **pin)
{
	if (atomic_load_explicit(&w->frames, memory_order_relaxed) >=
	    STORE_WAL_PIN_FRAMES)
		return 0;
	if (*pin == NULL &&
	    sqlite3_open_v2(w->db_path, pin,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		sqlite3_close(*pin);
		*pin = NULL;
		return 0;
	}
	if (sqlite3_exec(*pin, "BEGIN; SELECT 1 FROM sqlite_schema LIMIT 1",
	                 NULL, NULL, NULL) != SQLITE_OK) {
		pin_drop(pin);
		return 0;
	}
	return 1;
}

/* One PASSIVE checkpoint from db, opened on first use, with the pin. */
static void checkpoint(struct store_wal *w, sqlite3 **db, sqlite3 **pin)
{
	const char *what = NULL;
	int rc, pinned;

	if (*db == NULL) {
		rc = sqlite3_open_v2(
		        w->db_path, db,
		        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
		/* FULL: sync the WAL before copying, the database after. */
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(*db, "PRAGMA synchronous = FULL",
			                  NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			what = *db ? sqlite3_errmsg(*db) : "out of memory";
			goto out;
		}
	}
	pinned = pin_take(w, pin);
	/* PASSIVE never takes the writer's lock: the loop never waits. */
	rc = sqlite3_wal_checkpoint_v2(*db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	                               NULL, NULL);
	if (pinned)
		pin_drop(pin);
	/*
	 * Busy is a moment, not a failure: another connection checkpoints
	 * (a backup, an smmctl), or the wal-index header was read while the
	 * loop's commit wrote it, and SQLite would take the writer's lock to
	 * look again. The next sync asks again; only a lasting one is told.
	 */
	if (rc == SQLITE_OK) {
		w->ckpt_busy = 0;
	} else if (rc == SQLITE_BUSY && ++w->ckpt_busy < STORE_WAL_BUSY_TOLD) {
		atomic_fetch_add_explicit(&w->appended,
		                          STORE_WAL_CHECKPOINT_FRAMES + 1,
		                          memory_order_relaxed);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		what = sqlite3_errmsg(*db);
out:
	pthread_mutex_lock(&w->mu);
	w->checkpoints++;
	if (what && !w->ckpt_failed) {
		snprintf(w->ckpt_error, sizeof(w->ckpt_error), "%s", what);
		w->ckpt_failed = 1;
	}
	pthread_mutex_unlock(&w->mu);
	if (what && *db) {
		sqlite3_close(*db);
		*db = NULL;
	}
}

static void *ckpt_main(void *arg)
{
	struct store_wal *w = arg;
	sqlite3 *db = NULL, *pin = NULL;

	prctl(PR_SET_NAME, "smmd-ckpt"); /* for top -H and the bench */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !w->ckpt_wanted)
			pthread_cond_wait(&w->ckpt_cv, &w->mu);
		if (w->stop)
			break;
		w->ckpt_wanted = 0;
		pthread_mutex_unlock(&w->mu);
		checkpoint(w, &db, &pin);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	/* Not the last connections: closing checkpoints nothing. */
	sqlite3_close(db);
	sqlite3_close(pin);
	return NULL;
}

/* On the loop: a sync finished. */
static void on_async(uv_async_t *h)
{
	struct store_wal *w = h->data;
	uint64_t done;
	int err, ckpt_failed;
	char ckpt_error[sizeof(w->ckpt_error)];

	pthread_mutex_lock(&w->mu);
	done = w->done;
	err = w->err;
	ckpt_failed = w->ckpt_failed == 1;
	if (ckpt_failed) {
		w->ckpt_failed = 2; /* told once */
		memcpy(ckpt_error, w->ckpt_error, sizeof(ckpt_error));
	}
	pthread_mutex_unlock(&w->mu);
	if (ckpt_failed)
		log_warnx("store: checkpoint failed: %s (the WAL grows until "
		          "one succeeds)",
		          ckpt_error);
	w->on_done(w->done_arg, done, err);
}

int store_wal_start(struct store_wal *w, uv_loop_t *loop,
                    void (*done)(void *arg, uint64_t seq, int err), void *arg)
{
	int r;

	w->on_done = done;
	w->done_arg = arg;
	if ((r = uv_async_init(loop, &w->async, on_async)) < 0)
		return r;
	w->async.data = w;
	if ((r = pthread_create(&w->sync_thread, NULL, sync_main, w)) != 0) {
		uv_close((uv_handle_t *)&w->async, NULL);
		return -r;
	}
	if ((r = pthread_create(&w->ckpt_thread, NULL, ckpt_main, w)) != 0) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->sync_cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->sync_thread, NULL);
		uv_close((uv_handle_t *)&w->async, NULL);
		return -r;
	}
	w->started = 1;
	/* A bulk load before the loop may have left a long WAL. */
	pthread_mutex_lock(&w->mu);
	w->ckpt_wanted = 1;
	pthread_cond_signal(&w->ckpt_cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int store_wal_started(const struct store_wal *w)
{
	return w->started;
}

void store_wal_logged(struct store_wal *w, int frames)
{
	int before = atomic_exchange_explicit(&w->frames, frames,
	                                      memory_order_relaxed);

	/* A log started over holds only what came since. */
	atomic_fetch_add_explicit(&w->appended,
	                          frames >= before ? frames - before : frames,
	                          memory_order_relaxed);
}

void store_wal_request(struct store_wal *w, uint64_t seq)
{
	int wake = 0;

	pthread_mutex_lock(&w->mu);
	if (seq > w->want) {
		w->want = seq;
		wake = 1;
	}
	pthread_mutex_unlock(&w->mu);
	/*
	 * Signalled once the lock is free: the sync thread, woken under it,
	 * took the CPU from the loop only to sleep on the lock, and took it
	 * again when the loop let go (two preemptions a sync, seen with
	 * perf's sched_switch in a burst, where the loop asks every turn).
	 */
	if (wake)
		pthread_cond_signal(&w->sync_cv);
}

int store_wal_wait(struct store_wal *w, uint64_t seq)
{
	int err;

	if (!w->started)
		return store_wal_sync_now(w);
	store_wal_request(w, seq);
	pthread_mutex_lock(&w->mu);
	while (w->done < seq && !w->err)
		pthread_cond_wait(&w->done_cv, &w->mu);
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err;
}

void store_wal_stop(struct store_wal *w)
{
	if (w == NULL || !w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->sync_cv);
	pthread_cond_broadcast(&w->ckpt_cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->sync_thread, NULL);
	pthread_join(w->ckpt_thread, NULL);
	w->started = 0;
	uv_close((uv_handle_t *)&w->async, NULL);
}

void store_wal_free(struct store_wal *w)
{
	if (w == NULL)
		return;
	close(w->fd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->sync_cv);
	pthread_cond_destroy(&w->done_cv);
	pthread_cond_destroy(&w->ckpt_cv);
	free(w->db_path);
	free(w);
}

void store_wal_counts(const struct store_wal *w, uint64_t *syncs,
                      uint64_t *checkpoints)
{
	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	*syncs = w->syncs;
	*checkpoints = w->checkpoints;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
}

int store_wal_checkpoint_failed(const struct store_wal *w)
{
	int failed;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	failed = w->ckpt_failed != 0;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return failed;
}
