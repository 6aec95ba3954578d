/* SPDX-License-Identifier: MIT */
/*
 * The gateway endpoint: the validator of spec §7.  Sessions are found by
 * receiver index, never by address (STYLE 5); a packet from an address that
 * is not the binding is authenticated but never moves the binding by
 * itself: it is dropped, counted, and the address is challenged (PD-2)
 * within a 3x anti-amplification budget.  Only a valid reattach request or
 * PATH_RESPONSE binds a new tuple.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gateway_impl.h"
#include "jvpn/noise.h"

/* ---- lifecycle -------------------------------------------------------- */

struct jv_gateway *jv_gateway_new(const struct jv_gateway_config *cfg)
{
	struct jv_gateway *g;

	if (!cfg || !cfg->policy || !cfg->rng.fill ||
	    jv_policy_validate(cfg->policy, NULL) != JV_OK)
		return NULL;
	g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->policy = *cfg->policy;
	snprintf(g->node_id, sizeof g->node_id, "%s",
		 cfg->node_id ? cfg->node_id : "gateway");
	g->rng = cfg->rng;
	g->on_event = cfg->on_event;
	g->ud = cfg->ud;
	g->max_sessions = cfg->max_sessions ? cfg->max_sessions
					    : GW_DEFAULT_MAX_SESSIONS;
	jv_path_token_key(g->path_key, cfg->private_key);
	if (jv_noise_static_init(&g->self, cfg->private_key) != JV_OK ||
	    jv_table_init(&g->table, g->max_sessions) != JV_OK ||
	    jv_token_bucket_init(&g->hs_global,
				 cfg->handshakes_per_sec ? cfg->handshakes_per_sec
							 : GW_DEFAULT_HS_RATE,
				 cfg->handshake_burst ? cfg->handshake_burst
						      : GW_DEFAULT_HS_BURST,
				 0) != JV_OK)
		goto fail;
	if (jv_srclimit_init(&g->hs_source, GW_SOURCE_HS_RATE,
			     GW_SOURCE_HS_BURST, &g->rng) != JV_OK ||
	    jv_keyhash_init(&g->peer_keys, &g->rng) != JV_OK ||
	    jv_heap_init(&g->timers, g->max_sessions) != JV_OK)
		goto fail;
	jv_cookie_checker_init(&g->cookie, g->self.kp.pub);
	g->sess = calloc(g->max_sessions, sizeof *g->sess);
	g->durable = cfg->durable;
	if (!g->sess || jv_gw_owner_init(g) != JV_OK)
		goto fail;
	return g;
fail:
	jv_gateway_free(g);
	return NULL;
}

static void session_free(struct jv_gateway *g, struct gw_session *gs)
{
	if (gs->pending || gs->unwritten)
		g->nunwritten--;
	free(gs->held);
	jv_heap_remove(&g->timers, &gs->timer);
	jv_table_remove(&g->table, gs->s.local_index);
	jv_sess_destroy(&gs->s);
	sodium_memzero(gs, sizeof *gs);
	free(gs);
}

void jv_gateway_free(struct jv_gateway *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->nsess; i++)
		session_free(g, g->sess[i]);
	free(g->sess);
	jv_gw_owner_free(g);
	jv_table_free(&g->table);
	jv_heap_free(&g->timers);
	jv_keyhash_free(&g->peer_keys);
	free(g->peers);
	free(g->free_peers);
	sodium_memzero(g, sizeof *g);
	free(g);
}

/* Does any session, live, pending or tombstoned, still name peer `i`? */
static bool peer_referenced(const struct jv_gateway *g, unsigned i)
{
	return g->peers[i].refs != 0;
}

/* A removed peer's slot may be taken again only once no session refers
 * to it: sessions name their peer by index (s->peer), and a tombstone's
 * terminal record and forget() still read its slot, so a slot reused any
 * earlier would hand the old session the new key.  Once nothing refers
 * to it, the index means nothing.  Called once per slot: at the removal
 * when nothing refers to it, else when the last session of it goes.
 * free_peers is a min-heap of indexes: the lowest free slot is taken
 * first, whatever the order they were freed in. */
static void peer_slot_free(struct jv_gateway *g, unsigned i)
{
	uint32_t *h = g->free_peers;
	unsigned k = g->nfree_peers++;

	for (; k > 0 && h[(k - 1) / 2] > i; k = (k - 1) / 2)
		h[k] = h[(k - 1) / 2];
	h[k] = i;
}

static void peer_slot_take(struct jv_gateway *g)
{
	uint32_t *h = g->free_peers, last = h[--g->nfree_peers];
	unsigned k = 0, n = g->nfree_peers;

	for (;;) {
		unsigned c = 2 * k + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (h[c] >= last)
			break;
		h[k] = h[c];
		k = c;
	}
	h[k] = last;
}

static bool peer_is(void *ctx, uint32_t i, const uint8_t pub[32])
{
	const struct jv_gateway *g = ctx;

	/* A removed key is unknown: its initiation fails like a stranger's,
	 * its record is never adopted (jv_gateway_remove_peer, D-022). */
	return !g->peers[i].removed &&
	       !sodium_memcmp(g->peers[i].np.pub, pub, 32);
}

int jv_gw_peer_by_key(const struct jv_gateway *g, const uint8_t pub[32])
{
	uint32_t i = jv_keyhash_find(&g->peer_keys, pub, peer_is, (void *)g);

	return i == JV_KEYHASH_NONE ? -1 : (int)i;
}

/* Room for one more peer slot: arrays doubled, so adds are amortised
 * O(1).  The peers move: nothing keeps a pointer into them across calls
 * (sessions name their peer by index; the jv_noise_peer that lookup_peer
 * hands the handshake is used within that one jv_gateway_recv). */
static int peers_grow(struct jv_gateway *g)
{
	unsigned cap = g->cap_peers ? 2 * g->cap_peers : 8;
	uint32_t *fp;
	struct gw_peer *np;

	if (cap < g->cap_peers)
		return JV_ERR_NOMEM;
	fp = realloc(g->free_peers, cap * sizeof *fp);
	if (!fp)
		return JV_ERR_NOMEM;
	g->free_peers = fp;
	np = realloc(g->peers, cap * sizeof *np);
	if (!np)
		return JV_ERR_NOMEM;
	g->peers = np;
	g->cap_peers = cap;
	return JV_OK;
}

int jv_gateway_add_peer(struct jv_gateway *g, const uint8_t public_key[32])
{
	struct jv_token_bucket hs;
	struct gw_peer *p;
	unsigned idx;
	int rc;

	if (!g || !public_key)
		return JV_ERR_INVAL;
	if (jv_gw_peer_by_key(g, public_key) >= 0)
		return JV_ERR_INVAL;
	if (jv_token_bucket_init(&hs, GW_PEER_HS_RATE_MILLI / 1000.0,
				 GW_PEER_HS_BURST, 0) != JV_OK)
		return JV_ERR_INVAL;
	if (g->nfree_peers > 0) {
		idx = g->free_peers[0];
	} else {
		idx = g->npeers;
		if (idx == g->cap_peers && (rc = peers_grow(g)) != JV_OK)
			return rc;
	}
	rc = jv_keyhash_add(&g->peer_keys, public_key, idx);
	if (rc != JV_OK)
		return rc;
	p = &g->peers[idx];
	if (idx < g->npeers) {
		/* the removed key's entry goes with the slot */
		jv_keyhash_del(&g->peer_keys, p->np.pub, idx);
		peer_slot_take(g);
	} else {
		g->npeers++;
	}
	memset(p, 0, sizeof *p);
	memcpy(p->np.pub, public_key, 32);
	p->hs_bucket = hs;
	return (int)idx;
}

