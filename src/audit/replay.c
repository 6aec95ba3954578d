/* SPDX-License-Identifier: MIT */
/*
 * The stream replay of spec §3: states, versions and the binding of one
 * FSM instance, rebuilt event by event and held against §3.1 (safety) and
 * §3.2 (bounded time).
 *
 * Commits.  Spec §3 calls the events of one input a commit and groups them
 * by equal ts_ms.  Several inputs may share a millisecond, so two levels
 * are used here: the commit (equal ts_ms), at whose end INV-06 holds, and
 * inside it the group of events that follow one SessionStateChange (they
 * carry its version): what a transition obliges its commit to contain
 * (TransportAttached for T01, ReattachResult(SUCCESS) for T40,
 * TransportDead for T10/T20/T30/T47, SessionTerminated for every row into
 * TERMINATED, one outcome for a requester leaving RECOVERING) is checked
 * when that group closes: at the next SessionStateChange or at the end of
 * the commit.
 *
 * Emit order (§3: SessionStateChange(s), binding event, ReattachResult,
 * others, SessionTerminated last) is checked on what belongs to one
 * transition: a binding event must follow its own transition (same
 * group), TransportSwitch must precede the ReattachResult(SUCCESS) of its
 * commit, nothing may follow SessionTerminated.  Events of other inputs in
 * the same millisecond (a gateway ReattachAttempt precedes the chain it
 * leads to; a second request may be denied right after a commit) are
 * legitimately elsewhere, so no global rank is imposed on "others".
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"
#include "jvpn/fsm.h"

#define ST(x) JV_STATE_##x

static jv_time sat_add(jv_time a, jv_time b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static const char *sname(enum jv_state s)
{
	const char *n = jv_state_name(s);
	return n ? n : "?";
}

static const char *rname(enum jv_reason r)
{
	const char *n = jv_reason_name(r);
	return n ? n : "none";
}

static const char *tname(enum jv_event_type t)
{
	const char *n = jv_event_type_name(t);
	return n ? n : "?";
}

static const char *str_or_null(const char *s)
{
	return s ? s : "null";
}

static bool str_is(const char *s, const char *lit)
{
	return s && !strcmp(s, lit);
}

static const char *opt_str(const struct jv_event *ev, enum jv_event_field f,
			   const char *v)
{
	return (ev->set >> f) & 1 ? v : NULL;
}

#define STR(ev, m) opt_str((ev), JV_F_##m, (ev)->m)
#define HAS(ev, m) JV_EV_HAS(ev, m)

static enum jv_reason reason_of(const struct jv_event *ev)
{
	return HAS(ev, reason_code) ? ev->reason_code : JV_REASON_NONE;
}

static bool origin_peer(const struct jv_event *ev)
{
	return str_is(STR(ev, origin), "peer");
}

/* ---- the timeline ----------------------------------------------------- */

static void entry_init(struct jv_audit_entry *e, enum jv_audit_entry_kind k,
		       const struct jv_parsed_event *p, unsigned long line)
{
	memset(e, 0, sizeof *e);
	e->kind = k;
	e->from = e->to = JV_STATE_COUNT;
	e->reason = JV_REASON_NONE;
	if (!p)
		return;
	e->line = line;
	e->ts_ms = p->ev.ts_ms;
	e->state_version = p->ev.state_version;
	e->type = p->ev.type;
	e->node_id = p->origin.node_id;
	e->reason = reason_of(&p->ev);
	e->policy_version = p->origin.policy_version;
	if (HAS(&p->ev, nonce)) {
		e->has_nonce = true;
		e->nonce = p->ev.nonce;
	}
}

static void emit(struct jv_audit *a, struct au_live *l,
		 const struct jv_audit_entry *e)
{
	au_entry(a, &l->pub, e);
}

/* ---- stream lifecycle ------------------------------------------------- */

static struct au_live *live_new(struct jv_audit *a, struct au_slot *slot,
				const struct jv_parsed_event *p)
{
	struct au_live *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
	slot->live = l;
	slot->index = ++a->r.streams;
	if (p->origin.role == JV_ROLE_CLIENT)
		a->r.streams_client++;
	else
		a->r.streams_gateway++;
	l->pub.index = slot->index;
	l->pub.role = p->origin.role;
	snprintf(l->pub.session_id, sizeof l->pub.session_id, "%s",
		 p->origin.session_id);
	snprintf(l->pub.node_id, sizeof l->pub.node_id, "%s",
		 p->origin.node_id);
	snprintf(l->pub.policy_version, sizeof l->pub.policy_version, "%s",
		 p->origin.policy_version);
	l->state = ST(BIRTH);
	l->prev = a->live_tail;
	if (a->live_tail)
		a->live_tail->next = l;
	else
		a->live_head = l;
	a->live_tail = l;
	return l;
}

