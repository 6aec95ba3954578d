/* SPDX-License-Identifier: MIT */
#ifndef JVPN_REASON_H
#define JVPN_REASON_H

#include <stdint.h>

/*
 * The reason-code catalogue of spec §8.3: one X-macro, so the enum, the
 * names, the docs and the audit tool cannot drift.  Codes are stable
 * (spec PD-5): append, never rename or re-purpose.
 */
#define JV_REASONS(X)                                                   \
	/* lifecycle and detection */                                   \
	X(ATTACHED_TO_TRANSPORT, attached_to_transport)                 \
	X(HANDSHAKE_FAILED, handshake_failed)                           \
	X(TRANSPORT_DEAD, transport_dead)                               \
	X(CONSECUTIVE_DROP_EXCEEDED, consecutive_drop_exceeded)         \
	X(LOSS_THRESHOLD_EXCEEDED, loss_threshold_exceeded)             \
	X(HEARTBEAT_TIMEOUT, heartbeat_timeout)                         \
	X(LATENCY_THRESHOLD_EXCEEDED, latency_threshold_exceeded)       \
	X(VOLATILE_PERSISTED, volatile_persisted)                       \
	X(LOSS_RECOVERY, loss_recovery)                                 \
	X(DEAD_TRANSPORT_RECOVERY, dead_transport_recovery)             \
	X(POLICY_FORCED_RECOVERY, policy_forced_recovery)               \
	X(HEALTH_RECOVERED, health_recovered)                           \
	X(REATTACH_SUCCESS, reattach_success)                           \
	X(REATTACH_VALIDATION_FAILED, reattach_validation_failed)       \
	X(RECOVERY_WINDOW_EXCEEDED, recovery_window_exceeded)           \
	X(SESSION_LIFETIME_EXCEEDED, session_lifetime_exceeded)         \
	X(TRANSPORT_TTL_EXCEEDED, transport_ttl_exceeded)               \
	X(SECURITY_FAILURE, security_failure)                           \
	X(OPERATOR_TERMINATED, operator_terminated)                     \
	X(KEY_EXPIRED, key_expired)                                     \
	X(INVARIANT_VIOLATION, invariant_violation)                     \
	X(FATAL_PROTOCOL_ERROR, fatal_protocol_error)                   \
	/* switching and policy */                                      \
	X(SWITCH_RATE_LIMITED, switch_rate_limited)                     \
	X(COOLDOWN_ACTIVE, cooldown_active)                             \
	X(NO_CANDIDATE_TRANSPORTS, no_candidate_transports)             \
	X(POLICY_DENIED, policy_denied)                                 \
	X(POLICY_INVALID, policy_invalid)                               \
	/* reattach validation */                                       \
	X(RATE_LIMITED, rate_limited)                                   \
	X(UNKNOWN_SESSION, unknown_session)                             \
	X(NOT_AUTHORITATIVE_OWNER, not_authoritative_owner)             \
	X(OWNERSHIP_CONFLICT, ownership_conflict)                       \
	X(BAD_PROOF, bad_proof)                                         \
	X(REPLAY_DETECTED, replay_detected)                             \
	X(STALE_REQUEST, stale_request)                                 \
	X(STALE_STATE_VERSION, stale_state_version)                     \
	X(INVALID_STATE_FOR_REATTACH, invalid_state_for_reattach)       \
	X(INVALID_TRANSPORT_CANDIDATE, invalid_transport_candidate)     \
	X(ATOMICITY_FAILED, atomicity_failed)                           \
	/* security only */                                             \
	X(UNAUTHORIZED_TRANSPORT_ATTEMPT, unauthorized_transport_attempt) \
	X(INVALID_STATE_TRANSITION, invalid_state_transition)           \
	X(DUAL_ACTIVE_ATTEMPT, dual_active_attempt)                     \
	X(CONTROL_PLANE_ABUSE, control_plane_abuse)                     \
	/* rekey triggers */                                            \
	X(TIME_ELAPSED, time_elapsed)                                   \
	X(TRANSPORT_CHANGE, transport_change)                           \
	X(POLICY_TRIGGER, policy_trigger)                               \
	X(SECURITY_EVENT, security_event)                               \
	/* audit summaries */                                           \
	X(AUDIT_INVARIANT_OK_SINGLE_ACTIVE, audit_invariant_ok_single_active) \
	X(AUDIT_INVARIANT_OK_NO_RESET, audit_invariant_ok_no_reset)     \
	X(AUDIT_POLICY_LIMIT_TRIGGERED, audit_policy_limit_triggered)   \
	X(AUDIT_RECOVERY_TIMELINE, audit_recovery_timeline)             \
	/* [R] additions of this project */                             \
	X(NAT_REBINDING, nat_rebinding)                                 \
	X(OWNER_TAKEOVER, owner_takeover)                               \
	X(FAILBACK, failback)                                           \
	X(OPERATOR_MIGRATION, operator_migration)                       \
	X(PEER_REMOVED, peer_removed)                                   \
	X(SESSION_REPLACED, session_replaced)

enum jv_reason {
	JV_REASON_NONE = -1,	/* "no reason code": never serialized */
#define JV_REASON_ENUM_(id, name) JV_REASON_##id,
	JV_REASONS(JV_REASON_ENUM_)
#undef JV_REASON_ENUM_
	JV_REASON_COUNT
};

/* A set of reasons, one bit each (the catalogue has fewer than 64). */
typedef uint64_t jv_reason_set;
#define JV_REASON_BIT(r) ((jv_reason_set)1 << (r))

/* "transport_dead", ...; NULL for JV_REASON_NONE or out of range. */
const char *jv_reason_name(enum jv_reason r);
/* Inverse of jv_reason_name; JV_REASON_NONE if unknown. */
enum jv_reason jv_reason_from_name(const char *name);

#endif
