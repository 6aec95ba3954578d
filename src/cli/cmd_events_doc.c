/* SPDX-License-Identifier: MIT */
/*
 * jvpn events-doc: the event-log reference (docs/events.md), generated
 * from the same tables the writer, the reader and the audit use, so the
 * document cannot drift from the code (meson test doc_events diffs it).
 */

#include <stdio.h>
#include <string.h>

#include "jvpn/eventlog.h"

#include "commands.h"

/* One line per reason code (spec §8.3).  Appending a code to JV_REASONS
 * without a line here fails the _Static_assert; a hole in the middle
 * fails the generator (and so the doc test). */
static const char *const reason_meaning[] = {
	[JV_REASON_ATTACHED_TO_TRANSPORT] = "Initial binding established (T01).",
	[JV_REASON_HANDSHAKE_FAILED] = "Handshake rejected, invalid, or no usable transport (T02).",
	[JV_REASON_TRANSPORT_DEAD] = "Bound transport declared dead: hard failure, or silent for TRANSPORT_DEAD_MS.",
	[JV_REASON_CONSECUTIVE_DROP_EXCEEDED] = "Drops in a row reached MAX_CONSECUTIVE_DROPS.",
	[JV_REASON_LOSS_THRESHOLD_EXCEEDED] = "Windowed loss ratio above LOSS_VOLATILE_THRESHOLD.",
	[JV_REASON_HEARTBEAT_TIMEOUT] = "No heartbeat or ACK within HEARTBEAT_VOLATILE_MS.",
	[JV_REASON_LATENCY_THRESHOLD_EXCEEDED] = "p95 latency above LATENCY_VOLATILE_THRESHOLD_MS.",
	[JV_REASON_VOLATILE_PERSISTED] = "VOLATILE lasted longer than VOLATILE_TO_DEGRADED_MS (T24).",
	[JV_REASON_LOSS_RECOVERY] = "Recovery started because of quality loss.",
	[JV_REASON_DEAD_TRANSPORT_RECOVERY] = "Recovery started because the binding is dead or absent.",
	[JV_REASON_POLICY_FORCED_RECOVERY] = "Recovery ordered by the operator or the policy.",
	[JV_REASON_HEALTH_RECOVERED] = "Revalidation of the bound transport after a stable window.",
	[JV_REASON_REATTACH_SUCCESS] = "Reattach validated and committed (T40).",
	[JV_REASON_REATTACH_VALIDATION_FAILED] = "Requester: the reattach was denied for a validation-class reason (T42).",
	[JV_REASON_RECOVERY_WINDOW_EXCEEDED] = "RECOVERING lasted longer than RECOVERY_WINDOW_MS (T46).",
	[JV_REASON_SESSION_LIFETIME_EXCEEDED] = "Session older than SESSION_MAX_LIFETIME_MS (X1); also the V3 deny code.",
	[JV_REASON_TRANSPORT_TTL_EXCEEDED] = "No binding for longer than TRANSPORT_LOST_TTL_MS (X2); also the V4 deny code.",
	[JV_REASON_SECURITY_FAILURE] = "Security limit exceeded, key compromise suspected, or integrity violation (X3).",
	[JV_REASON_OPERATOR_TERMINATED] = "Explicit administrative or peer termination (X5).",
	[JV_REASON_KEY_EXPIRED] = "Keys reached KEY_MAX_AGE_MS without rekey (X4).",
	[JV_REASON_INVARIANT_VIOLATION] = "A runtime invariant check failed; the session fails closed (X7).",
	[JV_REASON_FATAL_PROTOCOL_ERROR] = "Deterministic internal failure, e.g. state_version overflow (X7).",
	[JV_REASON_SWITCH_RATE_LIMITED] = "MAX_SWITCHES_PER_MIN reached in the sliding 60 000 ms window.",
	[JV_REASON_COOLDOWN_ACTIVE] = "SWITCH_COOLDOWN_MS since the last attempt has not elapsed.",
	[JV_REASON_NO_CANDIDATE_TRANSPORTS] = "No eligible candidate, or none left in this recovery.",
	[JV_REASON_POLICY_DENIED] = "Other policy refusal: protocol, trigger, hysteresis, rekey bound.",
	[JV_REASON_POLICY_INVALID] = "A policy failed validation; the update is rejected.",
	[JV_REASON_RATE_LIMITED] = "Control-plane token bucket empty (V0); retryable.",
	[JV_REASON_UNKNOWN_SESSION] = "No such session (V1).",
	[JV_REASON_NOT_AUTHORITATIVE_OWNER] = "This node is not, or cannot prove it is, the owner (V2); retryable.",
	[JV_REASON_OWNERSHIP_CONFLICT] = "Ownership ambiguous or dual-active (V2, X6).",
	[JV_REASON_BAD_PROOF] = "Proof of possession invalid (V5).",
	[JV_REASON_REPLAY_DETECTED] = "Nonce already accepted (V6).",
	[JV_REASON_STALE_REQUEST] = "Freshness outside the window: old, missing, too far ahead, or timestamp too old (V6).",
	[JV_REASON_STALE_STATE_VERSION] = "Request's state_version is not the current one, or the CAS was lost (V7, C).",
	[JV_REASON_INVALID_STATE_FOR_REATTACH] = "The session's state does not admit a reattach (V8, Z1).",
	[JV_REASON_INVALID_TRANSPORT_CANDIDATE] = "Candidate malformed, of a disallowed protocol, or blacklisted (V10).",
	[JV_REASON_ATOMICITY_FAILED] = "The commit could not be made atomically (C).",
	[JV_REASON_UNAUTHORIZED_TRANSPORT_ATTEMPT] = "Traffic or binding attempt from an unvalidated transport.",
	[JV_REASON_INVALID_STATE_TRANSITION] = "Undefined (state, input) pair rejected without mutation.",
	[JV_REASON_DUAL_ACTIVE_ATTEMPT] = "Attempt to create a second active binding.",
	[JV_REASON_CONTROL_PLANE_ABUSE] = "Flood or invalid-burst pattern on the control plane.",
	[JV_REASON_TIME_ELAPSED] = "Rekey trigger: the keys' age.",
	[JV_REASON_TRANSPORT_CHANGE] = "Rekey trigger: the binding changed.",
	[JV_REASON_POLICY_TRIGGER] = "Rekey trigger: the policy asked for it.",
	[JV_REASON_SECURITY_EVENT] = "Rekey trigger: a security event.",
	[JV_REASON_AUDIT_INVARIANT_OK_SINGLE_ACTIVE] = "Audit summary: at most one active binding throughout.",
	[JV_REASON_AUDIT_INVARIANT_OK_NO_RESET] = "Audit summary: no identity reset.",
	[JV_REASON_AUDIT_POLICY_LIMIT_TRIGGERED] = "Audit summary: a policy limit fired.",
	[JV_REASON_AUDIT_RECOVERY_TIMELINE] = "Audit summary: a recovery timeline.",
	[JV_REASON_NAT_REBINDING] = "Gateway trigger: a validated NAT rebinding moves the binding to the new address (PD-2).",
	[JV_REASON_OWNER_TAKEOVER] = "Rekey trigger: a new owner of the session (a restarted or another gateway node) sends under its owner epoch's keys and the client follows (PD-9).",
	[JV_REASON_FAILBACK] = "Recovery reason: the client moves back to a transport of lower Priority that has been stable for switching.failback_stable_ms and is not damped (PD-7); a discretionary switch.",
	[JV_REASON_OPERATOR_MIGRATION] = "Recovery reason: `jvpn switch NAME` moves an ATTACHED session make-before-break (PD-8); a discretionary switch.",
	[JV_REASON_PEER_REMOVED] = "Terminated by the gateway because a reload removed the peer's key (X5, D-022); the client is told.",
	[JV_REASON_SESSION_REPLACED] = "Terminated by the gateway because a newer handshake of the same key replaced the session (X5, D-022); the old client is told.",
};
_Static_assert(sizeof(reason_meaning) / sizeof(reason_meaning[0]) ==
	       JV_REASON_COUNT, "every reason code needs a meaning");