unsigned jv_gateway_peer_count(const struct jv_gateway *g)
{
	return g->npeers;
}

void jv_gateway_counters(const struct jv_gateway *g,
			 struct jv_gateway_counters *c)
{
	memset(c, 0, sizeof *c);
	c->dropped_unknown = g->dropped_unknown;
	c->dropped_parse = g->dropped_parse;
	c->hs_dh = g->hs_dh;
	c->hs_cookie_sent = g->hs_cookie_sent;
	c->hs_dropped = g->hs_dropped;
	c->hs_dropped_source = g->hs_dropped_source;
	c->hs_dropped_global = g->hs_dropped_global;
	c->hs_under_load = g->under_load_until > g->last_now;
	c->hs_bad_mac1 = g->hs_bad_mac1;
	c->hs_unknown_key = g->hs_unknown_key;
	c->hs_dropped_lease = g->hs_dropped_lease;
	c->hs_dropped_noise = g->hs_dropped_noise;
	c->hs_dropped_peer_limit = g->hs_dropped_peer_limit;
	c->hs_dropped_table_full = g->hs_dropped_table_full;
	c->hs_responded = g->hs_responded;
	c->dropped_ended = g->dropped_ended;
	c->dropped_auth = g->dropped_auth;
	c->dropped_replay = g->dropped_replay;
	c->dropped_rate_limited = g->dropped_rate_limited;
}

void jv_gateway_last_refused(const struct jv_gateway *g,
			     struct jv_gateway_refused *r)
{
	memset(r, 0, sizeof *r);
	r->bad_mac1_from = g->bad_mac1_from;
	r->unknown_key_from = g->unknown_key_from;
	memcpy(r->unknown_key, g->unknown_key, sizeof r->unknown_key);
}

/* ---- output ----------------------------------------------------------- */

void jv_gw_send_to(struct jv_session *s, const struct jv_addr *to,
		   uint32_t local, const struct jv_ctrl *m, struct jv_out *out,
		   struct jv_pathval_slot *budget)
{
	struct jv_dgram *d = jv_out_dgram(out);
	int n;

	if (!d)
		return;
	n = jv_keys_seal_ctrl(s, m, d->buf, sizeof d->buf);
	if (n < 0)
		return;
	if (budget) {
		/* Unvalidated address: at most 3x what it sent us. */
		if (!jv_pathval_may_send(budget, (size_t)n))
			return;
		jv_pathval_sent(budget, (size_t)n);
	}
	d->to = *to;
	d->local = local;
	d->len = (uint16_t)n;
	out->ndgram++;
	s->tx_bytes += (uint64_t)n;
}

static void send_bound(struct jv_session *s, const struct jv_ctrl *m,
		       struct jv_out *out)
{
	if (s->bound < 0)
		return;
	jv_gw_send_to(s, &s->paths[s->bound].remote, s->paths[s->bound].local, m,
		out, NULL);
}

/* ---- the session's own evaluation (spec §2.4) --------------------------- */

/* (8) the binding silent past TRANSPORT_DEAD_MS.  True if it fired. */
static bool gw_binding_dead(struct jv_session *s, jv_time now)
{
	if (s->bound < 0 ||
	    jv_health_condition(&s->paths[s->bound].health, &s->policy,
				now) != JV_REASON_TRANSPORT_DEAD)
		return false;
	jv_sess_binding_dead(s, false, now);
	return true;
}

static void gw_evaluate(struct jv_session *s, jv_time now)
{
	for (int round = 0; round < 4; round++) {
		uint64_t v = s->fsm.state_version;
		enum jv_state st = s->fsm.state;

		if (jv_sess_check_terminal(s, now))
			return;
		if (st == JV_STATE_BIRTH)
			return;	/* only confirmation (T01) or X2 move it */
		if (gw_binding_dead(s, now))
			continue;
		/* (11) */
		if (st == JV_STATE_VOLATILE &&
		    now > s->volatile_since_ms + s->policy.volatile_to_degraded_ms) {
			(void)jv_sess_input(s, JV_IN_VOLATILE_TIMEOUT,
					    JV_REASON_NONE, now, NULL, false);
			continue;
		}
		/* (12) the gateway sees silence only (§6.1). */
		if (st == JV_STATE_ATTACHED && s->bound >= 0) {
			enum jv_reason r = jv_health_condition(
				&s->paths[s->bound].health, &s->policy, now);
			if (r != JV_REASON_NONE) {
				struct jv_event annot;
				jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
				JV_EV_SET(&annot, heartbeat_age_ms,
					  now - s->paths[s->bound].health.last_ack_ms);
				(void)jv_sess_input(s, JV_IN_INSTABILITY, r, now,
						    &annot, false);
				continue;
			}
		}
		if (s->fsm.state_version == v)
			break;
	}
}

/*
 * OP-3: the gateway went VOLATILE/DEGRADED on its own (the client was
 * briefly silent) but the client never noticed and sends no reattach.  An
 * authenticated, fresh heartbeat on the binding after one stable
 * LOSS_WINDOW_MS revalidates it: T21/T31[health_recovered] -> T40.
 */
static void gw_revalidate_on_heartbeat(struct jv_session *s, jv_time now)
{
	enum jv_state st = s->fsm.state;
	struct jv_event annot, ev;

	if ((st != JV_STATE_VOLATILE && st != JV_STATE_DEGRADED) || s->bound < 0)
		return;
	if (now < s->stable_since_ms + s->policy.loss_window_ms)
		return;
	jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
	JV_EV_SET(&annot, from_transport, s->paths[s->bound].id);
	JV_EV_SET(&annot, candidate_set_size, 1);
	JV_EV_SET(&annot, candidate_transport, s->paths[s->bound].id);
	if (jv_sess_input(s, JV_IN_SWITCH_START, JV_REASON_HEALTH_RECOVERED, now,
			  &annot, false) != 1 ||
	    jv_sess_input(s, JV_IN_REATTACH_OK, JV_REASON_NONE, now, NULL,
			  false) != 1)
		return;
	jv_health_restart_windows(&s->paths[s->bound].health, now);
	jv_ev_init(&ev, JV_EV_REATTACH_RESULT);
	JV_EV_SET(&ev, status, "SUCCESS");
	JV_EV_SET(&ev, reason_code, JV_REASON_HEALTH_RECOVERED);
	JV_EV_SET(&ev, candidate_transport, s->paths[s->bound].id);
	JV_EV_SET(&ev, retryable, false);
	jv_sess_emit(s, &ev, now);
}

/* An authenticated packet arrived on the binding. */
static void bound_heard(struct jv_session *s, jv_time now)
{
	struct jv_path *b = &s->paths[s->bound];

	/* A gap longer than the silence limit restarts the stable run. */
	if (now > b->health.last_ack_ms + s->policy.heartbeat_volatile_ms)
		s->stable_since_ms = now;
	jv_health_on_alive(&b->health, &s->policy, now);
}

/* ---- handshake -------------------------------------------------------- */

static struct jv_noise_peer *lookup_peer(void *ctx, const uint8_t pub[32])
{
	struct jv_gateway *g = ctx;
	int i = jv_gw_peer_by_key(g, pub);

	if (i >= 0)
		return &g->peers[i].np;
	/* Called once the first DH opened the static key: the only moment
	 * the key of a stranger is known (on_initiation counts it). */
	g->lookup_missed = true;
	memcpy(g->missed_key, pub, 32);
	return NULL;
}

static void terminate_session(struct jv_session *s, enum jv_input in,
			      enum jv_reason r, const char *origin, jv_time now)
{
	struct jv_event annot;

