/* SPDX-License-Identifier: MIT */
/*
 * jvpn states [--markdown]: the transition table of src/core/fsm.c, as
 * aligned text or as docs/state-machine.md.  Everything below the prose is
 * read from jv_fsm_table, so the document cannot drift from the code (the
 * test doc_state_machine diffs them).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "jvpn/fsm.h"

/* Spec §2.1, for the document only. */
static const struct {
	const char *meaning;
	const char *bindings;
	const char *timers;
} state_doc[JV_STATE_COUNT] = {
	[JV_STATE_BIRTH] = { "Record exists (v0), handshake not complete.", "0",
			     "lifetime, transportless (from creation)" },
	[JV_STATE_ATTACHED] = { "Healthy: exactly one binding, no outstanding "
				"instability.", "1",
				"lifetime, heartbeat/health" },
	[JV_STATE_VOLATILE] = { "Instability detected; bounded adaptation "
				"(candidate evaluation) active. Binding kept "
				"while alive.", "≤1",
				"lifetime, volatile (VOLATILE_TO_DEGRADED_MS), "
				"transportless if \\|A\\|=0" },
	[JV_STATE_DEGRADED] = { "Protective mode: persistent instability, "
				"switch-rate limit hit, or failed recovery. "
				"Adaptation gated.", "≤1",
				"lifetime, transportless if \\|A\\|=0" },
	[JV_STATE_RECOVERING] = { "A reattach attempt is in progress. Old "
				  "binding kept until declared dead or "
				  "replaced. On the validator this state "
				  "exists only inside one atomic commit.", "≤1",
				  "lifetime, recovery deadline, transportless "
				  "if \\|A\\|=0" },
	[JV_STATE_TERMINATED] = { "Final and absorbing. Keys invalidated; "
				  "record evictable.", "0", "none" },
};

/* Spec §2.2: what the caller feeds for each input. */
static const char *const input_doc[JV_IN_COUNT] = {
	[JV_IN_ATTACH_OK] = "handshake completed, initial transport bound",
	[JV_IN_HANDSHAKE_FAIL] = "handshake rejected (authentication, invalid "
				 "policy, malformed, no usable transport)",
	[JV_IN_TRANSPORT_DEAD] = "`instability(transport_dead)` of the bound "
				 "transport (§6.2)",
	[JV_IN_INSTABILITY] = "`instability(r)`, any other §6.2 condition; r is "
			      "the first true in §2.4 order",
	[JV_IN_PLANNED_SWITCH] = "`planned_switch(r, c)`: fail-back to a "
				 "transport of lower Priority (r = `failback`, "
				 "PD-7) or `jvpn switch` (r = "
				 "`operator_migration`, PD-8) from a working "
				 "binding",
	[JV_IN_REQUEST_ACCEPTED] = "validator: a request for a different binding "
				   "passed V0-V10 while ATTACHED; argument = "
				   "its `trigger_reason`",
	[JV_IN_REVALIDATE_ACCEPTED] = "validator: a revalidation of the bound "
				      "transport passed V0-V10 while ATTACHED",
	[JV_IN_SWITCH_START] = "`switch_start(r, c)`: §6.4 selected c and every "
			       "gate passed (requester), or a request passed "
			       "V0-V10 (validator; r = `recovery_reason`)",
	[JV_IN_GATE_RATE_LIMITED] = "`switch_gate_fail(switch_rate_limited)`",
	[JV_IN_GATE_FAIL] = "`switch_gate_fail(g)`, any other gate",
	[JV_IN_VOLATILE_TIMEOUT] = "`volatile_duration_ms > "
				   "VOLATILE_TO_DEGRADED_MS`",
	[JV_IN_RECOVERY_TIMEOUT] = "`now > recovery_deadline_ms`",
	[JV_IN_REATTACH_OK] = "authenticated ACK for the current attempt "
			      "(requester), commit succeeded (validator)",
	[JV_IN_DENY_POLICY] = "authenticated DENY, policy class (§7.6)",
	[JV_IN_DENY_VALIDATION] = "authenticated DENY, validation class (§7.6)",
	[JV_IN_DENY_RETRYABLE] = "authenticated DENY, retryable class (§7.6)",
	[JV_IN_DENY_FATAL] = "authenticated DENY, fatal class (§7.6)",
	[JV_IN_CANDIDATE_ABANDONED] = "current candidate abandoned, another "
				      "passes §6.4 (cooldown included)",
	[JV_IN_CANDIDATES_EXHAUSTED] = "no candidate left in this RECOVERING "
				       "episode",
	[JV_IN_SESSION_TTL] = "`session_age_ms > SESSION_MAX_LIFETIME_MS`",
	[JV_IN_TRANSPORT_TTL] = "\\|A\\| = 0 and `transportless_age_ms > "
				"TRANSPORT_LOST_TTL_MS`",
	[JV_IN_SECURITY_FAIL] = "failure count above MAX_SECURITY_FAILURES, "
				"suspected key compromise, integrity violation, "
				"or validation impossible",
	[JV_IN_KEY_EXPIRED] = "keys reached KEY_MAX_AGE_MS without rekey",
	[JV_IN_TERMINATE_CMD] = "operator command, or authenticated peer "
				"`TERMINATE` carrying its reason",
	[JV_IN_OWNERSHIP_CONFLICT] = "dual-active binding or unresolvable "
				     "ownership (§9)",
	[JV_IN_FATAL] = "runtime invariant check failed",
};

