/*
 * The facebook driver's settings, shared by its two files: publishing
 * (pub_facebook.c) and reading engagement back (pub_facebook_engage.c).
 */
#ifndef SMMD_PUB_FACEBOOK_H
#define SMMD_PUB_FACEBOOK_H

#include "pub_graph.h"

struct facebook_conf {
	struct graph_conf graph;
	char *page_id;
};

extern const struct engage_ops facebook_engage;

#endif
