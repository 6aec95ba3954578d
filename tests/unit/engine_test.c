/* SPDX-License-Identifier: MIT */
/*
 * The protocol engine end to end, in memory: a client with two transports
 * and a gateway, joined by a tiny deterministic network (fixed one-way
 * delay per path, paths that can be cut), driven by a fake clock.  Every
 * event both sides emit is formatted by the event log, so an event that
 * breaks its type's allow-list fails the test.  The harness is lab.h's;
 * these tests ran without its spin guard (a busy loop hung them), so each
 * asserts that none stopped a run.
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

static void default_policy(struct jv_policy *p)
{
	jv_policy_default(p);
}

static uint8_t ping[60] = { 0x45, 0, 0, 60 };

/* ---- tests ------------------------------------------------------------ */

static void handshake_and_data_both_ways(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_session_status cst, gst;

	run(l, T0 + 100);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_int_equal(gst.state, JV_STATE_ATTACHED);
	jv_client_status(l->c, &cst);
	assert_string_equal(cst.session_id, gst.session_id);
	assert_int_equal(strlen(cst.session_id), 32);
	assert_string_equal(cst.bound, "p1");

	/* client: SessionCreated, BIRTH->ATTACHED, TransportAttached */
	assert_int_equal(l->cs.ev[0].type, JV_EV_SESSION_CREATED);
	assert_int_equal(l->cs.ev[1].type, JV_EV_SESSION_STATE_CHANGE);
	assert_int_equal(l->cs.ev[1].next, JV_STATE_ATTACHED);
	assert_int_equal(l->cs.ev[2].type, JV_EV_TRANSPORT_ATTACHED);
	/* gateway confirms on the first authenticated packet */
	assert_int_equal(l->gs.ev[0].type, JV_EV_SESSION_CREATED);
	assert_int_not_equal(find_change(&l->gs, JV_STATE_BIRTH, JV_STATE_ATTACHED, 0), -1);

	/* data both ways */
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_send(l->c, ping, sizeof ping, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_send(l->g, 0, ping, sizeof ping, l->now, &l->out), 0);
	enqueue(l, &l->out, false);
	unsigned before_c = l->delivered_to_client, before_g = l->delivered_to_gw;
	run(l, l->now + 20);
	assert_true(l->delivered_to_client > before_c);
	assert_true(l->delivered_to_gw > before_g);
	jv_client_status(l->c, &cst);
	assert_true(cst.rx_bytes > 0 && cst.tx_bytes > 0);
	/* what `jvpn show` prints: the gateway's bound tuple in full (its
	 * name is a hash for IPv6) and when the client was last heard */
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	for (unsigned i = 0; i < gst.npaths; i++) {
		if (strcmp(gst.paths[i].id, gst.bound))
			continue;
		assert_true(gst.paths[i].has_remote);
		assert_true(jv_addr_equal(&gst.paths[i].remote, &l->caddr[0]));
		assert_true(gst.paths[i].last_good_ms > T0);
	}

	/* an hour of quiet: still attached, heartbeats keep it alive */
	run(l, T0 + 3600 * 1000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_int_equal(gst.state, JV_STATE_ATTACHED);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	assert_int_equal(l->initiations, 1);
	versions_continuous(&l->cs);
	versions_continuous(&l->gs);
	assert_false(l->spun);
	lab_free(l);
}

/* S1: hard failure of the binding with a healthy backup. */
static void failover_without_handshake(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_session_status cst, gst;
	char sid[JV_SESSION_ID_HEX];

	run(l, T0 + 5000);
	jv_client_status(l->c, &cst);
	snprintf(sid, sizeof sid, "%s", cst.session_id);
	unsigned mark = l->cs.nev;

	jv_time t0 = l->now;
	cut(l, 0, true);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_down(l->c, 0, l->now, &l->out), 0);
	enqueue(l, &l->out, true);

	int v = find_change(&l->cs, JV_STATE_ATTACHED, JV_STATE_VOLATILE, mark);
	int r = find_change(&l->cs, JV_STATE_VOLATILE, JV_STATE_RECOVERING, mark);
	assert_int_not_equal(v, -1);
	assert_int_not_equal(r, -1);
	assert_int_equal(l->cs.ev[v].reason, JV_REASON_TRANSPORT_DEAD);
	assert_int_equal(l->cs.ev[r].reason, JV_REASON_DEAD_TRANSPORT_RECOVERY);
	assert_int_equal(l->cs.ev[v].ts, t0);

	run(l, t0 + 2 * DELAY_MS);
	int a = find_change(&l->cs, JV_STATE_RECOVERING, JV_STATE_ATTACHED, mark);
	assert_int_not_equal(a, -1);
	assert_int_equal(l->cs.ev[a].ts, t0 + 2 * DELAY_MS);	/* by t0 + r */
	assert_int_equal(count(&l->cs, JV_EV_TRANSPORT_SWITCH), 1);
	assert_int_equal(count(&l->gs, JV_EV_TRANSPORT_SWITCH), 1);

	jv_client_status(l->c, &cst);
	assert_string_equal(cst.bound, "p2");
	assert_string_equal(cst.session_id, sid);	/* same session */
	assert_int_equal(cst.state_version, 4);		/* +3 (S1) */
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_int_equal(gst.state, JV_STATE_ATTACHED);
	assert_string_equal(gst.bound, "udp:10.0.2.2:40002");

	/* traffic flows on p2 */
	unsigned before = l->delivered_to_gw;
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_send(l->c, ping, sizeof ping, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, l->now + 50);
	assert_true(l->delivered_to_gw > before);
	run(l, l->now + 60000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(l->initiations, 1);		/* no new handshake */
	assert_int_equal(count(&l->cs, JV_EV_SESSION_CREATED), 1);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	versions_continuous(&l->cs);
	versions_continuous(&l->gs);
	assert_false(l->spun);
	lab_free(l);
}

/* S6: an accepted REATTACH_REQUEST replayed never moves the binding. */
static void replayed_request_is_denied(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_session_status gst;

	run(l, T0 + 5000);
	cut(l, 0, true);
	l->cap_len = REQUEST_DGRAM;
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_down(l->c, 0, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, l->now + 100);
	assert_true(l->ncap >= 1);
	const struct pkt *req = &l->cap[l->ncap - 1];
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	uint64_t v = gst.state_version;
	unsigned replays_before = count(&l->gs, JV_EV_SECURITY_REPLAY_DETECTED);

	/* from another address */
	struct jv_addr evil;
	jv_addr_from_ipv4(&evil, 0xc0a80001, 666);
	jv_out_reset(&l->out);
	assert_int_not_equal(jv_gateway_recv(l->g, 0, &evil, req->buf, req->len,
					     l->now, &l->out), 0);
	assert_int_equal(l->out.ndgram, 0);
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_int_equal(gst.state_version, v);
	assert_string_equal(gst.bound, "udp:10.0.2.2:40002");
	assert_int_equal(count(&l->gs, JV_EV_SECURITY_REPLAY_DETECTED),
			 replays_before + 1);
	assert_false(l->spun);
	lab_free(l);
}

/* A flipped bit in a data packet: rejected, not delivered, counted. */
static void forged_tag_rejected(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_session_status gst;

	run(l, T0 + 100);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_send(l->c, ping, sizeof ping, l->now, &l->out), 0);
	assert_int_equal(l->out.ndgram, 1);
	uint8_t forged[JV_DGRAM_MAX];
	memcpy(forged, l->out.dgram[0].buf, l->out.dgram[0].len);
	forged[l->out.dgram[0].len - 1] ^= 1;
	jv_out_reset(&l->out);
	assert_int_equal(jv_gateway_recv(l->g, 0, &l->caddr[0], forged,
					 sizeof ping + 32, l->now, &l->out),
			 JV_ERR_AUTH);
	assert_int_equal(l->out.ninner, 0);
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_int_equal(gst.state, JV_STATE_ATTACHED);
	assert_false(l->spun);
	lab_free(l);
}

