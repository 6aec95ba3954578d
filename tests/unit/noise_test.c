/* SPDX-License-Identifier: MIT */
/*
 * Noise IK handshake: HMAC-BLAKE2b and HKDF against independent vectors,
 * the noise-c Noise_IK_25519_ChaChaPoly_BLAKE2b vector byte for byte, the
 * jvpn handshake in memory (seeded rng) with every rejection path and
 * every single-bit flip, and pinned key-schedule and rekey KATs.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jvpn/cookie.h"
#include "jvpn/noise.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, const char *want_hex)
{
	uint8_t want[512];
	size_t n = unhex(want_hex, want, sizeof want);

	assert_memory_equal(got, want, n);
}

/* An rng that hands out fixed bytes: injects a test vector's ephemerals. */
struct fixed_rng {
	uint8_t bytes[128];
	size_t len, off;
};

static void fixed_fill(void *ctx, void *buf, size_t n)
{
	struct fixed_rng *f = ctx;

	assert_true(f->off + n <= f->len);
	memcpy(buf, f->bytes + f->off, n);
	f->off += n;
}

/* ---- HMAC-BLAKE2b and HKDF ---------------------------------------------- */

/*
 * RFC 4231's inputs (cases 1-4, 6, 7) with BLAKE2b-512 in place of SHA-2,
 * plus block-size edge keys.  Expected values from Python's hmac module
 * over hashlib.blake2b (an independent implementation; it also reproduces
 * the cryptography.io HKDF vectors below).
 */
static void hmac_blake2b_vectors(void **st)
{
	(void)st;
	static const char *const big =
		"This is a test using a larger than block-size key and a "
		"larger than block-size data. The key needs to be hashed "
		"before being used by the HMAC algorithm.";
	uint8_t key[131], msg[160], out[64];
	struct {
		uint8_t kbyte;
		size_t klen;
		const char *msg;	/* NULL: mlen bytes of mbyte */
		uint8_t mbyte;
		size_t mlen;
		const char *mac;
	} v[] = {
		{ 0x0b, 20, "Hi There", 0, 0,
		  "358a6a184924894fc34bee5680eedf57d84a37bb38832f288e3b27dc63a98cc8"
		  "c91e76da476b508bc6b2d408a248857452906e4a20b48c6b4b55d2df0fe1dd24" },
		{ 0, 0, "what do ya want for nothing?", 0, 0,
		  "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643"
		  "b8807c1335d107ecdb9ffeaeb6828c4625ba172c66379efcd222c2de11727ab4" },
		{ 0xaa, 20, NULL, 0xdd, 50,
		  "f43bc62c7a99353c3b2c60e8ef24fbbd42e9547866dc9c5be4edc6f4a7d4bc0a"
		  "c620c2c60034d040f0dbaf86f9e9cd7891a095595eed55e2a996215f0c15c018" },
		{ 0, 25, NULL, 0xcd, 50,
		  "e5dbb6de2fee42a1caa06e4e7b84ce408ffa5c4a9de2632eca769cde8875014c"
		  "72d0720feaf53f76e6a180357f528d7bf484fa3a14e8cc1f0f3bada717b43491" },
		{ 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
		  "a54b2943b2a20227d41ca46c0945af09bc1faefb2f49894c23aebc557fb79c48"
		  "89dca74408dc865086667aedee4a3185c53a49c80b814c4c5813ea0c8b38a8f8" },
		{ 0xaa, 131, big, 0, 0,
		  "ab347980a64b5e825dd10e7d32fd43a01a8e6dea267ab9ad7d913524526618925"
		  "311afbcb0c49519cbebdd709540a8d725fb911ac2aee9b2a3aa43d796123393" },
		{ 0x11, 128, "block-size key", 0, 0,
		  "0637dc24ec0b6e79eba709675b821b811dc9b7512750bba1d70a984ad6c28ef5"
		  "dd3cdfead79cf335201125b32f43e8ae61c6af95622bc00180114d2672933aad" },
		{ 0x11, 129, "block-size key", 0, 0,
		  "c2a926daeb9137882ddb059123e31a0cd1583c10c71e224bf32b1063661cdaaf"
		  "87624e5d9da82ac8faa51b834ec61cff8823b42ad812054231240ba379bc438b" },
		{ 0, 0, "", 0, 0,
		  "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684"
		  "66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c" },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t klen = v[i].klen, mlen;

		memset(key, v[i].kbyte, sizeof key);
		if (i == 1) {
			memcpy(key, "Jefe", 4);
			klen = 4;
		}
		if (i == 3)
			for (size_t j = 0; j < 25; j++)
				key[j] = (uint8_t)(j + 1);
		if (v[i].msg) {
			mlen = strlen(v[i].msg);
			memcpy(msg, v[i].msg, mlen);
		} else {
			mlen = v[i].mlen;
			memset(msg, v[i].mbyte, mlen);
		}
		jv_noise_hmac(out, key, klen, msg, mlen);
		assert_hex(out, v[i].mac);
	}
	/* the output may alias the key */
	memset(key, 0x0b, 20);
	memcpy(out, key, 20);
	jv_noise_hmac(out, out, 20, (const uint8_t *)"Hi There", 8);
	assert_hex(out, v[0].mac);
}

/*
 * RFC 5869 HKDF-BLAKE2b, IKM = 0x0b * 22, empty info, salt "" and 0xab:
 * cryptography.io vectors (hacl-packages tests/hkdf/hkdf_blake2b.json);
 * o1 || o2 || o3 are the first 192 bytes of OKM.
 */
