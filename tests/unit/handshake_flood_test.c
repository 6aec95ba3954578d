/* SPDX-License-Identifier: MIT */
/*
 * The handshake under a flood (issue 10, D-019): the sans-I/O gateway and
 * two clients in virtual time, and an attacker who knows the gateway's
 * public key (it is in every client config) and so can make mac1.
 *
 * Client A has a session before the flood; client B starts during it.
 * The flood is FLOOD_PER_MS initiations with a valid mac1 every ms from
 * random spoofed addresses (whose cookie replies go nowhere), or from one
 * address the attacker really holds (it reads its cookie replies and puts
 * a valid mac2 on the rest).  One-way delay DELAY_MS, no loss.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jvpn/cookie.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

enum {
	QMAX = 4096, DELAY_MS = 10, T0 = 1000000, FLOOD_PER_MS = 10,
	FLOOD_MS = 5000, DATA_EVERY_MS = 20,
	GW_RATE = 50, GW_BURST = 100,		/* the engine's defaults */
	GW_UNDER_LOAD_HOLD_MS = 1000,
};

#define MAYBE_UNUSED __attribute__((unused))

struct pkt {
	jv_time at;
	int dst;		/* 0, 1: client A, B; 2: gateway */
	struct jv_addr from;	/* to the gateway: the source it sees */
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct flood_lab {
	struct jv_seeded_rng rng[3], arng;
	struct jv_policy pol;
	struct jv_client *c[2];
	struct jv_gateway *g;
	struct jv_addr caddr[2], evil;	/* evil: the attacker's own address */
	uint8_t gw_pub[32], gw_mac1_key[32];
	bool cut[2];			/* client i's datagrams are lost */
	struct pkt q[QMAX];
	unsigned nq;
	jv_time now;
	struct jv_out out;
	/* what reached whom */
	unsigned inner_at_gw, inner_at_a, spoofed_replies;
	/* the attacker at `evil`: its last junk and the cookie it got */
	uint8_t evil_mac1[16];
	uint32_t evil_index;
	uint8_t evil_cookie[JV_COOKIE_SIZE];
	bool evil_has_cookie;
	/* B's datagrams and its last initiation, kept for inspection */
	struct pkt b_init;
	unsigned nb_sent, nb_init;
};

static uint8_t ping[60] = { 0x45, 0, 0, 60 };

static void push(struct flood_lab *l, int dst, const struct jv_addr *from,
		 const uint8_t *buf, uint16_t len)
{
	struct pkt *k;

	assert_true(l->nq < QMAX);
	k = &l->q[l->nq++];
	k->at = l->now + DELAY_MS;
	k->dst = dst;
	if (from)
		k->from = *from;
	k->len = len;
	memcpy(k->buf, buf, len);
}

static void from_client(struct flood_lab *l, int i)
{
	for (unsigned j = 0; j < l->out.ndgram; j++) {
		const struct jv_dgram *d = &l->out.dgram[j];
		if (i == 1) {
			l->nb_sent++;
			if (d->len == JV_WIRE_INITIATION_SIZE) {
				l->nb_init++;
				l->b_init.at = l->now;
				l->b_init.len = d->len;
				memcpy(l->b_init.buf, d->buf, d->len);
			}
		}
		if (!l->cut[i])
			push(l, 2, &l->caddr[i], d->buf, d->len);
	}
	l->inner_at_a += i == 0 ? l->out.ninner : 0;
}

static void evil_got(struct flood_lab *l, const uint8_t *buf, size_t n)
{
	uint8_t key[32];

	jv_cookie_seal_key(l->gw_pub, key);
	if (jv_cookie_reply_open(key, l->evil_index, l->evil_mac1, buf, n,
				 l->evil_cookie, NULL) == 0)
		l->evil_has_cookie = true;
}

static void from_gateway(struct flood_lab *l)
{
	for (unsigned j = 0; j < l->out.ndgram; j++) {
		const struct jv_dgram *d = &l->out.dgram[j];
		if (jv_addr_equal(&d->to, &l->caddr[0])) {
			push(l, 0, NULL, d->buf, d->len);
		} else if (jv_addr_equal(&d->to, &l->caddr[1])) {
			push(l, 1, NULL, d->buf, d->len);
		} else if (jv_addr_equal(&d->to, &l->evil)) {
			evil_got(l, d->buf, d->len);
		} else {
			l->spoofed_replies++;
		}
	}
	l->inner_at_gw += l->out.ninner;
}

static void gw_recv(struct flood_lab *l, const struct jv_addr *from,
		    const uint8_t *buf, size_t n)
{
	jv_out_reset(&l->out);
	(void)jv_gateway_recv(l->g, 0, from, buf, n, l->now, &l->out);
	from_gateway(l);
}

static void client_recv(struct flood_lab *l, int i, const uint8_t *buf,
			size_t n)
{
	jv_out_reset(&l->out);
	(void)jv_client_recv(l->c[i], 0, buf, n, l->now, &l->out);
	from_client(l, i);
}

/* Deliver what is due and run due timers, at l->now. */
static void settle(struct flood_lab *l)
{
	for (unsigned i = 0; i < l->nq;) {
		if (l->q[i].at > l->now) {
			i++;
			continue;
		}
		struct pkt k = l->q[i];
		l->q[i] = l->q[--l->nq];
		if (k.dst == 2)
			gw_recv(l, &k.from, k.buf, k.len);
		else
			client_recv(l, k.dst, k.buf, k.len);
		i = 0;		/* a delivery may queue due packets: rescan */
	}
	for (int i = 0; i < 2; i++)
		if (l->c[i] && jv_client_deadline(l->c[i]) <= l->now) {
			jv_out_reset(&l->out);
			assert_int_equal(jv_client_tick(l->c[i], l->now,
							&l->out), 0);
			from_client(l, i);
		}
	if (jv_gateway_deadline(l->g) <= l->now) {
		int rc;
		do {
			jv_out_reset(&l->out);
			rc = jv_gateway_tick(l->g, l->now, &l->out);
			from_gateway(l);
		} while (rc == 1);
	}
}

static void step_to(struct flood_lab *l, jv_time until)
{
	while (l->now < until) {
		l->now++;
		settle(l);
	}
}

/* A junk INITIATION: random bytes with a valid mac1 (anyone with the
 * gateway's public key can make it), mac2 random or zero. */
static void junk(struct flood_lab *l, uint8_t m[JV_WIRE_INITIATION_SIZE])
{
	struct jv_rng r = jv_seeded_rng(&l->arng);

	jv_rng_fill(&r, m, JV_WIRE_INITIATION_SIZE);
	m[0] = JV_MSG_INITIATION;
	m[1] = m[2] = m[3] = 0;
	crypto_generichash(m + JV_NOISE_INIT_MAC1_AT, 16, m,
			   JV_NOISE_INIT_MAC1_AT, l->gw_mac1_key, 32);
	if (m[4] & 1)
		memset(m + JV_NOISE_INIT_MAC2_AT, 0, 16);
}

static struct jv_addr spoofed(struct flood_lab *l)
{
	struct jv_rng r = jv_seeded_rng(&l->arng);
	uint32_t ip;
	uint16_t port;
	struct jv_addr a;

