/* SPDX-License-Identifier: MIT */
/*
 * What the client measures: heartbeats on the binding and probes on the
 * standbys (PD-4, make-before-break), their drops (OP-5), and losses on the
 * binding from the gateway's counter sequence (OP-23).  Facts go to each
 * path's struct jv_health; decisions are client_attempt.c's.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client_impl.h"

/* ---- health facts ----------------------------------------------------- */

/* The oldest in flight is given up on: a drop. */
static void inflight_expire_oldest(struct jv_session *s, struct jv_path *p,
				   jv_time now)
{
	memmove(&p->inflight[0], &p->inflight[1],
		(p->ninflight - 1) * sizeof p->inflight[0]);
	p->ninflight--;
	jv_health_on_drop(&p->health, &s->policy, now);
}

static void inflight_push(struct jv_session *s, struct jv_path *p,
			  uint64_t seq, jv_time now)
{
	if (p->ninflight == JV_INFLIGHT_MAX)
		inflight_expire_oldest(s, p, now);
	p->inflight[p->ninflight].seq = seq;
	p->inflight[p->ninflight].sent_ms = now;
	p->ninflight++;
}

static bool inflight_take(struct jv_path *p, uint64_t seq, jv_time *sent)
{
	for (unsigned i = 0; i < p->ninflight; i++) {
		if (p->inflight[i].seq != seq)
			continue;
		*sent = p->inflight[i].sent_ms;
		memmove(&p->inflight[i], &p->inflight[i + 1],
			(p->ninflight - i - 1) * sizeof p->inflight[0]);
		p->ninflight--;
		return true;
	}
	return false;
}

void jv_cl_expire_inflight(struct jv_session *s, jv_time now)
{
	for (unsigned i = 0; i < s->npaths; i++) {
		struct jv_path *p = &s->paths[i];
		jv_time to = jv_sess_drop_timeout(s, (int)i);

		while (p->ninflight && now > p->inflight[0].sent_ms + to)
			inflight_expire_oldest(s, p, now);
	}
}

void jv_cl_send_probes(struct jv_client *c, jv_time now, struct jv_out *out)
{
	struct jv_session *s = &c->s;

	for (unsigned i = 0; i < s->npaths; i++) {
		struct jv_path *p = &s->paths[i];
		bool bound = (int)i == s->bound;
		struct jv_ctrl m;

		if (!p->used || p->down || now < p->next_probe_ms)
			continue;
		memset(&m, 0, sizeof m);
		m.type = bound ? JV_CTRL_HEARTBEAT : JV_CTRL_PROBE;
		m.hb.seq = ++p->next_seq;
		m.hb.send_ts = now;
		m.hb.state_version = s->fsm.state_version;
		jv_cl_send_ctrl(s, (int)i, &m, out);
		inflight_push(s, p, m.hb.seq, now);
		p->next_probe_ms = now + (bound ? s->policy.heartbeat_interval_ms
					   : jv_sess_standby_interval(s, (int)i));
	}
}

void jv_cl_on_hb_ack(struct jv_client *c, int path,
		      const struct jv_ctrl_heartbeat *a, jv_time now)
{
	struct jv_session *s = &c->s;
	struct jv_path *p = &s->paths[path];
	jv_time sent;

	s->ack_state_version = jv_max_u64(s->ack_state_version, a->state_version);
	if (!inflight_take(p, a->seq, &sent)) {
		/* Late: counted as a drop already (its wait ran out, or the
		 * table was full), but the echoed send time still tells the
		 * round trip, so the drop timeout and the probe spacing grow
		 * to fit a slow path (F8).  Authenticated, and the counter
		 * window stops copies; a time from the future, or older
		 * than a candidate may go unanswered, is not one of ours. */
		if (a->seq && a->seq <= p->next_seq && a->send_ts <= now &&
		    now - a->send_ts <= s->policy.candidate_ttl_ms)
			jv_health_on_late_ack(&p->health, &s->policy, now,
					      (uint32_t)(now - a->send_ts));
		return;
	}
	jv_health_on_ack(&p->health, &s->policy, now, (uint32_t)(now - sent));
	p->last_probe_ok_ms = now;
	p->flap_fallen = false;		/* up again: its next fall is a flap */
}

/*
 * OP-23: losses on the binding, from the gateway's counter sequence.  A
 * skipped counter is a gap; a gap still open JV_REORDER_MS after it
 * appeared (or pushed out of the 64-counter window) is a loss, booked at
 * the time the gap appeared (jv_health_on_lost_at), so reordering by
 * jitter is not taken for loss and a burst counts in the window it
 * happened in.  Counters that arrived on other paths (probe
 * answers share the sequence) are accounted for, not lost.
 */
