/* SPDX-License-Identifier: MIT */
/* Batched, non-blocking UDP receive and send, and the error queue. */

#include <errno.h>
#include <limits.h>
#include <time.h>	/* before errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netaddr.h"
#include "net/udp.h"

/* Receive: room for IP_PKTINFO or IPV6_PKTINFO, and UDP_GRO's size. */
union udp_ctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(int))];
};

/* Send: the source (pktinfo) and the UDP_SEGMENT size of a GSO run. */
union udp_txctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(uint16_t))];
};

enum {
	/* UDP_MAX_SEGMENTS of every kernel with UDP_SEGMENT (4.18+; 6.x
	 * allows 128) */
	UDP_GSO_SEGS_MAX = 64,
	/* one GSO send is one IP datagram before segmentation: its payload
	 * stays under 64 KiB minus the headers */
	UDP_GSO_BYTES_MAX = 65000,
};

/* Socket names without the 128-byte sockaddr_storage: 28 bytes each. */
union udp_name {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

bool jv_udp_err_is_hard(int sys)
{
	switch (sys) {
	case ENETUNREACH:	/* no route, or ICMP net unreachable */
	case EHOSTUNREACH:	/* ICMP host unreachable / admin filtered */
	case ECONNREFUSED:	/* ICMP port unreachable: nobody listening */
	case ENETDOWN:
	case EHOSTDOWN:
	case ENONET:
	case ENODEV:		/* SO_BINDTODEVICE interface gone */
	case ENXIO:
	case EADDRNOTAVAIL:	/* bound local address gone */
	case EINVAL:		/* destination or source unusable */
	case EPERM:		/* a local firewall drops our output */
	case EACCES:
		return true;
	default:		/* EAGAIN, ENOBUFS, EMSGSIZE...: transient */
		return false;
	}
}

int jv_udp_socket(int family, struct jv_net_err *err)
{
	int fd, one = 1, rcv = JV_UDP_RCVBUF_BYTES, snd = JV_UDP_SNDBUF_BYTES;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jv_net_err_set(err, jv_net_err_class(errno), errno,
			"UDP socket (%s)", family == AF_INET ? "IPv4" : "IPv6");
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) {
		int e = errno;

		close(fd);
		return jv_net_err_set(err, JV_ERR_IO, e, "IPV6_V6ONLY");
	}
	/* Small on purpose (udp.h): a socket buffer is a queue that every
	 * packet of the tunnel waits in.  Best effort: the kernel's floor
	 * and cap (net.core.[rw]mem_max) apply. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
	/* Best effort too: without it each datagram is its own message. */
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
	return fd;
}

int jv_udp_gw_rcvbuf_bytes(unsigned peers)
{
	uint64_t b = JV_UDP_RCVBUF_BYTES +
		     (uint64_t)peers * JV_UDP_RCVBUF_PER_PEER_BYTES;

	return b > INT_MAX / 2 ? INT_MAX / 2 : (int)b;
}

int jv_udp_set_rcvbuf(int fd, int bytes)
{
	int v = 0;
	socklen_t sl = sizeof v;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl) < 0)
		return -1;
	return v;
}

int jv_udp_set_mark(int fd, uint32_t mark, struct jv_net_err *err)
{
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
		int e = errno;

		return jv_net_err_set(err, jv_net_err_class(e), e,
				      "SO_MARK 0x%x%s", mark,
				      e == EPERM ? " (are you root?)" : "");
	}
	return 0;
}

/* At most this many queued errors per call: EPOLLERR fires again if more
 * remain, so the loop stays fair without ever spinning. */
enum { ERRQUEUE_DRAIN_MAX = 64 };

int jv_udp_take_error(int fd)
{
	int last = 0, soerr = 0;
	socklen_t sl = sizeof soerr;

	for (int i = 0; i < ERRQUEUE_DRAIN_MAX; i++) {
		uint8_t data[64];
		union {
			struct cmsghdr align;
			uint8_t buf[512];
		} ctl;
		struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof ctl.buf,
		};

		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;	/* EAGAIN: the queue is empty */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			const struct sock_extended_err *ee;

			if (!((c->cmsg_level == SOL_IP &&
			       c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == SOL_IPV6 &&
			       c->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(c);
			if (ee->ee_errno)
				last = (int)ee->ee_errno;
		}
	}
	/* Reading SO_ERROR also clears the pending error. */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr &&
	    !last)
		last = soerr;
	return last;
}

/* The local address (pktinfo) into m; returns the UDP GRO segment size,
 * 0 when the message is one datagram. */
static unsigned rx_cmsg(struct msghdr *mh, struct jv_udp_rx *m)
{
	unsigned seg = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof v);
			seg = v > 0 ? (unsigned)v : 0;
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in in = { .sin_family = AF_INET };

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			/* spec_dst, not ipi_addr: the local address the
			 * kernel would answer from, which equals the header
			 * destination for unicast and is a real local
			 * address even for a broadcast. */
			in.sin_addr = pi.ipi_spec_dst;
			if (jv_netaddr_from_sockaddr(&m->to,
				(struct sockaddr *)&in, sizeof in) == 0)
				m->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			in6.sin6_addr = pi.ipi6_addr;
			if (jv_netaddr_from_sockaddr(&m->to,
				(struct sockaddr *)&in6, sizeof in6) == 0)
				m->ifindex = (int)pi.ipi6_ifindex;
		}
	}
	return seg;
}

