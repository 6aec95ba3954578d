/* SPDX-License-Identifier: MIT */
/*
 * PD-9 in memory: the session outlives its gateway.  A client with two
 * transports, up to two gateway nodes (each transport reaches one of
 * them), and an ownership store modelled as a table of encoded records
 * with revisions and CAS, all driven by a fake clock.  The nodes write
 * their records through jv_gateway_next_record and resume sessions
 * through lookups, prepare_adopt, a CAS and adopt, exactly as the daemon
 * does over SQLite or etcd.  Attacks: replay of everything captured before
 * the loss, a forged conflict in the store, a lost lease, an unreachable
 * store.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jvpn/eventlog.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/record.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

enum {
	NPATHS = 2, NGW = 2, QMAX = 1024, EVMAX = 2048, CAPMAX = 4096,
	STOREMAX = 8, DELAY_MS = 10, T0 = 1000000,
};

struct pkt {
	jv_time at;
	bool to_gw;
	int path;
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct rec {
	enum jv_event_type type;
	enum jv_reason reason;
	enum jv_state next;
	uint64_t version;
	uint64_t owner_epoch;
	jv_time ts;
};

struct side {
	struct rec ev[EVMAX];
	unsigned nev;
	unsigned bad;
};

struct stored {
	bool used;
	uint32_t index;
	uint64_t revision;
	char owner[JV_NODE_ID_MAX];
	uint8_t bytes[JV_RECORD_SIZE];
};

struct node {
	struct jv_gateway *g;
	struct jv_seeded_rng rng;
	char id[JV_NODE_ID_MAX];
	struct side ev;
	bool alive;
	bool store_down;	/* its writes and lookups fail */
	bool hold_writes;	/* completions wait for flush_writes() */
	uint32_t held_index[16];
	uint64_t held_version[16];
	unsigned nheld;
	unsigned adopted, writes;
};

struct lab {
	struct jv_seeded_rng crng;
	struct jv_policy pol;
	struct jv_client *c;
	struct node gw[NGW];
	int gw_of_path[NPATHS];
	struct jv_addr caddr[NPATHS];
	bool cut[NPATHS];
	struct pkt q[QMAX];
	unsigned nq;
	jv_time now;
	struct side cs;
	struct jv_out out;
	uint8_t cpriv[32], gpriv[32], cpub[32];
	/* the store */
	struct stored store[STOREMAX];
	/* captures */
	struct pkt up[CAPMAX], down[CAPMAX];
	unsigned nup, ndown;
	unsigned initiations;
	unsigned inner_to_gw, inner_to_client;
};

static struct lab L;

/* ---- events ------------------------------------------------------------ */

static void record_ev(void *ud, const struct jv_event_origin *o,
		      const struct jv_event *ev)
{
	struct side *sd = ud;
	char line[JV_EVENT_LINE_MAX];
	char zero[65];
	size_t len;

	memset(zero, '0', 64);
	zero[64] = 0;
	if (jv_event_format(o, ev, 0, zero, line, sizeof line, &len) != JV_OK)
		sd->bad++;
	if (getenv("JV_TEST_TRACE"))
		fprintf(stderr, "%s %llu %s\n", o->node_id,
			(unsigned long long)(ev->ts_ms - T0), line);
	if (sd->nev < EVMAX) {
		struct rec *r = &sd->ev[sd->nev++];
		r->type = ev->type;
		r->reason = JV_EV_HAS(ev, reason_code) ? ev->reason_code
						       : JV_REASON_NONE;
		r->next = JV_EV_HAS(ev, new_state) ? ev->new_state
						   : JV_STATE_COUNT;
		r->version = ev->state_version;
		r->owner_epoch = JV_EV_HAS(ev, owner_epoch) ? ev->owner_epoch : 0;
		r->ts = ev->ts_ms;
	}
}

static unsigned count(const struct side *s, enum jv_event_type t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nev; i++)
		n += s->ev[i].type == t;
	return n;
}

static const struct rec *last_of(const struct side *s, enum jv_event_type t)
{
	for (unsigned i = s->nev; i-- > 0;)
		if (s->ev[i].type == t)
			return &s->ev[i];
	return NULL;
}

/* ---- the store --------------------------------------------------------- */

static struct stored *store_find(uint32_t index)
{
	for (unsigned i = 0; i < STOREMAX; i++)
		if (L.store[i].used && L.store[i].index == index)
			return &L.store[i];
	return NULL;
}

static bool owner_alive(const char *owner)
{
	for (int i = 0; i < NGW; i++)
		if (L.gw[i].alive && !strcmp(L.gw[i].id, owner))
			return true;
	return false;
}

/* CAS put: the revision must match (0: absent) and no other live node may
 * own the record.  Returns the outcome for jv_gateway_record_done. */
