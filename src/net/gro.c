/* SPDX-License-Identifier: MIT */
/* TSO cut and GRO merge of the offload data path, on memory (gro.h). */

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "net/gro.h"

_Static_assert(sizeof(struct virtio_net_hdr) == JV_TUN_VNET_HDR,
	       "virtio_net_hdr is 10 bytes");

/* ---- checksums (RFC 1071) --------------------------------------------- *
 * Sums run over bytes in memory order, so the folded result is stored
 * back with memcpy, whatever the host's byte order. */

static uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	uint64_t a = 0, c = 0, a2 = 0, c2 = 0;

	/* The bulk in 64-bit words with end-around carry, two independent
	 * chains (ones' complement sums fold the same from any word size:
	 * 2^16 - 1 divides 2^64 - 1); a third of the time per segment. */
	while (n >= 16) {
		uint64_t w[2];

		memcpy(w, b, 16);
		a += w[0];
		c += a < w[0];
		a2 += w[1];
		c2 += a2 < w[1];
		b += 16;
		n -= 16;
	}
	a += a2;
	c += c2 + (a < a2);
	a += c;
	a += a < c;
	sum += (a & 0xffffffffu) + (a >> 32);
	while (n >= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		n -= 8;
	}
	if (n >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		sum += w;
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t w;

		memcpy(&w, b, 2);
		sum += w;
		b += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { b[0], 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

static void put_csum(uint8_t *at, uint16_t folded)
{
	memcpy(at, &folded, 2);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The TCP pseudo-header of an IPv4 or IPv6 packet, `len` TCP bytes. */
static uint64_t pseudo_sum(const uint8_t *ip, bool v6, unsigned len)
{
	uint8_t tail[4] = { 0, IPPROTO_TCP, (uint8_t)(len >> 8),
			    (uint8_t)len };

	return csum_add(v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8),
			tail, 4);
}

static void ipv4_hdr_csum(uint8_t *ip)
{
	unsigned ihl = (ip[0] & 0x0fu) * 4;

	ip[10] = ip[11] = 0;
	put_csum(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, ihl)));
}

enum {
	TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08,
	TCP_ACK = 0x10, TCP_URG = 0x20, TCP_ECE = 0x40, TCP_CWR = 0x80,
};

/* ---- the TSO cut: checksum completion and segmentation ------------------ */

int jv_tun_rx_parse(struct jv_tun_rx *rx, uint8_t *buf, size_t n)
{
	struct virtio_net_hdr h;
	uint8_t *p;
	size_t len;

	memset(rx, 0, sizeof *rx);
	rx->done = true;
	if (n < JV_TUN_VNET_HDR + 20)
		return JV_ERR_PARSE;
	memcpy(&h, buf, sizeof h);
	p = buf + JV_TUN_VNET_HDR;
	len = n - JV_TUN_VNET_HDR;
	rx->pkt = p;
	rx->len = len;
	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			size_t start = h.csum_start, at = start + h.csum_offset;
			uint16_t c;

			/* The field holds the pseudo-header sum already. */
			if (start >= len || at + 2 > len)
				return JV_ERR_PARSE;
			c = (uint16_t)~csum_fold(csum_add(0, p + start,
							  len - start));
			/* a computed 0 goes out as 0xffff (UDP: 0 = none) */
			put_csum(p + at, c ? c : 0xffff);
		}
		rx->done = false;
		return 0;
	}
	switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		/* an IHL under 5 is no IPv4 header (the fuzzer's find:
		 * its checksum would be written past it) */
		if (p[0] >> 4 != 4 || (p[0] & 0x0fu) < 5 ||
		    p[9] != IPPROTO_TCP || get16(p + 2) != len)
			return JV_ERR_PARSE;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (len < 40 || p[0] >> 4 != 6 || get16(p + 4) + 40u != len)
			return JV_ERR_PARSE;
		rx->v6 = true;
		break;
	default:
		return JV_ERR_PARSE;	/* UDP offloads were not asked for */
	}
	/* csum_start is the TCP header (past any IPv6 extension header). */
	rx->tcp_off = h.csum_start;
	if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    rx->tcp_off < (rx->v6 ? 40u : (p[0] & 0x0fu) * 4u) ||
	    rx->tcp_off + 20 > len)
		return JV_ERR_PARSE;
	rx->hdr_len = rx->tcp_off + (p[rx->tcp_off + 12] >> 4) * 4u;
	rx->mss = h.gso_size;
	if ((p[rx->tcp_off + 12] >> 4) < 5 || rx->hdr_len >= len ||
	    !rx->mss || rx->hdr_len + rx->mss > JV_MTU_MAX)
		return JV_ERR_PARSE;
	rx->tso = true;
	rx->done = false;
	return 0;
}

