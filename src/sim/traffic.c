/* SPDX-License-Identifier: MIT */
/* Tunnel traffic: IPv4/UDP packets with sequence numbers, and meters. */

#include <stdlib.h>
#include <string.h>

#include "sim/traffic.h"

static const uint8_t magic[4] = { 'J', 'V', 'S', 'M' };

static uint16_t ip_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int sim_traffic_build(uint8_t *buf, size_t cap, enum sim_flow flow,
		      uint32_t seq, jv_time sent, size_t size)
{
	uint8_t *u = buf + 20, *pl = buf + SIM_TRAFFIC_HDR;
	/* Stream and request flows go up (10.99.0.2 -> 10.99.0.1). */
	bool up = flow == SIM_FLOW_UP || flow == SIM_FLOW_REQUEST;

	if (cap < SIM_TRAFFIC_MIN)
		return JV_ERR_NOSPACE;
	if (size < SIM_TRAFFIC_MIN)
		size = SIM_TRAFFIC_MIN;
	if (size > SIM_TRAFFIC_MAX)
		size = SIM_TRAFFIC_MAX;
	if (size > cap)
		size = cap;
	memset(buf, 0, size);
	buf[0] = 0x45;				/* IPv4, 5-word header */
	put16(buf + 2, (uint16_t)size);
	put16(buf + 4, (uint16_t)seq);		/* identification */
	buf[8] = 64;				/* TTL */
	buf[9] = 17;				/* UDP */
	buf[12] = buf[16] = 10;
	buf[13] = buf[17] = 99;
	buf[15] = up ? 2 : 1;
	buf[19] = up ? 1 : 2;
	put16(buf + 10, ip_checksum(buf, 20));
	put16(u, (uint16_t)(5000 + flow));
	put16(u + 2, (uint16_t)(6000 + flow));
	put16(u + 4, (uint16_t)(size - 20));
	memcpy(pl, magic, 4);
	pl[4] = (uint8_t)flow;
	for (int i = 0; i < 4; i++)
		pl[5 + i] = (uint8_t)(seq >> (8 * i));
	for (int i = 0; i < 8; i++)
		pl[9 + i] = (uint8_t)(sent >> (8 * i));
	return (int)size;
}

int sim_traffic_parse(const uint8_t *buf, size_t len, enum sim_flow *flow,
		      uint32_t *seq, jv_time *sent)
{
	const uint8_t *pl = buf + SIM_TRAFFIC_HDR;
	uint32_t s = 0;
	jv_time t = 0;

	if (len < SIM_TRAFFIC_MIN || buf[0] != 0x45 || buf[9] != 17 ||
	    get16(buf + 2) != len || ip_checksum(buf, 20) != 0 ||
	    get16(buf + 24) != len - 20 || memcmp(pl, magic, 4) != 0 ||
	    pl[4] < SIM_FLOW_UP || pl[4] > SIM_FLOW_RESPONSE)
		return JV_ERR_PARSE;
	for (int i = 0; i < 4; i++)
		s |= (uint32_t)pl[5 + i] << (8 * i);
	for (int i = 0; i < 8; i++)
		t |= (jv_time)pl[9 + i] << (8 * i);
	*flow = (enum sim_flow)pl[4];
	*seq = s;
	*sent = t;
	return 0;
}

/* ---- stream meter ----------------------------------------------------- */

static int cmp_time(const void *a, const void *b)
{
	jv_time x = *(const jv_time *)a, y = *(const jv_time *)b;

	return x < y ? -1 : x > y;
}

int sim_meter_init(struct sim_meter *m, size_t max_seq,
		   const jv_time *faults, size_t nfaults)
{
	jv_time *sorted = NULL;

	memset(m, 0, sizeof *m);
	m->seen_bits = max_seq ? max_seq : 1;
	m->seen = calloc((m->seen_bits + 7) / 8, 1);
	if (nfaults) {
		sorted = malloc(nfaults * sizeof *sorted);
		m->gaps = calloc(nfaults, sizeof *m->gaps);
	}
	if (!m->seen || (nfaults && (!sorted || !m->gaps))) {
		free(sorted);
		sim_meter_free(m);
		return JV_ERR_NOMEM;
	}
	if (nfaults) {
		memcpy(sorted, faults, nfaults * sizeof *sorted);
		qsort(sorted, nfaults, sizeof *sorted, cmp_time);
	}
	/* Faults at the same millisecond share one window. */
	for (size_t i = 0; i < nfaults; i++)
		if (m->nfaults == 0 ||
		    m->gaps[m->nfaults - 1].fault_at != sorted[i])
			m->gaps[m->nfaults++].fault_at = sorted[i];
	free(sorted);
	return 0;
}

