/* SPDX-License-Identifier: MIT */
/*
 * Client side: consume a RESPONSE against a pending initiation made once
 * with fixed keys and seed (fuzz.h).  Input = one flag byte + the message;
 * flag bit 0 set: the harness recomputes mac1 for the client's public key
 * (known to anyone who knows the client), so mutations reach the DH and
 * AEAD.  Invariant: a rejected response leaves the pending state exactly
 * as it was.  The seed corpus holds the genuine response.
 */

#include <stdlib.h>

#include "fuzz.h"
#include "jvpn/wire.h"

static struct jv_noise_initiator pending;
static uint8_t client_pub[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct jv_noise_static client, gw;
	struct jv_seeded_rng s;
	struct jv_rng rng;
	uint8_t k[32], m1[JV_WIRE_INITIATION_SIZE];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	fuzz_key(k, FUZZ_CLIENT_BASE);
	if (jv_noise_static_init(&client, k))
		abort();
	fuzz_key(k, FUZZ_GATEWAY_BASE);
	if (jv_noise_static_init(&gw, k))
		abort();
	memcpy(client_pub, client.kp.pub, 32);
	jv_seeded_rng_init(&s, FUZZ_CLIENT_SEED);
	rng = jv_seeded_rng(&s);
	if (jv_noise_initiation_create(&pending, &client, gw.kp.pub,
				       FUZZ_CLIENT_INDEX, FUZZ_T0, &rng, m1))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[JV_WIRE_RESPONSE_SIZE];
	struct jv_noise_initiator st;
	struct jv_noise_result res;
	const uint8_t *msg;
	const char *why = NULL;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	msg = data + 1;
	n = size - 1;
	if ((data[0] & 1) && n == sizeof buf) {
		memcpy(buf, msg, n);
		fuzz_fix_mac1(buf, n - 16, client_pub);
		msg = buf;
	}
	memcpy(&st, &pending, sizeof st);
	r = jv_noise_response_consume(&st, msg, n, &res, &why);
	if (r != 0) {
		FUZZ_ASSERT((r == JV_ERR_PARSE || r == JV_ERR_AUTH) && why);
		FUZZ_ASSERT(memcmp(&st, &pending, sizeof st) == 0);
		return 0;
	}
	FUZZ_ASSERT(res.local_index == FUZZ_CLIENT_INDEX);
	jv_noise_result_wipe(&res);
	return 0;
}