static enum jv_record_outcome store_put(struct node *n,
					const struct jv_gw_record *r,
					uint64_t expected)
{
	struct stored *st = store_find(r->local_index);

	if (n->store_down)
		return JV_RECORD_FAILED;
	if ((st ? st->revision : 0) != expected ||
	    (st && strcmp(st->owner, n->id) && owner_alive(st->owner)))
		return JV_RECORD_CONFLICT;
	if (!st) {
		for (unsigned i = 0; i < STOREMAX && !st; i++)
			if (!L.store[i].used)
				st = &L.store[i];
		assert_non_null(st);
		st->used = true;
		st->index = r->local_index;
	}
	st->revision++;
	snprintf(st->owner, sizeof st->owner, "%s", n->id);
	assert_int_equal(jv_gw_record_encode(r, st->bytes, sizeof st->bytes),
			 JV_RECORD_SIZE);
	n->writes++;
	return JV_RECORD_WRITTEN;
}

static void enqueue(const struct jv_out *o, bool from_client, int gwslot);

/* What the daemon does after every engine call of a node. */
static void drive_store(struct node *n)
{
	struct jv_gw_record r;
	uint32_t index;

	while (jv_gateway_next_record(n->g, &r) == 1) {
		struct stored *st = store_find(r.local_index);
		uint64_t expected = st ? st->revision : 0;
		enum jv_record_outcome oc;

		/* A node writes over its own revision: it read it when it
		 * adopted or created the session (the daemon keeps it). */
		if (st && strcmp(st->owner, n->id) != 0)
			expected = UINT64_MAX;	/* someone else's write */
		oc = store_put(n, &r, expected);
		if (n->hold_writes && oc == JV_RECORD_WRITTEN && n->nheld < 16) {
			n->held_index[n->nheld] = r.local_index;
			n->held_version[n->nheld++] = r.state_version;
			continue;
		}
		jv_out_reset(&L.out);
		(void)jv_gateway_record_done(n->g, r.local_index, r.state_version,
					     oc, L.now, &L.out);
		enqueue(&L.out, false, (int)(n - L.gw));
	}
	while (jv_gateway_next_lookup(n->g, &index) == 1) {
		struct stored *st = store_find(index);
		struct jv_gw_record old, next;
		char prev[JV_NODE_ID_MAX];

		if (!st || n->store_down)
			continue;
		if (strcmp(st->owner, n->id) && owner_alive(st->owner))
			continue;	/* owned by a live node */
		assert_int_equal(jv_gw_record_decode(st->bytes, sizeof st->bytes,
						     &old, NULL), 0);
		if (jv_gateway_prepare_adopt(n->g, &old, L.now, &next) != JV_OK)
			continue;
		snprintf(prev, sizeof prev, "%s", old.owner_node);
		if (store_put(n, &next, st->revision) != JV_RECORD_WRITTEN)
			continue;
		assert_int_equal(jv_gateway_adopt(n->g, &next, prev, L.now), 0);
		n->adopted++;
	}
}

static void flush_writes(struct node *n)
{
	for (unsigned i = 0; i < n->nheld; i++) {
		jv_out_reset(&L.out);
		(void)jv_gateway_record_done(n->g, n->held_index[i],
					     n->held_version[i], JV_RECORD_WRITTEN,
					     L.now, &L.out);
		enqueue(&L.out, false, (int)(n - L.gw));
	}
	n->nheld = 0;
}

/* ---- the network ------------------------------------------------------- */

static void capture(struct pkt *arr, unsigned *n, const struct pkt *k)
{
	if (*n < CAPMAX)
		arr[(*n)++] = *k;
}

static void enqueue(const struct jv_out *o, bool from_client, int gwslot)
{
	for (unsigned i = 0; i < o->ndgram; i++) {
		const struct jv_dgram *d = &o->dgram[i];
		int path = -1;

		if (from_client) {
			path = d->path;
			if (d->buf[0] == JV_MSG_INITIATION)
				L.initiations++;
		} else {
			for (int p = 0; p < NPATHS; p++)
				if (jv_addr_equal(&d->to, &L.caddr[p]) &&
				    L.gw_of_path[p] == gwslot)
					path = p;
		}
		if (path < 0 || path >= NPATHS || L.cut[path] || L.nq >= QMAX)
			continue;
		struct pkt *k = &L.q[L.nq++];
		k->at = L.now + DELAY_MS;
		k->to_gw = from_client;
		k->path = path;
		k->len = d->len;
		memcpy(k->buf, d->buf, d->len);
		capture(from_client ? L.up : L.down,
			from_client ? &L.nup : &L.ndown, k);
	}
	if (from_client)
		L.inner_to_client += 0;
	else
		L.inner_to_gw += o->ninner;
}

