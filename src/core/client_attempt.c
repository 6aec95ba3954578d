/* SPDX-License-Identifier: MIT */
/*
 * The requester's decisions: the evaluation loop of spec §2.4 (terminal
 * timers, transport death, the attempt, recovery and volatile timeouts,
 * detection, switch evaluation), §6.4 selection and gates, and the
 * reattach attempt of §7 with its retransmissions (OP-8) and answers.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client_impl.h"

static const char *path_id(const struct jv_session *s, int i)
{
	return i >= 0 ? s->paths[i].id : NULL;
}

/* ---- events of the requester ------------------------------------------ */

static void emit_switch_denied(struct jv_session *s, enum jv_reason r,
			       const char *cand, unsigned set_size,
			       jv_time now, bool bounded)
{
	struct jv_event ev;
	uint32_t suppressed = 0;

	/* §6.5: at most once per distinct reason per SWITCH_COOLDOWN_MS. */
	if (bounded && jv_log_limiter_check(&s->denylog, r, now, &suppressed) != 1)
		return;
	jv_ev_init(&ev, JV_EV_TRANSPORT_SWITCH_DENIED);
	JV_EV_SET(&ev, reason_code, r);
	JV_EV_SET(&ev, candidate_transport, cand);
	JV_EV_SET(&ev, candidate_count, set_size);
	JV_EV_SET(&ev, switch_count_window, jv_switch_count(&s->limiter, now));
	if (suppressed)
		JV_EV_SET(&ev, suppressed_count, suppressed);
	jv_sess_emit(s, &ev, now);
}

static void emit_policy_limit(struct jv_session *s, const char *name,
			      double threshold, double observed,
			      enum jv_reason r, jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_POLICY_LIMIT_TRIGGERED);
	JV_EV_SET(&ev, reason_code, r);
	JV_EV_SET(&ev, policy_name, name);
	JV_EV_SET(&ev, threshold_value, threshold);
	JV_EV_SET(&ev, observed_value, observed);
	jv_sess_emit(s, &ev, now);
}

static void emit_switch_failed(struct jv_session *s, enum jv_reason r,
			       const char *cand, jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_TRANSPORT_SWITCH_FAILED);
	JV_EV_SET(&ev, reason_code, r);
	JV_EV_SET(&ev, candidate_transport, cand);
	JV_EV_SET(&ev, attempts, s->att.ordinal);
	jv_sess_emit(s, &ev, now);
}

static void emit_result(struct jv_session *s, bool ok, enum jv_reason r,
			const char *cand, uint64_t nonce, bool retryable,
			jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_REATTACH_RESULT);
	JV_EV_SET(&ev, status, ok ? "SUCCESS" : "DENIED");
	JV_EV_SET(&ev, reason_code, r);
	JV_EV_SET(&ev, candidate_transport, cand);
	JV_EV_SET(&ev, nonce, nonce);
	JV_EV_SET(&ev, retryable, retryable);
	jv_sess_emit(s, &ev, now);
}

/* ---- flap damping (PD-7) ---------------------------------------------- */

static void emit_damping(struct jv_session *s, enum jv_event_type t,
			 const struct jv_path *p, jv_time now)
{
	struct jv_event ev;
	double pen = jv_flap_penalty(&p->flap, &s->policy, now);

	jv_ev_init(&ev, t);
	JV_EV_SET(&ev, transport_id, p->id);
	JV_EV_SET(&ev, flap_penalty, (uint64_t)(pen + 0.5));
	jv_sess_emit(s, &ev, now);
}

/* Path i flapped: it died as the binding or failed an attempt.  One
 * flap per fall: further failures before it answers again (an attempt
 * retried on a path that stays unreachable) are the same fall, as a
 * route is withdrawn once however long it stays down (RFC 2439). */
static void flapped(struct jv_session *s, int i, jv_time now)
{
	struct jv_path *p = &s->paths[i];

	if (p->flap_fallen)
		return;
	p->flap_fallen = true;
	if (jv_flap_charge(&p->flap, &s->policy, now))
		emit_damping(s, JV_EV_TRANSPORT_DAMPED, p, now);
}

void jv_cl_release_damped(struct jv_session *s, jv_time now)
{
	for (unsigned i = 0; i < s->npaths; i++)
		if (s->paths[i].used &&
		    jv_flap_release(&s->paths[i].flap, &s->policy, now))
			emit_damping(s, JV_EV_TRANSPORT_REUSED, &s->paths[i],
				     now);
}

/* PD-6: path i is down, hard-failed, silent or in a run of drops. */
static bool path_lost(const struct jv_session *s, int i, jv_time now)
{
	const struct jv_path *p = &s->paths[i];

	return p->down || jv_health_hard_failed(&p->health) ||
	       jv_health_is_silent(&p->health, &s->policy, now) ||
	       p->health.consecutive_drops >= s->policy.max_consecutive_drops;
}

