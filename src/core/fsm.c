/* SPDX-License-Identifier: MIT */
/*
 * The session state machine: δ of spec §2.3 as one table, and the one
 * function that applies it.  Nothing outside this file knows which (state,
 * input) pairs are legal; the engine, the simulator, the audit tool and
 * docs/state-machine.md all read jv_fsm_table.
 */

#include <string.h>

#include "jvpn/fsm.h"

static const char *const input_names[JV_IN_COUNT] = {
	[JV_IN_ATTACH_OK] = "attach_ok",
	[JV_IN_HANDSHAKE_FAIL] = "handshake_fail",
	[JV_IN_TRANSPORT_DEAD] = "transport_dead",
	[JV_IN_INSTABILITY] = "instability",
	[JV_IN_REQUEST_ACCEPTED] = "request_accepted",
	[JV_IN_REVALIDATE_ACCEPTED] = "revalidate_accepted",
	[JV_IN_SWITCH_START] = "switch_start",
	[JV_IN_GATE_RATE_LIMITED] = "gate_rate_limited",
	[JV_IN_GATE_FAIL] = "gate_fail",
	[JV_IN_VOLATILE_TIMEOUT] = "volatile_timeout",
	[JV_IN_RECOVERY_TIMEOUT] = "recovery_timeout",
	[JV_IN_REATTACH_OK] = "reattach_ok",
	[JV_IN_DENY_POLICY] = "deny_policy",
	[JV_IN_DENY_VALIDATION] = "deny_validation",
	[JV_IN_DENY_RETRYABLE] = "deny_retryable",
	[JV_IN_DENY_FATAL] = "deny_fatal",
	[JV_IN_CANDIDATE_ABANDONED] = "candidate_abandoned",
	[JV_IN_CANDIDATES_EXHAUSTED] = "candidates_exhausted",
	[JV_IN_SESSION_TTL] = "session_ttl",
	[JV_IN_TRANSPORT_TTL] = "transport_ttl",
	[JV_IN_SECURITY_FAIL] = "security_fail",
	[JV_IN_KEY_EXPIRED] = "key_expired",
	[JV_IN_TERMINATE_CMD] = "terminate_cmd",
	[JV_IN_OWNERSHIP_CONFLICT] = "ownership_conflict",
	[JV_IN_FATAL] = "fatal",
	[JV_IN_PLANNED_SWITCH] = "planned_switch",
};

const char *jv_input_name(enum jv_input in)
{
	if ((unsigned)in >= JV_IN_COUNT)
		return NULL;
	return input_names[in];
}

int jv_input_from_name(const char *name)
{
	for (int in = 0; name && in < JV_IN_COUNT; in++)
		if (strcmp(input_names[in], name) == 0)
			return in;
	return -1;
}

#define S(x) JV_STATE_BIT(JV_STATE_##x)
#define R(x) JV_REASON_BIT(JV_REASON_##x)
#define LIVE JV_STATES_NONTERMINAL
#define SAME JV_STATE_COUNT
#define CLEAR JV_EFFECT_CLEAR_BINDING
#define END (JV_EFFECT_CLEAR_BINDING | JV_EFFECT_TERMINATE)

/* instability(r) other than transport_dead (spec §2.2). */
#define ARGS_INSTABILITY                                                \
	(R(CONSECUTIVE_DROP_EXCEEDED) | R(LOSS_THRESHOLD_EXCEEDED) |     \
	 R(HEARTBEAT_TIMEOUT) | R(LATENCY_THRESHOLD_EXCEEDED))
/* trigger_reason of a request accepted in ATTACHED (T11, OP-2, PD-2). */
#define ARGS_TRIGGER (ARGS_INSTABILITY | R(TRANSPORT_DEAD) | R(NAT_REBINDING))
/* switch_start(r, c), requester §6.4 step 2 or the request's recovery_reason. */
#define ARGS_RECOVERY                                                   \
	(R(LOSS_RECOVERY) | R(DEAD_TRANSPORT_RECOVERY) |                 \
	 R(POLICY_FORCED_RECOVERY) | R(HEALTH_RECOVERED) |                \
	 ARGS_PLANNED)
