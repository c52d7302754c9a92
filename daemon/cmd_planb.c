/*
 * Plan B's commands: pause, resume, held, release, skip, audit. Who asks
 * comes from the socket's peer credentials and goes to the audit trail.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
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
#include "postid.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "view.h"
#include "wallclock.h"

#define PAUSE_MAX_SCOPES 64
/* How long a pause's reply waits for its scope's requests under way. */
#define PAUSE_DRAIN_MS      5000
#define PAUSE_DRAIN_POLL_MS 5
#define DRY_RUN_WINDOW_MS   (24 * 60 * 60 * 1000)
#define DRY_RUN_LIMIT       10000

/* The scopes named: "all", "channels", "campaigns". */
struct scopes {
	int kind[PAUSE_MAX_SCOPES];
	const char *name[PAUSE_MAX_SCOPES];
	size_t n;
};

static int scope_named(const struct scopes *s, int kind, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->kind[i] == kind && strcmp(s->name[i], name) == 0)
			return 1;
	return 0;
}

static int scope_list(struct cmd_ctx *x, const char *key, int kind,
                      struct scopes *s)
{
	json_t *arr = json_object_get(x->args, key), *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'%s' must be a list of names", key);
	json_array_foreach (arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0)
			return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
			                "'%s' must hold names", key);
		/* Named twice is meant once: a pause resumed twice is freed
		 * twice. */
		if (scope_named(s, kind, json_string_value(v)))
			continue;
		if (s->n == PAUSE_MAX_SCOPES)
			return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
			                "at most %d scopes at once",
			                PAUSE_MAX_SCOPES);
		if (kind == PAUSE_CHANNEL &&
		    cmd_check_channel(x, json_string_value(v)) < 0)
			return -1;
		s->kind[s->n] = kind;
		s->name[s->n++] = json_string_value(v);
	}
	return 0;
}

/* The request's scopes; none given is an error when required. */
static int scopes_of(struct cmd_ctx *x, struct scopes *s, int required)
{
	int all = 0;

	s->n = 0;
	if (cmd_arg_bool(x, "all", &all) < 0 ||
	    scope_list(x, "channels", PAUSE_CHANNEL, s) < 0 ||
	    scope_list(x, "campaigns", PAUSE_CAMPAIGN, s) < 0)
		return -1;
	if (all && s->n > 0)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "give 'all', or channels and campaigns, not "
		                "both");
	if (all) {
		s->kind[0] = PAUSE_ALL;
		s->name[0] = NULL;
		s->n = 1;
	}
	if (required && s->n == 0)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "what to pause: 'all', 'channels' or "
		                "'campaigns'");
	return 0;
}

/* What a pause would hold in the next 24 hours: --dry-run. */
struct dry_run {
	struct smmd *d;
	const struct pause *ps;
	size_t n;
	int64_t until;
	json_t *ids;
	int truncated;
};

/* Each waiting delivery due before dr->until that a scope covers. */
static void dry_run_one(void *arg, const char *id, int64_t due_ms)
{
	struct dry_run *dr = arg;
	struct delivery_rec rec;
	char due[TIME_RFC3339_LEN];

	if (due_ms >= dr->until)
		return;
	if (json_array_size(dr->ids) == DRY_RUN_LIMIT) {
		dr->truncated = 1;
		return;
	}
	if (store_delivery_load(dr->d->store, id, &rec) < 0)
		return;
	for (size_t i = 0; i < dr->n; i++)
		if (!rec.pass_pause &&
		    pause_covers(&dr->ps[i], rec.channel, rec.campaign)) {
			json_array_append_new(
			        dr->ids,
			        json_pack("{ss ss ss}", "id", rec.id, "channel",
			                  rec.channel, "due",
			                  time_format_rfc3339(due_ms, due)));
			break;
		}
	store_delivery_clear(&rec);
}

static int by_due(const void *a, const void *b)
{
	const char *x = json_string_value(
	                   json_object_get(*(json_t **)a, "due")),
	           *y = json_string_value(
	                   json_object_get(*(json_t **)b, "due"));

	return strcmp(x, y);
}

