/* SPDX-License-Identifier: MIT */
/*
 * Junk never moves a session (issue 10, D-018).  Anyone can put any datagram
 * in front of either end, from any address, the binding's included (a
 * source address is no authentication).  So nothing a datagram that fails
 * authentication, or a verbatim copy of one that passed, may move what a
 * decision depends on: the state and its version, the binding, the health
 * of any path, the key epoch, the counter window, the control buckets, the
 * security failure count.  What does count toward MAX_SECURITY_FAILURES is
 * what only a holder of the keys can produce: a request sealed anew that
 * reuses an accepted nonce.  And junk must stay cheap: a claim of the next
 * key epoch costs no key derivation per packet, and a counter jump costs the
 * client's loss tracker no more than its window.
 *
 * The harness is lab.h's, capturing every datagram both ways for copies
 * and forgeries.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/client_impl.h"
#include "jvpn/eventlog.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

#include "lab.h"

/* ---- junk ------------------------------------------------------------- */

/*
 * One piece of junk for the side `to_gw` names, built from what was
 * captured: random bytes; a well-formed header for the session (its
 * receiver index, an epoch of cur - 1 .. cur + 2 or any, any counter,
 * 2^40 included) over random bytes; a captured datagram with one byte
 * flipped or its counter changed (FM-4c's forgery); a verbatim copy of a
 * datagram delivered long ago; a random handshake message.
 */
static uint16_t junk(struct lab *l, struct jv_seeded_rng *r, bool to_gw,
		     uint8_t *buf)
{
	const struct pkt *cap = NULL;
	unsigned kind = (unsigned)(rnd(r) % 6);
	uint16_t n;

	for (unsigned tries = 0; tries < 64 && !cap; tries++) {
		const struct pkt *c = &l->cap[rnd(r) % (l->ncap < CAPMAX ? l->ncap
								    : CAPMAX)];
		if (c->to_gw == to_gw && c->len > JV_WIRE_HDR_SIZE &&
		    (c->buf[0] == JV_MSG_DATA || c->buf[0] == JV_MSG_CONTROL) &&
		    c->at + 4 * DELAY_MS < l->now)
			cap = c;
	}
	assert_non_null(cap);
	if (kind == 0) {			/* random bytes */
		n = (uint16_t)(rnd(r) % 200);
		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(r);
		return n;
	}
	if (kind == 1) {			/* a handshake message */
		n = to_gw ? JV_WIRE_INITIATION_SIZE : JV_WIRE_RESPONSE_SIZE;
		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(r);
		buf[0] = to_gw ? JV_MSG_INITIATION : JV_MSG_RESPONSE;
		return n;
	}
	memcpy(buf, cap->buf, cap->len);
	n = cap->len;
	if (kind == 2) {			/* forged header, random body */
		struct jv_wire_hdr h;
		assert_int_equal(jv_wire_hdr_decode(buf, n, &h, NULL), 0);
		h.key_epoch = (uint8_t)(rnd(r) % 8 ? h.key_epoch - 1 +
						      rnd(r) % 4
						    : rnd(r));
		h.counter = rnd(r) % 4 ? (uint64_t)1 << 40 : rnd(r) % 100000;
		jv_wire_hdr_encode(&h, buf);
		for (unsigned i = JV_WIRE_HDR_SIZE; i < n; i++)
			buf[i] = (uint8_t)rnd(r);
	} else if (kind == 3) {			/* one byte flipped */
		buf[JV_WIRE_HDR_SIZE + rnd(r) % (n - JV_WIRE_HDR_SIZE)] ^=
			(uint8_t)(1 + rnd(r) % 255);
	} else if (kind == 4) {			/* a fresh random counter */
		for (unsigned i = 8; i < 16; i++)
			buf[i] = (uint8_t)rnd(r);
	}					/* kind 5: a verbatim copy */
	return n;
}

