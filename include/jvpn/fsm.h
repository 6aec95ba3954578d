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
 * jv_fsm_apply) say which in their comment; the others take
 * JV_REASON_NONE, and any other argument makes the pair undefined.
 */
enum jv_input {
	JV_IN_ATTACH_OK,		/* handshake done, first binding */
	JV_IN_HANDSHAKE_FAIL,
	JV_IN_TRANSPORT_DEAD,		/* instability(transport_dead) of the binding */
	JV_IN_INSTABILITY,		/* arg: the other instability reasons */
	JV_IN_REQUEST_ACCEPTED,		/* validator, ATTACHED, other binding; arg:
					 * trigger_reason (an instability reason,
					 * transport_dead or nat_rebinding) */
	JV_IN_REVALIDATE_ACCEPTED,	/* validator, ATTACHED, same binding (T12) */
	JV_IN_SWITCH_START,		/* arg: loss_recovery, dead_transport_recovery, ... */
	JV_IN_GATE_RATE_LIMITED,	/* switch_gate_fail(switch_rate_limited) */
	JV_IN_GATE_FAIL,		/* arg: cooldown_active, no_candidate_transports,
					 * policy_denied */
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
	JV_IN_TERMINATE_CMD,		/* X5; arg: operator_terminated, or the reason
					 * of a peer TERMINATE (any code that ends a
					 * session) */
	JV_IN_OWNERSHIP_CONFLICT,	/* X6 */
	JV_IN_FATAL,			/* X7; arg: invariant_violation or fatal_protocol_error */
	JV_IN_PLANNED_SWITCH,		/* T13 (PD-7, PD-8); arg: failback or
					 * operator_migration */
	JV_IN_COUNT
};

/* "attach_ok", "instability", ...; NULL if out of range. */
const char *jv_input_name(enum jv_input in);
/* Inverse of jv_input_name; -1 if unknown (scenario files, tools). */
int jv_input_from_name(const char *name);

/* What a table row does. */
enum jv_rule_kind {
	JV_RULE_TRANSITION,	/* state (maybe the same) and version change */
	JV_RULE_NOOP,		/* defined row with "—": no change (T12, T23, ...) */
	JV_RULE_ABSORB,		/* absorbed input of §2.3 "Further rules" */
};

/*
 * Side effects the caller must carry out for a committed row.  Every row
 * into TERMINATED has both (INV-06: TERMINATED has no binding).
 */
enum jv_rule_effect {
	JV_EFFECT_CLEAR_BINDING = 1u << 0,	/* TransportDead rows, rows into TERMINATED */
	JV_EFFECT_TERMINATE = 1u << 1,		/* keys invalidated, timers off */
};

/*
 * One row of δ.  A row matches (state, input, arg) when state is in from,
 * input equals input (JV_IN_COUNT: any input, Z1 only) and arg is admitted:
 * args == 0 admits only JV_REASON_NONE, JV_ARGS_ANY admits anything (Z1),
 * any other set admits exactly its members.  Rows never overlap, so at
 * most one row matches.  Several rows may share an id where the spec's one
 * row has two outcomes (T10, T32, T41, X7).
 */
#define JV_ARGS_ANY (~(jv_reason_set)0)
_Static_assert(JV_REASON_COUNT < 64, "JV_ARGS_ANY needs a spare bit");

