/*
 * Instagram's engagement (Graph API v25.0 by default), one post a read:
 *   GET /{media-id}?fields=like_count,comments_count,
 *       insights.metric(views,shares)
 * like_count and comments_count from the media object
 * (https://developers.facebook.com/docs/instagram-platform/reference/instagram-media),
 * views and shares from its insights (.../instagram-media/insights; the
 * impressions metric is gone since v22.0). Instagram has no quotes (-1).
 * Insights may lag up to 48 hours; where Meta has none yet it answers an
 * empty set, and those figures stay -1. The audience is the account's
 * followers_count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_instagram.h"

static int instagram_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

static int get_request(const struct channel *ch, char *url,
                       struct http_request *req, char *err, size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;
	const char *token = graph_token(ch, &ic->graph);

	snprintf(req->method, sizeof(req->method), "GET");
	if ((req->url = url) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (token == NULL) {
		snprintf(err, errlen, "no token: run smmctl auth %s", ch->name);
		return -1;
	}
	if (graph_add_auth(token, &req->headers) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;

	(void)n;
	return get_request(ch,
	                   graph_endpoint(&ic->graph,
	                                  "%s?fields=like_count,comments_count,"
	                                  "insights.metric(views,shares)",
	                                  graph_id_ok(it[0].remote_id)
	                                          ? it[0].remote_id
	                                          : "0"),
	                   req, err, errlen);
}

static int64_t count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

/* An insights metric's lifetime value: values[0].value, or total_value. */
static int64_t metric(json_t *media, const char *name)
{
	json_t *data = json_object_get(json_object_get(media, "insights"),
	                               "data"),
	       *m;
	size_t i;

	json_array_foreach (data, i, m) {
		const char *nm = json_string_value(json_object_get(m, "name"));

		if (nm == NULL || strcmp(nm, name) != 0)
			continue;
		if (json_object_get(m, "total_value"))
			return count(json_object_get(m, "total_value"),
			             "value");
		return count(json_array_get(json_object_get(m, "values"), 0),
		             "value");
	}
	return -1;
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc = graph_body(res);
	const char *id = json_string_value(json_object_get(doc, "id"));

	(void)ch;
	if (!json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen, "the answer is not a JSON object");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		/* Meta answers with the id asked for; trust it if absent. */
		if (id && it[i].remote_id && strcmp(id, it[i].remote_id) != 0)
			continue;
		it[i].got = (struct engagement){
		        .likes = count(doc, "like_count"),
		        .comments = count(doc, "comments_count"),
		        .shares = metric(doc, "shares"),
		        .quotes = -1,
		        .views = metric(doc, "views"),
		};
		it[i].found = 1;
	}
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;

	return get_request(ch,
	                   graph_endpoint(&ic->graph,
	                                  "%s?fields=followers_count",
	                                  ic->ig_user_id),
	                   req, err, errlen);
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc = graph_body(res);

	(void)ch;
	*followers = count(doc, "followers_count");
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the account has no followers_count");
		return -1;
	}
	return 0;
}

const struct engage_ops instagram_engage = {
        .batch = 1,
        .needs_remote_id = publisher_always,
        .enabled = instagram_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
