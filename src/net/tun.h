/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_TUN_H
#define JVPN_NET_TUN_H

/*
 * The TUN device: layer-3 packets without a packet-info header
 * (IFF_TUN | IFF_NO_PI), so every read returns one bare IPv4 or IPv6
 * packet and every write takes one.  The device is not persistent: it
 * disappears, with its addresses and routes, when the descriptor closes,
 * so even a crashed daemon leaves nothing behind.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jvpn/error.h"
#include "jvpn/session.h"
#include "net/gro.h"
#include "net/neterr.h"

/*
 * Offload mode (jv_tun_open_offload).  Per packet, the kernel's cost of a
 * TUN read or write (an skb, a pass through the inner IP and TCP stack)
 * outweighs sealing it; the tunnel was bound by it.  With IFF_VNET_HDR
 * every read and write starts with a struct virtio_net_hdr, and with the
 * TSO offloads on, the kernel hands over a TCP stream in super-packets of
 * up to 64 KiB (one read, one pass through its stack) which
 * jv_tun_rx_next() cuts into MTU-sized segments with their checksums, as a
 * NIC would.  The other way, jv_tun_put() merges consecutive in-order
 * segments of one TCP flow into one GSO packet (what GRO does on a NIC),
 * so the inner stack takes a run of them in one write.  Only plain TCP
 * data segments (ACK, PSH on the last) whose checksums verify, with
 * identical headers but for the sequence number, merge; anything else is
 * written as it is.  The cut and the merge live in gro.c, without I/O.  The inner
 * packets the engine sees are the same MTU-sized IP packets either way.
 */
/*
 * Create (or attach to) a TUN device and return its non-blocking,
 * close-on-exec descriptor.  `want` is the requested name ("jv0", or a
 * pattern like "jv%d"); NULL or "" lets the kernel choose ("tunN").  The
 * actual name is written to `name` (IF_NAMESIZE bytes).
 * Returns fd >= 0, or
 *   JV_ERR_INVAL     name too long (> IF_NAMESIZE - 1) or refused by the kernel;
 *   JV_ERR_NOTFOUND  no /dev/net/tun (module not loaded);
 *   JV_ERR_STATE     the name is taken by a device that is not a free TUN;
 *   JV_ERR_IO        anything else, e.g. "/dev/net/tun: Permission denied
 *                    (are you root?)"; `err` says which.
 */
JV_MUST_CHECK int jv_tun_open(const char *want, char name[IF_NAMESIZE],
			      struct jv_net_err *err);

/*
 * Read one packet into buf (n >= the device MTU).  Returns its length
 * (> 0), 0 when nothing is queued (EAGAIN), JV_ERR_IO on a read error
 * (errno kept).  A packet longer than n is truncated by the kernel; size
 * buf to JV_MTU_MAX and keep the device MTU at or below it.
 */
ssize_t jv_tun_read(int fd, uint8_t *buf, size_t n);

/*
 * Write one packet.  Returns 0, JV_ERR_LIMIT when the kernel queue is full
 * (packet dropped, like any router would), JV_ERR_INVAL when the kernel
 * rejects it as not an IP packet, JV_ERR_IO otherwise (errno kept).
 */
int jv_tun_write(int fd, const uint8_t *pkt, size_t n);

/*
 * jv_tun_open with IFF_VNET_HDR and the checksum and TSO offloads
 * (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6): read with jv_tun_read_offload,
 * write through a jv_tun_writer made with vnet = true.  Same returns as
 * jv_tun_open; a kernel that refuses the offloads gives JV_ERR_IO (open
 * plain instead).
 */
JV_MUST_CHECK int jv_tun_open_offload(const char *want,
				      char name[IF_NAMESIZE],
				      struct jv_net_err *err);

/*
 * Read one packet or super-packet (buf of JV_TUN_BUF bytes) and parse it.
 * Returns the bytes read (> 0), 0 when nothing is queued, JV_ERR_PARSE
 * (a read to drop, see jv_tun_rx_parse) or JV_ERR_IO (errno kept).
 */
ssize_t jv_tun_read_offload(int fd, uint8_t *buf, size_t n,
			    struct jv_tun_rx *rx);

/* Packets written through a jv_tun_writer (inner packets, not writes). */
struct jv_tun_wstats {
	uint64_t packets;	/* accepted by the kernel */
	uint64_t dropped;	/* refused (queue full, not IP...) */
	uint64_t writes;	/* write() calls they took */
	uint64_t merged;	/* packets that went in a merged GSO write */
	uint64_t bad_csum;	/* merge candidates written alone: a
				 * checksum failed (the kernel drops them) */
};

/* The TUN's writer: plain (one write per packet) or, on an offload-mode
 * device, merging (see the top of this file).  About 64 KiB: keep one. */
struct jv_tun_writer {
	int fd;
	bool vnet;
	struct jv_tun_wstats st;
	struct jv_gro gro;	/* the pending merged packet */
};

void jv_tun_writer_init(struct jv_tun_writer *w, int fd, bool vnet);

/*
 * Write one IP packet, or (merging writer) add it to the pending GSO
 * packet when it continues it; a packet that does not continue it writes
 * the pending one first.  Outcomes are counted in w->st.
 */
void jv_tun_put(struct jv_tun_writer *w, const uint8_t *pkt, size_t n);

/* Write the pending packet, if any (before the loop sleeps). */
void jv_tun_writer_flush(struct jv_tun_writer *w);

/* Close the descriptor; the device goes away with it.  fd < 0: no-op. */
void jv_tun_close(int fd);

#endif
