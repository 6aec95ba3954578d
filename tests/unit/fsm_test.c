/* SPDX-License-Identifier: MIT */
/*
 * The state machine against spec §2.3, cell by cell.  The expectations are
 * written here by hand from the spec (expect[][] and admitted()); they are
 * never read from jv_fsm_table, so a wrong row fails a test instead of
 * agreeing with itself.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/fsm.h"

/* ---- capture of emitted events ---------------------------------------- */

enum { CAP_MAX = 16 };

struct capture {
	struct jv_event ev[CAP_MAX];
	size_t n;
	size_t overflowed;
};

static void capture_fn(void *ud, const struct jv_event *ev)
{
	struct capture *c = ud;

	if (c->n < CAP_MAX)
		c->ev[c->n++] = *ev;
	else
		c->overflowed++;
}

static void fsm_at(struct jv_fsm *f, struct capture *c, enum jv_state s,
		   uint64_t version)
{
	memset(c, 0, sizeof *c);
	jv_fsm_init(f, capture_fn, c);
	f->state = s;		/* test set-up only: production goes through apply */
	f->state_version = version;
}

/* ---- the hand-written expectation matrix ------------------------------- */

enum exp_kind { E_REJ = 0, E_NOOP, E_ABS, E_TRANS };

/* Reason markers besides a fixed code. */
#define R_ARG (-2)	/* reason_code = the input's argument */
#define R_T41 (-3)	/* switch_rate_limited if arg is that, else policy_denied */

struct cell {
	enum exp_kind k;
	const char *id;
	enum jv_state next;
	int reason;
};

#define NOP(id) { E_NOOP, id, 0, 0 }
#define ABS(id) { E_ABS, id, 0, 0 }
#define GO(id, st, r) { E_TRANS, id, JV_STATE_##st, r }
#define RSN(x) JV_REASON_##x

/* X1-X7: every non-terminal state. */
#define X_COLUMNS                                                        \
	[JV_IN_SESSION_TTL] = GO("X1", TERMINATED, RSN(SESSION_LIFETIME_EXCEEDED)), \
	[JV_IN_TRANSPORT_TTL] = GO("X2", TERMINATED, RSN(TRANSPORT_TTL_EXCEEDED)), \
	[JV_IN_SECURITY_FAIL] = GO("X3", TERMINATED, RSN(SECURITY_FAILURE)), \
	[JV_IN_KEY_EXPIRED] = GO("X4", TERMINATED, RSN(KEY_EXPIRED)),    \
	[JV_IN_TERMINATE_CMD] = GO("X5", TERMINATED, R_ARG),             \
	[JV_IN_OWNERSHIP_CONFLICT] = GO("X6", TERMINATED, RSN(OWNERSHIP_CONFLICT)), \
	[JV_IN_FATAL] = GO("X7", TERMINATED, R_ARG)

/*
 * expect[state][input] for an admitted argument.  A cell left out is an
 * undefined pair (E_REJ = 0): spec §2.3 "every other (state, input) pair is
 * undefined".  TERMINATED is Z1 for everything and handled in expected().
 */
static const struct cell expect[JV_STATE_COUNT][JV_IN_COUNT] = {
	[JV_STATE_BIRTH] = {
		[JV_IN_ATTACH_OK] = GO("T01", ATTACHED, RSN(ATTACHED_TO_TRANSPORT)),
		[JV_IN_HANDSHAKE_FAIL] = GO("T02", TERMINATED, RSN(HANDSHAKE_FAILED)),
		X_COLUMNS,
	},
	[JV_STATE_ATTACHED] = {
		[JV_IN_TRANSPORT_DEAD] = GO("T10", VOLATILE, RSN(TRANSPORT_DEAD)),
		[JV_IN_INSTABILITY] = GO("T10", VOLATILE, R_ARG),
		[JV_IN_REQUEST_ACCEPTED] = GO("T11", VOLATILE, R_ARG),
		[JV_IN_REVALIDATE_ACCEPTED] = NOP("T12"),
		[JV_IN_PLANNED_SWITCH] = GO("T13", RECOVERING, R_ARG),
		[JV_IN_VOLATILE_TIMEOUT] = ABS("F2"),
		[JV_IN_RECOVERY_TIMEOUT] = ABS("F3"),
		X_COLUMNS,
	},
	[JV_STATE_VOLATILE] = {
		[JV_IN_TRANSPORT_DEAD] = GO("T20", VOLATILE, RSN(TRANSPORT_DEAD)),
		[JV_IN_INSTABILITY] = ABS("F1"),
		[JV_IN_SWITCH_START] = GO("T21", RECOVERING, R_ARG),
		[JV_IN_GATE_RATE_LIMITED] = GO("T22", DEGRADED, RSN(SWITCH_RATE_LIMITED)),
		[JV_IN_GATE_FAIL] = NOP("T23"),
		[JV_IN_VOLATILE_TIMEOUT] = GO("T24", DEGRADED, RSN(VOLATILE_PERSISTED)),
		[JV_IN_RECOVERY_TIMEOUT] = ABS("F3"),
		X_COLUMNS,
	},
	[JV_STATE_DEGRADED] = {
		[JV_IN_TRANSPORT_DEAD] = GO("T30", DEGRADED, RSN(TRANSPORT_DEAD)),
		[JV_IN_INSTABILITY] = ABS("F1"),
		[JV_IN_SWITCH_START] = GO("T31", RECOVERING, R_ARG),
		[JV_IN_GATE_RATE_LIMITED] = NOP("T32"),
		[JV_IN_GATE_FAIL] = NOP("T32"),
		[JV_IN_VOLATILE_TIMEOUT] = ABS("F2"),
		[JV_IN_RECOVERY_TIMEOUT] = ABS("F3"),
		X_COLUMNS,
	},
	[JV_STATE_RECOVERING] = {
		[JV_IN_TRANSPORT_DEAD] = GO("T47", RECOVERING, RSN(TRANSPORT_DEAD)),
		[JV_IN_INSTABILITY] = ABS("F1"),
		[JV_IN_REATTACH_OK] = GO("T40", ATTACHED, RSN(REATTACH_SUCCESS)),
		[JV_IN_DENY_POLICY] = GO("T41", DEGRADED, R_T41),
		[JV_IN_DENY_VALIDATION] = GO("T42", DEGRADED, RSN(REATTACH_VALIDATION_FAILED)),
		[JV_IN_DENY_RETRYABLE] = NOP("T43"),
		[JV_IN_CANDIDATE_ABANDONED] = NOP("T44"),
		[JV_IN_CANDIDATES_EXHAUSTED] = GO("T45", DEGRADED, RSN(NO_CANDIDATE_TRANSPORTS)),
		[JV_IN_RECOVERY_TIMEOUT] = GO("T46", DEGRADED, RSN(RECOVERY_WINDOW_EXCEEDED)),
		[JV_IN_DENY_FATAL] = GO("T48", TERMINATED, R_ARG),
		[JV_IN_VOLATILE_TIMEOUT] = ABS("F2"),
		X_COLUMNS,
	},
};

