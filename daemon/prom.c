#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "events.h"
#include "hashtab.h"
#include "log.h"
#include "looptime.h"
#include "pause.h"
#include "prom.h"
#include "promhttp.h"
#include "promtext.h"
#include "smmd.h"
#include "store.h"

/* How a delivery ended, as smmd_deliveries_total's outcome label. */
enum prom_outcome {
	PO_PUBLISHED,
	PO_FAILED,
	PO_UNKNOWN,
	PO_MISSED,
	PO_SKIPPED,
	PO_CANCELLED,
	PO_COUNT
};
static const char *const outcome_names[PO_COUNT] = {
        "published", "failed", "unknown", "missed", "skipped", "cancelled",
};

/* How an engagement fetch ended (prom_count_fetch). */
#define FETCH_COUNT 4
static const char *const fetch_names[FETCH_COUNT] = {
        "ok",
        "error",
        "rate_limited",
        "revoked",
};

/* Seconds late: sub-millisecond at the start, where smmd aims to be. */
static const double lateness_bounds[] = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
        0.5,    1,     2.5,    5,     10,   30,    60,   300,
};
/* Seconds from a commit to its sync: an fdatasync, or a queue of them. */
static const double commit_bounds[] = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10,
};
#define NBOUNDS(a) (sizeof(a) / sizeof((a)[0]))

struct prom_channel {
	char *name;
	uint64_t deliveries[PO_COUNT];
	uint64_t retries;
	uint64_t fetches[FETCH_COUNT];
};

struct prom {
	struct prom_channel *ch; /* the configured channels, in order */
	size_t n;
	struct hashtab index; /* name -> position in ch */
	struct promtext_histogram lateness, commit;
	struct promhttp *http; /* NULL: not serving */
	char *listen;          /* where http listens */
};

static const char *channel_key(const void *ctx, uint32_t pos)
{
	const struct prom *p = ctx;

	return p->ch[pos].name;
}

static struct prom_channel *channel_find(const struct prom *p, const char *name)
{
	uint32_t pos;

	return p && hashtab_find(&p->index, name, &pos) ? &p->ch[pos] : NULL;
}

static void channels_free(struct prom_channel *ch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ch[i].name);
	free(ch);
}

int prom_channels(struct prom *p, const struct config *cfg)
{
	struct prom_channel *ch = calloc(cfg->nchannels + 1, sizeof(*ch));
	struct hashtab index;
	size_t n;

	if (ch == NULL)
		return -ENOMEM;
	for (n = 0; n < cfg->nchannels; n++) {
		const struct prom_channel *old =
		        channel_find(p, cfg->channels[n].name);

		if (old)
			ch[n] = *old;
		if ((ch[n].name = strdup(cfg->channels[n].name)) == NULL) {
			channels_free(ch, n);
			return -ENOMEM;
		}
	}
	/* The index reads names through p: build it once ch is p's. */
	channels_free(p->ch, p->n);
	p->ch = ch;
	p->n = n;
	hashtab_free(&p->index);
	hashtab_init(&index, channel_key, p);
	for (uint32_t i = 0; i < n; i++)
		if (hashtab_add(&index, i) < 0)
			log_warnx("metrics: out of memory: channel '%s' is "
			          "not counted",
			          ch[i].name);
	p->index = index;
	return 0;
}

struct prom *prom_new(const struct config *cfg)
{
	struct prom *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	hashtab_init(&p->index, channel_key, p);
	promtext_histogram_init(&p->lateness, lateness_bounds,
	                        NBOUNDS(lateness_bounds));
	promtext_histogram_init(&p->commit, commit_bounds,
	                        NBOUNDS(commit_bounds));
	if (prom_channels(p, cfg) < 0) {
		prom_free(p);
		return NULL;
	}
	return p;
}

void prom_free(struct prom *p)
{
	if (p == NULL)
		return;
	promhttp_close(p->http);
	channels_free(p->ch, p->n);
	hashtab_free(&p->index);
	free(p->listen);
	free(p);
}

