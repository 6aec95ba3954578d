/* SPDX-License-Identifier: MIT */
/*
 * The gateway's timers at scale (issue 12, D-031): sessions' deadlines
 * live in a heap whose keys may lag behind (a deadline that moves later
 * is not pushed down per packet), so these check the contract from
 * outside the heap: after every engine call jv_gateway_deadline is the
 * earliest of the sessions' deadlines, found by brute force; a tick
 * leaves no session due; and steady ATTACHED data, which skips the
 * control-plane pass, still gets the record written when a packet
 * confirms a new key epoch.
 *
 * A small in-process world: one durable gateway, N clients at
 * 10.128.0.i:40000 over one transport each, datagrams handed over at
 * once, record writes done (or failed) by the test.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/gateway_impl.h"
#include "jvpn/diag.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/record.h"
#include "jvpn/session.h"

enum { NMAX = 40, T0 = 1000000, QMAX = 4096 };

struct msg {
	int to;			/* client index, or -1: the gateway */
	int from;		/* client index when to the gateway */
	int path;		/* the client's transport */
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct world {
	struct jv_policy pol;
	struct jv_seeded_rng grng, crng[NMAX];
	struct jv_gateway *g;
	struct jv_client *c[NMAX];
	struct jv_addr addr[NMAX];
	struct jv_addr addr2[NMAX];	/* the second transport's, if any */
	uint8_t gpub[32];
	unsigned n;
	jv_time now;
	struct msg q[QMAX];
	unsigned nq;
	struct jv_out out;
	unsigned fail_every;	/* every k-th record write fails (0: none) */
	/* client datagrams to the gateway are lost while the gateway's
	 * current epoch is unconfirmed */
	bool hold_new_epoch;
	bool mute[NMAX];	/* a client that sends nothing any more */
	unsigned writes;
	/* standby probes that met no path-validation slot while their
	 * session's deadline was further off than a new slot's expiry */
	unsigned probes_new_slot_far_deadline;
	unsigned restarts;
};

static struct world W;

/* The contract: the earliest deadline of any session (the lease aside),
 * each session's a lower bound of what a full pass would find (work that
 * skips the pass may only move a deadline later). */
static void check_deadline(struct world *w)
{
	jv_time min = JV_TIME_NEVER;

	for (unsigned i = 0; i < w->g->nsess; i++) {
		struct gw_session *gs = w->g->sess[i];

		assert_true(gs->deadline <= jv_gw_deadline(gs, w->now));
		if (gs->deadline < min)
			min = gs->deadline;
	}
	assert_int_equal(jv_gateway_deadline(w->g), min);
	assert_int_equal(w->g->timers.n + 0u, w->g->nsess);
}

static void key_of(unsigned i, uint8_t priv[32], uint8_t pub[32])
{
	struct jv_noise_keypair kp;

	memset(priv, 0, 32);
	priv[2] = 0x77;
	priv[8] = (uint8_t)i;
	assert_int_equal(jv_noise_keypair_from_private(&kp, priv), 0);
	memcpy(pub, kp.pub, 32);
}

static void post(struct world *w, const struct jv_out *o, int from)
{
	for (unsigned k = 0; k < o->ndgram; k++) {
		struct msg *m;
		int to = -1;

		int path = o->dgram[k].path;

		if (from < 0) {
			for (unsigned i = 0; i < w->n; i++) {
				if (jv_addr_equal(&o->dgram[k].to, &w->addr[i]))
					to = (int)i, path = 0;
				if (jv_addr_equal(&o->dgram[k].to, &w->addr2[i]))
					to = (int)i, path = 1;
			}
			if (to < 0)
				continue;
		}
		assert_true(w->nq < QMAX);
		m = &w->q[w->nq++];
		m->to = to;
		m->from = from;
		m->path = path;
		m->len = o->dgram[k].len;
		memcpy(m->buf, o->dgram[k].buf, m->len);
	}
}

