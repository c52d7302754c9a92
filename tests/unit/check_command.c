/*
 * Unit tests for the control commands: command_run on a temporary store
 * and configuration, with a loop that is never run (dispatch only arms its
 * timer), so each command's replies and errors are checked without a
 * socket.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "proto.h"
#include "sched.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

static char dir[] = "/tmp/check_command.XXXXXX";
static uv_loop_t loop;
static struct smmd d;
static struct cmd_peer peer = {.uid = 0};

static void setup(void)
{
	char path[256], err[256];
	int64_t counts[DS_COUNT];
	struct config_errors errs = {0};
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/smmd.yaml", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f,
	        "state_dir: %s/state\n"
	        "socket: %s/smmd.sock\n"
	        "channels:\n"
	        "  demo:\n"
	        "    publisher: webhook\n"
	        "    url: http://127.0.0.1:9/hook\n"
	        "  shop:\n"
	        "    publisher: webhook\n"
	        "    url: http://127.0.0.1:9/shop\n"
	        "  signed:\n"
	        "    publisher: webhook\n"
	        "    url: http://127.0.0.1:9/signed\n"
	        "    require_approval: true\n",
	        dir, dir);
	fclose(f);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(config_load(path, &d.cfg, &errs), 0);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	d.loop = &loop;
	d.started_ms = wallclock_now_ms();
	ck_assert_int_eq(
	        store_open(d.cfg->state_dir, &d.store, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(d.events = events_new());
	ck_assert_int_eq(store_counts(d.store, counts), 0);
	events_seed(d.events, counts);
	ck_assert_ptr_nonnull(d.sched = sched_new());
	ck_assert_ptr_nonnull(d.dispatch = dispatch_new());
	ck_assert_int_eq(wallclock_new(&loop, dispatch_run_due, &d, &d.clock),
	                 0);
}

static void teardown(void)
{
	char cmd[300];

	wallclock_close(d.clock);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	store_close(d.store);
	dispatch_free(d.dispatch);
	events_free(d.events);
	sched_free(d.sched);
	config_unref(d.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* What one request got back: a result or an error code and message. */
struct outcome {
	int r;
	json_t *result;
	const char *code;
	char msg[8192];
};

/* The outcome a read off the loop (cmd_read.c) answers into. */
static struct outcome *answering;

static void later_finish(struct cmd_later *l, json_t *result, const char *code,
                         const char *msg)
{
	(void)l;
	ck_assert_ptr_nonnull(answering);
	answering->r = result ? CMD_DONE : CMD_ERROR;
	answering->result = result;
	answering->code = code;
	snprintf(answering->msg, sizeof(answering->msg), "%s", msg ? msg : "");
	answering = NULL;
}

static void later_unused(struct cmd_later *l, json_t *result, const char *code,
                         const char *msg)
{
	(void)l;
	(void)code;
	(void)msg;
	json_decref(result);
	ck_abort_msg("no command here should answer later");
}

/*
 * Whether run gives reads a connection to answer on, so that they read
 * off the loop (test_read_off_loop); else they read on the loop, from its
 * own connection, which sees the writes the tests leave uncommitted.
 */
static int off_loop;

/*
 * Run one request line; the result stays in o until outcome_clear. Before
 * a read off the loop the turn's writes are committed, as the daemon does
 * at every turn's end, and its answer is waited for on the loop.
 */
static void run(const char *line, struct outcome *o)
{
	struct proto_request req;
	struct cmd_later later = {.finish = later_finish, .follow = NULL};
	const char *code = NULL;
	char msg[256];

	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(proto_parse_request(line, strlen(line), &req, &code,
	                                     msg, sizeof(msg)),
	                 0);
	if (command_off_loop(req.cmd) && off_loop)
		ck_assert_int_eq(store_submit(d.store), 0);
	answering = o;
	o->r = (int)command_run(
	        &d, &peer, &req, &o->result, &o->code, o->msg, sizeof(o->msg),
	        command_off_loop(req.cmd) && !off_loop ? NULL : &later);
	proto_request_clear(&req);
	if (o->r != CMD_WAIT) {
		answering = NULL;
		return;
	}
	while (answering)
		uv_run(&loop, UV_RUN_ONCE);
}

static void outcome_clear(struct outcome *o)
{
	json_decref(o->result);
	o->result = NULL;
}

/* Run line and expect success; the caller clears o. */
static void run_ok(const char *line, struct outcome *o)
{
	run(line, o);
	ck_assert_msg(o->r == 0, "%s: %s: %s", line, o->code ? o->code : "",
	              o->msg);
	ck_assert_ptr_nonnull(o->result);
}

/* Run line and expect the error code, with msg containing what. */
static void run_err(const char *line, const char *code, const char *what)
{
	struct outcome o;

	run(line, &o);
	ck_assert_msg(o.r < 0, "%s succeeded", line);
	ck_assert_ptr_null(o.result);
	ck_assert_str_eq(o.code, code);
	if (what)
		ck_assert_msg(strstr(o.msg, what) != NULL,
		              "%s: '%s' does not say '%s'", line, o.msg, what);
}

