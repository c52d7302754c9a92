/*
 * The loop's turn timer on a real libuv loop: the longest turn is found,
 * and its cause is the longest named piece of work in it, not the last
 * one, nor one from another turn; how much of it was on the CPU tells a
 * wait from work.
 */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <uv.h>

#include "check_main.h"
#include "looptime.h"

/* Keep the CPU busy for ms: what a long callback does to the loop. */
static void busy_ms(unsigned ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;

	while (uv_hrtime() < end)
		;
}

/* One turn: a short piece, a long one, and unnamed work. */
static void on_first(uv_timer_t *t)
{
	uint64_t t0 = looptime_enter();

	(void)t;
	busy_ms(3);
	looptime_leave(t0, "short piece", NULL);
	t0 = looptime_enter();
	busy_ms(30);
	looptime_leave(t0, "long", "piece");
	busy_ms(4);
}

/* A later, shorter turn whose piece must not take the cause over. */
static void on_second(uv_timer_t *t)
{
	uint64_t t0 = looptime_enter();

	busy_ms(2);
	looptime_leave(t0, "later piece", NULL);
	/* The turn still ends at this iteration's prepare. */
	uv_stop(t->loop);
}

/* A turn longer than every named piece, with none named. */
static void on_unnamed(uv_timer_t *t)
{
	busy_ms(80);
	uv_stop(t->loop);
}

/* A turn that waits in the kernel: long, but hardly on the CPU. */
static void on_sleep(uv_timer_t *t)
{
	uint64_t t0 = looptime_enter();

	nanosleep(&(struct timespec){.tv_nsec = 80 * 1000000}, NULL);
	looptime_leave(t0, "sleep", NULL);
	uv_stop(t->loop);
}

#define TOUCHED_PAGES 1024

/* A turn on the CPU that also faults in fresh pages. */
static void on_touch(uv_timer_t *t)
{
	size_t page = 4096, len = TOUCHED_PAGES * page;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	for (size_t i = 0; i < len; i += page)
		p[i] = 1;
	munmap(p, len);
	busy_ms(80);
	uv_stop(t->loop);
}

static void closed(uv_handle_t *h)
{
	(void)h;
}

/*
 * The test's own view of the two timers' turns, from the check after a
 * poll to the prepare before the next one (ours runs before looptime's):
 * a loaded machine may stall either turn by more than the pieces differ,
 * and a run where the turn meant to be the longer was not is void.
 */
struct turn_watch {
	uv_check_t check;
	uv_prepare_t prepare;
	uint64_t polled_ns;
	int which; /* the timer that ran this turn: 1, 2; 0 none */
	uint64_t turn_ns[3];
	uv_timer_cb first, second; /* what the two timers run */
};

static struct turn_watch watch;

static void watch_check(uv_check_t *h)
{
	(void)h;
	watch.polled_ns = uv_hrtime();
}

static void watch_prepare(uv_prepare_t *h)
{
	(void)h;
	if (watch.which != 0 && watch.polled_ns != 0)
		watch.turn_ns[watch.which] = uv_hrtime() - watch.polled_ns;
	watch.which = 0;
}

/* Either timer: which one it is (1, 2) is its data. */
static void watched_timer(uv_timer_t *t)
{
	watch.which = (int)(intptr_t)t->data;
	(watch.which == 1 ? watch.first : watch.second)(t);
}

/*
 * Run first at 5 ms, second at 60 ms; status's "loop" after, or NULL
 * when the test's own view of the turns had them in one turn, or the
 * other one not shorter by a margin than the one meant to be the longer
 * (longer: 1 or 2).
 */
#define PREMISE_MARGIN_NS (10 * 1000 * 1000)

