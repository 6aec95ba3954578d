/* SPDX-License-Identifier: MIT */
/*
 * The per-source handshake limiter (srclimit.c): one bucket per IPv4
 * address or IPv6 /64, the port ignored, sources independent, bounded
 * table whose recycling never takes tokens from anybody.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jvpn/srclimit.h"

enum { RATE = 10, BURST = 4, T0 = 1000 };

static struct jv_srclimit L;

static struct jv_srclimit *fresh(uint64_t seed)
{
	static struct jv_seeded_rng s;
	struct jv_rng r;

	jv_seeded_rng_init(&s, seed);
	r = jv_seeded_rng(&s);
	assert_int_equal(jv_srclimit_init(&L, RATE, BURST, &r), 0);
	return &L;
}

static struct jv_addr v6(uint8_t net, uint8_t host, uint16_t port)
{
	struct jv_addr a;

	memset(&a, 0, sizeof a);
	a.ip[0] = 0x20;
	a.ip[1] = 0x01;
	a.ip[7] = net;
	a.ip[15] = host;
	a.port = port;
	return a;
}

static unsigned takes(struct jv_srclimit *l, const struct jv_addr *a,
		      unsigned n, jv_time now)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += jv_srclimit_take(l, a, now);
	return ok;
}

static void burst_then_rate(void **st)
{
	(void)st;
	struct jv_srclimit *l = fresh(1);
	struct jv_addr a, b;

	jv_addr_from_ipv4(&a, 0x0a000001, 1000);
	jv_addr_from_ipv4(&b, 0x0a000002, 1000);
	assert_int_equal(takes(l, &a, 10, T0), BURST);
	/* another address is not charged for a's */
	assert_int_equal(takes(l, &b, 10, T0), BURST);
	/* 1000 / RATE ms later: one more */
	assert_int_equal(takes(l, &a, 10, T0 + 1000 / RATE), 1);
	assert_int_equal(takes(l, &a, 10, T0 + 10000), BURST);
}

static void port_and_v6_host_share_a_bucket(void **st)
{
	(void)st;
	struct jv_srclimit *l = fresh(2);
	struct jv_addr a, a2;

	/* another port of the same IPv4 host: the same bucket */
	jv_addr_from_ipv4(&a, 0x0a000001, 1000);
	jv_addr_from_ipv4(&a2, 0x0a000001, 2000);
	assert_int_equal(takes(l, &a, BURST, T0), BURST);
	assert_int_equal(takes(l, &a2, 1, T0), 0);
	/* IPv6: the /64 is the source */
	struct jv_addr h1 = v6(1, 1, 1), h2 = v6(1, 2, 9), other = v6(2, 1, 1);
	assert_int_equal(takes(l, &h1, BURST, T0), BURST);
	assert_int_equal(takes(l, &h2, 1, T0), 0);
	assert_int_equal(takes(l, &other, 1, T0), 1);
}

/* 100 000 sources through a 1 024-entry table: memory stays fixed, and a
 * source recycled out comes back with a full bucket, never an empty one. */
static void bounded_and_recycling_never_locks_out(void **st)
{
	(void)st;
	struct jv_srclimit *l = fresh(3);
	struct jv_addr victim, s;

	jv_addr_from_ipv4(&victim, 0xc0000201, 5000);
	assert_int_equal(takes(l, &victim, BURST, T0), BURST);
	for (uint32_t i = 0; i < 100000; i++) {
		jv_addr_from_ipv4(&s, 0x64400000 + i, 7);
		(void)jv_srclimit_take(l, &s, T0 + 1);
	}
	/* the victim's entry was recycled (its set filled up): full again */
	assert_true(takes(l, &victim, BURST, T0 + 2) >= 1);
	assert_int_equal(sizeof L.e / sizeof L.e[0],
			 JV_SRCLIMIT_SETS * JV_SRCLIMIT_WAYS);
}

/* The hash is keyed: two tables from different rng seeds place sources
 * differently (an attacker cannot aim at a victim's set). */
static void keyed_placement(void **st)
{
	(void)st;
	uint8_t k1[JV_SRCLIMIT_KEY_SIZE];

	memcpy(k1, fresh(4)->key, sizeof k1);
	assert_memory_not_equal(k1, fresh(5)->key, sizeof k1);
	struct jv_seeded_rng s;
	jv_seeded_rng_init(&s, 1);
	struct jv_rng r = jv_seeded_rng(&s);
	assert_int_equal(jv_srclimit_init(&L, 0, BURST, &r), JV_ERR_INVAL);
	assert_int_equal(jv_srclimit_init(&L, RATE, 0, &r), JV_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_rate),
		cmocka_unit_test(port_and_v6_host_share_a_bucket),
		cmocka_unit_test(bounded_and_recycling_never_locks_out),
		cmocka_unit_test(keyed_placement),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("srclimit", tests, NULL, NULL);
}