/* Everything a decision reads that jv_*_status shows, at one instant. */
static void status_of(struct lab *l, bool gw, struct jv_session_status *st)
{
	memset(st, 0, sizeof *st);
	if (gw)
		assert_int_equal(jv_gateway_status(l->g, 0, st), 0);
	else
		jv_client_status(l->c, st);
}

/* The lab up, S1 onto p2 and p1 back as a standby: requests, probes and
 * data of both ways captured. */
static struct lab *lab_with_history(struct jv_policy *pol)
{
	struct lab *l = lab_new(pol);

	l->capture = true;
	run(l, T0 + 3000);
	cut(l, 0, true);
	path_down(l, 0);
	run(l, T0 + 4000);
	cut(l, 0, false);
	path_up(l, 0);
	run(l, T0 + 6000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	return l;
}

/*
 * The gateway: 20 000 pieces of junk at one instant, from the binding's
 * address, the standby's and a stranger's, with MAX_SECURITY_FAILURES = 1.
 * Nothing it shows may move; then the client's own traffic still passes
 * (the counter window did not move), the binding still dies and is
 * replaced at once (no bucket drained), and no transition happened that
 * the client did not cause.
 */
static void gateway_junk_moves_nothing(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	pol.max_security_failures = 1;
	struct lab *l = lab_with_history(&pol);
	struct jv_seeded_rng r;
	struct jv_session_status before, after;
	struct jv_addr stranger, from[3];
	uint8_t buf[JV_DGRAM_MAX];
	unsigned changes = count(&l->gs, JV_EV_SESSION_STATE_CHANGE);

	jv_addr_from_ipv4(&stranger, 0xc6336442, 6666);
	from[0] = l->caddr[1];		/* the binding */
	from[1] = l->caddr[0];
	from[2] = stranger;
	jv_seeded_rng_init(&r, 5);
	status_of(l, true, &before);
	assert_string_equal(before.bound, "udp:10.0.2.2:40002");
	for (unsigned i = 0; i < 20000; i++) {
		uint16_t n = junk(l, &r, true, buf);
		struct pkt k = { .len = n };
		memcpy(k.buf, buf, n);
		inject(l, &k, &from[i % 3]);
	}
	status_of(l, true, &after);
	assert_memory_equal(&before, &after, sizeof before);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_STATE_CHANGE), changes);
	assert_true(count(&l->gs, JV_EV_SECURITY_VALIDATION_FAILED) >= 1);

	/* the client's traffic still opens: nothing happens for 10 s */
	run(l, T0 + 16000);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_STATE_CHANGE), changes);
	status_of(l, true, &after);
	assert_true(after.paths[0].rx_packets + after.paths[1].rx_packets >
		    before.paths[0].rx_packets + before.paths[1].rx_packets);
	/* and the binding's death is repaired at once */
	cut(l, 1, true);
	path_down(l, 1);
	run(l, T0 + 16100);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	status_of(l, true, &after);
	assert_string_equal(after.bound, "udp:10.0.1.2:40001");
	assert_int_equal(count(&l->gs, JV_EV_SESSION_TERMINATED), 0);
	assert_false(l->spun);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	lab_free(l);
}

/* The same at the client, on both of its paths. */
static void client_junk_moves_nothing(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_with_history(&pol);
	struct jv_seeded_rng r;
	struct jv_session_status before, after;
	uint8_t buf[JV_DGRAM_MAX];
	unsigned changes = count(&l->cs, JV_EV_SESSION_STATE_CHANGE);

	jv_seeded_rng_init(&r, 6);
	status_of(l, false, &before);
	for (unsigned i = 0; i < 20000; i++) {
		uint16_t n = junk(l, &r, false, buf);
		jv_out_reset(&l->out);
		(void)jv_client_recv(l->c, (int)(i % NPATHS), buf, n, l->now,
				     &l->out);
		assert_int_equal(l->out.ndgram, 0);	/* and no answer */
	}
	status_of(l, false, &after);
	assert_memory_equal(&before, &after, sizeof before);
	run(l, T0 + 16000);
	assert_int_equal(count(&l->cs, JV_EV_SESSION_STATE_CHANGE), changes);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_TERMINATED), 0);
	status_of(l, false, &after);
	assert_true(after.rx_bytes > before.rx_bytes);
	assert_false(l->spun);
	lab_free(l);
}