	if (jv_sess_terminated(s))
		return;
	jv_ev_init(&annot, JV_EV_SESSION_STATE_CHANGE);
	if (origin)
		JV_EV_SET(&annot, origin, origin);
	(void)jv_sess_input(s, in, r, now, &annot, false);
}

/* Under load (D-019): the global handshake bucket is below half its burst
 * now, or was within GW_UNDER_LOAD_HOLD_MS.  The bucket is what the DHs
 * are rationed by, so "load" is measured where the cost is; the hold keeps
 * a flood from draining the upper half again each time it refills. */
static bool under_load(struct jv_gateway *g, jv_time now)
{
	uint64_t burst = g->hs_global.cap_ut / JV_TOKEN_UT;

	if (2 * jv_token_bucket_tokens(&g->hs_global, now) < burst)
		g->under_load_until = now + GW_UNDER_LOAD_HOLD_MS;
	return now < g->under_load_until;
}

/* Answer an initiation with a cookie reply instead of a DH: a keyed hash
 * and an AEAD, to the address it claims, smaller than what came in. */
static void send_cookie(struct jv_gateway *g, uint32_t local,
			const struct jv_addr *from, const uint8_t *pkt,
			size_t n, jv_time now, struct jv_out *out)
{
	struct jv_dgram *d = jv_out_dgram(out);

	g->hs_cookie_sent++;
	if (!d || jv_cookie_reply_create(&g->cookie, pkt, n, from, now,
					 &g->rng, d->buf) < 0)
		return;
	d->to = *from;
	d->local = local;
	d->len = JV_WIRE_COOKIE_REPLY_SIZE;
	out->ndgram++;
}

/*
 * A full table and an authenticated handshake of a peer whose last
 * session has ended: that session's tombstone (Z1) holds a place only to
 * answer the old session's late packets, and its client is back with a
 * new one.  Once its end is stored it gives way, as it would at
 * tombstone_until_ms; before, a client that restarted at a gateway at
 * MaxSessions was refused for the tombstone's 10 s.  Only the peer's
 * own: another peer's tombstone is not this one's to take.
 */
static void own_tombstone_gives_way(struct jv_gateway *g, struct gw_peer *peer)
{
	struct jv_session *t[2] = { peer->live, peer->pending };

	for (int i = 0; i < 2; i++) {
		if (!t[i] || !jv_sess_terminated(t[i]) ||
		    !jv_gw_record_settled(g, gws(t[i])))
			continue;
		jv_gw_forget(g, gws(t[i])->slot);	/* Z1: evicted */
		return;
	}
}

static void on_initiation(struct jv_gateway *g, uint32_t local,
			  const struct jv_addr *from, const uint8_t *pkt,
			  size_t n, jv_time now, struct jv_out *out)
{
	struct jv_noise_responder rs;
	struct jv_noise_result res;
	struct gw_session *gs;
	struct gw_peer *peer;
	uint32_t index;
	struct jv_dgram *d;

	/* mac1 first: one BLAKE2b, no DH, drops anyone without our key.  A
	 * node that does not hold its lease creates nothing (§9). */
	if (!jv_gw_leased(g, now)) {
		g->hs_dropped++;
		g->hs_dropped_lease++;
		return;
	}
	if (jv_noise_initiation_check_mac1(&g->self, pkt, n) != JV_OK) {
		/* Most often a client configured with another PublicKey
		 * for this gateway: counted apart, for the operator. */
		g->hs_dropped++;
		g->hs_bad_mac1++;
		g->bad_mac1_from = *from;
		return;
	}
	/* Under load, mac1 (anyone with our public key makes it) is not
	 * enough: the source proves it receives at its address (mac2) before
	 * it is charged anything, so a spoofer can neither spend our DHs nor
	 * drain a real client's buckets (D-019). */
	if (under_load(g, now)) {
		if (!jv_cookie_mac2_ok(&g->cookie, pkt, n, from, now)) {
			send_cookie(g, local, from, pkt, n, now, out);
			return;
		}
		/* per proven source, before the global bucket (STYLE 7) */
		if (!jv_srclimit_take(&g->hs_source, from, now)) {
			g->hs_dropped_source++;
			return;
		}
	}
	/* the global bound on the costly action, two DHs (STYLE 7) */
	if (!jv_token_bucket_take(&g->hs_global, now)) {
		g->hs_dropped_global++;
		return;
	}
	g->hs_dh++;
	g->lookup_missed = false;
	if (jv_noise_initiation_consume(&rs, &g->self, lookup_peer, g, pkt, n,
					NULL) != JV_OK) {
		g->hs_dropped++;
		g->hs_dropped_noise++;
		if (g->lookup_missed) {
			/* a client whose key is no [Peer] of ours */
			g->hs_unknown_key++;
			g->unknown_key_from = *from;
			memcpy(g->unknown_key, g->missed_key, 32);
		}
		return;
	}
	peer = (struct gw_peer *)rs.peer;	/* np is the first member */
	if (g->nsess >= g->max_sessions)
		own_tombstone_gives_way(g, peer);
	if (!jv_token_bucket_take(&peer->hs_bucket, now) ||
	    g->nsess >= g->max_sessions) {
		jv_noise_hs_wipe(&rs.hs);
		g->hs_dropped++;
		if (g->nsess >= g->max_sessions)
			g->hs_dropped_table_full++;
		else
			g->hs_dropped_peer_limit++;
		return;
	}
	gs = calloc(1, sizeof *gs);
	if (!gs || jv_table_insert(&g->table, gs, &g->rng, &index) != JV_OK) {
		free(gs);
		jv_noise_hs_wipe(&rs.hs);
		g->hs_dropped++;
		g->hs_dropped_table_full++;	/* no room: table or memory */
		return;
	}
	d = jv_out_dgram(out);
	memset(&res, 0, sizeof res);
	if (!d || jv_noise_response_create(&rs, index, &g->rng, d->buf,
					   &res) != JV_OK ||
	    jv_sess_init(&gs->s, JV_ROLE_GATEWAY, &g->policy, g->node_id, g->rng,
			 g->on_event, g->ud, JV_GW_PATHS) != JV_OK) {
		/* the traffic keys may already be in res: wipe them too */
		jv_noise_result_wipe(&res);
		jv_noise_hs_wipe(&rs.hs);
		jv_table_remove(&g->table, index);
		free(gs);
		g->hs_dropped++;
		g->hs_dropped_table_full++;	/* no room: table or memory */
		return;
	}
	struct jv_session *s = &gs->s;
	jv_sess_clock(s, now);
	s->local_index = index;
	s->remote_index = res.remote_index;
	s->peer = (uint32_t)(peer - g->peers);
	gs->hs_from = *from;
	gs->hs_local = local;
	jv_sess_created(s, res.session_id, res.key_r2i, res.key_i2r, res.root,
			peer->np.pub, from, now);
	jv_noise_result_wipe(&res);
	jv_gw_add_session(g, gs, now);
	jv_gw_owner_created(g, gs, now);

	d->to = *from;
	d->local = local;
	d->len = JV_WIRE_RESPONSE_SIZE;
	out->ndgram++;
	g->hs_responded++;

	/* A newer handshake of the same client supersedes an unconfirmed one:
	 * that one's handshake failed (T02). */
	if (peer->pending)
		terminate_session(peer->pending, JV_IN_HANDSHAKE_FAIL,
				  JV_REASON_NONE, NULL, now);
	peer->pending = s;
	jv_gw_reschedule(g, gs, now);
}

/*
 * A newer handshake of the same key is confirmed: the live session it
 * replaces ends with session_replaced (X5, D-022).  Its client, the same
 * machine restarted or another one using the key, is told on the old
 * binding under the old session's keys, before they are wiped, so it
 * stops and says why instead of retrying a dead session.  Only a holder
 * of the key gets here: a replayed initiation fails the Noise timestamp
 * check, and confirming needs the new session's keys.
 */