/* PD-7: the binding is gone or lost, so moving off it now is forced. */
static bool binding_lost(const struct jv_session *s, jv_time now)
{
	return s->bound < 0 || path_lost(s, s->bound, now);
}

static const char *class_name(bool forced)
{
	return forced ? "forced" : "discretionary";
}

/* ---- the reattach attempt (RECOVERING) -------------------------------- */

/*
 * §7.5: the validator refuses for good a nonce above H + MAX_NONCE_GAP,
 * and nonces only grow, so a requester that spent more than MAX_NONCE_GAP
 * of them unanswered (a long silence: every copy of every attempt takes a
 * fresh one) could never reattach again.  H is at least the highest nonce
 * the validator answered, so nonces up to that + MAX_NONCE_GAP are always
 * acceptable.  The first half of them is spent freely; the second half
 * only on a path that answers (not silent, §6.2), so a silence holds the
 * copies (they would be lost anyway) and leaves nonces for when the path
 * is back; the last one is never passed.  p NULL: the path has just
 * answered (a PATH_CHALLENGE came over it).
 */
bool jv_cl_nonce_available(const struct jv_session *s,
			    const struct jv_path *p, jv_time now)
{
	uint64_t gap = s->policy.max_nonce_gap;

	if (s->next_nonce >= s->nonce_answered + gap)
		return false;
	if (s->next_nonce < s->nonce_answered + gap / 2 || !p)
		return true;
	return !jv_health_is_silent(&p->health, &s->policy, now);
}

/* An authenticated ACK or DENY for nonce n: the validator consumed it
 * (V6 passed) unless it refused it as stale. */
static void nonce_answered(struct jv_session *s, uint64_t n,
			   enum jv_reason why)
{
	if (why != JV_REASON_STALE_REQUEST && n <= s->next_nonce &&
	    n > s->nonce_answered)
		s->nonce_answered = n;
}

static void send_request(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_path *p = &s->paths[s->att.cand];
	struct jv_ctrl m = { .type = JV_CTRL_REATTACH_REQUEST };
	struct jv_ctrl_reattach_request *r = &m.request;
	struct jv_health_snapshot h;
	jv_time retx;

	/* OP-8: retransmit after max(250, 2 x srtt). */
	jv_health_snapshot(&p->health, &s->policy, now, &h);
	retx = h.rtt_measured ? (jv_time)(2 * h.srtt_ms + 0.5) : 0;
	if (retx < JV_ATTEMPT_RETX_MIN_MS)
		retx = JV_ATTEMPT_RETX_MIN_MS;
	s->att.next_tx_ms = now + retx;
	s->att.copies++;
	if (!jv_cl_nonce_available(s, p, now))
		return;		/* held: counts as a lost copy */

	/* §7.5: every copy carries a fresh, strictly increasing nonce. */
	uint64_t nonce = ++s->next_nonce;
	unsigned slot = s->att.nnonces;
	if (slot < sizeof s->att.nonces / sizeof s->att.nonces[0])
		s->att.nnonces++;
	else
		slot--;
	s->att.nonces[slot] = nonce;
	memcpy(r->session_id, s->id, sizeof r->session_id);
	r->nonce = nonce;
	r->protocol_version = JV_PROTOCOL_VERSION;
	r->ts_ms = now;
	r->state_version = s->ack_state_version;
	r->trigger_reason = s->att.trigger;
	r->recovery_reason = s->att.recovery;
	/* a discretionary attempt whose binding is lost meanwhile is forced
	 * from then on (PD-7) */
	s->att.forced |= binding_lost(s, now);
	r->trigger_class = s->att.forced ? JV_CLASS_FORCED : JV_CLASS_DISCRETIONARY;
	/* the validator classes its commit by the copy it commits; so does
	 * the requester, so that both count the same switches (F12) */
	if (s->att.forced)
		s->att.forced_copies |= 1u << slot;
	else
		s->att.forced_copies &= ~(1u << slot);
	memcpy(r->candidate.transport_id, p->id, sizeof p->id);
	r->candidate.proto = (uint8_t)p->proto;
	memcpy(r->candidate.remote_ip, p->remote.ip, sizeof p->remote.ip);
	r->candidate.remote_port = p->remote.port;
	memcpy(r->path_token, p->token, sizeof r->path_token);
	jv_cl_send_ctrl(s, s->att.cand, &m, out);
}

bool jv_cl_sent_over(const struct jv_session *s, uint64_t nonce, int path)
{
	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand != path)
		return false;
	for (unsigned i = 0; i < s->att.nnonces; i++)
		if (s->att.nonces[i] == nonce)
			return true;
	return false;
}

