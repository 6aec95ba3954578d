/* SPDX-License-Identifier: MIT */
/*
 * Junk never moves a session (issue 10, D-018).  Anyone can put any datagram
 * in front of either end, from any address, the binding's included (a
 * source address is no authentication).  So nothing a datagram that fails
 * authentication, or a verbatim copy of one that passed, may move what a
 * decision depends on: the state and its version, the binding, the health
 * of any path, the key epoch, the counter window, the control buckets, the
 * security failure count.  What does count toward MAX_SECURITY_FAILURES is
 * what only a holder of the keys can produce: a request sealed anew that
 * reuses an accepted nonce.  And junk must stay cheap: a claim of the next
 * key epoch costs no key derivation per packet, and a counter jump costs the
 * client's loss tracker no more than its window.
 *
 * The harness is the one of engine_review_test.c, capturing every datagram
 * both ways for copies and forgeries.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/client_impl.h"
#include "jvpn/eventlog.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

enum {
	NPATHS = 2, QMAX = 2048, EVMAX = 4096, DELAY_MS = 10, T0 = 1000000,
	SPIN_MAX = 1000,	/* calls at one `now` before we call it a spin */
	CAPMAX = 256,
};

/* Helpers not every test uses. */
#define MAYBE_UNUSED __attribute__((unused))

