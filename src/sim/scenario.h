/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_SCENARIO_H
#define JVPN_SIM_SCENARIO_H

/*
 * A scenario file (docs/scenarios.md): INI read with libinih through a
 * line-counting reader, so every error names file:line.  Sections:
 *
 *   [Scenario]         name, seed, duration_ms, description, spec,
 *                      determinism, sink
 *   [Policy]           policy keys for both sides (the policy module's
 *   [Policy client]    streaming reader; `profile = fast` works), and
 *   [Policy gateway]   per-side overrides of those keys
 *   [Gateway]          max_sessions, handshakes_per_sec, handshake_burst
 *   [Store]            an ownership store (PD-9): latency_ms, lease_ms,
 *                      renew_ms, nodes; makes every gateway node durable
 *                      and allows a second node (gw2)
 *   [Transport NAME]   one client path each: proto, priority, address,
 *                      state, node, and the link keys (sim/link.h), for
 *                      both directions or prefixed up. / down.
 *   [Traffic]          stream and request/response generators
 *   [Timeline]         `at T = ACTION` / `every P from A to B = ACTION`
 *   [Expect]           sim/expect.h
 *
 * Unknown sections and keys are errors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jvpn/diag.h"
#include "jvpn/error.h"
#include "jvpn/limits.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"
#include "sim/expect.h"
#include "sim/link.h"

enum {
	SIM_TRANSPORTS_MAX = 8,
	SIM_ACTIONS_MAX = 4096,		/* after expanding `every` */
	SIM_EXPECTS_MAX = 128,
	SIM_ERRORS_MAX = 16,
	SIM_SET_MAX = 8,		/* parameters per `set` action */
	SIM_NODES_MAX = 2,		/* gateway nodes: gw1, gw2 */
	SIM_ORDERS_MAX = 64,		/* switch answers kept per run */
};

enum sim_dirs { SIM_DIR_UP = 1, SIM_DIR_DOWN = 2, SIM_DIR_BOTH = 3 };

enum sim_act_kind {
	SIM_ACT_KILL,		/* kill P [hard|silent] [up|down] */
	SIM_ACT_REVIVE,		/* revive P [up|down] */
	SIM_ACT_SET,		/* set P KEY=VALUE... (up.KEY, down.KEY) */
	SIM_ACT_NAT,		/* nat P [ADDR] */
	SIM_ACT_SWITCH,		/* switch P */
	SIM_ACT_TERMINATE,	/* terminate client|gateway */
	SIM_ACT_RESTART,	/* restart client|NODE */
	SIM_ACT_REPLAY,		/* replay P up|down [match=M] [pick=N] [count=N]
				   [every=MS] [from=ADDR|PATH] [flip=B]
				   [randomize=OFF:LEN] */
	SIM_ACT_CORRUPT,	/* corrupt P up|down [match=M] [next=N] [flip=B] */
	SIM_ACT_HOLD,		/* hold P up|down [match=M] [next=N] by=MS */
	SIM_ACT_DROP,		/* drop P up|down [match=M] [next=N] */
	SIM_ACT_CRASH,		/* crash NODE (kill -9) */
	SIM_ACT_STORE_DOWN,	/* store down */
	SIM_ACT_STORE_UP,	/* store up */
	SIM_ACT_PARTITION,	/* partition NODE store */
	SIM_ACT_HEAL,		/* heal NODE store */
	SIM_ACT_STORE_CONFLICT,	/* store conflict (CL-4) */
	SIM_ACT_POLICY,		/* policy client|gateway|both KEY=VALUE...
				   (spec §5 runtime change) */
	SIM_ACT_KIND_COUNT
};

const char *sim_act_name(enum sim_act_kind k);

/* Gateway node names: "gw1", "gw2". */
const char *sim_node_name(int node);
int sim_node_from_name(const char *name);	/* -1 if not a node */

/* Which datagrams an attacker action applies to. */
enum sim_match_kind {
	SIM_MATCH_ANY,
	SIM_MATCH_TYPE,		/* first byte = type (handshake, data, control) */
	SIM_MATCH_CTRL,		/* control message of one ctype (by length) */
};

struct sim_match {
	enum sim_match_kind kind;
	uint8_t type;		/* enum jv_msg_type */
	uint8_t ctrl;		/* enum jv_ctrl_type */
};

struct sim_set {
	unsigned dirs;
	char key[24];
	char value[24];
};

