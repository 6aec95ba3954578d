/* SPDX-License-Identifier: MIT */
/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2b and the jvpn handshake messages framed
 * around it (jvpn/noise.h, docs/protocol.md).  Section numbers "Noise §x"
 * refer to the Noise Protocol Framework, revision 34.
 */

#include <string.h>

#include <sodium.h>

#include "jvpn/noise.h"

_Static_assert(sizeof(JV_NOISE_PROTOCOL_NAME) - 1 <= JV_NOISE_HASH_SIZE,
	       "the protocol name is used padded, not hashed (Noise §5.2)");
_Static_assert(8 + JV_NOISE_MSG1_OVERHEAD + JV_NOISE_TIMESTAMP_SIZE +
	       2 * JV_NOISE_MAC_SIZE == JV_WIRE_INITIATION_SIZE,
	       "INITIATION layout: mac1 then mac2");
_Static_assert(12 + JV_NOISE_MSG2_OVERHEAD + JV_SESSION_ID_BYTES +
	       JV_NOISE_MAC_SIZE == JV_WIRE_RESPONSE_SIZE,
	       "RESPONSE layout");

enum {
	BLAKE2B_BLOCK = 128,		/* HMAC block length B (RFC 2104) */
	INIT_MSG_AT = 8,		/* Noise message 1 inside INITIATION */
	INIT_MAC1_AT = JV_NOISE_INIT_MAC1_AT,
	INIT_MAC2_AT = JV_NOISE_INIT_MAC2_AT,
	RESP_MSG_AT = 12,
	RESP_MAC1_AT = JV_WIRE_RESPONSE_SIZE - JV_NOISE_MAC_SIZE,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- HMAC and HKDF --------------------------------------------------- */

/*
 * HMAC-BLAKE2b-512 (RFC 2104 with B = 128, L = 64), composed from
 * libsodium's BLAKE2b.  This composition is the only cryptographic code of
 * jvpn not taken whole from libsodium, and it exists because Noise's HKDF
 * (Noise §4.3) is defined over HMAC-HASH: libsodium offers HMAC only for
 * SHA-2, and its keyed BLAKE2b (crypto_generichash with a key) is a
 * different construction that would not be Noise_*_BLAKE2b and would fail
 * every published vector.  tests/unit/noise_test.c checks it against
 * independent HMAC and HKDF vectors and the noise-c handshake vector.
 *
 * The message is given in two parts (the HKDF steps hash "T || byte").
 * Parameters are always within libsodium's limits (64-byte output, no
 * key), so the BLAKE2b calls cannot fail.
 */
static void hmac2(uint8_t out[JV_NOISE_HASH_SIZE], const uint8_t *key,
		  size_t klen, const uint8_t *m1, size_t n1,
		  const uint8_t *m2, size_t n2)
{
	crypto_generichash_blake2b_state st;
	uint8_t k[BLAKE2B_BLOCK], pad[BLAKE2B_BLOCK];
	uint8_t inner[JV_NOISE_HASH_SIZE], outer[JV_NOISE_HASH_SIZE];

	memset(k, 0, sizeof k);
	if (klen > BLAKE2B_BLOCK)	/* RFC 2104: K = H(K) if longer than B */
		crypto_generichash_blake2b(k, JV_NOISE_HASH_SIZE, key, klen,
					   NULL, 0);
	else if (klen > 0)
		memcpy(k, key, klen);

	for (size_t i = 0; i < BLAKE2B_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	crypto_generichash_blake2b_init(&st, NULL, 0, JV_NOISE_HASH_SIZE);
	crypto_generichash_blake2b_update(&st, pad, sizeof pad);
	if (n1)
		crypto_generichash_blake2b_update(&st, m1, n1);
	if (n2)
		crypto_generichash_blake2b_update(&st, m2, n2);
	crypto_generichash_blake2b_final(&st, inner, sizeof inner);

	for (size_t i = 0; i < BLAKE2B_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	crypto_generichash_blake2b_init(&st, NULL, 0, JV_NOISE_HASH_SIZE);
	crypto_generichash_blake2b_update(&st, pad, sizeof pad);
	crypto_generichash_blake2b_update(&st, inner, sizeof inner);
	crypto_generichash_blake2b_final(&st, outer, sizeof outer);

	/* Written last, so out may alias key or the message. */
	memcpy(out, outer, sizeof outer);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
	sodium_memzero(outer, sizeof outer);
}

void jv_noise_hmac(uint8_t out[JV_NOISE_HASH_SIZE], const uint8_t *key,
		   size_t klen, const uint8_t *msg, size_t n)
{
	hmac2(out, key, klen, msg, n, NULL, 0);
}

void jv_noise_hkdf(const uint8_t *ck, size_t cklen, const uint8_t *ikm,
		   size_t n, uint8_t o1[JV_NOISE_HASH_SIZE],
		   uint8_t o2[JV_NOISE_HASH_SIZE],
		   uint8_t o3[JV_NOISE_HASH_SIZE])
{
	uint8_t temp[JV_NOISE_HASH_SIZE], t1[JV_NOISE_HASH_SIZE],
		t2[JV_NOISE_HASH_SIZE];
	const uint8_t one = 1, two = 2, three = 3;

	hmac2(temp, ck, cklen, ikm, n, NULL, 0);
	hmac2(t1, temp, sizeof temp, &one, 1, NULL, 0);
	hmac2(t2, temp, sizeof temp, t1, sizeof t1, &two, 1);
	if (o3)
		hmac2(o3, temp, sizeof temp, t2, sizeof t2, &three, 1);
	memcpy(o1, t1, sizeof t1);
	memcpy(o2, t2, sizeof t2);
	sodium_memzero(temp, sizeof temp);
	sodium_memzero(t1, sizeof t1);
	sodium_memzero(t2, sizeof t2);
}

/* ---- Noise symmetric state (Noise §5.1, §5.2) ------------------------- */

static void mix_hash(struct jv_noise_hs *hs, const uint8_t *data, size_t n)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, JV_NOISE_HASH_SIZE);
	crypto_generichash_blake2b_update(&st, hs->h, sizeof hs->h);
	crypto_generichash_blake2b_update(&st, data, n);
	crypto_generichash_blake2b_final(&st, hs->h, sizeof hs->h);
	sodium_memzero(&st, sizeof st);
}

static void mix_key(struct jv_noise_hs *hs, const uint8_t *ikm, size_t n)
{
	uint8_t temp_k[JV_NOISE_HASH_SIZE];

	jv_noise_hkdf(hs->ck, sizeof hs->ck, ikm, n, hs->ck, temp_k, NULL);
	/* HASHLEN 64 > 32: the cipher key is the first 32 bytes. */
	memcpy(hs->k, temp_k, sizeof hs->k);
	hs->has_k = true;
	hs->n = 0;
	sodium_memzero(temp_k, sizeof temp_k);
}

/* MixKey(DH(priv, pub)).  JV_ERR_AUTH if the result is the all-zero point
 * (libsodium refuses it: pub of small order). */
static int mix_dh(struct jv_noise_hs *hs, const uint8_t priv[32],
		  const uint8_t pub[32])
{
	uint8_t shared[crypto_scalarmult_BYTES];
	int err = 0;

	if (crypto_scalarmult(shared, priv, pub) != 0) {
		err = JV_ERR_AUTH;
		goto out;
	}
	mix_key(hs, shared, sizeof shared);
out:
	sodium_memzero(shared, sizeof shared);
	return err;
}

/* Noise nonce: 32 zero bits || n as 64-bit little-endian. */
static void noise_nonce(uint64_t n, uint8_t nonce[12])
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptAndHash (every use here has a key: IK mixes one before s). */
static void encrypt_and_hash(struct jv_noise_hs *hs, const uint8_t *pt,
			     size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	noise_nonce(hs->n++, nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len,
						  hs->h, sizeof hs->h, NULL,
						  nonce, hs->k);
	mix_hash(hs, out, len + JV_NOISE_TAG_SIZE);
}

/* DecryptAndHash: clen includes the tag.  JV_ERR_AUTH on a bad tag. */
static int decrypt_and_hash(struct jv_noise_hs *hs, const uint8_t *c,
			    size_t clen, uint8_t *out)
{
	uint8_t nonce[12];

	noise_nonce(hs->n++, nonce);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, c, clen,
						      hs->h, sizeof hs->h,
						      nonce, hs->k) != 0)
		return JV_ERR_AUTH;
	mix_hash(hs, c, clen);
	return 0;
}