static void replace_live(struct jv_gateway *g, struct jv_session *old,
			 jv_time now, struct jv_out *out)
{
	struct jv_ctrl m = { .type = JV_CTRL_TERMINATE };

	if (jv_sess_terminated(old))
		return;
	jv_sess_clock(old, now);
	m.terminate.reason = JV_REASON_SESSION_REPLACED;
	send_bound(old, &m, out);
	terminate_session(old, JV_IN_TERMINATE_CMD, JV_REASON_SESSION_REPLACED,
			  NULL, now);
	jv_gw_note(g, gws(old));
	jv_gw_reschedule(g, gws(old), now);
}

/* BIRTH -> ATTACHED on the first authenticated packet from the handshake
 * tuple: the client holds the keys (T01). */
static void confirm(struct jv_gateway *g, struct gw_session *gs, jv_time now,
		    struct jv_out *out)
{
	struct jv_session *s = &gs->s;
	struct gw_peer *peer = &g->peers[s->peer];
	struct jv_path *p = &s->paths[0];
	struct jv_event ev;

	memset(p, 0, sizeof *p);
	p->used = true;
	p->proto = JV_PROTO_UDP;
	p->remote = gs->hs_from;
	p->local = gs->hs_local;
	jv_tuple_id(&gs->hs_from, p->id);
	jv_health_init(&p->health, &s->policy, now);
	s->npaths = 1;
	if (jv_sess_input(s, JV_IN_ATTACH_OK, JV_REASON_NONE, now, NULL,
			  false) != 1)
		return;
	jv_sess_bind(s, 0, now);
	jv_ev_init(&ev, JV_EV_TRANSPORT_ATTACHED);
	JV_EV_SET(&ev, transport_id, p->id);
	JV_EV_SET(&ev, reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	jv_sess_emit(s, &ev, now);

	/* A rehandshake is a new session: the old one ends explicitly. */
	if (peer->live && peer->live != s)
		replace_live(g, peer->live, now, out);
	peer->live = s;
	if (peer->pending == s)
		peer->pending = NULL;
}

/* ---- receive ---------------------------------------------------------- */

/* Make-before-break (PD-8): the tuple a switch has just left still
 * carries what the requester sent before it saw the ACK. */
static bool just_left(const struct jv_session *s, const struct jv_addr *from,
		      jv_time now)
{
	return now <= s->left_until_ms && jv_addr_equal(&s->left, from);
}

static void unauthorized(struct jv_session *s, const struct jv_addr *from,
			 uint32_t local, size_t n, jv_time now,
			 struct jv_out *out)
{
	struct jv_pathval_slot *slot;
	char a[JV_TRANSPORT_ID_MAX];

	s->dropped_unauthorized++;
	jv_tuple_id(from, a);
	jv_sess_security_event(s, JV_EV_SECURITY_VALIDATION_FAILED,
			       JV_REASON_UNAUTHORIZED_TRANSPORT_ATTEMPT, a, NULL,
			       now);
	/* PD-2: challenge the address, within its 3x budget. */
	slot = jv_pathval_received(&s->pathval, from, local, n, now);
	if (jv_pathval_challenge_due(slot, &s->rng, now)) {
		struct jv_ctrl m = { .type = JV_CTRL_PATH_CHALLENGE };
		memcpy(m.challenge.data, slot->data, sizeof m.challenge.data);
		jv_gw_send_to(s, from, local, &m, out, slot);
	}
}

/*
 * OP-7, D-018: the one failure that counts toward MAX_SECURITY_FAILURES.
 * The request opened under the session's keys and passed the counter
 * window, so it is a packet sealed anew, not a copy; its nonce was
 * accepted before, and a genuine requester never spends a nonce twice
 * (§7.5).  Only a holder of the keys can do that.  Not after a takeover
 * while the client's old epoch is open: its counter window was lost with
 * the old owner, so a copy of a request sent before the loss passes it.
 */
static void key_holder_failure(struct jv_session *s, jv_time now)
{
	if (s->stale && !s->stale_closed)
		return;
	if (s->policy.max_security_failures &&
	    ++s->security_failures > s->policy.max_security_failures)
		terminate_session(s, JV_IN_SECURITY_FAIL, JV_REASON_NONE, NULL,
				  now);
}

/*
 * A requester's nonces start at 1 and grow by one (§7.5), so one above
 * 2^63 - 1 is never genuine, and no event could carry it (the log writes
 * JSON integers): such a message is malformed, dropped before V0 and
 * counted (§7.2), like one that does not parse.
 */
static bool nonce_sane(struct jv_gateway *g, uint64_t n)
{
	if (n <= (uint64_t)INT64_MAX)
		return true;
	g->dropped_parse++;
	return false;
}

/*
 * PD-10: has `from` proven that the requester receives there?  Either it
 * answered a challenge (the caller matched it), or the request echoes
 * the path token of an ACK sent to `from`.  Being the binding is not
 * enough: a copy of a request sent over another path, spoofed from the
 * binding's address, would otherwise commit there and spend the nonce of
 * the request it copies.
 */
static bool tuple_proven(const struct jv_gateway *g, const struct jv_session *s,
			 const struct jv_reattach_req *r,
			 const struct jv_addr *from, jv_time now)
{
	return r->proven ||
	       jv_path_token_ok(g->path_key, s->id, from, now, r->path_token);
}

/*
 * A request from a tuple not proven: nothing is decided, logged or spent.
 * The newest such request is held, its nonce reserved, and the tuple is
 * challenged (within its 3x budget) with that nonce; the requester
 * answers only for a request it sent over the path the challenge came in
 * on, so a copy sent from elsewhere can never be committed there.  Other
 * copies of the same request may arrive from other tuples meanwhile: the
 * first tuple to answer (or a copy with a good token) wins.
 */
static void hold(struct jv_session *s, const struct jv_reattach_req *r,
		 const struct jv_addr *from, uint32_t local, size_t n,
		 bool bound_from, jv_time now, struct jv_out *out)
{
	struct jv_pathval_slot *slot;
	jv_time until;

	if (s->has_held && now <= s->held_until_ms && r->nonce < s->held.nonce)
		return;		/* a newer request is held already */
	if (!s->has_held || r->nonce != s->held.nonce) {
		s->held_requests++;
		until = r->ts_ms + s->policy.reattach_proof_max_age_ms;
		if (until > now + JV_PATHVAL_CHALLENGE_MS)
			until = now + JV_PATHVAL_CHALLENGE_MS;
		s->held = *r;
		s->has_held = true;
		s->held_until_ms = until;
	}
	slot = jv_pathval_received(&s->pathval, from, local, n, now);
	if (slot->pending_nonce != r->nonce)
		slot->sent_ms = 0;	/* a challenge naming this one, now */
	slot->pending_nonce = r->nonce;
	if (jv_pathval_challenge_due(slot, &s->rng, now)) {
		struct jv_ctrl m = { .type = JV_CTRL_PATH_CHALLENGE };

		memcpy(m.challenge.data, slot->data, sizeof m.challenge.data);
		m.challenge.nonce = r->nonce;
		jv_gw_send_to(s, from, local, &m, out, bound_from ? NULL : slot);
	}
}

/* `copy`: the datagram was a counter-window replay of a request not yet
 * decided (on_replay); V0 counted it when it was first seen. */
static void on_request(struct jv_gateway *g, struct jv_session *s,
		       struct jv_reattach_req *r, const struct jv_addr *from,
		       uint32_t local, size_t n, bool copy, jv_time now,
		       struct jv_out *out)
{
	struct jv_ctrl answer;
	struct jv_pathval_slot *budget = NULL;
	bool bound_from = s->bound >= 0 &&
			  jv_addr_equal(&s->paths[s->bound].remote, from);

