/*
 * The store's contract: every operation, as smmd's modules call it, on a
 * real store in a temporary directory, for every compiled-in backend
 * (store_backends[]): one suite each.
 */
#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "looptime.h"
#include "stats.h"
#include "store.h"
#include "store_backend.h"
#include "view.h"

#define T0 1700000000000LL /* a fixed "now", in ms */

static char dir[64];
static struct store *st;
static const struct store_backend *backend; /* under test */
static const char *backend_url; /* its URL, for one that needs one */

static void rm_store(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct store *open_store(void)
{
	struct store *s = NULL;
	char err[256] = "";
	int64_t counts[DS_COUNT];

	if (store_open_backend(backend->name, dir, backend_url, 0, &s, err,
	                       sizeof(err)) < 0)
		ck_abort_msg("store_open: %s", err);
	/* Counted here, as smmd does at start: kept from here on, and
	 * checked at the end (check_kept_counts). */
	ck_assert_int_ge(store_kept_counts(s, counts), 0);
	return s;
}

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

/* Each test starts on an empty database, as on an empty directory. */
static void empty_database(void)
{
	PGconn *c = PQconnectdb(backend_url);
	PGresult *r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, "SET client_min_messages = warning; "
	              "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
	              PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}
#endif

static void setup(void)
{
#ifdef HAVE_LIBPQ
	if (backend_url)
		empty_database();
#endif
	snprintf(dir, sizeof(dir), "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	st = open_store();
}

/*
 * A store that keeps its counts as its rows change (a shared view) has
 * them right after whatever the test did, rollbacks included: as a scan
 * counts them.
 */
static void check_kept_counts(void)
{
	int64_t kept[DS_COUNT], counted[DS_COUNT];
	int r;

	if (st == NULL || (r = store_kept_counts(st, kept)) == 0)
		return;
	ck_assert_int_eq(r, 1);
	ck_assert_int_eq(store_counts(st, counted), 0);
	for (int i = 0; i < DS_COUNT; i++)
		ck_assert_msg(kept[i] == counted[i],
		              "%s: kept %lld, counted %lld", state_name(i),
		              (long long)kept[i], (long long)counted[i]);
}

static void teardown(void)
{
	check_kept_counts();
	store_close(st);
	st = NULL;
	rm_store();
}

/* Make the turn's writes durable and run what waited for them. */
static void flush(void)
{
	ck_assert_int_eq(store_flush(st), 0);
}

/* A post with one delivery per channel, due at due_ms. */
static int add(const char *id, int64_t due_ms, const char *const *channels,
               size_t n)
{
	json_t *media = json_array();
	struct post_new p = {
	        .id = id,
	        .source = "adhoc",
	        .text = "hello\nsecond line",
	        .link = "https://example.org/x",
	        .campaign = "spring",
	        .media = media,
	        .due_ms = due_ms,
	        .channels = channels,
	        .nchannels = n,
	};
	int r = store_add_post(st, &p, T0);

	json_decref(media);
	return r;
}

/* What dispatch and calsync do: settle a delivery still waiting. */
static int settle_waiting(struct store *s, const char *id,
                          enum delivery_state to, const char *reason,
                          int64_t now)
{
	struct transition t = {.id = id,
	                       .from = DS_WAITING,
	                       .to = to,
	                       .reason = reason,
	                       .next_ms = -1,
	                       .now_ms = now};
	int r = store_transition(s, &t, NULL);

	return r == -EALREADY || r == -ENOENT ? 0 : r;
}

static const char *const two[] = {"shop", "blog"};
static const char *const one[] = {"shop"};

/* A post through s (a reader, to see it refused). */
static int add_to(struct store *s, const char *id)
{
	json_t *media = json_array();
	struct post_new p = {
	        .id = id,
	        .source = "adhoc",
	        .text = "x",
	        .media = media,
	        .due_ms = T0 + 3000,
	        .channels = one,
	        .nchannels = 1,
	};
	int r = store_add_post(s, &p, T0);

	json_decref(media);
	return r;
}

static enum delivery_state state_of(const char *id)
{
	struct delivery_rec rec;
	enum delivery_state s;

	ck_assert_int_eq(store_delivery_load(st, id, &rec), 0);
	s = rec.state;
	store_delivery_clear(&rec);
	return s;
}

START_TEST(test_add_load)
{
	struct delivery_rec rec;

	ck_assert_int_eq(add("p1", T0 + 1000, two, 2), 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	ck_assert_str_eq(rec.id, "p1/shop");
	ck_assert_str_eq(rec.post_id, "p1");
	ck_assert_str_eq(rec.channel, "shop");
	ck_assert_str_eq(rec.text, "hello\nsecond line");
	ck_assert_str_eq(rec.link, "https://example.org/x");
	ck_assert_str_eq(rec.campaign, "spring");
	ck_assert_str_eq(rec.source, "adhoc");
	ck_assert_int_eq(strncmp(rec.webhook_id, "msg_", 4), 0);
	ck_assert_int_eq(rec.state, DS_SCHEDULED);
	ck_assert_int_eq(rec.due_ms, T0 + 1000);
	ck_assert_uint_eq(rec.attempts, 0);
	ck_assert_uint_eq(json_array_size(rec.media), 0);
	store_delivery_clear(&rec);
	ck_assert_int_eq(store_delivery_load(st, "p1/nope", &rec), -ENOENT);
}
END_TEST

START_TEST(test_duplicate)
{
	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	ck_assert_int_eq(add("p1", T0, two, 2), -EEXIST);
	flush();
	ck_assert_int_eq(add("p1", T0, one, 1), -EEXIST);
}
END_TEST

START_TEST(test_publish_result)
{
	struct attempt_result ar = {
	        .n = 1,
	        .started_ms = T0 + 5,
	        .finished_ms = T0 + 50,
	        .http_status = 503,
	        .latency_ms = 45,
	};
	struct delivery_rec rec;
	json_t *shown, *d, *att;

	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 1, T0 + 5), 0);
	flush();
	ck_assert_int_eq(state_of("p1/shop"), DS_PUBLISHING);
	ck_assert_int_eq(store_record_result(st, "p1/shop", &ar, DS_RETRY_WAIT,
	                                     T0 + 2000, "HTTP 503", NULL, NULL),
	                 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	ck_assert_int_eq(rec.state, DS_RETRY_WAIT);
	ck_assert_uint_eq(rec.attempts, 1);
	store_delivery_clear(&rec);

	ar.n = 2;
	ar.http_status = 200;
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 2, T0 + 2000),
	                 0);
	ck_assert_int_eq(store_record_result(st, "p1/shop", &ar, DS_PUBLISHED,
	                                     -1, NULL, "r-1",
	                                     "https://net/r-1"),
	                 0);
	flush();
	ck_assert_int_eq(view_show(st, "p1/shop", &shown), 0);
	d = json_array_get(json_object_get(shown, "deliveries"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "state")),
	                 "published");
	ck_assert_str_eq(json_string_value(json_object_get(d, "remote_url")),
	                 "https://net/r-1");
	ck_assert_str_eq(json_string_value(json_object_get(d, "remote_id")),
	                 "r-1");
	att = json_object_get(d, "attempts");
	ck_assert_uint_eq(json_array_size(att), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_array_get(att, 0), "http_status")),
	                 503);
	json_decref(shown);
}
END_TEST

/*
 * The row a load gives is a hint: the right one finds the delivery, and
 * one that points at another delivery, or at none, changes nothing but
 * the delivery named.
 */
START_TEST(test_row_hint)
{
	struct attempt_result ar = {
	        .n = 1,
	        .started_ms = T0 + 5,
	        .finished_ms = T0 + 50,
	        .http_status = 200,
	        .latency_ms = 45,
	};
	struct delivery_rec shop, blog;

	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &shop), 0);
	ck_assert_int_eq(store_delivery_load(st, "p1/blog", &blog), 0);
	ck_assert_int_gt(shop.row, 0);
	ck_assert_int_gt(blog.row, 0);
	ck_assert_int_ne(shop.row, blog.row);

	/* p1/shop by its own row. */
	ck_assert_int_eq(
	        store_mark_publishing(st, "p1/shop", shop.row, 1, T0 + 5), 0);
	ar.row = shop.row;
	ck_assert_int_eq(store_record_result(st, "p1/shop", &ar, DS_PUBLISHED,
	                                     -1, NULL, NULL, NULL),
	                 0);
	flush();
	ck_assert_int_eq(state_of("p1/shop"), DS_PUBLISHED);
	ck_assert_int_eq(state_of("p1/blog"), DS_SCHEDULED);

	/* p1/blog with p1/shop's row: p1/shop is left as it was. */
	ck_assert_int_eq(
	        store_mark_publishing(st, "p1/blog", shop.row, 1, T0 + 5), 0);
	flush();
	ck_assert_int_eq(state_of("p1/blog"), DS_PUBLISHING);
	ck_assert_int_eq(state_of("p1/shop"), DS_PUBLISHED);
	ar.row = shop.row;
	ar.http_status = 503;
	ck_assert_int_eq(store_record_result(st, "p1/blog", &ar, DS_RETRY_WAIT,
	                                     T0 + 2000, "HTTP 503", NULL, NULL),
	                 0);
	flush();
	ck_assert_int_eq(state_of("p1/blog"), DS_RETRY_WAIT);
	ck_assert_int_eq(state_of("p1/shop"), DS_PUBLISHED);

	/* A row that holds nothing. */
	ck_assert_int_eq(
	        store_mark_publishing(st, "p1/blog", 999999, 2, T0 + 2000), 0);
	flush();
	ck_assert_int_eq(state_of("p1/blog"), DS_PUBLISHING);
	store_delivery_clear(&shop);
	store_delivery_clear(&blog);
}
END_TEST

