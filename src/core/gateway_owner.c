/* SPDX-License-Identifier: MIT */
/*
 * The gateway's half of PD-9: the session outlives its gateway.
 *
 *   records    every change the store must see (state version, binding,
 *              the key epoch the client speaks, the requester-nonce
 *              high-water mark, the owner epoch) marks the session's record
 *              pending; the caller writes it and reports back; the ACK of a
 *              commit waits for that (no client moves onto a binding that a
 *              restarted or another node would not know).
 *   adoption   a packet for an index this node does not hold asks the
 *              caller to look the record up; prepare_adopt makes the next
 *              record (this node, owner_epoch + 1), the caller wins it by
 *              CAS, adopt installs it: fresh keys of the new owner epoch
 *              for sending, the client's epoch kept only to open a fresh
 *              REATTACH_REQUEST or to answer a probe under the new keys.
 *   lease      V2 and forwarding need this node to be the owner: its lease
 *              unexpired and its store reachable; past the lease every
 *              session is released (fail closed, never dual-active).
 *
 * No I/O here: writes and lookups are outputs, completions are inputs.
 */

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gateway_impl.h"

/* ---- bookkeeping -------------------------------------------------------- */

int jv_gw_owner_init(struct jv_gateway *g)
{
	g->lease_until = JV_TIME_NEVER;
	g->store_reachable = true;
	g->pendq = calloc(g->max_sessions, sizeof *g->pendq);
	if (!g->pendq)
		return JV_ERR_NOMEM;
	if (g->durable &&
	    !(g->asked = calloc(GW_LOOKUP_RECENT, sizeof *g->asked)))
		return JV_ERR_NOMEM;
	/* A restart's clients all ask at once: one read each fits the burst
	 * (D-035); past it, GW_LOOKUP_RATE per second. */
	return jv_token_bucket_init(&g->lookup_bucket, GW_LOOKUP_RATE,
				    g->max_sessions > GW_LOOKUP_BURST_MIN
					    ? g->max_sessions
					    : GW_LOOKUP_BURST_MIN,
				    0);
}

void jv_gw_owner_free(struct jv_gateway *g)
{
	free(g->pendq);
	g->pendq = NULL;
	free(g->asked);
	g->asked = NULL;
}

/* The epoch whose keys the client is known to seal with: what a node that
 * takes over must be able to open. */
static const struct jv_epoch *client_epoch(const struct jv_session *s)
{
	if (s->stale && !s->stale_closed)
		return s->stale;
	if (!s->cur.confirmed && s->prev.valid)
		return &s->prev;
	return &s->cur;
}

static void fingerprint(const struct jv_session *s, struct gw_fingerprint *f)
{
	memset(f, 0, sizeof *f);
	f->state_version = s->fsm.state_version;
	f->owner_epoch = s->owner_epoch;
	f->key_epoch = client_epoch(s)->epoch;
	f->nonce_hwm = s->nonces.highest;
	f->total_switches = s->total_switches;
	f->bound = s->bound;
	if (s->bound >= 0)
		f->bound_remote = s->paths[s->bound].remote;
}

static bool fingerprint_equal(const struct gw_fingerprint *a,
			      const struct gw_fingerprint *b)
{
	return a->state_version == b->state_version &&
	       a->owner_epoch == b->owner_epoch &&
	       a->key_epoch == b->key_epoch && a->nonce_hwm == b->nonce_hwm &&
	       a->total_switches == b->total_switches && a->bound == b->bound &&
	       jv_addr_equal(&a->bound_remote, &b->bound_remote);
}

/* The one writer of pending/unwritten, so g->nunwritten stays their count
 * (the caller's event log waits for it to reach 0, on every loop pass). */
static void durability(struct jv_gateway *g, struct gw_session *gs,
		       bool pending, bool unwritten)
{
	bool was = gs->pending || gs->unwritten;

	gs->pending = pending;
	gs->unwritten = unwritten;
	if (was && !pending && !unwritten)
		g->nunwritten--;
	else if (!was && (pending || unwritten))
		g->nunwritten++;
}

static void enqueue(struct jv_gateway *g, struct gw_session *gs)
{
	durability(g, gs, true, gs->unwritten);
	if (!gs->queued && g->npend < g->max_sessions) {
		g->pendq[g->npend++] = gs->s.local_index;
		gs->queued = true;
	}
}