static void deliver(struct pkt *k)
{
	jv_out_reset(&L.out);
	if (k->to_gw) {
		int slot = L.gw_of_path[k->path];
		struct node *n = &L.gw[slot];

		if (!n->alive)
			return;
		(void)jv_gateway_recv(n->g, (uint32_t)k->path,
				      &L.caddr[k->path], k->buf, k->len, L.now,
				      &L.out);
		enqueue(&L.out, false, slot);
		drive_store(n);
	} else {
		(void)jv_client_recv(L.c, k->path, k->buf, k->len, L.now,
				     &L.out);
		L.inner_to_client += L.out.ninner;
		enqueue(&L.out, true, -1);
	}
}

static uint8_t ping[60] = { 0x45, 0, 0, 60 };

/* Advance to `until`; with `pps`, the client and gateway each send that
 * many inner packets per second. */
static void run(jv_time until, unsigned pps)
{
	jv_time next_data = L.now;

	for (;;) {
		jv_time next = until + 1;
		int kq = -1;

		for (unsigned i = 0; i < L.nq; i++)
			if (L.q[i].at < next) {
				next = L.q[i].at;
				kq = (int)i;
			}
		jv_time dc = jv_client_deadline(L.c);
		if (dc < next) {
			next = dc;
			kq = -2;
		}
		for (int i = 0; i < NGW; i++)
			if (L.gw[i].alive && jv_gateway_deadline(L.gw[i].g) < next) {
				next = jv_gateway_deadline(L.gw[i].g);
				kq = -3 - i;
			}
		if (pps && next_data < next) {
			next = next_data;
			kq = -10;
		}
		if (next > until)
			break;
		if (next > L.now)
			L.now = next;
		jv_out_reset(&L.out);
		if (kq >= 0) {
			struct pkt k = L.q[kq];
			L.q[kq] = L.q[--L.nq];
			if (!L.cut[k.path])
				deliver(&k);
		} else if (kq == -2) {
			assert_int_equal(jv_client_tick(L.c, L.now, &L.out), 0);
			enqueue(&L.out, true, -1);
		} else if (kq == -10) {
			next_data = L.now + 1000 / pps;
			(void)jv_client_send(L.c, ping, sizeof ping, L.now, &L.out);
			enqueue(&L.out, true, -1);
			for (int i = 0; i < NGW; i++) {
				if (!L.gw[i].alive)
					continue;
				jv_out_reset(&L.out);
				(void)jv_gateway_send(L.gw[i].g, 0, ping, sizeof ping,
						      L.now, &L.out);
				enqueue(&L.out, false, i);
			}
		} else {
			struct node *n = &L.gw[-3 - kq];
			int rc;
			do {
				jv_out_reset(&L.out);
				rc = jv_gateway_tick(n->g, L.now, &L.out);
				enqueue(&L.out, false, -3 - kq);
			} while (rc == 1);
			drive_store(n);
		}
	}
	L.now = until;
}

static void node_start(int slot, const char *id, uint64_t seed)
{
	struct node *n = &L.gw[slot];
	struct jv_gateway_config gc;

	memset(&n->ev, 0, sizeof n->ev);
	snprintf(n->id, sizeof n->id, "%s", id);
	jv_seeded_rng_init(&n->rng, seed);
	memset(&gc, 0, sizeof gc);
	gc.policy = &L.pol;
	gc.node_id = n->id;
	gc.rng = jv_seeded_rng(&n->rng);
	gc.on_event = record_ev;
	gc.ud = &n->ev;
	gc.durable = true;
	memcpy(gc.private_key, L.gpriv, 32);
	n->g = jv_gateway_new(&gc);
	assert_non_null(n->g);
	assert_int_equal(jv_gateway_add_peer(n->g, L.cpub), 0);
	n->alive = true;
	n->adopted = n->writes = n->nheld = 0;
}

/* kill -9: the process is gone, its memory with it; the store stays. */
static void node_kill(int slot)
{
	jv_gateway_free(L.gw[slot].g);
	L.gw[slot].g = NULL;
	L.gw[slot].alive = false;
}

static void lab_new(int gw_of_p1)
{
	struct jv_noise_keypair ck;

	memset(&L, 0, sizeof L);
	assert_int_equal(jv_policy_profile(&L.pol, "fast", NULL), 0);
	jv_seeded_rng_init(&L.crng, 11);
	memset(L.cpriv, 0x11, 32);
	memset(L.gpriv, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&ck, L.cpriv), 0);
	memcpy(L.cpub, ck.pub, 32);
	L.gw_of_path[0] = 0;
	L.gw_of_path[1] = gw_of_p1;
	node_start(0, "gw1", 22);
	if (gw_of_p1 == 1)
		node_start(1, "gw2", 33);

	struct jv_noise_keypair gkp;
	assert_int_equal(jv_noise_keypair_from_private(&gkp, L.gpriv), 0);
	struct jv_client_config cc = {
		.policy = &L.pol, .node_id = "cl1",
		.rng = jv_seeded_rng(&L.crng), .on_event = record_ev,
		.ud = &L.cs,
	};
	memcpy(cc.private_key, L.cpriv, 32);
	memcpy(cc.gateway_public, gkp.pub, 32);
	L.c = jv_client_new(&cc);
	assert_non_null(L.c);
	assert_int_equal(jv_client_add_transport(L.c, "p1", JV_PROTO_UDP, 0), 0);
	assert_int_equal(jv_client_add_transport(L.c, "p2", JV_PROTO_UDP, 10), 1);
	jv_addr_from_ipv4(&L.caddr[0], 0x0a000102, 40001);
	jv_addr_from_ipv4(&L.caddr[1], 0x0a000202, 40002);
	L.now = T0;
	jv_out_reset(&L.out);
	assert_int_equal(jv_client_start(L.c, L.now, &L.out), 0);
	enqueue(&L.out, true, -1);
}

