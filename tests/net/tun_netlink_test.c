/* SPDX-License-Identifier: MIT */
/*
 * TUN and rtnetlink, for real (root only).  The test creates a fresh
 * network namespace (`ip netns add jvt-<pid>`), runs every case inside it
 * in a child process, and deletes it afterwards, whatever happened to the
 * child (assertion, crash, timeout signal).  Not root: every case prints
 * "ok N # SKIP not root".
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/netaddr.h"
#include "net/netlink.h"
#include "net/tun.h"
#include "net/udp.h"

static struct jv_nl nl;
static struct jv_net_err err;

static struct jv_addr ip(const char *s)
{
	struct jv_addr a;

	assert_int_equal(jv_netaddr_parse(&a, s), 0);
	return a;
}

static unsigned if_flags(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	close(s);
	return (unsigned)(uint16_t)ifr.ifr_flags;
}

static int if_mtu(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFMTU, &ifr), 0);
	close(s);
	return ifr.ifr_mtu;
}

/* Prefix length of address `addr` on `name`, -1 when it is not there. */
static int if_addr_prefix(const char *name, const char *addr)
{
	struct ifaddrs *all, *i;
	struct jv_addr want = ip(addr), got;
	int prefix = -1;

	assert_int_equal(getifaddrs(&all), 0);
	for (i = all; i; i = i->ifa_next) {
		socklen_t sl;

		if (!i->ifa_addr || strcmp(i->ifa_name, name))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			sl = sizeof(struct sockaddr_in);
		else if (i->ifa_addr->sa_family == AF_INET6)
			sl = sizeof(struct sockaddr_in6);
		else
			continue;
		if (jv_netaddr_from_sockaddr(&got, i->ifa_addr, sl) ||
		    memcmp(got.ip, want.ip, 16))
			continue;
		/* count the netmask's bits */
		struct jv_addr mask;
		assert_int_equal(jv_netaddr_from_sockaddr(&mask, i->ifa_netmask,
							  sl), 0);
		prefix = 0;
		for (unsigned b = jv_netaddr_is_v4(&mask) ? 96 : 0; b < 128; b++)
			prefix += (mask.ip[b / 8] >> (7 - b % 8)) & 1;
	}
	freeifaddrs(all);
	return prefix;
}

/* Whether /proc/net/route (this namespace) has dst/mask via `name`. */
static bool has_route4(const char *name, const char *dst, const char *mask)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256], ifn[32];
	unsigned d, g, fl, m, want_d, want_m;
	bool found = false;

	assert_non_null(f);
	inet_pton(AF_INET, dst, &want_d);
	inet_pton(AF_INET, mask, &want_m);
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%31s %x %x %x %*d %*d %*d %x", ifn, &d, &g,
			   &fl, &m) == 5 &&
		    !strcmp(ifn, name) && d == want_d && m == want_m)
			found = true;
	}
	fclose(f);
	return found;
}

static int setup(void **st)
{
	(void)st;
	return jv_nl_open(&nl, &err) ? -1 : 0;
}

static int teardown(void **st)
{
	(void)st;
	jv_nl_close(&nl);
	return 0;
}

static void tun_named_and_kernel_named(void **st)
{
	(void)st;
	char name[IF_NAMESIZE], other[IF_NAMESIZE];
	int fd, fd2, idx;

	fd = jv_tun_open("jvt0", name, &err);
	assert_true(fd >= 0);
	assert_string_equal(name, "jvt0");
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	idx = jv_nl_ifindex(&nl, "jvt0", &err);
	assert_true(idx > 0);
	assert_int_equal(idx, (int)if_nametoindex("jvt0"));

	fd2 = jv_tun_open(NULL, other, &err);
	assert_true(fd2 >= 0);
	print_message("# kernel chose %s\n", other);
	assert_true(strlen(other) > 0);
	assert_string_not_equal(other, "jvt0");
	/* nothing queued on a down device */
	uint8_t buf[64];
	assert_int_equal(jv_tun_read(fd2, buf, sizeof buf), 0);

	/* closing the descriptor removes the device */
	jv_tun_close(fd2);
	assert_int_equal(jv_nl_ifindex(&nl, other, &err), JV_ERR_NOTFOUND);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, other));
	assert_int_equal(err.sys, ENODEV);
	jv_tun_close(fd);
	assert_int_equal(jv_nl_ifindex(&nl, "jvt0", &err), JV_ERR_NOTFOUND);

	/* a pattern: the kernel fills in the number */
	fd = jv_tun_open("jvp%d", name, &err);
	assert_true(fd >= 0);
	assert_string_equal(name, "jvp0");
	jv_tun_close(fd);

	assert_int_equal(jv_tun_open("a-name-of-16-chr", name, &err),
			 JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "too long"));
}