static bool is_one_of(int arg, const enum jv_reason *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (arg == (int)v[i])
			return true;
	return false;
}

#define ONE_OF(arg, ...)                                                \
	is_one_of(arg, (const enum jv_reason[]){ __VA_ARGS__ },          \
		  sizeof((const enum jv_reason[]){ __VA_ARGS__ }) /        \
			  sizeof(enum jv_reason))

/* The arguments an input admits (spec §2.2, §6.2, §7.6, T11 = OP-2/PD-2). */
static bool admitted(enum jv_input in, int arg)
{
	switch (in) {
	case JV_IN_INSTABILITY:
		return ONE_OF(arg, RSN(CONSECUTIVE_DROP_EXCEEDED),
			      RSN(LOSS_THRESHOLD_EXCEEDED), RSN(HEARTBEAT_TIMEOUT),
			      RSN(LATENCY_THRESHOLD_EXCEEDED));
	case JV_IN_REQUEST_ACCEPTED:
		return ONE_OF(arg, RSN(CONSECUTIVE_DROP_EXCEEDED),
			      RSN(LOSS_THRESHOLD_EXCEEDED), RSN(HEARTBEAT_TIMEOUT),
			      RSN(LATENCY_THRESHOLD_EXCEEDED), RSN(TRANSPORT_DEAD),
			      RSN(NAT_REBINDING));
	case JV_IN_SWITCH_START:
		return ONE_OF(arg, RSN(LOSS_RECOVERY), RSN(DEAD_TRANSPORT_RECOVERY),
			      RSN(POLICY_FORCED_RECOVERY), RSN(HEALTH_RECOVERED),
			      RSN(FAILBACK), RSN(OPERATOR_MIGRATION));
	case JV_IN_PLANNED_SWITCH:	/* PD-7 fail-back, PD-8 migration */
		return ONE_OF(arg, RSN(FAILBACK), RSN(OPERATOR_MIGRATION));
	case JV_IN_GATE_FAIL:
		return ONE_OF(arg, RSN(COOLDOWN_ACTIVE),
			      RSN(NO_CANDIDATE_TRANSPORTS), RSN(POLICY_DENIED));
	case JV_IN_DENY_POLICY:
		return ONE_OF(arg, RSN(POLICY_DENIED),
			      RSN(INVALID_TRANSPORT_CANDIDATE),
			      RSN(SWITCH_RATE_LIMITED));
	case JV_IN_DENY_VALIDATION:
		return ONE_OF(arg, RSN(BAD_PROOF), RSN(REPLAY_DETECTED),
			      RSN(STALE_REQUEST), RSN(INVALID_STATE_FOR_REATTACH),
			      RSN(OWNERSHIP_CONFLICT));
	case JV_IN_DENY_RETRYABLE:
		return ONE_OF(arg, RSN(RATE_LIMITED), RSN(COOLDOWN_ACTIVE),
			      RSN(STALE_STATE_VERSION), RSN(ATOMICITY_FAILED),
			      RSN(NOT_AUTHORITATIVE_OWNER));
	case JV_IN_DENY_FATAL:
		return ONE_OF(arg, RSN(SESSION_LIFETIME_EXCEEDED),
			      RSN(TRANSPORT_TTL_EXCEEDED));
	case JV_IN_TERMINATE_CMD:
		/* operator (with D-022's two codes), or any code that ends
		 * a session on the peer */
		return ONE_OF(arg, RSN(OPERATOR_TERMINATED), RSN(PEER_REMOVED),
			      RSN(SESSION_REPLACED), RSN(HANDSHAKE_FAILED),
			      RSN(SESSION_LIFETIME_EXCEEDED),
			      RSN(TRANSPORT_TTL_EXCEEDED), RSN(SECURITY_FAILURE),
			      RSN(KEY_EXPIRED), RSN(OWNERSHIP_CONFLICT),
			      RSN(INVARIANT_VIOLATION), RSN(FATAL_PROTOCOL_ERROR));
	case JV_IN_FATAL:
		return ONE_OF(arg, RSN(INVARIANT_VIOLATION),
			      RSN(FATAL_PROTOCOL_ERROR));
	default:
		/* argument-less inputs */
		return arg == JV_REASON_NONE;
	}
}

static struct cell expected(enum jv_state s, enum jv_input in, int arg)
{
	struct cell c;

	if (s == JV_STATE_TERMINATED)
		return (struct cell)ABS("Z1");	/* any input, any argument */
	c = expect[s][in];
	if (c.k != E_REJ && !admitted(in, arg))
		return (struct cell){ 0 };
	if (c.reason == R_ARG)
		c.reason = arg;
	else if (c.reason == R_T41)
		c.reason = arg == RSN(SWITCH_RATE_LIMITED) ?
				   RSN(SWITCH_RATE_LIMITED) : RSN(POLICY_DENIED);
	return c;
}

/* The input names of the CLI, scenario files and violation_type. */
static const char *const names[JV_IN_COUNT] = {
	"attach_ok", "handshake_fail", "transport_dead", "instability",
	"request_accepted", "revalidate_accepted", "switch_start",
	"gate_rate_limited", "gate_fail", "volatile_timeout",
	"recovery_timeout", "reattach_ok", "deny_policy", "deny_validation",
	"deny_retryable", "deny_fatal", "candidate_abandoned",
	"candidates_exhausted", "session_ttl", "transport_ttl",
	"security_fail", "key_expired", "terminate_cmd", "ownership_conflict",
	"fatal", "planned_switch",
};

