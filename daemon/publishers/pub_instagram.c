/*
 * Instagram: the content-publishing flow of the Instagram Platform (Graph
 * API v25.0 by default, graph_version):
 *   https://developers.facebook.com/docs/instagram-platform/content-publishing
 *
 * One attempt is a chain of steps (the next one noted in st->state):
 *   quota      GET /{ig-user-id}/content_publishing_limit: 100 posts in a
 *              rolling 24 h (carousels count once); used up: retried later
 *   child      POST /{ig-user-id}/media is_carousel_item=true, one per
 *              image (image_url) or video (media_type=VIDEO, video_url)
 *              of a carousel (2 to 10 items)
 *   container  POST /{ig-user-id}/media with the caption and image_url
 *              (or media_type=REELS, video_url), or media_type=CAROUSEL
 *              and children
 *   status     GET /{container-id}?fields=status_code,status until it is
 *              FINISHED: IN_PROGRESS is asked again after poll_interval
 *              (Meta: once a minute, for at most five), ERROR fails,
 *              EXPIRED starts over
 *   publish    POST /{ig-user-id}/media_publish creation_id=...: the post
 *   permalink  GET /{media-id}?fields=permalink, the post's public URL
 * Meta fetches the media itself: they must be public http(s) URLs. A
 * caption holds 2,200 characters, 30 hashtags and 20 @mentions. Nothing
 * drops a repeated media_publish: not idempotent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "pub_instagram.h"
#include "pub_token.h"

#define IG_MAX_CAROUSEL 10
#define IG_MAX_HASHTAGS 30
#define IG_MAX_MENTIONS 20
/* Meta's cap when content_publishing_limit does not say. */
#define IG_QUOTA_DEFAULT 100
/* The window rolls: a used-up quota is asked again this much later. */
#define IG_QUOTA_WAIT_MS (60 * 60 * 1000)

static const struct text_rule instagram_text = {
        .unit = "characters",
        .limit = 2200,
        /* The caption ends with the link (add_caption). */
        .link_joint = "\n\n",
};

enum ig_step {
	IG_QUOTA,
	IG_CHILD,
	IG_CONTAINER,
	IG_STATUS,
	IG_PUBLISH,
	IG_PERMALINK
};

static int instagram_configure(struct conf_ctx *p, struct channel *ch,
                               const char *key, struct conf_node *v)
{
	struct instagram_conf *ic = ch->pub_conf;
	const char *s;

	if (ic == NULL) {
		if ((ic = ch->pub_conf = calloc(1, sizeof(*ic))) == NULL)
			return 0;
		ic->poll_interval_ms = 60 * 1000;
		ic->poll_timeout_ms = 5 * 60 * 1000;
	}
	if (graph_configure(p, &ic->graph, key, v) ||
	    oauth_configure(p, &ic->oauth, key, v))
		return 1;
	if (strcmp(key, "ig_user_id") == 0) {
		if ((s = conf_scalar(v)) == NULL || !graph_id_ok(s) ||
		    strchr(s, '_') != NULL)
			conf_error(p, v,
			           "'ig_user_id' must be the Instagram "
			           "professional account's numeric id");
		else
			conf_string(p, v, key, &ic->ig_user_id);
	} else if (strcmp(key, "refresh_url") == 0) {
		if (conf_url(p, v, key, &ic->refresh_url) == 0) {
			size_t n = strlen(ic->refresh_url);

			while (n > 0 && ic->refresh_url[n - 1] == '/')
				ic->refresh_url[--n] = '\0';
		}
	} else if (strcmp(key, "poll_interval") == 0) {
		if (conf_duration(p, v, key, &ic->poll_interval_ms) == 0 &&
		    (ic->poll_interval_ms < 100 ||
		     ic->poll_interval_ms > 10 * 60 * 1000))
			conf_error(p, v,
			           "'poll_interval' must be 100ms to 10m");
	} else if (strcmp(key, "poll_timeout") == 0) {
		if (conf_duration(p, v, key, &ic->poll_timeout_ms) == 0 &&
		    (ic->poll_timeout_ms < 0 ||
		     ic->poll_timeout_ms > 60 * 60 * 1000))
			conf_error(p, v, "'poll_timeout' must be 0 to 1h");
	} else
		return 0;
	return 1;
}