	jv_rng_fill(&r, &ip, sizeof ip);
	jv_rng_fill(&r, &port, sizeof port);
	/* 100.64/10: never one of the lab's own addresses */
	jv_addr_from_ipv4(&a, 0x64400000 | (ip & 0x003fffff), port);
	return a;
}

/* n junk initiations from random spoofed addresses, now. */
static void flood_spoofed(struct flood_lab *l, unsigned n)
{
	uint8_t m[JV_WIRE_INITIATION_SIZE];

	for (unsigned i = 0; i < n; i++) {
		struct jv_addr from = spoofed(l);
		junk(l, m);
		gw_recv(l, &from, m, sizeof m);
	}
}

/* n junk initiations from the attacker's own address, with the mac2 of
 * its cookie once it has one. */
static void flood_own(struct flood_lab *l, unsigned n)
{
	uint8_t m[JV_WIRE_INITIATION_SIZE];

	for (unsigned i = 0; i < n; i++) {
		junk(l, m);
		if (l->evil_has_cookie)
			jv_cookie_add_mac2(l->evil_cookie, m);
		memcpy(l->evil_mac1, m + JV_NOISE_INIT_MAC1_AT, 16);
		memcpy(&l->evil_index, m + 4, 4);
		gw_recv(l, &l->evil, m, sizeof m);
	}
}

static struct jv_client *client_new(struct flood_lab *l, int i,
				    const uint8_t priv[32])
{
	struct jv_client_config cc = {
		.policy = &l->pol, .node_id = i ? "clB" : "clA",
		.rng = jv_seeded_rng(&l->rng[i]),
	};
	struct jv_client *c;

	memcpy(cc.private_key, priv, 32);
	memcpy(cc.gateway_public, l->gw_pub, 32);
	c = jv_client_new(&cc);
	assert_non_null(c);
	assert_int_equal(jv_client_add_transport(c, "p1", JV_PROTO_UDP, 1), 0);
	return c;
}

static void client_start(struct flood_lab *l, int i)
{
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(l->c[i], l->now, &l->out), 0);
	from_client(l, i);
}

