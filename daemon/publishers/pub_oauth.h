/*
 * What the OAuth 2.0 drivers (x, threads) share: form bodies and query
 * strings (RFC 6749 sends them application/x-www-form-urlencoded), HTTP
 * Basic client authentication, the standard token answer (RFC 6749
 * section 5.1: access_token, refresh_token, expires_in) and a token file
 * key. Pure functions of their arguments: unit-testable without a loop.
 */
#ifndef SMMD_PUB_OAUTH_H
#define SMMD_PUB_OAUTH_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "publisher.h"

struct http_result;

/*
 * Append "key=value" to the form body *s (malloc'd, NULL to start), '&'
 * between pairs, both percent-encoded. 0, or -1 when out of memory (*s is
 * left intact).
 */
int pub_form_add(char **s, const char *key, const char *value);
/* The same after a URL: '?' before the first pair, '&' after. */
int pub_query_add(char **url, const char *key, const char *value);

/* "Authorization: Basic base64(id:secret)" onto h. 0 or -1. */
int pub_oauth_basic(struct curl_slist **h, const char *id, const char *secret);
/* "Authorization: Bearer token" onto h. 0 or -1. */
int pub_oauth_bearer(struct curl_slist **h, const char *token);

/*
 * Read a 2xx token answer into out: access_token (required) replaces
 * out->access; refresh_token, when given, replaces out->refresh (networks
 * that rotate it send a new one with every answer); expires_in becomes
 * access_expires_ms from now_ms, or -1 when the answer gives none;
 * refresh_token_expires_in likewise. Old secrets are wiped. 0, or -1
 * with err set (never quoting the body: it holds tokens).
 */
int pub_oauth_token_parse(const struct http_result *res, int64_t now_ms,
                          struct auth_tokens *out, char *err, size_t errlen);

/* Wipe and free a token string; NULL is fine. */
void pub_oauth_wipe(char *s);

/*
 * A token_file key: one line of at most 2048 bytes from a 0600 file (or a
 * systemd credential). Errors go through conf_error without the content.
 */
int pub_oauth_token_file(struct conf_ctx *, struct conf_node *, const char *key,
                         unsigned char **out, size_t *len);

/* Replace every known secret of a channel's in s: "***". */
void pub_oauth_redact(char *s, const struct auth_tokens *tok,
                      const unsigned char *file_token,
                      const unsigned char *client_secret);

#endif
