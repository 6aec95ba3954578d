/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SRCLIMIT_H
#define JVPN_SRCLIMIT_H

/*
 * Handshakes per source address (the idea of wireguard-go's
 * ratelimiter.go): a fixed table of token buckets found by a keyed hash
 * (crypto_shorthash, key from the injected rng) of the source's network:
 * the whole IPv4 address, or the /64 of an IPv6 one (a host usually owns a
 * whole /64, so a per-address key would cost an attacker nothing to
 * evade).  The port is not in the key: one host would get a bucket per
 * port it opens.
 *
 * Bounded memory and O(1): JV_SRCLIMIT_SETS sets of JV_SRCLIMIT_WAYS
 * entries; a source not in its set takes a free entry or the one used
 * least recently, with a full bucket.  Recycling can only give a source
 * a full bucket again, never take tokens from one, so a flood of sources
 * weakens the per-source limit (the global bucket still bounds the DHs)
 * but cannot lock anybody out.
 *
 * The caller must only charge a source it has proven (mac2, D-019): a
 * limiter keyed by an address a spoofer can forge would let him empty a
 * real client's bucket.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "ratelimit.h"
#include "rng.h"
#include "session.h"

enum jv_srclimit_sizes {
	JV_SRCLIMIT_SETS = 256,
	JV_SRCLIMIT_WAYS = 4,		/* 1024 entries, 48 KiB */
	JV_SRCLIMIT_KEY_SIZE = 16,	/* crypto_shorthash_KEYBYTES */
};

struct jv_srclimit_entry {
	uint64_t tag;			/* keyed hash of the source */
	jv_time last_ms;		/* last charged (LRU) */
	bool used;
	struct jv_token_bucket bucket;
};

struct jv_srclimit {
	uint8_t key[JV_SRCLIMIT_KEY_SIZE];
	double rate_per_sec;
	uint32_t burst;
	struct jv_srclimit_entry e[JV_SRCLIMIT_SETS * JV_SRCLIMIT_WAYS];
};

/* Empty table, hash key from rng.  Returns 0, or JV_ERR_INVAL (as
 * jv_token_bucket_init: rate not in [0.001, 1e9] or burst 0). */
JV_MUST_CHECK int jv_srclimit_init(struct jv_srclimit *l, double rate_per_sec,
				   uint32_t burst, const struct jv_rng *rng);

/* Charge one handshake to the source of `from` at now.  True if it had a
 * token (the DH may go ahead). */
bool jv_srclimit_take(struct jv_srclimit *l, const struct jv_addr *from,
		      jv_time now);

#endif