/* Gateway with peers A and B; A attached and exchanging data, B created
 * but not started. */
static struct flood_lab *lab_new(void)
{
	static struct flood_lab L;
	struct flood_lab *l = &L;
	uint8_t apriv[32], bpriv[32], gpriv[32];
	struct jv_noise_keypair ak, bk, gk;

	memset(l, 0, sizeof *l);
	jv_policy_default(&l->pol);
	assert_int_equal(jv_policy_validate(&l->pol, NULL), JV_OK);
	for (int i = 0; i < 3; i++)
		jv_seeded_rng_init(&l->rng[i], 31 + (uint64_t)i);
	jv_seeded_rng_init(&l->arng, 666);
	memset(apriv, 0x11, 32);
	memset(bpriv, 0x33, 32);
	memset(gpriv, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&ak, apriv), 0);
	assert_int_equal(jv_noise_keypair_from_private(&bk, bpriv), 0);
	assert_int_equal(jv_noise_keypair_from_private(&gk, gpriv), 0);
	memcpy(l->gw_pub, gk.pub, 32);
	{
		uint8_t lab[40];
		memcpy(lab, "mac1----", 8);
		memcpy(lab + 8, gk.pub, 32);
		crypto_generichash(l->gw_mac1_key, 32, lab, 40, NULL, 0);
	}

	struct jv_gateway_config gc = {
		.policy = &l->pol, .node_id = "gw1",
		.rng = jv_seeded_rng(&l->rng[2]),
	};
	memcpy(gc.private_key, gpriv, 32);
	l->g = jv_gateway_new(&gc);
	assert_non_null(l->g);
	assert_int_equal(jv_gateway_add_peer(l->g, ak.pub), 0);
	assert_int_equal(jv_gateway_add_peer(l->g, bk.pub), 1);
	l->c[0] = client_new(l, 0, apriv);
	l->c[1] = client_new(l, 1, bpriv);
	jv_addr_from_ipv4(&l->caddr[0], 0x0a000102, 40001);
	jv_addr_from_ipv4(&l->caddr[1], 0x0a000202, 40002);
	jv_addr_from_ipv4(&l->evil, 0xc6336401, 6666);
	l->now = T0;
	client_start(l, 0);
	step_to(l, T0 + 200);
	assert_int_equal(jv_client_state(l->c[0]), JV_STATE_ATTACHED);
	return l;
}

static void lab_free(struct flood_lab *l)
{
	jv_client_free(l->c[0]);
	jv_client_free(l->c[1]);
	jv_gateway_free(l->g);
}