/* The gateway's records: written, or every fail_every-th one failed. */
static void store(struct world *w)
{
	struct jv_gw_record r;

	while (jv_gateway_next_record(w->g, &r) == 1) {
		enum jv_record_outcome oc = JV_RECORD_WRITTEN;

		if (w->fail_every && ++w->writes % w->fail_every == 0)
			oc = JV_RECORD_FAILED;
		jv_out_reset(&w->out);
		assert_int_equal(jv_gateway_record_done(w->g, r.local_index,
							r.state_version, oc,
							w->now, &w->out), 0);
		check_deadline(w);
		post(w, &w->out, -1);
		jv_gw_record_wipe(&r);
	}
}

/* Every datagram in flight, and what it causes, until none is left. */
static void deliver(struct world *w)
{
	for (unsigned k = 0; k < w->nq; k++) {
		struct msg m = w->q[k];

		jv_out_reset(&w->out);
		if (m.to < 0 && w->hold_new_epoch && w->g->nsess &&
		    !w->g->sess[0]->s.cur.confirmed)
			continue;
		if (m.to < 0) {
			const struct jv_addr *a = m.path ? &w->addr2[m.from]
							 : &w->addr[m.from];
			struct gw_session *gs = w->g->nsess ? w->g->sess[0] : NULL;

			if (m.path && w->n == 1 && gs &&
			    gs->s.fsm.state == JV_STATE_ATTACHED &&
			    !jv_pathval_known(&gs->s.pathval, a) &&
			    gs->deadline > w->now + JV_PATHVAL_CHALLENGE_MS)
				w->probes_new_slot_far_deadline++;
			(void)jv_gateway_recv(w->g, 0, a, m.buf, m.len, w->now,
					      &w->out);
			check_deadline(w);
			post(w, &w->out, -1);
			store(w);
		} else {
			(void)jv_client_recv(w->c[m.to], m.path, m.buf, m.len,
					     w->now, &w->out);
			post(w, &w->out, m.to);
		}
	}
	w->nq = 0;
}

static void gw_tick(struct world *w)
{
	int rc;

	do {
		jv_out_reset(&w->out);
		rc = jv_gateway_tick(w->g, w->now, &w->out);
		check_deadline(w);
		post(w, &w->out, -1);
	} while (rc == 1);
	store(w);
}

/* Client i, new, handshaking (its key is key_of(i)). */
static void client_start(struct world *w, unsigned i, bool two_paths)
{
	struct jv_client_config cc = { .policy = &w->pol, .node_id = "c" };
	uint8_t pub[32];

	key_of(i, cc.private_key, pub);
	memcpy(cc.gateway_public, w->gpub, 32);
	jv_seeded_rng_init(&w->crng[i], 100 + i + 1000 * w->restarts);
	cc.rng = jv_seeded_rng(&w->crng[i]);
	w->c[i] = jv_client_new(&cc);
	assert_non_null(w->c[i]);
	assert_int_equal(jv_client_add_transport(w->c[i], "p1", JV_PROTO_UDP, 1),
			 0);
	if (two_paths)
		assert_int_equal(jv_client_add_transport(w->c[i], "p2",
							 JV_PROTO_UDP, 2), 1);
	jv_out_reset(&w->out);
	assert_int_equal(jv_client_start(w->c[i], w->now, &w->out), 0);
	post(w, &w->out, (int)i);
	deliver(w);
}

/* The same machine again: a new client engine under key i. */
static void client_restart(struct world *w, unsigned i)
{
	jv_client_free(w->c[i]);
	w->restarts++;
	client_start(w, i, false);
}

static void world_new3(struct world *w, unsigned n, const struct jv_policy *p,
		       bool two_paths, unsigned max_sessions)
{
	struct jv_gateway_config gc = { 0 };
	uint8_t priv[32], pub[32];

	memset(w, 0, sizeof *w);
	w->pol = *p;
	w->n = n;
	w->now = T0;
	jv_seeded_rng_init(&w->grng, 21);
	gc.policy = &w->pol;
	gc.node_id = "gw1";
	gc.rng = jv_seeded_rng(&w->grng);
	gc.durable = true;
	gc.handshakes_per_sec = 100000;
	gc.handshake_burst = 100000;
	gc.max_sessions = max_sessions;
	key_of(200, gc.private_key, w->gpub);
	w->g = jv_gateway_new(&gc);
	assert_non_null(w->g);
	for (unsigned i = 0; i < n; i++) {
		key_of(i, priv, pub);
		assert_int_equal(jv_gateway_add_peer(w->g, pub), (int)i);
		jv_addr_from_ipv4(&w->addr[i], 0x0a800000 + i, 40000);
		if (two_paths)
			jv_addr_from_ipv4(&w->addr2[i], 0x0a810000 + i, 40001);
		client_start(w, i, two_paths);
	}
	check_deadline(w);
}