static void hkdf_blake2b_vectors(void **st)
{
	(void)st;
	uint8_t ikm[22], o1[64], o2[64], o3[64], cat[192];
	const uint8_t salt_ab = 0xab;

	memset(ikm, 0x0b, sizeof ikm);
	jv_noise_hkdf(NULL, 0, ikm, sizeof ikm, o1, o2, o3);
	memcpy(cat, o1, 64);
	memcpy(cat + 64, o2, 64);
	memcpy(cat + 128, o3, 64);
	assert_hex(cat,
		"817520332f597bd8f557a4b40fddfe7674f1edac6c8a1a36fa0546b649bfae4a"
		"2ed3f34d03fdef572d515780475d1abac98e7c7079880fe6e4e91a714b5cca4d"
		"e894b07019568c0fffb84ed89457fbb98ef7dfdeb366829ce61c7d42a45928d9"
		"cf2451709b5fa184a857d90f1d272fc70e8296ade68cfcf1cf8e9770664148c6"
		"7a1440926bfb33a6e15fd28e32c56f4d6e74f0fd4d94ff1bd18850e73fb7af3c"
		"07d217335a7fa4dd3cf37c73ba78dfc6b672d6fd1139913d2d0a54b388192f4d");
	jv_noise_hkdf(&salt_ab, 1, ikm, sizeof ikm, o1, o2, NULL);
	memcpy(cat, o1, 64);
	memcpy(cat + 64, o2, 64);
	assert_hex(cat,
		"6667d82dac95013c105fff4da5c84cdda31a39013ea09be86413e807358a5d70"
		"ad40c31f9da55083dea7a644f95b68798d779e0f93658759defaf434b35a7d29"
		"3062123aa860285778675caf7bf1e9582f03442193e7703c71a50b0c1cf2bbdb"
		"934d01c1f5cae0a981eb62d31ee6be15817c3943c09909608f5b766c7a4ac890");
}

/* ---- noise-c vector ------------------------------------------------------ */

/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2b from noise-c's tests/vector/
 * noise-c-basic.txt (prologue "Prologue123", fixed statics and
 * ephemerals): both handshake messages, the handshake hash and the first
 * transport message each way (which checks Split) byte for byte.
 */
static void noise_c_ik_blake2b_vector(void **st)
{
	(void)st;
	const char *prologue = "Prologue123";
	uint8_t ipriv[32], rpriv[32], payload[32], msg[256], back[64];
	struct jv_noise_keypair is, rsk;
	struct fixed_rng fi = { .len = 32 }, fr = { .len = 32 };
	struct jv_rng rngi = { fixed_fill, &fi }, rngr = { fixed_fill, &fr };
	struct jv_noise_hs hi, hr;
	uint8_t i2r[32], r2i[32], hash_i[64], hash_r[64];
	int n;

	unhex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1",
	      ipriv, 32);
	unhex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893",
	      rpriv, 32);
	unhex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
	      fi.bytes, 32);
	unhex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
	      fr.bytes, 32);
	assert_int_equal(jv_noise_keypair_from_private(&is, ipriv), 0);
	assert_int_equal(jv_noise_keypair_from_private(&rsk, rpriv), 0);
	assert_hex(rsk.pub,
		   "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62");

	assert_int_equal(jv_noise_hs_init(&hi, true, (const uint8_t *)prologue,
					  strlen(prologue), &is, rsk.pub), 0);
	assert_int_equal(jv_noise_hs_init(&hr, false, (const uint8_t *)prologue,
					  strlen(prologue), &rsk, NULL), 0);

	size_t plen = unhex("4c756477696720766f6e204d69736573", payload, 32);
	n = jv_noise_hs_write_msg1(&hi, &rngi, payload, plen, msg, sizeof msg);
	assert_int_equal(n, 96 + 16);
	assert_hex(msg,
		"ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
		"ba83a447b38c83e327ad936929812f624884847b7831e95e197b2f797088efdd"
		"232fe541af156ec6d0657602902a8c3e"
		"e64e470f4b6fcd9298ce0b56fe20f86e60d9d933ec6e103ffb09e6001d6abb64");
	assert_int_equal(jv_noise_hs_read_msg1(&hr, msg, (size_t)n, back,
					       sizeof back), (int)plen);
	assert_memory_equal(back, payload, plen);
	assert_memory_equal(hr.rs, is.pub, 32);

	plen = unhex("4d757272617920526f746862617264", payload, 32);
	n = jv_noise_hs_write_msg2(&hr, &rngr, payload, plen, msg, sizeof msg);
	assert_int_equal(n, 48 + 15);
	assert_hex(msg,
		"95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
		"9f069b267a06b3de3ecb1043bcb09807c6cd101f3826192a65f11ef3fe4317");
	assert_int_equal(jv_noise_hs_read_msg2(&hi, msg, (size_t)n, back,
					       sizeof back), (int)plen);
	assert_memory_equal(back, payload, plen);

	assert_int_equal(jv_noise_hs_split(&hi, i2r, r2i, hash_i), 0);
	assert_hex(hash_i,
		"00e51d2aac81a9b8ebe441d6af3e1c8efc0f030cc608332edcb42588ff6a0ce2"
		"6415ddc106e95277a5e6d54132f1e5245976b89caf96d262f1fe5a7f0c55c078");
	uint8_t ri2r[32], rr2i[32];
	assert_int_equal(jv_noise_hs_split(&hr, ri2r, rr2i, hash_r), 0);
	assert_memory_equal(hash_r, hash_i, 64);
	assert_memory_equal(ri2r, i2r, 32);
	assert_memory_equal(rr2i, r2i, 32);

	/* first transport message each way: nonce 0, no associated data */
	const uint8_t nonce[12] = { 0 };
	plen = unhex("462e20412e20486179656b", payload, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(msg, NULL, payload, plen,
						  NULL, 0, NULL, nonce, i2r);
	assert_hex(msg, "cd54383060e7a28434cca27fb1cc524cfbabeb18181589df219d07");
	plen = unhex("4361726c204d656e676572", payload, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(msg, NULL, payload, plen,
						  NULL, 0, NULL, nonce, r2i);
	assert_hex(msg, "a856d3bf0246bfc476c655009cd1ed677b8dcc5b349ae8ef2a05f2");

	/* split wiped both states */
	struct jv_noise_hs zero;
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&hi, &zero, sizeof zero);
	assert_memory_equal(&hr, &zero, sizeof zero);
}

