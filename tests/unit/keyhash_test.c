/* SPDX-License-Identifier: MIT */
/*
 * Public key -> index (src/core/keyhash.c): every key found among 10 000,
 * strangers not, deletions (backward shift) keep every other chain whole,
 * one key under two indexes is told apart by `want`, and two tables under
 * different rng seeds place keys differently (the hash is keyed).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/keyhash.h"

enum { N = 10000 };

static uint8_t keys[N][32];
static bool gone[N];		/* deleted from the table */
static bool masked[N];		/* `want` refuses it */

static void make_keys(void)
{
	for (unsigned i = 0; i < N; i++) {
		memset(keys[i], 0x5a, 32);
		memcpy(keys[i], &i, sizeof i);
	}
}

static bool want(void *ctx, uint32_t val, const uint8_t pub[32])
{
	(void)ctx;
	return !masked[val] && memcmp(keys[val], pub, 32) == 0;
}

static uint32_t find(const struct jv_keyhash *t, const uint8_t pub[32])
{
	return jv_keyhash_find(t, pub, want, NULL);
}

static void ten_thousand(void **st)
{
	(void)st;
	struct jv_seeded_rng s;
	struct jv_keyhash t;
	uint8_t stranger[32];

	make_keys();
	memset(gone, 0, sizeof gone);
	memset(masked, 0, sizeof masked);
	jv_seeded_rng_init(&s, 3);
	struct jv_rng rng = jv_seeded_rng(&s);
	assert_int_equal(jv_keyhash_init(&t, &rng), JV_OK);
	assert_int_equal(jv_keyhash_add(&t, keys[0], JV_KEYHASH_NONE),
			 JV_ERR_INVAL);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(jv_keyhash_add(&t, keys[i], i), JV_OK);
	assert_int_equal(t.used, N);
	assert_true(2 * t.used <= t.cap);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(find(&t, keys[i]), i);
	memset(stranger, 0xa5, 32);
	for (unsigned i = 0; i < 1000; i++) {
		memcpy(stranger, &i, sizeof i);
		assert_int_equal(find(&t, stranger), JV_KEYHASH_NONE);
	}

	/* every third key leaves: the others stay found, the gone are not */
	for (uint32_t i = 0; i < N; i += 3) {
		jv_keyhash_del(&t, keys[i], i);
		gone[i] = true;
	}
	jv_keyhash_del(&t, stranger, 1);	/* absent: no-op */
	jv_keyhash_del(&t, keys[1], 2);		/* wrong index: no-op */
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(find(&t, keys[i]), gone[i] ? JV_KEYHASH_NONE : i);
	/* and come back */
	for (uint32_t i = 0; i < N; i += 3)
		assert_int_equal(jv_keyhash_add(&t, keys[i], i), JV_OK);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(find(&t, keys[i]), i);
	jv_keyhash_free(&t);
}

/* A removed peer's key added again under another index: both entries are
 * in the chain, `want` picks the one not refused. */
static void same_key_two_indexes(void **st)
{
	(void)st;
	struct jv_seeded_rng s;
	struct jv_keyhash t;

	make_keys();
	memset(masked, 0, sizeof masked);
	jv_seeded_rng_init(&s, 4);
	struct jv_rng rng = jv_seeded_rng(&s);
	assert_int_equal(jv_keyhash_init(&t, &rng), JV_OK);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(jv_keyhash_add(&t, keys[i], i), JV_OK);
	memcpy(keys[100], keys[7], 32);		/* key 7 again, as 100 */
	masked[7] = true;			/* 7 is removed */
	assert_int_equal(find(&t, keys[7]), JV_KEYHASH_NONE);
	assert_int_equal(jv_keyhash_add(&t, keys[100], 100), JV_OK);
	assert_int_equal(find(&t, keys[7]), 100);
	/* the slot of 7 is reused: its old entry goes, the new one stays */
	jv_keyhash_del(&t, keys[7], 7);
	assert_int_equal(find(&t, keys[100]), 100);
	masked[7] = false;
	assert_int_equal(find(&t, keys[100]), 100);
	jv_keyhash_free(&t);
}

/* The home of a key depends on the table's secret: under two seeds the
 * same 256 keys do not land in the same slots. */
static void keyed(void **st)
{
	(void)st;
	struct jv_seeded_rng s1, s2;
	struct jv_keyhash a, b;
	unsigned same = 0;

	make_keys();
	jv_seeded_rng_init(&s1, 5);
	jv_seeded_rng_init(&s2, 6);
	struct jv_rng r1 = jv_seeded_rng(&s1), r2 = jv_seeded_rng(&s2);
	assert_int_equal(jv_keyhash_init(&a, &r1), JV_OK);
	assert_int_equal(jv_keyhash_init(&b, &r2), JV_OK);
	assert_memory_not_equal(a.key, b.key, sizeof a.key);
	for (uint32_t i = 0; i < 256; i++) {
		assert_int_equal(jv_keyhash_add(&a, keys[i], i), JV_OK);
		assert_int_equal(jv_keyhash_add(&b, keys[i], i), JV_OK);
	}
	assert_int_equal(a.cap, b.cap);
	for (uint32_t i = 0; i < a.cap; i++)
		same += a.s[i].val != JV_KEYHASH_NONE &&
			a.s[i].val == b.s[i].val;
	assert_true(same < 32);
	jv_keyhash_free(&a);
	jv_keyhash_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ten_thousand),
		cmocka_unit_test(same_key_two_indexes),
		cmocka_unit_test(keyed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