START_TEST(test_cancel)
{
	json_t *ids = NULL;
	char msg[256] = "";

	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	ck_assert_int_eq(add("p2", T0, one, 1), 0);
	flush();
	/* One delivery by its id. */
	ck_assert_int_eq(view_cancel(st, "p1/shop", T0, &ids, msg, sizeof(msg)),
	                 0);
	ck_assert_uint_eq(json_array_size(ids), 1);
	ck_assert_str_eq(json_string_value(json_array_get(ids, 0)), "p1/shop");
	json_decref(ids);
	/* The rest of the post by the post id: only what can still move. */
	ck_assert_int_eq(view_cancel(st, "p1", T0, &ids, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(json_array_size(ids), 1);
	ck_assert_str_eq(json_string_value(json_array_get(ids, 0)), "p1/blog");
	json_decref(ids);
	/* Nothing left to move: why. */
	ck_assert_int_eq(view_cancel(st, "p1", T0, &ids, msg, sizeof(msg)),
	                 -EALREADY);
	ck_assert_ptr_null(ids);
	ck_assert_str_eq(msg, "'p1' cannot be cancelled: it is cancelled");
	ck_assert_int_eq(view_cancel(st, "nope", T0, &ids, msg, sizeof(msg)),
	                 -ENOENT);
	ck_assert_str_eq(msg, "no post or delivery 'nope'");
	/* A publishing delivery is past cancelling. */
	ck_assert_int_eq(store_mark_publishing(st, "p2/shop", 0, 1, T0), 0);
	ck_assert_int_eq(view_cancel(st, "p2/shop", T0, &ids, msg, sizeof(msg)),
	                 -EALREADY);
	ck_assert_str_eq(msg,
	                 "'p2/shop' cannot be cancelled: it is publishing");
	flush();
	ck_assert_int_eq(state_of("p1/shop"), DS_CANCELLED);
	ck_assert_int_eq(state_of("p2/shop"), DS_PUBLISHING);
}
END_TEST

/* Leave p1/shop failed after one attempt. */
static void make_failed(void)
{
	struct attempt_result ar = {.n = 1,
	                            .started_ms = T0,
	                            .finished_ms = T0 + 1,
	                            .http_status = 400,
	                            .latency_ms = 1};

	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 1, T0), 0);
	ck_assert_int_eq(store_record_result(st, "p1/shop", &ar, DS_FAILED, -1,
	                                     "HTTP 400", NULL, NULL),
	                 0);
}

START_TEST(test_settle)
{
	char msg[256] = "";
	json_t *shown, *d;

	make_failed();
	ck_assert_int_eq(add("p2", T0, one, 1), 0);
	ck_assert_int_eq(view_settle(st, "p2/shop", DS_RETRY_WAIT, NULL, T0,
	                             msg, sizeof(msg)),
	                 -EALREADY);
	ck_assert_str_eq(msg, "'p2/shop' is scheduled: only unknown or failed "
	                      "deliveries can be retried or resolved");
	ck_assert_int_eq(view_settle(st, "nope/x", DS_RETRY_WAIT, NULL, T0, msg,
	                             sizeof(msg)),
	                 -ENOENT);
	ck_assert_str_eq(msg, "no delivery 'nope/x' (give POST/CHANNEL)");
	ck_assert_int_eq(view_settle(st, "p1/shop", DS_PUBLISHED,
	                             "https://net/1", T0 + 9, msg, sizeof(msg)),
	                 0);
	flush();
	ck_assert_int_eq(view_show(st, "p1/shop", &shown), 0);
	d = json_array_get(json_object_get(shown, "deliveries"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "state")),
	                 "published");
	ck_assert_str_eq(json_string_value(json_object_get(d, "remote_url")),
	                 "https://net/1");
	ck_assert(json_is_null(json_object_get(d, "last_error")));
	json_decref(shown);
	/* Published is final. */
	ck_assert_int_eq(view_settle(st, "p1/shop", DS_FAILED, NULL, T0, msg,
	                             sizeof(msg)),
	                 -EALREADY);
}
END_TEST

START_TEST(test_settle_retry)
{
	char msg[256] = "";

	make_failed();
	ck_assert_int_eq(view_settle(st, "p1/shop", DS_RETRY_WAIT, NULL, T0 + 7,
	                             msg, sizeof(msg)),
	                 0);
	flush();
	ck_assert_int_eq(state_of("p1/shop"), DS_RETRY_WAIT);
}
END_TEST

START_TEST(test_mark_settled)
{
	json_t *shown, *d;

	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	ck_assert_int_eq(
	        settle_waiting(st, "p1/shop", DS_MISSED, "too late", T0), 1);
	ck_assert_int_eq(
	        settle_waiting(st, "p1/shop", DS_MISSED, "too late", T0), 0);
	flush();
	ck_assert_int_eq(view_show(st, "p1", &shown), 0);
	d = json_array_get(json_object_get(shown, "deliveries"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "state")),
	                 "missed");
	ck_assert_str_eq(json_string_value(json_object_get(d, "last_error")),
	                 "too late");
	json_decref(shown);
}
END_TEST

static int repeat_blog(void *arg, const char *id, const char *channel)
{
	(void)arg;
	(void)id;
	return strcmp(channel, "blog") == 0;
}

/* p1/shop is another node's, still in flight: left alone. */
static int leave_shop(void *arg, const char *id, const char *channel)
{
	(void)arg;
	if (strcmp(id, "p1/shop") == 0)
		return -1;
	return strcmp(channel, "blog") == 0;
}

START_TEST(test_recover)
{
	json_t *unknown = json_array(), *shown, *att;
	struct delivery_rec rec;

	ck_assert_int_eq(add("p1", T0 + 100, two, 2), 0);
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 1, T0 + 100),
	                 0);
	ck_assert_int_eq(store_mark_publishing(st, "p1/blog", 0, 1, T0 + 100),
	                 0);
	flush();
	/* As after a crash: reopen, then recover; first leaving p1/shop. */
	store_close(st);
	st = open_store();
	ck_assert_int_eq(store_recover_interrupted(st, T0 + 400, leave_shop,
	                                           NULL, unknown),
	                 1);
	flush();
	ck_assert_uint_eq(json_array_size(unknown), 0);
	ck_assert_int_eq(state_of("p1/shop"), DS_PUBLISHING);
	ck_assert_int_eq(state_of("p1/blog"), DS_RETRY_WAIT);
	/* Its node gone after all: recovered in its turn. */
	ck_assert_int_eq(store_recover_interrupted(st, T0 + 500, repeat_blog,
	                                           NULL, unknown),
	                 1);
	flush();
	ck_assert_uint_eq(json_array_size(unknown), 1);
	ck_assert_str_eq(json_string_value(json_array_get(unknown, 0)),
	                 "p1/shop");
	ck_assert_int_eq(state_of("p1/shop"), DS_UNKNOWN);
	ck_assert_int_eq(store_delivery_load(st, "p1/blog", &rec), 0);
	ck_assert_int_eq(rec.state, DS_RETRY_WAIT);
	ck_assert_uint_eq(rec.attempts, 1);
	store_delivery_clear(&rec);
	ck_assert_int_eq(view_show(st, "p1/blog", &shown), 0);
	att = json_object_get(
	        json_array_get(json_object_get(shown, "deliveries"), 0),
	        "attempts");
	ck_assert_uint_eq(json_array_size(att), 1);
	json_decref(shown);
	/* Nothing left in flight: a second run finds nothing. */
	ck_assert_int_eq(store_recover_interrupted(st, T0 + 600, repeat_blog,
	                                           NULL, unknown),
	                 0);
	json_decref(unknown);
}
END_TEST

START_TEST(test_transition)
{
	struct transition t = {.id = "p1",
	                       .from = DS_WAITING,
	                       .to = DS_HELD,
	                       .reason = "paused",
	                       .next_ms = -1,
	                       .now_ms = T0};
	struct moved m;
	json_t *out, *d;

	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 1, T0), 0);
	/* By post: only what is in from moves; the ids say which. */
	ck_assert_int_eq(store_transition(st, &t, &m), 1);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.ids[0], "p1/blog");
	store_moved_clear(&m);
	/* Nothing left in from: why, from the first delivery by channel. */
	ck_assert_int_eq(store_transition(st, &t, &m), -EALREADY);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(m.current, DS_HELD);
	/* By delivery, back, keeping the reason, with a next time. */
	t.id = "p1/blog";
	t.from = DS_BIT(DS_HELD);
	t.to = DS_RETRY_WAIT;
	t.keep_reason = 1;
	t.next_ms = T0 + 5;
	ck_assert_int_eq(store_transition(st, &t, NULL), 1);
	/* The wrong state, by delivery. */
	t.id = "p1/shop";
	ck_assert_int_eq(store_transition(st, &t, &m), -EALREADY);
	ck_assert_int_eq(m.current, DS_PUBLISHING);
	t.id = "nope";
	ck_assert_int_eq(store_transition(st, &t, &m), -ENOENT);
	t.id = "p1/nope";
	ck_assert_int_eq(store_transition(st, &t, NULL), -ENOENT);
	flush();
	ck_assert_int_eq(view_show(st, "p1/blog", &out), 0);
	d = json_array_get(json_object_get(out, "deliveries"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "state")),
	                 "retry_wait");
	ck_assert_str_eq(json_string_value(json_object_get(d, "last_error")),
	                 "paused");
	ck_assert_str_eq(json_string_value(json_object_get(d, "next_attempt")),
	                 "2023-11-14T22:13:20.005Z");
	json_decref(out);
}
END_TEST

