/*
 * The LinkedIn driver's settings and what its files share: publishing
 * (pub_linkedin.c), OAuth (pub_linkedin_auth.c) and engagement
 * (pub_linkedin_engage.c).
 */
#ifndef SMMD_PUB_LINKEDIN_H
#define SMMD_PUB_LINKEDIN_H

#include <curl/curl.h>
#include <stddef.h>

#include "pub_oauth.h"
#include "publisher.h"

#define LINKEDIN_API_URL       "https://api.linkedin.com"
#define LINKEDIN_API_VERSION   "202607"
#define LINKEDIN_AUTHORIZE_URL "https://www.linkedin.com/oauth/v2/authorization"
#define LINKEDIN_TOKEN_URL     "https://www.linkedin.com/oauth/v2/accessToken"

struct linkedin_conf {
	char *api_url;        /* without a trailing '/' */
	char *api_version;    /* YYYYMM, the LinkedIn-Version header */
	char *author;         /* urn:li:organization:N or urn:li:person:ID */
	int organization;     /* the author is an organization */
	unsigned char *token; /* token_file's; NULL: none */
	size_t token_len;
	struct oauth_client oauth; /* client_id ...: for smmctl auth */
	int author_given, token_given;
};

/*
 * The access token to send: auth.c's when it has one, else token_file's;
 * NULL if neither.
 */
const char *linkedin_token(const struct channel *);

/*
 * Authorization: Bearer, LinkedIn-Version and X-Restli-Protocol-Version
 * onto h. 0; -1 (out of memory); -EACCES if there is no token.
 */
int linkedin_add_headers(const struct channel *, struct curl_slist **h);

/*
 * commentary in LinkedIn's "little" text format: every reserved character
 * (| { } @ [ ] ( ) < > # \ * _ ~) escaped with a backslash, except the '#'
 * that starts a hashtag. malloc'd, NULL when out of memory.
 */
char *linkedin_little_escape(const char *text);

/*
 * Judge a LinkedIn API reply that is not a 2xx: 401 or a revoked or
 * expired token → PUBLISH_NEEDS_AUTH; 429 and 5xx → retry; other 4xx →
 * failed with LinkedIn's message. The reason starts with what.
 */
void linkedin_api_error(const struct channel *, const struct http_result *,
                        int64_t now_ms, const char *what, struct verdict *);

/* The scopes smmctl auth asks for when the config names none. */
const char *linkedin_default_scopes(const struct linkedin_conf *);

extern const struct engage_ops linkedin_engage;
extern const struct auth_ops linkedin_auth;

#endif
