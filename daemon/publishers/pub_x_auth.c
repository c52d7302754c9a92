/*
 * X's OAuth 2.0 Authorization Code Flow with PKCE
 * (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token):
 * a person opens https://x.com/i/oauth2/authorize with response_type=code,
 * client_id, redirect_uri, scope, state, code_challenge and
 * code_challenge_method=S256; the code comes back and is exchanged at
 * POST https://api.x.com/2/oauth2/token (form-encoded,
 * grant_type=authorization_code, code, redirect_uri, code_verifier).
 * Confidential clients (with a client secret) authenticate with HTTP
 * Basic, public ones send client_id in the body.
 *
 * Access tokens live two hours (expires_in: 7200); offline.access brings
 * a refresh token, and X ROTATES it: every refresh answer carries a new
 * refresh_token and the old one stops working, so token_parse always
 * takes the new one (auth.c writes it durably before using the access
 * token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "pub_oauth.h"
#include "pub_x.h"

/* Refresh this long before the access token runs out. */
#define X_REFRESH_AHEAD_MS (5 * 60 * 1000)

static const char *redirect_of(const struct x_conf *xc, const char *given)
{
	return given && given[0] ? given : xc->redirect_uri;
}

static int x_authorize_url(const struct channel *ch, const char *redirect_uri,
                           const char *challenge, const char *state, char *out,
                           size_t cap)
{
	const struct x_conf *xc = ch->pub_conf;
	const char *redirect = redirect_of(xc, redirect_uri);
	char *url;
	int ok;

	if (xc->client_id == NULL || redirect == NULL)
		return -1;
	if ((url = strdup(xc->authorize_url ? xc->authorize_url
	                                    : X_AUTHORIZE_URL)) == NULL)
		return -1;
	ok = pub_query_add(&url, "response_type", "code") == 0 &&
	     pub_query_add(&url, "client_id", xc->client_id) == 0 &&
	     pub_query_add(&url, "redirect_uri", redirect) == 0 &&
	     pub_query_add(&url, "scope", xc->scopes ? xc->scopes : X_SCOPES) ==
	             0 &&
	     pub_query_add(&url, "state", state) == 0 &&
	     pub_query_add(&url, "code_challenge", challenge) == 0 &&
	     pub_query_add(&url, "code_challenge_method", "S256") == 0 &&
	     strlen(url) < cap;
	if (ok)
		memcpy(out, url, strlen(url) + 1);
	free(url);
	return ok ? 0 : -1;
}

/*
 * A POST of body to the token endpoint, with the client's credentials:
 * Basic for a confidential client, client_id in the body for a public
 * one. body is consumed.
 */
static int token_request(const struct x_conf *xc, char *body,
                         struct http_request *req, char *err, size_t errlen)
{
	if (xc->client_secret == NULL &&
	    pub_form_add(&body, "client_id", xc->client_id) < 0)
		goto nomem;
	req->body = body;
	req->body_len = strlen(body);
	body = NULL;
	if (xc->token_url)
		req->url = strdup(xc->token_url);
	else if (asprintf(&req->url, "%s%s", xc->api_url, X_TOKEN_PATH) < 0)
		req->url = NULL;
	if (req->url == NULL ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/x-www-form-urlencoded") < 0 ||
	    publisher_add_header(&req->headers, "Accept", "application/json") <
	            0 ||
	    (xc->client_secret &&
	     pub_oauth_basic(&req->headers, xc->client_id,
	                     (const char *)xc->client_secret) < 0))
		goto nomem;
	/* A token request is not repeated blindly: a code works once. */
	req->once = 1;
	return 0;
nomem:
	pub_oauth_wipe(body);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int x_exchange_request(const struct channel *ch, const char *code,
                              const char *verifier, const char *redirect_uri,
                              struct http_request *req, char *err,
                              size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	const char *redirect = redirect_of(xc, redirect_uri);
	char *body = NULL;

	if (xc->client_id == NULL || redirect == NULL) {
		snprintf(err, errlen,
		         "channel '%s' needs client_id and redirect_uri to "
		         "authorize",
		         ch->name);
		return -1;
	}
	if (pub_form_add(&body, "grant_type", "authorization_code") < 0 ||
	    pub_form_add(&body, "code", code) < 0 ||
	    pub_form_add(&body, "redirect_uri", redirect) < 0 ||
	    pub_form_add(&body, "code_verifier", verifier) < 0) {
		pub_oauth_wipe(body);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return token_request(xc, body, req, err, errlen);
}

static int x_refresh_request(const struct channel *ch,
                             const struct auth_tokens *cur,
                             struct http_request *req, char *err, size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	char *body = NULL;

	if (xc->client_id == NULL) {
		snprintf(err, errlen,
		         "channel '%s' has no client_id to refresh its token "
		         "with",
		         ch->name);
		return -1;
	}
	if (cur == NULL || cur->refresh == NULL || cur->refresh[0] == '\0') {
		snprintf(err, errlen,
		         "no refresh token (was offline.access granted?): run "
		         "smmctl auth %s",
		         ch->name);
		return -1;
	}
	if (pub_form_add(&body, "grant_type", "refresh_token") < 0 ||
	    pub_form_add(&body, "refresh_token", cur->refresh) < 0) {
		pub_oauth_wipe(body);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return token_request(xc, body, req, err, errlen);
}

/*
 * {"token_type": "bearer", "expires_in": 7200, "access_token": ...,
 * "scope": ..., "refresh_token": ...}: the refresh token in it replaces
 * the old one, which X has just revoked.
 */
static int x_token_parse(const struct channel *ch,
                         const struct http_result *res, int64_t now_ms,
                         struct auth_tokens *out, char *err, size_t errlen)
{
	(void)ch;
	return pub_oauth_token_parse(res, now_ms, out, err, errlen);
}

const struct auth_ops x_auth = {
        .login_request = NULL,
        .authorize_url = x_authorize_url,
        .exchange_request = x_exchange_request,
        .refresh_request = x_refresh_request,
        .token_parse = x_token_parse,
        .refresh_ahead_ms = X_REFRESH_AHEAD_MS,
};