/* One line per event field, same completeness rule. */
static const char *const field_meaning[] = {
	[JV_F_reason_code] = "Stable reason code, see the catalogue below.",
	[JV_F_state] = "State at creation: BIRTH.",
	[JV_F_previous_state] = "State before the transition.",
	[JV_F_new_state] = "State after the transition.",
	[JV_F_transport_id] = "The transport the event is about.",
	[JV_F_from_transport] = "Binding when RECOVERING was entered (null if none).",
	[JV_F_candidate_set_size] = "Eligible candidates when RECOVERING was entered.",
	[JV_F_candidate_transport] = "Candidate chosen or tried (null if none).",
	[JV_F_loss_ratio] = "Observed loss ratio, 0 to 1.",
	[JV_F_latency_estimate_ms] = "Observed latency estimate (p95 round trip).",
	[JV_F_consecutive_drops] = "Drops in a row on the binding.",
	[JV_F_heartbeat_age_ms] = "Time since the last good packet on the binding.",
	[JV_F_previous_transport] = "Binding before the switch (null if none).",
	[JV_F_new_transport] = "Binding after the switch.",
	[JV_F_candidate_count] = "Candidates considered.",
	[JV_F_switch_latency_ms] = "Attempt start to commit.",
	[JV_F_explicit] = "Always true: a switch is an explicit decision.",
	[JV_F_auditable] = "Always true: a switch is auditable.",
	[JV_F_switch_count_window] = "Switches in the last 60 000 ms.",
	[JV_F_attempts] = "Attempts made in this recovery.",
	[JV_F_recovery_deadline_ms] = "Latest end of this RECOVERING episode (ts_ms clock).",
	[JV_F_nonce] = "Freshness counter of the request (public, not a secret).",
	[JV_F_attempt] = "Ordinal of the attempt in this recovery, from 1.",
	[JV_F_status] = "Outcome of a reattach or a policy update.",
	[JV_F_retryable] = "The requester may retry (retryable deny class).",
	[JV_F_session_age_ms] = "Time since SessionCreated.",
	[JV_F_transportless_age_ms] = "Time without a binding (0 if bound).",
	[JV_F_total_switches] = "Switches over the session's life.",
	[JV_F_violation_type] = "Short name of the violation.",
	[JV_F_freshness_marker_type] = "Which freshness marker failed.",
	[JV_F_key_epoch] = "Key epoch after the event.",
	[JV_F_owner_node_id] = "Owner node after the event.",
	[JV_F_owner_epoch] = "Ownership epoch after the event (+1 per transfer).",
	[JV_F_previous_owner_node_id] = "Owner node before a transfer.",
	[JV_F_expected_state_version] = "Version the CAS expected.",
	[JV_F_actual_state_version] = "Version the record held.",
	[JV_F_conflicting_node_id] = "The other node claiming the session.",
	[JV_F_policy_name] = "Policy field whose bound fired.",
	[JV_F_threshold_value] = "The bound.",
	[JV_F_observed_value] = "The value that crossed it.",
	[JV_F_previous_policy_version] = "Policy version before the update.",
	[JV_F_mode] = "policy_change_mode of the update.",
	[JV_F_field] = "Policy field that failed validation (on reject).",
	[JV_F_check] = "Name of the runtime self-check.",
	[JV_F_result] = "Outcome of the self-check.",
	[JV_F_detection] = "How the death was detected.",
	[JV_F_origin] = "\"peer\" when the termination came from the peer.",
	[JV_F_suppressed_count] = "Identical events left out since the last one written (spec §8.5).",
	[JV_F_released] = "SessionOwnerRejected: true when the node's lease ended and it gave the session up (the end of its ownership interval, INV-15); absent on a V2 denial.",
	[JV_F_trigger_class] = "PD-7: `forced` (the binding was dead, hard-failed or silent: bounded only by SWITCH_COOLDOWN_MS and detection time) or `discretionary` (quality, fail-back, operator migration: counted toward MAX_SWITCHES_PER_MIN, INV-08).",
	[JV_F_flap_penalty] = "TransportDamped/TransportReused: the transport's flap penalty at that time, rounded (PD-7; +FLAP_PENALTY per flap, halving every FLAP_HALF_LIFE_MS).",
	[JV_F_policy] = "Policy snapshot, keys as in docs/policy.md.",
	[JV_F_peer_public_key] = "SessionCreated: the other side's static public key, base64 as in the config (gateway: the client's [Peer] key; client: the gateway's PublicKey). A public key, no secret (§8.4).",
	[JV_F_remote_addr] = "SessionCreated: the other side's address, `IP:PORT` or `[IPv6]:PORT` (gateway: where the handshake came from; client: the endpoint that answered it). Not a transport id.",
};
_Static_assert(sizeof(field_meaning) / sizeof(field_meaning[0]) ==
	       JV_F_COUNT, "every event field needs a meaning");

