/* SPDX-License-Identifier: MIT */
#ifndef JVPN_RNG_H
#define JVPN_RNG_H

/*
 * Injected randomness.  The core never asks the OS for random bytes: the
 * daemon passes a source backed by libsodium's randombytes_buf (src/net),
 * the simulator and the tests a seeded deterministic one, so a simulated
 * run is reproducible bit for bit from its seed.  Every random value of the
 * protocol (static and ephemeral keys made by the engine, session ids,
 * receiver indexes, challenges, jitter) comes from here.
 */

#include <stddef.h>
#include <stdint.h>

struct jv_rng {
	void (*fill)(void *ctx, void *buf, size_t n);
	void *ctx;
};

static inline void jv_rng_fill(const struct jv_rng *r, void *buf, size_t n)
{
	r->fill(r->ctx, buf, n);
}

/* Deterministic source: ChaCha20 keystream of a 32-byte seed (libsodium's
 * randombytes_buf_deterministic), advanced by a block counter. */
struct jv_seeded_rng {
	uint8_t seed[32];
	uint64_t counter;
};

void jv_seeded_rng_init(struct jv_seeded_rng *s, uint64_t seed);
/* A struct jv_rng that draws from s. */
struct jv_rng jv_seeded_rng(struct jv_seeded_rng *s);

#endif