static struct jv_gateway_counters counters(const struct flood_lab *l)
{
	struct jv_gateway_counters c;

	jv_gateway_counters(l->g, &c);
	return c;
}

/* A's traffic both ways, one packet each way. */
static void exchange(struct flood_lab *l)
{
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_send(l->c[0], ping, sizeof ping, l->now,
					&l->out), 0);
	from_client(l, 0);
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_send(l->g, 0, ping, sizeof ping, l->now,
					 &l->out), 0);
	from_gateway(l);
}

/* Junk until the gateway is under load (its bucket below half). */
static void load(struct flood_lab *l)
{
	for (unsigned i = 0; i < 4 * GW_BURST && !counters(l).hs_under_load;
	     i++)
		flood_spoofed(l, 1);
	assert_true(counters(l).hs_under_load);
}

/* ---- the flood -------------------------------------------------------- */

/*
 * Issue 10 item 2: 10 000 initiations/s with a valid mac1 from spoofed
 * addresses for 5 s.  B, starting at b_at ms into the flood, attaches
 * within 2 s; A's session passes every packet both ways and never
 * rehandshakes; the DHs the flood gets stay within the global bucket.
 */
static void flood_run(jv_time b_at)
{
	struct flood_lab *l = lab_new();
	const jv_time start = l->now;
	struct jv_session_status a0, a1;
	jv_time b_attached = JV_TIME_NEVER;
	unsigned sent = 0;

	jv_client_status(l->c[0], &a0);
	while (l->now < start + FLOOD_MS) {
		if (l->now == start + b_at)
			client_start(l, 1);
		flood_spoofed(l, FLOOD_PER_MS);
		if ((l->now - start) % DATA_EVERY_MS == 0) {
			exchange(l);
			sent++;
		}
		if (b_attached == JV_TIME_NEVER && l->now > start + b_at &&
		    jv_client_state(l->c[1]) == JV_STATE_ATTACHED)
			b_attached = l->now;
		step_to(l, l->now + 1);
	}
	struct jv_gateway_counters gc = counters(l);
	step_to(l, l->now + 3 * DELAY_MS);

	if (getenv("JV_TEST_TRACE"))
		fprintf(stderr, "B at +%llu ms: attached after %llu ms; dh %llu "
			"cookies %llu dropped %llu/%llu/%llu (other/source/"
			"global); A %u/%u packets\n",
			(unsigned long long)b_at,
			(unsigned long long)(b_attached - start - b_at),
			(unsigned long long)gc.hs_dh,
			(unsigned long long)gc.hs_cookie_sent,
			(unsigned long long)gc.hs_dropped,
			(unsigned long long)gc.hs_dropped_source,
			(unsigned long long)gc.hs_dropped_global,
			l->inner_at_gw, sent);
	/* (a) B attached within 2 s of starting */
	assert_true(b_attached != JV_TIME_NEVER);
	assert_true(b_attached - (start + b_at) <= 2000);
	assert_int_equal(jv_client_state(l->c[1]), JV_STATE_ATTACHED);
	/* (b) A kept its session and every packet, both ways */
	jv_client_status(l->c[0], &a1);
	assert_string_equal(a0.session_id, a1.session_id);
	assert_int_equal(jv_client_state(l->c[0]), JV_STATE_ATTACHED);
	assert_int_equal(l->inner_at_gw, sent);
	assert_int_equal(l->inner_at_a, sent);
	/* the junk got cookies, not DHs: at most the bucket's burst and
	 * rate over the flood (B's handshake included) */
	assert_true(gc.hs_cookie_sent > FLOOD_PER_MS * FLOOD_MS * 9 / 10);
	assert_true(gc.hs_dh <= GW_BURST + GW_RATE * FLOOD_MS / 1000 + 1);
	assert_true(l->spoofed_replies >= gc.hs_cookie_sent - 2);
	/* spoofers never reach the per-source limiter */
	assert_int_equal(gc.hs_dropped_source, 0);
	lab_free(l);
}

