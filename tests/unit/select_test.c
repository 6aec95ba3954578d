/* SPDX-License-Identifier: MIT */
/* Candidate filters, ranking and the §6.4 step-2 outcomes. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/select.h"

#define NOW 100000

/* Spec §4 defaults (policy_test checks them value by value). */
static void policy_defaults(struct jv_policy *p)
{
	jv_policy_default(p);
}

/* A healthy snapshot: defined loss, measured p95, recent ACKs. */
static struct jv_health_snapshot hs(double loss, uint32_t p95,
				    jv_time stability, double score)
{
	struct jv_health_snapshot h = {
		.loss_ratio = loss,
		.loss_defined = true,
		.loss_samples = 200,	/* a window of fast probes (D-012) */
		.acked_in_window = 4,
		.rtt_measured = true,
		.srtt_ms = p95,
		.p95_defined = true,
		.p95_ms = p95,
		.last_good_ms = NOW,
		.heartbeat_age_ms = 100,
		.stability_ms = stability,
		.score = score,
	};
	return h;
}

static struct jv_candidate cand(const char *id, double loss, uint32_t p95,
				jv_time stability, double score)
{
	struct jv_candidate c = {
		.proto = JV_PROTO_UDP,
		.last_probe_ok_ms = NOW - 100,
		.h = hs(loss, p95, stability, score),
	};
	strcpy(c.id, id);
	return c;
}

/* A binding that carries data (many samples) whose §6.1 score is `score`
 * through its loss alone (no latency), so hysteresis compares loss. */
static struct jv_select_binding bind(const char *id, double score,
				     jv_time stability)
{
	struct jv_select_binding b = {
		.h = hs((100.0 - score) / 200.0, 0, stability, score),
	};
	b.h.loss_samples = 2000;
	strcpy(b.id, id);
	return b;
}

static struct jv_select_result run(const struct jv_select_binding *b,
				   const struct jv_candidate *c, size_t n,
				   const struct jv_policy *p,
				   const char *ordered)
{
	struct jv_select_result r;

	assert_int_equal(jv_select(b, c, n, p, NOW, ordered, &r), 0);
	return r;
}

static void ranking_keys_in_order(void **st)
{
	(void)st;
	struct jv_candidate a = cand("a", 0.10, 50, 1000, 50);
	struct jv_candidate b = cand("b", 0.05, 90, 1000, 50);

	/* loss first */
	assert_true(jv_candidate_rank_cmp(&b, &a) < 0);
	/* then p95 */
	b.h.loss_ratio = 0.10;
	assert_true(jv_candidate_rank_cmp(&a, &b) < 0);
	/* srtt stands in for an unmeasured p95; unmeasured ranks last */
	a.h.p95_defined = false;
	a.h.srtt_ms = 95.5;
	assert_true(jv_candidate_rank_cmp(&b, &a) < 0);
	a.h.rtt_measured = false;
	b.h.p95_ms = 100000;
	assert_true(jv_candidate_rank_cmp(&b, &a) < 0);
	/* then stability, longer first */
	a = cand("a", 0.1, 50, 1000, 50);
	b = cand("b", 0.1, 50, 1001, 50);
	assert_true(jv_candidate_rank_cmp(&b, &a) < 0);
	/* then id; undefined loss ranks as 0 */
	b.h.stability_ms = 1000;
	assert_true(jv_candidate_rank_cmp(&a, &b) < 0);
	a.h.loss_defined = false;
	a.h.loss_ratio = 0;
	b.h.loss_ratio = 0;
	assert_int_equal(jv_candidate_rank_cmp(&a, &b) < 0, 1);
	a.h.loss_ratio = 0;
	b.h.loss_ratio = 0.01;
	assert_true(jv_candidate_rank_cmp(&a, &b) < 0);
}

