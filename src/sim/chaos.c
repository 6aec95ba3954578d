/* SPDX-License-Identifier: MIT */
/* Random scenarios for the chaos runner. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "sim/chaos.h"
#include "sim/rand.h"

struct text {
	char *buf;
	size_t n, len;
	bool full;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (t->full)
		return;
	va_start(ap, fmt);
	w = vsnprintf(t->buf + t->len, t->n - t->len, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= t->n - t->len)
		t->full = true;
	else
		t->len += (size_t)w;
}

static uint64_t pick(struct sim_rand *r, uint64_t lo, uint64_t hi)
{
	return lo + sim_rand_below(r, hi - lo + 1);
}

/*
 * [Store] and its faults.  Two nodes split the transports (at least one
 * each) and always have leases, or a partitioned owner would keep its
 * sessions forever and nobody could take them; one node may run without
 * (its lease is its process).  The lease stays below half the recovery
 * window (OP-22).
 */
static void store_section(struct text *t, struct sim_rand *sr,
			  unsigned nodes, bool fast)
{
	jv_time window = fast ? 3000 : 8000;

	put(t, "\n[Store]\nlatency_ms = %" PRIu64 "\n", pick(sr, 0, 40));
	if (nodes == 2 || sim_rand_chance(sr, 0.5))
		put(t, "lease_ms = %" PRIu64 "\n", pick(sr, 300, window / 2));
	put(t, "nodes = %u\n", nodes);
}

/* Which fault class a draw in [0, 20) is (the cases below). */
static unsigned fault_class(uint64_t k)
{
	if (k < 6)
		return SIM_CF_OUTAGE;
	if (k < 12 || k == 17 || k == 18)
		return SIM_CF_CRASH;	/* crash (and restart), restart */
	if (k < 17)
		return SIM_CF_PARTITION;
	return SIM_CF_CONFLICT;
}

static void store_faults(struct text *t, struct sim_rand *sr, unsigned nodes,
			 unsigned allowed, jv_time duration_ms)
{
	unsigned nfaults = (unsigned)(duration_ms / 20000) + 1;

	for (unsigned i = 0; i < nfaults; i++) {
		jv_time at = pick(sr, 2000, duration_ms - 1000);
		jv_time until = at + pick(sr, 100, 20000);
		unsigned node = (unsigned)pick(sr, 1, nodes);
		uint64_t k = sim_rand_below(sr, 20);

		if (until > duration_ms)
			until = duration_ms;
		if (!(fault_class(k) & allowed))
			continue;
		switch (k) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			put(t, "at %" PRIu64 " = store down\n", at);
			put(t, "at %" PRIu64 " = store up\n", until);
			break;
		case 6: case 7: case 8: case 9: case 10: case 11:
			put(t, "at %" PRIu64 " = crash gw%u\n", at, node);
			until = at + pick(sr, 50, 5000);
			if (sim_rand_chance(sr, 0.8))
				put(t, "at %" PRIu64 " = restart gw%u\n",
				    until < duration_ms ? until : duration_ms,
				    node);
			break;
		case 12: case 13: case 14: case 15: case 16:
			put(t, "at %" PRIu64 " = partition gw%u store\n", at,
			    node);
			put(t, "at %" PRIu64 " = heal gw%u store\n", until,
			    node);
			break;
		case 17: case 18:
			put(t, "at %" PRIu64 " = restart gw%u\n", at, node);
			break;
		default:
			put(t, "at %" PRIu64 " = store conflict\n", at);
			break;
		}
	}
}

/* ---- flapping schedules (PD-7) ------------------------------------------- */

enum { FLAP_PATHS_MAX = 3 };

/*
 * Damping and fail-back within their valid ranges (docs/policy.md):
 * sometimes off, sometimes damping that bites after one or two flaps,
 * sometimes a half-life so short it never does.
 */
static void flap_policy(struct text *t, struct sim_rand *r, bool fast)
{
	uint64_t suppress, reuse;

	if (sim_rand_chance(r, 0.15)) {
		put(t, "switching.flap_penalty = 0\n");
	} else if (sim_rand_chance(r, 0.7)) {
		suppress = pick(r, 1000, 6000);
		reuse = pick(r, 100, suppress - 1);
		put(t, "switching.flap_penalty = %" PRIu64 "\n"
		    "switching.flap_half_life_ms = %" PRIu64 "\n"
		    "switching.flap_suppress = %" PRIu64 "\n"
		    "switching.flap_reuse = %" PRIu64 "\n",
		    pick(r, 500, 2500), pick(r, 2000, 90000), suppress, reuse);
	}
	if (sim_rand_chance(r, 0.2))
		put(t, "switching.failback_stable_ms = 0\n");
	else if (sim_rand_chance(r, 0.6))
		put(t, "switching.failback_stable_ms = %" PRIu64 "\n",
		    pick(r, fast ? 1000 : 2000, 40000));
	if (sim_rand_chance(r, 0.3))
		put(t, "switching.max_switches_per_min = %" PRIu64 "\n",
		    pick(r, 1, 8));
}

