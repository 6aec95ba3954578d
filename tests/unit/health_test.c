/* SPDX-License-Identifier: MIT */
/* Transport health: window edges, RTT numbers, condition order, stability. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/health.h"
#include "jvpn/policy.h"

/* Spec §4 defaults (policy_test checks them value by value). */
static void policy_defaults(struct jv_policy *p)
{
	jv_policy_default(p);
}

static struct jv_health_snapshot snap(const struct jv_health *h,
				      const struct jv_policy *p, jv_time now)
{
	struct jv_health_snapshot s;

	jv_health_snapshot(h, p, now, &s);
	return s;
}

static void fresh_state(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 100);
	struct jv_health_snapshot s = snap(&h, &p, 100);

	assert_false(s.loss_defined);
	assert_int_equal(s.loss_samples, 0);
	assert_false(s.rtt_measured);
	assert_false(s.p95_defined);
	assert_true(s.last_good_ms == JV_TIME_NEVER);
	assert_int_equal(s.heartbeat_age_ms, 0);
	assert_int_equal(s.stability_ms, 0);	/* no fact yet */
	assert_true(s.score == 100.0);
	assert_int_equal(jv_health_condition(&h, &p, 100), JV_REASON_NONE);
	assert_int_equal(jv_health_drop_timeout_ms(&h, &p), 500);
	/* heartbeat_age counts from init; silence deadline is 100+2000+1 */
	assert_int_equal(jv_health_next_change(&h, &p, 100), 2101);
}

/* W = 2000 / 20 = 100 ms; a sample at t counts while now < (t/100+20)*100. */
static void loss_bucket_edges(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_data(&h, &p, 50, 8, 2);	/* bucket 0 */
	jv_health_on_data(&h, &p, 199, 4, 0);	/* bucket 1 */

	struct jv_health_snapshot s = snap(&h, &p, 199);
	assert_int_equal(s.loss_samples, 14);
	assert_true(s.loss_defined);
	assert_true(s.loss_ratio == 2.0 / 14.0);
	assert_int_equal(s.acked_in_window, 0);
	assert_int_equal(s.last_good_ms, 199);

	assert_int_equal(snap(&h, &p, 1999).loss_samples, 14);
	assert_int_equal(snap(&h, &p, 2000).loss_samples, 4);	/* bucket 0 out */
	assert_int_equal(snap(&h, &p, 2099).loss_samples, 4);
	assert_int_equal(snap(&h, &p, 2100).loss_samples, 0);	/* bucket 1 out */
	assert_false(snap(&h, &p, 2100).loss_defined);

	/* slot 0 reused by bucket 20: its old counts must not leak in */
	jv_health_on_data(&h, &p, 2050, 1, 0);
	s = snap(&h, &p, 2050);
	assert_int_equal(s.loss_samples, 5);
	assert_int_equal(h.bucket_epoch[0], 20);
	assert_int_equal(h.delivered[0], 1);
	assert_int_equal(h.dropped[0], 0);
}

static void min_loss_samples_and_threshold_edges(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	/* 9 samples, 5 lost: undefined, so no condition and no score cost */
	jv_health_on_data(&h, &p, 10, 4, 5);
	struct jv_health_snapshot s = snap(&h, &p, 10);
	assert_false(s.loss_defined);
	assert_true(s.loss_ratio == 0.0);
	assert_true(s.score == 100.0);
	assert_int_equal(jv_health_condition(&h, &p, 10), JV_REASON_NONE);
	/* the tenth sample defines it: 5/10 > 0.20 */
	jv_health_on_data(&h, &p, 11, 1, 0);
	s = snap(&h, &p, 11);
	assert_true(s.loss_defined);
	assert_true(s.loss_ratio == 0.5);
	assert_true(s.score == 0.0);	/* 100 - 100 clamps at 0 */
	assert_int_equal(jv_health_condition(&h, &p, 11),
			 JV_REASON_LOSS_THRESHOLD_EXCEEDED);

	/* exactly the threshold does not fire (strict, §2.4) */
	jv_health_init(&h, &p, 0);
	jv_health_on_data(&h, &p, 10, 8, 2);
	assert_true(snap(&h, &p, 10).loss_ratio == 0.2);
	assert_int_equal(jv_health_condition(&h, &p, 10), JV_REASON_NONE);
	jv_health_on_data(&h, &p, 10, 0, 1);	/* 3/11 */
	assert_int_equal(jv_health_condition(&h, &p, 10),
			 JV_REASON_LOSS_THRESHOLD_EXCEEDED);
}

