/* SPDX-License-Identifier: MIT */
/*
 * The validator's side of a reattach (spec §7.4, §7.6): the ordered checks
 * V2-V10 on an authenticated request, then one atomic commit of the whole
 * chain (T11 -> T21/T31 -> T40, or T12 for a revalidation while ATTACHED).
 * A deny never mutates anything but the nonce window (INV-10, §7.4: once
 * V5 and V6 pass, the nonce is consumed even if a later check denies).
 *
 * V0 (control rate per session) and V1 (session exists) ran in gateway.c,
 * V5 (the proof of possession) is the AEAD tag that opened the message.
 */

#include <stdio.h>
#include <string.h>

#include "session.h"

static bool recovery_permitted(enum jv_reason r)
{
	return r == JV_REASON_LOSS_RECOVERY ||
	       r == JV_REASON_DEAD_TRANSPORT_RECOVERY ||
	       r == JV_REASON_POLICY_FORCED_RECOVERY ||
	       r == JV_REASON_HEALTH_RECOVERED || jv_fsm_planned(r);
}


static void deny(struct jv_ctrl *a, const struct jv_reattach_req *r,
		 enum jv_reason why, uint32_t retry_after, uint64_t version)
{
	memset(a, 0, sizeof *a);
	a->type = JV_CTRL_REATTACH_DENY;
	a->deny.nonce = r->nonce;
	a->deny.reason = why;
	a->deny.retryable = jv_deny_retryable(why);
	a->deny.retry_after_ms = retry_after;
	a->deny.state_version = version;
}

static void emit_result(struct jv_session *s, const struct jv_reattach_req *r,
			bool ok, enum jv_reason why, jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_REATTACH_RESULT);
	JV_EV_SET(&ev, status, ok ? "SUCCESS" : "DENIED");
	JV_EV_SET(&ev, reason_code, why);
	JV_EV_SET(&ev, candidate_transport, r->cand.transport_id);
	JV_EV_SET(&ev, nonce, r->nonce);
	JV_EV_SET(&ev, retryable, ok ? false : jv_deny_retryable(why));
	jv_sess_emit(s, &ev, now);
}

/* The path slot for tuple `from`: the bound one if it matches, else the
 * other slot (a gateway keeps the binding and one more tuple). */
static int path_for(struct jv_session *s, const struct jv_addr *from,
		    uint32_t local)
{
	int slot = -1;

	for (unsigned i = 0; i < s->npaths; i++)
		if (s->paths[i].used && jv_addr_equal(&s->paths[i].remote, from))
			return (int)i;
	for (unsigned i = 0; i < s->cap_paths; i++)
		if ((int)i != s->bound) {
			slot = (int)i;
			break;
		}
	if (slot < 0)
		return -1;
	struct jv_path *p = &s->paths[slot];
	memset(p, 0, sizeof *p);
	p->used = true;
	p->proto = JV_PROTO_UDP;
	p->remote = *from;
	p->local = local;
	/* On the validator a transport is a (protocol, IP, port) tuple, so a
	 * NAT rebinding is a new transport (spec §1). */
	jv_tuple_id(from, p->id);
	jv_health_init(&p->health, &s->policy, s->last_now_ms);
	if ((unsigned)slot >= s->npaths)
		s->npaths = (unsigned)slot + 1;
	return slot;
}

static void emit_attempt(struct jv_session *s, const struct jv_reattach_req *r,
			 jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_REATTACH_ATTEMPT);
	JV_EV_SET(&ev, candidate_transport, r->cand.transport_id);
	JV_EV_SET(&ev, recovery_deadline_ms, now + s->policy.recovery_window_ms);
	JV_EV_SET(&ev, nonce, r->nonce);
	JV_EV_SET(&ev, attempt, 1);
	jv_sess_emit(s, &ev, now);
}

void jv_validate_replayed(struct jv_session *s, const struct jv_reattach_req *r,
			  jv_time now)
{
	emit_attempt(s, r, now);
	emit_result(s, r, false, JV_REASON_REPLAY_DETECTED, now);
	jv_sess_security_event(s, JV_EV_SECURITY_REPLAY_DETECTED,
			       JV_REASON_REPLAY_DETECTED, r->cand.transport_id,
			       "counter", now);
}

