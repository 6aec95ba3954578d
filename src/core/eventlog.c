/* SPDX-License-Identifier: MIT */
/*
 * The event log (spec §8, PD-1): per-type tables, the line writer with its
 * hash chain, the strict reader and the chain checker.  The tables are the
 * one place that says which fields and reason codes an event type may
 * carry; the writer, the reader, `jvpn events-doc` and the audit all read
 * them.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jvpn/eventlog.h"

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
		.allowed = BASE | F(state) | F(policy),
		.required = F(state),
		.reason_rule = JV_REASON_FORBIDDEN,
		.emitted = "Session record created (state BIRTH, state_version 0); details.policy holds the policy snapshot.",
	},
	[JV_EV_SESSION_STATE_CHANGE] = {
		.allowed = BASE | F(reason_code) | F(previous_state) |
			   F(new_state) | F(from_transport) |
			   F(candidate_set_size) | F(candidate_transport) |
			   F(loss_ratio) | F(latency_estimate_ms) |
			   F(consecutive_drops) | F(heartbeat_age_ms) |
			   F(origin),
		.required = F(previous_state) | F(new_state),
		.reason_rule = JV_REASON_REQUIRED,
		.emitted = "Every committed transition, exactly once per state_version (into RECOVERING also from_transport, candidate_set_size, candidate_transport).",
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
			   F(switch_latency_ms) | F(explicit) | F(auditable),
		.required = F(previous_transport) | F(new_transport),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(REATTACH_SUCCESS),
		.emitted = "Binding changed by a validated reattach (T40); previous_transport is null if there was none.",
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
			   R(POLICY_TRIGGER) | R(SECURITY_EVENT),
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
			   F(actual_state_version),
		.reason_rule = JV_REASON_REQUIRED,
		.reasons = R(STALE_STATE_VERSION) | R(NOT_AUTHORITATIVE_OWNER) |
			   R(ATOMICITY_FAILED),
		.emitted = "CAS lost or ownership unprovable (V2, C).",
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
};

const char *const *jv_event_field_values(enum jv_event_type t,
					 enum jv_event_field f)
{
	for (size_t i = 0; i < sizeof(closed_sets) / sizeof(closed_sets[0]); i++)
		if (closed_sets[i].type == t && closed_sets[i].field == f)
			return closed_sets[i].values;
	return NULL;
}

static const void *field_ptr(const struct jv_event *ev, enum jv_event_field f)
{
	return (const char *)ev + fields[f].offset;
}

static const char *field_str(const struct jv_event *ev, enum jv_event_field f)
{
	const char *s;

	memcpy(&s, field_ptr(ev, f), sizeof(s));
	return s;
}

static bool in_set(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
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
static int check_event(const struct jv_event *ev, char *why, size_t why_len,
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
		v = field_str(ev, f);
		*field = f;
		if (!in_set(v, closed_sets[i].values))
			return why_set(why, why_len,
				       "field '%s' of %s must be one of %s, %s%s",
				       fields[f].name, tn,
				       closed_sets[i].values[0],
				       closed_sets[i].values[1],
				       closed_sets[i].values[2] ? ", ..." : "");
	}

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

	return check_event(ev, why, why_len, &field);
}

/* ---- writer ----------------------------------------------------------- */

#define JV_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | \
		       JSON_REAL_PRECISION(15))

static bool is_lower_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool text_ok(const char *s, size_t max)
{
	return s && s[0] && strlen(s) < max;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2)
		return 0;
	need = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	if (!need || n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return need;
}

/* A JSON string of s, every byte of an invalid UTF-8 sequence replaced by
 * U+FFFD.  NULL only on allocation failure. */
