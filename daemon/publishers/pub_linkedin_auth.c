/*
 * LinkedIn's OAuth 2.0 (3-legged authorization code flow):
 *   https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
 *   https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens
 *
 * A person opens authorize_url (response_type=code, client_id,
 * redirect_uri, state, scope); the code comes back to redirect_uri and is
 * exchanged at token_url with the client secret. Access tokens live 60
 * days. Apps LinkedIn approved for programmatic refresh also get a
 * refresh_token (365 days, not extended by refreshing) with
 * refresh_token_expires_in; others get none and must authorize again.
 *
 * PKCE: LinkedIn runs it only for native apps it enables one by one
 * (authorization-code-flow-native); a web app authenticates with its
 * client secret instead. So the challenge auth.c passes is not sent, and
 * the verifier is not either: the code is bound to the app by the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_form.h"
#include "pub_linkedin.h"

/* Renew well before the 7-day warning that puts a channel in needs_auth. */
#define REFRESH_AHEAD_MS (INT64_C(10) * 24 * 3600 * 1000)

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
	char *url = NULL;
	size_t len = 0;
	int first = 1, ok;
	FILE *f;

	(void)challenge;
	if (lc->client_id == NULL || (f = open_memstream(&url, &len)) == NULL)
		return -1;
	fprintf(f, "%s%c", lc->authorize_url,
	        strchr(lc->authorize_url, '?') ? '&' : '?');
	pub_form_add(f, &first, "response_type", "code");
	pub_form_add(f, &first, "client_id", lc->client_id);
	pub_form_add(f, &first, "redirect_uri", redirect(ch, redirect_uri));
	pub_form_add(f, &first, "state", state);
	pub_form_add(f, &first, "scope", lc->scopes);
	ok = fclose(f) == 0 && len < cap;
	if (ok)
		memcpy(out, url, len + 1);
	free(url);
	return ok ? 0 : -1;
}

/*
 * POST to token_url the form grant_type=grant, name=value, [redirect_uri,]
 * client_id, client_secret: LinkedIn takes the app's secret in the body.
 */
static int token_request(const struct channel *ch, const char *grant,
                         const char *name, const char *value,
                         const char *redirect_uri, struct http_request *req,
                         char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;
	size_t len = 0;
	int first = 1;
	FILE *f;

	if (lc->client_id == NULL || lc->client_secret == NULL) {
		snprintf(err, errlen,
		         "channel '%s' has no client_id and "
		         "client_secret_file",
		         ch->name);
		return -1;
	}
	if ((f = open_memstream(&req->body, &len)) == NULL)
		goto nomem;
	pub_form_add(f, &first, "grant_type", grant);
	pub_form_add(f, &first, name, value);
	if (redirect_uri)
		pub_form_add(f, &first, "redirect_uri", redirect_uri);
	pub_form_add(f, &first, "client_id", lc->client_id);
	pub_form_add(f, &first, "client_secret",
	             (const char *)lc->client_secret);
	if (fclose(f) != 0)
		goto nomem;
	req->body_len = len;
	if ((req->url = strdup(lc->token_url)) == NULL ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/x-www-form-urlencoded") < 0 ||
	    publisher_add_header(&req->headers, "Accept", "application/json") <
	            0)
		goto nomem;
	/* A code or a refresh token works once: never repeat it blindly. */
	req->once = 1;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int linkedin_exchange(const struct channel *ch, const char *code,
                             const char *verifier, const char *redirect_uri,
                             struct http_request *req, char *err, size_t errlen)
{
	(void)verifier;
	return token_request(ch, "authorization_code", "code", code,
	                     redirect(ch, redirect_uri), req, err, errlen);
}

static int linkedin_refresh(const struct channel *ch,
                            const struct auth_tokens *cur,
                            struct http_request *req, char *err, size_t errlen)
{
	if (cur == NULL || cur->refresh == NULL) {
		snprintf(err, errlen,
		         "LinkedIn gave no refresh token (programmatic refresh "
		         "is for approved apps): run smmctl auth %s",
		         ch->name);
		return -1;
	}
	return token_request(ch, "refresh_token", "refresh_token", cur->refresh,
	                     NULL, req, err, errlen);
}

/* A positive "NAME_expires_in" (seconds) as a time, or -1. */
static int64_t expiry(json_t *o, const char *key, int64_t now_ms)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0
	               ? now_ms + json_integer_value(v) * 1000
	               : -1;
}

/* Replace *field with a copy of s. 0, or -1. */
static int replace(char **field, const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		return -1;
	free(*field);
	*field = c;
	return 0;
}

static int linkedin_token_parse(const struct channel *ch,
                                const struct http_result *res, int64_t now_ms,
                                struct auth_tokens *out, char *err,
                                size_t errlen)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *access =
	        json_string_value(json_object_get(o, "access_token"));
	const char *refresh =
	        json_string_value(json_object_get(o, "refresh_token"));
	int r = -1;

	(void)ch;
	if (access == NULL || access[0] == '\0') {
		/* Never quote the body: it may hold a token. */
		snprintf(err, errlen, "LinkedIn's answer has no access_token");
		goto out;
	}
	if (replace(&out->access, access) < 0 ||
	    (refresh && refresh[0] && replace(&out->refresh, refresh) < 0)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	out->access_expires_ms = expiry(o, "expires_in", now_ms);
	/* The refresh token keeps its first lifetime: LinkedIn restates it. */
	if (json_object_get(o, "refresh_token_expires_in") != NULL)
		out->refresh_expires_ms =
		        expiry(o, "refresh_token_expires_in", now_ms);
	r = 0;
out:
	json_decref(o);
	return r;
}

const struct auth_ops linkedin_auth = {
        .login_request = NULL,
        .authorize_url = linkedin_authorize_url,
        .exchange_request = linkedin_exchange,
        .refresh_request = linkedin_refresh,
        .token_parse = linkedin_token_parse,
        .refresh_ahead_ms = REFRESH_AHEAD_MS,
};