void jv_validate_request(struct jv_session *s, const struct jv_reattach_req *r,
			 const struct jv_addr *from, uint32_t local, bool owner,
			 jv_time now, struct jv_ctrl *answer)
{
	const struct jv_policy *p = &s->policy;
	enum jv_state st = s->fsm.state;
	uint64_t v = s->fsm.state_version;
	enum jv_reason why;
	struct jv_event ev;

	/* Every request that passed V1 emits ReattachAttempt (§7.4). */
	emit_attempt(s, r, now);

	/* V2: the node must be able to prove it owns the session: its lease
	 * unexpired and its store reachable (§9: fail closed; retryable for
	 * the requester, who may reach another node). */
	if (!owner) {
		jv_ev_init(&ev, JV_EV_SESSION_OWNER_REJECTED);
		JV_EV_SET(&ev, reason_code, JV_REASON_NOT_AUTHORITATIVE_OWNER);
		JV_EV_SET(&ev, expected_state_version, r->state_version);
		JV_EV_SET(&ev, actual_state_version, v);
		why = JV_REASON_NOT_AUTHORITATIVE_OWNER;
		deny(answer, r, why, 0, v);
		emit_result(s, r, false, why, now);
		jv_sess_emit(s, &ev, now);
		return;
	}

	/* V3, V4: fatal. */
	if (now > s->created_ms + p->max_lifetime_ms) {
		why = JV_REASON_SESSION_LIFETIME_EXCEEDED;
		goto denied;
	}
	if (s->bound < 0 && now > s->unbound_since_ms + p->transport_lost_ttl_ms) {
		why = JV_REASON_TRANSPORT_TTL_EXCEEDED;
		goto denied;
	}

	/* V6: freshness (the coarse timestamp bound, then the nonce window);
	 * the event names the marker that failed (§8.2). */
	const char *marker = "timestamp";
	why = jv_freshness_check_ts(now, r->ts_ms, p->reattach_proof_max_age_ms);
	if (why == JV_REASON_NONE) {
		marker = "nonce";
		why = jv_nonce_window_accept(&s->nonces, r->nonce);
	}
	if (why != JV_REASON_NONE) {
		/* §3 commit order: the result, then the security event. */
		deny(answer, r, why, 0, v);
		emit_result(s, r, false, why, now);
		jv_sess_security_event(s, JV_EV_SECURITY_REPLAY_DETECTED, why,
				       r->cand.transport_id, marker, now);
		return;
	}

	/* V7: the request must be bound to the current version. */
	if (r->state_version != v) {
		why = JV_REASON_STALE_STATE_VERSION;
		goto denied;
	}

	/* V8 */
	if (st != JV_STATE_ATTACHED && st != JV_STATE_VOLATILE &&
	    st != JV_STATE_DEGRADED) {
		why = JV_REASON_INVALID_STATE_FOR_REATTACH;
		goto denied;
	}

	/* V9: policy. */
	bool change = s->bound < 0 ||
		      !jv_addr_equal(&s->paths[s->bound].remote, from);
	/* PD-7: only discretionary switches count toward the cap; a planned
	 * one is discretionary whatever the request says. */
	bool forced = r->forced && !jv_fsm_planned(r->recovery);
	if (change && jv_switch_is_capped(p, forced) &&
	    jv_switch_count(&s->limiter, now) >= p->max_switches_per_min) {
		why = JV_REASON_SWITCH_RATE_LIMITED;
		goto denied;
	}
	if (change && s->total_switches > 0 &&
	    now < s->last_switch_commit_ms + p->switch_cooldown_ms) {
		why = JV_REASON_COOLDOWN_ACTIVE;
		deny(answer, r, why,
		     (uint32_t)(s->last_switch_commit_ms + p->switch_cooldown_ms - now),
		     v);
		emit_result(s, r, false, why, now);
		return;
	}
	if (!recovery_permitted(r->recovery) ||
	    (st == JV_STATE_ATTACHED && change && !jv_fsm_planned(r->recovery) &&
	     !jv_fsm_lookup(JV_STATE_ATTACHED, JV_IN_REQUEST_ACCEPTED, r->trigger))) {
		why = JV_REASON_POLICY_DENIED;
		goto denied;
	}

	/* V10: candidate sane; what gets bound is the tuple the request came
	 * from, so that is what must be well formed. */
	if (r->cand.transport_id[0] == '\0' || from->port == 0 ||
	    (r->cand.proto & (r->cand.proto - 1)) != 0 ||
	    !(r->cand.proto & p->allowed_protocols)) {
		why = JV_REASON_INVALID_TRANSPORT_CANDIDATE;
		goto denied;
	}

	/* Commit. */
	if (st == JV_STATE_ATTACHED && !change) {
		/* T12: revalidation of the bound transport, no transition. */
		(void)jv_sess_input(s, JV_IN_REVALIDATE_ACCEPTED, JV_REASON_NONE,
				    now, NULL, false);
		jv_health_restart_windows(&s->paths[s->bound].health, now);
		emit_result(s, r, true, JV_REASON_REATTACH_SUCCESS, now);
		goto ack;
	}

	int slot = path_for(s, from, local);
	if (slot < 0) {
		why = JV_REASON_ATOMICITY_FAILED;
		goto denied;
	}
	char prev[JV_TRANSPORT_ID_MAX] = "";
	bool had = s->bound >= 0;
	if (had)
		snprintf(prev, sizeof prev, "%s", s->paths[s->bound].id);

	struct jv_event annot;
	jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
	JV_EV_SET(&annot, from_transport, had ? prev : NULL);
	JV_EV_SET(&annot, candidate_set_size, 1);
	JV_EV_SET(&annot, candidate_transport, s->paths[slot].id);
	JV_EV_SET(&annot, trigger_class, forced ? "forced" : "discretionary");
	if (st == JV_STATE_ATTACHED && jv_fsm_planned(r->recovery)) {
		/* T13 then T40, one commit */
		if (jv_sess_input(s, JV_IN_PLANNED_SWITCH, r->recovery, now,
				  &annot, false) != 1)
			goto fatal;
	} else if ((st == JV_STATE_ATTACHED &&
		    jv_sess_input(s, JV_IN_REQUEST_ACCEPTED, r->trigger, now,
				  NULL, false) != 1) ||
		   jv_sess_input(s, JV_IN_SWITCH_START, r->recovery, now,
				 &annot, false) != 1) {
		goto fatal;
	}
	if (jv_sess_input(s, JV_IN_REATTACH_OK, JV_REASON_NONE, now, NULL,
			  false) != 1)
		goto fatal;
	s->paths[slot].local = local;
	if (had) {
		s->left = s->paths[s->bound].remote;
		s->left_until_ms = now + p->switch_cooldown_ms;
	}
	jv_sess_bind(s, slot, now);
	jv_pathval_forget(&s->pathval, from);
	if (change) {
		if (!forced)
			jv_switch_record_commit(&s->limiter, now);
		s->last_switch_commit_ms = now;
		s->total_switches++;
		jv_ev_init(&ev, JV_EV_TRANSPORT_SWITCH);
		JV_EV_SET(&ev, reason_code, JV_REASON_REATTACH_SUCCESS);
		JV_EV_SET(&ev, previous_transport, had ? prev : NULL);
		JV_EV_SET(&ev, new_transport, s->paths[slot].id);
		JV_EV_SET(&ev, candidate_count, 1);
		JV_EV_SET(&ev, switch_latency_ms, 0);
		JV_EV_SET(&ev, explicit, true);
		JV_EV_SET(&ev, auditable, true);
		JV_EV_SET(&ev, trigger_class, forced ? "forced" : "discretionary");
		jv_sess_emit(s, &ev, now);
	}
	emit_result(s, r, true, JV_REASON_REATTACH_SUCCESS, now);
ack:
	memset(answer, 0, sizeof *answer);
	answer->type = JV_CTRL_REATTACH_ACK;
	answer->ack.nonce = r->nonce;
	answer->ack.state_version = s->fsm.state_version;
	memcpy(answer->ack.transport_id, r->cand.transport_id,
	       sizeof answer->ack.transport_id);
	return;

denied:
	deny(answer, r, why, 0, v);
	emit_result(s, r, false, why, now);
	return;

fatal:
	/* The chain was checked before the first commit; reaching here means
	 * the FSM and the checks above disagree: fail closed (X7). */
	(void)jv_sess_input(s, JV_IN_FATAL, JV_REASON_INVARIANT_VIOLATION, now,
			    NULL, false);
	answer->type = 0;
}
