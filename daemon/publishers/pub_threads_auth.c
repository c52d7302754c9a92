/*
 * Threads' tokens (https://developers.facebook.com/docs/threads/get-started/
 * get-access-tokens-and-permissions and .../long-lived-tokens):
 *   1. A person opens https://threads.net/oauth/authorize?client_id=
 *      &redirect_uri=&scope=&response_type=code&state= (Threads documents
 *      no PKCE: the app secret protects the exchange; the verifier smmctl
 *      makes is not sent).
 *   2. POST /oauth/access_token (client_id, client_secret, code,
 *      grant_type=authorization_code, redirect_uri) answers a SHORT-LIVED
 *      token, {"access_token", "user_id"}, good for one hour.
 *   3. GET /access_token?grant_type=th_exchange_token&client_secret=
 *      &access_token= turns it into a LONG-LIVED one, {"access_token",
 *      "token_type", "expires_in"} (60 days).
 *   4. GET /refresh_access_token?grant_type=th_refresh_token
 *      &access_token= renews a long-lived token at least a day old for
 *      another 60 days.
 * auth_ops has one exchange request, so step 3 is the first "refresh":
 * token_parse marks a token without a long life as short-lived (in
 * extra), gives it its hour, and refresh_request makes the th_exchange_token
 * request for it, which is due at once (refresh_ahead_ms is longer than
 * an hour). There is no refresh token: the access token renews itself.
 * Steps 3 and 4 carry the token (and step 3 the app secret) in the query
 * string, as documented: whoever logs these requests must not log URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "pub_oauth.h"
#include "pub_threads.h"

/* Renew ten days ahead: before the seven-day warning of a dying token. */
#define THREADS_REFRESH_AHEAD_MS (10LL * 86400 * 1000)
/* A token said to live less than a day is a short-lived one. */
#define THREADS_LONG_LIVED_S 86400
#define THREADS_SHORT_MS     (3600LL * 1000)

/* The authorization window: Threads documents no PKCE, so none is sent. */
static int threads_authorize_url(const struct channel *ch,
                                 const char *redirect_uri,
                                 const char *challenge, const char *state,
                                 char *out, size_t cap)
{
	const struct threads_conf *tc = ch->pub_conf;
	const struct oauth_client *c = &tc->oauth;
	char *url;
	int ok;

	(void)challenge;
	if (c->client_id == NULL || redirect_uri == NULL)
		return -1;
	if ((url = strdup(c->authorize_url ? c->authorize_url
	                                   : THREADS_AUTHORIZE_URL)) == NULL)
		return -1;
	ok = threads_query_add(&url, "client_id", c->client_id) == 0 &&
	     threads_query_add(&url, "redirect_uri", redirect_uri) == 0 &&
	     threads_query_add(&url, "scope",
	                       c->scopes ? c->scopes : THREADS_SCOPES) == 0 &&
	     threads_query_add(&url, "response_type", "code") == 0 &&
	     threads_query_add(&url, "state", state) == 0 && strlen(url) < cap;
	if (ok)
		memcpy(out, url, strlen(url) + 1);
	free(url);
	return ok ? 0 : -1;
}

static int need_app(const struct channel *ch, char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;

	if (tc->oauth.client_id && tc->oauth.client_secret)
		return 0;
	snprintf(err, errlen,
	         "channel '%s' needs client_id and client_secret_file for "
	         "Threads tokens",
	         ch->name);
	return -1;
}