static void rtt_numbers(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_ack(&h, &p, 10, 100);
	assert_true(snap(&h, &p, 10).srtt_ms == 100.0);	/* first as is */
	jv_health_on_ack(&h, &p, 20, 200);
	assert_true(snap(&h, &p, 20).srtt_ms == 125.0);	/* 100 + 100/4 */
	jv_health_on_ack(&h, &p, 30, 200);
	assert_true(snap(&h, &p, 30).srtt_ms == 143.75);
	jv_health_on_ack(&h, &p, 40, 100);
	/* 143 750 us + (-43 750 / 4 -> -10 937) = 132 813 us */
	assert_int_equal(h.srtt_us, 132813);

	struct jv_health_snapshot s = snap(&h, &p, 40);
	assert_true(s.rtt_measured);
	assert_true(s.p95_defined);
	assert_int_equal(s.p95_ms, 200);	/* rank ceil(3.8) = 4 */
	assert_true(s.jitter_ms == 50.0);	/* mean 150, |dev| 50 each */
	assert_int_equal(s.acked_in_window, 4);
	assert_int_equal(s.last_good_ms, 40);
	assert_int_equal(s.heartbeat_age_ms, 0);
	assert_false(s.loss_defined);
	assert_true(s.score == 100.0 - 0.3 * 50.0 - 0.1 * 132.813);

	/* OP-5: max(500, ceil(3 x 132.813)) = 500; with srtt 300: 900 */
	assert_int_equal(jv_health_drop_timeout_ms(&h, &p), 500);
	jv_health_init(&h, &p, 0);
	jv_health_on_ack(&h, &p, 1, 300);
	assert_int_equal(jv_health_drop_timeout_ms(&h, &p), 900);
	jv_health_on_ack(&h, &p, 2, 301);	/* 300.25 -> 900.75 -> 901 */
	assert_int_equal(jv_health_drop_timeout_ms(&h, &p), 901);
}

static void p95_rank_and_latency_window(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	/* 1..20 given in reverse: nearest rank 19 of 20 */
	for (uint32_t i = 0; i < 20; i++)
		jv_health_on_ack(&h, &p, 100 + i, 20 - i);
	assert_int_equal(snap(&h, &p, 120).p95_ms, 19);

	/* 70 samples: the ring keeps the last 64 (values 7..70); rank 61 */
	jv_health_init(&h, &p, 0);
	for (uint32_t i = 1; i <= 70; i++)
		jv_health_on_ack(&h, &p, 1000, i);
	assert_int_equal(h.rtt_count, JV_RTT_SAMPLES_MAX);
	assert_int_equal(snap(&h, &p, 1000).p95_ms, 6 + 61);

	/* window edge: a sample at t counts while now - t < 2000 */
	jv_health_init(&h, &p, 0);
	jv_health_on_ack(&h, &p, 10, 500);
	jv_health_on_ack(&h, &p, 20, 100);
	assert_int_equal(snap(&h, &p, 2009).p95_ms, 500);
	assert_int_equal(snap(&h, &p, 2010).p95_ms, 100);
	assert_true(snap(&h, &p, 2010).jitter_ms == 0.0);	/* one sample */
	assert_false(snap(&h, &p, 2020).p95_defined);
	/* srtt is not windowed */
	assert_true(snap(&h, &p, 2020).srtt_ms == 400.0);
}