jv_time jv_gw_deadline(const struct gw_session *gs, jv_time now)
{
	jv_time d = jv_sess_deadline(&gs->s, now);

	/* A tombstone past its time waits for its record, not the clock. */
	if (jv_sess_terminated(&gs->s) && d <= now &&
	    (gs->pending || gs->unwritten))
		d = JV_TIME_NEVER;
	return gs->retry_ms < d ? gs->retry_ms : d;
}

bool jv_gw_record_settled(const struct jv_gateway *g,
			  const struct gw_session *gs)
{
	return !g->durable || (!gs->pending && !gs->unwritten);
}

void jv_gw_note(struct jv_gateway *g, struct gw_session *gs)
{
	struct gw_fingerprint now;

	/* A due retry is spent whatever follows (else its deadline would
	 * stay in the past). */
	if (gs->retry_ms <= gs->s.last_now_ms)
		gs->retry_ms = JV_TIME_NEVER;
	if (!g->durable || gs->s.fsm.state == JV_STATE_BIRTH || gs->disowned)
		return;
	/* The first commit ends the window in which the client's old epoch
	 * is accepted at all (PD-9). */
	if (gs->s.fsm.state_version != gs->stored.state_version)
		jv_keys_close_stale(&gs->s, gs->s.last_now_ms);
	fingerprint(&gs->s, &now);
	if (!fingerprint_equal(&now, &gs->stored))
		enqueue(g, gs);
}

static void export(const struct jv_gateway *g, const struct gw_session *gs,
		   struct jv_gw_record *r)
{
	const struct jv_session *s = &gs->s;
	const struct jv_epoch *e = client_epoch(s);

	memset(r, 0, sizeof *r);
	memcpy(r->session_id, s->id, sizeof r->session_id);
	memcpy(r->peer_public, g->peers[s->peer].np.pub, sizeof r->peer_public);
	r->local_index = s->local_index;
	r->remote_index = s->remote_index;
	snprintf(r->owner_node, sizeof r->owner_node, "%s", g->node_id);
	r->owner_epoch = s->owner_epoch;
	r->state = s->fsm.state;
	r->state_version = s->fsm.state_version;
	r->created_ms = s->created_ms;
	r->unbound_since_ms = s->unbound_since_ms;
	r->volatile_since_ms = s->volatile_since_ms;
	r->last_switch_commit_ms = s->last_switch_commit_ms;
	r->volatile_reason = s->volatile_reason;
	r->total_switches = s->total_switches;
	r->nonce_hwm = s->nonces.highest;
	if (s->bound >= 0) {
		r->bound = true;
		r->bound_remote = s->paths[s->bound].remote;
	}
	r->key_epoch = e->epoch;
	/* The gateway seals with r2i and opens with i2r. */
	memcpy(r->key_i2r, e->recv_key, sizeof r->key_i2r);
	memcpy(r->key_r2i, e->send_key, sizeof r->key_r2i);
	r->keys_birth_ms = e->birth_ms;
	memcpy(r->root, s->root, sizeof r->root);
	r->nswitches = (uint8_t)jv_switch_recent(&s->limiter, s->last_now_ms,
						 r->switches);
}

int jv_gateway_next_record(struct jv_gateway *g, struct jv_gw_record *r)
{
	while (g->npend > 0) {
		uint32_t index = g->pendq[--g->npend];
		struct gw_session *gs = jv_table_lookup(&g->table, index);

		if (!gs || !gs->queued)
			continue;
		gs->queued = false;
		if (!gs->pending)
			continue;
		durability(g, gs, false, true);
		export(g, gs, r);
		fingerprint(&gs->s, &gs->stored);
		return 1;
	}
	return 0;
}

/* ---- held ACKs and write completions ------------------------------------ */

bool jv_gw_hold_ack(struct jv_gateway *g, struct gw_session *gs,
		    const struct jv_ctrl *answer, const struct jv_addr *to,
		    uint32_t local)
{
	jv_gw_note(g, gs);
	if (!g->durable || !gs->pending)
		return false;
	/* Without memory for it the ACK is dropped, never sent early: the
	 * requester retransmits (OP-8). */
	if (!gs->held && !(gs->held = calloc(1, sizeof *gs->held)))
		return true;
	gs->held->version = gs->s.fsm.state_version;
	gs->held->answer = *answer;
	gs->held->to = *to;
	gs->held->local = local;
	return true;
}

