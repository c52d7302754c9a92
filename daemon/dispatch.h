/*
 * The dispatcher: takes what the scheduler says is due, records the attempt
 * durably, hands the request to the channel's publisher and http, and turns
 * the response into the delivery's next state (published, retry_wait with
 * backoff, or failed).
 */
#ifndef SMMD_DISPATCH_H
#define SMMD_DISPATCH_H

#include <stdint.h>

struct smmd;

/* Recover deliveries a crash left in flight and queue every pending one. */
int dispatch_load(struct smmd *);
/* Queue a delivery for due_ms and re-arm the timer if it is the earliest. */
int dispatch_schedule(struct smmd *, const char *delivery_id, int64_t due_ms);
void dispatch_unschedule(struct smmd *, const char *delivery_id);
/* Start everything due now (the wall-clock timer's callback). */
void dispatch_run_due(void *smmd);
/* Re-arm the wall-clock timer to the earliest due delivery. */
void dispatch_arm(struct smmd *);

#endif