static void world_new2(struct world *w, unsigned n, const struct jv_policy *p,
		       bool two_paths)
{
	world_new3(w, n, p, two_paths, 0);
}

static void world_new(struct world *w, unsigned n, const struct jv_policy *p)
{
	world_new2(w, n, p, false);
}

static void world_free(struct world *w)
{
	for (unsigned i = 0; i < w->n; i++)
		jv_client_free(w->c[i]);
	jv_gateway_free(w->g);
}

/* The clock to `t`: clients and the gateway run what is due on the way. */
static void advance(struct world *w, jv_time t)
{
	while (w->now < t) {
		jv_time next = t;

		for (unsigned i = 0; i < w->n; i++)
			if (!w->mute[i] && jv_client_deadline(w->c[i]) < next)
				next = jv_client_deadline(w->c[i]);
		if (jv_gateway_deadline(w->g) < next)
			next = jv_gateway_deadline(w->g);
		w->now = next > w->now ? next : w->now + 1;
		for (unsigned i = 0; i < w->n; i++) {
			if (w->mute[i] || jv_client_deadline(w->c[i]) > w->now)
				continue;
			jv_out_reset(&w->out);
			assert_int_equal(jv_client_tick(w->c[i], w->now,
							&w->out), 0);
			post(w, &w->out, (int)i);
		}
		deliver(w);
		if (jv_gateway_deadline(w->g) <= w->now)
			gw_tick(w);
		deliver(w);
	}
}

static void send_data(struct world *w, unsigned i)
{
	uint8_t ip[64] = { 0x45 };

	jv_out_reset(&w->out);
	if (jv_client_send(w->c[i], ip, sizeof ip, w->now, &w->out) == 0)
		post(w, &w->out, (int)i);
	deliver(w);
}

static uint64_t rnd(struct jv_seeded_rng *s)
{
	uint64_t x;
	struct jv_rng r = jv_seeded_rng(s);

	jv_rng_fill(&r, &x, sizeof x);
	return x;
}

/* 40 sessions for two minutes of data, heartbeats, failed record writes,
 * a path silent long enough to go VOLATILE and die, terminations and
 * tombstones evicted: the heap's answer is the brute-force minimum after
 * every call, and no tick leaves a session due behind it. */
static void deadline_is_the_earliest(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct jv_seeded_rng r;
	unsigned attached = 0;

	jv_policy_default(&pol);
	world_new(&W, NMAX, &pol);
	W.fail_every = 7;
	jv_seeded_rng_init(&r, 5);
	for (unsigned i = 0; i < W.n; i++)
		send_data(&W, i);	/* confirms */
	for (unsigned step = 0; step < 3000; step++) {
		uint64_t x = rnd(&r);
		unsigned i = (unsigned)(x % W.n);

		advance(&W, W.now + (x >> 8) % 40);
		/* 1 in 5 clients falls silent: its gateway session goes
		 * VOLATILE, DEGRADED, loses its binding and ends */
		if (step == 500)
			for (unsigned k = 0; k < W.n; k += 5)
				W.mute[k] = true;
		switch ((x >> 20) % 16) {
		case 1:
			if (step % 97 == 0) {
				jv_out_reset(&W.out);
				(void)jv_gateway_terminate(W.g, i, W.now, &W.out);
				check_deadline(&W);
				post(&W, &W.out, -1);
				store(&W);
				deliver(&W);
			}
			break;
		default:
			if (!W.mute[i])
				send_data(&W, i);
			break;
		}
		/* a tick leaves nothing due behind it */
		gw_tick(&W);
		for (unsigned k = 0; k < W.g->nsess; k++)
			assert_true(W.g->sess[k]->deadline > W.now);
	}
	for (unsigned i = 0; i < W.n; i++)
		attached += jv_client_state(W.c[i]) == JV_STATE_ATTACHED;
	assert_true(attached > 0);
	/* the silent ones ended and their tombstones went */
	assert_true(W.g->nsess < W.n);
	check_deadline(&W);
	world_free(&W);
}

