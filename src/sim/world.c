/* SPDX-License-Identifier: MIT */
/*
 * The run loop and the node drivers of the simulator.
 *
 * With a [Store] the gateway side is one or two nodes (gw1, gw2), each a
 * durable engine, and this file is also their daemon's store driver, as
 * tests/unit/takeover_test.c drives them (drive_store there):
 *
 *   records   after every engine call of a node, each record it offers
 *             (jv_gateway_next_record) is written with a CAS against the
 *             revision the node last wrote or read; one write per session
 *             in flight, a newer record waits for it (and replaces an
 *             older waiting one); the completion comes back through the
 *             event queue store.latency_ms later (jv_gateway_record_done).
 *             Every operation reaches the store half way (the store
 *             applies it then, even if its node has died since) and its
 *             answer the node at the end.
 *   lookups   each index the node asks about (jv_gateway_next_lookup) is
 *             read; a record that no live node owns is prepared
 *             (jv_gateway_prepare_adopt), won by a CAS against the
 *             revision read, and installed when that CAS completes
 *             (jv_gateway_adopt).
 *   leases    every renew_ms a live node renews its lease; the answer
 *             tells it the lease's end (jv_gateway_set_lease) and that the
 *             store answers (jv_gateway_store_reachable); a failed
 *             operation of any kind tells it the store does not.
 *   deletes   a record written as TERMINATED is deleted, and so is one
 *             a lookup finds over (prepare_adopt: JV_ERR_STATE).
 *   events    a node's events are held while any of its writes, reads or
 *             deletes is in flight and go out (to the record, the checker
 *             and the log) once none is: the log never shows a transition
 *             the store does not hold, unless its write failed.
 *
 * That is what the daemon does (src/daemon/dmn_store.c).  A crashed
 * node's engine is freed (kill -9): its held events are lost with it, its
 * pending completions, renewals and ticks are dropped by incarnation;
 * what it had written stays in the store.  With leases a (re)started
 * node serves, i.e. its socket takes datagrams, only once the store has
 * granted its first lease.  At the end of the run every node shuts down
 * cleanly: what it holds goes out.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jvpn/eventlog.h"
#include "jvpn/record.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"
#include "sim/addr.h"
#include "sim/queue.h"
#include "sim/rand.h"
#include "sim/store.h"
#include "sim/world.h"

enum ev_kind {
	EV_TICK_CLIENT,
	EV_TICK_GATEWAY,
	EV_DELIVER_UP,		/* arg: slot -> gateway */
	EV_DELIVER_DOWN,	/* arg: slot -> client */
	EV_ACTION,		/* arg: action index */
	EV_REPLAY,		/* arg: action index, arg2: copies left */
	EV_STREAM_UP,		/* arg2: sequence number */
	EV_STREAM_DOWN,
	EV_REQUEST,
	EV_RESPOND,		/* arg: seq, arg2: request send time */
	EV_STORE_DONE,		/* arg: store operation */
	EV_RENEW,		/* arg: node, arg2: its incarnation */
	EV_STORE_APPLY,		/* arg: store operation */
};

enum {
	RING = 16,		/* datagrams the attacker keeps per link */
	MODS = 8,		/* pending "next N" modifications per link */
	SAME_MS_TICKS_MAX = 100000,	/* livelock guard */
	CLIENT_PORT_BASE = 50000,
	EP_CLIENT = 0,		/* endpoints: the client, then each node */
	EPS = 1 + SIM_NODES_MAX,
	LOOKUPS_MAX = 16,	/* lookups in flight per node */
};

struct slot {
	uint16_t len;
	uint8_t path;
	uint32_t next_free;
	struct jv_addr from;
	uint8_t buf[JV_DGRAM_MAX];
};

struct pool {
	struct slot *s;
	uint32_t n, cap, free_head;	/* free list through next_free */
};

#define NO_SLOT UINT32_MAX

struct recorded {
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct modifier {
	enum sim_act_kind kind;		/* CORRUPT, HOLD, DROP */
	struct sim_match match;
	uint32_t left;
	int32_t flip;
	jv_time by;
};

struct dirstate {
	struct sim_link link;
	bool recording;
	struct sim_match rec_match[8];
	unsigned nrec_match;
	unsigned ring_n, ring_head;
	struct recorded *ring;		/* RING entries when recording */
	unsigned nmods;
	struct modifier mods[MODS];
};

/* One session's record writes at one node. */
struct wslot {
	uint32_t index;
	bool inflight;
	bool have_next;
	uint64_t revision;		/* the node's last write or read */
	struct jv_gw_record next;	/* newest record behind the write */
};

struct gwnode {
	struct jv_gateway *g;		/* NULL: not running */
	char id[JV_NODE_ID_MAX];
	unsigned incarnation;		/* +1 per crash */
	struct jv_seeded_rng rng;
	uint32_t peer;
	bool serving;			/* its socket is open */
	jv_time lease_until;		/* as told; JV_TIME_NEVER: no lease */
	jv_time fail_issued;		/* issue of its latest failed op */
	bool had_failure;
	struct wslot *ws;
	size_t nws, capws;
	uint32_t looking[LOOKUPS_MAX];	/* lookups and adoptions in flight */
	unsigned nlooking;
	unsigned inflight;		/* writes, reads, deletes */
	struct heldev *held;
	size_t nheld, capheld;
	bool held_events;		/* some of held are events */
};

enum op_kind { OP_RENEW, OP_WRITE, OP_READ, OP_ADOPT, OP_DELETE };

/* An event, or the end of a commit, held until the store has what it
 * describes.  Strings are interned in the run's record. */
struct heldev {
	bool commit;			/* the end of an engine call */
	jv_time at;			/* commit: when */
	struct jv_event ev;
	struct jv_event_origin origin;
	bool has_policy;
	struct jv_policy pol;		/* ev.policy points here at release */
};

/* A store operation between its issue and its completion. */
struct storeop {
	enum op_kind kind;
	unsigned node, incarnation;
	jv_time issued;
	int outcome;			/* enum jv_record_outcome */
	uint32_t index;
	uint64_t version;		/* WRITE: the record's state_version */
	uint64_t expected;		/* WRITE, ADOPT, DELETE: CAS revision */
	uint64_t revision;		/* read, or written */
	jv_time until;			/* RENEW: the lease's new end */
	bool found;			/* READ: a record no live node owns */
	bool over;			/* WRITE: the record is TERMINATED */
	char prev_owner[JV_NODE_ID_MAX];
	struct jv_gw_record rec;	/* WRITE: to write; READ: as read;
					   ADOPT: to win */
	uint32_t next_free;
};

struct oppool {
	struct storeop *op;
	uint32_t n, cap, free_head;
};

struct path {
	struct dirstate d[2];		/* 0 up, 1 down */
	struct jv_addr addr;		/* apparent client address now */
	struct jv_addr gw;		/* gateway address of this path */
	bool hard_down;
	int client_index;
	unsigned nat_count;
	unsigned node;			/* the gateway node it reaches */
};

struct world {
	const struct sim_scenario *sc;
	/* each side's latest policy: the scenario's, then each `policy`
	 * action the engine accepted (a restarted endpoint starts on it) */
	struct jv_policy pol[SIM_SIDES];
	const struct sim_run_opts *o;
	struct sim_result *res;
	uint64_t seed;
	jv_time now, end;
	struct sim_queue q;
	struct pool pool;
	struct path path[SIM_TRANSPORTS_MAX];
	unsigned npaths;
	struct jv_client *client;
	unsigned nnodes;
	struct gwnode node[SIM_NODES_MAX];
	bool have_store;
	struct sim_store store;
	struct oppool ops;
	bool dual_reported;
	struct jv_seeded_rng client_rng;
	struct sim_rand attacker;
	uint8_t client_sk[32], client_pk[32], gw_sk[32], gw_pk[32];
	unsigned restarts;
	jv_time tick_at[EPS];
	jv_time same_ms_at[EPS];
	unsigned same_ms_ticks[EPS];
	struct jv_out *out;
	uint8_t pkt[JV_MTU_MAX];
	struct jv_eventlog *hashlog, *faillog;
	crypto_generichash_state hash;
	bool failed;
};

/* ---- failures ---------------------------------------------------------- */

static void fail(struct world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct world *w, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	if (w->failed)
		return;
	w->failed = true;
	off = (size_t)snprintf(w->res->error, sizeof w->res->error,
			       "t=%" PRIu64 ": ", w->now);
	if (off >= sizeof w->res->error)
		return;
	va_start(ap, fmt);
	vsnprintf(w->res->error + off, sizeof w->res->error - off, fmt, ap);
	va_end(ap);
}

static void push(struct world *w, jv_time at, enum ev_kind k, uint32_t arg,
		 uint64_t arg2)
{
	if (sim_queue_push(&w->q, at, k, arg, arg2))
		fail(w, "out of memory (event queue)");
}

/* ---- datagram pool ------------------------------------------------------ */

static uint32_t slot_alloc(struct world *w)
{
	struct pool *p = &w->pool;
	uint32_t i;

	if (p->free_head != NO_SLOT) {
		i = p->free_head;
		p->free_head = p->s[i].next_free;
		return i;
	}
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? 2 * p->cap : 64;
		struct slot *s = realloc(p->s, cap * sizeof *s);

		if (!s) {
			fail(w, "out of memory (datagram pool)");
			return NO_SLOT;
		}
		p->s = s;
		p->cap = cap;
	}
	return p->n++;
}

