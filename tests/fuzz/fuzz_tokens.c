/*
 * What a node reads back of channels' tokens (daemon/tokenseal.c,
 * tokenfile.c): a sealed box from PostgreSQL, which whoever can write to
 * the database can forge, and the text inside. A box never opens unless
 * this key sealed it for this channel and time, and whatever text is
 * sealed opens as itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tokenfile.h"
#include "tokenseal.h"

static unsigned char key[TOKENSEAL_KEY_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char secret[] = "fuzz-token-key-0123456789abcdef0123";

	(void)argc;
	(void)argv;
	return tokenseal_key((const unsigned char *)secret, strlen(secret),
	                     key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *text, *box, err[256];
	struct auth_tokens t = {.access_expires_ms = -1,
	                        .refresh_expires_ms = -1};
	int64_t saved = 0;

	/* Forged: only a box of ours opens, and none is made here. */
	if ((text = tokenseal_open(key, "x", 1700, s)) != NULL) {
		fprintf(stderr, "a forged box opened: '%s'\n", s);
		abort();
	}
	/* The text inside, as a token file. */
	if (tokenfile_decode(s, "fuzz", &t, &saved, err, sizeof(err)) == 0 &&
	    t.access == NULL && t.refresh == NULL)
		abort();
	auth_tokens_clear(&t);
	/* Sealed, it opens as itself, and for nothing else. */
	if ((box = tokenseal_seal(key, "x", 1700, s)) == NULL)
		abort();
	if ((text = tokenseal_open(key, "x", 1700, box)) == NULL ||
	    strcmp(text, s) != 0 || tokenseal_open(key, "x", 1701, box)) {
		fprintf(stderr, "'%s' did not come back\n", s);
		abort();
	}
	free(text);
	free(box);
	free(s);
	return 0;
}