struct seen {
	char ids[8][32];
	int64_t due[8];
	int n;
};

static void collect_pending(void *arg, const char *id, int64_t due_ms)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", id);
	s->due[s->n++] = due_ms;
}

static int64_t seen_due(const struct seen *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return s->due[i];
	return -1;
}

START_TEST(test_pending)
{
	struct attempt_result ar = {.n = 1,
	                            .started_ms = T0,
	                            .finished_ms = T0 + 1,
	                            .http_status = 503,
	                            .latency_ms = 1};
	struct seen s = {0};
	json_t *ids;
	char msg[128];

	ck_assert_int_eq(add("p1", T0 + 10, one, 1), 0);
	ck_assert_int_eq(add("p2", T0 + 20, one, 1), 0);
	ck_assert_int_eq(add("p3", T0 + 30, one, 1), 0);
	ck_assert_int_eq(store_mark_publishing(st, "p2/shop", 0, 1, T0), 0);
	ck_assert_int_eq(store_record_result(st, "p2/shop", &ar, DS_RETRY_WAIT,
	                                     T0 + 999, "HTTP 503", NULL, NULL),
	                 0);
	ck_assert_int_eq(view_cancel(st, "p3", T0, &ids, msg, sizeof(msg)), 0);
	json_decref(ids);
	flush();
	ck_assert_int_eq(store_for_each_pending(st, collect_pending, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(seen_due(&s, "p1/shop"), T0 + 10);
	ck_assert_int_eq(seen_due(&s, "p2/shop"), T0 + 999);
}
END_TEST

START_TEST(test_list_counts)
{
	json_t *out, *arr, *d;
	int64_t counts[DS_COUNT];
	char msg[128];
	json_t *ids;

	ck_assert_int_eq(add("p1", T0 + 20, two, 2), 0);
	ck_assert_int_eq(add("p2", T0 + 10, one, 1), 0);
	ck_assert_int_eq(view_cancel(st, "p1/blog", T0, &ids, msg, sizeof(msg)),
	                 0);
	json_decref(ids);
	flush();
	ck_assert_int_eq(view_list(st, -1, 10, &out), 0);
	arr = json_object_get(out, "deliveries");
	ck_assert_uint_eq(json_array_size(arr), 3);
	/* By due time, then id. */
	d = json_array_get(arr, 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "id")),
	                 "p2/shop");
	ck_assert_str_eq(json_string_value(json_object_get(d, "text")),
	                 "hello");
	ck_assert_str_eq(json_string_value(json_object_get(d, "due")),
	                 "2023-11-14T22:13:20.010Z");
	ck_assert_str_eq(json_string_value(
	                         json_object_get(json_array_get(arr, 1), "id")),
	                 "p1/blog");
	json_decref(out);
	ck_assert_int_eq(view_list(st, DS_CANCELLED, 10, &out), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(out, "deliveries")),
	                  1);
	json_decref(out);
	ck_assert_int_eq(view_list(st, -1, 1, &out), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(out, "deliveries")),
	                  1);
	json_decref(out);
	ck_assert_int_eq(store_counts(st, counts), 0);
	ck_assert_int_eq(counts[DS_SCHEDULED], 2);
	ck_assert_int_eq(counts[DS_CANCELLED], 1);
	ck_assert_int_eq(counts[DS_PUBLISHED], 0);
}
END_TEST

START_TEST(test_show)
{
	json_t *out, *post;

	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	flush();
	ck_assert_int_eq(view_show(st, "p1", &out), 0);
	post = json_object_get(out, "post");
	ck_assert_str_eq(json_string_value(json_object_get(post, "id")), "p1");
	ck_assert_str_eq(json_string_value(json_object_get(post, "text")),
	                 "hello\nsecond line");
	ck_assert_str_eq(json_string_value(json_object_get(post, "campaign")),
	                 "spring");
	ck_assert_uint_eq(json_array_size(json_object_get(out, "deliveries")),
	                  2);
	ck_assert_ptr_nonnull(json_object_get(
	        json_array_get(json_object_get(out, "deliveries"), 0),
	        "webhook_id"));
	json_decref(out);
	ck_assert_int_eq(view_show(st, "p1/blog", &out), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(out, "deliveries")),
	                  1);
	json_decref(out);
	ck_assert_int_eq(view_show(st, "p1/nope", &out), -ENOENT);
	ck_assert_int_eq(view_show(st, "nope", &out), -ENOENT);
}
END_TEST

static void count_rows(void *arg, const struct delivery_row *r)
{
	(void)r;
	(*(int *)arg)++;
}

/* Deliveries a reader lists (store_list_rows on it). */
static int reader_count(struct store *r)
{
	int n = 0;

	ck_assert_int_eq(store_list_rows(r, -1, 100, count_rows, &n), 0);
	return n;
}

/*
 * A reader (store_read_begin): what is committed, not the open turn; one
 * snapshot until store_read_end, whatever is committed meanwhile; its
 * connection is read-only; two at once are two connections, pooled and
 * reused; once stopped, no more. store_close closes them (ASan: no leak).
 */
START_TEST(test_reader)
{
	struct store *r1, *r2, *again;
	struct delivery_rec rec;
	char err[256];

	ck_assert_int_eq(store_reads_off_loop(st), 1);
	ck_assert_int_eq(add("p1", T0 + 1000, two, 2), 0);
	flush();
	ck_assert_int_eq(add("p2", T0 + 2000, one, 1), 0); /* the open turn */
	ck_assert_int_eq(store_read_begin(st, &r1, err, sizeof(err)), 0);
	ck_assert_int_eq(reader_count(r1), 2);
	ck_assert_int_eq(store_delivery_load(r1, "p1/shop", &rec), 0);
	store_delivery_clear(&rec);
	/* Committed now: r1 keeps its snapshot, a second reader sees it. */
	flush();
	ck_assert_int_eq(reader_count(r1), 2);
	ck_assert_int_eq(store_read_begin(st, &r2, err, sizeof(err)), 0);
	ck_assert_ptr_ne(r1, r2);
	ck_assert_int_eq(reader_count(r2), 3);
	/* Read-only: a write through a reader fails, the store is as it was. */
	ck_assert_int_eq(add_to(r2, "p3"), -EIO);
	store_read_end(st, r2);
	store_read_end(st, r1);
	/* Pooled: the next read reuses a connection, in a new snapshot. */
	ck_assert_int_eq(store_read_begin(st, &again, err, sizeof(err)), 0);
	ck_assert(again == r1 || again == r2);
	ck_assert_int_eq(reader_count(again), 3);
	store_read_end(st, again);
	store_read_stop(st);
	ck_assert_int_eq(store_read_begin(st, &again, err, sizeof(err)),
	                 -ECANCELED);
	ck_assert_int_eq(state_of("p2/shop"), DS_SCHEDULED);
}
END_TEST

START_TEST(test_agenda)
{
	struct agenda_query q = {.from_ms = T0, .to_ms = T0 + 100, .limit = 2};
	json_t *out, *arr, *d;
	json_t *ids;
	char msg[128];

	ck_assert_int_eq(add("p1", T0 + 10, one, 1), 0);
	ck_assert_int_eq(add("p2", T0 + 20, two, 2), 0);
	ck_assert_int_eq(add("p3", T0 + 200, one, 1), 0);
	ck_assert_int_eq(view_cancel(st, "p1", T0, &ids, msg, sizeof(msg)), 0);
	json_decref(ids);
	flush();
	ck_assert_int_eq(view_agenda(st, &q, &out), 0);
	arr = json_object_get(out, "deliveries");
	ck_assert_uint_eq(json_array_size(arr), 2);
	ck_assert(json_is_false(json_object_get(out, "truncated")));
	d = json_array_get(arr, 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "id")),
	                 "p2/blog");
	ck_assert_ptr_null(json_object_get(d, "full_text"));
	json_decref(out);
	q.cancelled = 1;
	q.full = 1;
	ck_assert_int_eq(view_agenda(st, &q, &out), 0);
	arr = json_object_get(out, "deliveries");
	ck_assert_uint_eq(json_array_size(arr), 2);
	ck_assert(json_is_true(json_object_get(out, "truncated")));
	d = json_array_get(arr, 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "id")),
	                 "p1/shop");
	ck_assert_str_eq(json_string_value(json_object_get(d, "full_text")),
	                 "hello\nsecond line");
	json_decref(out);
	q.channel = "blog";
	ck_assert_int_eq(view_agenda(st, &q, &out), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(out, "deliveries")),
	                  1);
	json_decref(out);
}
END_TEST

struct plan_seen {
	int n;
	char ids[8][32];
	int calendar[8];
};

static void collect_plan(void *arg, const struct plan_row *row)
{
	struct plan_seen *s = arg;

	ck_assert_int_lt(s->n, 8);
	ck_assert_str_eq(row->campaign, "spring");
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s/%s", row->post_id,
	         row->channel);
	s->calendar[s->n++] = row->calendar;
}

