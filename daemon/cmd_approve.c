/*
 * approve: a member of approvers_group (or root) signs a post off, or one
 * delivery of it. A draft becomes scheduled; one held awaiting approval
 * goes out now if it is no later than its channel's max_lateness, else it
 * stays held for release or skip. Who approved is the socket peer's
 * credentials, recorded on each delivery, in the audit trail and the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "outage.h"
#include "pause.h"
#include "peergroup.h"
#include "route.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

/* What store_approve reported, copied for after the call. */
struct approved {
	char *id;
	char *channel;
	char *by; /* who approved it before, if it was */
	int state;
	int64_t due_ms;
	int needs;
	int64_t before_ms;
	int now;
};

struct approved_list {
	struct approved *v;
	size_t n, cap;
	int oom;
};

static void collect(void *arg, const struct approval_row *r)
{
	struct approved_list *l = arg;
	struct approved *a;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct approved *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			l->oom = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	a = &l->v[l->n++];
	*a = (struct approved){
	        .id = strdup(r->id),
	        .channel = strdup(r->channel),
	        .by = r->approved_by_user ? strdup(r->approved_by_user) : NULL,
	        .state = r->state,
	        .due_ms = r->due_ms,
	        .needs = r->needs_approval,
	        .before_ms = r->approved_ms,
	        .now = r->approved,
	};
	if (a->id == NULL || a->channel == NULL)
		l->oom = 1;
}

static void approved_free(struct approved_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].channel);
		free(l->v[i].by);
	}
	free(l->v);
}

/* Root always; else a member of approvers_group, by the peer's uid. */
static int may_approve(const struct cmd_ctx *x)
{
	const struct config *cfg = x->d->cfg;
	uid_t uid = x->peer ? x->peer->uid : getuid();
	gid_t gid = x->peer ? x->peer->gid : getgid();

	if (uid == 0)
		return 1;
	return cfg->approvers_group &&
	       peergroup_has(uid, gid, cfg->approvers_gid);
}

/* Nothing was approved: say why, from what the id names. */
static enum cmd_retval none_approved(struct cmd_ctx *x, const char *id,
                                     const struct approved_list *l)
{
	char at[TIME_RFC3339_LEN];

	for (size_t i = 0; i < l->n; i++) {
		const struct approved *a = &l->v[i];

		if (a->needs && a->before_ms >= 0)
			return cmd_fail(
			        x, SMM_ERR_CONFLICT,
			        "'%s' is approved already (by %s at %s)", a->id,
			        a->by ? a->by : "?",
			        time_format_rfc3339(a->before_ms, at));
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct approved *a = &l->v[i];

		if (a->needs)
			return cmd_fail(x, SMM_ERR_CONFLICT,
			                "'%s' cannot be approved: it is %s",
			                a->id, state_name(a->state));
	}
	return cmd_fail(x, SMM_ERR_CONFLICT,
	                "'%s' needs no approval: its channel%s %s not "
	                "require_approval",
	                id, l->n == 1 ? "" : "s", l->n == 1 ? "does" : "do");
}

/*
 * An approved delivery that was held awaiting approval: out now if it is
 * no later than its channel's max_lateness (a pause may still hold it:
 * an approval is not a release), else held for release or skip. Its
 * reply entry says which.
 */
static void let_go(struct cmd_ctx *x, const struct approved *a,
                   const char *user, int64_t now, json_t *entry)
{
	const struct channel *ch = config_channel(x->d->cfg, a->channel);
	int64_t max = ch ? ch->max_lateness_ms : 60 * 60 * 1000;
	char why[256], late[32], limit[32];
	int r;

	if (now - a->due_ms <= max) {
		snprintf(why, sizeof(why), "approved by %s, released", user);
		r = pause_settle(x->d, a->id, 1, why, 0, now);
		json_object_set_new(entry, "state",
		                    json_string(r > 0 ? "scheduled" : "held"));
		json_object_set_new(entry, "released", json_boolean(r > 0));
		return;
	}
	snprintf(why, sizeof(why),
	         "approved by %s %s late, more than max_lateness (%s): held "
	         "for release or skip",
	         user, duration_format(now - a->due_ms, late, sizeof(late)),
	         duration_format(max, limit, sizeof(limit)));
	r = store_transition(x->d->store,
	                     &(struct transition){.id = a->id,
	                                          .from = DS_BIT(DS_HELD),
	                                          .to = DS_HELD,
	                                          .reason = why,
	                                          .next_ms = -1,
	                                          .now_ms = now},
	                     NULL);
	/* The approval stands; the store's failure is outage.c's to tell. */
	if (r < 0 && r != -EALREADY && r != -ENOENT)
		outage_begin(x->d);
	json_object_set_new(entry, "state", json_string("held"));
	json_object_set_new(entry, "released", json_false());
	json_object_set_new(entry, "too_late", json_string(why));
}