static void bare_hs_state_errors(void **st)
{
	(void)st;
	struct jv_seeded_rng s;
	struct jv_rng rng;
	struct jv_noise_keypair a, b;
	struct jv_noise_hs hi, hr;
	uint8_t msg[256], p[64], k1[32], k2[32], h[64];

	jv_seeded_rng_init(&s, 5);
	rng = jv_seeded_rng(&s);
	assert_int_equal(jv_noise_keypair_generate(&a, &rng), 0);
	assert_int_equal(jv_noise_keypair_generate(&b, &rng), 0);
	assert_int_equal(jv_noise_hs_init(&hi, true, NULL, 0, &a, NULL),
			 JV_ERR_INVAL);
	assert_int_equal(jv_noise_hs_init(&hi, true, NULL, 0, &a, b.pub), 0);
	assert_int_equal(jv_noise_hs_init(&hr, false, NULL, 0, &b, NULL), 0);
	/* wrong role or order */
	assert_int_equal(jv_noise_hs_write_msg1(&hr, &rng, p, 0, msg, sizeof msg),
			 JV_ERR_STATE);
	assert_int_equal(jv_noise_hs_write_msg2(&hi, &rng, p, 0, msg, sizeof msg),
			 JV_ERR_STATE);
	assert_int_equal(jv_noise_hs_read_msg2(&hi, msg, 48, p, sizeof p),
			 JV_ERR_STATE);
	assert_int_equal(jv_noise_hs_write_msg1(&hi, &rng, p, 10, msg, 105),
			 JV_ERR_NOSPACE);
	int n = jv_noise_hs_write_msg1(&hi, &rng, p, 10, msg, sizeof msg);
	assert_int_equal(n, 106);
	assert_int_equal(jv_noise_hs_write_msg1(&hi, &rng, p, 10, msg, sizeof msg),
			 JV_ERR_STATE);
	assert_int_equal(jv_noise_hs_read_msg1(&hr, msg, 95, p, sizeof p),
			 JV_ERR_PARSE);
	assert_int_equal(jv_noise_hs_read_msg1(&hr, msg, (size_t)n, p, 9),
			 JV_ERR_NOSPACE);
	assert_int_equal(jv_noise_hs_read_msg1(&hr, msg, (size_t)n, p, sizeof p),
			 10);
	/* split before the end refuses and zeroes its outputs */
	memset(k1, 0xff, sizeof k1);
	assert_int_equal(jv_noise_hs_split(&hr, k1, k2, h), JV_ERR_STATE);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k1[i], 0);
	/* a zero-length payload round trip */
	assert_int_equal(jv_noise_hs_init(&hi, true, NULL, 0, &a, b.pub), 0);
	assert_int_equal(jv_noise_hs_init(&hr, false, NULL, 0, &b, NULL), 0);
	n = jv_noise_hs_write_msg1(&hi, &rng, NULL, 0, msg, sizeof msg);
	assert_int_equal(n, 96);
	assert_int_equal(jv_noise_hs_read_msg1(&hr, msg, 96, p, sizeof p), 0);
	n = jv_noise_hs_write_msg2(&hr, &rng, NULL, 0, msg, sizeof msg);
	assert_int_equal(n, 48);
	assert_int_equal(jv_noise_hs_read_msg2(&hi, msg, 47, p, sizeof p),
			 JV_ERR_PARSE);
	assert_int_equal(jv_noise_hs_read_msg2(&hi, msg, 48, p, sizeof p), 0);
	assert_int_equal(jv_noise_hs_split(&hi, k1, k2, h), 0);
	jv_noise_hs_wipe(&hr);
}

/* ---- jvpn handshake ------------------------------------------------------ */

struct peers {
	struct jv_noise_peer p[2];
	unsigned n;
	unsigned calls;
};

static struct jv_noise_peer *lookup(void *ctx, const uint8_t pub[32])
{
	struct peers *ps = ctx;

	ps->calls++;
	for (unsigned i = 0; i < ps->n; i++)
		if (memcmp(ps->p[i].pub, pub, 32) == 0)
			return &ps->p[i];
	return NULL;
}

struct world {
	struct jv_noise_static client, gateway;
	struct peers peers;
	struct jv_seeded_rng sc, sg;
	struct jv_rng rc, rg;
};

static void world_init(struct world *w)
{
	uint8_t cpriv[32], gpriv[32];

	memset(w, 0, sizeof *w);
	for (int i = 0; i < 32; i++) {
		cpriv[i] = (uint8_t)(0x10 + i);
		gpriv[i] = (uint8_t)(0x40 + i);
	}
	assert_int_equal(jv_noise_static_init(&w->client, cpriv), 0);
	assert_int_equal(jv_noise_static_init(&w->gateway, gpriv), 0);
	memcpy(w->peers.p[0].pub, w->client.kp.pub, 32);
	w->peers.n = 1;
	jv_seeded_rng_init(&w->sc, 1);
	jv_seeded_rng_init(&w->sg, 2);
	w->rc = jv_seeded_rng(&w->sc);
	w->rg = jv_seeded_rng(&w->sg);
}

static const uint64_t T0 = 1700000000123ull;

