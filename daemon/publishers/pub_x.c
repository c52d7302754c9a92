/*
 * X (formerly Twitter), API v2 (https://docs.x.com/x-api): post with
 * POST /2/tweets {"text": ..., "media": {"media_ids": [...]}} and an
 * OAuth 2.0 user access token (Authorization: Bearer); the answer is
 * {"data": {"id", "text"}}, the post's page https://x.com/i/web/status/ID.
 * Images go first through the one-shot v2 upload, POST /2/media/upload
 * with the JSON body {"media": base64, "media_category": "tweet_image",
 * "media_type": ...}, answered {"data": {"id", "media_key", ...}}
 * (https://docs.x.com/x-api/media/upload-media). Up to 4 images of at
 * most 5 MB; videos and GIFs need the chunked upload, which smmd does not
 * do.
 *
 * Errors are RFC 7807 problems {"title", "detail", "type", "status"} (or
 * the older {"errors": [{"message"}]}): 401 means the token is refused
 * (the channel needs `smmctl auth`), 429 comes with x-rate-limit-reset
 * (epoch seconds; http.c reads it as X-RateLimit-Reset).
 *
 * X keeps no idempotency key. It refuses a post whose text repeats a
 * recent one (403 "duplicate content"), which stops some double posts but
 * not all (a post with media, or after a while): the endpoint is not
 * idempotent, so a request whose fate is unknown is never re-sent blindly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "pub_media.h"
#include "pub_oauth.h"
#include "pub_token.h"
#include "pub_x.h"
#include "publisher.h"
#include "ratelimit.h"
#include "textlen.h"

#define X_MAX_MEDIA     4
#define X_IMAGE_MAX     (5u * 1024 * 1024) /* tweet_image */
#define X_STATUS_PREFIX "https://x.com/i/web/status/"

static int x_configure(struct conf_ctx *p, struct channel *ch, const char *key,
                       struct conf_node *v)
{
	struct x_conf *xc = ch->pub_conf;

	if (xc == NULL && (xc = ch->pub_conf = calloc(1, sizeof(*xc))) == NULL)
		return 0;
	if (strcmp(key, "api_url") == 0) {
		if (conf_url(p, v, key, &xc->api_url) == 0) {
			size_t n = strlen(xc->api_url);

			/* "https://h/" + "/2/..." would give "//2". */
			while (n > 0 && xc->api_url[n - 1] == '/')
				xc->api_url[--n] = '\0';
		}
	} else if (strcmp(key, "token_file") == 0)
		pub_token_file(p, v, key, &xc->token, &xc->token_len);
	else
		return oauth_configure(p, &xc->oauth, key, v);
	return 1;
}

static void x_check(struct conf_ctx *p, struct channel *ch,
                    struct conf_node *node)
{
	struct x_conf *xc = ch->pub_conf;

	if (xc == NULL && (xc = ch->pub_conf = calloc(1, sizeof(*xc))) == NULL)
		return;
	if (xc->api_url == NULL && (xc->api_url = strdup(X_API_URL)) == NULL)
		conf_error(p, node, "out of memory");
	if (xc->oauth.client_id == NULL && xc->token_len == 0)
		conf_error(p, node,
		           "channel '%s' has neither 'client_id' (an OAuth 2.0 "
		           "app, authorized with smmctl auth) nor 'token_file' "
		           "(a user access token)",
		           ch->name);
	if (xc->oauth.client_secret && xc->oauth.client_id == NULL)
		conf_error(p, node,
		           "channel '%s' has 'client_secret_file' without "
		           "'client_id'",
		           ch->name);
	/* X's confidential clients authenticate with HTTP Basic. */
	xc->oauth.basic = 1;
}

static void x_free(struct channel *ch)
{
	struct x_conf *xc = ch->pub_conf;

	if (xc == NULL)
		return;
	free(xc->api_url);
	oauth_free(&xc->oauth);
	conf_secret_free(xc->token, xc->token_len);
	free(xc);
	ch->pub_conf = NULL;
}

/* X drops no repeat by key: see the header comment. */
static int x_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

const char *x_access_token(const struct channel *ch)
{
	const struct x_conf *xc = ch->pub_conf;

	return pub_token_current(ch, xc ? xc->token : NULL);
}

int x_add_auth(const struct channel *ch, struct curl_slist **h)
{
	const char *tok = x_access_token(ch);

	if (tok == NULL)
		return -EACCES;
	return oauth_bearer(tok, h) < 0 ? -1 : 0;
}

void x_redact(const struct channel *ch, char *s)
{
	const struct x_conf *xc = ch->pub_conf;

	pub_token_redact(ch, s, xc ? xc->token : NULL,
	                 xc ? xc->oauth.client_secret : NULL);
}

/* Which request of the attempt this is, as noted in st->state. */
enum step_kind { STEP_FETCH, STEP_UPLOAD, STEP_TWEET };

static json_t *media_ids(const struct pub_step *st)
{
	return json_object_get(st->state, "ids");
}

