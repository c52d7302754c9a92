/*
 * The x driver's pure parts: its OAuth 2.0 requests (authorize URL with
 * PKCE, code exchange, refresh) and token answers as X documents them
 * (https://docs.x.com/fundamentals/authentication/oauth-2-0/
 * user-access-token), the refresh token X rotates included; and its
 * judgement of the API's answers (201, 401, 429 with x-rate-limit-reset,
 * 403 duplicate content).
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
#include "publishers/publisher.h"

#define NOW_MS 1622147743914LL

/* From X's documentation of the flow (its example client id and tokens). */
#define CLIENT_ID "rG9n6402A3dbUJKzXTNX4oWHJ"
#define SECRET    "xsecretSECRET0123456789"
#define TOKEN     "xtokenSECRET-0123456789"
#define OLD_REFRESH                                                        \
	"bWRWa3gzdnk3WHRGU1o0bmRRcTJ5VUxWX1lZTDdJSUtmaWcxbTVxdEFXcW5tOjE2" \
	"MjIxNDc3NDM5MTQ6MToxOnJ0OjE"
#define NEW_ACCESS                                                          \
	"VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hPWGxNd2dxOjE2M" \
	"jIxNjA4MzY4Mjc6MToxOmF0OjE"
#define NEW_REFRESH "bnZ2N0ZSRkNQX3JvdGF0ZWRfcmVmcmVzaF90b2tlbjoxOnJ0OjE"
#define TOKEN_ANSWER                                                                    \
	"{\"token_type\":\"bearer\",\"expires_in\":7200,\"access_token\":\"" NEW_ACCESS \
	"\",\"scope\":\"tweet.read users.read offline.access\","                        \
	"\"refresh_token\":\"" NEW_REFRESH "\"}"

static char dir[] = "/tmp/smmd-check-pub-x-XXXXXX";
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

/* "pub": a public client; "conf": a confidential one; "tok": a token. */
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
	         "  pub:\n"
	         "    publisher: x\n"
	         "    client_id: " CLIENT_ID "\n"
	         "    redirect_uri: https://www.example.com\n"
	         "  conf:\n"
	         "    publisher: x\n"
	         "    client_id: " CLIENT_ID "\n"
	         "    client_secret_file: %s/secret\n"
	         "    token_url: https://auth.example/oauth2/token\n"
	         "    authorize_url: https://auth.example/authorize\n"
	         "    scopes: tweet.read tweet.write\n"
	         "  tok:\n"
	         "    publisher: x\n"
	         "    token_file: %s/token\n"
	         "    api_url: https://api.example/\n",
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

/* The value of header name in req, or NULL. */
static const char *header(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	for (struct curl_slist *h = req->headers; h; h = h->next)
		if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
			return h->data + n + 2;
	return NULL;
}