size_t jv_tun_rx_next(struct jv_tun_rx *rx, uint8_t scratch[JV_MTU_MAX],
		      const uint8_t **pkt)
{
	size_t off, plen, n;
	uint8_t *tcp, flags;
	bool last;

	if (rx->done)
		return 0;
	if (!rx->tso) {
		rx->done = true;
		*pkt = rx->pkt;
		return rx->len;
	}
	off = rx->hdr_len + (size_t)rx->seg * rx->mss;
	plen = rx->len - off < rx->mss ? rx->len - off : rx->mss;
	last = off + plen >= rx->len;
	n = rx->hdr_len + plen;
	memcpy(scratch, rx->pkt, rx->hdr_len);
	memcpy(scratch + rx->hdr_len, rx->pkt + off, plen);
	if (rx->v6) {
		set16(scratch + 4, (unsigned)n - 40);
	} else {
		set16(scratch + 2, (unsigned)n);
		set16(scratch + 4, get16(rx->pkt + 4) + rx->seg);
		ipv4_hdr_csum(scratch);
	}
	tcp = scratch + rx->tcp_off;
	set32(tcp + 4, get32(rx->pkt + rx->tcp_off + 4) +
		       (uint32_t)(rx->seg * rx->mss));
	flags = tcp[13];
	if (!last)
		flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (rx->seg)
		flags &= (uint8_t)~TCP_CWR;
	tcp[13] = flags;
	tcp[16] = tcp[17] = 0;
	put_csum(tcp + 16, (uint16_t)~csum_fold(
		csum_add(pseudo_sum(scratch, rx->v6,
				    (unsigned)(n - rx->tcp_off)),
			 tcp, n - rx->tcp_off)));
	rx->seg++;
	rx->done = last;
	*pkt = scratch;
	return n;
}

/* ---- the GRO merge ------------------------------------------------------ */

/* A TCP segment that may start or continue a merged packet: no IPv4
 * options or fragments, no IPv6 extension header, data, and no flag but
 * ACK and PSH.  Sets the offsets; false: write it as it is. */
static bool mergeable(const uint8_t *p, size_t n, bool *v6, unsigned *tcp_off,
		      unsigned *hdr_len)
{
	const uint8_t *tcp;

	if (n < 40)
		return false;
	if (p[0] >> 4 == 4) {
		if (p[0] != 0x45 || p[9] != IPPROTO_TCP || get16(p + 2) != n ||
		    (get16(p + 6) & 0x3fff))	/* MF or an offset */
			return false;
		*v6 = false;
		*tcp_off = 20;
	} else if (p[0] >> 4 == 6) {
		if (n < 60 || p[6] != IPPROTO_TCP || get16(p + 4) + 40u != n)
			return false;
		*v6 = true;
		*tcp_off = 40;
	} else {
		return false;
	}
	tcp = p + *tcp_off;
	*hdr_len = *tcp_off + (tcp[12] >> 4) * 4u;
	return (tcp[12] >> 4) >= 5 && *hdr_len < n &&
	       (tcp[13] & (uint8_t)~TCP_PSH) == TCP_ACK;
}

/* Does p continue the pending packet?  Same headers but for the IP
 * length, id and checksum and the TCP sequence, checksum and PSH; the
 * next sequence number; no longer than the first segment's payload. */
static bool continues(const struct jv_gro *w, const uint8_t *p,
		      size_t n, bool v6, unsigned tcp_off, unsigned hdr_len)
{
	const uint8_t *q = w->buf + JV_TUN_VNET_HDR;
	const uint8_t *t = p + tcp_off, *u = q + tcp_off;

	if (w->closed || v6 != w->v6 || hdr_len != w->hdr_len ||
	    n - hdr_len > w->mss || w->len + (n - hdr_len) > JV_TUN_SUPER_MAX ||
	    get32(t + 4) != w->next_seq)
		return false;
	if (v6) {
		if (memcmp(p, q, 4) || memcmp(p + 6, q + 6, 34))
			return false;
	} else {
		/* version/IHL, TOS; flags (DF); TTL, protocol; addresses */
		if (memcmp(p, q, 2) || memcmp(p + 6, q + 6, 4) ||
		    memcmp(p + 12, q + 12, 8))
			return false;
	}
	/* ports; ack; data offset; flags but PSH; window; urgent pointer
	 * (meaningless without URG, but the cut must give back the very
	 * bytes); options */
	return !memcmp(t, u, 4) && !memcmp(t + 8, u + 8, 5) &&
	       (t[13] & (uint8_t)~TCP_PSH) == (u[13] & (uint8_t)~TCP_PSH) &&
	       !memcmp(t + 14, u + 14, 2) && !memcmp(t + 18, u + 18, 2) &&
	       !memcmp(t + 20, u + 20, hdr_len - tcp_off - 20);
}