	/* V0: a commit is the costly action; rate-limit requests per session
	 * (floods of replays are cut here, §7.5). */
	if (!copy && !jv_token_bucket_take(&s->ctl_bucket, now)) {
		g->dropped_rate_limited++;
		jv_sess_security_event(s, JV_EV_SECURITY_VALIDATION_FAILED,
				       JV_REASON_CONTROL_PLANE_ABUSE, NULL, NULL,
				       now);
		return;
	}
	/* PD-10, unless its nonce is spent already: then V6 decides, as
	 * for any stale request. */
	if (!tuple_proven(g, s, r, from, now) &&
	    jv_nonce_window_check(&s->nonces, r->nonce) == JV_REASON_NONE) {
		hold(s, r, from, local, n, bound_from, now, out);
		return;
	}
	if (!bound_from)
		budget = jv_pathval_received(&s->pathval, from, local, n, now);
	jv_validate_request(s, r, from, local, jv_gw_is_owner(g, now), now,
			    &answer);
	if (s->has_held && s->held.nonce <= r->nonce)
		s->has_held = false;	/* decided, or superseded */
	/* a copy heard again (PD-10) is no new act of a key holder */
	if (!copy && answer.type == JV_CTRL_REATTACH_DENY &&
	    answer.deny.reason == JV_REASON_REPLAY_DETECTED)
		key_holder_failure(s, now);
	if (answer.type == 0)
		return;
	/* PD-9: an ACK waits until its commit is durable. */
	if (answer.type == JV_CTRL_REATTACH_ACK &&
	    jv_gw_hold_ack(g, gws(s), &answer, from, local))
		return;
	/* After a commit the tuple is the binding: no budget applies. */
	bound_from = s->bound >= 0 &&
		     jv_addr_equal(&s->paths[s->bound].remote, from);
	jv_gw_send_to(s, from, local, &answer, out, bound_from ? NULL : budget);
}

/* A heartbeat or probe is answered where it came from, with the
 * validator's version (OP-4) and the tuple's path token (PD-10), within
 * the 3x budget off the binding. */
static void answer_alive(struct jv_gateway *g, struct jv_session *s,
			 const struct jv_ctrl *m, const struct jv_addr *from,
			 uint32_t local, size_t n, bool on_binding, jv_time now,
			 struct jv_out *out)
{
	struct jv_ctrl a = *m;
	struct jv_pathval_slot *budget = NULL;

	a.type = m->type == JV_CTRL_HEARTBEAT ? JV_CTRL_HEARTBEAT_ACK
					      : JV_CTRL_PROBE_ACK;
	a.hb.state_version = s->fsm.state_version;
	jv_path_token(g->path_key, s->id, from, now, a.hb.token);
	if (!on_binding)
		budget = jv_pathval_received(&s->pathval, from, local, n, now);
	jv_gw_send_to(s, from, local, &a, out, budget);
}

/* D-036: a control message the steady shortcut may answer without the
 * full pass: a heartbeat on the binding, or a probe from an address that
 * has a path-validation slot (a new slot would bring a new expiry). */
static bool only_answered(const struct jv_session *s, const struct jv_ctrl *m,
			  bool on_binding, const struct jv_addr *from)
{
	if (on_binding)
		return m->type == JV_CTRL_HEARTBEAT;
	return m->type == JV_CTRL_PROBE && jv_pathval_known(&s->pathval, from);
}

static void on_control(struct jv_gateway *g, struct gw_session *gs,
		       const struct jv_ctrl *m, const struct jv_addr *from,
		       uint32_t local, size_t n, bool on_binding, bool copy,
		       jv_time now, struct jv_out *out)
{
	struct jv_session *s = &gs->s;
	struct jv_reattach_req r;

	switch (m->type) {
	case JV_CTRL_HEARTBEAT:
		if (!on_binding && just_left(s, from, now)) {
			answer_alive(g, s, m, from, local, n, false, now, out);
			return;
		}
		if (!on_binding) {
			unauthorized(s, from, local, n, now, out);
			return;
		}
		gw_revalidate_on_heartbeat(s, now);
		__attribute__((fallthrough));	/* answered like a probe */
	case JV_CTRL_PROBE:
		answer_alive(g, s, m, from, local, n, on_binding, now, out);
		return;
	case JV_CTRL_PATH_RESPONSE: {
		struct jv_pathval_slot *slot;

		if (!nonce_sane(g, m->path_response.nonce) ||
		    !(slot = jv_pathval_match(&s->pathval, from,
					      m->path_response.data, now)))
			return;
		/* PD-10: the held request this tuple carried, confirmed by
		 * the requester over this very tuple. */
		if (s->has_held && now <= s->held_until_ms &&
		    slot->pending_nonce == s->held.nonce &&
		    m->path_response.nonce == s->held.nonce) {
			r = s->held;
			r.proven = true;
			s->held_proven++;
			on_request(g, s, &r, from, local, n, copy, now, out);
			return;
		}
		memset(&r, 0, sizeof r);
		r.nonce = m->path_response.nonce;
		r.ts_ms = now;	/* bound by the challenge's own expiry */
		r.state_version = m->path_response.state_version;
		r.trigger = JV_REASON_NAT_REBINDING;
		r.recovery = JV_REASON_LOSS_RECOVERY;
		r.proven = true;
		r.forced = true;	/* the old address no longer answers */
		snprintf(r.cand.transport_id, sizeof r.cand.transport_id,
			 "nat-rebinding");
		r.cand.proto = JV_PROTO_UDP;
		on_request(g, s, &r, from, local, n, copy, now, out);
		return;
	}
	case JV_CTRL_REATTACH_REQUEST: {
		const struct jv_ctrl_reattach_request *q = &m->request;

		if (!nonce_sane(g, q->nonce))
			return;
		/* AB-2: a request for another session id is not ours. */
		if (sodium_memcmp(q->session_id, s->id, sizeof s->id) != 0) {
			jv_sess_security_event(s, JV_EV_SECURITY_VALIDATION_FAILED,
					       JV_REASON_INVALID_STATE_TRANSITION,
					       NULL, NULL, now);
			return;
		}
		memset(&r, 0, sizeof r);
		r.nonce = q->nonce;
		r.ts_ms = q->ts_ms;
		r.state_version = q->state_version;
		r.trigger = q->trigger_reason;
		r.recovery = q->recovery_reason;
		r.forced = q->trigger_class == JV_CLASS_FORCED;
		r.cand = q->candidate;
		memcpy(r.path_token, q->path_token, sizeof r.path_token);
		on_request(g, s, &r, from, local, n, copy, now, out);
		return;
	}
	case JV_CTRL_REKEY: {
		struct jv_ctrl a = { .type = JV_CTRL_REKEY_ACK };

		if (!on_binding)
			return;
		if (m->rekey.new_epoch == (uint8_t)(s->cur.epoch + 1)) {
			struct jv_event ev;

			jv_keys_rotate(s, now);
			jv_ev_init(&ev, JV_EV_KEY_ROTATED);
			JV_EV_SET(&ev, reason_code, JV_REASON_TIME_ELAPSED);
			JV_EV_SET(&ev, key_epoch, s->cur.epoch);
			jv_sess_emit(s, &ev, now);
		} else if (m->rekey.new_epoch != (uint8_t)s->cur.epoch) {
			return;
		}
		a.rekey.new_epoch = (uint8_t)s->cur.epoch;
		send_bound(s, &a, out);
		return;
	}
	case JV_CTRL_TERMINATE:
		/* Sealed by the peer and fresh (counter window): its word,
		 * whatever tuple carried it; a client without a binding
		 * sends it on every path (X5). */
		terminate_session(s, JV_IN_TERMINATE_CMD, m->terminate.reason,
				  "peer", now);
		return;
	default:
		return;	/* ACKs and challenges are the client's to get */
	}
}

/*
 * PD-10: is this copy of a control message one whose first copy decided
 * nothing?  A request whose nonce is unspent (it was held), or a response
 * from the very tuple a live challenge went to.  The first copy may have
 * been a racer's, sent from another tuple: this one is heard as if it
 * were first, and the nonce or the challenge makes sure nothing is
 * decided twice.
 */
static bool undecided(struct jv_session *s, const struct jv_ctrl *m,
		      const struct jv_addr *from, jv_time now)
{
	if (m->type == JV_CTRL_REATTACH_REQUEST)
		return m->request.nonce != 0 &&
		       m->request.nonce <= (uint64_t)INT64_MAX &&
		       jv_nonce_window_check(&s->nonces, m->request.nonce) ==
			       JV_REASON_NONE;
	if (m->type == JV_CTRL_PATH_RESPONSE)
		return jv_pathval_match(&s->pathval, from,
					m->path_response.data, now) != NULL;
	return false;
}

/*
 * A packet the counter window refused.  If it authenticates and is a
 * reattach request, the spec wants it reported as a denied request (S6);
 * a bucket of its own bounds what a replay flood can make us report, and
 * nothing is sent back to the replayer.  Not the V0 bucket of real
 * requests: anyone holding one captured request could otherwise keep it
 * empty from any address and lock the client out of every reattach (§7.5:
 * a replay never changes anything).
 */
static void on_replay(struct jv_gateway *g, struct gw_session *gs,
		      const struct jv_wire_hdr *h, const uint8_t *pkt,
		      size_t n, const struct jv_addr *from, uint32_t local,
		      bool on_binding, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &gs->s;
	uint8_t pt[JV_WIRE_DGRAM_MAX];
	struct jv_ctrl m;
	struct jv_reattach_req r;
	int len;

	if (h->type != JV_MSG_CONTROL ||
	    (len = jv_keys_peek(s, h, pkt, n, pt, sizeof pt)) < 0 ||
	    jv_ctrl_decode(pt, (size_t)len, &m, NULL) != JV_OK ||
	    (m.type != JV_CTRL_REATTACH_REQUEST &&
	     m.type != JV_CTRL_PATH_RESPONSE)) {
		jv_sess_security_event(s, JV_EV_SECURITY_REPLAY_DETECTED,
				       JV_REASON_REPLAY_DETECTED, NULL, "counter",
				       now);
		return;
	}
	memset(&r, 0, sizeof r);
	if (m.type == JV_CTRL_REATTACH_REQUEST) {
		r.nonce = m.request.nonce;
		r.cand = m.request.candidate;
	} else {
		r.nonce = m.path_response.nonce;
		snprintf(r.cand.transport_id, sizeof r.cand.transport_id,
			 "nat-rebinding");
	}
	if (!nonce_sane(g, r.nonce))
		return;
	if (!jv_token_bucket_take(&s->replay_bucket, now)) {
		jv_sess_security_event(s, JV_EV_SECURITY_REPLAY_DETECTED,
				       JV_REASON_REPLAY_DETECTED, NULL, "counter",
				       now);
		return;
	}
	if (undecided(s, &m, from, now)) {
		on_control(g, gs, &m, from, local, n, on_binding, true, now,
			   out);
		return;
	}
	jv_validate_replayed(s, &r, now);
}

/*
 * A packet under the client's epoch after a takeover (PD-9).  Nothing of
 * it is delivered or taken as a sign of life: it may be a capture from
 * before the loss.  A REATTACH_REQUEST goes through V0-V10 (a nonce above
 * the stored high-water mark is what makes it fresh); a heartbeat or probe
 * is answered under the new owner epoch's keys, which is how the client
 * learns of the takeover (it follows when it opens that answer).
 */
static void on_stale(struct jv_gateway *g, struct gw_session *gs, int type,
		     const uint8_t *pt, int len, const struct jv_addr *from,
		     uint32_t local, size_t n, bool on_binding, jv_time now,
		     struct jv_out *out)
{
	struct jv_session *s = &gs->s;
	struct jv_ctrl m;