static json_t *run_turns_once(uv_timer_cb first, uv_timer_cb second, int longer)
{
	uv_loop_t loop;
	uv_timer_t a, b;
	struct looptime *lt;
	json_t *j;
	uint64_t meant, other;

	memset(&watch, 0, sizeof(watch));
	watch.first = first;
	watch.second = second;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(looptime_start(&loop, &lt), 0);
	uv_check_init(&loop, &watch.check);
	uv_check_start(&watch.check, watch_check);
	uv_prepare_init(&loop, &watch.prepare);
	uv_prepare_start(&watch.prepare, watch_prepare);
	uv_timer_init(&loop, &a);
	uv_timer_init(&loop, &b);
	a.data = (void *)(intptr_t)1;
	b.data = (void *)(intptr_t)2;
	uv_timer_start(&a, watched_timer, 5, 0);
	uv_timer_start(&b, watched_timer, 60, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	j = looptime_json(lt);
	looptime_close(lt);
	uv_close((uv_handle_t *)&a, closed);
	uv_close((uv_handle_t *)&b, closed);
	uv_close((uv_handle_t *)&watch.check, closed);
	uv_close((uv_handle_t *)&watch.prepare, closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	meant = watch.turn_ns[longer];
	other = watch.turn_ns[3 - longer];
	/* 0: both timers fell due in one turn. */
	if (meant == 0 || other == 0 || meant < other + PREMISE_MARGIN_NS) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A few runs: one stall is likely on a loaded machine, five are not. */
static json_t *run_turns(uv_timer_cb first, uv_timer_cb second, int longer)
{
	for (int i = 0; i < 5; i++) {
		json_t *j = run_turns_once(first, second, longer);

		if (j != NULL)
			return j;
	}
	ck_abort_msg("five runs stalled the shorter turn past the longer");
	return NULL;
}

START_TEST(test_cause_is_longest_piece)
{
	json_t *j = run_turns(on_first, on_second, 1);
	const char *cause =
	        json_string_value(json_object_get(j, "max_turn_cause"));

	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, "long piece");
	ck_assert(json_real_value(json_object_get(j, "max_turn_cause_ms")) >=
	          30.0);
	ck_assert(json_real_value(json_object_get(j, "max_turn_ms")) >= 37.0);
	ck_assert(json_integer_value(json_object_get(j, "slow_turns")) >= 1);
	json_decref(j);
}
END_TEST

START_TEST(test_unnamed_turn)
{
	json_t *j = run_turns(on_first, on_unnamed, 2);

	ck_assert_str_eq(
	        json_string_value(json_object_get(j, "max_turn_cause")),
	        "unnamed");
	ck_assert(json_real_value(json_object_get(j, "max_turn_ms")) >= 80.0);
	json_decref(j);
}
END_TEST

/*
 * Off the CPU: the sleep is one wait, and its CPU time a small part of
 * the turn (the bound leaves room for a loaded machine).
 */
START_TEST(test_turn_off_cpu)
{
	json_t *j = run_turns(on_first, on_sleep, 2);

	ck_assert_str_eq(
	        json_string_value(json_object_get(j, "max_turn_cause")),
	        "sleep");
	ck_assert(json_real_value(json_object_get(j, "max_turn_ms")) >= 80.0);
	ck_assert(json_real_value(json_object_get(j, "max_turn_cpu_ms")) <
	          20.0);
	ck_assert(json_integer_value(json_object_get(j, "max_turn_waited")) >=
	          1);
	json_decref(j);
}
END_TEST

/*
 * On the CPU: most of the busy 80 ms (a busy machine may preempt some),
 * with each page touched a fault and none of them read from disk.
 */
START_TEST(test_turn_on_cpu)
{
	json_t *j = run_turns(on_first, on_touch, 2);
	json_int_t faults =
	        json_integer_value(json_object_get(j, "max_turn_faults"));

	ck_assert(json_real_value(json_object_get(j, "max_turn_ms")) >= 80.0);
	ck_assert(json_real_value(json_object_get(j, "max_turn_cpu_ms")) >=
	          20.0);
	ck_assert_int_ge(faults, TOUCHED_PAGES);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(j, "max_turn_major_faults")),
	        0);
	json_decref(j);
}
END_TEST

/* Outside a loop with a timer, pieces are ignored, not crashed on. */
START_TEST(test_no_loop)
{
	uint64_t t0 = looptime_enter();

	looptime_leave(t0, "nowhere", NULL);
	ck_assert_uint_eq(t0, 0);
}
END_TEST

static Suite *looptime_suite(void)
{
	Suite *s = suite_create("looptime");
	TCase *tc = tcase_create("turns");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_cause_is_longest_piece);
	tcase_add_test(tc, test_unnamed_turn);
	tcase_add_test(tc, test_turn_off_cpu);
	tcase_add_test(tc, test_turn_on_cpu);
	tcase_add_test(tc, test_no_loop);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(looptime_suite)