static void flood_client_starts_at_once(void **st)
{
	(void)st;
	flood_run(0);
}

static void flood_client_starts_under_load(void **st)
{
	(void)st;
	flood_run(700);
}

static void flood_client_starts_late(void **st)
{
	(void)st;
	flood_run(2900);
}

/*
 * An attacker at an address it really holds gets cookies and so a valid
 * mac2: it is then held to its own bucket (GW_SOURCE_HS_*), and the global
 * one is left for B.
 */
static void proven_flooder_held_to_its_source(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();
	const jv_time start = l->now;
	jv_time b_at = start + 1500, b_attached = JV_TIME_NEVER;

	while (l->now < start + FLOOD_MS) {
		if (l->now == b_at)
			client_start(l, 1);
		flood_own(l, FLOOD_PER_MS);
		if (b_attached == JV_TIME_NEVER && l->now > b_at &&
		    jv_client_state(l->c[1]) == JV_STATE_ATTACHED)
			b_attached = l->now;
		step_to(l, l->now + 1);
	}
	struct jv_gateway_counters gc = counters(l);
	assert_true(l->evil_has_cookie);
	assert_true(gc.hs_dropped_source > FLOOD_PER_MS * FLOOD_MS / 2);
	assert_true(b_attached != JV_TIME_NEVER && b_attached - b_at <= 2000);
	lab_free(l);
}

/* ---- single messages --------------------------------------------------- */

/* B's pending initiation, as it left B (last one sent). */
static const struct pkt *b_last_initiation(const struct flood_lab *l)
{
	assert_true(l->nb_init > 0);
	return &l->b_init;
}

static bool has_mac2(const struct pkt *k)
{
	static const uint8_t zero[16];
	return memcmp(k->buf + JV_NOISE_INIT_MAC2_AT, zero, 16) != 0;
}

/* A cookie reply for B's pending initiation made by whoever holds
 * `seal_pub`'s cookie key (an observer of the initiation), for `from`. */
static void forge_reply(const struct pkt *init, const uint8_t seal_pub[32],
			const struct jv_addr *from, jv_time now,
			uint8_t out[JV_WIRE_COOKIE_REPLY_SIZE])
{
	struct jv_cookie_checker ck;
	struct jv_seeded_rng s;
	struct jv_rng r;

	jv_seeded_rng_init(&s, now);
	r = jv_seeded_rng(&s);
	jv_cookie_checker_init(&ck, seal_pub);
	assert_int_equal(jv_cookie_reply_create(&ck, init->buf, init->len,
						from, now, &r, out), 64);
}

/*
 * Spoofed cookie replies to a client in BIRTH: random bytes, a reply
 * sealed without the initiation's mac1 (an off-path attacker does not
 * know it), one sealed for another gateway.  None is taken: no resend, the
 * retry timer unchanged, no mac2 on the next initiation.
 */
