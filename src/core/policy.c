/* SPDX-License-Identifier: MIT */
/*
 * The policy of spec §4/§5: one table of every field (key, member, kind,
 * defaults of both PD-3 profiles, valid range, unit, meaning), one table
 * of cross-field relations, and the validator that walks both.  The INI
 * reader (policy_ini.c), the JSON codec (policy_json.c) and `jvpn
 * policy-doc` all read these tables, so key names, defaults and ranges
 * exist in exactly one place.
 *
 * The shared diagnostic (include/jvpn/diag.h) lives here too until it gets
 * its own src/core/diag.c.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jvpn/diag.h"
#include "jvpn/policy.h"
#include "policy_impl.h"

/* ---- diagnostics ------------------------------------------------------ */

/* strnlen is POSIX, not C17. */
static size_t bounded_len(const char *s, size_t max)
{
	const char *z = memchr(s, '\0', max);

	return z ? (size_t)(z - s) : max;
}

static void copy_trunc(char *dst, size_t n, const char *src)
{
	size_t len = src ? bounded_len(src, n - 1) : 0;

	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

void jv_diag_clear(struct jv_diag *d)
{
	if (d)
		memset(d, 0, sizeof(*d));
}

void jv_diag_file(struct jv_diag *d, const char *name)
{
	if (d)
		copy_trunc(d->file, sizeof(d->file), name);
}

void jv_diag_vset(struct jv_diag *d, unsigned line, const char *key,
		  const char *fmt, va_list ap)
{
	if (!d)
		return;
	d->line = line;
	copy_trunc(d->key, sizeof(d->key), key);
	d->value[0] = '\0';
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
}

void jv_diag_set(struct jv_diag *d, unsigned line, const char *key,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jv_diag_vset(d, line, key, fmt, ap);
	va_end(ap);
}

void jv_diag_value(struct jv_diag *d, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(d->value, sizeof(d->value), fmt, ap);
	va_end(ap);
}

/* snprintf that appends at *pos and keeps counting past the end of buf. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t n, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(*pos < n ? buf + *pos : NULL, *pos < n ? n - *pos : 0,
		      fmt, ap);
	va_end(ap);
	if (k > 0)
		*pos += (size_t)k;
}

int jv_diag_format(const struct jv_diag *d, char *buf, size_t n)
{
	size_t pos = 0;

	if (!d || (!buf && n))
		return JV_ERR_INVAL;
	if (n)
		buf[0] = '\0';
	if (d->file[0] && d->line)
		append(buf, n, &pos, "%s:%u: ", d->file, d->line);
	else if (d->file[0])
		append(buf, n, &pos, "%s: ", d->file);
	else if (d->line)
		append(buf, n, &pos, "line %u: ", d->line);
	if (d->key[0]) {
		append(buf, n, &pos, "%s", d->key);
		if (d->value[0])
			append(buf, n, &pos, " = %s", d->value);
		if (d->msg[0])
			append(buf, n, &pos, ": ");
	}
	append(buf, n, &pos, "%s", d->msg);
	if (pos >= n)
		return JV_ERR_NOSPACE;
	return (int)pos;
}

/* ---- the field table -------------------------------------------------- */

enum field_id {
	F_VERSION,
	F_MAX_LIFETIME,
	F_LOST_TTL,
	F_HB_INTERVAL,
	F_HB_VOLATILE,
	F_DEAD,
	F_LOSS_WINDOW,
	F_LOSS_THRESHOLD,
	F_MIN_LOSS_SAMPLES,
	F_MAX_DROPS,
	F_VOLATILE_TO_DEGRADED,
	F_LATENCY_WINDOW,
	F_LATENCY_THRESHOLD,
	F_STANDBY_PROBE,
	F_MAX_SWITCHES,
	F_COOLDOWN,
	F_RECOVERY_WINDOW,
	F_IMPROVEMENT,
	F_FLAP_PENALTY,
	F_FLAP_HALF_LIFE,
	F_FLAP_SUPPRESS,
	F_FLAP_REUSE,
	F_FAILBACK_STABLE,
	F_HYSTERESIS,
	F_PROTOCOLS,
	F_MAX_CANDIDATES,
	F_MIN_CANDIDATES,
	F_SCORE_THRESHOLD,
	F_CANDIDATE_TTL,
	F_PROOF_MAX_AGE,
	F_REPLAY_WINDOW,
	F_NONCE_GAP,
	F_STRICT,
	F_KEY_MAX_AGE,
	F_SECURITY_FAILURES,
	F_CONTROL_RATE,
	F_CONTROL_BURST,
	F_REKEY_INTERVAL,
	F_OWNER_LEASE,
	F_SWITCH_METRICS,
	F_LATENCY_METRICS,
	F_SECURITY_EVENTS,
	F_CHANGE_MODE,
	F_PROFILE,
	F_COUNT
};

_Static_assert(F_COUNT <= JV_POLICY_FIELDS_MAX, "jv_policy_ini.set is 64 bits");

#define MEMBER(m) .offset = offsetof(struct jv_policy, m), \
	.size = sizeof(((struct jv_policy *)0)->m)

#define CAP JV_POLICY_MS_CAP

/* Milliseconds; def and fast are the two PD-3 profiles. */
#define MS(k, m, sp, def, fast, lo, hi, fl, mean)			\
	{ .key = k, .spec_name = sp, .kind = JV_PK_MS, .flags = fl,	\
	  MEMBER(m), .imin = lo, .imax = hi, .idef = def, .ifast = fast, \
	  .unit = "ms", .meaning = mean }
#define COUNT(k, m, sp, def, lo, hi, fl, un, mean)			\
	{ .key = k, .spec_name = sp, .kind = JV_PK_COUNT, .flags = fl,	\
	  MEMBER(m), .imin = lo, .imax = hi, .idef = def, .ifast = def,	\
	  .unit = un, .meaning = mean }
#define REAL(k, m, sp, def, lo, hi, fl, un, mean)			\
	{ .key = k, .spec_name = sp, .kind = JV_PK_REAL, .flags = fl,	\
	  MEMBER(m), .dmin = lo, .dmax = hi, .ddef = def, .unit = un,	\
	  .meaning = mean }
#define BOOL(k, m, sp, def, lo, fl, mean)				\
	{ .key = k, .spec_name = sp, .kind = JV_PK_BOOL, .flags = fl,	\
	  MEMBER(m), .imin = lo, .imax = 1, .idef = def, .ifast = def,	\
	  .unit = "bool", .meaning = mean }

static const struct jv_policy_field fields[F_COUNT] = {
	[F_VERSION] = { .key = "version", .spec_name = "", .kind = JV_PK_VERSION,
		.flags = JV_PF_REQUIRED, MEMBER(version), .sdef = "1.0",
		.unit = "\"X.Y\"",
		.meaning = "Policy document version, carried verbatim as policy_version in every event (§5)." },

	/* [R] cap: lifetime and every other _ms value <= 7 days, so no
	 * bound is infinite (§5 (4)). */
	[F_MAX_LIFETIME] = MS("session.max_lifetime_ms", max_lifetime_ms,
		"SESSION_MAX_LIFETIME_MS", 28800000, 28800000, 1, CAP, JV_PF_REQUIRED,
		"Absolute session lifetime from creation."),
	[F_LOST_TTL] = MS("session.transport_lost_ttl_ms", transport_lost_ttl_ms,
		"TRANSPORT_LOST_TTL_MS", 15000, 15000, 1, CAP, JV_PF_REQUIRED,
		"Max time with no bound transport (A empty) before termination."),

	[F_HB_INTERVAL] = MS("volatility.heartbeat_interval_ms", heartbeat_interval_ms,
		"HEARTBEAT_INTERVAL_MS", 500, 100, 10, CAP, 0,
		"Client heartbeat period on the binding."),
	[F_HB_VOLATILE] = MS("volatility.heartbeat_volatile_ms", heartbeat_volatile_ms,
		"HEARTBEAT_VOLATILE_MS", 2000, 300, 1, CAP, 0,
		"heartbeat_age_ms above this fires heartbeat_timeout."),
	[F_DEAD] = MS("volatility.transport_dead_ms", transport_dead_ms,
		"TRANSPORT_DEAD_MS", 4000, 600, 1, CAP, 0,
		"Silence after which the bound transport is declared DEAD."),
	[F_LOSS_WINDOW] = MS("volatility.loss_window_ms", loss_window_ms,
		"LOSS_WINDOW_MS", 2000, 1000, 1, CAP, 0,
		"Window of loss_ratio; also the stability window for health_recovered."),
	[F_LOSS_THRESHOLD] = REAL("volatility.loss_volatile_threshold",
		loss_volatile_threshold, "LOSS_VOLATILE_THRESHOLD", 0.20, 0.0, 1.0,
		JV_PF_REQUIRED | JV_PF_MIN_OPEN, "ratio",
		"loss_ratio above this fires loss_threshold_exceeded; also a candidate filter."),
	[F_MIN_LOSS_SAMPLES] = COUNT("volatility.min_loss_samples", min_loss_samples,
		"MIN_LOSS_SAMPLES", 10, 1, UINT32_MAX, 0, "count",
		"Samples needed in the window for loss_ratio to be defined (OP-23)."),
	[F_MAX_DROPS] = COUNT("volatility.max_consecutive_drops", max_consecutive_drops,
		"MAX_CONSECUTIVE_DROPS", 3, 1, UINT32_MAX, 0, "count",
		"consecutive_drops at or above this fires consecutive_drop_exceeded."),
	[F_VOLATILE_TO_DEGRADED] = MS("volatility.volatile_to_degraded_ms",
		volatile_to_degraded_ms, "VOLATILE_TO_DEGRADED_MS", 4000, 4000, 1, CAP, 0,
		"Max VOLATILE duration."),
	[F_LATENCY_WINDOW] = MS("volatility.latency_window_ms", latency_window_ms,
		"LATENCY_WINDOW_MS", 2000, 2000, 1, CAP, 0,
		"Window for p95 latency and jitter."),
	[F_LATENCY_THRESHOLD] = MS("volatility.latency_volatile_threshold_ms",
		latency_volatile_threshold_ms, "LATENCY_VOLATILE_THRESHOLD_MS", 0, 0, 0, CAP, 0,
		"p95 above this fires latency_threshold_exceeded; also a candidate filter; 0 = off."),
	/* PD-4: the default follows heartbeat_interval_ms (jv_policy_ini
	 * resolves it after overlaying the keys). */
	[F_STANDBY_PROBE] = MS("volatility.standby_probe_interval_ms",
		standby_probe_interval_ms, "STANDBY_PROBE_INTERVAL_MS", 500, 100, 1, CAP, 0,
		"Probe period of standby candidates (PD-4); default = heartbeat_interval_ms."),

	/* [R] cap: the switch-time ring holds JV_SWITCH_HISTORY_MAX entries. */
	[F_MAX_SWITCHES] = COUNT("switching.max_switches_per_min", max_switches_per_min,
		"MAX_SWITCHES_PER_MIN", 8, 0, JV_POLICY_SWITCHES_CAP, JV_PF_REQUIRED,
		"count / 60 s",
		"Max discretionary TransportSwitch per sliding 60 000 ms (PD-7: forced switches are not counted); 0 = switching disabled, forced switches included."),
	[F_COOLDOWN] = MS("switching.switch_cooldown_ms", switch_cooldown_ms,
		"SWITCH_COOLDOWN_MS", 1500, 500, 0, CAP, 0,
		"Min gap between attempt starts; exclusion time of a failed candidate."),
	[F_RECOVERY_WINDOW] = MS("switching.recovery_window_ms", recovery_window_ms,
		"RECOVERY_WINDOW_MS", 8000, 3000, 1, CAP, JV_PF_REQUIRED,
		"Max RECOVERING duration (recovery_deadline_ms)."),
	[F_IMPROVEMENT] = REAL("switching.switch_improvement_factor",
		switch_improvement_factor, "SWITCH_IMPROVEMENT_FACTOR", 1.10, 1.0, 10.0, 0,
		"factor", "Hysteresis: a candidate's score must exceed current x factor."),
	/* PD-7: per-transport flap damping in the manner of RFC 2439. */
	[F_FLAP_PENALTY] = COUNT("switching.flap_penalty", flap_penalty,
		"FLAP_PENALTY", 1000, 0, 1000000, 0, "penalty",
		"Added to a transport's flap penalty each time it dies as the binding or fails an attempt; 0 = no damping."),
	[F_FLAP_HALF_LIFE] = MS("switching.flap_half_life_ms", flap_half_life_ms,
		"FLAP_HALF_LIFE_MS", 30000, 30000, 1, CAP, 0,
		"Half-life of the flap penalty's exponential decay."),
	[F_FLAP_SUPPRESS] = COUNT("switching.flap_suppress", flap_suppress,
		"FLAP_SUPPRESS", 3000, 1, 100000000, 0, "penalty",
		"Above this penalty a transport is damped: no candidate while another live one exists (TransportDamped)."),
	[F_FLAP_REUSE] = COUNT("switching.flap_reuse", flap_reuse,
		"FLAP_REUSE", 750, 1, 100000000, 0, "penalty",
		"A damped transport is a candidate again once its penalty decays below this (TransportReused)."),
	[F_FAILBACK_STABLE] = MS("switching.failback_stable_ms", failback_stable_ms,
		"", 30000, 10000, 0, CAP, 0,
		"Fail-back: move back to a transport of lower Priority once it has been stable this long and is not damped; 0 = off."),

	[F_HYSTERESIS] = BOOL("transport.enforce_hysteresis", enforce_hysteresis,
		"ENFORCE_HYSTERESIS", 1, 0, 0, "Apply the hysteresis gate."),
	[F_PROTOCOLS] = { .key = "transport.allowed_protocols",
		.spec_name = "ALLOWED_PROTOCOLS", .kind = JV_PK_PROTOS,
		MEMBER(allowed_protocols), .imin = 1, .imax = JV_PROTO_ALL,
		.idef = JV_PROTO_UDP | JV_PROTO_QUIC,
		.ifast = JV_PROTO_UDP | JV_PROTO_QUIC, .unit = "set",
		.meaning = "Protocol classes a candidate may use (comma list)." },
	/* [R] cap: at most JV_MAX_TRANSPORTS (16) transports per session. */
	[F_MAX_CANDIDATES] = COUNT("transport.max_candidate_count", max_candidate_count,
		"MAX_CANDIDATE_COUNT", 3, 1, JV_POLICY_CANDIDATES_CAP, 0, "count",
		"Bound of the candidate set."),
	[F_MIN_CANDIDATES] = COUNT("transport.candidate_min_count", candidate_min_count,
		"CANDIDATE_MIN_COUNT", 1, 1, UINT32_MAX, 0, "count",
		"Eligible candidates needed to attempt a switch."),
	/* §6.1 scores are in [0, 100], so a higher threshold could never pass. */
	[F_SCORE_THRESHOLD] = REAL("transport.candidate_score_threshold",
		candidate_score_threshold, "CANDIDATE_SCORE_THRESHOLD", JV_POLICY_OFF,
		0.0, 100.0, JV_PF_OFF, "score",
		"Min hysteresis score of a candidate; off = no score filter."),
	[F_CANDIDATE_TTL] = MS("transport.candidate_ttl_ms", candidate_ttl_ms,
		"CANDIDATE_TTL_MS", 15000, 15000, 1, CAP, 0,
		"A candidate without a successful probe for this long is evicted."),

	[F_PROOF_MAX_AGE] = MS("security.reattach_proof_max_age_ms",
		reattach_proof_max_age_ms, "REATTACH_PROOF_MAX_AGE_MS", 5000, 5000, 1, CAP,
		JV_PF_REQUIRED, "Max age (and future skew) of a reattach request's ts_ms."),
	/* [R] cap: the anti-replay bitmap is at most 4096 bits. */
	[F_REPLAY_WINDOW] = COUNT("security.replay_window_size", replay_window_size,
		"REPLAY_WINDOW_SIZE", 128, 1, JV_POLICY_REPLAY_WINDOW_CAP, JV_PF_CORE,
		"entries", "Tracked recent nonces / packet counters per session."),
	[F_NONCE_GAP] = COUNT("security.max_nonce_gap", max_nonce_gap,
		"MAX_NONCE_GAP", 256, 1, UINT32_MAX, 0, "count",
		"Max forward jump of a nonce over the highest accepted."),
	[F_STRICT] = BOOL("security.strict_validation", strict_validation,
		"STRICT_VALIDATION", 1, 1, JV_PF_CORE, "All reattach checks V0-V10 enforced."),
	[F_KEY_MAX_AGE] = MS("security.key_max_age_ms", key_max_age_ms,
		"KEY_MAX_AGE_MS", 0, 0, 0, CAP, 0,
		"Max traffic/control key age before a rekey is required; 0 = session lifetime."),
	[F_SECURITY_FAILURES] = COUNT("security.max_security_failures",
		max_security_failures, "MAX_SECURITY_FAILURES", 0, 0, UINT32_MAX, 0, "count",
		"Security failures before termination (X3); 0 = never on counts (OP-7)."),
	/* [R] cap: far above any heartbeat and probe rate the policy allows. */
	[F_CONTROL_RATE] = REAL("security.control_rate_per_sec", control_rate_per_sec,
		"CONTROL_RATE_PER_SEC", 2.0, 0.0, 100000.0, JV_PF_MIN_OPEN, "1/s",
		"Token-bucket rate of control messages per session and per source."),
	[F_CONTROL_BURST] = COUNT("security.control_rate_burst", control_rate_burst,
		"CONTROL_RATE_BURST", 5, 1, UINT32_MAX, 0, "tokens",
		"Token-bucket depth of control messages."),
	/* OP-11 bound; [R] min 1 s, so the bound is one. */
	[F_REKEY_INTERVAL] = MS("security.rekey_interval_ms", rekey_interval_ms,
		"", 60000, 60000, 1000, CAP, 0,
		"Min time between rekeys except security_event (OP-11)."),

	[F_OWNER_LEASE] = MS("cluster.owner_lease_ms", owner_lease_ms,
		"OWNER_LEASE_MS", 0, 0, 0, CAP, 0,
		"Cluster ownership lease; expiry allows takeover; 0 = no cluster."),

	[F_SWITCH_METRICS] = BOOL("observability.emit_switch_metrics",
		emit_switch_metrics, "", 1, 0, 0, "Emit the optional switch metric fields."),
	[F_LATENCY_METRICS] = BOOL("observability.include_latency_metrics",
		include_latency_metrics, "", 1, 0, 0,
		"Include the optional latency metric fields."),
	[F_SECURITY_EVENTS] = BOOL("observability.emit_security_events",
		emit_security_events, "", 1, 1, JV_PF_CORE, "Emit security events."),

	[F_CHANGE_MODE] = { .key = "policy_change_mode", .spec_name = "",
		.kind = JV_PK_MODE, MEMBER(change_mode),
		.imin = 0, .imax = JV_POLICY_CHANGE_COUNT - 1,
		.idef = JV_POLICY_CHANGE_STRICT, .ifast = JV_POLICY_CHANGE_STRICT,
		.unit = "enum",
		.meaning = "Runtime update: strict = new bounds from the next input; grace = at the next transition (§5)." },
	[F_PROFILE] = { .key = "profile", .spec_name = "", .kind = JV_PK_PROFILE,
		MEMBER(profile), .imin = 0, .imax = JV_PROFILE_COUNT - 1,
		.idef = JV_PROFILE_DEFAULT, .ifast = JV_PROFILE_FAST, .unit = "enum",
		.meaning = "Preset the other fields start from (PD-3)." },
};

/* Cross-field relations, checked after every field's own range. */
static const struct jv_policy_rel rels[] = {
	{ F_MAX_LIFETIME, F_LOST_TTL, JV_REL_GT, 1, false, "§4" },
	{ F_LOST_TTL, F_HB_VOLATILE, JV_REL_GT, 1, false, "§4" },
	{ F_HB_VOLATILE, F_HB_INTERVAL, JV_REL_GT, 1, false, "§4" },
	{ F_DEAD, F_HB_VOLATILE, JV_REL_GT, 1, false, "§4, §6.2" },
	{ F_DEAD, F_LOST_TTL, JV_REL_LT, 1, false, "§4" },
	{ F_LOSS_WINDOW, F_HB_INTERVAL, JV_REL_GE, 2, false, "§4 [R]" },
	{ F_LATENCY_WINDOW, F_HB_INTERVAL, JV_REL_GE, 2, false, "§4" },
	/* PD-4 says "may be set longer"; a probe period beyond the TTL
	 * would evict every candidate between two probes (§6.3). */
	{ F_STANDBY_PROBE, F_HB_INTERVAL, JV_REL_GE, 1, false, "PD-4 [R]" },
	{ F_STANDBY_PROBE, F_CANDIDATE_TTL, JV_REL_LT, 1, false, "§6.3 [R]" },
	/* More candidates needed than may be kept: no switch ever. */
	{ F_MIN_CANDIDATES, F_MAX_CANDIDATES, JV_REL_LE, 1, false, "§6.4 [R]" },
	{ F_CANDIDATE_TTL, F_HB_VOLATILE, JV_REL_GE, 1, false, "§4" },
	{ F_NONCE_GAP, F_REPLAY_WINDOW, JV_REL_GE, 1, false, "§4" },
	{ F_KEY_MAX_AGE, F_MAX_LIFETIME, JV_REL_LE, 1, true, "§4" },
	/* A key that must be replaced before the OP-11 bound lets a rekey
	 * happen would always expire (KeyExpired). */
	{ F_KEY_MAX_AGE, F_REKEY_INTERVAL, JV_REL_GT, 1, true, "OP-11 [R]" },
	{ F_OWNER_LEASE, F_RECOVERY_WINDOW, JV_REL_LT, 1, true, "§4, OP-22" },
	/* A reuse level at or above the suppress level would damp and
	 * release in the same instant. */
	{ F_FLAP_REUSE, F_FLAP_SUPPRESS, JV_REL_LT, 1, false, "PD-7 [R]" },
	/* Fail-back needs the transport stable (§6.2), which takes one
	 * full loss window. */
	{ F_FAILBACK_STABLE, F_LOSS_WINDOW, JV_REL_GE, 1, true, "PD-7 [R]" },
};

#define NRELS (sizeof(rels) / sizeof(rels[0]))

size_t jv_policy_field_count(void)
{
	return F_COUNT;
}

const struct jv_policy_field *jv_policy_field_at(size_t i)
{
	return i < F_COUNT ? &fields[i] : NULL;
}

const struct jv_policy_field *jv_policy_field_find(const char *key)
{
	for (size_t i = 0; key && i < F_COUNT; i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;
}

size_t jv_policy_field_index(const struct jv_policy_field *f)
{
	return (size_t)(f - fields);
}

size_t jv_policy_rel_count(void)
{
	return NRELS;
}

const struct jv_policy_rel *jv_policy_rel_at(size_t i)
{
	return i < NRELS ? &rels[i] : NULL;
}

/* ---- generic member access -------------------------------------------- */

uint64_t jv_policy_get_u(const struct jv_policy *p,
			 const struct jv_policy_field *f)
{
	const unsigned char *m = (const unsigned char *)p + f->offset;

	switch (f->kind) {
	case JV_PK_MS:
		return *(const uint64_t *)(const void *)m;
	case JV_PK_COUNT:
	case JV_PK_PROTOS:
		return *(const uint32_t *)(const void *)m;
	case JV_PK_BOOL:
		return *(const bool *)(const void *)m;
	case JV_PK_MODE:
		return (uint64_t)*(const enum jv_policy_change_mode *)(const void *)m;
	case JV_PK_PROFILE:
		return (uint64_t)*(const enum jv_policy_profile *)(const void *)m;
	default:
		return 0;
	}
}

void jv_policy_set_u(struct jv_policy *p, const struct jv_policy_field *f,
		     uint64_t v)
{
	unsigned char *m = (unsigned char *)p + f->offset;

	switch (f->kind) {
	case JV_PK_MS:
		*(uint64_t *)(void *)m = v;
		break;
	case JV_PK_COUNT:
	case JV_PK_PROTOS:
		*(uint32_t *)(void *)m = (uint32_t)v;
		break;
	case JV_PK_BOOL:
		*(bool *)(void *)m = v != 0;
		break;
	case JV_PK_MODE:
		*(enum jv_policy_change_mode *)(void *)m =
			(enum jv_policy_change_mode)v;
		break;
	case JV_PK_PROFILE:
		*(enum jv_policy_profile *)(void *)m = (enum jv_policy_profile)v;
		break;
	default:
		break;
	}
}

double jv_policy_get_d(const struct jv_policy *p,
		       const struct jv_policy_field *f)
{
	return *(const double *)(const void *)((const unsigned char *)p +
					       f->offset);
}

void jv_policy_set_d(struct jv_policy *p, const struct jv_policy_field *f,
		     double v)
{
	*(double *)(void *)((unsigned char *)p + f->offset) = v;
}

void jv_policy_copy_field(struct jv_policy *dst, const struct jv_policy *src,
			  const struct jv_policy_field *f)
{
	memcpy((unsigned char *)dst + f->offset,
	       (const unsigned char *)src + f->offset, f->size);
}

/* ---- names ------------------------------------------------------------ */

static const char *const profile_names[JV_PROFILE_COUNT] = {
	[JV_PROFILE_DEFAULT] = "default",
	[JV_PROFILE_FAST] = "fast",
};

static const char *const mode_names[JV_POLICY_CHANGE_COUNT] = {
	[JV_POLICY_CHANGE_STRICT] = "strict",
	[JV_POLICY_CHANGE_GRACE] = "grace",
};

static const struct {
	enum jv_proto bit;
	const char *name;
} proto_names[] = {
	{ JV_PROTO_UDP, "udp" },
	{ JV_PROTO_QUIC, "quic" },
	{ JV_PROTO_TCP, "tcp" },
};

const char *jv_policy_profile_name(enum jv_policy_profile prof)
{
	return (unsigned)prof < JV_PROFILE_COUNT ? profile_names[prof] : NULL;
}

int jv_policy_profile_from_name(const char *name)
{
	for (int i = 0; name && i < JV_PROFILE_COUNT; i++)
		if (strcmp(profile_names[i], name) == 0)
			return i;
	return -1;
}

const char *jv_policy_change_mode_name(enum jv_policy_change_mode m)
{
	return (unsigned)m < JV_POLICY_CHANGE_COUNT ? mode_names[m] : NULL;
}

int jv_policy_change_mode_from_name(const char *name)
{
	for (int i = 0; name && i < JV_POLICY_CHANGE_COUNT; i++)
		if (strcmp(mode_names[i], name) == 0)
			return i;
	return -1;
}

const char *jv_proto_name(enum jv_proto proto)
{
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].bit == proto)
			return proto_names[i].name;
	return NULL;
}

