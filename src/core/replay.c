/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay windows (spec §7.5): the data-plane counter window (RFC 6479
 * bitmap ring) and the control-plane nonce window.  See jvpn/replay.h for
 * the order of check and mark around the AEAD.
 */

#include <stdbool.h>
#include <string.h>

#include "jvpn/replay.h"

void jv_replay_init(struct jv_replay_window *w)
{
	memset(w, 0, sizeof *w);
}

/*
 * The ring is indexed by counter + 1, so that top == 0 can mean "nothing
 * marked" and counter 0 is an ordinary value.  counter <= 2^64 - 2, so the
 * + 1 never wraps.
 */
static inline uint64_t *replay_word(struct jv_replay_window *w, uint64_t c1)
{
	return &w->bitmap[(c1 / JV_REPLAY_WORD_BITS) & (JV_REPLAY_WORDS - 1)];
}

static inline uint64_t replay_bit(uint64_t c1)
{
	return UINT64_C(1) << (c1 % JV_REPLAY_WORD_BITS);
}

int jv_replay_check(const struct jv_replay_window *w, uint64_t counter)
{
	uint64_t c1, word;

	if (counter > JV_REPLAY_COUNTER_MAX)
		return JV_ERR_REPLAY;
	c1 = counter + 1;
	if (c1 > w->top)
		return 0;
	/* Written as a difference: top + window could wrap near 2^64. */
	if (w->top - c1 > JV_REPLAY_WINDOW)
		return JV_ERR_REPLAY;
	word = w->bitmap[(c1 / JV_REPLAY_WORD_BITS) & (JV_REPLAY_WORDS - 1)];
	return (word & replay_bit(c1)) ? JV_ERR_REPLAY : 0;
}

int jv_replay_mark(struct jv_replay_window *w, uint64_t counter)
{
	int err = jv_replay_check(w, counter);
	uint64_t c1, cur, idx, n;

	if (err)
		return err;
	c1 = counter + 1;
	if (c1 > w->top) {
		/*
		 * Slide: zero the words between the old top's word and the new
		 * one; they hold counters a whole ring older, now outside the
		 * window.  At most JV_REPLAY_WORDS stores, so O(1).
		 */
		cur = w->top / JV_REPLAY_WORD_BITS;
		idx = c1 / JV_REPLAY_WORD_BITS;
		n = idx - cur;
		if (n > JV_REPLAY_WORDS)
			n = JV_REPLAY_WORDS;
		for (uint64_t i = 1; i <= n; i++)
			w->bitmap[(cur + i) & (JV_REPLAY_WORDS - 1)] = 0;
		w->top = c1;
	}
	*replay_word(w, c1) |= replay_bit(c1);
	return 0;
}

enum {
	NONCE_RING_BITS = JV_NONCE_WORDS * 64,
};

int jv_nonce_window_init(struct jv_nonce_window *w, uint32_t size,
			 uint32_t max_gap)
{
	memset(w, 0, sizeof *w);
	if (size == 0 || size > JV_NONCE_WINDOW_MAX || max_gap < size)
		return JV_ERR_INVAL;
	w->size = size;
	w->max_gap = max_gap;
	return 0;
}

static bool nonce_marked(const struct jv_nonce_window *w, uint64_t n)
{
	uint64_t slot = n % NONCE_RING_BITS;

	return (w->bitmap[slot / 64] >> (slot % 64)) & 1;
}

enum jv_reason jv_nonce_window_check(const struct jv_nonce_window *w,
				     uint64_t n)
{
	if (n > w->highest) {
		/* As a difference: H + MAX_NONCE_GAP could wrap. */
		if (n - w->highest > w->max_gap)
			return JV_REASON_STALE_REQUEST;
		return JV_REASON_NONE;
	}
	/* n <= H: never acceptable (the requester's nonce strictly
	 * increases); the bitmap only tells a replay from a late one. */
	if (n != 0 && w->highest - n < w->size && nonce_marked(w, n))
		return JV_REASON_REPLAY_DETECTED;
	return JV_REASON_STALE_REQUEST;
}

enum jv_reason jv_nonce_window_accept(struct jv_nonce_window *w, uint64_t n)
{
	enum jv_reason r = jv_nonce_window_check(w, n);
	uint64_t cur, idx, words, slot;

	if (r != JV_REASON_NONE)
		return r;
	/*
	 * Clear the words from just after H's word up to n's word: they hold
	 * values at least one ring (4160) older than n, outside any window.
	 * The word of H itself keeps its bits; the ring has one spare word so
	 * a full 4096-value window never shares a word with n's.
	 */
	cur = w->highest / 64;
	idx = n / 64;
	words = idx - cur;
	if (words > JV_NONCE_WORDS)
		words = JV_NONCE_WORDS;
	for (uint64_t i = 1; i <= words; i++)
		w->bitmap[(cur + i) % JV_NONCE_WORDS] = 0;
	w->highest = n;
	slot = n % NONCE_RING_BITS;
	w->bitmap[slot / 64] |= UINT64_C(1) << (slot % 64);
	return JV_REASON_NONE;
}

void jv_nonce_window_restore(struct jv_nonce_window *w, uint64_t hwm)
{
	uint64_t first = hwm + 1, last = (hwm / 64) * 64 + 63;

	/* Every value the window can still judge (H - size, H] was perhaps
	 * accepted before the loss: report them all as replays.  Slots past H
	 * in H's own word are values not yet seen: leave them clear. */
	for (unsigned i = 0; i < JV_NONCE_WORDS; i++)
		w->bitmap[i] = ~UINT64_C(0);
	for (uint64_t n = first; n <= last && n != 0; n++) {
		uint64_t slot = n % NONCE_RING_BITS;
		w->bitmap[slot / 64] &= ~(UINT64_C(1) << (slot % 64));
	}
	w->highest = hwm;
}

enum jv_reason jv_freshness_check_ts(uint64_t now_ms, uint64_t ts_ms,
				     uint64_t max_age_ms)
{
	uint64_t d = now_ms > ts_ms ? now_ms - ts_ms : ts_ms - now_ms;

	return d > max_age_ms ? JV_REASON_STALE_REQUEST : JV_REASON_NONE;
}
