#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "postid.h"
#include "timeparse.h"
#include "wallclock.h"

#define EVENT_ID_MAX     (POSTID_MAX * 2 + 2)
#define EVENT_REASON_MAX 256

/* One event as kept in the ring: its own copies of the strings. */
struct event_rec {
	uint64_t seq;
	int64_t time_ms;
	enum event_kind kind;
	int from;
	enum delivery_state to;
	int64_t next_ms;
	unsigned attempt;
	long http_status;
	double latency_ms;
	char id[EVENT_ID_MAX]; /* "": a scope's event */
	char reason[EVENT_REASON_MAX];
	char summary[64];
	char scope[EVENT_ID_MAX]; /* a scope's: its name, and channel in id */
	char by[64];
};

struct events_sub {
	struct events_sub *next;
	char *channel; /* NULL: every channel */
	void (*fn)(void *arg, const char *json, size_t len);
	void *arg;
};

struct events {
	int64_t counts[DS_COUNT];
	uint64_t seq;                       /* the last event's number */
	struct event_rec ring[EVENTS_RING]; /* the last one at seq % RING */
	struct events_sub *subs;
	struct events_follow_stats follow;
	/* events_observe's: sees each delivery event as it is. */
	void (*observer)(void *arg, const struct delivery_event *);
	void *observer_arg;
};

static const char *const kind_names[] = {
#define EVENT_NAME(e, name) name,
        EVENT_KINDS(EVENT_NAME)
#undef EVENT_NAME
};

struct events *events_new(void)
{
	return calloc(1, sizeof(struct events));
}

void events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	while (ev->subs)
		events_unsubscribe(ev, ev->subs);
	free(ev);
}

void events_seed(struct events *ev, const int64_t counts[DS_COUNT])
{
	memcpy(ev->counts, counts, sizeof(ev->counts));
}

void events_counts(const struct events *ev, int64_t counts[DS_COUNT])
{
	memcpy(counts, ev->counts, sizeof(ev->counts));
}

/* The channel part of "POST/CHANNEL". */
static const char *event_channel(const char *id)
{
	const char *slash = strchr(id, '/');

	return slash ? slash + 1 : id;
}

/*
 * What the event's log line says it did ("held"), in which area and at
 * which level; NULL: the event has no line.
 */
static const char *event_verb(const struct delivery_event *e, const char **area,
                              enum log_level *level)
{
	*area = "publish";
	*level = LOG_LEVEL_INFO;
	if (e->kind == EV_SHIFTED)
		return "shifted";
	switch (e->origin) {
	case EVO_DISPATCH:
		if (e->kind == EV_FAILED)
			return *level = LOG_LEVEL_ERROR, "failed";
		if (e->kind == EV_MISSED)
			return *level = LOG_LEVEL_WARNING, "missed";
		return e->kind == EV_HELD ? "held" : NULL;
	case EVO_CALENDAR:
		*area = "calendar";
		if (e->kind == EV_MISSED)
			return *level = LOG_LEVEL_WARNING, "missed";
		if (e->kind == EV_UNAPPROVED)
			return *level = LOG_LEVEL_WARNING,
			       "is a draft again, its approval withdrawn";
		return NULL;
	case EVO_CONTROL:
		*area = "control";
		if (e->kind == EV_CANCELLED)
			return "cancelled";
		if (e->kind == EV_RETRY)
			return "retried by hand";
		if (e->kind == EV_PUBLISHED)
			return "resolved by hand as published";
		if (e->kind == EV_FAILED)
			return "resolved by hand as failed";
		if (e->kind == EV_RELEASED || e->kind == EV_SKIPPED ||
		    e->kind == EV_HELD || e->kind == EV_APPROVED)
			return kind_names[e->kind];
		return NULL;
	case EVO_RECOVERY:
		if (e->kind != EV_UNKNOWN)
			return NULL;
		*level = LOG_LEVEL_ERROR;
		return "was in flight when smmd stopped; its outcome is "
		       "unknown: check the channel, then 'smmctl retry' or "
		       "'smmctl resolve'";
	}
	return NULL;
}

