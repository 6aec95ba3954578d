/* SPDX-License-Identifier: MIT */
/* UDP transports over loopback: batching, pktinfo (answer from the address
 * the client used), filtering, truncation, ICMP errors as path-down. */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/loop.h"
#include "net/netaddr.h"
#include "net/udp.h"

/* Big structs live here, not on the stack. */
static struct jv_udp_gw gw;
static struct jv_udp_rxbatch rb;
static struct jv_out out;

static struct jv_addr addr(const char *s)
{
	struct jv_addr a;

	assert_int_equal(jv_netaddr_parse(&a, s), 0);
	return a;
}

static bool addr_eq(const struct jv_addr *a, const struct jv_addr *b)
{
	return !memcmp(a->ip, b->ip, sizeof a->ip) && a->port == b->port;
}

/* Listen on host:<a free port>; returns the socket index. */
static int listen_free(struct jv_udp_gw *g, const char *host, uint16_t *port)
{
	struct jv_net_err err;

	for (unsigned i = 0; i < 200; i++) {
		struct jv_addr a = addr(host);
		int r;

		a.port = (uint16_t)(20000 + (getpid() * 7 + i * 131) % 40000);
		r = jv_udp_gw_listen(g, &a, &err);
		if (r >= 0) {
			*port = a.port;
			return r;
		}
		if (r != JV_ERR_STATE)
			return r;
	}
	return JV_ERR_STATE;
}

/* Bounded wait for fd to become readable (1 s is a failure, not a pace). */
static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 1000), 1);
}

static int setup(void **st)
{
	(void)st;
	jv_udp_gw_init(&gw);
	memset(&rb, 0, sizeof rb);
	jv_out_reset(&out);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	jv_udp_gw_close(&gw);
	return 0;
}

static void add_dgram(int path, uint32_t local, const struct jv_addr *to,
		      const char *payload)
{
	struct jv_dgram *d = &out.dgram[out.ndgram++];

	d->path = path;
	d->local = local;
	if (to)
		d->to = *to;
	d->len = (uint16_t)strlen(payload);
	memcpy(d->buf, payload, d->len);
}

static void answers_from_the_address_it_was_sent_to(void **st)
{
	(void)st;
	struct jv_udp_path p[2];
	struct jv_udp_txres res[JV_UDP_LISTEN_MAX];
	struct jv_net_err err;
	struct jv_addr r1, r2, from1 = { 0 }, from2 = { 0 };
	uint32_t local1 = 0, local2 = 0;
	uint16_t port;
	int sys;

	/* Wildcard listen: 127.0.0.1 and 127.0.0.2 are both local (lo). */
	assert_int_equal(listen_free(&gw, "0.0.0.0", &port), 0);
	r1 = addr("127.0.0.1");
	r2 = addr("127.0.0.2");
	r1.port = r2.port = port;
	assert_int_equal(jv_udp_path_open(&p[0], &r1, NULL, NULL, &err), 0);
	assert_int_equal(jv_udp_path_open(&p[1], &r2, NULL, NULL, &err), 0);

	add_dgram(0, 0, NULL, "via-1");
	add_dgram(1, 0, NULL, "via-2");
	assert_int_equal(jv_udp_client_flush(p, 2, &out, res), 0);
	assert_int_equal(res[0].sent, 1);
	assert_int_equal(res[1].sent, 1);
	assert_int_equal(res[0].sys, 0);

	unsigned got = 0;
	for (int tries = 0; got < 2 && tries < 10; tries++) {
		wait_readable(gw.fd[0]);
		unsigned n = jv_udp_gw_recv(&gw, 0, &rb, &sys);
		assert_int_equal(sys, 0);
		for (unsigned k = 0; k < n; k++, got++) {
			struct jv_udp_rx *m = &rb.msg[k];
			char s[JV_NETADDR_STR_MAX];

			print_message("# %.*s to %s\n", m->len, m->buf,
				      jv_netaddr_str(&m->to, s));
			assert_int_equal(m->to.port, port);
			assert_true(m->ifindex > 0);	/* lo */
			assert_true(m->local >= JV_UDP_LISTEN_MAX);
			if (m->len == 5 && !memcmp(m->buf, "via-1", 5)) {
				assert_int_equal(jv_netaddr_v4(&m->to),
						 0x7f000001u);
				local1 = m->local;
				from1 = m->from;
			} else {
				assert_memory_equal(m->buf, "via-2", 5);
				assert_int_equal(jv_netaddr_v4(&m->to),
						 0x7f000002u);
				local2 = m->local;
				from2 = m->from;
			}
		}
	}
	assert_int_equal(got, 2);
	assert_int_not_equal(local1, local2);
	assert_int_equal(gw.nlocal, 2);

	/* Reply to each on its local index: the client path filters on the
	 * source, so a reply from the wrong address would be `foreign`. */
	jv_out_reset(&out);
	add_dgram(0, local2, &from2, "back-2");
	add_dgram(0, local1, &from1, "back-1");
	assert_int_equal(jv_udp_gw_flush(&gw, &out, res), 0);
	assert_int_equal(res[0].sent, 2);

	wait_readable(p[0].fd);
	assert_int_equal(jv_udp_path_recv(&p[0], &rb, &sys), 1);
	assert_memory_equal(rb.msg[0].buf, "back-1", 6);
	wait_readable(p[1].fd);
	assert_int_equal(jv_udp_path_recv(&p[1], &rb, &sys), 1);
	assert_memory_equal(rb.msg[0].buf, "back-2", 6);
	assert_true(addr_eq(&rb.msg[0].from, &r2));
	assert_int_equal(rb.foreign, 0);

	/* The same address again gets the same index (cached or scanned). */
	jv_out_reset(&out);
	add_dgram(1, 0, NULL, "again");
	add_dgram(0, 0, NULL, "again");
	assert_int_equal(jv_udp_client_flush(p, 2, &out, res), 0);
	got = 0;
	for (int tries = 0; got < 2 && tries < 10; tries++) {
		wait_readable(gw.fd[0]);
		unsigned n = jv_udp_gw_recv(&gw, 0, &rb, &sys);
		for (unsigned k = 0; k < n; k++, got++)
			assert_true(rb.msg[k].local ==
				    (jv_netaddr_v4(&rb.msg[k].to) == 0x7f000001u ?
				     local1 : local2));
	}
	assert_int_equal(got, 2);
	assert_int_equal(gw.nlocal, 2);
	jv_udp_path_close(&p[0]);
	jv_udp_path_close(&p[1]);
	assert_int_equal(p[0].fd, -1);
}

