/* SPDX-License-Identifier: MIT */
/*
 * The policy (spec §4, §5, PD-3, PD-4): defaults, profiles, every bound
 * and relation of the validator, the INI reader (values, lines, required
 * fields, order) and the JSON codec.
 */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jvpn/diag.h"
#include "jvpn/error.h"
#include "jvpn/policy.h"

/* ---- helpers ----------------------------------------------------------- */

static const struct jv_policy_field *field(const char *key)
{
	const struct jv_policy_field *f = jv_policy_field_find(key);

	assert_non_null(f);
	return f;
}

static uint64_t get_u(const struct jv_policy *p, const struct jv_policy_field *f)
{
	const unsigned char *m = (const unsigned char *)p + f->offset;
	uint64_t v64;
	uint32_t v32;
	int vi;

	switch (f->kind) {
	case JV_PK_MS:
		memcpy(&v64, m, sizeof(v64));
		return v64;
	case JV_PK_COUNT:
	case JV_PK_PROTOS:
		memcpy(&v32, m, sizeof(v32));
		return v32;
	case JV_PK_BOOL:
		return *(const bool *)(const void *)m;
	default:
		memcpy(&vi, m, sizeof(vi));
		return (uint64_t)vi;
	}
}

static void set_u(struct jv_policy *p, const struct jv_policy_field *f,
		  uint64_t v)
{
	unsigned char *m = (unsigned char *)p + f->offset;
	uint32_t v32 = (uint32_t)v;
	int vi = (int)v;

	switch (f->kind) {
	case JV_PK_MS:
		memcpy(m, &v, sizeof(v));
		break;
	case JV_PK_COUNT:
	case JV_PK_PROTOS:
		memcpy(m, &v32, sizeof(v32));
		break;
	case JV_PK_BOOL:
		*(bool *)(void *)m = v != 0;
		break;
	default:
		memcpy(m, &vi, sizeof(vi));
		break;
	}
}

static void set_d(struct jv_policy *p, const struct jv_policy_field *f,
		  double v)
{
	memcpy((unsigned char *)p + f->offset, &v, sizeof(v));
}

static int load(const char *text, struct jv_policy *p, struct jv_diag *d)
{
	return jv_policy_load_ini(text, "test.ini", p, d);
}

static void assert_diag(const struct jv_diag *d, unsigned line, const char *key,
			const char *msg_part)
{
	if (line != d->line || strcmp(d->key, key) ||
	    (msg_part && !strstr(d->msg, msg_part)))
		print_error("diag: line %u key '%s' value '%s' msg '%s'\n",
			    d->line, d->key, d->value, d->msg);
	assert_int_equal(d->line, line);
	assert_string_equal(d->key, key);
	if (msg_part)
		assert_non_null(strstr(d->msg, msg_part));
}

static const char required_ini[] =
	"[Policy]\n"
	"version = 1.0\n"
	"session.max_lifetime_ms = 28800000\n"
	"session.transport_lost_ttl_ms = 15000\n"
	"switching.max_switches_per_min = 8\n"
	"switching.recovery_window_ms = 8000\n"
	"volatility.loss_volatile_threshold = 0.20\n"
	"security.reattach_proof_max_age_ms = 5000\n";

/* A valid policy with every field off its default. */
static void custom_policy(struct jv_policy *p)
{
	jv_policy_default(p);
	strcpy(p->version, "2.13");
	p->max_lifetime_ms = 3600000;
	p->transport_lost_ttl_ms = 20000;
	p->heartbeat_interval_ms = 250;
	p->heartbeat_volatile_ms = 1000;
	p->transport_dead_ms = 3000;
	p->loss_window_ms = 1500;
	p->loss_volatile_threshold = 0.1;
	p->min_loss_samples = 7;
	p->max_consecutive_drops = 5;
	p->volatile_to_degraded_ms = 6000;
	p->latency_window_ms = 3000;
	p->latency_volatile_threshold_ms = 300;
	p->standby_probe_interval_ms = 1000;
	p->max_switches_per_min = 12;
	p->switch_cooldown_ms = 0;
	p->recovery_window_ms = 10000;
	p->switch_improvement_factor = 1.25;
	p->flap_penalty = 500;
	p->flap_half_life_ms = 20000;
	p->flap_suppress = 2500;
	p->flap_reuse = 600;
	p->failback_stable_ms = 20000;
	p->enforce_hysteresis = false;
	p->allowed_protocols = JV_PROTO_TCP;
	p->max_candidate_count = 16;
	p->candidate_min_count = 2;
	p->candidate_score_threshold = 37.5;
	p->candidate_ttl_ms = 12000;
	p->reattach_proof_max_age_ms = 7000;
	p->replay_window_size = 4096;
	p->max_nonce_gap = 5000;
	p->key_max_age_ms = 600000;
	p->max_security_failures = 4;
	p->control_rate_per_sec = 0.3;
	p->control_rate_burst = 9;
	p->rekey_interval_ms = 120000;
	p->owner_lease_ms = 4000;
	p->emit_switch_metrics = false;
	p->include_latency_metrics = false;
	p->change_mode = JV_POLICY_CHANGE_GRACE;
	p->profile = JV_PROFILE_FAST;
}

/* ---- defaults and profiles ---------------------------------------------- */

static void defaults_are_the_spec_values(void **st)
{
	struct jv_policy p;
	struct jv_diag d;

	(void)st;
	jv_policy_default(&p);
	assert_int_equal(jv_policy_validate(&p, &d), 0);
	assert_string_equal(p.version, "1.0");
	assert_int_equal(p.max_lifetime_ms, 28800000);
	assert_int_equal(p.transport_lost_ttl_ms, 15000);
	assert_int_equal(p.heartbeat_interval_ms, 500);
	assert_int_equal(p.heartbeat_volatile_ms, 2000);
	assert_int_equal(p.transport_dead_ms, 4000);
	assert_int_equal(p.loss_window_ms, 2000);
	assert_true(p.loss_volatile_threshold == 0.20);
	assert_int_equal(p.min_loss_samples, 10);
	assert_int_equal(p.max_consecutive_drops, 3);
	assert_int_equal(p.volatile_to_degraded_ms, 4000);
	assert_int_equal(p.latency_window_ms, 2000);
	assert_int_equal(p.latency_volatile_threshold_ms, 0);
	assert_int_equal(p.standby_probe_interval_ms, 500);	/* PD-4 */
	assert_int_equal(p.max_switches_per_min, 8);
	assert_int_equal(p.switch_cooldown_ms, 1500);
	assert_int_equal(p.recovery_window_ms, 8000);
	assert_true(p.switch_improvement_factor == 1.10);
	assert_int_equal(p.flap_penalty, 1000);		/* PD-7 */
	assert_int_equal(p.flap_half_life_ms, 30000);
	assert_int_equal(p.flap_suppress, 3000);
	assert_int_equal(p.flap_reuse, 750);
	assert_int_equal(p.failback_stable_ms, 30000);
	assert_true(p.enforce_hysteresis);
	assert_int_equal(p.allowed_protocols, JV_PROTO_UDP | JV_PROTO_QUIC);
	assert_int_equal(p.max_candidate_count, 3);
	assert_int_equal(p.candidate_min_count, 1);
	assert_true(p.candidate_score_threshold == JV_POLICY_OFF);
	assert_int_equal(p.candidate_ttl_ms, 15000);
	assert_int_equal(p.reattach_proof_max_age_ms, 5000);
	assert_int_equal(p.replay_window_size, 128);
	assert_int_equal(p.max_nonce_gap, 256);
	assert_true(p.strict_validation);
	assert_int_equal(p.key_max_age_ms, 0);
	assert_int_equal(p.max_security_failures, 0);
	assert_true(p.control_rate_per_sec == 2.0);
	assert_int_equal(p.control_rate_burst, 5);
	assert_int_equal(p.rekey_interval_ms, 60000);	/* OP-11 */
	assert_int_equal(p.owner_lease_ms, 0);
	assert_true(p.emit_switch_metrics);
	assert_true(p.include_latency_metrics);
	assert_true(p.emit_security_events);
	assert_int_equal(p.change_mode, JV_POLICY_CHANGE_STRICT);
	assert_int_equal(p.profile, JV_PROFILE_DEFAULT);
}

