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

/*
 * PD-10: a path token names one session, one tuple (address and port)
 * and one period; it is good for that period and the next, never another
 * tuple's, session's, or a period later.  A key derived from another
 * static key makes other tokens.
 */
static void path_token_names_session_tuple_and_period(void **st)
{
	(void)st;
	uint8_t priv[32], key[32], other_key[32], sid[16], sid2[16];
	uint8_t tok[JV_WIRE_PATH_TOKEN_SIZE], zero[JV_WIRE_PATH_TOKEN_SIZE] = { 0 };
	struct jv_addr a, same_ip, same_port;
	const jv_time t = 5 * JV_PATH_TOKEN_PERIOD_MS + 17;

	memset(priv, 0x22, sizeof priv);
	jv_path_token_key(key, priv);
	priv[0] ^= 1;
	jv_path_token_key(other_key, priv);
	memset(sid, 0xa1, sizeof sid);
	memcpy(sid2, sid, sizeof sid2);
	sid2[15] ^= 1;
	jv_addr_from_ipv4(&a, 0x0a000202, 40002);
	jv_addr_from_ipv4(&same_ip, 0x0a000202, 40003);
	jv_addr_from_ipv4(&same_port, 0x0a000203, 40002);

	jv_path_token(key, sid, &a, t, tok);
	assert_true(jv_path_token_ok(key, sid, &a, t, tok));
	assert_true(jv_path_token_ok(key, sid, &a,
				     t + JV_PATH_TOKEN_PERIOD_MS, tok));
	assert_false(jv_path_token_ok(key, sid, &a,
				      t + 2 * JV_PATH_TOKEN_PERIOD_MS, tok));
	assert_false(jv_path_token_ok(key, sid, &same_ip, t, tok));
	assert_false(jv_path_token_ok(key, sid, &same_port, t, tok));
	assert_false(jv_path_token_ok(key, sid2, &a, t, tok));
	assert_false(jv_path_token_ok(other_key, sid, &a, t, tok));
	assert_false(jv_path_token_ok(key, sid, &a, t, zero));
	/* period 0 has no previous one */
	jv_path_token(key, sid, &a, 0, tok);
	assert_true(jv_path_token_ok(key, sid, &a, 1, tok));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(budget_is_three_times_received),
		cmocka_unit_test(response_must_match_data_and_address),
		cmocka_unit_test(slots_are_bounded),
		cmocka_unit_test(path_token_names_session_tuple_and_period),
	};
	return cmocka_run_group_tests_name("pathval", tests, NULL, NULL);
}
