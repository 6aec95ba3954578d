/* SPDX-License-Identifier: MIT */
/* Base64 static keys (like wg), from libsodium's codec and X25519. */

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
