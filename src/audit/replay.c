/* SPDX-License-Identifier: MIT */
/*
 * The stream replay of spec §3: states, versions and the binding of one
 * FSM instance, rebuilt event by event and held against §3.1 (safety) and
 * §3.2 (bounded time).  This file keeps the streams, their commits and
 * time bounds, and hands each event to its checks (states.c, bindings.c,
 * and first, for a gateway stream, owners.c, which says whether the event
 * is the owner's at all).
 *
 * Streams.  A client stream is (session_id, client node_id); the gateway
 * stream of a session takes the events of every gateway node and file
 * (spec §3).  A second client node of one session is its own stream and
 * an INV-01 finding (a session has one client).
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

#include "replay.h"

/* ---- the timeline ----------------------------------------------------- */

void au_entry_init(const struct jv_audit *a, struct jv_audit_entry *e,
		   enum jv_audit_entry_kind k, const struct jv_parsed_event *p,
		   au_at line)
{
	memset(e, 0, sizeof *e);
	e->kind = k;
	e->from = e->to = JV_STATE_COUNT;
	e->reason = JV_REASON_NONE;
	if (!p)
		return;
	e->line = au_at_line(line);
	e->file = au_file_label(a, line);
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

void au_emit(struct jv_audit *a, struct au_live *l,
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
	if (p->origin.role == JV_ROLE_GATEWAY) {
		l->own = calloc(1, sizeof *l->own);
		if (!l->own) {
			free(l);
			return NULL;
		}
	}
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
		     struct au_live *l, jv_time ts, au_at line)
{
	if (a->opts.hooks.stream_end)
		a->opts.hooks.stream_end(a->opts.hooks.ud, &l->pub);
	live_unlink(a, l);
	free(l->own);
	free(l);
	slot->live = NULL;
	slot->ended = 1;
	slot->term_ts = ts;
	slot->term_line = line;
}

/* ---- binding ---------------------------------------------------------- */

void au_bind_set(struct au_live *l, const char *tid)
{
	au_tid_set(&l->binding, tid);
	l->binding_known = true;
}

void au_bind_clear(struct au_live *l, jv_time ts, au_at line)
{
	if (l->binding.set || !l->binding_known) {
		l->null_since = ts;
		l->null_line = line;
		l->liv_rep[1] = false;
	}
	au_tid_set(&l->binding, NULL);
	l->binding_known = true;
}

/* Discretionary TransportSwitch times in (now - 60 000, now] (spec §6.4
 * window, INV-08 as amended by PD-7). */
unsigned au_switches_within(const struct au_live *l, jv_time now)
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
	l->g_fatal_deny = l->g_peer = l->g_other = false;
	l->g_outcomes = l->g_denied = l->g_term_events = 0;
	l->g_first_outcome = JV_EV_COUNT;
}

/* LIV-05: an outcome of the requester's RECOVERING episode. */
void au_outcome(struct au_live *l, enum jv_event_type t)
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
void au_group_close(struct jv_audit *a, struct au_live *l,
			const struct jv_event *next)
{
	const char *tr = NULL;

	if (!l->g_open)
		return;
	if (l->g_need_attached && !l->g_attached)
		au_viol(a, JV_AC_INV07, l->g_line, &l->pub, "BIRTH->ATTACHED "
			"without TransportAttached in its commit");
	if (l->g_need_success && !l->g_success)
		au_viol(a, JV_AC_INV07, l->g_line, &l->pub,
			"RECOVERING->ATTACHED "
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
			au_viol(a, JV_AC_INV05, l->g_line, &l->pub,
				"transition "
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
			au_viol(a, JV_AC_LIV05, l->g_line, &l->pub,
				"RECOVERING "
				"left (->%s) with %s ReattachResult(SUCCESS), "
				"TransportSwitchDenied, TransportSwitchFailed, "
				"SessionTerminated as its outcome (exactly one "
				"needed)", sname(l->g_next), tr);
	}
	au_flap_group_close(l);
	group_reset(l);
}

void au_commit_close(struct jv_audit *a, struct au_live *l)
{
	if (!l->c_open)
		return;
	au_group_close(a, l, NULL);
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
		char w[AU_WHERE_MAX];

		l->liv_rep[2] = true;
		au_viol(a, JV_AC_LIV03, l->c_line, &l->pub, "gateway still "
			"RECOVERING (entered at %s) when its commit ended: the "
			"validator leaves RECOVERING in the same commit",
			au_where(a, l->recovering_line, l->c_line, w,
				 sizeof w));
	}
	l->c_open = false;
}

/* ---- time bounds (§3.2) ----------------------------------------------- */

