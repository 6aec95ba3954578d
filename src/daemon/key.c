/* SPDX-License-Identifier: MIT */
/* Base64 static keys (like wg), from libsodium's codec and X25519. */

#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "daemon/key.h"

int jv_key_from_base64(const char *s, uint8_t key[32])
{
	char buf[JV_KEY_B64_SIZE];
	size_t n, got = 0;
	const char *end = NULL;
	uint8_t tmp[33];
	int rc = JV_ERR_PARSE;

	if (!s)
		return JV_ERR_PARSE;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		     s[n - 1] == '\r'))
		n--;
	if (n != JV_KEY_B64_LEN)
		return JV_ERR_PARSE;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sodium_base642bin(tmp, sizeof tmp, buf, n, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    got == 32 && end == buf + n) {
		memcpy(key, tmp, 32);
		rc = 0;
	}
	sodium_memzero(tmp, sizeof tmp);
	sodium_memzero(buf, sizeof buf);
	return rc;
}

void jv_key_to_base64(const uint8_t key[32], char out[JV_KEY_B64_SIZE])
{
	sodium_bin2base64(out, JV_KEY_B64_SIZE, key, 32,
			  sodium_base64_VARIANT_ORIGINAL);
}

int jv_key_generate(uint8_t key[32])
{
	if (sodium_init() < 0)
		return JV_ERR_IO;
	randombytes_buf(key, 32);
	/* RFC 7748 clamping, as wg genkey does: the stored key is then the
	 * scalar X25519 really uses. */
	key[0] &= 248;
	key[31] &= 127;
	key[31] |= 64;
	return 0;
}

int jv_key_public(const uint8_t priv[32], uint8_t pub[32])
{
	if (sodium_init() < 0)
		return JV_ERR_IO;
	return crypto_scalarmult_base(pub, priv) == 0 ? 0 : JV_ERR_INVAL;
}

bool jv_key_is_placeholder(const char *s)
{
	const char *p = JV_KEY_PLACEHOLDER;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *p; p++, s++)
		if (toupper((unsigned char)*s) != *p)
			return false;
	return true;
}

/*
 * The points of order 1, 2, 4 or 8 on Curve25519 and its twist, as u
 * coordinates, with the two non-canonical encodings (p and p + 1) of 0
 * and 1; the top bit is ignored, as X25519 ignores it.  libsodium and
 * the kernel's WireGuard refuse the same list.  A table, not a scalar
 * multiplication per key: 10 000 PeersDir files took 2.5 s of X25519
 * (D-032); jv_key_low_order_slow is the reference the tests hold it to.
 */
static const uint8_t small_order[7][32] = {
	{ 0 },						/* 0 */
	{ 1 },						/* 1 */
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },	/* order 8 */
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	  0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	  0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },	/* order 8 */
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },	/* p - 1 */
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },	/* p */
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },	/* p + 1 */
};

bool jv_key_low_order(const uint8_t pub[32])
{
	uint8_t k[32];
	bool low = false;

	memcpy(k, pub, 32);
	k[31] &= 0x7f;
	for (size_t i = 0; i < sizeof small_order / sizeof small_order[0]; i++)
		low |= memcmp(k, small_order[i], 32) == 0;
	return low;
}

bool jv_key_low_order_slow(const uint8_t pub[32])
{
	/* Any scalar will do: crypto_scalarmult clamps it to a multiple of
	 * the cofactor 8, which sends every point of order 1, 2, 4 or 8
	 * (0, 1, p-1 and the other torsion points, with their non-canonical
	 * twins) to zero, and it refuses a zero result itself. */
	static const uint8_t scalar[32] = { 9 };
	uint8_t out[32];
	bool low;

	if (sodium_init() < 0)
		return false;
	low = crypto_scalarmult(out, scalar, pub) != 0 ||
	      sodium_is_zero(out, sizeof out);
	sodium_memzero(out, sizeof out);
	return low;
}

/*
 * Public keys that shipped in jvpn's examples/ before issue 11 (0.1.0):
 * the private keys of the first two were in the same files, so anyone
 * holding a copy of jvpn can be that gateway or that client.  The third
 * was only ever an example peer, but an example key is not a key.
 */
static const char *const compromised[] = {
	"j/iLHHArixw4+SUzekQmMTVIcPbhWo+vjOFRFCC9pRc=",	/* gateway.conf */
	"lnXxeUx9G914Cou9w5Vk7aykUaNbCRyC6/1hQdEfjHQ=",	/* client.conf */
	"vkZrNZS5J6BoZWCNJMHC8L061CtBxGNJDcD8Djwxek8=",	/* branch-router-7 */
};

bool jv_key_compromised(const uint8_t pub[32])
{
	uint8_t k[32];

	for (size_t i = 0; i < sizeof compromised / sizeof compromised[0]; i++)
		if (jv_key_from_base64(compromised[i], k) == 0 &&
		    sodium_memcmp(k, pub, 32) == 0)
			return true;
	return false;
}
