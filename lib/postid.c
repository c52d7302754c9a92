/*
 * Post ids: validation of user-chosen ids and generation of sortable ones
 * (the ULID idea, shortened: ms time then randomness, Crockford base32).
 */
#include <string.h>

#include "hash.h"
#include "postid.h"

/*
 * Crockford base32 in lowercase: no i, l, o, u, so ids survive being read
 * aloud or retyped. The alphabet is in ASCII order, which is what makes
 * the ids sort like the times they encode.
 */
static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

#define TIME_CHARS 10 /* 50 bits of ms: good until the year 37648 */
#define RAND_CHARS 6  /* 30 bits */

static int id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '@' || c == '+' || c == '-';
}

int postid_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= POSTID_MAX || !id_char((unsigned char)s[n]))
			return 0;
	}
	return n > 0;
}

void postid_generate(int64_t now_ms, uint64_t rnd, char *out)
{
	uint64_t t = now_ms < 0 ? 0 : (uint64_t)now_ms;

	/* Most significant digit first, so string order is time order. */
	for (int i = TIME_CHARS - 1; i >= 0; i--) {
		out[i] = crockford[t & 31];
		t >>= 5;
	}
	for (int i = 0; i < RAND_CHARS; i++) {
		out[TIME_CHARS + i] = crockford[rnd & 31];
		rnd >>= 5;
	}
	out[TIME_CHARS + RAND_CHARS] = '\0';
}

int url_is_http(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int media_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789._-") == n;
}

uint64_t postid_hash(const char *s)
{
	return hash_str(s);
}

const char *postid_channel(const char *delivery_id)
{
	const char *slash = strchr(delivery_id, '/');

	return slash ? slash + 1 : delivery_id;
}
