/*
 * The HTTP client's result on a real libuv loop and curl thread: a request
 * taken back before curl started it (an abort, a stop) says it sent
 * nothing, though its recycled handle's last request was sent. Were it
 * to say "sent", a stop would leave a post on a channel that cannot take
 * a repeat with an unknown outcome for nothing.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "check_main.h"
#include "http.h"
#include "http_impl.h"

struct outcome {
	int done;
	CURLcode code;
	int request_sent;
};

static void on_result(void *arg, const struct http_result *res)
{
	struct outcome *o = arg;

	o->done = 1;
	o->code = res->code;
	o->request_sent = res->request_sent;
}

/*
 * A port that takes connections and never answers: the kernel accepts
 * them into the backlog, so a request is sent and then times out.
 */
static int silent_listener(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void submit_post(struct http *h, int port, struct outcome *o)
{
	struct http_request req = {.timeout_ms = 300,
	                           .connect_timeout_ms = 300};
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	req.url = strdup(url);
	req.body = strdup("{\"text\":\"hello\"}");
	ck_assert_ptr_nonnull(req.url);
	ck_assert_ptr_nonnull(req.body);
	req.body_len = strlen(req.body);
	ck_assert_int_eq(http_submit(h, &req, on_result, o), 0);
}

static void run_until(uv_loop_t *loop, const int *flag)
{
	uint64_t end = uv_hrtime() + 5000000000ULL;

	while (!*flag && uv_hrtime() < end)
		uv_run(loop, UV_RUN_ONCE);
	ck_assert_msg(*flag, "no result within 5 s");
}

static void on_closed(void *arg)
{
	*(int *)arg = 1;
}

START_TEST(test_aborted_before_start_sent_nothing)
{
	struct outcome first = {0}, second = {0};
	int port, lfd = silent_listener(&port), closed = 0;
	uv_loop_t loop;
	struct http *h;
	char err[256];

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	h = http_new(&loop, 4, 0, err, sizeof(err));
	ck_assert_msg(h != NULL, "http_new: %s", err);

	/* Sent, never answered: the handle now holds a sent request. */
	submit_post(h, port, &first);
	run_until(&loop, &first.done);
	ck_assert_int_eq(first.code, CURLE_OPERATION_TIMEDOUT);
	ck_assert_int_eq(first.request_sent, 1);

	/*
	 * The same handle again (spares are reused last in, first out),
	 * held from curl's thread by its lock until the abort is asked for:
	 * it is taken back from the queue, never started.
	 */
	uv_mutex_lock(&h->multi_mu);
	submit_post(h, port, &second);
	http_abort_all(h);
	uv_mutex_unlock(&h->multi_mu);
	run_until(&loop, &second.done);
	ck_assert_int_eq(second.code, CURLE_ABORTED_BY_CALLBACK);
	ck_assert_int_eq(second.request_sent, 0);

	http_close(h, on_closed, &closed);
	run_until(&loop, &closed);
	http_free(h);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	close(lfd);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("result");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_aborted_before_start_sent_nothing);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(http_suite)
