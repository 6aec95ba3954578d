/* SPDX-License-Identifier: MIT */
/*
 * PD-7 in the log: flap damping (TransportDamped / TransportReused, on the
 * timeline) and LIV-10, flap survival, as far as a client's log proves it.
 *
 * LIV-10 speaks of transports that are alive, which no event says, so the
 * audit checks what the log shows of it on the requester's stream:
 *
 *  (a) The binding is lost (a forced situation): it is null, or the
 *      stream left ATTACHED for transport_dead, heartbeat_timeout or
 *      consecutive_drop_exceeded (or its binding was declared dead since),
 *      and the stream is not ATTACHED again yet.  Then nothing may be
 *      refused for the rate cap: no DEGRADED[switch_rate_limited], no
 *      TransportSwitchDenied(switch_rate_limited), since forced switches
 *      pass the cooldown gate only.  One finding per episode.
 *
 *  (b) A switch whose trigger_class is forced commits by the binding's
 *      death + HEARTBEAT_VOLATILE_MS + SWITCH_COOLDOWN_MS + its own
 *      switch_latency_ms (the round trip, attempt start -> commit) + 1 + ε
 *      -- when the episode's first ReattachAttempt (the one in flight
 *      when the binding died during RECOVERING, T47, or the one of a
 *      RECOVERING entry classed forced) is the one that succeeded and no denial for want of candidates came in between.
 *      Otherwise a first candidate was dead or none was eligible, and the
 *      log cannot say whether a live one existed.  The death is the last
 *      sign of life: the transition's ts_ms minus its heartbeat_age_ms (a
 *      silence; the heartbeat timeout is measured from there), or the
 *      TransportDead of a hard failure (reported when it happens, LIV-06).
 *
 * A cap of 0 disables switching, forced switches included (the policy
 * pins the session to its binding): LIV-10 does not apply then.  The
 * simulator checks the whole of LIV-10 against the ground truth of its
 * links.
 */

#include <inttypes.h>
#include <stdio.h>

#include "replay.h"

/* The inputs of T10 that show the binding lost (PD-6, PD-7). */
static bool lost_reason(enum jv_reason r)
{
	return r == JV_REASON_TRANSPORT_DEAD ||
	       r == JV_REASON_HEARTBEAT_TIMEOUT ||
	       r == JV_REASON_CONSECUTIVE_DROP_EXCEEDED;
}

/* LIV-10 speaks: a client stream under a policy that allows switching. */
static bool applies(const struct au_live *l)
{
	return l->pub.role == JV_ROLE_CLIENT && l->have_policy &&
	       l->pol.max_switches_per_min > 0;
}

/* in_flight: the binding died during an attempt (T47), which is then the
 * episode's first. */
static void lost_begin(struct au_live *l, const struct jv_event *ev,
		       enum jv_reason why, bool in_flight, au_at line)
{
	jv_time ts = ev->ts_ms;

	l->lost = true;
	l->lost_closing = false;
	l->lost_ms = HAS(ev, heartbeat_age_ms) && ev->heartbeat_age_ms <= ts ?
		     ts - ev->heartbeat_age_ms : ts;
	l->lost_at = line;
	l->lost_reason = why;
	l->lost_attempts = in_flight;
	l->lost_blind = false;
	l->lost_rep = false;
}

/* The binding is null, or an episode of its loss is open. */
static bool forced_situation(const struct au_live *l)
{
	return (l->lost && !l->lost_closing) ||
	       (l->binding_known && !l->binding.set);
}

static void rate_refused(struct jv_audit *a, struct au_live *l,
			 const char *what, au_at line)
{
	char w[AU_WHERE_MAX];

	if (!applies(l) || !forced_situation(l) || l->lost_rep)
		return;
	l->lost_rep = true;
	if (l->lost && !l->lost_closing)
		au_viol(a, JV_AC_LIV10, line, &l->pub, "%s while the binding "
			"is lost (%s at %s): a forced switch is never refused "
			"for MAX_SWITCHES_PER_MIN (PD-7)", what,
			rname(l->lost_reason),
			au_where(a, l->lost_at, line, w, sizeof w));
	else
		au_viol(a, JV_AC_LIV10, line, &l->pub, "%s while the binding "
			"is null: a forced switch is never refused for "
			"MAX_SWITCHES_PER_MIN (PD-7)", what);
}

