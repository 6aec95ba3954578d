/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_KEY_H
#define JVPN_DAEMON_KEY_H

/*
 * Static keys in text: 32-byte X25519 keys as standard base64 with
 * padding (44 characters), the form `wg genkey` prints, so keys can be
 * passed around the same way.
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/error.h"

enum { JV_KEY_B64_LEN = 44, JV_KEY_B64_SIZE = 45 };

/*
 * Decode exactly one key: 44 characters of standard base64 that give 32
 * bytes (surrounding blanks and a final newline are ignored).  Returns 0
 * or JV_ERR_PARSE (wrong length, bad character, trailing garbage).
 */
JV_MUST_CHECK int jv_key_from_base64(const char *s, uint8_t key[32]);

/* The 44-character form, NUL-terminated. */
void jv_key_to_base64(const uint8_t key[32], char out[JV_KEY_B64_SIZE]);

/* A new private key from the system RNG, clamped like X25519 expects.
 * Returns 0 or JV_ERR_IO (no randomness: sodium_init failed). */
JV_MUST_CHECK int jv_key_generate(uint8_t key[32]);

/*
 * The examples carry "REPLACE_WITH_..." where a key goes (docs/config.md):
 * whether s is such a placeholder (leading blanks ignored, case too).
 */
#define JV_KEY_PLACEHOLDER "REPLACE_WITH_"
bool jv_key_is_placeholder(const char *s);

/* Whether a public key is all zeros or another low-order point: X25519
 * with it gives all zeros whatever the other side's key, so a session to
 * it would have no secret. */
bool jv_key_low_order(const uint8_t pub[32]);
/* The same by an X25519 multiplication (about 0.1 ms): the reference the
 * table above is tested against. */
bool jv_key_low_order_slow(const uint8_t pub[32]);

/* Whether a public key was published with jvpn (the example configs of
 * earlier releases, key.c lists them): its private key is public, or
 * must be taken to be. */
bool jv_key_compromised(const uint8_t pub[32]);

/* The public key of a private key.  Returns 0 or JV_ERR_INVAL (the key
 * gives a low-order point). */
JV_MUST_CHECK int jv_key_public(const uint8_t priv[32], uint8_t pub[32]);

#endif