struct pkt {
	jv_time at;
	bool to_gw;
	int path;
	struct jv_addr from;	/* to_gw: the source the gateway sees */
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct rec {
	enum jv_event_type type;
	enum jv_reason reason;
	enum jv_state prev, next;
	jv_time ts;
	uint64_t version;
	char marker[16];	/* freshness_marker_type */
	char session[JV_SESSION_ID_HEX];
};

struct side {
	struct rec ev[EVMAX];
	unsigned nev;
	unsigned bad;		/* events the event log refused */
	unsigned long total;	/* including those past EVMAX */
	char why[256];
};

struct lab {
	struct jv_seeded_rng crng, grng;
	struct jv_policy pol;
	struct jv_client *c;
	struct jv_gateway *g;
	struct jv_addr caddr[NPATHS], gaddr;
	bool cut_up[NPATHS], cut_down[NPATHS];
	struct pkt q[QMAX];
	unsigned nq;
	jv_time now;
	struct side cs, gs;
	struct jv_out out;
	unsigned delivered_to_gw, delivered_to_client;
	/* every datagram sent while capture is on, for copies and forgeries */
	bool capture;
	struct pkt cap[CAPMAX];
	unsigned ncap;
	jv_time spin_at;
	unsigned spins;
	bool spun;
};

static void record(void *ud, const struct jv_event_origin *o,
		   const struct jv_event *ev)
{
	struct side *sd = ud;
	char line[JV_EVENT_LINE_MAX];
	size_t len;
	char zero[65];

	memset(zero, '0', 64);
	zero[64] = 0;
	if (jv_event_format(o, ev, 0, zero, line, sizeof line, &len) != JV_OK) {
		sd->bad++;
		if (jv_event_check(ev, sd->why, sizeof sd->why) == JV_OK)
			snprintf(sd->why, sizeof sd->why, "format failed");
		fprintf(stderr, "refused %s: %s\n", jv_event_type_name(ev->type),
			sd->why);
	}
	if (getenv("JV_TEST_TRACE"))
		fprintf(stderr, "%s %llu %s\n",
			o->role == JV_ROLE_CLIENT ? "C" : "G",
			(unsigned long long)(ev->ts_ms - T0), line);
	sd->total++;
	if (sd->nev < EVMAX) {
		struct rec *r = &sd->ev[sd->nev++];
		memset(r, 0, sizeof *r);
		r->type = ev->type;
		r->reason = JV_EV_HAS(ev, reason_code) ? ev->reason_code
						       : JV_REASON_NONE;
		r->prev = JV_EV_HAS(ev, previous_state) ? ev->previous_state
							: JV_STATE_COUNT;
		r->next = JV_EV_HAS(ev, new_state) ? ev->new_state
						   : JV_STATE_COUNT;
		r->ts = ev->ts_ms;
		r->version = ev->state_version;
		if (JV_EV_HAS(ev, freshness_marker_type))
			snprintf(r->marker, sizeof r->marker, "%s",
				 ev->freshness_marker_type);
		snprintf(r->session, sizeof r->session, "%s", o->session_id);
	}
}

static void enqueue(struct lab *l, const struct jv_out *o, bool from_client)
{
	for (unsigned i = 0; i < o->ndgram; i++) {
		const struct jv_dgram *d = &o->dgram[i];
		int path = -1;

		if (from_client) {
			path = d->path;
		} else {
			for (int p = 0; p < NPATHS; p++)
				if (jv_addr_equal(&d->to, &l->caddr[p]))
					path = p;
		}
		if (path < 0 || path >= NPATHS || l->nq >= QMAX)
			continue;
		if (l->capture) {
			/* a ring of everything sent, both ways */
			struct pkt *c = &l->cap[l->ncap++ % CAPMAX];
			c->to_gw = from_client;
			c->at = l->now;
			c->path = path;
			c->len = d->len;
			memcpy(c->buf, d->buf, d->len);
		}
		if (from_client ? l->cut_up[path] : l->cut_down[path])
			continue;
		struct pkt *k = &l->q[l->nq++];
		k->at = l->now + DELAY_MS;
		k->to_gw = from_client;
		k->path = path;
		k->from = l->caddr[path];
		k->len = d->len;
		memcpy(k->buf, d->buf, d->len);
	}
}

static void deliver(struct lab *l, struct pkt *k)
{
	jv_out_reset(&l->out);
	if (k->to_gw) {
		if (l->cut_up[k->path])
			return;
		l->delivered_to_gw++;
		(void)jv_gateway_recv(l->g, 0, &k->from, k->buf, k->len, l->now,
				      &l->out);
		enqueue(l, &l->out, false);
	} else {
		if (l->cut_down[k->path])
			return;
		l->delivered_to_client++;
		(void)jv_client_recv(l->c, k->path, k->buf, k->len, l->now,
				     &l->out);
		enqueue(l, &l->out, true);
	}
}

/* A deadline that does not move after the endpoint ran at it. */
static bool spin(struct lab *l, jv_time next)
{
	if (next != l->spin_at) {
		l->spin_at = next;
		l->spins = 0;
		return false;
	}
	if (++l->spins < SPIN_MAX)
		return false;
	l->spun = true;
	return true;
}

/* Advance the world to `until`, handling every packet and timer in order.
 * Stops early (l->spun) if an endpoint busy-loops. */
static void run(struct lab *l, jv_time until)
{
	for (;;) {
		jv_time next = until + 1;
		int kq = -1;

		for (unsigned i = 0; i < l->nq; i++)
			if (l->q[i].at < next) {
				next = l->q[i].at;
				kq = (int)i;
			}
		jv_time dc = jv_client_deadline(l->c);
		jv_time dg = jv_gateway_deadline(l->g);
		if (dc < next) {
			next = dc;
			kq = -2;
		}
		if (dg < next) {
			next = dg;
			kq = -3;
		}
		if (next > until)
			break;
		if (next > l->now)
			l->now = next;
		if (kq < 0 && spin(l, l->now))
			return;
		jv_out_reset(&l->out);
		if (kq >= 0) {
			struct pkt k = l->q[kq];
			l->q[kq] = l->q[--l->nq];
			deliver(l, &k);
		} else if (kq == -2) {
			assert_int_equal(jv_client_tick(l->c, l->now, &l->out), 0);
			enqueue(l, &l->out, true);
		} else {
			int rc;
			do {
				jv_out_reset(&l->out);
				rc = jv_gateway_tick(l->g, l->now, &l->out);
				enqueue(l, &l->out, false);
			} while (rc == 1);
		}
	}
	l->now = until;
}

static MAYBE_UNUSED void cut(struct lab *l, int path, bool cut_it)
{
	l->cut_up[path] = l->cut_down[path] = cut_it;
}

static MAYBE_UNUSED void path_down(struct lab *l, int path)
{
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_down(l->c, path, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
}

static MAYBE_UNUSED void path_up(struct lab *l, int path)
{
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_up(l->c, path, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
}

/* The attacker puts a datagram in front of the gateway, from `from`. */
static MAYBE_UNUSED void inject(struct lab *l, const struct pkt *k,
				const struct jv_addr *from)
{
	jv_out_reset(&l->out);
	(void)jv_gateway_recv(l->g, 0, from, k->buf, k->len, l->now, &l->out);
	/* answers go to `from`, which is not ours: dropped */
}

static struct lab *lab_new(const struct jv_policy *pol)
{
	static struct lab L;
	struct lab *l = &L;
	struct jv_noise_keypair ck, gk;
	uint8_t cpriv[32], gpriv[32];

	memset(l, 0, sizeof *l);
	l->pol = *pol;
	assert_int_equal(jv_policy_validate(&l->pol, NULL), JV_OK);
	jv_seeded_rng_init(&l->crng, 11);
	jv_seeded_rng_init(&l->grng, 22);
	memset(cpriv, 0x11, 32);
	memset(gpriv, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&ck, cpriv), 0);
	assert_int_equal(jv_noise_keypair_from_private(&gk, gpriv), 0);

	struct jv_gateway_config gc = {
		.policy = &l->pol, .node_id = "gw1",
		.rng = jv_seeded_rng(&l->grng), .on_event = record, .ud = &l->gs,
	};
	memcpy(gc.private_key, gpriv, 32);
	l->g = jv_gateway_new(&gc);
	assert_non_null(l->g);
	assert_int_equal(jv_gateway_add_peer(l->g, ck.pub), 0);

	struct jv_client_config cc = {
		.policy = &l->pol, .node_id = "cl1",
		.rng = jv_seeded_rng(&l->crng), .on_event = record, .ud = &l->cs,
	};
	memcpy(cc.private_key, cpriv, 32);
	memcpy(cc.gateway_public, gk.pub, 32);
	l->c = jv_client_new(&cc);
	assert_non_null(l->c);
	assert_int_equal(jv_client_add_transport(l->c, "p1", JV_PROTO_UDP, 1), 0);
	assert_int_equal(jv_client_add_transport(l->c, "p2", JV_PROTO_UDP, 2), 1);
	jv_addr_from_ipv4(&l->caddr[0], 0x0a000102, 40001);
	jv_addr_from_ipv4(&l->caddr[1], 0x0a000202, 40002);
	jv_addr_from_ipv4(&l->gaddr, 0x0a000101, 51820);
	l->spin_at = JV_TIME_NEVER;
	l->now = T0;
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(l->c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	return l;
}

static void lab_free(struct lab *l)
{
	jv_client_free(l->c);
	jv_gateway_free(l->g);
}

static unsigned count(const struct side *s, enum jv_event_type t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nev; i++)
		n += s->ev[i].type == t;
	return n;
}

static unsigned count_after(const struct side *s, enum jv_event_type t,
			    jv_time after)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nev; i++)
		n += s->ev[i].type == t && s->ev[i].ts > after;
	return n;
}

