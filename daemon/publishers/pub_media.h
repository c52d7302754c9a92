/*
 * A post's media on their way to a network, shared by the drivers that
 * upload them (Mastodon, Bluesky, X, LinkedIn, VK): an http(s) URL from
 * the post is fetched by a GET step of its own, behind the address guard;
 * a plain file name is read from the channel's media_dir. Either way the
 * bytes and their type end up in the step (st->blob, st->blob_type) for
 * the upload that follows.
 */
#ifndef SMMD_PUB_MEDIA_H
#define SMMD_PUB_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "publisher.h"

/*
 * The head of a driver's upload chain. Refuses a post with more than max
 * media ("NETWORK takes at most MAX WHAT per post"), makes st->state
 * {list: [], step: 0} on the attempt's first step, and says what comes
 * next: 1 with *i and *item, the next media to send (list holds what the
 * network gave for those before it); 0 when every one is sent; -1 or
 * -EAGAIN with err set.
 */
int pub_media_next(const struct delivery_view *v, struct pub_step *st,
                   const char *network, unsigned max, const char *what,
                   const char *list, size_t *i, const char **item, char *err,
                   size_t errlen);
/* Whether item is an http(s) URL not fetched yet: a GET step comes first. */
int pub_media_needs_fetch(const char *item, const struct pub_step *st);
/*
 * Fill req to GET url: guarded unless the channel allows private media,
 * capped at media_max_size, never with the network's credentials.
 * 0, or -EAGAIN with err set.
 */
int pub_media_fetch_request(const struct channel *, const char *url,
                            struct http_request *req, char *err, size_t errlen);
/*
 * Judge the GET of media n (1-based, for messages) at url. On success the
 * bytes and their type are in st, st->n is advanced and out is
 * PUBLISH_NEXT; otherwise FAILED or RETRY with a reason naming the media.
 */
void pub_media_fetched(const struct channel *, size_t n, const char *url,
                       struct pub_step *st, const struct http_result *res,
                       int64_t now_ms, struct verdict *out);
/*
 * Read the plain file name from the channel's media_dir into st, its type
 * from its extension. 0; -1 with err set when the post is at fault;
 * -EAGAIN with err set for a passing problem.
 */
int pub_media_load_file(const struct channel *, const char *name,
                        struct pub_step *st, char *err, size_t errlen);
/*
 * Make req's body multipart/form-data with one part, field, holding the
 * bytes in st (moved out of it), named after item (a URL or a file name),
 * and set its Content-Type header. 0, or -EAGAIN with err set.
 */
int pub_media_multipart(struct pub_step *st, const char *field,
                        const char *item, struct http_request *req, char *err,
                        size_t errlen);

#endif
