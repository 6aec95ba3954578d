/* SPDX-License-Identifier: MIT */
/*
 * The engines of bench/loadgen and the loop that drives them: the same
 * calls as the real client (src/daemon/dmn_client.c), N times over.
 *
 * Sockets.  A path is one socket per source address, shared by every
 * engine whose number falls on it (engine i uses source i % nlocal), not
 * one socket per engine: 10 000 sessions on 20 000 sockets would measure
 * the kernel's socket lookup and our epoll, not the gateway.  Several
 * source addresses per path because a gateway under handshake load
 * charges each proven source address GW_SOURCE_HS_RATE (10/s) handshakes
 * (srclimit.h, keyed by address, not port): with one address the setup
 * would measure that limit, with 128 the global HandshakesPerSecond.
 *
 * Demultiplexing.  Every datagram to a client carries the receiver index
 * the client chose (the initiation's sender index; the response has it
 * at offset 8, cookie replies, data and control at 4), so a hash map of
 * index -> engine finds its engine in O(1), as the gateway does.  The
 * map learns an engine's index from the initiations it emits.  Two
 * engines may draw the same index (about 1 % of runs at 10 000 sessions):
 * the second one's initiation is not sent and that engine starts again
 * with another rng stream.
 *
 * Timers.  Each engine's next deadline (jv_client_deadline, or its next
 * echo request) sits in a min-heap, so a loop iteration costs O(log N)
 * per engine that is due, never a scan of N engines.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <sodium.h>

#include "jvpn/event.h"
#include "jvpn/noise.h"
#include "jvpn/wire.h"
#include "lg.h"
#include "net/clock.h"
#include "net/netaddr.h"

enum {
	LG_DUE_MAX = 4096,	/* engines run per step before reading sockets */
	LG_ECHO_BURST = 64,	/* echo requests of one engine per run */
	LG_RX_BATCHES = 8,	/* recvmmsg rounds per socket per step */
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void lg_client_key(uint64_t seed, uint32_t i, uint8_t priv[32],
		   uint8_t pub[32])
{
	uint8_t in[16 + 8 + 4] = "jvpn-loadgen-key";

	for (int b = 0; b < 8; b++)
		in[16 + b] = (uint8_t)(seed >> (8 * b));
	for (int b = 0; b < 4; b++)
		in[24 + b] = (uint8_t)(i >> (8 * b));
	crypto_generichash(priv, 32, in, sizeof in, NULL, 0);
	priv[0] &= 248;			/* X25519 clamping, as jvpn genkey */
	priv[31] = (priv[31] & 127) | 64;
	(void)crypto_scalarmult_base(pub, priv);
}

/* The rng of engine i's stream s: from the seed, i and s only, so a run
 * is reproducible whatever order the engines start in. */
static uint64_t rng_seed(uint64_t seed, uint32_t i, unsigned s)
{
	uint8_t in[16 + 8 + 4 + 1] = "jvpn-loadgen-rng", h[8];
	uint64_t v = 0;

	for (int b = 0; b < 8; b++)
		in[16 + b] = (uint8_t)(seed >> (8 * b));
	for (int b = 0; b < 4; b++)
		in[24 + b] = (uint8_t)(i >> (8 * b));
	in[28] = (uint8_t)s;
	crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
	for (int b = 0; b < 8; b++)
		v |= (uint64_t)h[b] << (8 * b);
	return v;
}

/* ---- events ---------------------------------------------------------------- */

static int path_of(const char *id)
{
	if (!id || id[0] != 'p' || id[1] < '0' || id[1] >= '0' + LG_PATHS_MAX ||
	    id[2])
		return -1;
	return id[1] - '0';
}

/* Only notes what the engine says; the loop reads it after the call
 * (an event callback must not call back into the engine). */
static void on_event(void *ud, const struct jv_event_origin *origin,
		     const struct jv_event *ev)
{
	struct lg_eng *e = ud;

	(void)origin;
	switch (ev->type) {
	case JV_EV_TRANSPORT_ATTACHED:
		if (JV_EV_HAS(ev, transport_id))
			e->bound = (int8_t)path_of(ev->transport_id);
		break;
	case JV_EV_TRANSPORT_SWITCH:
		if (JV_EV_HAS(ev, new_transport))
			e->bound = (int8_t)path_of(ev->new_transport);
		break;
	case JV_EV_SESSION_TERMINATED:
		if (JV_EV_HAS(ev, reason_code))
			e->end_reason = ev->reason_code;
		break;
	default:
		break;
	}
}

