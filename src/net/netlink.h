/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_NETLINK_H
#define JVPN_NET_NETLINK_H

/*
 * rtnetlink through libmnl: the few link, address and route operations the
 * daemon needs to bring a TUN device up, never by running `ip`.  Every
 * request asks for the kernel's ACK and waits for it, so a call returns 0
 * only once the kernel has applied it; on failure `err` carries the errno
 * and the kernel's extended-ACK text when it gave one ("netlink: add
 * route 10.9.0.0/16 dev 7: Invalid prefix for given prefix length").
 *
 * The socket is blocking: these are setup and teardown calls, made outside
 * the event loop, and the kernel answers rtnetlink requests at once.
 *
 * Addresses and route destinations are struct jv_addr (port ignored); an
 * IPv4-mapped one is configured as IPv4 with a prefix in 0..32.
 *
 * Return codes shared by every call below:
 *   0                success (the kernel ACKed);
 *   JV_ERR_INVAL     bad argument (prefix out of range, host bits set in a
 *                    route destination, ifindex <= 0, MTU out of range) or
 *                    refused by the kernel as invalid (EINVAL, ERANGE);
 *   JV_ERR_NOTFOUND  no such interface, address or route (ENODEV, ENOENT,
 *                    ESRCH, EADDRNOTAVAIL): a delete of what is already
 *                    gone returns this, so teardown may ignore it;
 *   JV_ERR_STATE     it exists already (EEXIST): adds are exclusive, like
 *                    `ip addr add`, so an operator's route is never taken;
 *   JV_ERR_NOMEM     ENOMEM / ENOBUFS;
 *   JV_ERR_IO        anything else, EPERM included ("... (are you root?)").
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/session.h"
#include "net/neterr.h"

struct mnl_socket;

struct jv_nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
};

/* Open and bind an rtnetlink socket (allocates inside libmnl). */
JV_MUST_CHECK int jv_nl_open(struct jv_nl *nl, struct jv_net_err *err);
/* Close it; safe on a closed or zeroed struct. */
void jv_nl_close(struct jv_nl *nl);

/* The index of interface `ifname` (> 0), or a negative code above. */
JV_MUST_CHECK int jv_nl_ifindex(struct jv_nl *nl, const char *ifname,
				struct jv_net_err *err);

/* Set or clear IFF_UP. */
JV_MUST_CHECK int jv_nl_link_set_up(struct jv_nl *nl, int ifindex, bool up,
				    struct jv_net_err *err);
/* Set the MTU (68..65535 here; the device may refuse more). */
JV_MUST_CHECK int jv_nl_link_set_mtu(struct jv_nl *nl, int ifindex,
				     unsigned mtu, struct jv_net_err *err);

/* Add or delete address ip/prefix on the interface (the kernel adds and
 * removes the prefix route that goes with it). */
JV_MUST_CHECK int jv_nl_addr_add(struct jv_nl *nl, int ifindex,
				 const struct jv_addr *ip, unsigned prefix,
				 struct jv_net_err *err);
JV_MUST_CHECK int jv_nl_addr_del(struct jv_nl *nl, int ifindex,
				 const struct jv_addr *ip, unsigned prefix,
				 struct jv_net_err *err);

/* Add or delete the main-table route dst/prefix dev ifindex (scope link,
 * no gateway: the TUN is point-to-point).  dst must have no host bits. */
JV_MUST_CHECK int jv_nl_route_add(struct jv_nl *nl, int ifindex,
				  const struct jv_addr *dst, unsigned prefix,
				  struct jv_net_err *err);
JV_MUST_CHECK int jv_nl_route_del(struct jv_nl *nl, int ifindex,
				  const struct jv_addr *dst, unsigned prefix,
				  struct jv_net_err *err);
/* The same in routing table `table` (1..2^32-2; 254 is main). */
JV_MUST_CHECK int jv_nl_route_add_table(struct jv_nl *nl, int ifindex,
					const struct jv_addr *dst,
					unsigned prefix, uint32_t table,
					struct jv_net_err *err);
JV_MUST_CHECK int jv_nl_route_del_table(struct jv_nl *nl, int ifindex,
					const struct jv_addr *dst,
					unsigned prefix, uint32_t table,
					struct jv_net_err *err);

/*
 * A policy routing rule, the two kinds wg-quick adds for a full tunnel:
 *   `not fwmark M lookup T`:  fwmark = M, invert, table = T;
 *   `lookup main suppress_prefixlength 0`: table = 254, suppress = 0.
 * The priority is always explicit, so a delete names exactly the rule
 * that was added (the kernel matches every attribute given).
 */
struct jv_nl_rule {
	int family;			/* AF_INET or AF_INET6 */
	uint32_t priority;
	uint32_t table;
	uint32_t fwmark;		/* 0: no fwmark match */
	bool invert;			/* `not` */
	int suppress_prefixlen;		/* -1: none */
};

JV_MUST_CHECK int jv_nl_rule_add(struct jv_nl *nl, const struct jv_nl_rule *r,
				 struct jv_net_err *err);
JV_MUST_CHECK int jv_nl_rule_del(struct jv_nl *nl, const struct jv_nl_rule *r,
				 struct jv_net_err *err);

/* "not fwmark 0xca6c lookup 51820" (for messages). */
void jv_nl_rule_str(const struct jv_nl_rule *r, char *buf, size_t n);

#endif
