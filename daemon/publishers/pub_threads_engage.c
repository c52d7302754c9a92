/*
 * Threads insights (https://developers.facebook.com/docs/threads/insights):
 * GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes
 * answers {"data": [{"name": "likes", "period": "lifetime", "values":
 * [{"value": N}], ...}, ...]}, one post per request; the audience is
 * GET /{threads-user-id}/threads_insights?metric=followers_count, whose
 * figure comes as "total_value": {"value": N}. Both need the
 * threads_manage_insights permission.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_threads.h"

static int threads_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

static int get_request(const struct channel *ch, char *url,
                       struct http_request *req, char *err, size_t errlen)
{
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
	if (url == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (threads_add_auth(ch, &req->headers) < 0) {
		snprintf(err, errlen,
		         "no Threads access token: run smmctl auth %s",
		         ch->name);
		return -1;
	}
	return 0;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	const char *id = it[0].remote_id;
	char *url = NULL;

	(void)n;
	/* It goes into the URL path: digits only. */
	if (id == NULL || id[0] == '\0' ||
	    strspn(id, "0123456789") != strlen(id) || strlen(id) > 32) {
		snprintf(err, errlen, "no Threads media id to read");
		return -1;
	}
	if (asprintf(&url,
	             "%s/%s/insights?metric=views%%2Clikes%%2Creplies"
	             "%%2Creposts%%2Cquotes",
	             tc->base, id) < 0)
		url = NULL;
	return get_request(ch, url, req, err, errlen);
}

/* A metric's figure: values[0].value or total_value.value; -1: none. */
static int64_t metric(json_t *data, const char *name)
{
	size_t i;
	json_t *m, *v;

	json_array_foreach (data, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "name"))
		                   ? json_string_value(
		                             json_object_get(m, "name"))
		                   : "",
		           name) != 0)
			continue;
		v = json_object_get(
		        json_array_get(json_object_get(m, "values"), 0),
		        "value");
		if (v == NULL)
			v = json_object_get(json_object_get(m, "total_value"),
			                    "value");
		return json_is_integer(v) && json_integer_value(v) >= 0
		               ? json_integer_value(v)
		               : -1;
	}
	return -1;
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *data = json_object_get(doc, "data");

	(void)ch;
	(void)n;
	if (!json_is_array(data)) {
		json_decref(doc);
		snprintf(err, errlen, "the answer has no insights data");
		return -1;
	}
	it[0].got = (struct engagement){
	        .likes = metric(data, "likes"),
	        .shares = metric(data, "reposts"),
	        .comments = metric(data, "replies"),
	        .quotes = metric(data, "quotes"),
	        .views = metric(data, "views"),
	};
	/* A repost of someone else's post answers an empty list. */
	it[0].found = json_array_size(data) > 0;
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	char *url = NULL;

	if (asprintf(&url, "%s/%s/threads_insights?metric=followers_count",
	             tc->base, tc->user_id) < 0)
		url = NULL;
	return get_request(ch, url, req, err, errlen);
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);

	(void)ch;
	*followers = metric(json_object_get(doc, "data"), "followers_count");
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the answer has no followers_count");
		return -1;
	}
	return 0;
}

const struct engage_ops threads_engage = {
        .batch = 1,
        .needs_remote_id = publisher_always,
        .enabled = threads_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
