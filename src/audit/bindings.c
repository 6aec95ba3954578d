/* SPDX-License-Identifier: MIT */
/*
 * The replay of a stream's binding and reattaches (top of spec §3):
 * TransportAttached / TransportSwitch / TransportDead against the binding
 * (INV-05, INV-07, INV-08 as amended by PD-7), requester attempts
 * (INV-09), gateway requests and their results (INV-10, INV-11), outcomes
 * of RECOVERING (LIV-05) and rejected nonces (LIV-09).  What they mean for
 * LIV-10 is flaps.c's.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"

void au_on_attached(struct jv_audit *a, struct au_live *l,
			const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	const char *tid = STR(ev, transport_id);
	struct jv_audit_entry e;

	if (l->state_known && l->state == ST(TERMINATED))
		au_viol(a, JV_AC_INV04, line, &l->pub,
			"TransportAttached after "
			"TERMINATED");
	if (!(l->g_open && l->g_prev == ST(BIRTH) && l->g_next == ST(ATTACHED)))
		au_viol(a, JV_AC_INV07, line, &l->pub, "TransportAttached %s "
			"outside a BIRTH->ATTACHED commit", str_or_null(tid));
	else
		l->g_attached = true;
	if (l->binding_known && l->binding.set)
		au_viol(a, JV_AC_INV05, line, &l->pub, "TransportAttached %s "
			"while bound to %s: two active transports",
			str_or_null(tid), au_tid_show(&l->binding));
	au_bind_set(l, tid);
	if (l->req_open)
		l->req_mutated = true;
	au_entry_init(a, &e, JV_AE_ATTACH, p, line);
	e.to_transport = tid;
	au_emit(a, l, &e);
}

/*
 * INV-08 as amended by PD-7: discretionary switches only are counted and
 * capped; a forced one is bounded by the cooldown and detection alone,
 * unless the cap is 0 (switching disabled, forced switches included).
 */
static void inv08(struct jv_audit *a, struct au_live *l,
		  const struct jv_event *ev, au_at line)
{
	bool forced = ev_forced(ev);
	unsigned n;

	if (!forced) {
		l->sw[l->nsw % JV_SWITCH_HISTORY_MAX] = ev->ts_ms;
		l->nsw++;
	}
	if (!l->have_policy || !au_capped(l, forced))
		return;
	if (forced) {
		au_viol(a, JV_AC_INV08, line, &l->pub, "forced TransportSwitch "
			"while MAX_SWITCHES_PER_MIN is 0: switching is "
			"disabled");
		return;
	}
	n = au_switches_within(l, ev->ts_ms);
	if (n > l->pol.max_switches_per_min)
		au_viol(a, JV_AC_INV08, line, &l->pub, "%u discretionary "
			"TransportSwitch in the 60 000 ms ending here "
			"(MAX_SWITCHES_PER_MIN %u; forced ones are not "
			"counted)", n, l->pol.max_switches_per_min);
}

void au_on_switch(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	const char *from = STR(ev, previous_transport);
	const char *to = STR(ev, new_transport);
	struct jv_audit_entry e;

	if (l->state_known && l->state == ST(TERMINATED))
		au_viol(a, JV_AC_INV04, line, &l->pub, "TransportSwitch after "
			"TERMINATED");
	if (!(l->g_open && l->g_prev == ST(RECOVERING) &&
	      l->g_next == ST(ATTACHED)))
		au_viol(a, JV_AC_INV07, line, &l->pub,
			"TransportSwitch %s -> %s "
			"outside a RECOVERING->ATTACHED commit: a switch needs "
			"a validated reattach", str_or_null(from),
			str_or_null(to));
	else if (l->g_success)
		au_viol(a, JV_AC_ORDER, line, &l->pub, "TransportSwitch after "
			"the ReattachResult(SUCCESS) of its commit: the binding "
			"event comes first (§3)");
	if (l->binding_known && !au_tid_eq(&l->binding, from))
		au_viol(a, JV_AC_INV05, line, &l->pub,
			"TransportSwitch from %s "
			"but the binding is %s: the replaced transport is not "
			"the active one", str_or_null(from),
			au_tid_show(&l->binding));
	if (!to)
		au_viol(a, JV_AC_INV05, line, &l->pub, "TransportSwitch to "
			"null: a switch names its new transport");

	inv08(a, l, ev, line);
	au_flap_switch(a, l, ev, line);				/* LIV-10 */
	a->r.switches++;
	a->r.switches_forced += ev_forced(ev);
	au_entry_init(a, &e, JV_AE_SWITCH, p, line);
	e.from_transport = from;
	e.to_transport = to;
	e.forced = ev_forced(ev);
	au_emit(a, l, &e);
	if (to)
		au_bind_set(l, to);
	else
		au_bind_clear(l, ev->ts_ms, line);
	if (l->req_open)
		l->req_mutated = true;
}

