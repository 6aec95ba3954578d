/* SPDX-License-Identifier: MIT */
#ifndef JVPN_FSM_H
#define JVPN_FSM_H

/*
 * The session state machine of spec §2: one static table (src/core/fsm.c)
 * and one function that applies it.  Nothing else writes a state.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "reason.h"
#include "state.h"

/*
 * FSM inputs of spec §2.2.  Inputs that carry a reason (the argument of
 * jv_fsm_apply) say which in their comment.
 */
enum jv_input {
	JV_IN_ATTACH_OK,		/* handshake done, first binding */
	JV_IN_HANDSHAKE_FAIL,
	JV_IN_TRANSPORT_DEAD,		/* instability(transport_dead) of the binding */
	JV_IN_INSTABILITY,		/* arg: the other instability reasons */
	JV_IN_REQUEST_ACCEPTED,		/* validator, ATTACHED, other binding; arg: trigger */
	JV_IN_REVALIDATE_ACCEPTED,	/* validator, ATTACHED, same binding (T12) */
	JV_IN_SWITCH_START,		/* arg: loss_recovery, dead_transport_recovery, ... */
	JV_IN_GATE_RATE_LIMITED,	/* switch_gate_fail(switch_rate_limited) */
	JV_IN_GATE_FAIL,		/* arg: cooldown_active, no_candidate_transports, policy_denied */
	JV_IN_VOLATILE_TIMEOUT,
	JV_IN_RECOVERY_TIMEOUT,
	JV_IN_REATTACH_OK,
	JV_IN_DENY_POLICY,		/* arg: the deny code (T41) */
	JV_IN_DENY_VALIDATION,		/* arg: the deny code (T42) */
	JV_IN_DENY_RETRYABLE,		/* arg: the deny code (T43) */
	JV_IN_DENY_FATAL,		/* arg: the deny code (T48) */
	JV_IN_CANDIDATE_ABANDONED,	/* T44 */
	JV_IN_CANDIDATES_EXHAUSTED,	/* T45 */
	JV_IN_SESSION_TTL,		/* X1 */
	JV_IN_TRANSPORT_TTL,		/* X2 */
	JV_IN_SECURITY_FAIL,		/* X3 */
	JV_IN_KEY_EXPIRED,		/* X4 */
	JV_IN_TERMINATE_CMD,		/* X5; arg: operator_terminated or the peer's */
	JV_IN_OWNERSHIP_CONFLICT,	/* X6 */
	JV_IN_FATAL,			/* X7; arg: invariant_violation or fatal_protocol_error */
	JV_IN_COUNT
};

const char *jv_input_name(enum jv_input in);

/* What a table row does. */
enum jv_rule_kind {
	JV_RULE_TRANSITION,	/* state (maybe the same) and version change */
	JV_RULE_NOOP,		/* defined row with "—": no change (T12, T23, ...) */
	JV_RULE_ABSORB,		/* absorbed input of §2.3 "Further rules" */
};

/* Side effects the caller must carry out for a committed row. */
enum jv_rule_effect {
	JV_EFFECT_CLEAR_BINDING = 1u << 0,	/* TransportDead rows, X rows */
	JV_EFFECT_TERMINATE = 1u << 1,		/* keys invalidated, timers off */
};

struct jv_fsm_rule {
	const char *id;			/* "T01", "X5", "Z1", ... */
	uint32_t from;			/* JV_STATE_BIT set */
	enum jv_input input;
	enum jv_rule_kind kind;
	enum jv_state to;		/* JV_STATE_COUNT: stay in the current state */
	enum jv_reason reason;		/* JV_REASON_NONE: the input's argument */
	jv_reason_set args;		/* arguments the row admits (0: none) */
	uint32_t effects;		/* enum jv_rule_effect bits */
};

/* The table, exported for the audit tool and the docs generator. */
extern const struct jv_fsm_rule jv_fsm_table[];
extern const size_t jv_fsm_table_len;

struct jv_fsm {
	enum jv_state state;
	uint64_t state_version;
	jv_emit_fn emit;	/* receives SessionStateChange and rejections */
	void *emit_ud;
};

void jv_fsm_init(struct jv_fsm *f, jv_emit_fn emit, void *ud);

/* The row that (state, input, arg) selects, or NULL if undefined. */
const struct jv_fsm_rule *jv_fsm_lookup(enum jv_state s, enum jv_input in,
					enum jv_reason arg);

/*
 * Apply one input at time now.  On a TRANSITION row: write the next state,
 * bump state_version, emit exactly one SessionStateChange built from annot
 * (nullable; extra fields such as candidate_transport) plus the states,
 * reason and version.  *rule_out (nullable) receives the row.
 *
 * Returns 1 if a transition was committed, 0 for a NOOP/ABSORB row,
 * JV_ERR_ILLEGAL for an undefined pair (nothing changes;
 * SecurityValidationFailed(invalid_state_transition) is emitted), or
 * JV_ERR_OVERFLOW when the version would wrap (X7 fatal_protocol_error is
 * applied instead).
 */
JV_MUST_CHECK int jv_fsm_apply(struct jv_fsm *f, enum jv_input in,
			       enum jv_reason arg, jv_time now,
			       const struct jv_event *annot,
			       const struct jv_fsm_rule **rule_out);

/* Is (previous, new, reason) the effect of some TRANSITION row? (audit) */
bool jv_fsm_transition_legal(enum jv_state prev, enum jv_state next,
			     enum jv_reason reason);

#endif