static const char *kind_type(int kind)
{
	switch (kind) {
	case JV_KIND_STR: return "string or null";
	case JV_KIND_U64: return "integer >= 0";
	case JV_KIND_F64: return "number";
	case JV_KIND_BOOL: return "boolean";
	case JV_KIND_STATE: return "string: state name";
	case JV_KIND_REASON: return "string: reason code";
	case JV_KIND_POLICY: return "object: policy";
	}
	return "?";
}

static void print_values(const char *const *v)
{
	for (int i = 0; v[i]; i++)
		printf("%s`%s`", i ? ", " : "", v[i]);
}

static void print_reasons(jv_reason_set set)
{
	int n = 0;

	for (int r = 0; r < JV_REASON_COUNT; r++)
		if (set & JV_REASON_BIT(r))
			printf("%s`%s`", n++ ? ", " : "",
			       jv_reason_name((enum jv_reason)r));
}

static void print_reason_rule(const struct jv_event_spec *sp)
{
	switch (sp->reason_rule) {
	case JV_REASON_FORBIDDEN:
		printf("Reason code: none.\n");
		return;
	case JV_REASON_OPTIONAL:
		printf("Reason code: optional");
		break;
	case JV_REASON_REQUIRED:
		printf("Reason code: **required**");
		break;
	case JV_REASON_ON_STATUS:
		printf("Reason code: **required** when `status` is `%s`, "
		       "else optional", sp->reason_status);
		break;
	}
	if (sp->reasons && !(sp->reasons & (sp->reasons - 1))) {
		printf(", always ");
		print_reasons(sp->reasons);
	} else if (sp->reasons) {
		printf(", one of ");
		print_reasons(sp->reasons);
	} else {
		printf(", any code of the catalogue");
	}
	printf(".\n");
}