/* The state the store has for a delivery, as show reports it. */
static const char *state_of(const char *id, char *buf, size_t len)
{
	char line[300];
	struct outcome o;
	json_t *dl;

	snprintf(line, sizeof(line),
	         "{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"%s\"}}", id);
	run_ok(line, &o);
	dl = json_array_get(json_object_get(o.result, "deliveries"), 0);
	snprintf(buf, len, "%s",
	         json_string_value(json_object_get(dl, "state")));
	outcome_clear(&o);
	return buf;
}

/* Give a delivery a finished attempt, so it is failed or unknown. */
static void settle_as(const char *id, enum delivery_state state)
{
	int64_t counts[DS_COUNT];
	struct attempt_result ar = {
	        .n = 1,
	        .started_ms = wallclock_now_ms(),
	        .finished_ms = wallclock_now_ms(),
	        .error = "test",
	        .latency_ms = -1,
	};

	ck_assert_int_eq(
	        store_mark_publishing(d.store, id, 0, 1, ar.started_ms), 0);
	ck_assert_int_eq(store_record_result(d.store, id, &ar, state, -1,
	                                     "test", NULL, NULL),
	                 0);
	ck_assert_int_eq(store_flush(d.store), 0);
	/* Written behind the event bus's back: count again, as at start. */
	ck_assert_int_eq(store_counts(d.store, counts), 0);
	events_seed(d.events, counts);
}

static int64_t count_of(const char *state)
{
	struct outcome o;
	int64_t n;

	run_ok("{\"id\":1,\"cmd\":\"status\"}", &o);
	n = json_integer_value(
	        json_object_get(json_object_get(o.result, "counts"), state));
	outcome_clear(&o);
	return n;
}

START_TEST(test_hello)
{
	struct outcome o;

	run_ok("{\"id\":1,\"cmd\":\"hello\",\"args\":{\"protocol\":1}}", &o);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(o.result, "protocol")),
	        SMM_PROTOCOL_VERSION);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"hello\",\"args\":{\"protocol\":99}}",
	        SMM_ERR_INCOMPATIBLE, "client 99, daemon 1");
}
END_TEST

/*
 * approve: an add on a channel that requires approval is a draft; only
 * root (no approvers_group here) approves it, once; a post that needs no
 * approval is refused with a reason.
 */
START_TEST(test_approve)
{
	struct outcome o;
	json_t *ds;

	run_ok("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channels\":"
	       "[\"signed\",\"demo\"],\"id\":\"p1\",\"text\":\"t\","
	       "\"at\":\"2099-01-01T00:00:00Z\"}}",
	       &o);
	ck_assert(json_is_true(json_object_get(o.result, "awaiting_approval")));
	ds = json_object_get(o.result, "deliveries");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(ds, 0), "state")),
	                 "draft");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(ds, 1), "state")),
	                 "scheduled");
	outcome_clear(&o);
	run_ok("{\"id\":2,\"cmd\":\"list\",\"args\":"
	       "{\"awaiting_approval\":true}}",
	       &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 1);
	outcome_clear(&o);
	peer.uid = 65534;
	peer.gid = 65534;
	run_err("{\"id\":3,\"cmd\":\"approve\",\"args\":{\"id\":\"p1\"}}",
	        SMM_ERR_PERMISSION, "only root may approve posts");
	peer.uid = peer.gid = 0;
	run_ok("{\"id\":4,\"cmd\":\"approve\",\"args\":{\"id\":\"p1\"}}", &o);
	ds = json_object_get(o.result, "approved");
	ck_assert_uint_eq(json_array_size(ds), 1);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(ds, 0), "id")),
	        "p1/signed");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(ds, 0), "state")),
	                 "scheduled");
	outcome_clear(&o);
	run_err("{\"id\":5,\"cmd\":\"approve\",\"args\":{\"id\":\"p1\"}}",
	        SMM_ERR_CONFLICT, "is approved already (by root at");
	run_err("{\"id\":6,\"cmd\":\"approve\",\"args\":"
	        "{\"id\":\"p1/demo\"}}",
	        SMM_ERR_CONFLICT,
	        "'p1/demo' needs no approval: its channel does not");
	run_err("{\"id\":7,\"cmd\":\"approve\",\"args\":{\"id\":\"nope\"}}",
	        SMM_ERR_NOT_FOUND, "no post or delivery 'nope'");
}
END_TEST

/*
 * approve routed here by the node asked (route.c): that node checked the
 * permission and named the user, whose uid this machine may not know;
 * the name is taken from a routed request only.
 */
