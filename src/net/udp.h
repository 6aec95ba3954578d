/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_UDP_H
#define JVPN_NET_UDP_H

/*
 * UDP transports: the client's per-path sockets and the gateway's listen
 * sockets, received and sent in batches (recvmmsg / sendmmsg), never
 * blocking, never allocating.
 *
 * Client paths are NOT connected.  A connected UDP socket freezes its
 * source address at connect() time, so after a DHCP renew or a roam to a
 * new address on the same interface it would keep sending from an address
 * that is gone; an unconnected socket picks the source per datagram, and
 * a path whose route is missing at start-up needs no reconnect logic: its
 * sends fail (a hard error: path down) until the route is back.  What a
 * connected socket would give us we do by hand: sends go to the path's
 * gateway endpoint, datagrams from any other source are dropped (counted
 * in `foreign`), and IP_RECVERR / IPV6_RECVERR report ICMP errors
 * (port or host unreachable) for the socket.
 *
 * Gateway listen sockets receive the local address each datagram arrived
 * on (IP_PKTINFO / IPV6_RECVPKTINFO) and send each reply with that address
 * as its source (the same cmsg), so a multi-homed gateway answers from the
 * address the client talks to and source-based routing sends it out the
 * right interface.  They do not set IP_RECVERR: an ICMP error from one
 * client is no failure of the socket (spec OP-1: the gateway detects dead
 * paths by silence).
 *
 * Hard errors.  The daemon forwards a hard error seen on a client path to
 * jv_client_path_down() (spec §6.2: transport_dead on one observation).
 * They come from three places, all reported as an errno: a failing send
 * (jv_udp_txres.sys), a failing receive (the `sys` out-parameter) and the
 * socket's error queue, which the daemon must drain with
 * jv_udp_take_error() whenever the loop reports JV_LOOP_ERR for the fd
 * (otherwise epoll keeps reporting it).  jv_udp_err_is_hard() tells a dead
 * path from a transient refusal (EAGAIN, ENOBUFS, EMSGSIZE).
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/session.h"
#include "net/neterr.h"

enum jv_udp_limits {
	JV_UDP_BATCH = JV_OUT_DGRAMS,	/* datagrams per sendmmsg */
	/* Receive: messages per recvmmsg, each up to 64 KiB, which with
	 * UDP GRO (jv_udp_socket) is a run of datagrams of one sender that
	 * the kernel kept together (at most 64 from a NIC's GRO, 128 from a
	 * local GSO sender); jv_udp_recv splits them again. */
	JV_UDP_RX_SLOTS = 16,
	JV_UDP_RX_SLOT_BYTES = 65536,
	JV_UDP_RX_SEGS_MAX = 128,	/* datagrams taken from one message */
	JV_UDP_RX_MAX = JV_UDP_RX_SLOTS * JV_UDP_RX_SEGS_MAX,
	JV_UDP_LISTEN_MAX = 16,		/* gateway listen sockets */
	JV_UDP_LOCAL_MAX = 256,		/* gateway (socket, local addr) pairs */
	/*
	 * Socket buffers are queues, and a tunnel's queue is its latency
	 * under load (D-034).  The receive buffer is the one in front of
	 * the slower, decrypting daemon: a TCP flow through the tunnel
	 * keeps it full, and every packet, a ping or an ACK included,
	 * waits behind all of it.  At the 1 MiB once asked for (2 MiB
	 * after the kernel doubles it) that was 5-20 ms at 1-3 Gbit/s;
	 * 128 KiB (256 KiB of skb memory) is a few GSO messages or a
	 * couple of hundred datagrams: about 2 ms at 1 Gbit/s, 0.6 ms at
	 * 3.5, still a scheduling delay of the daemon.  Beyond it the
	 * kernel drops, which is the inner TCP's signal to slow down.
	 * Smaller (64 KiB) was no faster and lost throughput; larger
	 * (256 KiB, 512 KiB) kept most of the delay.
	 */
	JV_UDP_RCVBUF_BYTES = 128 << 10,
	/*
	 * The send buffer bounds this socket's datagrams in the host's
	 * qdisc and NIC ring (a veth hands them on at once): 256 KiB
	 * (512 KiB of skb memory) is about 4 ms at 1 Gbit/s.  When it is
	 * full jv_udp_send drops the rest, as a router would.
	 */
	JV_UDP_SNDBUF_BYTES = 256 << 10,
	/*
	 * A gateway's listen socket must also hold one small datagram per
	 * peer: when a path dies under all of them, every client
	 * reattaches within a heartbeat or two (issue 12), and a burst
	 * the daemon cannot take at once must wait, not be lost.  A small
	 * datagram takes about 1 KiB of skb memory, half of it asked for
	 * (the kernel doubles).  On a gateway with many peers a bulk flow
	 * fills that room too: there a mass reattach comes first.
	 */
	JV_UDP_RCVBUF_PER_PEER_BYTES = 512,
};