/* The answer to a missing token: hold the delivery, say what to do. */
static int no_token(const struct channel *ch, char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "no X access token: run smmctl auth %s (or set token_file)",
	         ch->name);
	return -EACCES;
}

/* Headers of a JSON request to the API. 0, -EAGAIN or -EACCES. */
static int json_headers(const struct channel *ch, struct http_request *req,
                        char *err, size_t errlen)
{
	int r = x_add_auth(ch, &req->headers);

	if (r == -EACCES)
		return no_token(ch, err, errlen);
	if (r < 0 || publisher_add_header(&req->headers, "Content-Type",
	                                  "application/json") < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return 0;
}

/* The image types the one-shot upload takes as tweet_image. */
static int image_type_ok(const char *type)
{
	static const char *const ok[] = {"image/jpeg", "image/pjpeg",
	                                 "image/png",  "image/webp",
	                                 "image/bmp",  "image/tiff"};

	for (size_t i = 0; type && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(type, ok[i]) == 0)
			return 1;
	return 0;
}

/* The upload body, {"media": base64, ...}; the blob is consumed. */
static char *upload_body(struct pub_step *st)
{
	size_t cap = (st->blob_len + 2) / 3 * 4 + 1;
	unsigned char *b64 = malloc(cap);
	json_t *o;
	char *body = NULL;

	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock(b64, (unsigned char *)st->blob, (int)st->blob_len);
	o = json_pack("{s:s, s:s, s:s}", "media", (char *)b64, "media_category",
	              "tweet_image", "media_type", st->blob_type);
	free(b64);
	if (o)
		body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body) {
		free(st->blob);
		st->blob = NULL;
		st->blob_len = 0;
	}
	return body;
}

static int build_upload(const struct channel *ch, const char *item,
                        struct pub_step *st, struct http_request *req,
                        char *err, size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	int r;

	if (st->blob == NULL &&
	    (r = pub_media_load_file(ch, item, st, err, errlen)) < 0)
		return r;
	if (!image_type_ok(st->blob_type)) {
		snprintf(
		        err, errlen,
		        "media '%.64s' is %.40s: X takes JPEG, PNG, WebP, BMP "
		        "or TIFF images here (GIFs and videos need the chunked "
		        "upload, which smmd does not do)",
		        item,
		        st->blob_type ? st->blob_type : "of no known type");
		return -1;
	}
	if (st->blob_len > X_IMAGE_MAX) {
		snprintf(err, errlen,
		         "media '%.64s' is %zu bytes; X takes images up to %u",
		         item, st->blob_len, X_IMAGE_MAX);
		return -1;
	}
	if ((req->body = upload_body(st)) == NULL ||
	    asprintf(&req->url, "%s/2/media/upload", xc->api_url) < 0) {
		req->url = NULL;
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	req->body_len = strlen(req->body);
	return json_headers(ch, req, err, errlen);
}

static int build_tweet(const struct channel *ch, const struct delivery_view *v,
                       struct pub_step *st, struct http_request *req, char *err,
                       size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	char *text = NULL;
	json_t *o;

	/* The link goes last, where X builds its card from it. */
	if (v->link && asprintf(&text, "%s\n\n%s", v->text, v->link) < 0) {
		/* Never the post without its link: try again later. */
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	o = json_pack("{s:s}", "text", text ? text : v->text);
	free(text);
	if (o == NULL) {
		snprintf(err, errlen, "cannot encode the post as JSON");
		return -1;
	}
	if (json_array_size(media_ids(st)) > 0 &&
	    json_object_set_new(
	            o, "media",
	            json_pack("{s:O}", "media_ids", media_ids(st))) < 0) {
		json_decref(o);
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	req->body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (req->body == NULL ||
	    asprintf(&req->url, "%s/2/tweets", xc->api_url) < 0) {
		req->url = NULL;
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	req->body_len = strlen(req->body);
	/* A repeat would be a second post: never let curl resend it. */
	req->once = 1;
	return json_headers(ch, req, err, errlen);
}

static int x_build(const struct channel *ch, const struct delivery_view *v,
                   struct pub_step *st, int64_t now_ms,
                   struct http_request *req, char *err, size_t errlen)
{
	size_t i;
	const char *item;
	int r;

	(void)now_ms;
	if (x_access_token(ch) == NULL)
		return no_token(ch, err, errlen);
	if ((r = pub_media_next(v, st, "X", X_MAX_MEDIA, "images", "ids", &i,
	                        &item, err, errlen)) < 0)
		return r;
	if (r == 0) {
		pub_step_set(st, STEP_TWEET);
		return build_tweet(ch, v, st, req, err, errlen);
	}
	if (pub_media_needs_fetch(item, st)) {
		pub_step_set(st, STEP_FETCH);
		return pub_media_fetch_request(ch, item, req, err, errlen);
	}
	pub_step_set(st, STEP_UPLOAD);
	return build_upload(ch, item, st, req, err, errlen);
}

/* X's words for an error: a problem's detail or title, or errors[0]. */
static void error_text(const struct http_result *res, char *out, size_t cap)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *detail = json_string_value(json_object_get(o, "detail"));
	const char *title = json_string_value(json_object_get(o, "title"));
	const char *msg = json_string_value(json_object_get(
	        json_array_get(json_object_get(o, "errors"), 0), "message"));

	if (detail == NULL)
		detail = msg ? msg : title;
	if (detail)
		publisher_body_excerpt(detail, strlen(detail), out, cap);
	else
		publisher_body_excerpt(res->body, res->body_len, out, cap);
	json_decref(o);
}

/*
 * A reply from the API that is not a 2xx. 401: the token is refused (the
 * channel needs auth); 429: wait for x-rate-limit-reset unless
 * Retry-After says otherwise; other 4xx: failed with X's words.
 */
static void api_error(const struct channel *ch, const struct http_result *res,
                      int64_t now_ms, const char *what, struct verdict *out)
{
	char text[160];
	struct ratelimit rl;

	publisher_classify_http(res, now_ms, out);
	if (res->status == 0) {
		publisher_prefix_reason(out, what);
		return;
	}
	error_text(res, text, sizeof(text));
	if (res->status == 401) {
		out->kind = PUBLISH_NEEDS_AUTH;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP 401: X refused the access token (run smmctl "
		         "auth %s, or check token_file)%s%s",
		         ch->name, text[0] ? ": " : "", text);
	} else if (res->status == 429) {
		ratelimit_parse(&res->ratelimit, now_ms, &rl);
		if (out->retry_after_ms < 0 && rl.reset_ms > now_ms)
			out->retry_after_ms = rl.reset_ms - now_ms;
		snprintf(out->reason, sizeof(out->reason), "HTTP 429%s%s",
		         text[0] ? ": " : "", text);
	} else if (out->kind == PUBLISH_FAILED) {
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s",
		         res->status, text[0] ? ": " : "", text);
		if (res->status == 403 && strcasestr(text, "duplicate"))
			publisher_prefix_reason(
			        out, "X refuses a text it has seen lately");
	}
	publisher_prefix_reason(out, what);
}

static void classify_upload(const struct channel *ch, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	size_t i = json_array_size(media_ids(st));
	char what[64], id[128];
	json_t *o;

	snprintf(what, sizeof(what), "uploading media %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		api_error(ch, res, now_ms, what, out);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(json_object_get(o, "data"), "id", id, sizeof(id));
	json_decref(o);
	if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id)) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld without a media id", res->status);
		publisher_prefix_reason(out, what);
		return;
	}
	if (json_array_append_new(media_ids(st), json_string(id)) < 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, media id %s",
	         res->status, id);
}

