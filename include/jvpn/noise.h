/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NOISE_H
#define JVPN_NOISE_H

/*
 * The handshake: Noise_IK_25519_ChaChaPoly_BLAKE2b (noiseprotocol.org,
 * revision 34) with the prologue JV_NOISE_PROLOGUE, in WireGuard-like
 * fixed-size messages (docs/protocol.md "Handshake").
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss	INITIATION: payload = TAI64N timestamp (12 bytes)
 *   <- e, ee, se	RESPONSE:   payload = session_id (16 bytes)
 *
 * The client (initiator) knows the gateway's static key; the gateway
 * (responder) finds the client's static key in the initiation and accepts
 * it only if its lookup callback knows it.  One round trip yields the
 * session id, both receiver indexes and two traffic keys.
 *
 * Built only from libsodium: X25519 (crypto_scalarmult), ChaCha20-Poly1305
 * IETF, BLAKE2b-512 (crypto_generichash); HMAC-BLAKE2b for Noise's HKDF is
 * composed from BLAKE2b (see noise.c for why).  Every random byte (the
 * ephemeral private keys, the session id) comes from the struct jv_rng
 * passed in, so a seeded run is reproducible and a test can inject the
 * ephemeral of a test vector.  The caller must have run sodium_init().
 *
 * Two layers: jv_noise_hs_* is the bare Noise IK pattern with any prologue
 * and payload (used by the known-answer tests and by the layer above);
 * jv_noise_initiation_* / jv_noise_response_* frame it as jvpn messages
 * with indexes, mac1 and the replay-protected timestamp.  All state lives
 * in caller memory; secrets are wiped on every exit path that ends a
 * handshake, success or failure.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "rng.h"
#include "wire.h"

#define JV_NOISE_PROTOCOL_NAME "Noise_IK_25519_ChaChaPoly_BLAKE2b"
#define JV_NOISE_STR2_(x) #x
#define JV_NOISE_STR_(x) JV_NOISE_STR2_(x)
/* Names jvpn and its wire version: a peer of another version fails the
 * handshake (different transcript) instead of misreading it. */
#define JV_NOISE_PROLOGUE "jvpn protocol " JV_NOISE_STR_(JV_PROTOCOL_VERSION)

enum jv_noise_sizes {
	JV_NOISE_KEY_SIZE = 32,		/* X25519 keys, cipher keys */
	JV_NOISE_HASH_SIZE = 64,	/* BLAKE2b-512: h, ck, HMAC output */
	JV_NOISE_TAG_SIZE = 16,
	JV_NOISE_TIMESTAMP_SIZE = 12,	/* TAI64N */
	JV_NOISE_MAC_SIZE = 16,		/* mac1, mac2 */
	/* INITIATION: mac1 then mac2 end the message (docs/protocol.md
	 * 2.1); each covers every byte before it. */
	JV_NOISE_INIT_MAC1_AT = JV_WIRE_INITIATION_SIZE - 2 * 16,
	JV_NOISE_INIT_MAC2_AT = JV_WIRE_INITIATION_SIZE - 16,
	/* Bare Noise message sizes for a payload of p bytes. */
	JV_NOISE_MSG1_OVERHEAD = 32 + 32 + 16 + 16,	/* e, s + tag, tag */
	JV_NOISE_MSG2_OVERHEAD = 32 + 16,		/* e, tag */
};

struct jv_noise_keypair {
	uint8_t priv[JV_NOISE_KEY_SIZE];
	uint8_t pub[JV_NOISE_KEY_SIZE];
};

/* pub = X25519(priv, 9).  Returns 0, or JV_ERR_INVAL (libsodium refused
 * the key). */
JV_MUST_CHECK int jv_noise_keypair_from_private(struct jv_noise_keypair *kp,
						const uint8_t priv[32]);

/* A new key pair from 32 bytes of rng.  Returns 0 or JV_ERR_INVAL. */
JV_MUST_CHECK int jv_noise_keypair_generate(struct jv_noise_keypair *kp,
					    const struct jv_rng *rng);

/* BLAKE2b-256(label || pub), label 8 bytes ("mac1----", "cookie--"):
 * keys anyone who knows pub can compute (WireGuard's construction). */