int jv_proto_from_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcmp(proto_names[i].name, name) == 0)
			return (int)proto_names[i].bit;
	return -1;
}

/* ---- presets ---------------------------------------------------------- */

void jv_policy_apply_profile(struct jv_policy *p, enum jv_policy_profile prof)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < F_COUNT; i++) {
		const struct jv_policy_field *f = &fields[i];

		switch (f->kind) {
		case JV_PK_VERSION:
			copy_trunc(p->version, sizeof(p->version), f->sdef);
			break;
		case JV_PK_REAL:
			jv_policy_set_d(p, f, f->ddef);
			break;
		default:
			jv_policy_set_u(p, f, prof == JV_PROFILE_FAST ?
					f->ifast : f->idef);
			break;
		}
	}
	/* PD-4: probe standby paths at the heartbeat cadence by default. */
	p->standby_probe_interval_ms = p->heartbeat_interval_ms;
}

void jv_policy_default(struct jv_policy *p)
{
	jv_policy_apply_profile(p, JV_PROFILE_DEFAULT);
}

int jv_policy_profile(struct jv_policy *p, const char *name,
		      struct jv_diag *d)
{
	int prof = jv_policy_profile_from_name(name);

	if (!p) {
		jv_diag_set(d, 0, "profile", "no policy to fill");
		return JV_ERR_INVAL;
	}
	if (prof < 0) {
		jv_diag_set(d, 0, "profile", "unknown profile (known: default, fast)");
		jv_diag_value(d, "\"%.60s\"", name ? name : "");
		return JV_ERR_INVAL;
	}
	jv_policy_apply_profile(p, (enum jv_policy_profile)prof);
	return 0;
}

