/* SPDX-License-Identifier: MIT */
/*
 * Identity and silent failures (issue 11), on the engine lab (lab.h):
 *
 *   - SessionCreated names the other side's key and address;
 *   - a second client with the same key (another address) replaces the
 *     live session: it ends session_replaced on the gateway, and the old
 *     client is told and ends with the same reason;
 *   - an attacker without the key cannot do that with a copy of the
 *     client's initiation (the Noise timestamp refuses it);
 *   - what a wrong key on either side costs the gateway is counted
 *     (hs_bad_mac1, hs_unknown_key, with the last source and key), and a
 *     client counts its unanswered initiations.
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

#include "jvpn/eventlog.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

#include "lab.h"

enum { DEPTH_MAX = 8 };

/* A second client process, outside the lab's network: what it sends goes
 * straight to the gateway from `addr`, what the gateway sends to `addr`
 * straight back to it; everything else the gateway sends goes on the
 * lab's network (to the lab's client). */
struct other {
	struct jv_seeded_rng rng;
	struct jv_client *c;
	struct jv_addr addr;
	struct side ev;
	unsigned initiations;
};

static struct other O;
static struct jv_out outs[DEPTH_MAX];

static void key_b64(const uint8_t k[32], char out[JV_KEY_B64_MAX])
{
	sodium_bin2base64(out, JV_KEY_B64_MAX, k, 32,
			  sodium_base64_VARIANT_ORIGINAL);
}

/* The lab's keys: client 0x11..., gateway 0x22... (lab_new). */
static void lab_pub(uint8_t fill, uint8_t pub[32])
{
	struct jv_noise_keypair kp;
	uint8_t priv[32];

	memset(priv, fill, 32);
	assert_int_equal(jv_noise_keypair_from_private(&kp, priv), 0);
	memcpy(pub, kp.pub, 32);
}

/* A client of key `fill` that believes the gateway's key is that of
 * `gw_fill`, at 10.0.3.2:40003, one transport "q1". */
static struct other *other_new(struct lab *l, uint8_t fill, uint8_t gw_fill)
{
	struct other *o = &O;
	uint8_t gpub[32];

	memset(o, 0, sizeof *o);
	jv_seeded_rng_init(&o->rng, 33);
	lab_pub(gw_fill, gpub);
	struct jv_client_config cc = {
		.policy = &l->pol, .node_id = "cl2",
		.rng = jv_seeded_rng(&o->rng), .on_event = record, .ud = &o->ev,
	};
	memset(cc.private_key, fill, 32);
	memcpy(cc.gateway_public, gpub, 32);
	o->c = jv_client_new(&cc);
	assert_non_null(o->c);
	assert_int_equal(jv_client_add_transport(o->c, "q1", JV_PROTO_UDP, 1), 0);
	jv_addr_from_ipv4(&o->addr, 0x0a000302, 40003);
	return o;
}

static void to_gateway(struct lab *l, struct other *o,
		       const struct jv_out *from, int depth);

/* What the gateway answered (in outs[depth]): ours to us, the rest on
 * the lab's network. */
static void from_gateway(struct lab *l, struct other *o, int depth)
{
	struct jv_out *g = &outs[depth];

	assert_true(depth + 1 < DEPTH_MAX);
	for (unsigned i = 0; i < g->ndgram; i++) {
		const struct jv_dgram *d = &g->dgram[i];
		struct jv_out *back = &outs[depth + 1];

		if (!jv_addr_equal(&d->to, &o->addr))
			continue;
		jv_out_reset(back);
		(void)jv_client_recv(o->c, 0, d->buf, d->len, l->now, back);
		to_gateway(l, o, back, depth + 1);
	}
	enqueue(l, g, false);	/* drops what is not for the lab's client */
}

static void to_gateway(struct lab *l, struct other *o,
		       const struct jv_out *from, int depth)
{
	for (unsigned i = 0; i < from->ndgram; i++) {
		const struct jv_dgram *d = &from->dgram[i];

		if (d->buf[0] == JV_MSG_INITIATION)
			o->initiations++;
		jv_out_reset(&outs[depth]);
		(void)jv_gateway_recv(l->g, 0, &o->addr, d->buf, d->len, l->now,
				      &outs[depth]);
		from_gateway(l, o, depth);
	}
}