/* What the plan check counts: in range, going or gone out, planned. */
START_TEST(test_plan_rows)
{
	struct plan_seen seen = {0};
	json_t *media = json_array(), *ids;
	char msg[128];

	ck_assert_int_eq(add("p1", T0 + 10, two, 2), 0);
	ck_assert_int_eq(add("p2", T0 + 20, one, 1), 0);
	ck_assert_int_eq(add("late", T0 + 100, one, 1), 0);
	ck_assert_int_eq(store_add_post(st,
	                                &(struct post_new){.id = "n1",
	                                                   .source = "notice",
	                                                   .text = "x",
	                                                   .campaign = "spring",
	                                                   .media = media,
	                                                   .due_ms = T0 + 30,
	                                                   .channels = one,
	                                                   .nchannels = 1},
	                                T0),
	                 0);
	json_decref(media);
	ck_assert_int_eq(view_cancel(st, "p1/blog", T0, &ids, msg, sizeof(msg)),
	                 0);
	json_decref(ids);
	flush();
	ck_assert_int_eq(store_plan_rows(st, T0, T0 + 100, collect_plan, &seen),
	                 0);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_str_eq(seen.ids[0], "p1/shop");
	ck_assert_str_eq(seen.ids[1], "p2/shop");
	ck_assert_int_eq(seen.calendar[0], 0);
	ck_assert_int_eq(store_plan_rows(st, T0, T0 - 1, collect_plan, &seen),
	                 -EINVAL);
}
END_TEST

struct cal_seen {
	int n;
	struct {
		char id[32];
		int state;
		int64_t due;
		uint64_t hash;
		int removed;
		int needs_approval, approved;
	} r[4];
};

static void collect_cal(void *arg, const struct cal_row *row)
{
	struct cal_seen *s = arg;

	ck_assert_int_lt(s->n, 4);
	snprintf(s->r[s->n].id, sizeof(s->r[0].id), "%s", row->id);
	s->r[s->n].state = row->state;
	s->r[s->n].due = row->due_ms;
	s->r[s->n].hash = row->hash;
	s->r[s->n].removed = row->removed;
	s->r[s->n].needs_approval = row->needs_approval;
	s->r[s->n].approved = row->approved;
	s->n++;
}

START_TEST(test_calendar)
{
	json_t *media = json_array(), *out, *d;
	struct cal_put p = {
	        .id = "c1/shop",
	        .post_id = "c1",
	        .channel = "shop",
	        .base_text = "base",
	        .base_media = media,
	        .campaign = "cal",
	        .text = "variant",
	        .due_ms = T0 + 50,
	        .hash = 0xfedcba9876543210ULL,
	        .state = DS_SCHEDULED,
	};
	struct cal_seen s = {0};
	struct delivery_rec rec;

	ck_assert_int_eq(add("adhoc1", T0, one, 1), 0);
	ck_assert_int_eq(store_calendar_post(st, &p, T0), 0);
	ck_assert_int_eq(store_calendar_put(st, &p, 1, 0, T0), 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "c1/shop", &rec), 0);
	ck_assert_str_eq(rec.text, "variant");
	ck_assert_str_eq(rec.source, "calendar");
	store_delivery_clear(&rec);
	/* Only the calendar's rows. */
	ck_assert_int_eq(store_calendar_rows(st, collect_cal, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.r[0].id, "c1/shop");
	ck_assert_int_eq(s.r[0].state, DS_SCHEDULED);
	ck_assert_int_eq(s.r[0].due, T0 + 50);
	ck_assert(s.r[0].hash == 0xfedcba9876543210ULL);
	ck_assert_int_eq(s.r[0].removed, 0);

	/* The calendar drops it, then brings it back at another time. */
	ck_assert_int_eq(
	        settle_waiting(st, "c1/shop", DS_CANCELLED, CAL_REMOVED, T0),
	        1);
	flush();
	s.n = 0;
	ck_assert_int_eq(store_calendar_rows(st, collect_cal, &s), 0);
	ck_assert_int_eq(s.r[0].state, DS_CANCELLED);
	ck_assert_int_eq(s.r[0].removed, 1);
	p.due_ms = T0 + 70;
	p.text = NULL; /* the post's own words now */
	p.hash = 7;
	ck_assert_int_eq(store_calendar_put(st, &p, 0, 1, T0), 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "c1/shop", &rec), 0);
	ck_assert_int_eq(rec.state, DS_SCHEDULED);
	ck_assert_int_eq(rec.due_ms, T0 + 70);
	ck_assert_str_eq(rec.text, "base");
	store_delivery_clear(&rec);

	/*
	 * A diff from an older snapshot: the row is not as it says (it
	 * thinks the delivery cancelled, or approved), so nothing is
	 * written; as it is now, the update goes through. Added twice: the
	 * second is stale too.
	 */
	p.hash = 8;
	p.due_ms = T0 + 90;
	p.expect = 1;
	p.expect_state = DS_CANCELLED;
	ck_assert_int_eq(store_calendar_put(st, &p, 0, 1, T0), -ESTALE);
	p.expect_state = DS_SCHEDULED;
	p.expect_approved = 1;
	ck_assert_int_eq(store_calendar_put(st, &p, 0, 1, T0), -ESTALE);
	ck_assert_int_eq(store_calendar_put(st, &p, 1, 0, T0), -ESTALE);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "c1/shop", &rec), 0);
	ck_assert_int_eq(rec.due_ms, T0 + 70);
	store_delivery_clear(&rec);
	s.n = 0;
	ck_assert_int_eq(store_calendar_row(st, "c1/shop", collect_cal, &s), 1);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.r[0].state, DS_SCHEDULED);
	ck_assert(s.r[0].hash == 7);
	ck_assert_int_eq(store_calendar_row(st, "adhoc1/shop", collect_cal, &s),
	                 0);
	p.expect_approved = 0;
	ck_assert_int_eq(store_calendar_put(st, &p, 0, 1, T0), 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "c1/shop", &rec), 0);
	ck_assert_int_eq(rec.due_ms, T0 + 90);
	store_delivery_clear(&rec);
	p.expect = 0;

	/* Missed at load time, with its reason. */
	p.id = "c2/shop";
	p.post_id = "c2";
	p.state = DS_MISSED;
	p.reason = "past";
	ck_assert_int_eq(store_calendar_post(st, &p, T0), 0);
	ck_assert_int_eq(store_calendar_put(st, &p, 1, 0, T0), 0);
	flush();
	ck_assert_int_eq(view_show(st, "c2/shop", &out), 0);
	d = json_array_get(json_object_get(out, "deliveries"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "state")),
	                 "missed");
	ck_assert_str_eq(json_string_value(json_object_get(d, "last_error")),
	                 "past");
	json_decref(out);
	json_decref(media);
}
END_TEST

/* Attempt n of id started at start and ended as state. */
static void attempt(const char *id, unsigned n, int64_t start,
                    enum delivery_state state, int64_t next_ms, const char *why)
{
	struct attempt_result ar = {
	        .n = n,
	        .started_ms = start,
	        .finished_ms = start + 30,
	        .http_status = state == DS_PUBLISHED ? 200 : 503,
	        .latency_ms = 30,
	};

	ck_assert_int_eq(store_mark_publishing(st, id, 0, n, start), 0);
	ck_assert_int_eq(store_record_result(st, id, &ar, state, next_ms, why,
	                                     NULL, NULL),
	                 0);
}

/* Move id from one waiting state to another, waiting for next_ms. */
static void move(const char *id, enum delivery_state from,
                 enum delivery_state to, int64_t next_ms)
{
	struct transition t = {.id = id,
	                       .from = DS_BIT(from),
	                       .to = to,
	                       .next_ms = next_ms,
	                       .reason = "blackout (test): shifted",
	                       .now_ms = T0};

	ck_assert_int_eq(store_transition(st, &t, NULL), 1);
}

/* The query's groups by key: the one called key (NULL: no campaign). */
static const struct stats_group *group(const struct stats_result *r,
                                       const char *key)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if ((key == NULL && r->groups[i].key == NULL) ||
		    (key && r->groups[i].key &&
		     strcmp(r->groups[i].key, key) == 0))
			return &r->groups[i];
	ck_abort_msg("no group '%s'", key ? key : "(none)");
	return NULL;
}

/*
 * Stats judge lateness from the moment the publishing attempt started
 * against when the delivery was meant to go: its due time, the time a
 * blackout shifted it to, or its release; a retry's wait counts.
 */
