/*
 * Meta's Graph API as the facebook and instagram drivers read it: the
 * error object and its codes, the usage headers, form encoding, and the
 * Instagram token renewal (request and answer as Meta documents them).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "config.h"
#include "http.h"
#include "publishers/pub_instagram.h"

#define T0 1700000000000LL

static struct http_result reply(long status, const char *body)
{
	return (struct http_result){
	        .status = status,
	        .body = body,
	        .body_len = body ? strlen(body) : 0,
	};
}

static struct verdict judge(const struct http_result *res)
{
	struct verdict v = {.retry_after_ms = -1};

	graph_judge(res, T0, "posting", &v);
	return v;
}

START_TEST(test_error_parse)
{
	struct graph_error e;
	const char *body =
	        "{\"error\":{\"message\":\"Error validating access token: "
	        "Session has expired\",\"type\":\"OAuthException\","
	        "\"code\":190,\"error_subcode\":463,"
	        "\"fbtrace_id\":\"EJplcsCHuLu\"}}";

	ck_assert_int_eq(graph_error_parse(body, strlen(body), &e), 1);
	ck_assert_int_eq(e.code, 190);
	ck_assert_int_eq(e.subcode, 463);
	ck_assert_str_eq(e.type, "OAuthException");
	ck_assert_str_eq(e.fbtrace_id, "EJplcsCHuLu");
	ck_assert_ptr_nonnull(strstr(e.message, "Session has expired"));
	ck_assert_int_eq(graph_error_parse("{\"id\":\"1\"}", 10, &e), 0);
	ck_assert_int_eq(e.code, -1);
	ck_assert_int_eq(graph_error_parse("not json", 8, &e), 0);
	ck_assert_int_eq(graph_error_parse(NULL, 0, &e), 0);
}
END_TEST

START_TEST(test_token_refused)
{
	static const char *const bodies[] = {
	        "{\"error\":{\"message\":\"expired\",\"type\":"
	        "\"OAuthException\",\"code\":190}}",
	        "{\"error\":{\"message\":\"session\",\"code\":102}}",
	        "{\"error\":{\"message\":\"changed\",\"code\":190,"
	        "\"error_subcode\":460}}",
	        "{\"error\":{\"message\":\"x\",\"code\":1,"
	        "\"error_subcode\":467}}",
	        "{\"error\":{\"message\":\"(#200) no permission\","
	        "\"code\":200}}",
	};
	struct http_result res = reply(400, bodies[_i]);
	struct verdict v = judge(&res);

	ck_assert_int_eq(v.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_ptr_nonnull(strstr(v.reason, "access token"));
	ck_assert_ptr_nonnull(strstr(v.reason, "posting: "));
}
END_TEST

START_TEST(test_throttled_usage_header)
{
	struct http_result res =
	        reply(400, "{\"error\":{\"message\":\"(#32) Page request "
	                   "limit reached\",\"type\":\"OAuthException\","
	                   "\"code\":32,\"fbtrace_id\":\"A1\"}}");
	struct verdict v;

	res.buc_usage = "{\"1234\":[{\"type\":\"pages\",\"call_count\":100,"
	                "\"total_cputime\":25,\"total_time\":25,"
	                "\"estimated_time_to_regain_access\":7}]}";
	v = judge(&res);
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	ck_assert_int_eq(v.retry_after_ms, 7 * 60 * 1000);
	ck_assert_ptr_nonnull(strstr(v.reason, "rate limited: code 32"));
	ck_assert_ptr_nonnull(strstr(v.reason, "fbtrace_id A1"));
}
END_TEST

START_TEST(test_throttled_codes)
{
	static const long codes[] = {4, 9, 17, 32, 341, 613, 80001, 80009};
	char body[128];
	struct http_result res;
	struct verdict v;

	snprintf(body, sizeof(body),
	         "{\"error\":{\"message\":\"limit\",\"code\":%ld}}", codes[_i]);
	res = reply(400, body);
	v = judge(&res);
	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	/* No header: the usual backoff. */
	ck_assert_int_eq(v.retry_after_ms, -1);
	res.retry_after = "30";
	v = judge(&res);
	ck_assert_int_eq(v.retry_after_ms, 30000);
}
END_TEST

