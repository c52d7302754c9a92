/*
 * The LinkedIn driver's pure parts: the "little" text escaping, the
 * requests it builds, its judgement of the Posts API's replies (201 with
 * x-restli-id, 401 revoked, 422, 426, 429, 5xx), its OAuth requests and
 * its reading of the token endpoint's answer (refresh_token_expires_in
 * included), and engagement parsing, on bodies shaped as LinkedIn's
 * documentation shows them.
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
#include "publishers/pub_linkedin.h"
#include "publishers/publisher.h"

#define NOW_MS   INT64_C(1795341600000)
#define TOKEN    "AQliSECRETaccess-0123456789"
#define CSECRET  "liCLIENTSECRET42"
#define REFRESH0 "AQWoldSECRETrefresh"

static char dir[] = "/tmp/smmd-check-linkedin-XXXXXX";
static struct config *cfg;

static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

static void setup(void)
{
	struct config_errors errs = {0};
	char yaml[2048], path[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put_file("token", TOKEN "\n");
	put_file("secret", CSECRET "\n");
	snprintf(yaml, sizeof(yaml),
	         "state_dir: %s/state\n"
	         "channels:\n"
	         "  page:\n"
	         "    publisher: linkedin\n"
	         "    author: urn:li:organization:5515715\n"
	         "    token_file: %s/token\n"
	         "    client_id: 86abcdef\n"
	         "    client_secret_file: %s/secret\n"
	         "    redirect_uri: https://smmd.example/cb\n"
	         "  me:\n"
	         "    publisher: linkedin\n"
	         "    author: urn:li:person:Ab-9_x\n"
	         "    token_file: %s/token\n"
	         "    api_url: http://127.0.0.1:9/li/\n"
	         "    api_version: \"202601\"\n",
	         dir, dir, dir, dir);
	put_file("smmd.yaml", yaml);
	snprintf(path, sizeof(path), "%s/smmd.yaml", dir);
	if (config_load(path, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.len; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		ck_abort_msg("the test configuration was refused");
	}
}

static void teardown(void)
{
	const char *names[] = {"token", "secret", "smmd.yaml"};
	char path[256];

	config_unref(cfg);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static const struct publisher_ops *ops(void)
{
	return publisher_lookup("linkedin");
}

/* The value of header name in req, or NULL. */
static const char *header(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	for (struct curl_slist *h = req->headers; h; h = h->next)
		if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
			return h->data + n + 2;
	return NULL;
}

START_TEST(test_little_escape)
{
	char *s = linkedin_little_escape(
	        "Launch (beta) [v2] {x} <y> @z a*b c_d e~f g|h \\ #smmd "
	        "#Über x#y # 50% 1#2");

	ck_assert_str_eq(s, "Launch \\(beta\\) \\[v2\\] \\{x\\} \\<y\\> \\@z "
	                    "a\\*b c\\_d e\\~f g\\|h \\\\ #smmd #Über x\\#y "
	                    "\\# 50% 1\\#2");
	free(s);
	s = linkedin_little_escape("");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* Build step 0 of a text post on channel name. */
static void build_post(const char *name, const char *link, struct pub_step *st,
                       struct http_request *req)
{
	const struct channel *ch = config_channel(cfg, name);
	json_t *media = json_array();
	struct delivery_view v = {.delivery_id = "p1/x",
	                          .post_id = "p1",
	                          .channel = name,
	                          .text = "Hello (world) #smmd",
	                          .link = link,
	                          .media = media,
	                          .webhook_id = "msg_1",
	                          .attempt = 1};
	char err[256] = "";

	ck_assert_int_eq(
	        ops()->build_request(ch, &v, st, NOW_MS, req, err, sizeof(err)),
	        0);
	json_decref(media);
}

START_TEST(test_build_post)
{
	struct pub_step st = {0};
	struct http_request req = {0};
	json_t *b;

	build_post("page", NULL, &st, &req);
	ck_assert_str_eq(req.url, "https://api.linkedin.com/rest/posts");
	ck_assert_int_eq(req.once, 1);
	ck_assert_str_eq(header(&req, "Authorization"), "Bearer " TOKEN);
	ck_assert_str_eq(header(&req, "LinkedIn-Version"), "202607");
	ck_assert_str_eq(header(&req, "X-Restli-Protocol-Version"), "2.0.0");
	b = json_loads(req.body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(b, "author")),
	                 "urn:li:organization:5515715");
	ck_assert_str_eq(json_string_value(json_object_get(b, "commentary")),
	                 "Hello \\(world\\) #smmd");
	ck_assert_str_eq(json_string_value(json_object_get(b, "visibility")),
	                 "PUBLIC");
	ck_assert_str_eq(
	        json_string_value(json_object_get(b, "lifecycleState")),
	        "PUBLISHED");
	ck_assert(
	        json_is_false(json_object_get(b, "isReshareDisabledByAuthor")));
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(b, "distribution"),
	                         "feedDistribution")),
	                 "MAIN_FEED");
	ck_assert_ptr_null(json_object_get(b, "content"));
	json_decref(b);
	http_request_clear(&req);
	pub_step_clear(&st);

	/* A link without images: an article; another api_url, version. */
	build_post("me", "https://example.com/a?b=1", &st, &req);
	ck_assert_str_eq(req.url, "http://127.0.0.1:9/li/rest/posts");
	ck_assert_str_eq(header(&req, "LinkedIn-Version"), "202601");
	b = json_loads(req.body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(b, "author")),
	                 "urn:li:person:Ab-9_x");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(b, "content"),
	                                         "article"),
	                         "source")),
	                 "https://example.com/a?b=1");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(b, "content"),
	                                         "article"),
	                         "title")),
	                 "Hello (world) #smmd");
	json_decref(b);
	http_request_clear(&req);
	pub_step_clear(&st);
}
END_TEST

