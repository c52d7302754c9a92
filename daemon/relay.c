/* Commands relayed from a standby to the working node (relay.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "proto.h"
#include "relay.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"

static void relayed(void *arg, const char *reply, const char *why, int maybe)
{
	struct cmd_later *later = arg;
	char msg[512];
	char *line;

	if (reply != NULL && (line = strdup(reply)) != NULL) {
		later->finish_line(later, line, strlen(line));
		return;
	}
	snprintf(msg, sizeof(msg),
	         "relayed from this standby to the node that works: %s",
	         reply ? "out of memory" : why);
	/* Not done (safe to ask again), or not known to be: look first. */
	later->finish(later, NULL,
	              maybe ? SMM_ERR_OUTCOME_UNKNOWN : SMM_ERR_STANDBY, msg);
}

enum cmd_retval relay_command(struct cmd_ctx *x,
                              const struct proto_request *req)
{
	struct store_peer p = {
	        .uid = x->peer ? (long)x->peer->uid : (long)getuid(),
	        .gid = x->peer ? (long)x->peer->gid : (long)getgid(),
	        .readonly = x->peer && x->peer->readonly,
	};
	json_t *o = json_pack("{s:I, s:s, s:O}", "id", req->id, "cmd", req->cmd,
	                      "args", req->args);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r;

	json_decref(o);
	if (line == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	r = store_relay(x->d->store, &p, line, NULL, relayed, x->later);
	free(line);
	if (r == -ENOTSUP)
		return cmd_fail(x, SMM_ERR_STANDBY,
		                "'%s' refused: this node is a standby, and its "
		                "store relays nothing",
		                req->cmd);
	if (r == -ENOTCONN)
		return cmd_fail(x, SMM_ERR_STANDBY,
		                "'%s' not done: this standby relays it to the "
		                "node that works through PostgreSQL, which is "
		                "not reachable now",
		                req->cmd);
	if (r < 0)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	return CMD_WAIT;
}

/* A relayed request the working node runs, until its reply is stored. */
struct served {
	struct smmd *d;
	int64_t id;
};

static void answered(void *arg, const char *line, size_t len)
{
	struct served *s = arg;

	(void)len;
	store_relay_answer(s->d->store, s->id, line);
	free(s);
}

/* Stopping: the request is refused, said so, rather than left to time
 * out as "may have been done". */
static void refuse(struct smmd *d, int64_t id, const char *line)
{
	struct proto_request req = {0};
	const char *code = NULL;
	char msg[256], *reply;
	size_t len;

	proto_parse_request(line, strlen(line), &req, &code, msg, sizeof(msg));
	reply = proto_reply_error(req.id, SMM_ERR_SHUTTING_DOWN,
	                          "the node that works is shutting down: "
	                          "not done",
	                          &len);
	proto_request_clear(&req);
	if (reply)
		store_relay_answer(d->store, id, reply);
	free(reply);
}

static void on_request(void *arg, int64_t id, const struct store_peer *p,
                       const char *line)
{
	struct smmd *d = arg;
	struct cmd_peer peer = {.uid = (uid_t)p->uid,
	                        .gid = (gid_t)p->gid,
	                        .readonly = p->readonly,
	                        .routed = p->routed};
	struct served *s;

	if (d->control == NULL || d->stopping) {
		refuse(d, id, line);
		return;
	}
	if ((s = malloc(sizeof(*s))) == NULL) {
		log_warnx("control: out of memory for a relayed request");
		return; /* the standby says it may have been done */
	}
	*s = (struct served){.d = d, .id = id};
	if (control_relay(d->control, &peer, line, strlen(line), answered, s) <
	    0) {
		free(s);
		log_warnx("control: out of memory for a relayed request");
	}
}

void relay_serve(struct smmd *d)
{
	store_relays_serve(d->store, on_request, d); /* -ENOTSUP: SQLite */
}
