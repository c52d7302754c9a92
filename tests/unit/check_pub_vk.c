/*
 * The VK driver's pure parts: the wall.post request (token and v in the
 * body, never the URL), the judgement of VK's answers (HTTP 200 with
 * {"error":{"error_code","error_msg"}}: auth, rate, flood, captcha,
 * internal and bad-parameter codes; {"response":{"post_id"}}), and the
 * engagement and audience parsers on both shapes VK's versions answer.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"
#include "http.h"
#include "publishers/publisher.h"

#define NOW_MS INT64_C(1795341600000)
#define TOKEN  "vk1.a.vkSECRET_token-0123"

static char dir[] = "/tmp/smmd-check-vk-XXXXXX";
static struct config *cfg;

static void setup(void)
{
	struct config_errors errs = {0};
	char path[256];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(TOKEN "\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/smmd.yaml", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f,
	        "state_dir: %s/state\n"
	        "channels:\n"
	        "  vk:\n"
	        "    publisher: vk\n"
	        "    token_file: %s/token\n"
	        "    owner_id: -123456\n",
	        dir, dir);
	fclose(f);
	if (config_load(path, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.len; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		ck_abort_msg("the test configuration was refused");
	}
}

static void teardown(void)
{
	char path[256];

	config_unref(cfg);
	snprintf(path, sizeof(path), "%s/token", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/smmd.yaml", dir);
	unlink(path);
	rmdir(dir);
}

static const struct publisher_ops *ops(void)
{
	return publisher_lookup("vk");
}

static void build(const char *link, struct pub_step *st,
                  struct http_request *req)
{
	json_t *media = json_array();
	struct delivery_view v = {.post_id = "p1",
	                          .channel = "vk",
	                          .text = "Привет & hi",
	                          .link = link,
	                          .media = media,
	                          .attempt = 1};
	char err[256] = "";

	ck_assert_int_eq(ops()->build_request(config_channel(cfg, "vk"), &v, st,
	                                      NOW_MS, req, err, sizeof(err)),
	                 0);
	json_decref(media);
}

START_TEST(test_build_post)
{
	struct pub_step st = {0};
	struct http_request req = {0};

	build("https://example.com/x?a=1", &st, &req);
	ck_assert_str_eq(req.url, "https://api.vk.com/method/wall.post");
	ck_assert_int_eq(req.once, 1);
	ck_assert_ptr_null(strstr(req.url, "SECRET"));
	ck_assert_str_eq(req.body,
	                 "access_token=vk1.a.vkSECRET_token-0123&v=5.199&"
	                 "owner_id=-123456&from_group=1&message=%D0%9F%D1%80"
	                 "%D0%B8%D0%B2%D0%B5%D1%82%20%26%20hi&attachments="
	                 "https%3A%2F%2Fexample.com%2Fx%3Fa%3D1");
	http_request_clear(&req);
	pub_step_clear(&st);
}
END_TEST

/*
 * The upload step: multipart "photo" to the upload_url VK answered,
 * guarded (it came from a reply), without the token anywhere.
 */