static void lab_free(void)
{
	jv_client_free(L.c);
	for (int i = 0; i < NGW; i++)
		if (L.gw[i].g)
			jv_gateway_free(L.gw[i].g);
}

static void client_versions_continuous(void)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < L.cs.nev; i++)
		if (L.cs.ev[i].type == JV_EV_SESSION_STATE_CHANGE)
			assert_int_equal(L.cs.ev[i].version, ++v);
}

/* ---- tests ------------------------------------------------------------- */

/* CL-5: kill -9 of the only gateway, restart 1 s later with the same node
 * id: same session, no handshake, traffic again both ways. */
static void restart_same_session_no_handshake(void **st)
{
	struct jv_session_status s0, s1;
	unsigned to_client, to_gw;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	jv_client_status(L.c, &s0);
	assert_int_equal(s0.state, JV_STATE_ATTACHED);
	assert_true(L.gw[0].writes >= 1);	/* T01 reached the store */
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_OWNER_ACQUIRED), 1);

	node_kill(0);
	run(T0 + 3000, 20);
	node_start(0, "gw1", 44);
	to_client = L.inner_to_client;
	to_gw = L.inner_to_gw;
	run(T0 + 8000, 20);

	jv_client_status(L.c, &s1);
	assert_string_equal(s1.session_id, s0.session_id);
	assert_int_equal(L.initiations, 1);
	assert_int_equal(s1.state, JV_STATE_ATTACHED);
	assert_int_equal(L.gw[0].adopted, 1);
	const struct rec *acq = last_of(&L.gw[0].ev, JV_EV_SESSION_OWNER_ACQUIRED);
	assert_non_null(acq);
	assert_int_equal(acq->owner_epoch, 2);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_CREATED), 0);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_OWNER_TRANSFERRED), 0);
	const struct rec *rot = last_of(&L.cs, JV_EV_KEY_ROTATED);
	assert_non_null(rot);
	assert_int_equal(rot->reason, JV_REASON_OWNER_TAKEOVER);
	/* Traffic flows again both ways (4 s at 20/s each). */
	assert_true(L.inner_to_client - to_client > 60);
	assert_true(L.inner_to_gw - to_gw > 60);
	assert_int_equal(count(&L.cs, JV_EV_SESSION_TERMINATED), 0);
	client_versions_continuous();
	assert_int_equal(L.cs.bad, 0);
	assert_int_equal(L.gw[0].ev.bad, 0);
	lab_free();
}

/* No (key epoch, counter) pair of the gateway's is seen twice on the wire
 * across the restart: the new owner's epoch number differs. */
static void restart_reuses_no_epoch_counter_pair(void **st)
{
	(void)st;
	lab_new(0);
	run(T0 + 2000, 50);
	node_kill(0);
	run(T0 + 3000, 50);
	node_start(0, "gw1", 44);
	run(T0 + 6000, 50);
	for (unsigned i = 0; i < L.ndown; i++) {
		struct jv_wire_hdr a, b;
		if (jv_wire_hdr_decode(L.down[i].buf, L.down[i].len, &a, NULL))
			continue;
		for (unsigned j = i + 1; j < L.ndown; j++) {
			if (jv_wire_hdr_decode(L.down[j].buf, L.down[j].len, &b,
					       NULL))
				continue;
			assert_false(a.key_epoch == b.key_epoch &&
				     a.counter == b.counter);
		}
	}
	lab_free();
}

/* Everything the client sent before the kill, replayed into the restarted
 * gateway, moves nothing and delivers nothing. */
