/* SPDX-License-Identifier: MIT */
#ifndef JVPN_RATELIMIT_H
#define JVPN_RATELIMIT_H

/*
 * Rate limits that sit in front of costly actions: the §6.4 step 3 switch
 * gates (per-minute cap and cooldown), a deterministic token bucket (spec
 * §4 CONTROL_RATE per session and per source, handshake admission) and the
 * §6.5/§8.5 log limiter.  Fixed size, no allocation, time passed in.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "policy.h"
#include "reason.h"

/* ---- switch gates (§6.4 step 3) ---- */

struct jv_switch_limiter {
	jv_time commits[JV_SWITCH_HISTORY_MAX];	/* ring, oldest first from tail */
	uint32_t head;
	uint32_t count;
	jv_time last_attempt_ms;
	bool has_attempt;
};

void jv_switch_limiter_init(struct jv_switch_limiter *l);
/* An attempt started (ReattachAttempt): the cooldown runs from here. */
void jv_switch_record_attempt(struct jv_switch_limiter *l, jv_time now);
/* A switch committed (TransportSwitch): counts toward the 60 s cap.  A time
 * before the previous commit is taken as the previous commit time. */
void jv_switch_record_commit(struct jv_switch_limiter *l, jv_time now);

/* TransportSwitch commits in (now - 60 000, now]. */
unsigned jv_switch_count(const struct jv_switch_limiter *l, jv_time now);
/* Those commits' times, oldest first, into out; returns how many (what a
 * session record carries, so a restart keeps the 60 s cap, PD-9). */
unsigned jv_switch_recent(const struct jv_switch_limiter *l, jv_time now,
			  jv_time out[JV_SWITCH_HISTORY_MAX]);

/*
 * Is a switch of this class held to MAX_SWITCHES_PER_MIN?  PD-7: only
 * discretionary ones, except that a cap of 0 disables switching
 * altogether (an operator pinning the session to its binding).
 */
static inline bool jv_switch_is_capped(const struct jv_policy *p, bool forced)
{
	return !forced || p->max_switches_per_min == 0;
}

/*
 * §6.4 step 3, in order; the first failing gate decides:
 *  (a) only if binding_changes: fewer than MAX_SWITCHES_PER_MIN commits in
 *      the window, else switch_rate_limited (0 = switching disabled; the
 *      cap is at most JV_SWITCH_HISTORY_MAX, the commits the ring holds);
 *  (b) now - last attempt start >= SWITCH_COOLDOWN_MS (or no attempt yet),
 *      else cooldown_active;
 *  (c) trigger_permitted, else policy_denied.
 * JV_REASON_NONE when all pass.
 */
enum jv_reason jv_switch_gates(const struct jv_switch_limiter *l,
			       const struct jv_policy *p, jv_time now,
			       bool binding_changes, bool trigger_permitted);

/*
 * Earliest time >= now at which gates (a) (if binding_changes) and (b)
 * pass with no new record: now if they pass already; JV_TIME_NEVER if
 * switching is disabled and the binding would change.
 */
jv_time jv_switch_next_allowed(const struct jv_switch_limiter *l,
			       const struct jv_policy *p, jv_time now,
			       bool binding_changes);

/* ---- token bucket ---- */

/*
 * Integer arithmetic only, so a run is reproducible: the rate is kept in
 * milli-tokens per second (rate_per_sec rounded to 1/1000) and the level in
 * micro-tokens, so refilling over any split of the elapsed time gives the
 * same level (no rounding drift).  Starts full.
 */
struct jv_token_bucket {
	uint64_t rate_mtps;	/* milli-tokens per second */
	uint64_t cap_ut;	/* burst, micro-tokens */
	uint64_t level_ut;	/* micro-tokens */
	jv_time last_ms;	/* time of the last refill */
};

enum { JV_TOKEN_UT = 1000000 };	/* micro-tokens per token */

/* Returns 0, or JV_ERR_INVAL if rate_per_sec is not finite or not in
 * [0.001, 1e9] or burst is 0. */
JV_MUST_CHECK int jv_token_bucket_init(struct jv_token_bucket *b,
				       double rate_per_sec, uint32_t burst,
				       jv_time now);
/* Refill to now, then take one token if there is one.  Returns true if
 * taken (the action may proceed), false if the bucket is empty. */
bool jv_token_bucket_take(struct jv_token_bucket *b, jv_time now);
/* Earliest time >= now at which one token is available (retry_after). */
jv_time jv_token_bucket_next_ms(const struct jv_token_bucket *b, jv_time now);
/* Whole tokens available at now (no state change). */
uint64_t jv_token_bucket_tokens(const struct jv_token_bucket *b, jv_time now);

/* ---- log limiter (§6.5, §8.5) ---- */

/*
 * At most one event per reason per interval for one key (a session, or
 * one source): a table indexed by enum jv_reason, so no reason can push
 * another out.  Suppressed events are counted; the next emitted one
 * carries the count (details.suppressed_count), so counts are never lost.
 */
struct jv_log_limiter {
	uint64_t interval_ms;			/* 0: never suppress */
	jv_time last_ms[JV_REASON_COUNT];	/* last emitted; NEVER: none */
	uint32_t suppressed[JV_REASON_COUNT];
};

void jv_log_limiter_init(struct jv_log_limiter *l, uint64_t interval_ms);
/*
 * Returns 1 if the event for `r` may be emitted at now (then
 * *suppressed_count = events suppressed since the previous emitted one,
 * and the count restarts), 0 if it is suppressed (and counted), or
 * JV_ERR_INVAL if r is not a reason code.  Emitted again once now - last
 * emitted >= interval_ms.
 */
JV_MUST_CHECK int jv_log_limiter_check(struct jv_log_limiter *l,
				       enum jv_reason r, jv_time now,
				       uint32_t *suppressed_count);
/* Suppressed events for r not yet reported (for a final summary). */
uint32_t jv_log_limiter_pending(const struct jv_log_limiter *l,
				enum jv_reason r);

#endif
