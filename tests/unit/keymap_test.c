/* SPDX-License-Identifier: MIT */
/*
 * The daemon's 32-byte-key map (src/daemon/keymap.c) against a plain
 * array: random puts, replacements and deletions (backward shift) over
 * keys that share their first bytes, so probe runs are long and wrap.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "daemon/keymap.h"

enum { KEYS = 600, OPS = 200000 };

static uint8_t keys[KEYS][32];
static int64_t ref[KEYS];		/* -1: absent */

static void against_array(void **st)
{
	struct dmn_keymap m;
	size_t n = 0;

	(void)st;
	dmn_keymap_init(&m);
	for (unsigned i = 0; i < KEYS; i++) {
		memset(keys[i], 0xab, 32);
		keys[i][30] = (uint8_t)(i >> 8);
		keys[i][31] = (uint8_t)i;
		ref[i] = -1;
	}
	for (unsigned op = 0; op < OPS; op++) {
		unsigned i = randombytes_uniform(KEYS);
		uint32_t v, r = randombytes_uniform(3);

		if (r == 0) {
			dmn_keymap_del(&m, keys[i]);
			n -= ref[i] >= 0;
			ref[i] = -1;
		} else {
			v = randombytes_random();
			assert_int_equal(dmn_keymap_put(&m, keys[i], v), 0);
			n += ref[i] < 0;
			ref[i] = v;
		}
		if (op % 1000 == 0 || op == OPS - 1)
			for (unsigned k = 0; k < KEYS; k++) {
				bool has = dmn_keymap_get(&m, keys[k], &v);

				assert_int_equal(has, ref[k] >= 0);
				if (has)
					assert_int_equal(v, (uint32_t)ref[k]);
			}
		assert_int_equal(m.n, n);
	}
	/* set only replaces */
	memset(keys[0], 0x11, 32);
	assert_false(dmn_keymap_set(&m, keys[0], 7));
	assert_false(dmn_keymap_get(&m, keys[0], &(uint32_t){ 0 }));
	dmn_keymap_free(&m);
}

static void session_ids(void **st)
{
	struct dmn_keymap m;
	uint8_t a[32], b[32];
	uint32_t v = 0;

	(void)st;
	dmn_keymap_init(&m);
	dmn_keymap_sid("0123456789abcdef0123456789abcdef", a);
	dmn_keymap_sid("0123456789abcdef0123456789abcdee", b);
	assert_int_equal(dmn_keymap_put(&m, a, 1), 0);
	assert_false(dmn_keymap_get(&m, b, &v));
	assert_true(dmn_keymap_set(&m, a, 2));
	assert_true(dmn_keymap_get(&m, a, &v));
	assert_int_equal(v, 2);
	dmn_keymap_free(&m);
	assert_false(dmn_keymap_get(&m, a, &v));
	dmn_keymap_del(&m, a);		/* an empty map: nothing to do */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(against_array),
		cmocka_unit_test(session_ids),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