static void handshake_in_memory(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in;
	struct jv_noise_responder re;
	struct jv_noise_result a, b;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], m2[JV_WIRE_RESPONSE_SIZE];
	const char *why = NULL;

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 0x01020304, T0, &w.rc, m1), 0);
	assert_int_equal(m1[0], JV_MSG_INITIATION);
	assert_int_equal(jv_noise_initiation_check_mac1(&w.gateway, m1,
							sizeof m1), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), 0);
	assert_ptr_equal(re.peer, &w.peers.p[0]);
	assert_int_equal(re.remote_index, 0x01020304);
	uint8_t ts[12];
	jv_noise_tai64n(T0, ts);
	assert_memory_equal(w.peers.p[0].last_ts, ts, 12);

	assert_int_equal(jv_noise_response_create(&re, 0x0a0b0c0d, &w.rg, m2,
						  &b), 0);
	assert_int_equal(jv_noise_response_consume(&in, m2, sizeof m2, &a,
						   &why), 0);

	assert_memory_equal(a.session_id, b.session_id, 16);
	assert_memory_equal(a.key_i2r, b.key_i2r, 32);
	assert_memory_equal(a.key_r2i, b.key_r2i, 32);
	assert_memory_equal(a.hash, b.hash, 64);
	assert_memory_not_equal(a.key_i2r, a.key_r2i, 32);
	assert_int_equal(a.local_index, 0x01020304);
	assert_int_equal(a.remote_index, 0x0a0b0c0d);
	assert_int_equal(b.local_index, 0x0a0b0c0d);
	assert_int_equal(b.remote_index, 0x01020304);
	assert_memory_equal(a.remote_static, w.gateway.kp.pub, 32);
	assert_memory_equal(b.remote_static, w.client.kp.pub, 32);

	/* both states are spent and wiped */
	assert_int_equal(jv_noise_response_consume(&in, m2, sizeof m2, &a,
						   &why), JV_ERR_STATE);
	assert_int_equal(jv_noise_response_create(&re, 1, &w.rg, m2, &b),
			 JV_ERR_STATE);
	jv_noise_result_wipe(&a);
	jv_noise_result_wipe(&b);
}

/*
 * Pinned key schedule: fixed static keys, seeds 1 (client) and 2
 * (gateway), T0.  Any change to the transcript, the prologue, the framing,
 * mac1, the rng use or the KDF changes these bytes.  mac1 is recomputed
 * here from its definition, independently of noise.c.
 */
static void handshake_known_answer(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in;
	struct jv_noise_responder re;
	struct jv_noise_result a, b;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], m2[JV_WIRE_RESPONSE_SIZE];
	uint8_t k[32], mac[16];

	world_init(&w);
	assert_hex(w.client.kp.pub,
		   "d89e3bad79437dbed9f843418304f460ff05c7fe81fe4a9577a804cb9367ff66");
	assert_hex(w.gateway.kp.pub,
		   "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a");
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 0x01020304, T0, &w.rc, m1), 0);
	assert_hex(m1,
		"0100000004030201"
		"73709cb3e3a2a0d240b8c8d65fed8e88ed69b1cbee19662c090933183394570b"
		"c0473b4acf1d4c75a6115466c4d792d8ca0af467117b768dce1373c49ce62784"
		"dcea7f73ed84def2e4f7edef5607f49930ad3e0e545c19c477fb8d0b4f7854f5"
		"38114ecb057d878835f69de94b35e67dcf86056d77c0accda5bc7da9");
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, NULL), 0);
	assert_int_equal(jv_noise_response_create(&re, 0x0a0b0c0d, &w.rg, m2,
						  &b), 0);
	assert_hex(m2,
		"020000000d0c0b0a04030201"
		"df30176da8235dfbcfd0e418b73f0091e8f4ac39bcfdd0be10aa3c8a7b60d331"
		"eb2b17753583687a00231fc3c3989ac6b5f3c6681bd811965b451d46520f0ac2"
		"133bd37780ca239664ed93d739a47f95");
	assert_int_equal(jv_noise_response_consume(&in, m2, sizeof m2, &a,
						   NULL), 0);
	assert_hex(a.session_id, "f672006f8c5da96896364226d9d70b42");
	assert_hex(a.key_i2r,
		   "99fcc87b6fb43f48fe926ffd8a0cf73d00363c79d211e47b6d4163a55dd0071d");
	assert_hex(a.key_r2i,
		   "d2b9d85f8824d01754dc14a25b95e2163f5a68b836bb6ca48644a27d95607072");
	assert_hex(a.hash,
		"9dae9c674bddca4c1522da710da240e73420197c1dd6692d6575c9c88ec438b5"
		"b2e50ab8ac114ac4623c02dedc9184a74fcd4b68eaa39b86348fb1c23a1fa5b9");

	/* mac1 = BLAKE2b-128(key = BLAKE2b-256("mac1----" || receiver pub)) */
	uint8_t lab[40];
	memcpy(lab, "mac1----", 8);
	memcpy(lab + 8, w.gateway.kp.pub, 32);
	crypto_generichash(k, 32, lab, 40, NULL, 0);
	crypto_generichash(mac, 16, m1, 116, k, 32);
	assert_memory_equal(mac, m1 + 116, 16);
	memcpy(lab + 8, w.client.kp.pub, 32);
	crypto_generichash(k, 32, lab, 40, NULL, 0);
	crypto_generichash(mac, 16, m2, 76, k, 32);
	assert_memory_equal(mac, m2 + 76, 16);
}

static void same_seed_same_bytes(void **st)
{
	(void)st;
	struct world w1, w2;
	struct jv_noise_initiator i1, i2;
	uint8_t a[JV_WIRE_INITIATION_SIZE], b[JV_WIRE_INITIATION_SIZE];

	world_init(&w1);
	world_init(&w2);
	assert_int_equal(jv_noise_initiation_create(&i1, &w1.client,
			 w1.gateway.kp.pub, 7, T0, &w1.rc, a), 0);
	assert_int_equal(jv_noise_initiation_create(&i2, &w2.client,
			 w2.gateway.kp.pub, 7, T0, &w2.rc, b), 0);
	assert_memory_equal(a, b, sizeof a);
	/* the next initiation draws a new ephemeral */
	assert_int_equal(jv_noise_initiation_create(&i2, &w2.client,
			 w2.gateway.kp.pub, 7, T0, &w2.rc, b), 0);
	assert_memory_not_equal(a + 8, b + 8, 32);
}

