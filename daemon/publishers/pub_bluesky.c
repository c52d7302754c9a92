/*
 * Bluesky: a post is an app.bsky.feed.post record written into the
 * account's repository with com.atproto.repo.createRecord, following the
 * AT Protocol lexicons (https://docs.bsky.app/docs/api/ and
 * https://github.com/bluesky-social/atproto/tree/main/lexicons, as of
 * 2025): the text (300 graphemes), createdAt, langs, link and hashtag
 * facets (app.bsky.richtext.facet, UTF-8 byte offsets), and an embed:
 * up to 4 images (app.bsky.embed.images, each uploaded first with
 * com.atproto.repo.uploadBlob, at most 1,000,000 bytes), else an
 * external card for the post's link (app.bsky.embed.external; the page
 * is not fetched, so its title is the link itself).
 *
 * One attempt is a chain of steps in struct pub_step: on a retry first
 * "check" (com.atproto.repo.getRecord of the post's record key), then for
 * each image "fetch" (an http(s) URL) and "upload", finally "create".
 *
 * Repeats: createRecord without a record key makes a new post on every
 * call. smmd passes its own key instead, a TID (the key type posts use)
 * made from the delivery's due time and its webhook-id, the same on every
 * attempt: a repeat cannot make a second post (the repository holds one
 * record per key; the PDS refuses the second write), and a retry first
 * looks the key up, taking a record found there as published. So the
 * driver is idempotent.
 *
 * The session (access token and DID) comes from auth.c through
 * ch->tokens (pub_bluesky_auth.c logs in with the app password); without
 * one, build_request answers -EACCES.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hash.h"
#include "http.h"
#include "pub_bluesky.h"
#include "pub_form.h"
#include "pub_media.h"
#include "publisher.h"
#include "ratelimit.h"
#include "textlen.h"
#include "timeparse.h"

#define BLUESKY_MAX_IMAGES      4
#define BLUESKY_MAX_IMAGE_SIZE  1000000 /* app.bsky.embed.images */
#define BLUESKY_MAX_GRAPHEMES   300     /* app.bsky.feed.post text */
#define BLUESKY_MAX_TEXT_BYTES  3000
#define BLUESKY_DEFAULT_SERVICE "https://bsky.social"
#define POST_COLLECTION         "app.bsky.feed.post"

