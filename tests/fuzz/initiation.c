/* SPDX-License-Identifier: MIT */
/*
 * Gateway side: consume an INITIATION with fixed keys (fuzz.h).  Input =
 * one flag byte + the message.  Flag bit 0 set: the harness recomputes
 * mac1 for the gateway's public key before consuming, as any sender who
 * knows that key can, so mutated messages get past the cheap mac1 check
 * into the DH and AEAD code instead of all dying at mac1.  The seed
 * corpus holds a genuine initiation; its acceptance is checked to be
 * followed by a response and by a replay rejection.
 */

#include <stdlib.h>

#include "fuzz.h"
#include "jvpn/wire.h"

static struct jv_noise_static gw;
static struct jv_noise_peer peer;

static struct jv_noise_peer *lookup(void *ctx, const uint8_t pub[32])
{
	(void)ctx;
	return memcmp(pub, peer.pub, 32) == 0 ? &peer : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct jv_noise_static client;
	uint8_t k[32];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	fuzz_key(k, FUZZ_GATEWAY_BASE);
	if (jv_noise_static_init(&gw, k))
		abort();
	fuzz_key(k, FUZZ_CLIENT_BASE);
	if (jv_noise_static_init(&client, k))
		abort();
	memcpy(peer.pub, client.kp.pub, 32);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[JV_WIRE_INITIATION_SIZE], out[JV_WIRE_RESPONSE_SIZE];
	struct jv_noise_responder st;
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
		fuzz_fix_mac1(buf, JV_NOISE_INIT_MAC1_AT, gw.kp.pub);
		msg = buf;
	}
	memset(peer.last_ts, 0, sizeof peer.last_ts);
	r = jv_noise_initiation_check_mac1(&gw, msg, n);
	FUZZ_ASSERT(r == 0 || r == JV_ERR_PARSE || r == JV_ERR_AUTH);
	r = jv_noise_initiation_consume(&st, &gw, lookup, NULL, msg, n, &why);
	if (r != 0) {
		FUZZ_ASSERT((r == JV_ERR_PARSE || r == JV_ERR_AUTH) && why);
		return 0;
	}
	FUZZ_ASSERT(st.peer == &peer);
	struct jv_seeded_rng s;
	jv_seeded_rng_init(&s, FUZZ_GATEWAY_SEED);
	struct jv_rng rng = jv_seeded_rng(&s);
	FUZZ_ASSERT(jv_noise_response_create(&st, FUZZ_GATEWAY_INDEX, &rng,
					     out, &res) == 0);
	FUZZ_ASSERT(jv_noise_initiation_consume(&st, &gw, lookup, NULL, msg,
						n, &why) == JV_ERR_REPLAY);
	jv_noise_result_wipe(&res);
	return 0;
}
