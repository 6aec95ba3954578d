/* SPDX-License-Identifier: MIT */
/*
 * The session core: identity, the FSM wrapper that carries out each row's
 * effects, the binding, the terminal checks of spec §2.4 steps (1)-(7), and
 * event emission with the session's origin.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "session.h"

static void fsm_emit(void *ud, const struct jv_event *ev)
{
	struct jv_session *s = ud;

	if (s->on_event)
		s->on_event(s->ud, &s->origin, ev);
}

void jv_ev_init(struct jv_event *ev, enum jv_event_type t)
{
	memset(ev, 0, sizeof *ev);
	ev->type = t;
}

void jv_sess_emit(struct jv_session *s, struct jv_event *ev, jv_time now)
{
	ev->ts_ms = now;
	ev->state_version = s->fsm.state_version;
	fsm_emit(s, ev);
}

int jv_sess_init(struct jv_session *s, enum jv_role role,
		 const struct jv_policy *p, const char *node_id,
		 struct jv_rng rng, jv_session_event_fn fn, void *ud,
		 unsigned cap_paths)
{
	memset(s, 0, sizeof *s);
	if (cap_paths == 0 || cap_paths > JV_MAX_TRANSPORTS)
		return JV_ERR_INVAL;
	s->paths = calloc(cap_paths, sizeof *s->paths);
	if (!s->paths)
		return JV_ERR_NOMEM;
	s->cap_paths = cap_paths;
	s->role = role;
	s->policy = *p;
	s->rng = rng;
	s->on_event = fn;
	s->ud = ud;
	s->bound = -1;
	s->att.cand = -1;
	snprintf(s->node_id, sizeof s->node_id, "%s", node_id ? node_id : "node");
	s->origin.session_id = s->id_hex;
	s->origin.node_id = s->node_id;
	s->origin.policy_version = s->policy.version;
	s->origin.role = role;
	jv_fsm_init(&s->fsm, fsm_emit, s);
	jv_switch_limiter_init(&s->limiter);
	jv_log_limiter_init(&s->denylog, p->switch_cooldown_ms);
	jv_log_limiter_init(&s->seclog, JV_SECURITY_LOG_MS);
	jv_pathval_init(&s->pathval);
	if (jv_nonce_window_init(&s->nonces, p->replay_window_size,
				 p->max_nonce_gap) != JV_OK ||
	    jv_token_bucket_init(&s->ctl_bucket, p->control_rate_per_sec,
				 p->control_rate_burst, 0) != JV_OK ||
	    jv_token_bucket_init(&s->replay_bucket, p->control_rate_per_sec,
				 p->control_rate_burst, 0) != JV_OK) {
		jv_sess_destroy(s);
		return JV_ERR_INVAL;
	}
	return JV_OK;
}

void jv_sess_destroy(struct jv_session *s)
{
	jv_keys_wipe(s);
	sodium_memzero(s->root, sizeof s->root);
	free(s->paths);
	s->paths = NULL;
	s->cap_paths = s->npaths = 0;
}

void jv_sess_created(struct jv_session *s, const uint8_t id[16],
		     const uint8_t send_key[32], const uint8_t recv_key[32],
		     const uint8_t root[32], const uint8_t *peer_public,
		     const struct jv_addr *remote, jv_time now)
{
	struct jv_event ev;
	char key[JV_KEY_B64_MAX], addr[JV_ADDR_STR_MAX];

	memcpy(s->id, id, JV_SESSION_ID_BYTES);
	sodium_bin2hex(s->id_hex, sizeof s->id_hex, id, JV_SESSION_ID_BYTES);
	s->created_ms = now;
	s->unbound_since_ms = now;	/* OP-21: BIRTH is bounded by X2 */
	jv_keys_install(s, send_key, recv_key, now);
	memcpy(s->root, root, sizeof s->root);
	s->owner_epoch = 1;

	/* The policy in force travels in the log, so the audit needs nothing
	 * else (issue 4). */
	jv_ev_init(&ev, JV_EV_SESSION_CREATED);
	JV_EV_SET(&ev, state, JV_STATE_BIRTH);
	JV_EV_SET(&ev, policy, &s->policy);
	/* Who the other side is and where it spoke from (issue 11): a
	 * public key is what the operator wrote in the config, no secret. */
	if (peer_public) {
		sodium_bin2base64(key, sizeof key, peer_public, 32,
				  sodium_base64_VARIANT_ORIGINAL);
		JV_EV_SET(&ev, peer_public_key, key);
	}
	if (remote && jv_addr_format(remote, addr, sizeof addr) == JV_OK)
		JV_EV_SET(&ev, remote_addr, addr);
	jv_sess_emit(s, &ev, now);
}