/* ---- keys -------------------------------------------------------------- */

int jv_noise_keypair_from_private(struct jv_noise_keypair *kp,
				  const uint8_t priv[32])
{
	uint8_t p[32];
	int err = 0;

	memcpy(p, priv, sizeof p);	/* kp->priv may alias priv */
	if (crypto_scalarmult_base(kp->pub, p) != 0) {
		err = JV_ERR_INVAL;
		sodium_memzero(kp, sizeof *kp);
		goto out;
	}
	memcpy(kp->priv, p, sizeof p);
out:
	sodium_memzero(p, sizeof p);
	return err;
}

int jv_noise_keypair_generate(struct jv_noise_keypair *kp,
			      const struct jv_rng *rng)
{
	uint8_t priv[32];
	int err;

	jv_rng_fill(rng, priv, sizeof priv);
	err = jv_noise_keypair_from_private(kp, priv);
	sodium_memzero(priv, sizeof priv);
	return err;
}

/* ---- bare Noise IK (Noise §7.5 pattern IK, §5.3 HandshakeState) ------- */

void jv_noise_hs_wipe(struct jv_noise_hs *hs)
{
	sodium_memzero(hs, sizeof *hs);
}

int jv_noise_hs_init(struct jv_noise_hs *hs, bool initiator,
		     const uint8_t *prologue, size_t plen,
		     const struct jv_noise_keypair *s, const uint8_t rs[32])
{
	const char name[] = JV_NOISE_PROTOCOL_NAME;

	sodium_memzero(hs, sizeof *hs);
	if (initiator && !rs)
		return JV_ERR_INVAL;
	/* Name no longer than HASHLEN: h = name padded with zeros. */
	memcpy(hs->h, name, sizeof name - 1);
	memcpy(hs->ck, hs->h, sizeof hs->ck);
	mix_hash(hs, prologue, plen);
	hs->initiator = initiator;
	hs->s = *s;
	if (initiator) {
		memcpy(hs->rs, rs, sizeof hs->rs);
		mix_hash(hs, rs, 32);		/* <- s */
	} else {
		mix_hash(hs, s->pub, 32);	/* <- s */
	}
	return 0;
}