static void slot_free(struct world *w, uint32_t i)
{
	w->pool.s[i].next_free = w->pool.free_head;
	w->pool.free_head = i;
}

/* ---- events from the engines ------------------------------------------- */

static int hash_sink(void *ud, const char *line, size_t len)
{
	struct world *w = ud;

	crypto_generichash_update(&w->hash, (const uint8_t *)line, len);
	return 0;
}

static int failing_sink(void *ud, const char *line, size_t len)
{
	(void)ud;
	(void)line;
	(void)len;
	return -1;
}

static void on_event(struct world *w, enum sim_side side,
		     const struct jv_event_origin *origin,
		     const struct jv_event *ev)
{
	const char *sid = origin ? origin->session_id : "";
	const char *node = origin ? origin->node_id : NULL;

	if (sim_record_add_node(&w->res->rec, side, node, sid, ev) ==
	    JV_ERR_NOMEM)
		fail(w, "out of memory (event record)");
	sim_check_event_node(&w->res->check, side, node, sid, ev);
	if (ev->type == JV_EV_TRANSPORT_SWITCH)
		w->res->switches[side]++;
	if (origin) {
		jv_eventlog_append(w->hashlog, origin, ev);
		if (w->faillog)
			jv_eventlog_append(w->faillog, origin, ev);
		if (w->o->log)
			jv_eventlog_append(w->o->log, origin, ev);
	}
	if (w->o->on_event)
		w->o->on_event(w->o->ud, side, origin, ev);
}

static void client_event(void *ud, const struct jv_event_origin *origin,
			 const struct jv_event *ev)
{
	on_event(ud, SIM_CLIENT, origin, ev);
}

static void hold_event(struct world *w, unsigned n,
		       const struct jv_event_origin *origin,
		       const struct jv_event *ev);

static void gateway_event(void *ud, const struct jv_event_origin *origin,
			  const struct jv_event *ev)
{
	struct world *w = ud;

	if (w->have_store && origin)
		for (unsigned n = 0; n < w->nnodes; n++)
			if (!strcmp(w->node[n].id, origin->node_id)) {
				hold_event(w, n, origin, ev);
				return;
			}
	on_event(w, SIM_GATEWAY, origin, ev);
}

/* ---- the attacker -------------------------------------------------------- */

static bool matches(const struct sim_match *m, const uint8_t *b, size_t len)
{
	switch (m->kind) {
	case SIM_MATCH_ANY:
		return true;
	case SIM_MATCH_TYPE:
		return len > 0 && b[0] == m->type;
	case SIM_MATCH_CTRL:
		/* Control messages are sealed; only their exact length shows
		 * which kind they are (several kinds may share one). */
		return len > 0 && b[0] == JV_MSG_CONTROL &&
		       len == JV_WIRE_HDR_SIZE + jv_ctrl_size(m->ctrl) +
			      JV_WIRE_TAG_SIZE;
	}
	return false;
}

static void flip_byte(uint8_t *b, size_t len, int32_t flip)
{
	size_t at;

	if (flip == -1 || len == 0)
		return;
	at = flip == -2 ? len - 1 : (size_t)flip;
	if (at < len)
		b[at] ^= 0x01;
}

static void record(struct dirstate *d, const uint8_t *b, size_t len)
{
	struct recorded *r;
	bool want = false;

	for (unsigned i = 0; i < d->nrec_match; i++)
		want |= matches(&d->rec_match[i], b, len);
	if (!want)
		return;
	r = &d->ring[d->ring_head];
	r->len = (uint16_t)len;
	memcpy(r->buf, b, len);
	d->ring_head = (d->ring_head + 1) % RING;
	if (d->ring_n < RING)
		d->ring_n++;
}

/* The pick-th newest recorded datagram matching m, or NULL. */
static const struct recorded *recorded_pick(const struct dirstate *d,
					    const struct sim_match *m,
					    uint32_t pick)
{
	for (unsigned k = 0; k < d->ring_n; k++) {
		const struct recorded *r =
			&d->ring[(d->ring_head + RING - 1 - k) % RING];

		if (matches(m, r->buf, r->len) && --pick == 0)
			return r;
	}
	return NULL;
}

/* ---- links ----------------------------------------------------------- */

static void liv10_update(struct world *w, unsigned p);

/*
 * A datagram enters link (p, dir) at now: the attacker sees it first
 * (records, then applies a pending modification), then the link decides
 * its fate.
 */
static void transmit(struct world *w, unsigned p, int dir, const uint8_t *b,
		     size_t len)
{
	struct dirstate *d = &w->path[p].d[dir];
	struct sim_verdict v;
	int32_t flip = -1;
	jv_time hold = 0;

	if (d->recording)
		record(d, b, len);
	for (unsigned i = 0; i < d->nmods; i++) {
		struct modifier *m = &d->mods[i];

		if (!matches(&m->match, b, len))
			continue;
		if (m->kind == SIM_ACT_DROP)
			hold = JV_TIME_NEVER;
		else if (m->kind == SIM_ACT_HOLD)
			hold = m->by;
		else
			flip = m->flip;
		if (--m->left == 0) {
			d->mods[i] = d->mods[--d->nmods];
			liv10_update(w, p);
		}
		break;
	}
	if (hold == JV_TIME_NEVER)
		return;
	sim_link_transmit(&d->link, w->now, len, &v);
	for (unsigned c = 0; c < v.copies; c++) {
		uint32_t s = slot_alloc(w);
		struct slot *sl;

		if (s == NO_SLOT)
			return;
		sl = &w->pool.s[s];
		sl->len = (uint16_t)len;
		sl->path = (uint8_t)p;
		sl->from = w->path[p].addr;
		memcpy(sl->buf, b, len);
		flip_byte(sl->buf, len, flip);
		if (v.flip_bit >= 0)
			sl->buf[v.flip_bit / 8] ^= (uint8_t)(1u << (v.flip_bit % 8));
		push(w, v.at[c] + hold, dir ? EV_DELIVER_DOWN : EV_DELIVER_UP,
		     s, 0);
	}
}

/* ---- LIV-10 ground truth ----------------------------------------------- */

/* Nothing on the link the spec lets the engine refuse a candidate for
 * (§6.3: loss, corruption counted as loss) or that makes its delay
 * unbounded (a bandwidth cap's queue). */
static bool link_clean(const struct sim_link_params *p)
{
	return p->loss == 0.0 && !p->loss_every_ms &&
	       p->burst_enter == 0.0 && p->corrupt == 0.0 && !p->rate_kbps;
}

/* Worst one-way delay of a direction. */
static jv_time link_worst(const struct sim_link_params *p)
{
	return (jv_time)p->delay_ms + p->jitter_ms +
	       (p->reorder > 0.0 ? p->reorder_ms : 0);
}

/*
 * Tell the checker whether path p is up for LIV-10 (both ways, no hard
 * failure) and clean: no loss or corruption on it, the address it
 * started with (after a NAT rebinding the gateway must first validate
 * the new one, PD-10), no attacker modification pending, a protocol
 * both sides allow, within the latency threshold if there is one.
 */
static void liv10_update(struct world *w, unsigned p)
{
	const struct path *pa = &w->path[p];
	const struct sim_transport *t = &w->sc->transport[p];
	const struct jv_policy *cp = &w->sc->policy[SIM_CLIENT];
	const struct jv_policy *gp = &w->sc->policy[SIM_GATEWAY];
	const struct sim_link_params *up = &pa->d[0].link.p;
	const struct sim_link_params *dn = &pa->d[1].link.p;
	jv_time rtt = link_worst(up) + link_worst(dn);
	bool carries = !pa->hard_down && !pa->d[0].link.down &&
		       !pa->d[1].link.down;
	bool clean = link_clean(up) && link_clean(dn) &&
		     sim_addr_eq(&pa->addr, &t->addr) &&
		     !pa->d[0].nmods && !pa->d[1].nmods &&
		     (t->proto & cp->allowed_protocols) &&
		     (t->proto & gp->allowed_protocols) &&
		     !(cp->latency_volatile_threshold_ms &&
		       rtt > cp->latency_volatile_threshold_ms);

	sim_check_transport(&w->res->check, t->name, carries, clean, rtt,
			    link_worst(dn), w->now);
}

/* ---- node drivers -------------------------------------------------------- */

static void app_inner(struct world *w, enum sim_side side,
		      const struct jv_inner *in)
{
	enum sim_flow flow;
	uint32_t seq;
	jv_time sent;

	if (sim_traffic_parse(in->buf, in->len, &flow, &seq, &sent))
		return;
	if (side == SIM_GATEWAY) {
		if (flow == SIM_FLOW_UP && w->res->have_up)
			sim_meter_delivered(&w->res->up, seq, sent, w->now);
		else if (flow == SIM_FLOW_REQUEST)
			push(w, w->now, EV_RESPOND, seq, sent);
	} else {
		if (flow == SIM_FLOW_DOWN && w->res->have_down)
			sim_meter_delivered(&w->res->down, seq, sent, w->now);
		else if (flow == SIM_FLOW_RESPONSE && w->res->have_rr)
			sim_rr_answered(&w->res->rr, seq, sent, w->now);
	}
}

static int path_of_client_index(const struct world *w, int idx)
{
	for (unsigned p = 0; p < w->npaths; p++)
		if (w->path[p].client_index == idx)
			return (int)p;
	return -1;
}

