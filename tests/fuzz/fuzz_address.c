/*
 * What guards the URLs taken from posts: the URL check (daemon/urlcheck.c)
 * and the address guard (lib/addrguard.c). The first byte chooses:
 *   0: 4 bytes, an IPv4 address;   1: 16 bytes, an IPv6 address;
 *   2: a socket address of any family, as raw bytes;
 *   3: a literal address in any spelling getaddrinfo takes;
 *   anything else: a URL, with the check's flags from its low bits.
 * An IPv4 address and its IPv4-mapped, NAT64 and 6to4 forms must be
 * judged alike: no spelling may reach what the plain one may not.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addrguard.h"
#include "fuzz.h"
#include "urlcheck.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int judge_v6(const uint8_t a[16])
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	char why[64];

	memcpy(in6.sin6_addr.s6_addr, a, 16);
	return addrguard_public((struct sockaddr *)&in6, why, sizeof(why));
}

/* v4 (network order) alone and in each IPv6 form that carries it. */
static void judge_v4(const uint8_t v4[4])
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff};
	uint8_t nat64[16] = {0x00, 0x64, 0xff, 0x9b};
	uint8_t six2four[16] = {0x20, 0x02};
	char why[64];
	int plain;

	memcpy(&in.sin_addr.s_addr, v4, 4);
	plain = addrguard_public((struct sockaddr *)&in, why, sizeof(why));
	memcpy(mapped + 12, v4, 4);
	memcpy(nat64 + 12, v4, 4);
	memcpy(six2four + 2, v4, 4);
	if (judge_v6(mapped) != plain || judge_v6(nat64) != plain ||
	    judge_v6(six2four) != plain) {
		fprintf(stderr, "%u.%u.%u.%u: its IPv6 forms judged apart\n",
		        v4[0], v4[1], v4[2], v4[3]);
		abort();
	}
}

static void judge_literal(const char *s)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *res, *ai;

	if (getaddrinfo(s, NULL, &hints, &res) != 0)
		return;
	for (ai = res; ai; ai = ai->ai_next) {
		char why[64];

		if (ai->ai_family == AF_INET)
			judge_v4((const uint8_t *)&(
			                 (struct sockaddr_in *)ai->ai_addr)
			                 ->sin_addr.s_addr);
		else
			addrguard_public(ai->ai_addr, why, sizeof(why));
	}
	freeaddrinfo(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	char why[64], *s;

	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		if (size >= 5)
			judge_v4(data + 1);
		break;
	case 1:
		if (size >= 17)
			judge_v6(data + 1);
		break;
	case 2:
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, data + 1,
		       size - 1 < sizeof(ss) ? size - 1 : sizeof(ss));
		addrguard_public((struct sockaddr *)&ss, why, sizeof(why));
		/* A reason too short for the message is cut, never overrun. */
		addrguard_public((struct sockaddr *)&ss, why, 3);
		break;
	case 3:
		s = fuzz_cstr(data + 1, size - 1);
		judge_literal(s);
		free(s);
		break;
	default:
		s = fuzz_cstr(data + 1, size - 1);
		urlcheck(s, data[0] & (URLCHECK_PREFIX | URLCHECK_HOSTLESS));
		free(s);
		break;
	}
	return 0;
}
