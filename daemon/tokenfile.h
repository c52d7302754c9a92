/*
 * A channel's OAuth tokens on disk: one JSON file per channel in the state
 * directory's auth/ folder, mode 0600, replaced atomically (a new file
 * written and fsynced, renamed over the old one, the folder fsynced), so
 * that a crash leaves either the old tokens or the new ones, never half of
 * each and never none. A network that rotates its refresh token takes the
 * old one back as soon as it hands out the new: the file must hold the new
 * one before smmd uses anything it got with it.
 */
#ifndef SMMD_TOKENFILE_H
#define SMMD_TOKENFILE_H

#include <stddef.h>

#include "publishers/publisher.h"

/* state_dir/auth/CHANNEL; 0, or -1 when it does not fit cap. */
int tokenfile_path(const char *state_dir, const char *channel, char *out,
                   size_t cap);
/* Make state_dir/auth (0700) if missing. 0 or -errno. */
int tokenfile_dir(const char *state_dir);
/*
 * Read path into t (cleared first), and when it was saved into *saved_ms
 * (-1: the file does not say; saved_ms may be NULL). 0; -ENOENT when
 * there is none; another -errno, or -EINVAL with err set when it is not
 * a token file.
 */
int tokenfile_read(const char *path, struct auth_tokens *t, int64_t *saved_ms,
                   char *err, size_t errlen);
/* The same from a file's text; where names it in err, which never
 * quotes the text. */
int tokenfile_decode(const char *text, const char *where, struct auth_tokens *t,
                     int64_t *saved_ms, char *err, size_t errlen);
/* t as the file's text, saved at saved_ms (-1: not said), as a new
 * string; NULL when out of memory. */
char *tokenfile_encode(const struct auth_tokens *t, int64_t saved_ms);
/* Write text to path atomically and durably. 0 or -errno. */
int tokenfile_write(const char *path, const char *text);

/* A deep copy of src into dst (cleared first). 0, or -ENOMEM. */
int auth_tokens_copy(struct auth_tokens *dst, const struct auth_tokens *src);
/* Wipe and free what t holds; t is left empty (expiries -1). */
void auth_tokens_clear(struct auth_tokens *t);

#endif