/* A client rekeys; its first data under the new epoch confirms it at the
 * gateway, which changes the epoch the record must carry (PD-9): that
 * packet takes the full pass and the record is pending at once, not at
 * the next timer. */
static void new_epoch_recorded_at_once(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct jv_gw_record rec;
	uint8_t ip[64] = { 0x45 };
	uint64_t epoch0;

	jv_policy_default(&pol);
	world_new(&W, 1, &pol);
	send_data(&W, 0);
	assert_int_equal(jv_client_state(W.c[0]), JV_STATE_ATTACHED);
	struct jv_session *s = &W.g->sess[0]->s;
	/* data every 100 ms until the gateway has rotated on the client's
	 * REKEY; from then the client's datagrams are held back */
	W.hold_new_epoch = true;
	epoch0 = s->cur.epoch;
	for (unsigned k = 0; k < 5000 && s->cur.epoch == epoch0; k++) {
		advance(&W, W.now + 100);
		send_data(&W, 0);
	}
	assert_int_not_equal(s->cur.epoch, epoch0);
	assert_false(s->cur.confirmed);
	W.hold_new_epoch = false;
	store(&W);
	assert_int_equal(jv_gateway_next_record(W.g, &rec), 0);

	/* the first datagram under the new epoch, a plain data packet */
	W.now++;
	jv_out_reset(&W.out);
	assert_int_equal(jv_client_send(W.c[0], ip, sizeof ip, W.now, &W.out),
			 0);
	struct jv_dgram d = W.out.dgram[0];
	jv_out_reset(&W.out);
	assert_int_equal(jv_gateway_recv(W.g, 0, &W.addr[0], d.buf, d.len,
					 W.now, &W.out), 0);
	assert_int_equal(W.out.ninner, 1);
	assert_true(s->cur.confirmed);
	assert_int_equal(jv_gateway_next_record(W.g, &rec), 1);
	assert_int_equal(rec.key_epoch, s->cur.epoch);
	jv_gw_record_wipe(&rec);
	world_free(&W);
}

/* D-036: a standby's probe is answered without the full pass only from
 * an address that has a path-validation slot already.  Silence timers
 * longer than a slot's life (3 s) make a new slot's expiry the session's
 * earliest timer: a probe that made one and skipped the pass would leave
 * the deadline late, and check_deadline would see it. */
static void standby_probe_keeps_the_deadline(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct jv_diag d;

	jv_policy_default(&pol);
	pol.heartbeat_interval_ms = 2000;
	pol.heartbeat_volatile_ms = 20000;
	pol.transport_dead_ms = 40000;
	pol.loss_window_ms = 20000;
	pol.standby_probe_interval_ms = 2000;
	pol.transport_lost_ttl_ms = 60000;
	pol.latency_window_ms = 20000;
	pol.candidate_ttl_ms = 60000;
	if (jv_policy_validate(&pol, &d))
		fail_msg("%s = %s: %s", d.key, d.value, d.msg);
	world_new2(&W, 1, &pol, true);
	send_data(&W, 0);
	assert_int_equal(jv_client_state(W.c[0]), JV_STATE_ATTACHED);
	for (unsigned k = 0; k < 600; k++) {
		advance(&W, W.now + 100);
		if (k % 5 == 0)
			send_data(&W, 0);
	}
	assert_int_equal(jv_client_state(W.c[0]), JV_STATE_ATTACHED);
	/* the case happened: the test is not empty */
	assert_true(W.probes_new_slot_far_deadline > 0);
	world_free(&W);
}