static void attempt_begin(struct jv_client *c, int cand, enum jv_reason why,
			  unsigned set_size, bool forced, jv_time now,
			  struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_event ev;

	s->att.cand = cand;
	s->att.forced = forced;
	s->att.ordinal++;
	s->att.copies = 0;
	s->att.deferred = false;
	s->att.nnonces = 0;
	s->att.forced_copies = 0;
	s->att.start_ms = now;
	s->att.recovery = why;
	s->att.trigger = s->volatile_reason;
	s->att.set_size = set_size;
	jv_switch_record_attempt(&s->limiter, now);

	jv_ev_init(&ev, JV_EV_REATTACH_ATTEMPT);
	JV_EV_SET(&ev, candidate_transport, s->paths[cand].id);
	JV_EV_SET(&ev, recovery_deadline_ms, s->recovery_deadline_ms);
	JV_EV_SET(&ev, nonce, s->next_nonce + 1);
	JV_EV_SET(&ev, attempt, s->att.ordinal);
	jv_sess_emit(s, &ev, now);
	send_request(c, now, out);
}

/* Fill selection inputs from the live paths; map[i] = path index. */
static size_t gather(struct jv_client *c, jv_time now,
		     struct jv_select_binding *b, bool *have_b,
		     struct jv_candidate *cand, int *map)
{
	struct jv_session *s = &c->s;
	size_t n = 0;

	*have_b = false;
	for (unsigned i = 0; i < s->npaths; i++) {
		struct jv_path *p = &s->paths[i];

		if (!p->used)
			continue;
		if ((int)i == s->bound) {
			memset(b, 0, sizeof *b);
			memcpy(b->id, p->id, sizeof p->id);
			jv_health_snapshot(&p->health, &s->policy, now, &b->h);
			*have_b = true;
			continue;
		}
		memset(&cand[n], 0, sizeof cand[n]);
		memcpy(cand[n].id, p->id, sizeof p->id);
		cand[n].proto = p->proto;
		cand[n].last_probe_ok_ms = p->last_probe_ok_ms;
		cand[n].excluded_until_ms = p->excluded_until_ms;
		cand[n].needs_restabilize = p->needs_restabilize;
		cand[n].damped = p->flap.damped;
		cand[n].flap_penalty = jv_flap_penalty(&p->flap, &s->policy, now);
		jv_health_snapshot(&p->health, &s->policy, now, &cand[n].h);
		map[n++] = (int)i;
	}
	return n;
}

/* What §6.4 decides now: the candidates as gathered (index i of cand is
 * path map[i]) and the result. */
struct selection {
	struct jv_candidate cand[JV_MAX_TRANSPORTS];
	int map[JV_MAX_TRANSPORTS];
	size_t n;
	bool have_b;
	struct jv_select_result r;
};

static bool select_now(struct jv_client *c, jv_time now, const char *ordered,
		       struct selection *x)
{
	struct jv_select_binding b;

	x->n = gather(c, now, &b, &x->have_b, x->cand, x->map);
	return jv_select(x->have_b ? &b : NULL, x->cand, x->n, &c->s.policy,
			 now, ordered, &x->r) == JV_OK;
}

/*
 * §6.4 at one health update while VOLATILE or DEGRADED: select, apply the
 * gates, and either start an attempt (T21/T31) or record the refusal
 * (T22, T23, T32).
 */
static void switch_evaluate(struct jv_client *c, jv_time now,
			    struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct selection x;

	if (!select_now(c, now, s->operator_order, &x))
		return;
	const struct jv_select_result r = x.r;
	for (size_t i = 0; i < x.n; i++)
		if (r.restabilized_mask & (1u << i))
			s->paths[x.map[i]].needs_restabilize = false;

	const char *best = r.best >= 0 ? x.cand[r.best].id : NULL;
	if (r.outcome == JV_SELECT_DENY) {
		emit_switch_denied(s, r.reason, best, r.candidate_set_size, now,
				   true);
		(void)jv_sess_input(s, JV_IN_GATE_FAIL, r.reason, now, NULL,
				    false);
		if (s->operator_order) {
			s->operator_order = NULL;	/* answered: denied */
		}
		return;
	}

	bool change = r.outcome == JV_SELECT_SWITCH;
	int target = change ? x.map[r.winner] : s->bound;
	/* PD-7: a forced switch passes the cooldown gate only. */
	enum jv_reason gate = jv_switch_gates(&s->limiter, &s->policy, now,
					      change && jv_switch_is_capped(&s->policy, r.forced),
					      true);
	if (gate == JV_REASON_SWITCH_RATE_LIMITED) {
		unsigned cnt = jv_switch_count(&s->limiter, now);
		bool was_volatile = s->fsm.state == JV_STATE_VOLATILE;

		(void)jv_sess_input(s, JV_IN_GATE_RATE_LIMITED, JV_REASON_NONE,
				    now, NULL, false);
		emit_switch_denied(s, gate, path_id(s, target),
				   r.candidate_set_size, now, !was_volatile);
		if (was_volatile)
			emit_policy_limit(s, "max_switches_per_min",
					  s->policy.max_switches_per_min, cnt,
					  gate, now);
		return;
	}
	if (gate != JV_REASON_NONE) {
		emit_switch_denied(s, gate, path_id(s, target),
				   r.candidate_set_size, now, true);
		(void)jv_sess_input(s, JV_IN_GATE_FAIL, gate, now, NULL, false);
		return;
	}

	struct jv_event annot;
	jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
	JV_EV_SET(&annot, from_transport, jv_sess_bound_id(s));
	JV_EV_SET(&annot, candidate_set_size, change ? r.candidate_set_size : 1);
	JV_EV_SET(&annot, candidate_transport, s->paths[target].id);
	JV_EV_SET(&annot, trigger_class, class_name(r.forced));
	if (jv_sess_input(s, JV_IN_SWITCH_START, r.reason, now, &annot,
			  false) != 1)
		return;
	s->operator_order = NULL;
	s->att.tried_mask = 0;
	s->att.ordinal = 0;
	attempt_begin(c, target, r.reason, r.candidate_set_size, r.forced, now,
		      out);
}