void jv_noise_labelled_key(const char label[8], const uint8_t pub[32],
			   uint8_t key[32]);

/* ---- bare Noise IK --------------------------------------------------- */

struct jv_noise_hs {
	uint8_t h[JV_NOISE_HASH_SIZE];
	uint8_t ck[JV_NOISE_HASH_SIZE];
	uint8_t k[JV_NOISE_KEY_SIZE];
	uint64_t n;
	bool has_k;
	bool initiator;
	uint8_t step;			/* messages done: 0, 1, 2 */
	struct jv_noise_keypair s;	/* own static */
	struct jv_noise_keypair e;	/* own ephemeral */
	uint8_t rs[JV_NOISE_KEY_SIZE];	/* remote static */
	uint8_t re[JV_NOISE_KEY_SIZE];	/* remote ephemeral */
};

/*
 * Initialize for one handshake: h = protocol name, MixHash(prologue), then
 * the pre-message "<- s" (the responder's static key: rs for the
 * initiator, s->pub for the responder).  rs is required for the initiator
 * and ignored (may be NULL) for the responder.
 * Returns 0, or JV_ERR_INVAL (initiator without rs).
 */
JV_MUST_CHECK int jv_noise_hs_init(struct jv_noise_hs *hs, bool initiator,
				   const uint8_t *prologue, size_t plen,
				   const struct jv_noise_keypair *s,
				   const uint8_t rs[32]);

/*
 * Initiator: write "-> e, es, s, ss" + payload into out.  The ephemeral
 * private key is 32 bytes of rng.
 * Returns the message length (len + JV_NOISE_MSG1_OVERHEAD), or
 * JV_ERR_STATE (wrong role or step), JV_ERR_NOSPACE, JV_ERR_AUTH (a DH
 * gave the all-zero point: rs is of small order).
 */
JV_MUST_CHECK int jv_noise_hs_write_msg1(struct jv_noise_hs *hs,
					 const struct jv_rng *rng,
					 const uint8_t *payload, size_t len,
					 uint8_t *out, size_t cap);

/*
 * Responder: read message 1 of n bytes; the initiator's static key is then
 * in hs->rs and the payload in payload.
 * Returns the payload length, or JV_ERR_STATE, JV_ERR_PARSE (shorter than
 * JV_NOISE_MSG1_OVERHEAD), JV_ERR_NOSPACE, JV_ERR_AUTH (AEAD or DH).  On
 * error hs is unspecified: wipe it.
 */
JV_MUST_CHECK int jv_noise_hs_read_msg1(struct jv_noise_hs *hs,
					const uint8_t *msg, size_t n,
					uint8_t *payload, size_t cap);

/* Responder: write "<- e, ee, se" + payload.  Returns as write_msg1 (with
 * JV_NOISE_MSG2_OVERHEAD). */
JV_MUST_CHECK int jv_noise_hs_write_msg2(struct jv_noise_hs *hs,
					 const struct jv_rng *rng,
					 const uint8_t *payload, size_t len,
					 uint8_t *out, size_t cap);

/* Initiator: read message 2.  Returns as read_msg1. */
JV_MUST_CHECK int jv_noise_hs_read_msg2(struct jv_noise_hs *hs,
					const uint8_t *msg, size_t n,
					uint8_t *payload, size_t cap);

/*
 * Noise Split() after both messages: k_i2r seals initiator -> responder,
 * k_r2i the other way (each the first 32 bytes of an HKDF output), and the
 * handshake hash h (channel binding).  Wipes hs in every case.
 * Returns 0, or JV_ERR_STATE (handshake not complete; outputs zeroed).
 */
JV_MUST_CHECK int jv_noise_hs_split(struct jv_noise_hs *hs,
				    uint8_t k_i2r[32], uint8_t k_r2i[32],
				    uint8_t hash[JV_NOISE_HASH_SIZE]);

void jv_noise_hs_wipe(struct jv_noise_hs *hs);

