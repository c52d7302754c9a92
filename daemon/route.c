/* Commands on a delivery, run where its channel is fired (route.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pause.h"
#include "postid.h"
#include "queue.h"
#include "route.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "view.h"

int route_may(const struct cmd_ctx *x)
{
	return x->later && store_shared(x->d->store) &&
	       !(x->peer && x->peer->routed);
}

int route_away(const struct cmd_ctx *x, const char *channel)
{
	return route_may(x) && !store_owns(x->d->store, channel);
}

/* A code from another node's reply, as this node's own string. */
static const char *known_code(const char *code)
{
	static const char *const codes[] = {
	        SMM_ERR_INVALID_REQUEST,   SMM_ERR_INVALID_ARGUMENT,
	        SMM_ERR_UNKNOWN_CHANNEL,   SMM_ERR_NOT_FOUND,
	        SMM_ERR_CONFLICT,          SMM_ERR_EXISTS,
	        SMM_ERR_TOO_LATE,          SMM_ERR_PERMISSION,
	        SMM_ERR_SHUTTING_DOWN,     SMM_ERR_INTERNAL,
	        SMM_ERR_STORE_UNAVAILABLE, SMM_ERR_OUTCOME_UNKNOWN,
	        SMM_ERR_UNKNOWN_COMMAND};

	for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return codes[i];
	return SMM_ERR_STANDBY;
}

/* What the node that fires channel answered: a result, or why not. */
struct answer {
	json_t *result;
	const char *code;
	char msg[512];
};

static void read_answer(struct answer *a, const char *channel,
                        const char *reply, const char *why, int maybe)
{
	json_t *o = reply ? json_loads(reply, 0, NULL) : NULL;
	json_t *err = json_object_get(o, "error");

	*a = (struct answer){0};
	if (o && json_is_true(json_object_get(o, "ok"))) {
		json_t *result = json_object_get(o, "result");

		/* Done; a reply without a result (none of ours) lists none. */
		a->result = json_is_object(result) ? json_incref(result)
		                                   : json_object();
		if (a->result == NULL) {
			a->code = SMM_ERR_INTERNAL;
			snprintf(a->msg, sizeof(a->msg), "out of memory");
		}
	} else if (o && err) {
		const char *m =
		        json_string_value(json_object_get(err, "message"));

		a->code = known_code(
		        json_string_value(json_object_get(err, "code")));
		snprintf(a->msg, sizeof(a->msg), "%s", m ? m : "refused");
	} else {
		/* Not done (safe to ask again), or not known to be: look. */
		a->code = maybe ? SMM_ERR_OUTCOME_UNKNOWN : SMM_ERR_STANDBY;
		snprintf(a->msg, sizeof(a->msg),
		         "sent to the node that fires channel '%s': %s",
		         channel, reply ? "its reply cannot be read" : why);
	}
	json_decref(o);
}

/* The request line, from this node's peer, to the node that fires
 * channel; fn(arg, ...) once, from the loop. 0 or -errno. */
static int send_to(struct cmd_ctx *x, const char *cmd, const json_t *args,
                   const char *channel, store_relay_fn *fn, void *arg)
{
	struct store_peer p = {
	        .uid = x->peer ? (long)x->peer->uid : (long)getuid(),
	        .gid = x->peer ? (long)x->peer->gid : (long)getgid(),
	        .readonly = x->peer && x->peer->readonly,
	};
	struct pause_actor who;
	char name[64];
	json_t *o = json_pack("{s:i, s:s, s:o}", "id", 1, "cmd", cmd, "args",
	                      json_deep_copy(args));
	char *line;
	int r;

	/* Named here, where the peer's user is known (cmd_actor). */
	cmd_actor(x, &who, name, sizeof(name));
	json_object_set_new(json_object_get(o, "args"), ROUTE_ACTOR_ARG,
	                    json_string(name));
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (line == NULL)
		return -ENOMEM;
	r = store_relay(x->d->store, &p, line, channel, fn, arg);
	free(line);
	return r;
}

/* One command sent on whole. */
struct routed {
	struct cmd_later *later;
	char *channel;
};

