/* SPDX-License-Identifier: MIT */
/*
 * The client endpoint: the requester of spec §6-§7 (client_impl.h says
 * how it is split).  This file: creating the client and its transports,
 * the handshake (with jittered backoff over the paths), rekey, and the
 * public entry points, which feed facts to client_probe.c and run the
 * evaluation of client_attempt.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client_impl.h"

/* ---- helpers ---------------------------------------------------------- */

static struct jv_path *path_at(struct jv_client *c, int i)
{
	return (i >= 0 && (unsigned)i < c->s.npaths) ? &c->s.paths[i] : NULL;
}



void jv_cl_send_ctrl(struct jv_session *s, int path, const struct jv_ctrl *m,
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
	c->policy = *cfg->policy;
	memcpy(c->gateway_public, cfg->gateway_public, 32);
	jv_cookie_seal_key(c->gateway_public, c->cookie_key);
	c->hs_next_ms = JV_TIME_NEVER;
	c->hs_path = -1;
	c->cookie_path = -1;
	c->cookie_resend_ms = JV_TIME_NEVER;
	return c;
}

void jv_client_free(struct jv_client *c)
{
	if (!c)
		return;
	jv_noise_hs_wipe(&c->hs.hs);
	for (unsigned i = 0; i < c->s.npaths; i++)
		free(c->s.paths[i].inflight);
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
	/* client paths only: a gateway's never send probes */
	p->inflight = calloc(JV_INFLIGHT_MAX, sizeof *p->inflight);
	if (!p->inflight)
		return JV_ERR_NOMEM;
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

/* A cookie is used on the path it came for (it names the address the
 * gateway saw there) until shortly before the gateway may replace R. */
static bool cookie_fresh(const struct jv_client *c, int path, jv_time now)
{
	return c->cookie_path == path &&
	       !(c->cookie_ms + JV_COOKIE_SECRET_MS -
		 JV_COOKIE_CLIENT_MARGIN_MS <= now);
}

/* A new initiation (new index, ephemeral and timestamp) on `path`, with
 * mac2 if we hold a cookie for it. */
static void emit_initiation(struct jv_client *c, int path, jv_time now,
			    struct jv_out *out)
{
	struct jv_dgram *d = jv_out_dgram(out);
	uint32_t index = 0;

	if (!d)
		return;
	while (index == 0)
		jv_rng_fill(&c->s.rng, &index, sizeof index);
	if (jv_noise_initiation_create(&c->hs, &c->self, c->gateway_public,
				       index, now, &c->s.rng, d->buf) != JV_OK)
		return;
	if (cookie_fresh(c, path, now))
		jv_cookie_add_mac2(c->cookie, d->buf);
	d->len = JV_WIRE_INITIATION_SIZE;
	c->hs_path = path;
	d->path = path;
	out->ndgram++;
	c->s.paths[path].tx_packets++;
	if (c->hs_unanswered++ == 0)
		c->hs_first_ms = now;
	c->hs_paths |= 1u << path;
}

static void send_initiation(struct jv_client *c, jv_time now,
			    struct jv_out *out)
{
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
	if (path >= 0)
		emit_initiation(c, path, now, out);
}

/*
 * COOKIE_REPLY: the gateway is under load and wants mac2.  The reply is
 * unauthenticated (its key derives from the gateway's public key): it is
 * taken only for the outstanding initiation (its index, its mac1 as the
 * AD) on the path that initiation went, and all it may do is store the
 * cookie and resend that initiation once, early, rate limited.  The retry
 * timer, the attempt count and the session are not touched: a forged
 * reply (only an observer of the initiation can make one) costs at most
 * one extra initiation, the same as an early retry.
 */
static void on_cookie_reply(struct jv_client *c, int path, const uint8_t *pkt,
			    size_t n, jv_time now, struct jv_out *out)
{
	uint8_t cookie[JV_COOKIE_SIZE];

	if (c->have_session || !c->hs_pending || path != c->hs_path ||
	    c->hs.sender_index == 0 ||
	    jv_cookie_reply_open(c->cookie_key, c->hs.sender_index,
				 c->hs.mac1, pkt, n, cookie, NULL) != JV_OK)
		return;
	memcpy(c->cookie, cookie, sizeof cookie);
	sodium_memzero(cookie, sizeof cookie);
	c->cookie_ms = now;
	c->cookie_path = path;
	c->cookies++;
	if (c->cookie_resend_ms != JV_TIME_NEVER &&
	    now < c->cookie_resend_ms + JV_COOKIE_RESEND_MIN_MS)
		return;
	c->cookie_resend_ms = now;
	/* a new sender index: this reply fits no initiation any more */
	emit_initiation(c, path, now, out);
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
		/* the latest policy, not the one the old session ended on */
		struct jv_policy pol = c->policy;
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
	c->hs_unanswered = 0;
	c->hs_paths = 0;
	jv_cl_rx_reset(&c->rx);		/* counters of the old session */
	send_initiation(c, now, out);
	return JV_OK;
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
	jv_cl_send_ctrl(s, s->bound, &m, out);
	s->rekey_next_tx_ms = now + 1000;
}

static void emit_rotated(struct jv_session *s, jv_time now, enum jv_reason r)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_KEY_ROTATED);
	JV_EV_SET(&ev, reason_code, r);
	JV_EV_SET(&ev, key_epoch, s->cur.epoch);
	jv_sess_emit(s, &ev, now);
}