static void live_unlink(struct jv_audit *a, struct au_live *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		a->live_head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		a->live_tail = l->prev;
}

/* The stream ended: tell the caller, keep only what catches late events. */
static void live_end(struct jv_audit *a, struct au_slot *slot,
		     struct au_live *l, jv_time ts, unsigned long line)
{
	if (a->opts.hooks.stream_end)
		a->opts.hooks.stream_end(a->opts.hooks.ud, &l->pub);
	live_unlink(a, l);
	free(l);
	slot->live = NULL;
	slot->ended = 1;
	slot->term_ts = ts;
	slot->term_line = line;
}

/* ---- binding ---------------------------------------------------------- */

static void bind_set(struct au_live *l, const char *tid)
{
	au_tid_set(&l->binding, tid);
	l->binding_known = true;
}

static void bind_clear(struct au_live *l, jv_time ts, unsigned long line)
{
	if (l->binding.set || !l->binding_known) {
		l->null_since = ts;
		l->null_line = line;
		l->liv_rep[1] = false;
	}
	au_tid_set(&l->binding, NULL);
	l->binding_known = true;
}

/* TransportSwitch times in (now - 60 000, now] (spec §6.4 window). */
static unsigned switches_within(const struct au_live *l, jv_time now)
{
	unsigned n = 0;
	unsigned have = l->nsw < JV_SWITCH_HISTORY_MAX ? l->nsw :
			JV_SWITCH_HISTORY_MAX;

	for (unsigned i = 0; i < have; i++) {
		jv_time t = l->sw[i];
		if (t <= now && now - t < JV_SWITCH_RATE_WINDOW_MS)
			n++;
	}
	return n;
}

/* ---- groups and commits ----------------------------------------------- */

static void group_reset(struct au_live *l)
{
	l->g_open = false;
	l->g_t11 = false;
	l->g_need_attached = l->g_need_success = l->g_need_dead = false;
	l->g_need_term = l->g_need_outcome = false;
	l->g_attached = l->g_success = l->g_dead = false;
	l->g_fatal_deny = l->g_peer = false;
	l->g_outcomes = l->g_denied = l->g_term_events = 0;
	l->g_first_outcome = JV_EV_COUNT;
}

/* LIV-05: an outcome of the requester's RECOVERING episode. */
static void outcome(struct au_live *l, enum jv_event_type t)
{
	if (!(l->g_open && l->g_need_outcome))
		return;
	if (l->g_first_outcome == JV_EV_COUNT)
		l->g_first_outcome = t;
	if (t == JV_EV_TRANSPORT_SWITCH_DENIED)
		l->g_denied++;
	else
		l->g_outcomes++;
}

/*
 * The events that follow one transition end here.  next: the
 * SessionStateChange that ends them (same commit), or NULL.
 */
static void group_close(struct jv_audit *a, struct au_live *l,
			const struct jv_event *next)
{
	const char *tr = NULL;

	if (!l->g_open)
		return;
	if (l->g_need_attached && !l->g_attached)
		au_viol(a, JV_AC_INV07, l->g_line, &l->pub, "BIRTH->ATTACHED "
			"without TransportAttached in its commit");
	if (l->g_need_success && !l->g_success)
		au_viol(a, JV_AC_INV07, l->g_line, &l->pub, "RECOVERING->ATTACHED "
			"without ReattachResult(SUCCESS) in its commit (same "
			"ts_ms and state_version)");
	if (l->g_need_dead && !l->g_dead) {
		/* T11: the gateway's ATTACHED->VOLATILE on an accepted
		 * request keeps the binding; the chain goes on to RECOVERING
		 * in the same commit and T40 replaces the binding. */
		bool t11 = l->g_t11 && next &&
			   next->previous_state == ST(VOLATILE) &&
			   next->new_state == ST(RECOVERING);
		if (!t11)
			au_viol(a, JV_AC_INV05, l->g_line, &l->pub, "transition "
				"%s->%s for transport_dead without TransportDead "
				"in its commit: the binding is never cleared",
				sname(l->g_prev), sname(l->g_next));
	}
	if (l->g_need_term && l->g_term_events == 0)
		au_viol(a, JV_AC_INV04, l->g_line, &l->pub, "transition into "
			"TERMINATED without SessionTerminated in its commit");
	/*
	 * LIV-05.  Later inputs of the same millisecond may add
	 * TransportSwitchDenied at the same version (T32 gate refusals in
	 * DEGRADED), so denials may repeat; the episode's own outcome is the
	 * first one, and SUCCESS, TransportSwitchFailed and SessionTerminated
	 * exclude each other.
	 */
	if (l->g_need_outcome) {
		if (l->g_outcomes + l->g_denied == 0)
			tr = "none of";
		else if (l->g_outcomes > 1)
			tr = "more than one of";
		else if ((l->g_next == ST(ATTACHED)) !=
			 (l->g_first_outcome == JV_EV_REATTACH_RESULT))
			tr = l->g_next == ST(ATTACHED) ?
			     "a denial or failure first, not" :
			     "a success first, not";
		if (tr)
			au_viol(a, JV_AC_LIV05, l->g_line, &l->pub, "RECOVERING "
				"left (->%s) with %s ReattachResult(SUCCESS), "
				"TransportSwitchDenied, TransportSwitchFailed, "
				"SessionTerminated as its outcome (exactly one "
				"needed)", sname(l->g_next), tr);
	}
	group_reset(l);
}