static int path_of_addr(const struct world *w, const struct jv_addr *a)
{
	for (unsigned p = 0; p < w->npaths; p++)
		if (sim_addr_eq(&w->path[p].addr, a))
			return (int)p;
	return -1;
}

/* Endpoint ep: the client (EP_CLIENT) or gateway node ep - 1. */
static enum sim_side side_of(int ep)
{
	return ep == EP_CLIENT ? SIM_CLIENT : SIM_GATEWAY;
}

static void flush(struct world *w, int ep)
{
	struct jv_out *o = w->out;
	enum sim_side side = side_of(ep);

	w->res->out_overflow += o->overflow;
	for (unsigned i = 0; i < o->ndgram; i++) {
		const struct jv_dgram *dg = &o->dgram[i];
		int p;

		if (side == SIM_CLIENT) {
			p = path_of_client_index(w, dg->path);
			if (p < 0) {
				fail(w, "client sent on unknown path %d",
				     dg->path);
				continue;
			}
			transmit(w, (unsigned)p, 0, dg->buf, dg->len);
		} else {
			p = path_of_addr(w, &dg->to);
			/* A node reaches the client only over the transports
			 * that reach that node. */
			if (p < 0 || w->path[p].node != (unsigned)(ep - 1)) {
				w->res->misrouted++;
				continue;
			}
			transmit(w, (unsigned)p, 1, dg->buf, dg->len);
		}
	}
	for (unsigned i = 0; i < o->ninner; i++)
		app_inner(w, side, &o->inner[i]);
	jv_out_reset(o);
}

static void reschedule(struct world *w, int ep)
{
	jv_time d;

	if (ep == EP_CLIENT)
		d = w->client ? jv_client_deadline(w->client) : JV_TIME_NEVER;
	else
		d = w->node[ep - 1].g ? jv_gateway_deadline(w->node[ep - 1].g)
				      : JV_TIME_NEVER;
	if (d == JV_TIME_NEVER) {
		w->tick_at[ep] = JV_TIME_NEVER;
		return;
	}
	if (d < w->now)
		d = w->now;
	if (d == w->tick_at[ep])
		return;
	w->tick_at[ep] = d;
	push(w, d, ep == EP_CLIENT ? EV_TICK_CLIENT : EV_TICK_GATEWAY,
	     (uint32_t)(ep == EP_CLIENT ? 0 : ep - 1), 0);
}

static void drive_store(struct world *w, unsigned n);
static void after_node_call(struct world *w, unsigned n);
static void update_hold(struct world *w);

/* After every engine call: outputs, the commit (with a store: the store's
 * work, then the commit once its events go out), the next tick. */
static void done(struct world *w, int ep)
{
	w->res->engine_calls++;
	flush(w, ep);
	if (ep != EP_CLIENT && w->have_store) {
		after_node_call(w, (unsigned)(ep - 1));
		return;
	}
	sim_check_commit(&w->res->check, side_of(ep), w->now);
	reschedule(w, ep);
}

static int ep_of(unsigned node)
{
	return 1 + (int)node;
}

static void client_tick(struct world *w)
{
	if (!w->client)
		return;
	if (w->same_ms_at[EP_CLIENT] == w->now) {
		if (++w->same_ms_ticks[EP_CLIENT] > SAME_MS_TICKS_MAX) {
			fail(w, "client engine livelock: its deadline stays "
			     "at %" PRIu64, w->now);
			return;
		}
	} else {
		w->same_ms_at[EP_CLIENT] = w->now;
		w->same_ms_ticks[EP_CLIENT] = 0;
	}
	if (jv_client_tick(w->client, w->now, w->out) < 0)
		fail(w, "jv_client_tick failed");
	done(w, EP_CLIENT);
}

static void gateway_tick(struct world *w, unsigned n)
{
	struct jv_gateway *g = w->node[n].g;
	int ep = ep_of(n), r;

	if (!g)
		return;
	if (w->same_ms_at[ep] == w->now) {
		if (++w->same_ms_ticks[ep] > SAME_MS_TICKS_MAX) {
			fail(w, "gateway engine livelock: its deadline stays "
			     "at %" PRIu64, w->now);
			return;
		}
	} else {
		w->same_ms_at[ep] = w->now;
		w->same_ms_ticks[ep] = 0;
	}
	/* 1: the output filled before every due timer ran; flush, again. */
	for (int i = 0; i < 1000; i++) {
		r = jv_gateway_tick(g, w->now, w->out);
		if (r < 0)
			fail(w, "jv_gateway_tick failed");
		w->res->engine_calls++;
		flush(w, ep);
		if (r != 1)
			break;
	}
	if (w->have_store) {
		after_node_call(w, n);
		return;
	}
	sim_check_commit(&w->res->check, SIM_GATEWAY, w->now);
	reschedule(w, ep);
}

static void deliver_up(struct world *w, uint32_t s)
{
	struct slot *sl = &w->pool.s[s];
	unsigned n = w->path[sl->path].node;

	/* A dead node's socket is gone, a starting one's not yet open: the
	 * datagram is lost. */
	if (w->node[n].g && w->node[n].serving) {
		(void)jv_gateway_recv(w->node[n].g, sl->path, &sl->from,
				      sl->buf, sl->len, w->now, w->out);
		slot_free(w, s);
		done(w, ep_of(n));
	} else {
		slot_free(w, s);
	}
}

static void deliver_down(struct world *w, uint32_t s)
{
	struct slot *sl = &w->pool.s[s];

	if (w->client)
		(void)jv_client_recv(w->client,
				     w->path[sl->path].client_index, sl->buf,
				     sl->len, w->now, w->out);
	slot_free(w, s);
	if (w->client)
		done(w, EP_CLIENT);
}

/* ---- endpoints ---------------------------------------------------------- */

static int client_create(struct world *w)
{
	const struct sim_scenario *sc = w->sc;
	struct jv_client_config cfg = {
		.policy = &w->pol[SIM_CLIENT],
		.node_id = "client-1",
		.rng = jv_seeded_rng(&w->client_rng),
		.on_event = client_event,
		.ud = w,
	};

	memcpy(cfg.private_key, w->client_sk, 32);
	memcpy(cfg.gateway_public, w->gw_pk, 32);
	w->client = jv_client_new(&cfg);
	sodium_memzero(cfg.private_key, sizeof cfg.private_key);
	if (!w->client) {
		fail(w, "jv_client_new refused the client (policy or memory)");
		return JV_ERR_STATE;
	}
	for (unsigned p = 0; p < w->npaths; p++) {
		const struct sim_transport *t = &sc->transport[p];
		int idx = jv_client_add_transport(w->client, t->name, t->proto,
						  t->priority);

		if (idx < 0) {
			fail(w, "jv_client_add_transport(%s): %s", t->name,
			     jv_strerror(idx));
			return JV_ERR_STATE;
		}
		w->path[p].client_index = idx;
		if (jv_client_set_remote(w->client, idx, &w->path[p].gw)) {
			fail(w, "jv_client_set_remote(%s) failed", t->name);
			return JV_ERR_STATE;
		}
	}
	for (unsigned p = 0; p < w->npaths; p++)
		if (w->path[p].hard_down) {
			(void)jv_client_path_down(w->client,
						  w->path[p].client_index,
						  w->now, w->out);
			flush(w, EP_CLIENT);
		}
	if (jv_client_start(w->client, w->now, w->out)) {
		fail(w, "jv_client_start failed");
		return JV_ERR_STATE;
	}
	done(w, EP_CLIENT);
	return 0;
}

/* ---- gateway nodes -------------------------------------------------------- */

static int node_start(struct world *w, unsigned n)
{
	const struct sim_scenario *sc = w->sc;
	struct gwnode *gn = &w->node[n];
	struct jv_gateway_config cfg = {
		.policy = &w->pol[SIM_GATEWAY],
		.node_id = gn->id,
		.rng = jv_seeded_rng(&gn->rng),
		.on_event = gateway_event,
		.ud = w,
		.max_sessions = sc->gateway.max_sessions,
		.handshakes_per_sec = sc->gateway.handshakes_per_sec,
		.handshake_burst = sc->gateway.handshake_burst,
		.durable = w->have_store,
	};
	char stream[96];
	int peer;

	/* The first process of the first node draws from the stream the
	 * one gateway always did: runs without a store stay byte-identical.
	 * A restarted process has fresh randomness. */
	if (n == 0 && gn->incarnation == 0)
		snprintf(stream, sizeof stream, "engine/gateway");
	else
		snprintf(stream, sizeof stream, "engine/gateway/%s/%u", gn->id,
			 gn->incarnation);
	jv_seeded_rng_init(&gn->rng, sim_rand_derive(w->seed, stream));
	memcpy(cfg.private_key, w->gw_sk, 32);
	gn->g = jv_gateway_new(&cfg);
	sodium_memzero(cfg.private_key, sizeof cfg.private_key);
	if (!gn->g) {
		fail(w, "jv_gateway_new refused the gateway (policy or "
		     "memory)");
		return JV_ERR_STATE;
	}
	peer = jv_gateway_add_peer(gn->g, w->client_pk);
	if (peer < 0) {
		fail(w, "jv_gateway_add_peer: %s", jv_strerror(peer));
		return JV_ERR_STATE;
	}
	gn->peer = (uint32_t)peer;
	gn->serving = true;
	if (!w->have_store)
		return 0;
	/* A new process holds no lease until the store grants one (its
	 * first renewal, issued now), and serves nobody before that. */
	gn->lease_until = JV_TIME_NEVER;
	if (w->store.lease_ms) {
		gn->lease_until = w->now;
		gn->serving = false;
		jv_gateway_set_lease(gn->g, w->now);
	}
	gn->had_failure = false;
	sim_store_node_up(&w->store, n);
	push(w, w->now, EV_RENEW, n, gn->incarnation);
	return 0;
}

