#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "pkce.h"

static void base64url(const unsigned char *in, size_t n, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	/* Without padding, as RFC 7636 section 3 spells it. */
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = abc[v & 63];
	}
	out[o] = '\0';
}

void pkce_challenge(const char *verifier, char challenge[PKCE_CHALLENGE_LEN])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	base64url(md, sizeof(md), challenge);
}

int pkce_new(char verifier[PKCE_VERIFIER_LEN],
             char challenge[PKCE_CHALLENGE_LEN])
{
	unsigned char rnd[32];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	base64url(rnd, sizeof(rnd), verifier);
	pkce_challenge(verifier, challenge);
	return 0;
}

int oauth_state_new(char state[OAUTH_STATE_LEN])
{
	unsigned char rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(state + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* The query parameter name's value in q (up to '#'), decoded; 0 if absent. */
static int query_get(const char *q, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);

	while (q && *q && *q != '#') {
		const char *end = q + strcspn(q, "&#");

		if ((size_t)(end - q) > nlen && strncmp(q, name, nlen) == 0 &&
		    q[nlen] == '=') {
			size_t o = 0;

			for (const char *p = q + nlen + 1; p < end; p++) {
				int c = (unsigned char)*p, h, l;

				if (c == '+')
					c = ' ';
				else if (c == '%' && p + 2 < end &&
				         (h = hexval((unsigned char)p[1])) >=
				                 0 &&
				         (l = hexval((unsigned char)p[2])) >=
				                 0) {
					c = h * 16 + l;
					p += 2;
				}
				if (o + 1 >= cap)
					return -1;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 1;
		}
		q = *end == '&' ? end + 1 : NULL;
	}
	return 0;
}

int oauth_redirect_parse(const char *input, char *code, size_t codecap,
                         char *state, size_t statecap, char *err, size_t errlen)
{
	const char *q = strchr(input, '?');
	char e[256];

	state[0] = '\0';
	if (q == NULL && strchr(input, '=') == NULL &&
	    strstr(input, "://") == NULL) {
		/* The code alone. */
		if (input[0] == '\0' || strlen(input) >= codecap ||
		    strpbrk(input, " \t\r\n") != NULL) {
			snprintf(err, errlen, "no authorization code given");
			return -1;
		}
		snprintf(code, codecap, "%s", input);
		return 0;
	}
	q = q ? q + 1 : input;
	if (query_get(q, "error", e, sizeof(e)) == 1) {
		char desc[256] = "";

		query_get(q, "error_description", desc, sizeof(desc));
		snprintf(err, errlen, "the network refused: %s%s%s", e,
		         desc[0] ? ": " : "", desc);
		return -1;
	}
	if (query_get(q, "code", code, codecap) != 1 || code[0] == '\0') {
		snprintf(err, errlen, "no code= in the address given");
		return -1;
	}
	if (query_get(q, "state", state, statecap) < 0) {
		snprintf(err, errlen, "the state= in the address is too long");
		return -1;
	}
	return 0;
}

int oauth_form_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	/* RFC 3986 unreserved characters pass; every other byte is %XX. */
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c)) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= cap)
				return -1;
			snprintf(out + o, 4, "%%%02X", c);
			o += 3;
		}
	}
	out[o] = '\0';
	return 0;
}
