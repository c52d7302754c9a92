#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "http.h"
#include "log.h"
#include "looptime.h"
#include "postid.h"
#include "proto.h"
#include "reload.h"
#include "sched.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "view.h"
#include "timeparse.h"
#include "urlcheck.h"
#include "wallclock.h"

#define ADD_MAX_CHANNELS 64
#define ADD_MAX_MEDIA    16
#define LIST_DEFAULT     1000
#define LIST_MAX         100000

struct cmd_ctx {
	struct smmd *d;
	struct cmd_later *later;
	const json_t *args;
	json_t **result;
	const char **code;
	char *msg;
	size_t msglen;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct cmd_ctx *x, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, x->msglen, fmt, ap);
	va_end(ap);
	*x->code = code;
	return -1;
}

static int get_string(struct cmd_ctx *x, const char *key, const char **out,
                      int required)
{
	if (proto_get_string(x->args, key, out, required, x->msg, x->msglen) <
	    0) {
		*x->code = SMM_ERR_INVALID_ARGUMENT;
		return -1;
	}
	return 0;
}

static int cmd_hello(struct cmd_ctx *x)
{
	json_t *p = json_object_get(x->args, "protocol");

	if (p && (!json_is_integer(p) ||
	          json_integer_value(p) != SMM_PROTOCOL_VERSION))
		return fail(x, SMM_ERR_INCOMPATIBLE,
		            "incompatible smmctl and smmd (client %lld, "
		            "daemon %d)",
		            json_is_integer(p)
		                    ? (long long)json_integer_value(p)
		                    : -1LL,
		            SMM_PROTOCOL_VERSION);
	*x->result = json_pack("{s:i, s:s}", "protocol", SMM_PROTOCOL_VERSION,
	                       "version", PACKAGE_VERSION);
	return 0;
}

/* "channels": ["a", "b"] or "channel": "a"; each must be configured. */
static int add_channels(struct cmd_ctx *x, const char **names, size_t *n)
{
	json_t *arr = json_object_get(x->args, "channels");
	json_t *one = json_object_get(x->args, "channel");
	size_t i;
	json_t *v;

	*n = 0;
	if (one && arr)
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "give 'channel' or 'channels', not both");
	if (one) {
		if (!json_is_string(one))
			return fail(x, SMM_ERR_INVALID_ARGUMENT,
			            "'channel' must be a string");
		names[(*n)++] = json_string_value(one);
	} else if (arr) {
		if (!json_is_array(arr) || json_array_size(arr) == 0 ||
		    json_array_size(arr) > ADD_MAX_CHANNELS)
			return fail(x, SMM_ERR_INVALID_ARGUMENT,
			            "'channels' must be a list of 1 to %d "
			            "channel names",
			            ADD_MAX_CHANNELS);
		json_array_foreach(arr, i, v)
		{
			if (!json_is_string(v))
				return fail(x, SMM_ERR_INVALID_ARGUMENT,
				            "'channels' must hold strings");
			for (size_t j = 0; j < *n; j++)
				if (strcmp(names[j], json_string_value(v)) == 0)
					return fail(x, SMM_ERR_INVALID_ARGUMENT,
					            "channel '%s' is listed "
					            "twice",
					            names[j]);
			names[(*n)++] = json_string_value(v);
		}
	} else {
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "missing 'channels': which channel to post on");
	}
	for (i = 0; i < *n; i++)
		if (config_channel(x->d->cfg, names[i]) == NULL) {
			char *known = config_channel_names(x->d->cfg);

			fail(x, SMM_ERR_UNKNOWN_CHANNEL,
			     "unknown channel '%s' (known: %s)", names[i],
			     known ? known : "?");
			free(known);
			return -1;
		}
	return 0;
}

/*
 * A delivery id for retry/resolve: "POST/CHANNEL", or a post id when the
 * post has a single delivery.
 */
