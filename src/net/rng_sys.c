/* SPDX-License-Identifier: MIT */
/* OS randomness for the daemon, through libsodium. */

#include <sodium.h>

#include "net/rng_sys.h"

static void system_fill(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	randombytes_buf(buf, n);
}

struct jv_rng jv_rng_system(void)
{
	/* 0: initialised now, 1: already was, -1: unusable. */
	if (sodium_init() < 0)
		return (struct jv_rng){ .fill = NULL, .ctx = NULL };
	return (struct jv_rng){ .fill = system_fill, .ctx = NULL };
}
