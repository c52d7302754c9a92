/*
 * Unit tests for the pure parts of channels' credentials: PKCE (RFC 7636's
 * own example), the state, reading a code back from a redirect, form
 * escaping, and token files (their text, their atomic and private write).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkce.h"
#include "tokenfile.h"
#include "tokenseal.h"

START_TEST(test_pkce_rfc7636)
{
	char challenge[PKCE_CHALLENGE_LEN];

	/* RFC 7636, appendix B. */
	pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	               challenge);
	ck_assert_str_eq(challenge,
	                 "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}
END_TEST

START_TEST(test_pkce_new)
{
	char v1[PKCE_VERIFIER_LEN], c1[PKCE_CHALLENGE_LEN],
	        v2[PKCE_VERIFIER_LEN], c2[PKCE_CHALLENGE_LEN], again[44];
	char s1[OAUTH_STATE_LEN], s2[OAUTH_STATE_LEN];

	ck_assert_int_eq(pkce_new(v1, c1), 0);
	ck_assert_int_eq(pkce_new(v2, c2), 0);
	/* 43 unreserved characters, as the RFC asks (43 to 128). */
	ck_assert_uint_eq(strlen(v1), 43);
	ck_assert_uint_eq(strspn(v1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
	                             "pqrstuvwxyz0123456789-_"),
	                  43);
	ck_assert_str_ne(v1, v2);
	pkce_challenge(v1, again);
	ck_assert_str_eq(again, c1);
	ck_assert_int_eq(oauth_state_new(s1), 0);
	ck_assert_int_eq(oauth_state_new(s2), 0);
	ck_assert_uint_eq(strlen(s1), 32);
	ck_assert_str_ne(s1, s2);
}
END_TEST

START_TEST(test_redirect_parse)
{
	char code[64], state[64], err[256];

	ck_assert_int_eq(oauth_redirect_parse(
	                         "http://127.0.0.1:8976/callback?state=ab%2Fc"
	                         "&code=Zx-9%3D%3D&extra=1#frag",
	                         code, sizeof(code), state, sizeof(state), err,
	                         sizeof(err)),
	                 0);
	ck_assert_str_eq(code, "Zx-9==");
	ck_assert_str_eq(state, "ab/c");
	/* The code alone. */
	ck_assert_int_eq(oauth_redirect_parse("plain-Code_1", code,
	                                      sizeof(code), state,
	                                      sizeof(state), err, sizeof(err)),
	                 0);
	ck_assert_str_eq(code, "plain-Code_1");
	ck_assert_str_eq(state, "");
	/* The network said no. */
	ck_assert_int_eq(
	        oauth_redirect_parse("https://x/cb?error=access_denied&error_"
	                             "description=The+user+said+no&state=s",
	                             code, sizeof(code), state, sizeof(state),
	                             err, sizeof(err)),
	        -1);
	ck_assert_ptr_nonnull(strstr(err, "access_denied: The user said no"));
	ck_assert_int_eq(oauth_redirect_parse("https://x/cb?state=s", code,
	                                      sizeof(code), state,
	                                      sizeof(state), err, sizeof(err)),
	                 -1);
	ck_assert_int_eq(oauth_redirect_parse("", code, sizeof(code), state,
	                                      sizeof(state), err, sizeof(err)),
	                 -1);
	/* A code that does not fit is refused, not cut. */
	ck_assert_int_eq(oauth_redirect_parse("https://x/cb?code=0123456789",
	                                      code, 8, state, sizeof(state),
	                                      err, sizeof(err)),
	                 -1);
}
END_TEST

START_TEST(test_form_escape)
{
	char out[64];

	ck_assert_int_eq(oauth_form_escape("a b&c=d/é~", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a%20b%26c%3Dd%2F%C3%A9~");
	ck_assert_int_eq(oauth_form_escape("abcdef", out, 4), -1);
}
END_TEST

static char dir[] = "/tmp/check_auth.XXXXXX";

START_TEST(test_tokenfile_roundtrip)
{
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1},
	                   back = {.access_expires_ms = -1,
	                           .refresh_expires_ms = -1};
	char path[512], err[256], *text;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(tokenfile_dir(dir), 0);
	ck_assert_int_eq(tokenfile_dir(dir), 0); /* there already: fine */
	ck_assert_int_eq(tokenfile_path(dir, "x", path, sizeof(path)), 0);
	ck_assert_int_eq(tokenfile_read(path, &back, NULL, err, sizeof(err)),
	                 -ENOENT);
	t.access = strdup("A1");
	t.refresh = strdup("R1");
	t.access_expires_ms = 1700000000000LL;
	t.extra = json_pack("{s:s}", "did", "did:plc:abc");
	ck_assert_ptr_nonnull((text = tokenfile_encode(&t, -1)));
	/* A stale .new from a crash does not stop the next write. */
	{
		char tmp[600];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.new", path);
		ck_assert_ptr_nonnull((f = fopen(tmp, "w")));
		fputs("half", f);
		fclose(f);
	}
	ck_assert_int_eq(tokenfile_write(path, text), 0);
	free(text);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	{
		char tmp[600];

		snprintf(tmp, sizeof(tmp), "%s.new", path);
		ck_assert_int_ne(access(tmp, F_OK), 0);
	}
	ck_assert_int_eq(tokenfile_read(path, &back, NULL, err, sizeof(err)),
	                 0);
	ck_assert_str_eq(back.access, "A1");
	ck_assert_str_eq(back.refresh, "R1");
	ck_assert(back.access_expires_ms == 1700000000000LL);
	ck_assert(back.refresh_expires_ms == -1);
	ck_assert_str_eq(json_string_value(json_object_get(back.extra, "did")),
	                 "did:plc:abc");
	/* Rotated: the new pair replaces the old whole; when it was saved
	 * is kept with it (a file of before says nothing: -1). */
	{
		int64_t saved = 0;

		ck_assert_int_eq(
		        tokenfile_read(path, &back, &saved, err, sizeof(err)),
		        0);
		ck_assert(saved == -1);
		free(t.refresh);
		t.refresh = strdup("R2");
		ck_assert_ptr_nonnull(
		        (text = tokenfile_encode(&t, 1700000000123LL)));
		ck_assert_int_eq(tokenfile_write(path, text), 0);
		ck_assert_int_eq(tokenfile_decode(text, "box", &back, &saved,
		                                  err, sizeof(err)),
		                 0);
		ck_assert(saved == 1700000000123LL);
		free(text);
		ck_assert_int_eq(
		        tokenfile_read(path, &back, &saved, err, sizeof(err)),
		        0);
		ck_assert_str_eq(back.refresh, "R2");
		ck_assert(saved == 1700000000123LL);
		/* The text is a secret: an error never quotes it. */
		ck_assert_int_eq(tokenfile_decode("{\"access_token\": Secr",
		                                  "box", &t, &saved, err,
		                                  sizeof(err)),
		                 -EINVAL);
		ck_assert_ptr_null(t.access);
		ck_assert_ptr_null(strstr(err, "Secr"));
		ck_assert_ptr_nonnull(strstr(err, "box"));
	}
	/* A copy is deep. */
	{
		struct auth_tokens c = {.access_expires_ms = -1,
		                        .refresh_expires_ms = -1};

		ck_assert_int_eq(auth_tokens_copy(&c, &back), 0);
		ck_assert_ptr_ne(c.access, back.access);
		ck_assert_str_eq(c.access, "A1");
		auth_tokens_clear(&c);
		ck_assert_ptr_null(c.access);
	}
	auth_tokens_clear(&t);
	auth_tokens_clear(&back);
}
END_TEST

/*
 * Sealed for the cluster's store: opens with the same key, channel and
 * time only, and a changed byte anywhere is refused.
 */
START_TEST(test_tokenseal)
{
	static const char text[] =
	        "{\"access_token\": \"A1-k9\", \"refresh_token\": \"R1\"}";
	unsigned char key[TOKENSEAL_KEY_LEN], other[TOKENSEAL_KEY_LEN];
	char *box, *again, *back;

	ck_assert_int_eq(tokenseal_key((const unsigned char *)"0123456789"
	                                                      "0123456789"
	                                                      "0123456789ab",
	                               32, key),
	                 0);
	ck_assert_int_eq(tokenseal_key((const unsigned char *)"0123456789"
	                                                      "0123456789"
	                                                      "0123456789ac",
	                               32, other),
	                 0);
	ck_assert_int_ne(memcmp(key, other, sizeof(key)), 0);
	/* A key's name: the same for the same key, another for another,
	 * and nothing of the key in it. */
	{
		char id[TOKENSEAL_KEY_ID_LEN], id2[TOKENSEAL_KEY_ID_LEN],
		        hex[2 * TOKENSEAL_KEY_LEN + 1];

		ck_assert_int_eq(tokenseal_key_id(key, id), 0);
		ck_assert_uint_eq(strlen(id), TOKENSEAL_KEY_ID_LEN - 1);
		ck_assert_int_eq(tokenseal_key_id(key, id2), 0);
		ck_assert_str_eq(id, id2);
		ck_assert_int_eq(tokenseal_key_id(other, id2), 0);
		ck_assert_str_ne(id, id2);
		for (int i = 0; i < TOKENSEAL_KEY_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", key[i]);
		ck_assert_ptr_null(strstr(hex, id));
	}
	ck_assert_ptr_nonnull((box = tokenseal_seal(key, "x", 1700, text)));
	ck_assert_ptr_null(strstr(box, "A1-k9"));
	ck_assert_int_eq(strncmp(box, "v1:", 3), 0);
	/* A new nonce each time: the same tokens never look the same. */
	ck_assert_ptr_nonnull((again = tokenseal_seal(key, "x", 1700, text)));
	ck_assert_str_ne(box, again);
	free(again);
	ck_assert_ptr_nonnull((back = tokenseal_open(key, "x", 1700, box)));
	ck_assert_str_eq(back, text);
	free(back);
	ck_assert_ptr_null(tokenseal_open(other, "x", 1700, box));
	ck_assert_ptr_null(tokenseal_open(key, "y", 1700, box));
	ck_assert_ptr_null(tokenseal_open(key, "x", 1701, box));
	for (size_t i = 3; box[i]; i++) {
		char was = box[i];

		box[i] = was == 'A' ? 'B' : 'A';
		back = tokenseal_open(key, "x", 1700, box);
		ck_assert_msg(back == NULL, "byte %zu changed, still opened",
		              i);
		box[i] = was;
	}
	ck_assert_ptr_null(tokenseal_open(key, "x", 1700, "v1:"));
	ck_assert_ptr_null(tokenseal_open(key, "x", 1700, "v1:abc"));
	ck_assert_ptr_null(tokenseal_open(key, "x", 1700, "v2:AAAA"));
	ck_assert_ptr_null(tokenseal_open(key, "x", 1700, ""));
	box[strlen(box) - 4] = '\0';
	ck_assert_ptr_null(tokenseal_open(key, "x", 1700, box));
	free(box);
	/* Empty text seals and opens too. */
	ck_assert_ptr_nonnull((box = tokenseal_seal(key, "x", 0, "")));
	ck_assert_ptr_nonnull((back = tokenseal_open(key, "x", 0, box)));
	ck_assert_str_eq(back, "");
	free(back);
	free(box);
}
END_TEST

START_TEST(test_tokenfile_bad)
{
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1};
	char path[600], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/auth/bad", dir);
	ck_assert_ptr_nonnull((f = fopen(path, "w")));
	fputs("{\"access_token\": \"A\",\n \"access_token\": 1}", f);
	fclose(f);
	ck_assert_int_eq(tokenfile_read(path, &t, NULL, err, sizeof(err)),
	                 -EINVAL);
	/* file:line:column. */
	ck_assert_ptr_nonnull(strstr(err, "/auth/bad:2:"));
	ck_assert_ptr_nonnull((f = fopen(path, "w")));
	fputs("{\"extra\": {}}", f);
	fclose(f);
	ck_assert_int_eq(tokenfile_read(path, &t, NULL, err, sizeof(err)),
	                 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no access_token"));
	ck_assert_ptr_null(t.access);
	unlink(path);
	snprintf(path, sizeof(path), "%s/auth/x", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/auth", dir);
	rmdir(path);
	rmdir(dir);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pkce_rfc7636);
	tcase_add_test(tc, test_pkce_new);
	tcase_add_test(tc, test_redirect_parse);
	tcase_add_test(tc, test_form_escape);
	tcase_add_test(tc, test_tokenfile_roundtrip);
	tcase_add_test(tc, test_tokenfile_bad);
	tcase_add_test(tc, test_tokenseal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	/* The token-file cases share one folder: run them in order here. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
