/* SPDX-License-Identifier: MIT */
/*
 * The replay of a stream's states: birth and identity (INV-01), versions
 * (INV-02; a version another gateway node committed too is INV-16, see
 * owners.c), transitions against the FSM table (INV-03), the entry into
 * RECOVERING (INV-12), termination (INV-04, INV-14) and the policy in
 * force (§5).  What a transition means for LIV-10 is flaps.c's.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jvpn/fsm.h"
#include "replay.h"

void au_on_created(struct jv_audit *a, struct au_live *l,
		       const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;

	if (ev->state_version != 0 || (HAS(ev, state) && ev->state != ST(BIRTH)))
		au_viol(a, JV_AC_INV01, line, &l->pub,
			"SessionCreated in %s at "
			"state_version %" PRIu64 "; a session is born in BIRTH "
			"at version 0", HAS(ev, state) ? sname(ev->state) : "?",
			ev->state_version);
	l->pub.born = true;
	l->pub.born_ms = ev->ts_ms;
	l->pub.born_line = au_at_line(line);
	l->pub.born_file = au_file_label(a, line);
	l->born_at = line;
	l->state = ST(BIRTH);
	l->state_known = true;
	l->state_since = ev->ts_ms;
	l->k = 0;
	l->version_known = true;
	l->binding_known = false;
	au_bind_clear(l, ev->ts_ms, line);	/* OP-21: transportless from birth */
	if (HAS(ev, policy) && ev->policy) {
		l->pol = *ev->policy;
		l->have_policy = true;
		if (strcmp(l->pol.version, p->origin.policy_version))
			au_viol(a, JV_AC_POLICY, line, &l->pub,
				"details.policy "
				"is version %s but the event names policy %s",
				l->pol.version, p->origin.policy_version);
	} else {
		au_viol(a, JV_AC_POLICY, line, &l->pub,
			"SessionCreated carries "
			"no details.policy: the bounds in force are not in the "
			"log, so INV-08/09/12/14 and LIV-01..04 cannot be "
			"checked");
	}
	au_entry_init(a, &e, JV_AE_BIRTH, p, line);
	e.to = ST(BIRTH);
	au_emit(a, l, &e);
}

static void inv12(struct jv_audit *a, struct au_live *l,
		  const struct jv_event *ev, au_at line)
{
	const char *cand = STR(ev, candidate_transport);
	const char *from = STR(ev, from_transport);
	unsigned n;

	if (!cand) {
		au_viol(a, JV_AC_INV12, line, &l->pub, "entry into RECOVERING "
			"without candidate_transport");
		return;
	}
	if (from && !strcmp(from, cand))
		return;		/* revalidation: no switch, no rate */
	if (!l->have_policy)
		return;
	if (l->pub.role == JV_ROLE_CLIENT) {
		/* The validator does not select (§6.4): the set size is the
		 * requester's. */
		if (!HAS(ev, candidate_set_size))
			au_viol(a, JV_AC_INV12, line, &l->pub, "switch attempt "
				"to %s without candidate_set_size", cand);
		else if (ev->candidate_set_size < l->pol.candidate_min_count)
			au_viol(a, JV_AC_INV12, line, &l->pub, "switch attempt "
				"to %s with candidate_set_size %" PRIu64 " < "
				"CANDIDATE_MIN_COUNT %u", cand,
				ev->candidate_set_size,
				l->pol.candidate_min_count);
	}
	/* PD-7: the rate part holds for discretionary entries and counts
	 * discretionary switches only */
	if (!au_capped(l, ev_forced(ev)))
		return;
	n = au_switches_within(l, ev->ts_ms);
	if (n >= l->pol.max_switches_per_min)
		au_viol(a, JV_AC_INV12, line, &l->pub, "%s switch attempt to "
			"%s with %u discretionary TransportSwitch in the "
			"preceding 60 000 ms (MAX_SWITCHES_PER_MIN %u%s)",
			ev_forced(ev) ? "forced" : "discretionary", cand, n,
			l->pol.max_switches_per_min,
			l->pol.max_switches_per_min ? "" :
			": switching disabled");
}

