/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_CLOCK_H
#define JVPN_NET_CLOCK_H

/*
 * The daemon's clock: milliseconds since the Unix epoch that never step
 * backwards.  At the first call we read the wall clock once and from then
 * on add the steady clock's elapsed time to that anchor.
 *
 * Why not CLOCK_REALTIME: the engine uses `now` for every timer, for event
 * ts_ms and for reattach freshness, and a wall clock may step (NTP, an
 * operator, a VM restore).  A step back would stall timers and make event
 * times go backwards; spec OP-17 asks for freshness bounds that tolerate
 * loose clocks and for event ts_ms that never decrease.  Why not bare
 * CLOCK_MONOTONIC: peers compare timestamps (§7.5), so values must stay
 * near wall time, hence the epoch anchor.
 *
 * The steady clock is CLOCK_BOOTTIME, a CLOCK_MONOTONIC that also counts
 * time spent suspended: after a laptop resumes, the timers that fell due
 * during the sleep fire at once and `now` stays next to the peer's wall
 * clock instead of lagging by the length of the suspend.
 */

#include <time.h>

#include "jvpn/limits.h"

/* The steady clock behind jv_clock_now, for timerfd_create(). */
#define JV_CLOCK_STEADY CLOCK_BOOTTIME

/* Milliseconds, Unix-epoch anchored, non-decreasing.  Thread-safe. */
jv_time jv_clock_now(void);

/*
 * The JV_CLOCK_STEADY instant at which jv_clock_now() first reads `t`
 * (for an absolute timerfd).  Times before the anchor map to the anchor;
 * JV_TIME_NEVER and other values past year 2262 saturate.  The mapping is
 * exact, so a timer armed here never wakes while jv_clock_now() < t.
 */
void jv_clock_to_steady(jv_time t, struct timespec *ts);

#endif