static void other_start(struct lab *l, struct other *o)
{
	struct jv_out *first = &outs[DEPTH_MAX - 1];

	jv_out_reset(first);
	assert_int_equal(jv_client_start(o->c, l->now, first), 0);
	to_gateway(l, o, first, 0);
}

static unsigned index_of(const struct side *s, enum jv_event_type t,
			 unsigned nth)
{
	unsigned k = nth;

	for (unsigned i = 0; i < s->nev; i++)
		if (s->ev[i].type == t && k-- == 0)
			return i;
	fail_msg("no %s number %u", jv_event_type_name(t), nth);
	return 0;
}

static struct lab *attached(void)
{
	struct jv_policy pol;
	struct lab *l;

	jv_policy_default(&pol);
	l = lab_new(&pol);
	run(l, T0 + 200);
	assert_false(l->spun);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	return l;
}

/* ---- tests ------------------------------------------------------------ */

static void created_names_peer_and_address(void **st)
{
	struct lab *l;
	const struct rec *g, *c;
	uint8_t pub[32];
	char want[JV_KEY_B64_MAX];

	(void)st;
	l = attached();
	g = &l->gs.ev[index_of(&l->gs, JV_EV_SESSION_CREATED, 0)];
	lab_pub(0x11, pub);
	key_b64(pub, want);
	assert_string_equal(g->peer_key, want);
	assert_string_equal(g->remote, "10.0.1.2:40001");

	/* the client names the gateway; its address only if it was told
	 * the endpoint (jv_client_set_remote: the lab does not) */
	c = &l->cs.ev[index_of(&l->cs, JV_EV_SESSION_CREATED, 0)];
	lab_pub(0x22, pub);
	key_b64(pub, want);
	assert_string_equal(c->peer_key, want);
	assert_string_equal(c->remote, "");
	assert_int_equal(l->gs.bad + l->cs.bad, 0);
	lab_free(l);
}

static void client_names_endpoint_when_told(void **st)
{
	struct jv_policy pol;
	struct lab *l;
	struct other *o;
	struct jv_addr gw;
	const struct rec *c;

	(void)st;
	jv_policy_default(&pol);
	l = lab_new(&pol);
	o = other_new(l, 0x11, 0x22);
	jv_addr_from_ipv4(&gw, 0xc6120101, 51820);	/* 198.18.1.1 */
	assert_int_equal(jv_client_set_remote(o->c, 0, &gw), 0);
	other_start(l, o);
	assert_int_equal(jv_client_state(o->c), JV_STATE_ATTACHED);
	c = &o->ev.ev[index_of(&o->ev, JV_EV_SESSION_CREATED, 0)];
	assert_string_equal(c->remote, "198.18.1.1:51820");
	/* the gateway saw this one from its own address (the lab's
	 * client has not run) */
	assert_string_equal(l->gs.ev[index_of(&l->gs, JV_EV_SESSION_CREATED,
					      0)].remote, "10.0.3.2:40003");
	jv_client_free(o->c);
	lab_free(l);
}

/*
 * Client A attached; A' (same key, another address) handshakes.  Once A'
 * is confirmed, A's session ends session_replaced on the gateway (the
 * gateway's own decision: no details.origin), A is told under its own
 * keys and ends with the same reason (origin "peer"), and A' carries the
 * peer's traffic.
 */
