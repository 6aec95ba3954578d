/* SPDX-License-Identifier: MIT */
#ifndef JVPN_PATHVAL_H
#define JVPN_PATHVAL_H

/*
 * Path validation (STYLE 6, spec §7.6, PD-2 and PD-10).  No binding ever
 * moves to a tuple that has not proven it receives: either a sealed
 * PATH_RESPONSE from the tuple echoes a challenge sent to it, or a sealed
 * REATTACH_REQUEST from the tuple echoes the path token of an ACK sent to
 * it (standbys are probed, so failover to one needs no extra round trip).
 * Until then the validator sends to that address at most
 * JV_PATHVAL_AMPLIFICATION times the bytes it received from it.
 *
 * A bounded set of outstanding challenges, each with unpredictable data
 * and an expiry; the oldest is replaced when the set is full.
 *
 * Path tokens are stateless: a MAC, under a key only the validator holds,
 * of the session id, the tuple and the current period.  A copy of a
 * request sent from another tuple carries the token of the tuple the
 * client used, so it validates nothing.
 */

#include <stdbool.h>
#include <stdint.h>

#include "limits.h"
#include "rng.h"
#include "session.h"
#include "wire.h"

enum jv_pathval_limits {
	JV_PATHVAL_SLOTS = 4,		/* outstanding challenges per session */
	JV_PATHVAL_AMPLIFICATION = 3,	/* bytes out <= 3 x bytes in */
	JV_PATHVAL_CHALLENGE_MS = 3000,	/* a challenge's lifetime */
	JV_PATHVAL_RETRY_MS = 250,	/* min gap between challenges to one addr */
	JV_PATHVAL_DATA = 8,		/* challenge bytes */
	JV_PATH_TOKEN_PERIOD_MS = 60000,	/* a token is good for 1-2 */
};

struct jv_pathval_slot {
	bool used;
	struct jv_addr addr;
	uint32_t local;
	uint8_t data[JV_PATHVAL_DATA];
	jv_time sent_ms;		/* 0: not yet sent */
	jv_time expires_ms;
	uint64_t bytes_in;		/* received from addr while unvalidated */
	uint64_t bytes_out;		/* sent to addr while unvalidated */
	uint64_t pending_nonce;		/* the held request this tuple carried
					 * (PD-10); 0: none */
};

struct jv_pathval {
	struct jv_pathval_slot slot[JV_PATHVAL_SLOTS];
};

void jv_pathval_init(struct jv_pathval *pv);

/* Has this address a slot?  (Receiving from it then creates none, so no
 * new expiry joins the session's deadline.) */
bool jv_pathval_known(const struct jv_pathval *pv, const struct jv_addr *a);

/* Account `n` bytes received from an unvalidated address and return its
 * slot (created, replacing the oldest, if new). */
struct jv_pathval_slot *jv_pathval_received(struct jv_pathval *pv,
					    const struct jv_addr *from,
					    uint32_t local, size_t n,
					    jv_time now);

/* May `n` more bytes go to this slot's address?  (3x budget.) */
bool jv_pathval_may_send(const struct jv_pathval_slot *s, size_t n);
void jv_pathval_sent(struct jv_pathval_slot *s, size_t n);

/* Is a new challenge due on this slot?  If so fill fresh data from rng,
 * stamp it and return true; the caller sends PATH_CHALLENGE(s->data)
 * if jv_pathval_may_send() allows. */
bool jv_pathval_challenge_due(struct jv_pathval_slot *s,
			      const struct jv_rng *rng, jv_time now);

/* Find the live slot whose challenge is `data` sent to `from` (a response
 * must come back from the address that was challenged).  Constant-time
 * comparison of the data.  NULL if none or expired. */
struct jv_pathval_slot *jv_pathval_match(struct jv_pathval *pv,
					 const struct jv_addr *from,
					 const uint8_t data[JV_PATHVAL_DATA],
					 jv_time now);

/* The validator's token key, derived from its static private key: every
 * node of a cluster holds that key, so a token survives a restart or a
 * takeover. */
void jv_path_token_key(uint8_t key[32], const uint8_t static_private[32]);

/* The token for tuple `a` of session `sid` in the period of `now`. */
void jv_path_token(const uint8_t key[32], const uint8_t sid[16],
		   const struct jv_addr *a, jv_time now,
		   uint8_t out[JV_WIRE_PATH_TOKEN_SIZE]);

/* Is `token` the one for tuple `a` in this period or the previous one?
 * Constant-time. */
bool jv_path_token_ok(const uint8_t key[32], const uint8_t sid[16],
		      const struct jv_addr *a, jv_time now,
		      const uint8_t token[JV_WIRE_PATH_TOKEN_SIZE]);

/* Forget an address (validated, or the session ended). */
void jv_pathval_forget(struct jv_pathval *pv, const struct jv_addr *addr);

/* Earliest expiry among live slots, JV_TIME_NEVER if none. */
jv_time jv_pathval_deadline(const struct jv_pathval *pv);
void jv_pathval_expire(struct jv_pathval *pv, jv_time now);

#endif
