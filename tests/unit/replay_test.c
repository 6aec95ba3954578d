/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay windows: the data-plane counter window at its edges (counter
 * 0, the window boundary, ring wrap, 2^64 - 2) and against a reference
 * model; the control-plane nonce window of spec §7.5 likewise.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/replay.h"

/* A small deterministic generator for the model tests (xorshift64*). */
static uint64_t xs_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* --- data-plane counter window --- */

static void replay_counter_zero_and_duplicate(void **st)
{
	(void)st;
	struct jv_replay_window w;

	jv_replay_init(&w);
	assert_int_equal(jv_replay_check(&w, 0), 0);
	assert_int_equal(jv_replay_mark(&w, 0), 0);
	assert_int_equal(w.top, 1);
	assert_int_equal(jv_replay_check(&w, 0), JV_ERR_REPLAY);
	assert_int_equal(jv_replay_mark(&w, 0), JV_ERR_REPLAY);
	assert_int_equal(jv_replay_check(&w, 1), 0);
}

static void replay_check_does_not_mutate(void **st)
{
	(void)st;
	struct jv_replay_window w, copy;

	jv_replay_init(&w);
	assert_int_equal(jv_replay_mark(&w, 10), 0);
	copy = w;
	assert_int_equal(jv_replay_check(&w, 5000), 0);
	assert_int_equal(jv_replay_check(&w, 3), 0);
	assert_memory_equal(&w, &copy, sizeof w);
	/* check passed twice for one counter: only one mark wins */
	assert_int_equal(jv_replay_check(&w, 11), 0);
	assert_int_equal(jv_replay_check(&w, 11), 0);
	assert_int_equal(jv_replay_mark(&w, 11), 0);
	assert_int_equal(jv_replay_mark(&w, 11), JV_ERR_REPLAY);
}

static void replay_in_order_and_every_duplicate(void **st)
{
	(void)st;
	struct jv_replay_window w;

	jv_replay_init(&w);
	for (uint64_t c = 0; c < 3 * JV_REPLAY_BITS + 17; c++) {
		assert_int_equal(jv_replay_mark(&w, c), 0);
		assert_int_equal(jv_replay_check(&w, c), JV_ERR_REPLAY);
		if (c > 0)
			assert_int_equal(jv_replay_check(&w, c - 1),
					 JV_ERR_REPLAY);
	}
}

static void replay_window_boundary(void **st)
{
	(void)st;
	struct jv_replay_window w;
	const uint64_t g = 100000;

	jv_replay_init(&w);
	assert_int_equal(jv_replay_mark(&w, g), 0);
	/* exactly JV_REPLAY_WINDOW below the greatest: still inside */
	assert_int_equal(jv_replay_check(&w, g - JV_REPLAY_WINDOW), 0);
	assert_int_equal(jv_replay_check(&w, g - JV_REPLAY_WINDOW - 1),
			 JV_ERR_REPLAY);
	assert_int_equal(jv_replay_mark(&w, g - JV_REPLAY_WINDOW - 1),
			 JV_ERR_REPLAY);
	assert_int_equal(jv_replay_mark(&w, g - JV_REPLAY_WINDOW), 0);
	assert_int_equal(jv_replay_check(&w, g - JV_REPLAY_WINDOW),
			 JV_ERR_REPLAY);
	/* every counter inside the window is individually acceptable */
	for (uint64_t c = g - JV_REPLAY_WINDOW + 1; c < g; c++)
		assert_int_equal(jv_replay_check(&w, c), 0);
	/* one step forward pushes the old edge out */
	assert_int_equal(jv_replay_mark(&w, g + 1), 0);
	assert_int_equal(jv_replay_check(&w, g - JV_REPLAY_WINDOW),
			 JV_ERR_REPLAY);
	assert_int_equal(jv_replay_check(&w, g + 1 - JV_REPLAY_WINDOW), 0);
}

static void replay_ring_wrap_clears_old_slots(void **st)
{
	(void)st;
	struct jv_replay_window w;

	jv_replay_init(&w);
	/* fill one whole ring, then jump so new counters reuse the slots */
	for (uint64_t c = 0; c < JV_REPLAY_BITS; c++)
		assert_int_equal(jv_replay_mark(&w, c), 0);
	assert_int_equal(jv_replay_mark(&w, JV_REPLAY_BITS + 100), 0);
	for (uint64_t c = JV_REPLAY_BITS; c < JV_REPLAY_BITS + 100; c++)
		assert_int_equal(jv_replay_check(&w, c), 0);
	/* counters still in the window stay marked */
	for (uint64_t c = 100 + JV_REPLAY_BITS - JV_REPLAY_WINDOW;
	     c < JV_REPLAY_BITS; c++)
		assert_int_equal(jv_replay_check(&w, c), JV_ERR_REPLAY);
	/* a jump of more than a ring clears everything */
	assert_int_equal(jv_replay_mark(&w, 10 * JV_REPLAY_BITS + 5), 0);
	for (uint64_t c = 10 * JV_REPLAY_BITS + 5 - JV_REPLAY_WINDOW;
	     c < 10 * JV_REPLAY_BITS + 5; c++)
		assert_int_equal(jv_replay_check(&w, c), 0);
	assert_int_equal(jv_replay_check(&w, 10 * JV_REPLAY_BITS + 5),
			 JV_ERR_REPLAY);
}