void au_on_state_change(struct jv_audit *a, struct au_live *l,
			    const struct jv_parsed_event *p,
			    au_at line)
{
	const struct jv_event *ev = &p->ev;
	enum jv_state prev = ev->previous_state, next = ev->new_state;
	enum jv_reason why = reason_of(ev);
	enum jv_state cur = l->state_known ? l->state : prev;
	bool gw = l->pub.role == JV_ROLE_GATEWAY, dup, fork = false;
	jv_time ts = ev->ts_ms, dur = 0;
	struct jv_audit_entry e;

	if (l->state_known && l->state == ST(TERMINATED)) {
		au_viol(a, JV_AC_INV04, line, &l->pub, "SessionStateChange "
			"%s->%s after TERMINATED", sname(prev), sname(next));
		return;
	}
	au_group_close(a, l, ev);

	/* INV-16, then INV-02 */
	dup = gw && au_own_commit(a, l, p, line);
	if (l->version_known) {
		uint64_t want = l->k + 1;

		if (l->k == UINT64_MAX || ev->state_version < want) {
			/* another node (or file) made this version: a fork,
			 * whose branch the replay follows from here */
			fork = dup;
			if (!fork)
				au_viol(a, JV_AC_INV02, line, &l->pub,
					"SessionStateChange %s->%s carries "
					"state_version %" PRIu64 ", expected %"
					PRIu64 ": the version goes back or "
					"repeats", sname(prev), sname(next),
					ev->state_version, want);
		} else if (ev->state_version > want) {
			au_viol(a, JV_AC_INV02, line, &l->pub, "state_version "
				"jumps from %" PRIu64 " to %" PRIu64 ": %" PRIu64
				" transition(s) missing from the log", l->k,
				ev->state_version, ev->state_version - want);
		}
		/* resynchronise so one fault is one finding */
		l->k = ev->state_version > want || l->k == UINT64_MAX ||
		       fork ? ev->state_version : want;
	} else {
		l->k = ev->state_version;
		l->version_known = true;
	}

	/* INV-03 (after a fork the branch starts from its own state) */
	if (fork)
		cur = prev;
	if (l->state_known && prev != l->state && !fork)
		au_viol(a, JV_AC_INV03, line, &l->pub, "previous_state %s but "
			"the stream is in %s", sname(prev), sname(l->state));
	if (!jv_fsm_transition_legal(prev, next, why))
		au_viol(a, JV_AC_INV03, line, &l->pub, "%s->%s (%s) is no "
			"transition of the table (spec §2.3)", sname(prev),
			sname(next), rname(why));

	/* the timeline: the state left and how long it lasted */
	if (l->state_known && ts >= l->state_since)
		dur = ts - l->state_since;
	au_entry_init(a, &e, JV_AE_STATE, p, line);
	e.from = cur;
	e.to = next;
	e.duration_ms = dur;
	e.forced = next == ST(RECOVERING) && ev_forced(ev);
	au_emit(a, l, &e);
	if (l->state_known && next != cur) {
		if (cur == ST(VOLATILE))
			a->r.volatile_ms += dur;
		else if (cur == ST(DEGRADED))
			a->r.degraded_ms += dur;
	}
	if (!l->state_known || next != cur)
		l->state_since = ts;

	/* episodes; a self-transition (T20) does not restart VOLATILE */
	if (next == ST(VOLATILE)) {
		if (cur != ST(VOLATILE) || !l->in_volatile) {
			l->in_volatile = true;
			l->volatile_since = ts;
			l->volatile_line = line;
			l->liv_rep[3] = false;
		}
	} else {
		l->in_volatile = false;
	}
	if (next == ST(RECOVERING)) {
		if (cur != ST(RECOVERING)) {
			l->in_recovering = true;
			l->recovering_since = ts;
			l->recovering_line = line;
			l->liv_rep[2] = false;
			inv12(a, l, ev, line);
		}
	} else {
		if (cur == ST(RECOVERING)) {
			if (l->pub.role == JV_ROLE_CLIENT)
				l->g_need_outcome = true;	/* LIV-05 */
			if (next == ST(ATTACHED))
				l->g_need_success = true;	/* INV-07 */
		}
		l->in_recovering = false;
	}
	if (prev == ST(BIRTH) && next == ST(ATTACHED))
		l->g_need_attached = true;			/* INV-07 */
	if (why == JV_REASON_TRANSPORT_DEAD && next != ST(TERMINATED)) {
		l->g_need_dead = true;				/* INV-05 */
		l->g_t11 = l->pub.role == JV_ROLE_GATEWAY &&
			   prev == ST(ATTACHED) && next == ST(VOLATILE);
	}

	/* recovery latency: out of ATTACHED until back (§8.4); a planned
	 * switch (T13: fail-back, migration) keeps its working binding until
	 * the commit, so it is no outage */
	if (l->state_known && cur == ST(ATTACHED) && next != ST(ATTACHED) &&
	    next != ST(TERMINATED) && next != ST(RECOVERING)) {
		l->outage = true;
		l->outage_since = ts;
	}
	if (next == ST(ATTACHED) && cur != ST(ATTACHED) && l->outage) {
		au_hist_add(&a->rec[l->pub.role], ts - l->outage_since);
		l->outage = false;
	}

	if (next == ST(TERMINATED)) {
		l->g_need_term = true;				/* INV-04 */
		l->g_term_bound = l->binding_known && l->binding.set;
		l->g_term_null_since = l->null_since;
		l->g_peer = origin_peer(ev);
		au_tid_set(&l->binding, NULL);	/* entering TERMINATED clears it */
		l->in_volatile = l->in_recovering = false;
		l->outage = false;
	}
	if (l->req_open)
		l->req_mutated = true;				/* INV-10 */
	au_flap_transition(a, l, ev, cur, line);		/* LIV-10 */

	l->g_open = true;
	l->g_line = line;
	l->g_prev = prev;
	l->g_next = next;
	l->g_reason = why;
	l->state = next;
	l->state_known = true;
}