/* ---- the full matrix ---------------------------------------------------- */

static const char *arg_name(int arg)
{
	const char *n = jv_reason_name((enum jv_reason)arg);

	return n ? n : arg == JV_REASON_NONE ? "(none)" : "(out of range)";
}

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond))                                            \
			fail_msg("%s + %s(%s): %s", jv_state_name(s),   \
				 names[in], arg_name(arg), #cond);      \
	} while (0)

static size_t tally[E_TRANS + 1];

static void check_one(enum jv_state s, enum jv_input in, int arg)
{
	const uint64_t v0 = 41;
	const jv_time now = 1000 + 10 * (jv_time)s + (jv_time)in;
	struct cell c = expected(s, in, arg);
	const struct jv_fsm_rule *rule = (const void *)&rule;	/* poison */
	struct jv_event annot = { 0 };
	struct capture cap;
	struct jv_fsm f;
	int ret;

	fsm_at(&f, &cap, s, v0);
	JV_EV_SET(&annot, candidate_transport, "p2");
	JV_EV_SET(&annot, transport_id, "p1");
	JV_EV_SET(&annot, loss_ratio, 0.25);

	ret = jv_fsm_apply(&f, in, (enum jv_reason)arg, now, &annot, &rule);
	tally[c.k]++;

	switch (c.k) {
	case E_REJ:
		CHECK(ret == JV_ERR_ILLEGAL);
		CHECK(rule == NULL);
		CHECK(f.state == s);
		CHECK(f.state_version == v0);
		CHECK(cap.n == 1);
		CHECK(cap.ev[0].type == JV_EV_SECURITY_VALIDATION_FAILED);
		CHECK(cap.ev[0].ts_ms == now);
		CHECK(cap.ev[0].state_version == v0);
		CHECK(JV_EV_HAS(&cap.ev[0], reason_code));
		CHECK(cap.ev[0].reason_code == RSN(INVALID_STATE_TRANSITION));
		CHECK(JV_EV_HAS(&cap.ev[0], violation_type));
		CHECK(strcmp(cap.ev[0].violation_type, names[in]) == 0);
		CHECK(JV_EV_HAS(&cap.ev[0], state));
		CHECK(cap.ev[0].state == s);
		CHECK(JV_EV_HAS(&cap.ev[0], transport_id));
		CHECK(strcmp(cap.ev[0].transport_id, "p1") == 0);
		CHECK(!JV_EV_HAS(&cap.ev[0], new_state));
		CHECK(!JV_EV_HAS(&cap.ev[0], candidate_transport));
		break;
	case E_NOOP:
	case E_ABS:
		CHECK(ret == 0);
		CHECK(rule != NULL);
		CHECK(strcmp(rule->id, c.id) == 0);
		CHECK(rule->kind == (c.k == E_NOOP ? JV_RULE_NOOP : JV_RULE_ABSORB));
		CHECK(rule->effects == 0);
		CHECK(f.state == s);
		CHECK(f.state_version == v0);
		CHECK(cap.n == 0);
		break;
	case E_TRANS: {
		bool ends = c.next == JV_STATE_TERMINATED;
		uint32_t eff = (ends || in == JV_IN_TRANSPORT_DEAD ?
					JV_EFFECT_CLEAR_BINDING : 0) |
			       (ends ? JV_EFFECT_TERMINATE : 0);

		CHECK(ret == 1);
		CHECK(rule != NULL);
		CHECK(strcmp(rule->id, c.id) == 0);
		CHECK(rule->kind == JV_RULE_TRANSITION);
		CHECK(rule->effects == eff);
		CHECK((int)jv_fsm_rule_reason(rule, (enum jv_reason)arg) == c.reason);
		CHECK(f.state == c.next);
		CHECK(f.state_version == v0 + 1);
		CHECK(cap.n == 1);
		CHECK(cap.ev[0].type == JV_EV_SESSION_STATE_CHANGE);
		CHECK(cap.ev[0].ts_ms == now);
		CHECK(cap.ev[0].state_version == v0 + 1);
		CHECK(JV_EV_HAS(&cap.ev[0], previous_state));
		CHECK(cap.ev[0].previous_state == s);
		CHECK(JV_EV_HAS(&cap.ev[0], new_state));
		CHECK(cap.ev[0].new_state == c.next);
		CHECK(JV_EV_HAS(&cap.ev[0], reason_code));
		CHECK((int)cap.ev[0].reason_code == c.reason);
		/* every annot field is carried */
		CHECK(JV_EV_HAS(&cap.ev[0], candidate_transport));
		CHECK(strcmp(cap.ev[0].candidate_transport, "p2") == 0);
		CHECK(JV_EV_HAS(&cap.ev[0], transport_id));
		CHECK(JV_EV_HAS(&cap.ev[0], loss_ratio));
		CHECK(cap.ev[0].loss_ratio == 0.25);
		CHECK(!JV_EV_HAS(&cap.ev[0], violation_type));
		break;
	}
	}
	CHECK(cap.overflowed == 0);
}

/* Every state x every input x every argument (none, each code, junk). */
static void every_pair_matches_the_spec(void **st)
{
	(void)st;
	memset(tally, 0, sizeof tally);
	for (int s = 0; s < JV_STATE_COUNT; s++)
		for (int in = 0; in < JV_IN_COUNT; in++)
			for (int arg = JV_REASON_NONE; arg <= JV_REASON_COUNT + 1; arg++)
				check_one((enum jv_state)s, (enum jv_input)in,
					  arg == JV_REASON_COUNT + 1 ? 200 : arg);

	/*
	 * Size of the matrix, counted by hand from §2.3 (guards the hand
	 * matrix and admitted() against each other).  Transitions: X1-X7
	 * give 5 + 11 (X5, D-022) + 2 (X7) = 18 per live state; BIRTH 2 + 18,
	 * ATTACHED 1 + 4 + 6 + 2 (T13) + 18, VOLATILE 1 + 6 + 1 + 1 + 18,
	 * DEGRADED 1 + 6 + 18, RECOVERING 1 + 1 + 3 + 5 + 1 + 1 + 1 + 2 + 18.
	 * No-ops: T12 1, T23 3, T32 1 + 3, T43 5, T44 1.  Absorbed: F1 4 x 3,
	 * F2 3, F3 3, and Z1 for every input and tested argument.
	 */
	const size_t nargs = JV_REASON_COUNT + 3;

	assert_int_equal(tally[E_TRANS], 20 + 31 + 27 + 25 + 32);
	assert_int_equal(tally[E_NOOP], 14);
	assert_int_equal(tally[E_ABS], 18 + JV_IN_COUNT * nargs);
	assert_int_equal(tally[E_REJ], JV_STATE_COUNT * JV_IN_COUNT * nargs -
					       135 - 14 - 18 -
					       JV_IN_COUNT * nargs);
}

