/* SPDX-License-Identifier: MIT */
/* The engine lab of the unit tests (lab.h says what it models). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab.h"

unsigned lab_max_sessions;
uint16_t lab_cap_len;

void record(void *ud, const struct jv_event_origin *o,
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
	if (sd->log)
		jv_eventlog_append(sd->log, o, ev);
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
		r->peer_origin = JV_EV_HAS(ev, origin) && ev->origin &&
				 !strcmp(ev->origin, "peer");
		if (JV_EV_HAS(ev, peer_public_key) && ev->peer_public_key)
			snprintf(r->peer_key, sizeof r->peer_key, "%s",
				 ev->peer_public_key);
		if (JV_EV_HAS(ev, remote_addr) && ev->remote_addr)
			snprintf(r->remote, sizeof r->remote, "%s",
				 ev->remote_addr);
		snprintf(r->policy, sizeof r->policy, "%s", o->policy_version);
		if (ev->type == JV_EV_POLICY_UPDATE) {
			snprintf(r->status, sizeof r->status, "%s",
				 JV_EV_HAS(ev, status) ? ev->status : "");
			snprintf(r->field, sizeof r->field, "%s",
				 JV_EV_HAS(ev, field) ? ev->field : "");
			snprintf(r->prev_policy, sizeof r->prev_policy, "%s",
				 JV_EV_HAS(ev, previous_policy_version)
					 ? ev->previous_policy_version : "");
			snprintf(r->mode, sizeof r->mode, "%s",
				 JV_EV_HAS(ev, mode) ? ev->mode : "");
		}
	}
}

static void keep(struct pkt *c, const struct jv_dgram *d, jv_time at,
		 int path, bool to_gw)
{
	c->at = at;
	c->to_gw = to_gw;
	c->path = path;
	c->len = d->len;
	memcpy(c->buf, d->buf, d->len);
}

void enqueue(struct lab *l, const struct jv_out *o, bool from_client)
{
	for (unsigned i = 0; i < o->ndgram; i++) {
		const struct jv_dgram *d = &o->dgram[i];
		int path = -1;

		if (from_client) {
			path = d->path;
			if (d->buf[0] == JV_MSG_INITIATION)
				l->initiations++;
		} else {
			for (int p = 0; p < NPATHS + (l->b != NULL); p++)
				if (jv_addr_equal(&d->to, &l->caddr[p]))
					path = p;
		}
		/* path NPATHS: the gateway's datagrams to client B */
		if (path < 0 || path > NPATHS || (from_client && path == NPATHS) ||
		    l->nq >= QMAX)
			continue;
		if (l->capture)
			keep(&l->cap[l->ncap++ % CAPMAX], d, l->now, path,
			     from_client);
		else if (from_client && d->len == l->cap_len &&
			 l->ncap < CAPMAX)
			keep(&l->cap[l->ncap++], d, l->now, path, true);
		if (from_client ? l->cut_up[path] : l->cut_down[path])
			continue;
		if (from_client && d->len == l->drop_len)
			continue;
		if (!from_client && d->len == l->hold_len) {
			/* a ring: the latest HELDMAX are kept */
			keep(&l->held[l->nheld++ % HELDMAX], d, l->now, path,
			     false);
			continue;
		}
		struct pkt *k = &l->q[l->nq++];
		k->at = l->now + DELAY_MS;
		k->to_gw = from_client;
		k->path = path;
		k->from = l->caddr[path];
		k->len = d->len;
		memcpy(k->buf, d->buf, d->len);
	}
}