bool jv_sess_terminated(const struct jv_session *s)
{
	return s->fsm.state == JV_STATE_TERMINATED;
}

const char *jv_sess_bound_id(const struct jv_session *s)
{
	return s->bound >= 0 ? s->paths[s->bound].id : NULL;
}

void jv_sess_bind(struct jv_session *s, int path, jv_time now)
{
	s->bound = path;
	jv_health_restart_windows(&s->paths[path].health, now);
	s->stable_since_ms = now;
}

void jv_sess_unbind(struct jv_session *s, jv_time now)
{
	if (s->bound >= 0)
		s->unbound_since_ms = now;
	s->bound = -1;
}

void jv_sess_emit_terminated(struct jv_session *s, enum jv_reason r,
			     const char *origin, jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_SESSION_TERMINATED);
	JV_EV_SET(&ev, reason_code, r);
	if (origin)
		JV_EV_SET(&ev, origin, origin);	/* X5 from the peer */
	JV_EV_SET(&ev, session_age_ms, now - s->created_ms);
	JV_EV_SET(&ev, transportless_age_ms,
		  s->bound >= 0 ? 0 : now - s->unbound_since_ms);
	JV_EV_SET(&ev, total_switches, s->total_switches);
	jv_sess_emit(s, &ev, now);
}

int jv_sess_input(struct jv_session *s, enum jv_input in, enum jv_reason arg,
		  jv_time now, const struct jv_event *annot,
		  bool defer_terminated)
{
	const struct jv_fsm_rule *rule = NULL;
	enum jv_state before = s->fsm.state;
	int rc = jv_fsm_apply(&s->fsm, in, arg, now, annot, &rule);

	if (rc < 0 && rc != JV_ERR_OVERFLOW)
		return rc;
	if (rc == 0 || !rule)
		return rc;

	enum jv_state after = s->fsm.state;
	if (after == JV_STATE_VOLATILE && before != JV_STATE_VOLATILE) {
		s->volatile_since_ms = now;	/* T20 self-loops keep it (LIV-04) */
		s->volatile_reason = jv_fsm_rule_reason(rule, arg);
	}
	if (after == JV_STATE_RECOVERING && before != JV_STATE_RECOVERING)
		s->recovery_deadline_ms = now + s->policy.recovery_window_ms;
	if (after != JV_STATE_RECOVERING)
		s->att.cand = -1;

	if (rule->effects & JV_EFFECT_TERMINATE) {
		enum jv_reason r = jv_fsm_rule_reason(rule, arg);
		if (rc == JV_ERR_OVERFLOW)
			r = JV_REASON_FATAL_PROTOCOL_ERROR;
		/* Cleared as of now, so SessionTerminated (now or deferred to
		 * later in this commit) reports the transportless age at the
		 * moment of termination: 0 if it was bound. */
		jv_sess_unbind(s, now);
		if (!defer_terminated)
			jv_sess_emit_terminated(s, r,
						annot && JV_EV_HAS(annot, origin)
							? annot->origin : NULL,
						now);
		s->tombstone_until_ms = now + JV_TOMBSTONE_MS;
		/* Keys are invalidated with the session (spec §2.3 X rows);
		 * a TERMINATE to the peer, if due, is sealed by the caller
		 * before it calls us (see jv_sess_terminate_with). */
		jv_keys_wipe(s);
	} else if (rule->effects & JV_EFFECT_CLEAR_BINDING) {
		jv_sess_unbind(s, now);
	}
	return rc;
}