static void commit_close(struct jv_audit *a, struct au_live *l)
{
	if (!l->c_open)
		return;
	group_close(a, l, NULL);
	if (l->state_known && l->binding_known) {
		if (l->state == ST(ATTACHED) && !l->binding.set)
			au_viol(a, JV_AC_INV06, l->c_line, &l->pub, "ATTACHED "
				"without a binding at the end of the commit");
		if ((l->state == ST(BIRTH) || l->state == ST(TERMINATED)) &&
		    l->binding.set)
			au_viol(a, JV_AC_INV06, l->c_line, &l->pub, "%s with "
				"binding %s at the end of the commit",
				sname(l->state), au_tid_show(&l->binding));
	}
	/* §2.1: on the validator RECOVERING exists only inside a commit. */
	if (l->pub.role == JV_ROLE_GATEWAY && l->in_recovering &&
	    !l->liv_rep[2]) {
		l->liv_rep[2] = true;
		au_viol(a, JV_AC_LIV03, l->c_line, &l->pub, "gateway still "
			"RECOVERING (entered at line %lu) when its commit "
			"ended: the validator leaves RECOVERING in the same "
			"commit", l->recovering_line);
	}
	l->c_open = false;
}

/* ---- time bounds (§3.2) ----------------------------------------------- */

/*
 * "By t + B" is at or before t + B + 1 + ε (limits are strict, §2.4).
 * now: the ts_ms of the stream's next event, or the last ts_ms of the
 * file at its end (at_end): a bound that passed while the log still ran
 * and was not met is a violation.  Each episode is reported once.
 */
static void deadlines(struct jv_audit *a, struct au_live *l, jv_time now,
		      unsigned long line, bool at_end)
{
	const struct jv_policy *p = &l->pol;
	jv_time eps = a->opts.epsilon_ms;
	const char *how = at_end ? "the log runs to" : "still so at";

	if (!l->have_policy || !l->state_known ||
	    l->state == ST(TERMINATED))
		return;
	if (l->pub.born && !l->liv_rep[0]) {
		jv_time dl = sat_add(sat_add(l->pub.born_ms, p->max_lifetime_ms),
				     1 + eps);
		if (now > dl) {
			l->liv_rep[0] = true;
			au_viol(a, JV_AC_LIV01, at_end ? l->pub.born_line : line,
				&l->pub, "not terminated by creation (%" PRIu64
				") + SESSION_MAX_LIFETIME_MS %" PRIu64 " + 1 + "
				"ε = %" PRIu64 "; %s %" PRIu64, l->pub.born_ms,
				p->max_lifetime_ms, dl, how, now);
		}
	}
	if (l->binding_known && !l->binding.set && !l->liv_rep[1]) {
		jv_time dl = sat_add(sat_add(l->null_since,
					     p->transport_lost_ttl_ms), 1 + eps);
		if (now > dl) {
			l->liv_rep[1] = true;
			au_viol(a, JV_AC_LIV02, at_end ? l->null_line : line,
				&l->pub, "transportless since %" PRIu64 " (line "
				"%lu), neither rebound nor terminated by + "
				"TRANSPORT_LOST_TTL_MS %" PRIu64 " + 1 + ε = %"
				PRIu64 "; %s %" PRIu64, l->null_since,
				l->null_line, p->transport_lost_ttl_ms, dl, how,
				now);
		}
	}
	if (l->in_recovering && l->pub.role == JV_ROLE_CLIENT &&
	    !l->liv_rep[2]) {
		jv_time dl = sat_add(sat_add(l->recovering_since,
					     p->recovery_window_ms), 1 + eps);
		if (now > dl) {
			l->liv_rep[2] = true;
			au_viol(a, JV_AC_LIV03, at_end ? l->recovering_line : line,
				&l->pub, "RECOVERING since %" PRIu64 " (line %lu) "
				"not left by + RECOVERY_WINDOW_MS %" PRIu64 " + 1 "
				"+ ε = %" PRIu64 "; %s %" PRIu64,
				l->recovering_since, l->recovering_line,
				p->recovery_window_ms, dl, how, now);
		}
	}
	if (l->in_volatile && !l->liv_rep[3]) {
		jv_time dl = sat_add(sat_add(l->volatile_since,
					     p->volatile_to_degraded_ms), 1 + eps);
		if (now > dl) {
			l->liv_rep[3] = true;
			au_viol(a, JV_AC_LIV04, at_end ? l->volatile_line : line,
				&l->pub, "VOLATILE since %" PRIu64 " (line %lu) "
				"not left by + VOLATILE_TO_DEGRADED_MS %" PRIu64
				" + 1 + ε = %" PRIu64 "; %s %" PRIu64,
				l->volatile_since, l->volatile_line,
				p->volatile_to_degraded_ms, dl, how, now);
		}
	}
}