/* Each spec row id is reachable by some cell of the hand matrix. */
static void every_spec_row_is_exercised(void **st)
{
	static const char *const ids[] = {
		"T01", "T02", "T10", "T11", "T12", "T13", "T20", "T21", "T22", "T23",
		"T24", "T30", "T31", "T32", "T40", "T41", "T42", "T43", "T44",
		"T45", "T46", "T47", "T48", "X1", "X2", "X3", "X4", "X5", "X6",
		"X7", "F1", "F2", "F3", "Z1",
	};
	(void)st;

	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		bool in_table = false;

		for (size_t r = 0; r < jv_fsm_table_len; r++)
			if (strcmp(jv_fsm_table[r].id, ids[i]) == 0)
				in_table = true;
		if (!in_table)
			fail_msg("row %s missing from jv_fsm_table", ids[i]);
	}
	/* and the table holds no row the spec does not name */
	for (size_t r = 0; r < jv_fsm_table_len; r++) {
		bool known = false;

		for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
			if (strcmp(jv_fsm_table[r].id, ids[i]) == 0)
				known = true;
		if (!known)
			fail_msg("row %s is not in spec §2.3", jv_fsm_table[r].id);
	}
}

/* Structural properties every row must keep (not expectations of δ). */
static void table_is_well_formed(void **st)
{
	(void)st;
	for (size_t i = 0; i < jv_fsm_table_len; i++) {
		const struct jv_fsm_rule *r = &jv_fsm_table[i];

		assert_non_null(r->id);
		assert_int_not_equal(r->from, 0);
		assert_int_equal(r->from & ~((1u << JV_STATE_COUNT) - 1), 0);
		if (r->kind == JV_RULE_TRANSITION) {
			/* a passed-through reason needs arguments to pass */
			if (r->reason == JV_REASON_NONE) {
				assert_int_not_equal(r->args, 0);
				assert_true(r->args != JV_ARGS_ANY);
			}
			if (r->to == JV_STATE_TERMINATED)
				assert_int_equal(r->effects,
						 JV_EFFECT_CLEAR_BINDING |
							 JV_EFFECT_TERMINATE);
			assert_true(r->input < JV_IN_COUNT);
		} else {
			assert_int_equal(r->to, JV_STATE_COUNT);
			assert_int_equal(r->effects, 0);
		}
		if (r->input == JV_IN_COUNT)
			assert_string_equal(r->id, "Z1");
	}
	/* no two rows match the same (state, input, argument) */
	for (int s = 0; s < JV_STATE_COUNT; s++)
		for (int in = 0; in < JV_IN_COUNT; in++)
			for (int arg = JV_REASON_NONE; arg < JV_REASON_COUNT; arg++) {
				int hits = 0;

				for (size_t i = 0; i < jv_fsm_table_len; i++) {
					const struct jv_fsm_rule *r = &jv_fsm_table[i];
					bool ok;

					if (!(r->from & JV_STATE_BIT(s)) ||
					    (r->input != JV_IN_COUNT && (int)r->input != in))
						continue;
					if (r->args == JV_ARGS_ANY)
						ok = true;
					else if (arg == JV_REASON_NONE)
						ok = r->args == 0;
					else
						ok = r->args & JV_REASON_BIT(arg);
					hits += ok;
				}
				if (hits > 1)
					fail_msg("%d rows match %s + %s(%s)", hits,
						 jv_state_name((enum jv_state)s),
						 names[in], arg_name(arg));
			}
}

/* ---- names, init, argument checks -------------------------------------- */

static void input_names_round_trip(void **st)
{
	(void)st;
	for (int in = 0; in < JV_IN_COUNT; in++) {
		assert_string_equal(jv_input_name((enum jv_input)in), names[in]);
		assert_int_equal(jv_input_from_name(names[in]), in);
	}
	assert_null(jv_input_name(JV_IN_COUNT));
	assert_null(jv_input_name((enum jv_input)-1));
	assert_int_equal(jv_input_from_name("ATTACH_OK"), -1);
	assert_int_equal(jv_input_from_name(""), -1);
	assert_int_equal(jv_input_from_name(NULL), -1);
}

static void init_is_birth_v0_silent(void **st)
{
	struct capture cap = { 0 };
	struct jv_fsm f;

	(void)st;
	memset(&f, 0xa5, sizeof f);
	jv_fsm_init(&f, capture_fn, &cap);
	assert_int_equal(f.state, JV_STATE_BIRTH);
	assert_int_equal(f.state_version, 0);
	assert_ptr_equal(f.emit_ud, &cap);
	assert_int_equal(cap.n, 0);
}