static enum cmd_retval pause_dry_run(struct cmd_ctx *x, const struct scopes *s)
{
	struct pause ps[PAUSE_MAX_SCOPES];
	struct dry_run dr = {.d = x->d,
	                     .ps = ps,
	                     .n = s->n,
	                     .until = wallclock_now_ms() + DRY_RUN_WINDOW_MS,
	                     .ids = json_array()};
	json_t **sorted, *out;
	size_t n;
	int r;

	for (size_t i = 0; i < s->n; i++)
		ps[i] = (struct pause){.kind = s->kind[i],
		                       .scope = (char *)s->name[i]};
	if ((r = store_for_each_pending(x->d->store, dry_run_one, &dr)) < 0) {
		json_decref(dr.ids);
		return cmd_store_error(x, r, "read");
	}
	/* By due time, as everything else lists deliveries. */
	n = json_array_size(dr.ids);
	if ((sorted = malloc((n + 1) * sizeof(*sorted))) == NULL) {
		json_decref(dr.ids);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(dr.ids, i);
	qsort(sorted, n, sizeof(*sorted), by_due);
	out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(out, sorted[i]);
	free(sorted);
	json_decref(dr.ids);
	*x->result = json_pack("{sb so sb}", "dry_run", 1, "would_hold", out,
	                       "truncated", dr.truncated);
	return CMD_DONE;
}

/* A pause's reply, waiting for the requests under way in its scope. */
struct drain {
	uv_timer_t timer;
	struct smmd *d;
	struct cmd_later *later;
	json_t *result;
	int64_t deadline;
};

static void drain_closed(uv_handle_t *h)
{
	free(h->data);
}

static void drain_check(uv_timer_t *t)
{
	struct drain *w = t->data;
	size_t n = dispatch_paused_in_flight(w->d);

	if (n > 0 && wallclock_now_ms() < w->deadline)
		return;
	/* Requests still under way past the wait: they finish, recorded. */
	json_object_set_new(w->result, "in_flight",
	                    json_integer((json_int_t)n));
	w->later->finish(w->later, w->result, NULL, NULL);
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, drain_closed);
}

static enum cmd_retval reply_after_drain(struct cmd_ctx *x)
{
	size_t n = dispatch_paused_in_flight(x->d);
	struct drain *w;

	if (n == 0 || x->later == NULL || x->later->finish == NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		json_object_set_new(*x->result, "in_flight",
		                    json_integer((json_int_t)n));
		return CMD_DONE;
	}
	w->d = x->d;
	w->later = x->later;
	w->result = *x->result;
	*x->result = NULL;
	w->deadline = wallclock_now_ms() + PAUSE_DRAIN_MS;
	uv_timer_init(x->d->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, drain_check, PAUSE_DRAIN_POLL_MS,
	               PAUSE_DRAIN_POLL_MS);
	return CMD_WAIT;
}

/*
 * Pause each scope of s not paused yet (a plan B scenario may find some
 * paused already: they hold as they are); their JSON to paused. Notices
 * go out once all have begun, so none goes to a channel paused with them.
 */