static void wrong_gateway_key_fails_mac1(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_static other;
	struct jv_noise_initiator in;
	struct jv_noise_responder re;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], priv[32];
	const char *why = NULL;

	world_init(&w);
	memset(priv, 0x77, sizeof priv);
	assert_int_equal(jv_noise_static_init(&other, priv), 0);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 other.kp.pub, 1, T0, &w.rc, m1), 0);
	assert_int_equal(jv_noise_initiation_check_mac1(&w.gateway, m1,
							sizeof m1),
			 JV_ERR_AUTH);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), JV_ERR_AUTH);
	assert_non_null(strstr(why, "mac1"));
	/* rejected before any DH or lookup */
	assert_int_equal(w.peers.calls, 0);
	/* the right gateway accepts it */
	assert_int_equal(jv_noise_initiation_consume(&re, &other, lookup,
			 &w.peers, m1, sizeof m1, &why), 0);
}

static void unknown_client_key_rejected(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in;
	struct jv_noise_responder re, zero;
	uint8_t m1[JV_WIRE_INITIATION_SIZE];
	const char *why = NULL;

	world_init(&w);
	w.peers.p[0].pub[0] ^= 1;	/* the gateway allows someone else */
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 1, T0, &w.rc, m1), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), JV_ERR_AUTH);
	assert_non_null(strstr(why, "not allowed"));
	assert_int_equal(w.peers.calls, 1);
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&re, &zero, sizeof zero);	/* wiped */
	for (int i = 0; i < 12; i++)
		assert_int_equal(w.peers.p[0].last_ts[i], 0);
}

static void replayed_initiation_rejected(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in;
	struct jv_noise_responder re;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], old[JV_WIRE_INITIATION_SIZE];
	uint8_t m2[JV_WIRE_RESPONSE_SIZE];
	struct jv_noise_result res;
	const char *why = NULL;

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 1, T0, &w.rc, m1), 0);
	memcpy(old, m1, sizeof m1);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), 0);
	assert_int_equal(jv_noise_response_create(&re, 9, &w.rg, m2, &res), 0);
	/* the captured initiation, again */
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), JV_ERR_REPLAY);
	assert_non_null(strstr(why, "timestamp"));
	/* a new initiation in the same millisecond is no newer either */
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 2, T0, &w.rc, m1), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), JV_ERR_REPLAY);
	/* one millisecond later it is */
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 3, T0 + 1, &w.rc, m1), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, &why), 0);
	/* and the old one is still refused */
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, old, sizeof old, &why), JV_ERR_REPLAY);
	uint8_t ts[12];
	jv_noise_tai64n(T0 + 1, ts);
	assert_memory_equal(w.peers.p[0].last_ts, ts, 12);
}

static void initiation_every_bit_flip_rejected(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in;
	struct jv_noise_responder re;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], bad[JV_WIRE_INITIATION_SIZE];

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 1, T0, &w.rc, m1), 0);
	/* mac2 is the cookie checker's (cookie_mac2_*): consume ignores it */
	for (size_t bit = 0; bit < 8 * JV_NOISE_INIT_MAC2_AT; bit++) {
		memcpy(bad, m1, sizeof m1);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int r = jv_noise_initiation_consume(&re, &w.gateway, lookup,
						    &w.peers, bad, sizeof bad,
						    NULL);
		assert_true(r == JV_ERR_PARSE || r == JV_ERR_AUTH);
		/*
		 * Someone who knows the gateway's public key can redo mac1:
		 * the Noise part must still catch every flip of its own.
		 */
		if (bit / 8 >= 8 && bit / 8 < 116) {
			uint8_t key[32], lab[40];
			memcpy(lab, "mac1----", 8);
			memcpy(lab + 8, w.gateway.kp.pub, 32);
			crypto_generichash(key, 32, lab, 40, NULL, 0);
			crypto_generichash(bad + 116, 16, bad, 116, key, 32);
			assert_int_equal(jv_noise_initiation_consume(&re,
					 &w.gateway, lookup, &w.peers, bad,
					 sizeof bad, NULL), JV_ERR_AUTH);
		}
	}
	for (int i = 0; i < 12; i++)
		assert_int_equal(w.peers.p[0].last_ts[i], 0);
	/* the genuine message still goes through */
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, NULL), 0);
	/* every wrong length */
	for (size_t n = 0; n < sizeof m1; n++)
		assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway,
				 lookup, &w.peers, m1, n, NULL), JV_ERR_PARSE);
}

static void response_every_bit_flip_rejected(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in, saved;
	struct jv_noise_responder re;
	struct jv_noise_result a, b;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], m2[JV_WIRE_RESPONSE_SIZE],
		bad[JV_WIRE_RESPONSE_SIZE];
	const char *why;

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 1, T0, &w.rc, m1), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, NULL), 0);
	assert_int_equal(jv_noise_response_create(&re, 2, &w.rg, m2, &b), 0);
	saved = in;
	for (size_t bit = 0; bit < 8 * sizeof m2; bit++) {
		memcpy(bad, m2, sizeof m2);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		why = NULL;
		int r = jv_noise_response_consume(&in, bad, sizeof bad, &a,
						  &why);
		assert_true(r == JV_ERR_PARSE || r == JV_ERR_AUTH);
		assert_non_null(why);
		if (bit / 8 >= 12 && bit / 8 < 76) {
			uint8_t key[32], lab[40];
			memcpy(lab, "mac1----", 8);
			memcpy(lab + 8, w.client.kp.pub, 32);
			crypto_generichash(key, 32, lab, 40, NULL, 0);
			crypto_generichash(bad + 76, 16, bad, 76, key, 32);
			assert_int_equal(jv_noise_response_consume(&in, bad,
					 sizeof bad, &a, NULL), JV_ERR_AUTH);
		}
		/* a forged response leaves the pending handshake intact */
		assert_memory_equal(&in, &saved, sizeof in);
	}
	for (size_t n = 0; n < sizeof m2; n++)
		assert_int_equal(jv_noise_response_consume(&in, m2, n, &a,
							   NULL), JV_ERR_PARSE);
	assert_int_equal(jv_noise_response_consume(&in, m2, sizeof m2, &a,
						   NULL), 0);
	assert_memory_equal(a.key_i2r, b.key_i2r, 32);
}

