/* SPDX-License-Identifier: MIT */
/* rtnetlink requests through libmnl, each one ACKed by the kernel. */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/netaddr.h"
#include "net/netlink.h"

/* Large enough for any single RTM_NEWLINK reply (stats, VF info...). */
enum { NL_BUF = 32768 };

struct nl_reply {
	int ifindex;		/* RTM_NEWLINK answer to jv_nl_ifindex */
	char ext_msg[160];	/* kernel's extended-ACK text, if any */
};

int jv_nl_open(struct jv_nl *nl, struct jv_net_err *err)
{
	int one = 1, e;

	memset(nl, 0, sizeof *nl);
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return jv_net_err_set(err, jv_net_err_class(errno), errno,
				      "netlink: open rtnetlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		jv_nl_close(nl);
		return jv_net_err_set(err, JV_ERR_IO, e,
				      "netlink: bind rtnetlink socket");
	}
	/* Best effort: error text from the kernel, and short ACKs.  Both
	 * exist since Linux 4.12/4.3; without them errors are errno-only. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof one);
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof one);
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

void jv_nl_close(struct jv_nl *nl)
{
	if (nl && nl->sock) {
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
	}
}

static int ext_ack_attr(const struct nlattr *attr, void *data)
{
	struct nl_reply *rep = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(rep->ext_msg, sizeof rep->ext_msg, "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* The TLVs after struct nlmsgerr (and the echoed request unless capped). */
static void parse_ext_ack(const struct nlmsghdr *nlh, struct nl_reply *rep)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof *e;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof e->msg;
	if (mnl_nlmsg_get_payload_len(nlh) <= off)
		return;
	(void)mnl_attr_parse(nlh, (unsigned)off, ext_ack_attr, rep);
}

/*
 * Send `req`, then read until the kernel's ACK (or error) for its sequence
 * number.  Data replies before the ACK (RTM_NEWLINK for a GET) are handed
 * to `rep`.  Returns 0 or -errno (the kernel's or the socket's).
 */
static int nl_talk(struct jv_nl *nl, struct nlmsghdr *req,
		   struct nl_reply *rep)
{
	uint8_t buf[NL_BUF];
	ssize_t n;

	if (!nl || !nl->sock)
		return -EBADF;
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int len = (int)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		     mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			/* A late answer to an earlier request: not ours. */
			if (h->nlmsg_seq != req->nlmsg_seq ||
			    (h->nlmsg_pid && h->nlmsg_pid != nl->portid))
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e;

				if (mnl_nlmsg_get_payload_len(h) < sizeof *e)
					return -EBADMSG;
				e = mnl_nlmsg_get_payload(h);
				if (e->error)
					parse_ext_ack(h, rep);
				return e->error;	/* 0: the ACK */
			}
			if (h->nlmsg_type == RTM_NEWLINK &&
			    mnl_nlmsg_get_payload_len(h) >=
				    sizeof(struct ifinfomsg)) {
				const struct ifinfomsg *ifi =
					mnl_nlmsg_get_payload(h);

				rep->ifindex = ifi->ifi_index;
			}
		}
	}
}

/* Turn nl_talk's -errno into a JV_ERR_* and the sentence for `err`. */
static int nl_result(int r, const struct nl_reply *rep, struct jv_net_err *err,
		     const char *what)
{
	int sys = -r;

	if (r == 0) {
		if (err) {
			err->sys = 0;
			err->msg[0] = '\0';
		}
		return 0;
	}
	if (rep->ext_msg[0])
		return jv_net_err_set(err, jv_net_err_class(sys), sys,
				      "netlink: %s: %s", what, rep->ext_msg);
	return jv_net_err_set(err, jv_net_err_class(sys), sys, "netlink: %s",
			      what);
}