static void link_mtu_address_route(void **st)
{
	(void)st;
	char name[IF_NAMESIZE];
	struct jv_addr a = ip("10.77.0.1"), a6 = ip("fd00:77::1");
	struct jv_addr net = ip("10.78.0.0"), bad = ip("10.78.0.1");
	int fd = jv_tun_open("jvt1", name, &err), idx;

	assert_true(fd >= 0);
	idx = jv_nl_ifindex(&nl, name, &err);
	assert_true(idx > 0);

	assert_int_equal(jv_nl_link_set_mtu(&nl, idx, 1380, &err), 0);
	assert_int_equal(if_mtu(name), 1380);
	assert_false(if_flags(name) & IFF_UP);
	assert_int_equal(jv_nl_link_set_up(&nl, idx, true, &err), 0);
	assert_true(if_flags(name) & IFF_UP);

	assert_int_equal(jv_nl_addr_add(&nl, idx, &a, 24, &err), 0);
	assert_int_equal(if_addr_prefix(name, "10.77.0.1"), 24);
	assert_true(has_route4(name, "10.77.0.0", "255.255.255.0"));
	/* exclusive add, like `ip addr add` */
	assert_int_equal(jv_nl_addr_add(&nl, idx, &a, 24, &err), JV_ERR_STATE);
	print_message("# %s\n", err.msg);
	assert_int_equal(err.sys, EEXIST);
	assert_int_equal(jv_nl_addr_add(&nl, idx, &a6, 64, &err), 0);
	assert_int_equal(if_addr_prefix(name, "fd00:77::1"), 64);

	assert_int_equal(jv_nl_route_add(&nl, idx, &net, 16, &err), 0);
	assert_true(has_route4(name, "10.78.0.0", "255.255.0.0"));
	assert_int_equal(jv_nl_route_add(&nl, idx, &net, 16, &err),
			 JV_ERR_STATE);
	assert_int_equal(jv_nl_route_add(&nl, idx, &bad, 16, &err),
			 JV_ERR_INVAL);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, "host bits"));
	assert_int_equal(jv_nl_route_del(&nl, idx, &net, 16, &err), 0);
	assert_false(has_route4(name, "10.78.0.0", "255.255.0.0"));
	assert_int_equal(jv_nl_route_del(&nl, idx, &net, 16, &err),
			 JV_ERR_NOTFOUND);
	print_message("# %s\n", err.msg);

	/* IPv6 routes go the same way */
	struct jv_addr net6 = ip("fd00:78::");
	assert_int_equal(jv_nl_route_add(&nl, idx, &net6, 32, &err), 0);
	assert_int_equal(jv_nl_route_add(&nl, idx, &net6, 32, &err),
			 JV_ERR_STATE);
	assert_int_equal(jv_nl_route_del(&nl, idx, &net6, 32, &err), 0);
	assert_int_equal(jv_nl_route_del(&nl, idx, &net6, 32, &err),
			 JV_ERR_NOTFOUND);

	assert_int_equal(jv_nl_addr_del(&nl, idx, &a, 24, &err), 0);
	assert_int_equal(if_addr_prefix(name, "10.77.0.1"), -1);
	assert_false(has_route4(name, "10.77.0.0", "255.255.255.0"));
	assert_int_equal(jv_nl_addr_del(&nl, idx, &a, 24, &err),
			 JV_ERR_NOTFOUND);
	print_message("# %s\n", err.msg);
	assert_int_equal(jv_nl_addr_del(&nl, idx, &a6, 64, &err), 0);

	assert_int_equal(jv_nl_link_set_up(&nl, idx, false, &err), 0);
	assert_false(if_flags(name) & IFF_UP);
	jv_tun_close(fd);
}

/* A full tunnel's pieces (daemon/tunnel.h): routes in a table of their
 * own, wg-quick's two rules per family, exclusive adds and exact deletes,
 * and the mark on a transport socket. */
static void rules_tables_and_marks(void **st)
{
	(void)st;
	char name[IF_NAMESIZE];
	struct jv_addr any4 = ip("0.0.0.0"), any6 = ip("::");
	int fd = jv_tun_open("jvt3", name, &err), idx, s;
	uint32_t mark = 0;
	socklen_t ml = sizeof mark;

	assert_true(fd >= 0);
	idx = jv_nl_ifindex(&nl, name, &err);
	assert_true(idx > 0);
	assert_int_equal(jv_nl_link_set_up(&nl, idx, true, &err), 0);

	/* the default route in table 51820 and, independently, in 1234 */
	assert_int_equal(jv_nl_route_add_table(&nl, idx, &any4, 0, 51820, &err), 0);
	assert_int_equal(jv_nl_route_add_table(&nl, idx, &any4, 0, 51820, &err),
			 JV_ERR_STATE);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, "table 51820"));
	assert_int_equal(jv_nl_route_add_table(&nl, idx, &any4, 0, 1234, &err), 0);
	assert_int_equal(jv_nl_route_add_table(&nl, idx, &any6, 0, 51820, &err), 0);
	assert_int_equal(jv_nl_route_add_table(&nl, idx, &any4, 0, 0, &err),
			 JV_ERR_INVAL);
	assert_int_equal(jv_nl_route_del_table(&nl, idx, &any4, 0, 1234, &err), 0);
	assert_int_equal(jv_nl_route_del_table(&nl, idx, &any4, 0, 1234, &err),
			 JV_ERR_NOTFOUND);
	assert_int_equal(jv_nl_route_del_table(&nl, idx, &any4, 0, 51820, &err), 0);
	assert_int_equal(jv_nl_route_del_table(&nl, idx, &any6, 0, 51820, &err), 0);

	for (int f = 0; f < 2; f++) {
		int fam = f ? AF_INET6 : AF_INET;
		struct jv_nl_rule mk = { .family = fam, .priority = 32765,
					 .table = 51820, .fwmark = 51820,
					 .invert = true,
					 .suppress_prefixlen = -1 };
		struct jv_nl_rule sup = { .family = fam, .priority = 32764,
					  .table = 254, .suppress_prefixlen = 0 };

		assert_int_equal(jv_nl_rule_add(&nl, &mk, &err), 0);
		assert_int_equal(jv_nl_rule_add(&nl, &sup, &err), 0);
		/* exclusive: the same rule again exists */
		assert_int_equal(jv_nl_rule_add(&nl, &sup, &err), JV_ERR_STATE);
		print_message("# %s\n", err.msg);
		/* a delete names every attribute: the other kind is no match */
		struct jv_nl_rule wrong = mk;
		wrong.fwmark = 7;
		assert_int_equal(jv_nl_rule_del(&nl, &wrong, &err),
				 JV_ERR_NOTFOUND);
		assert_int_equal(jv_nl_rule_del(&nl, &mk, &err), 0);
		assert_int_equal(jv_nl_rule_del(&nl, &mk, &err), JV_ERR_NOTFOUND);
		assert_int_equal(jv_nl_rule_del(&nl, &sup, &err), 0);
		assert_int_equal(jv_nl_rule_del(&nl, &sup, &err), JV_ERR_NOTFOUND);
	}

	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	assert_int_equal(jv_udp_set_mark(s, 0xca6c, &err), 0);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_MARK, &mark, &ml), 0);
	assert_int_equal(mark, 0xca6c);
	close(s);
	jv_tun_close(fd);
}

