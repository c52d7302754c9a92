/*
 * The Mastodon driver's settings, shared by its two files: publishing
 * (pub_mastodon.c) and reading engagement back (pub_mastodon_engage.c).
 */
#ifndef SMMD_PUB_MASTODON_H
#define SMMD_PUB_MASTODON_H

#include <curl/curl.h>
#include <stddef.h>

#include "publisher.h"

struct mastodon_conf {
	char *instance; /* base URL without a trailing '/' */
	unsigned char *token;
	size_t token_len;
	char *visibility; /* NULL: the account's default */
	char *language;   /* NULL: Mastodon guesses */
	int instance_given, token_given;
};

/* "Authorization: Bearer TOKEN" onto h. 0 or -1. */
int mastodon_add_auth(const struct mastodon_conf *, struct curl_slist **h);

extern const struct engage_ops mastodon_engage;

#endif