void au_on_dead(struct jv_audit *a, struct au_live *l,
		    const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	const char *tid = STR(ev, transport_id);
	struct jv_audit_entry e;

	if (!(l->g_open && l->g_reason == JV_REASON_TRANSPORT_DEAD &&
	      l->g_next != ST(TERMINATED)))
		au_viol(a, JV_AC_INV05, line, &l->pub,
			"TransportDead %s outside "
			"a transport_dead transition: only that clears the "
			"binding", str_or_null(tid));
	else
		l->g_dead = true;
	if (l->binding_known && (!l->binding.set || !au_tid_eq(&l->binding, tid)))
		au_viol(a, JV_AC_INV05, line, &l->pub,
			"TransportDead %s but the "
			"binding is %s", str_or_null(tid),
			au_tid_show(&l->binding));
	au_flap_dead(l, ev);
	au_entry_init(a, &e, JV_AE_DEAD, p, line);
	e.from_transport = tid;
	e.detail = STR(ev, detection);
	au_emit(a, l, &e);
	au_bind_clear(l, ev->ts_ms, line);
	if (l->req_open)
		l->req_mutated = true;
}

static void remember_rejected(struct au_live *l, uint64_t nonce)
{
	l->replayed[l->nreplayed % AU_REPLAYED_KEEP] = nonce;
	l->nreplayed++;
}

static bool was_rejected(const struct au_live *l, uint64_t nonce)
{
	unsigned have = l->nreplayed < AU_REPLAYED_KEEP ? l->nreplayed :
			AU_REPLAYED_KEEP;

	for (unsigned i = 0; i < have; i++)
		if (l->replayed[i] == nonce)
			return true;
	return false;
}

void au_on_attempt(struct jv_audit *a, struct au_live *l,
		       const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;

	if (l->pub.role == JV_ROLE_GATEWAY) {
		/* §7.4: a request that passed V1 opens with ReattachAttempt
		 * and ends with exactly one ReattachResult. */
		l->req_open = true;
		l->req_mutated = l->req_security = false;
		l->req_version = ev->state_version;
		l->req_line = line;
		return;
	}
	if (l->have_policy && l->have_attempt && ev->ts_ms >= l->last_attempt &&
	    ev->ts_ms - l->last_attempt < l->pol.switch_cooldown_ms)
		au_viol(a, JV_AC_INV09, line, &l->pub, "ReattachAttempt %"
			PRIu64 " ms after the previous one "
			"(SWITCH_COOLDOWN_MS %" PRIu64 ")",
			ev->ts_ms - l->last_attempt, l->pol.switch_cooldown_ms);
	l->have_attempt = true;
	l->last_attempt = ev->ts_ms;
	au_flap_attempt(l);
}

static bool fatal_deny(enum jv_reason r)
{
	return r == JV_REASON_SESSION_LIFETIME_EXCEEDED ||
	       r == JV_REASON_TRANSPORT_TTL_EXCEEDED;
}