/* ---- output ----------------------------------------------------------------- */

static struct lg_sock *sock_of(struct lg *g, uint32_t i, unsigned path)
{
	return &g->sock[g->first_sock[path] +
			i % g->o->path[path].nlocal];
}

static void sock_flush(struct lg *g, struct lg_sock *s)
{
	struct jv_udp_txres res;
	bool gso = false;	/* one datagram per message: the gateway must
				 * see the same packets with 1 session as with
				 * N (a GSO run only forms within one socket) */

	if (!s->ntx)
		return;
	jv_udp_send(s->p.fd, &gso, s->tx, s->ntx, &res);
	g->n.tx += res.sent;
	g->n.tx_dropped += res.dropped;
	if (res.dropped && jv_udp_err_is_hard(res.sys))
		g->n.tx_errors++;
	s->ntx = 0;
}

void lg_flush(struct lg *g)
{
	for (unsigned k = 0; k < g->nsock; k++)
		sock_flush(g, &g->sock[k]);
}

static void restart(struct lg *g, uint32_t i, jv_time now);

/* The initiation engine i just made: learn its index.  False: the index
 * is another engine's (do not send it). */
static bool learn_index(struct lg *g, uint32_t i, const struct jv_dgram *d)
{
	struct lg_eng *e = &g->eng[i];
	uint32_t idx = le32(d->buf + 4);
	uint32_t owner = lg_idxmap_get(&g->map, idx);

	g->n.initiations++;
	if (g->cut_on)
		g->n.cut_initiations++;
	if (!g->first_hs_ms)
		g->first_hs_ms = jv_clock_now();
	if (owner == i)
		return true;
	if (e->index)
		lg_idxmap_del(&g->map, e->index);
	e->index = 0;
	if (owner != UINT32_MAX || !lg_idxmap_put(&g->map, idx, i)) {
		g->n.collisions++;
		return false;
	}
	e->index = idx;
	return true;
}

/* Send what engine i put in g->out, count the echo replies. */
static void take_out(struct lg *g, uint32_t i, jv_time now)
{
	struct lg_eng *e = &g->eng[i];
	struct jv_out *o = &g->out;
	bool collided = false;

	g->n.out_overflow += o->overflow;
	for (unsigned k = 0; k < o->ndgram; k++) {
		const struct jv_dgram *d = &o->dgram[k];
		struct lg_sock *s;

		if (d->path < 0 || (unsigned)d->path >= g->o->npaths)
			continue;
		if (d->buf[0] == JV_MSG_INITIATION &&
		    d->len == JV_WIRE_INITIATION_SIZE && !learn_index(g, i, d)) {
			collided = true;
			continue;
		}
		s = sock_of(g, i, (unsigned)d->path);
		if (s->ntx == JV_UDP_BATCH)
			sock_flush(g, s);
		memcpy(s->buf[s->ntx], d->buf, d->len);
		s->tx[s->ntx] = (struct jv_udp_tx){
			.buf = s->buf[s->ntx], .len = d->len,
			.to = &s->p.remote, .from = NULL,
		};
		s->ntx++;
	}
	for (unsigned k = 0; k < o->ninner; k++) {
		const struct jv_inner *in = &o->inner[k];
		uint16_t seq;

		if (lg_echo_reply_ok(in->buf, in->len, lg_inner_addr(i),
				     g->o->gw_inner, (uint16_t)i, &seq)) {
			/* only answers to requests of the hold window */
			if (g->counting_echo &&
			    (uint16_t)(seq - e->hold_seq) < 32768) {
				e->got_reply = true;
				g->n.echo_ok++;
			}
		} else {
			g->n.echo_bad++;
		}
	}
	jv_out_reset(o);
	if (collided)
		restart(g, i, now);
}

/* ---- engine state ------------------------------------------------------------ */

static double echo_gap_ms(const struct lg *g)
{
	return 1000.0 / g->o->pps;
}

