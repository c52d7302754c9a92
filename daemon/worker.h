/*
 * A worker (share_work; doc/cluster.md): a node beside the working one
 * that fires the channels it claims. It runs the pauses (the working
 * node's, read from its view), the schedule without the start's recovery
 * (what is publishing is another node's, still in flight) and the
 * channels' credentials; not the calendar, engagement or the metrics.
 * Its commands are relayed to the working node, as a standby's.
 */
#ifndef SMMD_WORKER_H
#define SMMD_WORKER_H

struct smmd;

/* 0, or -errno with *doing saying what failed. */
int worker_start(struct smmd *, const char **doing);
/*
 * The working node is gone and this worker takes over (store_standby_
 * start's turn): nothing new starts, what is prepared waits again, and
 * once its requests in flight are done (shutdown_grace at most) smmd
 * starts afresh in place as the working node (outage_restart), leaving
 * none of them to recovery as after a crash.
 */
void worker_hand_over(struct smmd *);
/*
 * What other nodes write, as the view reads it in: the schedule and the
 * pauses follow. A worker's, and the working node's (its workers send
 * on their channels and say so).
 */
void worker_follow(struct smmd *);

#endif