/* ---- text forms ------------------------------------------------------- */

static int finish_text(int k, size_t n)
{
	if (k < 0)
		return JV_ERR_INVAL;
	if ((size_t)k >= n)
		return JV_ERR_NOSPACE;
	return k;
}

/*
 * Shortest plain decimal ("0.2", "1.1", "2.0") that strtod reads back as
 * exactly v, so to_ini -> load_ini is lossless.  INI accepts no
 * exponent, hence %f; values needing more than 120 digits (below 1e-100)
 * have no INI form.
 */
static int format_real(double v, char *buf, size_t n)
{
	char tmp[160];

	if (!isfinite(v))
		return JV_ERR_INVAL;
	/* The reader takes at most 9 decimal places (policy_ini.c
	 * parse_real), so every value it accepts prints well before this. */
	for (int prec = 1; prec <= 120; prec++) {
		int k = snprintf(tmp, sizeof(tmp), "%.*f", prec, v);

		if (k <= 0 || (size_t)k >= sizeof(tmp))
			break;
		if (strtod(tmp, NULL) == v)
			return finish_text(snprintf(buf, n, "%s", tmp), n);
	}
	return JV_ERR_INVAL;
}

static int format_protos(uint64_t set, char *buf, size_t n)
{
	size_t pos = 0;

	if (n)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (set & proto_names[i].bit)
			append(buf, n, &pos, "%s%s", pos ? ", " : "",
			       proto_names[i].name);
	return pos >= n ? JV_ERR_NOSPACE : (int)pos;
}