/* planned_switch(r, c): fail-back (PD-7), operator migration (PD-8); a
 * validator that is VOLATILE or DEGRADED itself takes them as T21/T31. */
#define ARGS_PLANNED (R(FAILBACK) | R(OPERATOR_MIGRATION))
/* switch_gate_fail(g), g other than switch_rate_limited. */
#define ARGS_GATE                                                       \
	(R(COOLDOWN_ACTIVE) | R(NO_CANDIDATE_TRANSPORTS) | R(POLICY_DENIED))
/* The deny classes of spec §7.6. */
#define ARGS_DENY_RETRYABLE                                             \
	(R(RATE_LIMITED) | R(COOLDOWN_ACTIVE) | R(STALE_STATE_VERSION) |  \
	 R(ATOMICITY_FAILED) | R(NOT_AUTHORITATIVE_OWNER))
#define ARGS_DENY_POLICY (R(POLICY_DENIED) | R(INVALID_TRANSPORT_CANDIDATE))
#define ARGS_DENY_VALIDATION                                            \
	(R(BAD_PROOF) | R(REPLAY_DETECTED) | R(STALE_REQUEST) |           \
	 R(INVALID_STATE_FOR_REATTACH) | R(OWNERSHIP_CONFLICT))
#define ARGS_DENY_FATAL                                                 \
	(R(SESSION_LIFETIME_EXCEEDED) | R(TRANSPORT_TTL_EXCEEDED))
/*
 * X5: operator_terminated, or whatever ended the peer's instance, which is
 * the reason of every row into TERMINATED (T02, T48, X1-X7); peer_removed
 * and session_replaced are the operator's two other ways (D-022).
 */
#define ARGS_TERMINATE                                                  \
	(R(OPERATOR_TERMINATED) | R(PEER_REMOVED) | R(SESSION_REPLACED) | \
	 R(HANDSHAKE_FAILED) | ARGS_DENY_FATAL |                          \
	 R(SECURITY_FAILURE) | R(KEY_EXPIRED) | R(OWNERSHIP_CONFLICT) |   \
	 R(INVARIANT_VIOLATION) | R(FATAL_PROTOCOL_ERROR))

#define TRANS(id_, from_, in_, to_, reason_, args_, eff_, note_)        \
	{ .id = id_, .from = from_, .input = in_,                       \
	  .kind = JV_RULE_TRANSITION, .to = to_, .reason = reason_,     \
	  .args = args_, .effects = eff_, .note = note_ }
#define NOOP(id_, from_, in_, args_, note_)                             \
	{ .id = id_, .from = from_, .input = in_, .kind = JV_RULE_NOOP, \
	  .to = SAME, .reason = JV_REASON_NONE, .args = args_,          \
	  .effects = 0, .note = note_ }
#define ABSORB(id_, from_, in_, args_, note_)                           \
	{ .id = id_, .from = from_, .input = in_,                       \
	  .kind = JV_RULE_ABSORB, .to = SAME, .reason = JV_REASON_NONE, \
	  .args = args_, .effects = 0, .note = note_ }

#define NONE JV_REASON_NONE
#define IN(x) JV_IN_##x
#define ST(x) JV_STATE_##x
#define RS(x) JV_REASON_##x

/*
 * δ.  Rows never overlap (tests/unit/fsm_test.c checks it), so the order is
 * the spec's and lookup takes the only match.
 */