/* ---- the key holder ----------------------------------------------------- */

/* An attacker who holds the client's private key completes a handshake of
 * its own (lab.h's evil_connect, from e->addrs[0]): a session of the peer
 * whose keys it holds (the honest client's is superseded at its first
 * packet). */
static void holder_connect(struct lab *l, struct evil *e)
{
	struct jv_seeded_rng r;

	jv_seeded_rng_init(&r, 77);
	evil_connect(l, e, &r);
}

static void holder_request(struct lab *l, struct evil *e, uint64_t nonce,
			   struct pkt *k)
{
	struct jv_ctrl m = { .type = JV_CTRL_REATTACH_REQUEST };
	struct jv_ctrl_reattach_request *q = &m.request;
	struct jv_session_status gst;

	l->now += 1000;		/* within the control rate (V0) */
	status_of(l, true, &gst);
	memcpy(q->session_id, e->sid, 16);
	q->nonce = nonce;
	q->protocol_version = JV_PROTOCOL_VERSION;
	q->ts_ms = l->now;
	q->state_version = gst.state_version;
	q->trigger_reason = JV_REASON_NAT_REBINDING;
	q->recovery_reason = JV_REASON_LOSS_RECOVERY;
	snprintf(q->candidate.transport_id, sizeof q->candidate.transport_id,
		 "holder");
	q->candidate.proto = JV_PROTO_UDP;
	memcpy(q->path_token, e->token[0], sizeof q->path_token);
	evil_send_pkt(l, e, &m, 0, k);
}

/*
 * OP-7 as D-018 reads it, MAX_SECURITY_FAILURES = 2: copies of the holder's
 * accepted request (from its tuple and others), forgeries on its tuple,
 * and older nonces (a reordered retransmission) never count; a request
 * sealed anew with a nonce already accepted is what only a key holder can
 * send, and the third one ends the session (X3).
 */
static void key_holder_nonce_reuse_terminates(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	pol.max_security_failures = 2;
	struct lab *l = lab_new(&pol);
	struct evil e;
	struct pkt k, accepted;
	struct jv_addr stranger;
	struct jv_ctrl hb = { .type = JV_CTRL_HEARTBEAT };

	run(l, T0 + 1000);
	holder_connect(l, &e);
	evil_send_pkt(l, &e, &hb, 0, &k);	/* confirms: T01 */
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	l->now += 10;
	holder_request(l, &e, 10, &accepted);	/* T12: revalidation */
	assert_int_equal(count(&l->gs, JV_EV_REATTACH_RESULT), 1);
	l->now += 10;
	holder_request(l, &e, 5, &k);		/* older: stale_request */
	holder_request(l, &e, 9, &k);
	jv_addr_from_ipv4(&stranger, 0xc6336442, 6666);
	for (unsigned i = 0; i < 100; i++) {
		/* copies */
		inject(l, &accepted, i % 2 ? &stranger : &e.addrs[0]);
		k = accepted;
		k.buf[8 + i % 8] ^= 0x40;	/* FM-4c forgery on its tuple */
		inject(l, &k, &e.addrs[0]);
	}
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	holder_request(l, &e, 10, &k);		/* reuse 1 */
	holder_request(l, &e, 10, &k);		/* reuse 2 */
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	holder_request(l, &e, 10, &k);		/* reuse 3 > 2: X3 */
	assert_int_equal(gw_state(l), JV_STATE_TERMINATED);
	assert_int_equal(l->gs.ev[l->gs.nev - 1].type, JV_EV_SESSION_TERMINATED);
	assert_int_equal(l->gs.ev[l->gs.nev - 1].reason,
			 JV_REASON_SECURITY_FAILURE);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	lab_free(l);
}