static int delivery_arg(struct cmd_ctx *x, char *out, size_t len)
{
	const char *id;
	json_t *shown = NULL, *deliveries;
	int r;

	if (get_string(x, "id", &id, 1) < 0)
		return -1;
	if (strchr(id, '/')) {
		snprintf(out, len, "%s", id);
		return 0;
	}
	r = view_show(x->d->store, id, &shown);
	if (r == -ENOENT)
		return fail(x, SMM_ERR_NOT_FOUND,
		            "no post or delivery '%.200s'", id);
	if (r < 0)
		return fail(x, SMM_ERR_INTERNAL, "cannot read the store");
	deliveries = json_object_get(shown, "deliveries");
	if (json_array_size(deliveries) != 1) {
		fail(x, SMM_ERR_INVALID_ARGUMENT,
		     "post '%.200s' has %zu deliveries: name one as "
		     "POST/CHANNEL",
		     id, json_array_size(deliveries));
		json_decref(shown);
		return -1;
	}
	snprintf(out, len, "%s",
	         json_string_value(
	                 json_object_get(json_array_get(deliveries, 0), "id")));
	json_decref(shown);
	return 0;
}

static int settle_error(struct cmd_ctx *x, int r)
{
	if (r == -ENOENT)
		*x->code = SMM_ERR_NOT_FOUND;
	else if (r == -EALREADY)
		*x->code = SMM_ERR_CONFLICT;
	else
		return fail(x, SMM_ERR_INTERNAL, "cannot update the store");
	return -1;
}

/* Send an unknown or failed delivery again, now, with the same id. */
static int cmd_retry(struct cmd_ctx *x)
{
	char id[POSTID_MAX * 2 + 2];
	int64_t now = wallclock_now_ms();
	int r;

	if (x->d->stopping)
		return fail(x, SMM_ERR_SHUTTING_DOWN, "smmd is shutting down");
	if (delivery_arg(x, id, sizeof(id)) < 0)
		return -1;
	r = view_settle(x->d->store, id, DS_RETRY_WAIT, NULL, now, x->msg,
	                x->msglen);
	if (r < 0)
		return settle_error(x, r);
	if (dispatch_schedule(x->d, id, now) < 0)
		return fail(x, SMM_ERR_INTERNAL, "out of memory");
	log_info("control: delivery '%s' retried by hand", id);
	*x->result = json_pack("{s:s, s:s}", "id", id, "state", "retry_wait");
	return 0;
}

/* Record by hand what happened to an unknown or failed delivery. */
static int cmd_resolve(struct cmd_ctx *x)
{
	char id[POSTID_MAX * 2 + 2];
	const char *outcome, *url;
	enum delivery_state state;
	int r;

	if (delivery_arg(x, id, sizeof(id)) < 0 ||
	    get_string(x, "outcome", &outcome, 1) < 0 ||
	    get_string(x, "url", &url, 0) < 0)
		return -1;
	if (strcmp(outcome, "published") == 0)
		state = DS_PUBLISHED;
	else if (strcmp(outcome, "failed") == 0)
		state = DS_FAILED;
	else
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'outcome' must be published or failed");
	if (url && (state != DS_PUBLISHED || !url_is_http(url)))
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'url' goes with published and must be http(s)");
	r = view_settle(x->d->store, id, state, url, wallclock_now_ms(), x->msg,
	                x->msglen);
	if (r < 0)
		return settle_error(x, r);
	log_info("control: delivery '%s' resolved by hand as %s", id, outcome);
	*x->result = json_pack("{s:s, s:s}", "id", id, "state", outcome);
	return 0;
}

