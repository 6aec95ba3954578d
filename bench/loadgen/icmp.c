/* SPDX-License-Identifier: MIT */
/*
 * The inner packets of bench/loadgen: IPv4 ICMP echo requests to the
 * gateway's TUN address, which its kernel answers, so a reply that an
 * engine opens has crossed the whole data path (gateway engine, TUN,
 * kernel, TUN, engine) and back.
 */

#include <string.h>

#include "lg.h"

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void lg_echo_request(uint8_t pkt[LG_ECHO_LEN], uint32_t src, uint32_t dst,
		     uint16_t id, uint16_t seq)
{
	uint8_t *icmp = pkt + 20;

	memset(pkt, 0, LG_ECHO_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, LG_ECHO_LEN);
	pkt[8] = 64;			/* TTL */
	pkt[9] = 1;			/* ICMP */
	put32(pkt + 12, src);
	put32(pkt + 16, dst);
	put16(pkt + 10, csum(pkt, 20));
	icmp[0] = 8;			/* echo request */
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	memcpy(icmp + 8, "jvpn-loadgen-ok!", 16);
	put16(icmp + 2, csum(icmp, LG_ECHO_LEN - 20));
}

bool lg_echo_reply_ok(const uint8_t *pkt, size_t n, uint32_t src,
		      uint32_t dst, uint16_t id, uint16_t *seq)
{
	const uint8_t *icmp = pkt + 20;

	if (n != LG_ECHO_LEN)
		return false;
	*seq = (uint16_t)(icmp[6] << 8 | icmp[7]);
	return pkt[0] == 0x45 && pkt[9] == 1 &&
	       get32(pkt + 12) == dst && get32(pkt + 16) == src &&
	       csum(pkt, 20) == 0 && icmp[0] == 0 &&
	       (uint16_t)(icmp[4] << 8 | icmp[5]) == id &&
	       csum(icmp, n - 20) == 0 &&
	       !memcmp(icmp + 8, "jvpn-loadgen-ok!", 16);
}
