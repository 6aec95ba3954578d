/* SPDX-License-Identifier: MIT */
/*
 * core_bench: what the sans-I/O engine costs, each figure beside its peer
 * measured in the same run on the same machine.
 *
 *  1. Seal + open of 1400-byte inner packets through the engine (client
 *     seals, gateway opens and delivers) against libsodium's raw
 *     ChaCha20-Poly1305 (IETF) encrypt + decrypt of the same buffers.
 *  2. Full handshakes per second (client initiation, gateway consume and
 *     response with a new session, client consume) against the cost of
 *     the X25519 operations one handshake needs (2 key generations and 8
 *     DH: 4 per side), i.e. the DH-bound limit.
 *  3. Heap bytes per idle gateway session (mallinfo2 around the creation
 *     of many confirmed sessions).
 *
 * Output: prose, then name=value lines (DESIGN.md "Performance").
 */

#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"

static double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct jv_out out_c, out_g;

struct pair {
	struct jv_seeded_rng cr, gr;
	struct jv_client *c;
	struct jv_gateway *g;
	struct jv_addr from;
};

static void pump_to_gw(struct pair *p, jv_time now)
{
	for (unsigned i = 0; i < out_c.ndgram; i++) {
		jv_out_reset(&out_g);
		(void)jv_gateway_recv(p->g, 0, &p->from, out_c.dgram[i].buf,
				      out_c.dgram[i].len, now, &out_g);
	}
}

static void pump_to_client(struct pair *p, jv_time now)
{
	struct jv_out tmp;
	for (unsigned i = 0; i < out_g.ndgram; i++) {
		jv_out_reset(&tmp);
		(void)jv_client_recv(p->c, 0, out_g.dgram[i].buf,
				     out_g.dgram[i].len, now, &tmp);
	}
}

static void keys(uint8_t priv[32], uint8_t pub[32], uint8_t seed)
{
	struct jv_noise_keypair kp;
	memset(priv, seed, 32);
	if (jv_noise_keypair_from_private(&kp, priv) != 0)
		abort();
	memcpy(pub, kp.pub, 32);
}

static struct jv_gateway *gateway(const struct jv_policy *pol,
				  struct jv_seeded_rng *r, unsigned max)
{
	struct jv_gateway_config gc = {
		.policy = pol, .node_id = "bench-gw", .rng = jv_seeded_rng(r),
		.max_sessions = max, .handshakes_per_sec = 100000000,
		.handshake_burst = 100000000,
	};
	uint8_t pub[32];
	keys(gc.private_key, pub, 0x22);
	return jv_gateway_new(&gc);
}

static struct jv_client *client(const struct jv_policy *pol,
				struct jv_seeded_rng *r, uint8_t seed)
{
	struct jv_client_config cc = {
		.policy = pol, .node_id = "bench-cl", .rng = jv_seeded_rng(r),
	};
	uint8_t gpriv[32];
	keys(cc.private_key, cc.gateway_public, seed);	/* own key */
	keys(gpriv, cc.gateway_public, 0x22);		/* gateway's public */
	struct jv_client *c = jv_client_new(&cc);
	if (!c || jv_client_add_transport(c, "p1", JV_PROTO_UDP, 1) != 0)
		abort();
	return c;
}

/* Bring one client's session up (handshake + confirming heartbeat). */
static void connect(struct pair *p, jv_time now)
{
	jv_out_reset(&out_c);
	if (jv_client_start(p->c, now, &out_c) != 0)
		abort();
	pump_to_gw(p, now);
	jv_out_reset(&out_c);
	for (unsigned i = 0; i < out_g.ndgram; i++)
		(void)jv_client_recv(p->c, 0, out_g.dgram[i].buf,
				     out_g.dgram[i].len, now, &out_c);
	pump_to_gw(p, now);	/* the first heartbeat confirms */
}