/* A bounded string builder: the longest cell is well under its size. */
struct sbuf {
	char b[1024];
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (s->n >= sizeof s->b)
		return;
	va_start(ap, fmt);
	k = vsnprintf(s->b + s->n, sizeof s->b - s->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		s->n += (size_t)k;
	if (s->n >= sizeof s->b)
		s->n = sizeof s->b - 1;	/* truncated: visible in the output */
}

static void sb_reset(struct sbuf *s)
{
	s->n = 0;
	s->b[0] = '\0';
}

static bool single_state(uint32_t set, enum jv_state *s)
{
	for (int i = 0; i < JV_STATE_COUNT; i++)
		if (set == JV_STATE_BIT(i)) {
			*s = (enum jv_state)i;
			return true;
		}
	return false;
}

static void put_from(struct sbuf *s, uint32_t from, const char *sep)
{
	const char *pre = "";

	if (from == JV_STATES_NONTERMINAL) {
		sb_add(s, "any non-terminal");
		return;
	}
	for (int i = 0; i < JV_STATE_COUNT; i++)
		if (from & JV_STATE_BIT(i)) {
			sb_add(s, "%s%s", pre, jv_state_name((enum jv_state)i));
			pre = sep;
		}
}

/* The admitted arguments, "a, b, c" or in markdown "`a`, `b`". */
static void put_args(struct sbuf *s, jv_reason_set args, bool md)
{
	const char *pre = "";

	for (int r = 0; r < JV_REASON_COUNT; r++)
		if (args & JV_REASON_BIT(r)) {
			sb_add(s, md ? "%s`%s`" : "%s%s", pre,
			       jv_reason_name((enum jv_reason)r));
			pre = md ? ", " : ",";
		}
}

static bool takes_arg(const struct jv_fsm_rule *r)
{
	return r->args != 0 && r->args != JV_ARGS_ANY;
}

static bool one_arg(jv_reason_set args)
{
	return args && !(args & (args - 1));
}

static enum jv_reason first_arg(jv_reason_set args)
{
	for (int r = 0; r < JV_REASON_COUNT; r++)
		if (args & JV_REASON_BIT(r))
			return (enum jv_reason)r;
	return JV_REASON_NONE;
}

/* A table cell must not end the row early. */
static void put_md_text(struct sbuf *s, const char *text)
{
	for (; *text; text++)
		if (*text == '|')
			sb_add(s, "\\|");
		else
			sb_add(s, "%c", *text);
}

static void put_next(struct sbuf *s, const struct jv_fsm_rule *r, bool md)
{
	enum jv_state to = r->to, only = JV_STATE_COUNT;
	bool one = single_state(r->from, &only);

	if (r->kind == JV_RULE_NOOP) {
		sb_add(s, md ? "— (no change)" : "(unchanged)");
		return;
	}
	if (r->kind == JV_RULE_ABSORB) {
		sb_add(s, md ? "— (absorbed)" : "(absorbed)");
		return;
	}
	if (to == JV_STATE_COUNT && !one) {
		sb_add(s, "(same)");
		return;
	}
	if (to == JV_STATE_COUNT)
		to = only;
	sb_add(s, "%s", jv_state_name(to));
	if (one && only == to)
		sb_add(s, md ? " (self)" : "(self)");
}

static void put_reason(struct sbuf *s, const struct jv_fsm_rule *r, bool md)
{
	if (r->kind != JV_RULE_TRANSITION)
		sb_add(s, md ? "—" : "-");
	else if (r->reason == JV_REASON_NONE)
		sb_add(s, md ? "x (the argument)" : "(argument)");
	else
		sb_add(s, md ? "`%s`" : "%s", jv_reason_name(r->reason));
}

static void put_effects(struct sbuf *s, uint32_t effects, bool md)
{
	const char *pre = "";

	if (effects & JV_EFFECT_CLEAR_BINDING) {
		sb_add(s, md ? "clear binding" : "clear");
		pre = md ? "; " : ",";
	}
	if (effects & JV_EFFECT_TERMINATE)
		sb_add(s, md ? "%sterminate (keys invalidated, timers off)"
			     : "%sterminate", pre);
}

/* ---- text --------------------------------------------------------------- */

enum { COL_ID, COL_FROM, COL_INPUT, COL_NEXT, COL_REASON, COL_EFFECTS,
       COL_ARGS, COL_COUNT };

static void text_cell(struct sbuf *s, const struct jv_fsm_rule *r, int col)
{
	sb_reset(s);
	switch (col) {
	case COL_ID:
		sb_add(s, "%s", r->id);
		break;
	case COL_FROM:
		put_from(s, r->from, ",");
		break;
	case COL_INPUT:
		sb_add(s, "%s", r->input == JV_IN_COUNT ? "(any)" :
				jv_input_name(r->input));
		break;
	case COL_NEXT:
		put_next(s, r, false);
		break;
	case COL_REASON:
		put_reason(s, r, false);
		break;
	case COL_EFFECTS:
		if (!r->effects)
			sb_add(s, "-");
		else
			put_effects(s, r->effects, false);
		break;
	case COL_ARGS:
		if (r->args == JV_ARGS_ANY)
			sb_add(s, "(any)");
		else if (!r->args)
			sb_add(s, "-");
		else
			put_args(s, r->args, false);
		break;
	}
}

static void print_text(FILE *out)
{
	static const char *const head[COL_COUNT] = {
		"ID", "FROM", "INPUT", "NEXT", "REASON", "EFFECTS", "ARGS",
	};
	int width[COL_COUNT];
	struct sbuf s;

	for (int c = 0; c < COL_COUNT; c++)
		width[c] = (int)strlen(head[c]);
	for (size_t i = 0; i < jv_fsm_table_len; i++)
		for (int c = 0; c < COL_COUNT; c++) {
			text_cell(&s, &jv_fsm_table[i], c);
			if ((int)s.n > width[c])
				width[c] = (int)s.n;
		}

	for (int c = 0; c < COL_COUNT; c++)
		if (c + 1 < COL_COUNT)
			fprintf(out, "%-*s  ", width[c], head[c]);
		else
			fprintf(out, "%s\n", head[c]);
	for (size_t i = 0; i < jv_fsm_table_len; i++)
		for (int c = 0; c < COL_COUNT; c++) {
			text_cell(&s, &jv_fsm_table[i], c);
			if (c + 1 < COL_COUNT)
				fprintf(out, "%-*s  ", width[c], s.b);
			else
				fprintf(out, "%s\n", s.b);
		}
}

/* ---- markdown ----------------------------------------------------------- */

static void print_markdown(FILE *out)
{
	struct sbuf s;

	fprintf(out,
		"# Session state machine\n"
		"\n"
		"<!-- Generated by `jvpn states --markdown`; do not edit. -->\n"
		"\n"
		"This file is generated by `jvpn states --markdown` from "
		"`jv_fsm_table` in `src/core/fsm.c`, the only place in the code "
		"that knows the transition function; the test "
		"`doc_state_machine` fails when the two differ (regenerate with "
		"`make docs`). The behavioural contract is "
		"`spec/SESSION-MODEL.md` §2; row ids (T01, X5, ...) are the "
		"spec's.\n"
		"\n"
		"Every state change goes through `jv_fsm_apply`, which checks "
		"the current state against the table, writes the next state, "
		"increments `state_version` and emits exactly one "
		"`SessionStateChange`. The caller emits the other events of the "
		"commit afterwards (spec §3 order) and carries out the row's "
		"effects.\n"
		"\n"
		"## States (spec §2.1)\n"
		"\n"
		"| State | Meaning | \\|A\\| | Timers armed |\n"
		"|---|---|---|---|\n");
	for (int i = 0; i < JV_STATE_COUNT; i++)
		fprintf(out, "| %s | %s | %s | %s |\n",
			jv_state_name((enum jv_state)i), state_doc[i].meaning,
			state_doc[i].bindings, state_doc[i].timers);

	fprintf(out,
		"\n"
		"## Inputs (spec §2.2)\n"
		"\n"
		"Each input is one `enum jv_input`; an input listed with "
		"arguments takes one of them as the `arg` of `jv_fsm_apply`, "
		"the others take none (`JV_REASON_NONE`).\n"
		"\n"
		"| Input | Fed when |\n"
		"|---|---|\n");
	for (int i = 0; i < JV_IN_COUNT; i++)
		fprintf(out, "| `%s` | %s |\n",
			jv_input_name((enum jv_input)i), input_doc[i]);

	fprintf(out,
		"\n"
		"## Transition table (spec §2.3)\n"
		"\n"
		"Next `(no change)`: a defined row that changes nothing (spec "
		"\"—\"); `(absorbed)`: an input the spec absorbs, neither an "
		"event nor an error (F1-F3 are the \"Further rules\", Z1 makes "
		"TERMINATED absorbing). Every other row is a transition: +1 "
		"`state_version` (self-transitions included) and one "
		"`SessionStateChange`. A reason `x` is the input's argument. "
		"Effects are the caller's: the binding to clear, the session to "
		"end, and the events it adds to the commit.\n"
		"\n"
		"Not inputs at all: health samples in ATTACHED that meet no "
		"§6.2 condition, and an ACK or DENY arriving when the requester "
		"is no longer in RECOVERING for that attempt (it only records "
		"the validator version it carries, OP-9).\n"
		"\n"
		"| # | From | Input | Next | reason_code | Effects |\n"
		"|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < jv_fsm_table_len; i++) {
		const struct jv_fsm_rule *r = &jv_fsm_table[i];
		bool any = false;

		fprintf(out, "| %s | ", r->id);
		sb_reset(&s);
		put_from(&s, r->from, ", ");
		fprintf(out, "%s | ", s.b);

		sb_reset(&s);
		if (r->input == JV_IN_COUNT)
			sb_add(&s, "any input, any argument");
		else if (takes_arg(r) && one_arg(r->args))
			sb_add(&s, "`%s(%s)`", jv_input_name(r->input),
			       jv_reason_name(first_arg(r->args)));
		else if (takes_arg(r)) {
			sb_add(&s, "`%s(x)`, x ∈ {", jv_input_name(r->input));
			put_args(&s, r->args, true);
			sb_add(&s, "}");
		} else {
			sb_add(&s, "`%s`", jv_input_name(r->input));
		}
		fprintf(out, "%s | ", s.b);

		sb_reset(&s);
		put_next(&s, r, true);
		fprintf(out, "%s | ", s.b);

		sb_reset(&s);
		put_reason(&s, r, true);
		fprintf(out, "%s | ", s.b);

		sb_reset(&s);
		if (r->effects) {
			put_effects(&s, r->effects, true);
			any = true;
		}
		if (r->note) {
			sb_add(&s, "%s", any ? "; " : "");
			put_md_text(&s, r->note);
		} else if (!any)
			sb_add(&s, "—");
		fprintf(out, "%s |\n", s.b);
	}

	fprintf(out,
		"\n"
		"## Rejection rule\n"
		"\n"
		"Every (state, input, argument) that no row matches is "
		"undefined, including an argument the row does not admit "
		"(`instability(transport_dead)` is the input `transport_dead`, "
		"not `instability`). `jv_fsm_apply` then returns "
		"`JV_ERR_ILLEGAL`, changes neither the state nor "
		"`state_version`, and emits one `SecurityValidationFailed` with "
		"`reason_code` = `invalid_state_transition`, `violation_type` = "
		"the input's name, `state` = the current state, the current "
		"`state_version`, and the `transport_id` the caller gave. In "
		"particular VOLATILE→ATTACHED, DEGRADED→ATTACHED, any→BIRTH, "
		"ATTACHED→RECOVERING and RECOVERING→ATTACHED without "
		"`reattach_ok` are impossible. The audit tool checks every "
		"logged `SessionStateChange` against the transition rows "
		"(`jv_fsm_transition_legal`, INV-03).\n"
		"\n"
		"## Version overflow (spec §2.5)\n"
		"\n"
		"`state_version` is 64-bit and never wraps. Its last value, "
		"2^64-1, is kept for the transition that ends the session: at "
		"2^64-2 a row into TERMINATED commits normally, and any other "
		"transition is replaced by X7 (`fatal_protocol_error`), "
		"committed at 2^64-1; `jv_fsm_apply` returns "
		"`JV_ERR_OVERFLOW`. A live record already at 2^64-1 (never "
		"produced by `jv_fsm_apply`) fails closed to TERMINATED without "
		"a further increment, and the audit flags the repeated "
		"version.\n");
}

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: jvpn states [--markdown]\n"
		   "  print the session state machine table as aligned text,\n"
		   "  or as the Markdown of docs/state-machine.md\n");
	return status;
}

int cmd_states(int argc, char **argv)
{
	bool md = false;

	if (argc > 2)
		return usage(stderr, 2);
	if (argc == 2) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			return usage(stdout, 0);
		if (strcmp(argv[1], "--markdown")) {
			fprintf(stderr, "jvpn states: unknown argument '%s'\n",
				argv[1]);
			return usage(stderr, 2);
		}
		md = true;
	}

	if (md)
		print_markdown(stdout);
	else
		print_text(stdout);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "jvpn states: cannot write output: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}
