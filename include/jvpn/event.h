/* SPDX-License-Identifier: MIT */
#ifndef JVPN_EVENT_H
#define JVPN_EVENT_H

/*
 * Typed events of spec §8.2.  The core fills a struct jv_event and hands it
 * to the session's emit callback; include/jvpn/eventlog.h turns it into one
 * JSON line.  Field names are the stable interface of the project (PD-5):
 * add, never rename.
 */

#include <stdbool.h>
#include <stdint.h>

#include "limits.h"
#include "reason.h"
#include "state.h"

struct jv_policy;

#define JV_EVENT_TYPES(X)                                               \
	X(SESSION_CREATED, SessionCreated)                              \
	X(SESSION_STATE_CHANGE, SessionStateChange)                     \
	X(TRANSPORT_ATTACHED, TransportAttached)                        \
	X(TRANSPORT_DEAD, TransportDead)                                \
	X(TRANSPORT_SWITCH, TransportSwitch)                            \
	X(TRANSPORT_SWITCH_DENIED, TransportSwitchDenied)               \
	X(TRANSPORT_SWITCH_FAILED, TransportSwitchFailed)               \
	X(REATTACH_ATTEMPT, ReattachAttempt)                            \
	X(REATTACH_RESULT, ReattachResult)                              \
	X(SESSION_TERMINATED, SessionTerminated)                        \
	X(SECURITY_VALIDATION_FAILED, SecurityValidationFailed)         \
	X(SECURITY_REPLAY_DETECTED, SecurityReplayDetected)             \
	X(SECURITY_KEY_COMPROMISE_SUSPECTED, SecurityKeyCompromiseSuspected) \
	X(KEY_ROTATED, KeyRotated)                                      \
	X(KEY_EXPIRED, KeyExpired)                                      \
	X(REKEY_DENIED, RekeyDenied)                                    \
	X(SESSION_OWNER_ACQUIRED, SessionOwnerAcquired)                 \
	X(SESSION_OWNER_TRANSFERRED, SessionOwnerTransferred)           \
	X(SESSION_OWNER_REJECTED, SessionOwnerRejected)                 \
	X(SESSION_OWNER_CONFLICT, SessionOwnerConflict)                 \
	X(POLICY_LIMIT_TRIGGERED, PolicyLimitTriggered)                 \
	X(POLICY_UPDATE, PolicyUpdate)                                  \
	X(AUDIT_CHECK, AuditCheck)                                      \
	X(TRANSPORT_DAMPED, TransportDamped)                            \
	X(TRANSPORT_REUSED, TransportReused)

enum jv_event_type {
#define JV_EVENT_ENUM_(id, name) JV_EV_##id,
	JV_EVENT_TYPES(JV_EVENT_ENUM_)
#undef JV_EVENT_ENUM_
	JV_EV_COUNT
};

/* "SessionCreated", ...; NULL if out of range. */
const char *jv_event_type_name(enum jv_event_type t);
/* Inverse of jv_event_type_name; -1 if unknown. */
int jv_event_type_from_name(const char *name);

/*
 * Optional fields: X(member, "json name", KIND).  KIND is one of STR
 * (const char *; a set field holding NULL is written as JSON null), U64,
 * F64, BOOL, STATE, REASON, POLICY.  A name "details.x" is written inside
 * the event's "details" object.
 */