int jv_noise_hs_write_msg1(struct jv_noise_hs *hs, const struct jv_rng *rng,
			   const uint8_t *payload, size_t len, uint8_t *out,
			   size_t cap)
{
	int err;

	if (!hs->initiator || hs->step != 0)
		return JV_ERR_STATE;
	if (cap < len + JV_NOISE_MSG1_OVERHEAD)
		return JV_ERR_NOSPACE;
	err = jv_noise_keypair_generate(&hs->e, rng);		/* e */
	if (err)
		return err;
	memcpy(out, hs->e.pub, 32);
	mix_hash(hs, hs->e.pub, 32);
	err = mix_dh(hs, hs->e.priv, hs->rs);			/* es */
	if (err)
		return err;
	encrypt_and_hash(hs, hs->s.pub, 32, out + 32);		/* s */
	err = mix_dh(hs, hs->s.priv, hs->rs);			/* ss */
	if (err)
		return err;
	encrypt_and_hash(hs, payload, len, out + 32 + 48);
	hs->step = 1;
	return (int)(len + JV_NOISE_MSG1_OVERHEAD);
}

int jv_noise_hs_read_msg1(struct jv_noise_hs *hs, const uint8_t *msg,
			  size_t n, uint8_t *payload, size_t cap)
{
	size_t len;
	int err;

	if (hs->initiator || hs->step != 0)
		return JV_ERR_STATE;
	if (n < JV_NOISE_MSG1_OVERHEAD)
		return JV_ERR_PARSE;
	len = n - JV_NOISE_MSG1_OVERHEAD;
	if (cap < len)
		return JV_ERR_NOSPACE;
	memcpy(hs->re, msg, 32);				/* e */
	mix_hash(hs, hs->re, 32);
	err = mix_dh(hs, hs->s.priv, hs->re);			/* es */
	if (err)
		return err;
	err = decrypt_and_hash(hs, msg + 32, 48, hs->rs);	/* s */
	if (err)
		return err;
	err = mix_dh(hs, hs->s.priv, hs->rs);			/* ss */
	if (err)
		return err;
	err = decrypt_and_hash(hs, msg + 80, len + JV_NOISE_TAG_SIZE, payload);
	if (err)
		return err;
	hs->step = 1;
	return (int)len;
}