static unsigned sessions_of(struct world *w, unsigned peer, bool ended)
{
	unsigned k = 0;

	for (unsigned i = 0; i < w->g->nsess; i++)
		k += w->g->sess[i]->s.peer == peer &&
		     jv_sess_terminated(&w->g->sess[i]->s) == ended;
	return k;
}

/* Client i restarts and its handshake is refused for a full table. */
static void restart_refused(struct world *w, unsigned i)
{
	struct jv_gateway_counters hc;
	uint64_t full;

	jv_gateway_counters(w->g, &hc);
	full = hc.hs_dropped_table_full;
	client_restart(w, i);
	jv_gateway_counters(w->g, &hc);
	assert_int_equal(hc.hs_dropped_table_full, full + 1);
}

/* MaxSessions = 2, full.  Peer 0's session ends (a Z1 tombstone for 10 s):
 * peer 2 still finds no place (the tombstone is not its own), but peer
 * 0's client, restarted, gets one at once, its own tombstone giving way.
 * Peer 1's tombstone gives way only once its end is stored. */
static void own_tombstone_gives_way(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_time ended;

	jv_policy_default(&pol);
	world_new3(&W, 3, &pol, false, 2);
	for (unsigned i = 0; i < 3; i++)
		send_data(&W, i);
	assert_int_equal(W.g->nsess, 2);
	assert_int_equal(jv_client_state(W.c[0]), JV_STATE_ATTACHED);
	assert_int_equal(jv_client_state(W.c[1]), JV_STATE_ATTACHED);
	assert_int_not_equal(jv_client_state(W.c[2]), JV_STATE_ATTACHED);

	jv_out_reset(&W.out);
	assert_int_equal(jv_gateway_terminate(W.g, 0, W.now, &W.out), 0);
	post(&W, &W.out, -1);
	store(&W);
	deliver(&W);
	assert_int_equal(sessions_of(&W, 0, true), 1);

	W.now += 500;	/* a newer Noise timestamp than its first try */
	restart_refused(&W, 2);
	assert_int_equal(sessions_of(&W, 2, false), 0);
	assert_int_equal(sessions_of(&W, 0, true), 1);

	W.now += 1000;
	client_restart(&W, 0);
	send_data(&W, 0);
	assert_int_equal(jv_client_state(W.c[0]), JV_STATE_ATTACHED);
	assert_int_equal(sessions_of(&W, 0, true), 0);
	assert_int_equal(sessions_of(&W, 0, false), 1);
	check_deadline(&W);

	/* peer 1 ends, its record not handed to the store yet (nothing
	 * posted, nothing stored) */
	jv_out_reset(&W.out);
	assert_int_equal(jv_gateway_terminate(W.g, 1, W.now, &W.out), 0);
	ended = W.now;
	assert_false(jv_gw_record_settled(W.g, W.g->sess[0]->s.peer == 1 ?
					  W.g->sess[0] : W.g->sess[1]));
	restart_refused(&W, 1);		/* its record is stored after this */
	assert_int_equal(sessions_of(&W, 1, true), 1);
	/* stored now: the client's next initiation gets the place, well
	 * within the tombstone's 10 s */
	while (jv_client_state(W.c[1]) != JV_STATE_ATTACHED &&
	       W.now < ended + 9000) {
		advance(&W, W.now + 100);
		send_data(&W, 1);
	}
	assert_int_equal(jv_client_state(W.c[1]), JV_STATE_ATTACHED);
	assert_int_equal(sessions_of(&W, 1, true), 0);
	check_deadline(&W);

	/* a live session, its records stored, is no tombstone: peer 0's
	 * client again, the table full of live sessions, is refused */
	W.now += 500;
	restart_refused(&W, 0);
	assert_int_equal(sessions_of(&W, 0, false), 1);
	assert_int_equal(W.g->peers[0].live->fsm.state, JV_STATE_ATTACHED);
	world_free(&W);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadline_is_the_earliest),
		cmocka_unit_test(new_epoch_recorded_at_once),
		cmocka_unit_test(standby_probe_keeps_the_deadline),
		cmocka_unit_test(own_tombstone_gives_way),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
