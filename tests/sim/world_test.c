/* SPDX-License-Identifier: MIT */
/* Whole runs over the real engine: determinism, NAT, hard death, gateway
 * nodes over a store (PD-9). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Two nodes, a lease, the owner killed: gw2 takes the session over. */
static const char two_nodes[] =
	"[Scenario]\nname = c\nseed = 3\nduration_ms = 20000\n"
	"[Store]\nlease_ms = 3000\nlatency_ms = ";
static const char two_nodes_rest[] =
	"\n[Transport p1]\ndelay_ms = 10\n"
	"[Transport p2]\npriority = 10\ndelay_ms = 15\nnode = gw2\n"
	"[Traffic]\nstream_pps = 20\n"
	"[Timeline]\nat 5000 = crash gw1\n";

/* head, the store's latency, rest */
static void load_latency(const char *head, unsigned latency,
			 const char *rest, struct sim_scenario *sc)
{
	char text[1024];

	snprintf(text, sizeof text, "%s%u%s", head, latency, rest);
	load(text, sc);
}

static bool node_saw(const struct sim_result *r, const char *node,
		     enum jv_event_type t)
{
	for (size_t i = 0; i < r->rec.n; i++)
		if (r->rec.ev[i].side == SIM_GATEWAY &&
		    r->rec.ev[i].ev.type == t &&
		    !strcmp(r->rec.ev[i].node, node))
			return true;
	return false;
}

static void takeover_is_deterministic(void **st)
{
	struct sim_scenario sc;
	struct sim_result a, b;

	(void)st;
	load_latency(two_nodes, 7, two_nodes_rest, &sc);
	assert_int_equal(sim_run(&sc, NULL, &a), 0);
	assert_int_equal(sim_run(&sc, NULL, &b), 0);
	assert_memory_equal(a.event_hash, b.event_hash, sizeof a.event_hash);
	if (a.check.total)
		fail_msg("%s: %s", a.check.kept[0].id, a.check.kept[0].msg);
	assert_true(a.have_store);
	assert_int_equal(a.nnodes, 2);
	assert_int_equal(a.crashes, 1);
	assert_int_equal(a.adoptions, 1);
	assert_true(node_saw(&a, "gw1", JV_EV_SESSION_CREATED));
	assert_true(node_saw(&a, "gw2", JV_EV_SESSION_OWNER_TRANSFERRED));
	assert_false(node_saw(&a, "gw2", JV_EV_SESSION_CREATED));
	assert_string_equal(a.rec.final_node[SIM_GATEWAY], "gw2");
	assert_int_equal(a.rec.final_state[SIM_CLIENT], JV_STATE_ATTACHED);
	assert_int_equal(a.rec.nsessions[SIM_CLIENT], 1);
	assert_int_equal(a.rec.nsessions[SIM_GATEWAY], 1);
	assert_true(a.store.writes >= 2);
	assert_true(a.store.renewals > 0);
	sim_result_free(&a);
	sim_result_free(&b);
	sim_scenario_free(&sc);
}

static jv_time client_attached_after(const struct sim_result *r, jv_time t)
{
	for (size_t i = 0; i < r->rec.n; i++) {
		const struct jv_event *ev = &r->rec.ev[i].ev;

		if (r->rec.ev[i].side == SIM_CLIENT && ev->ts_ms > t &&
		    ev->type == JV_EV_SESSION_STATE_CHANGE &&
		    ev->new_state == JV_STATE_ATTACHED)
			return ev->ts_ms;
	}
	return JV_TIME_NEVER;
}

/* The ACK of a commit waits for its record: a slower store delays the
 * client's ATTACHED by exactly its latency. */
static void ack_waits_for_the_store(void **st)
{
	static const char one_node[] =
		"[Scenario]\nname = a\nduration_ms = 9000\n"
		"[Store]\nlatency_ms = ";
	static const char rest[] =
		"\n[Transport p1]\ndelay_ms = 10\n"
		"[Transport p2]\npriority = 10\ndelay_ms = 10\n"
		"[Timeline]\nat 5000 = kill p1 hard\n";
	struct sim_scenario fast, slow;
	struct sim_result a, b;

	(void)st;
	load_latency(one_node, 0, rest, &fast);
	load_latency(one_node, 300, rest, &slow);
	assert_int_equal(sim_run(&fast, NULL, &a), 0);
	assert_int_equal(sim_run(&slow, NULL, &b), 0);
	assert_int_equal(a.check.total, 0);
	assert_int_equal(b.check.total, 0);
	assert_int_equal(client_attached_after(&a, 5000), 5020);
	assert_int_equal(client_attached_after(&b, 5000), 5320);
	sim_result_free(&a);
	sim_result_free(&b);
	sim_scenario_free(&fast);
	sim_scenario_free(&slow);
}

/* A node's events wait while its writes are in flight; killed before the
 * answer, it takes them along (as the daemon's held event lines). */
