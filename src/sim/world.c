/* SPDX-License-Identifier: MIT */
/* The run loop and the node drivers of the simulator. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jvpn/eventlog.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"
#include "sim/addr.h"
#include "sim/queue.h"
#include "sim/rand.h"
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
};

enum {
	RING = 16,		/* datagrams the attacker keeps per link */
	MODS = 8,		/* pending "next N" modifications per link */
	SAME_MS_TICKS_MAX = 100000,	/* livelock guard */
	CLIENT_PORT_BASE = 50000,
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

struct path {
	struct dirstate d[2];		/* 0 up, 1 down */
	struct jv_addr addr;		/* apparent client address now */
	struct jv_addr gw;		/* gateway address of this path */
	bool hard_down;
	int client_index;
	unsigned nat_count;
};

struct world {
	const struct sim_scenario *sc;
	const struct sim_run_opts *o;
	struct sim_result *res;
	uint64_t seed;
	jv_time now, end;
	struct sim_queue q;
	struct pool pool;
	struct path path[SIM_TRANSPORTS_MAX];
	unsigned npaths;
	struct jv_client *client;
	struct jv_gateway *gw;
	struct jv_seeded_rng client_rng, gw_rng;
	struct sim_rand attacker;
	uint8_t client_sk[32], client_pk[32], gw_sk[32], gw_pk[32];
	uint32_t peer;
	unsigned restarts;
	jv_time tick_at[SIM_SIDES];
	jv_time same_ms_at[SIM_SIDES];
	unsigned same_ms_ticks[SIM_SIDES];
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