/* Client B's datagrams: all on its one transport, path NPATHS. */
static void enqueue_b(struct lab *l, struct jv_out *o)
{
	for (unsigned i = 0; i < o->ndgram; i++)
		o->dgram[i].path = NPATHS;
	for (unsigned i = 0; i < o->ndgram && l->nq < QMAX; i++) {
		const struct jv_dgram *d = &o->dgram[i];
		struct pkt *k;

		if (l->cut_up[NPATHS])
			continue;
		k = &l->q[l->nq++];
		k->at = l->now + DELAY_MS;
		k->to_gw = true;
		k->path = NPATHS;
		k->from = l->caddr[NPATHS];
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
		if (k->path == NPATHS) {
			(void)jv_client_recv(l->b, 0, k->buf, k->len, l->now,
					     &l->out);
			enqueue_b(l, &l->out);
			return;
		}
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

void run(struct lab *l, jv_time until)
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
		jv_time db = l->b ? jv_client_deadline(l->b) : JV_TIME_NEVER;
		if (dc < next) {
			next = dc;
			kq = -2;
		}
		if (db < next) {
			next = db;
			kq = -4;
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
		} else if (kq == -4) {
			assert_int_equal(jv_client_tick(l->b, l->now, &l->out), 0);
			enqueue_b(l, &l->out);
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

void cut(struct lab *l, int path, bool cut_it)
{
	l->cut_up[path] = l->cut_down[path] = cut_it;
}

void path_down(struct lab *l, int path)
{
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_down(l->c, path, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
}

void path_up(struct lab *l, int path)
{
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_path_up(l->c, path, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
}

void inject(struct lab *l, const struct pkt *k, const struct jv_addr *from)
{
	jv_out_reset(&l->out);
	(void)jv_gateway_recv(l->g, 0, from, k->buf, k->len, l->now, &l->out);
}

struct lab *lab_new(const struct jv_policy *pol)
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
		.max_sessions = lab_max_sessions,
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
	l->cap_len = lab_cap_len;
	l->now = T0;
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(l->c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	return l;
}

void lab_client_b_pub(uint8_t pub[32])
{
	struct jv_noise_keypair bk;
	uint8_t bpriv[32];

	memset(bpriv, 0x33, 32);
	assert_int_equal(jv_noise_keypair_from_private(&bk, bpriv), 0);
	memcpy(pub, bk.pub, 32);
}

int lab_add_client_b(struct lab *l)
{
	struct jv_noise_keypair gk;
	uint8_t bpriv[32], gpriv[32], bpub[32];
	int peer;

	memset(bpriv, 0x33, 32);
	memset(gpriv, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&gk, gpriv), 0);
	lab_client_b_pub(bpub);
	peer = jv_gateway_add_peer(l->g, bpub);
	jv_seeded_rng_init(&l->brng, 33);
	struct jv_client_config cc = {
		.policy = &l->pol, .node_id = "clB",
		.rng = jv_seeded_rng(&l->brng), .on_event = record, .ud = &l->bs,
	};
	memcpy(cc.private_key, bpriv, 32);
	memcpy(cc.gateway_public, gk.pub, 32);
	l->b = jv_client_new(&cc);
	assert_non_null(l->b);
	assert_int_equal(jv_client_add_transport(l->b, "p1", JV_PROTO_UDP, 1), 0);
	jv_addr_from_ipv4(&l->caddr[NPATHS], 0x0a000302, 40003);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(l->b, l->now, &l->out), 0);
	enqueue_b(l, &l->out);
	return peer;
}

void lab_free(struct lab *l)
{
	jv_client_free(l->b);
	l->b = NULL;
	jv_client_free(l->c);
	jv_gateway_free(l->g);
}

unsigned count(const struct side *s, enum jv_event_type t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nev; i++)
		n += s->ev[i].type == t;
	return n;
}

unsigned count_after(const struct side *s, enum jv_event_type t,
		     jv_time after)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nev; i++)
		n += s->ev[i].type == t && s->ev[i].ts > after;
	return n;
}

unsigned count_reason(const struct side *s, enum jv_event_type t,
		      enum jv_reason r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nev; i++)
		n += s->ev[i].type == t && s->ev[i].reason == r;
	return n;
}

