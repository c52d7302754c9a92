/*
 * Unit tests for the Bluesky driver's pure parts: the session requests
 * and their answers (recorded in the shapes of the lexicons'
 * documentation), the record key, the post it builds (facets with byte
 * offsets, embeds), how it judges XRPC errors, and engagement parsing.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"
#include "http.h"
#include "publishers/pub_bluesky.h"
#include "publishers/publisher.h"

#define NOW_MS   1764770000000LL
#define PASSWORD "abcd-efgh-SECRET-ijkl"
#define DID      "did:plc:z72i7hdynmk6r22z27h6tvur"
/* JWTs whose payloads say exp 1764777200 (access), 1772546000 (refresh). */
#define ACCESS_JWT                                                             \
	"eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ."                          \
	"eyJzY29wZSI6ImNvbS5hdHByb3RvLmFwcFBhc3MiLCJzdWIiOiJkaWQ6cGxjOno3Mmk3" \
	"aGR5bm1rNnIyMnoyN2g2dHZ1ciIsImlhdCI6MTc2NDc3MDAwMCwiZXhwIjoxNzY0Nzc3" \
	"MjAwLCJhdWQiOiJkaWQ6d2ViOm1vcmVsLnVzLWVhc3QuaG9zdC5ic2t5Lm5ldHdvcmsi" \
	"fQ.c2lnbmF0dXJl"
#define REFRESH_JWT                                                            \
	"eyJ0eXAiOiJyZWZyZXNoK2p3dCIsImFsZyI6IkVTMjU2SyJ9."                    \
	"eyJzY29wZSI6ImNvbS5hdHByb3RvLnJlZnJlc2giLCJzdWIiOiJkaWQ6cGxjOno3Mmk3" \
	"aGR5bm1rNnIyMnoyN2g2dHZ1ciIsImF1ZCI6ImRpZDp3ZWI6YnNreS5zb2NpYWwiLCJq" \
	"dGkiOiJRMmFMMEt5OWxHbU53USIsImlhdCI6MTc2NDc3MDAwMCwiZXhwIjoxNzcyNTQ2" \
	"MDAwfQ.c2lnbmF0dXJl"

static char dir[] = "/tmp/smmd-check-bluesky-XXXXXX";
static struct config *cfg;
static struct channel *sky;
static struct auth_tokens tokens;

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