static void response_for_another_initiation(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in1, in2;
	struct jv_noise_responder re;
	struct jv_noise_result a, b;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], m1b[JV_WIRE_INITIATION_SIZE],
		m2[JV_WIRE_RESPONSE_SIZE];
	const char *why = NULL;

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in1, &w.client,
			 w.gateway.kp.pub, 100, T0, &w.rc, m1), 0);
	assert_int_equal(jv_noise_initiation_create(&in2, &w.client,
			 w.gateway.kp.pub, 200, T0 + 5, &w.rc, m1b), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, NULL), 0);
	assert_int_equal(jv_noise_response_create(&re, 2, &w.rg, m2, &b), 0);
	/* the response names index 100: initiation 200 refuses it */
	assert_int_equal(jv_noise_response_consume(&in2, m2, sizeof m2, &a,
						   &why), JV_ERR_AUTH);
	assert_non_null(strstr(why, "receiver_index"));
	/* same index but other ephemeral: the AEAD refuses it */
	in2.sender_index = 100;
	assert_int_equal(jv_noise_response_consume(&in2, m2, sizeof m2, &a,
						   &why), JV_ERR_AUTH);
	assert_int_equal(jv_noise_response_consume(&in1, m2, sizeof m2, &a,
						   &why), 0);
}

static void small_order_keys_rejected(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in, zero;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], bad_pub[32] = { 0 };

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client, bad_pub, 1,
						    T0, &w.rc, m1), JV_ERR_AUTH);
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&in, &zero, sizeof zero);
	/* an initiation carrying a zero ephemeral (mac1 redone) */
	struct jv_noise_responder re;
	uint8_t key[32], lab[40];
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 1, T0, &w.rc, m1), 0);
	memset(m1 + 8, 0, 32);
	memcpy(lab, "mac1----", 8);
	memcpy(lab + 8, w.gateway.kp.pub, 32);
	crypto_generichash(key, 32, lab, 40, NULL, 0);
	crypto_generichash(m1 + 116, 16, m1, 116, key, 32);
	assert_int_equal(jv_noise_initiation_check_mac1(&w.gateway, m1,
							sizeof m1), 0);
	assert_int_equal(jv_noise_initiation_consume(&re, &w.gateway, lookup,
			 &w.peers, m1, sizeof m1, NULL), JV_ERR_AUTH);
}

static void reserved_bytes_must_be_zero(void **st)
{
	(void)st;
	struct world w;
	struct jv_noise_initiator in;
	uint8_t m1[JV_WIRE_INITIATION_SIZE];

	world_init(&w);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 1, T0, &w.rc, m1), 0);
	for (int i = 1; i < 4; i++) {
		m1[i] = 1;
		assert_int_equal(jv_noise_initiation_check_mac1(&w.gateway, m1,
								sizeof m1),
				 JV_ERR_PARSE);
		m1[i] = 0;
	}
	m1[0] = JV_MSG_RESPONSE;
	assert_int_equal(jv_noise_initiation_check_mac1(&w.gateway, m1,
							sizeof m1),
			 JV_ERR_PARSE);
}

static void tai64n_layout_and_order(void **st)
{
	(void)st;
	uint8_t a[12], b[12];

	jv_noise_tai64n(0, a);
	assert_hex(a, "400000000000000a00000000");
	jv_noise_tai64n(1500, a);
	assert_hex(a, "400000000000000b1dcd6500");
	for (uint64_t t = 999; t < 3002; t++) {
		jv_noise_tai64n(t, a);
		jv_noise_tai64n(t + 1, b);
		assert_true(memcmp(a, b, 12) < 0);
	}
}

static void rekey_known_answer(void **st)
{
	(void)st;
	uint8_t k[32], o[32], o2[32];

	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	/* HKDF(k, "jvpn rekey" || LE32(epoch))[0..32), values from Python's
	 * hmac + hashlib.blake2b */
	jv_noise_rekey(k, 1, o);
	assert_hex(o, "ebc9b95a6147bc83ae9287394fa23b85bd9dbd2d408097836acc97f7d52afc99");
	jv_noise_rekey(k, 2, o);
	assert_hex(o, "2a0f287fc42a3855b45177a446ce266c58efeb9b30c361b0e0e34a594a9ddec9");
	jv_noise_rekey(k, UINT32_MAX, o);
	assert_hex(o, "6dfaa74c7cd9bfaa5c6de0d464c863d85ec01b7d78545cd1a738d96edff9d26c");
	/* in place, and a chain differs from a skip */
	memcpy(o2, k, 32);
	jv_noise_rekey(o2, 1, o2);
	assert_hex(o2, "ebc9b95a6147bc83ae9287394fa23b85bd9dbd2d408097836acc97f7d52afc99");
	jv_noise_rekey(o2, 2, o2);
	jv_noise_rekey(k, 2, o);
	assert_memory_not_equal(o, o2, 32);
}

