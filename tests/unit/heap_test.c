/* SPDX-License-Identifier: MIT */
/*
 * The timer heap (src/core/heap.c): earliest first, ties by `tie`, items
 * re-keyed and removed through the position they hold, and many random
 * operations checked against a brute-force minimum over the same items.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/heap.h"
#include "jvpn/rng.h"

struct item {
	struct jv_heap_link link;
	jv_time key;
	uint32_t tie;
	bool in;
};

static struct item *of(struct jv_heap_link *l)
{
	return (struct item *)((char *)l - offsetof(struct item, link));
}

/* Every entry's position is the one its item holds, and no parent is
 * later than its children. */
static void check_shape(const struct jv_heap *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		assert_int_equal(h->e[i].link->pos, i);
		if (i == 0)
			continue;
		const struct jv_heap_ent *p = &h->e[(i - 1) / 2], *c = &h->e[i];
		assert_true(p->key < c->key ||
			    (p->key == c->key && p->tie < c->tie));
	}
}

static void ordering_and_ties(void **st)
{
	(void)st;
	struct jv_heap h;
	struct item it[6];
	const jv_time keys[6] = { 50, 10, 30, 10, JV_TIME_NEVER, 20 };
	const uint32_t ties[6] = { 1, 9, 3, 4, 5, 6 };
	/* 10 (tie 4) before 10 (tie 9), whatever the insertion order */
	const int want[6] = { 3, 1, 5, 2, 0, 4 };

	assert_int_equal(jv_heap_init(&h, 6), JV_OK);
	assert_null(jv_heap_top(&h));
	for (int i = 0; i < 6; i++) {
		jv_heap_link_init(&it[i].link);
		assert_false(jv_heap_has(&it[i].link));
		assert_int_equal(jv_heap_insert(&h, &it[i].link, keys[i],
						ties[i]), JV_OK);
		assert_true(jv_heap_has(&it[i].link));
		check_shape(&h);
	}
	/* full; and an item is in one heap once */
	struct item extra;
	jv_heap_link_init(&extra.link);
	assert_int_equal(jv_heap_insert(&h, &extra.link, 1, 0), JV_ERR_LIMIT);
	assert_int_equal(jv_heap_insert(&h, &it[0].link, 1, 0), JV_ERR_INVAL);
	for (int i = 0; i < 6; i++) {
		struct jv_heap_link *top = jv_heap_top(&h);
		assert_ptr_equal(of(top), &it[want[i]]);
		assert_int_equal(jv_heap_key(&h, top), keys[want[i]]);
		jv_heap_remove(&h, top);
		assert_false(jv_heap_has(top));
		check_shape(&h);
	}
	assert_null(jv_heap_top(&h));
	jv_heap_remove(&h, &it[0].link);	/* not in it: no-op */
	assert_int_equal(h.n, 0);
	jv_heap_free(&h);
	assert_int_equal(jv_heap_init(&h, 0), JV_ERR_INVAL);
}

static void update_and_remove_middle(void **st)
{
	(void)st;
	struct jv_heap h;
	struct item it[8];

	assert_int_equal(jv_heap_init(&h, 8), JV_OK);
	for (uint32_t i = 0; i < 8; i++) {
		jv_heap_link_init(&it[i].link);
		assert_int_equal(jv_heap_insert(&h, &it[i].link, 100 + 10 * i,
						i), JV_OK);
	}
	/* later: the top goes down; earlier: the last comes up */
	jv_heap_update(&h, &it[0].link, 1000);
	check_shape(&h);
	assert_ptr_equal(of(jv_heap_top(&h)), &it[1]);
	jv_heap_update(&h, &it[7].link, 5);
	check_shape(&h);
	assert_ptr_equal(of(jv_heap_top(&h)), &it[7]);
	assert_int_equal(jv_heap_key(&h, &it[7].link), 5);
	/* a middle entry leaves; the rest keep their order */
	jv_heap_remove(&h, &it[3].link);
	check_shape(&h);
	const int want[] = { 7, 1, 2, 4, 5, 6, 0 };
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct jv_heap_link *top = jv_heap_top(&h);
		assert_ptr_equal(of(top), &it[want[i]]);
		jv_heap_remove(&h, top);
	}
	jv_heap_free(&h);
}

static uint64_t rnd64(struct jv_seeded_rng *s)
{
	uint64_t x;
	struct jv_rng r = jv_seeded_rng(s);

	jv_rng_fill(&r, &x, sizeof x);
	return x;
}

/* Random inserts, re-keys (both ways), removals and pops over 512 items,
 * with keys from a small range so ties are common; after every step the
 * top is the brute-force minimum by (key, tie). */
static void random_against_brute_force(void **st)
{
	(void)st;
	enum { N = 512, STEPS = 200000 };
	static struct item it[N];
	struct jv_seeded_rng s;
	struct jv_heap h;
	unsigned in = 0;

	jv_seeded_rng_init(&s, 12);
	assert_int_equal(jv_heap_init(&h, N), JV_OK);
	for (uint32_t i = 0; i < N; i++) {
		jv_heap_link_init(&it[i].link);
		it[i].in = false;
		it[i].tie = (i * 2654435761u) >> 3;	/* unique, unordered */
	}
	for (unsigned step = 0; step < STEPS; step++) {
		uint64_t r = rnd64(&s);
		struct item *x = &it[r % N];
		jv_time key = (r >> 16) % 64;

		switch ((r >> 32) % 4) {
		case 0:
		case 1:
			if (!x->in) {
				assert_int_equal(jv_heap_insert(&h, &x->link, key,
								x->tie), JV_OK);
				x->in = true;
				in++;
			} else {
				jv_heap_update(&h, &x->link, key);
			}
			x->key = key;
			break;
		case 2:
			if (x->in)
				in--;
			jv_heap_remove(&h, &x->link);
			x->in = false;
			break;
		default:
			if (jv_heap_top(&h)) {
				struct item *t = of(jv_heap_top(&h));
				jv_heap_remove(&h, &t->link);
				t->in = false;
				in--;
			}
			break;
		}
		assert_int_equal(h.n, in);
		struct item *best = NULL;
		for (unsigned i = 0; i < N; i++) {
			if (!it[i].in)
				continue;
			assert_true(jv_heap_has(&it[i].link));
			assert_int_equal(jv_heap_key(&h, &it[i].link), it[i].key);
			if (!best || it[i].key < best->key ||
			    (it[i].key == best->key && it[i].tie < best->tie))
				best = &it[i];
		}
		if (!best)
			assert_null(jv_heap_top(&h));
		else
			assert_ptr_equal(of(jv_heap_top(&h)), best);
		if (step % 1024 == 0)
			check_shape(&h);
	}
	jv_heap_free(&h);
	for (unsigned i = 0; i < N; i++)
		assert_false(jv_heap_has(&it[i].link));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordering_and_ties),
		cmocka_unit_test(update_and_remove_middle),
		cmocka_unit_test(random_against_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
