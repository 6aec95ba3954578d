/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_TUNNEL_H
#define JVPN_DAEMON_TUNNEL_H

/*
 * The TUN device of a running endpoint, configured through rtnetlink
 * (never by running `ip`): MTU, the [Interface] addresses, link up, and a
 * route for every AllowedIPs network that the addresses' own prefix
 * routes do not already give.  Teardown deletes the routes it added and
 * closes the device, which removes it with its addresses.
 *
 * Routing like wg-quick (Table, FwMark in [Interface]):
 *   Table = off    no route at all;
 *   Table = N      every AllowedIPs route in table N, no rule;
 *   Table = auto   routes in main, but a default route (/0) goes in
 *                  table FwMark with two rules per family it covers:
 *                    32764: lookup main suppress_prefixlength 0
 *                    32765: not fwmark FwMark lookup FwMark
 *                  so everything but the default route still comes from
 *                  main, and the transports' sockets (marked, SO_MARK)
 *                  keep main's default route: their datagrams never
 *                  loop into the tunnel.
 * Everything is recorded as it is added and removed in reverse order at
 * teardown; what existed already (EEXIST) is left alone and never
 * removed, so a teardown removes exactly what this process added.
 */

#include <net/if.h>
#include <stdbool.h>

#include "daemon/config.h"
#include "jvpn/error.h"
#include "net/netlink.h"
#include "net/neterr.h"

enum {
	JV_TUNNEL_ROUTES_MAX = 256,
	JV_TUNNEL_RULES_MAX = 4,		/* 2 per family */
	JV_TUNNEL_PRIO_SUPPRESS = 32764,	/* as wg-quick gets them on a */
	JV_TUNNEL_PRIO_FWMARK = 32765,		/* host with the default rules */
};

struct jv_tunnel_route {
	struct jv_cidr c;
	uint32_t table;				/* 254: main */
};

struct jv_tunnel {
	int fd;					/* -1: closed */
	bool offload;				/* jv_tun_open_offload */
	char name[IF_NAMESIZE];
	int ifindex;
	struct jv_nl nl;
	bool nl_open;
	unsigned nroutes;			/* routes we added */
	struct jv_tunnel_route routes[JV_TUNNEL_ROUTES_MAX];
	unsigned nrules;			/* rules we added */
	struct jv_nl_rule rules[JV_TUNNEL_RULES_MAX];
	unsigned nskipped;			/* existing routes left alone */
	unsigned del_failures;
	char del_error[JV_NET_ERR_MSG_MAX];		/* the first one's message */
};

/*
 * Bring the device up as cfg says.  warn(ud, line) is told about routes
 * that exist already (left alone, not removed at exit).  On failure
 * everything done so far is undone and err carries the one line to
 * print.  Returns 0 or the JV_ERR_* of the failing step.
 */
JV_MUST_CHECK int jv_tunnel_up(struct jv_tunnel *t, const struct jv_config *cfg,
			       void (*warn)(void *ud, const char *line),
			       void *ud, struct jv_net_err *err);

/*
 * After a reload: add the routes cfg's AllowedIPs now need and delete
 * those we added that no peer lists any more (routes we found in place
 * were never ours and stay).  Returns 0 or the first failing step's
 * JV_ERR_* (err says which; the other routes are still brought in line).
 */
JV_MUST_CHECK int jv_tunnel_routes_sync(struct jv_tunnel *t,
					const struct jv_config *cfg,
					void (*warn)(void *ud, const char *line),
					void *ud, struct jv_net_err *err);

/* Remove our routes and the device.  Safe on a closed tunnel. */
void jv_tunnel_down(struct jv_tunnel *t);

#endif
