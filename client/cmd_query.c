/* cmd_query: the commands that look: list show status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "states.h"
#include "timeparse.h"

/* The aligned table of "list": one delivery a line, for 80 columns. */
static void cmd_query_print_list(const json_t *deliveries)
{
	size_t i, idw = strlen("DELIVERY"), w;
	int textw, cols = ctl_columns();
	const json_t *d;
	const char *id, *text, *state;
	char due[32];

	json_array_foreach (deliveries, i, d) {
		id = ctl_str(d, "id");
		if (id != NULL && (w = ctl_cols(id)) > idw)
			idw = w;
	}
	/* DUE(19) STATE(10) ATTEMPTS(8) DELIVERY TEXT, two spaces apart. */
	textw = cols - (19 + 2 + 10 + 2 + 8 + 2 + (int)idw + 2);
	if (textw < 10)
		textw = 10;
	printf("%-19s  %-10s  %8s  %-*s  %s\n", "DUE", "STATE", "ATTEMPTS",
	       (int)idw, "DELIVERY", "TEXT");
	json_array_foreach (deliveries, i, d) {
		id = ctl_str(d, "id");
		state = ctl_str(d, "state");
		text = ctl_str(d, "text");
		printf("%-19s  %-10s  %8lld  ",
		       ctl_local_time(ctl_str(d, "due"), due),
		       state ? state : "?", ctl_int(d, "attempts"));
		ctl_put_cell(id ? id : "?", idw, 1);
		fputs("  ", stdout);
		ctl_put_cell(text ? text : "", (size_t)textw, 0);
		fputc('\n', stdout);
	}
}

/* The attempts of one delivery as a small table. */
static void cmd_query_print_attempts(const json_t *attempts)
{
	const json_t *a, *status;
	char started[32], lat[32], http[16];
	const char *error;
	size_t i;

	if (!json_is_array(attempts) || json_array_size(attempts) == 0) {
		printf("  attempts      none yet\n");
		return;
	}
	printf("  attempts\n");
	printf("    %3s  %-19s  %4s  %9s  %s\n", "N", "STARTED", "HTTP",
	       "LATENCY", "ERROR");
	json_array_foreach (attempts, i, a) {
		status = json_object_get(a, "http_status");
		if (json_is_integer(status))
			snprintf(http, sizeof(http), "%lld",
			         (long long)json_integer_value(status));
		else
			snprintf(http, sizeof(http), "-");
		error = ctl_str(a, "error");
		printf("    %3lld  %-19s  %4s  %9s  ",
		       (long long)json_integer_value(json_object_get(a, "n")),
		       ctl_local_time(ctl_str(a, "started"), started), http,
		       ctl_latency(json_object_get(a, "latency_ms"), lat,
		                   sizeof(lat)));
		ctl_put_text(stdout, error ? error : "-", 1, 0);
		fputc('\n', stdout);
	}
}