static void condition_order_and_strict_edges(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	p.latency_volatile_threshold_ms = 150;
	p.latency_window_ms = 5000;
	jv_health_init(&h, &p, 0);

	jv_health_on_ack(&h, &p, 100, 300);
	assert_int_equal(jv_health_condition(&h, &p, 100),
			 JV_REASON_LATENCY_THRESHOLD_EXCEEDED);
	/* silence: age 2000 is not > 2000 */
	assert_int_equal(jv_health_condition(&h, &p, 2100),
			 JV_REASON_LATENCY_THRESHOLD_EXCEEDED);
	assert_true(jv_health_is_silent(&h, &p, 2101));
	assert_false(jv_health_is_silent(&h, &p, 2100));
	assert_int_equal(jv_health_condition(&h, &p, 2101),
			 JV_REASON_HEARTBEAT_TIMEOUT);
	/* loss ranks before heartbeat_timeout: 10 lost (the ACK at 100
	 * left the loss window at 2100) */
	jv_health_on_data(&h, &p, 2101, 0, 10);
	assert_int_equal(jv_health_condition(&h, &p, 2101),
			 JV_REASON_LOSS_THRESHOLD_EXCEEDED);
	/* drop run ranks before loss: 2 drops do not reach 3 */
	jv_health_on_drop(&h, &p, 2102);
	jv_health_on_drop(&h, &p, 2103);
	assert_int_equal(jv_health_condition(&h, &p, 2103),
			 JV_REASON_LOSS_THRESHOLD_EXCEEDED);
	jv_health_on_drop(&h, &p, 2104);
	assert_int_equal(snap(&h, &p, 2104).consecutive_drops, 3);
	assert_int_equal(jv_health_condition(&h, &p, 2104),
			 JV_REASON_CONSECUTIVE_DROP_EXCEEDED);
	/* transport_dead by silence: age 4000 not yet, 4001 yes */
	assert_int_equal(jv_health_condition(&h, &p, 4100),
			 JV_REASON_CONSECUTIVE_DROP_EXCEEDED);
	assert_int_equal(jv_health_condition(&h, &p, 4101),
			 JV_REASON_TRANSPORT_DEAD);

	/* hard failure first of all, cleared by the next success */
	jv_health_init(&h, &p, 0);
	jv_health_on_hard_failure(&h, &p, 5);
	assert_true(jv_health_hard_failed(&h));
	assert_int_equal(jv_health_condition(&h, &p, 5),
			 JV_REASON_TRANSPORT_DEAD);
	assert_true(snap(&h, &p, 5).hard_failed);
	jv_health_on_ack(&h, &p, 6, 10);
	assert_false(jv_health_hard_failed(&h));
	assert_int_equal(jv_health_condition(&h, &p, 6), JV_REASON_NONE);
}

static void drop_run_reset_by_success_only(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_drop(&h, &p, 10);
	jv_health_on_drop(&h, &p, 20);
	jv_health_on_data(&h, &p, 30, 50, 0);	/* data does not end the run */
	jv_health_on_alive(&h, &p, 35);		/* nor does the gateway fact */
	assert_int_equal(h.consecutive_drops, 2);
	jv_health_on_ack(&h, &p, 40, 10);
	assert_int_equal(h.consecutive_drops, 0);
}

static void gateway_alive_sets_heartbeat_age(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_data(&h, &p, 1500, 3, 0);	/* data alone: age grows */
	assert_int_equal(snap(&h, &p, 1500).heartbeat_age_ms, 1500);
	jv_health_on_alive(&h, &p, 1600);
	struct jv_health_snapshot s = snap(&h, &p, 3000);
	assert_int_equal(s.heartbeat_age_ms, 1400);
	assert_int_equal(s.last_good_ms, 1600);
	assert_false(s.rtt_measured);
	assert_false(jv_health_is_silent(&h, &p, 3600));
	assert_true(jv_health_is_silent(&h, &p, 3601));
}