static void netlink_refusals_are_explained(void **st)
{
	(void)st;
	struct jv_addr a = ip("10.77.0.1"), net = ip("10.79.0.0");

	assert_int_equal(jv_nl_ifindex(&nl, "jvt-none", &err), JV_ERR_NOTFOUND);
	assert_int_equal(jv_nl_ifindex(&nl, "", &err), JV_ERR_INVAL);
	assert_int_equal(jv_nl_link_set_mtu(&nl, 1, 20, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "MTU 20"));
	assert_int_equal(jv_nl_link_set_up(&nl, 0, true, &err), JV_ERR_INVAL);
	assert_int_equal(jv_nl_addr_add(&nl, 1, &a, 33, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "prefix"));
	/* the kernel refuses: no such device */
	assert_int_equal(jv_nl_route_add(&nl, 9999, &net, 16, &err),
			 JV_ERR_NOTFOUND);
	print_message("# %s\n", err.msg);
	assert_int_equal(err.sys, ENODEV);
	assert_int_equal(jv_nl_link_set_mtu(&nl, 9999, 1400, &err),
			 JV_ERR_NOTFOUND);
	/* lo refuses an MTU below its minimum: the kernel's words */
	assert_true(jv_nl_link_set_mtu(&nl, 1, 68, &err) == 0 ||
		    err.sys == EINVAL);
	print_message("# lo mtu 68: %s\n", err.msg[0] ? err.msg : "accepted");
	assert_int_equal(jv_nl_link_set_mtu(&nl, 1, 65536 - 1, &err), 0);
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void packets_through_the_device(void **st)
{
	(void)st;
	char name[IF_NAMESIZE];
	struct jv_addr a = ip("10.77.0.1");
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	uint8_t pkt[JV_MTU_MAX];
	int fd = jv_tun_open("jvt2", name, &err), idx, s;
	ssize_t n = 0;

	assert_true(fd >= 0);
	idx = jv_nl_ifindex(&nl, name, &err);
	assert_int_equal(jv_nl_addr_add(&nl, idx, &a, 24, &err), 0);
	assert_int_equal(jv_nl_link_set_up(&nl, idx, true, &err), 0);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	assert_int_equal(sendto(s, "ping", 4, 0, (struct sockaddr *)&to,
				sizeof to), 4);
	assert_int_equal(getsockname(s, (struct sockaddr *)&me, &ml), 0);

	/* The datagram leaves by the TUN as a bare IPv4 packet (other
	 * traffic, e.g. IPv6 router solicitations, may come first). */
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 1000), 1);
		n = jv_tun_read(fd, pkt, sizeof pkt);
		if (n > 0 && (pkt[0] >> 4) == 4)
			break;
	}
	assert_int_equal(n, 20 + 8 + 4);
	assert_int_equal(pkt[9], IPPROTO_UDP);
	assert_memory_equal(pkt + 16, &to.sin_addr, 4);
	assert_memory_equal(pkt + 28, "ping", 4);

	/* Write the answer in: swap addresses and ports, new checksum. */
	uint8_t tmp[4];
	memcpy(tmp, pkt + 12, 4);
	memcpy(pkt + 12, pkt + 16, 4);
	memcpy(pkt + 16, tmp, 4);
	memcpy(tmp, pkt + 20, 2);
	memcpy(pkt + 20, pkt + 22, 2);
	memcpy(pkt + 22, tmp, 2);
	pkt[26] = pkt[27] = 0;		/* no UDP checksum (IPv4 allows) */
	memcpy(pkt + 28, "pong", 4);
	pkt[10] = pkt[11] = 0;
	uint16_t c = csum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	assert_int_equal(jv_tun_write(fd, pkt, (size_t)n), 0);

	struct pollfd p = { .fd = s, .events = POLLIN };
	char got[8];
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(recv(s, got, sizeof got, 0), 4);
	assert_memory_equal(got, "pong", 4);

	/* not an IP packet: the kernel refuses it */
	memset(pkt, 0, 20);
	int r = jv_tun_write(fd, pkt, 20);
	print_message("# garbage write: %d\n", r);
	assert_true(r == JV_ERR_INVAL || r == 0);
	close(s);
	jv_tun_close(fd);
}

static void unreachable_path_is_a_hard_error(void **st)
{
	(void)st;
	struct jv_udp_path p;
	struct jv_udp_txres res[1];
	static struct jv_out out;
	struct jv_addr r = ip("10.9.9.9:51820");

	/* Only lo exists here and no route leads to 10.9.9.9.  (Not bound
	 * to lo: with a device bound the kernel assumes the destination is
	 * on that link and sends anyway.) */
	assert_int_equal(jv_nl_link_set_up(&nl, 1, true, &err), 0);
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, "lo", &err), 0);
	jv_udp_path_close(&p);
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	jv_out_reset(&out);
	out.ndgram = 3;
	for (unsigned i = 0; i < 3; i++) {
		out.dgram[i].path = 0;
		out.dgram[i].len = 8;
	}
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	print_message("# %s\n", strerror(res[0].sys));
	assert_int_equal(res[0].sent, 0);
	assert_int_equal(res[0].dropped, 3);
	assert_true(jv_udp_err_is_hard(res[0].sys));
	jv_udp_path_close(&p);

	/* bound to a device that does not exist: refused at open */
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, "jvt-gone", &err),
			 JV_ERR_NOTFOUND);
}


/* ---- offload mode: TSO cutting, checksum completion, merging ---------- */

#include <linux/virtio_net.h>

static struct jv_tun_writer tw;
static uint8_t big[JV_TUN_BUF];

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Does the TCP (or UDP, proto 17) checksum of the IP packet p verify?
 * Reference: 16-bit big-endian sum over pseudo-header and segment. */
