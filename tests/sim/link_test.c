/* SPDX-License-Identifier: MIT */
/* Virtual links: exact delay, seeded loss, blackout, patterns, bandwidth. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/link.h"

static struct sim_link_params clean(uint32_t delay)
{
	struct sim_link_params p;

	sim_link_params_default(&p);
	p.delay_ms = delay;
	return p;
}

static void delay_is_exact(void **st)
{
	struct sim_link_params p = clean(37);
	struct sim_link l;
	struct sim_verdict v;

	(void)st;
	sim_link_init(&l, &p, 1, "t");
	for (jv_time now = 1; now < 1000; now += 7) {
		sim_link_transmit(&l, now, 100, &v);
		assert_int_equal(v.fate, SIM_DELIVERED);
		assert_int_equal(v.copies, 1);
		assert_int_equal(v.at[0], now + 37);
		assert_int_equal(v.flip_bit, -1);
	}
}

static void loss_ratio_within_tolerance_and_seeded(void **st)
{
	struct sim_link_params p = clean(10);
	struct sim_link a, b;
	struct sim_verdict va, vb;
	unsigned lost = 0, n = 100000;

	(void)st;
	p.loss = 0.2;
	sim_link_init(&a, &p, 42, "p1/up");
	sim_link_init(&b, &p, 42, "p1/up");
	for (unsigned i = 0; i < n; i++) {
		sim_link_transmit(&a, i, 100, &va);
		sim_link_transmit(&b, i, 100, &vb);
		/* Same seed and stream: the very same fates. */
		assert_int_equal(va.fate, vb.fate);
		lost += va.fate == SIM_LOST_RANDOM;
	}
	/* 100 000 Bernoulli(0.2) draws: sd ~ 126; allow ~8 sd. */
	assert_in_range(lost, 19000, 21000);
	assert_int_equal(a.st.lost_random, lost);

	/* Another stream name gives other fates. */
	sim_link_init(&b, &p, 42, "p1/down");
	unsigned differ = 0;
	sim_link_init(&a, &p, 42, "p1/up");
	for (unsigned i = 0; i < 1000; i++) {
		sim_link_transmit(&a, i, 100, &va);
		sim_link_transmit(&b, i, 100, &vb);
		differ += va.fate != vb.fate;
	}
	assert_true(differ > 100);
}

static void blackout_loses_everything_then_recovers(void **st)
{
	struct sim_link_params p = clean(5);
	struct sim_link l;
	struct sim_verdict v;

	(void)st;
	sim_link_init(&l, &p, 1, "t");
	l.down = true;
	for (int i = 0; i < 100; i++) {
		sim_link_transmit(&l, 1000 + (jv_time)i, 80, &v);
		assert_int_equal(v.fate, SIM_LOST_DOWN);
		assert_int_equal(v.copies, 0);
	}
	assert_int_equal(l.st.lost_down, 100);
	l.down = false;
	sim_link_transmit(&l, 2000, 80, &v);
	assert_int_equal(v.fate, SIM_DELIVERED);
	assert_int_equal(v.at[0], 2005);
}

static void pattern_loss_is_periodic(void **st)
{
	struct sim_link_params p = clean(1);
	struct sim_link l;
	struct sim_verdict v;
	unsigned lost = 0;

	(void)st;
	assert_int_equal(sim_link_param_set(&p, "loss_pattern", "150/1000",
					    NULL), 0);
	sim_link_init(&l, &p, 1, "t");
	for (jv_time now = 0; now < 10000; now++) {
		sim_link_transmit(&l, now, 60, &v);
		assert_int_equal(v.fate == SIM_LOST_PATTERN,
				 now % 1000 < 150);
		lost += v.fate != SIM_DELIVERED;
	}
	assert_int_equal(lost, 1500);
}

static void jitter_never_reorders_but_reorder_does(void **st)
{
	struct sim_link_params p = clean(20);
	struct sim_link l;
	struct sim_verdict v;
	jv_time last = 0;
	unsigned overtaken = 0;

	(void)st;
	p.jitter_ms = 50;
	sim_link_init(&l, &p, 3, "t");
	for (jv_time now = 0; now < 2000; now++) {
		sim_link_transmit(&l, now, 60, &v);
		assert_true(v.at[0] >= last);
		assert_in_range(v.at[0], now + 20, now + 70);
		last = v.at[0];
	}
	p.reorder = 0.1;
	p.reorder_ms = 30;
	sim_link_init(&l, &p, 3, "t");
	last = 0;
	for (jv_time now = 0; now < 2000; now++) {
		sim_link_transmit(&l, now, 60, &v);
		overtaken += v.at[0] < last;
		if (v.at[0] > last)
			last = v.at[0];
	}
	assert_true(l.st.reordered > 100);
	assert_true(overtaken > 0);
}