static void stability_tracking(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_ack(&h, &p, 100, 10);	/* first fact: origin */
	assert_int_equal(snap(&h, &p, 100).stability_ms, 0);
	jv_health_on_ack(&h, &p, 600, 10);
	jv_health_on_ack(&h, &p, 1100, 10);
	jv_health_on_ack(&h, &p, 1600, 10);
	assert_int_equal(snap(&h, &p, 2099).stability_ms, 1999);
	assert_false(jv_health_is_stable(&h, &p, 2099));
	assert_true(jv_health_is_stable(&h, &p, 2100));	/* >= one window */
	assert_int_equal(jv_health_next_change(&h, &p, 1600), 2100);

	/* a drop run holds from 3002 until the ACK at 3500 ends it */
	jv_health_on_ack(&h, &p, 2500, 10);
	jv_health_on_drop(&h, &p, 3000);
	jv_health_on_drop(&h, &p, 3001);
	jv_health_on_drop(&h, &p, 3002);
	assert_int_equal(snap(&h, &p, 3300).stability_ms, 0);
	assert_false(jv_health_is_stable(&h, &p, 3300));
	jv_health_on_ack(&h, &p, 3500, 10);
	assert_int_equal(h.bad_ms, 3500);	/* held up to the ACK itself */
	assert_int_equal(snap(&h, &p, 3500).stability_ms, 0);
	jv_health_on_ack(&h, &p, 4000, 10);
	jv_health_on_ack(&h, &p, 4500, 10);
	jv_health_on_ack(&h, &p, 5000, 10);
	assert_false(jv_health_is_stable(&h, &p, 5499));
	assert_true(jv_health_is_stable(&h, &p, 5500));

	/* silence between facts: the ACK at 8000 settles the episode */
	jv_health_on_ack(&h, &p, 8000, 10);	/* age was 3000 > 2000 */
	assert_int_equal(h.bad_ms, 8000);
	assert_int_equal(snap(&h, &p, 8001).stability_ms, 1);
}

/*
 * Loss can rise and fall again with no fact in between, as old delivered
 * buckets expire: stability must see it whether or not anyone asked.
 */
static void feed_expiry_case(struct jv_health *h, const struct jv_policy *p)
{
	jv_health_init(h, p, 0);
	jv_health_on_ack(h, p, 50, 10);		/* bucket 0 */
	jv_health_on_data(h, p, 60, 30, 0);	/* bucket 0: 31 delivered */
	jv_health_on_ack(h, p, 1050, 10);	/* bucket 10 */
	jv_health_on_data(h, p, 1050, 10, 8);	/* 8 / 50 = 0.16 */
}

static void stability_exact_between_facts(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health lazy;

	policy_defaults(&p);
	feed_expiry_case(&lazy, &p);

	assert_int_equal(jv_health_condition(&lazy, &p, 1999), JV_REASON_NONE);
	/* bucket 0 leaves at 2000: 8 / 19 */
	assert_int_equal(jv_health_condition(&lazy, &p, 2000),
			 JV_REASON_LOSS_THRESHOLD_EXCEEDED);
	assert_int_equal(jv_health_condition(&lazy, &p, 2999),
			 JV_REASON_LOSS_THRESHOLD_EXCEEDED);
	/* bucket 10 leaves at 3000: undefined, nothing holds until 3051 */
	assert_int_equal(jv_health_condition(&lazy, &p, 3000), JV_REASON_NONE);
	assert_int_equal(jv_health_next_change(&lazy, &p, 1050), 2000);
	assert_int_equal(jv_health_next_change(&lazy, &p, 2000), 3000);
	assert_int_equal(jv_health_next_change(&lazy, &p, 3000), 3051);

	/* nobody asked between 1050 and 3040, yet the episode is seen */
	assert_int_equal(lazy.bad_ms, 50);
	assert_int_equal(snap(&lazy, &p, 3040).stability_ms, 41);
	assert_false(jv_health_is_stable(&lazy, &p, 3040));

	/* a fact settles the same value */
	jv_health_on_data(&lazy, &p, 3040, 1, 0);
	assert_int_equal(lazy.bad_ms, 2999);
	assert_int_equal(snap(&lazy, &p, 3045).stability_ms, 46);
}

static void stability_latency_expiry_between_facts(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	p.latency_volatile_threshold_ms = 150;
	jv_health_init(&h, &p, 0);
	/* 20 samples: 2 slow at t=10, 18 fast at t=500; rank 19 is slow */
	jv_health_on_ack(&h, &p, 10, 400);
	jv_health_on_ack(&h, &p, 10, 400);
	for (int i = 0; i < 18; i++)
		jv_health_on_ack(&h, &p, 500, 20);
	assert_int_equal(jv_health_condition(&h, &p, 2009),
			 JV_REASON_LATENCY_THRESHOLD_EXCEEDED);
	assert_int_equal(jv_health_condition(&h, &p, 2010), JV_REASON_NONE);
	assert_int_equal(snap(&h, &p, 2400).stability_ms, 2400 - 2009);
}