/* The primitives under Noise's HKDF, exposed for their known-answer tests:
 * HMAC-BLAKE2b-512 with any key length (RFC 2104, block 128 bytes), and
 * HKDF(ck, ikm) of Noise §4.3 = RFC 5869 with salt ck, empty info, giving
 * two or three 64-byte outputs (o3 may be NULL).  Outputs may alias inputs. */
void jv_noise_hmac(uint8_t out[JV_NOISE_HASH_SIZE], const uint8_t *key,
		   size_t klen, const uint8_t *msg, size_t n);
void jv_noise_hkdf(const uint8_t *ck, size_t cklen, const uint8_t *ikm,
		   size_t n, uint8_t o1[JV_NOISE_HASH_SIZE],
		   uint8_t o2[JV_NOISE_HASH_SIZE],
		   uint8_t o3[JV_NOISE_HASH_SIZE]);

/* ---- jvpn handshake messages ----------------------------------------- */

/*
 * A node's long-term identity with what every handshake needs of it
 * precomputed: mac1_key = BLAKE2b-256("mac1----" || pub), the key of the
 * mac1 on messages sent TO this node.
 */
struct jv_noise_static {
	struct jv_noise_keypair kp;
	uint8_t mac1_key[32];
};

/* Returns 0 or JV_ERR_INVAL. */
JV_MUST_CHECK int jv_noise_static_init(struct jv_noise_static *id,
				       const uint8_t priv[32]);

/* The gateway's record of an allowed client key.  last_ts is the greatest
 * initiation timestamp accepted from it (all zero: none yet); an
 * initiation whose timestamp is not greater is a replay. */
struct jv_noise_peer {
	uint8_t pub[JV_NOISE_KEY_SIZE];
	uint8_t last_ts[JV_NOISE_TIMESTAMP_SIZE];
};

/* Find the allowed peer with this static public key, or NULL.  Called
 * after the key was decrypted and authenticated by the handshake. */
typedef struct jv_noise_peer *(*jv_noise_lookup_fn)(void *ctx,
						    const uint8_t pub[32]);

struct jv_noise_result {
	uint8_t session_id[JV_SESSION_ID_BYTES];
	uint32_t local_index;		/* ours: peers put it in packets to us */
	uint32_t remote_index;		/* theirs: we put it in packets to them */
	uint8_t key_i2r[JV_NOISE_KEY_SIZE];	/* client -> gateway */
	uint8_t key_r2i[JV_NOISE_KEY_SIZE];	/* gateway -> client */
	uint8_t root[JV_NOISE_KEY_SIZE];	/* root secret (PD-9): the third
						 * output of Split's HKDF */
	uint8_t hash[JV_NOISE_HASH_SIZE];	/* handshake hash */
	uint8_t remote_static[JV_NOISE_KEY_SIZE];
};

/* Wipe the keys of a result once they are installed elsewhere. */
void jv_noise_result_wipe(struct jv_noise_result *res);

/* TAI64N of a Unix time in ms (big-endian: compares bytewise). */
void jv_noise_tai64n(uint64_t unix_ms, uint8_t out[JV_NOISE_TIMESTAMP_SIZE]);

struct jv_noise_initiator {
	struct jv_noise_hs hs;
	uint32_t sender_index;
	uint8_t mac1_key[32];		/* of our own key: checks the response */
	uint8_t mac1[JV_NOISE_MAC_SIZE];	/* the initiation's: a cookie
						 * reply's associated data */
};

/*
 * Client: build an INITIATION (JV_WIRE_INITIATION_SIZE bytes) to the
 * gateway gw_pub.  sender_index is the caller's receiver index for this
 * session (from the rng, unique locally); now_ms the Unix time stamped
 * into it (must grow between initiations, or the gateway sees a replay).
 * st keeps what the response needs; it may be reused for a retry.  mac2
 * is written as zeros (no cookie); jv_cookie_add_mac2 fills it.
 * Returns 0, or JV_ERR_INVAL (key), JV_ERR_AUTH (gw_pub of small order);
 * st is wiped on error.
 */
JV_MUST_CHECK int jv_noise_initiation_create(struct jv_noise_initiator *st,
					     const struct jv_noise_static *self,
					     const uint8_t gw_pub[32],
					     uint32_t sender_index,
					     uint64_t now_ms,
					     const struct jv_rng *rng,
					     uint8_t out[JV_WIRE_INITIATION_SIZE]);