unsigned jv_udp_recv(int fd, struct jv_udp_rxbatch *b, int *sys)
{
	struct mmsghdr mh[JV_UDP_RX_SLOTS];
	struct iovec iov[JV_UDP_RX_SLOTS];
	union udp_name name[JV_UDP_RX_SLOTS];
	union udp_ctl ctl[JV_UDP_RX_SLOTS];
	unsigned n = 0;
	int r;

	*sys = 0;
	b->n = 0;
	b->more = false;
	memset(mh, 0, sizeof mh);
	for (unsigned i = 0; i < JV_UDP_RX_SLOTS; i++) {
		iov[i].iov_base = b->slot[i];
		iov[i].iov_len = sizeof b->slot[i];
		mh[i].msg_hdr.msg_name = &name[i];
		mh[i].msg_hdr.msg_namelen = sizeof name[i];
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
		mh[i].msg_hdr.msg_control = ctl[i].buf;
		mh[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
	}
	do
		r = recvmmsg(fd, mh, JV_UDP_RX_SLOTS, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		*sys = errno;
		/* The pending error came with a queue entry (IP_RECVERR):
		 * drain it, or EPOLLERR would wake the loop forever. */
		(void)jv_udp_take_error(fd);
		return 0;
	}
	b->more = r == JV_UDP_RX_SLOTS;
	for (unsigned k = 0; k < (unsigned)r; k++) {
		struct jv_udp_rx m = { 0 };
		unsigned seg, len = mh[k].msg_len, segs = 0;

		/* Over 64 KiB: no datagram of ours. */
		if (mh[k].msg_hdr.msg_flags & MSG_TRUNC) {
			b->truncated++;
			continue;
		}
		if (jv_netaddr_from_sockaddr(&m.from, &name[k].sa,
					     mh[k].msg_hdr.msg_namelen))
			continue;
		seg = rx_cmsg(&mh[k].msg_hdr, &m);
		if (!seg || seg > len)
			seg = len;
		/* The datagrams of a coalesced message: seg bytes each, the
		 * last one the rest. */
		for (unsigned off = 0, dl; ; off += dl) {
			dl = len - off < seg ? len - off : seg;
			/* Longer than anything the engine sends: not
			 * ours; past the segment bound: cannot happen
			 * with a Linux sender, dropped and counted. */
			if (dl > JV_DGRAM_MAX || segs++ >= JV_UDP_RX_SEGS_MAX) {
				b->truncated++;
			} else {
				m.buf = b->slot[k] + off;
				m.len = (uint16_t)dl;
				b->msg[n++] = m;
			}
			if (off + dl >= len)
				break;	/* (an empty datagram: once) */
		}
	}
	b->n = n;
	return n;
}

/* Same destination and same source: a datagram that would fail the same
 * way as the one just refused, and one that may share a GSO send. */
static bool same_route(const struct jv_udp_tx *a, const struct jv_udp_tx *b)
{
	if (!a->to != !b->to || !a->from != !b->from)
		return false;
	if (a->to && (memcmp(a->to->ip, b->to->ip, sizeof a->to->ip) ||
		      a->to->port != b->to->port))
		return false;
	return !a->from || !memcmp(a->from->ip, b->from->ip, sizeof a->from->ip);
}

/*
 * How many datagrams from tx[0] one UDP GSO send can carry: a run with
 * the same route and the same length, except that the last may be
 * shorter (the kernel cuts the buffer into gso_size pieces, the last one
 * takes the rest), within the kernel's segment and size limits.
 */
static unsigned gso_run(const struct jv_udp_tx *tx, unsigned n)
{
	unsigned k = 1, bytes = tx[0].len;

	if (!tx[0].len)
		return 1;
	while (k < n && k < UDP_GSO_SEGS_MAX &&
	       bytes + tx[k].len <= UDP_GSO_BYTES_MAX &&
	       tx[k].len && tx[k].len <= tx[0].len &&
	       same_route(&tx[0], &tx[k])) {
		bytes += tx[k].len;
		if (tx[k++].len < tx[0].len)
			break;
	}
	return k;
}

/* Fill one mmsghdr for the run tx[0..cnt) (cnt > 1: one GSO send with
 * UDP_SEGMENT = tx[0].len); the pktinfo cmsg only when a source is set. */
static void tx_fill(struct mmsghdr *mh, struct iovec *iov, union udp_name *nm,
		    union udp_txctl *ctl, const struct jv_udp_tx *tx,
		    unsigned cnt)
{
	struct sockaddr_storage ss;
	struct cmsghdr *c;
	size_t clen = 0;
	socklen_t sl;

	memset(mh, 0, sizeof *mh);
	for (unsigned k = 0; k < cnt; k++) {
		iov[k].iov_base = (void *)tx[k].buf;
		iov[k].iov_len = tx[k].len;
	}
	mh->msg_hdr.msg_iov = iov;
	mh->msg_hdr.msg_iovlen = cnt;
	if (tx->to) {
		sl = jv_netaddr_to_sockaddr(tx->to, &ss);
		memcpy(nm, &ss, sl);
		mh->msg_hdr.msg_name = nm;
		mh->msg_hdr.msg_namelen = sl;
	}
	memset(ctl, 0, sizeof *ctl);
	c = (struct cmsghdr *)ctl->buf;
	if (tx->from && !jv_netaddr_is_any(tx->from)) {
		if (jv_netaddr_is_v4(tx->from)) {
			struct in_pktinfo pi = { 0 };

			/* Source only, ifindex 0: routing picks the
			 * interface, and source-based rules send it where
			 * the address lives. */
			memcpy(&pi.ipi_spec_dst, tx->from->ip + 12, 4);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
			clen += CMSG_SPACE(sizeof pi);
		} else {
			struct in6_pktinfo pi = { 0 };

			memcpy(&pi.ipi6_addr, tx->from->ip, 16);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
			clen += CMSG_SPACE(sizeof pi);
		}
		c = (struct cmsghdr *)(ctl->buf + clen);
	}
	if (cnt > 1) {
		uint16_t seg = tx->len;

		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof seg);
		memcpy(CMSG_DATA(c), &seg, sizeof seg);
		clen += CMSG_SPACE(sizeof seg);
	}
	if (clen) {
		mh->msg_hdr.msg_control = ctl->buf;
		mh->msg_hdr.msg_controllen = clen;
	}
}

