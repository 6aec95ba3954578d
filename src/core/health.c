/* SPDX-License-Identifier: MIT */
/*
 * Per-transport health: loss buckets, drop run, RTT ring, silence and the
 * §6.2 conditions.  Window geometry and the stability rule are described
 * at the top of include/jvpn/health.h; this file follows it literally.
 */

#include <string.h>

#include "jvpn/health.h"

enum { NB = JV_LOSS_BUCKETS, NR = JV_RTT_SAMPLES_MAX };

static jv_time add_sat(jv_time a, uint64_t b)
{
	return a > JV_TIME_NEVER - b ? JV_TIME_NEVER : a + b;
}

static uint32_t add_sat32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static uint64_t bucket_width(const struct jv_policy *p)
{
	uint64_t w = p->loss_window_ms / JV_LOSS_BUCKETS;

	return w ? w : 1;
}

/* Facts and queries never look at a time before the latest fact. */
static jv_time clamp_now(const struct jv_health *h, jv_time now)
{
	return now < h->fact_ms ? h->fact_ms : now;
}

static bool bucket_in_window(const struct jv_health *h, unsigned i, jv_time x)
{
	uint64_t cur = x / h->bucket_ms;

	return h->bucket_epoch[i] <= cur && cur - h->bucket_epoch[i] < NB;
}

struct loss_sum {
	uint64_t delivered, dropped, acked;
};

static struct loss_sum loss_at(const struct jv_health *h, jv_time x)
{
	struct loss_sum s = {0};

	if (!h->loss_used)
		return s;
	for (unsigned i = 0; i < NB; i++) {
		if (!bucket_in_window(h, i, x))
			continue;
		s.delivered += h->delivered[i];
		s.dropped += h->dropped[i];
		s.acked += h->acked[i];
	}
	return s;
}

static bool loss_defined(const struct jv_policy *p, const struct loss_sum *s)
{
	uint64_t min = p->min_loss_samples ? p->min_loss_samples : 1;

	return s->delivered + s->dropped >= min;
}

static double loss_ratio(const struct loss_sum *s)
{
	return (double)s->dropped / (double)(s->delivered + s->dropped);
}

static bool rtt_in_window(const struct jv_health *h, const struct jv_policy *p,
			  unsigned i, jv_time x)
{
	return h->rtt_at[i] <= x && x - h->rtt_at[i] < p->latency_window_ms;
}

/* Nearest rank of the 95th percentile among n samples: ceil(0.95 n). */
static uint32_t p95_rank(uint32_t n)
{
	return (uint32_t)(((uint64_t)n * 95 + 99) / 100);
}

/*
 * p95 > thr  <=>  the rank-th smallest sample is above thr  <=>  fewer
 * than `rank` samples are <= thr.  One pass, no sort: this runs at every
 * expiry point of the stability catch-up.
 */
static bool latency_exceeded_at(const struct jv_health *h,
				const struct jv_policy *p, jv_time x)
{
	uint64_t thr = p->latency_volatile_threshold_ms;
	uint32_t n = 0, le = 0;

	if (!thr)
		return false;
	for (unsigned i = 0; i < h->rtt_count; i++) {
		if (!rtt_in_window(h, p, i, x))
			continue;
		n++;
		if (h->rtt_ms[i] <= thr)
			le++;
	}
	return n && le < p95_rank(n);
}

static enum jv_reason cond_at(const struct jv_health *h,
			      const struct jv_policy *p, jv_time x)
{
	jv_time age = x - h->last_ack_ms;
	struct loss_sum s;

	if (h->hard_failed || age > p->transport_dead_ms)
		return JV_REASON_TRANSPORT_DEAD;
	if (h->consecutive_drops >= p->max_consecutive_drops)
		return JV_REASON_CONSECUTIVE_DROP_EXCEEDED;
	s = loss_at(h, x);
	if (loss_defined(p, &s) && loss_ratio(&s) > p->loss_volatile_threshold)
		return JV_REASON_LOSS_THRESHOLD_EXCEEDED;
	if (age > p->heartbeat_volatile_ms)
		return JV_REASON_HEARTBEAT_TIMEOUT;
	if (latency_exceeded_at(h, p, x))
		return JV_REASON_LATENCY_THRESHOLD_EXCEEDED;
	return JV_REASON_NONE;
}