/*
 * One bound: started at `since` (place at), due at since + bound + 1 + ε,
 * later if the session changed owner since (au_own_due).  Reported once,
 * at the line of `now` or, at the end of the log, where it began.
 */
struct bound {
	enum jv_audit_check check;
	const char *what;		/* "VOLATILE since", ... */
	const char *unmet;		/* "not left", ... */
	const char *limit;		/* the policy field */
	jv_time since, limit_ms;
	au_at at;
};

static void bound(struct jv_audit *a, struct au_live *l,
		  const struct bound *b, bool *reported, jv_time now,
		  au_at line, bool at_end)
{
	jv_time eps = a->opts.epsilon_ms;
	jv_time dl = sat_add(sat_add(b->since, b->limit_ms), 1 + eps);
	jv_time due = au_own_due(a, l, b->since, dl);
	au_at where = at_end ? b->at : line;
	char w[AU_WHERE_MAX], late[96] = "";
	/* A policy update that moved the limit into the past makes it due at
	 * the update (§5: strict "may fire X1/X2 at once"). */
	bool by_update = l->pol_updated && due < sat_add(l->pol_since, eps);

	if (by_update)
		due = sat_add(l->pol_since, eps);
	if (*reported || now <= due)
		return;
	*reported = true;
	if (by_update)
		snprintf(late, sizeof late, "; the policy changed at %" PRIu64
			 ", so due by %" PRIu64, l->pol_since, due);
	else if (due != dl)
		snprintf(late, sizeof late, "; the owner changed at %" PRIu64
			 ", so due by %" PRIu64, due - eps, due);
	au_viol(a, b->check, where, &l->pub, "%s %" PRIu64 " (%s), %s by + %s "
		"%" PRIu64 " + 1 + ε = %" PRIu64 "%s; %s %" PRIu64, b->what,
		b->since, au_where(a, b->at, where, w, sizeof w), b->unmet,
		b->limit, b->limit_ms, dl, late,
		at_end ? "the log runs to" : "still so at", now);
}

/*
 * "By t + B" is at or before t + B + 1 + ε (limits are strict, §2.4).
 * now: the ts_ms of the stream's next event, or the last ts_ms of all
 * files at its end (at_end): a bound that passed while the log still ran
 * and was not met is a violation.  Each episode is reported once.
 */
static void deadlines(struct jv_audit *a, struct au_live *l, jv_time now,
		      au_at line, bool at_end)
{
	const struct jv_policy *p = &l->pol;

	if (!l->have_policy || !l->state_known ||
	    l->state == ST(TERMINATED))
		return;
	if (l->pub.born) {
		struct bound b = { JV_AC_LIV01, "created at", "not terminated",
				   "SESSION_MAX_LIFETIME_MS", l->pub.born_ms,
				   p->max_lifetime_ms, l->born_at };
		bound(a, l, &b, &l->liv_rep[0], now, line, at_end);
	}
	if (l->binding_known && !l->binding.set) {
		struct bound b = { JV_AC_LIV02, "transportless since",
				   "neither rebound nor terminated",
				   "TRANSPORT_LOST_TTL_MS",
				   l->null_since, p->transport_lost_ttl_ms,
				   l->null_line };
		bound(a, l, &b, &l->liv_rep[1], now, line, at_end);
	}
	if (l->in_recovering && l->pub.role == JV_ROLE_CLIENT) {
		struct bound b = { JV_AC_LIV03, "RECOVERING since", "not left",
				   "RECOVERY_WINDOW_MS", l->recovering_since,
				   p->recovery_window_ms, l->recovering_line };
		bound(a, l, &b, &l->liv_rep[2], now, line, at_end);
	}
	if (l->in_volatile) {
		struct bound b = { JV_AC_LIV04, "VOLATILE since", "not left",
				   "VOLATILE_TO_DEGRADED_MS", l->volatile_since,
				   p->volatile_to_degraded_ms, l->volatile_line };
		bound(a, l, &b, &l->liv_rep[3], now, line, at_end);
	}
}

/* ---- per event ------------------------------------------------------- */

void au_version_check(struct jv_audit *a, struct au_live *l,
			  const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;

	if (!l->version_known) {
		l->k = ev->state_version;
		l->version_known = true;
		return;
	}
	if (ev->state_version != l->k)
		au_viol(a, JV_AC_INV02, line, &l->pub,
			"%s carries state_version "
			"%" PRIu64 "; the latest SessionStateChange made it %"
			PRIu64, tname(ev->type), ev->state_version, l->k);
}

/* ---- after SessionTerminated ------------------------------------------ */