static int bluesky_configure(struct conf_ctx *p, struct channel *ch,
                             const char *key, struct conf_node *v)
{
	struct bluesky_conf *bc = ch->pub_conf;

	if (bc == NULL && (bc = ch->pub_conf = calloc(1, sizeof(*bc))) == NULL)
		return 0;
	if (strcmp(key, "service") == 0) {
		if (conf_url(p, v, key, &bc->service) == 0) {
			size_t n = strlen(bc->service);

			while (n > 0 && bc->service[n - 1] == '/')
				bc->service[--n] = '\0';
		}
	} else if (strcmp(key, "handle") == 0) {
		const char *s = conf_scalar(v);

		bc->handle_given = 1;
		if (s == NULL || s[0] == '\0' || strlen(s) > 253 ||
		    strpbrk(s, " \t\r\n") != NULL)
			conf_error(p, v,
			           "'handle' must be the account's handle "
			           "(name.bsky.social), DID or email");
		else
			conf_string(p, v, key, &bc->handle);
	} else if (strcmp(key, "app_password_file") == 0) {
		bc->password_given = 1;
		if (conf_secret(p, v, key, 1, &bc->password,
		                &bc->password_len) == 0 &&
		    (strpbrk((char *)bc->password, "\r\n") != NULL ||
		     bc->password_len == 0 || bc->password_len > 256))
			/* Name the file, never its content. */
			conf_error(p, v,
			           "'app_password_file': the app password "
			           "must be one line of 1 to 256 bytes");
	} else if (strcmp(key, "language") == 0) {
		const char *s = conf_scalar(v);
		size_t n = s ? strlen(s) : 0;

		if (n < 2 || n > 8 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz-") != n)
			conf_error(p, v,
			           "'language' must be a language code such "
			           "as en or pt-br");
		else
			conf_string(p, v, key, &bc->language);
	} else
		return 0;
	return 1;
}

static void bluesky_check(struct conf_ctx *p, struct channel *ch,
                          struct conf_node *node)
{
	struct bluesky_conf *bc = ch->pub_conf;

	if (bc == NULL || !bc->handle_given)
		conf_error(p, node,
		           "channel '%s' has no 'handle' (the account, "
		           "e.g. name.bsky.social)",
		           ch->name);
	if (bc == NULL || !bc->password_given)
		conf_error(p, node,
		           "channel '%s' has no 'app_password_file' (a file "
		           "holding an app password from Settings, Privacy "
		           "and security, App passwords)",
		           ch->name);
	if (bc && bc->service == NULL &&
	    (bc->service = strdup(BLUESKY_DEFAULT_SERVICE)) == NULL)
		conf_error(p, node, "out of memory");
}

static void bluesky_free(struct channel *ch)
{
	struct bluesky_conf *bc = ch->pub_conf;

	if (bc == NULL)
		return;
	free(bc->service);
	free(bc->handle);
	conf_secret_free(bc->password, bc->password_len);
	free(bc->language);
	free(bc);
	ch->pub_conf = NULL;
}

static int bluesky_idempotent(const struct channel *ch)
{
	return 1;
}

/*
 * The post's record key: a TID (13 characters of base32-sortable, a
 * 53-bit microsecond time and a 10-bit clock id) from the due time, with
 * the webhook-id's hash in the sub-millisecond digits and the clock id,
 * so that two deliveries due at the same instant differ.
 */
void bluesky_rkey(const struct delivery_view *v, char out[14])
{
	static const char s32[] = "234567abcdefghijklmnopqrstuvwxyz";
	uint64_t h = hash_str(v->webhook_id ? v->webhook_id : "");
	uint64_t us =
	        (uint64_t)(v->scheduled_ms > 0 ? v->scheduled_ms : 0) * 1000 +
	        h % 1000;
	uint64_t tid =
	        (us & ((UINT64_C(1) << 53) - 1)) << 10 | (h >> 20 & 1023);

	for (int i = 12; i >= 0; i--) {
		out[i] = s32[tid & 31];
		tid >>= 5;
	}
	out[13] = '\0';
}

enum step_kind { STEP_CHECK, STEP_FETCH, STEP_UPLOAD, STEP_CREATE };

static json_t *blobs(const struct pub_step *st)
{
	return json_object_get(st->state, "blobs");
}

/* at://DID/app.bsky.feed.post/RKEY and its page on bsky.app. */
static void record_ids(const char *did, const char *rkey, struct verdict *out)
{
	snprintf(out->remote_id, sizeof(out->remote_id), "at://%s/%s/%s", did,
	         POST_COLLECTION, rkey);
	snprintf(out->remote_url, sizeof(out->remote_url),
	         "https://bsky.app/profile/%s/post/%s", did, rkey);
}

/*
 * The ids from the record's uri as the PDS gives it,
 * at://DID/app.bsky.feed.post/RKEY; out is left as it is otherwise.
 */
static void uri_ids(const char *uri, struct verdict *out)
{
	const char *did = uri + 5, *coll, *rkey;

	if (strncmp(uri, "at://", 5) != 0 ||
	    (coll = strchr(did, '/')) == NULL ||
	    strncmp(coll + 1, POST_COLLECTION "/", sizeof(POST_COLLECTION)) !=
	            0)
		return;
	rkey = coll + 1 + sizeof(POST_COLLECTION);
	if (rkey[0] == '\0' || strchr(rkey, '/') != NULL)
		return;
	snprintf(out->remote_id, sizeof(out->remote_id), "%s", uri);
	snprintf(out->remote_url, sizeof(out->remote_url),
	         "https://bsky.app/profile/%.*s/post/%s", (int)(coll - did),
	         did, rkey);
}

/* getRecord of the post's key: did an earlier attempt make it? */
static int build_check(const struct channel *ch, const struct delivery_view *v,
                       const char *did, const char *access,
                       struct http_request *req, char *err, size_t errlen)
{
	const struct bluesky_conf *bc = ch->pub_conf;
	char rkey[14], *url = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&url, &len);

	if (f == NULL)
		goto nomem;
	bluesky_rkey(v, rkey);
	fprintf(f, "%s/xrpc/com.atproto.repo.getRecord?repo=", bc->service);
	pub_form_escape(f, did);
	fprintf(f, "&collection=%s&rkey=%s", POST_COLLECTION, rkey);
	if (fclose(f) != 0)
		goto nomem;
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
	if (bluesky_add_bearer(&req->headers, access) < 0)
		goto nomem;
	return 0;
nomem:
	if (req->url == NULL)
		free(url);
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

/* uploadBlob: the image's bytes as they are, with their type. */
static int build_upload(const struct channel *ch, struct pub_step *st, size_t n,
                        const char *access, struct http_request *req, char *err,
                        size_t errlen)
{
	if (st->blob_type == NULL || strncmp(st->blob_type, "image/", 6) != 0) {
		snprintf(err, errlen,
		         "media %zu is %.60s: Bluesky posts take images only",
		         n, st->blob_type ? st->blob_type : "of no known type");
		return -1;
	}
	if (st->blob_len > BLUESKY_MAX_IMAGE_SIZE) {
		snprintf(err, errlen,
		         "media %zu is %zu bytes; Bluesky takes images of at "
		         "most %d bytes",
		         n, st->blob_len, BLUESKY_MAX_IMAGE_SIZE);
		return -1;
	}
	if (bluesky_xrpc_url(ch, "com.atproto.repo.uploadBlob", req) < 0 ||
	    publisher_add_header(&req->headers, "Content-Type", st->blob_type) <
	            0 ||
	    bluesky_add_bearer(&req->headers, access) < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	/* The bytes move into the request: no second copy. */
	req->body = st->blob;
	req->body_len = st->blob_len;
	st->blob = NULL;
	st->blob_len = 0;
	return 0;
}

/* The facets of text: links and hashtags with their byte offsets. */
static json_t *facets_json(const char *text)
{
	struct text_facet *f;
	size_t n;
	json_t *arr;

	if (textlen_facets(text, strlen(text), &f, &n) < 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_t *one = json_pack(
		        "{s:{s:I, s:I}, s:[{s:s, s:s}]}", "index", "byteStart",
		        (json_int_t)f[i].byte_start, "byteEnd",
		        (json_int_t)f[i].byte_end, "features", "$type",
		        f[i].kind == FACET_LINK ? "app.bsky.richtext.facet#link"
		                                : "app.bsky.richtext.facet#tag",
		        f[i].kind == FACET_LINK ? "uri" : "tag", f[i].value);

		if (one == NULL || json_array_append_new(arr, one) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	textlen_facets_free(f, n);
	return arr;
}

/* Images if any were uploaded, else a card for the link, else none. */
static int add_embed(json_t *record, const struct delivery_view *v,
                     const struct pub_step *st)
{
	json_t *imgs, *b, *e;
	size_t i;

	if (json_array_size(blobs(st)) > 0) {
		if ((imgs = json_array()) == NULL)
			return -1;
		json_array_foreach (blobs(st), i, b)
			json_array_append_new(
			        imgs,
			        json_pack("{s:O, s:s}", "image", b, "alt", ""));
		e = json_pack("{s:s, s:o}", "$type", "app.bsky.embed.images",
		              "images", imgs);
	} else if (v->link) {
		e = json_pack("{s:s, s:{s:s, s:s, s:s}}", "$type",
		              "app.bsky.embed.external", "external", "uri",
		              v->link, "title", v->link, "description", "");
	} else
		return 0;
	return e ? json_object_set_new(record, "embed", e) : -1;
}

/*
 * The post's text: with images the link has no card of its own, so it
 * goes at the end of the text (a link facet), unless the text holds it
 * already, if it still fits.
 */
static char *post_text(const struct delivery_view *v, const struct pub_step *st,
                       char *err, size_t errlen)
{
	int with_link = v->link && json_array_size(blobs(st)) > 0 &&
	                strstr(v->text, v->link) == NULL;
	char *text = NULL;
	size_t g;

	if (with_link) {
		if (asprintf(&text, "%s\n\n%s", v->text, v->link) < 0)
			text = NULL;
	} else
		text = strdup(v->text);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g = textlen_graphemes(text, strlen(text));
	if (g > BLUESKY_MAX_GRAPHEMES ||
	    strlen(text) > BLUESKY_MAX_TEXT_BYTES) {
		snprintf(err, errlen,
		         "the text%s is %zu graphemes and %zu bytes; Bluesky "
		         "takes %d and %d",
		         with_link ? " with the link" : "", g, strlen(text),
		         BLUESKY_MAX_GRAPHEMES, BLUESKY_MAX_TEXT_BYTES);
		free(text);
		return NULL;
	}
	return text;
}

static json_t *post_record(const struct channel *ch,
                           const struct delivery_view *v,
                           const struct pub_step *st, int64_t now_ms, char *err,
                           size_t errlen)
{
	const struct bluesky_conf *bc = ch->pub_conf;
	char when[TIME_RFC3339_LEN], *text = post_text(v, st, err, errlen);
	json_t *r, *facets;

	if (text == NULL)
		return NULL;
	facets = facets_json(text);
	r = json_pack("{s:s, s:s, s:s}", "$type", POST_COLLECTION, "text", text,
	              "createdAt", time_format_rfc3339(now_ms, when));
	free(text);
	if (r == NULL || facets == NULL ||
	    (json_array_size(facets) > 0 &&
	     json_object_set(r, "facets", facets) < 0) ||
	    (bc->language &&
	     json_object_set_new(r, "langs", json_pack("[s]", bc->language)) <
	             0) ||
	    add_embed(r, v, st) < 0) {
		json_decref(r);
		json_decref(facets);
		snprintf(err, errlen, "cannot encode the post as JSON");
		return NULL;
	}
	json_decref(facets);
	return r;
}

static int build_create(const struct channel *ch, const struct delivery_view *v,
                        const struct pub_step *st, const char *did,
                        const char *access, int64_t now_ms,
                        struct http_request *req, char *err, size_t errlen)
{
	json_t *record = post_record(ch, v, st, now_ms, err, errlen), *o;
	char rkey[14];

	if (record == NULL)
		return -1;
	bluesky_rkey(v, rkey);
	o = json_pack("{s:s, s:s, s:s, s:o}", "repo", did, "collection",
	              POST_COLLECTION, "rkey", rkey, "record", record);
	if (o == NULL || (req->body = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "cannot encode the post as JSON");
		return -1;
	}
	json_decref(o);
	req->body_len = strlen(req->body);
	if (bluesky_xrpc_url(ch, "com.atproto.repo.createRecord", req) < 0 ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    bluesky_add_bearer(&req->headers, access) < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return 0;
}

static int bluesky_build(const struct channel *ch,
                         const struct delivery_view *v, struct pub_step *st,
                         int64_t now_ms, struct http_request *req, char *err,
                         size_t errlen)
{
	size_t i;
	const char *access, *did, *item;
	int r;

	if (bluesky_session(ch, &access, &did) < 0) {
		snprintf(err, errlen,
		         "no Bluesky session yet: run smmctl auth %s",
		         ch->name);
		return -EACCES;
	}
	/* The first attempt has nothing to look for. */
	if (st->state == NULL &&
	    (st->state = json_pack("{s:[], s:i, s:b}", "blobs", "step", 0,
	                           "checked", v->attempt <= 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	if (!json_is_true(json_object_get(st->state, "checked"))) {
		pub_step_set(st, STEP_CHECK);
		return build_check(ch, v, did, access, req, err, errlen);
	}
	if ((r = pub_media_next(v, st, "Bluesky", BLUESKY_MAX_IMAGES, "images",
	                        "blobs", &i, &item, err, errlen)) < 0)
		return r;
	if (r == 0) {
		pub_step_set(st, STEP_CREATE);
		return build_create(ch, v, st, did, access, now_ms, req, err,
		                    errlen);
	}
	if (pub_media_needs_fetch(item, st)) {
		pub_step_set(st, STEP_FETCH);
		return pub_media_fetch_request(ch, item, req, err, errlen);
	}
	if (st->blob == NULL &&
	    (r = pub_media_load_file(ch, item, st, err, errlen)) < 0)
		return r;
	pub_step_set(st, STEP_UPLOAD);
	return build_upload(ch, st, i + 1, access, req, err, errlen);
}

/* The rate limit's reset (RateLimit-Reset, unix seconds) as a delay. */
static void rate_limited(const struct http_result *res, int64_t now_ms,
                         struct verdict *out)
{
	struct ratelimit rl;

	ratelimit_parse(&res->ratelimit, now_ms, &rl);
	out->kind = PUBLISH_RETRY;
	if (rl.reset_ms > now_ms)
		out->retry_after_ms = rl.reset_ms - now_ms;
}

/*
 * An XRPC error: ExpiredToken needs a refreshed session (auth.c renews
 * it, the reason says "expired token" for it); InvalidToken and
 * AuthenticationRequired (or a 401) need a new one; 429 waits for the
 * rate limit's reset; InvalidRequest and other 4xx fail with Bluesky's
 * words; the rest as any HTTP.
 */
void bluesky_api_error(const struct channel *ch, const struct http_result *res,
                       int64_t now_ms, const char *what, struct verdict *out)
{
	char name[64], msg[160];

	bluesky_xrpc_error(ch, res, name, sizeof(name), msg, sizeof(msg));
	publisher_classify_http(res, now_ms, out);
	if (strcmp(name, "ExpiredToken") == 0) {
		out->kind = PUBLISH_NEEDS_AUTH;
		snprintf(out->reason, sizeof(out->reason),
		         "expired token: %.60s: HTTP %ld: %.120s", what,
		         res->status, msg);
		return;
	}
	if (res->status == 401 || strcmp(name, "InvalidToken") == 0 ||
	    strcmp(name, "AuthenticationRequired") == 0) {
		out->kind = PUBLISH_NEEDS_AUTH;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld %.40s: the session was refused (run smmctl "
		         "auth)%s%.120s",
		         res->status, name[0] ? name : "", msg[0] ? ": " : "",
		         msg);
	} else if (res->status == 429 ||
	           strcmp(name, "RateLimitExceeded") == 0) {
		rate_limited(res, now_ms, out);
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld: rate limited%s%.120s", res->status,
		         msg[0] ? ": " : "", msg);
	} else if (res->status >= 400 && out->kind == PUBLISH_FAILED) {
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld%s%.40s%s%.120s", res->status,
		         name[0] ? " " : "", name, msg[0] ? ": " : "", msg);
	}
	publisher_prefix_reason(out, what);
}

static void classify_check(const struct channel *ch,
                           const struct delivery_view *v, struct pub_step *st,
                           const struct http_result *res, int64_t now_ms,
                           struct verdict *out)
{
	char name[64], msg[160], rkey[14];
	const char *access, *did;

	bluesky_xrpc_error(ch, res, name, sizeof(name), msg, sizeof(msg));
	if (res->status >= 200 && res->status <= 299) {
		/* An earlier attempt made it; its answer was lost. */
		if (bluesky_session(ch, &access, &did) < 0)
			did = "";
		bluesky_rkey(v, rkey);
		record_ids(did, rkey, out);
		out->kind = PUBLISH_OK;
		out->retry_after_ms = -1;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld: made by an earlier attempt", res->status);
		return;
	}
	if (res->status == 400 && strcmp(name, "RecordNotFound") == 0) {
		json_object_set_new(st->state, "checked", json_true());
		st->n++;
		out->kind = PUBLISH_NEXT;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP 400: no post yet under this key");
		return;
	}
	bluesky_api_error(ch, res, now_ms,
	                  "looking for an earlier attempt's post", out);
}

static void classify_upload(const struct channel *ch, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	size_t i = json_array_size(blobs(st));
	char what[64];
	json_t *o, *blob;

	snprintf(what, sizeof(what), "uploading image %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		bluesky_api_error(ch, res, now_ms, what, out);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	blob = json_object_get(o, "blob");
	if (!json_is_object(blob) || json_object_get(blob, "ref") == NULL) {
		json_decref(o);
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld without a blob", res->status);
		publisher_prefix_reason(out, what);
		return;
	}
	/* The blob goes into the post as the PDS described it. */
	if (json_array_append(blobs(st), blob) < 0) {
		json_decref(o);
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	json_decref(o);
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, image %zu stored",
	         res->status, i + 1);
}

/* Whether an error says the record key is taken: a repeat of ours. */
static int already_exists(const char *name, const char *msg)
{
	return strstr(name, "Exist") != NULL ||
	       strcasestr(msg, "already exists") != NULL;
}

static void classify_create(const struct channel *ch,
                            const struct delivery_view *v,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	char name[64], msg[160], rkey[14], uri[sizeof(out->remote_id)];
	const char *access, *did;
	json_t *o;

	bluesky_xrpc_error(ch, res, name, sizeof(name), msg, sizeof(msg));
	bluesky_rkey(v, rkey);
	if (bluesky_session(ch, &access, &did) < 0)
		did = "";
	if (res->status < 200 || res->status > 299) {
		if (res->status == 400 && already_exists(name, msg)) {
			record_ids(did, rkey, out);
			out->kind = PUBLISH_OK;
			out->retry_after_ms = -1;
			snprintf(out->reason, sizeof(out->reason),
			         "HTTP 400: made by an earlier attempt");
			return;
		}
		bluesky_api_error(ch, res, now_ms, "creating the post", out);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(o, "uri", uri, sizeof(uri));
	json_decref(o);
	record_ids(did, rkey, out);
	/* The PDS's own uri, if it says one (it is the same). */
	uri_ids(uri, out);
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, post %s",
	         res->status, rkey);
}

static void bluesky_classify(const struct channel *ch,
                             const struct delivery_view *v, struct pub_step *st,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	size_t i = json_array_size(blobs(st));

	switch ((enum step_kind)pub_step_get(st)) {
	case STEP_CHECK:
		classify_check(ch, v, st, res, now_ms, out);
		break;
	case STEP_FETCH:
		pub_media_fetched(
		        ch, i + 1,
		        json_string_value(json_array_get(v->media, i)), st, res,
		        now_ms, out);
		break;
	case STEP_UPLOAD:
		classify_upload(ch, st, res, now_ms, out);
		break;
	case STEP_CREATE:
		classify_create(ch, v, res, now_ms, out);
		break;
	}
	bluesky_redact(ch, out->reason);
}

static const struct text_rule bluesky_text = {
        .unit = "graphemes",
        .limit = BLUESKY_MAX_GRAPHEMES,
        .measure = textlen_graphemes,
        .max_bytes = BLUESKY_MAX_TEXT_BYTES,
};

const struct publisher_ops pub_bluesky = {
        .name = "bluesky",
        .keys = "service, handle, app_password_file, language",
        .configure = bluesky_configure,
        .check = bluesky_check,
        .free_conf = bluesky_free,
        .idempotent = bluesky_idempotent,
        .build_request = bluesky_build,
        .classify = bluesky_classify,
        .engage = &bluesky_engage,
        .text_rule = &bluesky_text,
        .auth = &bluesky_auth,
};