static void instagram_check(struct conf_ctx *p, struct channel *ch,
                            struct conf_node *node)
{
	struct instagram_conf *ic = ch->pub_conf;

	if (ic == NULL || ic->ig_user_id == NULL)
		conf_error(p, node,
		           "channel '%s' has no 'ig_user_id' (the Instagram "
		           "professional account's numeric id)",
		           ch->name);
	if (ic == NULL || (!ic->graph.token_given && !ic->oauth.client_id))
		conf_error(p, node,
		           "channel '%s' has neither 'token_file' (a file "
		           "holding the Instagram user access token) nor "
		           "'client_id' (the Instagram app's id, for smmctl "
		           "auth)",
		           ch->name);
	else if (ic->oauth.client_id && ic->oauth.client_secret == NULL)
		conf_error(p, node,
		           "channel '%s' has a 'client_id' but no "
		           "'client_secret_file' (the Instagram app's secret)",
		           ch->name);
	/* Instagram-Login tokens work on graph.instagram.com alone. */
	if (ic && ic->oauth.client_id && ic->graph.url == NULL &&
	    (ic->graph.url = strdup(INSTAGRAM_LOGIN_GRAPH_URL)) == NULL)
		conf_error(p, node, "out of memory");
}

static void instagram_free(struct channel *ch)
{
	struct instagram_conf *ic = ch->pub_conf;

	if (ic == NULL)
		return;
	graph_conf_free(&ic->graph);
	oauth_free(&ic->oauth);
	free(ic->ig_user_id);
	free(ic->refresh_url);
	free(ic);
	ch->pub_conf = NULL;
}

static int instagram_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

/* Words that start with c ('#' hashtags, '@' mentions) in text. */
static size_t count_tags(const char *text, char c)
{
	size_t n = 0;

	for (const char *s = text; *s; s++)
		if (*s == c && (s == text || isspace((unsigned char)s[-1])) &&
		    s[1] && !isspace((unsigned char)s[1]) && s[1] != c)
			n++;
	return n;
}

/* 1 if url names a video (Instagram wants video_url for it). */
static int is_video(const char *url)
{
	static const char *const exts[] = {".mp4", ".mov", ".m4v"};
	size_t n = strcspn(url, "?#");

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strncasecmp(url + n - e, exts[i], e) == 0)
			return 1;
	}
	return 0;
}

/* What Instagram cannot take, found before anything is sent. */
static int check_post(const struct delivery_view *v, char *err, size_t errlen)
{
	size_t n = json_array_size(v->media), k;
	json_t *m;

	if (n == 0) {
		snprintf(err, errlen,
		         "Instagram publishes no text-only posts: give the "
		         "post an image or a video");
		return -1;
	}
	if (n > IG_MAX_CAROUSEL) {
		snprintf(err, errlen,
		         "an Instagram carousel holds at most %d items; the "
		         "post has %zu",
		         IG_MAX_CAROUSEL, n);
		return -1;
	}
	json_array_foreach (v->media, k, m)
		if (!json_is_string(m) || !url_is_http(json_string_value(m))) {
			snprintf(err, errlen,
			         "media %zu: Instagram fetches media itself, "
			         "so it must be a public http(s) URL, not a "
			         "file name",
			         k + 1);
			return -1;
		}
	if (count_tags(v->text, '#') > IG_MAX_HASHTAGS ||
	    count_tags(v->text, '@') > IG_MAX_MENTIONS) {
		snprintf(err, errlen,
		         "an Instagram caption takes at most %d hashtags and "
		         "%d @mentions; the post has %zu and %zu",
		         IG_MAX_HASHTAGS, IG_MAX_MENTIONS,
		         count_tags(v->text, '#'), count_tags(v->text, '@'));
		return -1;
	}
	return 0;
}

static const char *note(const struct pub_step *st, const char *key)
{
	return json_string_value(json_object_get(st->state, key));
}

static int get_step(const struct pub_step *st)
{
	return (int)json_integer_value(json_object_get(st->state, "step"));
}

static int set_step(struct pub_step *st, enum ig_step k)
{
	return json_object_set_new(st->state, "step", json_integer(k));
}