/* One received datagram. */
struct jv_udp_rx {
	struct jv_addr from;	/* the sender */
	struct jv_addr to;	/* gateway: local address it arrived on (from
				 * pktinfo), port = the socket's; client: 0 */
	int ifindex;		/* gateway: arrival interface; client: 0 */
	uint32_t local;		/* gateway: index for jv_gateway_recv() */
	uint16_t len;
	const uint8_t *buf;	/* in the batch's slots, until the next receive */
};

/* Caller-owned receive batch (about 1.2 MiB: keep one, on the heap). */
struct jv_udp_rxbatch {
	unsigned n;		/* datagrams in msg[] after a receive */
	bool more;		/* every slot was filled: read again */
	uint64_t truncated;	/* running count: longer than JV_DGRAM_MAX */
	uint64_t foreign;	/* running count: client, not from the gateway */
	struct jv_udp_rx msg[JV_UDP_RX_MAX];
	uint8_t slot[JV_UDP_RX_SLOTS][JV_UDP_RX_SLOT_BYTES];
};

/* One datagram to send; points into caller memory (no copy). */
struct jv_udp_tx {
	const uint8_t *buf;
	uint16_t len;
	const struct jv_addr *to;	/* destination */
	const struct jv_addr *from;	/* source via pktinfo; NULL: kernel's */
};

/* What happened to a batch. */
struct jv_udp_txres {
	unsigned sent;		/* accepted by the kernel */
	unsigned dropped;	/* refused (queue full, error): lost */
	int sys;		/* errno of the first refusal, 0: none */
};

/* Whether errno `sys` means the path cannot deliver at all (unreachable,
 * refused, interface or address gone, firewall): path down. */
bool jv_udp_err_is_hard(int sys);

/*
 * Drain the socket's error queue and pending socket error.  Returns the
 * errno of the most recent one (queued ICMP errors first, then SO_ERROR),
 * 0 when there was none.  Call it on JV_LOOP_ERR.
 */
int jv_udp_take_error(int fd);

/*
 * SO_MARK = mark on fd (needs CAP_NET_ADMIN): the fwmark that policy
 * routing matches, so a full tunnel's rules keep the transports' own
 * datagrams out of the tunnel (daemon/tunnel.h).  Returns 0, or
 * JV_ERR_IO / JV_ERR_INVAL with err set ("... (are you root?)" on EPERM).
 */
JV_MUST_CHECK int jv_udp_set_mark(int fd, uint32_t mark,
				  struct jv_net_err *err);

/*
 * Receive up to JV_UDP_RX_SLOTS messages with one recvmmsg into b, and
 * split each message the kernel coalesced (UDP GRO) into its datagrams:
 * b->n datagrams in b->msg, in arrival order; too-long datagrams dropped
 * and counted.  b->more says every slot was used (more may be waiting).
 * Returns b->n (0: nothing waiting).  *sys gets 0, or the errno of a
 * socket error met on the way (the error queue is then drained too);
 * b->n may be > 0 even then.
 */