static int cmd_add(struct cmd_ctx *x)
{
	const char *channels[ADD_MAX_CHANNELS];
	const char *text, *at, *link, *campaign, *id;
	char gen_id[POSTID_GEN_LEN], when[TIME_RFC3339_LEN];
	int64_t now = wallclock_now_ms(), due = now;
	json_t *media = json_object_get(x->args, "media"), *empty = NULL;
	json_t *out;
	struct post_new post;
	size_t nchannels, i;
	json_t *v;
	int r;

	if (x->d->stopping)
		return fail(x, SMM_ERR_SHUTTING_DOWN,
		            "smmd is shutting down: not taking new posts");
	if (add_channels(x, channels, &nchannels) < 0 ||
	    get_string(x, "text", &text, 1) < 0 ||
	    get_string(x, "at", &at, 0) < 0 ||
	    get_string(x, "link", &link, 0) < 0 ||
	    get_string(x, "campaign", &campaign, 0) < 0 ||
	    get_string(x, "id", &id, 0) < 0)
		return -1;
	if (text[strspn(text, " \t\r\n")] == '\0')
		return fail(x, SMM_ERR_INVALID_ARGUMENT, "the text is empty");
	if (link && urlcheck(link, URLCHECK_PREFIX) != URLCHECK_OK)
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'link' must be an http or https URL");
	if (media == NULL)
		media = empty = json_array();
	if (!json_is_array(media) || json_array_size(media) > ADD_MAX_MEDIA) {
		json_decref(empty);
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'media' must be a list of at most %d URLs",
		            ADD_MAX_MEDIA);
	}
	json_array_foreach(media, i, v)
	{
		if (!json_is_string(v) ||
		    (!url_is_http(json_string_value(v)) &&
		     !media_name_valid(json_string_value(v)))) {
			json_decref(empty);
			return fail(x, SMM_ERR_INVALID_ARGUMENT,
			            "'media' entries must be http or https "
			            "URLs, or file names in the channel's "
			            "media_dir");
		}
	}
	if (at && time_parse_rfc3339(at, &due) < 0) {
		json_decref(empty);
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'at': '%s' is not an RFC 3339 time", at);
	}
	if (due < now - SMM_ADD_MAX_PAST_MS) {
		char ago[32];

		json_decref(empty);
		return fail(x, SMM_ERR_TOO_LATE,
		            "%s is %s in the past (more than a minute): "
		            "refusing to post it late",
		            time_format_rfc3339(due, when),
		            duration_format(now - due, ago, sizeof(ago)));
	}
	if (id == NULL) {
		uint64_t rnd = 0;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)now * 2654435761u;
		postid_generate(now, rnd, gen_id);
		id = gen_id;
	} else if (!postid_valid(id)) {
		json_decref(empty);
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "invalid post id '%.200s': use 1 to %d letters, "
		            "digits or ._:@+-",
		            id, POSTID_MAX);
	}
	post = (struct post_new){
	        .id = id,
	        .source = "adhoc",
	        .text = text,
	        .link = link,
	        .campaign = campaign,
	        .media = media,
	        .due_ms = due,
	        .channels = channels,
	        .nchannels = nchannels,
	};
	r = store_add_post(x->d->store, &post, now);
	json_decref(empty);
	if (r == -EEXIST)
		return fail(x, SMM_ERR_EXISTS, "post id '%s' already exists",
		            id);
	if (r < 0) {
		log_error("store: cannot add post '%s': %s", id, strerror(-r));
		return fail(x, SMM_ERR_INTERNAL, "cannot store the post");
	}
	out = json_array();
	for (i = 0; i < nchannels; i++) {
		char did[POSTID_MAX * 2 + 2];

		snprintf(did, sizeof(did), "%s/%s", id, channels[i]);
		if (dispatch_schedule(x->d, did, due) < 0)
			log_error("sched: cannot queue '%s' (out of memory); "
			          "it runs after a restart",
			          did);
		json_array_append_new(
		        out,
		        json_pack("{s:s, s:s, s:s, s:s}", "id", did, "channel",
		                  channels[i], "state", "scheduled", "due",
		                  time_format_rfc3339(due, when)));
	}
	log_info("control: post '%s' queued for %s on %zu channel%s", id,
	         time_format_rfc3339(due, when), nchannels,
	         nchannels == 1 ? "" : "s");
	*x->result = json_pack("{s:s, s:o}", "id", id, "deliveries", out);
	return 0;
}

static int cmd_list(struct cmd_ctx *x)
{
	const char *status;
	json_t *limit = json_object_get(x->args, "limit");
	json_int_t n = LIST_DEFAULT;
	int state = -1;

	if (get_string(x, "status", &status, 0) < 0)
		return -1;
	if (status && (state = state_parse(status)) < 0)
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "unknown status '%s' (known: %s)", status,
		            state_list());
	if (limit) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > LIST_MAX)
			return fail(x, SMM_ERR_INVALID_ARGUMENT,
			            "'limit' must be from 1 to %d", LIST_MAX);
		n = json_integer_value(limit);
	}
	if (view_list(x->d->store, state, (unsigned)n, x->result) < 0)
		return fail(x, SMM_ERR_INTERNAL, "cannot read the store");
	return 0;
}

static int cmd_show(struct cmd_ctx *x)
{
	const char *id;
	int r;

	if (get_string(x, "id", &id, 1) < 0)
		return -1;
	r = view_show(x->d->store, id, x->result);
	if (r == -ENOENT)
		return fail(x, SMM_ERR_NOT_FOUND,
		            "no post or delivery '%.200s'", id);
	if (r < 0)
		return fail(x, SMM_ERR_INTERNAL, "cannot read the store");
	return 0;
}