/* ---- per event type --------------------------------------------------- */

static void version_check(struct jv_audit *a, struct au_live *l,
			  const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;

	if (!l->version_known) {
		l->k = ev->state_version;
		l->version_known = true;
		return;
	}
	if (ev->state_version != l->k)
		au_viol(a, JV_AC_INV02, line, &l->pub, "%s carries state_version "
			"%" PRIu64 "; the latest SessionStateChange made it %"
			PRIu64, tname(ev->type), ev->state_version, l->k);
}

static void on_created(struct jv_audit *a, struct au_live *l,
		       const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;

	if (ev->state_version != 0 || (HAS(ev, state) && ev->state != ST(BIRTH)))
		au_viol(a, JV_AC_INV01, line, &l->pub, "SessionCreated in %s at "
			"state_version %" PRIu64 "; a session is born in BIRTH "
			"at version 0", HAS(ev, state) ? sname(ev->state) : "?",
			ev->state_version);
	l->pub.born = true;
	l->pub.born_ms = ev->ts_ms;
	l->pub.born_line = line;
	l->state = ST(BIRTH);
	l->state_known = true;
	l->state_since = ev->ts_ms;
	l->k = 0;
	l->version_known = true;
	l->binding_known = false;
	bind_clear(l, ev->ts_ms, line);	/* OP-21: transportless from birth */
	if (HAS(ev, policy) && ev->policy) {
		l->pol = *ev->policy;
		l->have_policy = true;
		if (strcmp(l->pol.version, p->origin.policy_version))
			au_viol(a, JV_AC_POLICY, line, &l->pub, "details.policy "
				"is version %s but the event names policy %s",
				l->pol.version, p->origin.policy_version);
	} else {
		au_viol(a, JV_AC_POLICY, line, &l->pub, "SessionCreated carries "
			"no details.policy: the bounds in force are not in the "
			"log, so INV-08/09/12/14 and LIV-01..04 cannot be "
			"checked");
	}
	entry_init(&e, JV_AE_BIRTH, p, line);
	e.to = ST(BIRTH);
	emit(a, l, &e);
}

static void inv12(struct jv_audit *a, struct au_live *l,
		  const struct jv_event *ev, unsigned long line)
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
	n = switches_within(l, ev->ts_ms);
	if (n >= l->pol.max_switches_per_min)
		au_viol(a, JV_AC_INV12, line, &l->pub, "switch attempt to %s "
			"with %u TransportSwitch in the preceding 60 000 ms "
			"(MAX_SWITCHES_PER_MIN %u)", cand, n,
			l->pol.max_switches_per_min);
}