const struct jv_fsm_rule jv_fsm_table[] = {
	TRANS("T01", S(BIRTH), IN(ATTACH_OK), ST(ATTACHED),
	      RS(ATTACHED_TO_TRANSPORT), 0, 0, "TransportAttached"),
	TRANS("T02", S(BIRTH), IN(HANDSHAKE_FAIL), ST(TERMINATED),
	      RS(HANDSHAKE_FAILED), 0, END, "SessionTerminated"),

	TRANS("T10", S(ATTACHED), IN(TRANSPORT_DEAD), ST(VOLATILE),
	      RS(TRANSPORT_DEAD), 0, CLEAR, "TransportDead"),
	TRANS("T10", S(ATTACHED), IN(INSTABILITY), ST(VOLATILE),
	      NONE, ARGS_INSTABILITY, 0, NULL),
	/* The validator's chain T11 -> T21 -> T40 is one commit (§7.6). */
	TRANS("T11", S(ATTACHED), IN(REQUEST_ACCEPTED), ST(VOLATILE),
	      NONE, ARGS_TRIGGER, 0,
	      "same commit continues with T21 and T40; the binding is kept, "
	      "even for transport_dead (T40 replaces it)"),
	NOOP("T12", S(ATTACHED), IN(REVALIDATE_ACCEPTED), 0,
	     "ReattachResult(SUCCESS)"),
	/* PD-7 fail-back and PD-8 operator migration: a discretionary
	 * switch from a working binding, which keeps carrying data until
	 * the commit (make-before-break).  On the validator the same commit
	 * continues with T40. */
	TRANS("T13", S(ATTACHED), IN(PLANNED_SWITCH), ST(RECOVERING),
	      NONE, ARGS_PLANNED, 0,
	      "ReattachAttempt; SessionStateChange carries from_transport, "
	      "candidate_set_size, candidate_transport, trigger_class"),

	TRANS("T20", S(VOLATILE), IN(TRANSPORT_DEAD), ST(VOLATILE),
	      RS(TRANSPORT_DEAD), 0, CLEAR,
	      "TransportDead; the VOLATILE episode is not restarted (LIV-04)"),
	TRANS("T21", S(VOLATILE), IN(SWITCH_START), ST(RECOVERING),
	      NONE, ARGS_RECOVERY, 0,
	      "ReattachAttempt; SessionStateChange carries from_transport, "
	      "candidate_set_size, candidate_transport"),
	TRANS("T22", S(VOLATILE), IN(GATE_RATE_LIMITED), ST(DEGRADED),
	      RS(SWITCH_RATE_LIMITED), 0, 0,
	      "TransportSwitchDenied, PolicyLimitTriggered"),
	NOOP("T23", S(VOLATILE), IN(GATE_FAIL), ARGS_GATE,
	     "TransportSwitchDenied(g), bounded (§8.5)"),
	TRANS("T24", S(VOLATILE), IN(VOLATILE_TIMEOUT), ST(DEGRADED),
	      RS(VOLATILE_PERSISTED), 0, 0, NULL),

	TRANS("T30", S(DEGRADED), IN(TRANSPORT_DEAD), ST(DEGRADED),
	      RS(TRANSPORT_DEAD), 0, CLEAR, "TransportDead"),
	TRANS("T31", S(DEGRADED), IN(SWITCH_START), ST(RECOVERING),
	      NONE, ARGS_RECOVERY, 0, "as T21"),
	NOOP("T32", S(DEGRADED), IN(GATE_RATE_LIMITED), 0,
	     "TransportSwitchDenied(switch_rate_limited), bounded (§8.5)"),
	NOOP("T32", S(DEGRADED), IN(GATE_FAIL), ARGS_GATE,
	     "TransportSwitchDenied(g), bounded (§8.5)"),

	TRANS("T40", S(RECOVERING), IN(REATTACH_OK), ST(ATTACHED),
	      RS(REATTACH_SUCCESS), 0, 0,
	      "ReattachResult(SUCCESS); TransportSwitch iff the binding changes"),
	/* spec/timers 4.1: a rate-limit deny keeps its own code. */
	TRANS("T41", S(RECOVERING), IN(DENY_POLICY), ST(DEGRADED),
	      RS(POLICY_DENIED), ARGS_DENY_POLICY, 0,
	      "ReattachResult(DENIED, x), TransportSwitchDenied(x)"),
	TRANS("T41", S(RECOVERING), IN(DENY_POLICY), ST(DEGRADED),
	      RS(SWITCH_RATE_LIMITED), R(SWITCH_RATE_LIMITED), 0,
	      "ReattachResult(DENIED, x), TransportSwitchDenied(x)"),
	TRANS("T42", S(RECOVERING), IN(DENY_VALIDATION), ST(DEGRADED),
	      RS(REATTACH_VALIDATION_FAILED), ARGS_DENY_VALIDATION, 0,
	      "ReattachResult(DENIED, x), TransportSwitchDenied(x)"),
	NOOP("T43", S(RECOVERING), IN(DENY_RETRYABLE), ARGS_DENY_RETRYABLE,
	     "ReattachResult(DENIED, x); retry the same attempt with a fresh "
	     "nonce after retry_after_ms"),
	NOOP("T44", S(RECOVERING), IN(CANDIDATE_ABANDONED), 0,
	     "new ReattachAttempt for the next candidate passing §6.4"),
	TRANS("T45", S(RECOVERING), IN(CANDIDATES_EXHAUSTED), ST(DEGRADED),
	      RS(NO_CANDIDATE_TRANSPORTS), 0, 0, "TransportSwitchFailed"),
	TRANS("T46", S(RECOVERING), IN(RECOVERY_TIMEOUT), ST(DEGRADED),
	      RS(RECOVERY_WINDOW_EXCEEDED), 0, 0,
	      "TransportSwitchFailed, PolicyLimitTriggered"),
	TRANS("T47", S(RECOVERING), IN(TRANSPORT_DEAD), ST(RECOVERING),
	      RS(TRANSPORT_DEAD), 0, CLEAR, "TransportDead"),
	TRANS("T48", S(RECOVERING), IN(DENY_FATAL), ST(TERMINATED),
	      NONE, ARGS_DENY_FATAL, END, "SessionTerminated"),

	TRANS("X1", LIVE, IN(SESSION_TTL), ST(TERMINATED),
	      RS(SESSION_LIFETIME_EXCEEDED), 0, END, "SessionTerminated"),
	TRANS("X2", LIVE, IN(TRANSPORT_TTL), ST(TERMINATED),
	      RS(TRANSPORT_TTL_EXCEEDED), 0, END, "SessionTerminated"),
	TRANS("X3", LIVE, IN(SECURITY_FAIL), ST(TERMINATED),
	      RS(SECURITY_FAILURE), 0, END,
	      "SessionTerminated (after SecurityKeyCompromiseSuspected if "
	      "that is the cause)"),
	TRANS("X4", LIVE, IN(KEY_EXPIRED), ST(TERMINATED),
	      RS(KEY_EXPIRED), 0, END, "KeyExpired, SessionTerminated"),
	TRANS("X5", LIVE, IN(TERMINATE_CMD), ST(TERMINATED),
	      NONE, ARGS_TERMINATE, END,
	      "SessionTerminated; a peer TERMINATE carries its reason and "
	      "details.origin = \"peer\""),
	TRANS("X6", LIVE, IN(OWNERSHIP_CONFLICT), ST(TERMINATED),
	      RS(OWNERSHIP_CONFLICT), 0, END,
	      "SessionOwnerConflict, SessionTerminated"),
	TRANS("X7", LIVE, IN(FATAL), ST(TERMINATED),
	      RS(INVARIANT_VIOLATION), R(INVARIANT_VIOLATION), END,
	      "SessionTerminated"),
	/* Also what jv_fsm_apply commits on version overflow (§2.5). */
	TRANS("X7", LIVE, IN(FATAL), ST(TERMINATED),
	      RS(FATAL_PROTOCOL_ERROR), R(FATAL_PROTOCOL_ERROR), END,
	      "SessionTerminated"),

	/* §2.3 "Further rules": absorbed, no event, not an error. */
	ABSORB("F1", S(VOLATILE) | S(DEGRADED) | S(RECOVERING),
	       IN(INSTABILITY), ARGS_INSTABILITY,
	       "instability other than transport_dead after leaving ATTACHED"),
	ABSORB("F2", S(ATTACHED) | S(DEGRADED) | S(RECOVERING),
	       IN(VOLATILE_TIMEOUT), 0, "timer of a state already left"),
	ABSORB("F3", S(ATTACHED) | S(VOLATILE) | S(DEGRADED),
	       IN(RECOVERY_TIMEOUT), 0, "timer of a state already left"),

	ABSORB("Z1", S(TERMINATED), JV_IN_COUNT, JV_ARGS_ANY,
	       "no mutation, no event; requests get "
	       "REATTACH_DENY(invalid_state_for_reattach)"),
};

