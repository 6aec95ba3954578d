/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_NETADDR_H
#define JVPN_NET_NETADDR_H

/*
 * struct jv_addr (include/jvpn/session.h) <-> socket addresses.  The engine
 * keeps every address in 16 bytes, IPv4 mapped as ::ffff:a.b.c.d; here an
 * IPv4-mapped address becomes a plain AF_INET sockaddr, so IPv4 sockets
 * stay AF_INET (IP_PKTINFO, IP_RECVERR) and IPv6 ones are IPV6_V6ONLY.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "jvpn/error.h"
#include "jvpn/session.h"

/* "[ffff:...:ffff]:65535" + NUL, rounded up. */
enum { JV_NETADDR_STR_MAX = 56 };

/* True when a is IPv4-mapped (::ffff:0:0/96). */
bool jv_netaddr_is_v4(const struct jv_addr *a);
/* The IPv4 address of a mapped a, host byte order (0 if not mapped). */
uint32_t jv_netaddr_v4(const struct jv_addr *a);
/* True for 0.0.0.0 (mapped) and ::, the wildcard addresses. */
bool jv_netaddr_is_any(const struct jv_addr *a);
/* AF_INET for a mapped address, AF_INET6 otherwise. */
int jv_netaddr_family(const struct jv_addr *a);

/*
 * From a socket address: AF_INET is mapped, AF_INET6 copied (its scope id
 * is dropped).  Returns 0, or JV_ERR_INVAL for NULL, another family or a
 * length shorter than the family's sockaddr.
 */
JV_MUST_CHECK int jv_netaddr_from_sockaddr(struct jv_addr *a,
					   const struct sockaddr *sa,
					   socklen_t len);

/* To a socket address of jv_netaddr_family(a); returns its length. */
socklen_t jv_netaddr_to_sockaddr(const struct jv_addr *a,
				 struct sockaddr_storage *ss);

/*
 * Parse "192.0.2.1", "192.0.2.1:51820", "2001:db8::1" or
 * "[2001:db8::1]:51820" (port 0 when absent).  Returns 0, or JV_ERR_PARSE
 * (not an address, bad or out-of-range port, trailing garbage).
 */
JV_MUST_CHECK int jv_netaddr_parse(struct jv_addr *a, const char *s);

/*
 * Parse "10.8.0.1/24" or "fd00::1/64" (no port).  A missing "/N" means a
 * host prefix (32 or 128).  `prefix` is in the family's own terms (0..32
 * for IPv4).  Returns 0 or JV_ERR_PARSE.
 */
JV_MUST_CHECK int jv_netaddr_parse_prefix(struct jv_addr *a, unsigned *prefix,
					  const char *s);

/* "192.0.2.1:51820", "[2001:db8::1]:51820"; without ":port" when the port
 * is 0.  Always NUL-terminated; returns buf. */
const char *jv_netaddr_str(const struct jv_addr *a,
			   char buf[JV_NETADDR_STR_MAX]);

#endif