void au_on_result(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	bool gw = l->pub.role == JV_ROLE_GATEWAY;
	struct jv_audit_entry e;
	char w[AU_WHERE_MAX];

	/*
	 * §3 order, requester: the result of the attempt that ends
	 * RECOVERING precedes the other events of its commit (T40-T42,
	 * T48).  (On the gateway a later request of the same millisecond
	 * may bring its own security events before its result.)
	 */
	if (!gw && l->g_open && l->g_prev == ST(RECOVERING) && l->g_other)
		au_viol(a, JV_AC_ORDER, line, &l->pub, "ReattachResult after "
			"other events of the commit leaving RECOVERING: the "
			"result comes first (§3)");

	if (str_is(STR(ev, status), "SUCCESS")) {
		if (l->state_known && l->state == ST(TERMINATED))
			au_viol(a, JV_AC_INV04, line, &l->pub, "ReattachResult"
				"(SUCCESS) after TERMINATED");
		if (l->g_open && l->g_need_success)
			l->g_success = true;
		au_outcome(l, JV_EV_REATTACH_RESULT);
		if (HAS(ev, nonce)) {
			if (was_rejected(l, ev->nonce))
				au_viol(a, JV_AC_LIV09, line, &l->pub,
					"ReattachResult(SUCCESS) for nonce %"
					PRIu64 ", which was rejected as a "
					"replay or stale before", ev->nonce);
			if (gw && l->have_nonce && ev->nonce <= l->last_nonce)
				au_viol(a, JV_AC_INV11, line, &l->pub,
					"SUCCESS "
					"nonce %" PRIu64 " not above the previous "
					"SUCCESS nonce %" PRIu64, ev->nonce,
					l->last_nonce);
			if (!l->have_nonce || ev->nonce > l->last_nonce)
				l->last_nonce = ev->nonce;
			l->have_nonce = true;
		}
		if (gw && l->req_open) {
			if (l->req_security)
				au_viol(a, JV_AC_INV10, line, &l->pub, "the "
					"request of %s committed although a "
					"freshness or proof check rejected it",
					au_where(a, l->req_line, line, w,
						 sizeof w));
			l->req_open = false;
		}
		return;
	}

	/* DENIED */
	a->r.denials++;
	if (l->g_open && l->g_need_term && fatal_deny(reason_of(ev)))
		l->g_fatal_deny = true;		/* T48: decided by the peer */
	if (HAS(ev, nonce) && (reason_of(ev) == JV_REASON_REPLAY_DETECTED ||
			       reason_of(ev) == JV_REASON_STALE_REQUEST))
		remember_rejected(l, ev->nonce);
	if (gw && l->req_open) {
		if (l->req_mutated || ev->state_version != l->req_version)
			au_viol(a, JV_AC_INV10, line, &l->pub, "ReattachResult"
				"(DENIED) but its request (%s) changed the "
				"session (version %" PRIu64 " -> %" PRIu64 ", "
				"%s): a denial never mutates",
				au_where(a, l->req_line, line, w, sizeof w),
				l->req_version, ev->state_version,
				l->req_mutated ? "transition or binding event"
					       : "no event");
		l->req_open = false;
	}
	au_entry_init(a, &e, JV_AE_DENIAL, p, line);
	e.to_transport = STR(ev, candidate_transport);
	e.detail = "reattach denied";
	au_emit(a, l, &e);
}

void au_on_denial(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;

	au_entry_init(a, &e, JV_AE_DENIAL, p, line);
	switch (ev->type) {
	case JV_EV_TRANSPORT_SWITCH_DENIED:
	case JV_EV_TRANSPORT_SWITCH_FAILED:
		a->r.denials++;
		au_outcome(l, ev->type);
		au_flap_denial(a, l, ev, line);			/* LIV-10 */
		e.to_transport = STR(ev, candidate_transport);
		e.detail = ev->type == JV_EV_TRANSPORT_SWITCH_DENIED ?
			   "switch denied" : "switch failed";
		break;
	case JV_EV_POLICY_LIMIT_TRIGGERED:
		e.detail = STR(ev, policy_name);
		break;
	default:
		e.detail = "rekey denied";
		break;
	}
	au_emit(a, l, &e);
}

void au_on_security(struct jv_audit *a, struct au_live *l,
			const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;

	a->r.security++;
	if (ev->type == JV_EV_SECURITY_REPLAY_DETECTED && HAS(ev, nonce))
		remember_rejected(l, ev->nonce);
	if (l->req_open && (ev->type == JV_EV_SECURITY_REPLAY_DETECTED ||
			    ev->type == JV_EV_SECURITY_VALIDATION_FAILED))
		l->req_security = true;
	au_entry_init(a, &e, JV_AE_SECURITY, p, line);
	e.to_transport = STR(ev, transport_id);
	e.detail = STR(ev, violation_type) ? STR(ev, violation_type) :
		   STR(ev, freshness_marker_type) ? STR(ev, freshness_marker_type) :
		   STR(ev, conflicting_node_id);
	au_emit(a, l, &e);
}
