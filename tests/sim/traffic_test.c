/* SPDX-License-Identifier: MIT */
/* Tunnel packets round-trip; the meter's gap follows its definition. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/traffic.h"

static void packet_round_trip(void **st)
{
	uint8_t b[1500];
	enum sim_flow f;
	uint32_t seq;
	jv_time sent;
	int n;

	(void)st;
	n = sim_traffic_build(b, sizeof b, SIM_FLOW_DOWN, 123456, 98765, 200);
	assert_int_equal(n, 200);
	assert_int_equal(b[0], 0x45);
	assert_int_equal(sim_traffic_parse(b, (size_t)n, &f, &seq, &sent), 0);
	assert_int_equal(f, SIM_FLOW_DOWN);
	assert_int_equal(seq, 123456);
	assert_int_equal(sent, 98765);
	/* A flipped header bit breaks the IPv4 checksum. */
	b[8] ^= 1;
	assert_int_equal(sim_traffic_parse(b, (size_t)n, &f, &seq, &sent),
			 JV_ERR_PARSE);
	b[8] ^= 1;
	/* A length that disagrees with the buffer. */
	assert_int_equal(sim_traffic_parse(b, (size_t)n - 1, &f, &seq, &sent),
			 JV_ERR_PARSE);
	/* Too small a buffer. */
	assert_int_equal(sim_traffic_build(b, 10, SIM_FLOW_UP, 1, 1, 100),
			 JV_ERR_NOSPACE);
	/* Sizes clamp to the minimum. */
	n = sim_traffic_build(b, sizeof b, SIM_FLOW_UP, 1, 1, 1);
	assert_int_equal(n, SIM_TRAFFIC_MIN);
}

/* A 100 packets/s stream delivered with a hole from 5000 to 5300. */
static void gap_after_fault(void **st)
{
	struct sim_meter m;
	const jv_time faults[] = { 8000, 5000 };	/* unsorted on purpose */
	bool unrec;
	size_t fi;

	(void)st;
	assert_int_equal(sim_meter_init(&m, 2000, faults, 2), 0);
	for (uint32_t k = 0; k < 1000; k++) {
		jv_time sent = 1000 + 10 * (jv_time)k;

		sim_meter_sent(&m, sent);
		if (sent >= 4995 && sent < 5300)
			continue;	/* lost */
		sim_meter_delivered(&m, k, sent, sent + 20);
	}
	sim_meter_finish(&m, 11000);
	/* Packets sent 5000..5290 are lost.  The one sent at 4990 arrives at
	 * 5010, after the fault; the next arrives at 5320: gap 310. */
	assert_int_equal(m.gaps[0].fault_at, 5000);
	assert_int_equal(m.gaps[0].gap_ms, 310);
	assert_false(m.gaps[0].unrecovered);
	/* The second fault saw a clean stream: the 10 ms floor. */
	assert_int_equal(m.gaps[1].fault_at, 8000);
	assert_int_equal(m.gaps[1].gap_ms, 10);
	assert_int_equal(sim_meter_max_gap(&m, &unrec, &fi), 310);
	assert_int_equal(fi, 0);
	assert_int_equal(m.delivered, 970);
	sim_meter_free(&m);
}

static void gap_measured_from_the_fault(void **st)
{
	struct sim_meter m;
	const jv_time faults[] = { 5000 };

	(void)st;
	assert_int_equal(sim_meter_init(&m, 100, faults, 1), 0);
	sim_meter_sent(&m, 0);
	sim_meter_delivered(&m, 0, 0, 1000);	/* long before the fault */
	sim_meter_delivered(&m, 1, 0, 5400);
	/* Counted from the fault, not from the last delivery. */
	assert_int_equal(m.gaps[0].gap_ms, 400);
	sim_meter_delivered(&m, 1, 0, 5500);	/* duplicate: no effect */
	assert_int_equal(m.duplicates, 1);
	sim_meter_free(&m);
}

static void unrecovered_when_nothing_arrives(void **st)
{
	struct sim_meter m;
	const jv_time faults[] = { 5000 };
	bool unrec;

	(void)st;
	assert_int_equal(sim_meter_init(&m, 100, faults, 1), 0);
	sim_meter_sent(&m, 1000);
	sim_meter_delivered(&m, 0, 1000, 4990);
	sim_meter_finish(&m, 20000);
	assert_int_equal(sim_meter_max_gap(&m, &unrec, NULL), 15000);
	assert_true(unrec);
	sim_meter_free(&m);
}

static void request_response(void **st)
{
	struct sim_rr r;

	(void)st;
	assert_int_equal(sim_rr_init(&r, 10, 1000), 0);
	r.sent = 3;
	sim_rr_answered(&r, 0, 100, 140);
	sim_rr_answered(&r, 0, 100, 150);	/* duplicate */
	sim_rr_answered(&r, 1, 200, 1300);	/* late */
	assert_int_equal(r.answered, 1);
	assert_int_equal(r.late, 1);
	assert_int_equal(r.rtt_max_ms, 40);
	sim_rr_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(packet_round_trip),
		cmocka_unit_test(gap_after_fault),
		cmocka_unit_test(gap_measured_from_the_fault),
		cmocka_unit_test(unrecovered_when_nothing_arrives),
		cmocka_unit_test(request_response),
	};

	return cmocka_run_group_tests_name("sim_traffic", tests, NULL, NULL);
}
