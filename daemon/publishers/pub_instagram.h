/*
 * The instagram driver's settings, shared by its files: publishing
 * (pub_instagram.c), engagement (pub_instagram_engage.c) and token
 * renewal (pub_instagram_auth.c).
 */
#ifndef SMMD_PUB_INSTAGRAM_H
#define SMMD_PUB_INSTAGRAM_H

#include "pub_graph.h"
#include "pub_oauth.h"

/* Where Instagram-Login tokens are exchanged and renewed. */
#define INSTAGRAM_REFRESH_URL_DEFAULT "https://graph.instagram.com"
/* The host Instagram-Login tokens are used on. */
#define INSTAGRAM_LOGIN_GRAPH_URL "https://graph.instagram.com"

struct instagram_conf {
	struct graph_conf graph;
	struct oauth_client oauth; /* Business Login for Instagram */
	char *ig_user_id;
	char *refresh_url; /* NULL: INSTAGRAM_REFRESH_URL_DEFAULT */
	int64_t poll_interval_ms, poll_timeout_ms;
};

extern const struct engage_ops instagram_engage;
extern const struct auth_ops instagram_auth;

#endif