void au_flap_transition(struct jv_audit *a, struct au_live *l,
			const struct jv_event *ev, enum jv_state cur,
			au_at line)
{
	enum jv_state next = ev->new_state;
	enum jv_reason why = reason_of(ev);

	if (l->pub.role != JV_ROLE_CLIENT)
		return;
	if (next == ST(TERMINATED)) {
		l->lost = false;
		return;
	}
	if (next == ST(ATTACHED)) {
		/* the switch of this commit is judged before it ends */
		if (l->lost)
			l->lost_closing = true;
		return;
	}
	/* T10 for a lost binding; T20/T30/T47: the binding dies later in
	 * the episode (an earlier loss is kept: it was the first sign) */
	if ((cur == ST(ATTACHED) && lost_reason(why)) ||
	    (why == JV_REASON_TRANSPORT_DEAD && !l->lost))
		lost_begin(l, ev, why, cur == ST(RECOVERING), line);
	/* The requester found its binding lost (silent, in a drop run)
	 * though the episode began with a quality reason: the attempt of
	 * this RECOVERING entry is the episode's first. */
	else if (next == ST(RECOVERING) && !l->lost && ev_forced(ev))
		lost_begin(l, ev, why, false, line);
	if (next == ST(DEGRADED) && why == JV_REASON_SWITCH_RATE_LIMITED)
		rate_refused(a, l, "DEGRADED for switch_rate_limited", line);
}

/* A hard failure is reported when it happens: the loss is then, not at
 * the last heartbeat answer. */
void au_flap_dead(struct au_live *l, const struct jv_event *ev)
{
	if (l->lost && !l->lost_closing && l->g_open &&
	    l->lost_at == l->g_line && str_is(STR(ev, detection),
					      "hard_failure"))
		l->lost_ms = ev->ts_ms;
}

void au_flap_attempt(struct au_live *l)
{
	if (l->lost && !l->lost_closing && l->lost_attempts < UINT32_MAX)
		l->lost_attempts++;
}

void au_flap_denial(struct jv_audit *a, struct au_live *l,
		    const struct jv_event *ev, au_at line)
{
	enum jv_reason why = reason_of(ev);

	if (ev->type != JV_EV_TRANSPORT_SWITCH_DENIED ||
	    l->pub.role != JV_ROLE_CLIENT)
		return;
	if (why == JV_REASON_SWITCH_RATE_LIMITED &&
	    !(l->g_open && l->g_next == ST(DEGRADED) &&
	      l->g_reason == JV_REASON_SWITCH_RATE_LIMITED))
		rate_refused(a, l, "TransportSwitchDenied(switch_rate_limited)",
			     line);
	if (l->lost && (why == JV_REASON_NO_CANDIDATE_TRANSPORTS ||
			why == JV_REASON_POLICY_DENIED))
		l->lost_blind = true;
}

void au_flap_switch(struct jv_audit *a, struct au_live *l,
		    const struct jv_event *ev, au_at line)
{
	const struct jv_policy *p = &l->pol;
	jv_time ts = ev->ts_ms, limit, due;
	char w[AU_WHERE_MAX];

	if (!applies(l) || !ev_forced(ev) || !l->lost || l->lost_blind ||
	    l->lost_attempts > 1 || !HAS(ev, switch_latency_ms))
		return;
	limit = sat_add(sat_add(p->heartbeat_volatile_ms,
				p->switch_cooldown_ms), ev->switch_latency_ms);
	due = sat_add(sat_add(l->lost_ms, limit), 1 + a->opts.epsilon_ms);
	if (ts <= due)
		return;
	au_viol(a, JV_AC_LIV10, line, &l->pub, "forced switch to %s commits %"
		PRIu64 " ms after the binding was lost at %" PRIu64 " (%s at "
		"%s), by the episode's first attempt: due by + "
		"HEARTBEAT_VOLATILE_MS %" PRIu64 " + SWITCH_COOLDOWN_MS %"
		PRIu64 " + switch_latency_ms %" PRIu64 " + 1 + ε = %" PRIu64,
		str_or_null(STR(ev, new_transport)), ts - l->lost_ms,
		l->lost_ms, rname(l->lost_reason),
		au_where(a, l->lost_at, line, w, sizeof w),
		p->heartbeat_volatile_ms, p->switch_cooldown_ms,
		ev->switch_latency_ms, due);
}

void au_flap_group_close(struct au_live *l)
{
	if (l->lost_closing)
		l->lost = l->lost_closing = false;
}

/* ---- damping ------------------------------------------------------------ */

void au_on_damping(struct jv_audit *a, struct au_live *l,
		   const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;
	bool damped = ev->type == JV_EV_TRANSPORT_DAMPED;

	if (damped)
		a->r.damped++;
	au_entry_init(a, &e, damped ? JV_AE_DAMPED : JV_AE_REUSED, p, line);
	e.to_transport = STR(ev, transport_id);
	e.flap_penalty = HAS(ev, flap_penalty) ? ev->flap_penalty : 0;
	au_emit(a, l, &e);
}
