/*
 * The control protocol as smmd reads it from its socket (daemon/control.c
 * cuts lines, lib/proto.c parses each request, daemon/command.c and the
 * cmd_*.c handlers read its arguments), on a real store with a few posts,
 * without the socket: what a client can send, the handlers must take.
 *
 * Input: one byte for the peer (bit 0: root, else a read-only member of
 * readonly_group), then request lines split at '\n' as the socket does,
 * run in order, so that "add" then "show" or "pause" then "held" meet.
 * The store starts afresh every RESET_EVERY inputs: it only grows, and
 * every "list" of a store of thousands of posts slowed the runs tenfold.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "fuzz.h"
#include "pause.h"
#include "proto.h"
#include "sched.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

#define RESET_EVERY 250

static uv_loop_t loop;
static struct smmd d;
static unsigned runs;

/* Posts for list, show, agenda and the pauses to find. */
static const char *const posts[] = {
        "{\"id\":1,\"cmd\":\"add\",\"args\":{\"channels\":[\"demo\",\"shop\"]"
        ",\"text\":\"hello\",\"at\":\"2030-01-01T10:00:00Z\",\"id\":"
        "\"p1\",\"campaign\":\"spring\"}}",
        "{\"id\":2,\"cmd\":\"add\",\"args\":{\"channels\":[\"shop-x\"],"
        "\"text\":\"short\",\"at\":\"2030-01-02T10:00:00Z\",\"id\":"
        "\"p2\",\"link\":\"https://shop.example/x\"}}",
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_control: %s\n", what);
	exit(1);
}

static void later_finish(struct cmd_later *l, json_t *result, const char *code,
                         const char *msg)
{
	(void)l;
	(void)code;
	(void)msg;
	json_decref(result);
}

static int later_follow(struct cmd_later *l, const char *channel)
{
	(void)l;
	(void)channel;
	return 0;
}

/* One line, as control.c's handle_line takes it, reply encoded and all. */
static void handle_line(const struct cmd_peer *peer, const char *line,
                        size_t len)
{
	json_t *staged = NULL; /* an import's parts: one line's worth */
	size_t staged_bytes = 0;
	struct cmd_later later = {.finish = later_finish,
	                          .follow = later_follow,
	                          .staged = &staged,
	                          .staged_bytes = &staged_bytes};
	struct proto_request req;
	const char *code = NULL;
	json_t *result = NULL;
	char msg[8192];
	size_t out_len;
	int r;

	if (proto_parse_request(line, len, &req, &code, msg, sizeof(msg)) < 0) {
		free(proto_reply_error(req.id, code, msg, &out_len));
		proto_request_clear(&req);
		return;
	}
	/* A reload answers from libuv's thread pool: no loop runs here. */
	if (strcmp(req.cmd, "reload") == 0) {
		proto_request_clear(&req);
		return;
	}
	/*
	 * Reads run on the loop, without a connection (cmd_read.c): the same
	 * handlers, no thread, and they see the writes never committed here.
	 */
	r = command_run(&d, peer, &req, &result, &code, msg, sizeof(msg),
	                command_off_loop(req.cmd) ? NULL : &later);
	if (r == CMD_ERROR)
		free(proto_reply_error(req.id, code, msg, &out_len));
	else if (r != CMD_WAIT)
		free(proto_reply_ok(req.id, result, &out_len));
	json_decref(result);
	json_decref(staged);
	proto_request_clear(&req);
}

static void setup(void)
{
	static const struct cmd_peer root = {.uid = 0};
	struct config_errors errs = {0};
	int64_t counts[DS_COUNT];
	char err[256];

	fuzz_config();
	if (config_load(fuzz_config_path(), &d.cfg, &errs) < 0)
		fail("the configuration was refused");
	if (uv_loop_init(&loop) != 0)
		fail("uv_loop_init");
	d.loop = &loop;
	d.started_ms = wallclock_now_ms();
	if (store_open(d.cfg->state_dir, &d.store, err, sizeof(err)) < 0)
		fail(err);
	if ((d.events = events_new()) == NULL ||
	    store_counts(d.store, counts) < 0)
		fail("events");
	events_seed(d.events, counts);
	if ((d.sched = sched_new()) == NULL ||
	    (d.dispatch = dispatch_new()) == NULL ||
	    wallclock_new(&loop, dispatch_run_due, &d, &d.clock) < 0 ||
	    pauses_start(&d) < 0)
		fail("the daemon's parts");
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
		handle_line(&root, posts[i], strlen(posts[i]));
}

static void teardown(void)
{
	char cmd[1200];

	pauses_stop(&d);
	wallclock_close(d.clock);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	store_close(d.store);
	dispatch_free(d.dispatch);
	events_free(d.events);
	sched_free(d.sched);
	config_unref(d.cfg);
	memset(&d, 0, sizeof(d));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_path("state"));
	if (system(cmd) != 0)
		fail("cannot remove the store");
}

static void at_exit(void)
{
	if (d.store)
		teardown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	atexit(at_exit);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_peer peer = {.uid = 1000, .gid = 1000, .readonly = 1};
	const char *p, *end, *nl;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		peer = (struct cmd_peer){.uid = 0};
	p = (const char *)data + 1;
	end = (const char *)data + size;
	/* A line without its '\n' is not read yet: the socket waits. */
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		handle_line(&peer, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (++runs % RESET_EVERY == 0) {
		teardown();
		setup();
	}
	return 0;
}