static void fast_profile_is_pd3(void **st)
{
	static const char *const changed[] = {
		"volatility.heartbeat_interval_ms", "volatility.heartbeat_volatile_ms",
		"volatility.transport_dead_ms", "volatility.loss_window_ms",
		"switching.switch_cooldown_ms", "switching.recovery_window_ms",
		"volatility.standby_probe_interval_ms", "profile",
		"switching.failback_stable_ms",
	};
	struct jv_policy def, fast;
	struct jv_diag d;

	(void)st;
	jv_policy_default(&def);
	assert_int_equal(jv_policy_profile(&fast, "fast", &d), 0);
	assert_int_equal(jv_policy_validate(&fast, &d), 0);
	assert_int_equal(fast.heartbeat_interval_ms, 100);
	assert_int_equal(fast.heartbeat_volatile_ms, 300);
	assert_int_equal(fast.transport_dead_ms, 600);
	assert_int_equal(fast.loss_window_ms, 1000);
	assert_int_equal(fast.switch_cooldown_ms, 500);
	assert_int_equal(fast.recovery_window_ms, 3000);
	assert_int_equal(fast.standby_probe_interval_ms, 100);	/* PD-4 */
	assert_int_equal(fast.failback_stable_ms, 10000);	/* PD-7 */
	assert_int_equal(fast.latency_window_ms, 2000);		/* >= 2 x 100 */
	assert_int_equal(fast.profile, JV_PROFILE_FAST);
	/* All else default. */
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		bool is_changed = false;
		struct jv_policy probe = fast;

		for (size_t k = 0; k < sizeof(changed) / sizeof(changed[0]); k++)
			is_changed |= strcmp(changed[k], f->key) == 0;
		if (is_changed)
			continue;
		/* Copy def's member over fast's: equal iff it was already. */
		memcpy((unsigned char *)&probe + f->offset,
		       (const unsigned char *)&def + f->offset, f->size);
		assert_true(jv_policy_equal(&probe, &fast));
	}
	assert_false(jv_policy_equal(&def, &fast));

	assert_int_equal(jv_policy_profile(&fast, "default", &d), 0);
	assert_true(jv_policy_equal(&def, &fast));
	assert_int_equal(jv_policy_profile(&fast, "turbo", &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "profile");
	assert_string_equal(d.value, "\"turbo\"");
	assert_int_equal(jv_policy_profile(&fast, NULL, &d), JV_ERR_INVAL);
}

static void table_is_sound(void **st)
{
	static const char *const keys[] = {
		"version", "session.max_lifetime_ms", "session.transport_lost_ttl_ms",
		"volatility.heartbeat_interval_ms", "volatility.heartbeat_volatile_ms",
		"volatility.transport_dead_ms", "volatility.loss_window_ms",
		"volatility.loss_volatile_threshold", "volatility.min_loss_samples",
		"volatility.max_consecutive_drops", "volatility.volatile_to_degraded_ms",
		"volatility.latency_window_ms", "volatility.latency_volatile_threshold_ms",
		"volatility.standby_probe_interval_ms", "switching.max_switches_per_min",
		"switching.switch_cooldown_ms", "switching.recovery_window_ms",
		"switching.switch_improvement_factor", "switching.flap_penalty",
		"switching.flap_half_life_ms", "switching.flap_suppress",
		"switching.flap_reuse", "switching.failback_stable_ms",
		"transport.enforce_hysteresis",
		"transport.allowed_protocols", "transport.max_candidate_count",
		"transport.candidate_min_count", "transport.candidate_score_threshold",
		"transport.candidate_ttl_ms", "security.reattach_proof_max_age_ms",
		"security.replay_window_size", "security.max_nonce_gap",
		"security.strict_validation", "security.key_max_age_ms",
		"security.max_security_failures", "security.control_rate_per_sec",
		"security.control_rate_burst", "security.rekey_interval_ms",
		"cluster.owner_lease_ms", "observability.emit_switch_metrics",
		"observability.include_latency_metrics",
		"observability.emit_security_events", "policy_change_mode", "profile",
	};
	static const char *const required[] = {
		"version", "session.max_lifetime_ms", "session.transport_lost_ttl_ms",
		"switching.max_switches_per_min", "switching.recovery_window_ms",
		"volatility.loss_volatile_threshold",
		"security.reattach_proof_max_age_ms",
	};
	size_t nreq = 0;

	(void)st;
	assert_int_equal(jv_policy_field_count(), sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_ptr_equal(field(keys[i]), jv_policy_field_at(i));
	assert_null(jv_policy_field_at(jv_policy_field_count()));
	assert_null(jv_policy_field_find("session"));
	assert_null(jv_policy_field_find(NULL));
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		static const size_t sizes[] = {
			[JV_PK_VERSION] = JV_POLICY_VERSION_MAX, [JV_PK_MS] = 8,
			[JV_PK_COUNT] = 4, [JV_PK_REAL] = 8, [JV_PK_BOOL] = sizeof(bool),
			[JV_PK_PROTOS] = 4, [JV_PK_MODE] = sizeof(int),
			[JV_PK_PROFILE] = sizeof(int),
		};

		assert_int_equal(f->size, sizes[f->kind]);
		assert_true(f->offset + f->size <= sizeof(struct jv_policy));
		assert_non_null(f->meaning);
		assert_true(strlen(f->meaning) > 10);
		assert_non_null(f->unit);
		/* The [R] _ms cap applies to every _ms field. */
		if (f->kind == JV_PK_MS)
			assert_int_equal(f->imax, JV_POLICY_MS_CAP);
		if (f->flags & JV_PF_REQUIRED) {
			bool listed = false;

			for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
				listed |= strcmp(required[k], f->key) == 0;
			assert_true(listed);
			nreq++;
		}
	}
	assert_int_equal(nreq, sizeof(required) / sizeof(required[0]));
	assert_int_equal(field("switching.max_switches_per_min")->imax, 64);
	assert_int_equal(field("transport.max_candidate_count")->imax, 16);
	assert_int_equal(field("security.replay_window_size")->imax, 4096);
	assert_null(jv_policy_rel_at(jv_policy_rel_count()));
}