static void replay_of_pre_restart_capture_moves_nothing(void **st)
{
	struct pkt before[CAPMAX];
	unsigned nbefore, inner;
	uint64_t v;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	/* a reattach before the kill, so the capture holds a request */
	L.cut[0] = true;
	run(T0 + 4000, 20);
	L.cut[0] = false;
	run(T0 + 6000, 20);
	nbefore = L.nup;
	memcpy(before, L.up, nbefore * sizeof before[0]);
	node_kill(0);
	node_start(0, "gw1", 44);
	run(T0 + 9000, 20);
	assert_int_equal(jv_client_state(L.c), JV_STATE_ATTACHED);

	struct jv_session_status gst;
	assert_int_equal(jv_gateway_status(L.gw[0].g, 0, &gst), 0);
	v = gst.state_version;
	inner = L.inner_to_gw;
	unsigned changes = count(&L.gw[0].ev, JV_EV_SESSION_STATE_CHANGE);
	unsigned switches = count(&L.gw[0].ev, JV_EV_TRANSPORT_SWITCH);
	unsigned replays = count(&L.gw[0].ev, JV_EV_SECURITY_REPLAY_DETECTED);
	for (unsigned i = 0; i < nbefore; i++) {
		jv_out_reset(&L.out);
		(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[before[i].path],
				      before[i].buf, before[i].len, L.now,
				      &L.out);
		L.inner_to_gw += L.out.ninner;
		drive_store(&L.gw[0]);
	}
	assert_int_equal(L.inner_to_gw, inner);
	assert_int_equal(jv_gateway_status(L.gw[0].g, 0, &gst), 0);
	assert_int_equal(gst.state_version, v);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_STATE_CHANGE), changes);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_TRANSPORT_SWITCH), switches);
	/* recognised as replays (the old epoch is kept to tell them) */
	assert_true(count(&L.gw[0].ev, JV_EV_SECURITY_REPLAY_DETECTED) > replays);
	lab_free();
}

/* The same replay right after the restart, before the client speaks: a
 * captured REATTACH_REQUEST is a replay (nonce at or below the stored
 * high-water mark), captured data and heartbeats deliver nothing. */
static void replay_into_fresh_owner_is_replay(void **st)
{
	struct pkt before[CAPMAX];
	unsigned nbefore;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	L.cut[0] = true;
	run(T0 + 4000, 20);
	L.cut[0] = false;
	run(T0 + 6000, 20);
	nbefore = L.nup;
	memcpy(before, L.up, nbefore * sizeof before[0]);
	node_kill(0);
	L.cut[0] = L.cut[1] = true;	/* the client is silent */
	node_start(0, "gw1", 44);
	/* the first replayed packet makes the node look the session up */
	for (unsigned i = 0; i < nbefore; i++) {
		jv_out_reset(&L.out);
		(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[before[i].path],
				      before[i].buf, before[i].len, L.now,
				      &L.out);
		L.inner_to_gw += L.out.ninner;
		assert_int_equal(L.out.ninner, 0);
		drive_store(&L.gw[0]);
	}
	assert_int_equal(L.gw[0].adopted, 1);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_STATE_CHANGE), 0);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_TRANSPORT_SWITCH), 0);
	assert_true(count(&L.gw[0].ev, JV_EV_SECURITY_REPLAY_DETECTED) >= 1);
	lab_free();
}

/* CL-3/CL-6: the owner dies; the client's other transport reaches a
 * second node, which takes over: same session, Transferred, epoch 2. */
static void takeover_by_second_node(void **st)
{
	struct jv_session_status s0, s1;

	(void)st;
	lab_new(1);
	run(T0 + 2000, 20);
	jv_client_status(L.c, &s0);
	assert_string_equal(s0.bound, "p1");
	node_kill(0);
	run(T0 + 8000, 20);
	jv_client_status(L.c, &s1);
	assert_string_equal(s1.session_id, s0.session_id);
	assert_int_equal(s1.state, JV_STATE_ATTACHED);
	assert_string_equal(s1.bound, "p2");
	assert_int_equal(L.initiations, 1);
	const struct rec *t = last_of(&L.gw[1].ev, JV_EV_SESSION_OWNER_TRANSFERRED);
	assert_non_null(t);
	assert_int_equal(t->owner_epoch, 2);
	assert_int_equal(L.gw[1].ev.bad, 0);
	lab_free();
}

/* While the first owner lives, the second node cannot take the session
 * (its CAS fails: the owner is live), so it never answers for it. */
static void live_owner_is_not_taken_over(void **st)
{
	(void)st;
	lab_new(1);
	run(T0 + 2000, 20);
	L.cut[0] = true;	/* p1 dies: the client moves to p2 = gw2 */
	run(T0 + 6000, 20);
	assert_int_equal(L.gw[1].adopted, 0);
	assert_int_equal(count(&L.gw[1].ev, JV_EV_SESSION_OWNER_TRANSFERRED), 0);
	lab_free();
}

/* The ACK of a commit waits until its record is durable. */
static void ack_waits_for_durable_record(void **st)
{
	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	L.gw[0].hold_writes = true;
	L.cut[0] = true;		/* the client moves to p2 */
	run(T0 + 3000, 0);
	assert_int_equal(jv_client_state(L.c), JV_STATE_RECOVERING);
	assert_true(L.gw[0].nheld > 0);
	L.gw[0].hold_writes = false;
	flush_writes(&L.gw[0]);
	run(T0 + 3500, 0);
	assert_int_equal(jv_client_state(L.c), JV_STATE_ATTACHED);
	lab_free();
}