static void reschedule(struct lg *g, uint32_t i)
{
	struct lg_eng *e = &g->eng[i];
	jv_time t;

	if (!e->c || e->phase == LG_E_REFUSED || e->phase == LG_E_ENDED) {
		lg_heap_set(&g->heap, i, JV_TIME_NEVER);
		return;
	}
	t = jv_client_deadline(e->c);
	if (e->phase == LG_E_UP && g->o->pps > 0 && e->echo_next_ms < (double)t)
		t = (jv_time)e->echo_next_ms;
	lg_heap_set(&g->heap, i, t);
}

/* After every call into engine i: what changed. */
static void after(struct lg *g, uint32_t i, jv_time now)
{
	struct lg_eng *e = &g->eng[i];
	enum jv_state st = e->c ? jv_client_state(e->c) : JV_STATE_TERMINATED;

	if (st != e->st) {
		e->st = (uint8_t)st;
		if (st == JV_STATE_ATTACHED && e->phase == LG_E_HS) {
			e->phase = LG_E_UP;
			e->attached_ms = now;
			g->last_attach_ms = now;
			g->n.established++;
			/* spread the first echo over one period, so N
			 * sessions do not send in step */
			e->echo_next_ms = (double)now + (g->o->pps > 0 ?
				echo_gap_ms(g) * randombytes_uniform(1000) / 1000.0 : 0);
		} else if (st == JV_STATE_TERMINATED) {
			if (e->phase == LG_E_UP && !g->ending) {
				g->n.ended++;
				if (g->cut_on)
					g->n.cut_ended++;
			} else if (e->phase == LG_E_HS) {
				g->n.refused_terminated++;
			}
			e->phase = LG_E_ENDED;
			if (e->index)
				lg_idxmap_del(&g->map, e->index);
			e->index = 0;
		}
	}
	if (g->cut_on && e->cut_affected && !e->cut_done &&
	    st == JV_STATE_ATTACHED && e->bound >= 0 &&
	    (unsigned)e->bound != g->o->cut_path) {
		e->cut_done = true;
		e->cut_back_ms = now;
	}
	reschedule(g, i);
}

static int engine_new(struct lg *g, uint32_t i, char *why, size_t n)
{
	struct lg_eng *e = &g->eng[i];
	uint8_t pub[32];
	char node[JV_NODE_ID_MAX];
	struct jv_client_config cc = {
		.policy = &g->policy,
		.node_id = node,
		.on_event = on_event,
		.ud = e,
	};

	snprintf(node, sizeof node, "loadgen-%05u", i);
	jv_seeded_rng_init(&e->rng, rng_seed(g->o->seed, i, e->stream));
	cc.rng = jv_seeded_rng(&e->rng);
	lg_client_key(g->o->seed, i, cc.private_key, pub);
	memcpy(cc.gateway_public, g->o->gw_pub, 32);
	e->c = jv_client_new(&cc);
	sodium_memzero(cc.private_key, sizeof cc.private_key);
	if (!e->c) {
		snprintf(why, n, "the engine refused client %u (out of memory?)", i);
		return -1;
	}
	for (unsigned p = 0; p < g->o->npaths; p++) {
		char id[16];
		int rc;

		snprintf(id, sizeof id, "p%u", p);
		rc = jv_client_add_transport(e->c, id, JV_PROTO_UDP, p);
		if (rc < 0 || jv_client_set_remote(e->c, rc, &g->o->path[p].gw)) {
			snprintf(why, n, "the engine refused transport %s: %s", id,
				 jv_strerror(rc < 0 ? rc : JV_ERR_INVAL));
			return -1;
		}
	}
	e->st = JV_STATE_BIRTH;
	e->bound = -1;
	e->phase = LG_E_HS;
	return 0;
}

static void engine_start(struct lg *g, uint32_t i, jv_time now)
{
	char why[160];

	if (engine_new(g, i, why, sizeof why)) {
		fprintf(stderr, "loadgen: %s\n", why);
		g->eng[i].phase = LG_E_REFUSED;
		g->n.restarts_failed++;
		return;
	}
	jv_out_reset(&g->out);
	if (jv_client_start(g->eng[i].c, now, &g->out))
		fprintf(stderr, "loadgen: client %u: the handshake did not start\n", i);
	take_out(g, i, now);
	after(g, i, now);
}