static bool l4_ok(const uint8_t *p, size_t n, unsigned l4, uint8_t proto)
{
	static uint8_t b[70000];
	bool v6 = p[0] >> 4 == 6;
	size_t k = 0, len = n - l4;

	memcpy(b, v6 ? p + 8 : p + 12, v6 ? 32 : 8);
	k = v6 ? 32 : 8;
	b[k++] = 0;
	b[k++] = proto;
	b[k++] = (uint8_t)(len >> 8);
	b[k++] = (uint8_t)len;
	memcpy(b + k, p + l4, len);
	return csum(b, k + len) == 0;
}

/* Store the TCP checksum of the IP packet p (TCP header at l4). */
static void tcp_csum(uint8_t *p, size_t n, unsigned l4)
{
	static uint8_t b[70000];
	bool v6 = p[0] >> 4 == 6;
	size_t k = v6 ? 32 : 8, len = n - l4;

	p[l4 + 16] = p[l4 + 17] = 0;
	memcpy(b, v6 ? p + 8 : p + 12, k);
	b[k++] = 0;
	b[k++] = IPPROTO_TCP;
	b[k++] = (uint8_t)(len >> 8);
	b[k++] = (uint8_t)len;
	memcpy(b + k, p + l4, len);
	put16(p + l4 + 16, csum(b, k + len));
}

/* An IPv4 (or IPv6) TCP packet into p, 10.78.0.2:40000 -> 10.78.0.1:5201
 * (fd00::2 -> fd00::1), ack `ack`, 12 bytes of options (NOP NOP TS) when
 * `ts`, `plen` payload bytes of pattern seq + i, valid checksums.
 * Returns its length. */
static size_t tcp_seg(uint8_t *p, bool v6, uint32_t seq, uint32_t ack,
		      uint8_t flags, unsigned plen, uint16_t id, bool ts)
{
	unsigned ip = v6 ? 40 : 20, hl = ip + (ts ? 32 : 20);
	size_t n = hl + plen;
	uint8_t *t = p + ip;

	memset(p, 0, hl);
	if (v6) {
		p[0] = 0x60;
		put16(p + 4, (unsigned)n - 40);
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		p[8] = p[24] = 0xfd;
		p[23] = 2;
		p[39] = 1;
	} else {
		p[0] = 0x45;
		put16(p + 2, (unsigned)n);
		put16(p + 4, id);
		p[6] = 0x40;			/* DF */
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, "\x0a\x4e\x00\x02\x0a\x4e\x00\x01", 8);
		put16(p + 10, csum(p, 20));
	}
	put16(t, 40000);
	put16(t + 2, 5201);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((hl - ip) / 4 << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (ts)
		memcpy(t + 20, "\x01\x01\x08\x0a\x00\x00\x00\x10\x00\x00\x00\x20",
		       12);
	for (unsigned i = 0; i < plen; i++)
		p[hl + i] = (uint8_t)(seq + i);
	tcp_csum(p, n, ip);
	return n;
}

static size_t tcp_pkt(uint8_t *p, bool v6, uint32_t seq, uint8_t flags,
		      unsigned plen, uint16_t id)
{
	return tcp_seg(p, v6, seq, 777, flags, plen, id, true);
}

enum { ACK = 0x10, PSH = 0x08, FIN = 0x01, CWR = 0x80, SYN = 0x02 };

/* The kernel's TSO read: one super-packet of 2 x 1000 + 500 payload
 * bytes, TCP checksum left partial, is cut into three packets as a NIC
 * would: sequence numbers, IP lengths, ids and checksums set, PSH and
 * FIN on the last only, CWR on the first only. */
static void tso_read_is_cut_into_segments(void **st)
{
	(void)st;
	for (int v6 = 0; v6 <= 1; v6++) {
		unsigned ip = v6 ? 40 : 20, hl = ip + 32;
		struct virtio_net_hdr h = {
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6
				       : VIRTIO_NET_HDR_GSO_TCPV4,
			.hdr_len = (uint16_t)hl, .gso_size = 1000,
			.csum_start = (uint16_t)ip, .csum_offset = 16,
		};
		uint8_t *p = big + JV_TUN_VNET_HDR, scratch[JV_MTU_MAX];
		size_t n = tcp_pkt(p, v6, 5000, ACK | PSH | FIN | CWR, 2500,
				   0x1234);
		const uint8_t *seg;
		struct jv_tun_rx rx;
		size_t len;

		memcpy(big, &h, sizeof h);
		p[ip + 16] = p[ip + 17] = 0x5a;	/* partial: not checked */
		assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n), 0);
		for (unsigned i = 0; i < 3; i++) {
			unsigned plen = i < 2 ? 1000 : 500;

			len = jv_tun_rx_next(&rx, scratch, &seg);
			assert_int_equal(len, hl + plen);
			assert_ptr_equal(seg, scratch);
			if (v6) {
				assert_int_equal(get16(seg + 4), len - 40);
			} else {
				assert_int_equal(get16(seg + 2), len);
				assert_int_equal(get16(seg + 4), 0x1234 + i);
				assert_int_equal(csum(seg, 20), 0);
			}
			assert_int_equal(get32(seg + ip + 4), 5000 + i * 1000);
			assert_int_equal(seg[ip + 13],
					 (i == 2 ? ACK | PSH | FIN : ACK) |
					 (i == 0 ? CWR : 0));
			assert_memory_equal(seg + ip + 20, p + ip + 20, 12);
			for (unsigned b = 0; b < plen; b++)
				assert_int_equal(seg[hl + b],
						 (uint8_t)(5000 + i * 1000 + b));
			assert_true(l4_ok(seg, len, ip, IPPROTO_TCP));
		}
		assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), 0);
	}
}

/* A plain read: no header flags, the packet as it is; a partial checksum
 * (TUN_F_CSUM) completed, a zero result sent as 0xffff for UDP. */
