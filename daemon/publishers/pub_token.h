/*
 * The access token a driver sends: auth.c's (ch->tokens) once it has one,
 * else the token_file of the channel's config; and keeping every secret
 * the channel knows out of the reasons a driver writes.
 */
#ifndef SMMD_PUB_TOKEN_H
#define SMMD_PUB_TOKEN_H

#include <stddef.h>

#include "publisher.h"

/*
 * A token_file key: one line of 1 to 2048 bytes from a private file (or
 * a systemd credential). Errors go through conf_error without the
 * content. 0 or -1.
 */
int pub_token_file(struct conf_ctx *, struct conf_node *, const char *key,
                   unsigned char **out, size_t *len);
/* auth.c's access token, else file_token; NULL: none (needs auth). */
const char *pub_token_current(const struct channel *,
                              const unsigned char *file_token);
/* Replace every secret of the channel in s with "***". */
void pub_token_redact(const struct channel *, char *s,
                      const unsigned char *file_token,
                      const unsigned char *client_secret);

#endif
