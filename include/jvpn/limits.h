/* SPDX-License-Identifier: MIT */
#ifndef JVPN_LIMITS_H
#define JVPN_LIMITS_H

/*
 * Every fixed timing, size and rate constant of the project, grouped, with
 * the unit in the name.  Tunable values live in struct jv_policy instead
 * (include/jvpn/policy.h); these are the ones no policy may change.
 */

#include <stdint.h>

/* Time is an unsigned count of milliseconds, supplied by the caller. */
typedef uint64_t jv_time;
#define JV_TIME_NEVER UINT64_MAX

enum jv_time_limits {
	JV_SWITCH_RATE_WINDOW_MS = 60000,	/* spec §6.4: sliding 60 s */
	JV_LOG_DENY_EVERY_MS_MIN = 1000,	/* spec §8.5 aggregation */
};

enum jv_size_limits {
	JV_SESSION_ID_BYTES = 16,		/* 128-bit, unguessable */
	JV_SESSION_ID_HEX = 2 * 16 + 1,
	JV_TRANSPORT_ID_MAX = 32,		/* bytes including NUL */
	JV_NODE_ID_MAX = 64,			/* bytes including NUL */
	JV_ADDR_STR_MAX = 48,			/* "[8 x ffff]:65535" + NUL */
	JV_KEY_B64_MAX = 45,			/* base64 of 32 bytes + NUL */
	JV_POLICY_VERSION_MAX = 16,		/* "X.Y" including NUL */
	JV_MAX_TRANSPORTS = 16,			/* spec §4 MAX_CANDIDATE_COUNT cap */
	JV_SWITCH_HISTORY_MAX = 64,		/* ring of recent switch times */
	JV_RTT_SAMPLES_MAX = 64,		/* p95 ring per transport */
	JV_LOSS_BUCKETS = 20,			/* loss window granularity */
	JV_HASH_HEX = 2 * 32 + 1,		/* BLAKE2b-256 hex + NUL */
	JV_EVENT_LINE_MAX = 4096,		/* one JSONL event line */
};

#endif