void au_on_policy(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	const char *prevv = STR(ev, previous_policy_version);
	struct jv_audit_entry e;

	if (str_is(STR(ev, status), "APPLIED")) {
		if (prevv && strcmp(prevv, l->pub.policy_version))
			au_viol(a, JV_AC_POLICY, line, &l->pub, "PolicyUpdate "
				"from %s but the policy in force is %s", prevv,
				l->pub.policy_version);
		if (HAS(ev, policy) && ev->policy) {
			l->pol = *ev->policy;
			l->have_policy = true;
			if (strcmp(l->pol.version, p->origin.policy_version))
				au_viol(a, JV_AC_POLICY, line, &l->pub,
					"details.policy is version %s but the "
					"event names policy %s", l->pol.version,
					p->origin.policy_version);
		} else {
			l->have_policy = false;
			au_viol(a, JV_AC_POLICY, line, &l->pub, "PolicyUpdate"
				"(APPLIED) to %s without details.policy: the new "
				"bounds are not in the log",
				p->origin.policy_version);
		}
		snprintf(l->pub.policy_version, sizeof l->pub.policy_version,
			 "%s", p->origin.policy_version);
		l->pol_updated = true;
		l->pol_since = ev->ts_ms;
	}
	au_entry_init(a, &e, JV_AE_POLICY, p, line);
	e.detail = STR(ev, status);
	au_emit(a, l, &e);
}

