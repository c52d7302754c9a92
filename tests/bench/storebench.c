/*
 * The store's share of a delivery, without the network: what smmd's burst
 * asks of it for each post (load it, mark it publishing, commit and wait
 * until durable, then record its result), in turns of BATCH deliveries as
 * the dispatcher makes them, with the writer and sync threads of a started
 * store. Prints the CPU time (all threads) and the bytes written that a
 * delivery costs, and the rate. bench.sh sets this floor beside the
 * bursts' figures; alone:
 *
 *   build/tests/bench/storebench DIR [DELIVERIES [BATCH [CHANNELS
 *                                [QUANTUM]]]]
 *
 * With CHANNELS, as (d)'s burst over many channels: each gets
 * DELIVERIES / CHANNELS, queued one channel after another, and they are
 * taken from the channels in turn, QUANTUM at a time (the dispatcher's
 * DISPATCH_QUANTUM unless given). DIR must not hold a store yet (its
 * file system's fdatasync is part of the figure, as it is of smmd's).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "benchclock.h"
#include "dispatch.h"
#include "looptime.h"
#include "store.h"

struct turn_wait {
	int done;
	int err;
};

/* Bytes this process has handed to write(2) and pwrite(2) so far. */
static double written_bytes(void)
{
	char line[128];
	double v = 0;
	FILE *f = fopen("/proc/self/io", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "wchar:", 6) == 0)
			v = strtod(line + 6, NULL);
	fclose(f);
	return v;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void store_failed(void *arg, int err)
{
	(void)arg;
	fprintf(stderr, "storebench: the store failed: %s\n", strerror(-err));
	exit(1);
}

static void turn_durable(void *arg, int err)
{
	struct turn_wait *w = arg;

	w->done = 1;
	w->err = err;
}

static unsigned long nchannels = 1, quantum = DISPATCH_QUANTUM;

/* A delivery: its channel, and its place in that channel's queue. */
struct taken {
	unsigned long channel, nth;
	int64_t row; /* the store's row hint, as the dispatcher keeps it */
};

/*
 * The order the dispatcher takes n deliveries in, each channel holding
 * n / nchannels: the channels in turn, quantum at a time, skipping those
 * that ran out. The caller frees it.
 */
static struct taken *dispatch_order(unsigned long n)
{
	unsigned long per = n / nchannels, i = 0, c = 0;
	struct taken *order = calloc(n, sizeof(*order));
	unsigned long *next = calloc(nchannels, sizeof(*next));

	if (order == NULL || next == NULL) {
		free(order);
		free(next);
		return NULL;
	}
	while (i < n) {
		for (unsigned long q = 0; q < quantum && next[c] < per; q++)
			order[i++] = (struct taken){c, next[c]++, 0};
		c = (c + 1) % nchannels;
	}
	free(next);
	return order;
}

static void post_id(char *id, size_t len, const struct taken *t)
{
	snprintf(id, len, "c%lu-%lu", t->channel, t->nth);
}

static void delivery_id(char *id, size_t len, const struct taken *t)
{
	snprintf(id, len, "c%lu-%lu/c%lu", t->channel, t->nth, t->channel);
}

/*
 * As smmd's adds: one post a delivery, due now, queued a channel after
 * another (as bench.sh's (d) and a per-channel import do), so the rows
 * the dispatcher takes in turn lie apart.
 */
static int queue_posts(struct store *st, unsigned long n)
{
	json_t *media = json_array();
	int64_t now = wall_ms();
	int r = 0;

	for (unsigned long k = 0; k < n && r == 0; k++) {
		/* The k-th queued is channel k / per's (k % per)-th. */
		unsigned long per = n / nchannels;
		struct taken t = {k / per, k % per, 0};
		char id[72], channel[32];
		const char *channels[] = {channel};
		struct post_new p = {
		        .id = id,
		        .source = "adhoc",
		        .text = "storebench: a post of ordinary length, with "
		                "a link and a campaign, as a burst sends",
		        .link = "https://example.org/launch",
		        .campaign = "launch",
		        .media = media,
		        .due_ms = now,
		        .channels = channels,
		        .nchannels = 1,
		};

		post_id(id, sizeof(id), &t);
		snprintf(channel, sizeof(channel), "c%lu", t.channel);
		r = store_add_post(st, &p, now);
		if (r == 0 && (k + 1) % 1000 == 0)
			r = store_flush(st);
	}
	json_decref(media);
	return r < 0 ? r : store_flush(st);
}