static json_t *json_text(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, k;
	char *tmp;
	json_t *j;

	while (i < n && (k = utf8_seq(u + i, n - i)) > 0)
		i += k;
	if (i == n)
		return json_stringn_nocheck(s, n);
	tmp = malloc(3 * n + 1);
	if (!tmp)
		return NULL;
	for (i = 0; i < n;) {
		k = utf8_seq(u + i, n - i);
		if (k) {
			memcpy(tmp + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(tmp + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn_nocheck(tmp, o);
	free(tmp);
	return j;
}

/* jansson integers are signed 64-bit: NULL above 2^63-1 */
static json_t *json_u64(uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return NULL;
	return json_integer((json_int_t)v);
}

static bool is_detail(enum jv_event_field f)
{
	return strncmp(fields[f].name, "details.", 8) == 0;
}

static uint64_t detail_mask(void)
{
	uint64_t m = 0;

	for (int f = 0; f < JV_F_COUNT; f++)
		if (is_detail((enum jv_event_field)f))
			m |= (uint64_t)1 << f;
	return m;
}

/* JSON value of field f; NULL with *rc set on failure. */
static json_t *field_json(const struct jv_event *ev, enum jv_event_field f,
			  int *rc)
{
	const void *p = field_ptr(ev, f);
	json_t *j = NULL;

	*rc = JV_ERR_NOMEM;
	switch (fields[f].kind) {
	case JV_KIND_STR: {
		const char *s = field_str(ev, f);

		return s ? json_text(s) : json_null();
	}
	case JV_KIND_U64: {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		if (v > (uint64_t)INT64_MAX)
			*rc = JV_ERR_INVAL;
		return json_u64(v);
	}
	case JV_KIND_F64: {
		double v;

		memcpy(&v, p, sizeof(v));
		if (!isfinite(v)) {
			*rc = JV_ERR_INVAL;
			return NULL;
		}
		return json_real(v);
	}
	case JV_KIND_BOOL: {
		bool v;

		memcpy(&v, p, sizeof(v));
		return json_boolean(v);
	}
	case JV_KIND_STATE: {
		enum jv_state v;

		memcpy(&v, p, sizeof(v));
		if (!jv_state_name(v)) {
			*rc = JV_ERR_INVAL;
			return NULL;
		}
		return json_string(jv_state_name(v));
	}
	case JV_KIND_REASON:
		/* checked by jv_event_check */
		return json_string(jv_reason_name(ev->reason_code));
	case JV_KIND_POLICY:
		if (ev->policy)
			j = jv_policy_to_json(ev->policy);
		if (!j)
			*rc = JV_ERR_INVAL;
		return j;
	}
	*rc = JV_ERR_INVAL;
	return NULL;
}

/* Add the present fields, top level (details == false) or details.x. */
static int add_fields(json_t *obj, const struct jv_event *ev, bool details)
{
	int rc;

	for (int f = 0; f < JV_F_COUNT; f++) {
		const char *name = fields[f].name;
		json_t *v;

		if (!(ev->set & ((uint64_t)1 << f)) ||
		    is_detail((enum jv_event_field)f) != details)
			continue;
		v = field_json(ev, (enum jv_event_field)f, &rc);
		if (!v)
			return rc;
		if (json_object_set_new_nocheck(obj, details ? name + 8 : name,
						v))
			return JV_ERR_NOMEM;
	}
	return 0;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new_nocheck(obj, key, v) ? JV_ERR_NOMEM : 0;
}

int jv_event_format(const struct jv_event_origin *origin,
		    const struct jv_event *ev, uint64_t seq,
		    const char *prev_hash, char *buf, size_t cap, size_t *len)
{
	json_t *root = NULL, *details = NULL;
	size_t need;
	int rc;

	if (!len)
		return JV_ERR_INVAL;
	*len = 0;
	if (!origin || !ev || !buf ||
	    !is_lower_hex(origin->session_id, 2 * JV_SESSION_ID_BYTES) ||
	    !text_ok(origin->node_id, JV_NODE_ID_MAX) ||
	    !text_ok(origin->policy_version, JV_POLICY_VERSION_MAX) ||
	    (origin->role != JV_ROLE_CLIENT && origin->role != JV_ROLE_GATEWAY) ||
	    !is_lower_hex(prev_hash, JV_HASH_HEX - 1) ||
	    ev->ts_ms > (uint64_t)INT64_MAX ||
	    ev->state_version > (uint64_t)INT64_MAX || seq > (uint64_t)INT64_MAX)
		return JV_ERR_INVAL;
	rc = jv_event_check(ev, NULL, 0);
	if (rc)
		return rc;

	rc = JV_ERR_NOMEM;
	root = json_object();
	if (!root)
		goto out;
	if ((rc = set_new(root, "ts_ms", json_u64(ev->ts_ms))) ||
	    (rc = set_new(root, "event_type",
			  json_string(jv_event_type_name(ev->type)))) ||
	    (rc = set_new(root, "session_id", json_string(origin->session_id))) ||
	    (rc = set_new(root, "node_id", json_text(origin->node_id))) ||
	    (rc = set_new(root, "role", json_string(jv_role_name(origin->role)))) ||
	    (rc = set_new(root, "policy_version",
			  json_text(origin->policy_version))) ||
	    (rc = set_new(root, "state_version", json_u64(ev->state_version))) ||
	    (rc = add_fields(root, ev, false)))
		goto out;
	if (ev->set & detail_mask()) {
		rc = JV_ERR_NOMEM;
		details = json_object();
		if (!details || (rc = add_fields(details, ev, true)))
			goto out;
		rc = set_new(root, "details", details);
		details = NULL;		/* owned by root, even on failure */
		if (rc)
			goto out;
	}
	if ((rc = set_new(root, "seq", json_u64(seq))) ||
	    (rc = set_new(root, "prev_hash", json_string(prev_hash))))
		goto out;

	/* size first, so a short buffer is left untouched */
	rc = JV_ERR_NOMEM;
	need = json_dumpb(root, NULL, 0, JV_JSON_FLAGS);
	if (need == 0)
		goto out;
	rc = JV_ERR_NOSPACE;
	if (need >= cap)
		goto out;
	rc = JV_ERR_NOMEM;
	if (json_dumpb(root, buf, need, JV_JSON_FLAGS) != need)
		goto out;
	buf[need] = '\0';
	*len = need;
	rc = 0;
out:
	json_decref(details);
	json_decref(root);
	return rc;
}

void jv_eventlog_hash(const char *line, size_t len, char out[JV_HASH_HEX])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)line, len,
			   NULL, 0);
	sodium_bin2hex(out, JV_HASH_HEX, h, sizeof(h));
}

void jv_eventlog_init(struct jv_eventlog *log, struct jv_sink sink)
{
	memset(log, 0, sizeof(*log));
	log->sink = sink;
	memset(log->prev_hash, '0', JV_HASH_HEX - 1);
}

void jv_eventlog_append(struct jv_eventlog *log,
			const struct jv_event_origin *origin,
			const struct jv_event *ev)
{
	size_t len;
	int rc;

	/* cap leaves one byte after the line for '\n' (it replaces the NUL) */
	rc = jv_event_format(origin, ev, log->seq, log->prev_hash, log->line,
			     sizeof(log->line), &len);
	/* The chain advances whatever happens next, so that any line that
	 * does not reach the file is visible to the auditor (PD-1): a seq
	 * gap, and for a sink failure also a prev_hash break. */
	log->seq++;
	if (rc) {
		log->rejected++;
		return;
	}
	jv_eventlog_hash(log->line, len, log->prev_hash);
	log->line[len] = '\n';
	/* best effort, never retried nor reported (§8.4) */
	if (!log->sink.write || log->sink.write(log->sink.ud, log->line, len + 1))
		log->sink_failures++;
	else
		log->lines_written++;
}

/* ---- reader ----------------------------------------------------------- */

static int perr(struct jv_diag *d, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The parser does not know the line number: the caller sets d->line. */
static int perr(struct jv_diag *d, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jv_diag_vset(d, 0, key, fmt, ap);
	va_end(ap);
	return JV_ERR_PARSE;
}

static bool get_u64(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

enum base_kind { B_U64, B_TYPE, B_SID, B_NODE, B_ROLE, B_PV, B_HASH };

static const struct {
	const char *key;
	enum base_kind kind;
} base_fields[] = {
	{ "ts_ms", B_U64 }, { "event_type", B_TYPE }, { "session_id", B_SID },
	{ "node_id", B_NODE }, { "role", B_ROLE }, { "policy_version", B_PV },
	{ "state_version", B_U64 }, { "seq", B_U64 }, { "prev_hash", B_HASH },
};

static bool is_base(const char *key)
{
	for (size_t i = 0; i < sizeof(base_fields) / sizeof(base_fields[0]); i++)
		if (strcmp(base_fields[i].key, key) == 0)
			return true;
	return false;
}

static int parse_base(struct jv_parsed_event *out, struct jv_diag *d)
{
	for (size_t i = 0; i < sizeof(base_fields) / sizeof(base_fields[0]); i++) {
		const char *k = base_fields[i].key;
		const json_t *v = json_object_get(out->root, k);
		const char *s = json_string_value(v);
		uint64_t u = 0;
		int t;

		if (!v)
			return perr(d, k, "missing base field");
		if (base_fields[i].kind == B_U64) {
			if (!get_u64(v, &u))
				return perr(d, k, "must be an integer >= 0");
		} else if (!s) {
			return perr(d, k, "must be a string");
		}
		switch (base_fields[i].kind) {
		case B_U64:
			if (i == 0)
				out->ev.ts_ms = u;
			else if (strcmp(k, "seq") == 0)
				out->seq = u;
			else
				out->ev.state_version = u;
			break;
		case B_TYPE:
			t = jv_event_type_from_name(s);
			if (t < 0)
				return perr(d, k, "unknown event type '%.64s'", s);
			out->ev.type = (enum jv_event_type)t;
			break;
		case B_SID:
			if (!is_lower_hex(s, 2 * JV_SESSION_ID_BYTES))
				return perr(d, k, "must be 32 lowercase hex digits");
			out->origin.session_id = s;
			break;
		case B_NODE:
		case B_PV: {
			size_t max = base_fields[i].kind == B_NODE ?
				     JV_NODE_ID_MAX : JV_POLICY_VERSION_MAX;

			if (!text_ok(s, max))
				return perr(d, k, "must hold 1 to %zu bytes",
					    max - 1);
			if (base_fields[i].kind == B_NODE)
				out->origin.node_id = s;
			else
				out->origin.policy_version = s;
			break;
		}
		case B_ROLE:
			if (strcmp(s, "client") == 0)
				out->origin.role = JV_ROLE_CLIENT;
			else if (strcmp(s, "gateway") == 0)
				out->origin.role = JV_ROLE_GATEWAY;
			else
				return perr(d, k, "must be \"client\" or \"gateway\"");
			break;
		case B_HASH:
			if (!is_lower_hex(s, JV_HASH_HEX - 1))
				return perr(d, k, "must be 64 lowercase hex digits");
			memcpy(out->prev_hash, s, JV_HASH_HEX);
			break;
		}
	}
	return 0;
}

static int parse_field(struct jv_parsed_event *out, enum jv_event_field f,
		       const json_t *v, struct jv_diag *d)
{
	const char *name = fields[f].name;
	void *p = (char *)&out->ev + fields[f].offset;
	const char *s = json_string_value(v);
	uint64_t u;
	double x;
	bool b;
	int t;

	if (!(jv_event_spec(out->ev.type)->allowed & ((uint64_t)1 << f)))
		return perr(d, name, "field not allowed in %s",
			    jv_event_type_name(out->ev.type));
	switch (fields[f].kind) {
	case JV_KIND_STR:
		if (!s && !json_is_null(v))
			return perr(d, name, "must be a string or null");
		memcpy(p, &s, sizeof(s));
		break;
	case JV_KIND_U64:
		if (!get_u64(v, &u))
			return perr(d, name, "must be an integer >= 0");
		memcpy(p, &u, sizeof(u));
		break;
	case JV_KIND_F64:
		if (!json_is_number(v))
			return perr(d, name, "must be a number");
		x = json_number_value(v);
		memcpy(p, &x, sizeof(x));
		break;
	case JV_KIND_BOOL:
		if (!json_is_boolean(v))
			return perr(d, name, "must be true or false");
		b = json_is_true(v);
		memcpy(p, &b, sizeof(b));
		break;
	case JV_KIND_STATE: {
		enum jv_state st;

		if (!s)
			return perr(d, name, "must be a state name");
		t = jv_state_from_name(s);
		if (t < 0)
			return perr(d, name, "unknown state '%.64s'", s);
		st = (enum jv_state)t;
		memcpy(p, &st, sizeof(st));
		break;
	}
	case JV_KIND_REASON:
		if (!s)
			return perr(d, name, "must be a reason code string");
		out->ev.reason_code = jv_reason_from_name(s);
		if (out->ev.reason_code == JV_REASON_NONE)
			return perr(d, name, "unknown reason code '%.64s'", s);
		break;
	case JV_KIND_POLICY: {
		struct jv_diag pd;
		char text[JV_DIAG_TEXT_MAX];

		if (!json_is_object(v))
			return perr(d, name, "must be a policy object");
		jv_diag_clear(&pd);
		if (jv_policy_from_json(v, &out->policy, &pd)) {
			if (jv_diag_format(&pd, text, sizeof(text)) < 0 &&
			    !text[0])
				snprintf(text, sizeof(text), "not a valid policy");
			return perr(d, name, "invalid policy: %s", text);
		}
		out->policy_json = v;
		out->ev.policy = &out->policy;
		break;
	}
	}
	out->ev.set |= (uint64_t)1 << f;
	return 0;
}

static int parse_details(struct jv_parsed_event *out, const json_t *det,
			 struct jv_diag *d)
{
	const char *key;
	json_t *v;
	char name[64];
	int f, rc;

	if (!json_is_object(det))
		return perr(d, "details", "must be an object");
	json_object_foreach((json_t *)det, key, v) {
		snprintf(name, sizeof(name), "details.%s", key);
		f = jv_event_field_from_name(name);
		if (f < 0)
			return perr(d, name, "unknown field");
		rc = parse_field(out, (enum jv_event_field)f, v, d);
		if (rc)
			return rc;
	}
	return 0;
}

int jv_event_parse(const char *line, size_t len, struct jv_parsed_event *out,
		   struct jv_diag *d)
{
	json_error_t err;
	const char *key;
	char why[200];
	json_t *v;
	int f, rc;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return perr(d, "line", "empty line");
	if (memchr(line, '\n', len) || memchr(line, '\r', len))
		return perr(d, "line", "line break inside the line");
	if (memchr(line, '\0', len))
		return perr(d, "line", "NUL byte inside the line");
	out->root = json_loadb(line, len, JSON_REJECT_DUPLICATES |
			       JSON_DISABLE_EOF_CHECK, &err);
	if (!out->root) {
		if (json_error_code(&err) == json_error_out_of_memory)
			return JV_ERR_NOMEM;
		return perr(d, "line", "not valid JSON at byte %d: %s",
			    err.position, err.text);
	}
	rc = perr(d, "line", "trailing data after the JSON object at byte %d",
		  err.position);
	if ((size_t)err.position != len)
		goto fail;
	rc = perr(d, "line", "not a JSON object");
	if (!json_is_object(out->root))
		goto fail;
	rc = parse_base(out, d);
	if (rc)
		goto fail;
	json_object_foreach(out->root, key, v) {
		if (is_base(key))
			continue;
		if (strcmp(key, "details") == 0) {
			rc = parse_details(out, v, d);
		} else {
			f = jv_event_field_from_name(key);
			if (f < 0 || is_detail((enum jv_event_field)f))
				rc = perr(d, key, "unknown field");
			else
				rc = parse_field(out, (enum jv_event_field)f,
						 v, d);
		}
		if (rc)
			goto fail;
	}
	rc = check_event(&out->ev, why, sizeof(why), &f);
	if (rc) {
		rc = perr(d, f >= 0 ? fields[f].name : "event_type", "%s", why);
		goto fail;
	}
	jv_diag_clear(d);
	return 0;
fail:
	jv_parsed_event_free(out);
	return rc;
}

void jv_parsed_event_free(struct jv_parsed_event *p)
{
	json_decref(p->root);
	memset(p, 0, sizeof(*p));
}

/* ---- chain checker ---------------------------------------------------- */

void jv_chain_check_init(struct jv_chain_check *st)
{
	memset(st, 0, sizeof(*st));
	memset(st->prev_hash, '0', JV_HASH_HEX - 1);
}

int jv_chain_check_line(struct jv_chain_check *st, const char *line,
			size_t len, unsigned lineno, struct jv_diag *d)
{
	char h[JV_HASH_HEX];
	const char *ph = NULL;
	json_error_t err;
	json_t *root;
	uint64_t seq = 0;
	int rc = 0;

	st->lines++;
	jv_eventlog_hash(line, len, h);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (root)
		ph = json_string_value(json_object_get(root, "prev_hash"));
	if (!root || !get_u64(json_object_get(root, "seq"), &seq) ||
	    !is_lower_hex(ph, JV_HASH_HEX - 1)) {
		jv_diag_set(d, lineno, "line", "no readable seq and prev_hash: "
			    "the chain cannot be checked here");
		/* resynchronise as if it were the expected line */
		seq = st->next_seq;
		rc = JV_ERR_PARSE;
	} else if (seq > st->next_seq) {
		jv_diag_set(d, lineno, "seq", "seq gap: expected %llu, found "
			    "%llu (%llu line(s) missing)",
			    (unsigned long long)st->next_seq,
			    (unsigned long long)seq,
			    (unsigned long long)(seq - st->next_seq));
		rc = JV_ERR_AUTH;
	} else if (seq < st->next_seq) {
		jv_diag_set(d, lineno, "seq", "seq goes back: expected %llu, "
			    "found %llu (line reordered or duplicated)",
			    (unsigned long long)st->next_seq,
			    (unsigned long long)seq);
		rc = JV_ERR_AUTH;
	} else if (strcmp(ph, st->prev_hash) != 0) {
		if (st->next_seq == 0)
			jv_diag_set(d, lineno, "prev_hash", "first line of a "
				    "file must have 64 zeros");
		else
			jv_diag_set(d, lineno, "prev_hash", "not the hash of "
				    "the previous line: that line was edited, "
				    "or this one replaced another");
		rc = JV_ERR_AUTH;
	}
	if (rc)
		st->errors++;
	st->next_seq = seq + 1;
	memcpy(st->prev_hash, h, JV_HASH_HEX);
	json_decref(root);
	return rc;
}
