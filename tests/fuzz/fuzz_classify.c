/*
 * Every publisher's judgement of a response (the classify op of
 * daemon/publishers/pub_*.c), and its reading of engagement and audience
 * answers (engage_ops) and of rate-limit headers (lib/ratelimit.c), from
 * the first response: what an endpoint answers is outside input,
 * status, headers and body alike. A delivery goes through its steps as the
 * dispatcher takes it (build the request, judge the response, again while
 * the driver says PUBLISH_NEXT), so Mastodon's fetch, upload and status
 * each see their own responses.
 *
 * Drivers with auth ops get a session, and also read the first response
 * as an answer to a login or refresh (token_parse).
 *
 * Input: the channel (first byte, modulo the channels below), the post's
 * flags (1: two media URLs, 2: a link), then one record per step:
 *   status (2 bytes, big-endian, modulo 1000; 0: no response),
 *   flags (1: the request left, 2: a Retry-After, 4: a Content-Type;
 *   the rest: curl's error code when there is no response),
 *   the Retry-After's length, the Content-Type's length (1 byte each),
 *   the body's length (2 bytes, big-endian), then those bytes.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "http.h"
#include "publishers/publisher.h"
#include "ratelimit.h"

/* 2026-11-22T10:00:00Z */
#define NOW_MS    INT64_C(1795341600000)
#define MAX_STEPS 8

static const char *const channels[] = {
        "demo",     "shop",      "slack",   "discord",  "telegram",
        "mastodon", "template",  "shop-x",  "linkedin", "vk",
        "facebook", "instagram", "bluesky", "x",        "threads",
};
#define NCHANNELS (sizeof(channels) / sizeof(channels[0]))

/* A session, as auth.c keeps one, for the drivers that need it. */
static struct auth_tokens session = {
        .access = "access-jwt",
        .refresh = "refresh-jwt",
        .access_expires_ms = -1,
        .refresh_expires_ms = -1,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct config *cfg = fuzz_config();

	(void)argc;
	(void)argv;
	session.extra = json_pack("{s:s}", "did", "did:plc:abc");
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (cfg->channels[i].pub->auth)
			cfg->channels[i].tokens = &session;
	return 0;
}

/*
 * The bytes at *p, n of them or what is left, NUL-terminated as http.c
 * hands a body over (which may hold NULs of its own); malloc'd.
 */
static char *take(const uint8_t **p, const uint8_t *end, size_t n, size_t *len)
{
	size_t left = (size_t)(end - *p);
	char *s;

	if (n > left)
		n = left;
	s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n;
	if (len)
		*len = n;
	return s;
}

/* One response; 0 with res filled (free its strings), -1 at the end. */
static int next_response(const uint8_t **p, const uint8_t *end,
                         struct http_result *res)
{
	const uint8_t *h = *p;
	size_t ralen, ctlen, blen;
	unsigned flags;

	if (end - h < 7)
		return -1;
	memset(res, 0, sizeof(*res));
	res->status = ((long)h[0] << 8 | h[1]) % 1000;
	flags = h[2];
	/* http.c keeps a Retry-After of at most 63 bytes. */
	ralen = h[3] % 64;
	ctlen = h[4];
	blen = (size_t)h[5] << 8 | h[6];
	*p += 7;
	res->request_sent = flags & 1;
	res->retry_after = flags & 2 ? take(p, end, ralen, NULL) : NULL;
	/* The same captured-header bytes stand for LinkedIn's x-restli-id. */
	res->restli_id = res->retry_after;
	res->content_type = flags & 4 ? take(p, end, ctlen, NULL) : NULL;
	res->body = take(p, end, blen, &res->body_len);
	if (res->status == 0) {
		res->code = (CURLcode)(1 + (flags >> 3));
		res->error = curl_easy_strerror(res->code);
	}
	res->latency_ms = 12.5;
	return 0;
}

static void response_free(struct http_result *res)
{
	free((char *)res->retry_after);
	free((char *)res->content_type);
	free((char *)res->body);
}

