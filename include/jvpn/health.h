/* SPDX-License-Identifier: MIT */
#ifndef JVPN_HEALTH_H
#define JVPN_HEALTH_H

/*
 * Health of one transport (spec §6.1, §6.2): fixed size, O(1) memory, no
 * allocation.  The datapath reports facts (a heartbeat/probe was ACKed or
 * timed out, data arrived with counter gaps, the peer was heard, the socket
 * failed); queries read the metrics and the first §6.2 condition at `now`.
 *
 * Loss window.  LOSS_WINDOW_MS is cut into JV_LOSS_BUCKETS buckets of
 * W = LOSS_WINDOW_MS / JV_LOSS_BUCKETS ms (floor, at least 1; 100 ms with
 * the defaults).  Bucket k holds the samples taken in [k*W, (k+1)*W).  At
 * `now` the window is the current bucket and the JV_LOSS_BUCKETS - 1 before
 * it, so a sample taken at t counts while now < (t/W + JV_LOSS_BUCKETS) * W:
 * it leaves the window between LOSS_WINDOW_MS - W + 1 and LOSS_WINDOW_MS ms
 * after it was taken, never later.  W is fixed when a sample is stored;
 * if the policy's W changes, the next fact restarts the loss window.
 *
 * Latency.  A ring of the last JV_RTT_SAMPLES_MAX (time, RTT) samples.  At
 * `now` the latency window holds the samples with now - t < LATENCY_WINDOW_MS.
 * p95 is the nearest-rank 95th percentile of them (rank ceil(0.95 n));
 * jitter is their mean absolute deviation around their mean (0 below two
 * samples).  srtt is an EWMA with alpha 0.25 over every sample (first
 * sample taken as is), kept in microseconds, and not windowed.
 *
 * Stability (§6.1 stability_duration_ms = now - last time any §6.2
 * condition held, or since the first fact).  Between two facts the state
 * is frozen, so the last time a condition held in (previous fact, now] is
 * computed exactly, not sampled: silence only grows, drop runs and hard
 * failures are constant, and the loss and latency windows only change when
 * a bucket or an RTT sample leaves them, so checking `now` and the last
 * millisecond before each such expiry is enough.  Every fact stores that
 * result, applies itself, then re-checks at its own time; queries compute
 * the same thing without storing it.  Stability therefore does not depend
 * on how often anyone asks, and every query is const.
 *
 * Time: `now` must not go backwards; an earlier `now` is taken as the
 * latest time seen (facts are never placed in the past).
 */

#include <stdbool.h>
#include <stdint.h>

#include "limits.h"
#include "policy.h"
#include "reason.h"

struct jv_health {
	/* First, together: what every authenticated packet reads and writes
	 * (jv_health_on_alive and the conditions it evaluates), so a gateway
	 * with many sessions takes one cache miss here per packet, not one
	 * per field (issue 12). */
	/* liveness */
	jv_time last_ack_ms;	/* last "last_ack" fact; init/restart time before */
	jv_time last_good_ms;	/* last acknowledged/authenticated packet, or NEVER */
	/* stability */
	jv_time bad_ms;		/* last time a condition held (or first fact); NEVER */
	jv_time fact_ms;	/* time of the latest fact */
	uint32_t consecutive_drops;
	uint32_t rtt_count;	/* samples in the RTT ring below */
	bool hard_failed;	/* socket/interface error, until the next success */
	/* Some loss bucket holds a count: a gateway's paths never count loss
	 * (its health is silence only), and this spares each packet a walk
	 * over the bucket arrays. */
	bool loss_used;

	/* loss window: JV_LOSS_BUCKETS buckets of bucket_ms each */
	uint64_t bucket_ms;
	uint64_t bucket_epoch[JV_LOSS_BUCKETS];	/* time / bucket_ms */
	uint32_t delivered[JV_LOSS_BUCKETS];
	uint32_t dropped[JV_LOSS_BUCKETS];
	uint32_t acked[JV_LOSS_BUCKETS];	/* heartbeat/probe successes */

	/* RTT ring, oldest overwritten */
	jv_time rtt_at[JV_RTT_SAMPLES_MAX];
	uint32_t rtt_ms[JV_RTT_SAMPLES_MAX];
	uint32_t rtt_head;
	int64_t srtt_us;
	bool rtt_measured;
};

/* A plain copy of the metrics at one `now`, for status, reports, selection. */
struct jv_health_snapshot {
	double loss_ratio;		/* 0 when !loss_defined */
	bool loss_defined;		/* >= MIN_LOSS_SAMPLES samples in the window */
	uint32_t loss_samples;		/* delivered + dropped in the window */
	uint32_t acked_in_window;	/* heartbeat/probe ACKs in the loss window */
	uint32_t consecutive_drops;
	bool rtt_measured;		/* srtt_ms is meaningful */
	double srtt_ms;
	double jitter_ms;
	bool p95_defined;		/* >= 1 RTT sample in the latency window */
	uint32_t p95_ms;
	jv_time last_good_ms;		/* JV_TIME_NEVER: none yet */
	jv_time heartbeat_age_ms;
	jv_time stability_ms;
	bool hard_failed;
	double score;			/* §6.1, hysteresis only */
};

/* Start tracking at `now` (also the heartbeat_age origin).  Never fails. */
void jv_health_init(struct jv_health *h, const struct jv_policy *p,
		    jv_time now);