static void ties_broken_by_id_byte_order(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[3] = {
		cand("b", 0.0, 50, 3000, 90),
		cand("a", 0.0, 50, 3000, 90),
		cand("\xc3\xa9", 0.0, 50, 3000, 90),
	};

	policy_defaults(&p);
	struct jv_select_result r = run(NULL, c, 3, &p, NULL);
	assert_int_equal(r.winner, 1);
	/* "B" (0x42) before "a" (0x61); 0xc3 after everything ASCII */
	strcpy(c[0].id, "B");
	assert_int_equal(run(NULL, c, 3, &p, NULL).winner, 0);
	struct jv_candidate hi = cand("\xc3", 0.0, 50, 3000, 90);
	struct jv_candidate z = cand("z", 0.0, 50, 3000, 90);
	assert_true(jv_candidate_rank_cmp(&z, &hi) < 0);
}

static void swap_c(struct jv_candidate *a, struct jv_candidate *b)
{
	struct jv_candidate t = *a;

	*a = *b;
	*b = t;
}

/* Every permutation of 5 candidates picks the same id (Heap's algorithm). */
static void determinism_under_shuffle(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[5] = {
		cand("p4", 0.05, 40, 3000, 80),
		cand("p2", 0.02, 60, 3000, 80),
		cand("p5", 0.02, 40, 2500, 80),
		cand("p1", 0.02, 40, 3000, 80),	/* winner */
		cand("p3", 0.02, 40, 3000, 80),
	};
	unsigned idx[5] = {0}, i = 1, perms = 1;
	struct jv_select_binding b = bind("p0", 10, 0);

	policy_defaults(&p);
	p.max_candidate_count = 5;
	struct jv_select_result r = run(&b, c, 5, &p, NULL);
	assert_string_equal(c[r.winner].id, "p1");
	while (i < 5) {
		if (idx[i] < i) {
			swap_c(&c[i % 2 ? idx[i] : 0], &c[i]);
			r = run(&b, c, 5, &p, NULL);
			assert_int_equal(r.outcome, JV_SELECT_SWITCH);
			assert_string_equal(c[r.winner].id, "p1");
			assert_string_equal(c[r.best].id, "p1");
			assert_int_equal(r.candidate_set_size, 5);
			perms++;
			idx[i]++;
			i = 1;
		} else {
			idx[i++] = 0;
		}
	}
	assert_int_equal(perms, 120);
}

/*
 * Hysteresis on confidence bounds (D-013): a candidate displaces a live
 * binding only if it is better beyond sampling noise, given the sample
 * counts on both sides.
 */
static void hysteresis_needs_significance(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[1] = { cand("p2", 0.0, 0, 3000, 100.0) };
	struct jv_select_binding b = bind("p1", 70.0, 500);	/* 15 % loss */
	struct jv_select_result r;

	policy_defaults(&p);
	/* 0 lost of 10 probes could still be a 25 % path: not evidence */
	c[0].h.loss_samples = 10;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_POLICY_DENIED);
	assert_true(r.hysteresis_blocked);
	assert_int_equal(r.winner, -1);
	assert_int_equal(r.best, 0);		/* candidate_transport of the denial */
	assert_int_equal(r.candidate_set_size, 1);
	/* 0 of 60: significantly better than 15 % of 2000 */
	c[0].h.loss_samples = 60;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);
	assert_int_equal(r.winner, 0);
	assert_false(r.hysteresis_blocked);
	assert_false(r.forced);			/* a discretionary switch */

	/* S5: equal paths whose estimates differ by sampling noise (10 %
	 * of 40 probes against 20 % of a data window) do not displace */
	b = bind("p1", 60.0, 500);		/* 20 % */
	c[0] = cand("p2", 0.10, 0, 3000, 80.0);
	c[0].h.loss_samples = 40;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_true(r.hysteresis_blocked);
	/* the same difference with ample evidence on both sides does, if
	 * it clears the factor */
	c[0].h.loss_samples = 4000;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	p.switch_improvement_factor = 1.5;	/* 78 > 1.5 x 62 fails */
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	p.switch_improvement_factor = 1.10;

	/* latency counts beyond its spread: 10 ms against 300 +- 20 ms */
	b = bind("p1", 100.0, 500);		/* no loss */
	b.h.srtt_ms = 300;
	b.h.jitter_ms = 20;
	c[0] = cand("p2", 0.0, 10, 3000, 99.0);
	c[0].h.loss_samples = 4000;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	/* ... but not 10 ms against 40 +- 10 ms (within the factor) */
	b.h.srtt_ms = 40;
	b.h.jitter_ms = 10;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);

	/* an undefined loss has shown nothing, whatever its score says */
	b = bind("p1", 40.0, 500);
	c[0] = cand("p2", 0.0, 0, 3000, 100.0);
	c[0].h.loss_defined = false;
	c[0].h.loss_samples = 3;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_true(r.hysteresis_blocked);
	c[0].h.loss_defined = true;
	c[0].h.loss_samples = 10;		/* defined, still no evidence */

	/* ENFORCE_HYSTERESIS false: any winner switches */
	c[0].h.score = 1.0;
	p.enforce_hysteresis = false;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);

	/* blocked but b stable: revalidate (S5) */
	p.enforce_hysteresis = true;
	b.h.stability_ms = 2000;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_REVALIDATE);
	assert_int_equal(r.reason, JV_REASON_HEALTH_RECOVERED);
	assert_true(r.hysteresis_blocked);
	assert_int_equal(r.winner, -1);
}

