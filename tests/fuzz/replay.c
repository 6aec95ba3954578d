/* SPDX-License-Identifier: MIT */
/*
 * Replay windows driven by an op stream.  Input: 4 bytes of nonce-window
 * parameters (size, gap as u16 LE; invalid ones are kept, to exercise the
 * refused window), then 9-byte ops {op u8, value u64 LE}.  Op bit 7 makes
 * the value relative to the window's top (a signed 16-bit offset), so the
 * fuzzer lives near the edges rather than among random 64-bit numbers.
 * Invariants: check never mutates; mark agrees with check; a marked or
 * accepted value is a replay right after.
 */

#include <stdlib.h>

#include "fuzz.h"
#include "jvpn/replay.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_replay_window w, wcopy;
	struct jv_nonce_window nw, ncopy;
	uint32_t nsize, gap;
	bool nw_ok;

	if (size < 4)
		return 0;
	nsize = (uint32_t)data[0] | (uint32_t)data[1] << 8;
	gap = (uint32_t)data[2] | (uint32_t)data[3] << 8;
	jv_replay_init(&w);
	nw_ok = jv_nonce_window_init(&nw, nsize, gap) == 0;
	FUZZ_ASSERT(nw_ok == (nsize >= 1 && nsize <= JV_NONCE_WINDOW_MAX &&
			      gap >= nsize));
	for (size_t at = 4; at + 9 <= size; at += 9) {
		uint8_t op = data[at];
		uint64_t v = le64(data + at + 1);

		switch (op & 3) {
		case 0:
		case 1: {
			uint64_t c = v;
			int chk, mk;

			if (op & 0x80)
				c = w.top + (uint64_t)(int64_t)(int16_t)v;
			wcopy = w;
			chk = jv_replay_check(&w, c);
			FUZZ_ASSERT(memcmp(&w, &wcopy, sizeof w) == 0);
			FUZZ_ASSERT(chk == 0 || chk == JV_ERR_REPLAY);
			if (op & 1)
				break;
			mk = jv_replay_mark(&w, c);
			FUZZ_ASSERT(mk == chk);
			if (mk == 0) {
				FUZZ_ASSERT(w.top >= c + 1);
				FUZZ_ASSERT(jv_replay_check(&w, c) ==
					    JV_ERR_REPLAY);
			} else {
				FUZZ_ASSERT(memcmp(&w, &wcopy, sizeof w) == 0);
			}
			break;
		}
		case 2: {
			uint64_t n = v;
			enum jv_reason chk, acc;

			if (op & 0x80)
				n = nw.highest + (uint64_t)(int64_t)(int16_t)v;
			ncopy = nw;
			chk = jv_nonce_window_check(&nw, n);
			acc = jv_nonce_window_accept(&nw, n);
			FUZZ_ASSERT(chk == acc);
			FUZZ_ASSERT(acc == JV_REASON_NONE ||
				    acc == JV_REASON_STALE_REQUEST ||
				    acc == JV_REASON_REPLAY_DETECTED);
			if (acc == JV_REASON_NONE) {
				FUZZ_ASSERT(nw_ok && nw.highest == n);
				FUZZ_ASSERT(jv_nonce_window_check(&nw, n) ==
					    JV_REASON_REPLAY_DETECTED);
			} else {
				FUZZ_ASSERT(memcmp(&nw, &ncopy, sizeof nw) == 0);
			}
			break;
		}
		default: {
			uint64_t ts = le64(data + at + 1);
			enum jv_reason r = jv_freshness_check_ts(w.top, ts,
								 nsize);
			FUZZ_ASSERT(r == JV_REASON_NONE ||
				    r == JV_REASON_STALE_REQUEST);
			break;
		}
		}
	}
	return 0;
}