/* Whether the PUT of an image to url carries the token. */
static int upload_has_token(const char *url)
{
	const struct channel *ch = config_channel(cfg, "page");
	json_t *media = json_pack("[s]", "https://cdn.example/a.png");
	struct delivery_view v = {.post_id = "p1",
	                          .channel = "page",
	                          .text = "x",
	                          .media = media,
	                          .attempt = 1};
	struct pub_step st = {
	        .state = json_pack("{s:[], s:i, s:s, s:s}", "images", "step", 0,
	                           "upload", url, "pending", "urn:li:image:C4"),
	        .blob = strdup("PNG"),
	        .blob_len = 3,
	        .blob_type = strdup("image/png")};
	struct http_request req = {0};
	char err[256];
	int has;

	ck_assert_int_eq(ops()->build_request(ch, &v, &st, NOW_MS, &req, err,
	                                      sizeof(err)),
	                 0);
	ck_assert_str_eq(req.method, "PUT");
	ck_assert_str_eq(req.url, url);
	ck_assert_int_eq(req.body_len, 3);
	ck_assert_int_eq(req.guard, 1);
	ck_assert_str_eq(header(&req, "Content-Type"), "image/png");
	has = header(&req, "Authorization") != NULL;
	http_request_clear(&req);
	pub_step_clear(&st);
	json_decref(media);
	return has;
}

START_TEST(test_upload_token)
{
	ck_assert(upload_has_token("https://www.linkedin.com/dms-uploads/"
	                           "sp/v2/D4E10AQ/uploaded-image/0?ca=x"));
	ck_assert(upload_has_token("https://api.linkedin.com/mediaUpload/x"));
	ck_assert(!upload_has_token("http://www.linkedin.com/dms-uploads/x"));
	ck_assert(!upload_has_token("https://evil.example/up"));
	ck_assert(!upload_has_token("https://linkedin.com.evil.example/up"));
	ck_assert(!upload_has_token("https://www.linkedin.com@evil.example/x"));
	ck_assert(!upload_has_token("https://evil.example#.linkedin.com/x"));
}
END_TEST

/* The verdict on reply (status, body, x-restli-id) to a text post. */
static struct verdict judge(long status, const char *body, const char *id)
{
	const struct channel *ch = config_channel(cfg, "page");
	struct pub_step st = {0};
	struct http_request req = {0};
	struct http_result res = {.status = status,
	                          .body = body,
	                          .body_len = strlen(body),
	                          .restli_id = id,
	                          .request_sent = 1};
	struct delivery_view v = {.text = "x", .channel = "page"};
	struct verdict out = {.retry_after_ms = -1};

	build_post("page", NULL, &st, &req);
	ops()->classify(ch, &v, &st, &res, NOW_MS, &out);
	http_request_clear(&req);
	pub_step_clear(&st);
	ck_assert_ptr_null(strstr(out.reason, "SECRET"));
	return out;
}