static void plain_read_and_partial_checksum(void **st)
{
	(void)st;
	struct virtio_net_hdr h = { 0 };
	uint8_t *p = big + JV_TUN_VNET_HDR, scratch[JV_MTU_MAX];
	const uint8_t *seg;
	struct jv_tun_rx rx;
	size_t n = tcp_pkt(p, false, 1, ACK, 300, 7);

	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n), 0);
	assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), n);
	assert_ptr_equal(seg, p);
	assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), 0);

	/* UDP with the pseudo-header sum in the field, as the kernel
	 * leaves it: 10.78.0.2:7 -> 10.78.0.1:9, "hello!" */
	static const uint8_t udp[] = {
		0x45, 0, 0, 34, 0, 1, 0x40, 0, 64, 17, 0, 0,
		10, 78, 0, 2, 10, 78, 0, 1,
		0, 7, 0, 9, 0, 14, 0, 0, 'h', 'e', 'l', 'l', 'o', '!' };
	memcpy(p, udp, sizeof udp);
	/* pseudo sum: addresses + proto + length, folded, not inverted */
	uint8_t ph[12];
	memcpy(ph, udp + 12, 8);
	ph[8] = 0; ph[9] = 17; ph[10] = 0; ph[11] = 14;
	put16(p + 26, (uint16_t)~csum(ph, 12));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 20;
	h.csum_offset = 6;
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + sizeof udp), 0);
	assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), sizeof udp);
	assert_true(l4_ok(seg, sizeof udp, 20, 17));
	assert_int_not_equal(get16(seg + 26), 0);

	/* a payload chosen so that the checksum computes to 0: sent as
	 * 0xffff (for UDP, 0 would mean "no checksum") */
	memcpy(p, udp, sizeof udp);
	put16(p + 26, (uint16_t)~csum(ph, 12));
	p[32] = p[33] = 0;
	{
		uint8_t all[26];

		memcpy(all, ph, 12);
		memcpy(all + 12, p + 20, 14);
		put16(all + 18, 0);
		/* ~csum = the sum S; payload word 0xffff - S makes it 0xffff */
		unsigned sum = (uint16_t)~csum(all, 26);
		put16(p + 32, 0xffff - sum);
	}
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + sizeof udp), 0);
	assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), sizeof udp);
	assert_int_equal(get16(seg + 26), 0xffff);
	assert_true(l4_ok(seg, sizeof udp, 20, 17));

	/* 64-bit words chosen so the sum's last end-around carry happens
	 * (all-ones, 0, all-ones, 0, 1, 0): the result still verifies */
	memset(p, 0x45, 20);
	memset(p + 20, 0, 48);
	memset(p + 20, 0xff, 8);
	memset(p + 36, 0xff, 8);
	p[52] = 1;
	h.csum_start = 20;
	h.csum_offset = 14;			/* in the second word */
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + 68), 0);
	assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), 68);
	assert_int_equal(csum(seg + 20, 48), 0);
}

/* What the parser refuses (the read is dropped, counted by the daemon). */
static void bad_offload_reads_are_refused(void **st)
{
	(void)st;
	uint8_t *p = big + JV_TUN_VNET_HDR;
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000,
		.csum_start = 20, .csum_offset = 16,
	};
	struct jv_tun_rx rx;
	size_t n = tcp_pkt(p, false, 1, ACK, 2500, 1);

	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n), 0);
	assert_int_equal(jv_tun_rx_parse(&rx, big, 12), JV_ERR_PARSE);
	/* IP length not the read's */
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n - 1),
			 JV_ERR_PARSE);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;	/* never negotiated */
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n),
			 JV_ERR_PARSE);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* an IPv4 packet */
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n),
			 JV_ERR_PARSE);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1460;			/* segments over JV_MTU_MAX */
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n),
			 JV_ERR_PARSE);
	h.gso_size = 1000;
	h.csum_start = 4000;			/* outside the packet */
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n),
			 JV_ERR_PARSE);
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;	/* plain, field outside */
	memcpy(big, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, big, JV_TUN_VNET_HDR + n),
			 JV_ERR_PARSE);
}

/* Read one message of a SOCK_SEQPACKET pair (the writer's fd in tests:
 * it keeps write boundaries, as a TUN does). */
static size_t next_msg(int fd, uint8_t *buf)
{
	ssize_t r = recv(fd, buf, JV_TUN_BUF, MSG_DONTWAIT);

	assert_true(r > 0);
	return (size_t)r;
}

/* Consecutive segments of one flow go as one GSO write; cutting that
 * write again gives back the very same packets.  A pure ACK, a gap in
 * the sequence, a longer segment or one after a shorter one ends a run;
 * PSH ends it after that segment. */
