/* SPDX-License-Identifier: MIT */
/* TUN device set-up and teardown over rtnetlink (tunnel.h). */

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/tunnel.h"
#include "net/netaddr.h"
#include "net/tun.h"

/*
 * Does the connected route one of our addresses gives (its prefix, on
 * this device, in main) already hold dst/prefix?  Then a route of its own
 * adds nothing, as wg-quick skips an AllowedIPs that a route of the
 * device already matches; and a gateway whose Address covers its
 * clients' (10.8.0.1/16 for 10 000 /32s, D-032) needs no route per peer.
 */
static bool connected(const struct jv_config *cfg, const struct jv_cidr *r)
{
	for (unsigned i = 0; i < cfg->naddr; i++) {
		const struct jv_cidr *a = &cfg->addr[i];

		if (a->prefix > r->prefix ||
		    jv_netaddr_is_v4(&a->addr) != jv_netaddr_is_v4(&r->addr))
			continue;
		if (jv_cidr_contains(a, r->addr.ip))
			return true;
	}
	return false;
}

/* Where a route for r goes: the table, or 0 for none (Table = off). */
static uint32_t route_table(const struct jv_config *cfg,
			    const struct jv_cidr *r)
{
	switch (cfg->table_mode) {
	case JV_CFG_TABLE_OFF:
		return 0;
	case JV_CFG_TABLE_NUM:
		return cfg->table;
	case JV_CFG_TABLE_AUTO:
		break;
	}
	return r->prefix == 0 && cfg->fwmark ? cfg->fwmark : RT_TABLE_MAIN;
}

static int add_route(struct jv_tunnel *t, const struct jv_config *cfg,
		     const struct jv_cidr *r,
		     void (*warn)(void *, const char *), void *ud,
		     struct jv_net_err *err)
{
	char a[JV_NETADDR_STR_MAX], line[200];
	uint32_t table = route_table(cfg, r);
	int rc;

	if (!table || (table == RT_TABLE_MAIN && connected(cfg, r)))
		return 0;
	for (unsigned i = 0; i < t->nroutes; i++)
		if (t->routes[i].c.prefix == r->prefix &&
		    jv_addr_equal(&t->routes[i].c.addr, &r->addr))
			return 0;	/* listed twice (two peers) */
	if (t->nroutes >= JV_TUNNEL_ROUTES_MAX)
		return jv_net_err_set(err, JV_ERR_LIMIT, 0,
				      "more than %d routes", JV_TUNNEL_ROUTES_MAX);
	rc = jv_nl_route_add_table(&t->nl, t->ifindex, &r->addr, r->prefix,
				   table, err);
	if (rc == JV_ERR_STATE && r->prefix == 0 && table != RT_TABLE_MAIN)
		/* Our own table is in use: the full tunnel would share it
		 * with another (wg-quick picks 51820 too). */
		return jv_net_err_set(err, JV_ERR_STATE, EEXIST,
			"table %u already has a default route (another tunnel?): set FwMark (or Table) to another number",
			table);
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
	t->routes[t->nroutes++] = (struct jv_tunnel_route){ *r, table };
	return 0;
}

static int add_rule(struct jv_tunnel *t, const struct jv_nl_rule *r,
		    void (*warn)(void *, const char *), void *ud,
		    struct jv_net_err *err)
{
	char desc[96], line[200];
	int rc = jv_nl_rule_add(&t->nl, r, err);

	if (rc == JV_ERR_STATE) {
		/* The same rule exists (another tunnel's): it does what we
		 * need; not ours, so never removed. */
		jv_nl_rule_str(r, desc, sizeof desc);
		snprintf(line, sizeof line,
			 "rule %s exists already: left as it is", desc);
		if (warn)
			warn(ud, line);
		return 0;
	}
	if (rc)
		return rc;
	t->rules[t->nrules++] = *r;
	return 0;
}

/* Table = auto with a default route: wg-quick's two rules per family. */
static int add_rules(struct jv_tunnel *t, const struct jv_config *cfg,
		     void (*warn)(void *, const char *), void *ud,
		     struct jv_net_err *err)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	int rc;

	if (cfg->table_mode != JV_CFG_TABLE_AUTO || !cfg->fwmark)
		return 0;
	for (int f = 0; f < 2; f++) {
		struct jv_nl_rule suppress = {
			.family = fams[f],
			.priority = JV_TUNNEL_PRIO_SUPPRESS,
			.table = RT_TABLE_MAIN,
			.suppress_prefixlen = 0,
		};
		struct jv_nl_rule mark = {
			.family = fams[f],
			.priority = JV_TUNNEL_PRIO_FWMARK,
			.table = cfg->fwmark,
			.fwmark = cfg->fwmark,
			.invert = true,
			.suppress_prefixlen = -1,
		};

		if (!jv_config_has_default(cfg, fams[f] == AF_INET))
			continue;
		rc = add_rule(t, &mark, warn, ud, err);
		if (!rc)
			rc = add_rule(t, &suppress, warn, ud, err);
		if (rc)
			return rc;
	}
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
	rc = add_rules(t, cfg, warn, ud, err);
	if (rc)
		goto fail;
	return 0;
fail:
	jv_tunnel_down(t);
	return rc;
}

/* Does a peer of cfg still list r, for the same table? */
static bool listed(const struct jv_config *cfg, const struct jv_tunnel_route *r)
{
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++) {
			const struct jv_cidr *c = &cfg->peers[p].allowed[i];

			if (c->prefix == r->c.prefix &&
			    jv_addr_equal(&c->addr, &r->c.addr) &&
			    route_table(cfg, c) == r->table)
				return true;
		}
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
		rc = jv_nl_route_del_table(&t->nl, t->ifindex,
					   &t->routes[i].c.addr,
					   t->routes[i].c.prefix,
					   t->routes[i].table,
					   first ? NULL : err);
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

/* A delete that failed for another reason than "already gone" (deleted
 * by hand, or with the device) is counted, the first one kept. */
static void del_result(struct jv_tunnel *t, int rc,
		       const struct jv_net_err *err)
{
	if (!rc || rc == JV_ERR_NOTFOUND)
		return;
	if (!t->del_failures++)
		snprintf(t->del_error, sizeof t->del_error, "%s", err->msg);
}

void jv_tunnel_down(struct jv_tunnel *t)
{
	if (t->nl_open) {
		/* Rules first: once they are gone nothing leads to our
		 * table, then the routes.  A rule or route already gone
		 * (deleted by hand) is no error here. */
		struct jv_net_err err = { 0 };

		for (unsigned i = t->nrules; i-- > 0;)
			del_result(t, jv_nl_rule_del(&t->nl, &t->rules[i],
						     &err), &err);
		t->nrules = 0;
		for (unsigned i = t->nroutes; i-- > 0;)
			del_result(t, jv_nl_route_del_table(&t->nl, t->ifindex,
							    &t->routes[i].c.addr,
							    t->routes[i].c.prefix,
							    t->routes[i].table,
							    &err), &err);
		t->nroutes = 0;
		jv_nl_close(&t->nl);
		t->nl_open = false;
	}
	if (t->fd >= 0)
		jv_tun_close(t->fd);
	t->fd = -1;
}