void jv_sess_binding_dead(struct jv_session *s, bool hard, jv_time now)
{
	struct jv_event annot, ev;
	char id[JV_TRANSPORT_ID_MAX];

	if (s->bound < 0)
		return;
	snprintf(id, sizeof id, "%s", s->paths[s->bound].id);
	jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
	JV_EV_SET(&annot, heartbeat_age_ms,
		  now - s->paths[s->bound].health.last_ack_ms);
	if (jv_sess_input(s, JV_IN_TRANSPORT_DEAD, JV_REASON_NONE, now, &annot,
			  false) != 1)
		return;
	jv_ev_init(&ev, JV_EV_TRANSPORT_DEAD);
	JV_EV_SET(&ev, transport_id, id);
	JV_EV_SET(&ev, reason_code, JV_REASON_TRANSPORT_DEAD);
	JV_EV_SET(&ev, detection, hard ? "hard_failure" : "silence");
	jv_sess_emit(s, &ev, now);
}

static bool key_expired(const struct jv_session *s, jv_time now)
{
	uint64_t max = s->policy.key_max_age_ms;

	return max != 0 && s->cur.valid && now > s->keys_birth_ms + max;
}

bool jv_sess_check_terminal(struct jv_session *s, jv_time now)
{
	const struct jv_policy *p = &s->policy;

	if (jv_sess_terminated(s))
		return true;
	/* (1) X1: absolute lifetime, strict (§2.4). */
	if (now > s->created_ms + p->max_lifetime_ms) {
		(void)jv_sess_input(s, JV_IN_SESSION_TTL, JV_REASON_NONE, now,
				    NULL, false);
		return true;
	}
	/* (5) X4: keys past KEY_MAX_AGE_MS without rekey.  §3 order:
	 * SessionStateChange, then KeyExpired (an other event of the row),
	 * SessionTerminated last. */
	if (key_expired(s, now)) {
		struct jv_event ev;
		uint64_t epoch = s->cur.epoch;	/* the keys are wiped below */
		int rc = jv_sess_input(s, JV_IN_KEY_EXPIRED, JV_REASON_NONE,
				       now, NULL, true);

		if (rc == 1) {
			jv_ev_init(&ev, JV_EV_KEY_EXPIRED);
			JV_EV_SET(&ev, reason_code, JV_REASON_KEY_EXPIRED);
			JV_EV_SET(&ev, key_epoch, epoch);
			jv_sess_emit(s, &ev, now);
			jv_sess_emit_terminated(s, JV_REASON_KEY_EXPIRED, NULL,
						now);
		} else if (rc == JV_ERR_OVERFLOW) {
			jv_sess_emit_terminated(s,
						JV_REASON_FATAL_PROTOCOL_ERROR,
						NULL, now);
		}
		return true;
	}
	/* (7) X2: transportless for longer than TRANSPORT_LOST_TTL_MS. */
	if (s->bound < 0 &&
	    now > s->unbound_since_ms + p->transport_lost_ttl_ms) {
		(void)jv_sess_input(s, JV_IN_TRANSPORT_TTL, JV_REASON_NONE, now,
				    NULL, false);
		return true;
	}
	return false;
}

