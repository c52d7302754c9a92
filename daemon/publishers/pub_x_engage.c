/*
 * X's engagement (API v2): a post's public_metrics, read for up to 100
 * posts at once with GET /2/tweets?ids=...&tweet.fields=public_metrics
 * (https://docs.x.com/x-api/posts/get-posts-by-ids): like_count,
 * retweet_count, reply_count, quote_count and impression_count (views).
 * A deleted post comes back in "errors", not "data": it is not found.
 * The audience: GET /2/users/me?user.fields=public_metrics,
 * followers_count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_x.h"

/* X's ids are digits; anything else would change the URL. */
static int id_ok(const char *id)
{
	return id && id[0] && strspn(id, "0123456789") == strlen(id) &&
	       strlen(id) < 32;
}

static int x_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

static int get_request(const struct channel *ch, char *url,
                       struct http_request *req, char *err, size_t errlen)
{
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
	if (x_add_auth(ch, &req->headers) < 0) {
		snprintf(err, errlen, "no X access token: run smmctl auth %s",
		         ch->name);
		return -1;
	}
	return 0;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	char *url = NULL;
	size_t len = 0, k = 0;
	FILE *f = open_memstream(&url, &len);

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "%s/2/tweets?ids=", xc->api_url);
	for (size_t i = 0; i < n; i++)
		if (id_ok(it[i].remote_id))
			fprintf(f, "%s%s", k++ ? "%2C" : "", it[i].remote_id);
	fprintf(f, "&tweet.fields=public_metrics");
	if (fclose(f) != 0 || k == 0) {
		free(url);
		snprintf(err, errlen,
		         k == 0 ? "no X post id to read" : "out of memory");
		return -1;
	}
	return get_request(ch, url, req, err, errlen);
}

static int64_t count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

static void take_post(json_t *post, struct engage_item *it, size_t n)
{
	const char *id = json_string_value(json_object_get(post, "id"));
	json_t *m = json_object_get(post, "public_metrics");

	for (size_t i = 0; id && json_is_object(m) && i < n; i++) {
		if (it[i].remote_id == NULL || strcmp(it[i].remote_id, id) != 0)
			continue;
		it[i].got = (struct engagement){
		        .likes = count(m, "like_count"),
		        .shares = count(m, "retweet_count"),
		        .comments = count(m, "reply_count"),
		        .quotes = count(m, "quote_count"),
		        .views = count(m, "impression_count"),
		};
		it[i].found = 1;
	}
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *data = json_object_get(doc, "data"), *post;
	size_t i;

	(void)ch;
	/* Only deleted or hidden posts: "errors" alone, no "data". */
	if (!json_is_object(doc) ||
	    (data == NULL && json_object_get(doc, "errors") == NULL) ||
	    (data != NULL && !json_is_array(data))) {
		json_decref(doc);
		snprintf(err, errlen, "the answer is not a list of posts");
		return -1;
	}
	json_array_foreach (data, i, post)
		take_post(post, it, n);
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	char *url = NULL;

	if (asprintf(&url, "%s/2/users/me?user.fields=public_metrics",
	             xc->api_url) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return get_request(ch, url, req, err, errlen);
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);

	(void)ch;
	*followers = count(
	        json_object_get(json_object_get(doc, "data"), "public_metrics"),
	        "followers_count");
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the answer has no followers_count");
		return -1;
	}
	return 0;
}

const struct engage_ops x_engage = {
        .batch = 100,
        .needs_remote_id = publisher_always,
        .enabled = x_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
