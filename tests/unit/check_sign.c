/*
 * Unit tests for lib/sign.c. Every expected signature was computed
 * independently of this code, with the OpenSSL command line tool (and
 * cross-checked with Python's hmac module); the command is above each one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sign.h"

START_TEST(test_known_vector)
{
	char out[SIGN_HEADER_LEN];
	const char *body = "{\"a\":1}";

	/*
	 * printf 'msg_id.1700000000.{"a":1}' |
	 *     openssl dgst -sha256 -hmac 'secret' -binary | base64
	 */
	ck_assert_int_eq(sign_webhook((const unsigned char *)"secret", 6,
	                              "msg_id", 1700000000, body, strlen(body),
	                              out),
	                 0);
	ck_assert_str_eq(out,
	                 "v1,y/6tFBshJRZSRLbxc2C62x6DCbDRKNMe7+X2+s7vft0=");
	ck_assert_uint_eq(strlen(out), SIGN_HEADER_LEN - 1);
}
END_TEST

START_TEST(test_standard_webhooks_example)
{
	/*
	 * The example in the Standard Webhooks specification: secret
	 * "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", whose key is the base64
	 * decoding of the part after "whsec_". Checked with
	 * printf 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}'
	 * |
	 *     openssl dgst -sha256 -mac HMAC -binary \
	 *     -macopt hexkey:31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0 |
	 *     base64
	 */
	static const unsigned char key[] = {
	        0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a,
	        0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c,
	        0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0,
	};
	const char *body = "{\"test\": 2432232314}";
	char out[SIGN_HEADER_LEN];

	ck_assert_int_eq(sign_webhook(key, sizeof(key),
	                              "msg_p5jXN8AQM9LWM0D4loKWxJek",
	                              1614265330, body, strlen(body), out),
	                 0);
	ck_assert_str_eq(out,
	                 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
END_TEST

START_TEST(test_binary_secret_empty_body)
{
	/* NUL bytes inside the secret count: it is bytes, not a C string. */
	static const unsigned char key[] = {0x00, 0xff, 0x01, 0x73, 0x00};
	char out[SIGN_HEADER_LEN];

	/*
	 * printf 'msg_2.1700000001.' | openssl dgst -sha256 -mac HMAC \
	 *     -macopt hexkey:00ff017300 -binary | base64
	 */
	ck_assert_int_eq(
	        sign_webhook(key, sizeof(key), "msg_2", 1700000001, "", 0, out),
	        0);
	ck_assert_str_eq(out,
	                 "v1,5PAEOzHLIp1DiQBrLZgsiXqcJ/XYUCDdM3ydOXu8Bjk=");
	/* A NULL body of length 0 is the same empty body. */
	ck_assert_int_eq(sign_webhook(key, sizeof(key), "msg_2", 1700000001,
	                              NULL, 0, out),
	                 0);
	ck_assert_str_eq(out,
	                 "v1,5PAEOzHLIp1DiQBrLZgsiXqcJ/XYUCDdM3ydOXu8Bjk=");
	/*
	 * Read as a C string the key would be empty; that signs differently.
	 * (A trailing NUL would not tell: HMAC zero-pads keys.)
	 */
	ck_assert_int_eq(sign_webhook(key, 0, "msg_2", 1700000001, "", 0, out),
	                 0);
	ck_assert_str_ne(out,
	                 "v1,5PAEOzHLIp1DiQBrLZgsiXqcJ/XYUCDdM3ydOXu8Bjk=");
}
END_TEST

START_TEST(test_empty_secret)
{
	char out[SIGN_HEADER_LEN];

	/*
	 * The openssl tool refuses an empty key, so this one comes from
	 * python3 -c 'import hmac,hashlib,base64;
	 *     print(base64.b64encode(hmac.new(b"", b"msg_3.0.{}",
	 *     hashlib.sha256).digest()).decode())'
	 */
	ck_assert_int_eq(sign_webhook(NULL, 0, "msg_3", 0, "{}", 2, out), 0);
	ck_assert_str_eq(out,
	                 "v1,yQVaXDR75Uihwl/gNDxGXvzdw6H7h4PdYnqOOjL/m8M=");
	ck_assert_int_eq(sign_webhook((const unsigned char *)"", 0, "msg_3", 0,
	                              "{}", 2, out),
	                 0);
	ck_assert_str_eq(out,
	                 "v1,yQVaXDR75Uihwl/gNDxGXvzdw6H7h4PdYnqOOjL/m8M=");
}
END_TEST

START_TEST(test_body_bytes_and_inputs_matter)
{
	/* The body length is honoured: bytes after it are not signed. */
	const char *body = "{\"a\":1}GARBAGE";
	char a[SIGN_HEADER_LEN], b[SIGN_HEADER_LEN];

	ck_assert_int_eq(sign_webhook((const unsigned char *)"secret", 6,
	                              "msg_id", 1700000000, body, 7, a),
	                 0);
	ck_assert_str_eq(a, "v1,y/6tFBshJRZSRLbxc2C62x6DCbDRKNMe7+X2+s7vft0=");
	/* Any change to id or timestamp changes the signature. */
	ck_assert_int_eq(sign_webhook((const unsigned char *)"secret", 6,
	                              "msg_id", 1700000001, body, 7, b),
	                 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(sign_webhook((const unsigned char *)"secret", 6,
	                              "msg_ie", 1700000000, body, 7, b),
	                 0);
	ck_assert_str_ne(a, b);
	/* No id, or a NULL body with a length, is refused. */
	ck_assert_int_eq(sign_webhook((const unsigned char *)"secret", 6, NULL,
	                              1700000000, body, 7, b),
	                 -1);
	ck_assert_int_eq(sign_webhook((const unsigned char *)"secret", 6,
	                              "msg_id", 1700000000, NULL, 7, b),
	                 -1);
}
END_TEST

/* Decode a secret file's bytes with sign_key(); its return value. */
static int key_of(const char *file, unsigned char *buf, size_t *len)
{
	size_t n = strlen(file);

	memcpy(buf, file, n + 1);
	return sign_key(buf, n, len);
}

START_TEST(test_whsec_secret_is_decoded)
{
	/* The specification's example secret, with a newline after it. */
	static const unsigned char want[] = {
	        0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a,
	        0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c,
	        0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0,
	};
	unsigned char buf[128];
	size_t len = 0;
	char out[SIGN_HEADER_LEN];
	const char *body = "{\"test\": 2432232314}";

	ck_assert_int_eq(
	        key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", buf, &len),
	        0);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(sign_webhook(buf, len, "msg_p5jXN8AQM9LWM0D4loKWxJek",
	                              1614265330, body, strlen(body), out),
	                 0);
	ck_assert_str_eq(out,
	                 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* Padding: 32 bytes are 43 characters and one '='. */
	ck_assert_int_eq(
	        key_of("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	               "=",
	               buf, &len),
	        0);
	ck_assert_uint_eq(len, 32);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(buf[31], 31);
}
END_TEST

START_TEST(test_raw_secret_is_kept)
{
	unsigned char buf[128];
	size_t len = 0;

	/* What smmd.yaml(5) used to say: base64 text, used as bytes. */
	ck_assert_int_eq(key_of("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", buf, &len),
	                 0);
	ck_assert_uint_eq(len, 32);
	ck_assert_mem_eq(buf, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32);
	ck_assert_int_eq(key_of("whsec", buf, &len), 0);
	ck_assert_uint_eq(len, 5);
}
END_TEST

START_TEST(test_bad_whsec_secret_is_refused)
{
	unsigned char buf[256];
	size_t len = 0;

	ck_assert_int_eq(key_of("whsec_", buf, &len), -1);
	ck_assert_int_eq(
	        key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", buf, &len),
	        -1); /* not whole quanta */
	ck_assert_int_eq(
	        key_of("whsec_MfKQ9r8GKYqrTwjUPD8I*PZIo2LaLaSw", buf, &len),
	        -1); /* not base64 */
	ck_assert_int_eq(
	        key_of("whsec_MfKQ9r8G=YqrTwjUPD8ILPZIo2LaLaSw", buf, &len),
	        -1); /* '=' inside */
	ck_assert_int_eq(key_of("whsec_MfKQ9r8GKYqrTwjUPD8I", buf, &len),
	                 -1); /* 18 bytes: too short a key */
	ck_assert_int_eq(
	        key_of("whsec_"
	               "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp"
	               "KissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=",
	               buf, &len),
	        -1); /* 65 bytes: too long */
}
END_TEST

START_TEST(test_new_secret_round_trips)
{
	char a[SIGN_NEW_SECRET_LEN], b[SIGN_NEW_SECRET_LEN];
	unsigned char buf[128];
	size_t len = 0;

	ck_assert_int_eq(sign_new_secret(a), 0);
	ck_assert_int_eq(sign_new_secret(b), 0);
	ck_assert_uint_eq(strlen(a), SIGN_NEW_SECRET_LEN - 1);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(key_of(a, buf, &len), 0);
	ck_assert_uint_eq(len, SIGN_NEW_KEY_LEN);
}
END_TEST

/*
 * smmd keeps a keyed HMAC per thread for the last two secrets: signing
 * with three secrets in turn, and with one too long to keep, must give
 * each its own signature every time, whatever was signed before.
 *   printf 'msg_id.1700000000.{"a":1}' |
 *       openssl dgst -sha256 -hmac KEY -binary | base64
 * (KEY: secret, other-secret, third; and 100 times 'k' for the long one)
 */
START_TEST(test_secrets_in_turn)
{
	static const struct {
		const char *key;
		const char *sig;
	} want[] = {
	        {"secret", "v1,y/6tFBshJRZSRLbxc2C62x6DCbDRKNMe7+X2+s7vft0="},
	        {"other-secret",
	         "v1,nDQcDPjBw166VBuAHOPl8aMbAHBFgoOxuiFXSjsZsnY="},
	        {"third", "v1,gtJ0jkAEy2+wJo233QjakgRD/+K0M5R5JoenRrD3CAc="},
	        {NULL, "v1,mbmmBWkSYw1gDtl1v+Ahfw8BvXDiYFuoWRrGNZLffzo="},
	};
	static const int order[] = {0, 1, 0, 1, 2, 0, 3, 1, 3, 2, 2, 0};
	const char *body = "{\"a\":1}";
	char longkey[100], out[SIGN_HEADER_LEN];

	memset(longkey, 'k', sizeof(longkey));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int w = order[i];
		const char *key = want[w].key ? want[w].key : longkey;
		size_t len = want[w].key ? strlen(key) : sizeof(longkey);

		ck_assert_int_eq(sign_webhook((const unsigned char *)key, len,
		                              "msg_id", 1700000000, body,
		                              strlen(body), out),
		                 0);
		ck_assert_msg(strcmp(out, want[w].sig) == 0,
		              "step %zu, key %d: %s", i, w, out);
	}
}
END_TEST

/*
 * The warm-up at start signs once with the empty key and keeps that
 * context: the keys signed with after it, and the empty one, still get
 * their own signatures (the vectors above).
 */
START_TEST(test_warm_keeps_signatures)
{
	static const struct {
		const char *key, *msg_id, *body, *sig;
		int64_t ts;
	} want[] = {
	        {"secret", "msg_id", "{\"a\":1}",
	         "v1,y/6tFBshJRZSRLbxc2C62x6DCbDRKNMe7+X2+s7vft0=", 1700000000},
	        {"other-secret", "msg_id", "{\"a\":1}",
	         "v1,nDQcDPjBw166VBuAHOPl8aMbAHBFgoOxuiFXSjsZsnY=", 1700000000},
	        {"", "msg_3", "{}",
	         "v1,yQVaXDR75Uihwl/gNDxGXvzdw6H7h4PdYnqOOjL/m8M=", 0},
	        {"secret", "msg_id", "{\"a\":1}",
	         "v1,y/6tFBshJRZSRLbxc2C62x6DCbDRKNMe7+X2+s7vft0=", 1700000000},
	};
	char out[SIGN_HEADER_LEN];

	sign_warm();
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(
		        sign_webhook((const unsigned char *)want[i].key,
		                     strlen(want[i].key), want[i].msg_id,
		                     want[i].ts, want[i].body,
		                     strlen(want[i].body), out),
		        0);
		ck_assert_msg(strcmp(out, want[i].sig) == 0, "step %zu: %s", i,
		              out);
	}
}
END_TEST

static Suite *sign_suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_known_vector);
	tcase_add_test(tc, test_secrets_in_turn);
	tcase_add_test(tc, test_warm_keeps_signatures);
	tcase_add_test(tc, test_standard_webhooks_example);
	tcase_add_test(tc, test_binary_secret_empty_body);
	tcase_add_test(tc, test_empty_secret);
	tcase_add_test(tc, test_body_bytes_and_inputs_matter);
	tcase_add_test(tc, test_whsec_secret_is_decoded);
	tcase_add_test(tc, test_raw_secret_is_kept);
	tcase_add_test(tc, test_bad_whsec_secret_is_refused);
	tcase_add_test(tc, test_new_secret_round_trips);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(sign_suite)