void jv_sess_security_event(struct jv_session *s, enum jv_event_type t,
			    enum jv_reason r, const char *transport_id,
			    const char *marker, jv_time now)
{
	struct jv_event ev;
	uint32_t suppressed = 0;

	if (jv_log_limiter_check(&s->seclog, r, now, &suppressed) != 1)
		return;
	jv_ev_init(&ev, t);
	JV_EV_SET(&ev, reason_code, r);
	if (transport_id)
		JV_EV_SET(&ev, transport_id, transport_id);
	if (t == JV_EV_SECURITY_REPLAY_DETECTED)
		JV_EV_SET(&ev, freshness_marker_type, marker ? marker : "nonce");
	else
		JV_EV_SET(&ev, violation_type, jv_reason_name(r));
	if (suppressed)
		JV_EV_SET(&ev, suppressed_count, suppressed);
	jv_sess_emit(s, &ev, now);
}

struct jv_dgram *jv_out_dgram(struct jv_out *out)
{
	if (out->ndgram >= JV_OUT_DGRAMS) {
		out->overflow++;
		return NULL;
	}
	struct jv_dgram *d = &out->dgram[out->ndgram];
	d->path = -1;
	d->local = 0;
	memset(&d->to, 0, sizeof d->to);
	d->len = 0;
	return d;
}

struct jv_inner *jv_out_inner(struct jv_out *out)
{
	if (out->ninner >= JV_OUT_INNER) {
		out->overflow++;
		return NULL;
	}
	return &out->inner[out->ninner];
}

void jv_sess_clock(struct jv_session *s, jv_time now)
{
	if (now > s->last_now_ms)
		s->last_now_ms = now;
}

void jv_sess_status(const struct jv_session *s, bool live,
		    struct jv_session_status *st)
{
	jv_time now = s->last_now_ms;

	memset(st, 0, sizeof *st);
	st->state = live ? s->fsm.state : JV_STATE_BIRTH;
	if (!live)
		return;
	snprintf(st->session_id, sizeof st->session_id, "%s", s->id_hex);
	st->state_version = s->fsm.state_version;
	st->peer_state_version = s->ack_state_version;
	if (s->bound >= 0)
		snprintf(st->bound, sizeof st->bound, "%s", s->paths[s->bound].id);
	st->total_switches = s->total_switches;
	st->key_epoch = s->cur.epoch;
	st->tx_bytes = s->tx_bytes;
	st->rx_bytes = s->rx_bytes;
	st->held_requests = s->held_requests;
	st->held_proven = s->held_proven;
	for (unsigned i = 0; i < s->npaths && st->npaths < JV_MAX_TRANSPORTS; i++) {
		const struct jv_path *p = &s->paths[i];
		struct jv_path_status *ps = &st->paths[st->npaths++];
		struct jv_health_snapshot h;

		if (!p->used)
			continue;
		jv_health_snapshot(&p->health, &s->policy, now, &h);
		snprintf(ps->id, sizeof ps->id, "%s", p->id);
		ps->role = (int)i == s->bound ? JV_PATH_BOUND
			   : (p->down || h.hard_failed) ? JV_PATH_DEAD
			   : JV_PATH_STANDBY;
		ps->loss_ratio = h.loss_defined ? h.loss_ratio : -1.0;
		ps->srtt_ms = (uint32_t)h.srtt_ms;
		ps->p95_ms = h.p95_ms;
		ps->consecutive_drops = h.consecutive_drops;
		ps->last_good_ms = h.last_good_ms == JV_TIME_NEVER ? 0 : h.last_good_ms;
		ps->tx_packets = p->tx_packets;
		ps->rx_packets = p->rx_packets;
		ps->remote = p->remote;
		ps->has_remote = p->remote.port != 0;
	}
}

void jv_tuple_id(const struct jv_addr *a, char out[JV_TRANSPORT_ID_MAX])
{
	char txt[64];

	/* "udp:" + the address when it fits (always for IPv4); an IPv6 tuple
	 * is named by a short hash of it instead, unique in practice and
	 * stable for the life of the tuple. */
	if (jv_addr_format(a, txt, sizeof txt) == JV_OK &&
	    strlen(txt) + 4 < JV_TRANSPORT_ID_MAX) {
		memcpy(out, "udp:", 4);
		memcpy(out + 4, txt, strlen(txt) + 1);
		return;
	}
	uint8_t h[8];
	crypto_generichash(h, sizeof h, (const uint8_t *)a, sizeof *a, NULL, 0);
	memcpy(out, "udp6:", 5);
	sodium_bin2hex(out + 5, JV_TRANSPORT_ID_MAX - 5, h, sizeof h);
}

