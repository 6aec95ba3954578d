/* SPDX-License-Identifier: MIT */
/* Receiver-index table: O(1) lookup, bounded, indexes fresh and unguessable. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/table.h"

static void insert_lookup_remove(void **st)
{
	(void)st;
	struct jv_seeded_rng s;
	struct jv_table t;
	uint32_t a, b;
	int x = 1, y = 2;

	jv_seeded_rng_init(&s, 7);
	struct jv_rng rng = jv_seeded_rng(&s);
	assert_int_equal(jv_table_init(&t, 4), JV_OK);
	assert_int_equal(jv_table_insert(&t, &x, &rng, &a), JV_OK);
	assert_int_equal(jv_table_insert(&t, &y, &rng, &b), JV_OK);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(a, b);
	assert_ptr_equal(jv_table_lookup(&t, a), &x);
	assert_ptr_equal(jv_table_lookup(&t, b), &y);
	jv_table_remove(&t, a);
	assert_null(jv_table_lookup(&t, a));
	assert_ptr_equal(jv_table_lookup(&t, b), &y);
	/* an index differing only in its random bits must not resolve */
	assert_null(jv_table_lookup(&t, b ^ 0x80000000u));
	assert_null(jv_table_lookup(&t, 0));
	jv_table_free(&t);
}

static void full_table_refuses(void **st)
{
	(void)st;
	struct jv_seeded_rng s;
	struct jv_table t;
	uint32_t idx[17];
	int v;

	jv_seeded_rng_init(&s, 9);
	struct jv_rng rng = jv_seeded_rng(&s);
	assert_int_equal(jv_table_init(&t, 16), JV_OK);
	for (int i = 0; i < 16; i++)
		assert_int_equal(jv_table_insert(&t, &v, &rng, &idx[i]), JV_OK);
	assert_int_equal(jv_table_insert(&t, &v, &rng, &idx[16]), JV_ERR_LIMIT);
	assert_int_equal(t.used, 16);
	jv_table_remove(&t, idx[3]);
	assert_int_equal(jv_table_insert(&t, &v, &rng, &idx[16]), JV_OK);
	assert_int_equal(idx[16] & 15, idx[3] & 15);	/* slot reused */
	assert_int_not_equal(idx[16], idx[3]);		/* index is not */
	jv_table_free(&t);
}

/* Indexes chosen elsewhere (adoption, PD-9) mixed with fresh ones and
 * removals: every slot is used exactly once when full (the free list lost
 * none and listed none twice), and every entry is found. */
static void adopted_and_fresh(void **st)
{
	(void)st;
	enum { CAP = 1024 };
	static int v[2 * CAP];
	static uint32_t idx[2 * CAP];
	struct jv_seeded_rng s;
	struct jv_table t;
	unsigned n = 0;

	jv_seeded_rng_init(&s, 9);
	struct jv_rng rng = jv_seeded_rng(&s);
	assert_int_equal(jv_table_init(&t, CAP), JV_OK);
	/* every third slot taken by an adopted index, some removed again */
	for (uint32_t k = 0; k < CAP; k += 3) {
		idx[n] = 0x5a000000u | k;
		assert_int_equal(jv_table_insert_at(&t, &v[n], idx[n]), JV_OK);
		n++;
	}
	for (unsigned k = 0; k < n; k += 4) {
		jv_table_remove(&t, idx[k]);
		idx[k] = 0;
	}
	for (;;) {
		uint32_t i;
		int rc = jv_table_insert(&t, &v[n], &rng, &i);
		if (rc == JV_ERR_LIMIT)
			break;
		assert_int_equal(rc, JV_OK);
		assert_true(n < 2 * CAP);
		idx[n++] = i;
	}
	assert_int_equal(t.used, t.cap);
	for (unsigned k = 0; k < n; k++)
		if (idx[k])
			assert_ptr_equal(jv_table_lookup(&t, idx[k]), &v[k]);
	jv_table_free(&t);
}

static void bad_sizes(void **st)
{
	(void)st;
	struct jv_table t;
	assert_int_equal(jv_table_init(&t, 0), JV_ERR_INVAL);
	assert_int_equal(jv_table_init(&t, (1u << 24) + 1), JV_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(insert_lookup_remove),
		cmocka_unit_test(full_table_refuses),
		cmocka_unit_test(adopted_and_fresh),
		cmocka_unit_test(bad_sizes),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