/* S7: lifetime expiry terminates both sides at created + lifetime + 1. */
static void lifetime_expiry(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	pol.max_lifetime_ms = 60000;
	struct lab *l = lab_new(&pol);

	run(l, T0 + 120000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	int t = find_change(&l->cs, JV_STATE_ATTACHED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->cs.ev[t].reason, JV_REASON_SESSION_LIFETIME_EXCEEDED);
	assert_int_equal(l->cs.ev[t].ts, l->cs.ev[0].ts + 60001);
	assert_int_equal(count(&l->cs, JV_EV_SESSION_TERMINATED), 1);
	t = find_change(&l->gs, JV_STATE_ATTACHED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->gs.ev[t].ts, l->gs.ev[0].ts + 60001);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);

	/* Z1: nothing accepted afterwards */
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_send(l->c, ping, sizeof ping, l->now, &l->out),
			 JV_ERR_STATE);
	assert_false(l->spun);
	lab_free(l);
}

/* Rekey: new epoch, same session, no data lost across it. */
static void rekey_without_loss(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_session_status cst, gst;

	run(l, T0 + 100);
	jv_client_status(l->c, &cst);
	char sid[JV_SESSION_ID_HEX];
	snprintf(sid, sizeof sid, "%s", cst.session_id);
	/* traffic every 50 ms across the rekey at ~120 s */
	unsigned sent = 0, before = l->delivered_to_gw;
	for (jv_time t = T0 + 119000; t < T0 + 123000; t += 50) {
		run(l, t);
		jv_out_reset(&l->out);
		assert_int_equal(jv_client_send(l->c, ping, sizeof ping, l->now,
						&l->out), 0);
		enqueue(l, &l->out, true);
		sent++;
	}
	run(l, T0 + 124000);
	jv_client_status(l->c, &cst);
	assert_int_equal(jv_gateway_status(l->g, 0, &gst), 0);
	assert_int_equal(cst.key_epoch, 1);
	assert_int_equal(gst.key_epoch, 1);
	assert_string_equal(cst.session_id, sid);
	assert_int_equal(count(&l->cs, JV_EV_KEY_ROTATED), 1);
	assert_int_equal(count(&l->gs, JV_EV_KEY_ROTATED), 1);
	/* every data packet arrived (plus heartbeats) */
	assert_true(l->delivered_to_gw - before >= sent);
	assert_int_equal(gst.state, JV_STATE_ATTACHED);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	assert_false(l->spun);
	lab_free(l);
}