static void crash_takes_held_events_along(void **st)
{
	static const char text[] =
		"[Scenario]\nname = h\nduration_ms = 6000\n"
		"[Store]\nlatency_ms = 100\n"
		"[Transport p1]\ndelay_ms = 10\n"
		"[Transport p2]\npriority = 10\ndelay_ms = 10\n"
		"[Timeline]\nat 5000 = kill p1 hard\nat 5050 = crash gw1\n";
	struct sim_scenario sc;
	struct sim_result r;

	(void)st;
	load(text, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	/* gw1 committed the switch at 5010 but no event of it is out */
	assert_false(node_saw(&r, "gw1", JV_EV_TRANSPORT_SWITCH));
	assert_true(node_saw(&r, "gw1", JV_EV_SESSION_CREATED));
	/* the write reached the store (at 5060) all the same */
	assert_int_equal(r.store.writes, 2);
	sim_result_free(&r);
	sim_scenario_free(&sc);
}

/* Without a [Store], one gateway named as it always was; with one, its
 * nodes are gw1 and gw2. */
static void node_names(void **st)
{
	struct sim_scenario sc;
	struct sim_result r;

	(void)st;
	load(two_paths, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	assert_false(r.have_store);
	assert_int_equal(r.nnodes, 1);
	assert_true(node_saw(&r, "gateway-1", JV_EV_SESSION_CREATED));
	assert_string_equal(r.rec.final_node[SIM_GATEWAY], "gateway-1");
	sim_result_free(&r);
	sim_scenario_free(&sc);
}

/*
 * LIV-10 can fail: with switching disabled (max_switches_per_min = 0 pins
 * the session, even against a dead binding) the client cannot leave p1
 * when it dies hard, although p2 is live: the checker must say LIV-10,
 * and nothing else.  The same run with switching allowed passes.
 */
static const char pinned[] =
	"[Scenario]\nname = w\nseed = 5\nduration_ms = 12000\n"
	"[Policy]\nswitching.max_switches_per_min = %u\n"
	"[Transport p1]\ndelay_ms = 10\n"
	"[Transport p2]\npriority = 1\ndelay_ms = 25\n"
	"[Timeline]\nat 4000 = kill p1 hard\n";

static void liv10_caught_in_a_run(void **st)
{
	char text[sizeof pinned + 8];
	struct sim_scenario sc;
	struct sim_result r;

	(void)st;
	snprintf(text, sizeof text, pinned, 0u);
	load(text, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	assert_true(r.check.total >= 1);
	for (unsigned i = 0; i < r.check.nkept; i++)
		assert_string_equal(r.check.kept[i].id, "LIV-10");
	assert_int_equal(r.check.kept[0].at, 4000);
	assert_int_equal(r.check.kept[0].side, SIM_CLIENT);
	sim_result_free(&r);
	sim_scenario_free(&sc);

	snprintf(text, sizeof text, pinned, 8u);
	load(text, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	assert_int_equal(r.check.total, 0);
	assert_true(has(&r, SIM_CLIENT, JV_EV_TRANSPORT_SWITCH, JV_TIME_NEVER));
	sim_result_free(&r);
	sim_scenario_free(&sc);
}

/* The run loop keeps the engine's answer to each `switch` order (PD-8: a
 * refused migration leaves no event). */
static void switch_orders_answered(void **st)
{
	static const char text[] =
		"[Scenario]\nname = w\nseed = 5\nduration_ms = 8000\n"
		"[Transport p1]\ndelay_ms = 10\n"
		"[Transport p2]\npriority = 1\ndelay_ms = 10\n"
		"[Timeline]\nat 3000 = switch p2\nat 3100 = switch p1\n";
	struct sim_scenario sc;
	struct sim_result r;

	(void)st;
	load(text, &sc);
	assert_int_equal(sim_run(&sc, NULL, &r), 0);
	assert_int_equal(r.norders, 2);
	assert_int_equal(r.orders[0].at, 3000);
	assert_int_equal(r.orders[0].result, SIM_ORDER_ACCEPTED);
	assert_int_equal(r.orders[1].result, SIM_ORDER_REFUSED);
	assert_int_equal(r.orders[1].refused, JV_REASON_COOLDOWN_ACTIVE);
	sim_result_free(&r);
	sim_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_same_bytes),
		cmocka_unit_test(hard_death_is_immediate),
		cmocka_unit_test(nat_rebinding_changes_the_source),
		cmocka_unit_test(takeover_is_deterministic),
		cmocka_unit_test(ack_waits_for_the_store),
		cmocka_unit_test(crash_takes_held_events_along),
		cmocka_unit_test(node_names),
		cmocka_unit_test(liv10_caught_in_a_run),
		cmocka_unit_test(switch_orders_answered),
	};

	return cmocka_run_group_tests_name("sim_world", tests, NULL, NULL);
}
