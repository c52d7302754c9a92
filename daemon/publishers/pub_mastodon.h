/*
 * The Mastodon driver's settings, shared by its two files: publishing
 * (pub_mastodon.c) and reading engagement back (pub_mastodon_engage.c).
 */
#ifndef SMMD_PUB_MASTODON_H
#define SMMD_PUB_MASTODON_H

#include <curl/curl.h>
#include <stddef.h>

#include "pub_oauth.h"
#include "publisher.h"

struct mastodon_conf {
	char *instance; /* base URL without a trailing '/' */
	unsigned char *token;
	size_t token_len;
	char *visibility;          /* NULL: the account's default */
	char *language;            /* NULL: Mastodon guesses */
	struct oauth_client oauth; /* an app authorized by smmctl auth */
	int instance_given, token_given;
};

/*
 * "Authorization: Bearer TOKEN" onto h: the token smmctl auth got, else
 * token_file's. 0; -1 when out of memory; -EACCES when there is none.
 */
int mastodon_add_auth(const struct channel *, struct curl_slist **h);

extern const struct engage_ops mastodon_engage;

#endif