static void names_round_trip(void **st)
{
	(void)st;
	for (int i = 0; i < JV_PROFILE_COUNT; i++)
		assert_int_equal(jv_policy_profile_from_name(
			jv_policy_profile_name((enum jv_policy_profile)i)), i);
	for (int i = 0; i < JV_POLICY_CHANGE_COUNT; i++)
		assert_int_equal(jv_policy_change_mode_from_name(
			jv_policy_change_mode_name((enum jv_policy_change_mode)i)), i);
	assert_int_equal(jv_proto_from_name(jv_proto_name(JV_PROTO_QUIC)), JV_PROTO_QUIC);
	assert_int_equal(jv_proto_from_name("sctp"), -1);
	assert_null(jv_proto_name(JV_PROTO_UDP | JV_PROTO_TCP));
	assert_null(jv_policy_profile_name(JV_PROFILE_COUNT));
	assert_int_equal(jv_policy_change_mode_from_name("Strict"), -1);
}

/* ---- validation ---------------------------------------------------------- */

static void expect_field_error(const struct jv_policy *p,
			       const struct jv_policy_field *f)
{
	struct jv_diag d;

	jv_diag_clear(&d);
	assert_int_equal(jv_policy_validate(p, &d), JV_ERR_INVAL);
	if (strcmp(d.key, f->key))
		print_error("expected %s, got %s = %s: %s\n", f->key, d.key,
			    d.value, d.msg);
	assert_string_equal(d.key, f->key);
	assert_true(d.value[0] != '\0');
	assert_non_null(strstr(d.msg, "must be"));
}

static void every_bound_is_checked(void **st)
{
	struct jv_policy base;
	unsigned below = 0, above = 0;

	(void)st;
	for (int prof = 0; prof < JV_PROFILE_COUNT; prof++) {
		assert_int_equal(jv_policy_profile(&base,
			jv_policy_profile_name((enum jv_policy_profile)prof), NULL), 0);
		for (size_t i = 0; i < jv_policy_field_count(); i++) {
			const struct jv_policy_field *f = jv_policy_field_at(i);
			struct jv_policy p = base;

			switch (f->kind) {
			case JV_PK_MS:
			case JV_PK_COUNT:
				if (f->imin > 0) {
					set_u(&p, f, f->imin - 1);
					expect_field_error(&p, f);
					below++;
				}
				if (f->imax < (f->kind == JV_PK_MS ? UINT64_MAX : UINT32_MAX)) {
					p = base;
					set_u(&p, f, f->imax + 1);
					expect_field_error(&p, f);
					above++;
				}
				break;
			case JV_PK_REAL:
				/* Just outside (no libm in the test: no nextafter). */
				set_d(&p, f, (f->flags & JV_PF_MIN_OPEN) ? f->dmin :
				      f->dmin - 1e-9);
				expect_field_error(&p, f);
				below++;
				set_d(&p, f, f->dmax * (1 + 1e-12));
				expect_field_error(&p, f);
				above++;
				set_d(&p, f, NAN);
				expect_field_error(&p, f);
				set_d(&p, f, INFINITY);
				expect_field_error(&p, f);
				set_d(&p, f, -0.5);
				expect_field_error(&p, f);
				break;
			case JV_PK_BOOL:
				if (f->imin) {	/* core invariant */
					set_u(&p, f, 0);
					expect_field_error(&p, f);
					below++;
				}
				break;
			case JV_PK_PROTOS:
				set_u(&p, f, 0);
				expect_field_error(&p, f);
				below++;
				set_u(&p, f, JV_PROTO_ALL + 1);
				expect_field_error(&p, f);
				above++;
				break;
			case JV_PK_MODE:
			case JV_PK_PROFILE:
				set_u(&p, f, f->imax + 1);
				expect_field_error(&p, f);
				above++;
				break;
			case JV_PK_VERSION: {
				static const char *const bad[] = {
					"", "1", "1.", ".1", "a.b", "1.0.0", "1.0x",
					"v1.0", " 1.0", "-1.0",
				};

				for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
					strcpy(p.version, bad[k]);
					expect_field_error(&p, f);
				}
				memset(p.version, '7', sizeof(p.version));	/* no NUL */
				expect_field_error(&p, f);
				strcpy(p.version, "10.25");
				assert_int_equal(jv_policy_validate(&p, NULL), 0);
				break;
			}
			}
		}
	}
	/* Every field with a lower or upper bound was hit (x 2 profiles). */
	assert_int_equal(below, 2 * 30);
	assert_int_equal(above, 2 * 32);
}

static void off_and_zero_values(void **st)
{
	struct jv_policy p;

	(void)st;
	jv_policy_default(&p);
	p.candidate_score_threshold = 0.0;
	assert_int_equal(jv_policy_validate(&p, NULL), 0);
	p.candidate_score_threshold = 100.0;
	assert_int_equal(jv_policy_validate(&p, NULL), 0);
	p.candidate_score_threshold = JV_POLICY_OFF;
	p.max_switches_per_min = 0;		/* switching disabled */
	p.switch_cooldown_ms = 0;
	p.latency_volatile_threshold_ms = 0;	/* off */
	p.max_security_failures = 0;
	p.key_max_age_ms = 0;			/* = lifetime */
	p.owner_lease_ms = 0;			/* no cluster */
	assert_int_equal(jv_policy_validate(&p, NULL), 0);
	p.loss_volatile_threshold = 1.0;	/* (0, 1] */
	p.switch_improvement_factor = 1.0;
	p.max_switches_per_min = 64;
	p.max_candidate_count = 16;
	p.replay_window_size = 1;
	p.max_lifetime_ms = JV_POLICY_MS_CAP;
	p.heartbeat_interval_ms = 10;
	assert_int_equal(jv_policy_validate(&p, NULL), 0);
	assert_int_equal(jv_policy_validate(NULL, NULL), JV_ERR_INVAL);
}

/* Set field a so that relation r fails by the smallest step. */
static uint64_t violating(const struct jv_policy_rel *r, uint64_t rhs)
{
	switch (r->op) {
	case JV_REL_GT:
	case JV_REL_LT:
		return rhs;
	case JV_REL_GE:
		return rhs - 1;
	case JV_REL_LE:
		return rhs + 1;
	}
	return 0;
}

static uint64_t satisfying(const struct jv_policy_rel *r, uint64_t rhs)
{
	switch (r->op) {
	case JV_REL_GT:
	case JV_REL_GE:
		return rhs + (r->op == JV_REL_GT);
	case JV_REL_LT:
	case JV_REL_LE:
		return rhs - (r->op == JV_REL_LT);
	}
	return 0;
}