static void writer_merges_runs_of_one_flow(void **st)
{
	(void)st;
	static uint8_t pk[8][JV_MTU_MAX], msg[JV_TUN_BUF];
	uint8_t scratch[JV_MTU_MAX];
	size_t len[8];
	int sp[2];

	for (int v6 = 0; v6 <= 1; v6++) {
		unsigned ip = v6 ? 40 : 20, hl = ip + 32;
		struct virtio_net_hdr h;
		struct jv_tun_rx rx;
		const uint8_t *seg;
		size_t m;

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
		jv_tun_writer_init(&tw, sp[0], true);
		/* 0..2: a run (1000, 1000, 400 + PSH) */
		len[0] = tcp_pkt(pk[0], v6, 100, ACK, 1000, 10);
		len[1] = tcp_pkt(pk[1], v6, 1100, ACK, 1000, 11);
		len[2] = tcp_pkt(pk[2], v6, 2100, ACK | PSH, 400, 12);
		/* 3: continues in sequence, but the run ended with PSH */
		len[3] = tcp_pkt(pk[3], v6, 2500, ACK, 1000, 13);
		/* 4: a pure ACK (no data): as it is */
		len[4] = tcp_pkt(pk[4], v6, 3500, ACK, 0, 14);
		/* 5: a gap in the sequence after 3 */
		len[5] = tcp_pkt(pk[5], v6, 9000, ACK, 1000, 15);
		/* 6: longer than 5: a run of its own */
		len[6] = tcp_pkt(pk[6], v6, 10000, ACK, 1200, 16);
		/* 7: a SYN never merges */
		len[7] = tcp_pkt(pk[7], v6, 11200, SYN | ACK, 100, 17);
		for (unsigned i = 0; i < 8; i++)
			jv_tun_put(&tw, pk[i], len[i]);
		jv_tun_writer_flush(&tw);
		assert_int_equal(tw.st.packets, 8);
		assert_int_equal(tw.st.dropped, 0);
		assert_int_equal(tw.st.merged, 3);
		assert_int_equal(tw.st.writes, 6);

		/* the merged write */
		m = next_msg(sp[1], msg);
		memcpy(&h, msg, sizeof h);
		assert_int_equal(m, JV_TUN_VNET_HDR + hl + 2400);
		assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(h.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6
						: VIRTIO_NET_HDR_GSO_TCPV4);
		assert_int_equal(h.gso_size, 1000);
		assert_int_equal(h.hdr_len, hl);
		assert_int_equal(h.csum_start, ip);
		assert_int_equal(h.csum_offset, 16);
		assert_int_equal(msg[JV_TUN_VNET_HDR + ip + 13], ACK | PSH);
		/* partial checksum: the folded pseudo-header sum */
		{
			const uint8_t *q = msg + JV_TUN_VNET_HDR;
			uint8_t ph[40];
			size_t k = v6 ? 32 : 8, tl = m - JV_TUN_VNET_HDR - ip;

			memcpy(ph, v6 ? q + 8 : q + 12, k);
			ph[k++] = 0;
			ph[k++] = IPPROTO_TCP;
			ph[k++] = (uint8_t)(tl >> 8);
			ph[k++] = (uint8_t)tl;
			assert_int_equal(get16(q + ip + 16),
					 (uint16_t)~csum(ph, k));
		}
		/* cut it as the kernel's GSO would: the same three packets */
		assert_int_equal(jv_tun_rx_parse(&rx, msg, m), 0);
		for (unsigned i = 0; i < 3; i++) {
			size_t n = jv_tun_rx_next(&rx, scratch, &seg);

			assert_int_equal(n, len[i]);
			assert_memory_equal(seg, pk[i], len[i]);
		}
		assert_int_equal(jv_tun_rx_next(&rx, scratch, &seg), 0);
		/* then every other one alone, unchanged, zero header */
		for (unsigned i = 3; i < 8; i++) {
			m = next_msg(sp[1], msg);
			memcpy(&h, msg, sizeof h);
			assert_int_equal(h.flags, 0);
			assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
			assert_int_equal(m, JV_TUN_VNET_HDR + len[i]);
			assert_memory_equal(msg + JV_TUN_VNET_HDR, pk[i], len[i]);
		}
		assert_int_equal(recv(sp[1], msg, sizeof msg, MSG_DONTWAIT), -1);
		close(sp[0]);
		close(sp[1]);
	}

	/* A run is also ended by a shorter segment, a gap in the sequence,
	 * another ack or destination, and by the 64 KiB limit. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	jv_tun_writer_init(&tw, sp[0], true);
	len[0] = tcp_pkt(pk[0], false, 0, ACK, 1000, 1);
	len[1] = tcp_pkt(pk[1], false, 1000, ACK, 500, 2);
	len[2] = tcp_pkt(pk[2], false, 1500, ACK, 500, 3);	/* after short */
	len[3] = tcp_pkt(pk[3], false, 2000, ACK, 500, 4);
	put32(pk[3] + 20 + 8, 778);				/* other ack */
	len[4] = tcp_pkt(pk[4], false, 3000, ACK, 500, 5);
	len[5] = tcp_pkt(pk[5], false, 4000, ACK, 500, 6);	/* a gap */
	len[6] = tcp_pkt(pk[6], false, 4500, ACK, 500, 7);
	pk[6][19] = 9;						/* other dst */
	for (unsigned i = 0; i < 7; i++)
		jv_tun_put(&tw, pk[i], len[i]);
	jv_tun_writer_flush(&tw);
	assert_int_equal(tw.st.writes, 6);
	assert_int_equal(tw.st.merged, 2);
	for (unsigned i = 0; i < 6; i++)
		(void)next_msg(sp[1], msg);
	jv_tun_writer_init(&tw, sp[0], true);
	for (unsigned i = 0; i < 70; i++) {
		size_t n = tcp_pkt(pk[0], false, i * 1000, ACK, 1000, 0);

		jv_tun_put(&tw, pk[0], n);
	}
	jv_tun_writer_flush(&tw);
	assert_int_equal(tw.st.packets, 70);
	assert_int_equal(tw.st.writes, 2);
	size_t m = next_msg(sp[1], msg);
	assert_true(m - JV_TUN_VNET_HDR <= JV_TUN_SUPER_MAX);
	assert_int_equal(get16(msg + JV_TUN_VNET_HDR + 2), m - JV_TUN_VNET_HDR);
	close(sp[0]);
	close(sp[1]);

	/* Not an offload device: one plain write per packet. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	jv_tun_writer_init(&tw, sp[0], false);
	jv_tun_put(&tw, pk[1], len[1]);
	jv_tun_put(&tw, pk[2], len[2]);
	jv_tun_writer_flush(&tw);
	assert_int_equal(tw.st.writes, 2);
	assert_int_equal(next_msg(sp[1], msg), len[1]);
	assert_memory_equal(msg, pk[1], len[1]);
	close(sp[1]);
	/* a refused write counts its packets as dropped */
	jv_tun_put(&tw, pk[1], len[1]);
	assert_int_equal(tw.st.dropped, 1);
	close(sp[0]);
}

/* Close a connection of the hand-made peer with a reset: it never acks a
 * FIN, so an orderly close would hold the port for the next case. */
static void close_reset(int s)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
	close(s);
}

/* For real: an offload device, a TCP connection to a local socket through
 * it.  Our merged GSO write delivers its bytes in order; what the socket
 * sends comes out as TSO super-packets, which cut into valid segments. */