static bool rate_capped(const struct jv_session *s, jv_time now);

/* The current candidate is abandoned (3 unanswered copies, or its path
 * died): T44 if another one passes §6.4, else T45. */
static void attempt_abandon(struct jv_client *c, jv_time now,
			    struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_path *p = &s->paths[s->att.cand];
	const char *last = p->id;
	bool planned = jv_fsm_planned(s->att.recovery);

	s->att.deferred = false;

	p->excluded_until_ms = now + s->policy.switch_cooldown_ms;
	p->needs_restabilize = true;
	s->att.tried_mask |= 1u << s->att.cand;
	flapped(s, s->att.cand, now);

	/* A planned switch (T13) whose target does not answer goes back to
	 * the binding it left, which still works: revalidated, T44, once the
	 * cooldown since the attempt start has passed (INV-09); until then
	 * the attempt waits (attempt_progress comes back at next_tx_ms). */
	if (planned && !binding_lost(s, now) && s->att.cand != s->bound) {
		jv_time ok = jv_switch_next_allowed(&s->limiter, &s->policy,
						    now, false);

		if (ok > now) {
			s->att.copies = JV_ATTEMPT_COPIES;
			s->att.next_tx_ms = ok;
			s->att.deferred = true;
			return;
		}
		/* Same reason: if the validator did commit the planned
		 * switch (its ACK lost), going back is a planned switch too
		 * for it (T13), not an instability it could not place. */
		if (jv_sess_input(s, JV_IN_CANDIDATE_ABANDONED, JV_REASON_NONE,
				  now, NULL, false) == 0) {
			attempt_begin(c, s->bound, s->att.recovery, 1, false,
				      now, out);
			return;
		}
	}

	struct selection x;

	if (select_now(c, now, NULL, &x) && x.r.outcome != JV_SELECT_DENY) {
		const struct jv_select_result r = x.r;
		bool change = r.outcome == JV_SELECT_SWITCH;
		int target = change ? x.map[r.winner] : s->bound;

		bool capped = change && jv_switch_is_capped(&s->policy, r.forced);
		enum jv_reason gate = jv_switch_gates(&s->limiter, &s->policy,
						      now, capped, true);

		if (!(s->att.tried_mask & (1u << target))) {
			if (gate == JV_REASON_NONE &&
			    jv_sess_input(s, JV_IN_CANDIDATE_ABANDONED,
					  JV_REASON_NONE, now, NULL, false) == 0) {
				attempt_begin(c, target, r.reason,
					      r.candidate_set_size, r.forced,
					      now, out);
				return;
			}
			/* The next candidate waits for the cooldown since
			 * this attempt's start (INV-09), inside the recovery
			 * window: a live transport is never given up for a
			 * timer (LIV-10, finding F10). */
			jv_time ok = jv_switch_next_allowed(&s->limiter,
							    &s->policy, now,
							    capped);
			if (gate == JV_REASON_COOLDOWN_ACTIVE &&
			    ok <= s->recovery_deadline_ms) {
				/* no more copies to the abandoned one */
				s->att.copies = JV_ATTEMPT_COPIES;
				s->att.next_tx_ms = ok;
				s->att.deferred = true;
				return;
			}
		}
	}
	/* No other candidate: while this one's path is up it stays the
	 * candidate, retried with fresh nonces until the recovery window
	 * decides (T46, RW-1); only a dead path exhausts the episode (T45).
	 * A damped one stays only if the binding is lost (PD-7: a damped
	 * transport is no candidate while the binding still works, F11). */
	bool keep = s->bound == s->att.cand ||
		    ((!p->flap.damped || s->att.forced ||
		      binding_lost(s, now)) &&
		     (!jv_switch_is_capped(&s->policy, s->att.forced) ||
		      !rate_capped(s, now)));
	if (!p->down && keep) {
		p->excluded_until_ms = 0;
		p->needs_restabilize = false;
		s->att.tried_mask &= ~(1u << s->att.cand);
		s->att.copies = 0;
		send_request(c, now, out);
		return;
	}
	char id[JV_TRANSPORT_ID_MAX];
	snprintf(id, sizeof id, "%s", last);
	if (jv_sess_input(s, JV_IN_CANDIDATES_EXHAUSTED, JV_REASON_NONE, now,
			  NULL, false) == 1)
		emit_switch_failed(s, JV_REASON_NO_CANDIDATE_TRANSPORTS, id, now);
}

