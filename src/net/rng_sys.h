/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_RNG_SYS_H
#define JVPN_NET_RNG_SYS_H

/*
 * The daemon's randomness: libsodium's randombytes_buf (getrandom(2) on
 * Linux), behind the struct jv_rng the core takes (include/jvpn/rng.h).
 */

#include "jvpn/rng.h"

/*
 * A jv_rng drawing from the OS.  Calls sodium_init() first; if that fails
 * (no entropy source at all) the returned source has fill == NULL, and the
 * caller must refuse to start: check `r.fill != NULL`.
 */
struct jv_rng jv_rng_system(void);

#endif
