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
	suite_add_tcase(s, ig);
	return s;
}

SMM_CHECK_MAIN(pub_graph_suite)
