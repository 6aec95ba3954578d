/* SPDX-License-Identifier: MIT */
/* Expectations against hand-made event records. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/expect.h"

static struct sim_record rec;
static uint64_t version[2];

static void ssc(int side, jv_time t, enum jv_state from, enum jv_state to,
		enum jv_reason why)
{
	struct jv_event ev = { .type = JV_EV_SESSION_STATE_CHANGE,
			       .ts_ms = t, .state_version = ++version[side] };

	JV_EV_SET(&ev, previous_state, from);
	JV_EV_SET(&ev, new_state, to);
	JV_EV_SET(&ev, reason_code, why);
	assert_int_equal(sim_record_add(&rec, side, "s1", &ev), 0);
}

static void simple(int side, enum jv_event_type type, jv_time t,
		   const char *transport)
{
	struct jv_event ev = { .type = type, .ts_ms = t,
			       .state_version = version[side] };

	if (transport)
		JV_EV_SET(&ev, new_transport, transport);
	assert_int_equal(sim_record_add(&rec, side, "s1", &ev), 0);
}

static int setup(void **st)
{
	char buf[8];

	(void)st;
	sim_record_init(&rec);
	version[0] = version[1] = 0;
	simple(SIM_CLIENT, JV_EV_SESSION_CREATED, 20, NULL);
	simple(SIM_GATEWAY, JV_EV_SESSION_CREATED, 10, NULL);
	ssc(SIM_CLIENT, 20, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT);
	ssc(SIM_CLIENT, 5000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD);
	ssc(SIM_CLIENT, 5000, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	    JV_REASON_DEAD_TRANSPORT_RECOVERY);
	ssc(SIM_CLIENT, 5040, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	simple(SIM_CLIENT, JV_EV_TRANSPORT_SWITCH, 5040, "p2");
	for (int i = 0; i < 5; i++) {
		snprintf(buf, sizeof buf, "p%d", i);
		simple(SIM_GATEWAY, JV_EV_TRANSPORT_SWITCH,
		       10000 + 1000 * (jv_time)i, buf);
	}
	{
		struct jv_event ev = { .type = JV_EV_REATTACH_RESULT,
				       .ts_ms = 15000 };

		JV_EV_SET(&ev, nonce, 7);
		assert_int_equal(sim_record_add(&rec, SIM_GATEWAY, "s1", &ev),
				 0);
	}
	rec.final_known[0] = rec.final_known[1] = true;
	rec.final_state[0] = JV_STATE_ATTACHED;
	rec.final_state[1] = JV_STATE_DEGRADED;
	rec.final_version[0] = 4;
	rec.end = 20000;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	sim_record_free(&rec);
	return 0;
}

/* Parse "key = value" and check it against rec and m. */
static bool holds_m(const char *line, const struct sim_measure *m)
{
	struct sim_expect x;
	struct jv_diag d;
	char key[32], why[512];
	const char *eq = strstr(line, " = ");

	assert_non_null(eq);
	snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
	jv_diag_clear(&d);
	if (sim_expect_parse(&x, key, eq + 3, 7, &d))
		fail_msg("does not parse: %s (%s)", line, d.msg);
	return sim_expect_check(&x, &rec, m, why, sizeof why);
}

static bool holds(const char *line)
{
	struct sim_measure m = { 0 };

	return holds_m(line, &m);
}

static void final_and_version(void **st)
{
	(void)st;
	assert_true(holds("final = client ATTACHED"));
	assert_false(holds("final = gateway ATTACHED"));
	assert_true(holds("version = client 4"));
	assert_true(holds("version = client 3..5"));
	assert_false(holds("version = client <=3"));
}

static void events_and_counts(void **st)
{
	(void)st;
	assert_true(holds("event = client TransportSwitch"));
	assert_true(holds("event = client TransportSwitch new_transport=p2 "
			  "count=1 at=5040"));
	assert_false(holds("event = client TransportSwitch at=5000..5039"));
	assert_true(holds("event = gateway TransportSwitch count=5"));
	assert_true(holds("event = gateway TransportSwitch count>=5"));
	assert_false(holds("event = gateway TransportSwitch count<=4"));
	assert_true(holds("event = gateway TransportSwitch count=3 "
			  "after=11000"));
	assert_true(holds("event = gateway TransportSwitch count=1 "
			  "before=11000"));
	assert_true(holds("no = client SessionTerminated"));
	assert_false(holds("no = gateway TransportSwitch"));
	assert_true(holds("event = gateway SessionCreated count=1 "
			  "at=created+0"));
	assert_true(holds("event = client SessionStateChange "
			  "reason=transport_dead at=created+4980"));
	assert_true(holds("event = client * count=6"));
	/* Numeric comparisons. */
	assert_true(holds("event = gateway ReattachResult nonce>=7 count=1"));
	assert_true(holds("no = gateway ReattachResult nonce<=6"));
	assert_false(holds("event = gateway ReattachResult nonce>=8"));
}