/* §6.4 would now switch away from the binding. */
static bool other_path_answers(struct jv_client *c, jv_time now)
{
	struct selection x;

	return select_now(c, now, NULL, &x) &&
	       x.r.outcome == JV_SELECT_SWITCH;
}

static void attempt_progress(struct jv_client *c, jv_time now,
			     struct jv_out *out)
{
	struct jv_session *s = &c->s;

	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand < 0)
		return;
	if (s->paths[s->att.cand].down ||
	    (path_lost(s, s->att.cand, now) && !s->att.deferred &&
	     other_path_answers(c, now))) {
		/* An attempt on a transport that is lost by now (the binding
		 * being revalidated, or a candidate gone silent) gives way as
		 * soon as another transport answers (LIV-10), not after its
		 * copies run out, one retransmission timer each (the last
		 * one's included: seed 3786 of the chaos campaign). */
		attempt_abandon(c, now, out);
		return;
	}
	if (now < s->att.next_tx_ms)
		return;
	if (s->att.copies < JV_ATTEMPT_COPIES)
		send_request(c, now, out);
	else
		attempt_abandon(c, now, out);
}

/* The copy of the current attempt that carried nonce, or -1. */
static int attempt_copy(const struct jv_session *s, uint64_t nonce)
{
	for (unsigned i = 0; i < s->att.nnonces; i++)
		if (s->att.nonces[i] == nonce)
			return (int)i;
	return -1;
}

void jv_cl_on_ack(struct jv_client *c, const struct jv_ctrl_reattach_ack *a,
		   jv_time now)
{
	struct jv_session *s = &c->s;

	s->ack_state_version = jv_max_u64(s->ack_state_version, a->state_version);
	nonce_answered(s, a->nonce, JV_REASON_NONE);
	int copy = attempt_copy(s, a->nonce);
	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand < 0 || copy < 0)
		return;	/* late ACK: only its version is recorded (§2.3) */

	int cand = s->att.cand;
	int old = s->bound;
	bool change = old != cand;
	bool forced = (s->att.forced_copies >> copy) & 1u;
	char prev[JV_TRANSPORT_ID_MAX] = "";
	struct jv_health_snapshot h;
	uint64_t nonce = a->nonce;
	jv_time started = s->att.start_ms;

	/* Never commit a discretionary switch past the per-minute cap
	 * (INV-08 as amended by PD-7), even if the validator agreed: the
	 * attempt then ends by its window. */
	if (change && jv_switch_is_capped(&s->policy, forced) &&
	    rate_capped(s, now))
		return;
	if (old >= 0)
		snprintf(prev, sizeof prev, "%s", s->paths[old].id);
	jv_health_snapshot(&s->paths[cand].health, &s->policy, now, &h);
	if (jv_sess_input(s, JV_IN_REATTACH_OK, JV_REASON_NONE, now, NULL,
			  false) != 1)
		return;
	jv_sess_bind(s, cand, now);
	c->rx.have = false;
	if (change) {
		struct jv_event ev;

		if (!forced)
			jv_switch_record_commit(&s->limiter, now);
		s->total_switches++;
		jv_ev_init(&ev, JV_EV_TRANSPORT_SWITCH);
		JV_EV_SET(&ev, reason_code, JV_REASON_REATTACH_SUCCESS);
		JV_EV_SET(&ev, previous_transport, old >= 0 ? prev : NULL);
		JV_EV_SET(&ev, new_transport, s->paths[cand].id);
		JV_EV_SET(&ev, candidate_count, s->att.set_size);
		JV_EV_SET(&ev, loss_ratio, h.loss_ratio);
		JV_EV_SET(&ev, latency_estimate_ms, (uint64_t)h.srtt_ms);
		JV_EV_SET(&ev, switch_latency_ms, now - started);
		JV_EV_SET(&ev, explicit, true);
		JV_EV_SET(&ev, auditable, true);
		JV_EV_SET(&ev, trigger_class, class_name(forced));
		jv_sess_emit(s, &ev, now);
	}
	emit_result(s, true, JV_REASON_REATTACH_SUCCESS, s->paths[cand].id,
		    nonce, false, now);
	/* a binding left because it was lost died as the binding (PD-7);
	 * one declared dead was charged then */
	if (change && forced && old >= 0)
		flapped(s, old, now);
	if (change)
		s->operator_pinned = !forced &&
			(s->att.recovery == JV_REASON_OPERATOR_MIGRATION ||
			 s->att.recovery == JV_REASON_POLICY_FORCED_RECOVERY);
	s->att.cand = -1;
	/* The bound path gets a heartbeat at once, so the new binding's
	 * detection windows have samples from the start. */
	s->paths[cand].next_probe_ms = now;
}