static void bench_aead(const struct jv_policy *pol)
{
	enum { N = 200000, LEN = 1400 };
	struct pair p;
	uint8_t pkt[LEN], key[32], nonce[12] = { 0 }, ct[LEN + 16], pt[LEN];
	unsigned long long clen, plen;

	memset(&p, 0, sizeof p);
	jv_seeded_rng_init(&p.cr, 1);
	jv_seeded_rng_init(&p.gr, 2);
	p.g = gateway(pol, &p.gr, 16);
	p.c = client(pol, &p.cr, 0x11);
	uint8_t cpriv[32], cpub[32];
	keys(cpriv, cpub, 0x11);
	if (jv_gateway_add_peer(p.g, cpub) != 0)
		abort();
	jv_addr_from_ipv4(&p.from, 0x0a000002, 40000);
	connect(&p, 1000);
	memset(pkt, 0xab, sizeof pkt);
	pkt[0] = 0x45;

	/* Both loops run one packet at a time through the same caches. */
	unsigned delivered = 0;
	double t = secs();
	for (int i = 0; i < N; i++) {
		jv_out_reset(&out_c);
		(void)jv_client_send(p.c, pkt, LEN, 1000, &out_c);
		jv_out_reset(&out_g);
		(void)jv_gateway_recv(p.g, 0, &p.from, out_c.dgram[0].buf,
				      out_c.dgram[0].len, 1000, &out_g);
		delivered += out_g.ninner;
	}
	double engine = secs() - t;

	randombytes_buf(key, sizeof key);
	t = secs();
	for (int i = 0; i < N; i++) {
		nonce[4] = (uint8_t)i;
		nonce[5] = (uint8_t)(i >> 8);
		crypto_aead_chacha20poly1305_ietf_encrypt(ct, &clen, pkt, LEN,
							  pkt, 16, NULL, nonce, key);
		if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct,
							      clen, pkt, 16, nonce,
							      key) != 0)
			abort();
	}
	double raw = secs() - t;
	if (delivered != N) {
		fprintf(stderr, "core_bench: engine delivered %u of %d\n",
			delivered, N);
		exit(1);
	}
	double e_mbps = N * (double)LEN * 8 / engine / 1e6;
	double r_mbps = N * (double)LEN * 8 / raw / 1e6;
	printf("seal+open of %d x %d-byte packets: engine %.0f Mbit/s, "
	       "raw libsodium ChaCha20-Poly1305 %.0f Mbit/s\n",
	       N, LEN, e_mbps, r_mbps);
	printf("engine_mbps=%.0f\nraw_aead_mbps=%.0f\naead_ratio=%.2f\n", e_mbps,
	       r_mbps, e_mbps / r_mbps);
	jv_client_free(p.c);
	jv_gateway_free(p.g);
}

static void bench_handshake(const struct jv_policy *pol)
{
	enum { N = 2000 };
	struct jv_seeded_rng gr;
	uint8_t cpriv[32], cpub[32];

	jv_seeded_rng_init(&gr, 3);
	struct jv_gateway *g = gateway(pol, &gr, 64);
	keys(cpriv, cpub, 0x11);
	if (jv_gateway_add_peer(g, cpub) != 0)
		abort();

	/* One client restarting: each start is a new handshake and a new
	 * session; the gateway supersedes the previous one each time. */
	struct pair p;
	memset(&p, 0, sizeof p);
	jv_seeded_rng_init(&p.cr, 4);
	p.g = g;
	p.c = client(pol, &p.cr, 0x11);
	jv_addr_from_ipv4(&p.from, 0x0a000002, 40000);
	jv_time now = 1000;
	unsigned ok = 0;
	double t = secs();
	for (int i = 0; i < N; i++) {
		now += 1000;	/* the gateway's per-peer bucket refills */
		jv_out_reset(&out_c);
		(void)jv_client_terminate(p.c, now, &out_c);
		jv_out_reset(&out_c);
		int rc = jv_client_start(p.c, now, &out_c);
		if (rc != 0) {
			fprintf(stderr, "core_bench: handshake %d: start: %s\n", i,
				jv_strerror(rc));
			exit(1);
		}
		pump_to_gw(&p, now);
		pump_to_client(&p, now);
		ok += jv_client_state(p.c) == JV_STATE_ATTACHED;
		/* let the gateway drop tombstones now and then */
		if (i % 32 == 0) {
			jv_out_reset(&out_g);
			while (jv_gateway_tick(g, now + 20000, &out_g) == 1)
				jv_out_reset(&out_g);
		}
	}
	double hs = secs() - t;

	/* The X25519 work of one IK handshake: each side generates an
	 * ephemeral (scalarmult_base) and computes four DH. */
	uint8_t a[32], b[32], pub[32], shared[32];
	randombytes_buf(a, 32);
	randombytes_buf(b, 32);
	if (crypto_scalarmult_base(pub, b) != 0)
		abort();
	t = secs();
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < 2; k++)
			if (crypto_scalarmult_base(pub, a) != 0)
				abort();
		for (int k = 0; k < 8; k++)
			if (crypto_scalarmult(shared, a, pub) != 0)
				abort();
	}
	double dh = secs() - t;
	if (ok != N) {
		fprintf(stderr, "core_bench: %u of %d handshakes completed\n", ok, N);
		exit(1);
	}
	printf("handshakes: %.0f per second per core; the X25519 work alone "
	       "allows %.0f per second\n", N / hs, N / dh);
	printf("handshakes_per_sec=%.0f\ndh_bound_per_sec=%.0f\n"
	       "handshake_ratio=%.2f\n", N / hs, N / dh, dh / hs);
	jv_client_free(p.c);
	jv_gateway_free(g);
}