	if (s->stale_closed) {
		/* The client speaks the new epoch already: this is a copy of
		 * something sent before the loss. */
		s->dropped_replay++;
		g->dropped_replay++;
		jv_sess_security_event(s, JV_EV_SECURITY_REPLAY_DETECTED,
				       JV_REASON_REPLAY_DETECTED, NULL, "counter",
				       now);
		return;
	}
	if (type != JV_MSG_CONTROL ||
	    jv_ctrl_decode(pt, (size_t)len, &m, NULL) != JV_OK) {
		s->dropped_stale++;
		return;
	}
	if (m.type == JV_CTRL_REATTACH_REQUEST) {
		on_control(g, gs, &m, from, local, n, on_binding, false, now,
			   out);
		return;
	}
	if (m.type != JV_CTRL_HEARTBEAT && m.type != JV_CTRL_PROBE) {
		s->dropped_stale++;
		return;
	}
	answer_alive(g, s, &m, from, local, n, on_binding, now, out);
}

static void deliver(const struct jv_session *s, const uint8_t *pt, int len,
		    struct jv_out *out)
{
	struct jv_inner *in = jv_out_inner(out);

	if (in) {
		memcpy(in->buf, pt, (size_t)len);
		in->len = (uint16_t)len;
		in->peer = s->peer;
		out->ninner++;
	}
}

int jv_gateway_recv(struct jv_gateway *g, uint32_t local,
		    const struct jv_addr *from, const uint8_t *pkt, size_t n,
		    jv_time now, struct jv_out *out)
{
	struct jv_wire_hdr h;
	struct gw_session *gs;
	struct jv_session *s;
	uint8_t pt[JV_WIRE_DGRAM_MAX];
	struct jv_ctrl m;
	bool rotated, on_binding, steady_keys, ctrl = false;
	int type, len;

	if (!g || !from || !pkt || !out)
		return JV_ERR_INVAL;
	if (now > g->last_now)
		g->last_now = now;
	type = jv_wire_classify(pkt, n);
	if (type == JV_MSG_INITIATION) {
		on_initiation(g, local, from, pkt, n, now, out);
		return JV_OK;
	}
	if ((type != JV_MSG_DATA && type != JV_MSG_CONTROL) ||
	    jv_wire_hdr_decode(pkt, n, &h, NULL) != JV_OK) {
		g->dropped_parse++;
		return JV_ERR_PARSE;
	}
	/* V1: by receiver index, never by address. */
	gs = jv_table_lookup(&g->table, h.receiver_index);
	if (!gs || jv_sess_terminated(&gs->s)) {
		g->dropped_unknown++;
		if (gs)
			g->dropped_ended++;
		/* Perhaps a session this node can resume (PD-9). */
		if (!gs && jv_gw_leased(g, now))
			jv_gw_want_lookup(g, h.receiver_index, now);
		return JV_ERR_NOTFOUND;
	}
	s = &gs->s;
	jv_sess_clock(s, now);
	on_binding = s->bound >= 0 &&
		     jv_addr_equal(&s->paths[s->bound].remote, from);

	/* Under the current epoch, confirmed before this packet: opening it
	 * changes no key state the record or a timer depends on (the first
	 * packet under a new epoch confirms it, which does). */
	steady_keys = s->cur.confirmed && h.key_epoch == (uint8_t)s->cur.epoch;
	len = jv_keys_open(s, &h, pkt, n, pt, sizeof pt, now, &rotated);
	if (len < 0 && s->stale) {
		int slen = jv_keys_open_stale(s, &h, pkt, n, pt, sizeof pt);
		if (slen >= 0) {
			on_stale(g, gs, type, pt, slen, from, local, n,
				 on_binding, now, out);
			goto done;
		}
	}
	if (len >= 0 && s->stale && s->cur.confirmed)
		/* The client follows the new owner epoch: its old one
		 * admits nothing any more. */
		jv_keys_close_stale(s, now);
	if (len == JV_ERR_REPLAY) {
		s->dropped_replay++;
		g->dropped_replay++;
		on_replay(g, gs, &h, pkt, n, from, local, on_binding, now, out);
		jv_gw_note(g, gs);
		jv_gw_reschedule(g, gs, now);
		return len;
	}
	if (len < 0) {
		s->dropped_auth++;
		g->dropped_auth++;
		/* Reported, never counted (D-018): anyone can send junk from
		 * any address, the binding's included. */
		jv_sess_security_event(s, JV_EV_SECURITY_VALIDATION_FAILED,
				       JV_REASON_BAD_PROOF, NULL, NULL, now);
		jv_gw_note(g, gs);
		jv_gw_reschedule(g, gs, now);
		return len;
	}
	s->rx_bytes += n;
	if (rotated) {
		struct jv_event ev;
		jv_ev_init(&ev, JV_EV_KEY_ROTATED);
		JV_EV_SET(&ev, reason_code, JV_REASON_TIME_ELAPSED);
		JV_EV_SET(&ev, key_epoch, s->cur.epoch);
		jv_sess_emit(s, &ev, now);
	}
	jv_sess_check_terminal(s, now);
	if (jv_sess_terminated(s))
		goto done;
	if (s->fsm.state == JV_STATE_BIRTH) {
		if (!jv_addr_equal(from, &gs->hs_from))
			goto done;
		confirm(g, gs, now, out);
		on_binding = true;
	}
	/* Data on the binding in the millisecond of the last full pass, no
	 * transition since: the one fact it reports (alive at `now`) is
	 * known already, so bound_heard, gw_evaluate and the deadline would
	 * come out the same; only the packet is left to deliver. */
	if (type == JV_MSG_DATA && on_binding && steady_keys && !rotated &&
	    gs->eval_ms == now && gs->eval_version == s->fsm.state_version &&
	    s->paths[s->bound].health.last_ack_ms == now &&
	    jv_gw_leased(g, now)) {
		s->paths[s->bound].rx_packets++;
		deliver(s, pt, len, out);
		return JV_OK;
	}
	/* Spec §11: no per-packet control-plane work in steady ATTACHED.
	 * Data on the binding before any timer of the session is due, no
	 * transition since the last full pass, no policy or takeover epoch
	 * waiting, keys steady: hearing it moves the silence timers later
	 * and nothing else (the gateway's health is silence only, and its
	 * first fact, bad_ms, is set), so gw_evaluate would find nothing, the
	 * record is unchanged and the cached deadline stays a lower bound of
	 * the true one.  Tick re-evaluates when that comes: once per timer
	 * period, not per packet (D-031).
	 *
	 * Control messages that are only answered take the same shortcut
	 * (D-036): a heartbeat on the binding (the fact above, and in
	 * ATTACHED it revalidates nothing), and a standby's probe from an
	 * address with a path-validation slot already (its budget is
	 * counted as before; a new slot would bring a new expiry, so the
	 * first probe of an address takes the full pass).  Answers move no
	 * timer. */
	if (type == JV_MSG_CONTROL)
		ctrl = jv_ctrl_decode(pt, (size_t)len, &m, NULL) == JV_OK;
	if (steady_keys && !rotated &&
	    s->fsm.state == JV_STATE_ATTACHED &&
	    gs->eval_version == s->fsm.state_version &&
	    gs->eval_ms != JV_TIME_NEVER && now < gs->deadline &&
	    s->paths[s->bound].health.bad_ms != JV_TIME_NEVER &&
	    !s->stale && !s->policy_next && jv_gw_leased(g, now)) {
		if (type == JV_MSG_DATA && on_binding) {
			bound_heard(s, now);
			s->paths[s->bound].rx_packets++;
			deliver(s, pt, len, out);
			return JV_OK;
		}
		if (ctrl && only_answered(s, &m, on_binding, from)) {
			if (on_binding) {
				bound_heard(s, now);
				s->paths[s->bound].rx_packets++;
			}
			answer_alive(g, s, &m, from, local, n, on_binding, now,
				     out);
			return JV_OK;
		}
	}
	if (on_binding) {
		bound_heard(s, now);
		s->paths[s->bound].rx_packets++;
	}

	if (type == JV_MSG_DATA) {
		bool left = !on_binding && just_left(s, from, now);

		if (!on_binding && !left) {
			unauthorized(s, from, local, n, now, out);
		} else if (jv_gw_leased(g, now)) {
			/* Past the lease another node may own the session:
			 * forward nothing (§9, fail closed). */
			deliver(s, pt, len, out);
		}
	} else if (ctrl) {
		/* §2.4: (8) transport_dead is evaluated before (9) the
		 * request, in the same millisecond too (chaos seed 9763: a
		 * denial then a death in one commit) */
		if (s->fsm.state != JV_STATE_BIRTH)
			(void)gw_binding_dead(s, now);
		on_control(g, gs, &m, from, local, n, on_binding, false, now,
			   out);
	}
	gw_evaluate(s, now);
done:
	/* the commit is over: a grace policy update waits for one (§5) */
	(void)jv_sess_policy_settle(s, now);
	jv_gw_note(g, gs);
	jv_gw_reschedule(g, gs, now);
	gs->eval_ms = now;
	gs->eval_version = s->fsm.state_version;
	return JV_OK;
}

/* ---- send, tick, commands --------------------------------------------- */

int jv_gateway_send(struct jv_gateway *g, uint32_t peer, const uint8_t *ip,
		    size_t n, jv_time now, struct jv_out *out)
{
	struct jv_session *s;
	struct jv_dgram *d;
	int len;

	if (!g || peer >= g->npeers || !ip || n == 0 || n > JV_MTU_MAX)
		return JV_ERR_INVAL;
	s = g->peers[peer].live;
	if (!s || s->bound < 0 || jv_sess_terminated(s) ||
	    !jv_gw_leased(g, now))
		return JV_ERR_STATE;
	jv_sess_clock(s, now);
	d = jv_out_dgram(out);
	if (!d)
		return JV_ERR_NOSPACE;
	len = jv_keys_seal(s, JV_MSG_DATA, ip, n, d->buf, sizeof d->buf);
	if (len < 0)
		return len;
	d->to = s->paths[s->bound].remote;
	d->local = s->paths[s->bound].local;
	d->len = (uint16_t)len;
	out->ndgram++;
	s->tx_bytes += (uint64_t)len;
	s->paths[s->bound].tx_packets++;
	return JV_OK;
}

static void forget(struct jv_gateway *g, unsigned i)
{
	struct gw_session *gs = g->sess[i];
	struct gw_peer *peer = &g->peers[gs->s.peer];

	if (peer->live == &gs->s)
		peer->live = NULL;
	if (peer->pending == &gs->s)
		peer->pending = NULL;
	if (--peer->refs == 0 && peer->removed)
		peer_slot_free(g, gs->s.peer);
	session_free(g, gs);
	if (i != --g->nsess) {
		g->sess[i] = g->sess[g->nsess];
		g->sess[i]->slot = i;
	}
}

void jv_gw_forget(struct jv_gateway *g, unsigned i)
{
	forget(g, i);
}

void jv_gw_add_session(struct jv_gateway *g, struct gw_session *gs,
		       jv_time now)
{
	int rc;

	gs->slot = g->nsess;
	g->sess[g->nsess++] = gs;
	g->peers[gs->s.peer].refs++;
	gs->deadline = jv_gw_deadline(gs, now);
	jv_heap_link_init(&gs->timer);
	/* Cannot fail: the heap holds max_sessions and the callers checked
	 * nsess against it. */
	rc = jv_heap_insert(&g->timers, &gs->timer, gs->deadline,
			    gs->s.local_index);
	(void)rc;
}

static struct gw_session *timer_session(struct jv_heap_link *l)
{
	return (struct gw_session *)((char *)l -
				     offsetof(struct gw_session, timer));
}

void jv_gw_reschedule(struct jv_gateway *g, struct gw_session *gs,
		      jv_time now)
{
	gs->deadline = jv_gw_deadline(gs, now);
	/* Earlier: the heap must know now.  Later (each packet moves the
	 * health timers on): left for earliest() to find, so the steady
	 * datapath does no heap work. */
	if (jv_heap_has(&gs->timer) &&
	    gs->deadline < jv_heap_key(&g->timers, &gs->timer))
		jv_heap_update(&g->timers, &gs->timer, gs->deadline);
}

/* The session with the earliest deadline, or NULL.  Heap keys are never
 * later than their deadlines, so once the top's key is its deadline no
 * other deadline is earlier; a top whose key lags is re-keyed first (once
 * per time it comes up, not once per packet). */
static struct gw_session *earliest(struct jv_gateway *g)
{
	struct jv_heap_link *l;