static void conflict(struct gw_session *gs, jv_time now)
{
	struct jv_session *s = &gs->s;
	struct jv_event ev;

	if (jv_sess_terminated(s))
		return;
	/* §9 split brain: the store holds a write this node did not make
	 * while it believed it owned the session.  Ending the session beats
	 * two bindings (X6, CL-4). */
	jv_ev_init(&ev, JV_EV_SESSION_OWNER_CONFLICT);
	JV_EV_SET(&ev, reason_code, JV_REASON_OWNERSHIP_CONFLICT);
	JV_EV_SET(&ev, conflicting_node_id, "unknown");
	jv_sess_emit(s, &ev, now);
	(void)jv_sess_input(s, JV_IN_OWNERSHIP_CONFLICT, JV_REASON_NONE, now,
			    NULL, false);
	free(gs->held);
	gs->held = NULL;
}

int jv_gateway_record_done(struct jv_gateway *g, uint32_t local_index,
			   uint64_t state_version, enum jv_record_outcome oc,
			   jv_time now, struct jv_out *out)
{
	struct gw_session *gs = jv_table_lookup(&g->table, local_index);

	if (!gs)
		return JV_ERR_NOTFOUND;
	jv_sess_clock(&gs->s, now);
	switch (oc) {
	case JV_RECORD_WRITTEN:
		g->store_reachable = true;
		/* durable unless a newer change waits for its own write */
		durability(g, gs, gs->pending, gs->pending);
		if (gs->held && gs->held->version <= state_version) {
			jv_gw_send_to(&gs->s, &gs->held->to, gs->held->local,
				      &gs->held->answer, out, NULL);
			free(gs->held);
			gs->held = NULL;
		}
		break;
	case JV_RECORD_CONFLICT:
		conflict(gs, now);
		/* The record is another node's now: ours is never written
		 * again (the session ended here, X6). */
		gs->disowned = true;
		durability(g, gs, false, false);
		break;
	case JV_RECORD_FAILED:
		/* Unreachable: V2 refuses further commits until a write goes
		 * through again.  The record is offered again at the
		 * session's next input or GW_RECORD_RETRY_MS from now,
		 * whichever is first (a terminated session has no next
		 * input, and its end must reach the store), never in a loop. */
		g->store_reachable = false;
		memset(&gs->stored, 0, sizeof gs->stored);
		gs->retry_ms = now + GW_RECORD_RETRY_MS;
		break;
	}
	jv_gw_reschedule(g, gs, now);
	return JV_OK;
}

/* ---- ownership --------------------------------------------------------- */

bool jv_gw_is_owner(const struct jv_gateway *g, jv_time now)
{
	return jv_gw_leased(g, now) && g->store_reachable;
}

void jv_gateway_set_lease(struct jv_gateway *g, jv_time valid_until_ms)
{
	g->lease_until = valid_until_ms;
}

void jv_gateway_store_reachable(struct jv_gateway *g, bool reachable)
{
	g->store_reachable = reachable;
}

void jv_gw_owner_created(struct jv_gateway *g, struct gw_session *gs,
			 jv_time now)
{
	struct jv_event ev;

	jv_ev_init(&ev, JV_EV_SESSION_OWNER_ACQUIRED);
	JV_EV_SET(&ev, owner_node_id, g->node_id);
	JV_EV_SET(&ev, owner_epoch, gs->s.owner_epoch);
	jv_sess_emit(&gs->s, &ev, now);
	fingerprint(&gs->s, &gs->stored);
	gs->retry_ms = JV_TIME_NEVER;
}

unsigned jv_gateway_unwritten(const struct jv_gateway *g)
{
	return g->nunwritten;
}