static void bad_arguments_change_nothing(void **st)
{
	const struct jv_fsm_rule *rule = (const void *)&rule;
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	assert_int_equal(jv_fsm_apply(NULL, JV_IN_ATTACH_OK, JV_REASON_NONE, 1,
				      NULL, &rule), JV_ERR_INVAL);
	assert_null(rule);

	fsm_at(&f, &cap, JV_STATE_ATTACHED, 3);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_COUNT, JV_REASON_NONE, 1, NULL,
				      NULL), JV_ERR_INVAL);
	assert_int_equal(jv_fsm_apply(&f, (enum jv_input)-1, JV_REASON_NONE, 1,
				      NULL, NULL), JV_ERR_INVAL);
	assert_int_equal(f.state, JV_STATE_ATTACHED);
	assert_int_equal(f.state_version, 3);
	assert_int_equal(cap.n, 0);

	f.state = JV_STATE_COUNT;	/* corrupted record */
	assert_int_equal(jv_fsm_apply(&f, JV_IN_SESSION_TTL, JV_REASON_NONE, 1,
				      NULL, NULL), JV_ERR_INVAL);
	assert_int_equal(f.state, JV_STATE_COUNT);
	assert_int_equal(f.state_version, 3);
	assert_int_equal(cap.n, 0);

	assert_null(jv_fsm_lookup(JV_STATE_COUNT, JV_IN_ATTACH_OK, JV_REASON_NONE));
	assert_null(jv_fsm_lookup(JV_STATE_BIRTH, JV_IN_COUNT, JV_REASON_NONE));
	assert_null(jv_fsm_lookup((enum jv_state)-1, JV_IN_ATTACH_OK,
				  JV_REASON_NONE));
}

static void no_sink_still_transitions(void **st)
{
	struct jv_fsm f;

	(void)st;
	jv_fsm_init(&f, NULL, NULL);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_ATTACH_OK, JV_REASON_NONE, 5,
				      NULL, NULL), 1);
	assert_int_equal(f.state, JV_STATE_ATTACHED);
	assert_int_equal(f.state_version, 1);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_ATTACH_OK, JV_REASON_NONE, 6,
				      NULL, NULL), JV_ERR_ILLEGAL);
	assert_int_equal(f.state_version, 1);
}

/* The states, reason and version are the FSM's, whatever annot says. */
static void annot_cannot_forge_the_change(void **st)
{
	struct jv_event annot = { .type = JV_EV_TRANSPORT_SWITCH, .ts_ms = 7,
				  .state_version = 99 };
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_BIRTH, 0);
	JV_EV_SET(&annot, previous_state, JV_STATE_RECOVERING);
	JV_EV_SET(&annot, new_state, JV_STATE_DEGRADED);
	JV_EV_SET(&annot, reason_code, JV_REASON_POLICY_DENIED);
	JV_EV_SET(&annot, origin, "peer");
	assert_int_equal(jv_fsm_apply(&f, JV_IN_ATTACH_OK, JV_REASON_NONE, 100,
				      &annot, NULL), 1);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.ev[0].type, JV_EV_SESSION_STATE_CHANGE);
	assert_int_equal(cap.ev[0].ts_ms, 100);
	assert_int_equal(cap.ev[0].state_version, 1);
	assert_int_equal(cap.ev[0].previous_state, JV_STATE_BIRTH);
	assert_int_equal(cap.ev[0].new_state, JV_STATE_ATTACHED);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	assert_true(JV_EV_HAS(&cap.ev[0], origin));
	assert_string_equal(cap.ev[0].origin, "peer");
}

/* AB-2: an ACK while VOLATILE is rejected, logged and changes nothing. */
static void illegal_ack_is_logged_not_applied(void **st)
{
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_VOLATILE, 2);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_REATTACH_OK, JV_REASON_NONE,
				      300, NULL, NULL), JV_ERR_ILLEGAL);
	assert_int_equal(f.state, JV_STATE_VOLATILE);
	assert_int_equal(f.state_version, 2);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.ev[0].type, JV_EV_SECURITY_VALIDATION_FAILED);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_INVALID_STATE_TRANSITION);
	assert_string_equal(cap.ev[0].violation_type, "reattach_ok");
	assert_int_equal(cap.ev[0].state, JV_STATE_VOLATILE);
	assert_false(JV_EV_HAS(&cap.ev[0], transport_id));	/* no annot */
}

/* ---- sequences ---------------------------------------------------------- */

struct step {
	enum jv_input in;
	enum jv_reason arg;
	int ret;
	enum jv_state state;
};

static void run_steps(struct jv_fsm *f, struct capture *cap, jv_time now,
		      const struct step *steps, size_t n)
{
	uint64_t v = f->state_version;

	for (size_t i = 0; i < n; i++) {
		enum jv_state before = f->state;
		size_t ev0 = cap->n;
		int ret = jv_fsm_apply(f, steps[i].in, steps[i].arg, now, NULL,
				       NULL);

		if (ret != steps[i].ret || f->state != steps[i].state)
			fail_msg("step %zu (%s): ret %d state %s", i,
				 names[steps[i].in], ret,
				 jv_state_name(f->state));
		if (ret == 1) {
			v++;
			assert_int_equal(cap->n, ev0 + 1);
			assert_int_equal(cap->ev[ev0].state_version, v);
			assert_int_equal(cap->ev[ev0].previous_state, before);
			assert_int_equal(cap->ev[ev0].new_state, f->state);
		}
		assert_int_equal(f->state_version, v);
	}
}

/* Validator commit of a NAT rebinding (PD-2): T11 -> T21 -> T40, +3. */
static void validator_chain_three_versions(void **st)
{
	static const struct step steps[] = {
		{ JV_IN_REQUEST_ACCEPTED, JV_REASON_NAT_REBINDING, 1, JV_STATE_VOLATILE },
		{ JV_IN_SWITCH_START, JV_REASON_LOSS_RECOVERY, 1, JV_STATE_RECOVERING },
		{ JV_IN_REATTACH_OK, JV_REASON_NONE, 1, JV_STATE_ATTACHED },
	};
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_ATTACHED, 5);
	run_steps(&f, &cap, 2000, steps, 3);
	assert_int_equal(f.state_version, 8);
	assert_int_equal(cap.n, 3);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_NAT_REBINDING);
	assert_int_equal(cap.ev[1].reason_code, JV_REASON_LOSS_RECOVERY);
	assert_int_equal(cap.ev[2].reason_code, JV_REASON_REATTACH_SUCCESS);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(cap.ev[i].ts_ms, 2000);	/* one commit */
}

