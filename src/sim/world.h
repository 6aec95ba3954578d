/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_WORLD_H
#define JVPN_SIM_WORLD_H

/*
 * One simulated run: a client engine and a gateway engine (the same core
 * the daemon runs, include/jvpn/session.h) joined by the scenario's
 * virtual transports, driven by the event queue and the virtual clock.
 * With a [Store], the gateway side is one or two durable nodes (gw1,
 * gw2) sharing a simulated ownership store (sim/store.h); each transport
 * reaches one node ([Transport] node).
 *
 * Topology.  Transport i of the client is path i: the client sends on
 * its index, the datagram crosses link i "up" and reaches the gateway on
 * local address i (192.0.2.<i+1>:51820) from the path's apparent address
 * (the NAT's public side, [Transport] address).  The gateway answers to
 * an address; the simulator routes it to the path whose apparent address
 * it is and across link i "down".  Answers to an address no path has any
 * more (an old NAT mapping, an attacker's address) are lost.
 *
 * Node drivers.  Every engine call is followed by: flushing its struct
 * jv_out (datagrams onto links, inner packets to the traffic meters),
 * closing the commit for the invariant checker, and rescheduling the
 * endpoint's tick at its reported deadline (one pending tick per
 * endpoint; a stale one is skipped when it pops).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jvpn/eventlog.h"
#include "sim/check.h"
#include "sim/record.h"
#include "sim/scenario.h"
#include "sim/store.h"
#include "sim/traffic.h"

struct sim_run_opts {
	bool seed_set;
	uint64_t seed;			/* overrides the scenario's */
	struct jv_eventlog *log;	/* JSONL of both endpoints, or NULL */
	bool lenient_replay;		/* a replay with nothing recorded is
					   not a failure (chaos) */
	bool known_findings;		/* sim_execute: violations all of
					   open engine findings (findings.h)
					   make the run KNOWN, not failed */
	/* Optional observers (jvpn demo prints a timeline with them). */
	void (*on_event)(void *ud, enum sim_side side,
			 const struct jv_event_origin *origin,
			 const struct jv_event *ev);
	/* Called as a timeline action is about to run. */
	void (*on_action)(void *ud, const struct sim_action *a, jv_time now);
	void *ud;
};

struct sim_path_stats {
	struct sim_link_stats up, down;
};

struct sim_result {
	bool ran;			/* false: setup failed */
	char error[256];		/* setup or run-loop failure */
	uint64_t seed;
	struct sim_record rec;
	struct sim_check check;
	bool have_up, have_down, have_rr;
	struct sim_meter up, down;
	struct sim_rr rr;
	uint64_t switches[SIM_SIDES];
	uint64_t sink_failures;		/* sink = fail, or the --events sink */
	uint64_t steps;			/* queue events processed */
	uint64_t engine_calls;
	uint64_t out_overflow;		/* datagrams the engine could not emit */
	uint64_t misrouted;		/* gateway datagrams to no path */
	uint64_t replay_misses;		/* replay actions with nothing recorded */
	bool have_store;		/* [Store]: nodes, store, leases */
	unsigned nnodes;
	struct sim_store_stats store;
	uint64_t crashes, node_restarts;	/* gateway nodes */
	uint64_t lookups, adoptions;
	uint64_t store_failures;	/* answers that said unreachable */
	unsigned npaths;
	struct sim_path_stats paths[SIM_TRANSPORTS_MAX];
	unsigned norders;		/* `switch` actions (PD-8) and the */
	struct sim_order orders[SIM_ORDERS_MAX];	/* engine's answers */
	uint8_t event_hash[32];		/* BLAKE2b of every event line */
};

/*
 * Run sc.  res is always initialised (free it with sim_result_free).
 * Returns 0 (the run completed: look at res), JV_ERR_NOMEM, or
 * JV_ERR_STATE (setup or the run loop failed: res->error says why).
 */
JV_MUST_CHECK int sim_run(const struct sim_scenario *sc,
			  const struct sim_run_opts *o,
			  struct sim_result *res);
void sim_result_free(struct sim_result *res);

/* Run sc (twice when it asks for a determinism check), check its
 * expectations and print the verdict to out (details unless quiet).
 * Returns 1 pass, 0 fail, 2 known (o->known_findings: it failed only by
 * violations of open engine findings), negative on a setup error. */
int sim_execute(const struct sim_scenario *sc, const struct sim_run_opts *o,
		FILE *out, bool quiet);

#endif
