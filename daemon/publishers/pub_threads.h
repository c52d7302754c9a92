/*
 * The Threads driver's settings, shared by its files: publishing
 * (pub_threads.c), tokens (pub_threads_auth.c) and insights
 * (pub_threads_engage.c).
 */
#ifndef SMMD_PUB_THREADS_H
#define SMMD_PUB_THREADS_H

#include <curl/curl.h>
#include <stddef.h>

#include "pub_oauth.h"
#include "publisher.h"

#define THREADS_API_URL       "https://graph.threads.net"
#define THREADS_API_VERSION   "v1.0"
#define THREADS_AUTHORIZE_URL "https://threads.net/oauth/authorize"
#define THREADS_SCOPES \
	"threads_basic,threads_content_publish,threads_manage_insights"

struct threads_conf {
	char *api_url; /* without a trailing '/' */
	char *base;    /* api_url + "/" THREADS_API_VERSION */
	char *user_id; /* the Threads user id; "me" by default */
	/* client_id (the Threads app id), client_secret_file (its secret),
	 * scopes, authorize_url; client_id NULL: token_file only */
	struct oauth_client oauth;
	unsigned char *token; /* token_file: a long-lived access token */
	size_t token_len;
};

/* auth.c's access token if it has one, else token_file's; NULL: none. */
const char *threads_access_token(const struct channel *);
/* "Authorization: Bearer ..." onto h. 0, -1 (memory) or -EACCES. */
int threads_add_auth(const struct channel *, struct curl_slist **h);
void threads_redact(const struct channel *, char *s);

/*
 * Append "key=value" (value percent-encoded) to a form body (malloc'd,
 * NULL to start), or to a URL's query. 0, or -1 when out of memory.
 */
int threads_form_add(char **body, const char *key, const char *value);
int threads_query_add(char **url, const char *key, const char *value);
/* A text's length as Threads counts it (an emoji: its UTF-8 bytes). */
size_t threads_text_length(const char *s, size_t n);

extern const struct engage_ops threads_engage;
extern const struct auth_ops threads_auth;

#endif
