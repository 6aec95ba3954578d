/* SPDX-License-Identifier: MIT */
/*
 * A gateway's peers changing at run time (a reload, D-022): a removed
 * key's session ends with peer_removed on both sides and the key can no
 * longer handshake, while another peer's session does not notice; a
 * removed peer's index is not given to another key while its tombstone
 * may still be referenced.  On lab.h's harness with its client B.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/record.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"
#include "lab.h"

/* Both clients attached: A (peer 0) and B (peer 1). */
static struct lab *two_clients(void)
{
	struct jv_policy pol;

	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	assert_int_equal(lab_add_client_b(l), 1);
	run(l, T0 + 3000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(jv_client_state(l->b), JV_STATE_ATTACHED);
	return l;
}

/* A fresh client with A's key (0x11...) sends its first initiation to the
 * gateway from A's first address; true when the gateway answered it. */
static bool key_a_handshakes(struct lab *l)
{
	struct jv_seeded_rng r;
	struct jv_noise_keypair gk;
	uint8_t priv[32], gpriv[32];
	struct jv_out *o = &l->out;
	bool answered;

	memset(priv, 0x11, 32);
	memset(gpriv, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&gk, gpriv), 0);
	jv_seeded_rng_init(&r, 77);
	struct jv_client_config cc = {
		.policy = &l->pol, .node_id = "cl1", .rng = jv_seeded_rng(&r),
	};
	memcpy(cc.private_key, priv, 32);
	memcpy(cc.gateway_public, gk.pub, 32);
	struct jv_client *c = jv_client_new(&cc);
	assert_non_null(c);
	assert_int_equal(jv_client_add_transport(c, "p1", JV_PROTO_UDP, 1), 0);
	jv_out_reset(o);
	assert_int_equal(jv_client_start(c, l->now, o), 0);
	assert_int_equal(o->ndgram, 1);
	struct pkt k = { .len = o->dgram[0].len };
	memcpy(k.buf, o->dgram[0].buf, k.len);
	assert_int_equal(k.buf[0], JV_MSG_INITIATION);
	inject(l, &k, &l->caddr[0]);
	answered = l->out.ndgram == 1 &&
		   l->out.dgram[0].buf[0] == JV_MSG_RESPONSE;
	jv_client_free(c);
	return answered;
}

static const struct rec *last_of(const struct side *s, enum jv_event_type t)
{
	const struct rec *r = NULL;

	for (unsigned i = 0; i < s->nev; i++)
		if (s->ev[i].type == t)
			r = &s->ev[i];
	return r;
}

/* Remove A with a live session: SessionTerminated(peer_removed) on the
 * gateway, TERMINATE to A, which ends with the same reason; A's key is
 * refused from then on; B's session sees nothing. */
static void remove_live_peer(void **st)
{
	(void)st;
	struct lab *l = two_clients();
	struct jv_session_status a, b_before, b_after;
	unsigned gw_events = l->gs.nev, b_events = l->bs.nev;
	uint64_t dropped;

	assert_int_equal(jv_gateway_status(l->g, 0, &a), 0);
	assert_int_equal(jv_gateway_status(l->g, 1, &b_before), 0);
	jv_time t = l->now;
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_remove_peer(l->g, 0, t, &l->out), 0);
	assert_int_equal(l->out.ndgram, 1);	/* the TERMINATE to A */
	assert_true(jv_gateway_peer_removed(l->g, 0));
	assert_false(jv_gateway_peer_removed(l->g, 1));
	enqueue(l, &l->out, false);
	run(l, t + 500);

	/* the gateway: A's session, and only it, ended with peer_removed */
	const struct rec *r = last_of(&l->gs, JV_EV_SESSION_TERMINATED);
	assert_non_null(r);
	assert_int_equal(r->reason, JV_REASON_PEER_REMOVED);
	assert_string_equal(r->session, a.session_id);
	assert_int_equal(r->ts, t);
	for (unsigned i = gw_events; i < l->gs.nev; i++)
		assert_string_equal(l->gs.ev[i].session, a.session_id);

	/* client A was told and ended with the gateway's reason */
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	r = last_of(&l->cs, JV_EV_SESSION_TERMINATED);
	assert_non_null(r);
	assert_int_equal(r->reason, JV_REASON_PEER_REMOVED);
	assert_true(r->ts <= t + DELAY_MS);

	/* B: no event, same state and state_version */
	assert_int_equal(l->bs.nev, b_events);
	assert_int_equal(jv_client_state(l->b), JV_STATE_ATTACHED);
	assert_int_equal(jv_gateway_status(l->g, 1, &b_after), 0);
	assert_string_equal(b_after.session_id, b_before.session_id);
	assert_int_equal(b_after.state, JV_STATE_ATTACHED);
	assert_int_equal(b_after.state_version, b_before.state_version);

	/* A's key is a stranger's now */
	struct jv_gateway_counters c;
	jv_gateway_counters(l->g, &c);
	dropped = c.hs_dropped;
	unsigned created = count(&l->gs, JV_EV_SESSION_CREATED);
	assert_false(key_a_handshakes(l));
	jv_gateway_counters(l->g, &c);
	assert_int_equal(c.hs_dropped, dropped + 1);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_CREATED), created);
	/* and nothing of it can be sent any more */
	uint8_t ip[20] = { 0x45 };
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_send(l->g, 0, ip, sizeof ip, l->now,
					 &l->out), JV_ERR_STATE);
	/* removing it again says so; an unknown index is refused */
	assert_int_equal(jv_gateway_remove_peer(l->g, 0, l->now, &l->out),
			 JV_ERR_NOTFOUND);
	assert_int_equal(jv_gateway_remove_peer(l->g, 7, l->now, &l->out),
			 JV_ERR_INVAL);
	assert_int_equal(l->cs.bad + l->gs.bad + l->bs.bad, 0);
	versions_per_session(&l->gs);
	lab_free(l);
}