static void pd6_silent_or_dropping_binding_loses_hysteresis(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[1] = { cand("p2", 0.0, 900, 0, 0.0) };
	struct jv_select_binding b = bind("p1", 95.0, 0);

	policy_defaults(&p);
	b.h.heartbeat_age_ms = 2000;		/* not silent yet */
	assert_int_equal(run(&b, c, 1, &p, NULL).outcome, JV_SELECT_DENY);
	b.h.heartbeat_age_ms = 2001;		/* silent */
	struct jv_select_result r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);
	assert_int_equal(r.winner, 0);

	b.h.heartbeat_age_ms = 100;
	b.h.consecutive_drops = 2;
	assert_int_equal(run(&b, c, 1, &p, NULL).outcome, JV_SELECT_DENY);
	b.h.consecutive_drops = 3;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);
}

/* One candidate fails one filter; a plain one ("z") passes them all. */
static void expect_filtered(const struct jv_candidate *bad,
			    const struct jv_policy *p)
{
	struct jv_candidate c[2] = { *bad, cand("z", 0.1, 100, 0, 60) };
	struct jv_select_result r = run(NULL, c, 2, p, NULL);

	assert_int_equal(r.eligible_mask, 2u);
	assert_int_equal(r.candidate_set_size, 1);
	assert_int_equal(r.winner, 1);
	assert_int_equal(r.evict_mask, 0);
}

static void expect_eligible(const struct jv_candidate *good,
			    const struct jv_policy *p)
{
	struct jv_candidate c[2] = { *good, cand("z", 0.1, 100, 0, 60) };
	struct jv_select_result r = run(NULL, c, 2, p, NULL);

	assert_int_equal(r.eligible_mask, 3u);
	assert_int_equal(r.candidate_set_size, 2);
}