static int cmd_cancel(struct cmd_ctx *x)
{
	const char *id;
	json_t *cancelled, *withdrawn, *v;
	size_t i;
	int r;

	if (get_string(x, "id", &id, 1) < 0)
		return -1;
	/* Prepared a moment ahead of its time but not sent: still ours. */
	withdrawn = dispatch_withdraw(x->d, id);
	r = view_cancel(x->d->store, id, wallclock_now_ms(), &cancelled, x->msg,
	                x->msglen);
	if (r == -EALREADY && json_array_size(withdrawn) > 0) {
		cancelled = json_array();
		r = 0;
	}
	if (r < 0) {
		json_decref(withdrawn);
		if (r == -ENOENT)
			*x->code = SMM_ERR_NOT_FOUND;
		else if (r == -EALREADY)
			*x->code = SMM_ERR_CONFLICT;
		else
			return fail(x, SMM_ERR_INTERNAL,
			            "cannot update the store");
		return -1;
	}
	json_array_extend(cancelled, withdrawn);
	json_decref(withdrawn);
	json_array_foreach(cancelled, i, v)
	{
		dispatch_unschedule(x->d, json_string_value(v));
		log_info("control: delivery '%s' cancelled",
		         json_string_value(v));
	}
	*x->result = json_pack("{s:o}", "cancelled", cancelled);
	return 0;
}

static int cmd_status(struct cmd_ctx *x)
{
	int64_t counts[DS_COUNT], next = sched_next_due(x->d->sched);
	int64_t now = wallclock_now_ms();
	char started[TIME_RFC3339_LEN], next_s[TIME_RFC3339_LEN];
	json_t *c, *channels;

	if (store_counts(x->d->store, counts) < 0)
		return fail(x, SMM_ERR_INTERNAL, "cannot read the store");
	c = json_object();
	for (int i = 0; i < DS_COUNT; i++)
		json_object_set_new(c, state_name(i), json_integer(counts[i]));
	channels = json_array();
	for (size_t i = 0; i < x->d->cfg->nchannels; i++)
		json_array_append_new(channels,
		                      json_string(x->d->cfg->channels[i].name));
	*x->result = json_pack(
	        "{s:s, s:i, s:I, s:s, s:I, s:I, s:o, s:o, s:o}", "version",
	        PACKAGE_VERSION, "protocol", SMM_PROTOCOL_VERSION, "pid",
	        (json_int_t)getpid(), "started",
	        time_format_rfc3339(x->d->started_ms, started), "uptime_s",
	        (json_int_t)((now - x->d->started_ms) / 1000), "in_flight",
	        (json_int_t)x->d->in_flight, "next_due",
	        next >= 0 ? json_string(time_format_rfc3339(next, next_s))
	                  : json_null(),
	        "counts", c, "channels", channels);
	json_object_set_new(*x->result, "loop", looptime_json(x->d->looptime));
	return 0;
}

static void reload_done(void *arg, int ok, const json_t *summary,
                        const json_t *errors)
{
	struct cmd_later *later = arg;
	char *msg = NULL;
	size_t i, len = 0;
	json_t *v;
	FILE *out;

	if (ok) {
		later->finish(later, json_deep_copy(summary), NULL, NULL);
		return;
	}
	/* Every error, one per line, as --check-config prints them. */
	if ((out = open_memstream(&msg, &len)) != NULL) {
		json_array_foreach(errors, i, v)
		{
			fprintf(out, "%s%s", i ? "\n" : "",
			        json_string_value(v));
		}
		fclose(out);
	}
	later->finish(later, NULL, SMM_ERR_INVALID_ARGUMENT,
	              msg && msg[0] ? msg : "the reload failed");
	free(msg);
}

/* Re-read smmd.yaml and the calendar; answer with what changed. */
static int cmd_reload(struct cmd_ctx *x)
{
	if (x->d->stopping)
		return fail(x, SMM_ERR_SHUTTING_DOWN, "smmd is shutting down");
	if (reload_start(x->d, "asked by smmctl", reload_done, x->later) < 0)
		return fail(x, SMM_ERR_INTERNAL, "out of memory");
	return 1;
}

#define AGENDA_SPAN_MS       (14LL * 24 * 60 * 60 * 1000)
#define AGENDA_LIMIT_DEFAULT 10000
#define AGENDA_LIMIT_MAX     100000

