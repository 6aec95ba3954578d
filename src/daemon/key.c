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

bool jv_key_low_order(const uint8_t pub[32])
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