/* CL-2: the store unreachable: reattach denied not_authoritative_owner,
 * SessionOwnerRejected; no binding change without a write. */
static void store_unreachable_denies_reattach(void **st)
{
	struct jv_session_status gst;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	L.gw[0].store_down = true;
	/* what the daemon says when a renewal times out */
	jv_gateway_store_reachable(L.gw[0].g, false);
	L.cut[0] = true;
	run(T0 + 2400, 20);
	run(T0 + 6000, 20);
	assert_true(count(&L.gw[0].ev, JV_EV_SESSION_OWNER_REJECTED) >= 1);
	assert_int_equal(jv_gateway_status(L.gw[0].g, 0, &gst), 0);
	assert_string_not_equal(gst.bound, "udp:10.0.2.2:40002");
	assert_int_not_equal(jv_client_state(L.c), JV_STATE_ATTACHED);
	lab_free();
}

/* §9: past its lease a node forwards nothing and releases the session. */
static void lease_end_releases_and_stops_forwarding(void **st)
{
	unsigned inner;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	jv_gateway_set_lease(L.gw[0].g, T0 + 2500);
	run(T0 + 2600, 20);		/* what was in flight has landed */
	inner = L.inner_to_client;
	run(T0 + 4000, 20);
	assert_int_equal(L.inner_to_client, inner);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_OWNER_REJECTED), 1);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_TERMINATED), 0);
	struct jv_session_status gst;
	assert_int_equal(jv_gateway_status(L.gw[0].g, 0, &gst), JV_ERR_NOTFOUND);
	lab_free();
}

/* CL-4: the store reports a conflicting write: the session ends with
 * ownership_conflict rather than continue dual-active. */
static void conflict_ends_session(void **st)
{
	struct stored *s;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	s = NULL;
	for (unsigned i = 0; i < STOREMAX; i++)
		if (L.store[i].used)
			s = &L.store[i];
	assert_non_null(s);
	snprintf(s->owner, sizeof s->owner, "intruder");
	s->revision += 5;
	L.cut[0] = true;	/* the next commit's write conflicts */
	run(T0 + 5000, 20);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_OWNER_CONFLICT), 1);
	const struct rec *t = last_of(&L.gw[0].ev, JV_EV_SESSION_TERMINATED);
	assert_non_null(t);
	assert_int_equal(t->reason, JV_REASON_OWNERSHIP_CONFLICT);
	lab_free();
}

/* The wall clock stepped back between the crash and the restart: the
 * record's times lie in the restarted node's future.  The session resumes,
 * and no age in its events wraps around. */
static void restart_after_clock_step_back(void **st)
{
	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	node_kill(0);
	for (unsigned i = 0; i < STOREMAX; i++) {
		struct jv_gw_record r;
		if (!L.store[i].used)
			continue;
		assert_int_equal(jv_gw_record_decode(L.store[i].bytes,
						     JV_RECORD_SIZE, &r, NULL), 0);
		r.created_ms += 3600000;	/* an hour ahead of us */
		r.keys_birth_ms += 3600000;
		assert_int_equal(jv_gw_record_encode(&r, L.store[i].bytes,
						     JV_RECORD_SIZE),
				 JV_RECORD_SIZE);
	}
	node_start(0, "gw1", 44);
	run(T0 + 6000, 20);
	assert_int_equal(L.gw[0].adopted, 1);
	assert_int_equal(jv_client_state(L.c), JV_STATE_ATTACHED);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_TERMINATED), 0);
	/* its end carries session_age_ms: a wrapped age would not format */
	jv_out_reset(&L.out);
	(void)jv_client_terminate(L.c, L.now, &L.out);
	enqueue(&L.out, true, -1);
	run(T0 + 7000, 0);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_TERMINATED), 1);
	assert_int_equal(L.gw[0].ev.bad, 0);
	lab_free();
}

static enum jv_state stored_state(void)
{
	for (unsigned i = 0; i < STOREMAX; i++) {
		struct jv_gw_record r;
		if (L.store[i].used &&
		    jv_gw_record_decode(L.store[i].bytes, JV_RECORD_SIZE, &r,
					NULL) == 0)
			return r.state;
	}
	return JV_STATE_COUNT;
}

/* A session that ends while the store is down: its end is written once
 * the store answers again (no input arrives for a terminated session), and
 * its tombstone stays until then, so no later adoption resurrects it. */