static int begin_scopes(struct cmd_ctx *x, const struct scopes *s,
                        int64_t until, const char *reason, const char *scenario,
                        const struct pause_actor *who, json_t *paused)
{
	struct pause *begun[PAUSE_MAX_SCOPES], *p;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < s->n; i++) {
		struct pause_rec rec = {
		        .kind = s->kind[i],
		        .scope = s->name[i],
		        .since_ms = wallclock_now_ms(),
		        .until_ms = until,
		        .reason = reason,
		        .scenario = scenario,
		};

		if (pause_find(x->d, s->kind[i], s->name[i]))
			continue;
		if ((r = pause_begin(x->d, &rec, who, &p)) < 0)
			return r;
		json_array_append_new(paused, pause_json(x->d, p));
		begun[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		pause_announce(x->d, begun[i]);
	return 0;
}

static enum cmd_retval cmd_pause(struct cmd_ctx *x)
{
	struct pause_actor who;
	struct scopes s;
	const char *reason = NULL;
	int64_t until = -1, now = wallclock_now_ms();
	int dry = 0, r;
	char name[64];
	json_t *paused;

	if (scopes_of(x, &s, 1) < 0 || cmd_arg_time(x, "until", &until) < 0 ||
	    cmd_arg_string(x, "reason", &reason, 0) < 0 ||
	    cmd_arg_bool(x, "dry_run", &dry) < 0)
		return CMD_ERROR;
	if (until >= 0 && until <= now)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'until' is in the past");
	if (dry)
		return pause_dry_run(x, &s);
	/* All or nothing: refuse before pausing any. */
	for (size_t i = 0; i < s.n; i++)
		if (pause_find(x->d, s.kind[i], s.name[i]))
			return cmd_fail(x, SMM_ERR_CONFLICT,
			                "%s%s%s is paused already",
			                s.name[i] ? "'" : "everything",
			                s.name[i] ? s.name[i] : "",
			                s.name[i] ? "'" : "");
	cmd_actor(x, &who, name, sizeof(name));
	paused = json_array();
	if ((r = begin_scopes(x, &s, until, reason, NULL, &who, paused)) < 0) {
		json_decref(paused);
		return cmd_store_error(x, r, "write");
	}
	*x->result = json_pack("{so}", "paused", paused);
	return reply_after_drain(x);
}

/* "auto", "publish", "skip", "review"; or -1. */
static enum resume_policy resume_policy_parse(const char *s)
{
	static const char *const policies[] = {"auto", "publish", "skip",
	                                       "review"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, policies[i]) == 0)
			return (enum resume_policy)i;
	return (enum resume_policy) - 1;
}

/* The request's "policy" (absent: auto). 0, or -1 with the error set. */
static int arg_policy(struct cmd_ctx *x, const char *policy,
                      enum resume_policy *pol)
{
	*pol = RESUME_AUTO;
	if (policy &&
	    (*pol = resume_policy_parse(policy)) == (enum resume_policy) - 1)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'policy' is auto, publish, skip or review, "
		                "not '%s'",
		                policy);
	return 0;
}

static enum cmd_retval cmd_resume(struct cmd_ctx *x)
{
	struct pause_actor who;
	struct scopes s;
	const char *policy = NULL, *reason = NULL;
	enum resume_policy pol = RESUME_AUTO;
	struct pause *chosen[PAUSE_MAX_SCOPES];
	size_t n = 0;
	char name[64];
	json_t *resumed;

	if (scopes_of(x, &s, 0) < 0 ||
	    cmd_arg_string(x, "policy", &policy, 0) < 0 ||
	    cmd_arg_string(x, "reason", &reason, 0) < 0)
		return CMD_ERROR;
	if (arg_policy(x, policy, &pol) < 0)
		return CMD_ERROR;
	/* No scope: every pause. */
	for (size_t i = 0; i < s.n; i++)
		if ((chosen[n++] = pause_find(x->d, s.kind[i], s.name[i])) ==
		    NULL)
			return cmd_fail(x, SMM_ERR_NOT_FOUND,
			                "%s%s%s is not paused",
			                s.name[i] ? "'" : "everything",
			                s.name[i] ? s.name[i] : "",
			                s.name[i] ? "'" : "");
	/* Only `smmctl auth` ends a channel's wait for its credentials. */
	for (size_t i = 0;
	     s.n == 0 && i < pauses_count(x->d) && n < PAUSE_MAX_SCOPES; i++)
		if (pause_at(x->d, i)->kind != PAUSE_AUTH)
			chosen[n++] = pause_at(x->d, i);
	if (n == 0)
		return cmd_fail(x, SMM_ERR_CONFLICT, "nothing is paused");
	cmd_actor(x, &who, name, sizeof(name));
	resumed = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *one = json_object();
		int r = pause_resume(x->d, chosen[i], pol, &who, reason, one);

		if (r < 0) {
			json_decref(one);
			json_decref(resumed);
			return cmd_store_error(x, r, "write");
		}
		json_array_append_new(resumed, one);
	}
	*x->result = json_pack("{so}", "resumed", resumed);
	return CMD_DONE;
}

static void held_row_json(void *arg, const struct held_row *h)
{
	char due[TIME_RFC3339_LEN], since[TIME_RFC3339_LEN];

	json_array_append_new(
	        arg,
	        json_pack("{ss ss so ss ss sI so}", "id", h->id, "channel",
	                  h->channel, "campaign",
	                  h->campaign ? json_string(h->campaign) : json_null(),
	                  "due", time_format_rfc3339(h->due_ms, due),
	                  "held_since",
	                  time_format_rfc3339(h->updated_ms, since), "pause",
	                  (json_int_t)h->held_by, "reason",
	                  h->reason ? json_string(h->reason) : json_null()));
}