int jv_noise_hs_write_msg2(struct jv_noise_hs *hs, const struct jv_rng *rng,
			   const uint8_t *payload, size_t len, uint8_t *out,
			   size_t cap)
{
	int err;

	if (hs->initiator || hs->step != 1)
		return JV_ERR_STATE;
	if (cap < len + JV_NOISE_MSG2_OVERHEAD)
		return JV_ERR_NOSPACE;
	err = jv_noise_keypair_generate(&hs->e, rng);		/* e */
	if (err)
		return err;
	memcpy(out, hs->e.pub, 32);
	mix_hash(hs, hs->e.pub, 32);
	err = mix_dh(hs, hs->e.priv, hs->re);			/* ee */
	if (err)
		return err;
	err = mix_dh(hs, hs->e.priv, hs->rs);			/* se */
	if (err)
		return err;
	encrypt_and_hash(hs, payload, len, out + 32);
	hs->step = 2;
	return (int)(len + JV_NOISE_MSG2_OVERHEAD);
}

int jv_noise_hs_read_msg2(struct jv_noise_hs *hs, const uint8_t *msg,
			  size_t n, uint8_t *payload, size_t cap)
{
	size_t len;
	int err;

	if (!hs->initiator || hs->step != 1)
		return JV_ERR_STATE;
	if (n < JV_NOISE_MSG2_OVERHEAD)
		return JV_ERR_PARSE;
	len = n - JV_NOISE_MSG2_OVERHEAD;
	if (cap < len)
		return JV_ERR_NOSPACE;
	memcpy(hs->re, msg, 32);				/* e */
	mix_hash(hs, hs->re, 32);
	err = mix_dh(hs, hs->e.priv, hs->re);			/* ee */
	if (err)
		return err;
	err = mix_dh(hs, hs->s.priv, hs->re);			/* se */
	if (err)
		return err;
	err = decrypt_and_hash(hs, msg + 32, len + JV_NOISE_TAG_SIZE, payload);
	if (err)
		return err;
	hs->step = 2;
	return (int)len;
}

/*
 * Noise's Split() gives the two traffic keys (t1, t2); the same HKDF's third
 * output, which Split() leaves unused, is the session's root secret (PD-9):
 * the one value from which a gateway that takes the session over derives
 * fresh keys without a new DH.  Taking it from the chaining key, not the
 * handshake hash, keeps it secret (h is transcript, not key material).
 */
static int hs_split(struct jv_noise_hs *hs, uint8_t k_i2r[32],
		    uint8_t k_r2i[32], uint8_t root[32],
		    uint8_t hash[JV_NOISE_HASH_SIZE])
{
	uint8_t t1[JV_NOISE_HASH_SIZE], t2[JV_NOISE_HASH_SIZE],
		t3[JV_NOISE_HASH_SIZE];
	int err = 0;

	if (hs->step != 2) {
		err = JV_ERR_STATE;
		sodium_memzero(k_i2r, 32);
		sodium_memzero(k_r2i, 32);
		if (root)
			sodium_memzero(root, 32);
		sodium_memzero(hash, JV_NOISE_HASH_SIZE);
		goto out;
	}
	jv_noise_hkdf(hs->ck, sizeof hs->ck, NULL, 0, t1, t2, t3);
	memcpy(k_i2r, t1, 32);
	memcpy(k_r2i, t2, 32);
	if (root)
		memcpy(root, t3, 32);
	memcpy(hash, hs->h, JV_NOISE_HASH_SIZE);
out:
	sodium_memzero(t1, sizeof t1);
	sodium_memzero(t2, sizeof t2);
	sodium_memzero(t3, sizeof t3);
	jv_noise_hs_wipe(hs);
	return err;
}

