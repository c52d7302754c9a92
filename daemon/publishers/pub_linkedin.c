/*
 * LinkedIn: the versioned Posts API (Marketing API version 202607; every
 * request carries "LinkedIn-Version: YYYYMM" and "X-Restli-Protocol-
 * Version: 2.0.0"), as a member (urn:li:person) or an organization
 * (urn:li:organization):
 *   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
 *   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
 *   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
 *   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
 *
 * One attempt is a chain of steps, kept in struct pub_step:
 *   for each image: "fetch" (GET an http(s) URL from the post, behind the
 *   address guard) unless it is a file under media_dir; "init" (POST
 *   /rest/images?action=initializeUpload → {"value":{"uploadUrl","image"}});
 *   "put" (PUT the bytes to uploadUrl); finally "post" (POST /rest/posts
 *   → 201 with the post's URN in x-restli-id). One image is a "media"
 *   content, 2 to 20 a "multiImage"; a link without images is an
 *   "article".
 *
 * LinkedIn takes no idempotency key: a repeated POST /rest/posts is a
 * second post, so the post step is sent once (req->once) and a request
 * whose fate is unknown leaves the delivery "unknown". A repeated image
 * upload only leaves an unused image behind.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http.h"
#include "pub_linkedin.h"
#include "pub_token.h"
#include "pub_media.h"
#include "publisher.h"
#include "text.h"

/* A multiImage post takes 2 to 20 images. */
#define LINKEDIN_MAX_IMAGES 20
/* commentary's documented limit, in characters. */
#define LINKEDIN_TEXT_MAX 3000
/* An article's title: the post's first line, cut to this. */
#define ARTICLE_TITLE_MAX 200