/* A figure, or "-" where the network gives none. */
static const char *figure(const json_t *s, const char *key, char *buf,
                          size_t len)
{
	const json_t *v = json_object_get(s, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	return buf;
}

/* The engagement samples of one published delivery. */
static void cmd_query_print_engagement(const json_t *samples)
{
	char taken[32], age[32], f[5][24];
	const json_t *s;
	size_t i;

	if (!json_is_array(samples))
		return;
	if (json_array_size(samples) == 0) {
		printf("  engagement    none read yet\n");
		return;
	}
	printf("  engagement\n");
	printf("    %6s  %-19s  %6s  %6s  %8s  %6s  %6s\n", "AGE", "TAKEN",
	       "LIKES", "SHARES", "COMMENTS", "QUOTES", "VIEWS");
	json_array_foreach (samples, i, s) {
		printf("    %6s  %-19s  %6s  %6s  %8s  %6s  %6s\n",
		       duration_format(ctl_int(s, "age_s") * 1000, age,
		                       sizeof(age)),
		       ctl_local_time(ctl_str(s, "taken"), taken),
		       figure(s, "likes", f[0], sizeof(f[0])),
		       figure(s, "shares", f[1], sizeof(f[1])),
		       figure(s, "comments", f[2], sizeof(f[2])),
		       figure(s, "quotes", f[3], sizeof(f[3])),
		       figure(s, "views", f[4], sizeof(f[4])));
	}
}

/* Who approved a delivery and when, or that it still waits for it. */
static void cmd_query_print_approval(const json_t *approval)
{
	char at[32], line[160];

	if (!json_is_object(approval))
		return;
	if (!json_is_true(json_object_get(approval, "approved"))) {
		ctl_field(2, "approval", "awaiting (smmctl approve)");
		return;
	}
	snprintf(line, sizeof(line), "by %s (uid %lld) at %s",
	         ctl_str(approval, "by") ? ctl_str(approval, "by") : "?",
	         ctl_int(approval, "uid"),
	         ctl_local_time(ctl_str(approval, "at"), at));
	ctl_field(2, "approval", line);
}

/* Engagement reads since start, and the channels no longer read. */
static void cmd_query_print_engagement_status(const json_t *e)
{
	const json_t *reads = json_object_get(e, "reads"), *s;
	size_t i;

	if (!json_is_object(e))
		return;
	printf("  %-12s%lld samples, %lld reads (%lld failed, %lld "
	       "rate-limited, %lld refused)\n",
	       "engagement", ctl_int(e, "samples"), ctl_int(reads, "ok"),
	       ctl_int(reads, "error"), ctl_int(reads, "rate_limited"),
	       ctl_int(reads, "refused"));
	json_array_foreach (json_object_get(e, "stopped"), i, s)
		printf("  %-12snot read on '%s': %s\n", "",
		       ctl_str(s, "channel"), ctl_str(s, "reason"));
}

/* The human form of "show": the post, then each delivery and its attempts. */
static void cmd_query_print_show(const json_t *result)
{
	const json_t *post = json_object_get(result, "post"), *media, *m, *d;
	const json_t *deliveries = json_object_get(result, "deliveries");
	char t1[32];
	size_t i;

	ctl_field(0, "post", ctl_str(post, "id"));
	ctl_field(0, "source", ctl_str(post, "source"));
	ctl_field(0, "created", ctl_local_time(ctl_str(post, "created"), t1));
	ctl_field(0, "text", ctl_str(post, "text"));
	ctl_field(0, "link", ctl_str(post, "link"));
	ctl_field(0, "campaign", ctl_str(post, "campaign"));
	media = json_object_get(post, "media");
	if (!json_is_array(media) || json_array_size(media) == 0)
		ctl_field(0, "media", NULL);
	json_array_foreach (media, i, m) {
		ctl_field(0, i == 0 ? "media" : "", json_string_value(m));
	}
	json_array_foreach (deliveries, i, d) {
		fputc('\n', stdout);
		ctl_field(0, "delivery", ctl_str(d, "id"));
		ctl_field(2, "state", ctl_str(d, "state"));
		ctl_field(2, "due", ctl_local_time(ctl_str(d, "due"), t1));
		ctl_field(2, "next attempt",
		          ctl_local_time(ctl_str(d, "next_attempt"), t1));
		ctl_field(2, "webhook id", ctl_str(d, "webhook_id"));
		ctl_field(2, "network id", ctl_str(d, "remote_id"));
		ctl_field(2, "network url", ctl_str(d, "remote_url"));
		ctl_field(2, "last error", ctl_str(d, "last_error"));
		cmd_query_print_approval(json_object_get(d, "approval"));
		cmd_query_print_attempts(json_object_get(d, "attempts"));
		cmd_query_print_engagement(json_object_get(d, "engagement"));
	}
}

/*
 * As many channel names as fit an 80-column line, then how many more:
 * a calendar may name a thousand, and --json lists them all.
 */
static void cmd_query_print_channels(const json_t *channels)
{
	size_t i, n = json_array_size(channels), col = 14;

	printf("  %-12s", "channels");
	for (i = 0; i < n; i++) {
		const char *name =
		        json_string_value(json_array_get(channels, i));
		size_t w = ctl_cols(name ? name : "") + (i ? 2 : 0);
		int last = i + 1 == n;

		/* Room for this name, and for " and N more" if not last. */
		if (i > 0 && col + w + (last ? 0 : 16) > 80)
			break;
		printf("%s", i ? ", " : "");
		ctl_put_text(stdout, name, 1, 0);
		col += w;
	}
	if (i < n)
		printf(" and %zu more", n - i);
	printf("\n");
}

/*
 * The longest loop turn, what took most of it when smmd says, and how much
 * of it the thread was on the CPU: a turn mostly off it was preempted or
 * waited in the kernel, not working.
 */
static void print_loop_turn(const json_t *loop)
{
	const char *cause =
	        json_string_value(json_object_get(loop, "max_turn_cause"));
	const json_t *cpu = json_object_get(loop, "max_turn_cpu_ms");

	printf("  %-12s%.1f ms at most", "loop turn",
	       json_real_value(json_object_get(loop, "max_turn_ms")));
	if (cause && strcmp(cause, "none yet") != 0) {
		printf(" (%s: %.1f ms", cause,
		       json_real_value(
		               json_object_get(loop, "max_turn_cause_ms")));
		if (cpu)
			printf("; on the CPU %.1f ms, preempted %" JSON_INTEGER_FORMAT
			       ", waited %" JSON_INTEGER_FORMAT,
			       json_real_value(cpu),
			       json_integer_value(json_object_get(
			               loop, "max_turn_preempted")),
			       json_integer_value(json_object_get(
			               loop, "max_turn_waited")));
		printf(")");
	}
	printf("\n");
}
/* Active pauses, channels that need auth first: what holds posts. */
static void print_pauses(const json_t *pauses)
{
	const json_t *p;
	char since[32];
	size_t i;

	json_array_foreach (pauses, i, p) {
		const char *who = ctl_str(p, "needs_auth"),
		           *reason = ctl_str(p, "reason");

		printf("  %-12s%s since %s, holding %lld%s%s\n",
		       who ? "needs auth" : "paused",
		       who ? who : ctl_str(p, "scope"),
		       ctl_local_time(ctl_str(p, "since"), since),
		       ctl_int(p, "held"), reason ? ": " : "",
		       reason ? reason : "");
	}
}

/* The cluster's nodes, as this node last read them. */
static void print_nodes(const json_t *nodes, const char *self)
{
	size_t i;
	const json_t *n;

	json_array_foreach (nodes, i, n) {
		const char *id = ctl_str(n, "node"), *role = ctl_str(n, "role");
		const json_t *off = json_object_get(n, "clock_offset_ms");
		char up[32];

		duration_format(json_integer_value(json_object_get(n, "up_ms")),
		                up, sizeof(up));
		printf("  %-12s%s%s: %s", "node", id ? id : "?",
		       self && id && strcmp(self, id) == 0 ? " (this one)" : "",
		       role ? role : "?");
		if (json_is_integer(json_object_get(n, "epoch")))
			printf(", epoch %lld",
			       (long long)json_integer_value(
			               json_object_get(n, "epoch")));
		printf(" for %s", up);
		if (strcmp(role ? role : "", "standby") != 0) {
			long long k = (long long)json_integer_value(
			        json_object_get(n, "channels"));

			printf(", %lld channel%s", k, k == 1 ? "" : "s");
		}
		if (json_is_integer(off))
			printf("; clock %+lld ms%s",
			       (long long)json_integer_value(off),
			       json_is_true(json_object_get(n, "clock_skewed"))
			               ? " (over 500 ms: check NTP)"
			               : "");
		printf("\n");
	}
}

/* A standby: who works, or why none does; how far its view has come. */
static void print_standby(const json_t *c, const char *node, long long offset)
{
	const char *works = ctl_str(c, "works");

	printf("  %-12snode %s, a STANDBY: ", "cluster", node ? node : "?");
	if (json_is_true(json_object_get(c, "clock_outvoted")))
		printf("its clock disagrees with the cluster's, so it does "
		       "not work");
	else if (works)
		printf("node %s works (changes are relayed there)", works);
	else
		printf("no node works now");
	printf("; this view is at change %lld; PostgreSQL's clock %+lld ms "
	       "from ours\n",
	       (long long)json_integer_value(json_object_get(c, "view_change")),
	       offset);
}

/* This node on a store in PostgreSQL (null: SQLite, nothing to say). */
static void print_cluster(const json_t *c)
{
	const char *node, *role;
	char beside[256] = "";
	long long offset;

	if (!json_is_object(c))
		return;
	node = ctl_str(c, "node");
	offset = (long long)json_integer_value(
	        json_object_get(c, "clock_offset_ms"));
	role = ctl_str(c, "role") ? ctl_str(c, "role") : "";
	if (strcmp(role, "worker") == 0)
		snprintf(beside, sizeof(beside),
		         "a WORKER beside node %s (changes are relayed "
		         "there), ",
		         ctl_str(c, "works") ? ctl_str(c, "works") : "?");
	if (strcmp(role, "standby") == 0)
		print_standby(c, node, offset);
	else
		printf("  %-12snode %s, %slease epoch %lld, %s; PostgreSQL's "
		       "clock %+lld ms from ours\n",
		       "cluster", node ? node : "?", beside,
		       (long long)json_integer_value(
		               json_object_get(c, "epoch")),
		       json_is_true(json_object_get(c, "lease_live"))
		               ? "lease live"
		               : "LEASE NOT TRUSTED",
		       offset);
	if (json_is_true(json_object_get(c, "clock_skewed")))
		printf("  %-12sthe clocks differ by more than 500 ms: check "
		       "NTP\n",
		       "warning");
	print_nodes(json_object_get(c, "nodes"), node);
}

/* Channels with posts waiting that no live node lists (beside workers). */
static void print_unlisted(const json_t *arr)
{
	size_t i;
	json_t *u;

	json_array_foreach (arr, i, u)
		printf("  %-12schannel '%s' is in no live node's "
		       "configuration: %lld waiting, the oldest due %s "
		       "(missed once more than catch_up late)\n",
		       "warning", ctl_str(u, "channel"),
		       (long long)json_integer_value(
		               json_object_get(u, "waiting")),
		       ctl_str(u, "oldest_due"));
}

/* The human form of "status". */
static void cmd_query_print_status(const json_t *r)
{
	const json_t *counts = json_object_get(r, "counts");
	const char *version = ctl_str(r, "version"),
	           *next = ctl_str(r, "next_due");
	char up[32], t[32], rel[48];
	int64_t next_ms;
	size_t i;

	duration_format(
	        (int64_t)json_integer_value(json_object_get(r, "uptime_s")) *
	                1000,
	        up, sizeof(up));
	printf("smmd %s (protocol %lld), pid %lld, up %s\n",
	       version ? version : "?",
	       (long long)json_integer_value(json_object_get(r, "protocol")),
	       (long long)json_integer_value(json_object_get(r, "pid")), up);
	for (i = 0; i < DS_COUNT; i++)
		printf("  %-12s%lld\n", state_name(i),
		       (long long)json_integer_value(
		               json_object_get(counts, state_name(i))));
	printf("  %-12s%lld\n", "in flight",
	       (long long)json_integer_value(json_object_get(r, "in_flight")));
	if (next != NULL && time_parse_rfc3339(next, &next_ms) == 0)
		printf("  %-12s%s (%s)\n", "next due",
		       time_format_local(next_ms, t),
		       ctl_relative(next_ms, ctl_now_ms(), rel, sizeof(rel)));
	else
		printf("  %-12s%s\n", "next due", next ? next : "-");
	print_loop_turn(json_object_get(r, "loop"));
	print_cluster(json_object_get(r, "cluster"));
	print_unlisted(json_object_get(r, "unlisted"));
	print_pauses(json_object_get(r, "pauses"));
	cmd_query_print_engagement_status(json_object_get(r, "engagement"));
	cmd_query_print_channels(json_object_get(r, "channels"));
}

/* list: deliveries ordered by due time. */
static int cmd_list_run(struct ctl *c, struct ctl_args *a)
{
	const char *status = ctl_args_get(a, "status");
	json_t *result = NULL, *deliveries;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	deliveries = json_object_get(result, "deliveries");
	if (a->json) {
		r = ctl_print_json(result);
	} else if (!json_is_array(deliveries)) {
		ctl_warnx("protocol error: list reply without deliveries");
		r = EX_PROTOCOL;
	} else if (json_array_size(deliveries) == 0) {
		if (ctl_args_count(a, "awaiting-approval"))
			printf("no deliveries awaiting approval\n");
		else if (status != NULL)
			printf("no deliveries in state %s\n", status);
		else
			printf("no deliveries\n");
	} else {
		cmd_query_print_list(deliveries);
	}
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_list_entry = {
        .name = "list",
        .help = "list deliveries, ordered by due time",
        .opts =
                (const struct ctl_opt[]){
                        {"status", 0, CTL_STATE, 0, "status", "STATE",
                         "only deliveries in STATE:"},
                        {"awaiting-approval", 0, CTL_FLAG, 0,
                         "awaiting_approval", NULL,
                         "only what waits for 'smmctl approve': drafts,\n"
                         "and deliveries held awaiting approval"},
                        {0},
                },
        .flags = CTL_CMD_JSON,
        .run = cmd_list_run,
};

/* show: one post (or one delivery) with its attempts. */
static int cmd_show_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL;
	int r;

	if ((r = ctl_args_set(a, "id", a->argv[0], "ID")) != 0 ||
	    (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json)
		r = ctl_print_json(result);
	else
		cmd_query_print_show(result);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_show_entry = {
        .name = "show",
        .help = "show a post (or one delivery) with every attempt",
        .opts =
                (const struct ctl_opt[]){
                        {"ID", 0, CTL_ARG, 0, NULL, NULL,
                         "a post id, or a delivery id POST/CHANNEL"},
                        {0},
                },
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_show_run,
};

/* status: the daemon's health in a few lines. */
static int cmd_status_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json)
		r = ctl_print_json(result);
	else
		cmd_query_print_status(result);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_status_entry = {
        .name = "status",
        .help = "show smmd's version, uptime, counts per state and channels",
        .flags = CTL_CMD_JSON,
        .run = cmd_status_run,
};
