/* SPDX-License-Identifier: MIT */
/* Switch gates, token bucket and log limiter at their exact edges. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/ratelimit.h"

/* Spec §4 defaults (policy_test checks them value by value). */
static void policy_defaults(struct jv_policy *p)
{
	jv_policy_default(p);
}

static void rate_window_edges(void **st)
{
	(void)st;
	struct jv_switch_limiter l;

	jv_switch_limiter_init(&l);
	assert_int_equal(jv_switch_count(&l, 0), 0);
	jv_switch_record_commit(&l, 0);
	assert_int_equal(jv_switch_count(&l, 0), 1);
	assert_int_equal(jv_switch_count(&l, 59999), 1);
	assert_int_equal(jv_switch_count(&l, 60000), 0);
	jv_switch_record_commit(&l, 30000);
	assert_int_equal(jv_switch_count(&l, 59999), 2);
	assert_int_equal(jv_switch_count(&l, 89999), 1);
	assert_int_equal(jv_switch_count(&l, 90000), 0);
}

static void rate_gate_and_next_allowed(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_switch_limiter l;

	policy_defaults(&p);
	p.max_switches_per_min = 2;		/* FM-7a */
	jv_switch_limiter_init(&l);
	jv_switch_record_attempt(&l, 0);
	jv_switch_record_commit(&l, 100);
	jv_switch_record_attempt(&l, 1500);
	jv_switch_record_commit(&l, 1600);

	assert_int_equal(jv_switch_gates(&l, &p, 3100, true, true),
			 JV_REASON_SWITCH_RATE_LIMITED);
	/* a revalidation does not change the binding: no rate gate */
	assert_int_equal(jv_switch_gates(&l, &p, 3100, false, true),
			 JV_REASON_NONE);
	assert_int_equal(jv_switch_next_allowed(&l, &p, 3100, false), 3100);
	/* the commit at 100 leaves at 60 100 */
	assert_int_equal(jv_switch_next_allowed(&l, &p, 3100, true), 60100);
	assert_int_equal(jv_switch_gates(&l, &p, 60099, true, true),
			 JV_REASON_SWITCH_RATE_LIMITED);
	assert_int_equal(jv_switch_gates(&l, &p, 60100, true, true),
			 JV_REASON_NONE);
	assert_int_equal(jv_switch_next_allowed(&l, &p, 60100, true), 60100);

	/* three in the window, cap 2: wait for the two oldest to leave */
	jv_switch_record_attempt(&l, 3200);
	jv_switch_record_commit(&l, 3300);
	assert_int_equal(jv_switch_count(&l, 3300), 3);
	assert_int_equal(jv_switch_next_allowed(&l, &p, 3300, true), 61600);
}

static void cooldown_edge(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_switch_limiter l;

	policy_defaults(&p);
	jv_switch_limiter_init(&l);
	/* no attempt yet: nothing to cool down from */
	assert_int_equal(jv_switch_gates(&l, &p, 0, true, true),
			 JV_REASON_NONE);
	assert_int_equal(jv_switch_next_allowed(&l, &p, 0, true), 0);
	jv_switch_record_attempt(&l, 1000);
	assert_int_equal(jv_switch_gates(&l, &p, 2499, false, true),
			 JV_REASON_COOLDOWN_ACTIVE);
	assert_int_equal(jv_switch_gates(&l, &p, 2500, false, true),
			 JV_REASON_NONE);
	assert_int_equal(jv_switch_next_allowed(&l, &p, 1200, false), 2500);
	/* FM-7b: a need 1 000 ms after the start waits for 1 500 */
	assert_int_equal(jv_switch_next_allowed(&l, &p, 2000, true), 2500);
	/* cooldown 0 passes at once */
	p.switch_cooldown_ms = 0;
	assert_int_equal(jv_switch_gates(&l, &p, 1000, true, true),
			 JV_REASON_NONE);
}