static void after_end(struct jv_audit *a, const struct au_slot *slot,
		      const struct jv_parsed_event *p, au_at line)
{
	const struct jv_event *ev = &p->ev;
	struct jv_audit_stream s;
	char w[AU_WHERE_MAX];
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
	au_where(a, slot->term_line, line, w, sizeof w);
	if (ev->type == JV_EV_SESSION_CREATED)
		au_viol(a, JV_AC_INV01, line, &s, "second SessionCreated for a "
			"session that ended at %s: a new session needs a new "
			"session_id", w);
	else if (ev->type == JV_EV_SESSION_TERMINATED)
		au_viol(a, JV_AC_INV04, line, &s, "second SessionTerminated "
			"(the first at %s)", w);
	else if (mutating)
		au_viol(a, JV_AC_INV04, line, &s, "%s after TERMINATED "
			"(SessionTerminated at %s)", tname(ev->type), w);
	else if (ev->ts_ms == slot->term_ts &&
		 au_at_file(line) == au_at_file(slot->term_line))
		au_viol(a, JV_AC_ORDER, line, &s, "%s after SessionTerminated "
			"(%s) in the same commit: SessionTerminated comes last",
			tname(ev->type), w);
}

/*
 * The slot of an event's stream, inserted if new (*fresh).  *first: the
 * index of the session's client stream when this event opens a stream
 * for a second client node, else 0.
 */
static struct au_slot *stream_slot(struct jv_audit *a,
				   const struct jv_parsed_event *p,
				   bool *fresh, unsigned *first)
{
	enum jv_role role = p->origin.role;
	struct au_slot *s;
	uint64_t node;

	*first = 0;
	s = au_table_get(&a->table, p->origin.session_id, role, 0, fresh);
	if (!s || role == JV_ROLE_GATEWAY)
		return s;
	node = au_node_key(p->origin.node_id);
	if (*fresh)
		s->cnode = node;
	if (s->cnode == node)
		return s;
	*first = s->index;
	s = au_table_get(&a->table, p->origin.session_id, role, node, fresh);
	if (s && *fresh)
		s->cnode = node;
	return s;
}

/* ---- entry point ------------------------------------------------------ */

static void second_created(struct jv_audit *a, struct au_live *l, au_at line)
{
	char w[AU_WHERE_MAX];

	if (!l->pub.born)
		au_viol(a, JV_AC_INV01, line, &l->pub, "second SessionCreated "
			"for this session and role (after its first events)");
	else if (au_at_file(l->born_at) == au_at_file(line))
		au_viol(a, JV_AC_INV01, line, &l->pub, "second SessionCreated "
			"for this session and role");
	else	/* several logs of one session given as one set? */
		au_viol2(a, JV_AC_INV01, line, l->born_at, &l->pub, "second "
			 "SessionCreated for this session and role (the first "
			 "at %s; the files are audited as one log set)",
			 au_where(a, l->born_at, line, w, sizeof w));
}

