/* SPDX-License-Identifier: MIT */
/* Spec §3 invariants, checked online on every event. */

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "jvpn/eventlog.h"
#include "jvpn/fsm.h"
#include "sim/check.h"

void sim_check_init(struct sim_check *c, const struct jv_policy *client,
		    const struct jv_policy *gateway)
{
	memset(c, 0, sizeof *c);
	c->pol[SIM_CLIENT] = *client;
	c->pol[SIM_GATEWAY] = *gateway;
}

void sim_check_report(struct sim_check *c, const char *id,
		      enum sim_side side, jv_time at, const char *fmt, ...)
{
	struct sim_violation *v;
	va_list ap;

	c->total++;
	if (c->nkept == SIM_CHECK_KEEP)
		return;
	v = &c->kept[c->nkept++];
	memset(v, 0, sizeof *v);
	snprintf(v->id, sizeof v->id, "%s", id);
	v->side = side;
	v->at = at;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof v->msg, fmt, ap);
	va_end(ap);
}

#define VIOL(c, s, id, at, ...) \
	sim_check_report((c), (id), (s)->side, (at), __VA_ARGS__)

/* LIV-10 of stream s, with the round trip of its fastest alternative. */
#define VIOL_LIV10(c, s, at, ...)                                       \
	do {                                                            \
		uint64_t n_ = (c)->nkept;                               \
		VIOL((c), (s), "LIV-10", (at), __VA_ARGS__);            \
		if ((c)->nkept > n_)                                    \
			(c)->kept[n_].alt_rtt_ms = (s)->flap_alt_rtt;   \
	} while (0)

static struct sim_cstream *stream(struct sim_check *c, enum sim_side side,
				  const char *sid)
{
	struct sim_cstream *free_slot = NULL;

	if (!sid)
		sid = "";
	for (int i = 0; i < SIM_CHECK_STREAMS; i++) {
		struct sim_cstream *s = &c->s[i];

		if (!s->used) {
			if (!free_slot)
				free_slot = s;
		} else if (s->side == side && !strcmp(s->sid, sid)) {
			return s;
		}
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, sizeof *free_slot);
	free_slot->used = true;
	free_slot->side = side;
	snprintf(free_slot->sid, sizeof free_slot->sid, "%s", sid);
	free_slot->state = JV_STATE_BIRTH;
	return free_slot;
}