static void setup(void)
{
	struct config_errors errs = {0};
	char yaml[1024], path[256];

	/* Afresh each time: without Check's fork the name stays filled. */
	memcpy(dir + sizeof(dir) - 7, "XXXXXX", 6);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put_file("bsky.pass", PASSWORD "\n");
	snprintf(yaml, sizeof(yaml),
	         "state_dir: %s/state\n"
	         "channels:\n"
	         "  sky:\n"
	         "    publisher: bluesky\n"
	         "    service: https://pds.example/\n"
	         "    handle: shop.bsky.social\n"
	         "    app_password_file: %s/bsky.pass\n"
	         "    language: en\n",
	         dir, dir);
	put_file("smmd.yaml", yaml);
	snprintf(path, sizeof(path), "%s/smmd.yaml", dir);
	if (config_load(path, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.len; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		ck_abort_msg("the test configuration was refused");
	}
	/* auth.c's part: the channel's session. */
	sky = (struct channel *)config_channel(cfg, "sky");
	tokens = (struct auth_tokens){
	        .access = ACCESS_JWT,
	        .refresh = REFRESH_JWT,
	        .access_expires_ms = -1,
	        .refresh_expires_ms = -1,
	        .extra = json_pack("{s:s}", "did", DID),
	};
	sky->tokens = &tokens;
}

static void teardown(void)
{
	char path[256];

	sky->tokens = NULL;
	json_decref(tokens.extra);
	config_unref(cfg);
	snprintf(path, sizeof(path), "%s/bsky.pass", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/smmd.yaml", dir);
	unlink(path);
	rmdir(dir);
}

/* The value of header name in list, or NULL. */
static const char *header(const struct curl_slist *list, const char *name)
{
	size_t n = strlen(name);

	for (; list; list = list->next)
		if (strncasecmp(list->data, name, n) == 0 &&
		    list->data[n] == ':')
			return list->data + n + 1 + (list->data[n + 1] == ' ');
	return NULL;
}

static struct http_result reply(long status, const char *body)
{
	return (struct http_result){.status = status,
	                            .body = body,
	                            .body_len = strlen(body),
	                            .request_sent = 1};
}

START_TEST(test_session_parse)
{
	const char *body =
	        "{\"accessJwt\":\"" ACCESS_JWT
	        "\",\"refreshJwt\":\"" REFRESH_JWT
	        "\",\"handle\":\"shop.bsky.social\",\"did\":\"" DID "\","
	        "\"didDoc\":{\"id\":\"" DID
	        "\"},\"email\":\"shop@example.org\","
	        "\"emailConfirmed\":true,\"active\":true}";
	struct http_result res = reply(200, body);
	struct auth_tokens out = {.access_expires_ms = -1,
	                          .refresh_expires_ms = -1};
	char err[256];

	ck_assert_int_eq(sky->pub->auth->token_parse(sky, &res, NOW_MS, &out,
	                                             err, sizeof(err)),
	                 0);
	ck_assert_str_eq(out.access, ACCESS_JWT);
	ck_assert_str_eq(out.refresh, REFRESH_JWT);
	ck_assert_str_eq(json_string_value(json_object_get(out.extra, "did")),
	                 DID);
	ck_assert_int_eq(out.access_expires_ms, 1764777200000LL);
	ck_assert_int_eq(out.refresh_expires_ms, 1772546000000LL);
	free(out.access);
	free(out.refresh);
	json_decref(out.extra);
}
END_TEST

START_TEST(test_session_parse_opaque_and_bad)
{
	struct http_result res = reply(
	        200, "{\"accessJwt\":\"opaque-a\",\"refreshJwt\":"
	             "\"opaque-r\",\"handle\":\"h\",\"did\":\"" DID "\"}");
	struct auth_tokens out = {.access = strdup("old"),
	                          .access_expires_ms = -1,
	                          .refresh_expires_ms = -1};
	char err[256];

	/* No exp to read: the two hours the server gives. */
	ck_assert_int_eq(sky->pub->auth->token_parse(sky, &res, NOW_MS, &out,
	                                             err, sizeof(err)),
	                 0);
	ck_assert_str_eq(out.access, "opaque-a");
	ck_assert_int_eq(out.access_expires_ms, NOW_MS + 2 * 3600 * 1000LL);
	ck_assert_int_eq(out.refresh_expires_ms, -1);
	res = reply(200, "{\"accessJwt\":\"a\",\"refreshJwt\":\"r\",\"did\":"
	                 "\"" DID "\",\"active\":false,\"status\":"
	                 "\"takendown\"}");
	ck_assert_int_eq(sky->pub->auth->token_parse(sky, &res, NOW_MS, &out,
	                                             err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "takendown"));
	res = reply(200, "{\"accessJwt\":\"a\"}");
	ck_assert_int_eq(sky->pub->auth->token_parse(sky, &res, NOW_MS, &out,
	                                             err, sizeof(err)),
	                 -1);
	/* What a refused answer leaves is what was there. */
	ck_assert_str_eq(out.access, "opaque-a");
	free(out.access);
	free(out.refresh);
	json_decref(out.extra);
}
END_TEST

START_TEST(test_session_requests)
{
	struct http_request req = {0};
	char err[256];
	json_t *o;

	ck_assert_int_eq(
	        sky->pub->auth->login_request(sky, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.url, "https://pds.example/xrpc/"
	                          "com.atproto.server.createSession");
	ck_assert_str_eq(header(req.headers, "Content-Type"),
	                 "application/json");
	o = json_loadb(req.body, req.body_len, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "identifier")),
	                 "shop.bsky.social");
	ck_assert_str_eq(json_string_value(json_object_get(o, "password")),
	                 PASSWORD);
	json_decref(o);
	http_request_clear(&req);
	ck_assert_int_eq(sky->pub->auth->refresh_request(sky, &tokens, &req,
	                                                 err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://pds.example/xrpc/"
	                          "com.atproto.server.refreshSession");
	ck_assert_str_eq(req.method, "POST");
	ck_assert_uint_eq(req.body_len, 0);
	ck_assert_str_eq(header(req.headers, "Authorization"),
	                 "Bearer " REFRESH_JWT);
	http_request_clear(&req);
	ck_assert_int_gt(sky->pub->auth->refresh_ahead_ms, 0);
}
END_TEST

START_TEST(test_jwt_exp)
{
	ck_assert_int_eq(bluesky_jwt_exp_ms(ACCESS_JWT), 1764777200000LL);
	ck_assert_int_eq(bluesky_jwt_exp_ms("not-a-jwt"), -1);
	ck_assert_int_eq(bluesky_jwt_exp_ms("a.!!!.c"), -1);
	ck_assert_int_eq(bluesky_jwt_exp_ms(NULL), -1);
	/* {"sub":"x"}: no exp. */
	ck_assert_int_eq(bluesky_jwt_exp_ms("e30.eyJzdWIiOiJ4In0.x"), -1);
}
END_TEST

static struct delivery_view view(const char *text, const char *link,
                                 json_t *media, const char *webhook_id)
{
	return (struct delivery_view){
	        .delivery_id = "p1/sky",
	        .post_id = "p1",
	        .channel = "sky",
	        .text = text,
	        .link = link,
	        .media = media,
	        .webhook_id = webhook_id,
	        .scheduled_ms = NOW_MS,
	        .attempt = 1,
	};
}

START_TEST(test_rkey)
{
	json_t *none = json_array();
	struct delivery_view a = view("x", NULL, none, "msg_2a"),
	                     b = view("x", NULL, none, "msg_2b");
	char ka[14], ka2[14], kb[14];

	bluesky_rkey(&a, ka);
	bluesky_rkey(&a, ka2);
	bluesky_rkey(&b, kb);
	ck_assert_str_eq(ka, ka2);
	ck_assert_str_ne(ka, kb);
	/* A TID: 13 base32-sortable characters, the first of 2-7a-j. */
	ck_assert_uint_eq(strlen(ka), 13);
	ck_assert_uint_eq(strspn(ka, "234567abcdefghijklmnopqrstuvwxyz"), 13);
	ck_assert_ptr_nonnull(strchr("234567abcdefghij", ka[0]));
	json_decref(none);
}
END_TEST

START_TEST(test_no_session)
{
	json_t *none = json_array();
	struct delivery_view v = view("hello", NULL, none, "msg_1");
	struct pub_step st = {0};
	struct http_request req = {0};
	char err[256];

	sky->tokens = NULL;
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 -EACCES);
	ck_assert_ptr_nonnull(strstr(err, "smmctl auth sky"));
	sky->tokens = &tokens;
	pub_step_clear(&st);
	json_decref(none);
}
END_TEST

/* Build v's first request and return its JSON body (the caller's). */
static json_t *create_body(const struct delivery_view *v, struct pub_step *st)
{
	struct http_request req = {0};
	char err[256];
	json_t *o;

	ck_assert_msg(sky->pub->build_request(sky, v, st, NOW_MS, &req, err,
	                                      sizeof(err)) == 0,
	              "build: %s", err);
	ck_assert_str_eq(req.url, "https://pds.example/xrpc/"
	                          "com.atproto.repo.createRecord");
	ck_assert_str_eq(header(req.headers, "Authorization"),
	                 "Bearer " ACCESS_JWT);
	o = json_loadb(req.body, req.body_len, 0, NULL);
	ck_assert_ptr_nonnull(o);
	http_request_clear(&req);
	return o;
}

START_TEST(test_create_record)
{
	json_t *none = json_array(), *o, *rec, *f;
	/* U+1F389 (4 bytes) and e + U+0301 (3 bytes) before the facets. */
	struct delivery_view v =
	        view("\xf0\x9f\x8e\x89 Caf\x65\xcc\x81 https://shop.example/a "
	             "#launch!",
	             "https://shop.example/a", none, "msg_1");
	struct pub_step st = {0};
	struct http_result res;
	struct verdict out = {0};
	char rkey[14], want[512];

	o = create_body(&v, &st);
	bluesky_rkey(&v, rkey);
	ck_assert_str_eq(json_string_value(json_object_get(o, "repo")), DID);
	ck_assert_str_eq(json_string_value(json_object_get(o, "collection")),
	                 "app.bsky.feed.post");
	ck_assert_str_eq(json_string_value(json_object_get(o, "rkey")), rkey);
	rec = json_object_get(o, "record");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "$type")),
	                 "app.bsky.feed.post");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "text")),
	                 v.text);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "createdAt")),
	                 "2025-12-03T13:53:20.000Z");
	ck_assert_str_eq(json_string_value(json_array_get(
	                         json_object_get(rec, "langs"), 0)),
	                 "en");
	f = json_object_get(rec, "facets");
	ck_assert_uint_eq(json_array_size(f), 2);
	/* 4 + 1 + 6 + 1 = 12 bytes before the link, 22 in it. */
	ck_assert_int_eq(
	        json_integer_value(publisher_json_at(f, "0.index.byteStart")),
	        12);
	ck_assert_int_eq(
	        json_integer_value(publisher_json_at(f, "0.index.byteEnd")),
	        34);
	ck_assert_str_eq(
	        json_string_value(publisher_json_at(f, "0.features.0.$type")),
	        "app.bsky.richtext.facet#link");
	ck_assert_str_eq(
	        json_string_value(publisher_json_at(f, "0.features.0.uri")),
	        "https://shop.example/a");
	ck_assert_int_eq(
	        json_integer_value(publisher_json_at(f, "1.index.byteStart")),
	        35);
	ck_assert_int_eq(
	        json_integer_value(publisher_json_at(f, "1.index.byteEnd")),
	        42);
	ck_assert_str_eq(
	        json_string_value(publisher_json_at(f, "1.features.0.tag")),
	        "launch");
	/* The link's card: no page fetched, so the link is its title. */
	ck_assert_str_eq(
	        json_string_value(publisher_json_at(rec, "embed.$type")),
	        "app.bsky.embed.external");
	ck_assert_str_eq(json_string_value(publisher_json_at(
	                         rec, "embed.external.title")),
	                 "https://shop.example/a");
	json_decref(o);
	snprintf(want, sizeof(want),
	         "{\"uri\":\"at://" DID "/app.bsky.feed.post/%s\","
	         "\"cid\":\"bafyreib2rxk3rh6kzwq\",\"commit\":{\"cid\":\"x\","
	         "\"rev\":\"y\"},\"validationStatus\":\"valid\"}",
	         rkey);
	res = reply(200, want);
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	ck_assert_int_eq(out.kind, PUBLISH_OK);
	snprintf(want, sizeof(want), "at://" DID "/app.bsky.feed.post/%s",
	         rkey);
	ck_assert_str_eq(out.remote_id, want);
	snprintf(want, sizeof(want), "https://bsky.app/profile/" DID "/post/%s",
	         rkey);
	ck_assert_str_eq(out.remote_url, want);
	pub_step_clear(&st);
	json_decref(none);
}
END_TEST