/* A plain unconnected socket for playing stranger / raw sender. */
static int plain_socket(void)
{
	struct jv_net_err err;
	int fd = jv_udp_socket(AF_INET, &err);

	assert_true(fd >= 0);
	return fd;
}

static void sendto_addr(int fd, const struct jv_addr *to, const void *buf,
			size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = jv_netaddr_to_sockaddr(to, &ss);

	assert_int_equal(sendto(fd, buf, n, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)n);
}

static void batch_of_32_in_order(void **st)
{
	(void)st;
	struct jv_udp_path p;
	struct jv_udp_txres res[JV_UDP_LISTEN_MAX];
	struct jv_net_err err;
	struct jv_addr r;
	uint16_t port;
	unsigned got = 0, calls = 0, biggest = 0;
	int sys;

	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	r = addr("127.0.0.1");
	r.port = port;
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	for (unsigned i = 0; i < JV_OUT_DGRAMS; i++) {
		char b[16];

		snprintf(b, sizeof b, "dgram-%02u", i);
		add_dgram(0, 0, NULL, b);
	}
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	assert_int_equal(res[0].sent, JV_OUT_DGRAMS);
	assert_int_equal(res[0].dropped, 0);

	while (got < JV_OUT_DGRAMS && calls < 40) {
		unsigned n;

		wait_readable(gw.fd[0]);
		n = jv_udp_gw_recv(&gw, 0, &rb, &sys);
		calls++;
		if (n > biggest)
			biggest = n;
		for (unsigned k = 0; k < n; k++, got++) {
			char b[16];

			snprintf(b, sizeof b, "dgram-%02u", got);
			assert_int_equal(rb.msg[k].len, strlen(b));
			assert_memory_equal(rb.msg[k].buf, b, strlen(b));
			/* bound to one address: that is the local address */
			assert_int_equal(jv_netaddr_v4(&rb.msg[k].to),
					 0x7f000001u);
		}
	}
	assert_int_equal(got, JV_OUT_DGRAMS);
	/* recvmmsg took several per call (loopback delivers synchronously) */
	print_message("# %u datagrams in %u recvmmsg calls\n", got, calls);
	assert_true(biggest > 1);
	jv_udp_path_close(&p);
}