#define JV_EVENT_FIELDS(X)                                              \
	X(reason_code, "reason_code", REASON)                           \
	X(state, "state", STATE)                                        \
	X(previous_state, "previous_state", STATE)                      \
	X(new_state, "new_state", STATE)                                \
	X(transport_id, "transport_id", STR)                            \
	X(from_transport, "from_transport", STR)                        \
	X(candidate_set_size, "candidate_set_size", U64)                \
	X(candidate_transport, "candidate_transport", STR)              \
	X(loss_ratio, "loss_ratio", F64)                                \
	X(latency_estimate_ms, "latency_estimate_ms", U64)              \
	X(consecutive_drops, "consecutive_drops", U64)                  \
	X(heartbeat_age_ms, "heartbeat_age_ms", U64)                    \
	X(previous_transport, "previous_transport", STR)                \
	X(new_transport, "new_transport", STR)                          \
	X(candidate_count, "candidate_count", U64)                      \
	X(switch_latency_ms, "switch_latency_ms", U64)                  \
	X(explicit, "explicit", BOOL)                                   \
	X(auditable, "auditable", BOOL)                                 \
	X(switch_count_window, "switch_count_window", U64)              \
	X(attempts, "attempts", U64)                                    \
	X(recovery_deadline_ms, "recovery_deadline_ms", U64)            \
	X(nonce, "nonce", U64)                                          \
	X(attempt, "attempt", U64)                                      \
	X(status, "status", STR)                                        \
	X(retryable, "retryable", BOOL)                                 \
	X(session_age_ms, "session_age_ms", U64)                        \
	X(transportless_age_ms, "transportless_age_ms", U64)            \
	X(total_switches, "total_switches", U64)                        \
	X(violation_type, "violation_type", STR)                        \
	X(freshness_marker_type, "freshness_marker_type", STR)          \
	X(key_epoch, "key_epoch", U64)                                  \
	X(owner_node_id, "owner_node_id", STR)                          \
	X(owner_epoch, "owner_epoch", U64)                              \
	X(previous_owner_node_id, "previous_owner_node_id", STR)        \
	X(expected_state_version, "expected_state_version", U64)        \
	X(actual_state_version, "actual_state_version", U64)            \
	X(conflicting_node_id, "conflicting_node_id", STR)              \
	X(policy_name, "policy_name", STR)                              \
	X(threshold_value, "threshold_value", F64)                      \
	X(observed_value, "observed_value", F64)                        \
	X(previous_policy_version, "previous_policy_version", STR)      \
	X(mode, "mode", STR)                                            \
	X(field, "field", STR)                                          \
	X(check, "check", STR)                                          \
	X(result, "result", STR)                                        \
	X(detection, "details.detection", STR)                          \
	X(origin, "details.origin", STR)                                \
	X(suppressed_count, "details.suppressed_count", U64)            \
	X(released, "details.released", BOOL)                          \
	X(trigger_class, "trigger_class", STR)                          \
	X(flap_penalty, "details.flap_penalty", U64)                    \
	X(policy, "details.policy", POLICY)                             \
	X(peer_public_key, "details.peer_public_key", STR)              \
	X(remote_addr, "details.remote_addr", STR)

enum jv_event_field {
#define JV_FIELD_ENUM_(member, json, kind) JV_F_##member,
	JV_EVENT_FIELDS(JV_FIELD_ENUM_)
#undef JV_FIELD_ENUM_
	JV_F_COUNT
};

#define JV_FIELD_CTYPE_STR const char *
#define JV_FIELD_CTYPE_U64 uint64_t
#define JV_FIELD_CTYPE_F64 double
#define JV_FIELD_CTYPE_BOOL bool
#define JV_FIELD_CTYPE_STATE enum jv_state
#define JV_FIELD_CTYPE_REASON enum jv_reason
#define JV_FIELD_CTYPE_POLICY const struct jv_policy *

/*
 * One event.  Strings are borrowed: the emit callback must serialize or copy
 * them before it returns.  Zero-initialize, then set fields with JV_EV_SET.
 */
struct jv_event {
	enum jv_event_type type;
	jv_time ts_ms;
	uint64_t state_version;
	uint64_t set;		/* bit JV_F_x: field x is present */
#define JV_FIELD_MEMBER_(member, json, kind) JV_FIELD_CTYPE_##kind member;
	JV_EVENT_FIELDS(JV_FIELD_MEMBER_)
#undef JV_FIELD_MEMBER_
};

#define JV_FBIT(member) ((uint64_t)1 << JV_F_##member)
#define JV_EV_SET(ev, member, value)                                    \
	((ev)->member = (value), (ev)->set |= JV_FBIT(member))
#define JV_EV_HAS(ev, member) (((ev)->set & JV_FBIT(member)) != 0)

_Static_assert(JV_F_COUNT <= 64, "event field mask is 64 bits");
_Static_assert(JV_REASON_COUNT <= 64, "reason set is 64 bits");

/* Receives every event of a session, synchronously, in commit order. */
typedef void (*jv_emit_fn)(void *ud, const struct jv_event *ev);

#endif