/* An optional RFC 3339 argument; *out keeps its value when absent. */
static int agenda_time(struct cmd_ctx *x, const char *key, int64_t *out)
{
	const char *v;

	if (get_string(x, key, &v, 0) < 0)
		return -1;
	if (v && time_parse_rfc3339(v, out) < 0)
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'%s': '%.64s' is not an RFC 3339 time", key, v);
	return 0;
}

/* An optional boolean argument, false when absent. */
static int agenda_flag(struct cmd_ctx *x, const char *key, int *out)
{
	json_t *v = json_object_get(x->args, key);

	if (v && !json_is_boolean(v))
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/*
 * The deliveries due in [from, to), by due time, for smmctl calendar and
 * export. The default range is the next two weeks, like the calendar's
 * horizon; from alone reaches two weeks past it.
 */
static int cmd_agenda(struct cmd_ctx *x)
{
	struct agenda_query q = {.limit = AGENDA_LIMIT_DEFAULT};
	json_t *limit = json_object_get(x->args, "limit");
	char from[TIME_RFC3339_LEN], to[TIME_RFC3339_LEN];
	int r;

	q.from_ms = wallclock_now_ms();
	if (agenda_time(x, "from", &q.from_ms) < 0)
		return -1;
	q.to_ms = q.from_ms + AGENDA_SPAN_MS;
	if (agenda_time(x, "to", &q.to_ms) < 0 ||
	    get_string(x, "channel", &q.channel, 0) < 0 ||
	    agenda_flag(x, "full", &q.full) < 0 ||
	    agenda_flag(x, "cancelled", &q.cancelled) < 0)
		return -1;
	if (q.to_ms <= q.from_ms)
		return fail(x, SMM_ERR_INVALID_ARGUMENT,
		            "'to' (%s) must come after 'from' (%s)",
		            time_format_rfc3339(q.to_ms, to),
		            time_format_rfc3339(q.from_ms, from));
	if (limit) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > AGENDA_LIMIT_MAX)
			return fail(x, SMM_ERR_INVALID_ARGUMENT,
			            "'limit' must be from 1 to %d",
			            AGENDA_LIMIT_MAX);
		q.limit = (unsigned)json_integer_value(limit);
	}
	/* A typo must not look like an empty agenda. */
	if (q.channel && config_channel(x->d->cfg, q.channel) == NULL) {
		char *known = config_channel_names(x->d->cfg);

		fail(x, SMM_ERR_UNKNOWN_CHANNEL,
		     "unknown channel '%.200s' (known: %s)", q.channel,
		     known ? known : "?");
		free(known);
		return -1;
	}
	r = view_agenda(x->d->store, &q, x->result);
	if (r == -ENOMEM)
		return fail(x, SMM_ERR_INTERNAL, "out of memory");
	if (r < 0)
		return fail(x, SMM_ERR_INTERNAL, "cannot read the store");
	json_object_set_new(*x->result, "from",
	                    json_string(time_format_rfc3339(q.from_ms, from)));
	json_object_set_new(*x->result, "to",
	                    json_string(time_format_rfc3339(q.to_ms, to)));
	return 0;
}

static const struct command {
	const char *name;
	int (*run)(struct cmd_ctx *);
} commands[] = {
        {"hello", cmd_hello},   {"add", cmd_add},
        {"list", cmd_list},     {"show", cmd_show},
        {"cancel", cmd_cancel}, {"status", cmd_status},
        {"retry", cmd_retry},   {"resolve", cmd_resolve},
        {"reload", cmd_reload}, {"agenda", cmd_agenda},
};

int command_run(struct smmd *d, const struct proto_request *req,
                json_t **result, const char **code, char *msg, size_t msglen,
                struct cmd_later *later)
{
	struct cmd_ctx x = {
	        .d = d,
	        .later = later,
	        .args = req->args,
	        .result = result,
	        .code = code,
	        .msg = msg,
	        .msglen = msglen,
	};

	*result = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, req->cmd) == 0) {
			int r = commands[i].run(&x);

			if (r != 0)
				return r;
			if (*result == NULL)
				return fail(&x, SMM_ERR_INTERNAL,
				            "out of memory");
			return 0;
		}
	return fail(&x, SMM_ERR_UNKNOWN_COMMAND,
	            "unknown command '%.31s' (known: hello, add, list, show, "
	            "cancel, status, retry, resolve, reload, agenda)",
	            req->cmd);
}