static void replay_huge_counters(void **st)
{
	(void)st;
	struct jv_replay_window w;

	jv_replay_init(&w);
	assert_int_equal(jv_replay_check(&w, UINT64_MAX), JV_ERR_REPLAY);
	assert_int_equal(jv_replay_mark(&w, UINT64_MAX), JV_ERR_REPLAY);
	assert_int_equal(w.top, 0);
	assert_int_equal(jv_replay_mark(&w, JV_REPLAY_COUNTER_MAX), 0);
	assert_true(w.top == UINT64_MAX);
	assert_int_equal(jv_replay_check(&w, JV_REPLAY_COUNTER_MAX),
			 JV_ERR_REPLAY);
	assert_int_equal(jv_replay_check(&w, UINT64_MAX), JV_ERR_REPLAY);
	assert_int_equal(jv_replay_check(&w,
			 JV_REPLAY_COUNTER_MAX - JV_REPLAY_WINDOW), 0);
	assert_int_equal(jv_replay_check(&w,
			 JV_REPLAY_COUNTER_MAX - JV_REPLAY_WINDOW - 1),
			 JV_ERR_REPLAY);
	assert_int_equal(jv_replay_check(&w, 0), JV_ERR_REPLAY);
	assert_int_equal(jv_replay_mark(&w, JV_REPLAY_COUNTER_MAX - 1), 0);
}

/*
 * Reference model: counters base + [0, span); acceptable iff not seen and
 * not more than JV_REPLAY_WINDOW below the greatest seen.
 */
static void replay_model_run(uint64_t base, uint64_t seed)
{
	enum { SPAN = 40000, STEPS = 60000 };
	bool *seen = calloc(SPAN, 1);
	struct jv_replay_window w;
	bool any = false;
	uint64_t g = 0, s = seed;

	assert_non_null(seen);
	jv_replay_init(&w);
	for (int i = 0; i < STEPS; i++) {
		uint64_t r = xs_next(&s), off;

		/* mostly near the greatest, sometimes far back or ahead */
		switch (r % 4) {
		case 0:
			off = g + 1 + (r >> 8) % 70;
			break;
		case 1:
			off = g > 5000 ? g - (r >> 8) % 5000 : (r >> 8) % 5000;
			break;
		case 2:
			off = g - (g > JV_REPLAY_WINDOW + 3 ?
				  JV_REPLAY_WINDOW - 2 + (r >> 8) % 5 : 0);
			break;
		default:
			off = (r >> 8) % SPAN;
			break;
		}
		if (off >= SPAN)
			off = (r >> 8) % SPAN;
		uint64_t c = base + off;
		bool ok = c <= JV_REPLAY_COUNTER_MAX && !seen[off] &&
			  (!any || off > g || g - off <= JV_REPLAY_WINDOW);
		int want = ok ? 0 : JV_ERR_REPLAY;

		assert_int_equal(jv_replay_check(&w, c), want);
		if (r & 0x100000) {
			assert_int_equal(jv_replay_mark(&w, c), want);
			if (ok) {
				seen[off] = true;
				if (!any || off > g)
					g = off;
				any = true;
			}
		}
	}
	free(seen);
}

static void replay_matches_model(void **st)
{
	(void)st;
	replay_model_run(0, 1);
	replay_model_run(123456789, 2);
	/* the top of the counter space, including the reserved 2^64 - 1 */
	replay_model_run(UINT64_MAX - 39999, 3);
}

/* --- control-plane nonce window (spec §7.5) --- */

static void nonce_init_validates(void **st)
{
	(void)st;
	struct jv_nonce_window w;

	assert_int_equal(jv_nonce_window_init(&w, 0, 256), JV_ERR_INVAL);
	assert_int_equal(jv_nonce_window_check(&w, 1),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_init(&w, JV_NONCE_WINDOW_MAX + 1,
					      UINT32_MAX), JV_ERR_INVAL);
	assert_int_equal(jv_nonce_window_init(&w, 128, 127), JV_ERR_INVAL);
	assert_int_equal(jv_nonce_window_accept(&w, 1),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_init(&w, 128, 128), 0);
	assert_int_equal(jv_nonce_window_init(&w, JV_NONCE_WINDOW_MAX,
					      JV_NONCE_WINDOW_MAX), 0);
	assert_int_equal(jv_nonce_window_init(&w, 1, 1), 0);
}