static void newer_handshake_replaces_and_tells(void **st)
{
	struct lab *l;
	struct other *o;
	struct jv_session_status ast, gst, ost;
	const struct rec *r;
	unsigned i;

	(void)st;
	l = attached();
	run(l, T0 + 1000);
	jv_client_status(l->c, &ast);
	o = other_new(l, 0x11, 0x22);
	other_start(l, o);
	assert_int_equal(jv_client_state(o->c), JV_STATE_ATTACHED);
	jv_client_status(o->c, &ost);
	assert_string_not_equal(ost.session_id, ast.session_id);

	/* the gateway: A's session ended, by its own decision */
	assert_int_equal(count_reason(&l->gs, JV_EV_SESSION_TERMINATED,
				      JV_REASON_SESSION_REPLACED), 1);
	r = &l->gs.ev[index_of(&l->gs, JV_EV_SESSION_TERMINATED, 0)];
	assert_string_equal(r->session, ast.session_id);
	assert_false(r->peer_origin);
	assert_int_equal(count_reason(&l->gs, JV_EV_SESSION_TERMINATED,
				      JV_REASON_OPERATOR_TERMINATED), 0);
	/* ... and A' is the peer's session now */
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_string_equal(gst.session_id, ost.session_id);
	assert_int_equal(gst.state, JV_STATE_ATTACHED);

	/* A is told on its binding and ends with the same reason */
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	run(l, l->now + 3 * DELAY_MS);
	assert_false(l->spun);
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	i = index_of(&l->cs, JV_EV_SESSION_TERMINATED, 0);
	assert_int_equal(l->cs.ev[i].reason, JV_REASON_SESSION_REPLACED);
	assert_true(l->cs.ev[i].peer_origin);
	assert_string_equal(l->cs.ev[i].session, ast.session_id);
	/* well within the heartbeat silence: it was told, not timed out */
	assert_true(l->cs.ev[i].ts <= l->now);
	assert_true(l->cs.ev[i].ts < T0 + 1000 + l->pol.heartbeat_volatile_ms);

	/* the peer's traffic goes to A' */
	static const uint8_t ping[60] = { 0x45, 0, 0, 60 };
	jv_out_reset(&outs[0]);
	assert_int_equal(jv_gateway_send(l->g, 0, ping, sizeof ping, l->now,
					 &outs[0]), 0);
	assert_int_equal(outs[0].ndgram, 1);
	assert_true(jv_addr_equal(&outs[0].dgram[0].to, &o->addr));

	assert_int_equal(l->gs.bad + l->cs.bad + o->ev.bad, 0);
	versions_per_session(&l->gs);
	jv_client_free(o->c);
	lab_free(l);
}

/*
 * An attacker without the key has A's initiation (it saw it on the wire)
 * and sends it again, from anywhere: the Noise timestamp refuses it
 * before any session is made, so A's session stays as it was.  (It could
 * not confirm a session it made anyway: that needs the keys.)
 */
static void replayed_initiation_replaces_nothing(void **st)
{
	struct jv_policy pol;
	struct jv_gateway_counters before, after;
	struct jv_session_status a0, g1;
	struct jv_addr elsewhere;
	struct lab *l;

	(void)st;
	jv_policy_default(&pol);
	lab_cap_len = JV_WIRE_INITIATION_SIZE;
	l = lab_new(&pol);
	lab_cap_len = 0;
	run(l, T0 + 1000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_true(l->ncap >= 1);
	jv_client_status(l->c, &a0);
	jv_gateway_counters(l->g, &before);
	jv_addr_from_ipv4(&elsewhere, 0xcb007199, 4444);

	/* from elsewhere, and from A's own address, later */
	inject(l, &l->cap[0], &elsewhere);
	assert_int_equal(l->out.ndgram, 0);	/* no response */
	run(l, T0 + 5000);
	inject(l, &l->cap[0], &l->caddr[0]);
	assert_int_equal(l->out.ndgram, 0);
	run(l, T0 + 10000);
	assert_false(l->spun);

	jv_gateway_counters(l->g, &after);
	assert_int_equal(after.hs_dropped, before.hs_dropped + 2);
	assert_int_equal(after.hs_unknown_key, before.hs_unknown_key);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_CREATED), 1);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_TERMINATED), 0);
	assert_int_equal(count(&l->cs, JV_EV_SESSION_TERMINATED), 0);
	assert_int_equal(jv_gateway_status(l->g, 0, &g1), 0);
	assert_string_equal(g1.session_id, a0.session_id);
	assert_int_equal(g1.state, JV_STATE_ATTACHED);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	lab_free(l);
}

/* A key that is no [Peer]: the gateway counts it once the first DH has
 * opened it, with the key and the source; nothing is answered. */