static uint64_t rnd(struct jv_seeded_rng *r)
{
	uint64_t v;
	struct jv_rng g = jv_seeded_rng(r);
	jv_rng_fill(&g, &v, sizeof v);
	return v;
}

/* ---- junk ------------------------------------------------------------- */

/*
 * One piece of junk for the side `to_gw` names, built from what was
 * captured: random bytes; a well-formed header for the session (its
 * receiver index, an epoch of cur - 1 .. cur + 2 or any, any counter,
 * 2^40 included) over random bytes; a captured datagram with one byte
 * flipped or its counter changed (FM-4c's forgery); a verbatim copy of a
 * datagram delivered long ago; a random handshake message.
 */
static uint16_t junk(struct lab *l, struct jv_seeded_rng *r, bool to_gw,
		     uint8_t *buf)
{
	const struct pkt *cap = NULL;
	unsigned kind = (unsigned)(rnd(r) % 6);
	uint16_t n;

	for (unsigned tries = 0; tries < 64 && !cap; tries++) {
		const struct pkt *c = &l->cap[rnd(r) % (l->ncap < CAPMAX ? l->ncap
								    : CAPMAX)];
		if (c->to_gw == to_gw && c->len > JV_WIRE_HDR_SIZE &&
		    (c->buf[0] == JV_MSG_DATA || c->buf[0] == JV_MSG_CONTROL) &&
		    c->at + 4 * DELAY_MS < l->now)
			cap = c;
	}
	assert_non_null(cap);
	if (kind == 0) {			/* random bytes */
		n = (uint16_t)(rnd(r) % 200);
		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(r);
		return n;
	}
	if (kind == 1) {			/* a handshake message */
		n = to_gw ? JV_WIRE_INITIATION_SIZE : JV_WIRE_RESPONSE_SIZE;
		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(r);
		buf[0] = to_gw ? JV_MSG_INITIATION : JV_MSG_RESPONSE;
		return n;
	}
	memcpy(buf, cap->buf, cap->len);
	n = cap->len;
	if (kind == 2) {			/* forged header, random body */
		struct jv_wire_hdr h;
		assert_int_equal(jv_wire_hdr_decode(buf, n, &h, NULL), 0);
		h.key_epoch = (uint8_t)(rnd(r) % 8 ? h.key_epoch - 1 +
						      rnd(r) % 4
						    : rnd(r));
		h.counter = rnd(r) % 4 ? (uint64_t)1 << 40 : rnd(r) % 100000;
		jv_wire_hdr_encode(&h, buf);
		for (unsigned i = JV_WIRE_HDR_SIZE; i < n; i++)
			buf[i] = (uint8_t)rnd(r);
	} else if (kind == 3) {			/* one byte flipped */
		buf[JV_WIRE_HDR_SIZE + rnd(r) % (n - JV_WIRE_HDR_SIZE)] ^=
			(uint8_t)(1 + rnd(r) % 255);
	} else if (kind == 4) {			/* a fresh random counter */
		for (unsigned i = 8; i < 16; i++)
			buf[i] = (uint8_t)rnd(r);
	}					/* kind 5: a verbatim copy */
	return n;
}

