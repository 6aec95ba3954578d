/* SPDX-License-Identifier: MIT */
#ifndef JVPN_POLICY_H
#define JVPN_POLICY_H

/*
 * The validated policy of spec §4/§5: every timer, threshold and switch
 * limit that bounds adaptation.  A session holds an immutable snapshot.
 * Field comments give the spec name; units are in the member names.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "error.h"
#include "limits.h"

enum jv_proto {
	JV_PROTO_UDP = 1u << 0,
	JV_PROTO_QUIC = 1u << 1,
	JV_PROTO_TCP = 1u << 2,
};

#define JV_PROTO_ALL (JV_PROTO_UDP | JV_PROTO_QUIC | JV_PROTO_TCP)

enum jv_policy_change_mode {
	JV_POLICY_CHANGE_STRICT,
	JV_POLICY_CHANGE_GRACE,
	JV_POLICY_CHANGE_COUNT,
};

/* PD-3: named presets; a policy records the one it started from. */
enum jv_policy_profile {
	JV_PROFILE_DEFAULT,	/* spec §4 defaults */
	JV_PROFILE_FAST,	/* PD-3 interactive timers */
	JV_PROFILE_COUNT,
};

/*
 * Upper caps the seed does not give ([R], spec §4 / OP-12): they keep
 * lifetimes, TTLs and switch rate finite (§5 (4)) and every value inside
 * the fixed-size structures that hold it.
 */
#define JV_POLICY_MS_CAP 604800000u		/* every _ms value: 7 days */
#define JV_POLICY_SWITCHES_CAP JV_SWITCH_HISTORY_MAX	/* ring of switch times */
#define JV_POLICY_CANDIDATES_CAP JV_MAX_TRANSPORTS	/* 16 */
#define JV_POLICY_REPLAY_WINDOW_CAP 4096u	/* bitmap bits per session */
#define JV_POLICY_OFF (-1.0)			/* candidate_score_threshold off */

struct jv_policy {
	char version[16];			/* `version`, "X.Y" */

	/* session */
	uint64_t max_lifetime_ms;		/* SESSION_MAX_LIFETIME_MS */
	uint64_t transport_lost_ttl_ms;		/* TRANSPORT_LOST_TTL_MS */

	/* volatility */
	uint64_t heartbeat_interval_ms;		/* HEARTBEAT_INTERVAL_MS */
	uint64_t heartbeat_volatile_ms;		/* HEARTBEAT_VOLATILE_MS */
	uint64_t transport_dead_ms;		/* TRANSPORT_DEAD_MS */
	uint64_t loss_window_ms;		/* LOSS_WINDOW_MS */
	double loss_volatile_threshold;		/* LOSS_VOLATILE_THRESHOLD */
	uint32_t min_loss_samples;		/* MIN_LOSS_SAMPLES */
	uint32_t max_consecutive_drops;		/* MAX_CONSECUTIVE_DROPS */
	uint64_t volatile_to_degraded_ms;	/* VOLATILE_TO_DEGRADED_MS */
	uint64_t latency_window_ms;		/* LATENCY_WINDOW_MS */
	uint64_t latency_volatile_threshold_ms;	/* 0 = off */
	uint64_t standby_probe_interval_ms;	/* PD-4 */

	/* switching */
	uint32_t max_switches_per_min;		/* 0 = switching disabled */
	uint64_t switch_cooldown_ms;		/* SWITCH_COOLDOWN_MS */
	uint64_t recovery_window_ms;		/* RECOVERY_WINDOW_MS */
	double switch_improvement_factor;	/* SWITCH_IMPROVEMENT_FACTOR */
	uint32_t flap_penalty;			/* FLAP_PENALTY, 0 = no damping (PD-7) */
	uint64_t flap_half_life_ms;		/* FLAP_HALF_LIFE_MS */
	uint32_t flap_suppress;			/* FLAP_SUPPRESS */
	uint32_t flap_reuse;			/* FLAP_REUSE */
	uint64_t failback_stable_ms;		/* 0 = no fail-back (PD-7) */