static void every_relation_is_checked(void **st)
{
	struct jv_policy base;

	(void)st;
	assert_true(jv_policy_rel_count() >= 15);
	for (int prof = 0; prof < JV_PROFILE_COUNT; prof++) {
		assert_int_equal(jv_policy_profile(&base,
			jv_policy_profile_name((enum jv_policy_profile)prof), NULL), 0);
		/* Relations that skip 0 need a non-zero value to bite. */
		base.key_max_age_ms = 3600000;
		base.owner_lease_ms = 1000;
		assert_int_equal(jv_policy_validate(&base, NULL), 0);
		for (size_t i = 0; i < jv_policy_rel_count(); i++) {
			const struct jv_policy_rel *r = jv_policy_rel_at(i);
			const struct jv_policy_field *fa = jv_policy_field_at(r->a);
			const struct jv_policy_field *fb = jv_policy_field_at(r->b);
			uint64_t rhs = get_u(&base, fb) * r->mult;
			struct jv_policy p = base;
			struct jv_diag d;
			char want[64];
			int rc;

			set_u(&p, fa, violating(r, rhs));
			assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
			if (strcmp(d.key, fa->key) || !strstr(d.msg, fb->key))
				print_error("relation %zu: %s = %s: %s\n", i, d.key,
					    d.value, d.msg);
			assert_string_equal(d.key, fa->key);
			assert_non_null(strstr(d.msg, fb->key));
			snprintf(want, sizeof(want), "%llu",
				 (unsigned long long)violating(r, rhs));
			assert_string_equal(d.value, want);

			/* One step the other way: this relation holds. */
			p = base;
			set_u(&p, fa, satisfying(r, rhs));
			rc = jv_policy_validate(&p, &d);
			assert_true(rc == 0 || strcmp(d.key, fa->key) ||
				    !strstr(d.msg, fb->key));
		}
		/* The zero-means-unset relations do not fire on 0. */
		base.key_max_age_ms = 0;
		base.owner_lease_ms = 0;
		assert_int_equal(jv_policy_validate(&base, NULL), 0);
	}
}

static void messages_name_field_value_and_range(void **st)
{
	struct jv_policy p;
	struct jv_diag d;
	char buf[JV_DIAG_TEXT_MAX];

	(void)st;
	jv_diag_clear(&d);	/* validate keeps d->file, as a loader set it */
	jv_policy_default(&p);
	p.heartbeat_volatile_ms = 400;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "volatility.heartbeat_volatile_ms = 400: "
			    "must be > volatility.heartbeat_interval_ms (500)");

	jv_policy_default(&p);
	p.loss_window_ms = 900;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "volatility.loss_window_ms = 900: must be >= 2 x "
			    "volatility.heartbeat_interval_ms (2 x 500 = 1000)");

	/* PD-7: the damping levels and the fail-back bound (issue 9) */
	jv_policy_default(&p);
	p.flap_reuse = 3000;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "switching.flap_reuse = 3000: "
			    "must be < switching.flap_suppress (3000)");
	jv_policy_default(&p);
	p.flap_half_life_ms = 0;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "switching.flap_half_life_ms = 0: "
			    "must be in [1, 604800000]");
	jv_policy_default(&p);
	p.failback_stable_ms = 1999;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "switching.failback_stable_ms = 1999: "
			    "must be >= volatility.loss_window_ms (2000)");
	p.failback_stable_ms = 0;		/* off */
	assert_int_equal(jv_policy_validate(&p, &d), 0);

	jv_policy_default(&p);
	p.heartbeat_interval_ms = 5;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "volatility.heartbeat_interval_ms = 5: "
			    "must be in [10, 604800000]");

	jv_policy_default(&p);
	p.loss_volatile_threshold = 0.0;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "volatility.loss_volatile_threshold = 0: "
			    "must be in (0, 1]");

	/* Core invariants (§5 (4)). */
	jv_policy_default(&p);
	p.strict_validation = false;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "security.strict_validation");
	assert_non_null(strstr(d.msg, "core invariant"));
	jv_policy_default(&p);
	p.emit_security_events = false;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "observability.emit_security_events");
	jv_policy_default(&p);
	p.replay_window_size = 0;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "security.replay_window_size");
	assert_non_null(strstr(d.msg, "core invariant"));

	/* The first failure in table order wins. */
	jv_policy_default(&p);
	p.replay_window_size = 0;
	p.heartbeat_interval_ms = 1;
	assert_int_equal(jv_policy_validate(&p, &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "volatility.heartbeat_interval_ms");
}

static void equal_sees_every_field(void **st)
{
	struct jv_policy a, b;

	(void)st;
	custom_policy(&a);
	jv_policy_default(&b);
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		struct jv_policy c = b;

		memcpy((unsigned char *)&c + f->offset,
		       (const unsigned char *)&a + f->offset, f->size);
		if (f->kind == JV_PK_BOOL && get_u(&a, f) == get_u(&b, f))
			continue;	/* strict_validation etc. equal in both */
		assert_false(jv_policy_equal(&b, &c));
	}
	assert_true(jv_policy_equal(&a, &a));
}

/* ---- diagnostics -------------------------------------------------------- */

static void diag_formats(void **st)
{
	struct jv_diag d;
	char buf[JV_DIAG_TEXT_MAX], small[8];

	(void)st;
	jv_diag_clear(&d);
	jv_diag_file(&d, "p.ini");
	jv_diag_set(&d, 12, "a.b", "must be %d", 3);
	jv_diag_value(&d, "%s", "7");
	int n = jv_diag_format(&d, buf, sizeof(buf));

	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "p.ini:12: a.b = 7: must be 3");
	jv_diag_set(&d, 3, NULL, "malformed line");
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "p.ini:3: malformed line");	/* value cleared */
	jv_diag_set(&d, 0, "k", "m");
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "p.ini: k: m");
	jv_diag_file(&d, NULL);
	jv_diag_set(&d, 4, "k", "m");
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "line 4: k: m");
	jv_diag_set(&d, 0, "k", "m");
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "k: m");
	assert_int_equal(jv_diag_format(&d, small, 4), JV_ERR_NOSPACE);
	assert_string_equal(small, "k: ");
	assert_int_equal(jv_diag_format(NULL, buf, sizeof(buf)), JV_ERR_INVAL);
	assert_int_equal(jv_diag_format(&d, NULL, 4), JV_ERR_INVAL);
	/* NULL diag is accepted everywhere. */
	jv_diag_set(NULL, 1, "k", "m");
	jv_diag_value(NULL, "v");
	jv_diag_file(NULL, "f");
	jv_diag_clear(NULL);
	/* Long inputs are truncated, never overflow; the worst case fits. */
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	jv_diag_file(&d, buf);
	jv_diag_set(&d, 4000000000u, buf, "%s", buf);
	jv_diag_value(&d, "%s", buf);
	assert_int_equal(strlen(d.file), sizeof(d.file) - 1);
	assert_int_equal(strlen(d.key), sizeof(d.key) - 1);
	assert_int_equal(strlen(d.msg), sizeof(d.msg) - 1);
	char out[JV_DIAG_TEXT_MAX];
	assert_true(jv_diag_format(&d, out, sizeof(out)) > 0);
}

/* ---- INI: values --------------------------------------------------------- */

