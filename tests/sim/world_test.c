/* SPDX-License-Identifier: MIT */
/* Whole runs over the real engine: determinism, NAT, hard death. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/world.h"

static const char two_paths[] =
	"[Scenario]\nname = w\nseed = 5\nduration_ms = 12000\n"
	"[Transport p1]\ndelay_ms = 10\njitter_ms = 3\nloss = 0.02\n"
	"[Transport p2]\npriority = 1\ndelay_ms = 25\n"
	"[Traffic]\nstream_pps = 50\n"
	"[Timeline]\nat 4000 = kill p1 hard\nat 8000 = revive p1\n";

static void load(const char *text, struct sim_scenario *sc)
{
	struct sim_errors errs;

	if (sim_scenario_parse_text(text, "t.ini", sc, &errs)) {
		sim_errors_print(&errs, stderr);
		fail_msg("scenario does not parse");
	}
}

static void same_seed_same_bytes(void **st)
{
	struct sim_scenario sc;
	struct sim_result a, b, c;
	struct sim_run_opts o = { .seed_set = true, .seed = 6 };

	(void)st;
	load(two_paths, &sc);
	assert_int_equal(sim_run(&sc, NULL, &a), 0);
	assert_int_equal(sim_run(&sc, NULL, &b), 0);
	assert_int_equal(sim_run(&sc, &o, &c), 0);
	assert_true(a.rec.n > 5);
	assert_memory_equal(a.event_hash, b.event_hash, sizeof a.event_hash);
	assert_int_equal(a.steps, b.steps);
	assert_int_equal(a.up.delivered, b.up.delivered);
	/* Another seed: other session ids and loss, other bytes. */
	assert_memory_not_equal(a.event_hash, c.event_hash,
				sizeof a.event_hash);
	assert_int_equal(c.seed, 6);
	sim_result_free(&a);
	sim_result_free(&b);
	sim_result_free(&c);
	sim_scenario_free(&sc);
}

static bool has(const struct sim_result *r, int side, enum jv_event_type t,
		jv_time at)
{
	for (size_t i = 0; i < r->rec.n; i++)
		if (r->rec.ev[i].side == side && r->rec.ev[i].ev.type == t &&
		    (at == JV_TIME_NEVER || r->rec.ev[i].ev.ts_ms == at))
			return true;
	return false;
}

/* A hard death reaches the engine at that very millisecond (LIV-06). */
static void hard_death_is_immediate(void **st)
{
	struct sim_scenario sc;
	struct sim_result r;

	(void)st;
	load(two_paths, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	assert_true(r.ran);
	assert_true(has(&r, SIM_CLIENT, JV_EV_TRANSPORT_DEAD, 4000));
	/* What was still sent on p1 (by the gateway) died with it. */
	assert_true(r.paths[0].up.lost_down + r.paths[0].down.lost_down > 0);
	assert_int_equal(r.paths[1].up.lost_down, 0);
	assert_true(r.switches[SIM_CLIENT] >= 1);
	sim_result_free(&r);
	sim_scenario_free(&sc);
}

/* After `nat`, the gateway sees the path from a new source port. */
static void nat_rebinding_changes_the_source(void **st)
{
	static const char text[] =
		"[Scenario]\nname = n\nduration_ms = 12000\n"
		"[Transport p1]\naddress = 198.51.100.20:40000\n"
		"[Traffic]\nstream_pps = 20\n"
		"[Timeline]\nat 5000 = nat p1\n";
	struct sim_scenario sc;
	struct sim_result r;
	bool seen_new = false;

	(void)st;
	load(text, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	for (size_t i = 0; i < r.rec.n; i++) {
		const struct jv_event *ev = &r.rec.ev[i].ev;

		if (r.rec.ev[i].side != SIM_GATEWAY || ev->ts_ms < 5000)
			continue;
		for (int f = 0; f < JV_F_COUNT; f++) {
			char buf[64];

			if (ev->set & ((uint64_t)1 << f) &&
			    sim_field_kind(f) == SIM_FK_STR &&
			    strstr(sim_field_text(ev, f, buf, sizeof buf),
				   "198.51.100.20:40001"))
				seen_new = true;
		}
	}
	/* The old mapping no longer receives: answers to it are lost. */
	assert_true(r.misrouted > 0);
	assert_true(seen_new);
	sim_result_free(&r);
	sim_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_same_bytes),
		cmocka_unit_test(hard_death_is_immediate),
		cmocka_unit_test(nat_rebinding_changes_the_source),
	};

	return cmocka_run_group_tests_name("sim_world", tests, NULL, NULL);
}
