/* SPDX-License-Identifier: MIT */
/*
 * Outer header of data/control datagrams: classify, decode, re-encode, and
 * open with a fixed key (the seed corpus holds packets sealed with it, so
 * the fuzzer also sees the success path and the control decoder behind).
 */

#include <stdlib.h>

#include "fuzz.h"
#include "jvpn/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[JV_WIRE_DGRAM_MAX];
	uint8_t key[32], enc[JV_WIRE_HDR_SIZE];
	struct jv_wire_hdr h;
	const char *why = NULL;
	int c, r, n;

	fuzz_key(key, 0x80);
	c = jv_wire_classify(data, size);
	FUZZ_ASSERT(c == JV_ERR_PARSE || (c >= JV_MSG_INITIATION &&
					  c <= JV_MSG_CONTROL));
	r = jv_wire_hdr_decode(data, size, &h, &why);
	if (r != 0) {
		FUZZ_ASSERT(r == JV_ERR_PARSE && why != NULL);
		return 0;
	}
	/* what decodes is classified alike and re-encodes byte for byte */
	FUZZ_ASSERT(c == h.type);
	jv_wire_hdr_encode(&h, enc);
	FUZZ_ASSERT(memcmp(enc, data, sizeof enc) == 0);
	n = jv_wire_open(key, data, size, out, sizeof out);
	FUZZ_ASSERT(n == JV_ERR_AUTH ||
		    n == (int)(size - JV_WIRE_HDR_SIZE - JV_WIRE_TAG_SIZE));
	if (n > 0 && h.type == JV_MSG_CONTROL) {
		struct jv_ctrl m;

		r = jv_ctrl_decode(out, (size_t)n, &m, &why);
		FUZZ_ASSERT(r == 0 || r == JV_ERR_PARSE);
	}
	return 0;
}