static void sequences(void **st)
{
	(void)st;
	assert_true(holds("sequence = client ATTACHED VOLATILE[transport_dead]"
			  "@5000 RECOVERING ATTACHED[reattach_success]"
			  "@5000..5040"));
	assert_false(holds("sequence = client ATTACHED VOLATILE RECOVERING"));
	assert_true(holds("sequence = client ... RECOVERING ATTACHED"));
	assert_true(holds("sequence = client ATTACHED ... ATTACHED"));
	assert_true(holds("sequence = client ... VOLATILE ..."));
	assert_false(holds("sequence = client ... DEGRADED ..."));
	assert_false(holds("sequence = client ATTACHED VOLATILE@4999 ..."));
	/* Relative to the previous transition. */
	assert_true(holds("sequence = client ... RECOVERING@+0 "
			  "ATTACHED@+40"));
	assert_false(holds("sequence = client ... RECOVERING "
			   "ATTACHED@+0..39"));
	assert_true(holds("states = client ATTACHED VOLATILE RECOVERING"));
	assert_false(holds("states = client ATTACHED VOLATILE"));
	assert_true(holds("state_at = 5000 client RECOVERING"));
	assert_true(holds("state_at = 5039 client RECOVERING"));
	assert_true(holds("state_at = 5040 client ATTACHED"));
	assert_false(holds("state_at = 19 client ATTACHED"));
}

static void rates_and_spacing(void **st)
{
	(void)st;
	assert_true(holds("rate = gateway TransportSwitch <=5 per 60000"));
	assert_false(holds("rate = gateway TransportSwitch <=4 per 60000"));
	assert_true(holds("rate = gateway TransportSwitch <=1 per 1000"));
	assert_false(holds("rate = gateway TransportSwitch <=1 per 1001"));
	assert_true(holds("spacing = gateway TransportSwitch >=1000"));
	assert_false(holds("spacing = gateway TransportSwitch >=1001"));
	assert_true(holds("session = stable"));
	assert_true(holds("sessions = client 1"));
}

static void gaps_need_a_stream(void **st)
{
	struct sim_expect x;
	struct sim_meter up;
	struct sim_measure m = { 0 };
	const jv_time f[] = { 100 };
	char why[256];

	(void)st;
	assert_int_equal(sim_expect_parse(&x, "max_gap_ms", "up 300", 1, NULL),
			 0);
	assert_false(sim_expect_check(&x, &rec, &m, why, sizeof why));
	assert_non_null(strstr(why, "no stream"));
	assert_int_equal(sim_meter_init(&up, 10, f, 1), 0);
	sim_meter_sent(&up, 0);
	sim_meter_delivered(&up, 0, 0, 50);
	sim_meter_delivered(&up, 1, 0, 400);
	m.up = &up;
	assert_true(sim_expect_check(&x, &rec, &m, why, sizeof why));
	sim_meter_delivered(&up, 2, 0, 800);
	assert_false(sim_expect_check(&x, &rec, &m, why, sizeof why));
	assert_non_null(strstr(why, "up gap 400 ms"));
	sim_meter_free(&up);
}

/* gateway@NODE: one node's events of the merged gateway side. */
static void nodes(void **st)
{
	struct jv_event ev = { .type = JV_EV_SESSION_OWNER_TRANSFERRED,
			       .ts_ms = 16000 };

	(void)st;
	JV_EV_SET(&ev, owner_node_id, "gw2");
	JV_EV_SET(&ev, owner_epoch, 2);
	assert_int_equal(sim_record_add_node(&rec, SIM_GATEWAY, "gw2", "s1",
					     &ev), 0);
	ev = (struct jv_event){ .type = JV_EV_SESSION_STATE_CHANGE,
				.ts_ms = 17000, .state_version = 1 };
	JV_EV_SET(&ev, previous_state, JV_STATE_ATTACHED);
	JV_EV_SET(&ev, new_state, JV_STATE_VOLATILE);
	JV_EV_SET(&ev, reason_code, JV_REASON_HEARTBEAT_TIMEOUT);
	assert_int_equal(sim_record_add_node(&rec, SIM_GATEWAY, "gw2", "s1",
					     &ev), 0);
	assert_true(holds("event = gateway@gw2 SessionOwnerTransferred "
			  "owner_epoch=2 count=1"));
	assert_false(holds("event = gateway@gw1 SessionOwnerTransferred"));
	assert_true(holds("event = gateway SessionOwnerTransferred count=1"));
	assert_true(holds("no = gateway@gw1 *"));
	assert_false(holds("no = gateway@gw2 * after=16000"));
	assert_true(holds("event = gateway@gw2 * count=2"));
	assert_true(holds("sequence = gateway@gw2 VOLATILE[heartbeat_timeout]"
			  "@17000"));
	assert_true(holds("states = gateway@gw2 VOLATILE"));
	assert_true(holds("state_at = 17000 gateway@gw2 VOLATILE"));
	assert_false(holds("state_at = 16999 gateway@gw2 VOLATILE"));
	snprintf(rec.final_node[SIM_GATEWAY], sizeof rec.final_node[0], "gw2");
	assert_true(holds("final = gateway@gw2 DEGRADED"));
	assert_false(holds("final = gateway@gw1 DEGRADED"));
	assert_true(holds("final = gateway DEGRADED"));
}

