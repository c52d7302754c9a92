/*
 * Bluesky's engagement (lexicons as of 2025,
 * https://docs.bsky.app/docs/api/app-bsky-feed-get-posts and
 * .../app-bsky-actor-get-profile): app.bsky.feed.getPosts?uris=... reads
 * up to 25 posts at once, each with likeCount, repostCount, replyCount
 * and quoteCount; app.bsky.actor.getProfile?actor=DID gives the account's
 * followersCount. Bluesky counts no views. The PDS answers app.bsky.*
 * reads for the signed-in account (it asks the AppView on its behalf), so
 * they go with the session's access token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_bluesky.h"
#include "pub_form.h"

#define GETPOSTS_MAX 25 /* app.bsky.feed.getPosts uris maxLength */

static int bluesky_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

/* A GET of SERVICE/xrpc/METHOD?NAME=v1&NAME=v2..., with the session. */
static int xrpc_get(const struct channel *ch, const char *method,
                    const char *name, const char *const *values, size_t n,
                    struct http_request *req, char *err, size_t errlen)
{
	const struct bluesky_conf *bc = ch->pub_conf;
	const char *access, *did;
	char *url = NULL;
	size_t len = 0;
	FILE *f;

	if (bluesky_session(ch, &access, &did) < 0) {
		snprintf(err, errlen, "no Bluesky session yet");
		return -1;
	}
	if ((f = open_memstream(&url, &len)) == NULL)
		goto nomem;
	fprintf(f, "%s/xrpc/%s", bc->service, method);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%c%s=", i ? '&' : '?', name);
		pub_form_escape(f, values[i] ? values[i] : did);
	}
	if (fclose(f) != 0)
		goto nomem;
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
	if (bluesky_add_bearer(&req->headers, access) < 0 ||
	    publisher_add_header(&req->headers, "Accept", "application/json") <
	            0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
nomem:
	free(url);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	const char *uris[GETPOSTS_MAX];

	if (n > GETPOSTS_MAX)
		n = GETPOSTS_MAX;
	for (size_t i = 0; i < n; i++) {
		/* Only at:// URIs of ours; anything else reads nothing. */
		if (it[i].remote_id == NULL ||
		    strncmp(it[i].remote_id, "at://", 5) != 0) {
			snprintf(err, errlen, "'%.80s' is no at:// post URI",
			         it[i].remote_id ? it[i].remote_id : "");
			return -1;
		}
		uris[i] = it[i].remote_id;
	}
	return xrpc_get(ch, "app.bsky.feed.getPosts", "uris", uris, n, req, err,
	                errlen);
}

static int64_t count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *posts = json_object_get(doc, "posts"), *p;
	size_t k;

	if (!json_is_array(posts)) {
		json_decref(doc);
		snprintf(err, errlen, "the answer has no posts");
		return -1;
	}
	/* A deleted post is left out of the answer: not found. */
	json_array_foreach (posts, k, p) {
		const char *uri = json_string_value(json_object_get(p, "uri"));

		for (size_t i = 0; uri && i < n; i++) {
			if (it[i].remote_id == NULL ||
			    strcmp(it[i].remote_id, uri) != 0)
				continue;
			it[i].got = (struct engagement){
			        .likes = count(p, "likeCount"),
			        .shares = count(p, "repostCount"),
			        .comments = count(p, "replyCount"),
			        .quotes = count(p, "quoteCount"),
			        .views = -1,
			};
			it[i].found = 1;
		}
	}
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const char *self[1] = {NULL}; /* NULL: the session's DID */

	return xrpc_get(ch, "app.bsky.actor.getProfile", "actor", self, 1, req,
	                err, errlen);
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);

	*followers = count(doc, "followersCount");
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the profile has no followersCount");
		return -1;
	}
	return 0;
}

const struct engage_ops bluesky_engage = {
        .batch = GETPOSTS_MAX,
        .needs_remote_id = publisher_always,
        .enabled = bluesky_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
