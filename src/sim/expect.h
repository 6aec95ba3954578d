/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_EXPECT_H
#define JVPN_SIM_EXPECT_H

/*
 * The [Expect] section of a scenario: one expectation per line, checked
 * against the record of a run (sim/record.h) and its measurements.  The
 * grammar is in docs/scenarios.md; in short:
 *
 *   final     = SIDE STATE
 *   session   = stable
 *   sessions  = SIDE COUNT
 *   event     = SIDE TYPE [FIELD=VALUE]... [count=N|>=N|<=N|A..B]
 *               (numeric fields also FIELD>=VALUE, FIELD<=VALUE)
 *               [at=TIME|TIME..TIME] [after=TIME] [before=TIME]
 *   no        = SIDE TYPE [FIELD=VALUE]... [after=TIME] [before=TIME]
 *   sequence  = SIDE ITEM...    ITEM: STATE[reason]@TIME, or "...";
 *               @+MS[..MS] is relative to the previous transition
 *   states    = SIDE STATE...
 *   state_at  = TIME SIDE STATE
 *   rate      = SIDE TYPE [FIELD=VALUE]... <= N per MS
 *   spacing   = SIDE TYPE [FIELD=VALUE]... >= MS
 *   version   = SIDE N|>=N|<=N|A..B
 *   max_gap_ms = [up|down] MS
 *   delivered = up|down|request RATIO     (minimum fraction delivered)
 *   silent_after = [up|down] TIME         (nothing delivered after TIME)
 *   sink_failures = N|>=N|...
 *   store     = KEY N|>=N|<=N|A..B        ([Store] counters: writes,
 *               conflicts, failed, reads, adoptions, crashes)
 *   order     = TIME accepted|refused|refused[REASON]|error
 *               (the engine's answer to the `switch` action at TIME)
 *
 * A filter trigger_class=discretionary also matches an event without
 * trigger_class: before PD-7 every switch was counted (logs of then).
 *
 * TIME is milliseconds, or created+MS (the side's first SessionCreated).
 * Where the side names events or states (final, event, no, sequence,
 * states, state_at, rate, spacing) it may be gateway@NODE: only that
 * gateway node's events (final: that node's engine holds the session).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jvpn/diag.h"
#include "jvpn/error.h"
#include "jvpn/event.h"
#include "sim/record.h"
#include "sim/traffic.h"

enum {
	SIM_EXPECT_FILTERS = 8,
	SIM_EXPECT_ITEMS = 48,
	SIM_EXPECT_TEXT = 200,
	SIM_EXPECT_NODE = 16,
};

enum sim_expect_kind {
	SIM_X_FINAL,
	SIM_X_SESSION_STABLE,
	SIM_X_SESSIONS,
	SIM_X_EVENT,
	SIM_X_SEQUENCE,
	SIM_X_STATES,
	SIM_X_STATE_AT,
	SIM_X_RATE,
	SIM_X_SPACING,
	SIM_X_VERSION,
	SIM_X_MAX_GAP,
	SIM_X_DELIVERED,
	SIM_X_SINK_FAILURES,
	SIM_X_SILENT_AFTER,
	SIM_X_STORE,
	SIM_X_ORDER,
};

/* The engine's answer to an operator's `switch` (PD-8). */
enum sim_order_result {
	SIM_ORDER_ACCEPTED,	/* started (ATTACHED) or queued */
	SIM_ORDER_REFUSED,	/* with a reason (struct jv_switch_answer) */
	SIM_ORDER_ERROR,	/* jv_client_request_switch failed */
};

struct sim_order {
	jv_time at;
	enum sim_order_result result;
	enum jv_reason refused;		/* SIM_ORDER_REFUSED */
	int rc;				/* SIM_ORDER_ERROR */
};

/* [Store] counters an expectation may name (store = KEY C). */
enum sim_store_key {
	SIM_SK_WRITES,		/* records written */
	SIM_SK_CONFLICTS,	/* CAS writes refused */
	SIM_SK_FAILED,		/* operations the store did not answer */
	SIM_SK_READS,		/* lookups answered */
	SIM_SK_ADOPTIONS,	/* sessions adopted by a node */
	SIM_SK_CRASHES,		/* node processes killed */
	SIM_SK_COUNT
};

/* A time: absolute, or relative to the side's first SessionCreated. */
struct sim_xtime {
	bool set;
	bool created;		/* value is created + ms */
	jv_time ms;
};

struct sim_xcount {
	uint64_t lo, hi;	/* inclusive */
};

struct sim_xfilter {
	int field;		/* JV_F_* */
	int op;			/* 0 =, 1 >=, 2 <= (numbers only) */
	bool is_null;		/* STR: the field holds null */
	const char *s;		/* STR (points into the expectation's text) */
	uint64_t u;		/* U64, BOOL, STATE, REASON */
	double f;		/* F64 */
};

struct sim_xitem {
	bool any_run;		/* "..." */
	enum jv_state state;
	enum jv_reason reason;	/* JV_REASON_NONE: any */
	bool rel;		/* @+MS: after the previous transition */
	struct sim_xtime at_lo, at_hi;
};

struct sim_expect {
	enum sim_expect_kind kind;
	unsigned line;
	char text[SIM_EXPECT_TEXT];	/* "key = value" as written */
	char store[SIM_EXPECT_TEXT];	/* tokens the filters point into */
	int side;			/* enum sim_side, -1: both / n.a. */
	char node[SIM_EXPECT_NODE];	/* gateway@NODE; "" any node */
	int type;			/* event type, -1: any */
	unsigned nfilters;
	struct sim_xfilter filter[SIM_EXPECT_FILTERS];
	struct sim_xcount count;
	struct sim_xtime at_lo, at_hi, after, before;
	enum jv_state state;
	unsigned nitems;
	struct sim_xitem item[SIM_EXPECT_ITEMS];
	uint32_t states;		/* JV_STATE_BIT set */
	jv_time window_ms;		/* rate */
	double ratio;			/* delivered */
	int dir;			/* max_gap / delivered: -1 both, 0 up,
					   1 down, 2 request; store: key;
					   order: enum sim_order_result */
	enum jv_reason reason;		/* order: refused[R], or NONE */
};

/*
 * Parse one [Expect] line.  d gets the line, key and a message naming the
 * offending token.  Returns 0, JV_ERR_PARSE.
 */
JV_MUST_CHECK int sim_expect_parse(struct sim_expect *x, const char *key,
				   const char *value, unsigned line,
				   struct jv_diag *d);

/* Measurements of a run the expectations may look at. */
struct sim_measure {
	const struct sim_meter *up, *down;	/* NULL: no stream */
	const struct sim_rr *rr;		/* NULL: no request flow */
	uint64_t sink_failures;
	bool have_store;			/* [Store] */
	uint64_t store[SIM_SK_COUNT];
	const struct sim_order *orders;	/* every `switch` action */
	unsigned norders;
};

/*
 * Check x against the run.  On failure writes one line (no newline) to
 * why saying what was found instead.  Returns true if it holds.
 */
bool sim_expect_check(const struct sim_expect *x, const struct sim_record *r,
		      const struct sim_measure *m, char *why, size_t n);

#endif