	/* transport */
	bool enforce_hysteresis;		/* ENFORCE_HYSTERESIS */
	uint32_t allowed_protocols;		/* enum jv_proto bits */
	uint32_t max_candidate_count;		/* MAX_CANDIDATE_COUNT */
	uint32_t candidate_min_count;		/* CANDIDATE_MIN_COUNT */
	double candidate_score_threshold;	/* < 0 = off */
	uint64_t candidate_ttl_ms;		/* CANDIDATE_TTL_MS */

	/* security */
	uint64_t reattach_proof_max_age_ms;	/* REATTACH_PROOF_MAX_AGE_MS */
	uint32_t replay_window_size;		/* REPLAY_WINDOW_SIZE */
	uint32_t max_nonce_gap;			/* MAX_NONCE_GAP */
	bool strict_validation;			/* must be true */
	uint64_t key_max_age_ms;		/* 0 = unset (= lifetime) */
	uint32_t max_security_failures;		/* 0 = never terminate on count */
	double control_rate_per_sec;		/* CONTROL_RATE_PER_SEC */
	uint32_t control_rate_burst;		/* CONTROL_RATE_BURST */
	uint64_t rekey_interval_ms;		/* OP-11 bound between rekeys */

	/* cluster */
	uint64_t owner_lease_ms;		/* OWNER_LEASE_MS, 0 = no cluster */

	/* observability */
	bool emit_switch_metrics;
	bool include_latency_metrics;
	bool emit_security_events;		/* must be true */

	enum jv_policy_change_mode change_mode;	/* policy_change_mode [R] */
	enum jv_policy_profile profile;		/* `profile`: preset it started from */
};

/* ---- presets and validation ------------------------------------------ */

/* The `default` profile: the spec §4 defaults (valid by construction). */
void jv_policy_default(struct jv_policy *p);

/*
 * Fill p with the named profile (PD-3): "default" or "fast".  PD-4's
 * standby_probe_interval_ms follows the profile's heartbeat interval.
 * Returns 0, JV_ERR_INVAL (unknown name; d names key "profile").
 */
JV_MUST_CHECK int jv_policy_profile(struct jv_policy *p, const char *name,
				    struct jv_diag *d);

/*
 * Validation of spec §5: every field inside its §4 "Valid" range (in
 * table order), then every cross-field relation (in relation-table
 * order), core invariants included.  The first failure goes to d: key =
 * the field, value = its value, msg = the rule, e.g.
 * "volatility.heartbeat_volatile_ms = 400: must be >
 * volatility.heartbeat_interval_ms (500)".
 * Returns 0, JV_ERR_INVAL.
 */
JV_MUST_CHECK int jv_policy_validate(const struct jv_policy *p,
				     struct jv_diag *d);

/* Field by field equality (reals compared with ==; padding ignored). */
bool jv_policy_equal(const struct jv_policy *a, const struct jv_policy *b);

/*
 * May p replace `in_force` at run time (spec §5, D-026)?  What
 * jv_gateway_set_policy / jv_client_set_policy refuse, with the reason
 * for the operator: p invalid (d as jv_policy_validate), or p has the
 * version of in_force with other values (key "version"; msg names the
 * first field that differs: a changed policy needs a new version).  The
 * engine also refuses the version a live session still runs in grace
 * mode with other values; this check knows only in_force.
 * Returns 0, JV_ERR_INVAL.
 */
JV_MUST_CHECK int jv_policy_change_check(const struct jv_policy *in_force,
					 const struct jv_policy *p,
					 struct jv_diag *d);

/* Names; *_from_name return -1 for an unknown or NULL name. */
const char *jv_policy_profile_name(enum jv_policy_profile prof);
int jv_policy_profile_from_name(const char *name);
const char *jv_policy_change_mode_name(enum jv_policy_change_mode m);
int jv_policy_change_mode_from_name(const char *name);
const char *jv_proto_name(enum jv_proto proto);	/* one bit only */
int jv_proto_from_name(const char *name);

/* ---- the field table ------------------------------------------------- */

