/* SPDX-License-Identifier: MIT */
/*
 * Candidate filters and the switch decision of spec §6.3 and §6.4 steps
 * 1-2.  Pure: reads snapshots, writes one result, keeps no state.  The
 * ranking is a total order (ids are unique), so the array order of the
 * input cannot change the outcome.
 */

#include <math.h>
#include <string.h>

#include "jvpn/select.h"

static double loss_key(const struct jv_health_snapshot *h)
{
	/* undefined loss counts as 0, as in the §6.1 score */
	return h->loss_defined ? h->loss_ratio : 0.0;
}

static bool lat_key(const struct jv_health_snapshot *h, double *v)
{
	if (h->p95_defined)
		*v = h->p95_ms;
	else if (h->rtt_measured)
		*v = h->srtt_ms;
	else
		return false;
	return true;
}

int jv_candidate_rank_cmp(const struct jv_candidate *a,
			  const struct jv_candidate *b)
{
	double la = loss_key(&a->h), lb = loss_key(&b->h);
	double va = 0.0, vb = 0.0;
	bool ma = lat_key(&a->h, &va), mb = lat_key(&b->h, &vb);

	if (la != lb)
		return la < lb ? -1 : 1;
	if (ma != mb)
		return ma ? -1 : 1;	/* measured latency before unmeasured */
	if (va != vb)
		return va < vb ? -1 : 1;
	if (a->h.stability_ms != b->h.stability_ms)
		return a->h.stability_ms > b->h.stability_ms ? -1 : 1;
	/* byte order: strncmp compares as unsigned char */
	return strncmp(a->id, b->id, JV_TRANSPORT_ID_MAX);
}

static bool id_ok(const char *id)
{
	return id[0] && memchr(id, '\0', JV_TRANSPORT_ID_MAX);
}

static bool snapshot_ok(const struct jv_health_snapshot *h)
{
	if (h->loss_defined && !(h->loss_ratio >= 0.0 && h->loss_ratio <= 1.0))
		return false;
	return !isnan(h->score) && !isnan(h->srtt_ms) && !isnan(h->jitter_ms);
}

static int invalid(struct jv_select_result *out, int idx, const char *why)
{
	if (out) {
		out->why = why;
		out->bad_index = idx;
	}
	return JV_ERR_INVAL;
}

static bool one_proto(uint32_t proto)
{
	uint32_t known = JV_PROTO_UDP | JV_PROTO_QUIC | JV_PROTO_TCP;

	return proto && !(proto & ~known) && !(proto & (proto - 1));
}

static int validate(const struct jv_select_binding *b,
		    const struct jv_candidate *c, size_t n,
		    const struct jv_policy *p, const char *ordered,
		    struct jv_select_result *out)
{
	if (!p || !out)
		return invalid(out, -1, "policy and result must not be NULL");
	if (n && !c)
		return invalid(out, -1, "candidate array is NULL but n > 0");
	if (n > JV_MAX_TRANSPORTS)
		return invalid(out, -1, "more candidates than JV_MAX_TRANSPORTS");
	if (b && !id_ok(b->id))
		return invalid(out, -1, "binding id is empty or not NUL-terminated");
	if (b && !snapshot_ok(&b->h))
		return invalid(out, -1, "binding loss ratio outside [0, 1] or NaN metric");
	if (ordered && !memchr(ordered, '\0', JV_TRANSPORT_ID_MAX))
		return invalid(out, -1, "operator-ordered id longer than JV_TRANSPORT_ID_MAX");
	for (size_t i = 0; i < n; i++) {
		if (!id_ok(c[i].id))
			return invalid(out, (int)i, "candidate id is empty or not NUL-terminated");
		if (!one_proto(c[i].proto))
			return invalid(out, (int)i, "candidate proto is not exactly one of udp, quic, tcp");
		if (!snapshot_ok(&c[i].h) || isnan(c[i].flap_penalty))
			return invalid(out, (int)i, "candidate loss ratio outside [0, 1] or NaN metric");
		for (size_t j = 0; j < i; j++) {
			if (!strncmp(c[i].id, c[j].id, JV_TRANSPORT_ID_MAX))
				return invalid(out, (int)i, "duplicate candidate id");
		}
	}
	return 0;
}