static void print_types(void)
{
	printf("## Event types\n\n"
	       "Each type lists every field it may carry besides the base "
	       "fields; any other field is an error for the writer and the "
	       "reader (spec INV-17: no payload, keys or proofs can be logged).\n");
	for (int t = 0; t < JV_EV_COUNT; t++) {
		const struct jv_event_spec *sp = jv_event_spec(t);

		printf("\n### %s\n\n%s\n\n", jv_event_type_name(t), sp->emitted);
		print_reason_rule(sp);
		printf("\n| field | JSON type | presence | values |\n"
		       "|---|---|---|---|\n");
		for (int f = 0; f < JV_F_COUNT; f++) {
			const char *const *v = jv_event_field_values(t, f);
			uint64_t bit = (uint64_t)1 << f;

			if (!(sp->allowed & bit))
				continue;
			printf("| `%s` | %s | %s | ", jv_event_field_name(f),
			       kind_type(jv_event_field_kind(f)),
			       f == JV_F_reason_code ?
			       (sp->reason_rule == JV_REASON_REQUIRED ?
				"required" : sp->reason_rule ==
				JV_REASON_ON_STATUS ? "see above" : "optional") :
			       (sp->required & bit) ? "required" : "optional");
			if (v)
				print_values(v);
			else if (f == JV_F_reason_code && sp->reasons)
				print_reasons(sp->reasons);
			printf(" |\n");
		}
	}
}