static void offload_device_with_a_real_tcp_peer(void **st)
{
	(void)st;
	char name[IF_NAMESIZE];
	struct jv_addr a = ip("10.78.0.1");
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(5201) };
	static uint8_t pk[3][JV_MTU_MAX];
	uint8_t scratch[JV_MTU_MAX], got[4000];
	int fd = jv_tun_open_offload("jvt3", name, &err), idx, ls, cs = -1;
	const uint8_t *seg;
	struct jv_tun_rx rx;
	uint32_t iss = 0, seq = 1000;
	size_t n;

	assert_true(fd >= 0);
	idx = jv_nl_ifindex(&nl, name, &err);
	assert_int_equal(jv_nl_addr_add(&nl, idx, &a, 24, &err), 0);
	assert_int_equal(jv_nl_link_set_up(&nl, idx, true, &err), 0);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.78.0.1", &sa.sin_addr);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(ls, 1), 0);

	/* handshake by hand from 10.78.0.2:40000 (tcp_seg's addresses) */
	n = tcp_seg(pk[0], false, seq - 1, 0, SYN, 0, 1, false);
	jv_tun_writer_init(&tw, fd, true);
	jv_tun_put(&tw, pk[0], n);
	for (int tries = 0; tries < 50 && !iss; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 1000), 1);
		if (jv_tun_read_offload(fd, big, sizeof big, &rx) <= 0)
			continue;
		while ((n = jv_tun_rx_next(&rx, scratch, &seg)) > 0)
			if (seg[0] == 0x45 && seg[9] == IPPROTO_TCP &&
			    (seg[33] & (SYN | ACK)) == (SYN | ACK))
				iss = get32(seg + 24);
	}
	assert_true(iss != 0);
	/* three data segments, all acking the SYN-ACK (which completes the
	 * handshake), merged into one write */
	for (unsigned i = 0; i < 3; i++)
		jv_tun_put(&tw, pk[i], tcp_seg(pk[i], false, seq + i * 1000,
					       iss + 1, ACK, i < 2 ? 1000 : 700,
					       (uint16_t)(2 + i), false));
	jv_tun_writer_flush(&tw);
	assert_int_equal(tw.st.merged, 3);
	assert_int_equal(tw.st.dropped, 0);
	struct pollfd lp = { .fd = ls, .events = POLLIN };
	assert_int_equal(poll(&lp, 1, 2000), 1);
	cs = accept(ls, NULL, NULL);
	assert_true(cs >= 0);
	size_t total = 0;
	while (total < 2700) {
		struct pollfd p = { .fd = cs, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 2000), 1);
		r = recv(cs, got + total, sizeof got - total, 0);
		assert_true(r > 0);
		total += (size_t)r;
	}
	assert_int_equal(total, 2700);
	for (unsigned b = 0; b < 2700; b++)
		assert_int_equal(got[b], (uint8_t)(seq + b));

	/* The socket answers with 5000 bytes (within its first window: we
	 * ack nothing; no MSS option on our SYN: 536-byte segments): TSO
	 * super-packets cut into segments with valid checksums, in order. */
	static uint8_t data[5000];
	for (unsigned b = 0; b < sizeof data; b++)
		data[b] = (uint8_t)(b * 7);
	assert_int_equal(send(cs, data, sizeof data, 0), (ssize_t)sizeof data);
	uint32_t next = iss + 1;
	unsigned supers = 0, segs = 0;
	for (int tries = 0; tries < 100 && next != iss + 1 + sizeof data;
	     tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 1000) != 1)
			break;
		if (jv_tun_read_offload(fd, big, sizeof big, &rx) <= 0)
			continue;
		supers += rx.tso;
		while ((n = jv_tun_rx_next(&rx, scratch, &seg)) > 0) {
			unsigned hl = 20 + (seg[32] >> 4) * 4u;

			if (seg[0] != 0x45 || seg[9] != IPPROTO_TCP)
				continue;
			assert_true(n <= 1500);
			assert_int_equal(csum(seg, 20), 0);
			assert_true(l4_ok(seg, n, 20, IPPROTO_TCP));
			/* pure ACKs; a retransmission if we were slow */
			if (n == hl || (int32_t)(get32(seg + 24) - next) < 0)
				continue;
			assert_int_equal(get32(seg + 24), next);
			for (unsigned b = 0; b < n - hl; b++)
				assert_int_equal(seg[hl + b],
					(uint8_t)((next - iss - 1 + b) * 7));
			next += (uint32_t)(n - hl);
			segs++;
		}
	}
	print_message("# 5000 bytes: %u segments from %u TSO reads\n", segs,
		      supers);
	assert_int_equal(next, iss + 1 + sizeof data);
	assert_true(supers >= 1);
	close_reset(cs);
	close(ls);
	jv_tun_close(fd);
}

/* The handshake of a hand-made TCP client 10.78.0.2:40000 (tcp_seg's
 * addresses, ISN seq - 1) with the socket listening at 10.78.0.1:5201
 * behind the offload device fd; returns the socket's ISN. */
static uint32_t hand_handshake(int fd, uint32_t seq)
{
	static uint8_t syn[JV_MTU_MAX];
	uint8_t scratch[JV_MTU_MAX];
	const uint8_t *seg;
	struct jv_tun_rx rx;
	uint32_t iss = 0;
	size_t n = tcp_seg(syn, false, seq - 1, 0, SYN, 0, 1, false);

	jv_tun_put(&tw, syn, n);
	for (int tries = 0; tries < 50 && !iss; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 1000), 1);
		if (jv_tun_read_offload(fd, big, sizeof big, &rx) <= 0)
			continue;
		while ((n = jv_tun_rx_next(&rx, scratch, &seg)) > 0)
			if (seg[0] == 0x45 && seg[9] == IPPROTO_TCP &&
			    (seg[33] & (SYN | ACK)) == (SYN | ACK))
				iss = get32(seg + 24);
	}
	assert_true(iss != 0);
	return iss;
}

