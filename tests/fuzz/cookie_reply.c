/* SPDX-License-Identifier: MIT */
/*
 * Client side: open a COOKIE_REPLY against an initiation made once with
 * fixed keys and seed (fuzz.h).  Input = one flag byte + the message.
 * Flag bit 0 set (and 64 bytes): the harness reseals the box, under the
 * message's own nonce, over the 16 bytes the input has there, with the
 * right key and AD, as anyone who saw the initiation can; mutations of the
 * header then reach the success path.  Invariants: a refusal names its
 * reason and leaves the cookie zeroed; an acceptance only for our index,
 * with exactly the sealed bytes.  The gateway's mac2 check runs over the
 * input too (any length).  The seed corpus holds the genuine reply.
 */

#include <stdlib.h>

#include "fuzz.h"
#include "jvpn/cookie.h"
#include "jvpn/wire.h"

static struct jv_noise_initiator pending;
static struct jv_cookie_checker checker;
static uint8_t key[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct jv_noise_static client, gw;
	struct jv_seeded_rng s;
	struct jv_rng rng;
	uint8_t k[32], m1[JV_WIRE_INITIATION_SIZE], r[JV_WIRE_COOKIE_REPLY_SIZE];
	struct jv_addr from;

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
	jv_seeded_rng_init(&s, FUZZ_CLIENT_SEED);
	rng = jv_seeded_rng(&s);
	if (jv_noise_initiation_create(&pending, &client, gw.kp.pub,
				       FUZZ_CLIENT_INDEX, FUZZ_T0, &rng, m1))
		abort();
	jv_cookie_seal_key(gw.kp.pub, key);
	/* a gateway secret, so the mac2 check below runs to the compare */
	jv_seeded_rng_init(&s, FUZZ_GATEWAY_SEED);
	rng = jv_seeded_rng(&s);
	jv_cookie_checker_init(&checker, gw.kp.pub);
	fuzz_cookie_addr(&from);
	if (jv_cookie_reply_create(&checker, m1, sizeof m1, &from, FUZZ_T0,
				   &rng, r) != JV_WIRE_COOKIE_REPLY_SIZE)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[JV_COOKIE_SIZE];
	uint8_t buf[JV_WIRE_COOKIE_REPLY_SIZE], sealed[JV_COOKIE_SIZE];
	uint8_t cookie[JV_COOKIE_SIZE];
	const uint8_t *msg;
	const char *why = NULL;
	struct jv_addr from;
	bool resealed = false;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	msg = data + 1;
	n = size - 1;
	fuzz_cookie_addr(&from);
	(void)jv_cookie_mac2_ok(&checker, msg, n, &from, FUZZ_T0);
	if ((data[0] & 1) && n == sizeof buf) {
		memcpy(buf, msg, n);
		memcpy(sealed, buf + 32, sizeof sealed);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			buf + 32, NULL, sealed, sizeof sealed, pending.mac1,
			sizeof pending.mac1, NULL, buf + 8, key);
		msg = buf;
		resealed = true;
	}
	r = jv_cookie_reply_open(key, pending.sender_index, pending.mac1, msg,
				 n, cookie, &why);
	if (r != 0) {
		FUZZ_ASSERT((r == JV_ERR_PARSE || r == JV_ERR_AUTH) && why);
		FUZZ_ASSERT(memcmp(cookie, zero, sizeof zero) == 0);
		/* a resealed reply is refused only for its header */
		FUZZ_ASSERT(!resealed || msg[0] != JV_MSG_COOKIE_REPLY ||
			    (msg[1] | msg[2] | msg[3]) ||
			    ((uint32_t)msg[4] | (uint32_t)msg[5] << 8 |
			     (uint32_t)msg[6] << 16 |
			     (uint32_t)msg[7] << 24) != pending.sender_index);
		return 0;
	}
	FUZZ_ASSERT(n == JV_WIRE_COOKIE_REPLY_SIZE &&
		    msg[0] == JV_MSG_COOKIE_REPLY);
	if (resealed)
		FUZZ_ASSERT(memcmp(cookie, sealed, sizeof sealed) == 0);
	return 0;
}