static void ws_clear(struct gwnode *gn)
{
	for (size_t i = 0; i < gn->nws; i++)
		jv_gw_record_wipe(&gn->ws[i].next);
	gn->nws = 0;
}

/* kill -9: the engine and everything it held in memory are gone; what
 * it wrote stays in the store, its lease runs out there. */
static void node_crash(struct world *w, unsigned n)
{
	struct gwnode *gn = &w->node[n];
	int ep = ep_of(n);

	if (!gn->g)
		return;
	jv_gateway_free(gn->g);
	gn->g = NULL;
	gn->incarnation++;
	ws_clear(gn);
	gn->nlooking = 0;
	gn->inflight = 0;
	/* Held events die with the process, as in the daemon's memory. */
	gn->nheld = 0;
	gn->held_events = false;
	w->tick_at[ep] = JV_TIME_NEVER;
	w->same_ms_at[ep] = JV_TIME_NEVER;
	w->same_ms_ticks[ep] = 0;
	sim_store_node_down(&w->store, n);
	sim_check_node_down(&w->res->check, gn->id);
	w->res->crashes++;
	update_hold(w);
}

/* Two nodes acting for one session at once (INV-15, dual-active): the
 * run loop knows every node's lease, which no log shows. */
static void check_dual(struct world *w)
{
	struct jv_session_status st;
	char sid[JV_SESSION_ID_HEX] = "";
	int first = -1;

	if (w->nnodes < 2 || w->dual_reported)
		return;
	for (unsigned n = 0; n < w->nnodes; n++) {
		struct gwnode *gn = &w->node[n];

		if (!gn->g || (gn->lease_until != JV_TIME_NEVER &&
			       w->now > gn->lease_until) ||
		    jv_gateway_status(gn->g, gn->peer, &st) != 0 ||
		    st.state == JV_STATE_BIRTH ||
		    st.state == JV_STATE_TERMINATED)
			continue;
		if (first < 0) {
			first = (int)n;
			snprintf(sid, sizeof sid, "%s", st.session_id);
		} else if (!strcmp(sid, st.session_id)) {
			w->dual_reported = true;
			sim_check_report(&w->res->check, "INV-15", SIM_GATEWAY,
					 w->now, "%s and %s both hold session "
					 "%s within their leases (dual-active)",
					 w->node[first].id, gn->id, sid);
		}
	}
}

/* ---- held events ---------------------------------------------------------- */

static struct heldev *held_new(struct world *w, struct gwnode *gn)
{
	if (gn->nheld == gn->capheld) {
		size_t cap = gn->capheld ? 2 * gn->capheld : 32;
		struct heldev *p = realloc(gn->held, cap * sizeof *p);

		if (!p) {
			fail(w, "out of memory (held events)");
			return NULL;
		}
		gn->held = p;
		gn->capheld = cap;
	}
	return &gn->held[gn->nheld++];
}

/* Tell the checker whether some gateway events are not out yet: the
 * gateway's time bounds wait for them. */
static void update_hold(struct world *w)
{
	bool any = false;

	for (unsigned n = 0; n < w->nnodes; n++)
		any |= w->node[n].held_events;
	sim_check_hold(&w->res->check, SIM_GATEWAY, any);
}

static void hold_event(struct world *w, unsigned n,
		       const struct jv_event_origin *origin,
		       const struct jv_event *ev)
{
	struct gwnode *gn = &w->node[n];
	struct sim_record *rec = &w->res->rec;
	struct heldev *h = held_new(w, gn);
	bool nomem = false;

	if (!h)
		return;
	memset(h, 0, sizeof *h);
	h->ev = *ev;
	h->origin = *origin;
	h->origin.session_id = sim_record_intern(rec, origin->session_id);
	h->origin.node_id = sim_record_intern(rec, origin->node_id);
	h->origin.policy_version = sim_record_intern(rec,
						     origin->policy_version);
	nomem = !h->origin.session_id || !h->origin.node_id ||
		!h->origin.policy_version;
#define SIM_HOLD_FIELD_(member, json, kind) SIM_HOLD_##kind(member)
#define SIM_HOLD_STR(member)                                            \
	if (JV_EV_HAS(ev, member) && ev->member) {                      \
		h->ev.member = sim_record_intern(rec, ev->member);      \
		nomem |= !h->ev.member;                                 \
	}
#define SIM_HOLD_U64(member)
#define SIM_HOLD_F64(member)
#define SIM_HOLD_BOOL(member)
#define SIM_HOLD_STATE(member)
#define SIM_HOLD_REASON(member)
#define SIM_HOLD_POLICY(member)                                         \
	if (JV_EV_HAS(ev, member) && ev->member) {                      \
		h->pol = *ev->member;                                   \
		h->has_policy = true;                                   \
	}
	JV_EVENT_FIELDS(SIM_HOLD_FIELD_)
#undef SIM_HOLD_FIELD_
	if (nomem)
		fail(w, "out of memory (held events)");
	gn->held_events = true;
	update_hold(w);
}

/* Everything node n holds goes out, in order, commit by commit. */
static void release(struct world *w, unsigned n)
{
	struct gwnode *gn = &w->node[n];

	for (size_t i = 0; i < gn->nheld; i++) {
		struct heldev *h = &gn->held[i];

		if (h->commit) {
			sim_check_commit(&w->res->check, SIM_GATEWAY, h->at);
			continue;
		}
		if (h->has_policy)
			h->ev.policy = &h->pol;
		on_event(w, SIM_GATEWAY, &h->origin, &h->ev);
	}
	gn->nheld = 0;
	gn->held_events = false;
	update_hold(w);
}

/* After an engine call of node n with a store: the records and lookups
 * it asks for, the end of its commit, out if nothing is in flight. */
static void after_node_call(struct world *w, unsigned n)
{
	struct gwnode *gn = &w->node[n];
	struct heldev *h;

	drive_store(w, n);
	if (gn->nheld && !gn->held[gn->nheld - 1].commit &&
	    (h = held_new(w, gn)) != NULL) {
		memset(h, 0, sizeof *h);
		h->commit = true;
		h->at = w->now;
	}
	if (gn->inflight == 0)
		release(w, n);
	reschedule(w, ep_of(n));
}

/* ---- the store driver ------------------------------------------------------ */

static uint32_t op_alloc(struct world *w)
{
	struct oppool *p = &w->ops;
	uint32_t i;

	if (p->free_head != NO_SLOT) {
		i = p->free_head;
		p->free_head = p->op[i].next_free;
	} else {
		if (p->n == p->cap) {
			uint32_t cap = p->cap ? 2 * p->cap : 16;
			struct storeop *o = realloc(p->op, cap * sizeof *o);

			if (!o) {
				fail(w, "out of memory (store operations)");
				return NO_SLOT;
			}
			p->op = o;
			p->cap = cap;
		}
		i = p->n++;
	}
	memset(&p->op[i], 0, sizeof p->op[i]);
	return i;
}

static void op_free(struct world *w, uint32_t i)
{
	struct storeop *op = &w->ops.op[i];

	jv_gw_record_wipe(&op->rec);
	op->next_free = w->ops.free_head;
	w->ops.free_head = i;
}

/* Start operation i of node n now: its answer arrives latency_ms later. */
static struct storeop *op_start(struct world *w, unsigned n,
				enum op_kind kind, uint32_t *slot)
{
	uint32_t i = op_alloc(w);
	struct storeop *op;

	*slot = i;
	if (i == NO_SLOT)
		return NULL;
	op = &w->ops.op[i];
	op->kind = kind;
	op->node = n;
	op->incarnation = w->node[n].incarnation;
	op->issued = w->now;
	if (kind != OP_RENEW)
		w->node[n].inflight++;
	push(w, w->now + w->sc->store.latency_ms / 2, EV_STORE_APPLY, i, 0);
	push(w, w->now + w->sc->store.latency_ms, EV_STORE_DONE, i, 0);
	return op;
}

static struct wslot *ws_get(struct world *w, struct gwnode *gn,
			    uint32_t index)
{
	for (size_t i = 0; i < gn->nws; i++)
		if (gn->ws[i].index == index)
			return &gn->ws[i];
	if (gn->nws == gn->capws) {
		size_t cap = gn->capws ? 2 * gn->capws : 4;
		struct wslot *p = realloc(gn->ws, cap * sizeof *p);

		if (!p) {
			fail(w, "out of memory (record writes)");
			return NULL;
		}
		gn->ws = p;
		gn->capws = cap;
	}
	memset(&gn->ws[gn->nws], 0, sizeof gn->ws[0]);
	gn->ws[gn->nws].index = index;
	return &gn->ws[gn->nws++];
}

static void unlook(struct gwnode *gn, uint32_t index)
{
	for (unsigned i = 0; i < gn->nlooking; i++)
		if (gn->looking[i] == index) {
			gn->looking[i] = gn->looking[--gn->nlooking];
			return;
		}
}

static bool is_looking(const struct gwnode *gn, uint32_t index)
{
	for (unsigned i = 0; i < gn->nlooking; i++)
		if (gn->looking[i] == index)
			return true;
	return false;
}