/* Issue 10: a segment whose TCP checksum fails must not ride in a merged
 * write (the kernel would trust the merged checksum and deliver it).
 * Good, good, a corrupted copy of the third, the good third: the three
 * good ones merge, the corrupted one goes alone and the kernel drops it;
 * a real socket reads exactly the good bytes.  Had the corrupted copy
 * been merged, the socket would read its bytes at 2000..2999 and drop
 * the good third as a duplicate. */
static void offload_device_drops_a_corrupted_segment(void **st)
{
	(void)st;
	char name[IF_NAMESIZE];
	struct jv_addr a = ip("10.78.0.1");
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(5201) };
	static uint8_t pk[4][JV_MTU_MAX];
	uint8_t got[4000];
	int fd = jv_tun_open_offload("jvt4", name, &err), idx, ls, cs;
	uint32_t iss, seq = 1000;
	size_t len[4], total = 0;

	assert_true(fd >= 0);
	idx = jv_nl_ifindex(&nl, name, &err);
	assert_int_equal(jv_nl_addr_add(&nl, idx, &a, 24, &err), 0);
	assert_int_equal(jv_nl_link_set_up(&nl, idx, true, &err), 0);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.78.0.1", &sa.sin_addr);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(ls, 1), 0);
	jv_tun_writer_init(&tw, fd, true);
	iss = hand_handshake(fd, seq);

	len[0] = tcp_seg(pk[0], false, seq, iss + 1, ACK, 1000, 2, false);
	len[1] = tcp_seg(pk[1], false, seq + 1000, iss + 1, ACK, 1000, 3,
			 false);
	len[2] = tcp_seg(pk[2], false, seq + 2000, iss + 1, ACK, 1000, 4,
			 false);
	memcpy(pk[3], pk[2], len[2]);
	len[3] = len[2];
	pk[2][40 + 10] ^= 0xff;		/* corrupted after its checksum */
	assert_false(l4_ok(pk[2], len[2], 20, IPPROTO_TCP));
	for (unsigned i = 0; i < 4; i++)
		jv_tun_put(&tw, pk[i], len[i]);
	jv_tun_writer_flush(&tw);

	struct pollfd lp = { .fd = ls, .events = POLLIN };
	assert_int_equal(poll(&lp, 1, 2000), 1);
	cs = accept(ls, NULL, NULL);
	assert_true(cs >= 0);
	while (total < 3000) {
		struct pollfd p = { .fd = cs, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 2000), 1);
		r = recv(cs, got + total, sizeof got - total, 0);
		assert_true(r > 0);
		total += (size_t)r;
	}
	assert_int_equal(total, 3000);
	for (unsigned b = 0; b < 3000; b++)
		assert_int_equal(got[b], (uint8_t)(seq + b));
	/* the good three in one write, the corrupted one alone */
	assert_int_equal(tw.st.bad_csum, 1);
	assert_int_equal(tw.st.merged, 3);
	assert_int_equal(tw.st.dropped, 0);
	close_reset(cs);
	close(ls);
	jv_tun_close(fd);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(tun_named_and_kernel_named, setup,
					teardown),
	cmocka_unit_test_setup_teardown(link_mtu_address_route, setup,
					teardown),
	cmocka_unit_test_setup_teardown(rules_tables_and_marks, setup,
					teardown),
	cmocka_unit_test_setup_teardown(netlink_refusals_are_explained, setup,
					teardown),
	cmocka_unit_test_setup_teardown(packets_through_the_device, setup,
					teardown),
	cmocka_unit_test_setup_teardown(unreachable_path_is_a_hard_error,
					setup, teardown),
	cmocka_unit_test(tso_read_is_cut_into_segments),
	cmocka_unit_test(plain_read_and_partial_checksum),
	cmocka_unit_test(bad_offload_reads_are_refused),
	cmocka_unit_test(writer_merges_runs_of_one_flow),
	cmocka_unit_test_setup_teardown(offload_device_with_a_real_tcp_peer,
					setup, teardown),
	cmocka_unit_test_setup_teardown(offload_device_drops_a_corrupted_segment,
					setup, teardown),
};
enum { NTESTS = sizeof tests / sizeof *tests };

static void skip_all(const char *why)
{
	printf("1..%d\n", NTESTS);
	for (int i = 0; i < NTESTS; i++)
		printf("ok %d - %s # SKIP %s\n", i + 1, tests[i].name, why);
	fprintf(stderr, "net_tun_netlink: SKIPPED (%s)\n", why);
}

static volatile sig_atomic_t got_signal;

static void on_signal(int signo)
{
	got_signal = signo;
}

int main(void)
{
	char ns[32], cmd[96], path[64];
	struct sigaction sa = { .sa_handler = on_signal };
	int status = 0, fd;
	pid_t child;

	if (geteuid() != 0) {
		skip_all("not root");
		return 0;
	}
	snprintf(ns, sizeof ns, "jvt-%ld", (long)getpid());
	snprintf(cmd, sizeof cmd, "ip netns add %s", ns);
	if (system(cmd) != 0) {
		skip_all("cannot create a network namespace");
		return 0;
	}
	/* From here on the namespace must go, whatever happens: the child
	 * runs the tests, the parent only waits and cleans up, also when a
	 * timeout signal arrives. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		snprintf(path, sizeof path, "/run/netns/%s", ns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			perror(path);
			_exit(1);
		}
		close(fd);
		_exit(cmocka_run_group_tests_name("net_tun_netlink", tests,
						  NULL, NULL) ? 1 : 0);
	}
	if (child > 0) {
		while (waitpid(child, &status, 0) < 0) {
			if (errno != EINTR)
				break;
			if (got_signal)
				kill(child, SIGKILL);
		}
	}
	snprintf(cmd, sizeof cmd, "ip netns del %s", ns);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not delete netns %s\n", ns);
	if (child < 0 || got_signal)
		return 1;
	if (WIFSIGNALED(status)) {
		printf("not ok - child killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