unsigned jv_udp_recv(int fd, struct jv_udp_rxbatch *b, int *sys);

/*
 * Send n datagrams on fd: one sendmmsg per JV_UDP_BATCH, and one more
 * after each datagram the kernel refuses (which is skipped, never retried:
 * UDP is lossy and the engine recovers).  After a hard error, the
 * datagrams right behind it with the same destination and source are
 * dropped with it instead of failing one syscall each.  EAGAIN drops the
 * rest of the batch instead of blocking.  `res` is overwritten.
 *
 * With *gso true, each run of datagrams with the same destination, source
 * and length (the last may be shorter) goes as one UDP GSO send
 * (UDP_SEGMENT): the kernel routes, filters and hands the run to the
 * device once instead of once per datagram, and cuts it into the same
 * datagrams at the device or at the receiving socket.  A run the kernel
 * refuses is sent again datagram by datagram; if those go, the socket
 * cannot do GSO (a device without checksum offload: EIO) and *gso becomes
 * false.  gso NULL or false: one datagram per message.
 */
void jv_udp_send(int fd, bool *gso, const struct jv_udp_tx *tx, unsigned n,
		 struct jv_udp_txres *res);

/* Whether the kernel knows UDP_SEGMENT (4.18+) for this socket: the
 * initial value of the *gso flag jv_udp_send takes. */
bool jv_udp_gso_probe(int fd);

/*
 * A non-blocking, close-on-exec UDP socket of `family` (AF_INET, or
 * AF_INET6 with IPV6_V6ONLY so it never sees IPv4-mapped traffic), with
 * JV_UDP_RCVBUF_BYTES and JV_UDP_SNDBUF_BYTES buffers asked for (the
 * kernel doubles them and caps them at net.core.[rw]mem_max; raising
 * those changes nothing, jvpn asks for little) and UDP GRO on where the
 * kernel has it (5.0+: a run of datagrams from one sender reaches
 * jv_udp_recv as one message, one pass through the socket layer).
 * Returns fd >= 0 or JV_ERR_* (err says why).
 */
JV_MUST_CHECK int jv_udp_socket(int family, struct jv_net_err *err);

/* The receive buffer a gateway asks for with `peers` peers:
 * JV_UDP_RCVBUF_BYTES plus JV_UDP_RCVBUF_PER_PEER_BYTES each, at most
 * INT_MAX / 2 (what SO_RCVBUF takes). */
int jv_udp_gw_rcvbuf_bytes(unsigned peers);

/* Ask for a receive buffer of `bytes` (best effort: the kernel doubles
 * it and caps it at net.core.rmem_max).  Returns what the kernel
 * granted, or -1. */
int jv_udp_set_rcvbuf(int fd, int bytes);

/* ---- client paths ---------------------------------------------------- */

struct jv_udp_path {
	int fd;			/* -1 when closed */
	struct jv_addr remote;	/* gateway endpoint this path sends to */
	bool gso;		/* sends use UDP GSO (jv_udp_send) */
};

/*
 * Open the socket of one client transport: family of `remote`, bound to
 * `local` when given (port 0: ephemeral) and to interface `ifname` when
 * given (SO_BINDTODEVICE), with IP_RECVERR.  Non-blocking, close-on-exec.
 * Returns 0, or
 *   JV_ERR_INVAL     no remote, remote port 0, local of another family,
 *                    ifname too long;
 *   JV_ERR_NOTFOUND  no such interface (ENODEV), local address not on
 *                    this host (EADDRNOTAVAIL);
 *   JV_ERR_STATE     local address and port in use (EADDRINUSE);
 *   JV_ERR_IO        other failures (EPERM: "... (are you root?)").
 */
JV_MUST_CHECK int jv_udp_path_open(struct jv_udp_path *p,
				   const struct jv_addr *remote,
				   const struct jv_addr *local,
				   const char *ifname, struct jv_net_err *err);
/* A client path's destination moved (a re-resolved host name): later
 * sends go to `remote`, and only datagrams from it are accepted. */