START_TEST(test_approve_routed)
{
	struct outcome o;

	run_ok("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channels\":"
	       "[\"signed\"],\"id\":\"p1\",\"text\":\"t\","
	       "\"at\":\"2099-01-01T00:00:00Z\"}}",
	       &o);
	outcome_clear(&o);
	run_ok("{\"id\":2,\"cmd\":\"add\",\"args\":{\"channels\":"
	       "[\"signed\"],\"id\":\"p2\",\"text\":\"t\","
	       "\"at\":\"2099-01-01T00:00:00Z\"}}",
	       &o);
	outcome_clear(&o);
	/* Not routed: the name it gives itself is not believed. */
	run_ok("{\"id\":3,\"cmd\":\"approve\",\"args\":{\"id\":\"p1\","
	       "\"routed_actor\":\"mallory\"}}",
	       &o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "by")),
	                 "root");
	outcome_clear(&o);
	/* Routed, from a uid this machine does not know: as named there. */
	peer = (struct cmd_peer){.uid = 54321, .gid = 54321, .routed = 1};
	run_ok("{\"id\":4,\"cmd\":\"approve\",\"args\":{\"id\":\"p2\","
	       "\"routed_actor\":\"ana\"}}",
	       &o);
	peer = (struct cmd_peer){.uid = 0};
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "by")),
	                 "ana");
	ck_assert_int_eq(json_integer_value(json_object_get(o.result, "uid")),
	                 54321);
	outcome_clear(&o);
}
END_TEST

START_TEST(test_unknown_command)
{
	run_err("{\"id\":1,\"cmd\":\"frobnicate\"}", SMM_ERR_UNKNOWN_COMMAND,
	        "unknown command 'frobnicate' (known: hello, add, list, show, "
	        "cancel, status, retry, resolve, reload, backup, agenda, log, pause, "
	        "resume, held, release, skip, audit, planb_list, "
	        "planb_activate, planb_drill, planb_end, queue, import, "
	        "approve, plan_check, goals, report, stats, auth, channels)");
}
END_TEST

START_TEST(test_add_and_show)
{
	struct outcome o;
	json_t *dl;
	char st[32];

	run_ok("{\"id\":1,\"cmd\":\"add\",\"args\":{\"id\":\"p1\","
	       "\"channels\":[\"demo\",\"shop\"],\"text\":\"hi\","
	       "\"at\":\"2099-01-01T00:00:00Z\"}}",
	       &o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "id")),
	                 "p1");
	dl = json_object_get(o.result, "deliveries");
	ck_assert_uint_eq(json_array_size(dl), 2);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(dl, 0), "id")),
	        "p1/demo");
	ck_assert_str_eq(json_string_value(
	                         json_object_get(json_array_get(dl, 1), "due")),
	                 "2099-01-01T00:00:00.000Z");
	outcome_clear(&o);
	ck_assert_str_eq(state_of("p1/shop", st, sizeof(st)), "scheduled");
	ck_assert_uint_eq(sched_len(d.sched), 2);
	/* A generated id when none is given. */
	run_ok("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	       "\"text\":\"x\",\"at\":\"2099-01-01T00:00:00Z\"}}",
	       &o);
	ck_assert_int_gt(
	        strlen(json_string_value(json_object_get(o.result, "id"))), 8);
	outcome_clear(&o);
	ck_assert_int_eq(count_of("scheduled"), 3);
}
END_TEST

START_TEST(test_add_errors)
{
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"text\":\"x\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "missing 'channels'");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"nope\","
	        "\"text\":\"x\"}}",
	        SMM_ERR_UNKNOWN_CHANNEL,
	        "unknown channel 'nope' (known: demo, shop, signed)");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"channels\":[\"demo\"],\"text\":\"x\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "not both");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channels\":[\"demo\","
	        "\"demo\"],\"text\":\"x\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "listed twice");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"text\":\"  \"}}",
	        SMM_ERR_INVALID_ARGUMENT, "the text is empty");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "text");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"text\":\"x\",\"link\":\"ftp://x\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "'link'");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"text\":\"x\",\"media\":[\"../x\"]}}",
	        SMM_ERR_INVALID_ARGUMENT, "'media'");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"text\":\"x\",\"at\":\"tomorrow\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "not an RFC 3339 time");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"text\":\"x\",\"at\":\"2001-01-01T00:00:00Z\"}}",
	        SMM_ERR_TOO_LATE, "refusing to post it late");
	run_err("{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\","
	        "\"text\":\"x\",\"id\":\"a b\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "invalid post id");
}
END_TEST

#define ADD_P1                                                      \
	"{\"id\":1,\"cmd\":\"add\",\"args\":{\"channel\":\"demo\"," \
	"\"text\":\"x\",\"id\":\"p1\",\"at\":\"2099-01-01T00:00:00Z\"}}"
#define ADD_P2                                                                  \
	"{\"id\":1,\"cmd\":\"add\",\"args\":{\"channels\":[\"demo\",\"shop\"]," \
	"\"text\":\"x\",\"id\":\"p2\",\"at\":\"2099-01-01T00:00:00Z\"}}"

static void count_row(void *arg, const struct delivery_row *r)
{
	(void)r;
	(*(int64_t *)arg)++;
}

/*
 * The reads that go off the loop (cmd_read.c) answer through the
 * connection, from a reader that sees what the loop committed and not
 * the writes of its open turn; once stopped (shutdown), they refuse.
 */
