/* SPDX-License-Identifier: MIT */
/*
 * Cookie replies and mac2 (jvpn/cookie.h, WireGuard whitepaper §5.4.7):
 * libsodium's keyed BLAKE2b and XChaCha20-Poly1305, nothing composed here.
 */

#include <string.h>

#include <sodium.h>

#include "jvpn/cookie.h"
#include "jvpn/noise.h"

_Static_assert(4 + 4 + JV_COOKIE_NONCE_SIZE + JV_COOKIE_SIZE +
	       JV_WIRE_TAG_SIZE == JV_WIRE_COOKIE_REPLY_SIZE,
	       "COOKIE_REPLY layout");
_Static_assert(JV_COOKIE_NONCE_SIZE ==
	       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(JV_WIRE_TAG_SIZE == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "tag");

enum {
	REPLY_INDEX_AT = 4,
	REPLY_NONCE_AT = 8,
	REPLY_BOX_AT = REPLY_NONCE_AT + JV_COOKIE_NONCE_SIZE,
	INIT_SENDER_AT = 4,
};

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool is_initiation(const uint8_t *msg, size_t n)
{
	return msg && n == JV_WIRE_INITIATION_SIZE &&
	       msg[0] == JV_MSG_INITIATION;
}

void jv_cookie_seal_key(const uint8_t gw_pub[32], uint8_t key[32])
{
	jv_noise_labelled_key("cookie--", gw_pub, key);
}

void jv_cookie_checker_init(struct jv_cookie_checker *ck,
			    const uint8_t pub[32])
{
	memset(ck, 0, sizeof *ck);
	jv_cookie_seal_key(pub, ck->seal_key);
}

/* The address as the cookie hashes it: the port is in, so the cookie
 * proves the client receives at exactly this tuple (a NAT's other
 * clients behind the same IP get their own). */
static void cookie_of(const uint8_t secret[32], const struct jv_addr *a,
		      uint8_t cookie[JV_COOKIE_SIZE])
{
	uint8_t in[sizeof a->ip + 2];

	memcpy(in, a->ip, sizeof a->ip);
	in[16] = (uint8_t)a->port;
	in[17] = (uint8_t)(a->port >> 8);
	crypto_generichash_blake2b(cookie, JV_COOKIE_SIZE, in, sizeof in,
				   secret, 32);
}

static bool secret_fresh(const struct jv_cookie_checker *ck, jv_time now)
{
	return ck->have_secret &&
	       !(ck->secret_birth + JV_COOKIE_SECRET_MS <= now);
}

static void mac2_of(const uint8_t cookie[JV_COOKIE_SIZE], const uint8_t *msg,
		    uint8_t mac[JV_NOISE_MAC_SIZE])
{
	crypto_generichash_blake2b(mac, JV_NOISE_MAC_SIZE, msg,
				   JV_NOISE_INIT_MAC2_AT, cookie,
				   JV_COOKIE_SIZE);
}

bool jv_cookie_mac2_ok(const struct jv_cookie_checker *ck,
		       const uint8_t *msg, size_t n,
		       const struct jv_addr *from, jv_time now)
{
	uint8_t cookie[JV_COOKIE_SIZE], mac[JV_NOISE_MAC_SIZE];
	bool ok;

	if (!is_initiation(msg, n) || !secret_fresh(ck, now))
		return false;
	cookie_of(ck->secret, from, cookie);
	mac2_of(cookie, msg, mac);
	ok = crypto_verify_16(mac, msg + JV_NOISE_INIT_MAC2_AT) == 0;
	sodium_memzero(cookie, sizeof cookie);
	return ok;
}

int jv_cookie_reply_create(struct jv_cookie_checker *ck, const uint8_t *msg,
			   size_t n, const struct jv_addr *from, jv_time now,
			   const struct jv_rng *rng,
			   uint8_t out[JV_WIRE_COOKIE_REPLY_SIZE])
{
	uint8_t cookie[JV_COOKIE_SIZE];

	if (!is_initiation(msg, n))
		return JV_ERR_PARSE;
	/* R lives JV_COOKIE_SECRET_MS: a cookie a client got earlier stops
	 * working then, and a spoofer who once was on the path loses it. */
	if (!secret_fresh(ck, now)) {
		jv_rng_fill(rng, ck->secret, sizeof ck->secret);
		ck->secret_birth = now;
		ck->have_secret = true;
	}
	cookie_of(ck->secret, from, cookie);
	out[0] = JV_MSG_COOKIE_REPLY;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + REPLY_INDEX_AT, msg + INIT_SENDER_AT, 4);
	jv_rng_fill(rng, out + REPLY_NONCE_AT, JV_COOKIE_NONCE_SIZE);
	/* Bound to this initiation by its mac1: a reply seen on the wire
	 * does not fit any other initiation. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + REPLY_BOX_AT, NULL, cookie, sizeof cookie,
		msg + JV_NOISE_INIT_MAC1_AT, JV_NOISE_MAC_SIZE, NULL,
		out + REPLY_NONCE_AT, ck->seal_key);
	sodium_memzero(cookie, sizeof cookie);
	return JV_WIRE_COOKIE_REPLY_SIZE;
}

static int say(const char **why, const char *text, int err)
{
	if (why)
		*why = text;
	return err;
}

int jv_cookie_reply_open(const uint8_t key[32], uint32_t sender_index,
			 const uint8_t mac1[16], const uint8_t *msg, size_t n,
			 uint8_t cookie[JV_COOKIE_SIZE], const char **why)
{
	memset(cookie, 0, JV_COOKIE_SIZE);
	if (!msg || n != JV_WIRE_COOKIE_REPLY_SIZE ||
	    msg[0] != JV_MSG_COOKIE_REPLY)
		return say(why, "cookie reply: wrong type or length",
			   JV_ERR_PARSE);
	if (msg[1] | msg[2] | msg[3])
		return say(why, "cookie reply.reserved (bytes 1-3): not zero",
			   JV_ERR_PARSE);
	if (get_le32(msg + REPLY_INDEX_AT) != sender_index)
		return say(why, "cookie reply.receiver_index: not our initiation",
			   JV_ERR_AUTH);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, NULL, NULL, msg + REPLY_BOX_AT,
		    JV_COOKIE_SIZE + JV_WIRE_TAG_SIZE, mac1, JV_NOISE_MAC_SIZE,
		    msg + REPLY_NONCE_AT, key) != 0) {
		memset(cookie, 0, JV_COOKIE_SIZE);
		return say(why, "cookie reply: does not open for our initiation",
			   JV_ERR_AUTH);
	}
	return 0;
}

void jv_cookie_add_mac2(const uint8_t cookie[JV_COOKIE_SIZE],
			uint8_t msg[JV_WIRE_INITIATION_SIZE])
{
	mac2_of(cookie, msg, msg + JV_NOISE_INIT_MAC2_AT);
}