void jv_cl_on_deny(struct jv_client *c, const struct jv_ctrl_reattach_deny *d,
		    jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	s->ack_state_version = jv_max_u64(s->ack_state_version, d->state_version);
	nonce_answered(s, d->nonce, d->reason);
	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand < 0 ||
	    attempt_copy(s, d->nonce) < 0)
		return;

	enum jv_input in = jv_fsm_deny_input(d->reason);
	char cand[JV_TRANSPORT_ID_MAX];
	snprintf(cand, sizeof cand, "%s", s->paths[s->att.cand].id);

	switch (in) {
	case JV_IN_DENY_RETRYABLE:
		/* T43: same attempt, fresh nonce, after retry_after_ms (at
		 * once for stale_state_version: the DENY gave us the version). */
		emit_result(s, false, d->reason, cand, d->nonce, true, now);
		if (d->reason == JV_REASON_STALE_STATE_VERSION)
			s->state_version_conflicts++;
		s->att.copies = 0;
		s->att.next_tx_ms = now + d->retry_after_ms;
		if (d->retry_after_ms == 0)
			send_request(c, now, out);
		return;
	case JV_IN_DENY_POLICY:
	case JV_IN_DENY_VALIDATION:
	case JV_IN_DENY_FATAL: {
		struct jv_path *p = &s->paths[s->att.cand];
		int failed = s->att.cand;
		p->excluded_until_ms = now + s->policy.switch_cooldown_ms;
		p->needs_restabilize = true;
		if (jv_sess_input(s, in, d->reason, now, NULL,
				  in == JV_IN_DENY_FATAL) != 1)
			return;
		emit_result(s, false, d->reason, cand, d->nonce, false, now);
		if (in == JV_IN_DENY_FATAL) {
			jv_sess_emit_terminated(s, d->reason, NULL, now);
			return;
		}
		emit_switch_denied(s, d->reason, cand, 1, now, false);
		flapped(s, failed, now);
		return;
	}
	default:
		return;	/* no class: treated as no response (§7.2) */
	}
}

/* ---- the evaluation loop (spec §2.4) ---------------------------------- */

static bool rate_capped(const struct jv_session *s, jv_time now)
{
	return jv_switch_count(&s->limiter, now) >= s->policy.max_switches_per_min;
}

/*
 * The binding is declared dead (T10/T20/T30/T47): it flapped (PD-7).  An
 * attempt that was revalidating it would now bind a transport to an empty
 * binding: a forced switch from here on.
 */
static void binding_died(struct jv_client *c, jv_time now)
{
	struct jv_session *s = &c->s;
	int old = s->bound;

	jv_sess_binding_dead(s, jv_health_hard_failed(&s->paths[old].health),
			     now);
	flapped(s, old, now);
	if (s->fsm.state == JV_STATE_RECOVERING)
		s->att.forced = true;
}

/* T13: a discretionary switch from a working binding, which keeps
 * carrying data until the commit (PD-7 fail-back, PD-8 migration). */
static void planned_start(struct jv_client *c, int target, enum jv_reason why,
			  unsigned set_size, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_event annot;

	jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
	JV_EV_SET(&annot, from_transport, jv_sess_bound_id(s));
	JV_EV_SET(&annot, candidate_set_size, set_size);
	JV_EV_SET(&annot, candidate_transport, s->paths[target].id);
	JV_EV_SET(&annot, trigger_class, class_name(false));
	if (jv_sess_input(s, JV_IN_PLANNED_SWITCH, why, now, &annot,
			  false) != 1)
		return;
	s->volatile_reason = JV_REASON_NONE;	/* no instability triggered it */
	s->att.tried_mask = 0;
	s->att.ordinal = 0;
	attempt_begin(c, target, why, set_size, false, now, out);
}

