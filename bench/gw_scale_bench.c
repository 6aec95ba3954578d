/* SPDX-License-Identifier: MIT */
/*
 * gw_scale_bench: does the gateway engine's cost per packet and per timer
 * event stay flat from 1 to 10 000 sessions (issue 12, spec §11)?
 *
 * For N sessions: one gateway with N peers, N client engines that each
 * complete a handshake and confirm it in-process, then seal their data
 * packets ahead of time and are freed (their cost is not the gateway's).
 * The timed loop is what the daemon does with a receive batch: every
 * BATCH packets (-b) the clock moves on one millisecond, the datagrams go
 * through jv_gateway_recv round-robin over the sessions, and then the
 * daemon's loop asks jv_gateway_deadline and calls jv_gateway_tick when it
 * is due (daemon.c before_wait / on_deadline).
 *
 * Output: name=value lines.  engine_per_packet_ns_N is the mean over the
 * timed loop (recv + deadline + tick); engine_tick_ns_N is one
 * jv_gateway_tick + jv_gateway_deadline with nothing due, the cost every
 * loop pass pays whatever it woke for.
 *
 * Usage: gw_scale_bench [-b PACKETS_PER_MS] [N...]   (default: 32; 1 10000)
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"

enum {
	PACKETS = 200000,	/* timed datagrams per run */
	BATCH = 32,		/* datagrams per loop pass (one millisecond) */
	INNER = 128,		/* inner packet bytes: small, so the engine's
				 * own work is not hidden behind the AEAD */
	TICKS = 20000,		/* idle tick + deadline calls timed */
	T0 = 1000000,
};

struct sealed {
	uint16_t len;
	uint8_t buf[INNER + 64];
};

static double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void key_of(unsigned i, uint8_t priv[32], uint8_t pub[32])
{
	struct jv_noise_keypair kp;

	memset(priv, 0, 32);
	priv[2] = 0x5a;		/* byte 0's low bits are clamped away */
	priv[8] = (uint8_t)i;
	priv[9] = (uint8_t)(i >> 8);
	priv[10] = (uint8_t)(i >> 16);
	if (jv_noise_keypair_from_private(&kp, priv) != 0)
		abort();
	memcpy(pub, kp.pub, 32);
}

static struct jv_out out_c, out_g, out_t;

static void die(const char *what, unsigned i)
{
	fprintf(stderr, "gw_scale_bench: %s (session %u)\n", what, i);
	exit(1);
}

static unsigned batch = BATCH;