int jv_policy_field_format(const struct jv_policy_field *f,
			   const struct jv_policy *p, char *buf, size_t n)
{
	const char *name;
	uint64_t u;
	double v;

	if (!f || !p || (!buf && n))
		return JV_ERR_INVAL;
	switch (f->kind) {
	case JV_PK_VERSION:
		if (!memchr(p->version, '\0', sizeof(p->version)))
			return JV_ERR_INVAL;
		return finish_text(snprintf(buf, n, "%s", p->version), n);
	case JV_PK_MS:
	case JV_PK_COUNT:
		return finish_text(snprintf(buf, n, "%llu",
			(unsigned long long)jv_policy_get_u(p, f)), n);
	case JV_PK_REAL:
		v = jv_policy_get_d(p, f);
		if ((f->flags & JV_PF_OFF) && v == JV_POLICY_OFF)
			return finish_text(snprintf(buf, n, "off"), n);
		return format_real(v, buf, n);
	case JV_PK_BOOL:
		return finish_text(snprintf(buf, n, "%s",
			jv_policy_get_u(p, f) ? "true" : "false"), n);
	case JV_PK_PROTOS:
		return format_protos(jv_policy_get_u(p, f), buf, n);
	case JV_PK_MODE:
	case JV_PK_PROFILE:
		u = jv_policy_get_u(p, f);
		name = f->kind == JV_PK_MODE ?
			jv_policy_change_mode_name((enum jv_policy_change_mode)u) :
			jv_policy_profile_name((enum jv_policy_profile)u);
		if (!name)
			return JV_ERR_INVAL;
		return finish_text(snprintf(buf, n, "%s", name), n);
	}
	return JV_ERR_INVAL;
}