int jv_noise_hs_split(struct jv_noise_hs *hs, uint8_t k_i2r[32],
		      uint8_t k_r2i[32], uint8_t hash[JV_NOISE_HASH_SIZE])
{
	return hs_split(hs, k_i2r, k_r2i, NULL, hash);
}

/* ---- jvpn framing ------------------------------------------------------ */

void jv_noise_labelled_key(const char label[8], const uint8_t pub[32],
			   uint8_t key[32])
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, 32);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)label, 8);
	crypto_generichash_blake2b_update(&st, pub, 32);
	crypto_generichash_blake2b_final(&st, key, 32);
}

/* BLAKE2b-256("mac1----" || pub): the mac1 key of messages sent to pub. */
static void mac1_key_of(const uint8_t pub[32], uint8_t key[32])
{
	jv_noise_labelled_key("mac1----", pub, key);
}

/* mac1 = keyed BLAKE2b-128(key, msg[0, n)) */
static void mac1_of(const uint8_t key[32], const uint8_t *msg, size_t n,
		    uint8_t mac[JV_NOISE_MAC_SIZE])
{
	crypto_generichash_blake2b(mac, JV_NOISE_MAC_SIZE, msg, n, key, 32);
}

static bool mac1_ok(const uint8_t key[32], const uint8_t *msg, size_t n)
{
	uint8_t mac[JV_NOISE_MAC_SIZE];

	mac1_of(key, msg, n, mac);
	return crypto_verify_16(mac, msg + n) == 0;
}

void jv_noise_tai64n(uint64_t unix_ms, uint8_t out[JV_NOISE_TIMESTAMP_SIZE])
{
	/* TAI64 label of the second (2^62 + 10 + Unix seconds, as
	 * WireGuard) then nanoseconds, both big-endian. */
	uint64_t secs = UINT64_C(0x400000000000000a) + unix_ms / 1000;
	uint32_t nanos = (uint32_t)(unix_ms % 1000) * 1000000u;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(secs >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nanos >> (24 - 8 * i));
}

void jv_noise_result_wipe(struct jv_noise_result *res)
{
	sodium_memzero(res, sizeof *res);
}

int jv_noise_static_init(struct jv_noise_static *id, const uint8_t priv[32])
{
	int err = jv_noise_keypair_from_private(&id->kp, priv);

	if (err) {
		sodium_memzero(id, sizeof *id);
		return err;
	}
	mac1_key_of(id->kp.pub, id->mac1_key);
	return 0;
}

static int say(const char **why, const char *text, int err)
{
	if (why)
		*why = text;
	return err;
}

int jv_noise_initiation_create(struct jv_noise_initiator *st,
			       const struct jv_noise_static *self,
			       const uint8_t gw_pub[32], uint32_t sender_index,
			       uint64_t now_ms, const struct jv_rng *rng,
			       uint8_t out[JV_WIRE_INITIATION_SIZE])
{
	static const char prologue[] = JV_NOISE_PROLOGUE;
	uint8_t ts[JV_NOISE_TIMESTAMP_SIZE], gw_mac1_key[32];
	int err;

	err = jv_noise_hs_init(&st->hs, true, (const uint8_t *)prologue,
			       sizeof prologue - 1, &self->kp, gw_pub);
	if (err)
		goto out;
	out[0] = JV_MSG_INITIATION;
	out[1] = out[2] = out[3] = 0;
	put_le32(out + 4, sender_index);
	jv_noise_tai64n(now_ms, ts);
	err = jv_noise_hs_write_msg1(&st->hs, rng, ts, sizeof ts,
				     out + INIT_MSG_AT,
				     INIT_MAC1_AT - INIT_MSG_AT);
	if (err < 0)
		goto out;
	err = 0;
	mac1_key_of(gw_pub, gw_mac1_key);
	mac1_of(gw_mac1_key, out, INIT_MAC1_AT, out + INIT_MAC1_AT);
	/* No cookie yet: the caller adds mac2 (jv_cookie_add_mac2). */
	memset(out + INIT_MAC2_AT, 0, JV_NOISE_MAC_SIZE);
	memcpy(st->mac1, out + INIT_MAC1_AT, sizeof st->mac1);
	st->sender_index = sender_index;
	memcpy(st->mac1_key, self->mac1_key, sizeof st->mac1_key);
out:
	if (err)
		sodium_memzero(st, sizeof *st);
	sodium_memzero(ts, sizeof ts);
	return err;
}