START_TEST(test_read_off_loop)
{
	static const char *const reads[] = {
	        "{\"id\":1,\"cmd\":\"agenda\",\"args\":{\"from\":"
	        "\"2098-12-31T00:00:00Z\"}}",
	        "{\"id\":1,\"cmd\":\"stats\",\"args\":{\"since\":"
	        "\"2098-12-01T00:00:00Z\",\"until\":\"2099-02-01T00:00:00Z\"}}",
	        "{\"id\":1,\"cmd\":\"report\",\"args\":{\"month\":"
	        "\"2099-01\"}}",
	        "{\"id\":1,\"cmd\":\"goals\"}",
	        "{\"id\":1,\"cmd\":\"plan_check\"}",
	        "{\"id\":1,\"cmd\":\"held\"}",
	        "{\"id\":1,\"cmd\":\"audit\"}",
	};
	struct outcome o;
	json_t *day;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	off_loop = 1;
	run_ok("{\"id\":1,\"cmd\":\"list\"}", &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 2);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"p2\"}}", &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 2);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"p9\"}}",
	        SMM_ERR_NOT_FOUND, "no post or delivery 'p9'");
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		run_ok(reads[i], &o);
		if (strstr(reads[i], "report")) {
			day = json_array_get(json_object_get(o.result, "days"),
			                     0);
			ck_assert_int_eq(json_integer_value(json_object_get(
			                         day, "planned")),
			                 2);
		}
		outcome_clear(&o);
	}
	/* A write the loop has not committed yet is not read off it. */
	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	{
		struct store *r;
		char err[128];
		int64_t n = 0;

		ck_assert_int_eq(
		        store_read_begin(d.store, &r, err, sizeof(err)), 0);
		ck_assert_int_eq(store_list_rows(r, -1, 10, count_row, &n), 0);
		store_read_end(d.store, r);
		ck_assert_int_eq(n, 2);
	}
	/* At shutdown: no more reads. */
	store_read_stop(d.store);
	run_err("{\"id\":1,\"cmd\":\"list\"}", SMM_ERR_SHUTTING_DOWN,
	        "shutting down");
	off_loop = 0;
}
END_TEST

START_TEST(test_add_exists)
{
	struct outcome o;

	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	run_err(ADD_P1, SMM_ERR_EXISTS, "post id 'p1' already exists");
}
END_TEST

START_TEST(test_list)
{
	struct outcome o;

	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"list\"}", &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 3);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"list\",\"args\":{\"status\":"
	       "\"failed\"}}",
	       &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 0);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"list\",\"args\":{\"limit\":2}}", &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 2);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"list\",\"args\":{\"status\":\"gone\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "unknown status 'gone' (known: ");
	run_err("{\"id\":1,\"cmd\":\"list\",\"args\":{\"limit\":0}}",
	        SMM_ERR_INVALID_ARGUMENT, "'limit' must be from 1 to 100000");
	run_err("{\"id\":1,\"cmd\":\"list\",\"args\":{\"limit\":\"3\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "'limit'");
}
END_TEST

START_TEST(test_show)
{
	struct outcome o;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"p2\"}}", &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 2);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"nope\"}}",
	        SMM_ERR_NOT_FOUND, "no post or delivery 'nope'");
	run_err("{\"id\":1,\"cmd\":\"show\"}", SMM_ERR_INVALID_ARGUMENT,
	        "'id'");
}
END_TEST

START_TEST(test_cancel)
{
	struct outcome o;
	char st[32];

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":"
	       "\"p2/shop\"}}",
	       &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "cancelled")), 1);
	outcome_clear(&o);
	ck_assert_str_eq(state_of("p2/shop", st, sizeof(st)), "cancelled");
	ck_assert_str_eq(state_of("p2/demo", st, sizeof(st)), "scheduled");
	ck_assert_uint_eq(sched_len(d.sched), 1);
	run_ok("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p2\"}}", &o);
	ck_assert_str_eq(json_string_value(json_array_get(
	                         json_object_get(o.result, "cancelled"), 0)),
	                 "p2/demo");
	outcome_clear(&o);
	ck_assert_uint_eq(sched_len(d.sched), 0);
	run_err("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p2\"}}",
	        SMM_ERR_CONFLICT, "'p2' cannot be cancelled: it is cancelled");
	run_err("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p9\"}}",
	        SMM_ERR_NOT_FOUND, "no post or delivery 'p9'");
	ck_assert_int_eq(count_of("cancelled"), 2);
}
END_TEST

START_TEST(test_retry)
{
	struct outcome o;
	char st[32];

	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p1\"}}",
	        SMM_ERR_CONFLICT, "only unknown or failed deliveries");
	settle_as("p1/demo", DS_FAILED);
	ck_assert_uint_eq(sched_len(d.sched), 1);
	sched_remove(d.sched, "p1/demo");
	run_ok("{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p1\"}}", &o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "id")),
	                 "p1/demo");
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "state")),
	                 "retry_wait");
	outcome_clear(&o);
	ck_assert_str_eq(state_of("p1/demo", st, sizeof(st)), "retry_wait");
	ck_assert_uint_eq(sched_len(d.sched), 1);
	run_err("{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p9/demo\"}}",
	        SMM_ERR_NOT_FOUND, "no delivery 'p9/demo'");
	run_err("{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p9\"}}",
	        SMM_ERR_NOT_FOUND, "no post or delivery 'p9'");
}
END_TEST

START_TEST(test_retry_needs_one_delivery)
{
	struct outcome o;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p2\"}}",
	        SMM_ERR_INVALID_ARGUMENT,
	        "post 'p2' has 2 deliveries: name one as POST/CHANNEL");
}
END_TEST