START_TEST(test_authorize_url)
{
	const struct channel *ch = config_channel(cfg, "pub");
	char url[1024];

	ck_assert_int_eq(ch->pub->auth->authorize_url(
	                         ch, ch->redirect_uri,
	                         "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	                         "st4te 1", url, sizeof(url)),
	                 0);
	ck_assert_str_eq(
	        url,
	        "https://x.com/i/oauth2/authorize?response_type=code"
	        "&client_id=" CLIENT_ID
	        "&redirect_uri=https%3A%2F%2Fwww.example.com"
	        "&scope=tweet.read%20tweet.write%20users.read%20offline."
	        "access%20media.write&state=st4te%201"
	        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	        "&code_challenge_method=S256");
	/* The redirect smmctl gives wins; the base and scopes are keys. */
	ch = config_channel(cfg, "conf");
	ck_assert_int_eq(
	        ch->pub->auth->authorize_url(ch, "http://127.0.0.1:8421/cb",
	                                     "ch", "s", url, sizeof(url)),
	        0);
	ck_assert_str_eq(url, "https://auth.example/authorize?response_type="
	                      "code&client_id=" CLIENT_ID
	                      "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8421%2Fcb"
	                      "&scope=tweet.read%20tweet.write&state=s"
	                      "&code_challenge=ch&code_challenge_method=S256");
	/* Too small a buffer, or no redirect at all: refused. */
	ck_assert_int_eq(ch->pub->auth->authorize_url(ch, "http://h/", "c", "s",
	                                              url, 40),
	                 -1);
	ck_assert_int_eq(ch->pub->auth->authorize_url(ch, NULL, "c", "s", url,
	                                              sizeof(url)),
	                 -1);
	/* A channel with a token only cannot authorize. */
	ch = config_channel(cfg, "tok");
	ck_assert_int_eq(ch->pub->auth->authorize_url(ch, "http://h/", "c", "s",
	                                              url, sizeof(url)),
	                 -1);
}
END_TEST

START_TEST(test_exchange)
{
	const struct channel *ch = config_channel(cfg, "pub");
	struct http_request req = {0};
	char err[256];

	/* A public client: client_id in the body, no Authorization. */
	ck_assert_int_eq(ch->pub->auth->exchange_request(
	                         ch, "Y29kZQ", "v3rifier", ch->redirect_uri,
	                         &req, err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://api.x.com/2/oauth2/token");
	ck_assert_str_eq(req.method, "POST");
	ck_assert_str_eq(req.body,
	                 "grant_type=authorization_code&code=Y29kZQ"
	                 "&redirect_uri=https%3A%2F%2Fwww.example.com"
	                 "&code_verifier=v3rifier&client_id=" CLIENT_ID);
	ck_assert_uint_eq(req.body_len, strlen(req.body));
	ck_assert_str_eq(header(&req, "Content-Type"),
	                 "application/x-www-form-urlencoded");
	ck_assert_ptr_null(header(&req, "Authorization"));
	http_request_clear(&req);

	/* A confidential one: HTTP Basic, the secret not in the body. */
	ch = config_channel(cfg, "conf");
	ck_assert_int_eq(ch->pub->auth->exchange_request(
	                         ch, "c", "v", "http://127.0.0.1:8421/cb", &req,
	                         err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://auth.example/oauth2/token");
	ck_assert_str_eq(req.body,
	                 "grant_type=authorization_code&code=c"
	                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8421"
	                 "%2Fcb&code_verifier=v&client_id=" CLIENT_ID);
	/* base64("rG9n6402A3dbUJKzXTNX4oWHJ:xsecretSECRET0123456789") */
	ck_assert_str_eq(header(&req, "Authorization"),
	                 "Basic "
	                 "ckc5bjY0MDJBM2RiVUpLelhUTlg0b1dISjp4c2VjcmV0U0VDUkVU"
	                 "MDEyMzQ1Njc4OQ==");
	http_request_clear(&req);
}
END_TEST

START_TEST(test_refresh)
{
	const struct channel *ch = config_channel(cfg, "pub");
	struct auth_tokens cur = {.access = "old",
	                          .refresh = OLD_REFRESH,
	                          .access_expires_ms = NOW_MS,
	                          .refresh_expires_ms = -1};
	struct http_request req = {0};
	char err[256];

	ck_assert_int_eq(ch->pub->auth->refresh_request(ch, &cur, &req, err,
	                                                sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://api.x.com/2/oauth2/token");
	ck_assert_str_eq(req.body,
	                 "grant_type=refresh_token&refresh_token=" OLD_REFRESH
	                 "&client_id=" CLIENT_ID);
	http_request_clear(&req);
	/* No refresh token (offline.access not granted): say what to do. */
	cur.refresh = NULL;
	ck_assert_int_eq(ch->pub->auth->refresh_request(ch, &cur, &req, err,
	                                                sizeof(err)),
	                 -1);
	ck_assert_str_eq(err, "no refresh token (was offline.access granted?): "
	                      "run smmctl auth pub");
	http_request_clear(&req);
	ck_assert_int_eq(ch->pub->auth->refresh_ahead_ms, 5 * 60 * 1000);
}
END_TEST

/* X rotates the refresh token: the answer's replaces the old one. */
START_TEST(test_token_parse)
{
	const struct channel *ch = config_channel(cfg, "pub");
	struct auth_tokens out = {.access = strdup("old"),
	                          .refresh = strdup(OLD_REFRESH),
	                          .access_expires_ms = NOW_MS,
	                          .refresh_expires_ms = -1};
	struct http_result res = {.status = 200, .body = TOKEN_ANSWER};
	char err[256];

	res.body_len = strlen(res.body);
	ck_assert_int_eq(ch->pub->auth->token_parse(ch, &res, NOW_MS, &out, err,
	                                            sizeof(err)),
	                 0);
	ck_assert_str_eq(out.access, NEW_ACCESS);
	ck_assert_str_eq(out.refresh, NEW_REFRESH);
	ck_assert_int_eq(out.access_expires_ms, NOW_MS + 7200 * 1000LL);
	ck_assert_int_eq(out.refresh_expires_ms, -1);

	/* An answer without a refresh token keeps the one there is. */
	res.body = "{\"token_type\":\"bearer\",\"access_token\":\"a2\"}";
	res.body_len = strlen(res.body);
	ck_assert_int_eq(ch->pub->auth->token_parse(ch, &res, NOW_MS, &out, err,
	                                            sizeof(err)),
	                 0);
	ck_assert_str_eq(out.access, "a2");
	ck_assert_str_eq(out.refresh, NEW_REFRESH);
	ck_assert_int_eq(out.access_expires_ms, -1);

	/* No access token, or not JSON: refused, the body not quoted. */
	res.body = "{\"refresh_token\":\"rSECRET\"}";
	res.body_len = strlen(res.body);
	ck_assert_int_eq(ch->pub->auth->token_parse(ch, &res, NOW_MS, &out, err,
	                                            sizeof(err)),
	                 -1);
	ck_assert_str_eq(err, "the answer has no access_token");
	ck_assert_str_eq(out.refresh, NEW_REFRESH);
	free(out.access);
	free(out.refresh);
}
END_TEST

/* One step of a text post on "tok": build, then judge res. */
static void post(const struct http_result *res, struct verdict *out)
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
	struct pub_step st = {0};
	struct http_request req = {0};
	char err[256];

	ck_assert_int_eq(ch->pub->build_request(ch, &v, &st, NOW_MS, &req, err,
	                                        sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://api.example/2/tweets");
	ck_assert_str_eq(req.body, "{\"text\":\"hello\"}");
	ck_assert_str_eq(header(&req, "Authorization"), "Bearer " TOKEN);
	ck_assert_int_eq(req.once, 1);
	*out = (struct verdict){.retry_after_ms = -1};
	ch->pub->classify(ch, &v, &st, res, NOW_MS, out);
	ck_assert_msg(strstr(out->reason, "SECRET") == NULL, "a secret in '%s'",
	              out->reason);
	http_request_clear(&req);
	pub_step_clear(&st);
	json_decref(media);
}

START_TEST(test_classify)
{
	struct http_result res = {.request_sent = 1};
	struct verdict out;

	res.status = 201;
	res.body =
	        "{\"data\":{\"id\":\"1445880548472328192\",\"text\":\"hi\"}}";
	res.body_len = strlen(res.body);
	post(&res, &out);
	ck_assert_int_eq(out.kind, PUBLISH_OK);
	ck_assert_str_eq(out.remote_id, "1445880548472328192");
	ck_assert_str_eq(out.remote_url,
	                 "https://x.com/i/web/status/1445880548472328192");

	/* Revoked: held for smmctl auth, never failed. */
	res.status = 401;
	res.body = "{\"title\":\"Unauthorized\",\"type\":\"about:blank\","
	           "\"status\":401,\"detail\":\"Unauthorized " TOKEN "\"}";
	res.body_len = strlen(res.body);
	post(&res, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_str_eq(out.reason,
	                 "posting: HTTP 401: X refused the access token (run "
	                 "smmctl auth tok, or check token_file): "
	                 "Unauthorized ***");

	/* Rate-limited: wait until x-rate-limit-reset (epoch seconds). */
	res.status = 429;
	res.body = "{\"title\":\"Too Many Requests\",\"detail\":\"Too Many "
	           "Requests\",\"type\":\"about:blank\",\"status\":429}";
	res.body_len = strlen(res.body);
	res.ratelimit.reset = "1622148043"; /* NOW + 300.086 s */
	post(&res, &out);
	ck_assert_int_eq(out.kind, PUBLISH_RETRY);
	ck_assert_int_eq(out.retry_after_ms, 1622148043000LL - NOW_MS);
	ck_assert_str_eq(out.reason, "posting: HTTP 429: Too Many Requests");
	res.ratelimit.reset = NULL;

	/* A repeat: X's words, failed. */
	res.status = 403;
	res.body = "{\"detail\":\"You are not allowed to create a Tweet with "
	           "duplicate content.\",\"type\":\"about:blank\",\"title\":"
	           "\"Forbidden\",\"status\":403}";
	res.body_len = strlen(res.body);
	post(&res, &out);
	ck_assert_int_eq(out.kind, PUBLISH_FAILED);
	ck_assert_str_eq(out.reason,
	                 "posting: X refuses a text it has seen lately: HTTP "
	                 "403: You are not allowed to create a Tweet with "
	                 "duplicate content.");
}
END_TEST

static Suite *pub_x_suite(void)
{
	Suite *s = suite_create("pub_x");
	TCase *tc = tcase_create("x");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_authorize_url);
	tcase_add_test(tc, test_exchange);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_token_parse);
	tcase_add_test(tc, test_classify);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(pub_x_suite)