static void gate_order(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_switch_limiter l;

	policy_defaults(&p);
	p.max_switches_per_min = 1;
	jv_switch_limiter_init(&l);
	jv_switch_record_attempt(&l, 100);
	jv_switch_record_commit(&l, 100);
	/* all three fail: rate first */
	assert_int_equal(jv_switch_gates(&l, &p, 200, true, false),
			 JV_REASON_SWITCH_RATE_LIMITED);
	/* rate not applicable: cooldown next */
	assert_int_equal(jv_switch_gates(&l, &p, 200, false, false),
			 JV_REASON_COOLDOWN_ACTIVE);
	/* only the trigger fails */
	assert_int_equal(jv_switch_gates(&l, &p, 1600, false, false),
			 JV_REASON_POLICY_DENIED);
	assert_int_equal(jv_switch_gates(&l, &p, 60100, true, false),
			 JV_REASON_POLICY_DENIED);
	assert_int_equal(jv_switch_gates(&l, &p, 60100, true, true),
			 JV_REASON_NONE);
}

static void switching_disabled_and_ring_cap(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_switch_limiter l;

	policy_defaults(&p);
	p.max_switches_per_min = 0;
	jv_switch_limiter_init(&l);
	assert_int_equal(jv_switch_gates(&l, &p, 5, true, true),
			 JV_REASON_SWITCH_RATE_LIMITED);
	assert_true(jv_switch_next_allowed(&l, &p, 5, true) == JV_TIME_NEVER);
	assert_int_equal(jv_switch_gates(&l, &p, 5, false, true),
			 JV_REASON_NONE);

	/* a cap above the ring size is clamped to it, never unlimited */
	p.max_switches_per_min = 1000;
	for (jv_time t = 0; t < 70; t++)
		jv_switch_record_commit(&l, t);
	assert_int_equal(jv_switch_count(&l, 70), JV_SWITCH_HISTORY_MAX);
	assert_int_equal(jv_switch_gates(&l, &p, 70, true, true),
			 JV_REASON_SWITCH_RATE_LIMITED);
	/* the oldest held commit is at 6 */
	assert_int_equal(jv_switch_next_allowed(&l, &p, 70, true), 60006);
}

static void commits_kept_in_order(void **st)
{
	(void)st;
	struct jv_switch_limiter l;

	jv_switch_limiter_init(&l);
	jv_switch_record_commit(&l, 500);
	jv_switch_record_commit(&l, 400);	/* taken as 500 */
	assert_int_equal(l.commits[1], 500);
	assert_int_equal(jv_switch_count(&l, 60499), 2);
	assert_int_equal(jv_switch_count(&l, 60500), 0);
	jv_switch_record_attempt(&l, 900);
	jv_switch_record_attempt(&l, 800);
	assert_int_equal(l.last_attempt_ms, 900);
}

static void token_bucket_refill_and_burst(void **st)
{
	(void)st;
	struct jv_token_bucket b;

	assert_int_equal(jv_token_bucket_init(&b, 2.0, 5, 0), 0);
	for (int i = 0; i < 5; i++)
		assert_true(jv_token_bucket_take(&b, 0));
	assert_false(jv_token_bucket_take(&b, 0));
	assert_int_equal(b.level_ut, 0);
	/* 2 per second: one token every 500 ms, exactly */
	assert_int_equal(jv_token_bucket_next_ms(&b, 0), 500);
	assert_false(jv_token_bucket_take(&b, 499));
	assert_int_equal(b.level_ut, 998000);
	assert_true(jv_token_bucket_take(&b, 500));
	assert_int_equal(b.level_ut, 0);
	assert_int_equal(jv_token_bucket_next_ms(&b, 700), 1000);
	/* burst caps the level however long it idles */
	assert_int_equal(jv_token_bucket_tokens(&b, 1000000), 5);
	assert_int_equal(jv_token_bucket_tokens(&b, UINT64_MAX), 5);
	for (int i = 0; i < 5; i++)
		assert_true(jv_token_bucket_take(&b, 1000000));
	assert_false(jv_token_bucket_take(&b, 1000000));
	assert_int_equal(jv_token_bucket_next_ms(&b, 1000000), 1000500);
}