START_TEST(test_resolve)
{
	struct outcome o;
	char st[32];

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	settle_as("p2/demo", DS_UNKNOWN);
	settle_as("p2/shop", DS_FAILED);
	run_err("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":"
	        "\"p2/demo\",\"outcome\":\"maybe\"}}",
	        SMM_ERR_INVALID_ARGUMENT,
	        "'outcome' must be published or failed");
	run_err("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":"
	        "\"p2/demo\",\"outcome\":\"failed\",\"url\":\"http://x/\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "'url' goes with published");
	run_ok("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":"
	       "\"p2/demo\",\"outcome\":\"published\",\"url\":"
	       "\"https://example.org/1\"}}",
	       &o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "state")),
	                 "published");
	outcome_clear(&o);
	ck_assert_str_eq(state_of("p2/demo", st, sizeof(st)), "published");
	run_ok("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":"
	       "\"p2/shop\",\"outcome\":\"failed\"}}",
	       &o);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":"
	        "\"p2/demo\",\"outcome\":\"failed\"}}",
	        SMM_ERR_CONFLICT, "'p2/demo' is published");
	ck_assert_int_eq(count_of("published"), 1);
	ck_assert_int_eq(count_of("failed"), 1);
}
END_TEST

START_TEST(test_status)
{
	struct outcome o;
	json_t *ch;

	run_ok("{\"id\":1,\"cmd\":\"status\"}", &o);
	ck_assert_int_eq(json_integer_value(json_object_get(o.result, "pid")),
	                 getpid());
	ch = json_object_get(o.result, "channels");
	ck_assert_uint_eq(json_array_size(ch), 3);
	ck_assert(json_is_null(json_object_get(o.result, "next_due")));
	ck_assert_uint_eq(json_object_size(json_object_get(o.result, "counts")),
	                  DS_COUNT);
	outcome_clear(&o);
}
END_TEST

START_TEST(test_agenda)
{
	struct outcome o;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"agenda\",\"args\":{\"from\":"
	       "\"2098-12-31T00:00:00Z\",\"channel\":\"shop\"}}",
	       &o);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(o.result, "deliveries")), 1);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"agenda\",\"args\":{\"channel\":"
	        "\"nope\"}}",
	        SMM_ERR_UNKNOWN_CHANNEL, "unknown channel 'nope' (known: demo");
	run_err("{\"id\":1,\"cmd\":\"agenda\",\"args\":{\"limit\":0}}",
	        SMM_ERR_INVALID_ARGUMENT, "'limit' must be from 1 to 100000");
	run_err("{\"id\":1,\"cmd\":\"agenda\",\"args\":{\"full\":1}}",
	        SMM_ERR_INVALID_ARGUMENT, "'full' must be true or false");
	run_err("{\"id\":1,\"cmd\":\"agenda\",\"args\":{\"from\":"
	        "\"2099-01-02T00:00:00Z\",\"to\":\"2099-01-01T00:00:00Z\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "must come after");
}
END_TEST