static void classify_tweet(const struct channel *ch,
                           const struct http_result *res, int64_t now_ms,
                           struct verdict *out)
{
	json_t *o;

	if (res->status < 200 || res->status > 299) {
		api_error(ch, res, now_ms, "posting", out);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(json_object_get(o, "data"), "id", out->remote_id,
	                    sizeof(out->remote_id));
	json_decref(o);
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	if (out->remote_id[0] &&
	    strspn(out->remote_id, "0123456789") == strlen(out->remote_id))
		snprintf(out->remote_url, sizeof(out->remote_url), "%s%s",
		         X_STATUS_PREFIX, out->remote_id);
	/* Posted all the same: never retry it for a missing id. */
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s", res->status,
	         out->remote_id[0] ? ", post " : ", no post id in the answer",
	         out->remote_id);
}

static void x_classify(const struct channel *ch, const struct delivery_view *v,
                       struct pub_step *st, const struct http_result *res,
                       int64_t now_ms, struct verdict *out)
{
	size_t i = json_array_size(media_ids(st));

	switch ((enum step_kind)pub_step_get(st)) {
	case STEP_FETCH:
		pub_media_fetched(
		        ch, i + 1,
		        json_string_value(json_array_get(v->media, i)), st, res,
		        now_ms, out);
		break;
	case STEP_UPLOAD:
		classify_upload(ch, st, res, now_ms, out);
		break;
	case STEP_TWEET:
		classify_tweet(ch, res, now_ms, out);
		break;
	}
	/* Only the post itself is public. */
	out->repeatable = pub_step_get(st) != STEP_TWEET;
	x_redact(ch, out->reason);
}

/* X's weighted length: URLs count 23, wide characters and emoji 2. */
static const struct text_rule x_text_rule = {
        .unit = "weighted characters",
        .limit = 280,
        .measure = textlen_x_weighted,
        .link_joint = "\n\n",
};

const struct publisher_ops pub_x = {
        .name = "x",
        .keys = "token_file, client_id, client_secret_file, scopes, "
                "api_url, authorize_url, token_url",
        .configure = x_configure,
        .check = x_check,
        .free_conf = x_free,
        .idempotent = x_idempotent,
        .build_request = x_build,
        .classify = x_classify,
        .engage = &x_engage,
        .text_rule = &x_text_rule,
        .auth = &x_auth,
};