	if (sim_record_add(&w->res->rec, side, sid, ev) == JV_ERR_NOMEM)
		fail(w, "out of memory (event record)");
	sim_check_event(&w->res->check, side, sid, ev);
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

static void gateway_event(void *ud, const struct jv_event_origin *origin,
			  const struct jv_event *ev)
{
	on_event(ud, SIM_GATEWAY, origin, ev);
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
		if (--m->left == 0)
			d->mods[i] = d->mods[--d->nmods];
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

static void flush(struct world *w, enum sim_side side)
{
	struct jv_out *o = w->out;

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
			if (p < 0) {
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

static void reschedule(struct world *w, enum sim_side side)
{
	jv_time d;

	if (side == SIM_CLIENT)
		d = w->client ? jv_client_deadline(w->client) : JV_TIME_NEVER;
	else
		d = jv_gateway_deadline(w->gw);
	if (d == JV_TIME_NEVER) {
		w->tick_at[side] = JV_TIME_NEVER;
		return;
	}
	if (d < w->now)
		d = w->now;
	if (d == w->tick_at[side])
		return;
	w->tick_at[side] = d;
	push(w, d, side == SIM_CLIENT ? EV_TICK_CLIENT : EV_TICK_GATEWAY, 0, 0);
}

/* After every engine call: outputs, the commit, the next tick. */
static void done(struct world *w, enum sim_side side)
{
	w->res->engine_calls++;
	flush(w, side);
	sim_check_commit(&w->res->check, side, w->now);
	reschedule(w, side);
}

static void client_tick(struct world *w)
{
	if (!w->client)
		return;
	if (w->same_ms_at[SIM_CLIENT] == w->now) {
		if (++w->same_ms_ticks[SIM_CLIENT] > SAME_MS_TICKS_MAX) {
			fail(w, "client engine livelock: its deadline stays "
			     "at %" PRIu64, w->now);
			return;
		}
	} else {
		w->same_ms_at[SIM_CLIENT] = w->now;
		w->same_ms_ticks[SIM_CLIENT] = 0;
	}
	if (jv_client_tick(w->client, w->now, w->out) < 0)
		fail(w, "jv_client_tick failed");
	done(w, SIM_CLIENT);
}

static void gateway_tick(struct world *w)
{
	int r;

	if (w->same_ms_at[SIM_GATEWAY] == w->now) {
		if (++w->same_ms_ticks[SIM_GATEWAY] > SAME_MS_TICKS_MAX) {
			fail(w, "gateway engine livelock: its deadline stays "
			     "at %" PRIu64, w->now);
			return;
		}
	} else {
		w->same_ms_at[SIM_GATEWAY] = w->now;
		w->same_ms_ticks[SIM_GATEWAY] = 0;
	}
	/* 1: the output filled before every due timer ran; flush, again. */
	for (int i = 0; i < 1000; i++) {
		r = jv_gateway_tick(w->gw, w->now, w->out);
		if (r < 0)
			fail(w, "jv_gateway_tick failed");
		w->res->engine_calls++;
		flush(w, SIM_GATEWAY);
		if (r != 1)
			break;
	}
	sim_check_commit(&w->res->check, SIM_GATEWAY, w->now);
	reschedule(w, SIM_GATEWAY);
}

static void deliver_up(struct world *w, uint32_t s)
{
	struct slot *sl = &w->pool.s[s];

	(void)jv_gateway_recv(w->gw, sl->path, &sl->from, sl->buf, sl->len,
			      w->now, w->out);
	slot_free(w, s);
	done(w, SIM_GATEWAY);
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
		done(w, SIM_CLIENT);
}

/* ---- endpoints ---------------------------------------------------------- */

static int client_create(struct world *w)
{
	const struct sim_scenario *sc = w->sc;
	struct jv_client_config cfg = {
		.policy = &sc->policy[SIM_CLIENT],
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
			flush(w, SIM_CLIENT);
		}
	if (jv_client_start(w->client, w->now, w->out)) {
		fail(w, "jv_client_start failed");
		return JV_ERR_STATE;
	}
	done(w, SIM_CLIENT);
	return 0;
}

static int gateway_create(struct world *w)
{
	const struct sim_scenario *sc = w->sc;
	struct jv_gateway_config cfg = {
		.policy = &sc->policy[SIM_GATEWAY],
		.node_id = "gateway-1",
		.rng = jv_seeded_rng(&w->gw_rng),
		.on_event = gateway_event,
		.ud = w,
		.max_sessions = sc->gateway.max_sessions,
		.handshakes_per_sec = sc->gateway.handshakes_per_sec,
		.handshake_burst = sc->gateway.handshake_burst,
	};
	int peer;

	memcpy(cfg.private_key, w->gw_sk, 32);
	w->gw = jv_gateway_new(&cfg);
	sodium_memzero(cfg.private_key, sizeof cfg.private_key);
	if (!w->gw) {
		fail(w, "jv_gateway_new refused the gateway (policy or "
		     "memory)");
		return JV_ERR_STATE;
	}
	peer = jv_gateway_add_peer(w->gw, w->client_pk);
	if (peer < 0) {
		fail(w, "jv_gateway_add_peer: %s", jv_strerror(peer));
		return JV_ERR_STATE;
	}
	w->peer = (uint32_t)peer;
	return 0;
}

/* ---- traffic ------------------------------------------------------------ */

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
			done(w, SIM_CLIENT);
		}
	} else {
		(void)jv_gateway_send(w->gw, w->peer, w->pkt, (size_t)len,
				      w->now, w->out);
		done(w, SIM_GATEWAY);
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
	(void)jv_gateway_send(w->gw, w->peer, w->pkt, (size_t)len, w->now,
			      w->out);
	done(w, SIM_GATEWAY);
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
		from = a->has_addr ? a->addr :
		       a->from_path >= 0 ? w->path[a->from_path].addr :
		       pa->addr;
		(void)jv_gateway_recv(w->gw, (uint32_t)a->path, &from, buf,
				      r->len, w->now, w->out);
		done(w, SIM_GATEWAY);
	} else if (w->client) {
		(void)jv_client_recv(w->client, pa->client_index, buf, r->len,
				     w->now, w->out);
		done(w, SIM_CLIENT);
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
		if (a->hard && !pa->hard_down) {
			pa->hard_down = true;
			if (w->client) {
				rc = jv_client_path_down(w->client,
							 pa->client_index,
							 w->now, w->out);
				done(w, SIM_CLIENT);
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
				done(w, SIM_CLIENT);
			}
		}
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
		break;
	case SIM_ACT_SWITCH:
		if (w->client) {
			rc = jv_client_request_switch(w->client, name, w->now,
						      w->out);
			done(w, SIM_CLIENT);
		}
		break;
	case SIM_ACT_TERMINATE:
		if (a->side == SIM_CLIENT && w->client) {
			rc = jv_client_terminate(w->client, w->now, w->out);
			done(w, SIM_CLIENT);
		} else if (a->side == SIM_GATEWAY) {
			rc = jv_gateway_terminate(w->gw, w->peer, w->now,
						  w->out);
			done(w, SIM_GATEWAY);
		}
		break;
	case SIM_ACT_RESTART:
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
		if (e->at == w->tick_at[SIM_CLIENT]) {
			w->tick_at[SIM_CLIENT] = JV_TIME_NEVER;
			client_tick(w);
		}
		break;
	case EV_TICK_GATEWAY:
		if (e->at == w->tick_at[SIM_GATEWAY]) {
			w->tick_at[SIM_GATEWAY] = JV_TIME_NEVER;
			gateway_tick(w);
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
	if (jv_gateway_status(w->gw, w->peer, &st) == 0) {
		res->rec.final_known[SIM_GATEWAY] = true;
		res->rec.final_state[SIM_GATEWAY] = st.state;
		res->rec.final_version[SIM_GATEWAY] = st.state_version;
		sim_check_engine(&res->check, SIM_GATEWAY, st.session_id,
				 st.state, st.state_version, w->now);
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
	jv_gateway_free(w->gw);
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
	w->o = o;
	w->res = res;
	w->seed = o->seed_set ? o->seed : sc->seed;
	w->end = sc->duration_ms;
	w->pool.free_head = NO_SLOT;
	w->tick_at[0] = w->tick_at[1] = JV_TIME_NEVER;
	w->same_ms_at[0] = w->same_ms_at[1] = JV_TIME_NEVER;
	res->seed = w->seed;
	res->npaths = sc->ntransports;
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
	jv_seeded_rng_init(&w->gw_rng,
			   sim_rand_derive(w->seed, "engine/gateway"));
	sim_rand_init(&w->attacker, w->seed, "attacker");
	derive_key(w->seed, "key/client", w->client_sk, w->client_pk);
	derive_key(w->seed, "key/gateway", w->gw_sk, w->gw_pk);

	r = setup_paths(w);
	if (!r)
		r = setup_traffic(w);
	if (r)
		goto out;
	for (size_t i = 0; i < sc->nactions; i++)
		push(w, sc->actions[i].at, EV_ACTION, (uint32_t)i, 0);
	if (gateway_create(w) || client_create(w))
		goto out;

	while (!w->failed && sim_queue_pop(&w->q, &e)) {
		if (e.at > w->end)
			break;
		w->now = e.at;
		res->steps++;
		step(w, &e);
		sim_check_time(&res->check, w->now);
	}
	if (!w->failed) {
		w->now = w->end;
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