static void oversize_and_foreign_dropped(void **st)
{
	(void)st;
	struct jv_udp_path p;
	struct jv_net_err err;
	struct jv_addr r, me;
	struct sockaddr_storage ss;
	socklen_t sl;
	static uint8_t big[JV_DGRAM_MAX + 1];
	uint16_t port;
	int stranger = plain_socket(), sys;

	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	/* too long for any engine datagram: dropped, counted, next one ok */
	sendto_addr(stranger, &gw.bound[0], big, sizeof big);
	sendto_addr(stranger, &gw.bound[0], "fits", 4);
	unsigned got = 0;
	for (int tries = 0; got < 1 && tries < 10; tries++) {
		wait_readable(gw.fd[0]);
		got += jv_udp_gw_recv(&gw, 0, &rb, &sys);
	}
	assert_int_equal(got, 1);
	assert_int_equal(rb.msg[0].len, 4);
	assert_memory_equal(rb.msg[0].buf, "fits", 4);
	assert_int_equal(rb.truncated, 1);

	/* a client path takes datagrams from its gateway only */
	r = gw.bound[0];
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	/* unconnected, unbound: it gets its port with the first send */
	add_dgram(0, 0, NULL, "hello");
	struct jv_udp_txres res[1];
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	sl = sizeof ss;
	assert_int_equal(getsockname(p.fd, (struct sockaddr *)&ss, &sl), 0);
	assert_int_equal(jv_netaddr_from_sockaddr(&me, (struct sockaddr *)&ss,
						  sl), 0);
	me = addr("127.0.0.1");	/* bound to 0.0.0.0: reach it on lo */
	me.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	sendto_addr(stranger, &me, "spoof", 5);
	sendto_addr(gw.fd[0], &me, "real", 4);	/* from the gateway */
	got = 0;
	for (int tries = 0; got < 1 && tries < 10; tries++) {
		wait_readable(p.fd);
		got += jv_udp_path_recv(&p, &rb, &sys);
	}
	assert_int_equal(got, 1);
	assert_memory_equal(rb.msg[0].buf, "real", 4);
	assert_int_equal(rb.foreign, 1);
	close(stranger);
	jv_udp_path_close(&p);
}

struct err_seen {
	unsigned calls, events;
	int sys;
};

/* What the daemon does on JV_LOOP_ERR: drain, then judge. */
static void on_path_event(struct jv_loop *l, int fd, unsigned events,
			  void *ud)
{
	struct err_seen *e = ud;

	(void)l;
	e->calls++;
	e->events |= events;
	if (events & JV_LOOP_ERR)
		e->sys = jv_udp_take_error(fd);
}

static void port_unreachable_is_a_hard_error(void **st)
{
	(void)st;
	struct jv_udp_path p;
	struct jv_udp_txres res[1];
	struct jv_net_err err;
	struct jv_loop l;
	struct err_seen seen = { 0 };
	struct pollfd pf;
	uint16_t port;
	int sys;

	/* a port nobody listens on: take one, then close it */
	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	struct jv_addr closed = gw.bound[0];
	jv_udp_gw_close(&gw);

	assert_int_equal(jv_udp_path_open(&p, &closed, NULL, NULL, &err), 0);
	assert_int_equal(jv_loop_init(&l, &err), 0);
	assert_int_equal(jv_loop_add(&l, p.fd, JV_LOOP_READ, on_path_event,
				     &seen), 0);

	add_dgram(0, 0, NULL, "anyone?");
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	assert_int_equal(res[0].sent, 1);

	/* ICMP port unreachable comes back as EPOLLERR on the socket */
	assert_int_equal(jv_loop_run_once(&l, 1000), 1);
	assert_int_equal(seen.calls, 1);
	assert_true(seen.events & JV_LOOP_ERR);
	assert_int_equal(seen.sys, ECONNREFUSED);
	assert_true(jv_udp_err_is_hard(seen.sys));
	/* drained: the loop is quiet again, it cannot spin on the error */
	assert_int_equal(jv_loop_run_once(&l, 0), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(jv_udp_take_error(p.fd), 0);

	/* the receive path reports it too and drains the queue itself */
	assert_int_equal(jv_loop_del(&l, p.fd), 0);
	jv_out_reset(&out);
	add_dgram(0, 0, NULL, "again?");
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	pf = (struct pollfd){ .fd = p.fd, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 1000), 1);
	assert_true(pf.revents & POLLERR);
	assert_int_equal(jv_udp_path_recv(&p, &rb, &sys), 0);
	assert_int_equal(sys, ECONNREFUSED);
	pf.revents = 0;
	assert_int_equal(poll(&pf, 1, 0), 0);

	/* and a send with the error pending fails with it: path down */
	jv_out_reset(&out);
	add_dgram(0, 0, NULL, "third");
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	assert_int_equal(poll(&pf, 1, 1000), 1);
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	print_message("# send with ICMP error pending: sent %u, %s\n",
		      res[0].sent, strerror(res[0].sys));
	assert_int_equal(res[0].sent, 0);
	assert_int_equal(res[0].dropped, 1);
	assert_int_equal(res[0].sys, ECONNREFUSED);
	(void)jv_udp_take_error(p.fd);

	jv_loop_close(&l);
	jv_udp_path_close(&p);
}