void jv_udp_path_set_remote(struct jv_udp_path *p,
			    const struct jv_addr *remote);

void jv_udp_path_close(struct jv_udp_path *p);

/* jv_udp_recv, then drop (and count in b->foreign) datagrams whose
 * source is not p->remote. */
unsigned jv_udp_path_recv(struct jv_udp_path *p, struct jv_udp_rxbatch *b,
			  int *sys);

/*
 * Send every datagram of `out` on paths[d->path] to its remote: one
 * jv_udp_send per path with datagrams, in order within a path.  res[i]
 * (npaths entries, all overwritten) is path i's result: check
 * jv_udp_err_is_hard(res[i].sys).  Returns how many datagrams named a
 * path outside [0, npaths) or a closed one, or were longer than
 * JV_DGRAM_MAX (dropped; 0 normally).
 */
unsigned jv_udp_client_flush(struct jv_udp_path *paths, unsigned npaths,
			     const struct jv_out *out,
			     struct jv_udp_txres *res);

/* ---- gateway listen sockets ------------------------------------------ */

/*
 * The `local` index the engine carries (jv_gateway_recv in, jv_dgram.local
 * out) names a (listen socket, local address) pair learned from arrivals.
 * Indexes below JV_UDP_LISTEN_MAX name a socket alone (the kernel picks
 * the source); from JV_UDP_LISTEN_MAX on, entry[i - JV_UDP_LISTEN_MAX].
 * Entries are never reused, so an index the engine keeps in a binding
 * stays valid for the gateway's lifetime; when the table is full, new
 * addresses fall back to their socket's index (counted in local_full).
 */
struct jv_udp_local {
	unsigned sock;
	struct jv_addr addr;	/* the source to answer from */
};

struct jv_udp_gw {
	unsigned nsock;
	int fd[JV_UDP_LISTEN_MAX];
	bool gso[JV_UDP_LISTEN_MAX];			/* jv_udp_send */
	struct jv_addr bound[JV_UDP_LISTEN_MAX];	/* as listened on */
	uint32_t last[JV_UDP_LISTEN_MAX];		/* lookup cache */
	unsigned nlocal;
	struct jv_udp_local local[JV_UDP_LOCAL_MAX];
	uint64_t local_full;
};

/* An empty gateway: no sockets, no local entries. */
void jv_udp_gw_init(struct jv_udp_gw *g);

/*
 * Listen on addr (its port must be set; 0.0.0.0 or :: for every local
 * address).  Returns the socket index (>= 0) or
 *   JV_ERR_LIMIT     JV_UDP_LISTEN_MAX sockets already;
 *   JV_ERR_INVAL     port 0;
 *   JV_ERR_NOTFOUND  address not on this host (EADDRNOTAVAIL);
 *   JV_ERR_STATE     address and port in use (EADDRINUSE);
 *   JV_ERR_IO        other failures (EACCES below port 1024 unprivileged).
 */
JV_MUST_CHECK int jv_udp_gw_listen(struct jv_udp_gw *g,
				   const struct jv_addr *addr,
				   struct jv_net_err *err);

/* jv_udp_recv on socket `sock`, filling each datagram's `local`.
 * Returns b->n; a bad sock index gives 0 with *sys = EBADF. */
unsigned jv_udp_gw_recv(struct jv_udp_gw *g, unsigned sock,
			struct jv_udp_rxbatch *b, int *sys);

/*
 * Send every datagram of `out` to d->to from the socket and source address
 * d->local names: one jv_udp_send per socket with datagrams.  res[i]
 * (g->nsock entries) is socket i's result.  Returns how many datagrams
 * named an unknown local index or were longer than JV_DGRAM_MAX
 * (dropped; 0 normally).
 */
unsigned jv_udp_gw_flush(struct jv_udp_gw *g, const struct jv_out *out,
			 struct jv_udp_txres *res);

/* Close every socket and forget every entry. */
void jv_udp_gw_close(struct jv_udp_gw *g);

#endif