bool jv_gro_csum_ok(const uint8_t *p, size_t n, bool v6, unsigned tcp_off)
{
	/* A verifying sum folds to all ones (never to 0: the pseudo-header
	 * holds the protocol, so the words are never all zero). */
	if (!v6 && csum_fold(csum_add(0, p, 20)) != 0xffff)
		return false;
	return csum_fold(csum_add(pseudo_sum(p, v6, (unsigned)(n - tcp_off)),
				  p + tcp_off, n - tcp_off)) == 0xffff;
}

void jv_gro_init(struct jv_gro *g, jv_gro_emit emit, void *ud)
{
	memset(g, 0, offsetof(struct jv_gro, buf));
	g->emit = emit;
	g->ud = ud;
}

static void emit_alone(struct jv_gro *g, const uint8_t *pkt, size_t n)
{
	static const uint8_t zero[JV_TUN_VNET_HDR];
	struct jv_gro_write out = { zero, pkt, n, 1 };

	g->emit(g->ud, &out);
}

void jv_gro_flush(struct jv_gro *g)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t *p = g->buf + JV_TUN_VNET_HDR;
	struct jv_gro_write out = { g->buf, p, g->len, g->segs };

	if (!g->len)
		return;
	if (g->segs > 1) {
		uint8_t *tcp = p + g->tcp_off;

		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6
				   : VIRTIO_NET_HDR_GSO_TCPV4;
		h.hdr_len = (uint16_t)g->hdr_len;
		h.gso_size = (uint16_t)g->mss;
		h.csum_start = (uint16_t)g->tcp_off;
		h.csum_offset = 16;
		if (g->v6) {
			set16(p + 4, (unsigned)g->len - 40);
		} else {
			set16(p + 2, (unsigned)g->len);
			ipv4_hdr_csum(p);
		}
		if (g->psh)
			tcp[13] |= TCP_PSH;
		/* Partial: the pseudo-header sum; the kernel completes it
		 * or trusts it, which is why every segment in it was
		 * checked on the way in (jv_gro_put). */
		put_csum(tcp + 16, csum_fold(pseudo_sum(p, g->v6,
					(unsigned)g->len - g->tcp_off)));
	}
	memcpy(g->buf, &h, sizeof h);
	g->len = 0;
	g->segs = 0;
	g->emit(g->ud, &out);
}

void jv_gro_put(struct jv_gro *g, const uint8_t *pkt, size_t n)
{
	unsigned tcp_off, hdr_len;
	bool v6;

	if (n > JV_TUN_SUPER_MAX || !mergeable(pkt, n, &v6, &tcp_off, &hdr_len)) {
		jv_gro_flush(g);
		emit_alone(g, pkt, n);
		return;
	}
	/* Merged, its checksums are the kernel's to recompute, not to
	 * check: a segment that fails them goes alone, as it came, for the
	 * inner stack to drop.  The pending run stays open. */
	if (!jv_gro_csum_ok(pkt, n, v6, tcp_off)) {
		g->bad_csum++;
		emit_alone(g, pkt, n);
		return;
	}
	if (g->len && continues(g, pkt, n, v6, tcp_off, hdr_len)) {
		memcpy(g->buf + JV_TUN_VNET_HDR + g->len, pkt + hdr_len,
		       n - hdr_len);
		g->len += n - hdr_len;
	} else {
		jv_gro_flush(g);
		memcpy(g->buf + JV_TUN_VNET_HDR, pkt, n);
		g->len = n;
		g->v6 = v6;
		g->tcp_off = tcp_off;
		g->hdr_len = hdr_len;
		g->mss = (unsigned)(n - hdr_len);
		g->closed = g->psh = false;
	}
	g->segs++;
	g->next_seq = get32(pkt + tcp_off + 4) + (uint32_t)(n - hdr_len);
	/* A shorter segment or a push ends the run (the kernel's GRO
	 * would flush there too). */
	if (n - hdr_len < g->mss || (pkt[tcp_off + 13] & TCP_PSH)) {
		g->closed = true;
		g->psh = (pkt[tcp_off + 13] & TCP_PSH) != 0;
	}
}