/* CAS write of `r` by node n, against what the node knows of it. */
static void write_issue(struct world *w, unsigned n, struct wslot *ws,
			const struct jv_gw_record *r)
{
	uint32_t slot;
	struct storeop *op = op_start(w, n, OP_WRITE, &slot);

	if (!op)
		return;
	op->index = r->local_index;
	op->version = r->state_version;
	op->over = r->state == JV_STATE_TERMINATED;
	op->rec = *r;
	op->expected = ws->revision;
	ws->inflight = true;
}

static void read_issue(struct world *w, unsigned n, uint32_t index)
{
	uint32_t slot;
	struct storeop *op = op_start(w, n, OP_READ, &slot);

	if (!op)
		return;
	op->index = index;
	w->res->lookups++;
}

/* A session that is over: nobody takes it again, the record goes. */
static void delete_issue(struct world *w, unsigned n, uint32_t index,
			 uint64_t revision)
{
	uint32_t slot;
	struct storeop *op = op_start(w, n, OP_DELETE, &slot);

	if (!op)
		return;
	op->index = index;
	op->expected = revision;
}

static void adopt_issue(struct world *w, unsigned n,
			const struct jv_gw_record *next, uint64_t revision,
			const char *prev_owner)
{
	uint32_t slot;
	struct storeop *op = op_start(w, n, OP_ADOPT, &slot);

	if (!op)
		return;
	op->index = next->local_index;
	op->rec = *next;
	/* Against the revision read before prepare_adopt: the new owner
	 * epoch's keys must never be used twice (record.h). */
	op->expected = revision;
	snprintf(op->prev_owner, sizeof op->prev_owner, "%s", prev_owner);
}

/* A CAS put of op->rec. */
static int apply_put(struct world *w, struct storeop *op)
{
	uint8_t bytes[JV_RECORD_SIZE];
	int rc;

	if (jv_gw_record_encode(&op->rec, bytes, sizeof bytes) !=
	    JV_RECORD_SIZE) {
		fail(w, "jv_gw_record_encode failed");
		return JV_RECORD_FAILED;
	}
	rc = sim_store_put(&w->store, op->node, op->index, op->expected, bytes,
			   w->now, &op->revision);
	sodium_memzero(bytes, sizeof bytes);
	if (rc < 0) {
		fail(w, "out of memory (store)");
		rc = JV_RECORD_FAILED;
	}
	return rc;
}

/* Operation i reaches the store: it takes effect now, whatever became of
 * the node that sent it. */
static void store_apply(struct world *w, uint32_t i)
{
	struct storeop *op = &w->ops.op[i];
	const struct sim_store_rec *sr;
	jv_time until;

	switch (op->kind) {
	case OP_RENEW:
		op->outcome = JV_RECORD_FAILED;
		if (sim_store_renew(&w->store, op->node, w->now, &until)) {
			op->outcome = JV_RECORD_WRITTEN;
			/* The node counts its lease from the renewal's issue:
			 * it ends no later than the store's. */
			op->until = w->store.lease_ms ? op->issued +
				    w->store.lease_ms : JV_TIME_NEVER;
		}
		break;
	case OP_WRITE:
		op->outcome = apply_put(w, op);
		jv_gw_record_wipe(&op->rec);
		break;
	case OP_ADOPT:
		op->outcome = apply_put(w, op);
		break;
	case OP_DELETE:
		op->outcome = sim_store_del(&w->store, op->node, op->index,
					    op->expected);
		break;
	case OP_READ:
		op->outcome = sim_store_read(&w->store, op->node, op->index,
					     &sr);
		/* Worth adopting: a record this node owns (it restarted) or
		 * whose owner's lease is over. */
		if (op->outcome != JV_RECORD_WRITTEN || !sr ||
		    (strcmp(sr->owner, w->node[op->node].id) &&
		     sim_store_owner_live(&w->store, sr->owner, w->now)))
			break;
		if (jv_gw_record_decode(sr->bytes, sizeof sr->bytes, &op->rec,
					NULL) != JV_OK) {
			fail(w, "the store holds a record that does not "
			     "decode");
			break;
		}
		op->found = true;
		op->revision = sr->revision;
		break;
	}
}

/* After every engine call of node n: the records it wants written and
 * the indexes it wants looked up. */
static void drive_store(struct world *w, unsigned n)
{
	struct gwnode *gn = &w->node[n];
	struct jv_gw_record r;
	uint32_t index;

	if (!gn->g)
		return;
	while (jv_gateway_next_record(gn->g, &r) == 1) {
		struct wslot *ws = ws_get(w, gn, r.local_index);

		if (ws && ws->inflight) {
			/* One write per session in flight; the newest
			 * record waits for it. */
			ws->next = r;
			ws->have_next = true;
		} else if (ws) {
			write_issue(w, n, ws, &r);
		}
		jv_gw_record_wipe(&r);
	}
	while (jv_gateway_next_lookup(gn->g, &index) == 1) {
		if (is_looking(gn, index) || gn->nlooking == LOOKUPS_MAX)
			continue;
		gn->looking[gn->nlooking++] = index;
		read_issue(w, n, index);
	}
}

/* The store did not answer node n's operation issued at `issued`. */
static void op_failed(struct world *w, struct gwnode *gn, jv_time issued)
{
	w->res->store_failures++;
	if (!gn->had_failure || issued > gn->fail_issued)
		gn->fail_issued = issued;
	gn->had_failure = true;
	jv_gateway_store_reachable(gn->g, false);
}

/* It answered (the daemon says so after every answer).  An answer to an
 * operation older than the latest failure says nothing about now. */
static void op_answered(struct gwnode *gn, jv_time issued)
{
	if (!gn->had_failure || issued > gn->fail_issued)
		jv_gateway_store_reachable(gn->g, true);
}

static void renew_done(struct world *w, unsigned n, struct storeop *op)
{
	struct gwnode *gn = &w->node[n];

	if (op->outcome != JV_RECORD_WRITTEN) {
		op_failed(w, gn, op->issued);
	} else {
		if (op->until != JV_TIME_NEVER && op->until > gn->lease_until) {
			gn->lease_until = op->until;
			jv_gateway_set_lease(gn->g, op->until);
		}
		gn->serving = true;
		op_answered(gn, op->issued);
	}
	done(w, ep_of(n));
}

static void write_done(struct world *w, unsigned n, struct storeop *op)
{
	struct gwnode *gn = &w->node[n];
	struct wslot *ws = ws_get(w, gn, op->index);

	if (!ws)
		return;
	ws->inflight = false;
	if (op->outcome == JV_RECORD_WRITTEN) {
		ws->revision = op->revision;
		op_answered(gn, op->issued);
	}
	if (op->outcome == JV_RECORD_FAILED)
		op_failed(w, gn, op->issued);
	if (op->outcome == JV_RECORD_WRITTEN && op->over && !ws->have_next) {
		/* Its last state is written: the record can go. */
		delete_issue(w, n, op->index, ws->revision);
		ws->revision = 0;
	} else if (ws->have_next) {
		struct jv_gw_record r = ws->next;

		jv_gw_record_wipe(&ws->next);
		ws->have_next = false;
		write_issue(w, n, ws, &r);
		jv_gw_record_wipe(&r);
	}
	/* JV_ERR_NOTFOUND: the session is gone meanwhile. */
	(void)jv_gateway_record_done(gn->g, op->index, op->version,
				     (enum jv_record_outcome)op->outcome,
				     w->now, w->out);
	done(w, ep_of(n));
}

static void read_done(struct world *w, unsigned n, struct storeop *op)
{
	struct gwnode *gn = &w->node[n];
	struct jv_gw_record next;
	int rc;

	if (op->outcome == JV_RECORD_FAILED) {
		unlook(gn, op->index);
		op_failed(w, gn, op->issued);
		done(w, ep_of(n));
		return;
	}
	if (op->outcome == JV_RECORD_WRITTEN)
		op_answered(gn, op->issued);
	rc = op->found ? jv_gateway_prepare_adopt(gn->g, &op->rec, w->now,
						  &next) : JV_ERR_NOTFOUND;
	if (rc == JV_ERR_STATE)
		delete_issue(w, n, op->index, op->revision);
	if (rc != JV_OK) {
		unlook(gn, op->index);
		return;
	}
	adopt_issue(w, n, &next, op->revision, op->rec.owner_node);
	jv_gw_record_wipe(&next);
}

static void adopt_done(struct world *w, unsigned n, struct storeop *op)
{
	struct gwnode *gn = &w->node[n];
	struct wslot *ws;
	int rc;

	unlook(gn, op->index);
	if (op->outcome == JV_RECORD_FAILED) {
		op_failed(w, gn, op->issued);
		done(w, ep_of(n));
		return;
	}
	if (op->outcome != JV_RECORD_WRITTEN)
		return;		/* another node won the CAS */
	op_answered(gn, op->issued);
	rc = jv_gateway_adopt(gn->g, &op->rec, op->prev_owner, w->now);
	if (rc != JV_OK) {
		fail(w, "%s: jv_gateway_adopt refused the record it prepared "
		     "and won: %s", gn->id, jv_strerror(rc));
		return;
	}
	ws = ws_get(w, gn, op->index);
	if (ws) {
		jv_gw_record_wipe(&ws->next);
		ws->inflight = ws->have_next = false;
		ws->revision = op->revision;
	}
	w->res->adoptions++;
	done(w, ep_of(n));
}