/*
 * The event's log line, the sentence exactly as each place wrote it before
 * the bus (operators and the e2e tests grep them), and its fields. Events
 * that had no line of their own (queued, started, a calendar's cancel) log
 * nothing.
 */
static void event_log(const struct delivery_event *e)
{
	char post[POSTID_MAX + 1];
	const char *channel = event_channel(e->id);
	const char *area, *what;
	enum log_level level;
	/* The id up to its '/' (all of it without one), cut to fit. */
	size_t n =
	        channel > e->id ? (size_t)(channel - e->id - 1) : strlen(e->id);

	if (n > POSTID_MAX)
		n = POSTID_MAX;
	memcpy(post, e->id, n);
	post[n] = '\0';
	if (e->summary) {
		log_delivery(e->level, &(struct delivery_log){
		                               .post_id = post,
		                               .channel = channel,
		                               .attempt = e->attempt,
		                               .http_status = e->http_status,
		                               .latency_ms = e->latency_ms,
		                               .detail = e->reason,
		                               .outcome = e->summary,
		                       });
		return;
	}
	if ((what = event_verb(e, &area, &level)) == NULL)
		return;
	const struct log_field f[] = {
	        {"event", kind_names[e->kind], 0},
	        {"post_id", post, 0},
	        {"channel", channel, 0},
	        {"state", state_name(e->to), 0},
	        {"reason", e->reason, 0},
	};
	/* "delivery 'p/c' failed: why" reads better as "...: why, failed". */
	if (e->origin == EVO_DISPATCH && e->kind == EV_FAILED)
		log_fields(level, f, LOG_NFIELDS(f),
		           "%s: delivery '%s': %s, failed", area, e->id,
		           e->reason);
	else if (e->kind == EV_MISSED)
		log_fields(level, f, LOG_NFIELDS(f),
		           "%s: delivery '%s' %s: missed", area, e->id,
		           e->reason);
	else if (e->reason &&
	         (e->kind == EV_HELD || e->kind == EV_RELEASED ||
	          e->kind == EV_SKIPPED || e->kind == EV_SHIFTED ||
	          e->kind == EV_APPROVED || e->kind == EV_UNAPPROVED))
		log_fields(level, f, LOG_NFIELDS(f), "%s: delivery '%s' %s: %s",
		           area, e->id, what, e->reason);
	else
		log_fields(level, f, LOG_NFIELDS(f), "%s: delivery '%s' %s",
		           area, e->id, what);
}

/* The event as followers and `log` see it. */
static json_t *event_json(const struct event_rec *r)
{
	char t[TIME_RFC3339_LEN];
	const char *slash = strchr(r->id, '/');
	json_t *o = json_object();

	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "time",
	                    json_string(time_format_rfc3339(r->time_ms, t)));
	json_object_set_new(o, "type", json_string(kind_names[r->kind]));
	if (r->scope[0]) {
		json_object_set_new(o, "scope", json_string(r->scope));
		if (r->by[0])
			json_object_set_new(o, "by", json_string(r->by));
		if (r->reason[0])
			json_object_set_new(o, "reason",
			                    json_string(r->reason));
		return o;
	}
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(
	        o, "post",
	        json_stringn(r->id, slash ? (size_t)(slash - r->id) : 0));
	json_object_set_new(o, "channel", json_string(event_channel(r->id)));
	json_object_set_new(o, "from",
	                    r->from >= 0 ? json_string(state_name(r->from))
	                                 : json_null());
	json_object_set_new(o, "state", json_string(state_name(r->to)));
	if (r->next_ms >= 0)
		json_object_set_new(
		        o, "next",
		        json_string(time_format_rfc3339(r->next_ms, t)));
	if (r->attempt > 0)
		json_object_set_new(o, "attempt", json_integer(r->attempt));
	if (r->http_status > 0)
		json_object_set_new(o, "http_status",
		                    json_integer(r->http_status));
	if (r->latency_ms >= 0)
		json_object_set_new(o, "latency_ms", json_real(r->latency_ms));
	if (r->summary[0])
		json_object_set_new(o, "outcome", json_string(r->summary));
	if (r->reason[0])
		json_object_set_new(o, "reason", json_string(r->reason));
	return o;
}