static void each_filter_excludes(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate a;

	policy_defaults(&p);
	/* §6.3.2 protocol and blacklist */
	a = cand("a", 0, 10, 3000, 90);
	a.proto = JV_PROTO_TCP;
	expect_filtered(&a, &p);
	a.proto = JV_PROTO_QUIC;
	expect_eligible(&a, &p);
	a.blacklisted = true;
	expect_filtered(&a, &p);

	/* §6.3.3 exclusion: cooldown, then re-stabilisation */
	a = cand("a", 0, 10, 1999, 90);
	a.excluded_until_ms = NOW + 1;
	expect_filtered(&a, &p);
	a.excluded_until_ms = NOW;
	expect_eligible(&a, &p);
	a.needs_restabilize = true;
	expect_filtered(&a, &p);
	a.h.stability_ms = 2000;
	expect_eligible(&a, &p);
	struct jv_candidate two[2] = { a, cand("z", 0.1, 100, 0, 60) };
	assert_int_equal(run(NULL, two, 2, &p, NULL).restabilized_mask, 1u);

	/* §6.3.4 loss: <= threshold passes */
	a = cand("a", 0.20, 10, 3000, 50);
	expect_eligible(&a, &p);
	a.h.loss_ratio = 0.21;
	expect_filtered(&a, &p);
	/* undefined loss: an ACK in the window and no drop run */
	a = cand("a", 0, 10, 3000, 90);
	a.h.loss_defined = false;
	a.h.acked_in_window = 1;
	expect_eligible(&a, &p);
	a.h.acked_in_window = 0;
	expect_filtered(&a, &p);
	a.h.acked_in_window = 1;
	a.h.consecutive_drops = 1;
	expect_filtered(&a, &p);
	/* silent, hard failure */
	a = cand("a", 0, 10, 3000, 90);
	a.h.heartbeat_age_ms = 2001;
	expect_filtered(&a, &p);
	a.h.heartbeat_age_ms = 2000;
	expect_eligible(&a, &p);
	a.h.hard_failed = true;
	expect_filtered(&a, &p);
	/* latency threshold, when set */
	a = cand("a", 0, 151, 3000, 90);
	expect_eligible(&a, &p);
	p.latency_volatile_threshold_ms = 150;
	expect_filtered(&a, &p);
	a.h.p95_ms = 150;
	expect_eligible(&a, &p);
	p.latency_volatile_threshold_ms = 0;
	/* score threshold, when set */
	a = cand("a", 0, 10, 3000, 49.5);
	p.candidate_score_threshold = 50.0;
	expect_filtered(&a, &p);
	a.h.score = 50.0;
	expect_eligible(&a, &p);
}

static void eviction_by_ttl_and_count(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[5] = {
		cand("a", 0.00, 10, 3000, 90),
		cand("b", 0.01, 10, 3000, 90),
		cand("c", 0.02, 10, 3000, 90),
		cand("d", 0.03, 10, 3000, 90),
		cand("e", 0.04, 10, 3000, 90),
	};

	policy_defaults(&p);
	p.max_candidate_count = 5;
	c[0].last_probe_ok_ms = NOW - 15000;	/* exactly the TTL: kept */
	struct jv_select_result r = run(NULL, c, 5, &p, NULL);
	assert_int_equal(r.evict_mask, 0);
	assert_int_equal(r.winner, 0);
	c[0].last_probe_ok_ms = NOW - 15001;
	c[1].last_probe_ok_ms = JV_TIME_NEVER;
	r = run(NULL, c, 5, &p, NULL);
	assert_int_equal(r.evict_mask, 0x3u);
	assert_int_equal(r.winner, 2);
	assert_int_equal(r.candidate_set_size, 3);

	/* count: 3 survivors of TTL kept, the worst-ranked 2 evicted */
	c[0].last_probe_ok_ms = NOW;
	c[1].last_probe_ok_ms = NOW;
	p.max_candidate_count = 3;
	swap_c(&c[0], &c[4]);			/* order must not matter */
	r = run(NULL, c, 5, &p, NULL);
	assert_int_equal(r.evict_mask, (1u << 0) | (1u << 3));	/* "e", "d" */
	assert_int_equal(r.candidate_set_size, 3);
	assert_string_equal(c[r.winner].id, "a");
	/* TTL first, then count over the survivors */
	c[4].last_probe_ok_ms = NOW - 20000;	/* "a" */
	r = run(NULL, c, 5, &p, NULL);
	assert_int_equal(r.evict_mask, (1u << 4) | (1u << 0));
	assert_string_equal(c[r.winner].id, "b");
}