void lg_start(struct lg *g, uint32_t i, jv_time now)
{
	g->n.started++;
	engine_start(g, i, now);
}

/* Engine i drew another engine's index: the same client (same key) again
 * from another rng stream.  Bounded, and at most once per call. */
static void restart(struct lg *g, uint32_t i, jv_time now)
{
	struct lg_eng *e = &g->eng[i];

	jv_client_free(e->c);
	e->c = NULL;
	if (++e->stream >= LG_RESTARTS_MAX) {
		e->phase = LG_E_REFUSED;
		g->n.restarts_failed++;
		lg_heap_set(&g->heap, i, JV_TIME_NEVER);
		return;
	}
	engine_start(g, i, now);
}

void lg_stop(struct lg *g, uint32_t i)
{
	struct lg_eng *e = &g->eng[i];

	if (e->index)
		lg_idxmap_del(&g->map, e->index);
	e->index = 0;
	jv_client_free(e->c);
	e->c = NULL;
	e->phase = LG_E_REFUSED;
	lg_heap_set(&g->heap, i, JV_TIME_NEVER);
}

void lg_terminate_all(struct lg *g, jv_time now)
{
	g->ending = true;
	for (uint32_t i = 0; i < g->o->n; i++) {
		struct lg_eng *e = &g->eng[i];

		if (!e->c || e->phase != LG_E_UP)
			continue;
		jv_out_reset(&g->out);
		(void)jv_client_terminate(e->c, now, &g->out);
		take_out(g, i, now);
	}
	lg_flush(g);
}

/* ---- the loop ----------------------------------------------------------------- */

static void send_echo(struct lg *g, uint32_t i, jv_time now)
{
	struct lg_eng *e = &g->eng[i];
	uint8_t pkt[LG_ECHO_LEN];
	double gap = echo_gap_ms(g);

	/* far behind (a slow loop): skip ahead rather than burst */
	if (e->echo_next_ms + 1000 < (double)now)
		e->echo_next_ms = (double)now;
	for (int k = 0; k < LG_ECHO_BURST && e->echo_next_ms <= (double)now;
	     k++) {
		e->echo_next_ms += gap;
		if (e->st == JV_STATE_TERMINATED)
			break;
		lg_echo_request(pkt, lg_inner_addr(i), g->o->gw_inner,
				(uint16_t)i, e->seq++);
		if (g->out.ndgram >= JV_OUT_DGRAMS - 1)
			take_out(g, i, now);
		if (jv_client_send(e->c, pkt, sizeof pkt, now, &g->out)) {
			g->n.echo_no_binding++;
			continue;
		}
		if (g->counting_echo)
			g->n.echo_sent++;
	}
}

static void run_due(struct lg *g, uint32_t i, jv_time now)
{
	struct lg_eng *e = &g->eng[i];

	jv_out_reset(&g->out);
	if (e->phase == LG_E_UP && g->o->pps > 0 &&
	    e->echo_next_ms <= (double)now)
		send_echo(g, i, now);
	if (e->c && jv_client_deadline(e->c) <= now &&
	    jv_client_tick(e->c, now, &g->out))
		fprintf(stderr, "loadgen: client %u: tick failed\n", i);
	take_out(g, i, now);
	if (e->c)
		after(g, i, now);
}

static void take_datagram(struct lg *g, unsigned path, const struct jv_udp_rx *m,
			  jv_time now)
{
	unsigned at = m->buf[0] == JV_MSG_RESPONSE ? 8 : 4;
	uint32_t i;

	if (m->len < at + 4) {
		g->n.rx_short++;
		return;
	}
	i = lg_idxmap_get(&g->map, le32(m->buf + at));
	if (i == UINT32_MAX || !g->eng[i].c) {
		g->n.rx_unknown_index++;
		return;
	}
	jv_out_reset(&g->out);
	if (jv_client_recv(g->eng[i].c, (int)path, m->buf, m->len, now,
			   &g->out))
		g->n.rx_dropped++;
	take_out(g, i, now);
	if (g->eng[i].c)
		after(g, i, now);
}