/*
 * Whether a subscriber of channel (NULL: all) gets r: a delivery's event
 * goes to its channel's; a scope's to its channel's, or to all when it
 * has none (a pause of everything, or of a campaign).
 */
static int event_for(const struct event_rec *r, const char *channel)
{
	if (channel == NULL)
		return 1;
	if (r->scope[0])
		return r->id[0] == '\0' || strcmp(r->id, channel) == 0;
	return strcmp(event_channel(r->id), channel) == 0;
}

/* Hand the event to each subscriber of its channel, encoded once. */
static void event_publish(struct events *ev, const struct event_rec *r)
{
	struct events_sub *s, *next;
	json_t *o;
	char *text;

	if (ev->subs == NULL)
		return;
	o = event_json(r);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return;
	/* A subscriber may unsubscribe itself from its callback. */
	for (s = ev->subs; s; s = next) {
		next = s->next;
		if (event_for(r, s->channel))
			s->fn(s->arg, text, strlen(text));
	}
	free(text);
}

/* src (NULL: "") into dst of cap bytes, cut to fit: snprintf's "%s"
 * without its cost, three times an event and two events a delivery. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

void events_emit(struct events *ev, const struct delivery_event *e)
{
	struct event_rec *r;

	event_log(e);
	if (e->from >= 0 && e->from < DS_COUNT)
		ev->counts[e->from]--;
	ev->counts[e->to]++;
	if (ev->observer)
		ev->observer(ev->observer_arg, e);
	r = &ev->ring[++ev->seq % EVENTS_RING];
	*r = (struct event_rec){
	        .seq = ev->seq,
	        .time_ms = wallclock_now_ms(),
	        .kind = e->kind,
	        .from = e->from,
	        .to = e->to,
	        .next_ms = e->next_ms,
	        .attempt = e->attempt,
	        .http_status = e->http_status,
	        .latency_ms = e->latency_ms,
	};
	copy_cut(r->id, sizeof(r->id), e->id);
	copy_cut(r->reason, sizeof(r->reason), e->reason);
	copy_cut(r->summary, sizeof(r->summary), e->summary);
	event_publish(ev, r);
}

enum event_kind events_kind_of(enum delivery_state to)
{
	switch (to) {
	case DS_PUBLISHING:
		return EV_STARTED;
	case DS_RETRY_WAIT:
		return EV_RETRY;
	case DS_PUBLISHED:
		return EV_PUBLISHED;
	case DS_FAILED:
		return EV_FAILED;
	case DS_CANCELLED:
		return EV_CANCELLED;
	case DS_UNKNOWN:
		return EV_UNKNOWN;
	case DS_MISSED:
		return EV_MISSED;
	case DS_HELD:
		return EV_HELD;
	case DS_SKIPPED:
		return EV_SKIPPED;
	default:
		return EV_QUEUED;
	}
}

void events_change(struct events *ev, enum event_origin origin, const char *id,
                   int from, enum delivery_state to, int64_t next_ms,
                   const char *reason)
{
	enum event_kind kind = events_kind_of(to);

	if (from == DS_HELD && kind == EV_QUEUED)
		kind = EV_RELEASED;
	events_emit(ev, &(struct delivery_event){
	                        .kind = kind,
	                        .origin = origin,
	                        .id = id,
	                        .from = from,
	                        .to = to,
	                        .next_ms = next_ms,
	                        .latency_ms = -1,
	                        .reason = reason,
	                });
}

/* "pause: all paused by alice (uid 1000): outcome; reason: why". */
static void scope_log(const struct scope_event *e)
{
	char uid[24];
	const struct log_field f[] = {
	        {"event", kind_names[e->kind], 0},
	        {"scope", e->scope, 0},
	        {"by", e->by, 0},
	        {"uid", uid, 1},
	        {"reason", e->reason, 0},
	        {"outcome", e->outcome, 0},
	};
	int planb = e->kind != EV_PAUSED && e->kind != EV_RESUMED;
	const char *verb = e->kind == EV_PAUSED            ? "paused"
	                   : e->kind == EV_RESUMED         ? "resumed"
	                   : e->kind == EV_PLANB_ACTIVATED ? "activated"
	                   : e->kind == EV_PLANB_DRILLED   ? "drilled"
	                                                   : "ended";

	snprintf(uid, sizeof(uid), "%ld", e->uid);
	log_fields(e->level, f, LOG_NFIELDS(f),
	           "%s: %s%s%s %s by %s (uid %ld)%s%s%s%s",
	           planb ? "planb" : "pause", planb ? "scenario '" : "",
	           e->scope, planb ? "'" : "", verb, e->by ? e->by : "?",
	           e->uid, e->outcome ? ": " : "", e->outcome ? e->outcome : "",
	           e->reason ? "; reason: " : "", e->reason ? e->reason : "");
}

