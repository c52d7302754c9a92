/*
 * Standard Webhooks signature: "v1," + base64(HMAC-SHA256(secret,
 * "<id>.<timestamp>.<body>")). The secret is the raw bytes of the secret
 * file (the caller decides about trimming).
 */
#ifndef SMM_SIGN_H
#define SMM_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* "v1," + 44 base64 chars + NUL */
#define SIGN_HEADER_LEN 48

/* Write the header value into out (SIGN_HEADER_LEN). Returns 0 or -1. */
int sign_webhook(const unsigned char *secret, size_t secret_len,
                 const char *msg_id, int64_t timestamp_s, const char *body,
                 size_t body_len, char *out);

#endif