	while ((l = jv_heap_top(&g->timers))) {
		struct gw_session *gs = timer_session(l);

		if (jv_heap_key(&g->timers, l) == gs->deadline)
			return gs;
		jv_heap_update(&g->timers, l, gs->deadline);
	}
	return NULL;
}

int jv_gateway_tick(struct jv_gateway *g, jv_time now, struct jv_out *out)
{
	struct gw_session *gs, *again = NULL;
	int rc, full = 0;

	if (now > g->last_now)
		g->last_now = now;
	if (!jv_gw_leased(g, now)) {
		jv_gw_release_all(g, now);
		return 0;
	}
	/* Only the due sessions, earliest first (ties by receiver index), each
	 * once per call: one still due after its turn waits in `again` till
	 * the end, as one pass over every session would have left it. */
	while ((gs = earliest(g)) && gs->deadline <= now) {
		struct jv_session *s = &gs->s;

		if (out->ndgram >= JV_OUT_DGRAMS) {
			full = 1;
			break;
		}
		jv_heap_remove(&g->timers, &gs->timer);
		jv_sess_clock(s, now);
		if (jv_sess_terminated(s)) {
			jv_gw_note(g, gs);	/* its end must be stored */
			if (now >= s->tombstone_until_ms &&
			    jv_gw_record_settled(g, gs)) {
				forget(g, gs->slot);	/* Z1 tombstone evicted */
				continue;
			}
		} else {
			jv_keys_expire_prev(s, now);
			jv_keys_expire_stale(s, now);
			jv_pathval_expire(&s->pathval, now);
			gw_evaluate(s, now);
			(void)jv_sess_policy_settle(s, now);
			jv_gw_note(g, gs);
		}
		gs->deadline = jv_gw_deadline(gs, now);
		if (gs->deadline <= now) {
			gs->next_due = again;
			again = gs;
			continue;
		}
		rc = jv_heap_insert(&g->timers, &gs->timer, gs->deadline,
				    s->local_index);
		(void)rc;	/* it was in the heap a moment ago */
	}
	for (; again; again = again->next_due) {
		rc = jv_heap_insert(&g->timers, &again->timer, again->deadline,
				    again->s.local_index);
		(void)rc;
	}
	return full;
}

jv_time jv_gateway_deadline(struct jv_gateway *g)
{
	struct gw_session *gs = earliest(g);
	jv_time d = gs ? gs->deadline : JV_TIME_NEVER;

	/* The lease's end releases every session (fail closed). */
	if (g->nsess > 0 && g->lease_until != JV_TIME_NEVER &&
	    g->lease_until + 1 < d)
		d = g->lease_until + 1;
	return d;
}

int jv_gateway_terminate(struct jv_gateway *g, uint32_t peer, jv_time now,
			 struct jv_out *out)
{
	struct jv_session *s;