static void range_text(const struct jv_policy_field *f, char *buf, size_t n)
{
	size_t pos = 0;

	if (n)
		buf[0] = '\0';
	switch (f->kind) {
	case JV_PK_VERSION:
		append(buf, n, &pos, "\"X.Y\" (decimal digits, at most %d characters)",
		       JV_POLICY_VERSION_MAX - 1);
		break;
	case JV_PK_MS:
	case JV_PK_COUNT:
		if (f->imax == UINT32_MAX && f->kind == JV_PK_COUNT)
			append(buf, n, &pos, ">= %llu", (unsigned long long)f->imin);
		else
			append(buf, n, &pos, "[%llu, %llu]",
			       (unsigned long long)f->imin,
			       (unsigned long long)f->imax);
		break;
	case JV_PK_REAL:
		append(buf, n, &pos, "%s%g, %g]%s",
		       f->flags & JV_PF_MIN_OPEN ? "(" : "[", f->dmin, f->dmax,
		       f->flags & JV_PF_OFF ? " or off" : "");
		break;
	case JV_PK_BOOL:
		append(buf, n, &pos, "%s", f->imin ? "true (core invariant)" :
		       "true or false");
		break;
	case JV_PK_PROTOS:
		append(buf, n, &pos, "non-empty subset of {" JV_PROTO_NAMES_TEXT "}");
		break;
	case JV_PK_MODE:
		append(buf, n, &pos, "strict or grace");
		break;
	case JV_PK_PROFILE:
		append(buf, n, &pos, "default or fast");
		break;
	}
	(void)pos;
}

