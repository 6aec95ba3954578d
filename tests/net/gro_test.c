/* SPDX-License-Identifier: MIT */
/*
 * The GRO merge on memory (src/net/gro.c, no device, no root): a segment
 * whose IPv4 header checksum or TCP checksum fails never joins a merged
 * write; it is written alone, as it came, with a zero vnet header (the
 * kernel then checks it and drops it), and the merge of the others goes
 * on.  The real-TUN counterpart is offload_device_drops_a_corrupted_segment
 * in tun_netlink_test.c.
 */

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/gro.h"

enum { ACK = 0x10, PSH = 0x08, WRITES = 8 };

/* What the merge handed out, in order. */
static struct {
	struct virtio_net_hdr h;
	uint8_t pkt[JV_TUN_SUPER_MAX];
	size_t len;
	unsigned segs;
} out[WRITES];
static unsigned nout;
static struct jv_gro g;

static void record(void *ud, const struct jv_gro_write *w)
{
	(void)ud;
	assert_true(nout < WRITES);
	memcpy(&out[nout].h, w->hdr, sizeof out[nout].h);
	memcpy(out[nout].pkt, w->pkt, w->len);
	out[nout].len = w->len;
	out[nout].segs = w->segs;
	nout++;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Reference RFC 1071 checksum, big-endian words. */
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

static void tcp_csum(uint8_t *p, size_t n, unsigned l4, bool v6)
{
	static uint8_t b[2048];
	size_t k = v6 ? 32 : 8, len = n - l4;

	p[l4 + 16] = p[l4 + 17] = 0;
	memcpy(b, v6 ? p + 8 : p + 12, k);
	b[k++] = 0;
	b[k++] = IPPROTO_TCP;
	b[k++] = (uint8_t)(len >> 8);
	b[k++] = (uint8_t)len;
	memcpy(b + k, p + l4, len);
	put16(p + l4 + 16, csum(b, k + len));
}

/* A TCP data segment 10.78.0.2:40000 -> 10.78.0.1:5201 (fd00::2 ->
 * fd00::1), `plen` bytes of pattern seq + i, valid checksums. */
static size_t seg(uint8_t *p, bool v6, uint32_t seq, uint8_t flags,
		  unsigned plen)
{
	unsigned ip = v6 ? 40 : 20, hl = ip + 20;
	size_t n = hl + plen;
	uint8_t *t = p + ip;

	memset(p, 0, hl);
	if (v6) {
		p[0] = 0x60;
		put16(p + 4, (unsigned)n - 40);
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		p[8] = p[24] = 0xfd;
		p[23] = 2;
		p[39] = 1;
	} else {
		p[0] = 0x45;
		put16(p + 2, (unsigned)n);
		put16(p + 4, (unsigned)seq);
		p[6] = 0x40;
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, "\x0a\x4e\x00\x02\x0a\x4e\x00\x01", 8);
		put16(p + 10, csum(p, 20));
	}
	put16(t, 40000);
	put16(t + 2, 5201);
	put16(t + 4, seq >> 16);
	put16(t + 6, seq & 0xffff);
	put16(t + 10, 777);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 65535);
	for (unsigned i = 0; i < plen; i++)
		p[hl + i] = (uint8_t)(seq + i);
	tcp_csum(p, n, ip, v6);
	return n;
}

static int reset(void **st)
{
	(void)st;
	nout = 0;
	jv_gro_init(&g, record, NULL);
	return 0;
}

static void is_alone(unsigned i, const uint8_t *pkt, size_t n)
{
	static const struct virtio_net_hdr zero;

	assert_int_equal(out[i].segs, 1);
	assert_memory_equal(&out[i].h, &zero, sizeof zero);
	assert_int_equal(out[i].len, n);
	assert_memory_equal(out[i].pkt, pkt, n);
}

