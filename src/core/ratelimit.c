/* SPDX-License-Identifier: MIT */
/*
 * Switch gates, token bucket and log limiter.  Windows follow §2.4: the
 * rate window is (now - 60 000, now], so a commit at t stops counting at
 * t + 60 000; the cooldown passes once now - last attempt >= the cooldown
 * (§6.4 writes that one with >=).
 */

#include <math.h>
#include <string.h>

#include "jvpn/ratelimit.h"

enum { NH = JV_SWITCH_HISTORY_MAX };

static jv_time add_sat(jv_time a, uint64_t b)
{
	return a > JV_TIME_NEVER - b ? JV_TIME_NEVER : a + b;
}

void jv_switch_limiter_init(struct jv_switch_limiter *l)
{
	memset(l, 0, sizeof(*l));
}

void jv_switch_record_attempt(struct jv_switch_limiter *l, jv_time now)
{
	if (l->has_attempt && now < l->last_attempt_ms)
		now = l->last_attempt_ms;
	l->last_attempt_ms = now;
	l->has_attempt = true;
}

static jv_time commit_at(const struct jv_switch_limiter *l, uint32_t k)
{
	/* k-th oldest held commit */
	return l->commits[(l->head + NH - l->count + k) % NH];
}

void jv_switch_record_commit(struct jv_switch_limiter *l, jv_time now)
{
	/* keep the ring sorted so next_allowed can read it oldest first */
	if (l->count && now < commit_at(l, l->count - 1))
		now = commit_at(l, l->count - 1);
	l->commits[l->head] = now;
	l->head = (l->head + 1) % NH;
	if (l->count < NH)
		l->count++;
}

static bool in_rate_window(jv_time c, jv_time now)
{
	return c <= now && now - c < JV_SWITCH_RATE_WINDOW_MS;
}

unsigned jv_switch_count(const struct jv_switch_limiter *l, jv_time now)
{
	unsigned n = 0;

	for (uint32_t k = 0; k < l->count; k++)
		n += in_rate_window(commit_at(l, k), now);
	return n;
}

unsigned jv_switch_recent(const struct jv_switch_limiter *l, jv_time now,
			  jv_time out[JV_SWITCH_HISTORY_MAX])
{
	unsigned n = 0;

	for (uint32_t k = 0; k < l->count; k++)
		if (in_rate_window(commit_at(l, k), now))
			out[n++] = commit_at(l, k);
	return n;
}

/* The ring holds NH commits, so a larger cap could never be reached:
 * clamp it (fail closed) rather than never limiting. */
static unsigned rate_cap(const struct jv_policy *p)
{
	return p->max_switches_per_min < NH ? p->max_switches_per_min : NH;
}

enum jv_reason jv_switch_gates(const struct jv_switch_limiter *l,
			       const struct jv_policy *p, jv_time now,
			       bool binding_changes, bool trigger_permitted)
{
	if (binding_changes && jv_switch_count(l, now) >= rate_cap(p))
		return JV_REASON_SWITCH_RATE_LIMITED;
	if (l->has_attempt && (now < l->last_attempt_ms ||
			       now - l->last_attempt_ms < p->switch_cooldown_ms))
		return JV_REASON_COOLDOWN_ACTIVE;
	if (!trigger_permitted)
		return JV_REASON_POLICY_DENIED;
	return JV_REASON_NONE;
}

jv_time jv_switch_next_allowed(const struct jv_switch_limiter *l,
			       const struct jv_policy *p, jv_time now,
			       bool binding_changes)
{
	jv_time t = now;
	unsigned cap, k = 0, first = 0;

	if (l->has_attempt) {
		jv_time cd = add_sat(l->last_attempt_ms, p->switch_cooldown_ms);

		if (cd > t)
			t = cd;
	}
	if (!binding_changes)
		return t;
	cap = rate_cap(p);
	if (!cap)
		return JV_TIME_NEVER;
	/* commits in the window at t, oldest first; the count only falls
	 * as t grows, so wait for the (k - cap + 1)-th oldest to leave */
	for (uint32_t i = 0; i < l->count; i++) {
		if (!in_rate_window(commit_at(l, i), t))
			continue;
		if (!k++)
			first = i;
	}
	if (k >= cap) {
		jv_time leave = add_sat(commit_at(l, first + (k - cap)),
					JV_SWITCH_RATE_WINDOW_MS);

		if (leave > t)
			t = leave;
	}
	return t;
}

