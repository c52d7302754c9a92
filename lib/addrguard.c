#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addrguard.h"

struct v4_range {
	uint32_t net;
	unsigned bits;
	const char *what;
};

/* Everything that is not a public unicast destination. */
static const struct v4_range v4_blocked[] = {
        {0x00000000, 8, "unspecified"},     /* 0.0.0.0/8 */
        {0x0a000000, 8, "private"},         /* 10.0.0.0/8 */
        {0x64400000, 10, "shared (CGNAT)"}, /* 100.64.0.0/10 */
        {0x7f000000, 8, "loopback"},        /* 127.0.0.0/8 */
        {0xa9fe0000, 16, "link-local"},     /* 169.254.0.0/16, metadata */
        {0xac100000, 12, "private"},        /* 172.16.0.0/12 */
        {0xc0000000, 24, "reserved"},       /* 192.0.0.0/24 */
        {0xc0000200, 24, "documentation"},  /* 192.0.2.0/24 */
        {0xc0a80000, 16, "private"},        /* 192.168.0.0/16 */
        {0xc6120000, 15, "benchmarking"},   /* 198.18.0.0/15 */
        {0xc6336400, 24, "documentation"},  /* 198.51.100.0/24 */
        {0xcb007100, 24, "documentation"},  /* 203.0.113.0/24 */
        {0xe0000000, 4, "multicast"},       /* 224.0.0.0/4 */
        {0xf0000000, 4, "reserved"},        /* 240.0.0.0/4 + broadcast */
};

static int v4_public(uint32_t a, char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof(v4_blocked) / sizeof(v4_blocked[0]);
	     i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_blocked[i].bits);

		if ((a & mask) == v4_blocked[i].net) {
			if (why)
				snprintf(why, whylen, "%s address",
				         v4_blocked[i].what);
			return 0;
		}
	}
	return 1;
}

static uint32_t v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int v6_public(const uint8_t *a, char *why, size_t whylen)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const uint8_t nat64_local[6] = {0x00, 0x64, 0xff,
	                                       0x9b, 0x00, 0x01};
	const char *what = NULL;

	/* Forms that carry an IPv4 address: judge that address. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_public(v4_at(a + 12), why, whylen);
	if (memcmp(a, zero, 12) == 0 && v4_at(a + 12) > 1) /* compatible */
		return v4_public(v4_at(a + 12), why, whylen);
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 2002::/16 */
		return v4_public(v4_at(a + 2), why, whylen);

	if (memcmp(a, zero, 15) == 0 && a[15] <= 1)
		what = a[15] ? "loopback" : "unspecified";
	else if (a[0] == 0xff)
		what = "multicast";
	else if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		what = "link-local";
	else if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		what = "site-local";
	else if ((a[0] & 0xfe) == 0xfc)
		what = "private (ULA)";
	else if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		what = "documentation";
	else if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0)
		what = "documentation"; /* 3fff::/20, RFC 9637 */
	else if (memcmp(a, nat64_local, 6) == 0)
		/*
		 * 64:ff9b:1::/48 (RFC 8215): a site's own translator, which
		 * may embed the IPv4 address anywhere and reach private
		 * hosts behind it; we can't tell which, so refuse.
		 */
		what = "NAT64 local-use";
	else if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x02 &&
	         a[4] == 0 && a[5] == 0)
		what = "benchmarking"; /* 2001:2::/48 */
	else if (a[0] == 0x01 && a[1] == 0x00 && memcmp(a + 2, zero, 6) == 0)
		what = "discard-only";
	else if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00)
		what = "Teredo"; /* tunnels to an IPv4 address we can't judge */
	if (what == NULL)
		return 1;
	if (why)
		snprintf(why, whylen, "%s address", what);
	return 0;
}

int addrguard_public(const struct sockaddr *sa, char *why, size_t whylen)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return v4_public(ntohl(in->sin_addr.s_addr), why, whylen);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		        (const struct sockaddr_in6 *)sa;

		return v6_public(in6->sin6_addr.s6_addr, why, whylen);
	}
	if (why)
		snprintf(why, whylen, "not an IP address");
	return 0;
}