/* S1 requester: birth, death of P1, switch, ACK; then FM-1.2 to the TTL. */
static void requester_life(void **st)
{
	static const struct step steps[] = {
		{ JV_IN_ATTACH_OK, JV_REASON_NONE, 1, JV_STATE_ATTACHED },
		{ JV_IN_TRANSPORT_DEAD, JV_REASON_NONE, 1, JV_STATE_VOLATILE },
		{ JV_IN_INSTABILITY, JV_REASON_HEARTBEAT_TIMEOUT, 0, JV_STATE_VOLATILE },
		{ JV_IN_GATE_FAIL, JV_REASON_COOLDOWN_ACTIVE, 0, JV_STATE_VOLATILE },
		{ JV_IN_SWITCH_START, JV_REASON_DEAD_TRANSPORT_RECOVERY, 1, JV_STATE_RECOVERING },
		{ JV_IN_DENY_RETRYABLE, JV_REASON_STALE_STATE_VERSION, 0, JV_STATE_RECOVERING },
		{ JV_IN_REATTACH_OK, JV_REASON_NONE, 1, JV_STATE_ATTACHED },
		{ JV_IN_VOLATILE_TIMEOUT, JV_REASON_NONE, 0, JV_STATE_ATTACHED },
		{ JV_IN_RECOVERY_TIMEOUT, JV_REASON_NONE, 0, JV_STATE_ATTACHED },
		{ JV_IN_TRANSPORT_DEAD, JV_REASON_NONE, 1, JV_STATE_VOLATILE },
		{ JV_IN_VOLATILE_TIMEOUT, JV_REASON_NONE, 1, JV_STATE_DEGRADED },
		{ JV_IN_SWITCH_START, JV_REASON_LOSS_RECOVERY, 1, JV_STATE_RECOVERING },
		{ JV_IN_DENY_POLICY, JV_REASON_SWITCH_RATE_LIMITED, 1, JV_STATE_DEGRADED },
		{ JV_IN_SWITCH_START, JV_REASON_HEALTH_RECOVERED, 1, JV_STATE_RECOVERING },
		{ JV_IN_RECOVERY_TIMEOUT, JV_REASON_NONE, 1, JV_STATE_DEGRADED },
		{ JV_IN_REATTACH_OK, JV_REASON_NONE, JV_ERR_ILLEGAL, JV_STATE_DEGRADED },
		{ JV_IN_TRANSPORT_TTL, JV_REASON_NONE, 1, JV_STATE_TERMINATED },
	};
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_BIRTH, 0);
	run_steps(&f, &cap, 10, steps, sizeof steps / sizeof steps[0]);
	assert_int_equal(f.state_version, 11);
	assert_int_equal(cap.n, 12);	/* 11 changes + 1 rejection */
	assert_int_equal(cap.ev[11].type, JV_EV_SESSION_STATE_CHANGE);
	assert_int_equal(cap.ev[11].reason_code, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	assert_int_equal(cap.ev[10].type, JV_EV_SECURITY_VALIDATION_FAILED);
}

/* Z1: after termination every input is absorbed without a trace. */
static void terminated_absorbs_everything(void **st)
{
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_RECOVERING, 9);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_DENY_FATAL,
				      JV_REASON_SESSION_LIFETIME_EXCEEDED, 50,
				      NULL, NULL), 1);
	assert_int_equal(f.state, JV_STATE_TERMINATED);
	assert_int_equal(f.state_version, 10);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_SESSION_LIFETIME_EXCEEDED);
	cap.n = 0;
	for (int in = 0; in < JV_IN_COUNT; in++)
		for (int arg = JV_REASON_NONE; arg < JV_REASON_COUNT; arg++) {
			const struct jv_fsm_rule *rule = NULL;

			assert_int_equal(jv_fsm_apply(&f, (enum jv_input)in,
						      (enum jv_reason)arg, 60,
						      NULL, &rule), 0);
			assert_string_equal(rule->id, "Z1");
		}
	assert_int_equal(f.state, JV_STATE_TERMINATED);
	assert_int_equal(f.state_version, 10);
	assert_int_equal(cap.n, 0);
}

/* ---- version overflow (spec §2.5) --------------------------------------- */

static void overflow_replaces_transition_with_x7(void **st)
{
	const struct jv_fsm_rule *rule = NULL;
	struct jv_event annot = { 0 };
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	JV_EV_SET(&annot, candidate_transport, "p2");

	/* two below the top: an ordinary transition still fits */
	fsm_at(&f, &cap, JV_STATE_ATTACHED, UINT64_MAX - 2);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_INSTABILITY,
				      JV_REASON_LOSS_THRESHOLD_EXCEEDED, 70,
				      NULL, NULL), 1);
	assert_int_equal(f.state, JV_STATE_VOLATILE);
	assert_true(f.state_version == UINT64_MAX - 1);

	/* one below: the last version is kept for the end of the session */
	cap.n = 0;
	assert_int_equal(jv_fsm_apply(&f, JV_IN_SWITCH_START,
				      JV_REASON_LOSS_RECOVERY, 71, &annot,
				      &rule), JV_ERR_OVERFLOW);
	assert_int_equal(f.state, JV_STATE_TERMINATED);
	assert_true(f.state_version == UINT64_MAX);
	assert_non_null(rule);
	assert_string_equal(rule->id, "X7");
	assert_int_equal(rule->effects,
			 JV_EFFECT_CLEAR_BINDING | JV_EFFECT_TERMINATE);
	assert_int_equal(jv_fsm_rule_reason(rule, JV_REASON_LOSS_RECOVERY),
			 JV_REASON_FATAL_PROTOCOL_ERROR);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.ev[0].type, JV_EV_SESSION_STATE_CHANGE);
	assert_true(cap.ev[0].state_version == UINT64_MAX);
	assert_int_equal(cap.ev[0].ts_ms, 71);
	assert_int_equal(cap.ev[0].previous_state, JV_STATE_VOLATILE);
	assert_int_equal(cap.ev[0].new_state, JV_STATE_TERMINATED);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_FATAL_PROTOCOL_ERROR);
	assert_false(JV_EV_HAS(&cap.ev[0], candidate_transport));

	/* and it stays there */
	cap.n = 0;
	assert_int_equal(jv_fsm_apply(&f, JV_IN_REATTACH_OK, JV_REASON_NONE,
				      72, NULL, NULL), 0);
	assert_true(f.state_version == UINT64_MAX);
	assert_int_equal(cap.n, 0);
}