static void keypair_from_rng(void **st)
{
	(void)st;
	struct jv_seeded_rng s1, s2;
	struct jv_rng r1, r2;
	struct jv_noise_keypair a, b;
	uint8_t pub[32];

	jv_seeded_rng_init(&s1, 42);
	jv_seeded_rng_init(&s2, 42);
	r1 = jv_seeded_rng(&s1);
	r2 = jv_seeded_rng(&s2);
	assert_int_equal(jv_noise_keypair_generate(&a, &r1), 0);
	assert_int_equal(jv_noise_keypair_generate(&b, &r2), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_int_equal(crypto_scalarmult_base(pub, a.priv), 0);
	assert_memory_equal(pub, a.pub, 32);
	/* in place */
	assert_int_equal(jv_noise_keypair_from_private(&b, b.priv), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_string_equal(JV_NOISE_PROLOGUE, "jvpn protocol 1");
}

/* ---- cookie reply and mac2 (D-019) ------------------------------------- */

static struct jv_addr v4(uint32_t ip, uint16_t port)
{
	struct jv_addr a;

	memset(&a, 0, sizeof a);
	a.ip[10] = a.ip[11] = 0xff;
	a.ip[12] = (uint8_t)(ip >> 24);
	a.ip[13] = (uint8_t)(ip >> 16);
	a.ip[14] = (uint8_t)(ip >> 8);
	a.ip[15] = (uint8_t)ip;
	a.port = port;
	return a;
}

/* The gateway answers m1 from `from` at `now`; the client opens it. */
static int cookie_via_reply(struct world *w, struct jv_cookie_checker *ck,
			    const struct jv_noise_initiator *in,
			    const uint8_t m1[JV_WIRE_INITIATION_SIZE],
			    const struct jv_addr *from, jv_time now,
			    uint8_t cookie[JV_COOKIE_SIZE])
{
	uint8_t reply[JV_WIRE_COOKIE_REPLY_SIZE], key[32];

	assert_int_equal(jv_cookie_reply_create(ck, m1,
			 JV_WIRE_INITIATION_SIZE, from, now, &w->rg, reply),
			 JV_WIRE_COOKIE_REPLY_SIZE);
	assert_int_equal(jv_wire_classify(reply, sizeof reply),
			 JV_MSG_COOKIE_REPLY);
	jv_cookie_seal_key(w->gateway.kp.pub, key);
	return jv_cookie_reply_open(key, in->sender_index, in->mac1, reply,
				    sizeof reply, cookie, NULL);
}

static void cookie_reply_round_trip(void **st)
{
	(void)st;
	struct world w;
	struct jv_cookie_checker ck;
	struct jv_noise_initiator in;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], cookie[JV_COOKIE_SIZE],
		zero[JV_NOISE_MAC_SIZE] = { 0 };
	struct jv_addr from = v4(0xc0000201, 40000);
	struct jv_addr other_port = v4(0xc0000201, 40001);
	struct jv_addr other_ip = v4(0xc0000202, 40000);

	world_init(&w);
	jv_cookie_checker_init(&ck, w.gateway.kp.pub);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 7, T0, &w.rc, m1), 0);
	/* no cookie yet: mac2 is zeros, and no secret makes it valid */
	assert_memory_equal(m1 + JV_NOISE_INIT_MAC2_AT, zero, sizeof zero);
	assert_memory_equal(in.mac1, m1 + JV_NOISE_INIT_MAC1_AT, 16);
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, T0));

	assert_int_equal(cookie_via_reply(&w, &ck, &in, m1, &from, T0,
					  cookie), 0);
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, T0));
	jv_cookie_add_mac2(cookie, m1);
	assert_true(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, T0 + 1));
	/* mac1 still verifies: mac2 comes after it */
	assert_int_equal(jv_noise_initiation_check_mac1(&w.gateway, m1,
							sizeof m1), 0);
	/* a cookie names one address and port */
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &other_port, T0));
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &other_ip, T0));
	/* the same address gets the same cookie from the same secret, under
	 * a fresh nonce each time */
	uint8_t again[JV_COOKIE_SIZE], r1[JV_WIRE_COOKIE_REPLY_SIZE],
		r2[JV_WIRE_COOKIE_REPLY_SIZE];
	assert_int_equal(cookie_via_reply(&w, &ck, &in, m1, &from, T0 + 5,
					  again), 0);
	assert_memory_equal(again, cookie, sizeof again);
	assert_int_equal(jv_cookie_reply_create(&ck, m1, sizeof m1, &from, T0,
						&w.rg, r1), 64);
	assert_int_equal(jv_cookie_reply_create(&ck, m1, sizeof m1, &from, T0,
						&w.rg, r2), 64);
	assert_memory_not_equal(r1 + 8, r2 + 8, JV_COOKIE_NONCE_SIZE);
	/* not an initiation: no reply */
	assert_int_equal(jv_cookie_reply_create(&ck, m1, sizeof m1 - 1, &from,
						T0, &w.rg, r1), JV_ERR_PARSE);
	m1[0] = JV_MSG_RESPONSE;
	assert_int_equal(jv_cookie_reply_create(&ck, m1, sizeof m1, &from, T0,
						&w.rg, r1), JV_ERR_PARSE);
}

static void cookie_reply_bound_to_its_initiation(void **st)
{
	(void)st;
	struct world w;
	struct jv_cookie_checker ck;
	struct jv_noise_initiator a, b;
	uint8_t ma[JV_WIRE_INITIATION_SIZE], mb[JV_WIRE_INITIATION_SIZE],
		reply[JV_WIRE_COOKIE_REPLY_SIZE], bad[JV_WIRE_COOKIE_REPLY_SIZE],
		key[32], other_key[32], cookie[JV_COOKIE_SIZE],
		zero[JV_COOKIE_SIZE] = { 0 };
	struct jv_addr from = v4(0xc0000201, 40000);
	const char *why = NULL;

	world_init(&w);
	jv_cookie_checker_init(&ck, w.gateway.kp.pub);
	jv_cookie_seal_key(w.gateway.kp.pub, key);
	jv_cookie_seal_key(w.client.kp.pub, other_key);
	/* two initiations with the same sender index: only mac1 tells the
	 * reply which one it answers */
	assert_int_equal(jv_noise_initiation_create(&a, &w.client,
			 w.gateway.kp.pub, 9, T0, &w.rc, ma), 0);
	assert_int_equal(jv_noise_initiation_create(&b, &w.client,
			 w.gateway.kp.pub, 9, T0 + 1, &w.rc, mb), 0);
	assert_int_equal(jv_cookie_reply_create(&ck, ma, sizeof ma, &from, T0,
						&w.rg, reply), 64);
	assert_int_equal(jv_cookie_reply_open(key, 9, a.mac1, reply,
					      sizeof reply, cookie, &why), 0);
	/* wrong AD: the mac1 of another initiation */
	memset(cookie, 0xaa, sizeof cookie);
	assert_int_equal(jv_cookie_reply_open(key, 9, b.mac1, reply,
					      sizeof reply, cookie, &why),
			 JV_ERR_AUTH);
	assert_non_null(strstr(why, "does not open"));
	assert_memory_equal(cookie, zero, sizeof zero);
	/* another index */
	assert_int_equal(jv_cookie_reply_open(key, 10, a.mac1, reply,
					      sizeof reply, cookie, &why),
			 JV_ERR_AUTH);
	assert_non_null(strstr(why, "receiver_index"));
	/* sealed for another gateway's key */
	assert_int_equal(jv_cookie_reply_open(other_key, 9, a.mac1, reply,
					      sizeof reply, cookie, NULL),
			 JV_ERR_AUTH);
	/* every single-bit flip is refused */
	for (size_t bit = 0; bit < 8 * sizeof reply; bit++) {
		memcpy(bad, reply, sizeof bad);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int r = jv_cookie_reply_open(key, 9, a.mac1, bad, sizeof bad,
					     cookie, &why);
		assert_true(r == JV_ERR_PARSE || r == JV_ERR_AUTH);
		assert_memory_equal(cookie, zero, sizeof zero);
	}
	/* every wrong length */
	for (size_t n = 0; n < sizeof reply; n++)
		assert_int_equal(jv_cookie_reply_open(key, 9, a.mac1, reply, n,
						      cookie, NULL),
				 JV_ERR_PARSE);
}