START_TEST(test_classify)
{
	struct verdict v;

	v = judge(201, "", "urn:li:share:6844785523593134080");
	ck_assert_int_eq(v.kind, PUBLISH_OK);
	ck_assert_str_eq(v.remote_id, "urn:li:share:6844785523593134080");
	ck_assert_str_eq(v.remote_url, "https://www.linkedin.com/feed/update/"
	                               "urn:li:share:6844785523593134080");
	v = judge(
	        401,
	        "{\"serviceErrorCode\":65601,\"code\":\"REVOKED_ACCESS_TOKEN\","
	        "\"message\":\"The token used in the request has been "
	        "revoked by the user\",\"status\":401}",
	        NULL);
	ck_assert_int_eq(v.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_ptr_nonnull(strstr(v.reason, "access token"));
	ck_assert_ptr_nonnull(strstr(v.reason, "revoked by the user"));
	v = judge(401,
	          "{\"message\":\"Invalid access token " TOKEN
	          "\",\"serviceErrorCode\":65600,\"status\":401}",
	          NULL);
	ck_assert_int_eq(v.kind, PUBLISH_NEEDS_AUTH);
	v = judge(422,
	          "{\"message\":\"ERROR :: /commentary :: length 3001 exceeds "
	          "3000\",\"status\":422}",
	          NULL);
	ck_assert_int_eq(v.kind, PUBLISH_FAILED);
	ck_assert_ptr_nonnull(
	        strstr(v.reason, "HTTP 422: ERROR :: /commentary"));
	v = judge(426,
	          "{\"message\":\"Requested version 20240101 is not "
	          "active\",\"status\":426,\"code\":\"NONEXISTENT_VERSION\"}",
	          NULL);
	ck_assert_int_eq(v.kind, PUBLISH_FAILED);
	ck_assert_ptr_nonnull(strstr(v.reason, "api_version 202607"));
	v = judge(429,
	          "{\"message\":\"Resource level throttle APPLICATION DAY "
	          "limit for calls to this resource is reached.\","
	          "\"status\":429}",
	          NULL);
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	ck_assert_int_eq(v.retry_after_ms, -1);
	v = judge(503, "<html>busy</html>", NULL);
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	v = judge(403,
	          "{\"message\":\"Not enough permissions to access: "
	          "partnerApiPostsExternal.CREATE.20240101\",\"status\":403}",
	          NULL);
	ck_assert_int_eq(v.kind, PUBLISH_FAILED);
	ck_assert_ptr_nonnull(strstr(v.reason, "Not enough permissions"));
}
END_TEST

START_TEST(test_authorize_and_requests)
{
	const struct channel *ch = config_channel(cfg, "page");
	const struct auth_ops *a = ops()->auth;
	struct auth_tokens cur = {.refresh = REFRESH0};
	struct http_request req = {0};
	char url[1024], err[256];

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->authorize_url(ch, NULL, "CHALLENGE", "st8", url,
	                                  sizeof(url)),
	                 0);
	ck_assert_str_eq(url, "https://www.linkedin.com/oauth/v2/authorization"
	                      "?response_type=code&client_id=86abcdef&"
	                      "redirect_uri=https%3A%2F%2Fsmmd.example%2Fcb&"
	                      "scope=w_organization_social%20"
	                      "r_organization_social&state=st8");
	ck_assert_int_eq(a->exchange_request(ch, "C0DE", "VERIFIER", NULL, &req,
	                                     err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url,
	                 "https://www.linkedin.com/oauth/v2/accessToken");
	ck_assert_str_eq(req.body,
	                 "grant_type=authorization_code&code=C0DE&redirect_uri="
	                 "https%3A%2F%2Fsmmd.example%2Fcb&client_id=86abcdef&"
	                 "client_secret=" CSECRET);
	ck_assert_str_eq(header(&req, "Content-Type"),
	                 "application/x-www-form-urlencoded");
	http_request_clear(&req);
	ck_assert_int_eq(a->refresh_request(ch, &cur, &req, err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.body,
	                 "grant_type=refresh_token&refresh_token=" REFRESH0
	                 "&client_id=86abcdef&client_secret=" CSECRET);
	http_request_clear(&req);
	cur.refresh = NULL;
	ck_assert_int_eq(a->refresh_request(ch, &cur, &req, err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "no refresh token"));
	http_request_clear(&req);
	/* A member without client_id cannot be authorized in a browser. */
	ck_assert_int_eq(a->authorize_url(config_channel(cfg, "me"), NULL, "c",
	                                  "s", url, sizeof(url)),
	                 -1);
}
END_TEST

/* token_parse on body, starting from a copy of cur. */
static int parse_tokens(const char *body, struct auth_tokens *out, char *err)
{
	struct http_result res = {
	        .status = 200, .body = body, .body_len = strlen(body)};

	return ops()->auth->token_parse(config_channel(cfg, "page"), &res,
	                                NOW_MS, out, err, 256);
}

START_TEST(test_token_parse)
{
	struct auth_tokens t = {.access = strdup("old"),
	                        .refresh = strdup(REFRESH0),
	                        .access_expires_ms = 1,
	                        .refresh_expires_ms = 2};
	char err[256];

	/* The documentation's sample answer to a refresh. */
	ck_assert_int_eq(
	        parse_tokens(
	                "{\"access_token\":\"AQXnewSECRET\",\"expires_in\":"
	                "5184000,\"refresh_token\":\"AQWnewSECRET\","
	                "\"refresh_token_expires_in\":525600,\"scope\":"
	                "\"w_organization_social\"}",
	                &t, err),
	        0);
	ck_assert_str_eq(t.access, "AQXnewSECRET");
	ck_assert_str_eq(t.refresh, "AQWnewSECRET");
	ck_assert_int_eq(t.access_expires_ms, NOW_MS + INT64_C(5184000000));
	ck_assert_int_eq(t.refresh_expires_ms, NOW_MS + INT64_C(525600000));
	/* An app without programmatic refresh: no refresh token given. */
	ck_assert_int_eq(
	        parse_tokens("{\"access_token\":\"AQX3\",\"expires_in\""
	                     ":5183999,\"scope\":\"w_member_social\"}",
	                     &t, err),
	        0);
	ck_assert_str_eq(t.access, "AQX3");
	ck_assert_str_eq(t.refresh, "AQWnewSECRET");
	ck_assert_int_eq(t.refresh_expires_ms, NOW_MS + INT64_C(525600000));
	/* An error answer, quoted nowhere. */
	ck_assert_int_eq(parse_tokens("{\"error\":\"invalid_request\","
	                              "\"error_description\":\"SECRET\"}",
	                              &t, err),
	                 -1);
	ck_assert_ptr_null(strstr(err, "SECRET"));
	ck_assert_str_eq(t.access, "AQX3");
	free(t.access);
	free(t.refresh);
}
END_TEST

START_TEST(test_engagement)
{
	const struct channel *page = config_channel(cfg, "page");
	const struct engage_ops *e = ops()->engage;
	struct engage_item it = {.post_id = "p1",
	                         .remote_id =
	                                 "urn:li:share:6844785523593134080"};
	const char *body =
	        "{\"commentsSummary\":{\"totalFirstLevelComments\":4,"
	        "\"aggregatedTotalComments\":9},\"$URN\":"
	        "\"urn:li:activity:6296748651834277888\","
	        "\"likesSummary\":{\"likedByCurrentUser\":false,"
	        "\"totalLikes\":12},\"target\":\"urn:li:share:"
	        "6844785523593134080\"}";
	struct http_result res = {
	        .status = 200, .body = body, .body_len = strlen(body)};
	struct http_request req = {0};
	int64_t followers;
	char err[256];

	ck_assert_int_eq(e->request(page, &it, 1, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.url, "https://api.linkedin.com/rest/socialActions/"
	                          "urn%3Ali%3Ashare%3A6844785523593134080");
	ck_assert_str_eq(header(&req, "LinkedIn-Version"), "202607");
	http_request_clear(&req);
	ck_assert_int_eq(e->parse(page, &res, &it, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(it.found, 1);
	ck_assert_int_eq(it.got.likes, 12);
	ck_assert_int_eq(it.got.comments, 9);
	ck_assert_int_eq(it.got.shares, -1);
	ck_assert_int_eq(it.got.views, -1);
	ck_assert_int_eq(it.got.quotes, -1);
	ck_assert_int_eq(e->audience_request(page, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.url, "https://api.linkedin.com/rest/networkSizes/"
	                          "urn%3Ali%3Aorganization%3A5515715?edgeType="
	                          "COMPANY_FOLLOWED_BY_MEMBER");
	http_request_clear(&req);
	res.body = "{\"firstDegreeSize\":219145}";
	res.body_len = strlen(res.body);
	ck_assert_int_eq(
	        e->audience_parse(page, &res, &followers, err, sizeof(err)), 0);
	ck_assert_int_eq(followers, 219145);
	/* A member's followers are not offered. */
	ck_assert_int_eq(e->audience_request(config_channel(cfg, "me"), &req,
	                                     err, sizeof(err)),
	                 -1);
	http_request_clear(&req);
}
END_TEST

static Suite *linkedin_suite(void)
{
	Suite *s = suite_create("pub_linkedin");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_little_escape);
	tcase_add_test(tc, test_build_post);
	tcase_add_test(tc, test_upload_token);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_authorize_and_requests);
	tcase_add_test(tc, test_token_parse);
	tcase_add_test(tc, test_engagement);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(linkedin_suite)