/* The report's days are the calendar zone's, each counted by outcome. */
START_TEST(test_report)
{
	struct outcome o;
	json_t *day, *days;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p2/shop\"}}",
	       &o);
	outcome_clear(&o);
	/* 2099-01-01T00:00Z is 09:00 on the 1st in Tokyo. */
	d.calendar_zone = (char *)"Asia/Tokyo";
	run_ok("{\"id\":1,\"cmd\":\"report\",\"args\":{\"month\":\"2099-01\"}}",
	       &o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "zone")),
	                 "Asia/Tokyo");
	ck_assert_int_eq(
	        json_integer_value(json_object_get(o.result, "since_ms")),
	        INT64_C(4070876400000)); /* 2098-12-31T15:00Z */
	days = json_object_get(o.result, "days");
	ck_assert_uint_eq(json_array_size(days), 31);
	day = json_array_get(days, 0);
	ck_assert_str_eq(json_string_value(json_object_get(day, "date")),
	                 "2099-01-01");
	ck_assert_int_eq(json_integer_value(json_object_get(day, "planned")),
	                 1);
	ck_assert_int_eq(json_integer_value(json_object_get(day, "waiting")),
	                 1);
	ck_assert_int_eq(json_integer_value(json_object_get(day, "cancelled")),
	                 1);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(json_object_get(day, "by_channel"),
	                                "shop"),
	                "cancelled")),
	        1);
	/* Per channel, only what is not zero. */
	ck_assert_ptr_null(json_object_get(
	        json_object_get(json_object_get(day, "by_channel"), "shop"),
	        "planned"));
	/* Cancelled deliveries are counted, not listed; the rest with text. */
	ck_assert_uint_eq(json_array_size(json_object_get(day, "posts")), 1);
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(day, "posts"), 0),
	                "text")),
	        "x");
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(day, "posts"), 0),
	                "time")),
	        "09:00");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_array_get(days, 30), "planned")),
	                 0);
	/* The stats of the range: nothing has gone out in it yet. */
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(o.result, "summary"), "published")),
	        0);
	ck_assert(json_is_null(json_object_get(
	        json_object_get(o.result, "summary"), "on_time_rate")));
	ck_assert(json_is_array(json_object_get(o.result, "engagement")));
	outcome_clear(&o);
	/* A range inside one day: that day alone. */
	run_ok("{\"id\":1,\"cmd\":\"report\",\"args\":{\"since\":"
	       "\"2098-12-31T20:00:00Z\",\"until\":\"2099-01-01T01:00:00Z\"}}",
	       &o);
	ck_assert_uint_eq(json_array_size(json_object_get(o.result, "days")),
	                  1);
	outcome_clear(&o);
	/* Since alone, in a later month: to that month's end. */
	run_ok("{\"id\":1,\"cmd\":\"report\",\"args\":{\"since\":"
	       "\"2099-01-20T00:00:00Z\"}}",
	       &o);
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(o.result, "days"), 11),
	                "date")),
	        "2099-01-31");
	ck_assert_uint_eq(json_array_size(json_object_get(o.result, "days")),
	                  12);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"report\",\"args\":{\"month\":\"2099-1\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "'2099-1' is not a month (YYYY-MM)");
	run_err("{\"id\":1,\"cmd\":\"report\",\"args\":{\"month\":\"2099-13\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "is not a month");
	run_err("{\"id\":1,\"cmd\":\"report\",\"args\":{\"month\":\"2099-01\","
	        "\"since\":\"2099-01-01T00:00:00Z\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "not both");
	run_err("{\"id\":1,\"cmd\":\"report\",\"args\":{\"since\":"
	        "\"2099-01-01T00:00:00Z\",\"until\":\"2098-01-01T00:00:00Z\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "'until' must come after 'since'");
	run_err("{\"id\":1,\"cmd\":\"report\",\"args\":{\"since\":"
	        "\"2097-01-01T00:00:00Z\",\"until\":\"2099-01-01T00:00:00Z\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "at most 366 days");
	d.calendar_zone = NULL;
}
END_TEST

/* While stopping, nothing that changes state is taken; reads go on. */
START_TEST(test_stopping)
{
	d.stopping = 1;
	run_err(ADD_P1, SMM_ERR_SHUTTING_DOWN, "smmd is shutting down");
	run_err("{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p1/demo\"}}",
	        SMM_ERR_SHUTTING_DOWN, "smmd is shutting down");
	run_err("{\"id\":1,\"cmd\":\"reload\"}", SMM_ERR_SHUTTING_DOWN,
	        "smmd is shutting down");
	/* Every write now, from the table's flags. */
	run_err("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p1\"}}",
	        SMM_ERR_SHUTTING_DOWN, "smmd is shutting down: 'cancel'");
	run_err("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":\"p1/demo\","
	        "\"outcome\":\"failed\"}}",
	        SMM_ERR_SHUTTING_DOWN, "smmd is shutting down: 'resolve'");
	{
		struct outcome o;

		run_ok("{\"id\":1,\"cmd\":\"status\"}", &o);
		outcome_clear(&o);
	}
}
END_TEST

/* A read-only peer may read and nothing else, whatever it asks. */
START_TEST(test_readonly_peer)
{
	static const char *const writes[] = {
	        ADD_P1,
	        "{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p1\"}}",
	        "{\"id\":1,\"cmd\":\"retry\",\"args\":{\"id\":\"p1/demo\"}}",
	        "{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":\"p1/demo\","
	        "\"outcome\":\"failed\"}}",
	        "{\"id\":1,\"cmd\":\"reload\"}",
	};
	static const char *const reads[] = {
	        "{\"id\":1,\"cmd\":\"hello\"}",
	        "{\"id\":1,\"cmd\":\"list\"}",
	        "{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"p1\"}}",
	        "{\"id\":1,\"cmd\":\"status\"}",
	        "{\"id\":1,\"cmd\":\"agenda\"}",
	};
	struct outcome o;

	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	peer = (struct cmd_peer){.uid = 4242, .gid = 4242, .readonly = 1};
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		run_err(writes[i], SMM_ERR_PERMISSION,
		        "changes state, and uid 4242 may only read");
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		run_ok(reads[i], &o);
		outcome_clear(&o);
	}
	/* Nothing was changed by the refused writes. */
	ck_assert_int_eq(count_of("scheduled"), 1);
	ck_assert_int_eq(count_of("cancelled"), 0);
	peer = (struct cmd_peer){.uid = 0};
}
END_TEST

/*
 * A standby answers what reads the store alone, from its view, relays
 * the rest (not here: SQLite relays nothing, tests/pg/smmd.sh does),
 * refuses what runs only where its client is connected, naming the node
 * that works (none here: "?"), and changes nothing.
 */
START_TEST(test_standby)
{
	static const char *const relayed[] = {
	        ADD_P1,
	        "{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p1\"}}",
	        "{\"id\":1,\"cmd\":\"reload\"}",
	        "{\"id\":1,\"cmd\":\"pause\",\"args\":{\"reason\":\"x\"}}",
	        "{\"id\":1,\"cmd\":\"channels\"}",
	};
	static const char *const refused[] = {
	        "{\"id\":1,\"cmd\":\"log\"}",
	        "{\"id\":1,\"cmd\":\"import\"}",
	        "{\"id\":1,\"cmd\":\"backup\"}",
	};
	static const char *const answered[] = {
	        "{\"id\":1,\"cmd\":\"hello\"}",
	        "{\"id\":1,\"cmd\":\"list\"}",
	        "{\"id\":1,\"cmd\":\"show\",\"args\":{\"id\":\"p1\"}}",
	        "{\"id\":1,\"cmd\":\"agenda\"}",
	        "{\"id\":1,\"cmd\":\"held\"}",
	};
	struct outcome o;

	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	d.standby = 1;
	for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++)
		run_err(relayed[i], SMM_ERR_STANDBY,
		        "refused: this node is a standby, and its store "
		        "relays nothing");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		run_err(refused[i], SMM_ERR_STANDBY,
		        "this node is a standby (?): ask the node that "
		        "works. A standby answers hello, list, "
		        "show, status, agenda, held, audit, plan_check, goals, "
		        "report, stats");
	for (size_t i = 0; i < sizeof(answered) / sizeof(answered[0]); i++) {
		run_ok(answered[i], &o);
		outcome_clear(&o);
	}
	/* Its counts are its view's, counted there. */
	run_ok("{\"id\":1,\"cmd\":\"status\"}", &o);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(o.result, "counts"), "scheduled")),
	        1);
	ck_assert(json_is_null(json_object_get(o.result, "engagement")));
	outcome_clear(&o);
	/* A read-only peer's change is refused there, never relayed. */
	peer = (struct cmd_peer){.uid = 4242, .gid = 4242, .readonly = 1};
	run_err(ADD_P1, SMM_ERR_PERMISSION, "may only read");
	peer = (struct cmd_peer){.uid = 0};
	d.standby = 0;
	ck_assert_int_eq(count_of("scheduled"), 1);
	ck_assert_int_eq(count_of("cancelled"), 0);
}
END_TEST

