/* SPDX-License-Identifier: MIT */
/* Client transports: one unconnected UDP socket per path (see udp.h). */

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netaddr.h"
#include "net/udp.h"

int jv_udp_path_open(struct jv_udp_path *p, const struct jv_addr *remote,
		     const struct jv_addr *local, const char *ifname,
		     struct jv_net_err *err)
{
	char rs[JV_NETADDR_STR_MAX], ls[JV_NETADDR_STR_MAX];
	struct sockaddr_storage ss;
	int fd, family, one = 1, e, code;

	p->fd = -1;
	if (!remote || !remote->port || jv_netaddr_is_any(remote))
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"transport: gateway endpoint %s needs an address and "
			"a port", remote ? jv_netaddr_str(remote, rs) : "(none)");
	jv_netaddr_str(remote, rs);
	family = jv_netaddr_family(remote);
	if (local && jv_netaddr_family(local) != family)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"transport to %s: local address %s is not of the "
			"gateway's address family", rs,
			jv_netaddr_str(local, ls));
	if (ifname && strlen(ifname) >= IFNAMSIZ)
		return jv_net_err_set(err, JV_ERR_INVAL, 0,
			"transport to %s: interface name \"%s\" is too long",
			rs, ifname);
	fd = jv_udp_socket(family, err);
	if (fd < 0)
		return fd;
	if (ifname && *ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
		       (socklen_t)strlen(ifname) + 1) < 0) {
		e = errno;
		code = jv_net_err_set(err, jv_net_err_class(e), e,
			"transport to %s: bind to interface %s", rs, ifname);
		goto fail;
	}
	/* ICMP errors (unreachable, refused) into the error queue: the
	 * hard-failure signal of spec §6.2. */
	if (family == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one) :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one)) {
		e = errno;
		code = jv_net_err_set(err, JV_ERR_IO, e,
				      "transport to %s: IP_RECVERR", rs);
		goto fail;
	}
	if (local) {
		socklen_t sl = jv_netaddr_to_sockaddr(local, &ss);

		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			e = errno;
			code = jv_net_err_set(err, jv_net_err_class(e), e,
				"transport to %s: bind %s%s", rs,
				jv_netaddr_str(local, ls),
				e == EADDRNOTAVAIL ?
				" (address not on this host)" : "");
			goto fail;
		}
	}
	p->fd = fd;
	p->remote = *remote;
	p->gso = jv_udp_gso_probe(fd);
	return 0;
fail:
	close(fd);
	return code;
}

void jv_udp_path_set_remote(struct jv_udp_path *p,
			    const struct jv_addr *remote)
{
	p->remote = *remote;
}

void jv_udp_path_close(struct jv_udp_path *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

unsigned jv_udp_path_recv(struct jv_udp_path *p, struct jv_udp_rxbatch *b,
			  int *sys)
{
	unsigned n = 0, got = jv_udp_recv(p->fd, b, sys);

	for (unsigned k = 0; k < got; k++) {
		struct jv_udp_rx *m = &b->msg[k];

		/* What connect() would have filtered. */
		if (memcmp(m->from.ip, p->remote.ip, sizeof m->from.ip) ||
		    m->from.port != p->remote.port) {
			b->foreign++;
			continue;
		}
		if (n != k)
			b->msg[n] = *m;
		n++;
	}
	b->n = n;
	return n;
}

unsigned jv_udp_client_flush(struct jv_udp_path *paths, unsigned npaths,
			     const struct jv_out *out,
			     struct jv_udp_txres *res)
{
	struct jv_udp_tx tx[JV_OUT_DGRAMS];
	unsigned bad = 0, ndgram = out->ndgram;

	if (ndgram > JV_OUT_DGRAMS)
		ndgram = JV_OUT_DGRAMS;
	for (unsigned i = 0; i < ndgram; i++) {
		int path = out->dgram[i].path;

		if (path < 0 || (unsigned)path >= npaths ||
		    paths[path].fd < 0 || out->dgram[i].len > JV_DGRAM_MAX)
			bad++;
	}
	/* One sendmmsg per path, in the engine's order within the path. */
	for (unsigned p = 0; p < npaths; p++) {
		unsigned n = 0;

		for (unsigned i = 0; i < ndgram; i++) {
			const struct jv_dgram *d = &out->dgram[i];

			if (d->path != (int)p || d->len > JV_DGRAM_MAX)
				continue;
			tx[n++] = (struct jv_udp_tx){
				.buf = d->buf,
				.len = d->len,
				.to = &paths[p].remote,
			};
		}
		memset(&res[p], 0, sizeof res[p]);
		if (n && paths[p].fd >= 0)
			jv_udp_send(paths[p].fd, &paths[p].gso, tx, n,
				    &res[p]);
	}
	return bad;
}
