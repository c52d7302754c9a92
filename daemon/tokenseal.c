#include "tokenseal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define PREFIX     "v1:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define NONCE_LEN  12
#define TAG_LEN    16

/* SHA-256 of label (with its NUL) and data. */
static int labelled_hash(const char *label, const unsigned char *data,
                         size_t len, unsigned char out[TOKENSEAL_KEY_LEN])
{
	unsigned int n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(md, label, strlen(label) + 1) == 1 &&
	         EVP_DigestUpdate(md, data, len) == 1 &&
	         EVP_DigestFinal_ex(md, out, &n) == 1 && n == TOKENSEAL_KEY_LEN;

	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int tokenseal_key(const unsigned char *secret, size_t len,
                  unsigned char key[TOKENSEAL_KEY_LEN])
{
	return labelled_hash("smmd token key v1", secret, len, key);
}

/* A hash of the key under a label of its own: neither the key nor a
 * way to it, and the same on every node that read the same file. */
int tokenseal_key_id(const unsigned char key[TOKENSEAL_KEY_LEN],
                     char id[TOKENSEAL_KEY_ID_LEN])
{
	unsigned char h[TOKENSEAL_KEY_LEN];

	if (labelled_hash("smmd token key id v1", key, TOKENSEAL_KEY_LEN, h) <
	    0)
		return -1;
	for (int i = 0; i < (TOKENSEAL_KEY_ID_LEN - 1) / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", h[i]);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

/* What the box is bound to besides the key: "channel NUL saved_ms". */
static int bound_to(const char *channel, int64_t saved_ms, char **aad)
{
	size_t clen = strlen(channel);
	char ms[24];
	int mlen = snprintf(ms, sizeof(ms), "%" PRId64, saved_ms);

	if (clen > 4096 || (*aad = malloc(clen + 1 + (size_t)mlen)) == NULL)
		return -1;
	memcpy(*aad, channel, clen + 1);
	memcpy(*aad + clen + 1, ms, (size_t)mlen);
	return (int)(clen + 1 + (size_t)mlen);
}

char *tokenseal_seal(const unsigned char key[TOKENSEAL_KEY_LEN],
                     const char *channel, int64_t saved_ms, const char *text)
{
	size_t tlen = strlen(text), blen = NONCE_LEN + tlen + TAG_LEN;
	unsigned char *box = tlen < 1 << 20 ? malloc(blen) : NULL;
	char *out = NULL, *aad = NULL;
	int alen = bound_to(channel, saved_ms, &aad), n = 0, ok;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	ok = box && alen >= 0 && c && RAND_bytes(box, NONCE_LEN) == 1 &&
	     EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, box) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &n, (unsigned char *)aad, alen) == 1 &&
	     EVP_EncryptUpdate(c, box + NONCE_LEN, &n,
	                       (const unsigned char *)text, (int)tlen) == 1 &&
	     EVP_EncryptFinal_ex(c, box + NONCE_LEN + n, &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	                         box + NONCE_LEN + tlen) == 1;
	if (ok && (out = malloc(PREFIX_LEN + 4 * ((blen + 2) / 3) + 1))) {
		memcpy(out, PREFIX, PREFIX_LEN);
		EVP_EncodeBlock((unsigned char *)out + PREFIX_LEN, box,
		                (int)blen);
	}
	EVP_CIPHER_CTX_free(c);
	free(aad);
	if (box) {
		OPENSSL_cleanse(box, blen);
		free(box);
	}
	return out;
}

/* Only the one spelling of a box opens it: base64's spare bits unset. */
static int canonical(const unsigned char *box, size_t blen, const char *b64,
                     size_t len)
{
	char *again = malloc(len + 1);
	int same = again &&
	           (size_t)EVP_EncodeBlock((unsigned char *)again, box,
	                                   (int)blen) == len &&
	           memcmp(again, b64, len) == 0;

	free(again);
	return same;
}

char *tokenseal_open(const unsigned char key[TOKENSEAL_KEY_LEN],
                     const char *channel, int64_t saved_ms, const char *sealed)
{
	size_t slen = strlen(sealed), blen, tlen;
	unsigned char *box = NULL;
	char *text = NULL, *aad = NULL;
	int alen, n = 0, pad = 0, ok;
	EVP_CIPHER_CTX *c;

	if (slen < PREFIX_LEN || memcmp(sealed, PREFIX, PREFIX_LEN) != 0)
		return NULL;
	sealed += PREFIX_LEN;
	slen -= PREFIX_LEN;
	if (slen % 4 != 0 || slen > 4 << 20 ||
	    (box = malloc(slen / 4 * 3)) == NULL)
		return NULL;
	/* EVP_DecodeBlock keeps the padding's zero bytes: count them off. */
	if (EVP_DecodeBlock(box, (const unsigned char *)sealed, (int)slen) <
	    0) {
		free(box);
		return NULL;
	}
	while (pad < 2 && slen > 0 && sealed[slen - 1 - (size_t)pad] == '=')
		pad++;
	blen = slen / 4 * 3 - (size_t)pad;
	if (blen < NONCE_LEN + TAG_LEN || !canonical(box, blen, sealed, slen)) {
		free(box);
		return NULL;
	}
	tlen = blen - NONCE_LEN - TAG_LEN;
	alen = bound_to(channel, saved_ms, &aad);
	c = EVP_CIPHER_CTX_new();
	text = malloc(tlen + 1);
	ok = text && alen >= 0 && c &&
	     EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, box) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &n, (unsigned char *)aad, alen) == 1 &&
	     EVP_DecryptUpdate(c, (unsigned char *)text, &n, box + NONCE_LEN,
	                       (int)tlen) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	                         box + NONCE_LEN + tlen) == 1 &&
	     EVP_DecryptFinal_ex(c, (unsigned char *)text + n, &n) == 1 &&
	     memchr(text, '\0', tlen) == NULL;
	EVP_CIPHER_CTX_free(c);
	free(aad);
	OPENSSL_cleanse(box, slen / 4 * 3);
	free(box);
	if (!ok) {
		if (text) {
			OPENSSL_cleanse(text, tlen + 1);
			free(text);
		}
		return NULL;
	}
	text[tlen] = '\0';
	return text;
}