/* A URN's id part: what LinkedIn's member and organization ids use. */
static int urn_ok(const char *s)
{
	const char *id;

	if (strncmp(s, "urn:li:organization:", 20) == 0) {
		id = s + 20;
		return id[0] && strspn(id, "0123456789") == strlen(id) &&
		       strlen(id) < 20;
	}
	if (strncmp(s, "urn:li:person:", 14) == 0) {
		id = s + 14;
		return id[0] &&
		       strspn(id, "abcdefghijklmnopqrstuvwxyz"
		                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
		               strlen(id) &&
		       strlen(id) < 64;
	}
	return 0;
}

/* YYYYMM, or YYYYMM.RR for a patch release. */
static int version_ok(const char *s)
{
	size_t n = strlen(s);
	int month;

	if ((n != 6 && n != 9) || strspn(s, "0123456789") != 6 ||
	    (n == 9 && (s[6] != '.' || strspn(s + 7, "0123456789") != 2)))
		return 0;
	month = (s[4] - '0') * 10 + (s[5] - '0');
	return s[0] == '2' && month >= 1 && month <= 12;
}

/* A URL key with its trailing '/' dropped. */
static void conf_base_url(struct conf_ctx *p, struct conf_node *v,
                          const char *key, char **out)
{
	if (conf_url(p, v, key, out) == 0) {
		size_t n = strlen(*out);

		while (n > 0 && (*out)[n - 1] == '/')
			(*out)[--n] = '\0';
	}
}

static int linkedin_configure(struct conf_ctx *p, struct channel *ch,
                              const char *key, struct conf_node *v)
{
	struct linkedin_conf *lc = ch->pub_conf;
	const char *s;

	if (lc == NULL && (lc = ch->pub_conf = calloc(1, sizeof(*lc))) == NULL)
		return 0;
	if (strcmp(key, "author") == 0) {
		lc->author_given = 1;
		s = conf_scalar(v);
		if (s == NULL || !urn_ok(s))
			conf_error(p, v,
			           "'author' must be urn:li:organization:ID "
			           "(digits) or urn:li:person:ID");
		else if (conf_string(p, v, key, &lc->author) == 0)
			lc->organization = strncmp(s, "urn:li:org", 10) == 0;
	} else if (strcmp(key, "api_version") == 0) {
		s = conf_scalar(v);
		if (s == NULL || !version_ok(s))
			conf_error(p, v,
			           "'api_version' must be a LinkedIn-Version "
			           "such as %s (YYYYMM)",
			           LINKEDIN_API_VERSION);
		else
			conf_string(p, v, key, &lc->api_version);
	} else if (strcmp(key, "api_url") == 0)
		conf_base_url(p, v, key, &lc->api_url);
	else if (strcmp(key, "token_file") == 0) {
		lc->token_given = 1;
		pub_token_file(p, v, key, &lc->token, &lc->token_len);
	} else if (!oauth_configure(p, &lc->oauth, key, v))
		return 0;
	return 1;
}

/* Fill *field with def unless the config gave one. 0, or -1. */
static int default_to(char **field, const char *def)
{
	return *field != NULL || (*field = strdup(def)) != NULL ? 0 : -1;
}

static void linkedin_check(struct conf_ctx *p, struct channel *ch,
                           struct conf_node *node)
{
	struct linkedin_conf *lc = ch->pub_conf;

	if (lc == NULL || !lc->author_given) {
		conf_error(p, node,
		           "channel '%s' has no 'author' (urn:li:organization:"
		           "ID for a page, urn:li:person:ID for a member)",
		           ch->name);
		return;
	}
	if (!lc->token_given && lc->oauth.client_id == NULL)
		conf_error(p, node,
		           "channel '%s' has neither 'token_file' (an access "
		           "token) nor 'client_id' (to run smmctl auth)",
		           ch->name);
	if (lc->oauth.client_id != NULL && lc->oauth.client_secret == NULL)
		conf_error(p, node,
		           "channel '%s': 'client_id' needs "
		           "'client_secret_file' (the LinkedIn app's)",
		           ch->name);
	if (default_to(&lc->api_url, LINKEDIN_API_URL) < 0 ||
	    default_to(&lc->api_version, LINKEDIN_API_VERSION) < 0)
		conf_error(p, node, "out of memory");
}

const char *linkedin_default_scopes(const struct linkedin_conf *lc)
{
	return lc->organization ? "w_organization_social r_organization_social"
	                        : "w_member_social";
}

static void linkedin_free(struct channel *ch)
{
	struct linkedin_conf *lc = ch->pub_conf;

	if (lc == NULL)
		return;
	free(lc->api_url);
	free(lc->api_version);
	free(lc->author);
	conf_secret_free(lc->token, lc->token_len);
	oauth_free(&lc->oauth);
	free(lc);
	ch->pub_conf = NULL;
}

static int linkedin_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

const char *linkedin_token(const struct channel *ch)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (ch->tokens != NULL && ch->tokens->access != NULL)
		return ch->tokens->access;
	return lc != NULL && lc->token != NULL ? (const char *)lc->token : NULL;
}

int linkedin_add_headers(const struct channel *ch, struct curl_slist **h)
{
	const struct linkedin_conf *lc = ch->pub_conf;
	const char *token = linkedin_token(ch);
	char line[2200];

	if (token == NULL)
		return -EACCES;
	snprintf(line, sizeof(line), "Bearer %s", token);
	return publisher_add_header(h, "Authorization", line) < 0 ||
	                       publisher_add_header(h, "LinkedIn-Version",
	                                            lc->api_version) < 0 ||
	                       publisher_add_header(h,
	                                            "X-Restli-Protocol-Version",
	                                            "2.0.0") < 0
	               ? -1
	               : 0;
}

/* A byte that continues a hashtag: LinkedIn's are letters and digits. */
static int tag_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

