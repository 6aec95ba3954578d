/* SPDX-License-Identifier: MIT */
/* TUN device set-up and teardown over rtnetlink (tunnel.h). */

#include <stdio.h>
#include <string.h>

#include "daemon/tunnel.h"
#include "net/netaddr.h"
#include "net/tun.h"

/* Is dst/prefix exactly the connected route one of our addresses gives? */
static bool connected(const struct jv_config *cfg, const struct jv_cidr *r)
{
	for (unsigned i = 0; i < cfg->naddr; i++) {
		const struct jv_cidr *a = &cfg->addr[i];

		if (a->prefix == r->prefix &&
		    jv_netaddr_is_v4(&a->addr) == jv_netaddr_is_v4(&r->addr) &&
		    jv_cidr_contains(r, a->addr.ip))
			return true;
	}
	return false;
}

static int add_route(struct jv_tunnel *t, const struct jv_config *cfg,
		     const struct jv_cidr *r,
		     void (*warn)(void *, const char *), void *ud,
		     struct jv_net_err *err)
{
	char a[JV_NETADDR_STR_MAX], line[160];
	int rc;

	if (connected(cfg, r))
		return 0;
	for (unsigned i = 0; i < t->nroutes; i++)
		if (t->routes[i].prefix == r->prefix &&
		    jv_addr_equal(&t->routes[i].addr, &r->addr))
			return 0;	/* listed twice (two peers) */
	if (t->nroutes >= JV_TUNNEL_ROUTES_MAX)
		return jv_net_err_set(err, JV_ERR_LIMIT, 0,
				      "more than %d routes", JV_TUNNEL_ROUTES_MAX);
	rc = jv_nl_route_add(&t->nl, t->ifindex, &r->addr, r->prefix, err);
	if (rc == JV_ERR_STATE) {
		/* Someone else's route: never taken, never removed. */
		snprintf(line, sizeof line,
			 "route %s/%u exists already: left as it is (traffic to it may not use %s)",
			 jv_netaddr_str(&r->addr, a), r->prefix, t->name);
		if (warn)
			warn(ud, line);
		t->nskipped++;
		return 0;
	}
	if (rc)
		return rc;
	t->routes[t->nroutes++] = *r;
	return 0;
}

int jv_tunnel_up(struct jv_tunnel *t, const struct jv_config *cfg,
		 void (*warn)(void *, const char *), void *ud,
		 struct jv_net_err *err)
{
	int rc;

	memset(t, 0, sizeof *t);
	/* Offloads first (net/tun.h: the kernel's per-packet TUN cost is
	 * what bounds the tunnel); a kernel that refuses them gets the
	 * plain device. */
	t->fd = jv_tun_open_offload(cfg->ifname, t->name, err);
	t->offload = t->fd >= 0;
	if (t->fd == JV_ERR_IO)
		t->fd = jv_tun_open(cfg->ifname, t->name, err);
	if (t->fd < 0) {
		rc = t->fd;
		t->fd = -1;
		return rc;
	}
	rc = jv_nl_open(&t->nl, err);
	if (rc)
		goto fail;
	t->nl_open = true;
	rc = jv_nl_ifindex(&t->nl, t->name, err);
	if (rc < 0)
		goto fail;
	t->ifindex = rc;
	rc = jv_nl_link_set_mtu(&t->nl, t->ifindex, cfg->mtu, err);
	if (rc)
		goto fail;
	for (unsigned i = 0; i < cfg->naddr; i++) {
		rc = jv_nl_addr_add(&t->nl, t->ifindex, &cfg->addr[i].addr,
				    cfg->addr[i].prefix, err);
		if (rc)
			goto fail;
	}
	rc = jv_nl_link_set_up(&t->nl, t->ifindex, true, err);
	if (rc)
		goto fail;
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++) {
			rc = add_route(t, cfg, &cfg->peers[p].allowed[i], warn,
				       ud, err);
			if (rc)
				goto fail;
		}
	return 0;
fail:
	jv_tunnel_down(t);
	return rc;
}

static bool listed(const struct jv_config *cfg, const struct jv_cidr *r)
{
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++)
			if (cfg->peers[p].allowed[i].prefix == r->prefix &&
			    jv_addr_equal(&cfg->peers[p].allowed[i].addr,
					  &r->addr))
				return true;
	return false;
}

int jv_tunnel_routes_sync(struct jv_tunnel *t, const struct jv_config *cfg,
			  void (*warn)(void *, const char *), void *ud,
			  struct jv_net_err *err)
{
	int first = 0, rc;

	for (unsigned i = t->nroutes; i-- > 0;) {
		if (listed(cfg, &t->routes[i]))
			continue;
		rc = jv_nl_route_del(&t->nl, t->ifindex, &t->routes[i].addr,
				     t->routes[i].prefix, first ? NULL : err);
		if (rc && rc != JV_ERR_NOTFOUND && !first)
			first = rc;
		t->routes[i] = t->routes[--t->nroutes];
	}
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++) {
			rc = add_route(t, cfg, &cfg->peers[p].allowed[i], warn,
				       ud, first ? NULL : err);
			if (rc && !first)
				first = rc;
		}
	return first;
}

void jv_tunnel_down(struct jv_tunnel *t)
{
	if (t->nl_open) {
		/* A route already gone (deleted by hand) is no error here. */
		for (unsigned i = t->nroutes; i-- > 0;)
			if (jv_nl_route_del(&t->nl, t->ifindex,
					    &t->routes[i].addr,
					    t->routes[i].prefix, NULL))
				t->del_failures++;
		t->nroutes = 0;
		jv_nl_close(&t->nl);
		t->nl_open = false;
	}
	if (t->fd >= 0)
		jv_tun_close(t->fd);
	t->fd = -1;
}
