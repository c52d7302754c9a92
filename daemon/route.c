/* Commands on a delivery, run where its channel is fired (route.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "route.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"

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
		a->result = json_incref(json_object_get(o, "result"));
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
	json_t *o =
	        json_pack("{s:i, s:s, s:O}", "id", 1, "cmd", cmd, "args", args);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r;

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

struct route_fan {
	struct cmd_later *later;
	struct smmd *d;
	route_local_fn *local;
	char *key;
	json_t *list; /* what every part did, joined */
	int pending;  /* parts out, and the caller's until route_fan_done */
	int did;      /* a part did something */
	int failed;   /* ... and one could not: */
	int conflict; /* ... only because nothing was left to do there */
	const char *code;
	char msg[512];
};

/* A part's answer: its list joined, or its error kept (the worst). */
static void fan_part(struct route_fan *f, json_t *result, const char *code,
                     const char *msg)
{
	if (result) {
		json_array_extend(f->list, json_object_get(result, f->key));
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
		out = json_pack("{s:O}", f->key, f->list);
	} else {
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

struct fan_part {
	struct route_fan *f;
	char *channel;
	char *id; /* the delivery */
};

/* A part its node does not know yet: done here (route_local_fn). */
static void run_here(struct route_fan *f, const char *id, struct answer *a)
{
	const char *code = SMM_ERR_INTERNAL;
	json_t *result = NULL;
	struct cmd_ctx x = {.d = f->d,
	                    .result = &result,
	                    .code = &code,
	                    .msg = a->msg,
	                    .msglen = sizeof(a->msg)};

	a->msg[0] = '\0';
	a->result = f->local(&x, id);
	a->code = a->result ? NULL : code;
}

static void on_fan_part(void *arg, const char *reply, const char *why,
                        int maybe)
{
	struct fan_part *p = arg;
	struct route_fan *f = p->f;
	struct answer a;

	read_answer(&a, p->channel, reply, why, maybe);
	if (a.result == NULL && strcmp(a.code, SMM_ERR_NOT_FOUND) == 0 &&
	    f->local && !f->d->stopping)
		run_here(f, p->id, &a);
	free(p->channel);
	free(p->id);
	free(p);
	fan_part(f, a.result, a.code, a.msg);
	if (f->pending == 0) {
		struct cmd_later *later = f->later;
		const char *code = NULL;
		char msg[600];
		json_t *out = fan_end(f, &code, msg, sizeof(msg));

		later->finish(later, out, code, msg);
	}
}

struct route_fan *route_fan_new(struct cmd_ctx *x, const char *key,
                                route_local_fn *local)
{
	struct route_fan *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->key = strdup(key)) == NULL ||
	    (f->list = json_array()) == NULL) {
		if (f)
			free(f->key);
		free(f);
		return NULL;
	}
	f->later = x->later;
	f->d = x->d;
	f->local = local;
	f->pending = 1; /* the caller's */
	return f;
}

void route_fan_send(struct route_fan *f, struct cmd_ctx *x, const char *cmd,
                    const json_t *args, const char *channel)
{
	struct fan_part *p = calloc(1, sizeof(*p));
	const char *id = json_string_value(json_object_get(args, "id"));
	char msg[300];

	f->pending++;
	if (p && (p->channel = strdup(channel)) != NULL &&
	    (p->id = strdup(id ? id : "")) != NULL) {
		p->f = f;
		if (send_to(x, cmd, args, channel, on_fan_part, p) == 0)
			return;
	}
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

void route_fan_add(struct route_fan *f, json_t *result, const char *code,
                   const char *msg)
{
	f->pending++;
	fan_part(f, result, code, msg);
}

enum cmd_retval route_fan_done(struct cmd_ctx *x, struct route_fan *f)
{
	json_t *out;

	if (--f->pending > 0)
		return CMD_WAIT;
	out = fan_end(f, x->code, x->msg, x->msglen);
	if (out == NULL)
		return CMD_ERROR;
	*x->result = out;
	return CMD_DONE;
}
