/* SPDX-License-Identifier: MIT */
#ifndef JVPN_REPLAY_H
#define JVPN_REPLAY_H

/*
 * The two anti-replay windows of spec §7.5, both O(1) and in caller memory.
 *
 * 1. struct jv_replay_window: the data plane's sliding counter window (RFC
 *    6479 bitmap ring), one per direction per key epoch.  It covers every
 *    packet sealed with that key, data and control alike, because they share
 *    one counter (docs/protocol.md "Counters").  On receipt, in this order:
 *
 *	jv_wire_hdr_decode()	 parse before crypto
 *	jv_replay_check()	 cheap reject of too old / duplicate counters
 *	jv_wire_open()		 AEAD verification
 *	jv_replay_mark()	 only now: the packet is authentic
 *
 *    Marking before the AEAD verified would let anyone without the key push
 *    the window forward with one forged counter and make every genuine
 *    packet "too old".  jv_replay_mark() checks again, so two copies of one
 *    packet that both passed the first check cannot both be accepted.
 *
 * 2. struct jv_nonce_window: the control plane's freshness window for the
 *    requester nonce (REATTACH_REQUEST, PATH_RESPONSE): highest accepted
 *    nonce H, a bitmap of the last `size` values (REPLAY_WINDOW_SIZE) and
 *    MAX_NONCE_GAP.  Used after the PoP (the AEAD tag) verified, so V5 comes
 *    before V6 as in §7.4; accepting consumes the nonce.
 */

#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "reason.h"

enum jv_replay_limits {
	JV_REPLAY_WORD_BITS = 64,
	JV_REPLAY_WORDS = 64,				/* power of two: ring index is a mask */
	JV_REPLAY_BITS = JV_REPLAY_WORDS * JV_REPLAY_WORD_BITS,	/* 4096 */
	/* Counters accepted below the greatest one seen: the ring minus the
	 * word being filled (RFC 6479 §2). */
	JV_REPLAY_WINDOW = JV_REPLAY_BITS - JV_REPLAY_WORD_BITS,	/* 4032 */

	JV_NONCE_WINDOW_MAX = 4096,			/* spec §4 cap of REPLAY_WINDOW_SIZE */
	/* One word more than the window, so a full 4096-value window still
	 * fits beside the word being filled. */
	JV_NONCE_WORDS = JV_NONCE_WINDOW_MAX / 64 + 1,	/* 65 */
};

/* Largest usable packet counter: Noise reserves nonce 2^64 - 1. */
#define JV_REPLAY_COUNTER_MAX (UINT64_MAX - 1)

struct jv_replay_window {
	uint64_t top;				/* greatest marked counter + 1; 0 = none */
	uint64_t bitmap[JV_REPLAY_WORDS];	/* bit (c + 1) mod 4096 */
};

/* An empty window: every counter 0..JV_REPLAY_COUNTER_MAX is acceptable. */
void jv_replay_init(struct jv_replay_window *w);

/*
 * May `counter` be fresh?  Read-only; call before decrypting.  Acceptable
 * are counters not yet marked that are at most JV_REPLAY_WINDOW below the
 * greatest marked one (or above it).
 * Returns 0, or JV_ERR_REPLAY (duplicate, too old, or counter 2^64 - 1).
 */
JV_MUST_CHECK int jv_replay_check(const struct jv_replay_window *w,
				  uint64_t counter);

/*
 * Record `counter` as received; call only after the AEAD verified.  Slides
 * the window forward if counter is the new greatest.
 * Returns 0, or JV_ERR_REPLAY (as jv_replay_check; window unchanged).
 */
JV_MUST_CHECK int jv_replay_mark(struct jv_replay_window *w, uint64_t counter);

struct jv_nonce_window {
	uint64_t highest;		/* H; 0 = none yet (nonce 0 is never valid) */
	uint32_t size;			/* REPLAY_WINDOW_SIZE, 1..4096 */
	uint32_t max_gap;		/* MAX_NONCE_GAP, >= size */
	uint64_t bitmap[JV_NONCE_WORDS];	/* ring: bit n mod (65 * 64) */
};

/*
 * An empty window of `size` tracked values and a forward limit of
 * `max_gap` (policy replay_window_size, max_nonce_gap).
 * Returns 0, or JV_ERR_INVAL if size is 0 or above JV_NONCE_WINDOW_MAX, or
 * max_gap < size (spec §4); the window is then left empty with size 0, and
 * every check on it answers stale_request.
 */
JV_MUST_CHECK int jv_nonce_window_init(struct jv_nonce_window *w,
				       uint32_t size, uint32_t max_gap);

/*
 * Spec §7.5 verdict for nonce n, read-only:
 *   n > H + max_gap		-> JV_REASON_STALE_REQUEST (too far ahead)
 *   n <= H, accepted before and
 *     within the last `size`	-> JV_REASON_REPLAY_DETECTED
 *   other n <= H (n = 0 too)	-> JV_REASON_STALE_REQUEST (missing, too old,
 *				   or overtaken by a newer nonce)
 *   else			-> JV_REASON_NONE (acceptable)
 */
enum jv_reason jv_nonce_window_check(const struct jv_nonce_window *w,
				     uint64_t n);

/*
 * jv_nonce_window_check(), and on JV_REASON_NONE consume n: H = n and n is
 * marked.  A rejected nonce leaves the window unchanged (spec D6).
 */
enum jv_reason jv_nonce_window_accept(struct jv_nonce_window *w, uint64_t n);

/*
 * Resume a window from a stored high-water mark (PD-9: a gateway that
 * takes a session over): H = hwm and every value the window covers at or
 * below it counts as accepted, so a request captured before the loss is
 * reported as a replay, never accepted.
 */
void jv_nonce_window_restore(struct jv_nonce_window *w, uint64_t hwm);

/*
 * The coarse timestamp bound of §7.5 / OP-17: JV_REASON_STALE_REQUEST if
 * |now_ms - ts_ms| > max_age_ms (too old or too far in the future), else
 * JV_REASON_NONE.  Both times on the same (wall) clock.
 */
enum jv_reason jv_freshness_check_ts(uint64_t now_ms, uint64_t ts_ms,
				     uint64_t max_age_ms);

#endif