static void ini_required_fields(void **st)
{
	struct jv_policy p, def;
	struct jv_diag d;
	char text[1024];

	(void)st;
	jv_policy_default(&def);
	assert_int_equal(load(required_ini, &p, &d), 0);
	assert_true(jv_policy_equal(&p, &def));

	/* Drop each required line in turn (lines 2..8). */
	for (unsigned drop = 2; drop <= 8; drop++) {
		const char *line = required_ini;
		char key[64];
		size_t pos = 0;

		for (unsigned n = 1; *line; n++) {
			const char *nl = strchr(line, '\n');
			size_t len = (size_t)(nl - line) + 1;

			if (n == drop) {
				size_t k = strcspn(line, " ");

				memcpy(key, line, k);
				key[k] = '\0';
			} else {
				memcpy(text + pos, line, len);
				pos += len;
			}
			line += len;
		}
		text[pos] = '\0';
		assert_int_equal(load(text, &p, &d), JV_ERR_PARSE);
		assert_diag(&d, 0, key, "required field missing");
		assert_string_equal(d.file, "test.ini");
	}

	/* A named profile supplies them; version stays required. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n", &p, &d), 0);
	assert_true(jv_policy_equal(&p, &def));
	assert_int_equal(load("[Policy]\nprofile = fast\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 0, "version", "required field missing");
	assert_int_equal(load("[Policy]\nversion = 3.1\nprofile = fast\n", &p, &d), 0);
	assert_string_equal(p.version, "3.1");
	assert_int_equal(p.heartbeat_interval_ms, 100);
	assert_int_equal(p.profile, JV_PROFILE_FAST);
}

static void ini_unknown_and_duplicate_keys(void **st)
{
	struct jv_policy p;
	struct jv_diag d;

	(void)st;
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "volatility.heartbeat_intervall_ms = 400\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 4, "volatility.heartbeat_intervall_ms",
		    "did you mean 'volatility.heartbeat_interval_ms'?");
	assert_int_equal(load("[Policy]\nheartbeat_interval_ms = 400\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 2, "heartbeat_interval_ms",
		    "did you mean 'volatility.heartbeat_interval_ms'?");
	assert_int_equal(load("[Policy]\nfoo.bar = 1\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 2, "foo.bar", "unknown key");
	assert_null(strstr(d.msg, "did you mean"));
	/* Keys are case-sensitive. */
	assert_int_equal(load("[Policy]\nVersion = 1.0\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 2, "Version", "did you mean 'version'?");

	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "; comment\n\nversion = 1.1\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 6, "version", "already set on line 2");
	/* The same key in a second [Policy] section is still a duplicate. */
	assert_int_equal(load("[Policy]\nversion = 1.0\n[Other]\nx = 1\n"
			      "[Policy]\nversion = 1.0\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 6, "version", "duplicate key");
}

static void ini_malformed_values(void **st)
{
	static const struct {
		const char *key, *value, *msg;
	} bad[] = {
		{ "volatility.heartbeat_interval_ms", "-1", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "+5", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "1e3", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "12abc", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "0x10", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "500 ms", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "1.5", "not a decimal integer" },
		{ "volatility.heartbeat_interval_ms", "0500", "leading zero" },
		{ "volatility.heartbeat_interval_ms", "99999999999999999999999", "too large" },
		{ "volatility.heartbeat_interval_ms", "18446744073709551616", "too large" },
		{ "volatility.heartbeat_interval_ms", "", "empty value" },
		{ "volatility.min_loss_samples", "4294967296", "too large (at most 4294967295)" },
		{ "volatility.loss_volatile_threshold", "1e-1", "plain decimal" },
		{ "volatility.loss_volatile_threshold", "-0.2", "plain decimal" },
		{ "volatility.loss_volatile_threshold", ".5", "plain decimal" },
		{ "volatility.loss_volatile_threshold", "5.", "plain decimal" },
		{ "volatility.loss_volatile_threshold", "nan", "plain decimal" },
		{ "volatility.loss_volatile_threshold", "inf", "plain decimal" },
		{ "volatility.loss_volatile_threshold", "0,2", "plain decimal" },
		{ "volatility.loss_volatile_threshold", "off", "plain decimal" },
		{ "transport.candidate_score_threshold", "of", "or off" },
		{ "transport.enforce_hysteresis", "yes", "true or false" },
		{ "transport.enforce_hysteresis", "1", "true or false" },
		{ "transport.enforce_hysteresis", "TRUE", "true or false" },
		{ "transport.allowed_protocols", "udp,,quic", "empty item" },
		{ "transport.allowed_protocols", "udp,", "empty item" },
		{ "transport.allowed_protocols", "udp, udp", "listed twice" },
		{ "transport.allowed_protocols", "sctp", "unknown protocol 'sctp'" },
		{ "transport.allowed_protocols", "udp quic", "separated by commas" },
		{ "policy_change_mode", "lenient", "strict or grace" },
		{ "profile", "turbo", "unknown profile" },
		{ "version", "1.0.0.0.0.0.0.0.0", "too long" },
	};
	char text[512];
	struct jv_policy p;
	struct jv_diag d;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* The bad key on line 5, after a comment. */
		if (!strcmp(bad[i].key, "profile"))
			snprintf(text, sizeof(text), "[Policy]\nversion = 1.0\n"
				 "; a comment\n\nprofile = %s\n", bad[i].value);
		else if (strcmp(bad[i].key, "version"))
			snprintf(text, sizeof(text), "[Policy]\nversion = 1.0\n"
				 "profile = default\n; a comment\n%s = %s\n",
				 bad[i].key, bad[i].value);
		else
			snprintf(text, sizeof(text), "[Policy]\nprofile = default\n"
				 "; a comment\n\nversion = %s\n", bad[i].value);
		assert_int_equal(load(text, &p, &d), JV_ERR_PARSE);
		assert_diag(&d, 5, bad[i].key, bad[i].msg);
		if (bad[i].value[0]) {
			char quoted[80];

			snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i].value);
			assert_string_equal(d.value, quoted);
		}
	}
}

static void ini_accepted_values(void **st)
{
	struct jv_policy p;
	struct jv_diag d;

	(void)st;
	assert_int_equal(load("[Policy]\r\nversion = 1.0\r\nprofile = default\r\n"
			      "transport.allowed_protocols = tcp ,udp\r\n"
			      "transport.candidate_score_threshold = 12.5 ; inline\r\n"
			      "volatility.loss_volatile_threshold = 0.05\r\n"
			      "switching.switch_cooldown_ms = 0\r\n"
			      "transport.enforce_hysteresis = false\r\n"
			      "policy_change_mode = grace\r\n"
			      "security.control_rate_per_sec = 10", &p, &d), 0);
	assert_int_equal(p.allowed_protocols, JV_PROTO_TCP | JV_PROTO_UDP);
	assert_true(p.candidate_score_threshold == 12.5);
	assert_true(p.loss_volatile_threshold == 0.05);
	assert_int_equal(p.switch_cooldown_ms, 0);
	assert_false(p.enforce_hysteresis);
	assert_int_equal(p.change_mode, JV_POLICY_CHANGE_GRACE);
	assert_true(p.control_rate_per_sec == 10.0);
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "transport.candidate_score_threshold = off\n", &p, &d), 0);
	assert_true(p.candidate_score_threshold == JV_POLICY_OFF);
}

/* ---- INI: lines and sections --------------------------------------------- */

