/* SPDX-License-Identifier: MIT */
/*
 * The gateway's longest-prefix table (src/daemon/route_table.c) against
 * the linear reference (jv_config_route_lookup without a table): random
 * prefixes of both families, nested on purpose (the config refuses two
 * peers' nested networks, the table must not rely on it), random and
 * chosen addresses, and the same prefix twice (the lowest peer wins, as
 * in the linear pass).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/route_table.h"
#include "net/netaddr.h"

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 16);
}

/* An address near a small set of bases, so prefixes nest and collide. */
static void rand_addr(struct jv_addr *a, bool v4)
{
	memset(a, 0, sizeof *a);
	if (v4) {
		jv_addr_from_ipv4(a, 0x0a000000u | (rnd() % 4) << 16 |
				  (rnd() & 0xffff), 0);
		return;
	}
	a->ip[0] = 0xfd;
	a->ip[1] = (uint8_t)(rnd() % 3);
	for (int i = 2; i < 16; i++)
		a->ip[i] = (uint8_t)(rnd() % 4 == 0 ? rnd() : 0);
}

static void clear_host_bits(struct jv_cidr *c)
{
	unsigned bits = jv_netaddr_is_v4(&c->addr) ? 96 + c->prefix : c->prefix;

	for (unsigned i = bits; i < 128; i++)
		c->addr.ip[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static void against_linear(void **st)
{
	enum { PEERS = 300, PER = 3, PROBES = 20000 };
	struct jv_config cfg;
	struct jv_cfg_peer *peers = calloc(PEERS, sizeof *peers);
	struct jv_cidr *pool = calloc(PEERS * PER, sizeof *pool);
	struct jv_route_table *t = NULL;

	(void)st;
	assert_non_null(peers);
	assert_non_null(pool);
	memset(&cfg, 0, sizeof cfg);
	for (unsigned p = 0; p < PEERS; p++) {
		peers[p].allowed = &pool[p * PER];
		peers[p].nallowed = 1 + rnd() % PER;
		peers[p].host = "";
		for (unsigned i = 0; i < peers[p].nallowed; i++) {
			struct jv_cidr *c = &peers[p].allowed[i];
			bool v4 = rnd() % 2;

			rand_addr(&c->addr, v4);
			c->prefix = v4 ? 8 + rnd() % 25 : 16 + rnd() % 113;
			if (rnd() % 50 == 0)
				c->prefix = 0;
			clear_host_bits(c);
		}
	}
	/* the same prefix twice: the first peer keeps it */
	peers[7].allowed[0] = peers[3].allowed[0];
	cfg.peers = peers;
	cfg.npeers = PEERS;
	assert_int_equal(jv_route_table_for(&cfg, &t), 0);
	assert_non_null(t);
	for (unsigned k = 0; k < PROBES; k++) {
		struct jv_addr a;
		int want, got;

		if (k % 2) {
			const struct jv_cfg_peer *p = &peers[rnd() % PEERS];

			a = p->allowed[rnd() % p->nallowed].addr;
			a.ip[15] ^= (uint8_t)(rnd() % 4);	/* in or beside it */
		} else {
			rand_addr(&a, rnd() % 2);
		}
		cfg.routes = NULL;
		want = jv_config_route_lookup(&cfg, a.ip);
		got = jv_route_table_lookup(t, a.ip);
		if (want != got) {
			char s[JV_NETADDR_STR_MAX];

			fail_msg("%s: linear %d, table %d",
				 jv_netaddr_str(&a, s), want, got);
		}
		cfg.routes = t;
		assert_int_equal(jv_config_route_lookup(&cfg, a.ip), want);
	}
	jv_route_table_free(t);
	free(pool);
	free(peers);
}

/* Nested: the longer prefix wins, the shorter keeps the rest; an empty
 * table answers nothing. */
static void nested_and_empty(void **st)
{
	struct jv_cidr c[3];
	struct jv_route_in in[3];
	struct jv_route_table *t = NULL;
	struct jv_addr a;

	(void)st;
	assert_int_equal(jv_netaddr_parse_prefix(&c[0].addr, &c[0].prefix,
						 "10.0.0.0/8"), 0);
	assert_int_equal(jv_netaddr_parse_prefix(&c[1].addr, &c[1].prefix,
						 "10.1.0.0/16"), 0);
	assert_int_equal(jv_netaddr_parse_prefix(&c[2].addr, &c[2].prefix,
						 "::/0"), 0);
	for (int i = 0; i < 3; i++)
		in[i] = (struct jv_route_in){ &c[i], (uint32_t)(10 + i) };
	assert_int_equal(jv_route_table_build(in, 3, &t), 0);
	assert_int_equal(jv_route_table_size(t), 3);
	assert_int_equal(jv_netaddr_parse(&a, "10.1.2.3"), 0);
	assert_int_equal(jv_route_table_lookup(t, a.ip), 11);
	assert_int_equal(jv_netaddr_parse(&a, "10.2.2.3"), 0);
	assert_int_equal(jv_route_table_lookup(t, a.ip), 10);
	assert_int_equal(jv_netaddr_parse(&a, "2001:db8::1"), 0);
	assert_int_equal(jv_route_table_lookup(t, a.ip), 12);
	jv_route_table_free(t);
	assert_int_equal(jv_route_table_build(in, 0, &t), 0);
	assert_null(t);
	assert_int_equal(jv_route_table_lookup(t, a.ip), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(against_linear),
		cmocka_unit_test(nested_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
