/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_GRO_H
#define JVPN_NET_GRO_H

/*
 * The offload data path without the device: cutting a TSO super-packet
 * read from the TUN into segments (what a NIC's TSO does) and merging
 * segments into one GSO packet to write to it (what a NIC's GRO does).
 * Pure: no system call, so the unit tests and the fuzzers run it on
 * memory; src/net/tun.c does the reads and writes around it.
 *
 * The merge trusts nothing it did not check.  A GSO write carries
 * VIRTIO_NET_HDR_F_NEEDS_CSUM and a partial checksum: the kernel
 * recomputes the super-packet's checksums and never sees the segments'
 * own.  So every segment is checked (IPv4 header checksum, TCP checksum
 * over the pseudo-header) before it joins a merge; one that fails is
 * handed out alone with a zero header, as it came, and the inner stack
 * drops it as it would without GRO (docs/protocol.md, "The TUN data
 * path").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/session.h"

enum jv_tun_limits {
	JV_TUN_VNET_HDR = 10,		/* sizeof(struct virtio_net_hdr) */
	JV_TUN_SUPER_MAX = 65535,	/* largest IP packet, TSO or merged */
	JV_TUN_BUF = JV_TUN_VNET_HDR + JV_TUN_SUPER_MAX,
};

/* ---- the TSO cut --------------------------------------------------------- */

/* One read of an offload-mode device, taken apart by jv_tun_rx_next. */
struct jv_tun_rx {
	uint8_t *pkt;		/* the packet after the vnet header */
	size_t len;
	bool tso;		/* a TCP super-packet to cut */
	bool v6;
	unsigned tcp_off;	/* offset of the TCP header */
	unsigned hdr_len;	/* IP + TCP headers */
	unsigned mss;		/* payload bytes per segment */
	unsigned seg;		/* segments handed out so far */
	bool done;
};

/*
 * Take apart buf[0..n), one offload-mode read (vnet header first): a
 * plain packet gets its checksum completed when the kernel left it
 * partial (VIRTIO_NET_HDR_F_NEEDS_CSUM); a TCP super-packet is checked
 * and set up for cutting.  Returns 0, or JV_ERR_PARSE for a read that is
 * too short, a header that points outside the packet, a GSO type that was
 * not negotiated, or segments that would not fit JV_MTU_MAX (dropped).
 */
JV_MUST_CHECK int jv_tun_rx_parse(struct jv_tun_rx *rx, uint8_t *buf,
				  size_t n);

/*
 * The next IP packet of rx: the plain packet itself (in place), or the
 * next TSO segment built in scratch (JV_MTU_MAX bytes) with its sequence
 * number, IP length, IPv4 id and both checksums set, and FIN/PSH only on
 * the last segment, CWR only on the first, as a NIC would.  Returns its
 * length with *pkt set, or 0 when rx has no more.
 */
size_t jv_tun_rx_next(struct jv_tun_rx *rx, uint8_t scratch[JV_MTU_MAX],
		      const uint8_t **pkt);

/* ---- the GRO merge ------------------------------------------------------- */

/* One write the merge hands out: a vnet header (JV_TUN_VNET_HDR bytes)
 * then the IP packet; `segs` packets went into it (1: as it came). */
struct jv_gro_write {
	const uint8_t *hdr;
	const uint8_t *pkt;
	size_t len;
	unsigned segs;
};

/* Called for each write, in order; hdr and pkt live until it returns. */
typedef void (*jv_gro_emit)(void *ud, const struct jv_gro_write *w);

/* The pending merged packet.  About 64 KiB: keep one. */
struct jv_gro {
	size_t len;		/* bytes at buf + JV_TUN_VNET_HDR; 0: none */
	unsigned segs;
	bool v6, closed, psh;
	unsigned tcp_off, hdr_len, mss;
	uint32_t next_seq;
	uint64_t bad_csum;	/* candidates that failed a checksum */
	jv_gro_emit emit;
	void *ud;
	uint8_t buf[JV_TUN_BUF];
};

void jv_gro_init(struct jv_gro *g, jv_gro_emit emit, void *ud);

/*
 * Add one IP packet: a plain TCP data segment (ACK, PSH) whose checksums
 * verify joins the pending packet when it continues it (same flow and
 * headers, next sequence number, no longer than the first); otherwise
 * the pending packet is emitted first and this one starts a new one, or
 * (not a candidate) is emitted as it is.  A candidate whose checksum
 * fails is emitted alone at once, unverified, and the pending packet
 * stays open: a corrupted copy does not end a good run.
 */
void jv_gro_put(struct jv_gro *g, const uint8_t *pkt, size_t n);

/* Emit the pending packet, if any. */
void jv_gro_flush(struct jv_gro *g);

/* Do the IPv4 header checksum (IPv4) and the TCP checksum of the IP
 * packet p (n bytes, TCP header at tcp_off) verify? */
bool jv_gro_csum_ok(const uint8_t *p, size_t n, bool v6, unsigned tcp_off);

#endif