/* FM-1.2: death without backup: VOLATILE, DEGRADED, TERMINATED by TTL. */
static void death_without_backup(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);

	run(l, T0 + 5000);
	jv_time t0 = l->now;
	cut(l, 0, true);
	cut(l, 1, true);
	jv_out_reset(&l->out);
	/* the backup is gone first, so p1's death finds no candidate */
	assert_int_equal(jv_client_path_down(l->c, 1, t0, &l->out), 0);
	assert_int_equal(jv_client_path_down(l->c, 0, t0, &l->out), 0);
	run(l, t0 + 30000);
	assert_int_equal(count(&l->cs, JV_EV_REATTACH_ATTEMPT), 0);
	assert_true(count(&l->cs, JV_EV_TRANSPORT_SWITCH_DENIED) >= 1);
	int v = find_change(&l->cs, JV_STATE_ATTACHED, JV_STATE_VOLATILE, 0);
	int d = find_change(&l->cs, JV_STATE_VOLATILE, JV_STATE_DEGRADED, 0);
	int t = find_change(&l->cs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(v, -1);
	assert_int_not_equal(d, -1);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->cs.ev[v].ts, t0);
	assert_int_equal(l->cs.ev[d].ts, t0 + 4001);
	assert_int_equal(l->cs.ev[d].reason, JV_REASON_VOLATILE_PERSISTED);
	assert_int_equal(l->cs.ev[t].ts, t0 + 15001);
	assert_int_equal(l->cs.ev[t].reason, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	/* the gateway detects by silence and ends by its own TTL */
	t = find_change(&l->gs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->gs.ev[t].reason, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	versions_continuous(&l->cs);
	versions_continuous(&l->gs);
	assert_false(l->spun);
	lab_free(l);
}

/* T45: the only candidate dies while it is being tried. */
static void candidate_dies_during_recovery(void **st)
{
	(void)st;
	struct jv_policy pol;
	default_policy(&pol);
	struct lab *l = lab_new(&pol);

	run(l, T0 + 5000);
	jv_time t0 = l->now;
	cut(l, 0, true);
	cut(l, 1, true);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_down(l->c, 0, t0, &l->out), 0);
	assert_int_equal(jv_client_state(l->c), JV_STATE_RECOVERING);
	assert_int_equal(jv_client_path_down(l->c, 1, t0, &l->out), 0);
	int d = find_change(&l->cs, JV_STATE_RECOVERING, JV_STATE_DEGRADED, 0);
	assert_int_not_equal(d, -1);
	assert_int_equal(l->cs.ev[d].reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	assert_int_equal(l->cs.ev[d + 1].type, JV_EV_TRANSPORT_SWITCH_FAILED);
	run(l, t0 + 20000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	assert_false(l->spun);
	lab_free(l);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_and_data_both_ways),
		cmocka_unit_test(failover_without_handshake),
		cmocka_unit_test(replayed_request_is_denied),
		cmocka_unit_test(forged_tag_rejected),
		cmocka_unit_test(lifetime_expiry),
		cmocka_unit_test(rekey_without_loss),
		cmocka_unit_test(death_without_backup),
		cmocka_unit_test(candidate_dies_during_recovery),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