static void store_done(struct world *w, uint32_t i)
{
	struct storeop *op = &w->ops.op[i];
	unsigned n = op->node;

	/* A dead process gets no answers; a restarted one is another. */
	if (op->incarnation == w->node[n].incarnation && w->node[n].g) {
		if (op->kind != OP_RENEW)
			w->node[n].inflight--;
		switch (op->kind) {
		case OP_RENEW:
			renew_done(w, n, op);
			break;
		case OP_WRITE:
			write_done(w, n, op);
			break;
		case OP_READ:
			read_done(w, n, op);
			break;
		case OP_ADOPT:
			adopt_done(w, n, op);
			break;
		case OP_DELETE:
			if (op->outcome == JV_RECORD_FAILED)
				op_failed(w, &w->node[n], op->issued);
			else
				op_answered(&w->node[n], op->issued);
			break;
		}
		/* An answer without an engine call may end what holds the
		 * node's events. */
		if (w->node[n].g && w->node[n].inflight == 0 &&
		    w->node[n].nheld)
			release(w, n);
	}
	op_free(w, i);
}

static void renew(struct world *w, unsigned n, uint64_t incarnation)
{
	struct gwnode *gn = &w->node[n];
	uint32_t slot;
	struct storeop *op;

	if (!gn->g || incarnation != gn->incarnation)
		return;
	op = op_start(w, n, OP_RENEW, &slot);
	if (!op)
		return;
	if (w->now + w->sc->store.renew_ms <= w->end)
		push(w, w->now + w->sc->store.renew_ms, EV_RENEW, n,
		     incarnation);
}

/* ---- traffic ------------------------------------------------------------ */

/* The application behind the gateway sends through the node that holds
 * the session: the first running node that takes the packet. */
static int gateway_send(struct world *w, const uint8_t *pkt, size_t len)
{
	int rc = JV_ERR_STATE;

	for (unsigned n = 0; n < w->nnodes; n++) {
		struct gwnode *gn = &w->node[n];

		if (!gn->g)
			continue;
		rc = jv_gateway_send(gn->g, gn->peer, pkt, len, w->now,
				     w->out);
		done(w, ep_of(n));
		if (rc == 0)
			break;
	}
	return rc;
}

/* Time of packet k of a pps stream started at start. */
static jv_time nth(jv_time start, uint32_t pps, uint64_t k)
{
	return start + k * 1000 / pps;
}

static void stream_send(struct world *w, enum ev_kind kind, uint64_t k)
{
	const struct sim_traffic_cfg *tc = &w->sc->traffic;
	bool up = kind == EV_STREAM_UP, req = kind == EV_REQUEST;
	uint32_t pps = req ? tc->request_pps : up ? tc->up_pps : tc->down_pps;
	enum sim_flow flow = req ? SIM_FLOW_REQUEST :
			     up ? SIM_FLOW_UP : SIM_FLOW_DOWN;
	size_t size = req ? tc->request_bytes : tc->packet_bytes;
	jv_time next;
	int len;

	len = sim_traffic_build(w->pkt, sizeof w->pkt, flow, (uint32_t)k,
				w->now, size);
	if (len < 0) {
		fail(w, "cannot build a traffic packet");
		return;
	}
	if (req)
		w->res->rr.sent++;
	else
		sim_meter_sent(up ? &w->res->up : &w->res->down, w->now);
	if (up || req) {
		if (w->client) {
			(void)jv_client_send(w->client, w->pkt, (size_t)len,
					     w->now, w->out);
			done(w, EP_CLIENT);
		}
	} else {
		(void)gateway_send(w, w->pkt, (size_t)len);
	}
	next = nth(tc->start_ms, pps, k + 1);
	if (next < tc->stop_ms && next <= w->end)
		push(w, next, kind, 0, k + 1);
}

static void respond(struct world *w, uint32_t seq, jv_time sent)
{
	int len = sim_traffic_build(w->pkt, sizeof w->pkt, SIM_FLOW_RESPONSE,
				    seq, sent, w->sc->traffic.response_bytes);

	if (len < 0)
		return;
	(void)gateway_send(w, w->pkt, (size_t)len);
}

/* ---- timeline ------------------------------------------------------------- */

static void links_set(struct world *w, unsigned p, unsigned dirs, bool down)
{
	for (int d = 0; d < 2; d++)
		if (dirs & (1u << d))
			w->path[p].d[d].link.down = down;
}

static void replay_copy(struct world *w, const struct sim_action *a)
{
	struct path *pa = &w->path[a->path];
	int dir = a->dirs == SIM_DIR_UP ? 0 : 1;
	const struct recorded *r = recorded_pick(&pa->d[dir], &a->match,
						 a->pick);
	uint8_t buf[JV_DGRAM_MAX];
	struct jv_addr from;

	if (!r) {
		w->res->replay_misses++;
		return;
	}
	memcpy(buf, r->buf, r->len);
	flip_byte(buf, r->len, a->flip);
	for (unsigned i = 0; i < a->rand_len; i++)
		if (a->rand_off + i < r->len)
			buf[a->rand_off + i] =
				(uint8_t)sim_rand_below(&w->attacker, 256);
	/* Injected at the receiving end: the attacker is next to it. */
	if (dir == 0) {
		unsigned n = a->node >= 0 ? (unsigned)a->node : pa->node;

		from = a->has_addr ? a->addr :
		       a->from_path >= 0 ? w->path[a->from_path].addr :
		       pa->addr;
		if (n >= w->nnodes || !w->node[n].g || !w->node[n].serving)
			return;
		(void)jv_gateway_recv(w->node[n].g, (uint32_t)a->path, &from,
				      buf, r->len, w->now, w->out);
		done(w, ep_of(n));
	} else if (w->client) {
		(void)jv_client_recv(w->client, pa->client_index, buf, r->len,
				     w->now, w->out);
		done(w, EP_CLIENT);
	}
}

static void add_modifier(struct world *w, const struct sim_action *a)
{
	struct dirstate *d = &w->path[a->path].d[a->dirs == SIM_DIR_UP ? 0 : 1];
	struct modifier *m;

	if (d->nmods == MODS) {
		fail(w, "more than %d pending attacker modifications on %s",
		     MODS, w->sc->transport[a->path].name);
		return;
	}
	m = &d->mods[d->nmods++];
	m->kind = a->kind;
	m->match = a->match;
	m->left = a->count;
	m->flip = a->flip;
	m->by = a->by_ms;
}

/* What the engine answered an operator's switch order (PD-8: a refused
 * migration leaves no event, only this answer). */
static void record_order(struct world *w, int rc,
			 const struct jv_switch_answer *ans)
{
	struct sim_order *o;

	if (w->res->norders == SIM_ORDERS_MAX)
		return;
	o = &w->res->orders[w->res->norders++];
	o->at = w->now;
	o->rc = rc;
	o->refused = rc ? JV_REASON_NONE : ans->refused;
	o->result = rc ? SIM_ORDER_ERROR :
		    ans->refused == JV_REASON_NONE ? SIM_ORDER_ACCEPTED :
		    SIM_ORDER_REFUSED;
}

/*
 * Spec §5 runtime change: the keys of a `policy` action laid over the
 * side's latest policy, handed to its engine(s), which validate it; one
 * the engine refuses leaves the latest as it was (PolicyUpdate(REJECTED)
 * in the log says why).
 */
static int change_policy(struct world *w, int side,
			 const struct jv_policy_ini *keys)
{
	struct jv_policy next = w->pol[side];
	int rc = JV_ERR_INVAL;
	bool ran = false;

	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);

		if (keys->set & (UINT64_C(1) << i))
			memcpy((char *)&next + f->offset,
			       (const char *)&keys->vals + f->offset, f->size);
	}
	if (side == SIM_CLIENT) {
		if (w->client) {
			rc = jv_client_set_policy(w->client, &next, w->now,
						  w->out);
			done(w, EP_CLIENT);
			ran = true;
		}
	} else {
		for (unsigned n = 0; n < w->nnodes; n++) {
			if (!w->node[n].g)
				continue;
			rc = jv_gateway_set_policy(w->node[n].g, &next, w->now,
						   w->out);
			done(w, ep_of(n));
			ran = true;
		}
	}
	/* with no engine running, the next one starts on it if valid */
	if (rc == 0 || (!ran && jv_policy_validate(&next, NULL) == JV_OK))
		w->pol[side] = next;
	return rc;
}