static void ini_malformed_lines(void **st)
{
	struct jv_policy p;
	struct jv_diag d;
	char buf[JV_DIAG_TEXT_MAX];
	char longline[400];

	(void)st;
	assert_int_equal(load("[Policy]\nversion = 1.0\n\nthis is not ini\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 4, "", "malformed line");
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "test.ini:4: malformed line"));

	assert_int_equal(load("; head\n[Policy\nversion = 1.0\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 2, "", "malformed line");
	/* Malformed in another section still breaks the file. */
	assert_int_equal(load("[Interface]\nkey\n[Policy]\nversion = 1.0\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 2, "", "malformed line");
	/* The first problem in text order is the one reported. */
	assert_int_equal(load("[Policy]\ngarbage\nversion = x\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 2, "", "malformed line");
	assert_int_equal(load("[Policy]\nversion = 1.0\nnope = 1\ngarbage\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 3, "nope", "unknown key");

	assert_int_equal(load("version = 1.0\n[Policy]\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 1, "version", "outside any section");

	/* inih's multi-line values must not change a value. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "volatility.heartbeat_interval_ms = 500\n   700\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 5, "volatility.heartbeat_interval_ms", "indented line");
	assert_int_equal(load("[Policy]\n\tversion = 1.0\n", &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 2, "version", "indented line");
	assert_int_equal(load("[Policy]\nversion = 1.0\n  [Policy]\n", &p, &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 3, "version", "indented line");
	/* Indented comments are fine. */
	assert_int_equal(load("[Policy]\nversion = 1.0\n  ; note\nprofile = fast\n",
			      &p, &d), 0);

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	snprintf(buf, sizeof(buf), "[Policy]\nversion = 1.0\n; %s\nprofile = fast\n",
		 longline);
	assert_int_equal(load(buf, &p, &d), JV_ERR_PARSE);
	assert_diag(&d, 3, "", "line too long");
}

static void ini_sections(void **st)
{
	struct jv_policy p, def, fast;
	struct jv_diag d;

	(void)st;
	jv_policy_default(&def);
	assert_int_equal(jv_policy_profile(&fast, "fast", NULL), 0);
	assert_int_equal(load("", &p, &d), 0);
	assert_true(jv_policy_equal(&p, &def));
	assert_int_equal(load("[Interface]\nPrivateKey = abc\n[Peer]\nEndpoint = x:1\n",
			      &p, &d), 0);
	assert_true(jv_policy_equal(&p, &def));
	assert_int_equal(load("[Policy]\n; nothing yet\n", &p, &d), 0);
	assert_true(jv_policy_equal(&p, &def));
	assert_int_equal(load("[Interface]\nversion = 9\n[policy]\nversion = 1.0\n"
			      "profile = fast\n[Peer]\nprofile = nonsense\n", &p, &d), 0);
	assert_true(jv_policy_equal(&p, &fast));
	assert_int_equal(jv_policy_load_ini(NULL, "x", &p, &d), JV_ERR_INVAL);
	assert_int_equal(jv_policy_load_ini("", "x", NULL, &d), JV_ERR_INVAL);
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "volatility.heartbeat_interval_ms = 1\n", &p, NULL),
			 JV_ERR_INVAL);
}

static void ini_key_order_does_not_matter(void **st)
{
	static const char *const lines[] = {
		"volatility.heartbeat_interval_ms = 200\n",
		"profile = fast\n",
		"version = 1.4\n",
		"volatility.heartbeat_volatile_ms = 500\n",
		"transport.allowed_protocols = quic\n",
		"security.replay_window_size = 512\n",
		"security.max_nonce_gap = 1024\n",
	};
	enum { N = sizeof(lines) / sizeof(lines[0]) };
	struct jv_policy first, p;
	struct jv_diag d;
	char text[1024];

	(void)st;
	/* Every rotation, forwards and backwards. */
	for (int dir = 0; dir < 2; dir++) {
		for (int rot = 0; rot < N; rot++) {
			strcpy(text, "[Policy]\n");
			for (int k = 0; k < N; k++) {
				int idx = dir ? (N - 1 - (k + rot) % N) : (k + rot) % N;

				strcat(text, lines[idx]);
			}
			assert_int_equal(load(text, &p, &d), 0);
			if (dir == 0 && rot == 0)
				first = p;
			assert_true(jv_policy_equal(&p, &first));
		}
	}
	/* The override wins over the profile even though it comes first. */
	assert_int_equal(first.heartbeat_interval_ms, 200);
	assert_int_equal(first.heartbeat_volatile_ms, 500);
	assert_int_equal(first.transport_dead_ms, 600);		/* fast */
	assert_int_equal(first.standby_probe_interval_ms, 200);	/* PD-4 */
	assert_int_equal(first.allowed_protocols, JV_PROTO_QUIC);
	assert_string_equal(first.version, "1.4");
}

static void ini_profile_and_override_validated_as_one(void **st)
{
	struct jv_policy p, before;
	struct jv_diag d;
	char buf[JV_DIAG_TEXT_MAX];

	(void)st;
	jv_policy_default(&before);
	p = before;
	/* fast has transport_dead 600: raising heartbeat_volatile breaks it. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "volatility.heartbeat_volatile_ms = 2000\n", &p, &d),
			 JV_ERR_INVAL);
	assert_diag(&d, 4, "volatility.transport_dead_ms", "fast profile's value");
	assert_true(jv_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "test.ini:4: volatility.transport_dead_ms = 600: "
			       "must be > volatility.heartbeat_volatile_ms (2000)"));
	assert_true(jv_policy_equal(&p, &before));	/* out untouched */

	/* The offending key itself is the one pointed at when it was set. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "volatility.transport_dead_ms = 200\n", &p, &d),
			 JV_ERR_INVAL);
	assert_diag(&d, 4, "volatility.transport_dead_ms", "must be >");
	assert_null(strstr(d.msg, "profile"));

	/* Same overrides fixed: valid. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "volatility.heartbeat_volatile_ms = 2000\n"
			      "volatility.transport_dead_ms = 4000\n", &p, &d), 0);
	assert_int_equal(p.heartbeat_interval_ms, 100);

	/* PD-4 default follows the heartbeat; explicit value kept. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "volatility.heartbeat_interval_ms = 250\n", &p, &d), 0);
	assert_int_equal(p.standby_probe_interval_ms, 250);
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "volatility.standby_probe_interval_ms = 1000\n", &p, &d), 0);
	assert_int_equal(p.standby_probe_interval_ms, 1000);
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "volatility.standby_probe_interval_ms = 400\n", &p, &d),
			 JV_ERR_INVAL);
	assert_diag(&d, 4, "volatility.standby_probe_interval_ms", ">= volatility.heartbeat_interval_ms");
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n"
			      "transport.candidate_ttl_ms = 400\n", &p, &d),
			 JV_ERR_INVAL);
	assert_diag(&d, 4, "volatility.standby_probe_interval_ms", "follows");

	/* A range error found at finish carries its line. */
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = default\n\n"
			      "switching.max_switches_per_min = 65\n", &p, &d),
			 JV_ERR_INVAL);
	assert_diag(&d, 5, "switching.max_switches_per_min", "[0, 64]");
	assert_string_equal(d.value, "65");
}

static void ini_streaming_api(void **st)
{
	struct jv_policy_ini s;
	struct jv_policy p, def;
	struct jv_diag d;

	(void)st;
	jv_policy_default(&def);
	jv_policy_ini_init(&s);
	assert_int_equal(jv_policy_ini_line(&s, "profile", "default", 1, &d), 0);
	assert_int_equal(jv_policy_ini_line(&s, "version", "1.0", 0, &d), 0);
	assert_int_equal(jv_policy_ini_line(&s, "version", "1.0", 0, &d), JV_ERR_PARSE);
	assert_string_equal(d.msg, "duplicate key");
	assert_int_equal(jv_policy_ini_line(&s, "x", "1", 7, &d), JV_ERR_PARSE);
	assert_int_equal(d.line, 7);
	assert_int_equal(jv_policy_ini_line(&s, NULL, "1", 7, &d), JV_ERR_INVAL);
	assert_int_equal(jv_policy_ini_line(&s, "version", NULL, 7, &d), JV_ERR_INVAL);
	assert_int_equal(jv_policy_ini_line(NULL, "version", "1", 7, &d), JV_ERR_INVAL);
	/* A failed line leaves the key unset. */
	assert_int_equal(jv_policy_ini_line(&s, "security.max_nonce_gap", "x", 8, &d),
			 JV_ERR_PARSE);
	assert_int_equal(jv_policy_ini_line(&s, "security.max_nonce_gap", "300", 9, &d), 0);
	assert_int_equal(jv_policy_ini_finish(&s, &p, &d), 0);
	def.max_nonce_gap = 300;
	assert_true(jv_policy_equal(&p, &def));
	assert_int_equal(jv_policy_ini_finish(NULL, &p, &d), JV_ERR_INVAL);
	assert_int_equal(jv_policy_ini_finish(&s, NULL, &d), JV_ERR_INVAL);
}

static void ini_writer_round_trip(void **st)
{
	struct jv_policy in[3], out;
	struct jv_diag d;
	char text[4096];

	(void)st;
	jv_policy_default(&in[0]);
	assert_int_equal(jv_policy_profile(&in[1], "fast", NULL), 0);
	custom_policy(&in[2]);
	assert_int_equal(jv_policy_validate(&in[2], &d), 0);
	for (int i = 0; i < 3; i++) {
		int n = jv_policy_to_ini(&in[i], text, sizeof(text));

		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(text));
		assert_int_equal(load(text, &out, &d), 0);
		assert_true(jv_policy_equal(&in[i], &out));
		assert_int_equal(jv_policy_to_ini(&in[i], text, (size_t)n), JV_ERR_NOSPACE);
		assert_int_equal(jv_policy_to_ini(&in[i], text, (size_t)n + 1), n);
	}
	assert_non_null(strstr(text, "transport.candidate_score_threshold = 37.5\n"));
	assert_non_null(strstr(text, "security.control_rate_per_sec = 0.3\n"));
}

static void field_text_forms(void **st)
{
	const struct jv_policy_field *f = field("volatility.loss_volatile_threshold");
	struct jv_policy p;
	char buf[64];

	(void)st;
	jv_policy_default(&p);
	assert_int_equal(jv_policy_field_format(f, &p, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "0.2");
	p.loss_volatile_threshold = 1e-7;
	assert_true(jv_policy_field_format(f, &p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "0.0000001");
	p.loss_volatile_threshold = NAN;
	assert_int_equal(jv_policy_field_format(f, &p, buf, sizeof(buf)), JV_ERR_INVAL);
	assert_true(jv_policy_field_format(field("security.control_rate_per_sec"),
					   &p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "2.0");
	assert_int_equal(jv_policy_field_format(field("session.max_lifetime_ms"),
						&p, buf, 4), JV_ERR_NOSPACE);
	assert_true(jv_policy_field_range(field("volatility.loss_volatile_threshold"),
					  buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "(0, 1]");
	assert_true(jv_policy_field_range(field("transport.candidate_score_threshold"),
					  buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "[0, 100] or off");
	assert_true(jv_policy_rel_format(jv_policy_rel_at(0), buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "> session.transport_lost_ttl_ms");
	assert_int_equal(jv_policy_rel_format(NULL, buf, sizeof(buf)), JV_ERR_INVAL);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_round_trip_is_exact(void **st)
{
	struct jv_policy in[3], out;
	struct jv_diag d;

	(void)st;
	jv_policy_default(&in[0]);
	assert_int_equal(jv_policy_profile(&in[1], "fast", NULL), 0);
	custom_policy(&in[2]);
	in[2].loss_volatile_threshold = 0.1 + 0.2;	/* not a short decimal */
	for (int i = 0; i < 3; i++) {
		json_t *j = jv_policy_to_json(&in[i]), *back;
		char *text;

		assert_non_null(j);
		assert_int_equal(json_object_size(j), jv_policy_field_count());
		text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		assert_non_null(text);
		back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(back);
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(jv_policy_from_json(back, &out, &d), 0);
		assert_true(jv_policy_equal(&in[i], &out));
		free(text);
		json_decref(back);
		json_decref(j);
	}
	/* Types. */
	json_t *j = jv_policy_to_json(&in[0]);

	assert_true(json_is_integer(json_object_get(j, "session.max_lifetime_ms")));
	assert_true(json_is_real(json_object_get(j, "volatility.loss_volatile_threshold")));
	assert_true(json_is_null(json_object_get(j, "transport.candidate_score_threshold")));
	assert_true(json_is_true(json_object_get(j, "security.strict_validation")));
	assert_string_equal(json_string_value(json_object_get(j, "version")), "1.0");
	assert_string_equal(json_string_value(json_object_get(j, "profile")), "default");
	assert_string_equal(json_string_value(json_object_get(j, "policy_change_mode")),
			    "strict");
	json_t *protos = json_object_get(j, "transport.allowed_protocols");
	assert_int_equal(json_array_size(protos), 2);
	assert_string_equal(json_string_value(json_array_get(protos, 0)), "udp");
	assert_string_equal(json_string_value(json_array_get(protos, 1)), "quic");
	json_decref(j);
	assert_null(jv_policy_to_json(NULL));
}

static int json_bad(const char *text, struct jv_diag *d)
{
	json_t *j = json_loads(text, 0, NULL);
	struct jv_policy p;
	int rc;

	assert_non_null(j);
	rc = jv_policy_from_json(j, &p, d);
	json_decref(j);
	return rc;
}

static void json_rejects_bad_input(void **st)
{
	struct jv_diag d;

	(void)st;
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\"}", &d), 0);
	assert_int_equal(json_bad("[]", &d), JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"volatility.heartbeat_intervall_ms\":5}", &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 0, "volatility.heartbeat_intervall_ms", "did you mean");
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"volatility.heartbeat_interval_ms\":\"500\"}", &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 0, "volatility.heartbeat_interval_ms", "non-negative integer");
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"volatility.heartbeat_interval_ms\":500.0}", &d),
			 JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"volatility.heartbeat_interval_ms\":-1}", &d),
			 JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"volatility.min_loss_samples\":4294967296}", &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 0, "volatility.min_loss_samples", "too large");
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"volatility.loss_volatile_threshold\":null}", &d),
			 JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"transport.candidate_score_threshold\":50}", &d), 0);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"transport.enforce_hysteresis\":1}", &d),
			 JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"transport.allowed_protocols\":\"udp\"}", &d),
			 JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"transport.allowed_protocols\":[\"udp\",\"udp\"]}", &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 0, "transport.allowed_protocols", "twice");
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"transport.allowed_protocols\":[]}", &d),
			 JV_ERR_INVAL);
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"turbo\"}", &d),
			 JV_ERR_PARSE);
	assert_int_equal(json_bad("{\"version\":1.0,\"profile\":\"fast\"}", &d),
			 JV_ERR_PARSE);
	assert_diag(&d, 0, "version", "string");
	assert_int_equal(json_bad("{\"profile\":\"fast\"}", &d), JV_ERR_PARSE);
	assert_diag(&d, 0, "version", "required field missing");
	assert_int_equal(json_bad("{\"version\":\"1.0\"}", &d), JV_ERR_PARSE);
	assert_diag(&d, 0, "session.max_lifetime_ms", "required field missing");
	assert_int_equal(json_bad("{\"version\":\"1.0\",\"profile\":\"fast\","
				  "\"security.strict_validation\":false}", &d),
			 JV_ERR_INVAL);
	assert_diag(&d, 0, "security.strict_validation", "core invariant");
	assert_int_equal(jv_policy_from_json(NULL, NULL, &d), JV_ERR_INVAL);
}