static unsigned switches_within(const struct sim_cstream *s, jv_time now)
{
	unsigned n = 0, have = s->nsw < JV_SWITCH_HISTORY_MAX ?
			      s->nsw : JV_SWITCH_HISTORY_MAX;

	for (unsigned i = 0; i < have; i++)
		if (s->sw[i] + JV_SWITCH_RATE_WINDOW_MS > now)
			n++;
	return n;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* PD-7: a switch, or an entry into RECOVERING, counts toward
 * MAX_SWITCHES_PER_MIN unless it says it is forced (a log from before
 * PD-7 says nothing: its switches were all counted). */
static bool discretionary(const struct jv_event *ev)
{
	return !(JV_EV_HAS(ev, trigger_class) &&
		 str_eq(ev->trigger_class, "forced"));
}

/* Held to MAX_SWITCHES_PER_MIN: a discretionary switch, or any switch
 * when the cap is 0 (switching disabled pins the session even against a
 * dead binding: jv_switch_is_capped, as the auditor counts). */
static bool capped(const struct jv_policy *p, const struct jv_event *ev)
{
	return discretionary(ev) || p->max_switches_per_min == 0;
}

static bool needs_reason(const struct jv_event *ev)
{
	switch (ev->type) {
	case JV_EV_SESSION_STATE_CHANGE:
	case JV_EV_SESSION_TERMINATED:
	case JV_EV_TRANSPORT_SWITCH_DENIED:
	case JV_EV_TRANSPORT_SWITCH_FAILED:
	case JV_EV_SECURITY_VALIDATION_FAILED:
	case JV_EV_SECURITY_REPLAY_DETECTED:
	case JV_EV_SECURITY_KEY_COMPROMISE_SUSPECTED:
	case JV_EV_KEY_ROTATED:
	case JV_EV_KEY_EXPIRED:
	case JV_EV_REKEY_DENIED:
	case JV_EV_SESSION_OWNER_REJECTED:
	case JV_EV_SESSION_OWNER_CONFLICT:
		return true;
	case JV_EV_REATTACH_RESULT:
		return JV_EV_HAS(ev, status) && str_eq(ev->status, "DENIED");
	default:
		return false;
	}
}

static bool is_deny(const struct jv_event *ev)
{
	return (ev->type == JV_EV_REATTACH_RESULT && JV_EV_HAS(ev, status) &&
		str_eq(ev->status, "DENIED")) ||
	       ev->type == JV_EV_SECURITY_REPLAY_DETECTED ||
	       ev->type == JV_EV_SECURITY_VALIDATION_FAILED;
}

static bool is_success(const struct jv_event *ev)
{
	return ev->type == JV_EV_REATTACH_RESULT && JV_EV_HAS(ev, status) &&
	       str_eq(ev->status, "SUCCESS");
}

/* The gateway commit of version v, or NULL if not remembered. */
static struct sim_ccommit *commit_of(struct sim_cstream *s, uint64_t v)
{
	unsigned have = s->ncommit < SIM_CHECK_COMMITS ? s->ncommit :
			SIM_CHECK_COMMITS;

	for (unsigned i = 0; i < have; i++)
		if (s->commit[i].version == v)
			return &s->commit[i];
	return NULL;
}

static struct sim_ccommit *last_commit(struct sim_cstream *s)
{
	if (!s->ncommit)
		return NULL;
	return &s->commit[(s->ncommit - 1) % SIM_CHECK_COMMITS];
}

static void set_binding(struct sim_cstream *s, const char *t, jv_time now)
{
	struct sim_ccommit *cm = last_commit(s);

	if (t) {
		s->bound = true;
		snprintf(s->binding, sizeof s->binding, "%s", t);
	} else {
		if (s->bound)
			s->null_since = now;
		s->bound = false;
		s->binding[0] = '\0';
	}
	s->liv_reported[1] = false;
	/* What the commit of the current version left (a node that resumes
	 * the session at this version starts from it). */
	if (cm && cm->version == s->k) {
		cm->bound = s->bound;
		snprintf(cm->binding, sizeof cm->binding, "%s", s->binding);
	}
}

/* ---- ownership (gateway streams, spec §9, PD-9) ------------------------ */

static bool not_owner(const struct jv_event *ev)
{
	return JV_EV_HAS(ev, reason_code) &&
	       ev->reason_code == JV_REASON_NOT_AUTHORITATIVE_OWNER;
}

/*
 * The end of an ownership interval: SessionOwnerRejected(not_authoritative
 * _owner) on its own, as a node emits it when its lease ends and it lets
 * the session go.  The same event also follows every V2 denial (the
 * store unreachable: ownership unprovable for that request) inside the
 * denial's commit, after its ReattachResult(DENIED, not_authoritative_
 * owner); the node still holds the session then, and its timers still
 * run (§9: the transportless TTL still ends it).
 */
static bool is_release(const struct sim_cstream *s, const struct jv_event *ev)
{
	return ev->type == JV_EV_SESSION_OWNER_REJECTED && not_owner(ev) &&
	       !s->c_v2_deny;
}

/* May node act for the session? */
static bool acts(const struct sim_cstream *s, const char *node)
{
	return !s->own_known || (s->own_held && !strcmp(s->own_node, node));
}

/*
 * A node resumes the session (restart or takeover) at the version of its
 * record.  Below the stream's version, commits were logged that never
 * reached the store: the stream goes on from the record (what the new
 * owner knows), and the fork is reported here and again at the version
 * committed a second time.  Above it, commits reached the store whose
 * events never reached the log (held by a node that died before the
 * store's answer): a gap, INV-02; the stream goes on from the record,
 * its state and binding unknown until the next events say them.
 */
static void resume(struct sim_check *c, struct sim_cstream *s,
		   const char *node, const struct jv_event *ev)
{
	uint64_t v = ev->state_version;
	struct sim_ccommit *cm = commit_of(s, v), *lost = commit_of(s, v + 1);

	if (v > s->k) {
		VIOL(c, s, "INV-02", ev->ts_ms, "%s resumes the session at "
		     "state_version %" PRIu64 ", but the log shows %" PRIu64
		     ": the events of stored commits were lost", node, v,
		     s->k);
		s->k = v;
		s->unsure_state = s->unsure_binding = true;
		s->in_volatile = s->in_recovering = false;
		return;
	}
	if (v == s->k)
		return;
	VIOL(c, s, "INV-16", ev->ts_ms, "%s resumes the session at "
	     "state_version %" PRIu64 ", but %" PRIu64 " was committed (%s "
	     "at %" PRIu64 "): that commit never reached the store",
	     node, v, v + 1, lost ? lost->node : "?", lost ? lost->at : 0);
	s->k = v;
	if (cm) {
		s->state = cm->state;
		s->bound = cm->bound;
		snprintf(s->binding, sizeof s->binding, "%s", cm->binding);
	}
	s->in_volatile = s->state == JV_STATE_VOLATILE && s->in_volatile;
	s->in_recovering = s->state == JV_STATE_RECOVERING &&
			   s->in_recovering;
}

static void acquire(struct sim_check *c, struct sim_cstream *s,
		    const char *node, const struct jv_event *ev)
{
	const char *owner = JV_EV_HAS(ev, owner_node_id) ? ev->owner_node_id
							 : NULL;
	const char *prevo = JV_EV_HAS(ev, previous_owner_node_id) ?
			    ev->previous_owner_node_id : NULL;
	uint64_t epoch = ev->owner_epoch;
	jv_time t = ev->ts_ms;

	if (!str_eq(owner, node)) {
		VIOL(c, s, "INV-15", t, "%s by %s names %s as the owner: a "
		     "node acquires a session for itself",
		     jv_event_type_name(ev->type), node,
		     owner ? owner : "null");
		return;
	}
	if (s->own_known) {
		if (epoch <= s->own_epoch) {
			VIOL(c, s, "INV-15", t, "owner_epoch %" PRIu64 " by %s "
			     "after %" PRIu64 " by %s: epochs increase with "
			     "time across nodes", epoch, node, s->own_epoch,
			     s->own_node);
			return;
		}
		if (prevo && strcmp(prevo, s->own_node))
			VIOL(c, s, "INV-15", t, "%s takes the session over "
			     "from %s, but %s holds it (owner_epoch %" PRIu64
			     ")", node, prevo, s->own_node, s->own_epoch);
	}
	resume(c, s, node, ev);
	s->own_known = true;
	s->own_held = true;
	snprintf(s->own_node, sizeof s->own_node, "%s", node);
	s->own_epoch = epoch;
	s->own_change_ts = t;
}

/*
 * Ownership of a gateway event from `node`.  Returns false if the event
 * is not the owner's and must not move the stream.
 */
static bool owned(struct sim_check *c, struct sim_cstream *s,
		  const char *node, const struct jv_event *ev)
{
	if (ev->type == JV_EV_SESSION_OWNER_ACQUIRED ||
	    ev->type == JV_EV_SESSION_OWNER_TRANSFERRED) {
		acquire(c, s, node, ev);
		return true;
	}
	if (!acts(s, node)) {
		if (ev->type == JV_EV_SESSION_STATE_CHANGE ||
		    ev->type == JV_EV_TRANSPORT_SWITCH || is_success(ev))
			VIOL(c, s, "INV-15", ev->ts_ms, "%s%s by %s, which "
			     "does not own the session (%s%s, owner_epoch %"
			     PRIu64 ")", jv_event_type_name(ev->type),
			     is_success(ev) ? "(SUCCESS)" : "", node,
			     s->own_node, s->own_held ? " holds it" :
			     " let it go", s->own_epoch);
		return false;
	}
	if (ev->type == JV_EV_REATTACH_RESULT && is_deny(ev) && not_owner(ev))
		s->c_v2_deny = true;
	if (s->own_known && is_release(s, ev))
		s->own_held = false;
	return true;
}

/* INV-16 at a gateway commit; true if the version was committed before
 * (then the INV-02 report would only repeat it). */
static bool fork_at(struct sim_check *c, struct sim_cstream *s,
		    const char *node, const struct jv_event *ev)
{
	struct sim_ccommit *cm = commit_of(s, ev->state_version);

	if (!cm)
		return false;
	VIOL(c, s, "INV-16", ev->ts_ms, "state_version %" PRIu64 " committed "
	     "twice: here by %s, at %" PRIu64 " by %s", ev->state_version,
	     node, cm->at, cm->node);
	return true;
}

static void remember_commit(struct sim_cstream *s, const char *node,
			    const struct jv_event *ev)
{
	struct sim_ccommit *cm = commit_of(s, ev->state_version);

	if (!cm)
		cm = &s->commit[s->ncommit++ % SIM_CHECK_COMMITS];
	cm->version = ev->state_version;
	cm->at = ev->ts_ms;
	snprintf(cm->node, sizeof cm->node, "%s", node);
	cm->state = ev->new_state;
	cm->bound = s->bound;
	snprintf(cm->binding, sizeof cm->binding, "%s", s->binding);
}

/* ---- LIV-10: flap survival (PD-7) -------------------------------------- */

static int tr_index(const struct sim_check *c, const char *name)
{
	for (unsigned i = 0; name && i < c->ntr; i++)
		if (!strcmp(c->tr[i].name, name))
			return (int)i;
	return -1;
}

static bool is_up(const struct sim_check *c, const char *name)
{
	int i = tr_index(c, name);

	return i >= 0 && c->tr[i].up;
}

/* Damped, as the client last said (TransportDamped, TransportReused). */
static bool damped(const struct sim_check *c, const char *name)
{
	int i = tr_index(c, name);

	return i >= 0 && c->tr[i].damped;
}

static bool any_clean(const struct sim_check *c)
{
	for (unsigned i = 0; i < c->ntr; i++)
		if (c->tr[i].clean)
			return true;
	return false;
}

static bool client_stream(const struct sim_cstream *s)
{
	return s->used && s->side == SIM_CLIENT && s->created &&
	       !s->terminated && !s->abandoned;
}

/* The worst round trip of the transports the client may take. */
static jv_time flap_rtt(const struct sim_check *c)
{
	jv_time rtt = 0;

	for (unsigned i = 0; i < c->ntr; i++)
		if (c->tr[i].clean && c->tr[i].rtt_ms > rtt)
			rtt = c->tr[i].rtt_ms;
	return rtt;
}

/*
 * The time the client has after its binding `dead` went down: detection
 * (HEARTBEAT_VOLATILE_MS after the binding's last answer, which may still
 * have been in flight: its one-way delay toward the client), the cooldown
 * its attempt may have to wait for, one round trip over the slowest clean
 * transport, and 1 (§2.4: limits are strict).
 */
static jv_time flap_bound(const struct sim_check *c,
			  const struct sim_ctransport *dead)
{
	const struct jv_policy *p = &c->pol[SIM_CLIENT];

	return p->heartbeat_volatile_ms + p->switch_cooldown_ms +
	       flap_rtt(c) + dead->down_ms + 1;
}

/* Must the client leave `dead`: another transport is clean and not
 * damped, or clean and the only one? */
static bool flap_alternative(const struct sim_check *c, const char *dead)
{
	unsigned n = 0;
	bool undamped = false;

	for (unsigned i = 0; i < c->ntr; i++) {
		const struct sim_ctransport *t = &c->tr[i];

		if (!t->clean || !strcmp(t->name, dead))
			continue;
		n++;
		undamped |= !t->damped;
	}
	return undamped || n == 1;
}

/* The round trip of the fastest clean alternative, for findings.h. */
static void flap_fastest(const struct sim_check *c, struct sim_cstream *s)
{
	s->flap_alt_rtt = JV_TIME_NEVER;
	for (unsigned i = 0; i < c->ntr; i++)
		if (c->tr[i].clean && strcmp(c->tr[i].name, s->flap_dead) &&
		    c->tr[i].rtt_ms < s->flap_alt_rtt)
			s->flap_alt_rtt = c->tr[i].rtt_ms;
}

static void flap_open(struct sim_check *c, struct sim_cstream *s,
		      const struct sim_ctransport *dead, jv_time now)
{
	if (c->liv10_off || !flap_alternative(c, dead->name))
		return;
	s->flap_open = true;
	s->flap_since = now;
	s->flap_due = now + flap_bound(c, dead);
	snprintf(s->flap_dead, sizeof s->flap_dead, "%s", dead->name);
	flap_fastest(c, s);
}

/*
 * The episode ends once the client is ATTACHED on a transport that is up
 * (perhaps only for the moment of a commit that goes on with a fail-back,
 * T40 then T13: the binding stays until that one commits), or when the
 * binding that died comes back before the client let it go: the death is
 * undone, and what the session makes of its binding's quality then is
 * LIV-04's and LIV-08's business.
 */
static void flap_met(const struct sim_check *c, struct sim_cstream *s)
{
	if (!s->flap_open || !s->bound || !is_up(c, s->binding))
		return;
	if (s->state == JV_STATE_ATTACHED || s->c_rec_to_att ||
	    !strcmp(s->binding, s->flap_dead))
		s->flap_open = false;
}

/*
 * A clean alternative t went down during an episode: the client may be
 * trying it (or pick it before it can tell), and gives it up after OP-8's
 * three unanswered copies, max(250, 2 x srtt) apart, or by its own
 * detection; then the cooldown, one round trip, + 1.
 */
static jv_time flap_bound_alt(const struct sim_check *c,
			      const struct sim_ctransport *t)
{
	const struct jv_policy *p = &c->pol[SIM_CLIENT];
	jv_time copy = 2 * t->rtt_ms > 250 ? 2 * t->rtt_ms : 250;
	jv_time give_up = 3 * copy > p->heartbeat_volatile_ms ?
			  3 * copy : p->heartbeat_volatile_ms;

	return give_up + p->switch_cooldown_ms + flap_rtt(c) + 1;
}

/*
 * Transport t went down.  The client's binding: an episode opens.  A
 * clean alternative during an episode: the client may have been on its
 * way there, so it has the time again from now for the rest.
 */
static void flap_died(struct sim_check *c, struct sim_cstream *s,
		      const struct sim_ctransport *t, bool was_clean,
		      jv_time now)
{
	jv_time due;

	if (!s->flap_open) {
		if (s->bound && !strcmp(s->binding, t->name))
			flap_open(c, s, t, now);
		return;
	}
	if (!was_clean)
		return;
	due = now + flap_bound_alt(c, t);
	if (due > s->flap_due)
		s->flap_due = due;
	flap_fastest(c, s);
}

/*
 * Could the client know by `t` that some transport other than the dead
 * binding is clean?  Only once one has been clean for a standby probe
 * interval and a round trip: before that, nothing it received says so,
 * and giving up is for want of news, not of a switch (D-018).
 */
static bool clean_alternative_seen(const struct sim_check *c,
				   const struct sim_cstream *s, jv_time t)
{
	const struct jv_policy *p = &c->pol[SIM_CLIENT];

	for (unsigned i = 0; i < c->ntr; i++) {
		const struct sim_ctransport *x = &c->tr[i];

		if (x->clean && strcmp(x->name, s->flap_dead) &&
		    t >= x->clean_since + p->standby_probe_interval_ms +
			 x->rtt_ms)
			return true;
	}
	return false;
}

/* DEGRADED (or the transportless TTL) during an episode: the session
 * gave up with a clean transport there. */
static void flap_gave_up(struct sim_check *c, struct sim_cstream *s,
			 enum jv_state next, enum jv_reason why, jv_time t)
{
	if (!s->flap_open || next == s->state ||
	    !(next == JV_STATE_DEGRADED ||
	      (next == JV_STATE_TERMINATED &&
	       why == JV_REASON_TRANSPORT_TTL_EXCEEDED)))
		return;
	/* A VOLATILE episode that began before the binding died and times
	 * out (T24) before a silence could be told from a slow answer is
	 * not a switch wanted and refused; the episode's bound still runs. */
	if (why == JV_REASON_VOLATILE_PERSISTED &&
	    t <= s->flap_since + c->pol[SIM_CLIENT].heartbeat_volatile_ms)
		return;
	/* Nor is the cap refusing a switch the client still takes for
	 * discretionary (T22, PD-7) because the death cannot be told yet
	 * (D-018); the episode's bound still runs.  A cap of 0 pins the
	 * session, forced switches included: that stays a violation. */
	if (why == JV_REASON_SWITCH_RATE_LIMITED &&
	    c->pol[SIM_CLIENT].max_switches_per_min > 0 &&
	    t <= s->flap_since + c->pol[SIM_CLIENT].heartbeat_volatile_ms)
		return;
	/* Nor is giving up before any clean transport could have answered
	 * (chaos seed 8016: p1 back 106 ms before the binding's death, its
	 * round trip 736 ms); the episode's bound still runs. */
	if (!clean_alternative_seen(c, s, t))
		return;
	VIOL_LIV10(c, s, t, "%s[%s] %" PRIu64 " ms after binding %s "
	     "went down, with a clean transport to take (never for want of "
	     "a switch, PD-7)", jv_state_name(next),
	     why == JV_REASON_NONE ? "" : jv_reason_name(why),
	     t - s->flap_since, s->flap_dead);
	s->flap_open = false;
}

/*
 * The client starts an attempt toward t during an episode, t up but not
 * clean (a little loss, an attacker's pending corruption): §6.4 may rank
 * it first (its measured loss may be 0, its round trip the shortest), and
 * what it loses OP-8 retransmits.  As for a clean alternative that goes
 * down (flap_died): the client has from now until it gives t up, and
 * then the rest (D-018).
 */
static void flap_tries(struct sim_check *c, struct sim_cstream *s,
		       const char *cand, jv_time now)
{
	int i = tr_index(c, cand);
	jv_time due;

	if (!s->flap_open || i < 0 || !c->tr[i].up || c->tr[i].clean)
		return;
	due = now + flap_bound_alt(c, &c->tr[i]);
	if (due > s->flap_due)
		s->flap_due = due;
}

/* The client's stream of session sid, if the checker has one. */
static struct sim_cstream *client_of(struct sim_check *c, const char *sid)
{
	for (int i = 0; i < SIM_CHECK_STREAMS; i++)
		if (c->s[i].used && c->s[i].side == SIM_CLIENT &&
		    !strcmp(c->s[i].sid, sid))
			return &c->s[i];
	return NULL;
}

void sim_check_transport(struct sim_check *c, const char *name, bool up,
			 bool clean, jv_time rtt_ms, jv_time down_ms,
			 jv_time now)
{
	int i = tr_index(c, name);
	struct sim_ctransport *t;
	bool died, revived, was_clean;

	if (i < 0) {
		if (c->ntr == SIM_CHECK_TRANSPORTS)
			return;
		i = (int)c->ntr++;
		memset(&c->tr[i], 0, sizeof c->tr[i]);
		snprintf(c->tr[i].name, sizeof c->tr[i].name, "%s", name);
		c->tr[i].up = up;
	}
	t = &c->tr[i];
	died = t->up && !up;
	revived = !t->up && up;
	was_clean = t->clean;
	t->up = up;
	t->clean = up && clean;
	if (t->clean && !was_clean)
		t->clean_since = now;
	t->rtt_ms = rtt_ms;
	t->down_ms = down_ms;
	for (int k = 0; k < SIM_CHECK_STREAMS; k++) {
		struct sim_cstream *s = &c->s[k];

		if (!client_stream(s))
			continue;
		if (died)
			flap_died(c, s, t, was_clean, now);
		else if (revived)
			flap_met(c, s);
		/* nothing clean left: LIV-10 asks nothing more of it */
		if (s->flap_open && !any_clean(c))
			s->flap_open = false;
	}
}

void sim_check_gateway_fault(struct sim_check *c)
{
	c->liv10_off = true;
	for (int k = 0; k < SIM_CHECK_STREAMS; k++)
		c->s[k].flap_open = false;
}

static void damping(struct sim_check *c, const struct jv_event *ev)
{
	int i = tr_index(c, JV_EV_HAS(ev, transport_id) ? ev->transport_id
							 : NULL);

	if (i >= 0) {
		c->tr[i].damped = ev->type == JV_EV_TRANSPORT_DAMPED;
		c->tr[i].damped_at = ev->ts_ms;
	}
}

static void state_change(struct sim_check *c, struct sim_cstream *s,
			 const char *node, const struct jv_event *ev)
{
	const struct jv_policy *pol = &c->pol[s->side];
	enum jv_state prev = ev->previous_state, next = ev->new_state;
	enum jv_reason why = JV_EV_HAS(ev, reason_code) ? ev->reason_code
							 : JV_REASON_NONE;
	jv_time t = ev->ts_ms;
	bool forked = node && fork_at(c, s, node, ev);

	if (ev->state_version != s->k + 1 && !forked)
		VIOL(c, s, "INV-02", t, "SessionStateChange %s->%s carries "
		     "state_version %" PRIu64 ", expected %" PRIu64,
		     jv_state_name(prev), jv_state_name(next),
		     ev->state_version, s->k + 1);
	s->k = ev->state_version > s->k ? ev->state_version : s->k + 1;
	if (!JV_EV_HAS(ev, previous_state) || !JV_EV_HAS(ev, new_state)) {
		VIOL(c, s, "INV-03", t, "SessionStateChange without "
		     "previous_state/new_state");
		return;
	}
	if (prev != s->state && !s->unsure_state)
		VIOL(c, s, "INV-03", t, "previous_state %s but the stream "
		     "was in %s", jv_state_name(prev),
		     jv_state_name(s->state));
	s->unsure_state = false;
	if (!jv_fsm_transition_legal(prev, next, why))
		VIOL(c, s, "INV-03", t, "%s->%s[%s] matches no row of §2.3",
		     jv_state_name(prev), jv_state_name(next),
		     why == JV_REASON_NONE ? "" : jv_reason_name(why));
	if (s->terminated)
		VIOL(c, s, "INV-04", t, "SessionStateChange after TERMINATED");

	/* Episodes for the time bounds (T20 does not restart VOLATILE). */
	if (next == JV_STATE_VOLATILE && s->state != JV_STATE_VOLATILE) {
		s->in_volatile = true;
		s->volatile_since = t;
		s->liv_reported[3] = false;
	} else if (next != JV_STATE_VOLATILE) {
		s->in_volatile = false;
	}
	if (next == JV_STATE_RECOVERING) {
		if (s->state != JV_STATE_RECOVERING) {
			s->in_recovering = true;
			s->recovering_since = t;
			s->liv_reported[2] = false;
			s->planned = why == JV_REASON_FAILBACK ||
				     why == JV_REASON_OPERATOR_MIGRATION;
		}
		if (!JV_EV_HAS(ev, candidate_transport) ||
		    !ev->candidate_transport) {
			if (s->state != JV_STATE_RECOVERING)
				VIOL(c, s, "INV-12", t, "entry into "
				     "RECOVERING without candidate_transport");
		} else if (s->state != JV_STATE_RECOVERING &&
			   !(JV_EV_HAS(ev, from_transport) &&
			     str_eq(ev->from_transport,
				    ev->candidate_transport))) {
			if (JV_EV_HAS(ev, candidate_set_size) &&
			    ev->candidate_set_size < pol->candidate_min_count &&
			    s->side == SIM_CLIENT)
				VIOL(c, s, "INV-12", t, "switch attempt with "
				     "candidate_set_size %" PRIu64 " < %u",
				     ev->candidate_set_size,
				     pol->candidate_min_count);
			if (s->side == SIM_CLIENT && discretionary(ev) &&
			    damped(c, ev->candidate_transport))
				VIOL(c, s, "PD-7", t, "discretionary attempt "
				     "toward %s, which is damped",
				     ev->candidate_transport);
			if (capped(pol, ev) &&
			    switches_within(s, t) >= pol->max_switches_per_min)
				VIOL(c, s, "INV-12", t, "discretionary switch "
				     "attempt with %u discretionary switches "
				     "in the last 60 s (max %u)",
				     switches_within(s, t),
				     pol->max_switches_per_min);
		}
	} else if (s->state == JV_STATE_RECOVERING) {
		s->in_recovering = false;
		s->c_rec_exit = true;
		if (next == JV_STATE_ATTACHED) {
			s->c_rec_to_att = true;
			s->c_rec_to_att_version = ev->state_version;
		}
	}
	if (prev == JV_STATE_BIRTH && next == JV_STATE_ATTACHED)
		s->c_birth_att = true;
	/* X3: the security failure over MAX_SECURITY_FAILURES ends the
	 * session in the commit that reports it (not a denial mutating). */
	if (next == JV_STATE_TERMINATED && why == JV_REASON_SECURITY_FAILURE)
		s->c_x3 = true;
	if (next == JV_STATE_TERMINATED) {
		/* INV-14 is judged on SessionTerminated, which says whether
		 * the peer ordered it (details.origin); remember the binding
		 * as it was before the transition cleared it. */
		s->terminated = true;
		s->c_to_terminated = true;
		s->term_bound = s->bound;
		s->term_null_since = s->null_since;
		set_binding(s, NULL, t);
	}
	if (s->side == SIM_CLIENT)
		flap_gave_up(c, s, next, why, t);
	s->state = next;
	s->c_mutation |= s->c_deny;	/* after a denial */
	if (node)
		remember_commit(s, node, ev);
}

void sim_check_event(struct sim_check *c, enum sim_side side,
		     const char *session_id, const struct jv_event *ev)
{
	sim_check_event_node(c, side, NULL, session_id, ev);
}

void sim_check_event_node(struct sim_check *c, enum sim_side side,
			  const char *node, const char *session_id,
			  const struct jv_event *ev)
{
	struct sim_cstream *s = stream(c, side, session_id);
	const struct jv_policy *pol = &c->pol[side];
	jv_time t = ev->ts_ms;
	char why[160];

	c->events++;
	if (!s) {
		sim_check_report(c, "INV-01", side, t, "more than %d sessions "
				 "in one run: not checked",
				 SIM_CHECK_STREAMS);
		return;
	}
	if (s->abandoned) {
		s->c_touched = true;
		return;
	}
	if (jv_event_check(ev, why, sizeof why))
		VIOL(c, s, "INV-13", t, "%s: %s",
		     jv_event_type_name(ev->type), why);
	else if (needs_reason(ev) && !JV_EV_HAS(ev, reason_code))
		VIOL(c, s, "INV-13", t, "%s without reason_code",
		     jv_event_type_name(ev->type));
	if (side != SIM_GATEWAY)
		node = NULL;
	if (node && s->created && !owned(c, s, node, ev))
		return;
	s->c_touched = true;

	/* §5: from here the side's bounds are the update's (D-026) */
	if (ev->type == JV_EV_POLICY_UPDATE && JV_EV_HAS(ev, status) &&
	    !strcmp(ev->status, "APPLIED") && JV_EV_HAS(ev, policy) &&
	    ev->policy) {
		c->pol[side] = *ev->policy;
		c->pol_updated[side] = true;
		c->pol_since[side] = t;
		return;
	}

	if (ev->type == JV_EV_SESSION_CREATED) {
		if (s->created)
			VIOL(c, s, "INV-01", t, "second SessionCreated");
		else if (ev->state_version != 0 ||
			 (JV_EV_HAS(ev, state) && ev->state != JV_STATE_BIRTH))
			VIOL(c, s, "INV-01", t, "SessionCreated not in BIRTH "
			     "at version 0");
		s->created = true;
		s->created_ts = t;
		s->null_since = t;
		return;
	}
	if (!s->created) {
		VIOL(c, s, "INV-01", t, "%s before SessionCreated",
		     jv_event_type_name(ev->type));
		s->created = true;	/* report once */
		s->created_ts = t;
		s->null_since = t;
	}
	if (ev->type == JV_EV_SESSION_STATE_CHANGE) {
		state_change(c, s, node, ev);
		return;
	}
	if (ev->state_version != s->k)
		VIOL(c, s, "INV-02", t, "%s carries state_version %" PRIu64
		     ", the stream is at %" PRIu64,
		     jv_event_type_name(ev->type), ev->state_version, s->k);
	if (is_deny(ev))
		s->c_deny = true;

	switch (ev->type) {
	case JV_EV_TRANSPORT_ATTACHED:
		if (s->terminated)
			VIOL(c, s, "INV-04", t, "TransportAttached after "
			     "TERMINATED");
		if (s->bound && !s->unsure_binding)
			VIOL(c, s, "INV-05", t, "TransportAttached %s while "
			     "bound to %s", ev->transport_id ?
			     ev->transport_id : "null", s->binding);
		s->unsure_binding = false;
		set_binding(s, ev->transport_id, t);
		s->c_attached_ev = true;
		s->c_mutation |= s->c_deny;	/* after a denial */
		break;
	case JV_EV_TRANSPORT_SWITCH: {
		const char *prevt = JV_EV_HAS(ev, previous_transport) ?
				    ev->previous_transport : NULL;

		if (s->terminated)
			VIOL(c, s, "INV-04", t, "TransportSwitch after "
			     "TERMINATED");
		if ((s->bound ? !str_eq(prevt, s->binding) : prevt != NULL) &&
		    !s->unsure_binding)
			VIOL(c, s, "INV-05", t, "TransportSwitch from %s but "
			     "the binding is %s", prevt ? prevt : "null",
			     s->bound ? s->binding : "null");
		s->unsure_binding = false;
		if (side == SIM_CLIENT && discretionary(ev) &&
		    JV_EV_HAS(ev, new_transport) &&
		    damped(c, ev->new_transport)) {
			int k = tr_index(c, ev->new_transport);
			/* the commit ends the RECOVERING episode that began
			 * at recovering_since */
			bool late = c->tr[k].damped_at >= s->recovering_since;

			VIOL(c, s, "PD-7", t, "discretionary switch to %s, "
			     "which is damped%s", ev->new_transport, late ?
			     " (since its attempt began)" : "");
		}
		if (capped(pol, ev)) {
			s->sw[s->nsw % JV_SWITCH_HISTORY_MAX] = t;
			s->nsw++;
			if (switches_within(s, t) > pol->max_switches_per_min)
				VIOL(c, s, "INV-08", t, "%u discretionary "
				     "TransportSwitch in the 60 s ending here "
				     "(max %u)", switches_within(s, t),
				     pol->max_switches_per_min);
		}
		set_binding(s, JV_EV_HAS(ev, new_transport) ?
			    ev->new_transport : NULL, t);
		s->c_switch = true;
		s->c_mutation |= s->c_deny;	/* after a denial */
		break;
	}
	case JV_EV_TRANSPORT_DEAD:
		if ((!s->bound || !str_eq(ev->transport_id, s->binding)) &&
		    !s->unsure_binding)
			VIOL(c, s, "INV-05", t, "TransportDead %s but the "
			     "binding is %s", ev->transport_id ?
			     ev->transport_id : "null",
			     s->bound ? s->binding : "null");
		s->unsure_binding = false;
		set_binding(s, NULL, t);
		s->c_mutation |= s->c_deny;	/* after a denial */
		break;
	case JV_EV_REATTACH_ATTEMPT:
		if (side != SIM_CLIENT)
			break;
		if (s->have_attempt &&
		    t - s->last_attempt < pol->switch_cooldown_ms)
			VIOL(c, s, "INV-09", t, "ReattachAttempt %" PRIu64
			     " ms after the previous one (cooldown %" PRIu64
			     ")%s", t - s->last_attempt,
			     pol->switch_cooldown_ms, s->planned ?
			     ", in a planned switch's episode" : "");
		s->have_attempt = true;
		s->last_attempt = t;
		flap_tries(c, s, JV_EV_HAS(ev, candidate_transport) ?
				 ev->candidate_transport : NULL, t);
		break;
	case JV_EV_REATTACH_RESULT:
		if (is_success(ev)) {
			if (s->terminated)
				VIOL(c, s, "INV-04", t, "ReattachResult("
				     "SUCCESS) after TERMINATED");
			s->c_success = true;
			s->c_outcome = true;
			s->c_success_version = ev->state_version;
			s->c_success_ts = t;
			if (JV_EV_HAS(ev, nonce)) {
				for (unsigned i = 0; i < s->nreplayed &&
				     i < SIM_CHECK_NONCES; i++)
					if (s->replayed[i] == ev->nonce)
						VIOL(c, s, "LIV-09", t,
						     "SUCCESS for nonce %"
						     PRIu64 " after a replay "
						     "of it", ev->nonce);
				if (side == SIM_GATEWAY && s->have_nonce &&
				    ev->nonce <= s->last_nonce)
					VIOL(c, s, "INV-11", t, "SUCCESS nonce "
					     "%" PRIu64 " not above %" PRIu64,
					     ev->nonce, s->last_nonce);
				s->have_nonce = true;
				s->last_nonce = ev->nonce;
			}
		} else if (JV_EV_HAS(ev, reason_code) &&
			   ev->reason_code == JV_REASON_REPLAY_DETECTED &&
			   JV_EV_HAS(ev, nonce)) {
			s->replayed[s->nreplayed++ % SIM_CHECK_NONCES] =
				ev->nonce;
		} else if (side == SIM_GATEWAY &&
			   JV_EV_HAS(ev, reason_code) &&
			   ev->reason_code == JV_REASON_STALE_STATE_VERSION) {
			/* The gateway moved on its own (its detection of
			 * the same death, T10/T20) while the request was
			 * under way: OP-4 accepts one DENY + retry round
			 * trip for it, V7 wanting the exact version.
			 * Granted when the gateway denies, not when the
			 * DENY reaches the client: by then the bound may
			 * have run out with the DENY in flight (D-018). */
			struct sim_cstream *cl = client_of(c, s->sid);

			if (cl && cl->flap_open)
				cl->flap_due += flap_rtt(c);
		}
		break;
	case JV_EV_TRANSPORT_SWITCH_DENIED:
	case JV_EV_TRANSPORT_SWITCH_FAILED:
		s->c_outcome = true;
		break;
	case JV_EV_TRANSPORT_DAMPED:
	case JV_EV_TRANSPORT_REUSED:
		if (side == SIM_CLIENT)
			damping(c, ev);
		break;
	case JV_EV_SESSION_TERMINATED: {
		bool peer = JV_EV_HAS(ev, origin) && str_eq(ev->origin, "peer");
		enum jv_reason code = JV_EV_HAS(ev, reason_code) ?
				     ev->reason_code : JV_REASON_NONE;

		s->c_terminated_events++;
		s->c_outcome = true;
		if (++s->nterminated > 1)
			VIOL(c, s, "INV-04", t, "second SessionTerminated");
		if (!s->terminated)
			VIOL(c, s, "INV-04", t, "SessionTerminated without a "
			     "transition into TERMINATED");
		if (peer)
			break;	/* checked on the peer's stream */
		if (code == JV_REASON_SESSION_LIFETIME_EXCEEDED &&
		    !(t - s->created_ts > pol->max_lifetime_ms))
			VIOL(c, s, "INV-14", t, "session_lifetime_exceeded at "
			     "age %" PRIu64 " <= %" PRIu64, t - s->created_ts,
			     pol->max_lifetime_ms);
		if (code == JV_REASON_TRANSPORT_TTL_EXCEEDED &&
		    (s->term_bound || !(t - s->term_null_since >
					pol->transport_lost_ttl_ms)))
			VIOL(c, s, "INV-14", t, "transport_ttl_exceeded while "
			     "%s", s->term_bound ? "bound" :
			     "transportless for less than the TTL");
		break;
	}
	default:
		break;
	}
}

static void commit_stream(struct sim_check *c, struct sim_cstream *s,
			  jv_time now)
{
	if (s->abandoned)
		goto out;
	if (s->c_rec_to_att &&
	    (!s->c_success || s->c_success_version != s->c_rec_to_att_version))
		VIOL(c, s, "INV-07", now, "RECOVERING->ATTACHED without "
		     "ReattachResult(SUCCESS) at version %" PRIu64
		     " in the same commit", s->c_rec_to_att_version);
	if (s->c_switch && !s->c_rec_to_att)
		VIOL(c, s, "INV-07", now, "TransportSwitch outside a "
		     "RECOVERING->ATTACHED commit");
	if (s->c_birth_att && !s->c_attached_ev)
		VIOL(c, s, "INV-07", now, "BIRTH->ATTACHED without "
		     "TransportAttached");
	/* INV-10: the version right after the denial is the one right
	 * before it.  A transition earlier in the same input is an earlier
	 * rule of §2.4 (transport_dead, step 8, precedes the request, step
	 * 9: chaos seed 9763), not the denial's. */
	if (s->side == SIM_GATEWAY && s->c_deny && s->c_mutation && !s->c_x3)
		VIOL(c, s, "INV-10", now, "a denial shares a commit with a "
		     "state or binding change");
	if (s->c_to_terminated && s->c_terminated_events != 1)
		VIOL(c, s, "INV-04", now, "entry into TERMINATED with %u "
		     "SessionTerminated in its commit",
		     s->c_terminated_events);
	if (s->side == SIM_CLIENT && s->c_rec_exit && !s->c_outcome)
		VIOL(c, s, "LIV-05", now, "RECOVERING left without SUCCESS, "
		     "TransportSwitchDenied, TransportSwitchFailed or "
		     "SessionTerminated");
	if (s->created && s->state == JV_STATE_ATTACHED && !s->bound &&
	    !s->unsure_binding && !s->unsure_state)
		VIOL(c, s, "INV-06", now, "ATTACHED without a binding");
	if ((s->state == JV_STATE_BIRTH || s->state == JV_STATE_TERMINATED) &&
	    s->bound)
		VIOL(c, s, "INV-06", now, "%s with binding %s",
		     jv_state_name(s->state), s->binding);
	if (client_stream(s)) {
		int i = tr_index(c, s->binding);

		flap_met(c, s);
		/* Bound in this commit to a transport that went down
		 * meanwhile (its ACK was in flight): as if it died now. */
		if (!s->flap_open && (s->c_switch || s->c_attached_ev) &&
		    s->bound && i >= 0 && !c->tr[i].up)
			flap_open(c, s, &c->tr[i], now);
	}
out:
	s->c_touched = s->c_rec_to_att = s->c_success = s->c_switch = false;
	s->c_birth_att = s->c_attached_ev = s->c_deny = s->c_mutation = false;
	s->c_to_terminated = s->c_rec_exit = s->c_outcome = false;
	s->c_v2_deny = s->c_x3 = false;
	s->c_terminated_events = 0;
}

void sim_check_commit(struct sim_check *c, enum sim_side side, jv_time now)
{
	for (int i = 0; i < SIM_CHECK_STREAMS; i++) {
		struct sim_cstream *s = &c->s[i];

		if (s->used && s->side == side && s->c_touched)
			commit_stream(c, s, now);
	}
}

/*
 * When a bound B started at t is due: "by t + B" is at or before
 * t + B + 1 (§3.2, ε = 0); on a gateway stream whose owner changed since
 * t, not before the acquisition, at which the new owner fires every
 * overdue timer.
 */
static jv_time due(const struct sim_check *c, const struct sim_cstream *s,
		   jv_time t, jv_time b)
{
	jv_time d = t + b + 1;

	if (s->own_known && s->own_change_ts > t && s->own_change_ts > d)
		d = s->own_change_ts;
	/* a bound a policy update put in the past fires at the update */
	if (c->pol_updated[s->side] && c->pol_since[s->side] > d)
		d = c->pol_since[s->side];
	return d;
}

void sim_check_time(struct sim_check *c, jv_time now)
{
	for (int i = 0; i < SIM_CHECK_STREAMS; i++) {
		struct sim_cstream *s = &c->s[i];
		const struct jv_policy *pol;

		if (!s->used || !s->created || s->terminated || s->abandoned ||
		    c->held[s->side])
			continue;
		/* No node holds it: nobody can fire its timers (a dead or
		 * fenced owner, no taker yet). */
		if (s->own_known && !s->own_held)
			continue;
		pol = &c->pol[s->side];
		if (!s->liv_reported[0] &&
		    now > due(c, s, s->created_ts, pol->max_lifetime_ms)) {
			s->liv_reported[0] = true;
			VIOL(c, s, "LIV-01", now, "not terminated %" PRIu64
			     " ms after creation", now - s->created_ts);
		}
		if (!s->bound && !s->liv_reported[1] && !s->unsure_binding &&
		    now > due(c, s, s->null_since,
			      pol->transport_lost_ttl_ms)) {
			s->liv_reported[1] = true;
			VIOL(c, s, "LIV-02", now, "transportless since %" PRIu64
			     " and neither bound nor terminated%s",
			     s->null_since, s->state == JV_STATE_BIRTH ?
			     " (still in BIRTH)" : "");
		}
		if (s->in_recovering && !s->liv_reported[2] &&
		    now > due(c, s, s->recovering_since,
			      pol->recovery_window_ms)) {
			s->liv_reported[2] = true;
			VIOL(c, s, "LIV-03", now, "RECOVERING since %" PRIu64,
			     s->recovering_since);
		}
		if (s->in_volatile && !s->liv_reported[3] &&
		    now > due(c, s, s->volatile_since,
			      pol->volatile_to_degraded_ms)) {
			s->liv_reported[3] = true;
			VIOL(c, s, "LIV-04", now, "VOLATILE since %" PRIu64,
			     s->volatile_since);
		}
		if (s->flap_open && now > s->flap_due) {
			s->flap_open = false;
			VIOL_LIV10(c, s, now, "binding %s went down at %"
			     PRIu64 " with a clean transport to take; not "
			     "ATTACHED on one that is up by %" PRIu64,
			     s->flap_dead, s->flap_since, s->flap_due);
		}
	}
}

void sim_check_hold(struct sim_check *c, enum sim_side side, bool held)
{
	c->held[side] = held;
}

void sim_check_node_down(struct sim_check *c, const char *node_id)
{
	for (int i = 0; i < SIM_CHECK_STREAMS; i++) {
		struct sim_cstream *s = &c->s[i];

		if (s->used && s->side == SIM_GATEWAY && s->own_known &&
		    !strcmp(s->own_node, node_id))
			s->own_held = false;
	}
}

void sim_check_abandon(struct sim_check *c, enum sim_side side)
{
	for (int i = 0; i < SIM_CHECK_STREAMS; i++)
		if (c->s[i].used && c->s[i].side == side)
			c->s[i].abandoned = true;
	/* A new client engine has damped nothing yet. */
	for (unsigned i = 0; side == SIM_CLIENT && i < c->ntr; i++)
		c->tr[i].damped = false;
}

void sim_check_engine(struct sim_check *c, enum sim_side side,
		      const char *session_id, enum jv_state state,
		      uint64_t version, jv_time now)
{
	for (int i = 0; i < SIM_CHECK_STREAMS; i++) {
		struct sim_cstream *s = &c->s[i];

		if (!s->used || s->side != side || s->abandoned ||
		    strcmp(s->sid, session_id ? session_id : ""))
			continue;
		if (s->state != state || s->k != version)
			VIOL(c, s, "INV-02", now, "events say %s v%" PRIu64
			     ", the engine says %s v%" PRIu64,
			     jv_state_name(s->state), s->k,
			     jv_state_name(state), version);
	}
}

void sim_check_print(const struct sim_check *c, FILE *out,
		     const char *indent)
{
	for (unsigned i = 0; i < c->nkept; i++) {
		const struct sim_violation *v = &c->kept[i];

		fprintf(out, "%s%s %s @%" PRIu64 ": %s\n", indent, v->id,
			sim_side_name(v->side), v->at, v->msg);
	}
	if (c->total > c->nkept)
		fprintf(out, "%s(%" PRIu64 " more violations)\n", indent,
			c->total - c->nkept);
}