enum { RX_WINDOW = 64, JV_REORDER_MS = 100 };

static bool seen_elsewhere(const struct jv_rx_loss *rx, uint64_t ctr)
{
	for (unsigned i = 0; i < 16; i++)
		if (rx->other[i] == ctr)
			return true;
	return false;
}

static void account(struct jv_rx_loss *rx, unsigned bit)
{
	rx->bits |= (uint64_t)1 << bit;
}

void jv_cl_rx_reset(struct jv_rx_loss *rx)
{
	memset(rx, 0, sizeof *rx);
	for (unsigned i = 0; i < 16; i++)
		rx->other[i] = UINT64_MAX;
}

void jv_cl_note_counter(struct jv_client *cl, int path, uint8_t epoch,
			uint64_t ctr, jv_time now)
{
	struct jv_session *s = &cl->s;
	struct jv_rx_loss *rx = &cl->rx;
	uint32_t lost = 0;

	/* Each key epoch has its own counter sequence, from 0 (keys.c): a
	 * rotation restarts the tracking, and a straggler of the previous
	 * epoch is delivered but says nothing about gaps in the new one. */
	if (epoch != rx->epoch) {
		if (epoch != (uint8_t)s->cur.epoch) {
			if (path == s->bound)
				jv_health_on_data(&s->paths[path].health,
						  &s->policy, now, 1, 0);
			return;
		}
		rx->epoch = epoch;
		rx->have = false;
		for (unsigned i = 0; i < 16; i++)
			rx->other[i] = UINT64_MAX;
	}
	if (path != s->bound) {
		rx->other[rx->other_head++ % 16] = ctr;
		if (rx->have && ctr <= rx->top && rx->top - ctr < RX_WINDOW)
			account(rx, (unsigned)(rx->top - ctr));
		return;
	}
	if (!rx->have) {
		rx->have = true;
		rx->top = ctr;
		/* counters before the first one seen are not ours to judge */
		rx->bits = ~(uint64_t)0;
	} else if (ctr > rx->top) {
		uint64_t shift = ctr - rx->top;

		/* Gaps pushed out of the window unseen are lost, as of the
		 * time they appeared. */
		for (uint64_t i = 0; i < RX_WINDOW && i < shift; i++) {
			unsigned bit = RX_WINDOW - 1 - (unsigned)i;
			uint64_t c = rx->top - bit;
			if (!(rx->bits & ((uint64_t)1 << bit)) &&
			    !seen_elsewhere(rx, c))
				jv_health_on_lost_at(&s->paths[path].health,
						     &s->policy, now,
						     rx->gap_at[c % RX_WINDOW], 1);
		}
		/* A jump wider than the window: the counters in between never
		 * came (capped, so one huge jump cannot fake a collapse). */
		if (shift > RX_WINDOW)
			lost += (uint32_t)((shift - RX_WINDOW) > RX_WINDOW
						   ? RX_WINDOW : shift - RX_WINDOW);
		rx->bits = shift >= RX_WINDOW ? 0 : rx->bits << shift;
		rx->bits |= 1;
		/* the counters skipped now are gaps from now; only the
		 * window's are remembered, so only those are visited (a jump
		 * of 2^40 must not cost 2^40 steps) */
		for (uint64_t c = ctr - jv_min_u64(shift, RX_WINDOW) + 1;
		     c < ctr; c++)
			rx->gap_at[c % RX_WINDOW] = now;
		rx->top = ctr;
	} else if (rx->top - ctr < RX_WINDOW) {
		account(rx, (unsigned)(rx->top - ctr));	/* late, not lost */
	}
	/* Gaps open for longer than the reorder allowance are losses. */
	for (unsigned bit = 1; bit < RX_WINDOW && bit <= rx->top; bit++) {
		uint64_t c = rx->top - bit;
		if (rx->bits & ((uint64_t)1 << bit))
			continue;
		if (now < rx->gap_at[c % RX_WINDOW] + JV_REORDER_MS)
			continue;
		if (!seen_elsewhere(rx, c))
			jv_health_on_lost_at(&s->paths[path].health, &s->policy,
					     now, rx->gap_at[c % RX_WINDOW], 1);
		account(rx, bit);
	}
	jv_health_on_data(&s->paths[path].health, &s->policy, now, 1, lost);
}
