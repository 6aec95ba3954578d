/* SPDX-License-Identifier: MIT */
/* Path validation: 3x budget, challenge matching, expiry, bounded slots. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/pathval.h"

static struct jv_addr addr(uint32_t ip, uint16_t port)
{
	struct jv_addr a;
	jv_addr_from_ipv4(&a, ip, port);
	return a;
}

static void budget_is_three_times_received(void **st)
{
	(void)st;
	struct jv_pathval pv;
	struct jv_addr a = addr(0x0a000001, 1000);

	jv_pathval_init(&pv);
	struct jv_pathval_slot *s = jv_pathval_received(&pv, &a, 0, 100, 1);
	assert_true(jv_pathval_may_send(s, 300));
	assert_false(jv_pathval_may_send(s, 301));
	jv_pathval_sent(s, 250);
	assert_true(jv_pathval_may_send(s, 50));
	assert_false(jv_pathval_may_send(s, 51));
	/* more received, more budget; same slot for the same address */
	assert_ptr_equal(jv_pathval_received(&pv, &a, 0, 10, 2), s);
	assert_true(jv_pathval_may_send(s, 80));
	assert_false(jv_pathval_may_send(s, 81));
}

static void response_must_match_data_and_address(void **st)
{
	(void)st;
	struct jv_seeded_rng r;
	struct jv_pathval pv;
	struct jv_addr a = addr(0x0a000001, 1000), b = addr(0x0a000001, 1001);
	uint8_t wrong[JV_PATHVAL_DATA];

	jv_seeded_rng_init(&r, 1);
	struct jv_rng rng = jv_seeded_rng(&r);
	jv_pathval_init(&pv);
	struct jv_pathval_slot *s = jv_pathval_received(&pv, &a, 0, 100, 10);
	assert_null(jv_pathval_match(&pv, &a, s->data, 10)); /* none sent yet */
	assert_true(jv_pathval_challenge_due(s, &rng, 10));
	assert_false(jv_pathval_challenge_due(s, &rng, 10 + JV_PATHVAL_RETRY_MS - 1));
	assert_ptr_equal(jv_pathval_match(&pv, &a, s->data, 11), s);
	assert_null(jv_pathval_match(&pv, &b, s->data, 11));
	memcpy(wrong, s->data, sizeof wrong);
	wrong[0] ^= 1;
	assert_null(jv_pathval_match(&pv, &a, wrong, 11));
	/* expired at sent + lifetime + 1 */
	assert_ptr_equal(jv_pathval_match(&pv, &a, s->data, 10 + JV_PATHVAL_CHALLENGE_MS), s);
	assert_null(jv_pathval_match(&pv, &a, s->data, 11 + JV_PATHVAL_CHALLENGE_MS));
	assert_int_equal(jv_pathval_deadline(&pv), 11 + JV_PATHVAL_CHALLENGE_MS);
	jv_pathval_expire(&pv, 11 + JV_PATHVAL_CHALLENGE_MS);
	assert_int_equal(jv_pathval_deadline(&pv), JV_TIME_NEVER);
}

static void slots_are_bounded(void **st)
{
	(void)st;
	struct jv_pathval pv;

	jv_pathval_init(&pv);
	for (uint16_t p = 0; p < 100; p++) {
		struct jv_addr a = addr(0x0a000001, (uint16_t)(2000 + p));
		assert_non_null(jv_pathval_received(&pv, &a, 0, 10, p));
	}
	int used = 0;
	for (int i = 0; i < JV_PATHVAL_SLOTS; i++)
		used += pv.slot[i].used;
	assert_int_equal(used, JV_PATHVAL_SLOTS);
	/* a replaced slot starts with a fresh budget */
	struct jv_addr last = addr(0x0a000001, 2099);
	struct jv_pathval_slot *s = jv_pathval_received(&pv, &last, 0, 0, 100);
	assert_int_equal(s->bytes_in, 10);
	jv_pathval_forget(&pv, &last);
	assert_false(s->used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(budget_is_three_times_received),
		cmocka_unit_test(response_must_match_data_and_address),
		cmocka_unit_test(slots_are_bounded),
	};
	return cmocka_run_group_tests_name("pathval", tests, NULL, NULL);
}
