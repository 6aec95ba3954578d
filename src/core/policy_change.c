/* SPDX-License-Identifier: MIT */
/*
 * Runtime policy change (spec §5 "Runtime change", D-026): what a live
 * session does when its endpoint is handed a new policy.
 *
 *   validation   first; an invalid policy, or one that reuses the version
 *                of the policy in force with another content, changes
 *                nothing and is logged PolicyUpdate(REJECTED,
 *                policy_invalid, field) in every live session's stream;
 *   strict       the session adopts it at the call: PolicyUpdate(APPLIED)
 *                and every armed deadline recomputed from its original
 *                start, so a tightened lifetime or transportless TTL that
 *                is already exceeded fires X1/X2 at once;
 *   grace        the session adopts it at the end of its next committed
 *                transition's commit, after that commit's events (the
 *                transition was decided under the old bounds and names
 *                them); a newer update before then replaces it.
 *
 * Most deadlines are derived from the policy each time they are read
 * (timers.c: created + lifetime, unbound_since + TTL, ...), so adopting
 * the snapshot recomputes them from their original start by itself; this
 * file re-derives the few values that were computed from the old policy
 * and stored.
 */

#include <string.h>

#include "client_impl.h"
#include "gateway_impl.h"
#include "policy_impl.h"

/* ---- may p follow? ---------------------------------------------------- */

bool jv_policy_version_clash(const struct jv_policy *p,
			     const struct jv_policy *q)
{
	return strncmp(p->version, q->version, sizeof p->version) == 0 &&
	       !jv_policy_equal(p, q);
}

const char *jv_policy_change_refusal(const struct jv_policy *p,
				     const struct jv_policy *in_force,
				     bool *version_ok)
{
	const struct jv_policy_field *vf = jv_policy_field_find("version");
	const struct jv_policy_field *f;
	size_t bad, other;

	*version_ok = true;
	if (jv_policy_check(p, NULL, &bad, &other) != JV_OK) {
		f = jv_policy_field_at(bad);
		/* The table checks `version` first: when it is the culprit
		 * the string cannot stand as an event's policy_version. */
		if (!f || f == vf)
			*version_ok = false;
		return f ? f->key : vf->key;
	}
	if (jv_policy_version_clash(p, in_force))
		return vf->key;
	return NULL;
}

/* ---- events ----------------------------------------------------------- */

void jv_sess_policy_rejected(struct jv_session *s, const struct jv_policy *p,
			     const char *field, bool version_ok, jv_time now)
{
	struct jv_event_origin o = s->origin;
	struct jv_event ev;
	const char *mode = jv_policy_change_mode_name(p->change_mode);
	char rejected[sizeof p->version];

	/* §5: the event names the rejected version, and the one still in
	 * force as previous_policy_version; a malformed version string
	 * cannot stand as policy_version, the one in force does instead. */
	memcpy(rejected, p->version, sizeof rejected);
	rejected[sizeof rejected - 1] = '\0';
	if (version_ok)
		o.policy_version = rejected;
	jv_ev_init(&ev, JV_EV_POLICY_UPDATE);
	JV_EV_SET(&ev, status, "REJECTED");
	JV_EV_SET(&ev, reason_code, JV_REASON_POLICY_INVALID);
	JV_EV_SET(&ev, previous_policy_version, s->policy.version);
	JV_EV_SET(&ev, field, field);
	if (mode)
		JV_EV_SET(&ev, mode, mode);
	ev.ts_ms = now;
	ev.state_version = s->fsm.state_version;
	if (s->on_event)
		s->on_event(s->ud, &o, &ev);
}

/* ---- adoption --------------------------------------------------------- */

/* A deadline armed as start + old_len, moved to start + new_len. */
static jv_time restart_from(jv_time armed, uint64_t old_len, uint64_t new_len)
{
	jv_time start = armed >= old_len ? armed - old_len : 0;

	return start + new_len;
}

/* A token bucket keeps its level (capped by the new burst) and its last
 * refill; only its rate and burst change. */
static void retune(struct jv_token_bucket *b, double rate, uint32_t burst)
{
	struct jv_token_bucket nb;

	if (jv_token_bucket_init(&nb, rate, burst, b->last_ms) != JV_OK)
		return;		/* a valid policy always passes */
	nb.level_ut = b->level_ut < nb.cap_ut ? b->level_ut : nb.cap_ut;
	*b = nb;
}

/* What was computed from the old policy and stored, from the new one. */
static void rearm(struct jv_session *s, const struct jv_policy *old,
		  jv_time now)
{
	const struct jv_policy *p = &s->policy;

	/* T46: RECOVERING entry + RECOVERY_WINDOW_MS. */
	if (s->fsm.state == JV_STATE_RECOVERING)
		s->recovery_deadline_ms = restart_from(s->recovery_deadline_ms,
						       old->recovery_window_ms,
						       p->recovery_window_ms);
	/* The nonce ring covers more values than the largest window
	 * (replay.c), so its bits stay exact for any size: only the limits
	 * change. */
	s->nonces.size = p->replay_window_size;
	s->nonces.max_gap = p->max_nonce_gap;
	retune(&s->ctl_bucket, p->control_rate_per_sec, p->control_rate_burst);
	retune(&s->replay_bucket, p->control_rate_per_sec,
	       p->control_rate_burst);
	s->denylog.interval_ms = p->switch_cooldown_ms;

	for (unsigned i = 0; i < s->npaths; i++) {
		struct jv_path *q = &s->paths[i];

		if (!q->used)
			continue;
		/* A failed candidate's exclusion: failure +
		 * SWITCH_COOLDOWN_MS. */
		if (q->excluded_until_ms > now)
			q->excluded_until_ms = restart_from(
				q->excluded_until_ms, old->switch_cooldown_ms,
				p->switch_cooldown_ms);
		/* The probe cadence is no bound: the probe armed under the
		 * old interval is kept, unless the new interval is shorter
		 * (a tightened HEARTBEAT_INTERVAL_MS must not wait for the
		 * old one, or the binding would look silent under the new
		 * limits). */
		if (s->role == JV_ROLE_CLIENT && q->next_probe_ms > now) {
			jv_time iv = (int)i == s->bound ?
				p->heartbeat_interval_ms :
				jv_sess_standby_interval(s, (int)i);
			if (q->next_probe_ms > now + iv)
				q->next_probe_ms = now + iv;
		}
	}
}

