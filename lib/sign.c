/*
 * Standard Webhooks signing with OpenSSL 3's EVP_MAC. The message is fed in
 * pieces, so a large body is never copied just to be signed.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "numfmt.h"
#include "sign.h"

#define SHA256_LEN 32

/*
 * A keyed HMAC context per thread for each of the last two secrets (a
 * channel signs with one, or two while one is retired): fetching the
 * algorithm, making a context and keying it cost more than signing a
 * webhook's body. Re-initialising with a NULL key keeps the key.
 */
struct keyed_mac {
	unsigned char key[SIGN_KEY_MAX];
	size_t len;
	EVP_MAC_CTX *ctx;
};

static _Thread_local struct keyed_mac keyed[2];
static _Thread_local unsigned keyed_next;

/* A fresh context keyed with secret, or NULL. */
static EVP_MAC_CTX *mac_new(const unsigned char *secret, size_t secret_len)
{
	static const unsigned char empty[1];
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	EVP_MAC *hmac;
	EVP_MAC_CTX *ctx = NULL;

	/*
	 * A NULL key tells EVP_MAC_init "keep the previous key", and there
	 * is none: an empty secret must still be passed as a pointer.
	 */
	if (secret == NULL || secret_len == 0) {
		secret = empty;
		secret_len = 0;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	                                             digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (ctx = EVP_MAC_CTX_new(hmac)) != NULL &&
	    !EVP_MAC_init(ctx, secret, secret_len, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_MAC_free(hmac);
	return ctx;
}

/* secret's context, ready for a new message; NULL on failure. */
static EVP_MAC_CTX *mac_for(const unsigned char *secret, size_t secret_len)
{
	struct keyed_mac *k;

	if (secret_len > SIGN_KEY_MAX)
		return NULL;
	for (int i = 0; i < 2; i++) {
		k = &keyed[i];
		if (k->ctx && k->len == secret_len &&
		    (secret_len == 0 ||
		     memcmp(k->key, secret, secret_len) == 0))
			return EVP_MAC_init(k->ctx, NULL, 0, NULL) ? k->ctx
			                                           : NULL;
	}
	k = &keyed[keyed_next++ % 2];
	EVP_MAC_CTX_free(k->ctx);
	k->len = 0;
	if ((k->ctx = mac_new(secret, secret_len)) == NULL)
		return NULL;
	if (secret_len > 0)
		memcpy(k->key, secret, secret_len);
	k->len = secret_len;
	return k->ctx;
}

/* HMAC-SHA256 of "<msg_id>.<timestamp_s>.<body>" into mac. */
static int hmac_message(const unsigned char *secret, size_t secret_len,
                        const char *msg_id, int64_t timestamp_s,
                        const char *body, size_t body_len,
                        unsigned char mac[SHA256_LEN])
{
	EVP_MAC_CTX *ctx;
	EVP_MAC_CTX *own = NULL; /* a secret too long to keep */
	char ts[NUMFMT_I64_LEN];
	size_t mac_len = 0, n = numfmt_i64(ts, timestamp_s);
	int ret = -1;

	if ((ctx = mac_for(secret, secret_len)) == NULL &&
	    (ctx = own = mac_new(secret, secret_len)) == NULL)
		return -1;
	if (!EVP_MAC_update(ctx, (const unsigned char *)msg_id,
	                    strlen(msg_id)) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)".", 1) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)ts, n) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)".", 1) ||
	    (body_len > 0 &&
	     !EVP_MAC_update(ctx, (const unsigned char *)body, body_len)) ||
	    !EVP_MAC_final(ctx, mac, &mac_len, SHA256_LEN) ||
	    mac_len != SHA256_LEN)
		goto out;
	ret = 0;
out:
	EVP_MAC_CTX_free(own);
	return ret;
}

int sign_webhook(const unsigned char *secret, size_t secret_len,
                 const char *msg_id, int64_t timestamp_s, const char *body,
                 size_t body_len, char *out)
{
	unsigned char mac[SHA256_LEN];
	int n;

	if (msg_id == NULL || (body == NULL && body_len > 0))
		return -1;
	if (hmac_message(secret, secret_len, msg_id, timestamp_s, body,
	                 body_len, mac) < 0)
		return -1;
	memcpy(out, "v1,", 3);
	/* 32 bytes encode to 44 characters plus the NUL EVP writes. */
	n = EVP_EncodeBlock((unsigned char *)out + 3, mac, SHA256_LEN);
	if (n != SIGN_HEADER_LEN - 4)
		return -1;
	return 0;
}

int sign_key(unsigned char *buf, size_t len, size_t *key_len)
{
	unsigned char key[SIGN_KEY_MAX + 3];
	size_t n, pad = 0;
	int out;

	if (len < 6 || memcmp(buf, "whsec_", 6) != 0) {
		*key_len = len;
		return 0;
	}
	while (len > 6 && isspace(buf[len - 1]))
		len--;
	n = len - 6;
	/* EVP_DecodeBlock takes whole quanta and counts '=' as zero bytes. */
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(key))
		return -1;
	for (size_t i = 6; i < len; i++)
		if (!isalnum(buf[i]) && buf[i] != '+' && buf[i] != '/' &&
		    !(buf[i] == '=' && i >= len - 2))
			return -1;
	pad = (buf[len - 1] == '=') + (buf[len - 2] == '=');
	if (buf[len - 1] != '=' && pad)
		return -1;
	out = EVP_DecodeBlock(key, buf + 6, (int)n);
	if (out < 0 || (size_t)out < pad)
		return -1;
	n = (size_t)out - pad;
	if (n < SIGN_KEY_MIN || n > SIGN_KEY_MAX) {
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	memcpy(buf, key, n);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(buf + n, len - n);
	*key_len = n;
	return 0;
}

int sign_new_secret(char out[SIGN_NEW_SECRET_LEN])
{
	unsigned char key[SIGN_NEW_KEY_LEN];

	if (RAND_bytes(key, sizeof(key)) != 1)
		return -1;
	memcpy(out, "whsec_", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

void sign_warm(void)
{
	char out[SIGN_HEADER_LEN];

	(void)sign_webhook(NULL, 0, "warm", 0, "", 0, out);
}