/*
 * Latest x in (a, b] at which a condition held, the state frozen since a;
 * JV_TIME_NEVER if none.  Silence only grows and the drop run and hard
 * failure are constant, so they hold somewhere iff they hold at b.  Loss
 * and latency change only when a bucket or sample leaves its window (at
 * the expiry time e), so the last millisecond before each e is checked.
 */
static jv_time last_true_between(const struct jv_health *h,
				 const struct jv_policy *p, jv_time a,
				 jv_time b)
{
	jv_time best = JV_TIME_NEVER;

	if (cond_at(h, p, b) != JV_REASON_NONE)
		return b;
	for (unsigned i = 0; h->loss_used && i < NB; i++) {
		jv_time x;

		if (!h->delivered[i] && !h->dropped[i])
			continue;
		x = (h->bucket_epoch[i] + NB) * h->bucket_ms - 1;
		if (x > a && x < b &&
		    (best == JV_TIME_NEVER || x > best) &&
		    cond_at(h, p, x) != JV_REASON_NONE)
			best = x;
	}
	if (!p->latency_volatile_threshold_ms)
		return best;
	for (unsigned i = 0; i < h->rtt_count; i++) {
		jv_time x = add_sat(h->rtt_at[i], p->latency_window_ms) - 1;

		if (x > a && x < b &&
		    (best == JV_TIME_NEVER || x > best) &&
		    cond_at(h, p, x) != JV_REASON_NONE)
			best = x;
	}
	return best;
}

/* The last time a condition held up to now, or the first fact. */
static jv_time last_bad(const struct jv_health *h, const struct jv_policy *p,
			jv_time now)
{
	jv_time lt;

	if (h->bad_ms == JV_TIME_NEVER)
		return JV_TIME_NEVER;
	lt = last_true_between(h, p, h->fact_ms, now);
	if (lt != JV_TIME_NEVER && lt > h->bad_ms)
		return lt;
	return h->bad_ms;
}

static void loss_clear(struct jv_health *h)
{
	memset(h->bucket_epoch, 0, sizeof(h->bucket_epoch));
	memset(h->delivered, 0, sizeof(h->delivered));
	memset(h->dropped, 0, sizeof(h->dropped));
	memset(h->acked, 0, sizeof(h->acked));
	h->loss_used = false;
}

static void loss_add(struct jv_health *h, const struct jv_policy *p,
		     jv_time t, uint32_t delivered, uint32_t dropped,
		     uint32_t acked)
{
	uint64_t w = bucket_width(p);
	uint64_t e;
	unsigned i;

	if (w != h->bucket_ms) {
		loss_clear(h);
		h->bucket_ms = w;
	}
	e = t / w;
	i = (unsigned)(e % NB);
	if (h->bucket_epoch[i] != e) {
		h->bucket_epoch[i] = e;
		h->delivered[i] = h->dropped[i] = h->acked[i] = 0;
	}
	h->delivered[i] = add_sat32(h->delivered[i], delivered);
	h->dropped[i] = add_sat32(h->dropped[i], dropped);
	h->acked[i] = add_sat32(h->acked[i], acked);
	h->loss_used = true;
}

static void rtt_add(struct jv_health *h, jv_time t, uint32_t rtt_ms)
{
	int64_t us = (int64_t)rtt_ms * 1000;

	h->rtt_at[h->rtt_head] = t;
	h->rtt_ms[h->rtt_head] = rtt_ms;
	h->rtt_head = (h->rtt_head + 1) % NR;
	if (h->rtt_count < NR)
		h->rtt_count++;
	if (!h->rtt_measured) {
		h->srtt_us = us;
		h->rtt_measured = true;
	} else {
		/* alpha = 0.25; truncation toward zero, exact for whole ms */
		h->srtt_us += (us - h->srtt_us) / 4;
	}
}

/* Settle stability up to t with the state as it was before the fact. */
static jv_time fact_begin(struct jv_health *h, const struct jv_policy *p,
			  jv_time now)
{
	jv_time t = clamp_now(h, now);
	jv_time lt = last_true_between(h, p, h->fact_ms, t);

	if (h->bad_ms == JV_TIME_NEVER || (lt != JV_TIME_NEVER && lt > h->bad_ms))
		h->bad_ms = lt != JV_TIME_NEVER ? lt : t;
	return t;
}

static void fact_end(struct jv_health *h, const struct jv_policy *p, jv_time t)
{
	h->fact_ms = t;
	if (cond_at(h, p, t) != JV_REASON_NONE)
		h->bad_ms = t;
}