void jv_gw_release_all(struct jv_gateway *g, jv_time now)
{
	while (g->nsess > 0) {
		struct gw_session *gs = g->sess[g->nsess - 1];
		struct jv_session *s = &gs->s;

		jv_sess_clock(s, now);
		if (s->fsm.state == JV_STATE_BIRTH) {
			/* Never stored, so no other node can resume it: its
			 * handshake fails here (T02), explicitly. */
			(void)jv_sess_input(s, JV_IN_HANDSHAKE_FAIL,
					    JV_REASON_NONE, now, NULL, false);
		} else if (!jv_sess_terminated(s)) {
			struct jv_event ev;

			/* The end of this node's ownership interval (INV-15):
			 * another node may hold the session from now on. */
			jv_ev_init(&ev, JV_EV_SESSION_OWNER_REJECTED);
			JV_EV_SET(&ev, reason_code,
				  JV_REASON_NOT_AUTHORITATIVE_OWNER);
			JV_EV_SET(&ev, expected_state_version,
				  s->fsm.state_version);
			JV_EV_SET(&ev, actual_state_version, s->fsm.state_version);
			JV_EV_SET(&ev, released, true);
			jv_sess_emit(s, &ev, now);
		}
		jv_gw_forget(g, g->nsess - 1);
	}
	g->npend = 0;
}

/* ---- lookups and adoption --------------------------------------------- */

void jv_gw_want_lookup(struct jv_gateway *g, uint32_t index, jv_time now)
{
	struct gw_asked *a;

	if (!g->durable || index == 0 || g->nlook >= GW_LOOKUPS_MAX)
		return;
	/* Its client sends again and again until the session is back (a
	 * heartbeat, probes on every path, request copies): one read per
	 * GW_LOOKUP_REPEAT_MS is enough, and the queue holds it once. */
	a = &g->asked[(index * 2654435761u) % GW_LOOKUP_RECENT];
	if (a->index == index && now < a->at + GW_LOOKUP_REPEAT_MS)
		return;
	/* A store round trip per unknown index is the costly action of a
	 * flood of random indexes (CP-2): bounded here. */
	if (!jv_token_bucket_take(&g->lookup_bucket, now))
		return;
	a->index = index;
	a->at = now;
	g->lookq[(g->lookhead + g->nlook++) % GW_LOOKUPS_MAX] = index;
}

int jv_gateway_next_lookup(struct jv_gateway *g, uint32_t *index)
{
	if (g->nlook == 0)
		return 0;
	*index = g->lookq[g->lookhead];
	g->lookhead = (g->lookhead + 1) % GW_LOOKUPS_MAX;
	g->nlook--;
	return 1;
}

static int peer_of(const struct jv_gateway *g, const uint8_t pub[32])
{
	/* A removed peer's sessions are never adopted (D-022). */
	return jv_gw_peer_by_key(g, pub);
}

int jv_gateway_prepare_adopt(const struct jv_gateway *g,
			     const struct jv_gw_record *stored, jv_time now,
			     struct jv_gw_record *next)
{
	const struct jv_policy *p = &g->policy;

	if (peer_of(g, stored->peer_public) < 0)
		return JV_ERR_NOTFOUND;
	if (stored->state == JV_STATE_TERMINATED ||
	    stored->state == JV_STATE_BIRTH ||
	    now > stored->created_ms + p->max_lifetime_ms ||
	    (!stored->bound &&
	     now > stored->unbound_since_ms + p->transport_lost_ttl_ms))
		return JV_ERR_STATE;
	if (g->nsess >= g->max_sessions ||
	    jv_table_lookup(&g->table, stored->local_index))
		return JV_ERR_LIMIT;
	*next = *stored;
	snprintf(next->owner_node, sizeof next->owner_node, "%s", g->node_id);
	next->owner_epoch = stored->owner_epoch + 1;
	return JV_OK;
}

static jv_time not_after(jv_time t, jv_time now)
{
	return t > now ? now : t;
}

static void restore_epoch(struct jv_epoch *e, const struct jv_gw_record *r)
{
	memset(e, 0, sizeof *e);
	e->valid = true;
	e->epoch = r->key_epoch;
	memcpy(e->send_key, r->key_r2i, sizeof e->send_key);
	memcpy(e->recv_key, r->key_i2r, sizeof e->recv_key);
	e->birth_ms = r->keys_birth_ms;
	e->confirmed = true;
	jv_replay_init(&e->recv_window);
}