static void on_routed(void *arg, const char *reply, const char *why, int maybe)
{
	struct routed *r = arg;
	struct answer a;

	read_answer(&a, r->channel, reply, why, maybe);
	r->later->finish(r->later, a.result, a.code, a.msg);
	free(r->channel);
	free(r);
}

enum cmd_retval route_command(struct cmd_ctx *x, const char *cmd,
                              const json_t *args, const char *channel)
{
	struct routed *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL || (r->channel = strdup(channel)) == NULL) {
		free(r);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	r->later = x->later;
	if ((rc = send_to(x, cmd, args, channel, on_routed, r)) < 0) {
		free(r->channel);
		free(r);
		return cmd_fail(x, SMM_ERR_STANDBY,
		                "'%s' not done: it goes to the node that fires "
		                "channel '%s', and PostgreSQL %s",
		                cmd, channel,
		                rc == -ENOMEM ? "is out of memory here"
		                              : "is not reachable now");
	}
	return CMD_WAIT;
}

/*
 * A command on several deliveries, each run where its channel is fired
 * (route_split): what every part did, joined under one key.
 */
struct route_fan {
	struct cmd_later *later;
	struct smmd *d;
	route_here_fn *here;
	struct cmd_peer peer; /* who asked, for a part done here later */
	char *key;
	json_t *list;   /* what every part did, joined */
	json_t *fields; /* the first answer's other fields (who, when) */
	int pending;    /* parts out, and the caller's until fan_done */
	int did;        /* a part did something */
	int failed;     /* ... and one could not: */
	int conflict;   /* ... only because nothing was left to do there */
	const char *code;
	char msg[512];
};

/* A part's answer: its list joined, or its error kept (the worst). */
static void fan_part(struct route_fan *f, json_t *result, const char *code,
                     const char *msg)
{
	if (result) {
		json_array_extend(f->list, json_object_get(result, f->key));
		json_object_del(result, f->key);
		json_object_update_missing(f->fields, result);
		json_decref(result);
		f->did = 1;
	} else if (!f->failed ||
	           (f->conflict && strcmp(code, SMM_ERR_CONFLICT) != 0)) {
		f->failed = 1;
		f->conflict = strcmp(code, SMM_ERR_CONFLICT) == 0;
		f->code = code;
		snprintf(f->msg, sizeof(f->msg), "%s", msg);
	}
	f->pending--;
}

/* The joined reply: every part's list, unless one failed for good. */
static json_t *fan_end(struct route_fan *f, const char **code, char *msg,
                       size_t len)
{
	json_t *out = NULL;

	if (!f->failed || (f->conflict && f->did)) {
		out = f->fields;
		json_object_set(out, f->key, f->list);
	} else {
		json_decref(f->fields);
		*code = f->code;
		if (f->did)
			snprintf(msg, len, "done in part (%s: %zu), but: %s",
			         f->key, json_array_size(f->list), f->msg);
		else
			snprintf(msg, len, "%s", f->msg);
	}
	json_decref(f->list);
	free(f->key);
	free(f);
	return out;
}

/* One delivery done here, as a part: its result, or its error. */
static void fan_here(struct route_fan *f, struct cmd_ctx *x, const char *id)
{
	const char *code = SMM_ERR_INTERNAL;
	json_t *result = NULL;
	char msg[512] = "";
	struct cmd_ctx one = *x;

	one.result = &result;
	one.code = &code;
	one.msg = msg;
	one.msglen = sizeof(msg);
	f->pending++;
	if (f->here(&one, id) == CMD_ERROR) {
		json_decref(result);
		result = NULL;
	}
	fan_part(f, result, result ? NULL : code, msg);
}

struct fan_part {
	struct route_fan *f;
	char *channel;
	char *id; /* the delivery */
};