static void bandwidth_serialises_and_tail_drops(void **st)
{
	struct sim_link_params p = clean(0);
	struct sim_link l;
	struct sim_verdict v;

	(void)st;
	p.rate_kbps = 800;		/* 100 bytes per ms */
	p.queue_bytes = 1000;
	sim_link_init(&l, &p, 1, "t");
	/* Ten 100-byte datagrams at once leave 1 ms apart. */
	for (int i = 0; i < 10; i++) {
		sim_link_transmit(&l, 100, 100, &v);
		assert_int_equal(v.fate, SIM_DELIVERED);
		assert_int_equal(v.at[0], 101 + (jv_time)i);
	}
	/* The backlog is now 1000 bytes: the next one is dropped. */
	sim_link_transmit(&l, 100, 100, &v);
	assert_int_equal(v.fate, SIM_LOST_QUEUE);
	/* Once drained, it flows again. */
	sim_link_transmit(&l, 200, 100, &v);
	assert_int_equal(v.fate, SIM_DELIVERED);
	assert_int_equal(v.at[0], 201);
}

static void duplicate_and_corrupt(void **st)
{
	struct sim_link_params p = clean(4);
	struct sim_link l;
	struct sim_verdict v;

	(void)st;
	p.duplicate = 1.0;
	p.corrupt = 1.0;
	sim_link_init(&l, &p, 1, "t");
	sim_link_transmit(&l, 10, 50, &v);
	assert_int_equal(v.copies, 2);
	assert_int_equal(v.at[0], 14);
	assert_int_equal(v.at[1], 14);
	assert_in_range(v.flip_bit, 0, 50 * 8 - 1);
}

static void burst_loss_comes_in_runs(void **st)
{
	struct sim_link_params p = clean(1);
	struct sim_link l;
	struct sim_verdict v;
	unsigned runs = 0, lost = 0;
	bool prev = false;

	(void)st;
	p.burst_enter = 0.01;
	p.burst_exit = 0.2;
	sim_link_init(&l, &p, 9, "t");
	for (jv_time now = 0; now < 100000; now++) {
		sim_link_transmit(&l, now, 60, &v);
		bool is_lost = v.fate == SIM_LOST_BURST;

		lost += is_lost;
		runs += is_lost && !prev;
		prev = is_lost;
	}
	/* Stationary bad share 0.01 / 0.21 ~ 4.8 %, runs of ~5. */
	assert_in_range(lost, 3500, 6000);
	assert_true(lost / runs >= 3);
}

static void params_reject_bad_values(void **st)
{
	struct sim_link_params p;
	struct jv_diag d;

	(void)st;
	sim_link_params_default(&p);
	jv_diag_clear(&d);
	assert_int_equal(sim_link_param_set(&p, "loss", "1.5", &d),
			 JV_ERR_PARSE);
	assert_string_equal(d.key, "loss");
	assert_string_equal(d.value, "1.5");
	assert_int_equal(sim_link_param_set(&p, "delay_ms", "-1", &d),
			 JV_ERR_PARSE);
	assert_int_equal(sim_link_param_set(&p, "loss_pattern", "20/10", &d),
			 JV_ERR_PARSE);
	assert_int_equal(sim_link_param_set(&p, "nope", "1", &d),
			 JV_ERR_NOTFOUND);
	assert_int_equal(sim_link_param_set(&p, "loss", "0.25", &d), 0);
	assert_true(p.loss == 0.25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(delay_is_exact),
		cmocka_unit_test(loss_ratio_within_tolerance_and_seeded),
		cmocka_unit_test(blackout_loses_everything_then_recovers),
		cmocka_unit_test(pattern_loss_is_periodic),
		cmocka_unit_test(jitter_never_reorders_but_reorder_does),
		cmocka_unit_test(bandwidth_serialises_and_tail_drops),
		cmocka_unit_test(duplicate_and_corrupt),
		cmocka_unit_test(burst_loss_comes_in_runs),
		cmocka_unit_test(params_reject_bad_values),
	};

	return cmocka_run_group_tests_name("sim_link", tests, NULL, NULL);
}