int au_replay_event(struct jv_audit *a, const struct jv_parsed_event *p,
		    au_at line)
{
	const struct jv_event *ev = &p->ev;
	enum au_own_verdict own = AU_OWN_ACT;
	struct au_slot *slot;
	struct au_live *l;
	unsigned first;
	bool fresh;

	slot = stream_slot(a, p, &fresh, &first);
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
		if (first)
			au_viol(a, JV_AC_INV01, line, &l->pub, "client events "
				"of the session from a second node, %s (its "
				"client is stream %u): one session, one client",
				p->origin.node_id, first);
		else if (ev->type != JV_EV_SESSION_CREATED)
			au_viol(a, JV_AC_INV01, line, &l->pub, "stream begins "
				"with %s, not SessionCreated (first lines lost, "
				"a rotated log%s): replayed from here",
				tname(ev->type), a->nfiles > 1 ? ", or the log "
				"of the node that created it is not in the set"
				: "");
	} else {
		l = slot->live;
	}
	if (l->pub.role == JV_ROLE_GATEWAY) {
		own = au_own_classify(a, l, p, line);
		if (own == AU_OWN_SIDE) {
			au_own_side(a, l, p, line);
			return JV_OK;
		}
	}

	if (l->have_ts && ev->ts_ms < l->last_ts) {
		char w[AU_WHERE_MAX];

		au_viol(a, JV_AC_ORDER, line, &l->pub, "ts_ms %" PRIu64 " is "
			"before the stream's previous event (%" PRIu64 ", %s)",
			ev->ts_ms, l->last_ts,
			au_where(a, l->last_line, line, w, sizeof w));
	}
	if (l->c_open && ev->ts_ms != l->c_ts)
		au_commit_close(a, l);
	/* A node that lost its lease could not act for some time before it
	 * said so: its bounds are the next owner's (au_own_due). */
	if (own != AU_OWN_RELEASE)
		deadlines(a, l, ev->ts_ms, line, false);
	l->c_open = true;
	l->c_ts = ev->ts_ms;
	l->c_line = line;
	if (!l->have_ts || ev->ts_ms > l->last_ts)
		l->last_ts = ev->ts_ms;
	l->have_ts = true;
	l->last_line = line;
	l->events++;

	if (ev->type != JV_EV_SESSION_CREATED &&
	    ev->type != JV_EV_POLICY_UPDATE &&
	    strcmp(p->origin.policy_version, l->pub.policy_version))
		au_viol(a, JV_AC_POLICY, line, &l->pub, "%s names policy %s, "
			"the policy in force is %s", tname(ev->type),
			p->origin.policy_version, l->pub.policy_version);

	switch (ev->type) {
	case JV_EV_SESSION_CREATED:
		if (fresh)
			au_on_created(a, l, p, line);
		else
			second_created(a, l, line);
		break;
	case JV_EV_SESSION_STATE_CHANGE:
		au_on_state_change(a, l, p, line);
		break;
	case JV_EV_SESSION_TERMINATED:
		au_version_check(a, l, p, line);
		if (au_on_terminated(a, l, p, line))
			live_end(a, slot, l, ev->ts_ms, line);
		break;
	default:
		au_version_check(a, l, p, line);
		switch (ev->type) {
		case JV_EV_TRANSPORT_ATTACHED:
			au_on_attached(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_SWITCH:
			au_on_switch(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_DEAD:
			au_on_dead(a, l, p, line);
			break;
		case JV_EV_REATTACH_ATTEMPT:
			au_on_attempt(a, l, p, line);
			break;
		case JV_EV_REATTACH_RESULT:
			au_on_result(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_SWITCH_DENIED:
		case JV_EV_TRANSPORT_SWITCH_FAILED:
		case JV_EV_POLICY_LIMIT_TRIGGERED:
		case JV_EV_REKEY_DENIED:
			au_on_denial(a, l, p, line);
			break;
		case JV_EV_SECURITY_VALIDATION_FAILED:
		case JV_EV_SECURITY_REPLAY_DETECTED:
		case JV_EV_SECURITY_KEY_COMPROMISE_SUSPECTED:
		case JV_EV_SESSION_OWNER_REJECTED:
		case JV_EV_SESSION_OWNER_CONFLICT:
			au_on_security(a, l, p, line);
			break;
		case JV_EV_SESSION_OWNER_ACQUIRED:
		case JV_EV_SESSION_OWNER_TRANSFERRED:
			au_on_owner(a, l, p, line);
			break;
		case JV_EV_POLICY_UPDATE:
			au_on_policy(a, l, p, line);
			break;
		case JV_EV_AUDIT_CHECK:
			au_on_audit_check(a, l, p, line);
			break;
		case JV_EV_TRANSPORT_DAMPED:
		case JV_EV_TRANSPORT_REUSED:
			au_on_damping(a, l, p, line);
			break;
		default:	/* KeyRotated, KeyExpired: no state */
			break;
		}
		/* §3 order: "others" come after the transition's result;
		 * only events inside an open group count (a KeyRotated in
		 * the middle of RECOVERING belongs to no transition). */
		if (l->g_open &&
		    ev->type != JV_EV_TRANSPORT_ATTACHED &&
		    ev->type != JV_EV_TRANSPORT_SWITCH &&
		    ev->type != JV_EV_TRANSPORT_DEAD &&
		    ev->type != JV_EV_REATTACH_ATTEMPT &&
		    ev->type != JV_EV_REATTACH_RESULT)
			l->g_other = true;
		break;
	}
	return JV_OK;
}

void au_replay_finish(struct jv_audit *a)
{
	struct au_live *l, *n;

	for (l = a->live_head; l; l = n) {
		n = l->next;
		au_commit_close(a, l);
		if (a->have_ts)
			deadlines(a, l, a->last_ts, 0, true);
		if (l->state_known && l->state != ST(TERMINATED)) {
			struct jv_audit_entry e;
			jv_time end = a->last_ts > l->state_since ?
				      a->last_ts : l->state_since;

			au_entry_init(a, &e, JV_AE_OPEN, NULL, 0);
			e.ts_ms = end;
			e.state_version = l->k;
			e.from = l->state;
			e.duration_ms = end - l->state_since;
			if (l->state == ST(VOLATILE))
				a->r.volatile_ms += e.duration_ms;
			else if (l->state == ST(DEGRADED))
				a->r.degraded_ms += e.duration_ms;
			au_emit(a, l, &e);
		}
		if (a->opts.hooks.stream_end)
			a->opts.hooks.stream_end(a->opts.hooks.ud, &l->pub);
		live_unlink(a, l);
		free(l->own);
		free(l);
	}
}