/*
 * held and audit: every row, tens of thousands in a long pause, read off
 * the loop (cmd_read.c).
 */
struct rows_job {
	struct cmd_read base; /* first: the job is freed as this */
	int64_t since;
};

static void rows_job_free(struct cmd_read *base)
{
	free(base);
}

static enum cmd_retval rows_later(struct cmd_ctx *x, int64_t since,
                                  enum cmd_retval (*run)(struct cmd_ctx *,
                                                         struct store *,
                                                         struct cmd_read *))
{
	struct rows_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	j->base.run = run;
	j->base.free = rows_job_free;
	j->since = since;
	return cmd_read_later(x, &j->base);
}

static enum cmd_retval held_read(struct cmd_ctx *x, struct store *s,
                                 struct cmd_read *base)
{
	json_t *rows = json_array();
	int r;

	(void)base;
	if ((r = store_held_rows(s, 0, held_row_json, rows)) < 0) {
		json_decref(rows);
		return cmd_store_error(x, r, "read");
	}
	*x->result = json_pack("{so}", "held", rows);
	return CMD_DONE;
}

static enum cmd_retval cmd_held(struct cmd_ctx *x)
{
	return rows_later(x, 0, held_read);
}

/*
 * Whether id (a delivery, or a post) has a delivery held awaiting an
 * approval: its id into out. Only an approval lets such a one go.
 */
static int awaiting_held(struct cmd_ctx *x, const char *id, char *out,
                         size_t len)
{
	json_t *shown = NULL, *v;
	size_t i;
	int found = 0;

	if (view_show(x->d->store, id, &shown) < 0)
		return 0; /* the settle itself says what is wrong */
	json_array_foreach (json_object_get(shown, "deliveries"), i, v) {
		json_t *approval = json_object_get(v, "approval");
		const char *state =
		        json_string_value(json_object_get(v, "state"));

		if (!found && state && strcmp(state, "held") == 0 &&
		    json_is_false(json_object_get(approval, "approved"))) {
			snprintf(out, len, "%s",
			         json_string_value(json_object_get(v, "id")));
			found = 1;
		}
	}
	json_decref(shown);
	return found;
}

/* release and skip: one held delivery, or every held one of a post. */
static enum cmd_retval settle(struct cmd_ctx *x, int publish)
{
	const char *id, *action = publish ? "release" : "skip";
	struct pause_actor who;
	char name[64], why[160], waiting[POSTID_MAX * 2 + 2];
	json_t *detail;
	int r;

	if (cmd_arg_string(x, "id", &id, 1) < 0)
		return CMD_ERROR;
	if (publish && awaiting_held(x, id, waiting, sizeof(waiting)))
		return cmd_fail(x, SMM_ERR_CONFLICT,
		                "'%s' is held awaiting approval: 'smmctl "
		                "approve' lets it go (or skip it)",
		                waiting);
	cmd_actor(x, &who, name, sizeof(name));
	snprintf(why, sizeof(why), "%s by hand by %s",
	         publish ? "released" : "skipped", who.user);
	r = pause_settle(x->d, id, publish, why, publish, wallclock_now_ms());
	if (r == -EALREADY)
		return cmd_fail(x, SMM_ERR_CONFLICT, "'%s' is not held", id);
	if (r < 0)
		return cmd_store_error(x, r, "write");
	detail = json_pack("{ss sI}", "id", id, "deliveries", (json_int_t)r);
	pause_audit(x->d, &who, action, NULL, NULL, detail);
	json_decref(detail);
	*x->result = json_pack("{sI}", publish ? "released" : "skipped",
	                       (json_int_t)r);
	return CMD_DONE;
}

static enum cmd_retval cmd_release(struct cmd_ctx *x)
{
	return settle(x, 1);
}

static enum cmd_retval cmd_skip(struct cmd_ctx *x)
{
	return settle(x, 0);
}