static void store_and_silence(void **st)
{
	struct sim_measure m = { 0 };
	struct sim_meter up;
	const jv_time f[] = { 100 };

	(void)st;
	assert_false(holds("store = adoptions 0"));	/* no [Store] */
	m.have_store = true;
	m.store[SIM_SK_ADOPTIONS] = 1;
	assert_true(holds_m("store = adoptions 1", &m));
	assert_true(holds_m("store = conflicts 0", &m));
	assert_false(holds_m("store = conflicts >=1", &m));
	assert_false(holds_m("silent_after = 500", &m));	/* no stream */
	assert_int_equal(sim_meter_init(&up, 10, f, 1), 0);
	sim_meter_sent(&up, 0);
	sim_meter_delivered(&up, 0, 0, 50);
	sim_meter_delivered(&up, 1, 0, 400);
	m.up = &up;
	assert_true(holds_m("silent_after = up 400", &m));
	assert_true(holds_m("silent_after = 400", &m));
	assert_false(holds_m("silent_after = up 399", &m));
	assert_false(holds_m("silent_after = down 1000", &m));
	sim_meter_free(&up);
}

/* PD-7: an event without trigger_class counts as discretionary (logs of
 * before the split); PD-8: the answers to switch orders. */
static void trigger_class_and_orders(void **st)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_SWITCH, .ts_ms = 16000,
			       .state_version = version[SIM_GATEWAY] };
	const struct sim_order o[] = {
		{ .at = 3000, .result = SIM_ORDER_ACCEPTED,
		  .refused = JV_REASON_NONE },
		{ .at = 3100, .result = SIM_ORDER_REFUSED,
		  .refused = JV_REASON_COOLDOWN_ACTIVE },
	};
	struct sim_measure m = { .orders = o, .norders = 2 };

	(void)st;
	assert_true(holds("rate = gateway TransportSwitch "
			  "trigger_class=discretionary <=5 per 60000"));
	assert_false(holds("rate = gateway TransportSwitch "
			   "trigger_class=discretionary <=4 per 60000"));
	assert_true(holds("no = gateway TransportSwitch trigger_class=forced"));
	JV_EV_SET(&ev, new_transport, "p1");
	JV_EV_SET(&ev, trigger_class, "forced");
	assert_int_equal(sim_record_add(&rec, SIM_GATEWAY, "s1", &ev), 0);
	assert_true(holds("event = gateway TransportSwitch "
			  "trigger_class=forced count=1 at=16000"));
	assert_true(holds("rate = gateway TransportSwitch "
			  "trigger_class=discretionary <=5 per 60000"));
	assert_false(holds("rate = gateway TransportSwitch <=5 per 60000"));

	assert_true(holds_m("order = 3000 accepted", &m));
	assert_false(holds_m("order = 3000 refused", &m));
	assert_true(holds_m("order = 3100 refused", &m));
	assert_true(holds_m("order = 3100 refused[cooldown_active]", &m));
	assert_false(holds_m("order = 3100 refused[switch_rate_limited]", &m));
	assert_false(holds_m("order = 3200 accepted", &m));
}

static void order_syntax(void **st)
{
	static const char *const bad[] = {
		"3000", "3000 maybe", "created+5 accepted",
		"3000 refused[no_such_reason]",
		"3000 accepted[cooldown_active]",
		"3000 refused[cooldown_active", "x accepted",
	};
	struct sim_expect x;
	struct jv_diag d;

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		jv_diag_clear(&d);
		if (!sim_expect_parse(&x, "order", bad[i], 3, &d))
			fail_msg("order = %s parsed", bad[i]);
	}
	assert_int_equal(sim_expect_parse(&x, "order", "3000 error", 3, &d), 0);
	assert_int_equal(x.dir, SIM_ORDER_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(final_and_version),
		cmocka_unit_test(events_and_counts),
		cmocka_unit_test(sequences),
		cmocka_unit_test(rates_and_spacing),
		cmocka_unit_test(gaps_need_a_stream),
		cmocka_unit_test(nodes),
		cmocka_unit_test(store_and_silence),
		cmocka_unit_test(order_syntax),
		/* last: it adds an event to the shared record */
		cmocka_unit_test(trigger_class_and_orders),
	};

	return cmocka_run_group_tests_name("sim_expect", tests, setup,
					   teardown);
}
