/*
 * LinkedIn's OAuth 2.0 (3-legged authorization code flow), through the
 * shared pub_oauth.c:
 *   https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
 *   https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens
 *
 * A person opens authorize_url (response_type=code, client_id,
 * redirect_uri, scope, state); the code comes back to redirect_uri and is
 * exchanged at token_url with the client id and secret in the form.
 * Access tokens live 60 days. Apps LinkedIn approved for programmatic
 * refresh also get a refresh_token (365 days, not extended by refreshing)
 * with refresh_token_expires_in; others get none and must authorize again.
 *
 * PKCE: LinkedIn runs it only for native apps it enables one by one
 * (authorization-code-flow-native); a web app authenticates with its
 * client secret instead. So neither the challenge auth.c passes nor its
 * verifier is sent: the code is bound to the app by the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_linkedin.h"
#include "pub_oauth.h"

/* Renew well before the 7-day warning that puts a channel in needs_auth. */
#define REFRESH_AHEAD_MS (INT64_C(10) * 24 * 3600 * 1000)

/* A channel gets its tokens from smmctl auth when it names an app. */
static int linkedin_auth_used(const struct channel *ch)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	return lc != NULL && lc->oauth.client_id != NULL;
}

/* The redirect auth.c names, else the channel's, else smmd's default. */
static const char *redirect(const struct channel *ch, const char *given)
{
	return given              ? given
	       : ch->redirect_uri ? ch->redirect_uri
	                          : AUTH_REDIRECT_DEFAULT;
}

static int linkedin_authorize_url(const struct channel *ch,
                                  const char *redirect_uri,
                                  const char *challenge, const char *state,
                                  char *out, size_t cap)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	(void)challenge;
	if (lc->oauth.client_id == NULL)
		return -1;
	return oauth_authorize_url(
	        &lc->oauth, LINKEDIN_AUTHORIZE_URL, linkedin_default_scopes(lc),
	        redirect(ch, redirect_uri), NULL, state, out, cap);
}

/* Requests to the token endpoint need the app's id and secret. */
static int app_given(const struct channel *ch, char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (lc->oauth.client_id != NULL && lc->oauth.client_secret != NULL)
		return 1;
	snprintf(err, errlen,
	         "channel '%s' has no client_id and client_secret_file",
	         ch->name);
	return 0;
}

static int linkedin_exchange(const struct channel *ch, const char *code,
                             const char *verifier, const char *redirect_uri,
                             struct http_request *req, char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	(void)verifier;
	if (!app_given(ch, err, errlen))
		return -1;
	return oauth_code_request(&lc->oauth, LINKEDIN_TOKEN_URL, code, NULL,
	                          redirect(ch, redirect_uri), req, err, errlen);
}

static int linkedin_refresh(const struct channel *ch,
                            const struct auth_tokens *cur,
                            struct http_request *req, char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (cur == NULL || cur->refresh == NULL) {
		snprintf(err, errlen,
		         "LinkedIn gave no refresh token (programmatic refresh "
		         "is for approved apps): authorize again");
		return -1;
	}
	if (!app_given(ch, err, errlen))
		return -1;
	return oauth_refresh_request(&lc->oauth, LINKEDIN_TOKEN_URL,
	                             cur->refresh, req, err, errlen);
}

/*
 * {"access_token", "expires_in", "refresh_token",
 * "refresh_token_expires_in", "scope"}: what pub_oauth.c reads. The body
 * is never quoted in err: it may hold a token.
 */
static int linkedin_token_parse(const struct channel *ch,
                                const struct http_result *res, int64_t now_ms,
                                struct auth_tokens *out, char *err,
                                size_t errlen)
{
	(void)ch;
	return oauth_token_parse(res, now_ms, out, err, errlen);
}

const struct auth_ops linkedin_auth = {
        .used = linkedin_auth_used,
        .login_request = NULL,
        .authorize_url = linkedin_authorize_url,
        .exchange_request = linkedin_exchange,
        .refresh_request = linkedin_refresh,
        .token_parse = linkedin_token_parse,
        .refresh_ahead_ms = REFRESH_AHEAD_MS,
};
