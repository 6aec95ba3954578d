/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_KEYMAP_H
#define JVPN_DAEMON_KEYMAP_H

/*
 * A hash map from a 32-byte key (a public key, or a session id's 32 hex
 * digits) to a 32-bit value, for the daemon's per-event lookups that were
 * scans over every session (status notes, metrics; D-032).  Open
 * addressing with linear probing and backward-shift deletion; the hash is
 * libsodium's SipHash (crypto_shorthash) under a random key, so keys a
 * peer chooses cannot be made to collide.  Grows at 1/2 load.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"

struct dmn_keymap {
	size_t cap, n;			/* cap: 0 or a power of two */
	uint8_t (*keys)[32];
	uint32_t *vals;
	uint8_t *used;
	uint8_t hkey[16];
};

/* An empty map (no allocation yet). */
void dmn_keymap_init(struct dmn_keymap *m);

/* Set key -> val (replaces).  0 or JV_ERR_NOMEM. */
JV_MUST_CHECK int dmn_keymap_put(struct dmn_keymap *m, const uint8_t key[32],
				 uint32_t val);

/* Replace the value of a key that is there (false: absent, nothing set).
 * Never allocates. */
bool dmn_keymap_set(struct dmn_keymap *m, const uint8_t key[32], uint32_t val);

/* Whether key is there; *val its value. */
bool dmn_keymap_get(const struct dmn_keymap *m, const uint8_t key[32],
		    uint32_t *val);

/* Remove key (no-op when absent). */
void dmn_keymap_del(struct dmn_keymap *m, const uint8_t key[32]);

/* A session id's 32 hex digits as a key (shorter: zero-padded). */
void dmn_keymap_sid(const char *sid, uint8_t key[32]);

void dmn_keymap_free(struct dmn_keymap *m);

#endif
