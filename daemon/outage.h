/*
 * The store cannot be written (disk full, read-only, I/O errors): give up
 * the turn, hold everything, refuse changes, and start afresh in place
 * once the state directory takes writes again. See outage.c.
 */
#ifndef SMMD_OUTAGE_H
#define SMMD_OUTAGE_H

struct smmd;
struct outage;

/* argv: main's, to execute again; detached: smmd forked at its start. */
struct outage *outage_new(char **argv, int detached);
/* Accepts NULL. */
void outage_free(struct outage *);
/*
 * A store operation failed: the turn's writes are given up; the first
 * time, say why and start probing (d->store_down_ms is set). A damaged
 * database stops smmd instead.
 */
void outage_begin(struct smmd *);
/*
 * Execute smmd afresh in place, as soon as no read runs on the thread
 * pool: the same pid, the control socket handed over, the store closed
 * first and opened again from scratch. After an outage, and when a
 * standby takes over (main.c).
 */
void outage_restart(struct smmd *);
/* 1 once outage_restart was called: what ends now ends with the image. */
int outage_restarting(const struct smmd *);
/* Why the store cannot be written, while d->store_down_ms is set. */
const char *outage_why(const struct smmd *);

#endif