START_TEST(test_stats)
{
	struct stats_query q = {.since_ms = T0 - 1000,
	                        .until_ms = T0 + 1000,
	                        .by = STATS_BY_NONE};
	struct stats_result r;
	json_t *media = json_array();
	struct cal_put p = {.id = "cal/shop",
	                    .post_id = "cal",
	                    .channel = "shop",
	                    .base_text = "t",
	                    .base_media = media,
	                    .campaign = "autumn",
	                    .due_ms = T0,
	                    .state = DS_SCHEDULED};
	struct transition unk = {.id = "unk/shop",
	                         .from = DS_BIT(DS_UNKNOWN),
	                         .to = DS_PUBLISHED,
	                         .next_ms = -1,
	                         .now_ms = T0 + 9000};

	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(
		        add((const char *[]){"ontime", "shift", "rel", "retry",
		                             "unk", "gone"}[i],
		            T0, one, 1),
		        0);
	attempt("ontime/shop", 1, T0 + 5, DS_PUBLISHED, -1, NULL);
	/* Shifted 3 h by a blackout, published 10 ms after that. */
	move("shift/shop", DS_SCHEDULED, DS_SCHEDULED, T0 + 3 * 3600000);
	attempt("shift/shop", 1, T0 + 3 * 3600000 + 10, DS_PUBLISHED, -1, NULL);
	/* Held, released 2 h later, published 20 ms after that. */
	move("rel/shop", DS_SCHEDULED, DS_HELD, -1);
	move("rel/shop", DS_HELD, DS_SCHEDULED, T0 + 2 * 3600000);
	attempt("rel/shop", 1, T0 + 2 * 3600000 + 20, DS_PUBLISHED, -1, NULL);
	/* A 503, then published 5 s late. */
	attempt("retry/shop", 1, T0 + 1, DS_RETRY_WAIT, T0 + 5000, "HTTP 503");
	attempt("retry/shop", 2, T0 + 5000, DS_PUBLISHED, -1, NULL);
	/* Unknown, then found published by hand: its attempt's start. */
	attempt("unk/shop", 1, T0 + 7, DS_UNKNOWN, -1, "no answer");
	ck_assert_int_eq(store_transition(st, &unk, NULL), 1);
	ck_assert_int_eq(settle_waiting(st, "gone/shop", DS_FAILED, "gone", T0),
	                 1);
	ck_assert_int_eq(store_calendar_post(st, &p, T0), 0);
	ck_assert_int_eq(store_calendar_put(st, &p, 1, 0, T0), 0);
	flush();

	ck_assert_int_eq(store_stats_query(st, &q, &r), 0);
	ck_assert_int_eq(r.all.states[DS_PUBLISHED], 5);
	ck_assert_int_eq(r.all.states[DS_FAILED], 1);
	ck_assert_int_eq(r.all.states[DS_SCHEDULED], 1);
	ck_assert_int_eq(r.all.published_timed, 5);
	/* 5, 10, 20, 7 ms on time; the retried one 5,000 ms late. */
	ck_assert_int_eq(r.all.on_time, 4);
	ck_assert_int_eq(r.all.late.min, 5);
	ck_assert_int_eq(r.all.late.max, 5000);
	ck_assert_int_eq(stats_hist_quantile(&r.all.late, 0.5), 10);
	ck_assert_int_eq(r.all.published_attempts, 6);
	ck_assert_uint_eq(r.all.nreasons, 1);
	ck_assert_str_eq(r.all.reasons[0].text, "gone");
	stats_clear(&r);

	/* The calendar renames its post's campaign: the deliveries follow. */
	p.campaign = "winter";
	ck_assert_int_eq(store_calendar_post(st, &p, T0), 0);
	flush();
	q.by = STATS_BY_CAMPAIGN;
	ck_assert_int_eq(store_stats_query(st, &q, &r), 0);
	ck_assert_uint_eq(r.ngroups, 2);
	ck_assert_str_eq(r.groups[0].key, "spring"); /* in key order */
	ck_assert_int_eq(group(&r, "spring")->states[DS_PUBLISHED], 5);
	ck_assert_int_eq(group(&r, "winter")->states[DS_SCHEDULED], 1);
	stats_clear(&r);

	/* Out of range, and a range that is none. */
	q.since_ms = T0 + 1;
	ck_assert_int_eq(store_stats_query(st, &q, &r), 0);
	ck_assert_uint_eq(r.ngroups, 0);
	ck_assert_int_eq(r.all.states[DS_PUBLISHED], 0);
	stats_clear(&r);
	q.until_ms = q.since_ms;
	ck_assert_int_eq(store_stats_query(st, &q, &r), -EINVAL);
	stats_clear(&r);
	json_decref(media);
}
END_TEST

START_TEST(test_bulk)
{
	struct cal_seen s = {0};
	json_t *media = json_array();
	struct cal_put p = {
	        .id = "c1/shop",
	        .post_id = "c1",
	        .channel = "shop",
	        .base_text = "base",
	        .base_media = media,
	        .due_ms = T0,
	        .state = DS_SCHEDULED,
	};
	struct seen pend = {0};

	ck_assert_int_eq(store_bulk_begin(st), 0);
	ck_assert_int_eq(store_calendar_post(st, &p, T0), 0);
	ck_assert_int_eq(store_calendar_put(st, &p, 1, 0, T0), 0);
	ck_assert_int_eq(store_bulk_end(st), 0);
	flush();
	ck_assert_int_eq(store_calendar_rows(st, collect_cal, &s), 0);
	ck_assert_int_eq(s.n, 1);
	/* The pending index is back and serves the pending query. */
	ck_assert_int_eq(store_for_each_pending(st, collect_pending, &pend), 0);
	ck_assert_int_eq(pend.n, 1);
	json_decref(media);
}
END_TEST

struct order {
	int seen[4];
	int n;
	int err; /* the last callback's */
};

static void note(void *arg, int err)
{
	struct order *o = arg;

	o->seen[o->n] = o->n;
	o->n++;
	o->err = err;
}

START_TEST(test_after_commit)
{
	struct order o = {{0}, 0, 0};

	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	ck_assert_int_eq(store_after_commit(st, note, &o), 0);
	ck_assert_int_eq(store_after_commit(st, note, &o), 0);
	ck_assert_int_eq(o.n, 0);
	flush();
	ck_assert_int_eq(o.n, 2);
	ck_assert_int_eq(o.err, 0);
}
END_TEST

/*
 * A turn given up (a write failed, outage.c): nothing of it is stored, and
 * its callbacks hear so; the next turn commits as usual.
 */
START_TEST(test_give_up_turn)
{
	struct delivery_rec rec;
	struct order o = {{0}, 0, 0};

	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	ck_assert_int_eq(store_after_commit(st, note, &o), 0);
	store_give_up_turn(st);
	ck_assert_int_eq(store_submit(st), -1);
	ck_assert_int_eq(o.n, 1);
	ck_assert_int_eq(o.err, -EIO);
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), -ENOENT);
	ck_assert_int_eq(add("p2", T0, one, 1), 0);
	ck_assert_int_eq(store_after_commit(st, note, &o), 0);
	flush();
	ck_assert_int_eq(o.n, 2);
	ck_assert_int_eq(o.err, 0);
	ck_assert_int_eq(store_delivery_load(st, "p2/shop", &rec), 0);
	store_delivery_clear(&rec);
}
END_TEST

/* A callback that notes its turn and what was durable when it ran. */
struct durable_cb {
	struct order *o;
	uint64_t batch; /* the batch it was queued in */
	uint64_t durable_then;
	int at;
	int slow;           /* it takes 4 ms */
	uint64_t loop_turn; /* the loop's turns then, when looptime runs */
};

/* The loop's turns, for the callbacks that note them. */
static struct looptime *turns_lt;

static void note_durable(void *arg, int err)
{
	struct durable_cb *c = arg;
	struct store_stats ss;
	double max_ms;
	uint64_t slow;

	ck_assert_int_eq(err, 0);
	store_stats(st, &ss);
	c->durable_then = ss.durable;
	c->at = c->o->n++;
	looptime_get(turns_lt, &max_ms, &c->loop_turn, &slow);
	if (c->slow)
		usleep(4000);
}

static void never_fails(void *arg, int err)
{
	(void)arg;
	ck_abort_msg("store failed: %d", err);
}

/* Queue c after a turn's writes and end the turn as the loop does. */
static void turn(struct durable_cb *c, struct order *o)
{
	struct store_stats ss;

	c->o = o;
	ck_assert_int_eq(store_after_commit(st, note_durable, c), 0);
	ck_assert_int_eq(store_submit(st), 0);
	store_stats(st, &ss);
	c->batch = ss.committed;
}