static void deliver(const struct channel *ch, unsigned flags, const uint8_t *p,
                    const uint8_t *end)
{
	json_t *media =
	        flags & 1 ? json_pack("[s, s]", "https://shop.example/a.jpg",
	                              "https://shop.example/b.png")
	                  : json_array();
	struct delivery_view v = {
	        .delivery_id = "p1/c",
	        .post_id = "p1",
	        .channel = ch->name,
	        .text = "Something soft is coming on Thursday.",
	        .link = flags & 2 ? "https://shop.example/merino" : NULL,
	        .media = media,
	        .webhook_id = "msg_2Lh9GjRo3nJKuVZMQTwW4uAvqBS",
	        .scheduled_ms = NOW_MS,
	        .attempt = 1,
	};
	struct pub_step st = {0};
	struct http_result res;
	struct verdict out;
	char err[256];

	for (int n = 0; n < MAX_STEPS && next_response(&p, end, &res) == 0;
	     n++) {
		struct http_request req = {0};
		int built = ch->pub->build_request(ch, &v, &st, NOW_MS, &req,
		                                   err, sizeof(err));

		http_request_clear(&req);
		if (built == 0) {
			memset(&out, 0, sizeof(out));
			out.retry_after_ms = -1;
			ch->pub->classify(ch, &v, &st, &res, NOW_MS, &out);
		}
		response_free(&res);
		if (built != 0 || out.kind != PUBLISH_NEXT)
			break;
	}
	pub_step_clear(&st);
	json_decref(media);
}

/* The first response as an engagement, then an audience, answer. */
static void engage_read(const struct channel *ch, const uint8_t *p,
                        const uint8_t *end)
{
	const struct engage_ops *ops = ch->pub->engage;
	struct engage_item it[3] = {
	        {.delivery_id = "p1/c", .remote_id = "109001"},
	        {.delivery_id = "p2/c", .remote_id = "109002"},
	        {.delivery_id = "p3/c", .post_id = "p3"},
	};
	struct http_request req = {0};
	struct http_result res;
	struct ratelimit rl;
	char err[256];
	int64_t followers;

	if (next_response(&p, end, &res) != 0)
		return;
	/* Its two header strings stand for the rate-limit headers. */
	ratelimit_parse(
	        &(struct ratelimit_headers){.remaining = res.content_type,
	                                    .reset = res.retry_after,
	                                    .reset_after = res.retry_after},
	        NOW_MS, &rl);
	if (ops && ops->request && ops->enabled(ch) &&
	    ops->request(ch, it, ops->batch < 3 ? ops->batch : 3, &req, err,
	                 sizeof(err)) == 0)
		ops->parse(ch, &res, it, ops->batch < 3 ? ops->batch : 3, err,
		           sizeof(err));
	if (ops && ops->audience_parse && ops->enabled(ch))
		ops->audience_parse(ch, &res, &followers, err, sizeof(err));
	http_request_clear(&req);
	response_free(&res);
}

/* The first response as an answer to a login or a refresh. */
static void token_read(const struct channel *ch, const uint8_t *p,
                       const uint8_t *end)
{
	const struct auth_ops *ops = ch->pub->auth;
	struct auth_tokens out = {.access_expires_ms = -1,
	                          .refresh_expires_ms = -1};
	struct http_result res;
	char err[256];

	if (ops == NULL || ops->token_parse == NULL ||
	    next_response(&p, end, &res) != 0)
		return;
	ops->token_parse(ch, &res, NOW_MS, &out, err, sizeof(err));
	free(out.access);
	free(out.refresh);
	json_decref(out.extra);
	response_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct channel *ch;

	if (size < 2)
		return 0;
	ch = config_channel(fuzz_config(), channels[data[0] % NCHANNELS]);
	deliver(ch, data[1], data + 2, data + size);
	engage_read(ch, data + 2, data + size);
	token_read(ch, data + 2, data + size);
	return 0;
}