static int run_action(struct world *w, const struct sim_action *a)
{
	struct path *pa = a->path >= 0 ? &w->path[a->path] : NULL;
	const char *name = pa ? w->sc->transport[a->path].name : "";
	int rc = 0;

	if (w->o->on_action)
		w->o->on_action(w->o->ud, a, w->now);
	switch (a->kind) {
	case SIM_ACT_KILL:
		links_set(w, (unsigned)a->path, a->dirs, true);
		/* the checker learns it before the engine: the binding
		 * died now, whatever the engine makes of it */
		liv10_update(w, (unsigned)a->path);
		if (a->hard && !pa->hard_down) {
			pa->hard_down = true;
			if (w->client) {
				rc = jv_client_path_down(w->client,
							 pa->client_index,
							 w->now, w->out);
				done(w, EP_CLIENT);
			}
		}
		break;
	case SIM_ACT_REVIVE:
		links_set(w, (unsigned)a->path, a->dirs, false);
		if (pa->hard_down) {
			pa->hard_down = false;
			if (w->client) {
				rc = jv_client_path_up(w->client,
						       pa->client_index,
						       w->now, w->out);
				done(w, EP_CLIENT);
			}
		}
		liv10_update(w, (unsigned)a->path);
		break;
	case SIM_ACT_SET:
		for (unsigned i = 0; i < a->nset; i++)
			for (int d = 0; d < 2; d++)
				if ((a->set[i].dirs & (1u << d)) &&
				    sim_link_param_set(&pa->d[d].link.p,
						       a->set[i].key,
						       a->set[i].value, NULL))
					fail(w, "set %s=%s refused",
					     a->set[i].key, a->set[i].value);
		liv10_update(w, (unsigned)a->path);
		break;
	case SIM_ACT_NAT:
		if (a->has_addr) {
			pa->addr = a->addr;
		} else {
			/* Same public IP, the next port: a new mapping. */
			pa->nat_count++;
			pa->addr.port = (uint16_t)(pa->addr.port + 1 < 65536 ?
						   pa->addr.port + 1 : 1024);
		}
		liv10_update(w, (unsigned)a->path);
		break;
	case SIM_ACT_SWITCH:
		if (w->client) {
			struct jv_switch_answer ans;

			rc = jv_client_request_switch(w->client, name, w->now,
						      w->out, &ans);
			record_order(w, rc, &ans);
			done(w, EP_CLIENT);
		}
		break;
	case SIM_ACT_TERMINATE:
		if (a->side == SIM_CLIENT && w->client) {
			rc = jv_client_terminate(w->client, w->now, w->out);
			done(w, EP_CLIENT);
		} else if (a->side == SIM_GATEWAY) {
			/* At the node that holds the session. */
			for (unsigned n = 0; n < w->nnodes; n++) {
				if (!w->node[n].g)
					continue;
				rc = jv_gateway_terminate(w->node[n].g,
							  w->node[n].peer,
							  w->now, w->out);
				done(w, ep_of(n));
				if (rc == 0)
					break;
			}
		}
		break;
	case SIM_ACT_RESTART:
		if (a->side == SIM_GATEWAY) {
			/* The same node id, empty memory, durable: what it
			 * held comes back from the store (PD-9). */
			sim_check_gateway_fault(&w->res->check);
			node_crash(w, (unsigned)a->node);
			w->res->node_restarts++;
			rc = node_start(w, (unsigned)a->node);
			break;
		}
		/* The old endpoint vanishes (a crash or a new process): its
		 * live streams end unchecked; a new handshake follows. */
		sim_check_abandon(&w->res->check, SIM_CLIENT);
		jv_client_free(w->client);
		w->client = NULL;
		w->restarts++;
		rc = client_create(w);
		break;
	case SIM_ACT_REPLAY:
		replay_copy(w, a);
		if (a->count > 1)
			push(w, w->now + (a->every_ms ? a->every_ms : 1),
			     EV_REPLAY, (uint32_t)(a - w->sc->actions),
			     a->count - 1);
		break;
	case SIM_ACT_CORRUPT:
	case SIM_ACT_HOLD:
	case SIM_ACT_DROP:
		add_modifier(w, a);
		liv10_update(w, (unsigned)a->path);
		break;
	case SIM_ACT_CRASH:
		sim_check_gateway_fault(&w->res->check);
		node_crash(w, (unsigned)a->node);
		break;
	case SIM_ACT_STORE_DOWN:
	case SIM_ACT_STORE_UP:
		/* The nodes find out from their next operation. */
		w->store.down = a->kind == SIM_ACT_STORE_DOWN;
		if (w->store.down)
			sim_check_gateway_fault(&w->res->check);
		break;
	case SIM_ACT_PARTITION:
	case SIM_ACT_HEAL:
		w->store.node[a->node].partitioned =
			a->kind == SIM_ACT_PARTITION;
		if (a->kind == SIM_ACT_PARTITION)
			sim_check_gateway_fault(&w->res->check);
		break;
	case SIM_ACT_STORE_CONFLICT:
		sim_check_gateway_fault(&w->res->check);
		(void)sim_store_inject_conflict(&w->store, "intruder");
		break;
	case SIM_ACT_POLICY:
		for (int side = 0; side < SIM_SIDES; side++)
			if (a->side == side || a->side == SIM_SIDES)
				rc |= change_policy(w, side,
					&w->sc->policy_changes[a->policy]);
		break;
	case SIM_ACT_KIND_COUNT:
		break;
	}
	return rc;
}

/* ---- setup and loop ------------------------------------------------------ */

static void derive_key(uint64_t seed, const char *name, uint8_t sk[32],
		       uint8_t pk[32])
{
	struct sim_rand r;

	sim_rand_init(&r, seed, name);
	for (int i = 0; i < 4; i++) {
		uint64_t v = sim_rand_u64(&r);

		for (int j = 0; j < 8; j++)
			sk[8 * i + j] = (uint8_t)(v >> (8 * j));
	}
	crypto_scalarmult_base(pk, sk);
}

static int setup_paths(struct world *w)
{
	const struct sim_scenario *sc = w->sc;
	char name[64];

	w->npaths = sc->ntransports;
	for (unsigned p = 0; p < w->npaths; p++) {
		const struct sim_transport *t = &sc->transport[p];
		struct path *pa = &w->path[p];

		memset(pa, 0, sizeof *pa);
		snprintf(name, sizeof name, "link/%s/up", t->name);
		sim_link_init(&pa->d[0].link, &t->up, w->seed, name);
		snprintf(name, sizeof name, "link/%s/down", t->name);
		sim_link_init(&pa->d[1].link, &t->down, w->seed, name);
		pa->addr = t->addr;
		pa->node = (unsigned)t->node;
		sim_addr_ipv4(&pa->gw, 192u << 24 | 2u << 8 | (p + 1), 51820);
		if (t->start_down)
			links_set(w, p, SIM_DIR_BOTH, true);
		pa->client_index = -1;
	}
	/* The attacker records only what some replay will ask for. */
	for (size_t i = 0; i < sc->nactions; i++) {
		const struct sim_action *a = &sc->actions[i];
		struct dirstate *d;

		if (a->kind != SIM_ACT_REPLAY)
			continue;
		d = &w->path[a->path].d[a->dirs == SIM_DIR_UP ? 0 : 1];
		if (!d->ring) {
			d->ring = calloc(RING, sizeof *d->ring);
			if (!d->ring)
				return JV_ERR_NOMEM;
			d->recording = true;
		}
		if (d->nrec_match < 8)
			d->rec_match[d->nrec_match++] = a->match;
		else
			d->rec_match[0].kind = SIM_MATCH_ANY;
	}
	return 0;
}

static int setup_traffic(struct world *w)
{
	const struct sim_scenario *sc = w->sc;
	const struct sim_traffic_cfg *tc = &sc->traffic;
	struct sim_result *res = w->res;
	jv_time *faults = NULL;
	size_t nf = 0;
	int r = 0;

	if (sc->nactions) {
		faults = malloc(sc->nactions * sizeof *faults);
		if (!faults)
			return JV_ERR_NOMEM;
	}
	for (size_t i = 0; i < sc->nactions; i++)
		if (sc->actions[i].fault)
			faults[nf++] = sc->actions[i].at;
	if (tc->up_pps && tc->start_ms < tc->stop_ms) {
		r = sim_meter_init(&res->up, (size_t)tc->up_pps *
				   (tc->stop_ms - tc->start_ms) / 1000 + 2,
				   faults, nf);
		res->have_up = r == 0;
		push(w, tc->start_ms, EV_STREAM_UP, 0, 0);
	}
	if (!r && tc->down_pps && tc->start_ms < tc->stop_ms) {
		r = sim_meter_init(&res->down, (size_t)tc->down_pps *
				   (tc->stop_ms - tc->start_ms) / 1000 + 2,
				   faults, nf);
		res->have_down = r == 0;
		push(w, tc->start_ms, EV_STREAM_DOWN, 0, 0);
	}
	if (!r && tc->request_pps && tc->start_ms < tc->stop_ms) {
		r = sim_rr_init(&res->rr, (size_t)tc->request_pps *
				(tc->stop_ms - tc->start_ms) / 1000 + 2,
				tc->request_timeout_ms);
		res->have_rr = r == 0;
		push(w, tc->start_ms, EV_REQUEST, 0, 0);
	}
	free(faults);
	return r;
}

static void step(struct world *w, const struct sim_ev *e)
{
	const struct sim_scenario *sc = w->sc;

	switch ((enum ev_kind)e->kind) {
	case EV_TICK_CLIENT:
		if (e->at == w->tick_at[EP_CLIENT]) {
			w->tick_at[EP_CLIENT] = JV_TIME_NEVER;
			client_tick(w);
		}
		break;
	case EV_TICK_GATEWAY:
		if (e->arg < w->nnodes && e->at == w->tick_at[ep_of(e->arg)]) {
			w->tick_at[ep_of(e->arg)] = JV_TIME_NEVER;
			gateway_tick(w, e->arg);
		}
		break;
	case EV_DELIVER_UP:
		deliver_up(w, e->arg);
		break;
	case EV_DELIVER_DOWN:
		deliver_down(w, e->arg);
		break;
	case EV_ACTION:
		(void)run_action(w, &sc->actions[e->arg]);
		break;
	case EV_REPLAY: {
		const struct sim_action *a = &sc->actions[e->arg];

		replay_copy(w, a);
		if (e->arg2 > 1)
			push(w, w->now + (a->every_ms ? a->every_ms : 1),
			     EV_REPLAY, e->arg, e->arg2 - 1);
		break;
	}
	case EV_STREAM_UP:
	case EV_STREAM_DOWN:
	case EV_REQUEST:
		stream_send(w, (enum ev_kind)e->kind, e->arg2);
		break;
	case EV_RESPOND:
		respond(w, e->arg, e->arg2);
		break;
	case EV_STORE_APPLY:
		store_apply(w, e->arg);
		break;
	case EV_STORE_DONE:
		store_done(w, e->arg);
		break;
	case EV_RENEW:
		renew(w, e->arg, e->arg2);
		break;
	}
}