/* Everything a decision reads that jv_*_status shows, at one instant. */
static void status_of(struct lab *l, bool gw, struct jv_session_status *st)
{
	memset(st, 0, sizeof *st);
	if (gw)
		assert_int_equal(jv_gateway_status(l->g, 0, st), 0);
	else
		jv_client_status(l->c, st);
}

static enum jv_state gw_state(struct lab *l)
{
	struct jv_session_status st;
	status_of(l, true, &st);
	return st.state;
}

/* The lab up, S1 onto p2 and p1 back as a standby: requests, probes and
 * data of both ways captured. */
static struct lab *lab_with_history(struct jv_policy *pol)
{
	struct lab *l = lab_new(pol);

	l->capture = true;
	run(l, T0 + 3000);
	cut(l, 0, true);
	path_down(l, 0);
	run(l, T0 + 4000);
	cut(l, 0, false);
	path_up(l, 0);
	run(l, T0 + 6000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	return l;
}

/*
 * The gateway: 20 000 pieces of junk at one instant, from the binding's
 * address, the standby's and a stranger's, with MAX_SECURITY_FAILURES = 1.
 * Nothing it shows may move; then the client's own traffic still passes
 * (the counter window did not move), the binding still dies and is
 * replaced at once (no bucket drained), and no transition happened that
 * the client did not cause.
 */
static void gateway_junk_moves_nothing(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	pol.max_security_failures = 1;
	struct lab *l = lab_with_history(&pol);
	struct jv_seeded_rng r;
	struct jv_session_status before, after;
	struct jv_addr stranger, from[3];
	uint8_t buf[JV_DGRAM_MAX];
	unsigned changes = count(&l->gs, JV_EV_SESSION_STATE_CHANGE);

	jv_addr_from_ipv4(&stranger, 0xc6336442, 6666);
	from[0] = l->caddr[1];		/* the binding */
	from[1] = l->caddr[0];
	from[2] = stranger;
	jv_seeded_rng_init(&r, 5);
	status_of(l, true, &before);
	assert_string_equal(before.bound, "udp:10.0.2.2:40002");
	for (unsigned i = 0; i < 20000; i++) {
		uint16_t n = junk(l, &r, true, buf);
		struct pkt k = { .len = n };
		memcpy(k.buf, buf, n);
		inject(l, &k, &from[i % 3]);
	}
	status_of(l, true, &after);
	assert_memory_equal(&before, &after, sizeof before);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_STATE_CHANGE), changes);
	assert_true(count(&l->gs, JV_EV_SECURITY_VALIDATION_FAILED) >= 1);

	/* the client's traffic still opens: nothing happens for 10 s */
	run(l, T0 + 16000);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_STATE_CHANGE), changes);
	status_of(l, true, &after);
	assert_true(after.paths[0].rx_packets + after.paths[1].rx_packets >
		    before.paths[0].rx_packets + before.paths[1].rx_packets);
	/* and the binding's death is repaired at once */
	cut(l, 1, true);
	path_down(l, 1);
	run(l, T0 + 16100);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	status_of(l, true, &after);
	assert_string_equal(after.bound, "udp:10.0.1.2:40001");
	assert_int_equal(count(&l->gs, JV_EV_SESSION_TERMINATED), 0);
	assert_false(l->spun);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	lab_free(l);
}