static void bench_memory(const struct jv_policy *pol)
{
	enum { N = 1000 };
	struct jv_seeded_rng gr;
	static struct pair p[N];

	jv_seeded_rng_init(&gr, 5);
	struct jv_gateway *g = gateway(pol, &gr, N + 8);
	for (int i = 0; i < N; i++) {
		uint8_t priv[32], pub[32];
		struct jv_noise_keypair kp;
		memset(priv, 0, 32);
		/* bytes 8-9: byte 0's low bits are cleared by X25519 clamping */
		priv[8] = (uint8_t)i;
		priv[9] = (uint8_t)(i >> 8);
		priv[2] = 0x5a;
		int rc = jv_noise_keypair_from_private(&kp, priv);
		if (rc == 0)
			rc = jv_gateway_add_peer(g, kp.pub);
		if (rc != i) {
			fprintf(stderr, "core_bench: peer %d: %s\n", i,
				jv_strerror(rc));
			exit(1);
		}
		(void)pub;
	}
	struct mallinfo2 before = mallinfo2();
	for (int i = 0; i < N; i++) {
		struct jv_client_config cc = {
			.policy = pol, .node_id = "c", .rng = { 0 },
		};
		jv_seeded_rng_init(&p[i].cr, 100 + (uint64_t)i);
		cc.rng = jv_seeded_rng(&p[i].cr);
		memset(cc.private_key, 0, 32);
		cc.private_key[8] = (uint8_t)i;
		cc.private_key[9] = (uint8_t)(i >> 8);
		cc.private_key[2] = 0x5a;
		uint8_t gpriv[32];
		keys(gpriv, cc.gateway_public, 0x22);
		p[i].g = g;
		jv_addr_from_ipv4(&p[i].from, 0x0a000002, (uint16_t)(1000 + i));
		/* the clients live outside the measured window */
		struct mallinfo2 m0 = mallinfo2();
		p[i].c = jv_client_new(&cc);
		if (!p[i].c || jv_client_add_transport(p[i].c, "p1", JV_PROTO_UDP, 1) != 0)
			abort();
		struct mallinfo2 m1 = mallinfo2();
		before.uordblks += m1.uordblks - m0.uordblks;
		connect(&p[i], 1000 + (jv_time)i);
	}
	struct mallinfo2 after = mallinfo2();
	struct jv_session_status st;
	unsigned live = 0;
	for (int i = 0; i < N; i++)
		live += jv_gateway_status(g, (uint32_t)i, &st) == 0 &&
			st.state == JV_STATE_ATTACHED;
	if (live != N) {
		fprintf(stderr, "core_bench: %u of %d sessions attached\n", live, N);
		exit(1);
	}
	size_t per = (after.uordblks - before.uordblks) / N;
	printf("memory: %zu bytes of heap per idle gateway session (%d sessions, "
	       "no packet buffers)\n", per, N);
	printf("session_bytes=%zu\n", per);
	for (int i = 0; i < N; i++)
		jv_client_free(p[i].c);
	jv_gateway_free(g);
}

int main(void)
{
	struct jv_policy pol;

	if (sodium_init() < 0)
		return 1;
	jv_policy_default(&pol);
	bench_aead(&pol);
	bench_handshake(&pol);
	bench_memory(&pol);
	return 0;
}