/*
 * Facts.  None can fail.  Each one first settles stability up to `now`
 * with the state as it was, then applies itself, then re-checks at `now`.
 */
/* A heartbeat (binding) or probe (candidate) was ACKed after rtt_ms: one
 * delivered sample, the drop run ends, RTT sample, last_ack = last_good =
 * now, a hard failure is cleared. */
void jv_health_on_ack(struct jv_health *h, const struct jv_policy *p,
		      jv_time now, uint32_t rtt_ms);
/* The ACK of a heartbeat/probe already counted as dropped: the path is
 * slower than its drop timeout, not dead.  Only the RTT is learned (so the
 * timeout, 3 x srtt, grows to fit it) and last_good moves; the drop stays
 * counted and the run is not ended (findings F8, F8b). */
void jv_health_on_late_ack(struct jv_health *h, const struct jv_policy *p,
			   jv_time now, uint32_t rtt_ms);
/* A heartbeat/probe got no ACK within jv_health_drop_timeout_ms (OP-5):
 * one dropped sample, the drop run grows. */
void jv_health_on_drop(struct jv_health *h, const struct jv_policy *p,
		       jv_time now);
/* Data from the peer (OP-23): `received` packets delivered, `lost` counter
 * gaps counted as drops.  Does not touch the drop run or heartbeat_age. */
void jv_health_on_data(struct jv_health *h, const struct jv_policy *p,
		       jv_time now, uint32_t received, uint32_t lost);
/* `lost` packets that went missing at `at` (<= now) but are known lost
 * only now (the client's reorder allowance, OP-23): booked in the bucket
 * of `at`, so a burst is not counted in a later window than it happened;
 * dropped if `at` is already outside the loss window. */
void jv_health_on_lost_at(struct jv_health *h, const struct jv_policy *p,
			  jv_time now, jv_time at, uint32_t lost);
/* The gateway's "last_ack" fact: an authenticated packet from the peer on
 * this transport (§6.1 heartbeat_age_ms, gateway side). */
void jv_health_on_alive(struct jv_health *h, const struct jv_policy *p,
			jv_time now);
/* Hard failure reported by the transport layer (§6.2 transport_dead). */
void jv_health_on_hard_failure(struct jv_health *h, const struct jv_policy *p,
			       jv_time now);

/* On every committed reattach (§6.1): loss buckets, drop run, RTT window
 * and hard failure are cleared, heartbeat_age and stability start at `now`;
 * srtt and last_good are kept (they are estimates, not detection windows). */
void jv_health_restart_windows(struct jv_health *h, jv_time now);

/*
 * The first true §6.2 condition at `now`, in §2.4 order: transport_dead
 * (hard failure, or heartbeat_age > TRANSPORT_DEAD_MS), consecutive_drop_
 * exceeded (>= MAX_CONSECUTIVE_DROPS), loss_threshold_exceeded (defined and
 * > LOSS_VOLATILE_THRESHOLD), heartbeat_timeout (> HEARTBEAT_VOLATILE_MS),
 * latency_threshold_exceeded (threshold set, p95 defined and above it);
 * JV_REASON_NONE if none.  Whether a condition may fire in the current
 * state (§6.2 "on ATTACHED") is the caller's business.
 */
enum jv_reason jv_health_condition(const struct jv_health *h,
				   const struct jv_policy *p, jv_time now);

/* §6.1 stability_duration_ms at now (the snapshot's stability_ms, without
 * the rest of the snapshot: fail-back asks on every evaluation). */
jv_time jv_health_stability_ms(const struct jv_health *h,
			       const struct jv_policy *p, jv_time now);
/* stability_ms >= LOSS_WINDOW_MS: no condition for one full window (§6.2). */
bool jv_health_is_stable(const struct jv_health *h, const struct jv_policy *p,
			 jv_time now);
/* heartbeat_age_ms > HEARTBEAT_VOLATILE_MS (§6.2 "Silent"). */
bool jv_health_is_silent(const struct jv_health *h, const struct jv_policy *p,
			 jv_time now);
/* True if a hard failure is pending (TransportDead details.detection). */
bool jv_health_hard_failed(const struct jv_health *h);

/* OP-5: a heartbeat/probe counts as dropped if not ACKed within
 * max(HEARTBEAT_INTERVAL_MS, 3 x srtt) ms (srtt rounded up to whole ms;
 * HEARTBEAT_INTERVAL_MS before the first RTT sample). */
jv_time jv_health_drop_timeout_ms(const struct jv_health *h,
				  const struct jv_policy *p);

/*
 * Earliest time > now at which the condition, is_stable or is_silent can
 * change with no new fact (a silence limit crossed, a loss bucket or RTT
 * sample leaving its window, the stable window completed); JV_TIME_NEVER if
 * none.  The session arms its timer with it.
 */
jv_time jv_health_next_change(const struct jv_health *h,
			      const struct jv_policy *p, jv_time now);

void jv_health_snapshot(const struct jv_health *h, const struct jv_policy *p,
			jv_time now, struct jv_health_snapshot *out);

/* §6.1 score from its parts (loss undefined counts as 0). */
double jv_health_score(bool loss_defined, double loss_ratio, double jitter_ms,
		       double srtt_ms);

#endif
