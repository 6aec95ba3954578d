/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_CHAOS_H
#define JVPN_SIM_CHAOS_H

/*
 * Random fault schedules.  A chaos run is an ordinary scenario whose text
 * is generated from its seed, so a failing seed can be printed as a
 * scenario file, read, edited and re-run like any other.  The generated
 * scenario has no [Expect]: it passes when no invariant of spec §3 breaks
 * (the online checker, sim/check.h) and the run loop stays sane.
 *
 * With opts->flap it is a flapping schedule instead (PD-7, LIV-10): two
 * or three clean transports (delay and jitter only) that die in turn,
 * hard or silently, for 0.5 to 6 s each, never all at once, under random
 * damping and fail-back policy values; the online checker then holds the
 * client to LIV-10 at every binding death.
 *
 * With opts->store the scenario also gets an ownership store and gateway
 * node faults (PD-9): one or two nodes, store latency, maybe leases,
 * store outages, node crashes and restarts, partitions of a node from
 * the store, rarely an injected conflicting write.  These come from a
 * random stream of their own, so the rest of the scenario is the text
 * the same seed gives without them.
 */

#include <stdbool.h>
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

enum sim_chaos_fault {
	SIM_CF_OUTAGE = 1,	/* store down ... store up */
	SIM_CF_CRASH = 2,	/* crash NODE, mostly restarted later */
	SIM_CF_PARTITION = 4,	/* partition NODE store ... heal */
	SIM_CF_CONFLICT = 8,	/* store conflict */
	SIM_CF_ALL = 15,
};

struct sim_chaos_opts {
	bool flap;		/* a flapping schedule (PD-7), not the mix */
	bool store;		/* [Store], gateway nodes and their faults */
	unsigned faults;	/* enum sim_chaos_fault; 0: all */
	unsigned nodes;		/* 1 or 2; 0: either, by seed */
};

/* The same with options (NULL: none, as sim_chaos_scenario). */
JV_MUST_CHECK int sim_chaos_scenario_opts(uint64_t seed, jv_time duration_ms,
					  const struct sim_chaos_opts *o,
					  char *buf, size_t n);

#endif