/* Remove B before it ever handshook: nothing is emitted, and its first
 * initiation (already on its way) is refused. */
static void remove_peer_without_session(void **st)
{
	(void)st;
	struct jv_policy pol;

	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	assert_int_equal(lab_add_client_b(l), 1);
	unsigned gw_events = l->gs.nev;
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_remove_peer(l->g, 1, l->now, &l->out), 0);
	assert_int_equal(l->out.ndgram, 0);
	assert_int_equal(l->gs.nev, gw_events);
	run(l, T0 + 3000);
	/* A attached; B never got an answer */
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_CREATED), 1);
	assert_int_equal(count(&l->bs, JV_EV_SESSION_CREATED), 0);
	struct jv_session_status s;
	assert_int_equal(jv_gateway_status(l->g, 1, &s), JV_ERR_NOTFOUND);
	struct jv_gateway_counters c;
	jv_gateway_counters(l->g, &c);
	assert_true(c.hs_dropped >= 1);
	lab_free(l);
}

/* A removed key added again gets a new index while its tombstone lives
 * (the old session still names the old one), handshakes again, and a
 * slot nothing refers to any more is reused. */
static void add_after_remove(void **st)
{
	(void)st;
	struct lab *l = two_clients();
	uint8_t apub[32], bpub[32];
	struct jv_noise_keypair ak;
	uint8_t apriv[32];

	memset(apriv, 0x11, 32);
	assert_int_equal(jv_noise_keypair_from_private(&ak, apriv), 0);
	memcpy(apub, ak.pub, 32);
	lab_client_b_pub(bpub);
	/* a key allowed already is refused */
	assert_int_equal(jv_gateway_add_peer(l->g, bpub), JV_ERR_INVAL);

	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_remove_peer(l->g, 0, l->now, &l->out), 0);
	enqueue(l, &l->out, false);
	run(l, l->now + 100);
	assert_false(key_a_handshakes(l));
	/* A's tombstone still names index 0: the key comes back at 2 */
	assert_int_equal(jv_gateway_add_peer(l->g, apub), 2);
	assert_false(jv_gateway_peer_removed(l->g, 2));
	assert_true(key_a_handshakes(l));
	assert_int_equal(jv_gateway_peer_count(l->g), 3);

	/* past the tombstone, index 0 is free for the next new key */
	assert_int_equal(jv_gateway_remove_peer(l->g, 2, l->now, &l->out), 0);
	run(l, l->now + 30000);
	struct jv_session_status s;
	assert_int_equal(jv_gateway_status(l->g, 0, &s), JV_ERR_NOTFOUND);
	assert_int_equal(jv_gateway_add_peer(l->g, apub), 0);
	assert_int_equal(jv_gateway_peer_count(l->g), 3);
	/* B never noticed any of it */
	assert_int_equal(jv_client_state(l->b), JV_STATE_ATTACHED);
	assert_int_equal(count_reason(&l->bs, JV_EV_SESSION_TERMINATED,
				      JV_REASON_PEER_REMOVED), 0);
	assert_int_equal(l->cs.bad + l->gs.bad + l->bs.bad, 0);
	lab_free(l);
}

/* A configured peer's slot is never given away, even once its last
 * session is forgotten: only removal frees a slot. */
static void configured_slot_kept(void **st)
{
	(void)st;
	struct lab *l = two_clients();
	struct jv_session_status s;
	uint8_t bpub[32], key[32];

	lab_client_b_pub(bpub);
	memset(key, 0xd4, sizeof key);
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_terminate(l->g, 1, l->now, &l->out), 0);
	enqueue(l, &l->out, false);
	run(l, l->now + 30000);		/* past B's tombstone */
	assert_int_equal(jv_gateway_status(l->g, 1, &s), JV_ERR_NOTFOUND);
	assert_int_equal(jv_gateway_add_peer(l->g, key), 2);
	assert_false(jv_gateway_peer_removed(l->g, 1));
	assert_int_equal(jv_gateway_add_peer(l->g, bpub), JV_ERR_INVAL);
	lab_free(l);
}