static void overflow_keeps_a_terminating_row(void **st)
{
	const struct jv_fsm_rule *rule = NULL;
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_DEGRADED, UINT64_MAX - 1);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_SESSION_TTL, JV_REASON_NONE,
				      80, NULL, &rule), 1);
	assert_string_equal(rule->id, "X1");
	assert_int_equal(f.state, JV_STATE_TERMINATED);
	assert_true(f.state_version == UINT64_MAX);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_SESSION_LIFETIME_EXCEEDED);

	/* a no-op or a rejection needs no version at all */
	fsm_at(&f, &cap, JV_STATE_VOLATILE, UINT64_MAX - 1);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_GATE_FAIL,
				      JV_REASON_COOLDOWN_ACTIVE, 81, NULL,
				      NULL), 0);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_ATTACH_OK, JV_REASON_NONE, 82,
				      NULL, NULL), JV_ERR_ILLEGAL);
	assert_int_equal(f.state, JV_STATE_VOLATILE);
	assert_true(f.state_version == UINT64_MAX - 1);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.ev[0].type, JV_EV_SECURITY_VALIDATION_FAILED);
}

/* A live record already at the top (foreign or corrupted) fails closed. */
static void overflow_at_top_fails_closed(void **st)
{
	const struct jv_fsm_rule *rule = NULL;
	struct capture cap;
	struct jv_fsm f;

	(void)st;
	fsm_at(&f, &cap, JV_STATE_RECOVERING, UINT64_MAX);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_REATTACH_OK, JV_REASON_NONE,
				      90, NULL, &rule), JV_ERR_OVERFLOW);
	assert_string_equal(rule->id, "X7");
	assert_int_equal(f.state, JV_STATE_TERMINATED);
	assert_true(f.state_version == UINT64_MAX);	/* never wraps to 0 */
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_FATAL_PROTOCOL_ERROR);
	assert_true(cap.ev[0].state_version == UINT64_MAX);

	/* even a terminating row cannot bump: still X7, still the top */
	fsm_at(&f, &cap, JV_STATE_ATTACHED, UINT64_MAX);
	assert_int_equal(jv_fsm_apply(&f, JV_IN_SESSION_TTL, JV_REASON_NONE,
				      91, NULL, NULL), JV_ERR_OVERFLOW);
	assert_int_equal(f.state, JV_STATE_TERMINATED);
	assert_true(f.state_version == UINT64_MAX);
	assert_int_equal(cap.ev[0].reason_code, JV_REASON_FATAL_PROTOCOL_ERROR);
}

/* ---- deny classifier (spec §7.6) ---------------------------------------- */

static void deny_classes(void **st)
{
	(void)st;
	for (int r = 0; r < JV_REASON_COUNT; r++) {
		enum jv_input want = JV_IN_COUNT;

		if (ONE_OF(r, RSN(RATE_LIMITED), RSN(COOLDOWN_ACTIVE),
			   RSN(STALE_STATE_VERSION), RSN(ATOMICITY_FAILED),
			   RSN(NOT_AUTHORITATIVE_OWNER)))
			want = JV_IN_DENY_RETRYABLE;
		else if (ONE_OF(r, RSN(POLICY_DENIED),
				RSN(INVALID_TRANSPORT_CANDIDATE),
				RSN(SWITCH_RATE_LIMITED)))
			want = JV_IN_DENY_POLICY;
		else if (ONE_OF(r, RSN(BAD_PROOF), RSN(REPLAY_DETECTED),
				RSN(STALE_REQUEST),
				RSN(INVALID_STATE_FOR_REATTACH),
				RSN(OWNERSHIP_CONFLICT)))
			want = JV_IN_DENY_VALIDATION;
		else if (ONE_OF(r, RSN(SESSION_LIFETIME_EXCEEDED),
				RSN(TRANSPORT_TTL_EXCEEDED)))
			want = JV_IN_DENY_FATAL;
		enum jv_input got = jv_fsm_deny_input((enum jv_reason)r);

		if (got != want)
			fail_msg("deny %s: class %s", arg_name(r),
				 got < JV_IN_COUNT ? names[got] : "(none)");
		assert_int_equal(jv_deny_retryable((enum jv_reason)r),
				 want == JV_IN_DENY_RETRYABLE);
	}
	/* unauthenticated or unknown: no class, treated as no response */
	assert_int_equal(jv_fsm_deny_input(JV_REASON_UNKNOWN_SESSION), JV_IN_COUNT);
	assert_int_equal(jv_fsm_deny_input(JV_REASON_NONE), JV_IN_COUNT);
	assert_int_equal(jv_fsm_deny_input(JV_REASON_COUNT), JV_IN_COUNT);
	assert_int_equal(jv_fsm_deny_input((enum jv_reason)500), JV_IN_COUNT);
	assert_false(jv_deny_retryable(JV_REASON_NONE));
	assert_false(jv_deny_retryable((enum jv_reason)500));
	/* spot checks a reader can verify against §7.6 at a glance */
	assert_int_equal(jv_fsm_deny_input(JV_REASON_STALE_STATE_VERSION),
			 JV_IN_DENY_RETRYABLE);
	assert_int_equal(jv_fsm_deny_input(JV_REASON_SWITCH_RATE_LIMITED),
			 JV_IN_DENY_POLICY);
	assert_int_equal(jv_fsm_deny_input(JV_REASON_OWNERSHIP_CONFLICT),
			 JV_IN_DENY_VALIDATION);
	assert_int_equal(jv_fsm_deny_input(JV_REASON_TRANSPORT_TTL_EXCEEDED),
			 JV_IN_DENY_FATAL);
}

/* ---- transition_legal (audit INV-03) ------------------------------------ */

/* Legal iff some hand-matrix transition cell yields (prev, next, reason). */
static bool legal_by_hand(enum jv_state prev, enum jv_state next, int reason)
{
	for (int in = 0; in < JV_IN_COUNT; in++)
		for (int arg = JV_REASON_NONE; arg < JV_REASON_COUNT; arg++) {
			struct cell c = expected(prev, (enum jv_input)in, arg);

			if (c.k == E_TRANS && c.next == next && c.reason == reason)
				return true;
		}
	return false;
}