int jv_policy_field_range(const struct jv_policy_field *f, char *buf, size_t n)
{
	char tmp[128];

	if (!f || (!buf && n))
		return JV_ERR_INVAL;
	range_text(f, tmp, sizeof(tmp));
	return finish_text(snprintf(buf, n, "%s", tmp), n);
}

static const char *rel_op_text(enum jv_policy_rel_op op)
{
	switch (op) {
	case JV_REL_GT:
		return ">";
	case JV_REL_GE:
		return ">=";
	case JV_REL_LT:
		return "<";
	case JV_REL_LE:
		return "<=";
	}
	return "?";
}

/* "> key" or ">= 2 x key", with the when-set condition if asked. */
static int rel_text(const struct jv_policy_rel *r, bool cond, char *buf,
		    size_t n)
{
	char mult[16] = "";

	if (r->mult != 1)
		snprintf(mult, sizeof(mult), "%u x ", r->mult);
	return finish_text(snprintf(buf, n, "%s %s%s%s", rel_op_text(r->op),
				    mult, fields[r->b].key,
				    cond && r->a_zero_off ? " (when not 0)" : ""),
			   n);
}

int jv_policy_rel_format(const struct jv_policy_rel *r, char *buf, size_t n)
{
	if (!r || r->a >= F_COUNT || r->b >= F_COUNT || (!buf && n))
		return JV_ERR_INVAL;
	return rel_text(r, true, buf, n);
}