/* ---- the cost of junk --------------------------------------------------- */

/* Packets claiming the next key epoch: one derivation for all of them,
 * and a genuine one still rotates. */
static void next_epoch_claims_derive_once(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct jv_session s;
	struct jv_seeded_rng sr;
	uint8_t ks[32], kr[32], next[32], pt[64], buf[JV_DGRAM_MAX],
		out[JV_DGRAM_MAX];
	bool rotated;

	jv_policy_default(&pol);
	jv_seeded_rng_init(&sr, 3);
	assert_int_equal(jv_sess_init(&s, JV_ROLE_GATEWAY, &pol, "gw",
				      jv_seeded_rng(&sr), NULL, NULL, 2), 0);
	memset(ks, 1, 32);
	memset(kr, 2, 32);
	memset(pt, 0x45, sizeof pt);
	jv_keys_install(&s, ks, kr, T0);
	for (unsigned i = 0; i < 1000; i++) {
		struct jv_wire_hdr h = { .type = JV_MSG_DATA, .key_epoch = 1,
					 .counter = i };
		int n = jv_wire_seal(ks, &h, pt, sizeof pt, buf, sizeof buf);
		assert_true(n > 0);
		assert_true(jv_keys_open(&s, &h, buf, (size_t)n, out, sizeof out,
					 T0, &rotated) < 0);
		assert_false(rotated);
	}
	assert_true(s.key_derivations <= 1);
	assert_int_equal(s.cur.epoch, 0);
	/* the peer rotated first: its packet opens and rotates */
	jv_noise_rekey(kr, 1, next);
	struct jv_wire_hdr h = { .type = JV_MSG_DATA, .key_epoch = 1,
				 .counter = 0 };
	int n = jv_wire_seal(next, &h, pt, sizeof pt, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(jv_keys_open(&s, &h, buf, (size_t)n, out, sizeof out,
				      T0, &rotated), (int)sizeof pt);
	assert_true(rotated);
	assert_int_equal(s.cur.epoch, 1);
	/* and a copy of it is a replay */
	assert_int_equal(jv_keys_open(&s, &h, buf, (size_t)n, out, sizeof out,
				      T0, &rotated), JV_ERR_REPLAY);
	jv_sess_destroy(&s);
}

/* A counter jump of 2^40 on the binding costs the loss tracker its
 * window, not 2^40 steps (the alarm fails the test otherwise). */
static void counter_jump_is_cheap(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);

	run(l, T0 + 2000);
	struct jv_client *c = l->c;
	assert_true(c->s.bound >= 0);
	alarm(20);
	jv_cl_note_counter(c, c->s.bound, (uint8_t)c->s.cur.epoch,
			   c->rx.top + ((uint64_t)1 << 40), l->now);
	alarm(0);
	assert_true(c->rx.top >= (uint64_t)1 << 40);
	lab_free(l);
}

/* A new session's counters start over: what the tracker knew of the old
 * one's is gone once the new handshake is made. */
static void loss_tracker_reset_on_new_session(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_client *c = l->c;

	run(l, T0 + 2000);
	jv_cl_note_counter(c, c->s.bound, (uint8_t)c->s.cur.epoch, 1000000,
			   l->now);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_terminate(c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, T0 + 2100);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, T0 + 2200);
	assert_int_equal(jv_client_state(c), JV_STATE_ATTACHED);
	assert_true(c->rx.top < 1000);
	assert_true(count_after(&l->cs, JV_EV_SESSION_CREATED, T0 + 2000) == 1);
	lab_free(l);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gateway_junk_moves_nothing),
		cmocka_unit_test(client_junk_moves_nothing),
		cmocka_unit_test(key_holder_nonce_reuse_terminates),
		cmocka_unit_test(next_epoch_claims_derive_once),
		cmocka_unit_test(counter_jump_is_cheap),
		cmocka_unit_test(loss_tracker_reset_on_new_session),
	};
	return cmocka_run_group_tests_name("junk", tests, NULL, NULL);
}