/* Judge res to the create step of a one-line post. */
static struct verdict judge(struct http_result res)
{
	json_t *none = json_array(), *o;
	struct delivery_view v = view("hi", NULL, none, "msg_1");
	struct pub_step st = {0};
	struct verdict out = {0};

	o = create_body(&v, &st);
	json_decref(o);
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	pub_step_clear(&st);
	json_decref(none);
	return out;
}

START_TEST(test_errors)
{
	struct http_result res;
	struct verdict out;

	out = judge(reply(400, "{\"error\":\"ExpiredToken\",\"message\":"
	                       "\"Token has expired\"}"));
	ck_assert_int_eq(out.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_msg(strncmp(out.reason, "expired token", 13) == 0, "%s",
	              out.reason);
	out = judge(reply(400, "{\"error\":\"InvalidToken\",\"message\":"
	                       "\"Bad token " ACCESS_JWT "\"}"));
	ck_assert_int_eq(out.kind, PUBLISH_NEEDS_AUTH);
	ck_assert_ptr_nonnull(strstr(out.reason, "session was refused"));
	ck_assert_ptr_null(strstr(out.reason, "eyJ"));
	out = judge(reply(401, "{\"error\":\"AuthenticationRequired\","
	                       "\"message\":\"Authentication Required\"}"));
	ck_assert_int_eq(out.kind, PUBLISH_NEEDS_AUTH);
	out = judge(reply(400, "{\"error\":\"InvalidRequest\",\"message\":"
	                       "\"Invalid app.bsky.feed.post record: Record/"
	                       "text must not be longer than 300 "
	                       "graphemes\"}"));
	ck_assert_int_eq(out.kind, PUBLISH_FAILED);
	ck_assert_str_eq(out.reason,
	                 "creating the post: HTTP 400 InvalidRequest: Invalid "
	                 "app.bsky.feed.post record: Record/text must not be "
	                 "longer than 300 graphemes");
	res = reply(429, "{\"error\":\"RateLimitExceeded\",\"message\":"
	                 "\"Rate Limit Exceeded\"}");
	res.ratelimit.limit = "5000";
	res.ratelimit.remaining = "0";
	res.ratelimit.reset = "1764770090"; /* 90 s after NOW_MS */
	out = judge(res);
	ck_assert_int_eq(out.kind, PUBLISH_RETRY);
	ck_assert_int_eq(out.retry_after_ms, 90000);
	out = judge(reply(502, "<html>bad gateway</html>"));
	ck_assert_int_eq(out.kind, PUBLISH_RETRY);
	/* A repeat of an earlier attempt's write: that one was published. */
	out = judge(reply(400, "{\"error\":\"RecordAlreadyExists\",\"message\":"
	                       "\"Record already exists\"}"));
	ck_assert_int_eq(out.kind, PUBLISH_OK);
	ck_assert_ptr_nonnull(strstr(out.remote_id, "at://" DID));
}
END_TEST

START_TEST(test_retry_looks_first)
{
	json_t *none = json_array();
	struct delivery_view v = view("hi", NULL, none, "msg_1");
	struct pub_step st = {0};
	struct http_request req = {0};
	struct http_result res;
	struct verdict out = {0};
	char err[256], rkey[14], want[256];

	v.attempt = 2;
	bluesky_rkey(&v, rkey);
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 0);
	snprintf(want, sizeof(want),
	         "https://pds.example/xrpc/com.atproto.repo.getRecord?repo="
	         "did%%3Aplc%%3Az72i7hdynmk6r22z27h6tvur&collection="
	         "app.bsky.feed.post&rkey=%s",
	         rkey);
	ck_assert_str_eq(req.url, want);
	http_request_clear(&req);
	/* Found: published by the attempt whose answer was lost. */
	res = reply(200, "{\"uri\":\"at://x\",\"cid\":\"y\",\"value\":{}}");
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	ck_assert_int_eq(out.kind, PUBLISH_OK);
	pub_step_clear(&st);
	/* Not found: go on and create it. */
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 0);
	http_request_clear(&req);
	res = reply(400, "{\"error\":\"RecordNotFound\",\"message\":\"Could "
	                 "not locate record\"}");
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	json_decref(create_body(&v, &st));
	pub_step_clear(&st);
	json_decref(none);
}
END_TEST