void jv_health_init(struct jv_health *h, const struct jv_policy *p,
		    jv_time now)
{
	memset(h, 0, sizeof(*h));
	h->bucket_ms = bucket_width(p);
	h->last_ack_ms = now;
	h->last_good_ms = JV_TIME_NEVER;
	h->bad_ms = JV_TIME_NEVER;
	h->fact_ms = now;
}

void jv_health_on_ack(struct jv_health *h, const struct jv_policy *p,
		      jv_time now, uint32_t rtt_ms)
{
	jv_time t = fact_begin(h, p, now);

	loss_add(h, p, t, 1, 0, 1);
	h->consecutive_drops = 0;
	rtt_add(h, t, rtt_ms);
	h->last_ack_ms = t;
	h->last_good_ms = t;
	h->hard_failed = false;
	fact_end(h, p, t);
}

void jv_health_on_late_ack(struct jv_health *h, const struct jv_policy *p,
			   jv_time now, uint32_t rtt_ms)
{
	jv_time t = fact_begin(h, p, now);

	rtt_add(h, t, rtt_ms);
	h->last_good_ms = t;
	fact_end(h, p, t);
}

void jv_health_on_drop(struct jv_health *h, const struct jv_policy *p,
		       jv_time now)
{
	jv_time t = fact_begin(h, p, now);

	loss_add(h, p, t, 0, 1, 0);
	h->consecutive_drops = add_sat32(h->consecutive_drops, 1);
	fact_end(h, p, t);
}

void jv_health_on_data(struct jv_health *h, const struct jv_policy *p,
		       jv_time now, uint32_t received, uint32_t lost)
{
	jv_time t = fact_begin(h, p, now);

	loss_add(h, p, t, received, lost, 0);
	if (received)
		h->last_good_ms = t;
	fact_end(h, p, t);
}

void jv_health_on_lost_at(struct jv_health *h, const struct jv_policy *p,
			  jv_time now, jv_time at, uint32_t lost)
{
	jv_time t = fact_begin(h, p, now);
	uint64_t w = bucket_width(p);

	if (at > t)
		at = t;
	/* Only a sample whose bucket is still inside the window counts; its
	 * slot then holds that bucket or an older one (loss_add resets it). */
	if (w == h->bucket_ms && at / w + NB > t / w)
		loss_add(h, p, at, 0, lost, 0);
	fact_end(h, p, t);
}

void jv_health_on_alive(struct jv_health *h, const struct jv_policy *p,
			jv_time now)
{
	jv_time t = fact_begin(h, p, now);

	h->last_ack_ms = t;
	h->last_good_ms = t;
	h->hard_failed = false;
	fact_end(h, p, t);
}

void jv_health_on_hard_failure(struct jv_health *h, const struct jv_policy *p,
			       jv_time now)
{
	jv_time t = fact_begin(h, p, now);

	h->hard_failed = true;
	fact_end(h, p, t);
}

void jv_health_restart_windows(struct jv_health *h, jv_time now)
{
	jv_time t = clamp_now(h, now);

	loss_clear(h);
	h->consecutive_drops = 0;
	memset(h->rtt_at, 0, sizeof(h->rtt_at));
	memset(h->rtt_ms, 0, sizeof(h->rtt_ms));
	h->rtt_head = 0;
	h->rtt_count = 0;
	h->hard_failed = false;
	h->last_ack_ms = t;
	/* The commit ends the episode: stability counts from here (§6.1). */
	h->bad_ms = t;
	h->fact_ms = t;
}

enum jv_reason jv_health_condition(const struct jv_health *h,
				   const struct jv_policy *p, jv_time now)
{
	return cond_at(h, p, clamp_now(h, now));
}

static jv_time stability_at(const struct jv_health *h,
			    const struct jv_policy *p, jv_time t)
{
	jv_time bad = last_bad(h, p, t);

	return bad == JV_TIME_NEVER ? 0 : t - bad;
}

jv_time jv_health_stability_ms(const struct jv_health *h,
				const struct jv_policy *p, jv_time now)
{
	return stability_at(h, p, clamp_now(h, now));
}

bool jv_health_is_stable(const struct jv_health *h, const struct jv_policy *p,
			 jv_time now)
{
	jv_time t = clamp_now(h, now);

	/* ">=": one full window without a condition (§6.2, §6.3 step 3). */
	return h->bad_ms != JV_TIME_NEVER &&
	       stability_at(h, p, t) >= p->loss_window_ms;
}

