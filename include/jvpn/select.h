/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SELECT_H
#define JVPN_SELECT_H

/*
 * Candidate selection (spec §6.3 filters, §6.4 steps 1-2): a pure function
 * over plain health snapshots.  Same inputs, same result, whatever the
 * order of the candidate array; never random.  The §6.4 step 3 gates
 * (rate, cooldown, trigger) are in include/jvpn/ratelimit.h.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "health.h"
#include "limits.h"
#include "policy.h"
#include "reason.h"

struct jv_candidate {
	char id[JV_TRANSPORT_ID_MAX];	/* transport_id, NUL-terminated, unique */
	uint32_t proto;			/* exactly one enum jv_proto bit */
	bool blacklisted;		/* operator list */
	/* last successful probe, or when the candidate was added if none yet */
	jv_time last_probe_ok_ms;
	/* a failed/denied attempt excludes it until this time (attempt end +
	 * SWITCH_COOLDOWN_MS); 0 = not excluded */
	jv_time excluded_until_ms;
	/* after that, excluded until stability_ms >= LOSS_WINDOW_MS (§6.3.3);
	 * clear it when the result's restabilized_mask says so */
	bool needs_restabilize;
	/* PD-7 flap damping: a damped candidate is taken only when the
	 * binding is gone or lost and no undamped one is eligible; then the
	 * least-penalised one */
	bool damped;
	double flap_penalty;
	struct jv_health_snapshot h;
};

/* The current binding as selection sees it. */
struct jv_select_binding {
	char id[JV_TRANSPORT_ID_MAX];
	bool dead;			/* declared DEAD (TransportDead) */
	struct jv_health_snapshot h;
};

/* Why the operator-ordered candidate is not eligible (the refusal names
 * it). */
enum jv_target_why {
	JV_TARGET_OK,
	JV_TARGET_UNKNOWN,	/* no such candidate (or it is the binding) */
	JV_TARGET_EVICTED,	/* no successful probe for CANDIDATE_TTL_MS */
	JV_TARGET_REFUSED,	/* protocol not allowed or blacklisted */
	JV_TARGET_EXCLUDED,	/* its attempt failed: cooldown, then restabilise */
	JV_TARGET_UNHEALTHY,	/* silent, lossy, slow or hard-failed */
	JV_TARGET_DAMPED,	/* flap penalty above FLAP_SUPPRESS (PD-7) */
	JV_TARGET_MIN_COUNT,	/* fewer than CANDIDATE_MIN_COUNT eligible */
};

enum jv_select_outcome {
	JV_SELECT_SWITCH,	/* reattach to candidates[winner] */
	JV_SELECT_REVALIDATE,	/* reattach to the binding itself */
	JV_SELECT_DENY,		/* switch_gate_fail(reason) */
};

struct jv_select_result {
	enum jv_select_outcome outcome;
	int winner;		/* index of the switch target, or -1 */
	int best;		/* ranked winner w even if not taken, or -1 */
	/* loss_recovery / dead_transport_recovery / policy_forced_recovery /
	 * health_recovered, or policy_denied / no_candidate_transports */
	enum jv_reason reason;
	unsigned candidate_set_size;	/* eligible candidates (§6.4.1) */
	bool hysteresis_blocked;	/* w existed but did not beat b */
	/* PD-7: the binding is null, dead, silent or in a drop run, so a
	 * switch (or revalidation) now is forced, not discretionary */
	bool forced;
	bool damped_fallback;		/* every eligible candidate was damped */
	/* the binding was lost and no candidate passed the filters: one that
	 * answers now was taken anyway (PD-7, LIV-10) */
	bool alive_fallback;
	enum jv_target_why target_why;	/* operator-ordered target */
	uint32_t evict_mask;		/* bit i: drop candidates[i] (§6.3.1) */
	uint32_t eligible_mask;		/* bit i: passed every filter */
	uint32_t restabilized_mask;	/* bit i: clear needs_restabilize */
	/* on JV_ERR_INVAL: what is wrong, and which candidate (-1: other) */
	const char *why;
	int bad_index;
};

/*
 * Decide what the requester does at `now` (§6.4).  `b` is the binding or
 * NULL; a candidate carrying b's id is skipped (the binding is never its
 * own candidate: revalidation is an outcome).  `operator_ordered` is NULL
 * (no order), "" (operator ordered a switch to the best candidate) or a
 * transport_id (switch to exactly that one; if it is not eligible the
 * order is denied: policy_denied if §6.3.2 refused it, else
 * no_candidate_transports).
 *
 * Filters (§6.3): evict (now - last_probe_ok_ms > CANDIDATE_TTL_MS, then
 * the worst-ranked beyond MAX_CANDIDATE_COUNT), protocol allowed and not
 * blacklisted, not excluded, healthy (loss <= threshold, or if undefined
 * >= 1 ACK in the window and no drop run; not silent; no pending hard
 * failure; p95 <= latency threshold if set and measured; score >= score
 * threshold if set), not damped.  PD-7 / LIV-10: when the binding is gone
 * or lost and nothing passes, the least-penalised damped candidate that
 * passes the other filters is taken, else the least-penalised one that
 * answers now (an ACK in the window, no drop run, not silent or failed)
 * whatever its loss window or restabilisation says.
 *
 * Hysteresis: a candidate displaces a live binding only if its score,
 * computed from the pessimistic end of its estimates (the upper Wilson
 * bound of its loss ratio given its sample count, srtt + jitter), exceeds
 * SWITCH_IMPROVEMENT_FACTOR times the binding's from the optimistic end
 * (lower loss bound, srtt - jitter): two paths whose estimates differ by
 * sampling noise do not displace each other (decisions D-013).  Ranking (§6.4.1): loss ascending (undefined counts
 * as 0, as in the score), p95 (srtt if no p95; unmeasured last) ascending,
 * stability descending, transport_id ascending (byte order).
 *
 * Returns 0 with *out filled, or JV_ERR_INVAL (out->why, out->bad_index
 * say what) for: NULL p/out, NULL c with n > 0, n > JV_MAX_TRANSPORTS, an
 * id not NUL-terminated or empty, duplicate ids, a proto that is not one
 * known bit, a loss ratio outside [0, 1] or a NaN score.
 */
JV_MUST_CHECK int jv_select(const struct jv_select_binding *b,
			    const struct jv_candidate *c, size_t n,
			    const struct jv_policy *p, jv_time now,
			    const char *operator_ordered,
			    struct jv_select_result *out);

/* §6.4.1 order: < 0 if a ranks before b, > 0 after, 0 only for equal ids. */
int jv_candidate_rank_cmp(const struct jv_candidate *a,
			  const struct jv_candidate *b);

#endif