static void unknown_key_counted_with_source(void **st)
{
	struct jv_policy pol;
	struct jv_gateway_counters c;
	struct jv_gateway_refused r;
	struct lab *l;
	struct other *o;
	uint8_t pub[32];

	(void)st;
	jv_policy_default(&pol);
	l = lab_new(&pol);
	run(l, T0 + 200);
	o = other_new(l, 0x33, 0x22);
	other_start(l, o);
	assert_int_equal(jv_client_state(o->c), JV_STATE_BIRTH);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_CREATED), 1);
	jv_gateway_counters(l->g, &c);
	assert_int_equal(c.hs_unknown_key, 1);
	assert_int_equal(c.hs_bad_mac1, 0);
	jv_gateway_last_refused(l->g, &r);
	assert_true(jv_addr_equal(&r.unknown_key_from, &o->addr));
	lab_pub(0x33, pub);
	assert_memory_equal(r.unknown_key, pub, 32);

	/* the client's retries count the same way */
	for (int k = 0; k < 3; k++) {
		struct jv_out *t = &outs[DEPTH_MAX - 1];

		l->now += 8000;
		jv_out_reset(t);
		assert_int_equal(jv_client_tick(o->c, l->now, t), 0);
		to_gateway(l, o, t, 0);
	}
	jv_gateway_counters(l->g, &c);
	assert_int_equal(c.hs_unknown_key, o->initiations);
	assert_true(c.hs_dropped >= c.hs_unknown_key);
	jv_client_free(o->c);
	lab_free(l);
}

/* A client with another gateway key: its mac1 is wrong, it is dropped
 * before any DH, counted apart with its source. */
static void bad_mac1_counted_with_source(void **st)
{
	struct jv_policy pol;
	struct jv_gateway_counters c;
	struct jv_gateway_refused r;
	struct lab *l;
	struct other *o;

	(void)st;
	jv_policy_default(&pol);
	l = lab_new(&pol);
	run(l, T0 + 200);
	o = other_new(l, 0x11, 0x44);	/* the peer's key, a wrong gateway */
	other_start(l, o);
	assert_int_equal(jv_client_state(o->c), JV_STATE_BIRTH);
	jv_gateway_counters(l->g, &c);
	assert_int_equal(c.hs_bad_mac1, 1);
	assert_int_equal(c.hs_unknown_key, 0);
	assert_int_equal(c.hs_dh, 1);	/* A's only: no DH for this one */
	jv_gateway_last_refused(l->g, &r);
	assert_true(jv_addr_equal(&r.bad_mac1_from, &o->addr));
	/* the live session of that key is untouched */
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	jv_client_free(o->c);
	lab_free(l);
}

/* The client counts the initiations nothing answered, since when, and
 * over which transports; an answer clears the count. */
static void client_counts_unanswered(void **st)
{
	struct jv_policy pol;
	struct jv_client_handshake h;
	struct lab *l;

	(void)st;
	jv_policy_default(&pol);
	l = lab_new(&pol);
	cut(l, 0, true);
	cut(l, 1, true);
	run(l, T0 + 20000);
	assert_false(l->spun);
	jv_client_handshake_info(l->c, &h);
	assert_true(h.unanswered >= 4);
	assert_int_equal(h.unanswered, l->initiations);
	assert_int_equal(h.first_ms, T0);
	assert_int_equal(h.paths, 3);		/* p1 and p2 took turns */
	assert_int_equal(h.completed, 0);

	cut(l, 0, false);
	cut(l, 1, false);
	run(l, T0 + 40000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	jv_client_handshake_info(l->c, &h);
	assert_int_equal(h.unanswered, 0);
	assert_int_equal(h.first_ms, 0);
	assert_int_equal(h.paths, 0);
	assert_int_equal(h.completed, 1);
	lab_free(l);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(created_names_peer_and_address),
	cmocka_unit_test(client_names_endpoint_when_told),
	cmocka_unit_test(newer_handshake_replaces_and_tells),
	cmocka_unit_test(replayed_initiation_replaces_nothing),
	cmocka_unit_test(unknown_key_counted_with_source),
	cmocka_unit_test(bad_mac1_counted_with_source),
	cmocka_unit_test(client_counts_unanswered),
};

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
