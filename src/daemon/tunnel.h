/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_TUNNEL_H
#define JVPN_DAEMON_TUNNEL_H

/*
 * The TUN device of a running endpoint, configured through rtnetlink
 * (never by running `ip`): MTU, the [Interface] addresses, link up, and a
 * route for every AllowedIPs network that the addresses' own prefix
 * routes do not already give.  Teardown deletes the routes it added and
 * closes the device, which removes it with its addresses.
 */

#include <net/if.h>
#include <stdbool.h>

#include "daemon/config.h"
#include "jvpn/error.h"
#include "net/netlink.h"
#include "net/neterr.h"

enum { JV_TUNNEL_ROUTES_MAX = 256 };

struct jv_tunnel {
	int fd;					/* -1: closed */
	bool offload;				/* jv_tun_open_offload */
	char name[IF_NAMESIZE];
	int ifindex;
	struct jv_nl nl;
	bool nl_open;
	unsigned nroutes;			/* routes we added */
	struct jv_cidr routes[JV_TUNNEL_ROUTES_MAX];
	unsigned nskipped;			/* existing routes left alone */
	unsigned del_failures;
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
