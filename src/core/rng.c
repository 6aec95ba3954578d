/* SPDX-License-Identifier: MIT */
/* Deterministic randomness for the simulator and the tests. */

#include <string.h>

#include <sodium.h>

#include "jvpn/rng.h"

void jv_seeded_rng_init(struct jv_seeded_rng *s, uint64_t seed)
{
	uint8_t in[8];

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(seed >> (8 * i));
	/* Spread a 64-bit seed over the 32-byte key; BLAKE2b is a fine KDF. */
	crypto_generichash(s->seed, sizeof s->seed, in, sizeof in, NULL, 0);
	s->counter = 0;
}

static void seeded_fill(void *ctx, void *buf, size_t n)
{
	struct jv_seeded_rng *s = ctx;
	uint8_t key[32];

	/* A fresh key per call: hash(seed || counter), so calls never overlap. */
	uint8_t in[32 + 8];
	memcpy(in, s->seed, 32);
	for (int i = 0; i < 8; i++)
		in[32 + i] = (uint8_t)(s->counter >> (8 * i));
	s->counter++;
	crypto_generichash(key, sizeof key, in, sizeof in, NULL, 0);
	randombytes_buf_deterministic(buf, n, key);
	sodium_memzero(key, sizeof key);
}

struct jv_rng jv_seeded_rng(struct jv_seeded_rng *s)
{
	return (struct jv_rng){ .fill = seeded_fill, .ctx = s };
}