/*
 * The session has a new owner (PD-9), heard on `path`, and we now seal
 * under its owner epoch's keys.  Its view of the validator version is the
 * authoritative one, even if lower than what the old owner last showed us
 * (that one's newest transitions may never have reached the store): take
 * the version from its messages afresh.
 */
static void followed_owner(struct jv_session *s, jv_time now, int path)
{
	s->ack_state_version = 0;
	/* What this path's window holds is the silence of a gateway side
	 * that had no owner, not the path's loss: the new owner answered on
	 * it, so judge it from here on (§6.1 windows restart, as after a
	 * commit). */
	jv_health_restart_windows(&s->paths[path].health, now);
	emit_rotated(s, now, JV_REASON_OWNER_TAKEOVER);
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
	jv_cl_expire_inflight(s, now);
	jv_cl_evaluate(c, now, out);
	if (jv_sess_terminated(s))
		return JV_OK;
	jv_cl_send_probes(c, now, out);
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
	c->hs_unanswered = 0;
	c->hs_paths = 0;
	s->local_index = res.local_index;
	s->remote_index = res.remote_index;
	/* The gateway's key and the endpoint that answered, if the caller
	 * named it (jv_client_set_remote). */
	jv_sess_created(s, res.session_id, res.key_i2r, res.key_r2i, res.root,
			c->gateway_public,
			s->paths[path].remote.port ? &s->paths[path].remote
						   : NULL, now);
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
	jv_cl_send_probes(c, now, out);
}