static void end_reaches_the_store_after_an_outage(void **st)
{
	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	L.gw[0].store_down = true;
	jv_out_reset(&L.out);
	(void)jv_client_terminate(L.c, L.now, &L.out);
	enqueue(&L.out, true, -1);
	run(T0 + 2500, 0);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_TERMINATED), 1);
	assert_int_equal(stored_state(), JV_STATE_ATTACHED);	/* not yet */
	run(T0 + 20000, 0);		/* past the tombstone: kept, unwritten */
	assert_int_equal(jv_gateway_unwritten(L.gw[0].g), 1);
	L.gw[0].store_down = false;
	run(T0 + 21000, 0);
	assert_int_equal(stored_state(), JV_STATE_TERMINATED);
	assert_int_equal(jv_gateway_unwritten(L.gw[0].g), 0);

	/* a restarted node never takes an ended session back: not even
	 * within its transportless TTL, and whatever copy of the client's
	 * packets reaches it */
	for (unsigned i = 0; i < STOREMAX; i++) {
		struct jv_gw_record r, next;
		if (!L.store[i].used)
			continue;
		assert_int_equal(jv_gw_record_decode(L.store[i].bytes,
						     JV_RECORD_SIZE, &r, NULL), 0);
		assert_int_equal(jv_gateway_prepare_adopt(L.gw[0].g, &r,
							  r.unbound_since_ms + 1,
							  &next),
				 JV_ERR_STATE);
	}
	node_kill(0);
	node_start(0, "gw1", 44);
	for (unsigned i = 0; i < L.nup; i++) {
		jv_out_reset(&L.out);
		(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[0], L.up[i].buf,
				      L.up[i].len, L.now, &L.out);
		drive_store(&L.gw[0]);
	}
	assert_int_equal(L.gw[0].adopted, 0);
	lab_free();
}

/* The client follows a restarted gateway before it noticed any outage (no
 * commit follows): from then on the old epoch admits nothing, and a copy of
 * a heartbeat sent before the kill gets no answer, only a replay report. */
static void old_epoch_closed_once_the_client_follows(void **st)
{
	struct pkt old;
	unsigned replays;
	uint64_t v;

	(void)st;
	lab_new(0);
	run(T0 + 2000, 20);
	old = L.up[L.nup / 2];	/* one the new node never saw */
	node_kill(0);
	node_start(0, "gw1", 44);
	run(T0 + 2150, 20);
	assert_non_null(last_of(&L.cs, JV_EV_KEY_ROTATED));
	assert_int_equal(last_of(&L.cs, JV_EV_KEY_ROTATED)->reason,
			 JV_REASON_OWNER_TAKEOVER);
	struct jv_session_status gst;
	assert_int_equal(jv_gateway_status(L.gw[0].g, 0, &gst), 0);
	v = gst.state_version;
	replays = count(&L.gw[0].ev, JV_EV_SECURITY_REPLAY_DETECTED);
	jv_out_reset(&L.out);
	(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[old.path], old.buf,
			      old.len, L.now, &L.out);
	assert_int_equal(L.out.ndgram, 0);
	assert_true(count(&L.gw[0].ev, JV_EV_SECURITY_REPLAY_DETECTED) > replays);
	assert_int_equal(jv_gateway_status(L.gw[0].g, 0, &gst), 0);
	assert_int_equal(gst.state_version, v);		/* no commit made */
	lab_free();
}

/* §9: a node without its lease creates no session at all. */
static void no_handshake_without_the_lease(void **st)
{
	(void)st;
	lab_new(0);
	jv_gateway_set_lease(L.gw[0].g, 0);
	run(T0 + 3000, 0);
	assert_int_equal(count(&L.gw[0].ev, JV_EV_SESSION_CREATED), 0);
	assert_int_not_equal(jv_client_state(L.c), JV_STATE_ATTACHED);
	lab_free();
}

/* CP-2 against the store: a flood of packets for random indexes asks the
 * store for at most the lookup bucket's burst, not one read each (the
 * burst is the session table, 1024 here, D-035). */
static void lookup_flood_is_bounded(void **st)
{
	uint8_t pkt[JV_WIRE_DATA_MIN + 16];
	unsigned lookups = 0;
	uint32_t index;

	(void)st;
	lab_new(0);
	memset(pkt, 0, sizeof pkt);
	for (unsigned i = 0; i < 3000; i++) {
		struct jv_wire_hdr h = { .type = JV_MSG_DATA, .counter = i,
					 .receiver_index = 0x9e3779b9u * (i + 1) };
		jv_wire_hdr_encode(&h, pkt);
		jv_out_reset(&L.out);
		(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[0], pkt, sizeof pkt,
				      L.now, &L.out);
		while (jv_gateway_next_lookup(L.gw[0].g, &index) == 1)
			lookups++;
	}
	assert_true(lookups > 0);
	assert_true(lookups <= 1024);	/* the burst, all at one ms */
	lab_free();
}

/* D-035: the lookup queue holds GW_LOOKUPS_MAX (512) indexes whatever
 * the bucket allows, and an index its client keeps sending (heartbeat,
 * probes, request copies) is read once per GW_LOOKUP_REPEAT_MS (500), so
 * one client cannot spend the bucket of the others. */