START_TEST(test_images_embed)
{
	json_t *media = json_pack("[s]", "https://cdn.example/a.png");
	struct delivery_view v =
	        view("pic", "https://shop.example/b", media, "msg_1");
	struct pub_step st = {0};
	struct http_request req = {0};
	struct http_result res;
	struct verdict out = {0};
	char err[256];
	json_t *o;

	/* Fetch, then upload the bytes as they are. */
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 0);
	ck_assert_str_eq(req.url, "https://cdn.example/a.png");
	ck_assert_ptr_null(header(req.headers, "Authorization"));
	http_request_clear(&req);
	res = reply(200, "PNGDATA");
	res.content_type = "image/png";
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 0);
	ck_assert_str_eq(
	        req.url,
	        "https://pds.example/xrpc/com.atproto.repo.uploadBlob");
	ck_assert_str_eq(header(req.headers, "Content-Type"), "image/png");
	ck_assert_uint_eq(req.body_len, 7);
	ck_assert_int_eq(memcmp(req.body, "PNGDATA", 7), 0);
	http_request_clear(&req);
	res = reply(200, "{\"blob\":{\"$type\":\"blob\",\"ref\":{\"$link\":"
	                 "\"bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgp"
	                 "emzkvi\"},\"mimeType\":\"image/png\",\"size\":7}}");
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	/* With images the link has no card: it ends the text, as a facet. */
	o = create_body(&v, &st);
	ck_assert_str_eq(json_string_value(publisher_json_at(o, "record.text")),
	                 "pic\n\nhttps://shop.example/b");
	ck_assert_str_eq(
	        json_string_value(publisher_json_at(o, "record.embed.$type")),
	        "app.bsky.embed.images");
	ck_assert_str_eq(json_string_value(publisher_json_at(
	                         o, "record.embed.images.0.image.ref.$link")),
	                 "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpem"
	                 "zkvi");
	ck_assert_str_eq(json_string_value(publisher_json_at(
	                         o, "record.embed.images.0.alt")),
	                 "");
	ck_assert_int_eq(json_integer_value(publisher_json_at(
	                         o, "record.facets.0.index.byteStart")),
	                 5);
	json_decref(o);
	/* Not twice when the text has it already. */
	v.text = "see https://shop.example/b";
	o = create_body(&v, &st);
	ck_assert_str_eq(json_string_value(publisher_json_at(o, "record.text")),
	                 "see https://shop.example/b");
	json_decref(o);
	pub_step_clear(&st);
	json_decref(media);
}
END_TEST

