/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLI_HUMAN_H
#define JVPN_CLI_HUMAN_H

/*
 * Numbers for people, as `jvpn show`, `jvpn status` and `jvpn events`
 * print them, and the times `events --since` reads.  Pure: no clock, no
 * I/O (the caller passes `now`), so tests pin every case.
 */

#include <stddef.h>
#include <stdint.h>

enum {
	HUMAN_MAX = 64,			/* any output below, with its NUL */
	HUMAN_TIME_MAX = 48,		/* "2026-12-07 14:55:01.123" */
};

/* "0 B", "1023 B", "1.00 KiB", "640 KiB", "1.21 MiB" ... "EiB": three
 * significant digits past 1023 B (like wg's transfer line). */
const char *human_bytes(uint64_t n, char out[HUMAN_MAX]);

/*
 * A duration: "250 ms" below a second, else its largest units, at most
 * `units` of them (0: all): "1 second", "2 minutes, 5 seconds",
 * "1 day, 2 hours, 3 minutes, 4 seconds".  Zero units are skipped
 * ("1 hour, 4 seconds").
 */
const char *human_duration(uint64_t ms, unsigned units, char out[HUMAN_MAX]);

/* "1 peer", "2 peers", "0 peers". */
const char *human_count(uint64_t n, const char *one, const char *many,
			char out[HUMAN_MAX]);

/* ts_ms (Unix milliseconds) as "2026-12-07 14:55:01.123" UTC. */
const char *human_time(uint64_t ts_ms, char out[HUMAN_TIME_MAX]);

/*
 * --since: an RFC 3339 time ("2026-12-07T14:55:01Z", fractions of a
 * second and a "+02:00" offset allowed, a space for the 'T' too), or an
 * age before now: a number and a unit, ms, s, m, h or d ("30s", "10m",
 * "2h").  Unix milliseconds into *out.  0, or -1 when s is neither
 * (out of range included).
 */
int human_parse_since(const char *s, uint64_t now_ms, uint64_t *out);

#endif
