/*
 * The VK driver's settings and what its two files share: publishing
 * (pub_vk.c) and reading engagement back (pub_vk_engage.c).
 */
#ifndef SMMD_PUB_VK_H
#define SMMD_PUB_VK_H

#include <stddef.h>
#include <stdio.h>

#include "publisher.h"

#define VK_API_URL     "https://api.vk.com/method"
#define VK_API_VERSION "5.199"

struct vk_conf {
	char *api_url;        /* without a trailing '/' */
	char *api_version;    /* the v parameter */
	unsigned char *token; /* a community admin's user token */
	size_t token_len;
	char group[24]; /* the community's id, positive, as text */
	int token_given, group_given;
};

/*
 * Start the call of a VK method: POST api_url/METHOD, a form body that
 * carries access_token and v (never the URL: it might be logged). Add
 * parameters with pub_form_add(*f, first, ...), then vk_call_end. 0, or
 * -1 (out of memory).
 */
int vk_call_begin(const struct channel *, const char *method,
                  struct http_request *req, FILE **f, int *first);
int vk_call_end(struct http_request *req, FILE *f);

/*
 * VK answers HTTP 200 with {"error":{"error_code","error_msg"}}: 1 and
 * the code and message (token redacted) if body is one, else 0.
 */
int vk_error(const struct channel *, const struct http_result *, long *code,
             char *msg, size_t cap);

extern const struct engage_ops vk_engage;

#endif
