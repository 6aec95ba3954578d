/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_LINK_H
#define JVPN_SIM_LINK_H

/*
 * One direction of one virtual transport.  A datagram handed to the link
 * at `now` is lost, or delivered once or twice (duplication) at computed
 * times, possibly with one bit flipped.  The pipeline, in order:
 *
 *   down (blackout)  -> lost
 *   loss pattern     -> lost while (now mod every) < on   (deterministic)
 *   burst loss       -> Gilbert-Elliott: a two-state chain stepped once
 *                       per datagram (good->bad with burst_enter,
 *                       bad->good with burst_exit); lost with burst_loss
 *                       while bad
 *   random loss      -> lost with probability `loss`
 *   bandwidth        -> rate_kbps > 0: serialised behind the datagrams
 *                       still queued; lost if the backlog would exceed
 *                       queue_bytes (tail drop)
 *   delay + jitter   -> + delay_ms + uniform [0, jitter_ms]; delivery
 *                       times never decrease (jitter alone never
 *                       reorders, like a real FIFO path)
 *   reorder          -> with probability `reorder` the datagram is held
 *                       reorder_ms longer, outside the FIFO order, so
 *                       later datagrams overtake it
 *   corrupt          -> with probability `corrupt`, one random bit flips
 *   duplicate        -> with probability `duplicate`, a second copy
 *                       arrives right after the first
 *
 * Randomness comes from the link's own named stream (sim/rand.h).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/diag.h"
#include "jvpn/error.h"
#include "jvpn/limits.h"
#include "sim/rand.h"

struct sim_link_params {
	uint32_t delay_ms;
	uint32_t jitter_ms;
	double loss;
	uint32_t loss_on_ms, loss_every_ms;	/* pattern; every 0 = off */
	double burst_enter, burst_exit, burst_loss;
	double reorder;
	uint32_t reorder_ms;
	double duplicate;
	double corrupt;
	uint32_t rate_kbps;			/* 0 = unlimited */
	uint32_t queue_bytes;
};

/* A clean 10 ms link: the defaults of a [Transport] section. */
void sim_link_params_default(struct sim_link_params *p);

/*
 * Set one parameter from its scenario key and text value ("delay_ms",
 * "40"; "loss", "0.15"; "loss_pattern", "150/1000" or "off"; ...).
 * On error d gets key, value and the allowed range (line left as is).
 * Returns 0, JV_ERR_NOTFOUND (no such key), JV_ERR_PARSE (bad value).
 */
JV_MUST_CHECK int sim_link_param_set(struct sim_link_params *p,
				     const char *key, const char *value,
				     struct jv_diag *d);

/* The keys sim_link_param_set accepts, NULL-terminated (docs, errors). */
extern const char *const sim_link_param_keys[];

struct sim_link_stats {
	uint64_t offered;		/* datagrams handed to the link */
	uint64_t delivered;		/* copies scheduled for delivery */
	uint64_t lost_down, lost_pattern, lost_burst, lost_random,
		 lost_queue;
	uint64_t reordered, duplicated, corrupted;
};

struct sim_link {
	struct sim_link_params p;
	bool down;
	bool burst_bad;
	uint64_t busy_until_us;		/* bandwidth: end of the backlog */
	jv_time fifo_at;		/* latest in-order delivery time */
	struct sim_rand rand;
	struct sim_link_stats st;
};

enum sim_fate {
	SIM_DELIVERED,
	SIM_LOST_DOWN,
	SIM_LOST_PATTERN,
	SIM_LOST_BURST,
	SIM_LOST_RANDOM,
	SIM_LOST_QUEUE,
};

struct sim_verdict {
	enum sim_fate fate;
	unsigned copies;		/* 0, 1 or 2 */
	jv_time at[2];			/* delivery time of each copy */
	int64_t flip_bit;		/* bit to flip in every copy; -1: none */
};

void sim_link_init(struct sim_link *l, const struct sim_link_params *p,
		   uint64_t seed, const char *stream_name);

/* What happens to a datagram of len bytes sent at now. */
void sim_link_transmit(struct sim_link *l, jv_time now, size_t len,
		       struct sim_verdict *v);

#endif