static void on_state_change(struct jv_audit *a, struct au_live *l,
			    const struct jv_parsed_event *p,
			    unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	enum jv_state prev = ev->previous_state, next = ev->new_state;
	enum jv_reason why = reason_of(ev);
	enum jv_state cur = l->state_known ? l->state : prev;
	jv_time ts = ev->ts_ms, dur = 0;
	struct jv_audit_entry e;

	if (l->state_known && l->state == ST(TERMINATED)) {
		au_viol(a, JV_AC_INV04, line, &l->pub, "SessionStateChange "
			"%s->%s after TERMINATED", sname(prev), sname(next));
		return;
	}
	group_close(a, l, ev);

	/* INV-02, INV-16 */
	if (l->version_known) {
		uint64_t want = l->k + 1;

		if (l->k == UINT64_MAX || ev->state_version < want) {
			if (l->pub.role == JV_ROLE_GATEWAY &&
			    ev->state_version == l->k && l->ssc_node[0] &&
			    strcmp(l->ssc_node, p->origin.node_id))
				au_viol(a, JV_AC_INV16, line, &l->pub, "version %"
					PRIu64 " committed twice, by %s and by "
					"%s: the session forked",
					ev->state_version, l->ssc_node,
					p->origin.node_id);
			else
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
		l->k = ev->state_version > want || l->k == UINT64_MAX ?
		       ev->state_version : want;
	} else {
		l->k = ev->state_version;
		l->version_known = true;
	}

	/* INV-03 */
	if (l->state_known && prev != l->state)
		au_viol(a, JV_AC_INV03, line, &l->pub, "previous_state %s but "
			"the stream is in %s", sname(prev), sname(l->state));
	if (!jv_fsm_transition_legal(prev, next, why))
		au_viol(a, JV_AC_INV03, line, &l->pub, "%s->%s (%s) is no "
			"transition of the table (spec §2.3)", sname(prev),
			sname(next), rname(why));

	/* INV-15: a gateway transition is the owner's */
	if (l->pub.role == JV_ROLE_GATEWAY && l->have_owner &&
	    strcmp(l->owner, p->origin.node_id))
		au_viol(a, JV_AC_INV15, line, &l->pub, "SessionStateChange by "
			"%s while %s owns the session (epoch %" PRIu64 ")",
			p->origin.node_id, l->owner, l->owner_epoch);
	snprintf(l->ssc_node, sizeof l->ssc_node, "%s", p->origin.node_id);

	/* the timeline: the state left and how long it lasted */
	if (l->state_known && ts >= l->state_since)
		dur = ts - l->state_since;
	entry_init(&e, JV_AE_STATE, p, line);
	e.from = cur;
	e.to = next;
	e.duration_ms = dur;
	emit(a, l, &e);
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

	/* recovery latency: out of ATTACHED until back (§8.4) */
	if (l->state_known && cur == ST(ATTACHED) && next != ST(ATTACHED) &&
	    next != ST(TERMINATED)) {
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

	l->g_open = true;
	l->g_line = line;
	l->g_prev = prev;
	l->g_next = next;
	l->g_reason = why;
	l->state = next;
	l->state_known = true;
}

static void on_attached(struct jv_audit *a, struct au_live *l,
			const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	const char *tid = STR(ev, transport_id);
	struct jv_audit_entry e;

	if (l->state_known && l->state == ST(TERMINATED))
		au_viol(a, JV_AC_INV04, line, &l->pub, "TransportAttached after "
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
	bind_set(l, tid);
	if (l->req_open)
		l->req_mutated = true;
	entry_init(&e, JV_AE_ATTACH, p, line);
	e.to_transport = tid;
	emit(a, l, &e);
}

static void on_switch(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, unsigned long line)
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
		au_viol(a, JV_AC_INV07, line, &l->pub, "TransportSwitch %s -> %s "
			"outside a RECOVERING->ATTACHED commit: a switch needs "
			"a validated reattach", str_or_null(from),
			str_or_null(to));
	else if (l->g_success)
		au_viol(a, JV_AC_ORDER, line, &l->pub, "TransportSwitch after "
			"the ReattachResult(SUCCESS) of its commit: the binding "
			"event comes first (§3)");
	if (l->binding_known && !au_tid_eq(&l->binding, from))
		au_viol(a, JV_AC_INV05, line, &l->pub, "TransportSwitch from %s "
			"but the binding is %s: the replaced transport is not "
			"the active one", str_or_null(from),
			au_tid_show(&l->binding));
	if (!to)
		au_viol(a, JV_AC_INV05, line, &l->pub, "TransportSwitch to "
			"null: a switch names its new transport");

	l->sw[l->nsw % JV_SWITCH_HISTORY_MAX] = ev->ts_ms;
	l->nsw++;
	if (l->have_policy) {
		unsigned n = switches_within(l, ev->ts_ms);
		if (n > l->pol.max_switches_per_min)
			au_viol(a, JV_AC_INV08, line, &l->pub, "%u TransportSwitch "
				"in the 60 000 ms ending here "
				"(MAX_SWITCHES_PER_MIN %u)", n,
				l->pol.max_switches_per_min);
	}
	a->r.switches++;
	entry_init(&e, JV_AE_SWITCH, p, line);
	e.from_transport = from;
	e.to_transport = to;
	emit(a, l, &e);
	if (to)
		bind_set(l, to);
	else
		bind_clear(l, ev->ts_ms, line);
	if (l->req_open)
		l->req_mutated = true;
}

static void on_dead(struct jv_audit *a, struct au_live *l,
		    const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	const char *tid = STR(ev, transport_id);
	struct jv_audit_entry e;

	if (!(l->g_open && l->g_reason == JV_REASON_TRANSPORT_DEAD &&
	      l->g_next != ST(TERMINATED)))
		au_viol(a, JV_AC_INV05, line, &l->pub, "TransportDead %s outside "
			"a transport_dead transition: only that clears the "
			"binding", str_or_null(tid));
	else
		l->g_dead = true;
	if (l->binding_known && (!l->binding.set || !au_tid_eq(&l->binding, tid)))
		au_viol(a, JV_AC_INV05, line, &l->pub, "TransportDead %s but the "
			"binding is %s", str_or_null(tid),
			au_tid_show(&l->binding));
	entry_init(&e, JV_AE_DEAD, p, line);
	e.from_transport = tid;
	e.detail = STR(ev, detection);
	emit(a, l, &e);
	bind_clear(l, ev->ts_ms, line);
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

static void on_attempt(struct jv_audit *a, struct au_live *l,
		       const struct jv_parsed_event *p, unsigned long line)
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
}

static bool fatal_deny(enum jv_reason r)
{
	return r == JV_REASON_SESSION_LIFETIME_EXCEEDED ||
	       r == JV_REASON_TRANSPORT_TTL_EXCEEDED;
}

static void on_result(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	bool gw = l->pub.role == JV_ROLE_GATEWAY;
	struct jv_audit_entry e;

	if (str_is(STR(ev, status), "SUCCESS")) {
		if (l->state_known && l->state == ST(TERMINATED))
			au_viol(a, JV_AC_INV04, line, &l->pub, "ReattachResult"
				"(SUCCESS) after TERMINATED");
		if (l->g_open && l->g_need_success)
			l->g_success = true;
		outcome(l, JV_EV_REATTACH_RESULT);
		if (HAS(ev, nonce)) {
			if (was_rejected(l, ev->nonce))
				au_viol(a, JV_AC_LIV09, line, &l->pub,
					"ReattachResult(SUCCESS) for nonce %"
					PRIu64 ", which was rejected as a "
					"replay or stale before", ev->nonce);
			if (gw && l->have_nonce && ev->nonce <= l->last_nonce)
				au_viol(a, JV_AC_INV11, line, &l->pub, "SUCCESS "
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
					"request of line %lu committed although "
					"a freshness or proof check rejected it",
					l->req_line);
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
				"(DENIED) but its request (line %lu) changed the "
				"session (version %" PRIu64 " -> %" PRIu64 ", "
				"%s): a denial never mutates", l->req_line,
				l->req_version, ev->state_version,
				l->req_mutated ? "transition or binding event"
					       : "no event");
		l->req_open = false;
	}
	entry_init(&e, JV_AE_DENIAL, p, line);
	e.to_transport = STR(ev, candidate_transport);
	e.detail = "reattach denied";
	emit(a, l, &e);
}

static void on_denial(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;

	entry_init(&e, JV_AE_DENIAL, p, line);
	switch (ev->type) {
	case JV_EV_TRANSPORT_SWITCH_DENIED:
	case JV_EV_TRANSPORT_SWITCH_FAILED:
		a->r.denials++;
		outcome(l, ev->type);
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
	emit(a, l, &e);
}

static void on_security(struct jv_audit *a, struct au_live *l,
			const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_entry e;

	a->r.security++;
	if (ev->type == JV_EV_SECURITY_REPLAY_DETECTED && HAS(ev, nonce))
		remember_rejected(l, ev->nonce);
	if (l->req_open && (ev->type == JV_EV_SECURITY_REPLAY_DETECTED ||
			    ev->type == JV_EV_SECURITY_VALIDATION_FAILED))
		l->req_security = true;
	entry_init(&e, JV_AE_SECURITY, p, line);
	e.to_transport = STR(ev, transport_id);
	e.detail = STR(ev, violation_type) ? STR(ev, violation_type) :
		   STR(ev, freshness_marker_type) ? STR(ev, freshness_marker_type) :
		   STR(ev, conflicting_node_id);
	emit(a, l, &e);
}

static void on_owner(struct jv_audit *a, struct au_live *l,
		     const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	const char *owner = STR(ev, owner_node_id);
	const char *prevo = STR(ev, previous_owner_node_id);
	struct jv_audit_entry e;

	if (l->have_owner) {
		if (ev->type == JV_EV_SESSION_OWNER_ACQUIRED && owner &&
		    strcmp(owner, l->owner))
			au_viol(a, JV_AC_INV15, line, &l->pub, "%s acquires the "
				"session while %s owns it (epoch %" PRIu64 "): "
				"ownership intervals overlap", owner, l->owner,
				l->owner_epoch);
		if (ev->type == JV_EV_SESSION_OWNER_TRANSFERRED && prevo &&
		    strcmp(prevo, l->owner))
			au_viol(a, JV_AC_INV15, line, &l->pub, "ownership "
				"transferred from %s but the owner is %s",
				prevo, l->owner);
		if (HAS(ev, owner_epoch) && ev->owner_epoch <= l->owner_epoch)
			au_viol(a, JV_AC_INV15, line, &l->pub, "owner_epoch %"
				PRIu64 " does not follow %" PRIu64,
				ev->owner_epoch, l->owner_epoch);
	}
	if (owner) {
		snprintf(l->owner, sizeof l->owner, "%s", owner);
		l->have_owner = true;
	}
	if (HAS(ev, owner_epoch))
		l->owner_epoch = ev->owner_epoch;
	entry_init(&e, JV_AE_OWNER, p, line);
	e.detail = owner;
	emit(a, l, &e);
}

static void on_policy(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, unsigned long line)
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
	}
	entry_init(&e, JV_AE_POLICY, p, line);
	e.detail = STR(ev, status);
	emit(a, l, &e);
}

/* X4..X7 and T48 from the peer are decided elsewhere (INV-14 exemption). */
static void inv14(struct jv_audit *a, struct au_live *l,
		  const struct jv_event *ev, unsigned long line)
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
static bool on_terminated(struct jv_audit *a, struct au_live *l,
			  const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	enum jv_reason why = reason_of(ev);
	struct jv_audit_entry e;

	entry_init(&e, JV_AE_TERMINATED, p, line);
	if (l->pub.born && ev->ts_ms >= l->pub.born_ms)
		e.duration_ms = ev->ts_ms - l->pub.born_ms;
	if (!l->state_known || l->state != ST(TERMINATED)) {
		au_viol(a, JV_AC_INV04, line, &l->pub, "SessionTerminated "
			"without a transition into TERMINATED");
		emit(a, l, &e);
		return false;
	}
	if (!(l->g_open && l->g_need_term)) {
		au_viol(a, JV_AC_INV04, line, &l->pub, "SessionTerminated "
			"outside the commit of its transition into TERMINATED");
	} else {
		l->g_term_events++;
		outcome(l, JV_EV_SESSION_TERMINATED);
		if (why != l->g_reason)
			au_viol(a, JV_AC_INV04, line, &l->pub, "SessionTerminated "
				"says %s but its transition (line %lu) says %s",
				rname(why), l->g_line, rname(l->g_reason));
		inv14(a, l, ev, line);
	}
	a->r.terminated++;
	if (why != JV_REASON_NONE)
		a->r.terminations[why]++;
	emit(a, l, &e);
	commit_close(a, l);
	return true;
}

static void on_audit_check(struct jv_audit *a, struct au_live *l,
			   const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;

	/* The runtime's own self-check says an invariant broke. */
	if (!str_is(STR(ev, result), "FAIL"))
		return;
	au_viol(a, str_is(STR(ev, check), "NO_IDENTITY_RESET") ? JV_AC_INV01 :
		   JV_AC_INV05, line, &l->pub, "the runtime's AuditCheck %s "
		"reported FAIL", str_or_null(STR(ev, check)));
}

/* ---- after SessionTerminated ------------------------------------------ */

static void after_end(struct jv_audit *a, const struct au_slot *slot,
		      const struct jv_parsed_event *p, unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_stream s;
	bool mutating;

	memset(&s, 0, sizeof s);
	s.index = slot->index;
	s.role = (enum jv_role)slot->role;
	snprintf(s.session_id, sizeof s.session_id, "%s", p->origin.session_id);
	snprintf(s.node_id, sizeof s.node_id, "%s", p->origin.node_id);
	snprintf(s.policy_version, sizeof s.policy_version, "%s",
		 p->origin.policy_version);

	mutating = ev->type == JV_EV_SESSION_STATE_CHANGE ||
		   ev->type == JV_EV_TRANSPORT_ATTACHED ||
		   ev->type == JV_EV_TRANSPORT_SWITCH ||
		   (ev->type == JV_EV_REATTACH_RESULT &&
		    str_is(STR(ev, status), "SUCCESS"));
	if (ev->type == JV_EV_SESSION_CREATED)
		au_viol(a, JV_AC_INV01, line, &s, "second SessionCreated for a "
			"session that ended at line %lu: a new session needs a "
			"new session_id", slot->term_line);
	else if (ev->type == JV_EV_SESSION_TERMINATED)
		au_viol(a, JV_AC_INV04, line, &s, "second SessionTerminated "
			"(the first at line %lu)", slot->term_line);
	else if (mutating)
		au_viol(a, JV_AC_INV04, line, &s, "%s after TERMINATED "
			"(SessionTerminated at line %lu)", tname(ev->type),
			slot->term_line);
	else if (ev->ts_ms == slot->term_ts)
		au_viol(a, JV_AC_ORDER, line, &s, "%s after SessionTerminated "
			"(line %lu) in the same commit: SessionTerminated comes "
			"last", tname(ev->type), slot->term_line);
}

/* ---- entry point ------------------------------------------------------ */

int au_replay_event(struct jv_audit *a, const struct jv_parsed_event *p,
		    unsigned long line)
{
	const struct jv_event *ev = &p->ev;
	struct au_slot *slot;
	struct au_live *l;
	bool fresh;

	slot = au_table_get(&a->table, p->origin.session_id, p->origin.role,
			    &fresh);
	if (!slot)
		return JV_ERR_NOMEM;
	if (slot->ended) {
		after_end(a, slot, p, line);
		return JV_OK;
	}
	if (fresh) {
		l = live_new(a, slot, p);
		if (!l)
			return JV_ERR_NOMEM;
		if (ev->type != JV_EV_SESSION_CREATED)
			au_viol(a, JV_AC_INV01, line, &l->pub, "stream begins "
				"with %s, not SessionCreated (first lines lost, "
				"or a rotated log): replayed from here",
				tname(ev->type));
	} else {
		l = slot->live;
	}

	if (l->have_ts && ev->ts_ms < l->last_ts)
		au_viol(a, JV_AC_ORDER, line, &l->pub, "ts_ms %" PRIu64 " is "
			"before the stream's previous event (%" PRIu64 ", line "
			"%lu)", ev->ts_ms, l->last_ts, l->last_line);
	if (l->c_open && ev->ts_ms != l->c_ts)
		commit_close(a, l);
	deadlines(a, l, ev->ts_ms, line, false);
	l->c_open = true;
	l->c_ts = ev->ts_ms;
	l->c_line = line;
	if (!l->have_ts || ev->ts_ms > l->last_ts)
		l->last_ts = ev->ts_ms;
	l->have_ts = true;
	l->last_line = line;
	l->events++;

	if (l->pub.role == JV_ROLE_CLIENT && !l->node_warned &&
	    strcmp(l->pub.node_id, p->origin.node_id)) {
		l->node_warned = true;
		au_viol(a, JV_AC_INV01, line, &l->pub, "client events of one "
			"session from two nodes (%s, %s)", l->pub.node_id,
			p->origin.node_id);
	}
	if (ev->type != JV_EV_SESSION_CREATED &&
	    ev->type != JV_EV_POLICY_UPDATE &&
	    strcmp(p->origin.policy_version, l->pub.policy_version))
		au_viol(a, JV_AC_POLICY, line, &l->pub, "%s names policy %s, "
			"the policy in force is %s", tname(ev->type),
			p->origin.policy_version, l->pub.policy_version);

	switch (ev->type) {
	case JV_EV_SESSION_CREATED:
		if (fresh)
			on_created(a, l, p, line);
		else
			au_viol(a, JV_AC_INV01, line, &l->pub, "second "
				"SessionCreated for this session and role%s",
				l->pub.born ? "" : " (after its first events)");
		break;
	case JV_EV_SESSION_STATE_CHANGE:
		on_state_change(a, l, p, line);
		break;
	case JV_EV_SESSION_TERMINATED:
		version_check(a, l, p, line);
		if (on_terminated(a, l, p, line))
			live_end(a, slot, l, ev->ts_ms, line);
		break;
	default:
		version_check(a, l, p, line);
		switch (ev->type) {
		case JV_EV_TRANSPORT_ATTACHED:
			on_attached(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_SWITCH:
			on_switch(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_DEAD:
			on_dead(a, l, p, line);
			break;
		case JV_EV_REATTACH_ATTEMPT:
			on_attempt(a, l, p, line);
			break;
		case JV_EV_REATTACH_RESULT:
			on_result(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_SWITCH_DENIED:
		case JV_EV_TRANSPORT_SWITCH_FAILED:
		case JV_EV_POLICY_LIMIT_TRIGGERED:
		case JV_EV_REKEY_DENIED:
			on_denial(a, l, p, line);
			break;
		case JV_EV_SECURITY_VALIDATION_FAILED:
		case JV_EV_SECURITY_REPLAY_DETECTED:
		case JV_EV_SECURITY_KEY_COMPROMISE_SUSPECTED:
		case JV_EV_SESSION_OWNER_REJECTED:
		case JV_EV_SESSION_OWNER_CONFLICT:
			on_security(a, l, p, line);
			break;
		case JV_EV_SESSION_OWNER_ACQUIRED:
		case JV_EV_SESSION_OWNER_TRANSFERRED:
			on_owner(a, l, p, line);
			break;
		case JV_EV_POLICY_UPDATE:
			on_policy(a, l, p, line);
			break;
		case JV_EV_AUDIT_CHECK:
			on_audit_check(a, l, p, line);
			break;
		default:	/* KeyRotated, KeyExpired: no state */
			break;
		}
		break;
	}
	return JV_OK;
}

void au_replay_finish(struct jv_audit *a)
{
	struct au_live *l, *n;

	for (l = a->live_head; l; l = n) {
		n = l->next;
		commit_close(a, l);
		if (a->have_ts)
			deadlines(a, l, a->last_ts, 0, true);
		if (l->state_known && l->state != ST(TERMINATED)) {
			struct jv_audit_entry e;
			jv_time end = a->last_ts > l->state_since ?
				      a->last_ts : l->state_since;

			entry_init(&e, JV_AE_OPEN, NULL, 0);
			e.ts_ms = end;
			e.state_version = l->k;
			e.from = l->state;
			e.duration_ms = end - l->state_since;
			if (l->state == ST(VOLATILE))
				a->r.volatile_ms += e.duration_ms;
			else if (l->state == ST(DEGRADED))
				a->r.degraded_ms += e.duration_ms;
			emit(a, l, &e);
		}
		if (a->opts.hooks.stream_end)
			a->opts.hooks.stream_end(a->opts.hooks.ud, &l->pub);
		live_unlink(a, l);
		free(l);
	}
}