/*
 * One row per policy key: the INI key, the JSON key, the doc and the
 * validator all read it, so they cannot drift.
 */
enum jv_policy_kind {
	JV_PK_VERSION,		/* char[16], "X.Y" */
	JV_PK_MS,		/* uint64_t milliseconds */
	JV_PK_COUNT,		/* uint32_t */
	JV_PK_REAL,		/* double: ratio, factor, rate or score */
	JV_PK_BOOL,		/* bool */
	JV_PK_PROTOS,		/* uint32_t set of enum jv_proto */
	JV_PK_MODE,		/* enum jv_policy_change_mode */
	JV_PK_PROFILE,		/* enum jv_policy_profile */
};

enum jv_policy_field_flag {
	JV_PF_REQUIRED = 1u << 0,	/* §5 required (see jv_policy_ini) */
	JV_PF_MIN_OPEN = 1u << 1,	/* REAL: range is (min, max] */
	JV_PF_OFF = 1u << 2,		/* REAL: "off" / null = JV_POLICY_OFF */
	JV_PF_CORE = 1u << 3,		/* §5 (4) core invariant */
};

struct jv_policy_field {
	const char *key;		/* INI and JSON key */
	const char *spec_name;		/* spec §4 parameter, or "" */
	enum jv_policy_kind kind;
	unsigned flags;			/* enum jv_policy_field_flag */
	size_t offset;			/* in struct jv_policy */
	size_t size;			/* of the member */
	uint64_t imin, imax;		/* integer kinds, BOOL (0/1), PROTOS */
	uint64_t idef, ifast;		/* defaults: `default` and `fast` */
	double dmin, dmax, ddef;	/* REAL */
	const char *sdef;		/* VERSION default */
	const char *unit;
	const char *meaning;		/* one line */
};

/* A cross-field rule: field a <op> mult x field b (skipped if a_zero_off
 * and a is 0, i.e. unset).  a and b index the field table. */
enum jv_policy_rel_op { JV_REL_GT, JV_REL_GE, JV_REL_LT, JV_REL_LE };

struct jv_policy_rel {
	size_t a, b;
	enum jv_policy_rel_op op;
	unsigned mult;
	bool a_zero_off;
	const char *why;		/* spec reference */
};

size_t jv_policy_field_count(void);
const struct jv_policy_field *jv_policy_field_at(size_t i); /* NULL past end */
const struct jv_policy_field *jv_policy_field_find(const char *key);
size_t jv_policy_rel_count(void);
const struct jv_policy_rel *jv_policy_rel_at(size_t i);	/* NULL past end */

/*
 * Text forms, snprintf-like: each returns the length written (without
 * NUL), JV_ERR_NOSPACE if buf was too small, JV_ERR_INVAL on bad input.
 *  - field_format: the value of f in p as INI accepts it back exactly
 *    ("500", "0.2", "off", "true", "udp, quic", "strict");
 *  - field_range: f's own valid range ("[10, 604800000]", "(0, 1]",
 *    "[0, 100] or off", "true (core invariant)", ...);
 *  - rel_format: the rule as seen from field a
 *    (">= 2 x volatility.heartbeat_interval_ms").
 */
JV_MUST_CHECK int jv_policy_field_format(const struct jv_policy_field *f,
					 const struct jv_policy *p,
					 char *buf, size_t n);
JV_MUST_CHECK int jv_policy_field_range(const struct jv_policy_field *f,
					char *buf, size_t n);
JV_MUST_CHECK int jv_policy_rel_format(const struct jv_policy_rel *r,
				       char *buf, size_t n);

/* ---- INI (the [Policy] section; STYLE.md item 11) --------------------- */

#define JV_POLICY_FIELDS_MAX 64		/* bits of jv_policy_ini.set */

/*
 * Streaming reader: init, one call per key line, finish.  Required
 * fields (§5): with no `profile` key, all seven of §5 must be present;
 * with a `profile` key the profile supplies them and only `version` is
 * required.  finish starts from the profile (default if none), overlays
 * the keys that were set (so key order does not matter), resolves PD-4
 * (standby_probe_interval_ms = heartbeat_interval_ms unless set), checks
 * the required fields, then validates the result as one policy.
 */