void events_scope(struct events *ev, const struct scope_event *e)
{
	struct event_rec *r = &ev->ring[++ev->seq % EVENTS_RING];

	scope_log(e);
	*r = (struct event_rec){
	        .seq = ev->seq,
	        .time_ms = wallclock_now_ms(),
	        .kind = e->kind,
	        .from = -1,
	        .next_ms = -1,
	        .latency_ms = -1,
	};
	copy_cut(r->id, sizeof(r->id), e->channel);
	copy_cut(r->scope, sizeof(r->scope), e->scope);
	copy_cut(r->by, sizeof(r->by), e->by);
	copy_cut(r->reason, sizeof(r->reason), e->reason);
	event_publish(ev, r);
}

json_t *events_recent(const struct events *ev, const char *channel)
{
	uint64_t first = ev->seq > EVENTS_RING ? ev->seq - EVENTS_RING + 1 : 1;
	json_t *arr = json_array();

	for (uint64_t n = first; n <= ev->seq && arr; n++) {
		const struct event_rec *r = &ev->ring[n % EVENTS_RING];

		if (event_for(r, channel))
			json_array_append_new(arr, event_json(r));
	}
	return arr;
}

struct events_sub *
events_subscribe(struct events *ev, const char *channel,
                 void (*fn)(void *arg, const char *json, size_t len), void *arg)
{
	struct events_sub *s = calloc(1, sizeof(*s));

	if (s == NULL || (channel && (s->channel = strdup(channel)) == NULL)) {
		free(s);
		return NULL;
	}
	s->fn = fn;
	s->arg = arg;
	s->next = ev->subs;
	ev->subs = s;
	ev->follow.followers++;
	return s;
}

void events_unsubscribe(struct events *ev, struct events_sub *s)
{
	struct events_sub **pp;

	if (s == NULL)
		return;
	for (pp = &ev->subs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			ev->follow.followers--;
			break;
		}
	free(s->channel);
	free(s);
}

void events_follower_dropped(struct events *ev, uint64_t missed)
{
	ev->follow.dropped++;
	ev->follow.missed += missed;
}

void events_follow_stats(const struct events *ev,
                         struct events_follow_stats *out)
{
	*out = ev->follow;
}

void events_observe(struct events *ev,
                    void (*fn)(void *arg, const struct delivery_event *),
                    void *arg)
{
	ev->observer = fn;
	ev->observer_arg = arg;
}