static void hard_and_soft_errors(void **st)
{
	(void)st;
	static const int hard[] = { ENETUNREACH, EHOSTUNREACH, ECONNREFUSED,
				    ENETDOWN, ENODEV, EADDRNOTAVAIL, EPERM };
	static const int soft[] = { 0, EAGAIN, ENOBUFS, EMSGSIZE, EINTR };

	for (size_t i = 0; i < sizeof hard / sizeof *hard; i++)
		assert_true(jv_udp_err_is_hard(hard[i]));
	for (size_t i = 0; i < sizeof soft / sizeof *soft; i++)
		assert_false(jv_udp_err_is_hard(soft[i]));
}

static void open_errors_name_the_problem(void **st)
{
	(void)st;
	struct jv_udp_path p;
	struct jv_net_err err;
	struct jv_addr r = addr("127.0.0.1:9"), l;

	l = addr("[::1]");
	assert_int_equal(jv_udp_path_open(&p, &r, &l, NULL, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "family"));
	assert_int_equal(p.fd, -1);

	r.port = 0;
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err),
			 JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "port"));
	r.port = 9;

	assert_int_equal(jv_udp_path_open(&p, &r, NULL, "jvt-no-such-if", &err),
			 JV_ERR_NOTFOUND);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, "jvt-no-such-if"));
	assert_int_equal(err.sys, ENODEV);

	assert_int_equal(jv_udp_path_open(&p, &r, NULL,
					  "name-longer-than-15", &err),
			 JV_ERR_INVAL);

	l = addr("192.0.2.77");	/* TEST-NET-1: not on this host */
	assert_int_equal(jv_udp_path_open(&p, &r, &l, NULL, &err),
			 JV_ERR_NOTFOUND);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, "not on this host"));

	/* gateway side */
	struct jv_addr a = addr("127.0.0.1");
	assert_int_equal(jv_udp_gw_listen(&gw, &a, &err), JV_ERR_INVAL);
	a = addr("192.0.2.77:5000");
	assert_int_equal(jv_udp_gw_listen(&gw, &a, &err), JV_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "192.0.2.77:5000"));
	uint16_t port;
	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	a = gw.bound[0];
	assert_int_equal(jv_udp_gw_listen(&gw, &a, &err), JV_ERR_STATE);
	print_message("# %s\n", err.msg);
	assert_int_equal(err.sys, EADDRINUSE);
	assert_int_equal(gw.nsock, 1);
}

static void bad_indexes_are_dropped_and_counted(void **st)
{
	(void)st;
	struct jv_udp_path p[2];
	struct jv_udp_txres res[JV_UDP_LISTEN_MAX];
	struct jv_net_err err;
	struct jv_addr to = addr("127.0.0.1:9");
	uint16_t port;

	assert_int_equal(jv_udp_path_open(&p[0], &to, NULL, NULL, &err), 0);
	p[1].fd = -1;		/* a closed path */
	add_dgram(0, 0, NULL, "ok");
	add_dgram(1, 0, NULL, "closed");
	add_dgram(7, 0, NULL, "nowhere");
	add_dgram(-1, 0, NULL, "negative");
	out.dgram[out.ndgram] = out.dgram[0];
	out.dgram[out.ndgram++].len = JV_DGRAM_MAX + 1;
	assert_int_equal(jv_udp_client_flush(p, 2, &out, res), 4);
	assert_int_equal(res[0].sent, 1);
	assert_int_equal(res[1].sent, 0);
	jv_udp_path_close(&p[0]);

	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	jv_out_reset(&out);
	add_dgram(0, 0, &to, "sock0");			/* fallback index */
	add_dgram(0, 1, &to, "no sock 1");
	add_dgram(0, JV_UDP_LISTEN_MAX, &to, "no entry");
	add_dgram(0, UINT32_MAX, &to, "wild");
	assert_int_equal(jv_udp_gw_flush(&gw, &out, res), 3);
	assert_int_equal(res[0].sent, 1);
}