static void final_state(struct world *w)
{
	struct sim_result *res = w->res;
	struct jv_session_status st;

	if (w->client) {
		jv_client_status(w->client, &st);
		res->rec.final_known[SIM_CLIENT] = true;
		res->rec.final_state[SIM_CLIENT] = st.state;
		res->rec.final_version[SIM_CLIENT] = st.state_version;
		if (st.session_id[0])
			sim_check_engine(&res->check, SIM_CLIENT,
					 st.session_id, st.state,
					 st.state_version, w->now);
	}
	/* The gateway side: the node that holds the session (a live one
	 * before a terminated one). */
	int holder = -1;
	struct jv_session_status hst;

	for (unsigned n = 0; n < w->nnodes; n++)
		if (w->node[n].g &&
		    jv_gateway_status(w->node[n].g, w->node[n].peer, &st) == 0 &&
		    (holder < 0 || (hst.state == JV_STATE_TERMINATED &&
				    st.state != JV_STATE_TERMINATED))) {
			holder = (int)n;
			hst = st;
		}
	if (holder >= 0) {
		res->rec.final_known[SIM_GATEWAY] = true;
		res->rec.final_state[SIM_GATEWAY] = hst.state;
		res->rec.final_version[SIM_GATEWAY] = hst.state_version;
		snprintf(res->rec.final_node[SIM_GATEWAY],
			 sizeof res->rec.final_node[SIM_GATEWAY], "%s",
			 w->node[holder].id);
		sim_check_engine(&res->check, SIM_GATEWAY, hst.session_id,
				 hst.state, hst.state_version, w->now);
	} else {
		/* No live session: the newest one's last state, if any. */
		struct sim_record *r = &res->rec;

		for (size_t i = r->n; i-- > 0;)
			if (r->ev[i].side == SIM_GATEWAY &&
			    r->ev[i].ev.type == JV_EV_SESSION_STATE_CHANGE) {
				r->final_known[SIM_GATEWAY] = true;
				r->final_state[SIM_GATEWAY] =
					r->ev[i].ev.new_state;
				r->final_version[SIM_GATEWAY] =
					r->ev[i].ev.state_version;
				break;
			}
	}
}

static void world_free(struct world *w)
{
	jv_client_free(w->client);
	for (unsigned n = 0; n < SIM_NODES_MAX; n++) {
		jv_gateway_free(w->node[n].g);
		ws_clear(&w->node[n]);
		free(w->node[n].ws);
		free(w->node[n].held);
	}
	for (uint32_t i = 0; i < w->ops.n; i++)
		jv_gw_record_wipe(&w->ops.op[i].rec);
	free(w->ops.op);
	sim_store_free(&w->store);
	sim_queue_free(&w->q);
	free(w->pool.s);
	for (unsigned p = 0; p < SIM_TRANSPORTS_MAX; p++)
		for (int d = 0; d < 2; d++)
			free(w->path[p].d[d].ring);
	free(w->out);
	free(w->hashlog);
	free(w->faillog);
	sodium_memzero(w->client_sk, sizeof w->client_sk);
	sodium_memzero(w->gw_sk, sizeof w->gw_sk);
}

void sim_result_free(struct sim_result *res)
{
	sim_record_free(&res->rec);
	if (res->have_up)
		sim_meter_free(&res->up);
	if (res->have_down)
		sim_meter_free(&res->down);
	if (res->have_rr)
		sim_rr_free(&res->rr);
	res->have_up = res->have_down = res->have_rr = false;
}

int sim_run(const struct sim_scenario *sc, const struct sim_run_opts *o,
	    struct sim_result *res)
{
	static const struct sim_run_opts none;
	struct world *w;
	struct sim_ev e;
	int r = 0;

	memset(res, 0, sizeof *res);
	sim_record_init(&res->rec);
	if (!o)
		o = &none;
	w = calloc(1, sizeof *w);
	if (!w)
		return JV_ERR_NOMEM;
	w->sc = sc;
	w->pol[SIM_CLIENT] = sc->policy[SIM_CLIENT];
	w->pol[SIM_GATEWAY] = sc->policy[SIM_GATEWAY];
	w->o = o;
	w->res = res;
	w->seed = o->seed_set ? o->seed : sc->seed;
	w->end = sc->duration_ms;
	w->pool.free_head = NO_SLOT;
	w->ops.free_head = NO_SLOT;
	for (int ep = 0; ep < EPS; ep++)
		w->tick_at[ep] = w->same_ms_at[ep] = JV_TIME_NEVER;
	res->seed = w->seed;
	res->npaths = sc->ntransports;
	/* Without a store: one node, "gateway-1", as it always was. */
	w->have_store = sc->store.on;
	w->nnodes = w->have_store ? sc->store.nodes : 1;
	res->have_store = w->have_store;
	res->nnodes = w->nnodes;
	sim_store_init(&w->store, sc->store.lease_ms);
	for (unsigned n = 0; n < w->nnodes; n++) {
		snprintf(w->node[n].id, sizeof w->node[n].id, "%s",
			 w->have_store ? sim_node_name((int)n) : "gateway-1");
		if (w->have_store &&
		    sim_store_add_node(&w->store, w->node[n].id) < 0) {
			r = JV_ERR_STATE;
			goto out;
		}
	}
	sim_check_init(&res->check, &sc->policy[SIM_CLIENT],
		       &sc->policy[SIM_GATEWAY]);
	w->out = calloc(1, sizeof *w->out);
	w->hashlog = calloc(1, sizeof *w->hashlog);
	if (sc->sink_fail)
		w->faillog = calloc(1, sizeof *w->faillog);
	if (!w->out || !w->hashlog || (sc->sink_fail && !w->faillog) ||
	    sim_queue_init(&w->q, 1024)) {
		r = JV_ERR_NOMEM;
		goto out;
	}
	crypto_generichash_init(&w->hash, NULL, 0, sizeof res->event_hash);
	jv_eventlog_init(w->hashlog, (struct jv_sink){ hash_sink, w });
	if (w->faillog)
		jv_eventlog_init(w->faillog,
				 (struct jv_sink){ failing_sink, NULL });
	jv_seeded_rng_init(&w->client_rng,
			   sim_rand_derive(w->seed, "engine/client"));
	sim_rand_init(&w->attacker, w->seed, "attacker");
	derive_key(w->seed, "key/client", w->client_sk, w->client_pk);
	derive_key(w->seed, "key/gateway", w->gw_sk, w->gw_pk);

	r = setup_paths(w);
	if (!r)
		r = setup_traffic(w);
	if (r)
		goto out;
	/* LIV-10's ground truth.  With two nodes a transport to the node
	 * that does not hold the session carries nothing for it until a
	 * takeover (LIV-11's case): LIV-10 is not checked there. */
	for (unsigned p = 0; p < w->npaths; p++)
		liv10_update(w, p);
	if (w->nnodes > 1)
		sim_check_gateway_fault(&res->check);
	for (size_t i = 0; i < sc->nactions; i++)
		push(w, sc->actions[i].at, EV_ACTION, (uint32_t)i, 0);
	for (unsigned n = 0; n < w->nnodes; n++)
		if (node_start(w, n))
			goto out;
	if (client_create(w))
		goto out;

	while (!w->failed && sim_queue_pop(&w->q, &e)) {
		if (e.at > w->end)
			break;
		w->now = e.at;
		res->steps++;
		step(w, &e);
		sim_check_time(&res->check, w->now);
		if (w->have_store)
			check_dual(w);
	}
	if (!w->failed) {
		w->now = w->end;
		/* A clean shutdown: what the nodes hold goes out. */
		for (unsigned n = 0; n < w->nnodes; n++)
			if (w->node[n].nheld)
				release(w, n);
		sim_check_time(&res->check, w->end);
		if (res->have_up)
			sim_meter_finish(&res->up, sc->traffic.stop_ms);
		if (res->have_down)
			sim_meter_finish(&res->down, sc->traffic.stop_ms);
		final_state(w);
	}
	res->rec.end = w->end;
	res->ran = !w->failed;
	for (unsigned p = 0; p < w->npaths; p++) {
		res->paths[p].up = w->path[p].d[0].link.st;
		res->paths[p].down = w->path[p].d[1].link.st;
	}
	res->sink_failures = w->faillog ? w->faillog->sink_failures : 0;
	res->store = w->store.st;
	crypto_generichash_final(&w->hash, res->event_hash,
				 sizeof res->event_hash);
out:
	if (!r && w->failed)
		r = JV_ERR_STATE;
	if (r == JV_ERR_NOMEM)
		snprintf(res->error, sizeof res->error, "out of memory");
	world_free(w);
	free(w);
	return r;
}