static void lookup_queue_and_repeats_bounded(void **st)
{
	uint8_t pkt[JV_WIRE_DATA_MIN + 16];
	unsigned lookups = 0;
	uint32_t index;

	(void)st;
	lab_new(0);
	memset(pkt, 0, sizeof pkt);
	for (unsigned i = 0; i < 3000; i++) {
		struct jv_wire_hdr h = { .type = JV_MSG_DATA, .counter = i,
					 .receiver_index = 0x9e3779b9u * (i + 1) };
		jv_wire_hdr_encode(&h, pkt);
		jv_out_reset(&L.out);
		(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[0], pkt, sizeof pkt,
				      L.now, &L.out);
	}
	while (jv_gateway_next_lookup(L.gw[0].g, &index) == 1)
		lookups++;
	assert_int_equal(lookups, 512);
	lab_free();

	lab_new(0);
	lookups = 0;
	for (unsigned i = 0; i < 100; i++) {
		struct jv_wire_hdr h = { .type = JV_MSG_DATA, .counter = i,
					 .receiver_index = 0x12345678u };
		jv_wire_hdr_encode(&h, pkt);
		jv_out_reset(&L.out);
		/* one every 10 ms: two reads in 1 s */
		(void)jv_gateway_recv(L.gw[0].g, 0, &L.caddr[0], pkt, sizeof pkt,
				      L.now + 10 * i, &L.out);
		while (jv_gateway_next_lookup(L.gw[0].g, &index) == 1) {
			assert_int_equal(index, 0x12345678u);
			lookups++;
		}
	}
	assert_int_equal(lookups, 2);
	lab_free();
}

static void record_round_trip_and_bad_input(void **st)
{
	struct jv_gw_record r, back;
	uint8_t buf[JV_RECORD_SIZE + 8];
	const char *why = NULL;

	(void)st;
	memset(&r, 0, sizeof r);
	randombytes_buf(&r, sizeof r);
	snprintf(r.owner_node, sizeof r.owner_node, "gw1");
	r.owner_epoch = 3;
	r.state = JV_STATE_DEGRADED;
	r.volatile_reason = JV_REASON_HEARTBEAT_TIMEOUT;
	r.bound = true;
	r.bound_remote.port = 4000;
	r.nswitches = 2;
	memset(r.switches + 2, 0, sizeof r.switches - 2 * sizeof r.switches[0]);
	assert_int_equal(jv_gw_record_encode(&r, buf, sizeof buf), JV_RECORD_SIZE);
	assert_int_equal(jv_gw_record_decode(buf, JV_RECORD_SIZE, &back, &why), 0);
	assert_memory_equal(back.root, r.root, 32);
	assert_memory_equal(back.key_i2r, r.key_i2r, 32);
	assert_int_equal(back.state_version, r.state_version);
	assert_int_equal(jv_gw_record_encode(&r, buf, JV_RECORD_SIZE - 1),
			 JV_ERR_NOSPACE);
	assert_int_equal(jv_gw_record_decode(buf, JV_RECORD_SIZE - 1, &back, &why),
			 JV_ERR_PARSE);
	buf[0] = 9;
	assert_int_equal(jv_gw_record_decode(buf, JV_RECORD_SIZE, &back, &why),
			 JV_ERR_PARSE);
	assert_string_equal(why, "record format unknown");
	buf[0] = JV_RECORD_FORMAT;
	buf[1 + 16 + 32 + 4 + 4 + JV_NODE_ID_MAX + 8] = JV_STATE_COUNT;
	assert_int_equal(jv_gw_record_decode(buf, JV_RECORD_SIZE, &back, &why),
			 JV_ERR_PARSE);
	assert_string_equal(why, "record state out of range");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_round_trip_and_bad_input),
		cmocka_unit_test(restart_same_session_no_handshake),
		cmocka_unit_test(restart_reuses_no_epoch_counter_pair),
		cmocka_unit_test(replay_of_pre_restart_capture_moves_nothing),
		cmocka_unit_test(replay_into_fresh_owner_is_replay),
		cmocka_unit_test(takeover_by_second_node),
		cmocka_unit_test(live_owner_is_not_taken_over),
		cmocka_unit_test(ack_waits_for_durable_record),
		cmocka_unit_test(store_unreachable_denies_reattach),
		cmocka_unit_test(lease_end_releases_and_stops_forwarding),
		cmocka_unit_test(conflict_ends_session),
		cmocka_unit_test(restart_after_clock_step_back),
		cmocka_unit_test(end_reaches_the_store_after_an_outage),
		cmocka_unit_test(no_handshake_without_the_lease),
		cmocka_unit_test(old_epoch_closed_once_the_client_follows),
		cmocka_unit_test(lookup_flood_is_bounded),
		cmocka_unit_test(lookup_queue_and_repeats_bounded),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