/* 10 000 peers (issue 12: found by a keyed hash, not a scan): each key is
 * added once and refused twice, removed keys are strangers again and their
 * slots are reused lowest first once nothing refers to them, and a live
 * key removed and added back handshakes under its new index while its
 * tombstone keeps the old one. */
static void ten_thousand_peers(void **st)
{
	(void)st;
	enum { N = 10000 };
	static uint8_t key[N + 1][32];
	struct jv_policy pol;
	uint8_t apub[32], apriv[32];
	struct jv_noise_keypair ak;

	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	run(l, T0 + 3000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	memset(apriv, 0x11, 32);
	assert_int_equal(jv_noise_keypair_from_private(&ak, apriv), 0);
	memcpy(apub, ak.pub, 32);
	for (uint32_t i = 1; i <= N; i++) {
		memset(key[i], 0xc3, 32);
		memcpy(key[i], &i, sizeof i);
		assert_int_equal(jv_gateway_add_peer(l->g, key[i]), (int)i);
	}
	assert_int_equal(jv_gateway_peer_count(l->g), N + 1);
	for (uint32_t i = 1; i <= N; i += 97)
		assert_int_equal(jv_gateway_add_peer(l->g, key[i]), JV_ERR_INVAL);
	assert_int_equal(jv_gateway_add_peer(l->g, apub), JV_ERR_INVAL);

	/* every 7th leaves; none has a session, so its slot is free at once */
	jv_out_reset(&l->out);
	for (uint32_t i = 1; i <= N; i += 7)
		assert_int_equal(jv_gateway_remove_peer(l->g, i, l->now, &l->out),
				 0);
	assert_int_equal(l->out.ndgram, 0);
	/* a removed key is new again: the lowest free slot */
	assert_int_equal(jv_gateway_add_peer(l->g, key[8]), 1);
	assert_int_equal(jv_gateway_add_peer(l->g, key[8]), JV_ERR_INVAL);
	assert_int_equal(jv_gateway_add_peer(l->g, key[1]), 8);
	assert_false(jv_gateway_peer_removed(l->g, 1));
	/* the others stay known */
	for (uint32_t i = 2; i <= N; i++)
		if (i % 7 != 1)
			assert_int_equal(jv_gateway_add_peer(l->g, key[i]),
					 JV_ERR_INVAL);

	/* A (peer 0, attached) removed: a stranger; back, under slot 15,
	 * since its tombstone still names 0 */
	assert_true(key_a_handshakes(l));
	assert_int_equal(jv_gateway_remove_peer(l->g, 0, l->now, &l->out), 0);
	enqueue(l, &l->out, false);
	run(l, l->now + 100);
	assert_false(key_a_handshakes(l));
	assert_int_equal(jv_gateway_add_peer(l->g, apub), 15);
	assert_true(key_a_handshakes(l));
	assert_int_equal(jv_gateway_peer_count(l->g), N + 1);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	lab_free(l);
}

/* A stored session of a removed key (another node's, or from before a
 * restart) is never taken over: the key is unknown to adoption too. */
static void removed_key_is_not_adopted(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct jv_gw_record rec, next;
	uint8_t bpub[32];

	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	assert_int_equal(lab_add_client_b(l), 1);
	lab_client_b_pub(bpub);
	memset(&rec, 0, sizeof rec);
	memcpy(rec.peer_public, bpub, 32);
	memset(rec.session_id, 0x5a, sizeof rec.session_id);
	rec.local_index = 0x12345678;
	snprintf(rec.owner_node, sizeof rec.owner_node, "gw2");
	rec.owner_epoch = 1;
	rec.state = JV_STATE_ATTACHED;
	rec.state_version = 1;
	rec.created_ms = l->now;
	rec.bound = true;
	rec.bound_remote = l->caddr[NPATHS];
	/* a configured key: adoption may go ahead */
	assert_int_equal(jv_gateway_prepare_adopt(l->g, &rec, l->now, &next), 0);
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_remove_peer(l->g, 1, l->now, &l->out), 0);
	assert_int_equal(jv_gateway_prepare_adopt(l->g, &rec, l->now, &next),
			 JV_ERR_NOTFOUND);
	jv_gw_record_wipe(&next);
	lab_free(l);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remove_live_peer),
		cmocka_unit_test(remove_peer_without_session),
		cmocka_unit_test(add_after_remove),
		cmocka_unit_test(removed_key_is_not_adopted),
		cmocka_unit_test(configured_slot_kept),
		cmocka_unit_test(ten_thousand_peers),
	};
	return cmocka_run_group_tests_name("peers", tests, NULL, NULL);
}
