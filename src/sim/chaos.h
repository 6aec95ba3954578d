/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_CHAOS_H
#define JVPN_SIM_CHAOS_H

/*
 * Random fault schedules.  A chaos run is an ordinary scenario whose text
 * is generated from its seed, so a failing seed can be printed as a
 * scenario file, read, edited and re-run like any other.  The generated
 * scenario has no [Expect]: it passes when no invariant of spec §3 breaks
 * (the online checker, sim/check.h) and the run loop stays sane.
 */

#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"

enum { SIM_CHAOS_TEXT_MAX = 64 * 1024 };

/*
 * Scenario text for `seed`, simulated for duration_ms (0: 120 000), into
 * buf.  Returns its length, or JV_ERR_NOSPACE.
 */
JV_MUST_CHECK int sim_chaos_scenario(uint64_t seed, jv_time duration_ms,
				     char *buf, size_t n);

#endif