static void audit_row_json(void *arg, const struct audit_rec *a)
{
	char t[TIME_RFC3339_LEN];
	json_t *detail = a->detail ? json_loads(a->detail, 0, NULL) : NULL;

	json_array_append_new(
	        arg,
	        json_pack("{ss so so ss so so so}", "time",
	                  time_format_rfc3339(a->time_ms, t), "uid",
	                  a->uid >= 0 ? json_integer(a->uid) : json_null(),
	                  "user", a->user ? json_string(a->user) : json_null(),
	                  "action", a->action, "scope",
	                  a->scope ? json_string(a->scope) : json_null(),
	                  "reason",
	                  a->reason ? json_string(a->reason) : json_null(),
	                  "detail", detail ? detail : json_null()));
}

static enum cmd_retval audit_read(struct cmd_ctx *x, struct store *s,
                                  struct cmd_read *base)
{
	json_t *rows = json_array();
	int r;

	r = store_audit_rows(s, ((struct rows_job *)base)->since,
	                     audit_row_json, rows);
	if (r < 0) {
		json_decref(rows);
		return cmd_store_error(x, r, "read");
	}
	*x->result = json_pack("{so}", "audit", rows);
	return CMD_DONE;
}

static enum cmd_retval cmd_audit(struct cmd_ctx *x)
{
	int64_t since = 0;

	if (cmd_arg_time(x, "since", &since) < 0)
		return CMD_ERROR;
	return rows_later(x, since, audit_read);
}

/* ---- plan B scenarios (the calendar's planb:) ------------------------ */

/* The scenario the request names, or NULL with the error reply set. */
static json_t *scenario_of(struct cmd_ctx *x, const char **name)
{
	json_t *sc;
	const char *k;
	char known[512] = "";
	size_t n = 0;

	if (cmd_arg_string(x, "scenario", name, 1) < 0)
		return NULL;
	if ((sc = json_object_get(x->d->planb, *name)) != NULL)
		return sc;
	json_object_foreach (x->d->planb, k, sc)
		n += (size_t)snprintf(known + n,
		                      n < sizeof(known) ? sizeof(known) - n : 0,
		                      "%s%s", n ? ", " : "", k);
	cmd_fail(x, SMM_ERR_NOT_FOUND,
	         "no plan B scenario '%s' in the calendar (%s%s)", *name,
	         known[0] ? "known: " : "none defined", known);
	return NULL;
}