static bool silent(const struct jv_health_snapshot *h,
		   const struct jv_policy *p)
{
	return h->heartbeat_age_ms > p->heartbeat_volatile_ms;
}

/* §6.3.4 */
static bool healthy(const struct jv_health_snapshot *h,
		    const struct jv_policy *p)
{
	if (h->loss_defined) {
		if (h->loss_ratio > p->loss_volatile_threshold)
			return false;
	} else if (h->acked_in_window < 1 || h->consecutive_drops != 0) {
		return false;
	}
	if (silent(h, p) || h->hard_failed)
		return false;
	if (p->latency_volatile_threshold_ms && h->p95_defined &&
	    h->p95_ms > p->latency_volatile_threshold_ms)
		return false;
	if (p->candidate_score_threshold >= 0.0 &&
	    h->score < p->candidate_score_threshold)
		return false;
	return true;
}

/* §6.3.1: TTL first, then the worst-ranked beyond MAX_CANDIDATE_COUNT. */
static uint32_t evict(const struct jv_candidate *c, size_t n, uint32_t skip,
		      const struct jv_policy *p, jv_time now)
{
	unsigned order[JV_MAX_TRANSPORTS];
	unsigned kept = 0;
	uint32_t mask = 0;

	for (unsigned i = 0; i < n; i++) {
		jv_time last = c[i].last_probe_ok_ms;

		if (skip & (1u << i))
			continue;
		if (last == JV_TIME_NEVER ||
		    (now > last && now - last > p->candidate_ttl_ms)) {
			mask |= 1u << i;
			continue;
		}
		/* insertion by rank: n <= JV_MAX_TRANSPORTS */
		unsigned j = kept++;

		while (j > 0 && jv_candidate_rank_cmp(&c[order[j - 1]], &c[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (unsigned k = p->max_candidate_count; k < kept; k++)
		mask |= 1u << order[k];
	return mask;
}

/* A binding the session has lost (PD-6 scores it 0): silent, or in a run
 * of drops.  Leaving it is forced (PD-7). */
static bool lost(const struct jv_select_binding *b, const struct jv_policy *p)
{
	return silent(&b->h, p) ||
	       b->h.consecutive_drops >= p->max_consecutive_drops;
}

/*
 * Confidence bound of a loss ratio observed as `phat` over n samples: the
 * Wilson score interval, which stays inside [0, 1] and is honest for small
 * n and for 0 or 1 observed (where the normal approximation collapses to
 * a point).  sign +1: upper bound, -1: lower.
 */
static double wilson(double phat, uint32_t samples, int sign)
{
	/* two-sided 95 %: one comparison of two bounds is then about a
	 * 99.7 % one-sided test, so a switch between two equally good paths
	 * needs a very unlucky sample, not an ordinary one */
	const double z = 1.96;
	double n = samples ? (double)samples : 1.0;
	double z2n = z * z / n;
	double centre = phat + z2n / 2.0;
	double half = z * sqrt(phat * (1.0 - phat) / n + z2n / (4.0 * n));
	double v = (centre + sign * half) / (1.0 + z2n);

	return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

/*
 * Hysteresis (§6.4 step 2) made statistically sound: w displaces the live
 * binding b only if w's score at the pessimistic end of its estimates
 * beats b's at the optimistic end by SWITCH_IMPROVEMENT_FACTOR.  A
 * candidate whose loss is still undefined (fewer than MIN_LOSS_SAMPLES)
 * has shown nothing (D-012); a binding whose loss is undefined is taken
 * at loss 0.
 */
static bool significantly_better(const struct jv_health_snapshot *w,
				 const struct jv_health_snapshot *b,
				 const struct jv_policy *p)
{
	if (!w->loss_defined)
		return false;
	double w_loss = wilson(w->loss_ratio, w->loss_samples, +1);
	double b_loss = b->loss_defined
			? wilson(b->loss_ratio, b->loss_samples, -1) : 0.0;
	double w_rtt = w->srtt_ms + w->jitter_ms;
	double b_rtt = b->srtt_ms > b->jitter_ms ? b->srtt_ms - b->jitter_ms : 0.0;
	double sw = jv_health_score(true, w_loss, w->jitter_ms, w_rtt);
	double sb = jv_health_score(true, b_loss, b->jitter_ms, b_rtt);

	return sw > sb * p->switch_improvement_factor;
}

/* Alive: answering now (an ACK in the window, not in a drop run of
 * MAX_CONSECUTIVE_DROPS, not silent, no hard failure: not what PD-6 calls
 * lost), whatever its loss window still says. */
static uint32_t alive_mask(const struct jv_candidate *c, size_t n,
			   uint32_t skip, const struct jv_policy *p, jv_time now)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct jv_health_snapshot *h = &c[i].h;

		if ((skip & (1u << i)) || now < c[i].excluded_until_ms)
			continue;
		if (h->acked_in_window >= 1 &&
		    h->consecutive_drops < p->max_consecutive_drops &&
		    !silent(h, p) && !h->hard_failed)
			m |= 1u << i;
	}
	return m;
}

/* The least-penalised candidate of mask, then by rank; -1 if none. */
static int fallback(const struct jv_candidate *c, size_t n, uint32_t mask,
		    int least)
{
	for (unsigned i = 0; i < n; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (least < 0 || c[i].flap_penalty < c[least].flap_penalty ||
		    (c[i].flap_penalty == c[least].flap_penalty &&
		     jv_candidate_rank_cmp(&c[i], &c[least]) < 0))
			least = (int)i;
	}
	return least;
}

static void take(struct jv_select_result *out, const struct jv_candidate *c,
		 unsigned i)
{
	out->eligible_mask |= 1u << i;
	out->candidate_set_size++;
	if (out->best < 0 || jv_candidate_rank_cmp(&c[i], &c[out->best]) < 0)
		out->best = (int)i;
}

int jv_select(const struct jv_select_binding *b, const struct jv_candidate *c,
	      size_t n, const struct jv_policy *p, jv_time now,
	      const char *ordered, struct jv_select_result *out)
{
	uint32_t skip = 0, refused = 0, damped = 0;
	enum jv_target_why why[JV_MAX_TRANSPORTS];
	int w = -1, target = -1;
	unsigned min_count;
	int err;

	if (out) {
		memset(out, 0, sizeof(*out));
		out->winner = out->best = out->bad_index = -1;
		out->reason = JV_REASON_NONE;
	}
	err = validate(b, c, n, p, ordered, out);
	if (err)
		return err;
	out->forced = !b || b->dead || lost(b, p);

	for (unsigned i = 0; i < n; i++) {
		why[i] = JV_TARGET_OK;
		if (b && !strncmp(c[i].id, b->id, JV_TRANSPORT_ID_MAX))
			skip |= 1u << i;
		if (ordered && ordered[0] &&
		    !strncmp(c[i].id, ordered, JV_TRANSPORT_ID_MAX) &&
		    !(skip & (1u << i)))
			target = (int)i;
	}
	out->evict_mask = evict(c, n, skip, p, now);

	for (unsigned i = 0; i < n; i++) {
		const struct jv_candidate *ci = &c[i];

		if (skip & (1u << i))
			continue;
		if (out->evict_mask & (1u << i)) {
			why[i] = JV_TARGET_EVICTED;
			continue;
		}
		if (!(ci->proto & p->allowed_protocols) || ci->blacklisted) {
			refused |= 1u << i;
			why[i] = JV_TARGET_REFUSED;
			continue;
		}
		if (now < ci->excluded_until_ms) {
			why[i] = JV_TARGET_EXCLUDED;
			continue;
		}
		if (ci->needs_restabilize) {
			if (ci->h.stability_ms < p->loss_window_ms) {
				why[i] = JV_TARGET_EXCLUDED;
				continue;
			}
			out->restabilized_mask |= 1u << i;
		}
		if (!healthy(&ci->h, p)) {
			why[i] = JV_TARGET_UNHEALTHY;
			continue;
		}
		if (ci->damped) {
			damped |= 1u << i;
			why[i] = JV_TARGET_DAMPED;
			continue;
		}
		take(out, c, i);
	}

	/* PD-7 / LIV-10: a lost binding is left for any transport that is
	 * alive.  First the damped ones that pass every filter, then those
	 * that answer but fail a quality filter or are still restabilising
	 * after a failed attempt (a path back from the dead carries its dead
	 * window for a while, and waiting for it to clear is an outage);
	 * each time the least-penalised, then the usual rank. */
	if (!out->candidate_set_size && out->forced && !(ordered && ordered[0])) {
		int least = fallback(c, n, damped, -1);

		if (least < 0)
			least = fallback(c, n, alive_mask(c, n, skip | refused,
							  p, now), -1);
		if (least >= 0) {
			take(out, c, (unsigned)least);
			out->damped_fallback = c[least].damped;
			out->alive_fallback = !(damped & (1u << least));
		}
	}

	min_count = p->candidate_min_count ? p->candidate_min_count : 1;
	if (out->candidate_set_size >= min_count) {
		if (!ordered || !ordered[0])
			w = out->best;
		else if (target >= 0 && (out->eligible_mask & (1u << target)))
			w = target;
	}
	if (ordered && ordered[0])
		out->target_why = target < 0 ? JV_TARGET_UNKNOWN
				  : why[target] != JV_TARGET_OK ? why[target]
				  : w < 0 ? JV_TARGET_MIN_COUNT : JV_TARGET_OK;

	/* An order that cannot be carried out is refused, whatever b is. */
	if (ordered && w < 0) {
		out->outcome = JV_SELECT_DENY;
		out->reason = target >= 0 && (refused & (1u << target))
			      ? JV_REASON_POLICY_DENIED
			      : JV_REASON_NO_CANDIDATE_TRANSPORTS;
		return 0;
	}

	/* §6.4 step 2, in its order. */
	if (!b || b->dead) {
		out->outcome = w >= 0 ? JV_SELECT_SWITCH : JV_SELECT_DENY;
		out->winner = w;
		out->reason = w >= 0 ? JV_REASON_DEAD_TRANSPORT_RECOVERY
				     : JV_REASON_NO_CANDIDATE_TRANSPORTS;
		return 0;
	}
	if (w >= 0) {
		/* PD-6: a silent binding, or one in a drop run, scores 0 and
		 * loses hysteresis to any eligible candidate at once.  The
		 * client probes candidates faster while VOLATILE/DEGRADED so
		 * their evidence comes within one loss window (D-012). */
		if (!p->enforce_hysteresis || ordered || out->forced ||
		    significantly_better(&c[w].h, &b->h, p)) {
			out->outcome = JV_SELECT_SWITCH;
			out->winner = w;
			out->reason = ordered ? JV_REASON_POLICY_FORCED_RECOVERY
					      : JV_REASON_LOSS_RECOVERY;
			return 0;
		}
		out->hysteresis_blocked = true;
	}
	if (b->h.stability_ms >= p->loss_window_ms) {
		out->outcome = JV_SELECT_REVALIDATE;
		out->reason = JV_REASON_HEALTH_RECOVERED;	/* D3 */
		return 0;
	}
	if (silent(&b->h, p) && w < 0) {
		/* path re-validation, e.g. NAT rebinding (S3) */
		out->outcome = JV_SELECT_REVALIDATE;
		out->reason = JV_REASON_LOSS_RECOVERY;
		return 0;
	}
	out->outcome = JV_SELECT_DENY;
	out->reason = out->hysteresis_blocked ? JV_REASON_POLICY_DENIED
					      : JV_REASON_NO_CANDIDATE_TRANSPORTS;
	return 0;
}
