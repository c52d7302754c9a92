/*
 * The daemon's Prometheus metrics: the counters and histograms nothing
 * else keeps (deliveries by outcome, retries and engagement fetches per
 * channel, how late first attempts leave, how long a commit takes to be
 * durable), and the page a scrape gets, which adds the gauges other
 * modules keep already (in flight, per-state counts, pauses, followers,
 * loop turns). Counting is always on and costs a lookup per event;
 * serving it (metrics_listen) is optional. Making the page reads
 * counters only, never the store.
 *
 * Per-channel series exist for the channels of the running
 * configuration: a reload that removes a channel drops its series (and
 * one that adds it back starts them at zero, a counter reset Prometheus
 * expects); events of a channel that is not configured are not counted.
 */
#ifndef SMMD_PROM_H
#define SMMD_PROM_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct delivery_event;
struct promtext;
struct smmd;
struct prom;

/* Counters for cfg's channels, all zero. NULL when out of memory. */
struct prom *prom_new(const struct config *cfg);
/* After prom_stop. NULL is fine. */
void prom_free(struct prom *);
/*
 * A reload: keep the counters of the channels cfg still has, start the
 * new ones at zero, drop the rest. 0 or -ENOMEM (nothing changed).
 */
int prom_channels(struct prom *, const struct config *cfg);

/* An events_observe() observer; arg is the struct prom. */
void prom_event(void *prom, const struct delivery_event *);
/* A store_observe_durable() observer; arg is the struct prom. */
void prom_store_durable(void *prom, uint64_t ns);
/*
 * Attempt 1 of a delivery leaves now; it was meant to leave at meant_ms
 * (its due time, or the time a blackout shifted it to).
 */
void prom_lateness(struct prom *, int64_t meant_ms);

/*
 * An engagement fetch on channel ended with outcome: "ok", "error",
 * "rate_limited" or "revoked" (any other is ignored, as is a channel
 * that is not configured).
 */
void prom_count_fetch(struct smmd *, const char *channel, const char *outcome);

/* The families prom keeps itself (testable without a daemon). */
void prom_write_counters(const struct prom *, struct promtext *);
/*
 * The whole page for a scrape of d (a promhttp_page_fn): malloc'd, its
 * length in *len; NULL when out of memory.
 */
char *prom_page(void *smmd, size_t *len);

/*
 * Serve cfg's metrics_listen: at start, and at a reload before the new
 * configuration is applied. The same address: the listener stays; none:
 * it closes; another: the new one is bound first, and only once that
 * worked does the old one close. 0, or -1 with err saying why (what ran
 * before goes on).
 */
int prom_serve(struct smmd *, const struct config *cfg, char *err,
               size_t errlen);
/* Shutdown: stop serving (the loop closes the handles). */
void prom_stop(struct smmd *);

#endif
