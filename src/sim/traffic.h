/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_TRAFFIC_H
#define JVPN_SIM_TRAFFIC_H

/*
 * Application traffic inside the tunnel, and what it measures.
 *
 * Every generated packet is a minimal valid IPv4/UDP datagram (header
 * checksum set, UDP checksum 0) whose payload starts with the magic
 * "JVSM", a flow byte, a 32-bit sequence number and the send time, so the
 * receiving side recognises it and measures it without any side channel.
 *
 * Flows: stream up (client -> gateway), stream down (gateway -> client),
 * request (client -> gateway; the gateway side answers each at once) and
 * response (gateway -> client).
 *
 * Failover gap (docs/scenarios.md, "Measurements").  Timeline actions
 * that may disturb the path are faults; fault i owns the window
 * [t_i, t_{i+1}) up to the next fault (or the end of the stream).  For one
 * stream direction let d_1 < d_2 < ... be the times of first deliveries
 * of stream packets.  The gap of fault i is the largest
 *
 *     d_{k+1} - max(d_k, t_i)
 *
 * over consecutive deliveries with d_k < t_{i+1} and d_{k+1} > t_i, i.e.
 * the longest time, counted from the fault at the earliest, during which
 * nothing of the stream arrived.  If the stream never delivers again, the
 * last interval runs to the end of the stream (or run) and the gap is
 * marked unrecovered.  A clean stream of R packets/s therefore shows a gap
 * of about 1000 / R ms; that is the floor of the measurement.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"

enum sim_flow {
	SIM_FLOW_UP = 1,
	SIM_FLOW_DOWN = 2,
	SIM_FLOW_REQUEST = 3,
	SIM_FLOW_RESPONSE = 4,
};

enum {
	SIM_TRAFFIC_HDR = 20 + 8,		/* IPv4 + UDP */
	SIM_TRAFFIC_MIN = SIM_TRAFFIC_HDR + 4 + 1 + 4 + 8,
	SIM_TRAFFIC_MAX = 1400,
};

/*
 * Build one packet of `size` bytes (clamped to [SIM_TRAFFIC_MIN,
 * SIM_TRAFFIC_MAX] and cap) into buf.  Returns its length, or
 * JV_ERR_NOSPACE if cap < SIM_TRAFFIC_MIN.
 */
JV_MUST_CHECK int sim_traffic_build(uint8_t *buf, size_t cap,
				    enum sim_flow flow, uint32_t seq,
				    jv_time sent, size_t size);

/* Parse a delivered inner packet.  Returns 0, or JV_ERR_PARSE when it is
 * not one of ours (bad IPv4 header, checksum, length or magic). */
JV_MUST_CHECK int sim_traffic_parse(const uint8_t *buf, size_t len,
				    enum sim_flow *flow, uint32_t *seq,
				    jv_time *sent);

/* Gap of one fault for one direction. */
struct sim_gap {
	jv_time fault_at;
	jv_time gap_ms;
	bool unrecovered;
	bool touched;		/* some interval overlapped the window */
};

/*
 * One measured direction of the constant-rate stream: delivery, loss,
 * duplicates, order, latency and the gap per fault.
 */
struct sim_meter {
	uint64_t sent;
	uint64_t delivered;	/* distinct sequence numbers */
	uint64_t duplicates;
	uint64_t out_of_order;	/* arrived after a higher sequence number */
	uint64_t latency_sum_ms, latency_max_ms;
	uint32_t highest;
	bool any;
	jv_time start;		/* first send */
	jv_time last;		/* last first-delivery */
	uint8_t *seen;		/* bitmap over sequence numbers */
	size_t seen_bits;
	size_t nfaults;
	struct sim_gap *gaps;	/* one per fault, sorted by time */
	size_t cursor;		/* first window that may still grow */
};

/*
 * Meter for up to max_seq packets and the given fault times (sorted,
 * copied).  Returns 0, JV_ERR_NOMEM.
 */
JV_MUST_CHECK int sim_meter_init(struct sim_meter *m, size_t max_seq,
				 const jv_time *faults, size_t nfaults);
void sim_meter_free(struct sim_meter *m);

void sim_meter_sent(struct sim_meter *m, jv_time now);
/* A packet with seq, sent at `sent`, delivered at now. */
void sim_meter_delivered(struct sim_meter *m, uint32_t seq, jv_time sent,
			 jv_time now);
/* Close the meter at `end` (end of the stream or of the run). */
void sim_meter_finish(struct sim_meter *m, jv_time end);

/* Largest gap over all faults; *unrecovered set if that one is. */
jv_time sim_meter_max_gap(const struct sim_meter *m, bool *unrecovered,
			  size_t *fault_index);

/* Request/response flow: completion and round-trip time. */
struct sim_rr {
	uint64_t sent, answered, late;	/* late: answered after timeout */
	uint64_t rtt_sum_ms, rtt_max_ms;
	jv_time timeout_ms;
	uint8_t *seen;
	size_t seen_bits;
};

JV_MUST_CHECK int sim_rr_init(struct sim_rr *r, size_t max_seq,
			      jv_time timeout_ms);
void sim_rr_free(struct sim_rr *r);
void sim_rr_answered(struct sim_rr *r, uint32_t seq, jv_time sent,
		     jv_time now);

#endif