const size_t jv_fsm_table_len = sizeof jv_fsm_table / sizeof jv_fsm_table[0];

static bool admits(jv_reason_set args, enum jv_reason arg)
{
	if (args == JV_ARGS_ANY)
		return true;
	if (arg == JV_REASON_NONE)
		return args == 0;
	/* Range check first: a shift by >= 64 is undefined. */
	if ((int)arg < 0 || (int)arg >= JV_REASON_COUNT)
		return false;
	return (args & JV_REASON_BIT(arg)) != 0;
}

const struct jv_fsm_rule *jv_fsm_lookup(enum jv_state s, enum jv_input in,
					enum jv_reason arg)
{
	if ((unsigned)s >= JV_STATE_COUNT || (unsigned)in >= JV_IN_COUNT)
		return NULL;
	for (size_t i = 0; i < jv_fsm_table_len; i++) {
		const struct jv_fsm_rule *r = &jv_fsm_table[i];

		if (!(r->from & JV_STATE_BIT(s)))
			continue;
		if (r->input != JV_IN_COUNT && r->input != in)
			continue;
		if (admits(r->args, arg))
			return r;
	}
	return NULL;
}

enum jv_reason jv_fsm_rule_reason(const struct jv_fsm_rule *rule,
				  enum jv_reason arg)
{
	if (!rule)
		return JV_REASON_NONE;
	return rule->reason != JV_REASON_NONE ? rule->reason : arg;
}