/* ---- token bucket ---- */

int jv_token_bucket_init(struct jv_token_bucket *b, double rate_per_sec,
			 uint32_t burst, jv_time now)
{
	if (!b || !isfinite(rate_per_sec) || rate_per_sec < 0.001 ||
	    rate_per_sec > 1e9 || burst == 0)
		return JV_ERR_INVAL;
	b->rate_mtps = (uint64_t)(rate_per_sec * 1000.0 + 0.5);
	b->cap_ut = (uint64_t)burst * JV_TOKEN_UT;
	b->level_ut = b->cap_ut;
	b->last_ms = now;
	return 0;
}

/*
 * One milli-token per second is one micro-token per millisecond, so the
 * refill over e ms is exactly e * rate_mtps micro-tokens.
 */
static uint64_t level_at(const struct jv_token_bucket *b, jv_time now)
{
	uint64_t room, e;

	if (now <= b->last_ms)
		return b->level_ut;
	room = b->cap_ut - b->level_ut;
	e = now - b->last_ms;
	/* compare before multiplying: e * rate may not fit */
	if (e >= (room + b->rate_mtps - 1) / b->rate_mtps)
		return b->cap_ut;
	return b->level_ut + e * b->rate_mtps;
}

bool jv_token_bucket_take(struct jv_token_bucket *b, jv_time now)
{
	b->level_ut = level_at(b, now);
	if (now > b->last_ms)
		b->last_ms = now;
	if (b->level_ut < JV_TOKEN_UT)
		return false;
	b->level_ut -= JV_TOKEN_UT;
	return true;
}

jv_time jv_token_bucket_next_ms(const struct jv_token_bucket *b, jv_time now)
{
	jv_time t = now > b->last_ms ? now : b->last_ms;
	uint64_t level = level_at(b, t);

	if (level >= JV_TOKEN_UT)
		return t;
	return add_sat(t, (JV_TOKEN_UT - level + b->rate_mtps - 1) / b->rate_mtps);
}

uint64_t jv_token_bucket_tokens(const struct jv_token_bucket *b, jv_time now)
{
	return level_at(b, now) / JV_TOKEN_UT;
}

/* ---- log limiter ---- */

void jv_log_limiter_init(struct jv_log_limiter *l, uint64_t interval_ms)
{
	l->interval_ms = interval_ms;
	for (unsigned r = 0; r < JV_REASON_COUNT; r++) {
		l->last_ms[r] = JV_TIME_NEVER;
		l->suppressed[r] = 0;
	}
}

int jv_log_limiter_check(struct jv_log_limiter *l, enum jv_reason r,
			 jv_time now, uint32_t *suppressed_count)
{
	jv_time last;

	if ((int)r < 0 || r >= JV_REASON_COUNT || !suppressed_count)
		return JV_ERR_INVAL;
	last = l->last_ms[r];
	if (last != JV_TIME_NEVER && l->interval_ms &&
	    (now < last || now - last < l->interval_ms)) {
		if (l->suppressed[r] < UINT32_MAX)
			l->suppressed[r]++;
		return 0;
	}
	*suppressed_count = l->suppressed[r];
	l->suppressed[r] = 0;
	l->last_ms[r] = now;
	return 1;
}

uint32_t jv_log_limiter_pending(const struct jv_log_limiter *l,
				enum jv_reason r)
{
	if ((int)r < 0 || r >= JV_REASON_COUNT)
		return 0;
	return l->suppressed[r];
}