/*
 * Deaths in turn: each kill picks a transport that is alive while
 * another one is, so at every instant one carries (FL-1); it stays dead
 * 0.5 to 6 s.  Kills come 0.1 to 4 s apart.
 */
static void flap_timeline(struct text *t, struct sim_rand *r,
			  unsigned npaths, jv_time duration_ms)
{
	jv_time dead_until[FLAP_PATHS_MAX] = { 0 };
	jv_time at = pick(r, 2000, 4000);

	while (at + 500 < duration_ms) {
		unsigned alive[FLAP_PATHS_MAX], nalive = 0, p;
		jv_time until;

		for (unsigned i = 0; i < npaths; i++)
			if (dead_until[i] <= at)
				alive[nalive++] = i;
		if (nalive >= 2) {
			p = alive[sim_rand_below(r, nalive)];
			until = at + pick(r, 500, 6000);
			dead_until[p] = until;
			put(t, "at %" PRIu64 " = kill p%u %s\n", at, p + 1,
			    sim_rand_chance(r, 0.5) ? "hard" : "silent");
			if (until < duration_ms)
				put(t, "at %" PRIu64 " = revive p%u\n", until,
				    p + 1);
		}
		at += pick(r, 100, 4000);
	}
}

static int flap_scenario(uint64_t seed, jv_time duration_ms, char *buf,
			 size_t n)
{
	struct sim_rand r;
	struct text t = { buf, n, 0, false };
	unsigned npaths;
	bool fast;

	sim_rand_init(&r, seed, "chaos/flap");
	npaths = (unsigned)pick(&r, 2, FLAP_PATHS_MAX);
	fast = sim_rand_chance(&r, 0.5);
	put(&t, "; generated by jvpn sim --chaos --flap (seed %" PRIu64 ")\n",
	    seed);
	put(&t, "[Scenario]\nname = flap-%" PRIu64 "\nseed = %" PRIu64
	    "\nduration_ms = %" PRIu64 "\n", seed, seed, duration_ms);
	put(&t, "description = transports dying in turn, never all at "
	    "once; passes if no invariant breaks (LIV-10 included)\n\n"
	    "[Policy]\n");
	if (fast)
		put(&t, "profile = fast\n");
	flap_policy(&t, &r, fast);
	for (unsigned i = 0; i < npaths; i++) {
		put(&t, "\n[Transport p%u]\npriority = %u\n", i + 1, i);
		put(&t, "delay_ms = %" PRIu64 "\n", pick(&r, 2, 30));
		if (sim_rand_chance(&r, 0.5))
			put(&t, "jitter_ms = %" PRIu64 "\n", pick(&r, 1, 10));
	}
	put(&t, "\n[Traffic]\nstream_pps = %" PRIu64 "\n", pick(&r, 10, 50));
	put(&t, "\n[Timeline]\n");
	flap_timeline(&t, &r, npaths, duration_ms);
	if (t.full)
		return JV_ERR_NOSPACE;
	return (int)t.len;
}

int sim_chaos_scenario(uint64_t seed, jv_time duration_ms, char *buf,
		       size_t n)
{
	return sim_chaos_scenario_opts(seed, duration_ms, NULL, buf, n);
}

