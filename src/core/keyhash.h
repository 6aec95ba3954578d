/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_KEYHASH_H
#define JVPN_CORE_KEYHASH_H

/*
 * Static public key -> index, O(1) (spec §11): open addressing with linear
 * probing over SipHash-2-4 (libsodium's crypto_shorthash) under a key drawn
 * at init from the owner's rng.  The key is secret, so nobody can pick
 * public keys that pile into one probe chain and make every handshake walk
 * it.  The table stores indexes only; whether an index is the one wanted
 * (same public key, compared in constant time; not removed) is the
 * caller's to say, in `want`, for every entry of the chain, so a key is
 * never accepted on its hash alone.  One key may be present under several
 * indexes (a removed peer and its key added again): `want` picks.
 */

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "jvpn/error.h"
#include "jvpn/rng.h"

#define JV_KEYHASH_NONE UINT32_MAX

struct jv_keyhash_slot {
	uint64_t h;		/* hash of the key: its home, at any size */
	uint32_t val;		/* JV_KEYHASH_NONE: empty */
};

struct jv_keyhash {
	uint8_t key[crypto_shorthash_KEYBYTES];
	uint32_t cap;		/* power of two; at most half full */
	uint32_t used;
	struct jv_keyhash_slot *s;
};

/* An empty table under a fresh hash key.  JV_ERR_NOMEM. */
JV_MUST_CHECK int jv_keyhash_init(struct jv_keyhash *t,
				  const struct jv_rng *rng);
void jv_keyhash_free(struct jv_keyhash *t);

/* Add pub -> val (doubling the table when half full).  JV_ERR_NOMEM,
 * JV_ERR_INVAL (val JV_KEYHASH_NONE). */
JV_MUST_CHECK int jv_keyhash_add(struct jv_keyhash *t, const uint8_t pub[32],
				 uint32_t val);
/* Remove the entry pub -> val; no-op if absent. */
void jv_keyhash_del(struct jv_keyhash *t, const uint8_t pub[32], uint32_t val);

typedef bool (*jv_keyhash_want_fn)(void *ctx, uint32_t val,
				   const uint8_t pub[32]);
/* The first val of pub's probe chain that `want` accepts, or
 * JV_KEYHASH_NONE. */
uint32_t jv_keyhash_find(const struct jv_keyhash *t, const uint8_t pub[32],
			 jv_keyhash_want_fn want, void *ctx);

#endif