START_TEST(test_upload)
{
	json_t *media = json_pack("[s]", "https://cdn.example/a.png");
	struct delivery_view v = {.post_id = "p1",
	                          .channel = "vk",
	                          .text = "x",
	                          .media = media,
	                          .attempt = 1};
	struct pub_step st = {
	        .state = json_pack("{s:[], s:i, s:s}", "photos", "step", 0,
	                           "upload_url",
	                           "https://pu.vk.com/c856312/upload.php?act="
	                           "do_add&gid=123456"),
	        .blob = strdup("PNG"),
	        .blob_len = 3,
	        .blob_type = strdup("image/png")};
	struct http_request req = {0};
	char err[256];

	ck_assert_int_eq(ops()->build_request(config_channel(cfg, "vk"), &v,
	                                      &st, NOW_MS, &req, err,
	                                      sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://pu.vk.com/c856312/upload.php?act="
	                          "do_add&gid=123456");
	ck_assert_int_eq(req.guard, 1);
	ck_assert_ptr_nonnull(strstr(req.body, "name=\"photo\"; filename="
	                                       "\"a.png\"\r\nContent-Type: "
	                                       "image/png\r\n\r\nPNG\r\n"));
	ck_assert_ptr_null(memmem(req.body, req.body_len, "SECRET", 6));
	for (struct curl_slist *h = req.headers; h; h = h->next)
		ck_assert_ptr_null(strstr(h->data, "SECRET"));
	http_request_clear(&req);
	pub_step_clear(&st);
	json_decref(media);
}
END_TEST

static struct verdict judge(const char *body)
{
	struct pub_step st = {0};
	struct http_request req = {0};
	struct http_result res = {.status = 200,
	                          .body = body,
	                          .body_len = strlen(body),
	                          .request_sent = 1};
	struct delivery_view v = {.text = "x", .channel = "vk"};
	struct verdict out = {.retry_after_ms = -1};

	build(NULL, &st, &req);
	ops()->classify(config_channel(cfg, "vk"), &v, &st, &res, NOW_MS, &out);
	http_request_clear(&req);
	pub_step_clear(&st);
	ck_assert_ptr_null(strstr(out.reason, "SECRET"));
	return out;
}

/* {"error":{...}} with code and message, request_params quoting the token. */
static struct verdict judge_error(int code, const char *msg)
{
	char body[512];

	snprintf(body, sizeof(body),
	         "{\"error\":{\"error_code\":%d,\"error_msg\":\"%s\","
	         "\"request_params\":[{\"key\":\"access_token\",\"value\":"
	         "\"" TOKEN "\"},{\"key\":\"v\",\"value\":\"5.199\"}]}}",
	         code, msg);
	return judge(body);
}

START_TEST(test_classify)
{
	struct verdict v = judge("{\"response\":{\"post_id\":4242}}");

	ck_assert_int_eq(v.kind, PUBLISH_OK);
	ck_assert_str_eq(v.remote_id, "-123456_4242");
	ck_assert_str_eq(v.remote_url, "https://vk.com/wall-123456_4242");
	v = judge_error(5, "User authorization failed: invalid access_token "
	                   "(4). " TOKEN);
	ck_assert_int_eq(v.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_ptr_nonnull(strstr(v.reason, "token"));
	ck_assert_ptr_nonnull(strstr(v.reason, "User authorization failed"));
	v = judge_error(27, "Group authorization failed: method is unavailable "
	                    "with group auth.");
	ck_assert_int_eq(v.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_ptr_nonnull(
	        strstr(v.reason, "a community token cannot post"));
	ck_assert_int_eq(
	        judge_error(28, "Application authorization failed").kind,
	        PUBLISH_NEEDS_AUTH);
	v = judge_error(6, "Too many requests per second");
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	ck_assert_int_eq(v.retry_after_ms, 1000);
	v = judge_error(9, "Flood control");
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	ck_assert_int_eq(v.retry_after_ms, 60000);
	v = judge_error(29, "Rate limit reached");
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	ck_assert_int_eq(v.retry_after_ms, 3600000);
	v = judge_error(14, "Captcha needed");
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	ck_assert_ptr_nonnull(strstr(v.reason, "captcha"));
	ck_assert_int_eq(judge_error(10, "Internal server error").kind,
	                 PUBLISH_RETRY);
	v = judge_error(100, "One of the parameters specified was missing or "
	                     "invalid: message is too long");
	ck_assert_int_eq(v.kind, PUBLISH_FAILED);
	ck_assert_ptr_nonnull(strstr(v.reason, "VK error 100: One of the"));
	ck_assert_int_eq(judge_error(214, "Access to adding post denied").kind,
	                 PUBLISH_FAILED);
	ck_assert_int_eq(judge("{\"response\":{}}").kind, PUBLISH_OK);
	ck_assert_int_eq(judge("<html>502</html>").kind, PUBLISH_RETRY);
}
END_TEST

START_TEST(test_engagement)
{
	const struct channel *ch = config_channel(cfg, "vk");
	const struct engage_ops *e = ops()->engage;
	struct engage_item it[2] = {{.post_id = "a", .remote_id = "-123456_7"},
	                            {.post_id = "b", .remote_id = "-123456_8"}};
	const char *bodies[] = {
	        /* 5.199: {"items": [...]}; the old shape: an array. */
	        "{\"response\":{\"items\":[{\"id\":7,\"owner_id\":-123456,"
	        "\"comments\":{\"count\":3},\"likes\":{\"count\":10,"
	        "\"user_likes\":0},\"reposts\":{\"count\":2},\"views\":"
	        "{\"count\":500}}]}}",
	        "{\"response\":[{\"id\":7,\"owner_id\":-123456,\"comments\":"
	        "{\"count\":3},\"likes\":{\"count\":10},\"reposts\":{\"count\":"
	        "2},\"views\":{\"count\":500}}]}",
	};
	struct http_request req = {0};
	struct http_result res = {.status = 200};
	int64_t members;
	char err[256];

	ck_assert_int_eq(e->request(ch, it, 2, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.url, "https://api.vk.com/method/wall.getById");
	ck_assert_ptr_nonnull(strstr(req.body, "&posts=-123456_7%2C-123456_8"));
	http_request_clear(&req);
	for (int k = 0; k < 2; k++) {
		memset(&it[0].got, 0, sizeof(it[0].got));
		it[0].found = it[1].found = 0;
		res.body = bodies[k];
		res.body_len = strlen(res.body);
		ck_assert_int_eq(e->parse(ch, &res, it, 2, err, sizeof(err)),
		                 0);
		ck_assert_int_eq(it[0].found, 1);
		ck_assert_int_eq(it[1].found, 0);
		ck_assert_int_eq(it[0].got.likes, 10);
		ck_assert_int_eq(it[0].got.shares, 2);
		ck_assert_int_eq(it[0].got.comments, 3);
		ck_assert_int_eq(it[0].got.views, 500);
		ck_assert_int_eq(it[0].got.quotes, -1);
	}
	res.body = "{\"error\":{\"error_code\":5,\"error_msg\":\"User "
	           "authorization failed\"}}";
	res.body_len = strlen(res.body);
	ck_assert_int_eq(e->parse(ch, &res, it, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "VK error 5"));
	ck_assert_int_eq(e->audience_request(ch, &req, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(
	        strstr(req.body, "&group_id=123456&fields=members_count"));
	http_request_clear(&req);
	res.body = "{\"response\":{\"groups\":[{\"id\":123456,\"name\":\"x\","
	           "\"members_count\":321}],\"profiles\":[]}}";
	res.body_len = strlen(res.body);
	ck_assert_int_eq(
	        e->audience_parse(ch, &res, &members, err, sizeof(err)), 0);
	ck_assert_int_eq(members, 321);
	res.body = "{\"response\":[{\"id\":123456,\"members_count\":322}]}";
	res.body_len = strlen(res.body);
	ck_assert_int_eq(
	        e->audience_parse(ch, &res, &members, err, sizeof(err)), 0);
	ck_assert_int_eq(members, 322);
}
END_TEST

static Suite *vk_suite(void)
{
	Suite *s = suite_create("pub_vk");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build_post);
	tcase_add_test(tc, test_upload);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_engagement);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(vk_suite)
