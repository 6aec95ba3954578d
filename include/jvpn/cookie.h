/* SPDX-License-Identifier: MIT */
#ifndef JVPN_COOKIE_H
#define JVPN_COOKIE_H

/*
 * The cookie reply and mac2 of WireGuard (whitepaper §5.4.7), in libsodium:
 * how a gateway under load makes a client prove it receives datagrams at
 * the address it sends from before spending a DH on it (docs/protocol.md
 * 2.8, D-019).
 *
 *   cookie = BLAKE2b-128(key = R, source IP (16) || port (u16 LE))
 *            R: 32 random bytes of the gateway, replaced every
 *            JV_COOKIE_SECRET_MS (from its injected rng, at its `now`)
 *   mac2   = BLAKE2b-128(key = cookie, INITIATION bytes before mac2)
 *   COOKIE_REPLY (64 bytes) = type 3 || 3 zero || receiver_index (the
 *            initiation's sender_index, u32 LE) || nonce (24 random) ||
 *            XChaCha20-Poly1305(key = BLAKE2b-256("cookie--" || gateway
 *            public key), nonce, cookie, AD = the initiation's mac1)
 *
 * The sealing key is public (anyone with the gateway's public key has it):
 * the AEAD does not authenticate the gateway, it binds the reply to one
 * initiation (its mac1, which only a sender or an observer of it knows)
 * and keeps the cookie from anyone who did not see that initiation.  A
 * spoofer never receives the reply sent to the address it forged, so it
 * never holds that address's cookie.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "rng.h"
#include "session.h"
#include "wire.h"

enum jv_cookie_limits {
	JV_COOKIE_SIZE = 16,
	JV_COOKIE_NONCE_SIZE = 24,		/* XChaCha20 */
	JV_COOKIE_SECRET_MS = 120000,		/* R is replaced this old */
	/* The client stops using a cookie this much before the gateway's R
	 * may have moved on (it cannot know when R was drawn). */
	JV_COOKIE_CLIENT_MARGIN_MS = 10000,
	/* At most one early retransmit per this interval on cookie
	 * replies: a forged or duplicated reply cannot make a burst. */
	JV_COOKIE_RESEND_MIN_MS = 100,
};

/* The gateway's side. */
struct jv_cookie_checker {
	uint8_t secret[32];		/* R */
	jv_time secret_birth;
	bool have_secret;
	uint8_t seal_key[32];		/* BLAKE2b-256("cookie--" || own pub) */
};

/* Prepare for the gateway with public key `pub`: no secret yet (one is
 * drawn by the first reply). */
void jv_cookie_checker_init(struct jv_cookie_checker *ck,
			    const uint8_t pub[32]);

/* Does the INITIATION msg (n bytes, mac1 already checked) carry the mac2
 * of the cookie of `from` under the current R?  False when R is older than
 * JV_COOKIE_SECRET_MS at now (such a cookie has expired) or was never
 * drawn.  Constant-time comparison; no state change. */
bool jv_cookie_mac2_ok(const struct jv_cookie_checker *ck,
		       const uint8_t *msg, size_t n,
		       const struct jv_addr *from, jv_time now);

/* Build the COOKIE_REPLY to the INITIATION msg from `from`, drawing a new R
 * first if the current one expired, and the nonce, from rng.  Returns
 * JV_WIRE_COOKIE_REPLY_SIZE, or JV_ERR_PARSE (msg is not an INITIATION). */
JV_MUST_CHECK int jv_cookie_reply_create(struct jv_cookie_checker *ck,
					 const uint8_t *msg, size_t n,
					 const struct jv_addr *from,
					 jv_time now, const struct jv_rng *rng,
					 uint8_t out[JV_WIRE_COOKIE_REPLY_SIZE]);

/* The client's side. */

/* The sealing key of replies from the gateway with public key gw_pub. */
void jv_cookie_seal_key(const uint8_t gw_pub[32], uint8_t key[32]);

/*
 * Open a COOKIE_REPLY of n bytes for our outstanding INITIATION, whose
 * sender_index and mac1 the caller passes (jv_noise_initiator).  Parse
 * first (length, type, reserved), then the receiver index, then the AEAD.
 * On success the cookie is in cookie; on failure cookie is zeroed.
 * Returns 0, or JV_ERR_PARSE, JV_ERR_AUTH (another initiation's, or does
 * not open).  `why` (may be NULL) gets a static text.
 */
JV_MUST_CHECK int jv_cookie_reply_open(const uint8_t key[32],
				       uint32_t sender_index,
				       const uint8_t mac1[16],
				       const uint8_t *msg, size_t n,
				       uint8_t cookie[JV_COOKIE_SIZE],
				       const char **why);

/* Write mac2 of the INITIATION msg (its mac1 already in place) under
 * cookie. */
void jv_cookie_add_mac2(const uint8_t cookie[JV_COOKIE_SIZE],
			uint8_t msg[JV_WIRE_INITIATION_SIZE]);

#endif
