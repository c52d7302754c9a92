/*
 * OAuth 2.0 as the networks that use it spell it (RFC 6749's
 * authorization-code grant with RFC 7636's PKCE, and the refresh grant),
 * for drivers' auth ops: the client's keys in smmd.yaml, the page a person
 * opens, the token requests, and reading their answer.
 */
#ifndef SMMD_PUB_OAUTH_H
#define SMMD_PUB_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "publisher.h"

struct oauth_client {
	char *client_id;              /* NULL: not configured */
	unsigned char *client_secret; /* NULL: a public client */
	size_t client_secret_len;
	char *scopes;        /* NULL: the driver's default */
	char *authorize_url; /* the network's page; NULL: the default */
	char *token_url;     /* its token endpoint; NULL: the default */
	int basic;           /* the secret goes as HTTP Basic, not a field */
};

/*
 * A client key of a channel: client_id, client_secret_file, scopes,
 * authorize_url, token_url. 1 if key was one (errors reported), else 0.
 */
int oauth_configure(struct conf_ctx *, struct oauth_client *, const char *key,
                    struct conf_node *value);
void oauth_free(struct oauth_client *);

/*
 * The page to open, from base (c->authorize_url overrides it); without a
 * challenge (a network that runs no PKCE), no code_challenge_method
 * either. 0 or -1.
 */
int oauth_authorize_url(const struct oauth_client *c, const char *base,
                        const char *default_scopes, const char *redirect_uri,
                        const char *challenge, const char *state, char *out,
                        size_t cap);
/*
 * POST a form to the token endpoint (url; c->token_url overrides it):
 * the code with its verifier, or a refresh token. 0, or -1 with err set.
 */
int oauth_code_request(const struct oauth_client *c, const char *url,
                       const char *code, const char *verifier,
                       const char *redirect_uri, struct http_request *req,
                       char *err, size_t errlen);
int oauth_refresh_request(const struct oauth_client *c, const char *url,
                          const char *refresh_token, struct http_request *req,
                          char *err, size_t errlen);
/*
 * A token endpoint's JSON answer into out: access_token (required),
 * refresh_token (a rotated one replaces the old), expires_in and
 * refresh_token_expires_in (seconds, turned into times from now_ms).
 * 0, or -1 with err set.
 */
int oauth_token_parse(const struct http_result *res, int64_t now_ms,
                      struct auth_tokens *out, char *err, size_t errlen);
/* "Authorization: Bearer T" onto h. 0 or -1. */
int oauth_bearer(const char *token, struct curl_slist **h);

#endif