/* Turn loop until n callbacks of c ran, and check they ran in order. */
static void run_in_order(uv_loop_t *loop, struct order *o,
                         const struct durable_cb *c, int n)
{
	while (o->n < n)
		ck_assert_int_ge(uv_run(loop, UV_RUN_ONCE), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(c[i].at, i);
}

/*
 * A sync's callbacks run while the loop's turn is short: one that takes
 * 4 ms leaves the next for the next turn (past LOOPTIME_BUDGET_NS, 3 ms),
 * which runs them in order.
 */
START_TEST(test_after_commit_budget)
{
	struct durable_cb c[3] = {{0}};
	struct order o = {{0}, 0, 0};
	uv_loop_t loop;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(looptime_start(&loop, &turns_lt), 0);
	ck_assert_int_eq(store_start(st, &loop, never_fails, NULL), 0);
	/* A turn's time counts from the loop's first prepare, as in smmd,
	 * whose loop has turned long before: a sync that ends before it
	 * (PostgreSQL's can) would run all three. */
	ck_assert_int_ge(uv_run(&loop, UV_RUN_NOWAIT), 0);
	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	for (int i = 0; i < 3; i++) {
		c[i].o = &o;
		c[i].slow = i == 0;
		ck_assert_int_eq(store_after_commit(st, note_durable, &c[i]),
		                 0);
	}
	ck_assert_int_eq(store_submit(st), 0);
	run_in_order(&loop, &o, c, 3);
	ck_assert_uint_gt(c[1].loop_turn, c[0].loop_turn);
	ck_assert_uint_eq(c[2].loop_turn, c[1].loop_turn);
	ck_assert_int_eq(store_stop(st), 0);
	looptime_close(turns_lt);
	turns_lt = NULL;
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/*
 * A flush keeps the turn's writes even when no callback waits for them:
 * a started store syncs elsewhere, and a flush that returned first let
 * another node's update miss a row (test_after_pull, once, in CI).
 */
START_TEST(test_flush_durable)
{
	struct store_stats ss;
	uv_loop_t loop;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(store_start(st, &loop, never_fails, NULL), 0);
	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	flush();
	store_stats(st, &ss);
	ck_assert_uint_ge(ss.committed, 1);
	ck_assert_uint_eq(ss.durable, ss.committed);
	ck_assert_int_eq(store_stop(st), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_after_commit_durable)
{
	struct attempt_result ar = {.n = 1,
	                            .started_ms = T0,
	                            .finished_ms = T0 + 1,
	                            .http_status = 200,
	                            .latency_ms = 1};
	struct durable_cb c[3] = {{0}};
	struct order o = {{0}, 0, 0};
	struct delivery_rec rec;
	struct store_stats ss;
	uv_loop_t loop;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(store_start(st, &loop, never_fails, NULL), 0);
	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	/* The loop reads its own writes before they are durable. */
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	store_delivery_clear(&rec);
	turn(&c[0], &o);
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 1, T0), 0);
	turn(&c[1], &o);
	/* The first turn's sync runs: the second's writes wait for it. */
	ck_assert_uint_eq(c[1].batch, 1);
	/* A turn with nothing to sync still waits for the ones before. */
	ck_assert_int_eq(store_record_result(st, "p1/shop", &ar, DS_PUBLISHED,
	                                     -1, NULL, NULL, NULL),
	                 0);
	/* Past the longest wait: this turn commits both, sync or not. */
	usleep(3000);
	turn(&c[2], &o);
	ck_assert_uint_eq(c[2].batch, 2);
	/* Nothing shows before the writer has synced. */
	ck_assert_int_eq(o.n, 0);
	run_in_order(&loop, &o, c, 3);
	ck_assert_uint_ge(c[0].durable_then, c[0].batch);
	ck_assert_uint_ge(c[1].durable_then, c[1].batch);
	store_stats(st, &ss);
	ck_assert_uint_ge(ss.syncs, 1);
	/*
	 * The first turn's sync ran (the loop had not heard of its end)
	 * while the next two ended: they shared one commit.
	 */
	ck_assert_uint_eq(ss.committed, 2);
	ck_assert_int_eq(store_stop(st), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	/* And it is all there for the next smmd. */
	store_close(st);
	st = open_store();
	ck_assert_int_eq(state_of("p1/shop"), DS_PUBLISHED);
}
END_TEST

/*
 * The store's checkpoints follow its log (store_wal.c, through the loop
 * connection's WAL hook): posts added a turn each until the log passes
 * 1,000 pages, and a checkpoint beyond the one its start runs.
 */
START_TEST(test_checkpoint_follows_log)
{
	struct store_stats ss;
	uv_loop_t loop;
	char id[32];
	int i;

	if (strcmp(backend->name, "sqlite") != 0)
		return; /* SQLite's WAL */
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(store_start(st, &loop, never_fails, NULL), 0);
	for (i = 0; i < 200 && (store_stats(st, &ss), ss.checkpoints < 1); i++)
		usleep(10 * 1000);
	ck_assert_uint_eq(ss.checkpoints, 1);
	for (i = 0; i < 20000 && ss.checkpoints < 2; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		ck_assert_int_eq(add(id, T0 + 60000, one, 1), 0);
		ck_assert_int_eq(store_submit(st), 0);
		ck_assert_int_ge(uv_run(&loop, UV_RUN_NOWAIT), 0);
		store_stats(st, &ss);
	}
	ck_assert_uint_ge(ss.checkpoints, 2);
	ck_assert_int_eq(store_stop(st), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static void pulled(void *arg, int err)
{
	struct order *o = arg;

	o->n++;
	o->err = err;
}

#ifdef HAVE_LIBPQ
/* Another node's write: a row changed in PostgreSQL, logged by
 * smmd_track as any node's write is. */
static void write_elsewhere(const char *sql)
{
	PGconn *c = PQconnectdb(backend_url);
	PGresult *r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
	              PQerrorMessage(c));
	ck_assert_str_eq(PQcmdTuples(r), "1");
	PQclear(r);
	PQfinish(c);
}

/* The second wait: what the view says once it is told. */
struct chained {
	int n, err;
	unsigned attempts;
};

static void pulled_second(void *arg, int err)
{
	struct chained *c = arg;
	struct delivery_rec rec;

	c->n++;
	c->err = err;
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	c->attempts = rec.attempts;
	store_delivery_clear(&rec);
}

/* The first wait's end: a write elsewhere, then a wait for it, asked
 * from here, which the pull just ended must not answer. */
static void pulled_first(void *arg, int err)
{
	ck_assert_int_eq(err, 0);
	write_elsewhere("UPDATE deliveries SET attempts = 8 WHERE id = "
	                "'p1/shop'");
	ck_assert_int_eq(store_after_pull(st, pulled_second, arg, 0), 0);
}
#endif

/*
 * store_after_pull: what another node committed before the call is in
 * the view once fn hears 0, and fn never runs inside the call; a store
 * that closes first says -ECANCELED. A store of one node has nothing to
 * read in: -ENOTSUP, and fn is never called.
 */
START_TEST(test_after_pull)
{
	struct order o = {{0}, 0, 0}, gone = {{0}, 0, 0};
	uv_loop_t loop;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(store_start(st, &loop, never_fails, NULL), 0);
	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	flush();
	if (backend_url == NULL) {
		ck_assert_int_eq(store_after_pull(st, pulled, &o, 0), -ENOTSUP);
		goto out;
	}
#ifdef HAVE_LIBPQ
	struct delivery_rec rec;

	write_elsewhere("UPDATE deliveries SET attempts = 7 WHERE id = "
	                "'p1/shop'");
	ck_assert_int_eq(store_after_pull(st, pulled, &o, 0), 0);
	ck_assert_int_eq(o.n, 0);
	while (o.n == 0)
		ck_assert_int_ge(uv_run(&loop, UV_RUN_ONCE), 0);
	ck_assert_int_eq(o.n, 1);
	ck_assert_int_eq(o.err, 0);
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	ck_assert_uint_eq(rec.attempts, 7);
	store_delivery_clear(&rec);
	{
		struct chained c = {0};

		/* Two asked at once share a pull; one asked after a write
		 * that pull may have missed gets one of its own. */
		ck_assert_int_eq(store_after_pull(st, pulled_first, &c, 0), 0);
		ck_assert_int_eq(store_after_pull(st, pulled, &o, 0), 0);
		while (c.n == 0)
			ck_assert_int_ge(uv_run(&loop, UV_RUN_ONCE), 0);
		ck_assert_int_eq(o.n, 2);
		ck_assert_int_eq(c.err, 0);
		ck_assert_uint_eq(c.attempts, 8);
	}
#endif
	/* Asked, and the store closes before any pull. */
	ck_assert_int_eq(store_after_pull(st, pulled, &gone, 0), 0);
out:
	ck_assert_int_eq(store_stop(st), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(gone.n, backend_url ? 1 : 0);
	ck_assert_int_eq(gone.err, backend_url ? -ECANCELED : 0);
	ck_assert_int_eq(o.n, backend_url ? 2 : 0);
}
END_TEST

/*
 * store_turn_batch and store_batch_kept: a write's batch is kept only
 * once the sync after its commit has ended (a channel goes to another
 * node only then, dispatch.c's may_release).
 */
START_TEST(test_batch_kept)
{
	struct order o = {{0}, 0, 0};
	uv_loop_t loop;
	uint64_t b;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(store_start(st, &loop, never_fails, NULL), 0);
	ck_assert_int_eq(add("p1", T0, one, 1), 0);
	b = store_turn_batch(st);
	ck_assert(store_batch_kept(st, b - 1));
	ck_assert(!store_batch_kept(st, b));
	ck_assert_int_eq(store_after_commit(st, note, &o), 0);
	ck_assert_int_eq(store_submit(st), 0);
	/* Committed: the next writes go in the next batch; this one is
	 * kept once its sync, off the loop, says so on it. */
	ck_assert_uint_eq(store_turn_batch(st), b + 1);
	ck_assert(!store_batch_kept(st, b));
	while (o.n == 0)
		ck_assert_int_ge(uv_run(&loop, UV_RUN_ONCE), 0);
	ck_assert(store_batch_kept(st, b));
	ck_assert(!store_batch_kept(st, b + 1));
	ck_assert_int_eq(store_stop(st), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_reopen)
{
	struct delivery_rec rec;

	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	ck_assert_int_eq(store_mark_publishing(st, "p1/shop", 0, 1, T0), 0);
	flush();
	store_close(st);
	st = open_store();
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	ck_assert_int_eq(rec.state, DS_PUBLISHING);
	ck_assert_uint_eq(rec.attempts, 1);
	store_delivery_clear(&rec);
	ck_assert_int_eq(state_of("p1/blog"), DS_SCHEDULED);
}
END_TEST

/*
 * A clean close keeps the counts; the next open takes them without a
 * count (the stored numbers win, even made up ones) and forgets them, so
 * the open after that, as after a crash, counts the store.
 */
START_TEST(test_kept_counts)
{
	int64_t counts[DS_COUNT],
	        kept[DS_COUNT] = {[DS_SCHEDULED] = 7, [DS_PUBLISHED] = 5};

	if (backend->keep_counts == NULL) {
		/* It counts at every open (the postgresql one: a view
		 * rebuilt at start): what it was asked to keep is moot. */
		ck_assert_int_eq(add("p1", T0, two, 2), 0);
		flush();
		ck_assert_int_eq(store_keep_counts(st, kept), 0);
		store_close(st);
		st = open_store();
		ck_assert_int_eq(store_counts_at_open(st, counts), 0);
		ck_assert_int_eq(counts[DS_SCHEDULED], 2);
		ck_assert_int_eq(counts[DS_PUBLISHED], 0);
		return;
	}
	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	flush();
	ck_assert_int_eq(store_counts_at_open(st, counts), 0);
	ck_assert_int_eq(counts[DS_SCHEDULED], 2);
	ck_assert_int_eq(store_keep_counts(st, kept), 0);
	store_close(st);
	st = open_store();
	ck_assert_int_eq(store_counts_at_open(st, counts), 0);
	ck_assert_int_eq(memcmp(counts, kept, sizeof(counts)), 0);
	flush();
	store_close(st);
	st = open_store();
	ck_assert_int_eq(store_counts_at_open(st, counts), 0);
	ck_assert_int_eq(counts[DS_SCHEDULED], 2);
	ck_assert_int_eq(counts[DS_PUBLISHED], 0);
}
END_TEST

static void count_pause(void *arg, const struct pause_rec *p)
{
	(*(int *)arg)++;
	ck_assert(p->kind == PAUSE_ALL ? p->scope == NULL
	                               : strcmp(p->scope, "shop") == 0);
}

static void held_ids(void *arg, const struct held_row *h)
{
	json_array_append_new(arg, json_string(h->id));
	ck_assert_str_eq(h->campaign, "spring");
}

static void pending_due(void *arg, const char *id, int64_t due_ms)
{
	if (strcmp(id, "p1/shop") == 0)
		*(int64_t *)arg = due_ms;
}

static void audit_actions(void *arg, const struct audit_rec *a)
{
	json_array_append_new(arg, json_string(a->action));
	ck_assert_str_eq(a->user, "ana");
}

/*
 * Plan B's contract: one active pause per scope, a held delivery names
 * its pause and passes through release, the audit trail only grows.
 */
START_TEST(test_pauses)
{
	struct pause_rec all = {.kind = PAUSE_ALL,
	                        .since_ms = T0,
	                        .until_ms = -1,
	                        .uid = 7,
	                        .user = "ana",
	                        .reason = "crisis"},
	                 shop = {.kind = PAUSE_CHANNEL,
	                         .scope = "shop",
	                         .since_ms = T0,
	                         .until_ms = T0 + 5000,
	                         .uid = 7,
	                         .user = "ana"};
	int64_t a, b, c;
	int n = 0;
	json_t *ids = json_array(), *actions = json_array();
	struct delivery_rec rec;
	char as[16];

	ck_assert_int_eq(store_pause_add(st, &all, &a), 0);
	ck_assert_int_eq(store_pause_add(st, &shop, &b), 0);
	ck_assert_int_eq(store_pause_add(st, &all, &c), -EEXIST);
	ck_assert_int_eq(store_pauses(st, count_pause, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(add("p1", T0, two, 2), 0);
	ck_assert_int_eq(
	        store_transition(st,
	                         &(struct transition){.id = "p1",
	                                              .from = DS_WAITING,
	                                              .to = DS_HELD,
	                                              .reason = "paused",
	                                              .next_ms = -1,
	                                              .now_ms = T0,
	                                              .held_by = a},
	                         NULL),
	        2);
	ck_assert_int_eq(store_held_count(st, a), 2);
	ck_assert_int_eq(store_held_count(st, b), 0);
	ck_assert_int_eq(store_held_rows(st, 0, held_ids, ids), 0);
	ck_assert_uint_eq(json_array_size(ids), 2);
	/* Released by hand: waiting again from its next_ms, past pauses. */
	ck_assert_int_eq(
	        store_transition(st,
	                         &(struct transition){.id = "p1/shop",
	                                              .from = DS_BIT(DS_HELD),
	                                              .to = DS_SCHEDULED,
	                                              .next_ms = T0 + 9000,
	                                              .now_ms = T0,
	                                              .pass_pause = 1},
	                         NULL),
	        1);
	ck_assert_int_eq(store_held_count(st, a), 1);
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	ck_assert(rec.pass_pause);
	store_delivery_clear(&rec);
	/* After a crash it is due at its release, not its old due time. */
	ck_assert_int_eq(store_for_each_pending(st, pending_due, &c), 0);
	ck_assert_int_eq(c, T0 + 9000);
	/* On: not resumed; over: resumed as its resume said, kept. */
	ck_assert_int_eq(store_pause_resumed(st, a, as, sizeof(as)), 0);
	json_array_clear(ids);
	ck_assert_int_eq(store_held_rows(st, STORE_HELD_ENDED, held_ids, ids),
	                 0);
	ck_assert_uint_eq(json_array_size(ids), 0); /* a is on still */
	ck_assert_int_eq(store_pause_end(st, a, T0 + 1, "skip"), 0);
	ck_assert_int_eq(store_pause_end(st, a, T0 + 2, "publish"), -ENOENT);
	ck_assert_int_eq(store_pause_resumed(st, a, as, sizeof(as)), 1);
	ck_assert_str_eq(as, "skip");
	/* What a's end left held (the settling is smmd's): found alone. */
	json_array_clear(ids);
	ck_assert_int_eq(store_held_rows(st, STORE_HELD_ENDED, held_ids, ids),
	                 0);
	ck_assert_uint_eq(json_array_size(ids), 1);
	ck_assert_int_eq(store_pause_resumed(st, a + b + 1000, as, sizeof(as)),
	                 -ENOENT);
	/* Ended: its scope may be paused again. */
	ck_assert_int_eq(store_pause_add(st, &all, &c), 0);
	ck_assert_int_ne(c, a);
	ck_assert_int_eq(
	        store_audit_add(st, &(struct audit_rec){.time_ms = T0,
	                                                .uid = 7,
	                                                .user = "ana",
	                                                .action = "pause",
	                                                .scope = "all",
	                                                .detail = "{}"}),
	        0);
	ck_assert_int_eq(
	        store_audit_add(st, &(struct audit_rec){.time_ms = T0 + 10,
	                                                .uid = 7,
	                                                .user = "ana",
	                                                .action = "resume"}),
	        0);
	flush();
	store_close(st);
	st = open_store();
	ck_assert_int_eq(store_audit_rows(st, T0 + 5, audit_actions, actions),
	                 0);
	ck_assert_uint_eq(json_array_size(actions), 1);
	ck_assert_str_eq(json_string_value(json_array_get(actions, 0)),
	                 "resume");
	n = 0;
	ck_assert_int_eq(store_pauses(st, count_pause, &n), 0);
	ck_assert_int_eq(n, 2);
	json_decref(ids);
	json_decref(actions);
}
END_TEST

/* What approve reported, per delivery. */
struct approvals_seen {
	char ids[8][64];
	int state[8], approved[8], needs[8];
	int64_t before_ms[8];
	size_t n;
};

static void collect_approval(void *arg, const struct approval_row *r)
{
	struct approvals_seen *a = arg;

	ck_assert_uint_lt(a->n, 8);
	snprintf(a->ids[a->n], sizeof(a->ids[a->n]), "%s", r->id);
	a->state[a->n] = r->state;
	a->approved[a->n] = r->approved;
	a->needs[a->n] = r->needs_approval;
	a->before_ms[a->n++] = r->approved_ms;
}

static void count_row(void *arg, const struct delivery_row *r)
{
	(void)r;
	(*(int *)arg)++;
}

/*
 * Drafts: stored per channel as the post says, loaded as awaiting, listed;
 * approved once, by whom and when, the draft scheduled and a held one left
 * held; a calendar edit withdraws the approval.
 */
START_TEST(test_approval)
{
	static const unsigned char drafts[] = {1, 0};
	struct approval by = {.uid = 1001, .user = "ana", .now_ms = T0 + 5};
	struct approvals_seen a = {0};
	json_t *media = json_array(), *out, *d;
	struct post_new p = {
	        .id = "p1",
	        .source = "adhoc",
	        .text = "hello",
	        .media = media,
	        .due_ms = T0 + 1000,
	        .channels = two,
	        .nchannels = 2,
	        .drafts = drafts,
	};
	struct delivery_rec rec;
	struct seen pend = {0};
	int n = 0;

	ck_assert_int_eq(store_add_post(st, &p, T0), 0);
	flush();
	ck_assert_int_eq(store_delivery_load(st, "p1/shop", &rec), 0);
	ck_assert_int_eq(rec.state, DS_DRAFT);
	ck_assert_int_eq(rec.awaiting_approval, 1);
	store_delivery_clear(&rec);
	ck_assert_int_eq(store_delivery_load(st, "p1/blog", &rec), 0);
	ck_assert_int_eq(rec.state, DS_SCHEDULED);
	ck_assert_int_eq(rec.awaiting_approval, 0);
	store_delivery_clear(&rec);
	/* A draft waits for its time (the gate holds it then). */
	ck_assert_int_eq(store_for_each_pending(st, collect_pending, &pend), 0);
	ck_assert_int_eq(pend.n, 2);
	ck_assert_int_eq(store_awaiting_rows(st, 10, count_row, &n), 0);
	ck_assert_int_eq(n, 1);

	/* Approving the post approves what needs it, and reports all. */
	ck_assert_int_eq(store_approve(st, "p1", &by, collect_approval, &a), 1);
	flush();
	ck_assert_uint_eq(a.n, 2);
	ck_assert_str_eq(a.ids[0], "p1/blog");
	ck_assert_int_eq(a.approved[0], 0);
	ck_assert_int_eq(a.needs[0], 0);
	ck_assert_str_eq(a.ids[1], "p1/shop");
	ck_assert_int_eq(a.approved[1], 1);
	ck_assert_int_eq(a.state[1], DS_DRAFT);
	ck_assert_int_eq(a.before_ms[1], -1);
	ck_assert_int_eq(state_of("p1/shop"), DS_SCHEDULED);
	ck_assert_int_eq(view_show(st, "p1/shop", &out), 0);
	d = json_array_get(json_object_get(out, "deliveries"), 0);
	ck_assert_ptr_nonnull(d);
	json_decref(out);
	n = 0;
	ck_assert_int_eq(store_awaiting_rows(st, 10, count_row, &n), 0);
	ck_assert_int_eq(n, 0);
	/* Twice: nothing more to approve, and when it was. */
	a.n = 0;
	ck_assert_int_eq(
	        store_approve(st, "p1/shop", &by, collect_approval, &a), 0);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_int_eq(a.before_ms[0], T0 + 5);
	ck_assert_int_eq(store_approve(st, "nope", &by, collect_approval, &a),
	                 -ENOENT);

	/* Held awaiting approval: approved, it stays held for the caller. */
	p.id = "p2";
	p.nchannels = 1;
	ck_assert_int_eq(store_add_post(st, &p, T0), 0);
	ck_assert_int_eq(store_transition(st,
	                                  &(struct transition){
	                                          .id = "p2/shop",
	                                          .from = DS_WAITING,
	                                          .to = DS_HELD,
	                                          .reason = "awaiting approval",
	                                          .next_ms = -1,
	                                          .now_ms = T0,
	                                  },
	                                  NULL),
	                 1);
	n = 0;
	ck_assert_int_eq(store_awaiting_rows(st, 10, count_row, &n), 0);
	ck_assert_int_eq(n, 1);
	a.n = 0;
	ck_assert_int_eq(store_approve(st, "p2", &by, collect_approval, &a), 1);
	ck_assert_int_eq(state_of("p2/shop"), DS_HELD);
	ck_assert_int_eq(store_delivery_load(st, "p2/shop", &rec), 0);
	ck_assert_int_eq(rec.awaiting_approval, 0);
	store_delivery_clear(&rec);
	json_decref(media);
}
END_TEST

/* A calendar delivery: stored as a draft, approved, then edited. */
START_TEST(test_calendar_approval)
{
	json_t *media = json_array(), *out, *d;
	struct approval by = {.uid = 0, .user = "root", .now_ms = T0 + 5};
	struct approvals_seen a = {0};
	struct cal_put p = {
	        .id = "c1/shop",
	        .post_id = "c1",
	        .channel = "shop",
	        .base_text = "base",
	        .base_media = media,
	        .due_ms = T0 + 50,
	        .hash = 1,
	        .state = DS_DRAFT,
	        .needs_approval = 1,
	};
	struct cal_seen s = {0};

	ck_assert_int_eq(store_calendar_post(st, &p, T0), 0);
	ck_assert_int_eq(store_calendar_put(st, &p, 1, 0, T0), 0);
	ck_assert_int_eq(store_approve(st, "c1", &by, collect_approval, &a), 1);
	flush();
	ck_assert_int_eq(store_calendar_rows(st, collect_cal, &s), 0);
	ck_assert_int_eq(s.r[0].state, DS_SCHEDULED);
	ck_assert_int_eq(s.r[0].needs_approval, 1);
	ck_assert_int_eq(s.r[0].approved, 1);
	ck_assert_int_eq(view_show(st, "c1", &out), 0);
	d = json_array_get(json_object_get(out, "deliveries"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "state")),
	                 "scheduled");
	json_decref(out);
	/* Edited: a draft again, its approval forgotten. */
	p.hash = 2;
	p.withdraw = 1;
	ck_assert_int_eq(store_calendar_put(st, &p, 0, 1, T0 + 9), 0);
	flush();
	s.n = 0;
	ck_assert_int_eq(store_calendar_rows(st, collect_cal, &s), 0);
	ck_assert_int_eq(s.r[0].state, DS_DRAFT);
	ck_assert_int_eq(s.r[0].approved, 0);
	a.n = 0;
	ck_assert_int_eq(
	        store_approve(st, "c1/shop", &by, collect_approval, &a), 1);
	json_decref(media);
}
END_TEST

/* Schema 1 as the first release wrote it (store_sqlite.c's migrations[0]). */
static const char schema1[] =
        "CREATE TABLE posts (id TEXT PRIMARY KEY, source TEXT NOT NULL,"
        " text TEXT NOT NULL, link TEXT, campaign TEXT,"
        " media TEXT NOT NULL DEFAULT '[]', created_ms INTEGER NOT NULL);"
        "CREATE TABLE deliveries (id TEXT PRIMARY KEY,"
        " post_id TEXT NOT NULL REFERENCES posts(id),"
        " channel TEXT NOT NULL, webhook_id TEXT NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('scheduled', 'publishing',"
        " 'retry_wait', 'published', 'failed', 'cancelled')),"
        " due_ms INTEGER NOT NULL, next_ms INTEGER,"
        " attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER,"
        " last_error TEXT, updated_ms INTEGER NOT NULL);"
        "CREATE INDEX deliveries_post ON deliveries(post_id);"
        "CREATE INDEX deliveries_state_due ON deliveries(state, due_ms);"
        "CREATE TABLE attempts (delivery_id TEXT NOT NULL"
        " REFERENCES deliveries(id), n INTEGER NOT NULL,"
        " started_ms INTEGER NOT NULL, finished_ms INTEGER,"
        " http_status INTEGER, error TEXT, latency_ms REAL,"
        " PRIMARY KEY (delivery_id, n)) WITHOUT ROWID;"
        "INSERT INTO posts VALUES ('old', 'adhoc', 'from v1', NULL, NULL,"
        " '[]', 1);"
        "INSERT INTO deliveries (id, post_id, channel, webhook_id, state,"
        " due_ms, updated_ms) VALUES ('old/shop', 'old', 'shop', 'msg_x',"
        " 'scheduled', 5, 1);"
        "PRAGMA user_version = 1;";

START_TEST(test_old_schema)
{
	char path[128];
	sqlite3 *db;
	struct delivery_rec rec;

	if (strcmp(backend->name, "sqlite") != 0)
		return; /* a file of SQLite's own */
	store_close(st);
	rm_store();
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/smmd.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, schema1, NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	st = open_store();
	ck_assert_int_eq(store_delivery_load(st, "old/shop", &rec), 0);
	ck_assert_str_eq(rec.text, "from v1");
	ck_assert_str_eq(rec.webhook_id, "msg_x");
	ck_assert_int_eq(rec.state, DS_SCHEDULED);
	store_delivery_clear(&rec);
	/* And takes what the new schema adds. */
	ck_assert_int_eq(settle_waiting(st, "old/shop", DS_MISSED, "late", T0),
	                 1);
	flush();
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create(backend->name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_load);
	tcase_add_test(tc, test_after_pull);
	tcase_add_test(tc, test_batch_kept);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_publish_result);
	tcase_add_test(tc, test_row_hint);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_settle);
	tcase_add_test(tc, test_settle_retry);
	tcase_add_test(tc, test_mark_settled);
	tcase_add_test(tc, test_transition);
	tcase_add_test(tc, test_recover);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_list_counts);
	tcase_add_test(tc, test_show);
	tcase_add_test(tc, test_reader);
	tcase_add_test(tc, test_agenda);
	tcase_add_test(tc, test_plan_rows);
	tcase_add_test(tc, test_calendar);
	tcase_add_test(tc, test_bulk);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_after_commit);
	tcase_add_test(tc, test_give_up_turn);
	tcase_add_test(tc, test_after_commit_durable);
	tcase_add_test(tc, test_flush_durable);
	tcase_add_test(tc, test_after_commit_budget);
	tcase_add_test(tc, test_checkpoint_follows_log);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_kept_counts);
	tcase_add_test(tc, test_pauses);
	tcase_add_test(tc, test_old_schema);
	tcase_add_test(tc, test_approval);
	tcase_add_test(tc, test_calendar_approval);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * Every backend that needs nothing else; one that needs a server (a URL)
 * only when SMM_STORE_URL names one (tests/pg/store.sh), and then only
 * that one.
 */
int main(void)
{
	int failed = 0, ran = 0;
	const char *url = getenv("SMM_STORE_URL");

	/* Check forks each test after this: the child sees the backend. */
	for (size_t i = 0; store_backends[i]; i++) {
		SRunner *sr;
		int needs_url = strcmp(store_backends[i]->name, "sqlite") != 0;

		if ((url != NULL) != needs_url)
			continue;
		backend = store_backends[i];
		backend_url = needs_url ? url : NULL;
		ran++;
		sr = srunner_create(store_suite());
		srunner_run_all(sr, CK_NORMAL);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	if (ran == 0) {
		printf("no backend to test for SMM_STORE_URL: skipped\n");
		return 77;
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