/* jansson allocator that fails after `budget` allocations. */
static int alloc_budget;

static void *failing_malloc(size_t n)
{
	if (alloc_budget-- <= 0)
		return NULL;
	return malloc(n);
}

static void json_survives_allocation_failure(void **st)
{
	struct jv_policy p;
	bool succeeded = false;

	(void)st;
	custom_policy(&p);
	json_set_alloc_funcs(failing_malloc, free);
	for (int budget = 0; budget < 10000 && !succeeded; budget++) {
		json_t *j;

		alloc_budget = budget;
		j = jv_policy_to_json(&p);
		if (j) {
			succeeded = true;
			json_decref(j);
		}
	}
	json_set_alloc_funcs(malloc, free);
	assert_true(succeeded);
}

/* Issue 10: a NUL in a policy file ended the text the reader took, so
 * the keys after it silently kept their defaults.  From its length
 * (jv_policy_load_ini_n) the loader refuses any control byte but tab, LF
 * and CRLF, naming file and line; from a C string, those it can see. */
static void control_bytes_refused(void **st)
{
	static const char text[] = "[Policy]\nversion = 1.0\n# note\0x\n"
				   "profile = fast\n";
	struct jv_policy p;
	struct jv_diag d;

	(void)st;
	assert_int_equal(jv_policy_load_ini_n(text, sizeof text - 1, "p.ini",
					      &p, &d), JV_ERR_PARSE);
	assert_string_equal(d.file, "p.ini");
	assert_int_equal(d.line, 3);
	assert_non_null(strstr(d.msg, "control byte 0x00 (NUL)"));
	assert_int_equal(load("[Policy]\nversion = 1.0\x1b\n", &p, &d),
			 JV_ERR_PARSE);
	assert_int_equal(d.line, 2);
	assert_non_null(strstr(d.msg, "control byte 0x1b"));
	assert_int_equal(load("[Policy]\rversion = 1.0\n", &p, &d),
			 JV_ERR_PARSE);
	assert_int_equal(d.line, 1);
	/* the same text without the NUL line loads, with the profile */
	static const char good[] = "[Policy]\r\nversion = 1.0\r\n\t# note\r\n"
				   "profile = fast\n";
	struct jv_policy fast;
	assert_int_equal(jv_policy_load_ini_n(good, sizeof good - 1, "p.ini",
					      &p, &d), 0);
	assert_int_equal(jv_policy_profile(&fast, "fast", NULL), 0);
	assert_true(jv_policy_equal(&p, &fast));
}

