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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(tun_named_and_kernel_named, setup,
					teardown),
	cmocka_unit_test_setup_teardown(link_mtu_address_route, setup,
					teardown),
	cmocka_unit_test_setup_teardown(netlink_refusals_are_explained, setup,
					teardown),
	cmocka_unit_test_setup_teardown(packets_through_the_device, setup,
					teardown),
	cmocka_unit_test_setup_teardown(unreachable_path_is_a_hard_error,
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