/*
 * Select with the operator-ordered (or fail-back) target `id` from a
 * working binding.  Returns the target's path index, or -1 with *why set.
 */
static int planned_target(struct jv_client *c, const char *id, jv_time now,
			  struct jv_select_result *r)
{
	struct selection x;
	bool ok = select_now(c, now, id, &x);

	*r = x.r;
	if (!ok || !x.have_b)
		return -1;
	return r->outcome == JV_SELECT_SWITCH ? x.map[r->winner] : -1;
}

/* Fail-back is on and may run: an ATTACHED binding the operator did not
 * choose. */
static bool failback_on(const struct jv_session *s)
{
	return s->policy.failback_stable_ms && s->bound >= 0 &&
	       !s->operator_pinned && s->fsm.state == JV_STATE_ATTACHED;
}

/* Path i could be failed back to once stable long enough: up, undamped,
 * of lower Priority than the binding.  Its stability at now in *stable. */
static bool failback_target(const struct jv_session *s, unsigned i,
			    jv_time now, jv_time *stable)
{
	const struct jv_path *q = &s->paths[i];

	if (!q->used || q->down || q->flap.damped ||
	    q->priority >= s->paths[s->bound].priority)
		return false;
	*stable = jv_health_stability_ms(&q->health, &s->policy, now);
	return true;
}

/*
 * PD-7 fail-back, ATTACHED only: the transport of lowest Priority below
 * the binding's that has been stable for FAILBACK_STABLE_MS, is not damped
 * and passes the candidate filters; a discretionary switch, so the cap and
 * the cooldown gate it (the timers come back when they would pass).
 */
static void failback_evaluate(struct jv_client *c, jv_time now,
			      struct jv_out *out)
{
	struct jv_session *s = &c->s;
	const struct jv_policy *p = &s->policy;
	int best = -1;

	if (!failback_on(s))
		return;
	for (unsigned i = 0; i < s->npaths; i++) {
		jv_time stable;

		if (!failback_target(s, i, now, &stable) ||
		    stable < p->failback_stable_ms)
			continue;
		if (best < 0 || s->paths[i].priority < s->paths[best].priority)
			best = (int)i;
	}
	if (best < 0 || jv_switch_gates(&s->limiter, p, now, true, true) !=
			JV_REASON_NONE)
		return;

	struct jv_select_result r;
	int target = planned_target(c, s->paths[best].id, now, &r);
	if (target == best)
		planned_start(c, target, JV_REASON_FAILBACK,
			      r.candidate_set_size, now, out);
}

jv_time jv_cl_failback_deadline(const struct jv_session *s, jv_time now)
{
	const struct jv_policy *p = &s->policy;
	jv_time d = JV_TIME_NEVER;

	if (!failback_on(s))
		return d;
	for (unsigned i = 0; i < s->npaths; i++) {
		jv_time stable, t;

		if (!failback_target(s, i, now, &stable))
			continue;
		t = stable < p->failback_stable_ms
		    ? now + (p->failback_stable_ms - stable)
		    : jv_switch_next_allowed(&s->limiter, p, now, true);
		if (t <= now)
			t = now + 1;
		if (t < d)
			d = t;
	}
	return d;
}

int jv_cl_migrate(struct jv_client *c, const char *id, jv_time now,
		  struct jv_out *out, struct jv_switch_answer *ans)
{
	struct jv_session *s = &c->s;
	struct jv_select_result r;
	enum jv_reason gate;
	int target;

	memset(ans, 0, sizeof *ans);
	ans->refused = JV_REASON_NONE;
	if (s->bound >= 0 && !strncmp(s->paths[s->bound].id, id,
				      JV_TRANSPORT_ID_MAX)) {
		ans->refused = JV_REASON_POLICY_DENIED;
		ans->detail = "it is already the bound transport";
		return JV_OK;
	}
	target = planned_target(c, id, now, &r);
	if (target < 0) {
		static const char *const why[] = {
			[JV_TARGET_OK] = "it is not eligible",
			[JV_TARGET_UNKNOWN] = "no such candidate",
			[JV_TARGET_EVICTED] = "no successful probe within transport.candidate_ttl_ms (dead or unreachable)",
			[JV_TARGET_REFUSED] = "its protocol is not in transport.allowed_protocols",
			[JV_TARGET_EXCLUDED] = "its last attempt failed; excluded for switching.switch_cooldown_ms, then until stable for one loss window",
			[JV_TARGET_UNHEALTHY] = "it is not healthy (silent, lossy, slow or failed)",
			[JV_TARGET_DAMPED] = "it is damped: its flap penalty is above switching.flap_suppress (PD-7)",
			[JV_TARGET_MIN_COUNT] = "fewer than transport.candidate_min_count candidates are eligible",
		};
		ans->refused = r.reason == JV_REASON_POLICY_DENIED
			       ? JV_REASON_POLICY_DENIED
			       : JV_REASON_NO_CANDIDATE_TRANSPORTS;
		ans->detail = why[r.target_why];
		return JV_OK;
	}
	/* PD-8: refused only by the discretionary cap and the cooldown. */
	gate = jv_switch_gates(&s->limiter, &s->policy, now, true, true);
	if (gate != JV_REASON_NONE) {
		ans->refused = gate;
		ans->until_ms = jv_switch_next_allowed(&s->limiter, &s->policy,
						       now, true);
		ans->detail = gate == JV_REASON_SWITCH_RATE_LIMITED
			      ? "switching.max_switches_per_min discretionary switches already in the last 60 s"
			      : "less than switching.switch_cooldown_ms since the last attempt";
		return JV_OK;
	}
	planned_start(c, target, JV_REASON_OPERATOR_MIGRATION,
		      r.candidate_set_size, now, out);
	return JV_OK;
}