static void on_fan_part(void *arg, const char *reply, const char *why,
                        int maybe)
{
	struct fan_part *p = arg;
	struct route_fan *f = p->f;
	struct answer a;

	read_answer(&a, p->channel, reply, why, maybe);
	/* Not read there yet, so not being fired there: done here, for the
	 * same peer (its own part, counted by fan_here). */
	if (a.result == NULL && strcmp(a.code, SMM_ERR_NOT_FOUND) == 0 &&
	    !f->d->stopping) {
		fan_here(f, &(struct cmd_ctx){.d = f->d, .peer = &f->peer},
		         p->id);
		f->pending--;
	} else
		fan_part(f, a.result, a.code, a.msg);
	free(p->channel);
	free(p->id);
	free(p);
	if (f->pending == 0) {
		struct cmd_later *later = f->later;
		const char *code = NULL;
		char msg[600];
		json_t *out = fan_end(f, &code, msg, sizeof(msg));

		later->finish(later, out, code, msg);
	}
}

static void fan_send(struct route_fan *f, struct cmd_ctx *x, const char *cmd,
                     const char *id)
{
	struct fan_part *p = calloc(1, sizeof(*p));
	const char *channel = postid_channel(id);
	json_t *args = json_pack("{s:s}", "id", id);
	char msg[300];

	f->pending++;
	if (p && args && (p->channel = strdup(channel)) != NULL &&
	    (p->id = strdup(id)) != NULL) {
		p->f = f;
		if (send_to(x, cmd, args, channel, on_fan_part, p) == 0) {
			json_decref(args);
			return;
		}
	}
	json_decref(args);
	if (p) {
		free(p->channel);
		free(p->id);
	}
	free(p);
	snprintf(msg, sizeof(msg),
	         "not done on channel '%s': it goes to the node that fires "
	         "it, and PostgreSQL is not reachable now",
	         channel);
	fan_part(f, NULL, SMM_ERR_STANDBY, msg);
}

/* What state each delivery of id (a post or one delivery) is in now:
 * {delivery: state}, {} if there is no such id, NULL if unreadable. */
json_t *route_states(struct cmd_ctx *x, const char *id)
{
	json_t *shown = NULL, *out, *v;
	size_t i;
	int r;

	if ((r = view_show(x->d->store, id, &shown)) == -ENOENT)
		return json_object();
	if (r < 0 || (out = json_object()) == NULL) {
		json_decref(shown);
		return NULL;
	}
	json_array_foreach (json_object_get(shown, "deliveries"), i, v) {
		json_object_set(out,
		                json_string_value(json_object_get(v, "id")),
		                json_object_get(v, "state"));
	}
	json_decref(shown);
	return out;
}

enum cmd_retval route_split(struct cmd_ctx *x, const char *id, const char *cmd,
                            const char *key, unsigned states,
                            route_here_fn *here)
{
	json_t *before = route_states(x, id), *v;
	struct route_fan *f = NULL;
	const char *did;
	size_t away = 0;
	int state;

	if (before == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "cannot read '%.200s'",
		                id);
	json_object_foreach (before, did, v) {
		state = state_parse(json_string_value(v));
		away += state >= 0 && (DS_BIT(state) & states) &&
		        route_away(x, postid_channel(did));
	}
	/* All here, or nothing to do: as on one node, its words too. */
	if (away == 0) {
		json_decref(before);
		return here(x, id);
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->key = strdup(key)) == NULL ||
	    (f->list = json_array()) == NULL ||
	    (f->fields = json_object()) == NULL) {
		if (f) {
			free(f->key);
			json_decref(f->list);
		}
		free(f);
		json_decref(before);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	f->later = x->later;
	f->d = x->d;
	f->here = here;
	f->peer = x->peer ? *x->peer
	                  : (struct cmd_peer){.uid = getuid(), .gid = getgid()};
	f->pending = 1; /* the caller's, until every part is out */
	json_object_foreach (before, did, v) {
		state = state_parse(json_string_value(v));
		if (state < 0 || !(DS_BIT(state) & states))
			continue; /* nothing to do there */
		if (route_away(x, postid_channel(did)))
			fan_send(f, x, cmd, did);
		else
			fan_here(f, x, did);
	}
	json_decref(before);
	if (--f->pending > 0)
		return CMD_WAIT;
	if ((*x->result = fan_end(f, x->code, x->msg, x->msglen)) == NULL)
		return CMD_ERROR;
	return CMD_DONE;
}