static void is_merged(unsigned i, unsigned segs, bool v6, size_t payload)
{
	unsigned ip = v6 ? 40 : 20;

	assert_int_equal(out[i].segs, segs);
	assert_int_equal(out[i].h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(out[i].h.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6
					       : VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(out[i].len, ip + 20 + payload);
}

/* good 1, good 2, a corrupted copy of 3, good 3 (v4 and v6): the copy
 * goes alone and first; 1..3 still merge.  `how` breaks the copy. */
static void corrupted_copy(bool v6, void (*how)(uint8_t *p, size_t n))
{
	static uint8_t pk[4][1500];
	size_t len[4];

	len[0] = seg(pk[0], v6, 0, ACK, 1000);
	len[1] = seg(pk[1], v6, 1000, ACK, 1000);
	len[2] = seg(pk[2], v6, 2000, ACK, 1000);
	len[3] = seg(pk[3], v6, 2000, ACK, 1000);
	how(pk[2], len[2]);
	assert_true(jv_gro_csum_ok(pk[3], len[3], v6, v6 ? 40 : 20));
	assert_false(jv_gro_csum_ok(pk[2], len[2], v6, v6 ? 40 : 20));
	for (unsigned i = 0; i < 4; i++)
		jv_gro_put(&g, pk[i], len[i]);
	jv_gro_flush(&g);
	assert_int_equal(nout, 2);
	is_alone(0, pk[2], len[2]);
	is_merged(1, 3, v6, 3000);
	/* the merged payload is the good bytes */
	for (unsigned b = 0; b < 3000; b++)
		assert_int_equal(out[1].pkt[(v6 ? 60 : 40) + b], (uint8_t)b);
	assert_int_equal(g.bad_csum, 1);
}

static void flip_payload(uint8_t *p, size_t n)
{
	p[n - 7] ^= 0x5a;
}

static void flip_ip_header(uint8_t *p, size_t n)
{
	(void)n;
	p[10] ^= 0x01;		/* the IPv4 header checksum itself */
}

static void flip_tcp_field(uint8_t *p, size_t n)
{
	(void)n;
	p[(p[0] >> 4 == 6 ? 40 : 20) + 17] ^= 0x80;
}

static void bad_tcp_checksum_never_merges(void **st)
{
	(void)st;
	corrupted_copy(false, flip_payload);
	reset(NULL);
	corrupted_copy(false, flip_tcp_field);
}

static void bad_ip_checksum_never_merges(void **st)
{
	(void)st;
	corrupted_copy(false, flip_ip_header);
}

static void ipv6_bad_tcp_checksum_never_merges(void **st)
{
	(void)st;
	corrupted_copy(true, flip_payload);
}

/* good, bad (in sequence: a real hole), good: nothing may merge across
 * the hole; the goods go out as they are, the bad one alone. */
static void good_bad_good(void **st)
{
	(void)st;
	static uint8_t pk[3][1500];
	size_t len[3];

	for (int v6 = 0; v6 <= 1; v6++) {
		reset(NULL);
		len[0] = seg(pk[0], v6, 0, ACK, 1000);
		len[1] = seg(pk[1], v6, 1000, ACK, 1000);
		len[2] = seg(pk[2], v6, 2000, ACK | PSH, 1000);
		flip_payload(pk[1], len[1]);
		for (unsigned i = 0; i < 3; i++)
			jv_gro_put(&g, pk[i], len[i]);
		jv_gro_flush(&g);
		assert_int_equal(nout, 3);
		is_alone(0, pk[1], len[1]);
		is_alone(1, pk[0], len[0]);
		is_alone(2, pk[2], len[2]);
		assert_int_equal(g.bad_csum, 1);
	}
}

/* A bad first segment does not start a run; the two good ones after it
 * merge. */
static void bad_first_then_a_run(void **st)
{
	(void)st;
	static uint8_t pk[3][1500];
	size_t len[3];

	len[0] = seg(pk[0], false, 0, ACK, 1000);
	len[1] = seg(pk[1], false, 1000, ACK, 1000);
	len[2] = seg(pk[2], false, 2000, ACK, 1000);
	flip_payload(pk[0], len[0]);
	for (unsigned i = 0; i < 3; i++)
		jv_gro_put(&g, pk[i], len[i]);
	jv_gro_flush(&g);
	assert_int_equal(nout, 2);
	is_alone(0, pk[0], len[0]);
	is_merged(1, 2, false, 2000);
}

/* Checksums the sender may legitimately write verify: an odd payload
 * length, and a TCP checksum of 0xffff where 0 was computed. */
static void valid_checksums_verify(void **st)
{
	(void)st;
	static uint8_t p[1500];
	size_t n = seg(p, false, 7, ACK, 999);

	assert_true(jv_gro_csum_ok(p, n, false, 20));
	n = seg(p, true, 7, ACK, 1);
	assert_true(jv_gro_csum_ok(p, n, true, 40));
	/* -0 and +0 are one value in ones' complement */
	n = seg(p, false, 0, ACK, 2);
	for (unsigned v = 0; v < 0x10000; v++) {
		put16(p + 40, v);
		tcp_csum(p, n, 20, false);
		if (p[36] == 0 && p[37] == 0)
			break;
	}
	assert_true(p[36] == 0 && p[37] == 0);
	assert_true(jv_gro_csum_ok(p, n, false, 20));
	p[36] = p[37] = 0xff;
	assert_true(jv_gro_csum_ok(p, n, false, 20));
}

/* The TSO cut refuses an IPv4 super-packet whose IHL is under 5 (found
 * by the tso fuzzer: the header checksum was written past the header). */
static void tso_refuses_a_short_ipv4_header(void **st)
{
	(void)st;
	static uint8_t buf[JV_TUN_VNET_HDR + 1500];
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 500,
		.csum_start = 20, .csum_offset = 16,
	};
	struct jv_tun_rx rx;
	size_t n = seg(buf + JV_TUN_VNET_HDR, false, 0, ACK, 1000);

	memcpy(buf, &h, sizeof h);
	assert_int_equal(jv_tun_rx_parse(&rx, buf, JV_TUN_VNET_HDR + n), 0);
	buf[JV_TUN_VNET_HDR] = 0x41;
	assert_int_equal(jv_tun_rx_parse(&rx, buf, JV_TUN_VNET_HDR + n),
			 JV_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(bad_tcp_checksum_never_merges, reset),
		cmocka_unit_test_setup(bad_ip_checksum_never_merges, reset),
		cmocka_unit_test_setup(ipv6_bad_tcp_checksum_never_merges,
				       reset),
		cmocka_unit_test_setup(good_bad_good, reset),
		cmocka_unit_test_setup(bad_first_then_a_run, reset),
		cmocka_unit_test(valid_checksums_verify),
		cmocka_unit_test(tso_refuses_a_short_ipv4_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