START_TEST(test_media_limits)
{
	json_t *five = json_pack("[sssss]", "a.png", "b.png", "c.png", "d.png",
	                         "e.png");
	json_t *video = json_pack("[s]", "https://cdn.example/v.mp4");
	struct delivery_view v = view("x", NULL, five, "msg_1");
	struct pub_step st = {0};
	struct http_request req = {0};
	struct http_result res;
	struct verdict out = {0};
	char err[256];

	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "at most 4 images"));
	v.media = video;
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 0);
	http_request_clear(&req);
	res = reply(200, "MP4");
	res.content_type = "video/mp4";
	sky->pub->classify(sky, &v, &st, &res, NOW_MS, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_int_eq(sky->pub->build_request(sky, &v, &st, NOW_MS, &req,
	                                         err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "images only"));
	pub_step_clear(&st);
	json_decref(five);
	json_decref(video);
}
END_TEST

START_TEST(test_engagement)
{
	const struct engage_ops *e = sky->pub->engage;
	struct engage_item it[2] = {
	        {.remote_id = "at://" DID "/app.bsky.feed.post/3l7e5jvorof2t"},
	        {.remote_id = "at://" DID "/app.bsky.feed.post/3gone"},
	};
	struct http_request req = {0};
	struct http_result res;
	char err[256];
	int64_t followers;

	ck_assert_int_eq(e->request(sky, it, 2, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.url,
	                 "https://pds.example/xrpc/app.bsky.feed.getPosts?uris="
	                 "at%3A%2F%2Fdid%3Aplc%3Az72i7hdynmk6r22z27h6tvur%2F"
	                 "app.bsky.feed.post%2F3l7e5jvorof2t&uris=at%3A%2F%2F"
	                 "did%3Aplc%3Az72i7hdynmk6r22z27h6tvur%2Fapp.bsky.feed."
	                 "post%2F3gone");
	http_request_clear(&req);
	res = reply(200, "{\"posts\":[{\"uri\":\"at://" DID
	                 "/app.bsky.feed.post/3l7e5jvorof2t\",\"cid\":\"c\","
	                 "\"author\":{\"did\":\"" DID "\",\"handle\":\"h\"},"
	                 "\"record\":{},\"replyCount\":3,\"repostCount\":5,"
	                 "\"likeCount\":42,\"quoteCount\":1,\"indexedAt\":"
	                 "\"2025-12-03T13:53:21.000Z\"}]}");
	ck_assert_int_eq(e->parse(sky, &res, it, 2, err, sizeof(err)), 0);
	ck_assert_int_eq(it[0].found, 1);
	ck_assert_int_eq(it[0].got.likes, 42);
	ck_assert_int_eq(it[0].got.shares, 5);
	ck_assert_int_eq(it[0].got.comments, 3);
	ck_assert_int_eq(it[0].got.quotes, 1);
	ck_assert_int_eq(it[0].got.views, -1);
	ck_assert_int_eq(it[1].found, 0);
	ck_assert_int_eq(e->audience_request(sky, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.url,
	                 "https://pds.example/xrpc/app.bsky.actor.getProfile?"
	                 "actor=did%3Aplc%3Az72i7hdynmk6r22z27h6tvur");
	http_request_clear(&req);
	res = reply(200, "{\"did\":\"" DID "\",\"handle\":\"h\","
	                 "\"followersCount\":1234,\"followsCount\":5}");
	ck_assert_int_eq(
	        e->audience_parse(sky, &res, &followers, err, sizeof(err)), 0);
	ck_assert_int_eq(followers, 1234);
	ck_assert_int_eq(e->batch, 25);
}
END_TEST

static Suite *bluesky_suite(void)
{
	Suite *s = suite_create("pub_bluesky");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_session_parse);
	tcase_add_test(tc, test_session_parse_opaque_and_bad);
	tcase_add_test(tc, test_session_requests);
	tcase_add_test(tc, test_jwt_exp);
	tcase_add_test(tc, test_rkey);
	tcase_add_test(tc, test_no_session);
	tcase_add_test(tc, test_create_record);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_retry_looks_first);
	tcase_add_test(tc, test_images_embed);
	tcase_add_test(tc, test_media_limits);
	tcase_add_test(tc, test_engagement);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(bluesky_suite)