void jv_cl_evaluate(struct jv_client *c, jv_time now,
			    struct jv_out *out)
{
	struct jv_session *s = &c->s;

	if (!c->have_session)
		return;
	/* Rules fire one at a time, in priority order, until none does; the
	 * longest legal chain is 3 transitions (§2.4), so 4 rounds bound it. */
	for (int round = 0; round < 4; round++) {
		uint64_t v = s->fsm.state_version;
		enum jv_state st = s->fsm.state;

		if (jv_sess_check_terminal(s, now))
			return;
		if (round == 0)
			jv_cl_release_damped(s, now);
		/* (8) transport_dead of the binding. */
		if (s->bound >= 0 &&
		    jv_health_condition(&s->paths[s->bound].health, &s->policy,
					now) == JV_REASON_TRANSPORT_DEAD) {
			binding_died(c, now);
			continue;
		}
		/* (9) the reattach attempt. */
		attempt_progress(c, now, out);
		st = s->fsm.state;
		/* (10) recovery window. */
		if (st == JV_STATE_RECOVERING && now > s->recovery_deadline_ms) {
			const char *cand = path_id(s, s->att.cand);
			char id[JV_TRANSPORT_ID_MAX] = "";
			if (cand)
				snprintf(id, sizeof id, "%s", cand);
			if (jv_sess_input(s, JV_IN_RECOVERY_TIMEOUT,
					  JV_REASON_NONE, now, NULL, false) == 1) {
				emit_switch_failed(s, JV_REASON_RECOVERY_WINDOW_EXCEEDED,
						   cand ? id : NULL, now);
				emit_policy_limit(s, "recovery_window_ms",
						  (double)s->policy.recovery_window_ms,
						  (double)(now - (s->recovery_deadline_ms -
								  s->policy.recovery_window_ms)),
						  JV_REASON_RECOVERY_WINDOW_EXCEEDED, now);
			}
			continue;
		}
		/* (11) volatile timeout. */
		if (st == JV_STATE_VOLATILE &&
		    now > s->volatile_since_ms + s->policy.volatile_to_degraded_ms) {
			(void)jv_sess_input(s, JV_IN_VOLATILE_TIMEOUT,
					    JV_REASON_NONE, now, NULL, false);
			continue;
		}
		/* (12) other instability, detected on ATTACHED only. */
		if (st == JV_STATE_ATTACHED && s->bound >= 0) {
			struct jv_path *b = &s->paths[s->bound];
			enum jv_reason r = jv_health_condition(&b->health,
							       &s->policy, now);
			if (r != JV_REASON_NONE) {
				struct jv_health_snapshot h;
				struct jv_event annot;

				jv_health_snapshot(&b->health, &s->policy, now, &h);
				jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
				if (h.loss_defined)
					JV_EV_SET(&annot, loss_ratio, h.loss_ratio);
				if (h.rtt_measured)
					JV_EV_SET(&annot, latency_estimate_ms,
						  (uint64_t)h.srtt_ms);
				JV_EV_SET(&annot, consecutive_drops,
					  h.consecutive_drops);
				JV_EV_SET(&annot, heartbeat_age_ms,
					  h.heartbeat_age_ms);
				(void)jv_sess_input(s, JV_IN_INSTABILITY, r, now,
						    &annot, false);
				continue;
			}
		}
		/* (13) switch evaluation; fail-back from a working binding. */
		if (st == JV_STATE_VOLATILE || st == JV_STATE_DEGRADED)
			switch_evaluate(c, now, out);
		else if (st == JV_STATE_ATTACHED)
			failback_evaluate(c, now, out);
		if (s->fsm.state_version == v)
			break;
	}
	/* Every entry point ends its commit here: a grace policy update is
	 * adopted once a transition was committed (spec §5). */
	(void)jv_sess_policy_settle(s, now);
}