static void spoofed_cookie_reply_changes_nothing(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();
	uint8_t r[JV_WIRE_COOKIE_REPLY_SIZE], other_pub[32];
	struct jv_rng rng = jv_seeded_rng(&l->arng);

	l->cut[1] = true;		/* B's initiations go nowhere */
	client_start(l, 1);
	const struct pkt init = *b_last_initiation(l);
	jv_time deadline = jv_client_deadline(l->c[1]);
	unsigned sent = l->nb_sent;

	/* random, with the right type, length and index */
	for (int i = 0; i < 64; i++) {
		jv_rng_fill(&rng, r, sizeof r);
		r[0] = JV_MSG_COOKIE_REPLY;
		r[1] = r[2] = r[3] = 0;
		memcpy(r + 4, init.buf + 4, 4);
		client_recv(l, 1, r, sizeof r);
	}
	/* the right key and index, the wrong AD */
	struct pkt blind = init;
	memset(blind.buf + JV_NOISE_INIT_MAC1_AT, 0, 16);
	forge_reply(&blind, l->gw_pub, &l->caddr[1], l->now, r);
	client_recv(l, 1, r, sizeof r);
	/* sealed for another gateway */
	memset(other_pub, 0x77, sizeof other_pub);
	forge_reply(&init, other_pub, &l->caddr[1], l->now, r);
	client_recv(l, 1, r, sizeof r);

	assert_int_equal(l->nb_sent, sent);
	assert_int_equal(jv_client_deadline(l->c[1]), deadline);
	assert_int_equal(jv_client_state(l->c[1]), JV_STATE_BIRTH);
	step_to(l, deadline);
	assert_true(l->nb_sent > sent);
	assert_false(has_mac2(b_last_initiation(l)));

	/* the genuine reply (an observer could make it too) is taken:
	 * one resend at once, with mac2 */
	const struct pkt now_init = *b_last_initiation(l);
	sent = l->nb_sent;
	deadline = jv_client_deadline(l->c[1]);
	forge_reply(&now_init, l->gw_pub, &l->caddr[1], l->now, r);
	client_recv(l, 1, r, sizeof r);
	assert_int_equal(l->nb_sent, sent + 1);
	assert_true(has_mac2(b_last_initiation(l)));
	assert_int_equal(jv_client_deadline(l->c[1]), deadline);
	assert_int_equal(jv_client_state(l->c[1]), JV_STATE_BIRTH);

	/* the cookie is used until JV_COOKIE_CLIENT_MARGIN_MS before the
	 * gateway may have replaced R, then no more */
	const jv_time got = l->now, until = got + JV_COOKIE_SECRET_MS -
					  JV_COOKIE_CLIENT_MARGIN_MS;
	unsigned inits = l->nb_init;
	step_to(l, until - 1);
	assert_true(l->nb_init > inits + 5);
	assert_true(has_mac2(b_last_initiation(l)));
	inits = l->nb_init;
	step_to(l, until + 2 * 8000);	/* 2 x the retry backoff cap */
	assert_true(l->nb_init > inits);
	assert_false(has_mac2(b_last_initiation(l)));
	lab_free(l);
}

/* A genuine reply on another path than the initiation's is not taken:
 * the cookie names the address the gateway saw on that path. */
static void cookie_reply_on_another_path_ignored(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();
	uint8_t r[JV_WIRE_COOKIE_REPLY_SIZE];

	assert_int_equal(jv_client_add_transport(l->c[1], "p2", JV_PROTO_UDP,
						 2), 1);
	l->cut[1] = true;
	client_start(l, 1);		/* on p1, the preferred path */
	const struct pkt init = *b_last_initiation(l);
	unsigned sent = l->nb_sent;
	forge_reply(&init, l->gw_pub, &l->caddr[1], l->now, r);
	jv_out_reset(&l->out);
	(void)jv_client_recv(l->c[1], 1, r, sizeof r, l->now, &l->out);
	from_client(l, 1);
	assert_int_equal(l->nb_sent, sent);
	client_recv(l, 1, r, sizeof r);	/* on p1 */
	assert_int_equal(l->nb_sent, sent + 1);
	lab_free(l);
}

/*
 * The lockout vector: a spoofer floods with B's own address as source.
 * Its initiations fail mac2 (it never sees the cookie sent to B), so it is
 * never charged to B's per-source bucket; the cookie replies it makes
 * the gateway send to B fit none of B's initiations.  B attaches.
 */
