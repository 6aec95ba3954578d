/* SPDX-License-Identifier: MIT */
/*
 * The gateway's drop counters (struct jv_gateway_counters), which the
 * metrics endpoint exports (docs/metrics.md): each kind of datagram the
 * gateway drops moves its own counter, and only that one; the handshake
 * refusals sum to hs_dropped.  Built on the engine lab (lab.h): a captured
 * datagram of the honest client, copied (replay), with a byte flipped
 * (failed open), with an index nobody holds (unknown index); bytes that
 * parse as nothing; an initiation without our mac1.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/session.h"
#include "jvpn/wire.h"

#include "lab.h"

static struct jv_gateway_counters counters(struct lab *l)
{
	struct jv_gateway_counters c;

	jv_gateway_counters(l->g, &c);
	return c;
}

/* The latest data or control datagram the client sent the gateway
 * that has been delivered already. */
static const struct pkt *captured(struct lab *l)
{
	const struct pkt *p = NULL;

	for (unsigned i = 0; i < l->ncap && i < CAPMAX; i++)
		if (l->cap[i].to_gw && l->cap[i].at + 4 * DELAY_MS < l->now &&
		    (l->cap[i].buf[0] == JV_MSG_DATA ||
		     l->cap[i].buf[0] == JV_MSG_CONTROL))
			p = &l->cap[i];
	assert_non_null(p);
	return p;
}

static void send_copy(struct lab *l, const struct pkt *p, void (*edit)(
			      struct pkt *))
{
	struct pkt k = *p;

	if (edit)
		edit(&k);
	inject(l, &k, &l->caddr[0]);
}

/* A fresh counter (the header is the AEAD's associated data). */
static void forge(struct pkt *k)
{
	struct jv_wire_hdr h;

	assert_int_equal(jv_wire_hdr_decode(k->buf, k->len, &h, NULL), 0);
	h.counter += 1000;
	jv_wire_hdr_encode(&h, k->buf);
}

static void other_index(struct pkt *k)
{
	struct jv_wire_hdr h;

	assert_int_equal(jv_wire_hdr_decode(k->buf, k->len, &h, NULL), 0);
	h.receiver_index ^= 0x01020304;
	jv_wire_hdr_encode(&h, k->buf);
}

static void each_drop_moves_its_counter(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct lab *l;
	struct jv_gateway_counters a, b;
	const struct pkt *p;
	struct pkt junk = { .len = 3, .buf = { 0xee, 1, 2 } };
	struct pkt init = { .len = JV_WIRE_INITIATION_SIZE };

	jv_policy_default(&pol);
	l = lab_new(&pol);
	l->capture = true;
	run(l, T0 + 3000);
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	p = captured(l);
	/* that one may have been lost (a probe on a path the lab cut): a
	 * first copy makes sure the gateway has seen it */
	send_copy(l, p, NULL);
	a = counters(l);
	assert_int_equal(a.hs_responded, 1);
	assert_int_equal(a.hs_dh, 1);

	send_copy(l, p, NULL);			/* a verbatim copy: replay */
	b = counters(l);
	assert_int_equal(b.dropped_replay, a.dropped_replay + 1);
	assert_int_equal(b.dropped_auth, a.dropped_auth);

	send_copy(l, p, forge);			/* fails to open */
	a = counters(l);
	assert_int_equal(a.dropped_auth, b.dropped_auth + 1);
	assert_int_equal(a.dropped_replay, b.dropped_replay);

	send_copy(l, p, other_index);		/* nobody holds that index */
	b = counters(l);
	assert_int_equal(b.dropped_unknown, a.dropped_unknown + 1);
	assert_int_equal(b.dropped_ended, a.dropped_ended);
	assert_int_equal(b.dropped_auth, a.dropped_auth);

	inject(l, &junk, &l->caddr[0]);		/* parses as nothing */
	a = counters(l);
	assert_int_equal(a.dropped_parse, b.dropped_parse + 1);

	init.buf[0] = JV_MSG_INITIATION;	/* no mac1 of ours */
	inject(l, &init, &l->caddr[0]);
	b = counters(l);
	assert_int_equal(b.hs_dropped, a.hs_dropped + 1);
	assert_int_equal(b.hs_bad_mac1, a.hs_bad_mac1 + 1);
	assert_true(b.hs_unknown_key <= b.hs_dropped_noise);
	assert_int_equal(b.hs_bad_mac1 + b.hs_dropped_lease +
				 b.hs_dropped_noise + b.hs_dropped_peer_limit +
				 b.hs_dropped_table_full,
			 b.hs_dropped);
	assert_int_equal(b.hs_responded, 1);
	assert_int_equal(b.dropped_rate_limited, 0);
	lab_free(l);
}

/* A packet for a session that ended is counted as unknown and as ended. */
static void ended_session_index(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct lab *l;
	struct jv_gateway_counters a, b;
	const struct pkt *p;

	jv_policy_default(&pol);
	l = lab_new(&pol);
	l->capture = true;
	run(l, T0 + 3000);
	p = captured(l);
	assert_int_equal(jv_gateway_terminate(l->g, 0, l->now, &l->out), 0);
	jv_out_reset(&l->out);
	a = counters(l);
	send_copy(l, p, NULL);
	b = counters(l);
	assert_int_equal(b.dropped_unknown, a.dropped_unknown + 1);
	assert_int_equal(b.dropped_ended, a.dropped_ended + 1);
	lab_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_drop_moves_its_counter),
		cmocka_unit_test(ended_session_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