/* A datagram the kernel refuses in the middle of a batch is skipped and
 * reported; the ones after it still go (sendmmsg stops at the failure). */
static void refused_datagram_mid_batch_is_skipped(void **st)
{
	(void)st;
	struct jv_udp_tx tx[5];
	struct jv_udp_txres res;
	struct jv_addr to, gone = addr("192.0.2.77");
	uint16_t port;
	int sys;

	assert_int_equal(listen_free(&gw, "0.0.0.0", &port), 0);
	to = addr("127.0.0.1");
	to.port = port;
	for (unsigned i = 0; i < 5; i++)
		tx[i] = (struct jv_udp_tx){ .buf = (const uint8_t *)"abcde" + i,
					    .len = 1, .to = &to };
	/* Not a local address: an IPv4 source the kernel will not use. */
	tx[2].from = &gone;
	/* same destination as tx[2] but a fine source: must still go */
	jv_udp_send(gw.fd[0], &gw.gso[0], tx, 5, &res);
	print_message("# refused with: %s\n", strerror(res.sys));
	assert_int_equal(res.sent, 4);
	assert_int_equal(res.dropped, 1);
	/* ENETUNREACH on current kernels, EINVAL on older ones */
	assert_true(jv_udp_err_is_hard(res.sys));

	char got[8] = { 0 };
	unsigned n = 0;
	for (int tries = 0; n < 4 && tries < 10; tries++) {
		wait_readable(gw.fd[0]);
		unsigned k = jv_udp_gw_recv(&gw, 0, &rb, &sys);
		for (unsigned i = 0; i < k; i++)
			got[n++] = (char)rb.msg[i].buf[0];
	}
	assert_string_equal(got, "abde");
}

static void full_local_table_falls_back_to_the_socket(void **st)
{
	(void)st;
	uint16_t port[2];
	int sender = plain_socket(), sys;
	unsigned got = 0, fallback = 0;

	assert_int_equal(listen_free(&gw, "0.0.0.0", &port[0]), 0);
	assert_int_equal(listen_free(&gw, "0.0.0.0", &port[1]), 1);
	/* 2 sockets x 130 loopback addresses > JV_UDP_LOCAL_MAX */
	for (unsigned s = 0; s < 2; s++) {
		for (unsigned i = 1; i <= 130; i++) {
			struct jv_addr to = addr("127.0.0.0");

			to.ip[15] = (uint8_t)i;
			to.port = port[s];
			sendto_addr(sender, &to, "x", 1);
		}
		for (unsigned tries = 0; got < 130 * (s + 1) && tries < 200;
		     tries++) {
			wait_readable(gw.fd[s]);
			unsigned n = jv_udp_gw_recv(&gw, s, &rb, &sys);

			for (unsigned k = 0; k < n; k++, got++) {
				if (rb.msg[k].local < JV_UDP_LISTEN_MAX) {
					assert_int_equal(rb.msg[k].local, s);
					fallback++;
				}
			}
		}
	}
	assert_int_equal(got, 260);
	assert_int_equal(gw.nlocal, JV_UDP_LOCAL_MAX);
	assert_int_equal(fallback, 260 - JV_UDP_LOCAL_MAX);
	assert_int_equal(gw.local_full, 260 - JV_UDP_LOCAL_MAX);
	/* a fallback index still sends (the kernel picks the source) */
	struct jv_udp_txres res[2];
	struct jv_addr back = addr("127.0.0.1:9");
	add_dgram(0, 1, &back, "fallback");
	assert_int_equal(jv_udp_gw_flush(&gw, &out, res), 0);
	assert_int_equal(res[1].sent, 1);
	close(sender);
}

static void ipv6_pktinfo(void **st)
{
	(void)st;
	struct jv_udp_path p;
	struct jv_udp_txres res[JV_UDP_LISTEN_MAX];
	struct jv_net_err err;
	struct jv_addr r;
	uint16_t port;
	int sys;

	if (listen_free(&gw, "::", &port) != 0) {
		print_message("# no IPv6 on this host\n");
		skip();
	}
	r = addr("::1");
	r.port = port;
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	add_dgram(0, 0, NULL, "six");
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	wait_readable(gw.fd[0]);
	assert_int_equal(jv_udp_gw_recv(&gw, 0, &rb, &sys), 1);
	assert_true(addr_eq(&rb.msg[0].to, &r));
	assert_true(rb.msg[0].local >= JV_UDP_LISTEN_MAX);
	assert_false(jv_netaddr_is_v4(&rb.msg[0].from));

	struct jv_addr from = rb.msg[0].from;
	jv_out_reset(&out);
	add_dgram(0, rb.msg[0].local, &from, "xis");
	assert_int_equal(jv_udp_gw_flush(&gw, &out, res), 0);
	assert_int_equal(res[0].sent, 1);
	wait_readable(p.fd);
	assert_int_equal(jv_udp_path_recv(&p, &rb, &sys), 1);
	assert_memory_equal(rb.msg[0].buf, "xis", 3);
	jv_udp_path_close(&p);
}