static void spoofer_using_a_clients_address_cannot_lock_it_out(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();
	const jv_time start = l->now, b_at = start + 1200;
	uint8_t m[JV_WIRE_INITIATION_SIZE];
	jv_time b_attached = JV_TIME_NEVER;

	while (l->now < start + 3500) {
		if (l->now == b_at)
			client_start(l, 1);
		for (int i = 0; i < FLOOD_PER_MS; i++) {
			junk(l, m);
			gw_recv(l, &l->caddr[1], m, sizeof m);
		}
		if (b_attached == JV_TIME_NEVER && l->now > b_at &&
		    jv_client_state(l->c[1]) == JV_STATE_ATTACHED)
			b_attached = l->now;
		step_to(l, l->now + 1);
	}
	assert_true(b_attached != JV_TIME_NEVER && b_attached - b_at <= 2000);
	/* B sent its initiation and one resend with mac2, nothing more for
	 * the thousands of cookie replies it was sent */
	assert_int_equal(l->nb_init, 2);
	assert_true(counters(l).hs_cookie_sent > 10000);
	assert_int_equal(counters(l).hs_dropped_source, 0);
	lab_free(l);
}

/*
 * A genuine cookie reply delivered twice: the first makes one resend with
 * mac2; the copy fits no initiation any more (the resend has a new index
 * and mac1) and does nothing.  A second genuine reply within
 * JV_COOKIE_RESEND_MIN_MS stores its cookie but sends nothing.
 */
static void replayed_cookie_reply_one_resend(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();
	uint8_t r[JV_WIRE_COOKIE_REPLY_SIZE];

	load(l);
	l->cut[1] = true;
	client_start(l, 1);
	const struct pkt first = *b_last_initiation(l);
	assert_false(has_mac2(&first));
	/* what the gateway answers B's initiation with */
	gw_recv(l, &l->caddr[1], first.buf, first.len);
	assert_int_equal(l->out.ndgram, 1);
	assert_int_equal(l->out.dgram[0].len, JV_WIRE_COOKIE_REPLY_SIZE);
	memcpy(r, l->out.dgram[0].buf, sizeof r);
	l->nq = 0;			/* and it is not delivered by the lab */

	unsigned sent = l->nb_sent;
	client_recv(l, 1, r, sizeof r);
	assert_int_equal(l->nb_sent, sent + 1);
	const struct pkt second = *b_last_initiation(l);
	assert_true(has_mac2(&second));
	assert_memory_not_equal(second.buf + 4, first.buf + 4, 4);
	client_recv(l, 1, r, sizeof r);		/* the replay */
	assert_int_equal(l->nb_sent, sent + 1);

	/* the resend passes the gateway's mac2 check: a DH, no cookie */
	struct jv_gateway_counters before = counters(l);
	gw_recv(l, &l->caddr[1], second.buf, second.len);
	assert_int_equal(counters(l).hs_dh, before.hs_dh + 1);
	assert_int_equal(counters(l).hs_cookie_sent, before.hs_cookie_sent);

	/* another genuine reply, too soon: stored, nothing sent */
	l->now += JV_COOKIE_RESEND_MIN_MS / 2;
	forge_reply(&second, l->gw_pub, &l->caddr[1], l->now, r);
	client_recv(l, 1, r, sizeof r);
	assert_int_equal(l->nb_sent, sent + 1);
	l->now += JV_COOKIE_RESEND_MIN_MS;
	client_recv(l, 1, r, sizeof r);
	assert_int_equal(l->nb_sent, sent + 2);
	lab_free(l);
}

/*
 * Under load: a cookie names one address.  B's initiation with a valid
 * mac2 for B's address, replayed by an attacker from another address,
 * gets a cookie reply (to that address) and no DH; an initiation with a
 * wrong mac2 likewise.
 */