int find_change(const struct side *s, enum jv_state prev, enum jv_state next,
		unsigned from)
{
	for (unsigned i = from; i < s->nev; i++)
		if (s->ev[i].type == JV_EV_SESSION_STATE_CHANGE &&
		    s->ev[i].prev == prev && s->ev[i].next == next)
			return (int)i;
	return -1;
}

void versions_continuous(const struct side *s)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < s->nev; i++) {
		if (s->ev[i].type == JV_EV_SESSION_CREATED)
			v = 0;
		if (s->ev[i].type == JV_EV_SESSION_STATE_CHANGE) {
			assert_int_equal(s->ev[i].version, v + 1);	/* INV-02 */
			v++;
		} else {
			assert_int_equal(s->ev[i].version, v);
		}
	}
}

void versions_per_session(const struct side *sd)
{
	for (unsigned i = 0; i < sd->nev; i++) {
		if (sd->ev[i].type != JV_EV_SESSION_CREATED)
			continue;
		uint64_t v = 0;
		for (unsigned j = i; j < sd->nev; j++) {
			const struct rec *r = &sd->ev[j];
			if (strcmp(r->session, sd->ev[i].session))
				continue;
			if (r->type == JV_EV_SESSION_STATE_CHANGE)
				assert_int_equal(r->version, ++v);
			else
				assert_int_equal(r->version, v);
		}
	}
}

enum jv_state gw_state(struct lab *l)
{
	struct jv_session_status st;
	assert_int_equal(jv_gateway_status(l->g, 0, &st), 0);
	return st.state;
}

uint64_t rnd(struct jv_seeded_rng *r)
{
	uint64_t v;
	struct jv_rng g = jv_seeded_rng(r);
	jv_rng_fill(&g, &v, sizeof v);
	return v;
}

/* ---- an attacker holding a session ------------------------------------ */

void evil_read(struct evil *e, const struct jv_out *o)
{
	for (unsigned i = 0; i < o->ndgram; i++) {
		const struct jv_dgram *d = &o->dgram[i];
		struct jv_ctrl m;
		int a = -1;

		for (int k = 0; k < EVIL_ADDRS; k++)
			if (jv_addr_equal(&d->to, &e->addrs[k]))
				a = k;
		if (a < 0 || d->buf[0] != JV_MSG_CONTROL)
			continue;
		if (jv_wire_open_ctrl(e->recv, d->buf, d->len, &m, NULL) != 0 &&
		    jv_wire_open_ctrl(e->prev_recv, d->buf, d->len, &m,
				      NULL) != 0)
			continue;
		e->got[m.type]++;
		e->to[a]++;
		if (m.type == JV_CTRL_PATH_CHALLENGE) {
			memcpy(e->chal, m.challenge.data, 8);
			e->chal_nonce = m.challenge.nonce;
			e->chal_addr = a;
		} else if (m.type == JV_CTRL_REATTACH_ACK) {
			e->version = m.ack.state_version;
		} else if (m.type == JV_CTRL_REATTACH_DENY) {
			e->denied = m.deny.reason;
			e->version = m.deny.state_version;
		} else if (m.type == JV_CTRL_HEARTBEAT_ACK ||
			   m.type == JV_CTRL_PROBE_ACK) {
			e->version = m.hb.state_version;
			memcpy(e->token[a], m.hb.token, sizeof e->token[a]);
			e->has_token[a] = true;
		}
	}
}

