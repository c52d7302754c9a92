/*
 * Facebook: a post on a Page's feed through the Graph API (v25.0 by
 * default, graph_version), with a Page access token:
 *   https://developers.facebook.com/docs/pages-api/posts
 *   https://developers.facebook.com/docs/graph-api/reference/page/photos
 *
 * - Text (and link): POST /{page-id}/feed with message and link.
 * - One image: POST /{page-id}/photos with url (Meta fetches it, so it
 *   must be public) or, for a plain file name under media_dir, the bytes
 *   as the multipart part "source"; the caption is the message.
 * - Several: each image is uploaded with published=false, then
 *   POST /{page-id}/feed names them in attached_media[i]={"media_fbid"}.
 * The post's id is "PAGEID_POSTID" (post_id for a photo), its page
 * https://www.facebook.com/PAGEID_POSTID. The Graph API drops no repeat:
 * not idempotent, so no step is ever sent twice blindly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "pub_facebook.h"
#include "pub_media.h"

/* smmd's own cap on images in one post: each is a request. */
#define FACEBOOK_MAX_MEDIA 10

/* Meta's limit on a post's text (characters). */
static const struct text_rule facebook_text = {
        .unit = "characters",
        .limit = 63206,
};

static int facebook_configure(struct conf_ctx *p, struct channel *ch,
                              const char *key, struct conf_node *v)
{
	struct facebook_conf *fc = ch->pub_conf;
	const char *s;

	if (fc == NULL && (fc = ch->pub_conf = calloc(1, sizeof(*fc))) == NULL)
		return 0;
	if (graph_configure(p, &fc->graph, key, v))
		return 1;
	if (strcmp(key, "page_id") != 0)
		return 0;
	if ((s = conf_scalar(v)) == NULL || !graph_id_ok(s) ||
	    strchr(s, '_') != NULL)
		conf_error(p, v, "'page_id' must be the Page's numeric id");
	else
		conf_string(p, v, key, &fc->page_id);
	return 1;
}

static void facebook_check(struct conf_ctx *p, struct channel *ch,
                           struct conf_node *node)
{
	struct facebook_conf *fc = ch->pub_conf;

	if (fc == NULL || fc->page_id == NULL)
		conf_error(p, node,
		           "channel '%s' has no 'page_id' (the Facebook Page's "
		           "numeric id)",
		           ch->name);
	if (fc == NULL || !fc->graph.token_given)
		conf_error(p, node,
		           "channel '%s' has no 'token_file' (a file holding "
		           "the Page access token)",
		           ch->name);
}

static void facebook_free(struct channel *ch)
{
	struct facebook_conf *fc = ch->pub_conf;

	if (fc == NULL)
		return;
	graph_conf_free(&fc->graph);
	free(fc->page_id);
	free(fc);
	ch->pub_conf = NULL;
}

static int facebook_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

/* Which request of the attempt this is, as noted in st->state. */
enum fb_step { FB_FEED, FB_PHOTO, FB_UNPUBLISHED };

static json_t *photo_ids(const struct pub_step *st)
{
	return json_object_get(st->state, "ids");
}

static enum fb_step get_step(const struct pub_step *st)
{
	return (enum fb_step)json_integer_value(
	        json_object_get(st->state, "step"));
}

/* The message: the text, and the link where no link field carries it. */
static int add_message(char **body, size_t *len, const struct delivery_view *v,
                       int link_apart)
{
	char *msg = NULL;
	int r;

	if (v->link && !link_apart &&
	    asprintf(&msg, "%s\n\n%s", v->text, v->link) < 0)
		return -1;
	r = graph_form_add(body, len, "message", msg ? msg : v->text);
	free(msg);
	return r;
}

static int build_feed(const struct channel *ch, const struct delivery_view *v,
                      const struct pub_step *st, struct http_request *req)
{
	const struct facebook_conf *fc = ch->pub_conf;
	json_t *ids = photo_ids(st), *id, *o;
	size_t len = 0, i;
	char key[48], *media;
	int r = add_message(&req->body, &len, v, ids == NULL);

	/* With photos attached Meta shows them, not a link preview. */
	if (r == 0 && ids == NULL && v->link)
		r = graph_form_add(&req->body, &len, "link", v->link);
	json_array_foreach (ids, i, id) {
		if (r < 0)
			break;
		snprintf(key, sizeof(key), "attached_media[%zu]", i);
		o = json_pack("{s:O}", "media_fbid", id);
		media = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (media == NULL)
			return -1;
		r = graph_form_add(&req->body, &len, key, media);
		free(media);
	}
	req->body_len = len;
	if (r < 0 || (req->url = graph_endpoint(&fc->graph, "%s/feed",
	                                        fc->page_id)) == NULL)
		return -1;
	return publisher_add_header(&req->headers, "Content-Type",
	                            "application/x-www-form-urlencoded");
}

/*
 * One image to /photos: a URL Meta fetches (form body), or a file from
 * media_dir sent as "source" (multipart; the other fields in the query).
 */
static int build_photo(const struct channel *ch, const struct delivery_view *v,
                       struct pub_step *st, const char *item, int published,
                       struct http_request *req, char *err, size_t errlen)
{
	const struct facebook_conf *fc = ch->pub_conf;
	char *form = NULL;
	size_t len = 0;
	int r = published ? add_message(&form, &len, v, 0)
	                  : graph_form_add(&form, &len, "published", "false");

