/*
 * X's OAuth 2.0 Authorization Code Flow with PKCE
 * (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token):
 * a person opens https://x.com/i/oauth2/authorize with response_type=code,
 * client_id, redirect_uri, scope, state, code_challenge and
 * code_challenge_method=S256; the code comes back and is exchanged at
 * POST https://api.x.com/2/oauth2/token (form-encoded,
 * grant_type=authorization_code, code, redirect_uri, code_verifier).
 * Confidential clients (with a client secret) authenticate with HTTP
 * Basic, public ones send client_id in the body alone (pub_oauth.c).
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

static int x_authorize_url(const struct channel *ch, const char *redirect_uri,
                           const char *challenge, const char *state, char *out,
                           size_t cap)
{
	const struct x_conf *xc = ch->pub_conf;

	if (xc->oauth.client_id == NULL || redirect_uri == NULL)
		return -1;
	return oauth_authorize_url(&xc->oauth, X_AUTHORIZE_URL, X_SCOPES,
	                           redirect_uri, challenge, state, out, cap);
}

/* The token endpoint: token_url, else api_url's. malloc'd, or NULL. */
static char *token_url(const struct x_conf *xc)
{
	char *url = NULL;

	if (asprintf(&url, "%s%s", xc->api_url, X_TOKEN_PATH) < 0)
		return NULL;
	return url;
}

/* Whether the channel can ask X for tokens; err says why not. */
static int can_ask(const struct channel *ch, char *err, size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;

	if (xc->oauth.client_id)
		return 1;
	snprintf(err, errlen,
	         "channel '%s' has no client_id to get X tokens with (its "
	         "token_file token cannot be renewed)",
	         ch->name);
	return 0;
}

static int x_exchange_request(const struct channel *ch, const char *code,
                              const char *verifier, const char *redirect_uri,
                              struct http_request *req, char *err,
                              size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	char *url;
	int r;

	if (!can_ask(ch, err, errlen))
		return -1;
	if ((url = token_url(xc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = oauth_code_request(&xc->oauth, url, code, verifier, redirect_uri,
	                       req, err, errlen);
	free(url);
	/* A code works once: never let curl send it twice. */
	req->once = 1;
	return r;
}

static int x_refresh_request(const struct channel *ch,
                             const struct auth_tokens *cur,
                             struct http_request *req, char *err, size_t errlen)
{
	const struct x_conf *xc = ch->pub_conf;
	char *url;
	int r;

	if (!can_ask(ch, err, errlen))
		return -1;
	if (cur == NULL || cur->refresh == NULL || cur->refresh[0] == '\0') {
		snprintf(err, errlen,
		         "no refresh token (was offline.access granted?): run "
		         "smmctl auth %s",
		         ch->name);
		return -1;
	}
	if ((url = token_url(xc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = oauth_refresh_request(&xc->oauth, url, cur->refresh, req, err,
	                          errlen);
	free(url);
	/* The refresh token works once too: X rotates it. */
	req->once = 1;
	return r;
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
	return oauth_token_parse(res, now_ms, out, err, errlen);
}

/* A channel with a client_id gets its tokens here; else its token_file. */
static int x_oauth_used(const struct channel *ch)
{
	const struct x_conf *xc = ch->pub_conf;

	return xc && xc->oauth.client_id != NULL;
}

const struct auth_ops x_auth = {
        .used = x_oauth_used,
        .login_request = NULL,
        .authorize_url = x_authorize_url,
        .exchange_request = x_exchange_request,
        .refresh_request = x_refresh_request,
        .token_parse = x_token_parse,
        .refresh_ahead_ms = X_REFRESH_AHEAD_MS,
};
