/* SPDX-License-Identifier: MIT */
/* Epoch-anchored steady milliseconds (see clock.h for why). */

#include <pthread.h>
#include <stdint.h>

#include "net/clock.h"

static struct {
	jv_time epoch_ms;	/* wall clock at the first call, >= 1 */
	uint64_t steady_ns;	/* JV_CLOCK_STEADY at the same moment */
} anchor;
static pthread_once_t anchor_once = PTHREAD_ONCE_INIT;

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static void anchor_init(void)
{
	struct timespec wall, steady;

	/* Neither call can fail for these clock ids on Linux >= 2.6.39. */
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(JV_CLOCK_STEADY, &steady);
	anchor.steady_ns = ts_ns(&steady);
	if (wall.tv_sec < 0)
		wall.tv_sec = 0;
	anchor.epoch_ms = (jv_time)wall.tv_sec * 1000u +
			  (jv_time)wall.tv_nsec / 1000000u;
	/* 0 means "never" in several status fields. */
	if (anchor.epoch_ms == 0)
		anchor.epoch_ms = 1;
}

jv_time jv_clock_now(void)
{
	struct timespec steady;
	uint64_t ns;

	pthread_once(&anchor_once, anchor_init);
	clock_gettime(JV_CLOCK_STEADY, &steady);
	ns = ts_ns(&steady);
	if (ns < anchor.steady_ns)	/* cannot happen; never go back */
		ns = anchor.steady_ns;
	return anchor.epoch_ms + (ns - anchor.steady_ns) / 1000000u;
}

void jv_clock_to_steady(jv_time t, struct timespec *ts)
{
	uint64_t max_ms, ns;

	pthread_once(&anchor_once, anchor_init);
	/* Offsets above this would overflow the ns arithmetic (~584 years). */
	max_ms = (UINT64_MAX - anchor.steady_ns) / 1000000u;
	if (t < anchor.epoch_ms)
		t = anchor.epoch_ms;
	if (t - anchor.epoch_ms > max_ms)
		ns = UINT64_MAX;
	else
		ns = anchor.steady_ns + (t - anchor.epoch_ms) * 1000000u;
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}