static void candidate_min_count(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[2] = {
		cand("a", 0, 10, 3000, 90),
		cand("b", 0, 10, 3000, 90),
	};
	struct jv_select_binding b = bind("p1", 10, 0);

	policy_defaults(&p);
	p.candidate_min_count = 2;
	c[1].blacklisted = true;
	struct jv_select_result r = run(&b, c, 2, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	assert_int_equal(r.candidate_set_size, 1);
	assert_int_equal(r.winner, -1);
	c[1].blacklisted = false;
	r = run(&b, c, 2, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.winner, 0);
}

static void step2_outcomes(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[1] = { cand("p2", 0, 10, 3000, 90) };
	struct jv_candidate bad[1] = { cand("p2", 0.5, 10, 3000, 0) };
	struct jv_select_binding b = bind("p1", 10, 0);
	struct jv_select_result r;

	policy_defaults(&p);
	/* no binding, winner: dead_transport_recovery */
	r = run(NULL, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_DEAD_TRANSPORT_RECOVERY);
	assert_int_equal(r.winner, 0);
	/* dead binding, no candidate at all */
	b.dead = true;
	r = run(&b, NULL, 0, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	/* dead binding beats hysteresis: even a weaker winner is taken */
	b.h.score = 99;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.reason, JV_REASON_DEAD_TRANSPORT_RECOVERY);
	b.dead = false;

	/* live, winner beats it */
	b.h.score = 10;
	r = run(&b, c, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);
	/* live, no winner, stable: revalidate health_recovered */
	b.h.stability_ms = 2000;
	r = run(&b, bad, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_REVALIDATE);
	assert_int_equal(r.reason, JV_REASON_HEALTH_RECOVERED);
	assert_false(r.hysteresis_blocked);
	/* silent binding, a lossy candidate that answers: taken (PD-7,
	 * LIV-10: a path that answers beats one that does not) */
	b.h.stability_ms = 0;
	b.h.heartbeat_age_ms = 2001;
	r = run(&b, bad, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);
	assert_true(r.forced);
	assert_true(r.alive_fallback);
	/* ... one that does not answer either: revalidate loss_recovery */
	bad[0].h.consecutive_drops = p.max_consecutive_drops;
	r = run(&b, bad, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_REVALIDATE);
	assert_int_equal(r.reason, JV_REASON_LOSS_RECOVERY);
	assert_int_equal(r.winner, -1);
	bad[0].h.consecutive_drops = 0;
	/* live, no winner, neither: deny no_candidate_transports */
	b.h.heartbeat_age_ms = 100;
	r = run(&b, bad, 1, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	assert_int_equal(r.candidate_set_size, 0);
	assert_int_equal(r.best, -1);
}

static void operator_orders(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[3] = {
		cand("p2", 0.00, 10, 3000, 20),
		cand("p3", 0.05, 10, 3000, 15),
		cand("p4", 0.00, 10, 3000, 90),
	};
	struct jv_select_binding b = bind("p1", 80, 0);
	struct jv_select_result r;

	policy_defaults(&p);
	c[2].blacklisted = true;
	/* "": the best candidate, hysteresis bypassed */
	r = run(&b, c, 3, &p, "");
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_POLICY_FORCED_RECOVERY);
	assert_int_equal(r.winner, 0);
	/* a named target, even if not the best */
	r = run(&b, c, 3, &p, "p3");
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.reason, JV_REASON_POLICY_FORCED_RECOVERY);
	assert_int_equal(r.winner, 1);
	assert_int_equal(r.best, 0);
	/* refused by §6.3.2 */
	r = run(&b, c, 3, &p, "p4");
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_POLICY_DENIED);
	/* unknown, or the binding itself */
	r = run(&b, c, 3, &p, "nope");
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	r = run(&b, c, 3, &p, "p1");
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	/* unhealthy target: not eligible */
	c[1].h.loss_ratio = 0.5;
	r = run(&b, c, 3, &p, "p3");
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	/* dead binding: the dead-transport reason wins */
	b.dead = true;
	r = run(&b, c, 3, &p, "p2");
	assert_int_equal(r.reason, JV_REASON_DEAD_TRANSPORT_RECOVERY);
	assert_int_equal(r.winner, 0);
}

static void binding_is_never_its_own_candidate(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[2] = {
		cand("p1", 0, 10, 3000, 99),
		cand("p2", 0.1, 10, 3000, 50),
	};
	struct jv_select_binding b = bind("p1", 10, 0);

	policy_defaults(&p);
	struct jv_select_result r = run(&b, c, 2, &p, NULL);
	assert_int_equal(r.winner, 1);
	assert_int_equal(r.eligible_mask, 2u);
	assert_int_equal(r.candidate_set_size, 1);
}