int jv_noise_response_consume(struct jv_noise_initiator *st,
			      const uint8_t *msg, size_t n,
			      struct jv_noise_result *res, const char **why)
{
	/* Work on a copy: a forged response must not spoil the pending
	 * handshake (only success consumes st). */
	struct jv_noise_hs hs;
	uint8_t sid[JV_SESSION_ID_BYTES];
	int err;

	memcpy(&hs, &st->hs, sizeof hs);
	if (n != JV_WIRE_RESPONSE_SIZE || msg[0] != JV_MSG_RESPONSE) {
		err = say(why, "response: wrong type or length", JV_ERR_PARSE);
		goto out;
	}
	if (msg[1] | msg[2] | msg[3]) {
		err = say(why, "response.reserved (bytes 1-3): not zero",
			  JV_ERR_PARSE);
		goto out;
	}
	if (!hs.initiator || hs.step != 1) {
		err = say(why, "response: no initiation pending", JV_ERR_STATE);
		goto out;
	}
	if (get_le32(msg + 8) != st->sender_index) {
		err = say(why, "response.receiver_index: not our initiation",
			  JV_ERR_AUTH);
		goto out;
	}
	if (!mac1_ok(st->mac1_key, msg, RESP_MAC1_AT)) {
		err = say(why, "response.mac1: not made for our key",
			  JV_ERR_AUTH);
		goto out;
	}
	err = jv_noise_hs_read_msg2(&hs, msg + RESP_MSG_AT,
				    RESP_MAC1_AT - RESP_MSG_AT, sid,
				    sizeof sid);
	if (err < 0) {
		say(why, "response: handshake does not verify", err);
		goto out;
	}
	memset(res, 0, sizeof *res);
	memcpy(res->session_id, sid, sizeof sid);
	res->local_index = st->sender_index;
	res->remote_index = get_le32(msg + 4);
	memcpy(res->remote_static, hs.rs, sizeof res->remote_static);
	err = hs_split(&hs, res->key_i2r, res->key_r2i, res->root, res->hash);
	if (err)
		goto out;
	sodium_memzero(st, sizeof *st);
out:
	sodium_memzero(&hs, sizeof hs);
	sodium_memzero(sid, sizeof sid);
	return err;
}

int jv_noise_initiation_check_mac1(const struct jv_noise_static *self,
				   const uint8_t *msg, size_t n)
{
	if (n != JV_WIRE_INITIATION_SIZE || msg[0] != JV_MSG_INITIATION ||
	    (msg[1] | msg[2] | msg[3]))
		return JV_ERR_PARSE;
	return mac1_ok(self->mac1_key, msg, INIT_MAC1_AT) ? 0 : JV_ERR_AUTH;
}

int jv_noise_initiation_consume(struct jv_noise_responder *st,
				const struct jv_noise_static *self,
				jv_noise_lookup_fn lookup, void *ctx,
				const uint8_t *msg, size_t n,
				const char **why)
{
	static const char prologue[] = JV_NOISE_PROLOGUE;
	uint8_t ts[JV_NOISE_TIMESTAMP_SIZE];
	struct jv_noise_peer *peer;
	int err;

	sodium_memzero(st, sizeof *st);
	err = jv_noise_initiation_check_mac1(self, msg, n);
	if (err) {
		say(why, err == JV_ERR_PARSE ?
		    "initiation: wrong type, length or reserved bytes" :
		    "initiation.mac1: not made for our key", err);
		goto out;
	}
	err = jv_noise_hs_init(&st->hs, false, (const uint8_t *)prologue,
			       sizeof prologue - 1, &self->kp, NULL);
	if (err)
		goto out;
	err = jv_noise_hs_read_msg1(&st->hs, msg + INIT_MSG_AT,
				    INIT_MAC1_AT - INIT_MSG_AT, ts, sizeof ts);
	if (err < 0) {
		say(why, "initiation: handshake does not verify", err);
		goto out;
	}
	err = 0;
	peer = lookup(ctx, st->hs.rs);
	if (!peer) {
		err = say(why, "initiation: client key not allowed",
			  JV_ERR_AUTH);
		goto out;
	}
	/* Big-endian TAI64N compares bytewise; not secret, so memcmp. */
	if (memcmp(ts, peer->last_ts, sizeof ts) <= 0) {
		err = say(why, "initiation.timestamp: not newer than the last one (replay)",
			  JV_ERR_REPLAY);
		goto out;
	}
	memcpy(peer->last_ts, ts, sizeof ts);
	st->peer = peer;
	st->remote_index = get_le32(msg + 4);
out:
	if (err)
		sodium_memzero(st, sizeof *st);
	sodium_memzero(ts, sizeof ts);
	return err;
}

