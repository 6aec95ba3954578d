/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the TSO cut (src/net/gro.c): any read of an offload-mode TUN (a
 * virtio_net_hdr, then a packet or a super-packet, as the kernel would
 * hand it over) is either refused or cut into packets that stay within
 * their buffers: a plain packet in place with the read's length; TSO
 * segments of at most JV_MTU_MAX bytes, ceil(payload / mss) of them,
 * whose payloads add up to the super-packet's, each with its IP length
 * field, consecutive sequence numbers and both checksums right (checked
 * here by a reference sum).
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/gro.h"

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

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[JV_MTU_MAX];
	struct jv_tun_rx rx;
	const uint8_t *seg;
	uint8_t *buf;
	size_t n, total = 0, want;
	unsigned segs = 0;

	if (size > JV_TUN_BUF)
		return 0;
	/* exactly size bytes: ASan sees any access past the read */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (jv_tun_rx_parse(&rx, buf, size) != 0) {
		free(buf);
		return 0;
	}
	FUZZ_ASSERT(rx.pkt == buf + JV_TUN_VNET_HDR &&
		    rx.len == size - JV_TUN_VNET_HDR);
	if (!rx.tso) {
		FUZZ_ASSERT(jv_tun_rx_next(&rx, scratch, &seg) == rx.len);
		FUZZ_ASSERT(seg == rx.pkt);
		FUZZ_ASSERT(jv_tun_rx_next(&rx, scratch, &seg) == 0);
		free(buf);
		return 0;
	}
	FUZZ_ASSERT(rx.mss > 0 && rx.hdr_len < rx.len);
	want = (rx.len - rx.hdr_len + rx.mss - 1) / rx.mss;
	while ((n = jv_tun_rx_next(&rx, scratch, &seg)) > 0) {
		unsigned off = rx.tcp_off;
		size_t plen = n - rx.hdr_len;
		uint32_t s = (uint32_t)6 + (uint32_t)(n - off);
		const uint8_t *a = rx.v6 ? seg + 8 : seg + 12;

		FUZZ_ASSERT(seg == scratch && n <= JV_MTU_MAX);
		FUZZ_ASSERT(n > rx.hdr_len && plen <= rx.mss);
		FUZZ_ASSERT(segs < want);
		if (rx.v6) {
			FUZZ_ASSERT(((size_t)seg[4] << 8 | seg[5]) + 40 == n);
		} else {
			FUZZ_ASSERT(((size_t)seg[2] << 8 | seg[3]) == n);
			FUZZ_ASSERT(ref_csum(seg, (seg[0] & 0x0fu) * 4u, 0) == 0);
		}
		FUZZ_ASSERT(get32(seg + off + 4) ==
			    get32(rx.pkt + off + 4) + (uint32_t)(segs * rx.mss));
		for (unsigned i = 0; i < (rx.v6 ? 32u : 8u); i += 2)
			s += (uint32_t)a[i] << 8 | a[i + 1];
		FUZZ_ASSERT(ref_csum(seg + off, n - off, s) == 0);
		FUZZ_ASSERT(!memcmp(seg + rx.hdr_len,
				    rx.pkt + rx.hdr_len + total, plen));
		total += plen;
		segs++;
	}
	FUZZ_ASSERT(segs == want && total == rx.len - rx.hdr_len);
	FUZZ_ASSERT(jv_tun_rx_next(&rx, scratch, &seg) == 0);
	free(buf);
	return 0;
}
