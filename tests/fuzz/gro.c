/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the GRO merge (src/net/gro.c): any batch of packets goes in; every
 * write that comes out stays within its buffer, and
 *   - a write of one packet is one of the inputs, unchanged, zero header;
 *   - a merged write cuts (jv_tun_rx_parse/next, the kernel's view) into
 *     exactly its `segs` packets, each the next input not yet written,
 *     with equal bytes but for the fields the merge may rewrite (IPv4 id
 *     and header checksum, TCP checksum), and each of those inputs had
 *     checksums that verify (checked here by a reference sum, not
 *     gro.c's): a corrupted segment never rides in a merged write;
 *   - after the last flush every input was written exactly once.
 *
 * Input: records [ctl:1][len:2, big-endian][bytes].  ctl bit 0 sets the
 * IP length field(s) to len, bit 1 the IPv4 header checksum, bit 2 the
 * TCP checksum (so that the fuzzer reaches merges), bit 3 flushes after.
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/gro.h"

enum { INPUTS_MAX = 256 };

static struct {
	uint8_t *p;
	size_t n;
	bool written;
} in[INPUTS_MAX];
static unsigned nin;
static struct jv_gro g;

static uint16_t ref_csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t pseudo(const uint8_t *p, bool v6, size_t tcp_len)
{
	uint32_t s = (uint32_t)6 + (uint32_t)tcp_len;
	const uint8_t *a = v6 ? p + 8 : p + 12;

	for (unsigned i = 0; i < (v6 ? 32u : 8u); i += 2)
		s += (uint32_t)a[i] << 8 | a[i + 1];
	return s;
}

/* Independent of gro.c: the IP packet's checksums verify. */
static bool ref_ok(const uint8_t *p, size_t n)
{
	bool v6;
	unsigned off;

	if (n < 20)
		return false;
	v6 = p[0] >> 4 == 6;
	off = v6 ? 40 : (p[0] & 0x0fu) * 4u;
	if (n < off + 20 || (!v6 && ref_csum(p, off, 0) != 0))
		return false;
	return ref_csum(p + off, n - off, pseudo(p, v6, n - off)) == 0;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fix(uint8_t *p, size_t n, uint8_t ctl)
{
	bool v6;
	unsigned off;

	if (n < 40)
		return;
	v6 = p[0] >> 4 == 6;
	off = v6 ? 40 : (p[0] & 0x0fu) * 4u;
	if (ctl & 1) {
		if (v6 && n >= 40)
			put16(p + 4, n - 40);
		else
			put16(p + 2, n);
	}
	if ((ctl & 2) && !v6 && off >= 20 && off <= n) {
		p[10] = p[11] = 0;
		put16(p + 10, ref_csum(p, off, 0));
	}
	if ((ctl & 4) && off >= 20 && n >= off + 20) {
		p[off + 16] = p[off + 17] = 0;
		put16(p + off + 16, ref_csum(p + off, n - off,
					     pseudo(p, v6, n - off)));
	}
}

/* Equal but for the IPv4 id and header checksum and the TCP checksum. */
static bool same_segment(const uint8_t *a, const uint8_t *b, size_t n)
{
	bool v6 = a[0] >> 4 == 6;
	unsigned off = v6 ? 40 : 20;

	for (size_t i = 0; i < n; i++) {
		if (!v6 && (i == 4 || i == 5 || i == 10 || i == 11))
			continue;
		if (i == off + 16 || i == off + 17)
			continue;
		if (a[i] != b[i])
			return false;
	}
	return true;
}

static void check(void *ud, const struct jv_gro_write *w)
{
	static uint8_t buf[JV_TUN_BUF], scratch[JV_MTU_MAX];
	struct jv_tun_rx rx;
	const uint8_t *seg;
	unsigned next = 0, k;
	size_t len;

	(void)ud;
	FUZZ_ASSERT(w->segs >= 1 && w->len <= JV_TUN_SUPER_MAX);
	if (w->segs == 1) {
		for (k = 0; k < JV_TUN_VNET_HDR; k++)
			FUZZ_ASSERT(w->hdr[k] == 0);
		for (k = 0; k < nin; k++)
			if (!in[k].written && in[k].n == w->len &&
			    !memcmp(in[k].p, w->pkt, w->len))
				break;
		FUZZ_ASSERT(k < nin);
		in[k].written = true;
		return;
	}
	memcpy(buf, w->hdr, JV_TUN_VNET_HDR);
	memcpy(buf + JV_TUN_VNET_HDR, w->pkt, w->len);
	FUZZ_ASSERT(jv_tun_rx_parse(&rx, buf, JV_TUN_VNET_HDR + w->len) == 0);
	FUZZ_ASSERT(rx.tso);
	for (k = 0; k < w->segs; k++) {
		len = jv_tun_rx_next(&rx, scratch, &seg);
		while (next < nin && in[next].written)
			next++;
		FUZZ_ASSERT(next < nin);
		FUZZ_ASSERT(len == in[next].n);
		FUZZ_ASSERT(ref_ok(in[next].p, in[next].n));
		FUZZ_ASSERT(ref_ok(seg, len));
		FUZZ_ASSERT(same_segment(seg, in[next].p, len));
		in[next].written = true;
	}
	FUZZ_ASSERT(jv_tun_rx_next(&rx, scratch, &seg) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0;

	nin = 0;
	jv_gro_init(&g, check, NULL);
	while (at + 3 <= size && nin < INPUTS_MAX) {
		uint8_t ctl = data[at];
		size_t n = (size_t)data[at + 1] << 8 | data[at + 2];

		at += 3;
		if (n > size - at)
			n = size - at;
		/* exactly n bytes: ASan sees any read past the packet */
		in[nin].p = malloc(n ? n : 1);
		if (!in[nin].p)
			break;
		memcpy(in[nin].p, data + at, n);
		in[nin].n = n;
		in[nin].written = false;
		fix(in[nin].p, n, ctl);
		at += n;
		nin++;
		jv_gro_put(&g, in[nin - 1].p, n);
		if (ctl & 8)
			jv_gro_flush(&g);
	}
	jv_gro_flush(&g);
	for (unsigned k = 0; k < nin; k++) {
		FUZZ_ASSERT(in[k].written);
		free(in[k].p);
	}
	return 0;
}