/* Every value read must print back and read back the same (the fuzzer's
 * round trip): a ratio with 105 zeros after the point was read, then the
 * writer could not print it.  Nine decimal places at most. */
static void decimals_are_bounded(void **st)
{
	struct jv_policy p, q;
	struct jv_diag d;
	char buf[8192];

	(void)st;
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "volatility.loss_volatile_threshold = 0.0000000001\n",
			      &p, &d), JV_ERR_PARSE);
	assert_int_equal(d.line, 4);
	assert_non_null(strstr(d.msg, "more than 9 decimal places"));
	assert_int_equal(load("[Policy]\nversion = 1.0\nprofile = fast\n"
			      "volatility.loss_volatile_threshold = 0.000000001\n",
			      &p, &d), 0);
	assert_true(jv_policy_to_ini(&p, buf, sizeof buf) > 0);
	assert_int_equal(load(buf, &q, &d), 0);
	assert_true(jv_policy_equal(&p, &q));
}

/* D-026: what a runtime change refuses, said for the operator. */
static void change_check_names_the_reason(void **st)
{
	struct jv_policy cur, p;
	struct jv_diag d;
	char buf[JV_DIAG_TEXT_MAX];

	(void)st;
	jv_policy_default(&cur);
	p = cur;
	jv_diag_clear(&d);
	assert_int_equal(jv_policy_change_check(&cur, &p, &d), 0);
	snprintf(p.version, sizeof p.version, "2.0");
	p.transport_lost_ttl_ms = 5000;
	assert_int_equal(jv_policy_change_check(&cur, &p, &d), 0);

	/* same version, other values */
	snprintf(p.version, sizeof p.version, "%s", cur.version);
	assert_int_equal(jv_policy_change_check(&cur, &p, &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "version");
	assert_true(jv_diag_format(&d, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "session.transport_lost_ttl_ms = 15000"));
	assert_non_null(strstr(buf, "this policy has 5000"));
	assert_non_null(strstr(buf, "new version"));
	p = cur;
	p.change_mode = JV_POLICY_CHANGE_GRACE;	/* the mode is content */
	assert_int_equal(jv_policy_change_check(&cur, &p, &d), JV_ERR_INVAL);
	assert_non_null(strstr(d.msg, "policy_change_mode = strict"));

	/* invalid: as jv_policy_validate */
	p = cur;
	snprintf(p.version, sizeof p.version, "2.0");
	p.transport_lost_ttl_ms = 1000;
	assert_int_equal(jv_policy_change_check(&cur, &p, &d), JV_ERR_INVAL);
	assert_string_equal(d.key, "session.transport_lost_ttl_ms");
	assert_int_equal(jv_policy_change_check(NULL, &p, &d), JV_ERR_INVAL);
	assert_int_equal(jv_policy_change_check(&cur, NULL, NULL),
			 JV_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_the_spec_values),
		cmocka_unit_test(fast_profile_is_pd3),
		cmocka_unit_test(table_is_sound),
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(every_bound_is_checked),
		cmocka_unit_test(off_and_zero_values),
		cmocka_unit_test(every_relation_is_checked),
		cmocka_unit_test(messages_name_field_value_and_range),
		cmocka_unit_test(equal_sees_every_field),
		cmocka_unit_test(diag_formats),
		cmocka_unit_test(ini_required_fields),
		cmocka_unit_test(ini_unknown_and_duplicate_keys),
		cmocka_unit_test(ini_malformed_values),
		cmocka_unit_test(ini_accepted_values),
		cmocka_unit_test(ini_malformed_lines),
		cmocka_unit_test(ini_sections),
		cmocka_unit_test(ini_key_order_does_not_matter),
		cmocka_unit_test(ini_profile_and_override_validated_as_one),
		cmocka_unit_test(ini_streaming_api),
		cmocka_unit_test(ini_writer_round_trip),
		cmocka_unit_test(field_text_forms),
		cmocka_unit_test(json_round_trip_is_exact),
		cmocka_unit_test(json_rejects_bad_input),
		cmocka_unit_test(json_survives_allocation_failure),
		cmocka_unit_test(control_bytes_refused),
		cmocka_unit_test(decimals_are_bounded),
		cmocka_unit_test(change_check_names_the_reason),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