void evil_connect(struct lab *l, struct evil *e, struct jv_seeded_rng *r)
{
	struct jv_noise_static self;
	struct jv_noise_initiator hs;
	struct jv_noise_result res;
	uint8_t priv[32], gpub[32];
	struct jv_noise_keypair gk;
	uint8_t buf[JV_DGRAM_MAX];

	memset(e, 0, sizeof *e);
	e->chal_addr = -1;
	for (int k = 0; k < EVIL_ADDRS; k++)
		jv_addr_from_ipv4(&e->addrs[k], 0xcb007101 + (uint32_t)k,
				  (uint16_t)(1000 + k));
	memset(priv, 0x11, 32);		/* the peer key the gateway allows */
	memset(buf, 0x22, 32);
	assert_int_equal(jv_noise_keypair_from_private(&gk, buf), 0);
	memcpy(gpub, gk.pub, 32);
	assert_int_equal(jv_noise_static_init(&self, priv), 0);
	struct jv_rng rr = jv_seeded_rng(r);
	assert_int_equal(jv_noise_initiation_create(&hs, &self, gpub, 4242,
						    l->now, &rr, buf), 0);
	jv_out_reset(&l->out);
	(void)jv_gateway_recv(l->g, 0, &e->addrs[0], buf,
			      JV_WIRE_INITIATION_SIZE, l->now, &l->out);
	assert_int_equal(l->out.ndgram, 1);
	assert_int_equal(jv_noise_response_consume(&hs, l->out.dgram[0].buf,
						   l->out.dgram[0].len, &res,
						   NULL), 0);
	memcpy(e->send, res.key_i2r, 32);
	memcpy(e->recv, res.key_r2i, 32);
	memcpy(e->prev_recv, res.key_r2i, 32);
	memcpy(e->sid, res.session_id, 16);
	e->gw_index = res.remote_index;
	jv_noise_result_wipe(&res);
}

void evil_send_pkt(struct lab *l, struct evil *e, const struct jv_ctrl *m,
		   int a, struct pkt *k)
{
	struct jv_wire_hdr h = {
		.type = JV_MSG_CONTROL, .key_epoch = e->epoch,
		.receiver_index = e->gw_index, .counter = e->counter++,
	};
	struct pkt mine;

	if (!k)
		k = &mine;
	int n = jv_wire_seal_ctrl(e->send, &h, m, k->buf, sizeof k->buf);

	assert_true(n > 0);
	k->len = (uint16_t)n;
	inject(l, k, &e->addrs[a]);
	evil_read(e, &l->out);
}

void evil_send(struct lab *l, struct evil *e, const struct jv_ctrl *m, int a)
{
	evil_send_pkt(l, e, m, a, NULL);
}

void evil_learn_token(struct lab *l, struct evil *e, int a)
{
	struct jv_ctrl probe = { .type = JV_CTRL_PROBE };
	unsigned got[JV_CTRL_TYPE_MAX + 1], to[EVIL_ADDRS];

	if (e->has_token[a])
		return;
	memcpy(got, e->got, sizeof got);
	memcpy(to, e->to, sizeof to);
	probe.hb.send_ts = l->now;
	evil_send(l, e, &probe, a);
	memcpy(e->got, got, sizeof got);
	memcpy(e->to, to, sizeof to);
}

void evil_request_msg(struct lab *l, struct evil *e, int a,
		      enum jv_reason trigger, enum jv_reason recovery,
		      uint8_t cls, struct jv_ctrl *m)
{
	struct jv_ctrl_reattach_request *q = &m->request;

	memset(m, 0, sizeof *m);
	m->type = JV_CTRL_REATTACH_REQUEST;
	memcpy(q->path_token, e->token[a], sizeof q->path_token);
	memcpy(q->session_id, e->sid, 16);
	q->nonce = ++e->nonce;
	q->protocol_version = JV_PROTOCOL_VERSION;
	q->ts_ms = l->now;
	q->state_version = e->version;
	q->trigger_reason = trigger;
	q->recovery_reason = recovery;
	q->trigger_class = cls;
	snprintf(q->candidate.transport_id, sizeof q->candidate.transport_id,
		 "p%d", a);
	q->candidate.proto = JV_PROTO_UDP;
}

void evil_request(struct lab *l, struct evil *e, int a,
		  enum jv_reason trigger, enum jv_reason recovery, uint8_t cls)
{
	struct jv_ctrl m;

	evil_learn_token(l, e, a);
	evil_request_msg(l, e, a, trigger, recovery, cls, &m);
	evil_send(l, e, &m, a);
}
