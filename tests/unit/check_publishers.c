/*
 * Each driver's judgement of a response: channels configured from YAML
 * as smmd reads them, a request built as the dispatcher builds it, then
 * responses in the shapes each network documents (success bodies, errors,
 * 429 with Retry-After, revoked tokens, malformed bodies, no response)
 * and the verdict, retry delay, remote id and URL the driver gives.
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

/* 2015-10-21T07:27:30Z: 30 s before the HTTP-date in the cases below. */
#define NOW_MS 1445412450000LL

/* Every secret holds "SECRET": no reason may ever show one. */
#define WEBHOOK_URL "http://127.0.0.1:9/hook/webhookSECRET890"
#define SLACK_URL   "https://hooks.slack.com/services/T0/B0/slackSECRET0123"
#define DISCORD_URL "https://discord.com/api/webhooks/1234/discordSECRET4567"
#define TG_TOKEN    "4242424242:AAtg-unitSECRET_xyz"
#define MASTO_TOKEN "mastoSECRETtoken-0123456789"
#define AUTH        "Bearer sk-unitSECRET-0123456789"

static char dir[] = "/tmp/smmd-check-publishers-XXXXXX";
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

/* One channel per driver (two for the webhook: plain and url_file). */
static void setup(void)
{
	struct config_errors errs = {0};
	char yaml[2048], path[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put_file("webhook.url", WEBHOOK_URL "\n");
	put_file("slack.url", SLACK_URL "\n");
	put_file("discord.url", DISCORD_URL "\n");
	put_file("telegram.token", TG_TOKEN "\n");
	put_file("mastodon.token", MASTO_TOKEN "\n");
	put_file("auth", AUTH "\n");
	snprintf(yaml, sizeof(yaml),
	         "state_dir: %s/state\n"
	         "channels:\n"
	         "  hook:\n"
	         "    publisher: webhook\n"
	         "    url: http://127.0.0.1:9/hook\n"
	         "  hook_secret:\n"
	         "    publisher: webhook\n"
	         "    url_file: %s/webhook.url\n"
	         "  slack:\n"
	         "    publisher: slack\n"
	         "    url_file: %s/slack.url\n"
	         "  discord:\n"
	         "    publisher: discord\n"
	         "    url_file: %s/discord.url\n"
	         "  telegram:\n"
	         "    publisher: telegram\n"
	         "    token_file: %s/telegram.token\n"
	         "    chat_id: -100123\n"
	         "  mastodon:\n"
	         "    publisher: mastodon\n"
	         "    instance: https://mastodon.example\n"
	         "    token_file: %s/mastodon.token\n"
	         "  template:\n"
	         "    publisher: template\n"
	         "    url: https://api.example/v2/posts\n"
	         "    header_files:\n"
	         "      Authorization: %s/auth\n"
	         "    success_id: data.id\n"
	         "    success_url: data.links.0.href\n"
	         "    body: '{\"text\": {{text}}}'\n",
	         dir, dir, dir, dir, dir, dir, dir);
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
	const char *names[] = {
	        "webhook.url",    "slack.url", "discord.url", "telegram.token",
	        "mastodon.token", "auth",      "smmd.yaml"};
	char path[256];

	config_unref(cfg);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* A post as the dispatcher hands it over; media is borrowed. */
static struct delivery_view view(const char *channel, json_t *media)
{
	struct delivery_view v = {
	        .delivery_id = "p1/x",
	        .post_id = "p1",
	        .channel = channel,
	        .text = "hello",
	        .media = media,
	        .webhook_id = "msg_1",
	        .scheduled_ms = NOW_MS,
	        .attempt = 1,
	};

	return v;
}

/* Build step st->n of v on channel ch, then judge res, as dispatch does. */
static void step(const struct channel *ch, const struct delivery_view *v,
                 struct pub_step *st, const struct http_result *res,
                 struct verdict *out)
{
	struct http_request req;
	char err[256];

	memset(&req, 0, sizeof(req));
	ck_assert_msg(ch->pub->build_request(ch, v, st, NOW_MS, &req, err,
	                                     sizeof(err)) == 0,
	              "%s: build: %s", ch->name, err);
	http_request_clear(&req);
	memset(out, 0, sizeof(*out));
	ch->pub->classify(ch, v, st, res, NOW_MS, out);
}

struct response_case {
	const char *channel;
	long status; /* 0: no response, with code and error */
	const char *body;
	const char *retry_after;
	CURLcode code;
	const char *error;
	enum verdict_kind want;
	int64_t retry_after_ms;
	const char *remote_id;  /* "" when none */
	const char *remote_url; /* "" when none */
	const char *reason;     /* exact, or NULL */
	const char *reason_has; /* a part of it, or NULL */
};

/* clang-format off */
static const struct response_case cases[] = {
	/* webhook: the status decides; Retry-After as seconds or a date. */
	{"hook", 200, "", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 200", NULL},
	{"hook", 204, NULL, NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 204", NULL},
	{"hook", 503, "busy", "120", 0, NULL, PUBLISH_RETRY, 120000, "", "", "HTTP 503", NULL},
	{"hook", 429, "", "Wed, 21 Oct 2015 07:28:00 GMT", 0, NULL, PUBLISH_RETRY, 30000, "", "", "HTTP 429", NULL},
	{"hook", 429, "", "soon", 0, NULL, PUBLISH_RETRY, -1, "", "", "HTTP 429", NULL},
	{"hook", 408, "", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", "HTTP 408", NULL},
	{"hook", 425, "", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", "HTTP 425", NULL},
	{"hook", 404, "no such\nhook", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "HTTP 404: no such hook", NULL},
	{"hook", 401, "", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "HTTP 401", NULL},
	{"hook", 0, NULL, NULL, CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port 9", PUBLISH_RETRY, -1, "", "", "Failed to connect to 127.0.0.1 port 9", NULL},
	{"hook_secret", 400, "bad request to " WEBHOOK_URL, NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", NULL, "HTTP 400: bad request to "},

	/* Slack: "ok" in plain text; errors are short codes. */
	{"slack", 200, "ok", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 200", NULL},
	{"slack", 404, "no_service", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "slack: no_service (HTTP 404)", NULL},
	{"slack", 403, "invalid_token", NULL, 0, NULL, PUBLISH_NEEDS_AUTH, -1, "", "", "slack: invalid_token (HTTP 403)", NULL},
	{"slack", 410, "channel_is_archived", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "slack: channel_is_archived (HTTP 410)", NULL},
	{"slack", 400, "", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "slack: no error text (HTTP 400)", NULL},
	{"slack", 429, "rate_limited", "30", 0, NULL, PUBLISH_RETRY, 30000, "", "", "HTTP 429", NULL},
	{"slack", 500, "rollup_error", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", "HTTP 500", NULL},
	{"slack", 400, "invalid_payload for " SLACK_URL, NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", NULL, "slack: invalid_payload for "},
	{"slack", 0, NULL, NULL, CURLE_OPERATION_TIMEDOUT, "timed out: " SLACK_URL, PUBLISH_RETRY, -1, "", "", NULL, "imeout"},

	/* Discord: the message object with ?wait=true, else 204. */
	{"discord", 200, "{\"id\":\"111\",\"type\":0,\"channel_id\":\"222\",\"guild_id\":\"333\",\"content\":\"hello\"}", NULL, 0, NULL, PUBLISH_OK, -1, "111", "https://discord.com/channels/333/222/111", "HTTP 200", NULL},
	{"discord", 200, "{\"id\":\"111\",\"channel_id\":\"222\"}", NULL, 0, NULL, PUBLISH_OK, -1, "111", "", "HTTP 200", NULL},
	{"discord", 200, "{\"id\":\"11/1\",\"channel_id\":\"222\",\"guild_id\":\"333\"}", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 200", NULL},
	{"discord", 204, "", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 204", NULL},
	{"discord", 200, "not json", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 200", NULL},
	{"discord", 429, "{\"message\":\"You are being rate limited.\",\"retry_after\":0.5,\"global\":false}", "1", 0, NULL, PUBLISH_RETRY, 500, "", "", "discord: rate limited (HTTP 429)", NULL},
	{"discord", 429, "{\"message\":\"You are being rate limited.\",\"retry_after\":64.57,\"global\":true}", "65", 0, NULL, PUBLISH_RETRY, 64570, "", "", "discord: rate limited (global) (HTTP 429)", NULL},
	{"discord", 429, "", "3", 0, NULL, PUBLISH_RETRY, 3000, "", "", "discord: rate limited (HTTP 429)", NULL},
	{"discord", 404, "{\"message\":\"Unknown Webhook\",\"code\":10015}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "discord: Unknown Webhook (code 10015, HTTP 404)", NULL},
	{"discord", 401, "{\"message\":\"401: Unauthorized\",\"code\":0}", NULL, 0, NULL, PUBLISH_NEEDS_AUTH, -1, "", "", "discord: 401: Unauthorized (code 0, HTTP 401)", NULL},
	{"discord", 400, "{\"message\":\"Cannot send an empty message\"}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "discord: Cannot send an empty message (HTTP 400)", NULL},
	{"discord", 400, "<html>bad</html>", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "discord: HTTP 400: <html>bad</html>", NULL},
	{"discord", 502, "<html>bad gateway</html>", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", "HTTP 502", NULL},
	{"discord", 403, "{\"message\":\"no access to " DISCORD_URL "\",\"code\":50001}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", NULL, "(code 50001, HTTP 403)"},

	/* Telegram: {"ok":true,"result":Message} or ok:false with error_code. */
	{"telegram", 200, "{\"ok\":true,\"result\":{\"message_id\":10,\"date\":1700000000,\"chat\":{\"id\":-100123,\"type\":\"channel\",\"title\":\"T\",\"username\":\"smmdtest\"},\"text\":\"x\"}}", NULL, 0, NULL, PUBLISH_OK, -1, "10", "https://t.me/smmdtest/10", "HTTP 200", NULL},
	{"telegram", 200, "{\"ok\":true,\"result\":{\"message_id\":7,\"chat\":{\"id\":5,\"type\":\"private\",\"first_name\":\"A\"}}}", NULL, 0, NULL, PUBLISH_OK, -1, "7", "", "HTTP 200", NULL},
	{"telegram", 200, "{\"ok\":true,\"result\":{\"message_id\":8,\"chat\":{\"username\":\"bad/name\"}}}", NULL, 0, NULL, PUBLISH_OK, -1, "8", "", "HTTP 200", NULL},
	{"telegram", 200, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: message text is empty\"}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "telegram: Bad Request: message text is empty (HTTP 200)", NULL},
	{"telegram", 400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "telegram: Bad Request: chat not found (HTTP 400)", NULL},
	{"telegram", 401, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}", NULL, 0, NULL, PUBLISH_NEEDS_AUTH, -1, "", "", "telegram: Unauthorized (HTTP 401)", NULL},
	{"telegram", 403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was kicked from the channel chat\"}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "telegram: Forbidden: bot was kicked from the channel chat (HTTP 403)", NULL},
	{"telegram", 429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 2\",\"parameters\":{\"retry_after\":2}}", "5", 0, NULL, PUBLISH_RETRY, 2000, "", "", "telegram: Too Many Requests: retry after 2 (HTTP 429)", NULL},
	{"telegram", 429, "{\"ok\":false,\"error_code\":429}", "5", 0, NULL, PUBLISH_RETRY, 5000, "", "", "telegram: no description (HTTP 429)", NULL},
	{"telegram", 400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat was upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":-1001234}}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "telegram: the group moved to supergroup -1001234; set chat_id to it (HTTP 400)", NULL},
	{"telegram", 502, "<html>Bad Gateway</html>", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", "HTTP 502", NULL},
	{"telegram", 404, "<html>no /bot" TG_TOKEN "/sendMessage</html>", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", NULL, "telegram: HTTP 404: <html>no /bot"},
	{"telegram", 404, "", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "telegram: HTTP 404", NULL},
	{"telegram", 0, NULL, NULL, CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: api.telegram.org/bot" TG_TOKEN, PUBLISH_RETRY, -1, "", "", NULL, "resolve host"},

	/* Mastodon, a post without media: one request, POST /api/v1/statuses. */
	{"mastodon", 200, "{\"id\":\"1093\",\"uri\":\"https://mastodon.example/users/shop/statuses/1093\",\"url\":\"https://mastodon.example/@shop/1093\",\"content\":\"<p>hello</p>\"}", NULL, 0, NULL, PUBLISH_OK, -1, "1093", "https://mastodon.example/@shop/1093", "HTTP 200, status 1093", NULL},
	{"mastodon", 200, "{\"id\":\"1094\",\"uri\":\"https://mastodon.example/users/shop/statuses/1094\",\"url\":null}", NULL, 0, NULL, PUBLISH_OK, -1, "1094", "https://mastodon.example/users/shop/statuses/1094", "HTTP 200, status 1094", NULL},
	{"mastodon", 200, "garbage", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 200", NULL},
	{"mastodon", 401, "{\"error\":\"The access token was revoked\"}", NULL, 0, NULL, PUBLISH_NEEDS_AUTH, -1, "", "", "posting the status: HTTP 401: the access token was refused (check token_file): The access token was revoked", NULL},
	{"mastodon", 403, "{\"error\":\"This action is outside the authorized scopes\"}", NULL, 0, NULL, PUBLISH_NEEDS_AUTH, -1, "", "", "posting the status: HTTP 403: the access token was refused (check token_file): This action is outside the authorized scopes", NULL},
	{"mastodon", 422, "{\"error\":\"Validation failed: Text character limit of 500 exceeded\"}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "posting the status: HTTP 422: Validation failed: Text character limit of 500 exceeded", NULL},
	{"mastodon", 422, "{\"error\":\"Cannot attach files that have not finished processing. Try again in a moment!\"}", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", NULL, "HTTP 422: Cannot attach files"},
	{"mastodon", 429, "{\"error\":\"Too many requests\"}", "Wed, 21 Oct 2015 07:28:00 GMT", 0, NULL, PUBLISH_RETRY, 30000, "", "", "posting the status: HTTP 429", NULL},
	{"mastodon", 503, "<html>down</html>", NULL, 0, NULL, PUBLISH_RETRY, -1, "", "", "posting the status: HTTP 503", NULL},
	{"mastodon", 401, "{\"error\":\"bad token " MASTO_TOKEN "\"}", NULL, 0, NULL, PUBLISH_NEEDS_AUTH, -1, "", "", NULL, "the access token was refused"},

	/* Template: success_id and success_url read from the reply. */
	{"template", 200, "{\"data\":{\"id\":\"abc\",\"links\":[{\"href\":\"https://api.example/p/abc\"}]}}", NULL, 0, NULL, PUBLISH_OK, -1, "abc", "https://api.example/p/abc", "HTTP 200, id abc", NULL},
	{"template", 201, "{\"data\":{\"id\":42,\"links\":[]}}", NULL, 0, NULL, PUBLISH_OK, -1, "42", "", "HTTP 201 (the reply has no data.links.0.href)", NULL},
	{"template", 200, "oops", NULL, 0, NULL, PUBLISH_OK, -1, "", "", "HTTP 200 (the reply has no data.id, data.links.0.href)", NULL},
	{"template", 429, "", "7", 0, NULL, PUBLISH_RETRY, 7000, "", "", "HTTP 429", NULL},
	{"template", 401, "{\"error\":\"invalid token\"}", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", "HTTP 401: {\"error\":\"invalid token\"}", NULL},
	{"template", 400, "token sk-unitSECRET-0123456789 is not allowed", NULL, 0, NULL, PUBLISH_FAILED, -1, "", "", NULL, "HTTP 400: token "},
};
/* clang-format on */

START_TEST(test_response)
{
	const struct response_case *c = &cases[_i];
	const struct channel *ch = config_channel(cfg, c->channel);
	json_t *media = json_array();
	struct delivery_view v = view(c->channel, media);
	struct http_result res = {
	        .status = c->status,
	        .code = c->code,
	        .error = c->error,
	        .body = c->body,
	        .body_len = c->body ? strlen(c->body) : 0,
	        .retry_after = c->retry_after,
	        .request_sent = 1,
	};
	struct pub_step st = {0};
	struct verdict out;

	ck_assert_ptr_nonnull(ch);
	step(ch, &v, &st, &res, &out);
	ck_assert_msg(out.kind == c->want,
	              "case %d (%s %ld): verdict %d, want %d: %s", _i,
	              c->channel, c->status, out.kind, c->want, out.reason);
	ck_assert_msg(out.retry_after_ms == c->retry_after_ms,
	              "case %d: retry after %lld, want %lld", _i,
	              (long long)out.retry_after_ms,
	              (long long)c->retry_after_ms);
	ck_assert_str_eq(out.remote_id, c->remote_id);
	ck_assert_str_eq(out.remote_url, c->remote_url);
	if (c->reason != NULL)
		ck_assert_str_eq(out.reason, c->reason);
	if (c->reason_has != NULL)
		ck_assert_msg(strstr(out.reason, c->reason_has) != NULL,
		              "case %d: '%s' lacks '%s'", _i, out.reason,
		              c->reason_has);
	ck_assert_msg(strstr(out.reason, "SECRET") == NULL,
	              "case %d: a secret in '%s'", _i, out.reason);
	pub_step_clear(&st);
	json_decref(media);
}
END_TEST

/* Mastodon with a photo: fetch it, upload it, then post the status. */
START_TEST(test_mastodon_media)
{
	const struct channel *ch = config_channel(cfg, "mastodon");
	json_t *media = json_pack("[s]", "https://cdn.example/a.png");
	struct delivery_view v = view("mastodon", media);
	struct pub_step st = {0};
	struct http_result fetch = {.status = 200,
	                            .body = "\x89PNG....",
	                            .body_len = 8,
	                            .content_type = "image/png",
	                            .request_sent = 1};
	struct http_result upload = {
	        .status = 202,
	        .body = "{\"id\":\"m1\",\"type\":\"image\"}",
	        .request_sent = 1};
	struct http_result status = {.status = 200,
	                             .body = "{\"id\":\"9\",\"url\":\"u\"}",
	                             .request_sent = 1};
	struct verdict out;

	upload.body_len = strlen(upload.body);
	status.body_len = strlen(status.body);
	step(ch, &v, &st, &fetch, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_str_eq(out.reason, "HTTP 200, 8 bytes of image/png");
	step(ch, &v, &st, &upload, &out);
	ck_assert_int_eq(out.kind, PUBLISH_NEXT);
	ck_assert_str_eq(out.reason, "HTTP 202, media id m1");
	step(ch, &v, &st, &status, &out);
	ck_assert_int_eq(out.kind, PUBLISH_OK);
	ck_assert_str_eq(out.remote_id, "9");
	ck_assert_str_eq(out.remote_url, "u");
	pub_step_clear(&st);

	/* A web page where a photo should be: failed, whatever the retry. */
	fetch.content_type = "text/html; charset=utf-8";
	step(ch, &v, &st, &fetch, &out);
	ck_assert_int_eq(out.kind, PUBLISH_FAILED);
	ck_assert_str_eq(out.reason,
	                 "fetching media 1 (https://cdn.example/a.png): it is "
	                 "'text/html', not an image, video or audio file");
	pub_step_clear(&st);

	/* An upload answered without a media id. */
	fetch.content_type = "image/png";
	step(ch, &v, &st, &fetch, &out);
	upload.body = "{}";
	upload.body_len = 2;
	step(ch, &v, &st, &upload, &out);
	ck_assert_int_eq(out.kind, PUBLISH_FAILED);
	ck_assert_str_eq(out.reason,
	                 "uploading media 1: HTTP 202 without a media id");
	pub_step_clear(&st);
	json_decref(media);
}
END_TEST

/* The header's value, or NULL. */
static const char *header_of(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	for (const struct curl_slist *h = req->headers; h; h = h->next)
		if (strncmp(h->data, name, n) == 0 && h->data[n] == ':')
			return h->data + n + 2;
	return NULL;
}

/* A webhook carries the store's fencing token, header and body, if any. */
START_TEST(test_webhook_fence)
{
	const struct channel *ch = config_channel(cfg, "hook");
	struct delivery_view v = view("hook", NULL);
	struct pub_step st = {0};
	struct http_request req;
	char err[256];
	json_t *media = json_array(), *body;

	v.media = media;
	for (int64_t fence = 0; fence <= 7; fence += 7) {
		v.fence = fence;
		memset(&req, 0, sizeof(req));
		ck_assert_msg(ch->pub->build_request(ch, &v, &st, NOW_MS, &req,
		                                     err, sizeof(err)) == 0,
		              "%s", err);
		body = json_loads(req.body, 0, NULL);
		ck_assert_ptr_nonnull(body);
		if (fence == 0) {
			ck_assert_ptr_null(header_of(&req, "smmd-fence"));
			ck_assert_ptr_null(json_object_get(body, "fence"));
		} else {
			ck_assert_str_eq(header_of(&req, "smmd-fence"), "7");
			ck_assert_int_eq(json_integer_value(json_object_get(
			                         body, "fence")),
			                 7);
		}
		json_decref(body);
		http_request_clear(&req);
	}
	pub_step_clear(&st);
	json_decref(media);
}
END_TEST

/* The webhook body a build makes for v, as a string to free. */
static char *webhook_body_of(const struct delivery_view *v)
{
	const struct channel *ch = config_channel(cfg, "hook");
	struct pub_step st = {0};
	struct http_request req;
	char err[256], *body;

	memset(&req, 0, sizeof(req));
	ck_assert_msg(ch->pub->build_request(ch, v, &st, NOW_MS, &req, err,
	                                     sizeof(err)) == 0,
	              "%s", err);
	ck_assert_uint_eq(req.body_len, strlen(req.body));
	body = strdup(req.body);
	http_request_clear(&req);
	pub_step_clear(&st);
	return body;
}

/*
 * The body is written by hand: byte for byte what jansson wrote before
 * (receivers keep the order and form they saw), and for any text a
 * parser reads back every field as it was.
 */
START_TEST(test_webhook_body)
{
	json_t *media = json_pack("[s, s]", "https://e.org/a.png",
	                          "https://e.org/b \"q\".png");
	struct delivery_view v = view("hook", media);
	json_t *want, *got;
	char *body, *dumped;

	v.text = "Spring \"sale\" \\ caf\xc3\xa9 \xf0\x9f\x8e\x89\r\nline "
	         "2\t/\b\f\x01\x1f\x7f";
	v.link = "https://e.org/x?a=1&b=2";
	v.campaign = "spring";
	v.fence = 12;
	want = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I, s:I}", "id",
	                 v.post_id, "channel", v.channel, "text", v.text,
	                 "link", v.link, "media", media, "campaign", v.campaign,
	                 "scheduled_at", "2015-10-21T07:27:30.000Z", "attempt",
	                 (json_int_t)1, "fence", (json_int_t)12);
	body = webhook_body_of(&v);
	dumped = json_dumps(want, JSON_COMPACT);
	ck_assert_str_eq(body, dumped);
	free(dumped);
	free(body);
	json_decref(want);

	/* No link, campaign or media, no fence; every control character. */
	v.text = "\r\b\f\x01\x1f\x7f end";
	v.link = NULL;
	v.campaign = NULL;
	v.fence = 0;
	v.attempt = 3;
	json_array_clear(media);
	body = webhook_body_of(&v);
	got = json_loads(body, 0, NULL);
	ck_assert_msg(got != NULL, "%s", body);
	want = json_pack("{s:s, s:s, s:s, s:n, s:[], s:n, s:s, s:I}", "id",
	                 v.post_id, "channel", v.channel, "text", v.text,
	                 "link", "media", "campaign", "scheduled_at",
	                 "2015-10-21T07:27:30.000Z", "attempt", (json_int_t)3);
	ck_assert_msg(json_equal(got, want), "%s", body);
	json_decref(got);
	json_decref(want);
	free(body);
	json_decref(media);
}
END_TEST

static Suite *publishers_suite(void)
{
	Suite *s = suite_create("publishers");
	TCase *tc = tcase_create("classify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_response, 0,
	                    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_mastodon_media);
	tcase_add_test(tc, test_webhook_fence);
	tcase_add_test(tc, test_webhook_body);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(publishers_suite)
