/*
 * Standard Webhooks signature: "v1," + base64(HMAC-SHA256(key,
 * "<id>.<timestamp>.<body>")). The key is what sign_key() makes of a
 * secret file: the base64 after "whsec_", as the specification and its
 * receivers' libraries read it, or else the file's raw bytes.
 */
#ifndef SMM_SIGN_H
#define SMM_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* "v1," + 44 base64 chars + NUL */
#define SIGN_HEADER_LEN 48

/* "whsec_" + base64 of SIGN_NEW_KEY_LEN bytes + NUL */
#define SIGN_NEW_KEY_LEN    32
#define SIGN_NEW_SECRET_LEN (6 + 44 + 1)
/* The spec's keys are 24 to 64 bytes; shorter ones are refused. */
#define SIGN_KEY_MIN 24
#define SIGN_KEY_MAX 64

/*
 * The signing key in a secret file's bytes (len of them, NUL-terminated):
 * "whsec_<base64>" with trailing white space is decoded in place (*key_len
 * set); 0. Other bytes are the key as they are; 0. -1: "whsec_" followed
 * by something that is not base64 of SIGN_KEY_MIN to SIGN_KEY_MAX bytes.
 */
int sign_key(unsigned char *buf, size_t len, size_t *key_len);

/* A fresh random secret in the "whsec_" form. 0, or -1 (no entropy). */
int sign_new_secret(char out[SIGN_NEW_SECRET_LEN]);

/* Write the header value into out (SIGN_HEADER_LEN). Returns 0 or -1. */
int sign_webhook(const unsigned char *secret, size_t secret_len,
                 const char *msg_id, int64_t timestamp_s, const char *body,
                 size_t body_len, char *out);
/*
 * Sign once, to no purpose but this: OpenSSL builds its method store on
 * the first fetch (about 1 ms here), which the first post's turn would
 * otherwise pay.
 */
void sign_warm(void);

#endif