static void cookie_for_another_address_refused(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();
	struct jv_addr other;

	load(l);
	client_start(l, 1);
	step_to(l, l->now + 4 * DELAY_MS);
	/* B got its cookie, resent with mac2, and attached */
	assert_int_equal(jv_client_state(l->c[1]), JV_STATE_ATTACHED);
	const struct pkt proven = *b_last_initiation(l);
	assert_true(has_mac2(&proven));

	jv_addr_from_ipv4(&other, 0x0a000203, 40002);	/* another IP */
	struct jv_gateway_counters before = counters(l);
	gw_recv(l, &other, proven.buf, proven.len);
	assert_int_equal(l->out.ndgram, 1);
	assert_true(jv_addr_equal(&l->out.dgram[0].to, &other));
	assert_int_equal(l->out.dgram[0].len, JV_WIRE_COOKIE_REPLY_SIZE);
	jv_addr_from_ipv4(&other, 0x0a000202, 40003);	/* another port */
	gw_recv(l, &other, proven.buf, proven.len);
	assert_int_equal(l->out.dgram[0].len, JV_WIRE_COOKIE_REPLY_SIZE);
	assert_int_equal(counters(l).hs_dh, before.hs_dh);
	assert_int_equal(counters(l).hs_cookie_sent,
			 before.hs_cookie_sent + 2);

	/* a wrong mac2 from B's own address: a cookie again, no DH */
	struct pkt wrong = proven;
	wrong.buf[JV_NOISE_INIT_MAC2_AT] ^= 1;
	gw_recv(l, &l->caddr[1], wrong.buf, wrong.len);
	assert_int_equal(l->out.dgram[0].len, JV_WIRE_COOKIE_REPLY_SIZE);
	assert_int_equal(counters(l).hs_dh, before.hs_dh);
	/* the genuine one from B's address gets its DH (then the replay
	 * check of Noise refuses it: no second session) */
	gw_recv(l, &l->caddr[1], proven.buf, proven.len);
	assert_int_equal(counters(l).hs_dh, before.hs_dh + 1);
	lab_free(l);
}

/* Not under load, nothing changes: no cookie, mac2 zeros accepted, the
 * global bucket alone rations DHs. */
static void no_cookie_without_load(void **st)
{
	(void)st;
	struct flood_lab *l = lab_new();

	client_start(l, 1);
	step_to(l, l->now + 4 * DELAY_MS);
	assert_int_equal(jv_client_state(l->c[1]), JV_STATE_ATTACHED);
	assert_false(has_mac2(b_last_initiation(l)));
	struct jv_gateway_counters gc = counters(l);
	assert_int_equal(gc.hs_cookie_sent, 0);
	assert_int_equal(gc.hs_dh, 2);
	assert_false(gc.hs_under_load);
	/* junk: DHs and no cookies until the bucket is below half; the
	 * first initiation that finds it so gets a cookie */
	unsigned n = 0;
	while (!counters(l).hs_under_load) {
		assert_int_equal(counters(l).hs_cookie_sent, 0);
		flood_spoofed(l, 1);
		n++;
	}
	assert_true(n >= GW_BURST / 2 - 2 && n <= GW_BURST / 2 + 2);
	assert_int_equal(counters(l).hs_cookie_sent, 1);
	assert_int_equal(counters(l).hs_dh, 2 + n - 1);
	/* load holds for GW_UNDER_LOAD_HOLD_MS after the bucket last was
	 * below half (here it is back above half after 500 ms), then ends */
	l->now += GW_UNDER_LOAD_HOLD_MS / 2;
	flood_spoofed(l, 1);
	assert_true(counters(l).hs_under_load);
	assert_int_equal(counters(l).hs_cookie_sent, 2);
	l->now += 5000;
	flood_spoofed(l, 1);
	assert_false(counters(l).hs_under_load);
	assert_int_equal(counters(l).hs_cookie_sent, 2);
	lab_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flood_client_starts_at_once),
		cmocka_unit_test(flood_client_starts_under_load),
		cmocka_unit_test(flood_client_starts_late),
		cmocka_unit_test(proven_flooder_held_to_its_source),
		cmocka_unit_test(spoofed_cookie_reply_changes_nothing),
		cmocka_unit_test(cookie_reply_on_another_path_ignored),
		cmocka_unit_test(spoofer_using_a_clients_address_cannot_lock_it_out),
		cmocka_unit_test(replayed_cookie_reply_one_resend),
		cmocka_unit_test(cookie_for_another_address_refused),
		cmocka_unit_test(no_cookie_without_load),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("handshake_flood", tests, NULL,
					   NULL);
}
