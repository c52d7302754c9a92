/*
 * The Bluesky driver's settings and what its files share: publishing
 * (pub_bluesky.c), the session (pub_bluesky_auth.c), engagement
 * (pub_bluesky_engage.c) and XRPC helpers (pub_bluesky_xrpc.c).
 */
#ifndef SMMD_PUB_BLUESKY_H
#define SMMD_PUB_BLUESKY_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "publisher.h"

struct bluesky_conf {
	char *service; /* the PDS (or entryway) base URL, no trailing '/' */
	char *handle;  /* the login identifier: handle, DID or email */
	unsigned char *password; /* the app password */
	size_t password_len;
	char *language; /* langs: [language]; NULL: none said */
	int handle_given, password_given;
};

/*
 * The session's access token and the account's DID from ch->tokens
 * (auth.c keeps them); 0, or -1 when there is no session yet.
 */
int bluesky_session(const struct channel *, const char **access,
                    const char **did);
/* req->url = SERVICE/xrpc/METHOD. 0 or -1 (out of memory). */
int bluesky_xrpc_url(const struct channel *, const char *method,
                     struct http_request *req);
/* "Authorization: Bearer TOKEN" onto h. 0 or -1. */
int bluesky_add_bearer(struct curl_slist **h, const char *token);
/*
 * The XRPC error body {"error": NAME, "message": TEXT}: NAME and TEXT
 * (else the start of the body), the channel's secrets taken out.
 */
void bluesky_xrpc_error(const struct channel *, const struct http_result *,
                        char *name, size_t name_cap, char *message,
                        size_t msg_cap);
/* Replace the session's tokens and the app password in s with "***". */
void bluesky_redact(const struct channel *, char *s);
/*
 * The "exp" claim of a JWT (seconds since the epoch) as milliseconds;
 * -1 when the token is no JWT or has none. The signature is not checked:
 * the server checks it, this only tells when to renew.
 */
int64_t bluesky_jwt_exp_ms(const char *jwt);

/*
 * The record key of v's post: a TID made from its due time and its
 * webhook-id, the same on every attempt (pub_bluesky.c says why).
 */
void bluesky_rkey(const struct delivery_view *v, char out[14]);
/* Judge an XRPC error answer to the step named what (pub_bluesky.c). */
void bluesky_api_error(const struct channel *, const struct http_result *,
                       int64_t now_ms, const char *what, struct verdict *out);

extern const struct engage_ops bluesky_engage;
extern const struct auth_ops bluesky_auth;

#endif