/* X4..X7 and T48 from the peer are decided elsewhere (INV-14 exemption). */
static void inv14(struct jv_audit *a, struct au_live *l,
		  const struct jv_event *ev, au_at line)
{
	enum jv_reason why = reason_of(ev);
	jv_time ts = ev->ts_ms;

	if (l->pub.born && HAS(ev, session_age_ms) && ts >= l->pub.born_ms &&
	    ev->session_age_ms != ts - l->pub.born_ms)
		au_viol(a, JV_AC_INV14, line, &l->pub, "session_age_ms %"
			PRIu64 " but the log shows %" PRIu64 " since "
			"SessionCreated", ev->session_age_ms,
			ts - l->pub.born_ms);
	if (l->binding_known && HAS(ev, transportless_age_ms)) {
		jv_time want = l->g_term_bound || ts < l->g_term_null_since ? 0 :
			       ts - l->g_term_null_since;
		if (ev->transportless_age_ms != want)
			au_viol(a, JV_AC_INV14, line, &l->pub,
				"transportless_age_ms %" PRIu64 " but the log "
				"shows %" PRIu64, ev->transportless_age_ms, want);
	}
	if (l->g_peer || origin_peer(ev) || l->g_fatal_deny)
		return;		/* checked on the peer's stream */
	if (!l->have_policy)
		return;
	if (why == JV_REASON_SESSION_LIFETIME_EXCEEDED && l->pub.born &&
	    !(ts > l->pub.born_ms &&
	      ts - l->pub.born_ms > l->pol.max_lifetime_ms))
		au_viol(a, JV_AC_INV14, line, &l->pub, "session_lifetime_"
			"exceeded at age %" PRIu64 " ms, not above "
			"SESSION_MAX_LIFETIME_MS %" PRIu64,
			ts >= l->pub.born_ms ? ts - l->pub.born_ms : 0,
			l->pol.max_lifetime_ms);
	if (why == JV_REASON_TRANSPORT_TTL_EXCEEDED && l->binding_known) {
		if (l->g_term_bound)
			au_viol(a, JV_AC_INV14, line, &l->pub, "transport_ttl_"
				"exceeded while a transport was bound");
		else if (!(ts > l->g_term_null_since &&
			   ts - l->g_term_null_since > l->pol.transport_lost_ttl_ms))
			au_viol(a, JV_AC_INV14, line, &l->pub, "transport_ttl_"
				"exceeded after %" PRIu64 " ms without a binding "
				"(since %" PRIu64 "), not above "
				"TRANSPORT_LOST_TTL_MS %" PRIu64,
				ts >= l->g_term_null_since ?
				ts - l->g_term_null_since : 0,
				l->g_term_null_since,
				l->pol.transport_lost_ttl_ms);
	}
}

/* Returns true if the stream ended here. */
bool au_on_terminated(struct jv_audit *a, struct au_live *l,
			  const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	enum jv_reason why = reason_of(ev);
	struct jv_audit_entry e;
	char w[AU_WHERE_MAX];

	au_entry_init(a, &e, JV_AE_TERMINATED, p, line);
	if (l->pub.born && ev->ts_ms >= l->pub.born_ms)
		e.duration_ms = ev->ts_ms - l->pub.born_ms;
	if (!l->state_known || l->state != ST(TERMINATED)) {
		au_viol(a, JV_AC_INV04, line, &l->pub, "SessionTerminated "
			"without a transition into TERMINATED");
		au_emit(a, l, &e);
		return false;
	}
	if (!(l->g_open && l->g_need_term)) {
		au_viol(a, JV_AC_INV04, line, &l->pub, "SessionTerminated "
			"outside the commit of its transition into TERMINATED");
	} else {
		l->g_term_events++;
		au_outcome(l, JV_EV_SESSION_TERMINATED);
		if (why != l->g_reason)
			au_viol(a, JV_AC_INV04, line, &l->pub,
				"SessionTerminated says %s but its transition "
				"(%s) says %s", rname(why),
				au_where(a, l->g_line, line, w, sizeof w),
				rname(l->g_reason));
		inv14(a, l, ev, line);
	}
	a->r.terminated++;
	if (why != JV_REASON_NONE)
		a->r.terminations[why]++;
	au_emit(a, l, &e);
	au_commit_close(a, l);
	return true;
}

void au_on_audit_check(struct jv_audit *a, struct au_live *l,
			   const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;

	/* The runtime's own self-check says an invariant broke. */
	if (!str_is(STR(ev, result), "FAIL"))
		return;
	au_viol(a, str_is(STR(ev, check), "NO_IDENTITY_RESET") ? JV_AC_INV01 :
		   JV_AC_INV05, line, &l->pub, "the runtime's AuditCheck %s "
		"reported FAIL", str_or_null(STR(ev, check)));
}