	if (r == 0 && url_is_http(item))
		r = graph_form_add(&form, &len, "url", item);
	if (r < 0)
		goto nomem;
	if (url_is_http(item)) {
		req->body = form;
		req->body_len = len;
		if ((req->url = graph_endpoint(&fc->graph, "%s/photos",
		                               fc->page_id)) == NULL ||
		    publisher_add_header(&req->headers, "Content-Type",
		                         "application/x-www-form-urlencoded") <
		            0)
			goto nomem;
		return 0;
	}
	if ((r = pub_media_load_file(ch, item, st, err, errlen)) < 0 ||
	    (r = pub_media_multipart(st, "source", item, req, err, errlen)) <
	            0) {
		free(form);
		return r;
	}
	req->url =
	        graph_endpoint(&fc->graph, "%s/photos?%s", fc->page_id, form);
	free(form);
	form = NULL;
	if (req->url == NULL)
		goto nomem;
	return 0;
nomem:
	free(form);
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int set_step(struct pub_step *st, enum fb_step k)
{
	return json_object_set_new(st->state, "step", json_integer(k));
}

static int facebook_build(const struct channel *ch,
                          const struct delivery_view *v, struct pub_step *st,
                          int64_t now_ms, struct http_request *req, char *err,
                          size_t errlen)
{
	const struct facebook_conf *fc = ch->pub_conf;
	size_t nmedia = json_array_size(v->media), done;
	const char *token = graph_token(ch, &fc->graph), *item;

	(void)now_ms;
	if (token == NULL) {
		snprintf(err, errlen, "no token: run smmctl auth %s", ch->name);
		return -EACCES;
	}
	if (nmedia > FACEBOOK_MAX_MEDIA) {
		snprintf(
		        err, errlen,
		        "smmd posts at most %d images to Facebook at once; the "
		        "post has %zu",
		        FACEBOOK_MAX_MEDIA, nmedia);
		return -1;
	}
	if (st->state == NULL && (st->state = json_object()) == NULL)
		goto nomem;
	if (graph_add_auth(token, &req->headers) < 0)
		goto nomem;
	if (nmedia == 0) {
		if (set_step(st, FB_FEED) < 0 || build_feed(ch, v, st, req) < 0)
			goto nomem;
		return 0;
	}
	if (photo_ids(st) == NULL &&
	    json_object_set_new(st->state, "ids", json_array()) < 0)
		goto nomem;
	done = json_array_size(photo_ids(st));
	if (nmedia > 1 && done == nmedia) {
		if (set_step(st, FB_FEED) < 0 || build_feed(ch, v, st, req) < 0)
			goto nomem;
		return 0;
	}
	if ((item = json_string_value(json_array_get(v->media, done))) ==
	    NULL) {
		snprintf(err, errlen, "media %zu is not a string", done + 1);
		return -1;
	}
	if (set_step(st, nmedia == 1 ? FB_PHOTO : FB_UNPUBLISHED) < 0)
		goto nomem;
	return build_photo(ch, v, st, item, nmedia == 1, req, err, errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

/* Published: the post's id and page. */
static void published(json_t *doc, const char *key, long status,
                      struct verdict *out)
{
	publisher_json_text(doc, key, out->remote_id, sizeof(out->remote_id));
	if (out->remote_id[0] == '\0')
		publisher_json_text(doc, "id", out->remote_id,
		                    sizeof(out->remote_id));
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	if (graph_id_ok(out->remote_id))
		snprintf(out->remote_url, sizeof(out->remote_url),
		         "https://www.facebook.com/%s", out->remote_id);
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, post %s", status,
	         out->remote_id[0] ? out->remote_id : "(no id given)");
}

static void classify_step(const struct delivery_view *v, struct pub_step *st,
                          const struct http_result *res, int64_t now_ms,
                          struct verdict *out)
{
	enum fb_step k = get_step(st);
	size_t i = json_array_size(photo_ids(st));
	char what[64], id[128];
	json_t *doc;

	if (k == FB_FEED)
		snprintf(what, sizeof(what), "posting to the Page");
	else
		snprintf(what, sizeof(what), "uploading image %zu of %zu",
		         i + 1, json_array_size(v->media));
	if (!graph_ok(res)) {
		graph_judge(res, now_ms, what, out);
		return;
	}
	doc = graph_body(res);
	if (k != FB_UNPUBLISHED) {
		published(doc, k == FB_PHOTO ? "post_id" : "id", res->status,
		          out);
		json_decref(doc);
		return;
	}
	publisher_json_text(doc, "id", id, sizeof(id));
	json_decref(doc);
	if (!graph_id_ok(id)) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld without a photo id", res->status);
		publisher_prefix_reason(out, what);
		return;
	}
	if (json_array_append_new(photo_ids(st), json_string(id)) < 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, photo %s",
	         res->status, id);
}

static void facebook_classify(const struct channel *ch,
                              const struct delivery_view *v,
                              struct pub_step *st,
                              const struct http_result *res, int64_t now_ms,
                              struct verdict *out)
{
	const struct facebook_conf *fc = ch->pub_conf;

	classify_step(v, st, res, now_ms, out);
	/* A photo uploaded with published=false is on no feed yet. */
	out->repeatable = get_step(st) == FB_UNPUBLISHED;
	graph_scrub(ch, &fc->graph, out);
}

const struct publisher_ops pub_facebook = {
        .name = "facebook",
        .keys = "page_id, token_file, graph_url, graph_version",
        .configure = facebook_configure,
        .check = facebook_check,
        .free_conf = facebook_free,
        .idempotent = facebook_idempotent,
        .build_request = facebook_build,
        .classify = facebook_classify,
        .engage = &facebook_engage,
        .text_rule = &facebook_text,
};
