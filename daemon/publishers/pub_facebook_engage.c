/*
 * Facebook's engagement (Graph API v25.0 by default): up to 50 posts read
 * at once with the multiple-ids lookup
 *   GET /?ids=ID1,ID2&fields=reactions.limit(0).summary(true),
 *       comments.limit(0).summary(true),shares
 * (https://developers.facebook.com/docs/graph-api/reference/post), which
 * answers {"ID1": {...}, "ID2": {...}}: reactions' and comments'
 * summary.total_count, and shares.count (absent when nobody shared: 0).
 * Views need the read_insights permission and a Page insights query:
 * not read (-1). The audience is the Page's followers_count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_facebook.h"

#define FB_FIELDS                                                           \
	"reactions.limit(0).summary(true),comments.limit(0).summary(true)," \
	"shares"

static int facebook_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

static int get_request(const struct channel *ch, char *url,
                       struct http_request *req, char *err, size_t errlen)
{
	const struct facebook_conf *fc = ch->pub_conf;
	const char *token = graph_token(ch, &fc->graph);

	if (url == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
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
	const struct facebook_conf *fc = ch->pub_conf;
	char *ids = NULL, *url;
	size_t len = 0;
	FILE *f = open_memstream(&ids, &len);

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "",
		        graph_id_ok(it[i].remote_id) ? it[i].remote_id : "0");
	if (fclose(f) != 0) {
		free(ids);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	url = graph_endpoint(&fc->graph, "?ids=%s&fields=" FB_FIELDS, ids);
	free(ids);
	return get_request(ch, url, req, err, errlen);
}

/* summary.total_count of an edge, or -1. */
static int64_t edge_total(json_t *post, const char *edge)
{
	json_t *v = json_object_get(
	        json_object_get(json_object_get(post, edge), "summary"),
	        "total_count");

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc = graph_body(res), *post, *shares;

	(void)ch;
	if (!json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen, "the answer is not a JSON object");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (it[i].remote_id == NULL ||
		    !json_is_object(
		            post = json_object_get(doc, it[i].remote_id)))
			continue;
		shares = json_object_get(json_object_get(post, "shares"),
		                         "count");
		it[i].got = (struct engagement){
		        .likes = edge_total(post, "reactions"),
		        .comments = edge_total(post, "comments"),
		        /* Meta leaves "shares" out until someone shares. */
		        .shares = json_is_integer(shares)
		                          ? json_integer_value(shares)
		                          : 0,
		        .quotes = -1,
		        .views = -1,
		};
		it[i].found = 1;
	}
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct facebook_conf *fc = ch->pub_conf;

	return get_request(ch,
	                   graph_endpoint(&fc->graph,
	                                  "%s?fields=followers_count",
	                                  fc->page_id),
	                   req, err, errlen);
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc = graph_body(res),
	       *v = json_object_get(doc, "followers_count");

	(void)ch;
	*followers = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the Page has no followers_count");
		return -1;
	}
	return 0;
}

const struct engage_ops facebook_engage = {
        .batch = 50,
        .needs_remote_id = publisher_always,
        .enabled = facebook_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