/*
 * Standbys are probed every STANDBY_PROBE_INTERVAL_MS (PD-4), but never
 * less often than MIN_LOSS_SAMPLES per LOSS_WINDOW_MS: a candidate's loss
 * must be defined for it to displace a live binding (D-012), and its health
 * must be known before it is needed (make-before-break).
 */
static bool all_silent(const struct jv_session *s)
{
	for (unsigned i = 0; i < s->npaths; i++)
		if (s->paths[i].used &&
		    !jv_health_is_silent(&s->paths[i].health, &s->policy,
					 s->last_now_ms))
			return false;
	return true;
}

jv_time jv_sess_standby_interval(const struct jv_session *s, int path)
{
	const struct jv_policy *p = &s->policy;
	const struct jv_path *q = &s->paths[path];
	/* While every path is silent (§6.2) there is nothing to choose
	 * between: the gateway is away (it restarts, D-035), and probing
	 * every path at the deciding rate until it is back would only make
	 * all its clients greet it at four times their usual rate.  They are
	 * probed at the ordinary cadence; the first answer restores it. */
	bool deciding = (s->fsm.state == JV_STATE_VOLATILE ||
			 s->fsm.state == JV_STATE_DEGRADED ||
			 s->fsm.state == JV_STATE_RECOVERING) &&
			!all_silent(s);
	/* While a switch is being decided, enough samples per window that a
	 * clean candidate can show it is significantly better than a lossy
	 * binding (select.c: a 0-loss candidate's upper bound falls below
	 * 10 % only past about 40 samples); otherwise enough for its loss
	 * to be defined within one window (D-012). */
	uint64_t per_window = (uint64_t)p->min_loss_samples *
			      (deciding ? JV_DECIDING_SAMPLES_FACTOR : 1) + 1;
	jv_time fast = p->loss_window_ms / per_window;

	if (q->health.rtt_measured) {
		/* never more probes in flight than can be tracked: each waits
		 * up to 3 x srtt for its answer (F8c) */
		jv_time srtt = (jv_time)(q->health.srtt_us / 1000) + 1;
		jv_time floor = 3 * srtt / (JV_INFLIGHT_MAX - 1) + 1;

		if (fast < floor)
			fast = floor;
	}
	if (fast < 10)
		fast = 10;
	return fast < p->standby_probe_interval_ms ? fast
						   : p->standby_probe_interval_ms;
}

/*
 * OP-5: a heartbeat is dropped if unanswered within max(HEARTBEAT_INTERVAL,
 * 3 x srtt).  A standby probe is judged on its own cadence instead,
 * max(probe interval, 3 x srtt), so a candidate's losses are known as soon
 * as the binding's and the two compare like with like (S5, D-012).
 */
jv_time jv_sess_drop_timeout(const struct jv_session *s, int path)
{
	const struct jv_path *p = &s->paths[path];
	jv_time hb = jv_health_drop_timeout_ms(&p->health, &s->policy);
	jv_time srtt3, iv;

	/* Until a path has an RTT sample, OP-5's floor stands: a slow path
	 * must not have every probe declared lost before it can answer (and
	 * a late answer still teaches its round trip, F8). */
	if (path == s->bound || !p->health.rtt_measured)
		return hb;
	iv = jv_sess_standby_interval(s, path);
	/* max(probe interval, 3 x srtt), the srtt rounded up: a standby
	 * slower than the fast probe interval is slow, not lossy (F7) */
	srtt3 = 3 * (jv_time)((p->health.srtt_us + 999) / 1000);
	return srtt3 > iv ? srtt3 : iv;
}
