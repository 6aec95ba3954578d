/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAMPING_H
#define JVPN_DAMPING_H

/*
 * Per-transport flap damping (spec PD-7), in the manner of BGP route-flap
 * damping (RFC 2439).  A transport's penalty grows by FLAP_PENALTY each
 * time it dies as the binding or fails an attempt and decays with
 * half-life FLAP_HALF_LIFE_MS.  Above FLAP_SUPPRESS the transport is
 * damped (no candidate while another live one exists); it is released
 * once the penalty decays below FLAP_REUSE.  The gap between the two
 * levels is the hysteresis that keeps a flapping path from being damped
 * and released at every flap.
 *
 * The penalty is stored with the time it was last charged and decayed on
 * demand from there, so the value at `now` does not depend on how often
 * anyone asked.  Fixed size, no allocation, time passed in.
 */

#include <stdbool.h>

#include "limits.h"
#include "policy.h"

struct jv_flap {
	double penalty;		/* at at_ms */
	jv_time at_ms;
	bool damped;
};

/* The penalty at `now` (decayed from the last charge). */
double jv_flap_penalty(const struct jv_flap *f, const struct jv_policy *p,
		       jv_time now);
/* One flap at `now`.  Returns true if the transport became damped by it
 * (the caller emits TransportDamped).  No effect with FLAP_PENALTY 0. */
bool jv_flap_charge(struct jv_flap *f, const struct jv_policy *p,
		    jv_time now);
/* Returns true if a damped transport is released at `now` (its penalty is
 * below FLAP_REUSE; the caller emits TransportReused). */
bool jv_flap_release(struct jv_flap *f, const struct jv_policy *p,
		     jv_time now);
/* Earliest time > now at which jv_flap_release will succeed, JV_TIME_NEVER
 * if the transport is not damped. */
jv_time jv_flap_reuse_at(const struct jv_flap *f, const struct jv_policy *p,
			 jv_time now);

#endif