START_TEST(test_transient_and_failed)
{
	struct http_result res =
	        reply(500, "{\"error\":{\"message\":\"An unknown error "
	                   "occurred\",\"code\":1}}");
	struct verdict v = judge(&res);

	ck_assert_int_eq(v.kind, PUBLISH_RETRY);
	res = reply(503, "{\"error\":{\"message\":\"Service\",\"code\":2}}");
	ck_assert_int_eq(judge(&res).kind, PUBLISH_RETRY);
	res = reply(502, "<html>bad gateway</html>");
	ck_assert_int_eq(judge(&res).kind, PUBLISH_RETRY);
	res = reply(400, "{\"error\":{\"message\":\"(#100) Invalid parameter\","
	                 "\"type\":\"OAuthException\",\"code\":100,"
	                 "\"error_subcode\":2207052}}");
	v = judge(&res);
	ck_assert_int_eq(v.kind, PUBLISH_FAILED);
	ck_assert_ptr_nonnull(
	        strstr(v.reason, "code 100/2207052: (#100) Invalid parameter"));
	res = reply(401, "");
	v = judge(&res);
	ck_assert_int_eq(v.kind, PUBLISH_NEEDS_AUTH);
	res = reply(404, "not here");
	ck_assert_int_eq(judge(&res).kind, PUBLISH_FAILED);
	res = (struct http_result){.status = 0, .error = "timeout"};
	ck_assert_int_eq(judge(&res).kind, PUBLISH_RETRY);
	/* A 200 carrying an error object is no success. */
	res = reply(200, "{\"error\":{\"message\":\"nope\",\"code\":100}}");
	ck_assert_int_eq(graph_ok(&res), 0);
	ck_assert_int_eq(judge(&res).kind, PUBLISH_FAILED);
	res = reply(200, "{\"id\":\"1\"}");
	ck_assert_int_eq(graph_ok(&res), 1);
}
END_TEST

START_TEST(test_usage_wait)
{
	ck_assert_int_eq(graph_usage_wait_ms(NULL), -1);
	ck_assert_int_eq(graph_usage_wait_ms("garbage"), -1);
	ck_assert_int_eq(graph_usage_wait_ms("{\"call_count\":100,"
	                                     "\"total_time\":5}"),
	                 -1);
	/* The longest of several business use cases. */
	ck_assert_int_eq(
	        graph_usage_wait_ms(
	                "{\"1\":[{\"estimated_time_to_regain_access\":0}],"
	                "\"2\":[{\"type\":\"instagram\","
	                "\"estimated_time_to_regain_access\":3},"
	                "{\"estimated_time_to_regain_access\":12}]}"),
	        12 * 60 * 1000);
	/* Capped at a day. */
	ck_assert_int_eq(graph_usage_wait_ms("{\"1\":[{\"estimated_time_to_"
	                                     "regain_access\":99999}]}"),
	                 24LL * 60 * 60 * 1000);
}
END_TEST

START_TEST(test_form_and_ids)
{
	char *body = NULL;
	size_t len = 0;

	ck_assert_int_eq(graph_form_add(&body, &len, "message", "a&b=c d\nü"),
	                 0);
	ck_assert_int_eq(graph_form_add(&body, &len, "attached_media[0]",
	                                "{\"media_fbid\":\"1\"}"),
	                 0);
	ck_assert_str_eq(body, "message=a%26b%3Dc%20d%0A%C3%BC&attached_media["
	                       "0]=%7B%22media_fbid%22%3A%221%22%7D");
	ck_assert_uint_eq(len, strlen(body));
	free(body);
	ck_assert_int_eq(graph_id_ok("1234_5678"), 1);
	ck_assert_int_eq(graph_id_ok("12/../x"), 0);
	ck_assert_int_eq(graph_id_ok(""), 0);
	ck_assert_int_eq(graph_id_ok(NULL), 0);
}
END_TEST

START_TEST(test_endpoint)
{
	struct graph_conf gc = {0};
	char *u = graph_endpoint(&gc, "%s/feed", "42");

	ck_assert_str_eq(u, "https://graph.facebook.com/" GRAPH_VERSION_DEFAULT
	                    "/42/feed");
	free(u);
	gc.url = "http://127.0.0.1:9/fb";
	gc.version = "v21.0";
	u = graph_endpoint(&gc, "%s?fields=permalink", "7");
	ck_assert_str_eq(u, "http://127.0.0.1:9/fb/v21.0/7?fields=permalink");
	free(u);
}
END_TEST

/* The Instagram channel the auth tests use. */
static struct instagram_conf ic;
static struct channel ch;