/* 3 per second is 1/3 token per 333.33 ms: no drift however it is split. */
static void token_bucket_exact_over_splits(void **st)
{
	(void)st;
	struct jv_token_bucket one, many;

	assert_int_equal(jv_token_bucket_init(&one, 3.0, 2, 0), 0);
	assert_int_equal(jv_token_bucket_init(&many, 3.0, 2, 0), 0);
	for (int i = 0; i < 2; i++) {
		assert_true(jv_token_bucket_take(&one, 0));
		assert_true(jv_token_bucket_take(&many, 0));
	}
	for (jv_time t = 1; t < 333; t++)
		assert_false(jv_token_bucket_take(&many, t));
	assert_false(jv_token_bucket_take(&one, 333));
	assert_false(jv_token_bucket_take(&many, 333));
	assert_int_equal(one.level_ut, 999000);
	assert_int_equal(many.level_ut, one.level_ut);
	assert_int_equal(jv_token_bucket_next_ms(&one, 333), 334);
	assert_true(jv_token_bucket_take(&one, 334));
	assert_true(jv_token_bucket_take(&many, 334));
	assert_int_equal(one.level_ut, 2000);
	assert_int_equal(many.level_ut, 2000);

	/* a slow rate: 0.001 per second is one token per 1 000 000 ms */
	assert_int_equal(jv_token_bucket_init(&one, 0.001, 1, 10), 0);
	assert_true(jv_token_bucket_take(&one, 10));
	assert_int_equal(jv_token_bucket_next_ms(&one, 10), 1000010);
	assert_false(jv_token_bucket_take(&one, 1000009));
	assert_true(jv_token_bucket_take(&one, 1000010));
	/* time going backwards refills nothing and moves nothing */
	assert_false(jv_token_bucket_take(&one, 5));
	assert_int_equal(one.last_ms, 1000010);
}

static void token_bucket_bad_config(void **st)
{
	(void)st;
	struct jv_token_bucket b;

	assert_int_equal(jv_token_bucket_init(&b, 0.0, 5, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(&b, 0.0009, 5, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(&b, -1.0, 5, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(&b, NAN, 5, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(&b, INFINITY, 5, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(&b, 2e9, 5, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(&b, 2.0, 0, 0), JV_ERR_INVAL);
	assert_int_equal(jv_token_bucket_init(NULL, 2.0, 5, 0), JV_ERR_INVAL);
	/* the largest values fit */
	assert_int_equal(jv_token_bucket_init(&b, 1e9, UINT32_MAX, 0), 0);
	assert_true(jv_token_bucket_take(&b, UINT64_MAX));
}

static void log_limiter_suppression_counts(void **st)
{
	(void)st;
	struct jv_log_limiter l;
	uint32_t n = 99;

	jv_log_limiter_init(&l, 1500);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      0, &n), 1);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      1, &n), 0);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      700, &n), 0);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      1499, &n), 0);
	assert_int_equal(n, 99);		/* untouched when suppressed */
	assert_int_equal(jv_log_limiter_pending(&l, JV_REASON_COOLDOWN_ACTIVE), 3);
	/* another reason has its own slot */
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_POLICY_DENIED,
					      2, &n), 1);
	assert_int_equal(n, 0);
	/* exactly one interval later the next one goes out with the count */
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      1500, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(jv_log_limiter_pending(&l, JV_REASON_COOLDOWN_ACTIVE), 0);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      2999, &n), 0);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      3000, &n), 1);
	assert_int_equal(n, 1);
	/* a time before the last emission is suppressed, not emitted */
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COOLDOWN_ACTIVE,
					      10, &n), 0);
}

static void log_limiter_edges(void **st)
{
	(void)st;
	struct jv_log_limiter l;
	uint32_t n;

	jv_log_limiter_init(&l, 0);		/* never suppress */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(jv_log_limiter_check(&l, JV_REASON_BAD_PROOF,
						      7, &n), 1);
		assert_int_equal(n, 0);
	}
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_NONE, 7, &n),
			 JV_ERR_INVAL);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_COUNT, 7, &n),
			 JV_ERR_INVAL);
	assert_int_equal(jv_log_limiter_check(&l, JV_REASON_BAD_PROOF, 7,
					      NULL), JV_ERR_INVAL);
	assert_int_equal(jv_log_limiter_pending(&l, JV_REASON_NONE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rate_window_edges),
		cmocka_unit_test(rate_gate_and_next_allowed),
		cmocka_unit_test(cooldown_edge),
		cmocka_unit_test(gate_order),
		cmocka_unit_test(switching_disabled_and_ring_cap),
		cmocka_unit_test(commits_kept_in_order),
		cmocka_unit_test(token_bucket_refill_and_burst),
		cmocka_unit_test(token_bucket_exact_over_splits),
		cmocka_unit_test(token_bucket_bad_config),
		cmocka_unit_test(log_limiter_suppression_counts),
		cmocka_unit_test(log_limiter_edges),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