/* The same at the client, on both of its paths. */
static void client_junk_moves_nothing(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_with_history(&pol);
	struct jv_seeded_rng r;
	struct jv_session_status before, after;
	uint8_t buf[JV_DGRAM_MAX];
	unsigned changes = count(&l->cs, JV_EV_SESSION_STATE_CHANGE);

	jv_seeded_rng_init(&r, 6);
	status_of(l, false, &before);
	for (unsigned i = 0; i < 20000; i++) {
		uint16_t n = junk(l, &r, false, buf);
		jv_out_reset(&l->out);
		(void)jv_client_recv(l->c, (int)(i % NPATHS), buf, n, l->now,
				     &l->out);
		assert_int_equal(l->out.ndgram, 0);	/* and no answer */
	}
	status_of(l, false, &after);
	assert_memory_equal(&before, &after, sizeof before);
	run(l, T0 + 16000);
	assert_int_equal(count(&l->cs, JV_EV_SESSION_STATE_CHANGE), changes);
	assert_int_equal(count(&l->gs, JV_EV_SESSION_TERMINATED), 0);
	status_of(l, false, &after);
	assert_true(after.rx_bytes > before.rx_bytes);
	assert_false(l->spun);
	lab_free(l);
}

/* ---- the key holder ----------------------------------------------------- */

/* An attacker who holds the client's private key completes a handshake of
 * its own: a session of the peer whose keys it holds (the honest client's
 * is superseded at its first packet). */
struct holder {
	uint8_t send[32], recv[32];
	uint8_t token[JV_WIRE_PATH_TOKEN_SIZE];	/* PD-10, from its ACKs */
	uint32_t gw_index;
	uint8_t sid[16];
	uint64_t counter;
	struct jv_addr addr;
};

static void holder_connect(struct lab *l, struct holder *e)
{
	struct jv_noise_static self;
	struct jv_noise_initiator hs;
	struct jv_noise_result res;
	struct jv_noise_keypair gk;
	uint8_t priv[32], buf[JV_DGRAM_MAX];
	struct jv_seeded_rng r;

	memset(e, 0, sizeof *e);
	jv_addr_from_ipv4(&e->addr, 0xcb007101, 1000);
	jv_seeded_rng_init(&r, 77);
	memset(priv, 0x11, 32);		/* the peer key the gateway allows */
	memset(buf, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&gk, buf), 0);
	assert_int_equal(jv_noise_static_init(&self, priv), 0);
	struct jv_rng rr = jv_seeded_rng(&r);
	assert_int_equal(jv_noise_initiation_create(&hs, &self, gk.pub, 4242,
						    l->now, &rr, buf), 0);
	jv_out_reset(&l->out);
	(void)jv_gateway_recv(l->g, 0, &e->addr, buf, JV_WIRE_INITIATION_SIZE,
			      l->now, &l->out);
	assert_int_equal(l->out.ndgram, 1);
	assert_int_equal(jv_noise_response_consume(&hs, l->out.dgram[0].buf,
						   l->out.dgram[0].len, &res,
						   NULL), 0);
	memcpy(e->send, res.key_i2r, 32);
	memcpy(e->recv, res.key_r2i, 32);
	memcpy(e->sid, res.session_id, 16);
	e->gw_index = res.remote_index;
	jv_noise_result_wipe(&res);
}

