/* SPDX-License-Identifier: MIT */
/*
 * The client endpoint: the requester of spec §6-§7.  It owns the
 * transports, keeps the binding and the candidates measured (heartbeats on
 * the binding, probes on standbys: make-before-break), detects instability,
 * selects, passes the gates and runs the reattach attempt.  The gateway
 * only validates.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jvpn/noise.h"
#include "session.h"

struct jv_client {
	struct jv_session s;
	bool have_session;		/* a handshake completed */
	struct jv_noise_static self;
	struct jv_noise_initiator hs;
	uint8_t gateway_public[32];
	unsigned hs_attempts;
	jv_time hs_next_ms;		/* JV_TIME_NEVER: no handshake pending */
	bool hs_pending;
	int hs_path;
	uint64_t handshakes;		/* completed handshakes (sessions made) */
};

/* ---- helpers ---------------------------------------------------------- */

static struct jv_path *path_at(struct jv_client *c, int i)
{
	return (i >= 0 && (unsigned)i < c->s.npaths) ? &c->s.paths[i] : NULL;
}

static const char *path_id(const struct jv_session *s, int i)
{
	return i >= 0 ? s->paths[i].id : NULL;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void send_ctrl(struct jv_session *s, int path, const struct jv_ctrl *m,
		      struct jv_out *out)
{
	struct jv_dgram *d = jv_out_dgram(out);
	int n;

	if (!d)
		return;
	n = jv_keys_seal_ctrl(s, m, d->buf, sizeof d->buf);
	if (n < 0)
		return;
	d->path = path;
	d->len = (uint16_t)n;
	out->ndgram++;
	s->paths[path].tx_packets++;
	s->tx_bytes += (uint64_t)n;
}

/* ---- client lifecycle ------------------------------------------------- */

struct jv_client *jv_client_new(const struct jv_client_config *cfg)
{
	struct jv_client *c;

	if (!cfg || !cfg->policy || !cfg->rng.fill ||
	    jv_policy_validate(cfg->policy, NULL) != JV_OK)
		return NULL;
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (jv_sess_init(&c->s, JV_ROLE_CLIENT, cfg->policy, cfg->node_id,
			 cfg->rng, cfg->on_event, cfg->ud,
			 JV_MAX_TRANSPORTS) != JV_OK) {
		free(c);
		return NULL;
	}
	if (jv_noise_static_init(&c->self, cfg->private_key) != JV_OK) {
		jv_sess_destroy(&c->s);
		free(c);
		return NULL;
	}
	memcpy(c->gateway_public, cfg->gateway_public, 32);
	c->hs_next_ms = JV_TIME_NEVER;
	c->hs_path = -1;
	return c;
}

void jv_client_free(struct jv_client *c)
{
	if (!c)
		return;
	jv_noise_hs_wipe(&c->hs.hs);
	jv_sess_destroy(&c->s);
	sodium_memzero(c, sizeof *c);
	free(c);
}

int jv_client_add_transport(struct jv_client *c, const char *id,
			    uint32_t proto, unsigned priority)
{
	struct jv_session *s = &c->s;
	char buf[JV_TRANSPORT_ID_MAX] = { 0 };
	struct jv_path *p;

	if (!id || strlen(id) == 0 || strlen(id) >= JV_TRANSPORT_ID_MAX)
		return JV_ERR_INVAL;
	memcpy(buf, id, strlen(id));
	if (!jv_wire_transport_id_ok(buf))
		return JV_ERR_INVAL;
	if (proto == 0 || (proto & (proto - 1)) != 0 ||
	    !(proto & s->policy.allowed_protocols))
		return JV_ERR_INVAL;
	for (unsigned i = 0; i < s->npaths; i++)
		if (!strcmp(s->paths[i].id, id))
			return JV_ERR_INVAL;
	if (s->npaths >= s->cap_paths)
		return JV_ERR_LIMIT;
	p = &s->paths[s->npaths];
	memset(p, 0, sizeof *p);
	p->used = true;
	memcpy(p->id, buf, sizeof buf);
	p->proto = proto;
	p->priority = priority;
	jv_health_init(&p->health, &s->policy, 0);
	return (int)s->npaths++;
}

int jv_client_set_remote(struct jv_client *c, int path,
			 const struct jv_addr *remote)
{
	struct jv_path *p = path_at(c, path);

	if (!p || !remote)
		return JV_ERR_INVAL;
	p->remote = *remote;
	return JV_OK;
}

/* The handshake goes out on the up paths in priority order, one per
 * attempt, so a dead primary at start-up does not stall the session. */
static int pick_handshake_path(const struct jv_client *c)
{
	int order[JV_MAX_TRANSPORTS], n = 0;

	for (unsigned i = 0; i < c->s.npaths; i++)
		if (c->s.paths[i].used && !c->s.paths[i].down)
			order[n++] = (int)i;
	if (n == 0)
		return -1;
	for (int i = 1; i < n; i++)	/* insertion sort: n <= 16 */
		for (int j = i; j > 0 &&
		     c->s.paths[order[j]].priority < c->s.paths[order[j - 1]].priority;
		     j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return order[c->hs_attempts % (unsigned)n];
}

static void send_initiation(struct jv_client *c, jv_time now,
			    struct jv_out *out)
{
	struct jv_dgram *d;
	int path = pick_handshake_path(c);
	uint32_t jitter;
	jv_time backoff = JV_HANDSHAKE_RETRY_MS;

	for (unsigned i = 0; i < c->hs_attempts && backoff < JV_HANDSHAKE_RETRY_MAX_MS; i++)
		backoff *= 2;
	if (backoff > JV_HANDSHAKE_RETRY_MAX_MS)
		backoff = JV_HANDSHAKE_RETRY_MAX_MS;
	/* +-25 % jitter: a gateway restart must not synchronise its clients
	 * into a reconnect storm. */
	jv_rng_fill(&c->s.rng, &jitter, sizeof jitter);
	backoff = backoff * 3 / 4 + jitter % (backoff / 2 + 1);
	c->hs_next_ms = now + backoff;
	c->hs_attempts++;
	c->hs_pending = true;
	if (path < 0)
		return;
	d = jv_out_dgram(out);
	if (!d)
		return;
	uint32_t index = 0;
	while (index == 0)
		jv_rng_fill(&c->s.rng, &index, sizeof index);
	if (jv_noise_initiation_create(&c->hs, &c->self, c->gateway_public,
				       index, now, &c->s.rng, d->buf) != JV_OK)
		return;
	d->len = JV_WIRE_INITIATION_SIZE;
	c->hs_path = path;
	d->path = path;
	out->ndgram++;
	c->s.paths[path].tx_packets++;
}

int jv_client_start(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	jv_sess_clock(&c->s, now);

	if (s->npaths == 0)
		return JV_ERR_STATE;
	if (c->have_session && !jv_sess_terminated(s))
		return JV_ERR_STATE;
	if (c->have_session) {
		/* A new handshake makes a new session (spec §7.7): keep the
		 * transports, reset everything else. */
		struct jv_path saved[JV_MAX_TRANSPORTS];
		unsigned n = s->npaths;
		struct jv_policy pol = s->policy;
		struct jv_rng rng = s->rng;
		jv_session_event_fn fn = s->on_event;
		void *ud = s->ud;
		char node[JV_NODE_ID_MAX];

		memcpy(saved, s->paths, n * sizeof *saved);
		snprintf(node, sizeof node, "%s", s->node_id);
		jv_sess_destroy(s);
		if (jv_sess_init(s, JV_ROLE_CLIENT, &pol, node, rng, fn, ud,
				 JV_MAX_TRANSPORTS) != JV_OK)
			return JV_ERR_NOMEM;
		memcpy(s->paths, saved, n * sizeof *saved);
		s->npaths = n;
		c->have_session = false;
	}
	for (unsigned i = 0; i < s->npaths; i++) {
		jv_health_init(&s->paths[i].health, &s->policy, now);
		s->paths[i].ninflight = 0;
	}
	c->hs_attempts = 0;
	send_initiation(c, now, out);
	return JV_OK;
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
static bool nonce_available(const struct jv_session *s,
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
	if (!nonce_available(s, p, now))
		return;		/* held: counts as a lost copy */

	/* §7.5: every copy carries a fresh, strictly increasing nonce. */
	uint64_t nonce = ++s->next_nonce;
	if (s->att.nnonces < sizeof s->att.nonces / sizeof s->att.nonces[0])
		s->att.nonces[s->att.nnonces++] = nonce;
	else
		s->att.nonces[s->att.nnonces - 1] = nonce;
	memcpy(r->session_id, s->id, sizeof r->session_id);
	r->nonce = nonce;
	r->protocol_version = JV_PROTOCOL_VERSION;
	r->ts_ms = now;
	r->state_version = s->ack_state_version;
	r->trigger_reason = s->att.trigger;
	r->recovery_reason = s->att.recovery;
	memcpy(r->candidate.transport_id, p->id, sizeof p->id);
	r->candidate.proto = (uint8_t)p->proto;
	memcpy(r->candidate.remote_ip, p->remote.ip, sizeof p->remote.ip);
	r->candidate.remote_port = p->remote.port;
	send_ctrl(s, s->att.cand, &m, out);
}

static void attempt_begin(struct jv_client *c, int cand, enum jv_reason why,
			  unsigned set_size, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_event ev;

	s->att.cand = cand;
	s->att.ordinal++;
	s->att.copies = 0;
	s->att.nnonces = 0;
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
		jv_health_snapshot(&p->health, &s->policy, now, &cand[n].h);
		map[n++] = (int)i;
	}
	return n;
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
	struct jv_select_binding b;
	struct jv_candidate cand[JV_MAX_TRANSPORTS];
	int map[JV_MAX_TRANSPORTS];
	struct jv_select_result r;
	bool have_b;
	size_t n = gather(c, now, &b, &have_b, cand, map);

	if (jv_select(have_b ? &b : NULL, cand, n, &s->policy, now,
		      s->operator_order, &r) != JV_OK)
		return;
	for (size_t i = 0; i < n; i++)
		if (r.restabilized_mask & (1u << i))
			s->paths[map[i]].needs_restabilize = false;

	const char *best = r.best >= 0 ? cand[r.best].id : NULL;
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
	int target = change ? map[r.winner] : s->bound;
	enum jv_reason gate = jv_switch_gates(&s->limiter, &s->policy, now,
					      change, true);
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
	if (jv_sess_input(s, JV_IN_SWITCH_START, r.reason, now, &annot,
			  false) != 1)
		return;
	s->operator_order = NULL;
	s->att.tried_mask = 0;
	s->att.ordinal = 0;
	attempt_begin(c, target, r.reason, r.candidate_set_size, now, out);
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

	p->excluded_until_ms = now + s->policy.switch_cooldown_ms;
	p->needs_restabilize = true;
	s->att.tried_mask |= 1u << s->att.cand;

	struct jv_select_binding b;
	struct jv_candidate cand[JV_MAX_TRANSPORTS];
	int map[JV_MAX_TRANSPORTS];
	struct jv_select_result r;
	bool have_b;
	size_t n = gather(c, now, &b, &have_b, cand, map);

	if (jv_select(have_b ? &b : NULL, cand, n, &s->policy, now, NULL,
		      &r) == JV_OK &&
	    r.outcome != JV_SELECT_DENY) {
		bool change = r.outcome == JV_SELECT_SWITCH;
		int target = change ? map[r.winner] : s->bound;

		if (!(s->att.tried_mask & (1u << target)) &&
		    jv_switch_gates(&s->limiter, &s->policy, now, change,
				    true) == JV_REASON_NONE &&
		    jv_sess_input(s, JV_IN_CANDIDATE_ABANDONED, JV_REASON_NONE,
				  now, NULL, false) == 0) {
			attempt_begin(c, target, r.reason, r.candidate_set_size, now, out);
			return;
		}
	}
	/* No other candidate: while this one's path is up it stays the
	 * candidate, retried with fresh nonces until the recovery window
	 * decides (T46, RW-1); only a dead path exhausts the episode (T45). */
	if (!p->down && (s->bound == s->att.cand || !rate_capped(s, now))) {
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

static void attempt_progress(struct jv_client *c, jv_time now,
			     struct jv_out *out)
{
	struct jv_session *s = &c->s;

	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand < 0)
		return;
	if (s->paths[s->att.cand].down) {
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

static bool attempt_owns(const struct jv_session *s, uint64_t nonce)
{
	for (unsigned i = 0; i < s->att.nnonces; i++)
		if (s->att.nonces[i] == nonce)
			return true;
	return false;
}

static void on_ack(struct jv_client *c, const struct jv_ctrl_reattach_ack *a,
		   jv_time now)
{
	struct jv_session *s = &c->s;

	s->ack_state_version = max_u64(s->ack_state_version, a->state_version);
	nonce_answered(s, a->nonce, JV_REASON_NONE);
	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand < 0 ||
	    !attempt_owns(s, a->nonce))
		return;	/* late ACK: only its version is recorded (§2.3) */

	int cand = s->att.cand;
	int old = s->bound;
	bool change = old != cand;
	char prev[JV_TRANSPORT_ID_MAX] = "";
	struct jv_health_snapshot h;
	uint64_t nonce = a->nonce;
	jv_time started = s->att.start_ms;

	/* Never commit a switch past the per-minute cap (INV-08), even if
	 * the validator agreed: the attempt then ends by its window. */
	if (change && rate_capped(s, now))
		return;
	if (old >= 0)
		snprintf(prev, sizeof prev, "%s", s->paths[old].id);
	jv_health_snapshot(&s->paths[cand].health, &s->policy, now, &h);
	if (jv_sess_input(s, JV_IN_REATTACH_OK, JV_REASON_NONE, now, NULL,
			  false) != 1)
		return;
	jv_sess_bind(s, cand, now);
	s->rx_have = false;
	if (change) {
		struct jv_event ev;

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
		jv_sess_emit(s, &ev, now);
	}
	emit_result(s, true, JV_REASON_REATTACH_SUCCESS, s->paths[cand].id,
		    nonce, false, now);
	s->att.cand = -1;
	/* The bound path gets a heartbeat at once, so the new binding's
	 * detection windows have samples from the start. */
	s->paths[cand].next_probe_ms = now;
}

static void on_deny(struct jv_client *c, const struct jv_ctrl_reattach_deny *d,
		    jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	s->ack_state_version = max_u64(s->ack_state_version, d->state_version);
	nonce_answered(s, d->nonce, d->reason);
	if (s->fsm.state != JV_STATE_RECOVERING || s->att.cand < 0 ||
	    !attempt_owns(s, d->nonce))
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
		p->excluded_until_ms = now + s->policy.switch_cooldown_ms;
		p->needs_restabilize = true;
		if (jv_sess_input(s, in, d->reason, now, NULL,
				  in == JV_IN_DENY_FATAL) != 1)
			return;
		emit_result(s, false, d->reason, cand, d->nonce, false, now);
		if (in == JV_IN_DENY_FATAL)
			jv_sess_emit_terminated(s, d->reason, NULL, now);
		else
			emit_switch_denied(s, d->reason, cand, 1, now, false);
		return;
	}
	default:
		return;	/* no class: treated as no response (§7.2) */
	}
}

/* ---- health facts ----------------------------------------------------- */

static void inflight_push(struct jv_session *s, struct jv_path *p,
			  uint64_t seq, jv_time now)
{
	if (p->ninflight == JV_INFLIGHT_MAX) {
		/* The oldest is given up on: a drop. */
		memmove(&p->inflight[0], &p->inflight[1],
			(JV_INFLIGHT_MAX - 1) * sizeof p->inflight[0]);
		p->ninflight--;
		jv_health_on_drop(&p->health, &s->policy, now);
	}
	p->inflight[p->ninflight].seq = seq;
	p->inflight[p->ninflight].sent_ms = now;
	p->ninflight++;
}

static bool inflight_take(struct jv_path *p, uint64_t seq, jv_time *sent)
{
	for (unsigned i = 0; i < p->ninflight; i++) {
		if (p->inflight[i].seq != seq)
			continue;
		*sent = p->inflight[i].sent_ms;
		memmove(&p->inflight[i], &p->inflight[i + 1],
			(p->ninflight - i - 1) * sizeof p->inflight[0]);
		p->ninflight--;
		return true;
	}
	return false;
}

static void expire_inflight(struct jv_session *s, jv_time now)
{
	for (unsigned i = 0; i < s->npaths; i++) {
		struct jv_path *p = &s->paths[i];
		jv_time to = jv_sess_drop_timeout(s, (int)i);

		while (p->ninflight && now > p->inflight[0].sent_ms + to) {
			memmove(&p->inflight[0], &p->inflight[1],
				(p->ninflight - 1) * sizeof p->inflight[0]);
			p->ninflight--;
			jv_health_on_drop(&p->health, &s->policy, now);
		}
	}
}

static void send_probes(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	for (unsigned i = 0; i < s->npaths; i++) {
		struct jv_path *p = &s->paths[i];
		bool bound = (int)i == s->bound;
		struct jv_ctrl m;

		if (!p->used || p->down || now < p->next_probe_ms)
			continue;
		memset(&m, 0, sizeof m);
		m.type = bound ? JV_CTRL_HEARTBEAT : JV_CTRL_PROBE;
		m.hb.seq = ++p->next_seq;
		m.hb.send_ts = now;
		m.hb.state_version = s->fsm.state_version;
		send_ctrl(s, (int)i, &m, out);
		inflight_push(s, p, m.hb.seq, now);
		p->next_probe_ms = now + (bound ? s->policy.heartbeat_interval_ms
					   : jv_sess_standby_interval(s));
	}
}

static void on_hb_ack(struct jv_client *c, int path,
		      const struct jv_ctrl_heartbeat *a, jv_time now)
{
	struct jv_session *s = &c->s;
	struct jv_path *p = &s->paths[path];
	jv_time sent;

	s->ack_state_version = max_u64(s->ack_state_version, a->state_version);
	if (!inflight_take(p, a->seq, &sent))
		return;	/* late (already counted as a drop) or unknown */
	jv_health_on_ack(&p->health, &s->policy, now, (uint32_t)(now - sent));
	p->last_probe_ok_ms = now;
}

/*
 * OP-23: losses on the binding, from the gateway's counter sequence.  A
 * skipped counter is a gap; a gap still open JV_REORDER_MS after it
 * appeared (or pushed out of the 64-counter window) is a loss, booked at
 * the time the gap appeared (jv_health_on_lost_at), so reordering by
 * jitter is not taken for loss and a burst counts in the window it
 * happened in.  Counters that arrived on other paths (probe
 * answers share the sequence) are accounted for, not lost.
 */
enum { RX_WINDOW = 64, JV_REORDER_MS = 100 };

static bool seen_elsewhere(const struct jv_session *s, uint64_t ctr)
{
	for (unsigned i = 0; i < 16; i++)
		if (s->rx_other[i] == ctr)
			return true;
	return false;
}

static void account(struct jv_session *s, unsigned bit)
{
	s->rx_bits |= (uint64_t)1 << bit;
}

static void note_counter(struct jv_session *s, int path, uint8_t epoch,
			 uint64_t ctr, jv_time now)
{
	uint32_t lost = 0;

	/* Each key epoch has its own counter sequence, from 0 (keys.c): a
	 * rotation restarts the tracking, and a straggler of the previous
	 * epoch is delivered but says nothing about gaps in the new one. */
	if (epoch != s->rx_epoch) {
		if (epoch != (uint8_t)s->cur.epoch) {
			if (path == s->bound)
				jv_health_on_data(&s->paths[path].health,
						  &s->policy, now, 1, 0);
			return;
		}
		s->rx_epoch = epoch;
		s->rx_have = false;
		for (unsigned i = 0; i < 16; i++)
			s->rx_other[i] = UINT64_MAX;
	}
	if (path != s->bound) {
		s->rx_other[s->rx_other_head++ % 16] = ctr;
		if (s->rx_have && ctr <= s->rx_top && s->rx_top - ctr < RX_WINDOW)
			account(s, (unsigned)(s->rx_top - ctr));
		return;
	}
	if (!s->rx_have) {
		s->rx_have = true;
		s->rx_top = ctr;
		/* counters before the first one seen are not ours to judge */
		s->rx_bits = ~(uint64_t)0;
	} else if (ctr > s->rx_top) {
		uint64_t shift = ctr - s->rx_top;

		/* Gaps pushed out of the window unseen are lost, as of the
		 * time they appeared. */
		for (uint64_t i = 0; i < RX_WINDOW && i < shift; i++) {
			unsigned bit = RX_WINDOW - 1 - (unsigned)i;
			uint64_t c = s->rx_top - bit;
			if (!(s->rx_bits & ((uint64_t)1 << bit)) &&
			    !seen_elsewhere(s, c))
				jv_health_on_lost_at(&s->paths[path].health,
						     &s->policy, now,
						     s->rx_gap_at[c % RX_WINDOW], 1);
		}
		/* A jump wider than the window: the counters in between never
		 * came (capped, so one huge jump cannot fake a collapse). */
		if (shift > RX_WINDOW)
			lost += (uint32_t)((shift - RX_WINDOW) > RX_WINDOW
						   ? RX_WINDOW : shift - RX_WINDOW);
		s->rx_bits = shift >= RX_WINDOW ? 0 : s->rx_bits << shift;
		s->rx_bits |= 1;
		/* the counters skipped now are gaps from now */
		for (uint64_t c = s->rx_top + 1; c < ctr; c++)
			if (ctr - c < RX_WINDOW)
				s->rx_gap_at[c % RX_WINDOW] = now;
		s->rx_top = ctr;
	} else if (s->rx_top - ctr < RX_WINDOW) {
		account(s, (unsigned)(s->rx_top - ctr));	/* late, not lost */
	}
	/* Gaps open for longer than the reorder allowance are losses. */
	for (unsigned bit = 1; bit < RX_WINDOW && bit <= s->rx_top; bit++) {
		uint64_t c = s->rx_top - bit;
		if (s->rx_bits & ((uint64_t)1 << bit))
			continue;
		if (now < s->rx_gap_at[c % RX_WINDOW] + JV_REORDER_MS)
			continue;
		if (!seen_elsewhere(s, c))
			jv_health_on_lost_at(&s->paths[path].health, &s->policy,
					     now, s->rx_gap_at[c % RX_WINDOW], 1);
		account(s, bit);
	}
	jv_health_on_data(&s->paths[path].health, &s->policy, now, 1, lost);
}

/* ---- the evaluation loop (spec §2.4) ---------------------------------- */

static bool rate_capped(const struct jv_session *s, jv_time now)
{
	return jv_switch_count(&s->limiter, now) >= s->policy.max_switches_per_min;
}

/*
 * The binding is declared dead (T10/T20/T30/T47).  An attempt that was
 * revalidating it would now bind a transport to an empty binding: a
 * switch, which must fit under MAX_SWITCHES_PER_MIN like any other
 * (INV-08); if it does not, the candidate is abandoned (T44/T45).
 */
static void binding_died(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	int old = s->bound;

	jv_sess_binding_dead(s, jv_health_hard_failed(&s->paths[old].health),
			     now);
	if (s->fsm.state == JV_STATE_RECOVERING && s->att.cand == old &&
	    rate_capped(s, now))
		attempt_abandon(c, now, out);
}

static void client_evaluate(struct jv_client *c, jv_time now,
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
		/* (8) transport_dead of the binding. */
		if (s->bound >= 0 &&
		    jv_health_condition(&s->paths[s->bound].health, &s->policy,
					now) == JV_REASON_TRANSPORT_DEAD) {
			binding_died(c, now, out);
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
		/* (13) switch evaluation. */
		if (st == JV_STATE_VOLATILE || st == JV_STATE_DEGRADED)
			switch_evaluate(c, now, out);
		if (s->fsm.state_version == v)
			break;
	}
}

static void maybe_rekey(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_ctrl m = { .type = JV_CTRL_REKEY };

	if (s->bound < 0 || jv_sess_terminated(s))
		return;
	if (!s->rekey_pending_epoch) {
		if (!jv_keys_need_rekey(s, now))
			return;
		/* OP-11: at most one rekey per rekey_interval_ms since the
		 * last rotation; the refusal is reported once per epoch and
		 * the rekey goes ahead when the interval is over (the timer
		 * is armed for it, timers.c). */
		if (now < s->last_rekey_ms + s->policy.rekey_interval_ms) {
			struct jv_event ev;

			if (s->rekey_denied_epoch == s->cur.epoch + 1)
				return;
			s->rekey_denied_epoch = s->cur.epoch + 1;
			jv_ev_init(&ev, JV_EV_REKEY_DENIED);
			JV_EV_SET(&ev, reason_code, JV_REASON_POLICY_DENIED);
			JV_EV_SET(&ev, key_epoch, s->cur.epoch);
			jv_sess_emit(s, &ev, now);
			return;
		}
		s->rekey_pending_epoch = s->cur.epoch + 1;
	} else if (now < s->rekey_next_tx_ms) {
		return;
	}
	m.rekey.new_epoch = (uint8_t)s->rekey_pending_epoch;
	send_ctrl(s, s->bound, &m, out);
	s->rekey_next_tx_ms = now + 1000;
}

static void emit_rotated(struct jv_session *s, jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_KEY_ROTATED);
	JV_EV_SET(&ev, reason_code, JV_REASON_TIME_ELAPSED);
	JV_EV_SET(&ev, key_epoch, s->cur.epoch);
	jv_sess_emit(s, &ev, now);
}

/* ---- public entry points ---------------------------------------------- */

int jv_client_tick(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	jv_sess_clock(&c->s, now);

	if (!c->have_session) {
		if (c->hs_pending && now >= c->hs_next_ms)
			send_initiation(c, now, out);
		return JV_OK;
	}
	if (jv_sess_terminated(s))
		return JV_OK;
	jv_keys_expire_prev(s, now);
	expire_inflight(s, now);
	client_evaluate(c, now, out);
	if (jv_sess_terminated(s))
		return JV_OK;
	send_probes(c, now, out);
	maybe_rekey(c, now, out);
	return JV_OK;
}

jv_time jv_client_deadline(const struct jv_client *c)
{
	if (!c->have_session)
		return c->hs_pending ? c->hs_next_ms : JV_TIME_NEVER;
	if (jv_sess_terminated(&c->s))
		return JV_TIME_NEVER;
	return jv_sess_deadline(&c->s, c->s.last_now_ms);
}

static void handshake_done(struct jv_client *c, int path,
			   const uint8_t *pkt, size_t n, jv_time now,
			   struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_noise_result res;
	struct jv_event ev;

	if (!c->hs_pending ||
	    jv_noise_response_consume(&c->hs, pkt, n, &res, NULL) != JV_OK)
		return;
	c->hs_pending = false;
	c->hs_next_ms = JV_TIME_NEVER;
	c->have_session = true;
	c->handshakes++;
	s->local_index = res.local_index;
	s->remote_index = res.remote_index;
	jv_sess_created(s, res.session_id, res.key_i2r, res.key_r2i, now);
	jv_noise_result_wipe(&res);
	for (unsigned i = 0; i < s->npaths; i++) {
		jv_health_init(&s->paths[i].health, &s->policy, now);
		s->paths[i].next_probe_ms = now;
		s->paths[i].ninflight = 0;
		s->paths[i].last_probe_ok_ms = now;
	}
	if (jv_sess_input(s, JV_IN_ATTACH_OK, JV_REASON_NONE, now, NULL,
			  false) != 1)
		return;
	jv_sess_bind(s, path, now);
	jv_ev_init(&ev, JV_EV_TRANSPORT_ATTACHED);
	JV_EV_SET(&ev, transport_id, s->paths[path].id);
	JV_EV_SET(&ev, reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	jv_sess_emit(s, &ev, now);
	/* The first heartbeat confirms the keys to the gateway (its T01). */
	send_probes(c, now, out);
}

static void on_ctrl(struct jv_client *c, int path, const struct jv_ctrl *m,
		    jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	switch (m->type) {
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE_ACK:
		on_hb_ack(c, path, &m->hb, now);
		break;
	case JV_CTRL_REATTACH_ACK:
		on_ack(c, &m->ack, now);
		break;
	case JV_CTRL_REATTACH_DENY:
		on_deny(c, &m->deny, now, out);
		break;
	case JV_CTRL_PATH_CHALLENGE: {
		/* PD-2: answer on the path it came from; the response is a
		 * reattach request for the address the gateway saw (and
		 * takes a nonce like one). */
		struct jv_ctrl r = { .type = JV_CTRL_PATH_RESPONSE };

		if (!nonce_available(s, NULL, now))
			break;
		memcpy(r.path_response.data, m->challenge.data,
		       sizeof r.path_response.data);
		r.path_response.nonce = ++s->next_nonce;
		r.path_response.state_version = s->ack_state_version;
		send_ctrl(s, path, &r, out);
		break;
	}
	case JV_CTRL_TERMINATE: {
		struct jv_event annot;
		jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
		JV_EV_SET(&annot, origin, "peer");
		(void)jv_sess_input(s, JV_IN_TERMINATE_CMD, m->terminate.reason,
				    now, &annot, false);
		break;
	}
	default:
		break;	/* HEARTBEAT, PROBE, REKEY... are the gateway's to get */
	}
}

int jv_client_recv(struct jv_client *c, int path, const uint8_t *pkt,
		   size_t n, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_path *p = path_at(c, path);
	struct jv_wire_hdr h;
	uint8_t pt[JV_WIRE_DGRAM_MAX];
	bool rotated;
	int type, len;

	jv_sess_clock(&c->s, now);

	if (!p || !pkt)
		return JV_ERR_INVAL;
	type = jv_wire_classify(pkt, n);
	if (type == JV_MSG_RESPONSE) {
		handshake_done(c, path, pkt, n, now, out);
		return JV_OK;
	}
	if ((type != JV_MSG_DATA && type != JV_MSG_CONTROL) ||
	    !c->have_session || jv_sess_terminated(s))
		return JV_ERR_PARSE;
	if (jv_wire_hdr_decode(pkt, n, &h, NULL) != JV_OK ||
	    h.receiver_index != s->local_index)
		return JV_ERR_PARSE;
	len = jv_keys_open(s, &h, pkt, n, pt, sizeof pt, now, &rotated);
	if (len < 0) {
		if (len == JV_ERR_REPLAY)
			s->dropped_replay++;
		else
			s->dropped_auth++;
		return len;
	}
	if (rotated)
		emit_rotated(s, now);
	/* §2.4: the terminal timers (1)-(7) come before the input itself
	 * (an ACK is (9)); a session they end takes nothing more (Z1). */
	if (jv_sess_check_terminal(s, now))
		return JV_OK;
	p->rx_packets++;
	s->rx_bytes += n;
	note_counter(s, path, h.key_epoch, h.counter, now);
	if (type == JV_MSG_DATA) {
		struct jv_inner *in = jv_out_inner(out);
		if (in) {
			memcpy(in->buf, pt, (size_t)len);
			in->len = (uint16_t)len;
			in->peer = 0;
			out->ninner++;
		}
	} else {
		struct jv_ctrl m;
		if (jv_ctrl_decode(pt, (size_t)len, &m, NULL) != JV_OK)
			return JV_ERR_PARSE;
		on_ctrl(c, path, &m, now, out);
	}
	client_evaluate(c, now, out);
	return JV_OK;
}

int jv_client_send(struct jv_client *c, const uint8_t *ip, size_t n,
		   jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	struct jv_dgram *d;
	int len;

	jv_sess_clock(&c->s, now);

	if (!ip || n == 0 || n > JV_MTU_MAX)
		return JV_ERR_INVAL;
	if (!c->have_session || s->bound < 0 || jv_sess_terminated(s))
		return JV_ERR_STATE;
	d = jv_out_dgram(out);
	if (!d)
		return JV_ERR_NOSPACE;
	len = jv_keys_seal(s, JV_MSG_DATA, ip, n, d->buf, sizeof d->buf);
	if (len < 0)
		return len;
	d->path = s->bound;
	d->len = (uint16_t)len;
	out->ndgram++;
	s->paths[s->bound].tx_packets++;
	s->tx_bytes += (uint64_t)len;
	return JV_OK;
}

int jv_client_path_down(struct jv_client *c, int path, jv_time now,
			struct jv_out *out)
{
	struct jv_path *p = path_at(c, path);

	jv_sess_clock(&c->s, now);

	if (!p)
		return JV_ERR_INVAL;
	p->down = true;
	p->ninflight = 0;
	jv_health_on_hard_failure(&p->health, &c->s.policy, now);
	client_evaluate(c, now, out);
	return JV_OK;
}

int jv_client_path_up(struct jv_client *c, int path, jv_time now,
		      struct jv_out *out)
{
	struct jv_path *p = path_at(c, path);

	jv_sess_clock(&c->s, now);

	if (!p)
		return JV_ERR_INVAL;
	if (p->down) {
		p->down = false;
		p->next_probe_ms = now;
	}
	client_evaluate(c, now, out);
	return JV_OK;
}

int jv_client_request_switch(struct jv_client *c, const char *id,
			     jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;
	bool known = false;

	jv_sess_clock(&c->s, now);

	if (!id)
		return JV_ERR_INVAL;
	for (unsigned i = 0; i < s->npaths; i++)
		known |= !strcmp(s->paths[i].id, id);
	if (!known && id[0])
		return JV_ERR_NOTFOUND;
	/* §6.4: no attempt is ever started from ATTACHED; the order waits
	 * for the next evaluation in VOLATILE or DEGRADED. */
	if (!c->have_session || (s->fsm.state != JV_STATE_VOLATILE &&
				 s->fsm.state != JV_STATE_DEGRADED))
		return JV_ERR_STATE;
	snprintf(s->operator_order_buf, sizeof s->operator_order_buf, "%s", id);
	s->operator_order = s->operator_order_buf;
	client_evaluate(c, now, out);
	return JV_OK;
}

int jv_client_terminate(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	jv_sess_clock(&c->s, now);

	if (!c->have_session || jv_sess_terminated(s))
		return JV_ERR_STATE;
	/* X5: the peer is told, on the binding or, without one, on every
	 * path that is up (the gateway takes it from any tuple). */
	struct jv_ctrl m = { .type = JV_CTRL_TERMINATE };
	m.terminate.reason = JV_REASON_OPERATOR_TERMINATED;
	if (s->bound >= 0) {
		send_ctrl(s, s->bound, &m, out);
	} else {
		for (unsigned i = 0; i < s->npaths; i++)
			if (s->paths[i].used && !s->paths[i].down)
				send_ctrl(s, (int)i, &m, out);
	}
	(void)jv_sess_input(s, JV_IN_TERMINATE_CMD,
			    JV_REASON_OPERATOR_TERMINATED, now, NULL, false);
	return JV_OK;
}

enum jv_state jv_client_state(const struct jv_client *c)
{
	return c->have_session ? c->s.fsm.state : JV_STATE_BIRTH;
}

void jv_client_status(const struct jv_client *c, struct jv_session_status *st)
{
	jv_sess_status(&c->s, c->have_session, st);
}