/* Whether the peer may activate sc: root, or a user or group it names. */
static int approved(const struct pause_actor *who, json_t *sc)
{
	json_t *approvers = json_object_get(sc, "approvers"), *v;
	gid_t groups[256];
	int ngroups = 256;
	struct passwd *pw;
	size_t i;

	if (json_array_size(approvers) == 0 || who->uid == 0)
		return 1;
	json_array_foreach (approvers, i, v)
		if (strcmp(json_string_value(v), who->user) == 0)
			return 1;
	if ((pw = getpwuid((uid_t)who->uid)) == NULL ||
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
		return 0;
	for (int g = 0; g < ngroups; g++) {
		struct group *gr = getgrgid(groups[g]);

		json_array_foreach (approvers, i, v)
			if (gr &&
			    strcmp(json_string_value(v), gr->gr_name) == 0)
				return 1;
	}
	return 0;
}

/*
 * Queue the statement on channel now, its variant text if it has one: a
 * post of source "planb", which no pause holds. Appends its delivery id.
 */
static int statement_post(struct cmd_ctx *x, json_t *sc, const char *channel,
                          json_t *ids)
{
	const char *text = json_string_value(json_object_get(
	        json_object_get(json_object_get(sc, "variants"), channel),
	        "text"));
	const json_t *media = json_object_get(sc, "media");
	json_t *empty = json_array();
	const char *chans[1] = {channel};
	char did[POSTID_GEN_LEN + 16 + 130];
	int r = dispatch_post_now(
	        x->d, "planb",
	        &(struct post_new){
	                .source = "planb",
	                .text = text ? text
	                             : json_string_value(
	                                       json_object_get(sc, "text")),
	                .link = json_string_value(json_object_get(sc, "link")),
	                .media = media ? media : empty,
	                .channels = chans,
	                .nchannels = 1,
	        },
	        1, did, sizeof(did));

	json_decref(empty);
	if (r == 0)
		json_array_append_new(ids, json_string(did));
	return r;
}

static enum cmd_retval cmd_planb_list(struct cmd_ctx *x)
{
	json_t *all = x->d->planb ? json_incref(x->d->planb) : json_object();

	*x->result = json_pack("{so}", "scenarios", all);
	return CMD_DONE;
}

/* A scenario's pause as scopes: all, or its channels or campaigns. */
static void scenario_scopes(json_t *sc, struct scopes *s)
{
	json_t *pause = json_object_get(sc, "pause"), *list, *v;
	int kind = PAUSE_CHANNEL;
	size_t i;

	s->n = 0;
	if ((list = json_object_get(pause, "channels")) == NULL) {
		list = json_object_get(pause, "campaigns");
		kind = PAUSE_CAMPAIGN;
	}
	if (list == NULL) {
		s->kind[s->n] = PAUSE_ALL;
		s->name[s->n++] = NULL;
		return;
	}
	json_array_foreach (list, i, v)
		if (s->n < PAUSE_MAX_SCOPES) {
			s->kind[s->n] = kind;
			s->name[s->n++] = json_string_value(v);
		}
}

/* activate and drill: the statement, with (activate) or without a pause. */
static enum cmd_retval planb_run(struct cmd_ctx *x, int drill)
{
	struct pause_actor who;
	struct scopes s;
	const char *name, *reason = NULL;
	json_t *sc, *paused, *ids, *detail, *v;
	char uname[64], outcome[96];
	size_t i;
	int r;

	if ((sc = scenario_of(x, &name)) == NULL ||
	    cmd_arg_string(x, "reason", &reason, 0) < 0)
		return CMD_ERROR;
	cmd_actor(x, &who, uname, sizeof(uname));
	if (!drill && !approved(&who, sc))
		return cmd_fail(x, SMM_ERR_PERMISSION,
		                "permission denied: only the approvers of plan "
		                "B scenario '%s' may activate it",
		                name);
	if (drill && x->d->cfg->drill_channel == NULL)
		return cmd_fail(x, SMM_ERR_CONFLICT,
		                "no drill_channel in smmd.yaml: nowhere to "
		                "rehearse");
	paused = json_array();
	ids = json_array();
	scenario_scopes(sc, &s);
	if (!drill && (r = begin_scopes(x, &s, -1, reason ? reason : name, name,
	                                &who, paused)) < 0) {
		json_decref(paused);
		json_decref(ids);
		return cmd_store_error(x, r, "write");
	}
	if (drill)
		r = statement_post(x, sc, x->d->cfg->drill_channel, ids);
	else
		json_array_foreach (json_object_get(sc, "channels"), i, v)
			if ((r = statement_post(x, sc, json_string_value(v),
			                        ids)) < 0)
				break;
	detail = json_pack("{ss ss sO sO}", "scenario", name, "severity",
	                   json_string_value(json_object_get(sc, "severity")),
	                   "paused", paused, "statement", ids);
	/* A half-done activation is audited too: its pauses stand. */
	if (r < 0)
		json_object_set_new(detail, "error",
		                    json_string("the statement could not be "
		                                "queued on every channel"));
	pause_audit(x->d, &who, drill ? "planb drill" : "planb activate", name,
	            reason, detail);
	json_decref(detail);
	if (r < 0) {
		json_decref(paused);
		json_decref(ids);
		return cmd_store_error(x, r, "write");
	}
	snprintf(outcome, sizeof(outcome),
	         "%zu paused, statement on %zu channels",
	         json_array_size(paused), json_array_size(ids));
	events_scope(x->d->events, &(struct scope_event){
	                                   .kind = drill ? EV_PLANB_DRILLED
	                                                 : EV_PLANB_ACTIVATED,
	                                   .scope = name,
	                                   .by = who.user,
	                                   .uid = who.uid,
	                                   .reason = reason,
	                                   .outcome = outcome,
	                                   .level = LOG_LEVEL_WARNING,
	                           });
	*x->result =
	        json_pack("{ss ss sb so so}", "scenario", name, "severity",
	                  json_string_value(json_object_get(sc, "severity")),
	                  "drill", drill, "paused", paused, "statement", ids);
	return drill ? CMD_DONE : reply_after_drain(x);
}

static enum cmd_retval cmd_planb_activate(struct cmd_ctx *x)
{
	return planb_run(x, 0);
}

static enum cmd_retval cmd_planb_drill(struct cmd_ctx *x)
{
	return planb_run(x, 1);
}

/* end: resume every pause a scenario made. */
static enum cmd_retval cmd_planb_end(struct cmd_ctx *x)
{
	struct pause *chosen[PAUSE_MAX_SCOPES];
	struct pause_actor who;
	const char *policy = NULL, *reason = NULL;
	enum resume_policy pol = RESUME_AUTO;
	json_t *resumed;
	char uname[64], outcome[64];
	size_t n = 0;

	if (cmd_arg_string(x, "policy", &policy, 0) < 0 ||
	    cmd_arg_string(x, "reason", &reason, 0) < 0)
		return CMD_ERROR;
	if (arg_policy(x, policy, &pol) < 0)
		return CMD_ERROR;
	for (size_t i = 0; i < pauses_count(x->d) && n < PAUSE_MAX_SCOPES; i++)
		if (pause_at(x->d, i)->scenario)
			chosen[n++] = pause_at(x->d, i);
	if (n == 0)
		return cmd_fail(x, SMM_ERR_CONFLICT,
		                "no plan B scenario is active");
	cmd_actor(x, &who, uname, sizeof(uname));
	resumed = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *one = json_object();

		if (pause_resume(x->d, chosen[i], pol, &who, reason, one) < 0) {
			json_decref(one);
			json_decref(resumed);
			outage_begin(x->d);
			return cmd_store_error(x, -EIO, "write");
		}
		json_array_append_new(resumed, one);
	}
	pause_audit(x->d, &who, "planb end", NULL, reason, NULL);
	snprintf(outcome, sizeof(outcome), "%zu pauses resumed", n);
	events_scope(x->d->events, &(struct scope_event){
	                                   .kind = EV_PLANB_ENDED,
	                                   .scope = "plan B",
	                                   .by = who.user,
	                                   .uid = who.uid,
	                                   .reason = reason,
	                                   .outcome = outcome,
	                                   .level = LOG_LEVEL_WARNING,
	                           });
	*x->result = json_pack("{so}", "resumed", resumed);
	return CMD_DONE;
}

