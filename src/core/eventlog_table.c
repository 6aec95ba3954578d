/* SPDX-License-Identifier: MIT */
/*
 * Event log tables (spec §8.2, INV-13, INV-17): which fields and reason
 * codes each event type may carry, and the check every writer and reader
 * runs against them.  The helpers shared by the writer and the reader are
 * at the end.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "eventlog_impl.h"

/* ---- tables ----------------------------------------------------------- */

#define F(m) JV_FBIT(m)
#define R(id) JV_REASON_BIT(JV_REASON_##id)
/* §8.1: transport_id is an optional base field of every event. */
#define BASE F(transport_id)

/*
 * Reason rules follow INV-13 and §8.2.  Two readings made here:
 * SessionOwnerAcquired/Transferred carry no code in §8.2 and none in §8.3
 * describes them, so theirs is optional; ReattachAttempt may carry its
 * recovery reason.  Reason sets are the ones §8.2 lists per type; types
 * whose codes are open (SessionStateChange, SessionTerminated: a peer's
 * TERMINATE carries any code, X5; PolicyLimitTriggered: "the limit's
 * code") accept any code.
 */
static const struct jv_event_spec specs[] = {
	[JV_EV_SESSION_CREATED] = {
		.allowed = BASE | F(state) | F(policy) | F(peer_public_key) |
			   F(remote_addr),
		.required = F(state),
		.reason_rule = JV_REASON_FORBIDDEN,
		.emitted = "Session record created (state BIRTH, state_version 0); details.policy holds the policy snapshot, details.peer_public_key the other side's static public key (base64, as in the config) and details.remote_addr the address its handshake came from or went to (ip:port, IPv6 in brackets).",
	},
	[JV_EV_SESSION_STATE_CHANGE] = {
		.allowed = BASE | F(reason_code) | F(previous_state) |
			   F(new_state) | F(from_transport) |
			   F(candidate_set_size) | F(candidate_transport) |
			   F(loss_ratio) | F(latency_estimate_ms) |
			   F(consecutive_drops) | F(heartbeat_age_ms) |
			   F(origin) | F(trigger_class),
		.required = F(previous_state) | F(new_state),
		.reason_rule = JV_REASON_REQUIRED,
		.emitted = "Every committed transition, exactly once per state_version (into RECOVERING also from_transport, candidate_set_size, candidate_transport, trigger_class).",
	},
	[JV_EV_TRANSPORT_ATTACHED] = {
		.allowed = BASE | F(reason_code),
		.required = F(transport_id),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(ATTACHED_TO_TRANSPORT),
		.emitted = "First binding of the session (T01).",
	},
	[JV_EV_TRANSPORT_DEAD] = {
		.allowed = BASE | F(reason_code) | F(detection),
		.required = F(transport_id),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(TRANSPORT_DEAD),
		.emitted = "Binding declared dead and cleared (T10, T20, T30, T47).",
	},
	[JV_EV_TRANSPORT_SWITCH] = {
		.allowed = BASE | F(reason_code) | F(previous_transport) |
			   F(new_transport) | F(candidate_count) |
			   F(loss_ratio) | F(latency_estimate_ms) |
			   F(switch_latency_ms) | F(explicit) | F(auditable) |
			   F(trigger_class),
		.required = F(previous_transport) | F(new_transport),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(REATTACH_SUCCESS),
		.emitted = "Binding changed by a validated reattach (T40); previous_transport is null if there was none; trigger_class says whether the switch was forced (the binding dead, hard-failed or silent) or discretionary (PD-7).",
	},
	[JV_EV_TRANSPORT_SWITCH_DENIED] = {
		.allowed = BASE | F(reason_code) | F(candidate_transport) |
			   F(candidate_count) | F(switch_count_window) |
			   F(suppressed_count),
		.reason_rule = JV_REASON_REQUIRED,
		/* §6.4 gates, then the policy and validation deny classes
		 * of §7.6 (T41, T42) */
		.reasons = R(SWITCH_RATE_LIMITED) | R(COOLDOWN_ACTIVE) |
			   R(NO_CANDIDATE_TRANSPORTS) | R(POLICY_DENIED) |
			   R(INVALID_TRANSPORT_CANDIDATE) | R(BAD_PROOF) |
			   R(REPLAY_DETECTED) | R(STALE_REQUEST) |
			   R(INVALID_STATE_FOR_REATTACH) |
			   R(OWNERSHIP_CONFLICT),
		.emitted = "Requester: a switch gate refused a needed switch, or a policy/validation deny arrived (T22, T23, T32, T41, T42).",
	},
	[JV_EV_TRANSPORT_SWITCH_FAILED] = {
		.allowed = BASE | F(reason_code) | F(candidate_transport) |
			   F(attempts),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(RECOVERY_WINDOW_EXCEEDED) |
			   R(NO_CANDIDATE_TRANSPORTS),
		.emitted = "A reattach attempt ended without a decision (T45, T46).",
	},
	[JV_EV_REATTACH_ATTEMPT] = {
		.allowed = BASE | F(reason_code) | F(candidate_transport) |
			   F(recovery_deadline_ms) | F(nonce) | F(attempt),
		.required = F(candidate_transport),
		.reason_rule = JV_REASON_OPTIONAL,
		.emitted = "Requester: attempt start (T21, T31, T44); gateway: a request passed V1.",
	},
	[JV_EV_REATTACH_RESULT] = {
		.allowed = BASE | F(reason_code) | F(status) |
			   F(candidate_transport) | F(nonce) | F(retryable) |
			   F(suppressed_count),
		.required = F(status),
		.reason_rule = JV_REASON_ON_STATUS,
		.reason_status = "DENIED",
		.emitted = "After every validation outcome, both roles (T12, T40-T43, T48).",
	},
	[JV_EV_SESSION_TERMINATED] = {
		.allowed = BASE | F(reason_code) | F(session_age_ms) |
			   F(transportless_age_ms) | F(total_switches) |
			   F(origin),
		.reason_rule = JV_REASON_REQUIRED,
		.emitted = "With every transition into TERMINATED (T02, T48, X1-X7); details.origin is \"peer\" for a peer's TERMINATE.",
	},
	[JV_EV_SECURITY_VALIDATION_FAILED] = {
		.allowed = BASE | F(reason_code) | F(violation_type) |
			   F(suppressed_count),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(BAD_PROOF) | R(UNAUTHORIZED_TRANSPORT_ATTEMPT) |
			   R(INVALID_STATE_TRANSITION) |
			   R(DUAL_ACTIVE_ATTEMPT) | R(CONTROL_PLANE_ABUSE),
		.emitted = "A security violation other than replay (V5, undefined (state, input) pairs, unvalidated transports).",
	},
	[JV_EV_SECURITY_REPLAY_DETECTED] = {
		/* nonce: LIV-09 needs it to match later results */
		.allowed = BASE | F(reason_code) | F(freshness_marker_type) |
			   F(nonce) | F(suppressed_count),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(REPLAY_DETECTED) | R(STALE_REQUEST),
		.emitted = "Freshness check V6 failed.",
	},
	[JV_EV_SECURITY_KEY_COMPROMISE_SUSPECTED] = {
		.allowed = BASE | F(reason_code) | F(key_epoch),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(SECURITY_FAILURE),
		.emitted = "Key compromise suspected, just before X3.",
	},
	[JV_EV_KEY_ROTATED] = {
		.allowed = BASE | F(reason_code) | F(key_epoch),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(TIME_ELAPSED) | R(TRANSPORT_CHANGE) |
			   R(POLICY_TRIGGER) | R(SECURITY_EVENT) |
			   R(OWNER_TAKEOVER),
		.emitted = "Rekey done; the reason is its trigger (§7.7).",
	},
	[JV_EV_KEY_EXPIRED] = {
		.allowed = BASE | F(reason_code) | F(key_epoch),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(KEY_EXPIRED),
		.emitted = "Keys reached KEY_MAX_AGE_MS without rekey, before X4.",
	},
	[JV_EV_REKEY_DENIED] = {
		.allowed = BASE | F(reason_code) | F(key_epoch),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(POLICY_DENIED),
		.emitted = "A rekey refused by its bound (OP-11).",
	},
	[JV_EV_SESSION_OWNER_ACQUIRED] = {
		.allowed = BASE | F(reason_code) | F(owner_node_id) |
			   F(owner_epoch) | F(previous_owner_node_id),
		.required = F(owner_node_id) | F(owner_epoch),
		.reason_rule = JV_REASON_OPTIONAL,
		.emitted = "Ownership of the session record created (§9).",
	},
	[JV_EV_SESSION_OWNER_TRANSFERRED] = {
		.allowed = BASE | F(reason_code) | F(owner_node_id) |
			   F(owner_epoch) | F(previous_owner_node_id),
		.required = F(owner_node_id) | F(owner_epoch),
		.reason_rule = JV_REASON_OPTIONAL,
		.emitted = "Ownership moved to another node, owner_epoch + 1 (§9).",
	},
	[JV_EV_SESSION_OWNER_REJECTED] = {
		.allowed = BASE | F(reason_code) | F(expected_state_version) |
			   F(actual_state_version) | F(released),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(STALE_STATE_VERSION) | R(NOT_AUTHORITATIVE_OWNER) |
			   R(ATOMICITY_FAILED),
		.emitted = "CAS lost or ownership unprovable (V2, C); with details.released = true, the node's lease ended and it gave the session up (the end of its ownership interval, INV-15).",
	},
	[JV_EV_SESSION_OWNER_CONFLICT] = {
		.allowed = BASE | F(reason_code) | F(conflicting_node_id),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(OWNERSHIP_CONFLICT),
		.emitted = "Ownership ambiguity or dual-active binding detected (X6).",
	},
	[JV_EV_POLICY_LIMIT_TRIGGERED] = {
		.allowed = BASE | F(reason_code) | F(policy_name) |
			   F(threshold_value) | F(observed_value),
		.required = F(policy_name) | F(threshold_value) |
			    F(observed_value),
		.reason_rule = JV_REASON_REQUIRED,
		.emitted = "A policy bound fired (switch rate, recovery window, quality threshold); the reason is the limit's code.",
	},
	[JV_EV_POLICY_UPDATE] = {
		.allowed = BASE | F(reason_code) | F(status) |
			   F(previous_policy_version) | F(mode) | F(field) |
			   F(policy),
		.required = F(status),
		.reason_rule = JV_REASON_ON_STATUS,
		.reason_status = "REJECTED",
		.reasons = R(POLICY_INVALID),
		.emitted = "A policy change applied or rejected (§5); on reject `field` names the offending field.",
	},
	[JV_EV_AUDIT_CHECK] = {
		.allowed = BASE | F(reason_code) | F(check) | F(result),
		.required = F(check) | F(result),
		.reason_rule = JV_REASON_OPTIONAL,
		.reasons = R(AUDIT_INVARIANT_OK_SINGLE_ACTIVE) |
			   R(AUDIT_INVARIANT_OK_NO_RESET) |
			   R(AUDIT_POLICY_LIMIT_TRIGGERED) |
			   R(AUDIT_RECOVERY_TIMELINE),
		.emitted = "Runtime self-check (optional).",
	},
	/* PD-7: flap damping of one transport (requester only). */
	[JV_EV_TRANSPORT_DAMPED] = {
		.allowed = BASE | F(flap_penalty),
		.required = F(transport_id) | F(flap_penalty),
		.reason_rule = JV_REASON_FORBIDDEN,
		.emitted = "Requester: a transport's flap penalty rose above switching.flap_suppress; it is no candidate while another live one exists (PD-7).",
	},
	[JV_EV_TRANSPORT_REUSED] = {
		.allowed = BASE | F(flap_penalty),
		.required = F(transport_id) | F(flap_penalty),
		.reason_rule = JV_REASON_FORBIDDEN,
		.emitted = "Requester: a damped transport's flap penalty decayed below switching.flap_reuse; it is a candidate again (PD-7).",
	},
};
/* A type appended to JV_EVENT_TYPES without a row fails here; a row left
 * empty in the middle fails the events-doc generator and the unit test. */