struct jv_fsm_rule {
	const char *id;			/* "T01", "X5", "Z1", ... */
	uint32_t from;			/* JV_STATE_BIT set */
	enum jv_input input;		/* JV_IN_COUNT: any input */
	enum jv_rule_kind kind;
	enum jv_state to;		/* JV_STATE_COUNT: stay in the current state */
	enum jv_reason reason;		/* JV_REASON_NONE: the input's argument */
	jv_reason_set args;		/* arguments the row admits (see above) */
	uint32_t effects;		/* enum jv_rule_effect bits */
	const char *note;		/* the caller's part (spec "Additional events") */
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

/* BIRTH, state_version 0 (spec §2.5); emit may be NULL (no sink). */
void jv_fsm_init(struct jv_fsm *f, jv_emit_fn emit, void *ud);

/* Resume an instance from a stored record (PD-9: a restart or takeover
 * continues the same FSM instance; no transition, no event). */
void jv_fsm_restore(struct jv_fsm *f, enum jv_state state, uint64_t version);

/* The row that (state, input, arg) selects, or NULL if undefined (also for
 * a state or input out of range). */
const struct jv_fsm_rule *jv_fsm_lookup(enum jv_state s, enum jv_input in,
					enum jv_reason arg);

/*
 * The reason_code a committed row writes: rule->reason, or arg for the rows
 * that pass their argument through (T10, T11, T21, T31, T48, X5).
 */
enum jv_reason jv_fsm_rule_reason(const struct jv_fsm_rule *rule,
				  enum jv_reason arg);

/*
 * Apply one input at time now.  On a TRANSITION row: write the next state,
 * bump state_version, emit exactly one SessionStateChange built from annot
 * (nullable; every field set there, such as candidate_transport, is
 * carried) plus ts_ms = now, the new state_version, previous_state,
 * new_state and reason_code.  A NOOP or ABSORB row changes and emits
 * nothing.  *rule_out (nullable) receives the row (NULL if none); its
 * effects are the caller's to carry out.
 *
 * An undefined pair (no row, or an argument the row does not admit) changes
 * nothing and emits one SecurityValidationFailed with reason_code
 * invalid_state_transition, violation_type = the input's name, state = the
 * current state, the current state_version, and annot's transport_id if
 * set.
 *
 * Version overflow (spec §2.5).  The last value, UINT64_MAX, is reserved
 * for the transition that ends the session, so that ending it is always
 * possible and no version ever wraps.  When state_version == UINT64_MAX - 1,
 * a row into TERMINATED commits normally (at UINT64_MAX); any other
 * TRANSITION row is replaced by X7 fatal_protocol_error, committed at
 * UINT64_MAX without annot's fields, and JV_ERR_OVERFLOW is returned with
 * *rule_out = that X7 row.  A non-terminal instance already at UINT64_MAX
 * (impossible through this function: a corrupted or foreign record) fails
 * closed the same way but cannot bump: it moves to TERMINATED keeping
 * UINT64_MAX, and the duplicated version makes the audit fail (INV-02).
 *
 * Returns 1 if a transition was committed, 0 for a NOOP/ABSORB row,
 * JV_ERR_ILLEGAL for an undefined pair, JV_ERR_OVERFLOW as above, or
 * JV_ERR_INVAL if f is NULL or f->state or in is out of range (nothing
 * changes, nothing is emitted).
 */
JV_MUST_CHECK int jv_fsm_apply(struct jv_fsm *f, enum jv_input in,
			       enum jv_reason arg, jv_time now,
			       const struct jv_event *annot,
			       const struct jv_fsm_rule **rule_out);

/* Is (previous, new, reason) the effect of some TRANSITION row? (audit) */
bool jv_fsm_transition_legal(enum jv_state prev, enum jv_state next,
			     enum jv_reason reason);

/*
 * The requester's FSM input for an authenticated REATTACH_DENY carrying
 * deny_code (spec §7.6 classes): JV_IN_DENY_RETRYABLE, _POLICY,
 * _VALIDATION or _FATAL; JV_IN_COUNT for a code no class holds (e.g.
 * unknown_session), which the caller treats as no response.  Read from the
 * RECOVERING rows of the table, so it cannot drift from T41-T48.
 */
enum jv_input jv_fsm_deny_input(enum jv_reason deny_code);

/* A planned switch's reason (the arguments of T13: failback, PD-7;
 * operator_migration, PD-8): discretionary, from a working binding. */
bool jv_fsm_planned(enum jv_reason r);

/* Is deny_code in the retryable class (T43: retry after retry_after_ms)? */
bool jv_deny_retryable(enum jv_reason deny_code);

#endif
