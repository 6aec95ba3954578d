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

#include "error.h"

enum jv_proto {
	JV_PROTO_UDP = 1u << 0,
	JV_PROTO_QUIC = 1u << 1,
	JV_PROTO_TCP = 1u << 2,
};

enum jv_policy_change_mode {
	JV_POLICY_CHANGE_STRICT,
	JV_POLICY_CHANGE_GRACE,
};

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
};

#endif
