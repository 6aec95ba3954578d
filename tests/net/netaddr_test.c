/* SPDX-License-Identifier: MIT */
/* struct jv_addr <-> sockaddr and text: mapped IPv4, IPv6, bad input. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/netaddr.h"

static void v4_sockaddr_is_mapped_and_back(void **st)
{
	(void)st;
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(51820) };
	struct sockaddr_storage ss;
	struct jv_addr a;
	static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  0xff, 0xff, 10, 201, 1, 2 };

	inet_pton(AF_INET, "10.201.1.2", &in.sin_addr);
	assert_int_equal(jv_netaddr_from_sockaddr(&a, (struct sockaddr *)&in,
						  sizeof in), 0);
	assert_memory_equal(a.ip, want, 16);
	assert_int_equal(a.port, 51820);
	assert_true(jv_netaddr_is_v4(&a));
	assert_int_equal(jv_netaddr_v4(&a), 0x0ac90102u);
	assert_int_equal(jv_netaddr_family(&a), AF_INET);

	assert_int_equal(jv_netaddr_to_sockaddr(&a, &ss), sizeof in);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_memory_equal(&((struct sockaddr_in *)&ss)->sin_addr,
			    &in.sin_addr, 4);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, in.sin_port);
}

static void v6_sockaddr_round_trip(void **st)
{
	(void)st;
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(443),
				    .sin6_scope_id = 7 };
	struct sockaddr_storage ss;
	struct jv_addr a;

	inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
	assert_int_equal(jv_netaddr_from_sockaddr(&a, (struct sockaddr *)&in6,
						  sizeof in6), 0);
	assert_false(jv_netaddr_is_v4(&a));
	assert_int_equal(jv_netaddr_v4(&a), 0);
	assert_int_equal(a.port, 443);
	assert_int_equal(jv_netaddr_to_sockaddr(&a, &ss), sizeof in6);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_memory_equal(&((struct sockaddr_in6 *)&ss)->sin6_addr,
			    &in6.sin6_addr, 16);
	/* the scope id is not kept (documented) */
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 0);
}

static void bad_sockaddrs_refused(void **st)
{
	(void)st;
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un_like { sa_family_t f; char p[20]; } un = {
		.f = AF_UNIX };
	struct jv_addr a;

	assert_int_equal(jv_netaddr_from_sockaddr(&a, (struct sockaddr *)&in,
						  sizeof in - 1), JV_ERR_INVAL);
	assert_int_equal(jv_netaddr_from_sockaddr(&a, (struct sockaddr *)&un,
						  sizeof un), JV_ERR_INVAL);
	assert_int_equal(jv_netaddr_from_sockaddr(&a, NULL, 16), JV_ERR_INVAL);
	assert_int_equal(jv_netaddr_from_sockaddr(NULL, (struct sockaddr *)&in,
						  sizeof in), JV_ERR_INVAL);
}

static void parse_forms(void **st)
{
	(void)st;
	char buf[JV_NETADDR_STR_MAX];
	struct jv_addr a;

	assert_int_equal(jv_netaddr_parse(&a, "192.0.2.1:51820"), 0);
	assert_int_equal(jv_netaddr_v4(&a), 0xc0000201u);
	assert_int_equal(a.port, 51820);
	assert_string_equal(jv_netaddr_str(&a, buf), "192.0.2.1:51820");

	assert_int_equal(jv_netaddr_parse(&a, "192.0.2.1"), 0);
	assert_int_equal(a.port, 0);
	assert_string_equal(jv_netaddr_str(&a, buf), "192.0.2.1");

	assert_int_equal(jv_netaddr_parse(&a, "[2001:db8::1]:65535"), 0);
	assert_false(jv_netaddr_is_v4(&a));
	assert_int_equal(a.port, 65535);
	assert_string_equal(jv_netaddr_str(&a, buf), "[2001:db8::1]:65535");

	assert_int_equal(jv_netaddr_parse(&a, "2001:db8::1"), 0);
	assert_int_equal(a.port, 0);
	assert_string_equal(jv_netaddr_str(&a, buf), "2001:db8::1");

	/* an IPv4-mapped literal is the same address as the dotted quad */
	assert_int_equal(jv_netaddr_parse(&a, "[::ffff:10.0.0.1]:1"), 0);
	assert_true(jv_netaddr_is_v4(&a));
	assert_string_equal(jv_netaddr_str(&a, buf), "10.0.0.1:1");

	assert_int_equal(jv_netaddr_parse(&a, "0.0.0.0:9"), 0);
	assert_true(jv_netaddr_is_any(&a));
	assert_int_equal(jv_netaddr_parse(&a, "[::]:9"), 0);
	assert_true(jv_netaddr_is_any(&a));
	assert_int_equal(jv_netaddr_parse(&a, "::1"), 0);
	assert_false(jv_netaddr_is_any(&a));

	/* the longest form fits the buffer */
	assert_int_equal(jv_netaddr_parse(&a,
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), 0);
	assert_string_equal(jv_netaddr_str(&a, buf),
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void parse_rejects(void **st)
{
	(void)st;
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
		"1.2.3.4:80x", "1.2.3.4: 80", "[1.2.3.4]:80", "[::1", "[::1]x",
		"[::1]:", "::1:80:", "host.example:80", "1.2.3.256",
		"[2001:db8::1]:99999",
	};
	struct jv_addr a;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		print_message("# rejecting \"%s\"\n", bad[i]);
		assert_int_equal(jv_netaddr_parse(&a, bad[i]), JV_ERR_PARSE);
	}
	assert_int_equal(jv_netaddr_parse(&a, NULL), JV_ERR_PARSE);
}

static void parse_prefixes(void **st)
{
	(void)st;
	struct jv_addr a;
	unsigned p;

	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "10.8.0.1/24"), 0);
	assert_int_equal(jv_netaddr_v4(&a), 0x0a080001u);
	assert_int_equal(p, 24);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "10.8.0.1"), 0);
	assert_int_equal(p, 32);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "0.0.0.0/0"), 0);
	assert_int_equal(p, 0);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "fd00::1/64"), 0);
	assert_int_equal(p, 64);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "fd00::1"), 0);
	assert_int_equal(p, 128);

	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "10.0.0.0/33"),
			 JV_ERR_PARSE);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "fd00::/129"),
			 JV_ERR_PARSE);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "10.0.0.0/"),
			 JV_ERR_PARSE);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "10.0.0.0/2x"),
			 JV_ERR_PARSE);
	assert_int_equal(jv_netaddr_parse_prefix(&a, &p, "10.0.0.0:80/8"),
			 JV_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v4_sockaddr_is_mapped_and_back),
		cmocka_unit_test(v6_sockaddr_round_trip),
		cmocka_unit_test(bad_sockaddrs_refused),
		cmocka_unit_test(parse_forms),
		cmocka_unit_test(parse_rejects),
		cmocka_unit_test(parse_prefixes),
	};

	return cmocka_run_group_tests_name("net_netaddr", tests, NULL, NULL);
}
