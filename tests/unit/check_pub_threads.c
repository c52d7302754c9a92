/*
 * The threads driver's pure parts: its token requests and answers as
 * Threads documents them (https://developers.facebook.com/docs/threads/
 * get-started/get-access-tokens-and-permissions and .../long-lived-tokens):
 * the authorization window, the code exchange for a short-lived token,
 * its exchange for a long-lived one (th_exchange_token), the refresh
 * (th_refresh_token); and its judgement of the Graph API's answers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"
#include "http.h"
#include "publishers/pub_threads.h"
#include "publishers/publisher.h"

#define NOW_MS    1717000000000LL
#define APP_ID    "990602627938098"
#define SECRET    "a1b2C3D4SECRET"
#define TOKEN     "THQVJtokenSECRET0123"
#define SHORT_TOK "THQVJshortSECRET456"
#define LONG_TOK  "THQVJlongSECRET789"

static char dir[] = "/tmp/smmd-check-pub-threads-XXXXXX";
static struct config *cfg;

static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

/* "app": an app to authorize with; "tok": a long-lived token. */
static void setup(void)
{
	struct config_errors errs = {0};
	char yaml[1024], path[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put_file("secret", SECRET "\n");
	put_file("token", TOKEN "\n");
	snprintf(yaml, sizeof(yaml),
	         "state_dir: %s/state\n"
	         "channels:\n"
	         "  app:\n"
	         "    publisher: threads\n"
	         "    client_id: \"" APP_ID "\"\n"
	         "    client_secret_file: %s/secret\n"
	         "    redirect_uri: https://smm.example/cb\n"
	         "  tok:\n"
	         "    publisher: threads\n"
	         "    token_file: %s/token\n"
	         "    user_id: \"12345\"\n"
	         "    api_url: https://graph.example/\n",
	         dir, dir, dir);
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
	const char *names[] = {"secret", "token", "smmd.yaml"};
	char path[256];

	config_unref(cfg);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static const char *header(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	for (struct curl_slist *h = req->headers; h; h = h->next)
		if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
			return h->data + n + 2;
	return NULL;
}

static struct http_result answer(long status, const char *body)
{
	struct http_result res = {.status = status,
	                          .body = body,
	                          .body_len = strlen(body),
	                          .request_sent = 1};

	return res;
}

START_TEST(test_authorize_url)
{
	const struct channel *ch = config_channel(cfg, "app");
	char url[1024];

	ck_assert_int_eq(ch->pub->auth->authorize_url(ch, ch->redirect_uri,
	                                              "challenge", "st4te", url,
	                                              sizeof(url)),
	                 0);
	ck_assert_str_eq(url,
	                 "https://threads.net/oauth/authorize?client_id=" APP_ID
	                 "&redirect_uri=https%3A%2F%2Fsmm.example%2Fcb"
	                 "&scope=threads_basic%2Cthreads_content_publish%2C"
	                 "threads_manage_insights&response_type=code"
	                 "&state=st4te");
	ch = config_channel(cfg, "tok");
	ck_assert_int_eq(ch->pub->auth->authorize_url(ch, "https://h/", "c",
	                                              "s", url, sizeof(url)),
	                 -1);
}
END_TEST

/* Code → short-lived → long-lived → refreshed: the documented chain. */
START_TEST(test_token_chain)
{
	const struct channel *ch = config_channel(cfg, "app");
	const struct auth_ops *a = ch->pub->auth;
	struct auth_tokens tok = {.access_expires_ms = -1,
	                          .refresh_expires_ms = -1};
	struct http_request req = {0};
	struct http_result res;
	char err[256];

	ck_assert_int_eq(a->exchange_request(ch, "AQBx-code", "unused",
	                                     ch->redirect_uri, &req, err,
	                                     sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url,
	                 "https://graph.threads.net/oauth/access_token");
	ck_assert_str_eq(req.body,
	                 "client_id=" APP_ID "&client_secret=" SECRET
	                 "&code=AQBx-code&grant_type=authorization_code"
	                 "&redirect_uri=https%3A%2F%2Fsmm.example%2Fcb");
	ck_assert_str_eq(header(&req, "Content-Type"),
	                 "application/x-www-form-urlencoded");
	http_request_clear(&req);

	/* The short-lived answer: no expires_in, an hour, marked short. */
	res = answer(200, "{\"access_token\":\"" SHORT_TOK
	                  "\",\"user_id\":17841400000000000}");
	ck_assert_int_eq(
	        a->token_parse(ch, &res, NOW_MS, &tok, err, sizeof(err)), 0);
	ck_assert_str_eq(tok.access, SHORT_TOK);
	ck_assert_ptr_null(tok.refresh);
	ck_assert_int_eq(tok.access_expires_ms, NOW_MS + 3600 * 1000LL);
	ck_assert_int_eq(tok.refresh_expires_ms, -1);
	ck_assert(json_is_true(json_object_get(tok.extra, "short_lived")));
	ck_assert_str_eq(
	        json_string_value(json_object_get(tok.extra, "user_id")),
	        "17841400000000000");
	/* Due at once: an hour is well inside refresh_ahead_ms. */
	ck_assert_int_gt(a->refresh_ahead_ms, 3600 * 1000LL);

	/* Its "refresh" is the exchange for a long-lived token. */
	ck_assert_int_eq(a->refresh_request(ch, &tok, &req, err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.method, "GET");
	ck_assert_str_eq(req.url,
	                 "https://graph.threads.net/access_token"
	                 "?grant_type=th_exchange_token&client_secret=" SECRET
	                 "&access_token=" SHORT_TOK);
	http_request_clear(&req);
	res = answer(200,
	             "{\"access_token\":\"" LONG_TOK
	             "\",\"token_type\":\"bearer\",\"expires_in\":5183944}");
	ck_assert_int_eq(
	        a->token_parse(ch, &res, NOW_MS, &tok, err, sizeof(err)), 0);
	ck_assert_str_eq(tok.access, LONG_TOK);
	ck_assert_int_eq(tok.access_expires_ms, NOW_MS + 5183944 * 1000LL);
	/* Its end is the chain's: it renews itself until then. */
	ck_assert_int_eq(tok.refresh_expires_ms, tok.access_expires_ms);
	ck_assert(json_is_false(json_object_get(tok.extra, "short_lived")));

	/* From then on, th_refresh_token with the token itself. */
	ck_assert_int_eq(a->refresh_request(ch, &tok, &req, err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url,
	                 "https://graph.threads.net/refresh_access_token"
	                 "?grant_type=th_refresh_token&access_token=" LONG_TOK);
	http_request_clear(&req);
	free(tok.access);
	json_decref(tok.extra);
}
END_TEST

/* One step of a text post on "tok" at step st, judged against res. */
static void step(struct pub_step *st, const struct http_result *res,
                 struct verdict *out, const char *want_url)
{
	const struct channel *ch = config_channel(cfg, "tok");
	json_t *media = json_array();
	struct delivery_view v = {.delivery_id = "p1/tok",
	                          .post_id = "p1",
	                          .channel = "tok",
	                          .text = "hello",
	                          .media = media,
	                          .webhook_id = "msg_1",
	                          .attempt = 1};
	struct http_request req = {0};
	char err[256];

	ck_assert_int_eq(ch->pub->build_request(ch, &v, st, NOW_MS, &req, err,
	                                        sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, want_url);
	ck_assert_str_eq(header(&req, "Authorization"), "Bearer " TOKEN);
	*out = (struct verdict){.retry_after_ms = -1};
	ch->pub->classify(ch, &v, st, res, NOW_MS, out);
	ck_assert_msg(strstr(out->reason, "SECRET") == NULL, "a secret in '%s'",
	              out->reason);
	http_request_clear(&req);
	json_decref(media);
}

START_TEST(test_classify)
{
	struct pub_step st = {0};
	struct verdict out;
	struct http_result res;

	res = answer(200, "{\"id\":\"17889615691921648\"}");
	step(&st, &res, &out, "https://graph.example/v1.0/12345/threads");
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	res = answer(200, "{\"status\":\"ERROR\",\"id\":\"17889615691921648\","
	                  "\"error_message\":\"FAILED_DOWNLOADING_VIDEO\"}");
	step(&st, &res, &out,
	     "https://graph.example/v1.0/17889615691921648"
	     "?fields=status%2Cerror_message");
	ck_assert_int_eq(out.kind, PUBLISH_FAILED);
	ck_assert_str_eq(out.reason, "Threads could not make the post: "
	                             "FAILED_DOWNLOADING_VIDEO");
	pub_step_clear(&st);

	/* IN_PROGRESS: checked again 30 s later; published, the post exists. */
	res = answer(200, "{\"id\":\"1001\"}");
	step(&st, &res, &out, "https://graph.example/v1.0/12345/threads");
	res = answer(200, "{\"status\":\"IN_PROGRESS\",\"id\":\"1001\"}");
	step(&st, &res, &out,
	     "https://graph.example/v1.0/1001?fields=status%2Cerror_message");
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_int_eq(out.retry_after_ms, 30000);
	res = answer(200, "{\"status\":\"FINISHED\",\"id\":\"1001\"}");
	step(&st, &res, &out,
	     "https://graph.example/v1.0/1001?fields=status%2Cerror_message");
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_int_eq(out.retry_after_ms, -1);
	res = answer(200, "{\"id\":\"2002\"}");
	step(&st, &res, &out,
	     "https://graph.example/v1.0/12345/threads_publish");
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_str_eq(out.remote_id, "2002");
	/* No permalink: published all the same, without a URL. */
	res = answer(500, "{}");
	step(&st, &res, &out,
	     "https://graph.example/v1.0/2002?fields=permalink");
	ck_assert_int_eq(out.kind, PUBLISH_OK);
	ck_assert_str_eq(out.remote_id, "2002");
	ck_assert_str_eq(out.remote_url, "");
	pub_step_clear(&st);

	/* An expired token (code 190): held for smmctl auth. */
	res = answer(400, "{\"error\":{\"message\":\"Error validating access "
	                  "token: Session has expired\",\"type\":"
	                  "\"OAuthException\",\"code\":190,\"error_subcode\":"
	                  "463,\"fbtrace_id\":\"A\"}}");
	step(&st, &res, &out, "https://graph.example/v1.0/12345/threads");
	ck_assert_int_eq(out.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_str_eq(out.reason,
	                 "creating the container: the access token was "
	                 "refused (renew token_file or run smmctl auth): code "
	                 "190/463: Error validating access token: Session has "
	                 "expired (fbtrace_id A)");
	pub_step_clear(&st);

	/* A rate limit (code 613) passes; a token in the text is redacted. */
	res = answer(400, "{\"error\":{\"message\":\"Calls to this api have "
	                  "exceeded the rate limit. " TOKEN "\",\"type\":"
	                  "\"OAuthException\",\"code\":613}}");
	step(&st, &res, &out, "https://graph.example/v1.0/12345/threads");
	ck_assert_int_eq(out.kind, PUBLISH_RETRY);
	ck_assert_str_eq(out.reason,
	                 "creating the container: rate limited: code 613: "
	                 "Calls to this api have exceeded the rate limit. ***");
	pub_step_clear(&st);
}
END_TEST

/* Threads counts an emoji as its UTF-8 bytes, the rest per code point. */
START_TEST(test_length)
{
	static const struct {
		const char *text;
		size_t want;
	} cases[] = {
	        {"", 0},
	        {"h\xc3\xa9llo", 5},     /* héllo */
	        {"\xf0\x9f\x91\x8d", 4}, /* thumbs up */
	        {"a\xf0\x9f\x91\x8d"
	         "b",
	         6},                                     /* a, thumbs up, b */
	        {"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 8}, /* with a skin tone */
	        /* man ZWJ woman ZWJ girl: one cluster, 18 bytes */
	        {"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
	         "\xf0\x9f\x91\xa7",
	         18},
	        {"\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 8}, /* the French flag */
	        {"e\xcc\x81", 2},                /* e, combining acute */
	        {"\xe6\x97\xa5\xe6\x9c\xac", 2}, /* two CJK characters */
	        {"a\xff"
	         "b",
	         3}, /* a stray byte counts one */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(threads_text_length(cases[i].text,
		                                  strlen(cases[i].text)) ==
		                      cases[i].want,
		              "case %zu: %zu, want %zu", i,
		              threads_text_length(cases[i].text,
		                                  strlen(cases[i].text)),
		              cases[i].want);
	ck_assert_ptr_eq(config_channel(cfg, "tok")->pub->text_rule->measure,
	                 threads_text_length);
	ck_assert_uint_eq(config_channel(cfg, "tok")->pub->text_rule->limit,
	                  500);
}
END_TEST

static Suite *pub_threads_suite(void)
{
	Suite *s = suite_create("pub_threads");
	TCase *tc = tcase_create("threads");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_authorize_url);
	tcase_add_test(tc, test_token_chain);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_length);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(pub_threads_suite)