/* Seal m anew (a fresh counter) and send it from the holder's tuple;
 * keeps the datagram in k for copies. */
static void holder_send(struct lab *l, struct holder *e,
			const struct jv_ctrl *m, struct pkt *k)
{
	struct jv_wire_hdr h = {
		.type = JV_MSG_CONTROL, .receiver_index = e->gw_index,
		.counter = e->counter++,
	};
	int n = jv_wire_seal_ctrl(e->send, &h, m, k->buf, sizeof k->buf);

	assert_true(n > 0);
	k->len = (uint16_t)n;
	inject(l, k, &e->addr);
	/* the path token of its tuple rides on the gateway's ACKs (PD-10) */
	for (unsigned i = 0; i < l->out.ndgram; i++) {
		struct jv_ctrl a;
		if (jv_wire_open_ctrl(e->recv, l->out.dgram[i].buf,
				      l->out.dgram[i].len, &a, NULL) == 0 &&
		    (a.type == JV_CTRL_HEARTBEAT_ACK ||
		     a.type == JV_CTRL_PROBE_ACK))
			memcpy(e->token, a.hb.token, sizeof e->token);
	}
}

static void holder_request(struct lab *l, struct holder *e, uint64_t nonce,
			   struct pkt *k)
{
	struct jv_ctrl m = { .type = JV_CTRL_REATTACH_REQUEST };
	struct jv_ctrl_reattach_request *q = &m.request;
	struct jv_session_status gst;

	l->now += 1000;		/* within the control rate (V0) */
	status_of(l, true, &gst);
	memcpy(q->session_id, e->sid, 16);
	q->nonce = nonce;
	q->protocol_version = JV_PROTOCOL_VERSION;
	q->ts_ms = l->now;
	q->state_version = gst.state_version;
	q->trigger_reason = JV_REASON_NAT_REBINDING;
	q->recovery_reason = JV_REASON_LOSS_RECOVERY;
	snprintf(q->candidate.transport_id, sizeof q->candidate.transport_id,
		 "holder");
	q->candidate.proto = JV_PROTO_UDP;
	memcpy(q->path_token, e->token, sizeof q->path_token);
	holder_send(l, e, &m, k);
}

/*
 * OP-7 as D-018 reads it, MAX_SECURITY_FAILURES = 2: copies of the holder's
 * accepted request (from its tuple and others), forgeries on its tuple,
 * and older nonces (a reordered retransmission) never count; a request
 * sealed anew with a nonce already accepted is what only a key holder can
 * send, and the third one ends the session (X3).
 */
static void key_holder_nonce_reuse_terminates(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	pol.max_security_failures = 2;
	struct lab *l = lab_new(&pol);
	struct holder e;
	struct pkt k, accepted;
	struct jv_addr stranger;
	struct jv_ctrl hb = { .type = JV_CTRL_HEARTBEAT };

	run(l, T0 + 1000);
	holder_connect(l, &e);
	holder_send(l, &e, &hb, &k);		/* confirms: T01 */
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	l->now += 10;
	holder_request(l, &e, 10, &accepted);	/* T12: revalidation */
	assert_int_equal(count(&l->gs, JV_EV_REATTACH_RESULT), 1);
	l->now += 10;
	holder_request(l, &e, 5, &k);		/* older: stale_request */
	holder_request(l, &e, 9, &k);
	jv_addr_from_ipv4(&stranger, 0xc6336442, 6666);
	for (unsigned i = 0; i < 100; i++) {
		inject(l, &accepted, i % 2 ? &stranger : &e.addr);	/* copies */
		k = accepted;
		k.buf[8 + i % 8] ^= 0x40;	/* FM-4c forgery on its tuple */
		inject(l, &k, &e.addr);
	}
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	holder_request(l, &e, 10, &k);		/* reuse 1 */
	holder_request(l, &e, 10, &k);		/* reuse 2 */
	assert_int_equal(gw_state(l), JV_STATE_ATTACHED);
	holder_request(l, &e, 10, &k);		/* reuse 3 > 2: X3 */
	assert_int_equal(gw_state(l), JV_STATE_TERMINATED);
	assert_int_equal(l->gs.ev[l->gs.nev - 1].type, JV_EV_SESSION_TERMINATED);
	assert_int_equal(l->gs.ev[l->gs.nev - 1].reason,
			 JV_REASON_SECURITY_FAILURE);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	lab_free(l);
}