int jv_nl_ifindex(struct jv_nl *nl, const char *ifname, struct jv_net_err *err)
{
	uint8_t buf[512];
	struct nl_reply rep = { 0 };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char what[64];
	int r;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"netlink: bad interface name \"%s\"",
			ifname ? ifname : "");
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	/* Skip statistics and VF info: we only want the index. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	snprintf(what, sizeof what, "interface %s", ifname);
	r = nl_talk(nl, nlh, &rep);
	if (r == 0 && rep.ifindex <= 0)
		r = -ENODEV;
	r = nl_result(r, &rep, err, what);
	return r ? r : rep.ifindex;
}

static int link_change(struct jv_nl *nl, int ifindex, bool set_up, bool up,
		       unsigned mtu, struct jv_net_err *err)
{
	uint8_t buf[256];
	struct nl_reply rep = { 0 };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char what[64];

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (set_up) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
		snprintf(what, sizeof what, "set link %d %s", ifindex,
			 up ? "up" : "down");
	} else {
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
		snprintf(what, sizeof what, "set link %d mtu %u", ifindex, mtu);
	}
	return nl_result(nl_talk(nl, nlh, &rep), &rep, err, what);
}

int jv_nl_link_set_up(struct jv_nl *nl, int ifindex, bool up,
		      struct jv_net_err *err)
{
	if (ifindex <= 0)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad ifindex %d", ifindex);
	return link_change(nl, ifindex, true, up, 0, err);
}

int jv_nl_link_set_mtu(struct jv_nl *nl, int ifindex, unsigned mtu,
		       struct jv_net_err *err)
{
	if (ifindex <= 0)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad ifindex %d", ifindex);
	/* 68: the IPv4 minimum (RFC 791); 65535: an IP packet's maximum. */
	if (mtu < 68 || mtu > 65535)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"netlink: MTU %u out of range 68..65535", mtu);
	return link_change(nl, ifindex, false, false, mtu, err);
}

/* Family, raw address bytes and the checked prefix of a jv_addr. */
static int prefix_check(const struct jv_addr *a, unsigned prefix,
			bool no_host_bits, int *family, const uint8_t **raw,
			unsigned *rawlen, struct jv_net_err *err,
			const char *what)
{
	char s[JV_NETADDR_STR_MAX];
	struct jv_addr host;
	unsigned max;

	if (!a)
		return jv_net_err_set(err, JV_ERR_INVAL, 0, "netlink: %s: "
				      "no address", what);
	host = *a;
	host.port = 0;
	*family = jv_netaddr_family(a);
	max = *family == AF_INET ? 32 : 128;
	*raw = *family == AF_INET ? a->ip + 12 : a->ip;
	*rawlen = max / 8;
	if (prefix > max)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"netlink: %s %s/%u: prefix longer than %u", what,
			jv_netaddr_str(&host, s), prefix, max);
	if (no_host_bits) {
		for (unsigned bit = prefix; bit < max; bit++) {
			if ((*raw)[bit / 8] & (0x80u >> (bit % 8)))
				return jv_net_err_set(err, JV_ERR_INVAL, 0,
					"netlink: %s %s/%u: host bits set",
					what, jv_netaddr_str(&host, s), prefix);
		}
	}
	return 0;
}

static int addr_change(struct jv_nl *nl, int ifindex, bool add,
		       const struct jv_addr *ip, unsigned prefix,
		       struct jv_net_err *err)
{
	const char *verb = add ? "add address" : "delete address";
	uint8_t buf[256];
	struct nl_reply rep = { 0 };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	const uint8_t *raw;
	unsigned rawlen;
	char what[96], s[JV_NETADDR_STR_MAX];
	int family, r;

	r = prefix_check(ip, prefix, false, &family, &raw, &rawlen, err, verb);
	if (r)
		return r;
	if (ifindex <= 0)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad ifindex %d", ifindex);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	/* LOCAL and ADDRESS equal: not a peer address, as `ip addr add`. */
	mnl_attr_put(nlh, IFA_LOCAL, rawlen, raw);
	mnl_attr_put(nlh, IFA_ADDRESS, rawlen, raw);
	struct jv_addr host = *ip;
	host.port = 0;
	snprintf(what, sizeof what, "%s %s/%u dev %d", verb,
		 jv_netaddr_str(&host, s), prefix, ifindex);
	return nl_result(nl_talk(nl, nlh, &rep), &rep, err, what);
}

int jv_nl_addr_add(struct jv_nl *nl, int ifindex, const struct jv_addr *ip,
		   unsigned prefix, struct jv_net_err *err)
{
	return addr_change(nl, ifindex, true, ip, prefix, err);
}

int jv_nl_addr_del(struct jv_nl *nl, int ifindex, const struct jv_addr *ip,
		   unsigned prefix, struct jv_net_err *err)
{
	return addr_change(nl, ifindex, false, ip, prefix, err);
}