json_t *cmd_pauses_json(struct smmd *d)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < pauses_count(d); i++)
		json_array_append_new(arr, pause_json(d, pause_at(d, i)));
	return arr;
}

const struct cmd_entry cmd_pause_entry = {
        "pause", CMD_WRITE | CMD_ADMIN, cmd_pause,
        "hold every delivery of a scope that falls due; reply once none "
        "of it is under way"};
const struct cmd_entry cmd_resume_entry = {
        "resume", CMD_WRITE | CMD_ADMIN, cmd_resume,
        "end pauses; publish, skip or keep what they held"};
const struct cmd_entry cmd_held_entry = {"held", CMD_OFFLOOP, cmd_held,
                                         "the held deliveries"};
const struct cmd_entry cmd_release_entry = {
        "release", CMD_WRITE | CMD_ADMIN, cmd_release,
        "publish a held delivery now, past any pause"};
const struct cmd_entry cmd_skip_entry = {"skip", CMD_WRITE | CMD_ADMIN,
                                         cmd_skip,
                                         "do not publish a held delivery"};
const struct cmd_entry cmd_audit_entry = {
        "audit", CMD_OFFLOOP, cmd_audit,
        "who paused, resumed, released and skipped what"};
const struct cmd_entry cmd_planb_list_entry = {
        "planb_list", 0, cmd_planb_list, "the calendar's plan B scenarios"};
const struct cmd_entry cmd_planb_activate_entry = {
        "planb_activate", CMD_WRITE | CMD_ADMIN, cmd_planb_activate,
        "pause a scenario's scope and publish its statement"};
const struct cmd_entry cmd_planb_drill_entry = {
        "planb_drill", CMD_WRITE | CMD_ADMIN, cmd_planb_drill,
        "publish a scenario's statement on the drill channel only"};
const struct cmd_entry cmd_planb_end_entry = {
        "planb_end", CMD_WRITE | CMD_ADMIN, cmd_planb_end,
        "resume what plan B scenarios paused"};