static void ig_setup(void)
{
	memset(&ic, 0, sizeof(ic));
	memset(&ch, 0, sizeof(ch));
	ic.graph.token = (unsigned char *)strdup("IGQVJfile+token/=");
	ic.graph.token_len = strlen((char *)ic.graph.token);
	ch.name = "ig";
	ch.pub_conf = &ic;
}

static void ig_teardown(void)
{
	free(ic.graph.token);
	memset(&ic.oauth, 0, sizeof(ic.oauth));
}

/* The oauth keys of a channel that authorizes with smmctl auth. */
static void ig_client(void)
{
	ic.oauth.client_id = "990602627938098";
	ic.oauth.client_secret = (unsigned char *)"app&secret";
	ic.oauth.client_secret_len = strlen("app&secret");
}

START_TEST(test_refresh_request)
{
	struct http_request req = {0};
	struct auth_tokens cur = {.access = "IGQVJcurrent",
	                          .access_expires_ms = -1,
	                          .refresh_expires_ms = -1};
	char err[128] = "";

	ck_assert_int_eq(instagram_auth.refresh_request(&ch, NULL, &req, err,
	                                                sizeof(err)),
	                 0);
	ck_assert_str_eq(req.method, "GET");
	ck_assert_str_eq(req.url,
	                 "https://graph.instagram.com/refresh_access_token?"
	                 "grant_type=ig_refresh_token&access_token="
	                 "IGQVJfile%2Btoken%2F%3D");
	http_request_clear(&req);
	memset(&req, 0, sizeof(req));
	ic.refresh_url = "http://127.0.0.1:8/ig";
	ck_assert_int_eq(instagram_auth.refresh_request(&ch, &cur, &req, err,
	                                                sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "http://127.0.0.1:8/ig/refresh_access_token?"
	                          "grant_type=ig_refresh_token&access_token="
	                          "IGQVJcurrent");
	http_request_clear(&req);
	ic.refresh_url = NULL;
	ck_assert_int_gt(instagram_auth.refresh_ahead_ms,
	                 7LL * 24 * 60 * 60 * 1000);
}
END_TEST

START_TEST(test_authorize_and_exchange)
{
	struct http_request req = {0};
	char url[2048], err[128] = "";

	/* Without client_id the channel's token_file is static. */
	ck_assert_int_eq(instagram_auth.used(&ch), 0);
	/* Without client_id there is no page to open. */
	ck_assert_int_eq(instagram_auth.authorize_url(&ch,
	                                              "http://127.0.0.1:8976/"
	                                              "callback",
	                                              "chal", "st", url,
	                                              sizeof(url)),
	                 -1);
	ck_assert_int_eq(instagram_auth.exchange_request(
	                         &ch, "c", "v", "r", &req, err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "client_id"));
	ig_client();
	ck_assert_int_eq(instagram_auth.used(&ch), 1);
	ck_assert_int_eq(instagram_auth.authorize_url(
	                         &ch, "http://127.0.0.1:8976/callback", "chal",
	                         "st", url, sizeof(url)),
	                 0);
	ck_assert_ptr_nonnull(
	        strstr(url, "https://www.instagram.com/oauth/authorize?"));
	ck_assert_ptr_nonnull(strstr(url, "response_type=code"));
	ck_assert_ptr_nonnull(strstr(url, "client_id=990602627938098"));
	ck_assert_ptr_nonnull(strstr(url,
	                             "scope=instagram_business_basic%2C"
	                             "instagram_business_content_publish"));
	ck_assert_ptr_nonnull(strstr(url, "state=st"));
	ck_assert_int_eq(instagram_auth.exchange_request(
	                         &ch, "AQBx-code", "verif",
	                         "http://127.0.0.1:8976/callback", &req, err,
	                         sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url,
	                 "https://api.instagram.com/oauth/access_token");
	ck_assert_ptr_nonnull(
	        strstr(req.body, "grant_type=authorization_code"));
	ck_assert_ptr_nonnull(strstr(req.body, "code=AQBx-code"));
	ck_assert_ptr_nonnull(strstr(req.body, "client_secret=app%26secret"));
	ck_assert_ptr_nonnull(strstr(req.body, "client_id=990602627938098"));
	http_request_clear(&req);
}
END_TEST

/* A short-lived token is exchanged, with the app secret; then renewed. */
START_TEST(test_exchange_then_refresh)
{
	struct http_result res = reply(
	        200, "{\"data\":[{\"access_token\":\"IGshort\",\"user_id\":"
	             "\"17841405793187218\",\"permissions\":"
	             "\"instagram_business_basic\"}]}");
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1};
	struct http_request req = {0};
	char err[128] = "";

	ig_client();
	ck_assert_int_eq(
	        instagram_auth.token_parse(&ch, &res, T0, &t, err, sizeof(err)),
	        0);
	ck_assert_str_eq(t.access, "IGshort");
	ck_assert_int_eq(t.access_expires_ms, T0 + 3600 * 1000);
	/* Its hour is inside refresh_ahead_ms: auth.c renews it at once. */
	ck_assert_int_le(t.access_expires_ms - instagram_auth.refresh_ahead_ms,
	                 T0);
	ck_assert_int_eq(
	        instagram_auth.refresh_request(&ch, &t, &req, err, sizeof(err)),
	        0);
	ck_assert_str_eq(req.url, "https://graph.instagram.com/access_token?"
	                          "grant_type=ig_exchange_token&client_secret="
	                          "app%26secret&access_token=IGshort");
	http_request_clear(&req);
	memset(&req, 0, sizeof(req));
	res = reply(200, "{\"access_token\":\"IGlong\",\"token_type\":"
	                 "\"bearer\",\"expires_in\":5183944}");
	ck_assert_int_eq(
	        instagram_auth.token_parse(&ch, &res, T0, &t, err, sizeof(err)),
	        0);
	ck_assert_str_eq(t.access, "IGlong");
	ck_assert_int_eq(t.access_expires_ms, T0 + 5183944LL * 1000);
	ck_assert_int_eq(
	        instagram_auth.refresh_request(&ch, &t, &req, err, sizeof(err)),
	        0);
	ck_assert_str_eq(req.url, "https://graph.instagram.com/refresh_access_"
	                          "token?grant_type=ig_refresh_token&"
	                          "access_token=IGlong");
	http_request_clear(&req);
	free(t.access);
	json_decref(t.extra);
}
END_TEST

START_TEST(test_token_parse)
{
	struct http_result res =
	        reply(200, "{\"access_token\":\"IGQVJnew\",\"token_type\":"
	                   "\"bearer\",\"expires_in\":5183944}");
	struct auth_tokens t = {.access = strdup("IGQVJold"),
	                        .refresh = NULL,
	                        .access_expires_ms = 5,
	                        .refresh_expires_ms = -1};
	char err[128] = "";

	ck_assert_int_eq(
	        instagram_auth.token_parse(&ch, &res, T0, &t, err, sizeof(err)),
	        0);
	ck_assert_str_eq(t.access, "IGQVJnew");
	ck_assert_int_eq(t.access_expires_ms, T0 + 5183944LL * 1000);
	ck_assert_ptr_null(t.refresh);
	ck_assert_int_eq(t.refresh_expires_ms, -1);
	/* No token in the answer: an error, the old one kept. */
	res = reply(200, "{\"token_type\":\"bearer\"}");
	ck_assert_int_eq(
	        instagram_auth.token_parse(&ch, &res, T0, &t, err, sizeof(err)),
	        -1);
	ck_assert_str_eq(t.access, "IGQVJnew");
	ck_assert_ptr_nonnull(strstr(err, "access_token"));
	res = reply(200, "{\"access_token\":\"a b\",\"expires_in\":1}");
	ck_assert_int_eq(
	        instagram_auth.token_parse(&ch, &res, T0, &t, err, sizeof(err)),
	        -1);
	free(t.access);
	json_decref(t.extra);
}
END_TEST

static Suite *pub_graph_suite(void)
{
	Suite *s = suite_create("pub_graph");
	TCase *tc = tcase_create("graph");
	TCase *ig = tcase_create("instagram_auth");

	tcase_add_test(tc, test_error_parse);
	tcase_add_loop_test(tc, test_token_refused, 0, 5);
	tcase_add_test(tc, test_throttled_usage_header);
	tcase_add_loop_test(tc, test_throttled_codes, 0, 8);
	tcase_add_test(tc, test_transient_and_failed);
	tcase_add_test(tc, test_usage_wait);
	tcase_add_test(tc, test_form_and_ids);
	tcase_add_test(tc, test_endpoint);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ig, ig_setup, ig_teardown);
	tcase_add_test(ig, test_refresh_request);
	tcase_add_test(ig, test_token_parse);
	tcase_add_test(ig, test_authorize_and_exchange);
	tcase_add_test(ig, test_exchange_then_refresh);
	suite_add_tcase(s, ig);
	return s;
}

SMM_CHECK_MAIN(pub_graph_suite)