static void mac2_wrong_rejected(void **st)
{
	(void)st;
	struct world w;
	struct jv_cookie_checker ck;
	struct jv_noise_initiator in;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], bad[JV_WIRE_INITIATION_SIZE],
		cookie[JV_COOKIE_SIZE];
	struct jv_addr from = v4(0xc0000201, 40000);

	world_init(&w);
	jv_cookie_checker_init(&ck, w.gateway.kp.pub);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 7, T0, &w.rc, m1), 0);
	assert_int_equal(cookie_via_reply(&w, &ck, &in, m1, &from, T0,
					  cookie), 0);
	jv_cookie_add_mac2(cookie, m1);
	assert_true(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, T0));
	/* mac2 covers every byte before it, mac1 included, and itself */
	for (size_t bit = 0; bit < 8 * sizeof m1; bit++) {
		memcpy(bad, m1, sizeof bad);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(jv_cookie_mac2_ok(&ck, bad, sizeof bad, &from,
					       T0));
	}
	/* a cookie guessed, or made for another address */
	uint8_t guess[JV_COOKIE_SIZE];
	memset(guess, 0x5a, sizeof guess);
	memcpy(bad, m1, sizeof bad);
	jv_cookie_add_mac2(guess, bad);
	assert_false(jv_cookie_mac2_ok(&ck, bad, sizeof bad, &from, T0));
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1 - 1, &from, T0));
}

static void cookie_secret_rotates(void **st)
{
	(void)st;
	struct world w;
	struct jv_cookie_checker ck;
	struct jv_noise_initiator in;
	uint8_t m1[JV_WIRE_INITIATION_SIZE], old[JV_COOKIE_SIZE],
		fresh[JV_COOKIE_SIZE];
	struct jv_addr from = v4(0xc0000201, 40000);
	const jv_time end = T0 + JV_COOKIE_SECRET_MS;

	world_init(&w);
	jv_cookie_checker_init(&ck, w.gateway.kp.pub);
	assert_int_equal(jv_noise_initiation_create(&in, &w.client,
			 w.gateway.kp.pub, 7, T0, &w.rc, m1), 0);
	assert_int_equal(cookie_via_reply(&w, &ck, &in, m1, &from, T0, old),
			 0);
	jv_cookie_add_mac2(old, m1);
	/* a reply within the secret's life does not replace it */
	assert_int_equal(cookie_via_reply(&w, &ck, &in, m1, &from, end - 1,
					  fresh), 0);
	assert_memory_equal(fresh, old, sizeof old);
	assert_true(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, end - 1));
	/* R expires: its cookies with it, even before anyone replaces it */
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, end));
	/* the next reply draws a new R: a new cookie, which works */
	assert_int_equal(cookie_via_reply(&w, &ck, &in, m1, &from, end,
					  fresh), 0);
	assert_memory_not_equal(fresh, old, sizeof old);
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, end));
	jv_cookie_add_mac2(fresh, m1);
	assert_true(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from, end));
	assert_true(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from,
				      end + JV_COOKIE_SECRET_MS - 1));
	assert_false(jv_cookie_mac2_ok(&ck, m1, sizeof m1, &from,
				       end + JV_COOKIE_SECRET_MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_blake2b_vectors),
		cmocka_unit_test(hkdf_blake2b_vectors),
		cmocka_unit_test(noise_c_ik_blake2b_vector),
		cmocka_unit_test(bare_hs_state_errors),
		cmocka_unit_test(handshake_in_memory),
		cmocka_unit_test(handshake_known_answer),
		cmocka_unit_test(same_seed_same_bytes),
		cmocka_unit_test(wrong_gateway_key_fails_mac1),
		cmocka_unit_test(unknown_client_key_rejected),
		cmocka_unit_test(replayed_initiation_rejected),
		cmocka_unit_test(initiation_every_bit_flip_rejected),
		cmocka_unit_test(response_every_bit_flip_rejected),
		cmocka_unit_test(response_for_another_initiation),
		cmocka_unit_test(small_order_keys_rejected),
		cmocka_unit_test(reserved_bytes_must_be_zero),
		cmocka_unit_test(tai64n_layout_and_order),
		cmocka_unit_test(rekey_known_answer),
		cmocka_unit_test(keypair_from_rng),
		cmocka_unit_test(cookie_reply_round_trip),
		cmocka_unit_test(cookie_reply_bound_to_its_initiation),
		cmocka_unit_test(mac2_wrong_rejected),
		cmocka_unit_test(cookie_secret_rotates),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("noise", tests, NULL, NULL);
}