/* Wipe and free a string that held a secret. */
static void wipe(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* The documented form, with the app secret in it (no code_verifier). */
static int threads_exchange_request(const struct channel *ch, const char *code,
                                    const char *verifier,
                                    const char *redirect_uri,
                                    struct http_request *req, char *err,
                                    size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	char *body = NULL;

	(void)verifier;
	if (need_app(ch, err, errlen) < 0)
		return -1;
	if (threads_form_add(&body, "client_id", tc->oauth.client_id) < 0 ||
	    threads_form_add(&body, "client_secret",
	                     (const char *)tc->oauth.client_secret) < 0 ||
	    threads_form_add(&body, "code", code) < 0 ||
	    threads_form_add(&body, "grant_type", "authorization_code") < 0 ||
	    threads_form_add(&body, "redirect_uri", redirect_uri) < 0 ||
	    asprintf(&req->url, "%s/oauth/access_token", tc->api_url) < 0) {
		req->url = NULL;
		wipe(body);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "POST");
	req->body = body;
	req->body_len = strlen(body);
	req->once = 1; /* a code works once */
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/x-www-form-urlencoded") < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int short_lived(const struct auth_tokens *t)
{
	return t->extra &&
	       json_is_true(json_object_get(t->extra, "short_lived"));
}

static int threads_refresh_request(const struct channel *ch,
                                   const struct auth_tokens *cur,
                                   struct http_request *req, char *err,
                                   size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	int exchange = cur && short_lived(cur), bad;

	if (cur == NULL || cur->access == NULL || cur->access[0] == '\0') {
		snprintf(err, errlen, "no Threads token: run smmctl auth %s",
		         ch->name);
		return -1;
	}
	if (exchange && need_app(ch, err, errlen) < 0)
		return -1;
	snprintf(req->method, sizeof(req->method), "GET");
	if (asprintf(&req->url, "%s/%s", tc->api_url,
	             exchange ? "access_token" : "refresh_access_token") < 0) {
		req->url = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (exchange)
		bad = threads_query_add(&req->url, "grant_type",
		                        "th_exchange_token") < 0 ||
		      threads_query_add(&req->url, "client_secret",
		                        (const char *)tc->oauth.client_secret) <
		              0;
	else
		bad = threads_query_add(&req->url, "grant_type",
		                        "th_refresh_token") < 0;
	if (bad ||
	    threads_query_add(&req->url, "access_token", cur->access) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Any of the three answers. One that gives no lifetime of a day or more
 * is the short-lived token of the code exchange: it is noted as such in
 * extra (with the user id it came with), so that the next refresh
 * exchanges it for a long-lived one.
 */
static int threads_token_parse(const struct channel *ch,
                               const struct http_result *res, int64_t now_ms,
                               struct auth_tokens *out, char *err,
                               size_t errlen)
{
	json_t *o, *uid;
	int is_short;

	(void)ch;
	if (oauth_token_parse(res, now_ms, out, err, errlen) < 0)
		return -1;
	is_short =
	        out->access_expires_ms < 0 ||
	        out->access_expires_ms - now_ms < THREADS_LONG_LIVED_S * 1000LL;
	if (is_short && out->access_expires_ms < 0)
		out->access_expires_ms = now_ms + THREADS_SHORT_MS;
	/*
	 * A long-lived token renews itself, until it expires: then the chain
	 * is over, and auth.c says so a week ahead if renewing keeps failing.
	 * A short-lived one is exchanged at once, not renewed: no end to warn
	 * of.
	 */
	out->refresh_expires_ms = is_short ? -1 : out->access_expires_ms;
	if (out->extra == NULL && (out->extra = json_object()) == NULL)
		goto nomem;
	if (json_object_set_new(out->extra, "short_lived",
	                        json_boolean(is_short)) < 0)
		goto nomem;
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	uid = json_object_get(o, "user_id");
	if (json_is_integer(uid) || json_is_string(uid)) {
		char id[64];

		publisher_json_text(o, "user_id", id, sizeof(id));
		json_object_set_new(out->extra, "user_id", json_string(id));
	}
	json_decref(o);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* A channel with a client_id gets its tokens here; else its token_file. */
static int threads_oauth_used(const struct channel *ch)
{
	const struct threads_conf *tc = ch->pub_conf;

	return tc && tc->oauth.client_id != NULL;
}

const struct auth_ops threads_auth = {
        .used = threads_oauth_used,
        .login_request = NULL,
        .authorize_url = threads_authorize_url,
        .exchange_request = threads_exchange_request,
        .refresh_request = threads_refresh_request,
        .token_parse = threads_token_parse,
        .refresh_ahead_ms = THREADS_REFRESH_AHEAD_MS,
};