/* Approve id (a post or one delivery) here, for x's peer. */
static enum cmd_retval approve_here(struct cmd_ctx *x, const char *id)
{
	struct approved_list l = {0};
	struct pause_actor who;
	char name[64], reason[128], at[TIME_RFC3339_LEN];
	int64_t now = wallclock_now_ms();
	json_t *out, *ids, *detail;
	int r;

	cmd_actor(x, &who, name, sizeof(name));
	r = store_approve(x->d->store, id,
	                  &(struct approval){.uid = who.uid,
	                                     .user = who.user,
	                                     .now_ms = now},
	                  collect, &l);
	if (r >= 0 && l.oom)
		r = -ENOMEM;
	if (r == -ENOENT)
		snprintf(x->msg, x->msglen, "no post or delivery '%.200s'", id);
	if (r == 0)
		none_approved(x, id, &l);
	if (r <= 0) {
		approved_free(&l);
		return r == 0 ? CMD_ERROR : cmd_store_error(x, r, "write");
	}
	snprintf(reason, sizeof(reason), "by %s (uid %ld)", who.user, who.uid);
	out = json_array();
	ids = json_array();
	for (size_t i = 0; i < l.n; i++) {
		const struct approved *a = &l.v[i];
		int to = a->state == DS_DRAFT ? DS_SCHEDULED : a->state;
		json_t *entry;

		if (!a->now)
			continue;
		events_emit(
		        x->d->events,
		        &(struct delivery_event){
		                .kind = EV_APPROVED,
		                .origin = EVO_CONTROL,
		                .id = a->id,
		                .from = a->state,
		                .to = (enum delivery_state)to,
		                .next_ms = to == DS_SCHEDULED ? a->due_ms : -1,
		                .latency_ms = -1,
		                .reason = reason,
		        });
		entry = json_pack("{ss ss}", "id", a->id, "state",
		                  state_name(to));
		if (a->state == DS_HELD)
			let_go(x, a, who.user, now, entry);
		json_array_append_new(out, entry);
		json_array_append_new(ids, json_string(a->id));
	}
	approved_free(&l);
	detail = json_pack("{ss so}", "id", id, "deliveries", ids);
	pause_audit(x->d, &who, "approve", NULL, NULL, detail);
	json_decref(detail);
	*x->result = json_pack("{so ss sI ss}", "approved", out, "by", who.user,
	                       "uid", (json_int_t)who.uid, "at",
	                       time_format_rfc3339(now, at));
	return CMD_DONE;
}

static enum cmd_retval cmd_approve(struct cmd_ctx *x)
{
	struct pause_actor who;
	char name[64];
	const char *id;

	if (cmd_arg_string(x, "id", &id, 1) < 0)
		return CMD_ERROR;
	/* Routed here by the node asked (route.h), which checked: the
	 * group is that node's configuration's, and its machine's. */
	if (!(x->peer && x->peer->routed) && !may_approve(x)) {
		cmd_actor(x, &who, name, sizeof(name));
		return cmd_fail(
		        x, SMM_ERR_PERMISSION,
		        "permission denied: only root%s%s%s may approve "
		        "posts, and uid %ld is not",
		        x->d->cfg->approvers_group
		                ? " and the members of approvers_group '"
		                : "",
		        x->d->cfg->approvers_group ? x->d->cfg->approvers_group
		                                   : "",
		        x->d->cfg->approvers_group ? "'" : "", who.uid);
	}
	/*
	 * Beside workers: each delivery where its channel is fired, whose
	 * gate may be holding the draft at its time that moment; two nodes
	 * writing the row would have one's group refused (route.h).
	 */
	if (route_may(x))
		return route_split(x, id, "approve", "approved",
		                   DS_BIT(DS_DRAFT) | DS_BIT(DS_HELD),
		                   approve_here);
	return approve_here(x, id);
}

const struct cmd_entry cmd_approve_entry = {
        .name = "approve",
        .flags = CMD_WRITE | CMD_ADMIN,
        .run = cmd_approve,
        .help = "approve a post's drafts (approvers_group or root only)",
};