/* The media fields of one item: image_url, or a video's type and URL. */
static int add_media(char **body, size_t *len, const char *url, int child)
{
	if (!is_video(url))
		return graph_form_add(body, len, "image_url", url);
	if (graph_form_add(body, len, "media_type", child ? "VIDEO" : "REELS") <
	    0)
		return -1;
	return graph_form_add(body, len, "video_url", url);
}

/* The caption: the text, and the link (not clickable on Instagram). */
static int add_caption(char **body, size_t *len, const struct delivery_view *v)
{
	char *caption = NULL;
	int r;

	if (v->link && asprintf(&caption, "%s\n\n%s", v->text, v->link) < 0)
		return -1;
	r = graph_form_add(body, len, "caption", caption ? caption : v->text);
	free(caption);
	return r;
}

/* The children's ids, comma-separated, malloc'd. */
static char *children_list(const struct pub_step *st)
{
	json_t *kids = json_object_get(st->state, "children"), *id;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		return NULL;
	json_array_foreach (kids, i, id)
		fprintf(f, "%s%s", i ? "," : "", json_string_value(id));
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* POST /{ig-user-id}/media: a carousel child or the container. */
static int build_media(const struct instagram_conf *ic,
                       const struct delivery_view *v, struct pub_step *st,
                       int child, struct http_request *req)
{
	size_t n = json_array_size(v->media), len = 0;
	size_t k = json_array_size(json_object_get(st->state, "children"));
	char *kids;
	int r;

	if (child) {
		r = add_media(&req->body, &len,
		              json_string_value(json_array_get(v->media, k)),
		              1);
		if (r == 0)
			r = graph_form_add(&req->body, &len, "is_carousel_item",
			                   "true");
	} else if (n == 1)
		r = add_media(&req->body, &len,
		              json_string_value(json_array_get(v->media, 0)),
		              0);
	else {
		r = graph_form_add(&req->body, &len, "media_type", "CAROUSEL");
		if (r == 0 && (kids = children_list(st)) != NULL) {
			r = graph_form_add(&req->body, &len, "children", kids);
			free(kids);
		} else
			r = -1;
	}
	if (r == 0 && !child)
		r = add_caption(&req->body, &len, v);
	req->body_len = len;
	if (r < 0 || (req->url = graph_endpoint(&ic->graph, "%s/media",
	                                        ic->ig_user_id)) == NULL)
		return -1;
	return publisher_add_header(&req->headers, "Content-Type",
	                            "application/x-www-form-urlencoded");
}

static int build_get(struct http_request *req, char *url)
{
	snprintf(req->method, sizeof(req->method), "GET");
	return (req->url = url) == NULL ? -1 : 0;
}

static int build_step(const struct instagram_conf *ic,
                      const struct delivery_view *v, struct pub_step *st,
                      struct http_request *req)
{
	size_t len = 0;

	switch (get_step(st)) {
	case IG_QUOTA:
		return build_get(req, graph_endpoint(&ic->graph,
		                                     "%s/content_publishing_"
		                                     "limit?fields=quota_usage,"
		                                     "config",
		                                     ic->ig_user_id));
	case IG_CHILD:
		return build_media(ic, v, st, 1, req);
	case IG_CONTAINER:
		return build_media(ic, v, st, 0, req);
	case IG_STATUS:
		return build_get(req,
		                 graph_endpoint(&ic->graph,
		                                "%s?fields=status_code,status",
		                                note(st, "container")));
	case IG_PUBLISH:
		if (graph_form_add(&req->body, &len, "creation_id",
		                   note(st, "container")) < 0 ||
		    publisher_add_header(&req->headers, "Content-Type",
		                         "application/x-www-form-urlencoded") <
		            0)
			return -1;
		req->body_len = len;
		req->url = graph_endpoint(&ic->graph, "%s/media_publish",
		                          ic->ig_user_id);
		return req->url ? 0 : -1;
	case IG_PERMALINK:
		return build_get(req, graph_endpoint(&ic->graph,
		                                     "%s?fields=permalink",
		                                     note(st, "media")));
	}
	return -1;
}

static int instagram_build(const struct channel *ch,
                           const struct delivery_view *v, struct pub_step *st,
                           int64_t now_ms, struct http_request *req, char *err,
                           size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;
	const char *token = graph_token(ch, &ic->graph);
	int r;

	(void)now_ms;
	if (token == NULL) {
		snprintf(err, errlen, "no token: run smmctl auth %s", ch->name);
		return -EACCES;
	}
	if ((r = check_post(v, err, errlen)) < 0)
		return r;
	if (st->state == NULL &&
	    (st->state = json_pack("{s:i, s:[], s:i}", "step", IG_QUOTA,
	                           "children", "polls", 0)) == NULL)
		goto nomem;
	if (graph_add_auth(token, &req->headers) < 0 ||
	    build_step(ic, v, st, req) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

/* Go on with step k; reason says what this one gave. */
static void next(struct pub_step *st, enum ig_step k, struct verdict *out,
                 const char *what, const char *arg)
{
	if (set_step(st, k) < 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	st->n++;
	out->kind = PUBLISH_NEXT;
	out->retry_after_ms = -1;
	snprintf(out->reason, sizeof(out->reason), "%s%s%.96s", what,
	         arg[0] ? " " : "", arg);
}

static void classify_quota(const struct delivery_view *v, struct pub_step *st,
                           json_t *doc, struct verdict *out)
{
	json_t *d = json_array_get(json_object_get(doc, "data"), 0);
	json_t *used = json_object_get(d, "quota_usage");
	json_t *total =
	        json_object_get(json_object_get(d, "config"), "quota_total");
	json_int_t cap = json_is_integer(total) ? json_integer_value(total)
	                                        : IG_QUOTA_DEFAULT;

	if (json_is_integer(used) && json_integer_value(used) >= cap) {
		out->kind = PUBLISH_RETRY;
		out->retry_after_ms = IG_QUOTA_WAIT_MS;
		snprintf(
		        out->reason, sizeof(out->reason),
		        "the daily publishing limit is used up (%" JSON_INTEGER_FORMAT
		        " of %" JSON_INTEGER_FORMAT
		        " posts in 24 h); asking again in an hour",
		        json_integer_value(used), cap);
		return;
	}
	next(st, json_array_size(v->media) > 1 ? IG_CHILD : IG_CONTAINER, out,
	     "publishing limit not reached", "");
}

/* A container or child was made: note its id. */
static void classify_made(const struct delivery_view *v, struct pub_step *st,
                          json_t *doc, struct verdict *out)
{
	json_t *kids = json_object_get(st->state, "children");
	char id[96];

	publisher_json_text(doc, "id", id, sizeof(id));
	if (!graph_id_ok(id)) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "no container id in the answer");
		return;
	}
	if (get_step(st) == IG_CHILD) {
		if (json_array_append_new(kids, json_string(id)) < 0)
			id[0] = '\0';
		else
			next(st,
			     json_array_size(kids) < json_array_size(v->media)
			             ? IG_CHILD
			             : IG_CONTAINER,
			     out, "carousel item", id);
	} else if (json_object_set_new(st->state, "container",
	                               json_string(id)) < 0 ||
	           json_object_set_new(st->state, "polls", json_integer(0)) < 0)
		id[0] = '\0';
	else
		next(st, IG_STATUS, out, "container", id);
	if (id[0] == '\0') {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
	}
}

static void classify_status(const struct instagram_conf *ic,
                            struct pub_step *st, json_t *doc,
                            struct verdict *out)
{
	const char *code =
	        json_string_value(json_object_get(doc, "status_code"));
	json_int_t polls =
	        json_integer_value(json_object_get(st->state, "polls")) + 1;
	char status[128];

	publisher_json_text(doc, "status", status, sizeof(status));
	if (code && strcmp(code, "FINISHED") == 0) {
		next(st, IG_PUBLISH, out, "container", code);
		return;
	}
	if (code && strcmp(code, "IN_PROGRESS") == 0 &&
	    polls * ic->poll_interval_ms <= ic->poll_timeout_ms) {
		json_object_set_new(st->state, "polls", json_integer(polls));
		next(st, IG_STATUS, out, "container", code);
		/* The dispatcher sends the next step after this pause. */
		out->retry_after_ms = ic->poll_interval_ms;
		return;
	}
	out->retry_after_ms = -1;
	/* EXPIRED or too slow: new containers on the next attempt. */
	out->kind = code && strcmp(code, "ERROR") == 0 ? PUBLISH_FAILED
	            : code && (strcmp(code, "EXPIRED") == 0 ||
	                       strcmp(code, "IN_PROGRESS") == 0)
	                    ? PUBLISH_RETRY
	                    : PUBLISH_FAILED;
	snprintf(out->reason, sizeof(out->reason),
	         "the media container is %s%s%s%s", code ? code : "(no status)",
	         code && strcmp(code, "IN_PROGRESS") == 0
	                 ? " after poll_timeout"
	                 : "",
	         status[0] ? ": " : "", status);
}

static void classify_published(struct pub_step *st, json_t *doc,
                               struct verdict *out)
{
	char id[96];

	publisher_json_text(doc, "id", id, sizeof(id));
	if (!graph_id_ok(id) ||
	    json_object_set_new(st->state, "media", json_string(id)) < 0) {
		/* Published all the same: never try it again. */
		out->kind = PUBLISH_OK;
		snprintf(out->remote_id, sizeof(out->remote_id), "%s", id);
		snprintf(out->reason, sizeof(out->reason),
		         "published; no usable media id in the answer");
		return;
	}
	next(st, IG_PERMALINK, out, "published as media", id);
	/* The post exists: whatever happens next, it is not sent again. */
	snprintf(out->remote_id, sizeof(out->remote_id), "%s", id);
}

/* The last step reads the post's URL; the post is out either way. */
static void classify_permalink(struct pub_step *st,
                               const struct http_result *res, int64_t now_ms,
                               struct verdict *out)
{
	json_t *doc = graph_ok(res) ? graph_body(res) : NULL;
	char why[sizeof(out->reason)];

	if (doc == NULL) {
		graph_judge(res, now_ms, "reading the permalink", out);
		snprintf(why, sizeof(why), "%s", out->reason);
	}
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	snprintf(out->remote_id, sizeof(out->remote_id), "%s",
	         note(st, "media"));
	publisher_json_text(doc, "permalink", out->remote_url,
	                    sizeof(out->remote_url));
	json_decref(doc);
	if (doc == NULL)
		snprintf(out->reason, sizeof(out->reason),
		         "published as media %.40s; %.180s", out->remote_id,
		         why);
	else
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld, media %s",
		         res->status, out->remote_id);
}

static const char *step_what(int k)
{
	static const char *const what[] = {
	        "checking the publishing limit", "creating a carousel item",
	        "creating the media container",  "checking the container",
	        "publishing the container",      "reading the permalink",
	};

	return k >= 0 && k <= IG_PERMALINK ? what[k] : "?";
}

static void instagram_classify(const struct channel *ch,
                               const struct delivery_view *v,
                               struct pub_step *st,
                               const struct http_result *res, int64_t now_ms,
                               struct verdict *out)
{
	const struct instagram_conf *ic = ch->pub_conf;
	int k = get_step(st);
	json_t *doc;

	if (k == IG_PERMALINK)
		classify_permalink(st, res, now_ms, out);
	else if (!graph_ok(res))
		graph_judge(res, now_ms, step_what(k), out);
	else {
		doc = graph_body(res);
		if (k == IG_QUOTA)
			classify_quota(v, st, doc, out);
		else if (k == IG_CHILD || k == IG_CONTAINER)
			classify_made(v, st, doc, out);
		else if (k == IG_STATUS)
			classify_status(ic, st, doc, out);
		else
			classify_published(st, doc, out);
		json_decref(doc);
		if (out->kind != PUBLISH_NEXT && out->kind != PUBLISH_OK)
			publisher_prefix_reason(out, step_what(k));
	}
	/* Only media_publish makes the post public. */
	out->repeatable = k != IG_PUBLISH;
	graph_scrub(ch, &ic->graph, out);
	pub_token_redact(ch, out->reason, NULL, ic->oauth.client_secret);
}

const struct publisher_ops pub_instagram = {
        .name = "instagram",
        .keys = "ig_user_id, token_file, graph_url, graph_version, "
                "refresh_url, poll_interval, poll_timeout, client_id, "
                "client_secret_file, scopes, authorize_url, token_url",
        .configure = instagram_configure,
        .check = instagram_check,
        .free_conf = instagram_free,
        .idempotent = instagram_idempotent,
        .build_request = instagram_build,
        .classify = instagram_classify,
        .engage = &instagram_engage,
        .text_rule = &instagram_text,
        .auth = &instagram_auth,
};
