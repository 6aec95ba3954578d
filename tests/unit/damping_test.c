/* SPDX-License-Identifier: MIT */
/* Flap damping of one transport (PD-7): charge, decay, suppress, reuse. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jvpn/damping.h"

static struct jv_policy pol(void)
{
	struct jv_policy p;

	jv_policy_default(&p);	/* 1000, 30 s half-life, 3000, 750 */
	return p;
}

static void penalty_halves_every_half_life(void **st)
{
	struct jv_policy p = pol();
	struct jv_flap f = { 0 };

	(void)st;
	assert_true(jv_flap_penalty(&f, &p, 5000) == 0.0);
	assert_false(jv_flap_charge(&f, &p, 1000));
	assert_true(jv_flap_penalty(&f, &p, 1000) == 1000.0);
	assert_true(fabs(jv_flap_penalty(&f, &p, 31000) - 500.0) < 1e-9);
	assert_true(fabs(jv_flap_penalty(&f, &p, 61000) - 250.0) < 1e-9);
	/* a query never changes the value: asking often changes nothing */
	for (jv_time t = 1000; t < 61000; t += 7)
		(void)jv_flap_penalty(&f, &p, t);
	assert_true(fabs(jv_flap_penalty(&f, &p, 61000) - 250.0) < 1e-9);
	/* time going backwards reads the stored value */
	assert_true(jv_flap_penalty(&f, &p, 10) == 1000.0);
}

static void suppress_above_reuse_below(void **st)
{
	struct jv_policy p = pol();
	struct jv_flap f = { 0 };

	(void)st;
	/* three quick flaps: 3000 is not above FLAP_SUPPRESS, the fourth is */
	assert_false(jv_flap_charge(&f, &p, 0));
	assert_false(jv_flap_charge(&f, &p, 0));
	assert_false(jv_flap_charge(&f, &p, 0));
	assert_false(f.damped);
	assert_true(jv_flap_charge(&f, &p, 0));
	assert_true(f.damped);
	/* a flap while damped reports nothing new */
	assert_false(jv_flap_charge(&f, &p, 0));	/* 5000 */

	/* released strictly below 750: 5000 -> 750 after hl x log2(6.67) */
	jv_time at = jv_flap_reuse_at(&f, &p, 0);
	double exact = 30000.0 * log2(5000.0 / 750.0);
	assert_true(at > exact && at <= exact + 2);
	assert_false(jv_flap_release(&f, &p, at - 2));
	assert_true(f.damped);
	assert_true(jv_flap_release(&f, &p, at));
	assert_false(f.damped);
	assert_true(jv_flap_penalty(&f, &p, at) < 750.0);
	assert_int_equal(jv_flap_reuse_at(&f, &p, at), JV_TIME_NEVER);
	assert_false(jv_flap_release(&f, &p, at + 1));	/* once only */
}

static void hysteresis_between_the_levels(void **st)
{
	struct jv_policy p = pol();
	struct jv_flap f = { 0 };

	(void)st;
	for (int i = 0; i < 4; i++)
		(void)jv_flap_charge(&f, &p, 0);
	assert_true(f.damped);
	/* decayed to about 2000: below suppress, above reuse: still damped */
	assert_false(jv_flap_release(&f, &p, 30000));
	assert_true(f.damped);
}

static void zero_penalty_turns_damping_off(void **st)
{
	struct jv_policy p = pol();
	struct jv_flap f = { 0 };

	(void)st;
	p.flap_penalty = 0;
	for (int i = 0; i < 100; i++)
		assert_false(jv_flap_charge(&f, &p, (jv_time)i));
	assert_false(f.damped);
	assert_true(jv_flap_penalty(&f, &p, 100) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(penalty_halves_every_half_life),
		cmocka_unit_test(suppress_above_reuse_below),
		cmocka_unit_test(hysteresis_between_the_levels),
		cmocka_unit_test(zero_penalty_turns_damping_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