void jv_fsm_init(struct jv_fsm *f, jv_emit_fn emit, void *ud)
{
	f->state = JV_STATE_BIRTH;
	f->state_version = 0;
	f->emit = emit;
	f->emit_ud = ud;
}

void jv_fsm_restore(struct jv_fsm *f, enum jv_state state, uint64_t version)
{
	f->state = state;
	f->state_version = version;
}

static void emit(const struct jv_fsm *f, const struct jv_event *ev)
{
	if (f->emit)
		f->emit(f->emit_ud, ev);
}

static void emit_rejection(const struct jv_fsm *f, enum jv_input in,
			   jv_time now, const struct jv_event *annot)
{
	struct jv_event ev = { .type = JV_EV_SECURITY_VALIDATION_FAILED };

	ev.ts_ms = now;
	ev.state_version = f->state_version;
	JV_EV_SET(&ev, reason_code, JV_REASON_INVALID_STATE_TRANSITION);
	JV_EV_SET(&ev, violation_type, jv_input_name(in));
	JV_EV_SET(&ev, state, f->state);
	/* AB-2: say which path the offending message came over. */
	if (annot && JV_EV_HAS(annot, transport_id))
		JV_EV_SET(&ev, transport_id, annot->transport_id);
	emit(f, &ev);
}