struct sim_action {
	jv_time at;
	enum sim_act_kind kind;
	unsigned line;
	bool fault;			/* opens a failover-gap window */
	char text[96];			/* the action as written */
	int path;			/* transport index, -1 none */
	unsigned dirs;
	bool hard;
	int side;			/* enum sim_side: terminate, restart,
					   policy (SIM_SIDES: both) */
	unsigned policy;		/* policy: in sc->policy_changes */
	int node;			/* gateway node, -1 none; replay
					   node=: inject there */
	struct jv_addr addr;		/* nat target / replay source */
	bool has_addr;
	int from_path;			/* replay from that path's address */
	unsigned nset;
	struct sim_set set[SIM_SET_MAX];
	struct sim_match match;
	uint32_t pick;			/* 1 = newest recorded */
	uint32_t count;			/* replay copies / next N */
	jv_time every_ms;		/* between replay copies */
	jv_time by_ms;			/* hold */
	int32_t flip;			/* byte whose low bit flips; -1 none,
					   -2 last byte */
	uint16_t rand_off, rand_len;	/* randomized bytes per copy */
};

struct sim_transport {
	char name[JV_TRANSPORT_ID_MAX];
	uint32_t proto;			/* enum jv_proto bit */
	unsigned priority;
	struct jv_addr addr;		/* client's address as the gateway sees it */
	bool start_down;
	bool start_hard;
	int node;			/* the gateway node it reaches */
	unsigned node_line;		/* where `node` was set, 0: not */
	struct sim_link_params up, down;
	unsigned line;
};

struct sim_traffic_cfg {
	uint32_t up_pps, down_pps;	/* constant-rate stream */
	uint32_t packet_bytes;
	jv_time start_ms, stop_ms;	/* stop 0: until the end */
	uint32_t request_pps;
	uint32_t request_bytes, response_bytes;
	jv_time request_timeout_ms;
};

struct sim_gateway_cfg {
	unsigned max_sessions;
	uint32_t handshakes_per_sec, handshake_burst;
};

/* [Store]: without it there is one gateway node, not durable, exactly
 * as before the store existed. */
struct sim_store_cfg {
	bool on;
	unsigned line;			/* of the section header */
	jv_time latency_ms;		/* operation to completion */
	jv_time lease_ms;		/* OWNER_LEASE_MS; 0: the process */
	jv_time renew_ms;		/* between renewals */
	unsigned nodes;			/* 1 or 2 */
};

struct sim_scenario {
	char file[128];
	char name[64];
	char description[200];
	char spec[64];
	uint64_t seed;
	jv_time duration_ms;
	bool determinism;		/* run twice, compare the event bytes */
	bool sink_fail;			/* the event sink refuses every line */
	struct jv_policy policy[2];	/* client, gateway */
	struct sim_gateway_cfg gateway;
	struct sim_store_cfg store;
	unsigned ntransports;
	struct sim_transport transport[SIM_TRANSPORTS_MAX];
	struct sim_traffic_cfg traffic;
	size_t nactions;
	struct sim_action *actions;	/* sorted by time, then file order */
	size_t nexpects;
	struct sim_expect *expects;
	/* `policy` actions: the keys each one sets, parsed (jv_policy_ini:
	 * values and which keys were set); laid over the side's policy in
	 * force when the action runs, then handed to the engine, which
	 * validates the result (an invalid one is the engine's to refuse) */
	size_t npolicy_changes;
	struct jv_policy_ini *policy_changes;
};

/* Every problem found, in file order (first SIM_ERRORS_MAX kept). */
struct sim_errors {
	unsigned n;
	struct jv_diag d[SIM_ERRORS_MAX];
};

/*
 * Parse a scenario from a stream; `name` is the file name for messages.
 * On error every problem found goes to errs and *sc is freed.
 * Returns 0, JV_ERR_PARSE, JV_ERR_NOMEM.
 */
JV_MUST_CHECK int sim_scenario_parse(FILE *f, const char *name,
				     struct sim_scenario *sc,
				     struct sim_errors *errs);
/* The same from a file path (JV_ERR_IO if it cannot be opened). */
JV_MUST_CHECK int sim_scenario_load(const char *path,
				    struct sim_scenario *sc,
				    struct sim_errors *errs);
/* The same from text in memory. */
JV_MUST_CHECK int sim_scenario_parse_text(const char *text, const char *name,
					  struct sim_scenario *sc,
					  struct sim_errors *errs);
void sim_scenario_free(struct sim_scenario *sc);

/* Print every error as "file:line: key = value: message". */
void sim_errors_print(const struct sim_errors *errs, FILE *out);

/* Transport index by name, -1 if none. */
int sim_scenario_transport(const struct sim_scenario *sc, const char *name);

#endif