void prom_event(void *arg, const struct delivery_event *e)
{
	const char *slash = strchr(e->id, '/');
	struct prom_channel *ch = channel_find(arg, slash ? slash + 1 : e->id);
	int o = -1;

	if (ch == NULL)
		return;
	switch (e->kind) {
	case EV_PUBLISHED:
		o = PO_PUBLISHED;
		break;
	case EV_FAILED:
		o = PO_FAILED;
		break;
	case EV_UNKNOWN:
		o = PO_UNKNOWN;
		break;
	case EV_MISSED:
		o = PO_MISSED;
		break;
	case EV_SKIPPED:
		o = PO_SKIPPED;
		break;
	case EV_CANCELLED:
		o = PO_CANCELLED;
		break;
	case EV_RETRY:
		ch->retries++;
		break;
	default:
		break;
	}
	if (o >= 0)
		ch->deliveries[o]++;
}

void prom_store_durable(void *arg, uint64_t ns)
{
	struct prom *p = arg;

	promtext_histogram_observe(&p->commit, (double)ns / 1e9);
}

void prom_lateness(struct prom *p, int64_t meant_ms)
{
	struct timespec ts;
	int64_t late_us;

	if (p == NULL)
		return;
	/* wallclock_now_ms() is too coarse for the first buckets. */
	clock_gettime(CLOCK_REALTIME, &ts);
	late_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 -
	          meant_ms * 1000;
	promtext_histogram_observe(&p->lateness,
	                           late_us > 0 ? (double)late_us / 1e6 : 0);
}

void prom_count_fetch(struct smmd *d, const char *channel, const char *outcome)
{
	struct prom_channel *ch =
	        channel ? channel_find(d->prom, channel) : NULL;

	for (size_t i = 0; ch && outcome && i < FETCH_COUNT; i++)
		if (strcmp(outcome, fetch_names[i]) == 0)
			ch->fetches[i]++;
}

/* smmd_deliveries_total and smmd_retries_total, every channel's. */
static void write_deliveries(const struct prom *p, struct promtext *pt)
{
	promtext_family(pt, "smmd_deliveries_total", "counter",
	                "Deliveries that ended, by channel and outcome.");
	for (size_t i = 0; i < p->n; i++)
		for (size_t o = 0; o < PO_COUNT; o++)
			promtext_sample_u64(
			        pt, "smmd_deliveries_total",
			        (const char *const[]){"channel", p->ch[i].name,
			                              "outcome",
			                              outcome_names[o], NULL},
			        p->ch[i].deliveries[o]);
	promtext_family(pt, "smmd_retries_total", "counter",
	                "Deliveries put back to wait for another attempt, "
	                "by smmd or by smmctl retry.");
	for (size_t i = 0; i < p->n; i++)
		promtext_sample_u64(
		        pt, "smmd_retries_total",
		        (const char *const[]){"channel", p->ch[i].name, NULL},
		        p->ch[i].retries);
}

void prom_write_counters(const struct prom *p, struct promtext *pt)
{
	write_deliveries(p, pt);
	promtext_family(pt, "smmd_engagement_fetches_total", "counter",
	                "Engagement fetches from the networks, by channel and "
	                "outcome.");
	for (size_t i = 0; i < p->n; i++)
		for (size_t o = 0; o < FETCH_COUNT; o++)
			if (p->ch[i].fetches[o] > 0)
				promtext_sample_u64(
				        pt, "smmd_engagement_fetches_total",
				        (const char *const[]){
				                "channel", p->ch[i].name,
				                "outcome", fetch_names[o],
				                NULL},
				        p->ch[i].fetches[o]);
	promtext_family(pt, "smmd_delivery_lateness_seconds", "histogram",
	                "How late first attempts left, after the time they "
	                "were meant to go.");
	promtext_histogram(pt, "smmd_delivery_lateness_seconds", NULL,
	                   &p->lateness);
	promtext_family(pt, "smmd_store_commit_seconds", "histogram",
	                "From a loop turn's commit to its being durable.");
	promtext_histogram(pt, "smmd_store_commit_seconds", NULL, &p->commit);
}

/* One family of one unlabelled sample. */
static void single(struct promtext *pt, const char *name, const char *type,
                   const char *help, double value)
{
	promtext_family(pt, name, type, help);
	promtext_sample(pt, name, NULL, value);
}