static void nonce_zero_is_missing(void **st)
{
	(void)st;
	struct jv_nonce_window w;

	assert_int_equal(jv_nonce_window_init(&w, 128, 256), 0);
	assert_int_equal(jv_nonce_window_accept(&w, 0),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_accept(&w, 1), JV_REASON_NONE);
	assert_int_equal(w.highest, 1);
	assert_int_equal(jv_nonce_window_check(&w, 0),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_check(&w, 1),
			 JV_REASON_REPLAY_DETECTED);
}

static void nonce_gap_boundary(void **st)
{
	(void)st;
	struct jv_nonce_window w;

	assert_int_equal(jv_nonce_window_init(&w, 128, 256), 0);
	/* from H = 0 the first nonce may be at most MAX_NONCE_GAP */
	assert_int_equal(jv_nonce_window_check(&w, 257),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_accept(&w, 256), JV_REASON_NONE);
	assert_int_equal(jv_nonce_window_accept(&w, 256 + 257),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(w.highest, 256);
	assert_int_equal(jv_nonce_window_accept(&w, 256 + 256),
			 JV_REASON_NONE);
	assert_int_equal(w.highest, 512);
}

static void nonce_replay_versus_stale(void **st)
{
	(void)st;
	struct jv_nonce_window w;

	assert_int_equal(jv_nonce_window_init(&w, 128, 256), 0);
	for (uint64_t n = 2; n <= 200; n += 2)
		assert_int_equal(jv_nonce_window_accept(&w, n),
				 JV_REASON_NONE);
	/* H = 200, window 73..200 */
	assert_int_equal(jv_nonce_window_check(&w, 200),
			 JV_REASON_REPLAY_DETECTED);
	assert_int_equal(jv_nonce_window_check(&w, 74),
			 JV_REASON_REPLAY_DETECTED);
	/* skipped (odd) nonce below H: overtaken, not a replay */
	assert_int_equal(jv_nonce_window_check(&w, 199),
			 JV_REASON_STALE_REQUEST);
	/* accepted long ago but below the window */
	assert_int_equal(jv_nonce_window_check(&w, 72),
			 JV_REASON_STALE_REQUEST);
	/* rejection consumes nothing */
	struct jv_nonce_window copy = w;
	assert_int_equal(jv_nonce_window_accept(&w, 200),
			 JV_REASON_REPLAY_DETECTED);
	assert_int_equal(jv_nonce_window_accept(&w, 199),
			 JV_REASON_STALE_REQUEST);
	assert_memory_equal(&w, &copy, sizeof w);
	assert_int_equal(jv_nonce_window_accept(&w, 201), JV_REASON_NONE);
}

static void nonce_window_size_one(void **st)
{
	(void)st;
	struct jv_nonce_window w;

	assert_int_equal(jv_nonce_window_init(&w, 1, 1), 0);
	assert_int_equal(jv_nonce_window_accept(&w, 1), JV_REASON_NONE);
	assert_int_equal(jv_nonce_window_accept(&w, 2), JV_REASON_NONE);
	assert_int_equal(jv_nonce_window_check(&w, 2),
			 JV_REASON_REPLAY_DETECTED);
	assert_int_equal(jv_nonce_window_check(&w, 1),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_check(&w, 4),
			 JV_REASON_STALE_REQUEST);
}

static void nonce_full_window_ring_wrap(void **st)
{
	(void)st;
	struct jv_nonce_window w;
	const uint64_t max = JV_NONCE_WINDOW_MAX;

	assert_int_equal(jv_nonce_window_init(&w, JV_NONCE_WINDOW_MAX,
					      JV_NONCE_WINDOW_MAX), 0);
	/* several laps of the 4160-value ring, every nonce accepted */
	for (uint64_t n = 1; n <= 5 * max; n++)
		assert_int_equal(jv_nonce_window_accept(&w, n),
				 JV_REASON_NONE);
	for (uint64_t n = 4 * max + 1; n <= 5 * max; n++)
		assert_int_equal(jv_nonce_window_check(&w, n),
				 JV_REASON_REPLAY_DETECTED);
	assert_int_equal(jv_nonce_window_check(&w, 4 * max),
			 JV_REASON_STALE_REQUEST);
	/* a jump of the whole gap: slots of old values must read empty */
	assert_int_equal(jv_nonce_window_accept(&w, 6 * max), JV_REASON_NONE);
	for (uint64_t n = 5 * max + 1; n < 6 * max; n++)
		assert_int_equal(jv_nonce_window_check(&w, n),
				 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_nonce_window_check(&w, 6 * max),
			 JV_REASON_REPLAY_DETECTED);
}

static void nonce_near_uint64_max(void **st)
{
	(void)st;
	struct jv_nonce_window w;

	assert_int_equal(jv_nonce_window_init(&w, 128, 256), 0);
	/* walk up to the top in gap-sized steps is impossible; seed H */
	w.highest = UINT64_MAX - 100;
	assert_int_equal(jv_nonce_window_check(&w, UINT64_MAX),
			 JV_REASON_NONE);
	assert_int_equal(jv_nonce_window_accept(&w, UINT64_MAX - 50),
			 JV_REASON_NONE);
	assert_int_equal(jv_nonce_window_accept(&w, UINT64_MAX),
			 JV_REASON_NONE);
	assert_true(w.highest == UINT64_MAX);
	assert_int_equal(jv_nonce_window_check(&w, UINT64_MAX),
			 JV_REASON_REPLAY_DETECTED);
	assert_int_equal(jv_nonce_window_check(&w, UINT64_MAX - 50),
			 JV_REASON_REPLAY_DETECTED);
	assert_int_equal(jv_nonce_window_check(&w, UINT64_MAX - 49),
			 JV_REASON_STALE_REQUEST);
	/* a huge jump from a small H is stale, not an overflow */
	assert_int_equal(jv_nonce_window_init(&w, 128, 256), 0);
	assert_int_equal(jv_nonce_window_accept(&w, 5), JV_REASON_NONE);
	assert_int_equal(jv_nonce_window_check(&w, UINT64_MAX),
			 JV_REASON_STALE_REQUEST);
}

static void nonce_matches_model(void **st)
{
	(void)st;
	enum { SPAN = 1000000, STEPS = 60000, SIZE = 300, GAP = 500 };
	bool *acc = calloc(SPAN, 1);
	struct jv_nonce_window w;
	uint64_t h = 0, s = 7;

	assert_non_null(acc);
	assert_int_equal(jv_nonce_window_init(&w, SIZE, GAP), 0);
	for (int i = 0; i < STEPS; i++) {
		uint64_t r = xs_next(&s), n;
		enum jv_reason want;

		if (r % 3 == 0)
			n = h + (r >> 8) % ((r >> 40) % 8 ? 4 : GAP + 20);
		else
			n = h - ((r >> 8) % (SIZE + 20) > h ? h :
				 (r >> 8) % (SIZE + 20));
		if (n >= SPAN)
			break;
		if (n > h)
			want = n - h > GAP ? JV_REASON_STALE_REQUEST :
					     JV_REASON_NONE;
		else if (n != 0 && h - n < SIZE && acc[n])
			want = JV_REASON_REPLAY_DETECTED;
		else
			want = JV_REASON_STALE_REQUEST;
		assert_int_equal(jv_nonce_window_check(&w, n), want);
		assert_int_equal(jv_nonce_window_accept(&w, n), want);
		if (want == JV_REASON_NONE) {
			acc[n] = true;
			h = n;
		}
	}
	assert_true(h > 10000);
	free(acc);
}

static void freshness_timestamp_bound(void **st)
{
	(void)st;
	assert_int_equal(jv_freshness_check_ts(10000, 5000, 5000),
			 JV_REASON_NONE);
	assert_int_equal(jv_freshness_check_ts(10000, 4999, 5000),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_freshness_check_ts(10000, 15000, 5000),
			 JV_REASON_NONE);
	assert_int_equal(jv_freshness_check_ts(10000, 15001, 5000),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_freshness_check_ts(0, UINT64_MAX, 5000),
			 JV_REASON_STALE_REQUEST);
	assert_int_equal(jv_freshness_check_ts(UINT64_MAX, 0, 5000),
			 JV_REASON_STALE_REQUEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_counter_zero_and_duplicate),
		cmocka_unit_test(replay_check_does_not_mutate),
		cmocka_unit_test(replay_in_order_and_every_duplicate),
		cmocka_unit_test(replay_window_boundary),
		cmocka_unit_test(replay_ring_wrap_clears_old_slots),
		cmocka_unit_test(replay_huge_counters),
		cmocka_unit_test(replay_matches_model),
		cmocka_unit_test(nonce_init_validates),
		cmocka_unit_test(nonce_zero_is_missing),
		cmocka_unit_test(nonce_gap_boundary),
		cmocka_unit_test(nonce_replay_versus_stale),
		cmocka_unit_test(nonce_window_size_one),
		cmocka_unit_test(nonce_full_window_ring_wrap),
		cmocka_unit_test(nonce_near_uint64_max),
		cmocka_unit_test(nonce_matches_model),
		cmocka_unit_test(freshness_timestamp_bound),
	};
	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
