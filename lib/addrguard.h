/*
 * The outbound address guard: which resolved addresses a URL taken from a
 * post (not from the admin's config) may reach. Pure; used by http.c from
 * CURLOPT_OPENSOCKETFUNCTION, after DNS and before connect, so neither a
 * literal IP in any spelling nor a DNS answer that changes slips past.
 */
#ifndef SMM_ADDRGUARD_H
#define SMM_ADDRGUARD_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * 1 if sa is a public unicast address; 0 for loopback, private (RFC 1918,
 * ULA), link-local (and so cloud metadata at 169.254.169.254), CGNAT,
 * unspecified, multicast, broadcast, reserved and documentation ranges,
 * IPv4-mapped/compatible/NAT64/6to4 forms of those, and any non-IP family.
 * If why is given, a short reason is written there when 0 is returned.
 */
int addrguard_public(const struct sockaddr *sa, char *why, size_t whylen);

#endif