static void read_sock(struct lg *g, struct lg_sock *s)
{
	for (int b = 0; b < LG_RX_BATCHES; b++) {
		int sys = 0;
		uint64_t foreign = g->rx->foreign;
		unsigned got = jv_udp_path_recv(&s->p, g->rx, &sys);
		jv_time now = jv_clock_now();

		g->n.rx_foreign += g->rx->foreign - foreign;
		g->rx->foreign = foreign;
		for (unsigned k = 0; k < got; k++)
			take_datagram(g, s->path, &g->rx->msg[k], now);
		g->n.rx += got;
		if (!g->rx->more)
			break;
	}
}

void lg_step(struct lg *g, jv_time until)
{
	struct epoll_event ev[64];
	jv_time now = jv_clock_now();
	int timeout, n;

	/* Datagrams first, then timers: when the loop runs late, an answer
	 * that is already queued must reach its engine before that engine's
	 * retry timer replaces the handshake it answers. */
	if (lg_heap_top_key(&g->heap) < until)
		until = lg_heap_top_key(&g->heap);
	timeout = until <= now ? 0 : until - now > 1000 ? 1000 : (int)(until - now);
	n = epoll_wait(g->ep, ev, 64, timeout);
	for (int k = 0; k < n; k++)
		read_sock(g, &g->sock[ev[k].data.u32]);
	now = jv_clock_now();
	for (int k = 0; k < LG_DUE_MAX && lg_heap_top_key(&g->heap) <= now; k++)
		run_due(g, lg_heap_top(&g->heap), now);
	lg_flush(g);
}

/* ---- set-up --------------------------------------------------------------------- */

int lg_open(struct lg *g, const struct lg_opts *o)
{
	memset(g, 0, sizeof *g);
	g->o = o;
	g->ep = -1;
	if (lg_policy_of_config(o))
		g->policy = o->cfg_policy;
	else if (jv_policy_profile(&g->policy, o->policy, NULL))
		return fprintf(stderr, "loadgen: no profile %s\n", o->policy), -1;
	g->eng = calloc(o->n, sizeof *g->eng);
	g->rx = calloc(1, sizeof *g->rx);
	if (!g->eng || !g->rx || lg_idxmap_init(&g->map, o->n) ||
	    lg_heap_init(&g->heap, o->n))
		return fprintf(stderr, "loadgen: out of memory for %u engines\n",
			       o->n), -1;
	for (unsigned p = 0; p < o->npaths; p++)
		g->nsock += o->path[p].nlocal;
	g->sock = calloc(g->nsock, sizeof *g->sock);
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!g->sock || g->ep < 0)
		return fprintf(stderr, "loadgen: sockets: %s\n", strerror(errno)), -1;
	for (unsigned k = 0; k < g->nsock; k++)
		g->sock[k].p.fd = -1;
	for (unsigned p = 0, k = 0; p < o->npaths; p++) {
		g->first_sock[p] = k;
		for (unsigned l = 0; l < o->path[p].nlocal; l++, k++) {
			struct lg_sock *s = &g->sock[k];
			struct jv_net_err err = { 0 };
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = k };
			char a[JV_NETADDR_STR_MAX];

			s->path = p;
			if (jv_udp_path_open(&s->p, &o->path[p].gw,
					     &o->path[p].local[l], NULL, &err))
				return fprintf(stderr, "loadgen: path %u source %s: %s\n",
					       p, jv_netaddr_str(&o->path[p].local[l], a),
					       err.msg), -1;
			if (epoll_ctl(g->ep, EPOLL_CTL_ADD, s->p.fd, &ev))
				return fprintf(stderr, "loadgen: epoll: %s\n",
					       strerror(errno)), -1;
		}
	}
	return 0;
}

void lg_close(struct lg *g)
{
	if (g->eng)
		for (uint32_t i = 0; i < g->o->n; i++)
			jv_client_free(g->eng[i].c);
	for (unsigned k = 0; g->sock && k < g->nsock; k++)
		jv_udp_path_close(&g->sock[k].p);
	if (g->ep >= 0)
		close(g->ep);
	free(g->eng);
	free(g->sock);
	free(g->rx);
	lg_idxmap_free(&g->map);
	lg_heap_free(&g->heap);
}
