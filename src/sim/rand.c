/* SPDX-License-Identifier: MIT */
/* Named, buffered random streams derived from one seed. */

#include <string.h>

#include <sodium.h>

#include "sim/rand.h"

uint64_t sim_rand_derive(uint64_t seed, const char *name)
{
	crypto_generichash_state st;
	uint8_t in[8], out[8];
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(seed >> (8 * i));
	crypto_generichash_init(&st, NULL, 0, sizeof out);
	crypto_generichash_update(&st, in, sizeof in);
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name));
	crypto_generichash_final(&st, out, sizeof out);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)out[i] << (8 * i);
	return v;
}

void sim_rand_init(struct sim_rand *r, uint64_t seed, const char *name)
{
	jv_seeded_rng_init(&r->src, sim_rand_derive(seed, name));
	r->pos = sizeof r->buf;
}

uint64_t sim_rand_u64(struct sim_rand *r)
{
	uint64_t v = 0;

	if (r->pos + 8 > sizeof r->buf) {
		struct jv_rng g = jv_seeded_rng(&r->src);

		jv_rng_fill(&g, r->buf, sizeof r->buf);
		r->pos = 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->buf[r->pos + i] << (8 * i);
	r->pos += 8;
	return v;
}

uint64_t sim_rand_below(struct sim_rand *r, uint64_t n)
{
	uint64_t lim, v;

	if (n == 0)
		return 0;
	/* Reject the top partial block so every residue is equally likely. */
	lim = UINT64_MAX - UINT64_MAX % n;
	do
		v = sim_rand_u64(r);
	while (v >= lim);
	return v % n;
}

double sim_rand_unit(struct sim_rand *r)
{
	return (double)(sim_rand_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool sim_rand_chance(struct sim_rand *r, double p)
{
	if (!(p > 0))
		return false;
	if (p >= 1)
		return true;
	return sim_rand_unit(r) < p;
}