static void run(unsigned n)
{
	struct jv_policy pol;
	struct jv_seeded_rng gr, cr;
	struct jv_gateway_config gc = { 0 };
	uint8_t gpub[32], ip[INNER];
	unsigned per = (PACKETS + n - 1) / n, total = per * n;
	struct sealed *pk = calloc(total, sizeof *pk);
	struct jv_addr *from = calloc(n, sizeof *from);
	jv_time now = T0;

	if (!pk || !from)
		die("out of memory", 0);
	jv_policy_default(&pol);
	jv_seeded_rng_init(&gr, 7);
	gc.policy = &pol;
	gc.node_id = "bench-gw";
	gc.rng = jv_seeded_rng(&gr);
	gc.max_sessions = n + 16;
	gc.handshakes_per_sec = 100000000;
	gc.handshake_burst = 100000000;
	key_of(0xffffff, gc.private_key, gpub);
	struct jv_gateway *g = jv_gateway_new(&gc);
	if (!g)
		die("jv_gateway_new", 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t priv[32], pub[32];
		key_of(i, priv, pub);
		if (jv_gateway_add_peer(g, pub) != (int)i)
			die("jv_gateway_add_peer", i);
	}
	memset(ip, 0xab, sizeof ip);
	ip[0] = 0x45;

	/* Sessions up, one client at a time; each seals its packets and goes. */
	for (unsigned i = 0; i < n; i++) {
		struct jv_client_config cc = {
			.policy = &pol, .node_id = "c",
		};
		uint8_t pub[32];
		struct jv_client *c;

		jv_seeded_rng_init(&cr, 1000 + (uint64_t)i);
		cc.rng = jv_seeded_rng(&cr);
		key_of(i, cc.private_key, pub);
		memcpy(cc.gateway_public, gpub, 32);
		c = jv_client_new(&cc);
		if (!c || jv_client_add_transport(c, "p1", JV_PROTO_UDP, 1) != 0)
			die("jv_client_new", i);
		jv_addr_from_ipv4(&from[i], 0x0a800000 + i, 40000);
		jv_out_reset(&out_c);
		if (jv_client_start(c, now, &out_c) != 0)
			die("jv_client_start", i);
		jv_out_reset(&out_g);
		for (unsigned k = 0; k < out_c.ndgram; k++)
			(void)jv_gateway_recv(g, 0, &from[i], out_c.dgram[k].buf,
					      out_c.dgram[k].len, now, &out_g);
		jv_out_reset(&out_c);
		for (unsigned k = 0; k < out_g.ndgram; k++)
			(void)jv_client_recv(c, 0, out_g.dgram[k].buf,
					     out_g.dgram[k].len, now, &out_c);
		jv_out_reset(&out_g);
		for (unsigned k = 0; k < out_c.ndgram; k++)	/* confirms */
			(void)jv_gateway_recv(g, 0, &from[i], out_c.dgram[k].buf,
					      out_c.dgram[k].len, now, &out_g);
		if (jv_client_state(c) != JV_STATE_ATTACHED)
			die("handshake did not complete", i);
		for (unsigned r = 0; r < per; r++) {
			struct sealed *s = &pk[(size_t)r * n + i];

			jv_out_reset(&out_c);
			if (jv_client_send(c, ip, sizeof ip, now, &out_c) != 0 ||
			    out_c.ndgram != 1 ||
			    out_c.dgram[0].len > sizeof s->buf)
				die("jv_client_send", i);
			s->len = out_c.dgram[0].len;
			memcpy(s->buf, out_c.dgram[0].buf, s->len);
		}
		jv_client_free(c);
	}
	/* Settle what the handshakes left due before timing. */
	now += 1;
	jv_out_reset(&out_t);
	while (jv_gateway_tick(g, now, &out_t) == 1)
		jv_out_reset(&out_t);

	unsigned delivered = 0, ticks = 0;
	double t = secs();
	for (unsigned k = 0; k < total; k++) {
		const struct sealed *s = &pk[k];

		if (k % batch == 0) {
			now++;
			/* the loop's pass: ask, and tick when due */
			if (jv_gateway_deadline(g) <= now) {
				ticks++;
				jv_out_reset(&out_t);
				while (jv_gateway_tick(g, now, &out_t) == 1)
					jv_out_reset(&out_t);
			}
		}
		if (out_g.ninner >= JV_OUT_INNER || out_g.ndgram >= JV_OUT_DGRAMS)
			jv_out_reset(&out_g);
		unsigned before = out_g.ninner;
		(void)jv_gateway_recv(g, 0, &from[k % n], s->buf, s->len, now,
				      &out_g);
		delivered += out_g.ninner - before;
	}
	double el = secs() - t;
	if (delivered != total) {
		fprintf(stderr, "gw_scale_bench: %u sessions: delivered %u of %u\n",
			n, delivered, total);
		exit(1);
	}

	/* A loop pass that woke for something else: nothing is due. */
	double t2 = secs();
	jv_time sink = 0;
	for (unsigned k = 0; k < TICKS; k++) {
		jv_out_reset(&out_t);
		sink ^= (jv_time)jv_gateway_tick(g, now, &out_t);
		sink ^= jv_gateway_deadline(g);
	}
	double el2 = secs() - t2;

	printf("%u sessions: %u datagrams in %.3f s (%u ticks), "
	       "%.0f ns each; idle tick+deadline %.0f ns%s\n",
	       n, total, el, ticks, el / total * 1e9, el2 / TICKS * 1e9,
	       sink == 1 ? " " : "");
	printf("engine_per_packet_ns_%u=%.0f\n", n, el / total * 1e9);
	printf("engine_tick_ns_%u=%.0f\n", n, el2 / TICKS * 1e9);
	fflush(stdout);
	jv_gateway_free(g);
	free(pk);
	free(from);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-b") == 0) {
		char *end;
		unsigned long b = strtoul(argv[2], &end, 10);

		if (*end || b == 0 || b > 1000000) {
			fprintf(stderr, "gw_scale_bench: -b %s: want datagrams "
				"per millisecond, 1..1000000\n", argv[2]);
			return 2;
		}
		batch = (unsigned)b;
		i = 3;
	}
	if (i == argc) {
		run(1);
		run(10000);
		return 0;
	}
	for (; i < argc; i++) {
		char *end;
		unsigned long n = strtoul(argv[i], &end, 10);

		if (*end || n == 0 || n > 1000000) {
			fprintf(stderr, "gw_scale_bench: %s: want a session count "
				"1..1000000\n", argv[i]);
			return 2;
		}
		run((unsigned)n);
	}
	return 0;
}
