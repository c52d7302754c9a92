/*
 * Renewing an Instagram-Login long-lived token before its 60 days are up:
 *   GET https://graph.instagram.com/refresh_access_token
 *       ?grant_type=ig_refresh_token&access_token=TOKEN
 * answers {"access_token", "token_type": "bearer", "expires_in": seconds}
 * (https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token).
 * The token must be at least 24 hours old and not expired; there is no
 * separate refresh token. A first token comes from Meta's dashboard or
 * login flow into token_file: smmd has no browser authorization for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_instagram.h"

static int refresh_request(const struct channel *ch,
                           const struct auth_tokens *cur,
                           struct http_request *req, char *err, size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;
	const char *token = cur && cur->access && cur->access[0]
	                            ? cur->access
	                            : (const char *)ic->graph.token;
	char *esc;

	if (token == NULL || token[0] == '\0') {
		snprintf(err, errlen, "no token to renew: set token_file");
		return -1;
	}
	if ((esc = curl_easy_escape(NULL, token, 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "GET");
	/* The documented request carries the token in the query. */
	if (asprintf(&req->url,
	             "%s/refresh_access_token?grant_type=ig_refresh_token&"
	             "access_token=%s",
	             ic->refresh_url ? ic->refresh_url
	                             : INSTAGRAM_REFRESH_URL_DEFAULT,
	             esc) < 0) {
		req->url = NULL;
		curl_free(esc);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_free(esc);
	return 0;
}

static int token_parse(const struct channel *ch, const struct http_result *res,
                       int64_t now_ms, struct auth_tokens *out, char *err,
                       size_t errlen)
{
	json_t *doc = graph_body(res);
	const char *access =
	        json_string_value(json_object_get(doc, "access_token"));
	json_t *expires = json_object_get(doc, "expires_in");
	char *copy;

	(void)ch;
	if (access == NULL || access[0] == '\0' || strlen(access) > 1024 ||
	    strpbrk(access, " \r\n") != NULL) {
		json_decref(doc);
		snprintf(err, errlen,
		         "the answer holds no usable access_token");
		return -1;
	}
	if ((copy = strdup(access)) == NULL) {
		json_decref(doc);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(out->access);
	out->access = copy;
	out->access_expires_ms =
	        json_is_integer(expires) && json_integer_value(expires) > 0
	                ? now_ms + json_integer_value(expires) * 1000
	                : -1;
	json_decref(doc);
	return 0;
}

const struct auth_ops instagram_auth = {
        .refresh_request = refresh_request,
        .token_parse = token_parse,
        /* Past the 7 days that put a channel in needs_auth. */
        .refresh_ahead_ms = 14LL * 24 * 60 * 60 * 1000,
};