/* The refusal names what a read-only peer may use, from the table. */
START_TEST(test_readonly_message)
{
	struct outcome o;

	peer = (struct cmd_peer){.uid = 7, .readonly = 1};
	run(ADD_P1, &o);
	ck_assert_str_eq(o.msg,
	                 "permission denied: 'add' changes state, and "
	                 "uid 7 may only read (readonly_group: hello, "
	                 "list, show, status, agenda, log, held, audit, "
	                 "planb_list, queue, plan_check, goals, report, stats, "
	                 "channels)");
	peer = (struct cmd_peer){.uid = 0};
}
END_TEST

/* log: the recent events, each change once, in order, per channel. */
START_TEST(test_log_recent)
{
	struct outcome o;
	json_t *ev, *e;
	size_t i;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p2/shop\"}}",
	       &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"log\"}", &o);
	ev = json_object_get(o.result, "events");
	ck_assert_uint_eq(json_array_size(ev), 3);
	json_array_foreach (ev, i, e) {
		ck_assert_int_eq(json_integer_value(json_object_get(e, "seq")),
		                 (json_int_t)i + 1);
	}
	e = json_array_get(ev, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	                 "queued");
	ck_assert_str_eq(json_string_value(json_object_get(e, "id")),
	                 "p2/demo");
	ck_assert_str_eq(json_string_value(json_object_get(e, "post")), "p2");
	ck_assert(json_is_null(json_object_get(e, "from")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "next")),
	                 "2099-01-01T00:00:00.000Z");
	e = json_array_get(ev, 2);
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	                 "cancelled");
	ck_assert_str_eq(json_string_value(json_object_get(e, "from")),
	                 "scheduled");
	ck_assert_str_eq(json_string_value(json_object_get(e, "state")),
	                 "cancelled");
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"log\",\"args\":{\"channel\":\"shop\"}}",
	       &o);
	ck_assert_uint_eq(json_array_size(json_object_get(o.result, "events")),
	                  2);
	outcome_clear(&o);
	run_err("{\"id\":1,\"cmd\":\"log\",\"args\":{\"channel\":\"nope\"}}",
	        SMM_ERR_UNKNOWN_CHANNEL, "unknown channel 'nope'");
	run_err("{\"id\":1,\"cmd\":\"log\",\"args\":{\"follow\":\"yes\"}}",
	        SMM_ERR_INVALID_ARGUMENT, "'follow' must be true or false");
	/* No connection here to stream on. */
	run_err("{\"id\":1,\"cmd\":\"log\",\"args\":{\"follow\":true}}",
	        SMM_ERR_INVALID_ARGUMENT, "needs a connection");
}
END_TEST

/* What a test follower received: the JSON text of each event. */
static json_t *followed;
static struct events_sub *test_sub;

static void test_follower(void *arg, const char *json, size_t len)
{
	(void)arg;
	json_array_append_new(followed, json_loadb(json, len, 0, NULL));
}

static int test_follow(struct cmd_later *l, const char *channel)
{
	(void)l;
	if (test_sub)
		return -EALREADY;
	test_sub = events_subscribe(d.events, channel, test_follower, NULL);
	return test_sub ? 0 : -ENOMEM;
}