/* ---- the cost of junk --------------------------------------------------- */

/* Packets claiming the next key epoch: one derivation for all of them,
 * and a genuine one still rotates. */
static void next_epoch_claims_derive_once(void **st)
{
	(void)st;
	struct jv_policy pol;
	struct jv_session s;
	struct jv_seeded_rng sr;
	uint8_t ks[32], kr[32], next[32], pt[64], buf[JV_DGRAM_MAX],
		out[JV_DGRAM_MAX];
	bool rotated;

	jv_policy_default(&pol);
	jv_seeded_rng_init(&sr, 3);
	assert_int_equal(jv_sess_init(&s, JV_ROLE_GATEWAY, &pol, "gw",
				      jv_seeded_rng(&sr), NULL, NULL, 2), 0);
	memset(ks, 1, 32);
	memset(kr, 2, 32);
	memset(pt, 0x45, sizeof pt);
	jv_keys_install(&s, ks, kr, T0);
	for (unsigned i = 0; i < 1000; i++) {
		struct jv_wire_hdr h = { .type = JV_MSG_DATA, .key_epoch = 1,
					 .counter = i };
		int n = jv_wire_seal(ks, &h, pt, sizeof pt, buf, sizeof buf);
		assert_true(n > 0);
		assert_true(jv_keys_open(&s, &h, buf, (size_t)n, out, sizeof out,
					 T0, &rotated) < 0);
		assert_false(rotated);
	}
	assert_true(s.key_derivations <= 1);
	assert_int_equal(s.cur.epoch, 0);
	/* the peer rotated first: its packet opens and rotates */
	jv_noise_rekey(kr, 1, next);
	struct jv_wire_hdr h = { .type = JV_MSG_DATA, .key_epoch = 1,
				 .counter = 0 };
	int n = jv_wire_seal(next, &h, pt, sizeof pt, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(jv_keys_open(&s, &h, buf, (size_t)n, out, sizeof out,
				      T0, &rotated), (int)sizeof pt);
	assert_true(rotated);
	assert_int_equal(s.cur.epoch, 1);
	/* and a copy of it is a replay */
	assert_int_equal(jv_keys_open(&s, &h, buf, (size_t)n, out, sizeof out,
				      T0, &rotated), JV_ERR_REPLAY);
	jv_sess_destroy(&s);
}

/* A counter jump of 2^40 on the binding costs the loss tracker its
 * window, not 2^40 steps (the alarm fails the test otherwise). */
static void counter_jump_is_cheap(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);

	run(l, T0 + 2000);
	struct jv_client *c = l->c;
	assert_true(c->s.bound >= 0);
	alarm(20);
	jv_cl_note_counter(c, c->s.bound, (uint8_t)c->s.cur.epoch,
			   c->rx.top + ((uint64_t)1 << 40), l->now);
	alarm(0);
	assert_true(c->rx.top >= (uint64_t)1 << 40);
	lab_free(l);
}

/* A new session's counters start over: what the tracker knew of the old
 * one's is gone once the new handshake is made. */
static void loss_tracker_reset_on_new_session(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	struct jv_client *c = l->c;

	run(l, T0 + 2000);
	jv_cl_note_counter(c, c->s.bound, (uint8_t)c->s.cur.epoch, 1000000,
			   l->now);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_terminate(c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, T0 + 2100);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, T0 + 2200);
	assert_int_equal(jv_client_state(c), JV_STATE_ATTACHED);
	assert_true(c->rx.top < 1000);
	assert_true(count_after(&l->cs, JV_EV_SESSION_CREATED, T0 + 2000) == 1);
	lab_free(l);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gateway_junk_moves_nothing),
		cmocka_unit_test(client_junk_moves_nothing),
		cmocka_unit_test(key_holder_nonce_reuse_terminates),
		cmocka_unit_test(next_epoch_claims_derive_once),
		cmocka_unit_test(counter_jump_is_cheap),
		cmocka_unit_test(loss_tracker_reset_on_new_session),
	};
	return cmocka_run_group_tests_name("junk", tests, NULL, NULL);
}
