/*
 * Unit tests for lib/addrguard.c: which resolved addresses a URL taken from
 * a post may reach. Each address is given as text and turned into the
 * sockaddr curl would hand to CURLOPT_OPENSOCKETFUNCTION, so the test sees
 * exactly what the guard sees after DNS.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "addrguard.h"
#include "check_main.h"

/* Judge one textual address; the reason goes to why (may be NULL). */
static int judge(const char *text, char *why, size_t whylen)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, text, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		in.sin_port = htons(443);
		return addrguard_public((struct sockaddr *)&in, why, whylen);
	}
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons(443);
		return addrguard_public((struct sockaddr *)&in6, why, whylen);
	}
	ck_abort_msg("the test's address '%s' does not parse", text);
	return -1;
}

/* text must be refused, and the reason must mention what (if given). */
static void assert_blocked(const char *text, const char *what)
{
	char why[64] = "";

	ck_assert_msg(judge(text, why, sizeof(why)) == 0,
	              "%s was allowed, expected it refused", text);
	ck_assert_msg(why[0] != '\0', "%s refused without a reason", text);
	if (what)
		ck_assert_msg(strstr(why, what) != NULL,
		              "%s refused as '%s', expected '%s'", text, why,
		              what);
	/* Without a buffer for the reason the verdict is the same. */
	ck_assert_int_eq(judge(text, NULL, 0), 0);
}

static void assert_public(const char *text)
{
	char why[64] = "untouched";

	ck_assert_msg(judge(text, why, sizeof(why)) == 1,
	              "%s was refused (%s), expected it allowed", text, why);
	ck_assert_int_eq(judge(text, NULL, 0), 1);
}

START_TEST(test_loopback)
{
	assert_blocked("127.0.0.1", "loopback");
	assert_blocked("127.255.255.254", "loopback");
	assert_blocked("127.1.2.3", "loopback");
	assert_blocked("::1", "loopback");
}
END_TEST

START_TEST(test_private_v4)
{
	assert_blocked("10.0.0.1", "private");
	assert_blocked("10.255.255.255", "private");
	assert_public("11.0.0.1");
	assert_public("9.255.255.255");
	/* 172.16.0.0/12 is 172.16.0.0 to 172.31.255.255, nothing more. */
	assert_public("172.15.255.255");
	assert_blocked("172.16.0.0", "private");
	assert_blocked("172.20.1.1", "private");
	assert_blocked("172.31.255.255", "private");
	assert_public("172.32.0.0");
	assert_blocked("192.168.0.1", "private");
	assert_blocked("192.168.255.255", "private");
	assert_public("192.169.0.1");
	assert_public("192.167.255.255");
}
END_TEST

START_TEST(test_link_local_and_metadata)
{
	/* The cloud metadata service lives at a link-local address. */
	assert_blocked("169.254.169.254", "link-local");
	assert_blocked("169.254.0.1", "link-local");
	assert_public("169.253.255.255");
	assert_public("169.255.0.1");
	assert_blocked("fe80::1", "link-local");
	assert_blocked("febf:ffff::1", "link-local");
	assert_blocked("fec0::1", "site-local");
}
END_TEST

START_TEST(test_ula)
{
	assert_blocked("fc00::1", "ULA");
	assert_blocked("fd12::1", "ULA");
	assert_blocked("fdff:ffff::1", "ULA");
	assert_public("fe00::1"); /* outside fc00::/7 and fe80::/10 */
}
END_TEST

START_TEST(test_cgnat_unspecified_multicast_broadcast)
{
	assert_blocked("100.64.0.1", "CGNAT");
	assert_blocked("100.127.255.255", "CGNAT");
	assert_public("100.63.255.255");
	assert_public("100.128.0.0");
	assert_blocked("0.0.0.0", "unspecified");
	assert_blocked("0.1.2.3", "unspecified");
	assert_blocked("::", "unspecified");
	assert_blocked("224.0.0.1", "multicast");
	assert_blocked("239.255.255.250", "multicast");
	assert_blocked("ff02::1", "multicast");
	assert_blocked("ff0e::1", "multicast");
	assert_blocked("255.255.255.255", NULL);
	assert_blocked("240.0.0.1", "reserved");
}
END_TEST

