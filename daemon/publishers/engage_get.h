/*
 * The engagement read an admin describes, for APIs smmd has no driver for
 * (the template and webhook publishers): a GET whose URL may name the
 * post, and where in the JSON answer each figure is.
 *
 *   engagement:
 *     url: https://api.example.com/posts/{{remote_id}}/stats
 *     header_files: {Authorization: /etc/smmd/stats-auth}
 *     likes: data.likes
 *     shares: data.reposts
 *     comments: data.replies
 *     views: data.impressions
 */
#ifndef SMMD_ENGAGE_GET_H
#define SMMD_ENGAGE_GET_H

#include "config.h"
#include "pub_headers.h"
#include "publisher.h"

/* The figures, in struct engagement's order. */
#define ENGAGE_FIGURES 5

struct engage_get {
	char *url; /* with {{placeholders}}, checked at config time */
	struct pub_headers headers;
	char *path[ENGAGE_FIGURES]; /* likes ... views; NULL: not given */
	int uses_remote_id;         /* the URL names {{remote_id}} */
};

/*
 * The engagement side of a publisher that reads what ch->engage_get says
 * (template, webhook); config.c then takes their `engagement` key.
 */
extern const struct engage_ops engage_get_ops;

/* Parse the `engagement` mapping v into *out (made here). */
void engage_get_configure(struct conf_ctx *, struct conf_node *v,
                          struct engage_get **out);
void engage_get_free(struct engage_get *);
int engage_get_request(const struct engage_get *, const struct engage_item *it,
                       struct http_request *req, char *err, size_t errlen);
int engage_get_parse(const struct engage_get *, const struct http_result *res,
                     struct engage_item *it, char *err, size_t errlen);

#endif