static void restart_windows_clears_detection(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_ack(&h, &p, 100, 80);
	jv_health_on_data(&h, &p, 200, 5, 20);
	jv_health_on_drop(&h, &p, 300);
	jv_health_on_drop(&h, &p, 400);
	jv_health_on_drop(&h, &p, 500);
	jv_health_on_hard_failure(&h, &p, 500);
	assert_int_equal(jv_health_condition(&h, &p, 500),
			 JV_REASON_TRANSPORT_DEAD);

	jv_health_restart_windows(&h, 3000);
	struct jv_health_snapshot s = snap(&h, &p, 3000);
	assert_int_equal(jv_health_condition(&h, &p, 3000), JV_REASON_NONE);
	assert_int_equal(s.loss_samples, 0);
	assert_int_equal(s.consecutive_drops, 0);
	assert_false(s.p95_defined);
	assert_false(s.hard_failed);
	assert_int_equal(s.heartbeat_age_ms, 0);
	assert_int_equal(s.stability_ms, 0);
	assert_true(s.rtt_measured);		/* srtt kept */
	assert_true(s.srtt_ms == 80.0);
	assert_int_equal(s.last_good_ms, 200);	/* kept */
	/* stable one full window later if nothing else happens */
	jv_health_on_ack(&h, &p, 4000, 80);
	assert_false(jv_health_is_stable(&h, &p, 4999));
	assert_true(jv_health_is_stable(&h, &p, 5000));
}

static void policy_change_restarts_loss_window(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_data(&h, &p, 10, 10, 5);
	assert_int_equal(snap(&h, &p, 10).loss_samples, 15);
	p.loss_window_ms = 1000;		/* W becomes 50 */
	jv_health_on_data(&h, &p, 20, 1, 0);
	assert_int_equal(h.bucket_ms, 50);
	assert_int_equal(snap(&h, &p, 20).loss_samples, 1);
	/* new geometry: the sample at 20 leaves at (0 + 20) * 50 = 1000 */
	assert_int_equal(snap(&h, &p, 999).loss_samples, 1);
	assert_int_equal(snap(&h, &p, 1000).loss_samples, 0);
}

static void time_never_goes_backwards(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_ack(&h, &p, 500, 10);
	jv_health_on_ack(&h, &p, 300, 10);	/* taken as 500 */
	assert_int_equal(h.last_ack_ms, 500);
	assert_int_equal(h.rtt_at[1], 500);
	assert_int_equal(snap(&h, &p, 100).heartbeat_age_ms, 0);
}

static void counters_saturate(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_health h;

	policy_defaults(&p);
	jv_health_init(&h, &p, 0);
	jv_health_on_data(&h, &p, 10, UINT32_MAX, 0);
	jv_health_on_data(&h, &p, 10, 5, 0);
	assert_int_equal(h.delivered[0], UINT32_MAX);
	assert_int_equal(snap(&h, &p, 10).loss_samples, UINT32_MAX);
	assert_true(snap(&h, &p, 10).loss_ratio == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fresh_state),
		cmocka_unit_test(loss_bucket_edges),
		cmocka_unit_test(min_loss_samples_and_threshold_edges),
		cmocka_unit_test(rtt_numbers),
		cmocka_unit_test(p95_rank_and_latency_window),
		cmocka_unit_test(condition_order_and_strict_edges),
		cmocka_unit_test(drop_run_reset_by_success_only),
		cmocka_unit_test(gateway_alive_sets_heartbeat_age),
		cmocka_unit_test(stability_tracking),
		cmocka_unit_test(stability_exact_between_facts),
		cmocka_unit_test(stability_latency_expiry_between_facts),
		cmocka_unit_test(restart_windows_clears_detection),
		cmocka_unit_test(policy_change_restarts_loss_window),
		cmocka_unit_test(time_never_goes_backwards),
		cmocka_unit_test(counters_saturate),
	};
	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
