/* SPDX-License-Identifier: MIT */
/*
 * Flap damping of one transport (include/jvpn/damping.h, spec PD-7).
 */

#include <math.h>

#include "jvpn/damping.h"

double jv_flap_penalty(const struct jv_flap *f, const struct jv_policy *p,
		       jv_time now)
{
	if (f->penalty <= 0.0)
		return 0.0;
	if (now <= f->at_ms)
		return f->penalty;
	return f->penalty *
	       exp2(-(double)(now - f->at_ms) / (double)p->flap_half_life_ms);
}

bool jv_flap_charge(struct jv_flap *f, const struct jv_policy *p,
		    jv_time now)
{
	if (!p->flap_penalty)
		return false;
	f->penalty = jv_flap_penalty(f, p, now) + p->flap_penalty;
	if (now > f->at_ms)
		f->at_ms = now;
	if (f->damped || f->penalty <= p->flap_suppress)
		return false;
	f->damped = true;
	return true;
}

bool jv_flap_release(struct jv_flap *f, const struct jv_policy *p,
		     jv_time now)
{
	if (!f->damped || jv_flap_penalty(f, p, now) >= p->flap_reuse)
		return false;
	f->damped = false;
	return true;
}

jv_time jv_flap_reuse_at(const struct jv_flap *f, const struct jv_policy *p,
			 jv_time now)
{
	if (!f->damped)
		return JV_TIME_NEVER;
	if (f->penalty < p->flap_reuse)
		return now + 1;
	/* penalty * 2^(-dt / hl) < reuse  <=>  dt > hl * log2(penalty / reuse);
	 * one ms past the real solution absorbs the rounding of exp2. */
	double dt = (double)p->flap_half_life_ms *
		    log2(f->penalty / (double)p->flap_reuse);
	jv_time t = f->at_ms + (jv_time)ceil(dt) + 1;

	return t > now ? t : now + 1;
}
