/* SPDX-License-Identifier: MIT */
#ifndef JVPN_FUZZ_H
#define JVPN_FUZZ_H

/*
 * Shared by the libFuzzer targets and the corpus generator: the fixed keys
 * the handshake targets use, so that the seed corpus (made by
 * gen_corpus.c with the same keys and seeds) holds messages the targets
 * accept, and the fuzzer starts from inputs that reach every check.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "jvpn/noise.h"
#include "jvpn/rng.h"
#include "jvpn/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort on a broken invariant: libFuzzer reports it as a crash. */
#define FUZZ_ASSERT(c)                                                  \
	do {                                                            \
		if (!(c))                                               \
			__builtin_trap();                               \
	} while (0)

static inline void fuzz_key(uint8_t k[32], uint8_t base)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(base + i);
}

/* Client and gateway identities of the handshake targets. */
#define FUZZ_CLIENT_BASE 0x10
#define FUZZ_GATEWAY_BASE 0x40
/* Seeds of the client's and gateway's rng (ephemerals, session id). */
#define FUZZ_CLIENT_SEED 1
#define FUZZ_GATEWAY_SEED 2
#define FUZZ_T0 UINT64_C(1700000000123)
#define FUZZ_CLIENT_INDEX 0x01020304u
#define FUZZ_GATEWAY_INDEX 0x0a0b0c0du

/* Recompute the mac1 at msg[at] (over msg[0, at)) for the receiver with
 * public key pub, as anyone who knows pub can. */
static inline void fuzz_fix_mac1(uint8_t *msg, size_t at,
				 const uint8_t pub[32])
{
	uint8_t lab[40], key[32];

	memcpy(lab, "mac1----", 8);
	memcpy(lab + 8, pub, 32);
	crypto_generichash(key, sizeof key, lab, sizeof lab, NULL, 0);
	crypto_generichash(msg + at, 16, msg, at, key, sizeof key);
}

/* The source address of the cookie_reply target's initiation. */
static inline void fuzz_cookie_addr(struct jv_addr *a)
{
	memset(a, 0, sizeof *a);
	a->ip[10] = a->ip[11] = 0xff;
	a->ip[12] = 192;
	a->ip[15] = 7;
	a->port = 51820;
}

#endif