static void adopt(struct jv_session *s, const struct jv_policy *p,
		  jv_time now)
{
	struct jv_policy old = s->policy;
	struct jv_event ev;

	/* origin.policy_version points into s->policy: from this event on,
	 * every event of the session names the new version. */
	s->policy = *p;
	s->policy_next = NULL;
	rearm(s, &old, now);
	jv_ev_init(&ev, JV_EV_POLICY_UPDATE);
	JV_EV_SET(&ev, status, "APPLIED");
	JV_EV_SET(&ev, previous_policy_version, old.version);
	JV_EV_SET(&ev, mode, jv_policy_change_mode_name(p->change_mode));
	/* the new bounds travel in the log, as at SessionCreated */
	JV_EV_SET(&ev, policy, &s->policy);
	jv_sess_emit(s, &ev, now);
	/* §5: "this may fire X1/X2 at once" (steps (1)-(7) of §2.4 under
	 * the new bounds, in the same millisecond). */
	(void)jv_sess_check_terminal(s, now);
}

void jv_sess_policy_offer(struct jv_session *s, const struct jv_policy *p,
			  jv_time now)
{
	if (jv_sess_terminated(s))
		return;
	if (jv_policy_equal(&s->policy, p)) {
		s->policy_next = NULL;	/* a pending one is superseded */
		return;
	}
	if (p->change_mode == JV_POLICY_CHANGE_STRICT) {
		adopt(s, p, now);
		return;
	}
	s->policy_next = p;
	s->policy_next_version = s->fsm.state_version;
}

bool jv_sess_policy_settle(struct jv_session *s, jv_time now)
{
	if (!s->policy_next || jv_sess_terminated(s) ||
	    s->fsm.state_version == s->policy_next_version)
		return false;
	adopt(s, s->policy_next, now);
	return true;
}

/* ---- the endpoints ---------------------------------------------------- */

int jv_gateway_set_policy(struct jv_gateway *g, const struct jv_policy *p,
			  jv_time now, struct jv_out *out)
{
	const char *field;
	bool version_ok;

	if (!g || !p || !out)
		return JV_ERR_INVAL;
	if (now > g->last_now)
		g->last_now = now;
	field = jv_policy_change_refusal(p, &g->policy, &version_ok);
	/* A version names one content in every live stream too: a session
	 * still on an older policy (grace) must not see its version reused. */
	for (unsigned i = 0; !field && i < g->nsess; i++) {
		const struct jv_session *s = &g->sess[i]->s;

		if (!jv_sess_terminated(s) &&
		    jv_policy_version_clash(p, &s->policy))
			field = "version";
	}
	if (field) {
		for (unsigned i = 0; i < g->nsess; i++) {
			struct jv_session *s = &g->sess[i]->s;

			if (jv_sess_terminated(s))
				continue;
			jv_sess_clock(s, now);
			jv_sess_policy_rejected(s, p, field, version_ok, now);
		}
		return JV_ERR_INVAL;
	}
	/* Sessions created from now on (handshakes, adoptions) start from
	 * it; the pending ones point at it, so the latest always wins. */
	g->policy = *p;
	for (unsigned i = 0; i < g->nsess; i++) {
		struct gw_session *gs = g->sess[i];

		if (jv_sess_terminated(&gs->s))
			continue;
		jv_sess_clock(&gs->s, now);
		jv_sess_policy_offer(&gs->s, &g->policy, now);
		jv_gw_note(g, gs);
		jv_gw_reschedule(g, gs, now);
		/* recv's shortcut for data in an evaluated millisecond
		 * assumes the bounds did not move since */
		gs->eval_ms = JV_TIME_NEVER;
	}
	return JV_OK;
}

int jv_client_set_policy(struct jv_client *c, const struct jv_policy *p,
			 jv_time now, struct jv_out *out)
{
	struct jv_session *s;
	const char *field;
	bool version_ok, live;

	if (!c || !p || !out)
		return JV_ERR_INVAL;
	s = &c->s;
	jv_sess_clock(s, now);
	live = c->have_session && !jv_sess_terminated(s);
	field = jv_policy_change_refusal(p, &c->policy, &version_ok);
	if (!field && live && jv_policy_version_clash(p, &s->policy))
		field = "version";
	if (field) {
		if (live)
			jv_sess_policy_rejected(s, p, field, version_ok, now);
		return JV_ERR_INVAL;
	}
	c->policy = *p;
	if (live)
		jv_sess_policy_offer(s, &c->policy, now);
	else if (!c->have_session)
		s->policy = c->policy;	/* the handshake's session takes it */
	/* (an ended session keeps the policy it ended under; the next one,
	 * jv_client_start, starts from c->policy) */
	return JV_OK;
}