static int route_change(struct jv_nl *nl, int ifindex, bool add,
			const struct jv_addr *dst, unsigned prefix,
			uint32_t table, struct jv_net_err *err)
{
	const char *verb = add ? "add route" : "delete route";
	uint8_t buf[256];
	struct nl_reply rep = { 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	const uint8_t *raw;
	unsigned rawlen;
	char what[96], s[JV_NETADDR_STR_MAX];
	int family, r;

	r = prefix_check(dst, prefix, true, &family, &raw, &rawlen, err, verb);
	if (r)
		return r;
	if (ifindex <= 0)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad ifindex %d", ifindex);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)prefix;
	/* Tables above 255 exist only as the RTA_TABLE attribute. */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	if (add) {
		rtm->rtm_protocol = RTPROT_STATIC;
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		/* As `ip route del`: match whatever scope the route has. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, rawlen, raw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	struct jv_addr host = *dst;
	host.port = 0;
	if (table == RT_TABLE_MAIN)
		snprintf(what, sizeof what, "%s %s/%u dev %d", verb,
			 jv_netaddr_str(&host, s), prefix, ifindex);
	else
		snprintf(what, sizeof what, "%s %s/%u dev %d table %u", verb,
			 jv_netaddr_str(&host, s), prefix, ifindex, table);
	return nl_result(nl_talk(nl, nlh, &rep), &rep, err, what);
}

int jv_nl_route_add(struct jv_nl *nl, int ifindex, const struct jv_addr *dst,
		    unsigned prefix, struct jv_net_err *err)
{
	return route_change(nl, ifindex, true, dst, prefix, RT_TABLE_MAIN, err);
}

int jv_nl_route_del(struct jv_nl *nl, int ifindex, const struct jv_addr *dst,
		    unsigned prefix, struct jv_net_err *err)
{
	return route_change(nl, ifindex, false, dst, prefix, RT_TABLE_MAIN,
			    err);
}

static bool table_ok(uint32_t table)
{
	return table != RT_TABLE_UNSPEC && table != 0xffffffffu;
}

int jv_nl_route_add_table(struct jv_nl *nl, int ifindex,
			  const struct jv_addr *dst, unsigned prefix,
			  uint32_t table, struct jv_net_err *err)
{
	if (!table_ok(table))
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad routing table %u", table);
	return route_change(nl, ifindex, true, dst, prefix, table, err);
}

int jv_nl_route_del_table(struct jv_nl *nl, int ifindex,
			  const struct jv_addr *dst, unsigned prefix,
			  uint32_t table, struct jv_net_err *err)
{
	if (!table_ok(table))
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad routing table %u", table);
	return route_change(nl, ifindex, false, dst, prefix, table, err);
}

void jv_nl_rule_str(const struct jv_nl_rule *r, char *buf, size_t n)
{
	int k = snprintf(buf, n, "%s%u: ", r->family == AF_INET6 ? "-6 " : "",
			 r->priority);

	if (k < 0 || (size_t)k >= n)
		return;
	if (r->fwmark)
		k += snprintf(buf + k, n - (size_t)k, "%sfwmark 0x%x ",
			      r->invert ? "not " : "", r->fwmark);
	if ((size_t)k >= n)
		return;
	k += snprintf(buf + k, n - (size_t)k, "lookup %s",
		      r->table == RT_TABLE_MAIN ? "main" : "");
	if ((size_t)k >= n)
		return;
	if (r->table != RT_TABLE_MAIN)
		k += snprintf(buf + k, n - (size_t)k, "%u", r->table);
	if ((size_t)k < n && r->suppress_prefixlen >= 0)
		snprintf(buf + k, n - (size_t)k, " suppress_prefixlength %d",
			 r->suppress_prefixlen);
}

static int rule_change(struct jv_nl *nl, bool add, const struct jv_nl_rule *r,
		       struct jv_net_err *err)
{
	uint8_t buf[256];
	struct nl_reply rep = { 0 };
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	char what[128], desc[96];

	if (!r || (r->family != AF_INET && r->family != AF_INET6) ||
	    !table_ok(r->table) || r->suppress_prefixlen > 128)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
				      "netlink: bad policy rule");
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof *frh);
	frh->family = (uint8_t)r->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (r->invert)
		frh->flags |= FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	if (r->fwmark) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffu);
	}
	if (r->suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN,
				 (uint32_t)r->suppress_prefixlen);
	jv_nl_rule_str(r, desc, sizeof desc);
	snprintf(what, sizeof what, "%s rule %s", add ? "add" : "delete", desc);
	return nl_result(nl_talk(nl, nlh, &rep), &rep, err, what);
}

int jv_nl_rule_add(struct jv_nl *nl, const struct jv_nl_rule *r,
		   struct jv_net_err *err)
{
	return rule_change(nl, true, r, err);
}

int jv_nl_rule_del(struct jv_nl *nl, const struct jv_nl_rule *r,
		   struct jv_net_err *err)
{
	return rule_change(nl, false, r, err);
}