/* ---- validation ------------------------------------------------------- */

static bool version_ok(const char *v, size_t cap)
{
	size_t i = 0, digits;

	if (!memchr(v, '\0', cap))
		return false;
	for (digits = 0; v[i] >= '0' && v[i] <= '9'; i++)
		digits++;
	if (!digits || v[i++] != '.')
		return false;
	for (digits = 0; v[i] >= '0' && v[i] <= '9'; i++)
		digits++;
	return digits && v[i] == '\0';
}

/* The field's own range; on failure d gets key, value and rule. */
static bool field_ok(const struct jv_policy *p, const struct jv_policy_field *f,
		     struct jv_diag *d)
{
	char range[128];
	uint64_t u;
	double v;

	range_text(f, range, sizeof(range));
	switch (f->kind) {
	case JV_PK_VERSION:
		if (version_ok(p->version, sizeof(p->version)))
			return true;
		jv_diag_set(d, 0, f->key, "must be %s, e.g. \"1.0\"", range);
		jv_diag_value(d, "\"%.*s\"", (int)bounded_len(p->version,
			sizeof(p->version)), p->version);
		return false;
	case JV_PK_REAL:
		v = jv_policy_get_d(p, f);
		if ((f->flags & JV_PF_OFF) && v == JV_POLICY_OFF)
			return true;
		if (isfinite(v) && v <= f->dmax &&
		    ((f->flags & JV_PF_MIN_OPEN) ? v > f->dmin : v >= f->dmin))
			return true;
		jv_diag_set(d, 0, f->key, "must be in %s", range);
		jv_diag_value(d, "%g", v);
		return false;
	case JV_PK_BOOL:
		u = jv_policy_get_u(p, f);
		if (u >= f->imin)
			return true;
		jv_diag_set(d, 0, f->key,
			    "must be true: a core invariant cannot be disabled (spec §5)");
		jv_diag_value(d, "false");
		return false;
	case JV_PK_PROTOS:
		u = jv_policy_get_u(p, f);
		if (u && !(u & ~(uint64_t)JV_PROTO_ALL))
			return true;
		jv_diag_set(d, 0, f->key, "must be a %s", range);
		jv_diag_value(d, "0x%llx", (unsigned long long)u);
		return false;
	case JV_PK_MS:
	case JV_PK_COUNT:
	case JV_PK_MODE:
	case JV_PK_PROFILE:
		u = jv_policy_get_u(p, f);
		if (u >= f->imin && u <= f->imax)
			return true;
		if (f->kind == JV_PK_MODE || f->kind == JV_PK_PROFILE)
			jv_diag_set(d, 0, f->key, "must be %s", range);
		else if (f->flags & JV_PF_CORE)
			jv_diag_set(d, 0, f->key, "must be in %s (core invariant, spec §5)",
				    range);
		else
			jv_diag_set(d, 0, f->key, "must be %s%s",
				    range[0] == '[' ? "in " : "", range);
		jv_diag_value(d, "%llu", (unsigned long long)u);
		return false;
	}
	return false;
}

static bool rel_ok(const struct jv_policy *p, const struct jv_policy_rel *r,
		   struct jv_diag *d)
{
	const struct jv_policy_field *fa = &fields[r->a], *fb = &fields[r->b];
	uint64_t a = jv_policy_get_u(p, fa), b = jv_policy_get_u(p, fb);
	/* Both within their caps (checked first), so this cannot wrap. */
	uint64_t rhs = b * r->mult;
	char rule[128], ref[64];
	bool ok = false;

