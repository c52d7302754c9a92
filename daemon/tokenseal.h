/*
 * A channel's tokens sealed for the cluster's store (several nodes on one
 * PostgreSQL): AES-256-GCM under a key every node derives from the same
 * token_key_file, so the database holds what only the nodes can open.
 * The channel and the save time are bound to the box: a box cannot be
 * moved to another channel, nor passed off as newer than it is.
 */
#ifndef SMMD_TOKENSEAL_H
#define SMMD_TOKENSEAL_H

#include <stddef.h>
#include <stdint.h>

#define TOKENSEAL_KEY_LEN 32
/* The least a token_key_file may hold, in bytes. */
#define TOKENSEAL_SECRET_MIN 32

/* The key from the file's bytes (a hash of them). 0, or -1. */
int tokenseal_key(const unsigned char *secret, size_t len,
                  unsigned char key[TOKENSEAL_KEY_LEN]);
/* Names the key without giving it away (hex, NUL-terminated): rows
 * sealed under another node's key are told apart, not overwritten. */
#define TOKENSEAL_KEY_ID_LEN 33
int tokenseal_key_id(const unsigned char key[TOKENSEAL_KEY_LEN],
                     char id[TOKENSEAL_KEY_ID_LEN]);
/* text sealed, as printable ASCII (a new string); NULL: out of memory,
 * or libcrypto failed. */
char *tokenseal_seal(const unsigned char key[TOKENSEAL_KEY_LEN],
                     const char *channel, int64_t saved_ms, const char *text);
/* The text inside (a new string, to be wiped), or NULL when sealed is not
 * a box this key made for this channel and time. */
char *tokenseal_open(const unsigned char key[TOKENSEAL_KEY_LEN],
                     const char *channel, int64_t saved_ms, const char *sealed);

#endif
