/*
 * Mastodon's engagement (API as of Mastodon 4.3/4.5): a status's
 * favourites_count, reblogs_count, replies_count (2.5.0+) and quotes_count
 * (4.5.0+), read with the batch GET /api/v1/statuses?id[]=... (4.3.0+) up
 * to 20 at a time, or GET /api/v1/statuses/:id where the server answers
 * the batch with 404; the account's followers_count from
 * GET /api/v1/accounts/verify_credentials. Mastodon counts no views.
 * The token goes with every read: a private status needs it, and reads
 * then share the account's rate limit with posting, which engage.c
 * honours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_mastodon.h"

static int mastodon_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

/* Mastodon's ids are digits; anything else would break the URL. */
static int id_ok(const char *id)
{
	return id && id[0] && strspn(id, "0123456789") == strlen(id) &&
	       strlen(id) < 32;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	char *url = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&url, &len);

	if (f == NULL)
		goto nomem;
	if (n == 1)
		fprintf(f, "%s/api/v1/statuses/%s", mc->instance,
		        id_ok(it[0].remote_id) ? it[0].remote_id : "0");
	else {
		fprintf(f, "%s/api/v1/statuses", mc->instance);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%cid%%5B%%5D=%s", i ? '&' : '?',
			        id_ok(it[i].remote_id) ? it[i].remote_id : "0");
	}
	if (fclose(f) != 0)
		goto nomem;
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
	if (mastodon_add_auth(ch, &req->headers) < 0 ||
	    publisher_add_header(&req->headers, "Accept", "application/json") <
	            0) {
		snprintf(err, errlen, "cannot build the request");
		return -1;
	}
	return 0;
nomem:
	free(url);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int64_t count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

static void take_status(json_t *st, struct engage_item *it, size_t n)
{
	const char *id = json_string_value(json_object_get(st, "id"));

	for (size_t i = 0; id && i < n; i++) {
		if (it[i].remote_id == NULL || strcmp(it[i].remote_id, id) != 0)
			continue;
		it[i].got = (struct engagement){
		        .likes = count(st, "favourites_count"),
		        .shares = count(st, "reblogs_count"),
		        .comments = count(st, "replies_count"),
		        .quotes = count(st, "quotes_count"),
		        .views = -1,
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
	size_t i;
	json_t *st;

	(void)ch;
	if (json_is_object(doc))
		take_status(doc, it, n);
	else if (json_is_array(doc))
		json_array_foreach (doc, i, st)
			take_status(st, it, n);
	else {
		json_decref(doc);
		snprintf(err, errlen, "the answer is not a status");
		return -1;
	}
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	size_t len = strlen(mc->instance) + 64;

	snprintf(req->method, sizeof(req->method), "GET");
	if ((req->url = malloc(len)) == NULL ||
	    mastodon_add_auth(ch, &req->headers) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(req->url, len, "%s/api/v1/accounts/verify_credentials",
	         mc->instance);
	return 0;
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);

	(void)ch;
	*followers = count(doc, "followers_count");
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the account has no followers_count");
		return -1;
	}
	return 0;
}

const struct engage_ops mastodon_engage = {
        .batch = 20,
        .needs_remote_id = publisher_always,
        .enabled = mastodon_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