/* Fill out with datagrams of the given lengths on path 0, byte k of
 * datagram i being i * 31 + k (so a boundary moved shows). */
static void add_sized(const unsigned *len, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct jv_dgram *d = &out.dgram[out.ndgram++];

		d->path = 0;
		d->len = (uint16_t)len[i];
		for (unsigned k = 0; k < len[i]; k++)
			d->buf[k] = (uint8_t)(i * 31 + k);
	}
}

/* Receive n datagrams on the gateway's socket 0 and check them against
 * add_sized's pattern. */
static void expect_sized(const unsigned *len, unsigned n)
{
	unsigned got = 0;
	int sys;

	for (int tries = 0; got < n && tries < 20; tries++) {
		wait_readable(gw.fd[0]);
		unsigned k = jv_udp_gw_recv(&gw, 0, &rb, &sys);

		for (unsigned j = 0; j < k; j++, got++) {
			assert_true(got < n);
			assert_int_equal(rb.msg[j].len, len[got]);
			for (unsigned b = 0; b < len[got]; b++)
				assert_int_equal(rb.msg[j].buf[b],
						 (uint8_t)(got * 31 + b));
		}
	}
	assert_int_equal(got, n);
}

/* Runs of equal datagrams go as UDP GSO sends; the receiver still gets
 * every datagram, with its own boundaries, in order: a run ends after a
 * shorter datagram, and a longer one starts a new run. */
static void gso_runs_keep_datagram_boundaries(void **st)
{
	(void)st;
	static const unsigned len[] = { 1200, 1200, 1200, 1200, 1200, 40,
					1200, 1200, 1300, 1300, 7 };
	const unsigned n = sizeof len / sizeof *len;
	struct jv_udp_path p;
	struct jv_udp_txres res[1];
	struct jv_net_err err;
	struct jv_addr r;
	uint16_t port;

	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	r = addr("127.0.0.1");
	r.port = port;
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	if (!p.gso) {
		jv_udp_path_close(&p);
		print_message("# no UDP_SEGMENT in this kernel\n");
		skip();
	}
	add_sized(len, n);
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	assert_int_equal(res[0].sent, n);
	assert_int_equal(res[0].dropped, 0);
	assert_int_equal(res[0].sys, 0);
	assert_true(p.gso);
	expect_sized(len, n);

	/* The gateway's runs carry pktinfo and UDP_SEGMENT together. */
	struct jv_addr back = rb.msg[0].from;
	uint32_t local = rb.msg[0].local;
	int sys;

	jv_out_reset(&out);
	for (unsigned i = 0; i < 4; i++)
		add_dgram(0, local, &back, "four");
	assert_int_equal(jv_udp_gw_flush(&gw, &out, res), 0);
	assert_int_equal(res[0].sent, 4);
	for (unsigned got = 0, tries = 0; got < 4 && tries < 20; tries++) {
		wait_readable(p.fd);
		unsigned k = jv_udp_path_recv(&p, &rb, &sys);

		for (unsigned j = 0; j < k; j++, got++) {
			assert_int_equal(rb.msg[j].len, 4);
			assert_memory_equal(rb.msg[j].buf, "four", 4);
		}
	}
	jv_udp_path_close(&p);
}

/* A socket whose GSO sends the kernel refuses (here: checksums off, which
 * GSO needs; a device without checksum offload gives EIO the same way)
 * sends the run again one by one, loses nothing, and stops trying GSO. */
