/* SPDX-License-Identifier: MIT */
/*
 * Every timer of a session, in one place (STYLE 3).  The datapath reports
 * facts (a packet was authenticated, a probe was answered, a transition was
 * committed); timers are derived from them, never counted down.  All limits
 * are strict (spec §2.4), so a limit L started at t fires at t + L + 1.
 *
 *   timer                       armed when               fires at
 *   X1 lifetime                 always                   created + SESSION_MAX_LIFETIME_MS + 1
 *   X4 key expiry               KEY_MAX_AGE_MS set       keys_birth + KEY_MAX_AGE_MS + 1
 *   X2 transportless            no binding               unbound_since + TRANSPORT_LOST_TTL_MS + 1
 *   T24 volatile timeout        VOLATILE                 volatile_since + VOLATILE_TO_DEGRADED_MS + 1
 *   T46 recovery timeout        RECOVERING               entry + RECOVERY_WINDOW_MS + 1
 *   health change               bound / candidate paths  jv_health_next_change (silence limits,
 *                                                        loss buckets and RTT samples leaving
 *                                                        their windows, stable window reached)
 *   heartbeat / probe send      client, keys, path up    previous send + HEARTBEAT_INTERVAL_MS
 *                                                        (binding) or jv_sess_standby_interval
 *   heartbeat / probe drop      in flight                sent + max(HEARTBEAT_INTERVAL_MS
 *                                                        or the probe interval, 3 x srtt) + 1
 *                                                        (OP-5; jv_sess_drop_timeout)
 *   reattach retransmit         RECOVERING (client)      previous copy + max(250, 2 x srtt) (OP-8)
 *   switch gates                VOLATILE/DEGRADED        jv_switch_next_allowed (cooldown, cap)
 *   flap damping release        client, damped path      jv_flap_reuse_at (PD-7)
 *   fail-back                   client, ATTACHED         jv_cl_failback_deadline (PD-7)
 *   rekey                       client, keys, bound      jv_keys_rekey_due, not before the
 *                                                        OP-11 interval; then REKEY retransmit
 *   previous epoch              after a rotation, once   rotation + JV_KEY_GRACE_MS + 1
 *                               the new one is confirmed (jv_keys_prev_deadline)
 *   path challenge expiry       gateway, challenges      jv_pathval_deadline
 *   tombstone eviction          TERMINATED               termination + JV_TOMBSTONE_MS
 */

#include "session.h"

static jv_time min_t(jv_time a, jv_time b)
{
	return a < b ? a : b;
}

/* Advisory timers (re-evaluations) are never armed in the past: tick has
 * already acted on everything due at `now`. */
static jv_time later(jv_time t, jv_time now)
{
	return t <= now ? now + 1 : t;
}

static jv_time path_timers(const struct jv_session *s, int idx, bool probe,
			   jv_time now)
{
	const struct jv_path *p = &s->paths[idx];
	const struct jv_policy *pol = &s->policy;
	jv_time d = JV_TIME_NEVER;

	d = min_t(d, later(jv_health_next_change(&p->health, pol, now), now));
	if (probe && !p->down)
		d = min_t(d, p->next_probe_ms);
	if (p->ninflight) {
		jv_time to = jv_sess_drop_timeout(s, idx);
		for (unsigned i = 0; i < p->ninflight; i++)
			d = min_t(d, p->inflight[i].sent_ms + to + 1);
	}
	return d;
}

jv_time jv_sess_deadline(const struct jv_session *s, jv_time now)
{
	const struct jv_policy *p = &s->policy;
	enum jv_state st = s->fsm.state;
	jv_time d = JV_TIME_NEVER;
	bool client = s->role == JV_ROLE_CLIENT;

	if (st == JV_STATE_TERMINATED)
		return s->tombstone_until_ms;

	d = min_t(d, s->created_ms + p->max_lifetime_ms + 1);
	if (p->key_max_age_ms && s->cur.valid)
		d = min_t(d, s->keys_birth_ms + p->key_max_age_ms + 1);
	if (s->bound < 0)
		d = min_t(d, s->unbound_since_ms + p->transport_lost_ttl_ms + 1);
	if (st == JV_STATE_VOLATILE)
		d = min_t(d, s->volatile_since_ms + p->volatile_to_degraded_ms + 1);
	if (st == JV_STATE_RECOVERING) {
		d = min_t(d, s->recovery_deadline_ms + 1);
		if (client && s->att.cand >= 0)
			d = min_t(d, s->att.next_tx_ms);
	}

	for (unsigned i = 0; i < s->npaths; i++) {
		const struct jv_path *path = &s->paths[i];
		bool bound = (int)i == s->bound;

		if (!path->used)
			continue;
		if (!client && !bound)
			continue;	/* the gateway watches its binding only */
		if (client && !bound && st == JV_STATE_BIRTH)
			continue;
		d = min_t(d, path_timers(s, (int)i, client && s->cur.valid, now));
	}

	if (client && (st == JV_STATE_VOLATILE || st == JV_STATE_DEGRADED))
		d = min_t(d, later(jv_switch_next_allowed(&s->limiter, p, now,
							  true), now));
	if (client) {
		for (unsigned i = 0; i < s->npaths; i++)
			if (s->paths[i].used)
				d = min_t(d, jv_flap_reuse_at(&s->paths[i].flap,
							      p, now));
		d = min_t(d, jv_cl_failback_deadline(s, now));
	}
	/* As maybe_rekey() (client.c): only over a binding, and no sooner
	 * than OP-11 lets it happen (rekey_interval_ms after the last
	 * rotation). */
	if (client && s->cur.valid && s->bound >= 0) {
		if (s->rekey_pending_epoch) {
			d = min_t(d, s->rekey_next_tx_ms);
		} else {
			jv_time due = jv_keys_rekey_due(s);
			jv_time ok = s->last_rekey_ms + p->rekey_interval_ms;
			d = min_t(d, later(due > ok ? due : ok, now));
		}
	}
	d = min_t(d, jv_keys_prev_deadline(s));
	if (!client)
		d = min_t(d, jv_pathval_deadline(&s->pathval));
	return d;
}
