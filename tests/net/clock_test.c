/* SPDX-License-Identifier: MIT */
/* The daemon clock: epoch-anchored, never backwards, exact timer mapping;
 * and the system random source. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "net/clock.h"
#include "net/rng_sys.h"

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static void anchored_to_wall_clock(void **st)
{
	(void)st;
	struct timespec wall;
	jv_time now = jv_clock_now();
	uint64_t wall_ms;

	clock_gettime(CLOCK_REALTIME, &wall);
	wall_ms = (uint64_t)wall.tv_sec * 1000u + (uint64_t)wall.tv_nsec / 1000000u;
	/* Same clock within 2 s (only drift since the anchor, and the
	 * anchor was taken a moment ago). */
	assert_true(now + 2000 >= wall_ms && wall_ms + 2000 >= now);
	/* After 2020-01-01: an epoch value, not an uptime. */
	assert_true(now > 1577836800000ull);
}

static void never_goes_backwards(void **st)
{
	(void)st;
	jv_time prev = jv_clock_now(), t;

	for (int i = 0; i < 200000; i++) {
		t = jv_clock_now();
		assert_true(t >= prev);
		prev = t;
	}
}

static void steady_mapping_is_exact(void **st)
{
	(void)st;
	struct timespec a, b, c, steady;
	jv_time now = jv_clock_now();

	jv_clock_to_steady(now, &a);
	jv_clock_to_steady(now + 1000, &b);
	jv_clock_to_steady(now + 1001, &c);
	assert_true(ns_of(&b) - ns_of(&a) == 1000000000ull);
	assert_true(ns_of(&c) - ns_of(&b) == 1000000ull);
	/* `now` is already reached; now + 1000 is not yet. */
	clock_gettime(JV_CLOCK_STEADY, &steady);
	assert_true(ns_of(&a) <= ns_of(&steady));
	assert_true(ns_of(&b) > ns_of(&steady));
	/* The instant maps back to exactly that millisecond: a timer armed
	 * there never wakes while the clock still reads less. */
	assert_true(ns_of(&a) % 1000000u == ns_of(&b) % 1000000u);
}

static void before_anchor_and_never_saturate(void **st)
{
	(void)st;
	struct timespec zero, first, never, steady;
	jv_time now = jv_clock_now();

	jv_clock_to_steady(0, &zero);
	jv_clock_to_steady(1, &first);
	assert_memory_equal(&zero, &first, sizeof zero);
	clock_gettime(JV_CLOCK_STEADY, &steady);
	assert_true(ns_of(&zero) <= ns_of(&steady));
	assert_true(ns_of(&zero) > 0);	/* a zero timespec would disarm */

	jv_clock_to_steady(JV_TIME_NEVER, &never);
	assert_true(never.tv_nsec >= 0 && never.tv_nsec < 1000000000);
	/* hundreds of years away, and no wrap to the past */
	assert_true(ns_of(&never) > ns_of(&steady) + 100ull * 365 * 86400 *
						       1000000000ull);
	jv_clock_to_steady(now + 86400000ull, &first);
	assert_true(ns_of(&first) > ns_of(&steady));
}

static void system_rng_fills(void **st)
{
	(void)st;
	struct jv_rng r = jv_rng_system();
	uint8_t a[32], b[32], zero[32];

	assert_non_null(r.fill);
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	memset(zero, 0, sizeof zero);
	jv_rng_fill(&r, a, sizeof a);
	jv_rng_fill(&r, b, sizeof b);
	/* 2^-256 chances of a false failure */
	assert_memory_not_equal(a, zero, sizeof a);
	assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(anchored_to_wall_clock),
		cmocka_unit_test(never_goes_backwards),
		cmocka_unit_test(steady_mapping_is_exact),
		cmocka_unit_test(before_anchor_and_never_saturate),
		cmocka_unit_test(system_rng_fills),
	};

	return cmocka_run_group_tests_name("net_clock", tests, NULL, NULL);
}