	if (!g || peer >= g->npeers)
		return JV_ERR_INVAL;
	s = g->peers[peer].live;
	if (!s || jv_sess_terminated(s))
		return JV_ERR_STATE;
	jv_sess_clock(s, now);
	struct jv_ctrl m = { .type = JV_CTRL_TERMINATE };
	m.terminate.reason = JV_REASON_OPERATOR_TERMINATED;
	send_bound(s, &m, out);
	terminate_session(s, JV_IN_TERMINATE_CMD, JV_REASON_OPERATOR_TERMINATED,
			  NULL, now);
	jv_gw_note(g, gws(s));
	jv_gw_reschedule(g, gws(s), now);
	return JV_OK;
}

int jv_gateway_remove_peer(struct jv_gateway *g, uint32_t peer, jv_time now,
			   struct jv_out *out)
{
	struct jv_ctrl m = { .type = JV_CTRL_TERMINATE };
	struct gw_peer *p;
	struct jv_session *s;

	if (!g || peer >= g->npeers || !out)
		return JV_ERR_INVAL;
	p = &g->peers[peer];
	if (p->removed)
		return JV_ERR_NOTFOUND;
	/* First: from here on the key is unknown to a handshake and to an
	 * adoption from the store (peer_of), whatever follows. */
	p->removed = true;
	m.terminate.reason = JV_REASON_PEER_REMOVED;
	s = p->live;
	if (s && !jv_sess_terminated(s)) {
		/* X5 with its own reason; the client is told on its binding,
		 * as jv_gateway_terminate does (D-022). */
		jv_sess_clock(s, now);
		send_bound(s, &m, out);
		terminate_session(s, JV_IN_TERMINATE_CMD, JV_REASON_PEER_REMOVED,
				  NULL, now);
		jv_gw_note(g, gws(s));	/* with a store: the record ends */
		jv_gw_reschedule(g, gws(s), now);
	}
	s = p->pending;
	if (s && !jv_sess_terminated(s)) {
		/* A handshake answered but not confirmed: the client may hold
		 * the keys already, so it is told where the handshake came
		 * from. */
		jv_sess_clock(s, now);
		jv_gw_send_to(s, &gws(s)->hs_from, gws(s)->hs_local, &m, out,
			      NULL);
		terminate_session(s, JV_IN_TERMINATE_CMD, JV_REASON_PEER_REMOVED,
				  NULL, now);
		jv_gw_note(g, gws(s));
		jv_gw_reschedule(g, gws(s), now);
	}
	/* Nothing names the slot: free now (else when its last session
	 * goes, forget()). */
	if (!peer_referenced(g, peer))
		peer_slot_free(g, peer);
	return JV_OK;
}

bool jv_gateway_peer_removed(const struct jv_gateway *g, uint32_t peer)
{
	return g && peer < g->npeers && g->peers[peer].removed;
}

int jv_gateway_status(const struct jv_gateway *g, uint32_t peer,
		      struct jv_session_status *st)
{
	const struct jv_session *s;

	if (!g || peer >= g->npeers || !st)
		return JV_ERR_INVAL;
	s = g->peers[peer].live ? g->peers[peer].live : g->peers[peer].pending;
	if (!s)
		return JV_ERR_NOTFOUND;
	jv_sess_status(s, true, st);
	return JV_OK;
}