void sim_meter_free(struct sim_meter *m)
{
	free(m->seen);
	free(m->gaps);
	m->seen = NULL;
	m->gaps = NULL;
	m->nfaults = 0;
}

void sim_meter_sent(struct sim_meter *m, jv_time now)
{
	if (m->sent++ == 0)
		m->start = now;
}

static jv_time window_end(const struct sim_meter *m, size_t i)
{
	return i + 1 < m->nfaults ? m->gaps[i + 1].fault_at : JV_TIME_NEVER;
}

/* The interval (a, b) without delivery: grow the gaps it overlaps. */
static void interval(struct sim_meter *m, jv_time a, jv_time b,
		     bool unrecovered)
{
	while (m->cursor < m->nfaults && window_end(m, m->cursor) <= a)
		m->cursor++;
	for (size_t i = m->cursor; i < m->nfaults; i++) {
		struct sim_gap *g = &m->gaps[i];
		jv_time from;

		if (g->fault_at >= b)
			break;
		if (unrecovered && a > g->fault_at)
			continue;	/* it did deliver after this fault */
		from = a > g->fault_at ? a : g->fault_at;
		g->touched = true;
		if (b - from > g->gap_ms || (unrecovered && !g->unrecovered)) {
			g->gap_ms = b - from;
			g->unrecovered = unrecovered;
		}
	}
}

void sim_meter_delivered(struct sim_meter *m, uint32_t seq, jv_time sent,
			 jv_time now)
{
	jv_time lat = now >= sent ? now - sent : 0;

	if (seq >= m->seen_bits)
		return;
	if (m->seen[seq / 8] & (1u << (seq % 8))) {
		m->duplicates++;
		return;
	}
	m->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	m->delivered++;
	m->latency_sum_ms += lat;
	if (lat > m->latency_max_ms)
		m->latency_max_ms = lat;
	if (m->any && seq < m->highest)
		m->out_of_order++;
	if (!m->any || seq > m->highest)
		m->highest = seq;
	interval(m, m->any ? m->last : m->start, now, false);
	m->any = true;
	m->last = now;
}

void sim_meter_finish(struct sim_meter *m, jv_time end)
{
	jv_time a = m->any ? m->last : m->start;

	if (m->sent && end > a)
		interval(m, a, end, true);
}

jv_time sim_meter_max_gap(const struct sim_meter *m, bool *unrecovered,
			  size_t *fault_index)
{
	jv_time best = 0;
	bool unrec = false;
	size_t idx = 0;

	for (size_t i = 0; i < m->nfaults; i++) {
		const struct sim_gap *g = &m->gaps[i];

		if (!g->touched)
			continue;
		if ((g->unrecovered && !unrec) ||
		    (g->unrecovered == unrec && g->gap_ms > best)) {
			best = g->gap_ms;
			unrec = g->unrecovered;
			idx = i;
		}
	}
	if (unrecovered)
		*unrecovered = unrec;
	if (fault_index)
		*fault_index = idx;
	return best;
}

/* ---- request / response ----------------------------------------------- */

int sim_rr_init(struct sim_rr *r, size_t max_seq, jv_time timeout_ms)
{
	memset(r, 0, sizeof *r);
	r->timeout_ms = timeout_ms;
	r->seen_bits = max_seq ? max_seq : 1;
	r->seen = calloc((r->seen_bits + 7) / 8, 1);
	return r->seen ? 0 : JV_ERR_NOMEM;
}

void sim_rr_free(struct sim_rr *r)
{
	free(r->seen);
	r->seen = NULL;
}

void sim_rr_answered(struct sim_rr *r, uint32_t seq, jv_time sent,
		     jv_time now)
{
	jv_time rtt = now >= sent ? now - sent : 0;

	if (seq >= r->seen_bits || (r->seen[seq / 8] & (1u << (seq % 8))))
		return;
	r->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	if (r->timeout_ms && rtt > r->timeout_ms) {
		r->late++;
		return;
	}
	r->answered++;
	r->rtt_sum_ms += rtt;
	if (rtt > r->rtt_max_ms)
		r->rtt_max_ms = rtt;
}