int jv_fsm_apply(struct jv_fsm *f, enum jv_input in, enum jv_reason arg,
		 jv_time now, const struct jv_event *annot,
		 const struct jv_fsm_rule **rule_out)
{
	const struct jv_fsm_rule *rule;
	struct jv_event ev = { 0 };
	enum jv_state prev, next;
	enum jv_reason reason;
	int ret = 1;

	if (rule_out)
		*rule_out = NULL;
	if (!f || (unsigned)f->state >= JV_STATE_COUNT ||
	    (unsigned)in >= JV_IN_COUNT)
		return JV_ERR_INVAL;

	rule = jv_fsm_lookup(f->state, in, arg);
	if (!rule) {
		emit_rejection(f, in, now, annot);
		return JV_ERR_ILLEGAL;
	}
	if (rule_out)
		*rule_out = rule;
	if (rule->kind != JV_RULE_TRANSITION)
		return 0;

	prev = f->state;
	next = rule->to == JV_STATE_COUNT ? prev : rule->to;
	reason = jv_fsm_rule_reason(rule, arg);

	/*
	 * §2.5: UINT64_MAX is kept for the transition into TERMINATED, so a
	 * session can always end and no version wraps.  See fsm.h.
	 */
	if (f->state_version == UINT64_MAX ||
	    (f->state_version == UINT64_MAX - 1 &&
	     next != JV_STATE_TERMINATED)) {
		rule = jv_fsm_lookup(prev, JV_IN_FATAL,
				     JV_REASON_FATAL_PROTOCOL_ERROR);
		next = JV_STATE_TERMINATED;
		reason = JV_REASON_FATAL_PROTOCOL_ERROR;
		annot = NULL;	/* it described the transition we replace */
		ret = JV_ERR_OVERFLOW;
		if (rule_out)
			*rule_out = rule;
	}

	f->state = next;
	if (f->state_version < UINT64_MAX)
		f->state_version++;

	if (annot)
		ev = *annot;
	ev.type = JV_EV_SESSION_STATE_CHANGE;
	ev.ts_ms = now;
	ev.state_version = f->state_version;
	JV_EV_SET(&ev, previous_state, prev);
	JV_EV_SET(&ev, new_state, next);
	JV_EV_SET(&ev, reason_code, reason);
	emit(f, &ev);
	return ret;
}

bool jv_fsm_transition_legal(enum jv_state prev, enum jv_state next,
			     enum jv_reason reason)
{
	if ((unsigned)prev >= JV_STATE_COUNT ||
	    (unsigned)next >= JV_STATE_COUNT || reason == JV_REASON_NONE)
		return false;
	for (size_t i = 0; i < jv_fsm_table_len; i++) {
		const struct jv_fsm_rule *r = &jv_fsm_table[i];
		enum jv_state to;

		if (r->kind != JV_RULE_TRANSITION ||
		    !(r->from & JV_STATE_BIT(prev)))
			continue;
		to = r->to == JV_STATE_COUNT ? prev : r->to;
		if (to != next)
			continue;
		if (r->reason != JV_REASON_NONE ? r->reason == reason
						: admits(r->args, reason))
			return true;
	}
	return false;
}

enum jv_input jv_fsm_deny_input(enum jv_reason deny_code)
{
	static const enum jv_input deny_inputs[] = {
		JV_IN_DENY_RETRYABLE, JV_IN_DENY_POLICY,
		JV_IN_DENY_VALIDATION, JV_IN_DENY_FATAL,
	};

	/* An argument-less deny would match nothing anyway; be explicit. */
	if (deny_code == JV_REASON_NONE)
		return JV_IN_COUNT;
	for (size_t i = 0; i < sizeof deny_inputs / sizeof deny_inputs[0]; i++)
		if (jv_fsm_lookup(JV_STATE_RECOVERING, deny_inputs[i],
				  deny_code))
			return deny_inputs[i];
	return JV_IN_COUNT;
}

bool jv_deny_retryable(enum jv_reason deny_code)
{
	return jv_fsm_deny_input(deny_code) == JV_IN_DENY_RETRYABLE;
}

bool jv_fsm_planned(enum jv_reason r)
{
	return jv_fsm_lookup(JV_STATE_ATTACHED, JV_IN_PLANNED_SWITCH, r) != NULL;
}