char *linkedin_little_escape(const char *text)
{
	size_t n = strlen(text), o = 0;
	char *out = malloc(2 * n + 1);
	int in_tag = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (in_tag && tag_byte(c)) {
			out[o++] = (char)c;
			continue;
		}
		in_tag = 0;
		/* "#word" after a space or at the start stays a hashtag. */
		if (c == '#' && i + 1 < n &&
		    tag_byte((unsigned char)text[i + 1]) &&
		    (i == 0 || !(isalnum((unsigned char)text[i - 1]) ||
		                 text[i - 1] == '_'))) {
			out[o++] = '#';
			in_tag = 1;
			continue;
		}
		if (strchr("|{}@[]()<>#\\*_~", (int)c) != NULL)
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* out's reason, cut to fit: the end of a long message is what goes. */
static void set_reason(struct verdict *out, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void set_reason(struct verdict *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* Which request of the attempt this is, as noted in st->state. */
enum step_kind { STEP_FETCH, STEP_INIT, STEP_PUT, STEP_POST };

/* The image URNs uploaded so far, in the post's order. */
static json_t *images(const struct pub_step *st)
{
	return json_object_get(st->state, "images");
}

/* An API URL: api_url + path. 0, or -1. */
static int api_url(const struct channel *ch, const char *path,
                   struct http_request *req)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (asprintf(&req->url, "%s%s", lc->api_url, path) < 0) {
		req->url = NULL;
		return -1;
	}
	return 0;
}

/* Set the JSON body o (taken) and the API headers. 0, -EAGAIN, -EACCES. */
static int json_request(const struct channel *ch, json_t *o,
                        struct http_request *req, char *err, size_t errlen)
{
	int r;

	req->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (req->body == NULL ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0)
		goto nomem;
	req->body_len = strlen(req->body);
	if ((r = linkedin_add_headers(ch, &req->headers)) == -EACCES) {
		/* auth.c adds "(run: smmctl auth CHANNEL)". */
		snprintf(err, errlen,
		         "no access token: neither token_file nor smmctl auth "
		         "gave one");
		return -EACCES;
	}
	if (r < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int build_init(const struct channel *ch, struct http_request *req,
                      char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (api_url(ch, "/rest/images?action=initializeUpload", req) < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return json_request(ch,
	                    json_pack("{s:{s:s}}", "initializeUploadRequest",
	                              "owner", lc->author),
	                    req, err, errlen);
}

/* The host of a URL (without port or userinfo) into out. */
static void url_host(const char *url, char *out, size_t cap)
{
	const char *h = strstr(url, "://"), *at;
	size_t n;

	out[0] = '\0';
	if (h == NULL)
		return;
	h += 3;
	n = strcspn(h, "/?#");
	if ((at = memchr(h, '@', n)) != NULL)
		h = at + 1;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
	snprintf(out, cap, "%.*s", (int)n, h);
}

/*
 * Whether the token may go with a PUT to url. LinkedIn's documented
 * upload sends it, but the URL came from a reply, not from the admin: it
 * goes only to api_url's host, or over https to LinkedIn's own.
 */
static int upload_gets_token(const struct channel *ch, const char *url)
{
	const struct linkedin_conf *lc = ch->pub_conf;
	char host[256], api[256];
	size_t n;

	url_host(url, host, sizeof(host));
	url_host(lc->api_url, api, sizeof(api));
	n = strlen(host);
	if (host[0] && strcasecmp(host, api) == 0)
		return 1;
	return strncasecmp(url, "https://", 8) == 0 &&
	       (strcasecmp(host, "linkedin.com") == 0 ||
	        (n > 13 && strcasecmp(host + n - 13, ".linkedin.com") == 0));
}

/* LinkedIn's Images API takes JPG, PNG and GIF. */
static int image_type_ok(const char *type)
{
	return type != NULL && (strcasecmp(type, "image/jpeg") == 0 ||
	                        strcasecmp(type, "image/png") == 0 ||
	                        strcasecmp(type, "image/gif") == 0);
}

static int build_put(const struct channel *ch, const struct delivery_view *v,
                     struct pub_step *st, size_t i, struct http_request *req,
                     char *err, size_t errlen)
{
	const char *item = json_string_value(json_array_get(v->media, i));
	const char *url =
	        json_string_value(json_object_get(st->state, "upload"));
	char line[2200];
	int r;

	if (st->blob == NULL &&
	    (r = pub_media_load_file(ch, item, st, err, errlen)) < 0)
		return r;
	if (!image_type_ok(st->blob_type)) {
		snprintf(err, errlen,
		         "media %zu is %s: LinkedIn takes JPG, PNG or GIF "
		         "images",
		         i + 1, st->blob_type ? st->blob_type : "of no type");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "PUT");
	req->url = strdup(url);
	/* The bytes move into the body: no second copy is held. */
	req->body = st->blob;
	req->body_len = st->blob_len;
	st->blob = NULL;
	st->blob_len = 0;
	/* The URL came from a reply, not from the admin: guard it. */
	req->guard = !ch->allow_private_media;
	if (req->url == NULL ||
	    publisher_add_header(&req->headers, "Content-Type", st->blob_type) <
	            0)
		goto nomem;
	if (upload_gets_token(ch, url) && linkedin_token(ch) != NULL) {
		snprintf(line, sizeof(line), "Bearer %s", linkedin_token(ch));
		if (publisher_add_header(&req->headers, "Authorization", line) <
		    0)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

/* The first line of text, at most ARTICLE_TITLE_MAX characters. */
static json_t *article_title(const char *text, const char *link)
{
	size_t n = strcspn(text, "\r\n");

	n = text_cut_chars(text, n, ARTICLE_TITLE_MAX);
	return n > 0 ? json_stringn(text, n) : json_string(link);
}

/* The post's "content", or NULL for a text-only post. */
static json_t *post_content(const struct delivery_view *v,
                            const struct pub_step *st)
{
	size_t n = json_array_size(images(st)), i;
	json_t *list, *urn;

	if (n == 1)
		return json_pack("{s:{s:O}}", "media", "id",
		                 json_array_get(images(st), 0));
	if (n > 1) {
		if ((list = json_array()) == NULL)
			return NULL;
		json_array_foreach (images(st), i, urn)
			json_array_append_new(list,
			                      json_pack("{s:O}", "id", urn));
		return json_pack("{s:{s:o}}", "multiImage", "images", list);
	}
	if (v->link)
		return json_pack("{s:{s:s, s:o}}", "article", "source", v->link,
		                 "title", article_title(v->text, v->link));
	return NULL;
}

static int build_post(const struct channel *ch, const struct delivery_view *v,
                      const struct pub_step *st, struct http_request *req,
                      char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;
	char *text = NULL, *commentary;
	json_t *o, *content = NULL;

	/* With images the link can't be an article: it joins the text. */
	if (v->link && json_array_size(images(st)) > 0 &&
	    asprintf(&text, "%s\n\n%s", v->text, v->link) < 0)
		goto nomem;
	commentary = linkedin_little_escape(text ? text : v->text);
	free(text);
	if (commentary == NULL)
		goto nomem;
	o = json_pack("{s:s, s:s, s:s, s:{s:s, s:[], s:[]}, s:s, s:b}",
	              "author", lc->author, "commentary", commentary,
	              "visibility", "PUBLIC", "distribution",
	              "feedDistribution", "MAIN_FEED", "targetEntities",
	              "thirdPartyDistributionChannels", "lifecycleState",
	              "PUBLISHED", "isReshareDisabledByAuthor", 0);
	free(commentary);
	if (o == NULL || ((json_array_size(images(st)) > 0 || v->link) &&
	                  ((content = post_content(v, st)) == NULL ||
	                   json_object_set_new(o, "content", content) < 0))) {
		json_decref(o);
		goto nomem;
	}
	if (api_url(ch, "/rest/posts", req) < 0) {
		json_decref(o);
		goto nomem;
	}
	/* No idempotency key: never let curl repeat it on its own. */
	req->once = 1;
	return json_request(ch, o, req, err, errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int linkedin_build(const struct channel *ch,
                          const struct delivery_view *v, struct pub_step *st,
                          int64_t now_ms, struct http_request *req, char *err,
                          size_t errlen)
{
	size_t i;
	const char *item;
	int r = pub_media_next(v, st, "LinkedIn", LINKEDIN_MAX_IMAGES, "images",
	                       "images", &i, &item, err, errlen);

	(void)now_ms;
	if (r < 0)
		return r;
	if (r == 0) {
		pub_step_set(st, STEP_POST);
		return build_post(ch, v, st, req, err, errlen);
	}
	if (json_object_get(st->state, "upload") != NULL) {
		pub_step_set(st, STEP_PUT);
		return build_put(ch, v, st, i, req, err, errlen);
	}
	if (pub_media_needs_fetch(item, st)) {
		pub_step_set(st, STEP_FETCH);
		return pub_media_fetch_request(ch, item, req, err, errlen);
	}
	pub_step_set(st, STEP_INIT);
	return build_init(ch, req, err, errlen);
}

/*
 * LinkedIn's error {"message", "serviceErrorCode", "status", "code"}: the
 * message (or the start of the body) into text, the code into code.
 */
static int64_t error_fields(const struct http_result *res, char *text,
                            size_t cap, char *code, size_t codecap)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *m = json_string_value(json_object_get(o, "message"));
	int64_t service =
	        json_integer_value(json_object_get(o, "serviceErrorCode"));

	if (m)
		publisher_body_excerpt(m, strlen(m), text, cap);
	else
		publisher_body_excerpt(res->body, res->body_len, text, cap);
	publisher_json_text(o, "code", code, codecap);
	json_decref(o);
	return service;
}

/* Defence in depth: no reason quotes a token or the client secret. */
static void scrub(const struct channel *ch, struct verdict *out)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (ch->tokens != NULL && ch->tokens->access != NULL)
		publisher_redact(out->reason, ch->tokens->access);
	if (ch->tokens != NULL && ch->tokens->refresh != NULL)
		publisher_redact(out->reason, ch->tokens->refresh);
	if (lc->token_len > 0)
		publisher_redact(out->reason, (const char *)lc->token);
	if (lc->oauth.client_secret_len > 0)
		publisher_redact(out->reason,
		                 (const char *)lc->oauth.client_secret);
}

void linkedin_api_error(const struct channel *ch, const struct http_result *res,
                        int64_t now_ms, const char *what, struct verdict *out)
{
	const struct linkedin_conf *lc = ch->pub_conf;
	char text[160], code[64];
	int64_t service;

	publisher_classify_http(res, now_ms, out);
	if (res->status == 0) {
		publisher_prefix_reason(out, what);
		return;
	}
	service = error_fields(res, text, sizeof(text), code, sizeof(code));
	if (res->status == 401 || service == 65601 ||
	    strcmp(code, "REVOKED_ACCESS_TOKEN") == 0 ||
	    strcmp(code, "EXPIRED_ACCESS_TOKEN") == 0) {
		out->kind = PUBLISH_NEEDS_AUTH;
		set_reason(
		        out,
		        "HTTP %ld: LinkedIn refused the access token (revoked "
		        "or expired: run smmctl auth %s or renew token_file)%s%s",
		        res->status, ch->name, text[0] ? ": " : "", text);
	} else if (res->status == 426)
		set_reason(out,
		           "HTTP 426: LinkedIn no longer serves api_version %s "
		           "(set a current one)%s%s",
		           lc->api_version, text[0] ? ": " : "", text);
	else if (res->status == 429)
		/* LinkedIn sends no Retry-After: the channel's backoff. */
		set_reason(out,
		           "HTTP 429: LinkedIn's rate limit, backing off%s%s",
		           text[0] ? ": " : "", text);
	else if (res->status == 403)
		set_reason(
		        out,
		        "HTTP 403: not allowed (check the token's scopes and "
		        "the member's role on the page)%s%s",
		        text[0] ? ": " : "", text);
	else if (out->kind == PUBLISH_FAILED || res->status >= 500)
		set_reason(out, "HTTP %ld%s%s", res->status,
		           text[0] ? ": " : "", text);
	publisher_prefix_reason(out, what);
}

static void next_step(struct pub_step *st, struct verdict *out,
                      const struct http_result *res, const char *note)
{
	st->n++;
	out->kind = PUBLISH_NEXT;
	set_reason(out, "HTTP %ld%s%s", res->status, note[0] ? ", " : "", note);
}

static void classify_init(const struct channel *ch, struct pub_step *st,
                          const struct http_result *res, int64_t now_ms,
                          struct verdict *out)
{
	size_t i = json_array_size(images(st));
	char what[64], url[1024] = "", urn[128] = "";
	json_t *o, *value;

	snprintf(what, sizeof(what), "starting the upload of image %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		linkedin_api_error(ch, res, now_ms, what, out);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	value = json_object_get(o, "value");
	publisher_json_text(value, "uploadUrl", url, sizeof(url));
	publisher_json_text(value, "image", urn, sizeof(urn));
	json_decref(o);
	if (strncmp(url, "http", 4) != 0 ||
	    strncmp(urn, "urn:li:image:", 13) != 0) {
		out->kind = PUBLISH_RETRY;
		set_reason(out,
		           "HTTP %ld without an uploadUrl and an image URN",
		           res->status);
		publisher_prefix_reason(out, what);
		return;
	}
	if (json_object_set_new(st->state, "upload", json_string(url)) < 0 ||
	    json_object_set_new(st->state, "pending", json_string(urn)) < 0) {
		out->kind = PUBLISH_RETRY;
		set_reason(out, "out of memory");
		return;
	}
	next_step(st, out, res, urn);
}

static void classify_put(const struct channel *ch, struct pub_step *st,
                         const struct http_result *res, int64_t now_ms,
                         struct verdict *out)
{
	size_t i = json_array_size(images(st));
	json_t *urn = json_object_get(st->state, "pending");
	char what[64];

	snprintf(what, sizeof(what), "uploading image %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		if (res->status == 0 && res->error &&
		    strstr(res->error, "refused to connect") != NULL) {
			/* LinkedIn named a private address: it will again. */
			out->kind = PUBLISH_FAILED;
			set_reason(
			        out,
			        "the upload URL LinkedIn gave is refused: %s",
			        res->error);
			publisher_prefix_reason(out, what);
			return;
		}
		linkedin_api_error(ch, res, now_ms, what, out);
		return;
	}
	if (json_array_append(images(st), urn) < 0) {
		out->kind = PUBLISH_RETRY;
		set_reason(out, "out of memory");
		return;
	}
	json_object_del(st->state, "upload");
	next_step(st, out, res, json_string_value(urn));
	json_object_del(st->state, "pending");
}

/* The post's URN as LinkedIn writes it: safe in a URL path. */
static int post_urn_ok(const char *s)
{
	return strncmp(s, "urn:li:", 7) == 0 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789:_-") == strlen(s);
}

static void classify_post(const struct channel *ch,
                          const struct http_result *res, int64_t now_ms,
                          struct verdict *out)
{
	if (res->status < 200 || res->status > 299) {
		linkedin_api_error(ch, res, now_ms, "creating the post", out);
		return;
	}
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	if (res->restli_id != NULL && post_urn_ok(res->restli_id)) {
		snprintf(out->remote_id, sizeof(out->remote_id), "%s",
		         res->restli_id);
		snprintf(out->remote_url, sizeof(out->remote_url),
		         "https://www.linkedin.com/feed/update/%s",
		         res->restli_id);
		set_reason(out, "HTTP %ld, post %s", res->status,
		           res->restli_id);
	} else
		set_reason(out, "HTTP %ld without the post's URN (x-restli-id)",
		           res->status);
}

static void linkedin_classify(const struct channel *ch,
                              const struct delivery_view *v,
                              struct pub_step *st,
                              const struct http_result *res, int64_t now_ms,
                              struct verdict *out)
{
	size_t i = json_array_size(images(st));

	switch ((enum step_kind)pub_step_get(st)) {
	case STEP_FETCH:
		pub_media_fetched(
		        ch, i + 1,
		        json_string_value(json_array_get(v->media, i)), st, res,
		        now_ms, out);
		break;
	case STEP_INIT:
		classify_init(ch, st, res, now_ms, out);
		break;
	case STEP_PUT:
		classify_put(ch, st, res, now_ms, out);
		break;
	case STEP_POST:
		classify_post(ch, res, now_ms, out);
		break;
	}
	/* Only the post itself is public. */
	out->repeatable = pub_step_get(st) != STEP_POST;
	scrub(ch, out);
}

static const struct text_rule linkedin_text = {
        .unit = "characters",
        .limit = LINKEDIN_TEXT_MAX,
        .measure = NULL,
};

const struct publisher_ops pub_linkedin = {
        .name = "linkedin",
        .keys = "author, token_file, api_url, api_version, client_id, "
                "client_secret_file, scopes, authorize_url, token_url",
        .configure = linkedin_configure,
        .check = linkedin_check,
        .free_conf = linkedin_free,
        .idempotent = linkedin_idempotent,
        .build_request = linkedin_build,
        .classify = linkedin_classify,
        .engage = &linkedin_engage,
        .text_rule = &linkedin_text,
        .auth = &linkedin_auth,
};
