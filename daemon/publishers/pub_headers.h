/*
 * Request headers an admin sets on a channel: `headers` (values as
 * written) and `header_files` (each value a secret file, wiped on free and
 * scrubbed from reasons). Shared by the template publisher and the
 * engagement reads of template and webhook channels.
 */
#ifndef SMMD_PUB_HEADERS_H
#define SMMD_PUB_HEADERS_H

#include <curl/curl.h>
#include <stddef.h>

#include "config.h"

struct pub_header {
	char *name;
	unsigned char *value;
	size_t len;
	int secret; /* from header_files */
};

struct pub_headers {
	struct pub_header *v;
	size_t n;
};

/* RFC 9110 token characters: what a header name may be made of. */
int pub_header_name_ok(const char *);
/* Headers curl or HTTP itself must own. */
int pub_header_reserved(const char *);
/* Add the mapping v (secret: header_files) to hs; errors at their node. */
void pub_headers_parse(struct conf_ctx *, struct conf_node *v, int secret,
                       struct pub_headers *hs);
void pub_headers_free(struct pub_headers *);
/* The header called name (any case), or NULL. */
const struct pub_header *pub_headers_find(const struct pub_headers *,
                                          const char *name);
/* Append every header to list. 0 or -1 (out of memory). */
int pub_headers_add(const struct pub_headers *, struct curl_slist **list);
/* Scrub each secret value (and a "Bearer x" token alone) from s. */
void pub_headers_redact(const struct pub_headers *, char *s);

#endif