static int mark_one(struct store *st, struct taken *t)
{
	struct delivery_rec rec;
	char id[72];
	int r;

	delivery_id(id, sizeof(id), t);
	if ((r = store_delivery_load(st, id, &rec)) < 0)
		return r;
	t->row = rec.row;
	r = store_mark_publishing(st, id, rec.row, rec.attempts + 1, wall_ms());
	store_delivery_clear(&rec);
	return r;
}

static int record_one(struct store *st, const struct taken *t)
{
	int64_t now = wall_ms();
	struct attempt_result res = {
	        .n = 1,
	        .started_ms = now - 2,
	        .finished_ms = now,
	        .http_status = 200,
	        .latency_ms = 1.5,
	        .row = t->row,
	};
	char id[72];

	delivery_id(id, sizeof(id), t);
	return store_record_result(st, id, &res, DS_PUBLISHED, -1, NULL, NULL,
	                           NULL);
}

/*
 * Each turn records the results of the batch before it and marks the
 * next, in one transaction, then waits for it to be durable: the steady
 * state of a burst, whose requests leave only once their intent is kept.
 */
static int run_turns(struct store *st, uv_loop_t *loop, struct taken *order,
                     unsigned long n, unsigned long batch)
{
	unsigned long marked = 0, recorded = 0;

	while (recorded < n) {
		struct turn_wait w = {0, 0};
		int r = 0;

		while (recorded < marked && r == 0)
			r = record_one(st, &order[recorded++]);
		for (unsigned long k = 0; k < batch && marked < n && r == 0;
		     k++)
			r = mark_one(st, &order[marked++]);
		if (r < 0 || store_after_commit(st, turn_durable, &w) < 0 ||
		    store_submit(st) < 0)
			return -EIO;
		while (!w.done)
			if (uv_run(loop, UV_RUN_ONCE) < 0)
				return -EIO;
		if (w.err < 0)
			return w.err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* 64 a turn: the dispatcher's PUMP_BATCH. */
	unsigned long n = 20000, batch = 64;
	struct taken *order;
	struct looptime *lt = NULL;
	struct store *st;
	uv_loop_t loop;
	char err[256];
	double t0, c0, w0, t1, c1, w1;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: storebench DIR [DELIVERIES [BATCH "
		                "[CHANNELS [QUANTUM]]]]\n");
		return 64;
	}
	if (argc > 2)
		n = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		batch = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		nchannels = strtoul(argv[4], NULL, 10);
	if (argc > 5)
		quantum = strtoul(argv[5], NULL, 10);
	if (n == 0 || batch == 0 || nchannels == 0 || quantum == 0 ||
	    n % nchannels != 0) {
		fprintf(stderr, "storebench: DELIVERIES, BATCH, CHANNELS and "
		                "QUANTUM must be positive, DELIVERIES a "
		                "multiple of CHANNELS\n");
		return 64;
	}
	if ((order = dispatch_order(n)) == NULL) {
		fprintf(stderr, "storebench: out of memory\n");
		return 1;
	}
	if (store_open(argv[1], &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "storebench: %s\n", err);
		return 1;
	}
	if (queue_posts(st, n) < 0) {
		fprintf(stderr, "storebench: queueing failed\n");
		return 1;
	}
	if (uv_loop_init(&loop) != 0 || looptime_start(&loop, &lt) < 0 ||
	    store_start(st, &loop, store_failed, NULL) < 0) {
		fprintf(stderr, "storebench: could not start the store\n");
		return 1;
	}
	t0 = now_s();
	c0 = cpu_s();
	w0 = written_bytes();
	r = run_turns(st, &loop, order, n, batch);
	t1 = now_s();
	c1 = cpu_s();
	w1 = written_bytes();
	if (r < 0 || store_stop(st) < 0) {
		fprintf(stderr, "storebench: a turn failed: %s\n",
		        strerror(r < 0 ? -r : EIO));
		return 1;
	}
	printf("storebench: %lu deliveries over %lu channel%s, %lu at a "
	       "time, in turns of %lu: %.0f/s, %.1f us CPU and %.1f KiB "
	       "written a delivery (all threads)\n",
	       n, nchannels, nchannels == 1 ? "" : "s", quantum, batch,
	       (double)n / (t1 - t0), (c1 - c0) * 1e6 / (double)n,
	       (w1 - w0) / 1024 / (double)n);
	free(order);
	looptime_close(lt);
	store_close(st);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return 0;
}