static void print_sample(void)
{
	static const struct jv_event_origin o = {
		.session_id = "5f0c3a9e1b7d42c8a6e9f01234abcdef",
		.node_id = "client-7",
		.policy_version = "1.0",
		.role = JV_ROLE_CLIENT,
	};
	struct jv_event ev[3] = {
		{ .type = JV_EV_SESSION_CREATED, .ts_ms = 1700000000000 },
		{ .type = JV_EV_SESSION_STATE_CHANGE, .ts_ms = 1700000000042,
		  .state_version = 1 },
		{ .type = JV_EV_TRANSPORT_ATTACHED, .ts_ms = 1700000000042,
		  .state_version = 1 },
	};
	char line[JV_EVENT_LINE_MAX], prev[JV_HASH_HEX];
	size_t len;

	JV_EV_SET(&ev[0], state, JV_STATE_BIRTH);
	JV_EV_SET(&ev[1], reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	JV_EV_SET(&ev[1], previous_state, JV_STATE_BIRTH);
	JV_EV_SET(&ev[1], new_state, JV_STATE_ATTACHED);
	JV_EV_SET(&ev[2], reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	JV_EV_SET(&ev[2], transport_id, "wifi");

	printf("## Sample\n\nThe first three lines of a client's log (a real "
	       "SessionCreated also carries `details.policy`):\n\n```\n");
	memset(prev, '0', JV_HASH_HEX - 1);
	prev[JV_HASH_HEX - 1] = '\0';
	for (unsigned i = 0; i < 3; i++) {
		if (jv_event_format(&o, &ev[i], i, prev, line, sizeof(line),
				    &len)) {
			printf("(sample line %u failed to format)\n", i);
			return;
		}
		printf("%s\n", line);
		jv_eventlog_hash(line, len, prev);
	}
	printf("```\n");
}

int cmd_events_doc(int argc, char **argv)
{
	for (int r = 0; r < JV_REASON_COUNT; r++)
		if (!reason_meaning[r]) {
			fprintf(stderr, "jvpn %s: reason '%s' has no meaning\n",
				argv[0], jv_reason_name((enum jv_reason)r));
			return 1;
		}
	for (int f = 0; f < JV_F_COUNT; f++)
		if (!field_meaning[f]) {
			fprintf(stderr, "jvpn %s: field '%s' has no meaning\n",
				argv[0], jv_event_field_name(f));
			return 1;
		}
	if (argc > 1) {
		fprintf(stderr, "usage: jvpn %s\n", argv[0]);
		return 2;
	}

	printf("# Event log reference\n\n"
	       "<!-- Generated by `jvpn events-doc` from the tables in "
	       "src/core/eventlog.c, include/jvpn/event.h and "
	       "include/jvpn/reason.h; do not edit, run `make docs`. -->\n\n"
	       "The observability contract of spec §8 and PD-1. Field names "
	       "and reason codes are a stable interface (PD-5): they are "
	       "added, never renamed or re-purposed.\n\n");

	printf("## Line format\n\n"
	       "- One JSON object per line, UTF-8, each line ended by `\\n`; "
	       "compact (no spaces).\n"
	       "- Keys in a fixed order, so the same events give the same "
	       "bytes: the base fields `ts_ms`, `event_type`, `session_id`, "
	       "`node_id`, `role`, `policy_version`, `state_version`; then the "
	       "event's fields in the order of the field table below; then "
	       "`details`, an object holding the `details.*` fields; then "
	       "`seq` and `prev_hash`.\n"
	       "- Strings are JSON-escaped (`\\\"`, `\\\\`, `\\n`, `\\u001F`, "
	       "...); other UTF-8 is written as is. A string that is not valid "
	       "UTF-8 has each invalid byte replaced by U+FFFD, so every line "
	       "stays readable.\n"
	       "- Integers range from 0 to 2^63-1. Numbers are written with up "
	       "to 15 significant digits (`0.15`, `1.0`), which reads back to "
	       "the same text. A string field set to nothing (no previous "
	       "transport, say) is written as `null`.\n"
	       "- A reader (`jvpn audit`) rejects a line with a duplicate key, "
	       "anything after the object, a missing or mistyped base field, "
	       "an unknown event type, state or reason code, a field unknown or "
	       "not allowed for its event type, a value outside its closed "
	       "set, or a missing required field or reason code.\n\n");

	printf("## Base fields\n\nOn every line.\n\n"
	       "| field | JSON type | meaning |\n|---|---|---|\n"
	       "| `ts_ms` | integer >= 0 | Unix time in ms; non-decreasing "
	       "per stream. |\n"
	       "| `event_type` | string | One of the event types below. |\n"
	       "| `session_id` | string | 32 lowercase hex digits (128-bit "
	       "session id). |\n"
	       "| `node_id` | string | Emitting node, 1 to %d bytes. |\n"
	       "| `role` | string | `client` (requester) or `gateway` "
	       "(validator). |\n"
	       "| `policy_version` | string | `version` of the policy in "
	       "force, 1 to %d bytes. |\n"
	       "| `state_version` | integer >= 0 | Version of the emitting "
	       "FSM instance (spec INV-02). |\n"
	       "| `seq` | integer >= 0 | Line number in this file, from 0 "
	       "(PD-1). |\n"
	       "| `prev_hash` | string | Hash of the previous line of this "
	       "file, 64 lowercase hex digits (PD-1). |\n\n",
	       JV_NODE_ID_MAX - 1, JV_POLICY_VERSION_MAX - 1);

	printf("### Hash chain\n\n"
	       "`prev_hash` of a line is the lowercase hex of BLAKE2b-256 "
	       "(libsodium `crypto_generichash`, 32-byte output, no key) over "
	       "the exact bytes of the previous line of the same file, without "
	       "its `\\n`. The first line of a file has `seq` 0 and "
	       "`prev_hash` of 64 `0`. A file may hold several streams; the "
	       "chain is per file, the invariants per stream.\n\n"
	       "A deleted, inserted or reordered line shows as a `seq` gap or "
	       "a `seq` going back; an edited line makes the next line's "
	       "`prev_hash` wrong. A line the sink failed to write still "
	       "advances the chain, so the loss shows the same way; an event "
	       "the writer refuses (it breaks its type's table) advances "
	       "`seq` only.\n\n");

	print_types();

	printf("\n## Fields\n\n| field | JSON type | meaning |\n|---|---|---|\n");
	for (int f = 0; f < JV_F_COUNT; f++)
		printf("| `%s` | %s | %s |\n", jv_event_field_name(f),
		       kind_type(jv_event_field_kind(f)), field_meaning[f]);

	printf("\n## Reason codes\n\n| code | meaning |\n|---|---|\n");
	for (int r = 0; r < JV_REASON_COUNT; r++)
		printf("| `%s` | %s |\n", jv_reason_name((enum jv_reason)r),
		       reason_meaning[r]);
	printf("\n");
	print_sample();
	return 0;
}