int jv_noise_response_create(struct jv_noise_responder *st,
			     uint32_t sender_index, const struct jv_rng *rng,
			     uint8_t out[JV_WIRE_RESPONSE_SIZE],
			     struct jv_noise_result *res)
{
	uint8_t sid[JV_SESSION_ID_BYTES], client_mac1_key[32];
	int err;

	if (st->hs.initiator || st->hs.step != 1 || !st->peer) {
		err = JV_ERR_STATE;
		goto out;
	}
	jv_rng_fill(rng, sid, sizeof sid);
	out[0] = JV_MSG_RESPONSE;
	out[1] = out[2] = out[3] = 0;
	put_le32(out + 4, sender_index);
	put_le32(out + 8, st->remote_index);
	err = jv_noise_hs_write_msg2(&st->hs, rng, sid, sizeof sid,
				     out + RESP_MSG_AT,
				     RESP_MAC1_AT - RESP_MSG_AT);
	if (err < 0)
		goto out;
	err = 0;
	mac1_key_of(st->hs.rs, client_mac1_key);
	mac1_of(client_mac1_key, out, RESP_MAC1_AT, out + RESP_MAC1_AT);
	memset(res, 0, sizeof *res);
	memcpy(res->session_id, sid, sizeof sid);
	res->local_index = sender_index;
	res->remote_index = st->remote_index;
	memcpy(res->remote_static, st->hs.rs, sizeof res->remote_static);
	err = hs_split(&st->hs, res->key_i2r, res->key_r2i, res->root,
		       res->hash);
out:
	if (err)
		memset(out, 0, JV_WIRE_RESPONSE_SIZE);
	sodium_memzero(st, sizeof *st);
	sodium_memzero(sid, sizeof sid);
	return err;
}

void jv_noise_rekey(const uint8_t key[32], uint32_t new_epoch,
		    uint8_t out[32])
{
	static const uint8_t label[10] = "jvpn rekey";
	uint8_t ikm[sizeof label + 4], o1[JV_NOISE_HASH_SIZE],
		o2[JV_NOISE_HASH_SIZE];

	memcpy(ikm, label, sizeof label);
	put_le32(ikm + sizeof label, new_epoch);
	jv_noise_hkdf(key, 32, ikm, sizeof ikm, o1, o2, NULL);
	memcpy(out, o1, 32);
	sodium_memzero(o1, sizeof o1);
	sodium_memzero(o2, sizeof o2);
}

void jv_noise_takeover_keys(const uint8_t root[32], uint64_t owner_epoch,
			    uint8_t k_i2r[32], uint8_t k_r2i[32])
{
	static const uint8_t label[10] = "jvpn owner";
	uint8_t ikm[sizeof label + 8], o1[JV_NOISE_HASH_SIZE],
		o2[JV_NOISE_HASH_SIZE];

	memcpy(ikm, label, sizeof label);
	put_le32(ikm + sizeof label, (uint32_t)owner_epoch);
	put_le32(ikm + sizeof label + 4, (uint32_t)(owner_epoch >> 32));
	jv_noise_hkdf(root, 32, ikm, sizeof ikm, o1, o2, NULL);
	memcpy(k_i2r, o1, 32);
	memcpy(k_r2i, o2, 32);
	sodium_memzero(o1, sizeof o1);
	sodium_memzero(o2, sizeof o2);
}