	if (r->a_zero_off && a == 0)
		return true;
	switch (r->op) {
	case JV_REL_GT:
		ok = a > rhs;
		break;
	case JV_REL_GE:
		ok = a >= rhs;
		break;
	case JV_REL_LT:
		ok = a < rhs;
		break;
	case JV_REL_LE:
		ok = a <= rhs;
		break;
	}
	if (ok)
		return true;
	if (r->mult != 1)
		snprintf(ref, sizeof(ref), "%u x %llu = %llu", r->mult,
			 (unsigned long long)b, (unsigned long long)rhs);
	else
		snprintf(ref, sizeof(ref), "%llu", (unsigned long long)b);
	rel_text(r, false, rule, sizeof(rule));
	jv_diag_set(d, 0, fa->key, "must be %s (%s)", rule, ref);
	jv_diag_value(d, "%llu", (unsigned long long)a);
	return false;
}

int jv_policy_check(const struct jv_policy *p, struct jv_diag *d,
		    size_t *bad, size_t *other)
{
	*bad = SIZE_MAX;
	*other = SIZE_MAX;
	if (!p) {
		jv_diag_set(d, 0, NULL, "no policy");
		return JV_ERR_INVAL;
	}
	for (size_t i = 0; i < F_COUNT; i++) {
		if (!field_ok(p, &fields[i], d)) {
			*bad = i;
			return JV_ERR_INVAL;
		}
	}
	for (size_t i = 0; i < NRELS; i++) {
		if (!rel_ok(p, &rels[i], d)) {
			*bad = rels[i].a;
			*other = rels[i].b;
			return JV_ERR_INVAL;
		}
	}
	return 0;
}

int jv_policy_validate(const struct jv_policy *p, struct jv_diag *d)
{
	size_t bad, other;

	return jv_policy_check(p, d, &bad, &other);
}

bool jv_policy_equal(const struct jv_policy *a, const struct jv_policy *b)
{
	for (size_t i = 0; i < F_COUNT; i++) {
		const struct jv_policy_field *f = &fields[i];

		switch (f->kind) {
		case JV_PK_VERSION:
			if (strncmp(a->version, b->version, sizeof(a->version)))
				return false;
			break;
		case JV_PK_REAL:
			if (jv_policy_get_d(a, f) != jv_policy_get_d(b, f))
				return false;
			break;
		default:
			if (jv_policy_get_u(a, f) != jv_policy_get_u(b, f))
				return false;
			break;
		}
	}
	return true;
}

/* The first field (table order) where a and b differ; NULL if none. */
static const struct jv_policy_field *
first_difference(const struct jv_policy *a, const struct jv_policy *b)
{
	for (size_t i = 0; i < F_COUNT; i++) {
		struct jv_policy x = *a;

		/* a with b's value of field i: equal iff field i matched */
		jv_policy_copy_field(&x, b, &fields[i]);
		if (!jv_policy_equal(&x, a))
			return &fields[i];
	}
	return NULL;
}

int jv_policy_change_check(const struct jv_policy *in_force,
			   const struct jv_policy *p, struct jv_diag *d)
{
	const struct jv_policy_field *f;
	char now[64], then[64];

	if (!in_force || !p) {
		jv_diag_set(d, 0, NULL, "no policy");
		return JV_ERR_INVAL;
	}
	if (jv_policy_validate(p, d) != JV_OK)
		return JV_ERR_INVAL;
	if (strncmp(p->version, in_force->version, sizeof(p->version)) ||
	    !(f = first_difference(in_force, p)))
		return JV_OK;
	if (jv_policy_field_format(f, in_force, then, sizeof(then)) < 0)
		snprintf(then, sizeof(then), "?");
	if (jv_policy_field_format(f, p, now, sizeof(now)) < 0)
		snprintf(now, sizeof(now), "?");
	/* D-026: a version names one content */
	jv_diag_set(d, 0, fields[F_VERSION].key, "version %s is in force "
		    "with %s = %s, this policy has %s: a changed policy needs "
		    "a new version", p->version, f->key, then, now);
	jv_diag_value(d, "%s", p->version);
	return JV_ERR_INVAL;
}

/* ---- unknown keys ----------------------------------------------------- */

#define KEY_CMP_MAX 64

/* Levenshtein distance of two short strings, capped at 3 ("too far"). */
static unsigned edit_distance(const char *s, const char *t)
{
	size_t m = strlen(s), n = strlen(t);
	unsigned row[KEY_CMP_MAX + 1];

	if (m > KEY_CMP_MAX || n > KEY_CMP_MAX ||
	    (m > n ? m - n : n - m) > 2)
		return 3;
	for (size_t j = 0; j <= n; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= m; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= n; j++) {
			unsigned up = row[j];
			unsigned best = diag + (s[i - 1] != t[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[n] < 3 ? row[n] : 3;
}

static const char *last_component(const char *key)
{
	const char *dot = strrchr(key, '.');

	return dot ? dot + 1 : key;
}

const struct jv_policy_field *jv_policy_field_suggest(const char *key)
{
	const struct jv_policy_field *best = NULL;
	unsigned best_d = 3;

	if (!key)
		return NULL;
	for (size_t i = 0; i < F_COUNT; i++) {
		unsigned dist = edit_distance(key, fields[i].key);

		if (dist < best_d) {
			best_d = dist;
			best = &fields[i];
		}
	}
	if (best)
		return best;
	/* Section prefix missing or wrong: "heartbeat_interval_ms". */
	for (size_t i = 0; i < F_COUNT; i++)
		if (strcmp(last_component(key), last_component(fields[i].key)) == 0)
			return &fields[i];
	return NULL;
}

void jv_policy_diag_unknown(struct jv_diag *d, unsigned line, const char *key)
{
	const struct jv_policy_field *s = jv_policy_field_suggest(key);

	if (s)
		jv_diag_set(d, line, key, "unknown key (did you mean '%s'?)", s->key);
	else
		jv_diag_set(d, line, key, "unknown key (see docs/policy.md)");
}
