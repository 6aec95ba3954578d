/* SPDX-License-Identifier: MIT */
/*
 * What `jvpn show`, `status` and `events` print for people (src/cli/
 * human.c) and the endpoint text the daemon gives them (jv_netaddr_str):
 * byte units at their edges, durations, counts, times, --since.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/human.h"
#include "net/netaddr.h"

static void bytes(void **st)
{
	char b[HUMAN_MAX];

	(void)st;
	assert_string_equal(human_bytes(0, b), "0 B");
	assert_string_equal(human_bytes(1, b), "1 B");
	assert_string_equal(human_bytes(1023, b), "1023 B");
	assert_string_equal(human_bytes(1024, b), "1.00 KiB");
	assert_string_equal(human_bytes(1536, b), "1.50 KiB");
	assert_string_equal(human_bytes(640 * 1024, b), "640 KiB");
	assert_string_equal(human_bytes(1268777, b), "1.21 MiB");
	assert_string_equal(human_bytes(50ull << 20, b), "50.0 MiB");
	assert_string_equal(human_bytes(1ull << 30, b), "1.00 GiB");
	assert_string_equal(human_bytes(3ull << 40, b), "3.00 TiB");
	assert_string_equal(human_bytes(UINT64_MAX, b), "16.0 EiB");
}

static void durations(void **st)
{
	char b[HUMAN_MAX];

	(void)st;
	assert_string_equal(human_duration(0, 0, b), "0 ms");
	assert_string_equal(human_duration(999, 0, b), "999 ms");
	assert_string_equal(human_duration(1000, 0, b), "1 second");
	assert_string_equal(human_duration(3999, 0, b), "3 seconds");
	assert_string_equal(human_duration(125000, 0, b), "2 minutes, 5 seconds");
	assert_string_equal(human_duration(3604000, 0, b), "1 hour, 4 seconds");
	assert_string_equal(human_duration(93784000, 0, b),
			    "1 day, 2 hours, 3 minutes, 4 seconds");
	/* the largest units only */
	assert_string_equal(human_duration(93784000, 2, b), "1 day, 2 hours");
	assert_string_equal(human_duration(864000000, 2, b), "10 days");
	assert_string_equal(human_duration(UINT64_MAX, 0, b),
			    "213503982334 days, 14 hours, 25 minutes, 51 seconds");
}

static void counts(void **st)
{
	char b[HUMAN_MAX];

	(void)st;
	assert_string_equal(human_count(0, "peer", "peers", b), "0 peers");
	assert_string_equal(human_count(1, "peer", "peers", b), "1 peer");
	assert_string_equal(human_count(2, "peer", "peers", b), "2 peers");
}

static void times(void **st)
{
	char b[HUMAN_TIME_MAX];

	(void)st;
	assert_string_equal(human_time(0, b), "1970-01-01 00:00:00.000");
	assert_string_equal(human_time(5040, b), "1970-01-01 00:00:05.040");
	assert_string_equal(human_time(1796655301123ull, b),
			    "2026-12-07 14:55:01.123");
	assert_string_equal(human_time(951782400000ull, b),
			    "2000-02-29 00:00:00.000");
}

static void since(void **st)
{
	const uint64_t now = 1796655301123ull;	/* 2026-12-07 14:55:01.123 */
	uint64_t t;

	(void)st;
	assert_int_equal(human_parse_since("30s", now, &t), 0);
	assert_int_equal(t, now - 30000);
	assert_int_equal(human_parse_since("10m", now, &t), 0);
	assert_int_equal(t, now - 600000);
	assert_int_equal(human_parse_since("2h", now, &t), 0);
	assert_int_equal(t, now - 7200000);
	assert_int_equal(human_parse_since("1d", now, &t), 0);
	assert_int_equal(t, now - 86400000);
	assert_int_equal(human_parse_since("250ms", now, &t), 0);
	assert_int_equal(t, now - 250);
	assert_int_equal(human_parse_since("0s", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(human_parse_since("2026-12-07T14:55:01Z", now, &t), 0);
	assert_int_equal(t, 1796655301000ull);
	assert_int_equal(human_parse_since("2026-12-07t14:55:01.5z", now, &t), 0);
	assert_int_equal(t, 1796655301500ull);
	assert_int_equal(human_parse_since("2026-12-07 16:55:01.123456+02:00",
					   now, &t), 0);
	assert_int_equal(t, 1796655301123ull);
	assert_int_equal(human_parse_since("2026-12-07T09:55:01-05:00", now, &t), 0);
	assert_int_equal(t, 1796655301000ull);
	assert_int_equal(human_parse_since("1970-01-01T00:00:05Z", now, &t), 0);
	assert_int_equal(t, 5000);
	assert_int_equal(human_parse_since("2024-02-29T00:00:00Z", now, &t), 0);

	static const char *const bad[] = {
		"", "s", "10", "10x", "-5m", "10 m", "m10", "1.5h",
		"99999999999999999999s", "999999999999d",
		"2026-12-07", "2026-12-07T14:55:01", "2026-13-07T14:55:01Z",
		"2026-12-32T14:55:01Z", "2025-02-29T00:00:00Z",
		"2026-12-07T24:00:00Z", "2026-12-07T14:60:00Z",
		"2026-12-07T14:55:01+2:00", "2026-12-07T14:55:01.Z",
		"2026-12-07T14:55:01Zjunk", "1969-12-31T23:59:59Z",
		"2026-12-07X14:55:01Z", "2026-1-07T14:55:01Z",
		NULL,
	};
	for (size_t i = 0; bad[i]; i++) {
		t = 42;
		if (human_parse_since(bad[i], now, &t) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(t, 42);
	}
}

/* The endpoints `show` prints: IPv4 as a.b.c.d:port, IPv6 whole, in
 * brackets, never a hash. */
static void endpoints(void **st)
{
	char b[JV_NETADDR_STR_MAX];
	struct jv_addr a;

	(void)st;
	jv_addr_from_ipv4(&a, 0xc6120102, 40001);
	assert_string_equal(jv_netaddr_str(&a, b), "198.18.1.2:40001");
	memset(&a, 0, sizeof a);
	a.ip[0] = 0x20;
	a.ip[1] = 0x01;
	a.ip[2] = 0x0d;
	a.ip[3] = 0xb8;
	a.ip[15] = 0x02;
	a.port = 51820;
	assert_string_equal(jv_netaddr_str(&a, b), "[2001:db8::2]:51820");
	for (int i = 0; i < 16; i++)
		a.ip[i] = (uint8_t)(0x10 + i);
	assert_string_equal(jv_netaddr_str(&a, b),
		"[1011:1213:1415:1617:1819:1a1b:1c1d:1e1f]:51820");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes),
		cmocka_unit_test(durations),
		cmocka_unit_test(counts),
		cmocka_unit_test(times),
		cmocka_unit_test(since),
		cmocka_unit_test(endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