static void refused_gso_falls_back_to_plain_sends(void **st)
{
	(void)st;
	static const unsigned len[] = { 500, 500, 500, 500 };
	struct jv_udp_path p;
	struct jv_udp_txres res[1];
	struct jv_net_err err;
	struct jv_addr r;
	uint16_t port;
	int one = 1;

	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	r = addr("127.0.0.1");
	r.port = port;
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	if (!p.gso) {
		jv_udp_path_close(&p);
		print_message("# no UDP_SEGMENT in this kernel\n");
		skip();
	}
	assert_int_equal(setsockopt(p.fd, SOL_SOCKET, SO_NO_CHECK, &one,
				    sizeof one), 0);
	add_sized(len, 4);
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	assert_int_equal(res[0].sent, 4);
	assert_int_equal(res[0].dropped, 0);
	assert_int_equal(res[0].sys, 0);
	assert_false(p.gso);
	expect_sized(len, 4);

	/* From now on plain sends only. */
	assert_int_equal(jv_udp_client_flush(&p, 1, &out, res), 0);
	assert_int_equal(res[0].sent, 4);
	assert_false(p.gso);
	expect_sized(len, 4);
	jv_udp_path_close(&p);
}

/* A run refused for the route's sake (no source address of ours) is
 * not GSO's fault: it is dropped as one, reported hard, and GSO stays. */
static void run_refused_by_the_route_keeps_gso(void **st)
{
	(void)st;
	struct jv_udp_tx tx[4];
	struct jv_udp_txres res;
	struct jv_addr to, gone = addr("192.0.2.77");
	uint16_t port;

	assert_int_equal(listen_free(&gw, "0.0.0.0", &port), 0);
	if (!gw.gso[0]) {
		print_message("# no UDP_SEGMENT in this kernel\n");
		skip();
	}
	to = addr("127.0.0.1");
	to.port = port;
	for (unsigned i = 0; i < 4; i++)
		tx[i] = (struct jv_udp_tx){ .buf = (const uint8_t *)"abcd",
					    .len = 4, .to = &to,
					    .from = &gone };
	jv_udp_send(gw.fd[0], &gw.gso[0], tx, 4, &res);
	assert_int_equal(res.sent, 0);
	assert_int_equal(res.dropped, 4);
	assert_true(jv_udp_err_is_hard(res.sys));
	assert_true(gw.gso[0]);
}

/* With UDP GRO the kernel hands a run of one sender's datagrams over as
 * one message: jv_udp_recv cuts it back into the datagrams, in order, and
 * drops (counts) those too long for the engine without losing the
 * others. */
static void coalesced_receive_is_split_again(void **st)
{
	(void)st;
	static const unsigned len[] = { 100, 100, 100, 100, 100, 100, 100,
					100, 100, 100, 100, 100, 100, 100,
					100, 100, 100, 100, 100, 100, 100,
					100, 100, 100, 100, 100, 100, 100,
					100, 100, 100, 100, 100, 100, 100,
					100, 100, 100, 100, 37 };
	const unsigned n = sizeof len / sizeof *len;
	struct jv_udp_path p;
	struct jv_udp_txres res[1];
	struct jv_net_err err;
	struct jv_addr r;
	uint16_t port;
	int on = 0, sys;
	socklen_t sl = sizeof on;

	assert_int_equal(listen_free(&gw, "127.0.0.1", &port), 0);
	r = addr("127.0.0.1");
	r.port = port;
	assert_int_equal(jv_udp_path_open(&p, &r, NULL, NULL, &err), 0);
	if (!p.gso || getsockopt(gw.fd[0], SOL_UDP, UDP_GRO, &on, &sl) ||
	    !on) {
		jv_udp_path_close(&p);
		print_message("# no UDP GSO/GRO in this kernel\n");
		skip();
	}
	/* 40 datagrams: more than the slots of one recvmmsg */
	static uint8_t data[sizeof len / sizeof *len][100];
	struct jv_udp_tx run[sizeof len / sizeof *len];

	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < len[i]; k++)
			data[i][k] = (uint8_t)(i * 31 + k);
		run[i] = (struct jv_udp_tx){ .buf = data[i],
					     .len = (uint16_t)len[i], .to = &r };
	}
	jv_udp_send(p.fd, &p.gso, run, n, res);
	assert_int_equal(res[0].sent, n);
	wait_readable(gw.fd[0]);
	assert_int_equal(jv_udp_gw_recv(&gw, 0, &rb, &sys), n);
	assert_false(rb.more);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rb.msg[i].len, len[i]);
		assert_int_equal(rb.msg[i].buf[0], (uint8_t)(i * 31));
		assert_int_equal(rb.msg[i].buf[len[i] - 1],
				 (uint8_t)(i * 31 + len[i] - 1));
		assert_int_equal(jv_netaddr_v4(&rb.msg[i].to), 0x7f000001u);
		assert_int_equal(rb.msg[i].local, rb.msg[0].local);
	}

	/* a run of datagrams too long for the engine, then a good one */
	static uint8_t big[3 * 2000];
	struct jv_udp_tx tx[4];
	uint64_t truncated = rb.truncated;

	for (unsigned i = 0; i < 3; i++)
		tx[i] = (struct jv_udp_tx){ .buf = big + i * 2000, .len = 2000,
					    .to = &r };
	tx[3] = (struct jv_udp_tx){ .buf = (const uint8_t *)"ok", .len = 2,
				    .to = &r };
	jv_udp_send(p.fd, &p.gso, tx, 4, res);
	assert_int_equal(res[0].sent, 4);
	unsigned got = 0;
	for (int tries = 0; got < 1 && tries < 10; tries++) {
		wait_readable(gw.fd[0]);
		got += jv_udp_gw_recv(&gw, 0, &rb, &sys);
	}
	assert_int_equal(got, 1);
	assert_int_equal(rb.msg[0].len, 2);
	assert_memory_equal(rb.msg[0].buf, "ok", 2);
	assert_int_equal(rb.truncated - truncated, 3);
	jv_udp_path_close(&p);
}