/* Per-state counts (the events', or the store's), followers. */
static void write_states(struct smmd *d, struct promtext *pt)
{
	struct events_follow_stats fs;
	int64_t counts[DS_COUNT];

	/* A shared view's: other nodes move deliveries without an event. */
	if (store_kept_counts(d->store, counts) <= 0)
		events_counts(d->events, counts);
	promtext_family(pt, "smmd_deliveries", "gauge",
	                "Deliveries in each state now.");
	for (int s = 0; s < DS_COUNT; s++)
		promtext_sample(
		        pt, "smmd_deliveries",
		        (const char *const[]){"state", state_name(s), NULL},
		        (double)counts[s]);
	single(pt, "smmd_held", "gauge",
	       "Deliveries held by a pause, a blackout or a missing approval.",
	       (double)counts[DS_HELD]);
	single(pt, "smmd_in_flight", "gauge",
	       "Deliveries started and not finished.", (double)d->in_flight);
	single(pt, "smmd_paused_scopes", "gauge",
	       "Active pauses (all, a channel, a campaign).",
	       (double)pauses_count(d));
	events_follow_stats(d->events, &fs);
	single(pt, "smmd_event_followers", "gauge",
	       "Clients following the event stream (smmctl log -f).",
	       (double)fs.followers);
	single(pt, "smmd_event_follower_drops_total", "counter",
	       "Followers dropped for not keeping up.", (double)fs.dropped);
}

/* The store's and the loop's own counts. */
static void write_runtime(struct smmd *d, struct promtext *pt)
{
	struct store_stats ss;
	uint64_t turns, slow;
	double max_ms;

	store_stats(d->store, &ss);
	single(pt, "smmd_store_commits_total", "counter",
	       "Loop turns' writes committed to the store.",
	       (double)ss.committed);
	single(pt, "smmd_store_syncs_total", "counter",
	       "fdatasync calls that made commits durable.", (double)ss.syncs);
	looptime_get(d->looptime, &max_ms, &turns, &slow);
	single(pt, "smmd_loop_turn_max_seconds", "gauge",
	       "The longest loop turn since the start.", max_ms / 1e3);
	single(pt, "smmd_loop_turns_total", "counter", "Loop turns run.",
	       (double)turns);
	single(pt, "smmd_loop_slow_turns_total", "counter",
	       "Loop turns longer than 5 ms.", (double)slow);
}

char *prom_page(void *arg, size_t *len)
{
	struct smmd *d = arg;
	struct promtext pt;

	promtext_init(&pt);
	promtext_family(&pt, "smmd_build_info", "gauge",
	                "Always 1; the version of smmd that runs.");
	promtext_sample(&pt, "smmd_build_info",
	                (const char *const[]){"version", PACKAGE_VERSION, NULL},
	                1);
	single(&pt, "smmd_start_time_seconds", "gauge",
	       "When smmd started, in seconds since the epoch.",
	       (double)d->started_ms / 1e3);
	prom_write_counters(d->prom, &pt);
	write_states(d, &pt);
	write_runtime(d, &pt);
	return promtext_steal(&pt, len);
}

/* Loopback: 127.0.0.0/8, ::1, and ::ffff:127.0.0.0/104. */
static int loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
	        in6->sin6_addr.s6_addr[12] == 127);
}

int prom_serve(struct smmd *d, const struct config *cfg, char *err,
               size_t errlen)
{
	struct prom *p = d->prom;
	struct promhttp *h;
	char *name;

	if (p->listen && cfg->metrics_listen &&
	    strcmp(p->listen, cfg->metrics_listen) == 0)
		return 0;
	h = NULL;
	name = NULL;
	if (cfg->metrics_listen &&
	    ((name = strdup(cfg->metrics_listen)) == NULL ||
	     promhttp_start(d->loop,
	                    (const struct sockaddr *)&cfg->metrics_addr,
	                    cfg->metrics_addrlen, name, prom_page, d, &h, err,
	                    errlen) < 0)) {
		if (name == NULL)
			snprintf(err, errlen, "out of memory");
		free(name);
		return -1;
	}
	promhttp_close(p->http);
	if (p->listen)
		log_info("metrics: no longer serving on %s", p->listen);
	free(p->listen);
	p->http = h;
	p->listen = name;
	if (name && loopback(&cfg->metrics_addr))
		log_info("metrics: serving GET /metrics on %s", name);
	else if (name)
		log_warnx("metrics: serving GET /metrics on %s, which is not "
		          "a loopback address: whoever can reach it reads "
		          "the metrics",
		          name);
	return 0;
}

void prom_stop(struct smmd *d)
{
	if (d->prom == NULL)
		return;
	promhttp_close(d->prom->http);
	d->prom->http = NULL;
}