/*
 * Client: consume a RESPONSE.  On success fills res and wipes st.  On
 * failure st is left as it was, so a forged response cannot abort the
 * handshake and the genuine one can still be consumed.
 * Returns 0, or JV_ERR_PARSE (length, type, reserved), JV_ERR_AUTH
 * (receiver index not ours, mac1, DH or AEAD), JV_ERR_STATE (st holds no
 * pending initiation).  `why` (may be NULL) gets a static text.
 */
JV_MUST_CHECK int jv_noise_response_consume(struct jv_noise_initiator *st,
					    const uint8_t *msg, size_t n,
					    struct jv_noise_result *res,
					    const char **why);

struct jv_noise_responder {
	struct jv_noise_hs hs;
	uint32_t remote_index;		/* the initiator's sender index */
	struct jv_noise_peer *peer;	/* the authenticated client */
};

/*
 * Gateway, the cheap first step: is this a well-formed INITIATION whose
 * mac1 was made with our public key?  One BLAKE2b, no DH; constant-time
 * comparison.  mac2 is not looked at (cookie.h checks it, under load).
 * Returns 0, JV_ERR_PARSE or JV_ERR_AUTH.
 */
JV_MUST_CHECK int jv_noise_initiation_check_mac1(const struct jv_noise_static *self,
						 const uint8_t *msg, size_t n);

/*
 * Gateway: consume an INITIATION: parse, mac1, the Noise message, the
 * client key (lookup), then the timestamp against peer->last_ts, which is
 * raised on success.  st->peer is the client.
 * Returns 0, or JV_ERR_PARSE, JV_ERR_AUTH (mac1, DH, AEAD, unknown client
 * key), JV_ERR_REPLAY (timestamp not greater than the last one).  st is
 * wiped on error.  `why` (may be NULL) gets a static text.
 */
JV_MUST_CHECK int jv_noise_initiation_consume(struct jv_noise_responder *st,
					      const struct jv_noise_static *self,
					      jv_noise_lookup_fn lookup,
					      void *ctx,
					      const uint8_t *msg, size_t n,
					      const char **why);

/*
 * Gateway: after a successful consume, build the RESPONSE
 * (JV_WIRE_RESPONSE_SIZE bytes) with a fresh session id from rng and
 * sender_index (the gateway's receiver index for the session), and fill
 * res.  Wipes st in every case.
 * Returns 0, or JV_ERR_STATE (no consumed initiation), JV_ERR_AUTH (DH).
 */
JV_MUST_CHECK int jv_noise_response_create(struct jv_noise_responder *st,
					   uint32_t sender_index,
					   const struct jv_rng *rng,
					   uint8_t out[JV_WIRE_RESPONSE_SIZE],
					   struct jv_noise_result *res);

/*
 * Next-epoch traffic key: out = HKDF(key, "jvpn rekey" || new_epoch LE32)
 * truncated to 32 bytes, a one-way ratchet (out may alias key).  Someone
 * who steals the new key cannot compute the old one, so past epochs stay
 * secret (forward secrecy); but whoever holds a key can compute every
 * later one, so recovering from a compromise (post-compromise security)
 * needs fresh DH: a new handshake, i.e. a new session id (spec §7.7).
 * Apply it to each direction's key separately.
 */
void jv_noise_rekey(const uint8_t key[32], uint32_t new_epoch,
		    uint8_t out[32]);

/*
 * The traffic keys of an owner epoch (PD-9): HKDF(root, "jvpn owner" ||
 * owner_epoch LE64), first output client -> gateway, second gateway ->
 * client.  A gateway node that acquires a session with owner_epoch E
 * (strictly above every earlier one, by the store's CAS) sends only under
 * these, so no (key, counter) pair is ever used twice across a restart or
 * a takeover, with no counter state to persist and no DH.
 */
void jv_noise_takeover_keys(const uint8_t root[32], uint64_t owner_epoch,
			    uint8_t k_i2r[32], uint8_t k_r2i[32]);

#endif