static long sysctl_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* D-034: the socket buffers are the tunnel's queue under load, so they
 * are the small ones udp.h sets, not the kernel's default or a big one
 * (the kernel reports twice what was asked: its bookkeeping share). */
static void socket_buffers_are_bounded(void **st)
{
	(void)st;
	int fd = plain_socket(), v = 0;
	socklen_t sl = sizeof v;

	/* asked for: a few ms at 1 Gbit/s, not the 1 MiB of before */
	assert_true(JV_UDP_RCVBUF_BYTES <= 256 << 10);
	assert_true(JV_UDP_SNDBUF_BYTES <= 512 << 10);
	if (sysctl_long("/proc/sys/net/core/rmem_max") >= JV_UDP_RCVBUF_BYTES) {
		assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl), 0);
		assert_int_equal(v, 2 * JV_UDP_RCVBUF_BYTES);
	}
	if (sysctl_long("/proc/sys/net/core/wmem_max") >= JV_UDP_SNDBUF_BYTES) {
		sl = sizeof v;
		assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &sl), 0);
		assert_int_equal(v, 2 * JV_UDP_SNDBUF_BYTES);
	}
	close(fd);
}

/* A gateway's listen socket grows with its peers: a reattach of every
 * one of them at once must fit (D-034); one peer keeps the small one. */
static void gateway_buffer_holds_a_burst_per_peer(void **st)
{
	(void)st;
	int fd = plain_socket();
	int one = jv_udp_gw_rcvbuf_bytes(1), many = jv_udp_gw_rcvbuf_bytes(10000);

	assert_int_equal(jv_udp_gw_rcvbuf_bytes(0), JV_UDP_RCVBUF_BYTES);
	assert_true(one < JV_UDP_RCVBUF_BYTES + 1024);
	/* 10 000 small datagrams of ~1 KiB of skb memory: the kernel
	 * grants twice what is asked */
	assert_true(2 * (long)many >= 10000L * 1024);
	assert_int_equal(jv_udp_gw_rcvbuf_bytes(UINT_MAX), INT_MAX / 2);
	if (sysctl_long("/proc/sys/net/core/rmem_max") >= many)
		assert_int_equal(jv_udp_set_rcvbuf(fd, many), 2 * many);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			answers_from_the_address_it_was_sent_to, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_of_32_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(oversize_and_foreign_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(port_unreachable_is_a_hard_error,
						setup, teardown),
		cmocka_unit_test(hard_and_soft_errors),
		cmocka_unit_test_setup_teardown(open_errors_name_the_problem,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			bad_indexes_are_dropped_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(
			refused_datagram_mid_batch_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(
			full_local_table_falls_back_to_the_socket, setup,
			teardown),
		cmocka_unit_test_setup_teardown(ipv6_pktinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(
			gso_runs_keep_datagram_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(
			refused_gso_falls_back_to_plain_sends, setup, teardown),
		cmocka_unit_test_setup_teardown(
			run_refused_by_the_route_keeps_gso, setup, teardown),
		cmocka_unit_test_setup_teardown(
			coalesced_receive_is_split_again, setup, teardown),
		cmocka_unit_test(socket_buffers_are_bounded),
		cmocka_unit_test(gateway_buffer_holds_a_burst_per_peer),
	};

	return cmocka_run_group_tests_name("net_udp", tests, NULL, NULL);
}