/* With follow: every later event of the channel, once, in order. */
START_TEST(test_log_follow)
{
	struct proto_request req;
	struct cmd_later later = {.finish = later_unused,
	                          .follow = test_follow};
	const char *line = "{\"id\":4,\"cmd\":\"log\",\"args\":{\"follow\":"
	                   "true,\"channel\":\"shop\"}}";
	struct outcome o;
	char msg[256];
	json_t *e;

	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	followed = json_array();
	ck_assert_int_eq(proto_parse_request(line, strlen(line), &req, &o.code,
	                                     msg, sizeof(msg)),
	                 0);
	ck_assert_int_eq(command_run(&d, &peer, &req, &o.result, &o.code, o.msg,
	                             sizeof(o.msg), &later),
	                 CMD_FOLLOW);
	/* p1 went to demo only: nothing of shop's yet. */
	ck_assert_uint_eq(json_array_size(json_object_get(o.result, "events")),
	                  0);
	outcome_clear(&o);
	/* A second follow on the same connection is refused. */
	ck_assert_int_eq(command_run(&d, &peer, &req, &o.result, &o.code, o.msg,
	                             sizeof(o.msg), &later),
	                 CMD_ERROR);
	ck_assert_str_eq(o.code, SMM_ERR_CONFLICT);
	proto_request_clear(&req);
	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p2\"}}", &o);
	outcome_clear(&o);
	ck_assert_uint_eq(json_array_size(followed), 2);
	e = json_array_get(followed, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "id")),
	                 "p2/shop");
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	                 "queued");
	e = json_array_get(followed, 1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	                 "cancelled");
	ck_assert_int_gt(json_integer_value(json_object_get(e, "seq")),
	                 json_integer_value(json_object_get(
	                         json_array_get(followed, 0), "seq")));
	events_unsubscribe(d.events, test_sub);
	json_decref(followed);
}
END_TEST

/* The ring keeps the last EVENTS_RING events, oldest first. */
START_TEST(test_log_ring_bounded)
{
	struct outcome o;
	json_t *ev;
	char line[256];

	for (int i = 0; i < EVENTS_RING / 2 + 10; i++) {
		snprintf(line, sizeof(line),
		         "{\"id\":1,\"cmd\":\"add\",\"args\":{\"channels\":"
		         "[\"demo\",\"shop\"],\"text\":\"x\",\"id\":\"r%d\","
		         "\"at\":\"2099-01-01T00:00:00Z\"}}",
		         i);
		run_ok(line, &o);
		outcome_clear(&o);
	}
	run_ok("{\"id\":1,\"cmd\":\"log\"}", &o);
	ev = json_object_get(o.result, "events");
	ck_assert_uint_eq(json_array_size(ev), EVENTS_RING);
	ck_assert_int_eq(json_integer_value(
	                         json_object_get(json_array_get(ev, 0), "seq")),
	                 21);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(ev, EVENTS_RING - 1), "id")),
	                 "r509/shop");
	outcome_clear(&o);
}
END_TEST

/* status's counts are the bus's, and equal the store's. */
START_TEST(test_counts_match_store)
{
	struct outcome o;
	int64_t counts[DS_COUNT];
	json_t *c;

	run_ok(ADD_P2, &o);
	outcome_clear(&o);
	run_ok(ADD_P1, &o);
	outcome_clear(&o);
	run_ok("{\"id\":1,\"cmd\":\"cancel\",\"args\":{\"id\":\"p2\"}}", &o);
	outcome_clear(&o);
	settle_as("p1/demo", DS_UNKNOWN);
	run_ok("{\"id\":1,\"cmd\":\"resolve\",\"args\":{\"id\":\"p1\","
	       "\"outcome\":\"published\"}}",
	       &o);
	outcome_clear(&o);
	ck_assert_int_eq(store_counts(d.store, counts), 0);
	run_ok("{\"id\":1,\"cmd\":\"status\"}", &o);
	c = json_object_get(o.result, "counts");
	for (int i = 0; i < DS_COUNT; i++)
		ck_assert_int_eq(
		        json_integer_value(json_object_get(c, state_name(i))),
		        counts[i]);
	ck_assert_int_eq(counts[DS_CANCELLED], 2);
	ck_assert_int_eq(counts[DS_PUBLISHED], 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         o.result, "followers_dropped")),
	                 0);
	outcome_clear(&o);
}
END_TEST

static Suite *command_suite(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hello);
	tcase_add_test(tc, test_unknown_command);
	tcase_add_test(tc, test_approve);
	tcase_add_test(tc, test_approve_routed);
	tcase_add_test(tc, test_add_and_show);
	tcase_add_test(tc, test_add_errors);
	tcase_add_test(tc, test_add_exists);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_read_off_loop);
	tcase_add_test(tc, test_show);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_retry);
	tcase_add_test(tc, test_retry_needs_one_delivery);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_agenda);
	tcase_add_test(tc, test_report);
	tcase_add_test(tc, test_stopping);
	tcase_add_test(tc, test_readonly_peer);
	tcase_add_test(tc, test_standby);
	tcase_add_test(tc, test_readonly_message);
	tcase_add_test(tc, test_log_recent);
	tcase_add_test(tc, test_log_follow);
	tcase_add_test(tc, test_log_ring_bounded);
	tcase_add_test(tc, test_counts_match_store);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(command_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
