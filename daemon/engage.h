/*
 * Engagement read back from the networks: for each published delivery
 * whose channel's publisher can read it, a sample at fixed ages after
 * publishing (the channel's `metrics`, default 1h, 24h and 7d), each kept
 * as history; and each channel's audience once a day where the API gives
 * it.
 *
 * Reading never competes with publishing: it has its own small in-flight
 * cap (metrics_in_flight, one request per channel at a time), starts only
 * when no post is due within the next moments, and shares each channel's
 * rate-limit budget with publishing (the X-RateLimit headers of every
 * response, publishing's included; a 429 stops reads until Retry-After),
 * leaving a fifth of the budget to posts. A channel whose token is
 * refused (401, 403) is not polled again until the config is reloaded,
 * with one notice.
 */
#ifndef SMMD_ENGAGE_H
#define SMMD_ENGAGE_H

#include <jansson.h>
#include <stdint.h>

struct channel;
struct http_result;
struct smmd;
struct engage;

struct engage *engage_new(void);
/* After engage_close's handle is closed, or when never started. */
void engage_free(struct engage *);
/* Once the store is loaded: learn what is stopped, arm the timer. */
int engage_start(struct smmd *);
/* The config was replaced: new channels and ages; stopped ones resume. */
void engage_reload(struct smmd *);
/* Shutdown: nothing new starts; close the timer. */
void engage_close(struct smmd *);
/*
 * Delivery id on ch was published at now_ms as the network's remote_id
 * (NULL: it gave none): plan its first sample (a worker only plans it).
 */
void engage_published(struct smmd *, const struct channel *ch, const char *id,
                      const char *remote_id, int64_t now_ms);
/*
 * Another node changed a delivery on channel (a worker published it and
 * planned its samples): when its next sample is due is read again.
 */
void engage_followed(struct smmd *, const char *channel);
/* A response from channel's API, publishing's too: its rate-limit budget. */
void engage_saw(struct smmd *, const char *channel,
                const struct http_result *res, int64_t now_ms);

/* What the engine did since start, for status and /metrics. */
struct engage_stats {
	uint64_t ok, error, rate_limited, revoked; /* requests, by outcome */
	uint64_t samples;                          /* samples stored */
	unsigned in_flight;
	unsigned stopped; /* channels not polled: a refused token */
};
void engage_stats(const struct smmd *, struct engage_stats *);
/*
 * For status: {samples, reads: {ok, error, rate_limited, refused},
 * in_flight, stopped: [{channel, reason}]}. NULL when out of memory.
 */
json_t *engage_json(const struct smmd *);

#endif