bool jv_health_is_silent(const struct jv_health *h, const struct jv_policy *p,
			 jv_time now)
{
	return clamp_now(h, now) - h->last_ack_ms > p->heartbeat_volatile_ms;
}

bool jv_health_hard_failed(const struct jv_health *h)
{
	return h->hard_failed;
}

jv_time jv_health_drop_timeout_ms(const struct jv_health *h,
				  const struct jv_policy *p)
{
	uint64_t three_srtt;

	if (!h->rtt_measured)
		return p->heartbeat_interval_ms;
	three_srtt = ((uint64_t)h->srtt_us * 3 + 999) / 1000;
	return three_srtt > p->heartbeat_interval_ms ? three_srtt
						     : p->heartbeat_interval_ms;
}

static void earliest(jv_time *best, jv_time cand, jv_time now)
{
	if (cand > now && cand < *best)
		*best = cand;
}

jv_time jv_health_next_change(const struct jv_health *h,
			      const struct jv_policy *p, jv_time now)
{
	jv_time t = clamp_now(h, now);
	jv_time best = JV_TIME_NEVER;
	jv_time bad;

	/* limits are strict: the first millisecond past them (§2.4) */
	earliest(&best, add_sat(h->last_ack_ms,
				add_sat(p->heartbeat_volatile_ms, 1)), t);
	earliest(&best, add_sat(h->last_ack_ms,
				add_sat(p->transport_dead_ms, 1)), t);
	for (unsigned i = 0; h->loss_used && i < NB; i++) {
		if (h->delivered[i] || h->dropped[i])
			earliest(&best, (h->bucket_epoch[i] + NB) * h->bucket_ms, t);
	}
	if (p->latency_volatile_threshold_ms) {
		for (unsigned i = 0; i < h->rtt_count; i++)
			earliest(&best, add_sat(h->rtt_at[i],
						p->latency_window_ms), t);
	}
	bad = last_bad(h, p, t);
	if (bad != JV_TIME_NEVER)
		earliest(&best, add_sat(bad, p->loss_window_ms), t);
	return best;
}

double jv_health_score(bool defined, double loss, double jitter_ms,
		       double srtt_ms)
{
	double s = 100.0 - 2.0 * (100.0 * (defined ? loss : 0.0)) -
		   0.3 * jitter_ms - 0.1 * srtt_ms;

	return s > 0.0 ? s : 0.0;
}

void jv_health_snapshot(const struct jv_health *h, const struct jv_policy *p,
			jv_time now, struct jv_health_snapshot *out)
{
	jv_time t = clamp_now(h, now);
	struct loss_sum s = loss_at(h, t);
	uint32_t win[NR];
	uint32_t n = 0;
	double sum = 0.0;

	memset(out, 0, sizeof(*out));
	out->loss_samples = (uint32_t)(s.delivered + s.dropped > UINT32_MAX
				       ? UINT32_MAX : s.delivered + s.dropped);
	out->acked_in_window = (uint32_t)(s.acked > UINT32_MAX ? UINT32_MAX
							       : s.acked);
	out->loss_defined = loss_defined(p, &s);
	out->loss_ratio = out->loss_defined ? loss_ratio(&s) : 0.0;
	out->consecutive_drops = h->consecutive_drops;
	out->rtt_measured = h->rtt_measured;
	out->srtt_ms = h->rtt_measured ? (double)h->srtt_us / 1000.0 : 0.0;

	for (unsigned i = 0; i < h->rtt_count; i++) {
		if (!rtt_in_window(h, p, i, t))
			continue;
		/* insertion sort: at most JV_RTT_SAMPLES_MAX values */
		uint32_t v = h->rtt_ms[i], j = n++;

		while (j > 0 && win[j - 1] > v) {
			win[j] = win[j - 1];
			j--;
		}
		win[j] = v;
		sum += v;
	}
	if (n) {
		out->p95_defined = true;
		out->p95_ms = win[p95_rank(n) - 1];
	}
	if (n >= 2) {
		double mean = sum / n, dev = 0.0;

		for (uint32_t i = 0; i < n; i++)
			dev += win[i] > mean ? win[i] - mean : mean - win[i];
		out->jitter_ms = dev / n;
	}

	out->last_good_ms = h->last_good_ms;
	out->heartbeat_age_ms = t - h->last_ack_ms;
	out->stability_ms = stability_at(h, p, t);
	out->hard_failed = h->hard_failed;
	out->score = jv_health_score(out->loss_defined, out->loss_ratio,
				     out->jitter_ms, out->srtt_ms);
}