bool jv_udp_gso_probe(int fd)
{
	int v = 0;
	socklen_t sl = sizeof v;

	/* A kernel without UDP_SEGMENT (< 4.18) would ignore the cmsg and
	 * send the whole run as one datagram: ask before using it. */
	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &sl) == 0;
}

void jv_udp_send(int fd, bool *gso, const struct jv_udp_tx *tx, unsigned n,
		 struct jv_udp_txres *res)
{
	struct mmsghdr mh[JV_UDP_BATCH];
	struct iovec iov[JV_UDP_BATCH];
	union udp_name name[JV_UDP_BATCH];
	union udp_txctl ctl[JV_UDP_BATCH];
	unsigned segs[JV_UDP_BATCH];
	unsigned i = 0, plain_until = 0;
	bool suspect = false;	/* a GSO send was refused: resending plain */

	memset(res, 0, sizeof *res);
	while (i < n) {
		unsigned nm = 0, used = 0, done = 0;
		int r, e;

		/* Up to JV_UDP_BATCH datagrams in one sendmmsg, in runs. */
		while (i + used < n && used < JV_UDP_BATCH) {
			unsigned j = i + used, cnt = 1, room = JV_UDP_BATCH - used;

			if (gso && *gso && j >= plain_until)
				cnt = gso_run(&tx[j], n - j < room ? n - j : room);
			tx_fill(&mh[nm], &iov[used], &name[nm], &ctl[nm], &tx[j],
				cnt);
			segs[nm++] = cnt;
			used += cnt;
		}
		do
			r = sendmmsg(fd, mh, nm, MSG_DONTWAIT);
		while (r < 0 && errno == EINTR);
		if (r > 0) {
			/* A short count means message r failed; the next
			 * call reports why. */
			for (int k = 0; k < r; k++)
				done += segs[k];
			if (suspect) {
				/* Refused as one GSO send, accepted one by
				 * one: this socket's route cannot do GSO
				 * (no checksum offload: EIO; ...). */
				*gso = false;
				suspect = false;
			}
			res->sent += done;
			i += done;
			continue;
		}
		e = r == 0 ? EAGAIN : errno;
		if (segs[0] > 1 && e != EAGAIN && e != EWOULDBLOCK &&
		    e != EBADF && e != ENOTSOCK && e != ENOBUFS &&
		    e != ENOMEM) {
			/* Maybe GSO's own refusal, maybe the route's: the
			 * same datagrams one by one tell which. */
			plain_until = i + segs[0];
			suspect = true;
			continue;
		}
		suspect = false;
		if (!res->sys)
			res->sys = e;
		if (e == EAGAIN || e == EWOULDBLOCK || e == EBADF ||
		    e == ENOTSOCK) {
			/* Full socket buffer (or no socket): drop the rest
			 * rather than block the loop. */
			res->dropped += n - i;
			break;
		}
		/* tx[i] (or its run) refused: skip it, and after a hard
		 * error the datagrams with the same destination and source,
		 * which would fail the same way, one syscall each. */
		res->dropped += segs[0];
		i += segs[0];
		while (jv_udp_err_is_hard(e) && i < n &&
		       same_route(&tx[i - 1], &tx[i])) {
			res->dropped++;
			i++;
		}
	}
}