int sim_chaos_scenario_opts(uint64_t seed, jv_time duration_ms,
			    const struct sim_chaos_opts *o, char *buf,
			    size_t n)
{
	struct sim_rand r, sr;
	struct text t = { buf, n, 0, false };
	unsigned npaths, nfaults, nodes = 1, on_gw2 = 0;
	bool fast, store = o && o->store;

	if (duration_ms == 0)
		duration_ms = 120000;
	if (o && o->flap)
		return flap_scenario(seed, duration_ms, buf, n);
	sim_rand_init(&r, seed, "chaos");
	sim_rand_init(&sr, seed, "chaos/store");
	if (store) {
		nodes = sim_rand_chance(&sr, 0.5) ? 2 : 1;
		if (o->nodes == 1 || o->nodes == 2)
			nodes = o->nodes;
	}
	npaths = (unsigned)pick(&r, 2, 3);
	fast = sim_rand_chance(&r, 0.3);

	put(&t, "; generated by jvpn sim --chaos (seed %" PRIu64 ")\n", seed);
	put(&t, "[Scenario]\nname = chaos-%" PRIu64 "\nseed = %" PRIu64
	    "\nduration_ms = %" PRIu64 "\n", seed, seed, duration_ms);
	put(&t, "description = random faults; passes if no invariant "
	    "breaks\n\n[Policy]\n");
	if (fast)
		put(&t, "profile = fast\n");
	if (sim_rand_chance(&r, 0.3))
		put(&t, "switching.max_switches_per_min = %" PRIu64 "\n",
		    pick(&r, 1, 8));
	if (sim_rand_chance(&r, 0.2))
		put(&t, "security.max_security_failures = %" PRIu64 "\n",
		    pick(&r, 3, 10));
	for (unsigned i = 0; i < npaths; i++) {
		put(&t, "\n[Transport p%u]\npriority = %u\n", i + 1, i);
		put(&t, "delay_ms = %" PRIu64 "\n", pick(&r, 2, 80));
		if (sim_rand_chance(&r, 0.5))
			put(&t, "jitter_ms = %" PRIu64 "\n", pick(&r, 1, 30));
		if (sim_rand_chance(&r, 0.5))
			put(&t, "loss = 0.%02" PRIu64 "\n", pick(&r, 1, 5));
		if (sim_rand_chance(&r, 0.2))
			put(&t, "reorder = 0.05\nreorder_ms = %" PRIu64 "\n",
			    pick(&r, 5, 50));
		if (sim_rand_chance(&r, 0.2))
			put(&t, "duplicate = 0.02\n");
		/* The first transport reaches gw1, the last one gw2 unless
		 * another one does already. */
		if (nodes == 2 && i > 0 &&
		    ((i + 1 == npaths && !on_gw2) ||
		     sim_rand_chance(&sr, 0.5))) {
			put(&t, "node = gw2\n");
			on_gw2++;
		}
	}
	if (store)
		store_section(&t, &sr, nodes, fast);
	put(&t, "\n[Traffic]\nstream_pps = %" PRIu64 "\nrequest_pps = 2\n",
	    pick(&r, 10, 50));
	put(&t, "\n[Timeline]\n");
	nfaults = (unsigned)(duration_ms / 4000);
	for (unsigned i = 0; i < nfaults; i++) {
		jv_time at = pick(&r, 2000, duration_ms - 1000);
		unsigned p = (unsigned)pick(&r, 1, npaths);
		const char *dir = sim_rand_chance(&r, 0.5) ? "up" : "down";

		switch (sim_rand_below(&r, 12)) {
		case 0:
		case 1:
			put(&t, "at %" PRIu64 " = kill p%u %s\n", at, p,
			    sim_rand_chance(&r, 0.5) ? "hard" : "silent");
			break;
		case 2:
		case 3:
			put(&t, "at %" PRIu64 " = revive p%u\n", at, p);
			break;
		case 4:
			put(&t, "at %" PRIu64 " = set p%u loss=0.%02" PRIu64
			    "\n", at, p, pick(&r, 0, 60));
			break;
		case 5:
			put(&t, "at %" PRIu64 " = set p%u delay_ms=%" PRIu64
			    " jitter_ms=%" PRIu64 "\n", at, p,
			    pick(&r, 1, 400), pick(&r, 0, 100));
			break;
		case 6:
			put(&t, "at %" PRIu64 " = nat p%u\n", at, p);
			break;
		case 7:
			put(&t, "at %" PRIu64 " = switch p%u\n", at, p);
			break;
		case 8:
			put(&t, "at %" PRIu64 " = replay p%u up match=%s "
			    "pick=%" PRIu64 "\n", at, p,
			    sim_rand_chance(&r, 0.5) ? "reattach_request"
						     : "any",
			    pick(&r, 1, 4));
			break;
		case 9:
			put(&t, "at %" PRIu64 " = corrupt p%u %s next=%" PRIu64
			    "\n", at, p, dir, pick(&r, 1, 5));
			break;
		case 10:
			put(&t, "at %" PRIu64 " = hold p%u %s next=%" PRIu64
			    " by=%" PRIu64 "\n", at, p, dir, pick(&r, 1, 3),
			    pick(&r, 100, 3000));
			break;
		default:
			put(&t, "at %" PRIu64 " = set p%u loss=0 delay_ms=%"
			    PRIu64 " jitter_ms=0\n", at, p, pick(&r, 2, 60));
			break;
		}
	}
	if (store)
		store_faults(&t, &sr, nodes, o->faults ? o->faults : SIM_CF_ALL,
			     duration_ms);
	if (t.full)
		return JV_ERR_NOSPACE;
	return (int)t.len;
}