START_TEST(test_reserved_and_documentation)
{
	assert_blocked("192.0.2.1", "documentation");
	assert_blocked("198.51.100.7", "documentation");
	assert_blocked("203.0.113.9", "documentation");
	assert_blocked("198.18.0.1", "benchmarking");
	assert_blocked("198.19.255.255", "benchmarking");
	assert_public("198.20.0.1");
	assert_blocked("192.0.0.8", "reserved");
	assert_blocked("2001:db8::1", "documentation");
	assert_blocked("3fff::1", "documentation");
	assert_blocked("100::1", "discard");
	assert_blocked("2001:2::1", "benchmarking");
	assert_blocked("2001::1", "Teredo");
}
END_TEST

START_TEST(test_v4_mapped_and_compatible)
{
	assert_blocked("::ffff:127.0.0.1", "loopback");
	assert_blocked("::ffff:10.0.0.1", "private");
	assert_blocked("::ffff:169.254.169.254", "link-local");
	assert_public("::ffff:8.8.8.8");
	/* The deprecated IPv4-compatible form carries an address too. */
	assert_blocked("::127.0.0.1", "loopback");
	assert_blocked("::10.0.0.1", "private");
}
END_TEST

START_TEST(test_nat64_and_6to4)
{
	/* 64:ff9b::/96 embeds the IPv4 address in its last 32 bits. */
	assert_blocked("64:ff9b::a00:1", "private");   /* 10.0.0.1 */
	assert_blocked("64:ff9b::7f00:1", "loopback"); /* 127.0.0.1 */
	assert_public("64:ff9b::808:808");             /* 8.8.8.8 */
	/* The local-use prefix can reach anything behind its translator. */
	assert_blocked("64:ff9b:1::808:808", "NAT64");
	/* 6to4 2002::/16 embeds it in bits 16 to 47. */
	assert_blocked("2002:7f00:1::", "loopback");       /* 127.0.0.1 */
	assert_blocked("2002:c0a8:101::1", "private");     /* 192.168.1.1 */
	assert_blocked("2002:a9fe:a9fe::1", "link-local"); /* metadata */
	assert_public("2002:808:808::1");                  /* 8.8.8.8 */
}
END_TEST

START_TEST(test_public)
{
	assert_public("8.8.8.8");
	assert_public("1.1.1.1");
	assert_public("93.184.216.34");
	assert_public("2606:4700:4700::1111");
	assert_public("2001:4860:4860::8888");
	assert_public("2a00:1450:4001:80b::200e");
}
END_TEST

START_TEST(test_not_ip)
{
	struct sockaddr_un un;
	struct sockaddr sa;
	char why[64] = "";

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	strcpy(un.sun_path, "/run/smmd/smmd.sock");
	ck_assert_int_eq(
	        addrguard_public((struct sockaddr *)&un, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "not an IP address");
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	ck_assert_int_eq(addrguard_public(&sa, NULL, 0), 0);
}
END_TEST

START_TEST(test_reason_fits_small_buffer)
{
	char why[8];

	/* A short buffer truncates the reason; the verdict still holds. */
	memset(why, 'x', sizeof(why));
	ck_assert_int_eq(judge("127.0.0.1", why, sizeof(why)), 0);
	ck_assert_uint_lt(strlen(why), sizeof(why));
	ck_assert_str_eq(why, "loopbac");
}
END_TEST

static Suite *addrguard_suite(void)
{
	Suite *s = suite_create("addrguard");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_private_v4);
	tcase_add_test(tc, test_link_local_and_metadata);
	tcase_add_test(tc, test_ula);
	tcase_add_test(tc, test_cgnat_unspecified_multicast_broadcast);
	tcase_add_test(tc, test_reserved_and_documentation);
	tcase_add_test(tc, test_v4_mapped_and_compatible);
	tcase_add_test(tc, test_nat64_and_6to4);
	tcase_add_test(tc, test_public);
	tcase_add_test(tc, test_not_ip);
	tcase_add_test(tc, test_reason_fits_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(addrguard_suite)
