/*
 * Instagram-Login tokens (Business Login for Instagram):
 * https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
 *
 *  1. smmctl auth prints https://www.instagram.com/oauth/authorize with
 *     client_id, redirect_uri, response_type=code and the scopes
 *     (instagram_business_basic,instagram_business_content_publish).
 *  2. The code goes to POST https://api.instagram.com/oauth/access_token
 *     (client_id, client_secret, grant_type=authorization_code,
 *     redirect_uri, code): a short-lived token, good for an hour, as
 *     {"access_token", "user_id"} or {"data": [{...}]}.
 *  3. At once that is exchanged for a long-lived one (60 days):
 *     GET https://graph.instagram.com/access_token
 *         ?grant_type=ig_exchange_token&client_secret=...&access_token=...
 *  4. Which is renewed before it expires:
 *     GET https://graph.instagram.com/refresh_access_token
 *         ?grant_type=ig_refresh_token&access_token=...
 *     (at least 24 hours old, not expired).
 * Steps 3 and 4 answer {"access_token", "token_type", "expires_in"}.
 * Whether the token in hand is still the short-lived one is noted in the
 * tokens' extra as {"ig_short": true}: auth.c renews it at once (its hour
 * is inside refresh_ahead_ms), and the renewal is then the exchange.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_instagram.h"

#define IG_AUTHORIZE_URL "https://www.instagram.com/oauth/authorize"
#define IG_CODE_URL      "https://api.instagram.com/oauth/access_token"
#define IG_SCOPES        "instagram_business_basic,instagram_business_content_publish"
/* A short-lived token's life, as Meta documents it. */
#define IG_SHORT_LIFE_MS (60 * 60 * 1000)

static int authorize_url(const struct channel *ch, const char *redirect_uri,
                         const char *challenge, const char *state, char *out,
                         size_t cap)
{
	const struct instagram_conf *ic = ch->pub_conf;

	if (ic->oauth.client_id == NULL)
		return -1;
	return oauth_authorize_url(&ic->oauth, IG_AUTHORIZE_URL, IG_SCOPES,
	                           redirect_uri, challenge, state, out, cap);
}

static int exchange_request(const struct channel *ch, const char *code,
                            const char *verifier, const char *redirect_uri,
                            struct http_request *req, char *err, size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;

	if (ic->oauth.client_id == NULL || ic->oauth.client_secret == NULL) {
		snprintf(err, errlen,
		         "channel '%s' needs client_id and client_secret_file "
		         "for smmctl auth",
		         ch->name);
		return -1;
	}
	return oauth_code_request(&ic->oauth, IG_CODE_URL, code, verifier,
	                          redirect_uri, req, err, errlen);
}

static int short_lived(const struct auth_tokens *t)
{
	return t && json_is_true(json_object_get(t->extra, "ig_short"));
}

/* "&name=escaped(value)" onto *url. 0 or -1. */
static int add_query(char **url, const char *name, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0), *grown = NULL;
	int n;

	if (esc == NULL)
		return -1;
	n = asprintf(&grown, "%s&%s=%s", *url, name, esc);
	curl_free(esc);
	if (n < 0)
		return -1;
	free(*url);
	*url = grown;
	return 0;
}

static int refresh_request(const struct channel *ch,
                           const struct auth_tokens *cur,
                           struct http_request *req, char *err, size_t errlen)
{
	const struct instagram_conf *ic = ch->pub_conf;
	const char *token = cur && cur->access && cur->access[0]
	                            ? cur->access
	                            : (const char *)ic->graph.token;
	const char *base = ic->refresh_url ? ic->refresh_url
	                                   : INSTAGRAM_REFRESH_URL_DEFAULT;
	int exchange = short_lived(cur);
	char *url = NULL;

	if (token == NULL || token[0] == '\0') {
		snprintf(err, errlen, "no token to renew: run smmctl auth %s",
		         ch->name);
		return -1;
	}
	if (exchange && ic->oauth.client_secret == NULL) {
		snprintf(err, errlen,
		         "a short-lived token needs client_secret_file to "
		         "become a long-lived one");
		return -1;
	}
	if (asprintf(&url, "%s/%s?grant_type=%s", base,
	             exchange ? "access_token" : "refresh_access_token",
	             exchange ? "ig_exchange_token" : "ig_refresh_token") < 0)
		url = NULL;
	/* As documented, the secret and the token travel in the query. */
	if (url == NULL ||
	    (exchange &&
	     add_query(&url, "client_secret",
	               (const char *)ic->oauth.client_secret) < 0) ||
	    add_query(&url, "access_token", token) < 0) {
		free(url);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "GET");
	req->url = url;
	return 0;
}

/* Note in t's extra whether its access token is the short-lived one. */
static int mark_short(struct auth_tokens *t, int is_short)
{
	if (t->extra == NULL && (t->extra = json_object()) == NULL)
		return -1;
	return json_object_set_new(t->extra, "ig_short",
	                           json_boolean(is_short));
}

static int token_parse(const struct channel *ch, const struct http_result *res,
                       int64_t now_ms, struct auth_tokens *out, char *err,
                       size_t errlen)
{
	json_t *doc = graph_body(res), *o = doc, *expires;
	const char *access;
	char *copy;
	int ret = -1;

	(void)ch;
	/* The code exchange may wrap its answer in "data": [...]. */
	if (json_is_array(json_object_get(doc, "data")))
		o = json_array_get(json_object_get(doc, "data"), 0);
	access = json_string_value(json_object_get(o, "access_token"));
	expires = json_object_get(o, "expires_in");
	if (access == NULL || access[0] == '\0' || strlen(access) > 1024 ||
	    strpbrk(access, " \r\n") != NULL)
		snprintf(err, errlen,
		         "the answer holds no usable access_token");
	else if ((copy = strdup(access)) == NULL ||
	         mark_short(out, !json_is_integer(expires)) < 0) {
		free(copy);
		snprintf(err, errlen, "out of memory");
	} else {
		if (out->access) {
			explicit_bzero(out->access, strlen(out->access));
			free(out->access);
		}
		out->access = copy;
		out->access_expires_ms =
		        json_is_integer(expires)
		                ? now_ms + json_integer_value(expires) * 1000
		                : now_ms + IG_SHORT_LIFE_MS;
		ret = 0;
	}
	json_decref(doc);
	return ret;
}

/* Only a channel that names the Instagram app: a token_file is static. */
static int oauth_used(const struct channel *ch)
{
	const struct instagram_conf *ic = ch->pub_conf;

	return ic != NULL && ic->oauth.client_id != NULL;
}

const struct auth_ops instagram_auth = {
        .used = oauth_used,
        .authorize_url = authorize_url,
        .exchange_request = exchange_request,
        .refresh_request = refresh_request,
        .token_parse = token_parse,
        /* Past the 7 days that put a channel in needs_auth. */
        .refresh_ahead_ms = 14LL * 24 * 60 * 60 * 1000,
};