static void on_ctrl(struct jv_client *c, int path, const struct jv_ctrl *m,
		    jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	switch (m->type) {
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE_ACK:
		/* sealed, so the gateway's: the proof this path receives */
		memcpy(s->paths[path].token, m->hb.token,
		       sizeof s->paths[path].token);
		jv_cl_on_hb_ack(c, path, &m->hb, now);
		break;
	case JV_CTRL_REATTACH_ACK:
		jv_cl_on_ack(c, &m->ack, now);
		break;
	case JV_CTRL_REATTACH_DENY:
		jv_cl_on_deny(c, &m->deny, now, out);
		break;
	case JV_CTRL_PATH_CHALLENGE: {
		/* PD-2: answer on the path it came from; the response is a
		 * reattach request for the address the gateway saw (and
		 * takes a nonce like one).  PD-10: a challenge naming a
		 * held request is answered, with that nonce, only if that
		 * request went out over this path: a copy someone sent from
		 * elsewhere is never confirmed. */
		struct jv_ctrl r = { .type = JV_CTRL_PATH_RESPONSE };

		if (m->challenge.nonce != 0) {
			if (!jv_cl_sent_over(s, m->challenge.nonce, path))
				break;
			r.path_response.nonce = m->challenge.nonce;
		} else {
			if (!jv_cl_nonce_available(s, NULL, now))
				break;
			r.path_response.nonce = ++s->next_nonce;
		}
		memcpy(r.path_response.data, m->challenge.data,
		       sizeof r.path_response.data);
		r.path_response.state_version = s->ack_state_version;
		jv_cl_send_ctrl(s, path, &r, out);
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
	if (type == JV_MSG_COOKIE_REPLY) {
		on_cookie_reply(c, path, pkt, n, now, out);
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
		/* Perhaps the first packet of a new owner (PD-9): a restarted
		 * or another gateway node that took the session over. */
		int flen = jv_keys_open_new_owner(s, &h, pkt, n, pt, sizeof pt,
						  now);
		if (flen < 0) {
			if (len == JV_ERR_REPLAY)
				s->dropped_replay++;
			else
				s->dropped_auth++;
			return len;
		}
		len = flen;
		followed_owner(s, now, path);
	}
	if (rotated)
		emit_rotated(s, now, JV_REASON_TIME_ELAPSED);
	/* §2.4: the terminal timers (1)-(7) come before the input itself
	 * (an ACK is (9)); a session they end takes nothing more (Z1). */
	if (jv_sess_check_terminal(s, now))
		return JV_OK;
	p->rx_packets++;
	s->rx_bytes += n;
	jv_cl_note_counter(c, path, h.key_epoch, h.counter, now);
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
	jv_cl_evaluate(c, now, out);
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
	jv_cl_evaluate(c, now, out);
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
	jv_cl_evaluate(c, now, out);
	return JV_OK;
}

int jv_client_request_switch(struct jv_client *c, const char *id,
			     jv_time now, struct jv_out *out,
			     struct jv_switch_answer *ans)
{
	struct jv_session *s = &c->s;
	bool known = false;

	jv_sess_clock(&c->s, now);

	if (!id || !ans)
		return JV_ERR_INVAL;
	memset(ans, 0, sizeof *ans);
	ans->refused = JV_REASON_NONE;
	for (unsigned i = 0; i < s->npaths; i++)
		known |= !strcmp(s->paths[i].id, id);
	if (!known && id[0])
		return JV_ERR_NOTFOUND;
	if (!c->have_session)
		return JV_ERR_STATE;
	/* PD-8: a planned migration from a working binding. */
	if (s->fsm.state == JV_STATE_ATTACHED && id[0]) {
		int rc = jv_cl_migrate(c, id, now, out, ans);

		jv_cl_evaluate(c, now, out);
		return rc;
	}
	/* Otherwise the order waits for the next §6.4 evaluation in
	 * VOLATILE or DEGRADED. */
	if (s->fsm.state != JV_STATE_VOLATILE &&
	    s->fsm.state != JV_STATE_DEGRADED)
		return JV_ERR_STATE;
	snprintf(s->operator_order_buf, sizeof s->operator_order_buf, "%s", id);
	s->operator_order = s->operator_order_buf;
	jv_cl_evaluate(c, now, out);
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
		jv_cl_send_ctrl(s, s->bound, &m, out);
	} else {
		for (unsigned i = 0; i < s->npaths; i++)
			if (s->paths[i].used && !s->paths[i].down)
				jv_cl_send_ctrl(s, (int)i, &m, out);
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

void jv_client_handshake_info(const struct jv_client *c,
			      struct jv_client_handshake *h)
{
	memset(h, 0, sizeof *h);
	h->unanswered = c->hs_unanswered;
	h->first_ms = c->hs_unanswered ? c->hs_first_ms : 0;
	h->paths = c->hs_paths;
	h->completed = c->handshakes;
}