static void transition_legal_everywhere(void **st)
{
	int legal = 0;

	(void)st;
	for (int p = 0; p < JV_STATE_COUNT; p++)
		for (int n = 0; n < JV_STATE_COUNT; n++)
			for (int r = JV_REASON_NONE; r < JV_REASON_COUNT; r++) {
				bool want = legal_by_hand((enum jv_state)p,
							  (enum jv_state)n, r);
				bool got = jv_fsm_transition_legal(
					(enum jv_state)p, (enum jv_state)n,
					(enum jv_reason)r);

				if (want != got)
					fail_msg("legal(%s, %s, %s) = %d",
						 jv_state_name((enum jv_state)p),
						 jv_state_name((enum jv_state)n),
						 arg_name(r), got);
				legal += got;
			}
	assert_true(legal > 0);
}

static void transition_legal_examples(void **st)
{
	(void)st;
	/* legal */
	assert_true(jv_fsm_transition_legal(JV_STATE_BIRTH, JV_STATE_ATTACHED,
					    JV_REASON_ATTACHED_TO_TRANSPORT));
	assert_true(jv_fsm_transition_legal(JV_STATE_ATTACHED, JV_STATE_VOLATILE,
					    JV_REASON_NAT_REBINDING));
	assert_true(jv_fsm_transition_legal(JV_STATE_VOLATILE, JV_STATE_VOLATILE,
					    JV_REASON_TRANSPORT_DEAD));
	assert_true(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_DEGRADED,
					    JV_REASON_SWITCH_RATE_LIMITED));
	assert_true(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_TERMINATED,
					    JV_REASON_TRANSPORT_TTL_EXCEEDED));
	assert_true(jv_fsm_transition_legal(JV_STATE_BIRTH, JV_STATE_TERMINATED,
					    JV_REASON_FATAL_PROTOCOL_ERROR));
	/* the spec's "in particular impossible" list */
	assert_false(jv_fsm_transition_legal(JV_STATE_VOLATILE, JV_STATE_ATTACHED,
					     JV_REASON_HEALTH_RECOVERED));
	assert_false(jv_fsm_transition_legal(JV_STATE_DEGRADED, JV_STATE_ATTACHED,
					     JV_REASON_REATTACH_SUCCESS));
	assert_false(jv_fsm_transition_legal(JV_STATE_ATTACHED, JV_STATE_RECOVERING,
					     JV_REASON_LOSS_RECOVERY));
	assert_false(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_ATTACHED,
					     JV_REASON_HEALTH_RECOVERED));
	assert_false(jv_fsm_transition_legal(JV_STATE_ATTACHED, JV_STATE_BIRTH,
					     JV_REASON_HANDSHAKE_FAILED));
	/* right states, wrong reason */
	assert_false(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_DEGRADED,
					     JV_REASON_COOLDOWN_ACTIVE));
	assert_false(jv_fsm_transition_legal(JV_STATE_ATTACHED, JV_STATE_VOLATILE,
					     JV_REASON_LOSS_RECOVERY));
	assert_false(jv_fsm_transition_legal(JV_STATE_ATTACHED, JV_STATE_ATTACHED,
					     JV_REASON_TRANSPORT_DEAD));
	/* nothing leaves TERMINATED; junk is never legal */
	assert_false(jv_fsm_transition_legal(JV_STATE_TERMINATED, JV_STATE_TERMINATED,
					     JV_REASON_OPERATOR_TERMINATED));
	assert_false(jv_fsm_transition_legal(JV_STATE_COUNT, JV_STATE_ATTACHED,
					     JV_REASON_REATTACH_SUCCESS));
	assert_false(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_COUNT,
					     JV_REASON_REATTACH_SUCCESS));
	assert_false(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_ATTACHED,
					     JV_REASON_NONE));
	assert_false(jv_fsm_transition_legal(JV_STATE_RECOVERING, JV_STATE_ATTACHED,
					     (enum jv_reason)300));
}

static void rule_reason(void **st)
{
	const struct jv_fsm_rule *t10 =
		jv_fsm_lookup(JV_STATE_ATTACHED, JV_IN_INSTABILITY,
			      JV_REASON_HEARTBEAT_TIMEOUT);
	const struct jv_fsm_rule *t24 =
		jv_fsm_lookup(JV_STATE_VOLATILE, JV_IN_VOLATILE_TIMEOUT,
			      JV_REASON_NONE);

	(void)st;
	assert_non_null(t10);
	assert_non_null(t24);
	assert_int_equal(jv_fsm_rule_reason(t10, JV_REASON_HEARTBEAT_TIMEOUT),
			 JV_REASON_HEARTBEAT_TIMEOUT);
	assert_int_equal(jv_fsm_rule_reason(t24, JV_REASON_NONE),
			 JV_REASON_VOLATILE_PERSISTED);
	assert_int_equal(jv_fsm_rule_reason(NULL, JV_REASON_KEY_EXPIRED),
			 JV_REASON_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_pair_matches_the_spec),
		cmocka_unit_test(every_spec_row_is_exercised),
		cmocka_unit_test(table_is_well_formed),
		cmocka_unit_test(input_names_round_trip),
		cmocka_unit_test(init_is_birth_v0_silent),
		cmocka_unit_test(bad_arguments_change_nothing),
		cmocka_unit_test(no_sink_still_transitions),
		cmocka_unit_test(annot_cannot_forge_the_change),
		cmocka_unit_test(illegal_ack_is_logged_not_applied),
		cmocka_unit_test(validator_chain_three_versions),
		cmocka_unit_test(requester_life),
		cmocka_unit_test(terminated_absorbs_everything),
		cmocka_unit_test(overflow_replaces_transition_with_x7),
		cmocka_unit_test(overflow_keeps_a_terminating_row),
		cmocka_unit_test(overflow_at_top_fails_closed),
		cmocka_unit_test(deny_classes),
		cmocka_unit_test(transition_legal_everywhere),
		cmocka_unit_test(transition_legal_examples),
		cmocka_unit_test(rule_reason),
	};

	return cmocka_run_group_tests_name("fsm", tests, NULL, NULL);
}