/* PD-7: damped candidates are taken last, and only to keep a binding. */
static void damped_candidates_are_taken_last(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[3] = {
		cand("p2", 0.0, 10, 3000, 99),
		cand("p3", 0.0, 20, 3000, 98),
		cand("p4", 0.0, 30, 3000, 97),
	};
	struct jv_select_binding b = bind("p1", 10, 0);
	struct jv_select_result r;

	policy_defaults(&p);
	c[0].damped = true;
	c[0].flap_penalty = 4000;
	/* the best-ranked is damped: the next undamped one wins */
	r = run(&b, c, 3, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.winner, 1);
	assert_int_equal(r.candidate_set_size, 2);
	assert_false(r.damped_fallback);
	/* all damped, binding live (lossy): no switch to a flapping path */
	c[1].damped = c[2].damped = true;
	c[1].flap_penalty = 3500;
	c[2].flap_penalty = 3200;
	r = run(&b, c, 3, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_false(r.forced);
	/* all damped, binding silent: the least-penalised one is taken */
	b.h.heartbeat_age_ms = p.heartbeat_volatile_ms + 1;
	r = run(&b, c, 3, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_true(r.forced);
	assert_true(r.damped_fallback);
	assert_int_equal(r.winner, 2);
	/* ... and with no binding at all; equal penalties: by rank */
	c[1].flap_penalty = 3200;
	r = run(NULL, c, 3, &p, NULL);
	assert_int_equal(r.reason, JV_REASON_DEAD_TRANSPORT_RECOVERY);
	assert_int_equal(r.winner, 1);
	/* an unhealthy one that answers is the last resort */
	c[1].h.heartbeat_age_ms = p.heartbeat_volatile_ms + 1;
	c[2].h.loss_ratio = 0.5;
	c[0].h.hard_failed = true;
	r = run(NULL, c, 3, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_int_equal(r.winner, 2);
	assert_true(r.alive_fallback);
	/* none that answers: nothing to take */
	c[2].h.consecutive_drops = p.max_consecutive_drops;
	r = run(NULL, c, 3, &p, NULL);
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.reason, JV_REASON_NO_CANDIDATE_TRANSPORTS);
	/* still within a failed attempt's cooldown: not yet */
	c[2].h.consecutive_drops = 0;
	c[2].excluded_until_ms = NOW + 1;
	assert_int_equal(run(NULL, c, 3, &p, NULL).outcome, JV_SELECT_DENY);
}

/* PD-7 class and the refusal an operator order gets. */
static void forced_class_and_order_refusals(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[2] = {
		cand("p2", 0.0, 10, 3000, 99),
		cand("p3", 0.0, 10, 3000, 99),
	};
	struct jv_select_binding b = bind("p1", 95, 3000);
	struct jv_select_result r;

	policy_defaults(&p);
	r = run(&b, c, 2, &p, "p2");
	assert_int_equal(r.outcome, JV_SELECT_SWITCH);
	assert_false(r.forced);
	assert_int_equal(r.target_why, JV_TARGET_OK);
	b.h.consecutive_drops = p.max_consecutive_drops;	/* PD-6 */
	assert_true(run(&b, c, 2, &p, NULL).forced);
	b.h.consecutive_drops = 0;
	b.dead = true;
	assert_true(run(&b, c, 2, &p, NULL).forced);
	b.dead = false;

	c[0].damped = true;
	r = run(&b, c, 2, &p, "p2");
	assert_int_equal(r.outcome, JV_SELECT_DENY);
	assert_int_equal(r.target_why, JV_TARGET_DAMPED);
	c[0].damped = false;
	c[0].excluded_until_ms = NOW + 1;
	assert_int_equal(run(&b, c, 2, &p, "p2").target_why, JV_TARGET_EXCLUDED);
	c[0].excluded_until_ms = 0;
	c[0].h.heartbeat_age_ms = p.heartbeat_volatile_ms + 1;
	assert_int_equal(run(&b, c, 2, &p, "p2").target_why, JV_TARGET_UNHEALTHY);
	c[0].last_probe_ok_ms = NOW - p.candidate_ttl_ms - 1;
	assert_int_equal(run(&b, c, 2, &p, "p2").target_why, JV_TARGET_EVICTED);
	assert_int_equal(run(&b, c, 2, &p, "p1").target_why, JV_TARGET_UNKNOWN);
	assert_int_equal(run(&b, c, 2, &p, "zz").target_why, JV_TARGET_UNKNOWN);
	c[1].blacklisted = true;
	r = run(&b, c, 2, &p, "p3");
	assert_int_equal(r.target_why, JV_TARGET_REFUSED);
	assert_int_equal(r.reason, JV_REASON_POLICY_DENIED);
}

static void bad_input_is_refused(void **st)
{
	(void)st;
	struct jv_policy p;
	struct jv_candidate c[JV_MAX_TRANSPORTS + 1];
	struct jv_select_result r;
	struct jv_select_binding b = bind("p1", 10, 0);

	policy_defaults(&p);
	for (unsigned i = 0; i <= JV_MAX_TRANSPORTS; i++) {
		c[i] = cand("x", 0, 10, 0, 10);
		c[i].id[1] = (char)('a' + i);
	}
	assert_int_equal(jv_select(NULL, c, JV_MAX_TRANSPORTS, &p, NOW, NULL,
				   &r), 0);
	assert_int_equal(jv_select(NULL, c, JV_MAX_TRANSPORTS + 1, &p, NOW,
				   NULL, &r), JV_ERR_INVAL);
	assert_non_null(r.why);
	assert_int_equal(jv_select(NULL, NULL, 1, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	assert_int_equal(jv_select(NULL, c, 1, NULL, NOW, NULL, &r),
			 JV_ERR_INVAL);
	assert_int_equal(jv_select(NULL, c, 1, &p, NOW, NULL, NULL),
			 JV_ERR_INVAL);

	c[2].id[1] = c[1].id[1];
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	assert_int_equal(r.bad_index, 2);
	assert_string_equal(r.why, "duplicate candidate id");
	c[2].id[1] = 'z';

	memset(c[1].id, 'q', sizeof(c[1].id));
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	assert_int_equal(r.bad_index, 1);
	c[1].id[0] = '\0';
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	strcpy(c[1].id, "ok");

	c[0].proto = 0;
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	assert_int_equal(r.bad_index, 0);
	c[0].proto = JV_PROTO_UDP | JV_PROTO_TCP;
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	c[0].proto = 1u << 7;
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	c[0].proto = JV_PROTO_UDP;

	c[0].h.loss_ratio = 1.5;
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	c[0].h.loss_ratio = 0;
	c[0].h.score = NAN;
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, NULL, &r),
			 JV_ERR_INVAL);
	c[0].h.score = 1;

	b.h.loss_ratio = -0.1;
	assert_int_equal(jv_select(&b, c, 3, &p, NOW, NULL, &r), JV_ERR_INVAL);
	assert_int_equal(r.bad_index, -1);
	b.h.loss_ratio = 0;
	memset(b.id, 'q', sizeof(b.id));
	assert_int_equal(jv_select(&b, c, 3, &p, NOW, NULL, &r), JV_ERR_INVAL);

	char longid[JV_TRANSPORT_ID_MAX + 4];
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(jv_select(NULL, c, 3, &p, NOW, longid, &r),
			 JV_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranking_keys_in_order),
		cmocka_unit_test(ties_broken_by_id_byte_order),
		cmocka_unit_test(determinism_under_shuffle),
		cmocka_unit_test(hysteresis_needs_significance),
		cmocka_unit_test(pd6_silent_or_dropping_binding_loses_hysteresis),
		cmocka_unit_test(each_filter_excludes),
		cmocka_unit_test(eviction_by_ttl_and_count),
		cmocka_unit_test(candidate_min_count),
		cmocka_unit_test(step2_outcomes),
		cmocka_unit_test(operator_orders),
		cmocka_unit_test(binding_is_never_its_own_candidate),
		cmocka_unit_test(damped_candidates_are_taken_last),
		cmocka_unit_test(forced_class_and_order_refusals),
		cmocka_unit_test(bad_input_is_refused),
	};
	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
