/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_FINDINGS_H
#define JVPN_SIM_FINDINGS_H

/*
 * Open engine findings a chaos campaign lists instead of failing.  The
 * engine is not the simulator's to fix: each finding is reported to the
 * lead and has a scenario in tests/sim/findings/ asserting what the spec
 * requires (an expected failure until it is fixed).  A run whose every
 * violation is explained by open findings is KNOWN; any other violation,
 * or more violations than the checker kept, fails it.  When a finding is
 * fixed, take it out of explain() (findings.c) too, or the campaigns go
 * on excusing what it used to explain.
 *
 *   F1  a gateway commit that never reached the store is lost when the
 *       node crashes, its lease ends or its tombstone is evicted; the
 *       next adoption commits the same versions again: INV-16 (and
 *       INV-04 when the lost commit was the termination).
 *   F3  a node that lets its sessions go at its lease's end drops those in
 *       BIRTH without an event: LIV-02 "(still in BIRTH)".
 *   F4  the switch-rate window is not in the session record: INV-08 /
 *       INV-12 on the gateway stream after an adoption.
 *   F6  events held until the store answers die with a node that crashes
 *       after the store applied the write: INV-02 "resumes the session".
 *   (F7-F12, found by the checks of PD-7, are fixed; their scenarios in
 *   tests/sim/findings/ guard them.)
 */

#include <stdbool.h>

#include "sim/world.h"

enum sim_finding {
	SIM_F1, SIM_F3, SIM_F4, SIM_F6,
	SIM_FINDINGS
};

/* "F1", "F3", "F4", "F6". */
const char *sim_finding_name(enum sim_finding f);

/*
 * Are all of res's violations explained by open findings?  Sets
 * which[f] for each finding that explains one.  Returns false if some
 * violation is not (or was not kept), or if there is none.
 */
bool sim_findings_explain(const struct sim_result *res,
			  const struct jv_policy *client,
			  bool which[SIM_FINDINGS]);

#endif