struct jv_policy_ini {
	struct jv_policy vals;			/* values of the keys set */
	uint64_t set;				/* bit i: field i was set */
	unsigned line[JV_POLICY_FIELDS_MAX];	/* where field i was set */
};

void jv_policy_ini_init(struct jv_policy_ini *st);

/*
 * One `key = value` of the [Policy] section (line is for messages; 0 =
 * none).  Rejects an unknown key (suggesting the closest one), a key
 * already set, and a value that does not parse: integers are decimal
 * digits only (no sign, no leading zero, no exponent, no overflow),
 * reals plain decimals ("0.25"), bools true/false, protocol lists
 * comma-separated names, enums their names.  Ranges are checked at
 * finish.  Returns 0, JV_ERR_PARSE, JV_ERR_INVAL (NULL argument).
 */
JV_MUST_CHECK int jv_policy_ini_line(struct jv_policy_ini *st,
				     const char *key, const char *value,
				     unsigned line, struct jv_diag *d);

/*
 * The policy (out is written only on success).  On a validation error d
 * carries the line of the offending key, or of the key it is compared
 * with when the offending one came from the profile.
 * Returns 0, JV_ERR_PARSE (required field missing), JV_ERR_INVAL
 * (validation failed).
 */
JV_MUST_CHECK int jv_policy_ini_finish(const struct jv_policy_ini *st,
				       struct jv_policy *out,
				       struct jv_diag *d);

/*
 * Whole text (a config file's content) through libinih: only the
 * [Policy] section (name compared case-insensitively) is read, other
 * sections are left to their owners; a key before any section is an
 * error; a text with no key in [Policy] yields the default profile.
 * Indented lines in [Policy] are rejected (inih would read them as a
 * continuation of the previous value).  filename (may be NULL) goes to
 * d->file.
 * Returns 0, JV_ERR_PARSE (malformed line, line too long, key outside a
 * section, unknown or duplicate key, bad value, required field missing),
 * JV_ERR_INVAL (validation failed or NULL argument), JV_ERR_NOMEM.
 */
JV_MUST_CHECK int jv_policy_load_ini(const char *text, const char *filename,
				     struct jv_policy *out,
				     struct jv_diag *d);

/* The same from len bytes (a file's contents): a NUL or another control
 * byte anywhere in them (jvpn/text.h) is refused with its line, where
 * jv_policy_load_ini would have stopped reading at a NUL. */
JV_MUST_CHECK int jv_policy_load_ini_n(const char *text, size_t len,
				       const char *filename,
				       struct jv_policy *out,
				       struct jv_diag *d);

/*
 * p as a complete [Policy] section (every key, table order), which
 * jv_policy_load_ini reads back equal.  Returns the length, or
 * JV_ERR_NOSPACE, JV_ERR_INVAL (a value with no INI form).
 */
JV_MUST_CHECK int jv_policy_to_ini(const struct jv_policy *p, char *buf,
				   size_t n);

/* ---- JSON (event log, audit) ------------------------------------------ */

typedef struct json_t json_t;	/* jansson */

/*
 * Object with every key of the table, typed: ms and counts as integers,
 * reals as reals (candidate_score_threshold off as null), bools, the
 * protocol set as an array of names, enums and version as strings.
 * p should be valid.  Returns a new reference, or NULL (no memory, or a
 * value beyond JSON's integer range).
 */
json_t *jv_policy_to_json(const struct jv_policy *p);

/*
 * The reverse, with the INI rules: unknown keys rejected, types strict
 * (ms and counts integers, reals any number), required fields as in
 * jv_policy_ini, then validated.  out is written only on success.
 * Returns 0, JV_ERR_PARSE, JV_ERR_INVAL.
 */
JV_MUST_CHECK int jv_policy_from_json(const json_t *j, struct jv_policy *out,
				      struct jv_diag *d);

#endif