_Static_assert(sizeof(specs) / sizeof(specs[0]) == JV_EV_COUNT,
	       "every event type needs a row in specs[]");

#undef F
#undef R
#undef BASE

const struct jv_event_spec *jv_event_spec(enum jv_event_type t)
{
	if ((unsigned)t >= JV_EV_COUNT)
		return NULL;
	return &specs[t];
}

struct field_desc {
	const char *name;
	enum jv_field_kind kind;
	size_t offset;
};

static const struct field_desc fields[JV_F_COUNT] = {
#define JV_FIELD_DESC_(member, json, k)                                  \
	[JV_F_##member] = { json, JV_KIND_##k, offsetof(struct jv_event, member) },
	JV_EVENT_FIELDS(JV_FIELD_DESC_)
#undef JV_FIELD_DESC_
};

const char *jv_event_field_name(enum jv_event_field f)
{
	if ((unsigned)f >= JV_F_COUNT)
		return NULL;
	return fields[f].name;
}

int jv_event_field_from_name(const char *name)
{
	for (int f = 0; name && f < JV_F_COUNT; f++)
		if (strcmp(fields[f].name, name) == 0)
			return f;
	return -1;
}

int jv_event_field_kind(enum jv_event_field f)
{
	if ((unsigned)f >= JV_F_COUNT)
		return -1;
	return (int)fields[f].kind;
}

/* Closed sets of string values (§8.2). */
static const char *const v_result_status[] = { "SUCCESS", "DENIED", NULL };
static const char *const v_update_status[] = { "APPLIED", "REJECTED", NULL };
static const char *const v_detection[] = { "hard_failure", "silence", NULL };
static const char *const v_marker[] = { "nonce", "counter", "timestamp", NULL };
static const char *const v_mode[] = { "strict", "grace", NULL };
static const char *const v_check[] = { "NO_IDENTITY_RESET",
				       "NO_DUAL_ACTIVE_BINDING", NULL };
static const char *const v_result[] = { "PASS", "FAIL", NULL };
static const char *const v_class[] = { "forced", "discretionary", NULL };

static const struct {
	enum jv_event_type type;
	enum jv_event_field field;
	const char *const *values;
} closed_sets[] = {
	{ JV_EV_REATTACH_RESULT, JV_F_status, v_result_status },
	{ JV_EV_POLICY_UPDATE, JV_F_status, v_update_status },
	{ JV_EV_POLICY_UPDATE, JV_F_mode, v_mode },
	{ JV_EV_TRANSPORT_DEAD, JV_F_detection, v_detection },
	{ JV_EV_SECURITY_REPLAY_DETECTED, JV_F_freshness_marker_type, v_marker },
	{ JV_EV_AUDIT_CHECK, JV_F_check, v_check },
	{ JV_EV_AUDIT_CHECK, JV_F_result, v_result },
	{ JV_EV_TRANSPORT_SWITCH, JV_F_trigger_class, v_class },
	{ JV_EV_SESSION_STATE_CHANGE, JV_F_trigger_class, v_class },
};

const char *const *jv_event_field_values(enum jv_event_type t,
					 enum jv_event_field f)
{
	for (size_t i = 0; i < sizeof(closed_sets) / sizeof(closed_sets[0]); i++)
		if (closed_sets[i].type == t && closed_sets[i].field == f)
			return closed_sets[i].values;
	return NULL;
}

const void *jv_evl_field_ptr(const struct jv_event *ev, enum jv_event_field f)
{
	return (const char *)ev + fields[f].offset;
}

const char *jv_evl_field_str(const struct jv_event *ev, enum jv_event_field f)
{
	const char *s;

	memcpy(&s, jv_evl_field_ptr(ev, f), sizeof(s));
	return s;
}

static bool in_set(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

/* details.peer_public_key: a static public key as the config writes it,
 * 44 characters of standard base64 for 32 bytes. */
static bool key_b64_ok(const char *s)
{
	uint8_t k[32];
	size_t got = 0;
	const char *end = NULL;

	return strlen(s) == JV_KEY_B64_MAX - 1 &&
	       sodium_base642bin(k, sizeof k, s, JV_KEY_B64_MAX - 1, NULL,
				 &got, &end,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       got == 32 && end == s + JV_KEY_B64_MAX - 1;
}

/* details.remote_addr: "a.b.c.d:port" or "[ipv6]:port", as
 * jv_addr_format writes it; the shape, not the address, is checked. */
static bool addr_ok(const char *s)
{
	const char *colon, *p;
	unsigned long port = 0;

	if (!s[0] || strlen(s) >= JV_ADDR_STR_MAX)
		return false;
	colon = strrchr(s, ':');
	if (!colon || !colon[1] || colon - s < 1)
		return false;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535)
		return false;
	if (s[0] == '[') {
		if (colon[-1] != ']' || colon - s < 4)
			return false;
		for (p = s + 1; p < colon - 1; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return false;
		return true;
	}
	for (p = s; p < colon; p++)
		if (!strchr("0123456789.", *p))
			return false;
	return true;
}

static int why_set(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (why && n > 0) {
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return JV_ERR_INVAL;
}

/* jv_event_check, also naming the culprit field (-1: the type itself). */
int jv_evl_check_event(const struct jv_event *ev, char *why, size_t why_len,
		       int *field)
{
	const struct jv_event_spec *sp = jv_event_spec(ev->type);
	const char *tn = jv_event_type_name(ev->type);
	uint64_t bad, missing;
	bool need_reason;

	*field = -1;
	if (!sp)
		return why_set(why, why_len, "unknown event type %d",
			       (int)ev->type);
	bad = ev->set & ~sp->allowed;
	if (bad) {
		*field = __builtin_ctzll(bad);
		return why_set(why, why_len, "field '%s' is not allowed in %s",
			       fields[*field].name, tn);
	}
	missing = sp->required & ~ev->set;
	if (missing) {
		*field = __builtin_ctzll(missing);
		return why_set(why, why_len, "%s requires field '%s'", tn,
			       fields[*field].name);
	}

	for (size_t i = 0; i < sizeof(closed_sets) / sizeof(closed_sets[0]); i++) {
		enum jv_event_field f = closed_sets[i].field;
		const char *v;

		if (closed_sets[i].type != ev->type ||
		    !(ev->set & ((uint64_t)1 << f)))
			continue;
		v = jv_evl_field_str(ev, f);
		*field = f;
		if (!in_set(v, closed_sets[i].values))
			return why_set(why, why_len,
				       "field '%s' of %s must be one of %s, %s%s",
				       fields[f].name, tn,
				       closed_sets[i].values[0],
				       closed_sets[i].values[1],
				       closed_sets[i].values[2] ? ", ..." : "");
	}

	*field = JV_F_peer_public_key;
	/* null, like any string field, says "not known" */
	if (JV_EV_HAS(ev, peer_public_key) && ev->peer_public_key &&
	    !key_b64_ok(ev->peer_public_key))
		return why_set(why, why_len, "field '%s' of %s must be a "
			       "public key in base64 (44 characters)",
			       fields[*field].name, tn);
	*field = JV_F_remote_addr;
	if (JV_EV_HAS(ev, remote_addr) && ev->remote_addr &&
	    !addr_ok(ev->remote_addr))
		return why_set(why, why_len, "field '%s' of %s must be "
			       "IP:PORT or [IPv6]:PORT", fields[*field].name,
			       tn);

	switch (sp->reason_rule) {
	case JV_REASON_REQUIRED:
		need_reason = true;
		break;
	case JV_REASON_ON_STATUS:
		need_reason = JV_EV_HAS(ev, status) && ev->status &&
			      strcmp(ev->status, sp->reason_status) == 0;
		break;
	default:
		need_reason = false;
		break;
	}
	*field = JV_F_reason_code;
	if (need_reason && !JV_EV_HAS(ev, reason_code))
		return why_set(why, why_len, "%s%s%s requires a reason_code "
			       "(INV-13)", tn,
			       sp->reason_rule == JV_REASON_ON_STATUS ?
			       " with status " : "",
			       sp->reason_rule == JV_REASON_ON_STATUS ?
			       sp->reason_status : "");
	if (JV_EV_HAS(ev, reason_code)) {
		if (!jv_reason_name(ev->reason_code))
			return why_set(why, why_len, "reason_code %d is not in "
				       "the catalogue", (int)ev->reason_code);
		if (sp->reasons &&
		    !(sp->reasons & JV_REASON_BIT(ev->reason_code)))
			return why_set(why, why_len, "reason_code '%s' is not "
				       "one %s may carry",
				       jv_reason_name(ev->reason_code), tn);
	}
	*field = -1;
	return 0;
}

int jv_event_check(const struct jv_event *ev, char *why, size_t why_len)
{
	int field;

	return jv_evl_check_event(ev, why, why_len, &field);
}

size_t jv_evl_field_offset(enum jv_event_field f)
{
	return fields[f].offset;
}

/* ---- helpers shared with the writer and the reader ------------------- */

bool jv_evl_is_lower_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool jv_evl_text_ok(const char *s, size_t max)
{
	return s && s[0] && strlen(s) < max;
}

bool jv_evl_is_detail(enum jv_event_field f)
{
	return strncmp(jv_event_field_name(f), "details.", 8) == 0;
}

bool jv_evl_get_u64(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}
