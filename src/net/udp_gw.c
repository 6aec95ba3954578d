/* SPDX-License-Identifier: MIT */
/* Gateway listen sockets: answer from the address a datagram came to. */

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netaddr.h"
#include "net/udp.h"

void jv_udp_gw_init(struct jv_udp_gw *g)
{
	memset(g, 0, sizeof *g);
	for (unsigned i = 0; i < JV_UDP_LISTEN_MAX; i++)
		g->fd[i] = -1;
}

int jv_udp_gw_listen(struct jv_udp_gw *g, const struct jv_addr *addr,
		     struct jv_net_err *err)
{
	char as[JV_NETADDR_STR_MAX];
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, family, one = 1, e;

	if (g->nsock >= JV_UDP_LISTEN_MAX)
		return jv_net_err_set(err, JV_ERR_LIMIT, 0,
			"listen: at most %d listen addresses",
			JV_UDP_LISTEN_MAX);
	if (!addr || !addr->port)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"listen %s: a listen address needs a port",
			addr ? jv_netaddr_str(addr, as) : "(none)");
	jv_netaddr_str(addr, as);
	family = jv_netaddr_family(addr);
	fd = jv_udp_socket(family, err);
	if (fd < 0)
		return fd;
	if (family == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)) {
		e = errno;
		close(fd);
		return jv_net_err_set(err, JV_ERR_IO, e,
				      "listen %s: enable pktinfo", as);
	}
	sl = jv_netaddr_to_sockaddr(addr, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		e = errno;
		close(fd);
		return jv_net_err_set(err, jv_net_err_class(e), e,
			"listen %s%s", as,
			e == EADDRNOTAVAIL ? " (address not on this host)" :
			e == EADDRINUSE ? " (another process listens there)" :
			"");
	}
	g->fd[g->nsock] = fd;
	g->gso[g->nsock] = jv_udp_gso_probe(fd);
	g->bound[g->nsock] = *addr;
	g->last[g->nsock] = g->nsock;
	return (int)g->nsock++;
}

static bool addr_eq(const struct jv_addr *a, const struct jv_addr *b)
{
	return memcmp(a->ip, b->ip, sizeof a->ip) == 0 && a->port == b->port;
}

/* The local index for (sock, to): the cached last hit (one per socket:
 * a batch usually comes to one address), a scan, or a new entry. */
static uint32_t local_index(struct jv_udp_gw *g, unsigned sock,
			    const struct jv_addr *to)
{
	uint32_t c = g->last[sock];

	if (jv_netaddr_is_any(to))	/* no pktinfo: the kernel picks */
		return sock;
	if (c >= JV_UDP_LISTEN_MAX &&
	    g->local[c - JV_UDP_LISTEN_MAX].sock == sock &&
	    addr_eq(&g->local[c - JV_UDP_LISTEN_MAX].addr, to))
		return c;
	for (unsigned i = 0; i < g->nlocal; i++) {
		if (g->local[i].sock == sock && addr_eq(&g->local[i].addr, to)) {
			g->last[sock] = JV_UDP_LISTEN_MAX + i;
			return g->last[sock];
		}
	}
	if (g->nlocal >= JV_UDP_LOCAL_MAX) {
		g->local_full++;
		return sock;
	}
	g->local[g->nlocal].sock = sock;
	g->local[g->nlocal].addr = *to;
	g->last[sock] = JV_UDP_LISTEN_MAX + g->nlocal++;
	return g->last[sock];
}

unsigned jv_udp_gw_recv(struct jv_udp_gw *g, unsigned sock,
			struct jv_udp_rxbatch *b, int *sys)
{
	unsigned n;

	if (sock >= g->nsock) {
		b->n = 0;
		*sys = EBADF;
		return 0;
	}
	n = jv_udp_recv(g->fd[sock], b, sys);
	for (unsigned k = 0; k < n; k++) {
		struct jv_udp_rx *m = &b->msg[k];

		if (!jv_netaddr_is_any(&m->to))
			m->to.port = g->bound[sock].port;
		m->local = local_index(g, sock, &m->to);
	}
	return n;
}

unsigned jv_udp_gw_flush(struct jv_udp_gw *g, const struct jv_out *out,
			 struct jv_udp_txres *res)
{
	struct jv_udp_tx tx[JV_OUT_DGRAMS];
	unsigned bad = 0, ndgram = out->ndgram;

	if (ndgram > JV_OUT_DGRAMS)
		ndgram = JV_OUT_DGRAMS;
	for (unsigned i = 0; i < ndgram; i++) {
		uint32_t l = out->dgram[i].local;

		if (out->dgram[i].len > JV_DGRAM_MAX ||
		    (l < JV_UDP_LISTEN_MAX ? l >= g->nsock :
		     l - JV_UDP_LISTEN_MAX >= g->nlocal))
			bad++;
	}
	/* One sendmmsg per socket; each datagram carries its own source. */
	for (unsigned s = 0; s < g->nsock; s++) {
		unsigned n = 0;

		for (unsigned i = 0; i < ndgram; i++) {
			const struct jv_dgram *d = &out->dgram[i];
			const struct jv_addr *from = NULL;
			uint32_t l = d->local;

			if (d->len > JV_DGRAM_MAX)
				continue;
			if (l < JV_UDP_LISTEN_MAX) {
				if (l != s)
					continue;
			} else if (l - JV_UDP_LISTEN_MAX < g->nlocal &&
				   g->local[l - JV_UDP_LISTEN_MAX].sock == s) {
				from = &g->local[l - JV_UDP_LISTEN_MAX].addr;
			} else {
				continue;
			}
			tx[n++] = (struct jv_udp_tx){
				.buf = d->buf,
				.len = d->len,
				.to = &d->to,
				.from = from,
			};
		}
		memset(&res[s], 0, sizeof res[s]);
		if (n)
			jv_udp_send(g->fd[s], &g->gso[s], tx, n, &res[s]);
	}
	return bad;
}

void jv_udp_gw_close(struct jv_udp_gw *g)
{
	for (unsigned i = 0; i < g->nsock; i++) {
		if (g->fd[i] >= 0)
			close(g->fd[i]);
	}
	jv_udp_gw_init(g);
}
