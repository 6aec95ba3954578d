/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_RAND_H
#define JVPN_SIM_RAND_H

/*
 * Named random streams of a simulation.  Every stream (one per link
 * direction, one per endpoint engine, one for the chaos generator) is
 * derived from the run's seed and its name, so adding a link or drawing
 * more numbers on one path never shifts the numbers another path sees:
 * a run stays a pure function of (scenario, seed).  The bytes come from
 * struct jv_seeded_rng (include/jvpn/rng.h), buffered, so a per-packet
 * draw costs a copy, not a hash.
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/rng.h"

struct sim_rand {
	struct jv_seeded_rng src;
	unsigned pos;
	uint8_t buf[512];
};

/* The 64-bit seed of stream `name` of a run seeded with `seed`. */
uint64_t sim_rand_derive(uint64_t seed, const char *name);

/* Stream `name` of a run seeded with `seed`. */
void sim_rand_init(struct sim_rand *r, uint64_t seed, const char *name);

uint64_t sim_rand_u64(struct sim_rand *r);
/* Uniform in [0, n); 0 when n is 0.  Unbiased (rejection sampling). */
uint64_t sim_rand_below(struct sim_rand *r, uint64_t n);
/* Uniform in [0, 1), 53 bits. */
double sim_rand_unit(struct sim_rand *r);
/* True with probability p (p <= 0: never draws, false; p >= 1: true). */
bool sim_rand_chance(struct sim_rand *r, double p);

#endif
