/*
 * When the store cannot be written: a full disk, a file system gone
 * read-only, an I/O error. The turn's writes are given up (rolled back, so
 * nothing half-done stays), and from then on smmd starts no attempt, sends
 * no request whose start is not recorded, and answers every command that
 * would change state with a clear error; reads go on. It says so once.
 *
 * What smmd holds in memory may now be ahead of the store (a turn's
 * changes that were rolled back), so it does not try to patch itself up:
 * every two seconds it checks whether the state directory takes writes
 * again, and once it does it executes itself afresh, in place (the same
 * pid, so systemd and its watchdog see one service; the control socket
 * handed over as systemd hands it, so no client is refused), and starts
 * from the store exactly as after a crash. That path is the one the crash
 * tests prove: nothing recorded is lost, a send whose outcome was not
 * recorded becomes unknown or goes again with the same webhook-id.
 *
 * A damaged database is different: waiting will not mend it. smmd stops
 * with a message that says so (and refuses to start on it, store_sqlite.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "outage.h"
#include "service.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

#define OUTAGE_PROBE_MS 2000
/* A turn's WAL frames and a checkpoint's need: well under this. */
#define OUTAGE_PROBE_BYTES (1024 * 1024)

struct outage {
	uv_timer_t probe;
	int probing;
	uv_timer_t restart; /* outage_restart: waits for the reads to end */
	int restarting;
	int handles; /* timers the loop holds */
	char why[512];
	char **argv; /* main's, to execute again */
	int detached;
};

struct outage *outage_new(char **argv, int detached)
{
	struct outage *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->argv = argv;
	o->detached = detached;
	return o;
}

/* The loop held the timers: o goes once it has let go of the last. */
static void timer_closed(uv_handle_t *h)
{
	struct outage *o = h->data;

	if (--o->handles == 0)
		free(o);
}

void outage_free(struct outage *o)
{
	if (o == NULL)
		return;
	if (o->handles == 0) {
		free(o);
		return;
	}
	o->probe.data = o->restart.data = o;
	if (o->probing)
		uv_close((uv_handle_t *)&o->probe, timer_closed);
	if (o->restarting)
		uv_close((uv_handle_t *)&o->restart, timer_closed);
}

/*
 * Whether the state directory takes a write and a sync now: 0, or the
 * system's -errno, which also says why (SQLite's "disk I/O error" over a
 * read-only file system does not).
 */
static int probe_writes(const char *dir)
{
	static const char zeros[64 * 1024];
	char path[4096];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/probe.tmp", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0)
		return -errno;
	for (size_t n = 0; r == 0 && n < OUTAGE_PROBE_BYTES; n += sizeof(zeros))
		if (write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros))
			r = errno ? -errno : -ENOSPC;
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	close(fd);
	unlink(path);
	return r;
}

/*
 * Execute smmd again in place: the same pid, the control socket as fd 3
 * with systemd's LISTEN_* variables, told not to fork again and whether
 * it owns the socket's file. Returns only if exec failed.
 */
static void restart_in_place(struct smmd *d)
{
	struct outage *o = d->outage;
	char pid[32], owned[8];
	int fd = control_fd(d->control);

	log_flush();
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(owned, sizeof(owned), "%d", control_owns_path(d->control));
	/* The store goes first: its lock must be free for the new image. */
	store_close(d->store);
	d->store = NULL;
	if (fd >= 0 && fd != 3 && dup2(fd, 3) < 0)
		fatal("outage: cannot hand the control socket over");
	if (fd >= 0 && fcntl(3, F_SETFD, 0) < 0)
		fatal("outage: cannot hand the control socket over");
	if (fd >= 0 && (setenv("LISTEN_FDS", "1", 1) < 0 ||
	                setenv("LISTEN_PID", pid, 1) < 0 ||
	                setenv("SMMD_OWNS_SOCKET", owned, 1) < 0))
		fatal("outage: setenv");
	if (o->detached && setenv("SMMD_DETACHED", "1", 1) < 0)
		fatal("outage: setenv");
	execv("/proc/self/exe", o->argv);
	fatal("outage: cannot execute smmd again");
}

/* A read on the pool holds a connection store_close frees: wait. */
static void on_restart(uv_timer_t *t)
{
	struct smmd *d = t->data;

	/* Stopping meanwhile: a stop it is, not a restart. */
	if (d->stopping || d->control == NULL) {
		uv_timer_stop(t);
		return;
	}
	/* A backup's copy reads the store on the pool too. */
	if (d->reads_running == 0 && !d->backing_up)
		restart_in_place(d);
}

int outage_restarting(const struct smmd *d)
{
	return d->outage && d->outage->restarting;
}

void outage_restart(struct smmd *d)
{
	struct outage *o = d->outage;

	if (o->restarting)
		return;
	store_read_stop(d->store); /* they end soon */
	o->restart.data = d;
	if (uv_timer_init(d->loop, &o->restart) < 0 ||
	    uv_timer_start(&o->restart, on_restart, 0, 10) < 0)
		fatalx("outage: cannot start the restart timer");
	o->restarting = 1;
	o->handles++;
}

static void on_probe(uv_timer_t *t)
{
	struct smmd *d = t->data;

	if (probe_writes(d->cfg->state_dir) < 0)
		return;
	uv_timer_stop(t);
	log_warnx("store: the store takes writes again after %lld "
	          "s: smmd starts afresh from the store",
	          (long long)(wallclock_now_ms() - d->store_down_ms) / 1000);
	outage_restart(d);
}

void outage_begin(struct smmd *d)
{
	struct outage *o = d->outage;
	size_t len;
	int e;

	/* The turn's writes go: whatever was done in memory is not stored. */
	store_give_up_turn(d->store);
	/* Down already, or shutting down: nothing more to start. */
	if (d->store_down_ms || o == NULL)
		return;
	if (store_failure(d->store, o->why, sizeof(o->why)) == STORE_DAMAGED)
		fatalx("store: %s: the database is damaged; smmd stops rather "
		       "than go on with it. Restore a backup ('smmctl backup' "
		       "makes them; see smmd(8)), or move the file away to "
		       "start from an empty store",
		       o->why);
	len = strlen(o->why);
	if ((e = probe_writes(d->cfg->state_dir)) < 0)
		snprintf(o->why + len, sizeof(o->why) - len,
		         "; writing to the state directory: %s", strerror(-e));
	d->store_down_ms = wallclock_now_ms();
	log_error("store: cannot write: %s. Holding every delivery and "
	          "refusing changes; smmd checks every %d s and carries on by "
	          "itself once the store takes writes again",
	          o->why, OUTAGE_PROBE_MS / 1000);
	service_notify_status("the store cannot be written: holding");
	o->probe.data = d;
	if (uv_timer_init(d->loop, &o->probe) < 0 ||
	    uv_timer_start(&o->probe, on_probe, OUTAGE_PROBE_MS,
	                   OUTAGE_PROBE_MS) < 0)
		fatalx("outage: cannot start the probe timer");
	o->probing = 1;
	o->handles++;
	/* Only a probe: it must not keep a stopping smmd alive. */
	uv_unref((uv_handle_t *)&o->probe);
}

const char *outage_why(const struct smmd *d)
{
	return d->outage->why;
}