int jv_gateway_adopt(struct jv_gateway *g, const struct jv_gw_record *rec,
		     const char *previous_owner, jv_time now)
{
	struct gw_session *gs;
	struct jv_session *s;
	struct jv_event ev;
	char prev_owner[JV_NODE_ID_MAX];
	int peer, rc;

	if (!g || !rec || !previous_owner || strcmp(rec->owner_node, g->node_id) != 0 ||
	    rec->owner_epoch < 2)
		return JV_ERR_INVAL;
	peer = peer_of(g, rec->peer_public);
	if (peer < 0)
		return JV_ERR_NOTFOUND;
	if (g->nsess >= g->max_sessions)
		return JV_ERR_LIMIT;
	gs = calloc(1, sizeof *gs);
	if (!gs)
		return JV_ERR_NOMEM;
	s = &gs->s;
	rc = jv_sess_init(s, JV_ROLE_GATEWAY, &g->policy, g->node_id, g->rng,
			  g->on_event, g->ud, JV_GW_PATHS);
	if (rc != JV_OK) {
		free(gs);
		return rc;
	}
	rc = jv_table_insert_at(&g->table, gs, rec->local_index);
	if (rc != JV_OK) {
		jv_sess_destroy(s);
		free(gs);
		return rc == JV_ERR_INVAL ? JV_ERR_STATE : rc;
	}
	jv_sess_clock(s, now);
	memcpy(s->id, rec->session_id, sizeof s->id);
	sodium_bin2hex(s->id_hex, sizeof s->id_hex, s->id, sizeof s->id);
	memcpy(s->root, rec->root, sizeof s->root);
	s->local_index = rec->local_index;
	s->remote_index = rec->remote_index;
	s->peer = (uint32_t)peer;
	/* The record's times come from another process's clock: if this one
	 * reads earlier (a wall clock stepped back between the two), they are
	 * taken as "now" rather than left in the future, where every age
	 * computed from them would wrap. */
	s->created_ms = not_after(rec->created_ms, now);
	s->unbound_since_ms = not_after(rec->unbound_since_ms, now);
	s->volatile_since_ms = not_after(rec->volatile_since_ms, now);
	s->volatile_reason = rec->volatile_reason;
	s->last_switch_commit_ms = not_after(rec->last_switch_commit_ms, now);
	s->total_switches = rec->total_switches;
	for (unsigned i = 0; i < rec->nswitches; i++)
		jv_switch_record_commit(&s->limiter,
					not_after(rec->switches[i], now));
	s->stable_since_ms = now;
	jv_nonce_window_restore(&s->nonces, rec->nonce_hwm);
	jv_fsm_restore(&s->fsm, rec->state, rec->state_version);
	if (rec->bound) {
		struct jv_path *p = &s->paths[0];

		p->used = true;
		p->proto = JV_PROTO_UDP;
		p->remote = rec->bound_remote;
		p->local = 0;
		jv_tuple_id(&p->remote, p->id);
		/* Heard "now": the restart is not the client's silence; a
		 * client that is gone is found dead by the ordinary timers. */
		jv_health_init(&p->health, &s->policy, now);
		s->npaths = 1;
		jv_sess_bind(s, 0, now);
	}
	/* Keys: the client's epoch, then the new owner epoch's (PD-9). */
	restore_epoch(&s->cur, rec);
	s->cur.birth_ms = not_after(rec->keys_birth_ms, now);
	s->keys_birth_ms = s->cur.birth_ms;
	rc = jv_keys_take_over(s, rec->owner_epoch, now);
	if (rc != JV_OK) {
		jv_table_remove(&g->table, rec->local_index);
		jv_sess_destroy(s);
		sodium_memzero(gs, sizeof *gs);
		free(gs);
		return rc;
	}
	jv_gw_add_session(g, gs, now);
	if (!g->peers[peer].live || jv_sess_terminated(g->peers[peer].live))
		g->peers[peer].live = s;

	/* A restart keeps the node id: Acquired; another node: Transferred. */
	snprintf(prev_owner, sizeof prev_owner, "%s", previous_owner);
	jv_ev_init(&ev, strcmp(prev_owner, g->node_id) == 0
				? JV_EV_SESSION_OWNER_ACQUIRED
				: JV_EV_SESSION_OWNER_TRANSFERRED);
	JV_EV_SET(&ev, owner_node_id, g->node_id);
	JV_EV_SET(&ev, owner_epoch, rec->owner_epoch);
	JV_EV_SET(&ev, previous_owner_node_id, prev_owner);
	jv_sess_emit(s, &ev, now);

	fingerprint(s, &gs->stored);	/* the caller just wrote it */
	gs->retry_ms = JV_TIME_NEVER;
	jv_gw_reschedule(g, gs, now);
	return JV_OK;
}
