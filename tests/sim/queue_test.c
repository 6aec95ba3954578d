/* SPDX-License-Identifier: MIT */
/* The event queue pops by (time, insertion order), whatever the pushes. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/queue.h"
#include "sim/rand.h"

static void orders_by_time_then_insertion(void **st)
{
	struct sim_queue q;
	struct sim_ev e;
	static const jv_time at[] = { 50, 10, 30, 10, 50, 0, 30 };

	(void)st;
	assert_int_equal(sim_queue_init(&q, 2), 0);
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(sim_queue_push(&q, at[i], 0, i, 0), 0);
	assert_int_equal(sim_queue_len(&q), 7);
	assert_int_equal(sim_queue_peek(&q)->arg, 5);
	/* Expected: 0(#5) 10(#1) 10(#3) 30(#2) 30(#6) 50(#0) 50(#4). */
	static const uint32_t order[] = { 5, 1, 3, 2, 6, 0, 4 };
	for (int i = 0; i < 7; i++) {
		assert_true(sim_queue_pop(&q, &e));
		assert_int_equal(e.arg, order[i]);
		assert_int_equal(e.at, at[order[i]]);
	}
	assert_false(sim_queue_pop(&q, &e));
	assert_null(sim_queue_peek(&q));
	sim_queue_free(&q);
}

/* Many random pushes interleaved with pops: never out of order. */
static void random_interleaving_stays_sorted(void **st)
{
	struct sim_queue q;
	struct sim_rand r;
	struct sim_ev e;
	jv_time last_at = 0;
	uint64_t last_seq = 0;
	unsigned popped = 0;

	(void)st;
	sim_rand_init(&r, 7, "queue-test");
	assert_int_equal(sim_queue_init(&q, 0), 0);
	for (int i = 0; i < 20000; i++) {
		jv_time base = last_at;

		assert_int_equal(sim_queue_push(&q, base + sim_rand_below(&r, 50),
						1, (uint32_t)i, 0), 0);
		if (sim_rand_chance(&r, 0.45) && sim_queue_pop(&q, &e)) {
			assert_true(e.at > last_at ||
				    (e.at == last_at && e.seq > last_seq) ||
				    popped == 0);
			last_at = e.at;
			last_seq = e.seq;
			popped++;
		}
	}
	while (sim_queue_pop(&q, &e)) {
		assert_true(e.at > last_at ||
			    (e.at == last_at && e.seq > last_seq));
		last_at = e.at;
		last_seq = e.seq;
	}
	sim_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(orders_by_time_then_insertion),
		cmocka_unit_test(random_interleaving_stays_sorted),
	};

	return cmocka_run_group_tests_name("sim_queue", tests, NULL, NULL);
}
