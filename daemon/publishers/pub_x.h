/*
 * The X driver's settings, shared by its files: publishing (pub_x.c),
 * OAuth 2.0 (pub_x_auth.c) and engagement (pub_x_engage.c).
 */
#ifndef SMMD_PUB_X_H
#define SMMD_PUB_X_H

#include <curl/curl.h>
#include <stddef.h>

#include "pub_oauth.h"
#include "publisher.h"

#define X_API_URL       "https://api.x.com"
#define X_AUTHORIZE_URL "https://x.com/i/oauth2/authorize"
#define X_TOKEN_PATH    "/2/oauth2/token"
#define X_SCOPES        "tweet.read tweet.write users.read offline.access media.write"

struct x_conf {
	char *api_url; /* without a trailing '/' */
	/* client_id, client_secret_file (confidential: HTTP Basic), scopes,
	 * authorize_url, token_url; client_id NULL: token_file only */
	struct oauth_client oauth;
	unsigned char *token; /* token_file: a user access token */
	size_t token_len;
};

/*
 * The user access token to send: auth.c's when it has one, else
 * token_file's; NULL when there is none (the channel needs auth).
 */
const char *x_access_token(const struct channel *);
/* "Authorization: Bearer ..." onto h. 0, -1 (memory) or -EACCES. */
int x_add_auth(const struct channel *, struct curl_slist **h);
/* Redact every secret of the channel from s. */
void x_redact(const struct channel *, char *s);

extern const struct engage_ops x_engage;
extern const struct auth_ops x_auth;

#endif
